//! The caller's tokio runtime, inside the body: what makes an offloaded call behave like
//! `tokio::task::spawn_blocking` for code written for tokio (the `tokio` feature).
//!
//! - **Its context.** A job submitted from inside a tokio runtime runs with that runtime's
//!   handle entered, so that `Handle::current()`, `tokio::spawn`, timers and `tokio::fs`
//!   work in the body. Submitted from any other executor, there is no handle and nothing
//!   changes.
//! - **Its paused clock.** In a test with tokio's clock paused (`start_paused = true`), a
//!   runtime with nothing to run advances the clock to its next timer at once. tokio keeps
//!   it from doing so while a `spawn_blocking` job is in flight, through a switch of its own
//!   that it does not publish. The same effect with its public API: while an offloaded job
//!   is in flight, a `spawn_blocking` task of the caller's runtime waits for it (tokio's
//!   switch is on while that task exists), and it ends once the caller has been woken
//!   with the outcome, or once the job is dropped without one. So the clock stands still
//!   while the body runs, and moves on as soon as its caller can see the result.
//!
//! Only a current-thread runtime can pause its clock. A clock is taken to be paused when
//! it reads the same before and after the job is queued (queueing takes far longer than a
//! tick of a running clock): two clock reads per job submitted from a current-thread
//! runtime, none from any other.

use std::sync::mpsc;

use tokio::runtime::{EnterGuard, Handle, RuntimeFlavor};
use tokio::time::Instant;

/// The tokio runtime a job was submitted from.
pub(super) struct CallerRuntime {
    handle: Handle,
}

/// Keeps a paused tokio clock from advancing on its own while it lives.
pub(super) struct ClockHold {
    /// Dropped to let the waiting `spawn_blocking` task end. Boxed, to keep every job's
    /// place for a hold one pointer wide: only jobs under a paused clock make one.
    _release: Box<mpsc::Sender<()>>,
}

impl CallerRuntime {
    /// The runtime of the calling thread, if it runs inside one.
    #[inline]
    pub(super) fn capture() -> Option<Self> {
        let handle = Handle::try_current().ok()?;
        Some(CallerRuntime { handle })
    }

    /// Enters the runtime on the pool thread, for the time the body runs.
    #[inline]
    pub(super) fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's clock now, if it could be paused (only a current-thread runtime's
    /// can): the first of the two readings that tell whether it is. Read on the caller's
    /// thread, inside its runtime.
    #[inline]
    pub(super) fn clock(&self) -> Option<Instant> {
        (self.handle.runtime_flavor() == RuntimeFlavor::CurrentThread).then(Instant::now)
    }

    /// Whether the runtime's clock has not moved since `before` (read on the caller's
    /// thread before the job was queued, as this is): then it is paused.
    #[inline]
    pub(super) fn clock_stood_still(&self, before: Option<Instant>) -> bool {
        before.is_some_and(|before| Instant::now() == before)
    }

    /// A hold on the runtime's paused clock.
    pub(super) fn hold_clock(&self) -> ClockHold {
        let (release, released) = mpsc::channel::<()>();
        // While this task exists, tokio does not advance the paused clock. It waits on a
        // thread of tokio's blocking pool until the hold is dropped (`recv` then fails).
        drop(self.handle.spawn_blocking(move || released.recv()));
        ClockHold {
            _release: Box::new(release),
        }
    }
}
