/* SPDX-License-Identifier: MIT */
/*
 * check_combinators: the Promise combinators beyond futures_join_all():
 * futures_join_all_settled() (allSettled), futures_join_all_failfast()
 * (all, rejecting early), futures_join_any() / futures_join_any_until()
 * (race) and futures_join_any_ok() (any). Futures that must stay unfinished
 * are tasks held on a latch that is already running on a worker, so a
 * caller that runs unstarted tasks while it waits can never pick them up.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *combinators_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A task that fails with the code stored at @arg. */
static int
task_fail(void *arg, void **result)
{
  (void)result;
  return *(const int *)arg;
}

/* A task that counts its runs in the atomic int at @arg and returns 0. */
static int
task_count(void *arg, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = arg;
  return 0;
}

static const int code_eio = EIO;
static const int code_edom = EDOM;
static const int code_erange = ERANGE;

static void
release_all(future_t **fs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    future_release(fs[i]);
}

/* ------------------------------------------------------------ settled */

/*
 * futures_join_all_settled() reports each future's own code and result over
 * successes, failures and cancellations (cancelled while the single worker is
 * held); cancelled tasks never ran; failed entries have a NULL result.
 */
START_TEST(test_settled_reports_each_success_failure_and_cancellation)
{
  enum { N = 7 };
  futures_pool_t *pool;
  future_t *fs[N];
  futures_outcome_t out[N];
  struct tu_hold h;
  atomic_int ran4 = 0, ran6 = 0;
  int v1, v3;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v1, &fs[1]), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_eio, &fs[2]),
                   0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v3, &fs[3]), 0);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran4, &fs[4]), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_edom, &fs[5]),
                   0);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran6, &fs[6]), 0);
  ck_assert_int_eq(future_cancel(fs[4]), 0);
  ck_assert_int_eq(future_cancel(fs[6]), 0);
  for (int i = 0; i < N; i++) {
    out[i].code = -1;
    out[i].result = (void *)&out; /* sentinel */
  }
  tu_latch_open(&h.release);

  ck_assert_int_eq(futures_join_all_settled(fs, N, out), 0);
  ck_assert_int_eq(out[0].code, 0);
  ck_assert_ptr_eq(out[0].result, &h);
  ck_assert_int_eq(out[1].code, 0);
  ck_assert_ptr_eq(out[1].result, &v1);
  ck_assert_int_eq(out[2].code, EIO);
  ck_assert_ptr_null(out[2].result);
  ck_assert_int_eq(out[3].code, 0);
  ck_assert_ptr_eq(out[3].result, &v3);
  ck_assert_int_eq(out[4].code, ECANCELED);
  ck_assert_ptr_null(out[4].result);
  ck_assert_int_eq(out[5].code, EDOM);
  ck_assert_ptr_null(out[5].result);
  ck_assert_int_eq(out[6].code, ECANCELED);
  ck_assert_ptr_null(out[6].result);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(future_is_ready(fs[i]), 1);

  release_all(fs, N);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&ran4), 0);
  ck_assert_int_eq(atomic_load(&ran6), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* A futures_join_all_settled() call made from a helper thread. */
struct settle_call {
  future_t **fs;
  size_t n;
  futures_outcome_t *out;
  atomic_int done;
  int rc;
};

static void *
settle_thread(void *arg)
{
  struct settle_call *c = arg;

  c->rc = futures_join_all_settled(c->fs, c->n, c->out);
  atomic_store(&c->done, 1);
  return NULL;
}

/*
 * futures_join_all_settled() does not return early on a failure: while one
 * task is held it is still waiting 30 ms after the failure is known (a
 * lower bound only), and it returns 0 once the latch opens.
 */
START_TEST(test_settled_waits_for_all_despite_failure)
{
  futures_pool_t *pool;
  future_t *fs[2];
  futures_outcome_t out[2];
  struct tu_hold h;
  struct settle_call c;
  pthread_t t;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_eio, &fs[1]),
                   0);
  ck_assert_int_eq(future_get(fs[1], NULL), EIO);

  c.fs = fs;
  c.n = 2;
  c.out = out;
  c.rc = -1;
  atomic_init(&c.done, 0);
  ck_assert_int_eq(pthread_create(&t, NULL, settle_thread, &c), 0);
  tu_spin_for(30 * MS);
  ck_assert_int_eq(atomic_load(&c.done), 0);
  tu_latch_open(&h.release);
  pthread_join(t, NULL);
  ck_assert_int_eq(c.rc, 0);
  ck_assert_int_eq(out[0].code, 0);
  ck_assert_ptr_eq(out[0].result, &h);
  ck_assert_int_eq(out[1].code, EIO);

  release_all(fs, 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* futures_join_all_settled() with n == 0 returns 0 at once. */
START_TEST(test_settled_empty_returns_zero)
{
  future_t *none[1] = {NULL};
  futures_outcome_t out[1];

  ck_assert_int_eq(futures_join_all_settled(none, 0, out), 0);
}
END_TEST

/* ------------------------------------------------------------ failfast */

/*
 * futures_join_all_failfast() returns the failure's code and index while two
 * other tasks are still held (so it did not wait for all); the held ones then
 * complete normally. Pool of 3: two held workers, one free.
 */
START_TEST(test_failfast_returns_first_failure_while_others_run)
{
  enum { N = 4 };
  futures_pool_t *pool;
  future_t *fs[N];
  struct tu_hold h0, h1;
  void *results[N];
  size_t failed = 12345;
  int v3;
  void *res;

  tu_hold_init(&h0, &h0);
  tu_hold_init(&h1, &h1);
  ck_assert_int_eq(futures_pool_create(&pool, 3), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h0, &fs[0]), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h1, &fs[1]), 0);
  tu_latch_wait(&h0.started);
  tu_latch_wait(&h1.started);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_eio, &fs[2]),
                   0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v3, &fs[3]), 0);

  ck_assert_int_eq(futures_join_all_failfast(fs, N, results, &failed), EIO);
  ck_assert_uint_eq(failed, 2);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);
  ck_assert_int_eq(future_is_ready(fs[1]), 0);

  tu_latch_open(&h0.release);
  tu_latch_open(&h1.release);
  res = NULL;
  ck_assert_int_eq(future_get(fs[0], &res), 0);
  ck_assert_ptr_eq(res, &h0);
  ck_assert_int_eq(future_get(fs[1], &res), 0);
  ck_assert_ptr_eq(res, &h1);
  ck_assert_int_eq(future_get(fs[3], &res), 0);
  ck_assert_ptr_eq(res, &v3);
  ck_assert_int_eq(future_get(fs[2], NULL), EIO);

  release_all(fs, N);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h0);
  tu_hold_destroy(&h1);
}
END_TEST

