/* SPDX-License-Identifier: MIT */
/*
 * check_join: futures_join_all() waits for every future (Promise.all),
 * fills the results, reports the lowest-index failure, and never returns
 * while a task is still running, so tasks may use the caller's stack.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *join_suite(void);

/* ------------------------------------------------------------ helpers */

static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

static atomic_long count_runs;

static int
count_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  atomic_fetch_add(&count_runs, 1);
  return 0;
}

/* ------------------------------------------------------------ basic */

/*
 * Joins 100,000 futures and checks each value: the size the issue names,
 * far beyond any fixed-size buffer or per-wait allocation a join might use.
 */
START_TEST(test_join_all_over_100000_futures_fills_every_result)
{
  enum { N = 100000 };
  futures_pool_t *pool = NULL;
  future_t **f = calloc(N, sizeof(*f));
  void **r = calloc(N, sizeof(*r));
  uintptr_t i;

  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(futures_pool_create(&pool, 0), 0);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)i, &f[i]), 0);
  ck_assert_int_eq(futures_join_all(f, N, r), 0);
  for (i = 0; i < N; i++) {
    ck_assert_ptr_eq(r[i], (void *)(i + 1));
    ck_assert_int_eq(future_is_ready(f[i]), 1);
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(r);
  free(f);
}
END_TEST

/* n == 0 returns 0 at once; the arrays may then be NULL. */
START_TEST(test_join_all_of_zero_futures_returns_zero)
{
  future_t *f[1] = {NULL};
  void *r[1] = {f};

  ck_assert_int_eq(futures_join_all(NULL, 0, NULL), 0);
  ck_assert_int_eq(futures_join_all(f, 0, r), 0);
  /* Nothing is written for n == 0. */
  ck_assert_ptr_eq(r[0], f);
}
END_TEST

/* @results is optional: with NULL, join still waits for every task. */
START_TEST(test_join_all_with_null_results_still_waits_for_all)
{
  enum { N = 500 };
  futures_pool_t *pool = NULL;
  future_t *f[N];
  int i;

  atomic_store(&count_runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, count_task, NULL, &f[i]), 0);
  ck_assert_int_eq(futures_join_all(f, N, NULL), 0);
  ck_assert_int_eq(count_runs, N);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(future_is_ready(f[i]), 1);
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* The same future may appear more than once; each slot gets its value. */
START_TEST(test_join_all_accepts_the_same_future_more_than_once)
{
  futures_pool_t *pool = NULL;
  future_t *a = NULL, *b = NULL;
  void *r[5] = {NULL};

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)10, &a), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)20, &b), 0);
  {
    future_t *const f[5] = {a, b, a, a, b};

    ck_assert_int_eq(futures_join_all(f, 5, r), 0);
  }
  ck_assert_ptr_eq(r[0], (void *)11);
  ck_assert_ptr_eq(r[1], (void *)21);
  ck_assert_ptr_eq(r[2], (void *)11);
  ck_assert_ptr_eq(r[3], (void *)11);
  ck_assert_ptr_eq(r[4], (void *)21);
  future_release(a);
  future_release(b);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* A task that fails with EDOM. */
static int
edom_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EDOM;
}

/* Opens the hold of another pool once its task has started. */
static int
opener_task(void *arg, void **result)
{
  struct tu_crowd *h = arg;

  tu_count_wait(&h->started);
  tu_latch_open(&h->gate);
  *result = (void *)7;
  return 0;
}

/*
 * Futures of two pools in one call, for every join: joins depend on the
 * futures, not on their pools. Pool A's only worker is held while the
 * calls that must not wait for it run; then one join_all waits for a task
 * of each pool, the one on pool B releasing the one on pool A.
 */
