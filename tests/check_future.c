/* SPDX-License-Identifier: MIT */
/*
 * check_future: future_get() delivers each task's code and result, the
 * same outcome every time and to every waiting thread, and runs a task
 * that has not started in the caller; future_is_ready() tells finished
 * futures from unfinished ones without blocking.
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

Suite *future_suite(void);

/* ------------------------------------------------------------ helpers */

static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

/* Returns the code in @arg, after storing a non-NULL result anyway. */
static int
fail_task(void *arg, void **result)
{
  static int junk;

  *result = &junk;
  return (int)(intptr_t)arg;
}

/*
 * A task held on a latch: it counts down @started, waits for @gate, then
 * returns @code with @value as its result.
 */
struct gated {
  struct tu_count started;
  struct tu_latch gate;
  int code;
  void *value;
};

static void
gated_init(struct gated *g, int code, void *value)
{
  tu_count_init(&g->started, 1);
  tu_latch_init(&g->gate);
  g->code = code;
  g->value = value;
}

static void
gated_destroy(struct gated *g)
{
  tu_count_destroy(&g->started);
  tu_latch_destroy(&g->gate);
}

static int
gated_task(void *arg, void **result)
{
  struct gated *g = arg;

  tu_count_down(&g->started);
  tu_latch_wait(&g->gate);
  *result = g->value;
  return g->code;
}

/*
 * Submits a gated task and waits until a worker runs it. The test thread
 * waits on the countdown, not on the future, so it cannot claim the task.
 */
static future_t *
submit_gated_on_worker(futures_pool_t *pool, struct gated *g)
{
  future_t *f = NULL;

  ck_assert_int_eq(futures_submit(pool, gated_task, g, &f), 0);
  ck_assert_ptr_nonnull(f);
  tu_count_wait(&g->started);
  return f;
}

/* ------------------------------------------------------------ basic */

/* A task's error code is what future_get() returns. */
START_TEST(test_future_get_returns_task_error_code)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, (void *)EIO, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), EIO);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * Any positive code passes through unchanged, including the library's own
 * codes (EINVAL, ESHUTDOWN, ...) and values outside <errno.h>: the library
 * adds EINVAL only for an unusable argument.
 */
START_TEST(test_future_get_passes_every_task_code_through)
{
  static const int codes[] = {EINVAL,    ENOMEM,    EAGAIN, ESHUTDOWN,
                              ETIMEDOUT, ECANCELED, ECHILD, EPERM,
                              ENOENT,    1,         4242,   0x7fffffff};
  enum { N = sizeof(codes) / sizeof(codes[0]) };
  futures_pool_t *pool = NULL;
  future_t *f[N];
  size_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(
        futures_submit(pool, fail_task, (void *)(intptr_t)codes[i], &f[i]), 0);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(future_get(f[i], NULL), codes[i]);
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * The result is NULL when the code is not 0, even if the failing task
 * stored a result (fail_task does); *result starts as a sentinel so that
 * "left alone" is told from "set to NULL".
 */
START_TEST(test_future_get_result_is_null_when_task_fails)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  int sentinel;
  void *r = &sentinel;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, (void *)ENOSPC, &f), 0);
  ck_assert_int_eq(future_get(f, &r), ENOSPC);
  ck_assert_ptr_null(r);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Calling future_get() again returns the same code and result. */
START_TEST(test_future_get_twice_returns_the_same_outcome)
{
  futures_pool_t *pool = NULL;
  future_t *ok = NULL, *bad = NULL;
  int sentinel;
  void *r1 = NULL, *r2 = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)99, &ok), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, (void *)EPIPE, &bad), 0);

  ck_assert_int_eq(future_get(ok, &r1), 0);
  ck_assert_int_eq(future_get(ok, &r2), 0);
  ck_assert_ptr_eq(r1, (void *)100);
  ck_assert_ptr_eq(r2, (void *)100);
  ck_assert_int_eq(future_get(ok, NULL), 0);

  r1 = &sentinel;
  r2 = &sentinel;
  ck_assert_int_eq(future_get(bad, &r1), EPIPE);
  ck_assert_int_eq(future_get(bad, &r2), EPIPE);
  ck_assert_ptr_null(r1);
  ck_assert_ptr_null(r2);

  future_release(ok);
  future_release(bad);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* @result is optional: NULL still returns the code, for success and not. */
