/* SPDX-License-Identifier: MIT */
/*
 * check_then: futures_then() continuations. A continuation receives its
 * antecedent's code and result, runs exactly once as a task of its own on
 * the pool, and its outcome becomes the new future's. Deep chains are run
 * on workers with a small stack, so recursion would crash the test.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* pthread_getattr_np */
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *then_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* What a continuation saw; written by it, read after its future is done. */
struct seen {
  atomic_int runs;  /* how many times the continuation ran */
  int code;         /* the antecedent's code it received */
  void *value;      /* the antecedent's result it received */
  pthread_t thread; /* the thread it ran in */
  int ret;          /* what it returns */
  void *out;        /* what it stores as its result */
};

static void
seen_init(struct seen *s, int ret, void *out)
{
  atomic_init(&s->runs, 0);
  s->code = -1;
  s->value = (void *)s; /* sentinel: never a real antecedent result */
  s->ret = ret;
  s->out = out;
}

/* A continuation that records what it received in the struct seen @arg. */
static int
then_record(void *arg, int code, void *value, void **result)
{
  struct seen *s = arg;

  s->code = code;
  s->value = value;
  s->thread = pthread_self();
  atomic_fetch_add(&s->runs, 1);
  *result = s->out;
  return s->ret;
}

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A task that fails with EIO. */
static int
task_fail_eio(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EIO;
}

/* A task that counts its runs in the atomic int at @arg. */
static int
task_count(void *arg, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = arg;
  return 0;
}

/* Waits for @f without running anything in the calling thread. */
static int
wait_no_help(future_t *f)
{
  struct timespec dl = tu_deadline_in(60000 * MS);

  return future_wait_until(f, &dl);
}

/* A task that waits (future_get) for a continuation it learns through
 * @arg once the test has attached it. */
struct cont_waiter {
  struct tu_latch attached;
  future_t *c;
  int code;
  void *value;
};

static int
task_get_continuation(void *arg, void **result)
{
  struct cont_waiter *w = arg;

  tu_latch_wait(&w->attached);
  w->code = future_get(w->c, &w->value);
  *result = w;
  return 0;
}

/* ------------------------------------------------------------ basic */

/*
 * The continuation gets the antecedent's code and result only once the
 * antecedent finishes (it has not run while the antecedent is held), and
 * its own return code and result become the new future's outcome.
 */
START_TEST(test_then_receives_code_and_result_and_sets_outcome)
{
  futures_pool_t *pool;
  future_t *ante, *c_ok, *c_fail;
  struct tu_hold h;
  struct seen s_ok, s_fail;
  int out;
  void *res = NULL;

  tu_hold_init(&h, &h);
  seen_init(&s_ok, 0, &out);
  seen_init(&s_fail, EDOM, &out);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &ante), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s_ok, &c_ok), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s_fail, &c_fail), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(atomic_load(&s_ok.runs), 0);
  ck_assert_int_eq(future_is_ready(c_ok), 0);

  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(c_ok, &res), 0);
  ck_assert_ptr_eq(res, &out);
  ck_assert_int_eq(s_ok.code, 0);
  ck_assert_ptr_eq(s_ok.value, &h);
  ck_assert_int_eq(future_get(c_fail, &res), EDOM);
  ck_assert_ptr_null(res);
  ck_assert_int_eq(s_fail.code, 0);
  ck_assert_ptr_eq(s_fail.value, &h);
  ck_assert_int_eq(atomic_load(&s_ok.runs), 1);
  ck_assert_int_eq(atomic_load(&s_fail.runs), 1);

  future_release(c_ok);
  future_release(c_fail);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * A failed antecedent hands its code and a NULL value to the continuation,
 * which may recover: the new future succeeds with the continuation's
 * result.
 */
START_TEST(test_then_of_failed_antecedent_receives_its_code)
{
  futures_pool_t *pool;
  future_t *ante, *c;
  struct seen s;
  int out;
  void *res = NULL;

  seen_init(&s, 0, &out);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail_eio, NULL, &ante), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s, &c), 0);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &out);
  ck_assert_int_eq(s.code, EIO);
  ck_assert_ptr_null(s.value);
  ck_assert_int_eq(atomic_load(&s.runs), 1);
  ck_assert_int_eq(future_get(ante, NULL), EIO);

  future_release(c);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A continuation of a task cancelled before it started runs with ECANCELED
 * and a NULL value, whether attached before or after the cancel; the
 * cancelled task itself never runs.
 */
