//! The line of callers waiting for room in a full queue, and submitting a job: a caller
//! queues its job at once when there is room, else waits in line, asynchronously and first
//! come first served, for the place a worker hands it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::job::{Job, JobHandle};
use super::metrics::Outcome;
use super::sync::{self, Mutex, MutexGuard};
use super::{Pool, State, wake_from_line};
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

/// What submitting a body did at once.
pub(crate) enum Started<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// Settled at once: the job was queued (its handle), or the pool turned it away (why).
    Settled(Result<JobHandle<F, T>, OffloadError>),
    /// The queue is full: the caller waits in line.
    InLine(WaitForRoom<F, T>),
}

/// Submits `body` to `pool` from a poll of the caller's task (`cx`): queues its job if the
/// queue has room, and otherwise puts the caller in line for room.
///
/// The job is made with the waker of `cx` in it: a caller that gets the handle need not
/// poll it in the same poll to be woken.
pub(crate) fn submit<F, T>(pool: Arc<Pool>, body: F, cx: &Context<'_>) -> Started<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // Made before the pool's lock is taken, to keep the allocation out of it.
    pool.metrics.submitted();
    let (job, handle) = Job::new(body, pool.metrics.enabled(), cx.waker());
    let mut state = pool.lock();
    if state.shut_down || state.has_room(pool.config.queue_capacity) {
        return Started::Settled(queue(&pool, state, job, handle));
    }
    if pool.config.refuse_when_full {
        drop(state);
        pool.refuse(&handle, Outcome::QueueFull);
        return Started::Settled(Err(OffloadError::QueueFull {
            pool: pool.name.to_string(),
            capacity: pool.config.queue_capacity,
        }));
    }
    let waiter = Arc::new(Waiter {
        turn: Mutex::new(Turn::Waiting(cx.waker().clone())),
    });
    state.waiting.push_back(Arc::clone(&waiter));
    drop(state);
    Started::InLine(WaitForRoom {
        pool,
        in_line: Some(Standing {
            job,
            handle,
            waiter,
        }),
    })
}

/// A caller in line for room in a full queue, with its job: a future of the job's handle,
/// once a worker hands it a place and the job is queued, or of the reason the pool turned
/// it away (it shut down meanwhile).
///
/// If the caller goes away while in line, its place (if it was handed one) goes to the
/// next caller, and the body (with the arguments it captured) is handed to the pool to be
/// dropped on a pool thread, as it would have been had it run.
pub(crate) struct WaitForRoom<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool: Arc<Pool>,
    /// Until the wait ends.
    in_line: Option<Standing<F, T>>,
}

/// A caller standing in line: its job, its handle, and its place.
struct Standing<F, T> {
    job: Arc<Job<F, T>>,
    handle: JobHandle<F, T>,
    waiter: Arc<Waiter>,
}

/// Nothing in a `WaitForRoom` is pinned: its fields are handles.
impl<F, T> Unpin for WaitForRoom<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
}

impl<F, T> Future for WaitForRoom<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<JobHandle<F, T>, OffloadError>;

    /// Waits for the caller's turn, then queues the job in the place it was handed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(Standing { waiter, .. }) = &self.in_line else {
            panic!("a submission polled after it completed");
        };
        let mut turn = sync::lock(&waiter.turn);
        match &mut *turn {
            Turn::Waiting(waker) => {
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
                Poll::Pending
            }
            Turn::Refused => {
                drop(turn);
                let Standing { handle, .. } = self.in_line.take().expect("matched above");
                self.pool.refuse(&handle, Outcome::Refused);
                Poll::Ready(Err(self.pool.shut_down_error()))
            }
            Turn::Admitted => {
                drop(turn);
                let Standing { job, handle, .. } = self.in_line.take().expect("matched above");
                // The task may have moved since the job was made.
                handle.update_waker(cx.waker());
                let pool = &self.pool;
                let mut state = pool.lock();
                // The reserved place is this job's now (or, after a shutdown, free).
                state.reserved -= 1;
                #[cfg(loom)]
                if state.shut_down {
                    state.loom_refused_after_admission += 1;
                }
                Poll::Ready(queue(pool, state, job, handle))
            }
            Turn::Gone => unreachable!("a caller in line is gone only once dropped"),
        }
    }
}

/// Queues `job` in a place it may take (under the pool's lock, `state`) and makes sure a
/// worker will run it (waking an idle one, or asking the starter for one: never starting
/// a thread here); returns its caller's `handle`, or why the pool turned it away. A job
/// that a thread then cannot be started for is refused through its handle.
#[inline]
fn queue<F, T>(
    pool: &Arc<Pool>,
    mut state: MutexGuard<'_, State>,
    job: Arc<Job<F, T>>,
    handle: JobHandle<F, T>,
) -> Result<JobHandle<F, T>, OffloadError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if state.shut_down {
        drop(state);
        pool.refuse(&handle, Outcome::Refused);
        return Err(pool.shut_down_error());
    }
    #[cfg(feature = "tokio")]
    let clock = handle.caller_clock();
    state.queue.push_back(job);
    state.growth.pushed += 1;
    let signal = state.assign_worker(&pool.config, pool.starter.cores());
    drop(state);
    pool.send(signal);
    #[cfg(feature = "tokio")]
    handle.hold_clock_if_paused(clock);
    Ok(handle)
}

impl<F, T> Drop for WaitForRoom<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn drop(&mut self) {
        let Some(Standing { handle, waiter, .. }) = self.in_line.take() else {
            return;
        };
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
        self.pool.metrics.ended(Outcome::Cancelled);
        if let Some(body) = handle.take_back_body() {
            self.pool.discard(Box::new(body));
        }
    }
}

impl Pool {
    /// The submission `try_run` makes, for the tests (the loom models among them) of a pool
    /// at hand: at the first poll, queues `body` or waits in line, asynchronously, while the
    /// queue is full; resolves to the handle that resolves to the body's result.
    #[cfg(test)]
    pub(crate) fn submit<F, T>(
        self: &Arc<Self>,
        body: F,
    ) -> impl Future<Output = Result<JobHandle<F, T>, OffloadError>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mut unsubmitted = Some((Arc::clone(self), body));
        let mut in_line = None;
        std::future::poll_fn(move |cx| {
            if let Some((pool, body)) = unsubmitted.take() {
                match submit(pool, body, cx) {
                    Started::Settled(queued) => return Poll::Ready(queued),
                    Started::InLine(wait) => {
                        in_line = Some(wait);
                        return Poll::Pending;
                    }
                }
            }
            match &mut in_line {
                Some(wait) => Pin::new(wait).poll(cx),
                None => panic!("a submission polled after it completed"),
            }
        })
    }
}
