/* SPDX-License-Identifier: MIT */
/*
 * check_stress (internal counters): bounded stress, deterministic in its
 * choices from a seed.
 *
 *   mixed     Four threads at once submit, get, join, chain, cancel and
 *             release before, during and after completion; then the pool
 *             is destroyed (draining or cancelling) while tasks are queued
 *             and more submits race the destroy. One pool per round. Every
 *             accepted task ran exactly once or was cancelled (its drop
 *             function ran once), every refused one never ran, every
 *             result reached its waiter (count and checksum), and memory
 *             returns to its start.
 *   wakeup    A waiter and a completer lined up so that the waiter arrives
 *             just before, exactly at or just after the completion (a spin
 *             delay drawn from the seed), through every kind of wait, and
 *             a release racing the completion. A lost wake-up hangs, and
 *             the Check timeout turns that into a failure.
 *   teardown  A pool created and destroyed over and over with tasks in
 *             flight: no thread, descriptor or record is left behind.
 *
 * The TCases tagged "slow" run the full counts (make check-stress); the
 * "quick" TCase runs small versions of all three in every make check.
 *
 * Environment: FUTURES_STRESS_SEED=<n> repeats a run (the seed is printed
 * at the start); FUTURES_STRESS_SCALE=<factor> multiplies every count
 * (e.g. 0.01 under valgrind). FUTURES_ALLOC=malloc is set unless the
 * environment chose, so that live records are counted exactly; with
 * FUTURES_ALLOC=cached the tests check that the record cache stops
 * growing instead.
 *
 * Tasks and helper threads only record what they saw; the test thread
 * asserts after joining them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futures.h"
#include "internal.h"
#include "testutil.h"

Suite *stress_suite(void);

#define SEC 1000000000LL /* nanoseconds per second */
#define US  1000LL       /* nanoseconds per microsecond */

/* ------------------------------------------------------------ helpers */

static uint64_t stress_seed;

static uint64_t
seed_from_env(void)
{
  const char *s = getenv("FUTURES_STRESS_SEED");

  if (s != NULL && *s != '\0')
    return strtoull(s, NULL, 0);
  return 20261125; /* fixed, so that CI runs repeat */
}

/* splitmix64: a stream per (seed, purpose, round, thread). */
static uint64_t
mix(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static uint64_t
rng_next(uint64_t *s)
{
  *s += 0x9e3779b97f4a7c15ULL;
  return mix(*s);
}

static uint64_t
rng_stream(uint64_t a, uint64_t b, uint64_t c)
{
  return mix(stress_seed ^ mix(a ^ mix(b ^ mix(c))));
}

static int
malloc_mode(void)
{
  return futures__alloc_cached() == 0;
}

/* Entries of a /proc/self directory (threads in task/, descriptors in
 * fd/), not counting "." and "..". */
static long
proc_entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  long n = 0;

  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static long
proc_threads(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long n = -1;

  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "Threads: %ld", &n) == 1)
      break;
  fclose(f);
  return n;
}

/* The thread count once it is at most @n, or after 10 s (a joined thread
 * may stay listed for a moment). */
static long
threads_at_most(long n)
{
  long long end = tu_now_ns() + 10 * SEC;
  long c;

  while ((c = proc_threads()) > n && tu_now_ns() < end)
    sched_yield();
  return c;
}

/* A baseline thread count after a first pool (TSan's helper thread). */
static long
settled_threads(void)
{
  futures_pool_t *pool = NULL;

  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  return threads_at_most(proc_threads());
}

/*
 * Flags that hand work from one thread to another. flag_raise() sets one
 * with release order; spin_until_set() waits for it: a few hundred pauses,
 * then a yield now and then, so that on a loaded machine the thread that
 * will set the flag gets the CPU (a pure spin costs a scheduler time slice
 * per hand-off). For helgrind (--enable-valgrind-annotations builds), which
 * does not follow C11 atomics, flag_watch() marks a flag as atomic and the
 * pair adds the happens-before edge; flag_unwatch() undoes the marking
 * before the flag's memory is reused.
 */
static void
flag_watch(atomic_int *flag)
{
  (void)flag; /* unused when the annotations are off */
  FUTURES_ATOMIC_RANGE(flag, sizeof(*flag));
}

static void
flag_unwatch(atomic_int *flag)
{
  (void)flag;
  FUTURES_PLAIN_RANGE(flag, sizeof(*flag));
}

static void
flag_raise(atomic_int *flag)
{
  FUTURES_HAPPENS_BEFORE(flag);
  atomic_store_explicit(flag, 1, memory_order_release);
}

static void
spin_until_set(atomic_int *flag)
{
  for (unsigned i = 1; !atomic_load_explicit(flag, memory_order_acquire); i++) {
    futures__cpu_relax();
    if (i % 256 == 0)
      sched_yield();
  }
  FUTURES_HAPPENS_AFTER(flag);
}

/*
 * Record memory over a run of @rounds rounds: in malloc mode the live
 * records must be back to their start after every round, exactly. In
 * cached mode the bytes the record cache holds reach their high-water mark
 * in the first round (measured: they do not move after it); they may grow
 * by CACHE_SLACK over the run, and by at most one chunk in its second
 * half, so a steady leak of even a few records per round fails.
 */
struct memcheck {
  long live0;
  long mid;           /* the round whose end is the second reference */
  size_t bytes_first; /* cache bytes after round 0 */
  size_t bytes_mid;   /* cache bytes after round mid (0: not yet) */
};

#define CHUNK_BYTES ((size_t)64 << 10) /* alloc.c's chunk */
#define CACHE_SLACK (8 * CHUNK_BYTES)

static void
mem_start(struct memcheck *m, long rounds)
{
  m->live0 = futures__alloc_live();
  m->mid = rounds / 2 > 0 ? rounds / 2 : 1;
  m->bytes_first = 0;
  m->bytes_mid = 0;
}

