/* SPDX-License-Identifier: MIT */
/*
 * check_stats: futures_pool_stats() counters and future_times(). The
 * header promises exact counters only when the pool is quiet, so each test
 * first brings the pool to a stable state (workers held on latches, or all
 * work joined), polls until the counters reach it (bounded, so a wrong
 * counter fails instead of hanging), then asserts every field of that one
 * snapshot. Timing checks use generous lower bounds only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* CPU_COUNT, sched_getaffinity */
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "futures.h"
#include "testutil.h"

Suite *stats_suite(void);

#define MS  1000000LL /* nanoseconds per millisecond */
#define ANY -1LL      /* a counter the wait does not look at */

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A task that fails with EDOM: it still ran to the end. */
static int
task_fail_edom(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EDOM;
}

/* The counter values a test waits for; ANY where it does not care. */
struct want {
  long long queued, running, completed, cancelled, helped;
};

struct stats_poll {
  futures_pool_t *pool;
  const struct want *w;
  futures_stats_t st; /* the last snapshot */
  int rc;             /* the last futures_pool_stats() return */
};

static int
matches(long long want, unsigned long long got)
{
  return want == ANY || (unsigned long long)want == got;
}

static int
stats_match(void *arg)
{
  struct stats_poll *p = arg;

  p->st.size = sizeof(p->st);
  p->rc = futures_pool_stats(p->pool, &p->st);
  return p->rc == 0 && matches(p->w->queued, p->st.queued) &&
         matches(p->w->running, p->st.running) &&
         matches(p->w->completed, p->st.completed) &&
         matches(p->w->cancelled, p->st.cancelled) &&
         matches(p->w->helped, p->st.helped);
}

/*
 * Polls the counters until they reach @w (10 s at most) and leaves the
 * last snapshot in @st; fails the test with the snapshot if they never do.
 */
static void
stats_reach(futures_pool_t *pool, struct want w, futures_stats_t *st)
{
  struct stats_poll p = {pool, &w, FUTURES_STATS_INIT, 0};
  int ok = tu_spin_until(stats_match, &p, 10000 * MS);

  ck_assert_int_eq(p.rc, 0);
  ck_assert_msg(ok,
                "counters never reached the quiet state: queued %zu "
                "running %zu completed %llu cancelled %llu helped %llu",
                p.st.queued, p.st.running, p.st.completed, p.st.cancelled,
                p.st.helped);
  *st = p.st;
}

/* ------------------------------------------------------------ counters */

/*
 * After N tasks (successes and failures) complete: completed == N,
 * submitted == N, queued == 0, running == 0, cancelled == 0, workers is
 * the pool size, shutting_down 0; helped and stolen cannot exceed N.
 */
