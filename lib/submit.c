/* SPDX-License-Identifier: MIT */
/*
 * submit.c - layer 5: futures_submit() and friends, and backpressure.
 *
 * A submit reserves a place if the pool is bounded (a compare-and-swap on
 * sched->queued, so the bound is never overshot, not even for a moment),
 * is admitted by the scheduler (so that it cannot race destroy into a lost
 * task), allocates one record (future and task together), fills it and
 * hands it to the scheduler (scheduler.c tells where it goes).
 */
#include "gate.h"
#include "pool.h"
#include "trace.h"

/* A futures_task_t larger than this is not one (later versions append a
 * few fields, never kilobytes). */
#define TASK_SIZE_MAX 1024

/* FUTURES_OVERFLOW_BLOCK from outside the pool: waits for room. */
static int
wait_for_room(struct sched *s, size_t n, long long deadline)
{
  int rc = 0;

  futures__mutex_lock(&s->lock);
  atomic_fetch_add_explicit(&s->room_waiters, 1, memory_order_seq_cst);
  for (;;) {
    if (atomic_load_explicit(&s->stopping, memory_order_seq_cst) !=
        STOP_NONE) {
      rc = ESHUTDOWN;
      break;
    }
    if (futures__sched_try_reserve(s, n)) {
      rc = 0;
      break;
    }
    if (rc == ETIMEDOUT)
      break;
    /* Predicate: room in the queue (a task left it), or destroy began. */
    rc = futures__cond_wait_until(&s->room, &s->lock, deadline);
  }
  atomic_fetch_sub_explicit(&s->room_waiters, 1, memory_order_seq_cst);
  /* Wakes destroy, which waits for blocked submitters to leave. */
  if (rc == ESHUTDOWN)
    futures__cond_broadcast(&s->room);
  futures__mutex_unlock(&s->lock);
  return rc;
}

/*
 * Applies the bound of a bounded pool to @n new tasks. On success *@queue
 * is how many of them to queue (with a place reserved for each); the rest
 * run in the caller. Only a single submit (@may_block) waits for room.
 */
static int
reserve(struct sched *s, size_t n, int may_block, long long deadline,
        size_t *queue)
{
  long q;

  *queue = n;
  if (futures__sched_try_reserve(s, n))
    return 0;
  switch (s->overflow) {
  case FUTURES_OVERFLOW_CALLER_RUNS:
    /* Queue what fits, run the rest here. */
    q = atomic_load_explicit(&s->queued, memory_order_seq_cst);
    *queue = (size_t)q < s->max_queued ? s->max_queued - (size_t)q : 0;
    if (*queue > n)
      *queue = n;
    while (*queue > 0 && !futures__sched_try_reserve(s, *queue))
      (*queue)--;
    return 0;
  case FUTURES_OVERFLOW_BLOCK:
    /* Waiting inside one of the pool's tasks could wait forever for the
     * very worker that waits: run the task here instead. */
    if (futures__sched_in_task(s)) {
      *queue = 0;
      return 0;
    }
    if (!may_block || n > s->max_queued)
      return EAGAIN; /* a batch does not block */
    return wait_for_room(s, n, deadline);
  default:
    return EAGAIN;
  }
}

/*
 * The i-th task of an array. Elements are tasks[0].size bytes apart: a
 * program built against an older header passes its own (smaller) struct,
 * and one built against a newer header a larger one. Fields past the
 * caller's size take their defaults (no result destructor, normal
 * priority).
 */
static const futures_task_t *
task_at(const futures_task_t *tasks, size_t i)
{
  return (const futures_task_t *)(const void *)((const char *)tasks +
                                                i * tasks[0].size);
}

/* The size of futures_task_t before result_drop was appended: programs
 * built against that header still pass it. */
#define TASK_SIZE_V1 offsetof(futures_task_t, result_drop)

static int
check_task(const futures_task_t *task, size_t size)
{
  return task != NULL && task->size >= TASK_SIZE_V1 && task->size == size &&
         task->fn != NULL;
}