START_TEST(test_join_every_join_accepts_futures_of_different_pools)
{
  futures_pool_t *pa = NULL, *pb = NULL;
  future_t *held = NULL, *ok = NULL, *bad = NULL, *open = NULL;
  futures_outcome_t out[3];
  struct tu_crowd h;
  size_t idx = 99;
  void *r[3] = {NULL, NULL, NULL}, *res = NULL;
  int codes[2] = {0, 0};

  ck_assert_int_eq(futures_pool_create(&pa, 1), 0);
  ck_assert_int_eq(futures_pool_create(&pb, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pa, &h, &held, 1), 0);
  ck_assert_int_eq(futures_submit(pb, plus_one_task, (void *)40, &ok), 0);
  ck_assert_int_eq(futures_submit(pb, edom_task, NULL, &bad), 0);
  ck_assert_int_eq(future_get(ok, NULL), 0);
  ck_assert_int_eq(future_get(bad, NULL), EDOM);
  {
    future_t *const race[2] = {held, ok}, *fail[2] = {held, bad};

    /* Pool A's task is still held: each of these answers from pool B's. */
    ck_assert_int_eq(futures_join_any(race, 2, &idx, &res), 0);
    ck_assert_uint_eq(idx, 1);
    ck_assert_ptr_eq(res, (void *)41);
    ck_assert_int_eq(futures_join_any_ok(race, 2, &idx, &res, codes), 0);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(futures_join_all_failfast(fail, 2, r, &idx), EDOM);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(future_is_ready(held), 0);
  }
  ck_assert_int_eq(futures_submit(pb, opener_task, &h, &open), 0);
  {
    future_t *const both[2] = {held, open}, *mix[3] = {held, bad, ok};

    /* Waits on pool A's task and pool B's at once. */
    ck_assert_int_eq(futures_join_all(both, 2, r), 0);
    ck_assert_ptr_eq(r[0], &h);
    ck_assert_ptr_eq(r[1], (void *)7);
    ck_assert_int_eq(futures_join_all_settled(mix, 3, out), 0);
    ck_assert_int_eq(out[0].code, 0);
    ck_assert_ptr_eq(out[0].result, &h);
    ck_assert_int_eq(out[1].code, EDOM);
    ck_assert_int_eq(out[2].code, 0);
    ck_assert_ptr_eq(out[2].result, (void *)41);
  }
  future_release(held);
  future_release(ok);
  future_release(bad);
  future_release(open);
  tu_crowd_destroy(&h);
  ck_assert_int_eq(futures_pool_destroy(pa), 0);
  ck_assert_int_eq(futures_pool_destroy(pb), 0);
}
END_TEST

/* Joining futures that already finished returns their outcomes again. */
START_TEST(test_join_all_of_finished_futures_returns_their_outcomes)
{
  futures_pool_t *pool = NULL;
  future_t *f[3];
  void *r[3] = {NULL};
  uintptr_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)i, &f[i]), 0);
    ck_assert_int_eq(future_get(f[i], NULL), 0);
  }
  ck_assert_int_eq(futures_join_all(f, 3, r), 0);
  ck_assert_int_eq(futures_join_all(f, 3, r), 0);
  for (i = 0; i < 3; i++) {
    ck_assert_ptr_eq(r[i], (void *)(i + 1));
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * Tasks 3, 7 and 12 fail (EIO, EPERM, ENOSPC), the rest succeed. Task 3
 * waits on a latch that task 7 opens, so the lowest-index failure cannot
 * finish before a higher-index one has failed.
 */
struct failing {
  struct tu_latch lowest_gate;
};

struct failing_arg {
  struct failing *fl;
  size_t i;
};

static int
failing_task(void *arg, void **result)
{
  struct failing_arg *a = arg;

  switch (a->i) {
  case 3:
    tu_latch_wait(&a->fl->lowest_gate);
    *result = a; /* must not reach the caller: the task fails */
    return EIO;
  case 7:
    tu_latch_open(&a->fl->lowest_gate);
    return EPERM;
  case 12:
    return ENOSPC;
  default:
    *result = (void *)(uintptr_t)(a->i + 1);
    return 0;
  }
}

/*
 * The lowest index wins, not the first failure to finish (that would be
 * EPERM); every slot is written, NULL for each failed task.
 */
START_TEST(test_join_all_reports_lowest_index_error_and_fills_all_results)
{
  enum { N = 16 };
  futures_pool_t *pool = NULL;
  struct failing_arg a[N];
  struct failing fl;
  future_t *f[N];
  void *r[N];
  size_t i;

  tu_latch_init(&fl.lowest_gate);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++) {
    a[i].fl = &fl;
    a[i].i = i;
    r[i] = &fl; /* sentinel: every slot must be written */
    ck_assert_int_eq(futures_submit(pool, failing_task, &a[i], &f[i]), 0);
  }
  ck_assert_int_eq(futures_join_all(f, N, r), EIO);
  for (i = 0; i < N; i++) {
    if (i == 3 || i == 7 || i == 12)
      ck_assert_msg(r[i] == NULL, "results[%zu] is not NULL for a failure", i);
    else
      ck_assert_ptr_eq(r[i], (void *)(uintptr_t)(i + 1));
    ck_assert_int_eq(future_is_ready(f[i]), 1);
  }
  ck_assert_int_eq(future_get(f[3], NULL), EIO);
  ck_assert_int_eq(future_get(f[7], NULL), EPERM);
  ck_assert_int_eq(future_get(f[12], NULL), ENOSPC);
  for (i = 0; i < N; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&fl.lowest_gate);
}
END_TEST

