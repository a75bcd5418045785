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
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *deadline_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* The largest time_t (signed on every platform this library supports). */
#define TIME_T_MAX                                                             \
  ((time_t)(((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 1)) - 1))

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

/* ------------------------------------------------------------ forever */

/*
 * A wait that must last "for ever" (issue 10, defect 4): the task is held
 * until an opener thread lets it go. The opener first gives a wait that
 * wrongly returns at once 50 ms to do so (it waits until the waiter is
 * back, or 50 ms), then opens the latch: a correct wait returns 0 only
 * after that, with the future finished.
 */
struct forever {
  future_t *f;
  struct tu_hold h;
  atomic_int returned; /* the waiter is back from the call */
};

static int
forever_returned(void *arg)
{
  return atomic_load(&((struct forever *)arg)->returned);
}

static void *
forever_opener(void *arg)
{
  struct forever *w = arg;

  tu_spin_until(forever_returned, w, 50 * MS);
  tu_latch_open(&w->h.release);
  return NULL;
}

/* The wait under test, on the single held future @f. */
typedef int (*forever_fn)(future_t *f, long long arg);

/*
 * Runs @wait(f, @arg) on a held future while the opener waits to release
 * it; asserts the wait returned 0 with the task finished.
 */
static void
check_waits_forever(forever_fn wait, long long arg, const char *what)
{
  futures_pool_t *pool;
  struct forever w;
  pthread_t opener;
  int rc, ready;

  atomic_init(&w.returned, 0);
  tu_hold_init(&w.h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &w.h, &w.f), 0);
  tu_latch_wait(&w.h.started);
  ck_assert_int_eq(pthread_create(&opener, NULL, forever_opener, &w), 0);
  rc = wait(w.f, arg);
  ready = future_is_ready(w.f);
  atomic_store(&w.returned, 1);
  pthread_join(opener, NULL);
  ck_assert_int_eq(future_get(w.f, NULL), 0);
  future_release(w.f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&w.h);
  ck_assert_msg(rc == 0 && ready == 1,
                "%s returned %d with the task %s: not a wait for ever", what,
                rc, ready ? "finished" : "still held");
}

static int
forever_wait_for(future_t *f, long long ns)
{
  return future_wait_for(f, ns);
}

/* The latest deadline there is: {TIME_T_MAX, 999999999}. */
static struct timespec
max_deadline(void)
{
  struct timespec ts;

  ts.tv_sec = TIME_T_MAX;
  ts.tv_nsec = 999999999L;
  return ts;
}

static int
forever_wait_until(future_t *f, long long unused)
{
  struct timespec dl = max_deadline();

  (void)unused;
  return future_wait_until(f, &dl);
}

static int
forever_join_all_until(future_t *f, long long unused)
{
  struct timespec dl = max_deadline();
  future_t *fs[1] = {f};

  (void)unused;
  return futures_join_all_until(fs, 1, NULL, &dl);
}

static int
forever_join_any_until(future_t *f, long long unused)
{
  struct timespec dl = max_deadline();
  future_t *fs[1] = {f};
  size_t index = 99;
  int rc;

  (void)unused;
  rc = futures_join_any_until(fs, 1, &index, NULL, &dl);
  return rc == 0 && index != 0 ? -1 : rc;
}

/*
 * future_wait_for(LLONG_MAX) means for ever: it returns 0 once the task
 * finishes (issue 10, defect 4: now + LLONG_MAX overflowed, and the library
 * aborted on the malformed deadline).
 */
START_TEST(test_wait_for_llong_max_waits_until_the_task_finishes)
{
  check_waits_forever(forever_wait_for, LLONG_MAX,
                      "future_wait_for(LLONG_MAX)");
}
END_TEST

/* The same for LLONG_MAX - 1 (issue 10, defect 4). */
START_TEST(test_wait_for_llong_max_minus_one_waits_until_the_task_finishes)
{
  check_waits_forever(forever_wait_for, LLONG_MAX - 1,
                      "future_wait_for(LLONG_MAX - 1)");
}
END_TEST

/*
 * The same for the smallest timeout whose deadline no longer fits: now +
 * ns is LLONG_MAX + 1 at least, since the library reads the clock after
 * the test did (issue 10, defect 4).
 */