START_TEST(test_future_get_accepts_null_result_pointer)
{
  futures_pool_t *pool = NULL;
  future_t *ok = NULL, *bad = NULL;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)1, &ok), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, (void *)EIO, &bad), 0);
  ck_assert_int_eq(future_get(ok, NULL), 0);
  ck_assert_int_eq(future_get(bad, NULL), EIO);
  /* And the result is still there for a later caller that asks. */
  ck_assert_int_eq(future_get(ok, &r), 0);
  ck_assert_ptr_eq(r, (void *)2);
  future_release(ok);
  future_release(bad);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/* future_get(NULL) is EINVAL, with or without a result pointer. */
START_TEST(test_future_get_null_future_returns_einval)
{
  void *r = NULL;

  ck_assert_int_eq(future_get(NULL, NULL), EINVAL);
  ck_assert_int_eq(future_get(NULL, &r), EINVAL);
}
END_TEST

/* future_is_ready(NULL) is 0, never a crash. */
START_TEST(test_future_is_ready_null_returns_zero)
{
  ck_assert_int_eq(future_is_ready(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/*
 * future_is_ready() is 0 while the task is held on a latch (it runs on a
 * worker, so nothing can finish it), and 1 once future_get() returned.
 */
START_TEST(test_future_is_ready_is_zero_while_running_and_one_after)
{
  futures_pool_t *pool = NULL;
  struct gated g;
  future_t *f;
  int i;

  gated_init(&g, 0, (void *)7);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f = submit_gated_on_worker(pool, &g);
  for (i = 0; i < 1000; i++)
    ck_assert_int_eq(future_is_ready(f), 0);
  tu_latch_open(&g.gate);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_is_ready(f), 1);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  gated_destroy(&g);
}
END_TEST

/*
 * A queued task is not ready either: with the one worker held, a second
 * task waits in the queue and future_is_ready() (which never blocks and
 * never runs it) says 0; a failed task counts as finished (1).
 */
START_TEST(test_future_is_ready_is_zero_for_queued_and_one_for_failed_task)
{
  futures_pool_t *pool = NULL;
  struct gated g;
  future_t *held, *queued = NULL;

  gated_init(&g, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = submit_gated_on_worker(pool, &g);
  ck_assert_int_eq(futures_submit(pool, fail_task, (void *)EIO, &queued), 0);
  ck_assert_int_eq(future_is_ready(queued), 0);
  tu_latch_open(&g.gate);
  ck_assert_int_eq(future_get(queued, NULL), EIO);
  ck_assert_int_eq(future_is_ready(queued), 1);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(queued);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  gated_destroy(&g);
}
END_TEST

/* Many threads waiting on one future. */
#define GETTERS 16

struct getters {
  future_t *f;
  struct tu_count ready;
  int rc[GETTERS];
  void *r[GETTERS];
};

struct getter_arg {
  struct getters *g;
  int i;
};

static void *
getter_main(void *p)
{
  struct getter_arg *a = p;

  tu_count_down(&a->g->ready);
  a->g->rc[a->i] = future_get(a->g->f, &a->g->r[a->i]);
  return NULL;
}

/*
 * 16 threads call future_get() on one future whose task is held on a
 * latch; once it is opened every one of them wakes (none misses the
 * wake-up: a miss hangs until the timeout) with the same code and value.
 */
START_TEST(test_future_get_from_many_threads_all_see_the_same_value)
{
  futures_pool_t *pool = NULL;
  struct getter_arg a[GETTERS];
  pthread_t t[GETTERS];
  struct getters gs;
  struct gated g;
  int i;
  void *r = NULL;

  gated_init(&g, 0, (void *)0x1234);
  tu_count_init(&gs.ready, GETTERS);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  gs.f = submit_gated_on_worker(pool, &g);
  for (i = 0; i < GETTERS; i++) {
    gs.rc[i] = -1;
    gs.r[i] = NULL;
    a[i].g = &gs;
    a[i].i = i;
    ck_assert_int_eq(pthread_create(&t[i], NULL, getter_main, &a[i]), 0);
  }
  /* Every getter is about to call future_get(); most are blocked in it. */
  tu_count_wait(&gs.ready);
  ck_assert_int_eq(future_is_ready(gs.f), 0);
  tu_latch_open(&g.gate);
  for (i = 0; i < GETTERS; i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < GETTERS; i++) {
    ck_assert_int_eq(gs.rc[i], 0);
    ck_assert_ptr_eq(gs.r[i], (void *)0x1234);
  }
  ck_assert_int_eq(future_get(gs.f, &r), 0);
  ck_assert_ptr_eq(r, (void *)0x1234);
  future_release(gs.f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_count_destroy(&gs.ready);
  gated_destroy(&g);
}
END_TEST

/* The same for a failing task: all 16 waiters get its code, result NULL. */
START_TEST(test_future_get_from_many_threads_all_see_the_same_error)
{
  futures_pool_t *pool = NULL;
  struct getter_arg a[GETTERS];
  pthread_t t[GETTERS];
  struct getters gs;
  struct gated g;
  int i;

  gated_init(&g, EXDEV, (void *)0x1234);
  tu_count_init(&gs.ready, GETTERS);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  gs.f = submit_gated_on_worker(pool, &g);
  for (i = 0; i < GETTERS; i++) {
    gs.rc[i] = -1;
    gs.r[i] = &gs; /* sentinel: must become NULL */
    a[i].g = &gs;
    a[i].i = i;
    ck_assert_int_eq(pthread_create(&t[i], NULL, getter_main, &a[i]), 0);
  }
  tu_count_wait(&gs.ready);
  tu_latch_open(&g.gate);
  for (i = 0; i < GETTERS; i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < GETTERS; i++) {
    ck_assert_int_eq(gs.rc[i], EXDEV);
    ck_assert_ptr_null(gs.r[i]);
  }
  future_release(gs.f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_count_destroy(&gs.ready);
  gated_destroy(&g);
}
END_TEST

/* Records the thread that ran it. */
struct whoami {
  pthread_t self;
  atomic_int runs;
};

static int
whoami_task(void *arg, void **result)
{
  struct whoami *w = arg;

  w->self = pthread_self();
  atomic_fetch_add(&w->runs, 1);
  *result = w;
  return 0;
}

/*
 * If the task has not started, future_get() claims it and runs it in the
 * calling thread: with the only worker held, get still returns, and the
 * task ran (once) on the test thread.
 */
START_TEST(test_future_get_runs_an_unstarted_task_in_the_caller)
{
  futures_pool_t *pool = NULL;
  struct whoami w;
  struct gated g;
  future_t *held, *f = NULL;
  void *r = NULL;

  atomic_init(&w.runs, 0);
  gated_init(&g, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = submit_gated_on_worker(pool, &g);
  ck_assert_int_eq(futures_submit(pool, whoami_task, &w, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, &w);
  ck_assert(pthread_equal(w.self, pthread_self()));
  ck_assert_int_eq(future_is_ready(held), 0);
  tu_latch_open(&g.gate);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  /* The worker did not run it a second time after being released. */
  ck_assert_int_eq(w.runs, 1);
  gated_destroy(&g);
}
END_TEST

/*
 * Getters racing with completion: 2000 short tasks, each got right after
 * submit, so get meets queued, running and finished tasks; every one
 * returns its own value (a lost wake-up hangs until the timeout).
 */
START_TEST(test_future_get_racing_with_completion_returns_each_value)
{
  enum { N = 2000 };
  futures_pool_t *pool = NULL;
  uintptr_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++) {
    future_t *f = NULL;
    void *r = NULL;

    ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)i, &f), 0);
    ck_assert_int_eq(future_get(f, &r), 0);
    ck_assert_ptr_eq(r, (void *)(i + 1));
    future_release(f);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

Suite *
future_suite(void)
{
  Suite *s = suite_create("future");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_future_get_returns_task_error_code);
  tcase_add_test(tc, test_future_get_passes_every_task_code_through);
  tcase_add_test(tc, test_future_get_result_is_null_when_task_fails);
  tcase_add_test(tc, test_future_get_twice_returns_the_same_outcome);
  tcase_add_test(tc, test_future_get_accepts_null_result_pointer);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_future_get_null_future_returns_einval);
  tcase_add_test(tc, test_future_is_ready_null_returns_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_future_is_ready_is_zero_while_running_and_one_after);
  tcase_add_test(
      tc, test_future_is_ready_is_zero_for_queued_and_one_for_failed_task);
  tcase_add_test(tc, test_future_get_from_many_threads_all_see_the_same_value);
  tcase_add_test(tc, test_future_get_from_many_threads_all_see_the_same_error);
  tcase_add_test(tc, test_future_get_runs_an_unstarted_task_in_the_caller);
  tcase_add_test(tc, test_future_get_racing_with_completion_returns_each_value);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(future_suite());
}
