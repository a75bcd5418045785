/* SPDX-License-Identifier: MIT */
/*
 * wait.h - wait groups, shared by wait.c and join.c.
 *
 * A wait group is one thread's condition: a mutex, a condition variable
 * and the list of its waiter nodes that have fired. The thread registers
 * one node per future it waits for (futures__group_add), sleeps until a
 * node fires (futures__group_sleep), and removes the nodes that have not
 * fired before the group goes out of scope (futures__group_remove).
 */
#ifndef FUTURES_WAIT_H
#define FUTURES_WAIT_H

#include "future.h"

struct wgroup {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  /* Protected by lock. */
  struct waiter *fired; /* nodes fired and not yet taken, newest first */
  size_t nfired;        /* nodes fired in all */
};

struct waiter {
  struct wlink link;         /* in f->waiters; link.group is the group */
  struct waiter *fired_next; /* in group->fired; protected by its lock */
  struct future *f;
  size_t index;              /* the caller's index for this future */
};

void futures__wait_init(void);
void futures__wait_atfork_child(void);

void futures__group_init(struct wgroup *g);
void futures__group_fini(struct wgroup *g);
/* Registers @w on @f; 0 (nothing registered) if @f is already DONE. */
int futures__group_add(struct wgroup *g, struct waiter *w, struct future *f,
                       size_t index);
/* Unregisters @w unless it has fired; afterwards no completer touches it. */
void futures__group_remove(struct waiter *w);
/* Takes the list of fired nodes (newest first). */
struct waiter *futures__group_take_fired(struct wgroup *g);
/* Sleeps until nfired != @seen; 0, or ETIMEDOUT at @abstime. */
int futures__group_sleep(struct wgroup *g, size_t seen,
                         const struct timespec *abstime);
size_t futures__group_nfired(struct wgroup *g);

/* ECHILD when @f is unfinished and belongs to the parent of a fork()
 * (it will never finish here), else 0. */
int futures__wait_stale(struct future *f);

/* Spins (yielding now and then) for a short while, or until @abstime;
 * 1 if @f became DONE. */
int futures__spin_until(const struct future *f,
                        const struct timespec *abstime);

#endif /* FUTURES_WAIT_H */