START_TEST(test_wait_for_overflowing_timeout_waits_until_the_task_finishes)
{
  check_waits_forever(forever_wait_for, LLONG_MAX - tu_now_ns() + 1,
                      "future_wait_for(LLONG_MAX - now + 1)");
}
END_TEST

/*
 * future_wait_until({TIME_T_MAX, 999999999}) means for ever: 0 once the
 * task finishes (issue 10, defect 4: the deadline in ns overflows).
 */
START_TEST(test_wait_until_max_time_t_waits_until_the_task_finishes)
{
  check_waits_forever(forever_wait_until, 0,
                      "future_wait_until({TIME_T_MAX, 999999999})");
}
END_TEST

/* The same for futures_join_all_until() (issue 10, defect 4). */
START_TEST(test_join_all_until_max_time_t_waits_until_the_task_finishes)
{
  check_waits_forever(forever_join_all_until, 0,
                      "futures_join_all_until({TIME_T_MAX, 999999999})");
}
END_TEST

/*
 * The same for futures_join_any_until(), which must also name index 0
 * (issue 10, defect 4).
 */
START_TEST(test_join_any_until_max_time_t_waits_until_the_task_finishes)
{
  check_waits_forever(forever_join_any_until, 0,
                      "futures_join_any_until({TIME_T_MAX, 999999999})");
}
END_TEST

/* A queued task that records which thread ran it. */
struct where {
  atomic_int ran;
  pthread_t thread;
};

static int
task_where(void *arg, void **result)
{
  struct where *w = arg;

  w->thread = pthread_self();
  atomic_store(&w->ran, 1);
  *result = w;
  return 0;
}

struct timed_joiner {
  future_t *f;
  int kind; /* 0: futures_join_all_until, 1: futures_join_any_until */
  pthread_t self;
  atomic_int returned;
  int rc;
};

static void *
timed_joiner_main(void *arg)
{
  struct timed_joiner *j = arg;
  struct timespec dl = max_deadline();
  size_t index;

  j->self = pthread_self();
  if (j->kind == 0)
    j->rc = futures_join_all_until(&j->f, 1, NULL, &dl);
  else
    j->rc = futures_join_any_until(&j->f, 1, &index, NULL, &dl);
  atomic_store(&j->returned, 1);
  return NULL;
}

static int
where_ran(void *arg)
{
  return atomic_load(&((struct where *)arg)->ran);
}

/*
 * A deadline so far that it saturates to "for ever" keeps a timed join
 * timed: from outside the pool it only waits and never runs the awaited
 * task in the caller, as its contract says (issue 10 review: with the
 * saturated deadline they took the untimed path and ran it). The worker
 * is released after the joiner had time to run f wrongly (the bound only
 * makes a wrong run more likely to show: a right one passes whatever it
 * is); f must have run on the worker.
 */
START_TEST(test_timed_joins_with_a_saturated_deadline_only_wait)
{
  for (int kind = 0; kind < 2; kind++) {
    futures_pool_t *pool;
    future_t *held;
    struct tu_hold h;
    struct where w;
    struct timed_joiner j;
    pthread_t t;

    tu_hold_init(&h, NULL);
    atomic_init(&w.ran, 0);
    atomic_init(&j.returned, 0);
    j.kind = kind;
    j.rc = -1;
    ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
    ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
    tu_latch_wait(&h.started);
    ck_assert_int_eq(futures_submit(pool, task_where, &w, &j.f), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, timed_joiner_main, &j), 0);
    (void)tu_spin_until(where_ran, &w, 50 * MS);
    tu_latch_open(&h.release);
    pthread_join(t, NULL);
    ck_assert_int_eq(j.rc, 0);
    ck_assert_int_eq(atomic_load(&w.ran), 1);
    ck_assert_msg(!pthread_equal(w.thread, j.self),
                  "%s with a saturated deadline ran the task in the caller",
                  kind == 0 ? "futures_join_all_until"
                            : "futures_join_any_until");
    ck_assert_int_eq(future_get(held, NULL), 0);
    future_release(held);
    future_release(j.f);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
    tu_hold_destroy(&h);
  }
}
END_TEST

/* ------------------------------------------------------------ far */

