// SPDX-License-Identifier: MIT
/*
 * sched.cpp - models of the scheduler, compiled from lib/ itself (see
 * core.hpp):
 *
 *   park-wake        an outside submit against the only worker going idle
 *                    and parking: the worker always finds the record (no
 *                    lost wake-up through the barrier pair).
 *   admit-drain      an outside submit racing destroy's stop and drain
 *                    with one worker: the submit is refused (ESHUTDOWN)
 *                    or its task runs before the drain ends.
 *   spin-leave       an outside submit that leaves its work to a spinning
 *                    worker, against that worker leaving the spin with
 *                    other work, a second worker parked: the parked one
 *                    gets its wake-up.
 *   ring-move        a worker of a FUTURES_POOL_BATCH pool taking several
 *                    records from a ring and keeping all but one in its
 *                    own deque, against a spinner that takes from the same
 *                    ring and leaves the spin, a third worker parked: the
 *                    kept records do not wait for the taker while a
 *                    worker sleeps, and its own deque gives them oldest
 *                    first.
 *   steal-move       a thief moving a stolen record into its own deque,
 *                    against a spinner that empties the victim and leaves
 *                    the spin, a third worker parked: the moved record
 *                    does not wait for the thief while a worker sleeps.
 */
#include "core.hpp"

namespace {

/* ------------------------------------------------------------ park */

struct park_wake : suite<park_wake, 2> {
  struct sched *s;
  struct work w;
  struct future *f;

  void before()
  {
    struct admission a;

    s = sched_new(1);
    s->started = 1; /* the model's thread 1 is the one worker */
    /* Thread 0 (before() runs as thread 0) registers its ring now, so
     * that the model explores the submit itself. */
    RL_ASSERT(futures__sched_admit(s, &a) == 0);
    futures__sched_admit_end(s, &a);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      struct admission a;

      RL_ASSERT(futures__sched_admit(s, &a) == 0);
      f = record_new(s, &w);
      futures__sched_submit(s, &a, &f, 1);
      futures__sched_admit_end(s, &a);
    } else {
      struct slot *me = &s->slots[0];
      struct future *got = NULL;
      int exit = 0;

      futures__tls.slot = me;
      /* The worker's loop (worker.c), until it has found the record. */
      while (got == NULL) {
        got = futures__sched_find(me);
        if (got == NULL)
          got = futures__sched_idle(me, &exit);
        RL_ASSERT(!exit);
      }
      RL_ASSERT(futures__gate_run(got, GATE_QREF) == 1);
      futures__tls.slot = NULL;
    }
  }

