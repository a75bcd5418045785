/* SPDX-License-Identifier: MIT */
/*
 * macros.c - every name of lib/atomics.h in one file written the way lib/
 * files are, so that make check-model compiles it as C11 with the
 * project's warnings and, through macros.cpp, runs it under the shim. A
 * new rule for lib/ code gets its example here first.
 *
 * The "library": counters in stripes, each stripe's count guarded by one
 * of a global array of mutexes set up once; a global event count; a
 * per-thread tally in futures__tls; a bag of atomics allocated with a
 * flexible array; a ring of nodes linked through a union.
 */
#include "internal.h"

#include "macros.h"

#define STRIPES 4

static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;
static FUTURES_GLOBAL_ARRAY(pthread_mutex_t, stripe_lock, STRIPES);
static FUTURES_GLOBAL_ARRAY(_Atomic(long), stripe_count, STRIPES);
static FUTURES_GLOBAL(_Atomic(unsigned long), events);

static void
stripes_init(void)
{
  for (int i = 0; i < STRIPES; i++)
    futures__mutex_init(&stripe_lock[i]);
}

void
macros_stripe_add(int i, long n)
{
  long v;

  pthread_once(&stripes_once, stripes_init);
  futures__mutex_lock(&stripe_lock[i % STRIPES]);
  /* Relaxed: the stripe lock orders every update of this count. */
  v = atomic_load_explicit(&stripe_count[i % STRIPES], memory_order_relaxed);
  atomic_store_explicit(&stripe_count[i % STRIPES], v + n,
                        memory_order_relaxed);
  futures__mutex_unlock(&stripe_lock[i % STRIPES]);
  atomic_fetch_add_explicit(&events, 1, memory_order_relaxed);
  futures__tls.base += n;
}

long
macros_stripe_total(void)
{
  long sum = 0;

  for (int i = 0; i < STRIPES; i++)
    sum += atomic_load_explicit(&stripe_count[i], memory_order_relaxed);
  return sum;
}

unsigned long
macros_events(void)
{
  return atomic_load_explicit(&events, memory_order_relaxed);
}

long
macros_my_tally(void)
{
  return futures__tls.base;
}

struct macros_bag *
macros_bag_new(long n)
{
  struct macros_bag *b = FUTURES_ALLOC_FLEX(struct macros_bag, item, n);

  if (b == NULL)
    return NULL;
  b->n = n;
  for (long i = 0; i < n; i++)
    atomic_init(&b->item[i], 0);
  return b;
}

/* Sets bit @bit of item @i; returns the bits set before. */
unsigned long
macros_bag_set(struct macros_bag *b, long i, unsigned bit)
{
  return atomic_fetch_or_explicit(&b->item[i], 1UL << bit,
                                  memory_order_acq_rel);
}

/* Clears every bit of item @i but @keep; returns the bits set before. */
unsigned long
macros_bag_keep(struct macros_bag *b, long i, unsigned long keep)
{
  return atomic_fetch_and_explicit(&b->item[i], keep, memory_order_acq_rel);
}

void
macros_bag_free(struct macros_bag *b)
{
  FUTURES_FREE(b);
}

struct macros_node *
macros_ring_new(int n)
{
  struct macros_node *r = FUTURES_ALLOC_ARRAY(struct macros_node, n);

  if (r == NULL)
    return NULL;
  for (int i = 0; i < n; i++) {
    atomic_init(&r[i].u.next, &r[(i + 1) % n]);
    atomic_init(&r[i].refs, 1);
  }
  return r;
}

/* Takes a reference with a weak compare-and-swap loop, unless the count
 * has dropped to 0; returns 1 if it did. */
int
macros_node_ref(struct macros_node *x)
{
  int r = atomic_load_explicit(&x->refs, memory_order_relaxed);

  do {
    if (r == 0)
      return 0;
  } while (!atomic_compare_exchange_weak_explicit(
      &x->refs, &r, r + 1, memory_order_acquire, memory_order_relaxed));
  return 1;
}

/* Drops a reference; returns 1 if it was the last. */
int
macros_node_unref(struct macros_node *x)
{
  return atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) == 1;
}

void
macros_ring_free(struct macros_node *r, int n)
{
  FUTURES_FREE_ARRAY(r, n);
}

/* The asymmetric barrier pair in a store-buffering test: each side stores
 * its flag, fences, and reads the other's; at least one sees the other's
 * store. */
int
macros_sb_light(_Atomic(int) *mine, _Atomic(int) *theirs)
{
  atomic_store_explicit(mine, 1, memory_order_relaxed);
  futures__light_barrier();
  return atomic_load_explicit(theirs, memory_order_relaxed);
}

int
macros_sb_heavy(_Atomic(int) *mine, _Atomic(int) *theirs)
{
  atomic_store_explicit(mine, 1, memory_order_relaxed);
  futures__heavy_barrier();
  return atomic_load_explicit(theirs, memory_order_relaxed);
}

/* Spins until *@flag is set, then returns *@data. */
long
macros_spin_read(_Atomic(int) *flag, _Atomic(long) *data)
{
  while (!atomic_load_explicit(flag, memory_order_acquire))
    futures__cpu_relax();
  return atomic_load_explicit(data, memory_order_relaxed);
}

void
macros_publish(_Atomic(int) *flag, _Atomic(long) *data, long v)
{
  atomic_store_explicit(data, v, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(flag, 1, memory_order_relaxed);
}

long
macros_swap(_Atomic(long) *p, long v)
{
  return atomic_exchange_explicit(p, v, memory_order_seq_cst);
}
