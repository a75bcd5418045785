// SPDX-License-Identifier: MIT
/*
 * foreign.cpp - models of lib/foreign.c: a pool's records that wait on a
 * future from outside the pool (a continuation of a promise, a task whose
 * body returned FUTURES_FOLLOW), against the pool's destroy. Compiled from
 * lib/ itself (see core.hpp), with promise.c and then.c, so that the
 * promise, futures_then() and the follow are the library's:
 *
 *   foreign-close(-cancel)  a promise resolved by one thread while another
 *                    destroys the pool (drain; cancel) with no worker left
 *                    (destroy runs what is queued): one continuation of the
 *                    promise (FOREIGN_READY) and one task that follows it
 *                    (FOREIGN_FOLLOW) wait on it.
 *   foreign-drain    drain mode with the pool's worker as a third thread,
 *                    which may end the drain itself, and the continuation
 *                    only.
 *   foreign-inline   destroy called from a callback of the promise (an
 *                    inline continuation that destroys the pool) while
 *                    the callback of a follower's wait is due after it in
 *                    the same thread: destroy takes that node, the
 *                    callback loses it and runs after destroy returned. A
 *                    second thread resolves a second promise that another
 *                    follower waits on, racing the close.
 *   foreign-inline-worker  the same with the continuation's callback run
 *                    before the destroying one (it queues the continuation
 *                    on a pool that has not begun to stop) and the pool's
 *                    worker as the second thread, which must run it
 *                    before the drain ends.
 *   foreign-attach   futures_then() on a promise racing destroy (drain, no
 *                    worker), the promise resolved by a third thread: the
 *                    attach is refused (ESHUTDOWN) or its continuation
 *                    settles before the drain ends; destroy may take the
 *                    node before the attach has linked its callback.
 *
 * Between them they reach each of the close's three ways with a node: the
 * callback unlinked (it never runs), the node claimed while the callback
 * is due (it loses and frees the node), and the callback claimed first
 * (destroy waits for it to meet the closed list).
 *
 * Checked in every model: each record is settled exactly once, with a code
 * its story allows (run, or ECANCELED by destroy; in cancel mode a queued
 * record is cancelled unless a worker ran it first), and is DONE when
 * destroy's drain ends (nothing queued after it); the continuation's body
 * runs at most once, after the resolve, and sees the resolver's payload;
 * destroy returns (a wait for a callback that never comes is a deadlock
 * Relacy reports); every reference is dropped once (the records are freed
 * exactly when their handles go, each node exactly once: a double free,
 * an access to a freed record or node's atomics, or a leak fails).
 *
 * pool.c is not compiled here (its registry, threads and timers are not
 * modellable): destroy() below is futures_pool_destroy_ex() from its
 * count to its pin scan, in the same order, without the timers (there are
 * none) and the joins. tests/model/mutants mutates this copy too.
 */
/* Several records: one wait stripe, so that which stripe a record uses
 * does not depend on its address (core.hpp). */
#define WAIT_STRIPES 1
#include "core.hpp"

/* alloc.c and init.c, for promise.c and then.c: records are the model's
 * own (core.hpp frees them), and of init.c's once-per-process set-up what
 * the compiled files need (the stripes, the cancel hooks' registry, which
 * a destroy in cancel mode walks), once per execution. */
struct future *
futures__record_alloc(uint32_t flags)
{
  RL_ASSERT(!(flags & F_TIMED));
  if (flags & F_EXT)
    return &FUTURES_ALLOC(struct future_ext)->f;
  return FUTURES_ALLOC(struct future);
}

static FUTURES_GLOBAL(int, model_hooks_ready);

int
futures__global_init(void)
{
  int *ready = &model_hooks_ready;

  futures__waiters_init();
  if (!*ready) {
    futures__hook_init();
    *ready = 1;
  }
  return 0;
}

#include "pool.h"
#include "promise.c"
#include "then.c"

