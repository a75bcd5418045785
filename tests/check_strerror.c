/* SPDX-License-Identifier: MIT */
/*
 * check_strerror: futures_strerror() gives the library's wording for the
 * codes the header overview gives a meaning of its own, strerror()'s text
 * for every other code, and a static string, never NULL, for anything.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *strerror_suite(void);

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

/* Codes the library does not reword: strerror()'s text, as the header
 * says (EINVAL and ENOMEM by name, and a few a task might return). */
static const int plain_codes[] = { 0, EINVAL, ENOMEM, EPERM, EIO, ERANGE,
                                   EEXIST };
enum { NPLAIN = sizeof(plain_codes) / sizeof(plain_codes[0]) };

/*
 * Each code with a meaning of the library's own reads with that meaning,
 * not strerror()'s (EALREADY is "Operation already in progress" there,
 * ESHUTDOWN "Cannot send after transport endpoint shutdown").
 */
START_TEST(test_strerror_library_codes_read_with_the_library_wording)
{
  for (int i = 0; i < NLIBRARY; i++) {
    const char *s = futures_strerror(library_codes[i].code);

    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strcmp(s, library_codes[i].text) == 0,
                  "code %d reads \"%s\", want \"%s\"", library_codes[i].code,
                  s, library_codes[i].text);
  }
}
END_TEST

/* Every other code reads as strerror() has it, 0 included. */
START_TEST(test_strerror_other_codes_read_as_strerror)
{
  for (int i = 0; i < NPLAIN; i++) {
    const char *s = futures_strerror(plain_codes[i]);

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, strerror(plain_codes[i]));
  }
}
END_TEST

/*
 * A negative code and one the C library does not know are "Unknown error",
 * never NULL; the extremes of int included.
 */
START_TEST(test_strerror_unknown_and_negative_codes_are_unknown_error)
{
  static const int odd[] = { -1, -EINVAL, INT_MIN, 100000, INT_MAX };

  for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
    const char *s = futures_strerror(odd[i]);

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "Unknown error");
  }
}
END_TEST

/*
 * The strings are static: a second call returns the same pointer, and what
 * it points to has not changed after calls for other codes (a shared
 * buffer, as strerror() may use for unknown codes, would be overwritten).
 */
START_TEST(test_strerror_returns_static_strings)
{
  const char *a = futures_strerror(EALREADY);
  const char *b = futures_strerror(EPERM);
  const char *u = futures_strerror(100000);

  (void)futures_strerror(100001);
  (void)futures_strerror(ESHUTDOWN);
  ck_assert_ptr_eq(futures_strerror(EALREADY), a);
  ck_assert_ptr_eq(futures_strerror(EPERM), b);
  ck_assert_ptr_eq(futures_strerror(100000), u);
  ck_assert_str_eq(a, "already settled");
  ck_assert_str_eq(u, "Unknown error");
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
    if (futures_strerror(plain_codes[i]) != expected_plain[i])
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
    expected_plain[i] = futures_strerror(plain_codes[i]);
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

  tcase_add_test(tc, test_strerror_library_codes_read_with_the_library_wording);
  tcase_add_test(tc, test_strerror_other_codes_read_as_strerror);
  tcase_add_test(tc, test_strerror_unknown_and_negative_codes_are_unknown_error);
  tcase_add_test(tc, test_strerror_returns_static_strings);
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
