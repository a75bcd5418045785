/* SPDX-License-Identifier: MIT */
/*
 * scheduler.h - layer 3: the scheduler of one pool. scheduler.c is the one file
 * that knows where a record goes and where a worker finds work; its top
 * comment tells the life of a task.
 */
#ifndef FUTURES_SCHEDULER_H
#define FUTURES_SCHEDULER_H

#include "deque.h"
#include "frame.h"
#include "inject.h"
#include "record.h"
#include "ring.h"

#define SCHED_MAX_THREADS 4096

enum { STOP_NONE = 0, STOP_DRAIN = 1, STOP_CANCEL = 2 };

/*
 * A slot is a work-stealing deque plus counters. The first nworkers slots
 * belong to the worker threads for the pool's whole life. The others are
 * lent to outside threads while they run one of the pool's tasks in place
 * (help.c): sub-tasks such a task submits then go to a deque the workers
 * steal from, exactly as if a worker ran it.
 */
struct slot {
  struct deque dq;
  /* Immutable after create. */
  struct sched *sched;
  unsigned index;
  int is_worker;
  /* Protected by sched->lock (a replacement worker rewrites it). */
  pthread_t thread;
  /* Atomic: 1 while an outside thread holds this (non-worker) slot. */
  _Atomic(int) taken;
  /* Owner only (the worker, or the outside thread holding the slot). */
  uint64_t rng;             /* picks steal victims */
  struct producer *cursor;  /* the ring taken from last */
  unsigned tick;            /* alternates rings and the injection queue */
  /* Counters, written by the owner only (so a relaxed load and store, not
   * an atomic add) and read by futures_pool_stats(). */
  _Atomic(unsigned long long) submitted, started, completed, stolen, helped;
  /* The frames of futures_spawn() by the slot's thread (frame.h). */
  struct fdeque fq;
} FUTURES_ALIGNED;

/*
 * An outside thread's submission ring in one pool. References: one held by
 * the pool (its list of producers), one by the owning thread while it owns
 * it; the last to let go frees it, so a thread that exits after the pool
 * was destroyed, or a destroy after the thread exited, frees it safely.
 */
struct producer {
  struct ring ring;
  /* Atomic; written by the owner: 1 from just before it reads
   * sched->stopping until its records are published (see "Admission" in
   * scheduler.c). Own cache line. */
  _Atomic(int) admitting FUTURES_ALIGNED;
  /* Atomic: 1 while a live thread owns the producer side. */
  _Atomic(int) owned;
  /* Atomic: 1 once the pool is destroyed (only its owner holds it then). */
  _Atomic(int) orphaned;
  _Atomic(int) refs;
  /* Immutable once in the pool's list. */
  struct producer *next;
};

struct sched {
  /* Immutable after create. */
  unsigned nworkers, nslots;
  struct slot *slots;
  size_t max_queued;
  int overflow;
  unsigned flags;
  unsigned long gen;     /* futures__fork_gen when created */
  unsigned long long id; /* unique for the life of the process */
  size_t stack_size;     /* for worker threads */
  char name[16];         /* worker thread name prefix */
  /* Atomic: 1 once a task of a priority other than normal was submitted
   * (set once; read relaxed on every look for work: "Priorities" in
   * scheduler.c). */
  _Atomic(int) prio_seen;
  struct trace *trace;   /* FUTURES_POOL_TRACE: the timeline, else NULL */

  /* Outside threads' submission rings; the list only grows until destroy,
   * so workers walk it without a lock. */
  _Atomic(struct producer *) producers;
  /* The injection queue (inject.h). Never fails. */
  struct inject inj;

