/* SPDX-License-Identifier: MIT */
/*
 * check_pool: creating and destroying pools (futures_pool_create(),
 * futures_pool_create_ex(), futures_pool_destroy()) and the counters of
 * futures_pool_stats() that describe a pool.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* sched_getaffinity, pthread_getattr_np, names */
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *pool_suite(void);

/* Workers above this many are refused (futures_pool_create()). */
#define MAX_WORKERS 4096
/* "Many" workers: well above the CPU count, well below MAX_WORKERS. */
#define MANY_WORKERS 64

/* ------------------------------------------------------------ helpers */

static size_t
allowed_cpus(void)
{
  cpu_set_t set;

  CPU_ZERO(&set);
  ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
  return (size_t)CPU_COUNT(&set);
}

static size_t
pool_workers(futures_pool_t *pool)
{
  futures_stats_t st = FUTURES_STATS_INIT;

  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  return st.workers;
}

/* Threads of this process, from /proc/self/task. */
static long
thread_count(void)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  long n = 0;

  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

/*
 * The process's thread count once thread creation has been used: sanitizer
 * runtimes (TSan) start a helper thread of their own at the first
 * pthread_create(), which must not be mistaken for a leftover worker.
 */
static long
settled_thread_count(void)
{
  futures_pool_t *pool = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  return thread_count();
}

/*
 * Returns the thread count once it is at most @n, or after 10 s. A joined
 * thread can stay listed for a moment after pthread_join() returns (the
 * kernel reaps it just after it clears its tid), so poll; a thread that
 * was never joined keeps the count high until the deadline. (A baseline
 * taken while such a thread lingers is one too high, which only weakens
 * the check, hence "at most".)
 */
static long
wait_thread_count(long n)
{
  long long deadline = tu_now_ns() + 10LL * 1000000000LL;
  long count;

  while ((count = thread_count()) > n && tu_now_ns() < deadline)
    sched_yield();
  return count;
}

/* Records what a worker sees of its own thread. */
struct thread_info {
  struct tu_count done;
  char name[16];
  size_t stack_size;
  int name_rc, attr_rc;
};

static int
thread_info_task(void *arg, void **result)
{
  struct thread_info *ti = arg;
  pthread_attr_t attr;

  (void)result;
  ti->name_rc = pthread_getname_np(pthread_self(), ti->name, sizeof(ti->name));
  ti->attr_rc = pthread_getattr_np(pthread_self(), &attr);
  if (ti->attr_rc == 0) {
    pthread_attr_getstacksize(&attr, &ti->stack_size);
    pthread_attr_destroy(&attr);
  }
  tu_count_down(&ti->done);
  return 0;
}

/*
 * Runs thread_info_task on one of @pool's workers: the test thread waits
 * on a countdown, not on the future, so it cannot run the task itself.
 */
static void
run_thread_info_on_worker(futures_pool_t *pool, struct thread_info *ti)
{
  future_t *f = NULL;

  memset(ti, 0, sizeof(*ti));
  tu_count_init(&ti->done, 1);
  ck_assert_int_eq(futures_submit(pool, thread_info_task, ti, &f), 0);
  tu_count_wait(&ti->done);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  tu_count_destroy(&ti->done);
}

static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

/* Submits one task and checks its value: the pool really runs tasks. */
static void
check_pool_runs_a_task(futures_pool_t *pool)
{
  future_t *f = NULL;
  void *r = NULL;

  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)41, &f), 0);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, (void *)42);
  future_release(f);
}

/* ------------------------------------------------------------ basic */

/*
 * nthreads == 0 means one worker per CPU this process may run on, which is
 * the affinity mask's count (not the online count, which can be larger).
 */
