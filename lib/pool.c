/* SPDX-License-Identifier: MIT */
/*
 * pool.c - layer 6: pool lifecycle (create, destroy), the registry of live
 * pools, fork() handling and statistics. Scheduling lives in scheduler.c.
 */
#include "foreign.h"
#include "help.h"
#include "hook.h"
#include "pool.h"
#include "trace.h"
#include "worker.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_init_rc;

/* Protected by registry_lock: every pool not yet destroyed. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct futures_pool *registry;

/* Puts @pool in the registry: at create, and back again when an
 * asynchronous destroy could not start its thread. */
static void
registry_add(struct futures_pool *pool)
{
  futures__mutex_lock(&registry_lock);
  pool->reg_next = registry;
  registry = pool;
  futures__mutex_unlock(&registry_lock);
}

/* ------------------------------------------------------------ fork */

static void
atfork_prepare(void)
{
  futures__mutex_lock(&registry_lock);
}

static void
atfork_parent(void)
{
  futures__mutex_unlock(&registry_lock);
}

static void
atfork_child(void)
{
  futures__mutex_init(&registry_lock);
}

/* The library's own state first (init.c), then the registry's fork
 * handlers, registered after the library's: the registry lock is taken
 * first before a fork and every library lock is taken after it, as when
 * both were one handler. */
static void
global_init(void)
{
  global_init_rc = futures__global_init();
  if (global_init_rc == 0)
    global_init_rc = pthread_atfork(atfork_prepare, atfork_parent,
                                    atfork_child);
}

/* ------------------------------------------------------------ create */

/*
 * The CPUs below CPU_SETSIZE that the calling thread may run on, into
 * @set: 0, ENOMEM, or the error of sched_getaffinity(). A kernel built
 * for more than CPU_SETSIZE CPUs refuses a buffer of sizeof(cpu_set_t)
 * (EINVAL); then a larger one is allocated, doubling until it fits.
 */
static int
affinity_get(cpu_set_t *set)
{
  if (sched_getaffinity(0, sizeof(*set), set) == 0)
    return 0;
  if (errno != EINVAL)
    return errno;
  for (int n = 2 * CPU_SETSIZE; n <= (1 << 22); n *= 2) {
    cpu_set_t *big = CPU_ALLOC(n);
    size_t size = CPU_ALLOC_SIZE(n);
    int rc;

    if (big == NULL)
      return ENOMEM;
    rc = sched_getaffinity(0, size, big) == 0 ? 0 : errno;
    if (rc == 0) {
      CPU_ZERO(set);
      for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET_S((size_t)c, size, big))
          CPU_SET((size_t)c, set);
    }
    CPU_FREE(big);
    if (rc != EINVAL)
      return rc;
  }
  return EINVAL;
}

