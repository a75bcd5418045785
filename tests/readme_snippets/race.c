/* SPDX-License-Identifier: MIT */
/* README snippet: race and first success (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct reply {
  long ms;  /* answers after this long */
  int code; /* with this code (0: success) */
  const char *text;
};

static int
answer(void *arg, void **result)
{
  const struct reply *r = arg;
  struct timespec d = { 0, r->ms * 1000000L };

  nanosleep(&d, NULL);
  *result = (void *)r->text;
  return r->code;
}

int
main(void)
{
  struct reply replies[3] = { { 300, 0, "slow" },
                              { 10, ECONNREFUSED, "refused" },
                              { 60, 0, "fast" } };
  futures_pool_t *pool;
  future_t *f[3];
  int ok = 1;

  if (futures_pool_create(&pool, 3) != 0)
    return 1;
  for (int i = 0; i < 3; i++)
    if (futures_submit(pool, answer, &replies[i], &f[i]) != 0)
      return 1;
  /* README: begin */
  size_t i;
  void *value;
  int rc, codes[3];

  /* Promise.race: the first to finish, success or not. */
  rc = futures_join_any(f, 3, &i, &value);
  printf("race: future %zu finished first, code %d\n", i, rc);

  /* Promise.any: the first to succeed; ENOENT if all fail, with codes[]. */
  rc = futures_join_any_ok(f, 3, &i, &value, codes);
  if (rc == 0)
    printf("any: future %zu succeeded with %s\n", i, (char *)value);
  /* README: end */
  ok &= rc == 0 && i == 2 && strcmp(value, "fast") == 0;
  futures_join_all(f, 3, NULL);
  for (int k = 0; k < 3; k++)
    future_release(f[k]);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
