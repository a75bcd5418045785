/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - every allocation the library makes, and the future-record
 * allocator.
 *
 * Records come in three size classes (record.h): a plain task's, 56 bytes,
 * packed one after another, so that with its queue slot a future in flight
 * costs 64 bytes; one with the tail (F_EXT), 72; a timed one, 128,
 * cache-line aligned. In the default "cached" mode they are carved from
 * 64 KiB chunks and recycled through a free list per thread and size
 * class; a thread whose list grows past CACHE_MAX hands a batch of BATCH
 * records to a shared depot, and a thread whose list is empty takes a
 * batch back, so the depot lock is taken once per BATCH records at most.
 * Chunks are never returned to the system while the process runs: memory
 * stays at the high-water mark of records alive at once, which is what
 * keeps RSS flat across any number of tasks.
 *
 * In "malloc" mode every record is its own allocation, so that valgrind and
 * AddressSanitizer see each one's lifetime exactly. FUTURES_ALLOC=malloc or
 * FUTURES_ALLOC=cached in the environment chooses; the default is malloc in
 * AddressSanitizer builds, cached otherwise. (Debug builds keep the cache:
 * a released record then stays mapped with a poisoned magic field, which is
 * how they detect a handle used after future_release().)
 *
 * Every allocation and thread creation goes through a wrapper with a fault
 * hook, so the tests can make the k-th one fail for every k.
 */
#include "internal.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_CACHED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEFAULT_CACHED 0
#endif
#endif
#ifndef DEFAULT_CACHED
#define DEFAULT_CACHED 1
#endif

#define NCLASSES 3      /* 0: plain record, 1: with F_EXT, 2: timed */
#define CACHE_MAX 256   /* records a thread keeps before giving some back */
#define BATCH 64        /* records moved between a thread and the depot */
#define CHUNK_BYTES (64 * 1024)

/* A free record, seen through this overlay while it sits in a list. */
struct freerec {
  struct freerec *next;       /* next record in the same batch or cache */
  struct freerec *next_batch; /* next batch in the depot (first record) */
  unsigned batch_n;           /* records in this batch (first record) */
};

struct chunk {
  struct chunk *next;
};

struct cache {
  struct freerec *head;
  unsigned n;
};

/* Immutable after alloc_init(). */
static int cached_mode;
static size_t class_size[NCLASSES];
static pthread_key_t cache_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Protected by depot_lock. */
static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct freerec *depot[NCLASSES];
static struct chunk *chunks;
static size_t chunk_bytes;

/* Owned by the calling thread. */
static FUTURES_TLS struct cache caches[NCLASSES];
static FUTURES_TLS int cache_registered;

/* Atomic: statistics and fault hooks. Relaxed is enough: they order
 * nothing, and a test reads them only after joining the threads. */
static _Atomic(long) live_records;
static _Atomic(long) alloc_fail_at, alloc_count;
static _Atomic(long) thread_fail_at, thread_count;

/* 1 if the attempt counted in @count is the one chosen to fail. */
static int
fault_hit(_Atomic(long) *at, _Atomic(long) *count)
{
  long k;

  atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
  k = atomic_load_explicit(at, memory_order_relaxed);
  while (k > 0) {
    if (atomic_compare_exchange_weak_explicit(at, &k, k - 1,
                                              memory_order_relaxed,
                                              memory_order_relaxed))
      return k == 1;
  }
  return 0;
}

void *
futures__malloc(size_t n)
{
  if (unlikely(fault_hit(&alloc_fail_at, &alloc_count)))
    return NULL;
  return malloc(n);
}

void *
futures__calloc(size_t n, size_t size)
{
  if (unlikely(fault_hit(&alloc_fail_at, &alloc_count)))
    return NULL;
  return calloc(n, size);
}

void
futures__free(void *p)
{
  free(p);
}

void *
futures__aligned_malloc(size_t size)
{
  void *p = NULL;

  if (unlikely(fault_hit(&alloc_fail_at, &alloc_count)))
    return NULL;
  if (posix_memalign(&p, FUTURES_CACHELINE, size) != 0)
    return NULL;
  return p;
}

