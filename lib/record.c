/* SPDX-License-Identifier: MIT */
/*
 * record.c - layer 1: the record's references, the publication of its
 * outcome, and its waiters.
 *
 * A record has no mutex or condition variable of its own (that would
 * double its size and cost an initialisation per task). Instead the
 * waiters of a record form a list, f->waiters, guarded by one of
 * WAIT_STRIPES mutexes picked by the record's address, and each waiter
 * brings its own condition variable in a wait group on its stack. A waiter
 * sets F_WAITERS in the state word while holding the stripe lock; the
 * publisher, which sets DONE with a compare-and-swap, sees that flag and
 * takes the stripe lock only then. So:
 *   - a task that finishes with nobody waiting never touches a lock;
 *   - no wake-up is lost: the waiter registers under the stripe lock only
 *     if DONE is not yet set, and the publisher, having set DONE, takes the
 *     same lock before it walks the list;
 *   - one group can wait on many records at once (join_any and friends),
 *     and sleeps on one condition variable that all of them signal.
 */
#include "record.h"

#include <stdio.h>

#ifndef WAIT_STRIPES
#define WAIT_STRIPES 128
#endif

void
futures__record_init(struct future *f, struct sched *sched,
                     futures_task_fn fn, void *arg, futures_drop_fn drop,
                     uint32_t flags)
{
  FUTURES_ATOMIC_VAR(f->state);
  FUTURES_ATOMIC_VAR(f->u.q.next);
  /* Relaxed: the record is published later, by a queue's release or by
   * the antecedent's stripe lock. */
  atomic_store_explicit(&f->state, 2 * F_REF | flags, memory_order_relaxed);
  f->code = 0;
  f->fn.task = fn;
  f->arg = arg;
  atomic_store_explicit(&f->u.q.next, (struct future *)NULL,
                        memory_order_relaxed);
  f->u.q.result = NULL;
  f->sched = sched;
  f->waiters = NULL;
  if (flags & F_EXT) {
    struct future_ext *e = (struct future_ext *)f;

    e->x.drop = drop;
    e->gen = 0;
  }
  FUTURES_ASSERT((flags & F_EXT) ||
                 (drop == NULL && !(flags & (F_CONT | F_NOPOOL | F_TIMED))));
#if FUTURES_DEBUG
  f->magic = FUTURE_MAGIC;
  atomic_store_explicit(&f->handles, 1, memory_order_relaxed);
#endif
  if (flags & F_TIMED) {
    futures__record_times(f)->submitted = futures__now_ns();
    /* 0: not traced, unless futures__trace_submit() numbers it (a record
     * may be reused from a traced pool's). */
    futures__record_tracing(f)->id = 0;
  }
}

void
futures__record_ref(struct future *f)
{
  /* Relaxed: the caller's own reference keeps the record alive; nothing
   * is published by taking another. */
  atomic_fetch_add_explicit(&f->state, F_REF, memory_order_relaxed);
}

void
futures__record_take_slow(const struct future *f)
{
  /* Read: the reader owns the result now. Relaxed: the exchange only
   * decides, among readers and the last unref, who has it. */
  (void)__atomic_exchange_n(&((struct future *)f)->fn.rdrop,
                            (futures_drop_fn)NULL, __ATOMIC_RELAXED);
}

int
futures__record_outcome_move(struct future *f, void **result,
                             futures_drop_fn *rdrop)
{
  *rdrop = NULL;
  if (f->code != 0) {
    *result = NULL;
    return f->code;
  }
  *result = f->u.q.result;
  *rdrop = __atomic_exchange_n(&f->fn.rdrop, (futures_drop_fn)NULL,
                               __ATOMIC_RELAXED);
  return 0;
}

/* The last reference is gone: a result no one read meets its destructor
 * (in this thread, with no lock of the library's held), then the record
 * is freed. A record that is not DONE still holds its body in fn. */
static void __attribute__((noinline))
record_drop_result(struct future *f)
{
  if ((atomic_load_explicit(&f->state, memory_order_relaxed) & F_PHASE) ==
          F_DONE &&
      f->code == 0 && f->u.q.result != NULL)
    f->fn.rdrop(f->u.q.result);
}

