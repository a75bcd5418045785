/* SPDX-License-Identifier: MIT */
/*
 * check_errors: the bad-input table, one test per public function. Each
 * row is a sentence of futures.h about NULL pointers, zero counts and
 * malformed arguments: the documented code comes back, out-parameters are
 * set as promised, and nothing was done (no task ran, no drop was called).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *errors_suite(void);

#define NO_INDEX ((size_t)-1)

/* ------------------------------------------------------------ helpers */

static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

static atomic_int task_runs;
static atomic_int drop_calls;

static int
count_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  atomic_fetch_add(&task_runs, 1);
  return 0;
}

static void
count_drop(void *arg)
{
  (void)arg;
  atomic_fetch_add(&drop_calls, 1);
}

static int
count_range(void *arg, size_t begin, size_t end)
{
  (void)arg;
  (void)begin;
  (void)end;
  atomic_fetch_add(&task_runs, 1);
  return 0;
}

static int
count_then(void *arg, int code, void *value, void **result)
{
  (void)arg;
  (void)code;
  (void)value;
  (void)result;
  atomic_fetch_add(&task_runs, 1);
  return 0;
}

static void
reset_counts(void)
{
  atomic_store(&task_runs, 0);
  atomic_store(&drop_calls, 0);
}

/* A finished future holding the value @arg + 1. */
static future_t *
finished_future(futures_pool_t *pool, uintptr_t arg)
{
  future_t *f = NULL;

  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)arg, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  return f;
}

static struct timespec
past_deadline(void)
{
  return tu_deadline_in(-1000000LL); /* 1 ms ago */
}

/* ------------------------------------------------------------ pool */

/*
 * futures_pool_create: NULL out pointer -> EINVAL; more than 4096 workers
 * -> EINVAL with *pool set to NULL.
 */
START_TEST(test_errors_pool_create_rejects_null_and_too_many_threads)
{
  futures_pool_t *pool = (futures_pool_t *)&pool;

  ck_assert_int_eq(futures_pool_create(NULL, 1), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 4097), EINVAL);
  ck_assert_ptr_null(pool);
}
END_TEST

/*
 * futures_pool_create_ex: NULL out pointer, opts->size below the first
 * version's struct, unknown overflow policy, unknown flag and too many
 * workers are each EINVAL with *pool NULL.
 */
START_TEST(test_errors_pool_create_ex_rejects_bad_options)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool;

  ck_assert_int_eq(futures_pool_create_ex(NULL, &opts), EINVAL);

  opts = (futures_pool_opts_t)FUTURES_POOL_OPTS_INIT;
  opts.size = 0;
  pool = (futures_pool_t *)&pool;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);

  opts = (futures_pool_opts_t)FUTURES_POOL_OPTS_INIT;
  opts.max_queued = 4;
  opts.overflow = 42;
  pool = (futures_pool_t *)&pool;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);

  opts = (futures_pool_opts_t)FUTURES_POOL_OPTS_INIT;
  opts.flags = 0x100u;
  pool = (futures_pool_t *)&pool;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);

  opts = (futures_pool_opts_t)FUTURES_POOL_OPTS_INIT;
  opts.nthreads = 4097;
  pool = (futures_pool_t *)&pool;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);
}
END_TEST

/* futures_pool_destroy: NULL -> EINVAL. */
START_TEST(test_errors_pool_destroy_null_returns_einval)
{
  ck_assert_int_eq(futures_pool_destroy(NULL), EINVAL);
}
END_TEST

/*
 * futures_pool_destroy: an already destroyed pool -> EINVAL, found by the
 * registry without touching freed memory (ASan/valgrind would report it).
 */
START_TEST(test_errors_pool_destroy_twice_returns_einval)
{
  futures_pool_t *pool = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), EINVAL);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL),
                   EINVAL);
}
END_TEST

/*
 * futures_pool_destroy_ex: NULL -> EINVAL; a mode outside the enum ->
 * EINVAL with nothing done (the pool still runs a task).
 */
