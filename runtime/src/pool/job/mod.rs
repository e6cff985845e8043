//! One offloaded call: the body waiting to run, its outcome, and the caller's handle.
//!
//! A [`Job`] is shared by the pool (which runs it) and the caller's [`JobHandle`] (which
//! awaits it) through one `Arc`: one allocation per call holds the body and then its
//! outcome (handed over without a lock, in `exchange.rs`), the caller's waker and the flag
//! that says the caller has gone.

use self::exchange::{Exchange, Running};
use super::Pool;
#[cfg(feature = "tokio")]
use super::caller_runtime::{CallerRuntime, ClockHold};
use super::clock::Nanos;
use super::metrics::Outcome;
use super::sync::{self, AtomicBool, Mutex, MutexGuard};
use crate::error::OffloadError;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

mod exchange;

/// What a pool thread runs: a job with its types erased.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the body, unless the caller has already gone, hands over the outcome, and
    /// records what happened in the metrics of `pool`.
    ///
    /// `now` is a clock reading the worker already has for this moment (the end of the job
    /// it ran just before), to save reading the clock again; the return value is the
    /// reading at the end of this job, if the pool keeps timings.
    fn run(self: Arc<Self>, pool: &Pool, now: Option<Nanos>) -> Option<Nanos>;

    /// Refuses the job instead of running it: its caller gets `error`, its body is dropped
    /// here. For a job queued in a pool that then could not start a thread for it.
    fn refuse_queued(self: Arc<Self>, pool: &Pool, error: OffloadError);
}

/// The outcome a refused job hands its caller instead of its body's: the reason, as a
/// payload no body can panic with (the type is private), which [`answered`] turns back
/// into the error.
struct Refusal(OffloadError);

/// A body, its outcome and its caller's task.
pub(crate) struct Job<F, T> {
    /// Set once the caller's handle is dropped. Read before the body starts (a job whose
    /// caller is gone never starts) and by [`cancelled`] while it runs.
    caller_gone: AtomicBool,
    /// The body, until a worker takes it; then what it returned or the payload it panicked
    /// with, until the caller takes it.
    exchange: Exchange<F, std::thread::Result<T>>,
    /// The task awaiting the outcome.
    awaiting: Mutex<Awaiting>,
    /// When the job was queued, for the pool's queue-wait timing (if it keeps timings).
    queued_at: Option<Nanos>,
    /// The span that was current where the job was submitted; entered on the pool thread
    /// while the body runs, so that what the body logs carries the caller's context.
    #[cfg(feature = "tracing")]
    caller_span: tracing::Span,
    /// The tokio runtime the job was submitted from, entered while the body runs.
    #[cfg(feature = "tokio")]
    caller_runtime: Option<CallerRuntime>,
    /// Set once a hold on the caller's paused clock is in `awaiting`: the caller's handle
    /// then drops it when it goes away, so that the caller's runtime, which waits for its
    /// `spawn_blocking` tasks when it is dropped, does not wait for this job.
    #[cfg(feature = "tokio")]
    clock_held: AtomicBool,
}

/// The task awaiting a job's outcome.
struct Awaiting {
    /// Its waker, until the outcome is in.
    waker: Option<Waker>,
    /// Keeps the caller's paused tokio clock still while the job is in flight; dropped
    /// once the caller has been woken with the outcome (or with the job, if it never ran).
    #[cfg(feature = "tokio")]
    clock_hold: Option<ClockHold>,
}

/// The caller's side of a job: a future of the body's return value.
///
/// Dropping it before the job starts means the job never runs; dropping it while the job
/// runs makes [`cancelled`] return `true` inside the body.
pub(crate) struct JobHandle<F, T> {
    job: Arc<Job<F, T>>,
}

/// A job just made: the pool's reference to it, and its caller's handle.
pub(crate) type NewJob<F, T> = (Arc<Job<F, T>>, JobHandle<F, T>);

impl<F, T> Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// A job for `body`, timed if `timed`, and the handle its caller awaits, whose task
    /// `waker` wakes. Called on the caller's thread.
    pub(crate) fn new(body: F, timed: bool, waker: &Waker) -> NewJob<F, T> {
        let job = Arc::new(Job {
            caller_gone: AtomicBool::new(false),
            exchange: Exchange::new(body),
            awaiting: Mutex::new(Awaiting {
                waker: Some(waker.clone()),
                #[cfg(feature = "tokio")]
                clock_hold: None,
            }),
            queued_at: timed.then(Nanos::now),
            // Without any subscriber ever set, every span is disabled: skip the lookup.
            #[cfg(feature = "tracing")]
            caller_span: if tracing::dispatcher::has_been_set() {
                tracing::Span::current()
            } else {
                tracing::Span::none()
            },
            #[cfg(feature = "tokio")]
            caller_runtime: CallerRuntime::capture(),
            #[cfg(feature = "tokio")]
            clock_held: AtomicBool::new(false),
        });
        (job.clone(), JobHandle { job })
    }
}

