/* SPDX-License-Identifier: MIT */
/*
 * check_fork: the fork() policy in the header. In a child forked while a
 * pool exists, that pool has no workers: calls on it return ECHILD, waits
 * on its unfinished futures return ECHILD, finished futures still report
 * their outcome, and new pools work. The child never calls ck_assert*: it
 * runs its checks in order and exits with the number of the first one that
 * failed (0 if none); the test thread asserts on the waitpid() status. An
 * alarm() in the child turns a hang there into a failure instead of a
 * stray process.
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
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *fork_suite(void);

/*
 * Sanitizer runtimes that cannot follow these tests into a forked child.
 * TSan does not support starting threads after a multi-threaded fork (the
 * child dies when its new pool starts workers), so the suite is empty
 * under TSan. GCC 12's ASan does not lock its allocator around fork(), so
 * a child forked while another thread allocates can deadlock in malloc;
 * under ASan only the fork-during-activity test is left out. (TU_TSAN and
 * TU_ASAN come from testutil.h.)
 */

#define MS 1000000LL /* nanoseconds per millisecond */

#ifndef TU_TSAN

/* A task that returns 0 with its argument as the result. */
static int
task_echo(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* A task that fails with EDOM. */
static int
task_fail_edom(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EDOM;
}

/* A continuation that passes its antecedent's outcome on. */
static int
then_echo(void *arg, int code, void *value, void **result)
{
  (void)arg;
  *result = value;
  return code;
}

/*
 * Waits for @pid; returns NULL if it exited with status 0, else a
 * description of what went wrong, written to @buf. @what names the
 * child's numbered checks (the exit status is the first that failed).
 */
static const char *
child_fault(pid_t pid, const char *const what[], int nwhat, char *buf,
            size_t len)
{
  int status = 0;

  if (waitpid(pid, &status, 0) != pid)
    return "waitpid failed";
  if (WIFSIGNALED(status)) {
    snprintf(buf, len, "child killed by signal %d%s", WTERMSIG(status),
             WTERMSIG(status) == SIGALRM ? " (it hung)" : "");
    return buf;
  }
  if (!WIFEXITED(status))
    return "child did not exit";
  if (WEXITSTATUS(status) == 0)
    return NULL;
  snprintf(buf, len, "child check %d failed: %s", WEXITSTATUS(status),
           WEXITSTATUS(status) < nwhat ? what[WEXITSTATUS(status)]
                                       : "(unknown)");
  return buf;
}

/*
 * Kills the child with SIGALRM if it is still running in 20 s. Check's
 * fork mode leaves its own SIGALRM handler installed in the test process
 * (it kills the test's whole process group), so restore the default first.
 */
static void
child_arm_alarm(void)
{
  signal(SIGALRM, SIG_DFL);
  alarm(20);
}

/* Runs a new pool in the child: 10 tasks joined; returns 0 if all good. */
static int
child_new_pool_works(void)
{
  futures_pool_t *pool;
  future_t *fs[10];
  void *results[10];
  int vals[10];
  int bad = 0;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  for (int i = 0; i < 10; i++) {
    if (futures_submit(pool, task_echo, &vals[i], &fs[i]) != 0)
      return 1;
  }
  if (futures_join_all(fs, 10, results) != 0)
    bad = 1;
  for (int i = 0; i < 10; i++) {
    bad |= results[i] != &vals[i];
    future_release(fs[i]);
  }
  if (futures_pool_destroy(pool) != 0)
    bad = 1;
  return bad;
}

static const char *const child_checks[] = {
    "none",
    "futures_submit on the parent's pool did not return ECHILD",
    "futures_submit_ex on the parent's pool did not return ECHILD",
    "future_get on a finished pre-fork future lost its value",
    "future_get on a failed pre-fork future lost its code",
    "futures_join_all on finished pre-fork futures did not return EDOM",
    "future_get on an unfinished pre-fork future did not return ECHILD",
    "future_wait_until on an unfinished pre-fork future did not say ECHILD",
    "futures_then on the parent's pool did not return ECHILD",
    "a new pool in the child did not run its tasks",
    "futures_pool_destroy on the parent's pool did not return ECHILD",
    "futures_join_any on an unfinished pre-fork future did not return ECHILD",
    "futures_join_any_until on one did not return ECHILD before its deadline",
    "futures_join_any_ok on one did not return ECHILD",
    "futures_join_all_failfast on one did not return ECHILD",
    "futures_join_any with a finished pre-fork future lost the winner",
};

/* The child's side: numbered checks, first failure is the exit status. */
static int
child_checks_run(futures_pool_t *old, future_t *done, future_t *failed,
                 future_t *held, void *done_value)
{
  futures_task_t t = FUTURES_TASK(task_echo, NULL, NULL);
  future_t *f = NULL, *both[2] = {done, failed};
  struct timespec dl;
  void *res = NULL;

  if (futures_submit(old, task_echo, NULL, &f) != ECHILD)
    return 1;
  if (futures_submit_ex(old, &t, NULL, &f) != ECHILD)
    return 2;
  if (future_get(done, &res) != 0 || res != done_value)
    return 3;
  if (future_get(failed, &res) != EDOM)
    return 4;
  if (futures_join_all(both, 2, NULL) != EDOM)
    return 5;
  if (future_get(held, NULL) != ECHILD)
    return 6;
  dl = tu_deadline_in(5000 * MS);
  if (future_wait_until(held, &dl) != ECHILD)
    return 7;
  if (futures_then(old, done, then_echo, NULL, &f) != ECHILD)
    return 8;
  if (child_new_pool_works() != 0)
    return 9;
  if (futures_pool_destroy(old) != ECHILD)
    return 10;
  /* The race family waits on a group, not through future_get: the same
   * policy holds there (a 5 s deadline, so a wait fails rather than hangs). */
  {
    future_t *pending[2] = {held, held}, *mixed[2] = {held, done};
    size_t idx = 0;

    if (futures_join_any(pending, 2, &idx, NULL) != ECHILD)
      return 11;
    dl = tu_deadline_in(5000 * MS);
    if (futures_join_any_until(pending, 2, &idx, NULL, &dl) != ECHILD)
      return 12;
    if (futures_join_any_ok(pending, 2, &idx, NULL, NULL) != ECHILD)
      return 13;
    if (futures_join_all_failfast(pending, 2, NULL, &idx) != ECHILD)
      return 14;
    /* A finished future still wins the race. */
    if (futures_join_any(mixed, 2, &idx, &res) != 0 || idx != 1 ||
        res != done_value)
      return 15;
  }
  return 0;
}

/*
 * Returns once each of the pool's @n workers has run a task: then none is
 * still starting. A thread that is starting may be inside malloc(), and
 * under GCC 12's AddressSanitizer (whose allocator is not locked around
 * fork()) a child forked at that moment inherits the lock held and hangs
 * when its own new threads start. The caller gives @fs to
 * tu_crowd_release() after the fork: a worker dropping the last reference
 * would free the record, inside the allocator again.
 */
static void
workers_up(futures_pool_t *pool, struct tu_crowd *c, future_t **fs, int n)
{
  ck_assert_int_eq(tu_crowd_hold(pool, c, fs, (size_t)n), 0);
  tu_latch_open(&c->gate);
  ck_assert_int_eq(futures_join_all(fs, (size_t)n, NULL), 0);
}

/*
 * In a child forked with a live pool: ECHILD for the old pool and its pending
 * future, outcomes of finished ones kept, a new pool works. The parent's pool
 * keeps working: the held task completes and new tasks run.
 */
START_TEST(test_fork_child_policy_and_parent_keeps_working)
{
  futures_pool_t *pool;
  future_t *done, *failed, *held, *after, *up[2];
  struct tu_hold h;
  struct tu_crowd m;
  int v, ready;
  void *res = NULL;
  const char *why;
  char buf[128];
  pid_t pid;

  tu_hold_init(&h, &h);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  workers_up(pool, &m, up, 2);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v, &done), 0);
  ck_assert_int_eq(futures_submit(pool, task_fail_edom, NULL, &failed), 0);
  ck_assert_int_eq(future_get(done, NULL), 0);
  ck_assert_int_eq(future_get(failed, NULL), EDOM);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);

  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    child_arm_alarm();
    tu_child_exit(child_checks_run(pool, done, failed, held, &v));
  }
  why = child_fault(pid, child_checks,
                    (int)(sizeof(child_checks) / sizeof(child_checks[0])), buf,
                    sizeof(buf));
  ready = future_is_ready(held);
  tu_latch_open(&h.release);
  ck_assert_msg(why == NULL, "%s", why);
  ck_assert_int_eq(ready, 0);
  ck_assert_int_eq(future_get(held, &res), 0);
  ck_assert_ptr_eq(res, &h);
  ck_assert_int_eq(futures_submit(pool, task_echo, &v, &after), 0);
  ck_assert_int_eq(future_get(after, &res), 0);
  ck_assert_ptr_eq(res, &v);

  future_release(done);
  future_release(failed);
  future_release(held);
  future_release(after);
  ck_assert_int_eq(tu_crowd_release(&m, up, 2), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
}
END_TEST

