/* SPDX-License-Identifier: MIT */
/*
 * check_visibility: the header's "Visibility" rule. Plain (non-atomic)
 * data one thread writes must reach another thread through the library's
 * own ordering alone:
 *
 *   - what the submitting thread wrote before futures_submit(),
 *     futures_submit_ex(), futures_submit_all() or futures_then() reaches
 *     the task or the continuation;
 *   - what a task wrote before it returned reaches a thread that learns it
 *     finished from future_get(), future_wait_until() or future_wait_for()
 *     returning 0, future_is_ready() returning 1 (polling), any of the
 *     seven joins, and its continuation;
 *   - what a drop function wrote reaches a waiter that gets ECANCELED and
 *     the continuation of the cancelled task.
 *
 * Each test writes a payload of plain words in one thread (the writer) and
 * reads it in another (the reader), and has no synchronisation of its own
 * from the writer's writes to the reader's reads: a latch is only ever
 * opened by the writer before it writes (or by a third thread that has not
 * seen the writes), and where one thread must wait for another outside the
 * library it spins on a relaxed atomic flag, which orders nothing. The
 * reader reads the payload right after the one call under test returns,
 * before any other call on the future. So if the library lost the edge,
 * the read would be a data race that ThreadSanitizer reports (the TSan
 * build runs with halt_on_error=1), and the words read could be stale;
 * every test asserts them. Under helgrind, which cannot see atomics, the
 * atomics are left unchecked (and the flags still order nothing), so
 * helgrind too sees the payload ordered by the library's own annotations
 * only.
 *
 * The reader and the writer are always different threads: the waits under
 * test never run the task in the caller (a timed wait, a held worker, or
 * a task that has started already), and each test checks which thread
 * ran what where it matters.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *visibility_suite(void);

#define MS       1000000LL
#define SEC      1000000000LL
#define PATIENCE (30 * SEC) /* a bound only a broken library reaches */
#define ASLEEP   (5 * SEC)  /* how long to wait for a reader to sleep */
#define WORDS    16

/* ------------------------------------------------------------ payload */

/* The plain data that crosses from the writer to the reader. */
struct payload {
  unsigned long w[WORDS];
};

static unsigned long
word(unsigned long seed, int i)
{
  return seed * 2654435761UL + (unsigned long)i * 40503UL + 1;
}

static void
payload_write(struct payload *p, unsigned long seed)
{
  for (int i = 0; i < WORDS; i++)
    p->w[i] = word(seed, i);
}

/* How many words of @p do not hold what payload_write(@seed) wrote. */
static int
payload_bad(const struct payload *p, unsigned long seed)
{
  int bad = 0;

  for (int i = 0; i < WORDS; i++)
    bad += p->w[i] != word(seed, i);
  return bad;
}

/*
 * helgrind (a build with --enable-valgrind-annotations) does not follow
 * C11 atomics: it is told to leave the test's own atomics unchecked, and
 * to check them again before their memory can hold anything else.
 */
#if FUTURES_ANNOTATE
#define ATOMIC_WATCH(p)   VALGRIND_HG_DISABLE_CHECKING((p), sizeof(*(p)))
#define ATOMIC_UNWATCH(p) VALGRIND_HG_ENABLE_CHECKING((p), sizeof(*(p)))
#else
#define ATOMIC_WATCH(p)   ((void)(p))
#define ATOMIC_UNWATCH(p) ((void)(p))
#endif

/*
 * A flag that lets one thread wait for another without ordering anything
 * (relaxed, and no helgrind annotation either), so that it cannot stand
 * in for an edge the library owes.
 */
static void
flag_set(atomic_int *f)
{
  atomic_store_explicit(f, 1, memory_order_relaxed);
}

/* 1 once @f is set, 0 after PATIENCE. */
static int
flag_wait(atomic_int *f)
{
  long long end = tu_now_ns() + PATIENCE;

  while (!atomic_load_explicit(f, memory_order_relaxed)) {
    if (tu_now_ns() > end)
      return 0;
    sched_yield();
  }
  return 1;
}

/* ------------------------------------------------------------ threads */

static pid_t
my_tid(void)
{
  return (pid_t)syscall(SYS_gettid);
}

/* The scheduler state of thread @tid of this process ('S': asleep). */
static char
thread_state(pid_t tid)
{
  char path[64], buf[256];
  const char *p;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
  if ((f = fopen(path, "r")) == NULL)
    return '?';
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' ? p[2] : '?';
}

/* The thread whose id is in the atomic int @arg is asleep. */
static int
tid_asleep(void *arg)
{
  pid_t tid = (pid_t)atomic_load((atomic_int *)arg);

  return tid != 0 && thread_state(tid) == 'S';
}