/* Fails with the code passed as its argument. */
static int
code_task(void *arg, void **result)
{
  (void)result;
  return (int)(intptr_t)arg;
}

/* The code a task returns reaches the joiner unchanged (one future). */
START_TEST(test_join_all_returns_the_task_error_code)
{
  futures_pool_t *pool = NULL;
  future_t *f[2];
  void *r[2] = {NULL, NULL};

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)5, &f[0]), 0);
  ck_assert_int_eq(futures_submit(pool, code_task, (void *)EDOM, &f[1]), 0);
  ck_assert_int_eq(futures_join_all(f, 2, r), EDOM);
  ck_assert_ptr_eq(r[0], (void *)6);
  ck_assert_ptr_null(r[1]);
  /* With results == NULL the code is the same. */
  ck_assert_int_eq(futures_join_all(f, 2, NULL), EDOM);
  future_release(f[0]);
  future_release(f[1]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A NULL entry is EINVAL "before anything is waited for": futures[0] is a
 * task held on a latch, so a join that waited first would hang until the
 * timeout instead of returning.
 */
START_TEST(test_join_all_with_null_entry_returns_einval_without_waiting)
{
  futures_pool_t *pool = NULL;
  future_t *held[1];
  struct tu_crowd h;
  void *r[3] = {NULL};

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, held, 1), 0);
  {
    future_t *const f[3] = {held[0], NULL, held[0]};

    ck_assert_int_eq(futures_join_all(f, 3, r), EINVAL);
    ck_assert_int_eq(futures_join_all(f, 3, NULL), EINVAL);
  }
  ck_assert_int_eq(futures_join_all(NULL, 3, r), EINVAL);
  ck_assert_int_eq(future_is_ready(held[0]), 0);
  ck_assert_int_eq(tu_crowd_release(&h, held, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/*
 * Tasks that use the caller's stack. Each blocks on a latch (opened by a
 * helper thread once every worker is inside a task), yields a while to
 * widen the window, writes its slot of the caller's stack array, and sets
 * its done flag as its very last action.
 */
#define STACK_TASKS   64
#define STACK_WORKERS 4

struct stack_ctx {
  struct tu_count entered;
  struct tu_latch gate;
  int *out;         /* the test function's stack array */
  atomic_int *done; /* the test function's stack array */
};

struct stack_arg {
  struct stack_ctx *c;
  int i;
};

static int
stack_task(void *arg, void **result)
{
  struct stack_arg *a = arg;
  int k;

  (void)result;
  tu_count_down(&a->c->entered);
  tu_latch_wait(&a->c->gate);
  for (k = 0; k < 50 + a->i; k++)
    sched_yield(); /* widen the window a premature return would hit */
  a->c->out[a->i] = a->i * 3 + 1;
  atomic_store_explicit(&a->c->done[a->i], 1, memory_order_release);
  return 0;
}

static void *
opener_main(void *p)
{
  struct stack_ctx *c = p;

  tu_count_wait(&c->entered); /* every worker is inside a task */
  tu_latch_open(&c->gate);
  return NULL;
}

/*
 * join_all never returns while a task still runs: right after it returns,
 * every done flag is set and every stack slot holds its task's value.
 */
START_TEST(test_join_all_never_returns_while_a_task_is_running)
{
  futures_pool_t *pool = NULL;
  struct stack_arg a[STACK_TASKS];
  future_t *f[STACK_TASKS];
  atomic_int done[STACK_TASKS];
  int out[STACK_TASKS];
  int i, ndone = 0, nright = 0;
  struct stack_ctx c;
  pthread_t opener;

  for (i = 0; i < STACK_TASKS; i++) {
    atomic_init(&done[i], 0);
    out[i] = -1;
  }
  c.out = out;
  c.done = done;
  tu_count_init(&c.entered, STACK_WORKERS);
  tu_latch_init(&c.gate);
  ck_assert_int_eq(futures_pool_create(&pool, STACK_WORKERS), 0);
  for (i = 0; i < STACK_TASKS; i++) {
    a[i].c = &c;
    a[i].i = i;
    ck_assert_int_eq(futures_submit(pool, stack_task, &a[i], &f[i]), 0);
  }
  ck_assert_int_eq(pthread_create(&opener, NULL, opener_main, &c), 0);
  ck_assert_int_eq(futures_join_all(f, STACK_TASKS, NULL), 0);
  /* Count first, assert after: no time passes between return and check. */
  for (i = 0; i < STACK_TASKS; i++) {
    ndone += atomic_load_explicit(&done[i], memory_order_acquire);
    nright += out[i] == i * 3 + 1;
  }
  ck_assert_int_eq(ndone, STACK_TASKS);
  ck_assert_int_eq(nright, STACK_TASKS);
  pthread_join(opener, NULL);
  for (i = 0; i < STACK_TASKS; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_count_destroy(&c.entered);
  tu_latch_destroy(&c.gate);
}
END_TEST

/* Records the thread that ran it and how many times it ran. */
struct who_arg {
  pthread_t ran_on;
  atomic_int runs;
};

static int
who_task(void *arg, void **result)
{
  struct who_arg *w = arg;

  w->ran_on = pthread_self();
  atomic_fetch_add(&w->runs, 1);
  *result = w;
  return 0;
}

/*
 * While waiting, the caller runs futures that have not started: with the
 * only worker held, a join of 100 queued tasks returns, all run here.
 */
START_TEST(test_join_all_runs_unstarted_futures_in_the_caller)
{
  enum { N = 100 };
  futures_pool_t *pool = NULL;
  struct who_arg w[N];
  future_t *held[1], *f[N];
  void *r[N];
  struct tu_crowd h;
  int i;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, held, 1), 0);
  for (i = 0; i < N; i++) {
    atomic_init(&w[i].runs, 0);
    ck_assert_int_eq(futures_submit(pool, who_task, &w[i], &f[i]), 0);
  }
  ck_assert_int_eq(futures_join_all(f, N, r), 0);
  for (i = 0; i < N; i++) {
    ck_assert_ptr_eq(r[i], &w[i]);
    ck_assert(pthread_equal(w[i].ran_on, pthread_self()));
  }
  ck_assert_int_eq(future_is_ready(held[0]), 0);
  ck_assert_int_eq(tu_crowd_release(&h, held, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  /* The worker, once free, did not run any of them a second time. */
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(w[i].runs, 1);
    future_release(f[i]);
  }
}
END_TEST

/* Several threads joining the same array of futures. */
#define JOINERS  8
#define SHARED_N 2000

struct shared_join {
  future_t *f[SHARED_N];
  atomic_int bad;
};

static void
shared_joiner(void *arg, int t)
{
  struct shared_join *s = arg;
  void **r = calloc(SHARED_N, sizeof(*r));
  size_t i;

  (void)t;
  if (r == NULL || futures_join_all(s->f, SHARED_N, r) != 0) {
    atomic_fetch_add(&s->bad, 1);
    free(r);
    return;
  }
  for (i = 0; i < SHARED_N; i++)
    if (r[i] != (void *)(uintptr_t)(i + 1))
      atomic_fetch_add(&s->bad, 1);
  free(r);
}

/*
 * Joins may share futures: 8 threads join the same 2000 futures at once;
 * each sees every value and code 0.
 */
START_TEST(test_join_all_from_many_threads_on_shared_futures)
{
  struct shared_join *s = calloc(1, sizeof(*s));
  futures_pool_t *pool = NULL;
  uintptr_t i;

  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < SHARED_N; i++)
    ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)i, &s->f[i]),
                     0);
  ck_assert_int_eq(tu_run_threads(JOINERS, shared_joiner, s), 0);
  ck_assert_int_eq(s->bad, 0);
  for (i = 0; i < SHARED_N; i++)
    future_release(s->f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(s);
}
END_TEST

