/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the Check tests: latches and barriers to order threads
 * without sleeps, a monotonic clock, and the main() every test binary uses.
 * Nothing here calls ck_assert*: helpers return values for the test thread
 * to assert on.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
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

/*
 * Helgrind cannot see C11 atomics. In a build configured with
 * --enable-valgrind-annotations (make check-helgrind), a test that
 * publishes plain data through an atomic flag tells it with these: the
 * release before the store, the acquire after the load.
 */
#ifndef FUTURES_ANNOTATE
#define FUTURES_ANNOTATE 0
#endif
#if FUTURES_ANNOTATE
#include <valgrind/helgrind.h>
#define TU_HAPPENS_BEFORE(p) ANNOTATE_HAPPENS_BEFORE(p)
#define TU_HAPPENS_AFTER(p)  ANNOTATE_HAPPENS_AFTER(p)
#else
#define TU_HAPPENS_BEFORE(p) ((void)(p))
#define TU_HAPPENS_AFTER(p)  ((void)(p))
#endif
/* atomic_store() and atomic_load() (seq_cst), annotated as above. */
#define TU_PUB_STORE(p, v)                                                     \
  do {                                                                         \
    TU_HAPPENS_BEFORE(p);                                                      \
    atomic_store((p), (v));                                                    \
  } while (0)
#define TU_PUB_LOAD(p)                                                         \
  __extension__({                                                              \
    __typeof__(atomic_load(p)) tu_pub_v_ = atomic_load(p);                     \
    TU_HAPPENS_AFTER(p);                                                       \
    tu_pub_v_;                                                                 \
  })

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
/* An absolute CLOCK_MONOTONIC deadline @ns from now (negative: in the
 * past); futures_deadline_in() for @ns >= 0. */
struct timespec tu_deadline_in(long long ns);

/*
 * Ends a fork() child with status @code through exec rather than _exit():
 * the memory of threads that do not exist in the child (the parent's
 * pools) would otherwise count as leaked under valgrind or LeakSanitizer
 * and turn the status into the tool's error code.
 */
void tu_child_exit(int code) __attribute__((noreturn));

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
int tu_crowd_hold(futures_pool_t *pool, struct tu_crowd *c, future_t **futures,
                  size_t n);
/*
 * Opens the gate, waits for each of the @n futures and releases it, then
 * destroys @c. Returns how many did not finish with 0 and the crowd as
 * their result (0 when all is well).
 */
long tu_crowd_release(struct tu_crowd *c, future_t **futures, size_t n);
/* Destroys @c, for a caller that waited for and released the futures. */
void tu_crowd_destroy(struct tu_crowd *c);

/*
 * A task that waits for its own future, for the EDEADLK rule ("a task
 * waiting for its own future ... nothing was done"). tu_self_wait_run()
 * creates a 2-worker pool; if @mixed, holds one worker with a tu_hold task
 * whose future is sw->other; submits tu_self_wait_task with @sw as its
 * argument, stores the handle in sw->self and only then opens sw->go. The
 * task calls sw->call(sw), stores its code in sw->rc and, if there is an
 * other future, whether it had finished when the call returned in
 * sw->other_ready, then sets sw->returned.
 *
 * The test thread waits up to @patience_ns for the call to return
 * (sw->in_time), and only then releases the other task, so a call that
 * waits for the other future cannot return before it is let go (a correct
 * one returns at once, with the other still unfinished). If the call had
 * not returned and there is an other future, it waits @patience_ns more.
 * Returns 0 when the call returned and everything was freed; 1 when the
 * task is still stuck in the call (the pool is then left as it is: it
 * cannot be destroyed); another value if the setup failed.
 */
struct tu_self_wait {
  int (*call)(struct tu_self_wait *sw); /* the wait under test */
  future_t *self;                       /* the task's own future */
  future_t *other;                      /* NULL, or an unfinished future */
  struct tu_latch go;                   /* opened once self is stored */
  atomic_int returned;                  /* the call came back */
  int rc;                               /* what it returned */
  int other_ready; /* future_is_ready(other) just after; -1 without one */
  int in_time;     /* returned within the patience, other still held */
};

/* arg: struct tu_self_wait * */
int tu_self_wait_task(void *arg, void **result);
int tu_self_wait_run(struct tu_self_wait *sw,
                     int (*call)(struct tu_self_wait *), int mixed,
                     long long patience_ns);
/*
 * The array a join in sw->call() waits on: {self}, or {other, self} when
 * there is an other future (its own future last, so that a join walking
 * the array in order meets the other one first). Returns its length.
 */
size_t tu_self_wait_array(const struct tu_self_wait *sw, future_t *arr[2]);

/* How long tu_check_self_wait() gives a call (a correct one returns at
 * once), and a deadline no test reaches, for the timed self-waits. */
#define TU_SELF_PATIENCE (2 * 1000000000LL)
#define TU_SELF_FAR      (60 * 1000000000LL)

/*
 * Runs tu_self_wait_run(sw, @call, @mixed, TU_SELF_PATIENCE) and asserts,
 * from the test thread, that the call (named @what in the messages)
 * returned EDEADLK at once without waiting for the other future.
 */
void tu_check_self_wait(int (*call)(struct tu_self_wait *), int mixed,
                        const char *what);

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
