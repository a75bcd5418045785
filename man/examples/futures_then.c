/* SPDX-License-Identifier: MIT */
/*
 * futures_then(): a continuation runs when its antecedent finishes and
 * receives the antecedent's code and result, like .then() receiving a
 * settled value. Here: parse a number, then double it; a parse failure
 * flows down the chain as an error code instead.
 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
parse(void *arg, void **result)
{
  char *end;
  long v = strtol(arg, &end, 10);

  if (*(const char *)arg == '\0' || *end != '\0')
    return EINVAL; /* not a number: the chain gets the code */
  *result = (void *)(intptr_t)v;
  return 0;
}

static int
twice(void *arg, int code, void *value, void **result)
{
  (void)arg;
  if (code != 0)
    return code; /* pass the failure on, as an unhandled rejection would */
  *result = (void *)((intptr_t)value * 2);
  return 0;
}

static void
run(futures_pool_t *pool, const char *text)
{
  future_t *parsed, *doubled;
  void *value;
  int rc;

  if (futures_submit(pool, parse, (void *)text, &parsed) != 0)
    return;
  if (futures_then(pool, parsed, twice, NULL, &doubled) != 0) {
    future_release(parsed);
    return;
  }
  future_release(parsed); /* the continuation still runs */
  rc = future_get(doubled, &value);
  if (rc == 0)
    printf("\"%s\" -> %ld\n", text, (long)(intptr_t)value);
  else
    printf("\"%s\" -> error: %s\n", text, strerror(rc));
  future_release(doubled);
}

int
main(void)
{
  futures_pool_t *pool;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  run(pool, "21");
  run(pool, "twenty-one");
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
