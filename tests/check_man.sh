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
