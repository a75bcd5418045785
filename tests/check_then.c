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
START_TEST(test_then_rejects_null_arguments)
{
  futures_pool_t *p1;
  future_t *ante, *c = NULL;
  struct seen s;
  int x;

  seen_init(&s, 0, NULL);
  ck_assert_int_eq(futures_pool_create(&p1, 1), 0);
  ck_assert_int_eq(futures_submit(p1, task_echo, &x, &ante), 0);
  ck_assert_int_eq(futures_then(NULL, ante, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then(p1, NULL, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then(p1, ante, NULL, &s, &c), EINVAL);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(futures_then_inline(NULL, then_record, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then_inline(ante, NULL, &s, &c), EINVAL);
  ck_assert_int_eq(futures_then_inline(ante, then_record, &s, NULL), EINVAL);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(future_get(ante, NULL), 0);
  future_release(ante);
  ck_assert_int_eq(futures_pool_destroy(p1), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 0);
}
END_TEST

/* ------------------------------------------------------------ anywhere */

/* A task that records the thread it runs in. */
static int
task_whoami(void *arg, void **result)
{
  *(pthread_t *)arg = pthread_self();
  *result = NULL;
  return 0;
}

/*
 * The antecedent is a task of pool A, the continuation names pool B (one
 * worker each): it runs exactly once, on B's worker, with A's outcome.
 */
START_TEST(test_then_across_pools_runs_on_the_named_pool)
{
  futures_pool_t *a, *b;
  future_t *held[1], *c, *w;
  struct tu_crowd g;
  pthread_t b_worker;
  struct seen s;
  void *res = NULL;
  int out;

  seen_init(&s, 0, &out);
  ck_assert_int_eq(futures_pool_create(&a, 1), 0);
  ck_assert_int_eq(futures_pool_create(&b, 1), 0);
  ck_assert_int_eq(futures_submit(b, task_whoami, &b_worker, &w), 0);
  ck_assert_int_eq(wait_no_help(w), 0);
  future_release(w);
  ck_assert_int_eq(tu_crowd_hold(a, &g, held, 1), 0);
  ck_assert_int_eq(futures_then(b, held[0], then_record, &s, &c), 0);
  ck_assert_int_eq(future_is_ready(c), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 0);
  ck_assert_int_eq(tu_crowd_release(&g, held, 1), 0);
  ck_assert_int_eq(wait_no_help(c), 0);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &out);
  ck_assert_int_eq(atomic_load(&s.runs), 1);
  ck_assert_int_eq(s.code, 0);
  ck_assert(pthread_equal(s.thread, b_worker));
  future_release(c);
  ck_assert_int_eq(futures_pool_destroy(a), 0);
  ck_assert_int_eq(futures_pool_destroy(b), 0);
}
END_TEST

#define NPROM 64

struct resolve_all {
  future_t *p[NPROM];
  int vals[NPROM];
};

/* Thread @i of 4 resolves every fourth promise. */
static void
resolve_share(void *arg, int i)
{
  struct resolve_all *r = arg;

  for (int k = i; k < NPROM; k += 4)
    if (future_resolve(r->p[k], &r->vals[k]) != 0)
      r->vals[k] = -1; /* seen by the test through the continuation */
}

/*
 * Continuations on a pool, attached to promises that four threads resolve
 * at once: each runs exactly once with its promise's value, and none runs
 * before its promise is resolved.
 */
START_TEST(test_then_on_a_promise_resolved_from_many_threads)
{
  static struct resolve_all r;
  static struct seen s[NPROM];
  futures_pool_t *pool;
  future_t *c[NPROM];

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int k = 0; k < NPROM; k++) {
    seen_init(&s[k], 0, NULL);
    r.vals[k] = k;
    ck_assert_int_eq(futures_promise_create(&r.p[k]), 0);
    ck_assert_int_eq(futures_then(pool, r.p[k], then_record, &s[k], &c[k]),
                     0);
  }
  for (int k = 0; k < NPROM; k++)
    ck_assert_int_eq(atomic_load(&s[k].runs), 0);
  ck_assert_int_eq(tu_run_threads(4, resolve_share, &r), 0);
  for (int k = 0; k < NPROM; k++) {
    ck_assert_int_eq(wait_no_help(c[k]), 0);
    ck_assert_int_eq(atomic_load(&s[k].runs), 1);
    ck_assert_int_eq(s[k].code, 0);
    ck_assert_ptr_eq(s[k].value, &r.vals[k]);
    ck_assert_int_eq(r.vals[k], k);
    future_release(c[k]);
    future_release(r.p[k]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A continuation waiting on a promise (and one on another pool's held
 * task) when its pool is destroyed settles with ECANCELED, in both modes,
 * and never runs, even when its antecedent settles afterwards.
 */
START_TEST(test_then_foreign_pending_at_destroy_is_ecanceled)
{
  for (int mode = 0; mode < 2; mode++) {
    futures_pool_t *pool, *other;
    future_t *p, *c1, *c2, *held[1];
    struct tu_crowd g;
    struct seen s1, s2;

    seen_init(&s1, 0, NULL);
    seen_init(&s2, 0, NULL);
    ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
    ck_assert_int_eq(futures_pool_create(&other, 1), 0);
    ck_assert_int_eq(futures_promise_create(&p), 0);
    ck_assert_int_eq(tu_crowd_hold(other, &g, held, 1), 0);
    ck_assert_int_eq(futures_then(pool, p, then_record, &s1, &c1), 0);
    ck_assert_int_eq(futures_then(pool, held[0], then_record, &s2, &c2), 0);
    ck_assert_int_eq(futures_pool_destroy_ex(pool, mode == 0
                                                       ? FUTURES_DESTROY_DRAIN
                                                       : FUTURES_DESTROY_CANCEL),
                     0);
    ck_assert_int_eq(future_is_ready(c1), 1);
    ck_assert_int_eq(future_is_ready(c2), 1);
    ck_assert_int_eq(future_get(c1, NULL), ECANCELED);
    ck_assert_int_eq(future_get(c2, NULL), ECANCELED);
    ck_assert_int_eq(future_resolve(p, NULL), 0);
    ck_assert_int_eq(tu_crowd_release(&g, held, 1), 0);
    ck_assert_int_eq(atomic_load(&s1.runs), 0);
    ck_assert_int_eq(atomic_load(&s2.runs), 0);
    future_release(c1);
    future_release(c2);
    future_release(p);
    ck_assert_int_eq(futures_pool_destroy(other), 0);
  }
}
END_TEST

/* ------------------------------------------------------------ inline */

struct resolver {
  future_t *p;
  void *value;
  pthread_t self;
};

static void *
resolver_main(void *arg)
{
  struct resolver *r = arg;

  r->self = pthread_self();
  if (future_resolve(r->p, r->value) != 0)
    r->value = NULL;
  return NULL;
}

/* Resolves @p with @value from a new thread with a @stack-byte stack
 * (0: the default) and joins it; returns that thread's id. */
static pthread_t
resolve_in_thread(future_t *p, void *value, size_t stack)
{
  struct resolver r = {p, value, pthread_self()};
  pthread_attr_t attr;
  pthread_t t;

  ck_assert_int_eq(pthread_attr_init(&attr), 0);
  if (stack != 0)
    ck_assert_int_eq(pthread_attr_setstacksize(&attr, stack), 0);
  ck_assert_int_eq(pthread_create(&t, &attr, resolver_main, &r), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  pthread_attr_destroy(&attr);
  ck_assert_ptr_eq(r.value, value);
  return r.self;
}

/*
 * An inline continuation runs in the thread that resolves its promise,
 * before future_resolve() returns there; attached to a settled future, it
 * runs in the caller before futures_then_inline() returns.
 */
START_TEST(test_then_inline_runs_in_the_settling_thread)
{
  future_t *p, *c, *c2;
  struct seen s, s2;
  pthread_t t;
  int v, out;
  void *res = NULL;

  seen_init(&s, 0, &out);
  seen_init(&s2, EIO, NULL);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_then_inline(p, then_record, &s, &c), 0);
  ck_assert_int_eq(atomic_load(&s.runs), 0);
  ck_assert_int_eq(future_is_ready(c), 0);
  ck_assert_int_eq(future_resolve(c, NULL), EINVAL);
  t = resolve_in_thread(p, &v, 0);
  ck_assert_int_eq(atomic_load(&s.runs), 1);
  ck_assert(pthread_equal(s.thread, t));
  ck_assert_int_eq(future_is_ready(c), 1);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &out);
  ck_assert_ptr_eq(s.value, &v);

  ck_assert_int_eq(futures_then_inline(c, then_record, &s2, &c2), 0);
  ck_assert_int_eq(atomic_load(&s2.runs), 1);
  ck_assert(pthread_equal(s2.thread, pthread_self()));
  ck_assert_int_eq(future_get(c2, NULL), EIO);
  ck_assert_ptr_eq(s2.value, &out);
  future_release(c2);
  future_release(c);
  future_release(p);
}
END_TEST

struct attach_race {
  future_t *p;
  struct seen s[8][64];
  future_t *c[8][64];
  pthread_barrier_t go;
  atomic_int bad;
};

static void
attach_inline_share(void *arg, int i)
{
  struct attach_race *a = arg;

  pthread_barrier_wait(&a->go);
  if (i == 8) {
    if (future_resolve(a->p, a) != 0)
      atomic_fetch_add(&a->bad, 1);
    return;
  }
  for (int k = 0; k < 64; k++)
    if (futures_then_inline(a->p, then_record, &a->s[i][k], &a->c[i][k]) != 0)
      atomic_fetch_add(&a->bad, 1);
}

/*
 * Eight threads attach inline continuations to one promise while a ninth
 * resolves it: every continuation runs exactly once, with the value,
 * whether it was attached before the resolve (run by the resolver) or
 * after (run by the attacher).
 */
START_TEST(test_then_inline_attached_while_settling_runs_once)
{
  static struct attach_race a;

  for (int round = 0; round < 20; round++) {
    ck_assert_int_eq(futures_promise_create(&a.p), 0);
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 64; k++)
        seen_init(&a.s[i][k], 0, NULL);
    atomic_init(&a.bad, 0);
    pthread_barrier_init(&a.go, NULL, 9);
    ck_assert_int_eq(tu_run_threads(9, attach_inline_share, &a), 0);
    pthread_barrier_destroy(&a.go);
    ck_assert_int_eq(atomic_load(&a.bad), 0);
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 64; k++) {
        ck_assert_int_eq(atomic_load(&a.s[i][k].runs), 1);
        ck_assert_ptr_eq(a.s[i][k].value, &a);
        ck_assert_int_eq(future_get(a.c[i][k], NULL), 0);
        future_release(a.c[i][k]);
      }
    future_release(a.p);
  }
}
END_TEST

/* An inline link: passes its input on, counting itself. */
static int
then_pass_count(void *arg, int code, void *value, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = value;
  return code;
}

/*
 * A chain of 100000 inline continuations, resolved from a thread with a
 * 64 KiB stack: the links run one after another in that thread (nested
 * calls would overflow the stack and crash the test).
 */
START_TEST(test_then_inline_chain_of_100000_uses_no_stack)
{
  enum { LINKS = 100000 };
  future_t *p, *cur, *next;
  atomic_int runs;
  void *res = NULL;
  int v;

  atomic_init(&runs, 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  cur = p;
  ck_assert_int_eq(future_retain(cur), 0);
  for (int i = 0; i < LINKS; i++) {
    ck_assert_int_eq(futures_then_inline(cur, then_pass_count, &runs, &next),
                     0);
    future_release(cur); /* the chain holds each link */
    cur = next;
  }
  ck_assert_int_eq(atomic_load(&runs), 0);
  (void)resolve_in_thread(p, &v, 64 * 1024);
  ck_assert_int_eq(atomic_load(&runs), LINKS);
  ck_assert_int_eq(future_get(cur, &res), 0);
  ck_assert_ptr_eq(res, &v);
  future_release(cur);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ follow */

/* A continuation that returns FUTURES_FOLLOW with the future at @arg. */
static int
then_follow(void *arg, int code, void *value, void **result)
{
  (void)code;
  (void)value;
  *result = *(future_t **)arg;
  return FUTURES_FOLLOW;
}

struct follow_task {
  future_t *inner; /* a promise the test resolves */
  future_t *cont;  /* the inline continuation the task made */
  int rc;
  struct tu_latch returned; /* opened as the task returns */
};

/* A task that attaches an inline continuation following @inner, and
 * follows that continuation itself. */
static int
task_follow_inline(void *arg, void **result)
{
  struct follow_task *t = arg;
  future_t *done;

  t->rc = futures_promise_create(&done);
  if (t->rc != 0)
    return t->rc;
  (void)future_resolve(done, NULL);
  t->rc = futures_then_inline(done, then_follow, &t->inner, &t->cont);
  future_release(done);
  if (t->rc != 0)
    return t->rc;
  if ((t->rc = future_retain(t->cont)) != 0)
    return t->rc;
  *result = t->cont;
  tu_latch_open(&t->returned);
  return FUTURES_FOLLOW;
}

/*
 * Flattening: an inline continuation returns a promise (FUTURES_FOLLOW),
 * and a task returns that continuation's future: both stay unsettled
 * until the promise is resolved, then settle with its value; cancelling
 * the task meanwhile only asks (EINPROGRESS) and cancels no promise.
 */
START_TEST(test_then_inline_follow_flattens_a_promise)
{
  futures_pool_t *pool;
  struct follow_task t;
  future_t *task;
  void *res = NULL;
  int v;

  t.inner = t.cont = NULL;
  t.rc = -1;
  tu_latch_init(&t.returned);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&t.inner), 0);
  ck_assert_int_eq(future_retain(t.inner), 0); /* the one FOLLOW consumes */
  ck_assert_int_eq(futures_submit(pool, task_follow_inline, &t, &task), 0);
  tu_latch_wait(&t.returned);
  ck_assert_int_eq(future_wait_for(task, 20 * MS), ETIMEDOUT);
  ck_assert_int_eq(t.rc, 0);
  ck_assert_int_eq(future_is_ready(t.cont), 0);
  ck_assert_int_eq(future_cancel(task), EINPROGRESS);
  ck_assert_int_eq(future_is_ready(t.inner), 0);
  ck_assert_int_eq(future_resolve(t.inner, &v), 0);
  ck_assert_int_eq(wait_no_help(task), 0);
  ck_assert_int_eq(future_get(task, &res), 0);
  ck_assert_ptr_eq(res, &v);
  ck_assert_int_eq(future_get(t.cont, &res), 0);
  ck_assert_ptr_eq(res, &v);
  future_release(t.cont);
  future_release(task);
  future_release(t.inner);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&t.returned);
}
END_TEST

