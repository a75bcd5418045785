/* SPDX-License-Identifier: MIT */
/*
 * W4, fork-join: fib(n) with one task per call. Each call with n >= 2
 * submits fib(n-1) as a task, computes fib(n-2) inline, then future_get()s
 * the child: F(n+1) - 1 tasks, no cutoff, so the figure is pure scheduling
 * overhead. A pool whose waits block without helping deadlocks here; the
 * watchdog reports that instead of hanging.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "futures.h"

static futures_pool_t *fib_pool;
static atomic_int fib_error; /* first library error seen inside the tree */

static long fib_fj(long n);

static int
fib_task(void *arg, void **result)
{
  *result = (void *)(intptr_t)fib_fj((long)(intptr_t)arg);
  return 0;
}

static void
note_error(int rc)
{
  int none = 0;

  atomic_compare_exchange_strong(&fib_error, &none, rc);
}

/* Submit fib(n-1), compute fib(n-2) here, then wait for the child. */
static long
fib_fj(long n)
{
  future_t *f;
  void *r = NULL;
  long y;
  int rc;

  if (n < 2)
    return n;
  rc = futures_submit(fib_pool, fib_task, (void *)(intptr_t)(n - 1), &f);
  if (rc != 0) {
    note_error(rc);
    return 0;
  }
  y = fib_fj(n - 2);
  rc = future_get(f, &r);
  future_release(f);
  if (rc != 0)
    note_error(rc);
  return (long)(intptr_t)r + y;
}

/* --mode frames: fib(n-1) spawned on a frame in this stack, fib(n-2)
 * called, then the frame synced (futures_spawn/futures_sync). Runs only
 * inside a pool task: the root is always a task in this mode. */
static int
fib_frame(void *arg, void **result)
{
  long n = (long)(intptr_t)arg;
  futures_frame_t fr;
  void *a = NULL, *b = NULL;
  int rc;

  if (n < 2) {
    *result = (void *)(intptr_t)n;
    return 0;
  }
  rc = futures_spawn(&fr, fib_frame, (void *)(intptr_t)(n - 1));
  if (rc != 0) {
    note_error(rc);
    return rc;
  }
  fib_frame((void *)(intptr_t)(n - 2), &b);
  if ((rc = futures_sync(&fr, &a)) != 0)
    note_error(rc);
  *result = (void *)((intptr_t)a + (intptr_t)b);
  return 0;
}

/* Plain recursion, kept out of line so that the compiler cannot fold it. */
__attribute__((noinline)) static long
fib_seq(long n)
{
  return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2);
}

/* Tasks one fork-join fib(n) submits: F(n+1) - 1. */
static long
fib_tasks(long n)
{
  long a = 0, b = 1;

  for (long i = 0; i < n + 1; i++) {
    long t = a + b;

    a = b;
    b = t;
  }
  return a - 1;
}

/* --no-help: the root task posts this when it is done, so that the calling
 * thread waits outside the library (a future_get() of a queued root would
 * run it in the caller, a third thread beside the pool's workers). */
static sem_t root_done;
static int (*root_fn)(void *, void **);

static int
root_then_post(void *arg, void **result)
{
  int rc = root_fn(arg, result);

  sem_post(&root_done);
  return rc;
}

/* The root either runs in the calling thread (as the peers do) or as a task
 * the calling thread waits for (with --no-help, without running it). */
static long
run_fib(long n, int root_task, int frames, int no_help)
{
  future_t *root;
  void *r = NULL;

  if (!root_task && !frames)
    return fib_fj(n);
  root_fn = frames ? fib_frame : fib_task;
  BU_CHECK(futures_submit(fib_pool, no_help ? root_then_post : root_fn,
                          (void *)(intptr_t)n, &root));
  if (no_help)
    while (sem_wait(&root_done) != 0)
      ;
  BU_CHECK(future_get(root, &r));
  future_release(root);
  return (long)(intptr_t)r;
}

