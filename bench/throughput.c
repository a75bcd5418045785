/* SPDX-License-Identifier: MIT */
/*
 * W2, throughput: N empty tasks (each returns arg + 1), every one with its
 * own future, then futures_join_all, the results checked and the futures
 * released. Three ways to submit (the main thread; one task fanning out
 * from a worker; S external threads), a worker-count series (--scaling),
 * the memory a future in flight costs, peak RSS, and a soak run that shows
 * whether RSS stays flat over 100 million tasks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "futures.h"

/* Phases of one run, in nanoseconds. */
struct times {
  long long submit;  /* every futures_submit() */
  long long join;    /* the futures_join_all() */
  long long release; /* every future_release() */
  long long total;   /* end to end, as the caller sees it */
};

/* The run's futures and results; sized for the largest run. */
static future_t **fs;
static void **res;

static int
inc_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

static void
verify(long lo, long hi, const char *what)
{
  for (long i = lo; i < hi; i++)
    if ((uintptr_t)res[i] != (uintptr_t)i + 1)
      bu_die("%s: task %ld returned %p, expected %ld", what, i, res[i], i + 1);
}

/* Submits fs[lo..hi), joins and releases them; 0 or the first error. */
static int
submit_join_release(futures_pool_t *pool, long lo, long hi, struct times *t)
{
  long long t0, t1, t2, t3;
  int rc = 0;
  long i;

  t0 = bu_now_ns();
  for (i = lo; i < hi; i++) {
    rc = futures_submit(pool, inc_task, (void *)(uintptr_t)i, &fs[i]);
    if (rc != 0)
      break;
  }
  t1 = bu_now_ns();
  if (rc == 0)
    rc = futures_join_all(fs + lo, (size_t)(hi - lo), res + lo);
  t2 = bu_now_ns();
  /* On a submit error only the futures obtained so far are released. */
  for (long j = lo; j < i; j++)
    future_release(fs[j]);
  t3 = bu_now_ns();
  if (t != NULL) {
    t->submit = t1 - t0;
    t->join = t2 - t1;
    t->release = t3 - t2;
    t->total = t3 - t0;
  }
  return rc;
}

/* ------------------------------------------------------------ modes */

static struct times
run_external(futures_pool_t *pool, long n)
{
  struct times t;

  memset(res, 0, (size_t)n * sizeof(*res));
  BU_CHECK(submit_join_release(pool, 0, n, &t));
  verify(0, n, "external");
  return t;
}

struct fanout {
  futures_pool_t *pool;
  long n;
};

/* One task submits all N into its own worker's queue, then joins them. */
static int
fanout_task(void *arg, void **result)
{
  struct fanout *fo = arg;

  (void)result;
  return submit_join_release(fo->pool, 0, fo->n, NULL);
}

static struct times
run_fanout(futures_pool_t *pool, long n)
{
  struct fanout fo = {pool, n};
  struct times t = {0, 0, 0, 0};
  long long t0;
  future_t *root;

  memset(res, 0, (size_t)n * sizeof(*res));
  t0 = bu_now_ns();
  BU_CHECK(futures_submit(pool, fanout_task, &fo, &root));
  BU_CHECK(future_get(root, NULL));
  future_release(root);
  t.total = bu_now_ns() - t0;
  verify(0, n, "fanout");
  return t;
}

struct submitter {
  pthread_t thread;
  futures_pool_t *pool;
  long lo, hi;
  int rc;
};

static atomic_int ready, go;

/* Each external thread submits, joins and releases its own slice. */
static void *
submitter_main(void *arg)
{
  struct submitter *s = arg;

  atomic_fetch_add(&ready, 1);
  /* Yield rather than spin: the submitters may outnumber the cores. */
  while (!atomic_load(&go))
    sched_yield();
  s->rc = submit_join_release(s->pool, s->lo, s->hi, NULL);
  return NULL;
}

