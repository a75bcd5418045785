/* SPDX-License-Identifier: MIT */
/*
 * check_frames: fork-join on caller-owned frames (futures_spawn(),
 * futures_sync()). Frames give the same answers as plain recursion on any
 * number of workers, keep a task's errors, results and cancellation,
 * fall back to running at once when the deque is full, refuse to work
 * outside a task, and survive a steal that the test forces with latches.
 * Tasks record what they saw; the test thread asserts after the join.
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *frames_suite(void);

/* The deque's capacity, as the header documents it. */
#define FRAMES_PER_DEQUE 1024

static long
fib_seq(long n)
{
  return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2);
}

/* fib(n) with one spawn per call: the spawned half may be stolen. */
static int
fib_frame(void *arg, void **result)
{
  long n = (long)(intptr_t)arg;
  futures_frame_t fr;
  void *a = NULL, *b = NULL;
  int rc, rc2;

  if (n < 2) {
    *result = (void *)(intptr_t)n;
    return 0;
  }
  if ((rc = futures_spawn(&fr, fib_frame, (void *)(intptr_t)(n - 1))) != 0)
    return rc;
  rc = fib_frame((void *)(intptr_t)(n - 2), &b);
  rc2 = futures_sync(&fr, &a);
  if (rc != 0 || rc2 != 0)
    return rc != 0 ? rc : rc2;
  *result = (void *)((intptr_t)a + (intptr_t)b);
  return 0;
}

static int
task_nop(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return 0;
}

/* ------------------------------------------------------------ basic */

/* fib(22) through frames equals plain recursion on 1, 2 and 4 workers:
 * 28,656 spawns, enough for steals and leapfrogging on more than one. */
START_TEST(test_frames_fib_matches_sequential_on_1_2_4_workers)
{
  static const unsigned workers[] = {1, 2, 4};
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  void *r = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, workers[_i]), 0);
  ck_assert_int_eq(futures_submit(pool, fib_frame, (void *)(intptr_t)22, &f),
                   0);
  ck_assert_int_eq(future_get(f, &r), 0);
  ck_assert_int_eq((long)(intptr_t)r, fib_seq(22));
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct outcomes {
  int rc[3];
  void *res[3];
  int rc_null_result;
};

static int
task_fail_eio(void *arg, void **result)
{
  (void)arg;
  *result = (void *)(intptr_t)99; /* ignored by the caller's contract */
  return EIO;
}

static int
task_answer(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static int
task_fail_enoent(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return ENOENT;
}

static int
errors_root(void *arg, void **result)
{
  struct outcomes *o = arg;
  futures_frame_t a, b, c, d;

  (void)result;
  futures_spawn(&a, task_fail_eio, NULL);
  futures_spawn(&b, task_answer, (void *)(intptr_t)42);
  futures_spawn(&c, task_fail_enoent, NULL);
  futures_spawn(&d, task_answer, (void *)(intptr_t)7);
  o->rc_null_result = futures_sync(&d, NULL);
  o->rc[2] = futures_sync(&c, &o->res[2]);
  o->rc[1] = futures_sync(&b, &o->res[1]);
  o->rc[0] = futures_sync(&a, &o->res[0]);
  return 0;
}

/* Each sync returns its own task's code and result, newest first; a NULL
 * result pointer is allowed. Two workers, so a thief may run any of them. */
START_TEST(test_frames_errors_and_results_pass_through_sync)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct outcomes o;

  memset(&o, 0, sizeof(o));
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, errors_root, &o, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(o.rc[0], EIO);
  ck_assert_int_eq(o.rc[1], 0);
  ck_assert_ptr_eq(o.res[1], (void *)(intptr_t)42);
  ck_assert_int_eq(o.rc[2], ENOENT);
  ck_assert_int_eq(o.rc_null_result, 0);
}
END_TEST

struct cancel_ctx {
  struct tu_latch in_frame;
  _Atomic(int) saw_cancel;
};

static int
frame_until_cancelled(void *arg, void **result)
{
  struct cancel_ctx *c = arg;

  (void)result;
  tu_latch_open(&c->in_frame);
  while (!futures_cancelled())
    sched_yield();
  atomic_store(&c->saw_cancel, 1);
  return ECANCELED;
}

