// SPDX-License-Identifier: MIT
/*
 * core.cpp - models of the library's core, compiled from lib/ itself: the
 * record's state word and waiter list (record.c), the gate (gate.c), the
 * scheduler's rings, admission, parking and drain (scheduler.c), helping
 * and hazard pins (help.c, pin.c) and waiting (wait.c).
 *
 *   gate-race        a worker, a waiter running the task in place and a
 *                    canceller race for one queued record: exactly one
 *                    wins; the body runs at most once; the outcome agrees.
 *   publish-waiters  a record published while two threads register on it
 *                    and sleep: nobody sleeps for ever (F_WAITERS, the
 *                    stripe, the group), both see the outcome.
 *   get-get          issue 10, defect 1: a thread submits a record through
 *                    its ring and future_get()s it while a second thread
 *                    future_get()s it too; whoever loses the gate must
 *                    wait for the task, not report it finished.
 *   park-wake        an outside submit against the only worker going idle
 *                    and parking: the worker always finds the record (no
 *                    lost wake-up through the barrier pair).
 *   admit-drain      an outside submit racing destroy's stop and drain
 *                    with one worker: the submit is refused (ESHUTDOWN)
 *                    or its task runs before the drain ends.
 *
 * A task's body writes a plain payload (rl::var) that every thread which
 * later reads the outcome reads too: a missing happens-before between the
 * body and a waiter's return is a data race. The tunables of lib/ are
 * shrunk (stripes, hazard pins, spin lengths) so that the models stay
 * small; the code paths are the library's.
 */
#include "harness.hpp"

#define WAIT_STRIPES 2
#define HAZARDS 4
#define HAZARD_BUCKETS 2
#define DEQUE_INIT 4
#define RING_INIT 4
#define SPIN_NS 0
#define SPIN_LOOKS 1
#define IDLE_SPIN_NS 0
#define IDLE_LOOKS 1

#include "base.c"
#include "record.c"
#include "deque.c"
#include "inject.c"
#include "ring.c"
#include "pin.c"
#include "scheduler.c"
#include "gate.c"
#include "help.c"
#include "wait.c"

/* record.c's stripes are a global array of structs that hold a mutex: the
 * model destroys them with each execution (the library never does). */
inline void
release(struct stripe &st)
{
  futures_model::release(*static_cast<futures_model::mutex *>(&st.lock));
}

/* alloc.c: records are the model's own; count the frees. */
static int model_records_freed;

void
futures__record_free(struct future *f)
{
  model_records_freed++;
  FUTURES_FREE(f);
}

using futures_model::suite;

namespace {

/* A task: writes its payload, returns 7 with itself as the result. */
struct work {
  rl::var<int> payload;
  int runs;
  int drops;
};

int
task_seven(void *arg, void **result)
{
  struct work *w = (struct work *)arg;

  w->runs++;
  w->payload($) = 42;
  *result = w;
  return 7;
}

void
drop_count(void *arg)
{
  ((struct work *)arg)->drops++;
}

struct sched *
sched_new(unsigned nworkers)
{
  struct sched *s = FUTURES_ALLOC(struct sched);

  /* What pool.c's global_init() does once per process. */
  futures__waiters_init();
  model_records_freed = 0;
  RL_ASSERT(s != NULL);
  s->max_queued = 0;
  s->overflow = 0;
  s->flags = 0;
  s->stack_size = 0;
  s->name[0] = '\0';
  RL_ASSERT(futures__sched_init(s, nworkers) == 0);
  return s;
}

/* Lets go of every ring a model thread registered (what its thread-exit
 * hook would do), then of the pool. */
void
sched_delete(struct sched *s)
{
  for (unsigned t = 0; t < FUTURES_MODEL_MAX_THREADS; t++)
    for (unsigned k = 0; k < FUTURES_PREG_SLOTS; k++) {
      struct preg *r = &futures_model::st.tls[t].preg[k];

      if (r->sched_id != 0)
        producer_disown(r->p);
      r->sched_id = 0;
    }
  futures__sched_fini(s);
  FUTURES_FREE(s);
}

/* A fresh record of @s for @w: QUEUED, the handle's and the queue's
 * references. */
struct future *
record_new(struct sched *s, struct work *w)
{
  struct future *f = FUTURES_ALLOC(struct future);

  RL_ASSERT(f != NULL);
  futures__record_init(f, s, task_seven, w, drop_count, 0);
  return f;
}

/* The outcome of a finished record, as future_get() reads it. */
void
check_outcome(struct future *f, struct work *w)
{
  void *res = NULL;

  RL_ASSERT(futures__record_done(f));
  if (futures__record_outcome(f, &res) == ECANCELED) {
    RL_ASSERT(w->runs == 0 && w->drops == 1 && res == NULL);
  } else {
    RL_ASSERT(futures__record_outcome(f, &res) == 7);
    RL_ASSERT(res == NULL); /* a failure carries no result */
    RL_ASSERT(w->runs == 1 && w->drops == 0);
    RL_ASSERT(w->payload($) == 42);
  }
}

/* ------------------------------------------------------------ gate */

struct gate_race : suite<gate_race, 3> {
  struct sched *s;
  struct future *f;
  struct work w;
  int won[3];

