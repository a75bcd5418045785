/* SPDX-License-Identifier: MIT */
/*
 * check_nested: tasks that wait on other tasks never deadlock, even on a
 * pool of one thread. A waiter whose future has not started runs it
 * itself; a worker waiting on a running task sleeps until it finishes.
 * Tasks record what they saw; the test thread asserts after the join.
 * Every TCase has a timeout, so a deadlock fails instead of hanging.
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
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *nested_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* ------------------------------------------------------------ basic */

struct parent {
  futures_pool_t *pool;
  int submit_rc;
  int get_rc;
  void *child_value;
};

/* Submits task_echo(41) and waits for it with future_get(). */
static int
task_parent_get(void *arg, void **result)
{
  struct parent *p = arg;
  future_t *child;

  p->submit_rc =
      futures_submit(p->pool, task_echo, (void *)(uintptr_t)41, &child);
  if (p->submit_rc != 0)
    return p->submit_rc;
  p->get_rc = future_get(child, &p->child_value);
  future_release(child);
  *result = (void *)((uintptr_t)p->child_value + 1);
  return 0;
}

/*
 * On a 1-thread pool a task submits a child and future_get()s it: the only
 * worker is the waiter, so it must run the child itself instead of
 * deadlocking.
 */
START_TEST(test_nested_task_gets_its_child_on_one_thread_pool)
{
  futures_pool_t *pool;
  future_t *f;
  struct parent p = {NULL, -1, -1, NULL};
  void *res = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  p.pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_parent_get, &p, &f), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_int_eq(p.submit_rc, 0);
  ck_assert_int_eq(p.get_rc, 0);
  ck_assert_uint_eq((uintptr_t)p.child_value, 41);
  ck_assert_uint_eq((uintptr_t)res, 42);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

enum { CHILDREN = 100 };

struct joiner {
  futures_pool_t *pool;
  atomic_int runs[CHILDREN];
  void *results[CHILDREN];
  int submit_failures;
  int join_rc;
};

static int
task_child_mark(void *arg, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = arg;
  return 0;
}

/* Submits 100 children and waits for all with futures_join_all(). */
static int
task_parent_join(void *arg, void **result)
{
  struct joiner *j = arg;
  future_t *fs[CHILDREN];
  int n = 0;

  for (int i = 0; i < CHILDREN; i++) {
    if (futures_submit(j->pool, task_child_mark, &j->runs[i], &fs[n]) != 0)
      j->submit_failures++;
    else
      n++;
  }
  j->join_rc = futures_join_all(fs, (size_t)n, j->results);
  for (int i = 0; i < n; i++)
    future_release(fs[i]);
  *result = NULL;
  return 0;
}

/*
 * A task on a 1-thread pool joins 100 children with futures_join_all():
 * all run exactly once and the results come back in order.
 */
