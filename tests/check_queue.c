/* SPDX-License-Identifier: MIT */
/*
 * check_queue (internal): the two task queues of lib/queue.h, tested on
 * their own API with fake records (struct future objects from calloc that
 * are only ever used as pointers and, for the injection queue, for their
 * u.q.next link and their arg field, which carries a tag).
 *
 * Deque: LIFO pops, FIFO steals, growth far past the initial capacity,
 * pops with a floor, a failed growth (ENOMEM, the deque left intact), and
 * the owner racing thieves with a per-entry count proving that every entry
 * is taken exactly once. Injection queue: FIFO order, chains, many
 * producers against a consumer holding the try-lock (every record once,
 * each producer's order kept), the try-lock's exclusion and
 * futures__inject_nonempty().
 *
 * Helper threads never assert: they record what they took, and the test
 * thread checks after joining them. FUTURES_STRESS_SCALE (a factor, e.g.
 * 0.01 under valgrind) scales the concurrent counts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "deque.h"
#include "inject.h"
#include "ring.h"
#include "internal.h"
#include "record.h"
#include "testutil.h"

Suite *queue_suite(void);

/* ------------------------------------------------------------ helpers */

/* @n zeroed fake records. */
static struct future *
records_new(long n)
{
  struct future *r = calloc((size_t)n, sizeof(*r));

  ck_assert_ptr_nonnull(r);
  return r;
}

/* Index of @f in the array @base, or -1 if it is not one of its @n. */
static long
record_index(const struct future *base, long n, const struct future *f)
{
  if (f == NULL || f < base || f >= base + n)
    return -1;
  return (long)(f - base);
}

/* A deque allocated with the alignment its members ask for. */
static struct deque *
deque_new(long capacity)
{
  struct deque *d = aligned_alloc(FUTURES_CACHELINE, sizeof(*d));

  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(futures__deque_init(d, capacity), 0);
  return d;
}

static void
deque_delete(struct deque *d)
{
  futures__deque_fini(d);
  free(d);
}

static struct inject *
inject_new(void)
{
  struct inject *q = aligned_alloc(FUTURES_CACHELINE, sizeof(*q));

  ck_assert_ptr_nonnull(q);
  futures__inject_init(q);
  return q;
}

/* Pops until a record comes out or @spins attempts returned NULL. */
static struct future *
inject_pop_patient(struct inject *q, long spins)
{
  struct future *f;

  while ((f = futures__inject_pop(q)) == NULL && spins-- > 0)
    sched_yield();
  return f;
}

/* ------------------------------------------------------------ deque */

/*
 * The owner's pops return the newest entry first (LIFO), then NULL; the
 * size follows every push and pop; an empty deque pops and steals NULL.
 */
START_TEST(test_queue_deque_pop_is_lifo)
{
  struct future *r = records_new(8);
  struct deque *d = deque_new(16);
  int lost = 0;

  ck_assert_ptr_null(futures__deque_pop(d, 0));
  ck_assert_ptr_null(futures__deque_steal(d, &lost));
  ck_assert_int_eq(lost, 0);
  for (int i = 0; i < 8; i++) {
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
    ck_assert_int_eq(futures__deque_size(d), i + 1);
  }
  for (int i = 7; i >= 0; i--) {
    ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[i]);
    ck_assert_int_eq(futures__deque_size(d), i);
  }
  ck_assert_ptr_null(futures__deque_pop(d, 0));
  ck_assert_int_eq(futures__deque_size(d), 0);
  deque_delete(d);
  free(r);
}
END_TEST

/*
 * Steals return the oldest entry first (FIFO), then NULL without a lost
 * race (nobody else uses the deque); steals and pops meet in the middle
 * without giving out an entry twice.
 */
START_TEST(test_queue_deque_steal_is_fifo)
{
  struct future *r = records_new(10);
  struct deque *d = deque_new(16);
  int lost = 0;

  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
  for (int i = 0; i < 5; i++) {
    ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[i]);
    ck_assert_int_eq(lost, 0);
  }
  ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[9]);
  ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[5]);
  ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[8]);
  ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[7]);
  ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[6]);
  ck_assert_ptr_null(futures__deque_steal(d, &lost));
  ck_assert_ptr_null(futures__deque_pop(d, 0));
  ck_assert_int_eq(lost, 0);
  ck_assert_int_eq(futures__deque_size(d), 0);
  deque_delete(d);
  free(r);
}
END_TEST

/*
 * Growth: from a capacity of 4, 100,000 pushes (the array doubles 15
 * times) keep every entry; half come back by steals in push order and half
 * by pops in reverse order, each exactly once.
 */