static struct times
run_submitters(futures_pool_t *pool, long n, long nsub)
{
  struct submitter *subs = calloc((size_t)nsub, sizeof(*subs));
  struct times t = {0, 0, 0, 0};
  long long t0;

  if (subs == NULL)
    bu_die("out of memory");
  memset(res, 0, (size_t)n * sizeof(*res));
  atomic_store(&ready, 0);
  atomic_store(&go, 0);
  for (long i = 0; i < nsub; i++) {
    subs[i].pool = pool;
    subs[i].lo = n * i / nsub;
    subs[i].hi = n * (i + 1) / nsub;
    if (pthread_create(&subs[i].thread, NULL, submitter_main, &subs[i]) != 0)
      bu_die("cannot start submitter thread %ld", i);
  }
  /* Thread start-up stays outside the timed region. */
  while (atomic_load(&ready) < nsub)
    sched_yield();
  t0 = bu_now_ns();
  atomic_store(&go, 1);
  for (long i = 0; i < nsub; i++)
    pthread_join(subs[i].thread, NULL);
  t.total = bu_now_ns() - t0;
  for (long i = 0; i < nsub; i++)
    if (subs[i].rc != 0)
      bu_die("submitter %ld: %s", i, bu_strerror(subs[i].rc));
  free(subs);
  verify(0, n, "submitters");
  return t;
}

enum mode { MODE_EXTERNAL, MODE_FANOUT, MODE_SUBMITTERS, MODE_COUNT };

static const char *const mode_names[MODE_COUNT] = {"external", "fanout",
                                                   "submitters"};

static struct times
run_mode(enum mode m, futures_pool_t *pool, long n, long nsub)
{
  switch (m) {
  case MODE_FANOUT:
    return run_fanout(pool, n);
  case MODE_SUBMITTERS:
    return run_submitters(pool, n, nsub);
  case MODE_EXTERNAL:
  case MODE_COUNT:
    break;
  }
  return run_external(pool, n);
}

/* Runs one mode on one pool: warm-up, then reps, then the rows. */
static void
measure(struct bu_report *rep, enum mode m, futures_pool_t *pool, long workers,
        long n, long reps, long warmup, long nsub)
{
  double *mt = calloc((size_t)reps, sizeof(double));
  double *ns = calloc((size_t)reps, sizeof(double));
  double *sub = calloc((size_t)reps, sizeof(double));
  double *join = calloc((size_t)reps, sizeof(double));
  double *rel = calloc((size_t)reps, sizeof(double));
  double *cpu = calloc((size_t)reps, sizeof(double));
  futures_stats_t a = FUTURES_STATS_INIT, b = FUTURES_STATS_INIT;
  char workload[32];
  int ok_a, ok_b;

  if (!mt || !ns || !sub || !join || !rel || !cpu)
    bu_die("out of memory");
  if (m == MODE_EXTERNAL)
    snprintf(workload, sizeof(workload), "W2");
  else if (m == MODE_FANOUT)
    snprintf(workload, sizeof(workload), "W2_fanout");
  else
    snprintf(workload, sizeof(workload), "W2_submitters%ld", nsub);
  for (long w = 0; w < warmup; w++)
    run_mode(m, pool, n / 10 > 0 ? n / 10 : 1, nsub);
  ok_a = futures_pool_stats(pool, &a);
  for (long r = 0; r < reps; r++) {
    double c0 = bu_cpu_seconds();
    long long w0 = bu_now_ns();
    struct times t = run_mode(m, pool, n, nsub);

    /* Cores busy on average: above the worker count means spinning. */
    cpu[r] = (bu_cpu_seconds() - c0) / ((double)(bu_now_ns() - w0) / 1e9);
    mt[r] = (double)n / ((double)t.total / 1e9) / 1e6;
    ns[r] = (double)t.total / (double)n;
    sub[r] = (double)t.submit / (double)n;
    join[r] = (double)t.join / (double)n;
    rel[r] = (double)t.release / (double)n;
  }
  ok_b = futures_pool_stats(pool, &b);
  bu_row(rep, workload, "Mtasks_per_s", workers, n, mt, (size_t)reps,
         "Mtask/s");
  bu_row(rep, workload, "ns_per_task", workers, n, ns, (size_t)reps, "ns");
  if (m == MODE_EXTERNAL) {
    bu_row(rep, workload, "submit_ns_per_task", workers, n, sub, (size_t)reps,
           "ns");
    bu_row(rep, workload, "join_ns_per_task", workers, n, join, (size_t)reps,
           "ns");
    bu_row(rep, workload, "release_ns_per_task", workers, n, rel, (size_t)reps,
           "ns");
  }
  bu_row(rep, workload, "cpu_cores", workers, n, cpu, (size_t)reps, "cores");
  bu_row_stats(rep, workload, workers, &a, ok_a, &b, ok_b);
  free(cpu);
  free(mt);
  free(ns);
  free(sub);
  free(join);
  free(rel);
}