/* ------------------------------------------------------------ self-wait */

/*
 * Issue 10, defect 6: a task that waits for its own future must get
 * EDEADLK at once, with nothing waited for (header, "Errors": EDEADLK for
 * "a task waiting (future_get(), a wait or a join) for its own future").
 * The harness is tu_self_wait_run(); @mixed puts another unfinished future
 * first in the array, which the call must not wait for either.
 */

static int
self_get(struct tu_self_wait *sw)
{
  return future_get(sw->self, NULL);
}

static int
self_wait_until(struct tu_self_wait *sw)
{
  struct timespec dl = tu_deadline_in(TU_SELF_FAR);

  return future_wait_until(sw->self, &dl);
}

static int
self_join_all(struct tu_self_wait *sw)
{
  future_t *arr[2];

  return futures_join_all(arr, tu_self_wait_array(sw, arr), NULL);
}

static int
self_join_all_until(struct tu_self_wait *sw)
{
  future_t *arr[2];
  struct timespec dl = tu_deadline_in(TU_SELF_FAR);

  return futures_join_all_until(arr, tu_self_wait_array(sw, arr), NULL, &dl);
}

/* future_get() of a task's own future is EDEADLK (issue 10, defect 6). */
START_TEST(test_join_get_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_get, 0, "future_get");
}
END_TEST