START_TEST(test_then_of_cancelled_antecedent_receives_ecanceled)
{
  futures_pool_t *pool;
  future_t *held, *ante, *c_before, *c_after;
  struct tu_hold h;
  struct seen s_before, s_after;
  atomic_int ran = 0;

  tu_hold_init(&h, NULL);
  seen_init(&s_before, 0, NULL);
  seen_init(&s_after, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_count, &ran, &ante), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s_before, &c_before),
                   0);
  ck_assert_int_eq(future_cancel(ante), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s_after, &c_after),
                   0);
  tu_latch_open(&h.release);

  ck_assert_int_eq(future_get(c_before, NULL), 0);
  ck_assert_int_eq(future_get(c_after, NULL), 0);
  ck_assert_int_eq(s_before.code, ECANCELED);
  ck_assert_ptr_null(s_before.value);
  ck_assert_int_eq(s_after.code, ECANCELED);
  ck_assert_ptr_null(s_after.value);
  ck_assert_int_eq(future_get(ante, NULL), ECANCELED);

  future_release(c_before);
  future_release(c_after);
  future_release(ante);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&ran), 0);
  ck_assert_int_eq(atomic_load(&s_before.runs), 1);
  ck_assert_int_eq(atomic_load(&s_after.runs), 1);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * A continuation attached to an already-finished future runs exactly once:
 * still once after the pool has drained and been destroyed.
 */
START_TEST(test_then_on_finished_future_runs_exactly_once)
{
  futures_pool_t *pool;
  future_t *ante, *c1, *c2;
  struct seen s1, s2;
  int x;
  void *res = NULL;

  seen_init(&s1, 0, &s1);
  seen_init(&s2, 0, &s2);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &x, &ante), 0);
  ck_assert_int_eq(future_get(ante, NULL), 0);

  ck_assert_int_eq(futures_then(pool, ante, then_record, &s1, &c1), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s2, &c2), 0);
  ck_assert_int_eq(future_get(c1, &res), 0);
  ck_assert_ptr_eq(res, &s1);
  ck_assert_int_eq(future_get(c2, &res), 0);
  ck_assert_ptr_eq(res, &s2);
  ck_assert_int_eq(s1.code, 0);
  ck_assert_ptr_eq(s1.value, &x);
  ck_assert_ptr_eq(s2.value, &x);

  future_release(c1);
  future_release(c2);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&s1.runs), 1);
  ck_assert_int_eq(atomic_load(&s2.runs), 1);
}
END_TEST

/*
 * A continuation on a finished future is queued, not run inside futures_then():
 * with the only worker held it has not run on return, then it runs on the
 * worker (waited for without helping, so not in the test thread).
 */
START_TEST(test_then_on_finished_future_is_queued_on_the_pool)
{
  futures_pool_t *pool;
  future_t *ante, *held, *c;
  struct tu_hold h;
  struct seen s;
  int x;

  tu_hold_init(&h, NULL);
  seen_init(&s, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &x, &ante), 0);
  ck_assert_int_eq(future_get(ante, NULL), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);

  ck_assert_int_eq(futures_then(pool, ante, then_record, &s, &c), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 0);
  tu_latch_open(&h.release);
  ck_assert_int_eq(wait_no_help(c), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 1);
  ck_assert_int_eq(pthread_equal(s.thread, pthread_self()), 0);
  ck_assert_ptr_eq(s.value, &x);

  future_release(c);
  future_release(held);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * The antecedent handle may be released right after attaching: the
 * continuation still runs, with the antecedent's result, once the task
 * (held by a latch until after the release) finishes.
 */
