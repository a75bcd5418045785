/* SPDX-License-Identifier: MIT */
/*
 * Latencies of completion that reaches a waiter with no task in between:
 *
 *   loop_roundtrip  an event-loop thread submits one empty task, watches
 *                   its future with a notifier and poll()s the notifier's
 *                   descriptor until the tag arrives; each submit-to-take
 *                   is timed (libuv's uv_queue_work + after_work_cb is the
 *                   same trip: the peers' bench_uv W3);
 *   promise_wake    a thread asleep in future_get() on a promise; another
 *                   resolves it; timed from just before future_resolve()
 *                   to the waiter's return;
 *   notifier_wake   a thread asleep in poll() on a notifier that watches a
 *                   promise; another resolves it; timed from just before
 *                   future_resolve() to poll()'s return.
 *
 * In the two wake modes the settler gives the waiter --sleep-us to fall
 * asleep (past the library's 20 us spin) before it settles, so what is
 * measured is the wake of a sleeping thread. Each rep reports the median
 * and the 99th percentile over --n trips; the table shows the median and
 * range of those over --reps.
 *
 * Timer lateness: how long after its deadline a timer fires, on
 * CLOCK_MONOTONIC, where the deadline is the clock read just before the
 * timer was asked for, plus its delay. Ours is a futures_after() timer
 * whose inline continuation (futures_then_inline(), run in the pool's
 * timer thread) reads the clock; libuv's is a uv_timer_t on a loop run by
 * a thread of its own, whose callback reads the clock (built when
 * configure found libuv). In each rep both run, ours first.
 *
 *   timer_one       one timer pending at a time, --timer-n of them for
 *                   each delay in --delays-ms, each asked for after the
 *                   last fired;
 *   timer_pending   for each count N in --pending, N timers asked for at
 *                   once, with delays spread evenly (in shuffled order)
 *                   over (S, 2S] for S = --spread-ms: creating them ends
 *                   before the first is due, so all N are pending when it
 *                   fires, and the last fires with none left. Besides the
 *                   lateness, create_ns is the cost of asking for one
 *                   (futures_after + futures_then_inline; uv_timer_init +
 *                   uv_update_time + uv_timer_start), and fire_cpu_ns the
 *                   CPU time the firing thread (the pool's timer thread;
 *                   the loop thread in uv_run) spent per timer: CPU time,
 *                   so a busy machine stretches it less than the lateness.
 *
 * libuv counts timers in whole milliseconds of a loop time it caches at
 * each turn of the loop; the bench refreshes that time (uv_update_time())
 * just before each uv_timer_start(), so that both libraries count the
 * delay from the same moment. A timer can then fire up to a millisecond
 * early (negative lateness, seen in min_us).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "futures.h"

#ifdef BENCH_WITH_UV
#include <uv.h>
#endif

static int
empty_task(void *arg, void **result)
{
  *result = arg;
  return 0;
}

/* ------------------------------------------------------------ loop */

static void
loop_roundtrip(futures_pool_t *pool, long n, long long *lat)
{
  futures_notifier_t *nt;

  BU_CHECK(futures_notifier_create(&nt));
  for (long i = 0; i < n; i++) {
    struct pollfd pf = {futures_notifier_fd(nt), POLLIN, 0};
    long long t0 = bu_now_ns();
    future_t *f;
    void *tag = NULL;

    BU_CHECK(futures_submit(pool, empty_task, NULL, &f));
    BU_CHECK(futures_notifier_watch(nt, f, f));
    while (futures_notifier_take(nt, &tag, 1) == 0)
      if (poll(&pf, 1, -1) < 0)
        bu_die("poll failed");
    lat[i] = bu_now_ns() - t0;
    if (tag != f)
      bu_die("trip %ld: wrong tag", i);
    future_release(f);
  }
  futures_notifier_destroy(nt);
}

/* ------------------------------------------------------------ wakes */

struct wake {
  int use_notifier;
  long n;
  long long sleep_ns;
  future_t *p;               /* this trip's promise */
  atomic_long armed;         /* trip i: the waiter is about to wait */
  atomic_long woke;          /* trip i: the waiter has returned */
  _Atomic(long long) t0, t1; /* settle and wake times of the trip */
  futures_notifier_t *nt;
};

