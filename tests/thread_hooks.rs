//! `PoolConfig::on_thread_start` / `on_thread_stop`: each pool thread runs the start hook
//! before its first job and the stop hook as it exits (keep-alive, shutdown); a hook that
//! panics loses no job and stops no pool. Each test uses its own pool.

mod common;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, Once};
use std::time::Duration;

use async_offload::{PoolConfig, Pools};
use common::{ExpectedPanic, HANG_GUARD, silence_expected_panics};

/// Thread names the hooks of the "hooked" pool saw.
static STARTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static STOPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Hook calls of the other pools.
static ELASTIC_STARTS: AtomicUsize = AtomicUsize::new(0);
static ELASTIC_STOPS: AtomicUsize = AtomicUsize::new(0);
static START_PANICS: AtomicUsize = AtomicUsize::new(0);
static STOP_PANICS: AtomicUsize = AtomicUsize::new(0);
/// Set by the slow stop hook once it has finished.
static SLOW_STOP_DONE: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set by the start hook of the "hooked" pool on its own thread.
    static SET_UP: Cell<bool> = const { Cell::new(false) };
}

fn install_pools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Pools::builder()
            .pool(
                "hooked",
                PoolConfig::fixed(2)
                    .on_thread_start(|| {
                        SET_UP.set(true);
                        STARTED.lock().unwrap().push(common::thread_name());
                    })
                    .on_thread_stop(|| STOPPED.lock().unwrap().push(common::thread_name())),
            )
            .pool(
                "hooked-elastic",
                PoolConfig::elastic(1)
                    .keep_alive(Duration::from_millis(1))
                    .on_thread_start(|| {
                        ELASTIC_STARTS.fetch_add(1, Ordering::SeqCst);
                    })
                    .on_thread_stop(|| {
                        ELASTIC_STOPS.fetch_add(1, Ordering::SeqCst);
                    }),
            )
            .pool(
                "start-panics",
                PoolConfig::fixed(1).on_thread_start(|| {
                    START_PANICS.fetch_add(1, Ordering::SeqCst);
                    std::panic::panic_any(ExpectedPanic(1));
                }),
            )
            .pool(
                "stop-panics",
                PoolConfig::elastic(1)
                    .keep_alive(Duration::from_millis(1))
                    .on_thread_stop(|| {
                        STOP_PANICS.fetch_add(1, Ordering::SeqCst);
                        std::panic::panic_any(ExpectedPanic(2));
                    }),
            )
            .pool(
                "slow-stop",
                PoolConfig::fixed(1).on_thread_stop(|| {
                    std::thread::sleep(Duration::from_millis(50));
                    SLOW_STOP_DONE.store(true, Ordering::SeqCst);
                }),
            )
            .install()
            .expect("the test pools install");
        silence_expected_panics();
    });
}

#[test]
fn each_thread_runs_the_start_hook_before_its_first_job_and_the_stop_hook_at_shutdown() {
    install_pools();
    // Two jobs that wait for each other need both threads.
    let both = Arc::new(Barrier::new(2));
    let jobs: Vec<_> = (0..2)
        .map(|_| {
            let both = Arc::clone(&both);
            async_offload::run("hooked", move || {
                both.wait();
                (SET_UP.get(), common::thread_name())
            })
        })
        .collect();
    let answers = futures::executor::block_on(futures::future::join_all(jobs));
    let mut ran_on = BTreeSet::new();
    for (set_up, thread) in answers {
        assert!(set_up, "{thread} ran a job before its start hook");
        ran_on.insert(thread);
    }
    assert_eq!(ran_on.len(), 2);
    let started: BTreeSet<String> = STARTED.lock().unwrap().iter().cloned().collect();
    assert_eq!(started, ran_on, "one start hook per thread, on that thread");
    assert!(
        STOPPED.lock().unwrap().is_empty(),
        "no thread has exited yet"
    );

    async_offload::shutdown_pool("hooked", HANG_GUARD).expect("the pool shuts down");
    let mut stopped = STOPPED.lock().unwrap().clone();
    stopped.sort_unstable();
    let started: Vec<String> = started.into_iter().collect();
    assert_eq!(stopped, started, "one stop hook per thread, on that thread");
}

#[test]
fn an_elastic_thread_runs_its_stop_hook_when_its_keep_alive_ends() {
    install_pools();
    for round in 1..=2 {
        let answer = futures::executor::block_on(async_offload::run("hooked-elastic", || 7));
        assert_eq!(answer, 7);
        assert!(
            common::eventually(|| ELASTIC_STOPS.load(Ordering::SeqCst) == round),
            "the idle thread exited through its stop hook"
        );
        assert_eq!(ELASTIC_STARTS.load(Ordering::SeqCst), round);
    }
    let stats = common::stats_for("hooked-elastic").unwrap();
    assert_eq!((stats.threads, stats.submitted, stats.completed), (0, 2, 2));
}

#[test]
fn a_start_hook_that_panics_leaves_the_thread_serving_every_job() {
    install_pools();
    let answers = futures::executor::block_on(futures::future::join_all(
        (0..10).map(|i| async_offload::run("start-panics", move || i * 2)),
    ));
    assert_eq!(answers, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(
        START_PANICS.load(Ordering::SeqCst),
        1,
        "one thread, started once"
    );
    let stats = common::stats_for("start-panics").unwrap();
    assert_eq!(stats.threads, 1);
    assert_eq!(
        (stats.submitted, stats.completed, stats.panicked),
        (10, 10, 0)
    );
    let settled =
        stats.completed + stats.panicked + stats.cancelled + stats.abandoned + stats.refused;
    assert_eq!(settled, stats.submitted);
}

#[test]
fn a_stop_hook_that_panics_ends_its_thread_and_the_pool_starts_another() {
    install_pools();
    for round in 1..=3 {
        let answer = futures::executor::block_on(async_offload::run("stop-panics", move || round));
        assert_eq!(answer, round);
        assert!(
            common::eventually(|| STOP_PANICS.load(Ordering::SeqCst) == round
                && common::stats_for("stop-panics").unwrap().threads == 0),
            "the idle thread ran its stop hook and left"
        );
    }
    let stats = common::stats_for("stop-panics").unwrap();
    assert_eq!(
        (stats.submitted, stats.completed, stats.panicked),
        (3, 3, 0)
    );
    async_offload::shutdown_pool("stop-panics", HANG_GUARD).expect("the pool shuts down");
}

#[test]
fn shutdown_returns_once_the_stop_hooks_have_run() {
    install_pools();
    futures::executor::block_on(async_offload::run("slow-stop", || ()));
    async_offload::shutdown_pool("slow-stop", HANG_GUARD).expect("the pool shuts down");
    assert!(SLOW_STOP_DONE.load(Ordering::SeqCst));
}

#[test]
fn configurations_with_hooks_compare_by_hook_and_show_that_one_is_set() {
    let hooked = PoolConfig::fixed(1).on_thread_start(|| {});
    assert_eq!(hooked, hooked.clone());
    assert_ne!(hooked, PoolConfig::fixed(1).on_thread_start(|| {}));
    assert_ne!(hooked, PoolConfig::fixed(1));
    let debug = format!("{hooked:?}");
    assert!(debug.contains("on_thread_start: Some("), "{debug}");
    assert!(debug.contains("on_thread_stop: None"), "{debug}");
}
