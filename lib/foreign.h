/* SPDX-License-Identifier: MIT */
/*
 * foreign.h - layer 4: records that wait on a future from outside their
 * pool, and records with no pool that follow another future (foreign.c).
 */
#ifndef FUTURES_FOREIGN_H
#define FUTURES_FOREIGN_H

#include "gate.h"

/* What happens to the waiting record once the future it waits on settles. */
#define FOREIGN_READY 1  /* a DEFERRED continuation: queue it on its pool */
#define FOREIGN_FOLLOW 2 /* a RUNNING record: settle it as @src settled */

/*
 * Makes the record @rec wait on @src. @s is @rec's pool, or NULL for a
 * record with no pool (then only FOREIGN_FOLLOW). With a pool, the wait is
 * registered with it, so that its destroy can end the wait: the record is
 * settled with ECANCELED if @src has not settled by then.
 *
 * Consumes, on success, one reference to @rec and one to @src. 0;
 * ENOMEM or ESHUTDOWN (the pool's destroy has begun): nothing consumed,
 * nothing done. If @src has settled already, the wait ends in this thread
 * (futures__record_callback_now()).
 *
 * The caller keeps @s alive across the call: a worker or helper of it, or
 * a thread counted in s->entering.
 */
int futures__foreign_add(struct sched *s, struct future *rec,
                         struct future *src, int kind);

/*
 * The pool's destroy, after futures__sched_stop() and before the drain:
 * refuses every later futures__foreign_add() and settles with ECANCELED
 * every record still waiting. A wait that ends in another thread at this
 * moment is waited for.
 */
void futures__foreign_close(struct sched *s);

void futures__foreign_init(struct sched *s);
void futures__foreign_fini(struct sched *s);

#endif /* FUTURES_FOREIGN_H */
