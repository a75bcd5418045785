/* SPDX-License-Identifier: MIT */
/*
 * record.h - layer 1: the future record, its state word, its references,
 * its outcome and its waiters.
 *
 * One record is both the queued task and its future, so a submit costs one
 * allocation (usually a pop from a per-thread free list). Its state word
 * packs the phase, a few flags and the reference count, so that finishing
 * a task nobody waits for is a single compare-and-swap.
 *
 * Phases.
 *
 *   QUEUED   -> RUNNING -> DONE   a task, run by whoever wins the gate
 *   QUEUED   -> RUNNING -> DONE   the same, settled ECANCELED unrun
 *   DEFERRED -> QUEUED  -> ...    a continuation whose antecedent finished
 *   DEFERRED -> RUNNING -> DONE   a continuation cancelled while deferred
 *
 * Every transition out of QUEUED or DEFERRED is a compare-and-swap made by
 * the gate (gate.c): its winner alone runs or settles the record. DONE is
 * published only by futures__record_publish(), which only the gate calls.
 * Every other path (a queue that still holds an entry, a waiter, a join)
 * learns that a record has finished by reading DONE with acquire order.
 *
 * References. A task starts with two: the caller's handle (dropped by
 * future_release()) and the queue's (dropped by whoever takes the record
 * out of a queue, or by the gate on behalf of the thread that took it).
 * A deferred continuation's second reference is held by its antecedent's
 * waiter list and becomes the queue's when it is queued; the continuation
 * also holds a reference to its antecedent, whose outcome is its input,
 * until it is settled. A record with no pool (F_NOPOOL) starts with one,
 * its creator's. Whoever drops the last reference frees the record.
 */
#ifndef FUTURES_RECORD_H
#define FUTURES_RECORD_H

#include "internal.h"

#define F_PHASE 0x3u
#define F_QUEUED 0x0u
#define F_RUNNING 0x1u
#define F_DONE 0x2u
#define F_DEFERRED 0x3u
#define F_WAITERS 0x4u /* f->waiters may be non-empty: take the stripe */
#define F_CANCEL 0x8u  /* cancellation requested (futures_cancelled()) */
#define F_TIMED 0x10u  /* the record has a struct future_times tail */
#define F_CONT 0x20u   /* a continuation: fn.then, x.ante */
#define F_NOPLACE 0x40u /* holds no place in a bounded pool's queue */
#define F_NOPOOL 0x80u  /* no task and no pool: a promise or a combinator */
/* With F_NOPOOL (which never holds a place in a queue): a combinator's
 * future, whose f->arg is its struct combinator while it is pending. */
#define F_COMBINED F_NOPLACE
/* The record has a struct future_ext tail (x and gen): a task with a drop
 * function or a result destructor given at submit, a continuation, a
 * record with no pool, and every timed record. A plain task has none. */
#define F_EXT 0x100u
#define F_REF 0x200u   /* one reference; the count is state >> 9 */

#define F_REFS(s) ((s) >> 9)

/*
 * A link in a record's waiter list. group == NULL marks a deferred
 * continuation, whose link is embedded in its own record (u.link);
 * group == WLINK_CALLBACK marks a struct wcallback.
 */
struct wlink {
  struct wlink *next;
  struct wgroup *group;
};

struct future {
  /* Atomic: phase, flags and reference count (see above). */
  _Atomic(uint32_t) state;
  /* The outcome. Written by the gate's winner before it publishes DONE
   * with release order; read after an acquire load has seen DONE. */
  int code;
  /* The body: immutable after submit until the body starts, and read
   * only by the thread that runs it, which then clears it (gate.c).
   * From then on, and in a record that has no body, the result's
   * destructor: set before DONE is published (by the body, through
   * futures_task_t.result_drop, or by whoever settles it), NULL once
   * someone has read the result (futures__record_outcome()) or if there
   * is none; meaningful only when code == 0 and taken with an atomic
   * exchange. A record freed before it is DONE may still hold its body
   * here: record.c tests the phase before calling it. */
  union {
    futures_task_fn task;
    futures_then_fn then;
    futures_drop_fn rdrop;
  } fn;
  void *arg;
  FUTURES_UNION {
    /* QUEUED, RUNNING, DONE: the queue link and the result. */
    struct {
      _Atomic(struct future *) next;
      void *result; /* meaningful only when code == 0 */
    } q;
    /* DEFERRED: the link in the antecedent's waiter list. Untouched until
     * the antecedent fires it, even if the record is cancelled. */
    struct wlink link;
  } u;
  /* Immutable after submit; valid while the record is not DONE. NULL
   * for an F_NOPOOL record. */
  struct sched *sched;
  /* Protected by the record's stripe lock. */
  struct wlink *waiters;
#if FUTURES_DEBUG
  uint64_t magic;         /* FUTURE_MAGIC while allocated, poisoned after */
  _Atomic(int) handles;   /* user handles not yet released */
#endif
};

