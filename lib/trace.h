/* SPDX-License-Identifier: MIT */
/*
 * trace.h - layer 3: the timeline of a pool created with
 * FUTURES_POOL_TRACE (trace.c).
 *
 * A traced pool's records carry the times tail (FUTURES_POOL_TRACE implies
 * FUTURES_POOL_TIMING) and a struct future_tracing after it. Every thread
 * that runs, cancels or joins the pool's records writes fixed-size events
 * into a ring of its own, registered with the pool's trace and freed with
 * the pool; futures_pool_trace_write() turns the rings into Chrome
 * trace-event JSON. Every hook below is reached only inside a branch that
 * the untraced path already takes on F_TIMED, or behind one branch on it.
 */
#ifndef FUTURES_TRACE_H
#define FUTURES_TRACE_H

#include "scheduler.h"

/* Creates @s's trace (0 or ENOMEM); FUTURES_TRACE_EVENTS in the
 * environment sets the ring size, in events per thread. */
int futures__trace_create(struct sched *s);
/* Drops the pool's reference to @s's trace (pool_free(), no task left);
 * the rings are freed with the last reference, which a drawn join still
 * running may hold. */
void futures__trace_destroy(struct sched *s);

/* In a fork() child: forgets the thread's cached ring and id. */
void futures__trace_atfork_child(void);

/* Writes @s's trace to @fd as Chrome trace-event JSON: 0, ENOMEM, or the
 * errno of a failed write (EIO for a write of 0 bytes). */
int futures__trace_write(struct sched *s, int fd);

/* A record of @s was made in this thread (submit, then): numbers it and
 * names this thread as its submitter. */
void futures__trace_submit(struct sched *s, struct future *f);
/* The body of @f, a record of @s, ended with @code (FUTURES_FOLLOW: it
 * follows a future, outcome unknown yet), or @f was settled unrun
 * (@unrun). Its times tail is complete. Called before it is published. */
void futures__trace_run(struct sched *s, struct future *f, int code, int helped,
                        int unrun);

/* A join (future_get(), futures_join_all()) on @n futures: begin finds
 * the first traced record among them that has not finished and takes a
 * reference to its pool's trace (nothing to draw if none); end writes the
 * slice into that trace and drops the reference. No pin or lock is held
 * between them, so destroy never waits for a join (trace.c). */
#define TRACE_JOIN_IDS 4
struct trace_join {
  struct trace *t; /* NULL: nothing to draw */
  long long start;
  size_t n;
  unsigned long long ids[TRACE_JOIN_IDS];
};
void futures__trace_join_begin(struct trace_join *j, future_t *const fs[],
                               size_t n);
void futures__trace_join_end(struct trace_join *j);

/* 1 if @f is a record whose join may be drawn (a timed one: begin then
 * tells a traced pool's from a TIMING-only pool's by its number, without
 * a pin): one branch on a word the join reads anyway. */
static inline int
futures__trace_maybe(const future_t *f)
{
  return unlikely(
      atomic_load_explicit(&((struct future *)f)->state, memory_order_relaxed) &
      F_TIMED);
}

#endif /* FUTURES_TRACE_H */
