/* SPDX-License-Identifier: MIT */
/*
 * check_shutdown: futures_pool_destroy(), futures_pool_destroy_ex() and
 * futures_pool_destroy_async(). A draining destroy runs every accepted
 * task (and the sub-tasks they submit), refuses submits from outside once
 * it has begun, and leaves earlier futures valid; a cancelling destroy
 * ends every task that has not started with ECANCELED and calls its drop
 * function exactly once. The asynchronous destroy stops the pool before it
 * returns and settles its future once the rest is done.
 *
 * "Destroy has begun" is observed, not guessed: the pool's only worker is
 * held on a latch, destroy starts in another thread, and the test thread
 * polls futures_pool_stats().shutting_down (with sched_yield(), never a
 * sleep) until it reads 1. Destroy cannot return while the worker is held,
 * so the pool is still there to be polled.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *shutdown_suite(void);

/* ------------------------------------------------------------ helpers */

static int
plus_one_task(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

/*
 * Per-task bookkeeping: which tasks ran and which were dropped, each slot
 * counted so that "exactly once" can be checked, plus totals.
 */
struct tally;

struct item {
  struct tally *t;
  size_t i;
};

struct tally {
  size_t n;
  struct item *items;
  atomic_int *ran;
  atomic_int *dropped;
  atomic_long nran;
  atomic_long ndropped;
};

static void
tally_init(struct tally *t, size_t n)
{
  size_t i;

  t->n = n;
  t->items = calloc(n, sizeof(*t->items));
  t->ran = calloc(n, sizeof(*t->ran));
  t->dropped = calloc(n, sizeof(*t->dropped));
  ck_assert_ptr_nonnull(t->items);
  ck_assert_ptr_nonnull(t->ran);
  ck_assert_ptr_nonnull(t->dropped);
  for (i = 0; i < n; i++) {
    t->items[i].t = t;
    t->items[i].i = i;
    atomic_init(&t->ran[i], 0);
    atomic_init(&t->dropped[i], 0);
  }
  atomic_init(&t->nran, 0);
  atomic_init(&t->ndropped, 0);
}

static void
tally_free(struct tally *t)
{
  free(t->dropped);
  free(t->ran);
  free(t->items);
}

static int
tally_task(void *arg, void **result)
{
  struct item *it = arg;

  atomic_fetch_add(&it->t->ran[it->i], 1);
  atomic_fetch_add(&it->t->nran, 1);
  *result = it;
  return 0;
}

static void
tally_drop(void *arg)
{
  struct item *it = arg;

  atomic_fetch_add(&it->t->dropped[it->i], 1);
  atomic_fetch_add(&it->t->ndropped, 1);
}

static futures_task_t
tally_task_of(struct tally *t, size_t i)
{
  futures_task_t task = FUTURES_TASK(tally_task, &t->items[i], tally_drop);

  return task;
}

/*
 * The held task: counts down @started, blocks on @gate, then records what
 * it sees once released: futures_cancelled(), and, when @pool is set, the
 * code of a submit made from inside the task.
 */
struct hold {
  struct tu_count started;
  struct tu_latch gate;
  futures_pool_t *pool; /* submit from the task after the gate, or NULL */
  int cancelled_seen;   /* futures_cancelled() after the gate */
  int submit_rc;        /* that submit's code */
  struct tally inner;   /* the task it tried to submit */
};

static int
hold_task(void *arg, void **result)
{
  struct hold *h = arg;
  future_t *f = NULL;

  tu_count_down(&h->started);
  tu_latch_wait(&h->gate);
  h->cancelled_seen = futures_cancelled();
  if (h->pool != NULL) {
    futures_task_t task = tally_task_of(&h->inner, 0);

    h->submit_rc = futures_submit_ex(h->pool, &task, NULL, &f);
    future_release(f);
  }
  *result = h;
  return 0;
}

/*
 * Holds @pool's only worker: submits the held task and waits on the
 * countdown (not on the future, so the test thread cannot run it).
 */
static future_t *
hold_worker(futures_pool_t *pool, struct hold *h, futures_pool_t *submit_to)
{
  future_t *f = NULL;

  tu_count_init(&h->started, 1);
  tu_latch_init(&h->gate);
  h->pool = submit_to;
  h->cancelled_seen = -1;
  h->submit_rc = -1;
  tally_init(&h->inner, 1);
  ck_assert_int_eq(futures_submit(pool, hold_task, h, &f), 0);
  tu_count_wait(&h->started);
  return f;
}

static void
hold_destroy(struct hold *h)
{
  tally_free(&h->inner);
  tu_count_destroy(&h->started);
  tu_latch_destroy(&h->gate);
}

/* A thread that destroys a pool, so the test thread can act meanwhile. */
struct destroyer {
  futures_pool_t *pool;
  int mode;
  int rc;
  pthread_t thread;
};

static void *
destroyer_main(void *p)
{
  struct destroyer *d = p;

  d->rc = futures_pool_destroy_ex(d->pool, d->mode);
  return NULL;
}

/*
 * Starts destroying @pool in another thread and returns once the pool
 * reports that destroy has begun (polling, see the file comment).
 */
static void
start_destroy(struct destroyer *d, futures_pool_t *pool, int mode)
{
  futures_stats_t st = FUTURES_STATS_INIT;

  d->pool = pool;
  d->mode = mode;
  d->rc = -1;
  ck_assert_int_eq(pthread_create(&d->thread, NULL, destroyer_main, d), 0);
  for (;;) {
    ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
    if (st.shutting_down)
      break;
    sched_yield();
  }
}

static int
finish_destroy(struct destroyer *d)
{
  pthread_join(d->thread, NULL);
  return d->rc;
}

/* ------------------------------------------------------------ shutdown */

/*
 * destroy with a long queue runs every pending task: 10,000 tasks queue
 * behind the held worker, destroy begins, the latch opens; when destroy
 * returns, each ran exactly once and each future says 0.
 */
START_TEST(test_shutdown_destroy_runs_every_queued_task)
{
  enum { N = 10000 };
  futures_pool_t *pool = NULL;
  future_t **f = calloc(N, sizeof(*f));
  future_t *held;
  struct destroyer d;
  struct tally t;
  struct hold h;
  size_t i;

  ck_assert_ptr_nonnull(f);
  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, tally_task, &t.items[i], &f[i]), 0);
  start_destroy(&d, pool, FUTURES_DESTROY_DRAIN);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(finish_destroy(&d), 0);

  ck_assert_int_eq(t.nran, N);
  for (i = 0; i < N; i++) {
    void *r = NULL;

    ck_assert_int_eq(t.ran[i], 1);
    ck_assert_int_eq(future_get(f[i], &r), 0);
    ck_assert_ptr_eq(r, &t.items[i]);
    future_release(f[i]);
  }
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(h.cancelled_seen, 0); /* draining cancels nothing */
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
  free(f);
}
END_TEST

