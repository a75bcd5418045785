/* SPDX-License-Identifier: MIT */
/*
 * inject.h - layer 2: the injection queue, the one queue of a pool that
 * every thread may push to.
 *
 * Vyukov's intrusive multi-producer queue: records are linked through
 * their own u.q.next, so queueing never allocates and never fails.
 * Producers publish with one atomic exchange (a chain of records with one
 * exchange); consumers are serialised by a try-lock and take records one at
 * a time, oldest first. The scheduler puts here what has no better place:
 * records queued by a thread that has neither a deque nor a submission
 * ring (a continuation whose antecedent finished on another thread, a
 * submit that could not get a ring, the leftovers of a helping episode).
 */
#ifndef FUTURES_INJECT_H
#define FUTURES_INJECT_H

#include "record.h"

struct inject {
  /* Atomic; every producer exchanges it. Own cache line. */
  _Atomic(struct future *) head FUTURES_ALIGNED;
  /* Atomic so that idle workers may read it; written only by the consumer
   * holding busy. Own cache line with busy. */
  _Atomic(struct future *) tail FUTURES_ALIGNED;
  _Atomic(int) busy; /* the consumers' try-lock */
  /* The queue is never empty of nodes: the stub stands in when it is. */
  struct future stub FUTURES_ALIGNED;
};

void futures__inject_init(struct inject *q);
/* Queues the chain first..last (linked through u.q.next). */
void futures__inject_push(struct inject *q, struct future *first,
                          struct future *last);
int futures__inject_trylock(struct inject *q);
void futures__inject_unlock(struct inject *q);
/* Consumer (holding the try-lock): the oldest record, or NULL when empty
 * or when a producer is between its exchange and its link. */
struct future *futures__inject_pop(struct inject *q);
/* Any thread: 1 if a record is queued or being queued. */
int futures__inject_nonempty(struct inject *q);

#endif /* FUTURES_INJECT_H */