/* The size of futures_task_t before priority was appended. */
#define TASK_SIZE_V2 offsetof(futures_task_t, priority)

/* @t's priority; normal if its struct predates the field. */
static int
priority_of(const futures_task_t *t)
{
  return t->size >= TASK_SIZE_V2 + sizeof(t->priority)
             ? t->priority
             : FUTURES_PRIORITY_NORMAL;
}

static int
priority_valid(int prio)
{
  return prio >= FUTURES_PRIORITY_LOW && prio <= FUTURES_PRIORITY_HIGH;
}

/* @t's result destructor, NULL if it has none or predates the field. */
static futures_drop_fn
result_drop_of(const futures_task_t *t)
{
  return t->size >= offsetof(futures_task_t, result_drop) +
                        sizeof(t->result_drop)
             ? t->result_drop
             : NULL;
}

/*
 * A task with a result destructor runs through this thunk, whose argument
 * carries the task's own fields; the record's fn word, which holds the
 * body until the task starts, holds the destructor once it has run (see
 * struct future), and the thunk's drop function takes the record's tail.
 * Only tasks that ask for it pay the allocation and the tail.
 */
struct owned_task {
  futures_task_fn fn;
  void *arg;
  futures_drop_fn drop, result_drop;
};

static int
owned_run(void *a, void **result)
{
  struct owned_task t = *(struct owned_task *)a;
  int code;

  FUTURES_FREE(a);
  code = t.fn(t.arg, result);
  /* futures__tls.current is this task's record (gate.c's run()). */
  if (code == 0 && *result != NULL)
    futures__tls.current->fn.rdrop = t.result_drop;
  return code;
}

static void
owned_drop(void *a)
{
  struct owned_task *t = (struct owned_task *)a;

  if (t->drop != NULL)
    t->drop(t->arg);
  FUTURES_FREE(t);
}

/* Frees the thunk's argument of a record never published. */
static void
free_owned(struct future *f)
{
  if (f->fn.task == owned_run)
    FUTURES_FREE(f->arg);
}

/* Allocates and fills @n records for @tasks; all or nothing. The first
 * @placed hold a place in a bounded queue, the others will run here. */
static int
alloc_records(struct sched *s, const futures_task_t *tasks, size_t n,
              size_t placed, future_t *out[])
{
  int timed = (s->flags & FUTURES_POOL_TIMING) != 0;

  for (size_t i = 0; i < n; i++) {
    const futures_task_t *t = task_at(tasks, i);
    /* A drop function needs the record's tail, and so does a result
     * destructor: wrap_owned() gives it a drop function. */
    uint32_t flags = (timed ? F_TIMED | F_EXT : 0) |
                     (t->drop != NULL || result_drop_of(t) != NULL ? F_EXT
                                                                   : 0) |
                     (i < placed ? 0 : F_NOPLACE);

    out[i] = futures__record_alloc(flags);
    if (out[i] == NULL) {
      while (i-- > 0) {
        futures__record_free(out[i]);
        out[i] = NULL;
      }
      return ENOMEM;
    }
    futures__record_init(out[i], s, t->fn, t->arg, t->drop, flags);
    if (unlikely(timed) && s->trace != NULL) /* trace.c; implies timed */
      futures__trace_submit(s, out[i]);
  }
  return 0;
}

/*
 * The tasks of @tasks that have a result destructor run through the thunk:
 * their records (filled by alloc_records(), not yet published) get the
 * thunk's argument. 0, or ENOMEM with every record freed. Out of line, and
 * only for arrays that hold such a task: the common path stays as it was.
 */
static int __attribute__((noinline))
wrap_owned(const futures_task_t *tasks, size_t n, future_t *out[])
{
  for (size_t i = 0; i < n; i++) {
    const futures_task_t *t = task_at(tasks, i);
    struct owned_task *o;

    if (result_drop_of(t) == NULL)
      continue;
    if ((o = FUTURES_ALLOC(struct owned_task)) == NULL) {
      for (size_t k = 0; k < n; k++) {
        free_owned(out[k]);
        futures__record_free(out[k]);
        out[k] = NULL;
      }
      return ENOMEM;
    }
    o->fn = t->fn;
    o->arg = t->arg;
    o->drop = t->drop;
    o->result_drop = t->result_drop;
    out[i]->fn.task = owned_run;
    out[i]->arg = o;
    futures__record_x(out[i])->drop = owned_drop;
  }
  return 0;
}

