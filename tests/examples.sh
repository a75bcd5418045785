#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs every program in examples/ and checks the lines of its output that
# do not depend on timing: results, outcomes, which source answered. The
# one timing check is the seed demo's, and it is generous: at SCALE 0.2
# (tasks of 200 ms and 100 ms) the parallel run must take at least 200 ms,
# the sequential one at least 300 ms, and parallel < 0.9 x sequential
# (about 0.67 expected).
# The event-loop examples print their result lines in the order their
# futures settle, which varies: each line is checked, not their order.
# uv_loop and glib_loop exist only when configure found libuv and GLib;
# otherwise they are reported as skipped, and the test does not fail.
# Environment: top_builddir (default .), EXEEXT (default empty),
# examples_have_uv and examples_have_glib (yes or no, from configure;
# default yes).
set -u

top_builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
LC_ALL=C
export LC_ALL
out=$(mktemp "${TMPDIR:-/tmp}/examples.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT INT TERM
fail=0
skips=
limit=120 # seconds; a hang fails the test instead of stalling make check

bad() {
  echo "FAIL: $*"
  sed 's/^/  | /' "$out"
  fail=1
}

# run NAME ARGS...: runs examples/NAME, which must exit 0.
run() {
  name=$1
  shift
  bin=$top_builddir/examples/$name$EXEEXT
  echo "== examples/$name $*"
  if [ ! -x "$bin" ]; then
    echo "FAIL: $bin not built"
    fail=1
    return 1
  fi
  if command -v timeout >/dev/null 2>&1; then
    timeout "$limit" "$bin" "$@" >"$out" 2>&1
  else
    "$bin" "$@" >"$out" 2>&1
  fi
  rc=$?
  sed 's/^/  /' "$out"
  if [ "$rc" -ne 0 ]; then
    bad "examples/$name exited with status $rc"
    return 1
  fi
  return 0
}

# line TEXT: the output has exactly this line.
line() {
  grep -Fqx -- "$1" "$out" || bad "$name: missing line: $1"
}

# skipped NAME WHY: the example was not built, for a reason found at
# configure time.
skipped() {
  echo "SKIP: examples/$1 ($2)"
  skips="$skips $1"
}

# like REGEX: the output has a line matching this basic regular expression.
like() {
  grep -qx -- "$1" "$out" || bad "$name: no line like: $1"
}

if run seed 0.2; then
  line "Sequential results: [Task 1 done, Task 2 done]"
  line "Parallel results: [Task 1 done, Task 2 done]"
  seq=$(sed -n 's/^Sequential: \([0-9.]*\) ms$/\1/p' "$out")
  par=$(sed -n 's/^Parallel: \([0-9.]*\) ms$/\1/p' "$out")
  if [ -z "$seq" ] || [ -z "$par" ]; then
    bad "seed: no timings"
  elif ! awk -v s="$seq" -v p="$par" \
    'BEGIN { exit !(p >= 200 && s >= 300 && p < 0.9 * s) }'; then
    bad "seed: sequential $seq ms, parallel $par ms; want parallel >= 200," \
      "sequential >= 300 and parallel < 0.9 x sequential"
  fi
fi

if run fetch_deadline; then
  line "fetching 6 sources, deadline 300 ms"
  line "deadline passed: 4 of 6 answered"
  line "cancelling source 1"
  line "cancelling source 4"
  for i in 0 2 3 5; do
    line "source $i: reply from source $i"
  done
  line "source 1: failed: cancelled"
  line "source 4: failed: cancelled"
fi

if run fork_join 25; then
  line "fib(25) = 75025 with 1 worker(s)"
  like "fib(25) = 75025 with [0-9][0-9]* worker(s)"
  [ "$(grep -c '^fib(25) = 75025 with' "$out")" -eq 2 ] ||
    bad "fork_join: want two fib lines"
fi

if run pipeline; then
  line '"4" -> 40'
  line '"forty-two" -> error: Bad message'
  line '"" -> error: No data available'
  line '"x7" -> -1'
fi

if run race; then
  line "race: mirror 1 won: fast mirror"
  line "any: mirror 1 answered first: secondary"
  line "any: every mirror failed: [0] Connection refused; [1] Connection refused; [2] Connection refused"
  line "parallel_for: sum of i*i for i < 1000000 = 333332833333500000"
fi

# loop_lines NAME: the lines every event-loop example prints.
loop_lines() {
  line "$1: watching 5 futures"
  line "square(3) = 9"
  line "square(4) = 16"
  line "square(-1) failed: Numerical argument out of domain"
  line "square(12) = 144"
  line "promise = 42"
  line "$1: 5 results received"
}

if run poll_loop; then
  loop_lines poll_loop
fi

if [ "${examples_have_uv:-yes}" = no ]; then
  skipped uv_loop "libuv not found at configure time"
elif run uv_loop; then
  loop_lines uv_loop
fi

if [ "${examples_have_glib:-yes}" = no ]; then
  skipped glib_loop "GLib not found at configure time"
elif run glib_loop; then
  loop_lines glib_loop
fi

if run callback_promise; then
  line "motd: Welcome to libfutures"
  line "all three: No such file or directory"
  line "config: threads=4"
  line "missing: error: No such file or directory"
  line "secret: error: Permission denied"
fi

if [ "$fail" -ne 0 ]; then
  echo "examples: FAILED"
  exit 1
fi
if [ -n "$skips" ]; then
  echo "examples: skipped (not built):$skips"
fi
echo "examples: every example built ran and printed what it should"
exit 0
