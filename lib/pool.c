/* SPDX-License-Identifier: MIT */
/*
 * pool.c - pool lifecycle, the registry of live pools, hazard pins,
 * counters and statistics, and fork handling. The scheduling loop is in
 * worker.c.
 */
#include "future.h"
#include "pool.h"
#include "wait.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Initial deque capacity (it doubles as needed). */
#define DEQUE_INIT 256

#define HAZARDS 1024
#define HAZARD_BUCKETS 64

_Atomic unsigned long futures__fork_gen;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_init_rc;
static _Atomic unsigned long long next_pool_id = 1;

/* Protected by registry_lock: every pool not yet destroyed. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct futures_pool *registry;

/* Atomic: hazard pins (see futures__pin in pool.h). An entry holds the pool
 * one thread has pinned; when every entry is taken, a pin falls back to a
 * counter per bucket of pools. */
static _Atomic(struct futures_pool *) hazards[HAZARDS];
static _Atomic long overflow_pins[HAZARD_BUCKETS];
static FUTURES_TLS unsigned hazard_hint;

/* ------------------------------------------------------------ pins */

static unsigned
pool_bucket(const struct futures_pool *pool)
{
  return (unsigned)(((uintptr_t)pool / FUTURES_CACHELINE) % HAZARD_BUCKETS);
}

int
futures__pin(struct futures_pool *pool, struct future *f)
{
  unsigned start = hazard_hint, i, k;
  uint32_t s;
  int pin = -1;

  if (start == 0)
    start = (unsigned)(((uintptr_t)&futures__tls / 64) % HAZARDS);
  for (i = 0; i < HAZARDS; i++) {
    struct futures_pool *expect = NULL;

    k = (start + i) % HAZARDS;
    if (atomic_load_explicit(&hazards[k], memory_order_relaxed) == NULL &&
        atomic_compare_exchange_strong_explicit(&hazards[k], &expect, pool,
                                                memory_order_seq_cst,
                                                memory_order_relaxed)) {
      pin = (int)k;
      hazard_hint = k;
      break;
    }
  }
  if (pin < 0) {
    k = pool_bucket(pool);
    atomic_fetch_add_explicit(&overflow_pins[k], 1, memory_order_seq_cst);
    pin = HAZARDS + (int)k;
  }
  /* Seq_cst: either destroy's scan sees the pin, or this load sees that
   * the record left QUEUED/DEFERRED (every such transition happens before
   * the scan), in which case we must not use the pool. */
  s = atomic_load_explicit(&f->state, memory_order_seq_cst) & F_PHASE;
  if (s == F_QUEUED || s == F_DEFERRED)
    return pin;
  futures__unpin(pin);
  return -1;
}

void
futures__unpin(int pin)
{
  /* Release: our uses of the pool happen before destroy frees it. */
  if (pin < HAZARDS)
    atomic_store_explicit(&hazards[pin], NULL, memory_order_release);
  else
    atomic_fetch_sub_explicit(&overflow_pins[pin - HAZARDS], 1,
                              memory_order_release);
}

/* Destroy: wait until no thread has @pool pinned. Pins taken after the
 * drain fail their check at once, so this wait is short. */
static void
wait_unpinned(struct futures_pool *pool)
{
  for (;;) {
    int busy = atomic_load_explicit(&overflow_pins[pool_bucket(pool)],
                                    memory_order_seq_cst) != 0;

    for (unsigned k = 0; k < HAZARDS && !busy; k++)
      busy = atomic_load_explicit(&hazards[k], memory_order_seq_cst) == pool;
    if (!busy)
      return;
    sched_yield();
  }
}

int
futures__pool_in_task(struct futures_pool *pool)
{
  struct future *cur = futures__tls.current;

  return cur != NULL && cur->pool == pool;
}

int
futures__pool_admit(struct futures_pool *pool)
{
  /* Acquire: pairs with destroy's store, so a thread that sees STOP_* also
   * sees what destroy did before it. */
  int st = atomic_load_explicit(&pool->stopping, memory_order_acquire);
  unsigned long gen =
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);

  if (unlikely(pool->gen != gen))
    return ECHILD;
  if (likely(st == STOP_NONE))
    return 0;
  if (st == STOP_DRAIN && futures__pool_in_task(pool))
    return 0; /* sub-tasks of accepted work are part of the drain */
  return ESHUTDOWN;
}

