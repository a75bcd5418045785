/* SPDX-License-Identifier: MIT */
/*
 * future.c - the future state machine: claim, run, complete, cancel,
 * release.
 */
#include "future.h"
#include "pool.h"

#include <stdio.h>

FUTURES_TLS struct futures_tls futures__tls;

#if FUTURES_DEBUG
int
futures__future_bad(const struct future *f)
{
  if (f == NULL)
    return 1;
  if (f->magic != FUTURE_MAGIC) {
    fprintf(stderr, "libfutures: future %p used after release\n",
            (const void *)f);
    return 1;
  }
  return 0;
}
#endif

void
futures__future_init(struct future *f, struct futures_pool *pool,
                     const futures_task_t *task, uint32_t flags)
{
  /* Relaxed: the record is published later by the queue (release) or by
   * the antecedent's stripe lock. */
  FUTURES_ATOMIC_VAR(f->state);
  FUTURES_ATOMIC_VAR(f->u.q.next);
  atomic_store_explicit(&f->state, 2 * F_REF | flags, memory_order_relaxed);
  f->code = 0;
  f->fn.task = task->fn;
  f->arg = task->arg;
  atomic_store_explicit(&f->u.q.next, NULL, memory_order_relaxed);
  f->u.q.result = NULL;
  f->pool = pool;
  f->waiters = NULL;
  f->drop = task->drop;
#if FUTURES_DEBUG
  f->magic = FUTURE_MAGIC;
#endif
  if (flags & F_TIMED)
    future_times_of(f)->submitted = futures__now_ns();
}

int
futures__future_claim(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);

  do {
    if ((s & F_PHASE) != F_QUEUED)
      return 0;
    /* Acquire: the fields written by the submitter are visible to the
     * thread that runs the task. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, (s & ~F_PHASE) | F_RUNNING, memory_order_seq_cst,
      memory_order_relaxed));
  FUTURES_HAPPENS_AFTER(&f->state);
  /* The record was in a queue or its pool is pinned: the pool is alive. */
  if (f->pool->max_queued != 0)
    futures__pool_unqueued(f->pool);
  return 1;
}

void
futures__future_unref(struct future *f)
{
  /* Release: our writes to the record happen before its free; acquire on
   * the last drop: every other holder's writes happen before the free. */
  uint32_t s;

  FUTURES_HAPPENS_BEFORE(&f->state);
  s = atomic_fetch_sub_explicit(&f->state, F_REF, memory_order_acq_rel);
  FUTURES_ASSERT(F_REFS(s) >= 1);
  if (F_REFS(s) == 1) {
    FUTURES_HAPPENS_AFTER(&f->state);
    futures__record_free(f);
  }
}

void
futures__future_complete(struct future *f, int owns_queue_ref)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
  uint32_t n;

  FUTURES_HAPPENS_BEFORE(&f->state);
  do {
    n = (s & ~F_PHASE) | F_DONE;
    /* With nobody to wake, the queue's reference goes in the same step. */
    if (owns_queue_ref && !(s & F_WAITERS))
      n -= F_REF;
    /* Release: publishes code and result; acquire: if this drops the last
     * reference, the releaser's writes happen before our free. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, n, memory_order_acq_rel, memory_order_relaxed));
  if (s & F_WAITERS) {
    futures__wait_fire(f);
    if (owns_queue_ref)
      futures__future_unref(f);
  } else if (owns_queue_ref && F_REFS(n) == 0) {
    FUTURES_HAPPENS_AFTER(&f->state);
    futures__record_free(f);
  }
}

void
futures__future_finish_unrun(struct future *f, int owns_queue_ref)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);

  f->code = ECANCELED;
  f->u.q.result = NULL;
  if (s & F_TIMED) {
    struct future_times *t = future_times_of(f);

    t->started = t->finished = futures__now_ns();
  }
  futures__pool_count_cancel(f->pool);
  /* The drop function runs before waiters wake, so that a waiter that sees
   * ECANCELED knows the argument has been cleaned up. */
  if (f->drop != NULL)
    f->drop(f->arg);
  futures__future_complete(f, owns_queue_ref);
}

/*
 * If the thread running a task exits inside it (pthread_exit(), or a
 * cancellation it let through), the stack unwinds through
 * futures__future_execute() and this runs: the task never returned, so its
 * future finishes with EOWNERDEAD and its waiters wake. The library is
 * built with -fexceptions, so this cleanup costs nothing unless it runs.
 */
struct exec_guard {
  struct future *f;
  struct future *saved;
  long saved_base;
  int flags;
  int armed;
};

static void
exec_unwound(struct exec_guard *g)
{
  struct future *f = g->f;

  if (!g->armed)
    return;
  futures__tls.current = g->saved;
  futures__tls.base = g->saved_base;
  f->code = EOWNERDEAD;
  f->u.q.result = NULL;
  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_TIMED)
    future_times_of(f)->finished = futures__now_ns();
  futures__pool_count_complete(f->pool);
  futures__future_complete(f, g->flags & EXEC_QREF);
}