START_TEST(test_pool_with_zero_threads_has_one_worker_per_allowed_cpu)
{
  futures_pool_t *pool = NULL;
  size_t ncpu = allowed_cpus();
  future_t **held = calloc(ncpu, sizeof(*held));
  struct tu_crowd h;

  ck_assert_ptr_nonnull(held);
  ck_assert_int_eq(futures_pool_create(&pool, 0), 0);
  ck_assert_ptr_nonnull(pool);
  ck_assert_uint_eq(pool_workers(pool), ncpu);
  /* All ncpu workers exist: ncpu tasks run at the same time. */
  ck_assert_int_eq(tu_crowd_hold(pool, &h, held, ncpu), 0);
  ck_assert_int_eq(tu_crowd_release(&h, held, ncpu), 0);
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(held);
}
END_TEST

/* A one-worker pool reports one worker and runs tasks. */
START_TEST(test_pool_with_one_thread_has_one_worker_and_runs_tasks)
{
  futures_pool_t *pool = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_ptr_nonnull(pool);
  ck_assert_uint_eq(pool_workers(pool), 1);
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A pool of MANY_WORKERS (64, far more than the 2-16 CPUs of a CI machine)
 * reports them all, and all of them run tasks at the same time.
 */
START_TEST(test_pool_with_many_threads_runs_that_many_tasks_at_once)
{
  futures_pool_t *pool = NULL;
  future_t *held[MANY_WORKERS];
  struct tu_crowd h;

  ck_assert_int_eq(futures_pool_create(&pool, MANY_WORKERS), 0);
  ck_assert_ptr_nonnull(pool);
  ck_assert_uint_eq(pool_workers(pool), MANY_WORKERS);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, held, MANY_WORKERS), 0);
  ck_assert_int_eq(tu_crowd_release(&h, held, MANY_WORKERS), 0);
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Creating and destroying in a loop works each time (no state leaks). */
START_TEST(test_pool_create_destroy_repeatedly)
{
  int i;

  for (i = 0; i < 50; i++) {
    futures_pool_t *pool = NULL;

    ck_assert_int_eq(futures_pool_create(&pool, (size_t)(i % 4) + 1), 0);
    ck_assert_uint_eq(pool_workers(pool), (size_t)(i % 4) + 1);
    check_pool_runs_a_task(pool);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
  }
}
END_TEST

/* NULL options mean FUTURES_POOL_OPTS_INIT: one worker per allowed CPU. */
START_TEST(test_pool_create_ex_with_null_options_uses_defaults)
{
  futures_pool_t *pool = NULL;

  ck_assert_int_eq(futures_pool_create_ex(&pool, NULL), 0);
  ck_assert_ptr_nonnull(pool);
  ck_assert_uint_eq(pool_workers(pool), allowed_cpus());
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* opts->nthreads sets the number of workers, as nthreads does for create. */
START_TEST(test_pool_create_ex_uses_nthreads_option)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;

  opts.nthreads = 3;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  ck_assert_uint_eq(pool_workers(pool), 3);
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * opts->name is the workers' thread-name prefix, and it is copied: the
 * caller's buffer is overwritten after create, and workers keep the name.
 */
START_TEST(test_pool_create_ex_names_workers_with_copied_prefix)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  struct thread_info ti;
  char name[] = "tpool";

  opts.nthreads = 1;
  opts.name = name;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  memset(name, 'x', sizeof(name) - 1);
  run_thread_info_on_worker(pool, &ti);
  ck_assert_int_eq(ti.name_rc, 0);
  ck_assert_msg(strncmp(ti.name, "tpool", 5) == 0,
                "worker thread name \"%s\" does not start with \"tpool\"",
                ti.name);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* With no name option, worker names start with the default "futures". */
START_TEST(test_pool_workers_default_name_prefix_is_futures)
{
  futures_pool_t *pool = NULL;
  struct thread_info ti;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  run_thread_info_on_worker(pool, &ti);
  ck_assert_int_eq(ti.name_rc, 0);
  ck_assert_msg(strncmp(ti.name, "futures", 7) == 0,
                "worker thread name \"%s\" does not start with \"futures\"",
                ti.name);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * opts->stack_size sets the workers' stacks. 256 KiB is far from every
 * system default (8 MiB from ulimit -s, 2 MiB or more otherwise); glibc
 * may round up by a page or a guard, so accept anything below 1 MiB.
 */
START_TEST(test_pool_create_ex_sets_worker_stack_size)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  struct thread_info ti;
  size_t want = 256 * 1024;

  opts.nthreads = 1;
  opts.stack_size = want;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), 0);
  run_thread_info_on_worker(pool, &ti);
  ck_assert_int_eq(ti.attr_rc, 0);
  ck_assert_uint_ge(ti.stack_size, want);
  ck_assert_uint_lt(ti.stack_size, 1024 * 1024);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * On a quiet pool the counters are exact: with the one worker held and 100
 * tasks queued behind it, 101 were submitted, 1 runs, 100 are queued.
 */
