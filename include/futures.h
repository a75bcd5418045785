/* SPDX-License-Identifier: MIT */
/*
 * libfutures - a fixed pool of POSIX worker threads that runs tasks into
 * futures, and the ways to wait for them.
 *
 * A task is a function that returns 0 and stores a result, or returns a
 * positive error code (the C form of a rejected promise). futures_submit()
 * hands it to a pool and gives back a future_t. The caller then either waits
 * for futures one after another with future_get() (JavaScript's
 * `await a; await b;`), or for many at once with futures_join_all()
 * (`await Promise.all([a, b])`). The other Promise combinators, deadlines,
 * continuations and cancellation are below.
 *
 * Global rules
 *
 *   Errors.  Every function that can fail returns an int: 0 on success or a
 *            positive <errno.h> value, the way pthreads does. errno is never
 *            set. The library's own codes each keep one meaning:
 *              EINVAL     an argument is unusable (NULL, zero count, bad
 *                         option); nothing was done.
 *              ENOMEM     memory could not be allocated; nothing was done.
 *              EAGAIN     a worker thread could not be started (pool
 *                         creation), or a bounded queue is full (submit
 *                         with FUTURES_OVERFLOW_FAIL).
 *              ESHUTDOWN  the pool is being destroyed; the task was not
 *                         accepted and will not run.
 *              ETIMEDOUT  a deadline passed; the futures are untouched.
 *              ECANCELED  the library cancelled the task before it started
 *                         (future_cancel(), FUTURES_DESTROY_CANCEL), or
 *                         futures_parallel_for() stopped early because it
 *                         was cancelled.
 *              ECHILD     the pool or future belongs to the parent process
 *                         of a fork() (see "fork" below).
 *              EOWNERDEAD the thread running the task exited inside it
 *                         (pthread_exit() or a cancellation it let
 *                         through); see "Tasks" below.
 *              EDEADLK    futures_pool_destroy() called from one of the
 *                         pool's own tasks or from its timer thread (an
 *                         inline continuation of one of its timers), or a
 *                         task waiting (future_get(),
 *                         a wait or a join) for its own future, which
 *                         could never finish; nothing was done.
 *            And, each from the functions named only: ENOENT
 *            (futures_join_any_ok, and the future of futures_any_ok: no
 *            future succeeded; futures_winner: no winner), EINPROGRESS
 *            (future_cancel: the task is running), EALREADY (future_cancel,
 *            future_resolve, future_reject, futures_cancel_inputs: settled
 *            already), EBUSY (future_times, futures_winner: not finished)
 *            and ENOTSUP (future_times: the pool records no times).
 *            Functions that report a task's outcome (future_get(), the join
 *            family) return the task's own code, which may be any positive
 *            value, including the ones above: the library reports EINVAL
 *            only when an argument itself is unusable, and ECANCELED only
 *            for a task it cancelled (a running task that was asked to stop
 *            may of course return ECANCELED itself). A task should return
 *            codes from <errno.h> so that strerror() describes them;
 *            futures_strerror() gives the library's meaning of the codes
 *            above (a task's own code among them reads with that meaning
 *            too) and the C library's untranslated text for the others.
 *
 *   Threads. Every function is safe to call from any thread at the same
 *            time as any other, on the same or different objects, except
 *            where its "Threads:" line says otherwise
 *            (tests: check_stress/test_stress_mixed_workload_quick,
 *            check_matrix[* x SECOND_*, * x SUBMITTER],
 *            check_submit/test_submit_from_many_threads_runs_every_task_exactly_once,
 *            check_then/test_then_attached_from_many_threads_runs_each_once).
 *            Releasing a future is the end of the caller's use of that
 *            handle: no other call on it may run concurrently with, or
 *            after, future_release() (as with free())
 *            (tests: check_release/test_release_racing_with_completion_runs_every_task_once,
 *            check_release/test_release_while_the_task_runs_lets_it_finish,
 *            check_release/test_release_use_of_a_released_queued_future_is_einval_in_debug).
 *            A pool may still be used by other threads while
 *            futures_pool_destroy() runs: a submit then returns ESHUTDOWN
 *            or its task runs before destroy returns, never neither
 *            (tests: check_interleave/test_interleave_submit_admitted_before_destroy_runs,
 *            check_shutdown/test_shutdown_submit_after_destroy_began_returns_eshutdown,
 *            check_stress/test_stress_mixed_workload_quick). But as with
 *            free(), no call may use a pool once its destroy can have
 *            returned: a thread racing destroy must know the pool is still
 *            there (it is one of the pool's tasks, or destroy's caller
 *            waits for it)
 *            (tests: check_shutdown/test_shutdown_drain_runs_subtasks_submitted_during_it,
 *            check_shutdown/test_shutdown_cancel_cancels_every_queued_task_and_runs_none,
 *            check_stats/test_stats_reports_shutting_down_during_destroy).
 *
 *   Tasks.   A task may call every function in this header, including the
 *            blocking ones: a task that waits on a future that has not
 *            started runs it itself, and a worker that waits for a task
 *            running elsewhere runs its own pending sub-tasks meanwhile, so
 *            nested fork-join never deadlocks, even on a 1-thread pool
 *            (tests: check_nested/test_nested_fib20_on_one_thread_pool,
 *            check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_nested/test_nested_worker_waiting_for_a_running_task_runs_its_own_subtasks,
 *            check_matrix[* x WORKER_HELPS]). The
 *            two exceptions are futures_pool_destroy() of the task's own
 *            pool (EDEADLK) and FUTURES_OVERFLOW_BLOCK, which runs the task
 *            in the caller when called from one of the pool's own tasks
 *            (tests: check_shutdown/test_shutdown_destroy_inside_own_task_returns_edeadlk,
 *            check_faults/test_faults_destroy_own_pool_from_any_task_is_edeadlk,
 *            check_backpressure/test_backpressure_block_from_task_runs_in_caller).
 *            A task that calls pthread_exit() ends the thread running it,
 *            as it asked: its future finishes with EOWNERDEAD, a worker is
 *            replaced by a new thread (the pool keeps its size), and no
 *            other task or waiter is affected (but a task that a waiting
 *            thread runs in place runs on that thread: if it exits, so
 *            does the waiter)
 *            (tests: check_faults/test_faults_pthread_exit_on_a_worker_finishes_with_eownerdead,
 *            check_faults/test_faults_many_pthread_exits_leave_other_tasks_alone,
 *            check_faults/test_faults_pthread_exit_in_a_waiting_thread_closes_its_help,
 *            check_matrix[* x PTHREAD_EXIT]). If no new thread can be
 *            started the pool goes on with one worker fewer; a pool left
 *            with none runs its queued tasks only in threads that wait for
 *            them (future_get(), futures_join_all(), _settled()) and in
 *            futures_pool_destroy(), which runs what is left in its own
 *            thread
 *            (tests: check_faults/test_faults_failed_replacement_leaves_the_pool_one_worker_fewer,
 *            check_faults/test_faults_get_runs_queued_task_when_no_worker_is_left,
 *            check_faults/test_faults_destroy_runs_queued_tasks_when_no_worker_is_left).
 *            A task that never returns keeps its worker, and
 *            futures_pool_destroy() waits for it: poll futures_cancelled()
 *            in long tasks so that FUTURES_DESTROY_CANCEL can stop them
 *            (tests: check_shutdown/test_shutdown_destroy_waits_for_a_task_that_is_still_running,
 *            check_cancel/test_destroy_cancel_flags_running_and_cancels_queued).
 *
 *   Your code runs in these threads. A task's body and a futures_then()
 *            continuation: a worker of its pool, or a thread waiting for it
 *            that runs it in place (future_get(), the untimed joins). A
 *            drop function: the thread that cancelled the task (or the
 *            pool's destroy). An inline continuation (futures_then_inline()):
 *            the thread that settled its antecedent (a worker, a resolving
 *            thread, a pool's timer thread, the thread that settled a
 *            combinator's last input or cancelled something), or the caller
 *            when the antecedent had settled already. A notifier's
 *            deliveries are no user code: they run where the future settles,
 *            and the loop takes the tags in its own thread. A cancel hook
 *            (futures_on_cancel()): the thread calling future_cancel() or the
 *            pool's destroy. A result destructor: the thread that drops the
 *            future's last reference. futures_pool_destroy_async(): its own
 *            library thread settles its future (and runs that future's inline
 *            continuations)
 *            (tests: check_then/test_then_inline_runs_in_the_settling_thread,
 *            check_then/test_then_across_pools_runs_on_the_named_pool,
 *            check_cancel/test_cancel_hook_wakes_a_task_blocked_in_poll).
 *
 *   Order.   A worker takes the tasks that one outside thread submitted to
 *            a pool oldest first, one at a time: when one of them starts,
 *            every task the same thread submitted earlier has started or is
 *            being started by another worker (so at most nworkers - 1 of
 *            them are still to start)
 *            (tests: check_submit/test_submit_from_one_thread_starts_tasks_oldest_first,
 *            check_submit/test_submit_all_from_one_thread_starts_tasks_oldest_first,
 *            check_submit/test_submit_from_outside_runs_tasks_in_fifo_order,
 *            check_bulk/test_submit_all_queues_tasks_in_order). A pool
 *            created with FUTURES_POOL_BATCH trades that for throughput:
 *            a worker that finds its own deque empty takes up to 8 of one
 *            outside thread's queued tasks at once, starts the oldest and
 *            keeps the others in its deque, where it starts them oldest
 *            first and idle workers may steal them. Its tasks then start
 *            oldest first on a 1-worker pool, and with more workers, when
 *            one of them starts, at most 8 * nworkers - 1 tasks the same
 *            thread submitted earlier are still to start (a kept task may
 *            wait for the current task of the worker that took it while
 *            later ones start elsewhere, within that bound). A pool that
 *            has seen a task of another priority (below) takes one at a
 *            time from then on. When a pool has no worker left (each
 *            ended inside a task and none could be replaced), destroy
 *            runs the tasks still in outside threads' queues before the
 *            ones kept in deques. With many tiny tasks submitted
 *            from outside, the workers touch the submitter's queue and
 *            records a few times per batch instead of once per task
 *            (BENCHMARKS.md, W2)
 *            (tests: check_submit/test_submit_batch_pool_starts_oldest_first_on_one_worker,
 *            check_submit/test_submit_batch_pool_starts_within_its_bound,
 *            check_submit/test_submit_batch_pool_worker_takes_several_at_once,
 *            check_submit/test_submit_batch_pool_takes_one_at_a_time_after_priorities). Tasks
 *            submitted from one of the pool's tasks go to that thread's own
 *            deque, which it runs newest first and idle workers steal from
 *            oldest first
 *            (tests: check_submit/test_submit_from_a_task_runs_newest_first_and_is_stolen_oldest_first,
 *            check_queue/test_queue_deque_pop_is_lifo,
 *            check_queue/test_queue_deque_steal_is_fifo). A thread that
 *            waits for a task which has not started runs it at once, ahead
 *            of that order (future_get(), futures_join_all(), _settled();
 *            the other joins do so only from one of the pool's tasks)
 *            (tests: check_future/test_future_get_runs_an_unstarted_task_in_the_caller,
 *            check_join/test_join_all_runs_unstarted_futures_in_the_caller,
 *            check_nested/test_nested_external_join_all_runs_queued_tasks_itself,
 *            check_matrix[busy1 GET x SUBMITTER, busy1 JOIN_ALL x SUBMITTER,
 *            busy1 JOIN_ALL_SETTLED x SUBMITTER],
 *            check_priority/test_priority_get_runs_a_queued_task_of_any_level_in_the_caller).
 *            Two rare cases fall
 *            outside this order: a thread with tasks pending in more than
 *            eight pools at once, and a submit that found no memory for its
 *            queue (its tasks then go to the pool's injection queue)
 *            (tests: check_submit/test_submit_to_more_than_eight_pools_from_one_thread_runs_every_task,
 *            check_faults/test_faults_subtask_fanout_survives_every_allocation_failure,
 *            check_faults/test_faults_every_allocation_failure_is_enomem_or_harmless).
 *            Priorities (futures_task_t.priority) come before that order
 *            for tasks submitted from outside the pool's tasks: a queued
 *            high task starts before any queued normal one, and a normal
 *            one before any low one, from whichever outside thread they
 *            came. The order holds for tasks queued before a worker looks
 *            for its next task: one queued while a worker looks may start
 *            after a task of a lower level that the same look took (with
 *            several workers, as above: when a normal task starts, at most
 *            nworkers - 1 queued high ones are still being started)
 *            (tests: check_priority/test_priority_queued_high_starts_before_every_queued_normal,
 *            check_priority/test_priority_high_before_normal_with_several_workers,
 *            check_priority/test_priority_low_waits_for_normals_a_crowd_of_workers_contends_for,
 *            check_priority/test_priority_submit_all_mixed_levels_start_by_level,
 *            check_faults/test_faults_destroy_with_no_worker_left_runs_high_first_low_last),
 *            except for aging: once FUTURES_PRIORITY_AGING higher tasks in
 *            a row have started while a lower one waited, the next task of
 *            that level, in that level's own order, starts next (a low one
 *            first when both levels are due), so no level starves under a
 *            steady stream of a higher one. A task cancelled, or run by a
 *            thread waiting for it, before a worker took it does not count
 *            as started. The count is exact on a 1-thread pool; with more
 *            workers, looks at the same moment may each count or serve, so
 *            it is approximate by about the number of workers
 *            (tests: check_priority/test_priority_aging_starts_a_normal_task_after_aging_high_ones,
 *            check_priority/test_priority_low_tasks_finish_under_a_steady_stream_of_high_ones,
 *            check_priority/test_priority_aging_skips_cancelled_and_helped_tasks,
 *            check_priority/test_priority_aging_skips_a_cancelled_low_task).
 *            High and low tasks from outside start oldest first within
 *            their level. Sub-tasks, submitted from inside one of the
 *            pool's tasks, go to that thread's deque whatever their level
 *            and follow the deque's order, so that the task's waits run
 *            them as "Tasks" says
 *            (tests: check_priority/test_priority_from_a_task_goes_to_its_own_deque_whatever_its_level,
 *            check_priority/test_priority_task_waiting_runs_its_own_high_and_low_subtasks,
 *            check_priority/test_priority_nested_fork_join_of_high_and_low_on_one_thread_pool).
 *            "Inside" means a thread that holds a place in the pool: its
 *            workers (also in a callback or inline continuation they run
 *            after a body), and a waiting outside thread while it runs one
 *            of the pool's tasks, unless every spare place was taken (then
 *            its submits count as from outside, and a task left in its
 *            deque goes to the pool's injection queue as a normal one).
 *            Continuations are normal tasks
 *            (tests: check_priority/test_priority_continuations_are_normal).
 *
 *   Memory.  Futures and pools are opaque and owned by the library. A future
 *            handle stays valid until future_release(), even after its pool
 *            has been destroyed
 *            (tests: check_release/test_release_after_pool_destroy_frees_the_future,
 *            check_shutdown/test_shutdown_futures_stay_valid_after_destroy);
 *            results are opaque pointers that the library never
 *            dereferences or frees
 *            (tests: check_submit/test_submit_returns_future_with_task_value,
 *            check_submit/test_submit_each_future_gets_its_own_task_value,
 *            check_join/test_join_all_over_100000_futures_fills_every_result).
 *            Using a future after future_release() is undefined; builds
 *            configured with --enable-debug detect it as long as the record
 *            has not been reused for another future (it keeps a count of
 *            handles and a poisoned magic number), print a message and
 *            return EINVAL (future_release() and future_is_ready() then do
 *            nothing and return 0)
 *            (tests: check_faults/test_faults_use_after_release_is_detected_in_debug_builds,
 *            check_release/test_release_use_of_a_released_queued_future_is_einval_in_debug);
 *            under AddressSanitizer, which gives every record its own
 *            allocation, the sanitizer reports it instead
 *            (tests: check_release/test_release_use_after_release_is_reported_by_asan).
 *
 *   Visibility. What the submitting thread wrote before futures_submit*()
 *            or futures_then() returned happens before the task or the
 *            continuation starts
 *            (tests: check_visibility/test_visibility_submit_writes_reach_the_task,
 *            check_visibility/test_visibility_submit_ex_writes_reach_the_task,
 *            check_visibility/test_visibility_submit_all_writes_reach_every_task,
 *            check_visibility/test_visibility_then_writes_reach_the_continuation).
 *            What a task wrote before it returned (and what a drop function
 *            wrote, for a task cancelled unrun) happens before any call
 *            returns that reports the future finished: future_get(),
 *            future_wait_until() and future_wait_for() returning 0,
 *            future_is_ready() returning 1, every join that reports it, and
 *            the start of its continuations
 *            (tests: check_visibility/test_visibility_task_writes_reach_future_get,
 *            check_visibility/test_visibility_task_writes_reach_wait_until,
 *            check_visibility/test_visibility_task_writes_reach_wait_for,
 *            check_visibility/test_visibility_task_writes_reach_is_ready_polling,
 *            check_visibility/test_visibility_task_writes_reach_every_join,
 *            check_visibility/test_visibility_task_writes_reach_its_continuation,
 *            check_visibility/test_visibility_drop_writes_reach_a_waiter_that_gets_ecanceled,
 *            check_visibility/test_visibility_drop_writes_reach_the_continuation).
 *            Future records and results need no lock of the caller's for
 *            that
 *            (tests: check_visibility/test_visibility_task_writes_reach_every_join,
 *            check_future/test_future_get_from_many_threads_all_see_the_same_value).
 *
 *   Deadlines. An absolute deadline is a CLOCK_MONOTONIC timespec with
 *            tv_nsec in [0, 1e9) (else EINVAL)
 *            (tests: check_deadline/test_wait_until_deadline_is_on_monotonic_clock,
 *            check_deadline/test_wait_until_rejects_bad_arguments,
 *            check_deadline/test_deadline_negative_tv_sec_with_bad_tv_nsec_is_einval).
 *            A deadline in the past, a negative tv_sec included, polls
 *            (tests: check_deadline/test_wait_until_past_deadline_times_out_and_future_completes,
 *            check_deadline/test_wait_until_negative_tv_sec_is_a_past_deadline,
 *            check_deadline/test_submit_ex_negative_tv_sec_on_a_full_pool_times_out).
 *            Time arithmetic saturates: a deadline too far to count in
 *            nanoseconds (tv_sec beyond about 292 years of uptime, such as
 *            the largest time_t) and a timeout of LLONG_MAX nanoseconds both
 *            mean "for ever"
 *            (tests: check_deadline/test_wait_for_llong_max_waits_until_the_task_finishes,
 *            check_deadline/test_wait_for_overflowing_timeout_waits_until_the_task_finishes,
 *            check_deadline/test_wait_until_max_time_t_waits_until_the_task_finishes,
 *            check_deadline/test_join_all_until_max_time_t_waits_until_the_task_finishes,
 *            check_deadline/test_join_any_until_max_time_t_waits_until_the_task_finishes,
 *            check_deadline/test_wait_until_far_deadline_in_a_task_runs_its_subtask).
 *
 *   fork.    In a child process created by fork() while a pool exists, that
 *            pool has no worker threads. Calls on it return ECHILD
 *            (futures_pool_destroy() releases nothing and returns ECHILD)
 *            (tests: check_fork/test_fork_child_policy_and_parent_keeps_working,
 *            check_faults/test_faults_fork_inside_a_task), waits and joins
 *            on its unfinished futures return ECHILD without running any of
 *            them
 *            (tests: check_fork/test_fork_child_join_returns_echild_and_does_not_run_the_task,
 *            check_matrix[* x FORK_CHILD]), finished futures still report
 *            their outcome, and new pools work normally
 *            (tests: check_fork/test_fork_child_policy_and_parent_keeps_working,
 *            check_fork/test_fork_during_pool_activity). The parent's
 *            pending promises and combinator futures are its unfinished
 *            futures too (ECHILD, also from future_resolve())
 *            (tests: check_promise/test_promise_of_the_parent_is_echild_in_a_fork_child),
 *            and the parent's notifiers are left alone: a watch returns
 *            ECHILD, a take takes nothing (their descriptor is the
 *            parent's too), destroy does nothing
 *            (tests: check_notifier/test_notifier_of_the_parent_is_left_alone_in_a_fork_child);
 *            so are its as-completed sets: next() returns ECHILD, destroy
 *            does nothing
 *            (tests: check_completion/test_completion_of_the_parent_is_echild_in_a_fork_child).
 *            A fork() while futures_pool_destroy_async() runs leaves that
 *            destroy to the parent: in the child its thread does not
 *            exist and its future is a pending future of the parent
 *            (ECHILD)
 *            (tests: check_shutdown/test_shutdown_async_in_a_fork_child_is_echild).
 *            The parent's pools run no worker hook in the child (the copy
 *            of a worker that forked in a task ends without its exit
 *            hook; if it ends inside the task, pthread_exit(), no
 *            replacement is started there), and the child's thread keeps
 *            the CPUs of the thread that forked, a pinned worker's too
 *            (tests: check_workers/test_workers_fork_child_runs_no_hooks_of_the_parent,
 *            check_workers/test_workers_fork_child_worker_exiting_starts_no_replacement).
 *            A task's frames (futures_spawn()) follow the waits' rule: in
 *            the child a frame stolen before the fork and unfinished
 *            syncs with ECHILD without running, and the others run in
 *            the child
 *            (tests: check_frames/test_frames_sync_in_a_fork_child_never_waits_for_the_parent).
 *
 *   exit.    The library registers no atexit() handler and no destructor
 *            (tests: check_exit/test_exit_with_live_pools_returns_its_status_silently).
 *            exit() with pools still alive ends the process as it would
 *            without them: their workers go on running tasks, queued ones
 *            included, while the atexit handlers run, and vanish at
 *            _exit(); nothing waits for unfinished tasks
 *            (tests: check_exit/test_exit_with_live_pools_returns_its_status_silently,
 *            check_exit/test_exit_workers_keep_running_queued_tasks_during_atexit_handlers).
 *            A destroy under way in futures_pool_destroy_async()'s thread
 *            is no different: exit() does not wait for it, and it vanishes
 *            at _exit() with its future unsettled
 *            (tests: check_exit/test_exit_with_live_pools_returns_its_status_silently).
 *            A task that may run during exit() must not use what the
 *            program's own atexit handlers free. Destroy a pool before
 *            exit() when its tasks must finish
 *            (tests: check_shutdown/test_shutdown_destroy_runs_every_queued_task).
 *
 * Linking: cc app.c $(pkg-config --cflags --libs futures)
 */
