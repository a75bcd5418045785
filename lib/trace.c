/* SPDX-License-Identifier: MIT */
/*
 * trace.c - layer 3: a pool's timeline (FUTURES_POOL_TRACE), written as
 * Chrome trace-event JSON by futures_pool_trace_write().
 *
 * Rings. Each thread that runs, cancels or joins a traced pool's records
 * owns one ring per pool: a fixed array of events (FUTURES_TRACE_EVENTS,
 * default TRACE_EVENTS_DEFAULT) where the newest event overwrites the
 * oldest. The ring is allocated at the thread's first event and linked
 * into the pool's list, which only grows until the pool is freed; a thread
 * that exits leaves its ring behind, so its events are still written. A
 * thread finds its ring through a one-entry thread-local cache keyed by
 * the pool's id, which no later pool reuses, so a stale entry never
 * matches. A thread that only submits gets a ring with no array: its name
 * and thread id, for the submits drawn on it.
 *
 * Locks. trace->lock guards the list (taken on a cache miss and by the
 * writer); each ring's lock guards its events, taken by its owner for one
 * event and by the writer for the copy. Both are leaves in the order of
 * internal.h (the ring's under the list's in the writer only), and no
 * user code runs under either.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pin.h"

#define TRACE_EVENTS_DEFAULT 4096
#define TRACE_EVENTS_MIN     16
#define TRACE_EVENTS_MAX     (1u << 24)

enum { EV_TASK, EV_THEN, EV_UNRUN, EV_JOIN };

/* One event; fixed size, copied whole. */
struct trace_event {
  long long ts, end, submitted;
  unsigned long long id;   /* the record; a join: how many it waited for */
  unsigned long long ante; /* a continuation's antecedent, 0 if unknown */
  unsigned long long ids[TRACE_JOIN_IDS]; /* a join: the first ones */
  int code, submit_tid;
  unsigned char kind, helped;
};

struct trace_ring {
  /* Immutable once linked. */
  struct trace_ring *next;
  unsigned long long key; /* the owning thread's number (thread_key) */
  int tid;
  char name[16];
  /* Protected by lock. */
  pthread_mutex_t lock;
  struct trace_event *ev;   /* NULL until the first event */
  unsigned long long head;  /* events written, ever */
  unsigned long long nomem; /* events lost: ev could not be allocated */
};

struct trace {
  /* Immutable after create. */
  size_t cap; /* events per ring */
  /* Atomic (relaxed: numbering only needs uniqueness). */
  _Atomic(unsigned long long) next_id;
  _Atomic(unsigned long long) nomem; /* events lost: no ring */
  /* Protected by lock. */
  pthread_mutex_t lock;
  struct trace_ring *rings;
};

/* This thread's number (never reused) and its ring in the last traced
 * pool it touched. */
static FUTURES_GLOBAL(_Atomic(unsigned long long), last_thread_key);
static FUTURES_TLS struct {
  unsigned long long key, sched_id;
  struct trace_ring *ring;
  int tid;
} me;

static size_t
ring_events(void)
{
  const char *v = getenv("FUTURES_TRACE_EVENTS");
  char *end;
  unsigned long n;

  if (v == NULL || *v == '\0')
    return TRACE_EVENTS_DEFAULT;
  n = strtoul(v, &end, 10);
  if (*end != '\0' || n < TRACE_EVENTS_MIN)
    return TRACE_EVENTS_DEFAULT;
  return n > TRACE_EVENTS_MAX ? TRACE_EVENTS_MAX : n;
}

int
futures__trace_create(struct sched *s)
{
  struct trace *t = futures__calloc(1, sizeof(*t));

  if (t == NULL)
    return ENOMEM;
  t->cap = ring_events();
  atomic_init(&t->next_id, 0);
  atomic_init(&t->nomem, 0);
  futures__mutex_init(&t->lock);
  s->trace = t;
  return 0;
}

