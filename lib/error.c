/* SPDX-License-Identifier: MIT */
/*
 * error.c - futures_strerror(): the library's meaning of the codes it gives
 * a meaning of its own, and the C library's untranslated text for every
 * other code.
 *
 * Every string is a literal, so the function keeps no state, takes no lock,
 * never reads the locale and may run in any thread at any time (a signal
 * handler included). For the other codes it needs static, untranslated
 * text: strerrordesc_np() (glibc 2.32 and later) is exactly that. Elsewhere
 * (older glibc, musl) strerror() is no substitute: for a code it does not
 * know it writes into a buffer that the next call overwrites (glibc 2.32
 * and later frees it at thread exit), and it follows LC_MESSAGES. There the
 * POSIX codes read from the table below, in glibc's wording, and every
 * other code is "Unknown error".
 *
 * FUTURES_TEST_STRERROR_FALLBACK, set only by a test build of this file
 * (tests/check_strerror_fallback), takes the table's branch where
 * strerrordesc_np() exists, so that the suite covers it.
 */
#include "internal.h"

#include <string.h>

#if defined(HAVE_STRERRORDESC_NP) && !defined(FUTURES_TEST_STRERROR_FALLBACK)
#define USE_STRERRORDESC_NP 1
#endif

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

#ifndef USE_STRERRORDESC_NP
/* The codes of POSIX's <errno.h> that are not in library_text(), with
 * glibc's C-locale text; each only where the C library defines it. */
