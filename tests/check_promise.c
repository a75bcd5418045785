/* SPDX-License-Identifier: MIT */
/*
 * check_promise: futures with no task. Promises are settled once, by
 * whoever holds them, and wake every kind of waiter; futures_all() settles
 * once its inputs have, with the lowest-index failure.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *promise_suite(void);

#define FAR_NS (30LL * 1000000000LL) /* a bound that only a hang reaches */

static int value_a, value_b; /* results: their addresses */

/* ------------------------------------------------------------ basics */

START_TEST(test_promise_resolve_then_get_returns_the_value)
{
  future_t *p;
  void *res = NULL;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_is_ready(p), 0);
  ck_assert_int_eq(future_wait_for(p, 0), ETIMEDOUT);
  ck_assert_int_eq(future_resolve(p, &value_a), 0);
  ck_assert_int_eq(future_is_ready(p), 1);
  ck_assert_int_eq(future_get(p, &res), 0);
  ck_assert_ptr_eq(res, &value_a);
  future_release(p);
}
END_TEST

START_TEST(test_promise_reject_then_get_returns_the_code)
{
  future_t *p;
  void *res = &value_a;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_reject(p, EPIPE), 0);
  ck_assert_int_eq(future_get(p, &res), EPIPE);
  ck_assert_ptr_null(res);
  future_release(p);
}
END_TEST

START_TEST(test_promise_second_settle_is_ealready_and_changes_nothing)
{
  future_t *p;
  void *res = NULL;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_resolve(p, &value_a), 0);
  ck_assert_int_eq(future_resolve(p, &value_b), EALREADY);
  ck_assert_int_eq(future_reject(p, EIO), EALREADY);
  ck_assert_int_eq(future_cancel(p), EALREADY);
  ck_assert_int_eq(future_get(p, &res), 0);
  ck_assert_ptr_eq(res, &value_a);
  future_release(p);
}
END_TEST

START_TEST(test_promise_cancel_settles_ecanceled_and_producer_sees_ealready)
{
  future_t *p;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_cancel(p), 0);
  ck_assert_int_eq(future_get(p, NULL), ECANCELED);
  ck_assert_int_eq(future_resolve(p, &value_a), EALREADY);
  ck_assert_int_eq(future_get(p, NULL), ECANCELED);
  future_release(p);
}
END_TEST

static int
return_zero(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return 0;
}

START_TEST(test_promise_bad_input_is_einval)
{
  futures_pool_t *pool;
  future_t *p, *t, *all = (future_t *)&value_a;
  future_t *arr[2];

  ck_assert_int_eq(futures_promise_create(NULL), EINVAL);
  ck_assert_int_eq(future_retain(NULL), EINVAL);
  ck_assert_int_eq(future_resolve(NULL, NULL), EINVAL);
  ck_assert_int_eq(future_reject(NULL, EIO), EINVAL);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_reject(p, 0), EINVAL);
  ck_assert_int_eq(future_reject(p, -EIO), EINVAL);
  ck_assert_int_eq(future_is_ready(p), 0); /* nothing was settled */
  /* An all of nothing is a combinator's future too. */
  ck_assert_int_eq(futures_all(NULL, 0, &all), 0);
  ck_assert_int_eq(future_resolve(all, NULL), EINVAL);
  ck_assert_int_eq(future_reject(all, EIO), EINVAL);
  future_release(all);
  /* A task's future and a combinator's are not the caller's to settle. */
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, return_zero, NULL, &t), 0);
  ck_assert_int_eq(future_resolve(t, NULL), EINVAL);
  ck_assert_int_eq(future_reject(t, EIO), EINVAL);
  ck_assert_int_eq(future_get(t, NULL), 0);
  arr[0] = p;
  arr[1] = NULL;
  ck_assert_int_eq(futures_all(arr, 2, &all), EINVAL);
  ck_assert_ptr_null(all);
  ck_assert_int_eq(futures_all(NULL, 1, &all), EINVAL);
  ck_assert_int_eq(futures_all(arr, 1, NULL), EINVAL);
  ck_assert_int_eq(futures_all(arr, 1, &all), 0);
  ck_assert_int_eq(future_resolve(all, NULL), EINVAL);
  ck_assert_int_eq(future_reject(all, EIO), EINVAL);
  ck_assert_int_eq(future_is_ready(all), 0);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ck_assert_int_eq(future_get(all, NULL), 0);
  future_release(all);
  future_release(t);
  future_release(p);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * The producer and the consumer each hold a reference and release in
 * either order, before or after the settle; under ASan and memcheck a
 * leak or a use after free fails the test.
 */