/*
 * Issue 10, defect 7: in a fork() child, a join on an unfinished task of the
 * parent's pool returns ECHILD and never runs that task in the child (its
 * side effects would happen twice: in the child, and in the parent when
 * its worker gets to it). The task counts its runs in a MAP_SHARED page,
 * so the parent sees what each child did.
 */
struct shared_runs {
  atomic_int runs; /* runs of the queued task, in any process */
  int rc[8];       /* what each child's call returned */
};

static int
task_count_shared(void *arg, void **result)
{
  atomic_fetch_add(&((struct shared_runs *)arg)->runs, 1);
  *result = arg;
  return 0;
}

/* The calls a child makes on @q, a queued task of the parent's pool. */
static int
child_call(int which, future_t *q)
{
  future_t *fs[1] = {q};
  futures_outcome_t out[1];
  struct timespec dl;
  size_t idx = 0;

  switch (which) {
  case 0:
    return futures_join_all(fs, 1, NULL);
  case 1:
    return futures_join_all_settled(fs, 1, out);
  case 2:
    return futures_join_any(fs, 1, &idx, NULL);
  case 3:
    return futures_join_any_ok(fs, 1, &idx, NULL, NULL);
  case 4:
    return futures_join_all_failfast(fs, 1, NULL, &idx);
  case 5:
    return future_get(q, NULL);
  default:
    dl = tu_deadline_in(5000 * MS);
    return futures_join_all_until(fs, 1, NULL, &dl);
  }
}