static const struct {
  int code;
  const char *text;
} posix_texts[] = {
  { 0, "Success" },
#ifdef E2BIG
  { E2BIG, "Argument list too long" },
#endif
#ifdef EACCES
  { EACCES, "Permission denied" },
#endif
#ifdef EADDRINUSE
  { EADDRINUSE, "Address already in use" },
#endif
#ifdef EADDRNOTAVAIL
  { EADDRNOTAVAIL, "Cannot assign requested address" },
#endif
#ifdef EAFNOSUPPORT
  { EAFNOSUPPORT, "Address family not supported by protocol" },
#endif
#ifdef EBADF
  { EBADF, "Bad file descriptor" },
#endif
#ifdef EBADMSG
  { EBADMSG, "Bad message" },
#endif
#ifdef ECONNABORTED
  { ECONNABORTED, "Software caused connection abort" },
#endif
#ifdef ECONNREFUSED
  { ECONNREFUSED, "Connection refused" },
#endif
#ifdef ECONNRESET
  { ECONNRESET, "Connection reset by peer" },
#endif
#ifdef EDESTADDRREQ
  { EDESTADDRREQ, "Destination address required" },
#endif
#ifdef EDOM
  { EDOM, "Numerical argument out of domain" },
#endif
#ifdef EDQUOT
  { EDQUOT, "Disk quota exceeded" },
#endif
#ifdef EEXIST
  { EEXIST, "File exists" },
#endif
#ifdef EFAULT
  { EFAULT, "Bad address" },
#endif
#ifdef EFBIG
  { EFBIG, "File too large" },
#endif
#ifdef EHOSTUNREACH
  { EHOSTUNREACH, "No route to host" },
#endif
#ifdef EIDRM
  { EIDRM, "Identifier removed" },
#endif
#ifdef EILSEQ
  { EILSEQ, "Invalid or incomplete multibyte or wide character" },
#endif
#ifdef EINTR
  { EINTR, "Interrupted system call" },
#endif
#ifdef EINVAL
  { EINVAL, "Invalid argument" },
#endif
#ifdef EIO
  { EIO, "Input/output error" },
#endif
#ifdef EISCONN
  { EISCONN, "Transport endpoint is already connected" },
#endif
#ifdef EISDIR
  { EISDIR, "Is a directory" },
#endif
#ifdef ELOOP
  { ELOOP, "Too many levels of symbolic links" },
#endif
#ifdef EMFILE
  { EMFILE, "Too many open files" },
#endif
#ifdef EMLINK
  { EMLINK, "Too many links" },
#endif
#ifdef EMSGSIZE
  { EMSGSIZE, "Message too long" },
#endif
#ifdef EMULTIHOP
  { EMULTIHOP, "Multihop attempted" },
#endif
#ifdef ENAMETOOLONG
  { ENAMETOOLONG, "File name too long" },
#endif
#ifdef ENETDOWN
  { ENETDOWN, "Network is down" },
#endif
#ifdef ENETRESET
  { ENETRESET, "Network dropped connection on reset" },
#endif
#ifdef ENETUNREACH
  { ENETUNREACH, "Network is unreachable" },
#endif
#ifdef ENFILE
  { ENFILE, "Too many open files in system" },
#endif
#ifdef ENOBUFS
  { ENOBUFS, "No buffer space available" },
#endif
#ifdef ENODATA
  { ENODATA, "No data available" },
#endif
#ifdef ENODEV
  { ENODEV, "No such device" },
#endif
#ifdef ENOEXEC
  { ENOEXEC, "Exec format error" },
#endif
#ifdef ENOLCK
  { ENOLCK, "No locks available" },
#endif
#ifdef ENOLINK
  { ENOLINK, "Link has been severed" },
#endif
#ifdef ENOMEM
  { ENOMEM, "Cannot allocate memory" },
#endif
#ifdef ENOMSG
  { ENOMSG, "No message of desired type" },
#endif
#ifdef ENOPROTOOPT
  { ENOPROTOOPT, "Protocol not available" },
#endif
#ifdef ENOSPC
  { ENOSPC, "No space left on device" },
#endif
#ifdef ENOSR
  { ENOSR, "Out of streams resources" },
#endif
#ifdef ENOSTR
  { ENOSTR, "Device not a stream" },
#endif
#ifdef ENOSYS
  { ENOSYS, "Function not implemented" },
#endif
#ifdef ENOTCONN
  { ENOTCONN, "Transport endpoint is not connected" },
#endif
#ifdef ENOTDIR
  { ENOTDIR, "Not a directory" },
#endif
#ifdef ENOTEMPTY
  { ENOTEMPTY, "Directory not empty" },
#endif
#ifdef ENOTRECOVERABLE
  { ENOTRECOVERABLE, "State not recoverable" },
#endif
#ifdef ENOTSOCK
  { ENOTSOCK, "Socket operation on non-socket" },
#endif
#ifdef ENOTTY
  { ENOTTY, "Inappropriate ioctl for device" },
#endif
#ifdef ENXIO
  { ENXIO, "No such device or address" },
#endif
#ifdef EOVERFLOW
  { EOVERFLOW, "Value too large for defined data type" },
#endif
#ifdef EPERM
  { EPERM, "Operation not permitted" },
#endif
#ifdef EPIPE
  { EPIPE, "Broken pipe" },
#endif
#ifdef EPROTO
  { EPROTO, "Protocol error" },
#endif
#ifdef EPROTONOSUPPORT
  { EPROTONOSUPPORT, "Protocol not supported" },
#endif
#ifdef EPROTOTYPE
  { EPROTOTYPE, "Protocol wrong type for socket" },
#endif
#ifdef ERANGE
  { ERANGE, "Numerical result out of range" },
#endif
#ifdef EROFS
  { EROFS, "Read-only file system" },
#endif
#ifdef ESPIPE
  { ESPIPE, "Illegal seek" },
#endif
#ifdef ESRCH
  { ESRCH, "No such process" },
#endif
#ifdef ESTALE
  { ESTALE, "Stale file handle" },
#endif
#ifdef ETIME
  { ETIME, "Timer expired" },
#endif
#ifdef ETXTBSY
  { ETXTBSY, "Text file busy" },
#endif
#ifdef EXDEV
  { EXDEV, "Invalid cross-device link" },
#endif
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
  { EOPNOTSUPP, "Operation not supported" },
#endif
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
  { EWOULDBLOCK, "Resource temporarily unavailable" },
#endif
};

/* The table's text for @code, or NULL for a code it does not have. */
static const char *
posix_text(int code)
{
  for (size_t i = 0; i < sizeof(posix_texts) / sizeof(posix_texts[0]); i++)
    if (posix_texts[i].code == code)
      return posix_texts[i].text;
  return NULL;
}
#endif

const char *
futures_strerror(int code)
{
  const char *s;

  if (code < 0)
    return unknown;
  s = library_text(code);
  if (s != NULL)
    return s;
#ifdef USE_STRERRORDESC_NP
  s = strerrordesc_np(code);
#else
  s = posix_text(code);
#endif
  return s != NULL ? s : unknown;
}
