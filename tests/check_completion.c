/* SPDX-License-Identifier: MIT */
/*
 * check_completion: as-completed iteration. A set hands back the indices
 * of its inputs in the order they settle (forced here with promises
 * resolved in a chosen order, and with tasks released by latches onto a
 * 1-worker pool, which runs them oldest first), each index once, also
 * when many threads settle them or take them; then ENOENT. A task of a
 * 1-worker pool can iterate over its queued sub-tasks and over inputs
 * queued from outside; a task waiting on its own future gets EDEADLK;
 * deadlines expire and saturate as future_wait_until()'s do; destroy with
 * inputs pending, or racing their settles, leaks nothing (ASan, memcheck).
 * Tasks and helper threads only record; the test thread asserts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *completion_suite(void);

#define NO_INDEX ((size_t)-1)
#define SEC      1000000000LL
#define FAR_NS   (30 * SEC) /* a bound only a hang reaches */

/* ------------------------------------------------------------ helpers */

static int
value_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* Hands back every index of @set until ENOENT into @out (at most @max);
 * returns how many, or -1 - k if the k-th call failed otherwise. */
static long
drain(futures_as_completed_t *set, size_t *out, size_t max)
{
  size_t k = 0, i;
  int rc;

  while ((rc = futures_as_completed_next(set, &i)) == 0) {
    if (k == max)
      return -2 - (long)k;
    out[k++] = i;
  }
  return rc == ENOENT ? (long)k : -1 - (long)k;
}

/* The scheduler state of thread @tid ('S': asleep). */
static char
thread_state(pid_t tid)
{
  char path[64], buf[512], *p;
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
  if ((fd = open(path, O_RDONLY)) < 0)
    return '?';
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return '?';
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' ? p[2] : '?';
}

/* A thread that calls next() or next_until() on a set once. */
struct taker {
  futures_as_completed_t *set;
  struct timespec deadline;
  int timed;
  pid_t tid;
  atomic_int entered, returned;
  int rc;
  size_t index;
};

static void *
taker_main(void *arg)
{
  struct taker *t = arg;

  t->tid = (pid_t)syscall(SYS_gettid);
  TU_PUB_STORE(&t->entered, 1);
  t->rc = t->timed
              ? futures_as_completed_next_until(t->set, &t->deadline, &t->index)
              : futures_as_completed_next(t->set, &t->index);
  TU_PUB_STORE(&t->returned, 1);
  return NULL;
}

/* The taker is asleep inside its call (or returned). */
static int
taker_parked(void *arg)
{
  struct taker *t = arg;

  if (TU_PUB_LOAD(&t->returned))
    return 1;
  return TU_PUB_LOAD(&t->entered) && thread_state(t->tid) == 'S';
}

static void
taker_start(struct taker *t, pthread_t *th, futures_as_completed_t *set,
            const struct timespec *deadline)
{
  memset(t, 0, sizeof(*t));
  t->set = set;
  t->timed = deadline != NULL;
  if (deadline != NULL)
    t->deadline = *deadline;
  t->rc = -1;
  atomic_init(&t->entered, 0);
  atomic_init(&t->returned, 0);
  ck_assert_int_eq(pthread_create(th, NULL, taker_main, t), 0);
  ck_assert_msg(tu_spin_until(taker_parked, t, FAR_NS),
                "the taker never blocked");
}

/* ------------------------------------------------------------ order */

/*
 * Promises settled in a chosen order come back in that order: first the
 * inputs that had settled at create (in index order), then the others in
 * the order the test resolved, rejected or cancelled them (each settle
 * runs the set's callback before it returns). Every outcome counts. Then
 * ENOENT, again and again.
 */
START_TEST(test_completion_returns_indices_in_settle_order)
{
  enum { N = 6 };
  static const size_t settle[] = {4, 0, 5, 2};
  future_t *p[N];
  futures_as_completed_t *set;
  size_t got[N], i;

  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
  /* Settled before the set exists: 3, then 1; they come first, 1 then 3. */
  ck_assert_int_eq(future_resolve(p[3], NULL), 0);
  ck_assert_int_eq(future_reject(p[1], EIO), 0);
  ck_assert_int_eq(futures_as_completed_create(p, N, &set), 0);
  for (i = 0; i < 4; i++) {
    size_t k = settle[i];

    if (i == 1)
      ck_assert_int_eq(future_cancel(p[k]), 0);
    else if (i == 2)
      ck_assert_int_eq(future_reject(p[k], EPIPE), 0);
    else
      ck_assert_int_eq(future_resolve(p[k], &p[k]), 0);
  }
  ck_assert_int_eq(drain(set, got, N), N);
  ck_assert_uint_eq(got[0], 1);
  ck_assert_uint_eq(got[1], 3);
  for (i = 0; i < 4; i++)
    ck_assert_uint_eq(got[2 + i], settle[i]);
  /* The outcomes are the futures' own. */
  ck_assert_int_eq(future_get(p[0], NULL), ECANCELED);
  ck_assert_int_eq(future_get(p[5], NULL), EPIPE);
  i = 99;
  ck_assert_int_eq(futures_as_completed_next(set, &i), ENOENT);
  ck_assert_uint_eq(i, NO_INDEX);
  ck_assert_int_eq(futures_as_completed_next(set, &i), ENOENT);
  futures_as_completed_destroy(set);
  for (i = 0; i < N; i++)
    future_release(p[i]);
}
END_TEST

