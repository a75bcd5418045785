/* SPDX-License-Identifier: MIT */
/* README snippet: settle-all (see seed.c for the markers). */
#include <errno.h>
#include <futures.h>
#include <stdio.h>
#include <string.h>

/* Succeeds with its argument, or fails with EIO when it is NULL. */
static int
maybe(void *arg, void **result)
{
  if (arg == NULL)
    return EIO;
  *result = arg;
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f[3];
  int ok = 1;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, maybe, (void *)"a", &f[0]) != 0 ||
      futures_submit(pool, maybe, NULL, &f[1]) != 0 ||
      futures_submit(pool, maybe, (void *)"c", &f[2]) != 0)
    return 1;
  /* README: begin */
  futures_outcome_t out[3];

  /* Promise.allSettled: waits for all three, whatever their outcomes. */
  futures_join_all_settled(f, 3, out);
  for (int i = 0; i < 3; i++)
    if (out[i].code == 0)
      printf("%d: fulfilled with %s\n", i, (char *)out[i].result);
    else
      printf("%d: rejected with %s\n", i, strerror(out[i].code));
  /* README: end */
  ok &= out[0].code == 0 && out[1].code == EIO && out[2].code == 0;
  for (int i = 0; i < 3; i++)
    future_release(f[i]);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