static void *
waiter_main(void *arg)
{
  struct wake *w = arg;

  for (long i = 0; i < w->n; i++) {
    /* The settler made trip i's promise before arming it. */
    while (atomic_load(&w->armed) != i + 1)
      sched_yield();
    if (w->use_notifier) {
      struct pollfd pf = {futures_notifier_fd(w->nt), POLLIN, 0};
      void *tag;

      if (poll(&pf, 1, -1) < 0)
        bu_die("poll failed");
      atomic_store(&w->t1, bu_now_ns());
      while (futures_notifier_take(w->nt, &tag, 1) == 0)
        ;
    } else {
      BU_CHECK(future_get(w->p, NULL));
      atomic_store(&w->t1, bu_now_ns());
    }
    atomic_store(&w->woke, i + 1);
  }
  return NULL;
}

static void
wake_trips(int use_notifier, long n, long long sleep_ns, long long *lat)
{
  struct wake w;
  pthread_t th;

  memset(&w, 0, sizeof(w));
  w.use_notifier = use_notifier;
  w.n = n;
  w.sleep_ns = sleep_ns;
  if (use_notifier)
    BU_CHECK(futures_notifier_create(&w.nt));
  if (pthread_create(&th, NULL, waiter_main, &w) != 0)
    bu_die("pthread_create failed");
  for (long i = 0; i < n; i++) {
    future_t *p;

    BU_CHECK(futures_promise_create(&p));
    if (use_notifier)
      BU_CHECK(futures_notifier_watch(w.nt, p, p));
    w.p = p;
    atomic_store(&w.armed, i + 1);
    bu_sleep_ns(sleep_ns); /* the waiter falls asleep */
    atomic_store(&w.t0, bu_now_ns());
    BU_CHECK(future_resolve(p, NULL));
    /* Yield, not spin: a spinning settler would hold the CPU the
     * woken waiter is placed on until its time slice ends. */
    while (atomic_load(&w.woke) != i + 1)
      sched_yield();
    lat[i] = atomic_load(&w.t1) - atomic_load(&w.t0);
    future_release(p);
  }
  pthread_join(th, NULL);
  if (use_notifier)
    futures_notifier_destroy(w.nt);
}

/* ------------------------------------------------------------ timers */

/* The name of the bench pool's timer thread ("<pool name>-tm"). */
#define TIMER_THREAD "futures-tm"

/* One timer's deadline and how late it fired (both CLOCK_MONOTONIC ns). */
struct late {
  long long due;
  long long late;
};

/* The inline continuation: runs in the pool's timer thread as it fires. */
static int
late_then(void *arg, int code, void *value, void **result)
{
  struct late *l = arg;

  l->late = bu_now_ns() - l->due;
  (void)value;
  *result = NULL;
  return code;
}

/*
 * CPU time of the thread of this process named @name, in ns; -1 if there
 * is none. The pool's timer thread is not ours to hold a pthread_t of, so
 * it is found by name in /proc, and its CPU clock is the one Linux gives a
 * thread id: ((~tid) << 3) | 6, the clock pthread_getcpuclockid() returns.
 */
static long long
named_thread_cpu_ns(const char *name)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  long long ns = -1;

  if (d == NULL)
    return -1;
  while (ns < 0 && (e = readdir(d)) != NULL) {
    long tid = strtol(e->d_name, NULL, 10);
    char path[64], comm[32];
    FILE *f;

    if (tid <= 0)
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
    if ((f = fopen(path, "r")) == NULL)
      continue;
    if (fgets(comm, sizeof(comm), f) != NULL) {
      struct timespec ts;
      clockid_t cid = (clockid_t)((~(unsigned)tid << 3) | 6u);

      comm[strcspn(comm, "\n")] = '\0';
      if (strcmp(comm, name) == 0 && clock_gettime(cid, &ts) == 0)
        ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    fclose(f);
  }
  closedir(d);
  return ns;
}

/* Asks for one futures_after() timer of @delay_ns that records into @l. */
static void
lf_timer(futures_pool_t *pool, long long delay_ns, struct late *l,
         future_t **then)
{
  future_t *t;

  l->due = bu_now_ns() + delay_ns;
  BU_CHECK(futures_after(pool, delay_ns, &t));
  BU_CHECK(futures_then_inline(t, late_then, l, then));
  future_release(t); /* the continuation keeps the timer */
}

/* timer_one, ours: @n timers of @delay_ns, one pending at a time. */
static void
lf_one(futures_pool_t *pool, long long delay_ns, long n, long long *lat)
{
  for (long i = 0; i < n; i++) {
    struct late l = {0, 0};
    future_t *c;

    lf_timer(pool, delay_ns, &l, &c);
    BU_CHECK(future_get(c, NULL)); /* acquire: l.late is visible */
    future_release(c);
    lat[i] = l.late;
  }
}

