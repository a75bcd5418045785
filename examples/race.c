/* SPDX-License-Identifier: MIT */
/*
 * race.c - the first to finish, the first to succeed, and a parallel loop.
 *
 *   futures_join_any()     Promise.race: the index of the first future to
 *                          finish, whatever its outcome.
 *   futures_join_any_ok()  Promise.any: the first success; ENOENT, with
 *                          every future's own code, when all of them fail.
 *   futures_parallel_for() run a function over an index range in chunks,
 *                          as one future.
 *
 * The simulated mirrors poll futures_cancelled() while they wait, so the
 * losers of a race can be stopped with future_cancel(). Note that a thread
 * waiting in futures_join_any() or futures_join_any_ok() may run one of
 * the racers itself if no worker has picked it up yet, and then returns
 * only after that one too; futures_join_any_until() never runs a task in
 * the caller, so use it when the answer must come as soon as it exists.
 *
 * Build: cc race.c $(pkg-config --cflags --libs futures)
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NMIRRORS 3

struct mirror {
  const char *name;
  long latency_ms; /* time to answer */
  int fails;       /* answers with ECONNREFUSED instead of data */
};

static int
ask_mirror(void *arg, void **result)
{
  struct mirror *m = arg;
  struct timespec step = { 0, 5 * 1000000L };

  for (long waited = 0; waited < m->latency_ms; waited += 5) {
    if (futures_cancelled())
      return ECANCELED;
    nanosleep(&step, NULL);
  }
  if (m->fails)
    return ECONNREFUSED;
  *result = (void *)m->name;
  return 0;
}

static int
submit_mirrors(futures_pool_t *pool, struct mirror *m, future_t **f)
{
  for (int i = 0; i < NMIRRORS; i++) {
    int rc = futures_submit(pool, ask_mirror, &m[i], &f[i]);

    if (rc != 0) {
      while (i-- > 0)
        future_release(f[i]);
      return rc;
    }
  }
  return 0;
}

/* Stops the losers and drops every handle. */
static void
finish(future_t **f)
{
  for (int i = 0; i < NMIRRORS; i++)
    future_cancel(f[i]);
  futures_join_all(f, NMIRRORS, NULL);
  for (int i = 0; i < NMIRRORS; i++)
    future_release(f[i]);
}

static int
race(futures_pool_t *pool)
{
  struct mirror m[NMIRRORS] = {
    { "slow mirror", 600, 0 }, { "fast mirror", 20, 0 }, { "medium mirror", 300, 0 }
  };
  future_t *f[NMIRRORS];
  size_t winner;
  void *answer;
  int rc;

  if ((rc = submit_mirrors(pool, m, f)) != 0)
    return rc;
  rc = futures_join_any(f, NMIRRORS, &winner, &answer);
  if (rc == 0)
    printf("race: mirror %zu won: %s\n", winner, (const char *)answer);
  else
    printf("race: mirror %zu finished first, failing: %s\n", winner,
           strerror(rc));
  finish(f);
  return 0;
}

static int
first_success(futures_pool_t *pool, int all_fail)
{
  struct mirror m[NMIRRORS] = {
    { "primary", 10, 1 }, { "secondary", 60, all_fail }, { "tertiary", 300, all_fail }
  };
  future_t *f[NMIRRORS];
  int codes[NMIRRORS];
  size_t first;
  void *answer;
  int rc;

  if ((rc = submit_mirrors(pool, m, f)) != 0)
    return rc;
  rc = futures_join_any_ok(f, NMIRRORS, &first, &answer, codes);
  if (rc == 0) {
    printf("any: mirror %zu answered first: %s\n", first,
           (const char *)answer);
  } else if (rc == ENOENT) {
    printf("any: every mirror failed:");
    for (int i = 0; i < NMIRRORS; i++)
      printf(" [%d] %s%s", i, strerror(codes[i]),
             i + 1 < NMIRRORS ? ";" : "\n");
  } else {
    printf("any: error: %s\n", strerror(rc));
  }
  finish(f);
  return 0;
}

/* parallel_for: one chunk of sum(i * i), written to its own slot. */
#define RANGE 1000000
#define GRAIN 50000
static unsigned long long partial[RANGE / GRAIN];

static int
square_chunk(void *arg, size_t begin, size_t end)
{
  unsigned long long s = 0;

  (void)arg;
  for (size_t i = begin; i < end; i++)
    s += (unsigned long long)i * i;
  partial[begin / GRAIN] = s; /* chunks never share a slot */
  return 0;
}

static int
sum_of_squares(futures_pool_t *pool)
{
  unsigned long long total = 0;
  future_t *f;
  int rc;

  if ((rc = futures_parallel_for(pool, 0, RANGE, GRAIN, square_chunk, NULL,
                                 &f)) != 0)
    return rc;
  rc = future_get(f, NULL); /* the waiter runs chunks too */
  future_release(f);
  if (rc != 0)
    return rc;
  for (size_t c = 0; c < RANGE / GRAIN; c++)
    total += partial[c];
  printf("parallel_for: sum of i*i for i < %d = %llu\n", RANGE, total);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  int rc;

  /* One worker per mirror, so every request is in flight at once. */
  if ((rc = futures_pool_create(&pool, NMIRRORS)) != 0) {
    fprintf(stderr, "futures_pool_create: %s\n", strerror(rc));
    return 1;
  }
  if ((rc = race(pool)) != 0 || (rc = first_success(pool, 0)) != 0 ||
      (rc = first_success(pool, 1)) != 0 || (rc = sum_of_squares(pool)) != 0)
    fprintf(stderr, "error: %s\n", strerror(rc));
  if (futures_pool_destroy(pool) != 0)
    return 1;
  return rc == 0 ? 0 : 1;
}