/*
 * futures_join_all_failfast() with every future succeeding returns 0,
 * fills results[] in order and sets *failed to (size_t)-1.
 */
START_TEST(test_failfast_all_succeed_fills_results)
{
  enum { N = 16 };
  futures_pool_t *pool;
  future_t *fs[N];
  void *results[N];
  int vals[N];
  size_t failed = 7;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(futures_submit(pool, task_echo, &vals[i], &fs[i]), 0);
    results[i] = NULL;
  }
  ck_assert_int_eq(futures_join_all_failfast(fs, N, results, &failed), 0);
  ck_assert_uint_eq(failed, (size_t)-1);
  for (int i = 0; i < N; i++)
    ck_assert_ptr_eq(results[i], &vals[i]);
  /* results and failed are optional */
  ck_assert_int_eq(futures_join_all_failfast(fs, N, NULL, NULL), 0);

  release_all(fs, N);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A cancelled future is a failure for futures_join_all_failfast(): it
 * returns ECANCELED with its index while the only worker is still held.
 */
START_TEST(test_failfast_reports_cancellation)
{
  futures_pool_t *pool;
  future_t *fs[3];
  struct tu_hold h;
  futures_outcome_t out[2];
  atomic_int ran = 0;
  size_t failed = 0;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[1]), 0);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[2]), 0);
  ck_assert_int_eq(future_cancel(fs[2]), 0);

  ck_assert_int_eq(futures_join_all_failfast(fs, 3, NULL, &failed), ECANCELED);
  ck_assert_uint_eq(failed, 2);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(futures_join_all_settled(fs, 2, out), 0);
  ck_assert_int_eq(out[0].code, 0);
  release_all(fs, 3);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&ran), 1);
  tu_hold_destroy(&h);
}
END_TEST

