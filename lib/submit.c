/* SPDX-License-Identifier: MIT */
/*
 * submit.c - futures_submit() and friends, and backpressure.
 *
 * A submit allocates one record (future and task together), fills it and
 * queues it: into the calling thread's own deque when it runs one of the
 * pool's tasks, into the injection queue otherwise. Bounded pools reserve
 * a place in the queue first, with a compare-and-swap on pool->queued, so
 * the bound is never overshot, not even for a moment.
 */
#include "future.h"
#include "pool.h"
#include "sync.h"

enum { ROOM_QUEUE = 0, ROOM_CALLER_RUNS = 1 };

/* Reserves @n places if they are free now; 1 if it did. */
static int
try_reserve(struct futures_pool *pool, size_t n)
{
  long q = atomic_load_explicit(&pool->queued, memory_order_seq_cst);

  do {
    if ((size_t)q + n > pool->max_queued)
      return 0;
    /* Seq_cst: pairs with futures__pool_release_room(). */
  } while (!atomic_compare_exchange_weak_explicit(
      &pool->queued, &q, q + (long)n, memory_order_seq_cst,
      memory_order_seq_cst));
  return 1;
}

/* FUTURES_OVERFLOW_BLOCK from outside the pool: waits for room. */
static int
wait_for_room(struct futures_pool *pool, size_t n,
              const struct timespec *abstime)
{
  int rc = 0;

  futures__mutex_lock(&pool->lock);
  atomic_fetch_add_explicit(&pool->room_waiters, 1, memory_order_seq_cst);
  for (;;) {
    if (atomic_load_explicit(&pool->stopping, memory_order_seq_cst) !=
        STOP_NONE) {
      rc = ESHUTDOWN;
      break;
    }
    if (try_reserve(pool, n))
      break;
    if (rc == ETIMEDOUT)
      break;
    /* Predicate: room in the queue (a task left it), or destroy began. */
    if (abstime != NULL)
      rc = futures__cond_timedwait(&pool->room, &pool->lock, abstime);
    else
      futures__cond_wait(&pool->room, &pool->lock);
  }
  atomic_fetch_sub_explicit(&pool->room_waiters, 1, memory_order_seq_cst);
  /* Wakes destroy, which waits for blocked submitters to leave. */
  if (rc == ESHUTDOWN)
    futures__cond_broadcast(&pool->room);
  futures__mutex_unlock(&pool->lock);
  return rc;
}

/*
 * Applies the bound of a bounded pool to @n new tasks. On success *@queue
 * is how many of them to queue; the rest run in the caller.
 */
static int
reserve(struct futures_pool *pool, size_t n, const struct timespec *abstime,
        size_t *queue)
{
  long q;

  *queue = n;
  if (pool->max_queued == 0 || try_reserve(pool, n))
    return 0;
  switch (pool->overflow) {
  case FUTURES_OVERFLOW_CALLER_RUNS:
    /* Queue what fits, run the rest here. */
    q = atomic_load_explicit(&pool->queued, memory_order_seq_cst);
    *queue = (size_t)q < pool->max_queued ? pool->max_queued - (size_t)q : 0;
    if (*queue > n)
      *queue = n;
    while (*queue > 0 && !try_reserve(pool, *queue))
      (*queue)--;
    return 0;
  case FUTURES_OVERFLOW_BLOCK:
    /* Waiting inside one of the pool's tasks could wait forever for the
     * very worker that waits: run the task here instead. */
    if (futures__pool_in_task(pool)) {
      *queue = 0;
      return 0;
    }
    if (n > 1 || n > pool->max_queued)
      return EAGAIN; /* a batch does not block */
    return wait_for_room(pool, n, abstime);
  default:
    return EAGAIN;
  }
}

/* Runs a fresh record in the calling thread (caller-runs overflow). */
static void
run_here(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);

  /* Nobody else has seen the record: a plain store makes it RUNNING. */
  atomic_store_explicit(&f->state, (s & ~F_PHASE) | F_RUNNING,
                        memory_order_relaxed);
  futures__future_execute(f, EXEC_QREF);
}

static int
check_task(const futures_task_t *task)
{
  return task != NULL && task->fn != NULL;
}

int
futures_submit_ex(futures_pool_t *pool, const futures_task_t *task,
                  const struct timespec *abstime, future_t **future)
{
  struct future *f;
  size_t queue = 1;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL || !check_task(task))
    return EINVAL;
  if (abstime != NULL && !futures__timespec_valid(abstime))
    return EINVAL;
  if (unlikely((rc = futures__pool_admit(pool)) != 0))
    return rc;
  if (unlikely(pool->max_queued != 0) &&
      (rc = reserve(pool, 1, abstime, &queue)) != 0)
    return rc;
  f = futures__record_alloc(pool->flags & FUTURES_POOL_TIMING);
  if (unlikely(f == NULL)) {
    if (pool->max_queued != 0 && queue == 1)
      futures__pool_release_room(pool, 1);
    return ENOMEM;
  }
  futures__future_init(f, pool, task,
                       (pool->flags & FUTURES_POOL_TIMING) ? F_TIMED : 0);
  *future = f;
  if (likely(queue == 1)) {
    futures__pool_submit(pool, &f, 1);
  } else {
    futures__pool_count_submits(pool, 1);
    run_here(f);
  }
  return 0;
}

int
futures_submit(futures_pool_t *pool, futures_task_fn fn, void *arg,
               future_t **future)
{
  futures_task_t task;

  task.fn = fn;
  task.arg = arg;
  task.drop = NULL;
  return futures_submit_ex(pool, &task, NULL, future);
}

/* Allocates and fills @n records; all or nothing. */
static int
alloc_batch(struct futures_pool *pool, const futures_task_t tasks[],
            size_t n, future_t *futures[])
{
  int timed = (pool->flags & FUTURES_POOL_TIMING) != 0;

  for (size_t i = 0; i < n; i++) {
    futures[i] = futures__record_alloc(timed);
    if (futures[i] == NULL) {
      while (i-- > 0) {
        futures__record_free(futures[i]);
        futures[i] = NULL;
      }
      return ENOMEM;
    }
    futures__future_init(futures[i], pool, &tasks[i], timed ? F_TIMED : 0);
  }
  return 0;
}

int
futures_submit_all(futures_pool_t *pool, const futures_task_t tasks[],
                   size_t n, future_t *futures[])
{
  size_t queue = n;
  int rc;

  if (n == 0)
    return 0;
  if (futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    futures[i] = NULL;
  if (pool == NULL || tasks == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!check_task(&tasks[i]))
      return EINVAL;
  if ((rc = futures__pool_admit(pool)) != 0)
    return rc;
  if (pool->max_queued != 0 && (rc = reserve(pool, n, NULL, &queue)) != 0)
    return rc;
  if ((rc = alloc_batch(pool, tasks, n, futures)) != 0) {
    if (pool->max_queued != 0 && queue > 0)
      futures__pool_release_room(pool, queue);
    return rc;
  }
  /* One publication and at most one wake-up for the queued part. */
  if (queue > 0)
    futures__pool_submit(pool, futures, queue);
  if (queue < n)
    futures__pool_count_submits(pool, n - queue);
  for (size_t i = queue; i < n; i++)
    run_here(futures[i]);
  return 0;
}
