/* SPDX-License-Identifier: MIT */
/*
 * init.c - layer 3: what the library sets up once per process, before its
 * first record (a pool's or a promise's), and its fork() handlers.
 */
#include "gate.h"
#include "hook.h"
#include "pin.h"
#include "trace.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
init_atfork_prepare(void)
{
  futures__alloc_atfork_prepare();
}

static void
init_atfork_parent(void)
{
  futures__alloc_atfork_parent();
}

static void
init_atfork_child(void)
{
  futures__alloc_atfork_child();
  futures__waiters_atfork_child();
  futures__hook_atfork_child();
  futures__sched_atfork_child();
  futures__trace_atfork_child();
  /* Every pool and pending promise that exists now is the parent's. */
  atomic_fetch_add_explicit(&futures__fork_gen, 1, memory_order_relaxed);
}

static void
init_once_fn(void)
{
  FUTURES_ATOMIC_VAR(futures__fork_gen);
  futures__pin_global_init();
  futures__waiters_init();
  futures__hook_init();
  futures__barrier_init();
  init_rc = futures__sched_global_init();
  if (init_rc == 0)
    init_rc = pthread_atfork(init_atfork_prepare, init_atfork_parent,
                             init_atfork_child);
}

int
futures__global_init(void)
{
  pthread_once(&init_once, init_once_fn);
  return init_rc;
}