#define FUTURE_MAGIC 0x66757475726521ULL /* "future!" */
#define FUTURE_POISON 0xdeadbeefdeadbeefULL

/* A plain task's record is 7 words: with its 8-byte queue slot, 64 bytes
 * per future in flight (issue 12). What only some records use lives in
 * the tail below. */
#if !FUTURES_DEBUG && !defined(FUTURES_MODEL) && defined(UINTPTR_MAX) && \
    UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct future) == 56, "a plain record is 56 bytes");
#endif

/* The tail of a record with F_EXT. */
union future_x {
  /* A task, until it runs: cleanup of arg if it never runs. */
  futures_drop_fn drop;
  /* A continuation, until it settles: its antecedent (a reference),
   * under the record's stripe; NULL once it let go. */
  struct future *ante;
};

struct future_ext {
  struct future f;
  union future_x x;
  /* F_NOPOOL: the fork generation it was made in (a pool's record has
   * its pool's). Immutable. */
  unsigned long gen;
};

/* The tail of a record on a pool created with FUTURES_POOL_TIMING. */
struct future_times {
  long long submitted, started, finished; /* CLOCK_MONOTONIC ns */
};

/* With FUTURES_POOL_TRACE, which implies the times: the record's number
 * in its pool's trace and the thread that made it (trace.c). */
struct future_tracing {
  unsigned long long id;
  int submit_tid;
};

struct future_timed {
  struct future_ext e; /* a timed record has the whole tail */
  struct future_times t;
  struct future_tracing tr;
};

/* The record's tail: only for a record with F_EXT (checked in debug
 * builds). */
static inline struct future_ext *
futures__record_ext(struct future *f)
{
  FUTURES_ASSERT(atomic_load_explicit(&f->state, memory_order_relaxed) &
                 F_EXT);
  return (struct future_ext *)f;
}

static inline union future_x *
futures__record_x(struct future *f)
{
  return &futures__record_ext(f)->x;
}

static inline struct future_times *
futures__record_times(struct future *f)
{
  return &((struct future_timed *)f)->t;
}

static inline struct future_tracing *
futures__record_tracing(struct future *f)
{
  return &((struct future_timed *)f)->tr;
}

/* The state word with acquire order: whoever sees DONE also sees the
 * outcome written before it was published. */
static inline uint32_t
futures__record_state(const struct future *f)
{
  uint32_t s = atomic_load_explicit(&((struct future *)f)->state,
                                    memory_order_acquire);

  if ((s & F_PHASE) == F_DONE)
    FUTURES_HAPPENS_AFTER(&((struct future *)f)->state);
  return s;
}

static inline int
futures__record_done(const struct future *f)
{
  return (futures__record_state(f) & F_PHASE) == F_DONE;
}

/* Disarms @f's result destructor: a reader has taken the result. */
void futures__record_take_slow(const struct future *f);

/* The outcome of a DONE record: its code, and in *@result (optional) its
 * result, NULL unless the code is 0. Handing the result to the caller
 * reads it: the record's result destructor, if any, will not run.
 * Relaxed: the destructor was written before DONE, which the caller saw
 * with acquire order. */