/* futures_join_all_failfast() with n == 0 returns 0 at once. */
START_TEST(test_failfast_empty_returns_zero)
{
  future_t *none[1] = {NULL};
  size_t failed = 3;

  ck_assert_int_eq(futures_join_all_failfast(none, 0, NULL, &failed), 0);
}
END_TEST

/* ------------------------------------------------------------ any */

/*
 * futures_join_any() returns the index of the one future that can finish
 * (the others are held by latches on workers), with its result; a failing
 * winner gives its own code and index.
 */
START_TEST(test_join_any_returns_index_of_the_finished_one)
{
  futures_pool_t *pool;
  future_t *fs[3];
  struct tu_hold h0, h2;
  size_t index = 99;
  void *res = NULL;
  int v;

  tu_hold_init(&h0, NULL);
  tu_hold_init(&h2, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 3), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h0, &fs[0]), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h2, &fs[2]), 0);
  tu_latch_wait(&h0.started);
  tu_latch_wait(&h2.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v, &fs[1]), 0);

  ck_assert_int_eq(futures_join_any(fs, 3, &index, &res), 0);
  ck_assert_uint_eq(index, 1);
  ck_assert_ptr_eq(res, &v);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);
  ck_assert_int_eq(future_is_ready(fs[2]), 0);

  /* A failing winner: its code and index. */
  future_release(fs[1]);
  ck_assert_int_eq(
      futures_submit(pool, task_fail, (void *)&code_erange, &fs[1]), 0);
  index = 99;
  ck_assert_int_eq(futures_join_any(fs, 3, &index, NULL), ERANGE);
  ck_assert_uint_eq(index, 1);

  tu_latch_open(&h0.release);
  tu_latch_open(&h2.release);
  ck_assert_int_eq(futures_join_all(fs, 3, NULL), ERANGE);
  release_all(fs, 3);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h0);
  tu_hold_destroy(&h2);
}
END_TEST

/* Opens the latch at @arg from another thread. */
static void *
open_latch_thread(void *arg)
{
  tu_latch_open(arg);
  return NULL;
}

/*
 * futures_join_any() sleeping on two held futures wakes when a helper
 * thread releases one of them, and names that one as the winner.
 */
START_TEST(test_join_any_wakes_when_a_running_future_finishes)
{
  futures_pool_t *pool;
  future_t *fs[2];
  struct tu_hold h0, h1;
  size_t index = 99;
  void *res = NULL;
  pthread_t t;

  tu_hold_init(&h0, &h0);
  tu_hold_init(&h1, &h1);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h0, &fs[0]), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h1, &fs[1]), 0);
  tu_latch_wait(&h0.started);
  tu_latch_wait(&h1.started);
  ck_assert_int_eq(pthread_create(&t, NULL, open_latch_thread, &h1.release), 0);
  ck_assert_int_eq(futures_join_any(fs, 2, &index, &res), 0);
  pthread_join(t, NULL);
  ck_assert_uint_eq(index, 1);
  ck_assert_ptr_eq(res, &h1);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);

  tu_latch_open(&h0.release);
  ck_assert_int_eq(futures_join_all(fs, 2, NULL), 0);
  release_all(fs, 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h0);
  tu_hold_destroy(&h1);
}
END_TEST

/* A task of a gang: counts down g->started, then waits for g->release. */
struct gang {
  struct tu_count started;
  struct tu_latch release;
};

static int
task_gang(void *arg, void **result)
{
  struct gang *g = arg;

  tu_count_down(&g->started);
  tu_latch_wait(&g->release);
  *result = NULL;
  return 0;
}

/*
 * futures_join_any() over more than 64 futures (the header's limit for its
 * on-stack wait records) works: 69 tasks held on one latch occupy 69 of 70
 * workers, and the one free task sits at index 68, past the first 64.
 */
