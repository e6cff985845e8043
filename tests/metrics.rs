//! `async_offload::stats()`: every counter and gauge checked against jobs whose outcome the test
//! controls. Each test uses its own pool.

mod common;

use std::pin::pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_offload::{PoolConfig, PoolKind, Pools};
use common::{ExpectedPanic, HANG_GUARD, poll_once, silence_expected_panics};

/// Installs the pools of this file; each test calls it, and the first to run installs them.
fn install_pools() {
    Pools::builder()
        .pool("outcomes", PoolConfig::fixed(1))
        .pool("gauges", PoolConfig::elastic(4).queue_capacity(1))
        .install()
        .expect("the test pools install");
    silence_expected_panics();
}

/// A job that holds its pool's thread until the returned sender is used (or dropped).
fn hold(pool: &'static str) -> (mpsc::Sender<()>, impl Future<Output = ()>) {
    let (release, gate) = mpsc::channel::<()>();
    let (started, wait_started) = mpsc::channel();
    let job = async_offload::run(pool, move || {
        started.send(()).unwrap();
        let _ = gate.recv_timeout(HANG_GUARD);
    });
    let job = async move {
        let mut job = pin!(job);
        assert!(poll_once(job.as_mut()).await.is_pending());
        wait_started
            .recv_timeout(HANG_GUARD)
            .expect("the holding job started");
        job.await;
    };
    (release, job)
}

#[test]
fn every_outcome_is_counted() {
    install_pools();
    let runtime = common::current_thread();
    runtime.block_on(async {
        for i in 0..5 {
            assert_eq!(async_offload::run("outcomes", move || i).await, i);
        }
        for i in 0..3 {
            let caller = tokio::spawn(async_offload::run("outcomes", move || {
                std::panic::panic_any(ExpectedPanic(i))
            }));
            assert!(caller.await.is_err());
        }

        // Two jobs queued behind a held thread, whose callers then leave: cancelled.
        let (release, held) = hold("outcomes");
        let held = tokio::spawn(held);
        tokio::task::yield_now().await;
        while common::stats_for("outcomes").unwrap().running == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..2 {
            let mut call = pin!(async_offload::run("outcomes", || ()));
            assert!(poll_once(call.as_mut()).await.is_pending());
        }
        release.send(()).unwrap();
        held.await.unwrap();

        // A job whose caller leaves while it runs: abandoned.
        let (started, wait_started) = tokio::sync::oneshot::channel();
        let (finish, wait_finish) = mpsc::channel::<()>();
        let running = async_offload::run("outcomes", move || {
            started.send(()).unwrap();
            let _ = wait_finish.recv_timeout(HANG_GUARD);
        });
        tokio::select! {
            () = running => panic!("the job waits to be let go"),
            _ = wait_started => {} // the caller leaves
        }
        finish.send(()).unwrap();
        // One thread, jobs in order: once this one has run, the others are all counted.
        async_offload::run("outcomes", || ()).await;
    });

    let stats = common::stats_for("outcomes").expect("the pool exists");
    assert_eq!(stats.name, "outcomes");
    assert_eq!(stats.kind, PoolKind::Fixed);
    assert_eq!(stats.completed, 5 + 1 + 1); // the ordinary ones, the holder, the last one
    assert_eq!(stats.panicked, 3);
    assert_eq!(stats.cancelled, 2);
    assert_eq!(stats.abandoned, 1);
    assert_eq!(stats.refused, 0);
    assert_eq!(stats.queue_full, 0);
    assert_eq!(stats.submitted, 5 + 3 + 1 + 2 + 1 + 1);
    // The accounting identity of `PoolStats`.
    assert_eq!(common::settled(&stats), stats.submitted);
    // Every job that started was timed in the queue and running; cancelled ones never ran.
    let started = stats.submitted - stats.cancelled;
    assert_eq!(stats.queue_wait.count, started);
    assert_eq!(stats.run_time.count, started);
    assert!(stats.run_time.max >= stats.run_time.p99);
    assert!(stats.run_time.p99 >= stats.run_time.p50);
    assert!(stats.run_time.sum >= stats.run_time.max);
}

#[test]
fn gauges_show_threads_running_and_queued_jobs() {
    install_pools();
    let runtime = common::current_thread();
    let snapshots = Arc::new(Mutex::new(Vec::new()));
    runtime.block_on(async {
        let idle = common::stats_for("gauges").unwrap();
        assert_eq!((idle.threads, idle.running, idle.queued), (0, 0, 0));
        assert_eq!(idle.max_threads, 4);

        // Four threads busy (the pool's maximum), one job queued, a caller waiting for room.
        let mut releases = Vec::new();
        let mut held = Vec::new();
        for _ in 0..4 {
            let (release, job) = hold("gauges");
            releases.push(release);
            held.push(tokio::spawn(job));
        }
        while common::stats_for("gauges").unwrap().running < 4 {
            tokio::task::yield_now().await;
        }
        let mut queued = pin!(async_offload::run("gauges", || ()));
        assert!(poll_once(queued.as_mut()).await.is_pending());
        let mut waiting = pin!(async_offload::run("gauges", || ()));
        assert!(poll_once(waiting.as_mut()).await.is_pending());
        // A second caller in line that goes away: no longer counted as waiting.
        let mut leaving = Box::pin(async_offload::run("gauges", || ()));
        assert!(poll_once(leaving.as_mut()).await.is_pending());
        assert_eq!(common::stats_for("gauges").unwrap().waiting_for_room, 2);
        drop(leaving);
        snapshots
            .lock()
            .unwrap()
            .push(common::stats_for("gauges").unwrap());

        for release in releases {
            release.send(()).unwrap();
        }
        for job in held {
            job.await.unwrap();
        }
        queued.await;
        waiting.await;
    });
    let busy = snapshots.lock().unwrap()[0].clone();
    assert_eq!(busy.threads, 4);
    assert_eq!(busy.running, 4);
    assert_eq!(busy.idle_threads, 0);
    assert_eq!(
        busy.queued, 1,
        "the fifth job waits in the queue, the sixth for room"
    );
    assert_eq!(
        busy.waiting_for_room, 1,
        "the caller that left is not counted"
    );
    assert_eq!(
        (busy.queue_capacity, busy.refuse_when_full),
        (1, false),
        "the queue is saturated: {busy:?}"
    );
    assert_eq!(busy.submitted, 7);

    let done = common::stats_for("gauges").unwrap();
    assert_eq!((done.completed, done.cancelled), (6, 1));
    // A worker counts itself out of `running` just after it has handed its result over.
    assert!(
        common::eventually(|| {
            let now = common::stats_for("gauges").unwrap();
            (now.running, now.queued) == (0, 0)
        }),
        "jobs still counted running or queued after every caller had its result"
    );
}

#[test]
fn timings_hold_what_the_jobs_did() {
    install_pools();
    // Runs on the built-in "cpu" pool, which other tests of this file do not use.
    let sleep = Duration::from_millis(20);
    futures::executor::block_on(async {
        for _ in 0..3 {
            async_offload::run("cpu", move || std::thread::sleep(sleep)).await;
        }
    });
    let stats = common::stats_for("cpu").unwrap();
    assert_eq!(stats.run_time.count, 3);
    assert!(stats.run_time.max >= sleep, "{:?}", stats.run_time);
    assert!(stats.run_time.sum >= sleep * 3, "{:?}", stats.run_time);
    assert!(stats.run_time.mean() >= sleep, "{:?}", stats.run_time);
    assert!(async_offload::stats().iter().any(|pool| pool.name == "cpu"));
    assert!(common::stats_for("no-such-pool").is_none());
}
