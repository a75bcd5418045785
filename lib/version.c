/* SPDX-License-Identifier: MIT */
/*
 * version.c - the version of the library actually linked.
 */
#include "internal.h"

unsigned
futures_version(void)
{
  return FUTURES_VERSION_HEX;
}

const char *
futures_version_string(void)
{
  return FUTURES_VERSION_STRING;
}