/* ------------------------------------------------------------ memory */

struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int started; /* protected by lock: the holding task is running */
  int open;    /* protected by lock: the holding task may return */
};

/* Occupies the pool's only worker until the gate opens. */
static int
hold_task(void *arg, void **result)
{
  struct gate *g = arg;

  (void)result;
  pthread_mutex_lock(&g->lock);
  g->started = 1;
  pthread_cond_broadcast(&g->cond);
  while (!g->open) /* predicate: main has measured and opened the gate */
    pthread_cond_wait(&g->cond, &g->lock);
  pthread_mutex_unlock(&g->lock);
  return 0;
}

/* What the memory child reports back through the pipe. */
struct mem_result {
  double rss_before, rss_inflight, rss_after, queued;
};

/*
 * In a fresh child (no pool has run there, so no free list is warm): a
 * 1-worker pool whose worker is held by hold_task, N futures submitted and
 * still unfinished, RSS read from /proc before and after.
 */
static struct mem_result
memory_child(long n)
{
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  futures_stats_t st = FUTURES_STATS_INIT;
  struct mem_result m;
  futures_pool_t *pool;
  future_t *hold;

  BU_CHECK(futures_pool_create(&pool, 1));
  BU_CHECK(futures_submit(pool, hold_task, &g, &hold));
  pthread_mutex_lock(&g.lock);
  while (!g.started) /* predicate: the only worker is now busy */
    pthread_cond_wait(&g.cond, &g.lock);
  pthread_mutex_unlock(&g.lock);
  /* Touch both arrays first so that their pages are not in the delta. */
  memset(fs, 0, (size_t)n * sizeof(*fs));
  memset(res, 0, (size_t)n * sizeof(*res));
  m.rss_before = (double)bu_rss_bytes();
  for (long i = 0; i < n; i++)
    BU_CHECK(futures_submit(pool, inc_task, (void *)(uintptr_t)i, &fs[i]));
  m.rss_inflight = (double)bu_rss_bytes();
  m.queued = futures_pool_stats(pool, &st) == 0 ? (double)st.queued : -1;
  pthread_mutex_lock(&g.lock);
  g.open = 1;
  pthread_cond_broadcast(&g.cond);
  pthread_mutex_unlock(&g.lock);
  BU_CHECK(futures_join_all(fs, (size_t)n, res));
  verify(0, n, "memory");
  for (long i = 0; i < n; i++)
    future_release(fs[i]);
  BU_CHECK(future_get(hold, NULL));
  future_release(hold);
  BU_CHECK(futures_pool_destroy(pool));
  m.rss_after = (double)bu_rss_bytes();
  return m;
}

static void
measure_memory(struct bu_report *rep, long n)
{
  struct mem_result m;
  int fd[2], status = 0;
  pid_t pid;
  ssize_t got;

  if (pipe(fd) != 0)
    bu_die("pipe: %s", bu_strerror(errno));
  fflush(stdout);
  pid = fork();
  if (pid < 0)
    bu_die("fork: %s", bu_strerror(errno));
  if (pid == 0) {
    close(fd[0]);
    m = memory_child(n);
    _exit(write(fd[1], &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : 1);
  }
  close(fd[1]);
  got = read(fd[0], &m, sizeof(m));
  close(fd[0]);
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof(m))
    bu_die("memory probe child failed (status 0x%x)", status);
  bu_row1(rep, "W2_memory", "bytes_per_inflight", 1, n,
          (m.rss_inflight - m.rss_before) / (double)n, "B");
  bu_row1(rep, "W2_memory", "rss_inflight_MB", 1, n, m.rss_inflight / 1048576,
          "MB");
  bu_row1(rep, "W2_memory", "rss_after_MB", 1, n, m.rss_after / 1048576, "MB");
  if (m.queued >= 0 && m.queued < (double)n)
    bu_note(
        rep,
        "note: the pool reported %.0f of %ld tasks queued when RSS was read "
        "(fewer means some ran before they could be counted)",
        m.queued, n);
}

