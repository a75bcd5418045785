/* SPDX-License-Identifier: MIT */
/*
 * timer.c - layer 5: futures that resolve after a delay (futures_after()).
 *
 * A timer's future is a record with no pool (F_NOPOOL | F_COMBINED, so
 * that no user can resolve it) and a node in its pool's heap of deadlines.
 * One thread per pool, started by the first futures_after(), sleeps on a
 * condition variable (CLOCK_MONOTONIC) until the earliest deadline, then
 * takes every node that is due out of the heap and resolves its future,
 * with no lock held: what the futures' callbacks and inline continuations
 * do happens in this thread. Pending timers cost a node each, no thread
 * and no worker.
 *
 * References to a timer's record: the user's handle, the heap's (while
 * the node is in the heap) and the node's callback's. The callback, a
 * waiter on the timer's own record, runs however the record settles: it
 * takes the node out of the heap if it is still there (the timer was
 * cancelled), then frees it. The node holds a reference to the timer set,
 * so that a callback that runs after the pool is gone (deferred in a
 * thread that was running callbacks already) still finds its lock.
 *
 * The pool's destroy takes every node out of the heap and settles its
 * future with ECANCELED, after the timer thread has left.
 */
#include "gate.h"
#include "pool.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define NOT_IN_HEAP SIZE_MAX

struct tnode {
  struct wcallback cb; /* first: on the timer's own record */
  struct timers *t;    /* a reference */
  struct future *f;
  long long deadline;
  unsigned long long seq; /* ties broken by age: first made, first due */
  size_t idx;             /* protected by t->lock: the heap slot */
};

struct timers {
  pthread_mutex_t lock;
  pthread_cond_t cond; /* the timer thread: a new earliest deadline, close */
  /* Protected by lock. */
  struct tnode **heap;
  size_t n, cap;
  unsigned long long seq;
  long refs; /* the pool's, and one per node */
  int started, closed;
  pthread_t thread;
  char name[16];
};

/* ------------------------------------------------------------ heap */

static int
before(const struct tnode *a, const struct tnode *b)
{
  return a->deadline < b->deadline ||
         (a->deadline == b->deadline && a->seq < b->seq);
}

static void
heap_set(struct timers *t, size_t i, struct tnode *n)
{
  t->heap[i] = n;
  n->idx = i;
}