static const char *const child_call_names[] = {
    "futures_join_all",       "futures_join_all_settled",  "futures_join_any",
    "futures_join_any_ok",    "futures_join_all_failfast", "future_get",
    "futures_join_all_until",
};

/*
 * For each join (and future_get), a child forked while task Q waits behind
 * a held task on a 1-worker pool calls it on Q: ECHILD, Q unrun (issue 10,
 * defect 7). The parent then releases its worker and Q runs once, there.
 */
START_TEST(test_fork_child_join_returns_echild_and_does_not_run_the_task)
{
  enum { NCALLS = 7 };
  futures_pool_t *pool;
  future_t *held, *q, *up[1];
  struct tu_hold h;
  struct tu_crowd m;
  struct shared_runs *sh;
  int status[NCALLS], runs_after[NCALLS];
  char bad[512] = "";
  size_t len = 0;

  sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(sh, MAP_FAILED);
  atomic_init(&sh->runs, 0);
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  workers_up(pool, &m, up, 1);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, task_count_shared, sh, &q), 0);

  for (int i = 0; i < NCALLS; i++) {
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      int rc;

      child_arm_alarm();
      rc = child_call(i, q);
      sh->rc[i] = rc;
      tu_child_exit((rc != ECHILD ? 1 : 0) |
                    (atomic_load(&sh->runs) != 0 ? 2 : 0));
    }
    if (waitpid(pid, &status[i], 0) != pid)
      status[i] = -1;
    runs_after[i] = atomic_exchange(&sh->runs, 0);
  }
  /* Q is still queued in the parent: it runs once, here. */
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_get(held, NULL), 0);
  ck_assert_int_eq(future_get(q, NULL), 0);
  ck_assert_int_eq(atomic_load(&sh->runs), 1);
  future_release(held);
  future_release(q);
  ck_assert_int_eq(tu_crowd_release(&m, up, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);

  for (int i = 0; i < NCALLS; i++) {
    int ok = status[i] != -1 && WIFEXITED(status[i]) &&
             WEXITSTATUS(status[i]) == 0 && runs_after[i] == 0;

    if (!ok && len < sizeof(bad))
      len += (size_t)snprintf(
          bad + len, sizeof(bad) - len, "%s%s: %s %d, ran the task %d times",
          len ? "; " : "", child_call_names[i],
          status[i] != -1 && WIFSIGNALED(status[i]) ? "killed by signal"
                                                    : "returned",
          status[i] != -1 && WIFSIGNALED(status[i]) ? WTERMSIG(status[i])
                                                    : sh->rc[i],
          runs_after[i]);
  }
  munmap(sh, sizeof(*sh));
  ck_assert_msg(len == 0, "in the fork() child (want ECHILD, 0 runs): %s", bad);
}
END_TEST

