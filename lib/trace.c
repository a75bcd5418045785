/* SPDX-License-Identifier: MIT */
/*
 * trace.c - layer 3: a pool's timeline (FUTURES_POOL_TRACE), written as
 * Chrome trace-event JSON by futures_pool_trace_write().
 *
 * Rings. Each thread that runs, cancels or joins a traced pool's records
 * owns one ring per pool: a fixed array of events (FUTURES_TRACE_EVENTS,
 * default TRACE_EVENTS_DEFAULT) where the newest event overwrites the
 * oldest. The ring is allocated at the thread's first event and linked
 * into the pool's list, which only grows until the trace is freed; a
 * thread that exits leaves its ring behind, so its events are still
 * written. The memory a trace holds is therefore bounded by the number of
 * threads that ever touched the pool, times the ring's size: a pool fed
 * by short-lived threads grows by one ring per thread (documented in the
 * header). A thread finds its ring through a one-entry thread-local cache
 * keyed by the pool's id, which no later pool reuses, so a stale entry
 * never matches; a thread alternating between two traced pools misses it
 * each time and pays a walk of the list under trace->lock (a cost, not an
 * error). A thread that only submits gets a ring with no array: its name
 * and thread id, for the submits drawn on it. A fork() child forgets the
 * cache and its thread's id (futures__trace_atfork_child()).
 *
 * Lifetime. The trace is reference counted: the pool holds one reference,
 * dropped by pool_free(), and each join being drawn holds one from its
 * begin to its end, so a join never keeps the pool itself alive and
 * destroy never waits for one (see futures__trace_join_begin()). The last
 * reference frees the rings.
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
  /* Protected by the trace's lock: the writer's count of this ring's
   * events, taken before it sizes its copy (collect_locked()). */
  size_t snap;
};

struct trace {
  /* Immutable after create. */
  size_t cap;                 /* events per ring */
  unsigned long long pool_id; /* the pool's s->id: the cache's key */
  unsigned long gen;          /* the pool's s->gen: its fork generation */
  /* Atomic (relaxed: numbering only needs uniqueness). */
  _Atomic(unsigned long long) next_id;
  _Atomic(unsigned long long) nomem; /* events lost: no ring */
  /* Atomic: references (the pool's, and one per join being drawn). */
  _Atomic(unsigned long) refs;
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

/* FUTURES_TRACE_EVENTS: decimal digits only (no sign, no space), from
 * TRACE_EVENTS_MIN to TRACE_EVENTS_MAX; anything else, unset or empty is
 * TRACE_EVENTS_DEFAULT. (strtoul() would take a sign, leading spaces, and
 * saturate on overflow.) */
static size_t
ring_events(void)
{
  const char *v = getenv("FUTURES_TRACE_EVENTS");
  size_t n = 0;

  if (v == NULL || *v == '\0')
    return TRACE_EVENTS_DEFAULT;
  for (; *v != '\0'; v++) {
    if (*v < '0' || *v > '9')
      return TRACE_EVENTS_DEFAULT;
    n = n * 10 + (size_t)(*v - '0');
    if (n > TRACE_EVENTS_MAX) /* also stops any overflow */
      return TRACE_EVENTS_DEFAULT;
  }
  return n < TRACE_EVENTS_MIN ? TRACE_EVENTS_DEFAULT : n;
}

int
futures__trace_create(struct sched *s)
{
  struct trace *t = futures__calloc(1, sizeof(*t));

  if (t == NULL)
    return ENOMEM;
  t->cap = ring_events();
  t->pool_id = s->id;
  t->gen = s->gen;
  atomic_init(&t->next_id, 0);
  atomic_init(&t->nomem, 0);
  atomic_init(&t->refs, 1);
  futures__mutex_init(&t->lock);
  s->trace = t;
  return 0;
}

static void
trace_unref(struct trace *t)
{
  struct trace_ring *r, *next;

  /* Acq_rel: every reference's puts happen before the free (told to
   * helgrind too, which does not see an atomic count order them). */
  FUTURES_HAPPENS_BEFORE(&t->refs);
  if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
    return;
  FUTURES_HAPPENS_AFTER(&t->refs);
  for (r = t->rings; r != NULL; r = next) {
    next = r->next;
    futures__mutex_destroy(&r->lock);
    futures__free(r->ev);
    futures__free(r);
  }
  futures__mutex_destroy(&t->lock);
  futures__free(t);
}

void
futures__trace_destroy(struct sched *s)
{
  struct trace *t = s->trace;

  if (t == NULL)
    return;
  s->trace = NULL;
  trace_unref(t); /* a join still being drawn frees it at its end */
}

void
futures__trace_atfork_child(void)
{
  /* The forking thread's id is not the child's; its cached ring belongs
   * to a trace the child cannot write. */
  memset(&me, 0, sizeof(me));
}

/* This thread's ring in @t, registered at the first call; NULL when out
 * of memory. */
static struct trace_ring *
my_ring(struct trace *t)
{
  struct trace_ring *r;

  if (likely(me.sched_id == t->pool_id))
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
    me.sched_id = t->pool_id;
    me.ring = r;
  }
  return r;
}

