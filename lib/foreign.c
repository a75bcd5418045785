/* SPDX-License-Identifier: MIT */
/*
 * foreign.c - layer 4: records that wait on a future from outside their
 * pool, and records with no pool that follow another future.
 *
 * A continuation whose antecedent is a task of its own pool is linked into
 * the antecedent's waiter list, and the antecedent's publisher (a worker or
 * a helper of that pool, counted by its drain) queues it (gate.c). Every
 * other wait of a pool's record comes here: a continuation of a promise, a
 * timer, a combinator or another pool's task, and a record whose body
 * returned FUTURES_FOLLOW. The thread that settles the awaited future may
 * belong to no pool, or to another, and the record's pool may be destroyed
 * meanwhile. So each wait is a callback waiter on the awaited future plus
 * a node in its pool's list s->fhead, under s->flock:
 *
 *   - the callback, in the settling thread, takes the node out of the list
 *     and counts itself in s->entering (so the drain cannot end and the
 *     pool stays alive) before it queues or settles the record;
 *   - the pool's destroy closes the list (s->fclosed) and settles every
 *     record still in it with ECANCELED.
 *
 * Exactly one of the two acts on each node. Destroy first tries to unlink
 * the callback: if it can, the callback never runs and the node is
 * destroy's alone. Else the callback is due, and n->owner decides: the
 * callback tries it first thing, destroy next. A callback that won finds
 * the list open (it unlinks the node and acts) or closed (destroy holds
 * the node: the callback marks it fired and destroy, which waits for that
 * mark, acts and frees it). A callback that lost touches neither the
 * record nor the pool, which may be gone: it drops its reference to the
 * awaited future and frees the node, which destroy no longer reads. It
 * may lose while it is still due in the very thread that destroys the
 * pool (an inline continuation that destroys a pool), which is why
 * destroy never waits for a callback that has not won.
 */
#include "foreign.h"

struct foreign {
  struct wcallback cb; /* first: on src */
  /* Protected by s->flock while in the list. */
  struct foreign *prev, *next;
  struct sched *s;
  struct future *rec; /* a reference */
  struct future *src; /* a reference */
  int kind;
  _Atomic(int) owner; /* OWNER_*: who acts on the record */
  int fired; /* protected by s->flock: a winning callback met the close */
};

#define OWNER_NONE 0
#define OWNER_CALLBACK 1
#define OWNER_DESTROY 2

/* 1 if @who won the node. Acq_rel: the loser sees nothing it needs from
 * the winner but the node's own fields, which neither writes after. */
static int
claim(struct foreign *n, int who)
{
  int expect = OWNER_NONE;

  return atomic_compare_exchange_strong_explicit(
      &n->owner, &expect, who, memory_order_acq_rel, memory_order_acquire);
}

void
futures__foreign_init(struct sched *s)
{
  futures__mutex_init(&s->flock);
  futures__cond_init(&s->fcond);
  s->fhead = NULL;
  s->fclosed = 0;
}

void
futures__foreign_fini(struct sched *s)
{
  futures__cond_destroy(&s->fcond);
  futures__mutex_destroy(&s->flock);
}

static void
unlink_locked(struct sched *s, struct foreign *n)
{
  FUTURES_ASSERT_OWNER(&s->flock);
  if (n->prev != NULL)
    n->prev->next = n->next;
  else
    s->fhead = n->next;
  if (n->next != NULL)
    n->next->prev = n->prev;
}

/* Ends the wait of @rec: its awaited future has settled with @code and @result (or, at
 * destroy, ECANCELED). Uses up the node's reference to the record. */
static void
end_wait(struct future *rec, int kind, int code, void *result,
         futures_drop_fn rdrop, int destroying)
{
  if (kind == FOREIGN_READY) {
    if (destroying)
      (void)futures__gate_cancel(rec);
    /* Queues it, or drops the reference if it was cancelled. */
    futures__gate_ready(rec);
  } else {
    futures__gate_finish(rec, code, result, rdrop);
    futures__record_unref(rec);
  }
}

