/* SPDX-License-Identifier: MIT */
/*
 * testpoint.c - the test points of a hooked test build (internal.h,
 * FUTURES_TP). Not part of the library as shipped.
 */
#include "internal.h"

#if FUTURES_TEST_HOOKS
static void (*hook_fn)(int tp, const void *obj, void *ctx);
static void *hook_ctx;
/* Atomic: 1 once hook_fn and hook_ctx are set (release/acquire). */
static _Atomic(int) hook_set;

void
futures__tp_set(void (*fn)(int tp, const void *obj, void *ctx), void *ctx)
{
  FUTURES_ATOMIC_VAR(hook_set);
  atomic_store_explicit(&hook_set, 0, memory_order_relaxed);
  hook_fn = fn;
  hook_ctx = ctx;
  /* Release: a thread that sees 1 sees the hook. A test installs its hook
   * before it starts the threads that reach the points. */
  FUTURES_HAPPENS_BEFORE(&hook_set);
  atomic_store_explicit(&hook_set, fn != NULL, memory_order_release);
}

void
futures__tp(int tp, const void *obj)
{
  if (atomic_load_explicit(&hook_set, memory_order_acquire)) {
    FUTURES_HAPPENS_AFTER(&hook_set);
    hook_fn(tp, obj, hook_ctx);
  }
}
#endif
