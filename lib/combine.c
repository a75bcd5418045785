/* SPDX-License-Identifier: MIT */
/*
 * combine.c - layer 5: combinators that return futures: futures_all(),
 * futures_all_settled(), futures_any() and futures_any_ok(), and what can
 * be asked of their futures (futures_winner(), futures_cancel_inputs()).
 *
 * A combinator's future ("out") is a record with no pool and no body
 * (promise.c's futures__nopool_new(F_COMBINED)): it waits in DEFERRED and
 * is settled through the gate, by futures__gate_settle() in the thread
 * whose input decides it, or by future_cancel(). One state per combinator
 * listens through callback waiters (record.h), each run once, with no
 * lock held, in the thread that publishes its record:
 *
 *   - one on each input, which judges it (below) and may settle out;
 *   - one on out itself, which lets go of the inputs once out has settled
 *     (by a decision or by a cancel): it hides them from waiters that help
 *     (futures__record_set_arg(out, NULL)) and unlinks every input
 *     callback that has not fired, so that a race does not keep its losers
 *     (which may run for long) nor their records.
 *
 * Decisions, one per kind:
 *   all, all_settled  st->left counts the inputs not yet settled; the
 *                     callback that takes it to zero settles out (all:
 *                     with the lowest-index failure, read then from every
 *                     input; all_settled: with 0).
 *   any               the first callback to claim the verdict settles out
 *                     with its input's outcome.
 *   any_ok            the first success claims the verdict; st->left counts
 *                     the inputs not yet failed, and the failure that takes
 *                     it to zero settles out with ENOENT.
 * Inputs that had settled when the combinator was made are judged by the
 * maker itself, in index order (comb_start()).
 *
 * The verdict. A race's out must say, for as long as it lives, which input
 * won it (futures_winner()), but the state goes soon after it settles. So
 * the verdict lives in out->u.q.next, a word that a record with no pool
 * never uses otherwise (it is never queued, and only a continuation's
 * DEFERRED record uses the link that shares it): VERDICT_OPEN while no
 * input has won, VERDICT_OPEN + 1 + i once input i has. The winner claims
 * it before it settles out; if a cancel settled out first, out's state
 * word carries F_CANCEL (gate.c's claim) and futures_winner() reports no
 * winner whatever the word holds. The futures of all and all_settled hold
 * VERDICT_NONE there: a non-zero word marks the record as one of this
 * file's (other records with no pool never write it).
 *
 * Results. A race hands its winner's value on without reading it: the
 * winner keeps its result destructor, if it has one (the header tells
 * the user to keep the winner while using the race's result, or to read
 * it from the winner to own it). all and all_settled read no value.
 *
 * References and lifetime. The state holds a reference to out and one to
 * each input (one per entry: a future given twice is held twice), and is
 * freed, with those references, when every party that may touch it has
 * finished: st->parties counts each input callback until it has run or was
 * unlinked, the callback on out until it has run, the maker until it
 * returns, and futures_cancel_inputs() while it walks. Every input stays
 * referenced while out->arg points to the state (a helping waiter reads
 * them under out's stripe), since the callback on out clears it before it
 * gives up its own count.
 */
#include "help.h"

enum kind { K_ALL, K_ALL_SETTLED, K_ANY, K_ANY_OK };

#define VERDICT_OPEN ((uintptr_t)1)
#define VERDICT_NONE (~(uintptr_t)0) /* all, all_settled: no verdict */

struct comb;

/* One input's callback. */
struct comb_input {
  struct wcallback cb; /* first: the callback's address is the input's */
  struct comb *st;
  struct future *in; /* a reference of the state's own */
};

struct comb {
  struct combinator head; /* first: what out->arg points to */
  struct wcallback self;  /* on out: lets go of the inputs */
  /* Immutable after create. */
  enum kind kind;
  size_t n;
  struct future *out; /* a reference of the state's own */
  /* Atomic. */
  _Atomic(size_t) left;    /* see the decisions above */
  _Atomic(size_t) parties; /* see "References and lifetime" above */
  struct comb_input inputs[FUTURES_FLEX];
};

