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
};

#endif /* FUTURES_POOL_H */
