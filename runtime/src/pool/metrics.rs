//! What each pool counts and times, and the snapshot [`stats`](crate::stats) returns.
//!
//! Recording is lock-free: a job costs two or three clock reads (a worker that goes straight
//! from one job to the next reads the clock once between them), one counter for its submission,
//! one for its outcome, and for each of its two timings (time in the queue, time running)
//! one bucket and one sum, plus a comparison for the maximum. Snapshots add the buckets up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::clock::Nanos;
use crate::config::PoolKind;

/// How a job ended, for the counters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    /// The body returned.
    Completed,
    /// The body panicked.
    Panicked,
    /// The caller went away before the body started; it never ran.
    Cancelled,
    /// The caller went away while the body ran; its result was dropped.
    Abandoned,
    /// The pool turned the job away: it was shut down, or could not start a thread.
    Refused,
    /// The pool's queue was full and the pool refuses jobs then.
    QueueFull,
}

/// The counters and timings of one pool.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Whether anything is recorded (`PoolConfig::metrics`).
    enabled: bool,
    /// Jobs offered to the pool (at the first poll of their caller's future).
    submitted: AtomicU64,
    /// Jobs whose body returned.
    completed: AtomicU64,
    /// Jobs whose body panicked.
    panicked: AtomicU64,
    /// Jobs whose caller went away before they started.
    cancelled: AtomicU64,
    /// Jobs whose caller went away while they ran.
    abandoned: AtomicU64,
    /// Jobs the pool turned away.
    refused: AtomicU64,
    /// Jobs refused because the queue was full.
    queue_full: AtomicU64,
    /// From submission to the start of the body, any wait in line for room included.
    queue_wait: Histogram,
    /// From the start of the body to its end.
    run_time: Histogram,
    /// Both times of each job, for the application's `metrics` recorder.
    #[cfg(feature = "metrics")]
    job_times: crate::export::JobTimes,
}

impl Metrics {
    /// Counters and timings that record, or stay zero.
    pub(crate) fn new(enabled: bool) -> Self {
        Metrics {
            enabled,
            ..Metrics::default()
        }
    }