  void before()
  {
    s = sched_new(1);
    f = record_new(s, &w);
    model_records_freed = 0;
  }

  void thread(unsigned t)
  {
    if (t == 0)
      won[t] = futures__gate_run(f, GATE_QREF); /* a worker's queue entry */
    else if (t == 1)
      won[t] = futures__gate_run(f, GATE_HELPED); /* a waiter, in place */
    else
      won[t] = futures__gate_cancel(f); /* future_cancel() */
  }

  void after()
  {
    RL_ASSERT(won[0] + won[1] + won[2] == 1);
    check_outcome(f, &w);
    RL_ASSERT((w.drops == 1) == (won[2] == 1));
    RL_ASSERT(model_records_freed == 0);
    futures__record_unref(f); /* the handle */
    RL_ASSERT(model_records_freed == 1);
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ publish */

template <rl::thread_id_t Threads>
struct publish_waiters : suite<publish_waiters<Threads>, Threads> {
  struct sched *s;
  struct future *f;
  struct work w;

  void before()
  {
    s = sched_new(1);
    f = record_new(s, &w);
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      RL_ASSERT(futures__gate_run(f, GATE_QREF) == 1);
    } else {
      /* future_wait_until(), which never runs the task itself. */
      RL_ASSERT(futures__wait_one(f, FUTURES_FOREVER, 0) == 0);
      check_outcome(f, &w);
    }
  }

  void after()
  {
    futures__record_unref(f);
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ get-get */

struct get_get : suite<get_get, 2> {
  struct sched *s;
  struct work w;
  _Atomic(struct future *) handle; /* handed from A to B */
  struct future *f;

  void before()
  {
    s = sched_new(1);
    atomic_init(&handle, (struct future *)NULL);
  }

  void thread(unsigned t)
  {
    struct future *mine;

    if (t == 0) {
      struct admission a;

      /* futures_submit() from outside the pool: into A's own ring. */
      RL_ASSERT(futures__sched_admit(s, &a) == 0);
      mine = record_new(s, &w);
      futures__sched_submit(s, &a, &mine, 1);
      futures__sched_admit_end(s, &a);
      f = mine;
      atomic_store_explicit(&handle, mine, memory_order_release);
    } else {
      while ((mine = atomic_load_explicit(&handle, memory_order_acquire)) ==
             NULL)
        rl::yield(1, $);
    }
    /* future_get(): may take it back from A's ring, or claim it. */
    RL_ASSERT(futures__wait_one(mine, FUTURES_FOREVER, 1) == 0);
    check_outcome(mine, &w);
  }

  void after()
  {
    struct future *rest;
    struct producer *p;

    /* A stale ring entry (B ran it in place): the worker's gate drops
     * the queue's reference. */
    for (p = futures__sched_producers(s); p != NULL; p = p->next)
      while (futures__ring_take(&p->ring, &rest, 1) == 1)
        RL_ASSERT(futures__gate_run(rest, GATE_QREF) == 0);
    futures__record_unref(f);
    RL_ASSERT(model_records_freed == 1);
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ park */

struct park_wake : suite<park_wake, 2> {
  struct sched *s;
  struct work w;
  struct future *f;

  void before()
  {
    s = sched_new(1);
    s->started = 1; /* the model's thread 1 is the one worker */
    model_records_freed = 0;
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
    s = sched_new(1);
    s->started = 1;
    f = NULL;
    model_records_freed = 0;
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
    {"gate-race", "gate: worker vs in-place waiter vs cancel, 3 threads",
     futures_model::run<gate_race>, rl::sched_bound, 3},
    {"publish-waiter", "record: publish vs a waiter registering, 2 threads",
     futures_model::run<publish_waiters<2> >, rl::sched_bound, 3},
    {"publish-waiters", "record: publish vs 2 waiters registering, 3 threads",
     futures_model::run<publish_waiters<3> >, rl::sched_bound, 1},
    {"get-get", "defect 1: submitter's get vs a second get, 2 threads",
     futures_model::run<get_get>, rl::sched_bound, 3},
    {"park-wake", "scheduler: outside submit vs the worker parking",
     futures_model::run<park_wake>, rl::sched_bound, 3},
    {"admit-drain", "scheduler: submit vs destroy's drain vs the worker",
     futures_model::run<admit_drain>, rl::sched_bound, 2},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
