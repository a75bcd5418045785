/* SPDX-License-Identifier: MIT */
/*
 * check_matrix: every waiting function against every concurrent actor, on
 * a busy 1-worker pool and an idle 2-worker pool, and with a promise and a
 * timer as the target (issues 10 and 11; STYLE.md 4.3: "the header is the
 * test plan").
 *
 * A cell is (config, waiter, actor). The waiter under test, W, waits on the
 * target future f with one of 13 kinds (future_get, future_wait_until,
 * future_wait_for, the seven joins, futures_then, and
 * futures_as_completed_next() and _next_until() over a set); the actor
 * does one thing
 * to f or its pool at a point forced with latches. Each cell is one Check
 * loop iteration, so it gets its own process and timeout. Configs:
 *
 *   busy1  1 worker, held busy by a tu_hold task: f is QUEUED behind it, so
 *          whoever waits on f either runs it itself (the untimed outside
 *          kinds: get, join_all, join_all_settled) or waits for the worker.
 *   idle2  2 idle workers: f starts at once on one of them and blocks on a
 *          latch, so f is RUNNING elsewhere while W and the actor act.
 *   promise f is a promise (futures_promise_create()); the pool (2 idle
 *          workers) only holds the joins' finished futures, THEN's
 *          continuation and WORKER_HELPS' task. Where a task config opens
 *          'go', a settler thread resolves f with &probe (REJECT: rejects
 *          it with EBADMSG), so every waiter is asleep in its call when it
 *          settles; RESOLVE_VS_CANCEL starts a canceller beside it.
 *   timer  f is futures_after(pool, LLONG_MAX), which never fires: the
 *          settler cancels it there (ECANCELED for every waiter), unless
 *          the actor (CANCEL, the pool's destroy) settled it already.
 *
 * f's task (probe_task) counts its runs, opens a 'started' latch, waits on
 * a 'go' latch that the test opens after the actor acted, and sets
 * 'finished' just before it returns 0 with its struct probe as the result.
 * Its drop function counts calls. Every waiter records what it got and
 * whether f's task had settled when it returned; the test thread checks it
 * all after every thread is joined: the exact code each waiter got (the
 * task's 0, ECANCELED for a task cancelled before it started, EOWNERDEAD
 * after pthread_exit(), ECHILD in a fork() child, ETIMEDOUT for a deadline,
 * EDEADLK for a task waiting on itself), the result pointers, that the task
 * had finished when a waiter returned its outcome, that it ran exactly once
 * (or, cancelled, never, with its drop function called exactly once), and
 * that the pool still runs a task on every worker. Every future is released
 * (ASan and valgrind see any leak).
 *
 * promise and timer: each settler says "settling" (probe.finished) just
 * before its call, as the task does before it returns, so the same
 * "settled when a waiter returned" check holds, and a waiter that returned
 * f's outcome must also see future_is_ready(f). Two more observers watch f
 * in every such cell: an inline continuation (futures_then_inline(),
 * attached before W waits) must run exactly once, with f's code and
 * value, after the settle began and in the thread that settled f (the
 * resolver, the canceller, the race's winner; not checked for a timer
 * settled by its pool's destroy); and a notifier watches f twice, once
 * before W waits and once from a thread racing the settle: no tag before
 * the settle, then each tag exactly once, nothing unknown, and the fd
 * readable until they are taken and not after. Each settle's return is
 * exact: 0 for the first, EALREADY for a later one; in the race exactly
 * one of future_resolve and future_cancel returns 0, the other EALREADY,
 * and every waiter, the continuation and future_get() see the winner's
 * outcome (0 and &probe, or ECANCELED and NULL).
 *
 * Join arrays hold f and, to exercise the many-future paths, an already
 * finished future chosen so that it cannot decide the join alone: all and
 * all_until and all_failfast get {ok, f} (ok returned 0), all_settled and
 * any_ok get {failed, f} (failed returned EDOM), any and any_until get {f}
 * (a finished future would win the race at once). futures_then attaches a
 * continuation that passes the antecedent's code and result on, and reads
 * it with future_get() on the continuation. The as-completed kinds make a
 * set over {ok, f} (in the waiting thread), take ok's index 0 (settled at
 * create) and then wait for f's index 1, read f with future_get(), and
 * destroy the set.
 *
 * Deadlines: as the waiter under test, future_wait_for waits "forever"
 * (LLONG_MAX ns, which STYLE.md 4.5 says callers may pass); every other
 * timed wait (future_wait_until, the _until joins, and future_wait_for as
 * a second waiter or the submitter, so that a defect of "forever" does not
 * hide what the other rows test) uses a finite 10-minute deadline; W's is
 * cut to 20 ms where the actor is its deadline expiring.
 *
 * Actors (the columns):
 *   SECOND_<kind>  a second thread waits on f with that kind (W waits
 *                  first; on busy1 the first runner kind to arrive runs f).
 *   SUBMITTER      f is submitted by an outside thread S, so it sits in S's
 *                  own submission ring; S waits first, with W's kind (and
 *                  takes f back from its ring and runs it when that kind
 *                  runs unstarted tasks), then W waits.
 *   CANCEL         future_cancel(f) from a third thread: 0 and ECANCELED if
 *                  f had not started, else EINPROGRESS and f runs (seeing
 *                  futures_cancelled() == 1).
 *   CANCEL_DRAIN   as CANCEL, with futures_pool_destroy() (DRAIN) running
 *                  while the cancel is still inside its drop function (which
 *                  runs before the waiters wake and the continuations are
 *                  queued), until the pool's workers have exited.
 *   DESTROY_DRAIN  futures_pool_destroy() from a third thread while f is
 *                  held: f still runs, every waiter gets its outcome.
 *   DESTROY_CANCEL futures_pool_destroy_ex(CANCEL): an unstarted f ends
 *                  ECANCELED, a running one finishes (futures_cancelled()).
 *   FORK_CHILD     fork() before W waits and again while it waits; each
 *                  child waits on f with W's kind: ECHILD, never running f;
 *                  the parent's waiter is unaffected.
 *   PTHREAD_EXIT   f's task calls pthread_exit(): f settles EOWNERDEAD;
 *                  the thread that ran it ends (a waiter that ran it never
 *                  returns; a worker is replaced), every other waiter wakes.
 *   DEADLINE       W's own deadline (20 ms) expires while f is held:
 *                  ETIMEDOUT with f intact, then f completes normally.
 *   DEADLINE_OTHER a concurrent future_wait_until(f) with a 20 ms deadline
 *                  expires next to W (its node leaves f's waiter list while
 *                  W's may be on it); W is unaffected.
 *   WORKER_HELPS   W is a task of the pool that submits f and waits on it
 *                  (nested fork-join): on busy1 it is the only worker, so it
 *                  must run f itself ("Tasks" in the header); on idle2 the
 *                  other worker steals f and W waits for it.
 *   SELF           f's own task waits on f: EDEADLK (the header's global
 *                  rule), or, for futures_then, attaching to its own future
 *                  works and the continuation gets f's outcome.
 *   REJECT         (promise) the settle is future_reject(f, EBADMSG).
 *   RESOLVE_VS_CANCEL (promise) future_resolve and future_cancel from two
 *                  threads released by one latch: exactly one wins.
 * With a promise or timer as f: CANCEL settles it ECANCELED at once (0;
 * the later settle gets EALREADY); DESTROY_DRAIN and DESTROY_CANCEL run
 * to their end while every waiter waits (a destroy must not wait for a
 * promise): a promise is untouched and resolved afterwards, a pending
 * timer is settled ECANCELED by the destroy, and THEN's continuation,
 * waiting on a future from outside its pool, is settled ECANCELED unrun
 * in both modes; FORK_CHILD: ECHILD in the child; WORKER_HELPS: W is a
 * task of the pool waiting on f (it holds its worker; the other is free).
 *
 * 13 kinds x 26 actors x 4 configs = 1352 cells. Excluded (printed by
 * main() with reasons), 214 cells:
 *   - DEADLINE for the 8 kinds that have no deadline (get, join_all,
 *     join_all_settled, join_all_failfast, join_any, join_any_ok, then,
 *     as_completed), in every config: 32;
 *   - REJECT and RESOLVE_VS_CANCEL on busy1, idle2 and timer (a task's or
 *     a timer's future cannot be resolved or rejected): 78;
 *   - on promise and timer, SUBMITTER (nothing is submitted), CANCEL_DRAIN
 *     (no drop function to hold the cancel in; continuations pending at a
 *     destroy are DESTROY_* x THEN), PTHREAD_EXIT and SELF (no task): 104.
 * 1138 run: 304 each on busy1 and idle2, 278 on promise, 252 on timer.
 *
 * Windows only a library test hook can force. The latches force the
 * orders the public API can reach: the actor before W starts, the actor
 * while f's task runs (or while f is queued behind the hold), the actor
 * after f finished. These dangerous interleavings lie inside the library
 * and need named test points (a test build of lib/) to be forced; the
 * cells named run the nearest public order meanwhile:
 *   H1 SUBMITTER x GET: in futures__wait_one() (lib/wait.c), after the
 *      submitter read f as QUEUED and before futures__run_inline() calls
 *      futures__producer_retract() and futures__future_claim(): another
 *      waiter claims f there, the retract still succeeds, the claim fails
 *      and run_inline() returns 1, so future_get() returns f->code before
 *      the task finished. SUBMITTER x {JOIN_ALL, JOIN_ALL_SETTLED}: the
 *      same window in help_all() (lib/join.c), between the retract and
 *      run_retracted()'s claim (there a lost claim falls through to a
 *      wait, as it should).
 *   H2 SECOND_{GET,JOIN_ALL,JOIN_ALL_SETTLED} x the same kinds (busy1):
 *      two outside waiters between futures__help_enter() and
 *      futures__future_claim() at once; the loser must go on to wait.
 *   H3 CANCEL (all rows): between future_cancel()'s state read (and
 *      futures__pin()) and the CAS in futures__future_cancel_unstarted(),
 *      a waiter or worker claims f: exactly one of "ran" and "ECANCELED".
 *   H4 DESTROY_CANCEL (busy1 runner rows): between a helper's
 *      futures__future_claim() and the stopping == STOP_CANCEL test in
 *      futures__future_execute(), destroy_ex(CANCEL) begins.
 *   H5 every column, idle2: a waiter registering (mark_waiters_locked()
 *      under the stripe, lib/wait.c) while the completer publishes DONE in
 *      futures__future_complete() and tests F_WAITERS: no lost wake-up.
 *   H6 DEADLINE, DEADLINE_OTHER: f completing between
 *      futures__group_sleep()'s ETIMEDOUT and futures__group_remove() in
 *      futures__wait_one() (and multi_fini() in join.c).
 *   H7 THEN, SECOND_THEN: futures__wait_add_continuation() racing the
 *      antecedent's completion (DONE CAS vs mark_waiters_locked()): the
 *      continuation is queued exactly once.
 *   H8 FORK_CHILD: fork() while another thread holds a wait stripe or the
 *      registry lock (inside futures__group_add()/group_remove()).
 *   H9 WORKER_HELPS (idle2): the waiting task popping its own last deque
 *      entry while the idle worker steals it (futures__deque_pop() vs
 *      steal on one element).
 *   H10 SUBMITTER (busy1): a worker's futures__producer_take() batch and
 *      the submitter's futures__producer_retract() on the same entry.
 *   CANCEL_DRAIN needs no hook: its window (between the cancel's CAS and
 *   the continuation's futures__pool_enqueue() in futures__wait_fire(),
 *   while the last worker parks and sets drained) holds the drop function,
 *   which the test blocks.
 *
 * Expectations the header leaves open are fixed here and named: outside a
 * task, join_all_settled runs unstarted futures like join_all (its
 * contract is silent) and join_any_ok only waits like join_any; in a task
 * waiting on its own unstarted sub-task every kind runs it (the global
 * "Tasks" rule), including join_any_until, whose own line says it never
 * runs a task in the caller (the header contradicts itself there); and
 * under destroy_ex(CANCEL) a continuation either runs with f's outcome or
 * ends ECANCELED unrun (the destroy contract's "exactly one of two ways").
 *
 * And for a timer: the pool's destroy settles its continuations of the
 * pool's own timer with ECANCELED unrun (lib/foreign.c counts a timer as
 * "a future from outside" the pool, and lib/pool.c closes that list
 * before it settles the timers), where the header's futures_pool_destroy()
 * ("what that readies on the pool runs in the drain, with ECANCELED as its
 * input") could be read as the continuation running with ECANCELED.
 *
 * MATRIX_FILTER=<text> runs only the cells whose name contains <text>
 * (e.g. "busy1 GET x SUB", "promise "); the others pass at once.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *matrix_suite(void);

#define MS          1000000LL
#define SEC         1000000000LL
#define GENEROUS_NS (600 * SEC) /* a finite deadline no cell may reach */
#define SHORT_NS    (20 * MS)   /* the deadline that expires */
#define NO_INDEX    ((size_t)-1)
#define POOL_NAME   "mxpool" /* workers are "mxpool-w<i>" */

