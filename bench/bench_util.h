/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the bench binaries: a monotonic clock, sleeping to an
 * absolute deadline, summaries over repeats (median, min, max, percentile),
 * resource use from getrusage() and /proc, the CPU count, a small option
 * parser with --help, and one reporter that prints either a readable table
 * or CSV rows (bench,workload,metric,workers,n,median,min,max,unit).
 *
 * Nothing here knows about a particular workload; the benches own those.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>

#include "futures.h"

/* ------------------------------------------------------------ clock */

/* Nanoseconds on CLOCK_MONOTONIC. */
long long bu_now_ns(void);

/* Sleeps until @deadline_ns (CLOCK_MONOTONIC), retrying after signals. */
void bu_sleep_until_ns(long long deadline_ns);

/* Sleeps @ns nanoseconds measured from now, as bu_sleep_until_ns(). */
void bu_sleep_ns(long long ns);

/* ------------------------------------------------------------ system */

/* CPUs this process may run on (affinity mask), else the online count. */
size_t bu_online_cpus(void);

/* User plus system CPU seconds used so far by the whole process. */
double bu_cpu_seconds(void);

/* Peak resident set size of the process, in KiB (getrusage ru_maxrss). */
long bu_peak_rss_kb(void);

/* Current resident set size in bytes (/proc/self/statm); -1 if unknown. */
long long bu_rss_bytes(void);

/* ------------------------------------------------------------ statistics */

struct bu_summary {
  double median; /* mean of the two middle values for an even count */
  double min;
  double max;
  double mean;
};

/* Sorts @v (ascending) in place and summarises it; @n == 0 gives zeros. */
struct bu_summary bu_summarize(double *v, size_t n);

/* Sorts @v ascending. */
void bu_sort_ll(long long *v, size_t n);

/* Nearest-rank percentile (0 < @p <= 100) of an ascending array. */
long long bu_percentile_ll(const long long *sorted, size_t n, double p);

/* ------------------------------------------------------------ options */

enum bu_opt_type {
  BU_OPT_FLAG,   /* int, set to 1; takes no value */
  BU_OPT_LONG,   /* long; accepts k/M/G suffixes (x1000) and 1e6 forms */
  BU_OPT_DOUBLE, /* double */
  BU_OPT_STRING, /* const char * pointing into argv */
  BU_OPT_LIST    /* struct bu_list: "1,2,8" or ranges "1-4" */
};

/* A list of non-negative integers given on the command line. */
struct bu_list {
  size_t n;
  long *v; /* malloc'd; bu_list_free() */
};

struct bu_opt {
  const char *name; /* long name without the dashes, e.g. "reps" */
  enum bu_opt_type type;
  void *dst;        /* where the value goes; type as above */
  const char *meta; /* name of the value in --help, e.g. "N" */
  const char *help; /* one line */
  int *seen;        /* optional: set to 1 when the option was given */
};

/*
 * Parses --name VALUE and --name=VALUE for the options in @opts (terminated
 * by an entry whose name is NULL). --help and -h print @usage, then every
 * option with its help line, then @epilog, and exit 0. Bad input prints a
 * message and exits 2. Returns the index of the first non-option argument.
 */
int bu_parse(int argc, char **argv, const char *usage, const char *epilog,
             const struct bu_opt *opts);

/* Parses "1,2,8" or "1-4" into @l (replacing its values); 0 or EINVAL. */
int bu_list_parse(const char *s, struct bu_list *l);

/* Sets @l to the workers 1, 2, ... @max (the --scaling series). */
void bu_list_range(struct bu_list *l, long max);

/* Sets @l to the single value @v. */
void bu_list_one(struct bu_list *l, long v);

/* Frees the values of @l. */
void bu_list_free(struct bu_list *l);

/* Formats @l as "1,2,4" into @buf. */
const char *bu_list_str(const struct bu_list *l, char *buf, size_t size);

/* ------------------------------------------------------------ reporting */

struct bu_report {
  const char *bench; /* binary name: first CSV column */
  int csv;           /* print CSV rows instead of the table */
  int started;       /* the table's column line or the CSV header is out */
};

void bu_report_init(struct bu_report *r, const char *bench, int csv);

/*
 * The one header line of a run, in table mode only (CSV output holds
 * nothing but its column line and rows):
 *   <bench>: workers W, tasks T, reps R (+U warm-up); C CPUs; libfutures V
 */
void bu_header(struct bu_report *r, const char *workers, const char *tasks,
               int reps, int warmup);

/* One measurement: summarises (and sorts) @v[0..@nv) and prints the row. */
void bu_row(struct bu_report *r, const char *workload, const char *metric,
            long workers, long long n, double *v, size_t nv, const char *unit);

/* A measurement taken once: median, min and max are all @value. */
void bu_row1(struct bu_report *r, const char *workload, const char *metric,
             long workers, long long n, double value, const char *unit);

/* A free-text line under the table (table mode only; CSV drops it). */
void bu_note(struct bu_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Rows helped_pct and stolen_pct: of the tasks completed between the
 * snapshots @a and @b (futures_pool_stats()), the share a waiting thread ran
 * itself and the share a worker stole. Prints nothing if either snapshot
 * failed (@ok_a, @ok_b are the snapshot calls' return codes).
 */
void bu_row_stats(struct bu_report *r, const char *workload, long workers,
                  const futures_stats_t *a, int ok_a, const futures_stats_t *b,
                  int ok_b);

/* ------------------------------------------------------------ failure */

/* Prints "<bench>: <message>" to stderr and exits with status 1. */
void bu_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Dies with the call's text and strerror() when @rc (a library code) != 0. */
#define BU_CHECK(call)                                                         \
  do {                                                                         \
    int bu_rc_ = (call);                                                       \
    if (bu_rc_ != 0)                                                           \
      bu_die("%s:%d: %s: %s", __FILE__, __LINE__, #call, bu_strerror(bu_rc_)); \
  } while (0)

const char *bu_strerror(int code);

/* The program name used in messages (set by bu_parse()). */
extern const char *bu_prog;

/*
 * Starts a detached watchdog thread. After @timeout_s seconds (0: never) it
 * prints TIMEOUT and _exit(4)s; with @idle_check it also prints DEADLOCK and
 * _exit(3)s once the process has used under 1 % of a core for 3 s, which
 * only a compute-bound bench (fork_join) may ask for.
 */
void bu_watchdog_start(double timeout_s, int idle_check);

/* Tells the watchdog the measured part is over (before teardown). */
void bu_watchdog_stop(void);

#endif /* BENCH_UTIL_H */
