//! The locks, condition variables, atomics and threads of the pool protocol: std's, or
//! under `--cfg loom` loom's, whose models (`loom_models.rs`) then explore every
//! interleaving of the pool's threads.
//!
//! Only what the protocol synchronizes on comes from here. Counters that synchronize
//! nothing (the metrics) stay std atomics, so that loom does not explore their orderings.

use std::sync::PoisonError;

use super::clock::Nanos;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8};
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread;

/// std's `UnsafeCell` with the API of loom's, whose every access loom checks is ordered
/// after the one before.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the value; `f` is responsible for the access being
    /// exclusive.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Locks `mutex`. The runtime's locks are never held while user code runs, so a poisoned
/// one (which would take a bug in the runtime) still guards consistent data.
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` with the lock of `mutex` (held as `guard`) until notified or, with
/// a deadline, until it passes. Returns the guard and whether the deadline has passed.
/// Like any condition variable wait it may also return spuriously: callers re-check.
///
/// `now` is a clock reading the caller already has for this moment, if any: the time left
/// is counted from it instead of from a new reading.
pub(crate) fn wait_until<'a, T>(
    condvar: &Condvar,
    mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    deadline: Option<Nanos>,
    now: Option<Nanos>,
) -> (MutexGuard<'a, T>, bool) {
    match deadline {
        None => (
            condvar.wait(guard).unwrap_or_else(PoisonError::into_inner),
            false,
        ),
        Some(deadline) => wait_with_deadline(condvar, mutex, guard, deadline, now),
    }
}

#[cfg(not(loom))]
fn wait_with_deadline<'a, T>(
    condvar: &Condvar,
    _mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    deadline: Nanos,
    now: Option<Nanos>,
) -> (MutexGuard<'a, T>, bool) {
    let left =
        std::time::Duration::from_nanos(deadline.nanos_since(now.unwrap_or_else(Nanos::now)));
    if left.is_zero() {
        return (guard, true);
    }
    let (guard, result) = condvar
        .wait_timeout(guard, left)
        .unwrap_or_else(PoisonError::into_inner);
    // No second clock reading: a wake-up just past the deadline that is not reported as a
    // time-out makes the caller wait again, and that wait sees the deadline gone.
    (guard, result.timed_out())
}

/// Under loom a deadline passes at once: the lock is let go for as long as loom chooses
/// to run other threads, then the wait reports a time-out. Every order of a time-out
/// against the other threads' steps is explored that way (loom has no clock, and its
/// timed wait never times out).
#[cfg(loom)]
fn wait_with_deadline<'a, T>(
    _condvar: &Condvar,
    mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    _deadline: Nanos,
    _now: Option<Nanos>,
) -> (MutexGuard<'a, T>, bool) {
    drop(guard);
    thread::yield_now();
    (lock(mutex), true)
}
