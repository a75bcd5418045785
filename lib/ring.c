/* SPDX-License-Identifier: MIT */
/*
 * ring.c - layer 2: submission rings (ring.h).
 */
#include "ring.h"

/* The first array's capacity (it doubles as needed). A model may ask for
 * a small one. */
#ifndef RING_INIT
#define RING_INIT 1024
#endif

static struct ring_buf *
ring_buf_new(long capacity)
{
  struct ring_buf *b = FUTURES_ALLOC_FLEX(struct ring_buf, slot, capacity);

  if (b == NULL)
    return NULL;
  b->mask = capacity - 1;
  FUTURES_ATOMIC_VAR(b->switch_at);
  FUTURES_ATOMIC_VAR(b->next);
  FUTURES_ATOMIC_RANGE(b->slot, (size_t)capacity * sizeof(b->slot[0]));
  atomic_init(&b->switch_at, ~0ULL);
  atomic_init(&b->next, (struct ring_buf *)NULL);
  return b;
}

static void
ring_buf_free(struct ring_buf *b)
{
  FUTURES_PLAIN_RANGE(b->slot, (size_t)(b->mask + 1) * sizeof(b->slot[0]));
  FUTURES_FREE(b);
}

int
futures__ring_init(struct ring *r)
{
  FUTURES_ATOMIC_VAR(r->tail);
  FUTURES_ATOMIC_VAR(r->head);
  FUTURES_ATOMIC_VAR(r->busy);
  FUTURES_ATOMIC_VAR(r->retracted);
  atomic_init(&r->tail, 0);
  r->ptail = 0;
  atomic_init(&r->head, 0);
  atomic_init(&r->busy, 0);
  atomic_init(&r->retracted, 0);
  r->pbuf_start = 0;
  r->head_cache = 0;
  r->pbuf = ring_buf_new(RING_INIT);
  r->cbuf = r->pbuf;
  return r->pbuf != NULL ? 0 : ENOMEM;
}

void
futures__ring_fini(struct ring *r)
{
  struct ring_buf *b = r->cbuf;

  while (b != NULL) {
    struct ring_buf *next =
        atomic_load_explicit(&b->next, memory_order_relaxed);

    ring_buf_free(b);
    b = next;
  }
  r->cbuf = r->pbuf = NULL;
}

/* The owner's array is full: continue in one at least twice as large. */
static struct ring_buf *
ring_grow(struct ring *r, unsigned long long t, size_t n)
{
  long cap = 2 * (r->pbuf->mask + 1);
  struct ring_buf *b;

  while ((unsigned long long)cap < n)
    cap *= 2;
  b = ring_buf_new(cap);
  if (b == NULL)
    return NULL;
  atomic_store_explicit(&r->pbuf->switch_at, t, memory_order_relaxed);
  FUTURES_HAPPENS_BEFORE(&r->pbuf->next);
  /* Release: the consumer that sees next also sees switch_at. */
  atomic_store_explicit(&r->pbuf->next, b, memory_order_release);
  r->pbuf = b;
  r->pbuf_start = t;
  return b;
}

