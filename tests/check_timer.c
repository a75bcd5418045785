/* SPDX-License-Identifier: MIT */
/*
 * check_timer: futures_after(). A timer's future resolves after its delay
 * (never before: that is checked against CLOCK_MONOTONIC; how late is a
 * bench's business), in deadline order, holding no worker; a cancel
 * settles it at once; a pool's destroy settles the pending ones with
 * ECANCELED. Nothing here waits for a long timer to fire: long delays are
 * cancelled or destroyed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "futures.h"
#include "testutil.h"

Suite *timer_suite(void);

#define MS 1000000LL
#define HOUR (3600LL * 1000 * MS)

/* ------------------------------------------------------------ order */

#define NT 200

struct fired_log {
  pthread_mutex_t lock;
  int order[NT];
  int n;
  long long when[NT];   /* CLOCK_MONOTONIC at the continuation */
  long long before[NT]; /* clock read just before futures_after() */
  long long after[NT];  /* and just after */
  long long delay[NT];
  int in_main[NT]; /* ran in the test's thread: attached after it fired */
  pthread_t main;
};

struct fired_arg {
  struct fired_log *log;
  int i;
};

/* Inline continuation: logs which timer fired, and when. */
static int
then_log(void *arg, int code, void *value, void **result)
{
  struct fired_arg *a = arg;
  long long now = tu_now_ns();

  (void)value;
  *result = NULL;
  pthread_mutex_lock(&a->log->lock);
  a->log->when[a->i] = now;
  a->log->in_main[a->i] = pthread_equal(pthread_self(), a->log->main);
  a->log->order[a->log->n++] = a->i;
  pthread_mutex_unlock(&a->log->lock);
  return code;
}

/*
 * 200 timers with delays in a shuffled order: each resolves no earlier
 * than its delay after it was made, and they fire in deadline order: a
 * timer never fires before one whose deadline was surely earlier (the
 * deadline of timer i lies between before[i] + delay[i] and after[i] +
 * delay[i]). The order is read from inline continuations run by the timer
 * thread; one attached after its timer fired runs here and is left out.
 */
