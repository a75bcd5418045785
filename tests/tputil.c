/* SPDX-License-Identifier: MIT */
#include "tputil.h"

#include <stdatomic.h>

#include "internal.h"

#define MAX_STATIONS 8

static struct tu_tp *stations[MAX_STATIONS];
static int nstations;

void
tu_tp_init(struct tu_tp *t, int tp, const void *obj, int park)
{
  t->tp = tp;
  t->obj = obj;
  t->park = park;
  t->filter = NULL;
  t->filter_ctx = NULL;
  pthread_mutex_init(&t->lock, NULL);
  t->armed = 1;
  t->one_thread = 0;
  tu_latch_init(&t->reached);
  tu_latch_init(&t->release);
}

void
tu_tp_only_me(struct tu_tp *t)
{
  pthread_mutex_lock(&t->lock);
  t->one_thread = 1;
  t->thread = pthread_self();
  pthread_mutex_unlock(&t->lock);
}

/* 1 if @t fires for this call (and disarms it). */
static int
claim(struct tu_tp *t, int tp, const void *obj)
{
  int fire;

  if (t->tp != tp || (t->obj != NULL && t->obj != obj))
    return 0;
  pthread_mutex_lock(&t->lock);
  fire = t->armed &&
         (!t->one_thread || pthread_equal(t->thread, pthread_self())) &&
         (t->filter == NULL || t->filter(obj, t->filter_ctx));
  if (fire)
    t->armed = 0;
  pthread_mutex_unlock(&t->lock);
  return fire;
}

static void
dispatch(int tp, const void *obj, void *ctx)
{
  (void)ctx;
  for (int i = 0; i < nstations; i++) {
    struct tu_tp *t = stations[i];

    if (claim(t, tp, obj)) {
      tu_latch_open(&t->reached);
      if (t->park)
        tu_latch_wait(&t->release);
    }
  }
}

void
tu_tp_install(struct tu_tp *const list[], int n)
{
  futures__tp_set(NULL, NULL);
  nstations = n < MAX_STATIONS ? n : MAX_STATIONS;
  for (int i = 0; i < nstations; i++)
    stations[i] = list[i];
  /* futures__tp_set() publishes the array to the threads that reach a
   * point afterwards. */
  futures__tp_set(dispatch, NULL);
}

void
tu_tp_uninstall(void)
{
  futures__tp_set(NULL, NULL);
}

void
tu_tp_wait(struct tu_tp *t)
{
  tu_latch_wait(&t->reached);
}

int
tu_tp_fired(struct tu_tp *t)
{
  return tu_latch_is_open(&t->reached);
}

void
tu_tp_release(struct tu_tp *t)
{
  tu_latch_open(&t->release);
}

void
tu_tp_destroy(struct tu_tp *t)
{
  tu_latch_destroy(&t->release);
  tu_latch_destroy(&t->reached);
  pthread_mutex_destroy(&t->lock);
}
