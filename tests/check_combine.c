/* SPDX-License-Identifier: MIT */
/*
 * check_combine (internal hooks): the combinators that return futures.
 * futures_all_settled() settles with 0 once every input has;
 * futures_any() as its first input settles; futures_any_ok() with its
 * first success, or ENOENT. futures_winner() says which input won a race,
 * futures_cancel_inputs() cancels what a pending combinator waits for,
 * and a race lets go of its inputs the moment it settles.
 *
 * Linked with the core library for the allocation fault hook and the live
 * record count: main() sets FUTURES_ALLOC=malloc (unless the environment
 * chose), so that every record is an allocation the hook can fail and
 * futures__alloc_live() counts exactly the records alive. Tasks and helper
 * threads only record what they saw; the test thread asserts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "internal.h"
#include "testutil.h"

Suite *combine_suite(void);

#define NO_INDEX ((size_t)-1)

static int value_a, value_b, value_c; /* results: their addresses */

/* The four combinators that return futures, for the loop tests. */
enum { ALL, ALL_SETTLED, ANY, ANY_OK, NKINDS };

static int
make(int kind, future_t *const fs[], size_t n, future_t **out)
{
  switch (kind) {
  case ALL:
    return futures_all(fs, n, out);
  case ALL_SETTLED:
    return futures_all_settled(fs, n, out);
  case ANY:
    return futures_any(fs, n, out);
  default:
    return futures_any_ok(fs, n, out);
  }
}

static int
is_race(int kind)
{
  return kind == ANY || kind == ANY_OK;
}

static void
promises(future_t *p[], int n)
{
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(futures_promise_create(&p[i]), 0);
}

static void
release_all(future_t *p[], int n)
{
  for (int i = 0; i < n; i++)
    future_release(p[i]);
}

/* 1 when each future record is its own malloc, so live records count. */
static int
malloc_mode(void)
{
  return futures__alloc_cached() == 0;
}

/* The winner of @race, or NO_INDEX with the code in *@rc. */
static size_t
winner(const future_t *race, int *rc)
{
  size_t i = 12345;

  *rc = futures_winner(race, &i);
  return i;
}

static int
return_zero(void *arg, void **result)
{
  (void)arg;
  *result = NULL;
  return 0;
}

static int
value_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* ------------------------------------------------------------ basics */

/* allSettled: 0 and NULL once the last input settles, whatever the
 * outcomes, which each input keeps. */
START_TEST(test_all_settled_settles_with_zero_whatever_the_outcomes)
{
  future_t *p[3], *s;
  void *res = &value_c;
  int rc;

  promises(p, 3);
  ck_assert_int_eq(futures_all_settled(p, 3, &s), 0);
  ck_assert_int_eq(future_reject(p[2], EIO), 0);
  ck_assert_int_eq(future_cancel(p[0]), 0);
  ck_assert_int_eq(future_is_ready(s), 0); /* p[1] still pending */
  ck_assert_int_eq(future_wait_for(s, 0), ETIMEDOUT);
  ck_assert_int_eq(future_resolve(p[1], &value_a), 0);
  ck_assert_int_eq(future_is_ready(s), 1);
  ck_assert_int_eq(future_get(s, &res), 0);
  ck_assert_ptr_null(res);
  ck_assert_int_eq(future_get(p[0], NULL), ECANCELED);
  ck_assert_int_eq(future_get(p[1], &res), 0);
  ck_assert_ptr_eq(res, &value_a);
  ck_assert_int_eq(future_get(p[2], NULL), EIO);
  /* Not a race: it has no winner to tell. */
  ck_assert_uint_eq(winner(s, &rc), NO_INDEX);
  ck_assert_int_eq(rc, EINVAL);
  future_release(s);
  release_all(p, 3);
}
END_TEST

/* n == 0: all and allSettled resolve at once, any_ok fails at once with
 * ENOENT (no input succeeded, as futures_join_any_ok() says), any is
 * EINVAL (a race with no runners never ends, as futures_join_any()). */
START_TEST(test_combine_of_zero_inputs)
{
  future_t *f = (future_t *)&value_c;
  void *res = &value_c;
  int rc;

  ck_assert_int_eq(futures_all_settled(NULL, 0, &f), 0);
  ck_assert_int_eq(future_is_ready(f), 1);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_null(res);
  ck_assert_int_eq(futures_cancel_inputs(f), EALREADY);
  future_release(f);

  ck_assert_int_eq(futures_any_ok(NULL, 0, &f), 0);
  ck_assert_int_eq(future_is_ready(f), 1);
  ck_assert_int_eq(future_get(f, NULL), ENOENT);
  ck_assert_uint_eq(winner(f, &rc), NO_INDEX);
  ck_assert_int_eq(rc, ENOENT);
  future_release(f);

  f = (future_t *)&value_c;
  ck_assert_int_eq(futures_any(NULL, 0, &f), EINVAL);
  ck_assert_ptr_null(f);
  f = (future_t *)&value_c;
  ck_assert_int_eq(futures_any((future_t *const *)&f, 0, &f), EINVAL);
  ck_assert_ptr_null(f);
}
END_TEST

/* A race takes the code and result of its first input to settle, failure
 * or success; later settles change nothing. */
START_TEST(test_any_settles_as_the_first_input_to_settle)
{
  future_t *p[3], *q[2], *r;
  void *res = &value_c;
  int rc;

  promises(p, 3);
  ck_assert_int_eq(futures_any(p, 3, &r), 0);
  ck_assert_uint_eq(winner(r, &rc), NO_INDEX);
  ck_assert_int_eq(rc, EBUSY);
  ck_assert_int_eq(future_reject(p[1], EPIPE), 0);
  ck_assert_int_eq(future_is_ready(r), 1);
  ck_assert_int_eq(future_get(r, &res), EPIPE);
  ck_assert_ptr_null(res);
  ck_assert_uint_eq(winner(r, &rc), 1);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  ck_assert_int_eq(future_get(r, NULL), EPIPE);
  ck_assert_uint_eq(winner(r, &rc), 1);
  future_release(r);
  release_all(p, 3);

  /* A success: the winner's own result pointer. */
  promises(q, 2);
  ck_assert_int_eq(futures_any(q, 2, &r), 0);
  ck_assert_int_eq(future_resolve(q[1], &value_b), 0);
  ck_assert_int_eq(future_get(r, &res), 0);
  ck_assert_ptr_eq(res, &value_b);
  ck_assert_uint_eq(winner(r, &rc), 1);
  future_release(r);
  release_all(q, 2);
}
END_TEST

