/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the Check tests: latches and barriers to order threads
 * without sleeps, a monotonic clock, and the main() every test binary uses.
 * Nothing here calls ck_assert*: helpers return values for the test thread
 * to assert on.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* A one-shot gate: tu_latch_wait() blocks until tu_latch_open(). */
struct tu_latch {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int open; /* protected by lock */
};

void tu_latch_init(struct tu_latch *l);
void tu_latch_open(struct tu_latch *l);
void tu_latch_wait(struct tu_latch *l);
int tu_latch_is_open(struct tu_latch *l);
void tu_latch_destroy(struct tu_latch *l);

/* A countdown: tu_count_wait() blocks until tu_count_down() ran n times. */
struct tu_count {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  long left; /* protected by lock */
};

void tu_count_init(struct tu_count *c, long n);
void tu_count_down(struct tu_count *c);
void tu_count_wait(struct tu_count *c);
void tu_count_destroy(struct tu_count *c);

/*
 * @n scaled by FUTURES_STRESS_SCALE (a positive factor, default 1), and at
 * least @min: the valgrind targets run the heavy tests with a tenth of
 * their counts.
 */
long tu_scaled(long n, long min);

/* Nanoseconds on CLOCK_MONOTONIC. */
long long tu_now_ns(void);
/* An absolute CLOCK_MONOTONIC deadline @ns from now. */
struct timespec tu_deadline_in(long long ns);

/* Start @n threads running fn(arg, i) and join them; returns 0 or errno. */
int tu_run_threads(int n, void (*fn)(void *arg, int i), void *arg);

/*
 * A held task, for the saturate-then-release technique: tu_hold_task() opens
 * h->started when it begins, then blocks until h->release is opened, and
 * returns 0 with h->value as its result. Its signature is futures_task_fn's.
 */
struct tu_hold {
  struct tu_latch started; /* opened by the task once it runs */
  struct tu_latch release; /* opened by the test to let the task return */
  void *value;             /* the task's result */
};

void tu_hold_init(struct tu_hold *h, void *value);
int tu_hold_task(void *arg, void **result); /* arg: struct tu_hold * */
void tu_hold_destroy(struct tu_hold *h);

/*
 * Polls pred(arg) with sched_yield() until it returns non-zero (returns 1) or
 * @timeout_ns has passed on CLOCK_MONOTONIC (returns 0), so that a wait for
 * a state the library should reach fails instead of hanging.
 */
int tu_spin_until(int (*pred)(void *arg), void *arg, long long timeout_ns);

/* Busy-waits until @ns have passed on CLOCK_MONOTONIC (for timing bounds). */
void tu_spin_for(long long ns);

/*
 * Runs the suite with CK_ENV output and returns the exit status for main():
 * 0 if every test passed, 1 otherwise.
 */
int tu_run_suite(Suite *s);

#endif /* TESTUTIL_H */
