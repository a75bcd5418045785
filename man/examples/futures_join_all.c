/* SPDX-License-Identifier: MIT */
/*
 * futures_join_all(): the C form of `await Promise.all([a, b])`. Two tasks
 * that sleep 200 ms and 100 ms finish together in about 200 ms, and every
 * result arrives in its slot.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <futures.h>
#include <stdio.h>
#include <time.h>

struct job {
  long ms;
  const char *name;
};

static int
nap(void *arg, void **result)
{
  struct job *j = arg;
  struct timespec ts = { j->ms / 1000, (j->ms % 1000) * 1000000L };

  nanosleep(&ts, NULL);
  *result = (void *)j->name;
  return 0;
}

static double
now_ms(void)
{
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int
main(void)
{
  struct job jobs[2] = { { 200, "first" }, { 100, "second" } };
  futures_pool_t *pool;
  future_t *fs[2];
  void *results[2];
  double t0;
  int rc;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  t0 = now_ms();
  for (int i = 0; i < 2; i++)
    if (futures_submit(pool, nap, &jobs[i], &fs[i]) != 0)
      return 1;
  rc = futures_join_all(fs, 2, results); /* 0, or the first failure */
  printf("join_all: code %d after %.0f ms: [%s, %s]\n", rc, now_ms() - t0,
         (const char *)results[0], (const char *)results[1]);
  for (int i = 0; i < 2; i++)
    future_release(fs[i]);
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