static void
mem_after_round(struct memcheck *m, long round)
{
  if (round == 0)
    m->bytes_first = futures__alloc_bytes();
  if (round == m->mid)
    m->bytes_mid = futures__alloc_bytes();
}

static void
mem_check(const struct memcheck *m, const char *what, long round)
{
  if (malloc_mode()) {
    long live = futures__alloc_live();

    ck_assert_msg(live == m->live0,
                  "%s: %ld future records leaked by round %ld (seed %" PRIu64
                  ")",
                  what, live - m->live0, round, stress_seed);
  } else {
    size_t bytes = futures__alloc_bytes();

    ck_assert_msg(bytes <= m->bytes_first + CACHE_SLACK,
                  "%s: record cache grew from %zu to %zu bytes by round %ld "
                  "(seed %" PRIu64 ")",
                  what, m->bytes_first, bytes, round, stress_seed);
    ck_assert_msg(m->bytes_mid == 0 || bytes <= m->bytes_mid + CHUNK_BYTES,
                  "%s: record cache still growing in the second half: %zu "
                  "bytes at round %ld, %zu at round %ld (seed %" PRIu64 ")",
                  what, m->bytes_mid, m->mid, bytes, round, stress_seed);
  }
}

/* ------------------------------------------------------------ mixed */

#define NSUBMITTERS 4
#define IDS_PER_OP  10 /* the most ids one operation uses */
#define MAX_BATCH   8
#define MAX_NESTED  5
#define EDOM_EVERY  11 /* value % EDOM_EVERY == 0: the task fails */

struct round;

/* One task of a round: how often it ran and was dropped. */
struct mtask {
  atomic_int runs;
  atomic_int drops;
  atomic_int accepted; /* its submit returned 0 */
  int nodrop;          /* submitted without a drop function */
  int cancelable;      /* future_cancel() was called on it */
  struct round *r;
};

/* What one submitting thread saw. */
struct tally {
  long waits;        /* outcomes read by a waiter */
  uint64_t got_sum;  /* checksum of the values received */
  uint64_t want_sum; /* checksum of the values expected */
  long bad_outcome;  /* code or value not what the task produces */
  long bad_rc;       /* a call returned an unexpected code */
  long refused;      /* submits refused with ESHUTDOWN */
  long first_bad_id; /* for the failure message, -1 if none */
  int first_bad_rc;
};

struct round {
  long index;
  int mode; /* FUTURES_DESTROY_* */
  futures_pool_t *pool;
  struct mtask *tasks;
  long ntasks;
  long ops;  /* operations per submitter in phase 1 */
  long late; /* submits per thread racing the destroy */
  struct tally tally[NSUBMITTERS + 1]; /* the last one is main's */
  /* Futures left for the end, per thread (phase 1 and late submits). */
  future_t **keep[NSUBMITTERS];
  long *keep_id[NSUBMITTERS];
  long nkeep[NSUBMITTERS];
  atomic_int late_go; /* phase 2: start the racing submits */
  long nran, ncancelled, nwaits, nrefused; /* totals, set by the verify */
};

static long
mt_id(const struct mtask *t)
{
  return (long)(t - t->r->tasks);
}

/* A task's value: never 0, a function of the seed, round and id. */
static uintptr_t
mt_value(const struct round *r, long id)
{
  return (uintptr_t)(rng_stream(1, (uint64_t)r->index, (uint64_t)id) | 1u);
}

static int
mt_code(const struct round *r, long id)
{
  return mt_value(r, id) % EDOM_EVERY == 0 ? EDOM : 0;
}

static int
mt_task(void *arg, void **result)
{
  struct mtask *t = arg;
  long id = mt_id(t);
  int code = mt_code(t->r, id);

  atomic_fetch_add(&t->runs, 1);
  if (code != 0)
    return code;
  *result = (void *)mt_value(t->r, id);
  return 0;
}

static void
mt_drop(void *arg)
{
  struct mtask *t = arg;

  atomic_fetch_add(&t->drops, 1);
}

static futures_task_t
mt_spec(struct round *r, long id)
{
  futures_task_t s = FUTURES_TASK(mt_task, &r->tasks[id], mt_drop);

  return s;
}

static int
mt_submit(struct round *r, long id, future_t **f)
{
  futures_task_t s = mt_spec(r, id);
  int rc = futures_submit_ex(r->pool, &s, NULL, f);

  if (rc == 0)
    atomic_store(&r->tasks[id].accepted, 1);
  return rc;
}

static void
tally_bad(struct tally *ty, long id, int rc)
{
  if (ty->first_bad_id < 0) {
    ty->first_bad_id = id;
    ty->first_bad_rc = rc;
  }
}

/*
 * A waiter's check of one outcome: code @rc and @value from task @id.
 * @cancel_ok: ECANCELED is a valid outcome too (the task may have been
 * cancelled rather than run).
 */
static void
tally_outcome(struct tally *ty, struct round *r, long id, int rc, void *value,
              int cancel_ok)
{
  int want = mt_code(r, id);

  ty->waits++;
  if (rc == ECANCELED && cancel_ok && want != ECANCELED) {
    if (value != NULL) {
      ty->bad_outcome++;
      tally_bad(ty, id, rc);
    }
    return;
  }
  if (rc != want || (want == 0 && value != (void *)mt_value(r, id)) ||
      (want != 0 && value != NULL)) {
    ty->bad_outcome++;
    tally_bad(ty, id, rc);
  }
  if (want == 0) {
    ty->got_sum += (uintptr_t)value;
    ty->want_sum += mt_value(r, id);
  }
}

/* A task held until its submitter has released its handle. */
struct mhold {
  struct mtask *t;
  struct tu_latch started, release;
  atomic_int done; /* the task no longer touches this struct */
};

static int
hold_task(void *arg, void **result)
{
  struct mhold *h = arg;
  struct mtask *t = h->t;

  tu_latch_open(&h->started);
  tu_latch_wait(&h->release);
  flag_raise(&h->done);
  /* h may be gone from here on. */
  return mt_task(t, result);
}

