//! With tokio's clock paused, a job in flight keeps the clock from advancing on its own, as
//! a `spawn_blocking` task does, and a job that ends lets it move on: the behaviours tokio
//! pins for `spawn_blocking` in its `tests/task_blocking.rs`, for offloaded jobs.
//!
//! Where time is measured, it is real time against margins of seconds: the paused clock
//! would otherwise make the test wait the full virtual duration for real.

// The root package's test helpers.
#[path = "../../common/mod.rs"]
mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{ExpectedPanic, poll_once};
use tokio::time;

/// A job that blocks its pool thread for `millis` milliseconds of real time.
async fn job(millis: u64) {
    async_offload::run("default", move || {
        thread::sleep(Duration::from_millis(millis));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_timeout_around_a_job_in_flight_does_not_fire() {
    time::timeout(Duration::from_secs(3), job(1))
        .await
        .expect("the timeout does not fire");
    // Even a timeout shorter than the job: the paused clock does not move while it runs.
    time::timeout(Duration::from_millis(1), job(50))
        .await
        .expect("the timeout does not fire");
}

#[tokio::test(start_paused = true)]
async fn a_finished_job_wakes_the_paused_runtime() {
    let start = Instant::now();
    time::timeout(Duration::from_secs(15), job(1))
        .await
        .expect("the timeout does not fire");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the runtime waited for its timer in real time"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_whose_caller_is_not_waiting_lets_the_clock_move_once_it_ends() {
    let start = Instant::now();
    let mut in_flight = std::pin::pin!(job(1));
    assert!(poll_once(in_flight.as_mut()).await.is_pending());
    // The job ends while the test waits on a timer: the clock then moves on to it.
    time::sleep(Duration::from_secs(15)).await;
    in_flight.await;
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the runtime waited for its timer in real time"
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_job_wakes_the_paused_runtime() {
    common::silence_expected_panics();
    let start = Instant::now();
    let task = tokio::spawn(async_offload::run("default", || {
        thread::sleep(Duration::from_millis(1));
        std::panic::panic_any(ExpectedPanic(13));
    }));
    let joined = time::timeout(Duration::from_secs(15), task)
        .await
        .expect("the timeout does not fire");
    let payload = joined.expect_err("the job panicked").into_panic();
    assert_eq!(payload.downcast_ref(), Some(&ExpectedPanic(13)));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the runtime waited for its timer in real time"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_dropped_before_it_starts_lets_the_clock_move() {
    // A pool whose one thread is busy: the second job waits in the queue, then its caller
    // goes away. Nothing may keep the clock still after that.
    async_offload::Pools::builder()
        .pool("paused-busy", async_offload::PoolConfig::fixed(1))
        .install()
        .expect("the test's own pool");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (started, on_start) = tokio::sync::oneshot::channel();
    let busy = tokio::spawn(async_offload::run("paused-busy", move || {
        started.send(()).expect("the test waits for it");
        released.recv().ok();
    }));
    // The pool's one thread is busy before the second job comes.
    on_start.await.expect("the first job starts");
    let mut queued = Box::pin(async_offload::run("paused-busy", || ()));
    assert!(poll_once(queued.as_mut()).await.is_pending());
    drop(queued);
    release.send(()).expect("the first job waits for it");
    busy.await.expect("the first job ends");
    let start = Instant::now();
    time::sleep(Duration::from_secs(15)).await;
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the runtime waited for its timer in real time"
    );
}

#[test]
fn a_paused_runtime_dropped_while_a_job_runs_does_not_wait_for_it() {
    // The runtime waits for its `spawn_blocking` tasks when it is dropped; the one that
    // holds its paused clock must end with the caller, not with the job.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a paused runtime");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (started, on_start) = std::sync::mpsc::channel();
    let _caller = runtime.spawn(async_offload::run("default", move || {
        started.send(()).expect("the test waits for it");
        released.recv().ok();
    }));
    // Let the task submit the job, then drop the runtime while the job still runs.
    runtime.block_on(async {
        let waited = time::timeout(Duration::from_secs(60), async {
            while on_start.try_recv().is_err() {
                tokio::task::yield_now().await;
            }
        });
        waited.await.expect("the job starts");
    });
    let (dropped, on_drop) = std::sync::mpsc::channel();
    thread::spawn(move || {
        drop(runtime);
        dropped.send(()).expect("the test waits for it");
    });
    let outcome = on_drop.recv_timeout(common::HANG_GUARD);
    release.send(()).expect("the job waits for it");
    outcome.expect("the runtime was dropped while the job still ran");
}
