/* SPDX-License-Identifier: MIT */
/*
 * notifier.c - layer 5: completion delivered into an event loop.
 *
 * A notifier owns a file descriptor (an eventfd, or the read end of a pipe
 * where eventfd is missing) and a queue of tags. Watching a future links a
 * callback waiter into it (record.h); the future's publisher runs the
 * callback, which appends the tag and makes the descriptor readable.
 *
 * The descriptor is readable exactly while the queue is not empty, and
 * both change only under the notifier's lock: a callback that makes the
 * queue non-empty signals the descriptor; a take that empties it drains
 * the descriptor, in the same critical section. So a loop that drained
 * the descriptor and took every tag cannot miss a settle that follows:
 * that settle finds the queue empty and signals again.
 *
 * Lifetime. The notifier is freed when its owner has destroyed it and no
 * callback can reach it any more. Each watch not yet delivered counts one
 * reference; destroy unlinks every watch it still can (its future's
 * publisher has not taken it) and drops those references itself; a
 * callback already taken by a publisher finds the notifier closed, drops
 * its tag and its reference. Space for every watched tag is reserved when
 * the watch is made, so a delivery never allocates and never fails.
 */
#include "help.h"

#include <fcntl.h>
#include <unistd.h>
#if HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

struct watch {
  struct wcallback cb;
  struct futures_notifier *n;
  struct future *f; /* a reference of the watch's own */
  void *tag;
  struct watch *prev, *next; /* in n->watching; under n->lock */
};

struct futures_notifier {
  pthread_mutex_t lock;
  int fd;  /* what the user polls */
  int wfd; /* the pipe's write end, or -1 with an eventfd */
  /* Under lock. */
  void **tags;          /* a ring of cap slots: count tags from head */
  size_t cap, head, count;
  size_t refs;          /* the owner's (until destroy), one per watch */
  int closed;           /* destroy has begun */
  unsigned long gen;    /* the fork generation it was created in */
  struct watch *watching; /* watches not yet delivered */
};

/* Makes the descriptor readable, or no longer readable. Under lock. */
static void
fd_signal(struct futures_notifier *n)
{
  uint64_t one = 1;
  int saved = errno;
  ssize_t r;

  do
    r = write(n->wfd >= 0 ? n->wfd : n->fd, &one,
              n->wfd >= 0 ? 1 : sizeof(one));
  while (r < 0 && errno == EINTR);
  /* EAGAIN: already readable (a full pipe or counter), which is all we
   * want. */
  errno = saved;
}

static void
fd_drain(struct futures_notifier *n)
{
  char buf[64];
  int saved = errno;
  ssize_t r;

  do
    r = read(n->fd, buf, n->wfd >= 0 ? sizeof(buf) : sizeof(uint64_t));
  while (r > 0 ? n->wfd >= 0 : r < 0 && errno == EINTR);
  errno = saved; /* a pipe is drained when read says EAGAIN */
}

static void
notifier_free(struct futures_notifier *n)
{
  close(n->fd);
  if (n->wfd >= 0)
    close(n->wfd);
  futures__free(n->tags);
  futures__mutex_destroy(&n->lock);
  futures__free(n);
}

/* Drops one reference, under lock, which it releases. */
static void
unref_unlock(struct futures_notifier *n)
{
  int last = --n->refs == 0;

  futures__mutex_unlock(&n->lock);
  if (last)
    notifier_free(n);
}

/* Delivers a watch whose future has settled: in the publisher's thread,
 * or in watch() when the future had settled already. */
static void
deliver(struct watch *w)
{
  struct futures_notifier *n = w->n;
  int cs;

  /* write() and close() are cancellation points: a settling thread with
   * a cancellation pending must not unwind with the lock held. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
  futures__mutex_lock(&n->lock);
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    n->watching = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  if (!n->closed) {
    n->tags[(n->head + n->count) % n->cap] = w->tag;
    if (n->count++ == 0)
      fd_signal(n);
  }
  unref_unlock(n);
  pthread_setcancelstate(cs, NULL);
  futures__record_unref(w->f);
  futures__free(w);
}

static void
watch_fired(struct wcallback *cb, struct future *f)
{
  (void)f;
  deliver((struct watch *)(void *)cb);
}

int
futures_notifier_create(futures_notifier_t **notifier)
{
  struct futures_notifier *n;
  int saved = errno, rc0;

  if (notifier == NULL)
    return EINVAL;
  *notifier = NULL;
  /* The fork handlers that make a notifier stale in a child. */
  if ((rc0 = futures__global_init()) != 0) {
    errno = saved;
    return rc0;
  }
  n = futures__malloc(sizeof(*n));
  if (n == NULL)
    return ENOMEM;
  n->wfd = -1;
#if HAVE_SYS_EVENTFD_H
  n->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (n->fd < 0 && errno != ENOSYS && errno != EINVAL) {
    int rc = errno;

    futures__free(n);
    return rc;
  }

#else
  n->fd = -1;
#endif
  if (n->fd < 0) {
    int p[2];

    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
      int rc = errno;

      futures__free(n);
      return rc;
    }
    n->fd = p[0];
    n->wfd = p[1];
  }
  futures__mutex_init(&n->lock);
  n->tags = NULL;
  n->cap = n->head = n->count = 0;
  n->refs = 1;
  n->closed = 0;
  n->watching = NULL;
  n->gen = atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
  *notifier = n;
  errno = saved; /* a missing eventfd set it */
  return 0;
}

