#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare.sh - run our benches and the peers' side by side, pair by pair.
#
# For each workload and each peer, our bench runs and then the peer's, one
# right after the other in this session, with the same task count, the same
# NTHREADS and the same SPIN_K; each process does REPS timed runs and
# reports median [min-max]. The machine is noisy, so the ratio inside a pair
# is the figure that counts. Prints one markdown table; raw output stays in
# $OUT.
#
# Usage: bench/compare.sh            (from a source or build tree)
# Environment (defaults in brackets):
#   BUILDDIR   build tree holding bench/<name> [the repository root]
#   PEERS_DIR  the peers' folder [<repo>/../shared/peers]
#   PEERS      peers to pair with: naive tbb omp glib uv (also cxxpool asio
#              apr async) [naive tbb omp glib uv]
#   WORKLOADS  w1 w2 w3 w4 w5 [all five; w1 sleeps 2.5 s per rep]
#   REPS [5]  NTHREADS [2]  N2 [1000000]  N3 [100000]  N5 [200000]
#   FIBNS ["25 30"]  SPIN_K [from `floors calib`]  OUT [a new temp folder]
#   TIMEOUT    seconds per process [300]
#   FRAMES     1: with w4, also our fork-join on caller-owned frames
#              (fork_join --mode frames) paired with Lace's fib, when the
#              peers' folder has Lace (lace/) [1]
#   W2_FLAGS   extra options for our W2 run, e.g. --pool-batch (workers
#              take up to 8 queued tasks at once: FUTURES_POOL_BATCH) []
#   WARMUP_PAIR  1: run the first pair once more before the others, both
#              sides, and drop its figures (see below) [1]
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PEERS_DIR=${PEERS_DIR:-"$here/../../shared/peers"}
BUILDDIR=${BUILDDIR:-$top}
PEERS=${PEERS:-"naive tbb omp glib uv"}
WORKLOADS=${WORKLOADS:-"w1 w2 w3 w4 w5"}
REPS=${REPS:-5}
NTHREADS=${NTHREADS:-2}
N2=${N2:-1000000}
W2_FLAGS=${W2_FLAGS:-}
N3=${N3:-100000}
N5=${N5:-200000}
FIBNS=${FIBNS:-"25 30"}
TIMEOUT=${TIMEOUT:-300}

die() {
  echo "compare.sh: $*" >&2
  exit 1
}

[ -d "$PEERS_DIR" ] || die "no peers folder at $PEERS_DIR (set PEERS_DIR)"
PEERS_DIR=$(cd "$PEERS_DIR" && pwd)
BUILDDIR=$(cd "$BUILDDIR" && pwd) || die "BUILDDIR does not exist"
for b in seq_vs_par throughput latency fork_join fine_grained; do
  [ -x "$BUILDDIR/bench/$b" ] ||
    die "$BUILDDIR/bench/$b is not built (run make, or set BUILDDIR)"
done
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")}
mkdir -p "$OUT" || die "cannot create $OUT"

targets=floors
for p in $PEERS; do targets="$targets bench_$p"; done
with_lace=0
case " $WORKLOADS " in
*" w4 "*)
  if [ "${FRAMES:-1}" = 1 ] && [ -f "$PEERS_DIR/lace/lace.h" ]; then
    with_lace=1
    targets="$targets bench_lace"
  fi
  ;;
esac
# shellcheck disable=SC2086 # one make target per word
make -s -C "$PEERS_DIR" $targets >"$OUT/peers-build.log" 2>&1 ||
  die "building the peers failed; see $OUT/peers-build.log (the peers'" \
    "Makefile lists the Debian packages they need)"
SPIN_K=${SPIN_K:-$("$PEERS_DIR/floors" calib)}
[ -n "$SPIN_K" ] || die "floors calib gave no SPIN_K"

declare -A names # bench_<p> -> the name it reports
have_time=0
[ -x /usr/bin/time ] && have_time=1
results=$OUT/results.tsv
: >"$results"
log() { echo "  $(date +%T) $*" >&2; }

