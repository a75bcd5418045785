/* SPDX-License-Identifier: MIT */
/*
 * parallel.c - layer 5: futures_parallel_for().
 *
 * The returned future is an ordinary task, the "driver". When it runs (on
 * a worker, or in a thread that waits for it, which so takes part in the
 * work), it submits one helper task per other worker and then, like the
 * helpers, claims chunks from a shared atomic counter until none is left.
 * Claiming chunks one by one balances uneven chunks without any planning;
 * the helpers are stolen by idle workers; the driver's final
 * futures_join_all() on its helpers is a nested wait, which never
 * deadlocks.
 */
#include "pool.h"

#include <stdint.h>

struct pfor {
  /* Immutable after setup. */
  futures_range_fn fn;
  void *arg;
  size_t begin, end, grain, nchunks;
  futures_pool_t *pool;
  struct future *driver; /* set when the driver starts */
  /* Atomic. */
  _Atomic(size_t) next;        /* next chunk to claim */
  _Atomic(int) stop;           /* a chunk failed: skip the rest */
  _Atomic(size_t) fail_chunk;  /* lowest failing chunk, SIZE_MAX if none */
  _Atomic(int) fail_code;      /* its code (written with fail_chunk) */
  pthread_mutex_t fail_lock;  /* orders updates of the pair above */
  size_t nhelpers;
  future_t *helpers[];        /* owned by the driver */
};

static int
cancelled(struct pfor *p)
{
  return atomic_load_explicit(&p->stop, memory_order_relaxed) ||
         (atomic_load_explicit(&p->driver->state, memory_order_relaxed) &
          F_CANCEL) ||
         atomic_load_explicit(&p->pool->sched.stopping,
                              memory_order_relaxed) == STOP_CANCEL;
}

static void
record_failure(struct pfor *p, size_t chunk, int code)
{
  futures__mutex_lock(&p->fail_lock);
  if (chunk < atomic_load_explicit(&p->fail_chunk, memory_order_relaxed)) {
    atomic_store_explicit(&p->fail_chunk, chunk, memory_order_relaxed);
    atomic_store_explicit(&p->fail_code, code, memory_order_relaxed);
  }
  futures__mutex_unlock(&p->fail_lock);
  atomic_store_explicit(&p->stop, 1, memory_order_relaxed);
}

static void
run_chunks(struct pfor *p)
{
  while (!cancelled(p)) {
    /* Relaxed: the counter only hands out distinct indices. */
    size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
    size_t b, e;
    int rc;

    if (i >= p->nchunks)
      break;
    b = p->begin + i * p->grain;
    e = p->end - b > p->grain ? b + p->grain : p->end;
    /* A chunk is not a body of its own: futures_on_cancel() is EPERM in
     * it (a hook set here would outlive the chunk's frame, and the chunks
     * in other threads would never hear of it). */
    {
      struct future *outer = futures__tls.chunk_of;

      /* The body running the chunk, not one it runs in place while it
       * waits (that one is current then). */
      futures__tls.chunk_of = futures__tls.current;
      rc = p->fn(p->arg, b, e);
      futures__tls.chunk_of = outer;
    }
    if (rc != 0)
      record_failure(p, i, rc);
  }
}

static int
helper_task(void *arg, void **result)
{
  (void)result;
  run_chunks(arg);
  return 0;
}

static void
pfor_free(void *arg)
{
  struct pfor *p = arg;

  futures__mutex_destroy(&p->fail_lock);
  futures__free(p);
}

/* Waits for the @n helpers the driver started and lets them go; the
 * join's code (helpers return 0: EOWNERDEAD if a chunk exited its thread,
 * ECANCELED if a helper was cancelled unrun). */
static int
join_helpers(struct pfor *p, size_t n)
{
  int rc = futures_join_all(p->helpers, n, NULL);

  for (size_t i = 0; i < n; i++)
    future_release(p->helpers[i]);
  return rc;
}

/*
 * If a chunk run by the driver exits the thread (pthread_exit()), the
 * helpers still use @p: the cleanup stops the loop, waits for them and
 * frees it, so that nothing leaks and no helper reads freed memory.
 */
struct driver_guard {
  struct pfor *p;
  size_t n;
  int armed;
};

static void
driver_unwound(struct driver_guard *g)
{
  if (!g->armed)
    return;
  atomic_store_explicit(&g->p->stop, 1, memory_order_relaxed);
  (void)join_helpers(g->p, g->n);
  pfor_free(g->p);
}

static int
driver_task(void *arg, void **result)
{
  struct pfor *p = arg;
  struct driver_guard guard __attribute__((cleanup(driver_unwound))) = {
      p, 0, 1};
  int code, joined;

  (void)result;
  p->driver = futures__tls.current;
  /* Helpers that could not be submitted (ENOMEM, ESHUTDOWN) only mean
   * less parallelism: the driver alone still covers every chunk. */
  while (guard.n < p->nhelpers &&
         futures_submit(p->pool, helper_task, p, &p->helpers[guard.n]) == 0)
    guard.n++;
  run_chunks(p);
  joined = join_helpers(p, guard.n); /* may run helpers here: guarded */
  guard.armed = 0;
  code = atomic_load_explicit(&p->fail_code, memory_order_relaxed);
  if (code == 0 && joined == EOWNERDEAD)
    code = EOWNERDEAD; /* a chunk exited its thread: the range is not done */
  if (code == 0 && cancelled(p) &&
      atomic_load_explicit(&p->next, memory_order_relaxed) < p->nchunks)
    code = ECANCELED; /* stopped by cancellation, not by a failure */
  pfor_free(p);
  return code;
}

int
futures_parallel_for(futures_pool_t *pool, size_t begin, size_t end,
                     size_t grain, futures_range_fn fn, void *arg,
                     future_t **future)
{
  futures_task_t task = FUTURES_TASK_INIT;
  struct pfor *p;
  size_t nhelpers, nchunks;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL || fn == NULL || end < begin)
    return EINVAL;
  if (grain == 0) {
    size_t target = 8 * (size_t)pool->sched.nworkers;

    grain = (end - begin + target - 1) / target;
    if (grain == 0)
      grain = 1;
  }
  nchunks = (end - begin) / grain + ((end - begin) % grain != 0);
  nhelpers = nchunks < pool->sched.nworkers ? nchunks : pool->sched.nworkers;
  nhelpers = nhelpers > 0 ? nhelpers - 1 : 0;
  p = (struct pfor *)futures__malloc(sizeof(*p) +
                                     nhelpers * sizeof(p->helpers[0]));
  if (p == NULL)
    return ENOMEM;
  p->fn = fn;
  p->arg = arg;
  p->begin = begin;
  p->end = end;
  p->grain = grain;
  p->nchunks = nchunks;
  p->pool = pool;
  p->driver = NULL;
  p->nhelpers = nhelpers;
  FUTURES_ATOMIC_VAR(p->next);
  FUTURES_ATOMIC_VAR(p->stop);
  FUTURES_ATOMIC_VAR(p->fail_chunk);
  FUTURES_ATOMIC_VAR(p->fail_code);
  atomic_init(&p->next, 0);
  atomic_init(&p->stop, 0);
  atomic_init(&p->fail_chunk, SIZE_MAX);
  atomic_init(&p->fail_code, 0);
  futures__mutex_init(&p->fail_lock);
  task.fn = driver_task;
  task.arg = p;
  task.drop = pfor_free; /* cancelled before it started */
  rc = futures_submit_ex(pool, &task, NULL, future);
  if (rc != 0)
    pfor_free(p);
  return rc;
}