impl<F, T> Job<F, T> {
    /// The lock on the awaiting task. It is held only to move a value in or out, never
    /// while user code runs.
    fn awaiting(&self) -> MutexGuard<'_, Awaiting> {
        sync::lock(&self.awaiting)
    }
}

impl<F, T> Runnable for Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Arc<Self>, pool: &Pool, now: Option<Nanos>) -> Option<Nanos> {
        let metrics = pool.metrics();
        let (body, running) = self.exchange.start()?;
        if self.caller_gone.load(Ordering::Acquire) {
            // Cancelled before it started: the body never runs, and its captured arguments
            // are dropped here, on the pool thread.
            metrics.ended(Outcome::Cancelled);
            drop(body);
            return None;
        }
        let started = self
            .queued_at
            .map(|queued_at| metrics.started(queued_at, now.unwrap_or_else(Nanos::now)));
        // The context the body runs in is set up and left inside the catch, not only the
        // body: a panic while leaving it (tokio's, when the body forgot an `EnterGuard` of
        // its own; a subscriber's, on leaving a span) is then the job's outcome, as the
        // body's own would be, instead of unwinding past the job and leaving its caller
        // waiting for an outcome that never comes. Nothing after the catch unwinds before
        // the outcome is in.
        let run_body = || {
            panic::catch_unwind(AssertUnwindSafe(|| {
                #[cfg(feature = "tokio")]
                let _runtime = self.caller_runtime.as_ref().map(CallerRuntime::enter);
                #[cfg(feature = "tracing")]
                let _caller = self.caller_span.enter();
                #[cfg(feature = "tracing")]
                let _job = tracing::trace_span!("offload", pool = pool.name()).entered();
                body()
            }))
        };
        #[cfg(not(loom))]
        let outcome = CALLER_GONE.set(&self.caller_gone, run_body);
        // Loom runs the model's threads on one OS thread, which share its thread-locals: two
        // workers' bodies would set and reset the same one out of order, and leave it
        // pointing at a job that is gone. The models do not call `cancelled()`.
        #[cfg(loom)]
        let outcome = run_body();
        let ended = self
            .queued_at
            .zip(started)
            .map(|(queued_at, started)| metrics.finished(queued_at, started));
        if self.caller_gone.load(Ordering::Acquire) {
            // Nobody will take the outcome: drop it here rather than on the executor, in
            // case dropping it blocks (a connection, a file).
            metrics.ended(Outcome::Abandoned);
            drop(outcome);
            return ended;
        }
        metrics.ended(if outcome.is_ok() {
            Outcome::Completed
        } else {
            Outcome::Panicked
        });
        self.hand_over(running, outcome);
        ended
    }

    fn refuse_queued(self: Arc<Self>, pool: &Pool, error: OffloadError) {
        let Some((body, running)) = self.exchange.start() else {
            return; // taken already: by a worker, or back by its caller
        };
        pool.metrics()
            .ended(if self.caller_gone.load(Ordering::Acquire) {
                Outcome::Cancelled
            } else {
                Outcome::Refused
            });
        self.hand_over(running, Err(Box::new(Refusal(error))));
        drop(body);
    }
}

impl<F, T> Job<F, T> {
    /// Puts the outcome in and wakes the caller.
    fn hand_over(
        &self,
        running: Running<'_, F, std::thread::Result<T>>,
        outcome: std::thread::Result<T>,
    ) {
        // In before the waker is taken: a caller that put a new waker in after this takes
        // it finds the outcome in (see `poll_outcome`).
        running.finish(outcome);
        let mut awaiting = self.awaiting();
        let waker = awaiting.waker.take();
        #[cfg(feature = "tokio")]
        let clock_hold = awaiting.clock_hold.take();
        drop(awaiting);
        if let Some(waker) = waker {
            waker.wake();
        }
        // Only now may a paused clock move on: its runtime has the caller to run.
        #[cfg(feature = "tokio")]
        drop(clock_hold);
    }
}

impl<F, T> JobHandle<F, T> {
    /// Takes the body back, if no worker has taken it: for a job the pool refused.
    pub(crate) fn take_back_body(&self) -> Option<F> {
        self.job.exchange.take_back()
    }

    /// The caller's tokio clock, if it could be paused; read before the job is queued, for
    /// [`hold_clock_if_paused`](Self::hold_clock_if_paused).
    #[cfg(feature = "tokio")]
    pub(crate) fn caller_clock(&self) -> Option<tokio::time::Instant> {
        self.job.caller_runtime.as_ref()?.clock()
    }