static void
fired(struct wcallback *cb, struct future *src)
{
  struct foreign *n = (struct foreign *)(void *)cb;
  struct sched *s = n->s;
  void *result = NULL;
  int code;

  if (s != NULL && !claim(n, OWNER_CALLBACK)) {
    /* Destroy won and settled the record; it left us the node. */
    futures__record_unref(src);
    FUTURES_FREE(n);
    return;
  }
  if (s != NULL) {
    futures__mutex_lock(&s->flock);
    if (s->fclosed) {
      /* Destroy took the node from the list: it acts. */
      n->fired = 1;
      futures__cond_broadcast(&s->fcond);
      futures__mutex_unlock(&s->flock);
      return;
    }
    unlink_locked(s, n);
    futures__sched_enter(s);
    futures__mutex_unlock(&s->flock);
  }
  {
    futures_drop_fn rdrop = NULL;

    /* A follower takes the result on, with its destructor; a continuation
     * reads it when it runs. */
    if (n->kind == FOREIGN_FOLLOW)
      code = futures__record_outcome_move(src, &result, &rdrop);
    else
      code = src->code;
    end_wait(n->rec, n->kind, code, result, rdrop, 0);
  }
  if (s != NULL)
    futures__sched_leave(s);
  futures__record_unref(src);
  FUTURES_FREE(n);
}

int
futures__foreign_add(struct sched *s, struct future *rec, struct future *src,
                     int kind)
{
  struct foreign *n = FUTURES_ALLOC(struct foreign);

  if (n == NULL)
    return ENOMEM;
  n->cb.fn = fired;
  n->s = s;
  n->rec = rec;
  n->src = src;
  n->kind = kind;
  FUTURES_ATOMIC_VAR(n->owner);
  atomic_init(&n->owner, OWNER_NONE);
  n->fired = 0;
  n->prev = NULL;
  if (s != NULL) {
    futures__mutex_lock(&s->flock);
    if (s->fclosed) {
      futures__mutex_unlock(&s->flock);
      FUTURES_FREE(n);
      return ESHUTDOWN;
    }
    n->next = s->fhead;
    if (s->fhead != NULL)
      s->fhead->prev = n;
    s->fhead = n;
    futures__mutex_unlock(&s->flock);
  }
  if (!futures__record_add_callback(src, &n->cb))
    futures__record_callback_now(&n->cb, src);
  return 0;
}

void
futures__foreign_close(struct sched *s)
{
  struct foreign *n, *next;

  /* Counted: what we settle may queue continuations of this pool. */
  futures__sched_enter(s);
  futures__mutex_lock(&s->flock);
  s->fclosed = 1;
  n = s->fhead;
  s->fhead = NULL;
  futures__mutex_unlock(&s->flock);
  for (; n != NULL; n = next) {
    struct future *rec = n->rec, *src = n->src;
    int kind = n->kind;

    next = n->next;
    if (futures__record_remove_callback(src, &n->cb)) {
      /* Its callback will never run: the node is ours alone. */
      end_wait(rec, kind, ECANCELED, NULL, NULL, 1);
      futures__record_unref(src);
      FUTURES_FREE(n);
    } else if (claim(n, OWNER_DESTROY)) {
      /* Due in a settling thread, perhaps this one: it will lose, then
       * drop src and free the node, which is not read from here on. */
      end_wait(rec, kind, ECANCELED, NULL, NULL, 1);
    } else {
      /* Its callback won, in another thread, and will find the list
       * closed. */
      futures__mutex_lock(&s->flock);
      while (!n->fired)
        futures__cond_wait(&s->fcond, &s->flock); /* predicate: fired */
      futures__mutex_unlock(&s->flock);
      end_wait(rec, kind, ECANCELED, NULL, NULL, 1);
      futures__record_unref(src);
      FUTURES_FREE(n);
    }
  }
  futures__sched_leave(s);
}
