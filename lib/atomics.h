/* SPDX-License-Identifier: MIT */
/*
 * atomics.h - the atomics, thread-local state and allocation of objects
 * that hold atomics, for every lib/ file, in one place.
 *
 * In the library this is C11 and costs nothing: <stdatomic.h>, __thread,
 * malloc plus a cast. Library code keeps the standard spellings:
 * _Atomic(T) (the specifier form), atomic_init, atomic_load_explicit,
 * atomic_store_explicit, atomic_exchange_explicit,
 * atomic_compare_exchange_{weak,strong}_explicit,
 * atomic_fetch_{add,sub,or,and}_explicit, atomic_thread_fence and the
 * memory_order_* constants.
 *
 * Built as C++ with FUTURES_MODEL defined (make check-model), the same
 * names come from tests/model/shim.hpp instead, which maps them onto the
 * Relacy race detector, so that the models there check lib/'s own source
 * under the C11 memory model. The rules a file must follow to be
 * modelable are in tests/model/README; the macros below are the part of
 * them that needs a name of its own:
 *
 *   FUTURES_TLS                 thread-local storage class. Only one
 *                               variable of a modelled file may use it,
 *                               futures__tls (internal.h); the model gives
 *                               each of its threads one instance.
 *   FUTURES_ALLOC(T)            a T from futures__malloc, uninitialised;
 *   FUTURES_ALLOC_FLEX(T, m, n) the same with n elements in the flexible
 *                               array member m, declared m[FUTURES_FLEX];
 *   FUTURES_ALLOC_ARRAY(T, n)   n of them. Each is NULL when out of memory
 *                               and cache-line aligned when T asks for it.
 *   FUTURES_FREE(p)             frees what FUTURES_ALLOC or _FLEX returned;
 *   FUTURES_FREE_ARRAY(p, n)    frees what FUTURES_ALLOC_ARRAY(T, n) did.
 *                               Memory from futures__malloc that holds no
 *                               atomic is freed with futures__free.
 *   FUTURES_UNION               union; a struct in the model (no punning).
 *   FUTURES_GLOBAL(T, x)        a global or static T, zero-initialised;
 *   FUTURES_GLOBAL_ARRAY(T, x, n)  and an array of n. The model re-creates
 *                               them for every execution it explores. Use
 *                               a FUTURES_GLOBAL only through its address.
 *   futures__cpu_relax()        the pause inside a spin loop (a yield to
 *                               the model's scheduler).
 *   futures__light_barrier()    the asymmetric barrier pair: a compiler
 *   futures__heavy_barrier()    barrier against membarrier(2) where the
 *                               kernel has it, two full fences otherwise.
 *                               The model makes both seq_cst fences; the
 *                               heavy side's definition (the system call)
 *                               stays in a file the model does not compile.
 *
 * The model needs the typed forms because Relacy's atomics are C++ objects,
 * constructed and destroyed within each execution it explores. Mutexes,
 * condition variables, sched_yield(), futures__now_ns() and
 * futures__malloc() keep their names; the model supplies its own.
 */
#ifndef FUTURES_ATOMICS_H
#define FUTURES_ATOMICS_H

#ifdef FUTURES_MODEL
#include "model/shim.hpp"
#else

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

/* Thread-local storage; initial-exec keeps each access one instruction. */
#define FUTURES_TLS __thread __attribute__((tls_model("initial-exec")))

#define FUTURES_FLEX /* a flexible array member: T m[FUTURES_FLEX]; */
#define FUTURES_UNION union

/* alignof(T) > alignof(max_align_t) is a constant: one branch remains. */
#define FUTURES_ALLOC_BYTES_(T, size)                                          \
  ((T *)(alignof(T) > alignof(max_align_t) ? futures__aligned_malloc(size)     \
                                           : futures__malloc(size)))
#define FUTURES_ALLOC(T) FUTURES_ALLOC_BYTES_(T, sizeof(T))
#define FUTURES_ALLOC_FLEX(T, m, n)                                            \
  FUTURES_ALLOC_BYTES_(T, sizeof(T) + (size_t)(n) * sizeof(((T *)0)->m[0]))
#define FUTURES_ALLOC_ARRAY(T, n) FUTURES_ALLOC_BYTES_(T, (size_t)(n) * sizeof(T))
#define FUTURES_FREE(p) futures__free(p)
#define FUTURES_FREE_ARRAY(p, n) ((void)(n), futures__free(p))

#define FUTURES_GLOBAL(T, x) T x
#define FUTURES_GLOBAL_ARRAY(T, x, n) T x[n]

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

/* 1 once membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered
 * (futures__barrier_init(), barrier.c). */
extern int futures__barrier_cheap;
static inline void
futures__light_barrier(void)
{
  if (__builtin_expect(futures__barrier_cheap, 1))
    atomic_signal_fence(memory_order_seq_cst);
  else
    atomic_thread_fence(memory_order_seq_cst);
}
void futures__heavy_barrier(void);

#endif /* FUTURES_MODEL */
#endif /* FUTURES_ATOMICS_H */
