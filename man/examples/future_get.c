/* SPDX-License-Identifier: MIT */
/*
 * future_get(): wait for one task and read its outcome. A task reports
 * failure by returning an <errno.h> code, which future_get() hands back.
 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Squares its argument; refuses numbers whose square would not fit. */
static int
square(void *arg, void **result)
{
  uintptr_t n = (uintptr_t)arg;

  if (n > 0xffff)
    return ERANGE;
  *result = (void *)(n * n);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *small, *large;
  void *value;
  int rc;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, square, (void *)12, &small) != 0)
    return 1;
  if (futures_submit(pool, square, (void *)100000, &large) != 0)
    return 1;

  rc = future_get(small, &value);
  printf("square(12): code %d, value %lu\n", rc,
         (unsigned long)(uintptr_t)value);
  rc = future_get(large, &value);
  printf("square(100000): code %d (%s)\n", rc, strerror(rc));

  /* Asking again returns the same outcome without waiting. */
  rc = future_get(small, &value);
  printf("again: code %d, value %lu\n", rc, (unsigned long)(uintptr_t)value);

  future_release(small);
  future_release(large);
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
