/* SPDX-License-Identifier: MIT */
/*
 * promise.c - layer 5: futures with no task: promises, settled by whoever
 * holds them. The futures of combinators (combine.c) and timers (timer.c)
 * are made here too, and settled by their own files.
 *
 * All are ordinary records marked F_NOPOOL, with no pool and no body.
 * They wait in DEFERRED, so every waiting function treats them as it
 * treats a continuation whose antecedent has not finished: it sleeps on
 * the record (there is nothing to run in its place). They leave DEFERRED
 * through the gate like every record: futures__gate_settle() for a resolve
 * or a reject, futures__gate_cancel() for future_cancel(); the first
 * compare-and-swap wins and every later settle is EALREADY.
 */
#include "gate.h"
#include "help.h"

struct future *
futures__nopool_new(uint32_t flags)
{
  struct future *f = futures__record_alloc(F_NOPOOL | F_EXT | flags);

  if (f == NULL)
    return NULL;
  futures__record_init(f, NULL, NULL, NULL, NULL,
                       F_DEFERRED | F_NOPOOL | F_EXT | flags);
  /* Relaxed: not yet visible to any other thread. One reference, not the
   * two of a task (no queue holds it). */
  atomic_store_explicit(&f->state,
                        F_REF | F_DEFERRED | F_NOPOOL | F_EXT | flags,
                        memory_order_relaxed);
  futures__record_ext(f)->gen =
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  return f;
}

int
future_retain(future_t *future)
{
  if (futures__record_bad(future))
    return EINVAL;
  if (futures__record_try_ref(future) != 0)
    return EAGAIN;
#if FUTURES_DEBUG
  atomic_fetch_add_explicit(&future->handles, 1, memory_order_relaxed);
#endif
  return 0;
}

int
futures_promise_create(future_t **future)
{
  struct future *f;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if ((rc = futures__global_init()) != 0)
    return rc;
  if ((f = futures__nopool_new(0)) == NULL)
    return ENOMEM;
  *future = f;
  return 0;
}

/* Settles the promise @f: EINVAL if it is not a promise, ECHILD if it is
 * a promise of the parent of a fork(), else what the gate says. */
static int
settle_promise(struct future *f, int code, void *value, futures_drop_fn drop)
{
  int rc;

  /* A promise has F_NOPOOL without F_COMBINED; both are set before the
   * record is published and never change. */
  if ((atomic_load_explicit(&f->state, memory_order_relaxed) &
       (F_NOPOOL | F_COMBINED)) != F_NOPOOL)
    return EINVAL;
  if ((rc = futures__help_stale(f)) != 0)
    return rc;
  return futures__gate_settle_owned(f, code, value, drop);
}

int
future_resolve(future_t *future, void *value)
{
  if (futures__record_bad(future))
    return EINVAL;
  return settle_promise(future, 0, value, NULL);
}

int
future_resolve_owned(future_t *future, void *value, futures_drop_fn drop)
{
  if (futures__record_bad(future))
    return EINVAL;
  return settle_promise(future, 0, value, drop);
}

int
future_reject(future_t *future, int code)
{
  if (futures__record_bad(future) || code <= 0)
    return EINVAL;
  return settle_promise(future, code, NULL, NULL);
}