/*
 * Once destroy has begun, a submit from outside the pool's tasks returns
 * ESHUTDOWN, sets *future to NULL, and the task never runs (not even in
 * the drain: the count is still 0 after destroy returns).
 */
START_TEST(test_shutdown_submit_after_destroy_began_returns_eshutdown)
{
  futures_pool_t *pool = NULL;
  struct destroyer d;
  struct tally t;
  struct hold h;
  future_t *held, *f;

  tally_init(&t, 1);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  start_destroy(&d, pool, FUTURES_DESTROY_DRAIN);
  f = (future_t *)&f; /* sentinel: must become NULL */
  ck_assert_int_eq(futures_submit(pool, tally_task, &t.items[0], &f),
                   ESHUTDOWN);
  ck_assert_ptr_null(f);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(finish_destroy(&d), 0);
  ck_assert_int_eq(t.nran, 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

static int
noop_then(void *arg, int code, void *value, void **result)
{
  (void)arg;
  (void)code;
  (void)value;
  (void)result;
  return 0;
}

static int
noop_range(void *arg, size_t begin, size_t end)
{
  (void)begin;
  (void)end;
  atomic_fetch_add((atomic_long *)arg, 1);
  return 0;
}

/*
 * Every way of submitting is refused once destroy has begun: submit_ex
 * (and its drop function is not called: the caller keeps the argument),
 * submit_all (all-or-nothing: every slot NULL), then and parallel_for.
 */
START_TEST(test_shutdown_every_submit_form_is_refused_after_destroy_began)
{
  futures_pool_t *pool = NULL;
  futures_task_t tasks[3];
  future_t *fs[3], *held, *f;
  atomic_long chunks;
  struct destroyer d;
  struct tally t;
  struct hold h;
  size_t i;

  atomic_init(&chunks, 0);
  tally_init(&t, 4);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  start_destroy(&d, pool, FUTURES_DESTROY_DRAIN);

  tasks[0] = tally_task_of(&t, 0);
  f = (future_t *)&f;
  ck_assert_int_eq(futures_submit_ex(pool, &tasks[0], NULL, &f), ESHUTDOWN);
  ck_assert_ptr_null(f);

  for (i = 0; i < 3; i++) {
    tasks[i] = tally_task_of(&t, i + 1);
    fs[i] = (future_t *)&f;
  }
  ck_assert_int_eq(futures_submit_all(pool, tasks, 3, fs), ESHUTDOWN);
  for (i = 0; i < 3; i++)
    ck_assert_ptr_null(fs[i]);

  f = NULL;
  ck_assert_int_eq(futures_then(pool, held, noop_then, NULL, &f), ESHUTDOWN);
  f = NULL;
  ck_assert_int_eq(
      futures_parallel_for(pool, 0, 100, 10, noop_range, &chunks, &f),
      ESHUTDOWN);

  tu_latch_open(&h.gate);
  ck_assert_int_eq(finish_destroy(&d), 0);
  ck_assert_int_eq(t.nran, 0);
  ck_assert_int_eq(t.ndropped, 0);
  ck_assert_int_eq(chunks, 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/* A task that fails, to check that failures survive destroy too. */
static int
fail_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EIO;
}

/*
 * Futures obtained before destroy stay valid after it: get returns each
 * outcome (values and an error code), is_ready says 1, then release.
 */
START_TEST(test_shutdown_futures_stay_valid_after_destroy)
{
  enum { N = 100 };
  futures_pool_t *pool = NULL;
  future_t *f[N], *bad = NULL;
  uintptr_t i;
  int sentinel;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)i, &f[i]), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, NULL, &bad), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);

  for (i = 0; i < N; i++) {
    void *r = NULL;

    ck_assert_int_eq(future_is_ready(f[i]), 1);
    ck_assert_int_eq(future_get(f[i], &r), 0);
    ck_assert_ptr_eq(r, (void *)(i + 1));
    future_release(f[i]);
  }
  {
    void *r = &sentinel;

    ck_assert_int_eq(future_is_ready(bad), 1);
    ck_assert_int_eq(future_get(bad, &r), EIO);
    ck_assert_ptr_null(r);
    future_release(bad);
  }
}
END_TEST

/* A spawner submits CHILDREN children; each submits one grandchild. */
#define CHILDREN 100

struct spawn {
  futures_pool_t *pool;
  atomic_long children;
  atomic_long grandchildren;
  atomic_int submit_errors;
};

static int
grandchild_task(void *arg, void **result)
{
  struct spawn *s = arg;

  (void)result;
  atomic_fetch_add(&s->grandchildren, 1);
  return 0;
}