/* ------------------------------------------------------------ the axes */

enum kind {
  K_GET,
  K_WAIT_UNTIL,
  K_WAIT_FOR,
  K_JOIN_ALL,
  K_JOIN_ALL_UNTIL,
  K_JOIN_ALL_SETTLED,
  K_JOIN_ALL_FAILFAST,
  K_JOIN_ANY,
  K_JOIN_ANY_UNTIL,
  K_JOIN_ANY_OK,
  K_THEN,
  K_AS_COMPLETED,
  K_AS_COMPLETED_UNTIL,
  NKINDS
};

static const char *const kind_name[NKINDS] = {"GET",
                                              "WAIT_UNTIL",
                                              "WAIT_FOR",
                                              "JOIN_ALL",
                                              "JOIN_ALL_UNTIL",
                                              "JOIN_ALL_SETTLED",
                                              "JOIN_ALL_FAILFAST",
                                              "JOIN_ANY",
                                              "JOIN_ANY_UNTIL",
                                              "JOIN_ANY_OK",
                                              "THEN",
                                              "AS_COMPLETED",
                                              "AS_COMPLETED_UNTIL"};

/* Actors 0..NKINDS-1 are SECOND_<kind>: a second waiter of that kind. */
enum actor {
  A_SUBMITTER = NKINDS,
  A_CANCEL,
  A_CANCEL_DRAIN,
  A_DESTROY_DRAIN,
  A_DESTROY_CANCEL,
  A_FORK_CHILD,
  A_PTHREAD_EXIT,
  A_DEADLINE,
  A_DEADLINE_OTHER,
  A_WORKER_HELPS,
  A_SELF,
  A_REJECT,
  A_RACE,
  NACTORS
};

static const char *const actor_name[NACTORS - NKINDS] = {
    "SUBMITTER",        "CANCEL",       "CANCEL_DRAIN", "DESTROY_DRAIN",
    "DESTROY_CANCEL",   "FORK_CHILD",   "PTHREAD_EXIT", "DEADLINE",
    "DEADLINE_OTHER",   "WORKER_HELPS", "SELF",         "REJECT",
    "RESOLVE_VS_CANCEL"};

enum config { C_BUSY1, C_IDLE2, C_PROMISE, C_TIMER, NCONFIGS };

static const char *const config_name[NCONFIGS] = {"busy1", "idle2", "promise",
                                                  "timer"};

/* f is a task's future (busy1, idle2), else a promise or a timer. */
static int
task_cfg(int cfg)
{
  return cfg == C_BUSY1 || cfg == C_IDLE2;
}

static void
actor_str(int actor, char *buf, size_t len)
{
  if (actor < NKINDS)
    snprintf(buf, len, "SECOND_%s", kind_name[actor]);
  else
    snprintf(buf, len, "%s", actor_name[actor - NKINDS]);
}

static int
timed(int kind)
{
  return kind == K_WAIT_UNTIL || kind == K_WAIT_FOR ||
         kind == K_JOIN_ALL_UNTIL || kind == K_JOIN_ANY_UNTIL ||
         kind == K_AS_COMPLETED_UNTIL;
}

/*
 * Why a cell cannot occur, or NULL. One line each: main() prints them, so
 * that run + excluded = the total can be checked.
 */
static const char *
excluded(int cfg, int kind, int actor)
{
  if (actor == A_DEADLINE && !timed(kind))
    return "has no deadline of its own (a concurrent expiring deadline is "
           "DEADLINE_OTHER)";
  if (task_cfg(cfg) && (actor == A_REJECT || actor == A_RACE))
    return "f is a task's future: no one can resolve or reject it (EINVAL)";
  if (cfg == C_TIMER && (actor == A_REJECT || actor == A_RACE))
    return "f is a timer: no one can resolve or reject it (EINVAL); its "
           "settle is a cancel";
  if (task_cfg(cfg))
    return NULL;
  switch (actor) {
  case A_SUBMITTER:
    return "f is not submitted: there is no submitter's ring to take it "
           "back from";
  case A_CANCEL_DRAIN:
    return "f has no drop function to hold the cancel in while the drain "
           "ends (continuations pending at destroy: DESTROY_* x THEN)";
  case A_PTHREAD_EXIT:
    return "f has no task whose thread could end";
  case A_SELF:
    return "f has no task of its own that could wait on it";
  default:
    return NULL;
  }
}

/*
 * Does a thread waiting with @kind run an unstarted f itself? In a task
 * waiting on its own sub-task, every kind does (the header's "Tasks" rule).
 * Outside the pool: future_get ("the calling thread claims it and runs it
 * itself") and futures_join_all ("the caller runs futures that have not
 * started yet") do; join_all_settled is taken to do so as its family does
 * (its contract is silent); the timed kinds do not ("does not run the
 * awaited task"), nor join_any and join_all_failfast ("other callers only
 * wait"), nor join_any_ok (taken to behave as join_any), nor the
 * as-completed kinds ("outside a pool's tasks it only sleeps"). THEN
 * waits with future_get() on the continuation, which runs an unstarted
 * antecedent of a deferred continuation (the header's future_get()).
 */
static int
runs_inline(int kind, int in_task)
{
  if (in_task)
    return 1;
  return kind == K_GET || kind == K_JOIN_ALL || kind == K_JOIN_ALL_SETTLED ||
         kind == K_THEN;
}

/* ------------------------------------------------------------ records */

struct cell;

/* f's task: what it saw. Atomics: read by the test thread while it runs. */
struct probe {
  struct cell *c;
  pid_t parent;    /* the test process: a task run elsewhere is a child's */
  int mode;        /* PROBE_* */
  int drop_blocks; /* CANCEL_DRAIN: the drop function waits on drop_go */
  struct tu_latch started, go, in_drop, drop_go;
  atomic_int runs, finished, exited, drops, cancelled_seen, child_ran;
};

enum { PROBE_RETURN, PROBE_EXIT, PROBE_SELF };

/* A continuation's record. Plain fields: written before it returns. */
struct cprobe {
  struct probe *p;
  atomic_int runs;
  int code;
  void *value;
  int ante_settled; /* f's task had settled when the continuation ran */
  pid_t tid;        /* the thread it ran in */
};

/* One waiter: what it called and what it got. */
struct wrec {
  struct cell *c;
  int kind;
  long long timeout_ns; /* timed kinds: relative to the call */
  int attach_only;      /* THEN inside f's own task: attach, do not wait */
  pid_t tid;
  atomic_int entered, returned;
  int rc, rc2, then_rc; /* rc2: future_get() after a wait returned 0 */
  void *res;
  size_t index, failed;
  void *results[2];
  futures_outcome_t outc[2];
  int codes[2];
  future_t *cont;
  struct cprobe cp;
  int settled_at_return, ready_at_return;
};

