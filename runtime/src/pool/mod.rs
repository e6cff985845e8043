//! One named pool: a bounded queue of jobs and the threads that run them.
//!
//! The design follows the usual shape of a blocking pool: one `Mutex<State>`, condition
//! variables to wait on, and no job ever runs (or is dropped) while the lock is held.
//! Threads start on demand, up to the configured number, and not on a caller's thread:
//! the growth rule (`growth.rs`) decides when, the starter (`starter.rs`) and new workers
//! start them. An idle worker waits on a condition variable of its own, so that a caller
//! wakes the one that went idle last; those of an elastic pool that stay idle for their
//! keep-alive exit. A caller facing a full queue waits in line,
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
use self::growth::Growth;
use self::job::Runnable;
use self::line::Waiter;
use self::metrics::{Gauges, Metrics};
use self::starter::Starter;
use self::sync::{Condvar, Mutex, MutexGuard, thread};
use self::worker::Wakeup;
use crate::config::PoolConfig;
use crate::error::OffloadError;

#[cfg(feature = "tokio")]
mod caller_runtime;
pub(crate) mod clock;
mod growth;
mod job;
mod line;
mod metrics;
mod priority;
pub(crate) mod starter;
mod sync;
#[cfg(test)]
mod tests;
mod worker;

pub use self::job::cancelled;
pub(crate) use self::job::{JobHandle, answered};
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
    /// The pool's state. Held only to read or change the fields, never while a job runs or
    /// a thread starts.
    state: Mutex<State>,
    /// [`Pool::wait_for_threads`] waits here for the last worker to exit.
    all_exited: Condvar,
    /// Starts the threads the pool reserves, and looks at its queue when asked.
    starter: Arc<Starter>,
    /// Set by the first lookup of the pool by name: a built-in pool that has been used can
    /// no longer be replaced by another configuration. Synchronizes nothing.
    used: AtomicBool,
    /// What the pool has done, recorded without the lock.
    metrics: Metrics,
    /// For the tests: how many of the next thread starts fail, as at the process's limit
    /// of threads.
    #[cfg(test)]
    failing_starts: std::sync::atomic::AtomicUsize,
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
    /// Worker threads reserved, starting or started that have not left the pool (those
    /// running the stop hook have: see `stopping`). Never above `config.threads`.
    threads: usize,
    /// Of `threads`, those reserved that no spawner has taken up yet.
    to_spawn: usize,
    /// Of `threads`, those reserved or started that have not entered their loop yet: on
    /// their way to the queue. At least `to_spawn`.
    starting: usize,
    /// Threads a spawner is starting now, outside the lock, whose join handle it has not
    /// put in `handles` yet (counted apart from `threads`: such a thread may already have
    /// left the pool). Shutdown waits for them, to join every thread.
    spawning: usize,
    /// Idle workers that no submitter has claimed yet, the one that went idle last at the
    /// end: the one a submitter wakes.
    idle: Vec<Arc<Wakeup>>,
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
    /// Workers that exited on their own before their spawner put their handle in
    /// `handles`: the spawner detaches it instead. Rarely anything.
    exited_before_handle: Vec<usize>,
    /// What the growth rule keeps (`growth.rs`).
    growth: Growth,
    /// Set by [`Pool::begin_shutdown`]: no new jobs, and workers exit once the queue is empty.
    shut_down: bool,
    /// For the loom models' path labels: admitted callers that left and passed their place
    /// on, and admitted callers a shutdown refused.
    #[cfg(loom)]
    loom_places_passed_on: usize,
    #[cfg(loom)]
    loom_refused_after_admission: usize,
    /// For the tests: threads started on a thread that is neither the pool's nor its
    /// starter's (a caller's).
    #[cfg(test)]
    started_by_a_caller: usize,
}

impl State {
    /// Threads that shutdown must still wait for before it joins them: those in the pool,
    /// those running the stop hook, and those whose handle is not in `handles` yet.
    fn not_joinable_yet(&self) -> usize {
        self.threads + self.stopping + self.spawning
    }

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