START_TEST(test_stats_after_n_tasks_complete)
{
  enum { N = 100 };
  futures_pool_t *pool;
  future_t *fs[N];
  futures_stats_t st;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(
        futures_submit(pool, i % 10 ? task_echo : task_fail_edom, NULL, &fs[i]),
        0);
  ck_assert_int_eq(futures_join_all(fs, N, NULL), EDOM);
  stats_reach(pool, (struct want){0, 0, N, ANY, ANY}, &st);
  ck_assert_uint_eq(st.submitted, N);
  ck_assert_uint_eq(st.completed, N);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.running, 0);
  ck_assert_uint_eq(st.cancelled, 0);
  ck_assert_uint_eq(st.workers, 2);
  ck_assert_int_eq(st.shutting_down, 0);
  ck_assert_uint_le(st.helped, N);
  ck_assert_uint_le(st.stolen, N);
  for (int i = 0; i < N; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * With the single worker held by a latch (it signalled that it started)
 * and k = 5 tasks queued behind it: queued == 5, running == 1,
 * submitted == 6, completed == 0. After release and join: 0, 0, 6, 6.
 */
START_TEST(test_stats_queued_and_running_with_worker_held)
{
  enum { K = 5 };
  futures_pool_t *pool;
  future_t *held, *fs[K];
  struct tu_hold h;
  futures_stats_t st;
  struct timespec dl;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  stats_reach(pool, (struct want){0, 0, 0, 0, 0}, &st);
  ck_assert_uint_eq(st.submitted, 0);
  ck_assert_uint_eq(st.workers, 1);

  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  for (int i = 0; i < K; i++)
    ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &fs[i]), 0);
  stats_reach(pool, (struct want){K, 1, 0, 0, 0}, &st);
  ck_assert_uint_eq(st.submitted, K + 1);
  ck_assert_uint_eq(st.queued, K);
  ck_assert_uint_eq(st.running, 1);
  ck_assert_uint_eq(st.completed, 0);

  tu_latch_open(&h.release);
  /* A timed join does not run tasks here, so helped stays 0. */
  dl = tu_deadline_in(20000 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, K, NULL, &dl), 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  stats_reach(pool, (struct want){0, 0, K + 1, 0, ANY}, &st);
  ck_assert_uint_eq(st.submitted, K + 1);
  ck_assert_uint_eq(st.helped, 0);

  future_release(held);
  for (int i = 0; i < K; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * Cancelled tasks are counted in cancelled (and in submitted, since they
 * were accepted) and leave queued; they never count as completed.
 */
START_TEST(test_stats_counts_cancelled_tasks)
{
  futures_pool_t *pool;
  future_t *held, *fs[3];
  struct tu_hold h;
  futures_stats_t st;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &fs[i]), 0);
  ck_assert_int_eq(future_cancel(fs[0]), 0);
  ck_assert_int_eq(future_cancel(fs[2]), 0);
  stats_reach(pool, (struct want){1, 1, 0, 2, 0}, &st);
  ck_assert_uint_eq(st.submitted, 4);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_get(fs[1], NULL), 0);
  stats_reach(pool, (struct want){0, 0, 2, 2, ANY}, &st);
  ck_assert_uint_eq(st.submitted, 4);

  future_release(held);
  for (int i = 0; i < 3; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

struct whoami {
  pthread_t thread;
};

static int
task_whoami(void *arg, void **result)
{
  ((struct whoami *)arg)->thread = pthread_self();
  *result = arg;
  return 0;
}

/*
 * helped grows by exactly one when an external future_get() runs a queued
 * task itself (the only worker is held, so nothing else can help or run
 * it), and the task counts as completed.
 */
START_TEST(test_stats_helped_counts_task_run_by_waiter)
{
  futures_pool_t *pool;
  future_t *held, *f;
  struct tu_hold h;
  struct whoami w;
  futures_stats_t st;
  unsigned long long helped0;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_whoami, &w, &f), 0);
  stats_reach(pool, (struct want){1, 1, 0, 0, ANY}, &st);
  helped0 = st.helped;

  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert(pthread_equal(w.thread, pthread_self()));
  stats_reach(pool, (struct want){0, 1, 1, 0, (long long)helped0 + 1}, &st);
  ck_assert_uint_eq(st.helped, helped0 + 1);
  ck_assert_uint_eq(st.submitted, 2);

  tu_latch_open(&h.release);
  future_release(held);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * workers equals the pool size: 1 and 3 as asked, and for 0 the number of
 * CPUs this process may run on (sched_getaffinity(), as the header says).
 */
START_TEST(test_stats_workers_equals_pool_size)
{
  static const size_t sizes[] = {1, 3};
  futures_pool_t *pool;
  futures_stats_t st = FUTURES_STATS_INIT;
  cpu_set_t set;

  for (size_t i = 0; i < 2; i++) {
    ck_assert_int_eq(futures_pool_create(&pool, sizes[i]), 0);
    ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
    ck_assert_uint_eq(st.workers, sizes[i]);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
  }
  ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 0), 0);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_uint_eq(st.workers, (size_t)CPU_COUNT(&set));
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct destroyer {
  futures_pool_t *pool;
  int rc;
};

static void *
destroy_main(void *arg)
{
  struct destroyer *d = arg;

  d->rc = futures_pool_destroy(d->pool);
  return NULL;
}

static int
shutting_down(void *arg)
{
  futures_stats_t st = FUTURES_STATS_INIT;

  return futures_pool_stats(arg, &st) == 0 && st.shutting_down;
}

/*
 * futures_pool_stats() works while the pool is being destroyed and says
 * so: with a task held, another thread's drain-mode destroy cannot finish,
 * and shutting_down becomes 1 (polled for at most 10 s).
 */
