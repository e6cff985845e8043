//! Each job's queue wait and run time, recorded into the histograms of the application's
//! `metrics` recorder as the job ends.
//!
//! A histogram's handle comes from the recorder that is installed when it is registered:
//! registered before the application installs its recorder, it records nowhere, for good.
//! So the handles are registered when the pool is made, with the recorder installed then,
//! and by the publisher thread again when that changes: a recorder installed after the
//! pools gets the jobs' times from the publisher's next look on, within a second. It
//! changes at most once: the publisher sees the global recorder, which `metrics` lets a
//! program set once, or the facade's no-op one before that. Hence two slots, each set once, and the index of the current one: a job costs a
//! load, a check, and its two records, with no lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{names, seconds};

/// The job-time histograms of one pool.
#[derive(Debug, Default)]
pub(crate) struct JobTimes {
    /// Which of `slots` is current: its index plus one; 0 before the first is set.
    current: AtomicUsize,
    /// The handles registered with the first recorder seen, then with the next.
    slots: [OnceLock<Registered>; 2],
}

/// Histograms registered with one recorder.
#[derive(Debug)]
struct Registered {
    /// The recorder's address, as [`super::publisher`] identifies it.
    recorder: usize,
    queue_wait: metrics::Histogram,
    run_time: metrics::Histogram,
}

impl JobTimes {
    /// Records a job that waited `waited` nanoseconds in the queue and ran `ran`.
    #[inline]
    pub(crate) fn record(&self, waited: u64, ran: u64) {
        // Acquire: the slot it names is set.
        let current = self.current.load(Ordering::Acquire);
        if let Some(registered) = current
            .checked_sub(1)
            .and_then(|slot| self.slots[slot].get())
        {
            registered.queue_wait.record(seconds(waited));
            registered.run_time.record(seconds(ran));
        }
    }

    /// Registers the histograms of the pool named `pool` with the recorder at `recorder`,
    /// unless they are registered with it already. Called when the pool is made, before
    /// any other thread sees it, then by the publisher thread only.
    pub(crate) fn register(&self, recorder: usize, pool: &str) {
        let current = self.current.load(Ordering::Relaxed);
        let slot = match current.checked_sub(1) {
            Some(slot)
                if self.slots[slot]
                    .get()
                    .is_some_and(|r| r.recorder == recorder) =>
            {
                return;
            }
            Some(slot) => slot + 1,
            None => 0,
        };
        let Some(free) = self.slots.get(slot) else {
            // A third recorder cannot be: the global one is set once.
            return;
        };
        let label = [(names::POOL, pool.to_owned())];
        let _ = free.set(Registered {
            recorder,
            queue_wait: metrics::histogram!(names::JOB_QUEUE_WAIT, &label),
            run_time: metrics::histogram!(names::JOB_RUN_TIME, &label),
        });
        // Release: a worker that reads the new index finds the slot set.
        self.current.store(slot + 1, Ordering::Release);
    }
}
