/* SPDX-License-Identifier: MIT */
/*
 * fetch_deadline.c - fetch N things in parallel, give up on the slow ones.
 *
 * Six "sources" answer after different (simulated) latencies. All are
 * started at once; futures_join_all_until() waits until every one has
 * answered or a deadline passes, whichever comes first. Sources that have
 * not answered by then are cancelled with future_cancel(): a task that has
 * not started never runs, and a running one sees futures_cancelled() turn
 * to 1 and stops early. futures_join_all_settled() then collects every
 * source's own outcome, like Promise.allSettled().
 *
 * Build: cc fetch_deadline.c $(pkg-config --cflags --libs futures)
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NSOURCES 6
#define DEADLINE_MS 300

struct source {
  int id;
  long latency_ms; /* how long this source takes to answer */
  char reply[32];
};

/* Simulates a request: waits in 5 ms steps, giving up when cancelled. */
static int
fetch(void *arg, void **result)
{
  struct source *s = arg;
  struct timespec step = { 0, 5 * 1000000L };

  for (long waited = 0; waited < s->latency_ms; waited += 5) {
    if (futures_cancelled())
      return ECANCELED;
    nanosleep(&step, NULL);
  }
  snprintf(s->reply, sizeof s->reply, "reply from source %d", s->id);
  *result = s->reply;
  return 0;
}

static double
now_ms(void)
{
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int
main(void)
{
  static const long latency[NSOURCES] = { 40, 900, 90, 10, 1200, 60 };
  struct source src[NSOURCES];
  future_t *f[NSOURCES];
  futures_outcome_t out[NSOURCES];
  futures_pool_t *pool;
  struct timespec deadline;
  double t0;
  int rc, ready = 0;

  /* One worker per source: they spend their time waiting, not computing. */
  if ((rc = futures_pool_create(&pool, NSOURCES)) != 0) {
    fprintf(stderr, "futures_pool_create: %s\n", futures_strerror(rc));
    return 1;
  }
  t0 = now_ms();
  for (int i = 0; i < NSOURCES; i++) {
    src[i].id = i;
    src[i].latency_ms = latency[i];
    if ((rc = futures_submit(pool, fetch, &src[i], &f[i])) != 0) {
      fprintf(stderr, "futures_submit: %s\n", futures_strerror(rc));
      return 1;
    }
  }
  printf("fetching %d sources, deadline %d ms\n", NSOURCES, DEADLINE_MS);

  /* Deadlines are absolute times on CLOCK_MONOTONIC. */
  futures_deadline_in(DEADLINE_MS * 1000000LL, &deadline);
  rc = futures_join_all_until(f, NSOURCES, NULL, &deadline);
  if (rc == ETIMEDOUT) {
    for (int i = 0; i < NSOURCES; i++)
      ready += future_is_ready(f[i]);
    printf("deadline passed: %d of %d answered\n", ready, NSOURCES);
    for (int i = 0; i < NSOURCES; i++)
      if (!future_is_ready(f[i])) {
        /* 0: it never started; EINPROGRESS: it was asked to stop;
         * EALREADY: it answered just now. Each is fine here. */
        rc = future_cancel(f[i]);
        printf("cancelling source %d\n", i);
      }
  }

  /* Every future has a final state now, or soon: collect them all. */
  futures_join_all_settled(f, NSOURCES, out);
  for (int i = 0; i < NSOURCES; i++) {
    if (out[i].code == 0)
      printf("source %d: %s\n", i, (const char *)out[i].result);
    else
      printf("source %d: failed: %s\n", i, futures_strerror(out[i].code));
    future_release(f[i]);
  }
  printf("done in %.0f ms\n", now_ms() - t0);
  return futures_pool_destroy(pool) == 0 ? 0 : 1;
}