/* A task that returns FUTURES_FOLLOW with whatever @arg points to. */
static int
task_follow_ptr(void *arg, void **result)
{
  *result = *(future_t **)arg;
  return FUTURES_FOLLOW;
}

/*
 * A task following a rejected promise settles with its code; following a
 * NULL future is EINVAL; a task following a promise still pending when
 * its pool is destroyed settles with ECANCELED.
 */
START_TEST(test_then_follow_failure_null_and_destroy)
{
  futures_pool_t *pool;
  future_t *p, *none = NULL, *t1, *t2, *t3;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_reject(p, EPIPE), 0);
  ck_assert_int_eq(futures_submit(pool, task_follow_ptr, &p, &t1), 0);
  ck_assert_int_eq(wait_no_help(t1), 0);
  ck_assert_int_eq(future_get(t1, NULL), EPIPE);
  ck_assert_int_eq(futures_submit(pool, task_follow_ptr, &none, &t2), 0);
  ck_assert_int_eq(future_get(t2, NULL), EINVAL);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(future_retain(p), 0);
  ck_assert_int_eq(futures_submit(pool, task_follow_ptr, &p, &t3), 0);
  ck_assert_int_eq(future_wait_for(t3, 10 * MS), ETIMEDOUT);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(future_get(t3, NULL), ECANCELED);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  future_release(p);
  future_release(t1);
  future_release(t2);
  future_release(t3);
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

