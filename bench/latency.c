/* SPDX-License-Identifier: MIT */
/*
 * W3, latency: on an idle pool, submit one task and future_get it, N times
 * in a row; each iteration (submit, get, release) is timed on its own. With
 * --idle-cpu, also the CPU an idle pool burns: after a burst of work, the
 * process's CPU time over some idle seconds (getrusage), in percent of one
 * core.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "futures.h"

static int
inc_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

/* N round trips; lat[i] is iteration i in ns. */
static void
round_trips(futures_pool_t *pool, long n, long long *lat)
{
  for (long i = 0; i < n; i++) {
    long long t0 = bu_now_ns();
    future_t *f;
    void *r;

    BU_CHECK(futures_submit(pool, inc_task, (void *)(uintptr_t)i, &f));
    BU_CHECK(future_get(f, &r));
    future_release(f);
    lat[i] = bu_now_ns() - t0;
    if ((uintptr_t)r != (uintptr_t)i + 1)
      bu_die("round trip %ld returned %p, expected %ld", i, r, i + 1);
  }
}

static void
measure(struct bu_report *rep, futures_pool_t *pool, long workers, long n,
        long reps, long warmup)
{
  long long *lat = malloc((size_t)n * sizeof(*lat));
  double *med = calloc((size_t)reps, sizeof(double));
  double *p99 = calloc((size_t)reps, sizeof(double));
  double *p999 = calloc((size_t)reps, sizeof(double));
  double *mean = calloc((size_t)reps, sizeof(double));
  double *max = calloc((size_t)reps, sizeof(double));
  double *cpu = calloc((size_t)reps, sizeof(double));
  futures_stats_t a = FUTURES_STATS_INIT, b = FUTURES_STATS_INIT;
  int ok_a, ok_b;

  if (!lat || !med || !p99 || !p999 || !mean || !max || !cpu)
    bu_die("out of memory");
  for (long w = 0; w < warmup; w++)
    round_trips(pool, n / 20 > 0 ? n / 20 : 1, lat);
  ok_a = futures_pool_stats(pool, &a);
  for (long r = 0; r < reps; r++) {
    double c0 = bu_cpu_seconds();
    long long t0 = bu_now_ns(), t;

    round_trips(pool, n, lat);
    t = bu_now_ns() - t0;
    /* Mean is wall time over N, so it includes the timer reads. */
    mean[r] = (double)t / 1e3 / (double)n;
    cpu[r] = (bu_cpu_seconds() - c0) / ((double)t / 1e9);
    bu_sort_ll(lat, (size_t)n);
    med[r] = (double)bu_percentile_ll(lat, (size_t)n, 50) / 1e3;
    p99[r] = (double)bu_percentile_ll(lat, (size_t)n, 99) / 1e3;
    p999[r] = (double)bu_percentile_ll(lat, (size_t)n, 99.9) / 1e3;
    max[r] = (double)lat[n - 1] / 1e3;
  }
  ok_b = futures_pool_stats(pool, &b);
  bu_row(rep, "W3", "median_us", workers, n, med, (size_t)reps, "us");
  bu_row(rep, "W3", "p99_us", workers, n, p99, (size_t)reps, "us");
  bu_row(rep, "W3", "p999_us", workers, n, p999, (size_t)reps, "us");
  bu_row(rep, "W3", "max_us", workers, n, max, (size_t)reps, "us");
  bu_row(rep, "W3", "mean_us", workers, n, mean, (size_t)reps, "us");
  bu_row(rep, "W3", "cpu_cores", workers, n, cpu, (size_t)reps, "cores");
  bu_row_stats(rep, "W3", workers, &a, ok_a, &b, ok_b);
  free(lat);
  free(med);
  free(p99);
  free(p999);
  free(mean);
  free(max);
  free(cpu);
}

/*
 * A burst (round trips, then a batch joined at once) wakes every worker;
 * then the process sleeps and getrusage says what the idle pool burnt.
 */