START_TEST(test_pool_stats_are_exact_on_a_quiet_pool)
{
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  future_t *held[1], *f[100];
  struct tu_crowd h;
  size_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_uint_eq(st.size, sizeof(st));
  ck_assert_uint_eq(st.workers, 1);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.running, 0);
  ck_assert_uint_eq(st.submitted, 0);
  ck_assert_uint_eq(st.completed, 0);
  ck_assert_uint_eq(st.cancelled, 0);
  ck_assert_int_eq(st.shutting_down, 0);

  ck_assert_int_eq(tu_crowd_hold(pool, &h, held, 1), 0);
  for (i = 0; i < 100; i++)
    ck_assert_int_eq(
        futures_submit(pool, plus_one_task, (void *)(uintptr_t)i, &f[i]), 0);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_uint_eq(st.workers, 1);
  ck_assert_uint_eq(st.queued, 100);
  ck_assert_uint_eq(st.running, 1);
  ck_assert_uint_eq(st.submitted, 101);
  ck_assert_uint_eq(st.completed, 0);
  ck_assert_uint_eq(st.cancelled, 0);
  ck_assert_int_eq(st.shutting_down, 0);

  ck_assert_int_eq(tu_crowd_release(&h, held, 1), 0);
  for (i = 0; i < 100; i++) {
    void *r = NULL;

    ck_assert_int_eq(future_get(f[i], &r), 0);
    ck_assert_ptr_eq(r, (void *)(uintptr_t)(i + 1));
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ errors */

/* A NULL out pointer is refused with EINVAL, for create and create_ex. */
START_TEST(test_pool_create_with_null_out_pointer_returns_einval)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;

  ck_assert_int_eq(futures_pool_create(NULL, 1), EINVAL);
  ck_assert_int_eq(futures_pool_create(NULL, 0), EINVAL);
  ck_assert_int_eq(futures_pool_create_ex(NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_pool_create_ex(NULL, &opts), EINVAL);
}
END_TEST

/*
 * More than 4096 workers is EINVAL and *pool is set to NULL (it starts as
 * a non-NULL sentinel so that "left alone" is told from "set to NULL").
 */
START_TEST(test_pool_create_with_too_many_threads_returns_einval)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = (futures_pool_t *)&opts;

  ck_assert_int_eq(futures_pool_create(&pool, MAX_WORKERS + 1), EINVAL);
  ck_assert_ptr_null(pool);
  pool = (futures_pool_t *)&opts;
  ck_assert_int_eq(futures_pool_create(&pool, SIZE_MAX), EINVAL);
  ck_assert_ptr_null(pool);
  pool = (futures_pool_t *)&opts;
  opts.nthreads = MAX_WORKERS + 1;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);
}
END_TEST

/* An overflow policy outside enum futures_overflow is EINVAL, pool NULL. */
START_TEST(test_pool_create_ex_with_bad_overflow_returns_einval)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = (futures_pool_t *)&opts;

  opts.nthreads = 1;
  opts.max_queued = 8; /* the policy matters only for a bounded pool */
  opts.overflow = 3;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);
  pool = (futures_pool_t *)&opts;
  opts.overflow = -1;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);
}
END_TEST