static inline int
futures__record_outcome(const struct future *f, void **result)
{
  if (result == NULL)
    return f->code;
  if (f->code != 0) {
    *result = NULL;
    return f->code;
  }
  *result = f->u.q.result;
  if (unlikely(__atomic_load_n(&((struct future *)f)->fn.rdrop,
                               __ATOMIC_RELAXED) != NULL))
    futures__record_take_slow(f);
  return 0;
}
/* The result of a DONE record (NULL unless its code is 0), without
 * reading it: its destructor stays armed. */
static inline void *
futures__record_peek(const struct future *f)
{
  return f->code == 0 ? f->u.q.result : NULL;
}
/* The same, moving the result's destructor to the caller (*@rdrop, NULL
 * if none or already read): a combinator or a follower that passes the
 * result on takes the duty to destroy it with it. */
int futures__record_outcome_move(struct future *f, void **result,
                                 futures_drop_fn *rdrop);

/* Allocates a record for @flags (the ones it will be initialised with:
 * F_EXT and F_TIMED choose its size); NULL if memory runs out. */
struct future *futures__record_alloc(uint32_t flags);
/* Frees a record (its size is read from its state word's flags). */
void futures__record_free(struct future *f);

/* Initialises a fresh record: QUEUED (or DEFERRED with F_DEFERRED in
 * @flags), two references, not yet visible to any other thread. A @drop
 * function, F_CONT, F_NOPOOL and F_TIMED need F_EXT in @flags (and in the
 * allocation's). */
void futures__record_init(struct future *f, struct sched *sched,
                          futures_task_fn fn, void *arg, futures_drop_fn drop,
                          uint32_t flags);

/* Takes one more reference. The caller already holds one. */
void futures__record_ref(struct future *f);
/* The same for a reference the user asked for: EAGAIN (nothing taken) if
 * the count would come within FUTURES_REFS_SPARE of what it can hold. */
#define FUTURES_REFS_SPARE 1024u
int futures__record_try_ref(struct future *f);
/* Drops one reference; frees the record when it was the last. */
void futures__record_unref(struct future *f);

/*
 * Publishes DONE with @code and @result, wakes every waiter and hands
 * every continuation waiting on @f to @ready (with the waiter list's
 * reference). With @drop_ref, also drops the caller's reference (the
 * queue's), in the same compare-and-swap when nobody waits. Only the gate
 * calls this, once per record, from the thread that won it.
 */
typedef void (*futures_ready_fn)(struct future *continuation);
void futures__record_publish(struct future *f, int code, void *result,
                             int drop_ref, futures_ready_fn ready);

/*
 * 1 if a handle passed in by the user is unusable: NULL, or (debug builds
 * only, where released records stay mapped) released already.
 */
#if FUTURES_DEBUG
int futures__record_bad(const struct future *f);
#else
#define futures__record_bad(f) ((f) == NULL)
#endif
/* Debug builds: the user drops a handle (future_release()). */
void futures__record_handle_release(struct future *f);

/* ------------------------------------------------------------ waiters */

/*
 * A wait group is one thread's condition: a mutex, a condition variable
 * and the list of its waiter nodes that have fired. The thread registers
 * one node per record it waits for (futures__group_add), sleeps until a
 * node fires (futures__group_sleep), and removes the nodes that have not
 * fired before the group goes out of scope (futures__group_remove).
 */
struct wgroup {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  /* Protected by lock. */
  struct waiter *fired; /* nodes fired and not yet taken, newest first */
  size_t nfired;        /* nodes fired in all */
};

struct waiter {
  struct wlink link;         /* in f->waiters; link.group is the group */
  struct waiter *fired_next; /* in group->fired; protected by its lock */
  struct future *f;
  size_t index;              /* the caller's index for this record */
};

void futures__waiters_init(void);
void futures__waiters_atfork_child(void);

void futures__group_init(struct wgroup *g);
void futures__group_fini(struct wgroup *g);
/* Registers @w on @f; 0 (nothing registered) if @f is already DONE. */
int futures__group_add(struct wgroup *g, struct waiter *w, struct future *f,
                       size_t index);