START_TEST(test_queue_deque_grows_past_initial_capacity)
{
  enum { N = 100000 };
  struct future *r = records_new(N);
  struct deque *d = deque_new(4);
  int lost = 0;

  for (long i = 0; i < N; i++)
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
  ck_assert_int_eq(futures__deque_size(d), N);
  ck_assert_int_eq(futures__deque_bottom(d), N);
  for (long i = 0; i < N / 2; i++)
    ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[i]);
  for (long i = N - 1; i >= N / 2; i--)
    ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[i]);
  ck_assert_ptr_null(futures__deque_pop(d, 0));
  ck_assert_ptr_null(futures__deque_steal(d, &lost));
  ck_assert_int_eq(lost, 0);

  /* Indices only grow: the pop of the last entry moved top past it, so
   * the next push gets index N / 2 + 1, and the grown deque still works. */
  ck_assert_int_eq(futures__deque_bottom(d), N / 2 + 1);
  ck_assert_int_eq(futures__deque_push(d, &r[0]), 0);
  ck_assert_int_eq(futures__deque_bottom(d), N / 2 + 2);
  ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[0]);
  deque_delete(d);
  free(r);
}
END_TEST

/*
 * A pop with a floor returns only entries whose index is >= the floor:
 * with entries 0..9, pop(5) yields 9, 8, 7, 6, 5 and then NULL while the
 * older ones stay; after steals of 0 and 1, pop(3) yields 4, 3 and stops.
 * A floor above bottom returns NULL and leaves the deque alone.
 */
START_TEST(test_queue_deque_pop_respects_floor)
{
  struct future *r = records_new(10);
  struct deque *d = deque_new(8);
  int lost = 0;

  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
  ck_assert_ptr_null(futures__deque_pop(d, 11));
  ck_assert_ptr_null(futures__deque_pop(d, 10));
  ck_assert_int_eq(futures__deque_size(d), 10);
  for (int i = 9; i >= 5; i--)
    ck_assert_ptr_eq(futures__deque_pop(d, 5), &r[i]);
  ck_assert_ptr_null(futures__deque_pop(d, 5));
  ck_assert_int_eq(futures__deque_size(d), 5);
  ck_assert_int_eq(futures__deque_bottom(d), 5);

  ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[0]);
  ck_assert_ptr_eq(futures__deque_steal(d, &lost), &r[1]);
  ck_assert_ptr_eq(futures__deque_pop(d, 3), &r[4]);
  ck_assert_ptr_eq(futures__deque_pop(d, 3), &r[3]);
  ck_assert_ptr_null(futures__deque_pop(d, 3));
  ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[2]);
  ck_assert_ptr_null(futures__deque_pop(d, 0));

  /* Taking the last entry (index 2) moved top past it: indices never go
   * back, so the next push gets index 3, which a floor of 4 refuses and a
   * floor of 3 admits. */
  ck_assert_int_eq(futures__deque_bottom(d), 3);
  ck_assert_int_eq(futures__deque_push(d, &r[7]), 0);
  ck_assert_ptr_null(futures__deque_pop(d, 4));
  ck_assert_ptr_eq(futures__deque_pop(d, 3), &r[7]);
  ck_assert_int_eq(lost, 0);
  deque_delete(d);
  free(r);
}
END_TEST

/*
 * A push that must grow the array and cannot (the allocation hook fails
 * it) returns ENOMEM and changes nothing: the full deque still gives back
 * exactly its entries, and the next push grows it.
 */
START_TEST(test_queue_deque_push_enomem_leaves_deque_intact)
{
  struct future *r = records_new(9);
  struct deque *d = deque_new(8);
  long attempts;

  for (int i = 0; i < 8; i++)
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
  attempts = futures__fault_alloc_count();
  futures__fault_alloc_at(1);
  ck_assert_int_eq(futures__deque_push(d, &r[8]), ENOMEM);
  futures__fault_alloc_at(0);
  ck_assert_int_eq(futures__fault_alloc_count() - attempts, 1);
  ck_assert_int_eq(futures__deque_size(d), 8);
  ck_assert_int_eq(futures__deque_bottom(d), 8);
  for (int i = 7; i >= 0; i--)
    ck_assert_ptr_eq(futures__deque_pop(d, 0), &r[i]);
  ck_assert_ptr_null(futures__deque_pop(d, 0));
  for (int i = 0; i < 9; i++)
    ck_assert_int_eq(futures__deque_push(d, &r[i]), 0);
  ck_assert_int_eq(futures__deque_size(d), 9);
  deque_delete(d);
  free(r);
}
END_TEST

/* Owner against thieves. */
struct steal_race {
  struct deque *d;
  struct future *recs;
  long n;
  atomic_int *taken;     /* per record: how many times it came out */
  atomic_int owner_done; /* the owner has pushed everything */
  atomic_long stolen;
  atomic_long lost_races;
  atomic_long foreign; /* pointers that are not one of the records */
  atomic_int ready;    /* thieves at the start line */
  int line_up;         /* thieves wait until this many are ready */
};

