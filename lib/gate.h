/* SPDX-License-Identifier: MIT */
/*
 * gate.h - layer 3: the one gate through which a record is run or settled
 * (see the rule at the top of gate.c).
 */
#ifndef FUTURES_GATE_H
#define FUTURES_GATE_H

#include "scheduler.h"

/* Flags for futures__gate_run(). */
#define GATE_QREF 0x1u   /* the caller hands over the queue's reference */
#define GATE_HELPED 0x2u /* the caller is a thread waiting for the task */

/*
 * Runs @f in the calling thread if it is still QUEUED: claims it, runs its
 * body (or settles it ECANCELED unrun if its pool is being destroyed in
 * cancel mode) and publishes the outcome. Returns 1 if this thread won the
 * record, 0 if another thread had already claimed or settled it. With
 * GATE_QREF the queue's reference is dropped in either case.
 *
 * Neither answer says whether @f has finished: after a 0 another thread
 * may still be running it. Whoever needs to know reads its state
 * (futures__record_done()), as the rule at the top of gate.c says.
 */
int futures__gate_run(struct future *f, unsigned flags);

/* futures__gate_run(@f, GATE_QREF | GATE_HELPED), in the shape
 * futures__sched_run_descendant() takes. */
int futures__gate_run_helped(struct future *f);

/*
 * Settles @f with ECANCELED if it is still QUEUED or DEFERRED: calls its
 * drop function in the calling thread, publishes, wakes its waiters and
 * readies its continuations. 1 if this thread won the record.
 */
int futures__gate_cancel(struct future *f);

/*
 * Settles the record with no pool @f (F_NOPOOL) with @code and @result if
 * it is still DEFERRED: publishes, wakes its waiters and runs its
 * callbacks in the calling thread. 0 if this thread settled it, EALREADY
 * if another had (a settle or a cancel).
 */
int futures__gate_settle(struct future *f, int code, void *result);
/* The same, handing the library @result's destructor @rdrop: it runs once
 * the record is freed if no one has read the result (code 0 only). */
int futures__gate_settle_owned(struct future *f, int code, void *result,
                               futures_drop_fn rdrop);

/*
 * A continuation whose antecedent has finished: moves it from DEFERRED to
 * QUEUED and queues it on its pool, or, if it was cancelled meanwhile,
 * drops the antecedent's list's reference. This is the futures_ready_fn
 * that the gate hands to futures__record_publish().
 */
void futures__gate_ready(struct future *c);

/*
 * Runs the inline continuation @c (a record with no pool, F_CONT) in the
 * calling thread, which has just seen its antecedent settle: claims it
 * unless it was cancelled, calls @fn with the antecedent's outcome and
 * publishes the result (or follows the future @fn returned).
 */
void futures__gate_run_inline(struct future *c, futures_then_fn fn,
                              void *arg);

/*
 * Publishes the outcome of @f, RUNNING since its body returned
 * FUTURES_FOLLOW, once the future it follows has settled (or with
 * ECANCELED at its pool's destroy). foreign.c calls it, once per record.
 */
void futures__gate_finish(struct future *f, int code, void *result,
                          futures_drop_fn rdrop);

/*
 * Asks a RUNNING task to stop (futures_cancelled() then returns 1 in it).
 * Returns the phase it saw: F_RUNNING if the request was recorded while
 * it ran, F_DONE if it had finished, F_QUEUED or F_DEFERRED if it has not
 * started (the request was not recorded: use futures__gate_cancel()).
 */
uint32_t futures__gate_request_stop(struct future *f);

/*
 * promise.c: a fresh record with no pool (F_NOPOOL): DEFERRED, one
 * reference (the caller's), made in this fork generation; @flags adds
 * F_COMBINED for one the user may not settle (a combinator's, a timer's,
 * an inline continuation's) and F_CONT for an inline continuation. NULL
 * when out of memory.
 */
struct future *futures__nopool_new(uint32_t flags);

/*
 * Once per process, before the first record exists: the wait stripes,
 * the hazard pins, the barriers, the scheduler's globals, and the fork
 * handlers that make every record of the parent's stale in a child
 * (futures__fork_gen). 0, or the error that made it fail (it is not
 * retried). pool.c and promise.c call it.
 */
int futures__global_init(void);

#endif /* FUTURES_GATE_H */
