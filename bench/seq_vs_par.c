/* SPDX-License-Identifier: MIT */
/*
 * W1, the seed demo: tasks that only sleep, awaited one after another
 * (submit, future_get, submit, future_get) and then all at once (submit
 * every task, futures_join_all). The C form of
 *   const r1 = await task1(); const r2 = await task2();
 *   const [r1, r2] = await Promise.all([task1(), task2()]);
 *
 * With --timeline, both runs are drawn as an ASCII Gantt chart, one line
 * per thread that ran a task, time across (the pool traces with
 * FUTURES_POOL_TRACE; --trace FILE writes its Chrome JSON, and
 * --timeline-data FILE the bars for bench/plot/timeline.gp).
 *
 * With --timers, the seed as the seed wrote it: each task is a timer
 * (futures_after(), JavaScript's setTimeout wrapped in a promise) and a
 * continuation on the pool (futures_then()) that returns "Task i done", on
 * a pool of one worker that runs other work while the timers wait.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"
#include "futures.h"

struct sleeper {
  long ms;           /* how long the task sleeps */
  int index;         /* 1-based, for "Task <index> done" */
  char text[32];     /* the task's result */
  long long late_ns; /* how much longer than ms the sleep itself took */
  /* --timers only: */
  long long due_ns; /* when the task's timer was due (CLOCK_MONOTONIC) */
  int in_caller;    /* the continuation ran in the awaiting thread */
  /* --timeline: the thread that ran the task, and when. */
  int tid;
  long long start_ns, end_ns;
};

/* Sleeps to an absolute deadline so that a signal cannot stretch the task. */
static int
sleep_task(void *arg, void **result)
{
  struct sleeper *s = arg;
  long long t0 = bu_now_ns();

  s->tid = (int)syscall(SYS_gettid);
  s->start_ns = t0;
  bu_sleep_ns((long long)s->ms * 1000000LL);
  s->end_ns = bu_now_ns();
  /* The timer's own lateness, so that it is not blamed on the pool. */
  s->late_ns = s->end_ns - t0 - (long long)s->ms * 1000000LL;
  snprintf(s->text, sizeof(s->text), "Task %d done", s->index);
  *result = s->text;
  return 0;
}

/* Checks every result and formats them as "[Task 1 done, Task 2 done]". */
static void
check_results(const char *what, struct sleeper *s, void **res, size_t n,
              char *buf, size_t size)
{
  size_t used = 0;

  used += (size_t)snprintf(buf, size, "[");
  for (size_t i = 0; i < n; i++) {
    char want[32];

    snprintf(want, sizeof(want), "Task %d done", s[i].index);
    if (res[i] == NULL || strcmp(res[i], want) != 0)
      bu_die("%s run: task %zu returned '%s', expected '%s'", what, i + 1,
             res[i] != NULL ? (const char *)res[i] : "(null)", want);
    if (used < size)
      used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                               (const char *)res[i]);
  }
  if (used < size)
    snprintf(buf + used, size - used, "]");
}

static void
reset(struct sleeper *s, const struct bu_list *tasks)
{
  for (size_t i = 0; i < tasks->n; i++) {
    s[i].ms = tasks->v[i];
    s[i].index = (int)i + 1;
    s[i].text[0] = '\0';
    s[i].late_ns = 0;
    s[i].due_ns = 0;
    s[i].in_caller = 0;
  }
}

/* await task1; await task2; ...: one future at a time. */
static double
run_sequential(futures_pool_t *pool, struct sleeper *s, void **res, size_t n)
{
  long long t0 = bu_now_ns();

  for (size_t i = 0; i < n; i++) {
    future_t *f;

    BU_CHECK(futures_submit(pool, sleep_task, &s[i], &f));
    BU_CHECK(future_get(f, &res[i]));
    future_release(f);
  }
  return (double)(bu_now_ns() - t0) / 1e6;
}

