/* SPDX-License-Identifier: MIT */
/* README snippet: worker hooks and CPU pinning (see seed.c for the
 * markers). */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int started, exited;

/* README: begin */
static _Thread_local size_t my_worker = (size_t)-1;

static int
on_start(void *arg, size_t index) /* in each worker, before any task */
{
  (void)arg;
  my_worker = index; /* thread-local set-up; or register with a profiler */
  atomic_fetch_add(&started, 1);
  return 0; /* non-zero: futures_pool_create_ex() fails with that code */
}

static void
on_exit_hook(void *arg, size_t index) /* after its last task */
{
  (void)arg;
  (void)index;
  atomic_fetch_add(&exited, 1);
}
/* README: end */

static int
where(void *arg, void **result)
{
  (void)arg;
  *result = (void *)my_worker;
  return 0;
}

int
main(void)
{
  futures_pool_t *pool = NULL;
  futures_stats_t st = FUTURES_STATS_INIT;
  future_t *f = NULL;
  void *r = NULL;
  int cpu = -2, ok = 1;

  /* README: begin */
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;

  opts.nthreads = 2;
  opts.worker_start = on_start;
  opts.worker_exit = on_exit_hook;
  opts.pin = FUTURES_PIN_EACH; /* worker i on cpus[i % ncpus] */
  opts.cpus = NULL;            /* NULL: every CPU this thread may use */
  if (futures_pool_create_ex(&pool, &opts) != 0)
    return 1;
  futures_pool_stats(pool, &st);
  futures_pool_worker_cpu(pool, 1, &cpu);
  printf("pinned over %zu CPUs, worker 1 on CPU %d\n", st.ncpus, cpu);
  /* README: end */
  ok &= futures_submit(pool, where, NULL, &f) == 0 &&
        future_get(f, &r) == 0;
  ok &= r == (void *)0 || r == (void *)1 || r == (void *)(size_t)-1;
  future_release(f);
  ok &= atomic_load(&started) == 2 && st.pin == FUTURES_PIN_EACH;
  ok &= futures_pool_destroy(pool) == 0 && atomic_load(&exited) == 2;
  return ok ? 0 : 1;
}
