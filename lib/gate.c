/* SPDX-License-Identifier: MIT */
/*
 * gate.c - layer 3: the one gate through which every record is run or
 * settled.
 *
 * The rule. A record leaves QUEUED or DEFERRED only through a
 * compare-and-swap made in this file (claim(), futures__gate_ready()),
 * and only the thread that wins it runs the record's body or settles it.
 * DONE is published only from this file, through futures__record_publish().
 * Every other path that meets a record either comes through this gate or
 * only reads the state word: a worker taking a queue entry for a record a
 * waiter already ran, a waiter taking its own record back from its ring,
 * a thief, a join's batch, the drain, a cancel that lost. "Has it
 * finished?" is answered only by reading DONE with acquire order
 * (futures__record_done()), never by what one of these paths returned.
 *
 * Records with no pool (F_NOPOOL: promises and the futures of combinators)
 * wait in DEFERRED and leave it through the same compare-and-swap:
 * futures__gate_settle() for a resolve, a reject or a combinator's last
 * input, futures__gate_cancel() for a cancel. Whoever wins settles it.
 *
 * Callers: worker.c (every record a worker finds), help.c (a waiter runs a
 * task in place, takes its own back from its ring, runs its descendants),
 * future.c (future_cancel()), submit.c (caller-runs overflow), pool.c
 * (destroy runs what is left when no worker is), and record.c, which hands
 * each continuation of a finished record to futures__gate_ready().
 */
#include "foreign.h"
#include "hook.h"
#include "trace.h"

/*
 * If the thread running a task exits inside it (pthread_exit(), or a
 * cancellation it let through), the stack unwinds through run() and this
 * runs: the task never returned, so its future finishes with EOWNERDEAD
 * and its waiters wake. The library is built with -fexceptions, so this
 * cleanup costs nothing unless it runs.
 */
struct run_guard {
  struct future *f;
  struct future *saved;
  long saved_base;
  unsigned flags;
  int armed;
#if FUTURES_DEBUG
  void *saved_top; /* the thread's open frames when the body began */
#endif
};

/* Enters a body: @f is this thread's current record. */
static inline void
body_enter(struct run_guard *g)
{
  struct futures_tls *tls = &futures__tls;

  tls->current = g->f;
  tls->base = tls->slot != NULL ? futures__deque_bottom(&tls->slot->dq) : 0;
  g->armed = 1;
#if FUTURES_DEBUG
  g->saved_top = tls->frame_top;
#endif
}

/* Leaves the body (returned, or unwinding): the outer record is current
 * again, and the body's cancel hook, if it registered one, is gone (a
 * canceller calling it finishes first). */
static inline void
body_leave(struct run_guard *g)
{
  struct futures_tls *tls = &futures__tls;

  g->armed = 0;
  /* Debug builds: a body syncs every frame it spawned (spawn.c). */
  FUTURES_ASSERT(tls->frame_top == g->saved_top &&
                 "futures_spawn(): a task returned with a frame not synced");
  tls->current = g->saved;
  tls->base = g->saved_base;
  futures__hook_end(g->f);
}

static void settle(struct future *f, int code, void *result, int drop_ref);

/* The unwinding itself, out of line: the check in run_unwound() is what
 * every body pays. */
static void __attribute__((noinline))
run_unwound_slow(struct run_guard g)
{
  struct future *f = g.f;

  body_leave(&g);
  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_TIMED) {
    futures__record_times(f)->finished = futures__now_ns();
    if (f->sched != NULL && f->sched->trace != NULL)
      futures__trace_run(f->sched, f, EOWNERDEAD, g.flags & GATE_HELPED, 0);
  }
  if (f->sched != NULL)
    futures__sched_count_complete(f->sched);
  settle(f, EOWNERDEAD, NULL, g.flags & GATE_QREF);
}

/* By value: the guard's address does not escape, and its fields can stay
 * in registers on the path every body takes. */
static inline void
run_unwound(struct run_guard *g)
{
  if (unlikely(g->armed))
    run_unwound_slow(*g);
}

/*
 * Moves @f out of QUEUED (or, with @deferred_too, out of DEFERRED as well)
 * into RUNNING, adding @extra to the flags; 1 if this thread won.
 */
static int
claim(struct future *f, int deferred_too, uint32_t extra)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
  uint32_t phase;

  do {
    phase = s & F_PHASE;
    if (phase != F_QUEUED && !(deferred_too && phase == F_DEFERRED))
      return 0;
    /* Acquire: the submitter's (or attacher's) writes to the record are
     * visible to the winner. Seq_cst: one total order with the other
     * claims, cancels and readyings of the same word. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, (s & ~F_PHASE) | F_RUNNING | extra,
      memory_order_seq_cst, memory_order_relaxed));
  FUTURES_HAPPENS_AFTER(&f->state);
  FUTURES_TP(FUTURES_TP_CLAIMED, f);
  /* The record was queued or deferred, so its pool has not finished
   * draining: it is alive. A place reserved in a bounded queue is free. */
  if (f->sched != NULL && f->sched->max_queued != 0 && !(s & F_NOPLACE))
    futures__sched_release_room(f->sched, 1);
  return 1;
}