static inline void
record_release(struct future *f)
{
  /* fn first: NULL for every record that ran with no destructor, so the
   * common free tests one word (a task cancelled before it ran still
   * holds its body there and takes the slow path, which checks). */
  if (unlikely(f->fn.rdrop != NULL))
    record_drop_result(f);
  futures__record_free(f);
}

void
futures__record_unref(struct future *f)
{
  uint32_t s;

  /* Release: our writes to the record happen before its free; acquire on
   * the last drop: every other holder's writes happen before the free. */
  FUTURES_HAPPENS_BEFORE(&f->state);
  s = atomic_fetch_sub_explicit(&f->state, F_REF, memory_order_acq_rel);
  FUTURES_ASSERT(F_REFS(s) >= 1);
  if (F_REFS(s) == 1) {
    FUTURES_HAPPENS_AFTER(&f->state);
    record_release(f);
  }
}

int
futures__record_try_ref(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);

  do {
    if (F_REFS(s) >= F_REFS(UINT32_MAX) - FUTURES_REFS_SPARE)
      return EAGAIN;
    /* Relaxed: as futures__record_ref(). */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, s + F_REF, memory_order_relaxed, memory_order_relaxed));
  return 0;
}

#if FUTURES_DEBUG
int
futures__record_bad(const struct future *f)
{
  if (f == NULL)
    return 1;
  if (f->magic != FUTURE_MAGIC ||
      atomic_load_explicit(&((struct future *)f)->handles,
                           memory_order_relaxed) <= 0) {
    fprintf(stderr, "libfutures: future %p used after release\n",
            (const void *)f);
    return 1;
  }
  return 0;
}
#endif

void
futures__record_handle_release(struct future *f)
{
#if FUTURES_DEBUG
  /* Relaxed: a debugging aid, read by the same user's later misuse. */
  atomic_fetch_sub_explicit(&f->handles, 1, memory_order_relaxed);
#else
  (void)f;
#endif
}

/* ------------------------------------------------------------ stripes */

struct stripe {
  pthread_mutex_t lock;
} FUTURES_ALIGNED;

static FUTURES_GLOBAL_ARRAY(struct stripe, stripes, WAIT_STRIPES);
/* Zero is PTHREAD_ONCE_INIT (glibc). */
static FUTURES_GLOBAL(pthread_once_t, stripes_once);

static void
stripes_init(void)
{
  for (int i = 0; i < WAIT_STRIPES; i++)
    futures__mutex_init(&stripes[i].lock);
}

void
futures__waiters_init(void)
{
  pthread_once(&stripes_once, stripes_init);
}

static pthread_mutex_t *
stripe_of(const struct future *f)
{
  uintptr_t h = (uintptr_t)f / FUTURES_CACHELINE;

  h ^= h >> 7;
  return &stripes[h % WAIT_STRIPES].lock;
}

/*
 * fork() child: a stripe may have been held by a thread that does not exist
 * here, so every stripe starts afresh. The stripes are not held across the
 * fork (taking 128 locks per fork is costly, and more than ThreadSanitizer
 * can track): the only state they guard is the waiter lists of records,
 * and the child never walks the list of a record of the parent's pools
 * (waits on them return ECHILD, cancels too), while its own records are
 * all created after the fork.
 */
void
futures__waiters_atfork_child(void)
{
  /* A fork() inside a callback (an inline continuation): the callbacks
   * still due belong to the parent's records. */
  futures__tls.cb_head = futures__tls.cb_tail = NULL;
  futures__tls.cb_running = 0;
  for (int i = 0; i < WAIT_STRIPES; i++)
    futures__mutex_init(&stripes[i].lock);
}

/*
 * Sets F_WAITERS on @f unless it is DONE; 1 if set (the caller may then
 * link into f->waiters), 0 if @f has finished. Called with @f's stripe
 * held: the publisher, which sets DONE first and checks F_WAITERS after,
 * then takes the same stripe before it walks the list.
 */