static size_t
cpu_count(void)
{
  cpu_set_t set;
  long n;

  if (affinity_get(&set) == 0 && CPU_COUNT(&set) > 0)
    return (size_t)CPU_COUNT(&set);
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

/* 1 if a struct of @size bytes holds the whole of @type's @field. */
#define HOLDS(size, type, field)                                               \
  ((size) >= offsetof(type, field) + sizeof(((type *)0)->field))

/* The end of the last field of the first version of the options (0.1,
 * before the worker hooks): smaller is EINVAL, fields beyond the caller's
 * size take their defaults. */
#define OPTS_SIZE_0 (offsetof(futures_pool_opts_t, name) + sizeof(const char *))

/* EINVAL unless the pinning options make sense: a known mode, a list only
 * with a mode, and every CPU one the creating thread may run on; ENOMEM if
 * that could not be read for want of memory. */
static int
pin_check(const futures_pool_opts_t *o)
{
  cpu_set_t mine;
  int rc;

  if (o->pin == FUTURES_PIN_NONE)
    return o->cpus == NULL && o->ncpus == 0 ? 0 : EINVAL;
  if (o->pin != FUTURES_PIN_EACH && o->pin != FUTURES_PIN_SET)
    return EINVAL;
  if ((o->cpus == NULL) != (o->ncpus == 0) || o->ncpus > CPU_SETSIZE)
    return EINVAL;
  if ((rc = affinity_get(&mine)) != 0)
    return rc == ENOMEM ? ENOMEM : EINVAL;
  for (size_t i = 0; i < o->ncpus; i++)
    if (o->cpus[i] < 0 || o->cpus[i] >= CPU_SETSIZE ||
        !CPU_ISSET((size_t)o->cpus[i], &mine))
      return EINVAL;
  return 0;
}

static int
opts_read(futures_pool_opts_t *o, const futures_pool_opts_t *opts)
{
  futures_pool_opts_t dflt = FUTURES_POOL_OPTS_INIT;
  int rc;

  *o = dflt;
  if (opts != NULL) {
    if (opts->size < OPTS_SIZE_0)
      return EINVAL;
    memcpy(o, opts, opts->size < sizeof(*o) ? opts->size : sizeof(*o));
    /* A field the caller's struct does not wholly hold keeps its default. */
    if (!HOLDS(opts->size, futures_pool_opts_t, worker_start))
      o->worker_start = NULL;
    if (!HOLDS(opts->size, futures_pool_opts_t, worker_exit))
      o->worker_exit = NULL;
    if (!HOLDS(opts->size, futures_pool_opts_t, worker_arg))
      o->worker_arg = NULL;
    if (!HOLDS(opts->size, futures_pool_opts_t, pin))
      o->pin = FUTURES_PIN_NONE;
    if (!HOLDS(opts->size, futures_pool_opts_t, cpus))
      o->cpus = NULL;
    if (!HOLDS(opts->size, futures_pool_opts_t, ncpus))
      o->ncpus = 0;
    o->size = sizeof(*o);
  }
  if ((rc = pin_check(o)) != 0)
    return rc;
  if (o->nthreads > SCHED_MAX_THREADS)
    return EINVAL;
  if (o->overflow != FUTURES_OVERFLOW_FAIL &&
      o->overflow != FUTURES_OVERFLOW_BLOCK &&
      o->overflow != FUTURES_OVERFLOW_CALLER_RUNS)
    return EINVAL;
  if ((o->flags &
       ~(FUTURES_POOL_TIMING | FUTURES_POOL_TRACE | FUTURES_POOL_BATCH)) != 0)
    return EINVAL;
  if (o->stack_size != 0 && o->stack_size < 16384)
    return EINVAL;
  return 0;
}

/* @s's copy of the CPU list (pin_check() accepted @o): @o's, or every CPU
 * the creating thread may run on. 0 or ENOMEM. */
static int
pin_copy(struct sched *s, const futures_pool_opts_t *o)
{
  cpu_set_t mine;
  size_t n = o->ncpus;

  s->pin = o->pin;
  if (o->pin == FUTURES_PIN_NONE)
    return 0;
  if (o->cpus == NULL) {
    if (affinity_get(&mine) != 0 || CPU_COUNT(&mine) == 0)
      return ENOMEM; /* checked a moment ago by pin_check() */
    n = (size_t)CPU_COUNT(&mine);
  }
  s->cpus = (int *)futures__malloc(n * sizeof(int));
  if (s->cpus == NULL)
    return ENOMEM;
  if (o->cpus != NULL)
    memcpy(s->cpus, o->cpus, n * sizeof(int));
  else
    for (int c = 0, i = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET((size_t)c, &mine))
        s->cpus[i++] = c;
  s->ncpus = (unsigned)n;
  {
    cpu_set_t set;

    CPU_ZERO(&set);
    for (size_t i = 0; i < n; i++)
      CPU_SET((size_t)s->cpus[i], &set);
    s->nset = (unsigned)CPU_COUNT(&set); /* a CPU listed twice is one */
  }
  return 0;
}

static void
pool_free(struct futures_pool *pool)
{
  futures__free(pool->sched.cpus);
  if (pool->timers != NULL) {
    futures__timers_close(pool->timers); /* nothing to do after destroy */
    futures__timers_release(pool->timers);
  }
  futures__trace_destroy(&pool->sched);
  futures__sched_fini(&pool->sched);
  FUTURES_PLAIN_RANGE(pool, sizeof(*pool)); /* libc may reuse it */
  futures__free(pool);
}

static struct futures_pool *
pool_alloc(const futures_pool_opts_t *o)
{
  size_t n = o->nthreads != 0 ? o->nthreads : cpu_count();
  struct futures_pool *pool;
  struct sched *s;

  pool = (struct futures_pool *)futures__aligned_malloc(sizeof(*pool));
  if (pool == NULL)
    return NULL;
  memset(pool, 0, sizeof(*pool));
  s = &pool->sched;
  s->max_queued = o->max_queued;
  s->overflow = o->overflow;
  s->flags = o->flags;
  /* A trace reads the times every record of the pool then carries. */
  if (s->flags & FUTURES_POOL_TRACE)
    s->flags |= FUTURES_POOL_TIMING;
  s->stack_size = o->stack_size;
  snprintf(s->name, sizeof(s->name), "%s",
           o->name != NULL ? o->name : "futures");
  s->worker_start = o->worker_start;
  s->worker_exit = o->worker_exit;
  s->worker_arg = o->worker_arg;
  s->creating = 1;
  if (futures__sched_init(s, (unsigned)n) != 0 || pin_copy(s, o) != 0 ||
      futures__timers_create(&pool->timers, s->name) != 0 ||
      ((s->flags & FUTURES_POOL_TRACE) && futures__trace_create(s) != 0)) {
    pool_free(pool);
    return NULL;
  }
  return pool;
}

/* Tells the started workers to leave and joins them (create failed). */
static void
stop_started(struct sched *s)
{
  futures__mutex_lock(&s->lock);
  s->exit_now = 1;
  /* Wakes every parked worker: it must exit. */
  futures__cond_broadcast(&s->wake);
  futures__mutex_unlock(&s->lock);
  for (unsigned i = 0; i < s->started; i++)
    futures__thread_join(s->slots[i].thread);
}

/* Starts the workers in index order: 0, or the code of the first whose
 * thread could not be started. Stops early, with 0, once a started
 * worker's start hook has failed: create fails with that hook's code
 * anyway, and starting more would only waste threads. */
static int
start_workers(struct sched *s)
{
  for (unsigned i = 0; i < s->nworkers; i++) {
    int rc = futures__worker_start(&s->slots[i], &s->slots[i].thread);
    int failed;

    if (rc != 0)
      return rc;
    futures__mutex_lock(&s->lock);
    s->started++;
    failed = s->hook_rc != 0;
    futures__mutex_unlock(&s->lock);
    if (failed)
      break;
  }
  return 0;
}

/* Waits until every started worker has run its start hook; the code of
 * the lowest-indexed one that failed, or 0. From here on a start hook
 * that fails is a replacement's (worker.c). */
static int
wait_start_hooks(struct sched *s)
{
  int rc;

  futures__mutex_lock(&s->lock);
  while (s->hooks_reported < s->started) /* predicate: all reported */
    futures__cond_wait(&s->done, &s->lock);
  s->creating = 0;
  rc = s->hook_rc;
  futures__mutex_unlock(&s->lock);
  return rc;
}

int
futures_pool_create_ex(futures_pool_t **out, const futures_pool_opts_t *opts)
{
  futures_pool_opts_t o;
  struct futures_pool *pool;
  int rc;

  if (out == NULL)
    return EINVAL;
  *out = NULL;
  if ((rc = opts_read(&o, opts)) != 0)
    return rc;
  pthread_once(&global_once, global_init);
  if (global_init_rc != 0)
    return ENOMEM;
  pool = pool_alloc(&o);
  if (pool == NULL)
    return ENOMEM;
  rc = start_workers(&pool->sched);
  {
    int hook_rc = wait_start_hooks(&pool->sched);

    /* The lowest index's failure wins: a worker whose thread could not be
     * started failed with EAGAIN at an index above every started one. */
    if (hook_rc != 0)
      rc = hook_rc;
  }
  if (rc != 0) {
    stop_started(&pool->sched);
    pool_free(pool);
    return rc;
  }
  registry_add(pool);
  *out = pool;
  return 0;
}

int
futures_pool_create(futures_pool_t **pool, size_t nthreads)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;

  o.nthreads = nthreads;
  return futures_pool_create_ex(pool, &o);
}

