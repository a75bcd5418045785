/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - layer 5: futures_spawn() and futures_sync(), fork-join on
 * caller-owned frames. A frame is not a record: it never passes through
 * the gate, has no state word and no references. It goes to the calling
 * thread's frame deque (frame.h, which describes the protocol with
 * thieves); futures_sync() pops it and calls it like a function when
 * nobody stole it, and waits for the thief (helping it) when one did.
 *
 * What the fast paths pay: a spawn fills the frame, stores one slot and
 * the owner's head, and reads the deque's want flag; an unstolen sync
 * reads the slot back, moves head, reads want (a worker asked: it shares
 * every private frame left, share_below()) and calls the task. No atomic
 * read-modify-write, no fence, no allocation.
 *
 * In a fork() child on a pool of the parent, a share wakes nobody
 * (futures__sched_frames_published()) and the sync of a frame stolen
 * before the fork returns ECHILD: its thief is in the parent.
 *
 * Debug builds keep, per thread, the list of open frames (spawned, not
 * synced; tls->frame_top, linked through frame->below), to catch a sync
 * out of order here and a body that returns with a frame open (gate.c,
 * frame.c): both are assertions, which abort with a message naming the
 * rule.
 */
#include "scheduler.h"

#include <stdalign.h>

_Static_assert(sizeof(struct frame) <= sizeof(futures_frame_t),
               "struct frame must fit in futures_frame_t");
_Static_assert(alignof(struct frame) <= alignof(futures_frame_t),
               "struct frame must not need more alignment than "
               "futures_frame_t");

#define FRAME_OF(p) ((struct frame *)(void *)(p))

/* Helgrind: a pushed frame's thief and generation words are atomic until
 * its sync, and plain stack memory again afterwards (its thief, if any, is
 * done). */
#define frame_opened(fr)                                                      \
  do {                                                                        \
    FUTURES_ATOMIC_VAR((fr)->thief);                                          \
    FUTURES_ATOMIC_VAR((fr)->gen);                                            \
  } while (0)
#define frame_closed(fr)                                                      \
  do {                                                                        \
    FUTURES_PLAIN_RANGE(&(fr)->thief, sizeof((fr)->thief));                   \
    FUTURES_PLAIN_RANGE(&(fr)->gen, sizeof((fr)->gen));                       \
  } while (0)

/* Debug builds: @fr is now the newest open frame of this thread. */
static inline void
open_frame(struct futures_tls *tls, struct frame *fr)
{
#if FUTURES_DEBUG
  fr->below = tls->frame_top;
  tls->frame_top = fr;
#else
  (void)tls;
  (void)fr;
#endif
}

/* Debug builds: @fr, being synced, must be the newest open frame. */
static inline void
close_frame(struct futures_tls *tls, struct frame *fr)
{
#if FUTURES_DEBUG
  FUTURES_ASSERT(tls->frame_top == fr &&
                 "futures_sync(): frames are synced newest first");
  tls->frame_top = fr->below;
#else
  (void)tls;
  (void)fr;
#endif
}

/* Calls the task of @fr in this thread; frames it spawns must be closed
 * when it returns (debug builds). */
static inline int
call(struct futures_tls *tls, struct frame *fr, void **result)
{
#if FUTURES_DEBUG
  void *top = tls->frame_top;
#endif
  int rc;

  *result = NULL;
  rc = fr->fn(fr->arg, result);
  FUTURES_ASSERT(tls->frame_top == top &&
                 "futures_spawn(): a frame task returned with a frame it "
                 "spawned not synced");
  (void)tls;
  return rc;
}