/* ------------------------------------------------------------ soak */

static void
soak(struct bu_report *rep, long workers, long total, long batch, long every)
{
  long long t0 = bu_now_ns();
  double first = -1, last = 0;
  futures_pool_t *pool;
  long done = 0, next = every;

  BU_CHECK(futures_pool_create(&pool, (size_t)workers));
  while (done < total) {
    long b = total - done < batch ? total - done : batch;

    memset(res, 0, (size_t)b * sizeof(*res));
    BU_CHECK(submit_join_release(pool, 0, b, NULL));
    verify(0, b, "soak");
    done += b;
    if (done == b || done >= next || done == total) {
      last = (double)bu_rss_bytes() / 1048576;
      if (first < 0)
        first = last;
      bu_row1(rep, "W2_soak", "rss_MB", workers, done, last, "MB");
      while (next <= done)
        next += every;
    }
  }
  bu_row1(rep, "W2_soak", "Mtasks_per_s", workers, total,
          (double)total / ((double)(bu_now_ns() - t0) / 1e9) / 1e6, "Mtask/s");
  bu_row1(rep, "W2_soak", "rss_growth_MB", workers, total, last - first, "MB");
  bu_row1(rep, "W2_soak", "peak_rss_MB", workers, total,
          (double)bu_peak_rss_kb() / 1024, "MB");
  BU_CHECK(futures_pool_destroy(pool));
}

/* ------------------------------------------------------------ main */

/* ---- --host-rt: what a hand-off between the two CPUs costs right now */

/* One cache line bounced between two threads pinned to two CPUs: the
 * ball holds 2k+1 after the first thread's k-th throw, 2k+2 after the
 * second's answer. */
static struct {
  _Alignas(64) atomic_long ball;
  long rounds;
  int cpu[2];
} rt;

static void *
rt_answer(void *unused)
{
  cpu_set_t set;

  (void)unused;
  CPU_ZERO(&set);
  CPU_SET(rt.cpu[1], &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  for (long k = 0; k < rt.rounds; k++) {
    while (atomic_load_explicit(&rt.ball, memory_order_acquire) != 2 * k + 1)
      ;
    atomic_store_explicit(&rt.ball, 2 * k + 2, memory_order_release);
  }
  return NULL;
}

/*
 * The round trips, in ns, of 5 batches of 20,000 throws between the first
 * two CPUs the process may run on, into v[0..5); returns 5, or 0 if the
 * process has fewer than two CPUs. The host decides where this VM's CPUs
 * sit; the figure moves with it.
 */
static size_t
host_round_trips_ns(double v[5])
{
  cpu_set_t mine, one;
  int found = 0;

  if (sched_getaffinity(0, sizeof(mine), &mine) != 0)
    return 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
    if (CPU_ISSET(c, &mine))
      rt.cpu[found++] = c;
  if (found < 2)
    return 0;
  CPU_ZERO(&one);
  CPU_SET(rt.cpu[0], &one);
  (void)pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
  rt.rounds = 20000;
  for (int b = 0; b < 5; b++) {
    pthread_t t;
    long long t0;

    atomic_store(&rt.ball, 0);
    if (pthread_create(&t, NULL, rt_answer, NULL) != 0)
      bu_die("pthread_create failed");
    t0 = bu_now_ns();
    for (long k = 0; k < rt.rounds; k++) {
      atomic_store_explicit(&rt.ball, 2 * k + 1, memory_order_release);
      while (atomic_load_explicit(&rt.ball, memory_order_acquire) !=
             2 * k + 2)
        ;
    }
    v[b] = (double)(bu_now_ns() - t0) / (double)rt.rounds;
    pthread_join(t, NULL);
  }
  (void)pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine);
  return 5;
}

