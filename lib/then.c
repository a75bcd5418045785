/* SPDX-License-Identifier: MIT */
/*
 * then.c - layer 5: continuations.
 *
 * A continuation is an ordinary record in phase DEFERRED, linked into its
 * antecedent's waiter list through its own (unused while deferred) queue
 * link, so attaching one allocates nothing beyond its future. It holds a
 * reference to its antecedent, whose outcome is its input. When the
 * antecedent is published, the gate moves each continuation to QUEUED and
 * queues it like any task (gate.c, futures__gate_ready); if it was
 * cancelled meanwhile, it stays DONE with ECANCELED. A chain of
 * continuations therefore runs one link per task, from the queue: no
 * recursion, no stack growth.
 *
 * On a bounded pool a continuation takes its place in the queue when it is
 * attached: it is accepted work, and it must not overshoot the bound when
 * its antecedent finishes, when it can no longer be refused.
 */
#include "gate.h"
#include "pool.h"

/* Admits an attach: ESHUTDOWN, ECHILD or 0. Whatever it returns, the
 * caller ends it with futures__sched_admit_end(). */
static int
admit(struct sched *s, struct admission *a)
{
  int st;

  a->p = NULL;
  a->entered = 0;
  if (s->gen != atomic_load_explicit(&futures__fork_gen,
                                     memory_order_relaxed))
    return ECHILD;
  futures__sched_enter(s);
  a->entered = 1;
  /* Seq_cst: after our count (see "Admission" in scheduler.c). */
  st = atomic_load_explicit(&s->stopping, memory_order_seq_cst);
  if (st == STOP_CANCEL || (st == STOP_DRAIN && !futures__sched_in_task(s)))
    return ESHUTDOWN;
  return 0;
}

/* Attaches a continuation of @antecedent to the admitted pool @s. */
static int
attach(struct sched *s, future_t *antecedent, futures_then_fn fn, void *arg,
       future_t **future)
{
  int timed = (s->flags & FUTURES_POOL_TIMING) != 0;
  struct future *c;

  if (s->max_queued != 0 && !futures__sched_try_reserve(s, 1))
    return EAGAIN;
  /* The continuation's reference to its antecedent lives as long as it
   * waits: one the user asked for, bounded like future_retain()'s. */
  if (futures__record_try_ref(antecedent) != 0) {
    if (s->max_queued != 0)
      futures__sched_release_room(s, 1);
    return EAGAIN;
  }
  c = futures__record_alloc(timed);
  if (c == NULL) {
    futures__record_unref(antecedent);
    if (s->max_queued != 0)
      futures__sched_release_room(s, 1);
    return ENOMEM;
  }
  futures__record_init(c, s, NULL, arg, NULL,
                       F_CONT | F_DEFERRED | (timed ? F_TIMED : 0));
  c->fn.then = fn;
  c->x.ante = antecedent;
  futures__sched_count_submits(s, 1);
  *future = c;
  /* Linked: the antecedent's publication readies it. Else the antecedent
   * has finished, and it is ready now. */
  if (!futures__record_add_continuation(antecedent, c))
    futures__gate_ready(c);
  return 0;
}

int
futures_then(futures_pool_t *pool, future_t *antecedent, futures_then_fn fn,
             void *arg, future_t **future)
{
  struct admission a;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL || futures__record_bad(antecedent) || fn == NULL ||
      antecedent->sched != &pool->sched)
    return EINVAL;
  if ((rc = admit(&pool->sched, &a)) == 0)
    rc = attach(&pool->sched, antecedent, fn, arg, future);
  futures__sched_admit_end(&pool->sched, &a);
  return rc;
}