static void
sift_up(struct timers *t, size_t i)
{
  struct tnode *n = t->heap[i];

  while (i > 0 && before(n, t->heap[(i - 1) / 2])) {
    heap_set(t, i, t->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(t, i, n);
}

static void
sift_down(struct timers *t, size_t i)
{
  struct tnode *n = t->heap[i];

  for (;;) {
    size_t c = 2 * i + 1;

    if (c >= t->n)
      break;
    if (c + 1 < t->n && before(t->heap[c + 1], t->heap[c]))
      c++;
    if (!before(t->heap[c], n))
      break;
    heap_set(t, i, t->heap[c]);
    i = c;
  }
  heap_set(t, i, n);
}

/* Under the lock: 0, or ENOMEM (nothing changed). */
static int
heap_push(struct timers *t, struct tnode *n)
{
  FUTURES_ASSERT_OWNER(&t->lock);
  if (t->n == t->cap) {
    size_t cap = t->cap != 0 ? 2 * t->cap : 16;
    struct tnode **h = FUTURES_ALLOC_ARRAY(struct tnode *, cap);

    if (h == NULL || cap > SIZE_MAX / 2 / sizeof(*h)) {
      FUTURES_FREE(h);
      return ENOMEM;
    }
    if (t->n != 0)
      memcpy(h, t->heap, t->n * sizeof(*h));
    FUTURES_FREE(t->heap);
    t->heap = h;
    t->cap = cap;
  }
  t->heap[t->n++] = n;
  sift_up(t, t->n - 1);
  return 0;
}

/* Under the lock: takes @n out of the heap. */
static void
heap_remove(struct timers *t, struct tnode *n)
{
  size_t i = n->idx;
  struct tnode *last;

  FUTURES_ASSERT_OWNER(&t->lock);
  n->idx = NOT_IN_HEAP;
  last = t->heap[--t->n];
  if (i == t->n)
    return;
  heap_set(t, i, last);
  if (i > 0 && before(last, t->heap[(i - 1) / 2]))
    sift_up(t, i);
  else
    sift_down(t, i);
}

/* ------------------------------------------------------------ set */

static void
timers_unref(struct timers *t)
{
  long left;

  futures__mutex_lock(&t->lock);
  left = --t->refs;
  futures__mutex_unlock(&t->lock);
  if (left != 0)
    return;
  FUTURES_FREE(t->heap);
  futures__cond_destroy(&t->cond);
  futures__mutex_destroy(&t->lock);
  FUTURES_FREE(t);
}

int
futures__timers_create(struct timers **out, const char *pool_name)
{
  struct timers *t = FUTURES_ALLOC(struct timers);

  *out = NULL;
  if (t == NULL)
    return ENOMEM;
  memset(t, 0, sizeof(*t));
  futures__mutex_init(&t->lock);
  futures__cond_init(&t->cond);
  t->refs = 1;
  snprintf(t->name, sizeof(t->name), "%.9s-tm", pool_name);
  *out = t;
  return 0;
}

/* The callback on a timer's own record: however it settled, the node
 * leaves the heap (if the timer thread has not taken it) and is freed. */
static void
tnode_settled(struct wcallback *cb, struct future *f)
{
  struct tnode *n = (struct tnode *)(void *)cb;
  struct timers *t = n->t;
  int in_heap;

  futures__mutex_lock(&t->lock);
  in_heap = n->idx != NOT_IN_HEAP;
  if (in_heap)
    heap_remove(t, n);
  futures__mutex_unlock(&t->lock);
  if (in_heap)
    futures__record_unref(f); /* the heap's */
  futures__record_unref(f);   /* the callback's */
  FUTURES_FREE(n);
  timers_unref(t);
}

/* Resolves the records @due[0..@k), whose heap references we hold. */
static void
settle_due(struct future **due, size_t k, int code)
{
  for (size_t i = 0; i < k; i++) {
    /* EALREADY if it was cancelled meanwhile. */
    (void)futures__gate_settle(due[i], code, NULL);
    futures__record_unref(due[i]);
  }
}

#define DUE_BATCH 64

/* The timer set whose thread this is, if it is one. */
static FUTURES_TLS const struct timers *my_timers;

int
futures__timers_in_thread(const struct timers *t)
{
  return t != NULL && my_timers == t;
}

static void *
timer_main(void *arg)
{
  struct timers *t = (struct timers *)arg;
  struct future *due[DUE_BATCH];

  my_timers = t;
  pthread_setname_np(pthread_self(), t->name);
  /* The kernel may fire a timed wait up to its slack late (50 us by
   * default, most of a timer's lateness: BENCHMARKS.md). This thread
   * only sleeps until deadlines: ask for none. */
  (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  futures__mutex_lock(&t->lock);
  while (!t->closed) {
    long long now;
    size_t k = 0;

    if (t->n == 0) {
      futures__cond_wait(&t->cond, &t->lock); /* predicate: n, closed */
      continue;
    }
    now = futures__now_ns();
    if (t->heap[0]->deadline > now) {
      (void)futures__cond_wait_until(&t->cond, &t->lock,
                                     t->heap[0]->deadline);
      continue;
    }
    while (k < DUE_BATCH && t->n != 0 && t->heap[0]->deadline <= now) {
      struct tnode *n = t->heap[0];

      /* The heap's reference comes with it. */
      due[k++] = n->f;
      heap_remove(t, n);
    }
    futures__mutex_unlock(&t->lock);
    settle_due(due, k, 0);
    futures__mutex_lock(&t->lock);
  }
  futures__mutex_unlock(&t->lock);
  return NULL;
}

/* Under the lock: starts the timer thread if it is not running. */
static int
start_locked(struct timers *t)
{
  pthread_attr_t attr;
  int rc;

  if (t->started)
    return 0;
  if (pthread_attr_init(&attr) != 0)
    return EAGAIN;
  /* Little stack: it runs callbacks, which queue work, not deep code. */
  rc = futures__thread_create(&t->thread, &attr, timer_main, t) == 0
           ? 0
           : EAGAIN;
  pthread_attr_destroy(&attr);
  if (rc == 0)
    t->started = 1;
  return rc;
}

void
futures__timers_close(struct timers *t)
{
  struct future *due[DUE_BATCH];
  int started;

  futures__mutex_lock(&t->lock);
  t->closed = 1;
  started = t->started;
  t->started = 0; /* joined below, once */
  /* Wakes the timer thread: it leaves. */
  futures__cond_signal(&t->cond);
  futures__mutex_unlock(&t->lock);
  /* Settle first, join after: the timer thread may be running a
   * continuation that waits for one of these. */
  for (;;) {
    size_t k = 0;

    futures__mutex_lock(&t->lock);
    while (k < DUE_BATCH && t->n != 0) {
      struct tnode *n = t->heap[t->n - 1];

      due[k++] = n->f;
      heap_remove(t, n);
    }
    futures__mutex_unlock(&t->lock);
    if (k == 0)
      break;
    settle_due(due, k, ECANCELED);
  }
  if (started)
    futures__thread_join(t->thread);
}

void
futures__timers_release(struct timers *t)
{
  timers_unref(t);
}

/* ------------------------------------------------------------ API */

/* futures_after() in a thread counted in the pool's entering count. */
static int
after(futures_pool_t *pool, long long delay_ns, future_t **future)
{
  struct timers *t;
  struct tnode *n;
  struct future *f;
  int rc;

  /* Seq_cst: after our count (see "Admission" in scheduler.c). */
  if (atomic_load_explicit(&pool->sched.stopping, memory_order_seq_cst) !=
      STOP_NONE)
    return ESHUTDOWN;
  if ((f = futures__nopool_new(F_COMBINED)) == NULL)
    return ENOMEM;
  if (delay_ns <= 0) {
    (void)futures__gate_settle(f, 0, NULL);
    *future = f;
    return 0;
  }
  if ((n = FUTURES_ALLOC(struct tnode)) == NULL) {
    futures__record_unref(f);
    return ENOMEM;
  }
  t = pool->timers;
  n->t = t;
  n->f = f;
  n->deadline = futures__deadline_in(delay_ns);
  n->idx = NOT_IN_HEAP;
  n->cb.fn = tnode_settled;
  /* Nobody else sees f yet: the callback is linked whatever comes. */
  futures__record_ref(f); /* the callback's */
  (void)futures__record_add_callback(f, &n->cb);
  futures__mutex_lock(&t->lock);
  if (t->closed)
    rc = ESHUTDOWN;
  else if ((rc = start_locked(t)) == 0 &&
           ((void)(n->seq = t->seq), (rc = heap_push(t, n)) == 0)) {
    t->seq++;
    t->refs++;
    futures__record_ref(f); /* the heap's */
    if (n->idx == 0)
      futures__cond_signal(&t->cond); /* a new earliest deadline */
  }
  futures__mutex_unlock(&t->lock);
  if (rc != 0) {
    (void)futures__record_remove_callback(f, &n->cb);
    futures__record_unref(f);
    futures__record_unref(f);
    FUTURES_FREE(n);
    return rc;
  }
  *future = f;
  return 0;
}

int
futures_after(futures_pool_t *pool, long long delay_ns, future_t **future)
{
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL)
    return EINVAL;
  if (pool->sched.gen !=
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed))
    return ECHILD;
  /* Counted: a destroy that has begun keeps the pool alive until we
   * leave (its drain waits for us). */
  futures__sched_enter(&pool->sched);
  rc = after(pool, delay_ns, future);
  futures__sched_leave(&pool->sched);
  return rc;
}
