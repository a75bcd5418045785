// SPDX-License-Identifier: MIT
/*
 * shim.hpp - lib/atomics.h for the model build (make check-model).
 *
 * lib/atomics.h includes this file instead of <stdatomic.h> when
 * FUTURES_MODEL is defined. It maps the names lib/ uses onto the Relacy
 * race detector (Debian's relacy-dev), so that a model program can
 * #include a lib/ .c file as it is and explore its interleavings under the
 * C11 memory model:
 *
 *   _Atomic(T)                     rl::atomic<T>
 *   memory_order, memory_order_x   rl::memory_order, rl::mo_x
 *   atomic_init(p, v)              a relaxed store (Relacy's first store
 *                                  initialises; a load before it fails)
 *   atomic_load_explicit(p, mo)    p->load(mo, $) ... and so on for store,
 *   exchange, compare_exchange_weak/strong (a weak one may fail
 *   spuriously), fetch_add/sub/or/and/xor: the same operation with the
 *   file and line of the call ($), which Relacy prints in a failing
 *   execution's history.
 *   atomic_thread_fence(mo)        rl::atomic_thread_fence
 *   atomic_signal_fence(mo)        rl::atomic_signal_fence (orders nothing
 *                                  between threads, as in C11)
 *   futures__light_barrier(),      seq_cst fences on both sides of the
 *   futures__heavy_barrier()       asymmetric pair (membarrier(2) orders at
 *                                  least that much); a model in which no
 *                                  thread issues the heavy side may make the
 *                                  light one a compiler barrier, as it is on
 *                                  Linux (st.light_compiler_only)
 *   futures__cpu_relax()           rl::yield: a spinning thread gives way,
 *                                  so the search does not spin forever
 *   FUTURES_TLS, futures__tls      no storage class; futures__tls is the
 *                                  calling model thread's own instance
 *   FUTURES_ALLOC*, FUTURES_FREE*  futures__malloc plus placement new, and
 *                                  destructor calls plus futures__free
 *   FUTURES_FLEX                   FUTURES_MODEL_FLEX elements (default 8):
 *                                  C++ has no flexible array members
 *   FUTURES_UNION                  struct: a C++ union cannot hold Relacy's
 *                                  atomics (they have constructors)
 *   _Static_assert                 static_assert (C11's keyword is C++'s
 *                                  static_assert; frame.h uses it)
 *   FUTURES_GLOBAL*                storage created and destroyed with each
 *                                  execution (globals_create/destroy below)
 *   pthread mutexes and condition variables: Relacy's pthread emulation
 *   (relacy/stdlib/pthread.hpp), plus pthread_mutex_trylock, a record of
 *   which ones are initialised, and pthread_once (first call per execution
 *   runs the function, under a model mutex, so its effects happen before
 *   every other call returns). sched_yield() is Relacy's. Relacy gives
 *   EINVAL, ETIMEDOUT, EBUSY, EINTR and EAGAIN values of its own.
 *
 * lib/ files declare futures__malloc, futures__now_ns() and the
 * futures__mutex_* wrappers; harness.hpp defines them for the model.
 */
#ifndef FUTURES_MODEL_SHIM_HPP
#define FUTURES_MODEL_SHIM_HPP

#ifndef __cplusplus
#error "FUTURES_MODEL is the C++ model build: see tests/model/README"
#endif

/* Every system header lib/ includes, first: relacy.hpp then turns malloc,
 * free, errno and the pthread names into macros. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <new>

#include <relacy/relacy.hpp>

/* relacy.hpp's own spellings, which would get in the way here: its
 * memory_order_x expands to "mo_x, $" for its operator() syntax, and new
 * and delete to its allocator's proxies (placement new is used below). */
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete

/* ------------------------------------------------------------ atomics */

#define _Atomic(T) rl::atomic<T>

typedef rl::memory_order memory_order;
#define memory_order_relaxed rl::mo_relaxed
#define memory_order_consume rl::mo_consume
#define memory_order_acquire rl::mo_acquire
#define memory_order_release rl::mo_release
#define memory_order_acq_rel rl::mo_acq_rel
#define memory_order_seq_cst rl::mo_seq_cst

