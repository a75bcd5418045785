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
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
