/* SPDX-License-Identifier: MIT */
/* README snippet: waiting with a deadline (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int gate_open;

/* Runs until open_gate() is called. */
static int
wait_for_gate(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  while (!atomic_load(&gate_open))
    nanosleep(&ms, NULL);
  *result = (void *)"done";
  return 0;
}

static void
open_gate(void)
{
  atomic_store(&gate_open, 1);
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f, *fs[1];
  int ok = 1, rc;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, wait_for_gate, NULL, &f) != 0)
    return 1;
  fs[0] = f;
  /* README: begin */
  struct timespec deadline;

  rc = future_wait_for(f, 20 * 1000000LL); /* at most 20 ms, relative */
  printf("after 20 ms: %s, ready %d\n", rc == ETIMEDOUT ? "ETIMEDOUT" : "0",
         future_is_ready(f)); /* future_is_ready() never blocks */

  /* Absolute deadlines are on CLOCK_MONOTONIC, as with
   * pthread_cond_clockwait(); futures_deadline_in() makes one, carry and
   * overflow handled. */
  futures_deadline_in(50 * 1000000LL, &deadline); /* 50 ms from now */
  rc = futures_join_all_until(fs, 1, NULL, &deadline); /* ETIMEDOUT too */
  ok &= rc == ETIMEDOUT;

  open_gate();
  deadline.tv_sec += 10;
  rc = future_wait_until(f, &deadline); /* 0: finished in time */
  /* README: end */
  ok &= rc == 0 && future_is_ready(f) && future_get(f, NULL) == 0;
  future_release(f);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
