/* SPDX-License-Identifier: MIT */
/*
 * seed.c - the JavaScript contrast that libfutures starts from, in C.
 *
 *   const r1 = await task1(); const r2 = await task2();     // ~1500 ms
 *   const [r1, r2] = await Promise.all([task1(), task2()]); // ~1000 ms
 *
 * Two tasks sleep 1000 ms and 500 ms. First each is submitted and awaited
 * with future_get() before the next starts (sequential); then both are
 * submitted and awaited together with futures_join_all() (parallel).
 *
 * usage: seed [SCALE]   SCALE multiplies the durations (default 1;
 *                       `seed 0.05` runs tasks of 50 ms and 25 ms)
 * Build: cc seed.c $(pkg-config --cflags --libs futures)
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <futures.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct task {
  long ms;           /* how long the task sleeps */
  const char *reply; /* what it returns */
};

static int
sleep_task(void *arg, void **result)
{
  struct task *t = arg;
  struct timespec d = { t->ms / 1000, (t->ms % 1000) * 1000000L };

  while (nanosleep(&d, &d) != 0)
    ; /* interrupted by a signal: sleep the rest */
  *result = (void *)t->reply;
  return 0;
}

static double
now_ms(void)
{
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
report(const char *what, double ms, void *const results[2])
{
  printf("%s: %.1f ms\n", what, ms);
  printf("%s results: [%s, %s]\n", what, (const char *)results[0],
         (const char *)results[1]);
}

int
main(int argc, char **argv)
{
  double scale = argc > 1 ? atof(argv[1]) : 1.0;
  struct task tasks[2] = { { (long)(1000 * scale), "Task 1 done" },
                           { (long)(500 * scale), "Task 2 done" } };
  futures_pool_t *pool;
  future_t *f[2];
  void *results[2];
  double t0;
  int rc;

  if (scale <= 0 || scale > 100) {
    fprintf(stderr, "usage: seed [SCALE]  (0 < SCALE <= 100)\n");
    return 2;
  }
  /* One worker per task, as Promise.all gives every promise its own
   * timer; futures_pool_create(&pool, 0) would use one per CPU. */
  if ((rc = futures_pool_create(&pool, 2)) != 0) {
    fprintf(stderr, "futures_pool_create: error %d\n", rc);
    return 1;
  }

  /* await task1(); await task2(); */
  t0 = now_ms();
  for (int i = 0; i < 2; i++) {
    if ((rc = futures_submit(pool, sleep_task, &tasks[i], &f[i])) != 0 ||
        (rc = future_get(f[i], &results[i])) != 0) {
      fprintf(stderr, "task %d: error %d\n", i + 1, rc);
      return 1;
    }
    future_release(f[i]);
  }
  report("Sequential", now_ms() - t0, results);

  /* await Promise.all([task1(), task2()]); */
  t0 = now_ms();
  for (int i = 0; i < 2; i++)
    if ((rc = futures_submit(pool, sleep_task, &tasks[i], &f[i])) != 0) {
      fprintf(stderr, "submit: error %d\n", rc);
      return 1;
    }
  rc = futures_join_all(f, 2, results);
  report("Parallel", now_ms() - t0, results);
  for (int i = 0; i < 2; i++)
    future_release(f[i]);

  if (futures_pool_destroy(pool) != 0 || rc != 0)
    return 1;
  return 0;
}
