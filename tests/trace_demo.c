/* SPDX-License-Identifier: MIT */
/*
 * trace_demo: runs a known scenario on a traced pool of two workers and
 * writes its trace (argv[1]) and what it ran (argv[2], JSON) for
 * tests/trace_json.sh, which parses both with python3 and checks one
 * against the other. Every event the script requires is forced with
 * latches, never timing: the workers are held while the test thread runs
 * the tasks it joins, so those joins wait and those runs are helped.
 *
 * The records, in submit order (ids 1..): A (a task), B (a task failing
 * with EDOM), H1 and H2 (hold both workers), C and D (joined together,
 * run by the joining thread), Y (future_get, run by the getter), Z
 * (cancelled while queued), E (a continuation of D, run by its getter).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futures.h"

#define CHECK(x)                                                               \
  do {                                                                         \
    int rc_ = (x);                                                             \
    if (rc_ != 0) {                                                            \
      fprintf(stderr, "trace_demo: %s: %d\n", #x, rc_);                        \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* What each body saw: the thread it ran on. */
struct rec {
  const char *name;
  int tid;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int held, released;

static int
gettid_(void)
{
  return (int)syscall(SYS_gettid);
}

static int
plain(void *arg, void **result)
{
  ((struct rec *)arg)->tid = gettid_();
  *result = arg;
  return 0;
}

static int
failing(void *arg, void **result)
{
  ((struct rec *)arg)->tid = gettid_();
  (void)result;
  return EDOM;
}

/* Holds a worker until the test thread releases both. */
static int
hold(void *arg, void **result)
{
  ((struct rec *)arg)->tid = gettid_();
  pthread_mutex_lock(&lock);
  held++;
  pthread_cond_broadcast(&cond);
  while (!released)
    pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  *result = NULL;
  return 0;
}

static int
cont(void *arg, int code, void *value, void **result)
{
  ((struct rec *)arg)->tid = gettid_();
  (void)value;
  *result = NULL;
  return code;
}

int
main(int argc, char **argv)
{
  futures_pool_opts_t o = FUTURES_POOL_OPTS_INIT;
  struct rec r[] = {{"A", 0}, {"B", 0}, {"H1", 0}, {"H2", 0}, {"C", 0},
                    {"D", 0}, {"Y", 0}, {"Z", 0},  {"E", 0}};
  enum { A, B, H1, H2, C, D, Y, Z, E, N };
  const char *kind[N] = {"task", "task", "task",      "task", "task",
                         "task", "task", "cancelled", "then"};
  int outcome[N] = {0, EDOM, 0, 0, 0, 0, 0, ECANCELED, 0};
  /* 1: the test thread ran it while waiting; 0: a worker; -1: either. */
  int helped[N] = {-1, -1, 0, 0, 1, 1, 1, 0, 1};
  future_t *f[N], *cd[2];
  futures_pool_t *pool;
  FILE *m;
  int fd, me = gettid_();

  if (argc != 3) {
    fprintf(stderr, "usage: trace_demo TRACE.json MANIFEST.json\n");
    return 2;
  }
  o.nthreads = 2;
  o.flags = FUTURES_POOL_TRACE;
  CHECK(futures_pool_create_ex(&pool, &o));
  /* await A; await B; */
  CHECK(futures_submit(pool, plain, &r[A], &f[A]));
  CHECK(future_get(f[A], NULL));
  CHECK(futures_submit(pool, failing, &r[B], &f[B]));
  if (future_get(f[B], NULL) != EDOM)
    return 1;
  /* Hold both workers. */
  CHECK(futures_submit(pool, hold, &r[H1], &f[H1]));
  CHECK(futures_submit(pool, hold, &r[H2], &f[H2]));
  pthread_mutex_lock(&lock);
  while (held < 2)
    pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  /* await Promise.all([C, D]), then await Y: run here, in the joins. */
  CHECK(futures_submit(pool, plain, &r[C], &f[C]));
  CHECK(futures_submit(pool, plain, &r[D], &f[D]));
  cd[0] = f[C];
  cd[1] = f[D];
  CHECK(futures_join_all(cd, 2, NULL));
  CHECK(futures_submit(pool, plain, &r[Y], &f[Y]));
  CHECK(future_get(f[Y], NULL));
  /* Z is cancelled while queued; E follows D. */
  CHECK(futures_submit(pool, plain, &r[Z], &f[Z]));
  CHECK(future_cancel(f[Z]));
  r[Z].tid = me;
  CHECK(futures_then(pool, f[D], cont, &r[E], &f[E]));
  CHECK(future_get(f[E], NULL));
  pthread_mutex_lock(&lock);
  released = 1;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
  CHECK(future_get(f[H1], NULL));
  CHECK(future_get(f[H2], NULL));

  fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return 1;
  CHECK(futures_pool_trace_write(pool, fd));
  close(fd);
  if ((m = fopen(argv[2], "w")) == NULL)
    return 1;
  fprintf(m, "{\"main_tid\": %d, \"workers\": 2, \"records\": [\n", me);
  for (int i = 0; i < N; i++)
    fprintf(m,
            "  {\"name\": \"%s\", \"id\": %d, \"kind\": \"%s\", \"tid\": %d, "
            "\"outcome\": %d, \"helped\": %d}%s\n",
            r[i].name, i + 1, kind[i], r[i].tid, outcome[i], helped[i],
            i + 1 < N ? "," : "");
  fprintf(m, "],\n\"joins\": [[%d, %d], [%d], [%d]],\n", C + 1, D + 1, Y + 1,
          E + 1);
  fprintf(m, "\"then\": [[%d, %d]],\n", D + 1, E + 1);
  fprintf(m, "\"sequence\": [[%d, %d]]}\n", A + 1, B + 1);
  fclose(m);
  for (int i = 0; i < N; i++)
    future_release(f[i]);
  CHECK(futures_pool_destroy(pool));
  return 0;
}