/* ------------------------------------------------------------ readers */

/* The ways a thread can learn that a future finished. */
enum wkind {
  W_GET,
  W_WAIT_UNTIL,
  W_WAIT_FOR,
  W_IS_READY,
  W_JOIN_ALL,
  W_JOIN_ALL_UNTIL,
  W_JOIN_ALL_SETTLED,
  W_JOIN_ALL_FAILFAST,
  W_JOIN_ANY,
  W_JOIN_ANY_UNTIL,
  W_JOIN_ANY_OK,
  NWKINDS
};

static const char *const wkind_name[NWKINDS] = {
    "future_get",
    "future_wait_until",
    "future_wait_for",
    "future_is_ready (polling)",
    "futures_join_all",
    "futures_join_all_until",
    "futures_join_all_settled",
    "futures_join_all_failfast",
    "futures_join_any",
    "futures_join_any_until",
    "futures_join_any_ok"};

/* The joins, in the order of enum wkind. */
static const int join_kinds[] = {
    W_JOIN_ALL,  W_JOIN_ALL_UNTIL, W_JOIN_ALL_SETTLED, W_JOIN_ALL_FAILFAST,
    W_JOIN_ANY,  W_JOIN_ANY_UNTIL, W_JOIN_ANY_OK};
#define NJOINS ((int)(sizeof(join_kinds) / sizeof(join_kinds[0])))

/*
 * Waits for @f with @kind and returns what it said: the code (0 once it
 * reported @f finished with 0), and in *@res the result where the call
 * gives one. Nothing else touches @f, so the caller's next read is
 * ordered after the writer's writes only by this call.
 */
static int
wait_with(int kind, future_t *f, void **res)
{
  future_t *fs[1] = {f};
  struct timespec dl = tu_deadline_in(PATIENCE);
  futures_outcome_t out[1] = {{-1, NULL}};
  void *r[1] = {NULL};
  size_t idx = 99;
  long long end;
  int rc;

  *res = NULL;
  switch (kind) {
  case W_GET:
    return future_get(f, res);
  case W_WAIT_UNTIL:
    return future_wait_until(f, &dl);
  case W_WAIT_FOR:
    return future_wait_for(f, PATIENCE);
  case W_IS_READY:
    end = tu_now_ns() + PATIENCE;
    while (!future_is_ready(f)) {
      if (tu_now_ns() > end)
        return ETIMEDOUT;
      sched_yield();
    }
    return 0;
  case W_JOIN_ALL:
    rc = futures_join_all(fs, 1, r);
    break;
  case W_JOIN_ALL_UNTIL:
    rc = futures_join_all_until(fs, 1, r, &dl);
    break;
  case W_JOIN_ALL_SETTLED:
    rc = futures_join_all_settled(fs, 1, out);
    r[0] = out[0].result;
    if (rc == 0)
      rc = out[0].code;
    break;
  case W_JOIN_ALL_FAILFAST:
    rc = futures_join_all_failfast(fs, 1, r, &idx);
    break;
  case W_JOIN_ANY:
    rc = futures_join_any(fs, 1, &idx, &r[0]);
    break;
  case W_JOIN_ANY_UNTIL:
    rc = futures_join_any_until(fs, 1, &idx, &r[0], &dl);
    break;
  default:
    rc = futures_join_any_ok(fs, 1, &idx, &r[0], NULL);
    break;
  }
  *res = r[0];
  return rc;
}

/* Whether wait_with(@kind) hands back the future's result. */
static int
gives_result(int kind)
{
  return kind != W_WAIT_UNTIL && kind != W_WAIT_FOR && kind != W_IS_READY;
}

/* ------------------------------------------------------------ task -> waiter */

/* A task that writes the payload once the test lets it. */
struct writer {
  struct payload p;
  unsigned long seed;
  struct tu_latch started; /* opened by the task before it writes */
  struct tu_latch go;      /* opened by the test: write now */
  atomic_int wrote;        /* relaxed: written, about to return */
  pthread_t thread;        /* where it ran */
};

static void
writer_init(struct writer *wr, unsigned long seed)
{
  memset(&wr->p, 0, sizeof(wr->p));
  wr->seed = seed;
  tu_latch_init(&wr->started);
  tu_latch_init(&wr->go);
  atomic_init(&wr->wrote, 0);
  ATOMIC_WATCH(&wr->wrote);
}

static void
writer_destroy(struct writer *wr)
{
  tu_latch_destroy(&wr->started);
  tu_latch_destroy(&wr->go);
  ATOMIC_UNWATCH(&wr->wrote);
}