START_TEST(test_nested_task_joins_100_children_on_one_thread_pool)
{
  futures_pool_t *pool;
  future_t *f;
  struct joiner *j = calloc(1, sizeof(*j));

  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  j->pool = pool;
  j->join_rc = -1;
  ck_assert_int_eq(futures_submit(pool, task_parent_join, j, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(j->submit_failures, 0);
  ck_assert_int_eq(j->join_rc, 0);
  for (int i = 0; i < CHILDREN; i++) {
    ck_assert_int_eq(atomic_load(&j->runs[i]), 1);
    ck_assert_ptr_eq(j->results[i], &j->runs[i]);
  }
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(j);
}
END_TEST

/* What a task saw of the combinators it ran on its own children. */
struct combo {
  futures_pool_t *pool;
  int settled_rc, failfast_rc, any_rc, any_ok_rc;
  futures_outcome_t out[4];
  size_t failed, any_index, ok_index;
  int wait_rc;
  int submit_failures;
};

static const int code_eio = EIO;

static int
task_fail(void *arg, void **result)
{
  (void)result;
  return *(const int *)arg;
}

static int
submit_children(struct combo *c, future_t *fs[4])
{
  int rc = 0;

  rc |= futures_submit(c->pool, task_echo, c, &fs[0]);
  rc |= futures_submit(c->pool, task_fail, (void *)&code_eio, &fs[1]);
  rc |= futures_submit(c->pool, task_echo, c, &fs[2]);
  rc |= futures_submit(c->pool, task_echo, c, &fs[3]);
  return rc;
}

/* Runs every combinator on fresh children of its own. */
static int
task_parent_combinators(void *arg, void **result)
{
  struct combo *c = arg;
  future_t *fs[4];
  struct timespec dl;

  /*
   * A timed join first, while every child is still pending on this
   * worker: the worker runs its own pending sub-tasks while it waits.
   */
  if (submit_children(c, fs) != 0)
    goto fail;
  dl = tu_deadline_in(5000 * MS);
  c->wait_rc = futures_join_all_until(fs, 4, NULL, &dl);
  for (int i = 0; i < 4; i++)
    future_release(fs[i]);

  if (submit_children(c, fs) != 0)
    goto fail;
  c->settled_rc = futures_join_all_settled(fs, 4, c->out);
  for (int i = 0; i < 4; i++)
    future_release(fs[i]);

  if (submit_children(c, fs) != 0)
    goto fail;
  c->failfast_rc = futures_join_all_failfast(fs, 4, NULL, &c->failed);
  c->any_rc = futures_join_any(fs, 4, &c->any_index, NULL);
  c->any_ok_rc = futures_join_any_ok(fs + 1, 3, &c->ok_index, NULL, NULL);
  for (int i = 0; i < 4; i++)
    future_release(fs[i]);
  *result = NULL;
  return 0;
fail:
  c->submit_failures++;
  return EAGAIN;
}

/*
 * Every combinator works in a task on a 1-thread pool on its own children,
 * including a timed join, which a worker satisfies by running its own pending
 * sub-tasks (5 s deadline, so a library that cannot fails in 5 s).
 */
START_TEST(test_nested_combinators_in_task_on_one_thread_pool)
{
  futures_pool_t *pool;
  future_t *f;
  struct combo c;

  memset(&c, 0, sizeof(c));
  c.settled_rc = c.failfast_rc = c.any_rc = c.any_ok_rc = c.wait_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  c.pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_parent_combinators, &c, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(c.submit_failures, 0);
  ck_assert_int_eq(c.settled_rc, 0);
  ck_assert_int_eq(c.out[0].code, 0);
  ck_assert_ptr_eq(c.out[0].result, &c);
  ck_assert_int_eq(c.out[1].code, EIO);
  ck_assert_int_eq(c.out[3].code, 0);
  ck_assert_int_eq(c.failfast_rc, EIO);
  ck_assert_uint_eq(c.failed, 1);
  ck_assert_uint_le(c.any_index, 3);
  ck_assert_int_eq(c.any_rc, c.any_index == 1 ? EIO : 0);
  ck_assert_int_eq(c.any_ok_rc, 0);
  ck_assert(c.ok_index == 1 || c.ok_index == 2);
  ck_assert_int_eq(c.wait_rc, EIO);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ fork-join */

struct fib {
  futures_pool_t *pool;
  int n;
  atomic_int *errors; /* submits or gets that failed */
};

static long fib_call(futures_pool_t *pool, int n, atomic_int *errors);

/* One task per call: fib(n) as a task. */
static int
task_fib(void *arg, void **result)
{
  struct fib *a = arg;

  *result = (void *)(intptr_t)fib_call(a->pool, a->n, a->errors);
  return 0;
}

/*
 * Submits fib(n-1) as a task, computes fib(n-2) inline (which forks in
 * turn), then future_get()s the child. The child's argument lives on this
 * stack, which is fine because this frame waits for it.
 */
static long
fib_call(futures_pool_t *pool, int n, atomic_int *errors)
{
  struct fib child = {pool, n - 1, errors};
  future_t *f;
  void *res = NULL;
  long b;

  if (n < 2)
    return n;
  if (futures_submit(pool, task_fib, &child, &f) != 0) {
    atomic_fetch_add(errors, 1);
    return fib_call(pool, n - 1, errors) + fib_call(pool, n - 2, errors);
  }
  b = fib_call(pool, n - 2, errors);
  if (future_get(f, &res) != 0)
    atomic_fetch_add(errors, 1);
  future_release(f);
  return (long)(intptr_t)res + b;
}

static long
fib_seq(int n)
{
  long a = 0, b = 1;

  for (int i = 0; i < n; i++) {
    long t = a + b;

    a = b;
    b = t;
  }
  return a;
}

/* Runs fib(n) as a task on a new pool of @nthreads and checks it. */
static void
check_fib(size_t nthreads, int n)
{
  futures_pool_t *pool;
  future_t *f;
  atomic_int errors = 0;
  struct fib top;
  void *res = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, nthreads), 0);
  top.pool = pool;
  top.n = n;
  top.errors = &errors;
  ck_assert_int_eq(futures_submit(pool, task_fib, &top, &f), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_int_eq(atomic_load(&errors), 0);
  ck_assert_int_eq((long)(intptr_t)res, fib_seq(n));
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}

/* Recursive fork-join fib(20) (21,891 calls) on a 1-thread pool. */
START_TEST(test_nested_fib20_on_one_thread_pool)
{
  check_fib(1, 20);
}
END_TEST

/* Recursive fork-join fib(20) on a pool of 4 (more workers than cores). */
START_TEST(test_nested_fib20_on_four_thread_pool)
{
  check_fib(4, 20);
}
END_TEST

/* fib(25) (242,785 calls) on 2 threads; the 60 s timeout covers valgrind. */
START_TEST(test_nested_fib25_on_two_thread_pool)
{
  check_fib(2, 25);
}
END_TEST

/* fib(30) as in the issue, on 1 thread and on one per CPU (slow tag). */
START_TEST(test_nested_fib30_on_one_and_all_cpus)
{
  check_fib(1, 30);
  check_fib(0, 30);
}
END_TEST

/* ------------------------------------------------------------ waits */

struct waits_running {
  future_t *target; /* a task held on a worker */
  atomic_int entered;
  int get_rc;
  void *value;
};

static int
task_wait_on_running(void *arg, void **result)
{
  struct waits_running *w = arg;

  atomic_store(&w->entered, 1);
  w->get_rc = future_get(w->target, &w->value);
  *result = w->value;
  return 0;
}

static int
entered(void *arg)
{
  return atomic_load(&((struct waits_running *)arg)->entered);
}

/*
 * On a pool of 2, a task that future_get()s a task held on the other
 * worker wakes when that one finishes, with its value; it is released only
 * after the waiting task has entered its wait.
 */
START_TEST(test_nested_wait_on_task_running_elsewhere_wakes)
{
  futures_pool_t *pool;
  future_t *waiter;
  struct tu_hold h;
  struct waits_running w;
  void *res = NULL;

  tu_hold_init(&h, &h);
  atomic_init(&w.entered, 0);
  w.get_rc = -1;
  w.value = NULL;
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &w.target), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_wait_on_running, &w, &waiter), 0);
  ck_assert_msg(tu_spin_until(entered, &w, 10000 * MS),
                "the waiting task never started on the free worker");
  ck_assert_int_eq(future_is_ready(waiter), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(waiter, &res), 0);
  ck_assert_int_eq(w.get_rc, 0);
  ck_assert_ptr_eq(w.value, &h);
  ck_assert_ptr_eq(res, &h);

  future_release(waiter);
  future_release(w.target);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