static int
cancel_root(void *arg, void **result)
{
  futures_frame_t fr;
  int rc;

  (void)result;
  if ((rc = futures_spawn(&fr, frame_until_cancelled, arg)) != 0)
    return rc;
  return futures_sync(&fr, NULL);
}

/* A frame task sees the cancellation of the task that spawned it, on the
 * spawner's thread or a thief's (two workers), and its code comes back
 * through the sync. The loop ends only through futures_cancelled(). */
START_TEST(test_frames_cancellation_is_seen_inside_frames)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct cancel_ctx c;

  tu_latch_init(&c.in_frame);
  atomic_init(&c.saw_cancel, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, cancel_root, &c, &f), 0);
  tu_latch_wait(&c.in_frame);
  ck_assert_int_eq(future_cancel(f), EINPROGRESS);
  ck_assert_int_eq(future_get(f, NULL), ECANCELED);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(atomic_load(&c.saw_cancel), 1);
  tu_latch_destroy(&c.in_frame);
}
END_TEST

#define NESTED 8

struct nested_ctx {
  futures_pool_t *pool;
  long value[NESTED];
  int rc[NESTED];
};

struct nested_arg {
  struct nested_ctx *c;
  int i;
};

static int
task_double(void *arg, void **result)
{
  *result = (void *)((intptr_t)arg * 2);
  return 0;
}

static int
frame_submit_and_get(void *arg, void **result)
{
  struct nested_arg *a = arg;
  future_t *f = NULL;
  void *r = NULL;
  int rc;

  (void)result;
  rc = futures_submit(a->c->pool, task_double, (void *)(intptr_t)a->i, &f);
  if (rc == 0) {
    rc = future_get(f, &r);
    future_release(f);
  }
  a->c->rc[a->i] = rc;
  a->c->value[a->i] = (long)(intptr_t)r;
  return rc;
}

static int
nested_root(void *arg, void **result)
{
  struct nested_ctx *c = arg;
  futures_frame_t fr[NESTED];
  struct nested_arg a[NESTED];
  int rc = 0;

  (void)result;
  for (int i = 0; i < NESTED; i++) {
    a[i].c = c;
    a[i].i = i;
    futures_spawn(&fr[i], frame_submit_and_get, &a[i]);
  }
  for (int i = NESTED - 1; i >= 0; i--) {
    int r = futures_sync(&fr[i], NULL);

    if (rc == 0)
      rc = r;
  }
  return rc;
}

/* future_get() inside a frame task works as in any task: on one worker the
 * frame runs the submitted task in place (it would deadlock otherwise), on
 * two a thief's frame may wait for it. */
START_TEST(test_frames_nested_future_get_inside_spawned_tasks)
{
  struct nested_ctx c;
  future_t *f = NULL;

  memset(&c, 0, sizeof(c));
  ck_assert_int_eq(futures_pool_create(&c.pool, (unsigned)_i + 1), 0);
  ck_assert_int_eq(futures_submit(c.pool, nested_root, &c, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(c.pool), 0);
  for (int i = 0; i < NESTED; i++) {
    ck_assert_int_eq(c.rc[i], 0);
    ck_assert_int_eq(c.value[i], 2 * i);
  }
}
END_TEST

#define OVER 16

struct full_ctx {
  struct tu_latch done; /* opened by the root as it returns */
  long ran_before_sync;
  long bad;
  _Atomic(int) ran[FRAMES_PER_DEQUE + OVER];
};

static int
frame_mark(void *arg, void **result)
{
  _Atomic(int) *ran = arg;

  atomic_store(ran, 1);
  *result = arg;
  return 0;
}

static int
full_root(void *arg, void **result)
{
  struct full_ctx *c = arg;
  long n = FRAMES_PER_DEQUE + OVER;
  futures_frame_t *fr = calloc((size_t)n, sizeof(*fr));

  (void)result;
  if (fr == NULL)
    return ENOMEM;
  for (long i = 0; i < n; i++)
    if (futures_spawn(&fr[i], frame_mark, (void *)&c->ran[i]) != 0)
      c->bad++;
  for (long i = 0; i < n; i++)
    c->ran_before_sync += atomic_load(&c->ran[i]);
  for (long i = n - 1; i >= 0; i--) {
    void *r = NULL;

    if (futures_sync(&fr[i], &r) != 0 || r != (void *)&c->ran[i])
      c->bad++;
  }
  free(fr);
  tu_latch_open(&c->done);
  return 0;
}

/* Spawning more frames than the deque holds (1024) runs the extra ones at
 * once, inside futures_spawn(); every sync still returns its own result.
 * One worker runs the root (the test thread waits on a latch, not in
 * future_get(), where it would run the root itself and the worker could
 * steal): no thief can run a frame early, so the count is exact. */
START_TEST(test_frames_spawn_beyond_the_deque_runs_at_once)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct full_ctx *c = calloc(1, sizeof(*c));

  ck_assert_ptr_nonnull(c);
  tu_latch_init(&c->done);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, full_root, c, &f), 0);
  tu_latch_wait(&c->done);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(c->bad, 0);
  ck_assert_int_eq(c->ran_before_sync, OVER);
  for (long i = 0; i < FRAMES_PER_DEQUE + OVER; i++)
    ck_assert_int_eq(atomic_load(&c->ran[i]), 1);
  tu_latch_destroy(&c->done);
  free(c);
}
END_TEST

