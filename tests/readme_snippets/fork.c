/* SPDX-License-Identifier: MIT */
/* README snippet: the fork() policy (see seed.c for the markers). */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008 beside C11 */
#include <errno.h>
#include <futures.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int
answer(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static pthread_barrier_t all_up;

/* Returns once both workers and the main thread are here. */
static int
meet(void *arg, void **result)
{
  (void)arg;
  (void)result;
  pthread_barrier_wait(&all_up);
  return 0;
}

int
main(void)
{
  futures_pool_t *pool;
  future_t *done;
  int status, ok = 1;
  pid_t pid;

  if (futures_pool_create(&pool, 2) != 0)
    return 1;
  if (futures_submit(pool, answer, (void *)"42", &done) != 0 ||
      future_get(done, NULL) != 0)
    return 1;
  /*
   * Not part of the example: fork only once both workers have started.
   * A thread that is still starting may be inside malloc(), and under
   * GCC 12's AddressSanitizer, whose allocator is not locked around
   * fork(), the child would then inherit that lock held and hang (glibc's
   * own malloc is safe here). Waiting on a plain barrier, not through the
   * library, makes both workers run one task each at the same time.
   */
  {
    future_t *m[2];

    if (pthread_barrier_init(&all_up, NULL, 3) != 0 ||
        futures_submit(pool, meet, NULL, &m[0]) != 0 ||
        futures_submit(pool, meet, NULL, &m[1]) != 0)
      return 1;
    pthread_barrier_wait(&all_up);
    if (futures_join_all(m, 2, NULL) != 0)
      return 1;
    future_release(m[0]);
    future_release(m[1]);
    pthread_barrier_destroy(&all_up);
  }
  fflush(stdout);
  /* README: begin */
  pid = fork();
  if (pid == 0) {
    /* The child has no workers: the parent's pool answers ECHILD, a
     * finished future still has its outcome, and a new pool works. */
    futures_pool_t *fresh;
    future_t *f;
    void *v;
    int bad = futures_submit(pool, answer, (void *)"x", &f) != ECHILD;

    bad |= future_get(done, &v) != 0;
    bad |= futures_pool_create(&fresh, 1) != 0;
    bad |= futures_submit(fresh, answer, (void *)"new", &f) != 0 ||
           future_get(f, &v) != 0;
    future_release(f);
    bad |= futures_pool_destroy(fresh) != 0;
    _exit(bad); /* the parent's pool is left alone */
  }
  /* README: end */
  ok &= pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0;
  printf("child: %s\n", ok ? "ECHILD for the old pool, a new pool works"
                           : "FAILED");
  future_release(done);
  ok &= futures_pool_destroy(pool) == 0;
  return ok ? 0 : 1;
}
