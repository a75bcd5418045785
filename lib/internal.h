/* SPDX-License-Identifier: MIT */
/*
 * internal.h - the base layer: what every file in lib/ may use.
 *
 * Layers. Each file uses only the files below it; a lower layer that must
 * tell an upper one something calls a function pointer it was handed.
 *
 *   6. pool.c                  pool lifecycle, registry, fork, statistics
 *   5. submit.c future.c join.c then.c parallel.c     the public API
 *      spawn.c                 fork-join on caller-owned frames
 *      promise.c notifier.c    futures with no task; delivery into loops
 *      combine.c               combinators that return futures
 *      completion.c            as-completed iteration over a set of futures
 *      deadline.c error.c      futures_deadline_in(), futures_strerror()
 *   4. wait.c help.c           waiting for futures; helping
 *   3. worker.c                worker threads
 *      gate.c                  the one gate that runs or settles a record
 *      init.c                  once-per-process set-up, fork handlers
 *      scheduler.c                 where a record goes, where work is found,
 *                              parking and waking, the drain
 *      trace.c                 a traced pool's rings and its JSON
 *   2. deque.c inject.c ring.c the three queues
 *      frame.c                 the frame deque of futures_spawn()
 *      pin.c                   hazard pins that keep a pool's memory alive
 *   1. record.c                the future record: state word, references,
 *                              outcome, waiter lists and wait groups
 *   0. sync.c base.c alloc.c   locks, clocks, deadlines, memory, this
 *                              header and atomics.h
 *
 * Lock order, outermost first. A thread may take a lock only while it holds
 * no lock that comes after it in this list.
 *
 *   1. registry_lock (pool.c)  The list of live pools. Held only to add,
 *                              remove or look up a pool; nothing nests in it
 *                              except depot_lock, in the fork handlers.
 *   2. sched->lock (scheduler.c)   Worker parking, wake tokens, the drain,
 *                              blocked submitters. Never held while a task,
 *                              a continuation or a drop function runs.
 *   2a. sched->flock (foreign.c)  A pool's list of records waiting on
 *                              futures from outside it. A leaf: taken with
 *                              no lock held, nothing taken under it.
 *   2b. timers->lock (timer.c)  A pool's heap of timers. A leaf: the timer
 *                              thread settles what is due after it lets go.
 *   2c. sched->plock (scheduler.c)  A pool's queues of high and low
 *                              priority tasks. A leaf: taken with no lock
 *                              held, nothing taken under it (a look under
 *                              sched->lock reads their atomic lengths).
 *   2d. trace->lock (trace.c)  A traced pool's list of thread rings; then
 *                              ring->lock, one thread's events, a leaf
 *                              (under the list's only in the writer). Taken
 *                              with no other lock held.
 *   3. notifier->lock (notifier.c)  A notifier's tag queue and watch
 *                              list. Destroy unlinks watches (a stripe)
 *                              under it; a delivery takes it with no lock
 *                              held (callbacks run after the stripe).
 *      set->lock (completion.c)  An as-completed set's queue of settled
 *                              indices; the same rank as a notifier's lock
 *                              and for the same reasons (destroy unlinks
 *                              callbacks under it, a callback takes it with
 *                              no lock held). Never held with a notifier's
 *                              lock or another set's.
 *   4. stripe locks (record.c) One of the stripe mutexes, chosen by the
 *                              record's address; it guards f->waiters. No
 *                              thread holds two stripes at once.
 *   5. group->lock (record.c)  A waiter's condition. The completer takes it
 *                              under the stripe lock, so that a waiter that
 *                              later takes the stripe knows the completer is
 *                              done with its (stack-allocated) group.
 *   6. depot_lock (alloc.c)    The shared free list of records; a leaf.
 *
 * Lock-free protocols (the state word, the deque, the injection queue, the
 * rings, admission, parking) are described where they are defined; every
 * memory order weaker than seq_cst carries a comment saying why it
 * suffices, and tests/model/ checks them under the C11 memory model.
 */
#ifndef FUTURES_INTERNAL_H
#define FUTURES_INTERNAL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "atomics.h"
#include "futures.h"

