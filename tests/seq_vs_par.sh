#!/bin/sh
# SPDX-License-Identifier: MIT
# The seed demo's one timing check: two tasks of 400 ms and 200 ms take
# about 600 ms awaited one by one and about 400 ms joined together. The
# margins cannot flake: the parallel run must beat 0.8 x sequential (480 ms
# against about 600), and neither run may finish before its tasks slept.
# Environment: top_builddir (default .), EXEEXT (default empty).
set -u

top_builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
bin=$top_builddir/bench/seq_vs_par$EXEEXT

if [ ! -x "$bin" ]; then
  echo "FAIL: $bin not built"
  exit 1
fi
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
  exit 0
fi
echo "FAIL: sequential $seq ms, parallel $par ms; want parallel >= 400," \
  "sequential >= 600 and parallel < 0.8 x sequential"
exit 1
