/* SPDX-License-Identifier: MIT */
/*
 * check_submit: futures_submit() queues tasks whose values come back
 * through future_get(), refuses bad arguments, never waits for the task,
 * and runs every accepted task exactly once, whoever submitted it.
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

Suite *submit_suite(void);

/* ------------------------------------------------------------ helpers */

/* The task of most tests: result = arg + 1, so values can be checked. */
static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

static atomic_int count_runs;

static int
count_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  atomic_fetch_add(&count_runs, 1);
  return 0;
}

/* Holds workers: see hold_workers(). */
struct hold {
  struct tu_count started;
  struct tu_latch gate;
};

static int
hold_task(void *arg, void **result)
{
  struct hold *h = arg;

  tu_count_down(&h->started);
  tu_latch_wait(&h->gate);
  *result = h;
  return 0;
}

/*
 * Submits @n hold tasks and waits (on a countdown, not on the futures, so
 * the test thread cannot run them itself) until @n workers are held.
 */
static void
hold_workers(futures_pool_t *pool, struct hold *h, future_t **futures, size_t n)
{
  size_t i;

  tu_count_init(&h->started, (long)n);
  tu_latch_init(&h->gate);
  for (i = 0; i < n; i++)
    ck_assert_int_eq(futures_submit(pool, hold_task, h, &futures[i]), 0);
  tu_count_wait(&h->started);
}

static void
unhold_workers(struct hold *h, future_t **futures, size_t n)
{
  size_t i;

  tu_latch_open(&h->gate);
  for (i = 0; i < n; i++) {
    ck_assert_int_eq(future_get(futures[i], NULL), 0);
    future_release(futures[i]);
  }
  tu_count_destroy(&h->started);
  tu_latch_destroy(&h->gate);
}

/* ------------------------------------------------------------ basic */

/* A task's result comes back through future_get(), with code 0. */
START_TEST(test_submit_returns_future_with_task_value)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)41, &f), 0);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, (void *)42);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * Each of 1000 futures carries its own task's value (no mix-ups between
 * futures); 1000 is enough to keep 4 workers and the queue busy.
 */
START_TEST(test_submit_each_future_gets_its_own_task_value)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *f[N];
  uintptr_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 4), 0);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(
        futures_submit(pool, plus_one_task, (void *)(i * 7), &f[i]), 0);
    ck_assert_ptr_nonnull(f[i]);
  }
  for (i = 0; i < N; i++) {
    void *r = NULL;

    ck_assert_int_eq(future_get(f[i], &r), 0);
    ck_assert_ptr_eq(r, (void *)(i * 7 + 1));
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Returns its own argument as the result. */
static int
arg_identity_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* The task receives exactly the @arg pointer that was submitted. */
START_TEST(test_submit_passes_arg_unchanged_to_task)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  int x;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, arg_identity_task, &x, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, &x);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Succeeds without storing a result. */
static int
no_store_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return 0;
}

/* *result starts as NULL: a task that stores nothing yields NULL. */
START_TEST(test_submit_task_that_stores_nothing_yields_null_result)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  int sentinel;
  void *r = &sentinel;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, no_store_task, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_null(r);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Records what the task saw as *result on entry. */
static int
initial_result_task(void *arg, void **result)
{
  *(void **)arg = *result;
  *result = arg;
  return 0;
}

/* The task itself finds *result == NULL on entry (not stale memory). */
START_TEST(test_submit_task_result_starts_as_null)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  int sentinel;
  void *seen = &sentinel;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, initial_result_task, &seen, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_ptr_null(seen);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * NULL pool, fn or out pointer is EINVAL; *future is set to NULL (it starts
 * as a non-NULL sentinel); and the task never runs: after a draining
 * destroy, which runs every accepted task, the counter is still 0.
 */
