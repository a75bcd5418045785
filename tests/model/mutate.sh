#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Checks the checker: builds a model program against a copy of lib/ with
# one edit (a "mutant", typically a weakened memory order) and runs the
# named models, which should now fail. lib/ and tests/model/ themselves
# are never touched: the program is built from copies of both.
#
#   tests/model/mutate.sh FILE AFTER OLD NEW PROGRAM MODEL...
#       FILE is relative to lib/, or, starting with tests/model/, a file of
#       the models (a model's copy of code it cannot compile, such as
#       pool.c's destroy in foreign.cpp). The first line that contains OLD,
#       at or after the first line that contains AFTER (an empty AFTER: the
#       top of the file), has that OLD replaced by NEW (literal strings).
#       PROGRAM is a model program, tests/model/PROGRAM.cpp. Exit status 0
#       when a model failed (the mutant was caught), 1 when they all
#       passed, 2 on a usage or build error.
#   tests/model/mutate.sh -f LIST
#       every mutant of LIST (tests/model/mutants), one per line:
#       FILE|AFTER|OLD|NEW|PROGRAM|MODEL...; exit status 1 if any was
#       missed.
#
# Environment: top_srcdir (default: two levels up from this script), CXX
# (g++), MODEL_CXXFLAGS (the flags of make check-model), MODEL_LOG (a file
# for the failing models' reports; default /dev/null).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
CXX=${CXX:-g++}
MODEL_CXXFLAGS=${MODEL_CXXFLAGS:--std=gnu++17 -O2 -fno-sized-deallocation}
MODEL_LOG=${MODEL_LOG:-/dev/null}

one() {
  file=$1 after=$2 old=$3 new=$4 prog=$5
  shift 5
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/mutant.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cp -R "$top_srcdir/lib" "$tmp/lib"
  mkdir "$tmp/tests"
  cp -R "$top_srcdir/tests/model" "$tmp/tests/model"
  case $file in
  tests/model/*) dst=$file ;;
  *) dst=lib/$file ;;
  esac
  AFTER=$after OLD=$old NEW=$new awk '
    BEGIN { on = ENVIRON["AFTER"] == ""; done = 0 }
    !on && index($0, ENVIRON["AFTER"]) > 0 { on = 1 }
    on && !done && (i = index($0, ENVIRON["OLD"])) > 0 {
      $0 = substr($0, 1, i - 1) ENVIRON["NEW"] \
        substr($0, i + length(ENVIRON["OLD"]))
      done = 1
      print FILENAME ":" NR ": " $0 >"/dev/stderr"
    }
    { print }
    END { exit !done }' "$top_srcdir/$dst" >"$tmp/$dst" 2>"$tmp/where" || {
    echo "mutate: no '$old' after '$after' in $dst" >&2
    return 2
  }
  # shellcheck disable=SC2086 # MODEL_CXXFLAGS is a list of flags
  if ! $CXX $MODEL_CXXFLAGS -DFUTURES_MODEL -I"$tmp/lib" \
    -I"$top_srcdir/include" -I"$tmp/tests" \
    -o "$tmp/model" "$tmp/tests/model/$prog.cpp" </dev/null; then
    echo "mutate: the mutant of $dst does not build" >&2
    return 2
  fi
  echo "mutant: $(sed "s|^$top_srcdir/||" "$tmp/where" | tr -s ' ')"
  if "$tmp/model" "$@" </dev/null >"$tmp/out" 2>&1; then
    sed 's/^/  /' "$tmp/out"
    echo "  MISSED: every model passed"
    rc=1
  else
    grep -E '^[a-z-]+ \(' "$tmp/out" | sed 's/^/  /'
    # The failure: the line after Relacy's test name in the report.
    grep -m 1 -E '^(DATA RACE|USER ASSERT|ACCESS TO|MEMORY LEAK|DEADLOCK|LIVELOCK|[A-Z ]+ \()' \
      "$tmp/out" | sed 's/^/  relacy: /' || true
    echo "  caught"
    cat "$tmp/out" >>"$MODEL_LOG"
    rc=0
  fi
  rm -rf "$tmp"
  trap - EXIT
  return $rc
}

if [ "${1:-}" = -f ]; then
  [ $# -eq 2 ] || { echo "usage: $0 -f LIST" >&2; exit 2; }
  missed=0 total=0
  while IFS='|' read -r file after old new prog models; do
    case $file in '' | '#'*) continue ;; esac
    total=$((total + 1))
    # shellcheck disable=SC2086 # models is a list of names
    one "$file" "$after" "$old" "$new" "$prog" $models || {
      [ $? -eq 1 ] || exit 2
      missed=$((missed + 1))
    }
  done <"$2"
  echo "mutants: $((total - missed)) of $total caught"
  [ "$missed" -eq 0 ]
else
  [ $# -ge 6 ] || { sed -n '3,25s/^# \{0,1\}//p' "$0" >&2; exit 2; }
  one "$@"
fi
