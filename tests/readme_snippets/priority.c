/* SPDX-License-Identifier: MIT */
/* README snippet: priority (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <futures.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int started, gate_open;
static char order[64];
static atomic_int at;
static char backup[] = "backup", report[] = "report", click[] = "click";

static int
hold(void *arg, void **result)
{
  struct timespec ms = { 0, 1000000L };

  (void)arg;
  (void)result;
  atomic_store(&started, 1);
  while (!atomic_load(&gate_open))
    nanosleep(&ms, NULL);
  return 0;
}

/* Appends its name to order[] (one worker: one task at a time). */
static int
job(void *arg, void **result)
{
  const char *name = arg;

  (void)result;
  strcat(order, name);
  strcat(order, " ");
  atomic_fetch_add(&at, 1);
  return 0;
}

int
main(void)
{
  struct timespec ms = { 0, 1000000L };
  futures_pool_t *pool;
  future_t *held, *f[3];

  if (futures_pool_create(&pool, 1) != 0 ||
      futures_submit(pool, hold, NULL, &held) != 0)
    return 1;
  while (!atomic_load(&started)) /* the only worker is busy */
    nanosleep(&ms, NULL);

  /* README: begin */
  futures_task_t low = FUTURES_TASK(job, backup, NULL);
  futures_task_t normal = FUTURES_TASK(job, report, NULL);
  futures_task_t high = FUTURES_TASK(job, click, NULL);

  low.priority = FUTURES_PRIORITY_LOW;
  high.priority = FUTURES_PRIORITY_HIGH;
  if (futures_submit_ex(pool, &low, NULL, &f[0]) != 0 ||
      futures_submit_ex(pool, &normal, NULL, &f[1]) != 0 ||
      futures_submit_ex(pool, &high, NULL, &f[2]) != 0)
    return 1;
  /* The worker was busy until now; it starts click, report, backup. */
  /* README: end */

  atomic_store(&gate_open, 1);
  while (atomic_load(&at) < 3) /* not future_get(): it would run one here */
    nanosleep(&ms, NULL);
  for (int i = 0; i < 3; i++) {
    if (future_get(f[i], NULL) != 0)
      return 1;
    future_release(f[i]);
  }
  future_get(held, NULL);
  future_release(held);
  futures_pool_destroy(pool);
  printf("%s\n", order);
  return strcmp(order, "click report backup ") == 0 ? 0 : 1;
}
