/* SPDX-License-Identifier: MIT */
/*
 * hook.h - layer 3: cancel hooks of running bodies (hook.c).
 */
#ifndef FUTURES_HOOK_H
#define FUTURES_HOOK_H

#include "scheduler.h"

/*
 * One body's hook slot: in the frame that runs the body (gate.c), pointed
 * to by futures__tls.hook while the body runs. linked, fired and calling
 * are protected by the hooks' lock (hook.c); fn and arg are written by the
 * body's thread under it and read by a canceller under it.
 */
struct cancel_hook {
  struct future *f;
  void (*fn)(void *arg);
  void *arg;
  struct cancel_hook *prev, *next; /* in the registry, while linked */
  unsigned long gen; /* futures__fork_gen when linked: a slot copied into
                      * a fork() child is not in the child's registry */
  int linked;
  int fired;   /* called, or being called: at most once */
  int calling; /* a canceller is calling it now */
  pthread_t caller; /* that canceller (valid while calling) */
};

/* Starts a body's slot (no hook): two stores. */
static inline void
futures__hook_begin(struct cancel_hook *h, struct future *f)
{
  h->f = f;
  h->linked = 0;
}

/* The body has returned (or unwound): if it registered a hook, unlinks it,
 * waiting for a canceller still calling it. */
void futures__hook_end_slow(struct cancel_hook *h);
static inline void
futures__hook_end(struct cancel_hook *h)
{
  if (h->linked)
    futures__hook_end_slow(h);
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
