/* SPDX-License-Identifier: MIT */
/* README snippet: backpressure (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int started, gate_open;

static int
hold(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  (void)result;
  atomic_fetch_add(&started, 1);
  while (!atomic_load(&gate_open))
    nanosleep(&ms, NULL);
  return 0;
}

static int
quick(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return 0;
}

/* A 1-worker pool with room for one queued task, its worker busy and its
 * queue full: the next submit overflows. */
static futures_pool_t *
full_pool(int policy, future_t **held, future_t **queued)
{
  struct timespec ms = { 0, 1000000L };
  int want = atomic_load(&started) + 1;
  futures_pool_t *pool;

  /* README: begin */
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;

  opts.nthreads = 1;
  opts.max_queued = 1;    /* at most one task waiting to start */
  opts.overflow = policy; /* FUTURES_OVERFLOW_FAIL, _BLOCK or _CALLER_RUNS */
  if (futures_pool_create_ex(&pool, &opts) != 0)
    return NULL;
  /* README: end */
  if (futures_submit(pool, hold, NULL, held) != 0)
    return NULL;
  while (atomic_load(&started) < want) /* the worker holds it */
    nanosleep(&ms, NULL);
  if (futures_submit(pool, quick, NULL, queued) != 0)
    return NULL;
  return pool;
}

int
main(void)
{
  future_t *held[3], *queued[3], *f = NULL, *g = NULL, *h = NULL;
  futures_pool_t *fail_pool, *block_pool, *caller_pool;
  struct timespec deadline;
  int ok = 1, rc1, rc2, rc3;

  fail_pool = full_pool(FUTURES_OVERFLOW_FAIL, &held[0], &queued[0]);
  block_pool = full_pool(FUTURES_OVERFLOW_BLOCK, &held[1], &queued[1]);
  caller_pool = full_pool(FUTURES_OVERFLOW_CALLER_RUNS, &held[2], &queued[2]);
  if (!fail_pool || !block_pool || !caller_pool)
    return 1;
  /* README: begin */
  /* Three such pools, one per policy; in each, the worker is busy and one
   * task already waits. One more submit: */
  rc1 = futures_submit(fail_pool, quick, NULL, &f); /* EAGAIN at once */

  futures_task_t t = FUTURES_TASK(quick, NULL, NULL);
  futures_deadline_in(20 * 1000000LL, &deadline); /* 20 ms to find room */
  rc2 = futures_submit_ex(block_pool, &t, &deadline, &g); /* ETIMEDOUT */

  rc3 = futures_submit(caller_pool, quick, NULL, &h); /* 0: ran right here */
  printf("fail: %s; block: %s; caller runs: %d (ready %d)\n",
         futures_strerror(rc1), futures_strerror(rc2), rc3,
         future_is_ready(h));
  /* README: end */
  ok &= rc1 == EAGAIN && f == NULL && rc2 == ETIMEDOUT && g == NULL &&
        rc3 == 0 && future_is_ready(h);
  future_release(h);
  atomic_store(&gate_open, 1);
  for (int i = 0; i < 3; i++) {
    future_release(held[i]);
    future_release(queued[i]);
  }
  ok &= futures_pool_destroy(fail_pool) == 0;
  ok &= futures_pool_destroy(block_pool) == 0;
  ok &= futures_pool_destroy(caller_pool) == 0;
  return ok ? 0 : 1;
}