static int
writer_task(void *arg, void **result)
{
  struct writer *wr = arg;

  wr->thread = pthread_self();
  tu_latch_open(&wr->started);
  tu_latch_wait(&wr->go);
  payload_write(&wr->p, wr->seed);
  flag_set(&wr->wrote);
  *result = wr;
  return 0;
}

/* A thread that waits for the writer's future and reads the payload. */
struct reader {
  struct writer *wr;
  future_t *f;
  int kind;
  int after_write; /* wait for the writer's flag before calling */
  atomic_int tid;
  int flag_ok, rc, bad;
  void *res;
};

static void *
reader_main(void *arg)
{
  struct reader *rd = arg;

  atomic_store(&rd->tid, (int)my_tid());
  rd->flag_ok = rd->after_write ? flag_wait(&rd->wr->wrote) : 1;
  rd->rc = wait_with(rd->kind, rd->f, &rd->res);
  rd->bad = payload_bad(&rd->wr->p, rd->wr->seed);
  return NULL;
}

/*
 * A task on a 1-worker pool writes the payload; an outside thread learns
 * that it finished with @kind and reads it. @after_write 0: the reader is
 * asleep in the call (or polling) when the task writes and returns; 1:
 * the task has written (it may have returned) when the reader calls.
 */
static void
check_task_to_reader(int kind, int after_write)
{
  struct writer *wr = calloc(1, sizeof(*wr));
  futures_pool_t *pool;
  struct reader rd;
  pthread_t t;
  future_t *f;

  ck_assert_ptr_nonnull(wr);
  writer_init(wr, 1000 + (unsigned long)kind);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, writer_task, wr, &f), 0);
  tu_latch_wait(&wr->started); /* running on the worker: nobody else runs it */
  memset(&rd, 0, sizeof(rd));
  rd.wr = wr;
  rd.f = f;
  rd.kind = kind;
  rd.after_write = after_write;
  atomic_init(&rd.tid, 0);
  ATOMIC_WATCH(&rd.tid);
  ck_assert_int_eq(pthread_create(&t, NULL, reader_main, &rd), 0);
  if (!after_write && kind != W_IS_READY)
    (void)tu_spin_until(tid_asleep, &rd.tid, ASLEEP);
  tu_latch_open(&wr->go);
  pthread_join(t, NULL);
  ATOMIC_UNWATCH(&rd.tid);

  ck_assert_msg(rd.flag_ok, "the task never wrote");
  ck_assert_msg(rd.rc == 0, "%s returned %d", wkind_name[kind], rd.rc);
  ck_assert_msg(rd.bad == 0,
                "%s (%s): %d of %d words written by the task were not "
                "visible when it returned",
                wkind_name[kind], after_write ? "after the write" : "asleep",
                rd.bad, WORDS);
  if (gives_result(kind))
    ck_assert_ptr_eq(rd.res, wr);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  writer_destroy(wr);
  free(wr);
}

/*
 * What a task wrote before it returned is visible to a thread whose
 * future_get() returned its outcome: asleep in get when the task wrote
 * (_i = 0), or calling it after the write (_i = 1).
 */
START_TEST(test_visibility_task_writes_reach_future_get)
{
  check_task_to_reader(W_GET, _i);
}
END_TEST

/*
 * The same for future_wait_until() returning 0 (asleep in it, _i = 0, or
 * called after the write, _i = 1), with nothing else called before the
 * payload is read.
 */
START_TEST(test_visibility_task_writes_reach_wait_until)
{
  check_task_to_reader(W_WAIT_UNTIL, _i);
}
END_TEST

/* The same for future_wait_for() returning 0 (_i as above). */
START_TEST(test_visibility_task_writes_reach_wait_for)
{
  check_task_to_reader(W_WAIT_FOR, _i);
}
END_TEST

/*
 * The same for every join that reports the future finished: join_all,
 * all_until, all_settled, all_failfast, any, any_until and any_ok
 * (_i % 7), asleep in the join (_i < 7) or called after the write.
 */
START_TEST(test_visibility_task_writes_reach_every_join)
{
  check_task_to_reader(join_kinds[_i % NJOINS], _i >= NJOINS);
}
END_TEST

/* A task of the pool that polls future_is_ready() on the writer's future. */
struct poller {
  struct writer *wr;
  future_t *target;
  struct tu_latch started; /* opened before it polls */
  int ready, bad;
  pthread_t thread;
};

static int
poller_task(void *arg, void **result)
{
  struct poller *p = arg;
  long long end = tu_now_ns() + PATIENCE;

  p->thread = pthread_self();
  tu_latch_open(&p->started);
  while (!(p->ready = future_is_ready(p->target)) && tu_now_ns() < end)
    sched_yield();
  p->bad = payload_bad(&p->wr->p, p->wr->seed);
  *result = p;
  return 0;
}

