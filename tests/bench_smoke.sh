#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke run of every bench binary with tiny counts: each must exit 0, print
# its one header line and its table, give well-formed CSV with --csv, and
# answer --help. Timings are not checked here (that is bench/, not tests/).
# Environment: top_builddir (default .), EXEEXT (default empty).
set -u

top_builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
out=$(mktemp "${TMPDIR:-/tmp}/bench_smoke.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT
fail=0
# Generous: a hung pool fails the test instead of stalling make check.
limit=120

bad() {
  echo "FAIL: $*"
  sed 's/^/  | /' "$out"
  fail=1
}

# table NAME ARGS...: the default output has the header line and a table.
table() {
  name=$1
  shift
  bin=$top_builddir/bench/$name$EXEEXT
  echo "== $name $*"
  if [ ! -x "$bin" ]; then
    echo "FAIL: $bin not built"
    fail=1
    return 1
  fi
  "$bin" --timeout "$limit" "$@" >"$out" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ]; then
    bad "$name $* exited with status $rc"
    return 1
  fi
  sed 's/^/  /' "$out"
  if ! grep -q "^$name: workers .*, tasks .*, reps " "$out"; then
    bad "$name: no header line"
    return 1
  fi
  if ! grep -q '^workload  *metric  *workers  *n  *median  *min  *max  *unit$' \
    "$out"; then
    bad "$name: no table"
    return 1
  fi
  return 0
}

# csv NAME ARGS...: nothing but the column line and rows of 9 fields.
csv() {
  name=$1
  shift
  bin=$top_builddir/bench/$name$EXEEXT
  echo "== $name --csv $*"
  "$bin" --timeout "$limit" --csv "$@" >"$out" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ]; then
    bad "$name --csv $* exited with status $rc"
    return 1
  fi
  if ! awk -F, -v b="$name" '
    NR == 1 { ok = ($0 == "bench,workload,metric,workers,n,median,min,max,unit"); next }
    NF != 9 || $1 != b || $6 + 0 != $6 || $7 + 0 != $7 || $8 + 0 != $8 { ok = 0 }
    END { exit !(ok && NR > 1) }' "$out"; then
    bad "$name: malformed CSV"
    return 1
  fi
  return 0
}

# help NAME: --help exits 0 and prints the usage.
help() {
  bin=$top_builddir/bench/$1$EXEEXT
  if ! "$bin" --help >"$out" 2>&1 || ! grep -q "^usage: $1" "$out"; then
    bad "$1 --help"
  fi
}

for b in seq_vs_par throughput latency fork_join fine_grained event_latency; do
  help "$b"
done

if table seq_vs_par --tasks 20,10 --reps 1; then
  if ! { grep -q '^Sequential: [0-9.]* ms$' "$out" &&
    grep -q '^Sequential results: \[Task 1 done, Task 2 done\]$' "$out" &&
    grep -q '^Parallel: [0-9.]* ms$' "$out" &&
    grep -q '^Parallel results: \[Task 1 done, Task 2 done\]$' "$out"; }; then
    bad "seq_vs_par: the four demo lines are missing"
  fi
fi
csv seq_vs_par --tasks 20,10,5 --threads 2 --reps 2
table seq_vs_par --timers --tasks 20,10 --reps 1
csv seq_vs_par --timers --tasks 20,10,5 --reps 2 --other-us 100

table throughput --n 1000 --reps 1 --threads 1,2
csv throughput --n 1000 --reps 2 --mode external --no-mem
table throughput --soak --soak-tasks 20000 --batch 1000 --every 10000 \
  --threads 2

table latency --n 1000 --reps 1 --threads 1,2 --idle-cpu --idle-secs 0.2
csv latency --n 500 --reps 2

table fork_join --fib 12 --reps 1 --threads 1,2
table fork_join --fib 10 --reps 1 --threads 1 --root-task
csv fork_join --n 10 --reps 2 --threads 2

table fine_grained --n 1000 --reps 1 --threads 1,2
csv fine_grained --n 1000 --reps 2 --spin-k 100

table event_latency --n 200 --reps 1 --sleep-us 50 --timer-n 5 \
  --delays-ms 1,2 --pending 50 --spread-ms 5
csv event_latency --n 100 --reps 2 --sleep-us 10 --timer-n 5 --delays-ms 1 \
  --pending 20,50 --spread-ms 5

if [ "$fail" -ne 0 ]; then
  echo "bench smoke: FAILED"
  exit 1
fi
echo "bench smoke: all benches ran"
exit 0
