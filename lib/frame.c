/* SPDX-License-Identifier: MIT */
/*
 * frame.c - layer 2: the frame deque (the protocol is described in
 * frame.h): the owner's slow moves (grow, shrink, waiting for a thief) and
 * the thief's side (steal, run, publish).
 */
#include "frame.h"

#include <sched.h>

/* How long an owner whose frame was stolen spins and leapfrogs before it
 * sleeps until the thief is done. */
#ifndef FRAME_SPIN_NS
#define FRAME_SPIN_NS 50000
#endif
/* Attempts between two reads of the clock (a power of 2). */
#ifndef FRAME_LOOKS
#define FRAME_LOOKS 64
#endif

#define TS(gen, tail, split)                                                  \
  ((uint64_t)(gen) << 32 | (uint64_t)(tail) << 16 | (uint64_t)(split))
#define TS_GEN(ts) ((uint32_t)((ts) >> 32))
#define TS_TAIL(ts) ((unsigned)((ts) >> 16) & 0xffffu)
#define TS_SPLIT(ts) ((unsigned)(ts) & 0xffffu)

/* 1 in a fork() child for a deque of a pool of the parent: its thieves
 * are in the parent. */
static inline int
stale(const struct fdeque *q)
{
  return unlikely(futures__forked()) &&
         q->fork_gen !=
             atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

void
futures__frame_init(struct fdeque *q, unsigned long fork_gen)
{
  FUTURES_ATOMIC_VAR(q->ts);
  FUTURES_ATOMIC_VAR(q->want);
  FUTURES_ATOMIC_RANGE(q->slot, sizeof(q->slot));
  atomic_init(&q->ts, TS(0, 0, 0));
  atomic_init(&q->want, 0);
  q->head = q->split = 0;
  q->fork_gen = fork_gen;
  q->running = NULL;
  for (unsigned i = 0; i < FRAME_CAP; i++)
    atomic_init(&q->slot[i], (struct frame *)NULL);
  futures__mutex_init(&q->lock);
  futures__cond_init(&q->cond);
}

void
futures__frame_fini(struct fdeque *q)
{
  futures__cond_destroy(&q->cond);
  futures__mutex_destroy(&q->lock);
  FUTURES_PLAIN_RANGE(q->slot, sizeof(q->slot));
}

/* ------------------------------------------------------------ owner */

/* Moves split up to @split (> q->split), sharing the frames below it. */
static void
share_to(struct fdeque *q, unsigned split)
{
  uint64_t ts;

  /* Relaxed load: the compare-and-swap checks it. Only the owner moves
   * split, so the low half is q->split; thieves may move tail meanwhile. */
  ts = atomic_load_explicit(&q->ts, memory_order_relaxed);
  /* Helgrind: the release below, paired with a claim's acquire. */
  FUTURES_HAPPENS_BEFORE(&q->ts);
  /* Release: a thief whose claim reads this word (or a later claim's)
   * sees the slots and frames written before. */
  while (!atomic_compare_exchange_weak_explicit(
      &q->ts, &ts, TS(TS_GEN(ts), TS_TAIL(ts), split), memory_order_release,
      memory_order_relaxed))
    ;
  q->split = split;
}

int
futures__frame_grow(struct fdeque *q)
{
  unsigned split = q->split + (q->head - q->split + 1) / 2;

  /* Relaxed: a request seen late, or cleared after a newer one, costs at
   * most one more grow or one spawn's delay. */
  atomic_store_explicit(&q->want, 0, memory_order_relaxed);
  if (split == q->split)
    return 0;
  share_to(q, split);
  return 1;
}

int
futures__frame_share_all(struct fdeque *q)
{
  /* Nothing private: the request stands for the next spawn. */
  if (q->head == q->split)
    return 0;
  /* Relaxed: as in futures__frame_grow(). */
  atomic_store_explicit(&q->want, 0, memory_order_relaxed);
  share_to(q, q->head);
  return 1;
}

int
futures__frame_reclaim(struct fdeque *q, struct frame *fr)
{
  unsigned h = q->head - 1;
  uint64_t ts;

  if (q->head == 0 ||
      atomic_load_explicit(&q->slot[h], memory_order_relaxed) != fr)
    return -1;
  ts = atomic_load_explicit(&q->ts, memory_order_relaxed);
  /* Frames are synced newest first, so every private one is gone: h is
   * split - 1, and shared unless a thief claimed it (tail > h). */
  while (TS_TAIL(ts) <= h) {
    unsigned split = (TS_TAIL(ts) + q->split) / 2; /* <= h */

    /* Relaxed: only thieves' claims race with this, and a claim reads
     * the slot after its own compare-and-swap. */
    if (atomic_compare_exchange_weak_explicit(
            &q->ts, &ts, TS(TS_GEN(ts), TS_TAIL(ts), split),
            memory_order_relaxed,
            memory_order_relaxed)) {
      q->split = split;
      q->head = h;
      return 1;
    }
  }
  return 0;
}

/* The thief of @fr is done, or about to be: sleep until it is. */
static void
sleep_until_done(struct fdeque *q, struct frame *fr)
{
  uintptr_t t = atomic_load_explicit(&fr->thief, memory_order_relaxed);

  /* Relaxed: the flag is read by the thief's exchange, which then takes
   * q->lock; our wait below rechecks under that lock. */
  do {
    if (t == FRAME_DONE)
      return;
  } while (!atomic_compare_exchange_weak_explicit(
      &fr->thief, &t, t | FRAME_SLEEPING, memory_order_relaxed,
      memory_order_relaxed));
  futures__mutex_lock(&q->lock);
  FUTURES_TP(FUTURES_TP_FRAME_SLEEP, fr);
  /* Predicate: the thief published FRAME_DONE (it signals q->cond). */
  while (atomic_load_explicit(&fr->thief, memory_order_relaxed) != FRAME_DONE)
    futures__cond_wait(&q->cond, &q->lock);
  futures__mutex_unlock(&q->lock);
}

static struct frame *steal(struct fdeque *v, int any, uint32_t gen);

int
futures__frame_wait(struct fdeque *q, struct frame *fr, long base)
{
  long long limit = 0;
  unsigned i = 0;
  uintptr_t t;

  /* Acquire: the thief's writes of the outcome (its exchange), and of
   * frame->gen before it named itself. */
  while ((t = atomic_load_explicit(&fr->thief, memory_order_acquire)) !=
         FRAME_DONE) {
    struct fdeque *thief = (struct fdeque *)(t & ~FRAME_SLEEPING);
    struct frame *y;

    /* A fork() child: the thief, in the parent, will not finish here. */
    if (stale(q))
      return ECHILD;
    /* Leapfrog, in the generation in which the thief's deque holds only
     * descendants of our frame (frame.h). Relaxed: read after the
     * acquire above; an older value only makes the claim fail. */
    if (thief != NULL) {
      uint32_t gen = atomic_load_explicit(&fr->gen, memory_order_relaxed);

      FUTURES_TP(FUTURES_TP_FRAME_LEAPFROG, fr);
      if ((y = steal(thief, 0, gen)) != NULL) {
        futures__frame_run_stolen(q, y, base);
        continue;
      }
    }
    if ((++i & (FRAME_LOOKS - 1)) != 0) {
      futures__cpu_relax();
      continue;
    }
    if (limit == 0) {
      limit = futures__now_ns() + FRAME_SPIN_NS;
    } else if (futures__now_ns() >= limit) {
      sleep_until_done(q, fr);
      continue; /* reads FRAME_DONE with acquire above */
    }
    /* Let the thief have the CPU if it shares ours. */
    sched_yield();
  }
  FUTURES_HAPPENS_AFTER(&fr->thief);
  futures__frame_forget(q);
  return 0;
}

void
futures__frame_forget(struct fdeque *q)
{
  /* Frames from the stolen one up were claimed, and all are synced now
   * (tail = split = head). Nothing is shared; the next push reuses the
   * slot. Relaxed: a thief reading either value finds nothing to take,
   * and the next grow's release publishes what follows. */
  uint64_t ts = atomic_load_explicit(&q->ts, memory_order_relaxed);

  q->head--;
  q->split = q->head;
  /* The generation is ours: only thieves' tails change meanwhile. */
  atomic_store_explicit(&q->ts, TS(TS_GEN(ts), q->head, q->head),
                        memory_order_relaxed);
}

/* Owner of @q: a run of a stolen frame in this thread ended; returns the
 * new generation. Relaxed: claims compare the whole word, and every share
 * after this is later in its modification order. */
static uint32_t
next_gen(struct fdeque *q)
{
  uint64_t ts = atomic_load_explicit(&q->ts, memory_order_relaxed);

  while (!atomic_compare_exchange_weak_explicit(
      &q->ts, &ts, TS(TS_GEN(ts) + 1u, TS_TAIL(ts), TS_SPLIT(ts)),
      memory_order_relaxed, memory_order_relaxed))
    ;
  return TS_GEN(ts) + 1u;
}

/* ------------------------------------------------------------ thieves */

/* Claims the oldest shared frame of @v; unless @any, only in generation
 * @gen. */
static struct frame *
steal(struct fdeque *v, int any, uint32_t gen)
{
  /* Relaxed: a look; the claim below acquires what it takes. */
  uint64_t ts = atomic_load_explicit(&v->ts, memory_order_relaxed);

  if (!any && TS_GEN(ts) != gen)
    return NULL;
  if (TS_TAIL(ts) >= TS_SPLIT(ts)) {
    futures__frame_ask(v);
    return NULL;
  }
  /* Acquire: the frames and slots written before the grow that shared
   * them (our claim continues its release sequence). */
  if (!atomic_compare_exchange_strong_explicit(
          &v->ts, &ts, TS(TS_GEN(ts), TS_TAIL(ts) + 1, TS_SPLIT(ts)),
          memory_order_acquire, memory_order_relaxed))
    return NULL;
  FUTURES_HAPPENS_AFTER(&v->ts);
  /* Relaxed: the claim ordered it; the owner rewrites this slot only after
   * it has synced this frame, which waits for us. */
  return atomic_load_explicit(&v->slot[TS_TAIL(ts)], memory_order_relaxed);
}

struct frame *
futures__frame_steal(struct fdeque *v)
{
  return steal(v, 1, 0);
}

void
futures__frame_run_stolen(struct fdeque *me, struct frame *fr, long base)
{
  struct futures_tls *tls = &futures__tls;
  struct future *saved = tls->current, *saved_chunk = tls->chunk_of;
  long saved_base = tls->base;
  void *saved_top = tls->frame_top;
  struct frame *outer = me->running;
  struct fdeque *owner = fr->owner;
  void *res = NULL;
  uintptr_t old;
  uint32_t gen;
  int rc;

  /* The generation our deque shares this frame's descendants in (frame.h,
   * "leapfrog"); relaxed: it is ours. Release on naming ourselves: the
   * owner reads it after the acquire that sees us. */
  gen = TS_GEN(atomic_load_explicit(&me->ts, memory_order_relaxed));
  atomic_store_explicit(&fr->gen, gen, memory_order_relaxed);
  atomic_fetch_or_explicit(&fr->thief, (uintptr_t)me, memory_order_release);
  /* The frame is part of its spawner's body: futures_cancelled() reads
   * that body's future; futures_on_cancel() is EPERM, as in a chunk of
   * futures_parallel_for() (a hook here would outlive the frame). */
  tls->current = fr->task;
  tls->chunk_of = fr->task;
  tls->base = base;
  /* Saved, cleared and restored in release builds too (only debug builds
   * read it): one word, cheaper than a second copy of this function. */
  tls->frame_top = NULL;
  fr->up = outer; /* ours until FRAME_DONE, like rc and result */
  me->running = fr;
  rc = fr->fn(fr->arg, &res);
  FUTURES_ASSERT(tls->frame_top == NULL &&
                 "futures_spawn(): a frame task returned with a frame it "
                 "spawned not synced");
  tls->frame_top = saved_top;
  me->running = outer;
  tls->current = saved;
  tls->chunk_of = saved_chunk;
  tls->base = saved_base;
  fr->rc = rc;
  fr->result = res;
  FUTURES_HAPPENS_BEFORE(&fr->thief);
  /* Release: the outcome, for the owner's acquire. The frame may be gone
   * once this is seen: owner was read before. */
  old = atomic_exchange_explicit(&fr->thief, FRAME_DONE, memory_order_release);
  /* Before anything else this thread does: a leapfrogging owner that read
   * the old generation claims nothing shared from now on. The enclosing
   * stolen runs on this deque (still running: their owners still wait)
   * learn the new one, in which our deque still holds only what runs
   * inside each of them. */
  gen = next_gen(me);
  for (struct frame *o = outer; o != NULL; o = o->up)
    atomic_store_explicit(&o->gen, gen, memory_order_relaxed);
  /* In a fork() child nobody sleeps on the owner's deque, whose lock may
   * have been copied locked. */
  if ((old & FRAME_SLEEPING) && !stale(owner)) {
    futures__mutex_lock(&owner->lock);
    /* Wakes the owner in sleep_until_done(), waiting for FRAME_DONE. */
    futures__cond_broadcast(&owner->cond);
    futures__mutex_unlock(&owner->lock);
  }
}

int
futures__frame_visible(struct fdeque *q)
{
  /* Relaxed: a look; a claim rereads it. */
  uint64_t ts = atomic_load_explicit(&q->ts, memory_order_relaxed);

  return TS_TAIL(ts) < TS_SPLIT(ts);
}

void
futures__frame_ask(struct fdeque *q)
{
  /* Read first: the owner reads this line on every spawn. Relaxed: a
   * request is a hint. */
  if (atomic_load_explicit(&q->want, memory_order_relaxed) == 0)
    atomic_store_explicit(&q->want, 1, memory_order_relaxed);
}
