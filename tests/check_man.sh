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
