/* SPDX-License-Identifier: MIT */
/*
 * callback_promise.c - a callback API wrapped in a promise.
 *
 * Many C libraries report the end of an operation by calling a callback,
 * later, from a thread of their own. A promise (futures_promise_create())
 * turns such an operation into a future: the callback settles it with
 * future_resolve() on success, or with future_reject() on failure, after
 * mapping the library's own error codes to errno values. The caller then
 * waits with future_get(), or combines several with futures_all()
 * (Promise.all as a value), exactly as with a task's future. No pool is
 * involved. In JavaScript:
 *
 *   const readFile = name => new Promise((resolve, reject) =>
 *     fakeRead(name, (err, data) => err ? reject(err) : resolve(data)));
 *
 * Build: cc callback_promise.c $(pkg-config --cflags --libs futures) -pthread
 */
#include <errno.h>
#include <futures.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------ a callback API */
/* A fake "async read", as a C library might offer one. Its error codes are
 * its own, not errno values. */
enum { FAKE_OK = 0, FAKE_NOT_FOUND = -1, FAKE_DENIED = -2 };

typedef void (*fake_read_cb)(void *ctx, int status, const char *data);

/* One request, allocated by the caller (as libuv's uv_fs_t is). */
struct fake_read {
  const char *name;
  fake_read_cb cb;
  void *ctx;
  pthread_t thread;
};

/* The library's own thread: does the work, then calls the callback. */
static void *
fake_read_thread(void *arg)
{
  static const struct {
    const char *name, *data;
    int status;
  } files[] = {
      {"motd", "Welcome to libfutures", FAKE_OK},
      {"config", "threads=4", FAKE_OK},
      {"secret", NULL, FAKE_DENIED},
  };
  struct fake_read *req = arg;

  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (strcmp(files[i].name, req->name) == 0) {
      req->cb(req->ctx, files[i].status, files[i].data);
      return NULL;
    }
  req->cb(req->ctx, FAKE_NOT_FOUND, NULL);
  return NULL;
}

/* Starts reading @name; @cb is called once, from another thread. */
static int
fake_read_start(struct fake_read *req, const char *name, fake_read_cb cb,
                void *ctx)
{
  req->name = name;
  req->cb = cb;
  req->ctx = ctx;
  return pthread_create(&req->thread, NULL, fake_read_thread, req);
}

/* Frees what a started request holds (waits for its thread to end). */
static void
fake_read_cleanup(struct fake_read *req)
{
  pthread_join(req->thread, NULL);
}

/* ------------------------------------------------ the same as a promise */
/* The library's codes as the errno values future_reject() takes. */
static int
errno_of(int status)
{
  switch (status) {
  case FAKE_NOT_FOUND:
    return ENOENT;
  case FAKE_DENIED:
    return EACCES;
  default:
    return EIO; /* a code this program does not know */
  }
}

/* The callback settles the promise, then drops the reference that
 * read_file() gave it. If the consumer has cancelled the promise, the
 * settle returns EALREADY and changes nothing, which is fine here. */
static void
on_read(void *ctx, int status, const char *data)
{
  future_t *promise = ctx;

  if (status == FAKE_OK)
    future_resolve(promise, (void *)data);
  else
    future_reject(promise, errno_of(status));
  future_release(promise);
}

/* Starts reading @name and gives its promise in *@out: resolved with the
 * data, or rejected with ENOENT, EACCES or EIO. */
static int
read_file(struct fake_read *req, const char *name, future_t **out)
{
  future_t *promise;
  int rc;

  if ((rc = futures_promise_create(&promise)) != 0)
    return rc;
  /* Two owners, each releasing its own reference: the caller and the
   * callback. Either may be done first. */
  if ((rc = future_retain(promise)) != 0) {
    future_release(promise);
    return rc;
  }
  if ((rc = fake_read_start(req, name, on_read, promise)) != 0) {
    future_release(promise); /* the callback's: it will never be called */
    future_release(promise);
    return rc;
  }
  *out = promise;
  return 0;
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
  /* Three reads at once; the outcome this program expects of each. */
  static const struct {
    const char *name;
    int code;
  } reads[3] = {{"config", 0}, {"missing", ENOENT}, {"secret", EACCES}};
  struct fake_read req[4];
  future_t *motd, *f[3], *all;
  void *data;
  int rc, bad = 0;

  /* One read, awaited with future_get(): await readFile("motd"). */
  if ((rc = read_file(&req[0], "motd", &motd)) != 0)
    return die("read_file", rc);
  rc = future_get(motd, &data);
  printf("motd: %s\n", rc == 0 ? (const char *)data : strerror(rc));
  bad |= rc != 0 || strcmp(data, "Welcome to libfutures") != 0;

  /* Three at once, awaited together: await Promise.all([...]). The all's
   * code is that of the lowest-index input that failed ("missing"),
   * whichever failed first. */
  for (int i = 0; i < 3; i++)
    if ((rc = read_file(&req[i + 1], reads[i].name, &f[i])) != 0)
      return die("read_file", rc);
  if ((rc = futures_all(f, 3, &all)) != 0)
    return die("futures_all", rc);
  rc = future_get(all, NULL);
  printf("all three: %s\n", rc == 0 ? "done" : strerror(rc));
  bad |= rc != ENOENT;
  /* Each input keeps its own outcome; future_get() no longer waits. */
  for (int i = 0; i < 3; i++) {
    rc = future_get(f[i], &data);
    if (rc == 0)
      printf("%s: %s\n", reads[i].name, (const char *)data);
    else
      printf("%s: error: %s\n", reads[i].name, strerror(rc));
    bad |= rc != reads[i].code;
  }

  future_release(all);
  for (int i = 0; i < 3; i++)
    future_release(f[i]);
  future_release(motd);
  for (int i = 0; i < 4; i++)
    fake_read_cleanup(&req[i]);
  return bad ? 1 : 0;
}
