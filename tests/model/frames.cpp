// SPDX-License-Identifier: MIT
/*
 * frames.cpp - models of lib/frame.c, the split frame deque of
 * futures_spawn() and futures_sync(), compiled from that file itself.
 *
 * The owner's side is spawn.c's, step for step, without the thread-local
 * bookkeeping: a spawn fills the frame, pushes it and, when a thief asked
 * (want), grows the shared part; a sync pops a private frame, shares every
 * private frame left when a thief asked (share-all), and calls it,
 * or reclaims a shared one (shrink) and calls it, or waits for its thief
 * (leapfrogging, then sleeping: FRAME_SPIN_NS is 0 here, so every wait
 * that does not end at once sleeps on the deque's condition variable).
 * Thieves are frame.c's: futures__frame_steal() then
 * futures__frame_run_stolen().
 *
 * Each frame has an input, a plain variable (rl::var) the spawner writes
 * before the spawn and the body reads, and an output the body writes and
 * the syncer reads after the sync: if the deque's orders did not make
 * each happen before the other, Relacy reports a data race. Checked on
 * every sync: the body ran exactly once, the sync returned that body's
 * result; at the end every spawned frame ran exactly once and no deque
 * holds anything.
 */
#include "harness.hpp"

#define FRAME_CAP 4
#define FRAME_SPIN_NS 0
#define FRAME_LOOKS 1
#include "frame.c"

using futures_model::suite;

namespace {

#define MAXF 4
#define MAXT 3

/* What the bodies see; one per execution (set in before()). */
struct frames_state {
  struct fdeque q[MAXT];
  struct frame fr[MAXF];
  /* Where frame i lives: &fr[i], or (frames-lifetime) a block of Relacy's
   * heap that the syncer frees when its sync returns. */
  struct frame *frp[MAXF];
  rl::var<int> input[MAXF];
  rl::var<int> output[MAXF];
  int runs[MAXF];
  int spawned[MAXF];
  int nthreads;
  /* The frame whose body spawns and syncs @leap_child, or -1. */
  int leap_parent, leap_child;
};

frames_state *cur;

int frame_body(void *arg, void **result);

unsigned
me()
{
  return (unsigned)rl::ctx().current_thread();
}

/* spawn.c's futures_spawn() on deque @t. */
void
spawn(unsigned t, int i)
{
  struct frame *fr = cur->frp[i];
  struct fdeque *q = &cur->q[t];

  cur->input[i]($) = i + 1;
  cur->spawned[i] = 1;
  fr->fn = frame_body;
  fr->arg = (void *)(intptr_t)i;
  fr->task = NULL;
  RL_ASSERT(futures__frame_push(q, fr));
  fr->owner = q;
  fr->state = FRAME_QUEUED;
  atomic_store_explicit(&fr->thief, 0, memory_order_relaxed);
  if (futures__frame_wanted(q))
    futures__frame_grow(q);
}

/* spawn.c's futures_sync() on deque @t; checks the outcome. */
void
sync(unsigned t, int i)
{
  struct frame *fr = cur->frp[i];
  struct fdeque *q = &cur->q[t];
  void *res = NULL;
  int rc, own;

  if (futures__frame_pop(q, fr)) {
    /* A thief asked: share every private frame below (spawn.c's
     * share_below(), before the inline call). */
    if (futures__frame_wanted(q))
      futures__frame_share_all(q);
    rc = fr->fn(fr->arg, &res);
  } else {
    own = futures__frame_reclaim(q, fr);
    RL_ASSERT(own >= 0); /* the newest frame */
    if (own) {
      rc = fr->fn(fr->arg, &res);
    } else {
      futures__frame_wait(q, fr, 0);
      rc = fr->rc;
      res = fr->result;
    }
  }
  fr->state = FRAME_SYNCED;
  RL_ASSERT(rc == 0);
  RL_ASSERT(cur->runs[i] == 1);
  RL_ASSERT(res == (void *)(intptr_t)(100 + i));
  RL_ASSERT(cur->output[i]($) == 100 + i);
}

int
frame_body(void *arg, void **result)
{
  int i = (int)(intptr_t)arg;

  RL_ASSERT(cur->input[i]($) == i + 1);
  cur->runs[i]++;
  if (i == cur->leap_parent) {
    unsigned t = me();

    /* A descendant in the running thread's deque, shared at once, so
     * that the owner of frame i, waiting for it, can leapfrog. */
    spawn(t, cur->leap_child);
    futures__frame_ask(&cur->q[t]);
    futures__frame_grow(&cur->q[t]);
    sync(t, cur->leap_child);
  }
  cur->output[i]($) = 100 + i;
  *result = (void *)(intptr_t)(100 + i);
  return 0;
}

/* A thief's attempt on deque @v: claim the oldest shared frame and run
 * it, as a worker's futures__sched_steal_frame() does. */
void
steal(unsigned v)
{
  struct frame *fr = futures__frame_steal(&cur->q[v]);

  if (fr != NULL)
    futures__frame_run_stolen(&cur->q[me()], fr, 0);
}

template <class Derived, rl::thread_id_t Threads>
struct frames_model : suite<Derived, Threads> {
  frames_state s;