/* Counts every entry of @s taken once, more than once and never. */
static void
steal_race_tally(struct steal_race *s, long *missing, long *dup)
{
  *missing = *dup = 0;
  for (long i = 0; i < s->n; i++) {
    int c = atomic_load(&s->taken[i]);

    if (c == 0)
      (*missing)++;
    else if (c > 1)
      *dup += c - 1;
  }
}

/* Counts one entry taken out of the deque, by the owner or by a thief. */
static void
steal_race_took(struct steal_race *s, const struct future *f)
{
  long k = record_index(s->recs, s->n, f);

  if (k < 0)
    atomic_fetch_add(&s->foreign, 1);
  else
    atomic_fetch_add(&s->taken[k], 1);
}

/*
 * After the thieves are joined: every entry came out exactly once (@popped
 * of them by the owner, the rest by thieves), nothing else came out, and
 * the deque is empty.
 */
static void
steal_race_check(struct steal_race *s, long popped)
{
  long missing, dup;

  steal_race_tally(s, &missing, &dup);
  ck_assert_msg(missing == 0 && dup == 0 && atomic_load(&s->foreign) == 0,
                "of %ld entries: %ld missing, %ld duplicated, %ld foreign",
                s->n, missing, dup, atomic_load(&s->foreign));
  ck_assert_int_eq(popped + atomic_load(&s->stolen), s->n);
  ck_assert_int_eq(futures__deque_size(s->d), 0);
}

/*
 * For helgrind (a build with --enable-valgrind-annotations): the counters
 * and flags are C11 atomics, and the fake records only travel through the
 * queue under test, whose ordering TSan checks; helgrind follows neither,
 * so it is told not to check them. No-ops in other builds.
 */
static void
steal_race_init(struct steal_race *s, long n, long capacity)
{
  s->d = deque_new(capacity);
  s->recs = records_new(n);
  s->n = n;
  s->taken = calloc((size_t)n, sizeof(*s->taken));
  ck_assert_ptr_nonnull(s->taken);
  atomic_init(&s->owner_done, 0);
  atomic_init(&s->stolen, 0);
  atomic_init(&s->lost_races, 0);
  atomic_init(&s->foreign, 0);
  atomic_init(&s->ready, 0);
  s->line_up = 0;
  FUTURES_ATOMIC_RANGE(s->recs, (size_t)n * sizeof(*s->recs));
  FUTURES_ATOMIC_RANGE(s->taken, (size_t)n * sizeof(*s->taken));
  FUTURES_ATOMIC_RANGE(&s->owner_done,
                       sizeof(*s) - offsetof(struct steal_race, owner_done));
}

static void
steal_race_fini(struct steal_race *s)
{
  FUTURES_PLAIN_RANGE(s->recs, (size_t)s->n * sizeof(*s->recs));
  FUTURES_PLAIN_RANGE(s->taken, (size_t)s->n * sizeof(*s->taken));
  FUTURES_PLAIN_RANGE(&s->owner_done,
                      sizeof(*s) - offsetof(struct steal_race, owner_done));
  deque_delete(s->d);
  free(s->taken);
  free(s->recs);
}

static void
thief_main(void *arg, int i)
{
  struct steal_race *s = arg;
  long lost_races = 0;

  (void)i;
  /* Line up, so that the thieves start stealing at the same moment. */
  atomic_fetch_add(&s->ready, 1);
  while (atomic_load(&s->ready) < s->line_up)
    futures__cpu_relax();
  for (;;) {
    int lost = 0;
    struct future *f = futures__deque_steal(s->d, &lost);

    if (f == NULL) {
      lost_races += lost;
      /* Acquire: after the owner's last push, an empty deque stays
       * empty (only the owner adds), so we may leave. */
      if (atomic_load_explicit(&s->owner_done, memory_order_acquire) &&
          futures__deque_size(s->d) == 0)
        break;
      if (!lost)
        sched_yield();
      continue;
    }
    steal_race_took(s, f);
    /* Relaxed: a count, read by the owner only to see that stealing has
     * begun, and exactly after the joins. */
    atomic_fetch_add_explicit(&s->stolen, 1, memory_order_relaxed);
  }
  atomic_fetch_add(&s->lost_races, lost_races);
}

struct thieves {
  struct steal_race *s;
  int n;
};

static void *
thieves_main(void *arg)
{
  struct thieves *t = arg;

  tu_run_threads(t->n, thief_main, t->s);
  return NULL;
}

/*
 * The owner pushes N entries into a deque that starts at capacity 8 (so
 * it grows while thieves read it), popping a few after every few pushes;
 * three thieves steal all along. Every entry comes out exactly once, none
 * is lost or duplicated, even in the owner's pop of the last entry, which
 * races the thieves through top. Unsynchronised counts: the checks come
 * after every thief is joined.
 */