/* A task on a 1-worker pool that submits a child and waits for it. */
struct far_parent {
  futures_pool_t *pool;
  struct timespec dl; /* the deadline of the wait */
  int join;           /* 0: future_wait_until, 1: futures_join_all_until,
                         2: futures_join_any_until */
  atomic_int child_ran;
  int submit_rc, wait_rc, get_rc;
};

static int
far_parent_task(void *arg, void **result)
{
  struct far_parent *p = arg;
  future_t *child = NULL;

  *result = NULL;
  p->submit_rc = futures_submit(p->pool, task_set_flag, &p->child_ran, &child);
  if (p->submit_rc != 0)
    return 0;
  if (p->join == 2) {
    size_t index;

    p->wait_rc = futures_join_any_until(&child, 1, &index, NULL, &p->dl);
  } else if (p->join == 1) {
    p->wait_rc = futures_join_all_until(&child, 1, NULL, &p->dl);
  } else {
    p->wait_rc = future_wait_until(child, &p->dl);
  }
  p->get_rc = future_get(child, NULL);
  future_release(child);
  return 0;
}

/*
 * Runs the parent task with @dl; asserts its wait returned 0 with the
 * child run. The test thread waits at most 10 s, so that a deadlocked pool
 * fails the test (the pool is then left behind: it cannot be destroyed).
 */
static void
check_far_wait_in_task(struct timespec dl, int join, const char *what)
{
  futures_pool_t *pool;
  struct far_parent *p = calloc(1, sizeof(*p));
  future_t *f;

  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  p->pool = pool;
  p->dl = dl;
  p->join = join;
  atomic_init(&p->child_ran, 0);
  p->submit_rc = p->wait_rc = p->get_rc = -1;
  ck_assert_int_eq(futures_submit(pool, far_parent_task, p, &f), 0);
  ck_assert_msg(future_wait_for(f, 10000 * MS) == 0,
                "%s of its sub-task, in a task on a 1-worker pool: no "
                "progress in 10 s (the worker waits instead of running its "
                "own sub-task)",
                what);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(p->submit_rc, 0);
  ck_assert_msg(p->wait_rc == 0, "%s returned %d", what, p->wait_rc);
  ck_assert_int_eq(p->get_rc, 0);
  ck_assert_int_eq(atomic_load(&p->child_ran), 1);
  free(p);
}

/*
 * On a 1-worker pool, a task waiting for its own sub-task with the far
 * deadline {TIME_T_MAX, 0} runs the sub-task itself and gets 0 (issue 10,
 * defect 5: the deadline overflowed to "passed", so the worker stopped
 * helping and slept for ever).
 */
START_TEST(test_wait_until_far_deadline_in_a_task_runs_its_subtask)
{
  struct timespec dl = {TIME_T_MAX, 0};

  check_far_wait_in_task(dl, 0, "future_wait_until({TIME_T_MAX, 0})");
}
END_TEST

/*
 * The same through futures_join_all_until(), whose header also promises
 * that a task runs its own pending sub-tasks (issue 10, defect 5).
 */
START_TEST(test_join_all_until_far_deadline_in_a_task_runs_its_subtask)
{
  struct timespec dl = {TIME_T_MAX, 0};

  check_far_wait_in_task(dl, 1, "futures_join_all_until({TIME_T_MAX, 0})");
}
END_TEST

/*
 * The same through futures_join_any_until(): like the other timed waits, a
 * task runs its own pending sub-tasks while it waits (issue 10: the race
 * of a task's own sub-tasks could otherwise never be won on a 1-worker
 * pool).
 */
START_TEST(test_join_any_until_far_deadline_in_a_task_runs_its_subtask)
{
  struct timespec dl = {TIME_T_MAX, 0};

  check_far_wait_in_task(dl, 2, "futures_join_any_until({TIME_T_MAX, 0})");
}
END_TEST

/*
 * A deadline before the epoch of CLOCK_MONOTONIC (negative tv_sec, valid
 * tv_nsec) is a past deadline and polls: ETIMEDOUT on an unfinished future,
 * 0 on a finished one, for future_wait_until(), futures_join_all_until()
 * and futures_join_any_until() (issue 10, defect 5: EINVAL today).
 */
