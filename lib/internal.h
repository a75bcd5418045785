/* SPDX-License-Identifier: MIT */
/*
 * internal.h - declarations every file in lib/ may use.
 *
 * Lock order, outermost first. A thread may take a lock only while it holds
 * no lock that comes after it in this list.
 *
 *   1. registry_lock (pool.c)  The list of live pools. Held only to add,
 *                              remove or look up a pool; nothing nests in it
 *                              except depot_lock, in the fork handlers.
 *   2. pool->lock (pool.c)     Worker parking, wake tokens, drain detection,
 *                              blocked submitters. Never held while a task,
 *                              a continuation or a drop function runs.
 *   3. stripe locks (wait.c)   One of WAIT_STRIPES mutexes, chosen by the
 *                              future's address; it guards f->waiters. No
 *                              thread holds two stripes at once.
 *   4. group->lock (wait.c)    A waiter's condition. The completer takes it
 *                              under the stripe lock, so that a waiter that
 *                              later takes the stripe knows the completer is
 *                              done with its (stack-allocated) group.
 *   5. depot_lock (alloc.c)    The shared free list of future records; a
 *                              leaf.
 *
 * Lock-free structures (the per-slot deques, the injection queue and the
 * future state word) are described where they are defined; every memory
 * order weaker than seq_cst there carries a comment saying why it suffices.
 */
#ifndef FUTURES_INTERNAL_H
#define FUTURES_INTERNAL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "futures.h"

#define FUTURES_CACHELINE 64
#define FUTURES_ALIGNED __attribute__((aligned(FUTURES_CACHELINE)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Thread-local storage; initial-exec keeps each access one instruction. */
#define FUTURES_TLS __thread __attribute__((tls_model("initial-exec")))

/* config.h defines FUTURES_DEBUG to 0 or 1 (--enable-debug). */
#ifndef FUTURES_DEBUG
#define FUTURES_DEBUG 0
#endif

#if FUTURES_DEBUG
#include <assert.h>
#define FUTURES_ASSERT(x) assert(x)
#else
#define FUTURES_ASSERT(x) ((void)0)
#endif

/*
 * Valgrind annotations. helgrind (and DRD) do not understand C11 atomics:
 * an atomic load looks to them like a plain read racing the plain write of
 * another thread, and an acquire load does not order what follows it. A
 * build configured with --enable-valgrind-annotations tells them:
 *   FUTURES_ATOMIC_RANGE(p, n)  these bytes are only accessed atomically
 *                               (stop checking them);
 *   FUTURES_HAPPENS_BEFORE(p)   a release on the synchronisation object p
 *   FUTURES_HAPPENS_AFTER(p)    the acquire that pairs with it.
 * ThreadSanitizer needs none of this: it understands the atomics
 * themselves, and remains the authority on data races (make check under
 * --enable-sanitizer=thread). In other builds the macros are empty.
 */
#ifndef FUTURES_ANNOTATE
#define FUTURES_ANNOTATE 0
#endif
#if FUTURES_ANNOTATE
#include <valgrind/helgrind.h>
#define FUTURES_ATOMIC_RANGE(p, n) VALGRIND_HG_DISABLE_CHECKING((p), (n))
#define FUTURES_PLAIN_RANGE(p, n) VALGRIND_HG_ENABLE_CHECKING((p), (n))
#define FUTURES_ATOMIC_VAR(v) FUTURES_ATOMIC_RANGE(&(v), sizeof(v))
#define FUTURES_HAPPENS_BEFORE(p) ANNOTATE_HAPPENS_BEFORE(p)
#define FUTURES_HAPPENS_AFTER(p) ANNOTATE_HAPPENS_AFTER(p)
#else
#define FUTURES_ATOMIC_RANGE(p, n) ((void)0)
#define FUTURES_PLAIN_RANGE(p, n) ((void)0)
#define FUTURES_ATOMIC_VAR(v) ((void)0)
#define FUTURES_HAPPENS_BEFORE(p) ((void)0)
#define FUTURES_HAPPENS_AFTER(p) ((void)0)
#endif

struct future;
struct futures_pool;
struct slot;

/* Per-thread state. Zero-initialised; only the owning thread touches it. */
struct futures_tls {
  struct slot *slot;       /* deque this thread pushes to, or NULL */
  struct future *current;  /* task being run by this thread, or NULL */
  long base;               /* slot deque bottom when current started */
  int hazard;              /* index of this thread's hazard entry + 1 */
};

extern FUTURES_TLS struct futures_tls futures__tls;

/* Pause inside a spin loop: tells the CPU we are waiting on memory. */
static inline void
futures__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- alloc.c: every allocation the library makes goes through here. */

void *futures__malloc(size_t n);
void *futures__calloc(size_t n, size_t size);
/* Cache-line aligned; free with futures__free(). */
void *futures__aligned_malloc(size_t size);
void futures__free(void *p);
int futures__thread_create(pthread_t *t, const pthread_attr_t *attr,
                           void *(*fn)(void *), void *arg);

/* Future records: one allocation per future, recycled per thread. */
struct future *futures__record_alloc(int timed);
void futures__record_free(struct future *f);

/* Fork handlers for the allocator's own lock (called by pool.c). */
void futures__alloc_atfork_prepare(void);
void futures__alloc_atfork_parent(void);
void futures__alloc_atfork_child(void);

/*
 * Test hooks (hidden; reachable from tests linked with the static core
 * library). futures__fault_alloc_at(k) makes the k-th allocation from now
 * fail (k >= 1; 0 turns it off); futures__fault_thread_at(k) does the same
 * for thread creation. The counters count every attempt made.
 */
void futures__fault_alloc_at(long k);
void futures__fault_thread_at(long k);
long futures__fault_alloc_count(void);
long futures__fault_thread_count(void);
/* Bytes the record allocator holds from malloc (cached mode), and live
 * records (every mode). */
size_t futures__alloc_bytes(void);
long futures__alloc_live(void);
/* 1 when records are recycled through per-thread caches, 0 when each one is
 * a malloc (FUTURES_ALLOC=malloc, or a debug build). */
int futures__alloc_cached(void);

/* ---- clock helpers (sync.c). */

long long futures__now_ns(void);
int futures__timespec_valid(const struct timespec *ts);
long long futures__timespec_ns(const struct timespec *ts);

/* ---- mutex and condition wrappers (sync.c): abort on impossible errors. */

void futures__mutex_init(pthread_mutex_t *m);
void futures__mutex_destroy(pthread_mutex_t *m);
void futures__mutex_lock(pthread_mutex_t *m);
void futures__mutex_unlock(pthread_mutex_t *m);
void futures__cond_init(pthread_cond_t *c);
void futures__cond_destroy(pthread_cond_t *c);
void futures__cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
/* Returns 0 or ETIMEDOUT; @abstime is on CLOCK_MONOTONIC. */
int futures__cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                            const struct timespec *abstime);
void futures__cond_signal(pthread_cond_t *c);
void futures__cond_broadcast(pthread_cond_t *c);

#if FUTURES_DEBUG
void futures__mutex_assert_owner(pthread_mutex_t *m);
#define FUTURES_ASSERT_OWNER(m) futures__mutex_assert_owner(m)
#else
#define FUTURES_ASSERT_OWNER(m) ((void)0)
#endif

/* ---- fork generation (pool.c): bumped in every child after fork(). */

extern _Atomic unsigned long futures__fork_gen;

#endif /* FUTURES_INTERNAL_H */
