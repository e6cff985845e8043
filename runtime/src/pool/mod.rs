//! One named pool: a bounded queue of jobs and the threads that run them.
//!
//! The design follows the usual shape of a blocking pool: one `Mutex<State>` with two
//! condition variables, and no job ever runs (or is dropped) while the lock is held.
//! Threads start on demand, up to the configured number; those of an elastic pool exit
//! after their keep-alive without work. A caller facing a full queue waits in line,
//! asynchronously and first come first served, without blocking its executor thread: the
//! worker that takes a job off the queue hands the free place to the first caller in line.
//! (A pool set to refuse jobs when full turns such a caller away at once: its line stays
//! empty.)
//!
//! Everything the protocol synchronizes on comes from [`sync`], so that the loom models in
//! `tests/loom_models.rs` check it.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;

use self::clock::Nanos;
use self::job::Runnable;
use self::line::Waiter;
use self::metrics::{Gauges, Metrics};
use self::sync::{AtomicU64, Condvar, Mutex, MutexGuard, thread};
use crate::config::PoolConfig;
use crate::error::OffloadError;

#[cfg(feature = "tokio")]
mod caller_runtime;
pub(crate) mod clock;
mod job;
mod line;
mod metrics;
mod priority;
mod sync;
#[cfg(test)]
mod tests;
mod worker;

pub use self::job::cancelled;
pub(crate) use self::job::{JobHandle, returned};
pub(crate) use self::line::{Started, WaitForRoom, submit};
pub use self::metrics::{PoolStats, TimingStats};

/// A value the pool drops on one of its threads for a caller that went away.
type Discarded = Box<dyn Any + Send>;

/// A named pool of threads for blocking work.
pub(crate) struct Pool {
    /// The name jobs are submitted under; part of every thread's name.
    name: Arc<str>,
    /// The configuration the pool was built with; it never changes.
    config: PoolConfig,
    /// The pool's state. Held only to read or change the fields, never while a job runs.
    state: Mutex<State>,
    /// Idle workers wait here for work, or for shutdown.
    work_available: Condvar,
    /// [`Pool::wait_for_threads`] waits here for the last worker to exit.
    all_exited: Condvar,
    /// Counts the claims of idle workers (and shutdowns), so that a spinning worker sees a
    /// claim without taking the lock. Only ever incremented.
    claims: AtomicU64,
    /// Set by the first lookup of the pool by name: a built-in pool that has been used can
    /// no longer be replaced by another configuration. Synchronizes nothing.
    used: AtomicBool,
    /// What the pool has done, recorded without the lock.
    metrics: Metrics,
}

/// The fields behind the pool's lock.
struct State {
    /// Jobs waiting for a thread, oldest first. With `reserved`, never more than the queue
    /// capacity.
    queue: VecDeque<Arc<dyn Runnable>>,
    /// Callers waiting for room in the full queue, first come first served. Entries of
    /// callers that went away are skipped at the front, or swept out once they are half
    /// the line. Callers wait only while the queue is full: whenever it has room, nobody
    /// is in line.
    waiting: VecDeque<Arc<Waiter>>,
    /// Entries in `waiting` of callers that went away. A caller in line is marked gone only
    /// under the pool's lock, so this count is exact.
    gone_from_line: usize,
    /// Places in the queue handed to callers in line that have not queued their job yet.
    reserved: usize,
    /// Bodies of callers that went away while they waited for room in the queue, to be
    /// dropped on a pool thread (dropping captured arguments may block).
    discarded: Vec<Discarded>,
    /// Worker threads started that have not left the pool (those running the stop hook
    /// have: see `stopping`). Never above `config.threads`.
    threads: usize,
    /// Idle workers that no submitter has claimed yet. Never above `threads`.
    idle: usize,
    /// Idle workers claimed by a submitter (and notified) that have not woken yet.
    claimed: usize,
    /// Workers running a job (or dropping a discarded value) now.
    running: usize,
    /// Workers that have left the pool (no longer in `threads`) and still run the pool's
    /// `on_thread_stop` hook. Shutdown waits for them too.
    stopping: usize,
    /// The number the next worker's thread name gets.
    next_thread_id: usize,
    /// The join handles of live workers, with their thread numbers. A worker that exits on
    /// its own removes (detaches) its handle; shutdown joins the rest.
    handles: Vec<(usize, thread::JoinHandle<()>)>,
    /// Set by [`Pool::begin_shutdown`]: no new jobs, and workers exit once the queue is empty.
    shut_down: bool,
    /// For the loom models' path labels: admitted callers that left and passed their place
    /// on, and admitted callers a shutdown refused.
    #[cfg(loom)]
    loom_places_passed_on: usize,
    #[cfg(loom)]
    loom_refused_after_admission: usize,
}