/* ------------------------------------------------------------ destroy */

/*
 * Every destroy's checks, and the pool's removal from the registry: 0 (it
 * is the caller's to destroy now); EINVAL if the registry does not know
 * it (never created, or destroyed already: its memory is not read);
 * ECHILD if it belongs to the parent of a fork(); with @refuse_own,
 * EDEADLK if the calling thread runs one of its tasks or is its timer
 * thread (an inline continuation of one of its timers), which a destroy
 * that waits would wait for; also EDEADLK for the pool whose hook this
 * thread runs, once its destroy has removed it (its exit hooks run then).
 * Done under registry_lock, so the pool's
 * memory is alive while we look at it; after an error it is untouched.
 */
static int
registry_claim(struct futures_pool *pool, int refuse_own)
{
  unsigned long gen =
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  struct futures_pool **p;
  int rc = EINVAL;

  futures__mutex_lock(&registry_lock);
  for (p = &registry; *p != NULL; p = &(*p)->reg_next) {
    if (*p != pool)
      continue;
    if (pool->sched.gen != gen)
      rc = ECHILD; /* the parent's pool: leave it alone */
    else if (refuse_own && (futures__sched_my_slot(&pool->sched) != NULL ||
                            futures__sched_in_task(&pool->sched) ||
                            futures__tls.worker_hook_of == &pool->sched ||
                            futures__timers_in_thread(pool->timers)))
      rc = EDEADLK;
    else {
      *p = pool->reg_next;
      rc = 0;
    }
    break;
  }
  /* Not in the registry, but this thread runs one of its hooks, so it is
   * alive: an exit hook run by its destroy, which has removed it. */
  if (rc == EINVAL && refuse_own && futures__tls.worker_hook_of != NULL &&
      futures__tls.worker_hook_of == &pool->sched)
    rc = pool->sched.gen != gen ? ECHILD : EDEADLK;
  futures__mutex_unlock(&registry_lock);
  return rc;
}

