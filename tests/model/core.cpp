// SPDX-License-Identifier: MIT
/*
 * core.cpp - models of the record, the gate and waiting, compiled from
 * lib/ itself (see core.hpp):
 *
 *   gate-race        a worker, a waiter running the task in place and a
 *                    canceller race for one queued record: exactly one
 *                    wins; the body runs at most once; the outcome agrees.
 *   publish-waiter(s) a record published while one or two threads
 *                    register on it and sleep: nobody sleeps for ever
 *                    (F_WAITERS, the stripe, the group), all see the
 *                    outcome.
 *   get-get          issue 10, defect 1: a thread that submitted a record
 *                    through its ring future_get()s it while a second
 *                    thread future_get()s it too; whoever loses the gate
 *                    must wait for the task, not report it finished.
 *   settle-callback  a promise (a record with no pool) resolved by one
 *                    thread, cancelled by another, while a third adds a
 *                    callback waiter (what futures_all and a notifier
 *                    watch do): exactly one settle wins, the callback runs
 *                    exactly once, after the outcome, and sees it.
 */
#include "core.hpp"

namespace {

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
  struct future *f;

  void before()
  {
    struct admission a;

    s = sched_new(1);
    /* futures_submit() from outside the pool by thread 0 (before() runs
     * as thread 0): the record waits in thread 0's own ring. */
    RL_ASSERT(futures__sched_admit(s, &a) == 0);
    f = record_new(s, &w);
    futures__sched_submit(s, &a, &f, 1);
    futures__sched_admit_end(s, &a);
  }

  void thread(unsigned)
  {
    /* future_get() in both: thread 0 may take it back from its ring, or
     * either may claim it in place; whoever loses the gate must wait for
     * the task, whatever it did before. */
    RL_ASSERT(futures__wait_one(f, FUTURES_FOREVER, 1) == 0);
    check_outcome(f, &w);
  }

  void after()
  {
    struct future *rest;
    struct producer *p;

    /* A stale ring entry (thread 1 ran it in place): the worker's gate
     * drops the queue's reference. */
    for (p = futures__sched_producers(s); p != NULL; p = p->next)
      while (futures__ring_take(&p->ring, &rest, 1) == 1)
        RL_ASSERT(futures__gate_run(rest, GATE_QREF) == 0);
    futures__record_unref(f);
    RL_ASSERT(model_records_freed == 1);
    sched_delete(s);
  }
};

/* ------------------------------------------------------------ promise */

struct cb_node {
  struct wcallback cb;
  rl::var<int> ran;        /* runs of the callback */
  int code;                /* the outcome it saw */
  void *value;
  rl::var<int> *payload;   /* written by the resolver before it resolves */
  int payload_seen;
};

void
on_settled(struct wcallback *cb, struct future *f)
{
  struct cb_node *n = (struct cb_node *)(void *)cb;

  n->ran($) = n->ran($) + 1;
  n->code = futures__record_outcome(f, &n->value);
  if (n->code == 0)
    n->payload_seen = (*n->payload)($);
}

struct settle_callback : suite<settle_callback, 3> {
  struct future *p;
  struct cb_node node;
  rl::var<int> payload;
  int rc[2];

  void before()
  {
    /* What futures_promise_create() does (promise.c is not in this
     * model): a record with no pool, DEFERRED, one reference. */
    futures__waiters_init();
    model_records_freed = 0;
    p = &FUTURES_ALLOC(struct future_ext)->f;
    RL_ASSERT(p != NULL);
    futures__record_init(p, NULL, NULL, NULL, NULL,
                         F_DEFERRED | F_NOPOOL | F_EXT);
    atomic_store_explicit(&p->state, F_REF | F_DEFERRED | F_NOPOOL | F_EXT,
                          memory_order_relaxed);
    node.ran($) = 0;
    node.code = -1;
    node.value = NULL;
    node.payload = &payload;
    node.payload_seen = 0;
    node.cb.fn = on_settled;
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      payload($) = 42;
      rc[0] = futures__gate_settle(p, 0, &node); /* future_resolve() */
    } else if (t == 1) {
      rc[1] = futures__gate_cancel(p) ? 0 : EALREADY; /* future_cancel() */
    } else if (!futures__record_add_callback(p, &node.cb)) {
      on_settled(&node.cb, p); /* it had settled: the adder runs it */
    }
  }

  void after()
  {
    RL_ASSERT((rc[0] == 0) + (rc[1] == 0) == 1);
    RL_ASSERT(rc[0] == 0 || rc[0] == EALREADY);
    RL_ASSERT(node.ran($) == 1);
    if (rc[0] == 0) {
      RL_ASSERT(node.code == 0 && node.value == &node);
      RL_ASSERT(node.payload_seen == 42);
    } else {
      RL_ASSERT(node.code == ECANCELED && node.value == NULL);
    }
    futures__record_unref(p);
    RL_ASSERT(model_records_freed == 1);
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
     futures_model::run<get_get>, rl::sched_bound, 2},
    {"settle-callback", "promise: resolve vs cancel vs a callback added",
     futures_model::run<settle_callback>, rl::sched_bound, 4},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
