/* SPDX-License-Identifier: MIT */
/* README snippet: nested waits, fork-join (see seed.c for the markers). */
#include <futures.h>
#include <stdio.h>

#define N 100000
static int data[N];

/* README: begin */
struct range {
  futures_pool_t *pool;
  const int *v;
  size_t lo, hi;
  long long sum;
};

/* Sums v[lo, hi): splits in two, submits one half as a sub-task, sums
 * the other itself, then waits for the sub-task from inside the pool. */
static int
sum_task(void *arg, void **result)
{
  struct range *r = arg, left = *r, right = *r;
  future_t *f;
  int rc;

  (void)result;
  if (r->hi - r->lo <= 1000) {
    r->sum = 0;
    for (size_t i = r->lo; i < r->hi; i++)
      r->sum += r->v[i];
    return 0;
  }
  left.hi = right.lo = r->lo + (r->hi - r->lo) / 2;
  if ((rc = futures_submit(r->pool, sum_task, &left, &f)) != 0) /* fork */
    return rc;
  sum_task(&right, NULL);
  rc = future_get(f, NULL); /* join: runs `left` itself if not started */
  future_release(f);
  r->sum = left.sum + right.sum;
  return rc;
}
/* README: end */

int
main(void)
{
  futures_pool_t *pool;
  future_t *f;
  int ok = 1;

  for (size_t i = 0; i < N; i++)
    data[i] = (int)(i % 7);
  /* README: begin */
  if (futures_pool_create(&pool, 1) != 0) /* even one worker is enough */
    return 1;
  struct range all = { pool, data, 0, N, 0 };
  if (futures_submit(pool, sum_task, &all, &f) != 0 ||
      future_get(f, NULL) != 0)
    return 1;
  printf("sum = %lld\n", all.sum);
  /* README: end */
  long long expect = 0;
  for (size_t i = 0; i < N; i++)
    expect += data[i];
  ok &= all.sum == expect;
  future_release(f);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