#define atomic_init(p, v) ((p)->store((v), rl::mo_relaxed, $))
#define atomic_load_explicit(p, mo) ((p)->load((mo), $))
#define atomic_store_explicit(p, v, mo) ((p)->store((v), (mo), $))
#define atomic_exchange_explicit(p, v, mo) ((p)->exchange((v), (mo), $))
#define atomic_compare_exchange_weak_explicit(p, exp, v, ok, fail)            \
  ((p)->compare_exchange_weak(*(exp), (v), (ok), $, (fail), $))
#define atomic_compare_exchange_strong_explicit(p, exp, v, ok, fail)          \
  ((p)->compare_exchange_strong(*(exp), (v), (ok), $, (fail), $))
#define atomic_fetch_add_explicit(p, v, mo) ((p)->fetch_add((v), (mo), $))
#define atomic_fetch_sub_explicit(p, v, mo) ((p)->fetch_sub((v), (mo), $))
#define atomic_fetch_or_explicit(p, v, mo) ((p)->fetch_or((v), (mo), $))
#define atomic_fetch_and_explicit(p, v, mo) ((p)->fetch_and((v), (mo), $))
#define atomic_fetch_xor_explicit(p, v, mo) ((p)->fetch_xor((v), (mo), $))
#define atomic_thread_fence(mo) (rl::atomic_thread_fence)((mo), $)
#define atomic_signal_fence(mo) (rl::atomic_signal_fence)((mo), $)

/* The light side is a seq_cst fence, unless a model that never issues the
 * heavy side asks for what it really is with membarrier (a compiler
 * barrier: nothing at run time), see harness.hpp. */
namespace futures_model {
void light_barrier(rl::debug_info_param info);
}
#define futures__light_barrier() futures_model::light_barrier($)
#define futures__heavy_barrier() atomic_thread_fence(rl::mo_seq_cst)
#define futures__cpu_relax() rl::yield(1, $)

/* ------------------------------------------------------------ TLS */

/* internal.h's "extern FUTURES_TLS struct futures_tls futures__tls;" and
 * the definition without initialiser in lib/ then read as declarations of
 * this function, which harness.hpp defines. g++ would call the parentheses
 * of such a declaration unnecessary. */
#pragma GCC diagnostic ignored "-Wparentheses"
#define FUTURES_TLS
struct futures_tls;
struct futures_tls *futures_model_tls();
#define futures__tls (*futures_model_tls())

/* ------------------------------------------------------------ memory */

void *futures__malloc(size_t n);
void futures__free(void *p);

#ifndef FUTURES_MODEL_FLEX
#define FUTURES_MODEL_FLEX 8
#endif
#define FUTURES_FLEX FUTURES_MODEL_FLEX
#define FUTURES_UNION struct
/* A header's file-scope C11 assertion (frame.h's FRAME_CAP). */
#define _Static_assert static_assert