struct whoami {
  pthread_t thread;
  atomic_int runs;
};

static int
task_whoami(void *arg, void **result)
{
  struct whoami *w = arg;

  w->thread = pthread_self();
  atomic_fetch_add(&w->runs, 1);
  *result = w;
  return 0;
}

/*
 * An external future_get() on a queued task runs it itself: with the only
 * worker held it returns the value while the worker is still held, and the
 * task ran once, in the test thread.
 */
START_TEST(test_nested_external_get_runs_queued_task_itself)
{
  futures_pool_t *pool;
  future_t *held, *f;
  struct tu_hold h;
  struct whoami w;
  void *res = NULL;

  tu_hold_init(&h, NULL);
  atomic_init(&w.runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_whoami, &w, &f), 0);

  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, &w);
  ck_assert(pthread_equal(w.thread, pthread_self()));
  ck_assert_int_eq(future_is_ready(held), 0);

  tu_latch_open(&h.release);
  future_release(held);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&w.runs), 1);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * futures_join_all() from an external thread also runs queued tasks
 * itself: with the only worker held, joining 10 queued tasks returns while
 * the worker is still held, every task having run once in the test thread.
 */
START_TEST(test_nested_external_join_all_runs_queued_tasks_itself)
{
  enum { N = 10 };
  futures_pool_t *pool;
  future_t *held, *fs[N];
  struct tu_hold h;
  struct whoami w[N];

  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  for (int i = 0; i < N; i++) {
    atomic_init(&w[i].runs, 0);
    ck_assert_int_eq(futures_submit(pool, task_whoami, &w[i], &fs[i]), 0);
  }
  ck_assert_int_eq(futures_join_all(fs, N, NULL), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(atomic_load(&w[i].runs), 1);
    ck_assert(pthread_equal(w[i].thread, pthread_self()));
  }
  ck_assert_int_eq(future_is_ready(held), 0);

  tu_latch_open(&h.release);
  future_release(held);
  for (int i = 0; i < N; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* The parent of the test below and what it saw. */
struct helps {
  futures_pool_t *pool;
  struct tu_latch b_started; /* opened by B once it runs */
  struct tu_latch c_ran;     /* opened by C: B may finish */
  pthread_t parent, c_thread, b_thread;
  int stolen, submit_rc, get_rc;
};

/* B: runs elsewhere, and cannot finish before C has run. */
static int
task_b_needs_c(void *arg, void **result)
{
  struct helps *h = arg;

  h->b_thread = pthread_self();
  tu_latch_open(&h->b_started);
  tu_latch_wait(&h->c_ran);
  *result = h;
  return 0;
}

/* C: a pending sub-task of the parent. */
static int
task_c(void *arg, void **result)
{
  struct helps *h = arg;

  h->c_thread = pthread_self();
  tu_latch_open(&h->c_ran);
  *result = h;
  return 0;
}

static int
latch_is_open(void *arg)
{
  return tu_latch_is_open(arg);
}

/*
 * The parent (on one worker) submits B, which the idle worker steals and
 * runs, then submits C (left in its own deque) and waits for B with
 * future_get(); B cannot finish before C has run.
 */
static int
task_parent_waits_for_running(void *arg, void **result)
{
  struct helps *h = arg;
  future_t *b = NULL, *c = NULL;

  h->parent = pthread_self();
  *result = h;
  if ((h->submit_rc = futures_submit(h->pool, task_b_needs_c, h, &b)) != 0)
    return 0;
  /* Not a library wait: this thread does not run B. */
  h->stolen = tu_spin_until(latch_is_open, &h->b_started, 10000 * MS);
  if (!h->stolen) {
    tu_latch_open(&h->c_ran); /* let B finish wherever it runs */
  } else if ((h->submit_rc = futures_submit(h->pool, task_c, h, &c)) != 0) {
    tu_latch_open(&h->c_ran);
  }
  h->get_rc = future_get(b, NULL);
  future_release(b);
  if (c != NULL) {
    (void)future_get(c, NULL);
    future_release(c);
  }
  return 0;
}

/*
 * "Tasks": a worker waiting for a task running elsewhere runs its own pending
 * sub-tasks: B, on the other worker, waits for C, which is queued in the
 * waiting worker's deque (bounded: 10 s).
 */
START_TEST(test_nested_worker_waiting_for_a_running_task_runs_its_own_subtasks)
{
  struct helps *h = calloc(1, sizeof(*h));
  futures_pool_t *pool;
  future_t *f;

  ck_assert_ptr_nonnull(h);
  tu_latch_init(&h->b_started);
  tu_latch_init(&h->c_ran);
  h->submit_rc = h->get_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  h->pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_parent_waits_for_running, h, &f),
                   0);
  /* Bounded, so that a deadlocked pool fails the test (it is then left
   * behind: it cannot be destroyed). */
  ck_assert_msg(future_wait_for(f, 10000 * MS) == 0,
                "a worker waiting for a task running elsewhere did not run "
                "its own pending sub-task (no progress in 10 s)");
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_msg(h->stolen, "the idle worker never took B from the parent's "
                           "deque");
  ck_assert_int_eq(h->submit_rc, 0);
  ck_assert_int_eq(h->get_rc, 0);
  ck_assert(!pthread_equal(h->b_thread, h->parent));
  ck_assert(pthread_equal(h->c_thread, h->parent));
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&h->b_started);
  tu_latch_destroy(&h->c_ran);
  free(h);
}
END_TEST

Suite *
nested_suite(void)
{
  Suite *s = suite_create("nested");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_nested_task_gets_its_child_on_one_thread_pool);
  tcase_add_test(tc, test_nested_task_joins_100_children_on_one_thread_pool);
  tcase_add_test(tc, test_nested_combinators_in_task_on_one_thread_pool);
  suite_add_tcase(s, tc);

  tc = tcase_create("fork_join");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_nested_fib20_on_one_thread_pool);
  tcase_add_test(tc, test_nested_fib20_on_four_thread_pool);
  tcase_add_test(tc, test_nested_fib25_on_two_thread_pool);
  suite_add_tcase(s, tc);

  tc = tcase_create("waits");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_nested_wait_on_task_running_elsewhere_wakes);
  tcase_add_test(tc, test_nested_external_get_runs_queued_task_itself);
  tcase_add_test(tc, test_nested_external_join_all_runs_queued_tasks_itself);
  tcase_add_test(
      tc, test_nested_worker_waiting_for_a_running_task_runs_its_own_subtasks);
  suite_add_tcase(s, tc);

  tc = tcase_create("stress");
  tcase_set_tags(tc, "slow");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_nested_fib30_on_one_and_all_cpus);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(nested_suite());
}