/* await Promise.all([...]): submit all, then one join. */
static double
run_parallel(futures_pool_t *pool, struct sleeper *s, void **res, future_t **fs,
             size_t n)
{
  long long t0 = bu_now_ns();
  double ms;

  for (size_t i = 0; i < n; i++)
    BU_CHECK(futures_submit(pool, sleep_task, &s[i], &fs[i]));
  BU_CHECK(futures_join_all(fs, n, res));
  ms = (double)(bu_now_ns() - t0) / 1e6;
  for (size_t i = 0; i < n; i++)
    future_release(fs[i]);
  return ms;
}

/* ------------------------------------------------------------ --timeline */

#define GANTT_COLS 60

/* One run's bars: per task its lane (the thread that ran it, numbered in
 * order of first appearance; the awaiting thread is "caller"). */
struct run_bars {
  const char *name;
  long long t0, t1; /* the run's start and end */
  size_t n;
  struct sleeper *s; /* copies */
};

static void
bars_save(struct run_bars *b, const char *name, const struct sleeper *s,
          size_t n, long long t0, long long t1)
{
  b->name = name;
  b->t0 = t0;
  b->t1 = t1;
  b->n = n;
  b->s = malloc(n * sizeof(*s));
  if (b->s == NULL)
    bu_die("out of memory");
  memcpy(b->s, s, n * sizeof(*s));
}

/* The lanes of @b: distinct tids in order of first start; *@nl of them. */
static size_t
lanes_of(const struct run_bars *b, int *tids)
{
  size_t nl = 0;

  for (size_t i = 0; i < b->n; i++) {
    size_t k;

    for (k = 0; k < nl && tids[k] != b->s[i].tid; k++)
      ;
    if (k == nl)
      tids[nl++] = b->s[i].tid;
  }
  return nl;
}

/* "caller", or "worker k": workers numbered in order of first appearance
 * over both runs, so that one thread keeps its name in both. */
static void
lane_label(char *buf, size_t size, int tid, int caller_tid)
{
  static int seen[256];
  static size_t nseen;
  size_t k;

  if (tid == caller_tid) {
    snprintf(buf, size, "caller");
    return;
  }
  for (k = 0; k < nseen && seen[k] != tid; k++)
    ;
  if (k == nseen && nseen < sizeof(seen) / sizeof(seen[0]))
    seen[nseen++] = tid;
  snprintf(buf, size, "worker %zu", k + 1);
}

/* Both runs on one scale: one column is the longer run / GANTT_COLS. Task
 * i is drawn with the digit i % 10 (task 10 as 0). */
static void
gantt_print(const struct run_bars *runs, size_t nruns, int caller_tid)
{
  long long span = 1;
  int *tids;

  for (size_t r = 0; r < nruns; r++)
    span = runs[r].t1 - runs[r].t0 > span ? runs[r].t1 - runs[r].t0 : span;
  printf("Timeline: one line per thread that ran a task, one column = "
         "%.1f ms, task i drawn with digit i\n",
         (double)span / 1e6 / GANTT_COLS);
  for (size_t r = 0; r < nruns; r++) {
    const struct run_bars *b = &runs[r];
    size_t nl;

    tids = malloc(b->n * sizeof(int));
    if (tids == NULL)
      bu_die("out of memory");
    nl = lanes_of(b, tids);
    printf("%s (%.1f ms):\n", b->name, (double)(b->t1 - b->t0) / 1e6);
    for (size_t l = 0; l < nl; l++) {
      char row[GANTT_COLS + 1], label[32];

      memset(row, ' ', GANTT_COLS);
      row[GANTT_COLS] = '\0';
      for (size_t i = 0; i < b->n; i++) {
        long long a = (b->s[i].start_ns - b->t0) * GANTT_COLS / span;
        long long z = (b->s[i].end_ns - b->t0) * GANTT_COLS / span;

        if (b->s[i].tid != tids[l])
          continue;
        for (long long c = a; c < z || c == a; c++)
          if (c >= 0 && c < GANTT_COLS)
            row[c] = (char)('0' + (i + 1) % 10);
      }
      lane_label(label, sizeof(label), tids[l], caller_tid);
      printf("  %-9s |%s|\n", label, row);
    }
    free(tids);
  }
}