/*
 * A thread that polls future_is_ready() until it says 1 sees everything
 * the task wrote: an outside thread (_i = 0), or a task of the same pool
 * on the other worker (_i = 1).
 */
START_TEST(test_visibility_task_writes_reach_is_ready_polling)
{
  struct writer *wr;
  futures_pool_t *pool;
  struct poller p;
  future_t *f, *pf;
  void *res = NULL;

  if (_i == 0) {
    check_task_to_reader(W_IS_READY, 0);
    return;
  }
  wr = calloc(1, sizeof(*wr));
  ck_assert_ptr_nonnull(wr);
  writer_init(wr, 77);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  ck_assert_int_eq(futures_submit(pool, writer_task, wr, &f), 0);
  tu_latch_wait(&wr->started);
  memset(&p, 0, sizeof(p));
  p.wr = wr;
  p.target = f;
  tu_latch_init(&p.started);
  ck_assert_int_eq(futures_submit(pool, poller_task, &p, &pf), 0);
  tu_latch_wait(&p.started); /* polling on the other worker */
  tu_latch_open(&wr->go);
  /* A timed wait, so that the poller runs on the other worker. */
  ck_assert_int_eq(future_wait_for(pf, PATIENCE), 0);
  ck_assert_int_eq(future_get(pf, &res), 0);
  ck_assert_ptr_eq(res, &p);
  ck_assert_int_eq(p.ready, 1);
  ck_assert(!pthread_equal(p.thread, wr->thread));
  ck_assert_msg(p.bad == 0,
                "future_is_ready() in a task said 1, but %d of %d words the "
                "task wrote were not visible",
                p.bad, WORDS);
  future_release(pf);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&p.started);
  writer_destroy(wr);
  free(wr);
}
END_TEST

/* A continuation that reads the payload of the struct writer @arg. */
struct cont_seen {
  struct writer *wr;
  int code, bad;
  pthread_t thread;
};

static int
cont_reader(void *arg, int code, void *value, void **result)
{
  struct cont_seen *s = arg;

  (void)value;
  s->bad = payload_bad(&s->wr->p, s->wr->seed);
  s->code = code;
  s->thread = pthread_self();
  *result = s;
  return 0;
}

/* An outside thread that waits for (and so runs) the antecedent. */
struct runner {
  future_t *f;
  int rc;
  pthread_t thread;
};

static void *
runner_main(void *arg)
{
  struct runner *r = arg;

  r->thread = pthread_self();
  r->rc = future_get(r->f, NULL);
  return NULL;
}

/*
 * What a task wrote reaches its continuation: the antecedent runs in an
 * outside thread X (get, the worker being held), the continuation on the
 * worker, let go before X writes.
 */
START_TEST(test_visibility_task_writes_reach_its_continuation)
{
  struct writer *wr = calloc(1, sizeof(*wr));
  futures_pool_t *pool;
  struct cont_seen s;
  struct runner x;
  struct tu_hold h;
  future_t *held, *a, *c;
  void *res = NULL;
  pthread_t t;

  ck_assert_ptr_nonnull(wr);
  writer_init(wr, 4242);
  tu_latch_open(&wr->go); /* the antecedent writes as soon as it runs */
  memset(&s, 0, sizeof(s));
  s.wr = wr;
  s.code = -1;
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  ck_assert_int_eq(futures_submit(pool, writer_task, wr, &a), 0);
  ck_assert_int_eq(futures_then(pool, a, cont_reader, &s, &c), 0);
  x.f = a;
  x.rc = -1;
  ck_assert_int_eq(pthread_create(&t, NULL, runner_main, &x), 0);
  tu_latch_wait(&wr->started); /* X runs it, and has not written yet */
  tu_latch_open(&h.release);
  ck_assert_int_eq(future_wait_for(c, PATIENCE), 0);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &s);
  pthread_join(t, NULL);
  ck_assert_int_eq(x.rc, 0);
  ck_assert(pthread_equal(wr->thread, x.thread));
  ck_assert(!pthread_equal(s.thread, x.thread));
  ck_assert_int_eq(s.code, 0);
  ck_assert_msg(s.bad == 0,
                "the continuation missed %d of %d words its antecedent wrote",
                s.bad, WORDS);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(a);
  future_release(c);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
  writer_destroy(wr);
  free(wr);
}
END_TEST

/* ------------------------------------------------------------ submitter -> task */