# ours NAME ARGS...: runs bench/NAME --csv; output in $OUT/last.ours, its
# exit status in $ours_rc, peak RSS (KiB) in $ours_rss when measured.
ours() {
  local name=$1
  shift
  log "libfutures $name $*"
  if [ "$have_time" = 1 ]; then
    /usr/bin/time -f %M -o "$OUT/rss" timeout -k 5 "$TIMEOUT" \
      "$BUILDDIR/bench/$name" --csv "$@" >"$OUT/last.ours" 2>>"$OUT/stderr.log"
  else
    timeout -k 5 "$TIMEOUT" "$BUILDDIR/bench/$name" --csv "$@" \
      >"$OUT/last.ours" 2>>"$OUT/stderr.log"
  fi
  ours_rc=$?
  ours_rss=$(tail -n 1 "$OUT/rss" 2>/dev/null)
  {
    echo "### libfutures $name $* (status $ours_rc)"
    cat "$OUT/last.ours"
  } >>"$OUT/raw.txt"
}

# peer P WORKLOAD [VAR=VALUE...]: runs the peer in its folder; output in
# $OUT/last.peer, peak RSS (KiB) in $peer_rss when measured.
peer() {
  local p=$1 wl=$2
  shift 2
  log "peer bench_$p $wl $*"
  if [ "$have_time" = 1 ]; then
    (cd "$PEERS_DIR" && env REPS="$REPS" NTHREADS="$NTHREADS" \
      SPIN_K="$SPIN_K" "$@" /usr/bin/time -f %M -o "$OUT/rss" \
      timeout -k 5 "$TIMEOUT" "./bench_$p" "$wl") \
      >"$OUT/last.peer" 2>>"$OUT/stderr.log"
  else
    (cd "$PEERS_DIR" && env REPS="$REPS" NTHREADS="$NTHREADS" \
      SPIN_K="$SPIN_K" "$@" timeout -k 5 "$TIMEOUT" "./bench_$p" "$wl") \
      >"$OUT/last.peer" 2>>"$OUT/stderr.log"
  fi
  peer_rss=$(tail -n 1 "$OUT/rss" 2>/dev/null)
  local name
  name=$(peer_name)
  [ -n "$name" ] && names[$p]=$name
  {
    echo "### peer bench_$p $wl $* (REPS=$REPS NTHREADS=$NTHREADS SPIN_K=$SPIN_K)"
    cat "$OUT/last.peer"
  } >>"$OUT/raw.txt"
}

# "median min max" of our CSV row, or a status word.
ours_cell() {
  local wl=$1 metric=$2 v
  case $ours_rc in
  0) ;;
  3) echo DEADLOCK && return ;;
  4 | 124 | 137) echo TIMEOUT && return ;;
  *) echo "FAIL($ours_rc)" && return ;;
  esac
  v=$(awk -F, -v w="$wl" -v m="$metric" -v t="$NTHREADS" \
    '$2 == w && $3 == m && $4 == t { print $6, $7, $8; exit }' \
    "$OUT/last.ours")
  echo "${v:-missing}"
}

# "median min max" of the peer's RES line, or the status it reported.
peer_cell() {
  local wl=$1 metric=$2 v
  v=$(awk -F'\t' -v w="$wl" -v m="$metric" '
    $1 == "RES" && $3 == w && $4 == m && $5 != "-" { print $5, $6, $7; exit }
    $1 == "RES" && $4 ~ /^(DEADLOCK|TIMEOUT|WRONG|FAIL|NA|SKIPPED)$/ { s = $4 }
    END { if (s != "") print s }' "$OUT/last.peer" | head -n 1)
  echo "${v:-missing}"
}

peer_name() {
  awk -F'\t' '$1 == "RES" { print $2; exit }' "$OUT/last.peer"
}

# record WORKLOAD METRIC BETTER PEER OURS PEERVALUE
record() {
  [ "$discard" = 1 ] && return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
}
discard=0

# pair P WL_OURS... : records the listed metrics of the last two runs.
pair_metrics() {
  local p=$1 wl=$2
  shift 2
  local name m better
  name=$(peer_name)
  for m in "$@"; do
    case $m in
    Mtasks_per_s | efficiency | speedup) better=higher ;;
    *) better=lower ;;
    esac
    record "$wl" "$m" "$better" "${name:-$p}" "$(ours_cell "$wl" "$m")" \
      "$(peer_cell "$wl" "$m")"
  done
}