/* Publishes the outcome of a record this thread won; a continuation lets
 * go of its antecedent first. */
/* A fork() child finishing a task of its parent's pool (the task
 * forked): its waiters and continuations live in the parent, and the
 * locks that reach them may be held by threads that do not exist here.
 * Nobody here can be waiting for it: it is left as it is. */
static inline int
stale_in_child(const struct future *f)
{
  return unlikely(futures__forked()) &&
         (f->sched != NULL ? f->sched->gen
                           : futures__record_ext((struct future *)f)->gen) !=
             atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

static void
settle(struct future *f, int code, void *result, int drop_ref)
{
  if (stale_in_child(f))
    return;
  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_CONT)
    futures__record_ante_drop(f, NULL);
  futures__record_publish(f, code, result, drop_ref, futures__gate_ready);
}

/* settle() handing over the result's destructor @rdrop (to fn.rdrop; a
 * continuation also lets go of its antecedent here). */
static void
settle_owned(struct future *f, int code, void *result, futures_drop_fn rdrop)
{
  if (stale_in_child(f))
    return;
  if (code != 0)
    rdrop = NULL;
  if (atomic_load_explicit(&f->state, memory_order_relaxed) & F_CONT)
    futures__record_ante_drop(f, rdrop);
  else if (rdrop != NULL)
    f->fn.rdrop = rdrop;
  futures__record_publish(f, code, result, 0, futures__gate_ready);
}

/* Settles a record this thread won with ECANCELED, without running it. */
static void
settle_unrun(struct future *f, int drop_ref)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);

  if (s & F_TIMED) {
    struct future_times *t = futures__record_times(f);

    t->started = t->finished = futures__now_ns();
    if (f->sched != NULL && f->sched->trace != NULL)
      futures__trace_run(f->sched, f, ECANCELED, 0, 1);
  }
  if (f->sched != NULL)
    futures__sched_count_cancel(f->sched);
  /* The drop function runs before waiters wake, so that a waiter that sees
   * ECANCELED knows the argument has been cleaned up. It runs as the
   * record's body would: a wait in it on the record itself is EDEADLK,
   * destroying the record's pool from it too, and the sub-tasks it may
   * run while waiting are only those it pushed. */
  if ((s & (F_EXT | F_CONT)) == F_EXT && futures__record_x(f)->drop != NULL) {
    struct futures_tls *tls = &futures__tls;
    struct future *saved = tls->current;
    long saved_base = tls->base;

    tls->current = f;
    tls->base = tls->slot != NULL ? futures__deque_bottom(&tls->slot->dq) : 0;
    futures__record_x(f)->drop(f->arg);
    tls->current = saved;
    tls->base = saved_base;
  }
  settle(f, ECANCELED, NULL, drop_ref);
}

/*
 * A body returned FUTURES_FOLLOW with the future @g in its result: @f,
 * still RUNNING, settles as @g does (foreign.c), in the thread that
 * settles @g. The user's reference to @g is ours. 0, or the code @f
 * settles with at once (@g unusable, no memory, its pool being destroyed).
 */
static int
follow(struct future *f, struct future *g)
{
  int rc;

  if (futures__record_bad(g))
    return EINVAL;
  futures__record_handle_release(g);
  if (g == f) {
    futures__record_unref(g);
    return EDEADLK;
  }
  futures__record_ref(f); /* the wait's */
  rc = futures__foreign_add(f->sched, f, g, FOREIGN_FOLLOW);
  if (rc != 0) {
    futures__record_unref(f);
    futures__record_unref(g);
    return rc == ESHUTDOWN ? ECANCELED : rc;
  }
  return 0;
}

/* A timed record's body has ended: its time, and its slice if its pool
 * traces. Out of line, so that an untimed run pays the one branch it paid
 * before the trace. */
static void __attribute__((noinline))
timed_end(struct sched *s, struct future *f, int code, unsigned flags)
{
  futures__record_times(f)->finished = futures__now_ns();
  if (s->trace != NULL)
    futures__trace_run(s, f, code, (flags & GATE_HELPED) != 0, 0);
}

