/* SPDX-License-Identifier: MIT */
/*
 * frame.h - layer 2: the frame deque of a slot, which holds the
 * caller-owned frames of futures_spawn() (spawn.c) until futures_sync()
 * runs them, or until another worker steals one.
 *
 * A frame is the caller's futures_frame_t, on its stack; the deque holds
 * pointers to frames, in a fixed array (spawning never allocates; when
 * the array is full, spawn.c runs the task at once). Frames are synced
 * newest first, so the owner's end is a stack: it pushes and pops at
 * head. Thieves take the oldest frame, at tail.
 *
 * The split. Indices [tail, split) are shared: thieves may take them.
 * Indices [split, head) are private: only the owner touches them, so a
 * push and a pop there are plain loads and stores of owner-only fields,
 * with no atomic read-modify-write and no fence. tail and split share one
 * atomic word (ts: tail in the high half, split in the low half), which
 * thieves change with a compare-and-swap: a claim of index t succeeds only
 * if neither tail nor split moved since the thief read them. The word's
 * high half is the deque's generation, which only the owner changes: it
 * adds one each time a run of a stolen frame ends in its thread (see
 * "leapfrog" below).
 *
 *   grow    A thief that finds nothing shared sets want (once; it reads
 *           first). The owner reads want on each spawn (its own line,
 *           written only by thieves asking) and, when set, shares half of
 *           its private frames: a compare-and-swap of split upwards
 *           (release: the frames and their slots were written before).
 *           spawn.c then wakes a parked worker if one sleeps without a
 *           token (wake_after_publish): at most one wake-up per grow.
 *   shrink  The owner syncs a frame below split (it was shared): it
 *           compare-and-swaps split down to the middle of what is still
 *           shared, if tail is not past the frame; the frame is then its
 *           own again and runs inline.
 *   stolen  Otherwise tail passed the frame: a thief claimed it. The owner
 *           leapfrogs (steals from that thief's deque, and runs what it
 *           takes) until the thief publishes FRAME_DONE in the frame,
 *           spinning a while and then sleeping on its deque's condition
 *           variable. Then every frame from the stolen one up is gone
 *           (tail = split = head + 1), and the owner stores ts = (head,
 *           head): nothing shared.
 *   leapfrog While the thief runs the stolen frame, its deque holds only
 *           descendants of that frame (every older frame of the thief was
 *           claimed before, since thieves take the oldest). Once the run
 *           ends, the thief goes on to other work and shares other frames:
 *           an owner that read the thief just before must not take those
 *           (a frame of unrelated code, run inside a sync, could need a
 *           lock the syncing task holds). So the thief records in the
 *           frame the generation of its deque when the run starts
 *           (frame->gen, before it names itself in frame->thief with
 *           release order), and adds one to the generation when any
 *           stolen run on its deque ends, before it does anything else;
 *           a run nested inside others (the thief leapfrogging in turn)
 *           then stores the new generation in every enclosing stolen
 *           frame of the same deque (fdeque.running, frame.up), whose
 *           descendants the deque still holds. A leapfrogging owner's
 *           claim requires the generation it read in its frame, so a
 *           claim that reads any word written after the run ended fails.
 *           "Descendants" means what runs inside the stolen run on the
 *           thief: its frames, and those of tasks the run waits for and
 *           runs in place. The generation is 32 bits: a wrong claim would
 *           need 2^32 stolen runs to end on one deque between the owner's
 *           read of the frame's generation and its claim.
 *
 * A thief reads the frame pointer out of the slot only after its claim
 * succeeded, and the owner writes a slot only at head, above every claimed
 * index until it has synced the frame there (which waits for the thief),
 * so a slot is never rewritten under a thief. tests/model/frames.cpp
 * checks these moves under the C11 memory model.
 */
#ifndef FUTURES_FRAME_H
#define FUTURES_FRAME_H

#include "internal.h"

/* Frames a deque holds; beyond that, a spawn runs its task at once. */
#ifndef FRAME_CAP
#define FRAME_CAP 1024
#endif
_Static_assert(FRAME_CAP < 0x10000, "tail and split are 16 bits of ts");

/* frame->state (owner only); odd values, so that a zeroed or stale frame
 * is none of them. */
#define FRAME_QUEUED 0x4652u /* pushed to the owner's deque */
#define FRAME_RAN 0x4653u    /* ran at spawn: its outcome is stored */
#define FRAME_SYNCED 0x4651u /* synced; spawn it again to reuse it */

/* frame->thief: the owner sleeps (a bit of a thief's deque pointer), the
 * thief finished (no deque has this address). */
#define FRAME_SLEEPING ((uintptr_t)1)
#define FRAME_DONE ((uintptr_t)2)

struct fdeque;

/* A frame as the library sees the caller's futures_frame_t (spawn.c checks
 * that it fits). */