static const char usage[] =
    "usage: fork_join [options]\n"
    "\n"
    "W4: fib(n) with one task per call (submit fib(n-1), compute fib(n-2)\n"
    "inline, future_get the child), no cutoff: F(n+1)-1 tasks. The result\n"
    "is checked against plain recursion, whose time is printed beside it\n"
    "(rows seq_ms with workers 0: no pool). By default the calling thread\n"
    "runs the root call, as the peers' harness does; --root-task submits\n"
    "the root as a task and waits for it with future_get, which runs it\n"
    "in the calling thread if no worker took it yet; --no-help waits on a\n"
    "semaphore first, so only the pool's workers run (as in Lace, whose\n"
    "calling thread blocks).\n"
    "--mode frames spawns fib(n-1) on a caller-owned frame instead\n"
    "(futures_spawn/futures_sync, the root a task); its workload is\n"
    "W4frames_fibN, and pair_ns is (ms - median seq_ms) / spawns, the cost\n"
    "of one spawn+sync pair over a plain call (meaningful on 1 worker).\n"
    "cpu_cores is the process's CPU time over wall time (getrusage); on a\n"
    "VM whose host steals time, even a pure spin reads below 1.";

static const char epilog[] =
    "If every thread blocks (under 1% CPU for 3 s) the run stops with\n"
    "DEADLOCK on stderr and exit status 3.";