START_TEST(test_join_any_over_64_futures)
{
  enum { N = 70, WINNER = 68 };
  futures_pool_t *pool;
  future_t *fs[N];
  struct gang g;
  size_t index = 0;
  void *res = NULL;
  int v;

  tu_count_init(&g.started, N - 1);
  tu_latch_init(&g.release);
  ck_assert_int_eq(futures_pool_create(&pool, N), 0);
  for (int i = 0; i < N; i++) {
    if (i != WINNER)
      ck_assert_int_eq(futures_submit(pool, task_gang, &g, &fs[i]), 0);
  }
  tu_count_wait(&g.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v, &fs[WINNER]), 0);

  ck_assert_int_eq(futures_join_any(fs, N, &index, &res), 0);
  ck_assert_uint_eq(index, WINNER);
  ck_assert_ptr_eq(res, &v);
  for (int i = 0; i < N; i++) {
    if (i != WINNER)
      ck_assert_int_eq(future_is_ready(fs[i]), 0);
  }

  tu_latch_open(&g.release);
  ck_assert_int_eq(futures_join_all(fs, N, NULL), 0);
  release_all(fs, N);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&g.release);
  tu_count_destroy(&g.started);
}
END_TEST

/*
 * From a thread outside the pool, futures_join_any() and
 * futures_join_any_ok() leave the race to the workers: with the only worker
 * held, a short deadline passes with both queued tasks still unrun (a
 * library that ran one here would return 0 at once).
 */
START_TEST(test_join_any_outside_the_pool_runs_nothing_in_caller)
{
  futures_pool_t *pool;
  future_t *fs[3];
  struct tu_hold h;
  atomic_int ran = 0;
  size_t index = 99;
  struct timespec dl;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[1]), 0);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[2]), 0);

  dl = tu_deadline_in(50 * 1000000LL);
  ck_assert_int_eq(futures_join_any_until(fs + 1, 2, &index, NULL, &dl),
                   ETIMEDOUT);
  ck_assert_uint_eq(index, (size_t)-1);
  ck_assert_int_eq(atomic_load(&ran), 0);

  /* Once the worker is free, it runs them and both calls return. */
  tu_latch_open(&h.release);
  ck_assert_int_eq(futures_join_any(fs + 1, 2, &index, NULL), 0);
  ck_assert_uint_le(index, 1);
  ck_assert_int_eq(futures_join_any_ok(fs + 1, 2, &index, NULL, NULL), 0);
  ck_assert_int_eq(futures_join_all(fs, 3, NULL), 0);
  ck_assert_int_eq(atomic_load(&ran), 2);
  release_all(fs, 3);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* Children submitted by a task on a 1-thread pool, for the test below. */
struct any_in_task {
  futures_pool_t *pool;
  atomic_int ran;
  int any_rc, any_ok_rc;
  size_t any_index, ok_index;
};

static int
task_any_parent(void *arg, void **result)
{
  struct any_in_task *a = arg;
  future_t *fs[2];

  *result = NULL;
  if (futures_submit(a->pool, task_count, &a->ran, &fs[0]) != 0)
    return EAGAIN;
  if (futures_submit(a->pool, task_count, &a->ran, &fs[1]) != 0) {
    future_release(fs[0]);
    return EAGAIN;
  }
  a->any_rc = futures_join_any(fs, 2, &a->any_index, NULL);
  a->any_ok_rc = futures_join_any_ok(fs, 2, &a->ok_index, NULL, NULL);
  futures_join_all(fs, 2, NULL);
  future_release(fs[0]);
  future_release(fs[1]);
  return 0;
}

/*
 * Inside a task, where waiting without helping could deadlock a small pool,
 * futures_join_any() and futures_join_any_ok() run an unstarted child in
 * the caller: on a 1-thread pool the parent task holds the only worker, so
 * they can only return because the parent ran a child itself.
 */
