// SPDX-License-Identifier: MIT
/*
 * queues.cpp - models of lib/deque.c (the Chase-Lev deque) and lib/inject.c
 * (the injection queue), compiled from those files themselves.
 *
 * Each record carries a payload, a plain variable (rl::var) that the
 * thread queueing it writes first and the thread taking it out reads: if
 * the queue's memory orders did not make the first happen before the
 * second, Relacy reports a data race. Bookkeeping (which record was taken,
 * in which order) is plain harness data, updated right after the atomic
 * operation that took the record, before the next scheduling point: it
 * follows the execution's real order.
 */
#include "harness.hpp"

/* The record, standing in for lib/record.h's struct future: the queues use
 * only the link u.q.next, so the model keeps that path and adds the
 * payload. Defining the guard keeps lib/record.h out. */
#define FUTURES_RECORD_H
struct future {
  FUTURES_UNION {
    struct {
      _Atomic(struct future *) next;
    } q;
  } u;
  rl::var<int> payload;
};

#include "deque.c"
#include "inject.c"

using futures_model::suite;

namespace {

/* ------------------------------------------------------------ deque */

/*
 * Thread 0 owns the deque and pushes records 0, 1, ... in that order;
 * every other thread steals. Checked on every take: the record was pushed,
 * its payload is visible, nobody took it before; a pop takes the newest
 * record left (every later one is taken), a steal the oldest (every
 * earlier one is taken); a pop that finds nothing leaves nothing behind.
 * At the end the rest is popped, and every record was taken exactly once.
 */
template <class Derived, rl::thread_id_t Threads, int N, long Capacity>
struct deque_model : suite<Derived, Threads> {
  struct deque d;
  struct future rec[N];
  int pushed;
  int taken[N];

  void before() { RL_ASSERT(futures__deque_init(&d, Capacity) == 0); }

  void push()
  {
    int i = pushed;

    RL_ASSERT(i < N);
    rec[i].payload($) = i + 1;
    pushed++;
    RL_ASSERT(futures__deque_push(&d, &rec[i]) == 0);
  }

  int take(struct future *f)
  {
    int i = (int)(f - rec);

    RL_ASSERT(i >= 0 && i < pushed);
    RL_ASSERT(taken[i] == 0);
    taken[i]++;
    RL_ASSERT(rec[i].payload($) == i + 1);
    return i;
  }

  void pop()
  {
    struct future *f = futures__deque_pop(&d, 0);

    if (f == NULL) {
      for (int j = 0; j < pushed; j++)
        RL_ASSERT(taken[j] == 1);
      return;
    }
    for (int j = take(f) + 1; j < pushed; j++)
      RL_ASSERT(taken[j] == 1);
  }

  void steal()
  {
    int lost = 0;
    struct future *f = futures__deque_steal(&d, &lost);

    if (f == NULL)
      return;
    for (int j = take(f) - 1; j >= 0; j--)
      RL_ASSERT(taken[j] == 1);
  }

  void after()
  {
    struct future *f;

    while ((f = futures__deque_pop(&d, 0)) != NULL)
      take(f);
    for (int j = 0; j < pushed; j++)
      RL_ASSERT(taken[j] == 1);
    futures__deque_fini(&d);
  }
};

/* (a) The owner's pushes and pops, a pop between pushes, against one
 * thief: a steal against every state of the owner's operations, and the
 * race for the last record. (A full search grows fast: push push pop pop
 * against two steals is 43 million executions, 66 s; deque_steals has two
 * steals against a shorter owner.) */
struct deque_steal : deque_model<deque_steal, 2, 3, 4> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      pop();
      push();
      pop();
      pop();
    } else {
      steal();
    }
  }
};

/* (a') Two steals in a row, against a pop that may race either. */
struct deque_steals : deque_model<deque_steals, 2, 2, 4> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      pop();
    } else {
      steal();
      steal();
    }
  }
};

/* (b) Two thieves racing each other and the owner for the same top. */
struct deque_thieves : deque_model<deque_thieves, 3, 3, 4> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      push();
      pop();
      pop();
    } else {
      steal();
      steal();
    }
  }
};

