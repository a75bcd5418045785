#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The committed man pages are up to date: man/mkman.sh, run now on
# include/futures.h, writes exactly the pages in man/ (same names, same
# bytes), and Makefile.am installs every one of them. Each page also
# renders without a groff warning and has a NAME line that lexgrog (what
# mandb indexes) can parse, when those tools are installed.
# Fix a failure with `make man-update`, then commit the pages.
# Environment: top_srcdir (default .).
set -u

srcdir=${top_srcdir:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0

if ! sh "$srcdir/man/mkman.sh" "$srcdir/include/futures.h" "$tmp" \
  "$srcdir/man/examples"; then
  echo "ERROR: man/mkman.sh failed"
  exit 99
fi

for page in "$tmp"/*.3; do
  name=$(basename "$page")
  if [ ! -f "$srcdir/man/$name" ]; then
    echo "FAIL: man/$name is missing (a new function?)"
    fail=1
  elif ! cmp -s "$page" "$srcdir/man/$name"; then
    echo "FAIL: man/$name is stale:"
    diff -u "$srcdir/man/$name" "$page" | sed -n '1,30p'
    fail=1
  fi
done
for page in "$srcdir"/man/*.3; do
  name=$(basename "$page")
  if [ ! -f "$tmp/$name" ]; then
    echo "FAIL: man/$name documents nothing in the header any more"
    fail=1
  fi
done

# Makefile.am's dist_man3_MANS names every page, and nothing else.
sed -n '/^dist_man3_MANS *=/,/[^\\]$/p' "$srcdir/Makefile.am" |
  tr ' \t\\' '\n\n\n' | sed -n 's,^man/\(.*\.3\)$,\1,p' | LC_ALL=C sort \
  >"$tmp/listed"
(cd "$tmp" && ls -- *.3) | LC_ALL=C sort >"$tmp/generated"
if ! cmp -s "$tmp/listed" "$tmp/generated"; then
  echo "FAIL: dist_man3_MANS in Makefile.am and the generated pages differ" \
    "(< only in Makefile.am, > only generated):"
  LC_ALL=C comm -3 "$tmp/listed" "$tmp/generated" |
    sed -e 's/^\t/  > /' -e '/^  > /!s/^/  < /'
  fail=1
fi

# Each function page reads as prose (issue 13): a DESCRIPTION that starts
# with sentences (not the argument list) and says more than the NAME line;
# ERRORS entries that are sentences about this function (not a fragment of
# the Return line such as "And EDEADLK as ...", nor the overview's generic
# EINVAL line); and every page of a wait or join says whether the caller
# runs unstarted tasks while it waits. Read from the troff source, so it
# needs no groff.
for page in "$tmp"/*.3; do
  name=$(basename "$page" .3)
  [ "$name" = libfutures ] && continue
  LC_ALL=C ${AWK:-awk} -v name="$name" '
    function plain(s) {
      gsub(/\\f[BIRP]/, "", s)
      gsub(/\\-/, "-", s)
      gsub(/\\&/, "", s)
      gsub(/\\e/, "\\", s)
      return s
    }
    function bad(msg) {
      print "FAIL: " name "(3): " msg
      fail = 1
    }
    /^\.SH / { sec = $0; sub(/^\.SH /, "", sec); first = 1; next }
    sec == "NAME" && first {
      title = plain($0)
      sub(/^[^ ]+ - /, "", title)
      first = 0
      next
    }
    sec == "DESCRIPTION" {
      if (first) {
        first = 0
        if ($0 ~ /^\./ || $0 ~ /^Arguments:/)
          bad("DESCRIPTION starts with \"" $0 "\", not with sentences")
        para = plain($0)
        desc = para
        inpara = 1
        next
      }
      if ($0 ~ /^\./)
        inpara = 0
      else if (inpara)
        para = para " " plain($0)
      desc = desc " " plain($0)
      next
    }
    sec == "ERRORS" && /^\.B E[A-Z]+$/ { code = $2; want = 1; next }
    sec == "ERRORS" && want {
      want = 0
      t = plain($0)
      if (t !~ /\.$/)
        bad("ERRORS " code ": not a sentence: \"" t "\"")
      if (t ~ /^(And|Or|As|Also|Plus|Then|But|If|When|Once|While|For|and|or|as|if|when|once|while|for) /)
        bad("ERRORS " code ": a fragment of the Return line: \"" t "\"")
      if (t ~ /zero count, bad option/)
        bad("ERRORS " code ": the overview'"'"'s generic line, not this function'"'"'s cases")
      next
    }
    END {
      if (para == title "." || para == title)
        bad("DESCRIPTION only repeats the NAME line: \"" para "\"")
      if (name ~ /(join|wait|as_completed_next|future_get)/ && desc !~ /caller/)
        bad("DESCRIPTION does not say whether the caller runs unstarted tasks while it waits")
      exit fail
    }' "$page" || fail=1
done

# ERRORS entries agree with the function they document (issue 13 review):
# an entry names (in italics) only parameters the function has, and so do
# the entries of the page an "Also the errors of" line points to; each
# "COND gives ECODE" of the DESCRIPTION has an ERRORS entry for ECODE on
# the page itself, and one of an argument's text an entry that names the
# argument; a note the RETURN VALUE gives a code ("ECODE (note)", "ECODE,
# note") reaches its entries; no entry is the same as another of the page
# or of the page it points to; and no entry is a fragment ("..., or as
# other()", "..., or when ...", "X is anything else").
LC_ALL=C ${AWK:-awk} '
    function plain(s) {
      gsub(/\\f[BIRP]/, "", s)
      gsub(/\\-/, "-", s)
      gsub(/\\&/, "", s)
      gsub(/\\e/, "\\", s)
      return s
    }
    FNR == 1 { pages[++npages] = FILENAME }
    FNR == 1 { pg = FILENAME; sub(/.*\//, "", pg); sub(/\.3$/, "", pg); sec = ""; np[pg] = 0 }
    /^\.SH / { sec = $0; sub(/^\.SH /, "", sec); ss = ""; next }
    /^\.SS / { ss = $0; sub(/^\.SS /, "", ss); next }
    sec == "SYNOPSIS" && /^\.BI / {
      n = split($0, q, "\"")
      for (i = 3; i <= n; i += 2) {
        w = q[i]; gsub(/[ \t]/, "", w)
        if (w ~ /^[a-z_][a-z_0-9]*$/)
          param[pg, w] = 1
      }
      next
    }
    sec == "DESCRIPTION" && ss == "Arguments" && /^\.I / { arg = $2; next }
    sec == "DESCRIPTION" {
      t = $0
      while (match(t, /gives \\fBE[A-Z]+\\fP/)) {
        c = substr(t, RSTART + 9, RLENGTH - 12)
        t = substr(t, RSTART + RLENGTH)
        ng[pg]++
        gcode[pg, ng[pg]] = c
        garg[pg, ng[pg]] = (ss == "Arguments") ? arg : ""
      }
      next
    }
    sec == "RETURN VALUE" { ret[pg] = ret[pg] " " $0; next }
    sec == "ERRORS" && /^\.B E[A-Z]+$/ { code = $2; want = 1; next }
    sec == "ERRORS" && want {
      want = 0
      ne[pg]++
      ecode[pg, ne[pg]] = code
      etext[pg, ne[pg]] = $0
      next
    }
    sec == "ERRORS" && /^\.BR [a-z_]+ \(3\)\.$/ { also[pg] = $2; next }
    function bad(msg) {
      print "FAIL: " name "(3): " msg
      fail = 1
    }
    # 1 when every \fIx\fP of s is a parameter of page pg.
    function names_ok(s, pg,   t, w) {
      t = s
      while (match(t, /\\fI[a-z_][a-z_0-9]*\\fP/)) {
        w = substr(t, RSTART + 3, RLENGTH - 6)
        t = substr(t, RSTART + RLENGTH)
        if (!((pg, w) in param)) {
          missing = w
          return 0
        }
      }
      return 1
    }
    END {
      for (p = 1; p <= npages; p++) {
      pg = pages[p]
      sub(/.*\//, "", pg)
      sub(/\.3$/, "", pg)
      name = pg
      if (pg == "libfutures")
        continue
      split("", seen)
      for (i = 1; i <= ne[pg]; i++) {
        t = plain(etext[pg, i])
        if (!names_ok(etext[pg, i], pg))
          bad("ERRORS " ecode[pg, i] " names " missing ", which is not a parameter: \"" t "\"")
        if (t ~ /, (or|and) (as|when|if|once|while) / || t ~ / or as [a-z_]+\(\)/)
          bad("ERRORS " ecode[pg, i] ": a fragment of the Return line: \"" t "\"")
        if (t ~ /(anything|something|everything) else/)
          bad("ERRORS " ecode[pg, i] ": \"else\" than what? \"" t "\"")
        key = ecode[pg, i] SUBSEP t
        if (key in seen)
          bad("ERRORS " ecode[pg, i] " twice: \"" t "\"")
        seen[key] = 1
      }
      a = also[pg]
      if (a != "") {
        for (i = 1; i <= ne[a]; i++) {
          t = plain(etext[a, i])
          if (!names_ok(etext[a, i], pg))
            bad("Also the errors of " a "(3) brings " ecode[a, i] " \"" t "\", but " missing " is not a parameter here")
          if ((ecode[a, i] SUBSEP t) in seen)
            bad("ERRORS " ecode[a, i] " \"" t "\" again through " a "(3)")
        }
      }
      for (i = 1; i <= ng[pg]; i++) {
        c = gcode[pg, i]
        ok = 0
        for (j = 1; j <= ne[pg]; j++)
          if (ecode[pg, j] == c && (garg[pg, i] == "" ||
              index(plain(etext[pg, j]), garg[pg, i]) > 0))
            ok = 1
        if (!ok)
          bad("the DESCRIPTION says " (garg[pg, i] == "" ? "" : garg[pg, i] " ") "gives " c ", but ERRORS has no such entry")
      }
      r = ret[pg]
      while (match(r, /\\fBE[A-Z]+\\fP(, | \()/)) {
        c = substr(r, RSTART + 3, RLENGTH - 3)
        sub(/\\fP.*/, "", c)
        note = substr(r, RSTART + RLENGTH)
        open = substr(r, RSTART + RLENGTH - 1, 1)
        r = note
        if (open == "(") {
          d = 1
          for (j = 1; j <= length(note); j++) {
            ch = substr(note, j, 1)
            if (ch == "(")
              d++
            else if (ch == ")" && --d == 0)
              break
          }
          note = substr(note, 1, j - 1)
        } else
          sub(/[;.].*/, "", note)
        note = plain(note)
        sub(/^then /, "", note)
        if (note ~ /^(or|and|as|plus) / || note ~ /^E[A-Z]+/ || note ~ /^(if|when|for|once|while) /)
          continue
        ok = 0
        for (j = 1; j <= ne[pg]; j++)
          if (ecode[pg, j] == c && index(tolower(plain(etext[pg, j])), tolower(note)) > 0)
            ok = 1
        if (!ok)
          bad("RETURN VALUE gives " c " the note \"" note "\", which no ERRORS entry for it has")
      }
      }
      exit fail
    }' "$tmp"/*.3 || fail=1

# Rendering, where man-db and groff are installed.
if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
  for page in "$tmp"/*.3; do
    warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    if [ -n "$warn" ]; then
      echo "FAIL: $(basename "$page") renders with warnings:"
      printf '%s\n' "$warn" | sed 's/^/  /'
      fail=1
    fi
  done
else
  echo "note: man or groff not installed; rendering not checked"
fi
if command -v lexgrog >/dev/null 2>&1; then
  for page in "$tmp"/*.3; do
    if ! lexgrog "$page" >/dev/null 2>&1; then
      echo "FAIL: lexgrog cannot parse the NAME section of $(basename "$page")"
      fail=1
    fi
  done
fi

n=$(ls "$tmp"/*.3 | wc -l)
[ "$fail" -eq 0 ] && echo "PASS: $n man pages are up to date and render cleanly"
exit "$fail"
