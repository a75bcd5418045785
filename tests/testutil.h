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

#include "futures.h"

/* TU_TSAN / TU_ASAN: 1 when the tests are built under ThreadSanitizer /
 * AddressSanitizer (gcc and clang spell the check differently). */
#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif

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
 * A crowd of held tasks, to occupy several workers at once: each
 * tu_crowd_task() counts down @started, then blocks until @gate opens, and
 * returns 0 with the crowd as its result.
 */
struct tu_crowd {
  struct tu_count started;
  struct tu_latch gate;
};

int tu_crowd_task(void *arg, void **result); /* arg: struct tu_crowd * */
/*
 * Initialises @c, submits @n crowd tasks to @pool into futures[0..n) and
 * waits on the countdown (not on the futures, so the caller never runs one
 * itself) until all @n run at once, which takes @n distinct workers.
 * Returns 0, or the error of the submit that failed (without waiting).
 */
int tu_crowd_hold(futures_pool_t *pool, struct tu_crowd *c,
                  future_t **futures, size_t n);
/*
 * Opens the gate, waits for each of the @n futures and releases it, then
 * destroys @c. Returns how many did not finish with 0 and the crowd as
 * their result (0 when all is well).
 */
long tu_crowd_release(struct tu_crowd *c, future_t **futures, size_t n);
/* Destroys @c, for a caller that waited for and released the futures. */
void tu_crowd_destroy(struct tu_crowd *c);

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