/*
 * Tasks that a bounded pool's policy runs in the caller. If one of them
 * exits the thread (pthread_exit()), the cleanup queues the ones that have
 * not run where the workers find them, so none is lost.
 */
struct here {
  struct sched *sched;
  future_t **rec;
  size_t next, n;
};

static void
here_unwound(struct here *h)
{
  while (h->next < h->n)
    futures__sched_push(h->sched, h->rec[h->next++]);
}

static void
run_here(struct sched *s, future_t *rec[], size_t n)
{
  struct here h __attribute__((cleanup(here_unwound))) = {s, rec, 0, n};

  futures__sched_count_submits(s, n);
  while (h.next < h.n)
    futures__gate_run(h.rec[h.next++], GATE_QREF);
}

/*
 * The common path of every submit: @n tasks, all or nothing. The caller is
 * admitted before anything else, so that everything after, the wait for
 * room included, happens while destroy waits for it; it ends the admission
 * after its last touch of the pool.
 */
/* submit()'s @how: it may wait for room; some task has a result
 * destructor. One word, so that submit() takes its arguments in
 * registers. */
#define SUBMIT_MAY_BLOCK 0x1
#define SUBMIT_OWNED 0x2
#define SUBMIT_PRIO 0x4 /* some task's priority is not normal */
/* submit_slow() queued the records itself (never an errno). */
#define SUBMIT_QUEUED (-1)

static int submit_slow(struct sched *s, struct admission *a,
                       const futures_task_t *tasks, size_t n, size_t queue,
                       int how, future_t *out[]);

static int
submit(struct sched *s, const futures_task_t *tasks, size_t n, int how,
       long long deadline, future_t *out[])
{
  int may_block = how & SUBMIT_MAY_BLOCK;

  struct admission a;
  size_t queue = n;
  int rc;

  if (unlikely((rc = futures__sched_admit(s, &a)) != 0))
    goto out;
  if (unlikely(s->max_queued != 0) &&
      (rc = reserve(s, n, may_block, deadline, &queue)) != 0)
    goto out;
  if (unlikely((rc = alloc_records(s, tasks, n, queue, out)) != 0) ||
      (unlikely(how & (SUBMIT_OWNED | SUBMIT_PRIO)) &&
       (rc = submit_slow(s, &a, tasks, n, queue, how, out)) != 0)) {
    if (rc == SUBMIT_QUEUED) {
      rc = 0;
      goto queued;
    }
    if (s->max_queued != 0 && queue > 0)
      futures__sched_release_room(s, queue);
    goto out;
  }
  /* One publication and at most one wake-up for the queued part. */
  if (likely(queue > 0))
    futures__sched_submit(s, &a, out, queue);
queued:
  if (unlikely(queue < n)) {
    /* Caller-runs: counted while the gate runs them here, without making
     * destroy spin for as long as they take. */
    futures__sched_admit_hold(s, &a);
    run_here(s, out + queue, n - queue);
  }
out:
  futures__sched_admit_end(s, &a);
  return rc;
}

/*
 * Queues @n records of @tasks by priority: runs of normal ones as one
 * publication each, the others on the pool's queue of their level. Out of
 * line, and only for submits that hold such a task.
 */
static void __attribute__((noinline))
queue_by_priority(struct sched *s, struct admission *a,
                  const futures_task_t *tasks, future_t *out[], size_t n)
{
  size_t i = 0, j;

  while (i < n) {
    int prio = priority_of(task_at(tasks, i));

    if (prio != FUTURES_PRIORITY_NORMAL) {
      futures__sched_submit_prio(s, out[i++], prio);
      continue;
    }
    for (j = i + 1;
         j < n && priority_of(task_at(tasks, j)) == FUTURES_PRIORITY_NORMAL;
         j++)
      ;
    futures__sched_submit(s, a, out + i, j - i);
    i = j;
  }
}