START_TEST(test_stats_reports_shutting_down_during_destroy)
{
  futures_pool_t *pool;
  future_t *held;
  struct tu_hold h;
  struct destroyer d;
  pthread_t t;
  int seen;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(shutting_down(pool), 0);
  d.pool = pool;
  d.rc = -1;
  ck_assert_int_eq(pthread_create(&t, NULL, destroy_main, &d), 0);
  seen = tu_spin_until(shutting_down, pool, 10000 * MS);
  tu_latch_open(&h.release);
  pthread_join(t, NULL);
  ck_assert_msg(seen, "shutting_down never became 1 during destroy");
  ck_assert_int_eq(d.rc, 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ timing */

static futures_pool_t *
timing_pool(size_t nthreads)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;

  o.nthreads = nthreads;
  o.flags = FUTURES_POOL_TIMING;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  return pool;
}

/* A task that busy-waits 20 ms on CLOCK_MONOTONIC. */
static int
task_spin_20ms(void *arg, void **result)
{
  (void)arg;
  tu_spin_for(20 * MS);
  *result = NULL;
  return 0;
}

/*
 * With FUTURES_POOL_TIMING, future_times() brackets known waits: held >= 30 ms
 * after starting, queued >= 30 ms behind it, a 20 ms spin ran >= 20 ms. Lower
 * bounds only: a loaded machine can only make times longer.
 */
START_TEST(test_times_bracket_known_waits)
{
  futures_pool_t *pool = timing_pool(1);
  future_t *held, *behind, *spin;
  struct tu_hold h;
  long long q = -1, r = -1;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &behind), 0);
  tu_spin_for(30 * MS);
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_get(behind, NULL), 0);
  ck_assert_int_eq(futures_submit(pool, task_spin_20ms, NULL, &spin), 0);
  ck_assert_int_eq(future_get(spin, NULL), 0);

  ck_assert_int_eq(future_times(held, &q, &r), 0);
  ck_assert_int_ge(q, 0);
  ck_assert_int_ge(r, 30 * MS);
  ck_assert_int_eq(future_times(behind, &q, &r), 0);
  ck_assert_int_ge(q, 30 * MS);
  ck_assert_int_ge(r, 0);
  ck_assert_int_eq(future_times(spin, &q, &r), 0);
  ck_assert_int_ge(q, 0);
  ck_assert_int_ge(r, 20 * MS);
  /* Both outputs are optional. */
  ck_assert_int_eq(future_times(spin, NULL, NULL), 0);
  ck_assert_int_eq(future_times(spin, &q, NULL), 0);

  future_release(held);
  future_release(behind);
  future_release(spin);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * A cancelled task's times: queued_ns runs from submit to the cancel
 * (>= the 20 ms the test waited in between) and running_ns is 0.
 */
START_TEST(test_times_of_cancelled_task)
{
  futures_pool_t *pool = timing_pool(1);
  future_t *held, *f;
  struct tu_hold h;
  long long q = -1, r = -1;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &f), 0);
  tu_spin_for(20 * MS);
  ck_assert_int_eq(future_cancel(f), 0);
  ck_assert_int_eq(future_times(f, &q, &r), 0);
  ck_assert_int_ge(q, 20 * MS);
  ck_assert_int_eq(r, 0);

  tu_latch_open(&h.release);
  future_release(held);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * future_times() refuses: ENOTSUP for a finished future of a pool created
 * without FUTURES_POOL_TIMING, EBUSY for an unfinished one of a timing
 * pool, EINVAL for NULL.
 */