START_TEST(test_then_runs_after_antecedent_handle_released)
{
  futures_pool_t *pool;
  future_t *ante, *queued, *c1, *c2;
  struct tu_hold h;
  struct seen s1, s2;
  int x;

  tu_hold_init(&h, &h);
  seen_init(&s1, 0, NULL);
  seen_init(&s2, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &ante), 0);
  ck_assert_int_eq(futures_submit(pool, task_echo, &x, &queued), 0);
  ck_assert_int_eq(futures_then(pool, ante, then_record, &s1, &c1), 0);
  ck_assert_int_eq(futures_then(pool, queued, then_record, &s2, &c2), 0);
  future_release(ante);
  future_release(queued);
  tu_latch_open(&h.release);

  ck_assert_int_eq(future_get(c1, NULL), 0);
  ck_assert_int_eq(future_get(c2, NULL), 0);
  ck_assert_int_eq(atomic_load(&s1.runs), 1);
  ck_assert_int_eq(atomic_load(&s2.runs), 1);
  ck_assert_int_eq(s1.code, 0);
  ck_assert_ptr_eq(s1.value, &h);
  ck_assert_ptr_eq(s2.value, &x);

  future_release(c1);
  future_release(c2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ chain */

/* A link: adds 1 to the antecedent's value; passes failures on. */
static int
then_add_one(void *arg, int code, void *value, void **result)
{
  (void)arg;
  if (code != 0)
    return code;
  *result = (void *)((uintptr_t)value + 1);
  return 0;
}

enum { CHAIN = 10000 };

/*
 * A pool whose workers have a 64 KiB stack: 10,000 nested frames of even 16
 * bytes would overflow it, so a recursive cascade crashes instead of passing.
 */
static futures_pool_t *
small_stack_pool(size_t nthreads)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;

  o.nthreads = nthreads;
  o.stack_size = 64 * 1024;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  return pool;
}

/* A task that stores the size of the stack it runs on in *arg. */
static int
task_stack_size(void *arg, void **result)
{
  pthread_attr_t a;
  size_t size = 0;

  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
  }
  *(size_t *)arg = size;
  *result = NULL;
  return 0;
}

/*
 * Premise of the chain tests: stack_size 64 KiB really gives workers a stack
 * under 256 KiB (allowing for rounding), so recursion would overflow it.
 */
