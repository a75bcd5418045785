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

/* Nanoseconds on CLOCK_MONOTONIC. */
long long tu_now_ns(void);
/* An absolute CLOCK_MONOTONIC deadline @ns from now. */
struct timespec tu_deadline_in(long long ns);

/* Start @n threads running fn(arg, i) and join them; returns 0 or errno. */
int tu_run_threads(int n, void (*fn)(void *arg, int i), void *arg);

/*
 * Runs the suite with CK_ENV output and returns the exit status for main():
 * 0 if every test passed, 1 otherwise.
 */
int tu_run_suite(Suite *s);

#endif /* TESTUTIL_H */
