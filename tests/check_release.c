/* SPDX-License-Identifier: MIT */
/*
 * check_release: future_release() drops the caller's handle at any point
 * of the task's life (queued, running, finished) without stopping the task
 * and without leaking. Leaks and double frees are caught by running this
 * binary under valgrind and ASan (CI does both), so every test frees what
 * it allocates: whatever is left over is the library's.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *release_suite(void);

/* ------------------------------------------------------------ helpers */

/*
 * The task of most tests: counts its runs and writes a value into the
 * caller's memory, so the test can see it ran without its future.
 */
struct counted {
  atomic_int runs;
  atomic_long value;
};

static int
counted_task(void *arg, void **result)
{
  struct counted *c = arg;

  atomic_fetch_add(&c->runs, 1);
  atomic_store(&c->value, 42);
  *result = c;
  return 0;
}

/* ------------------------------------------------------------ basic */

/*
 * Release while queued behind the held worker: once freed it still runs the
 * task exactly once (counted after a draining destroy, which runs all).
 */
START_TEST(test_release_before_the_task_runs_still_runs_it_once)
{
  futures_pool_t *pool = NULL;
  struct counted c;
  struct tu_crowd h;
  future_t *held, *f = NULL;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &held, 1), 0);
  ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f), 0);
  future_release(f);
  ck_assert_int_eq(c.runs, 0);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, 1);
  ck_assert_int_eq(c.value, 42);
  tu_crowd_destroy(&h);
}
END_TEST

/* A task that reports when it started and waits before it counts. */
struct during {
  struct tu_count started;
  struct tu_latch gate;
  struct counted c;
};

static int
during_task(void *arg, void **result)
{
  struct during *d = arg;

  tu_count_down(&d->started);
  tu_latch_wait(&d->gate);
  return counted_task(&d->c, result);
}

/*
 * Release while the task runs: the handle is dropped while the task is
 * blocked on a latch on a worker; the task then finishes (runs == 1) and
 * the future's memory goes when the worker is done with it.
 */
START_TEST(test_release_while_the_task_runs_lets_it_finish)
{
  futures_pool_t *pool = NULL;
  struct during d;
  future_t *f = NULL;

  tu_count_init(&d.started, 1);
  tu_latch_init(&d.gate);
  atomic_init(&d.c.runs, 0);
  atomic_init(&d.c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, during_task, &d, &f), 0);
  tu_count_wait(&d.started); /* it runs on the worker now */
  future_release(f);
  tu_latch_open(&d.gate);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(d.c.runs, 1);
  ck_assert_int_eq(d.c.value, 42);
  tu_count_destroy(&d.started);
  tu_latch_destroy(&d.gate);
}
END_TEST

/* Release after completion: get the outcome, then release; nothing left. */
START_TEST(test_release_after_completion_frees_the_future)
{
  futures_pool_t *pool = NULL;
  struct counted c;
  future_t *f = NULL;
  void *r = NULL;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_ptr_eq(r, &c);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, 1);
}
END_TEST

/* Fails with EIO. */
static int
fail_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EIO;
}

/* A failed task's future is released the same way (no leak either). */
START_TEST(test_release_of_a_failed_future_frees_it)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, fail_task, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), EIO);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/*
 * A handle outlives its pool: release after destroy, without ever calling
 * future_get(), frees the future (the task ran during the drain).
 */
START_TEST(test_release_after_pool_destroy_frees_the_future)
{
  futures_pool_t *pool = NULL;
  struct counted c;
  future_t *f = NULL;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, 1);
  ck_assert_int_eq(future_is_ready(f), 1);
  future_release(f);
}
END_TEST

/* ------------------------------------------------------------ errors */

/*
 * future_release(NULL) does nothing: it neither crashes nor disturbs the
 * pool, which still runs a task afterwards.
 */
START_TEST(test_release_null_is_a_no_op)
{
  futures_pool_t *pool = NULL;
  struct counted c;
  future_t *f = NULL;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  future_release(NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  future_release(NULL);
  ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f), 0);
  future_release(NULL);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, 1);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/*
 * 10,000 handles released right after submit meet queued, running and
 * finished tasks: each task runs once, each future is freed once (ASan).
 */
START_TEST(test_release_racing_with_completion_runs_every_task_once)
{
  enum { N = 10000 };
  futures_pool_t *pool = NULL;
  struct counted c;
  int i;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (i = 0; i < N; i++) {
    future_t *f = NULL;

    ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f), 0);
    future_release(f);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, N);
}
END_TEST

/*
 * Some handles released while queued, others after a get, from a pool
 * whose only worker is held: all 1000 tasks still run once (the released
 * ones during destroy's drain).
 */
START_TEST(test_release_mixing_queued_and_finished_futures)
{
  enum { N = 1000 };
  futures_pool_t *pool = NULL;
  future_t *f[N], *held;
  struct counted c;
  struct tu_crowd h;
  int i;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &held, 1), 0);
  for (i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, counted_task, &c, &f[i]), 0);
  for (i = 0; i < N; i += 2)
    future_release(f[i]); /* queued: the worker is held */
  for (i = 1; i < N; i += 4)
    ck_assert_int_eq(future_get(f[i], NULL), 0); /* runs in this thread */
  tu_latch_open(&h.gate);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c.runs, N);
  for (i = 1; i < N; i += 2)
    future_release(f[i]);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  tu_crowd_destroy(&h);
}
END_TEST