/* With no worker left, destroy runs what is queued itself: as the drain's
 * only runner it needs no episode. */
static void
run_rest(struct sched *s)
{
  struct future *f;

  while ((f = futures__sched_take_any(s)) != NULL)
    futures__gate_run(f, GATE_QREF);
}

/*
 * Destroy, first half, in the caller's thread: from here on submits from
 * outside the pool's tasks (from anywhere in cancel mode) and
 * futures_after() are ESHUTDOWN. The caller is counted in entering until
 * stop_finish() has closed the foreign waits and the timers: what they
 * ready is queued before the drain can end (it waits for entering to fall
 * to 0).
 */
static void
stop_begin(struct futures_pool *pool, int mode)
{
  struct sched *s = &pool->sched;

  futures__sched_enter(s);
  futures__sched_stop(s, mode == FUTURES_DESTROY_CANCEL ? STOP_CANCEL
                                                        : STOP_DRAIN);
  FUTURES_TP(FUTURES_TP_STOPPED, s);
}

/*
 * Destroy, second half, in a thread that may wait for the pool's tasks
 * (the caller of futures_pool_destroy_ex(), or the thread of
 * futures_pool_destroy_async()): settles what waits from outside, drains,
 * joins the workers and frees the pool. Consumes stop_begin()'s count.
 */