/* The HOST row @metric: the median [min-max] of the 5 batches. */
static void
host_round_trip_row(struct bu_report *rep, const char *metric)
{
  double v[5];

  bu_row(rep, "HOST", metric, 2, 20000, v, host_round_trips_ns(v), "ns");
}

static const char usage[] =
    "usage: throughput [options]\n"
    "\n"
    "W2: N empty tasks (each returns arg + 1), one future each, then\n"
    "futures_join_all, results checked, futures released. The timed region\n"
    "is submit + join + release (release is inside it, as in the naive\n"
    "peer; the external mode also reports the three phases per task).\n"
    "Modes: external (the main thread submits), fanout (one task submits\n"
    "all N from a worker, then joins them), submitters (S external threads,\n"
    "N/S tasks each). Then the memory of a future in flight: a fresh child\n"
    "process holds the only worker of a 1-worker pool, submits N tasks and\n"
    "reads RSS before and after; and the process's peak RSS.\n"
    "cpu_cores is the process's CPU time over wall time (getrusage); on a\n"
    "VM whose host steals time, even a pure spin reads below 1.";

static const char epilog[] =
    "--soak replaces all of that with a long loop: batches of --batch tasks\n"
    "(submit, join, release) until --soak-tasks, printing RSS every --every\n"
    "tasks; the RSS column should stay flat.";

