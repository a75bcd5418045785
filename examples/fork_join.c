/* SPDX-License-Identifier: MIT */
/*
 * fork_join.c - recursive fork-join: fib(n) with one task per split.
 *
 * Each task submits fib(n - 1) as a sub-task, computes fib(n - 2) itself,
 * then waits for the sub-task with future_get() from inside the pool.
 * That nested wait never deadlocks, even with a single worker: a task
 * waiting on a sub-task that has not started runs it itself. Small n is
 * computed directly, since a task costs far more than a few additions.
 *
 * usage: fork_join [N]   (default 32)
 * Build: cc fork_join.c $(pkg-config --cflags --libs futures)
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <futures.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CUTOFF 18 /* below this, recursion is cheaper than a task */

struct fib {
  futures_pool_t *pool;
  int n;
  long long value;
};

static long long
fib_serial(int n)
{
  return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int
fib_task(void *arg, void **result)
{
  struct fib *job = arg;
  struct fib child = { job->pool, job->n - 1, 0 };
  struct fib self = { job->pool, job->n - 2, 0 };
  future_t *f;
  int rc_self, rc_child;

  (void)result;
  if (job->n < CUTOFF) {
    job->value = fib_serial(job->n);
    return 0;
  }
  /* fork: child lives on this stack, which is safe because future_get()
   * returns only after the sub-task has finished. */
  if ((rc_child = futures_submit(job->pool, fib_task, &child, &f)) != 0)
    return rc_child;
  rc_self = fib_task(&self, NULL);
  /* join: a nested wait, inside a task. */
  rc_child = future_get(f, NULL);
  future_release(f);
  job->value = child.value + self.value;
  return rc_self != 0 ? rc_self : rc_child;
}

static int
run(int n, size_t workers)
{
  futures_pool_t *pool;
  future_t *root;
  struct timespec t0, t1;
  struct fib job;
  futures_stats_t st = FUTURES_STATS_INIT;
  int rc;

  if ((rc = futures_pool_create(&pool, workers)) != 0) {
    fprintf(stderr, "futures_pool_create: %s\n", strerror(rc));
    return 1;
  }
  job.pool = pool;
  job.n = n;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if ((rc = futures_submit(pool, fib_task, &job, &root)) == 0) {
    rc = future_get(root, NULL);
    future_release(root);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  futures_pool_stats(pool, &st);
  futures_pool_destroy(pool);
  if (rc != 0) {
    fprintf(stderr, "fib: %s\n", strerror(rc));
    return 1;
  }
  printf("fib(%d) = %lld with %zu worker(s)\n", n, job.value, st.workers);
  printf("  %.1f ms, %llu tasks, %llu run by a waiting thread, %llu stolen\n",
         (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
         st.completed, st.helped, st.stolen);
  return 0;
}

int
main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 32;

  if (n < 0 || n > 60) {
    fprintf(stderr, "usage: fork_join [N]  (0 <= N <= 60)\n");
    return 2;
  }
  /* One worker: every nested wait must be served by the waiter itself. */
  if (run(n, 1) != 0)
    return 1;
  /* One worker per CPU. */
  return run(n, 0);
}
