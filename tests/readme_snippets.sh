#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The code in README cannot rot. Each README example whose code block opens
# with a line "    /* tests/readme_snippets/NAME.c */" is the marked
# regions of that file ("README: begin" to "README: end", several regions
# joined by a blank line, common indentation removed), indented by four
# spaces. This test checks that README and the files agree, that every
# file there is shown in README, and runs every snippet program and every
# man page example (man/examples/), all built by `make` with the project's
# warnings: each checks its own results and must exit 0.
#
# usage: readme_snippets.sh            the test (make check runs it)
#        readme_snippets.sh --update   rewrite README's blocks from the files
#                                      (make readme-update)
# Environment: top_srcdir, top_builddir (default .), EXEEXT.
set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
EXEEXT=${EXEEXT:-}
readme=$srcdir/README
snipdir=$srcdir/tests/readme_snippets
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme_snippets.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# region FILE: the file's marked regions as README shows them.
region() {
  awk '
    function flush(   i, line, cut) {
      if (n == 0)
        return
      cut = 1000
      for (i = 1; i <= n; i++)
        if (buf[i] ~ /[^ \t]/) {
          match(buf[i], /^ */)
          if (RLENGTH < cut)
            cut = RLENGTH
        }
      if (regions++)
        print ""
      for (i = 1; i <= n; i++) {
        line = buf[i] ~ /[^ \t]/ ? "    " substr(buf[i], cut + 1) : ""
        print line
      }
      n = 0
    }
    /^[ \t]*\/\* README: begin \*\/[ \t]*$/ { on = 1; next }
    /^[ \t]*\/\* README: end \*\/[ \t]*$/ { on = 0; flush(); next }
    on { buf[++n] = $0 }
  ' "$1"
}

# The snippet names README refers to, in order.
names=$(sed -n 's,^    /\* tests/readme_snippets/\([a-z_0-9]*\)\.c \*/$,\1,p' \
  "$readme")

if [ "${1:-}" = "--update" ]; then
  for n in $names; do
    region "$snipdir/$n.c" >"$tmp/$n.want"
  done
  awk -v dir="$tmp" '
    skip && ($0 == "" || /^    /) { next }
    { skip = 0 }
    /^    \/\* tests\/readme_snippets\/[a-z_0-9]*\.c \*\/$/ {
      print
      name = $0
      sub(/^.*readme_snippets\//, "", name)
      sub(/\.c \*\/$/, "", name)
      file = dir "/" name ".want"
      while ((getline line < file) > 0)
        print line
      close(file)
      print ""
      skip = 1
      next
    }
    { print }
  ' "$readme" >"$tmp/README.new" || exit 99
  if cmp -s "$readme" "$tmp/README.new"; then
    echo "README: already up to date"
  else
    cp "$tmp/README.new" "$readme" && echo "README: snippets updated"
  fi
  exit 0
fi

fail=0

# 1. README shows each snippet exactly as the file has it.
for n in $names; do
  if [ ! -f "$snipdir/$n.c" ]; then
    echo "FAIL: README shows tests/readme_snippets/$n.c, which does not exist"
    fail=1
    continue
  fi
  region "$snipdir/$n.c" >"$tmp/$n.want"
  awk -v name="$n" '
    $0 == "    /* tests/readme_snippets/" name ".c */" { on = 1; next }
    on && ($0 == "" || /^    /) { buf[++k] = $0; next }
    on { exit }
    END {
      while (k > 0 && buf[k] == "")
        k--
      for (i = 1; i <= k; i++)
        print buf[i]
    }' "$readme" >"$tmp/$n.shown"
  if ! cmp -s "$tmp/$n.want" "$tmp/$n.shown"; then
    echo "FAIL: README's block for tests/readme_snippets/$n.c differs" \
      "(run make readme-update):"
    diff -u "$tmp/$n.want" "$tmp/$n.shown" | sed -n '3,40p'
    fail=1
  fi
done

# 2. Every snippet is in README.
for f in "$snipdir"/*.c; do
  n=$(basename "$f" .c)
  case " $(echo $names) " in
    *" $n "*) ;;
    *) echo "FAIL: tests/readme_snippets/$n.c is not shown in README"; fail=1 ;;
  esac
done

# 3. The programs run and check themselves.
run() {
  bin=$builddir/$1$EXEEXT
  if [ ! -x "$bin" ]; then
    echo "FAIL: $bin not built"
    fail=1
    return
  fi
  if command -v timeout >/dev/null 2>&1; then
    timeout 120 "$bin" >"$tmp/out" 2>&1
  else
    "$bin" >"$tmp/out" 2>&1
  fi
  rc=$?
  echo "== $1 (exit $rc)"
  sed 's/^/  /' "$tmp/out"
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: $1 exited with status $rc"
    fail=1
  fi
}
for f in "$snipdir"/*.c; do
  run "tests/readme_snippets/$(basename "$f" .c)"
done
for f in "$srcdir"/man/examples/*.c; do
  run "man/examples/$(basename "$f" .c)"
done

[ "$fail" -eq 0 ] && echo "PASS: README snippets match their programs; all ran"
exit "$fail"