START_TEST(test_queue_deque_owner_and_thieves_take_each_entry_once)
{
  long n = tu_scaled(1000000, 20000);
  struct steal_race s;
  struct thieves t;
  pthread_t th;
  long popped = 0;
  uint64_t rng = 0x9e3779b97f4a7c15ULL;

  steal_race_init(&s, n, 8);
  t.s = &s;
  t.n = 3;
  ck_assert_int_eq(pthread_create(&th, NULL, thieves_main, &t), 0);

  for (long i = 0; i < n; i++) {
    if (futures__deque_push(s.d, &s.recs[i]) != 0)
      break; /* ENOMEM: the check below reports the missing entries */
    /* xorshift64: after about one push in four, pop up to 3. */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    if ((rng & 3) == 0) {
      for (unsigned k = (unsigned)(rng >> 8) % 4; k > 0; k--) {
        struct future *f = futures__deque_pop(s.d, 0);

        if (f == NULL)
          break;
        steal_race_took(&s, f);
        popped++;
      }
    }
  }
  /* Make sure the thieves took part (a scheduler that runs this thread
   * alone for long, as valgrind's does, could otherwise leave them out),
   * then pop what is left, racing them to the end. */
  while (atomic_load_explicit(&s.stolen, memory_order_relaxed) == 0 &&
         futures__deque_size(s.d) > 0)
    sched_yield();
  for (;;) {
    struct future *f = futures__deque_pop(s.d, 0);

    if (f == NULL) {
      if (futures__deque_size(s.d) == 0)
        break;
      continue;
    }
    steal_race_took(&s, f);
    popped++;
  }
  atomic_store_explicit(&s.owner_done, 1, memory_order_release);
  pthread_join(th, NULL);

  steal_race_check(&s, popped);
  /* Without any steal the test proved nothing about the race (the owner
   * waits for one above, unless it had taken every entry itself). */
  ck_assert_int_gt(atomic_load(&s.stolen), 0);
  steal_race_fini(&s);
}
END_TEST

/*
 * Thieves against each other: the deque is filled first, then two thieves
 * (one per core on a 2-core machine) steal it empty at the same time, so
 * they keep colliding on top. Each entry comes out exactly once; the
 * losers of the collisions report a lost race instead of an entry.
 */
START_TEST(test_queue_deque_thieves_racing_each_other_take_each_entry_once)
{
  long n = tu_scaled(400000, 20000);
  struct steal_race s;
  struct thieves t;
  pthread_t th;

  steal_race_init(&s, n, 1024);
  for (long i = 0; i < n; i++)
    ck_assert_int_eq(futures__deque_push(s.d, &s.recs[i]), 0);
  atomic_store_explicit(&s.owner_done, 1, memory_order_release);
  s.line_up = 2;
  t.s = &s;
  t.n = 2;
  ck_assert_int_eq(pthread_create(&th, NULL, thieves_main, &t), 0);
  pthread_join(th, NULL);
  steal_race_check(&s, 0); /* every entry stolen */
  steal_race_fini(&s);
}
END_TEST

/*
 * The owner and a thief racing for the last entry, over and over: the
 * owner pushes one or two entries and pops until the deque is empty while
 * a thief steals all along, so most pops are of the last entry, where the
 * owner and the thief meet on top. Each entry is taken exactly once.
 */
START_TEST(test_queue_deque_owner_and_thief_race_for_the_last_entry)
{
  long n = tu_scaled(400000, 20000), popped = 0;
  struct steal_race s;
  struct thieves t;
  pthread_t th;

  steal_race_init(&s, n, 4);
  t.s = &s;
  t.n = 1;
  ck_assert_int_eq(pthread_create(&th, NULL, thieves_main, &t), 0);
  for (long i = 0; i < n;) {
    long burst = 1 + (i & 1);

    for (long k = 0; k < burst && i < n; k++, i++)
      if (futures__deque_push(s.d, &s.recs[i]) != 0)
        break;
    for (;;) {
      struct future *f = futures__deque_pop(s.d, 0);

      if (f == NULL)
        break;
      steal_race_took(&s, f);
      popped++;
    }
  }
  atomic_store_explicit(&s.owner_done, 1, memory_order_release);
  pthread_join(th, NULL);
  steal_race_check(&s, popped);
  steal_race_fini(&s);
}
END_TEST

/* ------------------------------------------------------------ inject */

/*
 * Single-threaded: records pushed one at a time come out in push order;
 * an empty queue pops NULL; the queue goes empty and non-empty again many
 * times (the stub is put back behind the last record each time), and
 * futures__inject_nonempty() follows along.
 */
