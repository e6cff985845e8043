//! The behaviours that the tests of the peers' blocking pools pin, tokio's `spawn_blocking`
//! (tests/task_blocking.rs, rt_common.rs, rt_threaded.rs, rt_handle_block_on.rs,
//! rt_spawn_blocking.rs, rt_unstable_metrics.rs, src/runtime/tests/loom_blocking.rs) and
//! smol's `blocking::unblock` (tests/unblock.rs), re-expressed for offloaded jobs: one test
//! per behaviour, each headed by the peer test it stands for.
//!
//! Pinned in other files of this directory:
//!
//! - The paused clock waits for jobs in flight, and a finished, unawaited or panicking job
//!   wakes it (task_blocking.rs `blocking_when_paused`, `*_wakes_paused_runtime`;
//!   loom_blocking.rs `spawn_blocking_when_paused`): `optional_features/tests/paused_time.rs`.
//! - Spawning onto the caller's runtime, its timers, `tokio::fs` and `Handle::block_on` in a
//!   body (rt_common.rs `spawn_from_blocking`; rt_handle_block_on.rs `nesting`, which pins
//!   that `Handle::block_on` panics on a runtime thread and so belongs in a blocking
//!   closure): `tokio_context.rs`.
//! - A panic reaches the caller with its original payload, and the thread survives
//!   (unblock.rs `panic`; task_blocking.rs `panicking_blocking_task_wakes_paused_runtime`);
//!   a job whose caller left before it started never runs: `semantics.rs`.
//! - Shutdown lets started jobs finish, refuses later ones and times out on a job that
//!   does not end (rt_common.rs `shutdown_timeout`, `shutdown_timeout_0`; loom_blocking.rs
//!   `spawn_blocking_then_shutdown`, `spawn_blocking_racing_shutdown_resolves`):
//!   `shutdown.rs`, `shutdown_pool.rs`, and `stress.rs` for submissions racing a shutdown.
//! - Thread, idle-thread and queue gauges, and no idle thread counted after shutdown
//!   (rt_unstable_metrics.rs `num_blocking_threads`, `num_idle_blocking_threads`,
//!   `num_idle_blocking_threads_is_zero_after_shutdown`, `blocking_queue_depth`):
//!   `metrics.rs`, `shutdown_pool.rs`.
//! - Zero threads is a configuration error (rt_threaded.rs
//!   `max_blocking_threads_set_to_zero`): `config.rs`.
//!
//! Peer behaviours that do not apply to offload:
//!
//! - `JoinHandle::abort`, `JoinSet`, `JoinError::is_cancelled`, a handle that outlives its
//!   runtime (rt_handle_block_on.rs `spawn_after_runtime_dropped`): offload returns a
//!   future, not a handle. Dropping the future is the cancel (`semantics.rs`).
//! - `block_in_place` itself (task_blocking.rs `block_in_block`,
//!   `no_block_in_current_thread_*`, `yes_block_in_threaded_block_on`,
//!   `coop_disabled_in_block_in_place*`; rt_threaded.rs `coop_and_block_in_place`,
//!   `yield_after_block_in_place`, `*block_in_place*`; rt_handle_block_on.rs
//!   `yield_in_block_in_place`): it hands a runtime worker's duties to another thread, and
//!   offload never runs on a runtime worker. What carries over, that code which calls it
//!   still works once offloaded, and that a body is not held to a coop budget, is tested
//!   below.
//! - tokio's own thread counts and builder settings (rt_threaded.rs
//!   `max_blocking_threads`, `global_queue_interval_set_to_one`, worker counts): offload's
//!   pools are configured per pool by name, and tokio's runtime has no say in them.
//! - `spawn_mandatory_blocking` and mandatory blocking writes (loom_blocking.rs): a tokio
//!   internal that keeps `tokio::fs` and stdout writes alive through a runtime shutdown.
//! - A blocking task that fails once its runtime has shut down (rt_handle_block_on.rs
//!   `spawn_blocking_after_shutdown_fails`): offload's pools belong to the process, not to
//!   a runtime, so such a job runs; the test below pins that difference.
//! - Thread start and stop hooks (rt_threaded.rs `start_stop_callbacks_called`): pools have
//!   no hooks in this version.
//! - smol's `Unblock` adapters for iterators and I/O (unblock.rs `chan`, `read`, `write`,
//!   `seek`, `panic_with_mut`): offload has no adapter type. What they rest on, blocking
//!   state that moves to the pool and back, in order and whole, is tested below.
//! - That a blocking sleep took at least its duration (unblock.rs `sleep`): a statement
//!   about the clock, not the pool; its other half, that the caller is not blocked while
//!   the job runs, is tested below.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::time::Duration;

