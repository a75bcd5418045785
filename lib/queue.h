/* SPDX-License-Identifier: MIT */
/*
 * queue.h - the two task queues: a work-stealing deque per slot and the
 * pool's injection queue for submits from outside the pool.
 *
 * Neither takes a lock on its owner's hot path. Records carry their own
 * link (future.u.q.next), so queueing never allocates, except when a deque
 * doubles its array.
 */
#ifndef FUTURES_QUEUE_H
#define FUTURES_QUEUE_H

#include "internal.h"
#include "future.h"

/*
 * Chase-Lev deque (Chase and Lev, SPAA 2005; memory orders after Le, Pop,
 * Cohen and Zappa Nardelli, PPoPP 2013). The owner pushes and pops at the
 * bottom; any thread steals from the top. Indices only grow (bottom drops
 * by one during a pop and is restored if the pop loses), so an index tells
 * when an entry was pushed: futures__deque_pop()'s @floor relies on that.
 */
struct deque_buf {
  long mask;                  /* capacity - 1; capacity is a power of 2 */
  struct deque_buf *retired;  /* the smaller array this one replaced */
  _Atomic(struct future *) slot[];
};

struct deque {
  /* Atomic; thieves compare-and-swap it. Own cache line. */
  _Atomic long top FUTURES_ALIGNED;
  /* Atomic; written by the owner only. Own cache line. */
  _Atomic long bottom FUTURES_ALIGNED;
  _Atomic(struct deque_buf *) buf;
  /* Owner only: a value top had (it only grows), so that a push reads the
   * thieves' line only when the array looks full. */
  long top_cache;
};

int futures__deque_init(struct deque *d, long capacity);
void futures__deque_fini(struct deque *d);
/* Owner only. 0, or ENOMEM if the array had to grow and could not. */
int futures__deque_push(struct deque *d, struct future *f);
/* Owner only: the newest entry whose index is >= @floor, or NULL. */
struct future *futures__deque_pop(struct deque *d, long floor);
/* Any thread: the oldest entry, or NULL (*@lost set if a race lost it). */
struct future *futures__deque_steal(struct deque *d, int *lost);
/* Entries present, approximately (exact when nobody is using it). */
long futures__deque_size(struct deque *d);
/* Owner only: the current bottom index (the next push's index). */
long futures__deque_bottom(struct deque *d);

/*
 * Injection queue: Vyukov's intrusive multi-producer queue. Producers
 * publish with one atomic exchange (a chain of records with one exchange,
 * for batch submit); consumers are serialised by a try-lock flag and take
 * records one at a time, in submission order.
 */
struct inject {
  /* Atomic; every producer exchanges it. Own cache line. */
  _Atomic(struct future *) head FUTURES_ALIGNED;
  /* Atomic so that idle workers may read it; written only by the consumer
   * holding @busy. Own cache line with @busy. */
  _Atomic(struct future *) tail FUTURES_ALIGNED;
  atomic_flag busy;
  /* The queue is never empty of nodes: the stub stands in when it is. */
  struct future stub FUTURES_ALIGNED;
};

void futures__inject_init(struct inject *q);
/* Queue the chain first..last (linked through u.q.next). */
void futures__inject_push(struct inject *q, struct future *first,
                          struct future *last);
int futures__inject_trylock(struct inject *q);
void futures__inject_unlock(struct inject *q);
/* Consumer (holding the try-lock): the oldest record, or NULL when empty
 * or when a producer is between its exchange and its link. */
struct future *futures__inject_pop(struct inject *q);
/* Any thread: 1 if a record is queued or being queued. */
int futures__inject_nonempty(struct inject *q);

#endif /* FUTURES_QUEUE_H */
