#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The CMake package files that `make install` writes (Makefile.am,
# install-data-local) name the directories they were installed with, even
# when those hold sed's special characters '&' and '|', and record the
# pointer size configure measured (config.h's SIZEOF_VOID_P), whatever the
# preprocessor does at install time: the install runs with CPP=false. Then
# find_package(futures ...) accepts and refuses the versions
# cmake/futures-config-version.cmake.in says (tests/cmake_version.cmake,
# where cmake is installed). Then `make uninstall` removes them, exits 0,
# and keeps a lib/cmake directory that holds something else.
#
# Exit 0 when all holds, 1 with what failed; 99 when config.h is missing.

set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
make=${MAKE:-make}
# A sub-make of its own: under `make -j check` the parent's jobserver is not
# handed to this script, and the sub-make would warn about it on stderr.
unset MAKEFLAGS MFLAGS MAKELEVEL
config=$builddir/config.h
tmp=${TMPDIR:-/tmp}/check_cmake_install.$$
prefix='/opt/a&b|c'
libdir='/usr/x|y&z/lib64'
cfgdir=$tmp$libdir/cmake/futures
fail=0

if [ ! -r "$config" ]; then
  echo "ERROR: $config not found"
  exit 99
fi
size=$(sed -n 's/^#define SIZEOF_VOID_P \([0-9][0-9]*\)$/\1/p' "$config")
if [ -z "$size" ]; then
  echo "FAIL: config.h has no SIZEOF_VOID_P (configure: AC_CHECK_SIZEOF)"
  exit 1
fi
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp$libdir/cmake/other" || exit 99

if ! (cd "$builddir" && $make -s --no-print-directory install-data-local DESTDIR="$tmp" \
        prefix="$prefix" libdir="$libdir" CPP=false) >"$tmp.log" 2>&1; then
  cat "$tmp.log"
  echo "FAIL: make install-data-local"
  rm -f "$tmp.log"
  exit 1
fi
check() {
  if ! grep -F -x -q -e "$2" "$cfgdir/$1"; then
    echo "FAIL: $1 lacks the line: $2"
    fail=1
  fi
}
check futures-config.cmake "set(futures_INCLUDE_DIR \"$prefix/include\")"
check futures-config.cmake "set(futures_LIBRARY_DIR \"$libdir\")"
check futures-config-version.cmake \
  "   NOT CMAKE_SIZEOF_VOID_P STREQUAL \"$size\")"

# find_package() against the version file, where cmake is installed; a
# stub stands in for futures-config.cmake, which needs a C project.
cm=${CMAKE:-}
if [ -n "$cm" ]; then
  vdir=$tmp/version
  mkdir -p "$vdir" && : >"$vdir/futures-config.cmake" &&
    cp "$cfgdir/futures-config-version.cmake" "$vdir/" || exit 99
  out=$("$cm" -DDIR="$vdir" -DSIZE="$size" \
          -P "$srcdir/tests/cmake_version.cmake" 2>&1) || fail=1
  if [ -n "$out" ]; then
    printf '%s\n' "$out"
    fail=1
  fi
else
  echo "NOTE: cmake not found; find_package() version requests not checked"
fi

if ! (cd "$builddir" && $make -s --no-print-directory uninstall-local DESTDIR="$tmp" \
        prefix="$prefix" libdir="$libdir") >"$tmp.log" 2>&1; then
  cat "$tmp.log"
  echo "FAIL: make uninstall-local"
  fail=1
elif [ -s "$tmp.log" ]; then
  cat "$tmp.log"
  echo "FAIL: make uninstall-local complained"
  fail=1
fi
rm -f "$tmp.log"
[ ! -e "$cfgdir" ] || { echo "FAIL: $cfgdir left behind"; fail=1; }
[ -d "$tmp$libdir/cmake/other" ] || {
  echo "FAIL: uninstall removed lib/cmake/other"
  fail=1
}
[ $fail = 0 ] && echo "PASS: CMake files name '$prefix' and $size-byte pointers"
exit $fail
