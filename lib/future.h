/* SPDX-License-Identifier: MIT */
/*
 * future.h - the future record: task, outcome and state in one cache line.
 *
 * One record is both the queued task and its future, so a submit costs one
 * allocation (usually a pop from a per-thread free list). Its state word
 * packs the phase, a few flags and the reference count, so that finishing
 * a task nobody waits for is a single compare-and-swap.
 *
 * References. A record starts with two: the caller's handle (dropped by
 * future_release()) and the pool's (dropped by whoever takes the record out
 * of a queue once it is finished with it; for a continuation that is still
 * deferred, the antecedent's waiter list holds this second reference and
 * hands it to the queue). Whoever drops the last reference frees the record.
 *
 * Phases. QUEUED -> RUNNING -> DONE for a task; QUEUED -> DONE when it is
 * cancelled before it starts; DEFERRED -> QUEUED for a continuation whose
 * antecedent finished (DEFERRED -> DONE if it is cancelled first). Leaving
 * QUEUED or DEFERRED is always a compare-and-swap, so exactly one thread
 * runs or cancels a task.
 */
#ifndef FUTURES_FUTURE_H
#define FUTURES_FUTURE_H

#include "internal.h"

#define F_PHASE 0x3u
#define F_QUEUED 0x0u
#define F_RUNNING 0x1u
#define F_DONE 0x2u
#define F_DEFERRED 0x3u
#define F_WAITERS 0x4u   /* f->waiters may be non-empty: take the stripe */
#define F_CANCEL 0x8u    /* cancellation requested (futures_cancelled()) */
#define F_TIMED 0x10u    /* the record has a struct future_times tail */
#define F_CONT 0x20u     /* the body is a futures_then_fn */
#define F_REF 0x100u     /* one reference; the count is state >> 8 */

#define F_REFS(s) ((s) >> 8)

/*
 * A link in a future's waiter list. group == NULL marks a deferred
 * continuation, whose link is embedded in its own record (see u.link).
 */
struct wlink {
  struct wlink *next;
  struct wgroup *group;
};

struct future {
  /* Atomic: phase, flags and reference count (see above). */
  _Atomic uint32_t state;
  /* Written by the runner before DONE is published with release order;
   * read after an acquire load sees DONE. For a queued continuation it
   * holds the antecedent's code. */
  int code;
  /* Immutable after submit. */
  union {
    futures_task_fn task;
    futures_then_fn then;
  } fn;
  void *arg;
  union {
    /* QUEUED/RUNNING/DONE: the queue link and the result. */
    struct {
      _Atomic(struct future *) next;
      void *result;
    } q;
    /* DEFERRED: the link in the antecedent's waiter list. */
    struct wlink link;
  } u;
  /* Immutable after submit; valid while the record is not DONE. */
  struct futures_pool *pool;
  /* Protected by the record's stripe lock (wait.c). */
  struct wlink *waiters;
  /* Immutable after submit: cleanup of arg if the task never runs. */
  futures_drop_fn drop;
#if FUTURES_DEBUG
  uint64_t magic; /* FUTURE_MAGIC while allocated, poisoned when freed */
#endif
};

#define FUTURE_MAGIC 0x66757475726521ULL /* "future!" */
#define FUTURE_POISON 0xdeadbeefdeadbeefULL

/* The tail of a record on a pool created with FUTURES_POOL_TIMING. */
struct future_times {
  long long submitted, started, finished; /* CLOCK_MONOTONIC ns */
};

struct future_timed {
  struct future f;
  struct future_times t;
};

static inline struct future_times *
future_times_of(struct future *f)
{
  return &((struct future_timed *)f)->t;
}

static inline uint32_t
future_state(const struct future *f)
{
  /* Acquire: whoever sees DONE also sees the code and result written
   * before it was published. */
  uint32_t s = atomic_load_explicit(&((struct future *)f)->state,
                                    memory_order_acquire);

  if ((s & F_PHASE) == F_DONE)
    FUTURES_HAPPENS_AFTER(&((struct future *)f)->state);
  return s;
}

static inline int
future_done(const struct future *f)
{
  return (future_state(f) & F_PHASE) == F_DONE;
}

/* Initialise a fresh record as a queued task with two references. */
void futures__future_init(struct future *f, struct futures_pool *pool,
                          const futures_task_t *task, uint32_t flags);

/* Moves @f from QUEUED to RUNNING; 1 if this thread won it. */
int futures__future_claim(struct future *f);

/*
 * Runs a claimed task in this thread and publishes its outcome. When the
 * pool is being destroyed in cancel mode the task is finished with
 * ECANCELED instead. @flags: EXEC_QREF if the caller also drops the
 * pool's reference (it took the record out of a queue), EXEC_HELPED if the
 * caller is a thread that waits for the task.
 */
void futures__future_execute(struct future *f, int flags);

/*
 * Takes a record out of a queue: runs it if it is still QUEUED, otherwise
 * (another thread ran or cancelled it) just drops the queue's reference.
 */
void futures__future_dispatch(struct future *f);

/* Finishes a QUEUED or DEFERRED record with ECANCELED, calling its drop
 * function; 1 if it won. The caller keeps the pool alive (pinned). */
int futures__future_cancel_unstarted(struct future *f);

/* Finishes a record this thread holds in RUNNING with ECANCELED, without
 * running it: counts it, calls its drop function, completes it. */
void futures__future_finish_unrun(struct future *f, int owns_queue_ref);

/* Drops one reference; frees the record when it was the last. */
void futures__future_unref(struct future *f);

/* Publishes DONE (code and result already stored) and wakes waiters. */
void futures__future_complete(struct future *f, int owns_queue_ref);

/* Flags for futures__future_execute(). */
#define EXEC_QREF 0x1   /* the caller holds the queue's reference */
#define EXEC_HELPED 0x2 /* a thread waiting for the task runs it */

/*
 * 1 if a handle passed in by the user is unusable: NULL, or (debug builds
 * only, where released records stay mapped) released already.
 */
#if FUTURES_DEBUG
int futures__future_bad(const struct future *f);
#else
#define futures__future_bad(f) ((f) == NULL)
#endif

/* ---- wait.c */

/* Wakes everything registered on a future that just became DONE and
 * queues its continuations. Called by the completer only. */
void futures__wait_fire(struct future *f);

/*
 * Waits until @f is DONE: 0, ETIMEDOUT (only with @abstime) or ECHILD.
 * With @may_run, a task that has not started is run by the caller; a
 * thread with a slot runs its own pending sub-tasks meanwhile.
 */
int futures__wait_one(struct future *f, const struct timespec *abstime,
                      int may_run);

/* Claims @f if it is QUEUED and runs it in the calling thread; 1 if so. */
int futures__run_inline(struct future *f);

/* Links a DEFERRED continuation into @ante's waiters unless @ante is
 * already DONE; returns 1 if linked, 0 if @ante is done. */
int futures__wait_add_continuation(struct future *ante, struct future *c);

#endif /* FUTURES_FUTURE_H */
