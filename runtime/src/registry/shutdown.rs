//! Stopping the pools: all of them at the end of a program, or one.

use std::sync::Arc;
use std::time::Duration;

use super::{registry, sorted_names};
use crate::error::ShutdownError;
use crate::pool::Pool;
use crate::pool::clock::Nanos;
use crate::pool::starter::Starter;

/// Shuts every pool down: no new jobs are taken, jobs already queued or running finish,
/// and the pool threads are joined, waiting at most `timeout`.
///
/// Callers waiting for room in a full queue, and every call made afterwards, get
/// [`OffloadError::ShutDown`](crate::OffloadError::ShutDown) (`run` and `#[offload]` functions panic with it). It may be
/// called more than once. To stop one pool and leave the others running, see
/// [`shutdown_pool`].
///
/// # Errors
///
/// [`ShutdownError::TimedOut`] naming the pools whose threads were still running at the deadline;
/// they finish their jobs, and those queued behind them, in the background.
pub fn shutdown(timeout: Duration) -> Result<(), ShutdownError> {
    let deadline = deadline_after(timeout);
    let pools: Vec<Arc<Pool>> = {
        let mut pools = registry().write();
        // Pools installed after this would bring offloading back to life.
        pools.shut_down = true;
        pools.by_name.values().cloned().collect()
    };
    for pool in &pools {
        pool.begin_shutdown();
    }
    // In the registry's order: by name.
    let busy: Vec<(String, usize)> = pools
        .iter()
        .filter_map(|pool| {
            let threads = pool.wait_for_threads(deadline).err()?;
            Some((pool.name().to_owned(), threads))
        })
        .collect();
    if busy.is_empty() {
        // Every pool's threads are joined, none will be needed again: the starter's thread
        // goes too. (After a time-out it stays, for threads the pools still reserve.)
        Starter::global().stop();
        // The pools' final figures, published before the program exits.
        #[cfg(feature = "metrics")]
        crate::export::stop();
        return Ok(());
    }
    Err(ShutdownError::TimedOut {
        waited: timeout,
        busy,
    })
}

/// Shuts one pool down, as [`shutdown`] does every pool: it stops taking new jobs, lets
/// the jobs already queued or running finish, and joins its threads, waiting at most
/// `timeout`. The other pools go on as before.
///
/// The pool keeps its name: callers waiting for room in its queue, and every call made to
/// it afterwards, get [`OffloadError::ShutDown`](crate::OffloadError::ShutDown) (`run` and `#[offload]` functions panic
/// with it), and [`stats`](crate::stats) still reports it. It may be called more than once, and
/// [`shutdown`] may follow it.
///
/// ```
/// use std::time::Duration;
///
/// # fn main() -> Result<(), async_offload::ShutdownError> {
/// async_offload::shutdown_pool("cpu", Duration::from_secs(5))?;
/// let later = futures::executor::block_on(async_offload::try_run("cpu", || 1));
/// assert!(matches!(later, Err(async_offload::OffloadError::ShutDown { .. })));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// - [`ShutdownError::UnknownPool`] if no pool has that name (nothing is shut down);
/// - [`ShutdownError::TimedOut`] if the pool's threads were still running at the
///   deadline; they finish their jobs, and those queued behind them, in the background.
pub fn shutdown_pool(name: &str, timeout: Duration) -> Result<(), ShutdownError> {
    let deadline = deadline_after(timeout);
    let pool = {
        let pools = registry().read();
        match pools.by_name.get(name) {
            Some(pool) => Arc::clone(pool),
            None => {
                return Err(ShutdownError::UnknownPool {
                    requested: name.to_owned(),
                    available: sorted_names(&pools),
                });
            }
        }
    };
    // A shut-down built-in pool must not be replaced by `install`, as a used one may not.
    pool.mark_used();
    pool.begin_shutdown();
    pool.wait_for_threads(deadline)
        .map_err(|threads| ShutdownError::TimedOut {
            waited: timeout,
            busy: vec![(name.to_owned(), threads)],
        })
}

/// The moment `timeout` from now, or none for a timeout too long to add to the clock
/// (like `Duration::MAX`): no deadline, then.
fn deadline_after(timeout: Duration) -> Option<Nanos> {
    Nanos::now().checked_add(timeout)
}