/* Runs the body of a record this thread won, and publishes its outcome. */
static void
run(struct future *f, unsigned flags)
{
  struct sched *s = f->sched;
  struct futures_tls *tls = &futures__tls;
  uint32_t st = atomic_load_explicit(&f->state, memory_order_relaxed);
  struct run_guard guard __attribute__((cleanup(run_unwound))) = {
      .f = f, .saved = tls->current, .saved_base = tls->base, .flags = flags,
      .armed = 0};
  void *res = NULL;
  int code;

  futures__sched_count_start(s, (flags & GATE_HELPED) != 0);
  if (st & F_TIMED)
    futures__record_times(f)->started = futures__now_ns();
  body_enter(&guard);
  if (st & F_CONT) {
    void *value;
    /* The antecedent is DONE: its publication happens before the
     * continuation was readied, which happens before we claimed it. */
    int in = futures__record_outcome(futures__record_x(f)->ante, &value);
    futures_then_fn then = f->fn.then;

    /* fn becomes the result's destructor (see struct future). */
    f->fn.rdrop = NULL;
    code = then(f->arg, in, value, &res);
  } else {
    futures_task_fn task = f->fn.task;

    /* A task owns its argument once it starts; fn becomes the result's
     * destructor, which futures_task_t.result_drop sets in the body. */
    f->fn.rdrop = NULL;
    code = task(f->arg, &res);
  }
  body_leave(&guard);
  if (st & F_TIMED)
    timed_end(s, f, code, flags);
  futures__sched_count_complete(s);
  if (unlikely(code == FUTURES_FOLLOW)) {
    if ((code = follow(f, (struct future *)res)) == 0) {
      if (flags & GATE_QREF)
        futures__record_unref(f);
      return;
    }
    res = NULL;
  }
  settle(f, code, res, flags & GATE_QREF);
}

void
futures__gate_run_inline(struct future *c, futures_then_fn fn, void *arg)
{
  struct futures_tls *tls = &futures__tls;
  struct run_guard guard __attribute__((cleanup(run_unwound))) = {
      .f = c, .saved = tls->current, .saved_base = tls->base, .flags = 0,
      .armed = 0};
  void *value, *res = NULL;
  int in, code;

  /* Lost: it was cancelled while it waited. */
  if (!claim(c, 1, 0))
    return;
  body_enter(&guard);
  /* The antecedent is DONE: our callback ran after its publication. */
  in = futures__record_outcome(futures__record_x(c)->ante, &value);
  code = fn(arg, in, value, &res);
  body_leave(&guard);
  if (unlikely(code == FUTURES_FOLLOW)) {
    if ((code = follow(c, (struct future *)res)) == 0)
      return;
    res = NULL;
  }
  settle(c, code, res, 0);
}

void
futures__gate_finish(struct future *f, int code, void *result,
                     futures_drop_fn rdrop)
{
  settle_owned(f, code, result, rdrop);
}

int
futures__gate_run(struct future *f, unsigned flags)
{
  if (!claim(f, 0, 0)) {
    if (flags & GATE_QREF)
      futures__record_unref(f);
    return 0;
  }
  if (unlikely(atomic_load_explicit(&f->sched->stopping,
                                    memory_order_relaxed) == STOP_CANCEL))
    settle_unrun(f, flags & GATE_QREF);
  else
    run(f, flags);
  return 1;
}

int
futures__gate_run_helped(struct future *f)
{
  return futures__gate_run(f, GATE_QREF | GATE_HELPED);
}

int
futures__gate_cancel(struct future *f)
{
  if (!claim(f, 1, F_CANCEL))
    return 0;
  /* The queue (or the antecedent's list) keeps its reference: whoever
   * takes the record out of it drops that. */
  settle_unrun(f, 0);
  return 1;
}

void
futures__gate_ready(struct future *c)
{
  uint32_t s = atomic_load_explicit(&c->state, memory_order_relaxed);

  /* The antecedent's list is done with u.link (record.c read its next
   * before handing us the record); a racing cancel does not touch it. */
  atomic_store_explicit(&c->u.q.next, (struct future *)NULL,
                        memory_order_relaxed);
  do {
    if ((s & F_PHASE) != F_DEFERRED) {
      /* Cancelled while deferred: drop the list's reference. */
      futures__record_unref(c);
      return;
    }
    /* Release: a thread that claims the continuation after finding it in
     * a queue or through its handle sees the antecedent's outcome. */
  } while (!atomic_compare_exchange_weak_explicit(
      &c->state, &s, (s & ~F_PHASE) | F_QUEUED, memory_order_acq_rel,
      memory_order_relaxed));
  /* The list's reference becomes the queue's. The caller keeps the pool
   * from draining: it is a worker, a helper or a canceller of the
   * antecedent's pool (which is the continuation's pool), a thread
   * counted in sched->entering (an attach, a caller-runs submit), or
   * destroy running what is left with no worker. */
  futures__sched_push(c->sched, c);
}

int
futures__gate_settle(struct future *f, int code, void *result)
{
  return futures__gate_settle_owned(f, code, result, NULL);
}

int
futures__gate_settle_owned(struct future *f, int code, void *result,
                           futures_drop_fn rdrop)
{
  if (!claim(f, 1, 0))
    return EALREADY;
  settle_owned(f, code, result, rdrop);
  return 0;
}

uint32_t
futures__gate_request_stop(struct future *f)
{
  uint32_t s = futures__record_state(f);

  if ((s & F_PHASE) != F_RUNNING)
    return s & F_PHASE;
  /* Relaxed: a request seen a little late is still honoured. RUNNING only
   * moves on to DONE, so the phase this returns is one of the two. */
  s = atomic_fetch_or_explicit(&f->state, F_CANCEL, memory_order_relaxed);
  return s & F_PHASE;
}