/*
 * Tasks settle in the order a 1-worker pool runs them: held behind a
 * tu_hold task, submitted from this thread in a chosen order of indices,
 * they run oldest first ("Order" in the header), and each one's callbacks
 * run before the worker takes the next. So the set hands back exactly the
 * submission order, though the array is in another.
 */
START_TEST(test_completion_tasks_come_back_in_the_order_they_ran)
{
  enum { N = 8 };
  static const size_t run_order[N] = {5, 2, 7, 0, 3, 6, 1, 4};
  futures_pool_t *pool;
  struct tu_hold hold;
  future_t *hf, *f[N];
  futures_as_completed_t *set;
  size_t got[N];

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  tu_hold_init(&hold, NULL);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &hold, &hf), 0);
  tu_latch_wait(&hold.started);
  for (size_t i = 0; i < N; i++) {
    size_t k = run_order[i];

    ck_assert_int_eq(futures_submit(pool, value_task, &f[k], &f[k]), 0);
  }
  ck_assert_int_eq(futures_as_completed_create(f, N, &set), 0);
  tu_latch_open(&hold.release);
  ck_assert_int_eq(drain(set, got, N), N);
  for (size_t i = 0; i < N; i++) {
    void *r = NULL;

    ck_assert_uint_eq(got[i], run_order[i]);
    ck_assert_int_eq(future_get(f[got[i]], &r), 0);
    ck_assert_ptr_eq(r, &f[got[i]]);
  }
  futures_as_completed_destroy(set);
  for (size_t i = 0; i < N; i++)
    future_release(f[i]);
  future_release(hf);
  tu_hold_destroy(&hold);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * The same future given three times, and a future settled before create
 * given twice: each index comes back once, in index order for a future's
 * own indices (its callbacks run in the order they were added).
 */