#ifndef FUTURES_H
#define FUTURES_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define FUTURES_API __attribute__((visibility("default")))
#define FUTURES_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define FUTURES_API
#define FUTURES_WARN_UNUSED
#endif

/* ------------------------------------------------------------ version */

#define FUTURES_VERSION_MAJOR 0
#define FUTURES_VERSION_MINOR 1
#define FUTURES_VERSION_PATCH 0
#define FUTURES_VERSION_STRING "0.1.0"
/** 0xMMmmpp: one byte each for major, minor and patch, as libuv does. */
#define FUTURES_VERSION_HEX                                                    \
  ((FUTURES_VERSION_MAJOR << 16) | (FUTURES_VERSION_MINOR << 8) |             \
   FUTURES_VERSION_PATCH)

/* ------------------------------------------------------------ types */

/** A fixed set of worker threads. Opaque. */
typedef struct futures_pool futures_pool_t;

/** The outcome of one task, now or later. Opaque. */
typedef struct future future_t;

/**
 * futures_task_fn - A task body.
 *
 * Runs once, on a worker thread or in a thread that waits for it. Return 0
 * and store a result in *result (it starts as NULL), or return a positive
 * error code: that code is what waiters receive. The library never
 * dereferences @arg or the result.
 */
typedef int (*futures_task_fn)(void *arg, void **result);

/**
 * FUTURES_FOLLOW - What a task or continuation body returns to hand its
 * outcome over to another future (flattening, as JavaScript's then()
 * does with a returned promise).
 *
 * Store a future_t * in *result and return FUTURES_FOLLOW: the body's own
 * future then settles with that future's code and result, whenever it
 * settles, in the thread that settles it. The returned future's reference
 * passes to the library (do not release it). Until it settles, the body's
 * future counts as running: future_cancel() asks it to stop
 * (EINPROGRESS) and does not cancel the followed future; a pool's
 * futures_pool_destroy() settles a task of that pool still following with
 * ECANCELED. A NULL or released future in *result settles it with
 * EINVAL, its own future with EDEADLK. A thread waiting for the body's
 * future sleeps until the followed one settles: it does not run the
 * followed future in its place (so a task of a 1-worker pool must not
 * wait for a future that follows a task queued on that pool; chain a
 * continuation instead).
 */
#define FUTURES_FOLLOW (-0x464f4c)

/**
 * futures_drop_fn - Cleanup for the argument of a task that never ran.
 *
 * Called exactly once, with the task's @arg, when a task that carries one is
 * cancelled before it started (future_cancel(), FUTURES_DESTROY_CANCEL). It
 * runs in the thread that cancelled the task, with no library lock held,
 * as the task's body would have: futures_cancelled() returns 1 in it, and
 * waiting in it for the task's own future, or destroying its pool, is
 * EDEADLK. It is not called for tasks that ran: a task owns its argument
 * once it starts. The same type serves as a result destructor
 * (futures_task_t.result_drop, future_resolve_owned()), which runs
 * differently: in whichever thread drops the last reference to the
 * future, with no task context.
 */
typedef void (*futures_drop_fn)(void *arg);

/**
 * futures_then_fn - A continuation body (see futures_then()).
 *
 * Receives the antecedent's code and result (@value is NULL when @code is
 * not 0) and produces the continuation's own outcome like a task does.
 */
typedef int (*futures_then_fn)(void *arg, int code, void *value,
                               void **result);

/**
 * futures_range_fn - One chunk of futures_parallel_for(): handles the
 * indices [@begin, @end). Returns 0 or a positive error code.
 */
typedef int (*futures_range_fn)(void *arg, size_t begin, size_t end);

/**
 * A task for futures_submit_ex() and futures_submit_all(). Initialise with
 * FUTURES_TASK_INIT, then set the fields you need: the first field carries
 * the struct's size, so later versions can append fields without breaking
 * programs built against this one (in an array, every element must carry
 * the same size). A size smaller than this version's struct is refused
 * with EINVAL.
 */
typedef struct futures_task {
  size_t size;          /* sizeof(futures_task_t); set by the initialiser */
  futures_task_fn fn;   /* required */
  void *arg;            /* passed to fn */
  futures_drop_fn drop; /* optional: cleanup of arg if the task never runs */
  /* Optional: the destructor of the task's result. Called exactly once,
   * with the result, if the task succeeds with a non-NULL result that no
   * one reads: when the last reference to its future goes (the handle
   * released, a race's loser let go of, a combinator's input dropped)
   * and no future_get(), join, continuation or combinator that passes
   * results on has taken it. Reading it (any of those, with a non-NULL
   * result slot) hands the result to the reader, which then owns it. It
   * runs in the thread that drops the last reference, perhaps inside a
   * library call: it must not call into the library. A struct of the
   * size before this field (programs built against an older header) is
   * accepted and has none. Always start from FUTURES_TASK_INIT or
   * FUTURES_TASK(): a field left unset is garbage the library calls. */
  futures_drop_fn result_drop;
  /* Optional: FUTURES_PRIORITY_HIGH, _NORMAL (the default) or _LOW (see
   * enum futures_priority); another value -> EINVAL. A struct of the
   * size before this field is accepted and its tasks are normal.
   * Since 0.1 (issue 13). */
  int priority;
} futures_task_t;

#define FUTURES_TASK_INIT                                                      \
  {                                                                            \
    sizeof(futures_task_t), NULL, NULL, NULL, NULL, 0                          \
  }

/** An initialiser for a task with every field given, e.g.
 * futures_task_t t = FUTURES_TASK(fn, arg, NULL); (also a compound literal:
 * (futures_task_t)FUTURES_TASK(fn, arg, drop)). */
#define FUTURES_TASK(fn, arg, drop)                                            \
  {                                                                            \
    sizeof(futures_task_t), (fn), (arg), (drop), NULL, 0                       \
  }

/**
 * A task's priority (futures_task_t.priority). Never renumbered.
 *
 * How the levels and aging order the start of queued tasks is in "Order"
 * above: for tasks from outside the pool's tasks, high before normal
 * before low, except that once FUTURES_PRIORITY_AGING higher tasks in a
 * row have started while a lower one waited, the next task of that level
 * starts next; a task's own sub-tasks go to its thread's deque whatever
 * their level. A thread
 * that waits for a task which has not started still runs it at once,
 * whatever its level. Priority does not touch the rest: a high or low
 * task takes a place in a bounded queue like any other, is cancelled,
 * drained or cancelled by destroy like any other, and counts in
 * futures_pool_stats() like any other (there is no count per level).
 * Continuations (futures_then()) and futures_parallel_for() chunks are
 * normal. A pool that is never given a task of another level runs as if
 * priorities did not exist.
 *
 * Since:     0.1
 */
enum futures_priority {
  FUTURES_PRIORITY_LOW = -1,
  FUTURES_PRIORITY_NORMAL = 0,
  FUTURES_PRIORITY_HIGH = 1
};

/** How many higher tasks in a row may start while a lower one waits.
 * Since 0.1. */
#define FUTURES_PRIORITY_AGING 8

/** One future's final state, for futures_join_all_settled(). */
typedef struct futures_outcome {
  int code;     /* 0, the task's error code, or ECANCELED */
  void *result; /* the task's result; NULL unless code == 0 */
} futures_outcome_t;

/** What a submit does when a bounded pool's queue is full. Never renumbered. */
enum futures_overflow {
  FUTURES_OVERFLOW_FAIL = 0,       /* return EAGAIN at once */
  FUTURES_OVERFLOW_BLOCK = 1,      /* wait for room, until a deadline */
  FUTURES_OVERFLOW_CALLER_RUNS = 2 /* run the task in the submitting thread */
};

/** How futures_pool_destroy_ex() treats tasks that have not started. */
enum futures_destroy_mode {
  FUTURES_DESTROY_DRAIN = 0, /* run every accepted task, then stop */
  FUTURES_DESTROY_CANCEL = 1 /* cancel what has not started (ECANCELED) */
};

/** Pool flags (futures_pool_opts_t.flags). */
#define FUTURES_POOL_TIMING 0x1u /* record per-future times (future_times) */
/* Record a timeline for futures_pool_trace_write(); implies TIMING. */
#define FUTURES_POOL_TRACE 0x2u
/* Workers take up to 8 queued tasks of one outside thread at once, for
 * throughput, at the cost of the strict order ("Order" above). Since 0.1
 * (issue 12). */
#define FUTURES_POOL_BATCH 0x4u

/**
 * futures_worker_start_fn - A pool's worker start hook
 * (futures_pool_opts_t.worker_start).
 *
 * Runs once in each worker thread of the pool, named and pinned already,
 * before that worker takes any task: the place for thread-local set-up,
 * a thread name of your own, registering with a profiler. @index is the
 * worker's index, 0 to nworkers - 1 (the n in its name "prefix-wn"); @arg
 * is futures_pool_opts_t.worker_arg. Return 0, or a positive error code
 * to fail the pool's creation (see futures_pool_create_ex()); a start
 * hook that ends its thread (pthread_exit()) fails it with EOWNERDEAD. It
 * runs in no task and under no library lock.
 */
typedef int (*futures_worker_start_fn)(void *arg, size_t index);

/**
 * futures_worker_exit_fn - A pool's worker exit hook
 * (futures_pool_opts_t.worker_exit).
 *
 * Runs once in each worker thread whose start hook succeeded (or that had
 * none), after its last task and before the thread ends: at the pool's
 * destroy, on a failed create, and in a worker that ends inside a task
 * (pthread_exit()). Same @arg and @index as the start hook; no task, no
 * library lock. An exit hook that ends its thread (pthread_exit(), or a
 * task it runs in place that does) only ends it sooner: the pool goes on
 * as if the hook had returned (a worker that ended in a task is still
 * replaced).
 */
typedef void (*futures_worker_exit_fn)(void *arg, size_t index);

/** How futures_pool_opts_t.pin places workers on CPUs. Never renumbered. */
enum futures_pin {
  FUTURES_PIN_NONE = 0, /* no pinning: workers run where the system says */
  FUTURES_PIN_EACH = 1, /* one CPU each: worker i on cpus[i % ncpus] */
  FUTURES_PIN_SET = 2   /* every worker on the whole set of cpus */
};

/**
 * Options for futures_pool_create_ex(). Initialise with
 * FUTURES_POOL_OPTS_INIT, then set the fields you need: the first field
 * carries the struct's size, so later versions can append fields without
 * breaking programs built against this one.
 */
typedef struct futures_pool_opts {
  size_t size;        /* sizeof(futures_pool_opts_t); set by the initialiser */
  size_t nthreads;    /* workers; 0 = one per CPU this process may run on */
  size_t max_queued;  /* bound on tasks not yet started; 0 = unbounded */
  int overflow;       /* enum futures_overflow, used when max_queued != 0 */
  unsigned flags;     /* FUTURES_POOL_* */
  size_t stack_size;  /* worker stack bytes; 0 = the system default */
  const char *name;   /* worker thread name prefix (copied); NULL = "futures" */
  /* Worker hooks and CPU pinning (issue 13), described at
   * futures_pool_create_ex(). A struct of the size before these fields
   * (ending at name: programs built against an older header), or ending
   * inside one, is still accepted and has no hooks and no pinning
   * (check_workers/test_workers_older_opts_size_has_no_hooks_or_pinning;
   * the hooks: check_workers/test_workers_hooks_run_in_each_worker_around_its_tasks;
   * the pinning: check_workers/test_workers_pin_each_puts_each_worker_on_its_cpu,
   * check_workers/test_workers_pin_set_puts_every_worker_on_the_set). */
  futures_worker_start_fn worker_start; /* NULL = none */
  futures_worker_exit_fn worker_exit;   /* NULL = none */
  void *worker_arg;   /* both hooks' @arg (borrowed, never dereferenced) */
  int pin;            /* enum futures_pin; FUTURES_PIN_NONE by default */
  const int *cpus;    /* CPU numbers for pin (copied); NULL = every CPU the
                       * creating thread may run on, in ascending order */
  size_t ncpus;       /* entries in cpus; 0 with cpus NULL */
} futures_pool_opts_t;

#define FUTURES_POOL_OPTS_INIT                                                 \
  {                                                                            \
    sizeof(futures_pool_opts_t), 0, 0, FUTURES_OVERFLOW_FAIL, 0, 0, NULL,      \
        NULL, NULL, NULL, FUTURES_PIN_NONE, NULL, 0                            \
  }

/**
 * Pool counters, for futures_pool_stats(). Initialise with
 * FUTURES_STATS_INIT (the first field is the struct's size). Each counter is
 * read without stopping the pool, so a snapshot taken while tasks run is
 * approximate; when the pool is quiet it is exact.
 */