static void
stop_finish(struct futures_pool *pool, int mode)
{
  struct sched *s = &pool->sched;

  /* futures_cancelled() now says 1 in every running task; those blocked
   * elsewhere learn it from their cancel hooks. */
  if (mode == FUTURES_DESTROY_CANCEL)
    futures__hook_fire_pool(s);
  /* Every record of ours still waiting on a future from outside the pool
   * settles with ECANCELED, then every pending timer (whose continuations
   * on other pools or inline then run with ECANCELED). */
  futures__foreign_close(s);
  futures__timers_close(pool->timers);
  futures__sched_leave(s);
  /* Until the drain has ended a task may exit its worker, which is then
   * replaced (a new handle in its slot): read the handles only after. */
  futures__sched_wait_drained(s, run_rest);
  /* Each slot names its current thread: a replacement, or an exited
   * worker that could not be replaced (never detached). */
  for (unsigned i = 0; i < s->nworkers; i++)
    futures__thread_join(s->slots[i].thread);
  /* Blocked submitters still inside submit must leave before the free. */
  futures__mutex_lock(&s->lock);
  while (atomic_load_explicit(&s->room_waiters, memory_order_relaxed) != 0)
    futures__cond_wait(&s->room, &s->lock); /* predicate: none left */
  futures__mutex_unlock(&s->lock);
  futures__pin_wait_unpinned(s);
  pool_free(pool);
}

static int
mode_valid(int mode)
{
  return mode == FUTURES_DESTROY_DRAIN || mode == FUTURES_DESTROY_CANCEL;
}

int
futures_pool_destroy_ex(futures_pool_t *pool, int mode)
{
  int rc;

  if (pool == NULL || !mode_valid(mode))
    return EINVAL;
  if ((rc = registry_claim(pool, 1)) != 0)
    return rc;
  stop_begin(pool, mode);
  stop_finish(pool, mode);
  return 0;
}

int
futures_pool_destroy(futures_pool_t *pool)
{
  return futures_pool_destroy_ex(pool, FUTURES_DESTROY_DRAIN);
}

/*
 * The thread of futures_pool_destroy_async(), detached. It waits until
 * its caller has stopped the pool, runs the second half of the destroy,
 * and only then, the pool freed and never touched again, settles the
 * future and drops its reference to it: whatever that settle runs (the
 * future's inline continuations, a notifier's delivery) runs here.
 */
static void *
destroy_main(void *arg)
{
  struct futures_pool *pool = (struct futures_pool *)arg;
  struct sched *s = &pool->sched;
  struct future *done = pool->async_done;
  int mode = pool->async_mode;

#ifdef HAVE_PTHREAD_SETNAME_NP
  {
    char name[16];

    snprintf(name, sizeof(name), "%.9s-end", s->name);
    pthread_setname_np(pthread_self(), name);
  }
#endif
  futures__mutex_lock(&s->lock);
  /* Predicate: the caller has stopped the pool (async_stopped). */
  while (!pool->async_stopped)
    futures__cond_wait(&s->done, &s->lock);
  futures__mutex_unlock(&s->lock);
  stop_finish(pool, mode);
  /* EALREADY if the user cancelled the future: the destroy went on. */
  (void)futures__gate_settle(done, 0, NULL);
  futures__record_unref(done);
  return NULL;
}

/* Starts destroy_main() on @pool, detached, with the pool's worker stack
 * size (tasks may run there when no worker is left). 0 or EAGAIN. */
static int
start_destroyer(struct futures_pool *pool)
{
  pthread_attr_t attr;
  pthread_t t;
  int rc = EAGAIN;

  if (pthread_attr_init(&attr) != 0)
    return EAGAIN;
  if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
      (pool->sched.stack_size == 0 ||
       pthread_attr_setstacksize(&attr, pool->sched.stack_size) == 0) &&
      futures__thread_create(&t, &attr, destroy_main, pool) == 0)
    rc = 0;
  pthread_attr_destroy(&attr);
  return rc;
}