/* A fork-join task: submits its children (the next ids), joins them and
 * checks their values itself; its own value is as any task's. */
static int
nested_task(void *arg, void **result)
{
  struct mtask *t = arg;
  struct round *r = t->r;
  long id = mt_id(t);
  long m = 1 + (long)(mt_value(r, id) >> 8) % MAX_NESTED;
  future_t *f[MAX_NESTED];
  void *res[MAX_NESTED];
  long n = 0;
  int bad = 0, lowest = 0;

  for (long i = 0; i < m; i++) {
    if (mt_submit(r, id + 1 + i, &f[n]) == 0) {
      if (lowest == 0)
        lowest = mt_code(r, id + 1 + i);
      n++;
    } else {
      bad = 1;
    }
  }
  if (futures_join_all(f, (size_t)n, res) != lowest)
    bad = 1;
  for (long i = 0; i < n; i++) {
    if (mt_code(r, id + 1 + i) == 0 &&
        res[i] != (void *)mt_value(r, id + 1 + i))
      bad = 1;
    future_release(f[i]);
  }
  if (bad)
    return EPROTO; /* not a code any task returns: the waiter sees it */
  return mt_task(t, result);
}

static int
cont_task(void *arg, int code, void *value, void **result)
{
  struct mtask *t = arg;
  long id = mt_id(t);

  /* The antecedent is id - 1: pass on its failure, or add the values. */
  atomic_fetch_add(&t->runs, 1);
  if (code != 0)
    return code;
  if (value != (void *)mt_value(t->r, id - 1))
    return EPROTO;
  *result = (void *)((uintptr_t)value + mt_value(t->r, id));
  return 0;
}

enum {
  OP_GET,     /* submit, get, release: after completion */
  OP_RELEASE, /* submit, release at once: before or during */
  OP_BATCH,   /* submit_all, join_all, release */
  OP_KEEP,    /* submit, keep for the end (destroy with it queued) */
  OP_HOLD,    /* submit, release while it runs, then let it finish */
  OP_NESTED,  /* fork-join inside a task */
  OP_THEN,    /* continuation; antecedent released at once */
  OP_CANCEL,  /* submit, cancel at once, get */
  OP_COUNT
};

/* Percent of operations of each kind. */
static const int op_weight[OP_COUNT] = {20, 15, 15, 10, 8, 12, 10, 10};

static int
op_pick(uint64_t x)
{
  int v = (int)(x % 100), op = 0;

  while (op < OP_COUNT - 1 && v >= op_weight[op])
    v -= op_weight[op++];
  return op;
}

static void
op_run(struct round *r, int th, long id, uint64_t x)
{
  struct tally *ty = &r->tally[th];
  future_t *f = NULL, *g = NULL, *fs[MAX_BATCH];
  futures_task_t specs[MAX_BATCH];
  void *res[MAX_BATCH], *v = NULL;
  int rc, lowest = 0;
  long n;

  switch (op_pick(x)) {
  case OP_GET:
    if ((rc = mt_submit(r, id, &f)) != 0)
      break;
    rc = future_get(f, &v);
    tally_outcome(ty, r, id, rc, v, 0);
    future_release(f);
    return;
  case OP_RELEASE:
    if ((rc = mt_submit(r, id, &f)) != 0)
      break;
    future_release(f);
    return;
  case OP_BATCH:
    n = 1 + (long)(x >> 8) % MAX_BATCH;
    for (long i = 0; i < n; i++)
      specs[i] = mt_spec(r, id + i);
    if ((rc = futures_submit_all(r->pool, specs, (size_t)n, fs)) != 0)
      break;
    for (long i = 0; i < n; i++) {
      atomic_store(&r->tasks[id + i].accepted, 1);
      if (lowest == 0)
        lowest = mt_code(r, id + i);
    }
    rc = futures_join_all(fs, (size_t)n, res);
    if (rc != lowest) {
      ty->bad_rc++;
      tally_bad(ty, id, rc);
    }
    for (long i = 0; i < n; i++) {
      tally_outcome(ty, r, id + i, mt_code(r, id + i), res[i], 0);
      future_release(fs[i]);
    }
    return;
  case OP_KEEP:
    if ((rc = mt_submit(r, id, &f)) != 0)
      break;
    r->keep[th][r->nkeep[th]] = f;
    r->keep_id[th][r->nkeep[th]++] = id;
    return;
  case OP_HOLD: {
    struct mhold h;
    futures_task_t s = FUTURES_TASK(hold_task, &h, NULL);

    h.t = &r->tasks[id];
    h.t->nodrop = 1;
    tu_latch_init(&h.started);
    tu_latch_init(&h.release);
    atomic_init(&h.done, 0);
    flag_watch(&h.done);
    rc = futures_submit_ex(r->pool, &s, NULL, &f);
    if (rc == 0) {
      atomic_store(&r->tasks[id].accepted, 1);
      /* Every hold is released right after it starts, so a worker is
       * never kept from the next one for long. */
      tu_latch_wait(&h.started);
      future_release(f); /* during: the task is running */
      tu_latch_open(&h.release);
      spin_until_set(&h.done);
    }
    flag_unwatch(&h.done);
    tu_latch_destroy(&h.release);
    tu_latch_destroy(&h.started);
    if (rc != 0)
      break;
    return;
  }
  case OP_NESTED: {
    futures_task_t s = FUTURES_TASK(nested_task, &r->tasks[id], mt_drop);

    if ((rc = futures_submit_ex(r->pool, &s, NULL, &f)) != 0)
      break;
    atomic_store(&r->tasks[id].accepted, 1);
    rc = future_get(f, &v);
    tally_outcome(ty, r, id, rc, v, 0);
    future_release(f);
    return;
  }
  case OP_THEN:
    if ((rc = mt_submit(r, id, &f)) != 0)
      break;
    r->tasks[id + 1].nodrop = 1;
    rc = futures_then(r->pool, f, cont_task, &r->tasks[id + 1], &g);
    future_release(f); /* the continuation still runs */
    if (rc != 0)
      break;
    atomic_store(&r->tasks[id + 1].accepted, 1);
    rc = future_get(g, &v);
    {
      int want = mt_code(r, id);
      uintptr_t wv = mt_value(r, id) + mt_value(r, id + 1);

      ty->waits++;
      if (rc != want || (want == 0 && v != (void *)wv)) {
        ty->bad_outcome++;
        tally_bad(ty, id + 1, rc);
      }
      if (want == 0) {
        ty->got_sum += (uintptr_t)v;
        ty->want_sum += wv;
      }
    }
    future_release(g);
    return;
  case OP_CANCEL:
    r->tasks[id].cancelable = 1;
    if ((rc = mt_submit(r, id, &f)) != 0)
      break;
    rc = future_cancel(f);
    if (rc != 0 && rc != EINPROGRESS && rc != EALREADY) {
      ty->bad_rc++;
      tally_bad(ty, id, rc);
    }
    {
      int got = future_get(f, &v);

      if (rc == 0 && got != ECANCELED) {
        ty->bad_outcome++;
        tally_bad(ty, id, got);
      }
      tally_outcome(ty, r, id, got, v, rc == 0);
    }
    future_release(f);
    return;
  default:
    return;
  }
  /* A call failed: only a refusal after destroy began is expected, and
   * phase 1 runs before destroy. */
  ty->bad_rc++;
  tally_bad(ty, id, rc);
}