struct cell {
  int cfg, kind, actor;
  char name[64];
  unsigned nworkers;
  futures_pool_t *pool;
  int pool_destroyed;
  future_t *_Atomic f;
  atomic_int submit_rc; /* -1 until f's submit returned */
  future_t *done_ok, *done_fail, *hold_f, *task_f;
  struct tu_hold hold;
  int have_hold;
  struct probe p;
  struct wrec w; /* the waiter under test */
  struct wrec a; /* second waiter, submitter, or expiring waiter */
  struct tu_latch s_turn;
  pthread_t wt, at, ct, dt;
  int have_wt, have_at, have_ct, have_dt;
  int cancel_rc, destroy_rc, task_rc;
  atomic_int cancel_returned;
  int fork_status[2], forks;
  int f_started_early; /* busy1: f started though no waiter should run it */
  int t_saw_start;     /* WORKER_HELPS idle2: the other worker took f */
  /* promise, timer: the settlers started at the release point ([0]
   * resolves, rejects or (timer) cancels; [1], RESOLVE_VS_CANCEL,
   * cancels), the thread that watches f racing them, and the observers
   * attached before W waits: an inline continuation and a notifier. */
  struct tu_latch settle_go;
  pthread_t st[2], nt;
  int have_st[2], have_nt;
  int settle_rc[2];
  pid_t settle_tid[2], cancel_tid;
  futures_notifier_t *nf;
  int watch_rc[2];        /* [0] before W waits, [1] racing the settle */
  int ntags[2], nforeign; /* tags taken per watch; unknown tags */
  int tag_early;          /* a tag was taken before f settled */
  future_t *inl;
  struct cprobe inl_cp;
  int inl_rc;
  int hung; /* a thread never came back: leak the cell */
  char why[4096];
  size_t len;
  int nwhy;
};

static int done_val; /* the result of done_ok */

static long long
hang_ns(void)
{
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");

  /* Slow builds (sanitizers, valgrind) get twice as long; the cells take
   * milliseconds, so more would only slow down a failing run. */
  return m != NULL && atof(m) > 1.0 ? 10 * SEC : 5 * SEC;
}

static const char *
errname(int rc, char *buf, size_t len)
{
  static const struct {
    int code;
    const char *name;
  } names[] = {{0, "0"},
               {EDOM, "EDOM"},
               {ECANCELED, "ECANCELED"},
               {EOWNERDEAD, "EOWNERDEAD"},
               {ETIMEDOUT, "ETIMEDOUT"},
               {EDEADLK, "EDEADLK"},
               {ECHILD, "ECHILD"},
               {ENOENT, "ENOENT"},
               {EINPROGRESS, "EINPROGRESS"},
               {EALREADY, "EALREADY"},
               {EINVAL, "EINVAL"},
               {EPROTO, "EPROTO"},
               {EBADMSG, "EBADMSG"},
               {ESHUTDOWN, "ESHUTDOWN"}};

  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].code == rc) {
      snprintf(buf, len, "%s", names[i].name);
      return buf;
    }
  snprintf(buf, len, "%d", rc);
  return buf;
}

/* Adds a finding to the cell's list (test thread only). */
static void note(struct cell *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct cell *c, const char *fmt, ...)
{
  va_list ap;
  int n;

  c->nwhy++;
  if (c->len + 2 >= sizeof(c->why))
    return;
  if (c->len > 0) {
    c->why[c->len++] = ';';
    c->why[c->len++] = ' ';
  }
  va_start(ap, fmt);
  n = vsnprintf(c->why + c->len, sizeof(c->why) - c->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    c->len += (size_t)n < sizeof(c->why) - c->len ? (size_t)n
                                                  : sizeof(c->why) - c->len - 1;
}

static void
expect_code(struct cell *c, const char *who, const char *what, int want,
            int got)
{
  char b1[24], b2[24];

  if (want != got)
    note(c, "%s: %s: expected %s, got %s", who, what,
         errname(want, b1, sizeof(b1)), errname(got, b2, sizeof(b2)));
}

/* Names the pointers a cell deals in, for readable findings. */
static const char *
ptrname(struct cell *c, const void *p, char *buf, size_t len)
{
  if (p == NULL)
    return "NULL";
  if (p == &c->p)
    return "f's result";
  if (p == &done_val)
    return "ok's result";
  if (p == &done_val + 1)
    return "(unwritten)";
  snprintf(buf, len, "%p", p);
  return buf;
}

static void
expect_ptr(struct cell *c, const char *who, const char *what, const void *want,
           const void *got)
{
  char b1[24], b2[24];

  if (want != got)
    note(c, "%s: %s: expected %s, got %s", who, what,
         ptrname(c, want, b1, sizeof(b1)), ptrname(c, got, b2, sizeof(b2)));
}

static void
expect_size(struct cell *c, const char *who, const char *what, size_t want,
            size_t got)
{
  if (want != got)
    note(c, "%s: %s: expected %zd, got %zd", who, what, (ssize_t)want,
         (ssize_t)got);
}

/* ------------------------------------------------------------ tasks */

static int
probe_settled(struct probe *p)
{
  return TU_PUB_LOAD(&p->finished) || TU_PUB_LOAD(&p->exited) ||
         (TU_PUB_LOAD(&p->drops) > 0 && TU_PUB_LOAD(&p->runs) == 0);
}

static void do_wait(struct wrec *w, future_t *f);

/*
 * f's task. In a fork() child (a child that ran the parent's task, which
 * the fork policy forbids) it only says so and returns: nobody would open
 * its latches there.
 */
static int
probe_task(void *arg, void **result)
{
  struct probe *p = arg;

  atomic_fetch_add(&p->runs, 1);
  if (getpid() != p->parent) {
    TU_PUB_STORE(&p->child_ran, 1);
    return EPROTO;
  }
  tu_latch_open(&p->started);
  tu_latch_wait(&p->go);
  if (p->mode == PROBE_SELF)
    do_wait(&p->c->w, TU_PUB_LOAD(&p->c->f));
  TU_PUB_STORE(&p->cancelled_seen, futures_cancelled());
  if (p->mode == PROBE_EXIT) {
    TU_PUB_STORE(&p->exited, 1);
    pthread_exit(NULL);
  }
  TU_PUB_STORE(&p->finished, 1);
  *result = p;
  return 0;
}

static void
probe_drop(void *arg)
{
  struct probe *p = arg;

  atomic_fetch_add(&p->drops, 1);
  if (p->drop_blocks) {
    tu_latch_open(&p->in_drop);
    tu_latch_wait(&p->drop_go);
  }
}

/* A continuation that passes its antecedent's outcome on. */
static int
cont_fn(void *arg, int code, void *value, void **result)
{
  struct cprobe *cp = arg;

  cp->code = code;
  cp->value = value;
  cp->ante_settled = probe_settled(cp->p);
  cp->tid = (pid_t)syscall(SYS_gettid);
  atomic_fetch_add(&cp->runs, 1);
  *result = value;
  return code;
}

static int
ok_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static int
fail_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return EDOM;
}

/* Submits f (from whichever thread calls it) and publishes it. */
static void
submit_f(struct cell *c)
{
  futures_task_t t = FUTURES_TASK(probe_task, &c->p, probe_drop);
  future_t *f = NULL;
  int rc = futures_submit_ex(c->pool, &t, NULL, &f);

  TU_PUB_STORE(&c->submit_rc, rc);
  if (rc == 0)
    TU_PUB_STORE(&c->f, f);
}

/* ------------------------------------------------------------ waiting */

/* The join kinds: the array that goes with each (see the top). */
static int
call_join(struct wrec *w, future_t *f, const struct timespec *dl)
{
  struct cell *c = w->c;
  future_t *all[2] = {c->done_ok, f}, *settled[2] = {c->done_fail, f};
  future_t *one[1] = {f};

  switch (w->kind) {
  case K_JOIN_ALL:
    return futures_join_all(all, 2, w->results);
  case K_JOIN_ALL_UNTIL:
    return futures_join_all_until(all, 2, w->results, dl);
  case K_JOIN_ALL_SETTLED:
    return futures_join_all_settled(settled, 2, w->outc);
  case K_JOIN_ALL_FAILFAST:
    return futures_join_all_failfast(all, 2, w->results, &w->failed);
  case K_JOIN_ANY:
    return futures_join_any(one, 1, &w->index, &w->res);
  case K_JOIN_ANY_UNTIL:
    return futures_join_any_until(one, 1, &w->index, &w->res, dl);
  default:
    return futures_join_any_ok(settled, 2, &w->index, &w->res, w->codes);
  }
}

/* The as-completed kinds: a set over {ok, f}; ok's index first (it had
 * settled), then f's; w->failed holds the first index, w->index the
 * second, w->rc2 f's code read with future_get() once it came back. */
static int
call_as_completed(struct wrec *w, future_t *f, const struct timespec *dl)
{
  future_t *arr[2] = {w->c->done_ok, f};
  futures_as_completed_t *set;
  int rc = futures_as_completed_create(arr, 2, &set);

  if (rc != 0)
    return rc;
  rc = w->kind == K_AS_COMPLETED
           ? futures_as_completed_next(set, &w->failed)
           : futures_as_completed_next_until(set, dl, &w->failed);
  if (rc == 0)
    rc = w->kind == K_AS_COMPLETED
             ? futures_as_completed_next(set, &w->index)
             : futures_as_completed_next_until(set, dl, &w->index);
  if (rc == 0)
    w->rc2 = future_get(f, &w->res);
  futures_as_completed_destroy(set);
  return rc;
}

/* Waits on @f with @w's kind and records everything it returned. */
static void
do_wait(struct wrec *w, future_t *f)
{
  struct cell *c = w->c;
  struct timespec dl = {0, 0};

  w->tid = (pid_t)syscall(SYS_gettid);
  TU_PUB_STORE(&w->entered, 1);
  if (w->kind == K_WAIT_UNTIL || w->kind == K_JOIN_ALL_UNTIL ||
      w->kind == K_JOIN_ANY_UNTIL || w->kind == K_AS_COMPLETED_UNTIL)
    dl = tu_deadline_in(w->timeout_ns);
  if (w->kind == K_GET) {
    w->rc = future_get(f, &w->res);
  } else if (w->kind == K_WAIT_UNTIL) {
    w->rc = future_wait_until(f, &dl);
  } else if (w->kind == K_WAIT_FOR) {
    w->rc = future_wait_for(f, w->timeout_ns);
  } else if (w->kind == K_THEN) {
    w->then_rc = futures_then(c->pool, f, cont_fn, &w->cp, &w->cont);
    w->rc = w->then_rc;
    if (w->then_rc == 0 && !w->attach_only)
      w->rc = future_get(w->cont, &w->res);
  } else if (w->kind == K_AS_COMPLETED || w->kind == K_AS_COMPLETED_UNTIL) {
    w->rc = call_as_completed(w, f, &dl);
  } else {
    w->rc = call_join(w, f, &dl);
  }
  w->settled_at_return = probe_settled(&c->p);
  w->ready_at_return = future_is_ready(f);
  /* "read the outcome with future_get(), which then does not block" */
  if ((w->kind == K_WAIT_UNTIL || w->kind == K_WAIT_FOR) && w->rc == 0)
    w->rc2 = future_get(f, &w->res);
  TU_PUB_STORE(&w->returned, 1);
}