START_TEST(test_then_small_stack_pool_has_small_stacks)
{
  futures_pool_t *pool = small_stack_pool(1);
  future_t *f;
  size_t size = 0;

  ck_assert_int_eq(futures_submit(pool, task_stack_size, &size, &f), 0);
  ck_assert_int_eq(wait_no_help(f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_uint_gt(size, 0);
  ck_assert_uint_lt(size, 256 * 1024);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * 10,000 links (each adds 1) attached while the root is held complete in one
 * cascade with value 10,000 on 64 KiB worker stacks (recursion would crash);
 * the test waits without helping so the cascade runs on the workers.
 */
START_TEST(test_then_chain_of_10000_links_has_no_recursion)
{
  futures_pool_t *pool = small_stack_pool(2);
  future_t **fs = calloc(CHAIN + 1, sizeof(*fs));
  struct tu_hold h;
  void *res = NULL;

  ck_assert_ptr_nonnull(fs);
  tu_hold_init(&h, (void *)(uintptr_t)0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &fs[0]), 0);
  for (int i = 1; i <= CHAIN; i++)
    ck_assert_int_eq(futures_then(pool, fs[i - 1], then_add_one, NULL, &fs[i]),
                     0);
  tu_latch_wait(&h.started);
  tu_latch_open(&h.release);

  ck_assert_int_eq(wait_no_help(fs[CHAIN]), 0);
  ck_assert_int_eq(future_get(fs[CHAIN], &res), 0);
  ck_assert_uint_eq((uintptr_t)res, CHAIN);
  ck_assert_int_eq(future_get(fs[CHAIN / 2], &res), 0);
  ck_assert_uint_eq((uintptr_t)res, CHAIN / 2);

  for (int i = 0; i <= CHAIN; i++)
    future_release(fs[i]);
  free(fs);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * The same chain built while it runs, each handle released once the next link
 * is attached: the value is still 10,000 and the 64 KiB stacks hold.
 */
START_TEST(test_then_chain_built_while_running_releasing_as_it_goes)
{
  futures_pool_t *pool = small_stack_pool(2);
  future_t *prev, *next;
  void *res = NULL;

  ck_assert_int_eq(futures_submit(pool, task_echo, NULL, &prev), 0);
  for (int i = 1; i <= CHAIN; i++) {
    ck_assert_int_eq(futures_then(pool, prev, then_add_one, NULL, &next), 0);
    future_release(prev);
    prev = next;
  }
  ck_assert_int_eq(wait_no_help(prev), 0);
  ck_assert_int_eq(future_get(prev, &res), 0);
  ck_assert_uint_eq((uintptr_t)res, CHAIN);
  future_release(prev);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

enum { ATTACHERS = 8, PER_THREAD = 100, ALL = ATTACHERS * PER_THREAD };

struct attach {
  futures_pool_t *pool;
  future_t *ante;
  struct tu_latch *open_midway; /* opened by thread 0 halfway, or NULL */
  struct seen seen[ALL];
  future_t *cs[ALL];
  int rc[ALL];
};

static void
attach_thread(void *arg, int t)
{
  struct attach *a = arg;

  for (int k = 0; k < PER_THREAD; k++) {
    int i = t * PER_THREAD + k;

    if (t == 0 && k == PER_THREAD / 2 && a->open_midway != NULL)
      tu_latch_open(a->open_midway);
    a->rc[i] =
        futures_then(a->pool, a->ante, then_record, &a->seen[i], &a->cs[i]);
  }
}

static struct attach *
attach_new(futures_pool_t *pool, future_t *ante, struct tu_latch *midway)
{
  struct attach *a = calloc(1, sizeof(*a));

  ck_assert_ptr_nonnull(a);
  a->pool = pool;
  a->ante = ante;
  a->open_midway = midway;
  for (int i = 0; i < ALL; i++) {
    seen_init(&a->seen[i], 0, &a->seen[i]);
    a->rc[i] = -1;
  }
  return a;
}

/* Joins the 800 continuations and checks each ran once with @value. */
static void
attach_check(struct attach *a, void *value)
{
  void **results = calloc(ALL, sizeof(*results));

  ck_assert_ptr_nonnull(results);
  for (int i = 0; i < ALL; i++)
    ck_assert_int_eq(a->rc[i], 0);
  ck_assert_int_eq(futures_join_all(a->cs, ALL, results), 0);
  for (int i = 0; i < ALL; i++) {
    ck_assert_ptr_eq(results[i], &a->seen[i]);
    ck_assert_int_eq(atomic_load(&a->seen[i].runs), 1);
    ck_assert_int_eq(a->seen[i].code, 0);
    ck_assert_ptr_eq(a->seen[i].value, value);
  }
  for (int i = 0; i < ALL; i++)
    future_release(a->cs[i]);
  free(results);
}

/*
 * 8 threads attach 100 continuations each to one future held by a latch:
 * none runs before the release, and afterwards every one has run exactly
 * once with the antecedent's value.
 */
START_TEST(test_then_attached_from_many_threads_runs_each_once)
{
  futures_pool_t *pool;
  future_t *ante;
  struct tu_hold h;
  struct attach *a;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &ante), 0);
  tu_latch_wait(&h.started);
  a = attach_new(pool, ante, NULL);
  ck_assert_int_eq(tu_run_threads(ATTACHERS, attach_thread, a), 0);
  for (int i = 0; i < ALL; i++)
    ck_assert_int_eq(atomic_load(&a->seen[i].runs), 0);

  tu_latch_open(&h.release);
  attach_check(a, &h);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  /* Still once each after the pool drained. */
  for (int i = 0; i < ALL; i++)
    ck_assert_int_eq(atomic_load(&a->seen[i].runs), 1);
  future_release(ante);
  free(a);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * The same 8 x 100 attachments racing with the antecedent finishing (thread
 * 0 releases it halfway through its own attachments): continuations
 * attached before, during and after completion each run exactly once.
 */
START_TEST(test_then_attached_while_antecedent_completes_runs_each_once)
{
  futures_pool_t *pool;
  future_t *ante;
  struct tu_hold h;
  struct attach *a;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &ante), 0);
  tu_latch_wait(&h.started);
  a = attach_new(pool, ante, &h.release);
  ck_assert_int_eq(tu_run_threads(ATTACHERS, attach_thread, a), 0);
  attach_check(a, &h);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int i = 0; i < ALL; i++)
    ck_assert_int_eq(atomic_load(&a->seen[i].runs), 1);
  future_release(ante);
  free(a);
  tu_hold_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * futures_then() refuses a pool other than the antecedent's, a NULL pool,
 * antecedent or function, with EINVAL; the refused continuation never runs.
 */
START_TEST(test_then_rejects_other_pool_and_null_arguments)
{
  futures_pool_t *p1, *p2;
  future_t *ante, *c = NULL;
  struct seen s;
  int x;

  seen_init(&s, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&p1, 1), 0);
  ck_assert_int_eq(futures_pool_create(&p2, 1), 0);
  ck_assert_int_eq(futures_submit(p1, task_echo, &x, &ante), 0);

  ck_assert_int_eq(futures_then(p2, ante, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then(NULL, ante, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then(p1, NULL, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then(p1, ante, NULL, &s, &c), EINVAL);
  ck_assert_int_eq(future_get(ante, NULL), 0);
  ck_assert_int_eq(futures_then(p2, ante, then_record, &s, &c), EINVAL);

  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(p1), 0);
  ck_assert_int_eq(futures_pool_destroy(p2), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 0);
}
END_TEST

/*
 * A task of a 1-worker pool waits for a continuation whose antecedent is
 * queued behind it: it must run the antecedent (then the continuation)
 * itself, as it would run any unstarted future it waits for (issue 10
 * review: a waiter met the deferred continuation and slept, and the only
 * worker was that waiter).
 */
START_TEST(test_then_task_waiting_on_deferred_continuation_runs_its_antecedent)
{
  futures_pool_t *pool;
  future_t *t, *a;
  struct cont_waiter w;
  struct seen s;
  atomic_int runs;
  void *res = NULL;

  tu_latch_init(&w.attached);
  w.code = -1;
  seen_init(&s, 0, &s);
  atomic_init(&runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  /* t first, so that the worker runs t while a waits in the queue. */
  ck_assert_int_eq(futures_submit(pool, task_get_continuation, &w, &t), 0);
  ck_assert_int_eq(futures_submit(pool, task_count, &runs, &a), 0);
  ck_assert_int_eq(futures_then(pool, a, then_record, &s, &w.c), 0);
  tu_latch_open(&w.attached);
  ck_assert_msg(wait_no_help(t) == 0, "the waiting task never finished");
  ck_assert_int_eq(future_get(t, &res), 0);
  ck_assert_ptr_eq(res, &w);
  ck_assert_int_eq(w.code, 0);
  ck_assert_ptr_eq(w.value, &s);
  ck_assert_int_eq(atomic_load(&runs), 1);
  ck_assert_int_eq(atomic_load(&s.runs), 1);
  ck_assert_ptr_eq(s.value, &runs);
  future_release(w.c);
  future_release(a);
  future_release(t);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&w.attached);
}
END_TEST

Suite *
then_suite(void)
{
  Suite *s = suite_create("then");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_then_receives_code_and_result_and_sets_outcome);
  tcase_add_test(tc, test_then_of_failed_antecedent_receives_its_code);
  tcase_add_test(tc, test_then_of_cancelled_antecedent_receives_ecanceled);
  tcase_add_test(tc, test_then_on_finished_future_runs_exactly_once);
  tcase_add_test(tc, test_then_on_finished_future_is_queued_on_the_pool);
  tcase_add_test(tc, test_then_runs_after_antecedent_handle_released);
  tcase_add_test(
      tc, test_then_task_waiting_on_deferred_continuation_runs_its_antecedent);
  suite_add_tcase(s, tc);

  tc = tcase_create("chain");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_then_small_stack_pool_has_small_stacks);
  tcase_add_test(tc, test_then_chain_of_10000_links_has_no_recursion);
  tcase_add_test(tc, test_then_chain_built_while_running_releasing_as_it_goes);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_then_attached_from_many_threads_runs_each_once);
  tcase_add_test(tc,
                 test_then_attached_while_antecedent_completes_runs_each_once);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_then_rejects_other_pool_and_null_arguments);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(then_suite());
}