START_TEST(test_completion_duplicates_come_back_once_per_index)
{
  future_t *p, *q, *in[5];
  futures_as_completed_t *set;
  size_t got[5];

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_promise_create(&q), 0);
  ck_assert_int_eq(future_resolve(q, NULL), 0);
  in[0] = p;
  in[1] = q;
  in[2] = p;
  in[3] = q;
  in[4] = p;
  ck_assert_int_eq(futures_as_completed_create(in, 5, &set), 0);
  /* The set holds its own references: the caller's may go at once. */
  future_release(q);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ck_assert_int_eq(drain(set, got, 5), 5);
  ck_assert_uint_eq(got[0], 1);
  ck_assert_uint_eq(got[1], 3);
  ck_assert_uint_eq(got[2], 0);
  ck_assert_uint_eq(got[3], 2);
  ck_assert_uint_eq(got[4], 4);
  futures_as_completed_destroy(set);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_completion_bad_input)
{
  futures_as_completed_t *set = (futures_as_completed_t *)&set;
  future_t *p, *in[2];
  struct timespec ts = {0, 0};
  size_t i;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  in[0] = p;
  in[1] = NULL;
  ck_assert_int_eq(futures_as_completed_create(in, 1, NULL), EINVAL);
  ck_assert_int_eq(futures_as_completed_create(NULL, 1, &set), EINVAL);
  ck_assert_ptr_null(set);
  set = (futures_as_completed_t *)&set;
  ck_assert_int_eq(futures_as_completed_create(in, 2, &set), EINVAL);
  ck_assert_ptr_null(set);
  i = 7;
  ck_assert_int_eq(futures_as_completed_next(NULL, &i), EINVAL);
  ck_assert_uint_eq(i, NO_INDEX);
  i = 7;
  ck_assert_int_eq(futures_as_completed_next_until(NULL, &ts, &i), EINVAL);
  ck_assert_uint_eq(i, NO_INDEX);
  futures_as_completed_destroy(NULL);

  /* n == 0 (the array may then be NULL): ENOENT at once, both ways. */
  ck_assert_int_eq(futures_as_completed_create(NULL, 0, &set), 0);
  ck_assert_ptr_nonnull(set);
  ck_assert_int_eq(futures_as_completed_next(set, &i), ENOENT);
  ck_assert_int_eq(futures_as_completed_next_until(set, &ts, &i), ENOENT);
  futures_as_completed_destroy(set);

  ck_assert_int_eq(futures_as_completed_create(in, 1, &set), 0);
  ck_assert_int_eq(futures_as_completed_next(set, NULL), EINVAL);
  ck_assert_int_eq(futures_as_completed_next_until(set, &ts, NULL), EINVAL);
  i = 7;
  ck_assert_int_eq(futures_as_completed_next_until(set, NULL, &i), EINVAL);
  ck_assert_uint_eq(i, NO_INDEX);
  ts.tv_nsec = 1000000000L;
  ck_assert_int_eq(futures_as_completed_next_until(set, &ts, &i), EINVAL);
  ts.tv_sec = -1;
  ts.tv_nsec = -1;
  ck_assert_int_eq(futures_as_completed_next_until(set, &ts, &i), EINVAL);
  /* None of that took the index. */
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ts.tv_sec = 0;
  ts.tv_nsec = 0;
  ck_assert_int_eq(futures_as_completed_next_until(set, &ts, &i), 0);
  ck_assert_uint_eq(i, 0);
  futures_as_completed_destroy(set);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ deadlines */

/*
 * A deadline passes with nothing settled: ETIMEDOUT and no index; a past
 * or negative deadline polls (it still hands back a settled index); the
 * late settle then comes back to the next call.
 */
START_TEST(test_completion_next_until_expires_then_hands_back_the_late_settle)
{
  future_t *p[2];
  futures_as_completed_t *set;
  struct timespec dl, past = {-5, 0};
  long long t0;
  size_t i;

  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(futures_promise_create(&p[k]), 0);
  ck_assert_int_eq(futures_as_completed_create(p, 2, &set), 0);
  t0 = tu_now_ns();
  dl = tu_deadline_in(20 * 1000000LL);
  i = 7;
  ck_assert_int_eq(futures_as_completed_next_until(set, &dl, &i), ETIMEDOUT);
  ck_assert_uint_eq(i, NO_INDEX);
  ck_assert_int_ge(tu_now_ns() - t0, 20 * 1000000LL);
  ck_assert_int_eq(futures_as_completed_next_until(set, &past, &i), ETIMEDOUT);
  ck_assert_int_eq(future_resolve(p[1], NULL), 0);
  ck_assert_int_eq(futures_as_completed_next_until(set, &past, &i), 0);
  ck_assert_uint_eq(i, 1);
  ck_assert_int_eq(futures_as_completed_next_until(set, &past, &i), ETIMEDOUT);
  ck_assert_int_eq(future_resolve(p[0], NULL), 0);
  dl = tu_deadline_in(FAR_NS);
  ck_assert_int_eq(futures_as_completed_next_until(set, &dl, &i), 0);
  ck_assert_uint_eq(i, 0);
  ck_assert_int_eq(futures_as_completed_next_until(set, &past, &i), ENOENT);
  futures_as_completed_destroy(set);
  for (int k = 0; k < 2; k++)
    future_release(p[k]);
}
END_TEST

/*
 * A deadline too far to count (the largest time_t) means for ever: the
 * taker sleeps until the promise is resolved, then gets its index (an
 * overflow would make it a past deadline: ETIMEDOUT at once).
 */
START_TEST(test_completion_next_until_max_time_t_waits_for_the_settle)
{
  struct timespec forever = {0, 999999999L};
  futures_as_completed_t *set;
  struct taker t;
  future_t *p;
  pthread_t th;

  forever.tv_sec = (time_t)((sizeof(time_t) == 8) ? INT64_MAX : INT32_MAX);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_as_completed_create(&p, 1, &set), 0);
  taker_start(&t, &th, set, &forever);
  ck_assert_int_eq(TU_PUB_LOAD(&t.returned), 0);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  pthread_join(th, NULL);
  ck_assert_int_eq(t.rc, 0);
  ck_assert_uint_eq(t.index, 0);
  futures_as_completed_destroy(set);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ waiting */

/*
 * Outside a task, next() only sleeps: with the only worker held, a queued
 * input stays queued while the caller sleeps in next() (it does not run
 * it), and comes back once the worker is let go and runs it.
 */
START_TEST(test_completion_outside_a_task_only_sleeps)
{
  futures_pool_t *pool;
  struct tu_hold hold, queued;
  futures_as_completed_t *set;
  future_t *hf, *f;
  struct taker t;
  pthread_t th;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  tu_hold_init(&hold, NULL);
  tu_hold_init(&queued, &queued);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &hold, &hf), 0);
  tu_latch_wait(&hold.started);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &queued, &f), 0);
  ck_assert_int_eq(futures_as_completed_create(&f, 1, &set), 0);
  taker_start(&t, &th, set, NULL);
  ck_assert_int_eq(tu_latch_is_open(&queued.started), 0);
  ck_assert_int_eq(TU_PUB_LOAD(&t.returned), 0);
  tu_latch_open(&hold.release);
  tu_latch_wait(&queued.started);
  tu_latch_open(&queued.release);
  pthread_join(th, NULL);
  ck_assert_int_eq(t.rc, 0);
  ck_assert_uint_eq(t.index, 0);
  futures_as_completed_destroy(set);
  future_release(f);
  future_release(hf);
  tu_hold_destroy(&hold);
  tu_hold_destroy(&queued);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ in a task */

#define SUBS 100