/* timer_pending, ours: returns the cost of asking for one timer, in ns;
 * *@fire_cpu: the timer thread's CPU time per timer (-1: not found). */
static double
lf_pending(futures_pool_t *pool, const long long *delay_ns, long n,
           struct late *ls, future_t **cs, long long *lat, double *fire_cpu)
{
  long long cpu0 = named_thread_cpu_ns(TIMER_THREAD), cpu1;
  long long t0 = bu_now_ns();
  double create;

  for (long i = 0; i < n; i++)
    lf_timer(pool, delay_ns[i], &ls[i], &cs[i]);
  create = (double)(bu_now_ns() - t0) / (double)n;
  for (long i = 0; i < n; i++) {
    BU_CHECK(future_get(cs[i], NULL));
    future_release(cs[i]);
    lat[i] = ls[i].late;
  }
  cpu1 = named_thread_cpu_ns(TIMER_THREAD);
  *fire_cpu = cpu0 < 0 || cpu1 < 0 ? -1 : (double)(cpu1 - cpu0) / (double)n;
  return create;
}

#ifdef BENCH_WITH_UV
/* This thread's CPU time, in ns. */
static long long
own_cpu_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A libuv run: its loop lives in a thread of its own for the run. */
struct uvrun {
  uv_loop_t loop;
  int pending;               /* 0: timer_one; 1: timer_pending */
  long n, i;                 /* timers, and the next one to ask for */
  uint64_t ms;               /* timer_one: the delay */
  const long long *delay_ns; /* timer_pending: the delays (rounded up) */
  uv_timer_t *timers;        /* one (timer_one) or n */
  struct late *ls;           /* one per timer */
  long long *lat;
  double create_ns;
  double fire_cpu_ns; /* timer_pending: the loop thread's CPU per timer */
};

static void uv_one_cb(uv_timer_t *t);

/* Asks for timer @i with a delay of @ms, counted from now. */
static void
uv_ask(struct uvrun *u, uv_timer_t *t, struct late *l, uint64_t ms,
       uv_timer_cb cb)
{
  /* The loop's cached time, refreshed: the delay counts from here. */
  uv_update_time(&u->loop);
  l->due = bu_now_ns() + (long long)ms * 1000000LL;
  if (uv_timer_start(t, cb, ms, 0) != 0)
    bu_die("uv_timer_start failed");
}

static void
uv_one_cb(uv_timer_t *t)
{
  struct uvrun *u = t->data;

  u->lat[u->i] = bu_now_ns() - u->ls[0].due;
  if (++u->i < u->n)
    uv_ask(u, t, &u->ls[0], u->ms, uv_one_cb);
}

static void
uv_pending_cb(uv_timer_t *t)
{
  struct late *l = t->data;

  l->late = bu_now_ns() - l->due;
}

static void *
uv_main(void *arg)
{
  struct uvrun *u = arg;
  long nt = u->pending ? u->n : 1;

  if (uv_loop_init(&u->loop) != 0)
    bu_die("uv_loop_init failed");
  if (!u->pending) {
    u->i = 0;
    if (uv_timer_init(&u->loop, &u->timers[0]) != 0)
      bu_die("uv_timer_init failed");
    u->timers[0].data = u;
    uv_ask(u, &u->timers[0], &u->ls[0], u->ms, uv_one_cb);
  } else {
    long long t0 = bu_now_ns();

    for (long i = 0; i < u->n; i++) {
      /* libuv counts whole milliseconds: the delay rounded up. */
      uint64_t ms = (uint64_t)((u->delay_ns[i] + 999999) / 1000000);

      if (uv_timer_init(&u->loop, &u->timers[i]) != 0)
        bu_die("uv_timer_init failed");
      u->timers[i].data = &u->ls[i];
      uv_ask(u, &u->timers[i], &u->ls[i], ms, uv_pending_cb);
    }
    u->create_ns = (double)(bu_now_ns() - t0) / (double)u->n;
  }
  /* Returns once no timer is active: every one has fired. */
  u->fire_cpu_ns = (double)own_cpu_ns();
  uv_run(&u->loop, UV_RUN_DEFAULT);
  u->fire_cpu_ns = ((double)own_cpu_ns() - u->fire_cpu_ns) / (double)u->n;
  for (long i = 0; i < nt; i++)
    uv_close((uv_handle_t *)&u->timers[i], NULL);
  uv_run(&u->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&u->loop) != 0)
    bu_die("uv_loop_close: handles left");
  if (u->pending)
    for (long i = 0; i < u->n; i++)
      u->lat[i] = u->ls[i].late;
  return NULL;
}