START_TEST(test_queue_inject_is_fifo)
{
  struct future *r = records_new(100);
  struct inject *q = inject_new();

  ck_assert_int_eq(futures__inject_nonempty(q), 0);
  ck_assert_int_eq(futures__inject_trylock(q), 1);
  ck_assert_ptr_null(futures__inject_pop(q));
  for (int i = 0; i < 100; i++)
    futures__inject_push(q, &r[i], &r[i]);
  ck_assert_int_eq(futures__inject_nonempty(q), 1);
  for (int i = 0; i < 100; i++)
    ck_assert_ptr_eq(futures__inject_pop(q), &r[i]);
  ck_assert_ptr_null(futures__inject_pop(q));
  ck_assert_int_eq(futures__inject_nonempty(q), 0);

  /* Through empty and back, 1,000 times, one and two records at a time. */
  for (int round = 0; round < 1000; round++) {
    struct future *a = &r[round % 100], *b = &r[(round + 1) % 100];

    futures__inject_push(q, a, a);
    ck_assert_int_eq(futures__inject_nonempty(q), 1);
    if (round % 2) {
      futures__inject_push(q, b, b);
      ck_assert_ptr_eq(futures__inject_pop(q), a);
      ck_assert_ptr_eq(futures__inject_pop(q), b);
    } else {
      ck_assert_ptr_eq(futures__inject_pop(q), a);
    }
    ck_assert_ptr_null(futures__inject_pop(q));
    ck_assert_int_eq(futures__inject_nonempty(q), 0);
  }
  futures__inject_unlock(q);
  free(q);
  free(r);
}
END_TEST

/*
 * A chain first..last linked through u.q.next is queued by one push and
 * comes out in chain order, after what was queued before it and before
 * what is queued after it. A chain of one and a 1,000-record chain too.
 */
START_TEST(test_queue_inject_pushes_chains_in_order)
{
  enum { N = 1010 };
  struct future *r = records_new(N);
  struct inject *q = inject_new();
  int k = 0;

  ck_assert_int_eq(futures__inject_trylock(q), 1);
  futures__inject_push(q, &r[0], &r[0]);
  for (int i = 1; i < 4; i++) /* chain r[1..4] */
    atomic_store(&r[i].u.q.next, &r[i + 1]);
  futures__inject_push(q, &r[1], &r[4]);
  futures__inject_push(q, &r[5], &r[5]); /* a chain of one */
  for (int i = 6; i < N - 1; i++)        /* chain r[6..N-1] */
    atomic_store(&r[i].u.q.next, &r[i + 1]);
  futures__inject_push(q, &r[6], &r[N - 1]);
  for (k = 0; k < N; k++)
    if (futures__inject_pop(q) != &r[k])
      break;
  ck_assert_int_eq(k, N);
  ck_assert_ptr_null(futures__inject_pop(q));
  ck_assert_int_eq(futures__inject_nonempty(q), 0);
  futures__inject_unlock(q);
  free(q);
  free(r);
}
END_TEST

/*
 * The try-lock admits one consumer: a second trylock fails, from this
 * thread and from another, until unlock; then it succeeds again.
 */
struct trylock_probe {
  struct inject *q;
  int got; /* what trylock returned in the other thread */
};

static void *
trylock_probe_main(void *arg)
{
  struct trylock_probe *p = arg;

  p->got = futures__inject_trylock(p->q);
  if (p->got)
    futures__inject_unlock(p->q);
  return NULL;
}

START_TEST(test_queue_inject_trylock_excludes_a_second_consumer)
{
  struct inject *q = inject_new();
  struct trylock_probe p = {q, -1};
  pthread_t t;

  ck_assert_int_eq(futures__inject_trylock(q), 1);
  ck_assert_int_eq(futures__inject_trylock(q), 0);
  ck_assert_int_eq(pthread_create(&t, NULL, trylock_probe_main, &p), 0);
  pthread_join(t, NULL);
  ck_assert_int_eq(p.got, 0);
  futures__inject_unlock(q);

  p.got = -1;
  ck_assert_int_eq(pthread_create(&t, NULL, trylock_probe_main, &p), 0);
  pthread_join(t, NULL);
  ck_assert_int_eq(p.got, 1);
  ck_assert_int_eq(futures__inject_trylock(q), 1);
  futures__inject_unlock(q);
  free(q);
}
END_TEST

/* Producers for the multi-producer tests: record arg = (producer, seq). */
#define TAG(p, i)       ((void *)(((uintptr_t)(p) << 32) | (uintptr_t)(i)))
#define TAG_PRODUCER(a) ((long)((uintptr_t)(a) >> 32))
#define TAG_SEQ(a)      ((long)((uintptr_t)(a)&0xffffffffu))

struct mp {
  struct inject *q;
  struct future *recs; /* nprod * per records, producer p's at p * per */
  long per;
  int nprod;
  atomic_int go;
};

/* For helgrind: records and the start flag only travel through atomics
 * (see steal_race_init). */
static void
mp_checking(struct mp *m, int check)
{
  size_t bytes = (size_t)(m->per * m->nprod) * sizeof(*m->recs);

  (void)bytes; /* unused when the annotations are off */
  if (check) {
    FUTURES_PLAIN_RANGE(m->recs, bytes);
    FUTURES_PLAIN_RANGE(&m->go, sizeof(m->go));
  } else {
    FUTURES_ATOMIC_RANGE(m->recs, bytes);
    FUTURES_ATOMIC_RANGE(&m->go, sizeof(m->go));
  }
}