START_TEST(test_submit_with_null_argument_returns_einval_and_runs_nothing)
{
  futures_pool_t *pool = NULL;
  future_t *f;

  atomic_store(&count_runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit(NULL, count_task, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit(pool, NULL, NULL, &f), EINVAL);
  ck_assert_ptr_null(f);
  ck_assert_int_eq(futures_submit(pool, count_task, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(count_runs, 0);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/*
 * submit never waits for the task to run: with the only worker held, 1000
 * submits all return (a blocking submit would hang until the timeout).
 */
START_TEST(test_submit_does_not_wait_for_the_task_to_run)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *held[1], *f[N];
  struct hold h;
  int i;

  atomic_store(&count_runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  hold_workers(pool, &h, held, 1);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, count_task, NULL, &f[i]), 0);
  /* Nothing ran: the worker is held and nobody waited on a future. */
  ck_assert_int_eq(count_runs, 0);
  unhold_workers(&h, held, 1);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(future_get(f[i], NULL), 0);
    future_release(f[i]);
  }
  ck_assert_int_eq(count_runs, N);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Records the order in which tasks started. */
struct order {
  atomic_size_t next;
  size_t seen[200];
  struct tu_count done;
};

struct order_arg {
  struct order *o;
  size_t i;
};

static int
order_task(void *arg, void **result)
{
  struct order_arg *a = arg;
  size_t slot = atomic_fetch_add(&a->o->next, 1);

  (void)result;
  if (slot < 200)
    a->o->seen[slot] = a->i;
  tu_count_down(&a->o->done);
  return 0;
}

/*
 * Submits from outside the pool go to the thread's own ring, first in, first
 * out: on one worker, 200 tasks queued behind a held task start in order.
 * The test waits on a countdown, so only the worker runs them.
 */
static void
fifo_order_on_one_worker(unsigned flags)
{
  enum { N = 200 };
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *held[1], *f[N];
  struct order_arg a[N];
  struct order o;
  struct hold h;
  size_t i;

  atomic_init(&o.next, 0);
  tu_count_init(&o.done, N);
  opts.nthreads = 1;
  opts.flags = flags;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  hold_workers(pool, &h, held, 1);
  for (i = 0; i < N; i++) {
    a[i].o = &o;
    a[i].i = i;
    ck_assert_int_eq(futures_submit(pool, order_task, &a[i], &f[i]), 0);
  }
  tu_latch_open(&h.gate);
  tu_count_wait(&o.done);
  unhold_workers(&h, held, 1);
  ck_assert_uint_eq(o.next, N);
  for (i = 0; i < N; i++) {
    ck_assert_uint_eq(o.seen[i], i);
    ck_assert_int_eq(future_get(f[i], NULL), 0);
    future_release(f[i]);
  }
  tu_count_destroy(&o.done);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}

START_TEST(test_submit_from_outside_runs_tasks_in_fifo_order)
{
  fifo_order_on_one_worker(0);
}
END_TEST

/*
 * FUTURES_POOL_BATCH: the one worker takes up to 8 tasks at once and keeps
 * all but the first in its deque, whose own end it pops newest first: the
 * batch must go in newest first for the 200 to start in order.
 */
START_TEST(test_submit_batch_pool_starts_oldest_first_on_one_worker)
{
  fifo_order_on_one_worker(FUTURES_POOL_BATCH);
}
END_TEST

/*
 * Issue 10, defect 8: workers take one outside thread's tasks oldest first,
 * one at a time, so when task j starts, at most nworkers - 1 tasks that the
 * same thread submitted before it have not started (they are in the other
 * workers' hands, between taking a task and starting it). Each task takes
 * its start rank, then spins 20 us so that a worker taking a batch would
 * hold it long enough for the other to overtake it.
 */
#define RANK_N       256
#define RANK_WORKERS 2

struct rank_run {
  atomic_long next;
  long rank[RANK_N]; /* start rank of each task, by submission index */
  struct tu_count done;
};

struct rank_arg {
  struct rank_run *r;
  int i;
};

static int
rank_task(void *arg, void **result)
{
  struct rank_arg *a = arg;

  a->r->rank[a->i] = atomic_fetch_add(&a->r->next, 1);
  tu_spin_for(20000);
  *result = NULL;
  tu_count_down(&a->r->done);
  return 0;
}

/*
 * Runs RANK_N rank tasks from this thread on a RANK_WORKERS pool whose
 * workers are held while they are submitted (one by one, or with one
 * futures_submit_all() if @batch), waits on the countdown (never helping),
 * then joins. Returns the largest number of earlier-submitted tasks that
 * started after a task, and that task's index in *@worst.
 */
static long
rank_overtaken(int batch, unsigned flags, int *worst)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *held[RANK_WORKERS], *f[RANK_N];
  futures_task_t tasks[RANK_N];
  struct rank_arg a[RANK_N];
  struct rank_run *r = calloc(1, sizeof(*r));
  struct hold h;
  long max = 0;

  ck_assert_ptr_nonnull(r);
  atomic_init(&r->next, 0);
  tu_count_init(&r->done, RANK_N);
  opts.nthreads = RANK_WORKERS;
  opts.flags = flags;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  hold_workers(pool, &h, held, RANK_WORKERS);
  for (int i = 0; i < RANK_N; i++) {
    a[i].r = r;
    a[i].i = i;
    tasks[i] = (futures_task_t)FUTURES_TASK(rank_task, &a[i], NULL);
    if (!batch)
      ck_assert_int_eq(futures_submit(pool, rank_task, &a[i], &f[i]), 0);
  }
  if (batch)
    ck_assert_int_eq(futures_submit_all(pool, tasks, RANK_N, f), 0);
  tu_latch_open(&h.gate);
  tu_count_wait(&r->done);
  unhold_workers(&h, held, RANK_WORKERS);
  ck_assert_int_eq(futures_join_all(f, RANK_N, NULL), 0);
  for (int i = 0; i < RANK_N; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  *worst = 0;
  for (int j = 0; j < RANK_N; j++) {
    long n = 0;

    for (int i = 0; i < j; i++)
      n += r->rank[i] > r->rank[j];
    if (n > max) {
      max = n;
      *worst = j;
    }
  }
  tu_count_destroy(&r->done);
  free(r);
  return max;
}

/*
 * futures_submit() from one outside thread: no task starts ahead of more
 * than nworkers - 1 of the same thread's earlier tasks (issue 10, defect 8:
 * workers took batches of 32 and ran them newest first).
 */
START_TEST(test_submit_from_one_thread_starts_tasks_oldest_first)
{
  int worst;
  long n = rank_overtaken(0, 0, &worst);

  ck_assert_msg(n <= RANK_WORKERS - 1,
                "task %d started before %ld tasks submitted earlier by the "
                "same thread (at most %d may be in other workers' hands)",
                worst, n, RANK_WORKERS - 1);
}
END_TEST

/* The same for one futures_submit_all() of all the tasks (defect 8). */
START_TEST(test_submit_all_from_one_thread_starts_tasks_oldest_first)
{
  int worst;
  long n = rank_overtaken(1, 0, &worst);

  ck_assert_msg(n <= RANK_WORKERS - 1,
                "task %d started before %ld tasks submitted earlier in the "
                "same futures_submit_all() (at most %d may be in other "
                "workers' hands)",
                worst, n, RANK_WORKERS - 1);
}
END_TEST

/*
 * FUTURES_POOL_BATCH loosens that order to its stated bound: when a task
 * starts, at most 8 * nworkers - 1 of the tasks the same thread submitted
 * earlier are still to start (each worker holds at most the one it starts
 * and 7 in its deque).
 */
START_TEST(test_submit_batch_pool_starts_within_its_bound)
{
  int worst;
  long n = rank_overtaken(0, FUTURES_POOL_BATCH, &worst);

  ck_assert_msg(n <= 8 * RANK_WORKERS - 1,
                "task %d started before %ld tasks submitted earlier by the "
                "same thread (at most %d in a FUTURES_POOL_BATCH pool)",
                worst, n, 8 * RANK_WORKERS - 1);
}
END_TEST

/*
 * FUTURES_POOL_BATCH takes several at once: 16 tasks queued behind two
 * held workers; the first task to start waits until a second one starts.
 * A worker that takes one task at a time gives the other tasks 0 and 1
 * (the first two taken); a batch pool gives the first worker tasks 0-7,
 * so the other starts task 8 (the ring's oldest) or 7 (stolen from the
 * far end of the first one's deque).
 */
#define TAKE_N 16

struct take_run {
  atomic_int started;      /* tasks started so far */
  int first, second;       /* indices of the first two to start */
  struct tu_latch second_in;
  struct tu_count done;
};

struct take_arg {
  struct take_run *r;
  int i;
};

static int
take_task(void *arg, void **result)
{
  struct take_arg *a = arg;
  int rank = atomic_fetch_add(&a->r->started, 1);

  if (rank == 0) {
    a->r->first = a->i;
    tu_latch_wait(&a->r->second_in);
  } else if (rank == 1) {
    a->r->second = a->i;
    tu_latch_open(&a->r->second_in);
  }
  *result = NULL;
  tu_count_down(&a->r->done);
  return 0;
}

/* Runs the scenario above; with @prio, one high task has run in the pool
 * first. Gives the indices of the first two tasks to start, lower first. */
static void
take_scenario(int prio, int *lo_out, int *hi_out)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *held[2], *f[TAKE_N];
  struct take_arg a[TAKE_N];
  struct take_run r;
  struct hold h;
  int lo, hi;

  atomic_init(&r.started, 0);
  r.first = r.second = -1;
  tu_latch_init(&r.second_in);
  tu_count_init(&r.done, TAKE_N);
  opts.nthreads = 2;
  opts.flags = FUTURES_POOL_BATCH;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  if (prio) {
    futures_task_t t = FUTURES_TASK(count_task, NULL, NULL);
    future_t *hf;

    t.priority = FUTURES_PRIORITY_HIGH;
    ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &hf), 0);
    ck_assert_int_eq(future_get(hf, NULL), 0);
    future_release(hf);
  }
  hold_workers(pool, &h, held, 2);
  for (int i = 0; i < TAKE_N; i++) {
    a[i].r = &r;
    a[i].i = i;
    ck_assert_int_eq(futures_submit(pool, take_task, &a[i], &f[i]), 0);
  }
  tu_latch_open(&h.gate);
  tu_count_wait(&r.done); /* never helps: only the workers run them */
  unhold_workers(&h, held, 2);
  ck_assert_int_eq(futures_join_all(f, TAKE_N, NULL), 0);
  for (int i = 0; i < TAKE_N; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  lo = r.first < r.second ? r.first : r.second;
  hi = r.first < r.second ? r.second : r.first;
  tu_latch_destroy(&r.second_in);
  tu_count_destroy(&r.done);
  *lo_out = lo;
  *hi_out = hi;
}