#ifndef TU_ASAN

static const char *const busy_checks[] = {
    "none",
    "futures_submit on the parent's pool did not return ECHILD",
    "a new pool in the child did not run its tasks",
};

struct feeder {
  futures_pool_t *pool;
  atomic_int stop;
  atomic_long submitted;
  int errors;
};

/* Submits and joins small batches until told to stop. */
static void *
feeder_main(void *arg)
{
  struct feeder *fd = arg;

  while (!atomic_load(&fd->stop)) {
    future_t *fs[8];
    int n = 0;

    for (int i = 0; i < 8; i++) {
      if (futures_submit(fd->pool, task_echo, NULL, &fs[n]) == 0)
        n++;
      else
        fd->errors++;
    }
    if (futures_join_all(fs, (size_t)n, NULL) != 0)
      fd->errors++;
    for (int i = 0; i < n; i++)
      future_release(fs[i]);
    atomic_fetch_add(&fd->submitted, n);
  }
  return NULL;
}

static int
fed(void *arg)
{
  return atomic_load(&((struct feeder *)arg)->submitted) > 0;
}

/*
 * fork() 20 times while another thread submits: no child hangs on a lock held
 * at the fork (20 s alarm), each sees ECHILD on the old pool, runs a new one,
 * and the parent's feeder never sees an error.
 */
START_TEST(test_fork_during_pool_activity)
{
  enum { FORKS = 20 };
  futures_pool_t *pool;
  struct feeder fd;
  pthread_t t;
  const char *why = NULL;
  char buf[128];
  int forks = 0;

  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  fd.pool = pool;
  atomic_init(&fd.stop, 0);
  atomic_init(&fd.submitted, 0);
  fd.errors = 0;
  ck_assert_int_eq(pthread_create(&t, NULL, feeder_main, &fd), 0);
  ck_assert(tu_spin_until(fed, &fd, 10000 * MS));
  /* No assertion until the feeder is stopped: it uses this frame. */
  while (forks < FORKS && why == NULL) {
    pid_t pid = fork();

    if (pid < 0) {
      why = "fork failed";
      break;
    }
    if (pid == 0) {
      future_t *f;

      child_arm_alarm();
      if (futures_submit(pool, task_echo, NULL, &f) != ECHILD)
        tu_child_exit(1);
      tu_child_exit(child_new_pool_works() ? 2 : 0);
    }
    why = child_fault(pid, busy_checks,
                      (int)(sizeof(busy_checks) / sizeof(busy_checks[0])), buf,
                      sizeof(buf));
    forks++;
  }
  atomic_store(&fd.stop, 1);
  pthread_join(t, NULL);
  ck_assert_msg(why == NULL, "fork %d: %s", forks, why);
  ck_assert_int_eq(fd.errors, 0);
  ck_assert_int_gt(atomic_load(&fd.submitted), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

#endif /* !TU_ASAN */
#endif /* !TU_TSAN */

Suite *
fork_suite(void)
{
  Suite *s = suite_create("fork");
  TCase *tc = tcase_create("fork");

  tcase_set_timeout(tc, 60);
#ifndef TU_TSAN
  tcase_add_test(tc, test_fork_child_policy_and_parent_keeps_working);
  tcase_add_test(tc,
                 test_fork_child_join_returns_echild_and_does_not_run_the_task);
#ifndef TU_ASAN
  tcase_add_test(tc, test_fork_during_pool_activity);
#endif
#endif
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(fork_suite());
}