/* ------------------------------------------------------------ debug */

#if FUTURES_DEBUG
/*
 * Issue 10, lesser defect: debug builds detect a handle used after
 * future_release() only once the record is freed. A handle released while
 * its task is still queued (the record lives on for the queue) must be
 * detected too: every call with it prints the "used after release" message
 * and returns EINVAL, and touches nothing (the task still runs once, on
 * the worker, as releasing promised). _i picks the call.
 */
struct released_run {
  atomic_int runs;
  pthread_t thread;
};

static int
released_task(void *arg, void **result)
{
  struct released_run *r = arg;

  r->thread = pthread_self();
  atomic_fetch_add(&r->runs, 1);
  *result = r;
  return 0;
}

static const char *const released_calls[] = {
    "future_get", "future_wait_for", "future_cancel", "futures_join_all"};

static int
released_call(int which, future_t *f)
{
  switch (which) {
  case 0:
    return future_get(f, NULL);
  case 1:
    return future_wait_for(f, 100 * 1000000LL);
  case 2:
    return future_cancel(f);
  default:
    return futures_join_all(&f, 1, NULL);
  }
}

/*
 * Calls released_call(@which, @f) with stderr caught in a file of the
 * current directory, check_release-debug-<which>.stderr; *@said is 1 if
 * the call printed the library's "used after release" message. What was
 * caught is copied to the real stderr and the file removed once the call
 * returned; if the call crashed, the file keeps what it printed (a
 * sanitizer's report, say).
 */
static int
released_call_caught(int which, future_t *f, int *said)
{
  char path[64], buf[512];
  ssize_t n;
  int fd, saved, rc;

  snprintf(path, sizeof(path), "check_release-debug-%d.stderr", which);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge(fd, 0);
  fflush(stderr);
  saved = dup(2);
  ck_assert_int_ge(saved, 0);
  ck_assert_int_eq(dup2(fd, 2), 2);
  rc = released_call(which, f);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  n = pread(fd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
  fputs(buf, stderr);
  *said = strstr(buf, "used after release") != NULL;
  return rc;
}

/*
 * The call _i on a handle released while its task was queued: EINVAL and
 * the message, the task left to run once on the worker (issue 10, lesser
 * defect: on b229082 the calls ran, waited, cancelled or crashed).
 */
START_TEST(test_release_use_of_a_released_queued_future_is_einval_in_debug)
{
  futures_pool_t *pool = NULL;
  struct released_run r;
  struct tu_crowd h;
  future_t *held, *f = NULL;
  int rc, said;

  atomic_init(&r.runs, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(pool, &h, &held, 1), 0);
  ck_assert_int_eq(futures_submit(pool, released_task, &r, &f), 0);
  future_release(f); /* the queue still holds the record */
  rc = released_call_caught(_i, f, &said);
  tu_latch_open(&h.gate);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_crowd_destroy(&h);
  ck_assert_msg(rc == EINVAL,
                "%s on a future released while queued returned %d, want "
                "EINVAL (%d); the task ran %d times%s",
                released_calls[_i], rc, EINVAL, atomic_load(&r.runs),
                atomic_load(&r.runs) > 0 &&
                        pthread_equal(r.thread, pthread_self())
                    ? ", in the caller"
                    : "");
  ck_assert_msg(said, "%s printed no \"used after release\" message",
                released_calls[_i]);
  ck_assert_int_eq(atomic_load(&r.runs), 1);
  ck_assert(!pthread_equal(r.thread, pthread_self()));
}
END_TEST
#endif

/* ------------------------------------------------------------ asan */

#ifdef TU_ASAN
/*
 * The child of the test below: a future used after future_release().
 * Returns only if the sanitizer let the use pass.
 */
static void
use_after_release_child(void)
{
  futures_pool_t *pool = NULL;
  struct counted c;
  future_t *f = NULL;
  int rc;

  atomic_init(&c.runs, 0);
  atomic_init(&c.value, 0);
  if (futures_pool_create(&pool, 1) != 0 ||
      futures_submit(pool, counted_task, &c, &f) != 0 ||
      future_get(f, NULL) != 0)
    _exit(98);
  future_release(f); /* the last reference: the record is freed */
  rc = future_get(f, NULL);
  fprintf(stderr, "check_release: future_get after release returned %d\n",
          rc);
  _exit(0);
}

/*
 * "Memory": under ASan a future used after future_release() is reported: a
 * child calling future_get() on its released future dies with ASan's
 * heap-use-after-free report.
 */
START_TEST(test_release_use_after_release_is_reported_by_asan)
{
  char out[8192];
  size_t len = 0;
  int fds[2], status = 0;
  pid_t pid;

  ck_assert_int_eq(pipe(fds), 0);
  fflush(NULL);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (dup2(fds[1], 2) != 2)
      _exit(97);
    close(fds[1]);
    use_after_release_child();
  }
  close(fds[1]);
  for (;;) {
    char buf[512];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    size_t k;

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    /* Keep the start of the report (where the error is named). */
    k = (size_t)n < sizeof(out) - 1 - len ? (size_t)n : sizeof(out) - 1 - len;
    memcpy(out + len, buf, k);
    len += k;
  }
  out[len] = '\0';
  close(fds[0]);
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "a future used after release went unreported: %s", out);
  ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 98),
                "the child could not set up its future");
  ck_assert_msg(strstr(out, "heap-use-after-free") != NULL,
                "no heap-use-after-free report on the child's stderr: %s",
                out);
}
END_TEST
#endif