/* Runs @u in a loop thread; returns the pending run's create_ns. */
static double
uv_timers(struct uvrun *u)
{
  pthread_t th;

  if (pthread_create(&th, NULL, uv_main, u) != 0)
    bu_die("pthread_create failed");
  pthread_join(th, NULL);
  return u->create_ns;
}
#endif /* BENCH_WITH_UV */

/* Summary of one rep's lateness, in microseconds. */
static void
late_summary(long long *lat, long n, double *med, double *p99, double *min)
{
  bu_sort_ll(lat, (size_t)n);
  *med = (double)bu_percentile_ll(lat, (size_t)n, 50) / 1000.0;
  *p99 = (double)bu_percentile_ll(lat, (size_t)n, 99) / 1000.0;
  *min = (double)lat[0] / 1000.0;
}

enum { LF, UV, NLIB };

/* Per library and rep: median, p99 and min lateness, create_ns and
 * fire_cpu_ns. */
#define NMETRIC 5
struct late_rows {
  double *v[NLIB][NMETRIC];
};

static void
late_rows_alloc(struct late_rows *r, long reps)
{
  for (int l = 0; l < NLIB; l++)
    for (int k = 0; k < NMETRIC; k++)
      if ((r->v[l][k] = calloc((size_t)reps, sizeof(double))) == NULL)
        bu_die("out of memory");
}

static void
late_rows_print(struct bu_report *rep, struct late_rows *r, const char *what,
                long long n, long reps, int with_create)
{
  static const char *const lib[NLIB] = {"", "uv_"};
  static const char *const metric[NMETRIC] = {"median_us", "p99_us", "min_us",
                                              "create_ns", "fire_cpu_ns"};
  static const char *const unit[NMETRIC] = {"us", "us", "us", "ns", "ns"};

  for (int l = 0; l < NLIB; l++) {
    char name[64];

#ifndef BENCH_WITH_UV
    if (l == UV)
      break;
#endif
    snprintf(name, sizeof(name), "%s%s", lib[l], what);
    for (int k = 0; k < (with_create ? NMETRIC : 3); k++)
      if (k != 4 || r->v[l][k][0] >= 0) /* fire_cpu_ns: -1: unmeasured */
        bu_row(rep, name, metric[k], 0, n, r->v[l][k], (size_t)reps, unit[k]);
  }
  for (int l = 0; l < NLIB; l++)
    for (int k = 0; k < NMETRIC; k++)
      free(r->v[l][k]);
}

/* timer_one for every delay: both libraries in each rep, ours first. */
static void
timer_one_mode(struct bu_report *rep, futures_pool_t *pool,
               const struct bu_list *delays, long n, long reps)
{
  long long *lat = malloc((size_t)n * sizeof(*lat));
  struct late one;

  if (lat == NULL)
    bu_die("out of memory");
  for (size_t d = 0; d < delays->n; d++) {
    long long ns = delays->v[d] * 1000000LL;
    struct late_rows rows;
    char what[32];

    late_rows_alloc(&rows, reps);
    for (long r = -1; r < reps; r++) { /* r == -1: warm-up, n / 10 */
      long trips = r < 0 ? (n / 10 > 0 ? n / 10 : 1) : n;

      lf_one(pool, ns, trips, lat);
      if (r >= 0)
        late_summary(lat, trips, &rows.v[LF][0][r], &rows.v[LF][1][r],
                     &rows.v[LF][2][r]);
#ifdef BENCH_WITH_UV
      {
        uv_timer_t t;
        struct uvrun u;

        memset(&u, 0, sizeof(u));
        u.n = trips;
        u.ms = (uint64_t)delays->v[d];
        u.timers = &t;
        u.ls = &one;
        u.lat = lat;
        uv_timers(&u);
        if (r >= 0)
          late_summary(lat, trips, &rows.v[UV][0][r], &rows.v[UV][1][r],
                       &rows.v[UV][2][r]);
      }
#else
      (void)one;
#endif
    }
    snprintf(what, sizeof(what), "timer_one_%ldms", delays->v[d]);
    late_rows_print(rep, &rows, what, n, reps, 0);
  }
  free(lat);
}