/* Appends @e to this thread's ring in @t, overwriting the oldest when
 * full. */
static void
put(struct trace *t, const struct trace_event *e)
{
  struct trace_ring *r = my_ring(t);
  struct trace_event *ev = NULL;

  if (r == NULL) {
    atomic_fetch_add_explicit(&t->nomem, 1, memory_order_relaxed);
    return;
  }
  /* Only this thread sets r->ev, so it may read it unlocked; the array is
   * allocated outside the lock, where a writer copying may wait for it. */
  if (r->ev == NULL && t->cap <= SIZE_MAX / sizeof(*ev))
    ev = futures__malloc(t->cap * sizeof(*ev));
  futures__mutex_lock(&r->lock);
  if (r->ev == NULL)
    r->ev = ev;
  if (r->ev != NULL)
    r->ev[r->head++ % t->cap] = *e;
  else
    r->nomem++;
  futures__mutex_unlock(&r->lock);
}

/* @t is a trace of the fork() parent's: its writer may have held a lock
 * of it at the fork. */
static int
stale(const struct trace *t)
{
  return unlikely(futures__forked()) &&
         t->gen !=
             atomic_load_explicit(&futures__fork_gen, memory_order_relaxed);
}

void
futures__trace_submit(struct sched *s, struct future *f)
{
  struct future_tracing *tr = futures__record_tracing(f);
  struct trace_ring *r = my_ring(s->trace);

  tr->id =
      atomic_fetch_add_explicit(&s->trace->next_id, 1, memory_order_relaxed) +
      1;
  tr->submit_tid = r != NULL ? r->tid : 0;
  if (r == NULL) /* the submit's mark is lost */
    atomic_fetch_add_explicit(&s->trace->nomem, 1, memory_order_relaxed);
}

void
futures__trace_run(struct sched *s, struct future *f, int code, int helped,
                   int unrun)
{
  uint32_t st = atomic_load_explicit(&f->state, memory_order_relaxed);
  const struct future_times *t = futures__record_times(f);
  const struct future_tracing *tr = futures__record_tracing(f);
  struct trace_event e;

  if (stale(s->trace))
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
  if ((st & F_CONT) && futures__record_x(f)->ante != NULL) {
    struct future *a = futures__record_x(f)->ante;
    uint32_t as = atomic_load_explicit(&a->state, memory_order_relaxed);

    if ((as & F_TIMED) && !(as & F_NOPOOL) && a->sched == s)
      e.ante = futures__record_tracing(a)->id;
  }
  put(s->trace, &e);
}

/* 1 if @st (@f's state) is that of a traced pool's record not known to
 * be DONE: its number is not 0 (futures__record_init() clears it, and
 * futures__trace_submit() gives one from 1). */
static int
traced_pending(struct future *f, uint32_t st)
{
  return (st & F_TIMED) && !(st & F_NOPOOL) && (st & F_PHASE) != F_DONE &&
         futures__record_tracing(f)->id != 0;
}

/*
 * The join's slice must not make destroy wait, so nothing is pinned
 * across the wait; the slice holds a reference to the trace instead,
 * which outlives the pool if need be. The interleavings with destroy of
 * the pool P of the chosen record f:
 *
 * - begin pins P and then checks that f is not DONE (futures__pin()): if
 *   it is not, destroy's drain (which makes f DONE) has not ended, so its
 *   scan for pins sees ours and P, P->trace and the pool's reference to
 *   the trace stay valid until we unpin. Under the pin we only read
 *   P->trace and P->gen and take a reference: destroy waits at most for
 *   those few instructions, never for the join's wait (no hang, and no
 *   self-deadlock when the joining thread itself destroys P while it
 *   helps another pool's task).
 * - If f is DONE, pinning fails and the next traced record is tried;
 *   with none left, nothing is drawn (the join does not wait on P).
 * - The reference is taken while the pool's own is held (P is alive), so
 *   the count never goes from 0 back up.
 * - end puts the slice into the trace through the reference, whether P
 *   still exists or not; if P was destroyed meanwhile, the slice is in a
 *   trace nobody can write any more and the last reference, ours or the
 *   pool's, frees it (pool_free() never waits).
 * - A fork() child of a thread inside the join (a task it helped forked)
 *   drops the slice at end: the parent's trace locks may be held.
 *
 * join_start() is begin's work from fs[@i], the first traced record seen
 * unfinished: out of line, so that a join with none (a TIMING-only
 * pool's) pays only the scan in futures__trace_join_begin().
 */
