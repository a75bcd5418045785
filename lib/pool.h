/* SPDX-License-Identifier: MIT */
/*
 * pool.h - layer 6: the pool, as the public API sees it: a scheduler plus
 * its place in the registry of live pools (pool.c).
 */
#ifndef FUTURES_POOL_H
#define FUTURES_POOL_H

#include "scheduler.h"

struct futures_pool {
  struct sched sched;
  /* Protected by registry_lock. */
  struct futures_pool *reg_next;
  /* Immutable after create: the pool's timers (timer.c). */
  struct timers *timers;
  /* futures_pool_destroy_async(): written by its caller before it starts
   * the destroying thread (thread creation orders them), then read by that
   * thread only. async_done is the thread's reference to the future. */
  struct future *async_done;
  int async_mode;
  /* Protected by sched.lock: the caller of futures_pool_destroy_async()
   * has stopped the pool, so its destroying thread may go on. */
  int async_stopped;
};

/* timer.c: a pool's set of timers (its thread starts with the first
 * timer), and its close at destroy: the thread leaves, every pending
 * timer settles with ECANCELED and futures_after() is ESHUTDOWN. The set
 * itself is freed once the pool and the last of its nodes let go. */
int futures__timers_create(struct timers **t, const char *pool_name);
void futures__timers_close(struct timers *t);
/* The pool lets go of the set (pool_free()), after the close: threads
 * that raced the close with futures_after() have left by then. */
void futures__timers_release(struct timers *t);
/* 1 if the calling thread is @t's timer thread. */
int futures__timers_in_thread(const struct timers *t);

#endif /* FUTURES_POOL_H */
