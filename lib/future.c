/* SPDX-License-Identifier: MIT */
/*
 * future.c - layer 5: the public calls on one future: get, wait, cancel,
 * readiness, times, release.
 */
#include "hook.h"
#include "trace.h"
#include "wait.h"

/* future_get()'s wait on a timed record: a join slice if its pool traces
 * (trace.c). Out of line: the untimed path pays one branch. */
static int __attribute__((noinline))
wait_traced(future_t *future)
{
  struct trace_join j;
  int rc;

  futures__trace_join_begin(&j, &future, 1);
  rc = futures__wait_one(future, FUTURES_FOREVER, 1);
  futures__trace_join_end(&j);
  return rc;
}

int
future_get(future_t *future, void **result)
{
  int rc;

  if (futures__record_bad(future))
    return EINVAL;
  if (futures__trace_maybe(future))
    rc = wait_traced(future);
  else
    rc = futures__wait_one(future, FUTURES_FOREVER, 1);
  if (rc != 0)
    return rc;
  return futures__record_outcome(future, result);
}

int
future_wait_until(future_t *future, const struct timespec *abstime)
{
  if (futures__record_bad(future) || !futures__timespec_valid(abstime))
    return EINVAL;
  return futures__wait_one(future, futures__deadline_of(abstime), 0);
}

int
future_wait_for(future_t *future, long long timeout_ns)
{
  if (futures__record_bad(future) || timeout_ns < 0)
    return EINVAL;
  return futures__wait_one(future, futures__deadline_in(timeout_ns), 0);
}

int
future_is_ready(const future_t *future)
{
  if (futures__record_bad(future))
    return 0;
  return futures__record_done(future);
}

void
future_release(future_t *future)
{
  if (futures__record_bad(future))
    return;
  futures__record_handle_release(future);
  futures__record_unref(future);
}

/*
 * Settles an unstarted (queued or deferred) @f with ECANCELED through the
 * gate, inside an episode so that the drain waits for us: settling calls
 * the drop function and readies continuations, which are queued on the
 * pool. 1 if this thread settled it, 0 if it was not (or no longer)
 * unstarted.
 */
static int
cancel_unstarted(struct future *f)
{
  FUTURES_HELP_CTX(h);
  int won;

  if (!futures__help_enter(&h, f, 0))
    return 0;
  won = futures__gate_cancel(f);
  futures__help_exit(&h);
  return won;
}

int
future_cancel(future_t *future)
{
  int rc;

  if (futures__record_bad(future))
    return EINVAL;
  /* A promise or a combinator's future has no running phase to ask: it
   * is pending (cancelled here) or being settled or settled (EALREADY). */
  if (atomic_load_explicit(&future->state, memory_order_relaxed) & F_NOPOOL) {
    if ((rc = futures__help_stale(future)) != 0)
      return rc;
    if (futures__gate_cancel(future))
      return 0;
    /* An inline continuation running its body (or following the future
     * it returned) is asked, like a running task. */
    if ((atomic_load_explicit(&future->state, memory_order_relaxed) &
         F_CONT) &&
        futures__gate_request_stop(future) == F_RUNNING) {
      futures__hook_fire(future);
      return EINPROGRESS;
    }
    return EALREADY;
  }
  for (;;) {
    switch (futures__gate_request_stop(future)) {
    case F_DONE:
      return EALREADY;
    case F_RUNNING:
      /* Asked: its cancel hook, if it set one, runs here. */
      futures__hook_fire(future);
      return EINPROGRESS;
    default:
      /* A fork() child must not touch the parent's unstarted tasks. */
      if ((rc = futures__help_stale(future)) != 0)
        return rc;
      if (cancel_unstarted(future))
        return 0;
      /* It started or finished meanwhile: look again. */
      break;
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
  /* An inline continuation has no pool. */
  return f->sched != NULL &&
         atomic_load_explicit(&f->sched->stopping, memory_order_relaxed) ==
             STOP_CANCEL;
}

int
future_times(const future_t *future, long long *queued_ns,
             long long *running_ns)
{
  const struct future_times *t;
  uint32_t s;

  if (futures__record_bad(future))
    return EINVAL;
  s = futures__record_state(future);
  if (!(s & F_TIMED))
    return ENOTSUP;
  if ((s & F_PHASE) != F_DONE)
    return EBUSY;
  t = futures__record_times((struct future *)future);
  if (queued_ns != NULL)
    *queued_ns = t->started - t->submitted;
  if (running_ns != NULL)
    *running_ns = t->finished - t->started;
  return 0;
}