#define FUTURES_CACHELINE 64
#define FUTURES_ALIGNED __attribute__((aligned(FUTURES_CACHELINE)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* config.h defines FUTURES_DEBUG to 0 or 1 (--enable-debug). */
#ifndef FUTURES_DEBUG
#define FUTURES_DEBUG 0
#endif

#if FUTURES_DEBUG
#include <assert.h>
#define FUTURES_ASSERT(x) assert(x)
#else
#define FUTURES_ASSERT(x) ((void)0)
#endif

/*
 * Valgrind annotations. helgrind (and DRD) do not understand C11 atomics:
 * an atomic load looks to them like a plain read racing the plain write of
 * another thread, and an acquire load does not order what follows it. A
 * build configured with --enable-valgrind-annotations tells them:
 *   FUTURES_ATOMIC_RANGE(p, n)  these bytes are only accessed atomically
 *                               (stop checking them);
 *   FUTURES_HAPPENS_BEFORE(p)   a release on the synchronisation object p
 *   FUTURES_HAPPENS_AFTER(p)    the acquire that pairs with it.
 * ThreadSanitizer needs none of this: it understands the atomics
 * themselves, and remains the authority on data races (make check under
 * --enable-sanitizer=thread). In other builds the macros are empty.
 */
#ifndef FUTURES_ANNOTATE
#define FUTURES_ANNOTATE 0
#endif
#if FUTURES_ANNOTATE
#include <valgrind/helgrind.h>
#define FUTURES_ATOMIC_RANGE(p, n) VALGRIND_HG_DISABLE_CHECKING((p), (n))
#define FUTURES_PLAIN_RANGE(p, n) VALGRIND_HG_ENABLE_CHECKING((p), (n))
#define FUTURES_ATOMIC_VAR(v) FUTURES_ATOMIC_RANGE(&(v), sizeof(v))
#define FUTURES_HAPPENS_BEFORE(p) ANNOTATE_HAPPENS_BEFORE(p)
#define FUTURES_HAPPENS_AFTER(p) ANNOTATE_HAPPENS_AFTER(p)
#else
#define FUTURES_ATOMIC_RANGE(p, n) ((void)0)
#define FUTURES_PLAIN_RANGE(p, n) ((void)0)
#define FUTURES_ATOMIC_VAR(v) ((void)0)
#define FUTURES_HAPPENS_BEFORE(p) ((void)0)
#define FUTURES_HAPPENS_AFTER(p) ((void)0)
#endif

/*
 * Test points. A test build (the hooked core library that some tests
 * link, compiled with FUTURES_TEST_HOOKS=1) calls futures__tp() at each
 * named point, where a test can park the calling thread to force an
 * interleaving that the public API cannot reach. In the library as
 * shipped the macro is empty.
 */
