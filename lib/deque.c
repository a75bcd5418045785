/* SPDX-License-Identifier: MIT */
/*
 * deque.c - layer 2: the work-stealing deque (deque.h).
 */
#include "deque.h"

static struct deque_buf *
buf_new(long capacity)
{
  struct deque_buf *a;

  a = FUTURES_ALLOC_FLEX(struct deque_buf, slot, capacity);
  if (a == NULL)
    return NULL;
  a->mask = capacity - 1;
  a->retired = NULL;
  FUTURES_ATOMIC_RANGE(a->slot, (size_t)capacity * sizeof(a->slot[0]));
  return a;
}

int
futures__deque_init(struct deque *d, long capacity)
{
  struct deque_buf *a = buf_new(capacity);

  if (a == NULL)
    return ENOMEM;
  FUTURES_ATOMIC_VAR(d->top);
  FUTURES_ATOMIC_VAR(d->bottom);
  FUTURES_ATOMIC_VAR(d->buf);
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->buf, a);
  d->top_cache = 0;
  return 0;
}

void
futures__deque_fini(struct deque *d)
{
  struct deque_buf *a = atomic_load_explicit(&d->buf, memory_order_relaxed);

  while (a != NULL) {
    struct deque_buf *older = a->retired;

    FUTURES_PLAIN_RANGE(a->slot, (size_t)(a->mask + 1) * sizeof(a->slot[0]));
    FUTURES_FREE(a);
    a = older;
  }
  atomic_store_explicit(&d->buf, NULL, memory_order_relaxed);
}

/* Doubles the array. The old one is kept until fini: a thief may have
 * loaded it and still read from it; its entries stay valid. */
static struct deque_buf *
grow(struct deque *d, struct deque_buf *a, long t, long b)
{
  struct deque_buf *n = buf_new(2 * (a->mask + 1));
  long i;

  if (n == NULL)
    return NULL;
  for (i = t; i < b; i++) {
    struct future *x =
        atomic_load_explicit(&a->slot[i & a->mask], memory_order_relaxed);

    atomic_store_explicit(&n->slot[i & n->mask], x, memory_order_relaxed);
  }
  n->retired = a;
  FUTURES_HAPPENS_BEFORE(&d->buf);
  /* Release: a thief that loads the new array sees its entries. */
  atomic_store_explicit(&d->buf, n, memory_order_release);
  return n;
}

int
futures__deque_push(struct deque *d, struct future *f)
{
  /* Relaxed: only this thread writes bottom. */
  long b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  struct deque_buf *a = atomic_load_explicit(&d->buf, memory_order_relaxed);

  /* A stale top_cache only makes the array look fuller than it is: the
   * slot written below was freed by a steal that an earlier acquire load
   * of top saw, so that thief's read of it is done. Reading top on every
   * push would pull the thieves' line here each time one steals. */
  if (unlikely(b - d->top_cache > a->mask)) {
    /* Acquire: pairs with the thieves' compare-and-swap, which follows
     * their read of the slot it frees. */
    d->top_cache = atomic_load_explicit(&d->top, memory_order_acquire);
    if (b - d->top_cache > a->mask) {
      a = grow(d, a, d->top_cache, b);
      if (a == NULL)
        return ENOMEM;
    }
  }
  atomic_store_explicit(&a->slot[b & a->mask], f, memory_order_relaxed);
  /* Release: a thief that sees the new bottom sees the entry and the
   * record's fields written before the push. */
  atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
  return 0;
}

struct future *
futures__deque_pop(struct deque *d, long floor)
{
  long b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  struct deque_buf *a;
  struct future *x = NULL;
  long t;

  if (b < floor)
    return NULL;
  a = atomic_load_explicit(&d->buf, memory_order_relaxed);
  /* Seq_cst exchange (a full barrier, cheaper than store + mfence on x86):
   * the lowered bottom must be visible to thieves before we read top, or a
   * thief and the owner could both take the last entry. */
  atomic_exchange_explicit(&d->bottom, b, memory_order_seq_cst);
  t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  if (t <= b) {
    x = atomic_load_explicit(&a->slot[b & a->mask], memory_order_relaxed);
    if (t == b) {
      /* The last entry: race the thieves for it through top. */
      if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1,
                                                   memory_order_seq_cst,
                                                   memory_order_relaxed))
        x = NULL;
      atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    }
  } else {
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
  }
  return x;
}

struct future *
futures__deque_steal(struct deque *d, int *lost)
{
  long t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  struct deque_buf *a;
  struct future *x;
  long b;

  /* Seq_cst loads: ordered with the owner's seq_cst exchange in pop (see
   * there); also acquire, pairing with the release in push, so the entry
   * and the record's fields are visible. */
  b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
  if (t >= b)
    return NULL;
  a = atomic_load_explicit(&d->buf, memory_order_acquire);
  FUTURES_HAPPENS_AFTER(&d->buf);
  x = atomic_load_explicit(&a->slot[t & a->mask], memory_order_relaxed);
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1,
                                               memory_order_seq_cst,
                                               memory_order_relaxed)) {
    *lost = 1;
    return NULL;
  }
  return x;
}

long
futures__deque_size(struct deque *d)
{
  long b = atomic_load_explicit(&d->bottom, memory_order_acquire);
  long t = atomic_load_explicit(&d->top, memory_order_acquire);

  return b > t ? b - t : 0;
}