void
futures__trace_destroy(struct sched *s)
{
  struct trace *t = s->trace;
  struct trace_ring *r, *next;

  if (t == NULL)
    return;
  for (r = t->rings; r != NULL; r = next) {
    next = r->next;
    futures__mutex_destroy(&r->lock);
    futures__free(r->ev);
    futures__free(r);
  }
  futures__mutex_destroy(&t->lock);
  futures__free(t);
  s->trace = NULL;
}

/* This thread's ring in @s's trace, registered at the first call; NULL
 * when out of memory. */
static struct trace_ring *
my_ring(struct sched *s)
{
  struct trace *t = s->trace;
  struct trace_ring *r;

  if (likely(me.sched_id == s->id))
    return me.ring;
  if (me.key == 0) {
    me.key =
        atomic_fetch_add_explicit(&last_thread_key, 1, memory_order_relaxed) +
        1;
    me.tid = (int)syscall(SYS_gettid);
  }
  futures__mutex_lock(&t->lock);
  for (r = t->rings; r != NULL; r = r->next)
    if (r->key == me.key)
      break;
  if (r == NULL && (r = futures__calloc(1, sizeof(*r))) != NULL) {
    r->key = me.key;
    r->tid = me.tid;
    if (prctl(PR_GET_NAME, r->name) != 0)
      snprintf(r->name, sizeof(r->name), "thread %d", me.tid);
    r->name[sizeof(r->name) - 1] = '\0';
    futures__mutex_init(&r->lock);
    r->next = t->rings;
    t->rings = r;
  }
  futures__mutex_unlock(&t->lock);
  if (r != NULL) {
    me.sched_id = s->id;
    me.ring = r;
  }
  return r;
}

/* Appends @e to this thread's ring, overwriting the oldest when full. */
static void
put(struct sched *s, const struct trace_event *e)
{
  struct trace_ring *r = my_ring(s);

  if (r == NULL) {
    atomic_fetch_add_explicit(&s->trace->nomem, 1, memory_order_relaxed);
    return;
  }
  futures__mutex_lock(&r->lock);
  if (r->ev == NULL)
    r->ev = futures__malloc(s->trace->cap * sizeof(*r->ev));
  if (r->ev != NULL)
    r->ev[r->head++ % s->trace->cap] = *e;
  else
    r->nomem++;
  futures__mutex_unlock(&r->lock);
}

/* A fork() child finishing a task of its parent's pool: the parent's
 * writer may have held a lock of the trace at the fork. */