static void
producer_main(void *arg, int p)
{
  struct mp *m = arg;
  struct future *mine = m->recs + (long)p * m->per;
  long i = 0;

  while (!atomic_load_explicit(&m->go, memory_order_acquire))
    sched_yield();
  while (i < m->per) {
    /* Mostly single records, every seventh push a chain of up to 5. */
    long len = (i % 7 == 6) ? 1 + i % 5 : 1;

    if (len > m->per - i)
      len = m->per - i;
    for (long k = 0; k < len; k++)
      mine[i + k].arg = TAG(p, i + k);
    for (long k = 0; k + 1 < len; k++)
      atomic_store_explicit(&mine[i + k].u.q.next, &mine[i + k + 1],
                            memory_order_relaxed);
    futures__inject_push(m->q, &mine[i], &mine[i + len - 1]);
    i += len;
  }
}

static void *
producers_main(void *arg)
{
  struct mp *m = arg;

  tu_run_threads(m->nprod, producer_main, m);
  return NULL;
}

/* What a consumer saw; checked by the test thread at the end. */
struct seen {
  long got, foreign, out_of_order;
  long *next_seq; /* per producer: the sequence number expected next */
  atomic_int *taken;
};

static void
seen_record(struct seen *s, const struct mp *m, struct future *f)
{
  long x = record_index(m->recs, m->per * m->nprod, f);
  long p, seq;

  if (x < 0) {
    s->foreign++;
    return;
  }
  atomic_fetch_add(&s->taken[x], 1);
  p = TAG_PRODUCER(f->arg);
  seq = TAG_SEQ(f->arg);
  if (p < 0 || p >= m->nprod || seq != s->next_seq[p])
    s->out_of_order++;
  else
    s->next_seq[p]++;
  s->got++;
}

/*
 * Four producers push 100,000 records each (singles and short chains) at
 * once while this thread, holding the try-lock, pops until it has them
 * all. NULL can come back while a producer is between its exchange and its
 * link; the consumer just tries again. Each record comes out exactly once
 * and each producer's records in the order it pushed them.
 */
START_TEST(test_queue_inject_many_producers_keep_order_and_lose_nothing)
{
  struct mp m;
  struct seen s = {0, 0, 0, NULL, NULL};
  long total, dup = 0, missing = 0;
  pthread_t t;

  m.q = inject_new();
  m.nprod = 4;
  m.per = tu_scaled(100000, 5000);
  total = m.per * m.nprod;
  m.recs = records_new(total);
  atomic_init(&m.go, 0);
  s.next_seq = calloc((size_t)m.nprod, sizeof(long));
  s.taken = calloc((size_t)total, sizeof(*s.taken));
  ck_assert_ptr_nonnull(s.next_seq);
  ck_assert_ptr_nonnull(s.taken);
  mp_checking(&m, 0);

  ck_assert_int_eq(futures__inject_trylock(m.q), 1);
  ck_assert_int_eq(pthread_create(&t, NULL, producers_main, &m), 0);
  atomic_store_explicit(&m.go, 1, memory_order_release);
  while (s.got + s.foreign < total) {
    struct future *f = futures__inject_pop(m.q);

    if (f == NULL) {
      futures__cpu_relax();
      continue;
    }
    seen_record(&s, &m, f);
  }
  pthread_join(t, NULL);
  ck_assert_ptr_null(futures__inject_pop(m.q));
  ck_assert_int_eq(futures__inject_nonempty(m.q), 0);
  futures__inject_unlock(m.q);

  for (long i = 0; i < total; i++) {
    int c = atomic_load(&s.taken[i]);

    missing += c == 0;
    dup += c > 1 ? c - 1 : 0;
  }
  ck_assert_msg(missing == 0 && dup == 0 && s.foreign == 0,
                "of %ld records: %ld missing, %ld duplicated, %ld foreign",
                total, missing, dup, s.foreign);
  ck_assert_int_eq(s.out_of_order, 0);
  for (int p = 0; p < m.nprod; p++)
    ck_assert_int_eq(s.next_seq[p], m.per);
  mp_checking(&m, 1);
  free(s.taken);
  free(s.next_seq);
  free(m.recs);
  free(m.q);
}
END_TEST

/* Two consumers that take turns through the try-lock. */
struct consumers {
  struct mp *m;
  long total;
  atomic_long got;   /* records taken by both, for the stop condition */
  atomic_int inside; /* consumers inside the lock at once: must stay <= 1 */
  atomic_int overlap;
  struct seen seen; /* written only while holding the try-lock */
};

