//! One named pool: a bounded queue of jobs and the threads that run them.
//!
//! The design follows the usual shape of a blocking pool: one `Mutex<State>` with two
//! condition variables, and no job ever runs (or is dropped) while the lock is held.
//! Threads start on demand, up to the configured number; those of an elastic pool exit
//! after their keep-alive without work. A caller facing a full queue waits in line,
//! asynchronously and first come first served, without blocking its executor thread: the
//! worker that takes a job off the queue hands the free place to the first caller in line.
//!
//! Everything the protocol synchronizes on comes from [`crate::sync`], so that the loom
//! models in `loom_models.rs` check it.

use std::any::Any;
use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::job::{Job, JobHandle, NewJob, Runnable};
use crate::metrics::{Gauges, Metrics, Outcome, PoolStats};
use crate::sync::{self, AtomicU64, Condvar, Mutex, MutexGuard, thread};

#[cfg(all(test, loom))]
#[path = "loom_models.rs"]
mod loom_models;

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
    handles: BTreeMap<usize, thread::JoinHandle<()>>,
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
    fn hand_off_place(&mut self) -> Option<Waker> {
        while let Some(waiter) = self.waiting.pop_front() {
            if let Some(waker) = waiter.admit() {
                self.reserved += 1;
                return Some(waker);
            }
            self.gone_from_line -= 1;
        }
        None
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

/// A caller in line for room in a full queue.
struct Waiter {
    /// Where the caller stands. Locked only inside the pool's lock or on its own, never the
    /// other way round.
    turn: Mutex<Turn>,
}

/// Where a caller in line stands.
enum Turn {
    /// Still in line; the waker of the caller's task.
    Waiting(Waker),
    /// A place in the queue is reserved for the caller's job.
    Admitted,
    /// The pool shut down while the caller was in line.
    Refused,
    /// The caller went away; its entry is skipped.
    Gone,
}

impl Waiter {
    /// Reserves a place for the caller, if it is still in line; returns its waker.
    fn admit(&self) -> Option<Waker> {
        self.end_wait(Turn::Admitted)
    }

    /// Tells the caller the pool shut down, if it is still in line; returns its waker.
    fn refuse(&self) -> Option<Waker> {
        self.end_wait(Turn::Refused)
    }

    fn end_wait(&self, next: Turn) -> Option<Waker> {
        let mut turn = sync::lock(&self.turn);
        match std::mem::replace(&mut *turn, next) {
            Turn::Waiting(waker) => Some(waker),
            gone => {
                *turn = gone;
                None
            }
        }
    }

    /// Marks the caller gone and returns where it stood: in line, admitted (a place it must
    /// pass on), or refused. Called under the pool's lock.
    fn leave(&self) -> Turn {
        let mut turn = sync::lock(&self.turn);
        std::mem::replace(&mut *turn, Turn::Gone)
    }

    fn is_gone(&self) -> bool {
        matches!(*sync::lock(&self.turn), Turn::Gone)
    }
}

/// A job that has not been queued yet, while its caller waits for room.
///
/// If the caller goes away first, the body (and the arguments it captured) is handed to
/// the pool to be dropped on a pool thread, as it would have been had it run.
struct Unqueued<'a, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool: &'a Arc<Pool>,
    /// The job and its caller's handle, until the job is queued or turned away.
    job: Option<NewJob<F, T>>,
    /// The caller's place in line, while it waits for room.
    waiter: Option<Arc<Waiter>>,
}

impl<F, T> Unqueued<'_, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// Queues the job if the pool has room (or a place was reserved for it), and otherwise
    /// waits in line for room.
    fn poll_queue(&mut self, cx: &Context<'_>) -> Poll<Result<JobHandle<F, T>, OffloadError>> {
        let pool = self.pool;
        let mut state = match &self.waiter {
            None => {
                let mut state = pool.lock();
                if !state.shut_down && !state.has_room(pool.config.queue_capacity) {
                    let waiter = Arc::new(Waiter {
                        turn: Mutex::new(Turn::Waiting(cx.waker().clone())),
                    });
                    state.waiting.push_back(Arc::clone(&waiter));
                    self.waiter = Some(waiter);
                    return Poll::Pending;
                }
                state
            }
            Some(waiter) => {
                let mut turn = sync::lock(&waiter.turn);
                match &mut *turn {
                    Turn::Waiting(waker) => {
                        if !waker.will_wake(cx.waker()) {
                            waker.clone_from(cx.waker());
                        }
                        return Poll::Pending;
                    }
                    Turn::Refused => {
                        drop(turn);
                        self.waiter = None;
                        return Poll::Ready(Err(self.turn_away(pool.shut_down_error())));
                    }
                    Turn::Admitted => {
                        drop(turn);
                        self.waiter = None;
                        let mut state = pool.lock();
                        // The reserved place is this job's now (or, after a shutdown, free).
                        state.reserved -= 1;
                        #[cfg(loom)]
                        if state.shut_down {
                            state.loom_refused_after_admission += 1;
                        }
                        state
                    }
                    Turn::Gone => unreachable!("a caller in line is gone only once dropped"),
                }
            }
        };
        if state.shut_down {
            drop(state);
            return Poll::Ready(Err(self.turn_away(pool.shut_down_error())));
        }
        let (job, handle) = self.job.take().expect("a job is queued once");
        state.queue.push_back(job);
        match pool.start_work(state) {
            Ok(()) => Poll::Ready(Ok(handle)),
            Err(error) => {
                pool.refuse(&handle);
                Poll::Ready(Err(error))
            }
        }
    }

    /// The pool turned the job away before it was queued.
    fn turn_away(&mut self, error: OffloadError) -> OffloadError {
        if let Some((_, handle)) = self.job.take() {
            self.pool.refuse(&handle);
        }
        error
    }
}

