// SPDX-License-Identifier: MIT
/*
 * core.hpp - what the models of core.cpp and sched.cpp share: the library's
 * core compiled from lib/ itself (record.c, the queues, pin.c, scheduler.c,
 * gate.c, help.c, wait.c, base.c), with lib/'s tunables shrunk (stripes,
 * hazard pins, spin lengths) so that the models stay small while the code
 * paths stay the library's; and a few helpers.
 *
 * A task's body writes a plain payload (rl::var) that every thread which
 * later reads the outcome reads too: a missing happens-before between the
 * body and a waiter's return is a data race.
 */
#ifndef FUTURES_MODEL_CORE_HPP
#define FUTURES_MODEL_CORE_HPP

#include "harness.hpp"

/* A model of several records sets 1 first: record.c picks a record's
 * stripe by hashing its address, which may differ between executions
 * (README, rule 15); with one stripe every record shares it, as two
 * records whose hashes collide do. */
#ifndef WAIT_STRIPES
#define WAIT_STRIPES 2
#endif
#define HAZARDS 4
#define HAZARD_BUCKETS 2
#define DEQUE_INIT 4
#define RING_INIT 4
#define FRAME_CAP 2
#define SPIN_NS 0
#define SPIN_LOOKS 1
#define IDLE_SPIN_NS 0
#define IDLE_LOOKS 1

#include "base.c"
#include "record.c"
#include "deque.c"
#include "inject.c"
#include "ring.c"
#include "frame.c"
#include "pin.c"
#include "scheduler.c"
#include "gate.c"
#include "help.c"
#include "wait.c"
#include "foreign.c"
#include "hook.c"

/* record.c's stripes are a global array of structs that hold a mutex: the
 * model destroys them with each execution (the library never does). */
inline void
release(struct stripe &st)
{
  futures_model::release(*static_cast<futures_model::mutex *>(&st.lock));
}

/* hook.c's registry of cancel hooks, a global too (set up by init.c's
 * futures__hook_init(), which foreign.cpp calls). */
inline void
release(struct hooks &h)
{
  futures_model::release(h.lock);
  futures_model::release(h.cond);
}

/* trace.c: no model traces a pool (gate.c and then.c call it only for a
 * record of a pool created with FUTURES_POOL_TRACE). */
void
futures__trace_run(struct sched *, struct future *, int, int, int)
{
}
void
futures__trace_submit(struct sched *, struct future *)
{
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

/* What pool.c's global_init() and pool_alloc() do for the scheduler @s
 * (foreign.cpp: one inside a pool). */
inline void
sched_setup(struct sched *s, unsigned nworkers)
{
  futures__waiters_init();
  model_records_freed = 0;
  s->max_queued = 0;
  s->overflow = 0;
  s->flags = 0;
  s->stack_size = 0;
  s->name[0] = '\0';
  RL_ASSERT(futures__sched_init(s, nworkers) == 0);
}

inline struct sched *
sched_new(unsigned nworkers)
{
  struct sched *s = FUTURES_ALLOC(struct sched);

  RL_ASSERT(s != NULL);
  sched_setup(s, nworkers);
  return s;
}

/* Lets go of every ring a model thread registered (what its thread-exit
 * hook would do), then of what @s holds. */
inline void
sched_teardown(struct sched *s)
{
  for (unsigned t = 0; t < FUTURES_MODEL_MAX_THREADS; t++)
    for (unsigned k = 0; k < FUTURES_PREG_SLOTS; k++) {
      struct preg *r = &futures_model::st.tls[t].preg[k];

      if (r->sched_id != 0)
        producer_disown(r->p);
      r->sched_id = 0;
    }
  futures__sched_fini(s);
}

inline void
sched_delete(struct sched *s)
{
  sched_teardown(s);
  FUTURES_FREE(s);
}

/* A fresh record of @s for @w: QUEUED, the handle's and the queue's
 * references. */
inline struct future *
record_new(struct sched *s, struct work *w)
{
  struct future *f = &FUTURES_ALLOC(struct future_ext)->f;

  RL_ASSERT(f != NULL);
  futures__record_init(f, s, task_seven, w, drop_count, F_EXT);
  return f;
}

/* The outcome of a finished record, as future_get() reads it. */
inline void
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

} // namespace

#endif /* FUTURES_MODEL_CORE_HPP */