/* ------------------------------------------------------------ errors */

/* Outside any pool task both calls refuse with EPERM and run nothing. */
START_TEST(test_frames_outside_a_task_is_eperm)
{
  futures_frame_t fr;
  _Atomic(int) ran;

  atomic_init(&ran, 0);
  memset(&fr, 0, sizeof(fr));
  ck_assert_int_eq(futures_spawn(&fr, frame_mark, (void *)&ran), EPERM);
  ck_assert_int_eq(futures_sync(&fr, NULL), EPERM);
  ck_assert_int_eq(futures_spawn(NULL, NULL, NULL), EPERM);
  ck_assert_int_eq(atomic_load(&ran), 0);
}
END_TEST

struct bad_ctx {
  int spawn_null_frame, spawn_null_fn, sync_null, sync_zeroed, first_sync,
      second_sync;
};

static int
bad_root(void *arg, void **result)
{
  struct bad_ctx *b = arg;
  futures_frame_t fr, zero;

  (void)result;
  memset(&zero, 0, sizeof(zero));
  b->spawn_null_frame = futures_spawn(NULL, task_nop, NULL);
  b->spawn_null_fn = futures_spawn(&fr, NULL, NULL);
  b->sync_null = futures_sync(NULL, NULL);
  b->sync_zeroed = futures_sync(&zero, NULL);
  futures_spawn(&fr, task_fail_enoent, NULL);
  b->first_sync = futures_sync(&fr, NULL);
  b->second_sync = futures_sync(&fr, NULL);
  return 0;
}

/* NULL arguments, a frame never spawned and a frame synced twice are
 * EINVAL, in a task; the first sync still returns the task's code. */
START_TEST(test_frames_bad_arguments_are_einval)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct bad_ctx b;

  memset(&b, 0, sizeof(b));
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, bad_root, &b, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_int_eq(b.spawn_null_frame, EINVAL);
  ck_assert_int_eq(b.spawn_null_fn, EINVAL);
  ck_assert_int_eq(b.sync_null, EINVAL);
  ck_assert_int_eq(b.sync_zeroed, EINVAL);
  ck_assert_int_eq(b.first_sync, ENOENT);
  ck_assert_int_eq(b.second_sync, EINVAL);
}
END_TEST

/* ------------------------------------------------------------ stealing */

struct steal_ctx {
  struct tu_latch taken, syncing, go;
  pthread_t owner, thief;
  int rc;
  void *res;
  long fillers;
};

static int
frame_wait_go(void *arg, void **result)
{
  struct steal_ctx *c = arg;

  c->thief = pthread_self();
  tu_latch_open(&c->taken);
  tu_latch_wait(&c->go);
  *result = (void *)(intptr_t)7;
  return 0;
}

static int
steal_root(void *arg, void **result)
{
  struct steal_ctx *c = arg;
  futures_frame_t fr, filler;

  (void)result;
  c->owner = pthread_self();
  futures_spawn(&fr, frame_wait_go, c);
  /* Each spawn reads the other worker's request to share; the frame
   * spawned first is shared by the first grow. */
  while (!tu_latch_is_open(&c->taken)) {
    futures_spawn(&filler, task_nop, NULL);
    futures_sync(&filler, NULL);
    c->fillers++;
  }
  tu_latch_open(&c->syncing);
  c->rc = futures_sync(&fr, &c->res);
  return 0;
}

