/* SPDX-License-Identifier: MIT */
/* Shared bench helpers; see bench_util.h for the contract of each one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#endif

#include "bench_util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "futures.h"

const char *bu_prog = "bench";

/* ------------------------------------------------------------ clock */

long long
bu_now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
bu_sleep_until_ns(long long deadline_ns)
{
  struct timespec ts;
  int rc;

  ts.tv_sec = (time_t)(deadline_ns / 1000000000LL);
  ts.tv_nsec = (long)(deadline_ns % 1000000000LL);
  /* An absolute deadline makes a retry after a signal lose no time. */
  do
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  while (rc == EINTR);
}

void
bu_sleep_ns(long long ns)
{
  bu_sleep_until_ns(bu_now_ns() + ns);
}

/* ------------------------------------------------------------ system */

size_t
bu_online_cpus(void)
{
  long n;

  /* Grow the mask until the kernel accepts it: hosts may have > 1024 CPUs. */
  for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
    cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
    size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
    int count;

    if (set == NULL)
      break;
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      count = CPU_COUNT_S(size, set);
      CPU_FREE(set);
      if (count > 0)
        return (size_t)count;
      break;
    }
    CPU_FREE(set);
    if (errno != EINVAL)
      break;
  }
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

double
bu_cpu_seconds(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

long
bu_peak_rss_kb(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss; /* Linux reports KiB */
}

long long
bu_rss_bytes(void)
{
  long long size, resident;
  FILE *f = fopen("/proc/self/statm", "r");
  int ok;

  if (f == NULL)
    return -1;
  ok = fscanf(f, "%lld %lld", &size, &resident) == 2;
  fclose(f);
  return ok ? resident * sysconf(_SC_PAGESIZE) : -1;
}

/* ------------------------------------------------------------ statistics */

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

static int
cmp_ll(const void *a, const void *b)
{
  long long x = *(const long long *)a, y = *(const long long *)b;

  return (x > y) - (x < y);
}

struct bu_summary
bu_summarize(double *v, size_t n)
{
  struct bu_summary s = {0, 0, 0, 0};
  double sum = 0;

  if (n == 0)
    return s;
  qsort(v, n, sizeof(*v), cmp_double);
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  s.min = v[0];
  s.max = v[n - 1];
  s.median = (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.mean = sum / (double)n;
  return s;
}

void
bu_sort_ll(long long *v, size_t n)
{
  qsort(v, n, sizeof(*v), cmp_ll);
}

long long
bu_percentile_ll(const long long *sorted, size_t n, double p)
{
  double rank = p / 100.0 * (double)n;
  size_t i;

  if (n == 0)
    return 0;
  /* Nearest rank: the smallest value with at least p % of samples <= it;
   * ceil() by hand keeps the benches off libm. */
  i = rank < 1 ? 1 : (size_t)rank;
  if ((double)i < rank)
    i++;
  return sorted[i - 1 < n ? i - 1 : n - 1];
}

/* ------------------------------------------------------------ options */

static const char *
opt_meta(const struct bu_opt *o)
{
  if (o->meta != NULL)
    return o->meta;
  switch (o->type) {
  case BU_OPT_LONG:
    return "N";
  case BU_OPT_DOUBLE:
    return "X";
  case BU_OPT_LIST:
    return "LIST";
  case BU_OPT_STRING:
    return "STR";
  case BU_OPT_FLAG:
    break;
  }
  return "";
}

static void
print_help(const char *usage, const char *epilog, const struct bu_opt *opts)
{
  printf("%s\n\nOptions:\n", usage);
  for (const struct bu_opt *o = opts; o->name != NULL; o++) {
    char left[64];

    if (o->type == BU_OPT_FLAG)
      snprintf(left, sizeof(left), "--%s", o->name);
    else
      snprintf(left, sizeof(left), "--%s %s", o->name, opt_meta(o));
    printf("  %-24s %s\n", left, o->help);
  }
  printf("  %-24s %s\n", "--help", "print this help and exit");
  if (epilog != NULL)
    printf("\n%s\n", epilog);
}

/* A count: "1000000", "1e6", "1M", "100k" (suffixes are powers of 1000). */
static int
parse_long(const char *s, long *out)
{
  char *end;
  double d;

  errno = 0;
  d = strtod(s, &end);
  if (end == s || errno != 0)
    return EINVAL;
  switch (*end) {
  case 'k':
  case 'K':
    d *= 1e3;
    end++;
    break;
  case 'm':
  case 'M':
    d *= 1e6;
    end++;
    break;
  case 'g':
  case 'G':
    d *= 1e9;
    end++;
    break;
  default:
    break;
  }
  if (*end != '\0' || d < -9e18 || d > 9e18 || d != (double)(long long)d)
    return EINVAL;
  *out = (long)d;
  return 0;
}

static int
list_push(struct bu_list *l, long v)
{
  long *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

  if (nv == NULL)
    return ENOMEM;
  l->v = nv;
  l->v[l->n++] = v;
  return 0;
}

int
bu_list_parse(const char *s, struct bu_list *l)
{
  char *copy = strdup(s), *save = NULL, *tok;
  int rc = 0;

  if (copy == NULL)
    return ENOMEM;
  bu_list_free(l);
  for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
       tok = strtok_r(NULL, ",", &save)) {
    char *dash = strchr(tok + 1, '-');
    long a, b;

    if (dash != NULL) {
      *dash = '\0';
      rc = parse_long(tok, &a);
      if (rc == 0)
        rc = parse_long(dash + 1, &b);
      if (rc == 0 && (a < 0 || b < a || b - a > 1000000))
        rc = EINVAL;
      for (long v = a; rc == 0 && v <= b; v++)
        rc = list_push(l, v);
    } else {
      rc = parse_long(tok, &a);
      if (rc == 0 && a < 0)
        rc = EINVAL;
      if (rc == 0)
        rc = list_push(l, a);
    }
  }
  free(copy);
  if (rc == 0 && l->n == 0)
    rc = EINVAL;
  return rc;
}

static int
set_value(const struct bu_opt *o, const char *val)
{
  char *end;

  switch (o->type) {
  case BU_OPT_LONG:
    return parse_long(val, (long *)o->dst);
  case BU_OPT_DOUBLE:
    errno = 0;
    *(double *)o->dst = strtod(val, &end);
    return (end == val || *end != '\0' || errno != 0) ? EINVAL : 0;
  case BU_OPT_STRING:
    *(const char **)o->dst = val;
    return 0;
  case BU_OPT_LIST:
    return bu_list_parse(val, (struct bu_list *)o->dst);
  case BU_OPT_FLAG:
    break;
  }
  return EINVAL;
}

int
bu_parse(int argc, char **argv, const char *usage, const char *epilog,
         const struct bu_opt *opts)
{
  int i;

  if (argc > 0 && argv[0] != NULL) {
    const char *slash = strrchr(argv[0], '/');

    bu_prog = slash != NULL ? slash + 1 : argv[0];
    /* libtool's in-tree wrapper runs the real binary as lt-<name>. */
    if (strncmp(bu_prog, "lt-", 3) == 0)
      bu_prog += 3;
  }
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i], *name, *val = NULL, *eq;
    const struct bu_opt *o;
    size_t len;

    if (strcmp(arg, "--") == 0)
      return i + 1;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      print_help(usage, epilog, opts);
      exit(0);
    }
    if (strncmp(arg, "--", 2) != 0)
      return i;
    name = arg + 2;
    eq = strchr(name, '=');
    len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    for (o = opts; o->name != NULL; o++)
      if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
        break;
    if (o->name == NULL) {
      fprintf(stderr, "%s: unknown option '%s' (try --help)\n", bu_prog, arg);
      exit(2);
    }
    if (o->type == BU_OPT_FLAG) {
      if (eq != NULL) {
        fprintf(stderr, "%s: --%s takes no value\n", bu_prog, o->name);
        exit(2);
      }
      *(int *)o->dst = 1;
    } else {
      if (eq != NULL)
        val = eq + 1;
      else if (i + 1 < argc)
        val = argv[++i];
      if (val == NULL || set_value(o, val) != 0) {
        fprintf(stderr, "%s: --%s needs %s %s (try --help)\n", bu_prog, o->name,
                val == NULL ? "a value" : "a valid value, not",
                val == NULL ? "" : val);
        exit(2);
      }
    }
    if (o->seen != NULL)
      *o->seen = 1;
  }
  return i;
}

