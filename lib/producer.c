/* SPDX-License-Identifier: MIT */
/*
 * producer.c - submission rings for threads outside the pool.
 *
 * Every outside thread that submits to a pool gets a ring of its own in
 * that pool: a single-producer, single-consumer array. A submit is then a
 * store into the ring and a release store of the tail index: no atomic
 * read-modify-write, no lock, and no pointer chasing for the worker that
 * takes the tasks (it reads a run of consecutive slots, and can prefetch
 * the records they point to). Workers take from the rings one at a time,
 * serialised per ring by a try-lock flag. A full ring is not waited on: the
 * producer moves on to a ring twice the size and leaves the old one for the
 * consumer to drain and free.
 *
 * Registration. The thread keeps up to PREG_SLOTS (pool id, producer) pairs
 * in thread-local storage. A pool keeps its producers in a list that only
 * grows until the pool is destroyed, so workers walk it without a lock;
 * when a thread exits (or evicts a pair), its producer is marked unowned and
 * the next new submitting thread adopts it instead of allocating one.
 */
#include "future.h"
#include "pool.h"
#include "producer.h"

#include <stdlib.h>
#include <string.h>

#define RING_INIT 1024
#define PREG_SLOTS 8

struct ring {
  long mask;
  _Atomic unsigned long long switch_at; /* first index in the next ring */
  _Atomic(struct ring *) next;          /* set once, after switch_at */
  _Atomic(struct future *) slot[];
};

struct preg {
  unsigned long long pool_id; /* 0: empty */
  struct producer *p;
};

static FUTURES_TLS struct preg preg[PREG_SLOTS];
static FUTURES_TLS unsigned preg_victim;
static FUTURES_TLS int preg_keyed;
static pthread_key_t preg_key;

static struct ring *
ring_new(long capacity)
{
  struct ring *r =
      futures__malloc(sizeof(*r) + (size_t)capacity * sizeof(r->slot[0]));

  if (r == NULL)
    return NULL;
  r->mask = capacity - 1;
  FUTURES_ATOMIC_VAR(r->switch_at);
  FUTURES_ATOMIC_VAR(r->next);
  FUTURES_ATOMIC_RANGE(r->slot, (size_t)capacity * sizeof(r->slot[0]));
  atomic_init(&r->switch_at, ~0ULL);
  atomic_init(&r->next, NULL);
  return r;
}

static void
ring_free(struct ring *r)
{
  FUTURES_PLAIN_RANGE(r->slot, (size_t)(r->mask + 1) * sizeof(r->slot[0]));
  futures__free(r);
}

/* Marks every producer of the exiting thread unowned. */
static void
preg_release_all(void *unused)
{
  (void)unused;
  for (unsigned i = 0; i < PREG_SLOTS; i++) {
    if (preg[i].pool_id != 0)
      futures__pool_disown_producer(preg[i].pool_id, preg[i].p);
    preg[i].pool_id = 0;
  }
}

int
futures__producer_init(void)
{
  return pthread_key_create(&preg_key, preg_release_all);
}

static struct producer *
producer_new(void)
{
  struct producer *p = futures__aligned_malloc(sizeof(*p));

  if (p == NULL)
    return NULL;
  memset(p, 0, sizeof(*p));
  FUTURES_ATOMIC_VAR(p->tail);
  FUTURES_ATOMIC_VAR(p->head);
  FUTURES_ATOMIC_VAR(p->busy);
  FUTURES_ATOMIC_VAR(p->owned);
  FUTURES_ATOMIC_VAR(p->retracted);
  p->pring = ring_new(RING_INIT);
  if (p->pring == NULL) {
    futures__free(p);
    return NULL;
  }
  p->cring = p->pring;
  atomic_flag_clear(&p->busy);
  atomic_init(&p->owned, 1);
  return p;
}