enum futures_tp {
  /* help.c: a waiter took its own unstarted record back from its ring and
   * has not yet offered it to the gate (obj: the record). */
  FUTURES_TP_TAKEN_BACK = 1,
  /* help.c: a joiner took a batch of records back from its ring; before
   * the first of them runs (obj: the first record of the batch). */
  FUTURES_TP_BATCH_TAKEN,
  /* scheduler.c: the pool is stopping, admission is closed and every
   * worker is parked, yet the drain goes on: a helper or an entering
   * thread is still counted, or a queue holds work (obj: the scheduler;
   * reached under its lock). */
  FUTURES_TP_DRAIN_KEPT,
  /* scheduler.c: the drain has ended (obj: the scheduler). */
  FUTURES_TP_DRAINED,
  /* scheduler.c: an outside submitter has been admitted and has not yet
   * published its records (obj: the scheduler). */
  FUTURES_TP_ADMITTED,
  /* scheduler.c: destroy found an outside submitter between its admission
   * and its publication, and waits for it (obj: the scheduler). */
  FUTURES_TP_ADMISSION_WAIT,
  /* gate.c: a record was claimed by this thread, before it runs or is
   * settled (obj: the record). */
  FUTURES_TP_CLAIMED,
  /* gate.c: a record is about to be published DONE (obj: the record). */
  FUTURES_TP_PUBLISH,
  /* record.c: a waiter is about to sleep on its group's condition
   * variable, holding the group's lock (obj: the group). */
  FUTURES_TP_SLEEP,
  /* scheduler.c: a worker is about to sleep on the pool's condition
   * variable, holding the pool's lock (obj: the scheduler). */
  FUTURES_TP_PARK,
  /* pool.c: destroy has stopped the pool and not yet settled the records
   * waiting on futures from outside it, nor its timers (obj: the
   * scheduler). */
  FUTURES_TP_STOPPED,
  /* scheduler.c: an idle worker's spin ended without work; it still
   * counts itself a spinner in sched->spinners and is about to stop and
   * park (obj: the scheduler). */
  FUTURES_TP_SPIN_ENDED,
  /* frame.c: a futures_sync() whose frame was stolen is about to sleep
   * until the thief is done, holding its deque's lock (obj: the frame). */
  FUTURES_TP_FRAME_SLEEP,
  /* frame.c: a futures_sync() whose frame was stolen has read the thief
   * and the generation it runs in, and is about to leapfrog (claim a frame
   * from the thief's deque) (obj: the frame). */
  FUTURES_TP_FRAME_LEAPFROG,
  FUTURES_TP_COUNT
};
#ifndef FUTURES_TEST_HOOKS
#define FUTURES_TEST_HOOKS 0
#endif
#if FUTURES_TEST_HOOKS
void futures__tp(int tp, const void *obj);
/* Installs @fn (NULL: none), called at every test point. */
void futures__tp_set(void (*fn)(int tp, const void *obj, void *ctx),
                     void *ctx);
#define FUTURES_TP(tp, obj) futures__tp((tp), (obj))
/* How many records a join first takes back from its ring at once (help.c;
 * 1 in the library as shipped). A test sets it before it starts threads. */
extern size_t futures__tp_retract_first;
#else
#define FUTURES_TP(tp, obj) ((void)0)
#endif

struct future;
struct sched;
struct slot;
struct producer;

/* A thread's submission rings, one per pool it submitted to (scheduler.c). */
#define FUTURES_PREG_SLOTS 8
struct preg {
  unsigned long long sched_id; /* 0: empty */
  struct producer *p;
};

/*
 * All thread-local state of the scheduler and the gate, in one variable,
 * so that the model build can give each checked thread its own (the one
 * thread-local variable of the files the model checks: atomics.h). Only
 * the owning thread touches it; it starts zeroed.
 */
struct wlink;

struct futures_tls {
  struct slot *slot;      /* deque this thread pushes to, or NULL */
  struct future *current; /* task being run by this thread, or NULL */
  long base;              /* slot deque bottom when current started */
  unsigned hazard_hint;   /* where this thread's last pin was (help.c) */
  unsigned preg_victim;   /* next registration to give up (scheduler.c) */
  int preg_keyed;         /* the thread-exit destructor is armed */
  struct preg preg[FUTURES_PREG_SLOTS];
  /* Record callbacks due in this thread, oldest first, and whether this
   * thread is running them already (record.c, fire()). */
  struct wlink *cb_head, *cb_tail;
  int cb_running;
  /* The innermost body running in this thread that registered a cancel
   * hook (its record), or NULL; and the record of the body whose
   * parallel_for chunk runs now, in which a hook may not be registered
   * (hook.c). */
  struct future *hooked;
  struct future *chunk_of;
  /* The pool whose worker start or exit hook this thread runs now, or
   * NULL: its destroy is EDEADLK there (worker.c, pool.c). */
  const struct sched *worker_hook_of;
  /* Debug builds: the newest frame this thread spawned and has not synced
   * (a struct frame, frame.h), to check that syncs come newest first and
   * that a body syncs what it spawned. */
  void *frame_top;
};

extern FUTURES_TLS struct futures_tls futures__tls;

/* ---- alloc.c: every allocation the library makes goes through here. */

void *futures__malloc(size_t n);
void *futures__calloc(size_t n, size_t size);
/* Cache-line aligned; free with futures__free(). */
void *futures__aligned_malloc(size_t size);
void futures__free(void *p);
int futures__thread_create(pthread_t *t, const pthread_attr_t *attr,
                           void *(*fn)(void *), void *arg);

