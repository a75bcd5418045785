/* SPDX-License-Identifier: MIT */
/*
 * worker.h - layer 3: starting a worker thread (worker.c).
 */
#ifndef FUTURES_WORKER_H
#define FUTURES_WORKER_H

#include "scheduler.h"

/* Starts a worker thread for @slot with the pool's stack size and CPUs;
 * 0, EAGAIN (no thread) or EINVAL (the stack size or CPUs were refused).
 * The thread runs the pool's start hook first and reports it (create
 * waits for every report: sched->hooks_reported). */
int futures__worker_start(struct slot *slot, pthread_t *t);

#endif /* FUTURES_WORKER_H */
