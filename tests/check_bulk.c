/* SPDX-License-Identifier: MIT */
/*
 * check_bulk: futures_submit_all() (n tasks in one call, all or nothing)
 * and futures_parallel_for() (an index range in chunks). Every task and
 * chunk counts what it touched in atomics; the test thread checks that
 * each index was touched exactly once after the join.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *bulk_suite(void);

#define MS 1000000LL /* nanoseconds per millisecond */

/* A task that counts its run in the atomic int at @arg. */
static int
task_count(void *arg, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = arg;
  return 0;
}

/* A drop function that counts its calls in the atomic int at @arg. */
static void
drop_count(void *arg)
{
  atomic_fetch_add((atomic_int *)arg, 100);
}

/* ------------------------------------------------------------ submit_all */

/*
 * futures_submit_all() of 10,000 tasks: every future is usable with
 * futures_join_all(), every task ran exactly once (also after the pool
 * drained) and results[i] is task i's result.
 */
START_TEST(test_submit_all_10000_tasks_each_run_once)
{
  enum { N = 10000 };
  futures_pool_t *pool;
  futures_task_t *tasks = calloc(N, sizeof(*tasks));
  future_t **fs = calloc(N, sizeof(*fs));
  atomic_int *runs = calloc(N, sizeof(*runs));
  void **results = calloc(N, sizeof(*results));

  ck_assert(tasks != NULL && fs != NULL && runs != NULL && results != NULL);
  for (int i = 0; i < N; i++) {
    atomic_init(&runs[i], 0);
    tasks[i] = (futures_task_t)FUTURES_TASK(task_count, &runs[i], drop_count);
  }
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit_all(pool, tasks, N, fs), 0);
  for (int i = 0; i < N; i++)
    ck_assert_ptr_nonnull(fs[i]);
  ck_assert_int_eq(futures_join_all(fs, N, results), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_eq(results[i], &runs[i]);
    ck_assert_int_eq(atomic_load(&runs[i]), 1);
  }
  for (int i = 0; i < N; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(atomic_load(&runs[i]), 1);
  free(results);
  free(runs);
  free(fs);
  free(tasks);
}
END_TEST

struct order_log {
  atomic_int next;
  int order[8];
};

struct order_arg {
  struct order_log *log;
  int index;
};

static int
task_log_order(void *arg, void **result)
{
  struct order_arg *a = arg;

  a->log->order[atomic_fetch_add(&a->log->next, 1)] = a->index;
  *result = NULL;
  return 0;
}

/*
 * A batch from outside the pool is queued in order on the shared FIFO:
 * with the only worker held, then released, it runs tasks 0..7 in order
 * (waited for with a timed join, which does not run tasks in the caller).
 */
