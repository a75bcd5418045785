/* SPDX-License-Identifier: MIT */
/*
 * check_exit: exit() while pools are alive (issue 10). The intended,
 * documented behaviour: a process may call exit() with pools still alive,
 * whatever they are doing (workers parked, a task blocked for ever with
 * tasks queued behind it, a task submitting and waiting in a loop, threads
 * waiting on futures that never finish, a futures_pool_destroy_async()
 * under way). exit() then returns the status it
 * was given, does not hang, runs no queued task once it has begun, prints
 * nothing, and is clean under AddressSanitizer and valgrind memcheck (both
 * report through the exit status and stderr, which is what is checked).
 *
 * Each test forks a child with no pool of its own yet; the child builds the
 * scenario, waits until it is in place, and calls exit(EXIT_CODE) with its
 * stderr on a pipe. The parent reads the pipe to its end and asserts on the
 * waitpid() status and on what was read. An alarm() in the child turns a
 * hang into SIGALRM. No ck_assert* runs in the child.
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
#include "testutil.h"

Suite *exit_suite(void);

#define MS         1000000LL /* nanoseconds per millisecond */
#define EXIT_CODE  42        /* what the child passes to exit() */
#define QUEUED_RAN "check_exit: a queued task ran after exit() began\n"

/* What a scenario's child owns; it lives until the process ends. */
struct scene {
  struct tu_latch never;   /* never opened: blocked tasks wait on it */
  struct tu_count started; /* counted down by each blocked task */
  futures_pool_t *pool;    /* the pool of the looping task */
  atomic_long loops;       /* iterations of the submitting task */
  future_t *blocked;       /* a task that never finishes */
  atomic_int waiting;      /* outside waiters about to wait */
};

/* Blocks for ever; the scenario counts it as started first. */
static int
task_block(void *arg, void **result)
{
  struct scene *sc = arg;

  tu_count_down(&sc->started);
  tu_latch_wait(&sc->never);
  *result = NULL;
  return 0;
}

/* Queued behind a blocked task: can only run if the library runs it
 * while the process exits, which it must not. */
static int
task_queued(void *arg, void **result)
{
  ssize_t n = write(2, QUEUED_RAN, sizeof(QUEUED_RAN) - 1);

  (void)n;
  (void)arg;
  *result = NULL;
  return 0;
}

static int
task_nothing(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* Submits a sub-task and waits for it, for ever (until the process ends);
 * a refused submit is retried. */
static int
task_submit_loop(void *arg, void **result)
{
  struct scene *sc = arg;

  *result = NULL;
  for (;;) {
    future_t *sub = NULL;

    if (futures_submit(sc->pool, task_nothing, sc, &sub) != 0) {
      sched_yield();
      continue;
    }
    (void)future_get(sub, NULL);
    future_release(sub);
    atomic_fetch_add(&sc->loops, 1);
  }
  return 0; /* not reached */
}

/* Waits for the blocked task (for ever), from inside a task. */
static int
task_wait_blocked(void *arg, void **result)
{
  struct scene *sc = arg;

  atomic_fetch_add(&sc->waiting, 1);
  *result = NULL;
  return future_get(sc->blocked, NULL);
}

/* An outside thread that waits for the blocked task (for ever). */
static void *
thread_wait_blocked(void *arg)
{
  struct scene *sc = arg;

  atomic_fetch_add(&sc->waiting, 1);
  (void)future_get(sc->blocked, NULL);
  return NULL;
}

static int
looped_enough(void *arg)
{
  return atomic_load(&((struct scene *)arg)->loops) >= 100;
}

static int
two_waiting(void *arg)
{
  return atomic_load(&((struct scene *)arg)->waiting) >= 2;
}

/* Parked workers: a 4-worker pool that ran tasks and is idle. */
static int
scene_parked(struct scene *sc)
{
  futures_pool_t *pool;
  future_t *fs[16];

  if (futures_pool_create(&pool, 4) != 0)
    return 1;
  for (int i = 0; i < 16; i++)
    if (futures_submit(pool, task_nothing, sc, &fs[i]) != 0)
      return 1;
  if (futures_join_all(fs, 16, NULL) != 0)
    return 1;
  for (int i = 0; i < 16; i++)
    future_release(fs[i]);
  return 0;
}

/* A 1-worker pool whose task blocks for ever, with 8 tasks queued behind
 * it (two handles kept, the others released). */
static int
scene_blocked(struct scene *sc)
{
  futures_pool_t *pool;
  future_t *f;

  if (futures_pool_create(&pool, 1) != 0)
    return 1;
  if (futures_submit(pool, task_block, sc, &sc->blocked) != 0)
    return 1;
  tu_count_wait(&sc->started);
  for (int i = 0; i < 8; i++) {
    if (futures_submit(pool, task_queued, sc, &f) != 0)
      return 1;
    if (i >= 2)
      future_release(f);
  }
  return 0;
}

/* A 2-worker pool whose task submits and waits for sub-tasks in a loop. */
static int
scene_submitting(struct scene *sc)
{
  future_t *f;

  if (futures_pool_create(&sc->pool, 2) != 0)
    return 1;
  if (futures_submit(sc->pool, task_submit_loop, sc, &f) != 0)
    return 1;
  return tu_spin_until(looped_enough, sc, 10000 * MS) ? 0 : 1;
}

/* A task of another pool and an outside thread, both waiting for the
 * blocked task (scene_blocked() must have run). */
static int
scene_waiting(struct scene *sc)
{
  futures_pool_t *pool;
  future_t *f;
  pthread_t t;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, task_wait_blocked, sc, &f) != 0)
    return 1;
  if (pthread_create(&t, NULL, thread_wait_blocked, sc) != 0)
    return 1;
  return tu_spin_until(two_waiting, sc, 10000 * MS) ? 0 : 1;
}

