#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The header is the test plan (STYLE.md 4.3): every promise that
# include/futures.h makes under concurrency names the tests that prove it,
# in one form, a group that closes the promise:
#
#   (tests: REF, REF, ...)
#
# where each REF is one of
#   check_X/test_name        a Check test: tests/check_X.c defines
#                            START_TEST(test_name) and registers it with a
#                            tcase_add_*test*() call;
#   check_matrix[CELL, ...]  cells of the waiter x actor matrix
#                            (tests/check_matrix.c, one loop test): each
#                            CELL is "[CONFIG ]KIND x ACTOR", with CONFIG
#                            busy1 or idle2 (both when left out), KIND one
#                            of its waiter kinds (GET, THEN, ...) and ACTOR
#                            one of its actors (SECOND_GET, CANCEL, ...),
#                            either of them a pattern with '*'; it must
#                            name at least one cell that runs;
#   NAME.sh                  a script test, tests/NAME.sh.
#
# This script fails (exit 1, one line per problem) when
#   - a function's "Threads:" or "In a task:" line does not end with its
#     (tests: ...) group;
#   - a global rule of the overview (Threads, Tasks, Order, Memory,
#     Visibility, Deadlines, fork, exit; every rule but "Errors", whose
#     promises are inputs, tested row by row as README's bad-input table
#     says) has no group, or text after its last group (a promise left
#     untested);
#   - a group is empty, unclosed, or stands anywhere else in the header;
#   - a reference is malformed, names a test file that does not exist, a
#     test function that the file does not define or never registers, a
#     matrix kind, actor or config that does not exist or a cell that does
#     not run, or a script that does not exist.
# It exits 0 when all is well (and says how many promises and references
# it checked), 99 when it cannot read the header.
# Environment: top_srcdir (default .).
set -u

srcdir=${top_srcdir:-.}
header=$srcdir/include/futures.h
tests=$srcdir/tests

[ -r "$header" ] || { echo "ERROR: cannot read $header"; exit 99; }
[ -d "$tests" ] || { echo "ERROR: no directory $tests"; exit 99; }

LC_ALL=C ${AWK:-awk} -v tests="$tests" '
function trim(s) {
  sub(/^[ \t]+/, "", s)
  sub(/[ \t]+$/, "", s)
  return s
}

function squeeze(s) {
  gsub(/[ \t]+/, " ", s)
  return trim(s)
}

function problem(where, what) {
  printf "FAIL: %s: %s\n", where, what
  nproblems++
}

# ------------------------------------------------------------ test sources