int
futures_pool_destroy_async(futures_pool_t *pool, int mode, future_t **done)
{
  struct sched *s;
  struct future *f;
  int rc;

  if (done == NULL)
    return EINVAL;
  *done = NULL;
  if (pool == NULL || !mode_valid(mode))
    return EINVAL;
  /* Allocated first, so that ENOMEM leaves the pool untouched. */
  if ((f = futures__nopool_new(F_COMBINED)) == NULL)
    return ENOMEM;
  /* The pool's own tasks and timer thread may call this: the thread
   * below, not the caller, waits for them. */
  if ((rc = registry_claim(pool, 0)) != 0) {
    futures__record_unref(f);
    return rc;
  }
  futures__record_ref(f); /* the destroying thread's */
  pool->async_done = f;
  pool->async_mode = mode;
  pool->async_stopped = 0;
  if (start_destroyer(pool) != 0) {
    /* Nothing was done yet: the pool is as it was. */
    registry_add(pool);
    futures__record_unref(f);
    futures__record_unref(f);
    return EAGAIN;
  }
  s = &pool->sched;
  stop_begin(pool, mode);
  futures__mutex_lock(&s->lock);
  pool->async_stopped = 1;
  /* Wakes destroy_main(), which waits for the stop. */
  futures__cond_broadcast(&s->done);
  /* Our last touch of the pool: the thread may free it from now on. */
  futures__mutex_unlock(&s->lock);
  *done = f;
  return 0;
}

/* ------------------------------------------------------------ stats */

/* The end of the last field of the first version of the counters (0.1,
 * before the pinning fields): smaller is EINVAL; later fields are written
 * only when the caller's size holds them. */
#define STATS_SIZE_0 (offsetof(futures_stats_t, shutting_down) + sizeof(int))

static unsigned long long
load_counter(_Atomic(unsigned long long) *c)
{
  return atomic_load_explicit(c, memory_order_relaxed);
}

int
futures_pool_stats(futures_pool_t *pool, futures_stats_t *st)
{
  unsigned long long submitted, started, completed, cancelled;
  struct sched *s;

  if (pool == NULL || st == NULL || st->size < STATS_SIZE_0)
    return EINVAL;
  s = &pool->sched;
  /* Read the later counters first, so that a task moving along while we
   * read is counted in an earlier state, never in none. */
  completed = load_counter(&s->ext_completed);
  for (unsigned i = 0; i < s->nslots; i++)
    completed += load_counter(&s->slots[i].completed);
  cancelled = load_counter(&s->cancelled);
  started = load_counter(&s->ext_started);
  st->stolen = 0;
  st->helped = load_counter(&s->ext_helped);
  for (unsigned i = 0; i < s->nslots; i++) {
    started += load_counter(&s->slots[i].started);
    st->stolen += load_counter(&s->slots[i].stolen);
    st->helped += load_counter(&s->slots[i].helped);
  }
  submitted = load_counter(&s->ext_submitted);
  for (unsigned i = 0; i < s->nslots; i++)
    submitted += load_counter(&s->slots[i].submitted);
  for (struct producer *p = futures__sched_producers(s); p != NULL;
       p = p->next)
    submitted += futures__ring_pushed(&p->ring);
  st->workers = s->nworkers;
  st->submitted = submitted;
  st->completed = completed;
  st->cancelled = cancelled;
  st->queued = submitted > started + cancelled
                   ? (size_t)(submitted - started - cancelled)
                   : 0;
  st->running = started > completed ? (size_t)(started - completed) : 0;
  st->shutting_down =
      atomic_load_explicit(&s->stopping, memory_order_acquire) != STOP_NONE;
  /* Both or neither: an older program's struct ends at shutting_down, but
   * its sizeof includes the padding after it, where pin would fit. */
  if (HOLDS(st->size, futures_stats_t, ncpus)) {
    st->pin = s->pin;
    st->ncpus = s->nset;
  }
  return 0;
}

int
futures_pool_worker_cpu(futures_pool_t *pool, size_t index, int *cpu)
{
  struct sched *s;

  if (pool == NULL || cpu == NULL)
    return EINVAL;
  s = &pool->sched;
  if (s->gen != atomic_load_explicit(&futures__fork_gen, memory_order_relaxed))
    return ECHILD;
  if (index >= s->nworkers)
    return EINVAL;
  *cpu = s->pin == FUTURES_PIN_EACH ? s->cpus[index % s->ncpus] : -1;
  return 0;
}

/* ------------------------------------------------------------ trace */

int
futures_pool_trace_write(futures_pool_t *pool, int fd)
{
  if (pool == NULL || fd < 0 || pool->sched.trace == NULL)
    return EINVAL;
  if (pool->sched.gen !=
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed))
    return ECHILD;
  return futures__trace_write(&pool->sched, fd);
}