struct iter {
  futures_pool_t *pool;
  future_t *in[SUBS];   /* inputs made outside (the cursor cases) */
  future_t *ante[SUBS]; /* their antecedents (the continuation case) */
  atomic_int ran[SUBS]; /* runs of each sub-task */
  int setup_rc, iter_rc, dup, bad, count, after_rc;
  struct tu_latch go; /* the inputs are ready */
};

static int
count_task(void *arg, void **result)
{
  atomic_int *ran = arg;

  atomic_fetch_add(ran, 1);
  *result = arg;
  return 0;
}

/* Iterates @set to the end; records what it saw in @it. */
static void
iterate(struct iter *it, futures_as_completed_t *set, future_t **in)
{
  unsigned char seen[SUBS] = {0};
  size_t i;
  int rc;

  while ((rc = futures_as_completed_next(set, &i)) == 0) {
    void *r = NULL;

    if (i >= SUBS || seen[i]++) {
      it->dup++;
      continue;
    }
    it->count++;
    /* Settled: future_get() no longer waits, and sees the outcome. */
    if (!future_is_ready(in[i]) || future_get(in[i], &r) != 0 ||
        r != &it->ran[i])
      it->bad++;
  }
  it->iter_rc = rc;
  it->after_rc = futures_as_completed_next(set, &i);
}

/* Submits SUBS sub-tasks (to this worker's own deque), then iterates. */
static int
subtasks_task(void *arg, void **result)
{
  struct iter *it = arg;
  futures_as_completed_t *set;
  future_t *f[SUBS];

  (void)result;
  for (int i = 0; i < SUBS; i++)
    if ((it->setup_rc =
             futures_submit(it->pool, count_task, &it->ran[i], &f[i])) != 0)
      return it->setup_rc;
  if ((it->setup_rc = futures_as_completed_create(f, SUBS, &set)) != 0)
    return it->setup_rc;
  iterate(it, set, f);
  futures_as_completed_destroy(set);
  for (int i = 0; i < SUBS; i++)
    future_release(f[i]);
  return 0;
}

/* Waits for @f (timed: this thread never runs it) and returns its code. */
static int
wait_task(future_t *f)
{
  ck_assert_msg(future_wait_for(f, FAR_NS) == 0,
                "the iterating task never finished (a deadlock?)");
  return future_get(f, NULL);
}

static void
iter_init(struct iter *it, size_t workers)
{
  memset(it, 0, sizeof(*it));
  for (int i = 0; i < SUBS; i++)
    atomic_init(&it->ran[i], 0);
  it->setup_rc = -1;
  tu_latch_init(&it->go);
  ck_assert_int_eq(futures_pool_create(&it->pool, workers), 0);
}

static void
iter_check(struct iter *it)
{
  ck_assert_int_eq(it->setup_rc, 0);
  ck_assert_int_eq(it->dup, 0);
  ck_assert_int_eq(it->bad, 0);
  ck_assert_int_eq(it->count, SUBS);
  ck_assert_int_eq(it->iter_rc, ENOENT);
  ck_assert_int_eq(it->after_rc, ENOENT);
  for (int i = 0; i < SUBS; i++)
    ck_assert_int_eq(atomic_load(&it->ran[i]), 1);
  ck_assert_int_eq(futures_pool_destroy(it->pool), 0);
  tu_latch_destroy(&it->go);
}

/*
 * A task of a 1-worker pool submits 100 sub-tasks and iterates over them
 * as they complete: it is the only worker, so it must run them itself
 * while nothing has settled (it would wait for ever otherwise; the
 * timeout fails the test). Each index comes back once; then ENOENT.
 */
START_TEST(test_completion_task_iterates_its_queued_subtasks_on_one_worker)
{
  struct iter it;
  future_t *t;

  iter_init(&it, 1);
  ck_assert_int_eq(futures_submit(it.pool, subtasks_task, &it, &t), 0);
  ck_assert_int_eq(wait_task(t), 0);
  future_release(t);
  iter_check(&it);
}
END_TEST

/* Waits until the test thread has submitted the inputs, then iterates. */
static int
outside_inputs_task(void *arg, void **result)
{
  struct iter *it = arg;
  futures_as_completed_t *set;

  (void)result;
  tu_latch_wait(&it->go);
  if ((it->setup_rc = futures_as_completed_create(it->in, SUBS, &set)) != 0)
    return it->setup_rc;
  iterate(it, set, it->in);
  futures_as_completed_destroy(set);
  return 0;
}

/*
 * The inputs were submitted from outside (after the iterating task, which
 * the only worker therefore runs first): they wait in the pool's queues,
 * not in the task's deque. The task must find and run them through the
 * set (the joins' rule for a task: run the unstarted inputs of its pool).
 */