# W2 rows carry the host's round trip when our throughput can measure it.
host_rt_flag=""
if "$BUILDDIR/bench/throughput" --help 2>&1 | grep -q -- --host-rt; then
  host_rt_flag=--host-rt
fi
# The median of our CSV's HOST row $1, from file $2 (standard input if
# none); empty if the row is missing.
host_row() {
  awk -F, -v m="$1" '$2 == "HOST" && $3 == m { print $6; exit }' "${2:--}"
}
# One measurement of the round trip, in ns (our binary, one task).
host_rt() {
  "$BUILDDIR/bench/throughput" --csv --n 1 --reps 1 --warmup 0 --no-mem \
    --mode external --threads 1 --host-rt 2>/dev/null |
    host_row cacheline_rt_before_ns
}
# "mean min max" of two round trips, the cell format of the table.
rt_cell() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    printf "%.1f %.1f %.1f", (a + b) / 2, (a < b ? a : b), (a > b ? a : b) }'
}

echo "compare.sh: REPS=$REPS NTHREADS=$NTHREADS SPIN_K=$SPIN_K;" \
  "raw output in $OUT" >&2

# run_pair WL P: our bench for workload WL, then peer P's, and the rows.
run_pair() {
  local wl=$1 p=$2 f peer_ok o q
  case $wl in
  w1)
    ours seq_vs_par --threads "$NTHREADS" --reps "$REPS"
    peer "$p" w1
    pair_metrics "$p" W1 seq_ms par_ms par_overhead_ms
    ;;
  w2)
    # shellcheck disable=SC2086 # W2_FLAGS holds options, split on purpose
    ours throughput --mode external --no-mem --n "$N2" \
      --threads "$NTHREADS" --reps "$REPS" $host_rt_flag $W2_FLAGS
    local rt0 rt1 rt2=""
    rt0=$(host_row cacheline_rt_before_ns "$OUT/last.ours")
    rt1=$(host_row cacheline_rt_after_ns "$OUT/last.ours")
    peer "$p" w2 N="$N2"
    pair_metrics "$p" W2 Mtasks_per_s ns_per_task
    # The host's core-to-core round trip around each side (BENCHMARKS.md,
    # "The W2 bimodality is the host's"): W2 follows it, so a ratio means
    # something only where the two cells read alike (a ratio near 1).
    if [ -n "$rt0" ] && [ -n "$rt1" ]; then
      rt2=$(host_rt)
      [ -n "$rt2" ] && record W2 host_rt_ns lower "$(peer_name)" \
        "$(rt_cell "$rt0" "$rt1")" "$(rt_cell "$rt1" "$rt2")"
    fi
    if [ "$ours_rc" = 0 ] && [ -n "$ours_rss" ] && [ -n "$peer_rss" ] &&
      grep -q 'Mtasks_per_s' "$OUT/last.peer"; then
      o=$(awk -v k="$ours_rss" 'BEGIN { printf "%.1f", k / 1024 }')
      q=$(awk -v k="$peer_rss" 'BEGIN { printf "%.1f", k / 1024 }')
      record W2 peak_rss_MB lower "$(peer_name)" "$o $o $o" "$q $q $q"
    fi
    ;;
  w3)
    ours latency --n "$N3" --threads "$NTHREADS" --reps "$REPS"
    peer "$p" w3 N="$N3"
    pair_metrics "$p" W3 median_us p99_us mean_us
    ;;
  w4)
    peer_ok=1
    for f in $FIBNS; do
      ours fork_join --fib "$f" --threads "$NTHREADS" --reps "$REPS"
      if [ "$peer_ok" = 1 ]; then
        peer "$p" w4 FIBN="$f" TIMEOUT=60
      else
        # As the peers' run.sh: a larger fib only where the smaller ran.
        printf 'RES\t%s\tW4_fib%s\tSKIPPED\t-\t-\t-\t-\t\n' \
          "${names[$p]:-$p}" "$f" >"$OUT/last.peer"
      fi
      pair_metrics "$p" "W4_fib$f" ms
      awk -F'\t' '$1 == "RES" && $4 == "ms" && $5 != "-" { f = 1 }
        END { exit !f }' "$OUT/last.peer" || peer_ok=0
    done
    ;;
  w5)
    ours fine_grained --n "$N5" --threads "$NTHREADS" --spin-k "$SPIN_K" \
      --reps "$REPS"
    peer "$p" w5 N="$N5" TIMEOUT=90
    pair_metrics "$p" W5 efficiency wall_ms
    ;;
  *) die "unknown workload $wl (w1 w2 w3 w4 w5)" ;;
  esac
}