int
futures__thread_create(pthread_t *t, const pthread_attr_t *attr,
                       void *(*fn)(void *), void *arg)
{
  if (unlikely(fault_hit(&thread_fail_at, &thread_count)))
    return EAGAIN;
  return pthread_create(t, attr, fn, arg);
}

void
futures__fault_alloc_at(long k)
{
  atomic_store_explicit(&alloc_fail_at, k, memory_order_relaxed);
}

void
futures__fault_thread_at(long k)
{
  atomic_store_explicit(&thread_fail_at, k, memory_order_relaxed);
}

long
futures__fault_alloc_count(void)
{
  return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

long
futures__fault_thread_count(void)
{
  return atomic_load_explicit(&thread_count, memory_order_relaxed);
}

/* ------------------------------------------------------------ caches */

static void
depot_put_locked(int cls, struct freerec *batch)
{
  FUTURES_ASSERT_OWNER(&depot_lock);
  batch->next_batch = depot[cls];
  depot[cls] = batch;
}

/* Moves up to @max records from the head of @c into one batch. */
static struct freerec *
cache_cut(struct cache *c, unsigned max)
{
  struct freerec *first = c->head, *last = first;
  unsigned k = 1;

  while (k < max && last->next != NULL) {
    last = last->next;
    k++;
  }
  c->head = last->next;
  c->n -= k;
  last->next = NULL;
  first->batch_n = k;
  return first;
}

/* Thread exit: give every cached record back to the depot. */
static void
cache_flush(void *unused)
{
  int cls;

  (void)unused;
  futures__mutex_lock(&depot_lock);
  for (cls = 0; cls < NCLASSES; cls++) {
    while (caches[cls].head != NULL)
      depot_put_locked(cls, cache_cut(&caches[cls], BATCH));
  }
  futures__mutex_unlock(&depot_lock);
}

static void
alloc_init(void)
{
  const char *mode = getenv("FUTURES_ALLOC");

  FUTURES_ATOMIC_VAR(live_records);
  FUTURES_ATOMIC_VAR(alloc_fail_at);
  FUTURES_ATOMIC_VAR(alloc_count);
  FUTURES_ATOMIC_VAR(thread_fail_at);
  FUTURES_ATOMIC_VAR(thread_count);
  cached_mode = DEFAULT_CACHED;
  if (mode != NULL && strcmp(mode, "malloc") == 0)
    cached_mode = 0;
  else if (mode != NULL && strcmp(mode, "cached") == 0)
    cached_mode = 1;
  /* Every size is a multiple of the records' alignment (8: pointers). */
  class_size[0] = sizeof(struct future);
  class_size[1] = sizeof(struct future_ext);
  class_size[2] = (sizeof(struct future_timed) + FUTURES_CACHELINE - 1) &
                  ~(size_t)(FUTURES_CACHELINE - 1);
  /* Without a key there is no thread-exit flush: records then stay in the
   * exiting thread's cache, which is a leak but not an error. */
  if (pthread_key_create(&cache_key, cache_flush) != 0)
    cached_mode = 0;
  FUTURES_HAPPENS_BEFORE(&init_once);
}

/* Gets records for an empty cache: a depot batch, else a new chunk. */
static int
cache_refill(struct cache *c, int cls)
{
  struct chunk *ch;
  char *p, *end;

  if (!cache_registered) {
    if (pthread_setspecific(cache_key, c) != 0)
      return ENOMEM;
    cache_registered = 1;
  }
  futures__mutex_lock(&depot_lock);
  if (depot[cls] != NULL) {
    c->head = depot[cls];
    depot[cls] = c->head->next_batch;
    futures__mutex_unlock(&depot_lock);
    /* The batch knows its length: walking it would take one cache miss
     * after another, each waiting for the last. */
    c->n = c->head->batch_n;
    return 0;
  }
  futures__mutex_unlock(&depot_lock);

  ch = futures__aligned_malloc(CHUNK_BYTES);
  if (ch == NULL)
    return ENOMEM;
  /* The first cache line holds the chunk header; records follow. */
  p = (char *)ch + FUTURES_CACHELINE;
  end = (char *)ch + CHUNK_BYTES - class_size[cls];
  for (; p <= end; p += class_size[cls]) {
    struct freerec *r = (void *)p;

    r->next = c->head;
    c->head = r;
    c->n++;
  }
  futures__mutex_lock(&depot_lock);
  ch->next = chunks;
  chunks = ch;
  chunk_bytes += CHUNK_BYTES;
  futures__mutex_unlock(&depot_lock);
  return 0;
}

static inline int
class_of(uint32_t flags)
{
  return (flags & F_TIMED) ? 2 : (flags & F_EXT) ? 1 : 0;
}

struct future *
futures__record_alloc(uint32_t flags)
{
  int cls = class_of(flags);
  struct cache *c;
  struct freerec *r;

  pthread_once(&init_once, alloc_init);
  /* pthread_once orders alloc_init() before us; helgrind needs telling. */
  FUTURES_HAPPENS_AFTER(&init_once);
  if (!cached_mode) {
    r = futures__aligned_malloc(class_size[cls]);
    if (r != NULL)
      atomic_fetch_add_explicit(&live_records, 1, memory_order_relaxed);
    return (struct future *)r;
  }
  c = &caches[cls];
  if (unlikely(c->head == NULL) && cache_refill(c, cls) != 0)
    return NULL;
  r = c->head;
  c->head = r->next;
  c->n--;
  /* The free list runs through the records: start fetching the next one
   * now, so that a burst of submits overlaps its cache misses. */
  if (c->head != NULL)
    __builtin_prefetch(c->head, 1);
  return (struct future *)r;
}

void
futures__record_free(struct future *f)
{
  int cls = class_of(atomic_load_explicit(&f->state, memory_order_relaxed));
  struct cache *c;
  struct freerec *r = (struct freerec *)f;

#if FUTURES_DEBUG
  f->magic = FUTURE_POISON;
#endif
  if (!cached_mode) {
    atomic_fetch_sub_explicit(&live_records, 1, memory_order_relaxed);
    FUTURES_PLAIN_RANGE(f, class_size[cls]); /* libc may reuse it */
    free(f);
    return;
  }
  c = &caches[cls];
  if (unlikely(!cache_registered)) {
    /* A thread that never allocated (it only releases): register it so
     * its cache is flushed when it exits. */
    if (pthread_setspecific(cache_key, c) == 0)
      cache_registered = 1;
  }
  r->next = c->head;
  c->head = r;
  if (unlikely(++c->n > CACHE_MAX || !cache_registered)) {
    struct freerec *batch = cache_cut(c, cache_registered ? BATCH : c->n);

    futures__mutex_lock(&depot_lock);
    depot_put_locked(cls, batch);
    futures__mutex_unlock(&depot_lock);
  }
}

size_t
futures__alloc_bytes(void)
{
  size_t n;

  futures__mutex_lock(&depot_lock);
  n = chunk_bytes;
  futures__mutex_unlock(&depot_lock);
  return n;
}

long
futures__alloc_live(void)
{
  return atomic_load_explicit(&live_records, memory_order_relaxed);
}

int
futures__alloc_cached(void)
{
  pthread_once(&init_once, alloc_init);
  return cached_mode;
}

/* fork(): the child must not inherit a depot lock held by another thread. */
void
futures__alloc_atfork_prepare(void)
{
  futures__mutex_lock(&depot_lock);
}

void
futures__alloc_atfork_parent(void)
{
  futures__mutex_unlock(&depot_lock);
}

void
futures__alloc_atfork_child(void)
{
  /* The child's thread id differs from the one that locked it, so an
   * error-checking mutex would refuse the unlock: start it afresh. */
  futures__mutex_init(&depot_lock);
}
