/* SPDX-License-Identifier: MIT */
/*
 * completion.c - layer 5: as-completed iteration. A set hands back the
 * indices of its input futures in the order they settle, each once.
 *
 * Each input carries one callback waiter (record.h), an entry of the set.
 * The input's publisher runs the callback, which appends the entry's index
 * to the set's queue of settled indices and wakes one sleeping caller of
 * next(); an input that had settled when the set was made is appended by
 * create itself. Every index is appended exactly once, so the queue is a
 * plain array of n slots read from the front: a call of next() costs O(1)
 * besides its waiting, whatever n is.
 *
 * Waiting follows the joins (join.c). A caller that is running one of a
 * pool's tasks must not merely sleep while nothing has settled: the inputs
 * it waits for may be queued behind it on its own pool. So it first runs
 * its own pending sub-tasks (wait.c's rule), then the unstarted inputs of
 * its pool (futures_join_any()'s rule), found by a cursor that walks the
 * inputs newest first once for the life of the set: a task, once started,
 * never goes back to QUEUED, and every input is looked at no more than
 * once in all (O(1) per completion; no rescans). A continuation among the
 * inputs whose antecedent has not started gets that antecedent run
 * (help.c); the continuation itself then lands in this thread's own deque,
 * where the first step finds it. A timed wait runs only the caller's own
 * sub-tasks, as future_wait_until() does.
 *
 * References and lifetime. The set holds one reference to each input (one
 * per entry: a future given twice is held twice) until destroy, so that a
 * waiter may look at any input's state. The set's memory is freed when
 * its owner has destroyed it and no callback can reach it any more: refs
 * counts the owner and each callback still linked. Destroy unlinks every
 * callback that its publisher has not taken and drops those references
 * itself; a callback already taken finds the set closed and drops its own
 * input's reference (the rule of record.h: whoever adds a callback holds
 * a reference to its record until the callback has run or was removed).
 *
 * One allocation holds the set, its entries, the queue and a hash table of
 * the inputs' addresses, with which a task calling next() learns in O(1)
 * whether its own future is among the inputs (EDEADLK, as in the joins).
 */
#include "help.h"

#define NO_INDEX ((size_t)-1)

/* What destroy finds in an entry (under set->lock). */
enum entry_state {
  E_LINKED, /* on its input's waiter list, or taken by the publisher */
  E_FIRED,  /* the callback ran, or the input had settled at create */
  E_REMOVED /* destroy unlinked it: the callback will never run */
};

struct entry {
  struct wcallback cb; /* first: the callback's address is the entry's */
  size_t index;        /* immutable: entries[index] is this entry */
  int state;           /* enum entry_state; under set->lock */
};

struct futures_as_completed {
  pthread_mutex_t lock;
  pthread_cond_t cond; /* a settled index or the last one taken */
  /* Immutable after create. */
  size_t n;
  unsigned long gen;    /* the fork generation it was created in */
  size_t *order;        /* n slots, after the entries */
  struct future **hash; /* hmask + 1 slots (NULL: empty); none if n == 0 */
  size_t hmask;
  /* Under lock. */
  size_t nfired;  /* indices appended to order */
  size_t ntaken;  /* indices handed out: order[ntaken..nfired) wait */
  size_t nasleep; /* callers asleep on cond */
  size_t cursor;  /* inputs at [0, cursor) not yet looked at for help */
  size_t refs;    /* the owner's (until destroy), one per linked entry */
  int closed;     /* destroy has begun */
  struct entry entries[FUTURES_FLEX];
};

/* The set that @e belongs to. */
static struct futures_as_completed *
set_of(struct entry *e)
{
  char *first = (char *)(void *)(e - e->index); /* &set->entries[0] */
  size_t off = offsetof(struct futures_as_completed, entries);

  return (struct futures_as_completed *)(void *)(first - off);
}

static void
set_free(struct futures_as_completed *set)
{
  futures__cond_destroy(&set->cond);
  futures__mutex_destroy(&set->lock);
  futures__free(set);
}

/* ------------------------------------------------------------ inputs */

/* A slot of the hash table (a power of 2, at least twice n) for @f. */
static size_t
hash_slot(const struct futures_as_completed *set, const struct future *f)
{
  /* Fibonacci hashing of the address, whose low bits are alignment. */
  uint64_t h = ((uint64_t)(uintptr_t)f >> 4) * 0x9e3779b97f4a7c15ULL;

  return (size_t)(h >> 32) & set->hmask;
}

static void
hash_insert(struct futures_as_completed *set, struct future *f)
{
  size_t i = hash_slot(set, f);

  while (set->hash[i] != NULL && set->hash[i] != f)
    i = (i + 1) & set->hmask;
  set->hash[i] = f;
}

static int
hash_has(const struct futures_as_completed *set, const struct future *f)
{
  size_t i;

  if (set->hash == NULL)
    return 0;
  for (i = hash_slot(set, f); set->hash[i] != NULL; i = (i + 1) & set->hmask)
    if (set->hash[i] == f)
      return 1;
  return 0;
}