/* Inputs settled before the call: the lowest-index one wins a race, and
 * the lowest-index success an any_ok. */
START_TEST(test_race_of_settled_inputs_is_won_by_the_lowest_index)
{
  future_t *p[4], *r, *ok;
  void *res = NULL;
  int rc;

  promises(p, 4);
  ck_assert_int_eq(future_resolve(p[3], &value_c), 0);
  ck_assert_int_eq(future_reject(p[1], EIO), 0);
  ck_assert_int_eq(future_resolve(p[2], &value_b), 0);
  ck_assert_int_eq(futures_any(p, 4, &r), 0);
  ck_assert_int_eq(futures_any_ok(p, 4, &ok), 0);
  ck_assert_int_eq(future_is_ready(r), 1);
  ck_assert_int_eq(future_is_ready(ok), 1);
  ck_assert_int_eq(future_get(r, NULL), EIO);
  ck_assert_uint_eq(winner(r, &rc), 1);
  ck_assert_int_eq(future_get(ok, &res), 0);
  ck_assert_ptr_eq(res, &value_b);
  ck_assert_uint_eq(winner(ok, &rc), 2);
  ck_assert_int_eq(rc, 0);
  future_release(ok);
  future_release(r);
  release_all(p, 4);
}
END_TEST

/* any_ok skips failures and takes the first success. */
START_TEST(test_any_ok_settles_with_the_first_success)
{
  future_t *p[3], *ok;
  void *res = NULL;
  int rc;

  promises(p, 3);
  ck_assert_int_eq(futures_any_ok(p, 3, &ok), 0);
  ck_assert_int_eq(future_reject(p[0], EIO), 0);
  ck_assert_int_eq(future_is_ready(ok), 0);
  ck_assert_uint_eq(winner(ok, &rc), NO_INDEX);
  ck_assert_int_eq(rc, EBUSY);
  ck_assert_int_eq(future_resolve(p[2], &value_b), 0);
  ck_assert_int_eq(future_is_ready(ok), 1);
  ck_assert_int_eq(future_get(ok, &res), 0);
  ck_assert_ptr_eq(res, &value_b);
  ck_assert_uint_eq(winner(ok, &rc), 2);
  ck_assert_int_eq(future_reject(p[1], EPIPE), 0);
  ck_assert_int_eq(future_get(ok, &res), 0);
  future_release(ok);
  release_all(p, 3);
}
END_TEST

/* Every input fails (a cancel counts): ENOENT, no winner, each input
 * keeps its own code. */
START_TEST(test_any_ok_of_failures_is_enoent)
{
  future_t *p[3], *ok;
  int rc;

  promises(p, 3);
  ck_assert_int_eq(futures_any_ok(p, 3, &ok), 0);
  ck_assert_int_eq(future_reject(p[2], EIO), 0);
  ck_assert_int_eq(future_cancel(p[0]), 0);
  ck_assert_int_eq(future_is_ready(ok), 0);
  ck_assert_int_eq(future_reject(p[1], EPIPE), 0);
  ck_assert_int_eq(future_get(ok, NULL), ENOENT);
  ck_assert_uint_eq(winner(ok, &rc), NO_INDEX);
  ck_assert_int_eq(rc, ENOENT);
  ck_assert_int_eq(future_get(p[0], NULL), ECANCELED);
  ck_assert_int_eq(future_get(p[1], NULL), EPIPE);
  ck_assert_int_eq(future_get(p[2], NULL), EIO);
  future_release(ok);
  release_all(p, 3);
}
END_TEST

/* NULL arguments and futures that are not the right kind: EINVAL, with
 * the out-parameters cleared and nothing settled. */
START_TEST(test_combine_bad_input_is_einval)
{
  futures_pool_t *pool;
  future_t *p[2], *t, *all, *s, *bad[2], *f;
  size_t i;

  promises(p, 2);
  bad[0] = p[0];
  bad[1] = NULL;
  for (int k = ALL_SETTLED; k < NKINDS; k++) {
    ck_assert_int_eq(make(k, p, 2, NULL), EINVAL);
    f = (future_t *)&value_c;
    ck_assert_int_eq(make(k, NULL, 2, &f), EINVAL);
    ck_assert_ptr_null(f);
    f = (future_t *)&value_c;
    ck_assert_int_eq(make(k, bad, 2, &f), EINVAL);
    ck_assert_ptr_null(f);
    /* No one settles a combinator's future but the combinator. */
    ck_assert_int_eq(make(k, p, 2, &f), 0);
    ck_assert_int_eq(future_resolve(f, NULL), EINVAL);
    ck_assert_int_eq(future_reject(f, EIO), EINVAL);
    ck_assert_int_eq(future_is_ready(f), 0);
    future_release(f);
  }
  ck_assert_int_eq(future_is_ready(p[0]), 0); /* nothing was settled */
  /* futures_winner() and futures_cancel_inputs() on what is not theirs. */
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, return_zero, NULL, &t), 0);
  ck_assert_int_eq(futures_all(p, 2, &all), 0);
  ck_assert_int_eq(futures_all_settled(p, 2, &s), 0);
  ck_assert_int_eq(futures_any(p, 2, &f), 0);
  i = 7;
  ck_assert_int_eq(futures_winner(NULL, &i), EINVAL);
  ck_assert_uint_eq(i, NO_INDEX);
  ck_assert_int_eq(futures_winner(f, NULL), EINVAL);
  ck_assert_int_eq(futures_winner(p[0], &i), EINVAL);
  ck_assert_int_eq(futures_winner(t, &i), EINVAL);
  ck_assert_int_eq(futures_winner(all, &i), EINVAL);
  ck_assert_int_eq(futures_winner(s, &i), EINVAL);
  ck_assert_int_eq(futures_cancel_inputs(NULL), EINVAL);
  ck_assert_int_eq(futures_cancel_inputs(p[0]), EINVAL);
  ck_assert_int_eq(futures_cancel_inputs(t), EINVAL);
  ck_assert_int_eq(future_is_ready(p[0]), 0);
  ck_assert_int_eq(future_get(t, NULL), 0);
  ck_assert_int_eq(futures_cancel_inputs(t), EINVAL);
  /* Settled, so that no combinator above keeps its inputs for ever. */
  ck_assert_int_eq(future_resolve(p[0], NULL), 0);
  ck_assert_int_eq(future_resolve(p[1], NULL), 0);
  future_release(f);
  future_release(s);
  future_release(all);
  future_release(t);
  release_all(p, 2);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* A fork() child: the parent's pending inputs and combinators are ECHILD
 * (they will never settle there); the parent's are untouched. */