/* A 1-worker pool whose task blocks for ever, with tasks queued behind
 * it, and whose futures_pool_destroy_async() has begun: its thread waits
 * for the drain when exit() comes (the header's "exit"). */
static int
scene_destroying(struct scene *sc)
{
  futures_pool_t *pool;
  future_t *f, *done;

  if (futures_pool_create(&pool, 1) != 0)
    return 1;
  if (futures_submit(pool, task_block, sc, &f) != 0)
    return 1;
  tu_count_wait(&sc->started);
  for (int i = 0; i < 4; i++) {
    if (futures_submit(pool, task_queued, sc, &f) != 0)
      return 1;
    future_release(f);
  }
  if (futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done) != 0)
    return 1;
  return future_is_ready(done) != 0;
}

/* An atexit handler of the AT_EXIT scene, registered before its pool. */
#define NOT_RUN "check_exit: the queued task did not run during atexit\n"

static struct scene *at_exit_scene;
static atomic_int at_exit_queued_ran;

static int
task_mark_ran(void *arg, void **result)
{
  (void)arg;
  atomic_store(&at_exit_queued_ran, 1);
  *result = NULL;
  return 0;
}

static int
queued_ran(void *arg)
{
  (void)arg;
  return atomic_load(&at_exit_queued_ran);
}

/* Runs during exit(): lets the blocked task go, then waits (at most 10 s)
 * for the task queued behind it, which only the worker can run. */
static void
release_and_wait_at_exit(void)
{
  tu_latch_open(&at_exit_scene->never);
  if (!tu_spin_until(queued_ran, NULL, 10000 * MS)) {
    ssize_t n = write(2, NOT_RUN, sizeof(NOT_RUN) - 1);

    (void)n;
  }
}

/* An atexit handler registered first, as a program does at its start (so
 * that an exit hook the library registered later would run before it),
 * then a 1-worker pool whose task blocks with a task queued behind it. */
static int
scene_at_exit(struct scene *sc)
{
  futures_pool_t *pool;
  future_t *f;

  at_exit_scene = sc;
  atomic_init(&at_exit_queued_ran, 0);
  if (atexit(release_and_wait_at_exit) != 0)
    return 1;
  if (futures_pool_create(&pool, 1) != 0 ||
      futures_submit(pool, task_block, sc, &sc->blocked) != 0)
    return 1;
  tu_count_wait(&sc->started);
  return futures_submit(pool, task_mark_ran, NULL, &f) != 0;
}

enum {
  PARKED = 1,
  BLOCKED = 2,
  SUBMITTING = 4,
  WAITING = 8,
  AT_EXIT = 16,
  DESTROYING = 32
};

static const int scenes[] = {PARKED, BLOCKED, SUBMITTING, BLOCKED | WAITING,
                             PARKED | BLOCKED | SUBMITTING | WAITING,
                             DESTROYING};
static const char *const scene_names[] = {
    "parked workers", "a blocked task with tasks queued",
    "a task submitting and waiting in a loop",
    "a task and a thread waiting for a blocked task", "all of these at once",
    "a pool's destroy_async waiting for a blocked task"};

/*
 * Under helgrind (FUTURES_VALGRIND=helgrind, set by make check-helgrind):
 * exit() ends the other threads wherever they are, and one that is inside
 * a critical section at that moment (a task submitting in a loop holds the
 * pool's lock for a few instructions at a time) is reported by helgrind as
 * "Exiting thread still holds 1 lock", which turns the exit status into
 * valgrind's --error-exitcode (1). That report is the scenario itself, not
 * a fault: no lock is taken again in the dying process. Valgrind writes
 * its reports to its own copy of stderr, not to the child's pipe, so the
 * child counts them itself (valgrind's error count, which the parent's
 * errors before the fork are part of) and writes to the pipe how many
 * came before exit(): any such line fails the test, and a status of 1
 * with nothing on the pipe can only come from reports made during exit().
 */