namespace {

/* ------------------------------------------------------------ pool */

/* A pool of one worker slot; @started says whether the model runs that
 * worker (a thread of its own) or has none (destroy runs the rest). */
struct futures_pool *
pool_new(unsigned started)
{
  struct futures_pool *pool;

  /* The pool is freed in after() only: outside Relacy's allocator, so
   * that its frees there explore nothing (harness.hpp). */
  RL_ASSERT(futures__global_init() == 0);
  futures_model::st.untracked = 1;
  pool = FUTURES_ALLOC(struct futures_pool);
  RL_ASSERT(pool != NULL);
  pool->reg_next = NULL;
  pool->timers = NULL;
  sched_setup(&pool->sched, 1);
  futures_model::st.untracked = 0;
  pool->sched.started = started;
  return pool;
}

void
pool_delete(struct futures_pool *pool)
{
  sched_teardown(&pool->sched);
  FUTURES_FREE(pool);
}

/* pool.c's run_rest(): with no worker left, destroy runs what is queued.
 * futures__sched_wait_drained() calls it again for as long as a queue
 * looks non-empty; an injection queue whose producer has exchanged its
 * head but not yet stored the link (inject.c) looks non-empty and yields
 * nothing, and pool.c's loop then spins without a yield (rule 11 of the
 * README): the model yields here when nothing was taken, or Relacy
 * explores the stale link read for ever (a livelock). */
void
run_rest(struct sched *s)
{
  struct future *f;
  int took = 0;

  while ((f = futures__sched_take_any(s)) != NULL) {
    futures__gate_run(f, GATE_QREF);
    took = 1;
  }
  if (!took)
    sched_yield();
}

/* pool.c: destroy counts itself in entering from before its stop until
 * its closes are done (the mutant "destroy not counted" clears this). */
const int destroy_counted = 1;

/* pool.c's stop_begin() and stop_finish(), which futures_pool_destroy_ex()
 * runs one after the other in the caller's thread and
 * futures_pool_destroy_async() in the caller's thread and then in a
 * thread of its own; less what the model has not: the registry, the
 * timers (futures__timers_close() comes right after the foreign close,
 * under the same count), the joins, the room wait and the free (after()
 * frees the pool). */
void
destroy_begin(struct futures_pool *pool, int mode)
{
  struct sched *s = &pool->sched;

  if (destroy_counted)
    futures__sched_enter(s);
  futures__sched_stop(s, mode == FUTURES_DESTROY_CANCEL ? STOP_CANCEL
                                                        : STOP_DRAIN);
}

void
destroy_finish(struct futures_pool *pool, int mode)
{
  struct sched *s = &pool->sched;

  if (mode == FUTURES_DESTROY_CANCEL)
    futures__hook_fire_pool(s);
  futures__foreign_close(s);
  if (destroy_counted)
    futures__sched_leave(s);
  futures__sched_wait_drained(s, run_rest);
  futures__pin_wait_unpinned(s);
}

/* futures_pool_destroy_ex(@pool, @mode), in a thread that is no worker of
 * the pool and runs none of its tasks (else EDEADLK). */
void
destroy(struct futures_pool *pool, int mode)
{
  struct sched *s = &pool->sched;

  RL_ASSERT(futures__sched_my_slot(s) == NULL && !futures__sched_in_task(s));
  destroy_begin(pool, mode);
  destroy_finish(pool, mode);
}

/* worker.c's worker_main(): the pool's one worker, until the drain tells
 * it to leave. */
void
worker(struct sched *s)
{
  struct slot *me = &s->slots[0];

  futures__tls.slot = me;
  for (;;) {
    struct future *f = futures__sched_find(me);

    if (f == NULL) {
      int exit = 0;

      f = futures__sched_idle(me, &exit);
      if (exit)
        break;
      if (f == NULL) {
        /* futures__sched_idle() spins with sched_yield() and
         * futures__cpu_relax(); the model's tunables (IDLE_LOOKS 1,
         * IDLE_SPIN_NS 0) end the spin before its first yield, so the
         * yield is here: without it a worker that finds the injection
         * queue mid-push is explored reading the stale link for ever. */
        sched_yield();
        continue;
      }
    }
    futures__gate_run(f, GATE_QREF);
  }
  futures__tls.slot = NULL;
}

/* ------------------------------------------------------------ records */

/* The continuation's body: counts its runs, keeps its input, returns 7. */
struct cont {
  rl::var<int> runs;
  int in_code;
  void *in_value;
  int payload_seen;
};

int
then_seven(void *arg, int code, void *value, void **result)
{
  struct cont *c = (struct cont *)arg;

  c->runs($) = c->runs($) + 1;
  c->in_code = code;
  c->in_value = value;
  /* The resolver wrote the payload before it resolved. */
  if (code == 0)
    c->payload_seen = (*(rl::var<int> *)value)($);
  *result = NULL;
  return 7;
}

void
cont_init(struct cont *c)
{
  c->runs($) = 0;
  c->in_code = -1;
  c->in_value = NULL;
  c->payload_seen = 0;
}

/* A task of the pool whose body hands its outcome over to @g
 * (FUTURES_FOLLOW), with a reference of its own to @g as the caller's
 * future_retain() would give. */
struct follower {
  struct future *g;
  int runs;
};

int
task_follow(void *arg, void **result)
{
  struct follower *t = (struct follower *)arg;

  t->runs++;
  futures__record_ref(t->g);
  *result = t->g;
  return FUTURES_FOLLOW;
}

/* A record of @pool that has run and now follows @g: what a worker leaves
 * behind after the body returned FUTURES_FOLLOW (the handle's reference
 * and the wait's). */
struct future *
follower_new(struct futures_pool *pool, struct follower *t, struct future *g)
{
  struct future *r = FUTURES_ALLOC(struct future);

  RL_ASSERT(r != NULL);
  t->g = g;
  t->runs = 0;
  futures__record_init(r, &pool->sched, task_follow, t, NULL, 0);
  RL_ASSERT(futures__gate_run(r, GATE_QREF) == 1);
  RL_ASSERT(t->runs == 1);
  RL_ASSERT(!futures__record_done(r));
  return r;
}

/* The continuation's outcome: its body ran once after the resolve, or it
 * was cancelled and never ran. */
int
check_cont(struct future *c, struct cont *w, rl::var<int> *payload)
{
  void *res = (void *)1;
  int code;

  RL_ASSERT(futures__record_done(c));
  code = futures__record_outcome(c, &res);
  if (code == 7) {
    RL_ASSERT(w->runs($) == 1 && w->in_code == 0);
    RL_ASSERT(w->in_value == payload && w->payload_seen == 42);
  } else {
    RL_ASSERT(code == ECANCELED);
    RL_ASSERT(w->runs($) == 0);
  }
  RL_ASSERT(res == NULL);
  return code;
}

/* The follower's outcome: the promise's, or ECANCELED by destroy. */
int
check_follower(struct future *r, rl::var<int> *payload)
{
  void *res = (void *)1;
  int code;

  RL_ASSERT(futures__record_done(r));
  code = futures__record_outcome(r, &res);
  if (code == 0)
    RL_ASSERT(res == payload);
  else
    RL_ASSERT(code == ECANCELED && res == NULL);
  return code;
}

/* ------------------------------------------------------------ close */

/*
 * A promise with two waits of the pool on it, added in this order: a
 * continuation (futures_then(), FOREIGN_READY) and a task that followed it
 * (FOREIGN_FOLLOW). Thread 0 resolves the promise (its callbacks run in
 * that order, in thread 0), thread 1 destroys the pool; with Worker, thread
 * 2 is the pool's worker, else the pool has none and destroy runs what is
 * queued itself.
 */
enum { WAIT_READY = 1, WAIT_FOLLOW = 2 };

template <int Mode, rl::thread_id_t Threads, int Waits>
struct foreign_close : suite<foreign_close<Mode, Threads, Waits>, Threads> {
  static const bool has_worker = Threads == 3;
  struct futures_pool *pool;
  struct future *p, *c, *r;
  rl::var<int> payload;
  struct cont cw;
  struct follower fw;
  int resolved;

