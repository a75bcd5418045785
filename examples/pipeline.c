/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c - a pipeline of continuations, like promise.then().then().
 *
 * Each input goes through three stages: read -> parse -> scale. Only the
 * first stage is submitted; each later stage is attached to the previous
 * future with futures_then() and runs when that one finishes, receiving
 * its code and result. A stage that gets a failure passes it on unchanged,
 * so an error anywhere arrives at the end of the chain, as a rejected
 * promise does. A last "catch" stage turns a failure into a fallback value
 * for the inputs that want one. futures_join_all_settled() then waits for
 * the end of every chain and reports each outcome.
 *
 * Build: cc pipeline.c $(pkg-config --cflags --libs futures)
 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NINPUTS 4

struct input {
  const char *text;  /* what the read stage "reads" */
  int fallback;      /* 1: the chain ends with a catch stage */
};

/* Stage 1, a task: hands the raw text on (or fails on an empty one). */
static int
read_stage(void *arg, void **result)
{
  const struct input *in = arg;

  if (in->text[0] == '\0')
    return ENODATA;
  *result = (void *)in->text;
  return 0;
}

/* Stage 2, a continuation: text -> number. */
static int
parse_stage(void *arg, int code, void *value, void **result)
{
  char *end;
  long v;

  (void)arg;
  if (code != 0)
    return code; /* propagate the failure down the chain */
  v = strtol(value, &end, 10);
  if (*end != '\0')
    return EBADMSG; /* not a number */
  *result = (void *)(intptr_t)v;
  return 0;
}

/* Stage 3, a continuation: number -> number x factor. */
static int
scale_stage(void *arg, int code, void *value, void **result)
{
  intptr_t factor = (intptr_t)arg;

  if (code != 0)
    return code;
  *result = (void *)((intptr_t)value * factor);
  return 0;
}

/* The catch stage: a failure becomes the fallback value -1. */
static int
catch_stage(void *arg, int code, void *value, void **result)
{
  (void)arg;
  *result = code == 0 ? value : (void *)(intptr_t)-1;
  return 0;
}

/* Builds one chain; returns its last future in *end, or an error. */
static int
build_chain(futures_pool_t *pool, struct input *in, future_t **end)
{
  future_t *f, *next;
  int rc;

  if ((rc = futures_submit(pool, read_stage, in, &f)) != 0)
    return rc;
  /* Each link is attached to the previous future, which can be released
   * right away: the continuation holds what it needs. */
  if ((rc = futures_then(pool, f, parse_stage, NULL, &next)) != 0)
    goto out;
  future_release(f);
  f = next;
  if ((rc = futures_then(pool, f, scale_stage, (void *)(intptr_t)10,
                         &next)) != 0)
    goto out;
  future_release(f);
  f = next;
  if (in->fallback) {
    if ((rc = futures_then(pool, f, catch_stage, NULL, &next)) != 0)
      goto out;
    future_release(f);
    f = next;
  }
  *end = f;
  return 0;
out:
  future_release(f);
  return rc;
}

int
main(void)
{
  struct input inputs[NINPUTS] = {
    { "4", 0 }, { "forty-two", 0 }, { "", 0 }, { "x7", 1 }
  };
  future_t *ends[NINPUTS];
  futures_outcome_t out[NINPUTS];
  futures_pool_t *pool;
  int rc;

  if ((rc = futures_pool_create(&pool, 0)) != 0) {
    fprintf(stderr, "futures_pool_create: %s\n", strerror(rc));
    return 1;
  }
  for (int i = 0; i < NINPUTS; i++)
    if ((rc = build_chain(pool, &inputs[i], &ends[i])) != 0) {
      fprintf(stderr, "chain %d: %s\n", i, strerror(rc));
      return 1;
    }
  futures_join_all_settled(ends, NINPUTS, out);
  for (int i = 0; i < NINPUTS; i++) {
    if (out[i].code == 0)
      printf("\"%s\" -> %ld\n", inputs[i].text,
             (long)(intptr_t)out[i].result);
    else
      printf("\"%s\" -> error: %s\n", inputs[i].text,
             strerror(out[i].code));
    future_release(ends[i]);
  }
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