START_TEST(test_completion_task_runs_inputs_queued_from_outside_on_one_worker)
{
  struct iter it;
  future_t *t;

  iter_init(&it, 1);
  ck_assert_int_eq(futures_submit(it.pool, outside_inputs_task, &it, &t), 0);
  for (int i = 0; i < SUBS; i++)
    ck_assert_int_eq(futures_submit(it.pool, count_task, &it.ran[i], &it.in[i]),
                     0);
  tu_latch_open(&it.go);
  ck_assert_int_eq(wait_task(t), 0);
  future_release(t);
  for (int i = 0; i < SUBS; i++)
    future_release(it.in[i]);
  iter_check(&it);
}
END_TEST

static int
pass_on(void *arg, int code, void *value, void **result)
{
  (void)arg;
  *result = value;
  return code;
}

/*
 * The inputs are continuations of tasks queued from outside: none of them
 * can start before its antecedent has run, and the only worker is the
 * iterating task. It runs each antecedent, then the continuation that
 * this readies into its own deque.
 */
START_TEST(test_completion_task_runs_antecedents_of_continuation_inputs)
{
  struct iter it;
  future_t *t;

  iter_init(&it, 1);
  ck_assert_int_eq(futures_submit(it.pool, outside_inputs_task, &it, &t), 0);
  for (int i = 0; i < SUBS; i++) {
    ck_assert_int_eq(
        futures_submit(it.pool, count_task, &it.ran[i], &it.ante[i]), 0);
    ck_assert_int_eq(
        futures_then(it.pool, it.ante[i], pass_on, NULL, &it.in[i]), 0);
  }
  tu_latch_open(&it.go);
  ck_assert_int_eq(wait_task(t), 0);
  future_release(t);
  for (int i = 0; i < SUBS; i++) {
    future_release(it.in[i]);
    future_release(it.ante[i]);
  }
  iter_check(&it);
}
END_TEST

struct timed_sub {
  futures_pool_t *pool;
  atomic_int ran;
  int rc, rc2;
  size_t index;
};

static int
timed_sub_task(void *arg, void **result)
{
  struct timed_sub *ts = arg;
  futures_as_completed_t *set;
  struct timespec far = tu_deadline_in(FAR_NS);
  future_t *f;

  (void)result;
  if ((ts->rc = futures_submit(ts->pool, count_task, &ts->ran, &f)) != 0)
    return ts->rc;
  if ((ts->rc = futures_as_completed_create(&f, 1, &set)) == 0) {
    ts->rc = futures_as_completed_next_until(set, &far, &ts->index);
    ts->rc2 = futures_as_completed_next_until(set, &far, &ts->index);
    futures_as_completed_destroy(set);
  }
  future_release(f);
  return 0;
}

/* A timed next() in a task of a 1-worker pool runs its own queued
 * sub-task while it waits (as future_wait_until() does). */
START_TEST(test_completion_next_until_in_a_task_runs_its_subtask)
{
  struct timed_sub ts;
  future_t *t;

  memset(&ts, 0, sizeof(ts));
  atomic_init(&ts.ran, 0);
  ts.index = 7;
  ck_assert_int_eq(futures_pool_create(&ts.pool, 1), 0);
  ck_assert_int_eq(futures_submit(ts.pool, timed_sub_task, &ts, &t), 0);
  ck_assert_int_eq(wait_task(t), 0);
  ck_assert_int_eq(ts.rc, 0);
  ck_assert_int_eq(ts.rc2, ENOENT);
  ck_assert_uint_eq(ts.index, NO_INDEX);
  ck_assert_int_eq(atomic_load(&ts.ran), 1);
  future_release(t);
  ck_assert_int_eq(futures_pool_destroy(ts.pool), 0);
}
END_TEST

/* A task's own future among the inputs: EDEADLK at once, alone or with
 * another unfinished input, untimed and timed. */
static int
call_next(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t n = tu_self_wait_array(sw, arr), i;
  futures_as_completed_t *set;
  int rc;

  if ((rc = futures_as_completed_create(arr, n, &set)) != 0)
    return rc;
  rc = futures_as_completed_next(set, &i);
  if (rc != 0 && i != NO_INDEX)
    rc = EPROTO;
  futures_as_completed_destroy(set);
  return rc;
}

static int
call_next_until(struct tu_self_wait *sw)
{
  future_t *arr[2];
  size_t n = tu_self_wait_array(sw, arr), i;
  struct timespec far = tu_deadline_in(TU_SELF_FAR);
  futures_as_completed_t *set;
  int rc;

  if ((rc = futures_as_completed_create(arr, n, &set)) != 0)
    return rc;
  rc = futures_as_completed_next_until(set, &far, &i);
  futures_as_completed_destroy(set);
  return rc;
}

static future_t *settled_promise;

/* EDEADLK even when another input has settled already. */
static int
call_next_with_a_settled_input(struct tu_self_wait *sw)
{
  future_t *arr[2] = {settled_promise, sw->self};
  futures_as_completed_t *set;
  size_t i;
  int rc;

  if ((rc = futures_as_completed_create(arr, 2, &set)) != 0)
    return rc;
  rc = futures_as_completed_next(set, &i);
  futures_as_completed_destroy(set);
  return rc;
}