void
bu_list_range(struct bu_list *l, long max)
{
  bu_list_free(l);
  for (long v = 1; v <= max; v++)
    if (list_push(l, v) != 0)
      bu_die("out of memory");
}

void
bu_list_one(struct bu_list *l, long v)
{
  bu_list_free(l);
  if (list_push(l, v) != 0)
    bu_die("out of memory");
}

void
bu_list_free(struct bu_list *l)
{
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

const char *
bu_list_str(const struct bu_list *l, char *buf, size_t size)
{
  size_t used = 0;

  if (size == 0)
    return buf;
  buf[0] = '\0';
  for (size_t i = 0; i < l->n && used < size; i++) {
    int w = snprintf(buf + used, size - used, "%s%ld", i ? "," : "", l->v[i]);

    if (w < 0)
      break;
    used += (size_t)w;
  }
  return buf;
}

/* ------------------------------------------------------------ reporting */

void
bu_report_init(struct bu_report *r, const char *bench, int csv)
{
  r->bench = bench;
  r->csv = csv;
  r->started = 0;
}

void
bu_header(struct bu_report *r, const char *workers, const char *tasks, int reps,
          int warmup)
{
  if (r->csv)
    return;
  printf("%s: workers %s, tasks %s, reps %d (+%d warm-up); %zu CPUs; "
         "libfutures %s\n",
         r->bench, workers, tasks, reps, warmup, bu_online_cpus(),
         futures_version_string());
  fflush(stdout);
}

/* Keeps 3-4 significant digits without exponents for the usual ranges. */
static void
fmt_value(char *buf, size_t size, double v)
{
  double a = v < 0 ? -v : v;

  if (a >= 1e6)
    snprintf(buf, size, "%.4g", v);
  else if (a >= 100)
    snprintf(buf, size, "%.1f", v);
  else if (a >= 10)
    snprintf(buf, size, "%.2f", v);
  else if (a >= 1 || a == 0)
    snprintf(buf, size, "%.3f", v);
  else
    snprintf(buf, size, "%.3g", v);
}

static void
start(struct bu_report *r)
{
  if (r->started)
    return;
  r->started = 1;
  if (r->csv)
    printf("bench,workload,metric,workers,n,median,min,max,unit\n");
  else
    printf("%-18s %-20s %7s %10s %10s %10s %10s  %s\n", "workload", "metric",
           "workers", "n", "median", "min", "max", "unit");
}

static void
row(struct bu_report *r, const char *workload, const char *metric, long workers,
    long long n, struct bu_summary s, const char *unit)
{
  start(r);
  if (r->csv) {
    printf("%s,%s,%s,%ld,%lld,%.6g,%.6g,%.6g,%s\n", r->bench, workload, metric,
           workers, n, s.median, s.min, s.max, unit);
  } else {
    char med[32], lo[32], hi[32];

    fmt_value(med, sizeof(med), s.median);
    fmt_value(lo, sizeof(lo), s.min);
    fmt_value(hi, sizeof(hi), s.max);
    printf("%-18s %-20s %7ld %10lld %10s %10s %10s  %s\n", workload, metric,
           workers, n, med, lo, hi, unit);
  }
  fflush(stdout);
}

void
bu_row(struct bu_report *r, const char *workload, const char *metric,
       long workers, long long n, double *v, size_t nv, const char *unit)
{
  row(r, workload, metric, workers, n, bu_summarize(v, nv), unit);
}

void
bu_row1(struct bu_report *r, const char *workload, const char *metric,
        long workers, long long n, double value, const char *unit)
{
  struct bu_summary s = {value, value, value, value};

  row(r, workload, metric, workers, n, s, unit);
}

void
bu_note(struct bu_report *r, const char *fmt, ...)
{
  va_list ap;

  if (r->csv)
    return;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

void
bu_row_stats(struct bu_report *r, const char *workload, long workers,
             const futures_stats_t *a, int ok_a, const futures_stats_t *b,
             int ok_b)
{
  unsigned long long done;

  if (ok_a != 0 || ok_b != 0 || b->completed <= a->completed)
    return;
  done = b->completed - a->completed;
  bu_row1(r, workload, "helped_pct", workers, (long long)done,
          100.0 * (double)(b->helped - a->helped) / (double)done, "%");
  bu_row1(r, workload, "stolen_pct", workers, (long long)done,
          100.0 * (double)(b->stolen - a->stolen) / (double)done, "%");
}

/* ------------------------------------------------------------ failure */

void
bu_die(const char *fmt, ...)
{
  va_list ap;

  fflush(stdout);
  fprintf(stderr, "%s: ", bu_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

const char *
bu_strerror(int code)
{
  static _Thread_local char buf[64];

  /* The GNU strerror_r may return a static string instead of filling buf. */
  return strerror_r(code, buf, sizeof(buf));
}

/* ------------------------------------------------------------ watchdog */

static atomic_int wd_stopped;
static double wd_timeout_s;
static int wd_idle_check;

static void *
watchdog_main(void *arg)
{
  long long t0 = bu_now_ns();
  double cpu_prev = bu_cpu_seconds();
  int idle = 0;

  (void)arg;
  for (;;) {
    double cpu, elapsed;

    bu_sleep_ns(500000000LL);
    if (atomic_load(&wd_stopped))
      return NULL;
    cpu = bu_cpu_seconds();
    elapsed = (double)(bu_now_ns() - t0) / 1e9;
    /* 6 half-second windows under 1 % of a core: every thread is blocked. */
    idle = (wd_idle_check && cpu - cpu_prev < 0.005) ? idle + 1 : 0;
    cpu_prev = cpu;
    if (idle >= 6) {
      fprintf(stderr,
              "%s: DEADLOCK: all threads blocked (<1%% CPU for 3 s) after "
              "%.1f s\n",
              bu_prog, elapsed);
      _exit(3);
    }
    if (wd_timeout_s > 0 && elapsed > wd_timeout_s) {
      fprintf(stderr, "%s: TIMEOUT: still running after %.0f s\n", bu_prog,
              wd_timeout_s);
      _exit(4);
    }
  }
}

void
bu_watchdog_start(double timeout_s, int idle_check)
{
  pthread_t t;

  if (timeout_s <= 0 && !idle_check)
    return;
  wd_timeout_s = timeout_s;
  wd_idle_check = idle_check;
  atomic_store(&wd_stopped, 0);
  if (pthread_create(&t, NULL, watchdog_main, NULL) == 0)
    pthread_detach(t);
}

void
bu_watchdog_stop(void)
{
  atomic_store(&wd_stopped, 1);
}
