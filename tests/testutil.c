/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tu_latch_init(struct tu_latch *l)
{
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->cond, NULL);
  l->open = 0;
}

void
tu_latch_open(struct tu_latch *l)
{
  pthread_mutex_lock(&l->lock);
  l->open = 1;
  /* Wakes every tu_latch_wait() caller. */
  pthread_cond_broadcast(&l->cond);
  pthread_mutex_unlock(&l->lock);
}

void
tu_latch_wait(struct tu_latch *l)
{
  pthread_mutex_lock(&l->lock);
  while (!l->open) /* predicate: the latch was opened */
    pthread_cond_wait(&l->cond, &l->lock);
  pthread_mutex_unlock(&l->lock);
}

int
tu_latch_is_open(struct tu_latch *l)
{
  int open;

  pthread_mutex_lock(&l->lock);
  open = l->open;
  pthread_mutex_unlock(&l->lock);
  return open;
}

void
tu_latch_destroy(struct tu_latch *l)
{
  pthread_cond_destroy(&l->cond);
  pthread_mutex_destroy(&l->lock);
}

void
tu_count_init(struct tu_count *c, long n)
{
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
  c->left = n;
}

void
tu_count_down(struct tu_count *c)
{
  pthread_mutex_lock(&c->lock);
  if (c->left > 0 && --c->left == 0)
    pthread_cond_broadcast(&c->cond); /* wakes tu_count_wait() */
  pthread_mutex_unlock(&c->lock);
}

void
tu_count_wait(struct tu_count *c)
{
  pthread_mutex_lock(&c->lock);
  while (c->left > 0) /* predicate: every count_down happened */
    pthread_cond_wait(&c->cond, &c->lock);
  pthread_mutex_unlock(&c->lock);
}

void
tu_count_destroy(struct tu_count *c)
{
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
}

long
tu_scaled(long n, long min)
{
  const char *s = getenv("FUTURES_STRESS_SCALE");
  double f = s != NULL ? strtod(s, NULL) : 1.0;
  long v;

  if (!(f > 0.0))
    f = 1.0;
  v = (long)((double)n * f);
  return v < min ? min : v;
}

long long
tu_now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct timespec
tu_deadline_in(long long ns)
{
  struct timespec ts;
  long long t;

  /* The library's helper, for every deadline from now on; it refuses a
   * negative @ns, which the tests use for a deadline in the past. */
  if (ns >= 0) {
    if (futures_deadline_in(ns, &ts) != 0)
      abort();
    return ts;
  }
  t = tu_now_ns() + ns;
  ts.tv_sec = (time_t)(t / 1000000000LL);
  ts.tv_nsec = (long)(t % 1000000000LL);
  return ts;
}

struct tu_thread_arg {
  void (*fn)(void *arg, int i);
  void *arg;
  int i;
};

static void *
thread_main(void *p)
{
  struct tu_thread_arg *a = p;

  a->fn(a->arg, a->i);
  return NULL;
}

int
tu_run_threads(int n, void (*fn)(void *arg, int i), void *arg)
{
  pthread_t *t = calloc((size_t)n, sizeof(*t));
  struct tu_thread_arg *a = calloc((size_t)n, sizeof(*a));
  int i, started = 0, rc = 0;

  if (t == NULL || a == NULL) {
    rc = 12; /* ENOMEM */
    goto out;
  }
  for (i = 0; i < n; i++) {
    a[i].fn = fn;
    a[i].arg = arg;
    a[i].i = i;
    rc = pthread_create(&t[i], NULL, thread_main, &a[i]);
    if (rc != 0)
      break;
    started++;
  }
  for (i = 0; i < started; i++)
    pthread_join(t[i], NULL);
out:
  free(a);
  free(t);
  return rc;
}

int
tu_run_suite(Suite *s)
{
  SRunner *sr = srunner_create(s);
  int failed;

  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}

void
tu_hold_init(struct tu_hold *h, void *value)
{
  tu_latch_init(&h->started);
  tu_latch_init(&h->release);
  h->value = value;
}

int
tu_hold_task(void *arg, void **result)
{
  struct tu_hold *h = arg;

  tu_latch_open(&h->started);
  tu_latch_wait(&h->release);
  *result = h->value;
  return 0;
}

void
tu_hold_destroy(struct tu_hold *h)
{
  tu_latch_destroy(&h->release);
  tu_latch_destroy(&h->started);
}

int
tu_crowd_task(void *arg, void **result)
{
  struct tu_crowd *c = arg;

  tu_count_down(&c->started);
  tu_latch_wait(&c->gate);
  *result = c;
  return 0;
}

int
tu_crowd_hold(futures_pool_t *pool, struct tu_crowd *c, future_t **futures,
              size_t n)
{
  tu_count_init(&c->started, (long)n);
  tu_latch_init(&c->gate);
  for (size_t i = 0; i < n; i++) {
    int rc = futures_submit(pool, tu_crowd_task, c, &futures[i]);

    if (rc != 0)
      return rc;
  }
  tu_count_wait(&c->started);
  return 0;
}