START_TEST(test_join_any_in_a_task_runs_unstarted_child_in_caller)
{
  futures_pool_t *pool;
  struct any_in_task a;
  future_t *f;

  memset(&a, 0, sizeof(a));
  a.any_rc = a.any_ok_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  a.pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_any_parent, &a, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(a.any_rc, 0);
  ck_assert_uint_le(a.any_index, 1);
  ck_assert_int_eq(a.any_ok_rc, 0);
  ck_assert_uint_le(a.ok_index, 1);
  ck_assert_int_eq(atomic_load(&a.ran), 2);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_any_until() with every future held times out with ETIMEDOUT
 * and *index == (size_t)-1 (and not before the deadline); once one is
 * released it returns that one's index.
 */
START_TEST(test_join_any_until_times_out_when_all_are_held)
{
  futures_pool_t *pool;
  future_t *fs[2];
  struct tu_hold h0, h1;
  struct timespec dl;
  size_t index = 5;
  void *res = NULL;
  long long dl_ns;

  tu_hold_init(&h0, &h0);
  tu_hold_init(&h1, &h1);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h0, &fs[0]), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h1, &fs[1]), 0);
  tu_latch_wait(&h0.started);
  tu_latch_wait(&h1.started);

  dl = tu_deadline_in(30 * MS);
  dl_ns = (long long)dl.tv_sec * 1000000000LL + dl.tv_nsec;
  ck_assert_int_eq(futures_join_any_until(fs, 2, &index, &res, &dl), ETIMEDOUT);
  ck_assert_uint_eq(index, (size_t)-1);
  ck_assert_int_ge(tu_now_ns(), dl_ns);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);
  ck_assert_int_eq(future_is_ready(fs[1]), 0);

  tu_latch_open(&h0.release);
  dl = tu_deadline_in(60000 * MS);
  ck_assert_int_eq(futures_join_any_until(fs, 2, &index, &res, &dl), 0);
  ck_assert_uint_eq(index, 0);
  ck_assert_ptr_eq(res, &h0);

  tu_latch_open(&h1.release);
  ck_assert_int_eq(futures_join_all(fs, 2, NULL), 0);
  release_all(fs, 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h0);
  tu_hold_destroy(&h1);
}
END_TEST

/*
 * futures_join_any_until() does not run a queued task in the caller: with
 * the only worker held, a queued task stays unrun through the timed wait.
 */
START_TEST(test_join_any_until_does_not_run_queued_task)
{
  futures_pool_t *pool;
  future_t *fs[2];
  struct tu_hold h;
  struct timespec dl;
  atomic_int ran = 0;
  size_t index = 5;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[1]), 0);

  dl = tu_deadline_in(20 * MS);
  ck_assert_int_eq(futures_join_any_until(fs, 2, &index, NULL, &dl), ETIMEDOUT);
  ck_assert_uint_eq(index, (size_t)-1);
  ck_assert_int_eq(atomic_load(&ran), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(futures_join_all(fs, 2, NULL), 0);
  ck_assert_int_eq(atomic_load(&ran), 1);
  release_all(fs, 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ any_ok */

/*
 * futures_join_any_ok() returns the first success even though two other
 * futures failed earlier (they are finished before the call), and returns
 * while a fourth future is still held (it does not wait for all).
 */
START_TEST(test_join_any_ok_skips_earlier_failures)
{
  futures_pool_t *pool;
  future_t *fs[4];
  struct tu_hold h2, h3;
  size_t index = 99;
  void *res = NULL;
  int codes[4] = {-1, -1, -1, -1};
  pthread_t t;

  tu_hold_init(&h2, &h2);
  tu_hold_init(&h3, &h3);
  ck_assert_int_eq(futures_pool_create(&pool, 3), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_eio, &fs[0]),
                   0);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_edom, &fs[1]),
                   0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h2, &fs[2]), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h3, &fs[3]), 0);
  ck_assert_int_eq(future_get(fs[0], NULL), EIO);
  ck_assert_int_eq(future_get(fs[1], NULL), EDOM);
  tu_latch_wait(&h2.started);
  tu_latch_wait(&h3.started);

  /* Release the success from another thread: the call may be asleep. */
  ck_assert_int_eq(pthread_create(&t, NULL, open_latch_thread, &h2.release), 0);
  ck_assert_int_eq(futures_join_any_ok(fs, 4, &index, &res, codes), 0);
  pthread_join(t, NULL);
  ck_assert_uint_eq(index, 2);
  ck_assert_ptr_eq(res, &h2);
  ck_assert_int_eq(future_is_ready(fs[3]), 0);
  /* codes[] is filled only when ENOENT is returned. */
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(codes[i], -1);

  tu_latch_open(&h3.release);
  ck_assert_int_eq(futures_join_all(fs + 2, 2, NULL), 0);
  release_all(fs, 4);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h2);
  tu_hold_destroy(&h3);
}
END_TEST

