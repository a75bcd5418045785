#!/bin/sh
# SPDX-License-Identifier: MIT
#
# README says libfutures is C11 (plus POSIX, for the programs that call
# it): every program a reader copies must compile as it is shown with
# `$CC -std=c11 -pedantic`, warnings as errors. That covers the README
# snippets (tests/readme_snippets/), the man pages' EXAMPLES
# (man/examples/) and examples/, except the two that include libuv's or
# GLib's headers, which are not ours to hold to -pedantic. A program that
# calls POSIX (nanosleep, clock_gettime, pthreads) says so itself with
# `#define _POSIX_C_SOURCE 200809L` before its first #include, as README's
# "Building" section tells readers to; futures.h needs no feature macro.
# Environment: top_srcdir (default .), CC (default cc).
set -u

srcdir=${top_srcdir:-.}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_c11.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
flags="-std=c11 -pedantic -Werror -Wall -Wextra"

# The header alone, with no feature macro at all (a C11 program that only
# uses futures.h and futures_deadline_in()).
cat >"$tmp/header_only.c" <<'PROG'
#include <futures.h>
int
main(void)
{
  struct timespec d;
  return futures_deadline_in(1000, &d) != 0;
}
PROG

fail=0
n=0
for f in "$tmp/header_only.c" "$srcdir"/tests/readme_snippets/*.c \
  "$srcdir"/man/examples/*.c "$srcdir"/examples/*.c; do
  case $f in
  */examples/uv_loop.c | */examples/glib_loop.c) continue ;;
  esac
  [ -f "$f" ] || continue
  n=$((n + 1))
  # shellcheck disable=SC2086
  if ! out=$($cc $flags -I"$srcdir/include" -c -o "$tmp/out.o" "$f" 2>&1)
  then
    echo "FAIL: $f does not compile with $cc $flags:"
    printf '%s\n' "$out" | sed -n '1,10s/^/  /p'
    fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "PASS: $n programs compile with $cc $flags"
exit "$fail"
