/* SPDX-License-Identifier: MIT */
/*
 * hook.h - layer 3: cancel hooks of running bodies (hook.c).
 */
#ifndef FUTURES_HOOK_H
#define FUTURES_HOOK_H

#include "scheduler.h"

/* The body of @f (this thread's current record) has returned or unwound:
 * if it registered a hook, removes it, waiting for a canceller still
 * calling it. One load and a compare when it has none. */
void futures__hook_end_slow(struct future *f);
static inline void
futures__hook_end(struct future *f)
{
  if (unlikely(futures__tls.hooked == f))
    futures__hook_end_slow(f);
}

/* A canceller set F_CANCEL on the RUNNING @f: calls its hook, if one is
 * registered and has not fired, in the calling thread, with no lock held. */
void futures__hook_fire(struct future *f);

/* FUTURES_DESTROY_CANCEL: calls the hook of every body of @s's records
 * running now (each at most once). */
void futures__hook_fire_pool(const struct sched *s);

/* Once per process (init.c), and afresh in a fork() child. */
void futures__hook_init(void);
void futures__hook_atfork_child(void);

#endif /* FUTURES_HOOK_H */