START_TEST(test_promise_retain_lets_consumer_and_producer_release_in_any_order)
{
  for (int order = 0; order < 4; order++) {
    future_t *p, *consumer;
    void *res = NULL;

    ck_assert_int_eq(futures_promise_create(&p), 0);
    ck_assert_int_eq(future_retain(p), 0);
    consumer = p;
    switch (order) {
    case 0: /* the consumer gives up first, then the producer settles */
      future_release(consumer);
      ck_assert_int_eq(future_resolve(p, &value_a), 0);
      future_release(p);
      break;
    case 1: /* the producer settles and leaves; the consumer reads later */
      ck_assert_int_eq(future_resolve(p, &value_a), 0);
      future_release(p);
      ck_assert_int_eq(future_get(consumer, &res), 0);
      ck_assert_ptr_eq(res, &value_a);
      future_release(consumer);
      break;
    case 2: /* both release; nobody ever settles */
      future_release(p);
      future_release(consumer);
      break;
    default: /* the consumer cancels, the producer finds out */
      ck_assert_int_eq(future_cancel(consumer), 0);
      future_release(consumer);
      ck_assert_int_eq(future_resolve(p, &value_a), EALREADY);
      future_release(p);
      break;
    }
  }
}
END_TEST

/* ------------------------------------------------------------ races */

struct settle_race {
  future_t *p;
  pthread_barrier_t go;
  int rc[3];
};

static void
settle_racer(void *arg, int i)
{
  struct settle_race *r = arg;

  pthread_barrier_wait(&r->go);
  if (i == 0)
    r->rc[i] = future_resolve(r->p, &value_a);
  else if (i == 1)
    r->rc[i] = future_reject(r->p, EIO);
  else
    r->rc[i] = future_cancel(r->p);
}

START_TEST(test_promise_racing_settlers_exactly_one_wins)
{
  long rounds = tu_scaled(2000, 100);
  long wins[3] = {0, 0, 0};

  for (long k = 0; k < rounds; k++) {
    struct settle_race r;
    void *res = NULL;
    int code, winners = 0, winner = -1;

    ck_assert_int_eq(futures_promise_create(&r.p), 0);
    pthread_barrier_init(&r.go, NULL, 3);
    ck_assert_int_eq(tu_run_threads(3, settle_racer, &r), 0);
    pthread_barrier_destroy(&r.go);
    for (int i = 0; i < 3; i++) {
      ck_assert_msg(r.rc[i] == 0 || r.rc[i] == EALREADY,
                    "round %ld: settler %d returned %d", k, i, r.rc[i]);
      if (r.rc[i] == 0) {
        winners++;
        winner = i;
      }
    }
    ck_assert_int_eq(winners, 1);
    wins[winner]++;
    code = future_get(r.p, &res);
    /* The outcome is the winner's. */
    ck_assert_int_eq(code, winner == 0 ? 0 : winner == 1 ? EIO : ECANCELED);
    ck_assert_ptr_eq(res, winner == 0 ? (void *)&value_a : NULL);
    future_release(r.p);
  }
  ck_assert_int_eq(wins[0] + wins[1] + wins[2], rounds);
}
END_TEST

/* Every kind of waiter, each in its own thread, on one promise. */
enum {
  W_GET,
  W_WAIT_FOR,
  W_WAIT_UNTIL,
  W_JOIN_ALL,
  W_JOIN_ANY,
  W_SETTLED,
  W_ALL_GET,
  NWAITERS
};

struct waiters {
  future_t *p;
  struct tu_count ready; /* each waiter about to wait */
  int code[NWAITERS];
  void *res[NWAITERS];
};

