/* SPDX-License-Identifier: MIT */
/*
 * check_version: the version macros in futures.h, the version the linked
 * library reports, and the package version in configure.ac all agree.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "futures.h"
#include "testutil.h"

Suite *version_suite(void);

/*
 * FUTURES_VERSION_HEX packs one byte each for major, minor and patch, so
 * each component must fit in a byte for the packing to be reversible.
 */
START_TEST(test_version_hex_macro_packs_major_minor_patch)
{
  ck_assert_int_ge(FUTURES_VERSION_MAJOR, 0);
  ck_assert_int_le(FUTURES_VERSION_MAJOR, 255);
  ck_assert_int_ge(FUTURES_VERSION_MINOR, 0);
  ck_assert_int_le(FUTURES_VERSION_MINOR, 255);
  ck_assert_int_ge(FUTURES_VERSION_PATCH, 0);
  ck_assert_int_le(FUTURES_VERSION_PATCH, 255);
  ck_assert_uint_eq((FUTURES_VERSION_HEX >> 16) & 0xff, FUTURES_VERSION_MAJOR);
  ck_assert_uint_eq((FUTURES_VERSION_HEX >> 8) & 0xff, FUTURES_VERSION_MINOR);
  ck_assert_uint_eq(FUTURES_VERSION_HEX & 0xff, FUTURES_VERSION_PATCH);
}
END_TEST

/* The string macro spells the numeric macros as "MAJOR.MINOR.PATCH". */
START_TEST(test_version_string_macro_matches_numeric_macros)
{
  char want[32];

  snprintf(want, sizeof(want), "%d.%d.%d", FUTURES_VERSION_MAJOR,
           FUTURES_VERSION_MINOR, FUTURES_VERSION_PATCH);
  ck_assert_str_eq(FUTURES_VERSION_STRING, want);
}
END_TEST

/* The linked library reports the same hex version the header promises. */
START_TEST(test_version_function_matches_hex_macro)
{
  ck_assert_uint_eq(futures_version(), FUTURES_VERSION_HEX);
}
END_TEST

/*
 * futures_version_string() is never NULL, equals the header's string, and
 * is static: two calls return the same pointer.
 */
START_TEST(test_version_string_function_matches_macro_and_is_static)
{
  const char *s = futures_version_string();

  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, FUTURES_VERSION_STRING);
  ck_assert_ptr_eq(futures_version_string(), s);
}
END_TEST

/*
 * configure.ac is the single source of the version: PACKAGE_VERSION from
 * config.h must equal the header's string (and so the library's).
 */
START_TEST(test_version_matches_package_version_from_configure)
{
#ifdef PACKAGE_VERSION
  ck_assert_str_eq(PACKAGE_VERSION, FUTURES_VERSION_STRING);
  ck_assert_str_eq(PACKAGE_VERSION, futures_version_string());
#else
  ck_abort_msg("config.h did not define PACKAGE_VERSION "
               "(built without HAVE_CONFIG_H?)");
#endif
}
END_TEST

/* Counts the calls to the version functions that disagree with the macros. */
static atomic_int version_bad;

static void
version_check_once(void)
{
  const char *s = futures_version_string();

  if (futures_version() != FUTURES_VERSION_HEX || s == NULL ||
      strcmp(s, FUTURES_VERSION_STRING) != 0)
    atomic_fetch_add(&version_bad, 1);
}

static void
version_thread(void *arg, int i)
{
  (void)arg;
  (void)i;
  for (int k = 0; k < 1000; k++)
    version_check_once();
}

static int
version_task(void *arg, void **result)
{
  (void)arg;
  version_check_once();
  *result = NULL;
  return 0;
}

/*
 * The version functions are safe from any thread and inside tasks (their
 * Threads and In a task lines): 4 threads call them 1000 times each while
 * 64 tasks on a 2-worker pool call them too; every answer is the macros'.
 */
START_TEST(test_version_functions_agree_from_many_threads_and_tasks)
{
  enum { TASKS = 64 };
  futures_pool_t *pool;
  future_t *f[TASKS];
  int bad;

  atomic_store(&version_bad, 0);
  ck_assert_int_eq(futures_pool_create(&pool, 2), 0);
  for (int i = 0; i < TASKS; i++)
    ck_assert_int_eq(futures_submit(pool, version_task, NULL, &f[i]), 0);
  ck_assert_int_eq(tu_run_threads(4, version_thread, NULL), 0);
  ck_assert_int_eq(futures_join_all(f, TASKS, NULL), 0);
  for (int i = 0; i < TASKS; i++)
    future_release(f[i]);
  ck_assert_int_eq(futures_pool_destroy(pool), 0);
  bad = atomic_load(&version_bad);
  ck_assert_msg(bad == 0, "%d calls disagreed with the version macros", bad);
}
END_TEST

Suite *
version_suite(void)
{
  Suite *s = suite_create("version");
  TCase *tc = tcase_create("basic");

  tcase_add_test(tc, test_version_hex_macro_packs_major_minor_patch);
  tcase_add_test(tc, test_version_string_macro_matches_numeric_macros);
  tcase_add_test(tc, test_version_function_matches_hex_macro);
  tcase_add_test(tc, test_version_string_function_matches_macro_and_is_static);
  tcase_add_test(tc, test_version_matches_package_version_from_configure);
  tcase_add_test(tc, test_version_functions_agree_from_many_threads_and_tasks);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return tu_run_suite(version_suite());
}
