/* SPDX-License-Identifier: MIT */
/*
 * deque.h - layer 2: the work-stealing deque of a slot.
 *
 * Chase-Lev (Chase and Lev, SPAA 2005; memory orders after Le, Pop, Cohen
 * and Zappa Nardelli, PPoPP 2013). The owner pushes and pops at the
 * bottom; any thread steals from the top. An entry keeps the index it was
 * pushed at (top only grows; bottom moves down only as the owner pops its
 * newest entries), so entries at or above an index are exactly those
 * pushed since bottom was there: futures__deque_pop()'s @floor relies on
 * that.
 * Entries are records; the deque never looks inside them. Pushing never
 * allocates except when the array doubles. tests/model/ checks push, pop,
 * steal and growth under the C11 memory model.
 */
#ifndef FUTURES_DEQUE_H
#define FUTURES_DEQUE_H

#include "internal.h"

struct deque_buf {
  long mask;                 /* capacity - 1; capacity is a power of 2 */
  struct deque_buf *retired; /* the smaller array this one replaced */
  _Atomic(struct future *) slot[FUTURES_FLEX];
};

struct deque {
  /* Atomic; thieves compare-and-swap it. Own cache line. */
  _Atomic(long) top FUTURES_ALIGNED;
  /* Atomic; written by the owner only. Own cache line. */
  _Atomic(long) bottom FUTURES_ALIGNED;
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
/* Owner only: the current bottom index (the next push's index). Inline:
 * every body's start reads it (gate.c). Relaxed: only the owner writes
 * it. */
static inline long
futures__deque_bottom(struct deque *d)
{
  return atomic_load_explicit(&d->bottom, memory_order_relaxed);
}

#endif /* FUTURES_DEQUE_H */
