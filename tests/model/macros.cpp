// SPDX-License-Identifier: MIT
/*
 * macros.cpp - runs macros.c, which uses every name of lib/atomics.h, under
 * the shim: a check of the shim itself (globals re-created for every
 * execution, pthread_once, futures__tls per thread, the allocation macros,
 * the barrier pair, spinning) more than of macros.c.
 */
#include "harness.hpp"

#include "macros.c"

using futures_model::suite;

namespace {

/* Both threads add to one stripe; the first to get there runs the
 * pthread_once that initialises the global mutexes (which the library
 * never destroys: the model does, when the execution ends). */
struct stripes : suite<stripes, 2> {
  void thread(unsigned t)
  {
    macros_stripe_add(5, (long)t + 1);
    RL_ASSERT(macros_my_tally() == (long)t + 1);
  }

  void after()
  {
    RL_ASSERT(macros_stripe_total() == 3);
    RL_ASSERT(macros_events() == 2);
  }
};

/* A reference taken with a weak compare-and-swap loop races the last
 * drop; bits set and cleared in a bag of atomics. */
struct refs : suite<refs, 2> {
  struct macros_node *ring;
  struct macros_bag *bag;
  int got, last[2];

  void before()
  {
    ring = macros_ring_new(2);
    bag = macros_bag_new(3);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      got = macros_node_ref(&ring[1]);
      if (got)
        last[0] = macros_node_unref(&ring[1]);
      macros_bag_set(bag, 2, 0);
    } else {
      last[1] = macros_node_unref(&ring[1]);
      macros_bag_set(bag, 2, 1);
      macros_bag_keep(bag, 2, 2);
    }
  }

  void after()
  {
    RL_ASSERT(last[0] + last[1] == 1);
    RL_ASSERT(atomic_load_explicit(&ring[0].u.next, memory_order_relaxed) ==
              &ring[1]);
    unsigned long bits =
        atomic_load_explicit(&bag->item[2], memory_order_relaxed);
    RL_ASSERT(bits == 2 || bits == 3);
    macros_ring_free(ring, 2);
    macros_bag_free(bag);
  }
};

/* The barrier pair orders a store before a load on both sides, and a
 * spinning reader sees what was published before the flag. */
struct barriers : suite<barriers, 2> {
  _Atomic(int) x, y, flag;
  _Atomic(long) data;
  int saw[2];

  void before()
  {
    atomic_init(&x, 0);
    atomic_init(&y, 0);
    atomic_init(&flag, 0);
    atomic_init(&data, 0);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      saw[0] = macros_sb_light(&x, &y);
      macros_publish(&flag, &data, 42);
    } else {
      saw[1] = macros_sb_heavy(&y, &x);
      RL_ASSERT(macros_spin_read(&flag, &data) == 42);
      RL_ASSERT(macros_swap(&data, 7) == 42);
    }
  }

  void after() { RL_ASSERT(saw[0] + saw[1] >= 1); }
};

const futures_model::entry models[] = {
    {"macros-stripes", "global mutexes, pthread_once, futures__tls",
     futures_model::run<stripes>, rl::sched_full, 0},
    {"macros-refs", "allocation macros, union, weak CAS, fetch ops",
     futures_model::run<refs>, rl::sched_full, 0},
    {"macros-barriers", "barrier pair, release fence, spinning",
     futures_model::run<barriers>, rl::sched_full, 0},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