  /* Atomic; written rarely, read on every submit and dispatch. */
  _Atomic(int) stopping FUTURES_ALIGNED; /* STOP_* */
  /* Parked workers holding no wake token (nidle - tokens). A submitter
   * reads it after every publication; it changes only when a worker parks
   * or is woken, so it shares the line that every submit reads anyway. */
  _Atomic(uint64_t) sleepers;
  _Atomic(int) room_waiters; /* submitters blocked on a full queue */
  /* Workers spinning before they park. Own cache line: a worker enters
   * and leaves the spin as often as once per task, and these writes must
   * not take sleepers' and stopping's line from the submitters, which
   * read spinners only while a worker is parked. */
  _Atomic(uint32_t) spinners FUTURES_ALIGNED;
  /* Atomic; threads that may still add or settle work without being a
   * worker: outside threads running our tasks or cancelling them (help.c)
   * and slow-path submitters (futures__sched_enter). The drain cannot end
   * while either is non-zero. Own cache line: every helping episode
   * writes it. */
  _Atomic(long) helpers FUTURES_ALIGNED;
  _Atomic(long) entering;

  /* Atomic; bounded pools only: places reserved by records accepted and
   * not yet claimed (queued, or deferred continuations). */
  _Atomic(long) queued FUTURES_ALIGNED;

  /* Atomic counters for threads that hold no slot (relaxed: statistics). */
  _Atomic(unsigned long long) ext_submitted FUTURES_ALIGNED;
  _Atomic(unsigned long long) ext_started, ext_completed, ext_helped;
  _Atomic(unsigned long long) cancelled;

  /* Protected by lock. */
  pthread_mutex_t lock FUTURES_ALIGNED;
  pthread_cond_t wake;  /* workers: a token, the drain's end, a new epoch */
  pthread_cond_t room;  /* blocked submitters: room in the queue, or stop */
  pthread_cond_t done;  /* destroy: the drain has ended, or a helper left;
                         * create: a worker ran its start hook (worker.c) */
  unsigned nidle;       /* workers in park() */
  unsigned tokens;      /* wake-ups granted and not yet taken */
  unsigned long epoch;  /* bumped to make parked workers look again */
  int admission_closed; /* destroy: no outside submitter is mid-submit */
  int drained;          /* every accepted task has finished */
  int exit_now;         /* create failed: workers leave at once */
  unsigned started;     /* workers whose thread exists */

  /* The queues of high and low priority tasks (PQ_HIGH, PQ_LOW), FIFOs
   * linked through u.q.next. pq_len is atomic, written under plock and
   * read without it to see whether a queue holds work; passed is atomic
   * (relaxed: the aging counts, see "Priorities" in scheduler.c). */
  _Atomic(long) pq_len[2] FUTURES_ALIGNED;
  _Atomic(unsigned) passed[2]; /* [0]: a normal task, [1]: a low one */
  pthread_mutex_t plock;
  struct future *pq_head[2], *pq_tail[2]; /* protected by plock */

  /* Records of this pool waiting on a future from outside it (foreign.c).
   * Protected by flock. */
  pthread_mutex_t flock FUTURES_ALIGNED;
  pthread_cond_t fcond;  /* destroy: a callback it waits for has met it */
  struct foreign *fhead; /* the waits, newest first */
  int fclosed;           /* destroy has taken the list */

  /* Worker hooks and CPU pinning (worker.c). Immutable after create; cpus
   * (pin != FUTURES_PIN_NONE) is pool.c's allocation. */
  futures_worker_start_fn worker_start;
  futures_worker_exit_fn worker_exit;
  void *worker_arg;
  int pin;
  int *cpus;
  unsigned ncpus;
  unsigned nset; /* distinct CPUs in cpus (futures_stats_t.ncpus) */
  /* Protected by lock: create waits until every started worker has run its
   * start hook (hooks_reported == started); hook_rc is the code of the
   * lowest-indexed one that failed (hook_index), 0 if none. creating is 1
   * until create has seen them all: a start hook that fails later is a
   * replacement's. */
  unsigned hooks_reported, hook_index;
  int hook_rc;
  int creating;
};

enum { PQ_HIGH = 0, PQ_LOW = 1 };

/* ---- life cycle (called by pool.c) */

/* Initialises @s for @nworkers workers (0 or ENOMEM; on failure
 * futures__sched_fini() undoes what was done). */
int futures__sched_init(struct sched *s, unsigned nworkers);
void futures__sched_fini(struct sched *s);
/* The per-process setup the scheduler needs (once). 0, or an errno. */
int futures__sched_global_init(void);
/* fork() child: this thread's rings belong to the parent's pools. */
void futures__sched_atfork_child(void);

