#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The exported symbol set is exactly the documented API. Three lists must be
# identical:
#   1. the symbols libfutures.so actually exports (nm -D),
#   2. the functions declared FUTURES_API in include/futures.h,
#   3. the global names of lib/libfutures.map.
# Every exported name must also look public: ^futures?_[a-z], and no "__"
# (that prefix is reserved for hidden internals).
#
# Exit 0 when all agree, 1 with the differences printed, 77 (skip) when the
# shared library was not built (--disable-shared), 99 when a tool is missing.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
nm=${NM:-nm}
[ -n "$nm" ] || nm=nm

so=$builddir/lib/.libs/libfutures.so
header=$srcdir/include/futures.h
map=$srcdir/lib/libfutures.map

if [ ! -e "$so" ]; then
  echo "SKIP: $so not built (static-only build?)"
  exit 77
fi
for f in "$header" "$map"; do
  [ -r "$f" ] || { echo "ERROR: cannot read $f"; exit 99; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_exports.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. Every defined dynamic symbol except the version nodes themselves (type
#    A); data symbols are kept on purpose, since exporting one is a bug too.
if ! $nm -D --defined-only "$so" >"$tmp/nm.raw"; then
  echo "ERROR: $nm -D failed on $so"
  exit 99
fi
awk 'NF >= 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/nm.raw" |
  LC_ALL=C sort -u >"$tmp/exported"

# 2. A declaration starts with FUTURES_API and may span lines; its name is
#    the identifier just before the first "(".
awk '
  /^FUTURES_API[ \t]/ { decl = ""; open = 1 }
  open {
    decl = decl " " $0
    if (index(decl, "(")) {
      sub(/\(.*/, "", decl)
      n = split(decl, w, /[ \t*]+/)
      print w[n]
      open = 0
    }
  }' "$header" | LC_ALL=C sort -u >"$tmp/declared"

# 3. Names between "global:" and "local:", comments removed.
sed -e 's,/\*.*\*/,,g' "$map" | awk '
  /\/\*/ { skip = 1 }
  skip { if ($0 ~ /\*\//) skip = 0; next }
  /global:/ { on = 1; next }
  /local:/ { on = 0 }
  on {
    gsub(/[;{} \t]/, "")
    if ($0 != "") print
  }' | LC_ALL=C sort -u >"$tmp/mapped"

status=0
compare() {
  # $1 and $2 are list names; print what is in one and not the other.
  if ! cmp -s "$tmp/$1" "$tmp/$2"; then
    echo "FAIL: $1 and $2 differ (< only in $1, > only in $2):"
    LC_ALL=C comm -3 "$tmp/$1" "$tmp/$2" |
      sed -e 's/^\t/  > /' -e '/^  > /!s/^/  < /'
    status=1
  fi
}
compare exported declared
compare declared mapped
compare exported mapped

bad=$({ grep -v '^futures\{0,1\}_[a-z]' "$tmp/exported"
  grep '__' "$tmp/exported"; } | LC_ALL=C sort -u)
if [ -n "$bad" ]; then
  echo "FAIL: exported names outside the public namespace:"
  echo "$bad" | sed 's/^/  /'
  status=1
fi

count=$(wc -l <"$tmp/exported")
if [ "$count" -eq 0 ]; then
  echo "FAIL: no symbols found in $so"
  status=1
fi
[ "$status" -eq 0 ] && echo "PASS: $count exported symbols match the header and the map"
exit "$status"
