/* SPDX-License-Identifier: MIT */
/*
 * worker.c - layer 3: the worker threads. Each one asks the scheduler for
 * work (scheduler.c) and offers every record it finds to the gate (gate.c).
 */
#include "gate.h"
#include "worker.h"

#include <sched.h>
#include <stdio.h>

/*
 * A worker thread that exits inside a task (pthread_exit(), or a
 * cancellation) unwinds through futures__worker_main(): the task's future
 * has been finished (gate.c, run_unwound); here a new thread takes over
 * the slot, so the pool keeps its size. If none can be started the pool
 * goes on with one worker fewer; with none left, destroy runs what is
 * queued itself (scheduler.c, futures__sched_wait_drained).
 */
struct worker_guard {
  struct slot *slot;
  int armed;
};

/*
 * Worker hooks (futures_pool_opts_t.worker_start, .worker_exit). They run
 * in the worker's own thread, holding no lock and no slot (to the pool the
 * thread is an outside one then: what it submits goes to its ring, never
 * to a deque the drain may have finished with), and marked so that a
 * destroy of the pool from them is EDEADLK. In a fork() child the copy of
 * a worker (a task forked) runs no hook and, if it ends inside the task,
 * is not replaced: the pool is the parent's.
 */
static int report_start(struct slot *slot, int rc);

/* A start hook that ends its thread (pthread_exit()) failed with
 * EOWNERDEAD, as a task that does so: create is told, or the replacement
 * gives its slot up. */
struct start_guard {
  struct slot *slot;
  int armed;
};

static void
start_unwound(struct start_guard *g)
{
  if (!g->armed)
    return;
  futures__tls.worker_hook_of = NULL;
  (void)report_start(g->slot, EOWNERDEAD);
}