START_TEST(test_timer_many_resolve_in_deadline_order)
{
  static struct fired_log log;
  static struct fired_arg args[NT];
  futures_pool_t *pool;
  future_t *t[NT], *c[NT];

  pthread_mutex_init(&log.lock, NULL);
  log.n = 0;
  log.main = pthread_self();
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  srand(7);
  for (int i = 0; i < NT; i++) {
    log.delay[i] = (long long)(rand() % 100) * MS / 2; /* 0 .. 50 ms */
    args[i].log = &log;
    args[i].i = i;
    log.before[i] = tu_now_ns();
    ck_assert_int_eq(futures_after(pool, log.delay[i], &t[i]), 0);
    log.after[i] = tu_now_ns();
    ck_assert_int_eq(futures_then_inline(t[i], then_log, &args[i], &c[i]), 0);
  }
  for (int i = 0; i < NT; i++) {
    ck_assert_int_eq(future_get(c[i], NULL), 0);
    ck_assert_int_eq(future_get(t[i], NULL), 0);
  }
  ck_assert_int_eq(log.n, NT);
  for (int i = 0; i < NT; i++)
    ck_assert_msg(log.when[i] >= log.before[i] + log.delay[i],
                  "timer %d fired %lld ns early", i,
                  log.before[i] + log.delay[i] - log.when[i]);
  for (int k = 1; k < NT; k++) {
    int a = log.order[k - 1], b = log.order[k];

    /* A continuation attached after its timer fired ran in this thread,
     * later than the timer: its place in the log says nothing. */
    if (log.in_main[a] || log.in_main[b])
      continue;
    /* a fired first: b's deadline must not be surely before a's. */
    ck_assert_msg(log.after[b] + log.delay[b] >= log.before[a] + log.delay[a],
                  "timer %d fired before timer %d with an earlier deadline",
                  a, b);
  }
  for (int i = 0; i < NT; i++) {
    future_release(c[i]);
    future_release(t[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  pthread_mutex_destroy(&log.lock);
}
END_TEST

/* ------------------------------------------------------------ cancel */

/*
 * Cancelling pending timers (one that never fires, ten thousand of an
 * hour) settles each with ECANCELED at once; a short timer made after
 * them still fires; nothing leaks (ASan, memcheck).
 */
START_TEST(test_timer_cancel_settles_at_once_and_leaves_the_heap)
{
  enum { N = 10000 };
  static future_t *t[N];
  futures_pool_t *pool;
  future_t *never, *soon;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_after(pool, LLONG_MAX, &never), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(futures_after(pool, HOUR + i, &t[i]), 0);
  ck_assert_int_eq(future_is_ready(never), 0);
  ck_assert_int_eq(future_cancel(never), 0);
  ck_assert_int_eq(future_is_ready(never), 1);
  ck_assert_int_eq(future_get(never, NULL), ECANCELED);
  ck_assert_int_eq(future_cancel(never), EALREADY);
  /* Odd ones first, then even ones: removals from the heap's middle. */
  for (int i = 1; i < N; i += 2)
    ck_assert_int_eq(future_cancel(t[i]), 0);
  for (int i = 0; i < N; i += 2)
    ck_assert_int_eq(future_cancel(t[i]), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(future_is_ready(t[i]), 1);
    ck_assert_int_eq(future_get(t[i], NULL), ECANCELED);
    future_release(t[i]);
  }
  ck_assert_int_eq(futures_after(pool, 1 * MS, &soon), 0);
  ck_assert_int_eq(future_get(soon, NULL), 0);
  future_release(soon);
  future_release(never);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ destroy */

static int
then_code(void *arg, int code, void *value, void **result)
{
  (void)value;
  *result = NULL;
  atomic_fetch_add((atomic_int *)arg, 1);
  return code;
}

/*
 * A pool's destroy, in either mode, settles its pending timers with
 * ECANCELED at once (it does not wait an hour), with their inline
 * continuations; continuations on another pool then run with
 * ECANCELED; a timer made once destroy has begun is ESHUTDOWN.
 */
START_TEST(test_timer_destroy_settles_pending_ecanceled_in_both_modes)
{
  for (int mode = 0; mode < 2; mode++) {
    futures_pool_t *pool, *other;
    future_t *t1, *t2, *ci, *co;
    atomic_int runs;
    long long t0;

    atomic_init(&runs, 0);
    ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
    ck_assert_int_eq(futures_pool_create(&other, 1), 0);
    ck_assert_int_eq(futures_after(pool, HOUR, &t1), 0);
    ck_assert_int_eq(futures_after(pool, LLONG_MAX, &t2), 0);
    ck_assert_int_eq(futures_then_inline(t1, then_code, &runs, &ci), 0);
    ck_assert_int_eq(futures_then(other, t2, then_code, &runs, &co), 0);
    t0 = tu_now_ns();
    ck_assert_int_eq(futures_pool_destroy_ex(pool, mode == 0
                                                       ? FUTURES_DESTROY_DRAIN
                                                       : FUTURES_DESTROY_CANCEL),
                     0);
    ck_assert_int_eq(future_is_ready(t1), 1);
    ck_assert_int_eq(future_is_ready(t2), 1);
    ck_assert_int_eq(future_get(t1, NULL), ECANCELED);
    ck_assert_int_eq(future_get(t2, NULL), ECANCELED);
    ck_assert_int_eq(future_get(ci, NULL), ECANCELED);
    ck_assert_int_eq(future_get(co, NULL), ECANCELED);
    ck_assert_int_eq(atomic_load(&runs), 2);
    ck_assert(tu_now_ns() - t0 < HOUR);
    future_release(t1);
    future_release(t2);
    future_release(ci);
    future_release(co);
    ck_assert_int_eq(futures_pool_destroy(other), 0);
  }
}
END_TEST

/* A task that makes timers on its own pool until the pool's destroy
 * refuses one (ESHUTDOWN), releasing each; counts the timers made. */
struct maker {
  futures_pool_t *pool;
  struct tu_count started;
  atomic_long made;
  atomic_int bad;
};

static int
task_make_timers(void *arg, void **result)
{
  struct maker *m = arg;
  int rc;

  *result = NULL;
  tu_count_down(&m->started);
  for (;;) {
    future_t *t;

    rc = futures_after(m->pool, (atomic_load(&m->made) % 3) * MS, &t);
    if (rc == ESHUTDOWN)
      return 0;
    if (rc != 0) {
      atomic_fetch_add(&m->bad, 1);
      return rc;
    }
    atomic_fetch_add(&m->made, 1);
    future_release(t);
  }
}

/*
 * Tasks of a pool make timers on it in a loop while the pool is
 * destroyed: each call returns 0 or ESHUTDOWN, every task ends, and no
 * timer made before the close leaks (ASan, memcheck).
 */
START_TEST(test_timer_created_from_many_threads_racing_destroy)
{
  for (int round = 0; round < 10; round++) {
    struct maker m;
    future_t *f[2];

    ck_assert_int_eq(futures_pool_create(&m.pool, 2), 0);
    tu_count_init(&m.started, 2);
    atomic_init(&m.made, 0);
    atomic_init(&m.bad, 0);
    for (int i = 0; i < 2; i++)
      ck_assert_int_eq(futures_submit(m.pool, task_make_timers, &m, &f[i]), 0);
    tu_count_wait(&m.started);
    ck_assert_int_eq(futures_pool_destroy_ex(m.pool, round % 2
                                                         ? FUTURES_DESTROY_CANCEL
                                                         : FUTURES_DESTROY_DRAIN),
                     0);
    for (int i = 0; i < 2; i++) {
      ck_assert_int_eq(future_get(f[i], NULL), 0);
      future_release(f[i]);
    }
    ck_assert_int_eq(atomic_load(&m.bad), 0);
    ck_assert(atomic_load(&m.made) > 0);
    tu_count_destroy(&m.started);
  }
}
END_TEST

/* ------------------------------------------------------------ seed */

static int
then_task_done(void *arg, int code, void *value, void **result)
{
  (void)value;
  *result = arg; /* "Task 1 done" */
  return code;
}

static int
task_count(void *arg, void **result)
{
  atomic_fetch_add((atomic_int *)arg, 1);
  *result = NULL;
  return 0;
}

/*
 * The seed's wait(ms) on a 1-worker pool: two timers, each followed by a
 * continuation on that pool. While they are pending, the one worker runs
 * 100 other tasks (a waiting timer holds no worker). Joined in parallel,
 * two short timers take at least the longer delay (never less).
 */
START_TEST(test_timer_seed_on_one_worker_runs_other_work_meanwhile)
{
  static char msg1[] = "Task 1 done", msg2[] = "Task 2 done";
  futures_pool_t *pool;
  future_t *t[2], *c[2], *w[100];
  void *res[2] = {NULL, NULL};
  atomic_int ran;
  long long t0;

  atomic_init(&ran, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_after(pool, HOUR, &t[0]), 0);
  ck_assert_int_eq(futures_after(pool, HOUR / 2, &t[1]), 0);
  ck_assert_int_eq(futures_then(pool, t[0], then_task_done, msg1, &c[0]), 0);
  ck_assert_int_eq(futures_then(pool, t[1], then_task_done, msg2, &c[1]), 0);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq(futures_submit(pool, task_count, &ran, &w[i]), 0);
  for (int i = 0; i < 100; i++) {
    struct timespec dl = tu_deadline_in(60000 * MS);

    /* A timed wait runs nothing in this thread: the worker ran them. */
    ck_assert_int_eq(future_wait_until(w[i], &dl), 0);
    future_release(w[i]);
  }
  ck_assert_int_eq(atomic_load(&ran), 100);
  ck_assert_int_eq(future_is_ready(c[0]), 0);
  ck_assert_int_eq(future_is_ready(c[1]), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(future_cancel(t[i]), 0);
    ck_assert_int_eq(future_get(c[i], NULL), ECANCELED);
    future_release(c[i]);
    future_release(t[i]);
  }

  /* Promise.all([task1(), task2()]) with 40 ms and 20 ms. */
  t0 = tu_now_ns();
  ck_assert_int_eq(futures_after(pool, 40 * MS, &t[0]), 0);
  ck_assert_int_eq(futures_after(pool, 20 * MS, &t[1]), 0);
  ck_assert_int_eq(futures_then(pool, t[0], then_task_done, msg1, &c[0]), 0);
  ck_assert_int_eq(futures_then(pool, t[1], then_task_done, msg2, &c[1]), 0);
  ck_assert_int_eq(futures_join_all(c, 2, res), 0);
  ck_assert(tu_now_ns() - t0 >= 40 * MS);
  ck_assert_str_eq(res[0], "Task 1 done");
  ck_assert_str_eq(res[1], "Task 2 done");
  for (int i = 0; i < 2; i++) {
    future_release(c[i]);
    future_release(t[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ timer thread */

struct in_timer {
  futures_pool_t *pool;
  future_t *other; /* a pending timer of the same pool */
  int destroy_rc, wait_rc;
  struct tu_latch entered;
  pthread_t main; /* a continuation attached after its timer fired runs
                   * here: it then does nothing (the test tries again) */
};

/* Inline continuation in the pool's timer thread: destroying the pool
 * from here is EDEADLK (it would join this very thread). */
static int
then_destroy_own_pool(void *arg, int code, void *value, void **result)
{
  struct in_timer *t = arg;

  (void)value;
  *result = NULL;
  if (!pthread_equal(pthread_self(), t->main))
    t->destroy_rc = futures_pool_destroy(t->pool);
  return code;
}

/* Inline continuation in the pool's timer thread that waits for another
 * timer of the pool, which only the pool's destroy settles. */
static int
then_wait_other_timer(void *arg, int code, void *value, void **result)
{
  struct in_timer *t = arg;

  (void)value;
  *result = NULL;
  if (pthread_equal(pthread_self(), t->main))
    return code;
  tu_latch_open(&t->entered);
  t->wait_rc = future_get(t->other, NULL);
  return code;
}

/*
 * In a pool's timer thread (an inline continuation of its timer),
 * futures_pool_destroy() of that pool is EDEADLK and changes nothing; and
 * when the timer thread waits there for another timer of the pool, the
 * pool's destroy from another thread settles that timer (ECANCELED) and
 * returns: it does not wait for the timer thread first.
 */
START_TEST(test_timer_thread_destroy_is_edeadlk_and_destroy_unblocks_it)
{
  struct in_timer t;
  future_t *soon, *c;

  t.destroy_rc = t.wait_rc = -1;
  t.main = pthread_self();
  tu_latch_init(&t.entered);
  ck_assert_int_eq(futures_pool_create(&t.pool, 1), 0);
  for (int tries = 0; tries < 100 && t.destroy_rc == -1; tries++) {
    ck_assert_int_eq(futures_after(t.pool, 1 * MS, &soon), 0);
    ck_assert_int_eq(futures_then_inline(soon, then_destroy_own_pool, &t, &c),
                     0);
    ck_assert_int_eq(future_get(c, NULL), 0);
    future_release(c);
    future_release(soon);
  }
  ck_assert_int_eq(t.destroy_rc, EDEADLK);

  ck_assert_int_eq(futures_after(t.pool, HOUR, &t.other), 0);
  for (int tries = 0;; tries++) {
    ck_assert_int_lt(tries, 100);
    ck_assert_int_eq(futures_after(t.pool, 1 * MS, &soon), 0);
    ck_assert_int_eq(
        futures_then_inline(soon, then_wait_other_timer, &t, &c), 0);
    /* Run here (settled: it waited for nothing), or due in the timer
     * thread, where it waits until the destroy. */
    if (!future_is_ready(c))
      break;
    future_release(c);
    future_release(soon);
  }
  tu_latch_wait(&t.entered);
  ck_assert_int_eq(futures_pool_destroy(t.pool), 0);
  ck_assert_int_eq(future_get(c, NULL), 0);
  ck_assert_int_eq(t.wait_rc, ECANCELED);
  future_release(c);
  future_release(soon);
  future_release(t.other);
  tu_latch_destroy(&t.entered);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * NULL arguments are EINVAL; a delay of 0 or less resolves at once; no
 * one may resolve or reject a timer (EINVAL); after destroy began,
 * futures_after() on that pool is ESHUTDOWN (checked by
 * test_timer_created_from_many_threads_racing_destroy).
 */
START_TEST(test_timer_bad_input)
{
  futures_pool_t *pool;
  future_t *t = (future_t *)&pool;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_after(NULL, MS, &t), EINVAL);
  ck_assert_ptr_null(t);
  ck_assert_int_eq(futures_after(pool, MS, NULL), EINVAL);
  ck_assert_int_eq(futures_after(pool, 0, &t), 0);
  ck_assert_int_eq(future_is_ready(t), 1);
  ck_assert_int_eq(future_get(t, NULL), 0);
  future_release(t);
  ck_assert_int_eq(futures_after(pool, -5 * MS, &t), 0);
  ck_assert_int_eq(future_is_ready(t), 1);
  future_release(t);
  ck_assert_int_eq(futures_after(pool, LLONG_MIN, &t), 0);
  ck_assert_int_eq(future_is_ready(t), 1);
  future_release(t);
  ck_assert_int_eq(futures_after(pool, HOUR, &t), 0);
  ck_assert_int_eq(future_resolve(t, NULL), EINVAL);
  ck_assert_int_eq(future_reject(t, EIO), EINVAL);
  ck_assert_int_eq(future_is_ready(t), 0);
  future_release(t); /* the destroy settles it */
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

Suite *
timer_suite(void)
{
  Suite *s = suite_create("timer");
  TCase *tc;

  tc = tcase_create("timer");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_timer_many_resolve_in_deadline_order);
  tcase_add_test(tc, test_timer_cancel_settles_at_once_and_leaves_the_heap);
  tcase_add_test(tc, test_timer_destroy_settles_pending_ecanceled_in_both_modes);
  tcase_add_test(tc, test_timer_created_from_many_threads_racing_destroy);
  tcase_add_test(tc, test_timer_seed_on_one_worker_runs_other_work_meanwhile);
  tcase_add_test(tc, test_timer_thread_destroy_is_edeadlk_and_destroy_unblocks_it);
  tcase_add_test(tc, test_timer_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(timer_suite());
}