use async_offload::{PoolConfig, Pools};
use common::{HANG_GUARD, poll_once, thread_name};
use tokio::runtime::Handle;

/// A keep-alive no test outlives: an elastic thread that goes idle stays.
const STAYS: Duration = Duration::from_secs(7200);

/// Installs the pools of this file, once per process. Each test has its own pools, so
/// that tests running in parallel do not share threads.
fn install_pools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Pools::builder()
            .pool("peer-wall", PoolConfig::fixed(4))
            .pool("peer-churn", PoolConfig::elastic(4).keep_alive(STAYS))
            .pool("peer-cap", PoolConfig::elastic(1).keep_alive(STAYS))
            .pool("peer-many", PoolConfig::fixed(2).queue_capacity(8))
            .pool("peer-shared", PoolConfig::fixed(2))
            .pool("peer-reuse", PoolConfig::elastic(8).keep_alive(STAYS))
            .pool("peer-dropped", PoolConfig::fixed(1))
            .pool("peer-outer", PoolConfig::fixed(1))
            .pool("peer-inner", PoolConfig::fixed(1))
            .install()
            .expect("the test pools install");
    });
}

/// Both kinds of tokio runtime, each under its name.
fn both_runtimes() -> [(&'static str, tokio::runtime::Runtime); 2] {
    [
        ("current-thread", common::current_thread()),
        ("multi-thread", common::multi_thread()),
    ]
}

// task_blocking.rs `basic_blocking`: a blocking job awaited inside a spawned task returns
// its value, again and again.
#[test]
fn a_job_awaited_inside_a_spawned_task_returns_its_value_every_time() {
    for (flavor, runtime) in both_runtimes() {
        runtime.block_on(async {
            for i in 0..100_u32 {
                let task = tokio::spawn(async move {
                    async_offload::run("default", move || {
                        std::thread::sleep(Duration::from_millis(1));
                        (i, thread_name())
                    })
                    .await
                });
                let (got, thread) = task.await.expect("the task finishes");
                assert_eq!(got, i, "on a {flavor} runtime");
                assert!(thread.starts_with("offload-default-"), "ran on {thread}");
            }
        });
    }
}

// unblock.rs `sleep`: the first poll of a job that is still running returns at once,
// pending, and the result comes later, on an executor that is not tokio.
#[test]
fn the_caller_is_not_held_while_the_job_runs_on_any_executor() {
    let (started, wait_started) = mpsc::channel();
    let (release, wait_release) = mpsc::channel::<()>();
    let got = futures::executor::block_on(async {
        let mut job = pin!(async_offload::run("default", move || {
            started.send(()).unwrap();
            wait_release.recv_timeout(HANG_GUARD).map(|()| 7)
        }));
        assert!(
            poll_once(job.as_mut()).await.is_pending(),
            "the first poll waited for the job"
        );
        wait_started
            .recv_timeout(HANG_GUARD)
            .expect("the job started");
        // Still running, and still only waited for, not blocked on.
        assert!(poll_once(job.as_mut()).await.is_pending());
        release.send(()).unwrap();
        job.await
    });
    assert_eq!(got, Ok(7), "the job was released, not timed out");
}

// task_blocking.rs `block_in_blocking`: sync code that calls `block_in_place` runs inside a
// blocking job, even when called from a current-thread runtime, whose own thread refuses it.
#[test]
fn a_body_may_call_block_in_place() {
    for (flavor, runtime) in both_runtimes() {
        let got = runtime.block_on(async_offload::run("default", || {
            tokio::task::block_in_place(|| {
                std::thread::sleep(Duration::from_millis(1));
                thread_name()
            })
        }));
        assert!(
            got.starts_with("offload-default-"),
            "from a {flavor} runtime, the closure ran on {got}"
        );
    }
}

// task_blocking.rs `can_enter_current_thread_rt_from_within_block_in_place`,
// `useful_panic_message_when_dropping_rt_in_rt`, `can_shutdown_with_zero_timeout_in_runtime`,
// `can_shutdown_now_in_runtime`: what async code may not do with a runtime of its own
// (block on it, drop it, shut it down), a blocking job may, and the caller's runtime is
// still the body's afterwards.
#[test]
fn a_body_may_build_block_on_and_drop_a_runtime_of_its_own() {
    for (flavor, runtime) in both_runtimes() {
        runtime.block_on(async {
            let spawned = async_offload::run("default", || {
                let own = common::current_thread();
                let inner = own.block_on(async { tokio::spawn(async { 6 * 7 }).await });
                assert_eq!(inner.expect("the inner task ran"), 42);
                drop(own);
                common::current_thread().shutdown_timeout(Duration::ZERO);
                common::current_thread().shutdown_background();
                // Spawned onto the caller's runtime: the one entered before the others.
                tokio::spawn(async { thread_name() })
            })
            .await;
            let thread = spawned
                .await
                .unwrap_or_else(|error| panic!("from a {flavor} runtime: {error}"));
            assert!(!thread.starts_with("offload-"), "the task ran on {thread}");
        });
    }
}

// rt_common.rs `sleep_from_blocking`: a tokio timer made in the body and awaited through
// another executor works, as the caller's runtime drives it.
#[test]
fn a_body_may_await_a_tokio_timer_through_another_executor() {
    for (flavor, runtime) in both_runtimes() {
        let slept = runtime.block_on(async_offload::run("default", || {
            futures::executor::block_on(async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                "slept"
            })
        }));
        assert_eq!(slept, "slept", "from a {flavor} runtime");
    }
}