typedef struct futures_stats {
  size_t size;                   /* sizeof(futures_stats_t) */
  size_t workers;                /* the pool's size, in worker threads */
  size_t queued;                 /* accepted, not started, not cancelled */
  size_t running;                /* started, not finished */
  unsigned long long submitted;  /* tasks accepted since creation */
  unsigned long long completed;  /* tasks that ran to the end */
  unsigned long long cancelled;  /* tasks finished with ECANCELED unrun */
  unsigned long long stolen;     /* tasks a worker took from another's queue */
  unsigned long long helped;     /* tasks run by a thread waiting for them */
  int shutting_down;             /* destroy has begun */
  /* CPU pinning (issue 13); a struct of the size before these fields
   * (ending at shutting_down, or its sizeof with the padding after it) is
   * still accepted and gets the fields above only: pin and ncpus are
   * written together, to a struct that holds both
   * (check_workers/test_workers_older_opts_size_has_no_hooks_or_pinning).
   * Each worker's own CPU: futures_pool_worker_cpu()
   * (check_workers/test_workers_stats_and_worker_cpu_report_the_pinning). */
  int pin;                       /* enum futures_pin, as created */
  size_t ncpus;                  /* distinct CPUs in the pool's set (a CPU
                                  * listed twice counts once); 0 unpinned */
} futures_stats_t;

#define FUTURES_STATS_INIT                                                     \
  {                                                                            \
    sizeof(futures_stats_t), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0                  \
  }

/* ------------------------------------------------------------ pool */

/**
 * futures_pool_create() - Start a pool of worker threads.
 *
 * Equivalent to futures_pool_create_ex() with default options and
 * @nthreads workers.
 *
 * @pool:     (out) Receives the new pool; set to NULL on failure.
 * @nthreads: Number of workers; 0 means one per CPU the process may run on
 *            (sched_getaffinity(), else the online CPU count).
 *
 * Return:    0; EINVAL if @pool is NULL or @nthreads exceeds 4096; ENOMEM;
 *            EAGAIN if a thread could not be started (every thread already
 *            started has then been stopped and joined, nothing is leaked).
 * Ownership: the caller owns the pool and ends it with
 *            futures_pool_destroy().
 * Threads:   safe
 *            (tests: check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks,
 *            check_faults/test_faults_failed_create_leaves_other_pools_alone).
 * In a task: allowed
 *            (tests: check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_pool_create(futures_pool_t **pool, size_t nthreads);

/**
 * futures_pool_create_ex() - Start a pool with options.
 *
 * Starts a pool as futures_pool_create() does, with the options of
 * *@opts: the number of workers, a bound on the queue and what a submit
 * does when it is full, flags (FUTURES_POOL_TIMING, FUTURES_POOL_TRACE,
 * FUTURES_POOL_BATCH), the workers' stack size and the prefix of their
 * thread names.
 *
 * @pool: (out) Receives the new pool; set to NULL on failure. NULL ->
 *        EINVAL.
 * @opts: (borrowed, optional) Options; NULL means FUTURES_POOL_OPTS_INIT.
 *        opts->size is smaller than the first version's struct -> EINVAL;
 *        opts->nthreads exceeds 4096 -> EINVAL; fields beyond opts->size
 *        take their defaults.
 *
 * Worker hooks. opts->worker_start runs in every worker thread, and only
 * there (not in the pool's timer thread, nor in the thread of
 * futures_pool_destroy_async(), which run no worker's tasks), before the
 * worker takes any task; create returns only once every worker's start
 * hook has returned. If one returns non-zero, create fails with that code
 * (the lowest-indexed failing worker's; a negative one as EINVAL, a hook
 * that called pthread_exit() as EOWNERDEAD; workers start in index order,
 * and one whose thread could not be started fails with EAGAIN at its
 * index, so a start hook's code wins over a later thread's EAGAIN): create
 * starts no more workers, every started worker is stopped and joined,
 * opts->worker_exit runs in each worker whose start hook succeeded (before
 * create returns), and nothing is leaked. A worker that ends inside a
 * task (pthread_exit()) runs its exit hook, and its replacement runs the
 * start hook with the same index; if that fails, the replacement ends at
 * once (no exit hook) and the pool goes on with one worker fewer, as when
 * no thread can be started. Hooks
 * run as outside threads of their pool, under no library lock: they may
 * call every function in this header, create and destroy other pools,
 * and (a replacement's hooks, which can know the pool) submit to their own
 * pool and wait; futures_pool_destroy() of their own pool is EDEADLK, from
 * the exit hooks its destroy runs too. While a worker's hook runs, its
 * slot runs no task: a hook's waits on its own pool progress only through
 * the other workers and through tasks run in place (future_get(),
 * futures_join_all()); in a 1-worker pool a timed wait there times out and
 * a FUTURES_OVERFLOW_BLOCK submit to a full queue blocks for good.
 *
 * CPU pinning. With opts->pin FUTURES_PIN_EACH worker i runs on the one
 * CPU opts->cpus[i % opts->ncpus]; with FUTURES_PIN_SET every worker may
 * run on any CPU of the list; each worker is pinned from its start (its
 * start hook already runs there) and a replacement is pinned as the
 * worker it replaces. opts->cpus NULL means every CPU the creating thread
 * may run on (sched_getaffinity(), read whole even where the kernel knows
 * more than CPU_SETSIZE CPUs). A CPU that is negative, beyond the
 * system's limit (CPU_SETSIZE) or not one the creating thread may run on
 * is EINVAL, and so are a list with FUTURES_PIN_NONE, cpus NULL with
 * ncpus non-zero, ncpus 0 with a list or above CPU_SETSIZE, and an
 * unknown mode (a CPU listed twice is fine: two workers share it). Threads the
 * workers start (and a fork() child of a task) inherit the worker's CPUs.
 *
 * Return:    as futures_pool_create(), plus EINVAL for an unknown overflow
 *            policy or flag, or a bad pin mode or CPU; a start hook's code
 *            (EAGAIN if a thread could not be started at all, also when
 *            the CPUs a pinned worker needs were taken from the process
 *            after they were checked).
 * Ownership: @opts, opts->name and opts->cpus are copied; the caller keeps
 *            them; opts->worker_arg is borrowed until the pool's destroy
 *            has ended, exit hooks included: futures_pool_destroy()
 *            returned, or futures_pool_destroy_async()'s future settled.
 * Threads:   safe
 *            (tests: check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks,
 *            check_workers/test_workers_hooks_run_in_each_worker_around_its_tasks,
 *            check_workers/test_workers_start_hook_failing_in_the_first_worker_fails_create,
 *            check_workers/test_workers_start_hook_failing_in_the_last_worker_fails_create,
 *            check_workers/test_workers_start_hook_failing_reports_the_lowest_index,
 *            check_workers/test_workers_start_hook_failing_wins_over_a_later_thread_failure,
 *            check_workers/test_workers_start_hook_exiting_its_thread_fails_create,
 *            check_workers/test_workers_thread_failure_runs_exit_hooks_of_started_workers,
 *            check_workers/test_workers_hooks_hold_no_lock_and_may_use_other_pools,
 *            check_workers/test_workers_timer_and_destroy_async_threads_run_no_hooks,
 *            check_workers/test_workers_replacement_runs_both_hooks_and_may_use_its_pool,
 *            check_workers/test_workers_replacement_start_hook_failure_leaves_one_worker_fewer,
 *            check_workers/test_workers_exit_hook_ending_its_thread_still_replaces_the_worker,
 *            check_workers/test_workers_exit_hook_destroying_its_pool_is_edeadlk,
 *            check_workers/test_workers_pin_each_puts_each_worker_on_its_cpu,
 *            check_workers/test_workers_pin_set_puts_every_worker_on_the_set,
 *            check_workers/test_workers_pin_rejects_bad_cpus_and_modes,
 *            check_workers/test_workers_older_opts_size_has_no_hooks_or_pinning).
 * In a task: allowed; a pool created in a task of a pinned pool with
 *            opts->cpus NULL gets that worker's CPUs only
 *            (tests: check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks,
 *            check_workers/test_workers_pool_created_in_a_pinned_task_inherits_its_cpu).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_pool_create_ex(futures_pool_t **pool, const futures_pool_opts_t *opts);

/**
 * futures_pool_destroy() - Finish every accepted task, then stop the pool.
 *
 * The same as futures_pool_destroy_ex(@pool, FUTURES_DESTROY_DRAIN): from
 * the moment it is called, submits from outside the pool's tasks return
 * ESHUTDOWN; every task accepted before runs to completion (tasks that it
 * runs may still submit sub-tasks, which run too); then the workers are
 * joined and the pool's memory is freed. Futures obtained earlier stay
 * valid until released. A submit that overlaps destroy either returns
 * ESHUTDOWN or its task runs before destroy returns. If the pool has no
 * worker left (each one exited in a task and none could be replaced),
 * destroy runs the remaining tasks in the calling thread. Before the
 * drain, destroy settles with ECANCELED, without running it, every
 * continuation of the pool still waiting on a future that is not one of
 * the pool's tasks (a promise, a timer, the pool's own timers included,
 * a combinator, another pool's task), and every task of the pool that
 * follows such a future (FUTURES_FOLLOW); then every pending timer of the
 * pool (futures_after()). Continuations of those tasks that wait on them
 * in the pool run in the drain, with ECANCELED as their input.
 *
 * @pool: (consumed) The pool. NULL -> EINVAL.
 *
 * Return:    0; EINVAL if @pool is NULL or was already destroyed (detected
 *            while the registry of live pools still knows it: it does not
 *            free or touch the memory again); EDEADLK when called from one
 *            of @pool's own tasks, or from @pool's timer thread (nothing
 *            is done); ECHILD in a forked child (the pool is left alone).
 * Ownership: consumes @pool.
 * Threads:   one call per pool; other threads may still wait on futures
 *            (tests: check_matrix[* x DESTROY_DRAIN],
 *            check_shutdown/test_shutdown_destroy_waits_for_a_task_that_is_still_running,
 *            check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks,
 *            check_errors/test_errors_pool_destroy_twice_returns_einval).
 * In a task: not for the task's own pool (EDEADLK); another pool is fine
 *            (tests: check_shutdown/test_shutdown_destroy_inside_own_task_returns_edeadlk,
 *            check_timer/test_timer_thread_destroy_is_edeadlk_and_destroy_unblocks_it,
 *            check_then/test_then_destroy_settles_everything_it_readies,
 *            check_interleave/test_interleave_destroy_settles_followers_before_the_drain_ends,
 *            check_faults/test_faults_destroy_own_pool_from_any_task_is_edeadlk,
 *            check_shutdown/test_shutdown_destroy_of_another_pool_inside_a_task_succeeds).
 * Since:     0.1
 */
FUTURES_API int futures_pool_destroy(futures_pool_t *pool);

/**
 * futures_pool_destroy_ex() - Stop a pool, draining or cancelling.
 *
 * FUTURES_DESTROY_DRAIN behaves as futures_pool_destroy().
 * FUTURES_DESTROY_CANCEL refuses every new submit (ESHUTDOWN, even from
 * tasks), finishes every task that has not started with ECANCELED (calling
 * its drop function), lets running tasks finish (futures_cancelled() returns
 * 1 in them), then joins the workers. Either way every accepted task ends
 * in exactly one of two ways: it ran, or its future says ECANCELED; every
 * waiter wakes.
 *
 * @pool: (consumed) The pool. NULL -> EINVAL.
 * @mode: enum futures_destroy_mode; not a futures_destroy_mode value ->
 *        EINVAL (nothing done).
 *
 * Return:    as futures_pool_destroy().
 * Ownership: consumes @pool.
 * Threads:   as futures_pool_destroy()
 *            (tests: check_matrix[* x DESTROY_CANCEL],
 *            check_cancel/test_destroy_cancel_flags_running_and_cancels_queued,
 *            check_shutdown/test_shutdown_cancel_cancels_every_queued_task_and_runs_none,
 *            check_stress/test_stress_mixed_workload_quick).
 * In a task: as futures_pool_destroy()
 *            (tests: check_faults/test_faults_destroy_own_pool_from_any_task_is_edeadlk,
 *            check_pool/test_pool_create_and_destroy_from_many_threads_and_tasks).
 * Since:     0.1
 */
FUTURES_API int futures_pool_destroy_ex(futures_pool_t *pool, int mode);

/**
 * futures_pool_destroy_async() - Begin a destroy; a future tells its end.
 *
 * futures_pool_destroy_ex() for a thread that must not block (an event
 * loop) or cannot wait (one of the pool's own tasks). Before it returns,
 * the pool is stopped as destroy stops it: from then on submits from
 * outside the pool's tasks (from anywhere in cancel mode) and
 * futures_after() return ESHUTDOWN. The rest (the ECANCELED of foreign
 * waits and timers, the drain or the cancellation, the join of the
 * workers, the free of the pool) runs in a thread that the library starts
 * for it, detached; once the pool's memory is freed, that thread resolves
 * *@done with 0 (value NULL) and lets go of it. Watch *@done with a
 * notifier (futures_notifier_watch()), chain it (futures_then_inline(),
 * futures_then() on another pool) or wait for it. Every check is made
 * before anything is done: on error the pool is untouched and usable.
 *
 * @pool: (consumed on success) The pool. NULL -> EINVAL.
 * @mode: enum futures_destroy_mode; not a futures_destroy_mode value ->
 *        EINVAL.
 * @done: (out) Receives the future of the destroy's end; NULL on failure.
 *        NULL -> EINVAL.
 *
 * Return:    0, and *@done resolves with 0 once the destroy has ended;
 *            EINVAL if @pool or @done is NULL, @mode is unknown, or @pool is
 *            not a live pool (destroyed already, or being destroyed by an
 *            earlier call: its memory is not read); ECHILD in a fork()
 *            child (the parent's pool is left alone); ENOMEM; EAGAIN if
 *            the thread could not be started. On error nothing was done.
 * Ownership: consumes @pool on success: it may be freed as soon as no
 *            task of it runs, and is freed when *@done settles, so only a
 *            thread that knows it is still alive (one of its tasks, or a
 *            thread such a task waits for) may still call a function on
 *            it; a call from its own task or timer thread is no
 *            deadlock. The caller owns *@done and releases it with
 *            future_release(), before or after it settles (the library
 *            holds its own reference meanwhile). future_cancel() on *@done
 *            settles it with ECANCELED at once and does not stop the
 *            destroy, which then ends unannounced.
 * Threads:   one destroy per pool, as futures_pool_destroy(): a second
 *            one, of either kind, is EINVAL; a submit from another thread
 *            racing it either returns ESHUTDOWN or its task runs (or, in
 *            cancel mode, settles ECANCELED) before *@done settles. The
 *            library's thread runs what destroy runs in its caller (drop
 *            functions, continuations settled ECANCELED, queued tasks of a
 *            pool with no worker left), then, after the free, the
 *            callbacks of *@done: its inline continuations and a
 *            notifier's delivery. In a fork() child that thread does not
 *            exist (see "fork" above); exit() does not wait for it (see
 *            "exit" above)
 *            (tests: check_shutdown/test_shutdown_async_returns_at_once_and_resolves_after_the_drain,
 *            check_shutdown/test_shutdown_async_cancel_settles_queued_tasks_before_it_resolves,
 *            check_shutdown/test_shutdown_async_racing_submits_each_run_or_are_refused,
 *            check_shutdown/test_shutdown_async_is_delivered_through_a_notifier,
 *            check_shutdown/test_shutdown_async_future_chains_and_joins,
 *            check_shutdown/test_shutdown_async_cancel_of_its_future_does_not_stop_the_destroy,
 *            check_shutdown/test_shutdown_async_bad_input_leaves_the_pool_untouched,
 *            check_faults/test_faults_destroy_async_failures_leave_the_pool_untouched).
 * In a task: allowed, for the task's own pool too, and in the pool's timer
 *            thread: it returns at once, and the destroy ends after that
 *            task (or inline continuation) has returned. So no task of
 *            @pool, nor its timer thread, may wait for *@done: it would
 *            wait for itself (this is not detected; use a deadline, a
 *            notifier or a continuation)
 *            (tests: check_shutdown/test_shutdown_async_inside_own_task_returns_at_once_and_ends_after_it,
 *            check_shutdown/test_shutdown_async_from_the_pool_timer_thread_succeeds).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_pool_destroy_async(futures_pool_t *pool, int mode, future_t **done);

/**
 * futures_pool_stats() - Read a pool's counters.
 *
 * Sums per-worker counters without taking a lock: cheap enough to call
 * often (its cost grows with the number of workers, not of tasks).
 *
 * @pool:  (borrowed) The pool. NULL -> EINVAL.
 * @stats: (out) Counters; stats->size must be set (FUTURES_STATS_INIT);
 *         NULL or a size smaller than the first version's -> EINVAL; the
 *         fields beyond stats->size are not written.
 *
 * Return:    0; EINVAL.
 * Ownership: none taken.
 * Threads:   safe, also while the pool is being destroyed (until destroy
 *            returns)
 *            (tests: check_stats/test_stats_read_from_threads_and_tasks_while_tasks_run,
 *            check_stats/test_stats_reports_shutting_down_during_destroy,
 *            check_matrix[* x DESTROY_DRAIN, * x DESTROY_CANCEL]).
 * In a task: allowed
 *            (tests: check_stats/test_stats_read_from_threads_and_tasks_while_tasks_run).
 * Since:     0.1
 */
FUTURES_API int futures_pool_stats(futures_pool_t *pool,
                                   futures_stats_t *stats);

