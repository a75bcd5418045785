/* SPDX-License-Identifier: MIT */
/*
 * pin.h - layer 2: hazard pins.
 *
 * A pin keeps a pool's memory (its scheduler) alive while the calling
 * thread uses it, without making the pool wait for anything else: destroy
 * frees the pool only once no thread has it pinned (pin.c's
 * futures__pin_wait_unpinned(), after the drain). A pin is one entry of a
 * global array, so taking one needs no access to the pool itself.
 */
#ifndef FUTURES_PIN_H
#define FUTURES_PIN_H

#include "record.h"

/*
 * Publishes a pin on @s, then checks that @f (a record of @s) is not DONE,
 * which proves that the pool has not finished draining, so destroy will
 * see the pin and wait for it. Returns a pin handle, or -1 if @f is DONE
 * (then nothing is pinned).
 */
int futures__pin(struct sched *s, struct future *f);
/* Publishes a pin on @s with no check: only for a thread that knows @s is
 * alive now (it is counted in @s, so the drain cannot end), and must touch
 * it after it stops being counted. */
int futures__pin_held(struct sched *s);
void futures__unpin(int pin);
/* Destroy, after the drain: waits until no thread has @s pinned. */
void futures__pin_wait_unpinned(struct sched *s);
void futures__pin_global_init(void);

#endif /* FUTURES_PIN_H */
