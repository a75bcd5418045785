/* SPDX-License-Identifier: MIT */
/*
 * sync.h - the pthread wrappers are declared in internal.h; this header
 * exists for the time helpers used only by wait.c and join.c.
 */
#ifndef FUTURES_SYNC_H
#define FUTURES_SYNC_H

#include <time.h>

/* A CLOCK_MONOTONIC deadline @ns from now. */
struct timespec futures__deadline_in(long long ns);

/* 1 once @abstime (CLOCK_MONOTONIC) has passed. */
int futures__deadline_passed(const struct timespec *abstime);

#endif /* FUTURES_SYNC_H */