// rt_common.rs `socket_from_blocking`: a tokio socket made in the body and driven through
// another executor connects, while the caller's runtime accepts.
#[test]
fn a_body_may_connect_a_tokio_socket_through_another_executor() {
    for (flavor, runtime) in both_runtimes() {
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a local listener");
            let address = listener.local_addr().unwrap();
            let connect = async_offload::run("default", move || {
                futures::executor::block_on(tokio::net::TcpStream::connect(address))
                    .map(|stream| stream.local_addr().unwrap())
            });
            let (accepted, connected) = tokio::join!(listener.accept(), connect);
            let (_, peer) = accepted.expect("the body's connection arrives");
            let connected = connected.expect("the body connects");
            assert_eq!(peer, connected, "from a {flavor} runtime");
        });
    }
}

// task_blocking.rs `coop_disabled_in_block_in_place`: a body is not held to tokio's coop
// budget, so it can drain far more than one budget of a tokio channel in one go.
#[test]
fn a_body_may_drain_a_tokio_channel_past_the_coop_budget() {
    for (flavor, runtime) in both_runtimes() {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..1_000 {
            sender.send(i).unwrap();
        }
        drop(sender);
        let drained = runtime.block_on(async {
            let drain = async_offload::run("default", move || {
                futures::executor::block_on(async {
                    let mut got = Vec::new();
                    while let Some(i) = receiver.recv().await {
                        got.push(i);
                    }
                    got
                })
            });
            tokio::time::timeout(HANG_GUARD, drain).await
        });
        let drained = drained.unwrap_or_else(|_| panic!("from a {flavor} runtime: it hung"));
        assert_eq!(drained, (0..1_000).collect::<Vec<_>>(), "{flavor}");
    }
}

