/* SPDX-License-Identifier: MIT */
/*
 * check_workers.c - worker hooks (futures_pool_opts_t.worker_start,
 * .worker_exit) and CPU pinning (.pin, .cpus, .ncpus,
 * futures_pool_worker_cpu()).
 *
 * Hooks record into a struct rec, per worker index, and into thread-local
 * variables that the tasks of the same thread read back: that is how a
 * test knows a start hook ran in the thread before its tasks, and an exit
 * hook after them. Tasks that must land one per worker meet at a barrier
 * (every one counts down, then waits for the gate), so no worker can take
 * two. Nothing here asserts off the test thread: hooks and tasks record,
 * the test thread checks after the join or the destroy.
 *
 * Links the core library for futures__fault_thread_at().
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "internal.h"
#include "testutil.h"

#define MAXW 8

struct rec {
  /* Set by the test before create. */
  int fail_code[MAXW];     /* a start hook's return, per index */
  int fail_second;         /* a replacement's start hook returns this */
  int use_pools;           /* hooks create, use and destroy a pool */
  /* Written by the hooks. */
  atomic_int starts[MAXW], exits[MAXW];
  atomic_int exit_saw_tasks[MAXW]; /* tasks run by the thread, at exit */
  atomic_int bad;                  /* a hook saw the wrong thread state */
  atomic_int pool_ok;              /* hook pool round trips that worked */
  char names[MAXW][16];
  cpu_set_t start_mask[MAXW];
  /* The replacement test. */
  _Atomic(futures_pool_t *) pool;
  int own_submit_rc, own_wait_rc, own_get_rc, own_destroy_rc;
  int exit_destroy_rc[MAXW]; /* an exit hook's destroy of r->pool */
  future_t *hook_future;     /* an exit hook's, left to the test thread */
  void *own_value;
  struct tu_latch replaced; /* opened by a second start hook */
};

static _Thread_local long tl_index = -1; /* the start hook's index */
static _Thread_local int tl_tasks;       /* tasks run in this thread */

static int
value_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A round trip through a fresh 1-worker pool; 1 if it worked. */
static int
pool_round_trip(void *value)
{
  futures_pool_t *p = NULL;
  future_t *f = NULL;
  void *r = NULL;
  int ok;

  if (futures_pool_create(&p, 1) != 0)
    return 0;
  ok = futures_submit(p, value_task, value, &f) == 0 &&
       future_get(f, &r) == 0 && r == value;
  if (f != NULL)
    future_release(f);
  return futures_pool_destroy(p) == 0 && ok;
}

static void
replacement_start(struct rec *r)
{
  futures_pool_t *own = atomic_load(&r->pool);
  future_t *f = NULL;

  r->own_submit_rc = futures_submit(own, value_task, (void *)7, &f);
  if (r->own_submit_rc == 0) {
    /* The pool's one slot is this thread's, which runs no task while
     * its hook runs: a timed wait (never in place) sees nothing run. */
    r->own_wait_rc = future_wait_for(f, 1000000LL);
    r->own_get_rc = future_get(f, &r->own_value);
    future_release(f);
  }
  r->own_destroy_rc = futures_pool_destroy(own);
}

static int
start_hook(void *arg, size_t index)
{
  struct rec *r = arg;
  int n;

  if (index >= MAXW) {
    atomic_fetch_add(&r->bad, 1);
    return 0;
  }
  n = atomic_fetch_add(&r->starts[index], 1);
  if (tl_index != -1)
    atomic_fetch_add(&r->bad, 1); /* a second start in one thread */
  tl_index = (long)index;
  tl_tasks = 0;
  pthread_getname_np(pthread_self(), r->names[index], 16);
  sched_getaffinity(0, sizeof(cpu_set_t), &r->start_mask[index]);
  if (r->use_pools && pool_round_trip((void *)(index + 1)))
    atomic_fetch_add(&r->pool_ok, 1);
  if (n == 1) { /* a replacement */
    int rc = r->fail_second;

    if (rc == 0)
      replacement_start(r);
    tu_latch_open(&r->replaced);
    return rc;
  }
  return r->fail_code[index];
}

static void
exit_hook(void *arg, size_t index)
{
  struct rec *r = arg;

  if (index >= MAXW || tl_index != (long)index) {
    atomic_fetch_add(&r->bad, 1);
    return;
  }
  atomic_store(&r->exit_saw_tasks[index], tl_tasks);
  atomic_fetch_add(&r->exits[index], 1);
  if (r->use_pools && pool_round_trip((void *)(index + 1)))
    atomic_fetch_add(&r->pool_ok, 1);
}

static void
rec_init(struct rec *r)
{
  memset(r, 0, sizeof(*r));
  tu_latch_init(&r->replaced);
}

static futures_pool_opts_t
hooked_opts(struct rec *r, size_t n)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;

  o.nthreads = n;
  o.worker_start = start_hook;
  o.worker_exit = exit_hook;
  o.worker_arg = r;
  return o;
}

/* ------------------------------------------------------------ barrier */

/* One task per worker: each records its thread's hook index and mask,
 * then waits until all have arrived. */
struct meet {
  struct tu_count arrived;
  struct tu_latch gate;
  struct meet_one {
    struct meet *m;
    long index;   /* tl_index of the thread that ran it */
    cpu_set_t mask;
  } one[MAXW];
};

static int
meet_task(void *arg, void **result)
{
  struct meet_one *o = arg;

  tl_tasks++;
  o->index = tl_index;
  sched_getaffinity(0, sizeof(o->mask), &o->mask);
  tu_count_down(&o->m->arrived);
  tu_latch_wait(&o->m->gate);
  *result = o;
  return 0;
}