static void
waiter(void *arg, int i)
{
  struct waiters *w = arg;
  struct timespec dl = tu_deadline_in(FAR_NS);
  futures_outcome_t out;
  future_t *all = NULL;
  size_t idx;

  if (i == W_ALL_GET && futures_all(&w->p, 1, &all) != 0) {
    w->code[i] = -1;
    tu_count_down(&w->ready);
    return;
  }
  tu_count_down(&w->ready);
  switch (i) {
  case W_GET:
    w->code[i] = future_get(w->p, &w->res[i]);
    break;
  case W_WAIT_FOR:
    w->code[i] = future_wait_for(w->p, FAR_NS);
    break;
  case W_WAIT_UNTIL:
    w->code[i] = future_wait_until(w->p, &dl);
    break;
  case W_JOIN_ALL:
    w->code[i] = futures_join_all(&w->p, 1, &w->res[i]);
    break;
  case W_JOIN_ANY:
    w->code[i] = futures_join_any(&w->p, 1, &idx, &w->res[i]);
    break;
  case W_SETTLED:
    w->code[i] = futures_join_all_settled(&w->p, 1, &out);
    w->res[i] = out.result;
    break;
  default:
    w->code[i] = future_get(all, &w->res[i]);
    future_release(all);
    break;
  }
}

struct resolver {
  struct waiters *w;
  struct tu_latch go;
};

static int
resolve_task(void *arg, void **result)
{
  struct resolver *r = arg;

  (void)result;
  tu_latch_wait(&r->go);
  return future_resolve(r->w->p, &value_a);
}

static void *
waiters_thread(void *arg)
{
  struct waiters *w = arg;

  tu_run_threads(NWAITERS, waiter, w);
  return NULL;
}

START_TEST(test_promise_settled_by_a_task_wakes_every_kind_of_waiter)
{
  struct waiters w = {0};
  struct resolver r;
  futures_pool_t *pool;
  future_t *t;
  pthread_t th;

  tu_count_init(&w.ready, NWAITERS);
  r.w = &w;
  tu_latch_init(&r.go);
  ck_assert_int_eq(futures_promise_create(&w.p), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, resolve_task, &r, &t), 0);
  ck_assert_int_eq(pthread_create(&th, NULL, waiters_thread, &w), 0);
  tu_count_wait(&w.ready);
  tu_latch_open(&r.go); /* the task settles while they wait (or before) */
  pthread_join(th, NULL);
  ck_assert_int_eq(future_get(t, NULL), 0);
  for (int i = 0; i < NWAITERS; i++) {
    ck_assert_msg(w.code[i] == 0, "waiter %d returned %d", i, w.code[i]);
    if (i == W_GET || i == W_JOIN_ALL || i == W_JOIN_ANY || i == W_SETTLED)
      ck_assert_ptr_eq(w.res[i], &value_a);
    if (i == W_ALL_GET)
      ck_assert_ptr_null(w.res[i]); /* an all's result is NULL */
  }
  future_release(t);
  future_release(w.p);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&r.go);
  tu_count_destroy(&w.ready);
}
END_TEST