START_TEST(test_submit_batch_pool_worker_takes_several_at_once)
{
  int lo, hi;

  take_scenario(0, &lo, &hi);
  ck_assert_msg(lo == 0 && (hi == 7 || hi == 8),
                "the first two tasks to start were %d and %d: expected 0 "
                "and 7 or 8 (a worker that took tasks 0-7 at once)",
                lo, hi);
}
END_TEST

/*
 * Once the pool has seen a task of another priority, its workers take one
 * at a time (a look that sees no normal work takes a low task, and kept
 * tasks are in no queue while they move): the first two to start are 0
 * and 1, as in a pool without the flag.
 */
START_TEST(test_submit_batch_pool_takes_one_at_a_time_after_priorities)
{
  int lo, hi;

  take_scenario(1, &lo, &hi);
  ck_assert_msg(lo == 0 && hi == 1,
                "the first two tasks to start were %d and %d: expected 0 "
                "and 1 (one at a time once priorities were seen)",
                lo, hi);
}
END_TEST

/*
 * Shared state for several submitting threads: each task bumps its own
 * slot (exactly once), a shared count and a checksum of ids.
 */
#define SUBMITTERS    4
#define PER_SUBMITTER 5000
#define ALL_TASKS     (SUBMITTERS * PER_SUBMITTER)