/* Runs one meet_task on each of @n workers of @pool; 0 or an error. The
 * test thread waits on the countdown, never on an unstarted future, so it
 * runs none of them itself. */
static int
meet_all(futures_pool_t *pool, struct meet *m, size_t n)
{
  future_t *f[MAXW];
  int rc = 0;

  tu_count_init(&m->arrived, (long)n);
  tu_latch_init(&m->gate);
  for (size_t i = 0; i < n; i++) {
    m->one[i].m = m;
    m->one[i].index = -2;
    if (futures_submit(pool, meet_task, &m->one[i], &f[i]) != 0)
      return ENOMEM;
  }
  tu_count_wait(&m->arrived);
  tu_latch_open(&m->gate);
  for (size_t i = 0; i < n; i++) {
    if (future_get(f[i], NULL) != 0)
      rc = EINVAL;
    future_release(f[i]);
  }
  tu_count_destroy(&m->arrived);
  tu_latch_destroy(&m->gate);
  return rc;
}

/* ------------------------------------------------------------ hooks */

/*
 * Each worker runs its start hook once, in its own (named) thread, before
 * any task: every task of a barrier that holds all three workers sees the
 * index its thread's start hook stored. No exit hook runs before destroy;
 * each has run once, after the thread's last task, when destroy returns.
 */
START_TEST(test_workers_hooks_run_in_each_worker_around_its_tasks)
{
  struct rec r;
  struct meet m;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  int seen[3] = {0, 0, 0};

  rec_init(&r);
  o = hooked_opts(&r, 3);
  o.name = "hk";
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(atomic_load(&r.starts[i]), 1); /* before create returned */
  ck_assert_int_eq(meet_all(pool, &m, 3), 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_ge(m.one[i].index, 0);
    ck_assert_int_lt(m.one[i].index, 3);
    seen[m.one[i].index]++;
  }
  for (int i = 0; i < 3; i++) {
    char want[16];

    ck_assert_int_eq(seen[i], 1);
    ck_assert_int_eq(atomic_load(&r.exits[i]), 0);
#ifdef HAVE_PTHREAD_SETNAME_NP
    snprintf(want, sizeof(want), "hk-w%d", i);
    ck_assert_str_eq(r.names[i], want);
#else
    (void)want;
#endif
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(atomic_load(&r.starts[i]), 1);
    ck_assert_int_eq(atomic_load(&r.exits[i]), 1);
    ck_assert_int_eq(atomic_load(&r.exit_saw_tasks[i]), 1);
  }
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/* Creates a 4-worker pool whose start hooks return @codes, the thread of
 * worker @no_thread (0 for none) failing to start; checks the create's
 * code, that every worker up to the first failing one started (create
 * may start no more after a hook failed), and that exactly the workers
 * whose start succeeded ran their exit hook before create returned. */
static void
check_failed_create_at(const int codes[4], int no_thread, int want)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = (futures_pool_t *)&r;
  int first = 0;
  int rc;

  while (first < 3 && codes[first] == 0)
    first++;
  rec_init(&r);
  memcpy(r.fail_code, codes, 4 * sizeof(int));
  o = hooked_opts(&r, 4);
  futures__fault_thread_at(no_thread == 0 ? 0 : no_thread + 1);
  rc = futures_pool_create_ex(&pool, &o);
  futures__fault_thread_at(0);
  ck_assert_int_eq(rc, want);
  ck_assert_ptr_null(pool);
  for (int i = 0; i < 4; i++) {
    int started = atomic_load(&r.starts[i]);

    if (i <= first)
      ck_assert_int_eq(started, 1);
    else
      ck_assert_int_le(started, no_thread != 0 && i >= no_thread ? 0 : 1);
    ck_assert_int_eq(atomic_load(&r.exits[i]), codes[i] == 0 ? started : 0);
    ck_assert_int_eq(atomic_load(&r.exit_saw_tasks[i]), 0);
  }
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}

static void
check_failed_create(const int codes[4], int want)
{
  check_failed_create_at(codes, 0, want);
}

/* The first worker's start hook fails: create returns its code, and the
 * three others (started and waiting for the verdict) run their exit
 * hooks and are joined. */
START_TEST(test_workers_start_hook_failing_in_the_first_worker_fails_create)
{
  const int codes[4] = {EPERM, 0, 0, 0};

  check_failed_create(codes, EPERM);
}
END_TEST

/* The last worker's start hook fails, after the others have entered their
 * loops and parked: they leave, run their exit hooks, and are joined. */
START_TEST(test_workers_start_hook_failing_in_the_last_worker_fails_create)
{
  const int codes[4] = {0, 0, 0, ENOTSUP};

  check_failed_create(codes, ENOTSUP);
}
END_TEST

/* Several start hooks fail: create reports the lowest index's code, not
 * the first to finish; a negative code is reported as EINVAL. */
START_TEST(test_workers_start_hook_failing_reports_the_lowest_index)
{
  const int codes[4] = {0, 201, 0, 202};
  const int negative[4] = {0, 0, -5, 0};

  check_failed_create(codes, 201);
  check_failed_create(negative, EINVAL);
}
END_TEST

/*
 * A start hook fails and a later worker's thread cannot be started: the
 * lowest index still wins, so create returns the hook's code, not EAGAIN
 * (workers start in index order; a thread that cannot be started counts
 * as EAGAIN at its index).
 */
