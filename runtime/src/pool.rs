//! One named pool: a bounded queue of jobs and the threads that run them.
//!
//! The design follows the usual shape of a blocking pool: one `Mutex<State>` with two
//! condition variables, and no job ever runs (or is dropped) while the lock is held.
//! Threads start on demand, up to the configured number; those of an elastic pool exit
//! after their keep-alive without work. How many jobs may wait is bounded by a fair
//! semaphore outside the lock, so that a caller facing a full queue waits asynchronously,
//! first come first served, without ever blocking its executor thread.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::job::{Job, JobHandle, Runnable};
use crate::metrics::{Gauges, Metrics, Outcome, PoolStats};

/// A value the pool drops on one of its threads for a caller that went away.
type Discarded = Box<dyn Any + Send>;

/// A named pool of threads for blocking work.
pub(crate) struct Pool {
    /// The name jobs are submitted under; part of every thread's name.
    name: Arc<str>,
    /// The configuration the pool was built with; it never changes.
    config: PoolConfig,
    /// One permit per free place in the queue. A caller takes one before it queues a job,
    /// and waits for one while there is none; a worker gives it back when it takes a job
    /// off the queue. Closed at shutdown, which turns the waits into errors.
    room: Semaphore,
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
    /// no longer be replaced by another configuration.
    used: AtomicBool,
    /// What the pool has done, recorded without the lock.
    metrics: Metrics,
}

/// The fields behind the pool's lock.
struct State {
    /// Jobs waiting for a thread, oldest first. Never longer than the queue capacity.
    queue: VecDeque<Arc<dyn Runnable>>,
    /// Bodies of callers that went away while they waited for room in the queue, to be
    /// dropped on a pool thread (dropping captured arguments may block).
    discarded: Vec<Discarded>,
    /// Worker threads started and not yet exited. Never above `config.threads`.
    threads: usize,
    /// Idle workers that no submitter has claimed yet. Never above `threads`.
    idle: usize,
    /// Idle workers claimed by a submitter (and notified) that have not woken yet.
    claimed: usize,
    /// Workers running a job (or dropping a discarded value) now.
    running: usize,
    /// The number the next worker's thread name gets.
    next_thread_id: usize,
    /// The join handles of live workers, by thread number. A worker that exits on its own
    /// removes (detaches) its handle; shutdown joins the rest.
    handles: HashMap<usize, JoinHandle<()>>,
    /// Set by [`Pool::begin_shutdown`]: no new jobs, and workers exit once the queue is empty.
    shut_down: bool,
}

/// A body that has not been queued yet, while its caller waits for room.
///
/// If the caller goes away first, the body (and the arguments it captured) is handed to
/// the pool to be dropped on a pool thread, as it would have been had it run.
struct Unqueued<'a, F: Send + 'static> {
    pool: &'a Pool,
    body: Option<F>,
}

impl<F: Send + 'static> Unqueued<'_, F> {
    fn take(&mut self) -> F {
        self.body
            .take()
            .expect("the body of an unqueued job is taken once")
    }

    /// The pool turned the job away: the body goes the same way as a cancelled one's.
    fn refuse(mut self) {
        let body = self.take();
        self.pool.metrics.ended(Outcome::Refused);
        self.pool.discard(Box::new(body));
    }
}

impl<F: Send + 'static> Drop for Unqueued<'_, F> {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            self.pool.metrics.ended(Outcome::Cancelled);
            self.pool.discard(Box::new(body));
        }
    }
}

