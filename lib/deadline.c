/* SPDX-License-Identifier: MIT */
/*
 * deadline.c - futures_deadline_in(): a CLOCK_MONOTONIC deadline @ns from
 * now, with the carry into tv_sec and saturation done once, here, rather
 * than by hand in every caller.
 */
#include "internal.h"

#include <stdint.h>

/* The largest time_t: time_t is a signed integer type on every POSIX
 * system the library builds on (configure requires Linux). */
#define TIME_T_MAX                                                             \
  ((time_t)((((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 2)) - 1) * 2 + 1))

int
futures_deadline_in(long long ns, struct timespec *deadline)
{
  long long at;

  if (deadline == NULL || ns < 0)
    return EINVAL;
  /* futures__deadline_in() saturates at FUTURES_FOREVER. */
  at = futures__deadline_in(ns);
  if (at == FUTURES_FOREVER ||
      (uintmax_t)(at / 1000000000LL) > (uintmax_t)TIME_T_MAX) {
    /* Too far to count: the largest timespec, which every timed call of
     * the library takes as for ever (see "Deadlines" in futures.h). */
    deadline->tv_sec = TIME_T_MAX;
    deadline->tv_nsec = 999999999L;
    return 0;
  }
  deadline->tv_sec = (time_t)(at / 1000000000LL);
  deadline->tv_nsec = (long)(at % 1000000000LL);
  return 0;
}