START_TEST(test_combine_of_the_parent_is_echild_in_a_fork_child)
{
  future_t *p, *r;
  pid_t pid;
  int status, rc;

  ck_assert_int_eq(futures_promise_create(&p), 0);
  ck_assert_int_eq(futures_any(&p, 1, &r), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    future_t *x;
    size_t i;
    int bad = 0;

    signal(SIGALRM, SIG_DFL);
    alarm(20);
    for (int k = ALL_SETTLED; k < NKINDS; k++)
      bad |= make(k, &p, 1, &x) != ECHILD;
    bad |= futures_cancel_inputs(r) != ECHILD;
    bad |= future_get(r, NULL) != ECHILD;
    bad |= futures_winner(r, &i) != EBUSY;
    tu_child_exit(bad);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_int_eq(future_is_ready(r), 0);
  ck_assert_int_eq(future_resolve(p, &value_a), 0);
  ck_assert_int_eq(future_get(r, NULL), 0);
  ck_assert_uint_eq(winner(r, &rc), 0);
  future_release(r);
  future_release(p);
}
END_TEST

/* ------------------------------------------------------------ letting go */

/*
 * Cancelling a combinator's future settles it with ECANCELED, cancels no
 * input and lets go of them at once: an input whose only other holder
 * was the combinator is freed the moment its handle is released. _i is
 * the kind.
 */
START_TEST(test_combine_cancelled_cancels_no_input_and_lets_go)
{
  future_t *p[2], *c;
  long live;
  int rc;

  if (!malloc_mode())
    return; /* FUTURES_ALLOC=cached was asked for: records are not counted */
  promises(p, 2);
  ck_assert_int_eq(make(_i, p, 2, &c), 0);
  ck_assert_int_eq(future_cancel(c), 0);
  ck_assert_int_eq(future_get(c, NULL), ECANCELED);
  ck_assert_int_eq(future_is_ready(p[0]), 0);
  ck_assert_int_eq(future_is_ready(p[1]), 0);
  ck_assert_int_eq(futures_cancel_inputs(c), EALREADY);
  ck_assert_uint_eq(winner(c, &rc), NO_INDEX);
  ck_assert_int_eq(rc, is_race(_i) ? ENOENT : EINVAL);
  live = futures__alloc_live();
  future_release(p[1]); /* the last reference: the combinator has none */
  ck_assert_int_eq(futures__alloc_live(), live - 1);
  /* Settling an input later changes nothing. */
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  ck_assert_int_eq(future_get(c, NULL), ECANCELED);
  future_release(c);
  future_release(p[0]);
}
END_TEST

/*
 * A race that settles lets go of its losers at once: their records go
 * with their last handle, while they are still pending (a loser may run
 * on for long). _i: ANY or ANY_OK.
 */
START_TEST(test_race_lets_go_of_its_inputs_once_settled)
{
  future_t *p[3], *r;
  void *res = NULL;
  long live;
  int rc;

  if (!malloc_mode())
    return; /* FUTURES_ALLOC=cached was asked for: records are not counted */
  promises(p, 3);
  ck_assert_int_eq(make(_i, p, 3, &r), 0);
  future_release(p[1]);
  future_release(p[2]);
  live = futures__alloc_live();
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  /* p[1] and p[2], pending and held by no one else, are gone. */
  ck_assert_int_eq(futures__alloc_live(), live - 2);
  ck_assert_int_eq(future_get(r, &res), 0);
  ck_assert_ptr_eq(res, &value_a);
  ck_assert_uint_eq(winner(r, &rc), 0);
  ck_assert_int_eq(futures_cancel_inputs(r), EALREADY);
  future_release(r);
  future_release(p[0]);
}
END_TEST

/* The caller releases its handles at once; each kind still settles as
 * its inputs do. _i is the kind. */
START_TEST(test_combine_inputs_released_at_once_still_settle)
{
  static const int want[NKINDS] = {EIO, 0, 0, 0};
  future_t *p[3], *keep[3], *c;
  void *res = NULL;

  promises(p, 3);
  for (int i = 0; i < 3; i++) {
    keep[i] = p[i];
    ck_assert_int_eq(future_retain(keep[i]), 0);
  }
  ck_assert_int_eq(make(_i, p, 3, &c), 0);
  release_all(p, 3);
  ck_assert_int_eq(future_resolve(keep[2], &value_c), 0);
  ck_assert_int_eq(future_reject(keep[0], EIO), 0);
  ck_assert_int_eq(future_resolve(keep[1], &value_b), 0);
  ck_assert_int_eq(future_get(c, &res), want[_i]);
  if (is_race(_i))
    ck_assert_ptr_eq(res, &value_c);
  future_release(c);
  release_all(keep, 3);
}
END_TEST

/* ------------------------------------------------------------ cancel */

struct victim {
  struct tu_latch started, go;
  atomic_int ran;
};

/* Holds its worker until go opens; then fails with ECANCELED if it was
 * asked to stop meanwhile. */
static int
victim_task(void *arg, void **result)
{
  struct victim *v = arg;

  (void)result;
  atomic_fetch_add(&v->ran, 1);
  tu_latch_open(&v->started);
  tu_latch_wait(&v->go);
  return futures_cancelled() ? ECANCELED : 0;
}

static int
count_task(void *arg, void **result)
{
  (void)result;
  atomic_fetch_add((atomic_int *)arg, 1);
  return 0;
}

/*
 * futures_cancel_inputs() on each kind, with inputs in every state: a
 * pending promise and an unstarted task settle ECANCELED (the task never
 * runs), a running task is asked to stop, the combinator settles as the
 * new outcomes decide, and a second call finds it settled. _i is the kind.
 */
START_TEST(test_cancel_inputs_cancels_every_pending_input)
{
  static const int want[NKINDS] = {ECANCELED, 0, ECANCELED, ENOENT};
  futures_pool_t *pool;
  struct victim v;
  atomic_int queued_ran = 0;
  future_t *in[4], *c;
  int rc;

  tu_latch_init(&v.started);
  tu_latch_init(&v.go);
  atomic_init(&v.ran, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_promise_create(&in[0]), 0);
  ck_assert_int_eq(futures_submit(pool, victim_task, &v, &in[1]), 0);
  tu_latch_wait(&v.started); /* it holds the only worker */
  ck_assert_int_eq(futures_promise_create(&in[2]), 0);
  ck_assert_int_eq(futures_submit(pool, count_task, &queued_ran, &in[3]), 0);
  ck_assert_int_eq(make(_i, in, 4, &c), 0);
  ck_assert_int_eq(futures_cancel_inputs(c), 0);
  tu_latch_open(&v.go);
  ck_assert_int_eq(future_get(in[0], NULL), ECANCELED);
  ck_assert_int_eq(future_get(in[1], NULL), ECANCELED); /* asked, stopped */
  ck_assert_int_eq(future_get(in[2], NULL), ECANCELED);
  ck_assert_int_eq(future_get(in[3], NULL), ECANCELED);
  ck_assert_int_eq(future_get(c, NULL), want[_i]);
  if (_i == ANY)
    ck_assert_uint_eq(winner(c, &rc), 0);
  ck_assert_int_eq(futures_cancel_inputs(c), EALREADY);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&queued_ran), 0);
  ck_assert_int_eq(atomic_load(&v.ran), 1);
  future_release(c);
  release_all(in, 4);
  tu_latch_destroy(&v.go);
  tu_latch_destroy(&v.started);
}
END_TEST