/* A flag bit that FUTURES_POOL_* does not define is EINVAL, pool NULL. */
START_TEST(test_pool_create_ex_with_unknown_flag_returns_einval)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = (futures_pool_t *)&opts;

  opts.nthreads = 1;
  opts.flags = 0x80000000u;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
  ck_assert_ptr_null(pool);
}
END_TEST

/*
 * opts->size smaller than the first version's struct (the one ending at
 * name) is EINVAL: zero, one field's worth, and one byte short.
 */
START_TEST(test_pool_create_ex_with_too_small_size_returns_einval)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = (futures_pool_t *)&opts;
  const size_t sizes[] = {0, sizeof(size_t),
                          offsetof(futures_pool_opts_t, name) +
                              sizeof(opts.name) - 1};
  size_t i;

  opts.nthreads = 1;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    opts.size = sizes[i];
    pool = (futures_pool_t *)&opts;
    ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EINVAL);
    ck_assert_ptr_null(pool);
  }
}
END_TEST

/*
 * When a worker thread cannot be started, create returns EAGAIN, sets
 * *pool to NULL and leaves no thread behind. A stack of 2^50 bytes is
 * larger than the 47-bit user address space, so pthread_create() fails.
 */
START_TEST(test_pool_create_returns_eagain_when_a_thread_cannot_start)
{
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = (futures_pool_t *)&opts;
  long before = settled_thread_count();

  opts.nthreads = 2;
  opts.stack_size = (size_t)1 << 50;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &opts), EAGAIN);
  ck_assert_ptr_null(pool);
  ck_assert_int_le(wait_thread_count(before), before);
}
END_TEST

/* Destroying NULL is EINVAL, in both forms. */
START_TEST(test_pool_destroy_null_returns_einval)
{
  ck_assert_int_eq(futures_pool_destroy(NULL), EINVAL);
  ck_assert_int_eq(futures_pool_destroy_ex(NULL, FUTURES_DESTROY_DRAIN),
                   EINVAL);
  ck_assert_int_eq(futures_pool_destroy_ex(NULL, FUTURES_DESTROY_CANCEL),
                   EINVAL);
}
END_TEST

/* ------------------------------------------------------------ shutdown */

/*
 * destroy joins the workers: once it returns, the process is back to the
 * threads it had before the pool was created.
 */
START_TEST(test_pool_destroy_leaves_no_worker_thread_running)
{
  futures_pool_t *pool = NULL;
  long before = settled_thread_count();

  ck_assert_int_eq(futures_pool_create(&pool, 8), 0);
  ck_assert_int_ge(thread_count(), before + 8);
  check_pool_runs_a_task(pool);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_le(wait_thread_count(before), before);
}
END_TEST

/* Pools are independent: destroying one leaves another running. */
START_TEST(test_pool_destroying_one_pool_leaves_another_working)
{
  futures_pool_t *a = NULL, *b = NULL;

  ck_assert_int_eq(futures_pool_create(&a, 2), 0);
  ck_assert_int_eq(futures_pool_create(&b, 2), 0);
  ck_assert_ptr_ne(a, b);
  ck_assert_int_eq(futures_pool_destroy(a), 0);
  check_pool_runs_a_task(b);
  ck_assert_uint_eq(pool_workers(b), 2);
  ck_assert_int_eq(futures_pool_destroy(b), 0);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/*
 * One pool's life, from whatever thread calls it: create it, run one task
 * on it, destroy it; with futures_pool_create_ex() and
 * futures_pool_destroy_ex() when @ex. Returns the number of steps that did
 * not do what they should.
 */
static int
pool_life(int ex, uintptr_t v)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *r = NULL;
  int bad = 0;

  o.nthreads = 2;
  if ((ex ? futures_pool_create_ex(&pool, &o) : futures_pool_create(&pool, 1)) !=
      0)
    return 1;
  if (futures_submit(pool, plus_one_task, (void *)v, &f) != 0) {
    bad++;
  } else {
    bad += future_get(f, &r) != 0 || r != (void *)(v + 1);
    future_release(f);
  }
  bad += (ex ? futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL)
             : futures_pool_destroy(pool)) != 0;
  return bad;
}