/* ------------------------------------------------------------ counters */

void
futures__pool_unqueued(struct futures_pool *pool)
{
  futures__pool_release_room(pool, 1);
}

void
futures__pool_release_room(struct futures_pool *pool, size_t n)
{
  /* Seq_cst: pairs with a blocked submitter that registers in
   * room_waiters and then retries (submit.c). */
  atomic_fetch_sub_explicit(&pool->queued, (long)n, memory_order_seq_cst);
  if (atomic_load_explicit(&pool->room_waiters, memory_order_seq_cst) != 0) {
    futures__mutex_lock(&pool->lock);
    /* Wakes submitters blocked on a full queue. */
    futures__cond_broadcast(&pool->room);
    futures__mutex_unlock(&pool->lock);
  }
}

void
futures__pool_count_submits(struct futures_pool *pool, size_t n)
{
  struct slot *s = futures__pool_my_slot(pool);

  if (s != NULL)
    atomic_store_explicit(
        &s->submitted,
        atomic_load_explicit(&s->submitted, memory_order_relaxed) + n,
        memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&pool->ext_submitted, n, memory_order_relaxed);
}

void
futures__pool_count_cancel(struct futures_pool *pool)
{
  atomic_fetch_add_explicit(&pool->cancelled, 1, memory_order_relaxed);
}

void
futures__pool_count_start(struct futures_pool *pool, int helped)
{
  struct slot *s = futures__pool_my_slot(pool);

  if (s != NULL) {
    counter_inc(&s->started);
    if (helped)
      counter_inc(&s->helped);
  } else {
    atomic_fetch_add_explicit(&pool->ext_started, 1, memory_order_relaxed);
    if (helped)
      atomic_fetch_add_explicit(&pool->ext_helped, 1, memory_order_relaxed);
  }
}