static void *thread_done(struct cell *c);

static void *
waiter_main(void *arg)
{
  struct wrec *w = arg;

  do_wait(w, TU_PUB_LOAD(&w->c->f));
  return thread_done(w->c);
}

/* SUBMITTER: submits f (into this thread's ring), waits for its turn. */
static void *
submitter_main(void *arg)
{
  struct wrec *w = arg;
  struct cell *c = w->c;

  submit_f(c);
  tu_latch_wait(&c->s_turn);
  if (TU_PUB_LOAD(&c->f) != NULL)
    do_wait(w, TU_PUB_LOAD(&c->f));
  return thread_done(c);
}

static int
latch_opened(void *arg)
{
  return tu_latch_is_open(arg);
}

/* WORKER_HELPS: a task of the pool that submits f and waits on it. */
static int
helper_task(void *arg, void **result)
{
  struct wrec *w = arg;
  struct cell *c = w->c;

  if (task_cfg(c->cfg))
    submit_f(c); /* a promise or timer exists already */
  if (TU_PUB_LOAD(&c->f) == NULL)
    return ENOMEM;
  /* idle2: the other worker takes f from our deque; wait until it has, so
   * that we wait for a task running elsewhere. */
  if (c->cfg == C_IDLE2)
    c->t_saw_start = tu_spin_until(latch_opened, &c->p.started, hang_ns());
  do_wait(w, TU_PUB_LOAD(&c->f));
  *result = w;
  return 0;
}

/* The end of a thread of @c, which join_bounded() joins (for helgrind). */
static void *
thread_done(struct cell *c)
{
  TU_HAPPENS_BEFORE(c);
  return NULL;
}

static void *
cancel_main(void *arg)
{
  struct cell *c = arg;

  c->cancel_tid = (pid_t)syscall(SYS_gettid);
  /* A promise or timer settles in this call, as a task in its return. */
  if (!task_cfg(c->cfg))
    TU_PUB_STORE(&c->p.finished, 1);
  c->cancel_rc = future_cancel(TU_PUB_LOAD(&c->f));
  TU_PUB_STORE(&c->cancel_returned, 1);
  return thread_done(c);
}

static void *
destroy_main(void *arg)
{
  struct cell *c = arg;

  /* The destroy settles a pending timer. */
  if (c->cfg == C_TIMER)
    TU_PUB_STORE(&c->p.finished, 1);
  c->destroy_rc = futures_pool_destroy_ex(c->pool, c->actor == A_DESTROY_CANCEL
                                                       ? FUTURES_DESTROY_CANCEL
                                                       : FUTURES_DESTROY_DRAIN);
  return thread_done(c);
}

/* promise, timer: the settlers of the release point. Each says f is
 * settling (p.finished) before its call, as f's task does before it
 * returns. */
static void
settle(struct cell *c, int which)
{
  future_t *f = TU_PUB_LOAD(&c->f);

  c->settle_tid[which] = (pid_t)syscall(SYS_gettid);
  tu_latch_wait(&c->settle_go);
  TU_PUB_STORE(&c->p.finished, 1);
  if (which == 1 || c->cfg == C_TIMER)
    c->settle_rc[which] = future_cancel(f);
  else if (c->actor == A_REJECT)
    c->settle_rc[which] = future_reject(f, EBADMSG);
  else
    c->settle_rc[which] = future_resolve(f, &c->p);
}

/* [0]: resolves the promise (REJECT: rejects it; a timer: cancels it). */
static void *
settle_main(void *arg)
{
  settle(arg, 0);
  return thread_done(arg);
}

/* [1], RESOLVE_VS_CANCEL: cancels the promise, racing [0]. */
static void *
settle_cancel_main(void *arg)
{
  settle(arg, 1);
  return thread_done(arg);
}

/* A second watch of f, racing the settle. */
static void *
watch_main(void *arg)
{
  struct cell *c = arg;

  tu_latch_wait(&c->settle_go);
  c->watch_rc[1] =
      futures_notifier_watch(c->nf, TU_PUB_LOAD(&c->f), &c->watch_rc[1]);
  return thread_done(c);
}

/* Takes the notifier's tags; a tag taken while f had not begun to settle
 * is a finding (p.finished is set before every settle). */
static void
take_tags(struct cell *c)
{
  void *tags[8];
  size_t n = futures_notifier_take(c->nf, tags, 8);

  if (n > 0 && !TU_PUB_LOAD(&c->p.finished))
    c->tag_early = 1;
  for (size_t i = 0; i < n; i++) {
    if (tags[i] == &c->watch_rc[0])
      c->ntags[0]++;
    else if (tags[i] == &c->watch_rc[1])
      c->ntags[1]++;
    else
      c->nforeign++;
  }
}

/* ------------------------------------------------------------ observing */

/* The scheduler state of thread @tid of this process ('S': asleep). */
static char
thread_state(pid_t tid)
{
  char path[64], buf[512], *p;
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
  fd = open(path, O_RDONLY);
  if (fd < 0)
    return '?';
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return '?';
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' ? p[2] : '?';
}

/*
 * The waiter has returned, or is inside its waiting call and asleep (in
 * the library's condition wait, or in f's task blocked on its latch). The
 * public API cannot say more; a thread briefly asleep on a library mutex
 * counts too, which only makes the forced order weaker, never wrong.
 */
static int
parked(void *arg)
{
  struct wrec *w = arg;

  if (TU_PUB_LOAD(&w->returned))
    return 1;
  return TU_PUB_LOAD(&w->entered) && thread_state(w->tid) == 'S';
}

static int
f_published(void *arg)
{
  struct cell *c = arg;

  return TU_PUB_LOAD(&c->submit_rc) != -1;
}

static int
shutting_down(void *arg)
{
  struct cell *c = arg;
  futures_stats_t st = FUTURES_STATS_INIT;

  return futures_pool_stats(c->pool, &st) == 0 && st.shutting_down;
}

static int
cancel_in_drop_or_done(void *arg)
{
  struct cell *c = arg;

  return tu_latch_is_open(&c->p.in_drop) || TU_PUB_LOAD(&c->cancel_returned);
}

/* No thread of this process is one of the pool's workers any more (the
 * workers are named; a build without pthread_setname_np says yes at once,
 * which only makes CANCEL_DRAIN's order weaker). */
static int
workers_gone(void *arg)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0;

  (void)arg;
  if (d == NULL)
    return 1;
  while ((e = readdir(d)) != NULL) {
    char path[300], comm[32] = "";
    int fd;

    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
    fd = open(path, O_RDONLY);
    if (fd < 0)
      continue;
    if (read(fd, comm, sizeof(comm) - 1) > 0 &&
        strncmp(comm, POOL_NAME "-w", sizeof(POOL_NAME "-w") - 1) == 0)
      n++;
    close(fd);
  }
  closedir(d);
  return n == 0;
}

/* Joins @t within the hang bound; on failure notes it and marks the cell
 * hung (the thread still uses it). */
static int
join_bounded(struct cell *c, pthread_t t, const char *who)
{
  struct timespec dl;
  long long ns;

  clock_gettime(CLOCK_REALTIME, &dl);
  ns = (long long)dl.tv_nsec + hang_ns();
  dl.tv_sec += (time_t)(ns / SEC);
  dl.tv_nsec = (long)(ns % SEC);
  if (pthread_timedjoin_np(t, NULL, &dl) == 0) {
    /* helgrind does not know pthread_timedjoin_np(): every thread of a
     * cell ends with TU_HAPPENS_BEFORE(cell) (see thread_done()). */
    TU_HAPPENS_AFTER(c);
    return 1;
  }
  note(c, "hang: %s did not return within %lld s", who, hang_ns() / SEC);
  c->hung = 1;
  return 0;
}

static void
wrec_init(struct wrec *w, struct cell *c, int kind, long long timeout_ns)
{
  memset(w, 0, sizeof(*w));
  w->c = c;
  w->kind = kind;
  w->timeout_ns = timeout_ns;
  w->rc = w->rc2 = w->then_rc = -1;
  w->res = &done_val + 1; /* a sentinel nobody returns */
  w->index = w->failed = 777;
  w->results[0] = w->results[1] = &done_val + 1;
  w->outc[0].code = w->outc[1].code = -1;
  w->codes[0] = w->codes[1] = -1;
  w->cp.p = &c->p;
  atomic_init(&w->entered, 0);
  atomic_init(&w->returned, 0);
  atomic_init(&w->cp.runs, 0);
}

/* ------------------------------------------------------------ fork */

/* Check's fork mode leaves its SIGALRM handler in the test process. */
static void
child_arm_alarm(void)
{
  signal(SIGALRM, SIG_DFL);
  alarm(10);
}

/*
 * FORK_CHILD: a child waits on f with W's kind. Exit status 0: ECHILD and
 * f not run; 1: the child ran the parent's task; 2 + rc: it returned rc.
 */
static void
fork_child_waits(struct cell *c)
{
  int status = 0;
  pid_t pid = fork();

  if (pid < 0) {
    note(c, "fork failed");
    return;
  }
  if (pid == 0) {
    struct wrec w;

    child_arm_alarm();
    wrec_init(&w, c, c->kind, c->w.timeout_ns);
    do_wait(&w, TU_PUB_LOAD(&c->f));
    if (TU_PUB_LOAD(&c->p.child_ran))
      tu_child_exit(1);
    tu_child_exit(w.rc == ECHILD            ? 0
                  : w.rc >= 0 && w.rc < 250 ? 2 + w.rc
                                            : 253);
  }
  if (waitpid(pid, &status, 0) != pid)
    status = -1;
  c->fork_status[c->forks++] = status;
}