static int
mark_waiters_locked(struct future *f)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);

  FUTURES_ASSERT_OWNER(stripe_of(f));
  do {
    if ((s & F_PHASE) == F_DONE) {
      FUTURES_HAPPENS_AFTER(&f->state);
      return 0;
    }
    /* Acquire on failure: if DONE was set meanwhile, we read the outcome
     * after. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, s | F_WAITERS, memory_order_acq_rel,
      memory_order_acquire));
  return 1;
}

/* Links @l at the head of @f's waiters unless @f is DONE: 1 if linked,
 * 0 if done. Every kind of waiter (group, continuation, callback) comes
 * this way. */
static int
link_waiter(struct future *f, struct wlink *l)
{
  pthread_mutex_t *st = stripe_of(f);

  futures__mutex_lock(st);
  if (!mark_waiters_locked(f)) {
    futures__mutex_unlock(st);
    return 0;
  }
  l->next = f->waiters;
  f->waiters = l;
  futures__mutex_unlock(st);
  return 1;
}

/* Unlinks @l from @f's waiters: 1 if it was still there, 0 if the
 * publisher had taken the list. Taking the stripe also waits out a
 * publisher that is firing the list right now. */
static int
unlink_waiter(struct future *f, struct wlink *l)
{
  pthread_mutex_t *st = stripe_of(f);
  struct wlink **p;
  int found = 0;

  futures__mutex_lock(st);
  for (p = &f->waiters; *p != NULL; p = &(*p)->next) {
    if (*p == l) {
      *p = l->next;
      found = 1;
      break;
    }
  }
  futures__mutex_unlock(st);
  return found;
}

/* ------------------------------------------------------------ groups */

void
futures__group_init(struct wgroup *g)
{
  futures__mutex_init(&g->lock);
  futures__cond_init(&g->cond);
  g->fired = NULL;
  g->nfired = 0;
}

void
futures__group_fini(struct wgroup *g)
{
  /* The mutex first: its destroy is then not a tail call, so that this
   * frame shows in stacks (tests/helgrind.supp names it). */
  futures__mutex_destroy(&g->lock);
  futures__cond_destroy(&g->cond);
}

int
futures__group_add(struct wgroup *g, struct waiter *w, struct future *f,
                   size_t index)
{
  w->link.group = g;
  w->f = f;
  w->index = index;
  w->fired_next = NULL;
  return link_waiter(f, &w->link);
}

void
futures__group_remove(struct waiter *w)
{
  /* The publisher holds the stripe until it has let go of our group. */
  (void)unlink_waiter(w->f, &w->link);
}

struct waiter *
futures__group_take_fired(struct wgroup *g)
{
  struct waiter *w;

  futures__mutex_lock(&g->lock);
  w = g->fired;
  g->fired = NULL;
  futures__mutex_unlock(&g->lock);
  return w;
}

int
futures__group_sleep(struct wgroup *g, size_t seen, long long deadline)
{
  int rc = 0;

  futures__mutex_lock(&g->lock);
  /* Predicate: a record of the group fired since the caller last looked
   * (the publisher signals g->cond under g->lock after counting it). */
  while (g->nfired == seen && rc == 0) {
    FUTURES_TP(FUTURES_TP_SLEEP, g);
    rc = futures__cond_wait_until(&g->cond, &g->lock, deadline);
  }
  if (g->nfired != seen)
    rc = 0;
  futures__mutex_unlock(&g->lock);
  return rc;
}

int
futures__record_add_continuation(struct future *ante, struct future *c)
{
  c->u.link.group = NULL;
  return link_waiter(ante, &c->u.link);
}

struct future *
futures__record_ante_get(struct future *c)
{
  pthread_mutex_t *st = stripe_of(c);
  struct future *a = NULL;

  if (!(atomic_load_explicit(&c->state, memory_order_relaxed) & F_CONT))
    return NULL;
  futures__mutex_lock(st);
  /* Under the stripe, x.ante is either NULL or still referenced by @c
   * while @c waits (DEFERRED) or is queued; once it runs, settle() lets
   * go of it (NULL) before it publishes DONE. */
  if ((futures__record_state(c) & F_PHASE) != F_RUNNING &&
      (futures__record_state(c) & F_PHASE) != F_DONE &&
      futures__record_x(c)->ante != NULL) {
    a = futures__record_x(c)->ante;
    futures__record_ref(a);
  }
  futures__mutex_unlock(st);
  return a;
}

void
futures__record_ante_drop(struct future *c, futures_drop_fn rdrop)
{
  pthread_mutex_t *st = stripe_of(c);
  struct future *a;

  futures__mutex_lock(st);
  a = futures__record_x(c)->ante;
  futures__record_x(c)->ante = NULL;
  futures__mutex_unlock(st);
  /* Only the settling thread touches fn now: the body has run, or never
   * will. */
  c->fn.rdrop = rdrop;
  if (a != NULL)
    futures__record_unref(a);
}

int
futures__record_add_callback(struct future *f, struct wcallback *cb)
{
  cb->link.group = WLINK_CALLBACK;
  cb->f = f;
  return link_waiter(f, &cb->link);
}

int
futures__record_remove_callback(struct future *f, struct wcallback *cb)
{
  return unlink_waiter(f, &cb->link);
}

size_t
futures__record_inputs_to_help(struct future *f, size_t *from,
                               struct future *out[], size_t max)
{
  pthread_mutex_t *st = stripe_of(f);
  struct combinator *c;
  size_t k = 0, i = *from;

  *from = SIZE_MAX;
  if ((atomic_load_explicit(&f->state, memory_order_relaxed) &
       (F_NOPOOL | F_COMBINED)) != (F_NOPOOL | F_COMBINED))
    return 0;
  futures__mutex_lock(st);
  /* Under the stripe, arg is NULL or a state that holds a reference to
   * each input. */
  c = (struct combinator *)f->arg;
  for (; c != NULL && i < c->n && k < max; i++) {
    struct future *in = c->input(c, i);
    uint32_t s = atomic_load_explicit(&in->state, memory_order_relaxed);

    if ((s & F_PHASE) == F_QUEUED ||
        ((s & F_PHASE) == F_DEFERRED && (s & (F_CONT | F_COMBINED)))) {
      futures__record_ref(in);
      out[k++] = in;
    }
  }
  if (c != NULL && i < c->n)
    *from = i;
  futures__mutex_unlock(st);
  return k;
}

void
futures__record_set_arg(struct future *f, void *arg)
{
  pthread_mutex_t *st = stripe_of(f);

  futures__mutex_lock(st);
  f->arg = arg;
  futures__mutex_unlock(st);
}

int
futures__record_with_combinator(struct future *f,
                                void (*fn)(struct combinator *c, void *ctx),
                                void *ctx)
{
  pthread_mutex_t *st = stripe_of(f);
  int found;

  futures__mutex_lock(st);
  /* Under the stripe, arg is NULL or the combinator's live state. */
  found = f->arg != NULL;
  if (found)
    fn((struct combinator *)f->arg, ctx);
  futures__mutex_unlock(st);
  return found;
}

/* ------------------------------------------------------------ publish */

/*
 * Appends the list @cbs (oldest first) to the callbacks due in this
 * thread, and runs them all unless an outer call in this thread is
 * running them already (a callback that settled a record): that one runs
 * these after the ones before them.
 */
static void run_due(struct futures_tls *tls);

/*
 * If a callback ends the thread (pthread_exit() in an inline
 * continuation), the stack unwinds through run_due() and this runs: the
 * callbacks still due in this thread run now, during the unwinding, so
 * that none is lost.
 */
static void
due_unwound(int *armed)
{
  struct futures_tls *tls = &futures__tls;

  if (!*armed)
    return;
  tls->cb_running = 0;
  if (tls->cb_head != NULL) {
    tls->cb_running = 1;
    run_due(tls);
  }
}

/* Runs the callbacks due in this thread, oldest first, until none is. */
static void
run_due(struct futures_tls *tls)
{
  int armed __attribute__((cleanup(due_unwound))) = 1;
  struct wlink *l;

  while ((l = tls->cb_head) != NULL) {
    struct wcallback *cb = (struct wcallback *)(void *)l;

    /* Unlinked before it runs: the callback may free its node. */
    tls->cb_head = l->next;
    if (tls->cb_head == NULL)
      tls->cb_tail = NULL;
    cb->fn(cb, cb->f);
  }
  armed = 0;
  tls->cb_running = 0;
}

static void
run_callbacks(struct wlink *cbs)
{
  struct futures_tls *tls = &futures__tls;
  struct wlink *last;

  for (last = cbs; last->next != NULL; last = last->next)
    ;
  if (tls->cb_tail != NULL)
    tls->cb_tail->next = cbs;
  else
    tls->cb_head = cbs;
  tls->cb_tail = last;
  if (tls->cb_running)
    return;
  tls->cb_running = 1;
  run_due(tls);
}

void
futures__record_callback_now(struct wcallback *cb, struct future *f)
{
  cb->f = f;
  cb->link.group = WLINK_CALLBACK;
  cb->link.next = NULL;
  run_callbacks(&cb->link);
}

/* Wakes everything registered on @f, which just became DONE, and hands its
 * continuations to @ready. */
static void
fire(struct future *f, futures_ready_fn ready)
{
  pthread_mutex_t *st = stripe_of(f);
  struct wlink *l, *next, *conts = NULL, *cbs = NULL;

  futures__mutex_lock(st);
  l = f->waiters;
  f->waiters = NULL;
  for (; l != NULL; l = next) {
    next = l->next;
    if (l->group == WLINK_CALLBACK) {
      /* Newest first in f->waiters: reversed here, so callbacks run in
       * the order they were added. */
      l->next = cbs;
      cbs = l;
    } else if (l->group != NULL) {
      struct wgroup *g = l->group;
      struct waiter *w = (struct waiter *)(void *)l;

      futures__mutex_lock(&g->lock);
      w->fired_next = g->fired;
      g->fired = w;
      g->nfired++;
      /* Wakes the group's owner, asleep in futures__group_sleep(). */
      futures__cond_signal(&g->cond);
      futures__mutex_unlock(&g->lock);
    } else {
      l->next = conts;
      conts = l;
    }
  }
  futures__mutex_unlock(st);
  /* Continuations are handed on, and callbacks run, with no lock held. A
   * callback may free its node: read next first. */
  for (l = conts; l != NULL; l = next) {
    next = l->next;
    ready((struct future *)(void *)((char *)l -
                                    offsetof(struct future, u.link)));
  }
  if (cbs != NULL)
    run_callbacks(cbs);
}

void
futures__record_publish(struct future *f, int code, void *result,
                        int drop_ref, futures_ready_fn ready)
{
  uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
  uint32_t n;

  f->code = code;
  /* A continuation cancelled while deferred is still linked through u.link
   * (which result overlaps) until its antecedent fires: leave it alone. */
  if (code == 0)
    f->u.q.result = result;
  FUTURES_TP(FUTURES_TP_PUBLISH, f);
  FUTURES_HAPPENS_BEFORE(&f->state);
  do {
    n = (s & ~F_PHASE) | F_DONE;
    /* With nobody to wake, the queue's reference goes in the same step. */
    if (drop_ref && !(s & F_WAITERS))
      n -= F_REF;
    /* Release: publishes code and result; acquire: if this drops the last
     * reference, the releaser's writes happen before our free. Seq_cst:
     * a hazard pin validated by reading this word is ordered with it
     * (pin.c). On x86 and AArch64 it costs nothing more than acq_rel. */
  } while (!atomic_compare_exchange_weak_explicit(
      &f->state, &s, n, memory_order_seq_cst, memory_order_relaxed));
  if (s & F_WAITERS) {
    fire(f, ready);
    if (drop_ref)
      futures__record_unref(f);
  } else if (drop_ref && F_REFS(n) == 0) {
    FUTURES_HAPPENS_AFTER(&f->state);
    record_release(f);
  }
}
