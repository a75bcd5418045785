// SPDX-License-Identifier: MIT
/*
 * harness.hpp - what every model program shares: lib/'s declarations
 * under the shim, the functions of lib/ files that the models do not
 * compile (memory, clock, mutex wrappers), per-execution state, and a
 * runner that prints the executions each model explored.
 *
 * A model program is one C++ file that includes this header, then the
 * lib/ .c files it checks (as they are), then defines its models as
 * Relacy test suites derived from futures_model::suite and lists them in
 * a futures_model::entry table for futures_model::main().
 */
#ifndef FUTURES_MODEL_HARNESS_HPP
#define FUTURES_MODEL_HARNESS_HPP

/* The model is the same whatever configure chose (FUTURES_DEBUG 0, no
 * valgrind annotations): it does not read config.h. */
#undef HAVE_CONFIG_H
#include "internal.h"

#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <cstdio>
#include <sstream>

#ifndef FUTURES_MODEL_MAX_THREADS
#define FUTURES_MODEL_MAX_THREADS 8
#endif

namespace futures_model {

/* ------------------------------------------------------------ state */

/* Everything below is reset when an execution starts: nothing a model
 * sees may depend on an earlier execution. */
struct state {
  struct futures_tls tls[FUTURES_MODEL_MAX_THREADS];
  long long clock_ns;
  /* pthread_once: the objects whose function ran in this execution. */
  const pthread_once_t *once_done[16];
  int nonce;
  /* futures__light_barrier() is a compiler barrier only (shim.hpp). */
  int light_compiler_only;
  /* While set, futures__malloc and friends allocate outside Relacy's
   * allocator (see "alloc.c" below); outside[] lists those blocks, which
   * futures__free hands back the same way. */
  int untracked;
  void *outside[16];
};
inline state st;
/* Serialises pthread_once; lives from execution begin to end. */
inline mutex once_lock;

inline global_base *globals_head;

inline global_base::global_base() : next(globals_head) { globals_head = this; }

inline void
globals_create()
{
  for (global_base *g = globals_head; g != NULL; g = g->next)
    g->create();
}

inline void
globals_destroy()
{
  for (global_base *g = globals_head; g != NULL; g = g->next)
    g->destroy();
}

/* The first member of every model: set up before the model's own members
 * are constructed, torn down after they are destroyed. */
class execution {
public:
  execution()
  {
    std::memset(&st, 0, sizeof(st));
    /* Afresh: an execution that failed was abandoned, not torn down. */
    new (&once_lock) mutex();
    pthread_mutex_init(&once_lock, NULL);
    globals_create();
  }
  ~execution()
  {
    globals_destroy();
    pthread_mutex_destroy(&once_lock);
  }
  execution(const execution &) = delete;
  execution &operator=(const execution &) = delete;
};

inline void
once(pthread_once_t *o, void (*fn)(void), rl::debug_info_param info)
{
  int i;

  rl::rl_pthread_mutex_lock(&once_lock, info);
  for (i = 0; i < st.nonce && st.once_done[i] != o; i++)
    ;
  if (i == st.nonce) {
    RL_ASSERT(st.nonce < 16);
    st.once_done[st.nonce++] = o;
    fn();
  }
  rl::rl_pthread_mutex_unlock(&once_lock, info);
}

/* A model: a Relacy test suite whose first member is the execution. */
template <class Derived, rl::thread_id_t Threads>
struct suite : rl::test_suite<Derived, Threads> {
  static_assert(Threads <= FUTURES_MODEL_MAX_THREADS, "too many threads");
  execution exec;
};

} // namespace futures_model

inline void
futures_model::light_barrier(rl::debug_info_param info)
{
  if (!futures_model::st.light_compiler_only)
    (rl::atomic_thread_fence)(rl::mo_seq_cst, info);
}

inline struct futures_tls *
futures_model_tls()
{
  return &futures_model::st.tls[rl::ctx().current_thread()];
}

/* ------------------------------------------------------------ alloc.c */

/* Relacy's allocator: it reports leaks, double frees and use after free.
 * It never fails, so the models do not explore ENOMEM paths.
 *
 * Every free is also a choice Relacy explores (the block reused at once,
 * or later), so each one doubles the executions of a model, those in
 * after() included. A model may set st.untracked while it builds what its
 * threads never free (a pool, in foreign.cpp): those blocks come from the
 * C library instead, and their frees in after() explore nothing. A use
 * after free of their atomics is still reported (their destructors run),
 * a leak or a double free of them is not. */
namespace futures_model {

inline void *
outside_alloc(size_t size)
{
  size_t i;
  void *p;

  for (i = 0; i < 16 && st.outside[i] != NULL; i++)
    ;
  RL_ASSERT(i < 16);
  /* Cache-line aligned: the library's FUTURES_ALIGNED members. */
  p = (::aligned_alloc)(64, (size + 63) & ~(size_t)63);
  RL_ASSERT(p != NULL);
  st.outside[i] = p;
  return p;
}

inline bool
outside_free(void *p)
{
  for (size_t i = 0; i < 16; i++)
    if (p != NULL && st.outside[i] == p) {
      st.outside[i] = NULL;
      (::free)(p);
      return true;
    }
  return false;
}

} // namespace futures_model

inline void *
futures__malloc(size_t n)
{
  if (futures_model::st.untracked)
    return futures_model::outside_alloc(n);
  return rl::rl_malloc(n, $);
}

inline void *
futures__calloc(size_t n, size_t size)
{
  if (futures_model::st.untracked) {
    void *p = futures_model::outside_alloc(n * size);

    std::memset(p, 0, n * size);
    return p;
  }
  return rl::rl_calloc(n, size, $);
}