namespace futures_model {

/* n objects, default-initialised as malloc leaves them: an atomic is
 * constructed but holds no value until atomic_init or a store. */
template <class T>
T *
alloc(size_t n)
{
  T *a = static_cast<T *>(futures__malloc(n * sizeof(T)));

  if (a != NULL)
    for (size_t i = 0; i < n; i++)
      new (&a[i]) T;
  return a;
}

template <class T>
T *
alloc_flex(size_t n)
{
  RL_ASSERT(n <= FUTURES_MODEL_FLEX && "raise FUTURES_MODEL_FLEX");
  return alloc<T>(1);
}

template <class T>
void
dealloc(T *a, size_t n)
{
  if (a == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    a[i].~T();
  futures__free(a);
}

} // namespace futures_model

#define FUTURES_ALLOC(T) futures_model::alloc<T>(1)
#define FUTURES_ALLOC_FLEX(T, m, n) futures_model::alloc_flex<T>((size_t)(n))
#define FUTURES_ALLOC_ARRAY(T, n) futures_model::alloc<T>((size_t)(n))
#define FUTURES_FREE(p) futures_model::dealloc((p), 1)
#define FUTURES_FREE_ARRAY(p, n) futures_model::dealloc((p), (size_t)(n))

/* ------------------------------------------------------------ pthreads */

namespace futures_model {

/* Relacy's mutex and condition variable, knowing whether they are
 * initialised, so that a global one can be destroyed when an execution
 * ends (the library never destroys them; Relacy reports a leak). */
struct mutex : rl::rl_pthread_mutex_t {
  bool live = false;
};
struct cond : rl::rl_pthread_cond_t {
  bool live = false;
};

inline int
mutex_init(mutex *m, const rl::rl_pthread_mutexattr_t *attr,
           rl::debug_info_param info)
{
  m->live = true;
  return rl::rl_pthread_mutex_init(m, attr, info);
}

inline int
mutex_destroy(mutex *m, rl::debug_info_param info)
{
  m->live = false;
  return rl::rl_pthread_mutex_destroy(m, info);
}

inline int
cond_init(cond *c, rl::rl_pthread_condattr_t *attr, rl::debug_info_param info)
{
  c->live = true;
  return rl::rl_pthread_cond_init(c, attr, info);
}

inline int
cond_destroy(cond *c, rl::debug_info_param info)
{
  c->live = false;
  return rl::rl_pthread_cond_destroy(c, info);
}

void once(pthread_once_t *o, void (*fn)(void), rl::debug_info_param info);

} // namespace futures_model

#undef pthread_mutex_t
#undef pthread_cond_t
#undef pthread_mutex_init
#undef pthread_mutex_destroy
#undef pthread_cond_init
#undef pthread_cond_destroy
#define pthread_mutex_t futures_model::mutex
#define pthread_cond_t futures_model::cond
#define pthread_mutex_init(m, attr) futures_model::mutex_init((m), (attr), $)
#define pthread_mutex_destroy(m) futures_model::mutex_destroy((m), $)
#define pthread_cond_init(c, attr) futures_model::cond_init((c), (attr), $)
#define pthread_cond_destroy(c) futures_model::cond_destroy((c), $)
#define pthread_mutex_trylock(m)                                               \
  (rl::rl_pthread_mutex_try_lock((m), $) ? EBUSY : 0)
#define pthread_once(o, fn) futures_model::once((o), (fn), $)
/* Thread-specific data: only the scheduler's thread-exit hook uses it, and
 * model threads do not exit through it: a no-op that succeeds. */
#define pthread_setspecific(key, value) ((void)(key), (void)(value), 0)
/* pthread_cancel state: the library's waits disable cancellation, which
 * model threads never see. */
#define pthread_setcancelstate(state, old) ((void)(state), (void)(old), 0)

/* ------------------------------------------------------------ globals */

namespace futures_model {

/* A library global, registered at program start, its objects created
 * before each execution and destroyed after it. */
class global_base {
public:
  global_base();
  virtual void create() = 0;
  virtual void destroy() = 0;
  global_base *next;
};

template <class T>
void
zero(T &)
{
}
template <class U>
void
zero(rl::atomic<U> &a)
{
  a.store(U(), rl::mo_relaxed, $);
}

template <class T>
void
release(T &)
{
}
inline void
release(mutex &m)
{
  if (m.live)
    mutex_destroy(&m, $);
}
inline void
release(cond &c)
{
  if (c.live)
    cond_destroy(&c, $);
}

template <class T, size_t N>
class global_array : global_base {
public:
  operator T *() { return get(); }
  T &operator[](size_t i)
  {
    RL_ASSERT(i < N);
    return get()[i];
  }

private:
  alignas(T) unsigned char mem_[N * sizeof(T)];
  T *get() { return reinterpret_cast<T *>(mem_); }
  void create() override
  {
    for (size_t i = 0; i < N; i++)
      zero(*new (&get()[i]) T());
  }
  void destroy() override
  {
    for (size_t i = 0; i < N; i++) {
      release(get()[i]);
      get()[i].~T();
    }
  }
};

/* A global scalar: library code uses it only through its address. */
template <class T>
class global : public global_array<T, 1> {
public:
  T *operator&() { return &(*this)[0]; }
  operator T &() { return (*this)[0]; }
};

void globals_create();
void globals_destroy();

} // namespace futures_model

#define FUTURES_GLOBAL(T, x) futures_model::global<T> x
#define FUTURES_GLOBAL_ARRAY(T, x, n) futures_model::global_array<T, (n)> x

#endif /* FUTURES_MODEL_SHIM_HPP */