/* A task that reads a payload the submitting thread wrote. */
struct sub_reader {
  struct payload *p;
  unsigned long seed;
  struct tu_latch *done; /* opened after the read, or NULL */
  int bad;
  pthread_t thread;
};

static int
sub_reader_task(void *arg, void **result)
{
  struct sub_reader *r = arg;

  r->bad = payload_bad(r->p, r->seed);
  r->thread = pthread_self();
  if (r->done != NULL)
    tu_latch_open(r->done);
  *result = r;
  return 0;
}

static void
sub_reader_init(struct sub_reader *r, struct payload *p, unsigned long seed)
{
  r->p = p;
  r->seed = seed;
  r->done = NULL;
  r->bad = -1;
}

static void
noop_drop(void *arg)
{
  (void)arg;
}

/*
 * Submits a sub_reader_task with @how (0: futures_submit, 1:
 * futures_submit_ex) from the test thread after writing its payload, waits
 * without running it (so it runs on the worker) and checks what it read.
 */
static void
check_submit_from_outside(int how)
{
  struct payload *p = calloc(1, sizeof(*p));
  futures_pool_t *pool;
  struct sub_reader r;
  future_t *f;
  void *res = NULL;

  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  sub_reader_init(&r, p, 31 + (unsigned long)how);
  payload_write(p, r.seed);
  if (how == 0) {
    ck_assert_int_eq(futures_submit(pool, sub_reader_task, &r, &f), 0);
  } else {
    futures_task_t t = FUTURES_TASK(sub_reader_task, &r, noop_drop);

    ck_assert_int_eq(futures_submit_ex(pool, &t, NULL, &f), 0);
  }
  ck_assert_int_eq(future_wait_for(f, PATIENCE), 0);
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, &r);
  ck_assert(!pthread_equal(r.thread, pthread_self()));
  ck_assert_msg(r.bad == 0,
                "%s: the task missed %d of %d words written before the "
                "submit",
                how == 0 ? "futures_submit" : "futures_submit_ex", r.bad,
                WORDS);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(p);
}

/* A task that writes a payload, submits a reader and waits on a latch. */
struct sub_parent {
  futures_pool_t *pool;
  struct payload p;
  struct sub_reader r;
  struct tu_latch done;
  int submit_rc, get_rc;
  pthread_t thread;
};

static int
sub_parent_task(void *arg, void **result)
{
  struct sub_parent *sp = arg;
  future_t *child;

  sp->thread = pthread_self();
  payload_write(&sp->p, sp->r.seed);
  sp->submit_rc = futures_submit(sp->pool, sub_reader_task, &sp->r, &child);
  if (sp->submit_rc != 0)
    return sp->submit_rc;
  /* Not a library wait: this thread cannot run the child, the other
   * worker must steal it. */
  tu_latch_wait(&sp->done);
  sp->get_rc = future_get(child, NULL);
  future_release(child);
  *result = sp;
  return 0;
}

/*
 * What a thread wrote before futures_submit() reaches the task: from outside
 * (_i = 0), or from a task into its deque, stolen by the other worker while
 * the submitting task waits on a latch (_i = 1).
 */
START_TEST(test_visibility_submit_writes_reach_the_task)
{
  struct sub_parent *sp;
  future_t *f;
  void *res = NULL;

  if (_i == 0) {
    check_submit_from_outside(0);
    return;
  }
  sp = calloc(1, sizeof(*sp));
  ck_assert_ptr_nonnull(sp);
  ck_assert_int_eq(futures_pool_create(&sp->pool, 2), 0);
  sub_reader_init(&sp->r, &sp->p, 57);
  sp->r.done = &sp->done;
  tu_latch_init(&sp->done);
  sp->submit_rc = sp->get_rc = -1;
  ck_assert_int_eq(futures_submit(sp->pool, sub_parent_task, sp, &f), 0);
  ck_assert_msg(future_wait_for(f, PATIENCE) == 0,
                "the sub-task was never stolen by the idle worker");
  ck_assert_int_eq(future_get(f, &res), 0);
  ck_assert_ptr_eq(res, sp);
  ck_assert_int_eq(sp->submit_rc, 0);
  ck_assert_int_eq(sp->get_rc, 0);
  ck_assert(!pthread_equal(sp->r.thread, sp->thread));
  ck_assert_msg(sp->r.bad == 0,
                "a sub-task missed %d of %d words its parent task wrote "
                "before submitting it",
                sp->r.bad, WORDS);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(sp->pool), 0);
  tu_latch_destroy(&sp->done);
  free(sp);
}
END_TEST

/* The same for futures_submit_ex() (with a drop function) from outside. */
START_TEST(test_visibility_submit_ex_writes_reach_the_task)
{
  check_submit_from_outside(1);
}
END_TEST