/*
 * An input has settled: appends its index and wakes one sleeper. Runs in
 * the input's publisher with no lock held, or in create for an input that
 * had settled already. A callback that finds the set closed was taken by
 * its publisher before destroy could unlink it: it drops the input's
 * reference, and the set's memory if it was the last one to hold it.
 */
static void
entry_fired(struct wcallback *cb, struct future *f)
{
  struct entry *e = (struct entry *)(void *)cb;
  struct futures_as_completed *set = set_of(e);
  int closed, last;

  futures__mutex_lock(&set->lock);
  closed = set->closed;
  if (!closed) {
    e->state = E_FIRED;
    set->order[set->nfired++] = e->index;
    /* Wakes a caller asleep in next_locked(). */
    if (set->nasleep > 0)
      futures__cond_signal(&set->cond);
  }
  last = --set->refs == 0;
  futures__mutex_unlock(&set->lock);
  if (closed)
    futures__record_unref(f);
  if (last)
    set_free(set);
}

/* ------------------------------------------------------------ create */

/* The bytes of a set of @n with a hash table of @hslots; 0 if too many. */
static size_t
set_bytes(size_t n, size_t hslots)
{
  size_t per = sizeof(struct entry) + sizeof(size_t) + 2 * sizeof(void *);

  if (n > (SIZE_MAX - sizeof(struct futures_as_completed)) / per)
    return 0;
  return sizeof(struct futures_as_completed) + n * sizeof(struct entry) +
         n * sizeof(size_t) + hslots * sizeof(void *);
}

/* Allocates and initialises a set of @n with no input linked yet. */
static struct futures_as_completed *
set_new(size_t n)
{
  struct futures_as_completed *set;
  size_t hslots = 0, bytes;

  if (n > 0)
    for (hslots = 2; hslots < 2 * n && hslots < SIZE_MAX / 4;)
      hslots *= 2;
  if ((bytes = set_bytes(n, hslots)) == 0 ||
      (set = futures__malloc(bytes)) == NULL)
    return NULL;
  set->n = n;
  set->gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  set->order = (size_t *)(void *)&set->entries[n];
  set->hash = n > 0 ? (struct future **)(void *)&set->order[n] : NULL;
  set->hmask = hslots - 1;
  for (size_t i = 0; i < hslots; i++)
    set->hash[i] = NULL;
  set->nfired = set->ntaken = set->nasleep = 0;
  set->cursor = n;
  set->refs = 1 + n; /* the owner, and every entry until it fires */
  set->closed = 0;
  futures__mutex_init(&set->lock);
  futures__cond_init(&set->cond);
  return set;
}

int
futures_as_completed_create(future_t *const futures[], size_t n,
                            futures_as_completed_t **set)
{
  struct futures_as_completed *s;
  int rc;

  if (set == NULL)
    return EINVAL;
  *set = NULL;
  if ((rc = futures__help_check_array(futures, n)) != 0)
    return rc;
  /* The fork handlers that make a set stale in a child. */
  if ((rc = futures__global_init()) != 0)
    return rc;
  if ((s = set_new(n)) == NULL)
    return ENOMEM;
  /* Every reference first, so that a failure leaves nothing linked. */
  for (size_t i = 0; i < n; i++) {
    if (futures__record_try_ref(futures[i]) != 0) {
      while (i-- > 0)
        futures__record_unref(futures[i]);
      set_free(s);
      return EAGAIN;
    }
    s->entries[i].cb.fn = entry_fired;
    s->entries[i].index = i;
    s->entries[i].state = E_LINKED;
    hash_insert(s, futures[i]);
  }
  /* In index order; an input that settles meanwhile is appended by its
   * publisher, under the lock, as soon as it is linked. */
  for (size_t i = 0; i < n; i++)
    if (!futures__record_add_callback(futures[i], &s->entries[i].cb))
      entry_fired(&s->entries[i].cb, futures[i]); /* settled already */
  *set = s;
  return 0;
}

/* ------------------------------------------------------------ next */

/*
 * A set of the parent's, in a fork() child: its callbacks belong to
 * threads that do not exist here and its lock may be held by one of them.
 * next() says ECHILD and destroy leaves it alone.
 */