impl State {
    /// Whether a job may be queued now without a reserved place.
    fn has_room(&self, capacity: usize) -> bool {
        self.queue.len() + self.reserved < capacity
    }

    /// Gives a free place in the queue to the first caller still in line, and returns the
    /// waker of its task, to be woken once the lock is let go. With nobody in line the place
    /// stays free.
    #[inline]
    fn hand_off_place(&mut self) -> Option<Waker> {
        if self.waiting.is_empty() {
            return None; // the common case, checked without a call
        }
        self.admit_first_in_line()
    }

    /// [`State::hand_off_place`] with somebody in line (on every job a worker takes while
    /// callers wait for room): out of line, to keep the check above short.
    #[inline(never)]
    fn admit_first_in_line(&mut self) -> Option<Waker> {
        while let Some(waiter) = self.waiting.pop_front() {
            if let Some(waker) = waiter.admit() {
                self.reserved += 1;
                return Some(waker);
            }
            self.gone_from_line -= 1;
        }
        None
    }

    /// Panics if the state breaks a promise of its fields' docs. Only in debug builds: it
    /// walks the line.
    #[cfg(debug_assertions)]
    fn assert_invariants(&self, config: &PoolConfig) {
        assert!(
            self.queue.len() + self.reserved <= config.queue_capacity,
            "{} jobs queued and {} places reserved in a queue of {}",
            self.queue.len(),
            self.reserved,
            config.queue_capacity
        );
        assert!(
            self.threads <= config.threads,
            "{} workers in a pool of {}",
            self.threads,
            config.threads
        );
        assert!(
            self.idle + self.claimed + self.running <= self.threads,
            "{} idle, {} claimed and {} running workers out of {}",
            self.idle,
            self.claimed,
            self.running,
            self.threads
        );
        let gone = self
            .waiting
            .iter()
            .filter(|waiter| waiter.is_gone())
            .count();
        assert_eq!(
            self.gone_from_line, gone,
            "the count of callers gone from the line is not exact"
        );
        assert!(
            self.waiting.is_empty() || !self.has_room(config.queue_capacity),
            "{} callers wait in line for a queue with room",
            self.waiting.len()
        );
    }

    /// Counts a caller that went away from the line, and sweeps the entries of such callers
    /// out once they are half the line: callers that give up while the queue stays full
    /// (a timeout around a call to a stuck pool, retried) cannot grow the line for ever,
    /// and the sweeps cost a constant per caller that left.
    fn left_the_line(&mut self) {
        self.gone_from_line += 1;
        if self.gone_from_line * 2 > self.waiting.len() {
            self.waiting.retain(|waiter| !waiter.is_gone());
            self.gone_from_line = 0;
        }
    }
}