/* Future records: futures__record_alloc() and _free() are in record.h. */

/* Fork handlers for the allocator's own lock (called by pool.c). */
void futures__alloc_atfork_prepare(void);
void futures__alloc_atfork_parent(void);
void futures__alloc_atfork_child(void);

/*
 * Test hooks (hidden; reachable from tests linked with the static core
 * library). futures__fault_alloc_at(k) makes the k-th allocation from now
 * fail (k >= 1; 0 turns it off); futures__fault_thread_at(k) does the same
 * for thread creation. The counters count every attempt made.
 */
void futures__fault_alloc_at(long k);
void futures__fault_thread_at(long k);
long futures__fault_alloc_count(void);
long futures__fault_thread_count(void);
/* Bytes the record allocator holds from malloc (cached mode), and live
 * records (every mode). */
size_t futures__alloc_bytes(void);
long futures__alloc_live(void);
/* 1 when records are recycled through per-thread caches, 0 when each one is
 * a malloc (FUTURES_ALLOC=malloc, or an AddressSanitizer build). */
int futures__alloc_cached(void);

/* ---- sync.c: the clock; base.c: deadlines. Arithmetic on time
 * saturates. */

/* A deadline in CLOCK_MONOTONIC nanoseconds that never comes. */
#define FUTURES_FOREVER LLONG_MAX

long long futures__now_ns(void);
/* 1 if @ts is usable as a deadline: not NULL, tv_nsec in [0, 1e9). Any
 * tv_sec is fine: a negative or past one polls, a huge one is forever. */
int futures__timespec_valid(const struct timespec *ts);
/* @ts in nanoseconds: FUTURES_FOREVER when it does not fit, 0 (the past)
 * for a negative tv_sec. */
long long futures__deadline_of(const struct timespec *ts);
/* now + @ns, saturating: FUTURES_FOREVER when it does not fit; now for
 * @ns <= 0. */
long long futures__deadline_in(long long ns);
/* 1 once @deadline has passed. */
int futures__deadline_passed(long long deadline);

/* ---- sync.c: mutex and condition wrappers; abort on impossible errors. */

void futures__mutex_init(pthread_mutex_t *m);
void futures__mutex_destroy(pthread_mutex_t *m);
void futures__mutex_lock(pthread_mutex_t *m);
void futures__mutex_unlock(pthread_mutex_t *m);
void futures__cond_init(pthread_cond_t *c);
void futures__cond_destroy(pthread_cond_t *c);
void futures__cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
/* Waits until signalled or @deadline (CLOCK_MONOTONIC ns; FUTURES_FOREVER
 * waits untimed); 0, or ETIMEDOUT. */
int futures__cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m,
                             long long deadline);
void futures__cond_signal(pthread_cond_t *c);
/* pthread_join(), with cancellation disabled like every wait above. */
void futures__thread_join(pthread_t t);
void futures__cond_broadcast(pthread_cond_t *c);

#if FUTURES_DEBUG
void futures__mutex_assert_owner(pthread_mutex_t *m);
#define FUTURES_ASSERT_OWNER(m) futures__mutex_assert_owner(m)
#else
#define FUTURES_ASSERT_OWNER(m) ((void)0)
#endif

/*
 * Asymmetric barrier pair, for a Dekker-style handshake where one side is
 * hot (a submit) and the other rare (a park, a destroy). The light side is
 * a compiler barrier when the kernel offers
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), a full fence otherwise; the
 * heavy side is that system call (or a full fence). futures__light_barrier()
 * and futures__heavy_barrier() are in atomics.h, which the model build
 * replaces with seq_cst fences; barrier.c holds the system call.
 */
void futures__barrier_init(void);

/* ---- fork generation (base.c): pool.c bumps it in every child after
 * fork(). */

extern FUTURES_GLOBAL(_Atomic(unsigned long), futures__fork_gen);

/* 1 if this process is a fork() child of a process that used the library
 * (cheap: one relaxed load). */
static inline int
futures__forked(void)
{
  return atomic_load_explicit(&futures__fork_gen, memory_order_relaxed) != 0;
}

#endif /* FUTURES_INTERNAL_H */