struct many {
  futures_pool_t *pool;
  atomic_int runs[ALL_TASKS];
  atomic_long count;
  atomic_llong checksum;
  atomic_int submit_errors;
  atomic_int join_errors;
  atomic_int bad_values;
};

struct many_arg {
  struct many *m;
  size_t id;
};

static int
many_task(void *arg, void **result)
{
  struct many_arg *a = arg;

  atomic_fetch_add(&a->m->runs[a->id], 1);
  atomic_fetch_add(&a->m->count, 1);
  atomic_fetch_add(&a->m->checksum, (long long)a->id);
  *result = (void *)(uintptr_t)(a->id + 1);
  return 0;
}

/* One submitting thread: submits its share, joins it, checks values. */
static void
many_submitter(void *arg, int t)
{
  struct many *m = arg;
  future_t **f = calloc(PER_SUBMITTER, sizeof(*f));
  void **r = calloc(PER_SUBMITTER, sizeof(*r));
  struct many_arg *a = calloc(PER_SUBMITTER, sizeof(*a));
  size_t i, n = 0;

  if (f == NULL || r == NULL || a == NULL) {
    atomic_fetch_add(&m->submit_errors, 1);
    goto out;
  }
  for (i = 0; i < PER_SUBMITTER; i++) {
    a[i].m = m;
    a[i].id = (size_t)t * PER_SUBMITTER + i;
    if (futures_submit(m->pool, many_task, &a[i], &f[n]) != 0)
      atomic_fetch_add(&m->submit_errors, 1);
    else
      n++;
  }
  if (futures_join_all(f, n, r) != 0)
    atomic_fetch_add(&m->join_errors, 1);
  for (i = 0; i < n; i++) {
    if (r[i] != (void *)(uintptr_t)(a[i].id + 1))
      atomic_fetch_add(&m->bad_values, 1);
    future_release(f[i]);
  }
out:
  free(a);
  free(r);
  free(f);
}