/**
 * futures_pool_worker_cpu() - The CPU a pool's worker is pinned to.
 *
 * With FUTURES_PIN_EACH, worker @index runs on one CPU, and *@cpu gets its
 * number (the same for a worker that replaced it); with FUTURES_PIN_NONE
 * or FUTURES_PIN_SET, *@cpu gets -1 (futures_pool_stats() gives the mode
 * and the size of the set).
 *
 * @pool:  (borrowed) The pool. NULL -> EINVAL.
 * @index: A worker's index, below the pool's worker count; else EINVAL.
 * @cpu:   (out) Receives the CPU or -1. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ECHILD in a fork() child for the parent's pool.
 * Ownership: none taken.
 * Threads:   safe, as futures_pool_stats()
 *            (tests: check_workers/test_workers_pin_each_puts_each_worker_on_its_cpu,
 *            check_workers/test_workers_stats_and_worker_cpu_report_the_pinning,
 *            check_workers/test_workers_fork_child_runs_no_hooks_of_the_parent).
 * In a task: allowed
 *            (tests: check_workers/test_workers_pin_each_puts_each_worker_on_its_cpu).
 * Since:     0.1
 */
FUTURES_API int futures_pool_worker_cpu(futures_pool_t *pool, size_t index,
                                        int *cpu);

/**
 * futures_pool_trace_write() - Write a traced pool's timeline as JSON.
 *
 * For a pool created with FUTURES_POOL_TRACE in opts->flags (which also
 * turns on FUTURES_POOL_TIMING): writes to @fd, in the Chrome trace-event
 * JSON format that Perfetto (ui.perfetto.dev) and chrome://tracing open,
 * what the pool's records did. Per task or futures_then() continuation
 * that ran: a complete ("X") slice named "task" or "then" on the thread
 * that ran it (a worker, or a thread that ran it while waiting for it:
 * args.helped 1), from its start to its end, with args.id (its number in
 * this pool: unique, from 1, increasing in submit order; a submit that
 * fails may use numbers up), args.outcome (0, its code, or ECANCELED; args.followed 1 for a body that returned FUTURES_FOLLOW),
 * args.submitted_by (the submitting thread's id) and args.antecedent (a
 * continuation's antecedent in this pool, else 0); a 2 ns "submit" or
 * "then" slice on the submitting thread at the submit, and a flow arrow
 * ("s"/"f" events) from it to the run; for a continuation, a flow from its
 * antecedent's run. A task settled ECANCELED unrun is a zero-length
 * "cancelled" slice on the cancelling thread. A future_get() on one of
 * the pool's records that had not finished, and a futures_join_all()
 * whose first future is a record of a pool with FUTURES_POOL_TIMING or
 * FUTURES_POOL_TRACE and which found one of this pool's records
 * unfinished (the first traced record not finished when it began decides
 * the pool), is a "join" slice on the waiting thread, with args.n and
 * args.waited (the ids of its first four futures; 0 for one of another
 * pool), and a flow from each of those runs to it. A futures_join_all()
 * whose first future is a promise, a combinator's future or a record of
 * a pool without timing is not drawn (telling costs the untraced join a
 * single branch), nor are futures_join_all_until() and
 * futures_join_all_settled(). Thread ids are the kernel's (gettid(); a
 * fork() child's threads have their own); each thread's name comes as a
 * "thread_name" metadata event, read when the thread first touched the
 * pool. Names are written in ASCII: every byte from 0x80 (a name cut at
 * 15 bytes inside a UTF-8 character included), quote, backslash and
 * control character becomes '_'. Times are CLOCK_MONOTONIC.
 * Inline continuations (futures_then_inline()), promises and combinators
 * are not drawn. Each thread records into a ring of its own per pool,
 * allocated at its first event and freed with the pool (a thread that
 * exits leaves its events behind, so a pool keeps one ring, of about 90
 * bytes an event, per thread that ever ran, cancelled or joined its
 * records, until it is destroyed); a ring holds the newest 4096 events
 * (the environment variable FUTURES_TRACE_EVENTS, read at pool creation,
 * sets another size: decimal digits only, 16 to 16777216; any other value
 * gives 4096); older ones are overwritten, and otherData.lost_events
 * (also a "lost_events" metadata event) counts them, with events lost
 * for want of memory. A write allocates a copy of the events the rings
 * hold, not of their full size. The trace is not cleared:
 * each write holds all that the rings still hold. Written while tasks
 * run, it holds each thread's events up to the moment its ring was
 * copied: slices of tasks that had ended, not of those still running.
 *
 * @pool: (borrowed) A live pool. NULL, or a pool without
 *        FUTURES_POOL_TRACE -> EINVAL.
 * @fd:   An open file descriptor, written from its current offset; < 0 ->
 *        EINVAL. Not closed. A pipe whose reader has gone raises SIGPIPE,
 *        as write(2) does.
 *
 * Return:    0; EINVAL; ENOMEM; ECHILD in a fork() child (its parent's
 *            pool); the errno of a failed write(2) (EIO for a write of
 *            nothing), after which part of the JSON may have been
 *            written.
 * Ownership: none taken; the caller keeps @fd.
 * Threads:   safe, while tasks run and from many threads at once; not
 *            once destroy has begun. A join being drawn never delays the
 *            pool's destroy, nor depends on the pool's memory: destroy
 *            may run (on another thread, or in a task the joining thread
 *            helps) while it waits, and its slice then goes nowhere; in
 *            a fork() child it is ECHILD, and a pool the child creates is
 *            traced with the child's thread ids
 *            (tests: check_trace/test_trace_write_while_tasks_run_from_threads,
 *            check_trace/test_trace_thread_that_exited_keeps_its_events,
 *            check_trace/test_trace_join_racing_destroy_ends_before_the_free,
 *            check_trace/test_trace_destroy_does_not_wait_for_a_traced_join,
 *            check_trace/test_trace_destroy_in_a_helped_task_does_not_deadlock,
 *            check_trace/test_trace_write_in_a_fork_child_is_echild,
 *            check_trace/test_trace_fork_child_has_its_own_thread_ids,
 *            trace_json.sh).
 * In a task: allowed; the calling task is not in the trace yet
 *            (tests: check_trace/test_trace_write_from_a_task).
 * Since:     0.1
 */
FUTURES_API int futures_pool_trace_write(futures_pool_t *pool, int fd);

/* ------------------------------------------------------------ submit */

/**
 * futures_submit() - Queue a task and get its future.
 *
 * Never waits for the task to run, and never runs it in the caller unless
 * a bounded pool's policy is FUTURES_OVERFLOW_CALLER_RUNS (or
 * FUTURES_OVERFLOW_BLOCK in one of the pool's own tasks). A task submitted
 * from one of the pool's own tasks goes to that thread's own deque (last
 * in, first out, where idle workers steal it); a task submitted from any
 * other thread goes to that thread's own queue in the pool, which the
 * workers take oldest first (see "Order" above). On a bounded pool the
 * overflow policy applies, with no deadline for FUTURES_OVERFLOW_BLOCK.
 *
 * @pool:   (borrowed) The pool. NULL -> EINVAL.
 * @fn:     The task. NULL -> EINVAL.
 * @arg:    Passed to @fn; owned by the task once it starts.
 * @future: (out) Receives the future; set to NULL on failure.
 *
 * Return:    0; EINVAL; ENOMEM; ESHUTDOWN once destroy has begun (from a
 *            thread that is not running one of the pool's tasks, or in
 *            cancel mode from anywhere); EAGAIN when a bounded queue is full
 *            under FUTURES_OVERFLOW_FAIL; ECHILD in a forked child. On any
 *            error the task does not run.
 * Ownership: the caller owns *@future and must future_release() it.
 * Threads:   safe, also while futures_pool_destroy() runs: then ESHUTDOWN,
 *            or the task runs before destroy returns (see "Threads" above)
 *            (tests: check_submit/test_submit_from_many_threads_runs_every_task_exactly_once,
 *            check_interleave/test_interleave_submit_admitted_before_destroy_runs,
 *            check_shutdown/test_shutdown_submit_after_destroy_began_returns_eshutdown,
 *            check_stress/test_stress_mixed_workload_quick,
 *            check_matrix[* x SUBMITTER]).
 * In a task: allowed; this is how fork-join is written
 *            (tests: check_submit/test_submit_from_a_task_and_get_works_on_one_thread_pool,
 *            check_nested/test_nested_fib20_on_one_thread_pool,
 *            check_shutdown/test_shutdown_drain_runs_subtasks_submitted_during_it,
 *            check_matrix[* x WORKER_HELPS]).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_submit(futures_pool_t *pool, futures_task_fn fn, void *arg,
               future_t **future);

/**
 * futures_submit_ex() - Queue a task with a drop function and a deadline.
 *
 * As futures_submit(), with @task->drop called on @task->arg if the task is
 * cancelled before it starts, @abstime bounding the wait for room under
 * FUTURES_OVERFLOW_BLOCK, and @task->priority choosing its level: a high
 * or low task from outside the pool's tasks goes to the pool's queue of
 * that level (see "Order" above).
 *
 * @pool:    (borrowed) The pool. NULL -> EINVAL.
 * @task:    (borrowed) The task; NULL, task->fn NULL or task->priority
 *           not one of enum futures_priority -> EINVAL.
 * @abstime: (optional) CLOCK_MONOTONIC deadline for a blocked submit; NULL
 *           waits as long as needed. Ignored unless the pool blocks.
 * @future:  (out) Receives the future; set to NULL on failure.
 *
 * Return:    as futures_submit(), plus ETIMEDOUT when the deadline passed
 *            with the queue still full. On any error the task does not run
 *            and its drop function is not called (the caller still owns
 *            the argument).
 * Ownership: as futures_submit().
 * Threads:   as futures_submit()
 *            (tests: check_stress/test_stress_mixed_workload_quick,
 *            check_shutdown/test_shutdown_every_submit_form_is_refused_after_destroy_began,
 *            check_interleave/test_interleave_priority_task_wakes_a_parked_worker,
 *            check_interleave/test_interleave_priority_task_is_found_by_a_spinner_about_to_park,
 *            check_priority/test_priority_destroy_drains_or_cancels_queued_prioritized_tasks,
 *            check_priority/test_priority_submit_in_a_forked_child_is_echild,
 *            check_priority/test_priority_stats_after_cancelling_queued_prioritized_tasks).
 * In a task: allowed; FUTURES_OVERFLOW_BLOCK runs the task in the caller
 *            instead of waiting, since waiting could deadlock the pool; a
 *            high or low task goes to the thread's deque like a normal
 *            one, so that the task's waits run it
 *            (tests: check_backpressure/test_backpressure_block_submit_ex_from_task_runs_in_caller,
 *            check_shutdown/test_shutdown_cancel_cancels_every_queued_task_and_runs_none,
 *            check_priority/test_priority_from_a_task_goes_to_its_own_deque_whatever_its_level,
 *            check_priority/test_priority_task_waiting_runs_its_own_high_and_low_subtasks).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_submit_ex(futures_pool_t *pool, const futures_task_t *task,
                  const struct timespec *abstime, future_t **future);

/**
 * futures_submit_all() - Queue @n tasks at once, with one wake-up.
 *
 * All or nothing: either every task is accepted and futures[i] is task i's
 * future, or none is and every futures[i] is NULL. The tasks are queued in
 * order with a single publication and the pool wakes at most as many idle
 * workers as there are tasks. On a bounded pool all @n must fit. Each task
 * keeps its own priority: in a mixed array, the normal tasks are queued
 * in order as above and each high or low one on the pool's queue of its
 * level, in array order.
 *
 * @pool:    (borrowed) The pool. NULL -> EINVAL.
 * @tasks:   (borrowed) @n tasks, each initialised as FUTURES_TASK_INIT
 *           does (all of the same size); NULL (with @n > 0), a size that
 *           differs or is too small, any fn NULL or any priority not one
 *           of enum futures_priority -> EINVAL.
 * @n:       Number of tasks; 0 returns 0 and does nothing.
 * @futures: (out) Array of @n slots; NULL (with @n > 0) -> EINVAL.
 *
 * Return:    as futures_submit(); EAGAIN when a bounded queue has no room
 *            for all @n (FUTURES_OVERFLOW_FAIL and FUTURES_OVERFLOW_BLOCK:
 *            the batch does not block); with FUTURES_OVERFLOW_CALLER_RUNS
 *            the tasks that do not fit run in the caller.
 * Ownership: the caller owns every future returned.
 * Threads:   as futures_submit()
 *            (tests: check_stress/test_stress_mixed_workload_quick,
 *            check_shutdown/test_shutdown_every_submit_form_is_refused_after_destroy_began,
 *            check_priority/test_priority_submit_all_mixed_levels_start_by_level,
 *            check_priority/test_priority_submit_all_at_the_older_stride_runs_each_task).
 * In a task: allowed
 *            (tests: check_bulk/test_submit_all_inside_a_task_on_one_thread_pool,
 *            check_stress/test_stress_teardown_quick).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_submit_all(futures_pool_t *pool, const futures_task_t tasks[], size_t n,
                   future_t *futures[]);

/**
 * futures_parallel_for() - Run @fn over [@begin, @end) in chunks.
 *
 * Splits the range into chunks of @grain indices and runs them on the
 * pool's workers (and in any thread that waits for the returned future,
 * which takes part in the work). The future completes when every chunk has
 * finished; its code is that of the lowest-index chunk that failed, or 0.
 * Once a chunk fails, or the future is cancelled, chunks that have not
 * started are skipped (a run cut short by cancellation alone finishes
 * with ECANCELED).
 *
 * @pool:   (borrowed) The pool. NULL -> EINVAL.
 * @begin:  First index.
 * @end:    One past the last index; @end < @begin -> EINVAL; @end == @begin
 *          gives a future that completes with 0 without calling @fn.
 * @grain:  Indices per chunk; 0 picks about 8 chunks per worker.
 * @fn:     Chunk body. NULL -> EINVAL.
 * @arg:    Passed to every chunk.
 * @future: (out) One future for the whole range; its result is NULL.
 *
 * Return:    as futures_submit().
 * Ownership: the caller owns *@future.
 * Threads:   as futures_submit(); @fn runs concurrently with itself
 *            (tests: check_bulk/test_parallel_for_from_many_threads_at_once,
 *            check_bulk/test_parallel_for_touches_every_index_once,
 *            check_shutdown/test_shutdown_every_submit_form_is_refused_after_destroy_began).
 * In a task: allowed (nests like any fork-join)
 *            (tests: check_bulk/test_parallel_for_inside_task_on_one_thread_pool).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_parallel_for(futures_pool_t *pool, size_t begin, size_t end,
                     size_t grain, futures_range_fn fn, void *arg,
                     future_t **future);

/**
 * futures_then() - Attach a continuation to a future.
 *
 * When @antecedent finishes (in any way, cancellation included), @fn runs on
 * @pool with the antecedent's code and result, and its outcome becomes that
 * of the new future. A continuation attached to a future that has already
 * finished is queued at once. Each continuation runs exactly once, as a task
 * of its own: chains of any length use no recursion and no stack growth.
 * @fn may return FUTURES_FOLLOW to settle as another future does.
 *
 * The antecedent may be any future: a task of @pool or of another pool, a
 * promise, a timer, a combinator's future, another continuation. One that
 * is not a task of @pool is waited on without a thread: when it settles,
 * the settling thread queues the continuation on @pool. If it has not
 * settled when @pool's destroy begins, the continuation settles with
 * ECANCELED (in either mode) instead of running; one whose antecedent
 * settles just as destroy begins is queued, and runs as a task submitted
 * then would (in the drain, or ECANCELED unrun in cancel mode).
 *
 * Never blocks and never runs @fn in the caller. On a bounded pool the
 * continuation takes its place in the queue when it is attached (it is
 * accepted work, and cannot be refused later when the antecedent
 * finishes): a full queue gives EAGAIN, whatever the overflow policy.
 *
 * @pool:       (borrowed) The pool that runs @fn. NULL -> EINVAL.
 * @antecedent: (borrowed) The future to follow, of any kind. NULL ->
 *              EINVAL.
 * @fn:         The continuation. NULL -> EINVAL.
 * @arg:        Passed to @fn.
 * @future:     (out) The continuation's future.
 *
 * Return:    0; EINVAL; ENOMEM; ESHUTDOWN as futures_submit(); EAGAIN when
 *            a bounded queue is full, or when @antecedent already has
 *            about 8 million references; ECHILD.
 * Ownership: does not consume @antecedent (it may be released at once: the
 *            continuation still runs); the caller owns *@future.
 * Threads:   safe; many threads may attach to one future at once
 *            (tests: check_then/test_then_attached_from_many_threads_runs_each_once,
 *            check_then/test_then_attached_while_antecedent_completes_runs_each_once,
 *            check_then/test_then_on_a_promise_resolved_from_many_threads,
 *            check_then/test_then_across_pools_runs_on_the_named_pool,
 *            check_then/test_then_foreign_pending_at_destroy_is_ecanceled,
 *            check_matrix[THEN x *]).
 * In a task: allowed
 *            (tests: check_matrix[THEN x WORKER_HELPS, THEN x SELF]).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_then(futures_pool_t *pool, future_t *antecedent, futures_then_fn fn,
             void *arg, future_t **future);

/**
 * futures_then_inline() - Run a continuation in the thread that settles
 * its antecedent (.then() with no executor).
 *
 * Calls @fn with the antecedent's code and result in the thread that
 * settles @antecedent, just after it is published and with no library
 * lock held: a worker that finished the task, the thread that resolved a
 * promise, a pool's timer thread, the thread that settled a combinator's
 * last input. If @antecedent has settled already, @fn runs in the caller
 * before this returns (but when the caller is itself an inline
 * continuation or another callback of the library, @fn runs just after
 * the caller returns, in the same thread: the trampoline below; waiting
 * there for the new future would never end). The new future, which no one
 * can resolve, settles
 * with @fn's outcome (or follows the future @fn returns with
 * FUTURES_FOLLOW). Chains of inline continuations of any length run one
 * link after another in that thread, with no recursion and no stack
 * growth: a continuation settled by an inline continuation runs after it
 * returns, not inside it.
 *
 * Keep @fn short and non-blocking: it holds up the settling thread (and,
 * in a timer thread, every later timer of that pool). Inside @fn,
 * futures_cancelled() reports a cancel of the new future, and waiting for
 * the new future itself is EDEADLK. Cancelling the new future before @fn
 * starts settles it with ECANCELED, and @fn never runs; it does not cancel
 * @antecedent.
 *
 * @antecedent: (borrowed) Any future. NULL -> EINVAL.
 * @fn:         The continuation. NULL -> EINVAL.
 * @arg:        Passed to @fn.
 * @future:     (out) The continuation's future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@future is then NULL); EAGAIN if
 *            @antecedent already has about 8 million references, or as
 *            futures_promise_create(); ECHILD for an unfinished future of
 *            the parent's in a fork() child.
 * Ownership: does not consume @antecedent (it may be released at once);
 *            the caller owns *@future.
 * Threads:   safe, racing with @antecedent settling
 *            (tests: check_then/test_then_inline_runs_in_the_settling_thread,
 *            check_then/test_then_inline_attached_while_settling_runs_once,
 *            check_then/test_then_inline_chain_of_100000_uses_no_stack).
 * In a task: allowed
 *            (tests: check_then/test_then_inline_follow_flattens_a_promise).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_then_inline(future_t *antecedent, futures_then_fn fn, void *arg,
                    future_t **future);

/* ------------------------------------------------------------ future */