START_TEST(test_times_errors)
{
  futures_pool_t *plain, *timed;
  future_t *f, *held;
  struct tu_hold h;
  long long q = -1, r = -1;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(future_times(NULL, &q, &r), EINVAL);
  ck_assert_int_eq(futures_pool_create(&plain, 1), 0);
  ck_assert_int_eq(futures_submit(plain, task_echo, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_times(f, &q, &r), ENOTSUP);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(plain), 0);

  timed = timing_pool(1);
  ck_assert_int_eq(futures_submit(timed, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(future_times(held, &q, &r), EBUSY);
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_times(held, &q, &r), 0);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(timed), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/* What the concurrent readers of the counters saw that they should not. */
struct stats_readers {
  futures_pool_t *pool;
  size_t workers;
  atomic_long reads, bad;
};

static void
stats_read_once(struct stats_readers *r)
{
  futures_stats_t st = FUTURES_STATS_INIT;

  if (futures_pool_stats(r->pool, &st) != 0 || st.workers != r->workers ||
      st.shutting_down != 0)
    atomic_fetch_add(&r->bad, 1);
  atomic_fetch_add(&r->reads, 1);
}

static void
stats_reader_thread(void *arg, int i)
{
  (void)i;
  for (int k = 0; k < 1000; k++)
    stats_read_once(arg);
}

static int
stats_reader_task(void *arg, void **result)
{
  stats_read_once(arg);
  *result = arg;
  return 0;
}

/*
 * futures_pool_stats() from 4 threads and 200 of the pool's tasks while they
 * run: every read succeeds with its constant fields right, and the counts are
 * exact once the pool is quiet.
 */
START_TEST(test_stats_read_from_threads_and_tasks_while_tasks_run)
{
  enum { TASKS = 200 };
  struct stats_readers r;
  futures_stats_t st;
  future_t *f[TASKS];
  long bad;

  r.workers = 2;
  atomic_init(&r.reads, 0);
  atomic_init(&r.bad, 0);
  ck_assert_int_eq(futures_pool_create(&r.pool, r.workers), 0);
  for (int i = 0; i < TASKS; i++)
    ck_assert_int_eq(futures_submit(r.pool, stats_reader_task, &r, &f[i]), 0);
  ck_assert_int_eq(tu_run_threads(4, stats_reader_thread, &r), 0);
  ck_assert_int_eq(futures_join_all(f, TASKS, NULL), 0);
  bad = atomic_load(&r.bad);
  ck_assert_int_eq(atomic_load(&r.reads), 4 * 1000 + TASKS);
  ck_assert_msg(bad == 0, "%ld reads of the counters failed or were wrong",
                bad);
  stats_reach(r.pool, (struct want){0, 0, TASKS, 0, ANY}, &st);
  ck_assert_uint_eq(st.submitted, TASKS);
  for (int i = 0; i < TASKS; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(r.pool), 0);
}
END_TEST

/* Many readers of one finished future's times. */
struct times_readers {
  future_t *f;
  long long queued, running; /* the test thread's reading */
  atomic_int reads, bad;
};

static void
times_read_once(struct times_readers *t)
{
  long long q = -1, r = -1;

  if (future_times(t->f, &q, &r) != 0 || q != t->queued || r != t->running)
    atomic_fetch_add(&t->bad, 1);
  atomic_fetch_add(&t->reads, 1);
}

static void
times_reader_thread(void *arg, int i)
{
  (void)i;
  for (int k = 0; k < 100; k++)
    times_read_once(arg);
}

static int
times_reader_task(void *arg, void **result)
{
  for (int k = 0; k < 100; k++)
    times_read_once(arg);
  *result = arg;
  return 0;
}

/*
 * future_times() on one finished future from 4 threads and a task of the
 * pool, 100 times each: every reading equals the test thread's.
 */
START_TEST(test_times_read_from_many_threads_and_a_task_agree)
{
  struct times_readers t;
  futures_pool_t *pool = timing_pool(2);
  future_t *task;
  void *res = NULL;
  int bad;

  atomic_init(&t.reads, 0);
  atomic_init(&t.bad, 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &t.f), 0);
  ck_assert_int_eq(future_get(t.f, NULL), 0);
  ck_assert_int_eq(future_times(t.f, &t.queued, &t.running), 0);
  ck_assert_int_eq(futures_submit(pool, times_reader_task, &t, &task), 0);
  ck_assert_int_eq(tu_run_threads(4, times_reader_thread, &t), 0);
  ck_assert_int_eq(future_get(task, &res), 0);
  ck_assert_ptr_eq(res, &t);
  bad = atomic_load(&t.bad);
  ck_assert_int_eq(atomic_load(&t.reads), 5 * 100);
  ck_assert_msg(bad == 0, "%d readings of the times failed or differed", bad);
  future_release(task);
  future_release(t.f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * futures_pool_stats() refuses a NULL pool, NULL stats, and a size field
 * smaller than the first version's struct, with EINVAL.
 */
START_TEST(test_stats_rejects_bad_arguments)
{
  futures_pool_t *pool;
  futures_stats_t st = FUTURES_STATS_INIT;

  ck_assert_int_eq(futures_pool_stats(NULL, &st), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_stats(pool, NULL), EINVAL);
  st.size = 0;
  ck_assert_int_eq(futures_pool_stats(pool, &st), EINVAL);
  st.size = sizeof(size_t);
  ck_assert_int_eq(futures_pool_stats(pool, &st), EINVAL);
  st.size = sizeof(st);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

Suite *
stats_suite(void)
{
  Suite *s = suite_create("stats");
  TCase *tc;

  tc = tcase_create("counters");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_stats_after_n_tasks_complete);
  tcase_add_test(tc, test_stats_queued_and_running_with_worker_held);
  tcase_add_test(tc, test_stats_counts_cancelled_tasks);
  tcase_add_test(tc, test_stats_helped_counts_task_run_by_waiter);
  tcase_add_test(tc, test_stats_workers_equals_pool_size);
  tcase_add_test(tc, test_stats_reports_shutting_down_during_destroy);
  suite_add_tcase(s, tc);

  tc = tcase_create("timing");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_times_bracket_known_waits);
  tcase_add_test(tc, test_times_of_cancelled_task);
  tcase_add_test(tc, test_times_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_stats_read_from_threads_and_tasks_while_tasks_run);
  tcase_add_test(tc, test_times_read_from_many_threads_and_a_task_agree);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_stats_rejects_bad_arguments);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(stats_suite());
}