# The first process of a session often runs slower than the rest (the
# host's scheduler and clocks settle), whichever library it is; that would
# always hand the cold slot to ours and the first peer. So the first pair
# runs once untimed, both sides, and its figures are dropped.
if [ "${WARMUP_PAIR:-1}" = 1 ]; then
  read -r first_wl _ <<<"$WORKLOADS"
  read -r first_peer _ <<<"$PEERS"
  discard=1
  log "warm-up pair (discarded)"
  run_pair "$first_wl" "$first_peer"
  discard=0
fi

# W4 on frames: futures_spawn/futures_sync beside Lace, whose frames live
# in its deque (its workload is W4_fibN, ours W4frames_fibN). Lace's idle
# workers busy-wait; ours sleep. Lace's calling thread blocks while its
# workers run fib; --no-help makes ours wait the same way (a future_get()
# would run the root in the caller: NTHREADS + 1 threads at work).
run_frames_pair() {
  local f
  for f in $FIBNS; do
    ours fork_join --mode frames --no-help --fib "$f" --threads "$NTHREADS" \
      --reps "$REPS"
    peer lace w4 FIBN="$f" TIMEOUT=60
    record "W4frames_fib$f" ms lower "$(peer_name)" \
      "$(ours_cell "W4frames_fib$f" ms)" "$(peer_cell "W4_fib$f" ms)"
  done
}

for wl in $WORKLOADS; do
  for p in $PEERS; do
    run_pair "$wl" "$p"
  done
  if [ "$wl" = w4 ] && [ "$with_lace" = 1 ]; then
    run_frames_pair
  fi
done

# ------------------------------------------------------------------ table
{
  echo "## libfutures vs peers, pair by pair"
  echo
  echo "- $(nproc) CPUs: $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo); kernel $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- REPS=$REPS NTHREADS=$NTHREADS SPIN_K=$SPIN_K N2=$N2 N3=$N3" \
    "N5=$N5 FIBNS=\"$FIBNS\"; each cell median [min–max] of REPS runs in" \
    "one process; ours and the peer ran one right after the other" \
    "$([ "${WARMUP_PAIR:-1}" = 1 ] && echo "(after one discarded warm-up pair)")"
  echo "- command: PEERS=\"$PEERS\" WORKLOADS=\"$WORKLOADS\" REPS=$REPS" \
    "${W2_FLAGS:+W2_FLAGS=\"$W2_FLAGS\" }bench/compare.sh (BUILDDIR=$BUILDDIR)"
  if [ -n "$host_rt_flag" ] && grep -q host_rt_ns "$results"; then
    echo "- W2 host_rt_ns: a cache line's round trip between the two CPUs" \
      "just before and just after each side's run (mean [min-max]); W2" \
      "follows it, so a W2 ratio compares like with like only where each" \
      "side's min and max agree and the two sides read alike"
  fi
  echo
  echo "| workload | metric | better | peer | libfutures | peer value |" \
    "ratio ours/peer |"
  echo "|---|---|---|---|---|---|---|"
  awk -F'\t' '
    function fmt(v) {
      if (v + 0 >= 100) return sprintf("%.0f", v)
      if (v + 0 >= 10) return sprintf("%.1f", v)
      if (v + 0 >= 1) return sprintf("%.2f", v)
      return sprintf("%.3g", v)
    }
    function cell(s,   a, n) {
      n = split(s, a, " ")
      if (n < 3) return s
      if (a[2] == a[3]) return fmt(a[1])
      return fmt(a[1]) " [" fmt(a[2]) "–" fmt(a[3]) "]"
    }
    function num(s,   a) { split(s, a, " "); return a[1] }
    {
      o = num($5); q = num($6)
      ok = (o ~ /^[-0-9.e+]+$/ && q ~ /^[-0-9.e+]+$/ && q + 0 != 0)
      r = ok ? sprintf("%.3g", o / q) : "–"
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, \
        cell($5), cell($6), r
    }' "$results"
} | tee "$OUT/table.md"
