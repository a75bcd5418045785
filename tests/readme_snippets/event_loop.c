/* SPDX-License-Identifier: MIT */
/*
 * README snippet: results delivered into a poll() loop through a notifier,
 * and a callback API wrapped in a promise (see seed.c for the markers).
 */
#include <errno.h>
#include <futures.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

/* A callback-driven source, as a C library might offer one: it calls
 * done(ctx, value) from a thread of its own, some time later. */
struct source_call {
  void (*done)(void *ctx, int value);
  void *ctx;
};

static void *
source_thread(void *arg)
{
  struct source_call *c = arg;

  c->done(c->ctx, 42);
  return NULL;
}

static int
source_start(struct source_call *c, pthread_t *th)
{
  return pthread_create(th, NULL, source_thread, c);
}

static int
compute(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* README: begin */
/* new Promise(resolve => source(resolve)): the callback settles it. */
static void
on_done(void *ctx, int value)
{
  future_resolve(ctx, (void *)(intptr_t)value);
}
/* README: end */

int
main(void)
{
  futures_pool_t *pool;
  futures_notifier_t *n;
  future_t *task, *promise, *both;
  struct source_call call;
  static const char *const names[] = {"task", "promise", "both"};
  pthread_t th;
  int ok = 1, pending = 3;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, compute, (void *)(intptr_t)7, &task) != 0)
    return 1;
  /* README: begin */
  if (futures_promise_create(&promise) != 0 ||
      futures_notifier_create(&n) != 0)
    return 1;
  call.done = on_done; /* the source will resolve the promise */
  call.ctx = promise;
  if (source_start(&call, &th) != 0)
    return 1;
  /* Promise.all as a value: settles when both have, blocking nobody. */
  future_t *inputs[2] = {task, promise};
  if (futures_all(inputs, 2, &both) != 0 ||
      futures_notifier_watch(n, task, (void *)0) != 0 || /* tags: 0, 1, 2 */
      futures_notifier_watch(n, promise, (void *)1) != 0 ||
      futures_notifier_watch(n, both, (void *)2) != 0)
    return 1;
  while (pending > 0) { /* the program's event loop */
    struct pollfd pfd = {futures_notifier_fd(n), POLLIN, 0};
    void *tags[4];

    if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
      return 1;
    size_t k = futures_notifier_take(n, tags, 4); /* never blocks */
    for (size_t i = 0; i < k; i++) {
      printf("settled: %s\n", names[(intptr_t)tags[i]]);
      pending--;
    }
  }
  /* README: end */
  {
    void *a = NULL, *b = NULL;

    ok &= future_get(both, NULL) == 0;
    ok &= future_get(task, &a) == 0 && (intptr_t)a == 7;
    ok &= future_get(promise, &b) == 0 && (intptr_t)b == 42;
  }
  pthread_join(th, NULL);
  future_release(both);
  future_release(promise);
  future_release(task);
  /* README: begin */
  /* Shutting down without blocking the loop: the pool stops at once, its
   * drain runs in a thread of the library, and the loop hears of the end
   * like any other result. */
  future_t *closed;
  if (futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &closed) != 0 ||
      futures_notifier_watch(n, closed, (void *)3) != 0)
    return 1;
  for (int gone = 0; !gone;) { /* the same loop, until tag 3 */
    struct pollfd pfd = {futures_notifier_fd(n), POLLIN, 0};
    void *tags[4];

    if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
      return 1;
    size_t k = futures_notifier_take(n, tags, 4);
    for (size_t i = 0; i < k; i++)
      gone |= tags[i] == (void *)3; /* the pool's memory is freed */
  }
  /* README: end */
  ok &= future_get(closed, NULL) == 0;
  future_release(closed);
  futures_notifier_destroy(n);
  return ok ? 0 : 1;
}
