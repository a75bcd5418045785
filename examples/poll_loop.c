/* SPDX-License-Identifier: MIT */
/*
 * poll_loop.c - results of pool tasks delivered into a plain poll() loop.
 *
 * A program built around an event loop must not block in future_get() on
 * a future that is still running. A notifier avoids that: each future is
 * watched with a tag, and the notifier's descriptor is readable while tags
 * of settled futures wait. The loop takes them with
 * futures_notifier_take(), which never blocks, and reads each future with
 * future_get(), which then returns at once. Here four pool tasks (one of
 * them fails) and a promise that another thread resolves arrive in the
 * same loop. The result lines come in the order the futures settle, which
 * varies from run to run; the program checks every outcome and exits 1 if
 * one is not what it expects.
 *
 * The same program in a libuv loop is uv_loop.c, in GLib's glib_loop.c.
 *
 * Build: cc poll_loop.c $(pkg-config --cflags --libs futures) -pthread
 */
#include <errno.h>
#include <futures.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

static int
die(const char *what, int rc)
{
  fprintf(stderr, "%s: %s\n", what, strerror(rc));
  return 1;
}

int
main(void)
{
  futures_pool_t *pool;
  futures_notifier_t *notifier;
  future_t *promise;
  pthread_t thread;
  void *thread_rc;
  size_t pending = NJOBS;
  int rc, bad = 0;

  if ((rc = futures_pool_create(&pool, 2)) != 0 ||
      (rc = futures_notifier_create(&notifier)) != 0)
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
    rc = futures_notifier_watch(notifier, jobs[i].future, &jobs[i]);
    if (rc != 0)
      return die("futures_notifier_watch", rc);
  }
  printf("poll_loop: watching %zu futures\n", NJOBS);

  /* The event loop. A real program polls its sockets in the same array. */
  while (pending > 0) {
    struct pollfd pfd = {futures_notifier_fd(notifier), POLLIN, 0};
    void *tags[8];
    size_t n;

    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      return die("poll", errno);
    }
    n = futures_notifier_take(notifier, tags, 8); /* never blocks */
    for (size_t i = 0; i < n; i++)
      bad |= report(tags[i]);
    pending -= n;
  }
  printf("poll_loop: %zu results received\n", NJOBS);

  futures_notifier_destroy(notifier);
  if ((rc = pthread_join(thread, &thread_rc)) != 0)
    return die("pthread_join", rc);
  bad |= thread_rc != NULL; /* future_resolve() failed */
  bad |= futures_pool_destroy(pool) != 0;
  return bad ? 1 : 0;
}