    /// Hands every free place in the queue to callers in line, as long as some wait: for a
    /// queue emptied all at once. Returns their wakers, to be woken once the lock is let go.
    fn admit_while_room(&mut self, capacity: usize) -> Vec<Waker> {
        let mut admitted = Vec::new();
        while self.has_room(capacity) {
            match self.hand_off_place() {
                Some(waker) => admitted.push(waker),
                None => break,
            }
        }
        admitted
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
            self.idle.len() + self.claimed + self.running + self.starting <= self.threads,
            "{} idle, {} claimed, {} running and {} starting workers out of {}",
            self.idle.len(),
            self.claimed,
            self.running,
            self.starting,
            self.threads
        );
        assert!(
            self.to_spawn <= self.starting,
            "{} threads to start, {} starting",
            self.to_spawn,
            self.starting
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
    /// A pool with no threads yet, whose threads the process's starter starts. `config`
    /// must have been validated.
    pub(crate) fn new(name: &str, config: PoolConfig) -> Self {
        Pool::with_starter(name, config, Arc::clone(Starter::global()))
    }

    /// A pool with no threads yet, whose threads `starter` starts.
    pub(crate) fn with_starter(name: &str, config: PoolConfig, starter: Arc<Starter>) -> Self {
        let metrics = Metrics::new(config.metrics);
        // With the recorder installed now, for the first jobs; the publisher registers
        // them again with one installed later.
        #[cfg(feature = "metrics")]
        metrics
            .job_times()
            .register(crate::export::recorder_address(), name);
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
                to_spawn: 0,
                starting: 0,
                spawning: 0,
                idle: Vec::new(),
                claimed: 0,
                running: 0,
                stopping: 0,
                next_thread_id: 0,
                handles: Vec::new(),
                exited_before_handle: Vec::new(),
                growth: Growth::default(),
                shut_down: false,
                #[cfg(loom)]
                loom_places_passed_on: 0,
                #[cfg(loom)]
                loom_refused_after_admission: 0,
                #[cfg(test)]
                started_by_a_caller: 0,
            }),
            all_exited: Condvar::new(),
            starter,
            used: AtomicBool::new(false),
            metrics,
            #[cfg(test)]
            failing_starts: std::sync::atomic::AtomicUsize::new(0),
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
        let (refused, idle): (Vec<Waker>, Vec<Arc<Wakeup>>) = {
            let mut state = self.lock();
            state.shut_down = true;
            let waiting = std::mem::take(&mut state.waiting);
            // Whoever had left the line left with it.
            state.gone_from_line = 0;
            let refused = waiting
                .iter()
                .filter_map(|waiter| waiter.refuse())
                .collect();
            (refused, state.idle.clone())
        };
        // Each idle worker sees the shutdown once woken (or at the end of its spin).
        for worker in idle {
            worker.wake_for_shutdown();
        }
        for waker in refused {
            wake_from_line(Some(waker));
        }
    }

    /// Waits until every worker has exited, its stop hook run (until `deadline`, if there
    /// is one), then joins them; on time-out returns how many are still running.
    pub(crate) fn wait_for_threads(&self, deadline: Option<Nanos>) -> Result<(), usize> {
        let mut state = self.lock();
        while state.not_joinable_yet() > 0 {
            let timed_out;
            (state, timed_out) =
                sync::wait_until(&self.all_exited, &self.state, state, deadline, None);
            if timed_out && state.not_joinable_yet() > 0 {
                return Err(state.not_joinable_yet());
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
                idle_threads: state.idle.len() + state.claimed,
                // A place handed to a caller from the line is its job's, until a shutdown:
                // then the job will be refused when its caller comes to queue it.
                queued: state.queue.len() + if state.shut_down { 0 } else { state.reserved },
                queue_capacity: self.config.queue_capacity,
                refuse_when_full: self.config.refuse_when_full,
                waiting_for_room: state.waiting.len() - state.gone_from_line,
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