/*
 * submit()'s step for arrays that hold a task with a result destructor or
 * a priority (@how): wraps the former (0, or ENOMEM with every record
 * freed), then, for a submitter outside the pool's tasks, queues the
 * first @queue records by priority itself and says so with SUBMIT_QUEUED,
 * so that the common path pays no test of its own for priorities.
 */
static int __attribute__((noinline))
submit_slow(struct sched *s, struct admission *a, const futures_task_t *tasks,
            size_t n, size_t queue, int how, future_t *out[])
{
  int rc;

  if ((how & SUBMIT_OWNED) && (rc = wrap_owned(tasks, n, out)) != 0)
    return rc;
  /* A task's own sub-tasks go to its thread's deque whatever their level,
   * where the task's waits find and run them ("Tasks" in futures.h). */
  if (!(how & SUBMIT_PRIO) || queue == 0 || futures__sched_my_slot(s) != NULL)
    return 0;
  queue_by_priority(s, a, tasks, out, queue);
  return SUBMIT_QUEUED;
}

/*
 * futures_submit_ex() for any task but this version's struct with neither
 * a result destructor nor a priority: older (or newer) sizes, destructors,
 * priorities. Out of line, so that the common path stays as it was.
 */
static int __attribute__((noinline))
submit_ex_slow(struct sched *s, const futures_task_t *task, long long deadline,
               future_t **future)
{
  int prio = priority_of(task), how = SUBMIT_MAY_BLOCK;

  if (!priority_valid(prio))
    return EINVAL;
  if (result_drop_of(task) != NULL)
    how |= SUBMIT_OWNED;
  if (prio != FUTURES_PRIORITY_NORMAL)
    how |= SUBMIT_PRIO;
  return submit(s, task, 1, how, deadline, future);
}

int
futures_submit_ex(futures_pool_t *pool, const futures_task_t *task,
                  const struct timespec *abstime, future_t **future)
{
  long long deadline;

  if (future == NULL)
    return EINVAL;
  *future = NULL;
  if (pool == NULL || task == NULL || !check_task(task, task->size))
    return EINVAL;
  if (abstime != NULL && !futures__timespec_valid(abstime))
    return EINVAL;
  deadline = abstime != NULL ? futures__deadline_of(abstime) : FUTURES_FOREVER;
  if (unlikely(task->size != sizeof(*task) || task->result_drop != NULL ||
               task->priority != FUTURES_PRIORITY_NORMAL))
    return submit_ex_slow(&pool->sched, task, deadline, future);
  return submit(&pool->sched, task, 1, SUBMIT_MAY_BLOCK, deadline, future);
}

int
futures_submit(futures_pool_t *pool, futures_task_fn fn, void *arg,
               future_t **future)
{
  futures_task_t task = FUTURES_TASK_INIT;

  task.fn = fn;
  task.arg = arg;
  return futures_submit_ex(pool, &task, NULL, future);
}

int
futures_submit_all(futures_pool_t *pool, const futures_task_t tasks[],
                   size_t n, future_t *futures[])
{
  int how = 0;

  if (n == 0)
    return 0;
  if (futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    futures[i] = NULL;
  if (pool == NULL || tasks == NULL)
    return EINVAL;
  /* The stride must be believable before we step through the array. */
  if (tasks[0].size < TASK_SIZE_V1 || tasks[0].size > TASK_SIZE_MAX)
    return EINVAL;
  for (size_t i = 0; i < n; i++) {
    int prio;

    if (!check_task(task_at(tasks, i), tasks[0].size) ||
        !priority_valid(prio = priority_of(task_at(tasks, i))))
      return EINVAL;
    if (result_drop_of(task_at(tasks, i)) != NULL)
      how |= SUBMIT_OWNED;
    if (prio != FUTURES_PRIORITY_NORMAL)
      how |= SUBMIT_PRIO;
  }
  return submit(&pool->sched, tasks, n, how, FUTURES_FOREVER, futures);
}