START_TEST(test_workers_start_hook_failing_wins_over_a_later_thread_failure)
{
  const int first[4] = {EPERM, 0, 0, 0};
  const int second[4] = {0, ENOTSUP, 0, 0};

  check_failed_create_at(first, 3, EPERM);
  check_failed_create_at(second, 2, ENOTSUP);
}
END_TEST

static int
exiting_start_hook(void *arg, size_t index)
{
  struct rec *r = arg;

  atomic_fetch_add(&r->starts[index], 1);
  tl_index = (long)index;
  if (index == 1)
    pthread_exit(NULL);
  return 0;
}

/* A start hook that calls pthread_exit() fails the create with
 * EOWNERDEAD (its thread is gone, and is joined); the other workers are
 * stopped and run their exit hooks (worker 2 may never have been started:
 * create starts no more after a failed start hook). */
START_TEST(test_workers_start_hook_exiting_its_thread_fails_create)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = (futures_pool_t *)&r;

  rec_init(&r);
  o = hooked_opts(&r, 3);
  o.worker_start = exiting_start_hook;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), EOWNERDEAD);
  ck_assert_ptr_null(pool);
  for (int i = 0; i < 3; i++) {
    int started = atomic_load(&r.starts[i]);

    if (i < 2)
      ck_assert_int_eq(started, 1);
    else
      ck_assert_int_le(started, 1);
    ck_assert_int_eq(atomic_load(&r.exits[i]), i == 1 ? 0 : started);
  }
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * The third worker's thread cannot be started: create returns EAGAIN; the
 * two started workers ran their start hooks and, before create returned,
 * their exit hooks; the two never started ran neither.
 */
START_TEST(test_workers_thread_failure_runs_exit_hooks_of_started_workers)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = (futures_pool_t *)&r;
  int rc;

  rec_init(&r);
  o = hooked_opts(&r, 4);
  futures__fault_thread_at(3);
  rc = futures_pool_create_ex(&pool, &o);
  futures__fault_thread_at(0);
  ck_assert_int_eq(rc, EAGAIN);
  ck_assert_ptr_null(pool);
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(atomic_load(&r.starts[i]), i < 2 ? 1 : 0);
    ck_assert_int_eq(atomic_load(&r.exits[i]), i < 2 ? 1 : 0);
  }
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * Hooks run under no library lock and may use the library: each start and
 * each exit hook of a 2-worker pool creates a pool, runs a task on it and
 * destroys it (under a lock of the pool, the debug build's lock ranks
 * would abort: registry_lock comes first).
 */
START_TEST(test_workers_hooks_hold_no_lock_and_may_use_other_pools)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;

  rec_init(&r);
  r.use_pools = 1;
  o = hooked_opts(&r, 2);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(atomic_load(&r.pool_ok), 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.pool_ok), 4);
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * Hooks run in workers only: the pool's timer thread (started by
 * futures_after()) and the thread of futures_pool_destroy_async() run
 * none, so a 2-worker pool sees exactly two start and two exit hooks,
 * one of each per index.
 */
START_TEST(test_workers_timer_and_destroy_async_threads_run_no_hooks)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  future_t *t = NULL, *done = NULL;

  rec_init(&r);
  o = hooked_opts(&r, 2);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_after(pool, 1000000LL, &t), 0);
  ck_assert_int_eq(future_get(t, NULL), 0); /* settled by the timer thread */
  future_release(t);
  ck_assert_int_eq(futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN,
                                              &done),
                   0);
  ck_assert_int_eq(future_get(done, NULL), 0);
  future_release(done);
  for (int i = 0; i < MAXW; i++) {
    ck_assert_int_eq(atomic_load(&r.starts[i]), i < 2 ? 1 : 0);
    ck_assert_int_eq(atomic_load(&r.exits[i]), i < 2 ? 1 : 0);
  }
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

static int
exit_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  tl_tasks++;
  pthread_exit(NULL);
  return 0;
}

/* Waits for @f with a deadline, which never runs it in this thread (it
 * would end this thread), then gets its code. */
static int
exit_on_the_worker(future_t *f)
{
  struct timespec dl = tu_deadline_in(60LL * 1000000000LL);
  int rc = future_wait_until(f, &dl);

  return rc != 0 ? -rc : future_get(f, NULL);
}

/*
 * A worker that ends inside a task runs its exit hook; its replacement
 * runs the start hook with the same index. That start hook knows the pool:
 * it may submit to it and wait; its slot runs no task meanwhile, so in a
 * 1-worker pool a timed wait times out and future_get() runs the task in
 * place; destroying the pool is EDEADLK. The pool then works, and destroy
 * runs the replacement's exit hook.
 */
START_TEST(test_workers_replacement_runs_both_hooks_and_may_use_its_pool)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *v = NULL;

  rec_init(&r);
  r.own_submit_rc = r.own_wait_rc = r.own_get_rc = r.own_destroy_rc = -1;
  o = hooked_opts(&r, 1);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  atomic_store(&r.pool, pool);
  ck_assert_int_eq(futures_submit(pool, exit_task, NULL, &f), 0);
  ck_assert_int_eq(exit_on_the_worker(f), EOWNERDEAD);
  future_release(f);
  tu_latch_wait(&r.replaced);
  ck_assert_int_eq(atomic_load(&r.starts[0]), 2);
  ck_assert_int_eq(atomic_load(&r.exits[0]), 1);
  ck_assert_int_eq(atomic_load(&r.exit_saw_tasks[0]), 1);
  ck_assert_int_eq(r.own_submit_rc, 0);
  ck_assert_int_eq(r.own_wait_rc, ETIMEDOUT);
  ck_assert_int_eq(r.own_get_rc, 0);
  ck_assert_ptr_eq(r.own_value, (void *)7);
  ck_assert_int_eq(r.own_destroy_rc, EDEADLK);
  ck_assert_int_eq(futures_submit(pool, value_task, (void *)9, &f), 0);
  ck_assert_int_eq(future_get(f, &v), 0);
  ck_assert_ptr_eq(v, (void *)9);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.exits[0]), 2);
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