/**
 * future_get() - Wait for a future and fetch its outcome.
 *
 * Blocks until the task has finished and returns its code. If the task has
 * not started, the calling thread claims it and runs it itself (for a
 * continuation whose antecedent has not started, it runs the antecedent
 * first); if it runs elsewhere, the caller spins briefly, then sleeps on a
 * condition variable (a worker runs its own pending sub-tasks first).
 * Calling it again, from any thread, returns the same outcome.
 *
 * @future: (borrowed) Future to wait on. NULL -> EINVAL.
 * @result: (out, optional) Receives the task's result (NULL when the code is
 *          not 0); may be NULL.
 *
 * Return:    the task's code (0 on success); ECANCELED if the library
 *            cancelled it; EINVAL if @future is NULL; ECHILD for a future
 *            left unfinished by a fork(); EDEADLK if the caller is the
 *            very task of @future.
 * Ownership: does not consume @future; call future_release() later.
 * Threads:   safe from any number of threads on the same future
 *            (tests: check_future/test_future_get_from_many_threads_all_see_the_same_value,
 *            check_future/test_future_get_from_many_threads_all_see_the_same_error,
 *            check_interleave/test_interleave_get_waits_after_losing_its_taken_back_record,
 *            check_matrix[GET x SECOND_*]).
 * In a task: allowed, also on a 1-thread pool (see "Tasks" above)
 *            (tests: check_nested/test_nested_task_gets_its_child_on_one_thread_pool,
 *            check_nested/test_nested_worker_waiting_for_a_running_task_runs_its_own_subtasks,
 *            check_matrix[GET x WORKER_HELPS, GET x SELF]).
 * Since:     0.1
 */
FUTURES_API int future_get(future_t *future, void **result);

/**
 * future_wait_until() - Wait for a future until a deadline.
 *
 * Like future_get() without fetching the outcome: returns 0 once the future
 * has finished, or ETIMEDOUT once @abstime (CLOCK_MONOTONIC, the clock of
 * pthread_cond_clockwait()) has passed. A timed wait does not run the
 * awaited task in the caller, since that could overrun the deadline without
 * bound; a thread running one of the pool's tasks still runs its own
 * pending sub-tasks while it waits (so a timed join works on a 1-thread
 * pool), and then overruns the deadline by at most one sub-task.
 *
 * @future:  (borrowed) NULL -> EINVAL.
 * @abstime: (borrowed) Deadline; NULL -> EINVAL; tv_nsec outside
 *           [0, 1e9) -> EINVAL; a past (or negative) deadline polls; one
 *           too far to count means for ever (see "Deadlines" above).
 *
 * Return:    0 when finished (read the outcome with future_get(), which then
 *            does not block); ETIMEDOUT, leaving the future intact; EINVAL;
 *            ECHILD; EDEADLK as future_get().
 * Ownership: borrows @future.
 * Threads:   safe
 *            (tests: check_deadline/test_wait_until_two_waiters_racing_release,
 *            check_cancel/test_cancel_queued_task_wakes_waiters_and_drops_arg_once,
 *            check_matrix[WAIT_UNTIL x SECOND_*, * x DEADLINE_OTHER]).
 * In a task: allowed
 *            (tests: check_deadline/test_wait_until_far_deadline_in_a_task_runs_its_subtask,
 *            check_matrix[WAIT_UNTIL x WORKER_HELPS, WAIT_UNTIL x SELF]).
 * Since:     0.1
 */
FUTURES_API int future_wait_until(future_t *future,
                                  const struct timespec *abstime);

/**
 * future_wait_for() - Wait for a future for at most @timeout_ns.
 *
 * future_wait_until() with a deadline of now + @timeout_ns on
 * CLOCK_MONOTONIC, saturating: @timeout_ns == 0 polls, LLONG_MAX (or any
 * value that takes the deadline past what a long long counts) waits for
 * ever; a negative value -> EINVAL. Like future_wait_until(), it never
 * runs the awaited task in the caller; a caller that is one of the pool's
 * tasks runs its own pending sub-tasks while it waits.
 *
 * @future:     (borrowed) NULL -> EINVAL.
 * @timeout_ns: Nanoseconds from now; 0 polls, LLONG_MAX waits for ever;
 *              negative -> EINVAL.
 *
 * Return:    as future_wait_until().
 * Ownership: borrows @future.
 * Threads:   safe
 *            (tests: check_matrix[WAIT_FOR x SECOND_*, * x SECOND_WAIT_FOR]).
 * In a task: allowed
 *            (tests: check_matrix[WAIT_FOR x WORKER_HELPS, WAIT_FOR x SELF]).
 * Since:     0.1
 */
FUTURES_API int future_wait_for(future_t *future, long long timeout_ns);

/**
 * futures_deadline_in() - The deadline @ns nanoseconds from now.
 *
 * Reads CLOCK_MONOTONIC, the clock of every timed call of the library, adds
 * @ns and stores the sum in *@deadline with tv_nsec in [0, 1e9), so that
 * no caller writes the carry into tv_sec by hand. The sum saturates: when
 * it is too far to count (LLONG_MAX, or any @ns that takes it past what a
 * long long or a time_t holds), *@deadline is the largest time_t with
 * tv_nsec 999999999, which every timed call takes as for ever (see
 * "Deadlines" above). @ns == 0 gives now, a deadline that polls.
 *
 * @ns:       Nanoseconds from now; a negative value -> EINVAL.
 * @deadline: (out) Receives the deadline; NULL -> EINVAL. Left untouched
 *            on error.
 *
 * Return:    0; EINVAL if @deadline is NULL or @ns is negative.
 * Ownership: none; *@deadline is the caller's.
 * Threads:   safe; it reads the clock and nothing else
 *            (tests: check_deadline/test_deadline_in_from_many_threads_is_monotonic).
 * In a task: allowed
 *            (tests: check_deadline/test_deadline_in_bounds_a_timed_wait_in_a_task).
 * Since:     0.1
 */
FUTURES_API int futures_deadline_in(long long ns, struct timespec *deadline);

/**
 * future_is_ready() - Has the future finished? Never blocks.
 *
 * Reads the future's state once: it neither waits nor runs the task, so
 * it suits polling from a loop. To wait, use future_get(),
 * future_wait_for() or future_wait_until().
 *
 * Return:    1 if finished (success, failure or cancellation), 0 if not or
 *            if @future is NULL.
 * Ownership: borrows @future.
 * Threads:   safe; the answer may be stale the moment it returns 0
 *            (tests: check_visibility/test_visibility_task_writes_reach_is_ready_polling,
 *            check_future/test_future_is_ready_is_zero_while_running_and_one_after).
 * In a task: allowed
 *            (tests: check_visibility/test_visibility_task_writes_reach_is_ready_polling).
 * Since:     0.1
 */
FUTURES_API int future_is_ready(const future_t *future);

/**
 * future_cancel() - Cancel a task, or ask a running one to stop.
 *
 * A task that has not started never will: its future finishes with
 * ECANCELED, its waiters wake, its drop function (if any) runs in the
 * calling thread, and its continuations run with ECANCELED. A running task
 * is only asked: futures_cancelled() returns 1 inside it from now on, and
 * it finishes however it chooses (a hook it registered with
 * futures_on_cancel() runs in the calling thread before this returns,
 * unless another canceller is calling it already). A
 * finished future is left as it is. A
 * pending promise, timer or combinator's future (futures_promise_create(),
 * futures_after(), futures_all()) is settled with ECANCELED at once; a
 * combinator's inputs are not cancelled. A continuation that has not
 * started (futures_then(), futures_then_inline()) is settled with
 * ECANCELED and never runs; its antecedent is not cancelled. A body that
 * returned FUTURES_FOLLOW counts as running until the future it follows
 * settles.
 *
 * @future: (borrowed) NULL -> EINVAL.
 *
 * Return:    0 if the task was cancelled before it started (or the promise
 *            while pending); EINPROGRESS if it is running (cancellation
 *            requested); EALREADY if it had already finished (for a
 *            promise or a combinator's future: also while another thread
 *            settles it); EINVAL; ECHILD for an unstarted task, a pending
 *            promise or combinator's future of the parent's in a fork()
 *            child.
 * Ownership: does not consume @future.
 * Threads:   safe, also racing with the task starting: exactly one of "it
 *            ran" and "ECANCELED" happens
 *            (tests: check_cancel/test_cancel_racing_task_start_is_ran_or_cancelled,
 *            check_cancel/test_cancel_racing_inline_get_is_ran_or_cancelled,
 *            check_cancel/test_cancel_continuation_racing_its_antecedent_agrees_with_outcome,
 *            check_interleave/test_interleave_cancel_racing_drain_keeps_the_continuation,
 *            check_matrix[* x CANCEL, * x CANCEL_DRAIN]).
 * In a task: allowed
 *            (tests: check_cancel/test_cancelled_flag_is_scoped_to_the_cancelled_task).
 * Since:     0.1
 */
FUTURES_API int future_cancel(future_t *future);

/**
 * futures_cancelled() - Has the running task been asked to stop?
 *
 * A cancel never interrupts a running task: it only raises a flag, and
 * this is how the task's body reads it. Poll it in a long task and
 * return early (with ECANCELED, say) once it says 1.
 *
 * Return:    1 if the calling thread is running a task whose future was
 *            cancelled with future_cancel(), or whose pool is being
 *            destroyed with FUTURES_DESTROY_CANCEL; 0 otherwise (also
 *            outside any task).
 * Ownership: none.
 * Threads:   safe; cheap (a thread-local read and one atomic load)
 *            (tests: check_cancel/test_destroy_cancel_flags_running_and_cancels_queued,
 *            check_cancel/test_cancelled_is_zero_outside_tasks_and_in_uncancelled_task).
 * In a task: this is what it is for
 *            (tests: check_cancel/test_cancel_running_task_sets_flag_and_returns_einprogress,
 *            check_cancel/test_cancelled_flag_is_scoped_to_the_cancelled_task,
 *            check_cancel/test_cancel_drop_function_runs_as_the_cancelled_record).
 * Since:     0.1
 */
FUTURES_API int futures_cancelled(void);

/**
 * futures_on_cancel() - Be told of a cancel while blocked (an abort
 * signal listener for a running task).
 *
 * Called from inside a running task, continuation or inline continuation:
 * registers @fn, which future_cancel() on this body's future then calls
 * once, in the cancelling thread, with @arg, after futures_cancelled() has
 * started to return 1 here; FUTURES_DESTROY_CANCEL of the body's pool
 * calls it too, in the destroying thread. Use it to wake a body blocked
 * where futures_cancelled() cannot be polled: write to an eventfd or a
 * pipe the body poll()s, shutdown() its socket, signal its condition
 * variable. Keep @fn short; it must not wait for the body.
 *
 * The hook lasts until the body returns, or removes it: @fn NULL
 * removes it, waiting for a call in progress (in another thread) to
 * return, after which @fn is never called again. A body whose @arg lives
 * on its own stack, or that frees or closes what the hook touches, must
 * remove the hook that way before it returns or frees: the library can
 * only take the hook away after the body's frame is gone. Once the body's
 * future has settled, @fn is neither running nor called again. A second
 * call with a hook replaces the first (if it has not been called yet).
 * Never remove the hook, or return, while holding a lock the hook takes.
 * In the range function of futures_parallel_for() this is EPERM: a
 * chunk is not a body of its own. A hook that calls futures_on_cancel()
 * acts on its own thread's body, not on the one it was registered for.
 *
 * @fn:  The hook; NULL removes the current one.
 * @arg: Passed to @fn.
 *
 * Return:    0 (removal always returns 0); ECANCELED if the body was
 *            already asked to stop (by future_cancel() or its pool's
 *            FUTURES_DESTROY_CANCEL, or its hook was already called, or
 *            the caller is a drop function, whose task was cancelled):
 *            nothing is registered, and the body should stop now; ENOMEM
 *            when the small node a first registration allocates cannot
 *            be had (nothing registered); EPERM outside a body (a thread
 *            that is not running a task or continuation, or a chunk of
 *            futures_parallel_for()).
 * Ownership: none; @arg stays the caller's.
 * Threads:   the body's own thread; safe racing with future_cancel() from
 *            any thread
 *            (tests: check_cancel/test_cancel_hook_wakes_a_task_blocked_in_poll,
 *            check_cancel/test_cancel_hook_racing_return_is_never_late,
 *            check_cancel/test_cancel_hook_after_cancel_is_ecanceled,
 *            check_cancel/test_cancel_hook_registered_during_destroy_cancel_is_ecanceled).
 * In a task: only there
 *            (tests: check_cancel/test_cancel_hook_outside_a_body_is_eperm,
 *            check_cancel/test_cancel_hook_destroy_cancel_wakes_blocked_tasks).
 * Since:     0.1
 */
FUTURES_API int futures_on_cancel(void (*fn)(void *arg), void *arg);

/**
 * future_times() - Where did a finished task's time go?
 *
 * Reports how long a finished task waited between its submit and its
 * start, and how long it then ran, as its pool measured them: only a pool
 * created with FUTURES_POOL_TIMING (futures_pool_create_ex()) records
 * times. It never blocks.
 *
 * @future:     (borrowed) A finished future of a pool created with
 *              FUTURES_POOL_TIMING.
 * @queued_ns:  (out, optional) Nanoseconds from submit to start (to
 *              cancellation for a cancelled task).
 * @running_ns: (out, optional) Nanoseconds from start to finish; 0 for a
 *              cancelled task.
 *
 * Return:    0; EINVAL if @future is NULL; EBUSY if it has not finished;
 *            ENOTSUP if its pool does not record times.
 * Ownership: borrows @future.
 * Threads:   safe
 *            (tests: check_stats/test_times_read_from_many_threads_and_a_task_agree).
 * In a task: allowed
 *            (tests: check_stats/test_times_read_from_many_threads_and_a_task_agree).
 * Since:     0.1
 */
FUTURES_API int future_times(const future_t *future, long long *queued_ns,
                             long long *running_ns);

/**
 * future_release() - Drop the caller's handle.
 *
 * The memory goes once the task has also finished with it; releasing a
 * future whose task has not started, or is running, is legal and leaks
 * nothing (the task still runs; cancel it first to stop it).
 *
 * @future: (consumed) The handle; NULL does nothing.
 *
 * Ownership: consumes @future; no call may use it afterwards.
 * Threads:   once per handle, not concurrently with other calls on it
 *            (tests: check_release/test_release_racing_with_completion_runs_every_task_once,
 *            check_release/test_release_while_the_task_runs_lets_it_finish,
 *            check_stress/test_stress_wakeup_single_quick,
 *            check_release/test_release_use_of_a_released_queued_future_is_einval_in_debug).
 * In a task: allowed
 *            (tests: check_submit/test_submit_from_a_task_and_get_works_on_one_thread_pool,
 *            check_shutdown/test_shutdown_drain_runs_subtasks_submitted_during_it).
 * Since:     0.1
 */
FUTURES_API void future_release(future_t *future);

/* ------------------------------------------------------------ promise */

/**
 * future_retain() - Take one more reference to a future.
 *
 * A future's memory stays until every reference is dropped with
 * future_release(). A producer that hands a promise to a consumer retains
 * it for the consumer, so that either side may release first.
 *
 * @future: (borrowed) Any future: a task's, a continuation's, a promise, a
 *          combinator's. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; EAGAIN when the future already has about 8
 *            million references (nothing is taken).
 * Ownership: the caller owns one more reference, dropped with
 *            future_release().
 * Threads:   safe, concurrently with any call on the same future but its
 *            last release
 *            (tests: check_promise/test_promise_retain_lets_consumer_and_producer_release_in_any_order).
 * In a task: allowed; waiting for one blocks the worker (above)
 *            (tests: check_promise/test_promise_settled_by_a_task_wakes_every_kind_of_waiter,
 *            check_promise/test_promise_waited_in_a_task_on_one_worker_blocks_it,
 *            check_promise/test_promise_followed_by_a_task_on_one_worker_frees_it).
 * Since:     0.1
 */
