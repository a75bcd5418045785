/* SPDX-License-Identifier: MIT */
/*
 * Built by `make installcheck` against the *installed* library, with the
 * flags `pkg-config --cflags --libs futures` gives, outside the build tree.
 * It proves that the header, the .pc file and the shared library agree:
 * one task runs and its result comes back, and the library linked at run
 * time reports the version the header was compiled with.
 */
#include <futures.h>

#include <stdint.h>
#include <stdio.h>

static int
add_one(void *arg, void **result)
{
  *result = (void *)((uintptr_t)arg + 1);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool = NULL;
  future_t *future = NULL;
  void *result = NULL;
  int rc;

  if (futures_version() != FUTURES_VERSION_HEX) {
    fprintf(stderr, "install_smoke: header 0x%06x, library 0x%06x (%s)\n",
            (unsigned)FUTURES_VERSION_HEX, futures_version(),
            futures_version_string());
    return 1;
  }
  rc = futures_pool_create(&pool, 2);
  if (rc != 0) {
    fprintf(stderr, "install_smoke: futures_pool_create: %d\n", rc);
    return 1;
  }
  rc = futures_submit(pool, add_one, (void *)(uintptr_t)41, &future);
  if (rc == 0)
    rc = future_get(future, &result);
  future_release(future);
  if (futures_pool_destroy(pool) != 0 || rc != 0 ||
      (uintptr_t)result != 42) {
    fprintf(stderr, "install_smoke: task failed (rc %d)\n", rc);
    return 1;
  }
  printf("OK libfutures %s\n", futures_version_string());
  return 0;
}