static void
check_fork_status(struct cell *c, int which, int status)
{
  const char *when = which == 0 ? "child forked before W waited"
                                : "child forked while W waited";
  char b[24];

  if (status == -1)
    note(c, "%s: waitpid failed", when);
  else if (WIFSIGNALED(status))
    note(c, "%s: killed by signal %d%s", when, WTERMSIG(status),
         WTERMSIG(status) == SIGALRM ? " (it hung)" : "");
  else if (!WIFEXITED(status))
    note(c, "%s: did not exit", when);
  else if (WEXITSTATUS(status) == 1)
    note(c, "%s: %s ran the parent's task", when, kind_name[c->kind]);
  else if (WEXITSTATUS(status) >= 2)
    note(c, "%s: %s: expected ECHILD, got %s", when, kind_name[c->kind],
         errname(WEXITSTATUS(status) - 2, b, sizeof(b)));
}

/* ------------------------------------------------------------ the pool */

struct gate {
  atomic_int in;
  struct tu_latch open;
};

static int
gate_task(void *arg, void **result)
{
  struct gate *g = arg;

  atomic_fetch_add(&g->in, 1);
  tu_latch_wait(&g->open);
  *result = g;
  return 0;
}

struct gate_count {
  struct gate *g;
  int n;
};

static int
gate_full(void *arg)
{
  struct gate_count *gc = arg;

  return TU_PUB_LOAD(&gc->g->in) >= gc->n;
}

/*
 * 1 if the pool runs @n tasks at the same time, i.e. has @n live workers
 * (all started, so a later fork() cannot catch one starting). The test
 * thread only waits on a count, never on the futures, so it runs none.
 */
static int
pool_serves(struct cell *c, int n)
{
  struct gate g;
  struct gate_count gc = {&g, n};
  future_t *f[2] = {NULL, NULL};
  int ok = 1, k = 0;

  atomic_init(&g.in, 0);
  tu_latch_init(&g.open);
  for (; k < n; k++)
    if (futures_submit(c->pool, gate_task, &g, &f[k]) != 0) {
      ok = 0;
      break;
    }
  if (ok && !tu_spin_until(gate_full, &gc, hang_ns()))
    ok = 0;
  tu_latch_open(&g.open);
  for (int i = 0; i < k; i++) {
    void *r = NULL;

    if (future_wait_for(f[i], hang_ns()) != 0 || future_get(f[i], &r) != 0 ||
        r != &g)
      ok = 0;
    future_release(f[i]);
  }
  tu_latch_destroy(&g.open);
  return ok;
}

/* ------------------------------------------------------------ a cell */

/* The timeout a waiter of @kind uses when its deadline should not pass. */
static long long
generous(int kind)
{
  return kind == K_WAIT_FOR ? LLONG_MAX : GENEROUS_NS;
}

static void
probe_init(struct probe *p, struct cell *c)
{
  p->c = c;
  p->parent = getpid();
  p->mode = c->actor == A_PTHREAD_EXIT ? PROBE_EXIT
            : c->actor == A_SELF       ? PROBE_SELF
                                       : PROBE_RETURN;
  p->drop_blocks = c->actor == A_CANCEL_DRAIN;
  tu_latch_init(&p->started);
  tu_latch_init(&p->go);
  tu_latch_init(&p->in_drop);
  tu_latch_init(&p->drop_go);
  atomic_init(&p->runs, 0);
  atomic_init(&p->finished, 0);
  atomic_init(&p->exited, 0);
  atomic_init(&p->drops, 0);
  atomic_init(&p->cancelled_seen, -1);
  atomic_init(&p->child_ran, 0);
}

static void
cell_init(struct cell *c, int cfg, int kind, int actor)
{
  char an[32];

  c->cfg = cfg;
  c->kind = kind;
  c->actor = actor;
  actor_str(actor, an, sizeof(an));
  snprintf(c->name, sizeof(c->name), "%s %s x %s", config_name[cfg],
           kind_name[kind], an);
  c->nworkers = cfg == C_BUSY1 ? 1 : 2;
  atomic_init(&c->f, NULL);
  atomic_init(&c->submit_rc, -1);
  atomic_init(&c->cancel_returned, 0);
  probe_init(&c->p, c);
  tu_latch_init(&c->s_turn);
  tu_latch_init(&c->settle_go);
  c->settle_rc[0] = c->settle_rc[1] = c->cancel_rc = -1;
  c->watch_rc[0] = c->watch_rc[1] = c->inl_rc = -1;
  c->inl_cp.p = &c->p;
  atomic_init(&c->inl_cp.runs, 0);
  wrec_init(&c->w, c, kind, actor == A_DEADLINE ? SHORT_NS : generous(kind));
  c->w.attach_only = actor == A_SELF;
  /* Only the waiter under test waits "forever" with future_wait_for. */
  if (actor < NKINDS)
    wrec_init(&c->a, c, actor, GENEROUS_NS);
  else if (actor == A_SUBMITTER)
    wrec_init(&c->a, c, kind, GENEROUS_NS);
  else
    wrec_init(&c->a, c, K_WAIT_UNTIL, SHORT_NS);
}

/* Pool, finished futures for the joins, and (busy1) the held worker. */
static int
cell_setup(struct cell *c)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  int rc;

  o.nthreads = c->nworkers;
  o.name = POOL_NAME;
  if ((rc = futures_pool_create_ex(&c->pool, &o)) != 0) {
    expect_code(c, "setup", "futures_pool_create_ex", 0, rc);
    return 0;
  }
  if (futures_submit(c->pool, ok_task, &done_val, &c->done_ok) != 0 ||
      futures_submit(c->pool, fail_task, NULL, &c->done_fail) != 0 ||
      future_get(c->done_ok, NULL) != 0 ||
      future_get(c->done_fail, NULL) != EDOM) {
    note(c, "setup: the finished futures did not finish as they should");
    return 0;
  }
  /* Every worker running before anything else happens (see check_fork.c,
   * workers_up: a thread still starting at a fork() can hang the child). */
  if (!pool_serves(c, (int)c->nworkers)) {
    note(c, "setup: the pool did not run %u tasks at once", c->nworkers);
    return 0;
  }
  if (!task_cfg(c->cfg) && (rc = futures_notifier_create(&c->nf)) != 0) {
    expect_code(c, "setup", "futures_notifier_create", 0, rc);
    return 0;
  }
  if (c->cfg == C_BUSY1 && c->actor != A_WORKER_HELPS) {
    tu_hold_init(&c->hold, &c->hold);
    c->have_hold = 1;
    if (futures_submit(c->pool, tu_hold_task, &c->hold, &c->hold_f) != 0 ||
        !tu_spin_until(latch_opened, &c->hold.started, hang_ns())) {
      note(c, "setup: the hold task did not start");
      return 0;
    }
  }
  return 1;
}

/* Waits for f's task to start; @why says who should have started it. */
static int
await_start(struct cell *c, const char *why)
{
  if (tu_spin_until(latch_opened, &c->p.started, hang_ns()))
    return 1;
  note(c, "hang: f's task never started (%s)", why);
  c->hung = 1;
  return 0;
}

/* Waits until @w sleeps in its call (or returned); a waiter that never
 * sleeps is a finding ("spins briefly, then sleeps"). */
static void
await_parked(struct cell *c, struct wrec *w, const char *who)
{
  if (!tu_spin_until(parked, w, hang_ns()))
    note(c, "%s (%s) did not block within %lld s", who, kind_name[w->kind],
         hang_ns() / SEC);
}

/* f is submitted (by the test, by S or by the helping task) and, on idle2,
 * running; FORK_CHILD forks for the first time. */
static int
stage_f(struct cell *c)
{
  int rc;

  if (!task_cfg(c->cfg)) {
    /* The test thread makes f (a helping task then only waits on it). */
    future_t *f = NULL;

    rc = c->cfg == C_PROMISE ? futures_promise_create(&f)
                             : futures_after(c->pool, LLONG_MAX, &f);
    if (rc == 0)
      TU_PUB_STORE(&c->f, f);
    TU_PUB_STORE(&c->submit_rc, rc);
  }
  if (c->actor == A_SUBMITTER) {
    if (pthread_create(&c->at, NULL, submitter_main, &c->a) != 0)
      return 0;
    c->have_at = 1;
  } else if (c->actor == A_WORKER_HELPS) {
    if (futures_submit(c->pool, helper_task, &c->w, &c->task_f) != 0) {
      note(c, "setup: the helping task was not accepted");
      return 0;
    }
  } else if (task_cfg(c->cfg)) {
    submit_f(c);
  }
  if (!tu_spin_until(f_published, c, hang_ns())) {
    note(c, "hang: f was never submitted");
    c->hung = 1;
    return 0;
  }
  if ((rc = TU_PUB_LOAD(&c->submit_rc)) != 0) {
    expect_code(c, "setup", "submitting f", 0, rc);
    return 0;
  }
  if (c->cfg == C_IDLE2 && !await_start(c, "an idle worker should run it"))
    return 0;
  if (!task_cfg(c->cfg)) {
    /* The observers, before anyone waits: an inline continuation and a
     * notifier's watch; a second watch races the settle. */
    future_t *f = TU_PUB_LOAD(&c->f);

    c->inl_rc = futures_then_inline(f, cont_fn, &c->inl_cp, &c->inl);
    c->watch_rc[0] = futures_notifier_watch(c->nf, f, &c->watch_rc[0]);
  }
  if (c->actor == A_FORK_CHILD)
    fork_child_waits(c);
  return 1;
}

