// SPDX-License-Identifier: MIT
/*
 * ring.cpp - models of lib/ring.c, a submission ring: its owner pushes
 * records and takes its newest ones back (retract), consumers take the
 * oldest under the try-lock, and a full array makes the owner move on to
 * a larger one, compiled from lib/ring.c itself.
 *
 * Each record carries a payload (rl::var) that the owner writes before it
 * pushes the record and whoever takes it reads: a missing happens-before
 * is a data race. Checked: each record taken exactly once, by a consumer
 * or by the owner's retract; a consumer takes one owner's records oldest
 * first; a retract takes the newest, and only records that are there.
 */
#include "harness.hpp"

/* A small first array, so that a third record makes the owner grow it. */
#define RING_INIT 2

/* The ring stores record pointers and never looks inside them. */
struct future {
  rl::var<int> payload;
};

#include "ring.c"

using futures_model::suite;

namespace {

template <class Derived, rl::thread_id_t Threads, int N>
struct ring_model : suite<Derived, Threads> {
  struct ring r;
  struct future rec[N];
  struct future *pushed_list[N];
  int pushed;       /* records pushed so far, in order */
  int taken[N];     /* by anybody */
  int last_consumed; /* the last record a consumer took, + 1 */

  void before() { RL_ASSERT(futures__ring_init(&r) == 0); }

  /* Owner: pushes the next record. */
  void push()
  {
    int i = pushed;
    struct future *f = &rec[i];

    RL_ASSERT(i < N);
    rec[i].payload($) = i + 1;
    pushed_list[i] = f;
    pushed++;
    RL_ASSERT(futures__ring_push(&r, &f, 1) == 0);
  }

  void take(struct future *f)
  {
    int i = (int)(f - rec);

    RL_ASSERT(i >= 0 && i < pushed);
    RL_ASSERT(taken[i] == 0);
    taken[i] = 1;
    RL_ASSERT(rec[i].payload($) == i + 1);
  }

  /* Owner: takes back up to @max of its newest records, which must be the
   * newest ones not yet taken, newest first. */
  void retract(size_t max)
  {
    struct future *out[N];
    size_t n = futures__ring_retract(&r, pushed_list, (size_t)pushed, out,
                                     max);

    for (size_t k = 0; k < n; k++) {
      RL_ASSERT(out[k] == &rec[pushed - 1 - (int)k]);
      take(out[k]);
    }
  }

  /* Consumer: one record, oldest first. */
  void consume()
  {
    struct future *f;

    if (futures__ring_take(&r, &f, 1) == 1) {
      int i = (int)(f - rec);

      take(f);
      RL_ASSERT(i + 1 > last_consumed);
      last_consumed = i + 1;
    }
  }

  void after()
  {
    struct future *f;

    while (futures__ring_take(&r, &f, 1) == 1)
      take(f);
    for (int i = 0; i < pushed; i++)
      RL_ASSERT(taken[i] == 1);
    futures__ring_fini(&r);
  }
};

/* (a) The race at the heart of retract: the owner pushes a record and
 * takes it back while a consumer tries to take it; exactly one of them
 * gets it. Full search. */
struct ring_race : ring_model<ring_race, 2, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      retract(2);
    } else {
      consume();
    }
  }
};

/* (a') The same, then a push into the slot a retract gave back (or into a
 * second array), against a consumer taking twice. */
struct ring_retract : ring_model<ring_retract, 2, 3> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      retract(2);
      push();
    } else {
      consume();
      consume();
    }
  }
};

/* (b) Growth under a consumer: three pushes into an array of two, while
 * the consumer may be reading the first array, then a retract of the
 * newest from the second. */
struct ring_grow : ring_model<ring_grow, 2, 3> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      push();
      retract(1);
    } else {
      consume();
      consume();
    }
  }
};

/* (c) Two consumers contending for the try-lock, which hands the ring's
 * head from one to the next, and the owner's retract. */
struct ring_consumers : ring_model<ring_consumers, 3, 3> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      push();
      retract(1);
    } else {
      consume();
    }
  }
};

const futures_model::entry models[] = {
    {"ring-race", "ring: push, push, retract vs 1 take, 2 threads",
     futures_model::run<ring_race>, rl::sched_full, 0},
    {"ring-retract", "ring: push, retract, push vs 2 takes, 2 threads",
     futures_model::run<ring_retract>, rl::sched_bound, 4},
    {"ring-grow", "ring: pushes that grow the array, retract vs 2 takes",
     futures_model::run<ring_grow>, rl::sched_bound, 4},
    {"ring-consumers", "ring: owner vs 2 consumers, 3 threads",
     futures_model::run<ring_consumers>, rl::sched_bound, 3},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