/* 1 if @s is a pool of this process, not of the parent of a fork(). */
static int
of_this_process(const struct sched *s)
{
  return s->gen ==
         atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

static int
hook_start(struct slot *slot)
{
  struct sched *s = slot->sched;
  struct start_guard guard __attribute__((cleanup(start_unwound))) = {slot,
                                                                      1};
  int rc;

  if (s->worker_start == NULL || !of_this_process(s)) {
    guard.armed = 0;
    return 0;
  }
  futures__tls.worker_hook_of = s;
  rc = s->worker_start(s->worker_arg, slot->index);
  futures__tls.worker_hook_of = NULL;
  guard.armed = 0;
  return rc == 0 ? 0 : rc > 0 ? rc : EINVAL;
}

static void
hook_exit(struct slot *slot)
{
  struct sched *s = slot->sched;

  if (s->worker_exit == NULL || !of_this_process(s))
    return;
  futures__tls.worker_hook_of = s;
  s->worker_exit(s->worker_arg, slot->index);
  futures__tls.worker_hook_of = NULL;
}

/*
 * Reports the start hook's code @rc. While the pool is being created,
 * create waits for every worker's report and fails if one failed (it then
 * stops and joins every worker). Later, this thread is a replacement: if
 * its hook failed it gives the slot up, as when no thread could be
 * started. 0 if this thread goes on as a worker.
 */
static int
report_start(struct slot *slot, int rc)
{
  struct sched *s = slot->sched;

  futures__mutex_lock(&s->lock);
  if (s->creating) {
    if (rc != 0 && (s->hook_rc == 0 || slot->index < s->hook_index)) {
      s->hook_rc = rc;
      s->hook_index = slot->index;
    }
    s->hooks_reported++;
    /* Wakes create, which waits for every worker's report. */
    futures__cond_broadcast(&s->done);
  } else if (rc != 0) {
    /* slot->thread names this thread already (the exited worker wrote
     * it): destroy joins it. */
    futures__sched_worker_replaced(slot, 0, slot->thread);
  }
  futures__mutex_unlock(&s->lock);
  return rc;
}

/* Starts the replacement of @slot's worker, which has ended in a task
 * (this thread), or tells the scheduler that none could be started. */
static void
replace(struct slot *slot)
{
  struct sched *s = slot->sched;
  pthread_t t = pthread_self(); /* overwritten when a thread starts */
  int ok;

  /* The lock is held across the creation, so that the slot's handle is
   * published before the replacement could itself exit and publish its
   * own replacement (it needs this lock to do so); and a drain, which
   * also needs it, cannot end in between. Creating a thread takes tens of
   * microseconds, and this happens only when a task exits its thread. */
  futures__mutex_lock(&s->lock);
  ok = futures__worker_start(slot, &t) == 0;
  if (ok)
    pthread_detach(pthread_self());
  futures__sched_worker_replaced(slot, ok, t);
  futures__mutex_unlock(&s->lock);
}

/* The exit hook of a worker that ended in a task may itself end the
 * thread (pthread_exit(), or a task it runs in place that does): the
 * replacement must still be started, or the drain would wait for this
 * slot forever. This cleanup runs when the hook returns and when it
 * unwinds. */
static void
exit_hook_left(struct slot **slot)
{
  futures__tls.worker_hook_of = NULL;
  replace(*slot);
}

/*
 * nothrow although the exit hook may end the thread in it (a second
 * pthread_exit(), which leaves through exit_hook_left): this runs in
 * worker_main()'s landing pad, and clang wraps a call there that may
 * unwind in a terminate handler, which in C is abort(). Declared
 * nothrow, it is a plain call that the C personality unwinds through
 * (a call site outside its table continues the unwind).
 */
static void worker_unwound(struct worker_guard *g) __attribute__((nothrow));

static void
worker_unwound(struct worker_guard *g)
{
  if (!g->armed)
    return;
  futures__tls.slot = NULL;
  /* In a fork() child (a task forked, then ended the thread) the pool is
   * the parent's: no hook, no replacement, and none of its locks (the
   * fork may have copied them held). */
  if (!of_this_process(g->slot->sched))
    return;
  {
    struct slot *slot __attribute__((cleanup(exit_hook_left))) = g->slot;

    /* Its last task has ended (it exited the thread): before the
     * replacement starts, and under no lock. */
    hook_exit(slot);
  }
}

static void *
worker_main(void *arg)
{
  struct slot *slot = (struct slot *)arg;
  struct sched *s = slot->sched;

#ifdef HAVE_PTHREAD_SETNAME_NP
  {
    char name[16];

    snprintf(name, sizeof(name), "%.9s-w%u", s->name, slot->index);
    pthread_setname_np(pthread_self(), name);
  }
#endif
  if (report_start(slot, hook_start(slot)) != 0)
    return NULL;
  struct worker_guard guard __attribute__((cleanup(worker_unwound))) = {
      slot, 1};

  futures__tls.slot = slot;
  for (;;) {
    struct future *f;

    /* A copy of this thread in a fork() child (a task forked) must not go
     * on running the parent's queues. */
    if (unlikely(!of_this_process(s)))
      break;
    f = futures__sched_find(slot);
    if (f == NULL) {
      int exit = 0;

      /* No record anywhere: a frame another worker spawned, if shared. */
      if (futures__sched_steal_frame(slot))
        continue;
      f = futures__sched_idle(slot, &exit);
      if (exit)
        break;
      if (f == NULL)
        continue;
    }
    /* The gate runs it, or drops the queue's reference if a waiter or a
     * canceller got there first. */
    futures__gate_run(f, GATE_QREF);
  }
  guard.armed = 0;
  futures__tls.slot = NULL;
  hook_exit(slot);
  return NULL;
}

/* The CPUs of @slot's worker into @set (pin != FUTURES_PIN_NONE). */
static void
pin_set(const struct slot *slot, cpu_set_t *set)
{
  const struct sched *s = slot->sched;

  CPU_ZERO(set);
  if (s->pin == FUTURES_PIN_EACH)
    CPU_SET((size_t)s->cpus[slot->index % s->ncpus], set);
  else
    for (unsigned i = 0; i < s->ncpus; i++)
      CPU_SET((size_t)s->cpus[i], set);
}

int
futures__worker_start(struct slot *slot, pthread_t *t)
{
  struct sched *s = slot->sched;
  pthread_attr_t attr;
  int rc;

  if (pthread_attr_init(&attr) != 0)
    return EAGAIN;
  rc = s->stack_size == 0 ? 0
                          : pthread_attr_setstacksize(&attr, s->stack_size);
  if (rc == 0 && s->pin != FUTURES_PIN_NONE) {
    cpu_set_t set;

    pin_set(slot, &set);
    rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
  }
  if (rc == 0)
    rc = futures__thread_create(t, &attr, worker_main, slot) == 0 ? 0
                                                                  : EAGAIN;
  else
    rc = EINVAL;
  pthread_attr_destroy(&attr);
  return rc;
}
