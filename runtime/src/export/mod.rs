//! The `metrics` feature: the pools' figures, each job's times and, with
//! `release-stalls`, the `#[no_block]` fns' polls, published through the `metrics` facade
//! to the recorder the application installs (a Prometheus or OpenTelemetry exporter).
//!
//! `names.rs` holds every metric's name and description, `publisher.rs` the thread that
//! publishes gauges and counters every second, `job_times.rs` the histograms workers
//! record each job into, and `slow_polls.rs` the histogram of slow polls.

mod job_times;
mod names;
mod publisher;
#[cfg(feature = "release-stalls")]
mod slow_polls;

pub(crate) use self::job_times::JobTimes;
pub(crate) use self::publisher::{start, stop};
#[cfg(feature = "release-stalls")]
pub(crate) use self::slow_polls::record_slow_poll;

/// What identifies the recorder installed now: its address (the facade's no-op recorder
/// until the application installs one). Read on threads without a recorder of their own.
pub(crate) fn recorder_address() -> usize {
    metrics::with_recorder(|recorder| std::ptr::from_ref(recorder).cast::<()>() as usize)
}

/// `nanos` in seconds, the unit Prometheus' conventions ask for.
#[allow(clippy::cast_precision_loss)] // exact below 104 days
fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}
