/* SPDX-License-Identifier: MIT */
/*
 * sync.c - mutex and condition-variable wrappers, the clock, and the heavy
 * side of the asymmetric barrier pair (the model checker supplies its own
 * versions of all of these: tests/model/harness.hpp).
 *
 * A pthread call on a mutex or condition variable that we initialised can
 * only fail if memory is already corrupt (or, in debug builds, if a thread
 * unlocks a mutex it does not own). Continuing would turn that into a lost
 * wake-up or a deadlock far from its cause, so these wrappers abort, as
 * libuv's do. No user input can reach these aborts.
 */
#include "internal.h"

#include <linux/membarrier.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static void
die(const char *what, int rc)
{
  fprintf(stderr, "libfutures: %s failed: %s\n", what, strerror(rc));
  abort();
}

void
futures__mutex_init(pthread_mutex_t *m)
{
  pthread_mutexattr_t attr;
  int rc;

  if ((rc = pthread_mutexattr_init(&attr)) != 0)
    die("pthread_mutexattr_init", rc);
#if FUTURES_DEBUG
  /* Debug builds catch unlock-by-non-owner and self-deadlock. */
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
#endif
  if ((rc = pthread_mutex_init(m, &attr)) != 0)
    die("pthread_mutex_init", rc);
  pthread_mutexattr_destroy(&attr);
}

void
futures__mutex_destroy(pthread_mutex_t *m)
{
  int rc = pthread_mutex_destroy(m);

  if (rc != 0)
    die("pthread_mutex_destroy", rc);
}

void
futures__mutex_lock(pthread_mutex_t *m)
{
  int rc = pthread_mutex_lock(m);

  if (rc != 0)
    die("pthread_mutex_lock", rc);
}

void
futures__mutex_unlock(pthread_mutex_t *m)
{
  int rc = pthread_mutex_unlock(m);

  if (rc != 0)
    die("pthread_mutex_unlock", rc);
}

#if FUTURES_DEBUG
void
futures__mutex_assert_owner(pthread_mutex_t *m)
{
  /* glibc records the owner's kernel thread id in the mutex. */
  if (m->__data.__owner != (int)syscall(SYS_gettid)) {
    fprintf(stderr, "libfutures: lock %p not held by this thread\n",
            (void *)m);
    abort();
  }
}
#endif

void
futures__cond_init(pthread_cond_t *c)
{
  pthread_condattr_t attr;
  int rc;

  if ((rc = pthread_condattr_init(&attr)) != 0)
    die("pthread_condattr_init", rc);
  /* Deadlines are on CLOCK_MONOTONIC so that setting the clock cannot
   * stretch or cut a timed wait. */
  if ((rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0)
    die("pthread_condattr_setclock", rc);
  if ((rc = pthread_cond_init(c, &attr)) != 0)
    die("pthread_cond_init", rc);
  pthread_condattr_destroy(&attr);
}

void
futures__cond_destroy(pthread_cond_t *c)
{
  int rc = pthread_cond_destroy(c);

  if (rc != 0)
    die("pthread_cond_destroy", rc);
}

/*
 * Every blocking call the library makes is a cancellation point of POSIX
 * threads. A cancellation request for a thread running a task must act in
 * the task's own code (where the task let it through), never in the middle
 * of the library's bookkeeping, which would leave a lock held or a waiter
 * node linked on a stack that is gone. So the library waits with
 * cancellation disabled; a request stays pending until the thread next
 * reaches a cancellation point of its own.
 */
static int
cancel_off(void)
{
  int old;

  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  return old;
}

static void
cancel_restore(int old)
{
  pthread_setcancelstate(old, NULL);
}

void
futures__cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
  int old = cancel_off();
  int rc = pthread_cond_wait(c, m);

  cancel_restore(old);
  if (rc != 0)
    die("pthread_cond_wait", rc);
}

void
futures__thread_join(pthread_t t)
{
  int old = cancel_off();
  int rc = pthread_join(t, NULL);

  cancel_restore(old);
  if (rc != 0)
    die("pthread_join", rc);
}

void
futures__cond_signal(pthread_cond_t *c)
{
  int rc = pthread_cond_signal(c);

  if (rc != 0)
    die("pthread_cond_signal", rc);
}

void
futures__cond_broadcast(pthread_cond_t *c)
{
  int rc = pthread_cond_broadcast(c);

  if (rc != 0)
    die("pthread_cond_broadcast", rc);
}

long long
futures__now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
futures__cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m,
                         long long deadline)
{
  struct timespec ts;
  int rc, old;

  if (deadline == FUTURES_FOREVER) {
    futures__cond_wait(c, m);
    return 0;
  }
  /* In range by construction: 0 <= deadline < LLONG_MAX. */
  ts.tv_sec = (time_t)(deadline / 1000000000LL);
  ts.tv_nsec = (long)(deadline % 1000000000LL);
  old = cancel_off();
  rc = pthread_cond_timedwait(c, m, &ts);
  cancel_restore(old);
  if (rc != 0 && rc != ETIMEDOUT)
    die("pthread_cond_timedwait", rc);
  return rc;
}

/* ------------------------------------------------------------ barriers */

int futures__barrier_cheap;

void
futures__barrier_init(void)
{
#ifdef SYS_membarrier
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

  if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
              0) == 0)
    futures__barrier_cheap = 1;
#endif
}

void
futures__heavy_barrier(void)
{
#ifdef SYS_membarrier
  if (futures__barrier_cheap) {
    /* Registered at start-up, this cannot fail; if it did, the light
     * sides (compiler barriers only) would order nothing, and wake-ups and
     * admissions could be lost without a sign. */
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
      die("membarrier", errno);
    return;
  }
#endif
  atomic_thread_fence(memory_order_seq_cst);
}
