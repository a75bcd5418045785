/* SPDX-License-Identifier: MIT */
/*
 * check_notifier: completion delivered into an event loop. The descriptor
 * is readable exactly while tags wait; tags come in settle order, once
 * each, for every outcome; no settle is missed between a drain and the
 * next poll; destroy leaks nothing, also racing with settles.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

Suite *notifier_suite(void);

#define FAR_MS 30000 /* a poll bound that only a lost wake-up reaches */

/* 1 if the notifier's descriptor is readable now. */
static int
readable(futures_notifier_t *n)
{
  struct pollfd p = {futures_notifier_fd(n), POLLIN, 0};

  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void *
tag_of(long i)
{
  return (void *)(uintptr_t)(i + 1);
}

/* ------------------------------------------------------------ basics */

START_TEST(test_notifier_fd_readable_exactly_while_tags_wait)
{
  futures_notifier_t *n;
  future_t *p[2];
  void *tags[4];
  int fd;

  ck_assert_int_eq(futures_notifier_create(&n), 0);
  fd = futures_notifier_fd(n);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  ck_assert_int_eq(readable(n), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
    ck_assert_int_eq(futures_notifier_watch(n, p[i], tag_of(i)), 0);
  }
  ck_assert_int_eq(readable(n), 0);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 4), 0);
  ck_assert_int_eq(future_resolve(p[1], NULL), 0);
  ck_assert_int_eq(readable(n), 1);
  ck_assert_int_eq(future_resolve(p[0], NULL), 0);
  ck_assert_int_eq(readable(n), 1);
  /* One at a time: still readable while one is left. */
  ck_assert_uint_eq(futures_notifier_take(n, tags, 1), 1);
  ck_assert_ptr_eq(tags[0], tag_of(1)); /* settle order */
  ck_assert_int_eq(readable(n), 1);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 4), 1);
  ck_assert_ptr_eq(tags[0], tag_of(0));
  ck_assert_int_eq(readable(n), 0);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 4), 0);
  for (int i = 0; i < 2; i++)
    future_release(p[i]);
  futures_notifier_destroy(n);
}
END_TEST

static int
fail_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EPIPE;
}

START_TEST(test_notifier_delivers_every_outcome_and_settled_futures_at_once)
{
  futures_notifier_t *n;
  futures_pool_t *pool;
  future_t *ok, *failed, *cancelled, *task;
  void *tags[8];
  size_t k;

  ck_assert_int_eq(futures_notifier_create(&n), 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&ok), 0);
  ck_assert_int_eq(futures_promise_create(&failed), 0);
  ck_assert_int_eq(futures_promise_create(&cancelled), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, NULL, &task), 0);
  ck_assert_int_eq(future_get(task, NULL), EPIPE);
  /* Settled already: delivered in the watch itself. */
  ck_assert_int_eq(futures_notifier_watch(n, task, tag_of(0)), 0);
  ck_assert_int_eq(readable(n), 1);
  ck_assert_int_eq(futures_notifier_watch(n, ok, tag_of(1)), 0);
  ck_assert_int_eq(futures_notifier_watch(n, ok, tag_of(2)), 0); /* twice */
  ck_assert_int_eq(futures_notifier_watch(n, failed, tag_of(3)), 0);
  ck_assert_int_eq(futures_notifier_watch(n, cancelled, tag_of(4)), 0);
  ck_assert_int_eq(future_cancel(cancelled), 0);
  ck_assert_int_eq(future_reject(failed, EIO), 0);
  ck_assert_int_eq(future_resolve(ok, NULL), 0);
  k = futures_notifier_take(n, tags, 8);
  ck_assert_uint_eq(k, 5);
  ck_assert_ptr_eq(tags[0], tag_of(0));
  ck_assert_ptr_eq(tags[1], tag_of(4));
  ck_assert_ptr_eq(tags[2], tag_of(3));
  /* One future watched twice: both tags, in the order of the watches. */
  ck_assert_ptr_eq(tags[3], tag_of(1));
  ck_assert_ptr_eq(tags[4], tag_of(2));
  ck_assert_int_eq(readable(n), 0);
  future_release(ok);
  future_release(failed);
  future_release(cancelled);
  future_release(task);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  futures_notifier_destroy(n);
}
END_TEST

/*
 * A combinator settled by its input's callback is delivered after the
 * input itself, whatever order the watches and the combinator were made
 * in: tags come in settle order.
 */