/* The bars for gnuplot: run lane label task start_ms end_ms. */
static void
gantt_data(const char *path, const struct run_bars *runs, size_t nruns,
           int caller_tid)
{
  FILE *f = fopen(path, "w");
  int *tids;

  if (f == NULL)
    bu_die("cannot write %s", path);
  fprintf(f, "# run lane label task start_ms end_ms\n");
  for (size_t r = 0; r < nruns; r++) {
    const struct run_bars *b = &runs[r];
    size_t nl;

    if ((tids = malloc(b->n * sizeof(int))) == NULL)
      bu_die("out of memory");
    nl = lanes_of(b, tids);
    for (size_t l = 0; l < nl; l++) {
      char label[32];

      lane_label(label, sizeof(label), tids[l], caller_tid);
      for (size_t i = 0; i < b->n; i++)
        if (b->s[i].tid == tids[l])
          fprintf(f, "%zu %zu \"%s\" %zu %.3f %.3f\n", r, l, label, i + 1,
                  (double)(b->s[i].start_ns - b->t0) / 1e6,
                  (double)(b->s[i].end_ns - b->t0) / 1e6);
    }
    free(tids);
  }
  if (fclose(f) != 0)
    bu_die("cannot write %s", path);
}

/* ------------------------------------------------------------ --timers */

/*
 * The seed as JavaScript wrote it:
 *
 *   const wait = ms => new Promise(resolve => setTimeout(resolve, ms));
 *   async function task1() { await wait(1000); return "Task 1 done"; }
 *   async function task2() { await wait(500); return "Task 2 done"; }
 *   const r1 = await task1(); const r2 = await task2();     // sequential
 *   const [r1, r2] = await Promise.all([task1(), task2()]); // parallel
 *
 * wait(ms) is futures_after(), the rest of each task a continuation queued
 * on the pool when the timer fires (futures_then()), Promise.all is
 * futures_all(). No thread of the pool waits for a timer, so one worker is
 * enough. To show that it is free meanwhile, a feeder thread keeps one
 * small CPU task (--other-us of spinning) queued on the pool for the whole
 * run, submitting the next when the last has finished, and each phase
 * counts how many of them a pool worker ran. The feeder submits from
 * outside the pool, as the timer thread does, so the worker takes the two
 * kinds in turn and a continuation waits behind a few of them at most (a
 * task that resubmitted itself would go to the worker's own deque, which
 * the worker serves first).
 */

static pthread_t caller; /* the thread that awaits */

/* The part of task<i>() after `await wait(ms)`. */
static int
done_then(void *arg, int code, void *value, void **result)
{
  struct sleeper *s = arg;

  (void)value;
  s->late_ns = bu_now_ns() - s->due_ns;
  s->in_caller = pthread_equal(pthread_self(), caller) != 0;
  if (code != 0)
    return code;
  snprintf(s->text, sizeof(s->text), "Task %d done", s->index);
  *result = s->text;
  return 0;
}

/* Calls task<i>(): a timer and its continuation; *@out is the latter. */
static void
start_timer_task(futures_pool_t *pool, struct sleeper *s, future_t **out)
{
  long long ns = (long long)s->ms * 1000000LL;
  future_t *timer;

  /* Read before the call: lateness is counted from no later than the
   * timer's own deadline. */
  s->due_ns = bu_now_ns() + ns;
  BU_CHECK(futures_after(pool, ns, &timer));
  BU_CHECK(futures_then(pool, timer, done_then, s, out));
  future_release(timer); /* the continuation keeps what it needs */
}