/* ------------------------------------------------------------ results */

static atomic_int results_destroyed;
static struct tu_count destroyed_once; /* counted down by the first call */

/* The last reference may go in a worker a moment after the waiter saw
 * the future settle: the destructor says when it ran. */
static void
result_destroy(void *v)
{
  if (atomic_fetch_add(&results_destroyed, 1) == 0)
    tu_count_down(&destroyed_once);
  free(v);
}

/* A task that returns a malloc'ed int, or fails with EIO if @arg. */
static int
task_alloc_result(void *arg, void **result)
{
  int *v;

  if (arg != NULL)
    return EIO;
  if ((v = malloc(sizeof(*v))) == NULL)
    return ENOMEM;
  *v = 42;
  *result = v;
  return 0;
}

/*
 * futures_task_t.result_drop: a result released unread is destroyed
 * exactly once (memcheck and ASan see no leak); one read with future_get()
 * is the reader's (freed here); a failed task has no result to destroy;
 * a task cancelled before it ran has none either, and its own drop
 * function still runs; a struct of the older size (no result_drop) is
 * accepted.
 */
START_TEST(test_release_task_result_unread_is_destroyed_once)
{
  futures_pool_t *pool;
  futures_task_t t = FUTURES_TASK(task_alloc_result, NULL, NULL);
  futures_task_t old = FUTURES_TASK(task_alloc_result, NULL, NULL);
  future_t *f, *held[1];
  struct tu_crowd g;
  void *r = NULL;

  atomic_store(&results_destroyed, 0);
  tu_count_init(&destroyed_once, 1);
  t.result_drop = result_destroy;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &f), 0);
  ck_assert_int_eq(future_wait_for(f, 60000000000LL), 0);
  future_release(f);
  tu_count_wait(&destroyed_once);
  ck_assert_int_eq(atomic_load(&results_destroyed), 1);

  ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_int_eq(*(int *)r, 42);
  future_release(f);
  ck_assert_int_eq(atomic_load(&results_destroyed), 1);
  free(r);

  t.arg = &t; /* fails with EIO */
  ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), EIO);
  future_release(f);
  ck_assert_int_eq(atomic_load(&results_destroyed), 1);

  t.arg = NULL;
  ck_assert_int_eq(tu_crowd_hold(pool, &g, held, 1), 0);
  ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &f), 0);
  ck_assert_int_eq(future_cancel(f), 0);
  ck_assert_int_eq(tu_crowd_release(&g, held, 1), 0);
  ck_assert_int_eq(future_get(f, NULL), ECANCELED);
  future_release(f);
  ck_assert_int_eq(atomic_load(&results_destroyed), 1);

  old.size = offsetof(futures_task_t, result_drop);
  ck_assert_int_eq(futures_submit_ex(pool, &old, NULL, &f), 0);
  ck_assert_int_eq(future_get(f, &r), 0);
  free(r);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&results_destroyed), 1);
  tu_count_destroy(&destroyed_once);
}
END_TEST

Suite *
release_suite(void)
{
  Suite *s = suite_create("release");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_release_before_the_task_runs_still_runs_it_once);
  tcase_add_test(tc, test_release_while_the_task_runs_lets_it_finish);
  tcase_add_test(tc, test_release_after_completion_frees_the_future);
  tcase_add_test(tc, test_release_of_a_failed_future_frees_it);
  tcase_add_test(tc, test_release_after_pool_destroy_frees_the_future);
  suite_add_tcase(s, tc);

  tc = tcase_create("results");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_release_task_result_unread_is_destroyed_once);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_release_null_is_a_no_op);
  suite_add_tcase(s, tc);

  tc = tcase_create("concurrency");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_release_racing_with_completion_runs_every_task_once);
  tcase_add_test(tc, test_release_mixing_queued_and_finished_futures);
  suite_add_tcase(s, tc);

#ifdef TU_ASAN
  tc = tcase_create("asan");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_release_use_after_release_is_reported_by_asan);
  suite_add_tcase(s, tc);
#endif

#if FUTURES_DEBUG
  tc = tcase_create("debug");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(
      tc, test_release_use_of_a_released_queued_future_is_einval_in_debug, 0,
      4);
  suite_add_tcase(s, tc);
#endif
  return s;
}

int
main(void)
{
  return tu_run_suite(release_suite());
}