/* ------------------------------------------------------------ destroy */

struct race_resolve {
  future_t *p;
  pthread_barrier_t go;
};

/* task_follow_ptr(), noting that it ran (and so consumed a reference). */
static atomic_int follow_ran;

static int
task_follow_ptr_noted(void *arg, void **result)
{
  atomic_store(&follow_ran, 1);
  *result = *(future_t **)arg;
  return FUTURES_FOLLOW;
}

/* Destroys the pool @arg once the barrier opens (thread 1 of 2). */
struct race_destroy {
  struct race_resolve r;
  futures_pool_t *pool;
  int mode, rc;
};

static void
resolve_or_destroy(void *arg, int i)
{
  struct race_destroy *d = arg;

  pthread_barrier_wait(&d->r.go);
  if (i == 0)
    (void)future_resolve(d->r.p, NULL);
  else
    d->rc = futures_pool_destroy_ex(d->pool, d->mode);
}

/*
 * Everything a pool's destroy readies is settled by the time it returns
 * (issue 11 review: the drain could end before destroy settled its
 * foreign waits, and a continuation they readied stayed queued for
 * ever): a task following a promise (settled ECANCELED by destroy) and
 * its same-pool continuation; a continuation on a promise that another
 * thread resolves while destroy runs.
 */
START_TEST(test_then_destroy_settles_everything_it_readies)
{
  for (int round = 0; round < 300; round++) {
    struct race_destroy d;
    future_t *p, *a, *b, *c;
    struct seen sb, sc;

    seen_init(&sb, 0, NULL);
    seen_init(&sc, 0, NULL);
    d.mode = round % 2 ? FUTURES_DESTROY_CANCEL : FUTURES_DESTROY_DRAIN;
    d.rc = -1;
    ck_assert_int_eq(futures_pool_create(&d.pool, 1), 0);
    ck_assert_int_eq(futures_promise_create(&p), 0);
    ck_assert_int_eq(future_retain(p), 0); /* the one FOLLOW consumes */
    atomic_store(&follow_ran, 0);
    ck_assert_int_eq(futures_submit(d.pool, task_follow_ptr_noted, &p, &a),
                     0);
    ck_assert_int_eq(futures_then(d.pool, a, then_record, &sb, &b), 0);
    ck_assert_int_eq(futures_promise_create(&d.r.p), 0);
    ck_assert_int_eq(futures_then(d.pool, d.r.p, then_record, &sc, &c), 0);
    pthread_barrier_init(&d.r.go, NULL, 2);
    ck_assert_int_eq(tu_run_threads(2, resolve_or_destroy, &d), 0);
    pthread_barrier_destroy(&d.r.go);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_msg(future_is_ready(a) && future_is_ready(b) &&
                      future_is_ready(c),
                  "round %d: destroy returned with a future unsettled", round);
    ck_assert_int_eq(future_get(a, NULL), ECANCELED);
    if (d.mode == FUTURES_DESTROY_DRAIN) {
      ck_assert_int_eq(future_get(b, NULL), 0);
      ck_assert_int_eq(atomic_load(&sb.runs), 1);
      ck_assert_int_eq(sb.code, ECANCELED);
    } else {
      ck_assert_int_eq(future_get(b, NULL), ECANCELED);
      ck_assert_int_eq(atomic_load(&sb.runs), 0);
    }
    ck_assert_int_eq(future_get(c, NULL),
                     atomic_load(&sc.runs) == 1 ? 0 : ECANCELED);
    (void)future_resolve(p, NULL);
    if (!atomic_load(&follow_ran))
      future_release(p); /* cancelled unrun: FOLLOW never consumed it */
    future_release(a);
    future_release(b);
    future_release(c);
    future_release(p);
    future_release(d.r.p);
  }
}
END_TEST