inline void *
futures__aligned_malloc(size_t size)
{
  return futures__malloc(size);
}

inline void
futures__free(void *p)
{
  if (!futures_model::outside_free(p))
    rl::rl_free(p, $);
}

/* ------------------------------------------------------------ sync.c */

/* A clock that starts at 0 in every execution and moves 1 us per read: time
 * is deterministic, and a timed wait may time out or not (Relacy explores
 * both). */
inline long long
futures__now_ns(void)
{
  return futures_model::st.clock_ns += 1000;
}

inline void
futures__mutex_init(pthread_mutex_t *m)
{
  pthread_mutex_init(m, NULL);
}

inline void
futures__mutex_destroy(pthread_mutex_t *m)
{
  pthread_mutex_destroy(m);
}

inline void
futures__mutex_lock(pthread_mutex_t *m)
{
  pthread_mutex_lock(m);
}

inline void
futures__mutex_unlock(pthread_mutex_t *m)
{
  pthread_mutex_unlock(m);
}

inline void
futures__cond_init(pthread_cond_t *c)
{
  pthread_cond_init(c, NULL);
}

inline void
futures__cond_destroy(pthread_cond_t *c)
{
  pthread_cond_destroy(c);
}

inline void
futures__cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
  pthread_cond_wait(c, m);
}

/* A timed wait may time out or not whatever the deadline (Relacy explores
 * both); FUTURES_FOREVER waits untimed, as in sync.c. */
inline int
futures__cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m,
                         long long deadline)
{
  struct timespec ts = {0, 0};

  if (deadline == FUTURES_FOREVER) {
    pthread_cond_wait(c, m);
    return 0;
  }
  return pthread_cond_timedwait(c, m, &ts) == 0 ? 0 : ETIMEDOUT;
}

inline void
futures__cond_signal(pthread_cond_t *c)
{
  pthread_cond_signal(c);
}

inline void
futures__cond_broadcast(pthread_cond_t *c)
{
  pthread_cond_broadcast(c);
}

/* ------------------------------------------------------------ runner */

namespace futures_model {

struct entry {
  const char *name;
  const char *what;
  /* Runs the model under @p; false if it failed. */
  bool (*run)(rl::test_params &p);
  rl::scheduler_type_e sched;
  unsigned bound; /* context switches, for sched_bound */
};

template <class Suite>
bool
run(rl::test_params &p)
{
  return rl::simulate<Suite>(p);
}

/* Relacy's report, held in a fixed buffer: it writes while its allocator
 * owns operator new, so a std::ostringstream growing then would hand it
 * memory it did not allocate. Whatever does not fit goes to stdout. */
class holdbuf : public std::streambuf {
public:
  holdbuf() { setp(buf_, buf_ + sizeof(buf_)); }
  void emit() { dump(); }
  void drop() { setp(buf_, buf_ + sizeof(buf_)); }

protected:
  int overflow(int c) override
  {
    dump();
    if (c != EOF)
      sputc((char)c);
    return c;
  }

private:
  char buf_[1 << 20];
  void dump()
  {
    std::fwrite(pbase(), 1, (size_t)(pptr() - pbase()), stdout);
    std::fflush(stdout);
    drop();
  }
};

/* Runs the models named on the command line (all when none is), each
 * printing one line: executions explored, seconds, verdict. A failing
 * model also prints Relacy's report and the failing execution's history.
 * "--bound N" sets the context bound of the bounded models; "--list"
 * lists the models. Exit status 1 if any model failed. */
inline int
main(int argc, char **argv, const entry *models, size_t n)
{
  unsigned bound = 0;
  int failed = 0, ran = 0;
  bool named = false;

  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--list") == 0) {
      for (size_t k = 0; k < n; k++)
        std::cout << models[k].name << "\t" << models[k].what << "\n";
      return 0;
    }
    if (std::strcmp(argv[i], "--bound") == 0 && i + 1 < argc)
      bound = (unsigned)std::atoi(argv[++i]);
    else
      named = true;
  }
  for (size_t k = 0; k < n; k++) {
    const entry &m = models[k];
    bool wanted = !named;

    for (int i = 1; i < argc; i++)
      if (std::strcmp(argv[i], "--bound") == 0)
        i++;
      else if (std::strcmp(argv[i], m.name) == 0)
        wanted = true;
    if (!wanted)
      continue;

    static holdbuf held;
    std::ostream report(&held), progress(nullptr);
    rl::test_params p;
    p.search_type = m.sched;
    p.context_bound = bound != 0 ? bound : m.bound;
    p.output_stream = &report;
    p.progress_stream = std::getenv("FUTURES_MODEL_PROGRESS") != NULL
                            ? &std::cerr
                            : &progress;

    std::ostringstream how;
    if (m.sched == rl::sched_bound)
      how << "context bound " << p.context_bound;
    else
      how << "full search";
    std::cout << m.name << " (" << m.what << "; " << how.str() << "): "
              << std::flush;
    auto t0 = std::chrono::steady_clock::now();
    bool ok = m.run(p);
    std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    std::cout << p.stop_iteration << " executions, " << std::fixed
              << std::setprecision(1) << dt.count() << " s: "
              << (ok ? "ok" : "FAILED") << std::endl;
    if (!ok) {
      held.emit();
      failed++;
    }
    held.drop();
    ran++;
  }
  if (ran == 0) {
    std::cerr << argv[0] << ": no such model (--list lists them)\n";
    return 2;
  }
  return failed != 0;
}

} // namespace futures_model

#endif /* FUTURES_MODEL_HARNESS_HPP */