/* const r1 = await task1(); const r2 = await task2(); ... */
static double
run_timers_sequential(futures_pool_t *pool, struct sleeper *s, void **res,
                      size_t n)
{
  long long t0 = bu_now_ns();

  for (size_t i = 0; i < n; i++) {
    future_t *f;

    start_timer_task(pool, &s[i], &f);
    BU_CHECK(future_get(f, &res[i]));
    future_release(f);
  }
  return (double)(bu_now_ns() - t0) / 1e6;
}

/* const [r1, r2, ...] = await Promise.all([task1(), task2(), ...]); */
static double
run_timers_parallel(futures_pool_t *pool, struct sleeper *s, void **res,
                    future_t **fs, size_t n)
{
  long long t0 = bu_now_ns();
  future_t *all;
  double ms;

  for (size_t i = 0; i < n; i++)
    start_timer_task(pool, &s[i], &fs[i]);
  BU_CHECK(futures_all(fs, n, &all));
  BU_CHECK(future_get(all, NULL));
  for (size_t i = 0; i < n; i++)
    BU_CHECK(future_get(fs[i], &res[i])); /* settled: returns at once */
  ms = (double)(bu_now_ns() - t0) / 1e6;
  future_release(all);
  for (size_t i = 0; i < n; i++)
    future_release(fs[i]);
  return ms;
}

struct feeder {
  futures_pool_t *pool;
  long long work_ns;
  pthread_t thread;
  atomic_int stop;
  atomic_long on_worker; /* other tasks run by a pool worker */
  atomic_long elsewhere; /* ... by the awaiting or the feeding thread */
};

/* Other work: spins for work_ns, then counts where it ran. */
static int
other_task(void *arg, void **result)
{
  struct feeder *fd = arg;
  long long t0 = bu_now_ns();
  pthread_t me = pthread_self();

  while (bu_now_ns() - t0 < fd->work_ns)
    ;
  if (pthread_equal(me, caller) || pthread_equal(me, fd->thread))
    atomic_fetch_add(&fd->elsewhere, 1);
  else
    atomic_fetch_add(&fd->on_worker, 1);
  *result = NULL;
  return 0;
}

static void *
feeder_main(void *arg)
{
  struct feeder *fd = arg;

  while (!atomic_load(&fd->stop)) {
    future_t *f;

    BU_CHECK(futures_submit(fd->pool, other_task, fd, &f));
    /* A timed wait never runs the task in this thread: a worker does. */
    BU_CHECK(future_wait_for(f, 600LL * 1000000000LL));
    future_release(f);
  }
  return NULL;
}

static double
median_of(const double *v, size_t n)
{
  double *tmp = malloc(n * sizeof(double));
  double m;

  if (tmp == NULL)
    bu_die("out of memory");
  memcpy(tmp, v, n * sizeof(double));
  m = bu_summarize(tmp, n).median;
  free(tmp);
  return m;
}

