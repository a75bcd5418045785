/* SPDX-License-Identifier: MIT */
/*
 * strerror_fallback.c - lib/error.c built a second time, for
 * tests/check_strerror only, with the branch that systems without
 * strerrordesc_np() (glibc before 2.32, musl) take, under another name:
 * futures_test_strerror_fallback(). The suite runs every test against it
 * as well as against the library's futures_strerror(), so that the
 * fallback is tested on the systems that build the other branch.
 */
#define FUTURES_TEST_STRERROR_FALLBACK 1
#define futures_strerror futures_test_strerror_fallback
#include "../lib/error.c"