void
futures__future_execute(struct future *f, int flags)
{
  struct futures_pool *pool = f->pool;
  struct futures_tls *tls = &futures__tls;
  struct future *saved = tls->current;
  long saved_base = tls->base;
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
  struct exec_guard guard __attribute__((cleanup(exec_unwound))) = {
      f, saved, saved_base, flags, 0};
  void *res = NULL;
  int code;

  if (unlikely(atomic_load_explicit(&pool->stopping, memory_order_relaxed) ==
               STOP_CANCEL)) {
    futures__future_finish_unrun(f, flags & EXEC_QREF);
    return;
  }
  futures__pool_count_start(pool, flags & EXEC_HELPED);
  if (s & F_TIMED)
    future_times_of(f)->started = futures__now_ns();
  tls->current = f;
  tls->base = tls->slot != NULL ? futures__deque_bottom(&tls->slot->dq) : 0;
  guard.armed = 1;
  if (s & F_CONT)
    code = f->fn.then(f->arg, f->code, f->u.q.result, &res);
  else
    code = f->fn.task(f->arg, &res);
  guard.armed = 0;
  tls->current = saved;
  tls->base = saved_base;
  f->code = code;
  f->u.q.result = code == 0 ? res : NULL;
  if (s & F_TIMED)
    future_times_of(f)->finished = futures__now_ns();
  futures__pool_count_complete(pool);
  futures__future_complete(f, flags & EXEC_QREF);
}

void
futures__future_dispatch(struct future *f)
{
  if (futures__future_claim(f))
    futures__future_execute(f, EXEC_QREF);
  else
    futures__future_unref(f);
}

int
futures__future_cancel_unstarted(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
  uint32_t phase;

  do {
    phase = s & F_PHASE;
    if (phase != F_QUEUED && phase != F_DEFERRED)
      return 0;
    /* Acquire: as in claim; we read drop and arg. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, (s & ~F_PHASE) | F_RUNNING | F_CANCEL,
      memory_order_seq_cst, memory_order_relaxed));
  FUTURES_HAPPENS_AFTER(&f->state);
  if (phase == F_QUEUED && f->pool->max_queued != 0)
    futures__pool_unqueued(f->pool);
  /* The queue (or the antecedent's list) keeps its reference: whoever
   * takes the record out of it drops that. For a deferred continuation,
   * u.link.group is NULL and stays NULL when result is cleared, so the
   * antecedent's list is still intact. */
  futures__future_finish_unrun(f, 0);
  return 1;
}

/* ------------------------------------------------------------ public */

int
future_is_ready(const future_t *future)
{
  if (futures__future_bad(future))
    return 0;
  return future_done(future);
}

void
future_release(future_t *future)
{
  if (futures__future_bad(future))
    return;
  futures__future_unref(future);
}

int
future_cancel(future_t *future)
{
  uint32_t s;
  int pin;

  if (futures__future_bad(future))
    return EINVAL;
  for (;;) {
    s = future_state(future);
    switch (s & F_PHASE) {
    case F_DONE:
      return EALREADY;
    case F_RUNNING:
      s = atomic_fetch_or_explicit(&future->state, F_CANCEL,
                                   memory_order_relaxed);
      if ((s & F_PHASE) == F_RUNNING)
        return EINPROGRESS;
      if ((s & F_PHASE) == F_DONE)
        return EALREADY;
      continue; /* cannot happen: RUNNING only moves to DONE */
    default:
      /* A fork() child must not touch the parent's unstarted tasks. */
      if (atomic_load_explicit(&futures__fork_gen, memory_order_relaxed) !=
              0 &&
          futures__pool_is_stale(future->pool))
        return ECHILD;
      /* Pin the pool first: cancelling updates its counters, and the pool
       * may otherwise be destroyed the moment the record leaves QUEUED. */
      pin = futures__pin(future->pool, future);
      if (pin < 0)
        continue; /* it left QUEUED/DEFERRED meanwhile: look again */
      if (futures__future_cancel_unstarted(future)) {
        futures__unpin(pin);
        return 0;
      }
      futures__unpin(pin);
      continue;
    }
  }
}

int
futures_cancelled(void)
{
  struct future *f = futures__tls.current;

  if (f == NULL)
    return 0;
  /* Relaxed: a request seen a little late is still honoured. */
  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_CANCEL)
    return 1;
  return atomic_load_explicit(&f->pool->stopping, memory_order_relaxed) ==
         STOP_CANCEL;
}

int
future_times(const future_t *future, long long *queued_ns,
             long long *running_ns)
{
  const struct future_times *t;
  uint32_t s;

  if (futures__future_bad(future))
    return EINVAL;
  s = future_state(future);
  if (!(s & F_TIMED))
    return ENOTSUP;
  if ((s & F_PHASE) != F_DONE)
    return EBUSY;
  t = future_times_of((struct future *)future);
  if (queued_ns != NULL)
    *queued_ns = t->started - t->submitted;
  if (running_ns != NULL)
    *running_ns = t->finished - t->started;
  return 0;
}
