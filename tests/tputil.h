/* SPDX-License-Identifier: MIT */
/*
 * Test-point stations, for the tests that link the hooked core library
 * (lib/libfutures_hooked.la, compiled with FUTURES_TEST_HOOKS=1): a
 * station stops, or only notes, the first thread that reaches a named
 * test point of the library (FUTURES_TP_* in lib/internal.h), so that a
 * test can force an interleaving the public API cannot reach. Like the
 * rest of testutil, nothing here calls ck_assert*.
 */
#ifndef TPUTIL_H
#define TPUTIL_H

#include <pthread.h>

#include "testutil.h"

struct tu_tp {
  /* Set by tu_tp_init() before the station is installed. */
  int tp;          /* FUTURES_TP_* */
  const void *obj; /* the object the point must concern; NULL: any */
  int park;        /* 1: hold the thread until tu_tp_release() */
  /* Optional extra condition, called at the point with its object. */
  int (*filter)(const void *obj, void *ctx);
  void *filter_ctx;
  /* Protected by lock. */
  pthread_mutex_t lock;
  int armed;      /* fires once */
  int one_thread; /* only thread may fire it */
  pthread_t thread;
  struct tu_latch reached; /* opened when it fires */
  struct tu_latch release; /* opened by the test to let a parked thread go */
};

void tu_tp_init(struct tu_tp *t, int tp, const void *obj, int park);
/* Only the calling thread fires @t from now on. */
void tu_tp_only_me(struct tu_tp *t);
/* Installs the stations (at most 8); tu_tp_uninstall() removes them. */
void tu_tp_install(struct tu_tp *const stations[], int n);
void tu_tp_uninstall(void);
/* Blocks until @t has fired. */
void tu_tp_wait(struct tu_tp *t);
int tu_tp_fired(struct tu_tp *t);
/* Lets the thread parked at @t go on (harmless if none is, or not yet). */
void tu_tp_release(struct tu_tp *t);
void tu_tp_destroy(struct tu_tp *t);

#endif /* TPUTIL_H */
