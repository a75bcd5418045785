/* SPDX-License-Identifier: MIT */
/*
 * Latencies of completion that reaches a waiter with no task in between:
 *
 *   loop_roundtrip  an event-loop thread submits one empty task, watches
 *                   its future with a notifier and poll()s the notifier's
 *                   descriptor until the tag arrives; each submit-to-take
 *                   is timed (libuv's uv_queue_work + after_work_cb is the
 *                   same trip: the peers' bench_uv W3);
 *   promise_wake    a thread asleep in future_get() on a promise; another
 *                   resolves it; timed from just before future_resolve()
 *                   to the waiter's return;
 *   notifier_wake   a thread asleep in poll() on a notifier that watches a
 *                   promise; another resolves it; timed from just before
 *                   future_resolve() to poll()'s return.
 *
 * In the two wake modes the settler gives the waiter --sleep-us to fall
 * asleep (past the library's 20 us spin) before it settles, so what is
 * measured is the wake of a sleeping thread. Each rep reports the median
 * and the 99th percentile over --n trips; the table shows the median and
 * range of those over --reps.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "futures.h"

static int
empty_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* ------------------------------------------------------------ loop */

static void
loop_roundtrip(futures_pool_t *pool, long n, long long *lat)
{
  futures_notifier_t *nt;

  BU_CHECK(futures_notifier_create(&nt));
  for (long i = 0; i < n; i++) {
    struct pollfd pf = {futures_notifier_fd(nt), POLLIN, 0};
    long long t0 = bu_now_ns();
    future_t *f;
    void *tag = NULL;

    BU_CHECK(futures_submit(pool, empty_task, NULL, &f));
    BU_CHECK(futures_notifier_watch(nt, f, f));
    while (futures_notifier_take(nt, &tag, 1) == 0)
      if (poll(&pf, 1, -1) < 0)
        bu_die("poll failed");
    lat[i] = bu_now_ns() - t0;
    if (tag != f)
      bu_die("trip %ld: wrong tag", i);
    future_release(f);
  }
  futures_notifier_destroy(nt);
}

/* ------------------------------------------------------------ wakes */

struct wake {
  int use_notifier;
  long n;
  long long sleep_ns;
  future_t *p;                /* this trip's promise */
  atomic_long armed;          /* trip i: the waiter is about to wait */
  atomic_long woke;           /* trip i: the waiter has returned */
  _Atomic(long long) t0, t1;  /* settle and wake times of the trip */
  futures_notifier_t *nt;
};

static void *
waiter_main(void *arg)
{
  struct wake *w = arg;

  for (long i = 0; i < w->n; i++) {
    /* The settler made trip i's promise before arming it. */
    while (atomic_load(&w->armed) != i + 1)
      sched_yield();
    if (w->use_notifier) {
      struct pollfd pf = {futures_notifier_fd(w->nt), POLLIN, 0};
      void *tag;

      if (poll(&pf, 1, -1) < 0)
        bu_die("poll failed");
      atomic_store(&w->t1, bu_now_ns());
      while (futures_notifier_take(w->nt, &tag, 1) == 0)
        ;
    } else {
      BU_CHECK(future_get(w->p, NULL));
      atomic_store(&w->t1, bu_now_ns());
    }
    atomic_store(&w->woke, i + 1);
  }
  return NULL;
}