/*
 * The first cancel settles a race, which then lets go of its inputs at
 * once: futures_cancel_inputs() still reaches every one of them.
 */
START_TEST(test_cancel_inputs_of_a_race_reaches_every_input)
{
  enum { N = 64 };
  future_t *p[N], *r;
  int rc;

  promises(p, N);
  ck_assert_int_eq(futures_any(p, N, &r), 0);
  ck_assert_int_eq(futures_cancel_inputs(r), 0);
  ck_assert_int_eq(future_get(r, NULL), ECANCELED);
  ck_assert_uint_eq(winner(r, &rc), 0);
  for (int i = 0; i < N; i++)
    ck_assert_msg(future_get(p[i], NULL) == ECANCELED, "input %d", i);
  future_release(r);
  release_all(p, N);
}
END_TEST

struct self_cancel {
  struct tu_latch go; /* opened once self is stored */
  future_t *self;
  int cancel_rc, flagged, promise_code;
};

/* Cancels the inputs of all({its own future, a promise}). */
static int
self_cancel_task(void *arg, void **result)
{
  struct self_cancel *sc = arg;
  future_t *in[2], *all;

  *result = NULL;
  tu_latch_wait(&sc->go);
  in[0] = sc->self;
  if (futures_promise_create(&in[1]) != 0)
    return ENOMEM;
  if (futures_all(in, 2, &all) != 0) {
    future_release(in[1]);
    return ENOMEM;
  }
  sc->cancel_rc = futures_cancel_inputs(all);
  sc->flagged = futures_cancelled();
  sc->promise_code = future_is_ready(in[1]) ? future_get(in[1], NULL) : -1;
  future_release(all);
  future_release(in[1]);
  return sc->flagged ? ECANCELED : 0;
}

/* In a task: a combinator holding the task's own future only asks the
 * task to stop (its future is running), and cancels the rest. */
START_TEST(test_cancel_inputs_in_a_task_asks_its_own_future_to_stop)
{
  struct self_cancel sc = {.cancel_rc = -1, .flagged = -1, .promise_code = 0};
  futures_pool_t *pool;

  tu_latch_init(&sc.go);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, self_cancel_task, &sc, &sc.self), 0);
  tu_latch_open(&sc.go);
  ck_assert_int_eq(future_get(sc.self, NULL), ECANCELED);
  ck_assert_int_eq(sc.cancel_rc, 0);
  ck_assert_int_eq(sc.flagged, 1);
  ck_assert_int_eq(sc.promise_code, ECANCELED);
  future_release(sc.self);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&sc.go);
}
END_TEST

/* ------------------------------------------------------------ races */

#define NRACE     32
#define NSETTLERS 4

static int results[NRACE]; /* input k resolves with &results[k] */

struct race {
  int kind;
  future_t *p[NRACE];
  future_t *c;
  int make_rc, cancel_rc;
  int fail_all; /* every input fails */
  pthread_barrier_t go;
};

/* Input k: resolves with &results[k] when k % 3 == 1 (and not fail_all),
 * else rejects with 1000 + k. */
static int
planned_code(const struct race *r, int k)
{
  return !r->fail_all && k % 3 == 1 ? 0 : 1000 + k;
}

static void
settle_planned(struct race *r, int k)
{
  if (planned_code(r, k) == 0)
    (void)future_resolve(r->p[k], &results[k]);
  else
    (void)future_reject(r->p[k], planned_code(r, k));
}

/* Threads 0..NSETTLERS-1 settle every NSETTLERS-th input, in opposite
 * orders; thread NSETTLERS makes the combinator at the same moment. */
static void
race_thread(void *arg, int i)
{
  struct race *r = arg;

  pthread_barrier_wait(&r->go);
  if (i == NSETTLERS) {
    r->make_rc = make(r->kind, r->p, NRACE, &r->c);
    return;
  }
  if (i % 2 == 0)
    for (int k = i; k < NRACE; k += NSETTLERS)
      settle_planned(r, k);
  else
    for (int k = NRACE - NSETTLERS + i; k >= 0; k -= NSETTLERS)
      settle_planned(r, k);
}

