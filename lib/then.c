/* SPDX-License-Identifier: MIT */
/*
 * then.c - continuations.
 *
 * A continuation is an ordinary record in phase DEFERRED, linked into its
 * antecedent's waiter list through its own (unused while deferred) queue
 * link, so attaching one allocates nothing beyond its future. When the
 * antecedent completes, its completer moves the record to QUEUED with the
 * antecedent's code and result as input and queues it like any task
 * (wait.c, schedule_continuation). A chain of continuations therefore runs
 * one link per task, from the queue: no recursion, no stack growth.
 */
#include "future.h"
#include "pool.h"

int
futures_then(futures_pool_t *pool, future_t *antecedent, futures_then_fn fn,
             void *arg, future_t **future)
{
  futures_task_t task = {NULL, arg, NULL};
  int timed, rc;
  struct future *c;
  uint32_t s;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL || futures__future_bad(antecedent) || fn == NULL ||
      antecedent->pool != pool)
    return EINVAL;
  if ((rc = futures__pool_admit(pool)) != 0)
    return rc;
  timed = (pool->flags & FUTURES_POOL_TIMING) != 0;
  c = futures__record_alloc(timed);
  if (c == NULL)
    return ENOMEM;
  futures__future_init(c, pool, &task, F_CONT | (timed ? F_TIMED : 0));
  c->fn.then = fn;
  /* Unpublished yet: a relaxed store makes it DEFERRED. */
  s = atomic_load_explicit(&c->state, memory_order_relaxed);
  atomic_store_explicit(&c->state, s | F_DEFERRED, memory_order_relaxed);
  futures__pool_count_submits(pool, 1);
  *future = c;
  if (futures__wait_add_continuation(antecedent, c))
    return 0;
  /* The antecedent has finished: queue the continuation now. */
  c->code = antecedent->code;
  atomic_store_explicit(&c->u.q.next, NULL, memory_order_relaxed);
  c->u.q.result = antecedent->u.q.result;
  atomic_store_explicit(&c->state, s | F_QUEUED, memory_order_relaxed);
  if (pool->max_queued != 0)
    atomic_fetch_add_explicit(&pool->queued, 1, memory_order_relaxed);
  futures__pool_enqueue(pool, c);
  return 0;
}