/*
 * futures_join_any_ok() when every future fails: ENOENT, *index ==
 * (size_t)-1, and codes[i] holds each future's own code, a cancellation
 * (ECANCELED) included.
 */
START_TEST(test_join_any_ok_all_fail_gives_enoent_and_codes)
{
  futures_pool_t *pool;
  future_t *fs[4];
  struct tu_hold h;
  atomic_int ran = 0;
  size_t index = 0;
  int codes[4] = {-1, -1, -1, -1};

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[3]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_fail, (void *)&code_eio, &fs[0]),
                   0);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &fs[1]), 0);
  ck_assert_int_eq(
      futures_submit(pool, task_fail, (void *)&code_erange, &fs[2]), 0);
  ck_assert_int_eq(future_cancel(fs[1]), 0);
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(fs[3], NULL), 0);
  future_release(fs[3]);

  ck_assert_int_eq(futures_join_any_ok(fs, 3, &index, NULL, codes), ENOENT);
  ck_assert_uint_eq(index, (size_t)-1);
  ck_assert_int_eq(codes[0], EIO);
  ck_assert_int_eq(codes[1], ECANCELED);
  ck_assert_int_eq(codes[2], ERANGE);
  ck_assert_int_eq(codes[3], -1);
  /* codes is optional */
  ck_assert_int_eq(futures_join_any_ok(fs, 3, NULL, NULL, NULL), ENOENT);

  release_all(fs, 3);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&ran), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* futures_join_any_ok() with n == 0 is the aggregate failure: ENOENT. */
START_TEST(test_join_any_ok_empty_is_enoent)
{
  future_t *none[1] = {NULL};
  size_t index = 0;

  ck_assert_int_eq(futures_join_any_ok(none, 0, &index, NULL, NULL), ENOENT);
  ck_assert_uint_eq(index, (size_t)-1);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * Bad arguments are EINVAL: join_any with n == 0, NULL arrays, NULL entries or
 * a NULL @index (then *index is (size_t)-1 when writable); settle-all with NULL
 * @outcomes; failfast and any_ok with a NULL entry.
 */
START_TEST(test_combinators_reject_bad_arguments)
{
  futures_pool_t *pool;
  future_t *fs[2];
  futures_outcome_t out[2];
  size_t index = 0;
  int x;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &x, &fs[0]), 0);
  ck_assert_int_eq(future_get(fs[0], NULL), 0);
  fs[1] = NULL;

  ck_assert_int_eq(futures_join_any(fs, 0, &index, NULL), EINVAL);
  ck_assert_uint_eq(index, (size_t)-1);
  index = 0;
  ck_assert_int_eq(futures_join_any(NULL, 1, &index, NULL), EINVAL);
  ck_assert_uint_eq(index, (size_t)-1);
  index = 0;
  ck_assert_int_eq(futures_join_any(fs, 2, &index, NULL), EINVAL);
  ck_assert_uint_eq(index, (size_t)-1);
  ck_assert_int_eq(futures_join_any(fs, 1, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_join_all_settled(fs, 1, NULL), EINVAL);
  ck_assert_int_eq(futures_join_all_settled(fs, 2, out), EINVAL);
  ck_assert_int_eq(futures_join_all_settled(NULL, 1, out), EINVAL);
  ck_assert_int_eq(futures_join_all_failfast(fs, 2, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_join_any_ok(fs, 2, NULL, NULL, NULL), EINVAL);

  future_release(fs[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ self-wait */

/*
 * Issue 10, defect 6: a task that waits for its own future must get
 * EDEADLK at once, with nothing waited for (header, "Errors": EDEADLK for
 * "a task waiting (future_get(), a wait or a join) for its own future").
 * The harness is tu_self_wait_run(); in each test, _i = 1 puts another
 * unfinished future first in the array, which the call must not wait for
 * either. check_join covers future_get, the waits and the "all" joins.
 */

static int
self_settled(struct tu_self_wait *sw)
{
  future_t *arr[2];
  futures_outcome_t out[2];

  return futures_join_all_settled(arr, tu_self_wait_array(sw, arr), out);
}

static int
self_failfast(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t failed;

  return futures_join_all_failfast(arr, tu_self_wait_array(sw, arr), NULL,
                                   &failed);
}

static int
self_join_any(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t index;

  return futures_join_any(arr, tu_self_wait_array(sw, arr), &index, NULL);
}

static int
self_join_any_until(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t index;
  struct timespec dl = tu_deadline_in(TU_SELF_FAR);

  return futures_join_any_until(arr, tu_self_wait_array(sw, arr), &index, NULL,
                                &dl);
}

static int
self_join_any_ok(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t index;

  return futures_join_any_ok(arr, tu_self_wait_array(sw, arr), &index, NULL,
                             NULL);
}

/*
 * futures_join_all_settled() over the task's own future, alone (_i = 0) or
 * after another unfinished one (_i = 1): EDEADLK at once, nothing waited
 * for (issue 10, defect 6; its Return line omits EDEADLK, the global rule
 * does not).
 */
START_TEST(test_settled_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_settled, _i, "futures_join_all_settled");
}
END_TEST

/*
 * futures_join_all_failfast() over the task's own future, alone or mixed:
 * EDEADLK at once, not a wait for ever (issue 10, defect 6).
 */
START_TEST(test_failfast_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_failfast, _i, "futures_join_all_failfast");
}
END_TEST

/*
 * futures_join_any() over the task's own future, alone or mixed: EDEADLK
 * at once; not a wait for ever, nor the other future's outcome once it
 * finishes (issue 10, defect 6).
 */
START_TEST(test_join_any_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_join_any, _i, "futures_join_any");
}
END_TEST

/*
 * futures_join_any_until() with a far deadline over the task's own future,
 * alone or mixed: EDEADLK at once, not ETIMEDOUT at the deadline (issue
 * 10, defect 6).
 */
START_TEST(test_join_any_until_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_join_any_until, _i, "futures_join_any_until");
}
END_TEST