// rt_common.rs `spawn_blocking_from_blocking`: a body may offload in turn, to another pool,
// whether it hands the call back to its caller or waits for it itself.
#[test]
fn a_body_may_offload_to_another_pool() {
    install_pools();
    common::current_thread().block_on(async {
        // Handed back unawaited, for the caller to await.
        let inner = async_offload::run("peer-outer", || {
            async_offload::run("peer-inner", || (thread_name(), 1))
        })
        .await;
        assert_eq!(inner.await, ("offload-peer-inner-0".to_owned(), 1));

        // Waited for in the body, through the caller's runtime, or through another executor.
        let nested = async_offload::run("peer-outer", || {
            let through_tokio = Handle::current()
                .block_on(async_offload::run("peer-inner", || {
                    (thread_name(), Handle::try_current().is_ok())
                }));
            let elsewhere = futures::executor::block_on(async_offload::run("peer-inner", || 3));
            (thread_name(), through_tokio, elsewhere)
        })
        .await;
        assert_eq!(
            nested,
            (
                "offload-peer-outer-0".to_owned(),
                ("offload-peer-inner-0".to_owned(), true),
                3
            )
        );
    });
}

// rt_handle_block_on.rs `basic_spawn_blocking`: a thread outside the runtime that waits
// for a job with the runtime's `Handle::block_on` gets its result, and the body runs
// inside that runtime.
#[test]
fn a_job_waited_for_with_handle_block_on_from_a_plain_thread_runs_inside_the_runtime() {
    for (flavor, runtime) in both_runtimes() {
        let _entered = runtime.enter();
        let (answer, inside) = Handle::current().block_on(async_offload::run("default", || {
            std::thread::sleep(Duration::from_millis(1));
            (42, Handle::try_current().is_ok())
        }));
        assert_eq!(answer, 42, "{flavor}");
        assert!(inside, "the body saw the {flavor} runtime");
    }
}

// rt_handle_block_on.rs `spawn_blocking_after_shutdown_fails`, where offload differs: the
// pools belong to the process, not to a runtime, so a job submitted through the handle of
// a runtime that has shut down still runs.
#[test]
fn a_job_submitted_through_a_shut_down_runtimes_handle_still_runs() {
    for (flavor, runtime) in both_runtimes() {
        let handle = runtime.handle().clone();
        runtime.shutdown_timeout(HANG_GUARD);
        let got = handle.block_on(async_offload::try_run("default", || 42));
        assert_eq!(got.ok(), Some(42), "after the {flavor} runtime shut down");
    }
}

// rt_handle_block_on.rs `spawn_blocking_started_before_shutdown_continues`: a job started
// from a runtime that then shuts down runs to its end, and its result can still be had,
// here on another executor.
#[test]
fn a_job_started_before_its_runtime_shuts_down_delivers_its_result_afterwards() {
    for (flavor, runtime) in both_runtimes() {
        let (started, wait_started) = mpsc::channel();
        let (release, wait_release) = mpsc::channel::<()>();
        let mut job = Box::pin(async_offload::run("default", move || {
            started.send(()).unwrap();
            wait_release.recv_timeout(HANG_GUARD).map(|()| 42)
        }));
        runtime.block_on(async {
            assert!(poll_once(job.as_mut()).await.is_pending());
        });
        wait_started
            .recv_timeout(HANG_GUARD)
            .expect("the job started");
        runtime.shutdown_timeout(HANG_GUARD);
        release
            .send(())
            .expect("the job still waits to be released");
        let got = futures::executor::block_on(job);
        assert_eq!(got, Ok(42), "after the {flavor} runtime shut down");
    }
}

/// Counts how many of its clones are alive, and on which thread the last went.
#[derive(Clone)]
struct Capture(Arc<Mutex<String>>);

impl Drop for Capture {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = thread_name();
    }
}

