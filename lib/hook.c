/* SPDX-License-Identifier: MIT */
/*
 * hook.c - layer 3: cancel hooks (futures_on_cancel()).
 *
 * A running body may register a function that future_cancel() calls, in
 * the cancelling thread, so that a body blocked in poll() or on a socket
 * can be woken. Registering and cancelling are rare, and a body that
 * registers nothing must pay (almost) nothing: so a hook is a small node
 * allocated when it is registered, in a registry of the hooks of bodies
 * running now, keyed by record, under one lock. Bodies nest strictly in a
 * thread (one runs another in place while it waits), so the thread keeps
 * the record of its innermost hooked body in futures__tls.hooked (each
 * node remembers the one before), and a body's end looks the registry up
 * only when it is that body (gate.c).
 *
 * The handshake with a cancel. A canceller sets F_CANCEL in the record's
 * state (or destroy stores STOP_CANCEL in the pool), then takes the lock
 * to look for a hook; registering takes the lock, then reads both. Either
 * the registration sees the request (ECANCELED: the body learns of it at
 * once) or the canceller finds the hook and calls it. Removing a hook, by
 * the body or at its end, waits for a call in progress in another thread
 * to return; a hook that removes itself while its own body's thread calls
 * it (a body that cancelled itself) is freed by that call when it returns.
 */
#include "hook.h"

struct cancel_hook {
  struct future *f; /* the record whose body registered it */
  void (*fn)(void *arg);
  void *arg;
  struct cancel_hook *prev, *next; /* in the registry */
  struct future *outer_hooked;       /* futures__tls.hooked before it */
  const struct futures_tls *caller; /* the calling thread, while calling */
  int fired;        /* called, or being called: at most once */
  int calling;      /* a canceller is calling it now */
  int orphan;       /* removed during its own call: the call frees it */
};

/* Initialised by futures__hook_init(), before the first record exists. */
struct hooks {
  pthread_mutex_t lock;
  pthread_cond_t cond;      /* a hook's call has returned */
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
  /* The bodies that registered run in the parent; the forking thread's
   * body ends without one to remove. */
  futures__hook_init();
  futures__tls.hooked = NULL;
}

/* Under the lock: @f's hook, or NULL. */
static struct cancel_hook *
find_locked(const struct future *f)
{
  struct cancel_hook *h;

  FUTURES_ASSERT_OWNER(&H()->lock);
  for (h = H()->head; h != NULL && h->f != f; h = h->next)
    ;
  return h;
}

/* Under the lock: takes @h out of the registry and frees it (this
 * thread's count goes down), waiting for a canceller calling it in
 * another thread; if this thread is calling it, that call frees it. */
static void
remove_locked(struct cancel_hook *h)
{
  FUTURES_ASSERT_OWNER(&H()->lock);
  if (h->prev != NULL)
    h->prev->next = h->next;
  else
    H()->head = h->next;
  if (h->next != NULL)
    h->next->prev = h->prev;
  /* Bodies end, and remove their own hooks, innermost first. */
  futures__tls.hooked = h->outer_hooked;
  if (h->calling && h->caller == &futures__tls) {
    h->orphan = 1;
    return;
  }
  while (h->calling)
    futures__cond_wait(&H()->cond, &H()->lock); /* predicate: calling */
  FUTURES_FREE(h);
}

/*
 * Under the lock: 1 if the body of @f has been asked to stop, so that a
 * hook registered now would never be called: F_CANCEL (future_cancel(), or
 * a drop function's record), its pool's FUTURES_DESTROY_CANCEL, or its
 * hook @h was called already. Relaxed loads: see "The handshake".
 */
static int
cancel_requested(const struct future *f, const struct cancel_hook *h)
{
  if (atomic_load_explicit(&((struct future *)f)->state,
                           memory_order_relaxed) &
      F_CANCEL)
    return 1;
  if (f->sched != NULL &&
      atomic_load_explicit(&f->sched->stopping, memory_order_relaxed) ==
          STOP_CANCEL)
    return 1;
  return h != NULL && h->fired;
}

int
futures_on_cancel(void (*fn)(void *arg), void *arg)
{
  struct future *f = futures__tls.current;
  struct cancel_hook *h;
  int rc = 0;

  if (f == NULL || f == futures__tls.chunk_of)
    return EPERM;
  futures__mutex_lock(&H()->lock);
  h = find_locked(f);
  if (fn == NULL) {
    /* Removal always waits out a call in progress, cancelled or not: the
     * body may free @arg next. */
    if (h != NULL)
      remove_locked(h);
  } else if (cancel_requested(f, h)) {
    rc = ECANCELED;
  } else {
    if (h == NULL) {
      if ((h = FUTURES_ALLOC(struct cancel_hook)) == NULL) {
        futures__mutex_unlock(&H()->lock);
        return ENOMEM;
      }
      h->f = f;
      h->fired = h->calling = h->orphan = 0;
      h->prev = NULL;
      h->next = H()->head;
      if (H()->head != NULL)
        H()->head->prev = h;
      H()->head = h;
      h->outer_hooked = futures__tls.hooked;
      futures__tls.hooked = f;
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
  int old;

  FUTURES_ASSERT_OWNER(&H()->lock);
  h->fired = 1;
  h->calling = 1;
  h->caller = &futures__tls;
  fn = h->fn;
  arg = h->arg;
  futures__mutex_unlock(&H()->lock);
  /* With cancellation disabled: a pthread_cancel() acting inside the hook
   * would leave calling set, and the body's end waiting for ever. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  fn(arg);
  pthread_setcancelstate(old, NULL);
  futures__mutex_lock(&H()->lock);
  h->calling = 0;
  if (h->orphan) {
    FUTURES_FREE(h); /* removed by itself, in this thread */
    return;
  }
  /* Wakes a body's end waiting in remove_locked(); h lives until it sees
   * calling == 0 under this lock. */
  futures__cond_broadcast(&H()->cond);
}

void
futures__hook_fire(struct future *f)
{
  struct cancel_hook *h;

  futures__mutex_lock(&H()->lock);
  h = find_locked(f);
  if (h != NULL && !h->fired)
    call_locked(h);
  futures__mutex_unlock(&H()->lock);
}

void
futures__hook_fire_pool(const struct sched *s)
{
  struct cancel_hook *h;

  futures__mutex_lock(&H()->lock);
  /* A registered hook's record is RUNNING, so its sched is alive. The
   * list may change while a hook runs: look again from the start (each
   * hook fires once, so this ends). */
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
futures__hook_end_slow(struct future *f)
{
  struct cancel_hook *h;

  futures__mutex_lock(&H()->lock);
  if ((h = find_locked(f)) != NULL)
    remove_locked(h);
  futures__mutex_unlock(&H()->lock);
}