FUTURES_API int future_retain(future_t *future);

/**
 * futures_promise_create() - A future with no task, settled by its holder.
 *
 * The promise is pending until future_resolve(), future_reject() or
 * future_cancel() settles it; the first of them wins, and every later one
 * returns EALREADY and changes nothing. Every waiting function, join and
 * notifier works on it as on a task's future; a thread that waits for it
 * sleeps on a condition variable, and a task that waits for it runs its
 * own pending sub-tasks meanwhile, and nothing else: its worker stays
 * blocked. So a task of a 1-worker pool that waits for a promise which
 * only another task queued on that pool would settle waits for ever (a
 * timed wait times out, and the other task runs once the waiting one has
 * returned). Do not wait in a task for what the pool itself must produce:
 * return FUTURES_FOLLOW with the promise instead (the worker is free at
 * once, and the task's future settles when the promise does), or chain a
 * continuation with futures_then() (see "In a task" below). A producer
 * learns that its promise was cancelled when future_resolve() or
 * future_reject() returns EALREADY, or by watching it with a notifier (a
 * future_is_ready() just after a cancel returned may still say 0 for a
 * moment), or with an inline continuation (futures_then_inline()).
 *
 * @future: (out) Receives the promise, with one reference (the caller's).
 *          NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@future is then NULL); EAGAIN if the
 *            library's first-use set-up could not register its fork()
 *            handlers.
 * Ownership: the caller owns the promise; future_release() drops it.
 * Threads:   safe
 *            (tests: check_promise/test_promise_racing_settlers_exactly_one_wins).
 * In a task: allowed
 *            (tests: check_promise/test_promise_settled_by_a_task_wakes_every_kind_of_waiter).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int futures_promise_create(future_t **future);

/**
 * future_resolve() - Settle a promise with a value.
 *
 * Publishes code 0 and @value: everything the calling thread wrote before
 * happens-before a waiter's return from future_get() or a join on the
 * promise, which then reads @value as its result. Wakes every waiter and
 * delivers to every notifier watching it, in the calling thread. The
 * library never frees @value.
 *
 * @future: (borrowed) A promise from futures_promise_create(). NULL, or a
 *          future with a task or of a combinator -> EINVAL.
 * @value:  Its result; may be NULL.
 *
 * Return:    0; EALREADY if it was already settled (resolved, rejected or
 *            cancelled: nothing changes); EINVAL; ECHILD for a promise of
 *            the parent's in a fork() child.
 * Ownership: does not consume @future (the producer still releases its
 *            reference); a resolve after every other holder released is
 *            allowed.
 * Threads:   safe, racing with other settles and cancels: exactly one wins
 *            (tests: check_promise/test_promise_racing_settlers_exactly_one_wins,
 *            check_interleave/test_interleave_promise_resolve_wakes_a_sleeping_get).
 * In a task: allowed
 *            (tests: check_promise/test_promise_settled_by_a_task_wakes_every_kind_of_waiter).
 * Since:     0.1
 */
FUTURES_API int future_resolve(future_t *future, void *value);

/**
 * future_reject() - Settle a promise with an error code.
 *
 * As future_resolve(), with @code as the outcome and no result.
 *
 * @future: (borrowed) As future_resolve().
 * @code:   The error, > 0 (an errno value or one of the caller's own);
 *          0 or negative -> EINVAL.
 *
 * Return:    0; EALREADY; EINVAL; ECHILD, as future_resolve().
 * Ownership: does not consume @future.
 * Threads:   as future_resolve()
 *            (tests: check_promise/test_promise_racing_settlers_exactly_one_wins).
 * In a task: allowed
 *            (tests: check_promise/test_promise_settled_by_a_task_wakes_every_kind_of_waiter).
 * Since:     0.1
 */
FUTURES_API int future_reject(future_t *future, int code);

/**
 * future_resolve_owned() - Settle a promise with a value the library
 * destroys if no one reads it.
 *
 * As future_resolve(), and hands the library @value's destructor: @drop
 * runs exactly once, with @value, when the last reference to the promise
 * goes and no one has read the value (future_get() or a join with a
 * result slot, a continuation, a race or a follower that passes it on:
 * the first reader owns it from then on). It runs in the thread that
 * drops the last reference, perhaps inside a library call: it must not
 * call into the library.
 *
 * @future: (borrowed) A promise. NULL, or not a promise -> EINVAL.
 * @value:  Its result; may be NULL (then @drop never runs).
 * @drop:   The destructor; NULL behaves as future_resolve().
 *
 * Return:    0; EALREADY (nothing changes: @value is still the caller's);
 *            EINVAL; ECHILD as future_resolve().
 * Ownership: on 0, @value belongs to the promise until someone reads it.
 * Threads:   as future_resolve()
 *            (tests: check_promise/test_promise_owned_value_unread_is_destroyed_once,
 *            check_promise/test_promise_owned_value_read_is_the_readers).
 * In a task: allowed
 *            (tests: check_promise/test_promise_owned_value_race_losers_destroyed).
 * Since:     0.1
 */
FUTURES_API int future_resolve_owned(future_t *future, void *value,
                                     futures_drop_fn drop);

/* ------------------------------------------------------------ timer */

/**
 * futures_after() - A future that resolves after a delay
 * (setTimeout wrapped in a promise).
 *
 * The future resolves with code 0 and a NULL result once @delay_ns
 * nanoseconds have passed on CLOCK_MONOTONIC, holding no worker while it
 * waits: each pool has one timer thread, started by its first timer, that
 * sleeps until the earliest deadline of its heap of timers, so thousands
 * of pending timers cost memory (about 160 bytes each: the future, the
 * timer's node and its heap slot), not threads. The
 * future is resolved in that thread, and its inline continuations and
 * notifier deliveries run there. Lateness is measured in bench/
 * event_latency (BENCHMARKS.md), not promised.
 *
 * It is a future like any other: wait for it, join it, watch it, use it
 * as an input or an antecedent. No one can resolve or reject it
 * (EINVAL). future_cancel() on a pending timer settles it with ECANCELED
 * at once and takes it out of the heap. The pool's destroy, in either
 * mode, settles every pending timer with ECANCELED before its drain.
 *
 * @pool:     (borrowed) The pool whose timer thread keeps it. NULL ->
 *            EINVAL.
 * @delay_ns: Nanoseconds to wait; 0 or negative resolves at once; a
 *            delay past what the clock can hold (LLONG_MAX) never
 *            resolves, until cancelled or destroyed.
 * @future:   (out) Receives the timer's future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@future is then NULL); EAGAIN if the
 *            timer thread could not be started; ESHUTDOWN once @pool's
 *            destroy has begun; ECHILD for a pool of the parent's in a
 *            fork() child.
 * Ownership: the caller owns *@future; it outlives @pool (settled).
 * Threads:   safe, also racing with the pool's destroy (ESHUTDOWN or a
 *            timer that destroy settles)
 *            (tests: check_timer/test_timer_many_resolve_in_deadline_order,
 *            check_timer/test_timer_cancel_settles_at_once_and_leaves_the_heap,
 *            check_timer/test_timer_destroy_settles_pending_ecanceled_in_both_modes,
 *            check_timer/test_timer_created_from_many_threads_racing_destroy).
 * In a task: allowed; a task that waits for a timer holds its worker
 *            (chain a continuation instead)
 *            (tests: check_timer/test_timer_seed_on_one_worker_runs_other_work_meanwhile).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_after(futures_pool_t *pool, long long delay_ns, future_t **future);

/**
 * futures_all() - A future that settles once every input has settled.
 *
 * Promise.all as a value: it never blocks and holds no thread. Its code is
 * 0 when every input succeeded, else the code of the lowest-index input
 * that failed (ECANCELED for a cancelled one); its result is NULL (read
 * each input's own with future_get(), which no longer waits). It is
 * settled in the thread that settles its last input (or in the caller's,
 * when every input had settled already). It takes its own reference to
 * each input, dropped once it has settled, so the caller may release the
 * inputs at once. Cancelling it settles it with ECANCELED and cancels no
 * input (futures_cancel_inputs() does, if called first); it then lets go
 * of its inputs at once. While pending it keeps its references and O(@n)
 * memory (an input that never settles
 * keeps them for ever). It can be an input of another futures_all(), be
 * watched by a notifier, and be the antecedent of futures_then() and
 * futures_then_inline().
 * future_get() on it (untimed) runs its inputs that have not started in
 * the caller, as it runs an unstarted task; the other waits and joins
 * only sleep, or in a task run the task's own sub-tasks. A task waiting
 * for an all that contains its own future waits for ever (no EDEADLK).
 *
 * @futures: (borrowed) @n futures of any kind; NULL (with @n > 0) or a NULL
 *           entry -> EINVAL. The same future may appear more than once.
 * @n:       Count; 0 gives a future already resolved.
 * @all:     (out) Receives the new future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@all is then NULL); ECHILD if an input is
 *            an unfinished future of the parent's in a fork() child;
 *            EAGAIN if an input already has about 8 million references,
 *            or as futures_promise_create().
 * Ownership: borrows the inputs; the caller owns *@all.
 * Threads:   safe, racing with the inputs settling
 *            (tests: check_promise/test_all_settles_when_inputs_settle_from_many_threads,
 *            check_promise/test_all_inputs_released_at_once_still_settle).
 * In a task: allowed; future_get() on it runs its unstarted inputs
 *            (tests: check_promise/test_all_of_task_futures_made_in_a_task,
 *            check_promise/test_all_waited_in_a_task_runs_its_queued_inputs_on_one_worker).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int futures_all(future_t *const futures[],
                                                size_t n, future_t **all);

/**
 * futures_all_settled() - A future that settles once every input has
 * settled, whatever the outcomes (Promise.allSettled as a value).
 *
 * As futures_all(), but its code is always 0 and its result NULL: it says
 * only that every input has settled (succeeded, failed or been
 * cancelled); read each input's outcome with future_get(), which no
 * longer waits. It is settled in the thread that settles its last input
 * (or in the caller's, when every input had settled already), holds no
 * thread, takes its own reference to each input (the caller may release
 * them at once) and drops them once it has settled. Cancelling it settles
 * it with ECANCELED, cancels no input (futures_cancel_inputs() does) and
 * lets go of the inputs at once. It composes with every future: an input
 * of any combinator, including another of its own kind.
 *
 * @futures: (borrowed) As futures_all().
 * @n:       Count; 0 gives a future already resolved.
 * @all:     (out) Receives the new future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@all is then NULL); ECHILD; EAGAIN; as
 *            futures_all().
 * Ownership: borrows the inputs; the caller owns *@all.
 * Threads:   safe, racing with the inputs settling and with threads that
 *            wait for it
 *            (tests: check_combine/test_all_settled_settles_when_inputs_settle_from_many_threads,
 *            check_combine/test_combine_inputs_released_at_once_still_settle,
 *            check_combine/test_combine_waiters_help_while_it_settles_and_lets_go).
 * In a task: allowed; future_get() on it runs its unstarted inputs
 *            (tests: check_combine/test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_all_settled(future_t *const futures[], size_t n, future_t **all);

/**
 * futures_any() - A future that settles as the first input to settle
 * does (Promise.race as a value).
 *
 * A race: the new future settles with the code of the first input to
 * settle, success or failure (ECANCELED for a cancelled one), and, on
 * success, with its result as its own. That result is the input's: the
 * race hands over the pointer and owns nothing, so it stays valid exactly
 * as long as the winner's result does. The library frees a result only
 * through a destructor its producer handed over (futures_task_t's
 * result_drop, future_resolve_owned()), once the winner's last reference
 * goes and no one has read it from the winner: keep the winner's future
 * while you use the race's result, or read it from the winner
 * (futures_winner(), then future_get()) to own it. Reading the race's
 * result does not take it over.
 * futures_winner() tells which input won. If inputs had settled before
 * the call, the lowest-index one wins; otherwise the first one seen to
 * settle (of two settling at the same moment, either). It is settled in
 * the thread that settles the winner (or in the caller's), holds no
 * thread, and takes its own reference to each input; once it has
 * settled, by its winner or by a cancel, it lets go of every input at
 * once, so losers that run on for long keep nothing of it. Cancelling it
 * settles it with ECANCELED and cancels no input (futures_cancel_inputs()
 * does, if called first). It composes with every future: an input of any
 * combinator, including another race.
 *
 * @futures: (borrowed) @n futures of any kind; NULL or a NULL entry ->
 *           EINVAL. The same future may appear more than once.
 * @n:       Count; 0 -> EINVAL (a race with no runners never ends, as
 *           futures_join_any() says).
 * @any:     (out) Receives the new future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL (*@any is then NULL); ENOMEM;
 *            ECHILD; EAGAIN; as futures_all().
 * Ownership: borrows the inputs; the caller owns *@any.
 * Threads:   safe, racing with the inputs settling and with cancels: it
 *            has exactly one outcome, and futures_winner() agrees with it
 *            (tests: check_combine/test_any_settled_from_many_threads_has_one_winner,
 *            check_combine/test_race_cancel_racing_its_inputs_agrees_with_the_winner,
 *            check_combine/test_race_cancelled_while_its_winner_is_due_has_no_winner,
 *            check_combine/test_race_lets_go_of_its_inputs_once_settled,
 *            check_combine/test_combine_waiters_help_while_it_settles_and_lets_go).
 * In a task: allowed; future_get() on it runs its unstarted inputs
 *            (tests: check_combine/test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_any(future_t *const futures[], size_t n, future_t **any);

/**
 * futures_any_ok() - A future that settles with the first success
 * (Promise.any as a value).
 *
 * A race won by the first input to succeed: the new future settles with
 * code 0 and that input's result (owned by the input, as futures_any()
 * says). If every input fails, it settles with ENOENT, the code
 * futures_join_any_ok() returns then (the aggregate failure: read each
 * input's own code with future_get()). If inputs had succeeded before the
 * call, the lowest-index success wins. Threads, references, letting go of
 * the inputs, cancellation and composition are as futures_any().
 *
 * @futures: (borrowed) As futures_any().
 * @n:       Count; 0 gives a future already settled with ENOENT (no input
 *           succeeded), as futures_join_any_ok() returns ENOENT.
 * @any:     (out) Receives the new future. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (*@any is then NULL); ECHILD; EAGAIN; as
 *            futures_all().
 * Ownership: borrows the inputs; the caller owns *@any.
 * Threads:   safe, racing with the inputs settling and with cancels
 *            (tests: check_combine/test_any_ok_racing_successes_and_failures_has_one_outcome,
 *            check_combine/test_race_cancel_racing_its_inputs_agrees_with_the_winner,
 *            check_combine/test_race_lets_go_of_its_inputs_once_settled,
 *            check_combine/test_combine_waiters_help_while_it_settles_and_lets_go).
 * In a task: allowed; future_get() on it runs its unstarted inputs
 *            (tests: check_combine/test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_any_ok(future_t *const futures[], size_t n, future_t **any);

/**
 * futures_winner() - Which input won a race? Never blocks.
 *
 * For the future of futures_any() or futures_any_ok(), the index (in the
 * array it was made from) of the input whose outcome it took. The answer
 * stays for as long as the future lives, after the race has let go of
 * its inputs. A race settled by future_cancel(), or a futures_any_ok()
 * whose inputs all failed (or that had none), has no winner.
 *
 * @combined: (borrowed) The race's future. NULL, or any other future (a
 *            task's, a promise, futures_all()'s, futures_all_settled()'s)
 *            -> EINVAL.
 * @index:    (out) Receives the winner's index; (size_t)-1 on any error.
 *            NULL -> EINVAL.
 *
 * Return:    0; EINVAL; EBUSY if the race has not settled yet; ENOENT if
 *            it settled with no winner (cancelled, or every input failed).
 * Ownership: borrows @combined.
 * Threads:   safe; once future_get() or any wait has seen the race
 *            settled, the answer is there and never changes
 *            (tests: check_combine/test_any_settled_from_many_threads_has_one_winner,
 *            check_combine/test_race_cancel_racing_its_inputs_agrees_with_the_winner,
 *            check_combine/test_race_cancelled_while_its_winner_is_due_has_no_winner).
 * In a task: allowed
 *            (tests: check_combine/test_combine_waited_in_a_task_runs_queued_inputs_on_one_worker).
 * Since:     0.1
 */
FUTURES_API int futures_winner(const future_t *combined, size_t *index);

/**
 * futures_cancel_inputs() - Cancel the inputs of a pending combinator.
 *
 * Calls future_cancel() on each input of @combined that has not settled,
 * in index order: an unstarted task, a pending promise, timer,
 * continuation or combinator settles with ECANCELED, and a running task
 * is asked to stop. @combined itself is not cancelled: it settles as its
 * inputs' new outcomes decide (an all with ECANCELED, a race with its
 * first cancelled input's ECANCELED, an any_ok whose inputs all failed
 * with ENOENT). Every input still pending is reached even when the first
 * cancels settle the combinator and it lets go of its inputs meanwhile.
 * Once a combinator has settled it has let go of its inputs, which are no
 * longer its to cancel: call this before future_cancel() on it, and
 * cancel a race's losers through your own handles.
 *
 * @combined: (borrowed) The future of futures_all(), futures_all_settled(),
 *            futures_any() or futures_any_ok(). NULL or any other future
 *            -> EINVAL.
 *
 * Return:    0 if @combined was pending (each input still pending was
 *            cancelled or asked to stop); EALREADY if it had settled
 *            (nothing is done); EINVAL; ECHILD for a pending combinator
 *            of the parent's in a fork() child.
 * Ownership: borrows @combined; its inputs stay referenced while they are
 *            cancelled.
 * Threads:   safe, racing with the inputs settling and the combinator
 *            letting go of them
 *            (tests: check_combine/test_cancel_inputs_racing_settles_cancels_or_finds_settled,
 *            check_combine/test_cancel_inputs_of_a_race_reaches_every_input,
 *            check_combine/test_cancel_inputs_of_a_settled_race_is_ealready_before_it_lets_go).
 * In a task: allowed; a task that cancels a combinator holding its own
 *            future only asks itself to stop
 *            (tests: check_combine/test_cancel_inputs_in_a_task_asks_its_own_future_to_stop).
 * Since:     0.1
 */
