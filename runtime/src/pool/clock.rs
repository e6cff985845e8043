//! The pools' clock: readings of the monotonic clock as plain nanoseconds.
//!
//! A job is timed three times (queued, started, finished), and an idle worker counts its
//! keep-alive from the end of its last job. With `std::time::Instant`, every difference of
//! two readings goes through checked `timespec` arithmetic into a `Duration`, and each
//! costs more than the reading itself; as nanoseconds it is one subtraction. On Linux a
//! reading is a direct call of `clock_gettime(CLOCK_MONOTONIC)`, the clock `Instant` reads,
//! hence the one `unsafe` block of this file; elsewhere it is an `Instant` measured from
//! one taken at the first reading.

#![allow(unsafe_code)]

use std::time::Duration;

/// A reading of the monotonic clock, in nanoseconds from an arbitrary origin (on Linux,
/// the machine's boot). A `u64` of nanoseconds lasts 584 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Nanos(u64);

impl Nanos {
    /// The clock now.
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    #[inline]
    pub(crate) fn now() -> Nanos {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes one `timespec` through the pointer, which points to
        // the local above, and reads no other memory of ours. `CLOCK_MONOTONIC` exists on
        // every Linux, so the call cannot fail (and if it did, `now` would stay zero).
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
        // The monotonic clock counts from boot: both fields are positive.
        #[allow(clippy::cast_sign_loss)]
        Nanos(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
    }

    /// The clock now.
    #[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
    #[inline]
    pub(crate) fn now() -> Nanos {
        use std::sync::OnceLock;
        use std::time::Instant;
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let since_origin = ORIGIN.get_or_init(Instant::now).elapsed();
        Nanos(u64::try_from(since_origin.as_nanos()).unwrap_or(u64::MAX))
    }

    /// How long after `earlier` this reading is, in nanoseconds; zero if it is not after.
    #[inline]
    pub(crate) fn nanos_since(self, earlier: Nanos) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The reading `duration` after this one, or none if that is too far to count (as for
    /// `Duration::MAX`).
    pub(crate) fn checked_add(self, duration: Duration) -> Option<Nanos> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_never_go_back_and_follow_the_std_clock() {
        let std_start = std::time::Instant::now();
        let start = Nanos::now();
        std::thread::sleep(Duration::from_millis(20));
        let end = Nanos::now();
        let std_elapsed = std_start.elapsed();
        assert!(end >= start);
        let elapsed = Duration::from_nanos(end.nanos_since(start));
        // The pool's clock measured inside the std clock's interval: never more than it,
        // and at least the sleep.
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed <= std_elapsed, "{elapsed:?} > {std_elapsed:?}");
    }

    #[test]
    fn differences_saturate_and_sums_check() {
        let early = Nanos(5);
        let late = Nanos(8);
        assert_eq!(late.nanos_since(early), 3);
        assert_eq!(early.nanos_since(late), 0);
        assert_eq!(early.checked_add(Duration::from_nanos(3)), Some(late));
        assert_eq!(early.checked_add(Duration::MAX), None);
        assert_eq!(Nanos(u64::MAX).checked_add(Duration::from_nanos(1)), None);
    }
}
