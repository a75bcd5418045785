/* SPDX-License-Identifier: MIT */
/*
 * error.c - futures_strerror(): the library's meaning of the codes it gives
 * a meaning of its own, and the C library's text for every other code.
 *
 * Every string is a literal, so the function keeps no state, takes no lock
 * and may run in any thread at any time (a signal handler included). For
 * the other codes it needs a strerror() that returns static text:
 * strerrordesc_np() (glibc 2.32 and later) is exactly that; elsewhere the
 * C library's strerror() is used, which glibc and musl implement with
 * static tables for every known code.
 */
#include "internal.h"

#include <string.h>

/* What futures_strerror() says of a code that names no error it knows. */
static const char unknown[] = "Unknown error";

/* The codes listed in the header overview whose strerror() text says
 * something else than what the library means by them. EINVAL and ENOMEM
 * mean what strerror() says, so they are not here. */
static const char *
library_text(int code)
{
  switch (code) {
  case EAGAIN:
    return "no thread could be started, or the queue is full";
  case ESHUTDOWN:
    return "pool is shutting down";
  case ETIMEDOUT:
    return "deadline passed";
  case ECANCELED:
    return "cancelled";
  case ECHILD:
    return "not in this process";
  case EOWNERDEAD:
    return "the task's thread exited";
  case EDEADLK:
    return "would wait for itself";
  case ENOENT:
    return "no future succeeded, or none is left";
  case EINPROGRESS:
    return "task is running";
  case EALREADY:
    return "already settled";
  case EBUSY:
    return "not finished yet";
  case ENOTSUP:
    return "not recorded by this pool";
  default:
    return NULL;
  }
}

const char *
futures_strerror(int code)
{
  const char *s;

  if (code < 0)
    return unknown;
  s = library_text(code);
  if (s != NULL)
    return s;
#ifdef HAVE_STRERRORDESC_NP
  s = strerrordesc_np(code);
#else
  s = strerror(code);
#endif
  return s != NULL ? s : unknown;
}
