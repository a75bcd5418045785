/* SPDX-License-Identifier: MIT */
/* README snippet: introspection (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <futures.h>
#include <stdio.h>
#include <time.h>

static int
nap(void *arg, void **result)
{
  struct timespec d = { 0, (long)arg * 1000000L };

  (void)result;
  nanosleep(&d, NULL);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f[2];
  int ok = 1;

  /* README: begin */
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;
  futures_stats_t st = FUTURES_STATS_INIT;
  long long queued_ns, running_ns;

  opts.nthreads = 1;
  opts.flags = FUTURES_POOL_TIMING; /* record per-future times */
  if (futures_pool_create_ex(&pool, &opts) != 0)
    return 1;

  /* Where did the time of `await a; await b;` go? */
  if (futures_submit(pool, nap, (void *)100L, &f[0]) != 0 ||
      future_get(f[0], NULL) != 0 ||
      futures_submit(pool, nap, (void *)50L, &f[1]) != 0 ||
      future_get(f[1], NULL) != 0)
    return 1;
  for (int i = 0; i < 2; i++) {
    future_times(f[i], &queued_ns, &running_ns);
    printf("task %d: queued %.1f ms, ran %.1f ms\n", i, queued_ns / 1e6,
           running_ns / 1e6);
  }

  futures_pool_stats(pool, &st); /* lock-free; cheap enough to poll */
  printf("workers %zu, queued %zu, running %zu, completed %llu, "
         "helped %llu, stolen %llu\n", st.workers, st.queued, st.running,
         st.completed, st.helped, st.stolen);
  /* README: end */
  ok &= st.workers == 1 && st.completed == 2 && running_ns >= 50000000LL;
  future_release(f[0]);
  future_release(f[1]);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