START_TEST(test_wait_until_negative_tv_sec_is_a_past_deadline)
{
  static const struct timespec past[2] = {{-1, 0}, {-5, 500000000L}};
  futures_pool_t *pool;
  future_t *f;
  struct tu_hold h;
  int held[2][3], done[2][3];
  size_t held_index[2], done_index[2];

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &f), 0);
  tu_latch_wait(&h.started);
  for (int k = 0; k < 2; k++) {
    held_index[k] = 99;
    held[k][0] = future_wait_until(f, &past[k]);
    held[k][1] = futures_join_all_until(&f, 1, NULL, &past[k]);
    held[k][2] = futures_join_any_until(&f, 1, &held_index[k], NULL, &past[k]);
  }
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(f, NULL), 0);
  for (int k = 0; k < 2; k++) {
    done_index[k] = 99;
    done[k][0] = future_wait_until(f, &past[k]);
    done[k][1] = futures_join_all_until(&f, 1, NULL, &past[k]);
    done[k][2] = futures_join_any_until(&f, 1, &done_index[k], NULL, &past[k]);
  }
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);

  for (int k = 0; k < 2; k++) {
    static const char *const name[3] = {"future_wait_until",
                                        "futures_join_all_until",
                                        "futures_join_any_until"};

    for (int c = 0; c < 3; c++) {
      ck_assert_msg(held[k][c] == ETIMEDOUT,
                    "%s({%lld, %ld}) on an unfinished future: %d, want "
                    "ETIMEDOUT (%d)",
                    name[c], (long long)past[k].tv_sec, past[k].tv_nsec,
                    held[k][c], ETIMEDOUT);
      ck_assert_msg(done[k][c] == 0,
                    "%s({%lld, %ld}) on a finished future: %d, want 0", name[c],
                    (long long)past[k].tv_sec, past[k].tv_nsec, done[k][c]);
    }
    ck_assert_uint_eq(held_index[k], (size_t)-1);
    ck_assert_uint_eq(done_index[k], 0);
  }
}
END_TEST

/*
 * futures_submit_ex() into a full FUTURES_OVERFLOW_BLOCK pool with a
 * deadline of negative tv_sec times out at once: ETIMEDOUT, *future NULL,
 * the task not run (issue 10, defect 5: EINVAL today). A
 * submit that blocked would never return (the worker stays held).
 */
START_TEST(test_submit_ex_negative_tv_sec_on_a_full_pool_times_out)
{
  static const struct timespec past[2] = {{-1, 0}, {-5, 500000000L}};
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *held, *queued, *f;
  struct tu_hold h;
  atomic_int ran = 0;
  futures_task_t t = FUTURES_TASK(task_set_flag, &ran, NULL);
  int rc[2], f_null[2];

  o.nthreads = 1;
  o.max_queued = 1;
  o.overflow = FUTURES_OVERFLOW_BLOCK;
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &queued), 0);
  for (int k = 0; k < 2; k++) {
    f = (future_t *)&f;
    rc[k] = futures_submit_ex(pool, &t, &past[k], &f);
    f_null[k] = f == NULL;
    if (rc[k] == 0)
      future_release(f);
  }
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_get(queued, NULL), 0);
  future_release(held);
  future_release(queued);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
  for (int k = 0; k < 2; k++) {
    ck_assert_msg(rc[k] == ETIMEDOUT,
                  "submit_ex({%lld, %ld}) on a full pool: %d, want "
                  "ETIMEDOUT (%d)",
                  (long long)past[k].tv_sec, past[k].tv_nsec, rc[k], ETIMEDOUT);
    ck_assert(f_null[k]);
  }
  ck_assert_int_eq(atomic_load(&ran), 0);
}
END_TEST

/*
 * A malformed tv_nsec stays EINVAL when tv_sec is negative too, for every
 * call that takes a deadline; nothing is waited for or submitted (issue
 * 10, defect 5 must not turn these into past deadlines).
 */
