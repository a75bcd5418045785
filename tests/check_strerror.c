/* SPDX-License-Identifier: MIT */
/*
 * check_strerror: futures_strerror() gives the library's wording for the
 * codes the header overview gives a meaning of its own, the C library's
 * untranslated text for every other code, and a static string, never NULL,
 * for anything.
 *
 * Each test of the "codes" TCase runs twice (a loop test over impls[]):
 * against the library's futures_strerror(), and against
 * futures_test_strerror_fallback(), lib/error.c built with the branch of a
 * C library without strerrordesc_np() (tests/strerror_fallback.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *strerror_suite(void);
const char *futures_test_strerror_fallback(int code);

/* The two builds of lib/error.c under test, by _i of the loop tests. */
static const struct {
  const char *name;
  const char *(*fn)(int);
} impls[] = {
  { "futures_strerror", futures_strerror },
  { "fallback", futures_test_strerror_fallback },
};
enum { NIMPLS = sizeof(impls) / sizeof(impls[0]) };

/* The header's list, code by code: what futures_strerror() must say. */
static const struct {
  int code;
  const char *text;
} library_codes[] = {
  { EAGAIN, "no thread could be started, or the queue is full" },
  { ESHUTDOWN, "pool is shutting down" },
  { ETIMEDOUT, "deadline passed" },
  { ECANCELED, "cancelled" },
  { ECHILD, "not in this process" },
  { EOWNERDEAD, "the task's thread exited" },
  { EDEADLK, "would wait for itself" },
  { ENOENT, "no future succeeded, or none is left" },
  { EINPROGRESS, "task is running" },
  { EALREADY, "already settled" },
  { EBUSY, "not finished yet" },
  { ENOTSUP, "not recorded by this pool" },
};
enum { NLIBRARY = sizeof(library_codes) / sizeof(library_codes[0]) };

/* Codes the library does not reword: the C library's untranslated text,
 * as the header says (EINVAL and ENOMEM by name, and a few a task might
 * return), spelled as glibc and the fallback's table spell it. */
static const struct {
  int code;
  const char *text;
} plain_codes[] = {
  { 0, "Success" },
  { EINVAL, "Invalid argument" },
  { ENOMEM, "Cannot allocate memory" },
  { EPERM, "Operation not permitted" },
  { EIO, "Input/output error" },
  { ERANGE, "Numerical result out of range" },
  { EEXIST, "File exists" },
};
enum { NPLAIN = sizeof(plain_codes) / sizeof(plain_codes[0]) };

/*
 * Each code with a meaning of the library's own reads with that meaning,
 * not strerror()'s (EALREADY is "Operation already in progress" there,
 * ESHUTDOWN "Cannot send after transport endpoint shutdown").
 */
START_TEST(test_strerror_library_codes_read_with_the_library_wording)
{
  for (int i = 0; i < NLIBRARY; i++) {
    const char *s = impls[_i].fn(library_codes[i].code);

    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strcmp(s, library_codes[i].text) == 0,
                  "%s: code %d reads \"%s\", want \"%s\"", impls[_i].name,
                  library_codes[i].code, s, library_codes[i].text);
  }
}
END_TEST

/*
 * Every other code reads with the C library's untranslated text, 0
 * included; the fallback's table has glibc's wording.
 */
START_TEST(test_strerror_other_codes_read_as_strerror)
{
  for (int i = 0; i < NPLAIN; i++) {
    const char *s = impls[_i].fn(plain_codes[i].code);

    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strcmp(s, plain_codes[i].text) == 0,
                  "%s: code %d reads \"%s\", want \"%s\"", impls[_i].name,
                  plain_codes[i].code, s, plain_codes[i].text);
  }
}
END_TEST

/*
 * A negative code and one the C library does not know are "Unknown error",
 * never NULL; the extremes of int included (strerror() would say "Unknown
 * error 100000" from a buffer of its own).
 */
START_TEST(test_strerror_unknown_and_negative_codes_are_unknown_error)
{
  static const int odd[] = { -1, -EINVAL, INT_MIN, 100000, INT_MAX };

  for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
    const char *s = impls[_i].fn(odd[i]);

    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strcmp(s, "Unknown error") == 0,
                  "%s: code %d reads \"%s\"", impls[_i].name, odd[i], s);
  }
}
END_TEST

/*
 * The strings are static: a second call returns the same pointer, and what
 * it points to has not changed after calls for other codes (a shared
 * buffer, as strerror() may use for unknown codes, would be overwritten).
 * Every code from -1 to 4096 is asked twice, unknown ones included.
 */
START_TEST(test_strerror_returns_static_strings)
{
  const char *(*fn)(int) = impls[_i].fn;
  const char *a = fn(EALREADY);
  const char *b = fn(EPERM);
  const char *u = fn(100000);

  (void)fn(100001);
  (void)fn(ESHUTDOWN);
  ck_assert_ptr_eq(fn(EALREADY), a);
  ck_assert_ptr_eq(fn(EPERM), b);
  ck_assert_ptr_eq(fn(100000), u);
  ck_assert_str_eq(a, "already settled");
  ck_assert_str_eq(u, "Unknown error");
  for (int code = -1; code <= 4096; code++) {
    const char *s = fn(code);

    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(fn(code + 1), fn(code + 1));
    ck_assert_ptr_eq(fn(code), s);
  }
}
END_TEST

/* The answer a thread got for an unknown code, read after it exited. */
static const char *exited_answer;