/* The whole --timers run; returns main's exit status. */
static int
timers_main(const struct bu_list *tasks, long workers, long reps, int csv,
            double timeout, long other_us)
{
  size_t n = tasks->n, nr = (size_t)reps;
  struct bu_report rep;
  struct feeder fd;
  struct sleeper *s = calloc(n, sizeof(*s));
  future_t **fs = calloc(n, sizeof(*fs));
  void **res = calloc(n, sizeof(*res));
  double *v = calloc(10 * nr, sizeof(double));
  double *seq = v, *par = v + nr, *seq_ov = v + 2 * nr, *par_ov = v + 3 * nr;
  double *seq_late = v + 4 * nr, *par_late = v + 5 * nr;
  double *seq_other = v + 6 * nr, *par_other = v + 7 * nr;
  double *seq_busy = v + 8 * nr, *par_busy = v + 9 * nr;
  char seq_text[512] = "", par_text[512] = "", hdr_tasks[256], list[200];
  long sum = 0, max = 0, in_caller = 0, elsewhere;
  futures_pool_t *pool;

  if (!s || !fs || !res || !v)
    bu_die("out of memory");
  for (size_t i = 0; i < n; i++) {
    sum += tasks->v[i];
    max = tasks->v[i] > max ? tasks->v[i] : max;
  }
  caller = pthread_self();
  bu_watchdog_start(timeout, 0);
  bu_report_init(&rep, "seq_vs_par", csv);
  snprintf(hdr_tasks, sizeof(hdr_tasks),
           "%zu timers (%s ms) + other tasks of %ld us", n,
           bu_list_str(tasks, list, sizeof(list)), other_us);
  snprintf(list, sizeof(list), "%ld", workers);
  bu_header(&rep, list, hdr_tasks, (int)reps, 0);

  BU_CHECK(futures_pool_create(&pool, (size_t)workers));
  memset(&fd, 0, sizeof(fd));
  fd.pool = pool;
  fd.work_ns = other_us * 1000LL;
  atomic_init(&fd.stop, 0);
  atomic_init(&fd.on_worker, 0);
  atomic_init(&fd.elsewhere, 0);
  if (other_us > 0 && pthread_create(&fd.thread, NULL, feeder_main, &fd) != 0)
    bu_die("pthread_create failed");
  for (size_t r = 0; r < nr; r++) {
    long before = atomic_load(&fd.on_worker);

    reset(s, tasks);
    seq[r] = run_timers_sequential(pool, s, res, n);
    seq_other[r] = (double)(atomic_load(&fd.on_worker) - before);
    check_results("sequential", s, res, n, seq_text, sizeof(seq_text));
    for (size_t i = 0; i < n; i++) {
      seq_late[r] += (double)s[i].late_ns / 1e6;
      in_caller += s[i].in_caller;
    }
    reset(s, tasks);
    before = atomic_load(&fd.on_worker);
    par[r] = run_timers_parallel(pool, s, res, fs, n);
    par_other[r] = (double)(atomic_load(&fd.on_worker) - before);
    check_results("parallel", s, res, n, par_text, sizeof(par_text));
    for (size_t i = 0; i < n; i++) {
      double end = (double)s[i].ms + (double)s[i].late_ns / 1e6 - (double)max;

      par_late[r] = end > par_late[r] ? end : par_late[r];
      in_caller += s[i].in_caller;
    }
    seq_ov[r] = seq[r] - (double)sum;
    par_ov[r] = par[r] - (double)max;
    /* Share of the wall time the workers spent on the other tasks. */
    seq_busy[r] = 100.0 * seq_other[r] * (double)other_us / 1e3 / seq[r] /
                  (double)workers;
    par_busy[r] = 100.0 * par_other[r] * (double)other_us / 1e3 / par[r] /
                  (double)workers;
  }
  atomic_store(&fd.stop, 1);
  if (other_us > 0)
    pthread_join(fd.thread, NULL);
  elsewhere = atomic_load(&fd.elsewhere);
  BU_CHECK(futures_pool_destroy(pool));
  bu_watchdog_stop();

  bu_note(&rep, "Sequential: %.1f ms", median_of(seq, nr));
  bu_note(&rep, "Sequential results: %s", seq_text);
  bu_note(&rep, "Parallel: %.1f ms", median_of(par, nr));
  bu_note(&rep, "Parallel results: %s", par_text);
  if (other_us > 0)
    bu_note(&rep,
            "Meanwhile %ld worker%s ran other tasks of %ld us: %.0f during "
            "the sequential run, %.0f during the parallel run",
            workers, workers == 1 ? "" : "s", other_us,
            median_of(seq_other, nr), median_of(par_other, nr));
  bu_note(&rep, "%s", "");
  bu_row(&rep, "timers", "seq_ms", workers, (long long)n, seq, nr, "ms");
  bu_row(&rep, "timers", "par_ms", workers, (long long)n, par, nr, "ms");
  bu_row(&rep, "timers", "seq_overhead_ms", workers, (long long)n, seq_ov, nr,
         "ms");
  bu_row(&rep, "timers", "par_overhead_ms", workers, (long long)n, par_ov, nr,
         "ms");
  bu_row(&rep, "timers", "seq_then_late_ms", workers, (long long)n, seq_late,
         nr, "ms");
  bu_row(&rep, "timers", "par_then_late_ms", workers, (long long)n, par_late,
         nr, "ms");
  if (other_us > 0) {
    bu_row(&rep, "timers", "seq_other_tasks", workers, (long long)n, seq_other,
           nr, "tasks");
    bu_row(&rep, "timers", "par_other_tasks", workers, (long long)n, par_other,
           nr, "tasks");
    bu_row(&rep, "timers", "seq_worker_busy_pct", workers, (long long)n,
           seq_busy, nr, "%");
    bu_row(&rep, "timers", "par_worker_busy_pct", workers, (long long)n,
           par_busy, nr, "%");
  }
  bu_note(&rep,
          "seq_overhead = sequential - sum(timer) (%ld ms); par_overhead = "
          "parallel - max(timer) (%ld ms)",
          sum, max);
  bu_note(&rep, "then_late = how long after its timer's deadline each "
                "continuation started (the timer's lateness, plus the other "
                "tasks the worker ran first)");
  bu_note(&rep,
          "%ld of %zu continuations ran in the awaiting thread (future_get "
          "runs a queued one itself), the rest on a worker; %ld other tasks "
          "ran outside the pool",
          in_caller, 2 * n * nr, elsewhere);
  free(s);
  free(fs);
  free(res);
  free(v);
  return 0;
}