/*
 * 4 threads submit 5000 tasks each at once (enough to contend the shared
 * queue); every task runs exactly once: per-task slots, count, checksum.
 */
START_TEST(test_submit_from_many_threads_runs_every_task_exactly_once)
{
  struct many *m = calloc(1, sizeof(*m));
  long long want = (long long)ALL_TASKS * (ALL_TASKS - 1) / 2;
  size_t i;

  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(futures_pool_create(&m->pool, 4), 0);
  ck_assert_int_eq(tu_run_threads(SUBMITTERS, many_submitter, m), 0);
  ck_assert_int_eq(futures_pool_destroy(m->pool), 0);
  ck_assert_int_eq(m->submit_errors, 0);
  ck_assert_int_eq(m->join_errors, 0);
  ck_assert_int_eq(m->bad_values, 0);
  ck_assert_int_eq(m->count, ALL_TASKS);
  ck_assert_int_eq(m->checksum, want);
  for (i = 0; i < ALL_TASKS; i++)
    ck_assert_msg(m->runs[i] == 1, "task %zu ran %d times", i, m->runs[i]);
  free(m);
}
END_TEST

/* Submits a sub-task (10 + 1) and waits for it; its result is twice that. */
static int
parent_task(void *arg, void **result)
{
  futures_pool_t *pool = arg;
  future_t *child = NULL;
  void *r = NULL;
  int rc;

  rc = futures_submit(pool, plus_one_task, (void *)10, &child);
  if (rc != 0)
    return rc;
  rc = future_get(child, &r);
  future_release(child);
  if (rc != 0)
    return rc;
  *result = (void *)((uintptr_t)r * 2);
  return 0;
}

struct nested {
  futures_pool_t *pool;
  struct tu_count done;
  int rc;
  void *r;
};