/* Unregisters @w unless it has fired; afterwards no completer touches it. */
void futures__group_remove(struct waiter *w);
/* Takes the list of fired nodes (newest first). */
struct waiter *futures__group_take_fired(struct wgroup *g);
/* Sleeps until nfired != @seen; 0, or ETIMEDOUT at @deadline. */
int futures__group_sleep(struct wgroup *g, size_t seen, long long deadline);

/*
 * A continuation's reference to its antecedent (x.ante) is taken when it
 * is attached and dropped, under the continuation's stripe, when it is
 * settled. futures__record_ante_get() returns the antecedent with a
 * reference of the caller's own (drop it with futures__record_unref()), or
 * NULL if @c is not a continuation or has let go of it already; it is how
 * a waiter follows a chain of deferred continuations safely.
 */
struct future *futures__record_ante_get(struct future *c);
/* Lets go of the antecedent, under the stripe, and sets the result's
 * destructor (fn.rdrop) to @rdrop, which may be NULL. */
void futures__record_ante_drop(struct future *c, futures_drop_fn rdrop);

/* Links the DEFERRED continuation @c into @ante's waiters unless @ante is
 * already DONE; 1 if linked (the list now holds @c's second reference), 0
 * if @ante is done. */
int futures__record_add_continuation(struct future *ante, struct future *c);

/*
 * A callback waiter: fn(cb, f) runs once, in the thread that publishes @f,
 * after DONE is published and with no lock held, unless it is removed
 * first. Whoever adds one holds a reference to @f until fn has run or the
 * callback was removed, and keeps @cb alive as long.
 *
 * Order. A callback may settle another record (a combinator's future),
 * whose callbacks then become due in the same thread. They run after
 * every callback already due, not inside the one that settled it: so
 * callbacks run in the order their records were published, and a chain
 * of combinators costs no stack.
 */
#define WLINK_CALLBACK ((struct wgroup *)(uintptr_t)1)
struct wcallback {
  struct wlink link;
  void (*fn)(struct wcallback *cb, struct future *f);
  struct future *f; /* set by futures__record_add_callback() */
};
/*
 * A combinator's state (combine.c) starts with this; a combinator's
 * record points to it in f->arg, under the record's stripe, until the
 * combinator has settled and lets go of its inputs
 * (futures__record_set_arg() clears it).
 */
struct combinator {
  size_t n;
  struct future *(*input)(struct combinator *c, size_t i);
};
/*
 * Up to @max inputs of the combinator @f, from index *@from on, that a
 * waiter could help: not started (QUEUED), or waiting on something that
 * may not have started (a DEFERRED continuation or combinator). Each comes
 * with a reference of the caller's own (drop them with
 * futures__record_unref()). Sets *@from to the next index to look at, or
 * to SIZE_MAX once every input was looked at (or @f is not a combinator,
 * or has settled).
 */
size_t futures__record_inputs_to_help(struct future *f, size_t *from,
                                      struct future *out[], size_t max);
/* Sets f->arg under @f's stripe (a combinator letting go of its state). */
void futures__record_set_arg(struct future *f, void *arg);
/*
 * Calls @fn(c, @ctx) under @f's stripe if @f (a combinator's future) still
 * points to its state c, and returns 1; 0 if it has let go of it. @fn runs
 * with the stripe held: it may only count (combine.c takes a hold on the
 * state that keeps it alive after the stripe is dropped).
 */
int futures__record_with_combinator(struct future *f,
                                    void (*fn)(struct combinator *c,
                                               void *ctx),
                                    void *ctx);

/* Links @cb into @f's waiters unless @f is DONE: 1 if linked, 0 if done
 * (the caller then acts as fn would, itself). */
int futures__record_add_callback(struct future *f, struct wcallback *cb);
/* Runs @cb as @f's publisher would have (@f is DONE): now, or, inside a
 * callback running in this thread, after the callbacks already due. */
void futures__record_callback_now(struct wcallback *cb, struct future *f);
/* Unlinks @cb from @f's waiters: 1 if it was still linked (fn will never
 * run), 0 if @f's publisher has taken it (fn runs, or has run). */
int futures__record_remove_callback(struct future *f, struct wcallback *cb);

#endif /* FUTURES_RECORD_H */