  void after()
  {
    check_outcome(f, &w);
    futures__record_unref(f);
    RL_ASSERT(model_records_freed == 1);
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ handoff */

/*
 * A spinning worker finds work and leaves the spin while an outside thread
 * publishes more and a second worker is parked: the second record must
 * not be left without a worker to wake. The parked worker and the spinning
 * state are set up in before(); the model runs the submit (which leaves
 * the waking to a spinner it sees) against the spinner leaving. Either
 * must grant the parked worker its token.
 */
struct spin_leave : suite<spin_leave, 2> {
  struct sched *s;
  struct work w;
  struct future *f;

  void before()
  {
    struct admission a;

    s = sched_new(2);
    s->started = 2;
    /* Thread 0 registers its ring now (before() runs as thread 0). */
    RL_ASSERT(futures__sched_admit(s, &a) == 0);
    futures__sched_admit_end(s, &a);
    /* Nobody here issues the heavy barrier, so the submitter's light one
     * is what it is with membarrier: a compiler barrier. */
    futures_model::st.light_compiler_only = 1;
    /* Worker B parked without a token; worker A spinning. */
    s->nidle = 1;
    atomic_store_explicit(&s->sleepers, 1, memory_order_relaxed);
    atomic_store_explicit(&s->spinners, 1, memory_order_relaxed);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      struct admission a;

      RL_ASSERT(futures__sched_admit(s, &a) == 0);
      f = record_new(s, &w);
      futures__sched_submit(s, &a, &f, 1);
      futures__sched_admit_end(s, &a);
    } else {
      leave_spin(s); /* worker A found other work */
    }
  }

  void after()
  {
    struct future *got;
    struct producer *p;

    /* The record waits in the ring, and worker B has been woken. */
    RL_ASSERT(s->tokens == 1);
    for (p = futures__sched_producers(s); p != NULL; p = p->next)
      while (futures__ring_take(&p->ring, &got, 1) == 1)
        RL_ASSERT(futures__gate_run(got, GATE_QREF) == 1);
    futures__record_unref(f);
    RL_ASSERT(model_records_freed == 1);
    s->nidle = 0;
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ steal */

/*
 * A thief (thread 0, worker F) finds a victim's deque with four records,
 * steals one to run and one more to move into its own deque; while that
 * one is in no queue, a spinning worker (thread 1, P) steals the other two
 * and leaves the spin, and a third worker (Q) is parked. P's look for
 * more work may miss the moved record; the thief publishes it again and
 * must then see that Q needs waking (found by review, issue 10).
 */
struct steal_move : suite<steal_move, 2> {
  struct sched *s;
  struct work w[4];
  struct future *f[4];
  struct future *got[3];

  void before()
  {
    /* Two slots: F's and the victim V's (P steals without one of its
     * own here; Q is only counted as parked). */
    s = sched_new(2);
    s->started = 3;
    futures_model::st.light_compiler_only = 1;
    for (int i = 0; i < 4; i++) {
      f[i] = record_new(s, &w[i]);
      RL_ASSERT(futures__deque_push(&s->slots[1].dq, f[i]) == 0);
    }
    /* Q parked without a token; P spinning. */
    s->nidle = 1;
    atomic_store_explicit(&s->sleepers, 1, memory_order_relaxed);
    atomic_store_explicit(&s->spinners, 1, memory_order_relaxed);
  }

  void thread(unsigned t)
  {
    int lost = 0;

    if (t == 0) {
      /* futures__sched_find() with its own deque and the shared queues
       * empty: the steal, then the chain of wake-ups. */
      futures__tls.slot = &s->slots[0];
      got[0] = steal_any(&s->slots[0]);
      if (got[0] != NULL)
        wake_chain(s);
      futures__tls.slot = NULL;
    } else {
      got[1] = futures__deque_steal(&s->slots[1].dq, &lost);
      got[2] = futures__deque_steal(&s->slots[1].dq, &lost);
      leave_spin(s); /* P found work */
    }
  }

  void after()
  {
    struct future *g;
    int moved = 0, ran = 0;

    /* A record left in the thief's deque while Q sleeps without a token
     * would wait for the thief's task to end. */
    while ((g = futures__deque_pop(&s->slots[0].dq, 0)) != NULL) {
      moved++;
      ran += futures__gate_run(g, GATE_QREF);
    }
    if (moved > 0)
      RL_ASSERT(s->tokens == 1);
    for (int i = 0; i < 3; i++)
      if (got[i] != NULL)
        ran += futures__gate_run(got[i], GATE_QREF);
    while ((g = futures__deque_pop(&s->slots[1].dq, 0)) != NULL)
      ran += futures__gate_run(g, GATE_QREF);
    RL_ASSERT(ran == 4);
    for (int i = 0; i < 4; i++) {
      check_outcome(f[i], &w[i]);
      futures__record_unref(f[i]);
    }
    RL_ASSERT(model_records_freed == 4);
    s->nidle = 0;
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ ring */

/*
 * A FUTURES_POOL_BATCH pool (issue 12). An outside thread queued three
 * records in its ring before the model starts. Worker F (thread 0) looks
 * (futures__sched_find()): its deque is empty, so it takes up to
 * RING_BATCH records from the ring, starts the oldest and keeps the rest
 * in its deque; while they are in no queue, a spinning worker (thread 1,
 * P) takes one from the same ring and leaves the spin, and a
 * third worker (Q) is parked. The same duty as steal-move: the taker that
 * publishes the kept records again must see that Q needs waking.
 */
struct ring_move : suite<ring_move, 2> {
  struct sched *s;
  enum { N = 3 };
  struct work w[N];
  struct future *f[N];
  struct future *got[2];

  void before()
  {
    struct admission a;

    s = sched_new(2);
    s->started = 3;
    s->flags |= FUTURES_POOL_BATCH;
    futures_model::st.light_compiler_only = 1;
    /* Thread 0 (before() runs as thread 0) is the outside submitter; its
     * submit finds nobody to wake. */
    RL_ASSERT(futures__sched_admit(s, &a) == 0);
    for (int i = 0; i < N; i++)
      f[i] = record_new(s, &w[i]);
    futures__sched_submit(s, &a, f, N);
    futures__sched_admit_end(s, &a);
    /* Q parked without a token; P spinning. */
    s->nidle = 1;
    atomic_store_explicit(&s->sleepers, 1, memory_order_relaxed);
    atomic_store_explicit(&s->spinners, 1, memory_order_relaxed);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      /* futures__sched_find() with its own deque and the injection queue
       * empty: the take, then the chain of wake-ups. */
      futures__tls.slot = &s->slots[0];
      got[0] = take_ring(&s->slots[0]);
      if (got[0] != NULL)
        wake_chain(s);
      futures__tls.slot = NULL;
    } else {
      struct producer *p = futures__sched_producers(s);

      if (futures__ring_take(&p->ring, &got[1], 1) == 0)
        got[1] = NULL;
      leave_spin(s); /* P found work (or looks no more in this model) */
    }
  }

  void after()
  {
    struct future *g, *prev = got[0];
    int kept = 0, ran = 0;

    /* Kept records left in F's deque while Q sleeps without a token
     * would wait for F's task to end; F's own pops take them oldest
     * first (each later than the one F started). */
    while ((g = futures__deque_pop(&s->slots[0].dq, 0)) != NULL) {
      int gi = 0, pi = 0;

      for (int i = 0; i < N; i++) {
        if (f[i] == g)
          gi = i;
        if (f[i] == prev)
          pi = i;
      }
      RL_ASSERT(prev != NULL && gi > pi);
      prev = g;
      kept++;
      ran += futures__gate_run(g, GATE_QREF);
    }
    if (kept > 0)
      RL_ASSERT(s->tokens == 1);
    for (int i = 0; i < 2; i++)
      if (got[i] != NULL)
        ran += futures__gate_run(got[i], GATE_QREF);
    for (struct producer *p = futures__sched_producers(s); p != NULL;
         p = p->next)
      while (futures__ring_take(&p->ring, &g, 1) == 1)
        ran += futures__gate_run(g, GATE_QREF);
    RL_ASSERT(ran == N);
    for (int i = 0; i < N; i++) {
      check_outcome(f[i], &w[i]);
      futures__record_unref(f[i]);
    }
    RL_ASSERT(model_records_freed == N);
    s->nidle = 0;
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ drain */

struct admit_drain : suite<admit_drain, 3> {
  struct sched *s;
  struct work w;
  struct future *f;
  int submit_rc;
  int drained_ran; /* the task had run when the drain ended */

  void before()
  {
    struct admission a;

    s = sched_new(1);
    s->started = 1;
    f = NULL;
    /* Thread 0 registers its ring now (before() runs as thread 0). */
    RL_ASSERT(futures__sched_admit(s, &a) == 0);
    futures__sched_admit_end(s, &a);
  }

  static void
  run_here(struct sched *)
  {
    RL_ASSERT(false); /* the pool has its worker */
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      /* futures_submit() from outside, racing destroy. */
      struct admission a;

      submit_rc = futures__sched_admit(s, &a);
      if (submit_rc == 0) {
        struct future *mine = record_new(s, &w);

        futures__sched_submit(s, &a, &mine, 1);
        f = mine;
      }
      futures__sched_admit_end(s, &a);
    } else if (t == 1) {
      /* The worker, until the drain tells it to leave. */
      struct slot *me = &s->slots[0];
      int exit = 0;

      futures__tls.slot = me;
      while (!exit) {
        struct future *got = futures__sched_find(me);

        if (got == NULL)
          got = futures__sched_idle(me, &exit);
        if (got != NULL)
          futures__gate_run(got, GATE_QREF);
      }
      futures__tls.slot = NULL;
    } else {
      /* futures_pool_destroy(): stop, then wait for the drain. */
      futures__sched_stop(s, STOP_DRAIN);
      futures__sched_wait_drained(s, run_here);
      drained_ran = w.runs;
    }
  }

  void after()
  {
    if (submit_rc == 0) {
      /* Accepted: it ran, before the drain ended. */
      RL_ASSERT(drained_ran == 1);
      check_outcome(f, &w);
      futures__record_unref(f);
      RL_ASSERT(model_records_freed == 1);
    } else {
      RL_ASSERT(submit_rc == ESHUTDOWN && w.runs == 0);
    }
    sched_delete(s);
  }
};

const futures_model::entry models[] = {
    {"park-wake", "scheduler: outside submit vs the worker parking",
     futures_model::run<park_wake>, rl::sched_bound, 2},
    {"admit-drain", "scheduler: submit vs destroy's drain vs the worker",
     futures_model::run<admit_drain>, rl::sched_bound, 1},
    {"spin-leave", "scheduler: outside submit vs a spinner leaving, 1 parked",
     futures_model::run<spin_leave>, rl::sched_bound, 1},
    {"steal-move", "scheduler: a thief moving a record vs a spinner leaving",
     futures_model::run<steal_move>, rl::sched_bound, 1},
    {"ring-move", "scheduler: a batch taken from a ring vs a spinner leaving",
     futures_model::run<ring_move>, rl::sched_bound, 1},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