static unsigned errors_at_start;

static int
under_helgrind(void)
{
  const char *env = getenv("FUTURES_VALGRIND");

  return env != NULL && strcmp(env, "helgrind") == 0;
}

static unsigned
valgrind_errors(void)
{
#if FUTURES_ANNOTATE
  return RUNNING_ON_VALGRIND ? (unsigned)VALGRIND_COUNT_ERRORS : 0;
#else
  return 0;
#endif
}

/* The child: builds @what, then exits with EXIT_CODE (or 99 if the
 * scenario could not be built). */
static void
child_main(int what)
{
  static struct scene sc; /* static: reachable until the very end */
  int bad = 0;
  unsigned errors;

  errors_at_start = valgrind_errors();
  signal(SIGALRM, SIG_DFL); /* Check's handler would kill the test */
  alarm(20);
  tu_latch_init(&sc.never);
  tu_count_init(&sc.started, 1);
  atomic_init(&sc.loops, 0);
  atomic_init(&sc.waiting, 0);
  if (what & PARKED)
    bad |= scene_parked(&sc);
  if (what & BLOCKED)
    bad |= scene_blocked(&sc);
  if (what & SUBMITTING)
    bad |= scene_submitting(&sc);
  if (what & WAITING)
    bad |= scene_waiting(&sc);
  if (what & AT_EXIT)
    bad |= scene_at_exit(&sc);
  if (what & DESTROYING)
    bad |= scene_destroying(&sc);
  errors = valgrind_errors() - errors_at_start;
  if (errors != 0)
    fprintf(stderr, "valgrind reported %u errors before exit()\n", errors);
  exit(bad ? 99 : EXIT_CODE);
}

/*
 * Forks a child that runs @child(@what) (which ends in exit()) with its
 * stderr on a pipe; asserts that it exited with EXIT_CODE, within its
 * alarm, and wrote nothing to stderr. @name says what the child did.
 * Under helgrind, a status of 1 (valgrind's) with nothing on the pipe is
 * accepted: helgrind reported only during exit() (above). The other
 * builds, valgrind memcheck included, check the status itself.
 */
static void
check_child_exits_silently(void (*child)(int what), int what, const char *name)
{
  char out[4096];
  size_t len = 0, total = 0;
  int fds[2], status = 0;
  pid_t pid;

  ck_assert_int_eq(pipe(fds), 0);
  fflush(NULL); /* nothing buffered may be written twice */
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (dup2(fds[1], 2) != 2)
      _exit(98);
    close(fds[1]);
    child(what);
    _exit(97); /* not reached: the child ends in exit() */
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
    total += (size_t)n;
    k = (size_t)n < sizeof(out) - 1 - len ? (size_t)n : sizeof(out) - 1 - len;
    memcpy(out + len, buf, k);
    len += k;
  }
  out[len] = '\0';
  close(fds[0]);
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(!WIFSIGNALED(status), "%s: the child was killed by signal %d%s",
                name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (exit() hung)" : "");
  if (under_helgrind() && total == 0 && WIFEXITED(status) &&
      WEXITSTATUS(status) == 1)
    return; /* reports made during exit() only (above) */
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_CODE,
                "%s: exit status %d, want %d%s; stderr: \"%s\"", name,
                WEXITSTATUS(status), EXIT_CODE,
                WEXITSTATUS(status) == 99 ? " (scenario not built)" : "", out);
  ck_assert_msg(total == 0, "%s: exit() wrote %zu bytes to stderr: \"%s\"",
                name, total, out);
}

/*
 * exit() with live pools in scenario scenes[_i] (issue 10, exit with live
 * pools): the status is exactly EXIT_CODE, within the 20 s alarm, and
 * stderr stays empty (no queued task ran, no sanitizer or library message).
 */
START_TEST(test_exit_with_live_pools_returns_its_status_silently)
{
  check_child_exits_silently(child_main, scenes[_i], scene_names[_i]);
}
END_TEST

/*
 * The header's "exit": workers go on running queued tasks while the atexit
 * handlers run (the AT_EXIT scene's handler waits for one, else says so).
 */
START_TEST(test_exit_workers_keep_running_queued_tasks_during_atexit_handlers)
{
  check_child_exits_silently(child_main, AT_EXIT,
                             "a queued task during the atexit handlers");
}
END_TEST

Suite *
exit_suite(void)
{
  Suite *s = suite_create("exit");
  TCase *tc = tcase_create("live_pools");

  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_exit_with_live_pools_returns_its_status_silently,
                      0, (int)(sizeof(scenes) / sizeof(scenes[0])));
  tcase_add_test(
      tc, test_exit_workers_keep_running_queued_tasks_during_atexit_handlers);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(exit_suite());
}