static void __attribute__((noinline))
join_start(struct trace_join *j, future_t *const fs[], size_t n, size_t i)
{
  struct sched *s = NULL;

  for (; i < n; i++) {
    struct future *f = fs[i];
    uint32_t st = atomic_load_explicit(&f->state, memory_order_relaxed);
    int pin;

    /* A TIMING-only pool's record has number 0: no pin for it. */
    if (!traced_pending(f, st))
      continue;
    if ((pin = futures__pin(f->sched, f)) < 0)
      continue; /* DONE by now */
    s = f->sched;
    if (s->trace != NULL && !stale(s->trace)) {
      j->t = s->trace;
      /* Relaxed: the pool's reference, held, keeps it above 0. */
      atomic_fetch_add_explicit(&j->t->refs, 1, memory_order_relaxed);
    }
    futures__unpin(pin);
    break;
  }
  if (j->t == NULL)
    return;
  j->n = n;
  for (i = 0; i < TRACE_JOIN_IDS; i++) {
    struct future *f = i < n ? fs[i] : NULL;
    uint32_t st =
        f != NULL ? atomic_load_explicit(&f->state, memory_order_relaxed) : 0;

    /* Numbers of this pool's records only; 0 for the others (a record
     * that is DONE may have a freed pool: its sched is only compared). */
    j->ids[i] = (st & F_TIMED) && !(st & F_NOPOOL) && f->sched == s
                    ? futures__record_tracing(f)->id
                    : 0;
  }
  j->start = futures__now_ns();
}

void
futures__trace_join_begin(struct trace_join *j, future_t *const fs[], size_t n)
{
  j->t = NULL;
  for (size_t i = 0; i < n; i++) {
    struct future *f = fs[i];

    if (traced_pending(f,
                       atomic_load_explicit(&f->state, memory_order_relaxed))) {
      join_start(j, fs, n, i);
      return;
    }
  }
}

/* The slice itself, out of line: a join with nothing to draw (a
 * TIMING-only pool's) pays only the test in futures__trace_join_end(). */
static void __attribute__((noinline)) join_put(struct trace_join *j)
{
  struct trace_event e;

  if (!stale(j->t)) {
    memset(&e, 0, sizeof(e));
    e.kind = EV_JOIN;
    e.ts = j->start;
    e.end = futures__now_ns();
    e.id = j->n;
    memcpy(e.ids, j->ids, sizeof(e.ids));
    put(j->t, &e);
  }
  trace_unref(j->t);
}

void
futures__trace_join_end(struct trace_join *j)
{
  if (j->t != NULL)
    join_put(j);
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

/* @src as a JSON string's content, in ASCII: quotes, backslashes, control
 * characters and every byte from 0x80 become '_' (thread and pool names
 * are at most 15 bytes, cut anywhere, even inside a UTF-8 character, and
 * may hold any byte: the JSON stays valid UTF-8). */
static const char *
safe(char dst[16], const char *src)
{
  size_t i;

  for (i = 0; i < 15 && src[i] != '\0'; i++) {
    unsigned char c = (unsigned char)src[i];

    dst[i] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\' ? '_' : (char)c;
  }
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

/* Events @r holds, under its lock. */
static size_t
held_locked(const struct trace *t, struct trace_ring *r)
{
  FUTURES_ASSERT_OWNER(&r->lock);
  return r->ev == NULL ? 0 : r->head < t->cap ? (size_t)r->head : t->cap;
}

/* Copies every ring's events (newest cap of each) into *@out, counting
 * those overwritten in *@lost. Called with trace->lock held. The copy is
 * sized by the events the rings hold (counted in r->snap first), not by
 * rings x cap: a ring with no events, a submitter's or a dead thread's
 * that ran little, costs nothing. An owner may add events between the
 * count and the copy; a ring gives at most its count, the newest ones,
 * and those left out are written next time (they are not lost). */
static int
collect_locked(struct trace *t, struct copied **out, size_t *n,
               unsigned long long *lost)
{
  size_t total = 0, k = 0;
  struct trace_ring *r;
  struct copied *v;

  FUTURES_ASSERT_OWNER(&t->lock);
  for (r = t->rings; r != NULL; r = r->next) {
    futures__mutex_lock(&r->lock);
    r->snap = held_locked(t, r);
    futures__mutex_unlock(&r->lock);
    if (r->snap > SIZE_MAX - total)
      return ENOMEM;
    total += r->snap;
  }
  if (total > SIZE_MAX / sizeof(*v) - 1)
    return ENOMEM;
  v = futures__malloc((total != 0 ? total : 1) * sizeof(*v));
  if (v == NULL)
    return ENOMEM;
  *lost = atomic_load_explicit(&t->nomem, memory_order_relaxed);
  for (r = t->rings; r != NULL; r = r->next) {
    unsigned long long first;
    size_t held;

    futures__mutex_lock(&r->lock);
    held = held_locked(t, r);
    *lost += r->head - held + r->nomem;
    first = r->head - (held < r->snap ? held : r->snap);
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