static int
child_task(void *arg, void **result)
{
  struct spawn *s = arg;
  future_t *f = NULL;

  (void)result;
  atomic_fetch_add(&s->children, 1);
  if (futures_submit(s->pool, grandchild_task, s, &f) != 0)
    atomic_fetch_add(&s->submit_errors, 1);
  future_release(f);
  return 0;
}

static int
spawner_task(void *arg, void **result)
{
  struct spawn *s = arg;
  int i;

  (void)result;
  for (i = 0; i < CHILDREN; i++) {
    future_t *f = NULL;

    if (futures_submit(s->pool, child_task, s, &f) != 0)
      atomic_fetch_add(&s->submit_errors, 1);
    future_release(f);
  }
  return 0;
}

/*
 * Tasks may submit sub-tasks during a graceful drain, and those run too:
 * the spawner, queued behind the held worker, starts after destroy began.
 */
START_TEST(test_shutdown_drain_runs_subtasks_submitted_during_it)
{
  futures_pool_t *pool = NULL;
  future_t *held, *spawner = NULL;
  struct destroyer d;
  struct spawn s;
  struct hold h;

  atomic_init(&s.children, 0);
  atomic_init(&s.grandchildren, 0);
  atomic_init(&s.submit_errors, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  s.pool = pool;
  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(futures_submit(pool, spawner_task, &s, &spawner), 0);
  start_destroy(&d, pool, FUTURES_DESTROY_DRAIN);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(finish_destroy(&d), 0);
  ck_assert_int_eq(s.submit_errors, 0);
  ck_assert_int_eq(s.children, CHILDREN);
  ck_assert_int_eq(s.grandchildren, CHILDREN);
  ck_assert_int_eq(future_get(spawner, NULL), 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(spawner);
  future_release(held);
  hold_destroy(&h);
}
END_TEST

/* A task that destroys a pool and reports the code to the test thread. */
struct self_destroy {
  futures_pool_t *target;
  struct tu_count done;
  int rc;
};

static int
destroy_task(void *arg, void **result)
{
  struct self_destroy *sd = arg;

  (void)result;
  sd->rc = futures_pool_destroy(sd->target);
  tu_count_down(&sd->done);
  return 0;
}

/*
 * destroy inside one of the pool's own tasks (on a worker: the test waits
 * on a countdown) is EDEADLK and does nothing: the pool still works.
 */
START_TEST(test_shutdown_destroy_inside_own_task_returns_edeadlk)
{
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  struct self_destroy sd;
  future_t *f = NULL, *g = NULL;
  void *r = NULL;

  tu_count_init(&sd.done, 1);
  sd.rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  sd.target = pool;
  ck_assert_int_eq(futures_submit(pool, destroy_task, &sd, &f), 0);
  tu_count_wait(&sd.done);
  ck_assert_int_eq(sd.rc, EDEADLK);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.shutting_down, 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)1, &g), 0);
  ck_assert_int_eq(future_get(g, &r), 0);
  ck_assert_ptr_eq(r, (void *)2);
  future_release(f);
  future_release(g);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_count_destroy(&sd.done);
}
END_TEST

/*
 * A task may destroy another pool: it drains that pool (its queued task
 * runs) and returns 0.
 */
START_TEST(test_shutdown_destroy_of_another_pool_inside_a_task_succeeds)
{
  futures_pool_t *a = NULL, *b = NULL;
  struct self_destroy sd;
  struct tally t;
  future_t *f = NULL, *g = NULL;

  tally_init(&t, 1);
  tu_count_init(&sd.done, 1);
  sd.rc = -1;
  ck_assert_int_eq(futures_pool_create(&a, 1), 0);
  ck_assert_int_eq(futures_pool_create(&b, 1), 0);
  ck_assert_int_eq(futures_submit(b, tally_task, &t.items[0], &g), 0);
  sd.target = b;
  ck_assert_int_eq(futures_submit(a, destroy_task, &sd, &f), 0);
  tu_count_wait(&sd.done);
  ck_assert_int_eq(sd.rc, 0);
  ck_assert_int_eq(t.nran, 1);
  ck_assert_int_eq(future_get(g, NULL), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  future_release(g);
  ck_assert_int_eq(futures_pool_destroy(a), 0);
  tu_count_destroy(&sd.done);
  tally_free(&t);
}
END_TEST

/*
 * A draining destroy runs everything, so no drop function is ever called:
 * 1000 tasks with drop functions queue behind the held worker.
 */
START_TEST(test_shutdown_drain_never_calls_drop_functions)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *f[N], *held;
  struct tally t;
  struct hold h;
  size_t i;

  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  for (i = 0; i < N; i++) {
    futures_task_t task = tally_task_of(&t, i);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f[i]), 0);
  }
  tu_latch_open(&h.gate);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(t.nran, N);
  ck_assert_int_eq(t.ndropped, 0);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(future_get(f[i], NULL), 0);
    future_release(f[i]);
  }
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/* Waits (without running it) for a future, as a second waiter would. */
struct waiter {
  future_t *f;
  int rc;
  pthread_t thread;
};

static void *
waiter_main(void *p)
{
  struct waiter *w = p;
  /* 20 s: far beyond any cancellation; only a missed wake-up reaches it. */
  struct timespec until = tu_deadline_in(20LL * 1000000000LL);

  w->rc = future_wait_until(w->f, &until);
  return NULL;
}

/*
 * CANCEL with the worker held: 1000 queued tasks end ECANCELED, none runs,
 * each drop runs once, a waiter wakes; the running task is asked to stop.
 */
