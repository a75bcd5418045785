/* SPDX-License-Identifier: MIT */
/*
 * README snippet: the complete example, the seed program in C. The lines
 * between "README: begin" and "README: end" appear verbatim in README;
 * tests/readme_snippets.sh checks that they match and runs this program.
 * (examples/seed.c is the same program with a scale argument.)
 */
/* README: begin */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime: POSIX */
#include <futures.h>
#include <stdio.h>
#include <time.h>

/* A task: sleeps arg milliseconds, then returns a string. */
static int
sleep_task(void *arg, void **result)
{
  long ms = (long)arg;
  struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

  nanosleep(&d, NULL);
  *result = (void *)(ms == 1000 ? "Task 1 done" : "Task 2 done");
  return 0; /* or a positive errno code: the C form of a rejection */
}

static double
now_ms(void)
{
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f[2];
  void *r[2];
  double t0;

  if (futures_pool_create(&pool, 2) != 0) /* two worker threads */
    return 1;

  /* const r1 = await task1(); const r2 = await task2(); */
  t0 = now_ms();
  if (futures_submit(pool, sleep_task, (void *)1000L, &f[0]) != 0 ||
      future_get(f[0], &r[0]) != 0 ||
      futures_submit(pool, sleep_task, (void *)500L, &f[1]) != 0 ||
      future_get(f[1], &r[1]) != 0)
    return 1; /* a rejection: await would throw */
  printf("Sequential: %.1f ms [%s, %s]\n", now_ms() - t0, (char *)r[0],
         (char *)r[1]);
  future_release(f[0]);
  future_release(f[1]);

  /* const [r1, r2] = await Promise.all([task1(), task2()]); */
  t0 = now_ms();
  if (futures_submit(pool, sleep_task, (void *)1000L, &f[0]) != 0 ||
      futures_submit(pool, sleep_task, (void *)500L, &f[1]) != 0 ||
      futures_join_all(f, 2, r) != 0)
    return 1;
  printf("Parallel: %.1f ms [%s, %s]\n", now_ms() - t0, (char *)r[0],
         (char *)r[1]);
  future_release(f[0]);
  future_release(f[1]);

  return futures_pool_destroy(pool);
}
/* README: end */