static void
phase1_main(void *arg, int th)
{
  struct round *r = arg;
  uint64_t s = rng_stream(2, (uint64_t)r->index, (uint64_t)th);
  long base = (long)th * r->ops * IDS_PER_OP;

  for (long i = 0; i < r->ops; i++)
    op_run(r, th, base + i * IDS_PER_OP, rng_next(&s));
}

/* Phase 2: submits that race the start of destroy. */
static void
late_main(void *arg, int th)
{
  struct round *r = arg;
  struct tally *ty = &r->tally[th];
  long base = (long)NSUBMITTERS * r->ops * IDS_PER_OP + (long)th * r->late;
  uint64_t s = rng_stream(3, (uint64_t)r->index, (uint64_t)th);

  spin_until_set(&r->late_go);
  for (long i = 0; i < r->late; i++) {
    future_t *f = NULL;
    long id = base + i;
    int rc = mt_submit(r, id, &f);

    if (rc == ESHUTDOWN) {
      ty->refused++;
      if (f != NULL)
        ty->bad_rc++;
      continue;
    }
    if (rc != 0) {
      ty->bad_rc++;
      tally_bad(ty, id, rc);
      continue;
    }
    if (rng_next(&s) % 2 == 0) {
      future_release(f); /* queued behind the gates: released unrun */
    } else {
      r->keep[th][r->nkeep[th]] = f;
      r->keep_id[th][r->nkeep[th]++] = id;
    }
  }
}

struct destroyer {
  futures_pool_t *pool;
  int mode;
  int rc;
};

static void *
destroyer_main(void *arg)
{
  struct destroyer *d = arg;

  d->rc = futures_pool_destroy_ex(d->pool, d->mode);
  return NULL;
}

static void *
late_runner_main(void *arg)
{
  struct round *r = arg;

  tu_run_threads(NSUBMITTERS, late_main, r);
  return NULL;
}

static int
pool_stopping(void *arg)
{
  futures_stats_t st = FUTURES_STATS_INIT;

  return futures_pool_stats(arg, &st) == 0 && st.shutting_down;
}

struct mixed_cfg {
  long rounds, ops, queued, late;
};

/* Reads a kept future's outcome at the end of a round and releases it. */
static void
collect(struct round *r, struct tally *ty, future_t *f, long id)
{
  void *v = NULL;
  int rc = future_get(f, &v);

  tally_outcome(ty, r, id, rc, v, r->mode == FUTURES_DESTROY_CANCEL);
  future_release(f);
}

/* Checks a finished round: every task's fate and every waiter's tally. */
static void
mixed_verify(struct round *r, int destroy_rc)
{
  long waits = 0;
  uint64_t got = 0, want = 0;

  ck_assert_msg(destroy_rc == 0,
                "round %ld: destroy returned %d (seed %" PRIu64 ")", r->index,
                destroy_rc, stress_seed);
  for (int th = 0; th <= NSUBMITTERS; th++) {
    const struct tally *ty = &r->tally[th];

    ck_assert_msg(ty->bad_outcome == 0 && ty->bad_rc == 0,
                  "round %ld thread %d: %ld wrong outcomes, %ld unexpected "
                  "return codes; first: task %ld got %d (seed %" PRIu64 ")",
                  r->index, th, ty->bad_outcome, ty->bad_rc, ty->first_bad_id,
                  ty->first_bad_rc, stress_seed);
    waits += ty->waits;
    r->nwaits += ty->waits;
    r->nrefused += ty->refused;
    got += ty->got_sum;
    want += ty->want_sum;
  }
  ck_assert_msg(got == want,
                "round %ld: checksum of %ld received results differs (seed "
                "%" PRIu64 ")",
                r->index, waits, stress_seed);
  ck_assert_int_gt(waits, 0);
  for (long id = 0; id < r->ntasks; id++) {
    const struct mtask *t = &r->tasks[id];
    int runs = atomic_load(&t->runs), drops = atomic_load(&t->drops);
    int ok;

    if (!atomic_load(&t->accepted))
      ok = runs == 0 && drops == 0;
    else if (t->nodrop)
      ok = runs == 1 && drops == 0;
    else if (r->mode == FUTURES_DESTROY_DRAIN && !t->cancelable)
      ok = runs == 1 && drops == 0;
    else
      ok = runs + drops == 1;
    r->nran += runs;
    r->ncancelled += drops;
    ck_assert_msg(ok,
                  "round %ld (%s): task %ld (accepted %d) ran %d times, "
                  "dropped %d times (seed %" PRIu64 ")",
                  r->index,
                  r->mode == FUTURES_DESTROY_DRAIN ? "drain" : "cancel", id,
                  atomic_load(&t->accepted), runs, drops, stress_seed);
  }
}