// loom_blocking.rs `blocking_shutdown` and rt_common.rs `shutdown_timeout_0`: dropping a
// runtime whose tasks await blocking jobs does not wait for a running job, and every value
// the jobs captured is dropped once they are done; the job queued behind never runs.
#[test]
fn dropping_a_runtime_whose_tasks_await_jobs_waits_for_none_and_drops_every_capture() {
    install_pools();
    let capture = Capture(Arc::new(Mutex::new(String::new())));
    let queued_ran = Arc::new(AtomicBool::new(false));
    let (release, wait_release) = mpsc::channel::<()>();
    let (report, reports) = mpsc::channel();
    let runtime = common::current_thread();
    runtime.block_on(async {
        let (started, wait_started) = tokio::sync::oneshot::channel();
        let running = capture.clone();
        tokio::spawn(async_offload::run("peer-dropped", move || {
            let _running = running;
            started.send(()).unwrap();
            let released = wait_release.recv_timeout(HANG_GUARD).is_ok();
            report.send((released, async_offload::cancelled())).unwrap();
        }));
        wait_started.await.expect("the first job started");
        // The pool's only thread is taken: this one waits in the queue.
        let queued = capture.clone();
        let ran = Arc::clone(&queued_ran);
        tokio::spawn(async_offload::run("peer-dropped", move || {
            let _queued = queued;
            ran.store(true, Ordering::SeqCst);
        }));
        tokio::task::yield_now().await;
    });
    drop(runtime);
    release
        .send(())
        .expect("the running job still waited: dropping the runtime did not wait for it");
    let (released, cancelled) = reports.recv_timeout(HANG_GUARD).expect("the job ended");
    assert!(released, "the job ran to its end");
    assert!(cancelled, "the job saw that its caller had gone");
    assert!(
        common::eventually(|| Arc::strong_count(&capture.0) == 1),
        "a job's captures were never dropped"
    );
    // Jobs run in order: once this one has run, the queued one would have run before it.
    futures::executor::block_on(async_offload::run("peer-dropped", || ()));
    assert!(
        !queued_ran.load(Ordering::SeqCst),
        "a job whose runtime was dropped before it started ran"
    );
    let last = capture.0.lock().unwrap().clone();
    assert_eq!(
        last, "offload-peer-dropped-0",
        "the last capture went on {last}"
    );
}

// rt_threaded.rs `multi_threadpool`: several runtimes use the blocking pool at once, and
// each caller gets its own results.
#[test]
fn jobs_from_several_runtimes_share_a_pool_at_once() {
    install_pools();
    // Two jobs, one from each runtime, that can only finish together on the pool's two
    // threads.
    let (a_started, a_seen) = mpsc::channel();
    let (b_started, b_seen) = mpsc::channel();
    let meet = |started: mpsc::Sender<()>, seen: mpsc::Receiver<()>| {
        move || {
            started.send(()).unwrap();
            seen.recv_timeout(HANG_GUARD).is_ok()
        }
    };
    let meetings = [meet(a_started, b_seen), meet(b_started, a_seen)];
    std::thread::scope(|scope| {
        let callers: Vec<_> = both_runtimes()
            .into_iter()
            .zip(meetings)
            .enumerate()
            .map(|(caller, ((flavor, runtime), meeting))| {
                scope.spawn(move || {
                    runtime.block_on(async {
                        let met = async_offload::run("peer-shared", meeting).await;
                        assert!(met, "the {flavor} runtime's job met the other one");
                        let jobs = (0..200_usize)
                            .map(|i| async_offload::run("peer-shared", move || (caller, i)));
                        let results = futures::future::join_all(jobs).await;
                        let expected: Vec<_> = (0..200).map(|i| (caller, i)).collect();
                        assert_eq!(results, expected, "the {flavor} runtime's results");
                    });
                })
            })
            .collect();
        for caller in callers {
            caller.join().expect("each runtime got its own results");
        }
    });
}