/* Finds an unowned producer of @pool to adopt, or makes one. */
static struct producer *
producer_attach(struct futures_pool *pool)
{
  struct producer *p;

  for (p = futures__pool_producers(pool);
       p != NULL; p = p->next) {
    int unowned = 0;

    /* Acquire: the previous owner's producer-side fields. */
    if (atomic_load_explicit(&p->owned, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&p->owned, &unowned, 1,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      FUTURES_HAPPENS_AFTER(&p->owned);
      return p;
    }
  }
  p = producer_new();
  if (p == NULL)
    return NULL;
  p->next = atomic_load_explicit(&pool->producers, memory_order_relaxed);
  FUTURES_HAPPENS_BEFORE(&pool->producers);
  /* Release: a worker that finds p in the list sees it initialised. */
  while (!atomic_compare_exchange_weak_explicit(&pool->producers, &p->next, p,
                                                memory_order_release,
                                                memory_order_relaxed))
    ;
  return p;
}

struct producer *
futures__producer_find(struct futures_pool *pool)
{
  for (unsigned i = 0; i < PREG_SLOTS; i++)
    if (preg[i].pool_id == pool->id)
      return preg[i].p;
  return NULL;
}

struct producer *
futures__producer_get(struct futures_pool *pool)
{
  unsigned long long id = pool->id;
  struct producer *p;
  unsigned i;

  for (i = 0; i < PREG_SLOTS; i++)
    if (preg[i].pool_id == id)
      return preg[i].p;
  if (!preg_keyed) {
    if (pthread_setspecific(preg_key, preg) != 0)
      return NULL;
    preg_keyed = 1;
  }
  p = producer_attach(pool);
  if (p == NULL)
    return NULL;
  /* Use a free pair, or give up the oldest one. */
  for (i = 0; i < PREG_SLOTS && preg[i].pool_id != 0; i++)
    ;
  if (i == PREG_SLOTS) {
    i = preg_victim++ % PREG_SLOTS;
    futures__pool_disown_producer(preg[i].pool_id, preg[i].p);
  }
  preg[i].pool_id = id;
  preg[i].p = p;
  return p;
}

void
futures__producer_forget_all(void)
{
  /* After fork() in the child: the pairs name pools of the parent. */
  memset(preg, 0, sizeof(preg));
}

/* The producer's ring is full: continue in one at least twice as large. */
static struct ring *
ring_grow(struct producer *p, unsigned long long t, size_t n)
{
  long cap = 2 * (p->pring->mask + 1);
  struct ring *r;

  while ((unsigned long long)cap < n)
    cap *= 2;
  r = ring_new(cap);
  if (r == NULL)
    return NULL;
  atomic_store_explicit(&p->pring->switch_at, t, memory_order_relaxed);
  FUTURES_HAPPENS_BEFORE(&p->pring->next);
  /* Release: the consumer that sees next also sees switch_at. */
  atomic_store_explicit(&p->pring->next, r, memory_order_release);
  p->pring = r;
  p->pring_start = t;
  return r;
}

int
futures__producer_push(struct producer *p, struct future *const f[],
                       size_t n)
{
  /* Relaxed: only this thread writes tail. */
  unsigned long long t = atomic_load_explicit(&p->tail, memory_order_relaxed);
  struct ring *r = p->pring;
  unsigned long long from = p->head_cache > p->pring_start ? p->head_cache
                                                            : p->pring_start;

  if (unlikely(t + n - from > (unsigned long long)r->mask + 1)) {
    /* Acquire: the consumer has finished reading the slots it passed. */
    p->head_cache = atomic_load_explicit(&p->head, memory_order_acquire);
    from = p->head_cache > p->pring_start ? p->head_cache : p->pring_start;
    if (t + n - from > (unsigned long long)r->mask + 1 &&
        (r = ring_grow(p, t, n)) == NULL)
      return ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    atomic_store_explicit(&r->slot[(t + i) & (unsigned long long)r->mask],
                          f[i], memory_order_relaxed);
  /* Release: a consumer that reads the new tail sees the slots and the
   * records' fields. */
  atomic_store_explicit(&p->tail, t + n, memory_order_release);
  return 0;
}

int
futures__producer_nonempty(struct producer *p)
{
  return atomic_load_explicit(&p->tail, memory_order_acquire) !=
         atomic_load_explicit(&p->head, memory_order_relaxed);
}

size_t
futures__producer_take(struct producer *p, struct future **out, size_t max)
{
  unsigned long long h, t;
  struct ring *r;
  size_t n = 0;

  if (!futures__producer_nonempty(p) ||
      atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire))
    return 0;
  FUTURES_HAPPENS_AFTER(&p->busy);
  h = atomic_load_explicit(&p->head, memory_order_relaxed);
  t = atomic_load_explicit(&p->tail, memory_order_acquire);
  r = p->cring;
  while (h < t && n < max) {
    struct ring *next = atomic_load_explicit(&r->next, memory_order_acquire);

    if (next != NULL &&
        h >= atomic_load_explicit(&r->switch_at, memory_order_relaxed)) {
      FUTURES_HAPPENS_AFTER(&r->next);
      /* The producer has moved on and we have drained this ring. */
      ring_free(r);
      r = p->cring = next;
      continue;
    }
    out[n] = atomic_load_explicit(&r->slot[h & (unsigned long long)r->mask],
                                  memory_order_relaxed);
    __builtin_prefetch(out[n], 1);
    n++;
    h++;
  }
  /* Release: the producer may reuse the slots once it sees the new head. */
  atomic_store_explicit(&p->head, h, memory_order_release);
  FUTURES_HAPPENS_BEFORE(&p->busy);
  atomic_flag_clear_explicit(&p->busy, memory_order_release);
  return n;
}

size_t
futures__producer_retract(struct producer *p, struct future *const futures[],
                          size_t i, struct future **out, size_t max)
{
  unsigned long long t, h, from;
  struct ring *r = p->pring;
  size_t n = 0;

  if (i == 0 || !futures__producer_nonempty(p) ||
      atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire))
    return 0;
  FUTURES_HAPPENS_AFTER(&p->busy);
  /* Holding busy, we are the ring's only consumer: entries between head
   * and tail are ours to take from either end. */
  t = atomic_load_explicit(&p->tail, memory_order_relaxed);
  h = atomic_load_explicit(&p->head, memory_order_relaxed);
  from = h > p->pring_start ? h : p->pring_start;
  while (n < max && i > 0 && t > from) {
    struct future *f = atomic_load_explicit(
        &r->slot[(t - 1) & (unsigned long long)r->mask], memory_order_relaxed);

    if (f != futures[i - 1])
      break;
    out[n++] = f;
    t--;
    i--;
  }
  if (n > 0) {
    atomic_store_explicit(&p->tail, t, memory_order_release);
    atomic_store_explicit(
        &p->retracted,
        atomic_load_explicit(&p->retracted, memory_order_relaxed) + n,
        memory_order_relaxed);
  }
  FUTURES_HAPPENS_BEFORE(&p->busy);
  atomic_flag_clear_explicit(&p->busy, memory_order_release);
  return n;
}

unsigned long long
futures__producer_pushed(struct producer *p)
{
  /* Relaxed: statistics, exact once the owner is quiet. */
  unsigned long long r = atomic_load_explicit(&p->retracted,
                                              memory_order_relaxed);

  return r + atomic_load_explicit(&p->tail, memory_order_relaxed);
}

void
futures__producer_free(struct producer *p)
{
  struct ring *r = p->cring;

  while (r != NULL) {
    struct ring *next = atomic_load_explicit(&r->next, memory_order_relaxed);

    ring_free(r);
    r = next;
  }
  futures__free(p);
}