/* One round: a pool, phase 1, destroy with queued and racing submits. */
static void
mixed_round(struct round *r, long index, const struct mixed_cfg *cfg)
{
  uint64_t s = rng_stream(4, (uint64_t)index, 0);
  size_t nworkers = 1 + (size_t)(rng_next(&s) % 3);
  struct tally *mt = &r->tally[NSUBMITTERS];
  future_t *main_keep[256], *gate_f[3];
  long main_keep_id[256], nmain = 0, qbase, queued;
  struct tu_hold gate[3];
  struct destroyer d;
  pthread_t dt, lt;

  memset(r, 0, sizeof(*r));
  r->index = index;
  r->mode = rng_next(&s) % 2 ? FUTURES_DESTROY_CANCEL : FUTURES_DESTROY_DRAIN;
  r->ops = cfg->ops;
  r->late = cfg->late;
  queued = cfg->queued < 256 ? cfg->queued : 256;
  r->ntasks = (long)NSUBMITTERS * (r->ops * IDS_PER_OP + r->late) + queued;
  r->tasks = calloc((size_t)r->ntasks, sizeof(*r->tasks));
  ck_assert_ptr_nonnull(r->tasks);
  /* For helgrind: the counters are atomics (see flag_watch). */
  FUTURES_ATOMIC_RANGE(r->tasks, (size_t)r->ntasks * sizeof(*r->tasks));
  for (long i = 0; i < r->ntasks; i++)
    r->tasks[i].r = r;
  for (int th = 0; th <= NSUBMITTERS; th++)
    r->tally[th].first_bad_id = -1;
  for (int th = 0; th < NSUBMITTERS; th++) {
    r->keep[th] = calloc((size_t)(r->ops + r->late), sizeof(future_t *));
    r->keep_id[th] = calloc((size_t)(r->ops + r->late), sizeof(long));
    ck_assert(r->keep[th] != NULL && r->keep_id[th] != NULL);
  }
  atomic_init(&r->late_go, 0);
  flag_watch(&r->late_go);
  ck_assert_int_eq(futures_pool_create(&r->pool, nworkers), 0);

  /* Phase 1: four threads at once, the pool running freely. */
  ck_assert_int_eq(tu_run_threads(NSUBMITTERS, phase1_main, r), 0);

  /* Phase 2: hold every worker, queue tasks behind them, then destroy
   * while four threads submit at the same moment. */
  for (size_t i = 0; i < nworkers; i++) {
    tu_hold_init(&gate[i], &gate[i]);
    ck_assert_int_eq(
        futures_submit(r->pool, tu_hold_task, &gate[i], &gate_f[i]), 0);
  }
  for (size_t i = 0; i < nworkers; i++)
    tu_latch_wait(&gate[i].started);
  qbase = (long)NSUBMITTERS * (r->ops * IDS_PER_OP + r->late);
  for (long i = 0; i < queued; i++) {
    future_t *f = NULL;
    long id = qbase + i;
    int rc = mt_submit(r, id, &f);

    if (rc != 0) {
      mt->bad_rc++;
      tally_bad(mt, id, rc);
      continue;
    }
    if (rng_next(&s) % 3 == 0) {
      future_release(f); /* released while queued */
    } else {
      main_keep[nmain] = f;
      main_keep_id[nmain++] = id;
    }
  }
  d.pool = r->pool;
  d.mode = r->mode;
  d.rc = -1;
  ck_assert_int_eq(pthread_create(&lt, NULL, late_runner_main, r), 0);
  ck_assert_int_eq(pthread_create(&dt, NULL, destroyer_main, &d), 0);
  flag_raise(&r->late_go);
  /* Destroy cannot end while the gates hold the workers, so the pool is
   * still there to be polled, and still there for the late submits. */
  ck_assert_msg(tu_spin_until(pool_stopping, r->pool, 30 * SEC),
                "round %ld: destroy never began", index);
  pthread_join(lt, NULL);
  for (size_t i = 0; i < nworkers; i++)
    tu_latch_open(&gate[i].release);
  pthread_join(dt, NULL);

  /* Every outcome, after destroy: the futures outlive their pool. */
  for (size_t i = 0; i < nworkers; i++) {
    void *v = NULL;

    ck_assert_int_eq(future_get(gate_f[i], &v), 0);
    ck_assert_ptr_eq(v, &gate[i]);
    future_release(gate_f[i]);
    tu_hold_destroy(&gate[i]);
  }
  for (long i = 0; i < nmain; i++)
    collect(r, mt, main_keep[i], main_keep_id[i]);
  for (int th = 0; th < NSUBMITTERS; th++)
    for (long i = 0; i < r->nkeep[th]; i++)
      collect(r, &r->tally[th], r->keep[th][i], r->keep_id[th][i]);
  mixed_verify(r, d.rc);

  for (int th = 0; th < NSUBMITTERS; th++) {
    free(r->keep[th]);
    free(r->keep_id[th]);
  }
  FUTURES_PLAIN_RANGE(r->tasks, (size_t)r->ntasks * sizeof(*r->tasks));
  free(r->tasks);
  flag_unwatch(&r->late_go);
}

static void
mixed_run(const struct mixed_cfg *cfg)
{
  struct round *r = calloc(1, sizeof(*r));
  struct memcheck m;
  long long t0 = tu_now_ns();
  long ran = 0, cancelled = 0, waits = 0, refused = 0;

  ck_assert_ptr_nonnull(r);
  mem_start(&m, cfg->rounds);
  for (long i = 0; i < cfg->rounds; i++) {
    mixed_round(r, i, cfg);
    ran += r->nran;
    cancelled += r->ncancelled;
    waits += r->nwaits;
    refused += r->nrefused;
    mem_after_round(&m, i);
    mem_check(&m, "mixed", i);
  }
  printf("mixed: %ld rounds x %d threads x %ld ops: %ld tasks ran, %ld "
         "cancelled unrun, %ld refused, %ld outcomes checked by waiters, in "
         "%.2f s (seed %" PRIu64 ")\n",
         cfg->rounds, NSUBMITTERS, cfg->ops, ran, cancelled, refused, waits,
         (double)(tu_now_ns() - t0) / 1e9, stress_seed);
  free(r);
}