START_TEST(test_shutdown_cancel_cancels_every_queued_task_and_runs_none)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *f[N], *held;
  struct destroyer d;
  struct waiter w;
  struct tally t;
  struct hold h;
  size_t i;

  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, pool);
  for (i = 0; i < N; i++) {
    futures_task_t task = tally_task_of(&t, i);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f[i]), 0);
  }
  w.f = f[N - 1];
  w.rc = -1;
  ck_assert_int_eq(pthread_create(&w.thread, NULL, waiter_main, &w), 0);
  start_destroy(&d, pool, FUTURES_DESTROY_CANCEL);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(finish_destroy(&d), 0);
  pthread_join(w.thread, NULL);

  ck_assert_int_eq(w.rc, 0);
  ck_assert_int_eq(t.nran, 0);
  ck_assert_int_eq(t.ndropped, N);
  for (i = 0; i < N; i++) {
    int sentinel;
    void *r = &sentinel;

    ck_assert_int_eq(t.dropped[i], 1);
    ck_assert_int_eq(future_is_ready(f[i]), 1);
    ck_assert_int_eq(future_get(f[i], &r), ECANCELED);
    ck_assert_ptr_null(r);
    future_release(f[i]);
  }
  /* The held task was running: it finished normally, asked to stop. */
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(h.cancelled_seen, 1);
  ck_assert_int_eq(h.submit_rc, ESHUTDOWN);
  ck_assert_int_eq(h.inner.nran, 0);
  ck_assert_int_eq(h.inner.ndropped, 0);
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/*
 * CANCEL racing 2 busy workers over 10,000 tasks: each either ran (0, its
 * result, no drop) or was cancelled (ECANCELED, dropped once); sum == N.
 */
START_TEST(test_shutdown_cancel_each_task_either_ran_or_was_cancelled)
{
  enum { N = 10000 };
  futures_pool_t *pool = NULL;
  future_t **f = calloc(N, sizeof(*f));
  long ran = 0, cancelled = 0;
  struct tally t;
  size_t i;

  ck_assert_ptr_nonnull(f);
  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++) {
    futures_task_t task = tally_task_of(&t, i);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f[i]), 0);
  }
  ck_assert_int_eq(futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL), 0);

  for (i = 0; i < N; i++) {
    void *r = NULL;
    int rc = future_get(f[i], &r);

    if (rc == 0) {
      ran++;
      ck_assert_ptr_eq(r, &t.items[i]);
      ck_assert_int_eq(t.ran[i], 1);
      ck_assert_int_eq(t.dropped[i], 0);
    } else {
      cancelled++;
      ck_assert_int_eq(rc, ECANCELED);
      ck_assert_ptr_null(r);
      ck_assert_int_eq(t.ran[i], 0);
      ck_assert_int_eq(t.dropped[i], 1);
    }
    future_release(f[i]);
  }
  ck_assert_int_eq(ran + cancelled, N);
  ck_assert_int_eq(t.nran, ran);
  ck_assert_int_eq(t.ndropped, cancelled);
  tally_free(&t);
  free(f);
}
END_TEST

/* A destroy in a thread of its own, and whether it has returned. */
struct watched_destroy {
  futures_pool_t *pool;
  atomic_int tid;
  atomic_int returned;
  int rc;
};

static void *
watched_destroy_main(void *p)
{
  struct watched_destroy *w = p;

  atomic_store(&w->tid, (int)syscall(SYS_gettid));
  w->rc = futures_pool_destroy(w->pool);
  atomic_store(&w->returned, 1);
  return NULL;
}

/* The destroying thread is asleep (in destroy: it has not returned). */
static int
destroyer_asleep(void *arg)
{
  struct watched_destroy *w = arg;
  char path[64], buf[256], *p;
  FILE *f;
  size_t n;

  if (atomic_load(&w->returned))
    return 1;
  snprintf(path, sizeof(path), "/proc/self/task/%d/stat",
           atomic_load(&w->tid));
  if (atomic_load(&w->tid) == 0 || (f = fopen(path, "r")) == NULL)
    return 0;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' && p[2] == 'S';
}

/* A running task that, once let go, notes whether destroy had returned. */
struct still_running {
  struct tu_latch started, release;
  struct watched_destroy *w;
  int destroy_had_returned;
};

static int
still_running_task(void *arg, void **result)
{
  struct still_running *r = arg;

  tu_latch_open(&r->started);
  tu_latch_wait(&r->release);
  r->destroy_had_returned = atomic_load(&r->w->returned);
  *result = r;
  return 0;
}

/*
 * "Tasks": destroy waits for a task that has not returned: begun and asleep,
 * it has not returned while the task is held, and the task, let go, sees that
 * it had not.
 */
START_TEST(test_shutdown_destroy_waits_for_a_task_that_is_still_running)
{
  futures_stats_t st = FUTURES_STATS_INIT;
  struct watched_destroy w;
  struct still_running r;
  futures_pool_t *pool;
  future_t *f;
  pthread_t t;
  int returned_early;

  tu_latch_init(&r.started);
  tu_latch_init(&r.release);
  r.w = &w;
  r.destroy_had_returned = -1;
  atomic_init(&w.tid, 0);
  atomic_init(&w.returned, 0);
  w.rc = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  w.pool = pool;
  ck_assert_int_eq(futures_submit(pool, still_running_task, &r, &f), 0);
  tu_latch_wait(&r.started);
  ck_assert_int_eq(pthread_create(&t, NULL, watched_destroy_main, &w), 0);
  for (;;) {
    ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
    if (st.shutting_down)
      break;
    sched_yield();
  }
  ck_assert(tu_spin_until(destroyer_asleep, &w, 10000 * 1000000LL));
  returned_early = atomic_load(&w.returned);
  tu_latch_open(&r.release);
  pthread_join(t, NULL);
  ck_assert_msg(!returned_early,
                "futures_pool_destroy() returned while a task still ran");
  ck_assert_int_eq(w.rc, 0);
  ck_assert_int_eq(r.destroy_had_returned, 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  tu_latch_destroy(&r.started);
  tu_latch_destroy(&r.release);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * destroy_ex with a mode outside enum futures_destroy_mode is EINVAL and
 * does nothing: the pool is not shutting down and still runs tasks.
 */
START_TEST(test_shutdown_destroy_ex_with_bad_mode_returns_einval)
{
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  future_t *f = NULL;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, 2), EINVAL);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, -1), EINVAL);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.shutting_down, 0);
  ck_assert_int_eq(futures_submit(pool, plus_one_task, (void *)8, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, (void *)9);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, FUTURES_DESTROY_DRAIN), 0);
}
END_TEST

