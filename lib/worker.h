/* SPDX-License-Identifier: MIT */
/*
 * worker.h - layer 3: starting a worker thread (worker.c).
 */
#ifndef FUTURES_WORKER_H
#define FUTURES_WORKER_H

#include "scheduler.h"

/* Starts a worker thread for @slot with the pool's stack size; 0, EAGAIN
 * (no thread) or EINVAL (the stack size was refused). */
int futures__worker_start(struct slot *slot, pthread_t *t);

#endif /* FUTURES_WORKER_H */