START_TEST(test_deadline_negative_tv_sec_with_bad_tv_nsec_is_einval)
{
  static const struct timespec bad[3] = {
      {-1, 1000000000L}, {-1, -1}, {-5, 1500000000L}};
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *held, *queued, *f;
  struct tu_hold h;
  atomic_int ran = 0;
  futures_task_t t = FUTURES_TASK(task_set_flag, &ran, NULL);
  size_t index;

  o.nthreads = 1;
  o.max_queued = 1;
  o.overflow = FUTURES_OVERFLOW_BLOCK;
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &queued), 0);
  for (int k = 0; k < 3; k++) {
    index = 99;
    f = (future_t *)&f;
    ck_assert_int_eq(future_wait_until(held, &bad[k]), EINVAL);
    ck_assert_int_eq(futures_join_all_until(&held, 1, NULL, &bad[k]), EINVAL);
    ck_assert_int_eq(futures_join_any_until(&held, 1, &index, NULL, &bad[k]),
                     EINVAL);
    ck_assert_uint_eq(index, (size_t)-1);
    ck_assert_int_eq(futures_submit_ex(pool, &t, &bad[k], &f), EINVAL);
    ck_assert_ptr_null(f);
  }
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_get(queued, NULL), 0);
  future_release(held);
  future_release(queued);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
  ck_assert_int_eq(atomic_load(&ran), 0);
}
END_TEST

/* ------------------------------------------------------------ helper */

/* Issue 13: futures_deadline_in(), the carry written once. */

static int
deadline_well_formed(const struct timespec *d)
{
  return d->tv_nsec >= 0 && d->tv_nsec < 1000000000L;
}

/*
 * The deadline is CLOCK_MONOTONIC now plus @ns, carried into tv_sec: it
 * lies between the clock read before and after the call, shifted by @ns,
 * for offsets that carry (999999999, 1 s + 1) and ones that do not.
 */
START_TEST(test_deadline_in_adds_ns_to_the_monotonic_clock)
{
  static const long long offs[] = { 0, 1, 5 * MS, 999999999LL,
                                    1000000001LL, 3000000007LL };

  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    struct timespec d;
    long long before, after;

    before = tu_now_ns();
    ck_assert_int_eq(futures_deadline_in(offs[i], &d), 0);
    after = tu_now_ns();
    ck_assert_msg(deadline_well_formed(&d), "tv_nsec %ld for %lld ns",
                  d.tv_nsec, offs[i]);
    ck_assert_msg(ts_ns(&d) >= before + offs[i] &&
                      ts_ns(&d) <= after + offs[i],
                  "%lld ns from now is %lld, outside [%lld, %lld]", offs[i],
                  ts_ns(&d), before + offs[i], after + offs[i]);
  }
}
END_TEST

/*
 * Offsets too far to count saturate to the largest timespec, which the
 * timed calls take as for ever; a finished future still reports 0 at once.
 */
START_TEST(test_deadline_in_saturates_to_the_largest_timespec)
{
  static const long long far[] = { LLONG_MAX, LLONG_MAX - 1, LLONG_MAX - 1000 };
  futures_pool_t *pool;
  future_t *f;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &r, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
    struct timespec d;

    ck_assert_int_eq(futures_deadline_in(far[i], &d), 0);
    ck_assert_msg(d.tv_sec == TIME_T_MAX && d.tv_nsec == 999999999L,
                  "%lld ns from now is {%lld, %ld}", far[i],
                  (long long)d.tv_sec, d.tv_nsec);
    ck_assert_int_eq(future_wait_until(f, &d), 0);
  }
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* NULL and a negative offset are EINVAL, and *deadline is left alone. */
START_TEST(test_deadline_in_rejects_bad_arguments)
{
  struct timespec d = { 12345, 678 };

  ck_assert_int_eq(futures_deadline_in(5 * MS, NULL), EINVAL);
  ck_assert_int_eq(futures_deadline_in(-1, &d), EINVAL);
  ck_assert_int_eq(futures_deadline_in(LLONG_MIN, &d), EINVAL);
  ck_assert_int_eq(d.tv_sec, 12345);
  ck_assert_int_eq(d.tv_nsec, 678);
}
END_TEST

/* Calls whose deadlines went backwards or came out malformed. */
static atomic_int deadline_in_bad;

static void
deadline_in_thread(void *arg, int i)
{
  struct timespec prev = { 0, 0 }, d;

  (void)arg;
  (void)i;
  for (int k = 0; k < 2000; k++) {
    if (futures_deadline_in(0, &d) != 0 || !deadline_well_formed(&d) ||
        ts_ns(&d) < ts_ns(&prev))
      atomic_fetch_add(&deadline_in_bad, 1);
    prev = d;
  }
}