void
futures__pool_count_complete(struct futures_pool *pool)
{
  struct slot *s = futures__pool_my_slot(pool);

  if (s != NULL)
    counter_inc(&s->completed);
  else
    atomic_fetch_add_explicit(&pool->ext_completed, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ lifecycle */

static void
atfork_prepare(void)
{
  futures__mutex_lock(&registry_lock);
  futures__alloc_atfork_prepare();
}

static void
atfork_parent(void)
{
  futures__alloc_atfork_parent();
  futures__mutex_unlock(&registry_lock);
}

static void
atfork_child(void)
{
  futures__alloc_atfork_child();
  futures__wait_atfork_child();
  futures__mutex_init(&registry_lock);
  futures__producer_forget_all();
  /* Every pool that exists now belongs to the parent. */
  atomic_fetch_add_explicit(&futures__fork_gen, 1, memory_order_relaxed);
}

static void
global_init(void)
{
  FUTURES_ATOMIC_VAR(hazards);
  FUTURES_ATOMIC_VAR(overflow_pins);
  FUTURES_ATOMIC_VAR(futures__fork_gen);
  FUTURES_ATOMIC_VAR(next_pool_id);
  futures__wait_init();
  futures__barrier_init();
  global_init_rc = futures__producer_init();
  if (global_init_rc == 0)
    global_init_rc = pthread_atfork(atfork_prepare, atfork_parent,
                                    atfork_child);
}

struct futures_pool *
futures__registry_find_locked(unsigned long long id)
{
  struct futures_pool *p;

  FUTURES_ASSERT_OWNER(&registry_lock);
  for (p = registry; p != NULL; p = p->reg_next)
    if (p->id == id)
      return p;
  return NULL;
}

void
futures__pool_disown_producer(unsigned long long id, struct producer *p)
{
  /* The registry lock keeps a live pool (and so its producers) from being
   * freed while we write; a pool already gone freed @p with itself. */
  futures__mutex_lock(&registry_lock);
  if (futures__registry_find_locked(id) != NULL) {
    FUTURES_HAPPENS_BEFORE(&p->owned);
    /* Release: our producer-side writes happen before the adopter's. */
    atomic_store_explicit(&p->owned, 0, memory_order_release);
  }
  futures__mutex_unlock(&registry_lock);
}

int
futures__pool_is_stale(struct futures_pool *pool)
{
  unsigned long gen =
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  struct futures_pool *p;
  int stale = 0;

  /* Only pools in the registry are read: a pool created and destroyed in
   * this process may be gone. Pools of the parent are never freed in the
   * child (destroy refuses them), so reading them is safe. */
  futures__mutex_lock(&registry_lock);
  for (p = registry; p != NULL; p = p->reg_next)
    if (p == pool) {
      stale = p->gen != gen;
      break;
    }
  futures__mutex_unlock(&registry_lock);
  return stale;
}

static size_t
cpu_count(void)
{
  cpu_set_t set;
  long n;

  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return (size_t)CPU_COUNT(&set);
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

static int
opts_read(futures_pool_opts_t *o, const futures_pool_opts_t *opts)
{
  futures_pool_opts_t dflt = FUTURES_POOL_OPTS_INIT;

  *o = dflt;
  if (opts != NULL) {
    if (opts->size < sizeof(futures_pool_opts_t))
      return EINVAL;
    memcpy(o, opts, sizeof(*o));
    o->size = sizeof(*o);
  }
  if (o->nthreads > POOL_MAX_THREADS)
    return EINVAL;
  if (o->overflow != FUTURES_OVERFLOW_FAIL &&
      o->overflow != FUTURES_OVERFLOW_BLOCK &&
      o->overflow != FUTURES_OVERFLOW_CALLER_RUNS)
    return EINVAL;
  if ((o->flags & ~FUTURES_POOL_TIMING) != 0)
    return EINVAL;
  if (o->stack_size != 0 && o->stack_size < 16384)
    return EINVAL;
  return 0;
}

/* Frees what pool_alloc() made; the threads are gone. */
static void
pool_free(struct futures_pool *pool)
{
  struct producer *p, *next;

  for (p = futures__pool_producers(pool);
       p != NULL; p = next) {
    next = p->next;
    futures__producer_free(p);
  }
  if (pool->slots != NULL) {
    for (unsigned i = 0; i < pool->nslots; i++)
      futures__deque_fini(&pool->slots[i].dq);
    FUTURES_PLAIN_RANGE(pool->slots, pool->nslots * sizeof(struct slot));
    futures__free(pool->slots);
  }
  futures__cond_destroy(&pool->done);
  futures__cond_destroy(&pool->room);
  futures__cond_destroy(&pool->wake);
  futures__mutex_destroy(&pool->lock);
  FUTURES_PLAIN_RANGE(pool, sizeof(*pool)); /* libc may reuse it */
  futures__free(pool);
}

static struct futures_pool *
pool_alloc(const futures_pool_opts_t *o)
{
  size_t n = o->nthreads != 0 ? o->nthreads : cpu_count();
  struct futures_pool *pool;
  void *mem;

  mem = futures__aligned_malloc(sizeof(*pool));
  if (mem == NULL)
    return NULL;
  pool = mem;
  memset(pool, 0, sizeof(*pool));
  FUTURES_ATOMIC_VAR(pool->producers);
  FUTURES_ATOMIC_VAR(pool->stopping);
  FUTURES_ATOMIC_VAR(pool->sleepers);
  FUTURES_ATOMIC_VAR(pool->helpers);
  FUTURES_ATOMIC_VAR(pool->room_waiters);
  FUTURES_ATOMIC_VAR(pool->queued);
  FUTURES_ATOMIC_VAR(pool->ext_submitted);
  FUTURES_ATOMIC_VAR(pool->ext_started);
  FUTURES_ATOMIC_VAR(pool->ext_completed);
  FUTURES_ATOMIC_VAR(pool->ext_helped);
  FUTURES_ATOMIC_VAR(pool->cancelled);
  pool->nworkers = (unsigned)n;
  pool->nslots = (unsigned)(n < 2 ? n + 2 : 2 * n);
  pool->max_queued = o->max_queued;
  pool->overflow = o->overflow;
  pool->flags = o->flags;
  pool->stack_size = o->stack_size;
  pool->gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  pool->id = atomic_fetch_add_explicit(&next_pool_id, 1, memory_order_relaxed);
  snprintf(pool->name, sizeof(pool->name), "%s",
           o->name != NULL ? o->name : "futures");
  futures__inject_init(&pool->inj);
  futures__mutex_init(&pool->lock);
  futures__cond_init(&pool->wake);
  futures__cond_init(&pool->room);
  futures__cond_init(&pool->done);
  pool->slots = futures__aligned_malloc(pool->nslots * sizeof(struct slot));
  if (pool->slots == NULL)
    goto fail;
  memset(pool->slots, 0, pool->nslots * sizeof(struct slot));
  for (unsigned i = 0; i < pool->nslots; i++) {
    struct slot *s = &pool->slots[i];

    FUTURES_ATOMIC_VAR(s->taken);
    FUTURES_ATOMIC_VAR(s->submitted);
    FUTURES_ATOMIC_VAR(s->started);
    FUTURES_ATOMIC_VAR(s->completed);
    FUTURES_ATOMIC_VAR(s->stolen);
    FUTURES_ATOMIC_VAR(s->helped);
    s->pool = pool;
    s->index = i;
    s->is_worker = i < pool->nworkers;
    s->rng = 0x9e3779b97f4a7c15ULL * (i + 1);
    if (futures__deque_init(&s->dq, DEQUE_INIT) != 0) {
      pool->nslots = i; /* only these have a deque to free */
      goto fail;
    }
  }
  return pool;
fail:
  pool_free(pool);
  return NULL;
}

/* Tells the started workers to leave and joins them (create failed). */
static void
stop_started(struct futures_pool *pool)
{
  futures__mutex_lock(&pool->lock);
  pool->exit_now = 1;
  /* Wakes every parked worker: it must exit. */
  futures__cond_broadcast(&pool->wake);
  futures__mutex_unlock(&pool->lock);
  for (unsigned i = 0; i < pool->started; i++)
    pthread_join(pool->slots[i].thread, NULL);
}

static int
start_workers(struct futures_pool *pool, size_t stack_size)
{
  pthread_attr_t attr;
  int rc = 0;

  if (pthread_attr_init(&attr) != 0)
    return ENOMEM;
  if (stack_size != 0 && pthread_attr_setstacksize(&attr, stack_size) != 0)
    rc = EINVAL;
  for (unsigned i = 0; rc == 0 && i < pool->nworkers; i++) {
    if (futures__thread_create(&pool->slots[i].thread, &attr,
                               futures__worker_main,
                               &pool->slots[i]) != 0) {
      rc = EAGAIN;
      break;
    }
    futures__mutex_lock(&pool->lock);
    pool->started++;
    futures__mutex_unlock(&pool->lock);
  }
  pthread_attr_destroy(&attr);
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
  rc = start_workers(pool, o.stack_size);
  if (rc != 0) {
    stop_started(pool);
    pool_free(pool);
    return rc;
  }
  futures__mutex_lock(&registry_lock);
  pool->reg_next = registry;
  registry = pool;
  futures__mutex_unlock(&registry_lock);
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

/* Removes @pool from the registry: 0, EINVAL if unknown, ECHILD if it
 * belongs to the parent of a fork (then it stays). */
static int
registry_remove(struct futures_pool *pool)
{
  unsigned long gen =
      atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  struct futures_pool **p;
  int rc = EINVAL;

  futures__mutex_lock(&registry_lock);
  for (p = &registry; *p != NULL; p = &(*p)->reg_next) {
    if (*p == pool) {
      if (pool->gen != gen) {
        rc = ECHILD;
      } else {
        *p = pool->reg_next;
        rc = 0;
      }
      break;
    }
  }
  futures__mutex_unlock(&registry_lock);
  return rc;
}

int
futures_pool_destroy_ex(futures_pool_t *pool, int mode)
{
  int rc;

  if (pool == NULL ||
      (mode != FUTURES_DESTROY_DRAIN && mode != FUTURES_DESTROY_CANCEL))
    return EINVAL;
  if (atomic_load_explicit(&futures__fork_gen, memory_order_relaxed) != 0 &&
      futures__pool_is_stale(pool))
    return ECHILD; /* the parent's pool: leave it alone */
  if (futures__pool_my_slot(pool) != NULL || futures__pool_in_task(pool))
    return EDEADLK;
  if ((rc = registry_remove(pool)) != 0)
    return rc;
  /* Seq_cst: parked workers and helpers see it (see park()). */
  atomic_store_explicit(&pool->stopping,
                        mode == FUTURES_DESTROY_CANCEL ? STOP_CANCEL
                                                       : STOP_DRAIN,
                        memory_order_seq_cst);
  futures__mutex_lock(&pool->lock);
  pool->epoch++;
  /* Wakes every parked worker (to drain, then detect the end) and every
   * blocked submitter (to return ESHUTDOWN). */
  futures__cond_broadcast(&pool->wake);
  futures__cond_broadcast(&pool->room);
  /* Wait for the drain to end before reading the thread handles: until
   * then a task may exit its worker, which is then replaced (a new handle
   * in its slot, the old thread detached). Predicate: the last worker to
   * park found nothing left and set drained (it signals done). */
  while (!pool->drained)
    futures__cond_wait(&pool->done, &pool->lock);
  futures__mutex_unlock(&pool->lock);
  for (unsigned i = 0; i < pool->nworkers; i++)
    pthread_join(pool->slots[i].thread, NULL);
  /* Blocked submitters still inside submit must leave before the free. */
  futures__mutex_lock(&pool->lock);
  while (atomic_load_explicit(&pool->room_waiters, memory_order_relaxed) != 0)
    futures__cond_wait(&pool->room, &pool->lock); /* predicate: none left */
  futures__mutex_unlock(&pool->lock);
  wait_unpinned(pool);
  pool_free(pool);
  return 0;
}

int
futures_pool_destroy(futures_pool_t *pool)
{
  return futures_pool_destroy_ex(pool, FUTURES_DESTROY_DRAIN);
}

static unsigned long long
load_counter(_Atomic unsigned long long *c)
{
  return atomic_load_explicit(c, memory_order_relaxed);
}

int
futures_pool_stats(futures_pool_t *pool, futures_stats_t *st)
{
  unsigned long long submitted, started, completed, cancelled;

  if (pool == NULL || st == NULL || st->size < sizeof(futures_stats_t))
    return EINVAL;
  /* Read the later counters first, so that a task moving along while we
   * read is counted in an earlier state, never in none. */
  completed = load_counter(&pool->ext_completed);
  for (unsigned i = 0; i < pool->nslots; i++)
    completed += load_counter(&pool->slots[i].completed);
  cancelled = load_counter(&pool->cancelled);
  started = load_counter(&pool->ext_started);
  st->stolen = 0;
  st->helped = load_counter(&pool->ext_helped);
  for (unsigned i = 0; i < pool->nslots; i++) {
    started += load_counter(&pool->slots[i].started);
    st->stolen += load_counter(&pool->slots[i].stolen);
    st->helped += load_counter(&pool->slots[i].helped);
  }
  submitted = load_counter(&pool->ext_submitted);
  for (unsigned i = 0; i < pool->nslots; i++)
    submitted += load_counter(&pool->slots[i].submitted);
  for (struct producer *p =
           futures__pool_producers(pool);
       p != NULL; p = p->next)
    submitted += futures__producer_pushed(p);
  st->workers = pool->nworkers;
  st->submitted = submitted;
  st->completed = completed;
  st->cancelled = cancelled;
  st->queued = submitted > started + cancelled
                   ? (size_t)(submitted - started - cancelled)
                   : 0;
  st->running = started > completed ? (size_t)(started - completed) : 0;
  st->shutting_down =
      atomic_load_explicit(&pool->stopping, memory_order_acquire) !=
      STOP_NONE;
  return 0;
}
