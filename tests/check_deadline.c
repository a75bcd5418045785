/* SPDX-License-Identifier: MIT */
/*
 * check_deadline: future_wait_until(), future_wait_for(), future_is_ready()
 * and futures_join_all_until(). Unfinished futures are made with tasks held
 * on a latch (tu_hold), never with sleeps; time enters only as lower bounds
 * ("did not give up before the deadline"), never as upper bounds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "futures.h"
#include "testutil.h"

Suite *deadline_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A task that sets the atomic int at @arg, proving it ran. */
static int
task_set_flag(void *arg, void **result)
{
  atomic_store((atomic_int *)arg, 1);
  *result = arg;
  return 0;
}

/* A task that fails with EDOM. */
static int
task_fail_edom(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EDOM;
}

static long long
ts_ns(const struct timespec *ts)
{
  return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* ------------------------------------------------------------ basic */

/*
 * A deadline already in the past on an unfinished future polls: ETIMEDOUT,
 * and the future is intact, so it still completes and reports its value.
 */
START_TEST(test_wait_until_past_deadline_times_out_and_future_completes)
{
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;
  struct timespec past = tu_deadline_in(-1 * MS);
  void *res = NULL;

  tu_hold_init(&h, (void *)(uintptr_t)0x5eed);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);

  ck_assert_int_eq(future_wait_until(f, &past), ETIMEDOUT);
  ck_assert_int_eq(future_is_ready(f), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, (void *)(uintptr_t)0x5eed);
  ck_assert_int_eq(future_is_ready(f), 1);
  ck_assert_int_eq(future_wait_until(f, &past), 0);

  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * A 50 ms wait on a held future does not give up before its CLOCK_MONOTONIC
 * deadline (a library reading it on CLOCK_REALTIME would see it decades past
 * and return at once). Lower bound only.
 */
START_TEST(test_wait_until_deadline_is_on_monotonic_clock)
{
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;
  struct timespec dl;
  long long now;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);

  dl = tu_deadline_in(50 * MS);
  ck_assert_int_eq(future_wait_until(f, &dl), ETIMEDOUT);
  now = tu_now_ns();
  ck_assert_msg(now >= ts_ns(&dl), "ETIMEDOUT %lld ns before the deadline",
                ts_ns(&dl) - now);
  ck_assert_int_eq(future_is_ready(f), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * future_wait_for(0) polls: ETIMEDOUT on a held future (if it blocked, the
 * latch is never opened and the test times out), 0 once it has finished.
 */
START_TEST(test_wait_for_zero_polls)
{
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);

  ck_assert_int_eq(future_wait_for(f, 0), ETIMEDOUT);
  ck_assert_int_eq(future_wait_for(f, 0), ETIMEDOUT);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_wait_for(f, 0), 0);

  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * future_wait_for() with a positive timeout on a held future waits at least
 * that long (lower bound only), then leaves the future intact.
 */
START_TEST(test_wait_for_positive_timeout_waits_at_least_that_long)
{
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;
  long long t0, t1;
  void *res = NULL;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);

  t0 = tu_now_ns();
  ck_assert_int_eq(future_wait_for(f, 30 * MS), ETIMEDOUT);
  t1 = tu_now_ns();
  ck_assert_msg(t1 - t0 >= 30 * MS, "gave up after %lld ns", t1 - t0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_wait_for(f, 60000 * MS), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, &h);

  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * On a finished future (success or failure) future_wait_until() returns 0 for
 * a past deadline and at once for an hour-long one (else the test times out);
 * the outcome is kept.
 */
START_TEST(test_wait_until_finished_future_returns_zero_at_once)
{
  futures_pool_t *pool;
  future_t *ok, *bad;
  struct timespec past = tu_deadline_in(-1 * MS);
  struct timespec far = tu_deadline_in(3600LL * 1000 * MS);
  int x = 0;
  void *res = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &x, &ok), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail_edom, NULL, &bad), 0);
  ck_assert_int_eq(future_get(ok, NULL), 0);
  ck_assert_int_eq(future_get(bad, NULL), EDOM);

  ck_assert_int_eq(future_wait_until(ok, &past), 0);
  ck_assert_int_eq(future_wait_until(ok, &far), 0);
  ck_assert_int_eq(future_wait_until(bad, &past), 0);
  ck_assert_int_eq(future_wait_until(bad, &far), 0);
  ck_assert_int_eq(future_wait_for(bad, 0), 0);
  ck_assert_int_eq(future_get(ok, &res), 0);
  ck_assert_ptr_eq(res, &x);
  ck_assert_int_eq(future_get(bad, &res), EDOM);
  ck_assert_ptr_null(res);

  future_release(ok);
  future_release(bad);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A timed wait does not run a queued task in the caller (the header says
 * so, since it could overrun the deadline): with the only worker held, a
 * wait on a queued task times out and the task has not run.
 */