/* The race's outcome is exactly its winner's. */
static void
check_winner_agrees(struct race *r)
{
  void *res = &value_c, *wres = &value_c;
  int code, rc;
  size_t w;

  code = future_get(r->c, &res);
  w = winner(r->c, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_lt(w, NRACE);
  ck_assert_int_eq(code, future_get(r->p[w], &wres));
  ck_assert_ptr_eq(res, wres);
  if (r->kind == ANY_OK)
    ck_assert_int_eq(code, 0);
}

/* any_ok: the winner's success, or ENOENT and no winner if all failed. */
static void
check_any_ok(struct race *r)
{
  int rc;

  if (!r->fail_all) {
    check_winner_agrees(r);
    return;
  }
  ck_assert_int_eq(future_get(r->c, NULL), ENOENT);
  ck_assert_uint_eq(winner(r->c, &rc), NO_INDEX);
  ck_assert_int_eq(rc, ENOENT);
}

/* allSettled: 0 and NULL, and only once every input has settled. */
static void
check_all_settled(struct race *r)
{
  void *res = &value_c;

  ck_assert_int_eq(future_get(r->c, &res), 0);
  ck_assert_ptr_null(res);
  for (int i = 0; i < NRACE; i++)
    ck_assert_int_eq(future_get(r->p[i], NULL), planned_code(r, i));
}

/* Rounds of @kind made while their inputs settle from many threads, each
 * checked by @check from the test thread; in every fourth round of
 * any_ok, every input fails. */
static void
race_rounds(int kind, void (*check)(struct race *r))
{
  long rounds = tu_scaled(300, 20);

  for (long k = 0; k < rounds; k++) {
    struct race r;

    r.kind = kind;
    r.fail_all = kind == ANY_OK && k % 4 == 3;
    r.c = NULL;
    promises(r.p, NRACE);
    pthread_barrier_init(&r.go, NULL, NSETTLERS + 1);
    ck_assert_int_eq(tu_run_threads(NSETTLERS + 1, race_thread, &r), 0);
    pthread_barrier_destroy(&r.go);
    ck_assert_int_eq(r.make_rc, 0);
    check(&r);
    future_release(r.c);
    release_all(r.p, NRACE);
  }
}

/* A race has one outcome, and futures_winner() names its input. */
START_TEST(test_any_settled_from_many_threads_has_one_winner)
{
  race_rounds(ANY, check_winner_agrees);
}
END_TEST

/* any_ok: the first success, or ENOENT when every input fails. */
START_TEST(test_any_ok_racing_successes_and_failures_has_one_outcome)
{
  race_rounds(ANY_OK, check_any_ok);
}
END_TEST

/* allSettled settles with 0 once its last input has, from any thread. */
START_TEST(test_all_settled_settles_when_inputs_settle_from_many_threads)
{
  race_rounds(ALL_SETTLED, check_all_settled);
}
END_TEST

/* Thread 0 cancels the race, threads 1 and 2 settle its two inputs, at
 * the same moment. */
static void
cancel_race_thread(void *arg, int i)
{
  struct race *r = arg;

  pthread_barrier_wait(&r->go);
  if (i == 0)
    r->cancel_rc = future_cancel(r->c);
  else if (i == 1)
    (void)future_resolve(r->p[0], &results[0]);
  else
    (void)future_reject(r->p[1], EIO);
}

/*
 * A cancel racing the inputs of a race: a cancel that won (0) leaves
 * ECANCELED and no winner; one that lost (EALREADY) leaves the outcome of
 * the input futures_winner() names. Either way the race lets go.
 */
START_TEST(test_race_cancel_racing_its_inputs_agrees_with_the_winner)
{
  long rounds = tu_scaled(1000, 50);
  long cancelled = 0;

  for (long k = 0; k < rounds; k++) {
    struct race r;
    int rc;

    r.kind = k % 2 ? ANY_OK : ANY;
    promises(r.p, 2);
    ck_assert_int_eq(make(r.kind, r.p, 2, &r.c), 0);
    pthread_barrier_init(&r.go, NULL, 3);
    ck_assert_int_eq(tu_run_threads(3, cancel_race_thread, &r), 0);
    pthread_barrier_destroy(&r.go);
    ck_assert_msg(r.cancel_rc == 0 || r.cancel_rc == EALREADY,
                  "round %ld: cancel returned %d", k, r.cancel_rc);
    if (r.cancel_rc == 0) {
      cancelled++;
      ck_assert_int_eq(future_get(r.c, NULL), ECANCELED);
      ck_assert_uint_eq(winner(r.c, &rc), NO_INDEX);
      ck_assert_int_eq(rc, ENOENT);
    } else {
      void *res = NULL, *wres = NULL;
      int code = future_get(r.c, &res);
      size_t w = winner(r.c, &rc);

      ck_assert_int_eq(rc, 0);
      ck_assert_uint_lt(w, 2);
      ck_assert_int_eq(code, future_get(r.p[w], &wres));
      ck_assert_ptr_eq(res, wres);
      if (r.kind == ANY_OK)
        ck_assert_uint_eq(w, 0);
    }
    ck_assert_int_eq(futures_cancel_inputs(r.c), EALREADY);
    future_release(r.c);
    release_all(r.p, 2);
  }
  fprintf(stderr, "race vs cancel: cancel won %ld of %ld rounds\n", cancelled,
          rounds);
}
END_TEST

struct cancel_race {
  int kind;
  future_t *p[NRACE];
  future_t *c;
  int cancel_rc;
  pthread_barrier_t go;
};

/* Thread 0 cancels the inputs; the others resolve every input, from both
 * ends. */
static void
cancel_inputs_thread(void *arg, int i)
{
  struct cancel_race *r = arg;

  pthread_barrier_wait(&r->go);
  if (i == 0) {
    r->cancel_rc = futures_cancel_inputs(r->c);
    return;
  }
  for (int k = 0; k < NRACE; k++)
    (void)future_resolve(r->p[i == 1 ? k : NRACE - 1 - k], &results[k]);
}

/*
 * futures_cancel_inputs() racing the inputs settling and the combinator
 * settling and letting go: it returns 0 or EALREADY, every input ends
 * resolved or ECANCELED, and the combinator's outcome follows from theirs.
 */
START_TEST(test_cancel_inputs_racing_settles_cancels_or_finds_settled)
{
  long rounds = tu_scaled(300, 20);

  for (long k = 0; k < rounds; k++) {
    struct cancel_race r;
    int code, first_failed = -1, any_ok_input = 0;

    r.kind = (int)(k % NKINDS);
    promises(r.p, NRACE);
    ck_assert_int_eq(make(r.kind, r.p, NRACE, &r.c), 0);
    pthread_barrier_init(&r.go, NULL, 3);
    ck_assert_int_eq(tu_run_threads(3, cancel_inputs_thread, &r), 0);
    pthread_barrier_destroy(&r.go);
    ck_assert_msg(r.cancel_rc == 0 || r.cancel_rc == EALREADY,
                  "round %ld: cancel_inputs returned %d", k, r.cancel_rc);
    for (int i = 0; i < NRACE; i++) {
      int c = future_get(r.p[i], NULL);

      ck_assert_msg(c == 0 || c == ECANCELED, "input %d: %d", i, c);
      if (c != 0 && first_failed < 0)
        first_failed = i;
      any_ok_input |= c == 0;
    }
    code = future_get(r.c, NULL);
    switch (r.kind) {
    case ALL:
      ck_assert_int_eq(code, first_failed < 0 ? 0 : ECANCELED);
      break;
    case ALL_SETTLED:
      ck_assert_int_eq(code, 0);
      break;
    case ANY: {
      int rc;
      size_t w = winner(r.c, &rc);

      ck_assert_int_eq(rc, 0);
      ck_assert_int_eq(code, future_get(r.p[w], NULL));
      break;
    }
    default:
      ck_assert_int_eq(code, any_ok_input ? 0 : ENOENT);
      break;
    }
    future_release(r.c);
    release_all(r.p, NRACE);
  }
}
END_TEST

/*
 * Forced orders, through an inline continuation (futures_then_inline()):
 * callbacks run one after another in the settling thread, in the order
 * they became due, so code in one runs while later ones wait.
 */
struct due {
  future_t *race;
  int rc;
};

/* Runs before the race's own callback on the same input is due... */
static int
cancel_race_fn(void *arg, int code, void *value, void **result)
{
  struct due *d = arg;

  (void)code;
  (void)value;
  *result = NULL;
  d->rc = future_cancel(d->race);
  return 0;
}

/* ...or after it settled the race, before the race lets go. */
static int
cancel_inputs_fn(void *arg, int code, void *value, void **result)
{
  struct due *d = arg;

  (void)code;
  (void)value;
  *result = NULL;
  d->rc = futures_cancel_inputs(d->race);
  return 0;
}

/*
 * The race is cancelled while its input's callback is due: the input
 * still claims the verdict, but the race settled ECANCELED first, and
 * futures_winner() says there is no winner, as the outcome does.
 */
START_TEST(test_race_cancelled_while_its_winner_is_due_has_no_winner)
{
  future_t *p[2], *cont;
  struct due d = {NULL, -1};
  int rc;

  promises(p, 2);
  /* Linked before the race's callback, so it runs first. */
  ck_assert_int_eq(futures_then_inline(p[0], cancel_race_fn, &d, &cont), 0);
  ck_assert_int_eq(futures_any(p, 2, &d.race), 0);
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  ck_assert_int_eq(d.rc, 0); /* the cancel won: the race had not settled */
  ck_assert_int_eq(future_get(d.race, NULL), ECANCELED);
  ck_assert_uint_eq(winner(d.race, &rc), NO_INDEX);
  ck_assert_int_eq(rc, ENOENT);
  ck_assert_int_eq(future_get(cont, NULL), 0);
  future_release(cont);
  future_release(d.race);
  release_all(p, 2);
}
END_TEST

/*
 * A race that has settled but not yet let go of its inputs (its callback
 * is still due): futures_cancel_inputs() already answers EALREADY and
 * leaves the loser alone.
 */
START_TEST(test_cancel_inputs_of_a_settled_race_is_ealready_before_it_lets_go)
{
  future_t *p[2], *cont;
  struct due d = {NULL, -1};

  promises(p, 2);
  ck_assert_int_eq(futures_any(p, 2, &d.race), 0);
  /* Linked after the race's callback: it runs once the race settled. */
  ck_assert_int_eq(futures_then_inline(p[0], cancel_inputs_fn, &d, &cont),
                   0);
  ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
  ck_assert_int_eq(d.rc, EALREADY);
  ck_assert_int_eq(future_is_ready(p[1]), 0);
  ck_assert_int_eq(future_get(d.race, NULL), 0);
  ck_assert_int_eq(future_get(cont, NULL), 0);
  ck_assert_int_eq(future_resolve(p[1], &value_b), 0);
  future_release(cont);
  future_release(d.race);
  release_all(p, 2);
}
END_TEST

struct helpers {
  future_t *c;
  int kind;
  pthread_barrier_t go;
  int code[4];
  void *res[4];
};

/* Each thread waits for the combinator with future_get(), which runs the
 * inputs that have not started while the combinator settles and lets go
 * of them. */
static void
helper_thread(void *arg, int i)
{
  struct helpers *h = arg;

  pthread_barrier_wait(&h->go);
  h->code[i] = future_get(h->c, &h->res[i]);
}

/*
 * Waiters help a combinator of 16 tasks queued on a 1-worker pool whose
 * worker is held: the first input run settles a race, which lets go of
 * its inputs while other waiters walk them. Every waiter sees the one
 * outcome; the tasks the waiters did not run are still run by the pool.
 */
START_TEST(test_combine_waiters_help_while_it_settles_and_lets_go)
{
  enum { N = 16, NW = 4 };
  long rounds = tu_scaled(200, 10);
  futures_pool_t *pool;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  for (long k = 0; k < rounds; k++) {
    struct helpers h;
    struct tu_crowd crowd;
    future_t *held[1], *in[N];
    int want;

    h.kind = (int)(k % NKINDS);
    ck_assert_int_eq(tu_crowd_hold(pool, &crowd, held, 1), 0);
    for (int i = 0; i < N; i++)
      ck_assert_int_eq(
          futures_submit(pool, value_task, &results[i], &in[i]), 0);
    ck_assert_int_eq(make(h.kind, in, N, &h.c), 0);
    pthread_barrier_init(&h.go, NULL, NW);
    ck_assert_int_eq(tu_run_threads(NW, helper_thread, &h), 0);
    pthread_barrier_destroy(&h.go);
    want = 0;
    for (int i = 0; i < NW; i++) {
      ck_assert_int_eq(h.code[i], want);
      ck_assert_ptr_eq(h.res[i], h.res[0]);
    }
    if (is_race(h.kind)) {
      int rc;
      size_t w = winner(h.c, &rc);

      ck_assert_int_eq(rc, 0);
      ck_assert_ptr_eq(h.res[0], &results[w]);
    } else {
      ck_assert_ptr_null(h.res[0]);
    }
    ck_assert_int_eq(tu_crowd_release(&crowd, held, 1), 0);
    for (int i = 0; i < N; i++) {
      void *r = NULL;

      ck_assert_int_eq(future_get(in[i], &r), 0);
      ck_assert_ptr_eq(r, &results[i]);
    }
    future_release(h.c);
    release_all(in, N);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* ------------------------------------------------------------ composition */

/* Combinators of combinators of every kind, an input given twice, and a
 * race of an all: each settles as its inputs do. */
START_TEST(test_combine_nested_compositions)
{
  future_t *p[6], *any01, *ok23, *settled, *outer, *race, *dup, *in[3];
  void *res = NULL;
  int rc;

  promises(p, 6);
  ck_assert_int_eq(futures_any(&p[0], 2, &any01), 0);
  ck_assert_int_eq(futures_any_ok(&p[2], 2, &ok23), 0);
  in[0] = any01;
  in[1] = ok23;
  ck_assert_int_eq(futures_all_settled(in, 2, &settled), 0);
  in[0] = settled;
  in[1] = any01;
  in[2] = p[4];
  ck_assert_int_eq(futures_all(in, 3, &outer), 0);
  in[0] = outer;
  in[1] = ok23;
  ck_assert_int_eq(futures_any(in, 2, &race), 0);
  in[0] = p[5];
  in[1] = p[5];
  ck_assert_int_eq(futures_any(in, 2, &dup), 0);

  ck_assert_int_eq(future_reject(p[2], EIO), 0); /* ok23 waits for p[3] */
  ck_assert_int_eq(future_resolve(p[1], &value_a), 0);
  ck_assert_int_eq(future_get(any01, &res), 0);
  ck_assert_ptr_eq(res, &value_a);
  ck_assert_int_eq(future_is_ready(settled), 0);
  ck_assert_int_eq(future_resolve(p[3], &value_b), 0);
  ck_assert_int_eq(future_get(settled, NULL), 0);
  /* ok23 settled before outer (which waits for p[4]): it wins the race. */
  ck_assert_int_eq(future_get(race, &res), 0);
  ck_assert_ptr_eq(res, &value_b);
  ck_assert_uint_eq(winner(race, &rc), 1);
  ck_assert_int_eq(future_is_ready(outer), 0);
  ck_assert_int_eq(future_resolve(p[4], &value_c), 0);
  ck_assert_int_eq(future_get(outer, NULL), 0);
  ck_assert_int_eq(future_resolve(p[5], &value_c), 0);
  ck_assert_int_eq(future_get(dup, &res), 0);
  ck_assert_ptr_eq(res, &value_c);
  ck_assert_uint_eq(winner(dup, &rc), 0);
  future_release(dup);
  future_release(race);
  future_release(outer);
  future_release(settled);
  future_release(ok23);
  future_release(any01);
  release_all(p, 6);
}
END_TEST

/* A chain of 20000 races, each of the one before: settling the first
 * settles them all, one after another in the settling thread, with no
 * recursion (a deep one would overflow the stack). */
START_TEST(test_combine_chain_of_races_uses_no_stack)
{
  enum { DEPTH = 20000 };
  future_t **f = calloc(DEPTH + 1, sizeof(*f));
  void *res = NULL;

  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(futures_promise_create(&f[0]), 0);
  for (int i = 1; i <= DEPTH; i++)
    ck_assert_int_eq(make(i % NKINDS, &f[i - 1], 1, &f[i]), 0);
  ck_assert_int_eq(future_resolve(f[0], &value_a), 0);
  ck_assert_int_eq(future_is_ready(f[DEPTH]), 1);
  ck_assert_int_eq(future_get(f[DEPTH], &res), 0);
  for (int i = DEPTH; i >= 0; i--)
    future_release(f[i]);
  free(f);
}
END_TEST

struct wait_comb {
  futures_pool_t *pool;
  future_t *input;
  int kind;
  struct tu_latch started, input_ready;
};

/* Waits (future_get) for a combinator of one input queued behind it. */
static int
wait_comb_task(void *arg, void **result)
{
  struct wait_comb *wc = arg;
  future_t *c;
  void *res = NULL;
  size_t w = NO_INDEX;
  int rc;

  (void)result;
  tu_latch_open(&wc->started);
  tu_latch_wait(&wc->input_ready);
  if (make(wc->kind, &wc->input, 1, &c) != 0)
    return ENOMEM;
  rc = future_get(c, &res);
  if (rc == 0 && is_race(wc->kind) &&
      (res != &value_a || futures_winner(c, &w) != 0 || w != 0))
    rc = EFAULT;
  future_release(c);
  return rc == 0 && future_is_ready(wc->input) ? 0 : EFAULT;
}

/*
 * A task of a 1-worker pool waits for a combinator whose input is queued
 * behind it: future_get() runs the input in the task, as it runs an
 * unstarted task. _i: ALL_SETTLED, ANY or ANY_OK.
 */
START_TEST(test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker)
{
  struct wait_comb wc;
  future_t *t;

  wc.kind = _i;
  tu_latch_init(&wc.started);
  tu_latch_init(&wc.input_ready);
  ck_assert_int_eq(futures_pool_create(&wc.pool, 1), 0);
  ck_assert_int_eq(futures_submit(wc.pool, wait_comb_task, &wc, &t), 0);
  tu_latch_wait(&wc.started); /* t holds the only worker */
  ck_assert_int_eq(futures_submit(wc.pool, value_task, &value_a, &wc.input),
                   0);
  tu_latch_open(&wc.input_ready);
  ck_assert_int_eq(future_get(t, NULL), 0);
  future_release(t);
  future_release(wc.input);
  ck_assert_int_eq(futures_pool_destroy(wc.pool), 0);
  tu_latch_destroy(&wc.input_ready);
  tu_latch_destroy(&wc.started);
}
END_TEST

/* ------------------------------------------------------------ faults */

/*
 * Allocation failure at every allocation a combinator makes (its record,
 * its state): ENOMEM with *out NULL and nothing left behind (the live
 * record count returns), or success; the inputs are untouched and still
 * settle. _i is the kind.
 */
START_TEST(test_combine_every_allocation_failure_is_enomem_and_leaks_nothing)
{
  long n = 0, failed = 0;

  if (!malloc_mode())
    return; /* FUTURES_ALLOC=cached was asked for: records are not counted */
  for (long k = 0; k == 0 || k <= n; k++) {
    future_t *p[2], *c = (future_t *)&value_c;
    long live, a0;
    int rc;

    promises(p, 2);
    live = futures__alloc_live();
    a0 = futures__fault_alloc_count();
    futures__fault_alloc_at(k);
    rc = make(_i, p, 2, &c);
    futures__fault_alloc_at(0);
    if (k == 0)
      n = futures__fault_alloc_count() - a0;
    ck_assert_msg(rc == 0 || (rc == ENOMEM && k > 0), "k=%ld: %d", k, rc);
    if (rc == ENOMEM) {
      failed++;
      ck_assert_ptr_null(c);
      ck_assert_msg(futures__alloc_live() == live, "k=%ld: %ld leaked", k,
                    futures__alloc_live() - live);
    }
    ck_assert_int_eq(future_resolve(p[0], &value_a), 0);
    ck_assert_int_eq(future_resolve(p[1], &value_b), 0);
    if (rc == 0) {
      ck_assert_int_eq(future_get(c, NULL), 0);
      future_release(c);
    }
    release_all(p, 2);
    ck_assert_int_eq(futures__alloc_live(), live - 2);
  }
  ck_assert_int_ge(n, 2); /* the record and the state */
  ck_assert_int_eq(failed, n);
}
END_TEST

/* An input whose references are at their limit: EAGAIN, nothing taken
 * from the inputs before it, for every kind. */
START_TEST(test_combine_input_at_the_reference_limit_is_eagain)
{
  future_t *in[2], *c;
  long n = 0;

  /* About 33 million atomic operations (see check_promise's retain limit
   * test): the valgrind targets leave it to the other builds. */
  if (tu_scaled(1000, 1) < 1000)
    return;
  promises(in, 2);
  while (future_retain(in[1]) == 0)
    n++;
  for (int k = ALL; k < NKINDS; k++) {
    c = (future_t *)&value_c;
    ck_assert_int_eq(make(k, in, 2, &c), EAGAIN);
    ck_assert_ptr_null(c);
  }
  for (long i = 0; i < n; i++)
    future_release(in[1]);
  /* in[0] kept no reference of a failed call: one release frees it. */
  if (malloc_mode()) {
    long live = futures__alloc_live();

    future_release(in[0]);
    ck_assert_int_eq(futures__alloc_live(), live - 1);
  } else {
    future_release(in[0]);
  }
  future_release(in[1]);
}
END_TEST

Suite *
combine_suite(void)
{
  Suite *s = suite_create("combine");
  TCase *tc = tcase_create("basics");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_all_settled_settles_with_zero_whatever_the_outcomes);
  tcase_add_test(tc, test_combine_of_zero_inputs);
  tcase_add_test(tc, test_any_settles_as_the_first_input_to_settle);
  tcase_add_test(tc, test_race_of_settled_inputs_is_won_by_the_lowest_index);
  tcase_add_test(tc, test_any_ok_settles_with_the_first_success);
  tcase_add_test(tc, test_any_ok_of_failures_is_enoent);
  tcase_add_test(tc, test_combine_bad_input_is_einval);
  tcase_add_test(tc, test_combine_of_the_parent_is_echild_in_a_fork_child);
  suite_add_tcase(s, tc);

  tc = tcase_create("letting go");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_combine_cancelled_cancels_no_input_and_lets_go,
                      ALL, NKINDS);
  tcase_add_loop_test(tc, test_race_lets_go_of_its_inputs_once_settled, ANY,
                      NKINDS);
  tcase_add_loop_test(tc, test_combine_inputs_released_at_once_still_settle,
                      ALL, NKINDS);
  suite_add_tcase(s, tc);

  tc = tcase_create("cancel");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_cancel_inputs_cancels_every_pending_input, ALL,
                      NKINDS);
  tcase_add_test(tc, test_cancel_inputs_of_a_race_reaches_every_input);
  tcase_add_test(tc, test_cancel_inputs_in_a_task_asks_its_own_future_to_stop);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_any_settled_from_many_threads_has_one_winner);
  tcase_add_test(tc, test_any_ok_racing_successes_and_failures_has_one_outcome);
  tcase_add_test(tc,
                 test_all_settled_settles_when_inputs_settle_from_many_threads);
  tcase_add_test(tc, test_race_cancel_racing_its_inputs_agrees_with_the_winner);
  tcase_add_test(tc,
                 test_cancel_inputs_racing_settles_cancels_or_finds_settled);
  tcase_add_test(tc, test_race_cancelled_while_its_winner_is_due_has_no_winner);
  tcase_add_test(
      tc, test_cancel_inputs_of_a_settled_race_is_ealready_before_it_lets_go);
  tcase_add_test(tc, test_combine_waiters_help_while_it_settles_and_lets_go);
  suite_add_tcase(s, tc);

  tc = tcase_create("composition");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_combine_nested_compositions);
  tcase_add_test(tc, test_combine_chain_of_races_uses_no_stack);
  tcase_add_loop_test(
      tc, test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker,
      ALL_SETTLED, NKINDS);
  suite_add_tcase(s, tc);

  tc = tcase_create("faults");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(
      tc, test_combine_every_allocation_failure_is_enomem_and_leaks_nothing,
      ALL, NKINDS);
  tcase_add_test(tc, test_combine_input_at_the_reference_limit_is_eagain);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  /* Malloc mode makes every record an allocation the hook can fail and
   * the live count exact; the environment may still choose otherwise. */
  setenv("FUTURES_ALLOC", "malloc", 0);
  return tu_run_suite(combine_suite());
}