/* The other worker steals the frame (the owner cannot sync it before the
 * thief has taken it: it waits for the "taken" latch), and the owner's
 * sync waits for the thief, then returns the thief's outcome. */
START_TEST(test_frames_stolen_frame_is_synced_after_the_thief_finishes)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct steal_ctx c;

  memset(&c, 0, sizeof(c));
  tu_latch_init(&c.taken);
  tu_latch_init(&c.syncing);
  tu_latch_init(&c.go);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, steal_root, &c, &f), 0);
  tu_latch_wait(&c.syncing);
  tu_latch_open(&c.go);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert(!pthread_equal(c.owner, c.thief));
  ck_assert_int_eq(c.rc, 0);
  ck_assert_ptr_eq(c.res, (void *)(intptr_t)7);
  tu_latch_destroy(&c.taken);
  tu_latch_destroy(&c.syncing);
  tu_latch_destroy(&c.go);
}
END_TEST

/* ------------------------------------------------------------ fork */

#ifndef TU_TSAN /* TSan cannot follow a multi-threaded fork (check_fork) */

static int
task_nine(void *arg, void **result)
{
  (void)arg;
  *result = (void *)(intptr_t)9;
  return 0;
}

/*
 * Child of fork_root: the stolen frame's thief stayed in the parent. A new
 * spawn and the unclaimed frame run inline here; the stolen frame's sync
 * returns ECHILD at once. Exit code: a bit per wrong answer.
 */
static void
fork_child(futures_frame_t *stolen, futures_frame_t *unclaimed)
{
  futures_frame_t fr;
  void *r = NULL, *u = NULL, *s = (void *)1;
  int bad = 0, rc;

  signal(SIGALRM, SIG_DFL); /* Check's handler kills the process group */
  alarm(20);                /* a hang is a failure, not a stuck suite */
  rc = futures_spawn(&fr, task_nine, NULL);
  bad |= rc != 0;
  rc = futures_sync(&fr, &r);
  bad |= (rc != 0 || r != (void *)(intptr_t)9) << 1;
  rc = futures_sync(unclaimed, &u);
  bad |= (rc != 0 || u != (void *)(intptr_t)9) << 2;
  rc = futures_sync(stolen, &s);
  bad |= (rc != ECHILD || s != NULL) << 3;
  tu_child_exit(bad);
}

struct fork_ctx {
  struct steal_ctx c;
  int status, child_rc;
  void *unclaimed_res;
};

static int
fork_root(void *arg, void **result)
{
  struct fork_ctx *k = arg;
  struct steal_ctx *c = &k->c;
  futures_frame_t fr, filler, unclaimed;
  pid_t pid;

  (void)result;
  c->owner = pthread_self();
  futures_spawn(&fr, frame_wait_go, c);
  while (!tu_latch_is_open(&c->taken)) { /* as in steal_root */
    futures_spawn(&filler, task_nop, NULL);
    futures_sync(&filler, NULL);
  }
  /* The only other worker runs fr, blocked: nobody can take this one. */
  futures_spawn(&unclaimed, task_nine, NULL);
  pid = fork();
  if (pid == 0)
    fork_child(&fr, &unclaimed);
  if (pid < 0 || waitpid(pid, &k->status, 0) != pid)
    k->status = -1;
  tu_latch_open(&c->go);
  k->child_rc = futures_sync(&unclaimed, &k->unclaimed_res);
  c->rc = futures_sync(&fr, &c->res);
  return 0;
}

/* In a fork() child of a task whose frame a worker stole, futures_sync()
 * of that frame returns ECHILD instead of waiting forever for a thief
 * that is not there; an unclaimed frame and a new spawn run inline. The
 * parent's syncs are unaffected. */
START_TEST(test_frames_sync_in_a_fork_child_never_waits_for_the_parent)
{
  futures_pool_t *pool = NULL;
  future_t *f = NULL;
  struct fork_ctx k;

  memset(&k, 0, sizeof(k));
  tu_latch_init(&k.c.taken);
  tu_latch_init(&k.c.syncing);
  tu_latch_init(&k.c.go);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, fork_root, &k, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  ck_assert_msg(WIFEXITED(k.status) && WEXITSTATUS(k.status) == 0,
                "child: status %#x (exit bits: 1 spawn, 2 its sync, "
                "4 unclaimed, 8 stolen not ECHILD; SIGALRM: hung)",
                (unsigned)k.status);
  ck_assert_int_eq(k.child_rc, 0);
  ck_assert_ptr_eq(k.unclaimed_res, (void *)(intptr_t)9);
  ck_assert_int_eq(k.c.rc, 0);
  ck_assert_ptr_eq(k.c.res, (void *)(intptr_t)7);
  tu_latch_destroy(&k.c.taken);
  tu_latch_destroy(&k.c.syncing);
  tu_latch_destroy(&k.c.go);
}
END_TEST