  void before()
  {
    pool = pool_new(has_worker ? 1 : 0);
    RL_ASSERT(futures_promise_create(&p) == 0);
    cont_init(&cw);
    c = r = NULL;
    if (Waits & WAIT_READY)
      RL_ASSERT(futures_then(pool, p, then_seven, &cw, &c) == 0);
    if (Waits & WAIT_FOLLOW)
      r = follower_new(pool, &fw, p);
    payload($) = 0;
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      payload($) = 42;
      resolved = future_resolve(p, &payload);
    } else if (t == 1) {
      destroy(pool, Mode);
      /* Nothing lost: both records settled before the drain ended (the
       * continuation's body, if it ran, happens before too). */
      if (c != NULL)
        check_cont(c, &cw, &payload);
      if (r != NULL)
        check_follower(r, &payload);
    } else {
      worker(&pool->sched);
    }
  }

  void after()
  {
    int cc = 0, rc = -1, n = 1;

    RL_ASSERT(resolved == 0);
    if (c != NULL) {
      cc = check_cont(c, &cw, &payload);
      n++;
    }
    if (r != NULL) {
      rc = check_follower(r, &payload);
      n++;
    }
    /* Run only if the promise's callback queued it before the close; in
     * cancel mode only a worker that ran it before the stop. */
    if (c != NULL && Mode == FUTURES_DESTROY_CANCEL && !has_worker)
      RL_ASSERT(cc == ECANCELED);
    /* The callbacks run in the order added and the list closes once: a
     * follower that got the outcome means the continuation's callback
     * found the list open too. */
    if (c != NULL && rc == 0 && Mode == FUTURES_DESTROY_DRAIN)
      RL_ASSERT(cc == 7);
    RL_ASSERT(model_records_freed == 0);
    if (c != NULL)
      futures__record_unref(c);
    if (r != NULL)
      futures__record_unref(r);
    futures__record_unref(p);
    RL_ASSERT(model_records_freed == n);
    pool_delete(pool);
  }
};

