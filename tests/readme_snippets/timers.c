/* SPDX-License-Identifier: MIT */
/*
 * README snippet: the seed's wait(ms) as a timer future, continuations on
 * any future (on a pool, or inline), and a continuation that returns a
 * future for its result to follow (see seed.c for the markers).
 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MS 1000000LL

/* README: begin */
/* async function task1() { await wait(1000); return "Task 1 done"; } */
static int
say(void *arg, int code, void *value, void **result)
{
  (void)value;
  *result = arg; /* "Task 1 done" */
  return code;   /* ECANCELED if the timer was cancelled */
}

/* .then(v => wait(v)): return a future, and the result follows it. */
static int
wait_again(void *arg, int code, void *value, void **result)
{
  (void)value;
  if (code != 0)
    return code;
  if (futures_after(arg, 10 * MS, (future_t **)result) != 0)
    return ENOMEM;
  return FUTURES_FOLLOW; /* *result's reference passes to the library */
}
/* README: end */

int
main(void)
{
  static char msg1[] = "Task 1 done", msg2[] = "Task 2 done";
  futures_pool_t *pool;
  future_t *w1, *w2, *fs[2], *chain, *twice;
  void *results[2] = {NULL, NULL}, *v = NULL;
  int ok = 1, rc;

  if (futures_pool_create(&pool, 1) != 0) /* one worker is enough */
    return 1;
  /* README: begin */
  /* wait(1000) and wait(500): each a timer, holding no worker. */
  if (futures_after(pool, 100 * MS, &w1) != 0 ||
      futures_after(pool, 50 * MS, &w2) != 0)
    return 1;
  if (futures_then(pool, w1, say, msg1, &fs[0]) != 0 || /* on the pool */
      futures_then_inline(w2, say, msg2, &fs[1]) != 0)  /* in the timer thread */
    return 1;
  rc = futures_join_all(fs, 2, results); /* Promise.all: about 100 ms */
  printf("%s, %s\n", (char *)results[0], (char *)results[1]);

  if (futures_then_inline(w1, wait_again, pool, &chain) != 0) /* settled: runs now */
    return 1;
  rc |= future_get(chain, &v); /* 10 ms later, as the inner timer did */
  /* README: end */
  ok &= rc == 0 && strcmp(results[0], msg1) == 0 &&
        strcmp(results[1], msg2) == 0 && v == NULL;
  if (futures_after(pool, 1000 * 1000 * MS, &twice) != 0)
    return 1;
  ok &= future_cancel(twice) == 0 && future_get(twice, NULL) == ECANCELED;
  future_release(twice);
  future_release(chain);
  for (int i = 0; i < 2; i++)
    future_release(fs[i]);
  future_release(w1);
  future_release(w2);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
