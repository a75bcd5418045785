/* SPDX-License-Identifier: MIT */
/*
 * producer.h - submission rings for threads outside the pool (see
 * producer.c).
 */
#ifndef FUTURES_PRODUCER_H
#define FUTURES_PRODUCER_H

#include "internal.h"

struct ring;

struct producer {
  /* Producer side: written only by the owning thread. Own cache line. */
  _Atomic unsigned long long tail FUTURES_ALIGNED; /* records pushed, ever */
  struct ring *pring;             /* ring being written */
  unsigned long long pring_start; /* index of pring's first record */
  unsigned long long head_cache;  /* a recent value of head */
  _Atomic unsigned long long retracted; /* records taken back by the owner */
  /* Consumer side: written by the worker holding busy. Own cache line. */
  _Atomic unsigned long long head FUTURES_ALIGNED; /* records taken, ever */
  struct ring *cring; /* ring being read */
  /* Atomic: the consumers' try-lock. Own cache line, so that taking it
   * does not disturb idle workers reading head. */
  atomic_flag busy FUTURES_ALIGNED;
  /* Atomic: 1 while a live thread owns the producer side. */
  _Atomic int owned FUTURES_ALIGNED;
  /* Immutable once in the pool's list. */
  struct producer *next;
};

/* Creates the thread-exit key (once, from the pool's global init). */
int futures__producer_init(void);
/* The calling thread's producer in @pool (registering it on first use);
 * NULL if memory ran out. */
struct producer *futures__producer_get(struct futures_pool *pool);
/* The calling thread's producer in @pool if it has one; never registers. */
struct producer *futures__producer_find(struct futures_pool *pool);
/*
 * Owner only: takes back its newest submissions that no worker has taken
 * yet, as long as they are futures[i-1], futures[i-2], ... in that order
 * (the order a caller that submitted futures[0..i) left them in). Stores
 * them in out[] (at most @max) and returns how many. The caller then holds
 * the queue's reference of each.
 */
size_t futures__producer_retract(struct producer *p,
                                 struct future *const futures[], size_t i,
                                 struct future **out, size_t max);
/* Owner: publishes @n records at once; 0, or ENOMEM (nothing queued). */
int futures__producer_push(struct producer *p, struct future *const f[],
                           size_t n);
/* Any worker: takes up to @max records, oldest first; 0 if the ring is
 * empty or another worker is taking from it. */
size_t futures__producer_take(struct producer *p, struct future **out,
                              size_t max);
int futures__producer_nonempty(struct producer *p);
/* Records ever pushed, retracted ones included (statistics). */
unsigned long long futures__producer_pushed(struct producer *p);
/* Destroy: frees the producer and its rings. */
void futures__producer_free(struct producer *p);
/* fork() child: forget this thread's registrations. */
void futures__producer_forget_all(void);

#endif /* FUTURES_PRODUCER_H */
