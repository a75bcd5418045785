// SPDX-License-Identifier: MIT
/*
 * frames.cpp - models of lib/frame.c, the split frame deque of
 * futures_spawn() and futures_sync(), compiled from that file itself.
 *
 * The owner's side is spawn.c's, step for step, without the thread-local
 * bookkeeping: a spawn fills the frame, pushes it and, when a thief asked
 * (want), grows the shared part; a sync pops a private frame, or reclaims
 * a shared one (shrink), shares every private frame left when a thief
 * asked (share-all), and calls it; or it waits for its thief (leapfrogging,
 * then sleeping: FRAME_SPIN_NS is 0 here, so every wait that does not end
 * at once sleeps on the deque's condition variable).
 * Thieves are frame.c's: futures__frame_steal() then
 * futures__frame_run_stolen().
 *
 * Each frame has an input, a plain variable (rl::var) the spawner writes
 * before the spawn and the body reads, and an output the body writes and
 * the syncer reads after the sync: if the deque's orders did not make
 * each happen before the other, Relacy reports a data race. Checked on
 * every sync: the body ran exactly once, the sync returned that body's
 * result; on every run of a body in a thread that waits for a stolen
 * frame (futures__frame_wait()), that the body's frame descends from the
 * awaited one (leapfrogging takes nothing else); at the end every spawned
 * frame ran exactly once and no deque holds anything.
 *
 * A frame's gen word holds, before a thief stores to it, what an earlier
 * use left there (spawn.c does not write it): 1 here, the generation the
 * thief's deque of frames-leapfrog-gen is in once its stolen run ended. An
 * owner that read that stale value would claim the thief's unrelated
 * frames.
 */
#include "harness.hpp"

#define FRAME_CAP 4
#define FRAME_SPIN_NS 0
#define FRAME_LOOKS 1
#include "frame.c"

/* base.c's fork generation, which frame.c's stale() reads: 0, not a fork()
 * child (the ECHILD path of futures__frame_wait() is not modelled). */
FUTURES_GLOBAL(_Atomic(unsigned long), futures__fork_gen);

using futures_model::suite;