impl Pool {
    /// A pool with no threads yet. `config` must have been validated.
    pub(crate) fn new(name: &str, config: PoolConfig) -> Self {
        let metrics = Metrics::new(config.metrics);
        Pool {
            name: name.into(),
            room: Semaphore::new(config.queue_capacity),
            config,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                discarded: Vec::new(),
                threads: 0,
                idle: 0,
                claimed: 0,
                running: 0,
                next_thread_id: 0,
                handles: HashMap::new(),
                shut_down: false,
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

    /// The lock on the pool's state. No user code runs while it is held, so a poisoned lock
    /// (which would take a bug in this module) still guards consistent counters.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `body`, waiting asynchronously for room while the queue is full, and returns
    /// the handle that resolves to its result.
    pub(crate) async fn submit<F, T>(
        self: &Arc<Self>,
        body: F,
    ) -> Result<JobHandle<F, T>, OffloadError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.metrics.submitted();
        let mut unqueued = Unqueued {
            pool: self,
            body: Some(body),
        };
        match self.room.acquire().await {
            // The place is given back by the worker that takes the job off the queue.
            Ok(place) => place.forget(),
            Err(_closed) => {
                unqueued.refuse();
                return Err(self.shut_down_error());
            }
        }
        let (job, handle) = Job::new(unqueued.take(), self.metrics.enabled());
        if let Err(error) = self.enqueue(job) {
            self.room.add_permits(1);
            self.metrics.ended(Outcome::Refused);
            if let Some(body) = handle.take_body() {
                self.discard(Box::new(body));
            }
            return Err(error);
        }
        Ok(handle)
    }

    /// Puts a job at the back of the queue and makes sure a thread will take it: an idle
    /// one is woken, or a new one started while the pool is below its thread count.
    fn enqueue(self: &Arc<Self>, job: Arc<dyn Runnable>) -> Result<(), OffloadError> {
        let mut state = self.lock();
        if state.shut_down {
            return Err(self.shut_down_error());
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            self.claim_idle_worker(state);
            return Ok(());
        }
        if state.threads < self.config.threads {
            // Spawning under the lock keeps `threads` truthful; it happens only while the
            // pool grows, not once it has the threads its load needs.
            if let Err(error) = self.spawn_worker(&mut state) {
                if state.threads == 0 {
                    // Nobody would ever run the job: take it back and tell the caller.
                    state.queue.pop_back();
                    return Err(OffloadError::SpawnFailed {
                        pool: self.name.to_string(),
                        error,
                    });
                }
                // The running threads will get to the job once they are free.
            }
        }
        Ok(())
    }

    /// Starts one worker thread and counts it; on failure nothing is counted.
    fn spawn_worker(self: &Arc<Self>, state: &mut State) -> std::io::Result<()> {
        let id = state.next_thread_id;
        let mut builder = thread::Builder::new().name(format!("offload-{}-{id}", self.name));
        if let Some(bytes) = self.config.stack_size {
            builder = builder.stack_size(bytes);
        }
        let pool = Arc::clone(self);
        let handle = builder.spawn(move || pool.work(id))?;
        state.next_thread_id += 1;
        state.threads += 1;
        state.handles.insert(id, handle);
        Ok(())
    }

    /// A worker's life: take jobs until the pool shuts down or, for an elastic pool, no
    /// job has come for the keep-alive.
    fn work(&self, id: usize) {
        crate::stall::mark_pool_thread();
        // The clock reading at the end of the last job, while the worker goes straight on
        // to the next one: its start, without reading the clock again.
        let mut clock = None;
        let mut state = self.lock();
        loop {
            if let Some(value) = state.discarded.pop() {
                clock = None;
                state.running += 1;
                drop(state);
                contain(move || drop(value));
                state = self.lock();
                state.running -= 1;
                continue;
            }
            if let Some(job) = state.queue.pop_front() {
                state.running += 1;
                drop(state);
                self.room.add_permits(1);
                // `run` catches the body's panic; `contain` one from dropping a cancelled
                // job's arguments or an abandoned result.
                let now = clock.take();
                clock = contain(move || job.run(self, now)).flatten();
                state = self.lock();
                state.running -= 1;
                continue;
            }
            clock = None;
            if state.shut_down {
                break;
            }
            let keep_waiting;
            (state, keep_waiting) = self.wait_for_work(state);
            if !keep_waiting {
                // Idle for the whole keep-alive: detach this thread and let it end.
                state.handles.remove(&id);
                break;
            }
        }
        state.threads -= 1;
        let last = state.threads == 0;
        drop(state);
        if last {
            self.all_exited.notify_all();
        }
    }

    /// Waits idle until a submitter claims this worker or the pool shuts down (`true`), or
    /// until the keep-alive of an elastic pool runs out (`false`). With a spin configured,
    /// it first spins that long, watching for a claim, before it sleeps.
    fn wait_for_work<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> (MutexGuard<'a, State>, bool) {
        state.idle += 1;
        if !self.config.spin.is_zero() {
            // At most `PoolConfig::MAX_SPIN`: no overflow.
            let until = Instant::now() + self.config.spin;
            loop {
                let claims = self.claims.load(Ordering::Acquire);
                drop(state);
                while self.claims.load(Ordering::Acquire) == claims && Instant::now() < until {
                    std::hint::spin_loop();
                }
                state = self.lock();
                if state.claimed > 0 {
                    state.claimed -= 1;
                    return (state, true);
                }
                if state.shut_down {
                    state.idle -= 1;
                    return (state, true);
                }
                if Instant::now() >= until {
                    break; // nothing came: sleep
                }
                // Another worker took the claim first: spin on for the time left.
            }
        }
        // A keep-alive too long to add to now (`Duration::MAX`, say) never runs out.
        let deadline = self
            .config
            .keep_alive
            .and_then(|idle| Instant::now().checked_add(idle));
        loop {
            state = match deadline {
                None => self
                    .work_available
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    self.work_available
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            if state.claimed > 0 {
                // A submitter has already taken this worker off the idle count.
                state.claimed -= 1;
                return (state, true);
            }
            let timed_out = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if state.shut_down || timed_out {
                state.idle -= 1;
                let shut_down = state.shut_down;
                return (state, shut_down);
            }
            // A spurious wake-up, or a claim another worker took first: wait on.
        }
    }

    /// Takes an idle worker off the idle count and wakes it (or ends its spin) to look at
    /// the queue. `state` must have an idle worker.
    fn claim_idle_worker(&self, mut state: MutexGuard<'_, State>) {
        state.idle -= 1;
        state.claimed += 1;
        self.claims.fetch_add(1, Ordering::Release);
        drop(state);
        self.work_available.notify_one();
    }

    /// Hands a value to a pool thread to drop. Used for bodies whose callers went away
    /// before the job was queued, or that the pool refused. With no thread left (after
    /// shutdown, say) it is dropped right here, on the caller's thread: starting a thread
    /// to drop one value would cost more than the risk it avoids.
    fn discard(&self, value: Discarded) {
        let mut state = self.lock();
        if state.threads == 0 {
            drop(state);
            drop(value);
            return;
        }
        state.discarded.push(value);
        if state.idle > 0 {
            self.claim_idle_worker(state);
        }
    }

    /// Stops taking jobs: callers waiting for room and later submitters get
    /// [`OffloadError::ShutDown`]; queued jobs still run, then the workers exit.
    pub(crate) fn begin_shutdown(&self) {
        self.lock().shut_down = true;
        self.claims.fetch_add(1, Ordering::Release); // ends every spin
        self.room.close();
        self.work_available.notify_all();
    }

    /// Waits until every worker has exited, then joins them; on time-out returns how many
    /// are still running.
    pub(crate) fn wait_for_threads(&self, deadline: Instant) -> Result<(), usize> {
        let mut state = self.lock();
        while state.threads > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(state.threads);
            }
            state = self
                .all_exited
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        for handle in handles.into_values() {
            // The worker has left its loop; this waits for its last instructions. It
            // cannot have panicked: every panic of a job is caught inside the loop.
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
