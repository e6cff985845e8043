//! The body of a job and then its outcome, handed between the caller and a worker through
//! one atomic state word, without a lock: the job's hot path.
//!
//! Each value crosses threads once, and the state says who may touch it:
//!
//! ```text
//! HAS_BODY ──(a worker takes the body)──▶ RUNNING ──(it puts the outcome in)──▶ HAS_OUTCOME
//!     │                                                                              │
//!     └──(the caller takes the body back)──▶ EMPTY ◀──(the caller takes the outcome)─┘
//! ```
//!
//! Only the one thread that moves the state out of `HAS_BODY` touches the body, and only the
//! one that moves it out of `HAS_OUTCOME` touches the outcome; the worker that took the
//! body holds a [`Running`] token, the only way to put the outcome in. That is all the
//! `unsafe` of this file relies on, and the loom models check it: under loom the cells are
//! loom's, which fail a model on any access not ordered after the previous one.

// The cells are read and written through raw pointers: the state word, not the borrow
// checker, makes each access exclusive.
#![allow(unsafe_code)]

use std::sync::atomic::Ordering;

use super::super::sync::{AtomicU8, UnsafeCell};

/// The body is in, nobody has taken it.
const HAS_BODY: u8 = 0;
/// A worker took the body and runs it.
const RUNNING: u8 = 1;
/// The outcome is in, nobody has taken it.
const HAS_OUTCOME: u8 = 2;
/// Neither is in: the body was taken back, or the outcome taken.
const EMPTY: u8 = 3;

/// A body of type `F` for a worker, and the outcome of type `T` it hands back.
pub(super) struct Exchange<F, T> {
    state: AtomicU8,
    /// Touched only by the thread that moves `state` out of `HAS_BODY`.
    body: UnsafeCell<Option<F>>,
    /// Written only by the holder of the [`Running`] token, before `state` becomes
    /// `HAS_OUTCOME`; read only by the thread that moves it out of `HAS_OUTCOME`.
    outcome: UnsafeCell<Option<T>>,
}

// SAFETY: the cells are only reached through `take_body`, `Running::finish` and
// `take_outcome`, and each gives one thread at a time the value it holds, as the module
// docs say: sharing an exchange moves an `F` and a `T` between threads, hence `Send`.
unsafe impl<F: Send, T: Send> Sync for Exchange<F, T> {}

/// The right to put the outcome in: held by the one worker that took the body.
pub(super) struct Running<'a, F, T> {
    exchange: &'a Exchange<F, T>,
}

impl<F, T> Exchange<F, T> {
    pub(super) fn new(body: F) -> Self {
        Exchange {
            state: AtomicU8::new(HAS_BODY),
            body: UnsafeCell::new(Some(body)),
            outcome: UnsafeCell::new(None),
        }
    }

    /// Takes the body for a worker to run, with the token to hand the outcome back;
    /// `None` if it was taken already.
    #[inline]
    pub(super) fn start(&self) -> Option<(F, Running<'_, F, T>)> {
        let body = self.take_body(RUNNING)?;
        Some((body, Running { exchange: self }))
    }

    /// Takes the body back, for a job that never ran: the pool turned it away. `None` if it
    /// was taken already.
    pub(super) fn take_back(&self) -> Option<F> {
        self.take_body(EMPTY)
    }

    /// Takes the body, moving the state out of `HAS_BODY` to `next`.
    #[inline]
    fn take_body(&self, next: u8) -> Option<F> {
        // Acquire, though it pairs with no release of this word (which starts as
        // `HAS_BODY` and is never stored back to it): the body was written when the
        // exchange was made, and what shared the job since makes that write visible to
        // this thread: the pool's lock, under which a worker takes a job off the queue, or
        // the caller's own thread, for a body it takes back. The acquire keeps the body's
        // read after the claim without resting on more than that; it costs nothing on
        // x86.
        self.state
            .compare_exchange(HAS_BODY, next, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SAFETY: this thread moved the state out of `HAS_BODY`, which happens once: no
        // other thread touches the body, now or later.
        self.body.with_mut(|body| unsafe { (*body).take() })
    }

    /// Takes the outcome, if it is in. It is taken once: `None` afterwards.
    #[inline]
    pub(super) fn take_outcome(&self) -> Option<T> {
        // Acquire: pairs with the release in `finish`, after the outcome was written.
        self.state
            .compare_exchange(HAS_OUTCOME, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SAFETY: this thread moved the state out of `HAS_OUTCOME`, which happens once, after
        // the worker's last access: no other thread touches the outcome, now or later.
        self.outcome
            .with_mut(|outcome| unsafe { (*outcome).take() })
    }
}

impl<F, T> Exchange<F, T> {
    /// Whether the worker is done with the exchange: the outcome is in (or taken already),
    /// or the body was taken back.
    #[cfg(feature = "tokio")]
    pub(super) fn is_done(&self) -> bool {
        matches!(self.state.load(Ordering::Acquire), HAS_OUTCOME | EMPTY)
    }
}

impl<F, T> Running<'_, F, T> {
    /// Puts the outcome in, for the caller to take.
    #[inline]
    pub(super) fn finish(self, outcome: T) {
        let exchange = self.exchange;
        // SAFETY: the token is made once per exchange, by the `take_body` that moved the
        // state to `RUNNING`, and this consumes it: until the release below, no other
        // thread touches the outcome.
        exchange
            .outcome
            .with_mut(|slot| unsafe { *slot = Some(outcome) });
        // Release: the caller that sees `HAS_OUTCOME` sees the outcome written.
        exchange.state.store(HAS_OUTCOME, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Exchange;

    #[test]
    fn the_body_goes_to_one_taker_and_the_outcome_comes_back_once() {
        let exchange = Exchange::<u32, u32>::new(7);
        assert!(
            exchange.take_outcome().is_none(),
            "nothing to take before the run"
        );
        let (body, running) = exchange.start().expect("the body is in");
        assert_eq!(body, 7);
        assert!(exchange.start().is_none(), "a body is taken once");
        assert!(
            exchange.take_back().is_none(),
            "a running body cannot be taken back"
        );
        assert!(
            exchange.take_outcome().is_none(),
            "nothing to take while it runs"
        );
        running.finish(body * 2);
        assert_eq!(exchange.take_outcome(), Some(14));
        assert!(
            exchange.take_outcome().is_none(),
            "an outcome is taken once"
        );
    }

    #[test]
    fn a_body_taken_back_never_runs() {
        let exchange = Exchange::<u32, u32>::new(7);
        assert_eq!(exchange.take_back(), Some(7));
        assert!(exchange.start().is_none(), "a body taken back is not run");
        assert!(exchange.take_outcome().is_none());
    }

    #[test]
    fn values_left_in_are_dropped_with_the_exchange() {
        let body = std::sync::Arc::new(());
        let outcome = std::sync::Arc::new(());
        drop(Exchange::<_, std::sync::Arc<()>>::new(
            std::sync::Arc::clone(&body),
        ));
        assert_eq!(
            std::sync::Arc::strong_count(&body),
            1,
            "an unrun body is dropped"
        );
        let exchange = Exchange::new(());
        let ((), running) = exchange.start().expect("the body is in");
        running.finish(std::sync::Arc::clone(&outcome));
        drop(exchange);
        assert_eq!(
            std::sync::Arc::strong_count(&outcome),
            1,
            "an untaken outcome is dropped"
        );
    }
}