FUTURES_API int futures_cancel_inputs(future_t *combined);

/* ------------------------------------------------------------ join */

/**
 * futures_join_all() - Wait for every future (Promise.all).
 *
 * Returns only when all @n futures have finished, so a task may safely use
 * the caller's stack. While waiting, the caller runs futures that have not
 * started yet (one at a time while they prove long, so that the workers
 * take the others in parallel). Fills results[i] with each result (NULL for
 * a failed one). The futures may belong to different pools.
 *
 * @futures: (borrowed) @n futures; NULL (with @n > 0) or a NULL entry ->
 *           EINVAL before anything is waited for. The same future may
 *           appear more than once.
 * @n:       Count; 0 returns 0 at once.
 * @results: (out, optional) @n slots, or NULL.
 *
 * Return:    0 if every task succeeded; else the code of the lowest-index
 *            future that failed (ECANCELED for a cancelled one); EINVAL;
 *            ECHILD (nothing is run or waited for); EDEADLK if one of the
 *            futures is the calling task's own (nothing is run or waited
 *            for).
 * Ownership: borrows every future; the caller still releases them.
 * Threads:   safe; any number of joins may share futures
 *            (tests: check_join/test_join_all_from_many_threads_on_shared_futures,
 *            check_faults/test_faults_duplicated_futures_in_every_join,
 *            check_matrix[JOIN_ALL x SECOND_*]).
 * In a task: allowed
 *            (tests: check_nested/test_nested_task_joins_100_children_on_one_thread_pool,
 *            check_matrix[JOIN_ALL x WORKER_HELPS, JOIN_ALL x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_all(future_t *const futures[], size_t n,
                                 void *results[]);

/**
 * futures_join_all_until() - futures_join_all() with a deadline.
 *
 * Waits until every future has finished or @abstime (CLOCK_MONOTONIC) has
 * passed. Like future_wait_until(), it does not run the awaited tasks in
 * the caller, except its own pending sub-tasks when called from a task.
 *
 * Return:    as futures_join_all(); ETIMEDOUT if a future was still
 *            unfinished at the deadline (then @results is untouched and
 *            every future is intact); EINVAL also for a NULL or malformed
 *            @abstime.
 * Ownership: as futures_join_all().
 * Threads:   safe
 *            (tests: check_matrix[JOIN_ALL_UNTIL x SECOND_*]).
 * In a task: allowed
 *            (tests: check_deadline/test_join_all_until_far_deadline_in_a_task_runs_its_subtask,
 *            check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_matrix[JOIN_ALL_UNTIL x WORKER_HELPS, JOIN_ALL_UNTIL x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_all_until(future_t *const futures[], size_t n,
                                       void *results[],
                                       const struct timespec *abstime);

/**
 * futures_join_all_settled() - Wait for all, report each (allSettled).
 *
 * Returns only when all @n futures have finished, whatever their
 * outcomes, and reports each one's code and result in outcomes[i]. While
 * waiting, the caller runs futures that have not started yet, as
 * futures_join_all() does. The futures may belong to different pools.
 *
 * @futures:  (borrowed) As futures_join_all().
 * @n:        Count; 0 returns 0 at once.
 * @outcomes: (out) @n slots, each set to its future's code and result.
 *            NULL (with @n > 0) -> EINVAL.
 *
 * Return:    0 once all have finished, whatever their outcomes; EINVAL;
 *            ECHILD and EDEADLK as futures_join_all().
 * Ownership: as futures_join_all().
 * Threads:   safe
 *            (tests: check_matrix[JOIN_ALL_SETTLED x SECOND_*]).
 * In a task: allowed
 *            (tests: check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_matrix[JOIN_ALL_SETTLED x WORKER_HELPS, JOIN_ALL_SETTLED x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_all_settled(future_t *const futures[], size_t n,
                                         futures_outcome_t outcomes[]);

/**
 * futures_join_all_failfast() - Wait for all, or for the first failure.
 *
 * Returns 0 when every future succeeded (filling @results as
 * futures_join_all() does), or as soon as any future fails, with that
 * future's code and its index in *@failed. The futures that had not
 * finished then keep running: the caller still owns every handle and can
 * wait for the rest (futures_join_all_settled()), cancel them
 * (future_cancel()) or just release them. Called from one of the pool's
 * tasks, it runs unstarted futures of the array while it waits (so that it
 * cannot deadlock a small pool); other callers only wait.
 *
 * @futures: (borrowed) As futures_join_all().
 * @n:       Count; 0 returns 0 at once.
 * @results: (out, optional) Filled only when the return is 0.
 * @failed:  (out, optional) Index of the failure; (size_t)-1 when 0 is
 *           returned.
 *
 * Return:    0; the failing future's code; EINVAL; ENOMEM if the wait
 *            records for a large @n (over 64) could not be allocated;
 *            ECHILD and EDEADLK as futures_join_all().
 * Ownership: as futures_join_all().
 * Threads:   safe
 *            (tests: check_stress/test_stress_wakeup_any_quick,
 *            check_matrix[JOIN_ALL_FAILFAST x SECOND_*]).
 * In a task: allowed
 *            (tests: check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_matrix[JOIN_ALL_FAILFAST x WORKER_HELPS, JOIN_ALL_FAILFAST x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_all_failfast(future_t *const futures[],
                                          size_t n, void *results[],
                                          size_t *failed);

/**
 * futures_join_any() - Wait for the first future to finish (Promise.race).
 *
 * Sleeps on one condition variable that every one of the futures signals,
 * rather than polling them in turn. Called from one of the pool's tasks,
 * it runs an unstarted future of the array while none has finished (so
 * that it cannot deadlock a small pool; the winner is still whichever
 * finished first); other callers only wait, so a long task never holds up
 * their answer when a short one wins.
 *
 * @futures: (borrowed) @n futures; NULL or a NULL entry -> EINVAL.
 * @n:       Count; 0 -> EINVAL (a race with no runners never ends).
 * @index:   (out) Index of the winner; NULL -> EINVAL.
 * @result:  (out, optional) The winner's result.
 *
 * Return:    the winner's code (0 or its error); EINVAL (then *@index is
 *            (size_t)-1 when @index is not NULL); ENOMEM if the wait
 *            records for a large @n (over 64) could not be allocated;
 *            ECHILD when no future has finished and one will never finish
 *            here; EDEADLK if one of the futures is the calling task's own
 *            and unfinished (even if another one has finished).
 * Ownership: borrows every future; the others keep running.
 * Threads:   safe
 *            (tests: check_combinators/test_join_any_wakes_when_a_running_future_finishes,
 *            check_stress/test_stress_wakeup_any_quick,
 *            check_matrix[JOIN_ANY x SECOND_*]).
 * In a task: allowed
 *            (tests: check_combinators/test_join_any_in_a_task_runs_unstarted_child_in_caller,
 *            check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_matrix[JOIN_ANY x WORKER_HELPS, JOIN_ANY x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_any(future_t *const futures[], size_t n,
                                 size_t *index, void **result);

/**
 * futures_join_any_until() - futures_join_any() with a deadline.
 *
 * Waits as futures_join_any() does, but never runs one of @futures in the
 * caller, and gives up at @abstime. Like future_wait_until(), a thread
 * running one of the pool's tasks runs its own pending sub-tasks while it
 * waits (so a timed race of sub-tasks works on a 1-thread pool), each of
 * which may overrun the deadline once.
 *
 * @futures: (borrowed) As futures_join_any().
 * @n:       As futures_join_any(); 0 -> EINVAL.
 * @index:   (out) As futures_join_any(); (size_t)-1 on any error.
 * @result:  (out, optional) The winner's result.
 * @abstime: (borrowed) CLOCK_MONOTONIC deadline; NULL or a malformed one
 *           (tv_nsec outside [0, 1e9)) -> EINVAL; a past deadline polls; see
 *           "Deadlines" above.
 *
 * Return:    as futures_join_any(); ETIMEDOUT if none finished by
 *            @abstime, leaving every future intact.
 * Ownership: borrows every future; the others keep running.
 * Threads:   safe
 *            (tests: check_matrix[JOIN_ANY_UNTIL x SECOND_*]).
 * In a task: allowed
 *            (tests: check_deadline/test_join_any_until_far_deadline_in_a_task_runs_its_subtask,
 *            check_matrix[JOIN_ANY_UNTIL x WORKER_HELPS, JOIN_ANY_UNTIL x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_any_until(future_t *const futures[], size_t n,
                                       size_t *index, void **result,
                                       const struct timespec *abstime);

/**
 * futures_join_any_ok() - Wait for the first success (Promise.any).
 *
 * Returns as soon as one future succeeds. If every one fails, returns
 * ENOENT (the aggregate failure) and, when @codes is given, each future's
 * own code in codes[i]. It waits as futures_join_any() does: called from
 * one of the pool's tasks, the caller runs an unstarted future of the
 * array while none has succeeded; other callers only wait.
 *
 * @futures: (borrowed) As futures_join_any(); @n == 0 returns ENOENT.
 * @index:   (out, optional) Index of the first success; (size_t)-1 if none.
 * @result:  (out, optional) Its result.
 * @codes:   (out, optional) @n slots; filled only when ENOENT is returned.
 *
 * Return:    0; ENOENT when no future succeeded; EINVAL; ENOMEM, ECHILD and
 *            EDEADLK as futures_join_any().
 * Ownership: borrows every future.
 * Threads:   safe
 *            (tests: check_stress/test_stress_wakeup_any_quick,
 *            check_matrix[JOIN_ANY_OK x SECOND_*]).
 * In a task: allowed
 *            (tests: check_combinators/test_join_any_in_a_task_runs_unstarted_child_in_caller,
 *            check_nested/test_nested_combinators_in_task_on_one_thread_pool,
 *            check_matrix[JOIN_ANY_OK x WORKER_HELPS, JOIN_ANY_OK x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_join_any_ok(future_t *const futures[], size_t n,
                                    size_t *index, void **result,
                                    int codes[]);

/* ------------------------------------------------------------ frames */

/**
 * futures_frame_t - One spawned task of fork-join, in the caller's memory.
 *
 * futures_spawn() and futures_sync() are fork-join for code that is
 * already running as one of a pool's tasks: a spawn that costs about as
 * much as a function call when nobody steals it, in exchange for strict
 * rules. The frame lives where the caller puts it, normally a local
 * variable of the task: spawning allocates nothing. A spawned task is not
 * a future: it has no handle, cannot be cancelled by itself, and must be
 * synced by the task that spawned it, newest first, before that task
 * returns.
 *
 * This is the one public type that is not opaque, as pthread_mutex_t is
 * not: its size and alignment are part of the ABI, its fields are private
 * (the library keeps what it needs in the reserved words and leaves the
 * tail of them for later versions). Never read or write them; copying a
 * spawned frame is undefined. A synced frame may be spawned again.
 */
typedef struct futures_frame {
  void *futures_reserved[12];
} futures_frame_t;

/**
 * futures_spawn() - Start a task that the calling task will sync.
 *
 * Offers fn(arg, &result) to the other workers of the pool running the
 * calling task: the frame goes to the calling thread's frame deque, where
 * an idle worker may steal it, and futures_sync() later runs it in the
 * caller if nobody did. Frames are kept private until a worker wants
 * them: a worker that runs out of work asks the spawning workers to share
 * some, looks for shared frames while it spins (at most about 50
 * microseconds) and once more before it sleeps, and never spins on a
 * frame deque after that. A spawn that sees a request shares half of the
 * caller's private frames, and a futures_sync() that sees one, about to
 * run a frame in the caller, shares all of them. A share wakes a sleeping
 * worker if one is needed and, while workers stay idle, leaves the
 * request standing for the next spawn or sync; each worker that takes a
 * frame wakes the next while more are shared. So a flat loop of spawns
 * reaches every idle worker that asks before a spawn or sync: the spawning
 * thread reads requests only there. A request made while it runs code
 * between them (a frame that futures_sync() runs in the caller included)
 * waits until that returns. Spawned tasks may therefore run one after
 * another, in the caller, even while workers are idle: a task that waits
 * for a sibling frame to start may wait for ever. When the deque is full
 * (1024 frames spawned and not synced in one thread), or the calling
 * thread has none (a task run in place by a thread outside the pool, or an
 * inline continuation), the task runs at once, inside futures_spawn(), and
 * futures_sync() only returns its outcome.
 *
 * A frame task runs as part of the task that spawned it: futures_cancelled()
 * there reports whether that task was asked to stop, and a future_get() or
 * futures_join_all() in it helps as in any task. It may spawn and sync
 * frames of its own. It must not call pthread_exit() (that would unwind the
 * stack of the spawning task, which may be another thread's). Nor may a
 * task that has frames open (spawned, not synced), or a task that a wait
 * runs in place inside a frame task, end its thread: that unwinds frames
 * that other workers may still hold, or leaves a frame's spawner waiting
 * for ever, and the behaviour is undefined. A
 * futures_on_cancel() in it is never a hook of its own, and what it does
 * depends on who runs the frame: run in the spawning thread (by
 * futures_sync(), or at once), it registers a hook of the spawning task,
 * which stays registered after the frame returns; run by another worker,
 * it returns EPERM. Do not call it in a frame task. The frame must stay
 * valid, and untouched, until futures_sync() returns.
 *
 * fork(): in a child forked while a task runs, the pool's workers are not
 * there (see "fork" at the top). A futures_spawn() on a frame deque
 * of the parent's pool wakes nobody and no thread can steal the frame, so
 * futures_sync() runs it in the child; a frame that was
 * waiting unclaimed at the fork is run by its futures_sync() in the
 * child too; a frame a worker had stolen before the fork and not finished
 * is not run: its futures_sync() in the child returns ECHILD at once
 * (NULL result), as a wait on the parent's unfinished work does. The same
 * holds when the fork happens inside a frame that such a sync ran while it
 * helped the thief: back in the child, the sync returns ECHILD.
 *
 * @frame: (caller owns) Where the spawned task is kept until it is
 *         synced, normally a local variable. NULL -> EINVAL.
 * @fn:    The task body. NULL -> EINVAL.
 * @arg:   Passed to @fn.
 *
 * Return:    0 (the task will run, or ran); EINVAL if @frame or @fn is
 *            NULL; EPERM if the calling thread is not running a pool task
 *            (nothing was done).
 * Ownership: @frame stays the caller's; the library uses it until
 *            futures_sync() returns. @arg stays the caller's.
 * Threads:   the spawning task's thread; the task may run on any worker of
 *            its pool, or in that thread
 *            (tests: check_frames/test_frames_fib_matches_sequential_on_1_2_4_workers,
 *            check_frames/test_frames_stolen_frame_is_synced_after_the_thief_finishes,
 *            check_frames/test_frames_spawn_beyond_the_deque_runs_at_once,
 *            check_interleave/test_interleave_flat_spawn_loop_uses_every_worker,
 *            check_frames/test_frames_sync_in_a_fork_child_never_waits_for_the_parent).
 * In a task: only there; outside one EPERM
 *            (tests: check_frames/test_frames_outside_a_task_is_eperm,
 *            check_frames/test_frames_bad_arguments_are_einval,
 *            check_frames/test_frames_cancellation_is_seen_inside_frames,
 *            check_frames/test_frames_nested_future_get_inside_spawned_tasks).
 * Since:     0.1
 */
FUTURES_API int futures_spawn(futures_frame_t *frame, futures_task_fn fn,
                              void *arg);

