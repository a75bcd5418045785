/* SPDX-License-Identifier: MIT */
/*
 * W5, fine-grained tasks: N tasks of about 2 us of dependent integer
 * arithmetic each, one future per task, then futures_join_all. Parallel
 * efficiency = (N x single-task time / workers) / wall: 1.0 means the pool
 * added nothing to the work, spread perfectly over its workers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "futures.h"

/*
 * K steps of a 64-bit LCG (Knuth's MMIX constants); each step needs the one
 * before, and the empty asm stops the compiler from collapsing the loop, so
 * the time is linear in K. The same definition as the peers' SPIN_K loop.
 */
static uint64_t
spin(uint64_t x, long k)
{
  for (long i = 0; i < k; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    __asm__ __volatile__("" : "+r"(x));
  }
  return x;
}

static long spin_k;

static int
spin_task(void *arg, void **result)
{
  *result = (void *)(uintptr_t)spin((uint64_t)(uintptr_t)arg, spin_k);
  return 0;
}

/* K for @target_ns per task: the fastest of 20 runs of 200,000 steps. */
static long
calibrate(double target_ns)
{
  double best = 1e30;

  for (int r = 0; r < 20; r++) {
    long long t0 = bu_now_ns();
    volatile uint64_t x = spin((uint64_t)r, 200000);
    double ns;

    (void)x;
    ns = (double)(bu_now_ns() - t0) / 200000;
    best = ns < best ? ns : best;
  }
  return (long)(target_ns / best + 0.5);
}

/* One task's time when run back to back: median of 3 runs over N/4 tasks. */
static double
single_task_ns(long n)
{
  long m = n / 4 > 0 ? n / 4 : 1;
  double t[3];
  uint64_t sink = 0;

  for (int r = 0; r < 3; r++) {
    long long t0 = bu_now_ns();

    for (long i = 0; i < m; i++)
      sink += spin((uint64_t)i, spin_k);
    t[r] = (double)(bu_now_ns() - t0) / (double)m;
  }
  /* The sink keeps the loop alive; it can never be this value. */
  if (sink == 1)
    putchar(' ');
  return bu_summarize(t, 3).median;
}

struct chunk {
  pthread_t thread;
  long lo, hi;
  uint64_t sink;
};

static void *
chunk_main(void *arg)
{
  struct chunk *c = arg;

  for (long i = c->lo; i < c->hi; i++)
    c->sink += spin((uint64_t)i, spin_k);
  return NULL;
}

/*
 * What the host gives plain threads right now, without any pool: N/4 tasks
 * split over @workers threads, against @single_ns each back to back. A VM
 * whose vCPUs share a core reads about 1 here whatever @workers is, and then
 * no pool can reach an efficiency above 1 / workers.
 */
static double
host_speedup(long workers, long n, double single_ns)
{
  struct chunk *c = calloc((size_t)workers, sizeof(*c));
  long m = n / 4 > workers ? n / 4 : workers;
  double t[3];

  if (c == NULL)
    bu_die("out of memory");
  for (int r = 0; r < 3; r++) {
    long long t0 = bu_now_ns();

    for (long w = 0; w < workers; w++) {
      c[w].lo = m * w / workers;
      c[w].hi = m * (w + 1) / workers;
      if (pthread_create(&c[w].thread, NULL, chunk_main, &c[w]) != 0)
        bu_die("cannot start thread %ld", w);
    }
    for (long w = 0; w < workers; w++)
      pthread_join(c[w].thread, NULL);
    t[r] = (double)m * single_ns / (double)(bu_now_ns() - t0);
  }
  free(c);
  return bu_summarize(t, 3).median;
}

/* Submit N, join, release: the timed region, as in the naive peer. */
static long long
run(futures_pool_t *pool, future_t **fs, void **res, long n)
{
  long long t0 = bu_now_ns(), t;

  for (long i = 0; i < n; i++)
    BU_CHECK(futures_submit(pool, spin_task, (void *)(uintptr_t)i, &fs[i]));
  BU_CHECK(futures_join_all(fs, (size_t)n, res));
  for (long i = 0; i < n; i++)
    future_release(fs[i]);
  t = bu_now_ns() - t0;
  /* Recomputing every result would double the run; a sample suffices. */
  for (long i = 0; i < n; i += 997)
    if ((uintptr_t)res[i] != (uintptr_t)spin((uint64_t)i, spin_k))
      bu_die("task %ld returned a wrong value", i);
  return t;
}

static const char usage[] =
    "usage: fine_grained [options]\n"
    "\n"
    "W5: N tasks of about 2 us of dependent integer arithmetic (K steps of\n"
    "a 64-bit LCG), one future each, futures_join_all, release; the timed\n"
    "region is submit + join + release. K is calibrated at start for\n"
    "--task-us, or set with --spin-k (use the peers' `floors calib` value to\n"
    "compare with them). Efficiency = (N x single-task time / workers) /\n"
    "wall, with the single-task time measured back to back in this process\n"
    "(median of 3 runs over N/4 tasks, as the peers do). The thread waiting\n"
    "in futures_join_all runs tasks too, so efficiency may exceed 1.\n"
    "host_speedup: the same spin split over plain threads (no pool), against\n"
    "one thread; efficiency cannot exceed host_speedup / workers for long.\n"
    "cpu_cores is the process's CPU time over wall time (getrusage); on a\n"
    "VM whose host steals time, even a pure spin reads below 1.";