/* A waiter in a fork() child: the parent's pending promise is ECHILD. */
START_TEST(test_promise_of_the_parent_is_echild_in_a_fork_child)
{
  future_t *p, *all;
  pid_t pid;
  int status;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int bad = 0;

    /* A hang here is killed, not waited for (Check's own SIGALRM handler
     * would kill the test's whole process group). */
    signal(SIGALRM, SIG_DFL);
    alarm(20);
    bad |= future_get(p, NULL) != ECHILD;
    bad |= future_wait_for(p, FAR_NS) != ECHILD;
    bad |= futures_join_all(&p, 1, NULL) != ECHILD;
    bad |= future_resolve(p, NULL) != ECHILD;
    bad |= future_cancel(p) != ECHILD;
    bad |= futures_all(&p, 1, &all) != ECHILD;
    /* A promise made in the child is the child's own. */
    {
      future_t *q;

      bad |= futures_promise_create(&q) != 0;
      bad |= future_resolve(q, &value_a) != 0;
      bad |= future_get(q, NULL) != 0;
      future_release(q);
    }
    tu_child_exit(bad);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  /* The parent's promise is untouched. */
  ck_assert_int_eq(future_is_ready(p), 0);
  ck_assert_int_eq(future_resolve(p, &value_a), 0);
  ck_assert_int_eq(future_get(p, NULL), 0);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ all */

START_TEST(test_all_of_zero_is_resolved)
{
  future_t *all;
  void *res = &value_a;

  ck_assert_int_eq(futures_all(NULL, 0, &all), 0);
  ck_assert_int_eq(future_is_ready(all), 1);
  ck_assert_int_eq(future_get(all, &res), 0);
  ck_assert_ptr_null(res);
  future_release(all);
}
END_TEST

START_TEST(test_all_settles_after_its_last_input_with_lowest_index_failure)
{
  future_t *p[4], *all;

  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
  ck_assert_int_eq(futures_all(p, 4, &all), 0);
  ck_assert_int_eq(future_reject(p[3], EIO), 0);
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  ck_assert_int_eq(future_reject(p[2], EPIPE), 0);
  ck_assert_int_eq(future_is_ready(all), 0); /* p[1] still pending */
  ck_assert_int_eq(future_wait_for(all, 0), ETIMEDOUT);
  ck_assert_int_eq(future_cancel(p[1]), 0);
  ck_assert_int_eq(future_is_ready(all), 1);
  /* p[1] (ECANCELED) is the lowest-index failure, not p[2] or p[3]. */
  ck_assert_int_eq(future_get(all, NULL), ECANCELED);
  future_release(all);
  for (int i = 0; i < 4; i++)
    future_release(p[i]);
}
END_TEST

START_TEST(test_all_inputs_released_at_once_still_settle)
{
  future_t *p[3], *keep[3], *all, *outer, *pair[2];

  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
    keep[i] = p[i];
    ck_assert_int_eq(future_retain(keep[i]), 0);
  }
  ck_assert_int_eq(futures_all(p, 3, &all), 0);
  /* An all of an all and a promise: composition. */
  pair[0] = all;
  pair[1] = p[0];
  ck_assert_int_eq(futures_all(pair, 2, &outer), 0);
  for (int i = 0; i < 3; i++)
    future_release(p[i]); /* the consumers' handles: gone at once */
  future_release(all);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(future_resolve(keep[i], &value_b), 0);
  ck_assert_int_eq(future_get(outer, NULL), 0);
  future_release(outer);
  for (int i = 0; i < 3; i++)
    future_release(keep[i]);
}
END_TEST

START_TEST(test_all_cancelled_does_not_cancel_its_inputs)
{
  future_t *p[2], *all;

  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
  ck_assert_int_eq(futures_all(p, 2, &all), 0);
  ck_assert_int_eq(future_cancel(all), 0);
  ck_assert_int_eq(future_get(all, NULL), ECANCELED);
  ck_assert_int_eq(future_is_ready(p[0]), 0);
  ck_assert_int_eq(future_is_ready(p[1]), 0);
  /* The inputs settle later; the cancelled all stays as it is. */
  ck_assert_int_eq(future_resolve(p[0], NULL), 0);
  ck_assert_int_eq(future_reject(p[1], EIO), 0);
  ck_assert_int_eq(future_get(all, NULL), ECANCELED);
  future_release(all);
  for (int i = 0; i < 2; i++)
    future_release(p[i]);
}
END_TEST

#define NRACE     64
#define NSETTLERS 4

struct all_race {
  future_t *p[NRACE];
  future_t *all;
  int all_rc;
  pthread_barrier_t go;
};

/* Threads 0..NSETTLERS-1 settle every NSETTLERS-th input (the last one
 * fails); thread NSETTLERS makes the all at the same moment. */
static void
all_racer(void *arg, int i)
{
  struct all_race *r = arg;

  pthread_barrier_wait(&r->go);
  if (i == NSETTLERS) {
    r->all_rc = futures_all(r->p, NRACE, &r->all);
    return;
  }
  for (int k = i; k < NRACE; k += NSETTLERS)
    if (k == NRACE - 1)
      (void)future_reject(r->p[k], EIO);
    else
      (void)future_resolve(r->p[k], &value_a);
}