static atomic_int lives_bad;

static void
lives_thread(void *arg, int i)
{
  (void)arg;
  for (int k = 0; k < 10; k++)
    atomic_fetch_add(&lives_bad, pool_life((i + k) % 2, (uintptr_t)k));
}

static int
lives_task(void *arg, void **result)
{
  (void)arg;
  atomic_fetch_add(&lives_bad, pool_life(0, 7) + pool_life(1, 8));
  *result = NULL;
  return 0;
}

/*
 * Pools created, used and destroyed (both forms of each) from 4 threads at
 * once and in 8 tasks of another pool (the Threads and In a task lines).
 */
START_TEST(test_pool_create_and_destroy_from_many_threads_and_tasks)
{
  enum { TASKS = 8 };
  futures_pool_t *outer;
  future_t *f[TASKS];
  int bad;

  atomic_store(&lives_bad, 0);
  ck_assert_int_eq(futures_pool_create(&outer, 2), 0);
  for (int i = 0; i < TASKS; i++)
    ck_assert_int_eq(futures_submit(outer, lives_task, NULL, &f[i]), 0);
  ck_assert_int_eq(tu_run_threads(4, lives_thread, NULL), 0);
  ck_assert_int_eq(futures_join_all(f, TASKS, NULL), 0);
  for (int i = 0; i < TASKS; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(outer), 0);
  bad = atomic_load(&lives_bad);
  ck_assert_msg(bad == 0, "%d steps of a pool's life failed", bad);
}
END_TEST

Suite *
pool_suite(void)
{
  Suite *s = suite_create("pool");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc,
                 test_pool_with_zero_threads_has_one_worker_per_allowed_cpu);
  tcase_add_test(tc, test_pool_with_one_thread_has_one_worker_and_runs_tasks);
  tcase_add_test(tc, test_pool_with_many_threads_runs_that_many_tasks_at_once);
  tcase_add_test(tc, test_pool_create_destroy_repeatedly);
  tcase_add_test(tc, test_pool_create_ex_with_null_options_uses_defaults);
  tcase_add_test(tc, test_pool_create_ex_uses_nthreads_option);
  tcase_add_test(tc, test_pool_create_ex_names_workers_with_copied_prefix);
  tcase_add_test(tc, test_pool_workers_default_name_prefix_is_futures);
  tcase_add_test(tc, test_pool_create_ex_sets_worker_stack_size);
  tcase_add_test(tc, test_pool_stats_are_exact_on_a_quiet_pool);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_pool_create_with_null_out_pointer_returns_einval);
  tcase_add_test(tc, test_pool_create_with_too_many_threads_returns_einval);
  tcase_add_test(tc, test_pool_create_ex_with_bad_overflow_returns_einval);
  tcase_add_test(tc, test_pool_create_ex_with_unknown_flag_returns_einval);
  tcase_add_test(tc, test_pool_create_ex_with_too_small_size_returns_einval);
  tcase_add_test(tc,
                 test_pool_create_returns_eagain_when_a_thread_cannot_start);
  tcase_add_test(tc, test_pool_destroy_null_returns_einval);
  suite_add_tcase(s, tc);

  tc = tcase_create("shutdown");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_pool_destroy_leaves_no_worker_thread_running);
  tcase_add_test(tc, test_pool_destroying_one_pool_leaves_another_working);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_pool_create_and_destroy_from_many_threads_and_tasks);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(pool_suite());
}
