/* SPDX-License-Identifier: MIT */
/*
 * ring.h - layer 2: a submission ring, one outside thread's queue of
 * records in one pool.
 *
 * A single-producer array with a try-lock for its consumers. The owner
 * publishes records with plain stores and one release store of the tail
 * index: no atomic read-modify-write, no lock. Consumers (the pool's
 * workers, one at a time under the try-lock) take the oldest first. The
 * owner may also take back its newest records that no consumer has taken
 * (futures__ring_retract), under the same try-lock. A full ring is never
 * waited on: the owner moves on to an array twice the size and leaves the
 * old one for the consumer to drain and free. tests/model/ checks push,
 * take, retract and growth under the C11 memory model.
 */
#ifndef FUTURES_RING_H
#define FUTURES_RING_H

#include "internal.h"

struct ring_buf {
  long mask;
  _Atomic(unsigned long long) switch_at; /* first index in the next array */
  _Atomic(struct ring_buf *) next;       /* set once, after switch_at */
  _Atomic(struct future *) slot[FUTURES_FLEX];
};

struct ring {
  /* Written only by the owner, read by consumers. Own cache line, so
   * that their reads do not take the owner's private fields away. */
  _Atomic(unsigned long long) tail FUTURES_ALIGNED; /* records pushed, ever,
                                                      less those retracted */
  /* Producer side: the owner's alone (retracted aside, read by the
   * statistics). Own cache line. */
  unsigned long long ptail FUTURES_ALIGNED; /* the owner's copy of tail */
  struct ring_buf *pbuf;          /* array being written */
  unsigned long long pbuf_start;  /* index of pbuf's first record */
  unsigned long long head_cache;  /* a recent value of head */
  _Atomic(unsigned long long) retracted; /* records taken back, ever */
  /* Consumer side: written by the holder of busy. Own cache line. */
  _Atomic(unsigned long long) head FUTURES_ALIGNED; /* records taken, ever */
  struct ring_buf *cbuf;          /* array being read */
  /* Atomic: the consumers' try-lock. Own cache line, so that taking it
   * does not disturb idle workers reading head. */
  _Atomic(int) busy FUTURES_ALIGNED;
};

/* 0, or ENOMEM. */
int futures__ring_init(struct ring *r);
/* Frees the arrays; the ring must be quiet. */
void futures__ring_fini(struct ring *r);
/* Owner: publishes @n records at once; 0, or ENOMEM (nothing queued). */
int futures__ring_push(struct ring *r, struct future *const f[], size_t n);
/* Any consumer: takes up to @max records, oldest first; 0 if the ring is
 * empty or another consumer holds it. */
size_t futures__ring_take(struct ring *r, struct future **out, size_t max);
/*
 * Owner only: takes back its newest records that no consumer has taken
 * yet, as long as they are futures[i-1], futures[i-2], ... in that order
 * (the order a caller that submitted futures[0..i) left them in). Stores
 * them in out[] (at most @max) and returns how many. The caller then holds
 * the queue's reference of each.
 */
size_t futures__ring_retract(struct ring *r, struct future *const futures[],
                             size_t i, struct future **out, size_t max);
/* Any thread: 1 if a record is queued. */
int futures__ring_nonempty(struct ring *r);
/* Records ever pushed, retracted ones included (statistics). */
unsigned long long futures__ring_pushed(struct ring *r);

#endif /* FUTURES_RING_H */