/*
 * future_wait_until() of a task's own future, with a far deadline, is
 * EDEADLK at once, not ETIMEDOUT a minute later (issue 10, defect 6).
 */
START_TEST(test_join_wait_until_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_wait_until, 0, "future_wait_until");
}
END_TEST

/*
 * futures_join_all() over the task's own future (_i = 0), or over another
 * unfinished future then its own (_i = 1), is EDEADLK at once, without
 * waiting for the other one (issue 10, defect 6).
 */
START_TEST(test_join_all_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_join_all, _i, "futures_join_all");
}
END_TEST

/*
 * futures_join_all_until() with a far deadline, alone (_i = 0) or mixed
 * (_i = 1): EDEADLK at once, nothing waited for (issue 10, defect 6).
 */
START_TEST(test_join_all_until_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(self_join_all_until, _i, "futures_join_all_until");
}
END_TEST

Suite *
join_suite(void)
{
  Suite *s = suite_create("join");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_join_all_over_100000_futures_fills_every_result);
  tcase_add_test(tc, test_join_all_of_zero_futures_returns_zero);
  tcase_add_test(tc, test_join_all_with_null_results_still_waits_for_all);
  tcase_add_test(tc, test_join_all_accepts_the_same_future_more_than_once);
  tcase_add_test(tc, test_join_all_of_finished_futures_returns_their_outcomes);
  tcase_add_test(tc, test_join_every_join_accepts_futures_of_different_pools);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(
      tc, test_join_all_reports_lowest_index_error_and_fills_all_results);
  tcase_add_test(tc, test_join_all_returns_the_task_error_code);
  tcase_add_test(tc,
                 test_join_all_with_null_entry_returns_einval_without_waiting);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_join_all_never_returns_while_a_task_is_running);
  tcase_add_test(tc, test_join_all_runs_unstarted_futures_in_the_caller);
  tcase_add_test(tc, test_join_all_from_many_threads_on_shared_futures);
  suite_add_tcase(s, tc);

  /* A failing case waits TU_SELF_PATIENCE, twice when mixed. */
  tc = tcase_create("self_wait");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_join_get_own_future_from_its_task_is_edeadlk);
  tcase_add_test(tc, test_join_wait_until_own_future_from_its_task_is_edeadlk);
  tcase_add_loop_test(tc, test_join_all_own_future_from_its_task_is_edeadlk, 0,
                      2);
  tcase_add_loop_test(
      tc, test_join_all_until_own_future_from_its_task_is_edeadlk, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(join_suite());
}
