#!/bin/sh
# SPDX-License-Identifier: MIT
#
# mkman.sh - regenerate the section 3 man pages from include/futures.h.
#
# usage: man/mkman.sh [HEADER [OUTDIR [EXAMPLEDIR]]]
#   HEADER      the public header (default: include/futures.h)
#   OUTDIR      where the pages go (default: man)
#   EXAMPLEDIR  <function>.c files shown as the EXAMPLES section of that
#               function's page (default: man/examples)
#
# One page per FUTURES_API function, plus libfutures.3, the overview (the
# header's global rules, error codes, types and version macros). The pages
# are committed, so building never needs this script; `make man-update`
# runs it after the header changes, and tests/check_man.sh fails while the
# committed pages are stale. Needs only sh and a POSIX awk.
set -eu

here=$(dirname "$0")
header=${1:-include/futures.h}
outdir=${2:-man}
exdir=${3:-$here/examples}
awk=${AWK:-awk}

[ -r "$header" ] || { echo "mkman.sh: cannot read $header" >&2; exit 1; }
mkdir -p "$outdir"

# The .TH footer names the version the header declares.
version=$(sed -n 's/^#define FUTURES_VERSION_STRING "\(.*\)"$/\1/p' "$header")
[ -n "$version" ] || { echo "mkman.sh: no FUTURES_VERSION_STRING" >&2; exit 1; }

# Write into a scratch directory first, so that a failure leaves the old
# pages in place, and pages of functions that no longer exist are noticed.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkman.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
LC_ALL=C $awk -v outdir="$tmp" -v exdir="$exdir" \
  -v title="libfutures $version" -f "$here/mkman.awk" "$header"

for old in "$outdir"/*.3; do
  [ -e "$old" ] || continue
  if [ ! -e "$tmp/$(basename "$old")" ]; then
    echo "mkman.sh: removing $old (no longer in the header)" >&2
    rm -f "$old"
  fi
done
for page in "$tmp"/*.3; do
  cp "$page" "$outdir/"
done