/* ------------------------------------------------------------ exit */

static int
then_exit_thread(void *arg, int code, void *value, void **result)
{
  (void)arg;
  (void)code;
  (void)value;
  (void)result;
  pthread_exit(NULL);
}

static void *
resolve_main(void *arg)
{
  (void)future_resolve((future_t *)arg, NULL);
  return NULL;
}

/*
 * An inline continuation that ends its thread (pthread_exit()) settles
 * with EOWNERDEAD, and the inline continuation after it on the same
 * promise still runs (during the unwinding), so nothing is lost.
 */
START_TEST(test_then_inline_thread_exit_loses_no_later_callback)
{
  future_t *p, *c1, *c2;
  struct seen s2;
  pthread_t t;

  seen_init(&s2, 0, NULL);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_then_inline(p, then_exit_thread, NULL, &c1), 0);
  ck_assert_int_eq(futures_then_inline(p, then_record, &s2, &c2), 0);
  ck_assert_int_eq(pthread_create(&t, NULL, resolve_main, p), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_int_eq(future_get(c1, NULL), EOWNERDEAD);
  ck_assert_int_eq(future_is_ready(c2), 1);
  ck_assert_int_eq(atomic_load(&s2.runs), 1);
  future_release(c1);
  future_release(c2);
  future_release(p);
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
  tcase_add_test(tc, test_then_rejects_null_arguments);
  suite_add_tcase(s, tc);

  tc = tcase_create("anywhere");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_then_across_pools_runs_on_the_named_pool);
  tcase_add_test(tc, test_then_on_a_promise_resolved_from_many_threads);
  tcase_add_test(tc, test_then_foreign_pending_at_destroy_is_ecanceled);
  suite_add_tcase(s, tc);

  tc = tcase_create("inline");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_then_inline_runs_in_the_settling_thread);
  tcase_add_test(tc, test_then_inline_attached_while_settling_runs_once);
  tcase_add_test(tc, test_then_inline_chain_of_100000_uses_no_stack);
  suite_add_tcase(s, tc);

  tc = tcase_create("follow");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_then_inline_follow_flattens_a_promise);
  tcase_add_test(tc, test_then_follow_failure_null_and_destroy);
  tcase_add_test(tc, test_then_destroy_settles_everything_it_readies);
  tcase_add_test(tc, test_then_inline_thread_exit_loses_no_later_callback);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(then_suite());
}