int
main(int argc, char **argv)
{
  struct bu_list threads = {0, NULL};
  long n = 200000, reps = 5, warmup = 1;
  int csv = 0, scaling = 0;
  double task_us = 2.0, timeout = 0;
  const struct bu_opt opts[] = {
      {"n", BU_OPT_LONG, &n, "N", "tasks per run (default 200000)", NULL},
      {"threads", BU_OPT_LIST, &threads, "LIST",
       "workers, e.g. 2 or 1,2,4 (default: one per CPU)", NULL},
      {"scaling", BU_OPT_FLAG, &scaling, NULL,
       "workers 1, 2, ... up to the number of CPUs", NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "timed runs (default 5)", NULL},
      {"warmup", BU_OPT_LONG, &warmup, "N",
       "untimed runs of N/10 tasks first (default 1)", NULL},
      {"spin-k", BU_OPT_LONG, &spin_k, "K",
       "loop steps per task (default: calibrated)", NULL},
      {"task-us", BU_OPT_DOUBLE, &task_us, "US",
       "calibration target per task (default 2.0)", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
      {NULL, BU_OPT_FLAG, NULL, NULL, NULL, NULL}};
  struct bu_report rep;
  char wbuf[256], tbuf[96];
  double *eff, *wall, *cpu, single;
  future_t **fs;
  void **res;

  if (bu_parse(argc, argv, usage, NULL, opts) != argc)
    bu_die("unexpected argument (try --help)");
  if (n < 1 || reps < 1 || warmup < 0 || spin_k < 0 || task_us <= 0)
    bu_die("counts must be positive (try --help)");
  if (scaling)
    bu_list_range(&threads, (long)bu_online_cpus());
  else if (threads.n == 0)
    bu_list_one(&threads, (long)bu_online_cpus());
  for (size_t i = 0; i < threads.n; i++)
    if (threads.v[i] == 0)
      threads.v[i] = (long)bu_online_cpus();
  if (spin_k == 0)
    spin_k = calibrate(task_us * 1000);
  fs = calloc((size_t)n, sizeof(*fs));
  res = calloc((size_t)n, sizeof(*res));
  eff = calloc((size_t)reps, sizeof(double));
  wall = calloc((size_t)reps, sizeof(double));
  cpu = calloc((size_t)reps, sizeof(double));
  if (!fs || !res || !eff || !wall || !cpu)
    bu_die("out of memory");

  bu_watchdog_start(timeout, 0);
  bu_report_init(&rep, "fine_grained", csv);
  single = single_task_ns(n);
  snprintf(tbuf, sizeof(tbuf), "%ld x %.3f us (K=%ld)", n, single / 1e3,
           spin_k);
  bu_header(&rep, bu_list_str(&threads, wbuf, sizeof(wbuf)), tbuf, (int)reps,
            (int)warmup);
  bu_row1(&rep, "W5", "single_task_us", 1, n, single / 1e3, "us");
  bu_row1(&rep, "W5", "spin_k", 1, n, (double)spin_k, "steps");
  for (size_t i = 0; i < threads.n; i++) {
    futures_stats_t a = FUTURES_STATS_INIT, b = FUTURES_STATS_INIT;
    long workers = threads.v[i];
    double ideal = (double)n * single / (double)workers;
    futures_pool_t *pool;
    int ok_a, ok_b;

    BU_CHECK(futures_pool_create(&pool, (size_t)workers));
    for (long w = 0; w < warmup; w++)
      run(pool, fs, res, n / 10 > 0 ? n / 10 : 1);
    ok_a = futures_pool_stats(pool, &a);
    for (long r = 0; r < reps; r++) {
      double c0 = bu_cpu_seconds();
      long long t = run(pool, fs, res, n);

      /* Average cores busy; the sampled check after the run is included. */
      cpu[r] = (bu_cpu_seconds() - c0) / ((double)t / 1e9);
      wall[r] = (double)t / 1e6;
      eff[r] = ideal / (double)t;
    }
    ok_b = futures_pool_stats(pool, &b);
    BU_CHECK(futures_pool_destroy(pool));
    bu_row(&rep, "W5", "efficiency", workers, n, eff, (size_t)reps, "frac");
    bu_row(&rep, "W5", "wall_ms", workers, n, wall, (size_t)reps, "ms");
    bu_row1(&rep, "W5", "ideal_ms", workers, n, ideal / 1e6, "ms");
    bu_row(&rep, "W5", "cpu_cores", workers, n, cpu, (size_t)reps, "cores");
    bu_row1(&rep, "W5", "host_speedup", workers, n / 4,
            host_speedup(workers, n, single), "x");
    bu_row_stats(&rep, "W5", workers, &a, ok_a, &b, ok_b);
  }
  bu_watchdog_stop();
  free(fs);
  free(res);
  free(eff);
  free(wall);
  free(cpu);
  bu_list_free(&threads);
  return 0;
}
