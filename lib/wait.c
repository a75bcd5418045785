/* SPDX-License-Identifier: MIT */
/*
 * wait.c - layer 4: waiting for one record. First help (run our own
 * pending sub-tasks; run the awaited task itself if it has not started),
 * then spin briefly, then sleep on a wait group (record.c).
 *
 * Whatever the helping did, the wait ends only when it reads DONE in the
 * record's state: running a task here, or failing to, says nothing about
 * whether it has finished (gate.c).
 */
#include "wait.h"

#include <sched.h>

/* How long a waiter spins before it sleeps. Waking a sleeping thread costs
 * tens of microseconds on a virtual machine, so a short spin pays for
 * itself when tasks are short; it yields the CPU as it goes, so a spinner
 * never holds up the thread that will complete the future. */
#ifndef SPIN_NS
#define SPIN_NS 20000
#endif
/* Looks at the record between two reads of the clock (a power of 2). */
#ifndef SPIN_LOOKS
#define SPIN_LOOKS 64
#endif

int
futures__wait_check_self(struct future *const futures[], size_t n)
{
  struct future *cur = futures__tls.current;

  if (cur == NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (unlikely(futures[i] == cur) && !futures__record_done(cur))
      return EDEADLK;
  return 0;
}

int
futures__wait_spin(const struct future *f, long long deadline)
{
  long long limit = futures__deadline_in(SPIN_NS);

  if (deadline < limit)
    limit = deadline;
  for (unsigned i = 1;; i++) {
    if (futures__record_done(f))
      return 1;
    if ((i & (SPIN_LOOKS - 1)) == 0) {
      if (futures__now_ns() >= limit)
        return 0;
      /* Give the CPU to a runnable thread (perhaps the one that will
       * complete this future) now and then. */
      if ((i & (16 * SPIN_LOOKS - 1)) == 0)
        sched_yield();
    }
    futures__cpu_relax();
  }
}

/* Registers on @f and sleeps until it is DONE or @deadline passes. */
static int
sleep_on(struct future *f, long long deadline)
{
  struct wgroup g;
  struct waiter w;
  int rc = 0;

  futures__group_init(&g);
  if (futures__group_add(&g, &w, f, 0)) {
    rc = futures__group_sleep(&g, 0, deadline);
    if (rc != 0)
      futures__group_remove(&w);
  }
  futures__group_fini(&g);
  return rc;
}

int
futures__wait_one(struct future *f, long long deadline, int may_run)
{
  int rc;

  if ((rc = futures__wait_check_self(&f, 1)) != 0)
    return rc;
  for (;;) {
    uint32_t s = futures__record_state(f);

    if ((s & F_PHASE) == F_DONE)
      return 0;
    if ((rc = futures__help_stale(f)) != 0)
      return rc;
    if (futures__deadline_passed(deadline))
      return ETIMEDOUT;
    /* Run our own pending sub-tasks, newest first: in fork-join the
     * awaited child is usually the newest, and taking it from our deque
     * leaves no stale entry behind. A timed wait stops at its deadline. */
    if (futures__help_descendant())
      continue;
    /* Not started and not ours: offer it to the gate here (untimed waits
     * only, since it could overrun a deadline without bound). Then look
     * at the state again: only DONE says it finished. */
    if (may_run && (s & F_PHASE) == F_QUEUED) {
      futures__help_run(f);
      if ((futures__record_state(f) & F_PHASE) != F_QUEUED)
        continue;
    }
    /* A continuation not yet readied: run what it waits for; a
     * combinator: run its inputs that have not started. */
    if (may_run && (s & F_PHASE) == F_DEFERRED &&
        ((s & F_CONT) ? futures__help_chain(f)
                      : (s & F_COMBINED) && futures__help_inputs(f)))
      continue;
    break;
  }
  if (futures__wait_spin(f, deadline))
    return 0;
  rc = sleep_on(f, deadline);
  if (rc == ETIMEDOUT && futures__record_done(f))
    rc = 0; /* it finished as the deadline passed */
  return rc;
}