/* timer_pending for every count: both libraries in each rep. */
static void
timer_pending_mode(struct bu_report *rep, futures_pool_t *pool,
                   const struct bu_list *counts, long spread_ms, long reps)
{
  for (size_t c = 0; c < counts->n; c++) {
    long n = counts->v[c];
    long long spread = spread_ms * 1000000LL;
    long long *delay = malloc((size_t)n * sizeof(*delay));
    long long *lat = malloc((size_t)n * sizeof(*lat));
    struct late *ls = calloc((size_t)n, sizeof(*ls));
    future_t **cs = calloc((size_t)n, sizeof(*cs));
    unsigned long long x = 88172645463325252ULL; /* xorshift64 */
    struct late_rows rows;

    if (n < 1)
      bu_die("--pending: counts must be at least 1");
    if (!delay || !lat || !ls || !cs)
      bu_die("out of memory");
    /* (S, 2S] in steps of S / n, shuffled (Fisher-Yates). */
    for (long i = 0; i < n; i++)
      delay[i] = spread + spread * (i + 1) / n;
    for (long i = n - 1; i > 0; i--) {
      long j;
      long long tmp;

      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      j = (long)(x % (unsigned long long)(i + 1));
      tmp = delay[i];
      delay[i] = delay[j];
      delay[j] = tmp;
    }
    late_rows_alloc(&rows, reps);
    for (long r = -1; r < reps; r++) { /* r == -1: warm-up */
      double fire_cpu;
      double create = lf_pending(pool, delay, n, ls, cs, lat, &fire_cpu);

      if (r >= 0) {
        late_summary(lat, n, &rows.v[LF][0][r], &rows.v[LF][1][r],
                     &rows.v[LF][2][r]);
        rows.v[LF][3][r] = create;
        rows.v[LF][4][r] = fire_cpu;
      }
#ifdef BENCH_WITH_UV
      {
        struct uvrun u;

        memset(&u, 0, sizeof(u));
        u.pending = 1;
        u.n = n;
        u.delay_ns = delay;
        u.timers = calloc((size_t)n, sizeof(uv_timer_t));
        u.ls = ls;
        u.lat = lat;
        if (u.timers == NULL)
          bu_die("out of memory");
        create = uv_timers(&u);
        free(u.timers);
        if (r >= 0) {
          late_summary(lat, n, &rows.v[UV][0][r], &rows.v[UV][1][r],
                       &rows.v[UV][2][r]);
          rows.v[UV][3][r] = create;
          rows.v[UV][4][r] = u.fire_cpu_ns;
        }
      }
#endif
    }
    late_rows_print(rep, &rows, "timer_pending", n, reps, 1);
    free(delay);
    free(lat);
    free(ls);
    free(cs);
  }
}

/* ------------------------------------------------------------ main */

/* Mode "all", or @mode is a prefix of @name ("timer" selects both). */
static int
wanted(const char *mode, const char *name)
{
  return strcmp(mode, "all") == 0 || strncmp(mode, name, strlen(mode)) == 0;
}

