/* SPDX-License-Identifier: MIT */
/*
 * wait.h - layer 4: waiting for one record (wait.c).
 */
#ifndef FUTURES_WAIT_H
#define FUTURES_WAIT_H

#include "help.h"

/*
 * Waits until @f is DONE: 0, ETIMEDOUT (only before @deadline, which is
 * FUTURES_FOREVER for an untimed wait) or ECHILD. With @may_run, a task
 * that has not started is run by the caller; a thread running one of the
 * pool's tasks runs its own pending sub-tasks meanwhile either way.
 * EDEADLK if @f is the calling task's own, unfinished.
 */
int futures__wait_one(struct future *f, long long deadline, int may_run);

/* EDEADLK if one of @futures is the calling task's own future and has not
 * finished, else 0. */
int futures__wait_check_self(struct future *const futures[], size_t n);

/* Spins (yielding now and then) for a short while, or until @deadline;
 * 1 if @f became DONE. */
int futures__wait_spin(const struct future *f, long long deadline);

#endif /* FUTURES_WAIT_H */