    /// Once the job is queued: keeps the caller's tokio clock still while the job is in
    /// flight, if it is paused (it has not moved since `before`).
    #[cfg(feature = "tokio")]
    #[inline]
    pub(crate) fn hold_clock_if_paused(&self, before: Option<tokio::time::Instant>) {
        if let Some(runtime) = &self.job.caller_runtime {
            if runtime.clock_stood_still(before) {
                self.hold_clock(runtime);
            }
        }
    }

    /// Keeps the caller's paused tokio clock still while the job is in flight.
    #[cfg(feature = "tokio")]
    #[cold]
    fn hold_clock(&self, runtime: &CallerRuntime) {
        let hold = runtime.hold_clock();
        let mut awaiting = self.job.awaiting();
        // A job whose outcome is in has nothing to hold the clock for; otherwise the worker
        // puts it in and then takes this lock, and will find the hold and drop it after the
        // wake.
        if !self.job.exchange.is_done() {
            awaiting.clock_hold = Some(hold);
            self.job.clock_held.store(true, Ordering::Relaxed);
        }
    }
}

impl<F, T> JobHandle<F, T> {
    /// Makes `waker` the one the outcome wakes, unless it wakes the same task as the one
    /// there.
    pub(crate) fn update_waker(&self, waker: &Waker) {
        match &mut self.job.awaiting().waker {
            Some(current) if current.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// The outcome once it is in: what the body returned, or the payload it panicked with
    /// (to be passed to [`answered`]). Until then, the waker of `cx` is the one it wakes.
    ///
    /// The outcome is taken once: the caller must not poll again after `Ready`.
    pub(crate) fn poll_outcome(&mut self, cx: &Context<'_>) -> Poll<std::thread::Result<T>> {
        if let Some(outcome) = self.job.exchange.take_outcome() {
            return Poll::Ready(outcome);
        }
        self.update_waker(cx.waker());
        // The worker puts the outcome in before it takes the waker: if it took the one
        // there before this one, the outcome is in by now. (The other way round, a poll
        // between the two takes the outcome, and the worker then wakes a task that has it
        // already: a spurious wake-up, which every executor allows.)
        match self.job.exchange.take_outcome() {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }
}

/// What the body returned, or why the job was refused; if the body panicked on the pool
/// thread, goes on panicking here, in the awaiting task, with the original payload, as a
/// direct call would have.
pub(crate) fn answered<T>(outcome: std::thread::Result<T>) -> Result<T, OffloadError> {
    match outcome {
        Ok(value) => Ok(value),
        Err(payload) => match payload.downcast::<Refusal>() {
            Ok(refusal) => Err(refusal.0),
            Err(payload) => panic::resume_unwind(payload),
        },
    }
}

/// For the tests, which await a handle as `try_run` does.
#[cfg(test)]
impl<F, T> std::future::Future for JobHandle<F, T> {
    type Output = T;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.poll_outcome(cx)
            .map(|outcome| answered(outcome).expect("the test's job was not refused"))
    }
}

impl<F, T> Drop for JobHandle<F, T> {
    fn drop(&mut self) {
        self.job.caller_gone.store(true, Ordering::Release);
        // Nobody waits for the job any more: its caller's clock may move on.
        #[cfg(feature = "tokio")]
        if self.job.clock_held.load(Ordering::Relaxed) {
            let hold = self.job.awaiting().clock_hold.take();
            drop(hold);
        }
    }
}

#[cfg(not(loom))]
scoped_tls::scoped_thread_local! {
    /// The flag `caller_gone` of the job the current pool thread is running, while its body
    /// runs. A scoped thread-local: a pointer set for the time of a closure and reset after
    /// it (also when it unwinds), with no reference count to move and no destructor to
    /// register, where a thread-local `Option<Arc<_>>` of the job cost about 100
    /// instructions a job.
    static CALLER_GONE: AtomicBool
}

/// Whether the caller of the offloaded body running on this thread has gone away.
///
/// Once a job has started it runs to completion: a thread cannot be stopped from outside.
/// A long body can call `cancelled()` now and then and return early once it is `true`:
/// the caller dropped its future (a timeout fired, a `select!` took another branch, the task
/// was aborted), so nobody will see the result.
///
/// Returns `false` outside an offloaded body.
///
/// ```
/// # async fn demo() {
/// let total = async_offload::run("cpu", || {
///     let mut total = 0u64;
///     for chunk in 0..1_000u64 {
///         if async_offload::cancelled() {
///             break;
///         }
///         total += chunk;
///     }
///     total
/// })
/// .await;
/// # }
/// ```
#[must_use]
#[cfg(not(loom))]
pub fn cancelled() -> bool {
    CALLER_GONE.is_set() && CALLER_GONE.with(|caller_gone| caller_gone.load(Ordering::Acquire))
}

/// Always `false` under loom: see `Job::run`.
#[must_use]
#[cfg(loom)]
pub fn cancelled() -> bool {
    false
}