/*
 * The Threads line: 4 threads call it 2000 times each; every answer is well
 * formed and none is earlier than the same thread's previous one.
 */
START_TEST(test_deadline_in_from_many_threads_is_monotonic)
{
  int bad;

  atomic_store(&deadline_in_bad, 0);
  ck_assert_int_eq(tu_run_threads(4, deadline_in_thread, NULL), 0);
  bad = atomic_load(&deadline_in_bad);
  ck_assert_msg(bad == 0, "%d deadlines went backwards or were malformed",
                bad);
}
END_TEST

/* What the waiting task saw: its wait's code, and whether it gave up only
 * once its deadline had passed. */
struct bounded_wait {
  future_t *held;
  int rc;
  int not_early;
};

static int
task_bounded_wait(void *arg, void **result)
{
  struct bounded_wait *bw = arg;
  struct timespec d;

  *result = NULL;
  if (futures_deadline_in(5 * MS, &d) != 0)
    return EINVAL;
  bw->rc = future_wait_until(bw->held, &d);
  bw->not_early = tu_now_ns() >= ts_ns(&d);
  return 0;
}

/*
 * The In a task line: a task builds a 5 ms deadline with it and waits on a
 * task held on the other worker; the wait times out, not before the
 * deadline (the held task is released only after).
 */
START_TEST(test_deadline_in_bounds_a_timed_wait_in_a_task)
{
  futures_pool_t *pool;
  struct tu_hold h;
  struct bounded_wait bw = { NULL, -1, 0 };
  future_t *held, *waiter;

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  bw.held = held;
  ck_assert_int_eq(futures_submit(pool, task_bounded_wait, &bw, &waiter), 0);
  ck_assert_int_eq(future_get(waiter, NULL), 0);
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(bw.rc, ETIMEDOUT);
  ck_assert_int_eq(bw.not_early, 1);
  future_release(waiter);
  future_release(held);
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

  /* Issue 10, defect 4: "for ever" waits. */
  tc = tcase_create("forever");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_wait_for_llong_max_waits_until_the_task_finishes);
  tcase_add_test(
      tc, test_wait_for_llong_max_minus_one_waits_until_the_task_finishes);
  tcase_add_test(
      tc, test_wait_for_overflowing_timeout_waits_until_the_task_finishes);
  tcase_add_test(tc, test_wait_until_max_time_t_waits_until_the_task_finishes);
  tcase_add_test(tc,
                 test_join_all_until_max_time_t_waits_until_the_task_finishes);
  tcase_add_test(tc,
                 test_join_any_until_max_time_t_waits_until_the_task_finishes);
  tcase_add_test(tc, test_timed_joins_with_a_saturated_deadline_only_wait);
  suite_add_tcase(s, tc);

  /* Issue 10, defect 5: far and negative absolute deadlines. A deadlocked
   * pool fails in check_far_wait_in_task() after 10 s; the timeout is the
   * backstop. */
  tc = tcase_create("far");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_wait_until_far_deadline_in_a_task_runs_its_subtask);
  tcase_add_test(tc,
                 test_join_all_until_far_deadline_in_a_task_runs_its_subtask);
  tcase_add_test(tc,
                 test_join_any_until_far_deadline_in_a_task_runs_its_subtask);
  tcase_add_test(tc, test_wait_until_negative_tv_sec_is_a_past_deadline);
  tcase_add_test(tc, test_submit_ex_negative_tv_sec_on_a_full_pool_times_out);
  tcase_add_test(tc, test_deadline_negative_tv_sec_with_bad_tv_nsec_is_einval);
  suite_add_tcase(s, tc);

  tc = tcase_create("helper");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_deadline_in_adds_ns_to_the_monotonic_clock);
  tcase_add_test(tc, test_deadline_in_saturates_to_the_largest_timespec);
  tcase_add_test(tc, test_deadline_in_rejects_bad_arguments);
  tcase_add_test(tc, test_deadline_in_from_many_threads_is_monotonic);
  tcase_add_test(tc, test_deadline_in_bounds_a_timed_wait_in_a_task);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(deadline_suite());
}