START_TEST(test_errors_pool_destroy_ex_rejects_null_and_bad_mode)
{
  futures_pool_t *pool = NULL;
  future_t *f;

  ck_assert_int_eq(futures_pool_destroy_ex(NULL, FUTURES_DESTROY_DRAIN),
                   EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, 99), EINVAL);
  f = finished_future(pool, 1);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_pool_stats: NULL pool, NULL stats, and stats->size smaller than
 * the first version's struct (0, one byte short) -> EINVAL.
 */
START_TEST(test_errors_pool_stats_rejects_null_and_small_size)
{
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_stats(NULL, &st), EINVAL);
  ck_assert_int_eq(futures_pool_stats(pool, NULL), EINVAL);
  st.size = 0;
  ck_assert_int_eq(futures_pool_stats(pool, &st), EINVAL);
  st.size = offsetof(futures_stats_t, shutting_down) + sizeof(int) - 1;
  ck_assert_int_eq(futures_pool_stats(pool, &st), EINVAL);
  st.size = sizeof(st);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_uint_eq(st.workers, 1);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ submit */

/*
 * futures_submit: NULL pool, fn or future -> EINVAL, *future NULL, and
 * the task never runs (the draining destroy would have run it).
 */
START_TEST(test_errors_submit_rejects_null_arguments)
{
  futures_pool_t *pool = NULL;
  future_t *f;

  reset_counts();
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit(NULL, count_task, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit(pool, NULL, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(futures_submit(pool, count_task, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(task_runs, 0);
}
END_TEST

/*
 * futures_submit_ex: NULL pool, NULL task, task->fn NULL, NULL future ->
 * EINVAL, *future NULL; the task does not run and its drop function is
 * not called (the caller still owns the argument).
 */
START_TEST(test_errors_submit_ex_rejects_null_arguments)
{
  futures_task_t task = FUTURES_TASK(count_task, NULL, count_drop);
  futures_task_t no_fn = FUTURES_TASK(NULL, NULL, count_drop);
  futures_pool_t *pool = NULL;
  future_t *f;

  reset_counts();
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit_ex(NULL, &task, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit_ex(pool, NULL, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit_ex(pool, &no_fn, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(task_runs, 0);
  ck_assert_int_eq(drop_calls, 0);
}
END_TEST

/*
 * futures_submit_all: n == 0 -> 0, nothing done; NULL pool, tasks, futures
 * or any fn -> EINVAL, every futures[i] NULL, nothing run (all or nothing).
 */
START_TEST(test_errors_submit_all_rejects_bad_batches_all_or_nothing)
{
  futures_task_t tasks[3] = {FUTURES_TASK(count_task, NULL, count_drop),
                             FUTURES_TASK(count_task, NULL, count_drop),
                             FUTURES_TASK(NULL, NULL, count_drop)};
  futures_pool_t *pool = NULL;
  future_t *fs[3];
  size_t i;

  reset_counts();
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);

  ck_assert_int_eq(futures_submit_all(pool, NULL, 0, NULL), 0);
  fs[0] = (future_t *)&fs;
  ck_assert_int_eq(futures_submit_all(pool, tasks, 0, fs), 0);
  ck_assert_ptr_eq(fs[0], (future_t *)&fs);

  for (i = 0; i < 3; i++)
    fs[i] = (future_t *)&fs;
  ck_assert_int_eq(futures_submit_all(pool, NULL, 3, fs), EINVAL);
  for (i = 0; i < 3; i++)
    ck_assert_ptr_null(fs[i]);

  for (i = 0; i < 3; i++)
    fs[i] = (future_t *)&fs;
  ck_assert_int_eq(futures_submit_all(pool, tasks, 3, fs), EINVAL);
  for (i = 0; i < 3; i++)
    ck_assert_ptr_null(fs[i]);

  for (i = 0; i < 3; i++)
    fs[i] = (future_t *)&fs;
  ck_assert_int_eq(futures_submit_all(NULL, tasks, 2, fs), EINVAL);
  for (i = 0; i < 2; i++)
    ck_assert_ptr_null(fs[i]);

  ck_assert_int_eq(futures_submit_all(pool, tasks, 2, NULL), EINVAL);

  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(task_runs, 0);
  ck_assert_int_eq(drop_calls, 0);
}
END_TEST

/*
 * futures_parallel_for: NULL pool, NULL fn, NULL future and end < begin
 * -> EINVAL with no chunk run; end == begin gives a future that completes
 * with 0 (result NULL) without calling fn.
 */
START_TEST(test_errors_parallel_for_rejects_bad_ranges_and_nulls)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *r = &r;

  reset_counts();
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_parallel_for(NULL, 0, 10, 1, count_range, NULL, &f),
                   EINVAL);
  ck_assert_int_eq(futures_parallel_for(pool, 0, 10, 1, NULL, NULL, &f),
                   EINVAL);
  ck_assert_int_eq(
      futures_parallel_for(pool, 0, 10, 1, count_range, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_parallel_for(pool, 10, 9, 1, count_range, NULL, &f),
                   EINVAL);
  ck_assert_int_eq(
      futures_parallel_for(pool, SIZE_MAX, 0, 0, count_range, NULL, &f),
      EINVAL);

  f = NULL;
  ck_assert_int_eq(futures_parallel_for(pool, 5, 5, 1, count_range, NULL, &f),
                   0);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_null(r);
  future_release(f);

  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(task_runs, 0);
}
END_TEST

/*
 * futures_then: NULL pool, antecedent, fn or future -> EINVAL; an
 * antecedent from a different pool -> EINVAL. No continuation runs.
 */
START_TEST(test_errors_then_rejects_null_arguments)
{
  futures_pool_t *pool = NULL, *other = NULL;
  future_t *ante, *f = NULL;

  reset_counts();
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_create(&other, 1), 0);
  ante = finished_future(pool, 1);
  ck_assert_int_eq(futures_then(NULL, ante, count_then, NULL, &f), EINVAL);
  ck_assert_int_eq(futures_then(pool, NULL, count_then, NULL, &f), EINVAL);
  ck_assert_int_eq(futures_then(pool, ante, NULL, NULL, &f), EINVAL);
  ck_assert_int_eq(futures_then(pool, ante, count_then, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_then_inline(NULL, count_then, NULL, &f), EINVAL);
  ck_assert_int_eq(futures_then_inline(ante, NULL, NULL, &f), EINVAL);
  ck_assert_int_eq(futures_then_inline(ante, count_then, NULL, NULL), EINVAL);
  ck_assert_ptr_null(f);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(other), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(task_runs, 0);
}
END_TEST

/* ------------------------------------------------------------ future */

/* future_get: NULL -> EINVAL. */
START_TEST(test_errors_future_get_null_returns_einval)
{
  void *r = NULL;

  ck_assert_int_eq(future_get(NULL, &r), EINVAL);
  ck_assert_int_eq(future_get(NULL, NULL), EINVAL);
}
END_TEST

/*
 * future_wait_until: NULL future, NULL abstime, tv_nsec outside [0, 1e9)
 * -> EINVAL; a past deadline polls: 0 for a finished future, ETIMEDOUT
 * for a held one, which is left intact (its outcome arrives later).
 */
START_TEST(test_errors_future_wait_until_rejects_bad_deadlines)
{
  futures_pool_t *pool = NULL;
  struct timespec ok = tu_deadline_in(1000000000LL), bad = ok, past;
  future_t *done, *held;
  struct tu_crowd h;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  done = finished_future(pool, 1);
  ck_assert_int_eq(future_wait_until(NULL, &ok), EINVAL);
  ck_assert_int_eq(future_wait_until(done, NULL), EINVAL);
  bad.tv_nsec = -1;
  ck_assert_int_eq(future_wait_until(done, &bad), EINVAL);
  bad.tv_nsec = 1000000000L;
  ck_assert_int_eq(future_wait_until(done, &bad), EINVAL);

  past = past_deadline();
  ck_assert_int_eq(future_wait_until(done, &past), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &held, 1), 0);
  ck_assert_int_eq(future_wait_until(held, &past), ETIMEDOUT);
  ck_assert_int_eq(future_is_ready(held), 0);
  /* The held future's outcome is intact. */
  ck_assert_int_eq(tu_crowd_release(&h, &held, 1), 0);
  future_release(done);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * future_wait_for: NULL future or a negative timeout -> EINVAL; 0 polls:
 * 0 for a finished future, ETIMEDOUT for a held one.
 */
START_TEST(test_errors_future_wait_for_rejects_negative_timeout)
{
  futures_pool_t *pool = NULL;
  future_t *done, *held;
  struct tu_crowd h;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  done = finished_future(pool, 1);
  ck_assert_int_eq(future_wait_for(NULL, 1000), EINVAL);
  ck_assert_int_eq(future_wait_for(done, -1), EINVAL);
  ck_assert_int_eq(future_wait_for(done, LLONG_MIN), EINVAL);
  ck_assert_int_eq(future_wait_for(done, 0), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &held, 1), 0);
  ck_assert_int_eq(future_wait_for(held, 0), ETIMEDOUT);
  ck_assert_int_eq(future_wait_for(held, -5), EINVAL);
  ck_assert_int_eq(tu_crowd_release(&h, &held, 1), 0);
  future_release(done);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* future_is_ready: NULL -> 0 (not an error code, not a crash). */
START_TEST(test_errors_future_is_ready_null_returns_zero)
{
  ck_assert_int_eq(future_is_ready(NULL), 0);
}
END_TEST

/* future_cancel: NULL -> EINVAL; a finished future -> EALREADY, intact. */
START_TEST(test_errors_future_cancel_rejects_null_and_finished)
{
  futures_pool_t *pool = NULL;
  future_t *done;
  void *r = NULL;

  ck_assert_int_eq(future_cancel(NULL), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  done = finished_future(pool, 6);
  ck_assert_int_eq(future_cancel(done), EALREADY);
  ck_assert_int_eq(future_get(done, &r), 0);
  ck_assert_ptr_eq(r, (void *)7);
  future_release(done);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* futures_cancelled: 0 outside any task. */
START_TEST(test_errors_futures_cancelled_is_zero_outside_tasks)
{
  ck_assert_int_eq(futures_cancelled(), 0);
}
END_TEST

/*
 * future_times: NULL -> EINVAL; a pool without FUTURES_POOL_TIMING ->
 * ENOTSUP; an unfinished future of a timing pool -> EBUSY; a finished one
 * -> 0, with both out-parameters optional.
 */
START_TEST(test_errors_future_times_rejects_null_untimed_and_unfinished)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *plain = NULL, *timed = NULL;
  long long q = -1, run = -1;
  future_t *f, *held;
  struct tu_crowd h;

  ck_assert_int_eq(future_times(NULL, &q, &run), EINVAL);

  ck_assert_int_eq(futures_pool_create(&plain, 1), 0);
  f = finished_future(plain, 1);
  ck_assert_int_eq(future_times(f, &q, &run), ENOTSUP);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(plain), 0);

  opts.nthreads = 1;
  opts.flags = FUTURES_POOL_TIMING;
  ck_assert_int_eq(futures_pool_create_ex(&timed, &opts), 0);
  ck_assert_int_eq(tu_crowd_hold(timed, &h, &held, 1), 0);
  ck_assert_int_eq(future_times(held, &q, &run), EBUSY);
  ck_assert_int_eq(tu_crowd_release(&h, &held, 1), 0);
  f = finished_future(timed, 1);
  ck_assert_int_eq(future_times(f, NULL, NULL), 0);
  ck_assert_int_eq(future_times(f, &q, &run), 0);
  ck_assert_int_ge(q, 0);
  ck_assert_int_ge(run, 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(timed), 0);
}
END_TEST

/* future_release: NULL does nothing. */
START_TEST(test_errors_future_release_null_does_nothing)
{
  futures_pool_t *pool = NULL;
  future_t *f;

  future_release(NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f = finished_future(pool, 1);
  future_release(NULL);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ join */

/*
 * futures_join_all: n == 0 -> 0 (NULL arrays fine); NULL futures with
 * n > 0 or a NULL entry -> EINVAL.
 */
START_TEST(test_errors_join_all_rejects_null_array_and_entries)
{
  futures_pool_t *pool = NULL;
  future_t *f[2];
  void *r[2];

  ck_assert_int_eq(futures_join_all(NULL, 0, NULL), 0);
  ck_assert_int_eq(futures_join_all(NULL, 1, r), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  f[1] = NULL;
  ck_assert_int_eq(futures_join_all(f, 2, r), EINVAL);
  ck_assert_int_eq(futures_join_all(f, 1, r), 0);
  ck_assert_ptr_eq(r[0], (void *)2);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_all_until: NULL or malformed abstime -> EINVAL; a NULL
 * entry -> EINVAL; n == 0 -> 0; a past deadline with a held future ->
 * ETIMEDOUT, results untouched and every future intact.
 */
START_TEST(test_errors_join_all_until_rejects_bad_deadlines)
{
  futures_pool_t *pool = NULL;
  struct timespec ok = tu_deadline_in(1000000000LL), bad = ok, past;
  future_t *f[2];
  void *r[2];
  struct tu_crowd h;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  ck_assert_int_eq(futures_join_all_until(f, 1, r, NULL), EINVAL);
  bad.tv_nsec = -1;
  ck_assert_int_eq(futures_join_all_until(f, 1, r, &bad), EINVAL);
  bad.tv_nsec = 1000000000L;
  ck_assert_int_eq(futures_join_all_until(f, 1, r, &bad), EINVAL);
  ck_assert_int_eq(futures_join_all_until(NULL, 1, r, &ok), EINVAL);
  f[1] = NULL;
  ck_assert_int_eq(futures_join_all_until(f, 2, r, &ok), EINVAL);
  ck_assert_int_eq(futures_join_all_until(NULL, 0, NULL, &ok), 0);

  ck_assert_int_eq(tu_crowd_hold(pool, &h, &f[1], 1), 0);
  r[0] = r[1] = &h; /* sentinels */
  past = past_deadline();
  ck_assert_int_eq(futures_join_all_until(f, 2, r, &past), ETIMEDOUT);
  ck_assert_ptr_eq(r[0], &h);
  ck_assert_ptr_eq(r[1], &h);
  ck_assert_int_eq(future_is_ready(f[1]), 0);
  ck_assert_int_eq(tu_crowd_release(&h, &f[1], 1), 0);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_all_settled: n == 0 -> 0 (NULL arrays fine); NULL
 * futures, a NULL entry or NULL outcomes with n > 0 -> EINVAL.
 */
START_TEST(test_errors_join_all_settled_rejects_null_outcomes)
{
  futures_pool_t *pool = NULL;
  futures_outcome_t out[2];
  future_t *f[2];

  ck_assert_int_eq(futures_join_all_settled(NULL, 0, NULL), 0);
  ck_assert_int_eq(futures_join_all_settled(NULL, 1, out), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  f[1] = NULL;
  ck_assert_int_eq(futures_join_all_settled(f, 1, NULL), EINVAL);
  ck_assert_int_eq(futures_join_all_settled(f, 2, out), EINVAL);
  ck_assert_int_eq(futures_join_all_settled(f, 1, out), 0);
  ck_assert_int_eq(out[0].code, 0);
  ck_assert_ptr_eq(out[0].result, (void *)2);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_all_failfast: n == 0 -> 0 with *failed == (size_t)-1;
 * NULL futures or a NULL entry -> EINVAL; @failed is optional.
 */
START_TEST(test_errors_join_all_failfast_rejects_null_entries)
{
  futures_pool_t *pool = NULL;
  size_t failed = 7;
  future_t *f[2];
  void *r[2];

  ck_assert_int_eq(futures_join_all_failfast(NULL, 0, NULL, &failed), 0);
  ck_assert_uint_eq(failed, NO_INDEX);
  ck_assert_int_eq(futures_join_all_failfast(NULL, 0, NULL, NULL), 0);
  ck_assert_int_eq(futures_join_all_failfast(NULL, 1, r, &failed), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  f[1] = NULL;
  ck_assert_int_eq(futures_join_all_failfast(f, 2, r, &failed), EINVAL);
  failed = 7;
  ck_assert_int_eq(futures_join_all_failfast(f, 1, r, &failed), 0);
  ck_assert_uint_eq(failed, NO_INDEX);
  ck_assert_ptr_eq(r[0], (void *)2);
  ck_assert_int_eq(futures_join_all_failfast(f, 1, NULL, NULL), 0);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_any: n == 0 (a race with no runners), NULL futures or a
 * NULL entry -> EINVAL with *index == (size_t)-1; NULL index -> EINVAL.
 */
START_TEST(test_errors_join_any_rejects_zero_count_and_nulls)
{
  futures_pool_t *pool = NULL;
  size_t index = 7;
  future_t *f[2];
  void *r = NULL;

  ck_assert_int_eq(futures_join_any(NULL, 0, &index, &r), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  f[1] = NULL;
  index = 7;
  ck_assert_int_eq(futures_join_any(f, 0, &index, &r), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  index = 7;
  ck_assert_int_eq(futures_join_any(NULL, 1, &index, &r), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  index = 7;
  ck_assert_int_eq(futures_join_any(f, 2, &index, &r), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  ck_assert_int_eq(futures_join_any(f, 1, NULL, &r), EINVAL);
  index = 7;
  ck_assert_int_eq(futures_join_any(f, 1, &index, &r), 0);
  ck_assert_uint_eq(index, 0);
  ck_assert_ptr_eq(r, (void *)2);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_any_until: n == 0 or NULL abstime (global rule: unusable)
 * -> EINVAL; a past deadline -> ETIMEDOUT; *index (size_t)-1 each time.
 */
START_TEST(test_errors_join_any_until_rejects_zero_count_and_times_out)
{
  futures_pool_t *pool = NULL;
  struct timespec ok = tu_deadline_in(1000000000LL), past;
  size_t index = 7;
  future_t *f[1];
  struct tu_crowd h;
  void *r = NULL;

  ck_assert_int_eq(futures_join_any_until(NULL, 0, &index, &r, &ok), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &f[0], 1), 0);
  index = 7;
  ck_assert_int_eq(futures_join_any_until(f, 1, &index, &r, NULL), EINVAL);
  ck_assert_uint_eq(index, NO_INDEX);
  index = 7;
  past = past_deadline();
  ck_assert_int_eq(futures_join_any_until(f, 1, &index, &r, &past), ETIMEDOUT);
  ck_assert_uint_eq(index, NO_INDEX);
  ck_assert_int_eq(future_is_ready(f[0]), 0);
  ck_assert_int_eq(tu_crowd_release(&h, &f[0], 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_join_any_ok: n == 0 -> ENOENT with *index == (size_t)-1 (no
 * future succeeded); NULL futures or a NULL entry -> EINVAL.
 */
START_TEST(test_errors_join_any_ok_of_zero_futures_returns_enoent)
{
  futures_pool_t *pool = NULL;
  size_t index = 7;
  future_t *f[2];
  void *r = NULL;
  int codes[2];

  ck_assert_int_eq(futures_join_any_ok(NULL, 0, &index, &r, NULL), ENOENT);
  ck_assert_uint_eq(index, NO_INDEX);
  ck_assert_int_eq(futures_join_any_ok(NULL, 0, NULL, NULL, NULL), ENOENT);
  ck_assert_int_eq(futures_join_any_ok(NULL, 2, &index, &r, codes), EINVAL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f[0] = finished_future(pool, 1);
  f[1] = NULL;
  ck_assert_int_eq(futures_join_any_ok(f, 2, &index, &r, codes), EINVAL);
  future_release(f[0]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ version */

/* futures_version / futures_version_string take no input and never fail. */
START_TEST(test_errors_version_functions_never_fail)
{
  ck_assert_uint_eq(futures_version(), FUTURES_VERSION_HEX);
  ck_assert_ptr_nonnull(futures_version_string());
}
END_TEST

/* What a task that waits for its own future saw, for the test below. */
struct self_wait {
  future_t *_Atomic self; /* published by the test thread after submit */
  int get_rc, wait_rc, join_rc;
};

static int
self_wait_task(void *arg, void **result)
{
  struct self_wait *sw = arg;
  struct timespec dl = tu_deadline_in(10 * 1000000000LL);
  future_t *me;

  while ((me = atomic_load(&sw->self)) == NULL)
    ;
  sw->get_rc = future_get(me, NULL);
  sw->wait_rc = future_wait_until(me, &dl);
  sw->join_rc = futures_join_all(&me, 1, NULL);
  *result = NULL;
  return 0;
}

/*
 * A task that waits for its own future would wait for ever: future_get,
 * future_wait_until and futures_join_all return EDEADLK at once instead
 * (the wait_until deadline is 10 s, so a library that waited would show
 * as ETIMEDOUT, and one that blocked in get would hit the test timeout).
 * The pool's one worker runs the task; the test thread does not help.
 */
START_TEST(test_errors_task_waiting_for_its_own_future_is_edeadlk)
{
  futures_pool_t *pool = NULL;
  struct self_wait sw;
  struct timespec dl;
  future_t *f = NULL;

  memset(&sw, 0, sizeof(sw));
  sw.get_rc = sw.wait_rc = sw.join_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, self_wait_task, &sw, &f), 0);
  atomic_store(&sw.self, f);
  dl = tu_deadline_in(30 * 1000000000LL);
  ck_assert_int_eq(future_wait_until(f, &dl), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(sw.get_rc, EDEADLK);
  ck_assert_int_eq(sw.wait_rc, EDEADLK);
  ck_assert_int_eq(sw.join_rc, EDEADLK);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

Suite *
errors_suite(void)
{
  Suite *s = suite_create("errors");
  TCase *tc;

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_errors_pool_create_rejects_null_and_too_many_threads);
  tcase_add_test(tc, test_errors_pool_create_ex_rejects_bad_options);
  tcase_add_test(tc, test_errors_pool_destroy_null_returns_einval);
  tcase_add_test(tc, test_errors_pool_destroy_twice_returns_einval);
  tcase_add_test(tc, test_errors_pool_destroy_ex_rejects_null_and_bad_mode);
  tcase_add_test(tc, test_errors_pool_stats_rejects_null_and_small_size);
  tcase_add_test(tc, test_errors_submit_rejects_null_arguments);
  tcase_add_test(tc, test_errors_submit_ex_rejects_null_arguments);
  tcase_add_test(tc, test_errors_submit_all_rejects_bad_batches_all_or_nothing);
  tcase_add_test(tc, test_errors_parallel_for_rejects_bad_ranges_and_nulls);
  tcase_add_test(tc, test_errors_then_rejects_null_arguments);
  tcase_add_test(tc, test_errors_future_get_null_returns_einval);
  tcase_add_test(tc, test_errors_future_wait_until_rejects_bad_deadlines);
  tcase_add_test(tc, test_errors_future_wait_for_rejects_negative_timeout);
  tcase_add_test(tc, test_errors_future_is_ready_null_returns_zero);
  tcase_add_test(tc, test_errors_future_cancel_rejects_null_and_finished);
  tcase_add_test(tc, test_errors_futures_cancelled_is_zero_outside_tasks);
  tcase_add_test(tc,
                 test_errors_future_times_rejects_null_untimed_and_unfinished);
  tcase_add_test(tc, test_errors_future_release_null_does_nothing);
  tcase_add_test(tc, test_errors_join_all_rejects_null_array_and_entries);
  tcase_add_test(tc, test_errors_join_all_until_rejects_bad_deadlines);
  tcase_add_test(tc, test_errors_join_all_settled_rejects_null_outcomes);
  tcase_add_test(tc, test_errors_join_all_failfast_rejects_null_entries);
  tcase_add_test(tc, test_errors_join_any_rejects_zero_count_and_nulls);
  tcase_add_test(tc,
                 test_errors_join_any_until_rejects_zero_count_and_times_out);
  tcase_add_test(tc, test_errors_join_any_ok_of_zero_futures_returns_enoent);
  tcase_add_test(tc, test_errors_version_functions_never_fail);
  tcase_add_test(tc, test_errors_task_waiting_for_its_own_future_is_edeadlk);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(errors_suite());
}