static uintptr_t verdict_load(const struct future *out);

/* 1 if @f is the future of one of this file's combinators: its verdict
 * word is written before the record is published and is never 0 after. */
static int
is_combinator(const struct future *f)
{
  uint32_t s = atomic_load_explicit(&((struct future *)f)->state,
                                    memory_order_relaxed);

  return (s & (F_NOPOOL | F_COMBINED | F_CONT)) == (F_NOPOOL | F_COMBINED) &&
         verdict_load(f) != 0;
}

static uintptr_t
verdict_load(const struct future *out)
{
  /* Relaxed: futures_winner() reads it after an acquire load that saw
   * out DONE, and the winner wrote it before it published out. */
  return (uintptr_t)atomic_load_explicit(&((struct future *)out)->u.q.next,
                                         memory_order_relaxed);
}

/* Input @i claims the verdict of the race @st: 1 if it won. */
static int
verdict_claim(struct comb *st, size_t i)
{
  struct future *open = (struct future *)VERDICT_OPEN;

  /* Relaxed: only atomicity is needed among the claimants; the gate's
   * publication of out carries the verdict to its readers. */
  return atomic_compare_exchange_strong_explicit(
      &st->out->u.q.next, &open, (struct future *)(VERDICT_OPEN + 1 + i),
      memory_order_relaxed, memory_order_relaxed);
}

/* One party is done with @st; the last frees it and its references. */
static void
party_done(struct comb *st)
{
  /* Acq_rel: every party's use of the state happens before the free. */
  FUTURES_HAPPENS_BEFORE(&st->parties);
  if (atomic_fetch_sub_explicit(&st->parties, 1, memory_order_acq_rel) != 1)
    return;
  FUTURES_HAPPENS_AFTER(&st->parties);
  for (size_t i = 0; i < st->n; i++)
    futures__record_unref(st->inputs[i].in);
  futures__record_unref(st->out);
  FUTURES_PLAIN_RANGE(&st->left, sizeof(st->left));
  FUTURES_PLAIN_RANGE(&st->parties, sizeof(st->parties));
  FUTURES_FREE(st);
}

/* 1 if this call took st->left to zero. */
static int
count_down_left(struct comb *st)
{
  /* Acq_rel: the last one down sees every input's outcome (each was
   * published before its callback ran, which released here). */
  FUTURES_HAPPENS_BEFORE(&st->left);
  if (atomic_fetch_sub_explicit(&st->left, 1, memory_order_acq_rel) != 1)
    return 0;
  FUTURES_HAPPENS_AFTER(&st->left);
  return 1;
}

/* Input @i (the DONE record @in) has settled: settle out if that decides
 * it. A settle that finds out cancelled is EALREADY: nothing to do. */
static void
judge(struct comb *st, size_t i, struct future *in)
{
  int code = futures__record_outcome(in, NULL);

  switch (st->kind) {
  case K_ALL:
    if (count_down_left(st)) {
      code = 0;
      for (size_t k = 0; k < st->n && code == 0; k++)
        code = futures__record_outcome(st->inputs[k].in, NULL);
      (void)futures__gate_settle(st->out, code, NULL);
    }
    break;
  case K_ALL_SETTLED:
    if (count_down_left(st))
      (void)futures__gate_settle(st->out, 0, NULL);
    break;
  case K_ANY:
    if (verdict_claim(st, i))
      (void)futures__gate_settle(st->out, code, futures__record_peek(in));
    break;
  case K_ANY_OK:
    if (code == 0) {
      if (verdict_claim(st, i))
        (void)futures__gate_settle(st->out, 0, futures__record_peek(in));
    } else if (count_down_left(st)) {
      (void)futures__gate_settle(st->out, ENOENT, NULL);
    }
    break;
  }
}

static void
input_settled(struct wcallback *cb, struct future *in)
{
  struct comb_input *a = (struct comb_input *)(void *)cb;
  struct comb *st = a->st;

  judge(st, (size_t)(a - st->inputs), in);
  party_done(st);
}

