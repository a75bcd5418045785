/* SPDX-License-Identifier: MIT */
/* README snippet: fail-fast join (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Runs until cancelled, then says so. */
static int
until_cancelled(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  (void)result;
  while (!futures_cancelled())
    nanosleep(&ms, NULL);
  return ECANCELED;
}

static int
fail_now(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EPROTO;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f[2];
  futures_outcome_t out[2];
  int ok = 1;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, until_cancelled, NULL, &f[0]) != 0 ||
      futures_submit(pool, fail_now, NULL, &f[1]) != 0)
    return 1;
  /* README: begin */
  size_t failed;
  int rc;

  /* Promise.all rejecting early: returns at the first failure... */
  rc = futures_join_all_failfast(f, 2, NULL, &failed);
  printf("future %zu failed: %s\n", failed, strerror(rc));
  /* ...while the others keep running: the caller still owns every
   * handle, and chooses to stop them and wait for the rest. */
  future_cancel(f[0]);
  futures_join_all_settled(f, 2, out);
  /* README: end */
  ok &= rc == EPROTO && failed == 1 && out[0].code == ECANCELED;
  future_release(f[0]);
  future_release(f[1]);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
