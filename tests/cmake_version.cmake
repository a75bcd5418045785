# SPDX-License-Identifier: MIT
#
# Runs find_package(futures ...) in script mode (cmake -P) against the
# futures-config-version.cmake that install-data-local wrote, beside a stub
# futures-config.cmake, for requests relative to the installed version
# M.N: the same major and minor, the major alone, newer minors and majors,
# ranges. Called by tests/check_cmake_install.sh with -DDIR=the directory
# and -DSIZE=the pointer size configure measured; prints FAIL lines.
file(STRINGS "${DIR}/futures-config-version.cmake" _line
     REGEX "^set\\(PACKAGE_VERSION \"")
string(REGEX MATCH "\"([0-9]+)\\.([0-9]+)" _m "${_line}")
set(M "${CMAKE_MATCH_1}")
set(N "${CMAKE_MATCH_2}")
math(EXPR M1 "${M} + 1")
math(EXPR N1 "${N} + 1")
math(EXPR N5 "${N} + 5")
set(CMAKE_SIZEOF_VOID_P "${SIZE}")

function(expect request want)
  unset(futures_FOUND)
  find_package(futures ${request} CONFIG QUIET PATHS "${DIR}"
               NO_DEFAULT_PATH)
  if(futures_FOUND)
    set(got TRUE)
  else()
    set(got FALSE)
  endif()
  if(NOT got STREQUAL want)
    message("FAIL: find_package(futures ${request}) found ${got},"
            " want ${want} (installed ${M}.${N})")
  endif()
endfunction()

expect("${M}.${N}" TRUE)
expect("${M}" TRUE)
expect("${M}.${N1}" FALSE)
expect("${M1}" FALSE)
expect("${M}.0...${M}.${N5}" TRUE)
expect("${M}.${N}...<${M1}" TRUE)
expect("${M}.${N1}...${M}.${N5}" FALSE)
expect("0.0...<${M}.${N}" FALSE)
if(M STREQUAL "0")
  # While the major version is 0 a single version must name the minor.
  if(N GREATER 0)
    math(EXPR N0 "${N} - 1")
    expect("0.${N0}" FALSE)
  endif()
endif()
set(CMAKE_SIZEOF_VOID_P 3)
expect("${M}.${N}" FALSE)
