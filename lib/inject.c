/* SPDX-License-Identifier: MIT */
/*
 * inject.c - layer 2: the injection queue (inject.h).
 */
#include "inject.h"

void
futures__inject_init(struct inject *q)
{
  FUTURES_ATOMIC_VAR(q->head);
  FUTURES_ATOMIC_VAR(q->tail);
  FUTURES_ATOMIC_VAR(q->busy);
  FUTURES_ATOMIC_VAR(q->stub.u.q.next);
  atomic_init(&q->stub.u.q.next, (struct future *)NULL);
  atomic_init(&q->head, &q->stub);
  atomic_init(&q->tail, &q->stub);
  atomic_init(&q->busy, 0);
}

void
futures__inject_push(struct inject *q, struct future *first,
                     struct future *last)
{
  struct future *prev;

  atomic_store_explicit(&last->u.q.next, (struct future *)NULL,
                        memory_order_relaxed);
  /* Seq_cst: the exchange also orders this push before the producer's
   * later look for sleeping workers, and before the end of its admission
   * (scheduler.c). */
  prev = atomic_exchange_explicit(&q->head, last, memory_order_seq_cst);
  /* Release: the consumer that follows this link sees the records. */
  atomic_store_explicit(&prev->u.q.next, first, memory_order_release);
}

int
futures__inject_trylock(struct inject *q)
{
  /* Acquire: the previous consumer's updates of tail are visible. A plain
   * load first, so that a busy queue costs no write to its line. */
  if (atomic_load_explicit(&q->busy, memory_order_relaxed) != 0 ||
      atomic_exchange_explicit(&q->busy, 1, memory_order_acquire) != 0)
    return 0;
  FUTURES_HAPPENS_AFTER(&q->busy);
  return 1;
}

void
futures__inject_unlock(struct inject *q)
{
  FUTURES_HAPPENS_BEFORE(&q->busy);
  atomic_store_explicit(&q->busy, 0, memory_order_release);
}

struct future *
futures__inject_pop(struct inject *q)
{
  struct future *tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  struct future *next =
      atomic_load_explicit(&tail->u.q.next, memory_order_acquire);
  struct future *head;

  if (tail == &q->stub) {
    if (next == NULL)
      return NULL;
    atomic_store_explicit(&q->tail, next, memory_order_relaxed);
    tail = next;
    next = atomic_load_explicit(&next->u.q.next, memory_order_acquire);
  }
  if (next != NULL) {
    atomic_store_explicit(&q->tail, next, memory_order_relaxed);
    return tail;
  }
  head = atomic_load_explicit(&q->head, memory_order_acquire);
  if (tail != head)
    return NULL; /* a producer has exchanged head but not linked yet */
  /* tail is the last record: put the stub behind it so it can leave. */
  futures__inject_push(q, &q->stub, &q->stub);
  next = atomic_load_explicit(&tail->u.q.next, memory_order_acquire);
  if (next != NULL) {
    atomic_store_explicit(&q->tail, next, memory_order_relaxed);
    return tail;
  }
  return NULL;
}

int
futures__inject_nonempty(struct inject *q)
{
  struct future *tail = atomic_load_explicit(&q->tail, memory_order_acquire);
  struct future *head = atomic_load_explicit(&q->head, memory_order_seq_cst);

  return !(tail == &q->stub && head == &q->stub);
}