START_TEST(test_all_settles_when_inputs_settle_from_many_threads)
{
  long rounds = tu_scaled(300, 20);

  for (long k = 0; k < rounds; k++) {
    struct all_race r;
    future_t *late;

    for (int i = 0; i < NRACE; i++)
      ck_assert_int_eq(futures_promise_create(&r.p[i]), 0);
    pthread_barrier_init(&r.go, NULL, NSETTLERS + 1);
    ck_assert_int_eq(tu_run_threads(NSETTLERS + 1, all_racer, &r), 0);
    pthread_barrier_destroy(&r.go);
    ck_assert_int_eq(r.all_rc, 0);
    /* Only the last input failed. */
    ck_assert_int_eq(future_get(r.all, NULL), EIO);
    /* Made after every input settled: settled at once. */
    ck_assert_int_eq(futures_all(r.p, NRACE - 1, &late), 0);
    ck_assert_int_eq(future_is_ready(late), 1);
    ck_assert_int_eq(future_get(late, NULL), 0);
    future_release(late);
    future_release(r.all);
    for (int i = 0; i < NRACE; i++)
      future_release(r.p[i]);
  }
}
END_TEST

static int
slow_value_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

struct in_task {
  futures_pool_t *pool;
  int code;
};

static int
all_in_task(void *arg, void **result)
{
  struct in_task *it = arg;
  future_t *f[8], *all;
  int rc = 0;

  (void)result;
  for (int i = 0; i < 8; i++)
    if (futures_submit(it->pool, slow_value_task, &value_a, &f[i]) != 0)
      return ENOMEM;
  if (futures_all(f, 8, &all) != 0)
    rc = ENOMEM;
  else {
    /* Waiting for the all: the task's own sub-tasks run meanwhile. */
    rc = future_get(all, NULL);
    future_release(all);
  }
  for (int i = 0; i < 8; i++) {
    if (rc == 0 && !future_is_ready(f[i]))
      rc = EFAULT; /* the all settled before an input */
    future_release(f[i]);
  }
  return rc;
}

/*
 * A task of a 1-worker pool waits (future_get) for an all whose input was
 * submitted from outside and is queued behind it: the waiter runs the
 * input itself, as future_get() runs an unstarted task.
 */
struct wait_all {
  futures_pool_t *pool;
  future_t *input;
  int mode;
  struct tu_latch started, input_ready;
};

static int
plus_one(void *arg, int code, void *value, void **result)
{
  (void)arg;
  *result = value;
  return code;
}

/* _i: 0 waits for all({input}); 1 for all({then(input)}); 2 for
 * all({all({input})}): the waiter follows a continuation's chain and a
 * nested combinator to the task that has not started. */
static int
wait_all_task(void *arg, void **result)
{
  struct wait_all *wa = arg;
  future_t *all, *mid = NULL;
  int rc;

  (void)result;
  tu_latch_open(&wa->started);
  tu_latch_wait(&wa->input_ready);
  if (wa->mode == 1 &&
      futures_then(wa->pool, wa->input, plus_one, NULL, &mid) != 0)
    return ENOMEM;
  if (wa->mode == 2 && futures_all(&wa->input, 1, &mid) != 0)
    return ENOMEM;
  if (futures_all(mid != NULL ? &mid : &wa->input, 1, &all) != 0)
    return ENOMEM;
  rc = future_get(all, NULL);
  future_release(all);
  if (mid != NULL)
    future_release(mid);
  return rc == 0 && future_is_ready(wa->input) ? 0 : EFAULT;
}

START_TEST(test_all_waited_in_a_task_runs_its_queued_inputs_on_one_worker)
{
  struct wait_all wa;
  future_t *t;

  wa.mode = _i;
  tu_latch_init(&wa.started);
  tu_latch_init(&wa.input_ready);
  ck_assert_int_eq(futures_pool_create(&wa.pool, 1), 0);
  ck_assert_int_eq(futures_submit(wa.pool, wait_all_task, &wa, &t), 0);
  tu_latch_wait(&wa.started); /* t holds the only worker */
  /* Queued behind the task, which holds the only worker. */
  ck_assert_int_eq(
      futures_submit(wa.pool, slow_value_task, &value_a, &wa.input), 0);
  tu_latch_open(&wa.input_ready);
  ck_assert_int_eq(future_get(t, NULL), 0);
  future_release(t);
  future_release(wa.input);
  ck_assert_int_eq(futures_pool_destroy(wa.pool), 0);
  tu_latch_destroy(&wa.input_ready);
  tu_latch_destroy(&wa.started);
}
END_TEST