/* ------------------------------------------------------------ inline */

/*
 * Destroy called from a callback of the promise (an inline continuation
 * that destroys the pool), which runs between the callbacks of two waits:
 * thread 0 resolves the promise P, whose callbacks run in the order added:
 * the continuation's wait (the list is open: it queues the continuation),
 * then the destroying callback, then the wait of a follower, which is due
 * in thread 0's queue of callbacks while destroy takes its node, so loses
 * it to destroy, and runs after destroy has returned. With Worker, thread
 * 1 is the pool's worker, which must run the continuation before the
 * drain ends. Else the pool has no worker and no continuation waits on P;
 * thread 1 resolves a second promise Q that a second follower waits on,
 * racing the close that runs in thread 0's callback.
 */
template <int Mode, bool Worker>
struct foreign_inline : suite<foreign_inline<Mode, Worker>, 2> {
  struct destroying_cb {
    struct wcallback cb; /* first */
    foreign_inline *m;
    int ran;
  };

  struct futures_pool *pool;
  struct future *p, *q, *c, *r, *r2;
  rl::var<int> payload, payload2;
  struct cont cw;
  struct follower fw, fw2;
  struct destroying_cb d;

  static void
  destroy_fired(struct wcallback *cb, struct future *)
  {
    foreign_inline *m = ((struct destroying_cb *)(void *)cb)->m;

    m->d.ran++;
    destroy(m->pool, Mode);
    /* Nothing lost: settled before the drain ended. */
    if (Worker)
      check_cont(m->c, &m->cw, &m->payload);
    RL_ASSERT(check_follower(m->r, &m->payload) == ECANCELED);
    if (!Worker)
      check_follower(m->r2, &m->payload2);
  }

