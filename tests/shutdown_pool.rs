//! `async_offload::shutdown_pool`: one pool stops, finishes what it had queued, joins its threads
//! and refuses what comes later, while the other pools go on. Its own test binary, since it
//! shuts pools down.

mod common;

use std::error::Error;
use std::sync::{Once, mpsc};
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, Pools, ShutdownError};
use common::HANG_GUARD;

/// The task of a job that [`hold`] started: `Ok(true)` once it was let go.
type Held = tokio::task::JoinHandle<Result<bool, OffloadError>>;

/// Installs the pools of this file, once; each test shuts down its own.
fn install_pools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Pools::builder()
            .pool("one", PoolConfig::fixed(1).queue_capacity(2))
            .pool("other", PoolConfig::fixed(2))
            .pool("slow", PoolConfig::fixed(1))
            .install()
            .expect("the test pools install");
    });
}

/// A job that holds `pool`'s only thread until the returned sender is used (or dropped),
/// spawned on `runtime`; returns once the job has started.
fn hold(runtime: &tokio::runtime::Runtime, pool: &'static str) -> (mpsc::Sender<()>, Held) {
    let (release, gate) = mpsc::channel::<()>();
    let (started, wait_started) = mpsc::channel();
    let job = runtime.spawn(async_offload::try_run(pool, move || {
        started.send(()).unwrap();
        gate.recv_timeout(HANG_GUARD).is_ok()
    }));
    wait_started
        .recv_timeout(HANG_GUARD)
        .expect("the holding job started");
    (release, job)
}

#[test]
fn shutting_down_one_pool_finishes_its_queue_refuses_the_rest_and_spares_the_others() {
    install_pools();
    let runtime = common::multi_thread();

    // "one": its thread held, two jobs queued, a third caller waiting for room.
    let (release, held) = hold(&runtime, "one");
    let queued: Vec<_> = (0..3)
        .map(|i| runtime.spawn(async_offload::try_run("one", move || i)))
        .collect();
    assert!(
        common::eventually(|| {
            let stats = common::stats_for("one").unwrap();
            stats.submitted == 4 && stats.queued == 2
        }),
        "the three callers reached the pool"
    );
    let before = common::stats_for("one").unwrap();
    assert_eq!((before.threads, before.running), (1, 1));

    let shutting_down = std::thread::spawn(|| async_offload::shutdown_pool("one", HANG_GUARD));
    // The caller waiting for room is refused as soon as the shutdown starts, while the
    // queued jobs wait for the held thread.
    assert!(
        common::eventually(|| common::stats_for("one").unwrap().refused == 1),
        "the caller waiting for room was refused"
    );
    assert!(!shutting_down.is_finished(), "the thread is still busy");
    release.send(()).unwrap();
    shutting_down
        .join()
        .unwrap()
        .expect("the pool's thread finished and was joined");

    let outcomes: Vec<Result<i32, OffloadError>> = runtime.block_on(async {
        let mut outcomes = Vec::new();
        for caller in queued {
            outcomes.push(caller.await.unwrap());
        }
        outcomes
    });
    let completed: Vec<i32> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok().copied())
        .collect();
    assert_eq!(completed.len(), 2, "the two queued jobs ran: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter_map(|outcome| outcome.as_ref().err())
            .all(|error| matches!(error, OffloadError::ShutDown { pool } if pool == "one")),
        "{outcomes:?}"
    );
    assert!(matches!(runtime.block_on(held), Ok(Ok(true))));

    let after = common::stats_for("one").expect("a shut-down pool keeps its name");
    assert_eq!((after.threads, after.running, after.queued), (0, 0, 0));
    assert_eq!(
        (after.submitted, after.completed, after.refused),
        (4, 3, 1),
        "the holder and the two queued jobs completed, the waiting one was refused"
    );
    #[cfg(target_os = "linux")]
    assert!(
        common::eventually(|| common::pool_threads_alive("one") == 0),
        "no thread of the pool outlives it: {:?}",
        common::os_thread_names()
    );

    // Later calls to it are refused, and counted; the other pools still run jobs.
    let later = runtime.block_on(async_offload::try_run("one", || ()));
    assert!(matches!(later, Err(OffloadError::ShutDown { pool }) if pool == "one"));
    assert_eq!(common::stats_for("one").unwrap().refused, 2);
    assert_eq!(
        runtime
            .block_on(async_offload::try_run("other", || 7))
            .unwrap(),
        7
    );
    assert_eq!(runtime.block_on(async_offload::run("default", || 8)), 8);

    // Again: nothing left to do.
    assert_eq!(async_offload::shutdown_pool("one", Duration::ZERO), Ok(()));
}

#[test]
fn an_unknown_pool_is_an_error_listing_the_pools() {
    install_pools();
    let error =
        async_offload::shutdown_pool("nope", HANG_GUARD).expect_err("no pool is named nope");
    let ShutdownError::UnknownPool {
        requested,
        available,
    } = &error
    else {
        panic!("expected UnknownPool, got {error:?}");
    };
    assert_eq!(requested, "nope");
    assert!(
        ["cpu", "default"]
            .iter()
            .all(|name| available.iter().any(|pool| pool == name)),
        "{available:?}"
    );
    let message = error.to_string();
    assert!(message.contains("\"nope\""), "{message}");
    assert!(message.contains("\"default\""), "{message}");
    assert!(error.source().is_none());
}

#[test]
fn a_busy_pool_times_out_and_can_be_waited_for_again() {
    install_pools();
    let runtime = common::multi_thread();
    let (release, held) = hold(&runtime, "slow");
    let error = async_offload::shutdown_pool("slow", Duration::from_millis(1))
        .expect_err("the held job is still running");
    assert_eq!(
        error,
        ShutdownError::TimedOut {
            waited: Duration::from_millis(1),
            busy: vec![("slow".to_owned(), 1)],
        }
    );
    assert_eq!(
        error.to_string(),
        "offload pools still running after 1ms: \"slow\" (1 threads)"
    );
    // It has stopped taking jobs all the same.
    let later = runtime.block_on(async_offload::try_run("slow", || ()));
    assert!(matches!(later, Err(OffloadError::ShutDown { .. })));

    release.send(()).unwrap();
    assert!(matches!(runtime.block_on(held), Ok(Ok(true))));
    assert_eq!(async_offload::shutdown_pool("slow", Duration::MAX), Ok(()));
    assert_eq!(common::stats_for("slow").unwrap().threads, 0);
}