/*
 * What the submitting thread wrote before futures_submit_all() is visible
 * to every task of the batch (8 tasks on 2 workers, each with its own
 * payload, waited for with a timed join that runs none in the caller).
 */
START_TEST(test_visibility_submit_all_writes_reach_every_task)
{
  enum { N = 8 };
  struct payload *p = calloc(N, sizeof(*p));
  struct sub_reader r[N];
  futures_task_t tasks[N];
  futures_pool_t *pool;
  future_t *f[N];
  void *res[N];
  struct timespec dl;

  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int i = 0; i < N; i++) {
    sub_reader_init(&r[i], &p[i], 500 + (unsigned long)i);
    payload_write(&p[i], r[i].seed);
    tasks[i] = (futures_task_t)FUTURES_TASK(sub_reader_task, &r[i], NULL);
  }
  ck_assert_int_eq(futures_submit_all(pool, tasks, N, f), 0);
  dl = tu_deadline_in(PATIENCE);
  ck_assert_int_eq(futures_join_all_until(f, N, res, &dl), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_eq(res[i], &r[i]);
    ck_assert(!pthread_equal(r[i].thread, pthread_self()));
    ck_assert_msg(r[i].bad == 0,
                  "task %d of the batch missed %d of %d words written "
                  "before futures_submit_all()",
                  i, r[i].bad, WORDS);
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  free(p);
}
END_TEST

/* An antecedent that runs until the test sets its relaxed flag. */
struct spin_ante {
  struct tu_latch started;
  atomic_int go;
};

static int
spin_ante_task(void *arg, void **result)
{
  struct spin_ante *a = arg;

  tu_latch_open(&a->started);
  (void)flag_wait(&a->go);
  *result = a;
  return 0;
}

/*
 * What the attaching thread wrote before futures_then() reaches the
 * continuation, run on the worker: antecedent running (_i = 0, it finishes
 * after the attach) or finished (_i = 1).
 */
START_TEST(test_visibility_then_writes_reach_the_continuation)
{
  struct writer *wr = calloc(1, sizeof(*wr));
  futures_pool_t *pool;
  struct spin_ante sa;
  struct cont_seen s;
  future_t *a, *c;
  void *res = NULL;

  ck_assert_ptr_nonnull(wr);
  writer_init(wr, 9000 + (unsigned long)_i);
  tu_latch_init(&sa.started);
  atomic_init(&sa.go, 0);
  ATOMIC_WATCH(&sa.go);
  memset(&s, 0, sizeof(s));
  s.wr = wr;
  s.code = -1;
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, spin_ante_task, &sa, &a), 0);
  if (_i == 0) {
    tu_latch_wait(&sa.started);
  } else {
    flag_set(&sa.go);
    ck_assert_int_eq(future_get(a, NULL), 0);
  }
  payload_write(&wr->p, wr->seed); /* the attaching thread's writes */
  ck_assert_int_eq(futures_then(pool, a, cont_reader, &s, &c), 0);
  if (_i == 0)
    flag_set(&sa.go); /* orders nothing: only the attach carries the data */
  ck_assert_int_eq(future_wait_for(c, PATIENCE), 0);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &s);
  ck_assert_int_eq(s.code, 0);
  ck_assert(!pthread_equal(s.thread, pthread_self()));
  ck_assert_msg(s.bad == 0,
                "a continuation attached to a %s antecedent missed %d of %d "
                "words written before futures_then()",
                _i == 0 ? "running" : "finished", s.bad, WORDS);
  future_release(c);
  future_release(a);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_latch_destroy(&sa.started);
  ATOMIC_UNWATCH(&sa.go);
  writer_destroy(wr);
  free(wr);
}
END_TEST

/* ------------------------------------------------------------ drop -> waiter */

/* A task that must never run, and its drop function, which writes. */
struct dropped {
  struct payload p;
  unsigned long seed;
  atomic_int ran, drops;
  pthread_t drop_thread;
};

static int
never_task(void *arg, void **result)
{
  struct dropped *d = arg;

  atomic_fetch_add(&d->ran, 1);
  *result = NULL;
  return 0;
}

static void
drop_writer(void *arg)
{
  struct dropped *d = arg;

  d->drop_thread = pthread_self();
  payload_write(&d->p, d->seed);
  atomic_fetch_add(&d->drops, 1);
}

/* A task that holds its worker until its pool is destroyed in cancel
 * mode (or PATIENCE passes). */
