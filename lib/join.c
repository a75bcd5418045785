/* SPDX-License-Identifier: MIT */
/*
 * join.c - layer 5: waiting for many futures: all, all with a deadline,
 * settled, fail-fast, any, any with a deadline, first success.
 *
 * The "all" family waits for each future in turn after running, in the
 * caller, every future that has not started (help.c,
 * futures__help_run_all). Once the caller has nothing left to run, only
 * futures running elsewhere remain, so it sleeps at most once per running
 * task, not once per future. Whatever the helping did, each future counts
 * as finished only once its state reads DONE.
 *
 * The "any" family must notice whichever future finishes first, so it
 * registers one waiter node per future in a single wait group and sleeps on
 * the group's condition variable.
 */
#include "trace.h"
#include "wait.h"

#define STACK_WAITERS 64
#define PREFETCH_AHEAD 8
#define NO_INDEX ((size_t)-1)

static int
check_array(future_t *const futures[], size_t n)
{
  if (n > 0 && futures == NULL)
    return EINVAL;
  for (size_t i = 0; i < n; i++)
    if (futures__record_bad(futures[i]))
      return EINVAL;
  return 0;
}

/*
 * Before any wait: EDEADLK if the caller is a task waiting for its own
 * future, ECHILD if an unfinished future belongs to the parent of a
 * fork() (it will never finish here, and must not be run here), else 0.
 */
static int
check_stale(future_t *const futures[], size_t n)
{
  int rc;

  if (unlikely(futures__forked()))
    for (size_t i = 0; i < n; i++)
      if ((rc = futures__help_stale(futures[i])) != 0)
        return rc;
  return 0;
}

static int
check_waitable(future_t *const futures[], size_t n)
{
  int rc = futures__wait_check_self(futures, n);

  return rc != 0 ? rc : check_stale(futures, n);
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
    code = futures__record_outcome(futures[i],
                                   results != NULL ? &results[i] : NULL);
    if (code != 0 && rc == 0)
      rc = code;
  }
  return rc;
}

static int
wait_each(future_t *const futures[], size_t n, long long deadline,
          int may_run)
{

  for (size_t i = 0; i < n; i++) {
    int rc;

    /* The records are scattered: fetch ahead of the walk. */
    if (i + PREFETCH_AHEAD < n)
      __builtin_prefetch(futures[i + PREFETCH_AHEAD], 0);
    rc = futures__wait_one(futures[i], deadline, may_run);

    if (rc != 0)
      return rc;
  }
  return 0;
}

static int join_all(future_t *const futures[], size_t n, void *results[]);

/* futures_join_all() whose first future is timed: a join slice if its
 * pool traces (trace.c). Out of line: the untimed path pays one branch. */
static int __attribute__((noinline))
join_all_traced(future_t *const futures[], size_t n, void *results[])
{
  struct trace_join j;
  int rc;

  futures__trace_join_begin(&j, futures, n);
  rc = join_all(futures, n, results);
  futures__trace_join_end(&j);
  return rc;
}

int
futures_join_all(future_t *const futures[], size_t n, void *results[])
{
  int rc;

  if ((rc = check_array(futures, n)) != 0 ||
      (rc = check_waitable(futures, n)) != 0)
    return rc;
  if (n > 0 && futures__trace_maybe(futures[0]))
    return join_all_traced(futures, n, results);
  return join_all(futures, n, results);
}

static int
join_all(future_t *const futures[], size_t n, void *results[])
{
  int rc = 0, code;

  futures__help_run_all(futures, n);
  /* One pass: wait for each in index order and take its outcome at once,
   * while its record is in cache (the first failure met is the lowest-
   * index one). */
  for (size_t i = 0; i < n; i++) {
    if (i + PREFETCH_AHEAD < n)
      __builtin_prefetch(futures[i + PREFETCH_AHEAD], 0);
    if ((code = futures__wait_one(futures[i], FUTURES_FOREVER, 1)) != 0)
      return code;
    code = futures__record_outcome(futures[i],
                                   results != NULL ? &results[i] : NULL);
    if (code != 0 && rc == 0)
      rc = code;
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
  if ((rc = check_waitable(futures, n)) != 0 ||
      (rc = wait_each(futures, n, futures__deadline_of(abstime), 0)) != 0)
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
  if ((rc = check_waitable(futures, n)) != 0)
    return rc;
  futures__help_run_all(futures, n);
  if ((rc = wait_each(futures, n, FUTURES_FOREVER, 1)) != 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    outcomes[i].code =
        futures__record_outcome(futures[i], &outcomes[i].result);
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
  m->w = n <= STACK_WAITERS
             ? m->stack
             : (struct waiter *)futures__malloc(n * sizeof(*m->w));
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
        judge(ctx, rev->index, futures__record_outcome(rev->f, NULL)) ==
            WINNER)
      winner = rev->index;
  }
  return winner;
}

