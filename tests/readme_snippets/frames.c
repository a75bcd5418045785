/* SPDX-License-Identifier: MIT */
/* README snippet: fork-join on caller-owned frames (see seed.c for the
 * markers). */
#include <futures.h>
#include <stdint.h>
#include <stdio.h>

static long
fib_plain(long n)
{
  return n < 2 ? n : fib_plain(n - 1) + fib_plain(n - 2);
}

/* README: begin */
/* fib(n): spawn fib(n-1) on a frame in this stack, call fib(n-2), sync.
 * Unstolen, the pair costs about a function call; an idle worker may
 * steal the frame instead, and the sync then helps it until it is done. */
static int
fib(void *arg, void **result)
{
  long n = (long)(intptr_t)arg;
  futures_frame_t child;
  void *a, *b;
  int rc;

  if (n < 2) {
    *result = arg;
    return 0;
  }
  if ((rc = futures_spawn(&child, fib, (void *)(intptr_t)(n - 1))) != 0)
    return rc; /* EPERM: not inside a pool task */
  fib((void *)(intptr_t)(n - 2), &b);
  if ((rc = futures_sync(&child, &a)) != 0) /* newest frame first */
    return rc;
  *result = (void *)((intptr_t)a + (intptr_t)b);
  return 0;
}
/* README: end */

int
main(void)
{
  futures_pool_t *pool;
  future_t *f;
  void *r = NULL;
  int ok = 1;

  /* README: begin */
  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  /* Frames work only inside a pool task: the root call is one. */
  if (futures_submit(pool, fib, (void *)(intptr_t)30, &f) != 0 ||
      future_get(f, &r) != 0)
    return 1;
  printf("fib(30) = %ld\n", (long)(intptr_t)r);
  /* README: end */
  ok &= (long)(intptr_t)r == fib_plain(30);
  future_release(f);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