/* ------------------------------------------------------------ async */

/*
 * destroy_async returns at once, with the only worker held: its future is
 * not ready, and the pool is already stopped (a submit and futures_after()
 * are ESHUTDOWN; the held task keeps the pool alive, so these calls are
 * allowed). Once the worker is let go, the future resolves with 0 and a
 * NULL value, and by then every accepted task ran once, the sub-task the
 * held task submitted during the drain included.
 */
START_TEST(test_shutdown_async_returns_at_once_and_resolves_after_the_drain)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  future_t *f[N], *held, *done = NULL, *g, *tm;
  struct tally t;
  struct hold h;
  void *r = &r;
  size_t i;

  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, pool);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, tally_task, &t.items[i], &f[i]), 0);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  ck_assert_ptr_nonnull(done);
  ck_assert_int_eq(future_is_ready(done), 0);
  ck_assert_int_eq(future_wait_for(done, 0), ETIMEDOUT);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.shutting_down, 1);
  g = (future_t *)&g;
  ck_assert_int_eq(futures_submit(pool, plus_one_task, NULL, &g), ESHUTDOWN);
  ck_assert_ptr_null(g);
  tm = (future_t *)&tm;
  ck_assert_int_eq(futures_after(pool, 0, &tm), ESHUTDOWN);
  ck_assert_ptr_null(tm);
  ck_assert_int_eq(t.nran, 0);

  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(done, &r), 0);
  ck_assert_ptr_null(r);
  ck_assert_int_eq(t.nran, N);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(t.ran[i], 1);
    ck_assert_int_eq(future_is_ready(f[i]), 1);
    ck_assert_int_eq(future_get(f[i], NULL), 0);
    future_release(f[i]);
  }
  ck_assert_int_eq(future_is_ready(held), 1);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(h.cancelled_seen, 0);
  ck_assert_int_eq(h.submit_rc, 0); /* a sub-task joins the drain */
  ck_assert_int_eq(h.inner.nran, 1);
  future_release(held);
  future_release(done);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/*
 * destroy_async in cancel mode: the held task is asked to stop and its
 * own submit is refused; each of the queued tasks is settled ECANCELED
 * unrun, its drop function called once, before the future resolves.
 */
START_TEST(test_shutdown_async_cancel_settles_queued_tasks_before_it_resolves)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *f[N], *held, *done = NULL;
  struct tally t;
  struct hold h;
  size_t i;

  tally_init(&t, N);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, pool);
  for (i = 0; i < N; i++) {
    futures_task_t task = tally_task_of(&t, i);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f[i]), 0);
  }
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_CANCEL, &done), 0);
  ck_assert_int_eq(future_is_ready(done), 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(done, NULL), 0);
  ck_assert_int_eq(t.nran, 0);
  ck_assert_int_eq(t.ndropped, N);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(t.dropped[i], 1);
    ck_assert_int_eq(future_is_ready(f[i]), 1);
    ck_assert_int_eq(future_get(f[i], NULL), ECANCELED);
    future_release(f[i]);
  }
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(h.cancelled_seen, 1);
  ck_assert_int_eq(h.submit_rc, ESHUTDOWN);
  ck_assert_int_eq(h.inner.nran, 0);
  future_release(held);
  future_release(done);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/* Submitters racing destroy_async: each counts what was accepted. */
struct racer {
  futures_pool_t *pool;
  struct tu_count started; /* each submitter had one task accepted */
  atomic_long ran;         /* tasks that ran */
  atomic_long accepted;    /* submits that returned 0 */
  atomic_int bad;          /* a code other than 0 and ESHUTDOWN */
};

static int
racer_task(void *arg, void **result)
{
  atomic_fetch_add(&((struct racer *)arg)->ran, 1);
  *result = NULL;
  return 0;
}

/* Submits until refused (at most 1,000,000 times: a refusal must come). */
static void *
racer_main(void *arg)
{
  struct racer *rc = arg;
  int counted = 0;

  for (long i = 0; i < 1000000; i++) {
    future_t *f = NULL;
    int code = futures_submit(rc->pool, racer_task, rc, &f);

    if (code == ESHUTDOWN)
      return NULL;
    if (code != 0) {
      atomic_store(&rc->bad, code);
      break;
    }
    atomic_fetch_add(&rc->accepted, 1);
    future_release(f);
    if (!counted) {
      counted = 1;
      tu_count_down(&rc->started);
    }
  }
  if (!counted)
    tu_count_down(&rc->started);
  if (atomic_load(&rc->bad) == 0)
    atomic_store(&rc->bad, -1); /* never refused */
  return NULL;
}

/*
 * "Threads": 4 threads submit in a loop while destroy_async starts (the
 * held worker keeps the pool alive for them). Each submit either returned
 * ESHUTDOWN or its task ran before the future resolved: the count of tasks
 * run, read after future_get(), equals the count of submits accepted.
 */
