/* SPDX-License-Identifier: MIT */
/*
 * W1, the seed demo: tasks that only sleep, awaited one after another
 * (submit, future_get, submit, future_get) and then all at once (submit
 * every task, futures_join_all). The C form of
 *   const r1 = await task1(); const r2 = await task2();
 *   const [r1, r2] = await Promise.all([task1(), task2()]);
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "futures.h"

struct sleeper {
  long ms;           /* how long the task sleeps */
  int index;         /* 1-based, for "Task <index> done" */
  char text[32];     /* the task's result */
  long long late_ns; /* how much longer than ms the sleep itself took */
};

/* Sleeps to an absolute deadline so that a signal cannot stretch the task. */
static int
sleep_task(void *arg, void **result)
{
  struct sleeper *s = arg;
  long long t0 = bu_now_ns();

  bu_sleep_ns((long long)s->ms * 1000000LL);
  /* The timer's own lateness, so that it is not blamed on the pool. */
  s->late_ns = bu_now_ns() - t0 - (long long)s->ms * 1000000LL;
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

static const char usage[] =
    "usage: seq_vs_par [options]\n"
    "\n"
    "W1, the seed demo. Each task sleeps for its duration and returns\n"
    "\"Task i done\". Sequential: submit task 1, future_get it, then task 2,\n"
    "and so on. Parallel: submit every task, then futures_join_all. Prints\n"
    "both timings and results, then the overhead of the parallel run over\n"
    "max(task) and of the sequential run over sum(task).";

static const char epilog[] =
    "With --reps above 1 the four demo lines show the medians. With --csv\n"
    "only CSV rows are printed (bench,workload,metric,workers,n,median,min,\n"
    "max,unit).";

int
main(int argc, char **argv)
{
  struct bu_list tasks = {0, NULL}, threads = {0, NULL};
  long reps = 1;
  int csv = 0;
  double timeout = 0;
  const struct bu_opt opts[] = {
      {"tasks", BU_OPT_LIST, &tasks, "MS,MS,...",
       "task durations in ms (default 1000,500)", NULL},
      {"threads", BU_OPT_LIST, &threads, "N", "workers (default: one per task)",
       NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "repetitions (default 1)", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
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
  workers = threads.n > 0 ? threads.v[0] : (long)n;
  if (workers <= 0)
    workers = (long)bu_online_cpus();
  if (reps < 1)
    bu_die("--reps must be at least 1");
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

  BU_CHECK(futures_pool_create(&pool, (size_t)workers));
  for (long r = 0; r < reps; r++) {
    reset(s, &tasks);
    seq[r] = run_sequential(pool, s, res, n);
    check_results("sequential", s, res, n, seq_text, sizeof(seq_text));
    for (size_t i = 0; i < n; i++)
      seq_late[r] += (double)s[i].late_ns / 1e6;
    reset(s, &tasks);
    par[r] = run_parallel(pool, s, res, fs, n);
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
  BU_CHECK(futures_pool_destroy(pool));
  bu_watchdog_stop();

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