/* Retains short of the reference count's capacity give EAGAIN, and
 * nothing is freed early. */
START_TEST(test_promise_retain_past_the_reference_limit_is_eagain)
{
  future_t *p;
  long n = 0;
  int rc;

  /* About 33 million atomic operations: seconds natively and under the
   * sanitizers, hours under helgrind. The valgrind targets, which scale
   * the tests down (FUTURES_STRESS_SCALE), leave it to the other builds. */
  if (tu_scaled(1000, 1) < 1000)
    return;
  ck_assert_int_eq(futures_promise_create(&p), 0);
  while ((rc = future_retain(p)) == 0)
    n++;
  ck_assert_int_eq(rc, EAGAIN);
  ck_assert_int_gt(n, 1000000);
  for (long i = 0; i < n; i++)
    future_release(p);
  ck_assert_int_eq(future_resolve(p, &value_a), 0); /* still alive */
  future_release(p);
}
END_TEST

START_TEST(test_all_of_task_futures_made_in_a_task)
{
  struct in_task it;
  future_t *t;

  ck_assert_int_eq(futures_pool_create(&it.pool, 1), 0);
  ck_assert_int_eq(futures_submit(it.pool, all_in_task, &it, &t), 0);
  ck_assert_int_eq(future_get(t, NULL), 0);
  future_release(t);
  ck_assert_int_eq(futures_pool_destroy(it.pool), 0);
}
END_TEST

/* ------------------------------------------------------------ one worker */

struct one_worker {
  future_t *p;
  atomic_int settler_ran; /* 1 once the settling task has run */
  int saw_ran;            /* settler_ran as the waiter's wait ended */
  int wait_rc;
};

static int
task_settle(void *arg, void **result)
{
  struct one_worker *o = arg;

  *result = NULL;
  atomic_store(&o->settler_ran, 1);
  return future_resolve(o->p, o);
}

static int
task_wait_briefly(void *arg, void **result)
{
  struct one_worker *o = arg;

  *result = NULL;
  o->wait_rc = future_wait_for(o->p, 20000000LL); /* 20 ms */
  o->saw_ran = atomic_load(&o->settler_ran);
  return 0;
}

/*
 * The defined behaviour of a task that waits for a promise which a task
 * queued behind it on its 1-worker pool settles: its worker stays
 * blocked, so the settler has not run when the (timed) wait ends; it
 * runs once the waiting task returns. (An untimed wait would never end.)
 */
START_TEST(test_promise_waited_in_a_task_on_one_worker_blocks_it)
{
  futures_pool_t *pool;
  struct one_worker o;
  future_t *w, *s;

  atomic_init(&o.settler_ran, 0);
  o.saw_ran = o.wait_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&o.p), 0);
  ck_assert_int_eq(futures_submit(pool, task_wait_briefly, &o, &w), 0);
  ck_assert_int_eq(futures_submit(pool, task_settle, &o, &s), 0);
  /* Timed waits: this thread runs neither task in place. */
  ck_assert_int_eq(future_wait_for(s, 60000000000LL), 0);
  ck_assert_int_eq(future_get(s, NULL), 0);
  ck_assert_int_eq(future_get(w, NULL), 0);
  ck_assert_int_eq(o.wait_rc, ETIMEDOUT);
  ck_assert_int_eq(o.saw_ran, 0);
  ck_assert_int_eq(future_is_ready(o.p), 1);
  future_release(w);
  future_release(s);
  future_release(o.p);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

static int
task_follow_promise(void *arg, void **result)
{
  struct one_worker *o = arg;

  if (future_retain(o->p) != 0)
    return EAGAIN;
  *result = o->p;
  return FUTURES_FOLLOW;
}

/*
 * The way to wait for it instead: the task returns FUTURES_FOLLOW with
 * the promise; the one worker is free at once and runs the settler, and
 * the task's future settles with the promise's value.
 */