/*
 * Destroy, step 1: refuses new outside submits with ESHUTDOWN (@mode
 * STOP_DRAIN or STOP_CANCEL), waits until no outside submitter is between
 * its admission and its publication, and wakes every parked worker.
 * Step 2, futures__sched_wait_drained(): returns once every accepted task
 * has run or been cancelled and nothing can add work again. When the pool
 * has no worker left (every one exited and none could be replaced), the
 * calling thread runs what is left itself (@run_here).
 */
void futures__sched_stop(struct sched *s, int mode);
void futures__sched_wait_drained(struct sched *s,
                                 void (*run_here)(struct sched *));

/* ---- where a record goes */

/*
 * Admission of submits, so that a submit racing destroy either returns
 * ESHUTDOWN or its task runs before destroy returns. Between
 * futures__sched_admit() and futures__sched_admit_end() the caller may
 * use the pool however destroy goes: destroy waits for it. Admission
 * returns 0, ESHUTDOWN or ECHILD; whatever it returns, the caller ends it
 * with futures__sched_admit_end(), and touches the pool no more after
 * that. Threads running one of the pool's tasks are admitted during a
 * drain (their sub-tasks are part of it) and need no counting: their
 * task keeps the drain from ending.
 */
struct admission {
  struct producer *p; /* the caller's ring, marked admitting, or NULL */
  int entered;        /* counted in sched->entering instead */
};
int futures__sched_admit(struct sched *s, struct admission *a);
void futures__sched_admit_end(struct sched *s, struct admission *a);
/* Turns an admission into a count in sched->entering, which the drain
 * waits for without spinning (for a caller about to run tasks itself). */
void futures__sched_admit_hold(struct sched *s, struct admission *a);

/* Queues @n fresh records submitted by the calling thread, admitted with
 * @a, in order, and wakes a worker if needed: its deque if it runs one of
 * the pool's tasks, else its ring (else the injection queue). Never fails;
 * the admission stays open. */
void futures__sched_submit(struct sched *s, struct admission *a,
                           struct future *const f[], size_t n);

/* Queues fresh record @f of priority @prio (FUTURES_PRIORITY_HIGH or _LOW)
 * on the pool's queue of that level, and wakes a worker if needed. Only
 * from a thread with no slot in @s (a task's sub-tasks go through
 * futures__sched_submit() whatever their level). Never fails; the
 * admission stays open. */
void futures__sched_submit_prio(struct sched *s, struct future *f, int prio);

/* Queues a record that some thread must run (a continuation that became
 * ready, a record handed back): the caller's deque if it has one in this
 * pool, else the injection queue. Never fails. Only from a thread that keeps
 * the drain from ending (a worker, a helper, an entered thread). */
void futures__sched_push(struct sched *s, struct future *f);

/* The calling thread's ring in @s if it has one (never registers); NULL
 * otherwise. For taking its own submissions back (help.c). */
struct ring *futures__sched_my_ring(struct sched *s);

/* A thread leaving a borrowed slot: queues what is left in its deque on
 * the injection queue, where the workers find it. */
void futures__sched_hand_back(struct slot *sl);

/* Counts the caller in sched->entering, so that the drain cannot end until
 * futures__sched_leave(); the caller must know the pool is alive (it is
 * admitted, or holds a handle the user guarantees). Leaving is the
 * caller's last touch of the pool. */
void futures__sched_enter(struct sched *s);
void futures__sched_leave(struct sched *s);

/* ---- where a worker finds work (worker.c) */

/* Own deque (newest first), then one record from a ring or the
 * injection queue (oldest first), then a steal. NULL if nothing was found.
 * Once the pool has seen priorities: the high queue first and the low
 * queue last, with aging ("Priorities" in scheduler.c). */
struct future *futures__sched_find(struct slot *me);
/* No work: spins a while, then parks. Returns work, or NULL with *@exit
 * set when the worker must leave (else the caller looks again). */
struct future *futures__sched_idle(struct slot *me, int *exit);
/* Runs tasks of the calling thread's own slot pushed since its current
 * task began (its descendants) through @run; 1 if one was run. */