  void before()
  {
    pool = pool_new(Worker ? 1 : 0);
    RL_ASSERT(futures_promise_create(&p) == 0);
    cont_init(&cw);
    c = NULL;
    if (Worker)
      RL_ASSERT(futures_then(pool, p, then_seven, &cw, &c) == 0);
    d.m = this;
    d.ran = 0;
    d.cb.fn = destroy_fired;
    RL_ASSERT(futures__record_add_callback(p, &d.cb) == 1);
    r = follower_new(pool, &fw, p);
    q = r2 = NULL;
    if (!Worker) {
      RL_ASSERT(futures_promise_create(&q) == 0);
      r2 = follower_new(pool, &fw2, q);
    }
    payload($) = 0;
    payload2($) = 0;
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      payload($) = 42;
      RL_ASSERT(future_resolve(p, &payload) == 0);
      RL_ASSERT(d.ran == 1);
    } else if (Worker) {
      worker(&pool->sched);
    } else {
      payload2($) = 42;
      RL_ASSERT(future_resolve(q, &payload2) == 0);
    }
  }

  void after()
  {
    /* Destroy took the follower's node while its callback was due. */
    RL_ASSERT(check_follower(r, &payload) == ECANCELED);
    RL_ASSERT(model_records_freed == 0);
    if (Worker) {
      /* Queued before the destroy began: it runs (drain); in cancel
       * mode the worker may also have run it first. */
      int cc = check_cont(c, &cw, &payload);

      if (Mode == FUTURES_DESTROY_DRAIN)
        RL_ASSERT(cc == 7);
      futures__record_unref(c);
    } else {
      check_follower(r2, &payload2);
      futures__record_unref(r2);
      futures__record_unref(q);
    }
    futures__record_unref(r);
    futures__record_unref(p);
    RL_ASSERT(model_records_freed == (Worker ? 3 : 4));
    pool_delete(pool);
  }
};

/* ------------------------------------------------------------ async */

/*
 * futures_pool_destroy_async() called from a callback of the promise:
 * stop_begin() runs in the callback (thread 0), stop_finish() in the
 * destroy's own thread (thread 1, started by the callback: a release
 * store and an acquire spin stand for the thread's creation). The
 * callbacks run in the order added: the continuation's wait (it queues
 * the continuation, which the drain must run), the destroying callback,
 * then a follower's wait, due in thread 0 while thread 1 closes the list:
 * either may take the node, and the count taken in thread 0 is dropped in
 * thread 1. No worker: thread 1 runs what is queued.
 */
struct foreign_async : suite<foreign_async, 2> {
  struct async_cb {
    struct wcallback cb; /* first */
    foreign_async *m;
  };

  struct futures_pool *pool;
  struct future *p, *c, *r;
  rl::var<int> payload;
  struct cont cw;
  struct follower fw;
  struct async_cb d;
  rl::atomic<int> started; /* the destroy's thread may begin */

  static void
  async_fired(struct wcallback *cb, struct future *)
  {
    foreign_async *m = ((struct async_cb *)(void *)cb)->m;

    destroy_begin(m->pool, FUTURES_DESTROY_DRAIN);
    m->started.store(1, rl::mo_release, $);
  }

  void before()
  {
    pool = pool_new(0);
    RL_ASSERT(futures_promise_create(&p) == 0);
    cont_init(&cw);
    RL_ASSERT(futures_then(pool, p, then_seven, &cw, &c) == 0);
    d.m = this;
    d.cb.fn = async_fired;
    RL_ASSERT(futures__record_add_callback(p, &d.cb) == 1);
    r = follower_new(pool, &fw, p);
    started.store(0, rl::mo_relaxed, $);
    payload($) = 0;
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      payload($) = 42;
      RL_ASSERT(future_resolve(p, &payload) == 0);
    } else {
      while (started.load(rl::mo_acquire, $) == 0)
        sched_yield();
      destroy_finish(pool, FUTURES_DESTROY_DRAIN);
      /* Nothing lost: both settled before the drain ended. */
      RL_ASSERT(check_cont(c, &cw, &payload) == 7);
      check_follower(r, &payload);
    }
  }

  void after()
  {
    /* Queued before the stop: it ran in the drain. */
    RL_ASSERT(check_cont(c, &cw, &payload) == 7);
    check_follower(r, &payload);
    RL_ASSERT(model_records_freed == 0);
    futures__record_unref(c);
    futures__record_unref(r);
    futures__record_unref(p);
    RL_ASSERT(model_records_freed == 3);
    pool_delete(pool);
  }
};