START_TEST(test_promise_followed_by_a_task_on_one_worker_frees_it)
{
  futures_pool_t *pool;
  struct one_worker o;
  future_t *w, *s;
  void *r = NULL;

  atomic_init(&o.settler_ran, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&o.p), 0);
  ck_assert_int_eq(futures_submit(pool, task_follow_promise, &o, &w), 0);
  ck_assert_int_eq(futures_submit(pool, task_settle, &o, &s), 0);
  ck_assert_int_eq(future_wait_for(w, 60000000000LL), 0);
  ck_assert_int_eq(future_get(w, &r), 0);
  ck_assert_ptr_eq(r, &o);
  ck_assert_int_eq(future_get(s, NULL), 0);
  ck_assert_int_eq(atomic_load(&o.settler_ran), 1);
  future_release(w);
  future_release(s);
  future_release(o.p);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ owned */

/* A value with a destructor that counts its calls. */
struct owned {
  atomic_int destroyed;
  int id;
};

static void
owned_destroy(void *v)
{
  atomic_fetch_add(&((struct owned *)v)->destroyed, 1);
}

/*
 * A promise resolved with an owned value that no one reads: its
 * destructor runs exactly once, when the last reference goes (the
 * producer's and the consumer's; a notifier's watch does not read it);
 * a failed resolve leaves the value alone; NULL runs no destructor.
 */
START_TEST(test_promise_owned_value_unread_is_destroyed_once)
{
  struct owned v = {0, 1}, w = {0, 2};
  future_t *p, *q;

  atomic_init(&v.destroyed, 0);
  atomic_init(&w.destroyed, 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_retain(p), 0); /* the consumer's */
  ck_assert_int_eq(future_resolve_owned(p, &v, owned_destroy), 0);
  ck_assert_int_eq(future_resolve_owned(p, &w, owned_destroy), EALREADY);
  ck_assert_int_eq(future_get(p, NULL), 0); /* no result slot: not read */
  future_release(p);
  ck_assert_int_eq(atomic_load(&v.destroyed), 0);
  future_release(p);
  ck_assert_int_eq(atomic_load(&v.destroyed), 1);
  ck_assert_int_eq(atomic_load(&w.destroyed), 0);

  ck_assert_int_eq(futures_promise_create(&q), 0);
  ck_assert_int_eq(future_resolve_owned(q, NULL, owned_destroy), 0);
  future_release(q);
  ck_assert_int_eq(futures_promise_create(&q), 0);
  ck_assert_int_eq(future_resolve_owned(NULL, &w, owned_destroy), EINVAL);
  ck_assert_int_eq(future_reject(q, EIO), 0);
  ck_assert_int_eq(future_resolve_owned(q, &w, owned_destroy), EALREADY);
  future_release(q);
  ck_assert_int_eq(atomic_load(&w.destroyed), 0);
}
END_TEST

static int
then_keep(void *arg, int code, void *value, void **result)
{
  *(void **)arg = value;
  *result = NULL;
  return code;
}

/*
 * Reading the value hands it to the reader: future_get() with a result
 * slot, a join, a continuation (inline or on a pool) or a follower: the
 * destructor never runs for any of them.
 */
START_TEST(test_promise_owned_value_read_is_the_readers)
{
  struct owned v[4];
  future_t *p[4], *c;
  void *r = NULL, *seen = NULL;

  for (int i = 0; i < 4; i++) {
    atomic_init(&v[i].destroyed, 0);
    v[i].id = i;
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
    ck_assert_int_eq(future_resolve_owned(p[i], &v[i], owned_destroy), 0);
  }
  ck_assert_int_eq(future_get(p[0], &r), 0);
  ck_assert_ptr_eq(r, &v[0]);
  ck_assert_int_eq(futures_join_all(&p[1], 1, &r), 0);
  ck_assert_ptr_eq(r, &v[1]);
  ck_assert_int_eq(futures_then_inline(p[2], then_keep, &seen, &c), 0);
  ck_assert_ptr_eq(seen, &v[2]);
  future_release(c);
  for (int i = 0; i < 3; i++)
    future_release(p[i]);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(atomic_load(&v[i].destroyed), 0);
  /* Unread: destroyed. */
  future_release(p[3]);
  ck_assert_int_eq(atomic_load(&v[3].destroyed), 1);
}
END_TEST

