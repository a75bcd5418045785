/* SPDX-License-Identifier: MIT */
/*
 * scheduler.c - layer 3: where a record goes and where a worker finds it.
 *
 * The life of a task.
 *
 *  1. Submit (submit.c) reserves a place if the pool is bounded, admits the
 *     caller (futures__sched_admit: see "Admission" below), allocates and
 *     fills a record (record.c) and hands it here.
 *  2. futures__sched_submit() queues it: into the caller's own deque if the
 *     caller is running one of the pool's tasks (a worker, or an outside
 *     thread running a task in place with a borrowed slot), whatever its
 *     priority, else into the caller's own submission ring in this pool
 *     (ring.c), else (no ring could be allocated) into the injection queue
 *     (inject.c); a high or low priority task from a thread with no slot
 *     goes to the pool's queue of its level instead ("Priorities" at the
 *     end of this file). Then,
 *     if a worker is parked and none is spinning, it wakes one; if one is
 *     spinning, it leaves the waking to it, with a second look when that
 *     spinner leaves at the same moment ("Waking" below).
 *  3. A worker (worker.c) asks futures__sched_find(): its own deque, newest
 *     first; else one record from the injection queue or from a ring, oldest
 *     first, taking the rings in turn; else a steal, oldest first, from
 *     another slot's deque. Taking one record at a time from a ring keeps
 *     one outside thread's tasks in submission order: a task starts only
 *     after every older one from the same thread has been taken, so at most
 *     nworkers - 1 older ones can still be starting elsewhere.
 *  4. The worker offers the record to the gate (gate.c), which runs it if
 *     it is still QUEUED; a waiter may have run it already (help.c claims
 *     a task in place, or takes it back from its own ring), or a canceller
 *     settled it, in which case the gate only drops the queue's reference.
 *  5. When nothing is found the worker spins a little, then parks on the
 *     pool's condition variable until a submitter grants it a token.
 *
 * Waking without a fence on the submit path. A parking worker counts
 * itself in sched->sleepers, then issues the heavy barrier (a membarrier
 * system call, which makes every running thread of the process execute a
 * full memory barrier), then looks for work one last time. A submitter
 * publishes its record, then reads sched->sleepers with a plain load after
 * a compiler barrier. Whatever the interleaving, either the worker's last
 * look sees the record, or the submitter's load sees the worker. So the
 * common submit pays one load, and only the rare park pays the system
 * call. Where the kernel lacks membarrier, both sides use full fences.
 * A spinning worker issues no heavy barrier when it leaves the spin, so a
 * submit that sees a spinner and a parked worker at once pays a full fence
 * and looks again (wake_after_publish). Any thread that publishes work, a
 * thief moving stolen records into its own deque included, wakes through
 * wake_after_publish().
 *
 * Admission. A submit that passes the shutdown check must either have its
 * task run or not be lost: destroy must not end the drain between the
 * check and the publication. An outside submitter sets its ring's
 * admitting flag, issues the light barrier, then reads sched->stopping;
 * destroy stores stopping, issues the heavy barrier, then waits until no
 * ring is admitting before it lets the drain end (admission_closed). The
 * same handshake as waking: either the submitter sees stopping (and
 * returns ESHUTDOWN), or destroy sees its flag (and waits for the
 * publication). Slow paths with no ring count themselves in
 * sched->entering instead, and the drain also waits for that to be 0.
 *
 * The drain ends (futures__sched_wait_drained) when the pool is stopping,
 * admission is closed, every worker is parked, no helper or entering
 * thread is left, and no queue holds a record, read in that order: a
 * helper publishes its work before it stops counting itself, so a drain
 * that saw it gone also sees its work.
 */
#include "foreign.h"
#include "pin.h"
#include "scheduler.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Initial deque capacity (it doubles as needed). */
#ifndef DEQUE_INIT
#define DEQUE_INIT 256
#endif
/* How long an idle worker spins before it parks. */
#ifndef IDLE_SPIN_NS
#define IDLE_SPIN_NS 50000
#endif
/* Looks for work between two reads of the clock (a power of 2). */
#ifndef IDLE_LOOKS
#define IDLE_LOOKS 8
#endif
/* Most records a thief takes from one deque at once (see steal_any). */
#define STEAL_BATCH 8
/* Most records a worker of a FUTURES_POOL_BATCH pool takes from a ring at
 * once (futures.h, "Order"). */
#define RING_BATCH 8

FUTURES_TLS struct futures_tls futures__tls;

/* Atomic: the last id given to a scheduler (0 is none). */
static FUTURES_GLOBAL(_Atomic(unsigned long long), last_sched_id);
static FUTURES_GLOBAL(pthread_key_t, preg_key);

/* Priorities: defined at the end of this file. */
static void prio_init(struct sched *s);
static int prio_visible(struct sched *s);
static struct future *prio_find(struct slot *me);
static struct future *pq_take(struct sched *s, int q);

/* ------------------------------------------------------------ producers */

static void
producer_unref(struct producer *p)
{
  /* Acq_rel: the last one to let go sees every write of the others. */
  if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
    futures__ring_fini(&p->ring);
    FUTURES_FREE(p);
  }
}

/* The owning thread lets go of @p (it exits, or gives the pair up). */
static void
producer_disown(struct producer *p)
{
  /* Release: our producer-side writes happen before an adopter's. */
  FUTURES_HAPPENS_BEFORE(&p->owned);
  atomic_store_explicit(&p->owned, 0, memory_order_release);
  producer_unref(p);
}

/* Thread exit: lets go of every ring this thread owns. */
static void
preg_release_all(void *unused)
{
  struct futures_tls *tls = &futures__tls;

  (void)unused;
  for (unsigned i = 0; i < FUTURES_PREG_SLOTS; i++) {
    if (tls->preg[i].sched_id != 0)
      producer_disown(tls->preg[i].p);
    tls->preg[i].sched_id = 0;
  }
}

static struct producer *
producer_new(void)
{
  struct producer *p = FUTURES_ALLOC(struct producer);

  if (p == NULL)
    return NULL;
  if (futures__ring_init(&p->ring) != 0) {
    FUTURES_FREE(p);
    return NULL;
  }
  FUTURES_ATOMIC_VAR(p->admitting);
  FUTURES_ATOMIC_VAR(p->owned);
  FUTURES_ATOMIC_VAR(p->refs);
  FUTURES_ATOMIC_VAR(p->orphaned);
  atomic_init(&p->admitting, 0);
  atomic_init(&p->owned, 1);
  atomic_init(&p->orphaned, 0);
  atomic_init(&p->refs, 2); /* the pool's list and the owner */
  p->next = NULL;
  return p;
}

