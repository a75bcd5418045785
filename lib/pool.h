/* SPDX-License-Identifier: MIT */
/*
 * pool.h - the pool and its slots.
 *
 * A slot is a work-stealing deque plus counters. The first nworkers slots
 * belong to the worker threads for the pool's whole life. The others are
 * lent to outside threads while they run one of the pool's tasks in place
 * (a waiter that claimed the task it waits for): sub-tasks such a task
 * submits then go to a deque the workers steal from, exactly as if a worker
 * ran it.
 */
#ifndef FUTURES_POOL_H
#define FUTURES_POOL_H

#include "internal.h"
#include "queue.h"
#include "producer.h"

#define POOL_MAX_THREADS 4096

enum { STOP_NONE = 0, STOP_DRAIN = 1, STOP_CANCEL = 2 };

struct slot {
  struct deque dq;
  /* Immutable after create. */
  struct futures_pool *pool;
  unsigned index;
  int is_worker;
  pthread_t thread;
  /* Atomic: 1 while an outside thread holds this (non-worker) slot. */
  _Atomic int taken;
  /* Owner only (the worker, or the outside thread holding the slot). */
  uint64_t rng;
  /* Counters, written by the owner only (so a relaxed load and store, not
   * an atomic add) and read by futures_pool_stats(). */
  _Atomic unsigned long long submitted, started, completed, stolen, helped;
} FUTURES_ALIGNED;

struct futures_pool {
  /* Immutable after create. */
  unsigned nworkers, nslots;
  struct slot *slots;
  size_t max_queued;
  int overflow;
  unsigned flags;
  unsigned long gen; /* futures__fork_gen when created */
  unsigned long long id; /* unique for the life of the process */
  char name[16];

  /* Outside threads' submission rings (producer.c); the list only grows
   * until destroy, so workers walk it without a lock. */
  _Atomic(struct producer *) producers;
  /* The shared queue for records queued by threads that have no ring
   * (internal re-queueing, or a ring that could not grow). Never fails. */
  struct inject inj;

  /* Atomic; written rarely, read on every submit and dispatch. */
  _Atomic int stopping FUTURES_ALIGNED; /* STOP_* */
  /* Low 32 bits: parked workers holding no wake token (nidle - tokens);
   * high 32 bits: workers spinning before they park. One word, so that a
   * submitter decides with a single load whether anyone needs waking. */
  _Atomic uint64_t sleepers;
  _Atomic int room_waiters;    /* submitters blocked on a full queue */
  /* Atomic; outside threads running our tasks. Own cache line: every
   * helping episode writes it, and submitters read the line above. */
  _Atomic long helpers FUTURES_ALIGNED;

  /* Atomic; bounded pools only: tasks accepted and not yet claimed. */
  _Atomic long queued FUTURES_ALIGNED;

  /* Atomic counters for threads that hold no slot (relaxed: statistics). */
  _Atomic unsigned long long ext_submitted FUTURES_ALIGNED;
  _Atomic unsigned long long ext_started, ext_completed, ext_helped;
  _Atomic unsigned long long cancelled;

  /* Protected by lock. */
  pthread_mutex_t lock FUTURES_ALIGNED;
  pthread_cond_t wake;  /* workers: a token, drain's end, or a new epoch */
  pthread_cond_t room;  /* blocked submitters: room in the queue, or stop */
  pthread_cond_t done;  /* destroy: the drain has ended */
  unsigned nidle;       /* workers in park() */
  unsigned tokens;      /* wake-ups granted and not yet taken */
  unsigned long epoch;  /* bumped to make parked workers look again */
  int drained;          /* destroy may join the workers */
  int exit_now;         /* create failed: workers leave at once */
  unsigned started;     /* workers whose thread was created */
  size_t stack_size;    /* for replacement workers */

  /* Protected by registry_lock. */
  struct futures_pool *reg_next;
};

#define SPINNER_ONE (1ULL << 32)

/* Queue a record that another thread may run; wakes a worker if needed.
 * Never fails: without a slot it uses the shared fallback queue. */
void futures__pool_enqueue(struct futures_pool *pool, struct future *f);
/* Queue a pre-linked chain of @n records on the shared fallback queue. */
void futures__pool_inject(struct futures_pool *pool, struct future *first,
                          struct future *last, size_t n);
/* Queue and count @n fresh records submitted by the calling thread: its
 * deque if it runs one of the pool's tasks, else its submission ring (or
 * the fallback queue if the ring cannot be had). Never fails. */
void futures__pool_submit(struct futures_pool *pool, struct future *const f[],
                          size_t n);
/* After publishing work: wake a parked worker if one has no token and no
 * worker is spinning. The barrier on the parking side (worker.c) makes the
 * plain load here safe. */
