/* SPDX-License-Identifier: MIT */
/*
 * worker.c - layer 3: the worker threads. Each one asks the scheduler for
 * work (scheduler.c) and offers every record it finds to the gate (gate.c).
 */
#include "gate.h"
#include "worker.h"

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

static void
worker_unwound(struct worker_guard *g)
{
  struct sched *s;
  pthread_t t = pthread_self(); /* overwritten when a thread starts */
  int ok;

  if (!g->armed)
    return;
  s = g->slot->sched;
  futures__tls.slot = NULL;
  /* The lock is held across the creation, so that the slot's handle is
   * published before the replacement could itself exit and publish its
   * own replacement (it needs this lock to do so); and a drain, which
   * also needs it, cannot end in between. Creating a thread takes tens of
   * microseconds, and this happens only when a task exits its thread. */
  futures__mutex_lock(&s->lock);
  ok = futures__worker_start(g->slot, &t) == 0;
  if (ok)
    pthread_detach(pthread_self());
  futures__sched_worker_replaced(g->slot, ok, t);
  futures__mutex_unlock(&s->lock);
}

static void *
worker_main(void *arg)
{
  struct slot *slot = (struct slot *)arg;
  struct sched *s = slot->sched;
  struct worker_guard guard __attribute__((cleanup(worker_unwound))) = {
      slot, 1};

#ifdef HAVE_PTHREAD_SETNAME_NP
  {
    char name[16];

    snprintf(name, sizeof(name), "%.9s-w%u", s->name, slot->index);
    pthread_setname_np(pthread_self(), name);
  }
#endif
  futures__tls.slot = slot;
  for (;;) {
    struct future *f;

    /* A copy of this thread in a fork() child (a task forked) must not go
     * on running the parent's queues. */
    if (unlikely(s->gen != atomic_load_explicit(&futures__fork_gen,
                                                memory_order_relaxed)))
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
  return NULL;
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
  if (rc == 0)
    rc = futures__thread_create(t, &attr, worker_main, slot) == 0 ? 0
                                                                  : EAGAIN;
  else
    rc = EINVAL;
  pthread_attr_destroy(&attr);
  return rc;
}
