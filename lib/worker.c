/* SPDX-License-Identifier: MIT */
/*
 * worker.c - where tasks are queued and found: the workers' scheduling
 * loop, parking and waking, and helping episodes of outside threads.
 *
 * Queues. Each worker owns a work-stealing deque; a task submitted from
 * inside a task goes to the submitting thread's deque. A task submitted
 * from outside goes to the submitting thread's own ring (producer.c). A
 * worker looks in its deque (newest first), then takes a batch from one
 * ring into its deque, then looks at the shared fallback queue, then
 * steals (oldest first) from the other deques. When it finds nothing it
 * spins for a short while, yielding the CPU, and then parks on the pool's
 * condition variable.
 *
 * Waking without a fence on the submit path. A parking worker counts
 * itself in pool->sleepers, then issues the heavy barrier (a
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) system call, which makes
 * every running thread of the process execute a full memory barrier), then
 * looks for work one last time. A submitter publishes its task, then reads
 * pool->sleepers with a plain load after a compiler barrier. Whatever the
 * interleaving, either the worker's last look sees the task, or the
 * submitter's load sees the worker: the system call orders the submitter's
 * store before the look, or its load after the count. So the common submit
 * pays one load, and only the rare park pays the system call. Where the
 * kernel lacks membarrier, both sides use full fences instead.
 */
#include "future.h"
#include "pool.h"
#include "wait.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long an idle worker spins before it parks. */
#define IDLE_SPIN_NS 50000
/* Records a worker moves from one ring to its deque at once. */
#define TAKE_BATCH 32
/* Most records a thief takes from one deque at once (see steal_any). */
#define STEAL_BATCH 8

int futures__barrier_cheap;

void
futures__barrier_init(void)
{
#ifdef SYS_membarrier
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

  if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
              0) == 0)
    futures__barrier_cheap = 1;
#endif
}

