/* SPDX-License-Identifier: MIT */
/*
 * pin.c - layer 2: hazard pins, which keep a pool's memory alive while a
 * thread uses it without being one of its workers (pin.h).
 */
#include "pin.h"

#include <sched.h>

#ifndef HAZARDS
#define HAZARDS 1024
#endif
#ifndef HAZARD_BUCKETS
#define HAZARD_BUCKETS 64
#endif

/* Atomic: hazard pins. An entry holds the pool one thread has pinned; when
 * every entry is taken, a pin falls back to a counter per bucket of
 * pools. */
static FUTURES_GLOBAL_ARRAY(_Atomic(struct sched *), hazards, HAZARDS);
static FUTURES_GLOBAL_ARRAY(_Atomic(long), overflow_pins, HAZARD_BUCKETS);

static unsigned
bucket_of(const struct sched *s)
{
  return (unsigned)(((uintptr_t)s / FUTURES_CACHELINE) % HAZARD_BUCKETS);
}

int
futures__pin_held(struct sched *s)
{
  struct futures_tls *tls = &futures__tls;
  unsigned start = tls->hazard_hint, i, k;

  if (start == 0)
    start = (unsigned)(((uintptr_t)tls / 64) % HAZARDS);
  for (i = 0; i < HAZARDS; i++) {
    struct sched *expect = NULL;

    k = (start + i) % HAZARDS;
    /* Seq_cst: ordered with the state load that validates a pin, and
     * with destroy's scan (see futures__pin_wait_unpinned). */
    if (atomic_load_explicit(&hazards[k], memory_order_relaxed) == NULL &&
        atomic_compare_exchange_strong_explicit(&hazards[k], &expect, s,
                                                memory_order_seq_cst,
                                                memory_order_relaxed)) {
      tls->hazard_hint = k;
      return (int)k;
    }
  }
  k = bucket_of(s);
  atomic_fetch_add_explicit(&overflow_pins[k], 1, memory_order_seq_cst);
  return HAZARDS + (int)k;
}

int
futures__pin(struct sched *s, struct future *f)
{
  int pin = futures__pin_held(s);

  /* Seq_cst, as the publication of DONE and destroy's scan are: either
   * the scan sees the pin, or this load sees DONE (every record is DONE
   * before the drain ends, which is before the scan), in which case we
   * must not use the pool. */
  if ((atomic_load_explicit(&f->state, memory_order_seq_cst) & F_PHASE) !=
      F_DONE)
    return pin;
  futures__unpin(pin);
  return -1;
}

void
futures__unpin(int pin)
{
  /* Release: our uses of the pool happen before destroy frees it. */
  if (pin < HAZARDS)
    atomic_store_explicit(&hazards[pin], (struct sched *)NULL,
                          memory_order_release);
  else
    atomic_fetch_sub_explicit(&overflow_pins[pin - HAZARDS], 1,
                              memory_order_release);
}

void
futures__pin_wait_unpinned(struct sched *s)
{
  /* Seq_cst fence: the drain's end (every record DONE) comes before the
   * scan in the single order of seq_cst operations. Pins taken after the
   * drain fail their check at once, so this wait is short. */
  atomic_thread_fence(memory_order_seq_cst);
  for (;;) {
    int busy = atomic_load_explicit(&overflow_pins[bucket_of(s)],
                                    memory_order_seq_cst) != 0;

    for (unsigned k = 0; k < HAZARDS && !busy; k++)
      busy = atomic_load_explicit(&hazards[k], memory_order_seq_cst) == s;
    if (!busy)
      return;
    sched_yield();
  }
}

void
futures__pin_global_init(void)
{
  FUTURES_ATOMIC_RANGE(hazards, HAZARDS * sizeof(hazards[0]));
  FUTURES_ATOMIC_RANGE(overflow_pins,
                       HAZARD_BUCKETS * sizeof(overflow_pins[0]));
}