    /// Whether jobs should be timed at all.
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    #[inline]
    pub(crate) fn submitted(&self) {
        if self.enabled {
            self.submitted.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn ended(&self, outcome: Outcome) {
        if !self.enabled {
            return;
        }
        let counter = match outcome {
            Outcome::Completed => &self.completed,
            Outcome::Panicked => &self.panicked,
            Outcome::Cancelled => &self.cancelled,
            Outcome::Abandoned => &self.abandoned,
            Outcome::Refused => &self.refused,
            Outcome::QueueFull => &self.queue_full,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A job queued at `queued_at` starts `now`: records its wait, and returns `now`.
    #[inline]
    pub(crate) fn started(&self, queued_at: Nanos, now: Nanos) -> Nanos {
        self.queue_wait.record(now.nanos_since(queued_at));
        now
    }

    /// A job queued at `queued_at` that started at `started` ends now: records how long it
    /// ran (and with the `metrics` feature, both its times for the application's
    /// recorder), and returns now.
    #[inline]
    pub(crate) fn finished(&self, queued_at: Nanos, started: Nanos) -> Nanos {
        let now = Nanos::now();
        let ran = now.nanos_since(started);
        self.run_time.record(ran);
        #[cfg(feature = "metrics")]
        self.job_times.record(started.nanos_since(queued_at), ran);
        // Only the `metrics` feature needs the wait again.
        #[cfg(not(feature = "metrics"))]
        let _ = queued_at;
        now
    }

    /// The histograms each job's times go to in the application's `metrics` recorder.
    #[cfg(feature = "metrics")]
    pub(crate) fn job_times(&self) -> &crate::export::JobTimes {
        &self.job_times
    }

    /// The counters and timings now, with the gauges the pool read under its lock.
    pub(crate) fn snapshot(&self, gauges: Gauges) -> PoolStats {
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        PoolStats {
            name: gauges.name,
            kind: gauges.kind,
            max_threads: gauges.max_threads,
            threads: gauges.threads,
            idle_threads: gauges.idle_threads,
            queued: gauges.queued,
            queue_capacity: gauges.queue_capacity,
            refuse_when_full: gauges.refuse_when_full,
            waiting_for_room: gauges.waiting_for_room,
            running: gauges.running,
            submitted: count(&self.submitted),
            completed: count(&self.completed),
            panicked: count(&self.panicked),
            cancelled: count(&self.cancelled),
            abandoned: count(&self.abandoned),
            refused: count(&self.refused),
            queue_full: count(&self.queue_full),
            queue_wait: self.queue_wait.snapshot(),
            run_time: self.run_time.snapshot(),
        }
    }
}

/// What a pool knows under its lock, for a snapshot.
pub(crate) struct Gauges {
    pub(crate) name: String,
    pub(crate) kind: PoolKind,
    pub(crate) max_threads: usize,
    pub(crate) threads: usize,
    pub(crate) idle_threads: usize,
    pub(crate) queued: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) refuse_when_full: bool,
    pub(crate) waiting_for_room: usize,
    pub(crate) running: usize,
}

/// A snapshot of one pool: its threads and queue now, and what it has done so far.
///
/// Three kinds of figures:
/// - **Now** (gauges): `threads`, `idle_threads`, `queued`, `waiting_for_room`, `running`,
///   with the configuration they are measured against (`max_threads`, `queue_capacity`,
///   `refuse_when_full`). The queue is saturated when `queued == queue_capacity`; from
///   then on callers wait in line (`waiting_for_room`) or, if the pool refuses when full,
///   are refused (`queue_full` grows).
/// - **Since the pool was created** (counters): `submitted` and how jobs ended. They start
///   at zero and only grow; once every caller has been answered,
///   `completed + panicked + cancelled + abandoned + refused + queue_full == submitted`.
///   A rate is the difference between two snapshots.
/// - **Per job, summarized since the pool was created**: `queue_wait` and `run_time`, one
///   duration recorded for each job that started. For distributions over a window, or
///   aggregated across processes, the `metrics` feature records each job's durations into
///   the application's `metrics` recorder as histograms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// The pool's name.
    pub name: String,
    /// Fixed or elastic.
    pub kind: PoolKind,
    /// The most threads it may run.
    pub max_threads: usize,
    /// Threads of the pool now, busy or idle, and those it is starting.
    pub threads: usize,
    /// Threads waiting for work now.
    pub idle_threads: usize,
    /// Jobs in the queue now, waiting for a thread (places handed to callers from the
    /// line count as soon as they are handed; after a shutdown, those callers are refused
    /// and do not count). At most `queue_capacity`.
    pub queued: usize,
    /// The most jobs the queue holds ([`PoolConfig::queue_capacity`](crate::PoolConfig::queue_capacity)).
    pub queue_capacity: usize,
    /// Whether a full queue refuses jobs at once instead of making callers wait
    /// ([`PoolConfig::refuse_when_full`](crate::PoolConfig::refuse_when_full)).
    pub refuse_when_full: bool,
    /// Callers waiting in line now for room in the full queue.
    pub waiting_for_room: usize,
    /// Jobs running now.
    pub running: usize,
    /// Jobs offered to the pool, at the first poll of their caller's future.
    pub submitted: u64,
    /// Jobs whose body returned.
    pub completed: u64,
    /// Jobs whose body panicked (the panic went on in the caller).
    pub panicked: u64,
    /// Jobs whose caller went away before they started: they never ran.
    pub cancelled: u64,
    /// Jobs whose caller went away while they ran: they finished, unseen.
    pub abandoned: u64,
    /// Jobs the pool turned away: it was shut down, or it could not start a thread.
    pub refused: u64,
    /// Jobs the pool refused at once because its queue was full
    /// ([`PoolConfig::refuse_when_full`](crate::PoolConfig::refuse_when_full)).
    pub queue_full: u64,
    /// How long jobs waited before a thread took them: in the queue, and in line for room
    /// in it while it was full.
    pub queue_wait: TimingStats,
    /// How long the bodies ran.
    pub run_time: TimingStats,
}

/// A summary of recorded durations.
///
/// The quantiles come from a histogram with four buckets per power of two: each is the
/// upper bound of its bucket, at most 19% above the true value (and never above `max`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimingStats {
    /// How many durations were recorded.
    pub count: u64,
    /// Their sum.
    pub sum: Duration,
    /// The longest.
    pub max: Duration,
    /// The median.
    pub p50: Duration,
    /// The 90th percentile.
    pub p90: Duration,
    /// The 99th percentile.
    pub p99: Duration,
}

impl TimingStats {
    /// The mean, or zero before anything was recorded.
    #[must_use]
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let nanos = self.sum.as_nanos() / u128::from(self.count);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 2;
/// Buckets: values 0..4 ns exactly, then four per power of two up to 2^64 ns.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) << SUB_BITS;

/// Durations counted in buckets of logarithmic width, lock-free.
#[derive(Debug)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
            max_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    #[inline]
    fn record(&self, nanos: u64) {
        self.buckets[bucket_of(nanos)].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if nanos > self.max_nanos.load(Ordering::Relaxed) {
            self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> TimingStats {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| bucket.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        let max = self.max_nanos.load(Ordering::Relaxed);
        let quantile = |q: f64| {
            if count == 0 {
                return Duration::ZERO;
            }
            // The rank of the quantile, from 1: the smallest value with q of the values at
            // or below it.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (bucket, &in_bucket) in counts.iter().enumerate() {
                seen += in_bucket;
                if seen >= rank {
                    return Duration::from_nanos(upper_bound(bucket).min(max));
                }
            }
            Duration::from_nanos(max)
        };
        TimingStats {
            count,
            sum: Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)),
            max: Duration::from_nanos(max),
            p50: quantile(0.50),
            p90: quantile(0.90),
            p99: quantile(0.99),
        }
    }
}