static int
until_cancelled_task(void *arg, void **result)
{
  struct tu_latch *started = arg;
  long long end = tu_now_ns() + PATIENCE;

  tu_latch_open(started);
  while (!futures_cancelled() && tu_now_ns() < end)
    sched_yield();
  *result = NULL;
  return 0;
}

/* An outside thread waiting on the dropped task's future. */
struct drop_reader {
  struct dropped *d;
  future_t *f;
  int join; /* 1: futures_join_any (gets ECANCELED), 0: future_wait_until */
  atomic_int tid;
  int rc, bad;
};

static void *
drop_reader_main(void *arg)
{
  struct drop_reader *rd = arg;
  struct timespec dl = tu_deadline_in(PATIENCE);
  size_t idx = 99;

  atomic_store(&rd->tid, (int)my_tid());
  /* Neither call runs the queued task in this thread. */
  if (rd->join)
    rd->rc = futures_join_any(&rd->f, 1, &idx, NULL);
  else
    rd->rc = future_wait_until(rd->f, &dl);
  rd->bad = payload_bad(&rd->d->p, rd->d->seed);
  return NULL;
}

/*
 * What a drop function wrote reaches a waiter asleep on the task: cancelled
 * by future_cancel() (_i < 2) or a cancelling destroy, the waiter being
 * futures_join_any() (ECANCELED; even _i) or future_wait_until() (0).
 */
START_TEST(test_visibility_drop_writes_reach_a_waiter_that_gets_ecanceled)
{
  int by_destroy = _i >= 2, join = _i % 2 == 0;
  struct dropped *d = calloc(1, sizeof(*d));
  struct drop_reader rd;
  struct tu_latch busy;
  struct tu_hold h;
  futures_pool_t *pool;
  future_t *held, *f;
  pthread_t t;

  ck_assert_ptr_nonnull(d);
  d->seed = 600 + (unsigned long)_i;
  atomic_init(&d->ran, 0);
  atomic_init(&d->drops, 0);
  ATOMIC_WATCH(&d->ran);
  ATOMIC_WATCH(&d->drops);
  tu_hold_init(&h, NULL);
  tu_latch_init(&busy);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  if (by_destroy) {
    ck_assert_int_eq(futures_submit(pool, until_cancelled_task, &busy, &held),
                     0);
    tu_latch_wait(&busy);
  } else {
    ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
    tu_latch_wait(&h.started);
  }
  {
    futures_task_t task = FUTURES_TASK(never_task, d, drop_writer);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f), 0);
  }
  memset(&rd, 0, sizeof(rd));
  rd.d = d;
  rd.f = f;
  rd.join = join;
  atomic_init(&rd.tid, 0);
  ATOMIC_WATCH(&rd.tid);
  ck_assert_int_eq(pthread_create(&t, NULL, drop_reader_main, &rd), 0);
  (void)tu_spin_until(tid_asleep, &rd.tid, ASLEEP);
  if (by_destroy) {
    ck_assert_int_eq(futures_pool_destroy_ex(pool, FUTURES_DESTROY_CANCEL), 0);
  } else {
    ck_assert_int_eq(future_cancel(f), 0);
  }
  pthread_join(t, NULL);
  ck_assert_int_eq(atomic_load(&d->drops), 1);
  ck_assert_int_eq(atomic_load(&d->ran), 0);
  ck_assert(!pthread_equal(d->drop_thread, t));
  ck_assert_int_eq(rd.rc, join ? ECANCELED : 0);
  ck_assert_msg(rd.bad == 0,
                "%s after %s: %d of %d words the drop function wrote were "
                "not visible",
                join ? "futures_join_any" : "future_wait_until",
                by_destroy ? "a cancelling destroy" : "future_cancel", rd.bad,
                WORDS);
  ck_assert_int_eq(future_get(f, NULL), ECANCELED);
  future_release(f);
  if (!by_destroy) {
    tu_latch_open(&h.release);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
  }
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  tu_latch_destroy(&busy);
  tu_hold_destroy(&h);
  ATOMIC_UNWATCH(&d->ran);
  ATOMIC_UNWATCH(&d->drops);
  ATOMIC_UNWATCH(&rd.tid);
  free(d);
}
END_TEST

/* The thread that cancels, for the continuation test below. */
struct canceller {
  future_t *f;
  atomic_int done; /* relaxed: the cancel returned */
  int rc;
};

static void *
canceller_main(void *arg)
{
  struct canceller *c = arg;

  c->rc = future_cancel(c->f);
  flag_set(&c->done);
  return NULL;
}

/* A continuation that reads the payload of the struct dropped @arg. */
struct drop_cont {
  struct dropped *d;
  int code, bad;
  pthread_t thread;
};