/* The waiter under test starts and blocks (SUBMITTER: S waits first). */
static int
stage_waiter(struct cell *c)
{
  int busy = c->cfg == C_BUSY1;

  if (c->actor == A_SUBMITTER) {
    tu_latch_open(&c->s_turn);
    if (busy && runs_inline(c->kind, 0) &&
        !await_start(c, "the submitter waiting should run it"))
      return 0;
    await_parked(c, &c->a, "submitter");
  }
  if (c->actor == A_SELF)
    return 1; /* the waiter is f's own task; it waits once 'go' opens */
  if (c->actor == A_WORKER_HELPS) {
    if (busy && !await_start(c, "the only worker, waiting on its own queued "
                                "sub-task, should run it"))
      return 0;
    await_parked(c, &c->w, "waiting task");
    return 1;
  }
  if (pthread_create(&c->wt, NULL, waiter_main, &c->w) != 0) {
    note(c, "pthread_create failed");
    return 0;
  }
  c->have_wt = 1;
  if (busy && runs_inline(c->kind, 0) && !tu_latch_is_open(&c->p.started) &&
      !await_start(c, "the waiter should run it"))
    return 0;
  await_parked(c, &c->w, "waiter");
  /* Nobody else could have started f: the worker is held. */
  if (busy && !runs_inline(c->kind, 0) &&
      !(c->actor == A_SUBMITTER && runs_inline(c->a.kind, 0)))
    c->f_started_early = tu_latch_is_open(&c->p.started);
  return 1;
}

static int
start_thread(struct cell *c, pthread_t *t, int *have, void *(*fn)(void *),
             void *arg)
{
  if (pthread_create(t, NULL, fn, arg) != 0) {
    note(c, "pthread_create failed");
    return 0;
  }
  *have = 1;
  return 1;
}

/* Destroy has begun (the pool says so), so what follows races with it. */
static int
start_destroy(struct cell *c)
{
  if (!start_thread(c, &c->dt, &c->have_dt, destroy_main, c))
    return 0;
  c->pool_destroyed = 1;
  if (!tu_spin_until(shutting_down, c, hang_ns())) {
    note(c, "hang: futures_pool_stats never said shutting_down");
    c->hung = 1;
    return 0;
  }
  return 1;
}

static int
act_cancel_drain(struct cell *c)
{
  if (!start_thread(c, &c->ct, &c->have_ct, cancel_main, c))
    return 0;
  if (!tu_spin_until(cancel_in_drop_or_done, c, hang_ns())) {
    note(c, "hang: future_cancel neither returned nor dropped");
    c->hung = 1;
    return 0;
  }
  if (!start_destroy(c))
    return 0;
  if (tu_latch_is_open(&c->p.in_drop)) {
    /* The cancel is inside its drop function: let the drain run and end
     * (the workers exit) before the cancel wakes f's waiters and queues
     * its continuations. A library whose drain waits for the cancel never
     * lets the workers go: then this waits out a short bound. */
    tu_latch_open(&c->p.go);
    if (c->have_hold)
      tu_latch_open(&c->hold.release);
    tu_spin_until(workers_gone, NULL, hang_ns() / 25);
    tu_latch_open(&c->p.drop_go);
  }
  return 1;
}

/* Joins the thread of *@have within the bound (if started). */
static int
join_started(struct cell *c, pthread_t t, int *have, const char *who)
{
  if (!*have)
    return 1;
  if (c->hung) {
    /* After a hang, only collect the threads that are done. */
    if (pthread_tryjoin_np(t, NULL) == 0)
      *have = 0;
    return 0;
  }
  if (!join_bounded(c, t, who))
    return 0;
  *have = 0;
  return 1;
}

/* The actor acts while f is held (queued behind the hold, or running). */
static int
stage_act(struct cell *c)
{
  int a = c->actor;

  if (a < NKINDS) {
    if (!start_thread(c, &c->at, &c->have_at, waiter_main, &c->a))
      return 0;
    if (c->cfg == C_BUSY1 && runs_inline(a, 0) &&
        !tu_latch_is_open(&c->p.started) &&
        !await_start(c, "the second waiter should run it"))
      return 0;
    await_parked(c, &c->a, "second waiter");
    return 1;
  }
  switch (a) {
  case A_CANCEL:
    if (!start_thread(c, &c->ct, &c->have_ct, cancel_main, c))
      return 0;
    return join_started(c, c->ct, &c->have_ct, "future_cancel");
  case A_CANCEL_DRAIN:
    return act_cancel_drain(c);
  case A_DESTROY_DRAIN:
  case A_DESTROY_CANCEL:
    if (task_cfg(c->cfg))
      return start_destroy(c);
    /* The whole destroy happens while every waiter waits: it must not
     * wait for a promise (it settles the continuations waiting on it
     * with ECANCELED first), and it settles a pending timer ECANCELED.
     * (Nothing holds it, so the pool may be gone at once: no stats.) */
    if (!start_thread(c, &c->dt, &c->have_dt, destroy_main, c))
      return 0;
    c->pool_destroyed = 1;
    if (!join_started(c, c->dt, &c->have_dt, "futures_pool_destroy"))
      return 0;
    if (c->cfg == C_TIMER && !future_is_ready(TU_PUB_LOAD(&c->f)))
      note(c, "f: the timer was still pending after its pool's destroy "
              "returned");
    return 1;
  case A_FORK_CHILD:
    fork_child_waits(c);
    return 1;
  case A_DEADLINE:
    /* W's 20 ms pass while f is held. */
    return join_started(c, c->wt, &c->have_wt,
                        "the waiter with the short deadline");
  case A_DEADLINE_OTHER:
    if (!start_thread(c, &c->at, &c->have_at, waiter_main, &c->a))
      return 0;
    return join_started(c, c->at, &c->have_at, "the expiring waiter");
  default:
    return 1; /* SUBMITTER acted first; PTHREAD_EXIT, WORKER_HELPS and
                 SELF act through f's task or W itself */
  }
}

/* Lets f (and the hold) go and waits for everything to end. */
/* Waits (bounded) for @f to finish; on a hang notes @what. */
static int
await_done(struct cell *c, future_t *f, const char *what)
{
  if (future_wait_for(f, hang_ns()) == 0)
    return 1;
  note(c, "hang: %s", what);
  c->hung = 1;
  return 0;
}

/* promise, timer: where a task's 'go' would open, f is settled from other
 * threads (one, or RESOLVE_VS_CANCEL's two) while a second watch races
 * them; no tag may have come before. */
static int
start_settlers(struct cell *c)
{
  take_tags(c);
  if (!start_thread(c, &c->st[0], &c->have_st[0], settle_main, c) ||
      (c->actor == A_RACE &&
       !start_thread(c, &c->st[1], &c->have_st[1], settle_cancel_main, c)) ||
      !start_thread(c, &c->nt, &c->have_nt, watch_main, c)) {
    tu_latch_open(&c->settle_go);
    return 0;
  }
  tu_latch_open(&c->settle_go);
  return 1;
}

static int
stage_release(struct cell *c)
{
  int started = 1;

  if (!task_cfg(c->cfg))
    started = start_settlers(c);
  tu_latch_open(&c->p.go);
  if (c->have_hold)
    tu_latch_open(&c->hold.release);
  tu_latch_open(&c->p.drop_go);
  /* All of them, even after one hung, so that the others are collected. */
  join_started(c, c->st[0], &c->have_st[0], "the settler");
  join_started(c, c->st[1], &c->have_st[1], "the racing canceller");
  join_started(c, c->nt, &c->have_nt, "the racing watch");
  join_started(c, c->wt, &c->have_wt, "the waiter");
  join_started(c, c->at, &c->have_at, "the actor's waiter");
  join_started(c, c->ct, &c->have_ct, "future_cancel");
  join_started(c, c->dt, &c->have_dt, "futures_pool_destroy");
  if (!started)
    return 0;
  if (c->hung && c->pool_destroyed && !c->have_dt)
    note(c, "futures_pool_destroy had returned %d by then", c->destroy_rc);
  if (c->hung)
    return 0;
  if (c->task_f != NULL) {
    if (!await_done(c, c->task_f, "the waiting task never finished"))
      return 0;
    c->task_rc = future_get(c->task_f, NULL);
  }
  if (!await_done(c, TU_PUB_LOAD(&c->f),
                  c->actor == A_SELF
                      ? "f never finished (its task waits on itself)"
                      : "f never finished"))
    return 0;
  if (c->have_hold && !await_done(c, c->hold_f, "the hold task never finished"))
    return 0;
  if (c->actor == A_SELF && c->kind == K_THEN && c->w.cont != NULL) {
    if (!await_done(c, c->w.cont,
                    "the continuation f attached to itself never ran"))
      return 0;
    c->w.rc = future_get(c->w.cont, &c->w.res);
  }
  if (c->inl != NULL) {
    /* It ran in the settling thread, which has returned: it is ready. */
    if (!future_is_ready(c->inl))
      note(c, "the inline continuation had not settled when the thread "
              "that settled f returned");
    if (!await_done(c, c->inl, "the inline continuation never settled"))
      return 0;
  }
  if (c->nf != NULL) {
    /* Every settler returned: both tags are there (delivered in the
     * settling thread, or at once in the racing watch). */
    struct pollfd pfd = {futures_notifier_fd(c->nf), POLLIN, 0};

    if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
      note(c, "notifier: its fd was not readable once f had settled");
    take_tags(c);
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) != 0)
      note(c, "notifier: its fd stayed readable after every tag was taken");
    take_tags(c);
  }
  return 1;
}

/* ------------------------------------------------------------ verdicts */

enum fate { FATE_RAN, FATE_CANCELLED, FATE_EXITED };
enum expect { X_OUTCOME, X_TIMEDOUT, X_DEADLK, X_NORETURN };

static int
cell_fate(struct cell *c)
{
  int a = c->actor;
  /* The cancelling actors find f still queued only on busy1, when W is an
   * outside waiter that does not run it. */
  int queued = c->cfg == C_BUSY1 && !runs_inline(c->kind, 0);

  if (a == A_PTHREAD_EXIT)
    return FATE_EXITED;
  if ((a == A_CANCEL || a == A_CANCEL_DRAIN || a == A_DESTROY_CANCEL) && queued)
    return FATE_CANCELLED;
  return FATE_RAN;
}

static int
expect_w(struct cell *c)
{
  if (c->actor == A_SELF)
    return c->kind == K_THEN ? X_OUTCOME : X_DEADLK;
  if (c->actor == A_DEADLINE)
    return X_TIMEDOUT;
  /* W ran the exiting task in its own thread: that thread ended. */
  if (c->actor == A_PTHREAD_EXIT && c->cfg == C_BUSY1 &&
      runs_inline(c->kind, 0))
    return X_NORETURN;
  return X_OUTCOME;
}