static const char usage[] =
    "usage: seq_vs_par [options]\n"
    "\n"
    "W1, the seed demo. Each task sleeps for its duration and returns\n"
    "\"Task i done\". Sequential: submit task 1, future_get it, then task 2,\n"
    "and so on. Parallel: submit every task, then futures_join_all. Prints\n"
    "both timings and results, then the overhead of the parallel run over\n"
    "max(task) and of the sequential run over sum(task).\n"
    "\n"
    "With --timers each task is a timer (futures_after) followed by a\n"
    "continuation on the pool (futures_then) that returns \"Task i done\",\n"
    "as the JavaScript seed's await wait(ms); the parallel run awaits\n"
    "futures_all. The pool has one worker (unless --threads says otherwise),\n"
    "which runs a stream of other small tasks while the timers wait.";

static const char epilog[] =
    "With --reps above 1 the four demo lines show the medians. With --csv\n"
    "only CSV rows are printed (bench,workload,metric,workers,n,median,min,\n"
    "max,unit).";

int
main(int argc, char **argv)
{
  struct bu_list tasks = {0, NULL}, threads = {0, NULL};
  long reps = 1;
  int csv = 0, timers = 0;
  long other_us = 500;
  double timeout = 0;
  int timeline = 0;
  const char *trace_path = NULL, *data_path = NULL;
  struct run_bars bars[2];
  futures_pool_opts_t po = FUTURES_POOL_OPTS_INIT;
  const struct bu_opt opts[] = {
      {"tasks", BU_OPT_LIST, &tasks, "MS,MS,...",
       "task durations in ms (default 1000,500)", NULL},
      {"threads", BU_OPT_LIST, &threads, "N", "workers (default: one per task)",
       NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "repetitions (default 1)", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
      {"timers", BU_OPT_FLAG, &timers, NULL,
       "tasks are timers and continuations (default workers: 1)", NULL},
      {"other-us", BU_OPT_LONG, &other_us, "US",
       "--timers: each other task spins US us (default 500; 0: none)", NULL},
      {"timeline", BU_OPT_FLAG, &timeline, NULL,
       "draw both runs (the last repetition) as an ASCII Gantt chart", NULL},
      {"timeline-data", BU_OPT_STRING, &data_path, "FILE",
       "write the chart's bars for bench/plot/timeline.gp", NULL},
      {"trace", BU_OPT_STRING, &trace_path, "FILE",
       "trace the pool, write its Chrome trace-event JSON to FILE", NULL},
      {NULL, BU_OPT_FLAG, NULL, NULL, NULL, NULL}};
  struct bu_report rep;
  struct sleeper *s;
  future_t **fs;
  void **res;
  double *seq, *par, *seq_ov, *par_ov, *par_pct, *speedup;
  double *seq_late, *par_late;
  char seq_text[512] = "", par_text[512] = "", hdr_tasks[256], list[200];
  long sum = 0, max = 0, workers;
  futures_pool_t *pool;
  size_t n;

  if (bu_parse(argc, argv, usage, epilog, opts) != argc)
    bu_die("unexpected argument (try --help)");
  if (tasks.n == 0 && bu_list_parse("1000,500", &tasks) != 0)
    bu_die("out of memory");
  n = tasks.n;
  workers = threads.n > 0 ? threads.v[0] : timers ? 1 : (long)n;
  if (workers <= 0)
    workers = (long)bu_online_cpus();
  if (reps < 1)
    bu_die("--reps must be at least 1");
  if (timers && (timeline || data_path != NULL || trace_path != NULL))
    bu_die("--timeline, --timeline-data and --trace need the default mode");
  if (timers) {
    int rc;

    if (other_us < 0)
      bu_die("--other-us must be at least 0");
    rc = timers_main(&tasks, workers, reps, csv, timeout, other_us);
    bu_list_free(&tasks);
    bu_list_free(&threads);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    sum += tasks.v[i];
    max = tasks.v[i] > max ? tasks.v[i] : max;
  }

  s = calloc(n, sizeof(*s));
  fs = calloc(n, sizeof(*fs));
  res = calloc(n, sizeof(*res));
  seq = calloc((size_t)reps, sizeof(double));
  par = calloc((size_t)reps, sizeof(double));
  seq_ov = calloc((size_t)reps, sizeof(double));
  par_ov = calloc((size_t)reps, sizeof(double));
  par_pct = calloc((size_t)reps, sizeof(double));
  speedup = calloc((size_t)reps, sizeof(double));
  seq_late = calloc((size_t)reps, sizeof(double));
  par_late = calloc((size_t)reps, sizeof(double));
  if (!s || !fs || !res || !seq || !par || !seq_ov || !par_ov || !par_pct ||
      !speedup || !seq_late || !par_late)
    bu_die("out of memory");

  bu_watchdog_start(timeout, 0);
  bu_report_init(&rep, "seq_vs_par", csv);
  snprintf(hdr_tasks, sizeof(hdr_tasks), "%zu (%s ms)", n,
           bu_list_str(&tasks, list, sizeof(list)));
  snprintf(list, sizeof(list), "%ld", workers);
  bu_header(&rep, list, hdr_tasks, (int)reps, 0);

  po.nthreads = (size_t)workers;
  if (timeline || data_path != NULL || trace_path != NULL)
    po.flags = FUTURES_POOL_TRACE;
  BU_CHECK(futures_pool_create_ex(&pool, &po));
  for (long r = 0; r < reps; r++) {
    long long t0 = bu_now_ns();

    reset(s, &tasks);
    seq[r] = run_sequential(pool, s, res, n);
    if (r == reps - 1)
      bars_save(&bars[0], "sequential: future_get, future_get", s, n, t0,
                bu_now_ns());
    check_results("sequential", s, res, n, seq_text, sizeof(seq_text));
    for (size_t i = 0; i < n; i++)
      seq_late[r] += (double)s[i].late_ns / 1e6;
    reset(s, &tasks);
    t0 = bu_now_ns();
    par[r] = run_parallel(pool, s, res, fs, n);
    if (r == reps - 1)
      bars_save(&bars[1], "parallel: futures_join_all", s, n, t0, bu_now_ns());
    check_results("parallel", s, res, n, par_text, sizeof(par_text));
    /* The run ends with its latest task: max(ms + late) - max(ms). */
    for (size_t i = 0; i < n; i++) {
      double end = (double)s[i].ms + (double)s[i].late_ns / 1e6 - (double)max;

      par_late[r] = end > par_late[r] ? end : par_late[r];
    }
    seq_ov[r] = seq[r] - (double)sum;
    par_ov[r] = par[r] - (double)max;
    par_pct[r] = 100.0 * par_ov[r] / (double)max;
    speedup[r] = seq[r] / par[r];
  }
  if (trace_path != NULL) {
    int fd = open(trace_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0)
      bu_die("cannot write %s", trace_path);
    BU_CHECK(futures_pool_trace_write(pool, fd));
    close(fd);
  }
  BU_CHECK(futures_pool_destroy(pool));
  bu_watchdog_stop();
  if (data_path != NULL)
    gantt_data(data_path, bars, 2, (int)syscall(SYS_gettid));
  if (timeline && !csv)
    gantt_print(bars, 2, (int)syscall(SYS_gettid));
  free(bars[0].s);
  free(bars[1].s);

  {
    /* bu_row() sorts its input; summarise copies for the demo lines. */
    double *tmp = malloc((size_t)reps * sizeof(double));
    double seq_med, par_med;

    if (tmp == NULL)
      bu_die("out of memory");
    memcpy(tmp, seq, (size_t)reps * sizeof(double));
    seq_med = bu_summarize(tmp, (size_t)reps).median;
    memcpy(tmp, par, (size_t)reps * sizeof(double));
    par_med = bu_summarize(tmp, (size_t)reps).median;
    free(tmp);
    bu_note(&rep, "Sequential: %.1f ms", seq_med);
    bu_note(&rep, "Sequential results: %s", seq_text);
    bu_note(&rep, "Parallel: %.1f ms", par_med);
    bu_note(&rep, "Parallel results: %s", par_text);
    bu_note(&rep, "%s", "");
  }
  bu_row(&rep, "W1", "seq_ms", workers, (long long)n, seq, (size_t)reps, "ms");
  bu_row(&rep, "W1", "par_ms", workers, (long long)n, par, (size_t)reps, "ms");
  bu_row(&rep, "W1", "seq_overhead_ms", workers, (long long)n, seq_ov,
         (size_t)reps, "ms");
  bu_row(&rep, "W1", "par_overhead_ms", workers, (long long)n, par_ov,
         (size_t)reps, "ms");
  bu_row(&rep, "W1", "seq_timer_late_ms", workers, (long long)n, seq_late,
         (size_t)reps, "ms");
  bu_row(&rep, "W1", "par_timer_late_ms", workers, (long long)n, par_late,
         (size_t)reps, "ms");
  bu_row(&rep, "W1", "par_overhead_pct", workers, (long long)n, par_pct,
         (size_t)reps, "%");
  bu_row(&rep, "W1", "speedup", workers, (long long)n, speedup, (size_t)reps,
         "x");
  bu_note(&rep,
          "seq_overhead = sequential - sum(task) (%ld ms); par_overhead = "
          "parallel - max(task) (%ld ms)",
          sum, max);
  bu_note(&rep, "timer_late = how late the tasks' own sleeps returned, "
                "part of each overhead");

  free(s);
  free(fs);
  free(res);
  free(seq);
  free(par);
  free(seq_ov);
  free(par_ov);
  free(par_pct);
  free(speedup);
  free(seq_late);
  free(par_late);
  bu_list_free(&tasks);
  bu_list_free(&threads);
  return 0;
}
