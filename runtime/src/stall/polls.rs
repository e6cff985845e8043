//! The `release-stalls` feature: every poll of each `#[no_block]` fn counted and timed, in
//! release builds as in debug ones, and read with [`poll_stats`].
//!
//! Each fn's site is a static, listed at link time (as `#[offload]`'s pool uses are), with
//! its counts beside it. A poll costs two clock readings, an increment, a comparison with
//! the longest poll so far, and for a slow one two more increments: no lock, no allocation,
//! nothing per thread. Only a poll longer than every poll before it of the same fn takes a
//! lock, to note where it ran: rare once a fn has run a while.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::guard::FnSite;
use super::report::{LocationKind, SourceLocation};

/// A `#[no_block]` fn in the link-time list: its site, with its counts.
#[derive(Debug)]
pub struct RegisteredFn(pub &'static FnSite);

inventory::collect!(RegisteredFn);

/// What one `#[no_block]` fn's polls have done so far: part of its site.
#[derive(Debug)]
pub(crate) struct PollCounts {
    polls: AtomicU64,
    slow_polls: AtomicU64,
    slow_nanos: AtomicU64,
    /// The longest poll's time, read without the lock to decide whether to take it.
    longest_nanos: AtomicU64,
    /// The longest poll, with where it ran. Held only to read or replace it: a few words.
    longest: Mutex<Longest>,
}

/// The longest poll of a fn so far, and between which points of its body it ran.
#[derive(Clone, Copy, Debug)]
struct Longest {
    nanos: u64,
    from: Option<&'static SourceLocation>,
    to: Option<&'static SourceLocation>,
}

impl PollCounts {
    /// Nothing counted yet; for the site's static.
    pub(crate) const fn new() -> Self {
        PollCounts {
            polls: AtomicU64::new(0),
            slow_polls: AtomicU64::new(0),
            slow_nanos: AtomicU64::new(0),
            longest_nanos: AtomicU64::new(0),
            longest: Mutex::new(Longest {
                nanos: 0,
                from: None,
                to: None,
            }),
        }
    }

    /// Counts a poll that took `nanos`, from `from` to `to` (an `.await`, or `None` for the
    /// body's start and end); returns whether it was slow: longer than `threshold`.
    #[inline]
    pub(crate) fn record(
        &self,
        nanos: u64,
        threshold: Duration,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
    ) -> bool {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if nanos > self.longest_nanos.load(Ordering::Relaxed) {
            self.note_longest(nanos, from, to);
        }
        let slow = u128::from(nanos) > threshold.as_nanos();
        if slow {
            self.slow_polls.fetch_add(1, Ordering::Relaxed);
            self.slow_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        slow
    }

    /// Keeps the poll as the longest, unless a longer one was kept meanwhile.
    #[cold]
    fn note_longest(
        &self,
        nanos: u64,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
    ) {
        // The lock keeps the time and the span of one poll together. A panic cannot happen
        // while it is held; a poisoned lock holds a whole value all the same.
        let mut longest = self.longest.lock().unwrap_or_else(PoisonError::into_inner);
        if nanos > longest.nanos {
            *longest = Longest { nanos, from, to };
            self.longest_nanos.store(nanos, Ordering::Relaxed);
        }
    }
}

impl FnSite {
    /// Counts a poll of this fn that took `nanos`, from `from` to `to`, as
    /// [`PollCounts::record`] does (returning whether it was slow), and with the `metrics`
    /// feature records a slow one's time in the application's recorder.
    #[inline]
    pub(crate) fn count_poll(
        &self,
        nanos: u64,
        threshold: Duration,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
    ) -> bool {
        let slow = self.polls.record(nanos, threshold, from, to);
        #[cfg(feature = "metrics")]
        if slow {
            crate::export::record_slow_poll(self.name, nanos);
        }
        slow
    }
}

/// What one `#[no_block]` fn's polls have done since the program started (the
/// `release-stalls` feature): one of [`poll_stats`]'s answers.
///
/// Times are whole polls: a poll of a fn includes the polls of the instrumented fns it
/// awaits (their slow polls are its slow polls too), and any time its thread waited to run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollStats {
    /// The fn, `module::path::name`.
    pub function: &'static str,
    /// Its threshold: a poll longer than this is slow.
    pub threshold: Duration,
    /// Its polls so far.
    pub polls: u64,
    /// Its polls longer than `threshold`.
    pub slow_polls: u64,
    /// The time its slow polls took, together.
    pub slow_time: Duration,
    /// Its longest poll so far (zero before the first).
    pub longest: Duration,
    /// Where the longest poll resumed: an `.await`, or the body's start (before any poll,
    /// the span is the whole body).
    pub longest_from: SourceLocation,
    /// Where it stopped: an `.await`, or the body's end.
    pub longest_to: SourceLocation,
    /// What `longest_from` is: `.await` or start.
    pub longest_from_kind: LocationKind,
    /// What `longest_to` is: `.await` or end.
    pub longest_to_kind: LocationKind,
}

/// What each `#[no_block]` fn of the program has done so far, by name: every fn of the
/// program is listed, polled or not (the `release-stalls` feature).
///
/// Counts are kept in debug and release builds alike, unless stalls are
/// [off](crate::stall::Mode::Off), and only grow; a rate is the difference between two
/// readings. With the `metrics` feature they are also published to the application's
/// `metrics` recorder.
///
/// ```
/// use async_offload::no_block;
///
/// #[no_block(threshold = "5ms")]
/// async fn handle() -> u32 {
///     7
/// }
///
/// futures::executor::block_on(handle());
/// let stats = async_offload::stall::poll_stats();
/// let handle = stats
///     .iter()
///     .find(|stats| stats.function.ends_with("::handle"))
///     .expect("every #[no_block] fn is listed");
/// assert_eq!((handle.polls, handle.slow_polls), (1, 0));
/// ```
#[must_use]
pub fn poll_stats() -> Vec<PollStats> {
    let mut all: Vec<PollStats> = inventory::iter::<RegisteredFn>
        .into_iter()
        .map(|registered| stats_of(registered.0))
        .collect();
    all.sort_by_key(|stats| stats.function);
    all
}

/// The counts of one fn now.
pub(crate) fn stats_of(site: &'static FnSite) -> PollStats {
    let counts = &site.polls;
    let longest = *counts
        .longest
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let (longest_from, longest_from_kind, longest_to, longest_to_kind) =
        site.span(longest.from, longest.to);
    PollStats {
        function: site.name,
        threshold: site.threshold(),
        polls: counts.polls.load(Ordering::Relaxed),
        slow_polls: counts.slow_polls.load(Ordering::Relaxed),
        slow_time: Duration::from_nanos(counts.slow_nanos.load(Ordering::Relaxed)),
        longest: Duration::from_nanos(longest.nanos),
        longest_from,
        longest_to,
        longest_from_kind,
        longest_to_kind,
    }
}