START_TEST(test_notifier_tags_in_settle_order_through_a_combinator)
{
  futures_notifier_t *n;
  future_t *p, *all, *all2;
  void *tags[4];

  ck_assert_int_eq(futures_notifier_create(&n), 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_all(&p, 1, &all), 0); /* p's first callback */
  ck_assert_int_eq(futures_all(&all, 1, &all2), 0);
  ck_assert_int_eq(futures_notifier_watch(n, all2, tag_of(2)), 0);
  ck_assert_int_eq(futures_notifier_watch(n, all, tag_of(1)), 0);
  ck_assert_int_eq(futures_notifier_watch(n, p, tag_of(0)), 0);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 4), 3);
  ck_assert_ptr_eq(tags[0], tag_of(0));
  ck_assert_ptr_eq(tags[1], tag_of(1));
  ck_assert_ptr_eq(tags[2], tag_of(2));
  future_release(all2);
  future_release(all);
  future_release(p);
  futures_notifier_destroy(n);
}
END_TEST

START_TEST(test_notifier_bad_input)
{
  futures_notifier_t *n;
  future_t *p;
  void *tags[1];

  ck_assert_int_eq(futures_notifier_create(NULL), EINVAL);
  ck_assert_int_eq(futures_notifier_fd(NULL), -1);
  ck_assert_uint_eq(futures_notifier_take(NULL, tags, 1), 0);
  futures_notifier_destroy(NULL);
  ck_assert_int_eq(futures_notifier_create(&n), 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_notifier_watch(NULL, p, NULL), EINVAL);
  ck_assert_int_eq(futures_notifier_watch(n, NULL, NULL), EINVAL);
  ck_assert_int_eq(futures_notifier_watch(n, p, NULL), 0); /* NULL tag */
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ck_assert_uint_eq(futures_notifier_take(n, NULL, 1), 0);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 0), 0);
  tags[0] = &tags;
  ck_assert_uint_eq(futures_notifier_take(n, tags, 1), 1);
  ck_assert_ptr_null(tags[0]);
  future_release(p);
  futures_notifier_destroy(n);
}
END_TEST

/* ------------------------------------------------------------ races */

/*
 * The order the descriptor must survive: the loop takes the last tag (the
 * descriptor is drained), and only then does a future settle. Forced
 * step by step with latches, many times: after each settle the loop's
 * poll must see the descriptor readable and take exactly that tag.
 */
struct lockstep {
  futures_notifier_t *n;
  future_t **p;
  long rounds;
  struct tu_latch *drained; /* per round: the loop took everything */
};

static void *
lockstep_settler(void *arg)
{
  struct lockstep *ls = arg;

  for (long i = 0; i < ls->rounds; i++) {
    tu_latch_wait(&ls->drained[i]);
    (void)future_resolve(ls->p[i], NULL);
  }
  return NULL;
}

START_TEST(test_notifier_no_wakeup_lost_between_drain_and_settle)
{
  long rounds = tu_scaled(2000, 100);
  struct lockstep ls;
  pthread_t th;
  long lost = 0, wrong = 0;

  ck_assert_int_eq(futures_notifier_create(&ls.n), 0);
  ls.rounds = rounds;
  ls.p = calloc((size_t)rounds, sizeof(*ls.p));
  ls.drained = calloc((size_t)rounds, sizeof(*ls.drained));
  ck_assert(ls.p != NULL && ls.drained != NULL);
  for (long i = 0; i < rounds; i++) {
    ck_assert_int_eq(futures_promise_create(&ls.p[i]), 0);
    ck_assert_int_eq(futures_notifier_watch(ls.n, ls.p[i], tag_of(i)), 0);
    tu_latch_init(&ls.drained[i]);
  }
  ck_assert_int_eq(pthread_create(&th, NULL, lockstep_settler, &ls), 0);
  for (long i = 0; i < rounds; i++) {
    struct pollfd pf = {futures_notifier_fd(ls.n), POLLIN, 0};
    void *tag = NULL;

    /* Nothing waits now: the previous round took its tag. */
    while (futures_notifier_take(ls.n, &tag, 1) != 0)
      wrong++;
    tu_latch_open(&ls.drained[i]);
    if (poll(&pf, 1, FAR_MS) != 1) {
      lost++;
      break;
    }
    if (futures_notifier_take(ls.n, &tag, 1) != 1 || tag != tag_of(i))
      wrong++;
  }
  pthread_join(th, NULL);
  ck_assert_int_eq(lost, 0);
  ck_assert_int_eq(wrong, 0);
  for (long i = 0; i < rounds; i++) {
    future_release(ls.p[i]);
    tu_latch_destroy(&ls.drained[i]);
  }
  free(ls.p);
  free(ls.drained);
  futures_notifier_destroy(ls.n);
}
END_TEST

#define NSETTLE    4
#define PER_THREAD 500

struct many {
  futures_notifier_t *n;
  future_t *p[NSETTLE * PER_THREAD];
  pthread_barrier_t go;
};