namespace {

#define MAXF 4
#define MAXT 3
#define MAXKIDS 2

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
  /* The frames the body of frame i spawns in its running thread's deque,
   * shares at once and syncs, one after the other (-1: no more), so that
   * the owner of frame i, waiting for it, can leapfrog them; and each
   * frame's parent (from kids, -1 for none). */
  int kids[MAXF][MAXKIDS];
  int parent[MAXF];
  /* The thread that ran frame i's body, or -1. */
  int ran_on[MAXF];
  /* The frame thread t waits for in futures__frame_wait() (the innermost
   * wait), or -1. */
  int syncing[MAXT];
  /* A body does other work (a yield) between spawning a kid and syncing
   * it: another thread runs meanwhile without a preemption. */
  int busy;
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

/* A spawn as a body's, or a task's, when a thief asked: shared at once. */
void
spawn_shared(unsigned t, int i)
{
  spawn(t, i);
  futures__frame_ask(&cur->q[t]);
  futures__frame_grow(&cur->q[t]);
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
      /* As spawn.c's sync_shared(): a request shares what is below. */
      if (futures__frame_wanted(q))
        futures__frame_share_all(q);
      rc = fr->fn(fr->arg, &res);
    } else {
      int outer = cur->syncing[t];

      cur->syncing[t] = i;
      RL_ASSERT(futures__frame_wait(q, fr, 0) == 0);
      cur->syncing[t] = outer;
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

/* 1 if frame @i descends from frame @a (is a child of a child... of it). */
int
descends(int i, int a)
{
  for (int p = cur->parent[i]; p >= 0; p = cur->parent[p])
    if (p == a)
      return 1;
  return 0;
}

int
frame_body(void *arg, void **result)
{
  int i = (int)(intptr_t)arg;
  unsigned t = me();

  RL_ASSERT(cur->input[i]($) == i + 1);
  /* A thread waiting for a stolen frame runs only descendants of that
   * frame (frame.h, "leapfrog"): not a frame its thief shared after the
   * stolen run ended, nor any other frame of the thief's later work. */
  if (cur->syncing[t] >= 0)
    RL_ASSERT(descends(i, cur->syncing[t]));
  cur->runs[i]++;
  cur->ran_on[i] = (int)t;
  for (int k = 0; k < MAXKIDS && cur->kids[i][k] >= 0; k++) {
    spawn_shared(t, cur->kids[i][k]);
    if (cur->busy)
      futures__cpu_relax();
    sync(t, cur->kids[i][k]);
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
    s.busy = 0;
    for (int i = 0; i < MAXF; i++) {
      s.runs[i] = s.spawned[i] = 0;
      s.frp[i] = &s.fr[i];
      s.parent[i] = s.ran_on[i] = -1;
      for (int k = 0; k < MAXKIDS; k++)
        s.kids[i][k] = -1;
    }
    for (unsigned t = 0; t < MAXT; t++)
      s.syncing[t] = -1;
    for (unsigned t = 0; t < Threads; t++)
      futures__frame_init(&s.q[t], 0);
    /* A thief asked before the owner began: its first spawn shares. */
    futures__frame_ask(&s.q[0]);
    static_cast<Derived *>(this)->setup();
    for (int i = 0; i < MAXF; i++) {
      for (int k = 0; k < MAXKIDS; k++)
        if (s.kids[i][k] >= 0)
          s.parent[s.kids[i][k]] = i;
      /* What an earlier use left (see the top of this file). */
      atomic_init(&s.frp[i]->gen, 1u);
    }
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
  void setup() { s.kids[0][0] = 1; }
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

/* (f) The generation of leapfrogging (found by review): the thief of
 * frame 0 goes on, once its run ended, to spawn and share an unrelated
 * frame 1 (a task of its own), while the owner of frame 0 waits for it. An
 * owner that read the thief's deque from frame 0's thief word just before
 * the run ended must not claim frame 1 and run it inside its sync:
 * frame_body() asserts that. */
struct frames_leapfrog_gen : frames_model<frames_leapfrog_gen, 2> {
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      sync(0, 0);
    } else {
      steal(0);
      spawn_shared(1, 1);
      sync(1, 1);
    }
  }
};

/* (g) A nested stolen run: frame 0's body, in its thief, spawns, shares
 * and syncs frame 1, then frame 3. When the owner of frame 0, waiting for
 * it, leapfrogs frame 1, whose body spawns and shares frame 2 in the
 * owner's deque, the thief waiting for frame 1 leapfrogs frame 2 in turn:
 * a run nested in its run of frame 0, which moves the thief's deque to a
 * new generation when it ends. Frame 3, spawned after that, is still frame
 * 0's child: the thief stores the new generation in frame 0, and the owner
 * can leapfrog frame 3. Checked besides the assertions: some execution
 * reaches that (frame 0 in the thief, 1 in the owner, 2 in the thief, 3 in
 * the owner); the run fails otherwise. The owner and the bodies do other
 * work (a yield) between a spawn and its sync, which lets the other thread
 * run without a preemption: the path then needs a bound of 2, not 4. */
long nested_reached;

struct frames_leapfrog_nested : frames_model<frames_leapfrog_nested, 2> {
  void setup()
  {
    s.kids[0][0] = 1;
    s.kids[0][1] = 3;
    s.kids[1][0] = 2;
    s.busy = 1;
  }
  void thread(unsigned t)
  {
    if (t == 0) {
      spawn(0, 0);
      futures__cpu_relax();
      sync(0, 0);
    } else {
      steal(0);
    }
  }
  void after()
  {
    if (s.ran_on[0] == 1 && s.ran_on[1] == 0 && s.ran_on[2] == 1 &&
        s.ran_on[3] == 0)
      nested_reached++;
    frames_model<frames_leapfrog_nested, 2>::after();
  }
};

bool
run_nested(rl::test_params &p)
{
  nested_reached = 0;
  if (!rl::simulate<frames_leapfrog_nested>(p))
    return false;
  if (nested_reached == 0) {
    *p.output_stream << "NOT REACHED (frames-leapfrog-nested): no "
                        "execution where the owner leapfrogged frame 3 "
                        "after the thief's nested run of frame 2\n";
    return false;
  }
  return true;
}

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
    {"frames-leapfrog-gen",
     "frames: the thief's unrelated frame after its run, not leapfrogged",
     futures_model::run<frames_leapfrog_gen>, rl::sched_bound, 3},
    {"frames-leapfrog-nested",
     "frames: a nested stolen run, then a leapfrog in the new generation",
     run_nested, rl::sched_bound, 2},
};

} // namespace

int
main(int argc, char **argv)
{
  return futures_model::main(argc, argv, models,
                             sizeof(models) / sizeof(models[0]));
}