int
futures__ring_push(struct ring *r, struct future *const f[], size_t n)
{
  /* Only this thread writes tail: its own copy, in a line no consumer
   * reads, spares a load of the line they keep reading. */
  unsigned long long t = r->ptail;
  struct ring_buf *b = r->pbuf;
  unsigned long long from =
      r->head_cache > r->pbuf_start ? r->head_cache : r->pbuf_start;

  if (unlikely(t + n - from > (unsigned long long)b->mask + 1)) {
    /* Acquire: the consumer has finished reading the slots it passed. */
    r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    from = r->head_cache > r->pbuf_start ? r->head_cache : r->pbuf_start;
    if (t + n - from > (unsigned long long)b->mask + 1 &&
        (b = ring_grow(r, t, n)) == NULL)
      return ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    atomic_store_explicit(&b->slot[(t + i) & (unsigned long long)b->mask],
                          f[i], memory_order_relaxed);
  /* Release: a consumer that reads the new tail sees the slots and the
   * records' fields. */
  atomic_store_explicit(&r->tail, t + n, memory_order_release);
  r->ptail = t + n;
  return 0;
}

int
futures__ring_nonempty(struct ring *r)
{
  return atomic_load_explicit(&r->tail, memory_order_acquire) !=
         atomic_load_explicit(&r->head, memory_order_relaxed);
}

/* The consumers' try-lock. A plain load first, so that a busy ring costs
 * no write to its line. Acquire: the previous holder's head and cbuf. */
static int
try_lock(struct ring *r)
{
  if (atomic_load_explicit(&r->busy, memory_order_relaxed) != 0 ||
      atomic_exchange_explicit(&r->busy, 1, memory_order_acquire) != 0)
    return 0;
  FUTURES_HAPPENS_AFTER(&r->busy);
  return 1;
}

static void
unlock(struct ring *r)
{
  FUTURES_HAPPENS_BEFORE(&r->busy);
  /* Release: our head and cbuf updates, for the next holder. */
  atomic_store_explicit(&r->busy, 0, memory_order_release);
}

size_t
futures__ring_take(struct ring *r, struct future **out, size_t max)
{
  unsigned long long h, t;
  struct ring_buf *b;
  size_t n = 0;

  if (!futures__ring_nonempty(r) || !try_lock(r))
    return 0;
  h = atomic_load_explicit(&r->head, memory_order_relaxed);
  t = atomic_load_explicit(&r->tail, memory_order_acquire);
  b = r->cbuf;
  while (h < t && n < max) {
    struct ring_buf *next =
        atomic_load_explicit(&b->next, memory_order_acquire);

    if (next != NULL &&
        h >= atomic_load_explicit(&b->switch_at, memory_order_relaxed)) {
      FUTURES_HAPPENS_AFTER(&b->next);
      /* The owner has moved on and we have drained this array. */
      ring_buf_free(b);
      b = r->cbuf = next;
      continue;
    }
    out[n] = atomic_load_explicit(&b->slot[h & (unsigned long long)b->mask],
                                  memory_order_relaxed);
    __builtin_prefetch(out[n], 1);
    n++;
    h++;
  }
  /* Release: the owner may reuse the slots once it sees the new head. */
  atomic_store_explicit(&r->head, h, memory_order_release);
  unlock(r);
  return n;
}

size_t
futures__ring_retract(struct ring *r, struct future *const futures[],
                      size_t i, struct future **out, size_t max)
{
  unsigned long long t, h, from;
  struct ring_buf *b = r->pbuf;
  size_t n = 0;

  if (i == 0 || !futures__ring_nonempty(r) || !try_lock(r))
    return 0;
  /* Holding busy, we are the ring's only consumer: records between head
   * and tail are ours to take from either end. */
  t = r->ptail;
  h = atomic_load_explicit(&r->head, memory_order_relaxed);
  from = h > r->pbuf_start ? h : r->pbuf_start;
  while (n < max && i > 0 && t > from) {
    struct future *f = atomic_load_explicit(
        &b->slot[(t - 1) & (unsigned long long)b->mask], memory_order_relaxed);

    if (f != futures[i - 1])
      break;
    out[n++] = f;
    t--;
    i--;
  }
  if (n > 0) {
    /* Release: pairs with consumers' acquire of tail (they must not see a
     * tail beyond what is there; they hold no record we took). */
    atomic_store_explicit(&r->tail, t, memory_order_release);
    r->ptail = t;
    atomic_store_explicit(
        &r->retracted,
        atomic_load_explicit(&r->retracted, memory_order_relaxed) + n,
        memory_order_relaxed);
  }
  unlock(r);
  return n;
}

unsigned long long
futures__ring_pushed(struct ring *r)
{
  /* Relaxed: statistics, exact once the owner is quiet. */
  unsigned long long n =
      atomic_load_explicit(&r->retracted, memory_order_relaxed);

  return n + atomic_load_explicit(&r->tail, memory_order_relaxed);
}