static void
consumer_main(void *arg, int i)
{
  struct consumers *c = arg;

  (void)i;
  while (atomic_load(&c->got) < c->total) {
    if (!futures__inject_trylock(c->m->q)) {
      sched_yield();
      continue;
    }
    if (atomic_fetch_add(&c->inside, 1) != 0)
      atomic_fetch_add(&c->overlap, 1);
    for (int k = 0; k < 16; k++) {
      struct future *f = futures__inject_pop(c->m->q);

      if (f == NULL)
        break;
      seen_record(&c->seen, c->m, f);
      atomic_fetch_add(&c->got, 1);
    }
    atomic_fetch_sub(&c->inside, 1);
    futures__inject_unlock(c->m->q);
  }
}

/*
 * Two consumers contend for the try-lock while four producers push: the
 * lock lets one consumer in at a time (never two inside), and the records
 * still come out exactly once and in each producer's order. The consumers'
 * shared tally is unsynchronised on purpose: only the try-lock protects
 * it, so TSan reports a race if the lock fails to order them.
 */
START_TEST(test_queue_inject_consumers_serialised_by_trylock)
{
  struct mp m;
  struct consumers c;
  long dup = 0, missing = 0;
  pthread_t t;

  m.q = inject_new();
  m.nprod = 4;
  m.per = tu_scaled(50000, 2000);
  m.recs = records_new(m.per * m.nprod);
  atomic_init(&m.go, 0);
  c.m = &m;
  c.total = m.per * m.nprod;
  atomic_init(&c.got, 0);
  atomic_init(&c.inside, 0);
  atomic_init(&c.overlap, 0);
  c.seen.got = c.seen.foreign = c.seen.out_of_order = 0;
  c.seen.next_seq = calloc((size_t)m.nprod, sizeof(long));
  c.seen.taken = calloc((size_t)c.total, sizeof(*c.seen.taken));
  ck_assert_ptr_nonnull(c.seen.next_seq);
  ck_assert_ptr_nonnull(c.seen.taken);
  mp_checking(&m, 0);
  /* Not the tally itself: only the try-lock protects it, which the
   * library annotates; helgrind should see that work. */
  FUTURES_ATOMIC_RANGE(&c.got, sizeof(c.got));
  FUTURES_ATOMIC_RANGE(&c.inside, sizeof(c.inside));
  FUTURES_ATOMIC_RANGE(&c.overlap, sizeof(c.overlap));

  ck_assert_int_eq(pthread_create(&t, NULL, producers_main, &m), 0);
  atomic_store_explicit(&m.go, 1, memory_order_release);
  ck_assert_int_eq(tu_run_threads(2, consumer_main, &c), 0);
  pthread_join(t, NULL);

  for (long i = 0; i < c.total; i++) {
    int n = atomic_load(&c.seen.taken[i]);

    missing += n == 0;
    dup += n > 1 ? n - 1 : 0;
  }
  ck_assert_int_eq(atomic_load(&c.overlap), 0);
  ck_assert_msg(missing == 0 && dup == 0 && c.seen.foreign == 0,
                "of %ld records: %ld missing, %ld duplicated, %ld foreign",
                c.total, missing, dup, c.seen.foreign);
  ck_assert_int_eq(c.seen.out_of_order, 0);
  ck_assert_int_eq(futures__inject_nonempty(m.q), 0);
  mp_checking(&m, 1);
  FUTURES_PLAIN_RANGE(&c, sizeof(c));
  free(c.seen.taken);
  free(c.seen.next_seq);
  free(m.recs);
  free(m.q);
}
END_TEST

/*
 * futures__inject_nonempty() from a thread that is not the consumer: it
 * says 1 as soon as a push has returned (an idle worker deciding whether
 * to park relies on that), and 0 once the consumer has taken everything.
 */
struct nonempty_probe {
  struct inject *q;
  struct tu_latch pushed, looked;
  int saw; /* futures__inject_nonempty() after "pushed" opened */
};

static void *
nonempty_probe_main(void *arg)
{
  struct nonempty_probe *p = arg;

  tu_latch_wait(&p->pushed);
  p->saw = futures__inject_nonempty(p->q);
  tu_latch_open(&p->looked);
  return NULL;
}

START_TEST(test_queue_inject_nonempty_tracks_pushes_and_pops)
{
  struct future *r = records_new(3);
  struct nonempty_probe p;
  pthread_t t;

  p.q = inject_new();
  p.saw = -1;
  tu_latch_init(&p.pushed);
  tu_latch_init(&p.looked);
  ck_assert_int_eq(futures__inject_nonempty(p.q), 0);
  ck_assert_int_eq(pthread_create(&t, NULL, nonempty_probe_main, &p), 0);
  futures__inject_push(p.q, &r[0], &r[0]);
  tu_latch_open(&p.pushed);
  tu_latch_wait(&p.looked);
  pthread_join(t, NULL);
  ck_assert_int_eq(p.saw, 1);

  ck_assert_int_eq(futures__inject_trylock(p.q), 1);
  futures__inject_push(p.q, &r[1], &r[1]);
  ck_assert_ptr_eq(inject_pop_patient(p.q, 0), &r[0]);
  ck_assert_int_eq(futures__inject_nonempty(p.q), 1);
  ck_assert_ptr_eq(inject_pop_patient(p.q, 0), &r[1]);
  ck_assert_int_eq(futures__inject_nonempty(p.q), 0);
  futures__inject_unlock(p.q);
  tu_latch_destroy(&p.looked);
  tu_latch_destroy(&p.pushed);
  free(p.q);
  free(r);
}
END_TEST

