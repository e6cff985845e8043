//! The line of callers waiting for room in a full queue, and submitting a job: a caller
//! queues its job at once when there is room, else waits in line, asynchronously and first
//! come first served, for the place a worker hands it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::job::{Job, JobHandle, NewJob};
use super::metrics::Outcome;
use super::sync::{self, Mutex};
use super::{Pool, wake_from_line};
use crate::error::OffloadError;

/// A caller in line for room in a full queue.
pub(super) struct Waiter {
    /// Where the caller stands. Locked only inside the pool's lock or on its own, never the
    /// other way round.
    turn: Mutex<Turn>,
}

/// Where a caller in line stands.
pub(super) enum Turn {
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
    pub(super) fn admit(&self) -> Option<Waker> {
        self.end_wait(Turn::Admitted)
    }

    /// Tells the caller the pool shut down, if it is still in line; returns its waker.
    pub(super) fn refuse(&self) -> Option<Waker> {
        self.end_wait(Turn::Refused)
    }

    pub(super) fn end_wait(&self, next: Turn) -> Option<Waker> {
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
    pub(super) fn leave(&self) -> Turn {
        let mut turn = sync::lock(&self.turn);
        std::mem::replace(&mut *turn, Turn::Gone)
    }

    pub(super) fn is_gone(&self) -> bool {
        matches!(*sync::lock(&self.turn), Turn::Gone)
    }
}

/// Submitting a body to a pool: a future of the handle of its job, once the job is queued,
/// or of the reason the pool turned it away.
///
/// The job is made at the first poll, with the waker of that poll in it: a caller that
/// gets the handle from a poll need not poll the handle in the same poll to be woken.
/// While the queue is full, the caller waits in line for room. If the caller goes away
/// before its job is queued, the body (and the arguments it captured) is handed to the pool
/// to be dropped on a pool thread, as it would have been had it run.
pub(crate) struct Submit<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool: Arc<Pool>,
    /// The body, until the first poll makes the job.
    body: Option<F>,
    /// The job and its caller's handle, from the first poll until the job is queued or
    /// turned away.
    job: Option<NewJob<F, T>>,
    /// The caller's place in line, while it waits for room.
    waiter: Option<Arc<Waiter>>,
}

/// Nothing in a `Submit` is pinned: the body is moved into its job at the first poll, and
/// the rest are handles.
impl<F, T> Unpin for Submit<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
}

impl<F, T> Future for Submit<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<JobHandle<F, T>, OffloadError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_queue(cx)
    }
}

impl<F, T> Submit<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// Submits `body` to `pool`, at the first poll.
    pub(crate) fn new(pool: Arc<Pool>, body: F) -> Self {
        Submit {
            pool,
            body: Some(body),
            job: None,
            waiter: None,
        }
    }

    /// Queues the job if the pool has room (or a place was reserved for it), and otherwise
    /// waits in line for room.
    fn poll_queue(&mut self, cx: &Context<'_>) -> Poll<Result<JobHandle<F, T>, OffloadError>> {
        let pool = &self.pool;
        let mut state = match &self.waiter {
            None => {
                // Out of line, the body is here only before the first poll: after it, the
                // job was queued, turned away or put in line.
                let Some(body) = self.body.take() else {
                    panic!("a submission polled after it completed");
                };
                // Made before the pool's lock is taken, to keep the allocation out of it.
                pool.metrics.submitted();
                self.job = Some(Job::new(body, pool.metrics.enabled(), cx.waker()));
                let mut state = pool.lock();
                if !state.shut_down && !state.has_room(pool.config.queue_capacity) {
                    if pool.config.refuse_when_full {
                        drop(state);
                        let full = OffloadError::QueueFull {
                            pool: pool.name.to_string(),
                            capacity: pool.config.queue_capacity,
                        };
                        return Poll::Ready(Err(self.turn_away(full, Outcome::QueueFull)));
                    }
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
                        return Poll::Ready(Err(
                            self.turn_away(pool.shut_down_error(), Outcome::Refused)
                        ));
                    }
                    Turn::Admitted => {
                        drop(turn);
                        self.waiter = None;
                        if let Some((_, handle)) = &self.job {
                            // The task may have moved since the job was made.
                            handle.update_waker(cx.waker());
                        }
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
            return Poll::Ready(Err(self.turn_away(pool.shut_down_error(), Outcome::Refused)));
        }
        let (job, handle) = self.job.take().expect("a job is queued once");
        #[cfg(feature = "tokio")]
        let clock = handle.caller_clock();
        state.queue.push_back(job);
        match pool.start_work(state) {
            Ok(()) => {
                #[cfg(feature = "tokio")]
                handle.hold_clock_if_paused(clock);
                Poll::Ready(Ok(handle))
            }
            Err(error) => {
                pool.refuse(&handle, Outcome::Refused);
                Poll::Ready(Err(error))
            }
        }
    }

    /// The pool turned the job away before it was queued; `outcome` counts it.
    pub(super) fn turn_away(&mut self, error: OffloadError, outcome: Outcome) -> OffloadError {
        if let Some((_, handle)) = self.job.take() {
            self.pool.refuse(&handle, outcome);
        }
        error
    }
}

impl<F, T> Drop for Submit<F, T>
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
    /// The submission `try_run` makes, for the tests (the loom models among them) of a pool
    /// at hand: queues `body` at the first poll, waiting asynchronously in line while the
    /// queue is full, and returns the handle that resolves to its result.
    #[cfg(test)]
    pub(crate) fn submit<F, T>(self: &Arc<Self>, body: F) -> Submit<F, T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Submit::new(Arc::clone(self), body)
    }
}
