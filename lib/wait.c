/* SPDX-License-Identifier: MIT */
/*
 * wait.c - waiting for futures: spin briefly, then sleep on a condition
 * variable; and waking the sleepers when a future completes.
 *
 * A future has no mutex or condition variable of its own (that would
 * double its size and cost an initialisation per task). Instead the
 * waiters of a future form a list, f->waiters, guarded by one of
 * WAIT_STRIPES mutexes picked by the future's address, and each waiter
 * brings its own condition variable in a wait group on its stack. A waiter
 * sets F_WAITERS in the future's state while holding the stripe lock; the
 * completer, which publishes DONE with a compare-and-swap, sees that flag
 * and takes the stripe lock only then. So:
 *   - a task that finishes with nobody waiting never touches a lock;
 *   - no wake-up is lost: the waiter registers under the stripe lock only
 *     if DONE is not yet set, and the completer, having set DONE, takes the
 *     same lock before it walks the list;
 *   - one group can wait on many futures at once (join_any and friends),
 *     and sleeps on one condition variable that all of them signal.
 */
#include "future.h"
#include "pool.h"
#include "sync.h"
#include "wait.h"

#include <sched.h>

#define WAIT_STRIPES 128

/* How long a waiter spins before it sleeps. Waking a sleeping thread costs
 * tens of microseconds on a virtual machine, so a short spin pays for
 * itself when tasks are short; it yields the CPU as it goes, so a spinner
 * never holds up the thread that will complete the future. */
#define SPIN_NS 20000

struct stripe {
  pthread_mutex_t lock;
} FUTURES_ALIGNED;