/*
 * futures_join_any_ok() over the task's own future, alone or mixed:
 * EDEADLK at once (issue 10, defect 6).
 */
START_TEST(test_join_any_ok_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_join_any_ok, _i, "futures_join_any_ok");
}
END_TEST

Suite *
combinators_suite(void)
{
  Suite *s = suite_create("combinators");
  TCase *tc;

  tc = tcase_create("settled");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc,
                 test_settled_reports_each_success_failure_and_cancellation);
  tcase_add_test(tc, test_settled_waits_for_all_despite_failure);
  tcase_add_test(tc, test_settled_empty_returns_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("failfast");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_failfast_returns_first_failure_while_others_run);
  tcase_add_test(tc, test_failfast_all_succeed_fills_results);
  tcase_add_test(tc, test_failfast_reports_cancellation);
  tcase_add_test(tc, test_failfast_empty_returns_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("race");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_join_any_returns_index_of_the_finished_one);
  tcase_add_test(tc, test_join_any_wakes_when_a_running_future_finishes);
  tcase_add_test(tc, test_join_any_over_64_futures);
  tcase_add_test(tc, test_join_any_outside_the_pool_runs_nothing_in_caller);
  tcase_add_test(tc, test_join_any_in_a_task_runs_unstarted_child_in_caller);
  tcase_add_test(tc, test_join_any_until_times_out_when_all_are_held);
  tcase_add_test(tc, test_join_any_until_does_not_run_queued_task);
  suite_add_tcase(s, tc);

  tc = tcase_create("first_success");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_join_any_ok_skips_earlier_failures);
  tcase_add_test(tc, test_join_any_ok_all_fail_gives_enoent_and_codes);
  tcase_add_test(tc, test_join_any_ok_empty_is_enoent);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_combinators_reject_bad_arguments);
  suite_add_tcase(s, tc);

  /* A failing case waits TU_SELF_PATIENCE, twice when mixed. */
  tc = tcase_create("self_wait");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_settled_own_future_from_its_task_is_edeadlk, 0,
                      2);
  tcase_add_loop_test(tc, test_failfast_own_future_from_its_task_is_edeadlk, 0,
                      2);
  tcase_add_loop_test(tc, test_join_any_own_future_from_its_task_is_edeadlk, 0,
                      2);
  tcase_add_loop_test(
      tc, test_join_any_until_own_future_from_its_task_is_edeadlk, 0, 2);
  tcase_add_loop_test(tc, test_join_any_ok_own_future_from_its_task_is_edeadlk,
                      0, 2);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(combinators_suite());
}