/// The bucket of a value: exact below 4, then by its highest bit and the two bits after.
#[inline]
fn bucket_of(nanos: u64) -> usize {
    let sub_count = 1u64 << SUB_BITS;
    if nanos < sub_count {
        #[allow(clippy::cast_possible_truncation)] // below 4
        return nanos as usize;
    }
    let high = 63 - nanos.leading_zeros(); // at least SUB_BITS
    let sub = (nanos >> (high - SUB_BITS)) & (sub_count - 1);
    ((high - SUB_BITS + 1) as usize) << SUB_BITS | sub as usize
}

/// The largest value in a bucket.
fn upper_bound(bucket: usize) -> u64 {
    let sub_count = 1usize << SUB_BITS;
    if bucket < sub_count {
        return bucket as u64;
    }
    let high = (bucket >> SUB_BITS) as u32 + SUB_BITS - 1;
    let sub = (bucket & (sub_count - 1)) as u64;
    let low = (1u64 << high) | (sub << (high - SUB_BITS));
    low.saturating_add((1u64 << (high - SUB_BITS)) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_whose_bounds_hold_it() {
        let mut values: Vec<u64> = (0..5_000).collect();
        values.extend((0..64).map(|shift| 1u64 << shift));
        values.extend((1..64).map(|shift| (1u64 << shift) - 1));
        values.extend([u64::MAX, u64::MAX - 1, 1_234_567_890]);
        for value in values {
            let bucket = bucket_of(value);
            assert!(bucket < BUCKETS, "{value} -> {bucket}");
            assert!(
                upper_bound(bucket) >= value,
                "{value} above its bucket {bucket}"
            );
            if bucket > 0 {
                assert!(
                    upper_bound(bucket - 1) < value,
                    "{value} belongs lower than {bucket}"
                );
            }
        }
    }

    #[test]
    fn quantiles_are_within_a_bucket_of_the_truth() {
        let histogram = Histogram::default();
        for micros in 1..=1000u64 {
            histogram.record(micros * 1_000);
        }
        let stats = histogram.snapshot();
        assert_eq!(stats.count, 1000);
        assert_eq!(stats.max, Duration::from_micros(1000));
        assert_eq!(stats.sum, Duration::from_micros(500_500));
        for (quantile, truth) in [(stats.p50, 500u64), (stats.p90, 900), (stats.p99, 990)] {
            let truth = Duration::from_micros(truth);
            assert!(quantile >= truth, "{quantile:?} below {truth:?}");
            assert!(
                quantile <= truth.mul_f64(1.19),
                "{quantile:?} too far above {truth:?}"
            );
        }
        assert_eq!(stats.mean(), Duration::from_nanos(500_500));
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        assert_eq!(Histogram::default().snapshot(), TimingStats::default());
    }
}
