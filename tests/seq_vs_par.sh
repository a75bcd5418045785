#!/bin/sh
# SPDX-License-Identifier: MIT
# The seed demo's timing checks, in both modes.
#
# --timeline draws both runs as a Gantt chart (checked below at 100 and
# 50 ms).
#
# Default mode: two tasks of 400 ms and 200 ms take about 600 ms awaited
# one by one and about 400 ms joined together. The margins cannot flake:
# the parallel run must beat 0.8 x sequential (480 ms against about 600),
# and neither run may finish before its tasks slept.
#
# --timers: the same two durations as timers (futures_after) followed by
# continuations, on a pool of one worker that runs a stream of other small
# tasks meanwhile. The parallel run must beat 0.9 x sequential (540 ms
# against about 600), neither run may end before its timers were due, the
# four demo lines must read exactly as the JavaScript seed prints them, and
# the one worker must have run other tasks during both runs (about a
# thousand run; one is enough to show the worker was not held).
# Environment: top_builddir (default .), EXEEXT (default empty).
set -u

top_builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
bin=$top_builddir/bench/seq_vs_par$EXEEXT
fail=0

if [ ! -x "$bin" ]; then
  echo "FAIL: $bin not built"
  exit 1
fi

# Default mode: CSV rows seq_ms and par_ms.
if ! out=$("$bin" --tasks 400,200 --reps 1 --csv --timeout 60); then
  echo "FAIL: seq_vs_par exited with an error"
  printf '%s\n' "$out"
  exit 1
fi
printf '%s\n' "$out"
seq=$(printf '%s\n' "$out" | awk -F, '$3 == "seq_ms" { print $6 }')
par=$(printf '%s\n' "$out" | awk -F, '$3 == "par_ms" { print $6 }')
if [ -z "$seq" ] || [ -z "$par" ]; then
  echo "FAIL: no seq_ms or par_ms row in the CSV"
  exit 1
fi
if awk -v s="$seq" -v p="$par" \
  'BEGIN { exit !(p < 0.8 * s && p >= 400 && s >= 600) }'; then
  echo "PASS: sequential $seq ms, parallel $par ms"
else
  echo "FAIL: sequential $seq ms, parallel $par ms; want parallel >= 400," \
    "sequential >= 600 and parallel < 0.8 x sequential"
  fail=1
fi

# --timeline, small: the sequential chart's two bars end to end (task 2's
# first column after task 1's last, wherever each ran), the parallel
# chart's side by side (on two lines, both from column 0 or 1: every
# task is submitted before the join, and the workers are idle).
if ! out=$("$bin" --tasks 100,50 --reps 1 --timeline --timeout 60); then
  echo "FAIL: seq_vs_par --timeline exited with an error"
  printf '%s\n' "$out"
  exit 1
fi
printf '%s\n' "$out"
if printf '%s\n' "$out" | awk '
  /^sequential: / { run = "seq"; next }
  /^parallel: / { run = "par"; next }
  run != "" && /^  [a-z]+( [0-9]+)? +\|/ {
    line[run]++
    row = substr($0, index($0, "|") + 1)
    for (d = 1; d <= 2; d++) {
      a = index(row, d)
      if (a == 0) continue
      z = a; while (substr(row, z + 1, 1) == d) z++
      first[run, d] = a; last[run, d] = z; lane[run, d] = line[run]
    }
    next
  }
  { run = "" }
  END {
    ok = first["seq", 1] && first["seq", 2] && first["par", 1] && first["par", 2]
    ok = ok && last["seq", 1] < first["seq", 2]
    ok = ok && lane["par", 1] != lane["par", 2]
    ok = ok && first["par", 1] <= 2 && first["par", 2] <= 2
    exit !ok
  }'; then
  echo "PASS: --timeline: sequential bars end to end, parallel side by side"
else
  echo "FAIL: --timeline: want the sequential bars end to end and the" \
    "parallel ones on two lines, both starting at once"
  fail=1
fi

# --timers: the table's demo lines.
if ! out=$("$bin" --timers --tasks 400,200 --reps 1 --timeout 60); then
  echo "FAIL: seq_vs_par --timers exited with an error"
  printf '%s\n' "$out"
  exit 1
fi
printf '%s\n' "$out"
for want in '^seq_vs_par: workers 1, tasks 2 timers ' \
  '^Sequential: [0-9][0-9.]* ms$' \
  '^Sequential results: \[Task 1 done, Task 2 done\]$' \
  '^Parallel: [0-9][0-9.]* ms$' \
  '^Parallel results: \[Task 1 done, Task 2 done\]$' \
  '^Meanwhile 1 worker ran other tasks of [0-9]* us: [0-9]* during the sequential run, [0-9]* during the parallel run$'; do
  if ! printf '%s\n' "$out" | grep -q "$want"; then
    echo "FAIL: --timers: no line matching '$want'"
    fail=1
  fi
done
seq=$(printf '%s\n' "$out" | sed -n 's/^Sequential: \([0-9.]*\) ms$/\1/p')
par=$(printf '%s\n' "$out" | sed -n 's/^Parallel: \([0-9.]*\) ms$/\1/p')
other=$(printf '%s\n' "$out" |
  sed -n 's/^Meanwhile .*: \([0-9]*\) during the sequential run, \([0-9]*\) during.*/\1 \2/p')
if [ -z "$seq" ] || [ -z "$par" ] || [ -z "$other" ]; then
  echo "FAIL: --timers: the demo lines could not be read"
  exit 1
fi
set -- $other
if awk -v s="$seq" -v p="$par" -v a="$1" -v b="$2" \
  'BEGIN { exit !(p < 0.9 * s && p >= 400 && s >= 600 && a >= 1 && b >= 1) }'; then
  echo "PASS: --timers on 1 worker: sequential $seq ms, parallel $par ms;" \
    "other tasks run meanwhile: $1 and $2"
else
  echo "FAIL: --timers: sequential $seq ms, parallel $par ms, other tasks" \
    "$1 and $2; want parallel >= 400, sequential >= 600, parallel <" \
    "0.9 x sequential and at least one other task during each run"
  fail=1
fi
exit "$fail"