static int
count_start_hook(void *arg, size_t index)
{
  struct rec *r = arg;

  if (index >= MAXW) {
    atomic_fetch_add(&r->bad, 1);
    return 0;
  }
  if (atomic_fetch_add(&r->starts[index], 1) == 1)
    tu_latch_open(&r->replaced); /* a replacement */
  return 0;
}

/* Counts, then ends its thread; with use_pools, the first one does so
 * from a task of its own pool that it runs in place (future_get()). */
static void
ending_exit_hook(void *arg, size_t index)
{
  struct rec *r = arg;

  if (index >= MAXW) {
    atomic_fetch_add(&r->bad, 1);
    return;
  }
  if (atomic_fetch_add(&r->exits[index], 1) == 0 && r->use_pools) {
    future_t *f = NULL;

    if (futures_submit(atomic_load(&r->pool), exit_task, NULL, &f) == 0) {
      r->hook_future = f; /* this thread ends in the get: the test's */
      future_get(f, NULL); /* no worker is left to take it */
    }
    atomic_fetch_add(&r->bad, 1); /* not reached */
  }
  pthread_exit(NULL);
}

/* A 1-worker pool whose exit hooks end their thread (see ending_exit_hook):
 * the worker ends in a task; its replacement must still start. */
static void
check_exit_hook_ending_its_thread(int in_place)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *v = NULL;

  rec_init(&r);
  r.use_pools = in_place;
  o = hooked_opts(&r, 1);
  o.worker_start = count_start_hook;
  o.worker_exit = ending_exit_hook;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  atomic_store(&r.pool, pool);
  ck_assert_int_eq(futures_submit(pool, exit_task, NULL, &f), 0);
  ck_assert_int_eq(exit_on_the_worker(f), EOWNERDEAD);
  future_release(f);
  tu_latch_wait(&r.replaced); /* before the fix: never (TCase timeout) */
  ck_assert_int_eq(atomic_load(&r.exits[0]), 1);
  if (in_place) {
    ck_assert_ptr_nonnull(r.hook_future);
    ck_assert_int_eq(future_get(r.hook_future, NULL), EOWNERDEAD);
    future_release(r.hook_future);
  }
  ck_assert_int_eq(futures_submit(pool, value_task, (void *)9, &f), 0);
  ck_assert_int_eq(future_get(f, &v), 0);
  ck_assert_ptr_eq(v, (void *)9);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.starts[0]), 2);
  ck_assert_int_eq(atomic_load(&r.exits[0]), 2);
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}

/*
 * An exit hook that ends its thread (pthread_exit(), directly or in a
 * task it runs in place) only ends it sooner: after a worker ended in a
 * task its replacement still starts (its start hook runs, the pool works),
 * and at destroy the pool's size is kept track of, so destroy returns.
 * Before the fix the replacement never started and destroy hung: the
 * TCase timeout bounds it.
 */
START_TEST(test_workers_exit_hook_ending_its_thread_still_replaces_the_worker)
{
  check_exit_hook_ending_its_thread(0);
  check_exit_hook_ending_its_thread(1);
}
END_TEST

static void
destroying_exit_hook(void *arg, size_t index)
{
  struct rec *r = arg;

  if (index < MAXW)
    r->exit_destroy_rc[index] = futures_pool_destroy(atomic_load(&r->pool));
}

/*
 * futures_pool_destroy() of the pool from its own exit hooks, which run
 * during its destroy (the pool has left the registry then), is EDEADLK,
 * as from any hook of the pool, not EINVAL.
 */