int
main(int argc, char **argv)
{
  struct bu_list threads = {0, NULL};
  long n = 1000000, reps = 5, warmup = 1, nsub = 2;
  long soak_tasks = 100000000, batch = 100000, every = 10000000;
  int csv = 0, scaling = 0, no_mem = 0, do_soak = 0, pin = 0, trace = 0;
  int host_rt = 0, pool_batch = 0;
  const char *modes = "external,fanout,submitters";
  double timeout = 0;
  const struct bu_opt opts[] = {
      {"n", BU_OPT_LONG, &n, "N", "tasks per run (default 1000000)", NULL},
      {"threads", BU_OPT_LIST, &threads, "LIST",
       "workers, e.g. 2 or 1,2,4 (default: one per CPU)", NULL},
      {"scaling", BU_OPT_FLAG, &scaling, NULL,
       "workers 1, 2, ... up to the number of CPUs", NULL},
      {"reps", BU_OPT_LONG, &reps, "N", "timed repetitions (default 5)", NULL},
      {"warmup", BU_OPT_LONG, &warmup, "N",
       "untimed runs of N/10 tasks first (default 1)", NULL},
      {"mode", BU_OPT_STRING, &modes, "LIST",
       "external,fanout,submitters (default: all three)", NULL},
      {"submitters", BU_OPT_LONG, &nsub, "S",
       "external threads in the submitters mode (default 2)", NULL},
      {"no-mem", BU_OPT_FLAG, &no_mem, NULL, "skip the in-flight memory probe",
       NULL},
      {"soak", BU_OPT_FLAG, &do_soak, NULL, "run the soak loop only", NULL},
      {"soak-tasks", BU_OPT_LONG, &soak_tasks, "N",
       "tasks in the soak loop (default 100M)", NULL},
      {"batch", BU_OPT_LONG, &batch, "N", "soak batch size (default 100k)",
       NULL},
      {"every", BU_OPT_LONG, &every, "N",
       "soak: RSS row every N tasks (default 10M)", NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "print CSV rows only", NULL},
      {"pin", BU_OPT_FLAG, &pin, NULL,
       "pin the measured pools' workers, one CPU each (FUTURES_PIN_EACH)",
       NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "give up after S seconds (default 0: never)", NULL},
      {"host-rt", BU_OPT_FLAG, &host_rt, NULL,
       "also measure a cache line's round trip between two CPUs, before and "
       "after the runs (the host's placement of this VM's CPUs)",
       NULL},
      {"trace", BU_OPT_FLAG, &trace, NULL,
       "pools record a timeline (FUTURES_POOL_TRACE), for its cost", NULL},
      {"pool-batch", BU_OPT_FLAG, &pool_batch, NULL,
       "workers take up to 8 queued tasks at once (FUTURES_POOL_BATCH)",
       NULL},
      {NULL, BU_OPT_FLAG, NULL, NULL, NULL, NULL}};
  int want[MODE_COUNT] = {0, 0, 0};
  char wbuf[256], tbuf[64];
  struct bu_report rep;
  long maxw = 0;
  size_t slots;

  if (bu_parse(argc, argv, usage, epilog, opts) != argc)
    bu_die("unexpected argument (try --help)");
  if (n < 1 || reps < 1 || warmup < 0 || nsub < 1 || batch < 1 ||
      soak_tasks < 1 || every < 1)
    bu_die("counts must be positive (try --help)");
  for (int m = 0; m < MODE_COUNT; m++)
    want[m] = strstr(modes, mode_names[m]) != NULL || strcmp(modes, "all") == 0;
  if (!want[0] && !want[1] && !want[2])
    bu_die("--mode: none of external, fanout, submitters in '%s'", modes);
  if (scaling)
    bu_list_range(&threads, (long)bu_online_cpus());
  else if (threads.n == 0)
    bu_list_one(&threads, (long)bu_online_cpus());
  for (size_t i = 0; i < threads.n; i++) {
    if (threads.v[i] == 0)
      threads.v[i] = (long)bu_online_cpus();
    maxw = threads.v[i] > maxw ? threads.v[i] : maxw;
  }

  slots = (size_t)(do_soak ? batch : n);
  fs = calloc(slots, sizeof(*fs));
  res = calloc(slots, sizeof(*res));
  if (fs == NULL || res == NULL)
    bu_die("out of memory for %zu futures", slots);

  bu_watchdog_start(timeout, 0);
  bu_report_init(&rep, "throughput", csv);
  bu_list_str(&threads, wbuf, sizeof(wbuf));
  if (do_soak) {
    snprintf(tbuf, sizeof(tbuf), "%ld in batches of %ld", soak_tasks, batch);
    bu_header(&rep, wbuf, tbuf, 1, 0);
    soak(&rep, threads.v[0], soak_tasks, batch, every);
  } else {
    snprintf(tbuf, sizeof(tbuf), "%ld", n);
    bu_header(&rep, wbuf, tbuf, (int)reps, (int)warmup);
    /* Before any pool exists here, so that the child forks a clean state. */
    if (!no_mem)
      measure_memory(&rep, n);
    if (host_rt)
      host_round_trip_row(&rep, "cacheline_rt_before_ns");
    for (size_t i = 0; i < threads.n; i++) {
      futures_pool_opts_t po = FUTURES_POOL_OPTS_INIT;
      futures_pool_t *pool;

      po.nthreads = (size_t)threads.v[i];
      po.pin = pin ? FUTURES_PIN_EACH : FUTURES_PIN_NONE;
      po.flags = (trace ? FUTURES_POOL_TRACE : 0u) |
                 (pool_batch ? FUTURES_POOL_BATCH : 0u);
      BU_CHECK(futures_pool_create_ex(&pool, &po));
      for (int m = 0; m < MODE_COUNT; m++)
        if (want[m])
          measure(&rep, (enum mode)m, pool, threads.v[i], n, reps, warmup,
                  nsub);
      BU_CHECK(futures_pool_destroy(pool));
    }
    if (host_rt)
      host_round_trip_row(&rep, "cacheline_rt_after_ns");
    bu_row1(&rep, "W2", "peak_rss_MB", maxw, n, (double)bu_peak_rss_kb() / 1024,
            "MB");
    bu_note(&rep,
            "peak RSS is the whole process; the future and result arrays "
            "alone are %.1f MB",
            (double)(2 * slots * sizeof(void *)) / 1048576);
  }
  bu_watchdog_stop();
  free(fs);
  free(res);
  bu_list_free(&threads);
  return 0;
}
