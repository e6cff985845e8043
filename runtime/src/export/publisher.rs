//! The thread that publishes the pools' figures, and with `release-stalls` the
//! `#[no_block]` fns' counts, to the `metrics` recorder every second.
//!
//! Gauges are set to their value and counters to their total (`absolute`) at each
//! publication, from the same snapshots [`stats`](crate::stats) and `poll_stats` give: a
//! recorder installed at any time gets every figure from then on, counted since the
//! start. Job times go straight from the workers into histograms (`job_times.rs`); the
//! publisher registers their handles.

use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::names;

/// How often the figures are published.
const PERIOD: Duration = Duration::from_secs(1);

/// Set to stop the publisher thread. Held only to set or read it, and by the thread's
/// waits for the next publication.
static STOPPED: Mutex<bool> = Mutex::new(false);
static STOP: Condvar = Condvar::new();
/// The publisher thread, from its start until it is stopped.
static THREAD: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

/// Starts the publisher thread, once per process: from the pools' starter thread. If the
/// thread cannot start, nothing is published, and stderr says so once.
pub(crate) fn start() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("offload.metrics".to_owned())
            .spawn(serve);
        match spawned {
            Ok(thread) => *lock(&THREAD) = Some(thread),
            Err(error) => eprintln!(
                "offload: the metrics thread could not start ({error}); nothing is published"
            ),
        }
    });
}

/// Publishes the figures a last time and stops the publisher thread, after a shutdown of
/// every pool: their final counts reach the recorder before the program exits.
pub(crate) fn stop() {
    *lock(&STOPPED) = true;
    STOP.notify_all();
    let thread = lock(&THREAD).take();
    if let Some(thread) = thread {
        // A panic of the recorder's ended the thread; the figures are not worth another.
        let _ = thread.join();
    }
}

/// The publisher thread: publishes at once, then every [`PERIOD`] until stopped, and once
/// more then.
fn serve() {
    let mut recorder = None;
    loop {
        publish(&mut recorder);
        let stopped = STOP
            .wait_timeout_while(lock(&STOPPED), PERIOD, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if *stopped {
            drop(stopped);
            publish(&mut recorder);
            return;
        }
    }
}

/// Locks one of this file's locks: what they guard is whole even after a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Publishes every figure once. `recorder` is the address of the recorder the last
/// publication saw: when it changes (the application installed one), the metrics are
/// described to the new one and the job-time histograms registered with it.
fn publish(recorder: &mut Option<usize>) {
    let current = super::recorder_address();
    if *recorder != Some(current) {
        names::describe_all();
        *recorder = Some(current);
    }
    for pool in crate::registry::pools() {
        pool.metrics().job_times().register(current, pool.name());
        publish_pool(&pool.stats());
    }
    #[cfg(feature = "release-stalls")]
    publish_polls();
}

/// Publishes each `#[no_block]` fn's poll counts. Two fns of one name (methods of two
/// types in one module) share a label: their counts are added up, so that each label's
/// total only grows.
#[cfg(feature = "release-stalls")]
fn publish_polls() {
    let mut totals: Vec<(&'static str, u64, u64)> = Vec::new();
    // `poll_stats` is sorted by name: fns of one name are next to each other.
    for stats in crate::stall::poll_stats() {
        match totals.last_mut() {
            Some((function, polls, slow)) if *function == stats.function => {
                *polls += stats.polls;
                *slow += stats.slow_polls;
            }
            _ => totals.push((stats.function, stats.polls, stats.slow_polls)),
        }
    }
    for (function, polls, slow) in totals {
        let label = [(names::FUNCTION, function)];
        metrics::counter!(names::POLLS, &label).absolute(polls);
        metrics::counter!(names::SLOW_POLLS, &label).absolute(slow);
    }
}

/// Publishes one pool's gauges and counters.
fn publish_pool(stats: &crate::PoolStats) {
    let pool = [(names::POOL, stats.name.clone())];
    for (name, value) in [
        (names::POOL_THREADS, stats.threads),
        (names::POOL_IDLE_THREADS, stats.idle_threads),
        (names::POOL_MAX_THREADS, stats.max_threads),
        (names::POOL_RUNNING_JOBS, stats.running),
        (names::POOL_QUEUED_JOBS, stats.queued),
        (names::POOL_QUEUE_CAPACITY, stats.queue_capacity),
        (names::POOL_WAITING_CALLERS, stats.waiting_for_room),
    ] {
        #[allow(clippy::cast_precision_loss)] // counts of threads and jobs: far below 2^52
        metrics::gauge!(name, &pool).set(value as f64);
    }
    metrics::counter!(names::JOBS_SUBMITTED, &pool).absolute(stats.submitted);
    for (outcome, total) in [
        ("completed", stats.completed),
        ("panicked", stats.panicked),
        ("cancelled", stats.cancelled),
        ("abandoned", stats.abandoned),
        ("refused", stats.refused),
        ("queue_full", stats.queue_full),
    ] {
        let labels = [
            (names::POOL, stats.name.clone()),
            (names::OUTCOME, outcome.to_owned()),
        ];
        metrics::counter!(names::JOBS_ENDED, &labels).absolute(total);
    }
}