int futures__sched_run_descendant(int (*run)(struct future *f));
/* A worker found no record: steals a shared frame of another slot and
 * runs it; 1 if it ran one (it asks every owner to share otherwise). */
int futures__sched_steal_frame(struct slot *me);
/* The owner of @q shared frames (futures__frame_grow(),
 * futures__frame_share_all()): wakes a parked worker if one sleeps without
 * a token and none spins; if workers are still idle after that, asks @q
 * again (its next spawn or sync shares more: one share serves one idle
 * worker's request, and each idle worker asked only once). */
void futures__sched_frames_published(struct sched *s, struct fdeque *q);
/* 1 in a fork() child for a pool of the parent (its workers are not
 * here). */
static inline int
futures__sched_stale(struct sched *s)
{
  return unlikely(futures__forked()) &&
         s->gen != atomic_load_explicit(&futures__fork_gen,
                                        memory_order_relaxed);
}
/* Any thread: takes one queued record from anywhere in @s, for a thread
 * that drains a pool with no worker left; NULL when none is visible. */
struct future *futures__sched_take_any(struct sched *s);
/* 1 if any queue of @s holds a record (or one is being queued). */
int futures__sched_work_visible(struct sched *s);

/* ---- workers coming and going (worker.c) */

/* A worker thread exited inside a task: @t replaces it in @slot (0: none
 * could be started). Wakes parked workers, since the drain may be over. */
void futures__sched_worker_replaced(struct slot *slot, int ok, pthread_t t);
/* A helper (help.c) left: wakes parked workers and destroy if the pool is
 * stopping, since the drain may be over. */
void futures__sched_poke(struct sched *s);

/* ---- the calling thread and the pool */

/* The calling thread's slot in @s, or NULL. */
static inline struct slot *
futures__sched_my_slot(struct sched *s)
{
  struct slot *sl = futures__tls.slot;

  return sl != NULL && sl->sched == s ? sl : NULL;
}

/* 1 if the calling thread is running one of @s's tasks. */
static inline int
futures__sched_in_task(struct sched *s)
{
  struct future *cur = futures__tls.current;

  return cur != NULL && cur->sched == s;
}

/* ---- bounded pools and counters */

/* Reserves @n places if they are free now; 1 if it did. */
int futures__sched_try_reserve(struct sched *s, size_t n);
/* Gives back @n reserved places, waking blocked submitters. */
void futures__sched_release_room(struct sched *s, size_t n);
/* Counts @n tasks accepted by the calling thread (not through a ring). */
void futures__sched_count_submits(struct sched *s, size_t n);
/* Counts a cancellation in the pool's statistics. */
void futures__sched_count_cancel(struct sched *s);

/* The head of the pool's list of producers (acquire: their fields). */
static inline struct producer *
futures__sched_producers(struct sched *s)
{
  struct producer *p = atomic_load_explicit(&s->producers,
                                            memory_order_acquire);

  FUTURES_HAPPENS_AFTER(&s->producers);
  return p;
}

/* Relaxed increment of a counter that only the calling thread writes. */
static inline void
counter_inc(_Atomic(unsigned long long) *c)
{
  atomic_store_explicit(
      c, atomic_load_explicit(c, memory_order_relaxed) + 1,
      memory_order_relaxed);
}

/* Counts a task started / completed by the calling thread (inline: every
 * task does both). */
static inline void
futures__sched_count_start(struct sched *s, int helped)
{
  struct slot *sl = futures__sched_my_slot(s);

  if (sl != NULL) {
    counter_inc(&sl->started);
    if (helped)
      counter_inc(&sl->helped);
  } else {
    atomic_fetch_add_explicit(&s->ext_started, 1, memory_order_relaxed);
    if (helped)
      atomic_fetch_add_explicit(&s->ext_helped, 1, memory_order_relaxed);
  }
}

static inline void
futures__sched_count_complete(struct sched *s)
{
  struct slot *sl = futures__sched_my_slot(s);

  if (sl != NULL)
    counter_inc(&sl->completed);
  else
    atomic_fetch_add_explicit(&s->ext_completed, 1, memory_order_relaxed);
}

#endif /* FUTURES_SCHEDULER_H */