START_TEST(test_shutdown_async_racing_submits_each_run_or_are_refused)
{
  enum { THREADS = 4 };
  futures_pool_t *pool = NULL;
  future_t *held, *done = NULL;
  pthread_t th[THREADS];
  struct racer rc;
  struct hold h;
  int i;

  atomic_init(&rc.ran, 0);
  atomic_init(&rc.accepted, 0);
  atomic_init(&rc.bad, 0);
  tu_count_init(&rc.started, THREADS);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  rc.pool = pool;
  held = hold_worker(pool, &h, NULL);
  for (i = 0; i < THREADS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, racer_main, &rc), 0);
  tu_count_wait(&rc.started);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  for (i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  ck_assert_int_eq(atomic_load(&rc.bad), 0);
  ck_assert_int_eq(future_is_ready(done), 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(done, NULL), 0);
  ck_assert_int_ge(atomic_load(&rc.accepted), THREADS);
  ck_assert_int_eq(atomic_load(&rc.ran), atomic_load(&rc.accepted));
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(done);
  hold_destroy(&h);
  tu_count_destroy(&rc.started);
}
END_TEST

/*
 * "From an event loop": a notifier watching the future of destroy_async
 * has nothing to deliver while the worker is held (the descriptor is not
 * readable); once it is let go, the descriptor becomes readable (poll()
 * with a 20 s bound, far beyond any drain of one task) and take() hands
 * back the tag; the future then says 0.
 */
START_TEST(test_shutdown_async_is_delivered_through_a_notifier)
{
  futures_notifier_t *n = NULL;
  futures_pool_t *pool = NULL;
  future_t *held, *done = NULL;
  struct pollfd pfd;
  struct hold h;
  void *tags[2] = {NULL, NULL};
  int tag;

  ck_assert_int_eq(futures_notifier_create(&n), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  ck_assert_int_eq(futures_notifier_watch(n, done, &tag), 0);
  pfd.fd = futures_notifier_fd(n);
  pfd.events = POLLIN;
  pfd.revents = 0;
  ck_assert_int_eq(poll(&pfd, 1, 0), 0);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 2), 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(poll(&pfd, 1, 20000), 1);
  ck_assert(pfd.revents & POLLIN);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 2), 1);
  ck_assert_ptr_eq(tags[0], &tag);
  ck_assert_int_eq(future_is_ready(done), 1);
  ck_assert_int_eq(future_get(done, NULL), 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(done);
  futures_notifier_destroy(n);
  hold_destroy(&h);
}
END_TEST

/* What a continuation of the destroy's future saw. */
struct seen {
  pthread_t main;
  int code;
  int elsewhere; /* ran in another thread than the test's */
};

static int
seen_then(void *arg, int code, void *value, void **result)
{
  struct seen *sn = arg;

  (void)value;
  sn->code = code;
  sn->elsewhere = !pthread_equal(pthread_self(), sn->main);
  *result = sn;
  return 0;
}

/*
 * The future of destroy_async works as any other: an inline continuation
 * attached while the destroy runs is called in the library's thread with
 * code 0; a continuation on another pool gets code 0 (it runs on that pool,
 * or in the test thread when the join below takes it first); futures_all()
 * of it resolves; futures_join_all() waits for the lot.
 */
START_TEST(test_shutdown_async_future_chains_and_joins)
{
  futures_pool_t *pool = NULL, *other = NULL;
  future_t *held, *done = NULL, *c[3];
  struct seen inl, onp;
  struct hold h;

  inl.main = onp.main = pthread_self();
  inl.code = onp.code = -1;
  inl.elsewhere = onp.elsewhere = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_create(&other, 1), 0);
  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  ck_assert_int_eq(futures_then_inline(done, seen_then, &inl, &c[0]), 0);
  ck_assert_int_eq(futures_then(other, done, seen_then, &onp, &c[1]), 0);
  ck_assert_int_eq(futures_all(&done, 1, &c[2]), 0);
  future_release(done); /* the chain holds what it needs */
  ck_assert_int_eq(future_is_ready(c[0]), 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(futures_join_all(c, 3, NULL), 0);
  ck_assert_int_eq(inl.code, 0);
  ck_assert_int_eq(inl.elsewhere, 1);
  ck_assert_int_eq(onp.code, 0); /* on @other, or here by the join */
  for (int i = 0; i < 3; i++)
    future_release(c[i]);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(other), 0);
  hold_destroy(&h);
}
END_TEST

/*
 * future_cancel() on the future of destroy_async settles it with
 * ECANCELED at once and does not stop the destroy: the task queued behind
 * the held worker still runs (drain mode) once the worker is let go.
 */
START_TEST(test_shutdown_async_cancel_of_its_future_does_not_stop_the_destroy)
{
  futures_pool_t *pool = NULL;
  future_t *held, *done = NULL, *q = NULL;
  struct tally t;
  struct hold h;

  tally_init(&t, 1);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(futures_submit(pool, tally_task, &t.items[0], &q), 0);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  ck_assert_int_eq(future_cancel(done), 0);
  ck_assert_int_eq(future_get(done, NULL), ECANCELED);
  ck_assert_int_eq(future_cancel(done), EALREADY);
  future_release(done);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(q, NULL), 0);
  ck_assert_int_eq(t.ran[0], 1);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(q);
  future_release(held);
  hold_destroy(&h);
  tally_free(&t);
}
END_TEST

/* A task that starts its own pool's destroy, then waits on a latch. */
struct own_async {
  futures_pool_t *pool;
  int mode;
  struct tu_count called; /* the call has returned */
  struct tu_latch go;     /* the test lets the task return */
  future_t *done;
  int rc, ready_after, cancelled_after, submit_rc;
  struct tally inner; /* the sub-task it submits after the call */
};