static void
many_settler(void *arg, int i)
{
  struct many *m = arg;

  pthread_barrier_wait(&m->go);
  for (int k = 0; k < PER_THREAD; k++) {
    future_t *p = m->p[i * PER_THREAD + k];

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

/* Four threads settle 2000 watched promises while the loop polls and
 * takes: every tag arrives exactly once. */
START_TEST(test_notifier_settles_from_many_threads_deliver_every_tag)
{
  struct many *m = calloc(1, sizeof(*m));
  unsigned char *seen = calloc(NSETTLE * PER_THREAD, 1);
  long got = 0, dup = 0, timeouts = 0;
  pthread_t th;

  ck_assert(m != NULL && seen != NULL);
  ck_assert_int_eq(futures_notifier_create(&m->n), 0);
  for (long i = 0; i < NSETTLE * PER_THREAD; i++) {
    ck_assert_int_eq(futures_promise_create(&m->p[i]), 0);
    ck_assert_int_eq(futures_notifier_watch(m->n, m->p[i], tag_of(i)), 0);
  }
  pthread_barrier_init(&m->go, NULL, NSETTLE);
  ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, m), 0);
  while (got < NSETTLE * PER_THREAD) {
    struct pollfd pf = {futures_notifier_fd(m->n), POLLIN, 0};
    void *tags[64];
    size_t k;

    if (poll(&pf, 1, FAR_MS) != 1) {
      timeouts++;
      break;
    }
    k = futures_notifier_take(m->n, tags, 64);
    for (size_t j = 0; j < k; j++) {
      uintptr_t t = (uintptr_t)tags[j] - 1;

      if (t >= NSETTLE * PER_THREAD || seen[t]++)
        dup++;
      got++;
    }
  }
  pthread_join(th, NULL);
  ck_assert_int_eq(timeouts, 0);
  ck_assert_int_eq(dup, 0);
  ck_assert_int_eq(got, NSETTLE * PER_THREAD);
  ck_assert_int_eq(readable(m->n), 0);
  pthread_barrier_destroy(&m->go);
  for (long i = 0; i < NSETTLE * PER_THREAD; i++)
    future_release(m->p[i]);
  futures_notifier_destroy(m->n);
  free(seen);
  free(m);
}
END_TEST

/* destroy() while other threads settle the watched futures: under ASan
 * and memcheck, a leak or a use after free fails it. */
START_TEST(test_notifier_destroy_racing_settles_leaks_nothing)
{
  long rounds = tu_scaled(200, 20);

  for (long r = 0; r < rounds; r++) {
    struct many *m = calloc(1, sizeof(*m));
    pthread_t th;

    ck_assert(m != NULL);
    ck_assert_int_eq(futures_notifier_create(&m->n), 0);
    for (long i = 0; i < NSETTLE * PER_THREAD / 10; i++) {
      ck_assert_int_eq(futures_promise_create(&m->p[i]), 0);
      ck_assert_int_eq(futures_notifier_watch(m->n, m->p[i], tag_of(i)), 0);
    }
    for (long i = NSETTLE * PER_THREAD / 10; i < NSETTLE * PER_THREAD; i++)
      ck_assert_int_eq(futures_promise_create(&m->p[i]), 0);
    pthread_barrier_init(&m->go, NULL, NSETTLE);
    ck_assert_int_eq(pthread_create(&th, NULL, many_settlers, m), 0);
    futures_notifier_destroy(m->n);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&m->go);
    for (long i = 0; i < NSETTLE * PER_THREAD; i++)
      future_release(m->p[i]);
    free(m);
  }
}
END_TEST

/* In a fork() child, the parent's notifier is left alone: a watch is
 * ECHILD, a take takes nothing (it would drain the parent's descriptor),
 * destroy does nothing; the parent's notifier still works. */
START_TEST(test_notifier_of_the_parent_is_left_alone_in_a_fork_child)
{
  futures_notifier_t *n;
  future_t *p, *q;
  void *tags[2];
  pid_t pid;
  int status;

  /* Nothing else of the library is used before the fork: the notifier
   * alone must have set up what tells a child from its parent. */
  ck_assert_int_eq(futures_notifier_create(&n), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int bad = 0;

    signal(SIGALRM, SIG_DFL);
    alarm(20);
    bad |= futures_promise_create(&q) != 0;
    bad |= futures_notifier_watch(n, q, NULL) != ECHILD;
    bad |= futures_notifier_take(n, tags, 2) != 0;
    futures_notifier_destroy(n);
    tu_child_exit(bad);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(readable(n), 0);
  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_notifier_watch(n, p, tag_of(0)), 0);
  ck_assert_int_eq(future_resolve(p, NULL), 0);
  ck_assert_int_eq(readable(n), 1);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 2), 1);
  ck_assert_ptr_eq(tags[0], tag_of(0));
  future_release(p);
  futures_notifier_destroy(n);
}
END_TEST

