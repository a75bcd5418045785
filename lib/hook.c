/* SPDX-License-Identifier: MIT */
/*
 * hook.c - layer 3: cancel hooks (futures_on_cancel()).
 *
 * A running body may register a function that future_cancel() calls, in
 * the cancelling thread, so that a body blocked in poll() or on a socket
 * can be woken. The hook lives in the frame that runs the body (gate.c),
 * and is reached by a canceller through a registry of the hooks of bodies
 * running now, keyed by record, under one lock: registering and
 * cancelling are rare, and a body with no hook costs two stores.
 *
 * The handshake with F_CANCEL. A canceller sets F_CANCEL in the record's
 * state, then takes the lock to look for a hook; registering takes the
 * lock, then reads F_CANCEL. Whatever the order, either the registration
 * sees the flag (ECANCELED: the body learns of the cancel at once) or the
 * canceller finds the hook and calls it. A body's frame that ends while a
 * canceller calls its hook waits for the call to return before the slot
 * goes out of scope; but the body's own frame is gone by then, so an
 * argument on the body's stack needs futures_on_cancel(NULL, NULL) before
 * the body returns, which waits the same way.
 */
#include "hook.h"

/* Initialised by futures__hook_init(), before the first record exists. */
struct hooks {
  pthread_mutex_t lock;
  pthread_cond_t cond; /* a hook's call has returned */
  struct cancel_hook *head; /* protected by lock */
};
static FUTURES_GLOBAL(struct hooks, hooks_g);

static struct hooks *
H(void)
{
  return &hooks_g;
}

void
futures__hook_init(void)
{
  futures__mutex_init(&H()->lock);
  futures__cond_init(&H()->cond);
  H()->head = NULL;
}

void
futures__hook_atfork_child(void)
{
  /* The bodies that registered run in the parent. A slot in the forking
   * thread's frame carries the parent's generation: it is not in this
   * registry, and is treated as unlinked (linked_here()). */
  futures__mutex_init(&H()->lock);
  futures__cond_init(&H()->cond);
  H()->head = NULL;
}

/* Under the lock: 1 if @h is in this process's registry (a slot linked
 * before a fork() is not in the child's). */
static int
linked_here(const struct cancel_hook *h)
{
  FUTURES_ASSERT_OWNER(&H()->lock);
  return h->linked &&
         h->gen == atomic_load_explicit(&futures__fork_gen,
                                        memory_order_relaxed);
}

/* Under the lock: takes @h out of the registry, waiting for a canceller
 * that is calling its hook to return. */
static void
unlink_locked(struct cancel_hook *h)
{
  FUTURES_ASSERT_OWNER(&H()->lock);
  if (!linked_here(h)) {
    h->linked = 0;
    return;
  }
  h->linked = 0;
  if (h->prev != NULL)
    h->prev->next = h->next;
  else
    H()->head = h->next;
  if (h->next != NULL)
    h->next->prev = h->prev;
  /* A hook that removes itself, called by the body's own thread (a
   * body that cancelled itself), has nobody to wait for. */
  while (h->calling && !pthread_equal(h->caller, pthread_self()))
    futures__cond_wait(&H()->cond, &H()->lock); /* predicate: calling */
}

/*
 * Under the lock: 1 if the body of @h has been asked to stop, so that a
 * hook registered now would never be called: F_CANCEL (future_cancel()),
 * its pool's FUTURES_DESTROY_CANCEL (which stores stopping before it takes
 * the lock to fire the pool's hooks), or its hook was called already.
 * Relaxed loads: see "The handshake" above.
 */
static int
cancel_requested(const struct cancel_hook *h)
{
  struct future *f = h->f;

  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_CANCEL)
    return 1;
  if (f->sched != NULL &&
      atomic_load_explicit(&f->sched->stopping, memory_order_relaxed) ==
          STOP_CANCEL)
    return 1;
  return linked_here(h) && h->fired;
}

int
futures_on_cancel(void (*fn)(void *arg), void *arg)
{
  struct cancel_hook *h = futures__tls.hook;
  int rc = 0;

  if (h == NULL || futures__tls.current != h->f)
    return EPERM;
  futures__mutex_lock(&H()->lock);
  if (fn == NULL) {
    /* Removal always waits out a call in progress, cancelled or not: the
     * body may free @arg next. */
    unlink_locked(h);
  } else if (cancel_requested(h)) {
    rc = ECANCELED;
  } else {
    if (!linked_here(h)) {
      h->fired = h->calling = 0;
      h->gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
      h->prev = NULL;
      h->next = H()->head;
      if (H()->head != NULL)
        H()->head->prev = h;
      H()->head = h;
      h->linked = 1;
    }
    h->fn = fn;
    h->arg = arg;
  }
  futures__mutex_unlock(&H()->lock);
  return rc;
}

/* Under the lock: calls @h's hook with the lock let go meanwhile. */
static void
call_locked(struct cancel_hook *h)
{
  void (*fn)(void *);
  void *arg;

  FUTURES_ASSERT_OWNER(&H()->lock);
  h->fired = 1;
  h->calling = 1;
  h->caller = pthread_self();
  fn = h->fn;
  arg = h->arg;
  futures__mutex_unlock(&H()->lock);
  /* With cancellation disabled: a pthread_cancel() acting inside the hook
   * would leave calling set, and the body's frame waiting for ever. */
  {
    int old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    fn(arg);
    pthread_setcancelstate(old, NULL);
  }
  futures__mutex_lock(&H()->lock);
  h->calling = 0;
  /* Wakes a body's frame waiting in futures__hook_end_slow(); h lives
   * until that frame sees calling == 0 under this lock. */
  futures__cond_broadcast(&H()->cond);
}

void
futures__hook_fire(struct future *f)
{
  struct cancel_hook *h;

  futures__mutex_lock(&H()->lock);
  for (h = H()->head; h != NULL; h = h->next)
    if (h->f == f && !h->fired)
      break;
  if (h != NULL)
    call_locked(h);
  futures__mutex_unlock(&H()->lock);
}

void
futures__hook_fire_pool(const struct sched *s)
{
  struct cancel_hook *h;

  futures__mutex_lock(&H()->lock);
  /* A linked slot's record is RUNNING, so its sched is alive. The list
   * may change while a hook runs: look again from the start. */
  for (h = H()->head; h != NULL;) {
    if (h->f->sched == s && !h->fired) {
      call_locked(h);
      h = H()->head;
    } else {
      h = h->next;
    }
  }
  futures__mutex_unlock(&H()->lock);
}

void
futures__hook_end_slow(struct cancel_hook *h)
{
  futures__mutex_lock(&H()->lock);
  unlink_locked(h);
  futures__mutex_unlock(&H()->lock);
}
