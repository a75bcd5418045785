/* SPDX-License-Identifier: MIT */
/* README snippet: cancellation and drop functions (see seed.c). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int started, drops;

/* README: begin */
/* A long task checks now and then whether it was asked to stop. */
static int
long_job(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  (void)result;
  atomic_store(&started, 1);
  while (!futures_cancelled())
    nanosleep(&ms, NULL); /* ... a slice of the work ... */
  return ECANCELED;
}

/* Frees the argument of a task that is cancelled before it starts. */
static void
free_arg(void *arg)
{
  free(arg);
  atomic_fetch_add(&drops, 1);
}
/* README: end */

static int
use_buffer(void *arg, void **result)
{
  (void)result;
  free(arg);
  return 0;
}

int
main(void)
{
  struct timespec ms = { 0, 1000000L };
  futures_pool_t *pool;
  future_t *running, *queued;
  int ok = 1, rc1, rc2;

  if (futures_pool_create(&pool, 1) != 0) /* one worker */
    return 1;
  if (futures_submit(pool, long_job, NULL, &running) != 0)
    return 1;
  while (!atomic_load(&started)) /* the worker now runs long_job */
    nanosleep(&ms, NULL);
  /* README: begin */
  /* A task with a heap argument, queued behind long_job on a 1-worker
   * pool: if it never runs, free_arg() gets the argument. */
  futures_task_t task = FUTURES_TASK(use_buffer, malloc(4096), free_arg);
  if (futures_submit_ex(pool, &task, NULL, &queued) != 0)
    return 1; /* not accepted: the argument is still ours */

  rc1 = future_cancel(queued);  /* 0: it never runs; free_arg() ran */
  rc2 = future_cancel(running); /* EINPROGRESS: asked; it stops itself */
  printf("%d %d -> %s, %s\n", rc1, rc2,
         strerror(future_get(queued, NULL)),   /* ECANCELED */
         strerror(future_get(running, NULL))); /* ECANCELED, its own */
  /* README: end */
  ok &= rc1 == 0 && rc2 == EINPROGRESS && atomic_load(&drops) == 1;
  ok &= future_get(queued, NULL) == ECANCELED;
  future_release(queued);
  future_release(running);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