/**
 * futures_sync() - Wait for a spawned task and fetch its outcome.
 *
 * Syncs the newest frame the calling task spawned and has not synced:
 * frames are synced in the reverse order of their spawns. If no other
 * worker took the task, it runs now, in the caller, at about the cost of a
 * function call. If one did, the caller helps that worker (it runs frames
 * that worker spawned meanwhile while it ran the stolen task, including
 * frames of tasks that the stolen task waited for and ran in place, and
 * never one the worker spawned once the stolen task had returned)
 * until the task is done, then sleeps on it rather than spin if it takes
 * long. Either way futures_sync() returns what the task returned, as
 * future_get() does.
 *
 * A sync out of order, or a task (or frame task) that returns with a
 * frame it spawned not synced, is a programming error. A debug build
 * (--enable-debug) detects both and aborts with a message naming the
 * rule (an unsynced frame when the task returns, unless an idle worker
 * stole it first and touched the dead frame before that). The check is
 * per thread, not per task: a sync by another task that this thread runs
 * in place meanwhile (a record that future_get() or futures_join_all()
 * helps with, of the spawning task's frame through a pointer) passes it
 * when the frame is the thread's newest. A release
 * build checks only what is cheap: an out-of-order sync
 * of a frame still waiting in the deque returns EINVAL and changes
 * nothing; a frame left unsynced is undefined behaviour (its memory is
 * gone with the task's stack while a worker may still steal it).
 *
 * @frame:  (borrowed) A frame spawned by the calling task. NULL, a frame
 *          already synced, or one never spawned (zeroed) -> EINVAL.
 * @result: (out, optional) Receives the task's result; may be NULL.
 *
 * Return:    0 or the task's own code (any positive value); EINVAL as
 *            above (nothing was done); EPERM if the calling thread is not
 *            running a pool task; ECHILD in a fork() child for a frame
 *            another worker stole before the fork and had not finished
 *            (see futures_spawn()).
 * Ownership: the frame is the caller's again when it returns; *@result
 *            is whatever the task stored.
 * Threads:   only the thread that spawned @frame, inside the same task
 *            (tests: check_frames/test_frames_stolen_frame_is_synced_after_the_thief_finishes,
 *            check_interleave/test_interleave_stolen_frame_sync_sleeps_until_the_thief_finishes,
 *            check_interleave/test_interleave_leapfrog_claims_only_the_stolen_frames_descendants,
 *            check_interleave/test_interleave_fork_in_a_leapfrogged_frame_syncs_with_echild,
 *            check_frames/test_frames_errors_and_results_pass_through_sync,
 *            check_frames/test_frames_out_of_order_sync_is_caught,
 *            check_frames/test_frames_unsynced_frame_is_caught_in_debug,
 *            check_frames/test_frames_sync_in_a_fork_child_never_waits_for_the_parent,
 *            check_interleave/test_interleave_flat_spawn_loop_uses_every_worker).
 * In a task: only there; outside one EPERM
 *            (tests: check_frames/test_frames_outside_a_task_is_eperm,
 *            check_frames/test_frames_fib_matches_sequential_on_1_2_4_workers).
 * Since:     0.1
 */
FUTURES_API int futures_sync(futures_frame_t *frame, void **result);

/* ------------------------------------------------------------ as completed */

/**
 * futures_as_completed_t - The futures of a set, in the order they settle.
 *
 * Made over an array of futures, a set hands back their indices one at a
 * time as they settle (with any outcome: success, failure or
 * cancellation), each index once, so that a loop handles the results in
 * the order they finish:
 *
 *   while (futures_as_completed_next(set, &i) == 0)
 *     rc = future_get(futures[i], &result); (does not wait)
 *
 * Each call costs O(1) besides its waiting, however many futures the set
 * holds: nothing is rescanned.
 */
typedef struct futures_as_completed futures_as_completed_t;

/**
 * futures_as_completed_create() - A set that yields futures as they settle.
 *
 * Takes a reference of its own to each input (so the set never reads freed
 * memory; the caller keeps its handles to read the outcomes). Inputs that
 * have settled already come first, in index order; the others follow in
 * the order they settle. Never blocks and runs nothing.
 *
 * @futures: (borrowed) @n futures of any kind and of any pools; NULL (with
 *           @n > 0) or a NULL entry -> EINVAL. The same future may appear
 *           more than once: each of its indices is handed back once.
 * @n:       Count; 0 gives a set on which next() returns ENOENT at once.
 * @set:     (out) Receives the set; NULL on failure. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM (nothing is held); ECHILD if an input is an
 *            unfinished future of the parent's in a fork() child; EAGAIN
 *            if an input already has about 8 million references, or as
 *            futures_promise_create().
 * Ownership: borrows the inputs; the caller owns *@set and frees it with
 *            futures_as_completed_destroy().
 * Threads:   safe, racing with the inputs settling
 *            (tests: check_completion/test_completion_created_while_inputs_settle_returns_each_index_once,
 *            check_completion/test_completion_settles_from_many_threads_return_each_index_once).
 * In a task: allowed
 *            (tests: check_completion/test_completion_task_iterates_its_queued_subtasks_on_one_worker).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_as_completed_create(future_t *const futures[], size_t n,
                            futures_as_completed_t **set);

/**
 * futures_as_completed_next() - Wait for the next input to settle.
 *
 * Hands back the index of the input that settled first among those not yet
 * handed back, at once if one has settled, else as soon as one does.
 * Indices come in the order the inputs settled (as the settling threads
 * reported them), each once; after the last, ENOENT, at once. Read the
 * outcome with future_get() on the caller's own handle, which then does
 * not wait. Outside a pool's tasks it only sleeps, never running an input
 * in the caller (a long task run here would hold up the answer when a
 * short one settles first). Called from one of a pool's tasks, while
 * nothing has settled it runs its own pending sub-tasks, then the inputs
 * of that pool that have not started (so that a task of a 1-worker pool
 * can iterate over its queued sub-tasks), looking at each input once for
 * the life of the set.
 *
 * @set:   (borrowed) NULL -> EINVAL.
 * @index: (out) Receives the index into the creator's array; (size_t)-1
 *         on any error. NULL -> EINVAL.
 *
 * Return:    0; ENOENT once every index was handed back; EINVAL; ECHILD
 *            for a set of the parent's in a fork() child; EDEADLK if the
 *            caller is a task whose own unfinished future is an input
 *            (nothing is handed back, even when another input has
 *            settled).
 * Ownership: borrows @set.
 * Threads:   safe from any number of threads on one set, each index going
 *            to exactly one of them; not concurrently with
 *            futures_as_completed_destroy()
 *            (tests: check_completion/test_completion_many_consumers_take_each_index_once,
 *            check_completion/test_completion_last_index_wakes_every_other_taker_with_enoent,
 *            check_matrix[AS_COMPLETED x SECOND_*]).
 * In a task: allowed, also on a 1-thread pool
 *            (tests: check_completion/test_completion_task_iterates_its_queued_subtasks_on_one_worker,
 *            check_completion/test_completion_own_future_from_its_task_is_edeadlk,
 *            check_matrix[AS_COMPLETED x WORKER_HELPS, AS_COMPLETED x SELF]).
 * Since:     0.1
 */
FUTURES_API int futures_as_completed_next(futures_as_completed_t *set,
                                          size_t *index);

/**
 * futures_as_completed_next_until() - Wait for the next, until a deadline.
 *
 * Waits as futures_as_completed_next() does, but never runs an input in
 * the caller, and gives up at @deadline. Like future_wait_until(), a
 * thread running one of a pool's tasks runs its own pending sub-tasks
 * while it waits, each of which may overrun the deadline once.
 *
 * @set:      (borrowed) NULL -> EINVAL.
 * @deadline: (borrowed) CLOCK_MONOTONIC deadline; NULL or a malformed one
 *            (tv_nsec outside [0, 1e9)) -> EINVAL; a past deadline polls
 *            (an input settled already is still handed back); see
 *            "Deadlines" above.
 * @index:    (out) As futures_as_completed_next(); (size_t)-1 on any
 *            error.
 *
 * Return:    as futures_as_completed_next(); ETIMEDOUT if no input that
 *            was not handed back settled by @deadline (nothing is handed
 *            back).
 * Ownership: borrows @set.
 * Threads:   as futures_as_completed_next()
 *            (tests: check_completion/test_completion_next_until_expires_then_hands_back_the_late_settle,
 *            check_matrix[AS_COMPLETED_UNTIL x SECOND_*, AS_COMPLETED_UNTIL x DEADLINE]).
 * In a task: allowed
 *            (tests: check_completion/test_completion_next_until_in_a_task_runs_its_subtask,
 *            check_matrix[AS_COMPLETED_UNTIL x WORKER_HELPS, AS_COMPLETED_UNTIL x SELF]).
 * Since:     0.1
 */
FUTURES_API int
futures_as_completed_next_until(futures_as_completed_t *set,
                                const struct timespec *deadline,
                                size_t *index);

/**
 * futures_as_completed_destroy() - Free a set, settled or not.
 *
 * Drops the set's references to its inputs, pending ones included (those
 * futures are untouched and may still settle), and the indices not yet
 * handed back. An input settling in another thread at this moment may
 * still reach the set; it then frees what is left, without blocking this
 * call. Nothing leaks.
 *
 * @set: (consumed) NULL does nothing; so does a set of the parent's in a
 *       fork() child (its memory is left as it is).
 *
 * Ownership: consumes @set; the caller still releases its own handles.
 * Threads:   once, not concurrently with another call on @set; safe
 *            racing with its inputs settling
 *            (tests: check_completion/test_completion_destroy_racing_settles_leaks_nothing).
 * In a task: allowed
 *            (tests: check_completion/test_completion_task_iterates_its_queued_subtasks_on_one_worker).
 * Since:     0.1
 */
FUTURES_API void futures_as_completed_destroy(futures_as_completed_t *set);

/* ------------------------------------------------------------ notifier */

/**
 * futures_notifier_t - Completion delivered into an event loop.
 *
 * A notifier owns a file descriptor that a poll(), epoll or select() loop,
 * libuv (uv_poll_t) or GLib (g_unix_fd_add()) can watch. Watching a future
 * with a tag delivers the tag once the future settles (with any outcome:
 * success, failure or cancellation); the descriptor is readable exactly
 * while delivered tags wait to be taken. The loop takes them with
 * futures_notifier_take(), which never blocks, then reads each future with
 * future_get(), which no longer waits.
 */
typedef struct futures_notifier futures_notifier_t;

/**
 * futures_notifier_create() - Create a notifier.
 *
 * A notifier turns settled futures into readable events for a loop
 * (poll(), epoll, libuv, GLib): watch a future with
 * futures_notifier_watch(), wait for futures_notifier_fd() to become
 * readable among the loop's other descriptors, then collect the tags of
 * the futures that settled with futures_notifier_take().
 *
 * @notifier: (out) Receives the notifier. NULL -> EINVAL.
 *
 * Return:    0; EINVAL; ENOMEM; EMFILE or ENFILE (no descriptor left);
 *            EAGAIN as futures_promise_create().
 * Ownership: the caller owns the notifier; futures_notifier_destroy()
 *            frees it.
 * Threads:   safe
 *            (tests: check_notifier/test_notifier_settles_from_many_threads_deliver_every_tag).
 * In a task: allowed
 *            (tests: check_notifier/test_notifier_watch_and_take_in_a_task).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_notifier_create(futures_notifier_t **notifier);

/**
 * futures_notifier_fd() - The descriptor to watch for readability.
 *
 * An eventfd (a pipe's read end where eventfd is missing), non-blocking and
 * close-on-exec, owned by the notifier: do not read, write or close it.
 *
 * @notifier: (borrowed) NULL -> -1.
 *
 * Return:    the descriptor; -1 for NULL.
 * Ownership: the notifier keeps the descriptor; it is closed by
 *            futures_notifier_destroy().
 * Threads:   safe
 *            (tests: check_notifier/test_notifier_settles_from_many_threads_deliver_every_tag).
 * In a task: allowed
 *            (tests: check_notifier/test_notifier_watch_and_take_in_a_task).
 * Since:     0.1
 */
FUTURES_API int futures_notifier_fd(const futures_notifier_t *notifier);

/**
 * futures_notifier_watch() - Deliver @tag once @future settles.
 *
 * The tag is delivered in the thread that settles @future (a worker, a
 * resolving thread), or at once in the caller's if it has settled
 * already. Watching one future twice, or with two notifiers, delivers
 * twice.
 *
 * @notifier: (borrowed) NULL -> EINVAL.
 * @future:   (borrowed) Any future. NULL -> EINVAL.
 * @tag:      Handed back by futures_notifier_take(); may be NULL.
 *
 * Return:    0; EINVAL; ENOMEM (nothing is watched); ECHILD for an
 *            unfinished future of the parent's, or a notifier of the
 *            parent's, in a fork() child; EAGAIN if @future already has
 *            about 8 million references.
 * Ownership: takes a reference of its own to @future, dropped once the tag
 *            is delivered (or at destroy): the caller may release it at
 *            once.
 * Threads:   safe, racing with @future settling and with takes; not
 *            concurrently with futures_notifier_destroy()
 *            (tests: check_notifier/test_notifier_settles_from_many_threads_deliver_every_tag,
 *            check_notifier/test_notifier_no_wakeup_lost_between_drain_and_settle).
 * In a task: allowed
 *            (tests: check_notifier/test_notifier_watch_and_take_in_a_task).
 * Since:     0.1
 */
FUTURES_API FUTURES_WARN_UNUSED int
futures_notifier_watch(futures_notifier_t *notifier, future_t *future,
                       void *tag);

/**
 * futures_notifier_take() - Take delivered tags, oldest first.
 *
 * Never blocks. Takes up to @max tags in the order their futures settled
 * (as the notifier saw the deliveries); when it takes the last one, the
 * descriptor stops being readable, in the same step, so a settle that
 * comes after makes it readable again and is never missed.
 *
 * @notifier: (borrowed) NULL -> 0.
 * @tags:     (out) @max slots. NULL -> 0.
 * @max:      Capacity of @tags; 0 takes nothing.
 *
 * Return:    the number of tags taken, 0 when none is waiting.
 * Ownership: none.
 * Threads:   safe, from any number of threads: each tag is taken once
 *            (tests: check_notifier/test_notifier_settles_from_many_threads_deliver_every_tag,
 *            check_notifier/test_notifier_no_wakeup_lost_between_drain_and_settle).
 * In a task: allowed
 *            (tests: check_notifier/test_notifier_watch_and_take_in_a_task).
 * Since:     0.1
 */
FUTURES_API size_t futures_notifier_take(futures_notifier_t *notifier,
                                         void *tags[], size_t max);

/**
 * futures_notifier_destroy() - Stop watching and free the notifier.
 *
 * Drops the references of every watch not yet delivered (those futures are
 * untouched and may still settle) and the tags not yet taken, and closes
 * the descriptor once no settling thread can reach the notifier any more
 * (a delivery running in another thread at this moment finishes first,
 * without blocking this call). Nothing leaks.
 *
 * @notifier: (consumed) NULL does nothing.
 *
 * Ownership: consumes @notifier.
 * Threads:   once, not concurrently with another call on @notifier;
 *            safe racing with watched futures settling
 *            (tests: check_notifier/test_notifier_destroy_racing_settles_leaks_nothing).
 * In a task: allowed
 *            (tests: check_notifier/test_notifier_watch_and_take_in_a_task).
 * Since:     0.1
 */
FUTURES_API void futures_notifier_destroy(futures_notifier_t *notifier);

/* ------------------------------------------------------------ version */

/**
 * futures_version() - The library's version as FUTURES_VERSION_HEX.
 *
 * Compare with the macro to detect a header/library mismatch.
 *
 * Return:    the version of the library actually linked.
 * Ownership: none.
 * Threads:   safe
 *            (tests: check_version/test_version_functions_agree_from_many_threads_and_tasks).
 * In a task: allowed
 *            (tests: check_version/test_version_functions_agree_from_many_threads_and_tasks).
 * Since:     0.1
 */
FUTURES_API unsigned futures_version(void);

/**
 * futures_version_string() - The version as "MAJOR.MINOR.PATCH".
 *
 * The version of the library actually linked, as text for messages and
 * logs; it equals FUTURES_VERSION_STRING when the header and the library
 * match.
 *
 * Return:    a static string; never NULL.
 * Ownership: the string belongs to the library; do not free it.
 * Threads:   safe
 *            (tests: check_version/test_version_functions_agree_from_many_threads_and_tasks).
 * In a task: allowed
 *            (tests: check_version/test_version_functions_agree_from_many_threads_and_tasks).
 * Since:     0.1
 */
FUTURES_API const char *futures_version_string(void);

/* ------------------------------------------------------------ error */

/**
 * futures_strerror() - The library's meaning of an error code.
 *
 * Returns a short description of @code, without a final period, for a
 * message such as "submit: pool is shutting down". A code does not carry
 * who produced it, so the description is the library's meaning wherever
 * the library gives the code one: a task that fails with ENOENT of its own
 * (a missing file) reads "no future succeeded, or none is left", and one
 * that fails with EBUSY, EAGAIN or ETIMEDOUT reads with the library's
 * wording too. Where <errno.h> makes two names one code (on Linux
 * EWOULDBLOCK is EAGAIN, EOPNOTSUPP is ENOTSUP, EDEADLOCK is EDEADLK), both
 * read as the library's. A program that reports a task's own codes should
 * print them with strerror() instead.
 *
 * For each code that the library gives a meaning of its own (see "Errors"
 * above) it returns that meaning: "no thread could be started, or the
 * queue is full" (EAGAIN), "pool is shutting down" (ESHUTDOWN), "deadline
 * passed" (ETIMEDOUT), "cancelled" (ECANCELED), "not in this process"
 * (ECHILD), "the task's thread exited" (EOWNERDEAD), "would wait for
 * itself" (EDEADLK), "no future succeeded, or none is left" (ENOENT),
 * "task is running" (EINPROGRESS), "already settled" (EALREADY), "not
 * finished yet" (EBUSY) and "not recorded by this pool" (ENOTSUP). For
 * every other code, EINVAL and ENOMEM included, it returns the C library's
 * description in the C locale, untranslated whatever LC_MESSAGES says
 * (strerror() follows it): strerrordesc_np()'s text where the C library
 * has that function (glibc 2.32 and later); elsewhere (older glibc, musl)
 * glibc's wording from a table of the library's own, which has the codes
 * of POSIX's <errno.h>. It returns "Unknown error" for a code it has no
 * text for, and for a negative one.
 *
 * @code: Any int: 0, a code a function of this library returned, or a
 *        task's own code.
 *
 * Return:    a static string; never NULL.
 * Ownership: the string belongs to the library and never changes; do not
 *            free it.
 * Threads:   safe; it keeps no state and takes no lock (unlike strerror())
 *            (tests: check_strerror/test_strerror_agrees_from_many_threads).
 * In a task: allowed
 *            (tests: check_strerror/test_strerror_in_a_task_reads_the_library_wording).
 * Since:     0.1
 */
FUTURES_API const char *futures_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* FUTURES_H */
