//! Offloading a closure without the macro: [`run`] and [`try_run`].

use std::panic::Location;

use crate::error::OffloadError;
use crate::registry;

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
pub async fn try_run<F, T>(pool: &str, body: F) -> Result<T, OffloadError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = registry::lookup(pool)?;
    let job = pool.submit(body).await?;
    Ok(job.await)
}

/// Runs `body` on the pool named `pool` and returns its result: [`try_run`] for the cases
/// where failing to run is a bug, as with `#[offload]`.
///
/// Like [`try_run`], it does nothing until the returned future is first polled; the call only
/// records where it was made, for the panic below.
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
    // The future of an `async fn` cannot see its caller: the location is taken here, at the
    // call, and the panic, raised at the first poll, quotes it.
    let caller = Location::caller();
    async move {
        match try_run(pool, body).await {
            Ok(value) => value,
            Err(error) => panic!("{error} (called at {caller})"),
        }
    }
}