impl<F, T> Drop for Unqueued<'_, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn drop(&mut self) {
        let Some((_, handle)) = self.job.take() else {
            return;
        };
        if let Some(waiter) = self.waiter.take() {
            let mut state = self.pool.lock();
            let next = match waiter.leave() {
                Turn::Waiting(_) => {
                    state.left_the_line();
                    None
                }
                Turn::Admitted => {
                    // A place was reserved for this job: it goes to the next caller in line.
                    state.reserved -= 1;
                    #[cfg(loom)]
                    {
                        state.loom_places_passed_on += 1;
                    }
                    state.hand_off_place()
                }
                // Refused by a shutdown, which took it out of the line; never twice gone.
                Turn::Refused | Turn::Gone => None,
            };
            drop(state);
            wake_from_line(next);
        }
        self.pool.metrics.ended(Outcome::Cancelled);
        if let Some(body) = handle.take_body() {
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
                next_thread_id: 0,
                handles: BTreeMap::new(),
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
    fn lock(&self) -> MutexGuard<'_, State> {
        sync::lock(&self.state)
    }

    /// Queues `body`, waiting asynchronously in line while the queue is full, and returns
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
            job: Some(Job::new(body, self.metrics.enabled())),
            waiter: None,
        };
        poll_fn(|cx| unqueued.poll_queue(cx)).await
    }

    /// Makes sure a thread will take the job just queued: an idle one is woken, or a new one
    /// started while the pool is below its thread count.
    fn start_work(self: &Arc<Self>, mut state: MutexGuard<'_, State>) -> Result<(), OffloadError> {
        if state.idle > 0 {
            self.claim_idle_worker(state);
            return Ok(());
        }
        if state.threads < self.config.threads {
            // Spawning under the lock keeps `threads` truthful; it happens only while the
            // pool grows, not once it has the threads its load needs.
            if let Err(error) = self.spawn_worker(&mut state) {
                if state.threads == 0 {
                    // Nobody would ever run the job: take it back, pass its place on to the
                    // next caller in line (who may find a thread), and tell the caller.
                    state.queue.pop_back();
                    let next = state.hand_off_place();
                    drop(state);
                    wake_from_line(next);
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
                let admitted = state.hand_off_place();
                drop(state);
                wake_from_line(admitted);
                // `run` catches the body's panic; `contain` one from dropping a cancelled
                // job's arguments or an abandoned result.
                let now = clock.take();
                clock = contain(move || job.run(self, now)).flatten();
                state = self.lock();
                state.running -= 1;
                continue;
            }
            let now = clock.take();
            if state.shut_down {
                break;
            }
            let keep_waiting;
            (state, keep_waiting) = self.wait_for_work(state, now);
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
    /// it first spins that long, watching for a claim, before it sleeps. `now` is a clock
    /// reading the worker already has for this moment, if any.
    fn wait_for_work<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        now: Option<Instant>,
    ) -> (MutexGuard<'a, State>, bool) {
        state.idle += 1;
        if !self.config.spin.is_zero() {
            // At most `PoolConfig::MAX_SPIN`: no overflow. (Not modelled under loom, whose
            // executions must not depend on the clock.)
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
        let deadline = self.config.keep_alive.and_then(|idle| {
            let idle_since = if self.config.spin.is_zero() {
                now.unwrap_or_else(Instant::now)
            } else {
                Instant::now() // after the spin
            };
            idle_since.checked_add(idle)
        });
        loop {
            let timed_out;
            (state, timed_out) =
                sync::wait_until(&self.work_available, &self.state, state, deadline);
            if state.claimed > 0 {
                // A submitter has already taken this worker off the idle count.
                state.claimed -= 1;
                return (state, true);
            }
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

    /// Counts a job the pool turned away and drops its body as a cancelled one's is.
    fn refuse<F: Send + 'static, T>(self: &Arc<Self>, handle: &JobHandle<F, T>) {
        self.metrics.ended(Outcome::Refused);
        if let Some(body) = handle.take_body() {
            self.discard(Box::new(body));
        }
    }

    /// Hands a value to a pool thread to drop. Used for bodies whose callers went away
    /// before the job was queued, or that the pool refused. With no thread left (all of an
    /// elastic pool's exited), one is started for it; only a pool that is shut down, or that
    /// cannot start a thread, drops it right here, on the caller's thread.
    fn discard(self: &Arc<Self>, value: Discarded) {
        let mut state = self.lock();
        if state.threads == 0 && (state.shut_down || self.spawn_worker(&mut state).is_err()) {
            drop(state);
            drop(value);
            return;
        }
        state.discarded.push(value);
        if state.idle > 0 {
            self.claim_idle_worker(state);
        }
    }

    /// Stops taking jobs: callers in line for room and later submitters get
    /// [`OffloadError::ShutDown`]; queued jobs still run, then the workers exit.
    pub(crate) fn begin_shutdown(&self) {
        let refused: Vec<Waker> = {
            let mut state = self.lock();
            state.shut_down = true;
            let waiting = std::mem::take(&mut state.waiting);
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

    /// Waits until every worker has exited (until `deadline`, if there is one), then joins
    /// them; on time-out returns how many are still running.
    pub(crate) fn wait_for_threads(&self, deadline: Option<Instant>) -> Result<(), usize> {
        let mut state = self.lock();
        while state.threads > 0 {
            let timed_out;
            (state, timed_out) = sync::wait_until(&self.all_exited, &self.state, state, deadline);
            if timed_out && state.threads > 0 {
                return Err(state.threads);
            }
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

/// Wakes a caller whose wait in line just ended (admitted, or refused by a shutdown). Its
/// waker belongs to another task's executor: a panic in it must not unwind into the worker,
/// the caller or the shutdown that ended the wait.
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