// rt_threaded.rs `blocking`: while jobs hold every thread of their pool, the runtime's
// other tasks keep running, here on a current-thread runtime's one thread too.
#[test]
fn jobs_that_hold_every_pool_thread_leave_the_runtimes_tasks_running() {
    install_pools();
    for (flavor, runtime) in both_runtimes() {
        for _round in 0..3 {
            runtime.block_on(async {
                let (started, mut wait_started) = tokio::sync::mpsc::unbounded_channel();
                let mut releases = Vec::new();
                let mut jobs = Vec::new();
                for _ in 0..4 {
                    let (release, wait_release) = mpsc::channel::<()>();
                    releases.push(release);
                    let started = started.clone();
                    jobs.push(tokio::spawn(async_offload::run("peer-wall", move || {
                        started.send(()).unwrap();
                        wait_release.recv_timeout(HANG_GUARD).is_ok()
                    })));
                }
                for _ in 0..4 {
                    wait_started.recv().await.expect("every job started");
                }
                let done = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..1_000)
                    .map(|_| {
                        let done = Arc::clone(&done);
                        tokio::spawn(async move {
                            done.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                assert_eq!(done.load(Ordering::SeqCst), 1_000, "{flavor}");
                assert!(
                    jobs.iter().all(|job| !job.is_finished()),
                    "the jobs still held the pool while the tasks ran"
                );
                for release in releases {
                    release.send(()).unwrap();
                }
                for job in jobs {
                    assert!(job.await.unwrap(), "each job was released, not timed out");
                }
            });
        }
    }
}

// loom_blocking.rs `spawn_blocking_at_thread_cap_runs`: with the pool at its thread cap, a
// job submitted while the only thread goes from its last job to idle still runs.
#[test]
fn a_job_submitted_as_the_only_thread_goes_idle_still_runs() {
    install_pools();
    common::current_thread().block_on(async {
        for i in 0..2_000_u32 {
            let job = async_offload::run("peer-cap", move || i);
            let got = tokio::time::timeout(HANG_GUARD, job).await;
            assert_eq!(got, Ok(i), "job {i} was stranded");
        }
    });
    let stats = common::stats_for("peer-cap").unwrap();
    assert_eq!((stats.threads, stats.completed), (1, 2_000));
}

// rt_spawn_blocking.rs `issue_8056_regression_test`: quick jobs and jobs parked for long
// on a channel, churned while threads go between idle and busy, never strand a job, on a
// pool whose threads the parked jobs fill.
#[test]
fn jobs_churned_among_long_parked_ones_are_never_stranded() {
    install_pools();
    type Writer = (
        Vec<tokio::sync::mpsc::Sender<()>>,
        Vec<tokio::task::JoinHandle<usize>>,
    );

    /// Two jobs that each wait on their channel until it closes, counting what came.
    fn writer() -> Writer {
        (0..2)
            .map(|_| {
                let (sender, mut receiver) = tokio::sync::mpsc::channel::<()>(1);
                let job = tokio::spawn(async_offload::run("peer-churn", move || {
                    let mut got = 0;
                    while receiver.blocking_recv().is_some() {
                        got += 1;
                    }
                    got
                }));
                (sender, job)
            })
            .unzip()
    }

    /// Sends one item to each job of `writer`, closes its channels, and waits for both.
    async fn drive((senders, jobs): Writer) {
        for sender in &senders {
            sender.send(()).await.unwrap();
        }
        drop(senders);
        for job in jobs {
            assert_eq!(job.await.unwrap(), 1, "each job got its one item");
        }
    }

    async fn quick() {
        async_offload::run("peer-churn", || ()).await;
    }

    for round in 0..200 {
        let runtime = common::current_thread();
        let churn = async {
            quick().await;
            quick().await;
            let first = writer();
            for _ in 0..2 {
                quick().await;
                quick().await;
                let (senders, jobs) = writer();
                drive((senders, jobs)).await;
            }
            quick().await;
            quick().await;
            let second = writer();
            drive(first).await;
            drive(second).await;
        };
        let finished = runtime.block_on(async { tokio::time::timeout(HANG_GUARD, churn).await });
        assert!(finished.is_ok(), "a job was stranded in round {round}");
    }
    let stats = common::stats_for("peer-churn").unwrap();
    assert!(stats.threads <= 4, "{stats:?}");
}

// task_blocking.rs `basic_blocking` and loom_blocking.rs `spawn_blocking_at_thread_cap_runs`,
// at scale: far more jobs at once than the pool has threads and queue room, from several
// tasks, each caller gets its own result.
#[test]
fn far_more_jobs_than_threads_and_queue_room_all_complete() {
    install_pools();
    common::multi_thread().block_on(async {
        let tasks: Vec<_> = (0..4_u64)
            .map(|task| {
                tokio::spawn(async move {
                    let jobs = (0..1_000_u64)
                        .map(|i| async_offload::run("peer-many", move || task * 10_000 + i));
                    let results = futures::future::join_all(jobs).await;
                    let expected: Vec<_> = (0..1_000).map(|i| task * 10_000 + i).collect();
                    assert_eq!(results, expected);
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("every job of the task completed");
        }
    });
    let stats = common::stats_for("peer-many").unwrap();
    assert_eq!((stats.completed, stats.threads), (4_000, 2));
}

// rt_unstable_metrics.rs `num_blocking_threads` and `num_idle_blocking_threads`: a pool
// starts its first thread for the first job, that thread goes idle when the job ends, and
// the idle thread takes the next job rather than a new one.
#[test]
fn an_idle_thread_takes_the_next_job_instead_of_a_new_thread() {
    install_pools();
    let before = common::stats_for("peer-reuse").unwrap();
    assert_eq!(before.threads, 0, "no thread before the first job");
    let mut threads = Vec::new();
    for _ in 0..20 {
        threads.push(futures::executor::block_on(async_offload::run(
            "peer-reuse",
            thread_name,
        )));
        assert!(
            common::eventually(|| common::stats_for("peer-reuse").unwrap().idle_threads == 1),
            "the thread went idle"
        );
    }
    assert!(
        threads
            .iter()
            .all(|thread| thread == "offload-peer-reuse-0"),
        "{threads:?}"
    );
    assert_eq!(common::stats_for("peer-reuse").unwrap().threads, 1);
}

/// A large value that cannot be cloned: only moving it gets it there and back.
struct Buffer(Vec<u8>);

// unblock.rs `read` and `write`: a large value moves to a blocking job and back whole, and
// what the job made from it comes back with it.
#[test]
fn a_large_value_that_cannot_be_cloned_moves_there_and_back_whole() {
    const LEN: usize = 20_000_000;
    let buffer = Buffer((0..LEN).map(|i| i as u8).collect());
    let (buffer, copy) = futures::executor::block_on(async_offload::run("default", move || {
        let mut copy = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Cursor::new(&buffer.0), &mut copy).unwrap();
        (buffer, Buffer(copy))
    }));
    assert_eq!(buffer.0.len(), LEN);
    assert!(
        buffer
            .0
            .iter()
            .enumerate()
            .all(|(i, &byte)| byte == i as u8)
    );
    assert!(copy.0 == buffer.0, "the job read the whole buffer");
}

// unblock.rs `chan`: blocking state (here a channel's receiving end, fed by a thread) moved
// into one job after another, and back each time, yields every item in order, then the end.
#[test]
fn blocking_state_moved_through_jobs_yields_every_item_in_order() {
    const ITEMS: u32 = 10_000;
    let (sender, receiver) = mpsc::sync_channel(100);
    let feeder = std::thread::spawn(move || {
        for i in 0..ITEMS {
            sender.send(i).unwrap();
        }
    });
    common::current_thread().block_on(async {
        let mut receiver = Some(receiver);
        for i in 0..ITEMS {
            let state = receiver.take().unwrap();
            let (state, item) = async_offload::run("default", move || {
                let item = state.recv_timeout(HANG_GUARD).ok();
                (state, item)
            })
            .await;
            assert_eq!(item, Some(i));
            receiver = Some(state);
        }
        let state = receiver.take().unwrap();
        let end = async_offload::run("default", move || state.recv().ok()).await;
        assert_eq!(end, None, "the channel ended after the last item");
    });
    feeder.join().unwrap();
}
