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
 * goes out of scope.
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
  /* The bodies that registered run in the parent (the one in the forking
   * thread, if any, unlinks itself from nothing: linked stays set, and
   * end_slow tolerates a slot that is no longer in the list). */
  futures__mutex_init(&H()->lock);
  futures__cond_init(&H()->cond);
  H()->head = NULL;
}

static void
unlink_locked(struct cancel_hook *h)
{
  struct cancel_hook *p;

  FUTURES_ASSERT_OWNER(&H()->lock);
  for (p = H()->head; p != NULL && p != h; p = p->next)
    ;
  if (p == NULL)
    return; /* the list was reset in a fork() child */
  if (h->prev != NULL)
    h->prev->next = h->next;
  else
    H()->head = h->next;
  if (h->next != NULL)
    h->next->prev = h->prev;
}

int
futures_on_cancel(void (*fn)(void *arg), void *arg)
{
  struct cancel_hook *h = futures__tls.hook;
  int rc = 0;

  if (h == NULL || futures__tls.current != h->f)
    return EPERM;
  futures__mutex_lock(&H()->lock);
  /* Relaxed: see "The handshake" above. */
  if (atomic_load_explicit(&h->f->state, memory_order_relaxed) & F_CANCEL) {
    rc = ECANCELED;
  } else if (fn == NULL) {
    if (h->linked) {
      unlink_locked(h);
      h->linked = 0;
      /* A canceller calling the old hook now finishes first. */
      while (h->calling)
        futures__cond_wait(&H()->cond, &H()->lock); /* calling == 0 */
    }
  } else {
    h->fn = fn;
    h->arg = arg;
    if (!h->linked) {
      h->fired = h->calling = 0;
      h->prev = NULL;
      h->next = H()->head;
      if (H()->head != NULL)
        H()->head->prev = h;
      H()->head = h;
      h->linked = 1;
    }
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
  fn = h->fn;
  arg = h->arg;
  futures__mutex_unlock(&H()->lock);
  fn(arg);
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
  h->linked = 0;
  while (h->calling)
    futures__cond_wait(&H()->cond, &H()->lock); /* predicate: calling */
  futures__mutex_unlock(&H()->lock);
}