START_TEST(test_completion_own_future_from_its_task_is_edeadlk)
{
  tu_check_self_wait(call_next, 0, "futures_as_completed_next");
  tu_check_self_wait(call_next, 1, "futures_as_completed_next");
  tu_check_self_wait(call_next_until, 0, "futures_as_completed_next_until");
  tu_check_self_wait(call_next_until, 1, "futures_as_completed_next_until");
  ck_assert_int_eq(futures_promise_create(&settled_promise), 0);
  ck_assert_int_eq(future_resolve(settled_promise, NULL), 0);
  tu_check_self_wait(call_next_with_a_settled_input, 0,
                     "futures_as_completed_next (one input settled)");
  future_release(settled_promise);
}
END_TEST

/* ------------------------------------------------------------ fork */

/*
 * In a fork() child, a set of the parent's says ECHILD and destroy leaves
 * it alone; a set over the parent's unfinished promise cannot be made
 * (ECHILD), one over its settled promise works. The parent's set works on.
 */
START_TEST(test_completion_of_the_parent_is_echild_in_a_fork_child)
{
  futures_as_completed_t *set;
  future_t *p[2];
  pid_t pid;
  int status;
  size_t i;

  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(futures_promise_create(&p[k]), 0);
  ck_assert_int_eq(future_resolve(p[1], NULL), 0);
  ck_assert_int_eq(futures_as_completed_create(p, 2, &set), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct timespec now = {0, 0};
    futures_as_completed_t *mine = NULL;
    int bad = 0;

    signal(SIGALRM, SIG_DFL);
    alarm(20);
    bad |= (futures_as_completed_next(set, &i) != ECHILD) << 0;
    bad |= (futures_as_completed_next_until(set, &now, &i) != ECHILD) << 1;
    futures_as_completed_destroy(set);
    bad |= (futures_as_completed_create(p, 2, &mine) != ECHILD) << 2;
    bad |= (mine != NULL) << 3;
    if (futures_as_completed_create(&p[1], 1, &mine) != 0)
      bad |= 1 << 4;
    else if (futures_as_completed_next(mine, &i) != 0 || i != 0 ||
             futures_as_completed_next(mine, &i) != ENOENT)
      bad |= 1 << 5;
    futures_as_completed_destroy(mine);
    tu_child_exit(bad);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(futures_as_completed_next(set, &i), 0);
  ck_assert_uint_eq(i, 1);
  ck_assert_int_eq(future_resolve(p[0], NULL), 0);
  ck_assert_int_eq(futures_as_completed_next(set, &i), 0);
  ck_assert_uint_eq(i, 0);
  futures_as_completed_destroy(set);
  for (int k = 0; k < 2; k++)
    future_release(p[k]);
}
END_TEST

/* ------------------------------------------------------------ races */

#define NSETTLE    4
#define PER_THREAD 500
#define NMANY      (NSETTLE * PER_THREAD)

struct many {
  future_t *p[NMANY];
  futures_as_completed_t *set;
  pthread_barrier_t go;
  int create_rc;
};

static void
many_settler(void *arg, int t)
{
  struct many *m = arg;

  pthread_barrier_wait(&m->go);
  for (int k = 0; k < PER_THREAD; k++) {
    future_t *p = m->p[t * PER_THREAD + k];

    if (k % 3 == 0)
      (void)future_reject(p, EIO);
    else if (k % 3 == 1)
      (void)future_cancel(p);
    else
      (void)future_resolve(p, NULL);
  }
}

static void *
many_settlers(void *arg)
{
  tu_run_threads(NSETTLE, many_settler, arg);
  return NULL;
}

static struct many *
many_new(void)
{
  struct many *m = calloc(1, sizeof(*m));

  ck_assert_ptr_nonnull(m);
  for (int i = 0; i < NMANY; i++)
    ck_assert_int_eq(futures_promise_create(&m->p[i]), 0);
  pthread_barrier_init(&m->go, NULL, NSETTLE);
  return m;
}

static void
many_free(struct many *m)
{
  pthread_barrier_destroy(&m->go);
  for (int i = 0; i < NMANY; i++)
    future_release(m->p[i]);
  free(m);
}

/* Every index of @got [0, @k) once, each of a settled input. */
static void
check_each_once(struct many *m, const size_t *got, long k)
{
  unsigned char *seen = calloc(NMANY, 1);

  ck_assert_ptr_nonnull(seen);
  ck_assert_int_eq(k, NMANY);
  for (long j = 0; j < k; j++) {
    ck_assert_uint_lt(got[j], NMANY);
    ck_assert_msg(seen[got[j]]++ == 0, "index %zu came back twice", got[j]);
    ck_assert_int_eq(future_is_ready(m->p[got[j]]), 1);
  }
  free(seen);
}

/* Four threads settle 2000 promises while this thread takes: each index
 * comes back exactly once, then ENOENT. */
START_TEST(test_completion_settles_from_many_threads_return_each_index_once)
{
  struct many *m = many_new();
  size_t *got = calloc(NMANY, sizeof(*got));
  pthread_t th;
  long k;

  ck_assert_ptr_nonnull(got);
  ck_assert_int_eq(futures_as_completed_create(m->p, NMANY, &m->set), 0);
  ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, m), 0);
  k = drain(m->set, got, NMANY);
  pthread_join(th, NULL);
  check_each_once(m, got, k);
  futures_as_completed_destroy(m->set);
  many_free(m);
  free(got);
}
END_TEST