/*
 * A quick mixed run for every make check: 20 rounds of 4 threads x 200
 * operations, each round's pool destroyed with tasks queued and submits
 * racing the destroy. The checks are those of the slow run.
 */
static void
mixed_run_quick(void)
{
  struct mixed_cfg cfg;

  cfg.rounds = tu_scaled(20, 2);
  cfg.ops = tu_scaled(200, 20);
  cfg.queued = 64;
  cfg.late = 16;
  mixed_run(&cfg);
}

START_TEST(test_stress_mixed_workload_quick)
{
  mixed_run_quick();
}
END_TEST

/*
 * The quick mixed run with the record cache the default build uses
 * (FUTURES_ALLOC=cached, forced for this test): the bytes the cache holds
 * reach their high-water mark in the first round and stay there. The
 * allocator's mode is fixed at its first use, so in CK_FORK=no runs, where
 * an earlier test fixed it, the test says so and checks nothing.
 */
START_TEST(test_stress_mixed_workload_cached_records_quick)
{
  const char *prev = getenv("FUTURES_ALLOC");
  char *saved = prev != NULL ? strdup(prev) : NULL;
  int cached;

  setenv("FUTURES_ALLOC", "cached", 1);
  cached = futures__alloc_cached();
  if (saved != NULL)
    setenv("FUTURES_ALLOC", saved, 1);
  else
    unsetenv("FUTURES_ALLOC");
  free(saved);
  if (!cached) {
    printf("mixed (cached records): allocator mode already fixed; "
           "nothing checked\n");
    return;
  }
  mixed_run_quick();
}
END_TEST

/*
 * The full mixed run: 200 rounds of 4 threads x 2,000 operations (about
 * 2.4 million tasks), bounded by its count; a few seconds on 2 cores.
 */
START_TEST(test_stress_mixed_workload)
{
  struct mixed_cfg cfg;

  cfg.rounds = tu_scaled(200, 2);
  cfg.ops = tu_scaled(2000, 20);
  cfg.queued = 256;
  cfg.late = 64;
  mixed_run(&cfg);
}
END_TEST

/* ------------------------------------------------------------ wakeup */

/* The completer's side, a task on a 1-worker pool. */
struct lw {
  atomic_int started;
  atomic_int go;
  atomic_int finished;
  long long delay; /* ns the task spins after "go" before it returns */
  uintptr_t value;
};

static int
lw_task(void *arg, void **result)
{
  struct lw *w = arg;

  flag_raise(&w->started);
  spin_until_set(&w->go);
  if (w->delay > 0)
    tu_spin_for(w->delay);
  *result = (void *)w->value;
  flag_raise(&w->finished);
  return 0;
}

enum {
  W_GET,
  W_JOIN_ALL,
  W_WAIT_UNTIL,
  W_RELEASE,
  W_JOIN_ANY,
  W_JOIN_ANY_OK,
  W_FAILFAST,
  W_KINDS
};

static const char *const w_name[W_KINDS] = {"get",     "join_all", "wait_until",
                                            "release", "join_any", "any_ok",
                                            "failfast"};

/* The waits on one future, and those through the "any" machinery (one
 * wait group over many futures). */
#define W_SINGLE                                                               \
  ((1u << W_GET) | (1u << W_JOIN_ALL) | (1u << W_WAIT_UNTIL) |                 \
   (1u << W_RELEASE))
#define W_ANY ((1u << W_JOIN_ANY) | (1u << W_JOIN_ANY_OK) | (1u << W_FAILFAST))

/*
 * The waiter's offset from the completion, in ns: negative means the
 * waiter arrives that long after the task returned, positive that the task
 * returns that long after the waiter arrived. Spread so that waits end in
 * the fast path, in the spin, around the switch from spinning to sleeping
 * (the library spins some tens of microseconds) and asleep.
 */
static long long
lw_offset(uint64_t x)
{
  uint64_t b = x % 10, y = x >> 8;

  if (b == 0)
    return -(long long)(y % (5 * US)); /* just after */
  if (b <= 2)
    return (long long)(y % (5 * US)); /* just before */
  if (b <= 7)
    return 5 * US + (long long)(y % (35 * US)); /* at the switch */
  return 40 * US + (long long)(y % (60 * US));  /* well before */
}

/* A kind from @mask, chosen by @x. */
static int
lw_kind(uint64_t x, unsigned mask)
{
  int n = __builtin_popcount(mask), k = (int)(x % (uint64_t)n);

  for (int i = 0; i < W_KINDS; i++)
    if ((mask & (1u << i)) && k-- == 0)
      return i;
  return W_GET;
}

struct lw_result {
  long iterations, bad, kinds[W_KINDS];
  long first_bad_iter;
  int first_bad_rc;
};

/* One wait of kind @kind on @f; 0 and the value in *@v if all went well. */
static int
lw_wait(int kind, future_t *f, void **v)
{
  struct timespec far;
  size_t idx = 0;
  int rc, codes[1];

  switch (kind) {
  case W_GET:
    return future_get(f, v);
  case W_JOIN_ALL:
    return futures_join_all(&f, 1, v);
  case W_WAIT_UNTIL:
    far = tu_deadline_in(60 * SEC);
    rc = future_wait_until(f, &far);
    return rc != 0 ? rc : future_get(f, v);
  case W_JOIN_ANY:
    rc = futures_join_any(&f, 1, &idx, v);
    return rc == 0 && idx != 0 ? EPROTO : rc;
  case W_JOIN_ANY_OK:
    rc = futures_join_any_ok(&f, 1, &idx, v, codes);
    return rc == 0 && idx != 0 ? EPROTO : rc;
  default:
    return futures_join_all_failfast(&f, 1, v, &idx);
  }
}