/* ------------------------------------------------------------ attach */

/*
 * futures_then() on a promise (thread 0) racing the pool's destroy in
 * drain mode (thread 1, no worker: destroy runs what is queued), while
 * thread 2 resolves the promise: the attach is refused, or its
 * continuation is settled before the drain ends (run if the promise's
 * callback queued it before the close, else ECANCELED); a node destroy
 * took before its callback was linked is freed by that callback.
 */
struct foreign_attach : suite<foreign_attach, 3> {
  struct futures_pool *pool;
  struct future *p, *c;
  rl::var<int> payload;
  struct cont cw;
  int attach_rc;

  void before()
  {
    pool = pool_new(0);
    RL_ASSERT(futures_promise_create(&p) == 0);
    cont_init(&cw);
    c = NULL;
    attach_rc = -1;
    payload($) = 0;
  }

  void thread(unsigned t)
  {
    if (t == 0) {
      struct future *mine = NULL;

      attach_rc = futures_then(pool, p, then_seven, &cw, &mine);
      c = mine;
    } else if (t == 1) {
      destroy(pool, FUTURES_DESTROY_DRAIN);
      /* An accepted attach counted itself until it returned: if it is
       * over, its continuation is settled. */
      if (c != NULL)
        check_cont(c, &cw, &payload);
    } else {
      payload($) = 42;
      RL_ASSERT(future_resolve(p, &payload) == 0);
    }
  }

  void after()
  {
    if (attach_rc == 0) {
      RL_ASSERT(c != NULL);
      check_cont(c, &cw, &payload);
      RL_ASSERT(model_records_freed == 0);
      futures__record_unref(c);
      RL_ASSERT(model_records_freed == 1);
    } else {
      RL_ASSERT(attach_rc == ESHUTDOWN && c == NULL);
      RL_ASSERT(cw.runs($) == 0);
      /* attach() freed the continuation it had made. */
      RL_ASSERT(model_records_freed <= 1);
    }
    futures__record_unref(p);
    pool_delete(pool);
  }
};

const futures_model::entry models[] = {
    {"foreign-close", "destroy (drain) vs a resolve, READY + FOLLOW waits",
     futures_model::run<foreign_close<FUTURES_DESTROY_DRAIN, 2, WAIT_READY | WAIT_FOLLOW> >,
     rl::sched_bound, 1},
    {"foreign-close-cancel",
     "destroy (cancel) vs a resolve, READY + FOLLOW waits",
     futures_model::run<foreign_close<FUTURES_DESTROY_CANCEL, 2, WAIT_READY | WAIT_FOLLOW> >,
     rl::sched_bound, 1},
    {"foreign-drain", "destroy (drain) vs a resolve vs the worker",
     futures_model::run<foreign_close<FUTURES_DESTROY_DRAIN, 3, WAIT_READY> >,
     rl::sched_bound, 1},
    {"foreign-inline", "destroy (drain) in a callback, a wait's callback due",
     futures_model::run<foreign_inline<FUTURES_DESTROY_DRAIN, false> >,
     rl::sched_bound, 1},
    {"foreign-inline-worker",
     "destroy (drain) in a callback, a wait's callback due, the worker",
     futures_model::run<foreign_inline<FUTURES_DESTROY_DRAIN, true> >,
     rl::sched_bound, 1},
    {"foreign-async", "destroy_async in a callback: its thread's close vs "
     "a callback due",
     futures_model::run<foreign_async>, rl::sched_bound, 1},
    {"foreign-attach", "futures_then() vs destroy vs the resolve",
     futures_model::run<foreign_attach>, rl::sched_bound, 1},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