/* (c) Growth: capacity 2, so the third push doubles the array while the
 * thief may be reading the old one, unless the steal came first and freed
 * a slot, which the push then reuses. */
struct deque_grow : deque_model<deque_grow, 2, 3, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      push();
      push();
      push();
      pop();
    } else {
      steal();
    }
  }
};

/* ------------------------------------------------------------ inject */

/*
 * Records are queued by producers and taken by consumers that hold the
 * try-lock. Checked: each record is taken once, with its payload visible,
 * each producer's records in the order it queued them; the queue ends
 * empty. A consumer that finds nothing yields, as a worker would.
 */
template <class Derived, rl::thread_id_t Threads, int N>
struct inject_model : suite<Derived, Threads> {
  struct inject q;
  struct future rec[N];
  int producer_of[N];
  int taken[N];
  int ntaken;
  int last[Threads]; /* per producer: the last record taken, + 1 */

  void before() { futures__inject_init(&q); }

  /* Queues records first..last of producer @t as one chain. */
  void produce(unsigned t, int first, int last)
  {
    for (int i = first; i <= last; i++) {
      rec[i].payload($) = i + 1;
      producer_of[i] = (int)t;
      if (i < last)
        atomic_store_explicit(&rec[i].u.q.next, &rec[i + 1],
                              memory_order_relaxed);
    }
    futures__inject_push(&q, &rec[first], &rec[last]);
  }

  /* Takes records until all N are taken, by whichever consumer. */
  void consume()
  {
    while (ntaken < N) {
      if (futures__inject_nonempty(&q) && futures__inject_trylock(&q)) {
        struct future *f;

        while ((f = futures__inject_pop(&q)) != NULL)
          take(f);
        futures__inject_unlock(&q);
      }
      if (ntaken < N)
        rl::yield(1, $);
    }
  }

  void take(struct future *f)
  {
    int i = (int)(f - rec);

    RL_ASSERT(i >= 0 && i < N);
    RL_ASSERT(taken[i] == 0);
    taken[i] = 1;
    ntaken++;
    RL_ASSERT(rec[i].payload($) == i + 1);
    RL_ASSERT(i + 1 > last[producer_of[i]]);
    last[producer_of[i]] = i + 1;
  }

  void after()
  {
    RL_ASSERT(ntaken == N);
    RL_ASSERT(!futures__inject_nonempty(&q));
    RL_ASSERT(futures__inject_trylock(&q));
    RL_ASSERT(futures__inject_pop(&q) == NULL);
    futures__inject_unlock(&q);
  }
};

/* (d) Two producers, one queueing two records one at a time, the other a
 * chain of two with one exchange, against one consumer. */
struct inject_producers : inject_model<inject_producers, 3, 4> {
  void thread(unsigned t)
  {
    if (t == 0) {
      produce(t, 0, 0);
      produce(t, 1, 1);
    } else if (t == 1) {
      produce(t, 2, 3);
    } else {
      consume();
    }
  }
};

/* (e) Two consumers contending for the try-lock, which hands the queue's
 * tail from one to the next, against one producer. */
struct inject_consumers : inject_model<inject_consumers, 3, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      produce(t, 0, 0);
      produce(t, 1, 1);
    } else {
      consume();
    }
  }
};

const futures_model::entry models[] = {
    {"deque-steal", "deque: owner push/pop vs 1 thief, 2 threads",
     futures_model::run<deque_steal>, rl::sched_full, 0},
    {"deque-steals", "deque: owner push/pop vs 2 steals, 2 threads",
     futures_model::run<deque_steals>, rl::sched_full, 0},
    {"deque-thieves", "deque: owner push/pop vs 2 thieves, 3 threads",
     futures_model::run<deque_thieves>, rl::sched_bound, 3},
    {"deque-grow", "deque: pushes that grow the array vs 1 thief, 2 threads",
     futures_model::run<deque_grow>, rl::sched_full, 0},
    {"inject-producers", "inject: 2 producers vs 1 consumer, 3 threads",
     futures_model::run<inject_producers>, rl::sched_bound, 3},
    {"inject-consumers", "inject: 1 producer vs 2 consumers, 3 threads",
     futures_model::run<inject_consumers>, rl::sched_bound, 3},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