/* out has settled: let go of the inputs (see the top). */
static void
out_settled(struct wcallback *cb, struct future *out)
{
  struct comb *st =
      (struct comb *)(void *)((char *)cb - offsetof(struct comb, self));

  futures__record_set_arg(out, NULL);
  for (size_t i = 0; i < st->n; i++)
    if (futures__record_remove_callback(st->inputs[i].in, &st->inputs[i].cb))
      party_done(st); /* it will never run */
  party_done(st);
}

static struct future *
comb_input_at(struct combinator *c, size_t i)
{
  return ((struct comb *)(void *)c)->inputs[i].in;
}

/* The checks every combinator makes, in this order: 0, or its error. */
static int
check_inputs(future_t *const futures[], size_t n, future_t **out)
{
  int rc;

  if (out == NULL)
    return EINVAL;
  *out = NULL;
  if ((rc = futures__help_check_array(futures, n)) != 0)
    return rc;
  if (n > (SIZE_MAX - sizeof(struct comb)) / sizeof(struct comb_input) ||
      n > SIZE_MAX - VERDICT_OPEN - 1)
    return ENOMEM;
  return futures__global_init();
}

/* A state for @n inputs of @kind with a new out, each input referenced;
 * nothing linked yet. 0, ENOMEM or EAGAIN (an input's references are at
 * their limit), with nothing left behind on failure. */
static int
comb_new(enum kind kind, future_t *const futures[], size_t n,
         struct comb **stp)
{
  struct future *out = futures__nopool_new(F_COMBINED);
  struct comb *st;

  if (out == NULL)
    return ENOMEM;
  /* Nobody else sees out yet: no stripe needed. */
  atomic_store_explicit(&out->u.q.next,
                        (struct future *)(kind == K_ANY || kind == K_ANY_OK
                                              ? VERDICT_OPEN
                                              : VERDICT_NONE),
                        memory_order_relaxed);
  if ((st = FUTURES_ALLOC_FLEX(struct comb, inputs, n)) == NULL) {
    futures__record_unref(out);
    return ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    if (futures__record_try_ref(futures[i]) != 0) {
      while (i-- > 0)
        futures__record_unref(futures[i]);
      futures__record_unref(out);
      FUTURES_FREE(st);
      return EAGAIN;
    }
    st->inputs[i].cb.fn = input_settled;
    st->inputs[i].st = st;
    st->inputs[i].in = futures[i];
  }
  st->head.n = n;
  st->head.input = comb_input_at;
  st->self.fn = out_settled;
  st->kind = kind;
  st->n = n;
  st->out = out;
  futures__record_ref(out); /* the state's reference */
  FUTURES_ATOMIC_VAR(st->left);
  FUTURES_ATOMIC_VAR(st->parties);
  atomic_store_explicit(&st->left, n, memory_order_relaxed);
  /* Each input callback, the callback on out, and the maker. */
  atomic_store_explicit(&st->parties, n + 2, memory_order_relaxed);
  out->arg = &st->head;
  *stp = st;
  return 0;
}

/*
 * Links the callbacks of @st in index order and judges each input that had
 * settled already as it comes to it. So among the inputs settled before
 * the call, the lowest-index one decides a race: an input of lower index
 * can win only by settling while the call runs (its callback, linked
 * earlier, runs first), which is as if it had settled just before.
 */
static void
comb_start(struct comb *st)
{
  for (size_t i = 0; i < st->n; i++)
    if (!futures__record_add_callback(st->inputs[i].in, &st->inputs[i].cb))
      input_settled(&st->inputs[i].cb, st->inputs[i].in); /* settled */
  /* Last: a callback on out that ran before every input callback was
   * linked would leave the later ones linked. */
  if (!futures__record_add_callback(st->out, &st->self))
    out_settled(&st->self, st->out);
  party_done(st); /* the maker's own count */
}