static void
lw_run(long iterations, unsigned kinds, struct lw_result *out)
{
  futures_pool_t *pool = NULL;
  struct lw w;
  uint64_t s = rng_stream(6, kinds, 0);
  struct memcheck m;

  memset(out, 0, sizeof(*out));
  out->first_bad_iter = -1;
  mem_start(&m, iterations);
  flag_watch(&w.started);
  flag_watch(&w.go);
  flag_watch(&w.finished);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  for (long i = 0; i < iterations; i++) {
    uint64_t x = rng_next(&s);
    long long off = lw_offset(x);

    int kind = lw_kind(x >> 40, kinds), rc = 0;
    future_t *f = NULL;
    void *v = NULL;

    atomic_store(&w.started, 0);
    atomic_store(&w.go, 0);
    atomic_store(&w.finished, 0);
    w.delay = off > 0 ? off : 0;
    w.value = (uintptr_t)i | 1u;
    ck_assert_int_eq(futures_submit(pool, lw_task, &w, &f), 0);
    /* The task must be running on the worker, not run by the waiter. */
    spin_until_set(&w.started);
    flag_raise(&w.go);
    if (off < 0)
      tu_spin_for(-off);
    if (kind == W_RELEASE) {
      /* Release racing the completion: the record must be freed exactly
       * once, by whichever side is last (counted at the end). */
      future_release(f);
      f = NULL;
      spin_until_set(&w.finished);
      v = (void *)w.value;
    } else {
      rc = lw_wait(kind, f, &v);
    }
    out->kinds[kind]++;
    if (rc != 0 || v != (void *)w.value) {
      if (out->bad++ == 0) {
        out->first_bad_iter = i;
        out->first_bad_rc = rc;
      }
    }
    if (f != NULL)
      future_release(f);
    mem_after_round(&m, i);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  flag_unwatch(&w.started);
  flag_unwatch(&w.go);
  flag_unwatch(&w.finished);
  out->iterations = iterations;
  mem_check(&m, "wakeup", iterations);
}

static void
lw_check(long iterations, unsigned kinds)
{
  struct lw_result res;
  long long t0 = tu_now_ns();
  char counts[256];
  int len = 0;

  lw_run(iterations, kinds, &res);
  for (int k = 0; k < W_KINDS; k++)
    if (kinds & (1u << k))
      len += snprintf(counts + len, sizeof(counts) - (size_t)len, " %s %ld",
                      w_name[k], res.kinds[k]);
  printf("wakeup: %ld waits (%s) in %.2f s (seed %" PRIu64 ")\n",
         res.iterations, counts + 1, (double)(tu_now_ns() - t0) / 1e9,
         stress_seed);
  ck_assert_msg(res.bad == 0,
                "%ld of %ld waits saw a wrong outcome; first at iteration "
                "%ld with code %d (seed %" PRIu64 ")",
                res.bad, res.iterations, res.first_bad_iter, res.first_bad_rc,
                stress_seed);
  for (int k = 0; k < W_KINDS; k++)
    if (kinds & (1u << k))
      ck_assert_int_gt(res.kinds[k], 0);
}

/*
 * 20,000 waits on one future each (get, join_all, wait_until, and a
 * release instead of a wait), lined up against their completion, for
 * every make check. A lost wake-up hangs; the TCase timeout fails it.
 */
START_TEST(test_stress_wakeup_single_quick)
{
  lw_check(tu_scaled(20000, 500), W_SINGLE);
}
END_TEST

/*
 * 20,000 waits through one wait group (join_any, join_any_ok,
 * join_all_failfast), lined up against their completion: the future may
 * finish while the waiter scans, registers or sleeps.
 */
START_TEST(test_stress_wakeup_any_quick)
{
  lw_check(tu_scaled(20000, 500), W_ANY);
}
END_TEST

/*
 * 1,000,000 waits of every kind lined up against their completion (the
 * issue's count), some tens of microseconds each on 2 cores.
 */
START_TEST(test_stress_wakeup_million)
{
  lw_check(tu_scaled(1000000, 500), W_SINGLE | W_ANY);
}
END_TEST

/* ------------------------------------------------------------ teardown */

#define TD_MAX 8

struct td_task {
  atomic_int runs, drops;
  uintptr_t value;
  futures_pool_t *pool;
  int child_rc; /* a parent's submit_all of its children, -1 before */
};

static int
td_task(void *arg, void **result)
{
  struct td_task *t = arg;

  atomic_fetch_add(&t->runs, 1);
  *result = (void *)t->value;
  return 0;
}

static void
td_drop(void *arg)
{
  struct td_task *t = arg;

  atomic_fetch_add(&t->drops, 1);
}

/* A task that queues two sub-tasks of its own and waits for them. */
static int
td_parent(void *arg, void **result)
{
  struct td_task *t = arg;
  futures_task_t spec[2] = {FUTURES_TASK(td_task, t + 1, td_drop),
                            FUTURES_TASK(td_task, t + 2, td_drop)};
  future_t *f[2];
  int rc;

  atomic_fetch_add(&t->runs, 1);
  rc = futures_submit_all(t->pool, spec, 2, f);
  t->child_rc = rc;
  if (rc != 0)
    return rc; /* ESHUTDOWN once a cancelling destroy has begun */
  rc = futures_join_all(f, 2, NULL);
  future_release(f[0]);
  future_release(f[1]);
  *result = (void *)t->value;
  return rc;
}

struct td_stats {
  long bad, first_bad_iter, tasks;
};

/* One pool life: create, submit, destroy at once, collect. */
static void
td_iteration(long it, struct td_stats *st)
{
  uint64_t s = rng_stream(7, (uint64_t)it, 0);
  size_t nworkers = 1 + (size_t)(rng_next(&s) % 3);
  int mode =
      rng_next(&s) % 3 == 0 ? FUTURES_DESTROY_CANCEL : FUTURES_DESTROY_DRAIN;
  long n = 1 + (long)(rng_next(&s) % TD_MAX);
  struct td_task t[TD_MAX + 2];
  future_t *f[TD_MAX];
  int accepted[TD_MAX + 2], parent_at = -1, bad = 0;
  futures_pool_t *pool = NULL;

  memset(t, 0, sizeof(t));
  memset(accepted, 0, sizeof(accepted));
  ck_assert_int_eq(futures_pool_create(&pool, nworkers), 0);
  if (n >= 3 && rng_next(&s) % 2)
    parent_at = (int)n - 3; /* t[n-3] spawns t[n-2] and t[n-1] */
  /* Every record first: a parent may run, and read its children's, as
   * soon as it is submitted. */
  for (long i = 0; i < n; i++) {
    t[i].value = (uintptr_t)(it * 16 + i + 1);
    t[i].pool = pool;
    t[i].child_rc = -1;
    f[i] = NULL;
  }
  for (long i = 0; i < n; i++) {
    futures_task_t spec = FUTURES_TASK(td_task, &t[i], td_drop);

    if (parent_at >= 0 && i > parent_at)
      continue; /* a child, submitted by its parent */
    if (i == parent_at)
      spec.fn = td_parent;
    if (futures_submit_ex(pool, &spec, NULL, &f[i]) != 0) {
      bad++;
      continue;
    }
    accepted[i] = 1;
    if (rng_next(&s) % 4 == 0) {
      future_release(f[i]); /* in flight, nobody waits */
      f[i] = NULL;
    }
  }
  if (futures_pool_destroy_ex(pool, mode) != 0)
    bad++;
  for (long i = 0; i < n; i++) {
    void *v = NULL;
    int rc;

    if (f[i] == NULL)
      continue;
    rc = future_get(f[i], &v);
    if (rc == 0)
      bad += v != (void *)t[i].value;
    else if (mode == FUTURES_DESTROY_CANCEL &&
             (rc == ECANCELED || (i == parent_at && rc == ESHUTDOWN)))
      bad += v != NULL; /* cancelled, or its children were refused */
    else
      bad++;
    future_release(f[i]);
  }
  for (long i = 0; i < n; i++) {
    int runs = atomic_load(&t[i].runs), drops = atomic_load(&t[i].drops);

    if (parent_at >= 0 && i > parent_at) {
      /* A child exists only if its parent's submit_all accepted it. */
      if (t[parent_at].child_rc != 0)
        bad += runs + drops != 0;
      else if (mode == FUTURES_DESTROY_DRAIN)
        bad += runs != 1 || drops != 0;
      else
        bad += runs + drops != 1;
      continue;
    }
    if (!accepted[i])
      bad += runs + drops != 0;
    else if (mode == FUTURES_DESTROY_DRAIN)
      bad += runs != 1 || drops != 0;
    else
      bad += runs + drops != 1;
  }
  st->tasks += n;
  if (bad != 0 && st->bad++ == 0)
    st->first_bad_iter = it;
}

static void
td_run(long iterations)
{
  long threads0 = settled_threads(), fds0 = proc_entries("/proc/self/fd");
  long long t0 = tu_now_ns();
  struct td_stats st = {0, -1, 0};
  struct memcheck m;

  mem_start(&m, iterations);
  for (long it = 0; it < iterations; it++) {
    td_iteration(it, &st);
    mem_after_round(&m, it);
    if (it % 1000 == 999 || it == iterations - 1) {
      long th = threads_at_most(threads0), fds = proc_entries("/proc/self/fd");

      ck_assert_msg(th <= threads0,
                    "teardown: %ld threads after %ld pools, %ld before (seed "
                    "%" PRIu64 ")",
                    th, it + 1, threads0, stress_seed);
      ck_assert_msg(fds == fds0,
                    "teardown: %ld descriptors after %ld pools, %ld before",
                    fds, it + 1, fds0);
      mem_check(&m, "teardown", it);
    }
  }
  printf("teardown: %ld pools, %ld tasks in flight at destroy, in %.2f s "
         "(seed %" PRIu64 ")\n",
         iterations, st.tasks, (double)(tu_now_ns() - t0) / 1e9, stress_seed);
  ck_assert_msg(st.bad == 0,
                "teardown: %ld pool lives went wrong, first at iteration %ld "
                "(seed %" PRIu64 ")",
                st.bad, st.first_bad_iter, stress_seed);
}

/* 100 pool lives with tasks in flight, for every make check. */
START_TEST(test_stress_teardown_quick)
{
  td_run(tu_scaled(100, 10));
}
END_TEST

/*
 * 10,000 pool lives with tasks in flight at each destroy: no thread,
 * descriptor or record left behind (checked every 1,000).
 */
START_TEST(test_stress_teardown_10000_pools)
{
  td_run(tu_scaled(10000, 10));
}
END_TEST

/* ------------------------------------------------------------ suite */

Suite *
stress_suite(void)
{
  Suite *s = suite_create("stress");
  TCase *tc;

  tc = tcase_create("quick");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_stress_mixed_workload_quick);
  tcase_add_test(tc, test_stress_mixed_workload_cached_records_quick);
  tcase_add_test(tc, test_stress_wakeup_single_quick);
  tcase_add_test(tc, test_stress_wakeup_any_quick);
  tcase_add_test(tc, test_stress_teardown_quick);
  suite_add_tcase(s, tc);

  tc = tcase_create("stress");
  tcase_set_tags(tc, "slow");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_stress_mixed_workload);
  tcase_add_test(tc, test_stress_wakeup_million);
  tcase_add_test(tc, test_stress_teardown_10000_pools);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  setenv("FUTURES_ALLOC", "malloc", 0);
  stress_seed = seed_from_env();
  printf("check_stress: seed %" PRIu64 " (FUTURES_STRESS_SEED=%" PRIu64
         " repeats it)\n",
         stress_seed, stress_seed);
  fflush(stdout);
  return tu_run_suite(stress_suite());
}