static void *
strerror_and_exit(void *arg)
{
  const char *(*fn)(int) = *(const char *(*const *)(int))arg;

  exited_answer = fn(4242);
  return NULL;
}

/*
 * The string outlives the thread that asked for it: strerror()'s buffer for
 * an unknown code is per thread, and glibc frees it at thread exit (ASan
 * reports the read below as a heap-use-after-free where it is returned).
 */
START_TEST(test_strerror_answer_outlives_the_asking_thread)
{
  pthread_t t;

  ck_assert_int_eq(
    pthread_create(&t, NULL, strerror_and_exit, (void *)&impls[_i].fn), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_ptr_nonnull(exited_answer);
  ck_assert_str_eq(exited_answer, "Unknown error");
}
END_TEST

/*
 * Where the fallback's table has a code, it has the C library's wording:
 * on glibc, every code from 0 to 4096 either reads as strerror() in the C
 * locale or, for a code the table leaves out, "Unknown error".
 */
START_TEST(test_strerror_fallback_agrees_with_the_c_library)
{
  int known = 0;

  for (int code = 0; code <= 4096; code++) {
    const char *s = futures_test_strerror_fallback(code);
    const char *lib = futures_strerror(code);

    if (strcmp(s, "Unknown error") == 0)
      continue;
    known++;
    ck_assert_msg(strcmp(s, lib) == 0, "code %d: fallback \"%s\", lib \"%s\"",
                  code, s, lib);
  }
  /* The POSIX codes: well over 60 of them on any system. */
  ck_assert_int_ge(known, 60);
}
END_TEST

/* Counts answers that differ from the single-threaded ones. */
static atomic_int strerror_bad;
static const char *expected_library[NLIBRARY];
static const char *expected_plain[NPLAIN];

static void
strerror_check_once(void)
{
  for (int i = 0; i < NLIBRARY; i++)
    if (futures_strerror(library_codes[i].code) != expected_library[i])
      atomic_fetch_add(&strerror_bad, 1);
  for (int i = 0; i < NPLAIN; i++)
    if (futures_strerror(plain_codes[i].code) != expected_plain[i])
      atomic_fetch_add(&strerror_bad, 1);
  if (strcmp(futures_strerror(-5), "Unknown error") != 0)
    atomic_fetch_add(&strerror_bad, 1);
}

static void
strerror_thread(void *arg, int i)
{
  (void)arg;
  (void)i;
  for (int k = 0; k < 2000; k++)
    strerror_check_once();
}

static void
strerror_expect(void)
{
  atomic_store(&strerror_bad, 0);
  for (int i = 0; i < NLIBRARY; i++)
    expected_library[i] = futures_strerror(library_codes[i].code);
  for (int i = 0; i < NPLAIN; i++)
    expected_plain[i] = futures_strerror(plain_codes[i].code);
}

/*
 * The Threads line: 4 threads call it 2000 times each, for every code of
 * the tables above; each answer is the same static pointer as the first.
 */
START_TEST(test_strerror_agrees_from_many_threads)
{
  int bad;

  strerror_expect();
  ck_assert_int_eq(tu_run_threads(4, strerror_thread, NULL), 0);
  bad = atomic_load(&strerror_bad);
  ck_assert_msg(bad == 0, "%d answers differed across threads", bad);
}
END_TEST

/* A task that fails with the library's own code for "already settled". */
static int
already_task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  strerror_check_once();
  return EALREADY;
}

/*
 * The In a task line, and the man page's warning: a task may call it, and
 * a task that returns one of the library's codes itself reads with the
 * library's wording, since a code does not say who produced it.
 */
START_TEST(test_strerror_in_a_task_reads_the_library_wording)
{
  enum { TASKS = 32 };
  futures_pool_t *pool;
  future_t *f[TASKS];
  int bad;

  strerror_expect();
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int i = 0; i < TASKS; i++)
    ck_assert_int_eq(futures_submit(pool, already_task, NULL, &f[i]), 0);
  for (int i = 0; i < TASKS; i++) {
    int rc = future_get(f[i], NULL);

    ck_assert_int_eq(rc, EALREADY);
    ck_assert_str_eq(futures_strerror(rc), "already settled");
    future_release(f[i]);
  }
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  bad = atomic_load(&strerror_bad);
  ck_assert_msg(bad == 0, "%d answers in tasks differed", bad);
}
END_TEST

Suite *
strerror_suite(void)
{
  Suite *s = suite_create("strerror");
  TCase *tc = tcase_create("codes");

  tcase_add_loop_test(
    tc, test_strerror_library_codes_read_with_the_library_wording, 0, NIMPLS);
  tcase_add_loop_test(tc, test_strerror_other_codes_read_as_strerror, 0,
                      NIMPLS);
  tcase_add_loop_test(
    tc, test_strerror_unknown_and_negative_codes_are_unknown_error, 0, NIMPLS);
  tcase_add_loop_test(tc, test_strerror_returns_static_strings, 0, NIMPLS);
  tcase_add_loop_test(tc, test_strerror_answer_outlives_the_asking_thread, 0,
                      NIMPLS);
  tcase_add_test(tc, test_strerror_fallback_agrees_with_the_c_library);
  suite_add_tcase(s, tc);
  tc = tcase_create("threads");
  tcase_add_test(tc, test_strerror_agrees_from_many_threads);
  tcase_add_test(tc, test_strerror_in_a_task_reads_the_library_wording);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(strerror_suite());
}
