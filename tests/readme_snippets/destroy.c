/* SPDX-License-Identifier: MIT */
/* README snippet: the two destroy modes (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_int started, ran, dropped;

static int
poll_until_cancelled(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  (void)result;
  atomic_store(&started, 1);
  while (!futures_cancelled())
    nanosleep(&ms, NULL);
  return ECANCELED;
}

static int
work(void *arg, void **result)
{
  (void)result;
  free(arg);
  atomic_fetch_add(&ran, 1);
  return 0;
}

static void
drop(void *arg)
{
  free(arg);
  atomic_fetch_add(&dropped, 1);
}

int
main(void)
{
  struct timespec ms = { 0, 1000000L };
  futures_pool_t *pool, *other;
  future_t *f[4], *g[3];
  futures_outcome_t out[4];
  int ok = 1, rc;

  /* Drain: every accepted task runs, then the workers stop. */
  if (futures_pool_create(&other, 1) != 0)
    return 1;
  for (int i = 0; i < 3; i++) {
    futures_task_t t = FUTURES_TASK(work, malloc(16), drop);
    if (futures_submit_ex(other, &t, NULL, &g[i]) != 0)
      return 1;
  }
  ok &= futures_pool_destroy(other) == 0 && atomic_load(&ran) == 3;

  /* Cancel: one running task and three queued ones. */
  if (futures_pool_create(&pool, 1) != 0)
    return 1;
  if (futures_submit(pool, poll_until_cancelled, NULL, &f[0]) != 0)
    return 1;
  while (!atomic_load(&started))
    nanosleep(&ms, NULL);
  for (int i = 1; i < 4; i++) {
    futures_task_t t = FUTURES_TASK(work, malloc(16), drop);
    if (futures_submit_ex(pool, &t, NULL, &f[i]) != 0)
      return 1;
  }
  /* README: begin */
  /* futures_pool_destroy(pool) would run all four tasks first (drain).
   * Cancel mode: the three queued tasks finish with ECANCELED, unrun, and
   * their drop functions free their arguments; the running one sees
   * futures_cancelled() == 1 and returns early. */
  rc = futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL);

  /* The futures outlive the pool until released; every one is settled. */
  futures_join_all_settled(f, 4, out);
  for (int i = 0; i < 4; i++)
    printf("task %d: code %d\n", i, out[i].code); /* all ECANCELED */
  /* README: end */
  ok &= rc == 0 && atomic_load(&dropped) == 3 && atomic_load(&ran) == 3;
  for (int i = 0; i < 4; i++) {
    ok &= out[i].code == ECANCELED;
    future_release(f[i]);
  }
  for (int i = 0; i < 3; i++)
    future_release(g[i]);
  return ok ? 0 : 1;
}