int
futures_spawn(futures_frame_t *frame, futures_task_fn fn, void *arg)
{
  struct futures_tls *tls = &futures__tls;
  struct future *cur = tls->current;
  struct frame *fr = FRAME_OF(frame);
  struct slot *sl = tls->slot;

  if (unlikely(cur == NULL))
    return EPERM;
  if (unlikely(fr == NULL || fn == NULL))
    return EINVAL;
  fr->fn = fn;
  fr->arg = arg;
  fr->task = cur;
  open_frame(tls, fr);
  /* The deque of the thread's slot in the task's own pool (an inline
   * continuation has no pool; a thread running a task in place may have
   * no slot). */
  if (likely(sl != NULL && sl->sched == cur->sched) &&
      likely(futures__frame_push(&sl->fq, fr))) {
    fr->owner = &sl->fq;
    fr->state = FRAME_QUEUED;
    /* Helgrind: only atomic accesses until the sync (frame_closed()). */
    frame_opened(fr);
    /* Relaxed: published, if ever, by the grow that shares the frame. */
    atomic_store_explicit(&fr->thief, 0, memory_order_relaxed);
    if (unlikely(futures__frame_wanted(&sl->fq)) &&
        futures__frame_grow(&sl->fq))
      futures__sched_frames_published(sl->sched, &sl->fq);
    return 0;
  }
  /* No deque, or it is full: run it now; the sync returns the outcome. */
  fr->owner = NULL;
  fr->state = FRAME_RAN;
  fr->rc = call(tls, fr, &fr->result);
  return 0;
}

/* The owner is about to run a frame inline and a worker asked for frames:
 * share every private one below it (a flat loop of spawns then reaches
 * every worker; each thief passes a wake-up on). */
static void __attribute__((noinline))
share_below(struct slot *sl)
{
  if (futures__frame_share_all(&sl->fq))
    futures__sched_frames_published(sl->sched, &sl->fq);
}

/* The frame was shared: take it back, or wait for its thief. */
static int __attribute__((noinline))
sync_shared(struct futures_tls *tls, struct frame *fr, void **result)
{
  struct fdeque *q = fr->owner;
  void *res;
  int rc, own;

  close_frame(tls, fr); /* debug builds: an out-of-order sync aborts */
  if (tls->slot == NULL || q != &tls->slot->fq ||
      (own = futures__frame_reclaim(q, fr)) < 0)
    return EINVAL; /* not this thread's newest frame */
  fr->state = FRAME_SYNCED;
  if (own) {
    /* As in futures_sync(): about to run a frame here, with a request. */
    if (unlikely(futures__frame_wanted(q)))
      share_below(tls->slot);
    rc = call(tls, fr, &res);
  } else if (futures__frame_wait(q, fr,
                                 futures__deque_bottom(&tls->slot->dq)) != 0) {
    /* A fork() child: the thief, in the parent, will not run it here. */
    futures__frame_forget(q);
    frame_closed(fr);
    if (result != NULL)
      *result = NULL;
    return ECHILD;
  } else {
    rc = fr->rc;
    res = fr->result;
  }
  frame_closed(fr);
  if (result != NULL)
    *result = res;
  return rc;
}

int
futures_sync(futures_frame_t *frame, void **result)
{
  struct futures_tls *tls = &futures__tls;
  struct frame *fr = FRAME_OF(frame);
  void *res;
  int rc;

  if (unlikely(tls->current == NULL))
    return EPERM;
  if (unlikely(fr == NULL))
    return EINVAL;
  if (likely(fr->state == FRAME_QUEUED)) {
    struct slot *sl = tls->slot;

    if (unlikely(sl == NULL || fr->owner != &sl->fq ||
                 !futures__frame_pop(&sl->fq, fr)))
      return sync_shared(tls, fr, result);
    close_frame(tls, fr);
    fr->state = FRAME_SYNCED;
    frame_closed(fr);
    if (unlikely(futures__frame_wanted(&sl->fq)))
      share_below(sl);
    rc = call(tls, fr, &res);
  } else if (fr->state == FRAME_RAN) {
    close_frame(tls, fr);
    fr->state = FRAME_SYNCED;
    rc = fr->rc;
    res = fr->result;
  } else {
    return EINVAL;
  }
  if (result != NULL)
    *result = res;
  return rc;
}