static int
own_async_task(void *arg, void **result)
{
  struct own_async *oa = arg;
  futures_task_t task = tally_task_of(&oa->inner, 0);
  future_t *sub = NULL;

  oa->rc = futures_pool_destroy_async(oa->pool, oa->mode, &oa->done);
  /* The drain cannot end while this task runs. */
  oa->ready_after = oa->done != NULL ? future_is_ready(oa->done) : -1;
  oa->cancelled_after = futures_cancelled();
  oa->submit_rc = futures_submit_ex(oa->pool, &task, NULL, &sub);
  future_release(sub);
  tu_count_down(&oa->called);
  tu_latch_wait(&oa->go);
  *result = oa;
  return 0;
}

/*
 * "In a task": destroy_async of the task's own pool (loop: drain, cancel)
 * returns 0 at once, without waiting for the task that called it; the
 * future is not ready while that task runs (checked in the task, and by
 * the test thread while the task waits on a latch); the task's sub-task is
 * accepted and runs in drain mode, refused in cancel mode, where the task
 * also sees futures_cancelled() == 1. The future resolves after the task
 * returns.
 */
START_TEST(test_shutdown_async_inside_own_task_returns_at_once_and_ends_after_it)
{
  int mode = _i == 0 ? FUTURES_DESTROY_DRAIN : FUTURES_DESTROY_CANCEL;
  futures_pool_t *pool = NULL;
  struct own_async oa;
  future_t *f = NULL, *g;
  void *r = NULL;

  memset(&oa, 0, sizeof(oa));
  oa.mode = mode;
  oa.rc = oa.ready_after = oa.cancelled_after = oa.submit_rc = -1;
  tu_count_init(&oa.called, 1);
  tu_latch_init(&oa.go);
  tally_init(&oa.inner, 1);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  oa.pool = pool;
  ck_assert_int_eq(futures_submit(pool, own_async_task, &oa, &f), 0);
  tu_count_wait(&oa.called);
  ck_assert_int_eq(oa.rc, 0);
  ck_assert_ptr_nonnull(oa.done);
  ck_assert_int_eq(oa.ready_after, 0);
  ck_assert_int_eq(oa.cancelled_after, mode == FUTURES_DESTROY_CANCEL);
  ck_assert_int_eq(oa.submit_rc,
                   mode == FUTURES_DESTROY_CANCEL ? ESHUTDOWN : 0);
  /* The task is held: the pool is alive, stopped, and not yet destroyed. */
  g = (future_t *)&g;
  ck_assert_int_eq(futures_submit(pool, plus_one_task, NULL, &g), ESHUTDOWN);
  ck_assert_ptr_null(g);
  ck_assert_int_eq(future_is_ready(oa.done), 0);
  tu_latch_open(&oa.go);
  ck_assert_int_eq(future_get(oa.done, NULL), 0);
  ck_assert_int_eq(future_is_ready(f), 1);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, &oa);
  ck_assert_int_eq(oa.inner.nran, mode == FUTURES_DESTROY_CANCEL ? 0 : 1);
  future_release(f);
  future_release(oa.done);
  tally_free(&oa.inner);
  tu_latch_destroy(&oa.go);
  tu_count_destroy(&oa.called);
}
END_TEST

/* An inline continuation of a timer that starts its pool's destroy when
 * it runs in the timer thread (not in the test thread, where a timer that
 * fired before the continuation was attached would run it). */
struct in_timer {
  futures_pool_t *pool;
  pthread_t main;
  future_t *done;
  int rc;
};

static int
timer_destroy_async(void *arg, int code, void *value, void **result)
{
  struct in_timer *it = arg;

  (void)value;
  *result = NULL;
  if (!pthread_equal(pthread_self(), it->main))
    it->rc =
        futures_pool_destroy_async(it->pool, FUTURES_DESTROY_DRAIN, &it->done);
  return code;
}

/*
 * "In a task": in the pool's timer thread (an inline continuation of one
 * of its 1 ms timers; retried while the timer fired before the
 * continuation was attached), destroy_async of the pool returns 0, where
 * futures_pool_destroy() is EDEADLK; the destroy ends once the
 * continuation has returned (the timer thread is joined then).
 */
START_TEST(test_shutdown_async_from_the_pool_timer_thread_succeeds)
{
  struct in_timer it;
  future_t *soon, *c;

  it.main = pthread_self();
  it.done = NULL;
  it.rc = -1;
  ck_assert_int_eq(futures_pool_create(&it.pool, 1), 0);
  for (int tries = 0; tries < 100 && it.rc == -1; tries++) {
    ck_assert_int_eq(futures_after(it.pool, 1000000, &soon), 0);
    ck_assert_int_eq(futures_then_inline(soon, timer_destroy_async, &it, &c),
                     0);
    ck_assert_int_eq(future_get(c, NULL), 0);
    future_release(c);
    future_release(soon);
  }
  ck_assert_int_eq(it.rc, 0);
  ck_assert_int_eq(future_get(it.done, NULL), 0);
  future_release(it.done);
}
END_TEST

/*
 * "fork": in a child forked while a destroy_async runs (its pool's worker
 * held), the parent's destroy is left alone: its future is a pending
 * future of the parent (ECHILD), the pool it consumed is unknown (EINVAL),
 * and destroy_async of another parent pool is ECHILD with *done NULL. The
 * parent's destroy then ends normally.
 */
START_TEST(test_shutdown_async_in_a_fork_child_is_echild)
{
  futures_pool_t *pool = NULL, *idle = NULL;
  future_t *held, *done = NULL;
  struct hold h;
  pid_t pid;
  int status;

  ck_assert_int_eq(futures_pool_create(&idle, 1), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    future_t *f = (future_t *)&f;
    int bad = 0;

    signal(SIGALRM, SIG_DFL); /* a hang is killed, not waited for */
    alarm(20);
    bad |= future_get(done, NULL) != ECHILD;
    bad |=
        (futures_pool_destroy_async(idle, FUTURES_DESTROY_DRAIN, &f) != ECHILD)
        << 1;
    bad |= (f != NULL) << 2;
    bad |=
        (futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &f) != EINVAL)
        << 3;
    tu_child_exit(bad);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(future_is_ready(done), 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(done, NULL), 0);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(done);
  ck_assert_int_eq(futures_pool_destroy(idle), 0);
  hold_destroy(&h);
}
END_TEST