struct frame {
  /* Written by the owner before the frame can be shared. */
  futures_task_fn fn;
  void *arg;
  struct future *task;  /* the body that spawned it: current while it runs */
  struct fdeque *owner; /* the deque it was pushed to (FRAME_QUEUED) */
  /* Written by whoever runs it; read by the owner after it ran (a thief
   * publishes them with FRAME_DONE). */
  void *result;
  int rc;
  /* Owner only. */
  unsigned state;      /* FRAME_* */
  struct frame *below; /* debug builds: the thread's open frame before it */
  /* Atomic: 0; once stolen, the thief's deque (| FRAME_SLEEPING when the
   * owner sleeps on it); FRAME_DONE when the thief has finished. */
  _Atomic(uintptr_t) thief;
  /* Atomic: once stolen, the generation of the thief's deque in which
   * the frame's descendants are shared ("leapfrog" above); written by the
   * thief, read by the owner. */
  _Atomic(uint32_t) gen;
  /* Thief only, while it runs the frame: the stolen run on the same deque
   * that this run is nested in (fdeque.running), or NULL. */
  struct frame *up;
};

struct fdeque {
  /* Atomic: generation << 32 | tail << 16 | split. Thieves
   * compare-and-swap it; the owner too, to move split or to add to the
   * generation. Own cache line. */
  _Atomic(uint64_t) ts FUTURES_ALIGNED;
  /* Atomic: 1 when a thief found nothing shared. Own line: the owner
   * reads it on every spawn, thieves write it rarely. */
  _Atomic(int) want FUTURES_ALIGNED;
  /* Owner only. */
  unsigned head FUTURES_ALIGNED; /* next push */
  unsigned split;                /* the owner's copy of ts's split */
  /* Immutable: the pool's fork generation (scheduler.h, sched->gen). */
  unsigned long fork_gen;
  /* The innermost stolen frame that the deque's thread runs now, or NULL:
   * per deque, not per thread, since a thread that helps another pool
   * borrows that pool's deque ("leapfrog" above). */
  struct frame *running;
  /* The owner sleeping on a stolen frame (frame_wait). */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  /* Written by the owner, read by thieves after a claim. In the struct,
   * not allocated: one allocation (the pool's slots) holds them all. */
  _Atomic(struct frame *) slot[FRAME_CAP];
};

/* Never fails; futures__frame_fini() undoes it. @fork_gen: the pool's
 * fork generation. */
void futures__frame_init(struct fdeque *q, unsigned long fork_gen);
void futures__frame_fini(struct fdeque *q);

/* Owner: pushes @fr; 0 when the deque is full. */
static inline int
futures__frame_push(struct fdeque *q, struct frame *fr)
{
  unsigned h = q->head;

  if (unlikely(h == FRAME_CAP))
    return 0;
  /* Relaxed: a thief reads the slot only after a grow published it. */
  atomic_store_explicit(&q->slot[h], fr, memory_order_relaxed);
  q->head = h + 1;
  return 1;
}

/* Owner: 1 if @fr is the newest frame and private, and is now popped;
 * else 0 (futures__frame_reclaim() decides). */
static inline int
futures__frame_pop(struct fdeque *q, struct frame *fr)
{
  unsigned h = q->head - 1;

  /* Relaxed: the owner wrote the slot. */
  if (likely(q->head > q->split &&
             atomic_load_explicit(&q->slot[h], memory_order_relaxed) == fr)) {
    q->head = h;
    return 1;
  }
  return 0;
}

/* Owner: 1 if a thief asked for frames. */
static inline int
futures__frame_wanted(struct fdeque *q)
{
  /* Relaxed: a request seen one spawn late costs nothing. */
  return atomic_load_explicit(&q->want, memory_order_relaxed) != 0;
}

/* Owner: shares half of its private frames and clears want; 1 if it
 * shared any (the caller then wakes a sleeper if one needs it). */
int futures__frame_grow(struct fdeque *q);
/* Owner: shares every private frame and clears want; 1 if it shared any
 * (the caller then wakes a sleeper if one needs it); 0, want left set,
 * when none is private. */
int futures__frame_share_all(struct fdeque *q);
/* Owner: @fr is the newest frame and lies in the shared part. 1 if it is
 * the owner's again (popped: run it inline); 0 if a thief took it
 * (futures__frame_wait() next); -1 if @fr is not the newest frame. */
int futures__frame_reclaim(struct fdeque *q, struct frame *fr);
/* Owner of @q: waits until the thief of @fr has run it, helping the thief
 * meanwhile, then pops it: 0. ECHILD, without popping it, in a fork()
 * child when the thief has not finished (it is in the parent). @base: the
 * thread's record deque bottom (for tls->base while a frame runs). */
int futures__frame_wait(struct fdeque *q, struct frame *fr, long base);
/* Owner of @q: pops a claimed @fr without waiting for its thief (a fork()
 * child, where the thief does not exist): the end of futures__frame_wait(). */
void futures__frame_forget(struct fdeque *q);

/* Thief: claims the oldest shared frame of @v, or NULL (then asks @v to
 * share, if nothing was shared). */
struct frame *futures__frame_steal(struct fdeque *v);
/* Thief: runs a frame it claimed, as part of its spawner's body, and
 * publishes FRAME_DONE. @me: the thief's own deque. */
void futures__frame_run_stolen(struct fdeque *me, struct frame *fr,
                               long base);
/* 1 if @q has a shared frame. */
int futures__frame_visible(struct fdeque *q);
/* An idle worker asks @q's owner to share frames it spawns. */
void futures__frame_ask(struct fdeque *q);

#endif /* FUTURES_FRAME_H */