static void
idle_cpu(struct bu_report *rep, long workers, double secs)
{
  enum { BURST = 100000 };
  future_t **fs = malloc(BURST * sizeof(*fs));
  long long *lat = malloc(10000 * sizeof(*lat));
  futures_pool_t *pool;
  double cpu0, cpu1;
  long long t0, t1;

  if (fs == NULL || lat == NULL)
    bu_die("out of memory");
  BU_CHECK(futures_pool_create(&pool, (size_t)workers));
  round_trips(pool, 10000, lat);
  for (long i = 0; i < BURST; i++)
    BU_CHECK(futures_submit(pool, inc_task, (void *)(uintptr_t)i, &fs[i]));
  BU_CHECK(futures_join_all(fs, BURST, NULL));
  for (long i = 0; i < BURST; i++)
    future_release(fs[i]);
  t0 = bu_now_ns();
  cpu0 = bu_cpu_seconds();
  bu_sleep_ns((long long)(secs * 1e9));
  cpu1 = bu_cpu_seconds();
  t1 = bu_now_ns();
  bu_row1(rep, "W3_idle", "idle_cpu_pct", workers, 0,
          100.0 * (cpu1 - cpu0) / ((double)(t1 - t0) / 1e9), "% of a core");
  bu_row1(rep, "W3_idle", "idle_secs", workers, 0, (double)(t1 - t0) / 1e9,
          "s");
  BU_CHECK(futures_pool_destroy(pool));
  free(fs);
  free(lat);
}

static const char usage[] =
    "usage: latency [options]\n"
    "\n"
    "W3: on an idle pool, submit one task (returns arg + 1), future_get it\n"
    "and release it, N times in a row. Each iteration is timed; per run the\n"
    "median, p99, p99.9 and max of the N samples and the mean (wall / N)\n"
    "are taken, and the rows give median [min, max] of those over the runs.\n"
    "Percentiles are nearest-rank.\n"
    "cpu_cores is the process's CPU time over wall time (getrusage); on a\n"
    "VM whose host steals time, even a pure spin reads below 1.";

static const char epilog[] =
    "--idle-cpu then creates a fresh pool, runs a burst (10,000 round trips\n"
    "and 100,000 tasks joined at once), sleeps --idle-secs and reports the\n"
    "process's CPU use over that sleep in percent of one core.";

int
main(int argc, char **argv)
{
  struct bu_list threads = {0, NULL};
  long n = 100000, reps = 5, warmup = 1;
  int csv = 0, scaling = 0, idle = 0;
  double idle_secs = 5, timeout = 0;
  const struct bu_opt opts[] = {
      {"n", BU_OPT_LONG, &n, "N", "round trips per run (default 100000)", NULL},
      {"threads", BU_OPT_LIST, &threads, "LIST",
       "workers, e.g. 2 or 1,2,4 (default: one per CPU)", NULL},
      {"scaling", BU_OPT_FLAG, &scaling, NULL,
       "workers 1, 2, ... up to the number of CPUs", NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "timed runs (default 5)", NULL},
      {"warmup", BU_OPT_LONG, &warmup, "N",
       "untimed runs of N/20 round trips first (default 1)", NULL},
      {"idle-cpu", BU_OPT_FLAG, &idle, NULL,
       "also measure the CPU an idle pool uses", NULL},
      {"idle-secs", BU_OPT_DOUBLE, &idle_secs, "S",
       "idle period for --idle-cpu (default 5)", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
      {NULL, BU_OPT_FLAG, NULL, NULL, NULL, NULL}};
  struct bu_report rep;
  char wbuf[256], tbuf[32];

  if (bu_parse(argc, argv, usage, epilog, opts) != argc)
    bu_die("unexpected argument (try --help)");
  if (n < 1 || reps < 1 || warmup < 0 || idle_secs <= 0)
    bu_die("counts must be positive (try --help)");
  if (scaling)
    bu_list_range(&threads, (long)bu_online_cpus());
  else if (threads.n == 0)
    bu_list_one(&threads, (long)bu_online_cpus());
  for (size_t i = 0; i < threads.n; i++)
    if (threads.v[i] == 0)
      threads.v[i] = (long)bu_online_cpus();

  bu_watchdog_start(timeout, 0);
  bu_report_init(&rep, "latency", csv);
  snprintf(tbuf, sizeof(tbuf), "%ld round trips", n);
  bu_header(&rep, bu_list_str(&threads, wbuf, sizeof(wbuf)), tbuf, (int)reps,
            (int)warmup);
  for (size_t i = 0; i < threads.n; i++) {
    futures_pool_t *pool;

    BU_CHECK(futures_pool_create(&pool, (size_t)threads.v[i]));
    measure(&rep, pool, threads.v[i], n, reps, warmup);
    BU_CHECK(futures_pool_destroy(pool));
  }
  if (idle)
    for (size_t i = 0; i < threads.n; i++)
      idle_cpu(&rep, threads.v[i], idle_secs);
  bu_watchdog_stop();
  bu_list_free(&threads);
  return 0;
}