static int
stale(const struct sched *s)
{
  return unlikely(futures__forked()) &&
         s->gen !=
             atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

void
futures__trace_submit(struct sched *s, struct future *f)
{
  struct future_tracing *tr = futures__record_tracing(f);
  struct trace_ring *r = my_ring(s);

  tr->id =
      atomic_fetch_add_explicit(&s->trace->next_id, 1, memory_order_relaxed) +
      1;
  tr->submit_tid = r != NULL ? r->tid : 0;
}

void
futures__trace_run(struct sched *s, struct future *f, int code, int helped,
                   int unrun)
{
  uint32_t st = atomic_load_explicit(&f->state, memory_order_relaxed);
  const struct future_times *t = futures__record_times(f);
  const struct future_tracing *tr = futures__record_tracing(f);
  struct trace_event e;

  if (stale(s))
    return;
  memset(&e, 0, sizeof(e));
  e.kind = unrun ? EV_UNRUN : (st & F_CONT) ? EV_THEN : EV_TASK;
  e.ts = t->started;
  e.end = t->finished;
  e.submitted = t->submitted;
  e.id = tr->id;
  e.code = code;
  e.submit_tid = tr->submit_tid;
  e.helped = (unsigned char)(helped != 0);
  /* A continuation holds its antecedent until it settles; its numbers
   * mean something here only if it is a record of this pool. */
  if ((st & F_CONT) && f->x.ante != NULL) {
    struct future *a = f->x.ante;
    uint32_t as = atomic_load_explicit(&a->state, memory_order_relaxed);

    if ((as & F_TIMED) && !(as & F_NOPOOL) && a->sched == s)
      e.ante = futures__record_tracing(a)->id;
  }
  put(s, &e);
}

void
futures__trace_join_begin(struct trace_join *j, future_t *const fs[], size_t n)
{
  j->s = NULL;
  for (size_t i = 0; i < n; i++) {
    struct future *f = fs[i];
    uint32_t st = atomic_load_explicit(&f->state, memory_order_relaxed);

    if (!(st & F_TIMED) || (st & F_NOPOOL) || (st & F_PHASE) == F_DONE)
      continue;
    /* The pin keeps the pool (and its trace) alive until the end, even if
     * it is destroyed while we wait; it fails if f is DONE by now. */
    if ((j->pin = futures__pin(f->sched, f)) < 0)
      continue;
    if (f->sched->trace == NULL || stale(f->sched)) {
      futures__unpin(j->pin);
      return;
    }
    j->s = f->sched;
    break;
  }
  if (j->s == NULL)
    return;
  j->n = n;
  for (size_t i = 0; i < TRACE_JOIN_IDS; i++) {
    struct future *f = i < n ? fs[i] : NULL;
    uint32_t st =
        f != NULL ? atomic_load_explicit(&f->state, memory_order_relaxed) : 0;

    /* Numbers of this pool's records only; 0 for the others. */
    j->ids[i] = (st & F_TIMED) && !(st & F_NOPOOL) && f->sched == j->s
                    ? futures__record_tracing(f)->id
                    : 0;
  }
  j->start = futures__now_ns();
}

void
futures__trace_join_end(struct trace_join *j)
{
  struct trace_event e;

  if (j->s == NULL)
    return;
  memset(&e, 0, sizeof(e));
  e.kind = EV_JOIN;
  e.ts = j->start;
  e.end = futures__now_ns();
  e.id = j->n;
  memcpy(e.ids, j->ids, sizeof(e.ids));
  put(j->s, &e);
  futures__unpin(j->pin);
}

/* ------------------------------------------------------------ writing */

/* Output through a buffer; the first write error sticks. */
struct out {
  int fd, err;
  size_t used;
  char buf[8192];
};

static void
flush(struct out *o)
{
  size_t off = 0;

  while (o->err == 0 && off < o->used) {
    ssize_t w = write(o->fd, o->buf + off, o->used - off);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      o->err = w < 0 ? errno : EIO;
    else
      off += (size_t)w;
  }
  o->used = 0;
}

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (o->used > sizeof(o->buf) - 512)
    flush(o);
  va_start(ap, fmt);
  n = vsnprintf(o->buf + o->used, sizeof(o->buf) - o->used, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->used += (size_t)n < sizeof(o->buf) - o->used
                   ? (size_t)n
                   : sizeof(o->buf) - o->used - 1;
}

/* @src as a JSON string's content: quotes, backslashes and control
 * characters become '_' (thread and pool names are at most 15 bytes). */
static const char *
safe(char dst[16], const char *src)
{
  size_t i;

  for (i = 0; i < 15 && src[i] != '\0'; i++)
    dst[i] = (unsigned char)src[i] < 0x20 || src[i] == '"' || src[i] == '\\'
                 ? '_'
                 : src[i];
  dst[i] = '\0';
  return dst;
}

/* Nanoseconds as JSON microseconds. */
#define US(ns) (ns) / 1000, (ns) % 1000
#define US_FMT "%lld.%03lld"

/* A copied event and the thread it was recorded on. */
struct copied {
  struct trace_event e;
  int tid;
};

static int
by_id(const void *a, const void *b)
{
  const struct copied *x = a, *y = b;

  if (x->e.id != y->e.id)
    return x->e.id < y->e.id ? -1 : 1;
  return 0;
}

/* The run of record @id among the sorted runs @v[0..n), or NULL. */
static const struct copied *
find_run(const struct copied *v, size_t n, unsigned long long id)
{
  size_t lo = 0, hi = n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (v[mid].e.id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo].e.id == id && v[lo].e.kind != EV_UNRUN ? &v[lo] : NULL;
}

/* A point strictly inside [@ts, @end] where a flow can bind. */
static long long
inside(long long ts, long long end, int at_end)
{
  if (end - ts < 2)
    return ts;
  return at_end ? end - 1 : ts + (end - ts) / 2;
}

/* One flow arrow from (@from_tid, @from_ts) to (@to_tid, @to_ts), each
 * inside a slice. */
static void
flow(struct out *o, int pid, const char *name, unsigned long long *seq,
     int from_tid, long long from_ts, int to_tid, long long to_ts)
{
  ++*seq;
  emit(o,
       ",\n{\"ph\":\"s\",\"name\":\"%s\",\"cat\":\"flow\",\"id\":%llu,"
       "\"pid\":%d,\"tid\":%d,\"ts\":" US_FMT "}",
       name, *seq, pid, from_tid, US(from_ts));
  emit(o,
       ",\n{\"ph\":\"f\",\"bp\":\"e\",\"name\":\"%s\",\"cat\":\"flow\","
       "\"id\":%llu,\"pid\":%d,\"tid\":%d,\"ts\":" US_FMT "}",
       name, *seq, pid, to_tid, US(to_ts));
}

static void
write_run(struct out *o, int pid, const struct copied *c,
          const struct copied *runs, size_t nruns, unsigned long long *seq)
{
  static const char *const names[] = {"task", "then", "cancelled"};
  const struct trace_event *e = &c->e;
  long long to = inside(e->ts, e->end, 0);

  emit(o,
       ",\n{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"run\",\"pid\":%d,"
       "\"tid\":%d,\"ts\":" US_FMT ",\"dur\":" US_FMT
       ",\"args\":{\"id\":%llu,\"outcome\":%d,\"followed\":%d,"
       "\"helped\":%d,\"submitted_by\":%d,\"antecedent\":%llu}}",
       names[e->kind], pid, c->tid, US(e->ts), US(e->end - e->ts), e->id,
       e->code == FUTURES_FOLLOW ? 0 : e->code, e->code == FUTURES_FOLLOW,
       e->helped, e->submit_tid, e->ante);
  if (e->submit_tid == 0)
    return;
  /* The submit: a mark 2 ns long on the submitting thread, enclosing the
   * start of its flow to the run (none for one cancelled unrun). */
  emit(o,
       ",\n{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"submit\",\"pid\":%d,"
       "\"tid\":%d,\"ts\":" US_FMT ",\"dur\":0.002,\"args\":{\"id\":%llu}}",
       e->kind == EV_THEN ? "then" : "submit", pid, e->submit_tid,
       US(e->submitted), e->id);
  if (e->kind == EV_UNRUN)
    return;
  flow(o, pid, "submit", seq, e->submit_tid, e->submitted + 1, c->tid, to);
  if (e->kind == EV_THEN && e->ante != 0) {
    const struct copied *a = find_run(runs, nruns, e->ante);

    if (a != NULL)
      flow(o, pid, "then", seq, a->tid, inside(a->e.ts, a->e.end, 1), c->tid,
           to);
  }
}

static void
write_join(struct out *o, int pid, const struct copied *c,
           const struct copied *runs, size_t nruns, unsigned long long *seq)
{
  const struct trace_event *e = &c->e;
  size_t k = e->id < TRACE_JOIN_IDS ? (size_t)e->id : TRACE_JOIN_IDS;

  emit(o,
       ",\n{\"ph\":\"X\",\"name\":\"join\",\"cat\":\"join\",\"pid\":%d,"
       "\"tid\":%d,\"ts\":" US_FMT ",\"dur\":" US_FMT
       ",\"args\":{\"n\":%llu,\"waited\":[",
       pid, c->tid, US(e->ts), US(e->end - e->ts), e->id);
  for (size_t i = 0; i < k; i++)
    emit(o, "%s%llu", i ? "," : "", e->ids[i]);
  emit(o, "]}}");
  /* An arrow from each waited task's end to the join's. */
  for (size_t i = 0; i < k; i++) {
    const struct copied *a =
        e->ids[i] != 0 ? find_run(runs, nruns, e->ids[i]) : NULL;

    if (a != NULL)
      flow(o, pid, "join", seq, a->tid, inside(a->e.ts, a->e.end, 1), c->tid,
           inside(e->ts, e->end, 1));
  }
}

/* Copies every ring's events (newest cap of each) into *@out, counting
 * those overwritten in *@lost. Called with trace->lock held. */
static int
collect_locked(struct trace *t, struct copied **out, size_t *n,
               unsigned long long *lost)
{
  size_t total = 0, k = 0;
  struct trace_ring *r;
  struct copied *v;

  FUTURES_ASSERT_OWNER(&t->lock);
  /* A bound taken before the copy: each ring holds at most cap. */
  for (r = t->rings; r != NULL; r = r->next)
    total += t->cap;
  v = futures__malloc((total != 0 ? total : 1) * sizeof(*v));
  if (v == NULL)
    return ENOMEM;
  *lost = atomic_load_explicit(&t->nomem, memory_order_relaxed);
  for (r = t->rings; r != NULL; r = r->next) {
    unsigned long long first;

    futures__mutex_lock(&r->lock);
    first = r->head > t->cap ? r->head - t->cap : 0;
    *lost += first + r->nomem;
    for (unsigned long long i = first; i < r->head; i++) {
      v[k].e = r->ev[i % t->cap];
      v[k++].tid = r->tid;
    }
    futures__mutex_unlock(&r->lock);
  }
  *out = v;
  *n = k;
  return 0;
}

int
futures__trace_write(struct sched *s, int fd)
{
  struct trace *t;
  struct copied *v;
  struct trace_ring *r;
  unsigned long long lost, seq = 0;
  size_t n, nruns = 0;
  struct out *o;
  int pid = (int)getpid(), rc;
  char name[16];

  t = s->trace;
  if ((o = futures__malloc(sizeof(*o))) == NULL)
    return ENOMEM;
  o->fd = fd;
  o->err = 0;
  o->used = 0;
  futures__mutex_lock(&t->lock);
  rc = collect_locked(t, &v, &n, &lost);
  if (rc != 0) {
    futures__mutex_unlock(&t->lock);
    futures__free(o);
    return rc;
  }
  /* Runs first, by record number, for find_run(). */
  for (size_t i = 0; i < n; i++)
    if (v[i].e.kind != EV_JOIN) {
      struct copied tmp = v[nruns];

      v[nruns++] = v[i];
      v[i] = tmp;
    }
  qsort(v, nruns, sizeof(*v), by_id);
  emit(o,
       "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"library\":"
       "\"libfutures\",\"version\":\"%s\",\"pool\":\"%s\",\"ring_events\":"
       "%zu,\"lost_events\":%llu},\n\"traceEvents\":[\n"
       "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,"
       "\"args\":{\"name\":\"libfutures pool %s\"}}",
       futures_version_string(), safe(name, s->name), t->cap, lost, pid, name);
  emit(o,
       ",\n{\"ph\":\"M\",\"name\":\"lost_events\",\"pid\":%d,\"tid\":0,"
       "\"args\":{\"count\":%llu}}",
       pid, lost);
  for (r = t->rings; r != NULL; r = r->next)
    emit(o,
         ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
         "\"args\":{\"name\":\"%s\"}}",
         pid, r->tid, safe(name, r->name));
  futures__mutex_unlock(&t->lock);
  for (size_t i = 0; i < n; i++) {
    if (v[i].e.kind == EV_JOIN)
      write_join(o, pid, &v[i], v, nruns, &seq);
    else
      write_run(o, pid, &v[i], v, nruns, &seq);
  }
  emit(o, "\n]}\n");
  flush(o);
  rc = o->err;
  futures__free(v);
  futures__free(o);
  return rc;
}