void futures__pool_wake_after_publish(struct futures_pool *pool);
/* 1 if any queue of the pool holds a record (or one is being queued). */
int futures__pool_work_visible(struct futures_pool *pool);
/* The worker thread's body (worker.c). */
void *futures__worker_main(void *arg);
/* Thread exit / eviction: marks producer @p of pool @id unowned, if that
 * pool still exists. */
void futures__pool_disown_producer(unsigned long long id,
                                   struct producer *p);
/* Registry lock, for the producer bookkeeping above. */
struct futures_pool *futures__registry_find_locked(unsigned long long id);

/* Asymmetric barrier pair (worker.c). The light side is a compiler barrier
 * when the kernel offers membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), a
 * full fence otherwise; the heavy side is that system call (or a fence). */
void futures__barrier_init(void);
extern int futures__barrier_cheap;
static inline void
futures__light_barrier(void)
{
  if (likely(futures__barrier_cheap))
    atomic_signal_fence(memory_order_seq_cst);
  else
    atomic_thread_fence(memory_order_seq_cst);
}
void futures__heavy_barrier(void);

/* 1 if the calling thread is running one of @pool's tasks. */
int futures__pool_in_task(struct futures_pool *pool);

/* The calling thread's slot in @pool, or NULL. */
static inline struct slot *
futures__pool_my_slot(struct futures_pool *pool)
{
  struct slot *s = futures__tls.slot;

  return s != NULL && s->pool == pool ? s : NULL;
}

/*
 * Helping episodes: an outside thread (or a worker of another pool) that
 * wants to run one of @pool's queued tasks first enters the pool. Entering
 * publishes a hazard pointer, so the pool's memory cannot be freed under
 * it, then checks that @f is still queued (which proves the pool is alive),
 * counts the thread as a helper (drain waits for it) and lends it a slot if
 * one is free. Returns 0 if it could not enter.
 */
struct help_ctx {
  struct futures_pool *pool;
  struct slot *saved_slot;
  long saved_base;
  int took_slot;
  int pin;    /* -1: no episode (our own pool) */
  int active; /* entered and not yet exited */
};
int futures__help_enter(struct help_ctx *h, struct future *f);
void futures__help_exit(struct help_ctx *h);
/* Cleanup for a help_ctx variable: ends the episode if the thread unwinds
 * out of it (pthread_exit() in a task it ran). Declare the variable with
 * FUTURES_HELP_CTX so that the cleanup is attached. */
void futures__help_unwound(struct help_ctx *h);
#define FUTURES_HELP_CTX(name)                                                 \
  struct help_ctx name __attribute__((cleanup(futures__help_unwound))) = {     \
      NULL, NULL, 0, 0, -1, 0}

/*
 * Hazard pins: keep @pool's memory alive while the calling thread uses it
 * through a future it reached without the pool's help. futures__pin()
 * publishes the pin, then checks that @f is still QUEUED or DEFERRED
 * (which proves the pool has not finished draining, so destroy will see
 * the pin and wait for it). Returns a pin handle, or -1 if @f has started
 * or finished (then nothing is pinned).
 */
int futures__pin(struct futures_pool *pool, struct future *f);
void futures__unpin(int pin);
/* 1 if @pool is a pool of the parent of a fork() (we are the child). */
int futures__pool_is_stale(struct futures_pool *pool);

/* Bounded pools: a record left QUEUED (claimed or cancelled). */
void futures__pool_unqueued(struct futures_pool *pool);
/* Bounded pools: gives back @n reserved places, waking blocked submitters. */
void futures__pool_release_room(struct futures_pool *pool, size_t n);
/* Counts @n tasks accepted by the calling thread. */
void futures__pool_count_submits(struct futures_pool *pool, size_t n);
/* Counts a cancellation in the pool's statistics. */
void futures__pool_count_cancel(struct futures_pool *pool);
/* Counts a task started / completed by the calling thread. */
void futures__pool_count_start(struct futures_pool *pool, int helped);
void futures__pool_count_complete(struct futures_pool *pool);

/* Admission for submits (submit.c): ESHUTDOWN or ECHILD or 0. */
int futures__pool_admit(struct futures_pool *pool);

/* Runs tasks of the calling thread's own slot pushed since its current
 * task began (its descendants); 1 if one was run. */
int futures__pool_run_descendant(void);

/* The head of the pool's list of producers (acquire: their fields). */
static inline struct producer *
futures__pool_producers(struct futures_pool *pool)
{
  struct producer *p =
      atomic_load_explicit(&pool->producers, memory_order_acquire);

  FUTURES_HAPPENS_AFTER(&pool->producers);
  return p;
}

/* Relaxed increment of a counter that only the calling thread writes. */
static inline void
counter_inc(_Atomic unsigned long long *c)
{
  atomic_store_explicit(
      c, atomic_load_explicit(c, memory_order_relaxed) + 1,
      memory_order_relaxed);
}

#endif /* FUTURES_POOL_H */