long
tu_crowd_release(struct tu_crowd *c, future_t **futures, size_t n)
{
  long bad = 0;

  tu_latch_open(&c->gate);
  for (size_t i = 0; i < n; i++) {
    void *r = NULL;

    bad += future_get(futures[i], &r) != 0 || r != c;
    future_release(futures[i]);
  }
  tu_crowd_destroy(c);
  return bad;
}

void
tu_crowd_destroy(struct tu_crowd *c)
{
  tu_count_destroy(&c->started);
  tu_latch_destroy(&c->gate);
}

int
tu_spin_until(int (*pred)(void *arg), void *arg, long long timeout_ns)
{
  long long end = tu_now_ns() + timeout_ns;

  for (;;) {
    if (pred(arg))
      return 1;
    if (tu_now_ns() >= end)
      return 0;
    sched_yield();
  }
}

void
tu_spin_for(long long ns)
{
  long long end = tu_now_ns() + ns;

  while (tu_now_ns() < end)
    ;
}

int
tu_self_wait_task(void *arg, void **result)
{
  struct tu_self_wait *sw = arg;

  tu_latch_wait(&sw->go); /* sw->self is stored by now */
  sw->rc = sw->call(sw);
  sw->other_ready = sw->other != NULL ? future_is_ready(sw->other) : -1;
  atomic_store(&sw->returned, 1);
  *result = NULL;
  return 0;
}

static int
self_wait_returned(void *arg)
{
  return atomic_load(&((struct tu_self_wait *)arg)->returned);
}

size_t
tu_self_wait_array(const struct tu_self_wait *sw, future_t *arr[2])
{
  if (sw->other == NULL) {
    arr[0] = sw->self;
    return 1;
  }
  arr[0] = sw->other;
  arr[1] = sw->self;
  return 2;
}

int
tu_self_wait_run(struct tu_self_wait *sw, int (*call)(struct tu_self_wait *),
                 int mixed, long long patience_ns)
{
  futures_pool_t *pool = NULL;
  struct tu_hold h;
  int rc;

  sw->call = call;
  sw->self = sw->other = NULL;
  atomic_init(&sw->returned, 0);
  sw->rc = sw->other_ready = -1;
  sw->in_time = 0;
  tu_latch_init(&sw->go);
  tu_hold_init(&h, NULL);
  if ((rc = futures_pool_create(&pool, 2)) != 0)
    return rc;
  if (mixed) {
    if ((rc = futures_submit(pool, tu_hold_task, &h, &sw->other)) != 0)
      return rc;
    tu_latch_wait(&h.started);
  }
  if ((rc = futures_submit(pool, tu_self_wait_task, sw, &sw->self)) != 0)
    return rc;
  tu_latch_open(&sw->go);
  sw->in_time = tu_spin_until(self_wait_returned, sw, patience_ns);
  tu_latch_open(&h.release);
  /* Alone, nothing else can let the call return; mixed, a call that
   * waited for the other future returns right after it. */
  if (!sw->in_time &&
      (!mixed || !tu_spin_until(self_wait_returned, sw, patience_ns)))
    return 1; /* stuck for good: leave the pool and its memory alone */
  rc = future_get(sw->self, NULL);
  if (sw->other != NULL) {
    rc |= future_get(sw->other, NULL);
    future_release(sw->other);
  }
  future_release(sw->self);
  rc |= futures_pool_destroy(pool);
  tu_hold_destroy(&h);
  tu_latch_destroy(&sw->go);
  return rc;
}

void
tu_check_self_wait(int (*call)(struct tu_self_wait *), int mixed,
                   const char *what)
{
  /* On the heap: a task stuck in the call keeps using it, so it is freed
   * only when the call came back. */
  struct tu_self_wait *sw = calloc(1, sizeof(*sw));
  int run, rc, in_time, other_ready;

  ck_assert_ptr_nonnull(sw);
  run = tu_self_wait_run(sw, call, mixed, TU_SELF_PATIENCE);
  ck_assert_msg(run != 1, "%s on its own future%s: still waiting %s", what,
                mixed ? " and another" : "",
                mixed ? "2 s after the other one finished" : "after 2 s");
  rc = sw->rc;
  in_time = sw->in_time;
  other_ready = sw->other_ready;
  free(sw);
  ck_assert_msg(in_time && rc == EDEADLK && other_ready <= 0,
                "%s on its own future%s: returned %d (want EDEADLK = %d) %s; "
                "other future finished when it returned: %d",
                what, mixed ? " and another unfinished one" : "", rc, EDEADLK,
                in_time ? "at once"
                        : "only after the other future was released",
                other_ready);
  ck_assert_int_eq(run, 0);
}

void
tu_child_exit(int code)
{
  char cmd[16];

  snprintf(cmd, sizeof(cmd), "exit %d", code);
  execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
  _exit(code);
}
