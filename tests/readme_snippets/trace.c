/* SPDX-License-Identifier: MIT */
/* README snippet: a timeline for Perfetto (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <fcntl.h>
#include <futures.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
nap(void *arg, void **result)
{
  struct timespec d = { 0, (long)arg * 1000000L };

  (void)result;
  nanosleep(&d, NULL);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *f[2];
  char head[64] = "";
  int fd, ok = 1;

  /* README: begin */
  futures_pool_opts_t opts = FUTURES_POOL_OPTS_INIT;

  opts.nthreads = 2;
  opts.flags = FUTURES_POOL_TRACE; /* record a timeline */
  if (futures_pool_create_ex(&pool, &opts) != 0)
    return 1;

  /* await Promise.all([a, b]) */
  if (futures_submit(pool, nap, (void *)100L, &f[0]) != 0 ||
      futures_submit(pool, nap, (void *)50L, &f[1]) != 0 ||
      futures_join_all(f, 2, NULL) != 0)
    return 1;

  fd = open("trace.json", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || futures_pool_trace_write(pool, fd) != 0)
    return 1;
  close(fd); /* open trace.json in https://ui.perfetto.dev */
  /* README: end */
  fd = open("trace.json", O_RDONLY);
  ok &= fd >= 0 && read(fd, head, sizeof(head) - 1) > 0;
  ok &= strncmp(head, "{\"displayTimeUnit\"", 18) == 0;
  if (fd >= 0)
    close(fd);
  ok &= unlink("trace.json") == 0;
  future_release(f[0]);
  future_release(f[1]);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
