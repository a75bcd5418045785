/* SPDX-License-Identifier: MIT */
/*
 * help.c - layer 4: helping. A thread that waits for a task which has not
 * started runs it itself (future_get, the joins), taking it back from its
 * own submission ring when it is still there, else claiming it in place.
 * Either way the record goes through the gate (gate.c), and the waiter
 * learns that it finished only by reading its state.
 *
 * Such a thread is not a worker of the pool, so it first enters an
 * episode (futures__help_enter): a hazard pin keeps the pool's memory
 * alive, and sched->helpers keeps the drain from ending while it may still
 * run tasks or queue work. future_cancel() enters one too, since settling
 * a record readies its continuations.
 */
#include "help.h"

#include <sched.h>

/* Records taken back from a ring at once, at most. */
#define RETRACT_BATCH 32
/* A task this short is cheaper to run here than to wake a worker for. */
#define SHORT_TASK_NS 5000

#if FUTURES_TEST_HOOKS
size_t futures__tp_retract_first = 1;
#define RETRACT_FIRST futures__tp_retract_first
#else
#define RETRACT_FIRST 1
#endif

/* ------------------------------------------------------------ episodes */

int
futures__help_enter(struct help_ctx *h, struct future *f, int borrow)
{
  struct sched *s = f->sched;
  struct futures_tls *tls = &futures__tls;

  h->sched = s;
  h->saved_slot = tls->slot;
  h->saved_base = tls->base;
  h->took_slot = 0;
  h->pin = -1;
  h->active = 0;
  if (s == NULL)
    return 1; /* no pool to enter: a promise or a combinator's future */
  if (tls->slot != NULL && tls->slot->sched == s)
    return 1; /* a worker of this pool, or already inside an episode */
  h->pin = futures__pin(s, f);
  if (h->pin < 0)
    return 0;
  h->active = 1;
  /* Seq_cst: a worker deciding whether the drain has ended sees us. */
  atomic_fetch_add_explicit(&s->helpers, 1, memory_order_seq_cst);
  if (!borrow)
    return 1;
  tls->slot = NULL;
  for (unsigned i = s->nworkers; i < s->nslots; i++) {
    struct slot *sl = &s->slots[i];
    int free_ = 0;

    /* Acquire: the previous holder's deque and counter updates. */
    if (atomic_load_explicit(&sl->taken, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&sl->taken, &free_, 1,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      tls->slot = sl;
      h->took_slot = 1;
      break;
    }
  }
  return 1;
}

void
futures__help_exit(struct help_ctx *h)
{
  struct sched *s = h->sched;
  struct futures_tls *tls = &futures__tls;

  if (!h->active)
    return;
  h->active = 0;
  if (h->took_slot) {
    /* Sub-tasks nobody ran yet go where the workers find them. */
    futures__sched_hand_back(tls->slot);
    atomic_store_explicit(&tls->slot->taken, 0, memory_order_release);
  }
  tls->slot = h->saved_slot;
  tls->base = h->saved_base;
  /* Seq_cst: after everything we queued (see "The drain" in scheduler.c). */
  if (atomic_fetch_sub_explicit(&s->helpers, 1, memory_order_seq_cst) == 1 &&
      atomic_load_explicit(&s->stopping, memory_order_seq_cst) != STOP_NONE)
    futures__sched_poke(s); /* a drain may have been waiting for us */
  futures__unpin(h->pin);
}

void
futures__help_unwound(struct help_ctx *h)
{
  futures__help_exit(h);
}

/* ------------------------------------------------------------ running */

int
futures__help_stale(struct future *f)
{
  int pin, stale;

  if (likely(!futures__forked()) || futures__record_done(f))
    return 0;
  if (f->sched == NULL)
    return futures__record_ext(f)->gen !=
                   atomic_load_explicit(&futures__fork_gen,
                                        memory_order_relaxed)
               ? ECHILD
               : 0;
  /* The pin keeps a pool created in this process alive while we read it;
   * the parent's pools are never freed here. */
  pin = futures__pin(f->sched, f);
  if (pin < 0)
    return 0; /* it finished */
  stale = f->sched->gen !=
          atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  futures__unpin(pin);
  return stale ? ECHILD : 0;
}

int
futures__help_check_array(future_t *const futures[], size_t n)
{
  int rc;

  if (n > 0 && futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    if (futures__record_bad(futures[i]))
      return EINVAL;
  /* A fork() child: a parent's unfinished future never settles here, and
   * its waiter list belongs to threads that do not exist here. */
  for (size_t i = 0; i < n; i++)
    if ((rc = futures__help_stale(futures[i])) != 0)
      return rc;
  return 0;
}

int
futures__help_descendant(void)
{
  return futures__sched_run_descendant(futures__gate_run_helped);
}

void
futures__help_run(struct future *f)
{
  FUTURES_HELP_CTX(h);
  struct future *mine;
  struct ring *r;

  if ((futures__record_state(f) & F_PHASE) != F_QUEUED ||
      !futures__help_enter(&h, f, 1))
    return;
  /* Our own newest submission (the usual case: submit, then get): take it
   * back from our ring rather than leave a stale entry there. */
  r = h.pin >= 0 ? futures__sched_my_ring(f->sched) : NULL;
  if (r != NULL && futures__ring_retract(r, &f, 1, &mine, 1) == 1) {
    FUTURES_TP(FUTURES_TP_TAKEN_BACK, f);
    futures__gate_run(f, GATE_QREF | GATE_HELPED);
  } else {
    futures__gate_run(f, GATE_HELPED);
  }
  futures__help_exit(&h);
}

static void
unref_unwound(struct future **a)
{
  if (*a != NULL)
    futures__record_unref(*a);
}

/* How deep a waiter follows combinators nested in combinators, and how
 * many inputs one look may visit in all: combinators that share inputs
 * form a graph that a walk without the second bound could visit an
 * exponential number of times. */
#define HELP_NESTING 8
#define HELP_BUDGET  256

static int
help_inputs(struct future *f, int depth, int *budget)
{
  struct future *in[4];
  size_t from = 0, k;
  int ran = 0;

  while (!ran && from != SIZE_MAX && *budget > 0) {
    k = futures__record_inputs_to_help(f, &from, in, 4);
    for (size_t i = 0; i < k; i++) {
      /* The first input with something to run gets it; the others only
       * lose our reference. A task run here that exits the thread leaves
       * the later references behind: leaked, never freed early. */
      if (!ran && (*budget)-- > 0) {
        uint32_t s = futures__record_state(in[i]);

        if ((s & F_PHASE) == F_QUEUED) {
          futures__help_run(in[i]);
          ran = 1;
        } else if ((s & F_PHASE) == F_DEFERRED) {
          if (s & F_CONT)
            ran = futures__help_chain(in[i]);
          else if ((s & (F_NOPOOL | F_COMBINED)) == (F_NOPOOL | F_COMBINED) &&
                   depth > 0)
            ran = help_inputs(in[i], depth - 1, budget);
        }
      }
      futures__record_unref(in[i]);
    }
  }
  return ran;
}

int
futures__help_inputs(struct future *f)
{
  int budget = HELP_BUDGET;

  return help_inputs(f, HELP_NESTING, &budget);
}

int
futures__help_chain(struct future *c)
{
  /* The cleanup drops our reference if a task run here exits the thread. */
  struct future *a __attribute__((cleanup(unref_unwound))) =
      futures__record_ante_get(c);

  while (a != NULL) {
    uint32_t s = futures__record_state(a);
    struct future *next = NULL;

    if ((s & F_PHASE) == F_QUEUED) {
      futures__help_run(a);
      return 1;
    }
    if ((s & F_PHASE) == F_DEFERRED)
      next = futures__record_ante_get(a);
    futures__record_unref(a);
    a = next;
  }
  return 0;
}

/*
 * A batch taken back from a ring. If a task of the batch exits the thread
 * (pthread_exit()), the cleanup queues the records that have not run yet
 * where the workers find them, so none is lost.
 */
struct taken {
  struct sched *sched;
  struct future *rec[RETRACT_BATCH];
  size_t next, n;
};

static void
taken_unwound(struct taken *t)
{
  while (t->next < t->n)
    futures__sched_push(t->sched, t->rec[t->next++]);
}

/* Takes back and runs up to @want of futures[..i) from the caller's own
 * ring; returns how many were taken. */
static size_t
run_taken_back(struct ring *r, struct future *const futures[], size_t i,
               size_t want)
{
  struct taken t __attribute__((cleanup(taken_unwound)));

  t.sched = futures[i - 1]->sched;
  t.next = 0;
  t.n = futures__ring_retract(r, futures, i, t.rec, want);
  if (t.n > 0)
    FUTURES_TP(FUTURES_TP_BATCH_TAKEN, t.rec[0]);
  while (t.next < t.n) {
    struct future *f = t.rec[t.next++];

    futures__gate_run(f, GATE_QREF | GATE_HELPED);
  }
  return t.n;
}

/*
 * Newest first: the caller and the workers, which take the oldest first,
 * then meet in the middle instead of fighting over the same tasks. One
 * episode serves every consecutive future of the same pool.
 */
void
futures__help_run_all(struct future *const futures[], size_t n)
{
  FUTURES_HELP_CTX(h);
  int inside = 0;
  size_t i = n, want = RETRACT_FIRST;

  /* Our own sub-tasks first: usually these are the futures themselves. */
  while (futures__help_descendant())
    ;
  while (i > 0) {
    struct future *f = futures[i - 1];
    struct ring *r;
    size_t k;

    if ((futures__record_state(f) & F_PHASE) != F_QUEUED) {
      i--;
      continue;
    }
    if (inside && h.sched != f->sched) {
      futures__help_exit(&h);
      inside = 0;
    }
    if (!inside) {
      if (!futures__help_enter(&h, f, 1)) {
        i--;
        continue;
      }
      inside = 1;
    }
    r = h.pin >= 0 ? futures__sched_my_ring(f->sched) : NULL;
    if (r != NULL) {
      long long t0 = futures__now_ns();

      if ((k = run_taken_back(r, futures, i, want)) > 0) {
        i -= k;
        /* Take more at once only while tasks prove short: a long one taken
         * back with its siblings would hold them all in this thread while
         * the workers, woken when they were submitted, find nothing. */
        if (futures__now_ns() - t0 < (long long)k * SHORT_TASK_NS)
          want = want * 2 < RETRACT_BATCH ? want * 2 : RETRACT_BATCH;
        else
          want = 1;
        continue;
      }
    }
    futures__gate_run(f, GATE_HELPED);
    i--;
  }
  if (inside)
    futures__help_exit(&h);
}