/* 1 if @pool runs a task (submit, get). */
static int
runs_a_task(futures_pool_t *pool)
{
  future_t *f = NULL;
  void *r = NULL;
  int ok;

  if (futures_submit(pool, plus_one_task, (void *)41, &f) != 0)
    return 0;
  ok = future_get(f, &r) == 0 && r == (void *)42;
  future_release(f);
  return ok;
}

/*
 * destroy_async's bad input, each with *done NULL and the pool untouched
 * (not shutting down, still running tasks): NULL pool, NULL done, a mode
 * outside the enum. A second destroy of either kind while the first runs,
 * and after it ended, is EINVAL (the registry answers: under
 * AddressSanitizer, a read of the freed pool would be reported). Its
 * future cannot be resolved or rejected by the user (EINVAL).
 */
START_TEST(test_shutdown_async_bad_input_leaves_the_pool_untouched)
{
  futures_stats_t st = FUTURES_STATS_INIT;
  futures_pool_t *pool = NULL, *gone = NULL;
  future_t *done, *held, *again;
  struct hold h;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  done = (future_t *)&done;
  ck_assert_int_eq(
      futures_pool_destroy_async(NULL, FUTURES_DESTROY_DRAIN, &done), EINVAL);
  ck_assert_ptr_null(done);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, NULL), EINVAL);
  done = (future_t *)&done;
  ck_assert_int_eq(futures_pool_destroy_async(pool, 2, &done), EINVAL);
  ck_assert_ptr_null(done);
  done = (future_t *)&done;
  ck_assert_int_eq(futures_pool_destroy_async(pool, -1, &done), EINVAL);
  ck_assert_ptr_null(done);
  ck_assert_int_eq(futures_pool_stats(pool, &st), 0);
  ck_assert_int_eq(st.shutting_down, 0);
  ck_assert(runs_a_task(pool));

  held = hold_worker(pool, &h, NULL);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  /* The library settles it; no one else may. */
  ck_assert_int_eq(future_resolve(done, NULL), EINVAL);
  ck_assert_int_eq(future_reject(done, EIO), EINVAL);
  again = (future_t *)&again;
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_CANCEL, &again), EINVAL);
  ck_assert_ptr_null(again);
  ck_assert_int_eq(futures_pool_destroy(pool), EINVAL);
  ck_assert_int_eq(futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL),
                   EINVAL);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(done, NULL), 0);
  again = (future_t *)&again;
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &again), EINVAL);
  ck_assert_ptr_null(again);
  ck_assert_int_eq(futures_pool_destroy(pool), EINVAL);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(done);
  hold_destroy(&h);

  /* After a synchronous destroy too. */
  ck_assert_int_eq(futures_pool_create(&gone, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(gone), 0);
  again = (future_t *)&again;
  ck_assert_int_eq(
      futures_pool_destroy_async(gone, FUTURES_DESTROY_DRAIN, &again), EINVAL);
  ck_assert_ptr_null(again);
}
END_TEST

Suite *
shutdown_suite(void)
{
  Suite *s = suite_create("shutdown");
  TCase *tc;

  tc = tcase_create("shutdown");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_shutdown_destroy_runs_every_queued_task);
  tcase_add_test(tc,
                 test_shutdown_submit_after_destroy_began_returns_eshutdown);
  tcase_add_test(
      tc, test_shutdown_every_submit_form_is_refused_after_destroy_began);
  tcase_add_test(tc, test_shutdown_futures_stay_valid_after_destroy);
  tcase_add_test(tc, test_shutdown_drain_runs_subtasks_submitted_during_it);
  tcase_add_test(tc, test_shutdown_destroy_inside_own_task_returns_edeadlk);
  tcase_add_test(tc,
                 test_shutdown_destroy_of_another_pool_inside_a_task_succeeds);
  tcase_add_test(tc, test_shutdown_drain_never_calls_drop_functions);
  tcase_add_test(tc,
                 test_shutdown_cancel_cancels_every_queued_task_and_runs_none);
  tcase_add_test(tc,
                 test_shutdown_cancel_each_task_either_ran_or_was_cancelled);
  tcase_add_test(tc, test_shutdown_destroy_waits_for_a_task_that_is_still_running);
  suite_add_tcase(s, tc);

  tc = tcase_create("async");
  tcase_set_timeout(tc, 60);
  tcase_add_test(
      tc, test_shutdown_async_returns_at_once_and_resolves_after_the_drain);
  tcase_add_test(
      tc, test_shutdown_async_cancel_settles_queued_tasks_before_it_resolves);
  tcase_add_test(tc,
                 test_shutdown_async_racing_submits_each_run_or_are_refused);
  tcase_add_test(tc, test_shutdown_async_is_delivered_through_a_notifier);
  tcase_add_test(tc, test_shutdown_async_future_chains_and_joins);
  tcase_add_test(
      tc, test_shutdown_async_cancel_of_its_future_does_not_stop_the_destroy);
  tcase_add_loop_test(
      tc, test_shutdown_async_inside_own_task_returns_at_once_and_ends_after_it,
      0, 2);
  tcase_add_test(tc, test_shutdown_async_from_the_pool_timer_thread_succeeds);
  tcase_add_test(tc, test_shutdown_async_in_a_fork_child_is_echild);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_shutdown_destroy_ex_with_bad_mode_returns_einval);
  tcase_add_test(tc, test_shutdown_async_bad_input_leaves_the_pool_untouched);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(shutdown_suite());
}