/* ------------------------------------------------------------ footprint */

static int
task_nothing(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static void
noop_drop(void *arg)
{
  (void)arg;
}

/*
 * What a future in flight costs (issue 12: at most 64 bytes with its queue
 * slot). A plain task's record is 56 bytes in a release build (7 words:
 * the debug build adds a 16-byte magic and handle count), packed in the
 * allocator's chunks; its slot in the submitter's ring is one pointer.
 * The records of N tasks queued behind a held one take at most N x 56
 * bytes of chunks, give or take the chunk headers and what the thread's
 * free list already held; a task with a drop function takes the 16-byte
 * tail as well. Needs the caching allocator (valgrind and ASan runs use
 * malloc, where there are no chunks to count).
 */
START_TEST(test_queue_footprint_of_a_plain_future_is_56_bytes_and_its_slot)
{
  enum { N = 40000 };
  size_t plain = sizeof(struct future), ext = sizeof(struct future_ext);
  size_t slack = 4 * 64 * 1024; /* free lists, partly used chunks */
  size_t before, mid, after;
  futures_pool_t *pool = NULL;
  future_t **fs, *held = NULL;
  struct tu_hold h;

  ck_assert_uint_eq(plain, 56 + (FUTURES_DEBUG ? 16 : 0));
  ck_assert_uint_eq(ext, plain + 16);
  ck_assert_uint_eq(sizeof(((struct ring_buf *)0)->slot[0]), 8);
  if (!futures__alloc_cached()) {
    fprintf(stderr, "footprint: skipped (FUTURES_ALLOC=malloc has no "
                    "chunks to count)\n");
    return;
  }
  fs = calloc(2 * N, sizeof(*fs));
  ck_assert_ptr_nonnull(fs);
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  before = futures__alloc_bytes();
  for (long i = 0; i < N; i++)
    ck_assert_int_eq(futures_submit(pool, task_nothing, NULL, &fs[i]), 0);
  mid = futures__alloc_bytes();
  for (long i = N; i < 2 * N; i++) {
    futures_task_t t = FUTURES_TASK(task_nothing, NULL, noop_drop);

    ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &fs[i]), 0);
  }
  after = futures__alloc_bytes();
  tu_latch_open(&h.release);
  ck_assert_int_eq(futures_join_all(fs, 2 * N, NULL), 0);
  for (long i = 0; i < 2 * N; i++)
    future_release(fs[i]);
  future_release(held);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
  free(fs);
  ck_assert_msg(mid - before <= N * plain + slack,
                "%d plain tasks took %zu bytes of records (%.1f each), "
                "want at most %zu each", N, mid - before,
                (double)(mid - before) / N, plain);
  ck_assert_msg(after - mid <= N * ext + slack && after - mid > N * plain,
                "%d tasks with a drop function took %zu bytes of records "
                "(%.1f each), want %zu each", N, after - mid,
                (double)(after - mid) / N, ext);
}
END_TEST

Suite *
queue_suite(void)
{
  Suite *s = suite_create("queue");
  TCase *tc;

  tc = tcase_create("deque");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_queue_deque_pop_is_lifo);
  tcase_add_test(tc, test_queue_deque_steal_is_fifo);
  tcase_add_test(tc, test_queue_deque_grows_past_initial_capacity);
  tcase_add_test(tc, test_queue_deque_pop_respects_floor);
  tcase_add_test(tc, test_queue_deque_push_enomem_leaves_deque_intact);
  tcase_add_test(tc, test_queue_deque_owner_and_thieves_take_each_entry_once);
  tcase_add_test(
      tc, test_queue_deque_thieves_racing_each_other_take_each_entry_once);
  tcase_add_test(tc, test_queue_deque_owner_and_thief_race_for_the_last_entry);
  suite_add_tcase(s, tc);

  tc = tcase_create("inject");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_queue_inject_is_fifo);
  tcase_add_test(tc, test_queue_inject_pushes_chains_in_order);
  tcase_add_test(tc, test_queue_inject_trylock_excludes_a_second_consumer);
  tcase_add_test(tc,
                 test_queue_inject_many_producers_keep_order_and_lose_nothing);
  tcase_add_test(tc, test_queue_inject_consumers_serialised_by_trylock);
  tcase_add_test(tc, test_queue_inject_nonempty_tracks_pushes_and_pops);
  suite_add_tcase(s, tc);

  tc = tcase_create("footprint");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc,
                 test_queue_footprint_of_a_plain_future_is_56_bytes_and_its_slot);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(queue_suite());
}