/* The set is made while four threads settle its inputs: each input is
 * appended once, either by create or by its settling thread. */
START_TEST(test_completion_created_while_inputs_settle_returns_each_index_once)
{
  long rounds = tu_scaled(20, 3);

  for (long r = 0; r < rounds; r++) {
    struct many *m = many_new();
    size_t *got = calloc(NMANY, sizeof(*got));
    pthread_t th;
    long k;

    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, m), 0);
    ck_assert_int_eq(futures_as_completed_create(m->p, NMANY, &m->set), 0);
    k = drain(m->set, got, NMANY);
    pthread_join(th, NULL);
    check_each_once(m, got, k);
    futures_as_completed_destroy(m->set);
    many_free(m);
    free(got);
  }
}
END_TEST

#define NCONSUMERS 4

struct consumers {
  struct many *m;
  atomic_int taken[NMANY];
  atomic_long total;
  atomic_int bad_rc; /* a consumer ended with something but ENOENT */
};

static void
consumer(void *arg, int c)
{
  struct consumers *cs = arg;
  size_t i;
  int rc;

  (void)c;
  while ((rc = futures_as_completed_next(cs->m->set, &i)) == 0) {
    if (i < NMANY)
      atomic_fetch_add(&cs->taken[i], 1);
    atomic_fetch_add(&cs->total, 1);
  }
  if (rc != ENOENT)
    atomic_fetch_add(&cs->bad_rc, 1);
}

/*
 * Four threads take from one set while four settle: each index goes to
 * exactly one taker, and every taker ends with ENOENT (the one that takes
 * the last index wakes the others; a lost wake-up hangs the test).
 */
START_TEST(test_completion_many_consumers_take_each_index_once)
{
  long rounds = tu_scaled(10, 2);

  for (long r = 0; r < rounds; r++) {
    struct consumers *cs = calloc(1, sizeof(*cs));
    pthread_t th;

    ck_assert_ptr_nonnull(cs);
    cs->m = many_new();
    ck_assert_int_eq(futures_as_completed_create(cs->m->p, NMANY, &cs->m->set),
                     0);
    ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, cs->m), 0);
    ck_assert_int_eq(tu_run_threads(NCONSUMERS, consumer, cs), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(atomic_load(&cs->bad_rc), 0);
    ck_assert_int_eq(atomic_load(&cs->total), NMANY);
    for (int i = 0; i < NMANY; i++)
      ck_assert_int_eq(atomic_load(&cs->taken[i]), 1);
    futures_as_completed_destroy(cs->m->set);
    many_free(cs->m);
    free(cs);
  }
}
END_TEST

/*
 * Four takers asleep on one set of two promises (forced: each is seen
 * asleep in its call before anything settles). The first settle wakes one
 * of them; the second wakes another, and that taker, taking the last
 * index, must wake the two still asleep, which then return ENOENT (a
 * taker left asleep hangs; join_bounded fails it).
 */
#define NTAKERS 4

START_TEST(test_completion_last_index_wakes_every_other_taker_with_enoent)
{
  struct taker t[NTAKERS];
  pthread_t th[NTAKERS];
  futures_as_completed_t *set;
  future_t *p[2];
  int got[2] = {0, 0}, enoent = 0;

  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(futures_promise_create(&p[k]), 0);
  ck_assert_int_eq(futures_as_completed_create(p, 2, &set), 0);
  for (int k = 0; k < NTAKERS; k++)
    taker_start(&t[k], &th[k], set, NULL);
  for (int k = 0; k < NTAKERS; k++)
    ck_assert_int_eq(TU_PUB_LOAD(&t[k].returned), 0);
  ck_assert_int_eq(future_resolve(p[1], NULL), 0);
  ck_assert_int_eq(future_reject(p[0], EIO), 0);
  for (int k = 0; k < NTAKERS; k++) {
    struct timespec dl;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += FAR_NS / SEC;
    ck_assert_msg(pthread_timedjoin_np(th[k], NULL, &dl) == 0,
                  "taker %d still asleep after the last index was taken", k);
    /* Helgrind does not see pthread_timedjoin_np() as a join: the
     * annotated load orders the taker's writes before our reads. */
    (void)TU_PUB_LOAD(&t[k].returned);
    if (t[k].rc == 0 && t[k].index < 2)
      got[t[k].index]++;
    else if (t[k].rc == ENOENT && t[k].index == NO_INDEX)
      enoent++;
  }
  ck_assert_int_eq(got[0], 1);
  ck_assert_int_eq(got[1], 1);
  ck_assert_int_eq(enoent, NTAKERS - 2);
  futures_as_completed_destroy(set);
  for (int k = 0; k < 2; k++)
    future_release(p[k]);
}
END_TEST