/*
 * A settling thread with a cancellation request pending: the delivery's
 * write() is a cancellation point, but the delivery (and every callback
 * due in that thread) completes; the thread acts on the request later.
 */
struct cancel_settler {
  future_t *p;
  int rc;
};

static void *
cancelled_settler(void *arg)
{
  struct cancel_settler *cs = arg;

  pthread_cancel(pthread_self()); /* deferred: pending from now on */
  cs->rc = future_resolve(cs->p, NULL);
  pthread_testcancel();
  return NULL;
}

START_TEST(test_notifier_delivery_completes_in_a_thread_being_cancelled)
{
  futures_notifier_t *n;
  struct cancel_settler cs;
  future_t *all;
  void *tags[4], *ret;
  pthread_t th;

  ck_assert_int_eq(futures_notifier_create(&n), 0);
  ck_assert_int_eq(futures_promise_create(&cs.p), 0);
  ck_assert_int_eq(futures_notifier_watch(n, cs.p, tag_of(0)), 0);
  ck_assert_int_eq(futures_all(&cs.p, 1, &all), 0);
  ck_assert_int_eq(futures_notifier_watch(n, all, tag_of(1)), 0);
  ck_assert_int_eq(pthread_create(&th, NULL, cancelled_settler, &cs), 0);
  pthread_join(th, &ret);
  ck_assert_ptr_eq(ret, PTHREAD_CANCELED);
  ck_assert_int_eq(cs.rc, 0);
  ck_assert_int_eq(future_is_ready(all), 1);
  ck_assert_uint_eq(futures_notifier_take(n, tags, 4), 2);
  ck_assert_ptr_eq(tags[0], tag_of(0));
  ck_assert_ptr_eq(tags[1], tag_of(1));
  future_release(all);
  future_release(cs.p);
  futures_notifier_destroy(n);
}
END_TEST

/* ------------------------------------------------------------ in a task */

struct in_task {
  futures_pool_t *pool;
};

static int
value_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static int
notifier_task(void *arg, void **result)
{
  struct in_task *it = arg;
  futures_notifier_t *n;
  future_t *f[4];
  void *tags[4];
  size_t got = 0;
  int rc = 0;

  (void)result;
  if (futures_notifier_create(&n) != 0)
    return ENOMEM;
  for (int i = 0; i < 4; i++) {
    if (futures_submit(it->pool, value_task, NULL, &f[i]) != 0 ||
        futures_notifier_watch(n, f[i], tag_of(i)) != 0)
      return ENOMEM;
  }
  /* Runs them here (the pool has one worker: this one), then polls. */
  if (futures_join_all(f, 4, NULL) != 0)
    rc = EIO;
  while (rc == 0 && got < 4) {
    struct pollfd pf = {futures_notifier_fd(n), POLLIN, 0};

    if (poll(&pf, 1, FAR_MS) != 1)
      rc = ETIMEDOUT;
    else
      got += futures_notifier_take(n, tags + got, 4 - got);
  }
  for (int i = 0; i < 4; i++)
    future_release(f[i]);
  futures_notifier_destroy(n);
  return rc;
}

START_TEST(test_notifier_watch_and_take_in_a_task)
{
  struct in_task it;
  future_t *t;

  ck_assert_int_eq(futures_pool_create(&it.pool, 1), 0);
  ck_assert_int_eq(futures_submit(it.pool, notifier_task, &it, &t), 0);
  ck_assert_int_eq(future_get(t, NULL), 0);
  future_release(t);
  ck_assert_int_eq(futures_pool_destroy(it.pool), 0);
}
END_TEST

Suite *
notifier_suite(void)
{
  Suite *s = suite_create("notifier");
  TCase *tc = tcase_create("basics");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_notifier_fd_readable_exactly_while_tags_wait);
  tcase_add_test(
      tc, test_notifier_delivers_every_outcome_and_settled_futures_at_once);
  tcase_add_test(tc, test_notifier_tags_in_settle_order_through_a_combinator);
  tcase_add_test(tc, test_notifier_bad_input);
  tcase_add_test(tc, test_notifier_of_the_parent_is_left_alone_in_a_fork_child);
  tcase_add_test(tc,
                 test_notifier_delivery_completes_in_a_thread_being_cancelled);
  tcase_add_test(tc, test_notifier_watch_and_take_in_a_task);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_notifier_no_wakeup_lost_between_drain_and_settle);
  tcase_add_test(tc, test_notifier_settles_from_many_threads_deliver_every_tag);
  tcase_add_test(tc, test_notifier_destroy_racing_settles_leaks_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(notifier_suite());
}