static void
check_then(struct cell *c, struct wrec *w, const char *who, int fc, void *fr)
{
  struct cprobe *cp = &w->cp;
  int runs = TU_PUB_LOAD(&cp->runs);

  expect_code(c, who, "futures_then", 0, w->then_rc);
  if (w->then_rc != 0)
    return;
  /* destroy_ex(CANCEL): "every accepted task ends in exactly one of two
   * ways: it ran, or its future says ECANCELED". */
  if (c->actor == A_DESTROY_CANCEL && runs == 0 && w->rc == ECANCELED &&
      w->res == NULL)
    return;
  /* A pool's destroy settles its continuations waiting on a future from
   * outside it with ECANCELED before its drain: unrun. A promise is from
   * outside; so, as the library reads it, is the pool's own timer (its
   * continuations wait in foreign.c's list, which destroy closes before
   * it settles the timers; see the top). */
  if (!task_cfg(c->cfg) &&
      (c->actor == A_DESTROY_DRAIN || c->actor == A_DESTROY_CANCEL)) {
    expect_code(c, who, "runs of the continuation (settled by the destroy)", 0,
                runs);
    expect_code(c, who, "continuation's code", ECANCELED, w->rc);
    expect_ptr(c, who, "continuation's result", NULL, w->res);
    return;
  }
  if (runs != 1)
    note(c, "%s: the continuation ran %d times", who, runs);
  expect_code(c, who, "continuation's code", fc, w->rc);
  expect_ptr(c, who, "continuation's result", fr, w->res);
  if (runs == 1) {
    expect_code(c, who, "code passed to the continuation", fc, cp->code);
    expect_ptr(c, who, "value passed to the continuation", fr, cp->value);
    if (!cp->ante_settled)
      note(c, "%s: the continuation ran before f's task had finished", who);
  }
}

/* What a join with its array (see the top) must report when f ended with
 * @fc and @fr. */
static void
check_join(struct cell *c, struct wrec *w, const char *who, int fc, void *fr)
{
  int ok = fc == 0, any_ok = w->kind == K_JOIN_ANY_OK;

  if (w->kind == K_JOIN_ALL_SETTLED) {
    expect_code(c, who, "code", 0, w->rc);
    expect_code(c, who, "outcomes[0].code", EDOM, w->outc[0].code);
    expect_ptr(c, who, "outcomes[0].result", NULL, w->outc[0].result);
    expect_code(c, who, "outcomes[1].code", fc, w->outc[1].code);
    expect_ptr(c, who, "outcomes[1].result", fr, w->outc[1].result);
    return;
  }
  expect_code(c, who, "code", any_ok && !ok ? ENOENT : fc, w->rc);
  if (w->kind == K_JOIN_ALL_FAILFAST)
    expect_size(c, who, "failed", ok ? NO_INDEX : 1, w->failed);
  if (w->kind == K_JOIN_ANY || w->kind == K_JOIN_ANY_UNTIL || any_ok)
    expect_size(c, who, "index", !any_ok ? 0 : ok ? 1 : NO_INDEX, w->index);
  if (w->kind == K_JOIN_ALL || w->kind == K_JOIN_ALL_UNTIL ||
      (w->kind == K_JOIN_ALL_FAILFAST && ok)) {
    expect_ptr(c, who, "results[0]", &done_val, w->results[0]);
    expect_ptr(c, who, "results[1]", fr, w->results[1]);
  } else if (any_ok && !ok) {
    expect_code(c, who, "codes[0]", EDOM, w->codes[0]);
    expect_code(c, who, "codes[1]", fc, w->codes[1]);
  } else if (w->kind != K_JOIN_ALL_FAILFAST) {
    expect_ptr(c, who, "result", fr, w->res);
  }
}

/* The outcome a waiter of its kind must report when f ended with @fc. */
static void
check_outcome(struct cell *c, struct wrec *w, const char *who, int fc, void *fr)
{
  if (w->kind == K_THEN) {
    check_then(c, w, who, fc, fr);
    return;
  }
  if (w->kind == K_GET) {
    expect_code(c, who, "code", fc, w->rc);
    expect_ptr(c, who, "result", fr, w->res);
  } else if (w->kind == K_WAIT_UNTIL || w->kind == K_WAIT_FOR) {
    expect_code(c, who, "code", 0, w->rc);
    expect_code(c, who, "future_get() after it", fc, w->rc2);
    expect_ptr(c, who, "result", fr, w->res);
  } else if (w->kind == K_AS_COMPLETED || w->kind == K_AS_COMPLETED_UNTIL) {
    expect_code(c, who, "code", 0, w->rc);
    expect_size(c, who, "first index (ok, settled at create)", 0, w->failed);
    expect_size(c, who, "second index (f)", 1, w->index);
    expect_code(c, who, "future_get() after it", fc, w->rc2);
    expect_ptr(c, who, "result", fr, w->res);
  } else {
    check_join(c, w, who, fc, fr);
  }
  if (!w->settled_at_return)
    note(c, "%s: returned before f's task had finished", who);
  if (!task_cfg(c->cfg) && !w->ready_at_return)
    note(c, "%s: returned f's outcome, but future_is_ready(f) said 0", who);
}

static void
check_waiter(struct cell *c, struct wrec *w, const char *who, int x, int fc,
             void *fr)
{
  char b[24];

  if (x == X_NORETURN) {
    if (TU_PUB_LOAD(&w->returned))
      note(c, "%s: returned %s, but the task it ran ended its thread", who,
           errname(w->rc, b, sizeof(b)));
    return;
  }
  if (!TU_PUB_LOAD(&w->returned)) {
    note(c, "%s: never returned (its thread ended inside the call)", who);
    return;
  }
  switch (x) {
  case X_DEADLK:
    expect_code(c, who, "code", EDEADLK, w->rc);
    break;
  case X_TIMEDOUT:
    expect_code(c, who, "code", ETIMEDOUT, w->rc);
    if (w->ready_at_return)
      note(c, "%s: f had finished when its deadline expired", who);
    if (w->kind == K_JOIN_ALL_UNTIL &&
        (w->results[0] != &done_val + 1 || w->results[1] != &done_val + 1))
      note(c, "%s: ETIMEDOUT but the results were written", who);
    if (w->kind == K_JOIN_ANY_UNTIL)
      expect_size(c, who, "index", NO_INDEX, w->index);
    if (w->kind == K_AS_COMPLETED_UNTIL) {
      expect_size(c, who, "first index (ok, settled at create)", 0, w->failed);
      expect_size(c, who, "second index", NO_INDEX, w->index);
    }
    break;
  default:
    check_outcome(c, w, who, fc, fr);
  }
}

/* f's task: ran once (or, cancelled, never, dropped once), and f says so. */
static void
check_f(struct cell *c, int fate, int fc, void *fr)
{
  struct probe *p = &c->p;
  int a = c->actor;
  int cancelling =
      a == A_CANCEL || a == A_CANCEL_DRAIN || a == A_DESTROY_CANCEL;
  void *r = &done_val + 1;

  expect_code(c, "f", "runs of its task", fate == FATE_CANCELLED ? 0 : 1,
              TU_PUB_LOAD(&p->runs));
  expect_code(c, "f", "drop calls", fate == FATE_CANCELLED ? 1 : 0,
              TU_PUB_LOAD(&p->drops));
  if (fate == FATE_RAN)
    expect_code(c, "f", "futures_cancelled() in its task", cancelling,
                TU_PUB_LOAD(&p->cancelled_seen));
  if (c->f_started_early)
    note(c,
         "f: its task started while the worker was held: %s from "
         "outside ran it, though its contract says it only waits",
         kind_name[c->kind]);
  expect_code(c, "f", "future_get() after all", fc,
              future_get(TU_PUB_LOAD(&c->f), &r));
  expect_ptr(c, "f", "future_get() result after all", fr, r);
  if (c->have_hold)
    expect_code(c, "the hold task", "code", 0, future_get(c->hold_f, NULL));
}

/* What the actors themselves got back. */
static void
check_actor(struct cell *c, int fate)
{
  int a = c->actor;

  if ((a == A_CANCEL || a == A_CANCEL_DRAIN) && task_cfg(c->cfg))
    expect_code(c, "future_cancel", "code",
                fate == FATE_CANCELLED ? 0 : EINPROGRESS, c->cancel_rc);
  if (a == A_CANCEL_DRAIN || a == A_DESTROY_DRAIN || a == A_DESTROY_CANCEL)
    expect_code(c, "futures_pool_destroy", "code", 0, c->destroy_rc);
  for (int i = 0; i < c->forks; i++)
    check_fork_status(c, i, c->fork_status[i]);
  if (a == A_WORKER_HELPS) {
    expect_code(c, "the waiting task", "its own code", 0, c->task_rc);
    if (c->cfg == C_IDLE2 && !c->t_saw_start)
      note(c, "the idle worker never took f from the waiting task's queue");
  }
}

/* promise, timer: the outcome f must have, from who settled it. */
static void
settled_outcome(struct cell *c, int *fc, void **fr)
{
  int a = c->actor;

  *fc = ECANCELED;
  *fr = NULL;
  if (c->cfg == C_TIMER || a == A_CANCEL)
    return;
  if (a == A_REJECT) {
    *fc = EBADMSG;
  } else if (a != A_RACE || c->settle_rc[0] == 0) {
    *fc = 0;
    *fr = &c->p;
  }
}

