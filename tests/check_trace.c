/* SPDX-License-Identifier: MIT */
/*
 * check_trace: FUTURES_POOL_TRACE and futures_pool_trace_write(). These
 * tests check the call's contract (errors, threads, tasks, the ring's
 * bound, threads that exit) by counting what a written trace holds; the
 * JSON itself is parsed and checked event by event in trace_json.sh.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futures.h"
#include "testutil.h"

Suite *trace_suite(void);

static futures_pool_t *
traced_pool(size_t nthreads)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool = NULL;

  o.nthreads = nthreads;
  o.flags = FUTURES_POOL_TRACE;
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  return pool;
}

/* The trace of @pool, as a string the caller frees (NULL on error). */
static char *
trace_of(futures_pool_t *pool, int *rc)
{
  FILE *f = tmpfile();
  char *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  *rc = futures_pool_trace_write(pool, fileno(f));
  n = lseek(fileno(f), 0, SEEK_END);
  if (*rc == 0 && n >= 0 && (buf = malloc((size_t)n + 1)) != NULL) {
    if (pread(fileno(f), buf, (size_t)n, 0) != n) {
      free(buf);
      buf = NULL;
    } else
      buf[n] = '\0';
  }
  fclose(f);
  return buf;
}

/* Occurrences of @needle in @hay. */
static long
count(const char *hay, const char *needle)
{
  long n = 0;

  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

static int
task_tid(void *arg, void **result)
{
  *(int *)arg = (int)syscall(SYS_gettid);
  *result = NULL;
  return 0;
}

/* Bad input gets its documented code: EINVAL for NULL, a negative fd or a
 * pool without the flag; a failed write's errno (ENOSPC from /dev/full,
 * EBADF from a closed fd). An unknown flag bit is still EINVAL. */
START_TEST(test_trace_write_errors)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *plain, *pool = traced_pool(1);
  int fd, p[2];

  ck_assert_int_eq(futures_pool_trace_write(NULL, 1), EINVAL);
  ck_assert_int_eq(futures_pool_trace_write(pool, -1), EINVAL);
  ck_assert_int_eq(futures_pool_create(&plain, 1), 0);
  ck_assert_int_eq(futures_pool_trace_write(plain, 1), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(plain), 0);
  fd = open("/dev/full", O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(futures_pool_trace_write(pool, fd), ENOSPC);
  close(fd);
  ck_assert_int_eq(pipe(p), 0);
  close(p[0]);
  close(p[1]);
  ck_assert_int_eq(futures_pool_trace_write(pool, p[1]), EBADF);
  o.flags = 0x80000000u;
  ck_assert_int_eq(futures_pool_create_ex(&plain, &o), EINVAL);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* The flag implies FUTURES_POOL_TIMING: future_times() works. */
START_TEST(test_trace_implies_timing)
{
  futures_pool_t *pool = traced_pool(1);
  long long q = -1, r = -1;
  future_t *f;
  int tid;

  ck_assert_int_eq(futures_submit(pool, task_tid, &tid, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  ck_assert_int_eq(future_times(f, &q, &r), 0);
  ck_assert(q >= 0 && r >= 0);
  future_release(f);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct writers {
  futures_pool_t *pool;
  int rc[4];
};

static void
write_many(void *arg, int i)
{
  struct writers *w = arg;
  int fd = open("/dev/null", O_WRONLY);

  w->rc[i] = fd < 0 ? errno : 0;
  for (int k = 0; k < 20 && w->rc[i] == 0; k++)
    w->rc[i] = futures_pool_trace_write(w->pool, fd);
  if (fd >= 0)
    close(fd);
}

/* Writes from four threads while tasks run (two workers held by a crowd,
 * others queued and running) all succeed; once all is joined, a write
 * holds one run slice per task. 200 tasks stay within one ring. */
START_TEST(test_trace_write_while_tasks_run_from_threads)
{
  futures_pool_t *pool = traced_pool(3);
  struct writers w = {pool, {0}};
  struct tu_crowd c;
  future_t *held[2], *f[200];
  int tids[200], rc;
  char *s;

  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 2), 0);
  for (int i = 0; i < 200; i++)
    ck_assert_int_eq(futures_submit(pool, task_tid, &tids[i], &f[i]), 0);
  ck_assert_int_eq(tu_run_threads(4, write_many, &w), 0);
  ck_assert_int_eq(tu_crowd_release(&c, held, 2), 0);
  ck_assert_int_eq(futures_join_all(f, 200, NULL), 0);
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(w.rc[i], 0);
  s = trace_of(pool, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(count(s, "\"name\":\"task\""), 202);
  ck_assert_int_eq(count(s, "\"lost_events\":0"), 1);
  free(s);
  for (int i = 0; i < 200; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct helper {
  futures_pool_t *pool;
  int tid, body_tid, rc;
};

static void *
help_and_exit(void *arg)
{
  struct helper *h = arg;
  future_t *f;

  h->tid = (int)syscall(SYS_gettid);
  h->rc = futures_submit(h->pool, task_tid, &h->body_tid, &f);
  if (h->rc == 0) {
    h->rc = future_get(f, NULL);
    future_release(f);
  }
  return NULL;
}

/* A thread that ran a task while waiting for it (its only worker held)
 * and exited before the write: its slice is still there, on its tid,
 * helped, with its thread_name. */
START_TEST(test_trace_thread_that_exited_keeps_its_events)
{
  futures_pool_t *pool = traced_pool(1);
  struct helper h = {pool, 0, 0, -1};
  struct tu_crowd c;
  future_t *held[1];
  pthread_t t;
  char want[96], *s;
  int rc;

  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 1), 0);
  ck_assert_int_eq(pthread_create(&t, NULL, help_and_exit, &h), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_int_eq(tu_crowd_release(&c, held, 1), 0);
  ck_assert_int_eq(h.rc, 0);
  ck_assert_int_eq(h.body_tid, h.tid);
  s = trace_of(pool, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  /* Its run slice, its join slice and the submit mark of its task. */
  for (int i = 0; i < 3; i++) {
    static const char *const cat[] = {"run", "join", "submit"};

    snprintf(want, sizeof(want), "\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,",
             cat[i], (int)getpid(), h.tid);
    ck_assert_int_eq(count(s, want), 1);
  }
  snprintf(want, sizeof(want), "\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d",
           (int)getpid(), h.tid);
  ck_assert_int_eq(count(s, want), 1);
  ck_assert_int_eq(count(s, "\"helped\":1"), 1);
  free(s);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct in_task {
  futures_pool_t *pool;
  int fd, rc;
};

static int
task_write(void *arg, void **result)
{
  struct in_task *t = arg;

  t->rc = futures_pool_trace_write(t->pool, t->fd);
  *result = NULL;
  return 0;
}

/* A task writes its own pool's trace: it succeeds, and holds the task
 * that ran before (id 1) but not the writing task itself (id 2). */
START_TEST(test_trace_write_from_a_task)
{
  futures_pool_t *pool = traced_pool(1);
  FILE *tmp = tmpfile();
  struct in_task it = {pool, -1, -1};
  char buf[8192];
  future_t *f;
  ssize_t n;
  int tid;

  ck_assert_ptr_nonnull(tmp);
  it.fd = fileno(tmp);
  ck_assert_int_eq(futures_submit(pool, task_tid, &tid, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(futures_submit(pool, task_write, &it, &f), 0);
  ck_assert_int_eq(future_get(f, NULL), 0);
  future_release(f);
  ck_assert_int_eq(it.rc, 0);
  n = pread(it.fd, buf, sizeof(buf) - 1, 0);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_int_eq(count(buf, "\"args\":{\"id\":1,\"outcome\":0"), 1);
  ck_assert_int_eq(count(buf, "\"args\":{\"id\":2,"), 0);
  fclose(tmp);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* FUTURES_TRACE_EVENTS=16: a worker that runs 40 tasks keeps the newest
 * 16 (ids 25 to 40) and the trace counts 24 lost. The test thread only
 * waits with future_wait_for(), which never runs a task nor draws a join,
 * so every event is the worker's. */
START_TEST(test_trace_ring_keeps_the_newest_and_counts_the_lost)
{
  futures_pool_t *pool;
  future_t *f[40];
  int tids[40], rc;
  char want[64], *s;

  ck_assert_int_eq(setenv("FUTURES_TRACE_EVENTS", "16", 1), 0);
  pool = traced_pool(1);
  ck_assert_int_eq(unsetenv("FUTURES_TRACE_EVENTS"), 0);
  for (int i = 0; i < 40; i++)
    ck_assert_int_eq(futures_submit(pool, task_tid, &tids[i], &f[i]), 0);
  for (int i = 0; i < 40; i++)
    ck_assert_int_eq(future_wait_for(f[i], 60LL * 1000000000LL), 0);
  s = trace_of(pool, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(count(s, "\"name\":\"task\""), 16);
  ck_assert_int_eq(count(s, "\"lost_events\":24"), 1);
  ck_assert_int_eq(count(s, "\"ring_events\":16"), 1);
  for (int i = 1; i <= 40; i++) {
    snprintf(want, sizeof(want), "\"args\":{\"id\":%d,\"outcome\"", i);
    ck_assert_int_eq(count(s, want), i > 24 ? 1 : 0);
  }
  free(s);
  for (int i = 0; i < 40; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* In a fork() child the parent's traced pool is ECHILD, as every call on
 * it is there (its workers and rings' writers do not exist). Every worker
 * has run a task before the fork (see HACKING on fork and ASan). */
START_TEST(test_trace_write_in_a_fork_child_is_echild)
{
  futures_pool_t *pool = traced_pool(2);
  struct tu_crowd c;
  future_t *held[2];
  int status = -1;
  pid_t pid;

  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 2), 0);
  ck_assert_int_eq(tu_crowd_release(&c, held, 2), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);

    tu_child_exit(fd >= 0 && futures_pool_trace_write(pool, fd) == ECHILD ? 0
                                                                          : 1);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  status = open("/dev/null", O_WRONLY);
  ck_assert_int_ge(status, 0);
  ck_assert_int_eq(futures_pool_trace_write(pool, status), 0);
  close(status);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

struct getter {
  future_t *f;
  struct tu_latch going;
  int rc;
};

static void *
get_it(void *arg)
{
  struct getter *g = arg;

  tu_latch_open(&g->going);
  g->rc = future_get(g->f, NULL);
  return NULL;
}

/* A thread waits (a join slice, which holds a reference to the trace)
 * for a held task while the pool's destroy begins
 * (futures_pool_destroy_async()); the task is released: the wait returns
 * 0 and writes its slice into the trace, which outlives the pool if need
 * be (a use after free here is what ASan and TSan would report). The
 * getter is started before the destroy and the release; that it is
 * inside its wait by then is likely, not forced (no API shows it):
 * test_trace_destroy_does_not_wait_for_a_traced_join forces it. */
START_TEST(test_trace_join_racing_destroy_ends_before_the_free)
{
  futures_pool_t *pool = traced_pool(1);
  struct getter g;
  struct tu_crowd c;
  future_t *held[1], *done;
  pthread_t t;

  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 1), 0);
  g.f = held[0];
  g.rc = -1;
  tu_latch_init(&g.going);
  ck_assert_int_eq(pthread_create(&t, NULL, get_it, &g), 0);
  tu_latch_wait(&g.going);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  tu_latch_open(&c.gate);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_int_eq(g.rc, 0);
  future_release(held[0]);
  tu_crowd_destroy(&c);
  ck_assert_int_eq(future_get(done, NULL), 0);
  future_release(done);
  tu_latch_destroy(&g.going);
}
END_TEST

/* A task that opens the latch @arg: run by a joiner's helping, it proves
 * that the joiner is inside its join (past the slice's begin). */
static int
open_latch(void *arg, void **result)
{
  tu_latch_open(arg);
  *result = NULL;
  return 0;
}

struct joiner {
  future_t *fs[3];
  size_t n;
  int rc;
};

static void *
join_them(void *arg)
{
  struct joiner *j = arg;

  j->rc = futures_join_all(j->fs, j->n, NULL);
  TU_HAPPENS_BEFORE(j); /* helgrind: pthread_timedjoin_np() is no join */
  return NULL;
}

/* Joins @t within 30 s (a correct join returns at once): 0, or ETIMEDOUT
 * when it is stuck (the thread is then left behind). */
static int
join_within(pthread_t t)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  return pthread_timedjoin_np(t, NULL, &ts);
}

/* Trigger A of the pin hang: a thread's traced join waits on a task of P
 * and on a promise that is resolved only after P's destroy returns; the
 * destroy must not wait for the join (it used to spin on the join's pin
 * forever). The joiner is inside its join once it has helped fP2 (P's one
 * worker is held); the destroy gets 30 s, so a regression fails. */
START_TEST(test_trace_destroy_does_not_wait_for_a_traced_join)
{
  futures_pool_t *pool = traced_pool(1);
  struct tu_latch inside;
  struct tu_crowd c;
  struct joiner j;
  future_t *held[1], *done;
  pthread_t t;

  tu_latch_init(&inside);
  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 1), 0);
  j.fs[0] = held[0];
  ck_assert_int_eq(futures_submit(pool, open_latch, &inside, &j.fs[1]), 0);
  ck_assert_int_eq(futures_promise_create(&j.fs[2]), 0);
  j.n = 3;
  j.rc = -1;
  ck_assert_int_eq(pthread_create(&t, NULL, join_them, &j), 0);
  tu_latch_wait(&inside);
  tu_latch_open(&c.gate);
  ck_assert_int_eq(
      futures_pool_destroy_async(pool, FUTURES_DESTROY_DRAIN, &done), 0);
  ck_assert_int_eq(future_wait_for(done, 30LL * 1000000000LL), 0);
  ck_assert_int_eq(future_get(done, NULL), 0);
  future_release(done);
  ck_assert_int_eq(future_resolve(j.fs[2], NULL), 0);
  ck_assert_int_eq(join_within(t), 0);
  TU_HAPPENS_AFTER(&j);
  ck_assert_int_eq(j.rc, 0);
  for (int i = 0; i < 3; i++)
    future_release(j.fs[i]);
  tu_crowd_destroy(&c);
  tu_latch_destroy(&inside);
}
END_TEST

struct destroyer {
  futures_pool_t *p;
  struct tu_crowd *c;
  int rc;
};

static int
destroy_p(void *arg, void **result)
{
  struct destroyer *d = arg;

  tu_latch_open(&d->c->gate);
  d->rc = futures_pool_destroy(d->p);
  *result = NULL;
  return 0;
}

/* Trigger B: a thread joins {a task of traced P, fQ}; it helps fQ (Q's one
 * worker is held), whose body destroys P (another pool: allowed). The
 * destroy must not wait for its own thread's join (it used to deadlock on
 * the join's pin); the join gets 30 s on a thread of its own. */
START_TEST(test_trace_destroy_in_a_helped_task_does_not_deadlock)
{
  futures_pool_t *p = traced_pool(1), *q;
  struct tu_crowd cp, cq;
  struct destroyer d;
  struct joiner j;
  future_t *hp[1], *hq[1];
  pthread_t t;

  ck_assert_int_eq(futures_pool_create(&q, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(q, &cq, hq, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(p, &cp, hp, 1), 0);
  d.p = p;
  d.c = &cp;
  d.rc = -1;
  j.fs[0] = hp[0];
  ck_assert_int_eq(futures_submit(q, destroy_p, &d, &j.fs[1]), 0);
  j.n = 2;
  j.rc = -1;
  ck_assert_int_eq(pthread_create(&t, NULL, join_them, &j), 0);
  ck_assert_int_eq(join_within(t), 0);
  TU_HAPPENS_AFTER(&j);
  ck_assert_int_eq(j.rc, 0);
  ck_assert_int_eq(d.rc, 0);
  future_release(j.fs[0]);
  future_release(j.fs[1]);
  tu_crowd_destroy(&cp);
  ck_assert_int_eq(tu_crowd_release(&cq, hq, 1), 0);
  ck_assert_int_eq(futures_pool_destroy(q), 0);
}
END_TEST

static void *
submit_named(void *arg)
{
  future_t *f;
  int tid;

  prctl(PR_SET_NAME, "\xff\xfe\x61\x62"); /* "\xff\xfe" "ab" */
  if (futures_submit(arg, task_tid, &tid, &f) == 0) {
    future_get(f, NULL);
    future_release(f);
  }
  return NULL;
}

/* Names are written as ASCII: a byte >= 0x80 (a pool name of nine "é"
 * cut at 15 bytes mid-character, a thread name with 0xff) becomes '_', so
 * the JSON is valid UTF-8 whatever the names hold. */
START_TEST(test_trace_names_are_written_as_ascii)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *pool;
  pthread_t t;
  char *s;
  int rc;

  o.nthreads = 1;
  o.flags = FUTURES_POOL_TRACE;
  o.name = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9";
  ck_assert_int_eq(futures_pool_create_ex(&pool, &o), 0);
  ck_assert_int_eq(pthread_create(&t, NULL, submit_named, pool), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  s = trace_of(pool, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  for (const char *c = s; *c != '\0'; c++)
    ck_assert_int_lt((unsigned char)*c, 0x80);
  ck_assert_int_eq(count(s, "\"pool\":\"_______________\""), 1);
  ck_assert_int_eq(count(s, "\"name\":\"__ab\""), 1);
  free(s);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* A fork() child's own traced pool names the child's threads by the
 * child's ids: its main thread (which touched a traced pool in the parent
 * first) is the child's pid, never the parent's thread id. Every worker
 * has run a task before the fork (HACKING on fork and ASan). */
START_TEST(test_trace_fork_child_has_its_own_thread_ids)
{
  futures_pool_t *pool = traced_pool(1);
  struct tu_crowd c;
  future_t *held[1];
  char want[64], *s;
  int status = -1, rc;
  FILE *tmp = tmpfile();
  pid_t pid;

  ck_assert_ptr_nonnull(tmp);
  ck_assert_int_eq(tu_crowd_hold(pool, &c, held, 1), 0);
  ck_assert_int_eq(tu_crowd_release(&c, held, 1), 0);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
    futures_pool_t *p2 = NULL;
    future_t *f;
    int tid, ok;

    o.nthreads = 1;
    o.flags = FUTURES_POOL_TRACE;
    ok = futures_pool_create_ex(&p2, &o) == 0 &&
         futures_submit(p2, task_tid, &tid, &f) == 0 &&
         future_get(f, NULL) == 0 &&
         futures_pool_trace_write(p2, fileno(tmp)) == 0;
    tu_child_exit(ok ? 0 : 1);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  s = malloc(1 << 16);
  ck_assert_ptr_nonnull(s);
  rc = (int)pread(fileno(tmp), s, (1 << 16) - 1, 0);
  ck_assert_int_gt(rc, 0);
  s[rc] = '\0';
  snprintf(want, sizeof(want), "\"thread_name\",\"pid\":%d,\"tid\":%d,", pid,
           pid);
  ck_assert_int_eq(count(s, want), 1);
  snprintf(want, sizeof(want), "\"tid\":%d,", (int)getpid());
  ck_assert_int_eq(count(s, want), 0);
  free(s);
  fclose(tmp);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* FUTURES_TRACE_EVENTS: decimal digits only, 16 to 16777216; anything
 * else (a sign, a space, other characters, out of range, overflow) is the
 * default, 4096. */
START_TEST(test_trace_events_variable_is_parsed_strictly)
{
  static const struct {
    const char *v;
    unsigned long want;
  } cases[] = {
      {"16", 16},
      {"16777216", 16777216},
      {"1000", 1000},
      {"15", 4096},
      {"16777217", 4096},
      {"-1", 4096},
      {"-20", 4096},
      {" 32", 4096},
      {"32 ", 4096},
      {"+32", 4096},
      {"32x", 4096},
      {"", 4096},
      {"0x20", 4096},
      {"99999999999999999999999", 4096},
      {"18446744073709551648", 4096},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    futures_pool_t *pool;
    char want[64], *s;
    int rc;

    ck_assert_int_eq(setenv("FUTURES_TRACE_EVENTS", cases[i].v, 1), 0);
    pool = traced_pool(1);
    ck_assert_int_eq(unsetenv("FUTURES_TRACE_EVENTS"), 0);
    s = trace_of(pool, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(s);
    snprintf(want, sizeof(want), "\"ring_events\":%lu,", cases[i].want);
    ck_assert_msg(count(s, want) == 1, "FUTURES_TRACE_EVENTS=\"%s\"",
                  cases[i].v);
    free(s);
    ck_assert_int_eq(futures_pool_destroy(pool), 0);
  }
}
END_TEST

static void *
submit_one(void *arg)
{
  future_t *f;
  int tid;

  if (futures_submit(arg, task_tid, &tid, &f) == 0) {
    future_wait_for(f, 60LL * 1000000000LL);
    future_release(f);
  }
  return NULL;
}

/* The writer's copy is sized by the events the rings hold, not by rings x
 * ring size: with FUTURES_TRACE_EVENTS=16777216, 40 threads that each
 * submit one task (rings with no events) cost nothing (this was 40 x 16 M
 * events, tens of GB: ENOMEM). */
START_TEST(test_trace_write_allocates_by_events_not_rings)
{
  futures_pool_t *pool;
  char *s;
  int rc;

  ck_assert_int_eq(setenv("FUTURES_TRACE_EVENTS", "16777216", 1), 0);
  pool = traced_pool(1);
  ck_assert_int_eq(unsetenv("FUTURES_TRACE_EVENTS"), 0);
  for (int i = 0; i < 40; i++) {
    pthread_t t;

    ck_assert_int_eq(pthread_create(&t, NULL, submit_one, pool), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
  }
  s = trace_of(pool, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(count(s, "\"name\":\"task\""), 40);
  ck_assert_int_eq(count(s, "\"lost_events\":0"), 1);
  free(s);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
}
END_TEST

/* Opens the gates of the two crowds in @arg (struct tu_crowd *[2]). */
static int
open_gates(void *arg, void **result)
{
  struct tu_crowd **c = arg;

  tu_latch_open(&c[0]->gate);
  tu_latch_open(&c[1]->gate);
  *result = NULL;
  return 0;
}

/* Joins drawn whatever comes first among the traced futures: a join
 * whose first future is a FUTURES_POOL_TIMING-only pool's pending task
 * and whose second is a traced pool's pending task is a slice on the
 * traced pool. Both are held until the test thread, inside its join,
 * helps a third task (of the traced pool) that opens both gates. */
START_TEST(test_trace_join_after_a_timing_only_future_is_drawn)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  futures_pool_t *p = traced_pool(1), *q;
  struct tu_crowd cp, cq;
  struct tu_crowd *both[2] = {&cp, &cq};
  future_t *hp[1], *hq[1], *fs[3];
  char *s;
  int rc;

  o.nthreads = 1;
  o.flags = FUTURES_POOL_TIMING;
  ck_assert_int_eq(futures_pool_create_ex(&q, &o), 0);
  ck_assert_int_eq(tu_crowd_hold(q, &cq, hq, 1), 0);
  ck_assert_int_eq(tu_crowd_hold(p, &cp, hp, 1), 0);
  fs[0] = hq[0];
  fs[1] = hp[0];
  ck_assert_int_eq(futures_submit(p, open_gates, both, &fs[2]), 0);
  ck_assert_int_eq(futures_join_all(fs, 3, NULL), 0);
  s = trace_of(p, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(count(s, "\"cat\":\"join\""), 1);
  free(s);
  for (int i = 0; i < 3; i++)
    future_release(fs[i]);
  tu_crowd_destroy(&cp);
  tu_crowd_destroy(&cq);
  ck_assert_int_eq(futures_pool_destroy(p), 0);
  ck_assert_int_eq(futures_pool_destroy(q), 0);
}
END_TEST

/* The documented limit: a futures_join_all() whose first future is a
 * promise is not drawn even though it waits for a traced task (choosing
 * costs the untraced join one branch on its first future only). */
START_TEST(test_trace_join_after_a_promise_is_not_drawn)
{
  futures_pool_t *p = traced_pool(1);
  struct tu_crowd cp, cq;
  struct tu_crowd *both[2] = {&cp, &cq};
  future_t *hp[1], *fs[3];
  char *s;
  int rc;

  ck_assert_int_eq(tu_crowd_hold(p, &cp, hp, 1), 0);
  tu_latch_init(&cq.gate);
  ck_assert_int_eq(futures_promise_create(&fs[0]), 0);
  ck_assert_int_eq(future_resolve(fs[0], NULL), 0);
  fs[1] = hp[0];
  ck_assert_int_eq(futures_submit(p, open_gates, both, &fs[2]), 0);
  ck_assert_int_eq(futures_join_all(fs, 3, NULL), 0);
  s = trace_of(p, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(count(s, "\"cat\":\"join\""), 0);
  ck_assert_int_eq(count(s, "\"name\":\"task\""), 2);
  free(s);
  for (int i = 0; i < 3; i++)
    future_release(fs[i]);
  tu_crowd_destroy(&cp);
  tu_latch_destroy(&cq.gate);
  ck_assert_int_eq(futures_pool_destroy(p), 0);
}
END_TEST

Suite *
trace_suite(void)
{
  Suite *s = suite_create("trace");
  TCase *tc;

  tc = tcase_create("errors");
  tcase_add_test(tc, test_trace_write_errors);
  tcase_add_test(tc, test_trace_implies_timing);
  tcase_add_test(tc, test_trace_write_in_a_fork_child_is_echild);
  suite_add_tcase(s, tc);

  tc = tcase_create("contents");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_trace_write_while_tasks_run_from_threads);
  tcase_add_test(tc, test_trace_thread_that_exited_keeps_its_events);
  tcase_add_test(tc, test_trace_write_from_a_task);
  tcase_add_test(tc, test_trace_ring_keeps_the_newest_and_counts_the_lost);
  tcase_add_test(tc, test_trace_join_racing_destroy_ends_before_the_free);
  tcase_add_test(tc, test_trace_destroy_does_not_wait_for_a_traced_join);
  tcase_add_test(tc, test_trace_destroy_in_a_helped_task_does_not_deadlock);
  tcase_add_test(tc, test_trace_names_are_written_as_ascii);
  tcase_add_test(tc, test_trace_fork_child_has_its_own_thread_ids);
  tcase_add_test(tc, test_trace_events_variable_is_parsed_strictly);
  tcase_add_test(tc, test_trace_write_allocates_by_events_not_rings);
  tcase_add_test(tc, test_trace_join_after_a_timing_only_future_is_drawn);
  tcase_add_test(tc, test_trace_join_after_a_promise_is_not_drawn);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(trace_suite());
}