static int
drop_cont_reader(void *arg, int code, void *value, void **result)
{
  struct drop_cont *s = arg;

  (void)value;
  s->bad = payload_bad(&s->d->p, s->d->seed);
  s->code = code;
  s->thread = pthread_self();
  *result = s;
  return 0;
}

/*
 * What a drop function wrote in a canceller thread C reaches the cancelled
 * task's continuation, run by the worker that is let go once a relaxed flag
 * says C's cancel returned.
 */
START_TEST(test_visibility_drop_writes_reach_the_continuation)
{
  struct dropped *d = calloc(1, sizeof(*d));
  futures_pool_t *pool;
  struct canceller cc;
  struct drop_cont s;
  struct tu_hold h;
  future_t *held, *f, *c;
  void *res = NULL;
  pthread_t t;

  ck_assert_ptr_nonnull(d);
  d->seed = 707;
  atomic_init(&d->ran, 0);
  atomic_init(&d->drops, 0);
  ATOMIC_WATCH(&d->ran);
  ATOMIC_WATCH(&d->drops);
  memset(&s, 0, sizeof(s));
  s.d = d;
  s.code = -1;
  tu_hold_init(&h, NULL);
  ck_assert_int_eq(futures_pool_create(&pool, 1), 0);
  ck_assert_int_eq(futures_submit(pool, tu_hold_task, &h, &held), 0);
  tu_latch_wait(&h.started);
  {
    futures_task_t task = FUTURES_TASK(never_task, d, drop_writer);

    ck_assert_int_eq(futures_submit_ex(pool, &task, NULL, &f), 0);
  }
  ck_assert_int_eq(futures_then(pool, f, drop_cont_reader, &s, &c), 0);
  cc.f = f;
  cc.rc = -1;
  atomic_init(&cc.done, 0);
  ATOMIC_WATCH(&cc.done);
  ck_assert_int_eq(pthread_create(&t, NULL, canceller_main, &cc), 0);
  ck_assert_msg(flag_wait(&cc.done), "future_cancel never returned");
  tu_latch_open(&h.release); /* the worker has not seen C's writes */
  ck_assert_int_eq(future_wait_for(c, PATIENCE), 0);
  ck_assert_int_eq(future_get(c, &res), 0);
  ck_assert_ptr_eq(res, &s);
  pthread_join(t, NULL);
  ck_assert_int_eq(cc.rc, 0);
  ck_assert_int_eq(atomic_load(&d->drops), 1);
  ck_assert_int_eq(atomic_load(&d->ran), 0);
  ck_assert_int_eq(s.code, ECANCELED);
  ck_assert(pthread_equal(d->drop_thread, t));
  ck_assert(!pthread_equal(s.thread, t));
  ck_assert_msg(s.bad == 0,
                "the continuation of a cancelled task missed %d of %d words "
                "its drop function wrote",
                s.bad, WORDS);
  ck_assert_int_eq(future_get(held, NULL), 0);
  future_release(held);
  future_release(f);
  future_release(c);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  tu_hold_destroy(&h);
  ATOMIC_UNWATCH(&cc.done);
  ATOMIC_UNWATCH(&d->ran);
  ATOMIC_UNWATCH(&d->drops);
  free(d);
}
END_TEST

Suite *
visibility_suite(void)
{
  Suite *s = suite_create("visibility");
  TCase *tc;

  tc = tcase_create("submit");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_visibility_submit_writes_reach_the_task, 0, 2);
  tcase_add_test(tc, test_visibility_submit_ex_writes_reach_the_task);
  tcase_add_test(tc, test_visibility_submit_all_writes_reach_every_task);
  tcase_add_loop_test(tc, test_visibility_then_writes_reach_the_continuation,
                      0, 2);
  suite_add_tcase(s, tc);

  tc = tcase_create("finish");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_visibility_task_writes_reach_future_get, 0, 2);
  tcase_add_loop_test(tc, test_visibility_task_writes_reach_wait_until, 0, 2);
  tcase_add_loop_test(tc, test_visibility_task_writes_reach_wait_for, 0, 2);
  tcase_add_loop_test(tc, test_visibility_task_writes_reach_is_ready_polling,
                      0, 2);
  tcase_add_loop_test(tc, test_visibility_task_writes_reach_every_join, 0,
                      2 * NJOINS);
  tcase_add_test(tc, test_visibility_task_writes_reach_its_continuation);
  suite_add_tcase(s, tc);

  tc = tcase_create("drop");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(
      tc, test_visibility_drop_writes_reach_a_waiter_that_gets_ecanceled, 0, 4);
  tcase_add_test(tc, test_visibility_drop_writes_reach_the_continuation);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(visibility_suite());
}
