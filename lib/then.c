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
 * An antecedent from anywhere else (a promise, a timer, a combinator,
 * another pool's task) may be settled by a thread that belongs to no pool,
 * while the continuation's pool is being destroyed: such a wait goes
 * through foreign.c, which registers it with the pool.
 *
 * On a bounded pool a continuation takes its place in the queue when it is
 * attached: it is accepted work, and it must not overshoot the bound when
 * its antecedent finishes, when it can no longer be refused.
 *
 * An inline continuation (futures_then_inline()) is a record with no pool,
 * run by a callback waiter on its antecedent in the thread that settles
 * it. Callbacks that settle records queue further callbacks in the same
 * thread instead of calling them (record.c), so an inline chain of any
 * length also runs one link after another, with no recursion.
 */
#include "foreign.h"
#include "help.h"
#include "pool.h"
#include "trace.h"

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
  c = futures__record_alloc(F_CONT | F_EXT | (timed ? F_TIMED : 0));
  if (c == NULL) {
    futures__record_unref(antecedent);
    if (s->max_queued != 0)
      futures__sched_release_room(s, 1);
    return ENOMEM;
  }
  futures__record_init(c, s, NULL, arg, NULL,
                       F_CONT | F_DEFERRED | F_EXT | (timed ? F_TIMED : 0));
  if (timed && s->trace != NULL) /* trace.c; implies timed */
    futures__trace_submit(s, c);
  c->fn.then = fn;
  futures__record_x(c)->ante = antecedent;
  if ((atomic_load_explicit(&antecedent->state, memory_order_relaxed) &
       F_NOPOOL) ||
      antecedent->sched != s) {
    /* From outside the pool (a finished record's sched is never
     * dereferenced here: equal or not, both paths are right for it). */
    int rc = futures__record_try_ref(antecedent); /* the wait's */

    if (rc == 0) {
      /* Consumes the wait's reference and c's second one. */
      rc = futures__foreign_add(s, c, antecedent, FOREIGN_READY);
      if (rc != 0)
        futures__record_unref(antecedent);
    }
    if (rc != 0) {
      futures__record_unref(antecedent);
      futures__record_free(c);
      if (s->max_queued != 0)
        futures__sched_release_room(s, 1);
      return rc;
    }
    futures__sched_count_submits(s, 1);
    *future = c;
    return 0;
  }
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
  if (pool == NULL || futures__record_bad(antecedent) || fn == NULL)
    return EINVAL;
  /* A fork() child: a parent's unfinished future never settles here. */
  if ((rc = futures__help_stale(antecedent)) != 0)
    return rc;
  if ((rc = admit(&pool->sched, &a)) == 0)
    rc = attach(&pool->sched, antecedent, fn, arg, future);
  futures__sched_admit_end(&pool->sched, &a);
  return rc;
}

/* ------------------------------------------------------------ inline */

struct inline_cont {
  struct wcallback cb; /* first: on the antecedent */
  struct future *c;    /* a reference */
  futures_then_fn fn;
  void *arg;
};

/* Lets go of the node and its references, also when @fn ends the thread
 * (pthread_exit()) and the stack unwinds through inline_fired(). */
static void
inline_done(struct inline_cont **np)
{
  struct inline_cont *n = *np;

  futures__record_unref(n->c);
  futures__record_unref(n->cb.f); /* the antecedent: the callback's */
  FUTURES_FREE(n);
}

static void
inline_fired(struct wcallback *cb, struct future *ante)
{
  struct inline_cont *n __attribute__((cleanup(inline_done))) =
      (struct inline_cont *)(void *)cb;

  (void)ante; /* n->cb.f */
  futures__gate_run_inline(n->c, n->fn, n->arg);
}

int
futures_then_inline(future_t *antecedent, futures_then_fn fn, void *arg,
                    future_t **future)
{
  struct inline_cont *n;
  struct future *c;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (futures__record_bad(antecedent) || fn == NULL)
    return EINVAL;
  if ((rc = futures__help_stale(antecedent)) != 0)
    return rc;
  if ((rc = futures__global_init()) != 0)
    return rc;
  if ((c = futures__nopool_new(F_COMBINED | F_CONT)) == NULL)
    return ENOMEM;
  if ((n = FUTURES_ALLOC(struct inline_cont)) == NULL) {
    futures__record_unref(c);
    return ENOMEM;
  }
  /* Two references to the antecedent: the continuation's input (x.ante,
   * dropped when it settles) and the callback's. */
  if (futures__record_try_ref(antecedent) != 0) {
    FUTURES_FREE(n);
    futures__record_unref(c);
    return EAGAIN;
  }
  futures__record_ref(antecedent);
  futures__record_x(c)->ante = antecedent;
  futures__record_ref(c); /* the callback's */
  n->c = c;
  n->fn = fn;
  n->arg = arg;
  n->cb.fn = inline_fired;
  *future = c;
  if (!futures__record_add_callback(antecedent, &n->cb))
    futures__record_callback_now(&n->cb, antecedent);
  return 0;
}