/*
 * A race of three owned values: the losers are destroyed once the race
 * and their handles let go of them; the race only borrows the winner's
 * value: reading it from the race takes nothing over, the winner's last
 * release destroys it unless it was read from the winner itself.
 */
START_TEST(test_promise_owned_value_race_losers_destroyed)
{
  for (int read = 0; read < 2; read++) {
    struct owned v[3];
    future_t *p[3], *race;
    void *r = NULL;
    size_t w = 99;

    for (int i = 0; i < 3; i++) {
      atomic_init(&v[i].destroyed, 0);
      ck_assert_int_eq(futures_promise_create(&p[i]), 0);
    }
    ck_assert_int_eq(futures_any(p, 3, &race), 0);
    ck_assert_int_eq(future_resolve_owned(p[1], &v[1], owned_destroy), 0);
    ck_assert_int_eq(future_resolve_owned(p[0], &v[0], owned_destroy), 0);
    ck_assert_int_eq(future_resolve_owned(p[2], &v[2], owned_destroy), 0);
    ck_assert_int_eq(futures_winner(race, &w), 0);
    ck_assert_uint_eq(w, 1);
    ck_assert_int_eq(future_get(race, &r), 0); /* borrowed */
    ck_assert_ptr_eq(r, &v[1]);
    future_release(race);
    future_release(p[0]);
    future_release(p[2]);
    ck_assert_int_eq(atomic_load(&v[0].destroyed), 1);
    ck_assert_int_eq(atomic_load(&v[2].destroyed), 1);
    ck_assert_int_eq(atomic_load(&v[1].destroyed), 0); /* p[1] still has it */
    if (read) {
      ck_assert_int_eq(future_get(p[1], &r), 0); /* the winner's: owned */
      ck_assert_ptr_eq(r, &v[1]);
    }
    future_release(p[1]);
    ck_assert_int_eq(atomic_load(&v[1].destroyed), read ? 0 : 1);
  }
}
END_TEST

Suite *
promise_suite(void)
{
  Suite *s = suite_create("promise");
  TCase *tc = tcase_create("basics");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_promise_resolve_then_get_returns_the_value);
  tcase_add_test(tc, test_promise_reject_then_get_returns_the_code);
  tcase_add_test(tc,
                 test_promise_second_settle_is_ealready_and_changes_nothing);
  tcase_add_test(
      tc, test_promise_cancel_settles_ecanceled_and_producer_sees_ealready);
  tcase_add_test(tc, test_promise_bad_input_is_einval);
  tcase_add_test(
      tc, test_promise_retain_lets_consumer_and_producer_release_in_any_order);
  tcase_add_test(tc, test_promise_of_the_parent_is_echild_in_a_fork_child);
  suite_add_tcase(s, tc);

  tc = tcase_create("one_worker");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_promise_waited_in_a_task_on_one_worker_blocks_it);
  tcase_add_test(tc, test_promise_followed_by_a_task_on_one_worker_frees_it);
  suite_add_tcase(s, tc);

  tc = tcase_create("owned");
  tcase_add_test(tc, test_promise_owned_value_unread_is_destroyed_once);
  tcase_add_test(tc, test_promise_owned_value_read_is_the_readers);
  tcase_add_test(tc, test_promise_owned_value_race_losers_destroyed);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_promise_racing_settlers_exactly_one_wins);
  tcase_add_test(tc, test_promise_settled_by_a_task_wakes_every_kind_of_waiter);
  suite_add_tcase(s, tc);

  tc = tcase_create("all");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_all_of_zero_is_resolved);
  tcase_add_test(
      tc, test_all_settles_after_its_last_input_with_lowest_index_failure);
  tcase_add_test(tc, test_all_inputs_released_at_once_still_settle);
  tcase_add_test(tc, test_all_cancelled_does_not_cancel_its_inputs);
  tcase_add_test(tc, test_all_settles_when_inputs_settle_from_many_threads);
  tcase_add_test(tc, test_all_of_task_futures_made_in_a_task);
  tcase_add_loop_test(
      tc, test_all_waited_in_a_task_runs_its_queued_inputs_on_one_worker, 0, 3);
  tcase_add_test(tc, test_promise_retain_past_the_reference_limit_is_eagain);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(promise_suite());
}