/* Finds an unowned producer of @s to adopt, or makes one. */
static struct producer *
producer_attach(struct sched *s)
{
  struct producer *p;

  for (p = futures__sched_producers(s); p != NULL; p = p->next) {
    int unowned = 0;

    /* Acquire: the previous owner's producer-side fields. */
    if (atomic_load_explicit(&p->owned, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&p->owned, &unowned, 1,
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      FUTURES_HAPPENS_AFTER(&p->owned);
      atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
      return p;
    }
  }
  p = producer_new();
  if (p == NULL)
    return NULL;
  p->next = atomic_load_explicit(&s->producers, memory_order_relaxed);
  FUTURES_HAPPENS_BEFORE(&s->producers);
  /* Release: a worker that finds p in the list sees it initialised. */
  while (!atomic_compare_exchange_weak_explicit(&s->producers, &p->next, p,
                                                memory_order_release,
                                                memory_order_relaxed))
    ;
  return p;
}

/*
 * A pair of the thread's table to (re)use: a free one; else one whose pool
 * is gone; else one whose ring is empty, so that giving it up cannot
 * reorder the thread's tasks there (a later submit to that pool may get
 * another ring); else, with tasks pending in more pools than the table
 * holds, the next in turn.
 */
static unsigned
preg_free_pair(struct futures_tls *tls)
{
  unsigned i;

  for (i = 0; i < FUTURES_PREG_SLOTS; i++)
    if (tls->preg[i].sched_id == 0)
      return i;
  for (i = 0; i < FUTURES_PREG_SLOTS; i++)
    if (atomic_load_explicit(&tls->preg[i].p->orphaned, memory_order_relaxed))
      return i;
  for (i = 0; i < FUTURES_PREG_SLOTS; i++)
    if (!futures__ring_nonempty(&tls->preg[i].p->ring))
      return i;
  return tls->preg_victim++ % FUTURES_PREG_SLOTS;
}

/* The calling thread's ring in @s, registering it on first use; NULL if
 * memory ran out. */
static struct producer *
producer_get(struct sched *s)
{
  struct futures_tls *tls = &futures__tls;
  struct producer *p;
  unsigned i;

  for (i = 0; i < FUTURES_PREG_SLOTS; i++)
    if (tls->preg[i].sched_id == s->id)
      return tls->preg[i].p;
  if (!tls->preg_keyed) {
    if (pthread_setspecific(preg_key, tls) != 0)
      return NULL;
    tls->preg_keyed = 1;
  }
  p = producer_attach(s);
  if (p == NULL)
    return NULL;
  i = preg_free_pair(tls);
  if (tls->preg[i].sched_id != 0)
    producer_disown(tls->preg[i].p);
  tls->preg[i].sched_id = s->id;
  tls->preg[i].p = p;
  return p;
}

struct ring *
futures__sched_my_ring(struct sched *s)
{
  struct futures_tls *tls = &futures__tls;

  for (unsigned i = 0; i < FUTURES_PREG_SLOTS; i++)
    if (tls->preg[i].sched_id == s->id)
      return &tls->preg[i].p->ring;
  return NULL;
}

/* ------------------------------------------------------------ life */

int
futures__sched_global_init(void)
{
  FUTURES_ATOMIC_RANGE(&last_sched_id, sizeof(last_sched_id));
  return pthread_key_create(&preg_key, preg_release_all);
}

void
futures__sched_atfork_child(void)
{
  /* The pairs name pools of the parent; its rings are not ours. */
  memset(futures__tls.preg, 0, sizeof(futures__tls.preg));
}

/* Frees the slots, the first @n of which have a deque. */
static void
fini_slots(struct sched *s, unsigned n)
{
  if (s->slots == NULL)
    return;
  for (unsigned i = 0; i < n; i++) {
    futures__deque_fini(&s->slots[i].dq);
    futures__frame_fini(&s->slots[i].fq);
  }
  FUTURES_PLAIN_RANGE(s->slots, s->nslots * sizeof(struct slot));
  FUTURES_FREE_ARRAY(s->slots, s->nslots);
  s->slots = NULL;
}

/* A slot, initialised field by field (it holds atomics: no memset). */
static int
slot_init(struct slot *sl, struct sched *s, unsigned i)
{
  FUTURES_ATOMIC_VAR(sl->taken);
  FUTURES_ATOMIC_VAR(sl->submitted);
  FUTURES_ATOMIC_VAR(sl->started);
  FUTURES_ATOMIC_VAR(sl->completed);
  FUTURES_ATOMIC_VAR(sl->stolen);
  FUTURES_ATOMIC_VAR(sl->helped);
  atomic_init(&sl->taken, 0);
  atomic_init(&sl->submitted, 0);
  atomic_init(&sl->started, 0);
  atomic_init(&sl->completed, 0);
  atomic_init(&sl->stolen, 0);
  atomic_init(&sl->helped, 0);
  sl->sched = s;
  sl->index = i;
  sl->is_worker = i < s->nworkers;
  sl->rng = 0x9e3779b97f4a7c15ULL * (i + 1);
  sl->cursor = NULL;
  sl->tick = 0;
  futures__frame_init(&sl->fq, s->gen);
  if (futures__deque_init(&sl->dq, DEQUE_INIT) != 0) {
    futures__frame_fini(&sl->fq);
    return ENOMEM;
  }
  return 0;
}

int
futures__sched_init(struct sched *s, unsigned nworkers)
{
  FUTURES_ATOMIC_VAR(s->producers);
  FUTURES_ATOMIC_VAR(s->stopping);
  FUTURES_ATOMIC_VAR(s->sleepers);
  FUTURES_ATOMIC_VAR(s->spinners);
  FUTURES_ATOMIC_VAR(s->room_waiters);
  FUTURES_ATOMIC_VAR(s->helpers);
  FUTURES_ATOMIC_VAR(s->entering);
  FUTURES_ATOMIC_VAR(s->queued);
  FUTURES_ATOMIC_VAR(s->ext_submitted);
  FUTURES_ATOMIC_VAR(s->ext_started);
  FUTURES_ATOMIC_VAR(s->ext_completed);
  FUTURES_ATOMIC_VAR(s->ext_helped);
  FUTURES_ATOMIC_VAR(s->cancelled);
  atomic_init(&s->producers, (struct producer *)NULL);
  atomic_init(&s->stopping, STOP_NONE);
  atomic_init(&s->sleepers, 0);
  atomic_init(&s->spinners, 0);
  atomic_init(&s->room_waiters, 0);
  atomic_init(&s->helpers, 0);
  atomic_init(&s->entering, 0);
  atomic_init(&s->queued, 0);
  atomic_init(&s->ext_submitted, 0);
  atomic_init(&s->ext_started, 0);
  atomic_init(&s->ext_completed, 0);
  atomic_init(&s->ext_helped, 0);
  atomic_init(&s->cancelled, 0);
  prio_init(s);
  s->nworkers = nworkers;
  s->nslots = nworkers < 2 ? nworkers + 2 : 2 * nworkers;
  s->gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  /* Relaxed: ids need only be distinct. */
  s->id = atomic_fetch_add_explicit(&last_sched_id, 1, memory_order_relaxed) +
          1;
  s->nidle = s->tokens = s->started = 0;
  s->epoch = 0;
  s->admission_closed = s->drained = s->exit_now = 0;
  futures__inject_init(&s->inj);
  futures__mutex_init(&s->lock);
  futures__cond_init(&s->wake);
  futures__cond_init(&s->room);
  futures__cond_init(&s->done);
  futures__foreign_init(s);
  s->slots = FUTURES_ALLOC_ARRAY(struct slot, s->nslots);
  if (s->slots == NULL) {
    s->nslots = 0;
    return ENOMEM;
  }
  for (unsigned i = 0; i < s->nslots; i++) {
    if (slot_init(&s->slots[i], s, i) != 0) {
      /* Only these have a deque to free; the array is freed whole. */
      fini_slots(s, i);
      return ENOMEM;
    }
  }
  return 0;
}

void
futures__sched_fini(struct sched *s)
{
  struct producer *p, *next;

  for (p = futures__sched_producers(s); p != NULL; p = next) {
    next = p->next;
    /* Relaxed: read by the owner only, to choose a pair to give up. */
    atomic_store_explicit(&p->orphaned, 1, memory_order_relaxed);
    producer_unref(p);
  }
  fini_slots(s, s->nslots);
  futures__foreign_fini(s);
  futures__mutex_destroy(&s->plock);
  futures__cond_destroy(&s->done);
  futures__cond_destroy(&s->room);
  futures__cond_destroy(&s->wake);
  futures__mutex_destroy(&s->lock);
}

/* ------------------------------------------------------------ waking */

/* Hands one parked worker a wake token, if one is parked without one. */
static void
wake_one(struct sched *s)
{
  futures__mutex_lock(&s->lock);
  if (s->nidle > s->tokens) {
    s->tokens++;
    atomic_fetch_sub_explicit(&s->sleepers, 1, memory_order_relaxed);
    /* Wakes one worker waiting in park() for a token. */
    futures__cond_signal(&s->wake);
  }
  futures__mutex_unlock(&s->lock);
}

void
futures__sched_poke(struct sched *s)
{
  futures__mutex_lock(&s->lock);
  s->epoch++;
  /* Wakes every worker in park() (the epoch changed) and destroy in
   * futures__sched_wait_drained(): the drain may be over. */
  futures__cond_broadcast(&s->wake);
  futures__cond_broadcast(&s->done);
  futures__mutex_unlock(&s->lock);
}

/* 1 if a worker is parked without a token and none is spinning (a
 * spinner that leaves passes the wake-up on: leave_spin()). Relaxed: the
 * callers order these loads (see wake_after_publish()). */
static int
needs_wake(struct sched *s)
{
  return atomic_load_explicit(&s->sleepers, memory_order_relaxed) != 0 &&
         atomic_load_explicit(&s->spinners, memory_order_relaxed) == 0;
}

/*
 * After publishing work: wake a parked worker if one has no token and no
 * worker is spinning. A spinner that leaves (it found work) may not see
 * ours, whose store can still sit in this thread's store buffer when the
 * light barrier is only a compiler barrier; when we leave ours to a
 * spinner while a worker is parked, a full fence and a second look settle
 * it: either we see that the spinner left and wake the parked worker, or
 * the spinner's own look after its fence in leave_spin() sees our work and
 * wakes it (or sees another spinner, which then does the same when it
 * leaves). The second look may wake a worker for work a spinner has
 * already taken: a spurious wake, which costs a look and a spin, never a
 * lost one.
 */
static void
wake_after_publish(struct sched *s)
{
  futures__light_barrier();
  /* Relaxed: ordered by the barrier pair (see the top of this file). */
  if (likely(atomic_load_explicit(&s->sleepers, memory_order_relaxed) == 0))
    return; /* nobody parked without a token */
  if (atomic_load_explicit(&s->spinners, memory_order_relaxed) == 0) {
    wake_one(s);
    return;
  }
  /* Seq_cst fence: pairs with the fence in leave_spin(). */
  atomic_thread_fence(memory_order_seq_cst);
  if (needs_wake(s))
    wake_one(s);
}

/* Normal work in a ring or a deque. */
static int
normal_queued_outside_inject(struct sched *s)
{
  struct producer *p;

  for (p = futures__sched_producers(s); p != NULL; p = p->next)
    if (futures__ring_nonempty(&p->ring))
      return 1;
  for (unsigned i = 0; i < s->nslots; i++)
    if (futures__deque_size(&s->slots[i].dq) > 0)
      return 1;
  return 0;
}

/* Normal work visible anywhere: any queue but the priority queues. */
static int
normal_visible(struct sched *s)
{
  return futures__inject_nonempty(&s->inj) ||
         normal_queued_outside_inject(s);
}

int
futures__sched_work_visible(struct sched *s)
{
  return normal_visible(s) || prio_visible(s);
}

/* 1 if a slot shares a frame. An idle worker's looks need this (its spin
 * and its last look before it sleeps), and so does wake_chain(), which
 * passes a wake-up on while frames stay shared (a share publishes several;
 * its owner wakes one worker: futures__sched_frames_published()). Frames
 * exist only while a task runs, so the drain cannot end with one. */
static int
frames_visible(struct sched *s)
{
  for (unsigned i = 0; i < s->nslots; i++)
    if (futures__frame_visible(&s->slots[i].fq))
      return 1;
  return 0;
}

/* An idle worker asks every other slot's owner to share frames. */
static void
ask_frames(struct slot *me)
{
  struct sched *s = me->sched;

  for (unsigned i = 0; i < s->nslots; i++)
    if (&s->slots[i] != me)
      futures__frame_ask(&s->slots[i].fq);
}

/* ------------------------------------------------------------ queueing */

int
futures__sched_admit(struct sched *s, struct admission *a)
{
  int st;

  a->p = NULL;
  a->entered = 0;
  if (unlikely(s->gen != atomic_load_explicit(&futures__fork_gen,
                                              memory_order_relaxed)))
    return ECHILD;
  if (futures__sched_in_task(s)) {
    /* Our task keeps the drain from ending; sub-tasks of accepted work
     * are part of a drain, but cancel mode takes nothing new. */
    st = atomic_load_explicit(&s->stopping, memory_order_acquire);
    return st == STOP_CANCEL ? ESHUTDOWN : 0;
  }
  a->p = producer_get(s);
  if (unlikely(a->p == NULL)) {
    /* No ring: count ourselves the slow way. */
    futures__sched_enter(s);
    a->entered = 1;
    st = atomic_load_explicit(&s->stopping, memory_order_seq_cst);
  } else {
    /* Relaxed store and load, ordered by the barrier pair (see
     * "Admission" at the top of this file). */
    atomic_store_explicit(&a->p->admitting, 1, memory_order_relaxed);
    futures__light_barrier();
    st = atomic_load_explicit(&s->stopping, memory_order_relaxed);
  }
  if (unlikely(st != STOP_NONE))
    return ESHUTDOWN;
  FUTURES_TP(FUTURES_TP_ADMITTED, s);
  return 0;
}

void
futures__sched_admit_end(struct sched *s, struct admission *a)
{
  if (a->p != NULL) {
    FUTURES_HAPPENS_BEFORE(&a->p->admitting);
    /* Release: destroy, which waits for 0, then sees what we queued. */
    atomic_store_explicit(&a->p->admitting, 0, memory_order_release);
  }
  if (a->entered)
    futures__sched_leave(s);
  a->p = NULL;
  a->entered = 0;
}

void
futures__sched_admit_hold(struct sched *s, struct admission *a)
{
  if (a->entered)
    return;
  futures__sched_enter(s);
  futures__sched_admit_end(s, a);
  a->entered = 1;
}

void
futures__sched_enter(struct sched *s)
{
  /* Seq_cst: before our later look at stopping or at a record's state;
   * the drain reads this count before it looks for work. */
  atomic_fetch_add_explicit(&s->entering, 1, memory_order_seq_cst);
}

void
futures__sched_leave(struct sched *s)
{
  /* Once we stop counting, destroy may end the drain and free the pool:
   * the pin keeps it alive for the poke below. */
  int pin = futures__pin_held(s);

  /* Seq_cst: after the work we queued, so that a drain that sees 0 sees
   * that work too. */
  if (atomic_fetch_sub_explicit(&s->entering, 1, memory_order_seq_cst) ==
          1 &&
      atomic_load_explicit(&s->stopping, memory_order_seq_cst) != STOP_NONE)
    futures__sched_poke(s);
  futures__unpin(pin);
}

/* Queues a chain first..last on the injection queue and wakes if needed. */
static void
inject(struct sched *s, struct future *first, struct future *last)
{
#if FUTURES_ANNOTATE
  for (struct future *f = first;; f = atomic_load_explicit(
                                       &f->u.q.next, memory_order_relaxed)) {
    FUTURES_HAPPENS_BEFORE(&f->state); /* publication of the record */
    if (f == last)
      break;
  }
#endif
  futures__inject_push(&s->inj, first, last);
  wake_after_publish(s);
}

void
futures__sched_push(struct sched *s, struct future *f)
{
  struct slot *sl = futures__sched_my_slot(s);

  FUTURES_HAPPENS_BEFORE(&f->state); /* publication of the record */
  if (sl != NULL && futures__deque_push(&sl->dq, f) == 0)
    wake_after_publish(s);
  else
    inject(s, f, f);
}

void
futures__sched_hand_back(struct slot *sl)
{
  struct future *f;

  /* Look first: a pop writes the deque's bottom, which idle workers keep
   * reading. */
  while (futures__deque_size(&sl->dq) > 0 &&
         (f = futures__deque_pop(&sl->dq, 0)) != NULL)
    inject(sl->sched, f, f);
}

void
futures__sched_submit(struct sched *s, struct admission *a,
                      struct future *const f[], size_t n)
{
  struct slot *sl = futures__sched_my_slot(s);
  struct producer *p = a->p;

#if FUTURES_ANNOTATE
  for (size_t i = 0; i < n; i++)
    FUTURES_HAPPENS_BEFORE(&f[i]->state); /* publication of the record */
#endif
  if (sl != NULL) {
    futures__sched_count_submits(s, n);
    for (size_t i = 0; i < n; i++)
      if (unlikely(futures__deque_push(&sl->dq, f[i]) != 0))
        inject(s, f[i], f[i]);
    wake_after_publish(s);
    return;
  }
  /* An outside thread running one of our tasks in place without a slot
   * was admitted without its ring: use it now. */
  if (p == NULL && !a->entered)
    p = producer_get(s);
  /* The ring's tail counts what goes through it. */
  if (likely(p != NULL) && likely(futures__ring_push(&p->ring, f, n) == 0)) {
    wake_after_publish(s);
    return;
  }
  /* No ring, or it could not grow: the injection queue never fails. */
  futures__sched_count_submits(s, n);
  for (size_t i = 0; i + 1 < n; i++)
    atomic_store_explicit(&f[i]->u.q.next, f[i + 1], memory_order_relaxed);
  inject(s, f[0], f[n - 1]);
}

/* ------------------------------------------------------------ finding */

/* 1 once the pool has seen a task of a priority other than normal: the
 * one branch a pool that never does pays per look. Relaxed: a worker that
 * sees the queues' work through pq_len (seq_cst) sees the flag too, since
 * the submitter set it first. */
static inline int
prio_on(struct sched *s)
{
  return atomic_load_explicit(&s->prio_seen, memory_order_relaxed);
}

/*
 * Records a worker of a FUTURES_POOL_BATCH pool took from a ring with the
 * one it starts now: into its own deque, newest first, so that its own
 * pops take them oldest first. The deque was empty (a look takes from the
 * rings only after the worker's own pop failed), so at most RING_BATCH - 1
 * taken records wait in any worker's deque; thieves may take them from
 * the other end. While they moved they were in no queue, as a thief's
 * stolen records are (steal_any()): waking for them is a publisher's duty
 * (model ring-move).
 */
static void
keep_batch(struct slot *me, struct future *const got[], size_t n)
{
  for (size_t i = n; i-- > 0;)
    if (unlikely(futures__deque_push(&me->dq, got[i]) != 0))
      inject(me->sched, got[i], got[i]);
  wake_after_publish(me->sched);
}

/* One record from the rings, oldest first, taking the rings in turn; a
 * worker of a FUTURES_POOL_BATCH pool that has seen no priorities takes
 * up to RING_BATCH at once and keeps the others (keep_batch()). */
static struct future *
take_ring(struct slot *me)
{
  struct sched *s = me->sched;
  struct producer *head = futures__sched_producers(s);
  struct producer *start = me->cursor != NULL && me->cursor->next != NULL
                               ? me->cursor->next
                               : head;
  struct producer *p = start;
  /* Not once the pool has seen priorities: kept records are in no queue
   * while they move, and a look that sees no normal work takes a low
   * task (found by review). */
  size_t max = me->is_worker && (s->flags & FUTURES_POOL_BATCH) && !prio_on(s)
                   ? RING_BATCH
                   : 1;
  struct future *got[RING_BATCH];

  if (p == NULL)
    return NULL;
  do {
    size_t n = futures__ring_take(&p->ring, got, max);

    if (n > 0) {
      me->cursor = p;
      if (n > 1)
        keep_batch(me, got + 1, n - 1);
      return got[0];
    }
    p = p->next != NULL ? p->next : head;
  } while (p != start);
  return NULL;
}

/* One record from the injection queue, oldest first. */
static struct future *
take_inject(struct sched *s)
{
  struct future *f = NULL;

  if (futures__inject_nonempty(&s->inj) &&
      futures__inject_trylock(&s->inj)) {
    f = futures__inject_pop(&s->inj);
    futures__inject_unlock(&s->inj);
  }
  return f;
}

/* The rings and the injection queue, in alternating order, so that neither
 * can keep the other waiting. Always inline, as look_elsewhere(). */
static inline __attribute__((always_inline)) struct future *
take_shared(struct slot *me)
{
  struct future *f;

  if (me->tick++ & 1) {
    if ((f = take_inject(me->sched)) == NULL)
      f = take_ring(me);
  } else if ((f = take_ring(me)) == NULL) {
    f = take_inject(me->sched);
  }
  return f;
}

static struct future *
steal_any(struct slot *me)
{
  struct sched *s = me->sched;
  unsigned n = s->nslots, start, i;

  /* xorshift64: a cheap random starting victim per attempt. */
  me->rng ^= me->rng << 13;
  me->rng ^= me->rng >> 7;
  me->rng ^= me->rng << 17;
  start = (unsigned)(me->rng % n);
  for (i = 0; i < n; i++) {
    struct slot *v = &s->slots[(start + i) % n];
    struct future *f, *g;
    long size, extra;
    int lost = 0, moved = 0;

    if (v == me || (size = futures__deque_size(&v->dq)) == 0)
      continue;
    f = futures__deque_steal(&v->dq, &lost);
    if (f == NULL)
      continue;
    counter_inc(&me->stolen);
    /*
     * Take up to half of what was there (at most STEAL_BATCH in all) into
     * our own deque, one ordinary steal at a time: the lines of the
     * victim's deque are in this cache now, and every later look at them
     * would pull them back from a producer that keeps writing them. Our
     * deque is empty here (we looked before stealing), so the pushes never
     * grow it; other thieves may take these in turn. Deque entries are
     * sub-tasks, which promise no order.
     */
    extra = size / 2 < STEAL_BATCH ? size / 2 - 1 : STEAL_BATCH - 1;
    while (extra-- > 0 && (g = futures__deque_steal(&v->dq, &lost)) != NULL) {
      counter_inc(&me->stolen);
      moved = 1;
      if (unlikely(futures__deque_push(&me->dq, g) != 0))
        inject(s, g, g);
    }
    /* While they moved, the records were in no queue: a spinner that
     * left meanwhile may have looked and seen none of them. They are
     * published again now, and waking for them is a publisher's duty
     * (model steal-move). */
    if (moved)
      wake_after_publish(s);
    return f;
  }
  return NULL;
}

/* A worker found work somewhere other than its own deque (a record, or a
 * frame): if a worker is parked and more work (records or shared frames)
 * is visible, wake it. It does the same when it finds
 * work, so wake-ups spread in a chain, each costing a system call only
 * while someone is actually asleep. This publishes nothing, so it needs
 * no barrier: every record it can see was published by a thread that ran
 * wake_after_publish(), and a leaving spinner fences first (leave_spin). */
static void
wake_chain(struct sched *s)
{
  if (needs_wake(s) && (futures__sched_work_visible(s) || frames_visible(s)))
    wake_one(s);
}

/* The rings and the injection queue, then the other deques. Always
 * inline: a third caller (prio_normal) must not move it out of line. */
static inline __attribute__((always_inline)) struct future *
look_elsewhere(struct slot *me)
{
  struct future *f = take_shared(me);

  return f != NULL ? f : steal_any(me);
}

struct future *
futures__sched_find(struct slot *me)
{
  struct future *f;

  if (unlikely(prio_on(me->sched))) {
    if ((f = prio_find(me)) != NULL)
      wake_chain(me->sched);
    return f;
  }
  f = futures__deque_pop(&me->dq, 0);
  if (f == NULL && (f = look_elsewhere(me)) != NULL)
    wake_chain(me->sched);
  return f;
}

/*
 * Frames. A frame is never a record: a thief claims one from another
 * slot's frame deque and runs it here, as part of the body that spawned
 * it (frame.c), after every queue of records came up empty. A slot with
 * nothing shared is asked to share (frame.h, "grow"); its owner then
 * wakes a parked worker through futures__sched_frames_published().
 */
static struct frame *
claim_frame(struct slot *me)
{
  struct sched *s = me->sched;
  unsigned n = s->nslots, start = (unsigned)(me->rng % n);

  for (unsigned i = 0; i < n; i++) {
    struct slot *v = &s->slots[(start + i) % n];
    struct frame *fr;

    if (v != me && (fr = futures__frame_steal(&v->fq)) != NULL)
      return fr;
  }
  return NULL;
}

static void
run_frame(struct slot *me, struct frame *fr)
{
  futures__frame_run_stolen(&me->fq, fr, futures__deque_bottom(&me->dq));
}

int
futures__sched_steal_frame(struct slot *me)
{
  struct frame *fr = claim_frame(me);

  if (fr == NULL)
    return 0;
  /* More frames shared (a grow shares several): pass a wake-up on. */
  wake_chain(me->sched);
  run_frame(me, fr);
  return 1;
}

void
futures__sched_frames_published(struct sched *s, struct fdeque *q)
{
  /* A fork() child: nobody parked here belongs to this process, and
   * s->lock may have been copied locked. */
  if (futures__sched_stale(s))
    return;
  wake_after_publish(s);
  /* Relaxed: a look (a token granted above is off the count already); a
   * worker that goes idle after it asks by itself. */
  if (atomic_load_explicit(&s->sleepers, memory_order_relaxed) != 0 ||
      atomic_load_explicit(&s->spinners, memory_order_relaxed) != 0)
    futures__frame_ask(q);
}

int
futures__sched_run_descendant(int (*run)(struct future *f))
{
  struct futures_tls *tls = &futures__tls;
  struct slot *sl = tls->slot;
  struct future *f;

  /* After fork() in a task, the child's copy of this thread still names
   * the parent's slot: its entries belong to the parent. */
  if (sl == NULL || unlikely(sl->sched->gen != atomic_load_explicit(
                                                  &futures__fork_gen,
                                                  memory_order_relaxed)))
    return 0;
  /* Only entries pushed since the current task began: running an older
   * one could take a lock the current task holds. */
  f = futures__deque_pop(&sl->dq, tls->current != NULL ? tls->base : 0);
  if (f == NULL)
    return 0;
  run(f);
  return 1;
}

struct future *
futures__sched_take_any(struct sched *s)
{
  struct producer *p;
  struct future *f;
  int lost;

  /* High first and low last, as a worker would take them ("Order" in
   * futures.h); aging does not apply to what destroy runs itself. */
  if ((f = pq_take(s, PQ_HIGH)) != NULL)
    return f;
  if ((f = take_inject(s)) != NULL)
    return f;
  for (p = futures__sched_producers(s); p != NULL; p = p->next)
    if (futures__ring_take(&p->ring, &f, 1) == 1)
      return f;
  for (unsigned i = 0; i < s->nslots; i++) {
    lost = 0;
    if ((f = futures__deque_steal(&s->slots[i].dq, &lost)) != NULL)
      return f;
  }
  return pq_take(s, PQ_LOW);
}

/* ------------------------------------------------------------ parking */

/* Under the lock: 1 if the drain has ended (see the top of this file). */
static int
drain_over_locked(struct sched *s)
{
  FUTURES_ASSERT_OWNER(&s->lock);
  if (atomic_load_explicit(&s->stopping, memory_order_seq_cst) ==
          STOP_NONE ||
      !s->admission_closed || s->nidle != s->started)
    return 0;
  /* Seq_cst, and the counts before the queues: a helper or an entering
   * thread publishes its work before it stops counting itself. */
  if (atomic_load_explicit(&s->helpers, memory_order_seq_cst) != 0 ||
      atomic_load_explicit(&s->entering, memory_order_seq_cst) != 0 ||
      futures__sched_work_visible(s)) {
    FUTURES_TP(FUTURES_TP_DRAIN_KEPT, s);
    return 0;
  }
  return 1;
}

static void
set_drained_locked(struct sched *s)
{
  FUTURES_ASSERT_OWNER(&s->lock);
  s->drained = 1;
  FUTURES_TP(FUTURES_TP_DRAINED, s);
  /* Wakes every parked worker so that it exits, and destroy, which waits
   * for the drain to end before it joins them. */
  futures__cond_broadcast(&s->wake);
  futures__cond_broadcast(&s->done);
}

/* Parks until woken; 0 when the worker must exit. */
static int
park(struct slot *me)
{
  struct sched *s = me->sched;
  int ret = 1, took = 0;

  futures__mutex_lock(&s->lock);
  s->nidle++;
  atomic_fetch_add_explicit(&s->sleepers, 1, memory_order_relaxed);
  /* See "Waking without a fence" at the top of this file. */
  futures__heavy_barrier();
  for (;;) {
    unsigned long epoch;

    if (s->exit_now || s->drained) {
      ret = 0;
      break;
    }
    /* A token means "one worker, go and look": take it before leaving for
     * any reason, or tokens would pile up with nobody asleep for them. */
    if (s->tokens > 0) {
      s->tokens--;
      took = 1;
      break;
    }
    if (drain_over_locked(s)) {
      set_drained_locked(s);
      ret = 0;
      break;
    }
    if (futures__sched_work_visible(s) || frames_visible(s))
      break;
    /* Asks every owner of frames to share the next it spawns: a share
     * after this wakes us (the barrier above orders our count before the
     * request the owner reads). The worker also asked when its last look
     * for frames failed, but an owner may have served that request with
     * frames that another worker took. */
    ask_frames(me);
    epoch = s->epoch;
    /* Predicate: a submitter granted a token, the drain ended, create
     * failed, or the epoch changed (destroy began, a helper left). */
    while (s->tokens == 0 && !s->drained && !s->exit_now &&
           s->epoch == epoch) {
      FUTURES_TP(FUTURES_TP_PARK, s);
      futures__cond_wait(&s->wake, &s->lock);
    }
  }
  s->nidle--;
  /* A granted token was already taken off the sleepers count. */
  if (!took)
    atomic_fetch_sub_explicit(&s->sleepers, 1, memory_order_relaxed);
  futures__mutex_unlock(&s->lock);
  return ret;
}

/*
 * A spinner found work and stops spinning. Seq_cst, then a look for more
 * work (wake_chain): a submitter that left its work to us sees that we
 * left, or we see its work (see wake_after_publish()).
 */
static void
leave_spin(struct sched *s)
{
  atomic_fetch_sub_explicit(&s->spinners, 1, memory_order_seq_cst);
  atomic_thread_fence(memory_order_seq_cst);
  wake_chain(s);
}

/*
 * The spinner stays counted in sched->spinners while it tries for work it
 * saw, so a failed try (another thread was quicker) costs no write to that
 * line; and it looks less often as the spin goes on, since each look reads
 * lines that submitters write.
 */
struct future *
futures__sched_idle(struct slot *me, int *exit)
{
  struct sched *s = me->sched;
  long long limit = futures__now_ns() + IDLE_SPIN_NS;
  unsigned backoff = 1;
  struct future *f;

  /* The worker asked every owner of frames to share some just before
   * (futures__sched_steal_frame()); a share wakes us if we park. */
  atomic_fetch_add_explicit(&s->spinners, 1, memory_order_relaxed);
  for (unsigned i = 1;; i++) {
    if (futures__sched_work_visible(s) &&
        (unlikely(prio_on(s)) ? (f = prio_find(me)) != NULL
                              : ((f = futures__deque_pop(&me->dq, 0)) != NULL ||
                                 (f = look_elsewhere(me)) != NULL))) {
      leave_spin(s);
      return f;
    }
    if (frames_visible(s)) {
      struct frame *fr = claim_frame(me);

      if (fr != NULL) {
        leave_spin(s);
        run_frame(me, fr);
        return NULL; /* the caller looks again */
      }
    }
    if ((i & (IDLE_LOOKS - 1)) == 0) {
      if (futures__now_ns() >= limit)
        break;
      /* Let a runnable thread (a submitter, a waiter) have the CPU. */
      sched_yield();
    }
    for (unsigned k = 0; k < backoff; k++)
      futures__cpu_relax();
    if (backoff < 64)
      backoff *= 2;
  }
  FUTURES_TP(FUTURES_TP_SPIN_ENDED, s);
  atomic_fetch_sub_explicit(&s->spinners, 1, memory_order_relaxed);
  *exit = !park(me);
  return NULL;
}

/* ------------------------------------------------------------ stopping */

void
futures__sched_stop(struct sched *s, int mode)
{
  /* Seq_cst, then the heavy barrier: see "Admission" at the top. */
  atomic_store_explicit(&s->stopping, mode, memory_order_seq_cst);
  futures__heavy_barrier();
  futures__mutex_lock(&s->lock);
  s->epoch++;
  /* Wakes every parked worker (to drain) and every blocked submitter (to
   * return ESHUTDOWN). */
  futures__cond_broadcast(&s->wake);
  futures__cond_broadcast(&s->room);
  futures__mutex_unlock(&s->lock);
  /* Outside submitters that passed the check publish within a few
   * instructions; wait for them. */
  for (struct producer *p = futures__sched_producers(s); p != NULL;
       p = p->next) {
    /* Acquire: pairs with futures__sched_admit_end(). */
    if (atomic_load_explicit(&p->admitting, memory_order_acquire) != 0) {
      FUTURES_TP(FUTURES_TP_ADMISSION_WAIT, s);
      while (atomic_load_explicit(&p->admitting, memory_order_acquire) != 0)
        sched_yield();
    }
    FUTURES_HAPPENS_AFTER(&p->admitting);
  }
  futures__mutex_lock(&s->lock);
  s->admission_closed = 1;
  s->epoch++;
  /* Wakes every parked worker: the drain may now end. */
  futures__cond_broadcast(&s->wake);
  futures__mutex_unlock(&s->lock);
}

void
futures__sched_wait_drained(struct sched *s, void (*run_here)(struct sched *))
{
  futures__mutex_lock(&s->lock);
  /* Predicate: a worker found the drain over and set drained (it signals
   * done); with no worker left, we decide it here. */
  while (!s->drained) {
    if (s->started == 0) {
      if (drain_over_locked(s)) {
        set_drained_locked(s);
        break;
      }
      if (futures__sched_work_visible(s)) {
        futures__mutex_unlock(&s->lock);
        run_here(s);
        futures__mutex_lock(&s->lock);
        continue;
      }
    }
    futures__cond_wait(&s->done, &s->lock);
  }
  futures__mutex_unlock(&s->lock);
}

void
futures__sched_worker_replaced(struct slot *slot, int ok, pthread_t t)
{
  struct sched *s = slot->sched;

  FUTURES_ASSERT_OWNER(&s->lock);
  if (ok)
    slot->thread = t; /* destroy joins the replacement */
  else
    s->started--; /* destroy joins this exited thread instead */
  s->epoch++;
  /* Wakes every parked worker and destroy: the drain may be over, or,
   * with no worker left, destroy must run what is queued itself. */
  futures__cond_broadcast(&s->wake);
  futures__cond_broadcast(&s->done);
}

/* ------------------------------------------------------------ counters */

int
futures__sched_try_reserve(struct sched *s, size_t n)
{
  long q = atomic_load_explicit(&s->queued, memory_order_seq_cst);

  do {
    if ((size_t)q + n > s->max_queued)
      return 0;
    /* Seq_cst: pairs with futures__sched_release_room(). */
  } while (!atomic_compare_exchange_weak_explicit(
      &s->queued, &q, q + (long)n, memory_order_seq_cst,
      memory_order_seq_cst));
  return 1;
}

void
futures__sched_release_room(struct sched *s, size_t n)
{
  /* Seq_cst: pairs with a blocked submitter that registers in
   * room_waiters and then retries (submit.c). */
  atomic_fetch_sub_explicit(&s->queued, (long)n, memory_order_seq_cst);
  if (atomic_load_explicit(&s->room_waiters, memory_order_seq_cst) != 0) {
    futures__mutex_lock(&s->lock);
    /* Wakes submitters blocked on a full queue. */
    futures__cond_broadcast(&s->room);
    futures__mutex_unlock(&s->lock);
  }
}

void
futures__sched_count_submits(struct sched *s, size_t n)
{
  struct slot *sl = futures__sched_my_slot(s);

  if (sl != NULL)
    atomic_store_explicit(
        &sl->submitted,
        atomic_load_explicit(&sl->submitted, memory_order_relaxed) + n,
        memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&s->ext_submitted, n, memory_order_relaxed);
}

void
futures__sched_count_cancel(struct sched *s)
{
  atomic_fetch_add_explicit(&s->cancelled, 1, memory_order_relaxed);
}


/* ------------------------------------------------------------ priorities */

/*
 * Priorities. A normal task goes where the rest of this file says, and so
 * does a high or low one submitted by a thread with a slot (a task's
 * sub-task: the task's waits run what is in its deque, see
 * futures__sched_run_descendant). A high or low one from any other thread
 * (futures__sched_submit_prio) goes to the pool's queue of its level, a
 * FIFO under plock, and the first one sets prio_seen: from
 * then on the workers look with prio_find(), which takes a high task
 * before anything else, then normal work as usual (own deque, rings and
 * injection queue, steals), and a low task only when it finds nothing
 * else. A pool that never sees one pays a predictable branch per look.
 *
 * Aging, counted in tasks so that it is deterministic: passed[0] counts
 * the high tasks started in a row while normal work was visible, passed[1]
 * the high or normal tasks started in a row while a low task waited. Once
 * a count reaches FUTURES_PRIORITY_AGING, the next look serves the next
 * waiting task of that level first, in that level's own order (a low one
 * first when both are due), and the count starts again. The counts are relaxed atomics and prio_find
 * updates them without a lock: exact with one worker; with several, two
 * workers may both serve a due level at once, which only ages it sooner.
 *
 * The order holds for what was queued before a look: the look reads the
 * queues one after the other without a common lock, so a high task queued
 * after it found the high queue empty waits for the next look. After
 * every high start the look scans every queue for normal work
 * (normal_visible(), O(rings + slots)), a cost only pools that see
 * priorities pay.
 */

static void
prio_init(struct sched *s)
{
  FUTURES_ATOMIC_VAR(s->prio_seen);
  FUTURES_ATOMIC_RANGE(s->pq_len, sizeof(s->pq_len));
  FUTURES_ATOMIC_RANGE(s->passed, sizeof(s->passed));
  atomic_init(&s->prio_seen, 0);
  for (int q = 0; q < 2; q++) {
    atomic_init(&s->pq_len[q], 0);
    atomic_init(&s->passed[q], 0);
    s->pq_head[q] = s->pq_tail[q] = NULL;
  }
  futures__mutex_init(&s->plock);
}

static int
prio_visible(struct sched *s)
{
  /* Seq_cst: a queue's publication, as the rings' (see "Waking"). */
  return atomic_load_explicit(&s->pq_len[PQ_HIGH], memory_order_seq_cst) +
             atomic_load_explicit(&s->pq_len[PQ_LOW], memory_order_seq_cst) >
         0;
}

/* The oldest record of queue @q, or NULL. */
static struct future *
pq_take(struct sched *s, int q)
{
  struct future *f;

  /* Relaxed: a hint; the lock orders what we take. */
  if (atomic_load_explicit(&s->pq_len[q], memory_order_relaxed) == 0)
    return NULL;
  futures__mutex_lock(&s->plock);
  f = s->pq_head[q];
  if (f != NULL) {
    s->pq_head[q] = atomic_load_explicit(&f->u.q.next, memory_order_relaxed);
    if (s->pq_head[q] == NULL)
      s->pq_tail[q] = NULL;
    atomic_fetch_sub_explicit(&s->pq_len[q], 1, memory_order_relaxed);
  }
  futures__mutex_unlock(&s->plock);
  return f;
}

void
futures__sched_submit_prio(struct sched *s, struct future *f, int prio)
{
  int q = prio > FUTURES_PRIORITY_NORMAL ? PQ_HIGH : PQ_LOW;

  /* Seq_cst, before the record is published: see prio_on(). */
  if (!atomic_load_explicit(&s->prio_seen, memory_order_relaxed))
    atomic_store_explicit(&s->prio_seen, 1, memory_order_seq_cst);
  futures__sched_count_submits(s, 1);
  FUTURES_HAPPENS_BEFORE(&f->state); /* publication of the record */
  atomic_store_explicit(&f->u.q.next, (struct future *)NULL,
                        memory_order_relaxed);
  futures__mutex_lock(&s->plock);
  if (s->pq_tail[q] != NULL)
    atomic_store_explicit(&s->pq_tail[q]->u.q.next, f, memory_order_relaxed);
  else
    s->pq_head[q] = f;
  s->pq_tail[q] = f;
  /* Seq_cst: the publication that a parking worker's last look reads. */
  atomic_fetch_add_explicit(&s->pq_len[q], 1, memory_order_seq_cst);
  futures__mutex_unlock(&s->plock);
  wake_after_publish(s);
}

/* Counts one more start past level @i while it waits, or starts again. */
static void
passed_bump(struct sched *s, int i, int waiting)
{
  if (waiting)
    atomic_fetch_add_explicit(&s->passed[i], 1, memory_order_relaxed);
  else
    atomic_store_explicit(&s->passed[i], 0, memory_order_relaxed);
}

static int
passed_due(struct sched *s, int i)
{
  return atomic_load_explicit(&s->passed[i], memory_order_relaxed) >=
         FUTURES_PRIORITY_AGING;
}

/*
 * A low task, the last resort of a look, once no other work was found.
 * take_inject() only tries the injection queue's lock: a look that found
 * it busy while it held records must not take a low task ahead of them,
 * so it takes the lock for real.
 */
static struct future *
prio_low(struct sched *s, int *normal)
{
  struct future *f;

  *normal = 0;
  if (unlikely(futures__inject_nonempty(&s->inj))) {
    /* The holder pops one record and lets go: a short spin. */
    while (!futures__inject_trylock(&s->inj))
      futures__cpu_relax();
    f = futures__inject_pop(&s->inj);
    futures__inject_unlock(&s->inj);
    if (f != NULL) {
      *normal = 1; /* a normal record: it counts as one for aging */
      return f;
    }
  }
  return pq_take(s, PQ_LOW);
}

/* Normal work: own deque, then elsewhere. Out of line, so that the
 * ordinary path inlines look_elsewhere() as it would without priorities. */
static struct future *__attribute__((noinline))
prio_normal(struct slot *me)
{
  struct future *f = futures__deque_pop(&me->dq, 0);

  return f != NULL ? f : look_elsewhere(me);
}

/* 1 if @f has not started: a record a canceller settled, or a waiter ran
 * in place, stays queued until a look takes it and hands it to the gate,
 * which only drops it; such a take must not count for aging. */
static int
pq_live(struct future *f)
{
  return (futures__record_state(f) & F_PHASE) == F_QUEUED;
}

/* The head of queue @q if it is a dead record (see pq_live()), taken off
 * the queue; NULL if the head is live or the queue is empty. So that a
 * dead low record does not count as a low task waiting. */
static struct future *
pq_take_dead(struct sched *s, int q)
{
  struct future *f;

  futures__mutex_lock(&s->plock);
  f = s->pq_head[q];
  if (f != NULL && !pq_live(f)) {
    s->pq_head[q] = atomic_load_explicit(&f->u.q.next, memory_order_relaxed);
    if (s->pq_head[q] == NULL)
      s->pq_tail[q] = NULL;
    atomic_fetch_sub_explicit(&s->pq_len[q], 1, memory_order_relaxed);
  } else {
    f = NULL;
  }
  futures__mutex_unlock(&s->plock);
  return f;
}

/* A look for work once the pool has seen priorities (see above). A dead
 * record it takes (see pq_live()) goes to the gate and counts nothing. */
static struct future *
prio_find(struct slot *me)
{
  struct sched *s = me->sched;
  int low_waits =
      atomic_load_explicit(&s->pq_len[PQ_LOW], memory_order_relaxed) > 0;
  struct future *f;
  int normal;

  if (low_waits && (f = pq_take_dead(s, PQ_LOW)) != NULL)
    return f;
  if (low_waits && passed_due(s, 1) && (f = pq_take(s, PQ_LOW)) != NULL)
    goto low;
  if (passed_due(s, 0) && (f = prio_normal(me)) != NULL)
    goto normal;
  if ((f = pq_take(s, PQ_HIGH)) != NULL) {
    if (pq_live(f)) {
      passed_bump(s, 0, normal_visible(s));
      passed_bump(s, 1, low_waits);
    }
    return f;
  }
  if ((f = prio_normal(me)) != NULL)
    goto normal;
  /* A ring or a deque still holds normal records that this look could
   * not take (another thread held the ring's lock, or won the steal):
   * look again rather than start a low task ahead of them (found by
   * review, issue 12). prio_low() takes the injection queue's lock. Only
   * while a low task waits: the scan reads every ring and deque. */
  if (low_waits && normal_queued_outside_inject(s))
    return NULL;
  if ((f = prio_low(s, &normal)) == NULL)
    return NULL;
  if (normal)
    goto normal;
low:
  if (pq_live(f))
    atomic_store_explicit(&s->passed[1], 0, memory_order_relaxed);
  return f;
normal:
  if (pq_live(f)) {
    atomic_store_explicit(&s->passed[0], 0, memory_order_relaxed);
    passed_bump(s, 1, low_waits);
  }
  return f;
}