void
futures__heavy_barrier(void)
{
#ifdef SYS_membarrier
  if (futures__barrier_cheap &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
    return;
#endif
  atomic_thread_fence(memory_order_seq_cst);
}

/* ------------------------------------------------------------ waking */

/* Hands one parked worker a wake token, if one is parked without one. */
static void
wake_one(struct futures_pool *pool)
{
  futures__mutex_lock(&pool->lock);
  if (pool->nidle > pool->tokens) {
    pool->tokens++;
    atomic_fetch_sub_explicit(&pool->sleepers, 1, memory_order_relaxed);
    /* Wakes one worker waiting in park() for a token. */
    futures__cond_signal(&pool->wake);
  }
  futures__mutex_unlock(&pool->lock);
}

/* Makes every parked worker look at the pool again. */
static void
poke(struct futures_pool *pool)
{
  futures__mutex_lock(&pool->lock);
  pool->epoch++;
  /* Wakes every worker in park(): the epoch changed. */
  futures__cond_broadcast(&pool->wake);
  futures__mutex_unlock(&pool->lock);
}

static int
needs_wake(uint64_t w)
{
  return (uint32_t)w != 0 && (w >> 32) == 0;
}

void
futures__pool_wake_after_publish(struct futures_pool *pool)
{
  futures__light_barrier();
  /* Relaxed: ordered by the barrier pair (see the top of this file). */
  if (unlikely(needs_wake(
          atomic_load_explicit(&pool->sleepers, memory_order_relaxed))))
    wake_one(pool);
}

int
futures__pool_work_visible(struct futures_pool *pool)
{
  struct producer *p;

  if (futures__inject_nonempty(&pool->inj))
    return 1;
  for (p = futures__pool_producers(pool);
       p != NULL; p = p->next)
    if (futures__producer_nonempty(p))
      return 1;
  for (unsigned i = 0; i < pool->nslots; i++)
    if (futures__deque_size(&pool->slots[i].dq) > 0)
      return 1;
  return 0;
}

/* ------------------------------------------------------------ queueing */

void
futures__pool_inject(struct futures_pool *pool, struct future *first,
                     struct future *last, size_t n)
{
#if FUTURES_ANNOTATE
  for (struct future *f = first;; f = atomic_load_explicit(
                                       &f->u.q.next, memory_order_relaxed)) {
    FUTURES_HAPPENS_BEFORE(&f->state); /* publication of the record */
    if (f == last)
      break;
  }
#endif
  (void)n;
  futures__inject_push(&pool->inj, first, last);
  futures__pool_wake_after_publish(pool);
}

void
futures__pool_enqueue(struct futures_pool *pool, struct future *f)
{
  struct slot *s = futures__pool_my_slot(pool);

  FUTURES_HAPPENS_BEFORE(&f->state); /* publication of the record */
  if (s != NULL && futures__deque_push(&s->dq, f) == 0)
    futures__pool_wake_after_publish(pool);
  else
    futures__pool_inject(pool, f, f, 1);
}

void
futures__pool_submit(struct futures_pool *pool, struct future *const f[],
                     size_t n)
{
  struct slot *s = futures__pool_my_slot(pool);
  struct producer *p;

#if FUTURES_ANNOTATE
  for (size_t i = 0; i < n; i++)
    FUTURES_HAPPENS_BEFORE(&f[i]->state); /* publication of the record */
#endif
  if (s != NULL) {
    futures__pool_count_submits(pool, n);
    for (size_t i = 0; i < n; i++)
      if (futures__deque_push(&s->dq, f[i]) != 0)
        futures__pool_inject(pool, f[i], f[i], 1);
    futures__pool_wake_after_publish(pool);
    return;
  }
  /* The ring's tail counts what goes through it. */
  p = futures__producer_get(pool);
  if (likely(p != NULL) && likely(futures__producer_push(p, f, n) == 0)) {
    futures__pool_wake_after_publish(pool);
    return;
  }
  /* No ring (out of memory): the fallback queue never fails. */
  futures__pool_count_submits(pool, n);
  for (size_t i = 0; i + 1 < n; i++)
    atomic_store_explicit(&f[i]->u.q.next, f[i + 1], memory_order_relaxed);
  futures__pool_inject(pool, f[0], f[n - 1], n);
}

/* ------------------------------------------------------------ helping */

int
futures__help_enter(struct help_ctx *h, struct future *f)
{
  struct futures_pool *pool = f->pool;
  struct futures_tls *tls = &futures__tls;

  h->pool = pool;
  h->saved_slot = tls->slot;
  h->saved_base = tls->base;
  h->took_slot = 0;
  h->pin = -1;
  h->active = 0;
  if (tls->slot != NULL && tls->slot->pool == pool)
    return 1; /* a worker of this pool, or already inside an episode */
  h->pin = futures__pin(pool, f);
  if (h->pin < 0)
    return 0;
  h->active = 1;
  /* Seq_cst: a parked worker deciding the drain has ended sees us. */
  atomic_fetch_add_explicit(&pool->helpers, 1, memory_order_seq_cst);
  tls->slot = NULL;
  for (unsigned i = pool->nworkers; i < pool->nslots; i++) {
    struct slot *s = &pool->slots[i];
    int free_ = 0;

    /* Acquire: the previous holder's deque and counter updates. */
    if (atomic_load_explicit(&s->taken, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&s->taken, &free_, 1,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      tls->slot = s;
      h->took_slot = 1;
      break;
    }
  }
  return 1;
}

void
futures__help_exit(struct help_ctx *h)
{
  struct futures_pool *pool = h->pool;
  struct futures_tls *tls = &futures__tls;

  if (!h->active)
    return;
  h->active = 0;
  if (h->took_slot) {
    struct slot *s = tls->slot;
    struct future *g;

    /* Sub-tasks nobody ran yet go to the shared queue. (Look first: a pop
     * writes the deque's bottom, which idle workers keep reading.) */
    while (futures__deque_size(&s->dq) > 0 &&
           (g = futures__deque_pop(&s->dq, 0)) != NULL)
      futures__pool_inject(pool, g, g, 1);
    atomic_store_explicit(&s->taken, 0, memory_order_release);
  }
  tls->slot = h->saved_slot;
  tls->base = h->saved_base;
  if (atomic_fetch_sub_explicit(&pool->helpers, 1, memory_order_seq_cst) ==
          1 &&
      atomic_load_explicit(&pool->stopping, memory_order_seq_cst) != STOP_NONE)
    poke(pool); /* a drain may have been waiting for us */
  futures__unpin(h->pin);
}

void
futures__help_unwound(struct help_ctx *h)
{
  futures__help_exit(h);
}

int
futures__pool_run_descendant(void)
{
  struct futures_tls *tls = &futures__tls;
  struct slot *s = tls->slot;
  struct future *f;

  /* After fork() in a task, the child's copy of this thread still names
   * the parent's slot: its entries belong to the parent. */
  if (s == NULL || unlikely(s->pool->gen != atomic_load_explicit(
                                                &futures__fork_gen,
                                                memory_order_relaxed)))
    return 0;
  /* Only entries pushed since the current task began: running an older
   * one could take a lock the current task holds. */
  f = futures__deque_pop(&s->dq, tls->current != NULL ? tls->base : 0);
  if (f == NULL)
    return 0;
  if (futures__future_claim(f))
    futures__future_execute(f, EXEC_QREF | EXEC_HELPED);
  else
    futures__future_unref(f);
  return 1;
}

/* ------------------------------------------------------------ workers */

/* Moves a batch of records into the worker's deque and returns the oldest
 * one: from a ring (round-robin over the rings), else from the fallback
 * queue. */
static struct future *
take_shared(struct slot *s)
{
  struct futures_pool *pool = s->pool;
  struct future *batch[TAKE_BATCH];
  struct producer *p;
  size_t n = 0;

  for (p = futures__pool_producers(pool);
       p != NULL && n == 0; p = p->next)
    n = futures__producer_take(p, batch, TAKE_BATCH);
  if (n == 0 && futures__inject_nonempty(&pool->inj) &&
      futures__inject_trylock(&pool->inj)) {
    while (n < TAKE_BATCH &&
           (batch[n] = futures__inject_pop(&pool->inj)) != NULL)
      n++;
    futures__inject_unlock(&pool->inj);
  }
  if (n == 0)
    return NULL;
  /* Newest first, so that our own pops take them in submission order. */
  for (size_t i = n - 1; i > 0; i--)
    if (futures__deque_push(&s->dq, batch[i]) != 0)
      futures__future_dispatch(batch[i]); /* could not grow: run it now */
  return batch[0];
}

static struct future *
steal_any(struct slot *s)
{
  struct futures_pool *pool = s->pool;
  unsigned n = pool->nslots, start, i;

  /* xorshift64: a cheap random starting victim per attempt. */
  s->rng ^= s->rng << 13;
  s->rng ^= s->rng >> 7;
  s->rng ^= s->rng << 17;
  start = (unsigned)(s->rng % n);
  for (i = 0; i < n; i++) {
    struct slot *v = &pool->slots[(start + i) % n];
    struct future *f, *g;
    long size, extra;
    int lost = 0;

    if (v == s || (size = futures__deque_size(&v->dq)) == 0)
      continue;
    f = futures__deque_steal(&v->dq, &lost);
    if (f == NULL)
      continue;
    counter_inc(&s->stolen);
    /*
     * Take up to half of what was there (at most STEAL_BATCH in all) into
     * our own deque, one ordinary steal at a time: the lines of the
     * victim's deque are in this cache now, and every later look at them
     * would pull them back from a producer that keeps writing them. Our
     * deque is empty here (we looked before stealing), so the pushes never
     * grow it; other thieves may take these in turn.
     */
    extra = size / 2 < STEAL_BATCH ? size / 2 - 1 : STEAL_BATCH - 1;
    while (extra-- > 0 && (g = futures__deque_steal(&v->dq, &lost)) != NULL) {
      counter_inc(&s->stolen);
      if (unlikely(futures__deque_push(&s->dq, g) != 0))
        futures__pool_inject(pool, g, g, 1);
    }
    return f;
  }
  return NULL;
}

/* The shared places (rings, fallback queue), then the other deques. */
static struct future *
look_elsewhere(struct slot *s)
{
  struct future *f = take_shared(s);

  return f != NULL ? f : steal_any(s);
}

/* Work came from a shared place: if a worker is parked and more is there,
 * wake it. It does the same when it finds work, so wake-ups spread in a
 * chain, each costing a system call only while someone is actually
 * asleep. */
static void
wake_chain(struct futures_pool *pool)
{
  if (needs_wake(atomic_load_explicit(&pool->sleepers, memory_order_relaxed)) &&
      futures__pool_work_visible(pool))
    wake_one(pool);
}

/* Own deque first (newest first), then elsewhere. */
static struct future *
find_work(struct slot *s)
{
  struct future *f = futures__deque_pop(&s->dq, 0);

  if (f == NULL && (f = look_elsewhere(s)) != NULL)
    wake_chain(s->pool);
  return f;
}

/* Parks until woken; 0 when the worker must exit. */
static int
park(struct slot *s)
{
  struct futures_pool *pool = s->pool;
  int ret = 1, took = 0;

  futures__mutex_lock(&pool->lock);
  pool->nidle++;
  atomic_fetch_add_explicit(&pool->sleepers, 1, memory_order_relaxed);
  /* See "Waking without a fence" at the top of this file. */
  futures__heavy_barrier();
  for (;;) {
    unsigned long epoch;

    if (pool->exit_now || pool->drained) {
      ret = 0;
      break;
    }
    /* A token means "one worker, go and look": take it before leaving for
     * any reason, or tokens would pile up with nobody asleep for them. */
    if (pool->tokens > 0) {
      pool->tokens--;
      took = 1;
      break;
    }
    if (futures__pool_work_visible(pool))
      break;
    if (atomic_load_explicit(&pool->stopping, memory_order_seq_cst) !=
            STOP_NONE &&
        pool->nidle == pool->started &&
        atomic_load_explicit(&pool->helpers, memory_order_seq_cst) == 0) {
      /* Every worker is parked, no queue holds work and no outside thread
       * runs one of our tasks: nothing can submit again. */
      pool->drained = 1;
      /* Wakes every parked worker so that it exits, and destroy, which
       * waits for the drain to end before it joins them. */
      futures__cond_broadcast(&pool->wake);
      futures__cond_signal(&pool->done);
      ret = 0;
      break;
    }
    epoch = pool->epoch;
    /* Predicate: a submitter granted a token, the drain ended, create
     * failed, or the epoch changed (destroy began, a helper left). */
    while (pool->tokens == 0 && !pool->drained && !pool->exit_now &&
           pool->epoch == epoch)
      futures__cond_wait(&pool->wake, &pool->lock);
  }
  pool->nidle--;
  /* A granted token was already taken off the sleepers count. */
  if (!took)
    atomic_fetch_sub_explicit(&pool->sleepers, 1, memory_order_relaxed);
  futures__mutex_unlock(&pool->lock);
  return ret;
}

/*
 * No work found: spin a while, then park. Returns work found while
 * spinning, or NULL with *@exit set when the worker must leave (else the
 * caller looks again). The spinner stays counted in pool->sleepers while
 * it tries for work it saw, so a failed try (another thread was quicker)
 * costs no write to that line; and it looks less often as the spin goes
 * on, since each look reads lines that submitters write.
 */
static struct future *
idle(struct slot *s, int *exit)
{
  struct futures_pool *pool = s->pool;
  long long limit = futures__now_ns() + IDLE_SPIN_NS;
  unsigned backoff = 1;
  struct future *f;

  atomic_fetch_add_explicit(&pool->sleepers, SPINNER_ONE,
                            memory_order_relaxed);
  for (unsigned i = 1;; i++) {
    if (futures__pool_work_visible(pool) &&
        ((f = futures__deque_pop(&s->dq, 0)) != NULL ||
         (f = look_elsewhere(s)) != NULL)) {
      atomic_fetch_sub_explicit(&pool->sleepers, SPINNER_ONE,
                                memory_order_relaxed);
      wake_chain(pool);
      return f;
    }
    for (unsigned k = 0; k < backoff; k++)
      futures__cpu_relax();
    if (backoff < 64)
      backoff *= 2;
    if ((i & 7) == 0) {
      if (futures__now_ns() >= limit)
        break;
      /* Let a runnable thread (a submitter, a waiter) have the CPU. */
      sched_yield();
    }
  }
  atomic_fetch_sub_explicit(&pool->sleepers, SPINNER_ONE,
                            memory_order_relaxed);
  *exit = !park(s);
  return NULL;
}

/*
 * A worker thread that exits inside a task (pthread_exit(), or a
 * cancellation) unwinds through futures__worker_main(): the task's future
 * has been finished (future.c, exec_unwound); here a new thread takes over
 * the slot, so the pool keeps its size. If none can be started the pool
 * goes on with one worker fewer.
 */
struct worker_guard {
  struct slot *s;
  int armed;
};

static void
worker_unwound(struct worker_guard *g)
{
  struct futures_pool *pool;
  pthread_attr_t attr;
  pthread_t t;
  int ok = 0;

  if (!g->armed)
    return;
  pool = g->s->pool;
  futures__tls.slot = NULL;
  /* The lock is held across the creation, so that the slot's handle is
   * published before the replacement could itself exit and publish its
   * own replacement (it needs this lock to do so); and a drain, which
   * also needs it, cannot end in between. Creating a thread takes tens of
   * microseconds, and this happens only when a task exits its thread. */
  futures__mutex_lock(&pool->lock);
  if (pthread_attr_init(&attr) == 0) {
    if (pool->stack_size == 0 ||
        pthread_attr_setstacksize(&attr, pool->stack_size) == 0)
      ok = futures__thread_create(&t, &attr, futures__worker_main, g->s) == 0;
    pthread_attr_destroy(&attr);
  }
  if (ok) {
    pthread_detach(pthread_self());
    g->s->thread = t; /* destroy joins the replacement */
  } else {
    pool->started--; /* destroy joins this exited thread instead */
  }
  pool->epoch++;
  /* Wakes every parked worker: the drain condition may have changed. */
  futures__cond_broadcast(&pool->wake);
  futures__mutex_unlock(&pool->lock);
}

void *
futures__worker_main(void *arg)
{
  struct slot *s = arg;
  struct worker_guard guard __attribute__((cleanup(worker_unwound))) = {s, 1};

#ifdef HAVE_PTHREAD_SETNAME_NP
  {
    char name[16];

    snprintf(name, sizeof(name), "%.9s-w%u", s->pool->name, s->index);
    pthread_setname_np(pthread_self(), name);
  }
#endif
  futures__tls.slot = s;
  for (;;) {
    struct future *f;

    /* A copy of this thread in a fork() child (a task forked) must not go
     * on running the parent's queues. */
    if (unlikely(s->pool->gen != atomic_load_explicit(&futures__fork_gen,
                                                      memory_order_relaxed)))
      break;
    f = find_work(s);
    if (f == NULL) {
      int exit = 0;

      f = idle(s, &exit);
      if (exit)
        break;
      if (f == NULL)
        continue;
    }
    futures__future_dispatch(f);
  }
  guard.armed = 0;
  futures__tls.slot = NULL;
  return NULL;
}
