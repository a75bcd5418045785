#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Issue 10, lesser defect: include/futures.h defines FUTURES_WARN_UNUSED
# (warn_unused_result) but puts it on no function, so a caller that drops
# the error code of a call that can fail is never told. Compiled with
# -Werror=unused-result against the header:
#   - a file that ignores the result of futures_submit() must not compile,
#     nor one that ignores futures_pool_create(), nor futures_then(), each
#     failing for that reason (the compiler names unused-result);
#   - a file that uses every result must compile.
#
# Environment: top_srcdir (default .), CC (make check passes the one the
# build uses; default cc). Exit 0 on success, 1 with the reasons, 77 (skip)
# when the compiler is not GCC 4 or later or a compatible one (the macro
# then expands to nothing, as the header says), 99 when nothing compiles.
set -u

srcdir=${top_srcdir:-.}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warn_unused.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# compile NAME: compiles $tmp/NAME.c; its messages go to $tmp/NAME.log.
# $cc is left unquoted: CC may hold options ("gcc -std=gnu11").
compile() {
  $cc -std=c11 -I"$srcdir/include" -Werror=unused-result \
    -c "$tmp/$1.c" -o "$tmp/$1.o" >"$tmp/$1.log" 2>&1
}

cat >"$tmp/gnuc.c" <<'EOF'
#if !defined(__GNUC__) || __GNUC__ < 4
#error not a compiler that FUTURES_WARN_UNUSED knows
#endif
int gnuc;
EOF
if ! compile gnuc; then
  echo "SKIP: $cc is not GCC 4 or later (or compatible):"
  sed 's/^/  | /' "$tmp/gnuc.log"
  exit 77
fi

# The common top of every file: a task and a continuation.
head='#include "futures.h"
static int task(void *arg, void **result)
{
  (void)arg;
  (void)result;
  return 0;
}
static int then(void *arg, int code, void *value, void **result)
{
  (void)arg;
  (void)value;
  (void)result;
  return code;
}
int use(futures_pool_t *pool, future_t *f, future_t **out);'

cat >"$tmp/uses_all.c" <<EOF
$head
int use(futures_pool_t *pool, future_t *f, future_t **out)
{
  futures_pool_t *p = 0;
  int rc = futures_pool_create(&p, 1);

  rc |= futures_submit(pool, task, 0, out);
  rc |= futures_then(pool, f, then, 0, out);
  return rc;
}
EOF
cat >"$tmp/ignores_submit.c" <<EOF
$head
int use(futures_pool_t *pool, future_t *f, future_t **out)
{
  (void)f;
  futures_submit(pool, task, 0, out);
  return 0;
}
EOF
cat >"$tmp/ignores_pool_create.c" <<EOF
$head
int use(futures_pool_t *pool, future_t *f, future_t **out)
{
  futures_pool_t *p = 0;

  (void)pool;
  (void)f;
  (void)out;
  futures_pool_create(&p, 1);
  return p != 0;
}
EOF
cat >"$tmp/ignores_then.c" <<EOF
$head
int use(futures_pool_t *pool, future_t *f, future_t **out)
{
  futures_then(pool, f, then, 0, out);
  return 0;
}
EOF

if ! compile uses_all; then
  echo "ERROR: a file that uses every result does not compile with $cc:"
  sed 's/^/  | /' "$tmp/uses_all.log"
  exit 99
fi

status=0
for name in ignores_submit ignores_pool_create ignores_then; do
  case $name in
  ignores_submit) fn=futures_submit ;;
  ignores_pool_create) fn=futures_pool_create ;;
  ignores_then) fn=futures_then ;;
  esac
  if compile "$name"; then
    echo "FAIL: ignoring the result of $fn() compiles with" \
      "-Werror=unused-result (FUTURES_WARN_UNUSED is not on it)"
    status=1
  elif ! grep -q 'unused-result' "$tmp/$name.log"; then
    echo "FAIL: ignoring the result of $fn() failed to compile, but not" \
      "for the unused result:"
    sed 's/^/  | /' "$tmp/$name.log"
    status=1
  else
    echo "ok: ignoring the result of $fn() is an error"
  fi
done
[ "$status" -eq 0 ] && echo "PASS: FUTURES_WARN_UNUSED catches ignored results"
exit "$status"
