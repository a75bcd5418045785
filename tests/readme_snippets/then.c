/* SPDX-License-Identifier: MIT */
/*
 * README snippet: continuations (see seed.c for the markers; a file may
 * have several marked regions, shown one after another).
 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int
fetch_number(void *arg, void **result)
{
  *result = arg;
  return arg == NULL ? EIO : 0;
}

/* README: begin */
/* .then(v => v * 2) as a continuation: it receives the antecedent's code
 * and result; what it returns is the outcome of the new future. */
static int
double_it(void *arg, int code, void *value, void **result)
{
  (void)arg;
  if (code != 0)
    return code; /* a failure flows on down the chain */
  *result = (void *)((intptr_t)value * 2);
  return 0;
}
/* README: end */

int
main(void)
{
  futures_pool_t *pool;
  future_t *f, *g, *h;
  void *value;
  int ok = 1, rc;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, fetch_number, (void *)(intptr_t)21, &f) != 0)
    return 1;
  /* README: begin */
  if (futures_then(pool, f, double_it, NULL, &g) != 0 || /* f.then(...) */
      futures_then(pool, g, double_it, NULL, &h) != 0)    /*  .then(...) */
    return 1;
  future_release(f); /* the chain runs on without these handles */
  future_release(g);
  rc = future_get(h, &value);
  printf("code %d, value %ld\n", rc, (long)(intptr_t)value); /* 0, 84 */
  /* README: end */
  ok &= rc == 0 && (intptr_t)value == 84;
  future_release(h);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
