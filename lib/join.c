/* SPDX-License-Identifier: MIT */
/*
 * join.c - waiting for many futures: all, all with a deadline, settled,
 * fail-fast, any, any with a deadline, first success.
 *
 * The "all" family waits for each future in turn after running, in the
 * caller, every future that has not started (newest first, so that the
 * caller and the workers, which take the oldest first, meet in the middle
 * rather than fight over the same tasks). Once the caller has nothing left
 * to run, only futures running elsewhere remain, so it sleeps at most once
 * per running task, not once per future.
 *
 * The "any" family must notice whichever future finishes first, so it
 * registers one waiter node per future in a single wait group and sleeps on
 * the group's condition variable.
 */
#include "future.h"
#include "pool.h"
#include "sync.h"
#include "wait.h"

#include <stdint.h>

#define STACK_WAITERS 64
#define RETRACT_BATCH 32
#define PREFETCH_AHEAD 8
/* A task this short is cheaper to run here than to wake a worker for. */
#define SHORT_TASK_NS 5000
#define NO_INDEX ((size_t)-1)

static int
check_array(future_t *const futures[], size_t n)
{
  if (n > 0 && futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    if (futures__future_bad(futures[i]))
      return EINVAL;
  return 0;
}

/* Runs a record taken back from a ring (we hold the queue's reference). */
static void
run_retracted(struct future *f)
{
  if (futures__future_claim(f))
    futures__future_execute(f, EXEC_QREF | EXEC_HELPED);
  else
    futures__future_unref(f); /* another waiter claimed it meanwhile */
}

/*
 * Runs futures of the array that have not started, newest first: the
 * caller and the workers, which take the oldest first, then meet in the
 * middle instead of fighting over the same tasks. An outside thread first
 * takes its own newest submissions back from its ring (no stale entry is
 * left for a worker to skip later); anything else it claims in place. One
 * helping episode serves every consecutive future of the same pool.
 */
static void
help_all(future_t *const futures[], size_t n)
{
  struct future *batch[RETRACT_BATCH];
  FUTURES_HELP_CTX(h);
  int inside = 0;
  size_t i = n, want = 1;

  /* Our own sub-tasks first: usually these are the futures themselves. */
  while (futures__pool_run_descendant())
    ;
  while (i > 0) {
    struct future *f = futures[i - 1];
    struct producer *p;
    size_t k;

    if ((future_state(f) & F_PHASE) != F_QUEUED) {
      i--;
      continue;
    }
    if (inside && h.pool != f->pool) {
      futures__help_exit(&h);
      inside = 0;
    }
    if (!inside) {
      if (!futures__help_enter(&h, f)) {
        i--;
        continue;
      }
      inside = 1;
    }
    p = h.pin >= 0 ? futures__producer_find(f->pool) : NULL;
    k = p != NULL ? futures__producer_retract(p, futures, i, batch, want)
                  : 0;
    if (k > 0) {
      long long t0 = futures__now_ns();

      for (size_t j = 0; j < k; j++)
        run_retracted(batch[j]);
      i -= k;
      /* Take more at once only while tasks prove short: a long one taken
       * back with its siblings would hold them all in this thread while
       * the workers, woken when they were submitted, find nothing. */
      if (futures__now_ns() - t0 < (long long)k * SHORT_TASK_NS)
        want = want * 2 < RETRACT_BATCH ? want * 2 : RETRACT_BATCH;
      else
        want = 1;
      continue;
    }
    if (futures__future_claim(f))
      futures__future_execute(f, EXEC_HELPED);
    i--;
  }
  if (inside)
    futures__help_exit(&h);
}

/* Every future is DONE: the lowest-index failure, results filled. */
static int
collect(future_t *const futures[], size_t n, void *results[])
{
  int rc = 0;

  for (size_t i = 0; i < n; i++) {
    int code;

    if (i + PREFETCH_AHEAD < n)
      __builtin_prefetch(futures[i + PREFETCH_AHEAD], 0);
    code = futures[i]->code;

    if (results != NULL)
      results[i] = futures[i]->u.q.result;
    if (code != 0 && rc == 0)
      rc = code;
  }
  return rc;
}

static int
wait_each(future_t *const futures[], size_t n,
          const struct timespec *abstime)
{
  int may_run = abstime == NULL;

  for (size_t i = 0; i < n; i++) {
    int rc;

    /* The records are scattered: fetch ahead of the walk. */
    if (i + PREFETCH_AHEAD < n)
      __builtin_prefetch(futures[i + PREFETCH_AHEAD], 0);
    rc = futures__wait_one(futures[i], abstime, may_run);

    if (rc != 0)
      return rc;
  }
  return 0;
}

int
futures_join_all(future_t *const futures[], size_t n, void *results[])
{
  int rc, code;

  if ((rc = check_array(futures, n)) != 0)
    return rc;
  help_all(futures, n);
  /* One pass: wait for each in index order and take its outcome at once,
   * while its record is in cache (the first failure met is the lowest-
   * index one). */
  for (size_t i = 0; i < n; i++) {
    if (i + PREFETCH_AHEAD < n)
      __builtin_prefetch(futures[i + PREFETCH_AHEAD], 0);
    if ((code = futures__wait_one(futures[i], NULL, 1)) != 0)
      return code;
    if (results != NULL)
      results[i] = futures[i]->u.q.result;
    if (futures[i]->code != 0 && rc == 0)
      rc = futures[i]->code;
  }
  return rc;
}

int
futures_join_all_until(future_t *const futures[], size_t n, void *results[],
                       const struct timespec *abstime)
{
  int rc;

  if ((rc = check_array(futures, n)) != 0)
    return rc;
  if (!futures__timespec_valid(abstime))
    return EINVAL;
  if ((rc = wait_each(futures, n, abstime)) != 0)
    return rc;
  return collect(futures, n, results);
}

int
futures_join_all_settled(future_t *const futures[], size_t n,
                         futures_outcome_t outcomes[])
{
  int rc;

  if ((rc = check_array(futures, n)) != 0)
    return rc;
  if (n > 0 && outcomes == NULL)
    return EINVAL;
  help_all(futures, n);
  if ((rc = wait_each(futures, n, NULL)) != 0)
    return rc;
  for (size_t i = 0; i < n; i++) {
    outcomes[i].code = futures[i]->code;
    outcomes[i].result = futures[i]->u.q.result;
  }
  return 0;
}

/* ------------------------------------------------------------ any */

/*
 * One wait group over many futures. The caller registers every unfinished
 * future, then repeatedly takes the nodes that fired (oldest first) and
 * judges them, runs an unstarted future itself, or sleeps.
 */
struct multi {
  int active; /* initialised and not yet finished */
  struct wgroup g;
  struct waiter stack[STACK_WAITERS];
  struct waiter *w;   /* stack, or a heap array for large n */
  size_t nreg;        /* nodes registered */
  size_t seen;        /* fired nodes already taken */
};

/* What the judge says about one finished future. */
enum verdict { KEEP_WAITING, WINNER };

typedef enum verdict (*judge_fn)(void *ctx, size_t index, int code);

static int
multi_init(struct multi *m, size_t n)
{
  m->w = n <= STACK_WAITERS ? m->stack : futures__malloc(n * sizeof(*m->w));
  if (m->w == NULL)
    return ENOMEM;
  futures__group_init(&m->g);
  m->nreg = 0;
  m->seen = 0;
  m->active = 1;
  return 0;
}

static void
multi_fini(struct multi *m)
{
  if (!m->active)
    return;
  m->active = 0;
  /* Unregister the nodes that have not fired; after this no completer
   * touches the group, which then can go. */
  for (size_t i = 0; i < m->nreg; i++)
    futures__group_remove(&m->w[i]);
  futures__group_fini(&m->g);
  if (m->w != m->stack)
    futures__free(m->w);
}

/* Oldest-first delivery of the fired nodes; returns the winner or
 * NO_INDEX. */
static size_t
multi_take(struct multi *m, judge_fn judge, void *ctx)
{
  struct waiter *list = futures__group_take_fired(&m->g), *rev = NULL;
  size_t winner = NO_INDEX;

  /* The group keeps them newest first: reverse. */
  while (list != NULL) {
    struct waiter *next = list->fired_next;

    list->fired_next = rev;
    rev = list;
    list = next;
  }
  for (; rev != NULL; rev = rev->fired_next) {
    m->seen++;
    if (winner == NO_INDEX &&
        judge(ctx, rev->index, rev->f->code) == WINNER)
      winner = rev->index;
  }
  return winner;
}

/*
 * Runs one unstarted future of the array in the caller; 1 if it did. Only
 * futures of a pool whose task the caller is running: there, waiting
 * without helping could deadlock a small pool (this thread holds one of its
 * workers). Any other caller leaves the race to the workers, since a long
 * task run here would keep it from returning when a short one wins.
 */
static int
help_one(future_t *const futures[], size_t n)
{
  for (size_t i = n; i-- > 0;)
    if ((future_state(futures[i]) & F_PHASE) == F_QUEUED &&
        futures__pool_in_task(futures[i]->pool) &&
        futures__run_inline(futures[i]))
      return 1;
  return 0;
}

/*
 * The engine of the any family. Futures already finished are judged in
 * index order first; then it waits. Returns 0 with *@winner set (or
 * NO_INDEX when every future finished without a winner), ETIMEDOUT or
 * ENOMEM.
 */
static int
wait_any(future_t *const futures[], size_t n, judge_fn judge, void *ctx,
         const struct timespec *abstime, size_t *winner)
{
  /* The cleanup unregisters the nodes if a task this thread runs while
   * waiting (help_one) exits the thread: they live on this stack. */
  struct multi m __attribute__((cleanup(multi_fini)));
  size_t done = 0;
  int rc;

  m.active = 0;
  *winner = NO_INDEX;
  /* A winner among the finished ones needs no registration at all. */
  for (size_t i = 0; i < n; i++)
    if (future_done(futures[i]) &&
        judge(ctx, i, futures[i]->code) == WINNER) {
      *winner = i;
      return 0;
    }
  /* In a fork() child, a future of the parent's pool that has not
   * finished never will: no winner can be certain, so say so now. */
  for (size_t i = 0; i < n; i++)
    if ((rc = futures__wait_stale(futures[i])) != 0)
      return rc;
  if ((rc = multi_init(&m, n)) != 0)
    return rc;
  /* Every future is either registered (and judged when it fires) or found
   * finished by group_add (and judged here): none is left out, however
   * the completions interleave with this loop. */
  for (size_t i = 0; i < n; i++) {
    if (futures__group_add(&m.g, &m.w[m.nreg], futures[i], i)) {
      m.nreg++;
    } else {
      /* Finished between the scan and now. */
      done++;
      if (judge(ctx, i, futures[i]->code) == WINNER) {
        *winner = i;
        goto out;
      }
    }
  }
  for (;;) {
    *winner = multi_take(&m, judge, ctx);
    if (*winner != NO_INDEX || done + m.seen == n)
      break;
    if (abstime == NULL && help_one(futures, n))
      continue;
    rc = futures__group_sleep(&m.g, m.seen, abstime);
    if (rc != 0) {
      *winner = multi_take(&m, judge, ctx);
      if (*winner != NO_INDEX || done + m.seen == n)
        rc = 0;
      break;
    }
  }
out:
  multi_fini(&m);
  return rc;
}

static enum verdict
judge_first(void *ctx, size_t index, int code)
{
  (void)ctx;
  (void)index;
  (void)code;
  return WINNER;
}

static int
join_any(future_t *const futures[], size_t n, size_t *index, void **result,
         const struct timespec *abstime)
{
  size_t w;
  int rc;

  if (index != NULL)
    *index = NO_INDEX;
  if (index == NULL || n == 0 || check_array(futures, n) != 0)
    return EINVAL;
  if (abstime != NULL && !futures__timespec_valid(abstime))
    return EINVAL;
  rc = wait_any(futures, n, judge_first, NULL, abstime, &w);
  if (rc != 0)
    return rc;
  *index = w;
  if (result != NULL)
    *result = futures[w]->u.q.result;
  return futures[w]->code;
}

int
futures_join_any(future_t *const futures[], size_t n, size_t *index,
                 void **result)
{
  return join_any(futures, n, index, result, NULL);
}

int
futures_join_any_until(future_t *const futures[], size_t n, size_t *index,
                       void **result, const struct timespec *abstime)
{
  if (index != NULL)
    *index = NO_INDEX;
  if (abstime == NULL)
    return EINVAL;
  return join_any(futures, n, index, result, abstime);
}

static enum verdict
judge_success(void *ctx, size_t index, int code)
{
  (void)ctx;
  (void)index;
  return code == 0 ? WINNER : KEEP_WAITING;
}

int
futures_join_any_ok(future_t *const futures[], size_t n, size_t *index,
                    void **result, int codes[])
{
  size_t w;
  int rc;

  if (index != NULL)
    *index = NO_INDEX;
  if (check_array(futures, n) != 0)
    return EINVAL;
  if (n == 0)
    return ENOENT;
  if ((rc = wait_any(futures, n, judge_success, NULL, NULL, &w)) != 0)
    return rc;
  if (w == NO_INDEX) {
    if (codes != NULL)
      for (size_t i = 0; i < n; i++)
        codes[i] = futures[i]->code;
    return ENOENT;
  }
  if (index != NULL)
    *index = w;
  if (result != NULL)
    *result = futures[w]->u.q.result;
  return 0;
}

static enum verdict
judge_failure(void *ctx, size_t index, int code)
{
  (void)ctx;
  (void)index;
  return code != 0 ? WINNER : KEEP_WAITING;
}

int
futures_join_all_failfast(future_t *const futures[], size_t n,
                          void *results[], size_t *failed)
{
  size_t w;
  int rc;

  if (failed != NULL)
    *failed = NO_INDEX;
  if ((rc = check_array(futures, n)) != 0)
    return rc;
  if (n == 0)
    return 0;
  if ((rc = wait_any(futures, n, judge_failure, NULL, NULL, &w)) != 0)
    return rc;
  if (w != NO_INDEX) {
    if (failed != NULL)
      *failed = w;
    return futures[w]->code;
  }
  return collect(futures, n, results);
}