static void
wake_trips(int use_notifier, long n, long long sleep_ns, long long *lat)
{
  struct wake w;
  pthread_t th;

  memset(&w, 0, sizeof(w));
  w.use_notifier = use_notifier;
  w.n = n;
  w.sleep_ns = sleep_ns;
  if (use_notifier)
    BU_CHECK(futures_notifier_create(&w.nt));
  if (pthread_create(&th, NULL, waiter_main, &w) != 0)
    bu_die("pthread_create failed");
  for (long i = 0; i < n; i++) {
    future_t *p;

    BU_CHECK(futures_promise_create(&p));
    if (use_notifier)
      BU_CHECK(futures_notifier_watch(w.nt, p, p));
    w.p = p;
    atomic_store(&w.armed, i + 1);
    bu_sleep_ns(sleep_ns); /* the waiter falls asleep */
    atomic_store(&w.t0, bu_now_ns());
    BU_CHECK(future_resolve(p, NULL));
    /* Yield, not spin: a spinning settler would hold the CPU the
     * woken waiter is placed on until its time slice ends. */
    while (atomic_load(&w.woke) != i + 1)
      sched_yield();
    lat[i] = atomic_load(&w.t1) - atomic_load(&w.t0);
    future_release(p);
  }
  pthread_join(th, NULL);
  if (use_notifier)
    futures_notifier_destroy(w.nt);
}

/* ------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
  long n = 20000, reps = 5, threads = 2, sleep_us = 200, csv = 0;
  double timeout = 0;
  const char *mode = "all";
  const struct bu_opt opts[] = {
      {"n", BU_OPT_LONG, &n, "N", "trips per rep (wake modes: N / 10)", NULL},
      {"reps", BU_OPT_LONG, &reps, "R", "timed reps", NULL},
      {"threads", BU_OPT_LONG, &threads, "W", "pool workers (loop mode)",
       NULL},
      {"sleep-us", BU_OPT_LONG, &sleep_us, "US",
       "wake modes: time the waiter gets to fall asleep", NULL},
      {"mode", BU_OPT_STRING, &mode, "M",
       "loop, promise, notifier or all", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "CSV rows instead of a table", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "abort after S seconds (0: never), so a hang fails", NULL},
      {NULL, 0, NULL, NULL, NULL, NULL}};
  struct bu_report rep;
  futures_pool_t *pool;
  const char *names[3] = {"loop_roundtrip", "promise_wake", "notifier_wake"};
  char nbuf[32];

  bu_parse(argc, argv,
           "usage: event_latency [options]\n\n"
           "Completion delivered into an event loop (notifier) and wakes of\n"
           "threads asleep on a promise, in microseconds.",
           NULL, opts);
  if (n < 10 || reps < 1 || threads < 1 || sleep_us < 0)
    bu_die("bad options");
  bu_watchdog_start(timeout, 0);
  BU_CHECK(futures_pool_create(&pool, (size_t)threads));
  bu_report_init(&rep, "event_latency", (int)csv);
  snprintf(nbuf, sizeof(nbuf), "%ld", n);
  bu_header(&rep, "pool of --threads (loop); none (wakes)", nbuf, (int)reps,
            1);
  for (int m = 0; m < 3; m++) {
    long trips = m == 0 ? n : n / 10;
    long long *lat = malloc((size_t)trips * sizeof(*lat));
    double *med = calloc((size_t)reps, sizeof(double));
    double *p99 = calloc((size_t)reps, sizeof(double));

    if (strcmp(mode, "all") != 0 &&
        strncmp(mode, names[m], strlen(mode)) != 0)
      continue;
    if (!lat || !med || !p99)
      bu_die("out of memory");
    for (long r = -1; r < reps; r++) { /* r == -1: warm-up */
      if (m == 0)
        loop_roundtrip(pool, trips, lat);
      else
        wake_trips(m == 2, trips, sleep_us * 1000LL, lat);
      if (r < 0)
        continue;
      bu_sort_ll(lat, (size_t)trips);
      med[r] = bu_percentile_ll(lat, (size_t)trips, 50) / 1000.0;
      p99[r] = bu_percentile_ll(lat, (size_t)trips, 99) / 1000.0;
    }
    bu_row(&rep, names[m], "median_us", m == 0 ? threads : 0, trips, med,
           (size_t)reps, "us");
    bu_row(&rep, names[m], "p99_us", m == 0 ? threads : 0, trips, p99,
           (size_t)reps, "us");
    free(lat);
    free(med);
    free(p99);
  }
  BU_CHECK(futures_pool_destroy(pool));
  return 0;
}