/* Runs parent_task as a worker's task, then reports to the test thread. */
static int
nested_outer_task(void *arg, void **result)
{
  struct nested *n = arg;

  n->rc = parent_task(n->pool, &n->r);
  *result = n->r;
  tu_count_down(&n->done);
  return n->rc;
}

/*
 * Fork-join inside a task on a 1-thread pool: the only worker is the
 * waiter, so this ends only if it runs the unstarted sub-task itself.
 */
START_TEST(test_submit_from_a_task_and_get_works_on_one_thread_pool)
{
  struct nested n = {0};
  future_t *f = NULL;
  void *r = NULL;

  tu_count_init(&n.done, 1);
  ck_assert_int_eq(futures_pool_create(&n.pool, 1), 0);
  ck_assert_int_eq(futures_submit(n.pool, nested_outer_task, &n, &f), 0);
  tu_count_wait(&n.done); /* not future_get: the worker must run it */
  ck_assert_int_eq(n.rc, 0);
  ck_assert_ptr_eq(n.r, (void *)22);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, (void *)22);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(n.pool), 0);
  tu_count_destroy(&n.done);
}
END_TEST

/* Children of one task, and the order in which they started. */
#define KIDS 8

struct kids {
  futures_pool_t *pool;
  future_t *f[KIDS];
  int wait_all; /* the parent waits for them on a countdown */
  struct tu_count done;
  atomic_int next;
  int rank[KIDS]; /* start rank of each child */
  pthread_t parent, thread[KIDS];
  int submit_errors;
};

struct kid_arg {
  struct kids *k;
  int i;
};

static int
kid_task(void *arg, void **result)
{
  struct kid_arg *a = arg;

  a->k->rank[a->i] = atomic_fetch_add(&a->k->next, 1);
  a->k->thread[a->i] = pthread_self();
  if (a->k->wait_all)
    tu_count_down(&a->k->done);
  *result = a;
  return 0;
}

/* Submits KIDS children into its own deque, oldest first. */
static int
kids_parent_task(void *arg, void **result)
{
  static struct kid_arg args[KIDS];
  struct kids *k = arg;

  k->parent = pthread_self();
  for (int i = 0; i < KIDS; i++) {
    args[i].k = k;
    args[i].i = i;
    if (futures_submit(k->pool, kid_task, &args[i], &k->f[i]) != 0)
      k->submit_errors++;
  }
  /* Not a library wait: this thread runs none of them meanwhile. */
  if (k->wait_all)
    tu_count_wait(&k->done);
  *result = k;
  return 0;
}

/*
 * "Order": a task's 8 sub-tasks run newest first on its worker once it returns
 * (_i = 0, 1 worker); stolen while it blocks outside the library, the first
 * to start is the oldest (_i = 1, 2 workers).
 */
