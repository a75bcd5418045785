/* SPDX-License-Identifier: MIT */
/*
 * macros.h - the interface of macros.c (see there).
 */
#ifndef FUTURES_MODEL_MACROS_H
#define FUTURES_MODEL_MACROS_H

#include "internal.h"

struct macros_bag {
  long n;
  _Atomic(unsigned long) item[FUTURES_FLEX];
};

struct macros_node {
  FUTURES_UNION {
    _Atomic(struct macros_node *) next; /* while in the ring */
    long spare;                         /* never read in another role */
  } u;
  _Atomic(int) refs;
};

void macros_stripe_add(int i, long n);
long macros_stripe_total(void);
unsigned long macros_events(void);
long macros_my_tally(void);

struct macros_bag *macros_bag_new(long n);
unsigned long macros_bag_set(struct macros_bag *b, long i, unsigned bit);
unsigned long macros_bag_keep(struct macros_bag *b, long i,
                              unsigned long keep);
void macros_bag_free(struct macros_bag *b);

struct macros_node *macros_ring_new(int n);
int macros_node_ref(struct macros_node *x);
int macros_node_unref(struct macros_node *x);
void macros_ring_free(struct macros_node *r, int n);

int macros_sb_light(_Atomic(int) *mine, _Atomic(int) *theirs);
int macros_sb_heavy(_Atomic(int) *mine, _Atomic(int) *theirs);
long macros_spin_read(_Atomic(int) *flag, _Atomic(long) *data);
void macros_publish(_Atomic(int) *flag, _Atomic(long) *data, long v);
long macros_swap(_Atomic(long) *p, long v);

#endif /* FUTURES_MODEL_MACROS_H */