START_TEST(test_workers_exit_hook_destroying_its_pool_is_edeadlk)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;

  rec_init(&r);
  r.exit_destroy_rc[0] = r.exit_destroy_rc[1] = -1;
  o = hooked_opts(&r, 2);
  o.worker_exit = destroying_exit_hook;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  atomic_store(&r.pool, pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(r.exit_destroy_rc[0], EDEADLK);
  ck_assert_int_eq(r.exit_destroy_rc[1], EDEADLK);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * A replacement whose start hook fails ends at once, with no exit hook:
 * the pool goes on with no worker, runs a task in the thread that waits
 * for it, and destroy (which joins the failed replacement) runs no more
 * exit hooks.
 */
START_TEST(test_workers_replacement_start_hook_failure_leaves_one_worker_fewer)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *v = NULL;

  rec_init(&r);
  r.fail_second = EPERM;
  o = hooked_opts(&r, 1);
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_submit(pool, exit_task, NULL, &f), 0);
  ck_assert_int_eq(exit_on_the_worker(f), EOWNERDEAD);
  future_release(f);
  tu_latch_wait(&r.replaced);
  ck_assert_int_eq(futures_submit(pool, value_task, (void *)3, &f), 0);
  ck_assert_int_eq(future_get(f, &v), 0);
  ck_assert_ptr_eq(v, (void *)3);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.starts[0]), 2);
  ck_assert_int_eq(atomic_load(&r.exits[0]), 1);
  ck_assert_int_eq(atomic_load(&r.bad), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * A struct of the size before the hook fields (a program built against
 * the older header) is accepted: the bytes beyond its size are never
 * read (here a start hook and a bad pin mode), so it has no hooks and no
 * pinning. Likewise a futures_stats_t of the older size gets its fields
 * and nothing is written beyond them.
 */
START_TEST(test_workers_older_opts_size_has_no_hooks_or_pinning)
{
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  struct meet m;

  rec_init(&r);
  o = hooked_opts(&r, 2);
  o.size = offsetof(futures_pool_opts_t, name) + sizeof(o.name);
  o.pin = 99;
  o.ncpus = 5;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(meet_all(pool, &m, 2), 0);
  st.size = offsetof(futures_stats_t, shutting_down) + sizeof(int);
  st.pin = 0x5a5a;
  st.ncpus = 0x5a5a;
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_uint_eq(st.workers, 2);
  ck_assert_int_eq(st.pin, 0x5a5a);
  ck_assert_uint_eq(st.ncpus, 0x5a5a);
  /* The size an older program really passes: its sizeof, padded to the
   * struct's alignment, which holds pin in the padding. Nothing is
   * written there: pin and ncpus go together, or not at all. */
  st.size = (offsetof(futures_stats_t, shutting_down) + sizeof(int) +
             _Alignof(futures_stats_t) - 1) /
            _Alignof(futures_stats_t) * _Alignof(futures_stats_t);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.pin, 0x5a5a);
  ck_assert_uint_eq(st.ncpus, 0x5a5a);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(atomic_load(&r.starts[i]), 0);
    ck_assert_int_eq(atomic_load(&r.exits[i]), 0);
    ck_assert_int_eq(m.one[i].index, -1);
  }
  /* Sizes that end inside a field: the part inside is not taken either
   * (half a hook pointer would be called; half of 99 is a bad mode). */
  o.size = offsetof(futures_pool_opts_t, worker_start) + 4;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  o.size = offsetof(futures_pool_opts_t, pin) + 2;
  o.worker_start = NULL;
  o.worker_exit = NULL;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  st.size = sizeof(st);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.pin, FUTURES_PIN_NONE);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.starts[0]), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/* ------------------------------------------------------------ pinning */

/* The CPUs the calling thread may run on, ascending, into @cpus; count. */
static int
my_cpus(int *cpus, int max)
{
  cpu_set_t set;
  int n = 0;

  if (sched_getaffinity(0, sizeof(set), &set) != 0)
    return 0;
  for (int c = 0; c < CPU_SETSIZE && n < max; c++)
    if (CPU_ISSET(c, &set))
      cpus[n++] = c;
  return n;
}

/* 1 if @set holds exactly the @n CPUs of @cpus. */
static int
set_is(const cpu_set_t *set, const int *cpus, int n)
{
  cpu_set_t want;

  CPU_ZERO(&want);
  for (int i = 0; i < n; i++)
    CPU_SET(cpus[i], &want);
  return CPU_EQUAL(set, &want);
}

#define NEED_CPUS(n, have)                                                     \
  do {                                                                         \
    if ((have) < (n)) {                                                        \
      printf("%s: skipped: this process may run on %d CPU(s), the test "       \
             "needs %d to tell pinned workers apart\n",                        \
             __func__, (have), (n));                                           \
      return;                                                                  \
    }                                                                          \
  } while (0)

/*
 * FUTURES_PIN_EACH over the allowed CPUs in reverse order, one worker more
 * than CPUs (the list wraps): a barrier puts one task on each worker, and
 * sched_getaffinity() in each task (and in each start hook) shows the one
 * CPU cpus[index % ncpus], which futures_pool_worker_cpu() also reports.
 */