# Reads tests/<file> once: the START_TEST names it defines (defined[file,
# name]) and the ones it registers (registered[file, name]). 0 if there is
# no such file.
function load(file,   path, line, text, rest, p, call, args, n, parts, name) {
  if (file in loaded)
    return loaded[file]
  path = tests "/" file
  text = ""
  while ((getline line < path) > 0) {
    text = text line "\n"
    if (match(line, /START_TEST\([A-Za-z_][A-Za-z_0-9]*\)/)) {
      name = substr(line, RSTART + 11, RLENGTH - 12)
      defined[file, name] = 1
    }
  }
  close(path)
  loaded[file] = text != ""
  source[file] = text
  gsub(/\n/, " ", text)
  rest = text
  while (match(rest, /tcase_add_[a-z_]*test[a-z_]*[ \t]*\(/)) {
    rest = substr(rest, RSTART + RLENGTH)
    p = index(rest, ")")
    call = substr(rest, 1, p - 1)
    n = split(call, parts, ",")
    if (n >= 2)
      registered[file, trim(parts[2])] = 1
  }
  return loaded[file]
}

# The strings of the C initialiser that follows "<array>[" in @text.
function strings_of(text, array, out,   p, body, n) {
  p = index(text, array "[")
  if (p == 0)
    return 0
  body = substr(text, p)
  body = substr(body, index(body, "{") + 1)
  body = substr(body, 1, index(body, "}") - 1)
  n = 0
  while (match(body, /"[^"]*"/)) {
    out[++n] = substr(body, RSTART + 1, RLENGTH - 2)
    body = substr(body, RSTART + RLENGTH)
  }
  return n
}

# The matrix axes, from tests/check_matrix.c: kinds, actors, configs, and
# the kinds with a deadline of their own (for the cells it excludes).
function load_matrix(   text, n, i, k, body, p, tok) {
  if (matrix_loaded)
    return matrix_ok
  matrix_loaded = 1
  if (!load("check_matrix.c"))
    return matrix_ok = 0
  text = source["check_matrix.c"]
  nkinds = strings_of(text, "kind_name", kind)
  n = strings_of(text, "actor_name", actor)
  nactors = 0
  for (i = 1; i <= nkinds; i++)
    actors[++nactors] = "SECOND_" kind[i]
  for (i = 1; i <= n; i++)
    actors[++nactors] = actor[i]
  nconfigs = strings_of(text, "config_name", config)
  # excluded() must still begin with "DEADLINE needs a kind with a
  # deadline" (timed()), the one rule that holds in every config; its
  # other rules exclude cells in some configs only (no one resolves the
  # future of a task: REJECT runs on the promise config; a promise has no
  # submitter: SUBMITTER runs on the task configs), so a KIND x ACTOR pair
  # runs in some config unless that first rule excludes it.
  p = index(text, "\nexcluded(int cfg, int kind, int actor)")
  body = substr(text, p)
  body = substr(body, 1, index(body, "\n}") )
  gsub(/\/\*[^*]*\*\//, "", body)
  q = index(body, "if (")
  if (p == 0 || q == 0 ||
      index(substr(body, q), "if (actor == A_DEADLINE && !timed(kind))") != 1) {
    problem("tests/check_matrix.c",
            "excluded() no longer begins with \"actor == A_DEADLINE && " \
            "!timed(kind)\": update check_testplan.sh to match")
  }
  p = index(text, "\ntimed(int kind)")
  body = substr(text, p)
  body = substr(body, 1, index(body, "\n}"))
  while (match(body, /K_[A-Z_]+/)) {
    tok = substr(body, RSTART + 2, RLENGTH - 2)
    timedkind[tok] = 1
    body = substr(body, RSTART + RLENGTH)
  }
  if (nkinds == 0 || nactors == nkinds || nconfigs == 0)
    return matrix_ok = 0
  return matrix_ok = 1
}

# A pattern of names ([A-Za-z0-9_] and '*') as an anchored regex.
function glob_re(g) {
  gsub(/\*/, ".*", g)
  return "^" g "$"
}

# How many running cells @cell names; complains about names that do not
# exist.
function matrix_cells(cell, where,   parts, n, cfg, kp, ap, i, j, c, hits,
                      kre, are, kany, aany, cany) {
  cell = squeeze(cell)
  if (cell !~ /^[A-Za-z0-9_* ]+$/)
    return -1
  n = split(cell, parts, " ")
  if (n == 4) {
    cfg = parts[1]
    kp = parts[2]
    if (parts[3] != "x")
      return -1
    ap = parts[4]
  } else if (n == 3 && parts[2] == "x") {
    cfg = "*"
    kp = parts[1]
    ap = parts[3]
  } else {
    return -1
  }
  kre = glob_re(kp)
  are = glob_re(ap)
  cany = cfg == "*"
  for (c = 1; c <= nconfigs; c++)
    if (config[c] == cfg)
      cany = 1
  if (!cany)
    problem(where, "check_matrix has no config \"" cfg "\" (" cell ")")
  kany = aany = 0
  hits = 0
  for (i = 1; i <= nkinds; i++) {
    if (kind[i] !~ kre)
      continue
    kany = 1
    for (j = 1; j <= nactors; j++) {
      if (actors[j] !~ are)
        continue
      aany = 1
      if (actors[j] == "DEADLINE" && !(kind[i] in timedkind))
        continue
      hits++
    }
  }
  if (!kany)
    problem(where, "check_matrix has no waiter kind \"" kp "\" (" cell ")")
  else if (!aany)
    problem(where, "check_matrix has no actor \"" ap "\" (" cell ")")
  else if (hits == 0)
    problem(where, "check_matrix runs no cell \"" cell "\" (excluded)")
  return hits
}

# Checks one reference.
function check_ref(ref, where,   file, name, p, cells, n, parts, i, depth) {
  nrefs++
  if (ref ~ /^check_matrix\[.*\]$/) {
    if (!load_matrix()) {
      problem(where, "cannot read the axes of tests/check_matrix.c for " ref)
      return
    }
    cells = substr(ref, 14, length(ref) - 14)
    n = split(cells, parts, ",")
    if (trim(cells) == "")
      problem(where, "no cell named in " ref)
    for (i = 1; i <= n; i++)
      if (matrix_cells(parts[i], where) < 0)
        problem(where, "\"" trim(parts[i]) "\" in " ref \
                " is not \"[CONFIG ]KIND x ACTOR\"")
    return
  }
  if (ref ~ /^check_[a-z0-9_]+\/test_[A-Za-z0-9_]+$/) {
    p = index(ref, "/")
    file = substr(ref, 1, p - 1) ".c"
    name = substr(ref, p + 1)
    if (!load(file))
      problem(where, "no test file tests/" file " for " ref)
    else if (!((file, name) in defined))
      problem(where, "tests/" file " defines no START_TEST(" name ")")
    else if (!((file, name) in registered))
      problem(where, "tests/" file " never registers " name \
              " (tcase_add_test)")
    return
  }
  if (ref ~ /^[A-Za-z0-9_-]+\.sh$/) {
    if ((getline p < (tests "/" ref)) < 0)
      problem(where, "no script tests/" ref)
    close(tests "/" ref)
    return
  }
  problem(where, "malformed reference \"" ref "\" (want check_X/test_name, " \
          "check_matrix[CELL, ...] or NAME.sh)")
}

# Checks every group of @text (one promise, a rule or a field). Returns the
# number of groups; *tail (global) is the text after the last one.
function check_groups(text, where,   n, p, rest, q, body, i, c, depth, ref) {
  n = 0
  tail = text
  while ((p = index(tail, "(tests:")) > 0) {
    rest = substr(tail, p + 7)
    q = index(rest, ")")
    if (q == 0) {
      problem(where, "a (tests: group is never closed")
      tail = ""
      return n
    }
    body = substr(rest, 1, q - 1)
    tail = substr(rest, q + 1)
    n++
    ngroups++
    if (trim(body) == "") {
      problem(where, "an empty (tests: ) group")
      continue
    }
    # Split at the commas outside check_matrix[...].
    depth = 0
    ref = ""
    for (i = 1; i <= length(body); i++) {
      c = substr(body, i, 1)
      if (c == "[")
        depth++
      else if (c == "]")
        depth--
      if (c == "," && depth == 0) {
        check_ref(squeeze(ref), where)
        ref = ""
      } else {
        ref = ref c
      }
    }
    check_ref(squeeze(ref), where)
  }
  return n
}

# A promise that must end with its tests.
function check_promise(text, where,   n) {
  npromises++
  n = check_groups(text, where)
  if (n == 0)
    problem(where, "names no tests (add a (tests: ...) group)")
  else if (tail !~ /^[ \t.;,]*$/)
    problem(where, "text after its last (tests: ...) group: \"" \
            squeeze(tail) "\" (a promise without tests?)")
}

# ------------------------------------------------------------ the header

function strip(line) {
  sub(/^ \*( |$)/, "", line)
  return line
}

function end_rule(   before) {
  if (rule != "" && rule != "Errors") {
    nrules++
    before = ngroups
    check_promise(ruletext, "global rule \"" rule "\" (line " ruleline ")")
    nrulegroups += ngroups - before
  } else if (rule == "Errors" && index(ruletext, "(tests:") > 0) {
    check_groups(ruletext, "global rule \"Errors\" (line " ruleline ")")
  }
  rule = ""
  ruletext = ""
}

function end_field() {
  if (field == "Threads" || field == "In a task") {
    seen[field] = 1
    check_promise(fieldtext, fname "() \"" field ":\" (line " fieldline ")")
  } else if (field != "" && index(fieldtext, "(tests:") > 0) {
    problem(fname "() \"" field ":\" (line " fieldline ")",
            "a (tests: ...) group belongs after a Threads: or In a task: " \
            "line")
  }
  field = ""
  fieldtext = ""
}

# Every group must sit where one of the checks below reads it (END).
index($0, "(tests:") > 0 {
  strays[NR] = 1
}

# The overview comment: the first "/*" block.
!overview_done && $0 == "/*" {
  in_overview = 1
  next
}
in_overview {
  if ($0 == " */") {
    end_rule()
    in_overview = 0
    overview_done = 1
    next
  }
  if ($0 ~ /^ \* Global rules/) {
    in_rules = 1
    next
  }
  if (!in_rules)
    next
  if ($0 ~ /^ \* Linking:/) {
    end_rule()
    in_rules = 0
    next
  }
  if (match($0, /^ \*   [A-Za-z]+\. /)) {
    len = RLENGTH # end_rule() runs match() too
    end_rule()
    rule = substr($0, 6, len - 7)
    ruleline = NR
    ruletext = substr($0, len + 1)
    claimed[NR] = 1
    next
  }
  if (rule != "") {
    ruletext = ruletext " " trim(strip($0))
    claimed[NR] = 1
  }
  next
}

# Contract comments.
$0 == "/**" {
  in_doc = 1
  fname = ""
  field = ""
  split("", seen)
  next
}
in_doc {
  if ($0 == " */") {
    end_field()
    in_doc = 0
    doc_end = NR
    next
  }
  if (fname == "" && match($0, /^ \* [a-z_]+\(\) - /)) {
    fname = substr($0, 4, index($0, "(") - 4)
    next
  }
  if (match($0, /^ \* (Return|Ownership|Threads|In a task|Since|Tests):/)) {
    len = RLENGTH # end_field() runs match() too
    end_field()
    field = substr($0, 4, len - 4)
    fieldline = NR
    fieldtext = substr($0, len + 1)
    if (field == "Threads" || field == "In a task")
      claimed[NR] = 1
    next
  }
  if (field != "" && $0 ~ /^ \*   /) {
    fieldtext = fieldtext " " trim(strip($0))
    if (field == "Threads" || field == "In a task")
      claimed[NR] = 1
    next
  }
  end_field()
  next
}

# A declaration of the API right after its contract.
/^FUTURES_API[ \t]/ {
  nfuncs++
  if (doc_end != NR - 1 || fname == "") {
    problem("line " NR, "a FUTURES_API declaration without its contract " \
            "comment right above it")
  } else {
    if (!("Threads" in seen))
      problem(fname "() (line " NR ")", "its contract has no \"Threads:\" line")
    if (!("In a task" in seen))
      problem(fname "() (line " NR ")",
              "its contract has no \"In a task:\" line")
  }
  fname = ""
}

END {
  for (ln in strays)
    if (!(ln in claimed))
      problem("line " ln, "a (tests: ...) group outside a global rule and " \
              "a Threads: or In a task: line")
  if (nrules == 0)
    problem(FILENAME, "no global rules found (\"Global rules\" heading)")
  if (nfuncs == 0)
    problem(FILENAME, "no FUTURES_API function found")
  if (nproblems > 0) {
    printf "check_testplan: %d problem(s) in the test plan of %s\n",
           nproblems, FILENAME
    exit 1
  }
  printf "PASS: %d promises name their tests: %d in the %d global rules, " \
         "%d on the Threads and In a task lines of %d functions; %d " \
         "references, all found\n", ngroups, nrulegroups, nrules,
         ngroups - nrulegroups, nfuncs, nrefs
}
' "$header"