static int
stale(const struct futures_as_completed *set)
{
  return unlikely(futures__forked()) &&
         set->gen !=
             atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

/* EDEADLK if the caller is a task whose own, unfinished future is one of
 * the inputs (it could never settle while the task waits for it). */
static int
check_self(const struct futures_as_completed *set)
{
  struct future *cur = futures__tls.current;

  if (cur != NULL && hash_has(set, cur) && !futures__record_done(cur))
    return EDEADLK;
  return 0;
}

/*
 * The next input the cursor finds that the caller, a task of @sched's
 * pool, should run: QUEUED, or a continuation waiting on something that
 * may not have started. Under lock; the cursor moves past every input it
 * looks at.
 */
static struct future *
cursor_next_locked(struct futures_as_completed *set)
{
  FUTURES_ASSERT_OWNER(&set->lock);
  while (set->cursor > 0) {
    struct future *f = set->entries[--set->cursor].cb.f;
    uint32_t s = futures__record_state(f);

    if (((s & F_PHASE) == F_QUEUED ||
         ((s & F_PHASE) == F_DEFERRED && (s & F_CONT))) &&
        futures__sched_in_task(f->sched))
      return f;
  }
  return NULL;
}

/*
 * Nothing has settled: runs something that may bring a settle closer, with
 * the lock let go. 1 if it did (the caller then looks again), 0 if the
 * caller should sleep. Untimed, a task runs its own pending sub-tasks and
 * then the unstarted inputs of its pool; timed, only its sub-tasks, and
 * not once the deadline has passed (each may overrun it once).
 */
static int
help_locked(struct futures_as_completed *set, int timed, long long deadline)
{
  struct future *f = NULL;
  int ran;

  FUTURES_ASSERT_OWNER(&set->lock);
  if (futures__tls.current == NULL ||
      (timed && futures__deadline_passed(deadline)))
    return 0;
  futures__mutex_unlock(&set->lock);
  ran = futures__help_descendant();
  if (!ran && !timed) {
    futures__mutex_lock(&set->lock);
    f = cursor_next_locked(set);
    futures__mutex_unlock(&set->lock);
    if (f != NULL) {
      /* The set's reference keeps @f alive. Whether it runs here or
       * elsewhere, its callback fires when it is published; a
       * continuation readied here goes to our own deque. */
      uint32_t s = futures__record_state(f);

      if ((s & F_PHASE) == F_QUEUED)
        futures__help_run(f);
      else if ((s & F_PHASE) == F_DEFERRED)
        (void)futures__help_chain(f);
      ran = 1;
    }
  }
  futures__mutex_lock(&set->lock);
  return ran;
}

/* Takes the next settled index, helping or sleeping until there is one:
 * 0, ENOENT once every index was taken, or ETIMEDOUT. Under lock. */
static int
next_locked(struct futures_as_completed *set, int timed, long long deadline,
            size_t *index)
{
  int rc = 0;

  FUTURES_ASSERT_OWNER(&set->lock);
  for (;;) {
    if (set->ntaken < set->nfired) {
      *index = set->order[set->ntaken++];
      /* The last index is gone: callers asleep for it get ENOENT. */
      if (set->ntaken == set->n && set->nasleep > 0)
        futures__cond_broadcast(&set->cond);
      return 0;
    }
    if (set->ntaken == set->n)
      return ENOENT;
    if (rc == ETIMEDOUT || (timed && futures__deadline_passed(deadline)))
      return ETIMEDOUT;
    if (help_locked(set, timed, deadline))
      continue;
    /* Predicate: an index was appended (entry_fired() signals) or the
     * last one was taken (the broadcast above); either way look again. */
    set->nasleep++;
    rc = futures__cond_wait_until(&set->cond, &set->lock, deadline);
    set->nasleep--;
  }
}

static int
next_index(futures_as_completed_t *set, int timed,
           const struct timespec *deadline, size_t *index)
{
  long long dl = FUTURES_FOREVER;
  int rc;

  if (index != NULL)
    *index = NO_INDEX;
  if (set == NULL || index == NULL)
    return EINVAL;
  if (timed) {
    if (!futures__timespec_valid(deadline))
      return EINVAL;
    dl = futures__deadline_of(deadline);
  }
  if (stale(set))
    return ECHILD;
  if ((rc = check_self(set)) != 0)
    return rc;
  futures__mutex_lock(&set->lock);
  rc = next_locked(set, timed, dl, index);
  futures__mutex_unlock(&set->lock);
  return rc;
}

int
futures_as_completed_next(futures_as_completed_t *set, size_t *index)
{
  return next_index(set, 0, NULL, index);
}

int
futures_as_completed_next_until(futures_as_completed_t *set,
                                const struct timespec *deadline, size_t *index)
{
  return next_index(set, 1, deadline, index);
}

/* ------------------------------------------------------------ destroy */

void
futures_as_completed_destroy(futures_as_completed_t *set)
{
  int last;

  if (set == NULL || stale(set))
    return;
  futures__mutex_lock(&set->lock);
  set->closed = 1;
  /* Unlink every callback whose input's publisher has not taken it; the
   * others run, find the set closed and drop their own references. Lock
   * order: the set's lock, then a record's stripe; a publisher runs the
   * callbacks after letting go of the stripe. */
  for (size_t i = 0; i < set->n; i++) {
    struct entry *e = &set->entries[i];

    if (e->state == E_LINKED &&
        futures__record_remove_callback(e->cb.f, &e->cb)) {
      e->state = E_REMOVED;
      set->refs--;
    }
  }
  futures__mutex_unlock(&set->lock);
  /* No callback writes an entry's state once the set is closed, and the
   * owner's reference keeps the memory: the lock is not needed here. */
  for (size_t i = 0; i < set->n; i++)
    if (set->entries[i].state != E_LINKED)
      futures__record_unref(set->entries[i].cb.f);
  futures__mutex_lock(&set->lock);
  last = --set->refs == 0;
  futures__mutex_unlock(&set->lock);
  if (last)
    set_free(set);
}
