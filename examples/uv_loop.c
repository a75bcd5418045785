/* SPDX-License-Identifier: MIT */
/*
 * uv_loop.c - results of pool tasks delivered into a libuv loop.
 *
 * poll_loop.c with libuv: a uv_poll_t watches the notifier's descriptor,
 * and its callback takes the tags with futures_notifier_take(), which
 * never blocks, and reads each future with future_get(), which then
 * returns at once. Four pool tasks (one of them fails) and a promise that
 * another thread resolves arrive in the same loop; after the last one the
 * callback closes the poll handle, and uv_run() returns. The result lines
 * come in the order the futures settle, which varies from run to run; the
 * program checks every outcome and exits 1 if one is not what it expects.
 *
 * Build: cc uv_loop.c $(pkg-config --cflags --libs futures libuv) -pthread
 */
#include <errno.h>
#include <futures.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define NTASKS 4 /* jobs[0..3] are tasks, jobs[4] the promise */

struct job {
  const char *name;
  long input;    /* the task's argument */
  int want_code; /* the outcome this program expects */
  long want_value;
  future_t *future;
};

static struct job jobs[] = {
    {"square(3)", 3, 0, 9, NULL},      {"square(4)", 4, 0, 16, NULL},
    {"square(-1)", -1, EDOM, 0, NULL}, {"square(12)", 12, 0, 144, NULL},
    {"promise", 0, 0, 42, NULL},
};
#define NJOBS (sizeof jobs / sizeof jobs[0])

/* What the poll callback needs, reached through the handle's data. */
struct loop_state {
  futures_notifier_t *notifier;
  size_t pending; /* tags not yet taken */
  int bad;        /* an outcome was not the expected one */
};

/* A pool task: the square of its argument; a negative one fails. */
static int
square(void *arg, void **result)
{
  long x = (long)(intptr_t)arg;

  if (x < 0)
    return EDOM;
  *result = (void *)(intptr_t)(x * x);
  return 0;
}

/* Another thread of the program (an I/O thread, a library's callback)
 * settles the promise, then drops the reference it was handed. */
static void *
producer(void *arg)
{
  future_t *promise = arg;
  int rc = future_resolve(promise, (void *)(intptr_t)42);

  future_release(promise);
  return (void *)(intptr_t)rc;
}

/* One delivered tag: its future has settled. Returns 1 if the outcome is
 * not the expected one. */
static int
report(struct job *job)
{
  void *value = NULL;
  int rc = future_get(job->future, &value); /* does not wait */

  if (rc == 0)
    printf("%s = %ld\n", job->name, (long)(intptr_t)value);
  else
    printf("%s failed: %s\n", job->name, strerror(rc));
  future_release(job->future); /* done with it */
  job->future = NULL;
  return rc != job->want_code ||
         (rc == 0 && (long)(intptr_t)value != job->want_value);
}

/* libuv calls this on the loop thread while the descriptor is readable. */
static void
on_readable(uv_poll_t *watcher, int status, int events)
{
  struct loop_state *s = watcher->data;
  void *tags[8];
  size_t n;

  (void)events;
  if (status < 0) {
    fprintf(stderr, "uv_poll: %s\n", uv_strerror(status));
    s->bad = 1;
    uv_close((uv_handle_t *)watcher, NULL);
    return;
  }
  n = futures_notifier_take(s->notifier, tags, 8); /* never blocks */
  for (size_t i = 0; i < n; i++)
    s->bad |= report(tags[i]);
  s->pending -= n;
  if (s->pending == 0)
    uv_close((uv_handle_t *)watcher, NULL); /* the loop's last handle */
}

static int
die(const char *what, int rc)
{
  fprintf(stderr, "%s: %s\n", what, strerror(rc));
  return 1;
}

static int
die_uv(const char *what, int rc)
{
  fprintf(stderr, "%s: %s\n", what, uv_strerror(rc));
  return 1;
}

int
main(void)
{
  struct loop_state s = {NULL, NJOBS, 0};
  futures_pool_t *pool;
  future_t *promise;
  uv_loop_t loop;
  uv_poll_t watcher;
  pthread_t thread;
  void *thread_rc;
  int rc;

  if ((rc = futures_pool_create(&pool, 2)) != 0 ||
      (rc = futures_notifier_create(&s.notifier)) != 0)
    return die("create", rc);
  for (int i = 0; i < NTASKS; i++)
    if ((rc = futures_submit(pool, square, (void *)(intptr_t)jobs[i].input,
                             &jobs[i].future)) != 0)
      return die("futures_submit", rc);
  /* The promise has two owners: this thread and the producer. */
  if ((rc = futures_promise_create(&promise)) != 0 ||
      (rc = future_retain(promise)) != 0)
    return die("promise", rc);
  jobs[NTASKS].future = promise;
  if ((rc = pthread_create(&thread, NULL, producer, promise)) != 0)
    return die("pthread_create", rc);
  /* The tag is the job itself. A future that has settled already is
   * delivered at once: watching late loses nothing. */
  for (size_t i = 0; i < NJOBS; i++) {
    rc = futures_notifier_watch(s.notifier, jobs[i].future, &jobs[i]);
    if (rc != 0)
      return die("futures_notifier_watch", rc);
  }
  printf("uv_loop: watching %zu futures\n", NJOBS);

  /* libuv's errors are negative: uv_strerror(), not strerror(). */
  if ((rc = uv_loop_init(&loop)) != 0)
    return die_uv("uv_loop_init", rc);
  rc = uv_poll_init(&loop, &watcher, futures_notifier_fd(s.notifier));
  if (rc != 0)
    return die_uv("uv_poll_init", rc);
  watcher.data = &s;
  if ((rc = uv_poll_start(&watcher, UV_READABLE, on_readable)) != 0)
    return die_uv("uv_poll_start", rc);
  uv_run(&loop, UV_RUN_DEFAULT); /* until the poll handle is closed */
  if ((rc = uv_loop_close(&loop)) != 0)
    return die_uv("uv_loop_close", rc);
  if (s.pending == 0)
    printf("uv_loop: %zu results received\n", NJOBS);

  futures_notifier_destroy(s.notifier);
  if ((rc = pthread_join(thread, &thread_rc)) != 0)
    return die("pthread_join", rc);
  s.bad |= thread_rc != NULL; /* future_resolve() failed */
  s.bad |= futures_pool_destroy(pool) != 0;
  return s.bad || s.pending != 0 ? 1 : 0;
}