int
main(int argc, char **argv)
{
  struct bu_list threads = {0, NULL}, fibs = {0, NULL};
  long reps = 5, warmup = 1;
  int csv = 0, root_task = 0, frames = 0, no_help = 0;
  const char *mode = "futures";
  double timeout = 0;
  const struct bu_opt opts[] = {
      {"fib", BU_OPT_LIST, &fibs, "LIST", "fib arguments (default 25,30)",
       NULL},
      {"n", BU_OPT_LIST, &fibs, "LIST", "the same as --fib", NULL},
      {"threads", BU_OPT_LIST, &threads, "LIST",
       "workers (default 1,2 and one per CPU if more)", NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "timed runs (default 5)", NULL},
      {"warmup", BU_OPT_LONG, &warmup, "N", "untimed runs first (default 1)",
       NULL},
      {"mode", BU_OPT_STRING, &mode, "M",
       "futures (default: a task per call) or frames", NULL},
      {"root-task", BU_OPT_FLAG, &root_task, NULL,
       "run the root call as a task too", NULL},
      {"no-help", BU_OPT_FLAG, &no_help, NULL,
       "the calling thread waits for the root task without running it", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
      {NULL, BU_OPT_FLAG, NULL, NULL, NULL, NULL}};
  double *ms, *mt, *seq, *cpu, *pair;
  struct bu_report rep;
  char wbuf[256], fbuf[128], tbuf[160];
  size_t ncpu = bu_online_cpus();

  if (bu_parse(argc, argv, usage, epilog, opts) != argc)
    bu_die("unexpected argument (try --help)");
  if (sem_init(&root_done, 0, 0) != 0)
    bu_die("sem_init failed");
  if (reps < 1 || warmup < 0)
    bu_die("counts must be positive (try --help)");
  if (strcmp(mode, "frames") == 0)
    frames = 1;
  else if (strcmp(mode, "futures") != 0)
    bu_die("--mode %s: futures or frames (try --help)", mode);
  if (fibs.n == 0 && bu_list_parse("25,30", &fibs) != 0)
    bu_die("out of memory");
  if (threads.n == 0) {
    char def[32];

    snprintf(def, sizeof(def), ncpu > 2 ? "1,2,%zu" : "1,2", ncpu);
    if (bu_list_parse(def, &threads) != 0)
      bu_die("out of memory");
  }
  for (size_t i = 0; i < threads.n; i++)
    if (threads.v[i] == 0)
      threads.v[i] = (long)ncpu;
  for (size_t i = 0; i < fibs.n; i++)
    if (fibs.v[i] > 45)
      bu_die("--fib %ld: too large (at most 45)", fibs.v[i]);
  ms = calloc((size_t)reps, sizeof(double));
  mt = calloc((size_t)reps, sizeof(double));
  seq = calloc((size_t)reps, sizeof(double));
  cpu = calloc((size_t)reps, sizeof(double));
  pair = calloc((size_t)reps, sizeof(double));
  if (!ms || !mt || !seq || !cpu || !pair)
    bu_die("out of memory");

  /* Compute-bound: a process that stops using CPU is deadlocked. */
  bu_watchdog_start(timeout, 1);
  bu_report_init(&rep, "fork_join", csv);
  snprintf(tbuf, sizeof(tbuf), "fib(%s), F(n+1)-1 each",
           bu_list_str(&fibs, fbuf, sizeof(fbuf)));
  bu_header(&rep, bu_list_str(&threads, wbuf, sizeof(wbuf)), tbuf, (int)reps,
            (int)warmup);
  for (size_t k = 0; k < fibs.n; k++) {
    long n = fibs.v[k], expect = fib_seq(n), tasks = fib_tasks(n);
    volatile long vn = n; /* keeps the timed call from being hoisted */
    char workload[32];

    snprintf(workload, sizeof(workload), "W4%s_fib%ld", frames ? "frames" : "",
             n);
    for (long r = 0; r < reps; r++) {
      long long t0 = bu_now_ns();
      volatile long x = fib_seq(vn);

      (void)x;
      seq[r] = (double)(bu_now_ns() - t0) / 1e6;
    }
    bu_row(&rep, workload, "seq_ms", 0, tasks, seq, (size_t)reps, "ms");
    for (size_t i = 0; i < threads.n; i++) {
      futures_stats_t a = FUTURES_STATS_INIT, b = FUTURES_STATS_INIT;
      int ok_a, ok_b;

      BU_CHECK(futures_pool_create(&fib_pool, (size_t)threads.v[i]));
      for (long w = 0; w < warmup; w++)
        run_fib(n, root_task, frames, no_help);
      ok_a = futures_pool_stats(fib_pool, &a);
      for (long r = 0; r < reps; r++) {
        double c0 = bu_cpu_seconds();
        long long t0 = bu_now_ns();
        long got = run_fib(n, root_task, frames, no_help);
        long long t = bu_now_ns() - t0;

        cpu[r] = (bu_cpu_seconds() - c0) / ((double)t / 1e9);
        if (atomic_load(&fib_error) != 0)
          bu_die("fib(%ld) on %ld workers: %s", n, threads.v[i],
                 bu_strerror(atomic_load(&fib_error)));
        if (got != expect)
          bu_die("fib(%ld) on %ld workers: got %ld, expected %ld", n,
                 threads.v[i], got, expect);
        ms[r] = (double)t / 1e6;
        mt[r] = (double)tasks / ((double)t / 1e9) / 1e6;
      }
      ok_b = futures_pool_stats(fib_pool, &b);
      BU_CHECK(futures_pool_destroy(fib_pool));
      bu_row(&rep, workload, "ms", threads.v[i], tasks, ms, (size_t)reps, "ms");
      bu_row(&rep, workload, "Mtasks_per_s", threads.v[i], tasks, mt,
             (size_t)reps, "Mtask/s");
      bu_row(&rep, workload, "cpu_cores", threads.v[i], tasks, cpu,
             (size_t)reps, "cores");
      if (frames) {
        double s = bu_summarize(seq, (size_t)reps).median;

        for (long r = 0; r < reps; r++)
          pair[r] = (ms[r] - s) * 1e6 / (double)tasks;
        bu_row(&rep, workload, "pair_ns", threads.v[i], tasks, pair,
               (size_t)reps, "ns");
      }
      bu_row_stats(&rep, workload, threads.v[i], &a, ok_a, &b, ok_b);
    }
  }
  bu_watchdog_stop();
  free(ms);
  free(mt);
  free(seq);
  free(cpu);
  free(pair);
  bu_list_free(&threads);
  bu_list_free(&fibs);
  return 0;
}