/*
 * Offers one unstarted future of the array to the gate in the caller; 1
 * if there was one (whether it ran here or elsewhere, its node fires when
 * it is published). Only futures of a pool whose task the caller is
 * running: there, waiting without helping could deadlock a small pool
 * (this thread holds one of its workers). Any other caller leaves the race
 * to the workers, since a long task run here would keep it from returning
 * when a short one wins.
 */
static int
help_one(future_t *const futures[], size_t n)
{
  for (size_t i = n; i-- > 0;)
    if ((futures__record_state(futures[i]) & F_PHASE) == F_QUEUED &&
        futures__sched_in_task(futures[i]->sched)) {
      futures__help_run(futures[i]);
      return 1;
    }
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
         int timed, long long deadline, size_t *winner)
{
  /* The cleanup unregisters the nodes if a task this thread runs while
   * waiting (help_one) exits the thread: they live on this stack. */
  struct multi m __attribute__((cleanup(multi_fini)));
  size_t done = 0;
  int rc;

  m.active = 0;
  *winner = NO_INDEX;
  /* A task waiting for itself would wait for ever (even if another future
   * could win: the answer must not depend on timing). */
  if ((rc = futures__wait_check_self(futures, n)) != 0)
    return rc;
  /* A winner among the finished ones needs no registration at all. */
  for (size_t i = 0; i < n; i++)
    if (futures__record_done(futures[i]) &&
        judge(ctx, i, futures__record_outcome(futures[i], NULL)) == WINNER) {
      *winner = i;
      return 0;
    }
  /* In a fork() child, a future of the parent's pool that has not
   * finished never will: no winner can be certain, so say so now. */
  if ((rc = check_stale(futures, n)) != 0)
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
      if (judge(ctx, i, futures__record_outcome(futures[i], NULL)) ==
          WINNER) {
        *winner = i;
        goto out;
      }
    }
  }
  for (;;) {
    *winner = multi_take(&m, judge, ctx);
    if (*winner != NO_INDEX || done + m.seen == n)
      break;
    /* Untimed, a task helps with the race itself; timed, it only runs
     * its own pending sub-tasks (each may overrun the deadline once), as
     * future_wait_until() does. */
    if (!timed ? help_one(futures, n)
               : (!futures__deadline_passed(deadline) &&
                  futures__help_descendant()))
      continue;
    rc = futures__group_sleep(&m.g, m.seen, deadline);
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
  rc = wait_any(futures, n, judge_first, NULL, abstime != NULL,
                abstime != NULL ? futures__deadline_of(abstime)
                                : FUTURES_FOREVER,
                &w);
  if (rc != 0)
    return rc;
  *index = w;
  return futures__record_outcome(futures[w], result);
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
  if ((rc = wait_any(futures, n, judge_success, NULL, 0, FUTURES_FOREVER,
                     &w)) != 0)
    return rc;
  if (w == NO_INDEX) {
    if (codes != NULL)
      for (size_t i = 0; i < n; i++)
        codes[i] = futures__record_outcome(futures[i], NULL);
    return ENOENT;
  }
  if (index != NULL)
    *index = w;
  return futures__record_outcome(futures[w], result);
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
  if ((rc = wait_any(futures, n, judge_failure, NULL, 0, FUTURES_FOREVER,
                     &w)) != 0)
    return rc;
  if (w != NO_INDEX) {
    if (failed != NULL)
      *failed = w;
    return futures__record_outcome(futures[w], NULL);
  }
  return collect(futures, n, results);
}