/* promise, timer: f's settlers, its inline continuation and notifier. */
static void
check_settled(struct cell *c, int fc, void *fr)
{
  int a = c->actor;
  int destroyed = a == A_DESTROY_DRAIN || a == A_DESTROY_CANCEL;
  int pre = a == A_CANCEL || (c->cfg == C_TIMER && destroyed);
  const char *s0 = c->cfg == C_TIMER ? "future_cancel at the release"
                   : a == A_REJECT   ? "future_reject"
                                     : "future_resolve";
  struct cprobe *cp = &c->inl_cp;
  pid_t want_tid = c->settle_tid[0];
  void *r = &done_val + 1;

  expect_code(c, "f", "future_get() after all", fc,
              future_get(TU_PUB_LOAD(&c->f), &r));
  expect_ptr(c, "f", "future_get() result after all", fr, r);
  /* The first settle wins; every later one is EALREADY. */
  if (a == A_RACE) {
    int r0 = c->settle_rc[0], r1 = c->settle_rc[1];
    char b0[24], b1[24];

    if (!((r0 == 0 && r1 == EALREADY) || (r0 == EALREADY && r1 == 0)))
      note(c,
           "the race: future_resolve got %s and future_cancel %s: "
           "exactly one must win, the other get EALREADY",
           errname(r0, b0, sizeof(b0)), errname(r1, b1, sizeof(b1)));
    if (r1 == 0)
      want_tid = c->settle_tid[1];
  } else {
    expect_code(c, s0, "code", pre ? EALREADY : 0, c->settle_rc[0]);
  }
  if (a == A_CANCEL) {
    expect_code(c, "future_cancel (the actor)", "code", 0, c->cancel_rc);
    want_tid = c->cancel_tid;
  }
  /* The inline continuation: once, with f's outcome, in the settling
   * thread (a timer settled by its pool's destroy: the destroy's or the
   * timer thread, not checked). */
  expect_code(c, "futures_then_inline", "code", 0, c->inl_rc);
  if (c->inl_rc == 0) {
    int runs = TU_PUB_LOAD(&cp->runs);

    expect_code(c, "the inline continuation", "runs", 1, runs);
    if (runs == 1) {
      expect_code(c, "the inline continuation", "code passed", fc, cp->code);
      expect_ptr(c, "the inline continuation", "value passed", fr, cp->value);
      if (!cp->ante_settled)
        note(c, "the inline continuation ran before f was settled");
      if (!(c->cfg == C_TIMER && destroyed) && cp->tid != want_tid)
        note(c,
             "the inline continuation ran in thread %d, not in the one "
             "that settled f (%d)",
             (int)cp->tid, (int)want_tid);
    }
    r = &done_val + 1;
    expect_code(c, "the inline continuation's future", "code", fc,
                future_get(c->inl, &r));
    expect_ptr(c, "the inline continuation's future", "result", fr, r);
  }
  /* The notifier: each watch's tag exactly once, none before f settled. */
  expect_code(c, "notifier", "watch before W waited", 0, c->watch_rc[0]);
  expect_code(c, "notifier", "watch racing the settle", 0, c->watch_rc[1]);
  if (c->watch_rc[0] == 0)
    expect_code(c, "notifier", "tags of the first watch taken", 1, c->ntags[0]);
  if (c->watch_rc[1] == 0)
    expect_code(c, "notifier", "tags of the racing watch taken", 1,
                c->ntags[1]);
  if (c->nforeign != 0)
    note(c, "notifier: %d tags that no one watched with", c->nforeign);
  if (c->tag_early)
    note(c, "notifier: a tag was delivered before f was settled");
}

static void
cell_check(struct cell *c)
{
  int fate = cell_fate(c), a = c->actor;
  int fc = fate == FATE_RAN         ? 0
           : fate == FATE_CANCELLED ? ECANCELED
                                    : EOWNERDEAD;
  void *fr = fate == FATE_RAN ? (void *)&c->p : NULL;
  char name[32];

  if (task_cfg(c->cfg)) {
    check_f(c, fate, fc, fr);
  } else {
    settled_outcome(c, &fc, &fr);
    check_settled(c, fc, fr);
  }
  check_waiter(c, &c->w,
               a == A_WORKER_HELPS ? "W (a task)"
               : a == A_SELF       ? "W (f's own task)"
                                   : "W",
               expect_w(c), fc, fr);
  if (a < NKINDS) {
    actor_str(a, name, sizeof(name));
    check_waiter(c, &c->a, name, X_OUTCOME, fc, fr);
  } else if (a == A_SUBMITTER) {
    check_waiter(c, &c->a, "the submitter", X_OUTCOME, fc, fr);
  } else if (a == A_DEADLINE_OTHER) {
    check_waiter(c, &c->a, "the expiring waiter", X_TIMEDOUT, fc, fr);
  }
  check_actor(c, fate);
}

static void
cell_cleanup(struct cell *c)
{
  int rc;

  /* After a failed setup, nothing may stay held. */
  tu_latch_open(&c->p.go);
  tu_latch_open(&c->p.drop_go);
  tu_latch_open(&c->s_turn);
  tu_latch_open(&c->settle_go);
  if (c->have_hold)
    tu_latch_open(&c->hold.release);
  if (c->pool != NULL && !c->pool_destroyed) {
    /* Nobody else was affected: every worker (a replacement, after
     * pthread_exit()) still runs tasks. */
    if (!pool_serves(c, (int)c->nworkers))
      note(c, "afterwards the pool no longer runs %u tasks at once",
           c->nworkers);
    if ((rc = futures_pool_destroy(c->pool)) != 0)
      expect_code(c, "cleanup", "futures_pool_destroy", 0, rc);
  }
  future_release(TU_PUB_LOAD(&c->f));
  future_release(c->done_ok);
  future_release(c->done_fail);
  future_release(c->hold_f);
  future_release(c->task_f);
  future_release(c->w.cont);
  future_release(c->a.cont);
  future_release(c->inl);
  futures_notifier_destroy(c->nf);
  if (c->have_hold)
    tu_hold_destroy(&c->hold);
  tu_latch_destroy(&c->p.started);
  tu_latch_destroy(&c->p.go);
  tu_latch_destroy(&c->p.in_drop);
  tu_latch_destroy(&c->p.drop_go);
  tu_latch_destroy(&c->s_turn);
  tu_latch_destroy(&c->settle_go);
}

/* ------------------------------------------------------------ the table */

/* The cells that run, per config: kind * NACTORS + actor. */
static int run_list[NCONFIGS][NKINDS * NACTORS];
static int nrun[NCONFIGS];

static void
build_lists(void)
{
  for (int cfg = 0; cfg < NCONFIGS; cfg++) {
    nrun[cfg] = 0;
    for (int k = 0; k < NKINDS; k++)
      for (int a = 0; a < NACTORS; a++)
        if (excluded(cfg, k, a) == NULL)
          run_list[cfg][nrun[cfg]++] = k * NACTORS + a;
  }
}

static void
run_cell(int cfg, int code)
{
  struct cell *c = calloc(1, sizeof(*c));
  const char *filter = getenv("MATRIX_FILTER");
  char msg[sizeof(c->why) + 80];
  int bad, hung;

  ck_assert_ptr_nonnull(c);
  cell_init(c, cfg, code / NACTORS, code % NACTORS);
  if (filter != NULL && strstr(c->name, filter) == NULL) {
    free(c);
    return;
  }
  if (cell_setup(c)) {
    if (stage_f(c) && stage_waiter(c) && stage_act(c) && stage_release(c))
      cell_check(c);
    else
      c->hung = 1; /* threads of the cell may still be running */
  }
  if (!c->hung)
    cell_cleanup(c);
  snprintf(msg, sizeof(msg), "%s: %s", c->name, c->why);
  bad = c->nwhy;
  hung = c->hung;
  /* A hung cell is left as it is: its threads still use it. */
  if (!hung)
    free(c);
  ck_assert_msg(bad == 0, "%s", msg);
}

/* One cell of busy1 (1 worker held busy; f queued behind it). */
START_TEST(test_matrix_busy1)
{
  run_cell(C_BUSY1, run_list[C_BUSY1][_i]);
}
END_TEST

/* One cell of idle2 (2 idle workers; f running on one of them). */
START_TEST(test_matrix_idle2)
{
  run_cell(C_IDLE2, run_list[C_IDLE2][_i]);
}
END_TEST

/* One cell of promise (f a promise settled from other threads). */
START_TEST(test_matrix_promise)
{
  run_cell(C_PROMISE, run_list[C_PROMISE][_i]);
}
END_TEST

/* One cell of timer (f a timer that never fires: cancelled or destroyed). */
START_TEST(test_matrix_timer)
{
  run_cell(C_TIMER, run_list[C_TIMER][_i]);
}
END_TEST

Suite *
matrix_suite(void)
{
  Suite *s = suite_create("matrix");
  TCase *tc;

  build_lists();
  tc = tcase_create("busy1");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_matrix_busy1, 0, nrun[C_BUSY1]);
  suite_add_tcase(s, tc);
  tc = tcase_create("idle2");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_matrix_idle2, 0, nrun[C_IDLE2]);
  suite_add_tcase(s, tc);
  tc = tcase_create("promise");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_matrix_promise, 0, nrun[C_PROMISE]);
  suite_add_tcase(s, tc);
  tc = tcase_create("timer");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_matrix_timer, 0, nrun[C_TIMER]);
  suite_add_tcase(s, tc);
  return s;
}

/* The audit: how many cells run, which are excluded and why, and which
 * loop index is which cell (Check names a cell only by its index). */
static void
print_table(void)
{
  int total = NCONFIGS * NKINDS * NACTORS, run = 0;
  char an[32];

  for (int cfg = 0; cfg < NCONFIGS; cfg++)
    run += nrun[cfg];
  printf("check_matrix: %d kinds x %d actors x %d configs = %d cells: %d run, "
         "%d excluded:\n",
         NKINDS, NACTORS, NCONFIGS, total, run, total - run);
  for (int cfg = 0; cfg < NCONFIGS; cfg++)
    for (int k = 0; k < NKINDS; k++)
      for (int a = 0; a < NACTORS; a++)
        if (excluded(cfg, k, a) != NULL) {
          actor_str(a, an, sizeof(an));
          printf("  %s %s x %s: %s\n", config_name[cfg], kind_name[k], an,
                 excluded(cfg, k, a));
        }
  for (int cfg = 0; cfg < NCONFIGS; cfg++)
    for (int i = 0; i < nrun[cfg]; i++) {
      actor_str(run_list[cfg][i] % NACTORS, an, sizeof(an));
      printf("  %s:%d = %s %s x %s\n", config_name[cfg], i, config_name[cfg],
             kind_name[run_list[cfg][i] / NACTORS], an);
    }
  fflush(stdout);
}

int
main(void)
{
  Suite *s = matrix_suite();

  print_table();
  return tu_run_suite(s);
}