START_TEST(test_submit_all_queues_tasks_in_order)
{
  enum { N = 8 };
  futures_pool_t *pool;
  future_t *held, *fs[N];
  futures_task_t tasks[N];
  struct order_arg args[N];
  struct order_log log;
  struct tu_hold h;
  struct timespec dl;

  tu_hold_init(&h, NULL);
  atomic_init(&log.next, 0);
  for (int i = 0; i < N; i++) {
    args[i].log = &log;
    args[i].index = i;
    tasks[i] = (futures_task_t)FUTURES_TASK(task_log_order, &args[i], NULL);
  }
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit_all(pool, tasks, N, fs), 0);
  tu_latch_open(&h.release);
  dl = tu_deadline_in(20000 * MS);
  ck_assert_int_eq(futures_join_all_until(fs, N, NULL, &dl), 0);
  ck_assert_int_eq(atomic_load(&log.next), N);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(log.order[i], i);

  future_release(held);
  for (int i = 0; i < N; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/* futures_submit_all() with n == 0 returns 0 and touches nothing. */
START_TEST(test_submit_all_empty_returns_zero)
{
  futures_pool_t *pool;
  futures_task_t tasks[1] = {FUTURES_TASK(task_count, NULL, NULL)};
  future_t *fs[1] = {(future_t *)&fs};

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit_all(pool, tasks, 0, fs), 0);
  ck_assert_ptr_eq(fs[0], (future_t *)&fs);
  ck_assert_int_eq(futures_submit_all(pool, NULL, 0, NULL), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * All or nothing: a NULL fn anywhere in the array gives EINVAL, every
 * futures[i] NULL, and no task of the batch ever runs or is dropped
 * (checked after the pool has drained).
 */
START_TEST(test_submit_all_null_fn_rejects_whole_batch)
{
  enum { N = 10 };
  futures_pool_t *pool;
  futures_task_t tasks[N];
  future_t *fs[N];
  atomic_int runs[N];

  for (int i = 0; i < N; i++) {
    atomic_init(&runs[i], 0);
    tasks[i] = (futures_task_t)FUTURES_TASK(task_count, &runs[i], drop_count);
    fs[i] = (future_t *)&fs; /* sentinel */
  }
  tasks[6].fn = NULL;
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit_all(pool, tasks, N, fs), EINVAL);
  for (int i = 0; i < N; i++)
    ck_assert_ptr_null(fs[i]);
  ck_assert_int_eq(futures_submit_all(pool, NULL, N, fs), EINVAL);
  tasks[6].fn = task_count;
  ck_assert_int_eq(futures_submit_all(pool, tasks, N, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(atomic_load(&runs[i]), 0);
}
END_TEST

/* A task that queues a batch of its own with futures_submit_all() and
 * joins it. */
struct inner_batch {
  futures_pool_t *pool;
  atomic_int runs[8];
  int submit_rc, join_rc;
  void *results[8];
};

static int
task_submit_all_inside(void *arg, void **result)
{
  struct inner_batch *b = arg;
  futures_task_t tasks[8];
  future_t *f[8];

  for (int i = 0; i < 8; i++)
    tasks[i] = (futures_task_t)FUTURES_TASK(task_count, &b->runs[i], NULL);
  b->submit_rc = futures_submit_all(b->pool, tasks, 8, f);
  if (b->submit_rc != 0)
    return b->submit_rc;
  b->join_rc = futures_join_all(f, 8, b->results);
  for (int i = 0; i < 8; i++)
    future_release(f[i]);
  *result = b;
  return 0;
}

/*
 * futures_submit_all() from inside a task (its In a task line): on a
 * 1-thread pool a task queues 8 tasks in one batch and joins them; the
 * only worker is the joiner, so it runs them itself, each exactly once.
 */
START_TEST(test_submit_all_inside_a_task_on_one_thread_pool)
{
  struct inner_batch b;
  futures_pool_t *pool;
  future_t *f;
  void *res = NULL;

  b.submit_rc = b.join_rc = -1;
  for (int i = 0; i < 8; i++) {
    atomic_init(&b.runs[i], 0);
    b.results[i] = NULL;
  }
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  b.pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_submit_all_inside, &b, &f), 0);
  ck_assert_int_eq(future_wait_for(f, 30000 * MS), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, &b);
  ck_assert_int_eq(b.submit_rc, 0);
  ck_assert_int_eq(b.join_rc, 0);
  for (int i = 0; i < 8; i++) {
    ck_assert_int_eq(atomic_load(&b.runs[i]), 1);
    ck_assert_ptr_eq(b.results[i], &b.runs[i]);
  }
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ parallel_for */

/* What the chunks of one futures_parallel_for() call touched. */
struct range_log {
  size_t begin, end, grain; /* the call's range and grain */
  atomic_uchar *hits;       /* per index in [0, end) */
  atomic_long calls;        /* chunks run */
  atomic_int bad_chunk;     /* a chunk outside the range, empty or > grain */
};

static int
range_touch(void *arg, size_t begin, size_t end)
{
  struct range_log *l = arg;

  atomic_fetch_add(&l->calls, 1);
  if (begin >= end || begin < l->begin || end > l->end ||
      (l->grain != 0 && end - begin > l->grain)) {
    atomic_store(&l->bad_chunk, 1);
    return 0;
  }
  for (size_t i = begin; i < end; i++)
    atomic_fetch_add_explicit(&l->hits[i], 1, memory_order_relaxed);
  return 0;
}

/* Runs futures_parallel_for(begin, end, grain) and checks every index. */
static void
check_range(size_t nthreads, size_t begin, size_t end, size_t grain)
{
  futures_pool_t *pool;
  future_t *f = NULL;
  struct range_log l;
  void *res = &l;
  size_t bad = 0;

  l.begin = begin;
  l.end = end;
  l.grain = grain;
  l.hits = calloc(end + 1, sizeof(*l.hits));
  ck_assert_ptr_nonnull(l.hits);
  atomic_init(&l.calls, 0);
  atomic_init(&l.bad_chunk, 0);
  ck_assert_int_eq(futures_pool_create(&pool, nthreads), 0);
  ck_assert_int_eq(
      futures_parallel_for(pool, begin, end, grain, range_touch, &l, &f), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_null(res);
  ck_assert_int_eq(atomic_load(&l.bad_chunk), 0);
  for (size_t i = 0; i <= end; i++) {
    unsigned want = (i >= begin && i < end) ? 1 : 0;

    if (atomic_load(&l.hits[i]) != want)
      bad++;
  }
  ck_assert_msg(bad == 0, "%zu indices not touched exactly once (grain %zu)",
                bad, grain);
  if (grain != 0)
    ck_assert_int_ge(atomic_load(&l.calls),
                     (long)((end - begin + grain - 1) / grain));
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(l.hits);
}

static const size_t grains[] = {1, 7, 1000, 0};

/*
 * futures_parallel_for() over [0, 1,000,000) touches every index exactly
 * once, with grains 1, 7, 1000 and 0 (auto); each chunk is non-empty,
 * inside the range and at most @grain long; the result is NULL.
 */
START_TEST(test_parallel_for_touches_every_index_once)
{
  check_range(2, 0, 1000000, grains[_i]);
}
END_TEST

/*
 * A range not starting at 0 and not a multiple of the grain: [5, 1008)
 * with grain 10 touches exactly those indices, on a 1-thread pool.
 */
START_TEST(test_parallel_for_offset_range)
{
  check_range(1, 5, 1008, 10);
  check_range(3, 5, 1008, 0);
}
END_TEST

static int
range_count_calls(void *arg, size_t begin, size_t end)
{
  (void)begin;
  (void)end;
  atomic_fetch_add((atomic_int *)arg, 1);
  return 0;
}

/*
 * An empty range (begin == end) gives a future that completes with 0 and
 * a NULL result without calling fn; end < begin and a NULL fn are EINVAL
 * with *future set to NULL.
 */
START_TEST(test_parallel_for_empty_range_and_bad_arguments)
{
  futures_pool_t *pool;
  future_t *f;
  atomic_int calls = 0;
  void *res = &res;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(
      futures_parallel_for(pool, 42, 42, 1, range_count_calls, &calls, &f), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_null(res);
  future_release(f);

  f = (future_t *)&f;
  ck_assert_int_eq(
      futures_parallel_for(pool, 43, 42, 1, range_count_calls, &calls, &f),
      EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_parallel_for(pool, 0, 10, 1, NULL, &calls, &f),
                   EINVAL);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(
      futures_parallel_for(NULL, 0, 10, 1, range_count_calls, &calls, &f),
      EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&calls), 0);
}
END_TEST

/* Chunks record whether the ones that fail ran; fail at 300 and 700. */
struct failing {
  size_t fail_a, fail_b; /* begin of the failing chunks */
  atomic_int ran_a, ran_b;
};

static int
range_fail_some(void *arg, size_t begin, size_t end)
{
  struct failing *x = arg;

  (void)end;
  if (begin == x->fail_a) {
    atomic_store(&x->ran_a, 1);
    return EDOM;
  }
  if (begin == x->fail_b) {
    atomic_store(&x->ran_b, 1);
    return ERANGE;
  }
  return 0;
}

/*
 * A failing chunk fails the future with its code (one at 500: EDOM). With
 * failures at 300 (EDOM) and 700 (ERANGE) the code is EDOM whenever chunk 300
 * ran (it may be skipped once 700 failed). 50 rounds on 2 workers.
 */
START_TEST(test_parallel_for_reports_lowest_failing_chunk)
{
  futures_pool_t *pool;
  future_t *f;
  void *res = &res;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  {
    struct failing x = {500, (size_t)-1, 0, 0};

    ck_assert_int_eq(
        futures_parallel_for(pool, 0, 1000, 10, range_fail_some, &x, &f), 0);
    ck_assert_int_eq(future_get(f, &res), EDOM);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(atomic_load(&x.ran_a), 1);
    future_release(f);
  }
  for (int round = 0; round < 50; round++) {
    struct failing x = {300, 700, 0, 0};
    int rc;

    ck_assert_int_eq(
        futures_parallel_for(pool, 0, 1000, 10, range_fail_some, &x, &f), 0);
    rc = future_get(f, NULL);
    ck_assert_msg(rc == EDOM || rc == ERANGE, "round %d: code %d", round, rc);
    if (atomic_load(&x.ran_a))
      ck_assert_msg(rc == EDOM, "round %d: chunk 300 failed but code %d", round,
                    rc);
    else
      ck_assert_int_eq(rc, ERANGE);
    future_release(f);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A thread that waits for a futures_parallel_for() future takes part in
 * the work: with the only worker held by a latch, future_get() from the
 * test thread completes the whole range [0, 1000) by itself.
 */
START_TEST(test_parallel_for_waiter_takes_part_in_the_work)
{
  futures_pool_t *pool;
  future_t *held, *f;
  struct tu_hold h;
  struct range_log l;

  tu_hold_init(&h, NULL);
  l.begin = 0;
  l.end = 1000;
  l.grain = 10;
  l.hits = calloc(l.end + 1, sizeof(*l.hits));
  ck_assert_ptr_nonnull(l.hits);
  atomic_init(&l.calls, 0);
  atomic_init(&l.bad_chunk, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_parallel_for(pool, 0, 1000, 10, range_touch, &l, &f),
                   0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_is_ready(held), 0);
  ck_assert_int_eq(atomic_load(&l.bad_chunk), 0);
  for (size_t i = 0; i < 1000; i++)
    ck_assert_uint_eq(atomic_load(&l.hits[i]), 1);

  tu_latch_open(&h.release);
  future_release(held);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(l.hits);
  tu_hold_destroy(&h);
}
END_TEST

struct inner_for {
  futures_pool_t *pool;
  atomic_llong sum;
  atomic_long count;
  int submit_rc;
  int get_rc;
};

static int
range_sum(void *arg, size_t begin, size_t end)
{
  struct inner_for *x = arg;

  for (size_t i = begin; i < end; i++) {
    atomic_fetch_add(&x->sum, (long long)i);
    atomic_fetch_add(&x->count, 1);
  }
  return 0;
}

static int
task_parallel_for_inside(void *arg, void **result)
{
  struct inner_for *x = arg;
  future_t *f;

  x->submit_rc = futures_parallel_for(x->pool, 0, 10000, 100, range_sum, x, &f);
  if (x->submit_rc != 0)
    return x->submit_rc;
  x->get_rc = future_get(f, NULL);
  future_release(f);
  *result = NULL;
  return 0;
}

/*
 * futures_parallel_for() called from inside a task on a 1-thread pool and
 * waited for with future_get() completes (the waiting worker takes part in
 * the work) and covers [0, 10000) exactly: count 10000, sum 49,995,000.
 */
START_TEST(test_parallel_for_inside_task_on_one_thread_pool)
{
  futures_pool_t *pool;
  future_t *f;
  struct inner_for x;

  atomic_init(&x.sum, 0);
  atomic_init(&x.count, 0);
  x.submit_rc = x.get_rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  x.pool = pool;
  ck_assert_int_eq(futures_submit(pool, task_parallel_for_inside, &x, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(x.submit_rc, 0);
  ck_assert_int_eq(x.get_rc, 0);
  ck_assert_int_eq(atomic_load(&x.count), 10000);
  ck_assert_int_eq(atomic_load(&x.sum), 49995000LL);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * futures_parallel_for() futures mix with task futures in
 * futures_join_all(): two ranges and a task joined together.
 */
START_TEST(test_parallel_for_futures_join_with_task_futures)
{
  futures_pool_t *pool;
  future_t *fs[3];
  struct inner_for x;
  atomic_int runs = 0;
  void *results[3];

  atomic_init(&x.sum, 0);
  atomic_init(&x.count, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(
      futures_parallel_for(pool, 0, 5000, 0, range_sum, &x, &fs[0]), 0);
  ck_assert_int_eq(futures_submit(pool, task_count, &runs, &fs[1]), 0);
  ck_assert_int_eq(
      futures_parallel_for(pool, 5000, 10000, 3, range_sum, &x, &fs[2]), 0);
  ck_assert_int_eq(futures_join_all(fs, 3, results), 0);
  ck_assert_ptr_null(results[0]);
  ck_assert_ptr_eq(results[1], &runs);
  ck_assert_ptr_null(results[2]);
  ck_assert_int_eq(atomic_load(&x.count), 10000);
  ck_assert_int_eq(atomic_load(&x.sum), 49995000LL);
  for (int i = 0; i < 3; i++)
    future_release(fs[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* One thread's own futures_parallel_for() over its own range log. */
struct pf_caller {
  futures_pool_t *pool;
  struct tu_count lined_up; /* all 4 call at once */
  struct range_log l[4];
  int rc[4], get_rc[4];
};

static void
pf_caller_thread(void *arg, int i)
{
  struct pf_caller *c = arg;
  future_t *f = NULL;

  tu_count_down(&c->lined_up);
  tu_count_wait(&c->lined_up);
  c->rc[i] = futures_parallel_for(c->pool, 0, c->l[i].end, c->l[i].grain,
                                  range_touch, &c->l[i], &f);
  if (c->rc[i] == 0) {
    c->get_rc[i] = future_get(f, NULL);
    future_release(f);
  }
}

/*
 * futures_parallel_for() from 4 threads lined up at once on one 2-worker
 * pool (its Threads line): every index of every loop is touched exactly once.
 */
START_TEST(test_parallel_for_from_many_threads_at_once)
{
  /* Long enough for the 4 loops to overlap; a tenth under valgrind. */
  size_t N = (size_t)tu_scaled(400000, 40000);
  struct pf_caller *c = calloc(1, sizeof(*c));

  ck_assert_ptr_nonnull(c);
  tu_count_init(&c->lined_up, 4);
  ck_assert_int_eq(futures_pool_create(&c->pool, 2), 0);
  for (int i = 0; i < 4; i++) {
    c->l[i].begin = 0;
    c->l[i].end = N;
    c->l[i].grain = 100;
    c->l[i].hits = calloc(N, sizeof(*c->l[i].hits));
    ck_assert_ptr_nonnull(c->l[i].hits);
    atomic_init(&c->l[i].calls, 0);
    atomic_init(&c->l[i].bad_chunk, 0);
    c->rc[i] = c->get_rc[i] = -1;
  }
  ck_assert_int_eq(tu_run_threads(4, pf_caller_thread, c), 0);
  for (int i = 0; i < 4; i++) {
    size_t bad = 0;

    ck_assert_int_eq(c->rc[i], 0);
    ck_assert_int_eq(c->get_rc[i], 0);
    ck_assert_int_eq(atomic_load(&c->l[i].bad_chunk), 0);
    for (size_t k = 0; k < N; k++)
      bad += atomic_load(&c->l[i].hits[k]) != 1;
    ck_assert_msg(bad == 0, "loop %d: %zu indices not touched exactly once",
                  i, bad);
    free(c->l[i].hits);
  }
  ck_assert_int_eq(futures_pool_destroy(c->pool), 0);
  tu_count_destroy(&c->lined_up);
  free(c);
}
END_TEST

Suite *
bulk_suite(void)
{
  Suite *s = suite_create("bulk");
  TCase *tc;

  tc = tcase_create("submit_all");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_submit_all_10000_tasks_each_run_once);
  tcase_add_test(tc, test_submit_all_queues_tasks_in_order);
  tcase_add_test(tc, test_submit_all_empty_returns_zero);
  tcase_add_test(tc, test_submit_all_null_fn_rejects_whole_batch);
  tcase_add_test(tc, test_submit_all_inside_a_task_on_one_thread_pool);
  suite_add_tcase(s, tc);

  tc = tcase_create("parallel_for");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_parallel_for_touches_every_index_once, 0,
                      (int)(sizeof(grains) / sizeof(grains[0])));
  tcase_add_test(tc, test_parallel_for_offset_range);
  tcase_add_test(tc, test_parallel_for_empty_range_and_bad_arguments);
  tcase_add_test(tc, test_parallel_for_reports_lowest_failing_chunk);
  tcase_add_test(tc, test_parallel_for_waiter_takes_part_in_the_work);
  tcase_add_test(tc, test_parallel_for_inside_task_on_one_thread_pool);
  tcase_add_test(tc, test_parallel_for_futures_join_with_task_futures);
  tcase_add_test(tc, test_parallel_for_from_many_threads_at_once);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(bulk_suite());
}