START_TEST(test_submit_from_a_task_runs_newest_first_and_is_stolen_oldest_first)
{
  struct kids *k = calloc(1, sizeof(*k));
  futures_pool_t *pool;
  struct timespec dl;
  future_t *f;

  ck_assert_ptr_nonnull(k);
  k->wait_all = _i;
  tu_count_init(&k->done, KIDS);
  atomic_init(&k->next, 0);
  ck_assert_int_eq(futures_pool_create(&pool, _i == 0 ? 1 : 2), 0);
  k->pool = pool;
  ck_assert_int_eq(futures_submit(pool, kids_parent_task, k, &f), 0);
  ck_assert_int_eq(future_wait_for(f, 30000 * 1000000LL), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(k->submit_errors, 0);
  dl = tu_deadline_in(30000 * 1000000LL);
  ck_assert_int_eq(futures_join_all_until(k->f, KIDS, NULL, &dl), 0);
  for (int i = 0; i < KIDS; i++) {
    if (_i == 0)
      ck_assert_msg(k->rank[i] == KIDS - 1 - i,
                    "child %d (of %d, submitted oldest first) started %d-th; "
                    "its worker runs its own deque newest first",
                    i, KIDS, k->rank[i]);
    else
      ck_assert(!pthread_equal(k->thread[i], k->parent));
    future_release(k->f[i]);
  }
  if (_i == 1)
    ck_assert_msg(k->rank[0] == 0,
                  "the thief's first child was not the oldest: child 0 "
                  "started %d-th",
                  k->rank[0]);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_count_destroy(&k->done);
  free(k);
}
END_TEST

/*
 * "Order" leaves a thread with tasks pending in more than eight pools out of
 * its order, but every task still runs: 20 tasks each in 10 pools, all queued
 * behind held workers at once, each run exactly once.
 */
START_TEST(test_submit_to_more_than_eight_pools_from_one_thread_runs_every_task)
{
  enum { POOLS = 10, PER = 20 };
  futures_pool_t *pool[POOLS];
  future_t *held[POOLS], *f[POOLS * PER];
  struct tu_crowd crowd[POOLS];
  struct timespec dl;

  atomic_store(&count_runs, 0);
  for (int p = 0; p < POOLS; p++) {
    ck_assert_int_eq(futures_pool_create(&pool[p], 1), 0);
    ck_assert_int_eq(tu_crowd_hold(pool[p], &crowd[p], &held[p], 1), 0);
  }
  for (int i = 0; i < PER; i++)
    for (int p = 0; p < POOLS; p++)
      ck_assert_int_eq(
          futures_submit(pool[p], count_task, NULL, &f[i * POOLS + p]), 0);
  ck_assert_int_eq(atomic_load(&count_runs), 0);
  for (int p = 0; p < POOLS; p++)
    ck_assert_int_eq(tu_crowd_release(&crowd[p], &held[p], 1), 0);
  dl = tu_deadline_in(30000 * 1000000LL);
  ck_assert_int_eq(futures_join_all_until(f, POOLS * PER, NULL, &dl), 0);
  ck_assert_int_eq(atomic_load(&count_runs), POOLS * PER);
  for (int i = 0; i < POOLS * PER; i++)
    future_release(f[i]);
  for (int p = 0; p < POOLS; p++)
    ck_assert_int_eq(futures_pool_destroy(pool[p]), 0);
  ck_assert_int_eq(atomic_load(&count_runs), POOLS * PER);
}
END_TEST

Suite *
submit_suite(void)
{
  Suite *s = suite_create("submit");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_submit_returns_future_with_task_value);
  tcase_add_test(tc, test_submit_each_future_gets_its_own_task_value);
  tcase_add_test(tc, test_submit_passes_arg_unchanged_to_task);
  tcase_add_test(tc, test_submit_task_that_stores_nothing_yields_null_result);
  tcase_add_test(tc, test_submit_task_result_starts_as_null);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(
      tc, test_submit_with_null_argument_returns_einval_and_runs_nothing);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_submit_does_not_wait_for_the_task_to_run);
  tcase_add_test(tc, test_submit_from_outside_runs_tasks_in_fifo_order);
  tcase_add_test(tc, test_submit_from_one_thread_starts_tasks_oldest_first);
  tcase_add_test(tc, test_submit_all_from_one_thread_starts_tasks_oldest_first);
  tcase_add_test(tc, test_submit_batch_pool_starts_oldest_first_on_one_worker);
  tcase_add_test(tc, test_submit_batch_pool_starts_within_its_bound);
  tcase_add_test(tc, test_submit_batch_pool_worker_takes_several_at_once);
  tcase_add_test(tc,
                 test_submit_batch_pool_takes_one_at_a_time_after_priorities);
  tcase_add_test(tc,
                 test_submit_from_many_threads_runs_every_task_exactly_once);
  tcase_add_test(tc, test_submit_from_a_task_and_get_works_on_one_thread_pool);
  tcase_add_loop_test(
      tc, test_submit_from_a_task_runs_newest_first_and_is_stolen_oldest_first,
      0, 2);
  tcase_add_test(
      tc, test_submit_to_more_than_eight_pools_from_one_thread_runs_every_task);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(submit_suite());
}
