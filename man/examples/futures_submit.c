/* SPDX-License-Identifier: MIT */
/*
 * futures_submit(): split a sum over an array into four tasks, one future
 * each, and add up their results as they are awaited. Each task gets its
 * own argument struct, which must outlive the task.
 */
#include <futures.h>
#include <stdio.h>

#define N 1000000
#define PARTS 4

struct slice {
  const int *data;
  size_t len;
  long long sum;
};

static int
sum_slice(void *arg, void **result)
{
  struct slice *s = arg;

  s->sum = 0;
  for (size_t i = 0; i < s->len; i++)
    s->sum += s->data[i];
  *result = &s->sum;
  return 0;
}

static int data[N];

int
main(void)
{
  futures_pool_t *pool;
  future_t *parts[PARTS];
  struct slice slices[PARTS];
  long long total = 0;
  int rc;

  for (size_t i = 0; i < N; i++)
    data[i] = (int)(i % 10);
  if ((rc = futures_pool_create(&pool, 0)) != 0) {
    fprintf(stderr, "futures_pool_create: error %d\n", rc);
    return 1;
  }
  for (size_t p = 0; p < PARTS; p++) {
    slices[p].data = data + p * (N / PARTS);
    slices[p].len = N / PARTS;
    rc = futures_submit(pool, sum_slice, &slices[p], &parts[p]);
    if (rc != 0) {
      fprintf(stderr, "futures_submit: error %d\n", rc);
      return 1; /* a real program would also release parts[0..p-1] */
    }
  }
  for (size_t p = 0; p < PARTS; p++) {
    void *r;

    if (future_get(parts[p], &r) == 0)
      total += *(long long *)r;
    future_release(parts[p]);
  }
  printf("sum = %lld\n", total); /* 4500000 */
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