#endif /* !TU_TSAN */

/* ------------------------------------------------------------ misuse */

static int
out_of_order_root(void *arg, void **result)
{
  int *rc = arg;
  futures_frame_t a, b;

  (void)result;
  futures_spawn(&a, task_nop, NULL);
  futures_spawn(&b, task_nop, NULL);
  *rc = futures_sync(&a, NULL); /* b is newer: out of order */
  futures_sync(&b, NULL);
  futures_sync(&a, NULL);
  return 0;
}

#if FUTURES_DEBUG
static int
unsynced_root(void *arg, void **result)
{
  futures_frame_t a;

  (void)arg;
  (void)result;
  futures_spawn(&a, task_nop, NULL);
  return 0; /* a is left unsynced */
}
#endif

/* Runs @root in a fresh one-worker pool in a fork()ed child (no pool exists
 * in this process yet); returns the child's wait status. The child exits 0
 * when the out-of-order sync returned EINVAL (*rc), 1 otherwise. The
 * worker runs the root (the child waits in destroy, which runs nothing
 * while a worker is left), so no other worker can steal its frames. */
static int
in_child(futures_task_fn root)
{
  int status = 0;
  pid_t pid = fork();

  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    futures_pool_t *pool = NULL;
    future_t *f = NULL;
    int rc = -1;

    alarm(20);
    if (futures_pool_create(&pool, 1) != 0 ||
        futures_submit(pool, root, &rc, &f) != 0)
      tu_child_exit(2);
    future_release(f);
    if (futures_pool_destroy(pool) != 0)
      tu_child_exit(2);
    tu_child_exit(rc == EINVAL ? 0 : 1);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

/* Syncing an older frame before a newer one is caught: a debug build
 * aborts with a message (in a forked child); a release build returns
 * EINVAL and leaves both frames to be synced in order. */
START_TEST(test_frames_out_of_order_sync_is_caught)
{
  int status = in_child(out_of_order_root);

#if FUTURES_DEBUG
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                "debug build: want SIGABRT, status %#x", status);
#else
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "release build: want EINVAL and exit 0, status %#x", status);
#endif
}
END_TEST

#if FUTURES_DEBUG
/* A task that returns with a frame it did not sync aborts a debug build
 * with a message, when the task's body ends (in a forked child). */
START_TEST(test_frames_unsynced_frame_is_caught_in_debug)
{
  int status = in_child(unsynced_root);

  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                "want SIGABRT, status %#x", status);
}
END_TEST
#endif

Suite *
frames_suite(void)
{
  Suite *s = suite_create("frames");
  TCase *tc;

  tc = tcase_create("basic");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_frames_fib_matches_sequential_on_1_2_4_workers,
                      0, 3);
  tcase_add_test(tc, test_frames_errors_and_results_pass_through_sync);
  tcase_add_test(tc, test_frames_cancellation_is_seen_inside_frames);
  tcase_add_loop_test(tc, test_frames_nested_future_get_inside_spawned_tasks,
                      0, 2);
  tcase_add_test(tc, test_frames_spawn_beyond_the_deque_runs_at_once);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_frames_outside_a_task_is_eperm);
  tcase_add_test(tc, test_frames_bad_arguments_are_einval);
  tcase_add_test(tc, test_frames_out_of_order_sync_is_caught);
#if FUTURES_DEBUG
  tcase_add_test(tc, test_frames_unsynced_frame_is_caught_in_debug);
#endif
  suite_add_tcase(s, tc);

  tc = tcase_create("stealing");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc,
                 test_frames_stolen_frame_is_synced_after_the_thief_finishes);
#ifndef TU_TSAN
  tcase_add_test(tc, test_frames_sync_in_a_fork_child_never_waits_for_the_parent);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(frames_suite());
}
