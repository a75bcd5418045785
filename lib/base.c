/* SPDX-License-Identifier: MIT */
/*
 * base.c - layer 0: deadline arithmetic and the fork generation, the part
 * of the base layer that the models of tests/model/ compile as it is.
 */
#include "internal.h"

int
futures__timespec_valid(const struct timespec *ts)
{
  return ts != NULL && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

long long
futures__deadline_of(const struct timespec *ts)
{
  /* Saturate: a tv_sec too large for nanoseconds in a long long is
   * forever (it is centuries away), a negative one is the past. */
  if (ts->tv_sec < 0)
    return 0;
  if ((unsigned long long)ts->tv_sec >
      (unsigned long long)((FUTURES_FOREVER - ts->tv_nsec) / 1000000000LL))
    return FUTURES_FOREVER;
  return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

long long
futures__deadline_in(long long ns)
{
  long long now = futures__now_ns();

  if (ns <= 0)
    return now;
  if (ns >= FUTURES_FOREVER - now)
    return FUTURES_FOREVER;
  return now + ns;
}

int
futures__deadline_passed(long long deadline)
{
  return deadline != FUTURES_FOREVER && futures__now_ns() >= deadline;
}

/* ------------------------------------------------------------ fork */

/* Bumped by pool.c's fork handler in every child: pools and futures that
 * exist at a fork belong to the parent. */
FUTURES_GLOBAL(_Atomic(unsigned long), futures__fork_gen);
