/* SPDX-License-Identifier: MIT */
/*
 * help.h - layer 4: threads that run or settle a pool's tasks without
 * being its workers, and the hazard pins that keep a pool alive for them.
 */
#ifndef FUTURES_HELP_H
#define FUTURES_HELP_H

#include "gate.h"
#include "pin.h"

/*
 * An episode: a thread that is not one of @f's pool's workers enters the
 * pool before it runs or settles one of its records. Entering pins the
 * pool, checks that @f has not finished, counts the thread in
 * sched->helpers (the drain waits for it) and, with @borrow, lends it a
 * free slot so that sub-tasks of what it runs go to a deque the workers
 * steal from. A worker of the pool, or a thread already inside an episode
 * of it, needs none. futures__help_enter() returns 1 if the thread may go
 * on (entered, or no episode needed), 0 if @f has finished.
 */
struct help_ctx {
  struct sched *sched;
  struct slot *saved_slot;
  long saved_base;
  int took_slot;
  int pin;    /* -1: no episode */
  int active; /* entered and not yet exited */
};
int futures__help_enter(struct help_ctx *h, struct future *f, int borrow);
void futures__help_exit(struct help_ctx *h);
/* Cleanup for a help_ctx variable: ends the episode if the thread unwinds
 * out of it (pthread_exit() in a task it ran). Declare the variable with
 * FUTURES_HELP_CTX so that the cleanup is attached. */
void futures__help_unwound(struct help_ctx *h);
#define FUTURES_HELP_CTX(name)                                                 \
  struct help_ctx name __attribute__((cleanup(futures__help_unwound))) = {     \
      NULL, NULL, 0, 0, -1, 0}

/* ECHILD when @f is unfinished and belongs to the parent of a fork() (it
 * will never finish here), else 0. */
int futures__help_stale(struct future *f);
/* The checks of an array of futures that a combinator takes: EINVAL if
 * @futures is NULL with @n > 0 or has an unusable entry
 * (futures__record_bad), else ECHILD if an entry is stale, else 0. */
int futures__help_check_array(future_t *const futures[], size_t n);

/* Runs one task of the calling thread's own slot pushed since its current
 * task began (a descendant), through the gate; 1 if there was one. */
int futures__help_descendant(void);

/* Offers @f, if it has not started, to the gate in the calling thread:
 * taken back from the caller's own ring if it is still there, else
 * claimed in place. Says nothing about @f's progress (gate.c's rule). */
void futures__help_run(struct future *f);

/* @c is a deferred continuation: offers the first unstarted antecedent of
 * its chain to the gate (futures__help_run()); 1 if there was one. */
int futures__help_chain(struct future *c);

/* @f is a combinator's future (F_COMBINED): offers to the gate the first
 * of its inputs that has not started, or the first unstarted task an
 * input waits for (a continuation's chain, a nested combinator's inputs,
 * up to 8 deep); 1 if there was one. */
int futures__help_inputs(struct future *f);

/* futures__help_run() for every future of the array that has not started,
 * newest first, taking back batches of the caller's own submissions. */
void futures__help_run_all(struct future *const futures[], size_t n);

#endif /* FUTURES_HELP_H */