impl Pool {
    /// A pool with no threads yet. `config` must have been validated.
    pub(crate) fn new(name: &str, config: PoolConfig) -> Self {
        let metrics = Metrics::new(config.metrics);
        Pool {
            name: name.into(),
            config,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waiting: VecDeque::new(),
                gone_from_line: 0,
                reserved: 0,
                discarded: Vec::new(),
                threads: 0,
                idle: 0,
                claimed: 0,
                running: 0,
                stopping: 0,
                next_thread_id: 0,
                handles: Vec::new(),
                shut_down: false,
                #[cfg(loom)]
                loom_places_passed_on: 0,
                #[cfg(loom)]
                loom_refused_after_admission: 0,
            }),
            work_available: Condvar::new(),
            all_exited: Condvar::new(),
            claims: AtomicU64::new(0),
            used: AtomicBool::new(false),
            metrics,
        }
    }

    /// The pool's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// What the pool has done, for its jobs to record in.
    #[inline]
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Records that the pool has been looked up to run a job.
    pub(crate) fn mark_used(&self) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the pool has ever been looked up to run a job.
    pub(crate) fn was_used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    /// The lock on the pool's state.
    /// Takes the pool's lock. In debug builds, first checks that the last holder left the
    /// state as the fields' docs promise.
    #[inline]
    fn lock(&self) -> MutexGuard<'_, State> {
        let state = sync::lock(&self.state);
        #[cfg(debug_assertions)]
        state.assert_invariants(&self.config);
        state
    }

    /// Stops taking jobs: callers in line for room and later submitters get
    /// [`OffloadError::ShutDown`]; queued jobs still run, then the workers exit.
    pub(crate) fn begin_shutdown(&self) {
        let refused: Vec<Waker> = {
            let mut state = self.lock();
            state.shut_down = true;
            let waiting = std::mem::take(&mut state.waiting);
            // Whoever had left the line left with it.
            state.gone_from_line = 0;
            waiting
                .iter()
                .filter_map(|waiter| waiter.refuse())
                .collect()
        };
        self.claims.fetch_add(1, Ordering::Release); // ends every spin
        self.work_available.notify_all();
        for waker in refused {
            wake_from_line(Some(waker));
        }
    }

    /// Waits until every worker has exited, its stop hook run (until `deadline`, if there
    /// is one), then joins them; on time-out returns how many are still running.
    pub(crate) fn wait_for_threads(&self, deadline: Option<Nanos>) -> Result<(), usize> {
        let mut state = self.lock();
        while state.threads + state.stopping > 0 {
            let timed_out;
            (state, timed_out) =
                sync::wait_until(&self.all_exited, &self.state, state, deadline, None);
            if timed_out && state.threads + state.stopping > 0 {
                return Err(state.threads + state.stopping);
            }
        }
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        for (_, handle) in handles {
            // The worker has left its loop; this waits for its last instructions. It
            // cannot have panicked: every panic of a job or a hook is caught.
            let _ = handle.join();
        }
        Ok(())
    }

    /// A snapshot of the pool's threads, queue and counters.
    pub(crate) fn stats(&self) -> PoolStats {
        let gauges = {
            let state = self.lock();
            Gauges {
                name: self.name.to_string(),
                kind: self.config.kind,
                max_threads: self.config.threads,
                threads: state.threads,
                idle_threads: state.idle + state.claimed,
                queued: state.queue.len(),
                running: state.running,
            }
        };
        self.metrics.snapshot(gauges)
    }

    fn shut_down_error(&self) -> OffloadError {
        OffloadError::ShutDown {
            pool: self.name.to_string(),
        }
    }
}

/// Wakes a caller whose wait in line just ended (admitted, or refused by a shutdown). Its
/// waker belongs to another task's executor: a panic in it must not unwind into the worker,
/// the caller or the shutdown that ended the wait.
#[inline]
fn wake_from_line(waker: Option<Waker>) {
    if let Some(waker) = waker {
        contain(|| waker.wake());
    }
}

/// Runs `f` and contains a panic in it: the panic hook has printed it already, and a worker
/// must survive it, its counts intact. The payload is dropped inside a catch too (its own
/// drop may panic), and forgotten if even that panics.
fn contain<R>(f: impl FnOnce() -> R) -> Option<R> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
            None
        }
    }
}
