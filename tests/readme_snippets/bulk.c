/* SPDX-License-Identifier: MIT */
/* README snippet: bulk submit and parallel_for (see seed.c). */
#include <futures.h>
#include <stdint.h>
#include <stdio.h>

#define N 8
static double x[1000000];

static int
plus_one(void *arg, void **result)
{
  *result = (void *)((intptr_t)arg + 1);
  return 0;
}

/* README: begin */
/* One chunk of a loop: the indices [begin, end). */
static int
scale_chunk(void *arg, size_t begin, size_t end)
{
  double k = *(double *)arg;

  for (size_t i = begin; i < end; i++)
    x[i] *= k;
  return 0;
}
/* README: end */

int
main(void)
{
  futures_pool_t *pool;
  futures_task_t tasks[N];
  future_t *f[N], *loop = NULL;
  void *r[N];
  double k = 2.0;
  int ok = 1, rc;

  if (futures_pool_create(&pool, 0) != 0)
    return 1;
  for (size_t i = 0; i < 1000000; i++)
    x[i] = 1.0;
  /* README: begin */
  /* Promise.all over an array built in one go: all N queued with a single
   * wake-up, or none (then every f[i] is NULL). */
  for (int i = 0; i < N; i++)
    tasks[i] = (futures_task_t)FUTURES_TASK(plus_one, (void *)(intptr_t)i, NULL);
  rc = futures_submit_all(pool, tasks, N, f);
  rc = rc ? rc : futures_join_all(f, N, r);

  /* A loop over [0, 1000000) in chunks of 10000, as one future; the
   * waiting thread runs chunks too. */
  rc = rc ? rc : futures_parallel_for(pool, 0, 1000000, 10000, scale_chunk,
                                      &k, &loop);
  rc = rc ? rc : future_get(loop, NULL);
  /* README: end */
  ok &= rc == 0 && (intptr_t)r[N - 1] == N && x[0] == 2.0 && x[999999] == 2.0;
  for (int i = 0; i < N; i++)
    future_release(f[i]);
  future_release(loop);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
