/* SPDX-License-Identifier: MIT */
/*
 * promise.c - layer 5: futures with no task: promises, settled by whoever
 * holds them, and the futures of combinators (futures_all), settled when
 * their inputs have.
 *
 * Both are ordinary records marked F_NOPOOL, with no pool and no body.
 * They wait in DEFERRED, so every waiting function treats them as it
 * treats a continuation whose antecedent has not finished: it sleeps on
 * the record (there is nothing to run in its place). They leave DEFERRED
 * through the gate like every record: futures__gate_settle() for a resolve
 * or a reject, futures__gate_cancel() for future_cancel(); the first
 * compare-and-swap wins and every later settle is EALREADY.
 *
 * A combinator's future listens to its inputs through callback waiters
 * (record.h): each input's publisher runs one callback, with no lock held,
 * and the one that brings the count of pending inputs to zero settles the
 * combinator's future in its own thread.
 */
#include "gate.h"
#include "help.h"

struct future *
futures__nopool_new(uint32_t flags)
{
  struct future *f = futures__record_alloc(0);

  if (f == NULL)
    return NULL;
  futures__record_init(f, NULL, NULL, NULL, NULL,
                       F_DEFERRED | F_NOPOOL | flags);
  /* Relaxed: not yet visible to any other thread. One reference, not the
   * two of a task (no queue holds it). */
  atomic_store_explicit(&f->state, F_REF | F_DEFERRED | F_NOPOOL | flags,
                        memory_order_relaxed);
  f->fn.gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  return f;
}

int
future_retain(future_t *future)
{
  if (futures__record_bad(future))
    return EINVAL;
  if (futures__record_try_ref(future) != 0)
    return EAGAIN;
#if FUTURES_DEBUG
  atomic_fetch_add_explicit(&future->handles, 1, memory_order_relaxed);
#endif
  return 0;
}

int
futures_promise_create(future_t **future)
{
  struct future *f;
  int rc;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if ((rc = futures__global_init()) != 0)
    return rc;
  if ((f = futures__nopool_new(0)) == NULL)
    return ENOMEM;
  *future = f;
  return 0;
}

/* Settles the promise @f: EINVAL if it is not a promise, ECHILD if it is
 * a promise of the parent of a fork(), else what the gate says. */
static int
settle_promise(struct future *f, int code, void *value)
{
  int rc;

  /* A promise has F_NOPOOL without F_COMBINED; both are set before the
   * record is published and never change. */
  if ((atomic_load_explicit(&f->state, memory_order_relaxed) &
       (F_NOPOOL | F_COMBINED)) != F_NOPOOL)
    return EINVAL;
  if ((rc = futures__help_stale(f)) != 0)
    return rc;
  return futures__gate_settle(f, code, value);
}

int
future_resolve(future_t *future, void *value)
{
  if (futures__record_bad(future))
    return EINVAL;
  return settle_promise(future, 0, value);
}

int
future_reject(future_t *future, int code)
{
  if (futures__record_bad(future) || code <= 0)
    return EINVAL;
  return settle_promise(future, code, NULL);
}

/* ------------------------------------------------------------ all */

struct all_state;

/* One input's callback. */
struct all_input {
  struct wcallback cb;
  struct all_state *st;
  struct future *in; /* a reference of the combinator's own */
};

struct all_state {
  struct combinator head;  /* first: what out->arg points to */
  _Atomic(size_t) pending; /* inputs not yet settled, plus one (creation) */
  struct future *out;      /* the combinator's future (a reference) */
  size_t n;
  struct all_input inputs[FUTURES_FLEX];
};

/* Every input has settled: settle the combinator's future with the code
 * of the lowest-index failure (0 if none), then let go of everything. */
static void
all_finish(struct all_state *st)
{
  int code = 0;

  for (size_t i = 0; i < st->n && code == 0; i++)
    code = futures__record_outcome(st->inputs[i].in, NULL);
  /* Waiters stop looking at the inputs through out (they took references
   * of their own to those they are running). */
  futures__record_set_arg(st->out, NULL);
  /* EALREADY when it was cancelled: nothing more to do. */
  (void)futures__gate_settle(st->out, code, NULL);
  futures__record_unref(st->out);
  for (size_t i = 0; i < st->n; i++)
    futures__record_unref(st->inputs[i].in);
  FUTURES_PLAIN_RANGE(&st->pending, sizeof(st->pending));
  FUTURES_FREE(st);
}

static void
all_count_down(struct all_state *st)
{
  /* Acq_rel: the last one down sees every input's outcome (each was
   * published before its callback ran, which released here). */
  FUTURES_HAPPENS_BEFORE(&st->pending);
  if (atomic_fetch_sub_explicit(&st->pending, 1, memory_order_acq_rel) == 1) {
    FUTURES_HAPPENS_AFTER(&st->pending);
    all_finish(st);
  }
}

static void
all_input_done(struct wcallback *cb, struct future *f)
{
  (void)f;
  all_count_down(((struct all_input *)(void *)cb)->st);
}

static struct future *
all_input(struct combinator *c, size_t i)
{
  return ((struct all_state *)(void *)c)->inputs[i].in;
}

int
futures_all(future_t *const futures[], size_t n, future_t **all)
{
  struct all_state *st;
  struct future *out;

  if (all == NULL)
    return EINVAL;
  *all = NULL;
  if (n > 0 && futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    if (futures__record_bad(futures[i]))
      return EINVAL;
  /* A fork() child: a parent's unfinished future never settles here. */
  for (size_t i = 0; i < n; i++) {
    int rc = futures__help_stale(futures[i]);

    if (rc != 0)
      return rc;
  }
  if (n > (SIZE_MAX - sizeof(*st)) / sizeof(st->inputs[0]))
    return ENOMEM;
  {
    int rc = futures__global_init();

    if (rc != 0)
      return rc;
  }
  if ((out = futures__nopool_new(F_COMBINED)) == NULL)
    return ENOMEM;
  if (n == 0) {
    (void)futures__gate_settle(out, 0, NULL);
    *all = out;
    return 0;
  }
  st = FUTURES_ALLOC_FLEX(struct all_state, inputs, n);
  if (st == NULL) {
    futures__record_unref(out);
    return ENOMEM;
  }
  /* Nobody else sees out yet: no stripe needed. */
  st->head.n = n;
  st->head.input = all_input;
  out->arg = &st->head;
  FUTURES_ATOMIC_VAR(st->pending);
  atomic_store_explicit(&st->pending, n + 1, memory_order_relaxed);
  st->out = out;
  st->n = n;
  futures__record_ref(out); /* the state's reference */
  for (size_t i = 0; i < n; i++) {
    struct all_input *a = &st->inputs[i];

    a->cb.fn = all_input_done;
    a->st = st;
    a->in = futures[i];
    if (futures__record_try_ref(a->in) != 0) {
      while (i-- > 0)
        futures__record_unref(st->inputs[i].in);
      futures__record_unref(out);
      futures__record_unref(out);
      FUTURES_FREE(st);
      *all = NULL;
      return EAGAIN;
    }
  }
  /* The handle goes out before the last count can fall: the caller's
   * reference is its own from here on. */
  *all = out;
  for (size_t i = 0; i < n; i++)
    if (!futures__record_add_callback(st->inputs[i].in, &st->inputs[i].cb))
      all_count_down(st); /* it had settled already */
  all_count_down(st);   /* the creation's own count */
  return 0;
}
