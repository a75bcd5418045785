#!/bin/sh
# SPDX-License-Identifier: MIT
# The trace futures_pool_trace_write() writes, parsed as JSON (python3's
# json module) and checked against what tests/trace_demo ran: one run
# slice per record with its id, kind, outcome and the thread its body saw
# (gettid()); submit before start before end per task; the sequence
# await A; await B in order; a 2 ns submit slice on the submitting thread
# per record; every flow start ("s") matched by one finish ("f"), each
# inside a slice of its thread; a submit flow into every run, a flow from
# D's run into its continuation E; join slices naming what they waited for
# and enclosing the runs the joining thread did for them; a thread_name
# for every thread; no lost events. Exit 77 (skip) without python3.
# Environment: top_builddir (default .), EXEEXT (default empty).
set -u

top_builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
bin=$top_builddir/tests/trace_demo$EXEEXT

if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 not found"
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "FAIL: $bin not built"
  exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/trace_json.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT

if ! "$bin" "$dir/trace.json" "$dir/ran.json"; then
  echo "FAIL: trace_demo exited with an error"
  exit 1
fi

python3 - "$dir/trace.json" "$dir/ran.json" <<'EOF'
import json
import sys

fails = []


def check(ok, what):
    if not ok:
        fails.append(what)


with open(sys.argv[1]) as fh:
    trace = json.load(fh)
with open(sys.argv[2]) as fh:
    ran = json.load(fh)

ev = trace["traceEvents"]
main = ran["main_tid"]
NS = 1000.0  # JSON times are microseconds


def ns(x):
    return round(x * NS)


slices = [e for e in ev if e["ph"] == "X"]
runs = {}
for e in slices:
    if e["cat"] == "run":
        check(e["args"]["id"] not in runs, "two run slices for id %d" % e["args"]["id"])
        runs[e["args"]["id"]] = e
submits = {e["args"]["id"]: e for e in slices if e["cat"] == "submit"}
joins = [e for e in slices if e["cat"] == "join"]

# One run slice per record, as the body saw it.
check(len(runs) == len(ran["records"]),
      "%d run slices, %d records" % (len(runs), len(ran["records"])))
for r in ran["records"]:
    e = runs.get(r["id"])
    if e is None:
        fails.append("no run slice for %s (id %d)" % (r["name"], r["id"]))
        continue
    a = e["args"]
    check(e["name"] == r["kind"], "%s: slice %s, want %s" % (r["name"], e["name"], r["kind"]))
    check(e["tid"] == r["tid"], "%s: slice on tid %d, body on %d" % (r["name"], e["tid"], r["tid"]))
    check(a["outcome"] == r["outcome"], "%s: outcome %d, want %d" % (r["name"], a["outcome"], r["outcome"]))
    if r["helped"] >= 0:
        check(a["helped"] == r["helped"], "%s: helped %d, want %d" % (r["name"], a["helped"], r["helped"]))
    check(a["submitted_by"] == main, "%s: submitted by %d, want %d" % (r["name"], a["submitted_by"], main))
    s = submits.get(r["id"])
    check(s is not None and s["tid"] == main, "%s: no submit slice on the main thread" % r["name"])
    if s is not None:
        check(ns(s["ts"]) <= ns(e["ts"]), "%s: submitted after it started" % r["name"])
    check(e["dur"] >= 0, "%s: negative duration" % r["name"])

# Helped runs are on the main thread; the two held tasks on two workers.
workers = {runs[r["id"]]["tid"] for r in ran["records"] if r["name"] in ("H1", "H2")}
check(len(workers) == 2 and main not in workers, "held tasks on %s" % sorted(workers))

# await A; await B: A ended before B was submitted.
for a, b in ran["sequence"]:
    check(ns(runs[a]["ts"] + runs[a]["dur"]) <= ns(submits[b]["ts"]),
          "id %d ended after id %d was submitted" % (a, b))

# Continuations name their antecedent.
for a, c in ran["then"]:
    check(runs[c]["args"]["antecedent"] == a,
          "then %d: antecedent %d, want %d" % (c, runs[c]["args"]["antecedent"], a))


def inside(tid, ts, cat=None):
    t = ns(ts)
    return [e for e in slices if e["tid"] == tid and (cat is None or e["cat"] == cat)
            and ns(e["ts"]) <= t <= ns(e["ts"] + e["dur"])]


# Flows: each s has one f with its id, both inside a slice of their thread.
starts = {}
finishes = {}
for e in ev:
    if e["ph"] == "s":
        check(e["id"] not in starts, "flow id %d started twice" % e["id"])
        starts[e["id"]] = e
    elif e["ph"] == "f":
        check(e["id"] not in finishes, "flow id %d finished twice" % e["id"])
        check(e.get("bp") == "e", "flow %d finish does not bind to its enclosing slice" % e["id"])
        finishes[e["id"]] = e
check(set(starts) == set(finishes), "unmatched flows: %s" % sorted(set(starts) ^ set(finishes)))
arrows = []
for i, s in starts.items():
    f = finishes.get(i)
    if f is None:
        continue
    check(s["name"] == f["name"] and s["cat"] == f["cat"], "flow %d: names differ" % i)
    src = inside(s["tid"], s["ts"])
    dst = inside(f["tid"], f["ts"], "run" if s["name"] != "join" else "join")
    check(src, "flow %d (%s) starts outside any slice" % (i, s["name"]))
    check(dst, "flow %d (%s) ends outside a slice it may end in" % (i, s["name"]))
    if src and dst:
        # The innermost slice at each end: the shortest one.
        a = min(src, key=lambda e: e["dur"])
        b = min(dst, key=lambda e: e["dur"])
        arrows.append((s["name"], a["args"].get("id"), b["args"].get("id"), b))

# A submit arrow into every run but the cancelled one.
for r in ran["records"]:
    want = 0 if r["kind"] == "cancelled" else 1
    got = sum(1 for n, a, b, _ in arrows if n == "submit" and a == r["id"] and b == r["id"])
    check(got == want, "%s: %d submit arrows, want %d" % (r["name"], got, want))
for a, c in ran["then"]:
    got = sum(1 for n, x, y, _ in arrows if n == "then" and x == a and y == c)
    check(got == 1, "no then arrow from %d to %d" % (a, c))

# The joins the demo forced: on the main thread, naming their futures,
# enclosing the runs it did itself, each with an arrow from every run.
for want in ran["joins"]:
    js = [j for j in joins if j["args"]["waited"] == want and j["tid"] == main]
    check(len(js) == 1, "join of %s: %d slices" % (want, len(js)))
    if len(js) != 1:
        continue
    j = js[0]
    check(j["args"]["n"] == len(want), "join of %s: n %d" % (want, j["args"]["n"]))
    for i in want:
        e = runs[i]
        if e["tid"] == main:
            check(ns(j["ts"]) <= ns(e["ts"]) and ns(e["ts"] + e["dur"]) <= ns(j["ts"] + j["dur"]),
                  "join of %s does not enclose run %d" % (want, i))
        got = sum(1 for n, x, _, b in arrows if n == "join" and x == i and b is j)
        check(got == 1, "join of %s: %d arrows from %d" % (want, got, i))

# Names and metadata.
named = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
for e in slices:
    check(e["tid"] in named, "tid %d has no thread_name" % e["tid"])
check(trace["otherData"]["lost_events"] == 0, "lost events: %d" % trace["otherData"]["lost_events"])

for f in fails:
    print("FAIL: " + f)
if fails:
    sys.exit(1)
print("PASS: %d events, %d runs, %d joins, %d arrows" % (len(ev), len(runs), len(joins), len(arrows)))
EOF