int
main(int argc, char **argv)
{
  long n = 20000, reps = 5, threads = 2, sleep_us = 200;
  long timer_n = 200, spread_ms = 100;
  int csv = 0;
  double timeout = 0;
  const char *mode = "all";
  struct bu_list delays = {0, NULL}, pending = {0, NULL};
  const struct bu_opt opts[] = {
      {"n", BU_OPT_LONG, &n, "N", "trips per rep (wake modes: N / 10)", NULL},
      {"reps", BU_OPT_LONG, &reps, "R", "timed reps", NULL},
      {"threads", BU_OPT_LONG, &threads, "W", "pool workers (loop mode)", NULL},
      {"sleep-us", BU_OPT_LONG, &sleep_us, "US",
       "wake modes: time the waiter gets to fall asleep", NULL},
      {"timer-n", BU_OPT_LONG, &timer_n, "N",
       "timer_one: timers per delay per rep (default 200)", NULL},
      {"delays-ms", BU_OPT_LIST, &delays, "MS,MS,...",
       "timer_one: the delays (default 1,10)", NULL},
      {"pending", BU_OPT_LIST, &pending, "N,N,...",
       "timer_pending: timers asked for at once (default 100,1000,10000)",
       NULL},
      {"spread-ms", BU_OPT_LONG, &spread_ms, "S",
       "timer_pending: delays spread over (S, 2S] ms (default 100)", NULL},
      {"mode", BU_OPT_STRING, &mode, "M",
       "loop, promise, notifier, timer_one, timer_pending, timer (both) or "
       "all",
       NULL},
      {"csv", BU_OPT_FLAG, &csv, NULL, "CSV rows instead of a table", NULL},
      {"timeout", BU_OPT_DOUBLE, &timeout, "S",
       "abort after S seconds (0: never), so a hang fails", NULL},
      {NULL, 0, NULL, NULL, NULL, NULL}};
  struct bu_report rep;
  futures_pool_t *pool;
  const char *names[3] = {"loop_roundtrip", "promise_wake", "notifier_wake"};
  char nbuf[160], dbuf[64], pbuf[64];

  bu_parse(argc, argv,
           "usage: event_latency [options]\n\n"
           "Completion delivered into an event loop (notifier), wakes of\n"
           "threads asleep on a promise, in microseconds, and the lateness\n"
           "of timers (futures_after, and libuv's uv_timer when configure\n"
           "found libuv) with one or many pending.",
           NULL, opts);
  if (delays.n == 0 && bu_list_parse("1,10", &delays) != 0)
    bu_die("out of memory");
  if (pending.n == 0 && bu_list_parse("100,1000,10000", &pending) != 0)
    bu_die("out of memory");
  if (n < 10 || reps < 1 || threads < 1 || sleep_us < 0 || timer_n < 1 ||
      spread_ms < 1)
    bu_die("bad options");
  bu_watchdog_start(timeout, 0);
  BU_CHECK(futures_pool_create(&pool, (size_t)threads));
  bu_report_init(&rep, "event_latency", csv);
  snprintf(nbuf, sizeof(nbuf),
           "%ld (timers: %ld per delay of %s ms; %s pending over %ld-%ld ms)",
           n, timer_n, bu_list_str(&delays, dbuf, sizeof(dbuf)),
           bu_list_str(&pending, pbuf, sizeof(pbuf)), spread_ms, 2 * spread_ms);
  bu_header(&rep, "pool of --threads (loop, timers); none (wakes)", nbuf,
            (int)reps, 1);
  for (int m = 0; m < 3; m++) {
    long trips = m == 0 ? n : n / 10;
    long long *lat;
    double *med, *p99;

    if (!wanted(mode, names[m]))
      continue;
    lat = malloc((size_t)trips * sizeof(*lat));
    med = calloc((size_t)reps, sizeof(double));
    p99 = calloc((size_t)reps, sizeof(double));
    if (!lat || !med || !p99)
      bu_die("out of memory");
    for (long r = -1; r < reps; r++) { /* r == -1: warm-up */
      if (m == 0)
        loop_roundtrip(pool, trips, lat);
      else
        wake_trips(m == 2, trips, sleep_us * 1000LL, lat);
      if (r < 0)
        continue;
      bu_sort_ll(lat, (size_t)trips);
      med[r] = bu_percentile_ll(lat, (size_t)trips, 50) / 1000.0;
      p99[r] = bu_percentile_ll(lat, (size_t)trips, 99) / 1000.0;
    }
    bu_row(&rep, names[m], "median_us", m == 0 ? threads : 0, trips, med,
           (size_t)reps, "us");
    bu_row(&rep, names[m], "p99_us", m == 0 ? threads : 0, trips, p99,
           (size_t)reps, "us");
    free(lat);
    free(med);
    free(p99);
  }
  if (wanted(mode, "timer_one"))
    timer_one_mode(&rep, pool, &delays, timer_n, reps);
  if (wanted(mode, "timer_pending"))
    timer_pending_mode(&rep, pool, &pending, spread_ms, reps);
  if (wanted(mode, "timer_one") || wanted(mode, "timer_pending")) {
    bu_note(&rep, "timer_*: lateness = fire time - (clock before the ask "
                  "+ delay); min_us < 0: fired early");
#ifdef BENCH_WITH_UV
    bu_note(&rep,
            "uv_timer_*: libuv %s, a uv_timer_t on a loop thread; "
            "its delays in whole ms (pending: rounded up)",
            uv_version_string());
#else
    bu_note(&rep, "%s", "uv_timer_*: not built (configure found no libuv)");
#endif
  }
  BU_CHECK(futures_pool_destroy(pool));
  bu_list_free(&delays);
  bu_list_free(&pending);
  return 0;
}