  void before()
  {
    cur = &s;
    s.nthreads = Threads;
    s.leap_parent = s.leap_child = -1;
    for (int i = 0; i < MAXF; i++) {
      s.runs[i] = s.spawned[i] = 0;
      s.frp[i] = &s.fr[i];
    }
    for (unsigned t = 0; t < Threads; t++)
      futures__frame_init(&s.q[t]);
    /* A thief asked before the owner began: its first spawn shares. */
    futures__frame_ask(&s.q[0]);
    static_cast<Derived *>(this)->setup();
  }

  void setup() {}

  void after()
  {
    for (int i = 0; i < MAXF; i++)
      RL_ASSERT(s.runs[i] == s.spawned[i]);
    for (unsigned t = 0; t < Threads; t++) {
      RL_ASSERT(s.q[t].head == 0);
      RL_ASSERT(!futures__frame_visible(&s.q[t]));
      futures__frame_fini(&s.q[t]);
    }
  }
};

/* (a) The owner spawns three frames (the first spawn shares one) and syncs
 * them newest first against a thief that steals twice: pops of private
 * frames, the shrink of a shared one, a steal racing both, a grow asked by
 * the thief's failed steal, and the wait for a stolen frame. */
struct frames_steal : frames_model<frames_steal, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      spawn(0, 1);
      spawn(0, 2);
      sync(0, 2);
      sync(0, 1);
      sync(0, 0);
    } else {
      steal(0);
      steal(0);
    }
  }
};

/* (b) The last frame: one shared frame, the owner's shrink against the
 * thief's claim; then a second spawn after the outcome (reusing the slot,
 * after a stolen sync's reset) against a second steal. */
struct frames_last : frames_model<frames_last, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      sync(0, 0);
      spawn(0, 1);
      sync(0, 1);
    } else {
      steal(0);
      steal(0);
    }
  }
};

/* (c) Leapfrogging: frame 0's body spawns frame 1 in the deque of the
 * thread running it, shares it and syncs it. When the thief runs frame 0,
 * the owner waiting for it may steal frame 1 from the thief and run it,
 * racing the thief's own sync of frame 1. */
struct frames_leapfrog : frames_model<frames_leapfrog, 2> {
  void setup()
  {
    s.leap_parent = 0;
    s.leap_child = 1;
  }
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      sync(0, 0);
    } else {
      steal(0);
    }
  }
};

/* (e) The frame's lifetime: frame 0 lives in Relacy's heap, shared at its
 * spawn, and the owner frees it as soon as its sync returns (a frame is a
 * local variable of the spawning task, gone when the task returns or
 * reused by its next spawn). A thief that touches the frame after its
 * FRAME_DONE exchange (the one store after which the owner may return)
 * then reads a poisoned or freed frame. */
struct frames_lifetime : frames_model<frames_lifetime, 2> {
  void setup()
  {
    s.frp[0] = futures_model::alloc<struct frame>(1);
  }
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      sync(0, 0);
      /* Reuse, then free: a late thief's plain read of a field finds
       * NULL (and crashes the model on a lock through it); its atomic
       * accesses find freed memory (Relacy: ACCESS TO FREED MEMORY). */
      s.frp[0]->owner = NULL;
      s.frp[0]->fn = NULL;
      s.frp[0]->~frame();
      futures__free(s.frp[0]);
    } else {
      steal(0);
    }
  }
};

/* (d) Two thieves racing each other and the owner for two shared frames. */
struct frames_thieves : frames_model<frames_thieves, 3> {
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      spawn(0, 1);
      futures__frame_ask(&s.q[0]);
      spawn(0, 2);
      sync(0, 2);
      sync(0, 1);
      sync(0, 0);
    } else {
      steal(0);
    }
  }
};

const futures_model::entry models[] = {
    {"frames-steal", "frames: owner spawn x3/sync x3 vs 2 steals, 2 threads",
     futures_model::run<frames_steal>, rl::sched_bound, 5},
    {"frames-last", "frames: the last frame, shrink vs claim, then reuse",
     futures_model::run<frames_last>, rl::sched_bound, 5},
    {"frames-leapfrog", "frames: a stolen frame's child, leapfrogged",
     futures_model::run<frames_leapfrog>, rl::sched_bound, 4},
    {"frames-thieves", "frames: 2 thieves vs the owner, 3 threads",
     futures_model::run<frames_thieves>, rl::sched_bound, 3},
    {"frames-lifetime", "frames: the owner frees a frame once synced",
     futures_model::run<frames_lifetime>, rl::sched_bound, 5},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