/*
 * A notifier of the parent's, in a fork() child: its descriptor is shared
 * with the parent (a take here would drain the parent's readiness), and
 * its lock and deliveries belong to threads that do not exist here. Every
 * call but _fd() leaves it alone.
 */
static int
stale(const struct futures_notifier *n)
{
  return unlikely(futures__forked()) &&
         n->gen != atomic_load_explicit(&futures__fork_gen,
                                        memory_order_relaxed);
}

int
futures_notifier_fd(const futures_notifier_t *notifier)
{
  return notifier != NULL ? notifier->fd : -1;
}

/* Makes room for one more tag than the queue and the watches can hold
 * now. Under lock. */
static int
reserve(struct futures_notifier *n)
{
  size_t need = n->count + (n->refs - 1) + 1, cap;
  void **t;

  if (need <= n->cap)
    return 0;
  cap = n->cap < 8 ? 8 : n->cap;
  while (cap < need)
    cap *= 2;
  t = futures__malloc(cap * sizeof(*t));
  if (t == NULL)
    return ENOMEM;
  for (size_t i = 0; i < n->count; i++)
    t[i] = n->tags[(n->head + i) % n->cap];
  futures__free(n->tags);
  n->tags = t;
  n->cap = cap;
  n->head = 0;
  return 0;
}

int
futures_notifier_watch(futures_notifier_t *notifier, future_t *future,
                       void *tag)
{
  struct watch *w;
  int rc;

  if (notifier == NULL || futures__record_bad(future))
    return EINVAL;
  if ((rc = futures__help_stale(future)) != 0)
    return rc;
  if (stale(notifier))
    return ECHILD;
  w = futures__malloc(sizeof(*w));
  if (w == NULL)
    return ENOMEM;
  if (futures__record_try_ref(future) != 0) {
    futures__free(w);
    return EAGAIN;
  }
  futures__mutex_lock(&notifier->lock);
  if ((rc = reserve(notifier)) != 0) {
    futures__mutex_unlock(&notifier->lock);
    futures__record_unref(future);
    futures__free(w);
    return rc;
  }
  w->n = notifier;
  w->f = future;
  w->tag = tag;
  w->cb.fn = watch_fired;
  w->prev = NULL;
  w->next = notifier->watching;
  if (w->next != NULL)
    w->next->prev = w;
  notifier->watching = w;
  notifier->refs++;
  futures__mutex_unlock(&notifier->lock);
  if (!futures__record_add_callback(future, &w->cb))
    deliver(w); /* it had settled already */
  return 0;
}

size_t
futures_notifier_take(futures_notifier_t *notifier, void *tags[], size_t max)
{
  size_t k = 0;
  int cs;

  if (notifier == NULL || tags == NULL || stale(notifier))
    return 0;
  /* read() is a cancellation point: never unwind with the lock held. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
  futures__mutex_lock(&notifier->lock);
  while (k < max && notifier->count > 0) {
    tags[k++] = notifier->tags[notifier->head];
    notifier->head = (notifier->head + 1) % notifier->cap;
    notifier->count--;
  }
  if (k > 0 && notifier->count == 0)
    fd_drain(notifier);
  futures__mutex_unlock(&notifier->lock);
  pthread_setcancelstate(cs, NULL);
  return k;
}

void
futures_notifier_destroy(futures_notifier_t *notifier)
{
  struct futures_notifier *n = notifier;
  struct watch *w, *next, *mine = NULL;
  int cs;

  if (n == NULL || stale(n))
    return;
  /* close() is a cancellation point: destroy runs to its end. */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
  futures__mutex_lock(&n->lock);
  n->closed = 1;
  /* Unlink every watch whose future's publisher has not taken it; the
   * others are delivered (and dropped) by their publishers. Lock order:
   * the notifier's lock, then a record's stripe; a publisher runs the
   * callback after letting go of the stripe. */
  for (w = n->watching; w != NULL; w = next) {
    next = w->next;
    if (futures__record_remove_callback(w->f, &w->cb)) {
      if (w->prev != NULL)
        w->prev->next = w->next;
      else
        n->watching = w->next;
      if (w->next != NULL)
        w->next->prev = w->prev;
      n->refs--;
      w->next = mine;
      mine = w;
    }
  }
  unref_unlock(n);
  for (w = mine; w != NULL; w = next) {
    next = w->next;
    futures__record_unref(w->f);
    futures__free(w);
  }
  pthread_setcancelstate(cs, NULL);
}