START_TEST(test_workers_pin_each_puts_each_worker_on_its_cpu)
{
  int all[MAXW], cpus[MAXW];
  int n = my_cpus(all, MAXW - 1);
  struct rec r;
  struct meet m;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;

  NEED_CPUS(2, n);
  for (int i = 0; i < n; i++)
    cpus[i] = all[n - 1 - i];
  rec_init(&r);
  o = hooked_opts(&r, (size_t)n + 1);
  o.pin = FUTURES_PIN_EACH;
  o.cpus = cpus;
  o.ncpus = (size_t)n;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(meet_all(pool, &m, (size_t)n + 1), 0);
  for (int i = 0; i <= n; i++) {
    long w = m.one[i].index;
    int cpu = -2;

    ck_assert_int_ge(w, 0);
    ck_assert_int_le(w, n);
    ck_assert_msg(set_is(&m.one[i].mask, &cpus[w % n], 1),
                  "worker %ld not on CPU %d alone", w, cpus[w % n]);
    ck_assert(set_is(&r.start_mask[w], &cpus[w % n], 1));
    ck_assert_int_eq(futures_pool_worker_cpu(pool, (size_t)w, &cpu), 0);
    ck_assert_int_eq(cpu, cpus[w % n]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * FUTURES_PIN_SET: every worker may run on the whole list, and only there.
 * The list is a proper subset of the allowed CPUs (all but the first), so
 * it differs from no pinning.
 */
START_TEST(test_workers_pin_set_puts_every_worker_on_the_set)
{
  int all[MAXW];
  int n = my_cpus(all, MAXW);
  struct rec r;
  struct meet m;
  futures_pool_opts_t o;
  futures_pool_t *pool = NULL;

  NEED_CPUS(2, n);
  rec_init(&r);
  o = hooked_opts(&r, 3);
  o.pin = FUTURES_PIN_SET;
  o.cpus = all + 1;
  o.ncpus = (size_t)n - 1;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(meet_all(pool, &m, 3), 0);
  for (int i = 0; i < 3; i++) {
    int cpu = -2;

    ck_assert(set_is(&m.one[i].mask, all + 1, n - 1));
    ck_assert_int_eq(futures_pool_worker_cpu(pool, (size_t)i, &cpu), 0);
    ck_assert_int_eq(cpu, -1);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/* Each bad pinning option is EINVAL, with *pool NULL and no thread
 * started (no start hook ran). */
START_TEST(test_workers_pin_rejects_bad_cpus_and_modes)
{
  int all[MAXW];
  int n = my_cpus(all, MAXW);
  int outside = -1, list[1];
  cpu_set_t set;
  struct rec r;
  futures_pool_opts_t o;
  futures_pool_t *pool;
  struct {
    int pin;
    const int *cpus;
    size_t ncpus;
  } bad[8];
  int nbad = 0;

  ck_assert_int_ge(n, 1);
  ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
  for (int c = 0; c < CPU_SETSIZE && outside < 0; c++)
    if (!CPU_ISSET(c, &set))
      outside = c;
  ck_assert_int_ge(outside, 0);
  bad[nbad].pin = 7, bad[nbad].cpus = NULL, bad[nbad++].ncpus = 0;
  bad[nbad].pin = -1, bad[nbad].cpus = NULL, bad[nbad++].ncpus = 0;
  bad[nbad].pin = FUTURES_PIN_NONE, bad[nbad].cpus = all,
  bad[nbad++].ncpus = 1;
  bad[nbad].pin = FUTURES_PIN_EACH, bad[nbad].cpus = NULL,
  bad[nbad++].ncpus = 1;
  bad[nbad].pin = FUTURES_PIN_SET, bad[nbad].cpus = all,
  bad[nbad++].ncpus = 0;
  for (int k = 0; k < 3; k++) {
    static int cpu_bad[3];

    cpu_bad[0] = -1;
    cpu_bad[1] = CPU_SETSIZE;
    cpu_bad[2] = outside;
    bad[nbad].pin = k == 1 ? FUTURES_PIN_SET : FUTURES_PIN_EACH;
    bad[nbad].cpus = &cpu_bad[k];
    bad[nbad++].ncpus = 1;
  }
  rec_init(&r);
  for (int i = 0; i < nbad; i++) {
    o = hooked_opts(&r, 1);
    o.pin = bad[i].pin;
    o.cpus = bad[i].cpus;
    o.ncpus = bad[i].ncpus;
    pool = (futures_pool_t *)&r;
    ck_assert_msg(futures_pool_create_ex(&pool, &o) == EINVAL, "case %d", i);
    ck_assert_ptr_null(pool);
  }
  ck_assert_int_eq(atomic_load(&r.starts[0]), 0);
  /* The same with a good CPU works. */
  list[0] = all[0];
  o = hooked_opts(&r, 1);
  o.pin = FUTURES_PIN_EACH;
  o.cpus = list;
  o.ncpus = 1;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&r.starts[0]), 1);
  tu_latch_destroy(&r.replaced);
}
END_TEST

/*
 * Every allocation of a pinned, hooked create fails in turn (the copy of
 * the CPU list among them): create returns ENOMEM with *pool NULL, and a
 * worker whose start hook ran also ran its exit hook; then it succeeds.
 */
START_TEST(test_workers_allocation_failures_in_a_pinned_create_are_enomem)
{
  int rc = ENOMEM;
  long k;

  for (k = 1; k < 200 && rc == ENOMEM; k++) {
    struct rec r;
    futures_pool_opts_t o;
    futures_pool_t *pool = (futures_pool_t *)&r;

    rec_init(&r);
    o = hooked_opts(&r, 2);
    o.pin = FUTURES_PIN_EACH;
    futures__fault_alloc_at(k);
    rc = futures_pool_create_ex(&pool, &o);
    futures__fault_alloc_at(0);
    ck_assert_msg(rc == 0 || rc == ENOMEM, "k %ld: %d", k, rc);
    if (rc == 0)
      ck_assert_int_eq(futures_pool_destroy(pool), 0);
    else
      ck_assert_ptr_null(pool);
    for (int i = 0; i < 2; i++)
      ck_assert_int_eq(atomic_load(&r.starts[i]), atomic_load(&r.exits[i]));
    tu_latch_destroy(&r.replaced);
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_gt(k, 2); /* at least one allocation failed first */
}
END_TEST

/*
 * futures_pool_stats() reports the mode and the size of the set (CPUs,
 * not list entries);
 * futures_pool_worker_cpu() each worker's CPU (-1 unpinned) and refuses
 * bad arguments. cpus NULL means every allowed CPU, ascending.
 */
START_TEST(test_workers_stats_and_worker_cpu_report_the_pinning)
{
  int all[MAXW];
  int n = my_cpus(all, MAXW);
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  int cpu;

  ck_assert_int_ge(n, 1);
  o.nthreads = 3;
  o.pin = FUTURES_PIN_EACH;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.pin, FUTURES_PIN_EACH);
  if (n < MAXW)
    ck_assert_uint_eq(st.ncpus, (size_t)n);
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(futures_pool_worker_cpu(pool, i, &cpu), 0);
    ck_assert_int_eq(cpu, all[i % (size_t)n]);
  }
  ck_assert_int_eq(futures_pool_worker_cpu(pool, 3, &cpu), EINVAL);
  ck_assert_int_eq(futures_pool_worker_cpu(pool, 0, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_worker_cpu(NULL, 0, &cpu), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);

  /* A CPU listed twice is one CPU of the set. */
  for (int mode = FUTURES_PIN_EACH; mode <= FUTURES_PIN_SET; mode++) {
    const int twice[2] = {all[0], all[0]};

    o.pin = mode;
    o.cpus = twice;
    o.ncpus = 2;
    ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
    ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
    ck_assert_uint_eq(st.ncpus, 1);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
  }

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  st.pin = st.ncpus = 99;
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.pin, FUTURES_PIN_NONE);
  ck_assert_uint_eq(st.ncpus, 0);
  ck_assert_int_eq(futures_pool_worker_cpu(pool, 0, &cpu), 0);
  ck_assert_int_eq(cpu, -1);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct nested {
  int cpu;           /* the outer pool's one CPU */
  int other;         /* another allowed CPU */
  int create_rc, other_rc;
  futures_stats_t st;
  cpu_set_t inner_mask;
};

static int
mask_task(void *arg, void **result)
{
  cpu_set_t *m = arg;

  sched_getaffinity(0, sizeof(*m), m);
  *result = m;
  return 0;
}

static int
nested_task(void *arg, void **result)
{
  struct nested *nt = arg;
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *inner = NULL;
  future_t *f = NULL;

  o.nthreads = 1;
  o.pin = FUTURES_PIN_SET;
  nt->create_rc = futures_pool_create_ex(&inner, &o);
  if (nt->create_rc == 0) {
    nt->st.size = sizeof(nt->st);
    futures_pool_stats(inner, &nt->st);
    if (futures_submit(inner, mask_task, &nt->inner_mask, &f) == 0) {
      future_wait_for(f, LLONG_MAX);
      future_release(f);
    }
    futures_pool_destroy(inner);
  }
  o.pin = FUTURES_PIN_EACH;
  o.cpus = &nt->other;
  o.ncpus = 1;
  inner = NULL;
  nt->other_rc = futures_pool_create_ex(&inner, &o);
  if (inner != NULL)
    futures_pool_destroy(inner);
  *result = nt;
  return 0;
}

/*
 * A pool created in a task of a worker pinned to one CPU, with cpus NULL,
 * gets that one CPU (the creating thread's), and its workers run there; a
 * CPU outside it is EINVAL.
 */
START_TEST(test_workers_pool_created_in_a_pinned_task_inherits_its_cpu)
{
  int all[MAXW];
  int n = my_cpus(all, MAXW);
  struct nested nt;
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct timespec dl;

  NEED_CPUS(2, n);
  memset(&nt, 0, sizeof(nt));
  nt.cpu = all[n - 1];
  nt.other = all[0];
  o.nthreads = 1;
  o.pin = FUTURES_PIN_EACH;
  o.cpus = &nt.cpu;
  o.ncpus = 1;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_submit(pool, nested_task, &nt, &f), 0);
  /* A timed wait runs nothing here: the task runs on the pinned worker. */
  dl = tu_deadline_in(60LL * 1000000000LL);
  ck_assert_int_eq(future_wait_until(f, &dl), 0);
  future_release(f);
  ck_assert_int_eq(nt.create_rc, 0);
  ck_assert_int_eq(nt.st.pin, FUTURES_PIN_SET);
  ck_assert_uint_eq(nt.st.ncpus, 1);
  ck_assert(set_is(&nt.inner_mask, &nt.cpu, 1));
  ck_assert_int_eq(nt.other_rc, EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ fork */

#ifndef TU_TSAN /* fork() after threads: see check_fork.c */

static pid_t parent_pid;

static void
fork_exit_hook(void *arg, size_t index)
{
  (void)arg;
  (void)index;
  if (getpid() != parent_pid)
    _exit(77); /* the parent's hook ran in the child */
}

static int child_hooks; /* the child's own pool's hooks */

static int
child_start(void *arg, size_t index)
{
  (void)arg;
  (void)index;
  child_hooks++;
  return 0;
}

static void
child_exit(void *arg, size_t index)
{
  (void)arg;
  (void)index;
  child_hooks++;
}

static void
child_at_exit(void)
{
  tu_child_exit(0);
}

struct forker {
  futures_pool_t *pool;
  int cpu;
  pid_t child;
};

/* In the child: the copy of the pinned worker that forked. */
static int
child_checks(struct forker *fk)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *np = NULL;
  cpu_set_t set;
  int cpu;

  if (futures_pool_worker_cpu(fk->pool, 0, &cpu) != ECHILD)
    return 1;
  if (sched_getaffinity(0, sizeof(set), &set) != 0 ||
      !set_is(&set, &fk->cpu, 1))
    return 2;
  o.nthreads = 1;
  o.worker_start = child_start;
  o.worker_exit = child_exit;
  if (futures_pool_create_ex(&np, &o) != 0)
    return 3;
  if (futures_pool_destroy(np) != 0 || child_hooks != 2)
    return 4;
  return 0;
}

static int
fork_task(void *arg, void **result)
{
  struct forker *fk = arg;
  pid_t pid = fork();

  if (pid == 0) {
    int rc;

    signal(SIGALRM, SIG_DFL);
    alarm(20);
    rc = child_checks(fk);
    if (rc != 0)
      tu_child_exit(rc);
    /* Back into the copy of the worker's loop, which must end without
     * the parent pool's exit hook; the last thread's end then exits. */
    atexit(child_at_exit);
    return 0;
  }
  fk->child = pid;
  *result = fk;
  return 0;
}

/*
 * fork() in a task of a pinned pool with hooks: in the child the parent's
 * pool is ECHILD to futures_pool_worker_cpu(), the child's one thread
 * keeps the worker's CPU, a new pool runs its own hooks, and the copy of
 * the worker, back in its loop, ends without the parent's exit hook
 * (which would _exit(77)).
 */
START_TEST(test_workers_fork_child_runs_no_hooks_of_the_parent)
{
  int all[MAXW];
  int n = my_cpus(all, MAXW);
  struct forker fk;
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  future_t *f = NULL;
  struct timespec dl;
  int status = -1;

  memset(&fk, 0, sizeof(fk));
  parent_pid = getpid();
  fk.cpu = all[n - 1];
  o.nthreads = 1;
  o.pin = FUTURES_PIN_EACH;
  o.cpus = &fk.cpu;
  o.ncpus = 1;
  o.worker_exit = fork_exit_hook;
  ck_assert_int_eq(futures_pool_create_ex(&fk.pool, &o), 0);
  ck_assert_int_eq(futures_submit(fk.pool, fork_task, &fk, &f), 0);
  dl = tu_deadline_in(60LL * 1000000000LL);
  ck_assert_int_eq(future_wait_until(f, &dl), 0);
  future_release(f);
  ck_assert_int_gt(fk.child, 0);
  ck_assert_int_eq(waitpid(fk.child, &status, 0), fk.child);
  ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(futures_pool_destroy(fk.pool), 0);
}
END_TEST

static int
fork_start_hook(void *arg, size_t index)
{
  (void)arg;
  (void)index;
  if (getpid() != parent_pid)
    _exit(77); /* the parent's hook ran in the child */
  return 0;
}

static int
fork_exit_task(void *arg, void **result)
{
  pid_t *child = arg;
  pid_t pid = fork();

  if (pid == 0) {
    signal(SIGALRM, SIG_DFL);
    alarm(20); /* a replacement stuck on a lock the fork copied */
    atexit(child_at_exit);
    /* The copy of the worker ends inside its task: the child starts no
     * replacement (whose start hook would _exit(77)), and the end of its
     * last thread exits the process with 0. */
    pthread_exit(NULL);
  }
  *child = pid;
  *result = child;
  return 0;
}

/*
 * The copy of a worker that ends inside a task in a fork() child
 * (pthread_exit()) is not replaced there: no start hook of the parent's
 * pool runs in the child, and the child ends with its last thread. The
 * parent's pool, whose worker returned normally, goes on.
 */
START_TEST(test_workers_fork_child_worker_exiting_starts_no_replacement)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct timespec dl;
  pid_t child = 0;
  int status = -1;

  parent_pid = getpid();
  o.nthreads = 1;
  o.worker_start = fork_start_hook;
  o.worker_exit = fork_exit_hook;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(futures_submit(pool, fork_exit_task, &child, &f), 0);
  dl = tu_deadline_in(60LL * 1000000000LL);
  ck_assert_int_eq(future_wait_until(f, &dl), 0);
  future_release(f);
  ck_assert_int_gt(child, 0);
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST
#endif /* !TU_TSAN */

static Suite *
workers_suite(void)
{
  Suite *s = suite_create("workers");
  TCase *tc;

  tc = tcase_create("hooks");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_workers_hooks_run_in_each_worker_around_its_tasks);
  tcase_add_test(tc,
                 test_workers_start_hook_failing_in_the_first_worker_fails_create);
  tcase_add_test(tc,
                 test_workers_start_hook_failing_in_the_last_worker_fails_create);
  tcase_add_test(tc, test_workers_start_hook_failing_reports_the_lowest_index);
  tcase_add_test(tc,
                 test_workers_start_hook_failing_wins_over_a_later_thread_failure);
  tcase_add_test(tc, test_workers_start_hook_exiting_its_thread_fails_create);
  tcase_add_test(tc,
                 test_workers_thread_failure_runs_exit_hooks_of_started_workers);
  tcase_add_test(tc, test_workers_hooks_hold_no_lock_and_may_use_other_pools);
  tcase_add_test(tc, test_workers_timer_and_destroy_async_threads_run_no_hooks);
  tcase_add_test(tc,
                 test_workers_replacement_runs_both_hooks_and_may_use_its_pool);
  tcase_add_test(
      tc, test_workers_replacement_start_hook_failure_leaves_one_worker_fewer);
  tcase_add_test(
      tc, test_workers_exit_hook_ending_its_thread_still_replaces_the_worker);
  tcase_add_test(tc, test_workers_exit_hook_destroying_its_pool_is_edeadlk);
  tcase_add_test(tc, test_workers_older_opts_size_has_no_hooks_or_pinning);
  suite_add_tcase(s, tc);

  tc = tcase_create("pinning");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_workers_pin_each_puts_each_worker_on_its_cpu);
  tcase_add_test(tc, test_workers_pin_set_puts_every_worker_on_the_set);
  tcase_add_test(tc, test_workers_pin_rejects_bad_cpus_and_modes);
  tcase_add_test(tc, test_workers_stats_and_worker_cpu_report_the_pinning);
  tcase_add_test(tc,
                 test_workers_allocation_failures_in_a_pinned_create_are_enomem);
  tcase_add_test(tc,
                 test_workers_pool_created_in_a_pinned_task_inherits_its_cpu);
#ifndef TU_TSAN
  tcase_add_test(tc, test_workers_fork_child_runs_no_hooks_of_the_parent);
  tcase_add_test(tc,
                 test_workers_fork_child_worker_exiting_starts_no_replacement);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(workers_suite());
}