START_TEST(test_wait_until_does_not_run_queued_task_in_caller)
{
  futures_pool_t *pool;
  future_t *held, *queued;
  struct tu_hold h;
  struct timespec dl;
  atomic_int ran = 0;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_set_flag, &ran, &queued), 0);

  dl = tu_deadline_in(-1 * MS);
  ck_assert_int_eq(future_wait_until(queued, &dl), ETIMEDOUT);
  dl = tu_deadline_in(20 * MS);
  ck_assert_int_eq(future_wait_until(queued, &dl), ETIMEDOUT);
  ck_assert_int_eq(future_wait_for(queued, 0), ETIMEDOUT);
  ck_assert_int_eq(atomic_load(&ran), 0);
  ck_assert_int_eq(future_is_ready(queued), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(queued, NULL), 0);
  ck_assert_int_eq(atomic_load(&ran), 1);
  ck_assert_int_eq(future_get(held, NULL), 0);

  future_release(held);
  future_release(queued);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * future_is_ready() never blocks: 0 while held (it returns, or the test
 * would time out), 1 after success and after failure, 0 for NULL.
 */
START_TEST(test_is_ready_reports_without_blocking)
{
  futures_pool_t *pool;
  future_t *f, *bad;
  struct tu_hold h;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(future_is_ready(NULL), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(future_is_ready(f), 0);
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_is_ready(f), 1);

  ck_assert_int_eq(futures_submit(pool, task_fail_edom, NULL, &bad), 0);
  ck_assert_int_eq(future_get(bad, NULL), EDOM);
  ck_assert_int_eq(future_is_ready(bad), 1);

  future_release(f);
  future_release(bad);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ join */

/*
 * futures_join_all_until() times out while one task is held, leaving results[]
 * and every future intact, then returns 0 with the results once all are done.
 * 50 ms is only how long the timed-out wait lasts.
 */
START_TEST(test_join_all_until_times_out_while_one_task_is_held)
{
  enum { N = 4 };
  futures_pool_t *pool;
  future_t *fs[N];
  struct tu_hold h;
  int vals[N];
  void *results[N];
  void *res;
  struct timespec dl;
  size_t i;

  tu_hold_init(&h, &vals[0]);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  for (i = 1; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, task_echo, &vals[i], &fs[i]), 0);
  for (i = 1; i < N; i++)
    ck_assert_int_eq(future_get(fs[i], NULL), 0);
  for (i = 0; i < N; i++)
    results[i] = (void *)&results; /* a sentinel no task returns */

  dl = tu_deadline_in(50 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, N, results, &dl), ETIMEDOUT);
  ck_assert_int_ge(tu_now_ns(), ts_ns(&dl));
  for (i = 0; i < N; i++)
    ck_assert_ptr_eq(results[i], (void *)&results);
  ck_assert_int_eq(future_is_ready(fs[0]), 0);
  for (i = 1; i < N; i++) {
    res = NULL;
    ck_assert_int_eq(future_get(fs[i], &res), 0);
    ck_assert_ptr_eq(res, &vals[i]);
  }

  tu_latch_open(&h.release);
  dl = tu_deadline_in(60000 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, N, results, &dl), 0);
  for (i = 0; i < N; i++)
    ck_assert_ptr_eq(results[i], &vals[i]);

  for (i = 0; i < N; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * futures_join_all_until() does not run queued tasks in the caller (the only
 * worker is held, a past deadline gives ETIMEDOUT and nothing ran); after the
 * release it reports the lowest-index failure.
 */
START_TEST(test_join_all_until_does_not_run_tasks_and_reports_failure)
{
  futures_pool_t *pool;
  future_t *fs[3];
  struct tu_hold h;
  struct timespec dl;
  atomic_int ran = 0;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_set_flag, &ran, &fs[1]), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail_edom, NULL, &fs[2]), 0);

  dl = tu_deadline_in(-1 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, 3, NULL, &dl), ETIMEDOUT);
  ck_assert_int_eq(atomic_load(&ran), 0);
  ck_assert_int_eq(future_is_ready(fs[1]), 0);

  tu_latch_open(&h.release);
  dl = tu_deadline_in(60000 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, 3, NULL, &dl), EDOM);
  ck_assert_int_eq(atomic_load(&ran), 1);

  for (int i = 0; i < 3; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* futures_join_all_until() with n == 0 returns 0 at once. */
START_TEST(test_join_all_until_empty_returns_zero)
{
  struct timespec dl = tu_deadline_in(-1 * MS);
  future_t *none[1] = {NULL};

  ck_assert_int_eq(futures_join_all_until(none, 0, NULL, &dl), 0);
}
END_TEST

/* ------------------------------------------------------------ race */

struct spin_arg {
  long spins;  /* busy iterations before returning */
  void *value; /* the result */
};

static int
task_spin_then_value(void *arg, void **result)
{
  struct spin_arg *a = arg;

  for (volatile long i = 0; i < a->spins; i++)
    ;
  *result = a->value;
  return 0;
}

/*
 * A deadline expiring while a worker completes the future gives 0 or ETIMEDOUT,
 * and either way future_get() returns the right value. 1000 rounds, lengths and
 * deadlines staggered over tens of microseconds so both orders occur.
 */
START_TEST(test_wait_until_deadline_racing_completion_keeps_outcome)
{
  enum { ROUNDS = 1000 };
  futures_pool_t *pool;
  int timed_out = 0, finished = 0;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  for (int i = 0; i < ROUNDS; i++) {
    struct spin_arg a = {(long)(i % 17) * 400, (void *)(uintptr_t)(i + 1)};
    struct timespec dl;
    future_t *f;
    void *res = NULL;
    int rc;

    ck_assert_int_eq(futures_submit(pool, task_spin_then_value, &a, &f), 0);
    dl = tu_deadline_in((long long)(i % 13) * 3000);
    rc = future_wait_until(f, &dl);
    ck_assert_msg(rc == 0 || rc == ETIMEDOUT, "round %d: rc %d", i, rc);
    if (rc == 0) {
      finished++;
      ck_assert_int_eq(future_is_ready(f), 1);
    } else {
      timed_out++;
    }
    ck_assert_int_eq(future_get(f, &res), 0);
    ck_assert_ptr_eq(res, (void *)(uintptr_t)(i + 1));
    future_release(f);
  }
  ck_assert_int_eq(finished + timed_out, ROUNDS);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct racer {
  future_t *f;
  struct timespec dl;
  int rc[2];
};

static void
racer_wait(void *arg, int i)
{
  struct racer *r = arg;

  r->rc[i] = future_wait_until(r->f, &r->dl);
}

/*
 * The same race seen by two fresh threads that start waiting just as the
 * held task is released, with deadlines of 0-50 us: each sees 0 or
 * ETIMEDOUT and the value survives either way. 300 rounds.
 */
START_TEST(test_wait_until_two_waiters_racing_release)
{
  enum { ROUNDS = 300 };
  futures_pool_t *pool;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  for (int i = 0; i < ROUNDS; i++) {
    struct tu_hold h;
    struct racer r;
    void *res = NULL;

    tu_hold_init(&h, (void *)(uintptr_t)(i + 7));
    ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &r.f), 0);
    tu_latch_wait(&h.started);
    r.dl = tu_deadline_in((long long)(i % 11) * 5000);
    r.rc[0] = r.rc[1] = -1;
    tu_latch_open(&h.release);
    ck_assert_int_eq(tu_run_threads(2, racer_wait, &r), 0);
    for (int k = 0; k < 2; k++)
      ck_assert_msg(r.rc[k] == 0 || r.rc[k] == ETIMEDOUT,
                    "round %d waiter %d: rc %d", i, k, r.rc[k]);
    ck_assert_int_eq(future_get(r.f, &res), 0);
    ck_assert_ptr_eq(res, (void *)(uintptr_t)(i + 7));
    future_release(r.f);
    tu_hold_destroy(&h);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * Bad arguments are EINVAL and touch nothing: NULL future or deadline,
 * tv_nsec outside [0, 1e9), a negative relative timeout; the future still
 * completes normally afterwards.
 */
START_TEST(test_wait_until_rejects_bad_arguments)
{
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;
  struct timespec dl = tu_deadline_in(0);
  struct timespec bad_hi = {dl.tv_sec + 1, 1000000000L};
  struct timespec bad_lo = {dl.tv_sec + 1, -1};
  future_t *fs[1];

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(future_wait_until(NULL, &dl), EINVAL);
  ck_assert_int_eq(future_wait_for(NULL, 0), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);

  ck_assert_int_eq(future_wait_until(f, NULL), EINVAL);
  ck_assert_int_eq(future_wait_until(f, &bad_hi), EINVAL);
  ck_assert_int_eq(future_wait_until(f, &bad_lo), EINVAL);
  ck_assert_int_eq(future_wait_for(f, -1), EINVAL);
  fs[0] = f;
  ck_assert_int_eq(futures_join_all_until(fs, 1, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_join_all_until(fs, 1, NULL, &bad_hi), EINVAL);
  fs[0] = NULL;
  ck_assert_int_eq(futures_join_all_until(fs, 1, NULL, &dl), EINVAL);
  ck_assert_int_eq(future_is_ready(f), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

Suite *
deadline_suite(void)
{
  Suite *s = suite_create("deadline");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc,
                 test_wait_until_past_deadline_times_out_and_future_completes);
  tcase_add_test(tc, test_wait_until_deadline_is_on_monotonic_clock);
  tcase_add_test(tc, test_wait_for_zero_polls);
  tcase_add_test(tc, test_wait_for_positive_timeout_waits_at_least_that_long);
  tcase_add_test(tc, test_wait_until_finished_future_returns_zero_at_once);
  tcase_add_test(tc, test_wait_until_does_not_run_queued_task_in_caller);
  tcase_add_test(tc, test_is_ready_reports_without_blocking);
  suite_add_tcase(s, tc);

  tc = tcase_create("join");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_join_all_until_times_out_while_one_task_is_held);
  tcase_add_test(tc,
                 test_join_all_until_does_not_run_tasks_and_reports_failure);
  tcase_add_test(tc, test_join_all_until_empty_returns_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_wait_until_deadline_racing_completion_keeps_outcome);
  tcase_add_test(tc, test_wait_until_two_waiters_racing_release);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_wait_until_rejects_bad_arguments);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(deadline_suite());
}