static struct stripe stripes[WAIT_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

static void
stripes_init(void)
{
  for (int i = 0; i < WAIT_STRIPES; i++)
    futures__mutex_init(&stripes[i].lock);
}

void
futures__wait_init(void)
{
  pthread_once(&stripes_once, stripes_init);
}

static pthread_mutex_t *
stripe_of(const struct future *f)
{
  uintptr_t h = (uintptr_t)f / FUTURES_CACHELINE;

  h ^= h >> 7;
  return &stripes[h % WAIT_STRIPES].lock;
}

/*
 * fork() child: a stripe may have been held by a thread that does not exist
 * here, so every stripe starts afresh. The stripes are not held across the
 * fork (taking 128 locks per fork is costly, and more than ThreadSanitizer
 * can track): the only state they guard is the waiter lists of futures,
 * and the child never walks the list of a future of the parent's pools
 * (waits on them return ECHILD, cancels too), while its own futures are
 * all created after the fork.
 */
void
futures__wait_atfork_child(void)
{
  for (int i = 0; i < WAIT_STRIPES; i++)
    futures__mutex_init(&stripes[i].lock);
}

/*
 * Sets F_WAITERS on @f unless it is DONE; 1 if set (the caller may then
 * link into f->waiters), 0 if @f has finished. Called with @f's stripe
 * held: the completer, which sets DONE first and checks F_WAITERS after,
 * then takes the same stripe before it walks the list.
 */
static int
mark_waiters_locked(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);

  FUTURES_ASSERT_OWNER(stripe_of(f));
  do {
    if ((s & F_PHASE) == F_DONE) {
      FUTURES_HAPPENS_AFTER(&f->state);
      return 0;
    }
    /* Acquire: if DONE was set meanwhile, we read the outcome after. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, s | F_WAITERS, memory_order_acq_rel,
      memory_order_acquire));
  return 1;
}

/* ------------------------------------------------------------ groups */

void
futures__group_init(struct wgroup *g)
{
  futures__mutex_init(&g->lock);
  futures__cond_init(&g->cond);
  g->fired = NULL;
  g->nfired = 0;
}

void
futures__group_fini(struct wgroup *g)
{
  futures__cond_destroy(&g->cond);
  futures__mutex_destroy(&g->lock);
}

int
futures__group_add(struct wgroup *g, struct waiter *w, struct future *f,
                   size_t index)
{
  pthread_mutex_t *st = stripe_of(f);

  w->link.group = g;
  w->f = f;
  w->index = index;
  w->fired_next = NULL;
  futures__mutex_lock(st);
  if (!mark_waiters_locked(f)) {
    futures__mutex_unlock(st);
    return 0;
  }
  w->link.next = f->waiters;
  f->waiters = &w->link;
  futures__mutex_unlock(st);
  return 1;
}

void
futures__group_remove(struct waiter *w)
{
  pthread_mutex_t *st = stripe_of(w->f);
  struct wlink **p;

  /* Taking the stripe also waits out a completer that is firing this
   * node right now: it holds the stripe until it has let go of our
   * group. */
  futures__mutex_lock(st);
  for (p = &w->f->waiters; *p != NULL; p = &(*p)->next) {
    if (*p == &w->link) {
      *p = w->link.next;
      break;
    }
  }
  futures__mutex_unlock(st);
}

struct waiter *
futures__group_take_fired(struct wgroup *g)
{
  struct waiter *w;

  futures__mutex_lock(&g->lock);
  w = g->fired;
  g->fired = NULL;
  futures__mutex_unlock(&g->lock);
  return w;
}

int
futures__group_sleep(struct wgroup *g, size_t seen,
                     const struct timespec *abstime)
{
  int rc = 0;

  futures__mutex_lock(&g->lock);
  /* Predicate: a future of the group fired since the caller last looked
   * (the completer signals g->cond under g->lock after counting it). */
  while (g->nfired == seen && rc == 0) {
    if (abstime != NULL)
      rc = futures__cond_timedwait(&g->cond, &g->lock, abstime);
    else
      futures__cond_wait(&g->cond, &g->lock);
  }
  if (g->nfired != seen)
    rc = 0;
  futures__mutex_unlock(&g->lock);
  return rc;
}

size_t
futures__group_nfired(struct wgroup *g)
{
  size_t n;

  futures__mutex_lock(&g->lock);
  n = g->nfired;
  futures__mutex_unlock(&g->lock);
  return n;
}

/* ------------------------------------------------------------ completion */

/* Queues a continuation whose antecedent @ante has finished. */
static void
schedule_continuation(struct future *c, struct future *ante)
{
  struct futures_pool *pool = c->pool;
  uint32_t s = atomic_load_explicit(&c->state, memory_order_relaxed);

  /* Take the record exclusively (DEFERRED -> RUNNING) before writing its
   * input, so that a racing future_cancel() cannot interleave its own
   * writes; a cancel that comes now sees RUNNING and only sets F_CANCEL,
   * which the publication below notices. */
  do {
    if ((s & F_PHASE) != F_DEFERRED) {
      futures__future_unref(c); /* cancelled: drop the list's reference */
      return;
    }
  } while (!atomic_compare_exchange_weak_explicit(
      &c->state, &s, (s & ~F_PHASE) | F_RUNNING, memory_order_acquire,
      memory_order_relaxed));
  c->code = ante->code;
  atomic_store_explicit(&c->u.q.next, NULL, memory_order_relaxed);
  c->u.q.result = ante->u.q.result;
  s = atomic_load_explicit(&c->state, memory_order_relaxed);
  do {
    if (s & F_CANCEL) {
      /* Cancelled while we held it: finish it unrun; that also drops the
       * list's reference. */
      futures__future_finish_unrun(c, 1);
      return;
    }
    /* Release: a thread that claims the task sees its input. */
  } while (!atomic_compare_exchange_weak_explicit(
      &c->state, &s, (s & ~F_PHASE) | F_QUEUED, memory_order_release,
      memory_order_relaxed));
  if (pool->max_queued != 0)
    atomic_fetch_add_explicit(&pool->queued, 1, memory_order_relaxed);
  /* The list's reference becomes the queue's. */
  futures__pool_enqueue(pool, c);
}

void
futures__wait_fire(struct future *f)
{
  pthread_mutex_t *st = stripe_of(f);
  struct wlink *l, *next, *conts = NULL;

  futures__mutex_lock(st);
  l = f->waiters;
  f->waiters = NULL;
  for (; l != NULL; l = next) {
    next = l->next;
    if (l->group != NULL) {
      struct wgroup *g = l->group;
      struct waiter *w = (struct waiter *)l;

      futures__mutex_lock(&g->lock);
      w->fired_next = g->fired;
      g->fired = w;
      g->nfired++;
      /* Wakes the group's owner, asleep in futures__group_sleep(). */
      futures__cond_signal(&g->cond);
      futures__mutex_unlock(&g->lock);
    } else {
      l->next = conts;
      conts = l;
    }
  }
  futures__mutex_unlock(st);
  /* Continuations are queued with no lock held. */
  for (l = conts; l != NULL; l = next) {
    next = l->next;
    schedule_continuation(
        (struct future *)(void *)((char *)l - offsetof(struct future, u.link)),
        f);
  }
}

int
futures__wait_add_continuation(struct future *ante, struct future *c)
{
  pthread_mutex_t *st = stripe_of(ante);

  c->u.link.group = NULL;
  futures__mutex_lock(st);
  if (!mark_waiters_locked(ante)) {
    futures__mutex_unlock(st);
    return 0;
  }
  c->u.link.next = ante->waiters;
  ante->waiters = &c->u.link;
  futures__mutex_unlock(st);
  return 1;
}

/* ------------------------------------------------------------ waiting */

int
futures__run_inline(struct future *f)
{
  FUTURES_HELP_CTX(h);

  struct producer *p;
  struct future *mine;

  if (!futures__help_enter(&h, f))
    return 0;
  /* Our own newest submission (the usual case: submit, then get): take it
   * back from our ring rather than leave a stale entry there. */
  p = h.pin >= 0 ? futures__producer_find(f->pool) : NULL;
  if (p != NULL && futures__producer_retract(p, &f, 1, &mine, 1) == 1) {
    if (futures__future_claim(f))
      futures__future_execute(f, EXEC_QREF | EXEC_HELPED);
    else
      futures__future_unref(f);
  } else if (futures__future_claim(f)) {
    futures__future_execute(f, EXEC_HELPED);
  } else {
    futures__help_exit(&h);
    return 0;
  }
  futures__help_exit(&h);
  return 1;
}

int
futures__spin_until(const struct future *f, const struct timespec *abstime)
{
  long long start = futures__now_ns(), now = start;
  long long limit = start + SPIN_NS;

  if (abstime != NULL && futures__timespec_ns(abstime) < limit)
    limit = futures__timespec_ns(abstime);
  for (unsigned i = 1;; i++) {
    if (future_done(f))
      return 1;
    futures__cpu_relax();
    if ((i & 63) == 0) {
      now = futures__now_ns();
      if (now >= limit)
        return 0;
      /* Give the CPU to a runnable thread (perhaps the one that will
       * complete this future) now and then. */
      if ((i & 1023) == 0)
        sched_yield();
    }
  }
}

/* ECHILD when @f is unfinished and belongs to the parent of a fork(). */
int
futures__wait_stale(struct future *f)
{
  if (atomic_load_explicit(&futures__fork_gen, memory_order_relaxed) == 0 ||
      future_done(f))
    return 0;
  return futures__pool_is_stale(f->pool) ? ECHILD : 0;
}

int
futures__wait_one(struct future *f, const struct timespec *abstime,
                  int may_run)
{
  struct wgroup g;
  struct waiter w;
  int rc;

  /* A task waiting for its own future would wait for ever. */
  if (unlikely(f == futures__tls.current) && !future_done(f))
    return EDEADLK;

  for (;;) {
    uint32_t s = future_state(f);

    if ((s & F_PHASE) == F_DONE)
      return 0;
    if ((rc = futures__wait_stale(f)) != 0)
      return rc;
    /* Run our own pending sub-tasks, newest first: in fork-join the
     * awaited child is usually the newest, and taking it from our deque
     * leaves no stale entry behind. A timed wait stops at its deadline. */
    if (abstime != NULL && futures__deadline_passed(abstime))
      break;
    if (futures__pool_run_descendant())
      continue;
    /* Not started and not ours: run it here (untimed waits only). */
    if (may_run && (s & F_PHASE) == F_QUEUED && futures__run_inline(f))
      return 0;
    if (!may_run || (future_state(f) & F_PHASE) != F_QUEUED)
      break;
  }
  if (futures__spin_until(f, abstime))
    return 0;
  futures__group_init(&g);
  rc = 0;
  if (futures__group_add(&g, &w, f, 0)) {
    rc = futures__group_sleep(&g, 0, abstime);
    if (rc != 0)
      futures__group_remove(&w);
  }
  futures__group_fini(&g);
  if (rc == ETIMEDOUT && future_done(f))
    rc = 0; /* it finished as the deadline passed */
  return rc;
}

/* ------------------------------------------------------------ public */

int
future_get(future_t *future, void **result)
{
  int rc;

  if (futures__future_bad(future))
    return EINVAL;
  rc = futures__wait_one(future, NULL, 1);
  if (rc != 0)
    return rc;
  if (result != NULL)
    *result = future->u.q.result;
  return future->code;
}

int
future_wait_until(future_t *future, const struct timespec *abstime)
{
  if (futures__future_bad(future) || !futures__timespec_valid(abstime))
    return EINVAL;
  return futures__wait_one(future, abstime, 0);
}

int
future_wait_for(future_t *future, long long timeout_ns)
{
  struct timespec deadline;

  if (futures__future_bad(future) || timeout_ns < 0)
    return EINVAL;
  deadline = futures__deadline_in(timeout_ns);
  return futures__wait_one(future, &deadline, 0);
}
