//! Offloading a closure without the macro: [`run`] and [`try_run`].

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use crate::error::OffloadError;
use crate::pool::{JobHandle, Pool, Started, WaitForRoom, answered, submit};
use crate::registry::{self, SitePool};

/// Runs `body` on the pool named `pool` and returns its result, or an error saying why it
/// could not run.
///
/// Nothing happens until the returned future is first polled: then the pool is looked up
/// and the job submitted. When the pool's queue is full the future waits, asynchronously and
/// first come first served, for room; the executor thread is never blocked.
///
/// - A panic in `body` is caught on the pool thread, which survives it, and resumed here
///   with its original payload when the future is polled.
/// - Dropping the future before the job starts means `body` never runs (it is dropped on a
///   pool thread, with everything it captured). Once started it runs to completion;
///   [`cancelled`](crate::cancelled) tells it that nobody waits for the result any more.
/// - The future is `Unpin`, as a tokio `JoinHandle` is: it can be polled through `&mut`
///   (in a `select!` loop, say) without pinning it first.
///
/// # Errors
///
/// - [`OffloadError::UnknownPool`] if no pool has that name;
/// - [`OffloadError::ShutDown`] if the pool was shut down before the job was queued;
/// - [`OffloadError::QueueFull`] if the pool's queue was full and the pool
///   [refuses jobs then](crate::PoolConfig::refuse_when_full) instead of making them wait;
/// - [`OffloadError::SpawnFailed`] if the pool had no thread and could not start one.
///
/// ```
/// # async fn demo() -> Result<(), async_offload::OffloadError> {
/// let size = async_offload::try_run("default", || std::fs::metadata("Cargo.toml").map(|m| m.len())).await?;
/// # let _ = size;
/// # Ok(())
/// # }
/// ```
pub fn try_run<F, T>(pool: &str, body: F) -> impl Future<Output = Result<T, OffloadError>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    TryRun::new(pool, body)
}

/// [`try_run`] for the `#[offload]` fn whose `site` this is: the pool named `pool` is
/// looked up at the fn's first call only.
pub fn try_run_at<F, T>(
    site: &'static SitePool,
    pool: &'static str,
    body: F,
) -> impl Future<Output = Result<T, OffloadError>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    TryRun::new(AtSite { site, pool }, body)
}

/// Runs `body` on the pool named `pool` and returns its result: [`try_run`] for the cases
/// where failing to run is a bug, as with `#[offload]`.
///
/// Like [`try_run`], it does nothing until the returned future is first polled (the call only
/// records where it was made, for the panic below), and its future is `Unpin`.
///
/// # Panics
///
/// With the message of the [`OffloadError`], followed by the location of the call to `run`
/// (`... (called at src/main.rs:10:5)`), if the job cannot run: no pool has that name, the
/// pool is shut down, its queue is full and it refuses jobs then, or it could not start a
/// thread. And, like a direct call, with the
/// payload of a panic of `body`.
///
/// ```
/// # async fn demo() {
/// let sum = async_offload::run("cpu", || (1..=100u64).sum::<u64>()).await;
/// assert_eq!(sum, 5050);
/// # }
/// ```
#[track_caller]
pub fn run<F, T>(pool: &str, body: F) -> impl Future<Output = T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // A future cannot see its caller: the location is taken here, at the call, and the
    // panic, raised at a later poll, quotes it.
    Run {
        call: TryRun::new(pool, body),
        caller: Location::caller(),
    }
}

/// Where a call finds its pool: the pool's name, or the site of an `#[offload]` fn.
trait FindPool {
    fn find(&self) -> Result<Arc<Pool>, OffloadError>;
}

impl FindPool for &str {
    #[inline]
    fn find(&self) -> Result<Arc<Pool>, OffloadError> {
        registry::lookup(self)
    }
}

/// The site of an `#[offload]` fn, and the name of its pool.
struct AtSite {
    site: &'static SitePool,
    pool: &'static str,
}

impl FindPool for AtSite {
    #[inline]
    fn find(&self) -> Result<Arc<Pool>, OffloadError> {
        self.site.lookup(self.pool)
    }
}

/// The future of [`try_run`]: one state machine for the lookup, the submission and the
/// wait for the outcome, written out so that the body moves into its job at the first
/// poll with no future nested around it, and the poll that queues the job does not poll
/// it again. `P` finds the pool.
struct TryRun<P, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    step: Step<P, F, T>,
}

/// Where a call stands.
enum Step<P, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// Not polled yet.
    Start { pool: P, body: F },
    /// Waiting in line for room in the queue.
    WaitingForRoom(WaitForRoom<F, T>),
    /// Queued or running: waiting for the outcome.
    Running(JobHandle<F, T>),
    /// The output has been returned.
    Done,
}

/// Nothing in a call is pinned: the body is moved out at the first poll, and the rest are
/// `Unpin`.
impl<P, F, T> Unpin for TryRun<P, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
}

impl<P, F, T> TryRun<P, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn new(pool: P, body: F) -> Self {
        TryRun {
            step: Step::Start { pool, body },
        }
    }
}

impl<P: FindPool, F, T> Future for TryRun<P, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<T, OffloadError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let queued = match &mut self.step {
            Step::Start { pool, .. } => {
                let pool = match pool.find() {
                    Ok(pool) => pool,
                    Err(error) => {
                        self.step = Step::Done;
                        return Poll::Ready(Err(error));
                    }
                };
                let Step::Start { body, .. } = std::mem::replace(&mut self.step, Step::Done) else {
                    unreachable!("the step was matched above");
                };
                match submit(pool, body, cx) {
                    Started::Settled(queued) => queued,
                    Started::InLine(wait) => {
                        self.step = Step::WaitingForRoom(wait);
                        return Poll::Pending;
                    }
                }
            }
            Step::WaitingForRoom(wait) => std::task::ready!(Pin::new(wait).poll(cx)),
            Step::Running(handle) => {
                let outcome = std::task::ready!(handle.poll_outcome(cx));
                // Done before a panic of the body goes on here: a call polled again after
                // it must not wait for an outcome that was taken.
                self.step = Step::Done;
                return Poll::Ready(answered(outcome));
            }
            Step::Done => panic!("an offloaded call polled after it returned"),
        };
        match queued {
            Ok(handle) => {
                // The job holds this poll's waker already (see `submit`).
                self.step = Step::Running(handle);
                Poll::Pending
            }
            Err(error) => {
                self.step = Step::Done;
                Poll::Ready(Err(error))
            }
        }
    }
}

/// The future of [`run`]: [`TryRun`], with a panic where it fails, quoting the call.
struct Run<'a, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    call: TryRun<&'a str, F, T>,
    caller: &'static Location<'static>,
}

impl<F, T> Future for Run<'_, F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match std::task::ready!(Pin::new(&mut self.call).poll(cx)) {
            Ok(value) => Poll::Ready(value),
            Err(error) => panic!("{error} (called at {})", self.caller),
        }
    }
}