/* ------------------------------------------------------------ destroy */

/*
 * Destroy with inputs pending: queued tasks behind a held worker, a
 * promise never settled, and the caller's handles released first, so
 * that the set holds the last references to some. The inputs still
 * settle afterwards and nothing leaks (ASan and memcheck fail a leak or a
 * use after free).
 */
START_TEST(test_completion_destroy_with_pending_inputs_leaks_nothing)
{
  futures_pool_t *pool;
  struct tu_hold hold;
  future_t *hf, *in[4], *keep;
  futures_as_completed_t *set;
  atomic_int ran[2];
  size_t i;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  tu_hold_init(&hold, NULL);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &hold, &hf), 0);
  tu_latch_wait(&hold.started);
  for (int k = 0; k < 2; k++) {
    atomic_init(&ran[k], 0);
    ck_assert_int_eq(futures_submit(pool, count_task, &ran[k], &in[k]), 0);
  }
  ck_assert_int_eq(futures_promise_create(&in[2]), 0); /* never settled */
  ck_assert_int_eq(futures_promise_create(&in[3]), 0);
  keep = in[3];
  ck_assert_int_eq(future_retain(keep), 0);
  ck_assert_int_eq(futures_as_completed_create(in, 4, &set), 0);
  /* Nothing has settled: a poll times out. */
  {
    struct timespec past = {0, 0};

    ck_assert_int_eq(futures_as_completed_next_until(set, &past, &i),
                     ETIMEDOUT);
  }
  for (int k = 0; k < 4; k++)
    future_release(in[k]);
  futures_as_completed_destroy(set);
  ck_assert_int_eq(future_resolve(keep, NULL), 0);
  future_release(keep);
  tu_latch_open(&hold.release);
  ck_assert_int_eq(future_get(hf, NULL), 0);
  future_release(hf);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  for (int k = 0; k < 2; k++)
    ck_assert_int_eq(atomic_load(&ran[k]), 1);
  tu_hold_destroy(&hold);
}
END_TEST

/* destroy() while other threads settle the inputs, some taken already:
 * under ASan and memcheck, a leak or a use after free fails it. */
START_TEST(test_completion_destroy_racing_settles_leaks_nothing)
{
  long rounds = tu_scaled(100, 10);

  for (long r = 0; r < rounds; r++) {
    struct many *m = many_new();
    pthread_t th;
    size_t i;

    ck_assert_int_eq(futures_as_completed_create(m->p, NMANY, &m->set), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, m), 0);
    /* Take a few (r of them) first, then destroy amid the settles. */
    for (long k = 0; k < r % 8; k++)
      ck_assert_int_eq(futures_as_completed_next(m->set, &i), 0);
    futures_as_completed_destroy(m->set);
    pthread_join(th, NULL);
    many_free(m);
  }
}
END_TEST

Suite *
completion_suite(void)
{
  Suite *s = suite_create("completion");
  TCase *tc = tcase_create("basics");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_completion_returns_indices_in_settle_order);
  tcase_add_test(tc, test_completion_tasks_come_back_in_the_order_they_ran);
  tcase_add_test(tc, test_completion_duplicates_come_back_once_per_index);
  tcase_add_test(tc, test_completion_bad_input);
  tcase_add_test(
      tc, test_completion_next_until_expires_then_hands_back_the_late_settle);
  tcase_add_test(tc,
                 test_completion_next_until_max_time_t_waits_for_the_settle);
  tcase_add_test(tc, test_completion_outside_a_task_only_sleeps);
  tcase_add_test(tc, test_completion_of_the_parent_is_echild_in_a_fork_child);
  tcase_add_test(tc, test_completion_destroy_with_pending_inputs_leaks_nothing);
  suite_add_tcase(s, tc);

  tc = tcase_create("in a task");
  tcase_set_timeout(tc, 60);
  tcase_add_test(
      tc, test_completion_task_iterates_its_queued_subtasks_on_one_worker);
  tcase_add_test(
      tc, test_completion_task_runs_inputs_queued_from_outside_on_one_worker);
  tcase_add_test(tc,
                 test_completion_task_runs_antecedents_of_continuation_inputs);
  tcase_add_test(tc, test_completion_next_until_in_a_task_runs_its_subtask);
  tcase_add_test(tc, test_completion_own_future_from_its_task_is_edeadlk);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 120);
  tcase_add_test(
      tc, test_completion_settles_from_many_threads_return_each_index_once);
  tcase_add_test(
      tc, test_completion_created_while_inputs_settle_returns_each_index_once);
  tcase_add_test(tc, test_completion_many_consumers_take_each_index_once);
  tcase_add_test(
      tc, test_completion_last_index_wakes_every_other_taker_with_enoent);
  tcase_add_test(tc, test_completion_destroy_racing_settles_leaks_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(completion_suite());
}