/* A combinator of no inputs: its future, settled at once (any_ok: with
 * ENOENT, as futures_join_any_ok() returns for no futures). */
static int
combine_none(enum kind kind, future_t **out)
{
  struct future *f = futures__nopool_new(F_COMBINED);

  if (f == NULL)
    return ENOMEM;
  atomic_store_explicit(&f->u.q.next,
                        (struct future *)(kind == K_ANY || kind == K_ANY_OK
                                              ? VERDICT_OPEN
                                              : VERDICT_NONE),
                        memory_order_relaxed);
  (void)futures__gate_settle(f, kind == K_ANY_OK ? ENOENT : 0, NULL);
  *out = f;
  return 0;
}

/* What every combinator does. */
static int
combine(enum kind kind, future_t *const futures[], size_t n, future_t **out)
{
  struct comb *st;
  int rc;

  if (kind == K_ANY && n == 0) {
    if (out != NULL)
      *out = NULL;
    return EINVAL; /* a race with no runners never ends */
  }
  if ((rc = check_inputs(futures, n, out)) != 0)
    return rc;
  if (n == 0)
    return combine_none(kind, out);
  if ((rc = comb_new(kind, futures, n, &st)) != 0)
    return rc;
  /* The handle goes out before the state can be freed: the caller's
   * reference is its own from here on. */
  *out = st->out;
  comb_start(st);
  return 0;
}

int
futures_all(future_t *const futures[], size_t n, future_t **all)
{
  return combine(K_ALL, futures, n, all);
}

int
futures_all_settled(future_t *const futures[], size_t n, future_t **all)
{
  return combine(K_ALL_SETTLED, futures, n, all);
}

int
futures_any(future_t *const futures[], size_t n, future_t **any)
{
  return combine(K_ANY, futures, n, any);
}

int
futures_any_ok(future_t *const futures[], size_t n, future_t **any)
{
  return combine(K_ANY_OK, futures, n, any);
}

int
futures_winner(const future_t *combined, size_t *index)
{
  uintptr_t v;
  uint32_t s;

  if (index != NULL)
    *index = (size_t)-1;
  if (futures__record_bad(combined) || index == NULL ||
      !is_combinator(combined) || verdict_load(combined) == VERDICT_NONE)
    return EINVAL;
  s = futures__record_state(combined);
  if ((s & F_PHASE) != F_DONE)
    return EBUSY;
  v = verdict_load(combined);
  if ((s & F_CANCEL) || v == VERDICT_OPEN)
    return ENOENT;
  *index = (size_t)(v - VERDICT_OPEN - 1);
  return 0;
}

/* Under out's stripe, with out->arg still the state: one more party. */
static void
hold(struct combinator *c, void *ctx)
{
  struct comb *st = (struct comb *)(void *)c;

  /* Relaxed: the stripe orders it before the let-go's own count. */
  atomic_fetch_add_explicit(&st->parties, 1, memory_order_relaxed);
  *(struct comb **)ctx = st;
}

/* future_cancel() on an input through the state's reference, which is no
 * user handle: in debug builds a handle of our own keeps the check for use
 * after release quiet. */
static void
cancel_input(struct future *in)
{
#if FUTURES_DEBUG
  atomic_fetch_add_explicit(&in->handles, 1, memory_order_relaxed);
#endif
  (void)future_cancel(in);
  futures__record_handle_release(in);
}

int
futures_cancel_inputs(future_t *combined)
{
  struct comb *st = NULL;
  int rc;

  if (futures__record_bad(combined) || !is_combinator(combined))
    return EINVAL;
  if ((rc = futures__help_stale(combined)) != 0)
    return rc;
  if (futures__record_done(combined) ||
      !futures__record_with_combinator(combined, hold, &st))
    return EALREADY;
  /* Our count keeps every input referenced, even if a cancel below
   * settles the combinator and it lets go meanwhile. */
  for (size_t i = 0; i < st->n; i++)
    if (!futures__record_done(st->inputs[i].in))
      cancel_input(st->inputs[i].in);
  party_done(st);
  return 0;
}
