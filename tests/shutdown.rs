//! `async_offload::shutdown`: queued and running jobs finish, later ones are refused, nothing is
//! lost. Its own test binary, since shutdown is for the whole process.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, Pools, ShutdownError};
use common::HANG_GUARD;

const CALLERS: usize = 40;

#[test]
fn shutdown_finishes_queued_jobs_refuses_the_rest_and_loses_none() {
    Pools::builder()
        .pool("slow", PoolConfig::fixed(1).queue_capacity(4))
        .pool("stuck", PoolConfig::fixed(1))
        .install()
        .unwrap();
    let runtime = common::multi_thread();

    // A job that holds "stuck" until released, so that a first shutdown must time out.
    let (release_stuck, stuck_gate) = mpsc::channel::<()>();
    let (stuck_started, wait_stuck) = mpsc::channel();
    let stuck = runtime.spawn(async_offload::try_run("stuck", move || {
        stuck_started.send(()).unwrap();
        stuck_gate.recv_timeout(HANG_GUARD).is_ok()
    }));
    wait_stuck.recv_timeout(HANG_GUARD).unwrap();

    // On "slow", job 0 holds the only thread; 4 jobs fit in the queue; the other callers
    // wait for room.
    let runs = Arc::new(AtomicUsize::new(0));
    let (release_slow, slow_gate) = mpsc::channel::<()>();
    let slow_gate = Arc::new(std::sync::Mutex::new(Some(slow_gate)));
    let (slow_started, wait_slow) = mpsc::channel();
    let (refused, refusals) = mpsc::channel();
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let runs = Arc::clone(&runs);
            let slow_gate = Arc::clone(&slow_gate);
            let slow_started = slow_started.clone();
            let refused = refused.clone();
            runtime.spawn(async move {
                let outcome = async_offload::try_run("slow", move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    if let Some(gate) = slow_gate.lock().unwrap().take() {
                        slow_started.send(()).unwrap();
                        gate.recv_timeout(HANG_GUARD).unwrap();
                    }
                    i
                })
                .await;
                if outcome.is_err() {
                    refused.send(()).unwrap();
                }
                outcome
            })
        })
        .collect();
    wait_slow.recv_timeout(HANG_GUARD).unwrap();
    // Every caller has offered its job: 4 are queued and the rest wait in line.
    assert!(
        common::eventually(|| {
            let stats = common::stats_for("slow").unwrap();
            stats.submitted == CALLERS as u64 && stats.queued == 4
        }),
        "the callers never all reached the pool: {:?}",
        common::stats_for("slow")
    );

    let shutting_down = std::thread::spawn(|| async_offload::shutdown(HANG_GUARD));
    // Callers waiting for room are refused as soon as shutdown starts; only then is the
    // running job let go, so the queued ones still have to run during shutdown.
    refusals
        .recv_timeout(HANG_GUARD)
        .expect("a waiting caller was refused");
    release_slow.send(()).unwrap();

    let mut completed = 0;
    let mut shut_down = 0;
    runtime.block_on(async {
        for caller in callers {
            match tokio::time::timeout(HANG_GUARD, caller).await {
                Ok(Ok(Ok(_))) => completed += 1,
                Ok(Ok(Err(OffloadError::ShutDown { pool }))) => {
                    assert_eq!(pool, "slow");
                    shut_down += 1;
                }
                other => panic!("a caller neither completed nor was refused: {other:?}"),
            }
        }
    });
    assert_eq!(
        completed + shut_down,
        CALLERS,
        "every caller is accounted for"
    );
    assert_eq!(
        completed,
        runs.load(Ordering::SeqCst),
        "a job ran or was refused, once"
    );
    assert_eq!(
        completed, 5,
        "the running job and the 4 queued ones finished, no other"
    );
    assert_eq!(shut_down, CALLERS - 5, "every caller in line was refused");
    let stats = common::stats_for("slow").unwrap();
    assert_eq!(stats.refused, shut_down as u64, "each refusal is counted");
    assert_eq!(stats.completed, completed as u64);
    assert_eq!(stats.submitted, CALLERS as u64);

    // After shutdown has begun nothing new is taken, on any pool.
    let later = runtime.block_on(async_offload::try_run("default", || ()));
    assert!(matches!(later, Err(OffloadError::ShutDown { pool }) if pool == "default"));

    // "stuck" still runs its job: shutdown cannot finish, and a call with a deadline (it may
    // be called again) says which pool holds it up.
    let error =
        async_offload::shutdown(Duration::from_millis(1)).expect_err("\"stuck\" is still running");
    let ShutdownError::TimedOut { busy, .. } = error else {
        panic!("expected a time-out, got {error:?}");
    };
    assert!(busy.contains(&("stuck".to_owned(), 1)), "{busy:?}");

    release_stuck.send(()).unwrap();
    assert!(matches!(runtime.block_on(stuck), Ok(Ok(true))));
    shutting_down
        .join()
        .unwrap()
        .expect("every thread has finished and been joined");
    assert!(async_offload::shutdown(Duration::ZERO).is_ok(), "and again");

    // Nothing can be installed afterwards to bring offloading back.
    let late = Pools::builder()
        .pool("late", PoolConfig::fixed(1))
        .pool("default", PoolConfig::elastic(2))
        .install();
    assert_eq!(late, Err(async_offload::ConfigError::ShutDown));
    let later = runtime.block_on(async_offload::try_run("late", || ()));
    assert!(matches!(later, Err(OffloadError::UnknownPool { .. })));
}
