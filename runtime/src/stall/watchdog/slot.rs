//! A polling thread's slot: what it publishes about its instrumented polls with relaxed
//! stores, and the watchdog's readings of its run-queue delay, from which a poll's
//! preemption is computed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::schedstat::RunDelay;
use super::sys::StaticRef;
use super::{BEFORE_AT_MOST, SHARED, current_tid, nanos, shared, start, wake};
use crate::stall::guard::FnSite;
use crate::stall::report::SourceLocation;

/// What one thread publishes about its instrumented polls. Written by that thread only,
/// except the readings, which the watchdog writes.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Odd while an outermost instrumented poll is under way: one more at its start, one
    /// more at its end.
    pub(super) generation: AtomicU64,
    /// Odd while [`Slot::publish`] writes `site` and `resume`, one more before and one
    /// more after: a reader that sees the same even number before and after reading them
    /// read one pair (a sequence lock with one writer, the thread itself).
    published: AtomicU64,
    /// The innermost instrumented fn being polled.
    site: StaticRef<FnSite>,
    /// Where it resumed: an `.await`, or `None` for its start.
    resume: StaticRef<SourceLocation>,
    /// The smallest threshold this thread has polled with, in ns.
    pub(super) min_threshold: AtomicU64,
    /// The watchdog's readings of the thread's run-queue delay.
    readings: Mutex<Readings>,
    /// Cleared when the thread exits.
    pub(super) alive: AtomicBool,
    /// The thread's name.
    pub(super) thread: Option<String>,
    /// The thread's id for the OS (0 where there is none to use).
    pub(super) tid: i32,
    /// Reads the thread's run-queue delay; opened when first needed.
    pub(super) run_delay: OnceLock<Option<RunDelay>>,
    /// The thread's alternate signal stack, for the handler that takes its stack; set up
    /// at registration where stacks are wanted, removed by the thread at its end.
    #[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
    alt_stack: Mutex<Option<super::sys::signal::AltStack>>,
}

impl Slot {
    /// The slot of the calling thread, which polls with `threshold`, registered with the
    /// watchdog (which starts, if it has not yet).
    pub(crate) fn register(threshold: Duration) -> Arc<Slot> {
        let slot = Arc::new(Slot::new(threshold));
        #[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
        if super::stack::wanted() {
            // Only this thread locks it, here and in `retire`.
            *slot
                .alt_stack
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = super::sys::signal::AltStack::install();
        }
        let shared = shared();
        shared
            .new_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&slot));
        match shared.thread.get() {
            Some(watchdog) => watchdog.unpark(),
            None => start(),
        }
        slot
    }

    /// The slot of the calling thread, which polls with `threshold`, not registered.
    pub(super) fn new(threshold: Duration) -> Slot {
        Slot {
            generation: AtomicU64::new(0),
            published: AtomicU64::new(0),
            site: StaticRef::none(),
            resume: StaticRef::none(),
            min_threshold: AtomicU64::new(nanos(threshold)),
            readings: Mutex::new(Readings {
                latest: None,
                baseline: None,
            }),
            alive: AtomicBool::new(true),
            thread: std::thread::current().name().map(str::to_owned),
            tid: current_tid(),
            run_delay: OnceLock::new(),
            #[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
            alt_stack: Mutex::new(None),
        }
    }

    /// Publishes the innermost instrumented poll under way and where it resumed.
    #[inline]
    pub(crate) fn publish(
        &self,
        site: Option<&'static FnSite>,
        resume: Option<&'static SourceLocation>,
    ) {
        // Only this thread writes `published`: a load and a store, no read-modify-write.
        let published = self.published.load(Ordering::Relaxed);
        self.published.store(published + 1, Ordering::Relaxed);
        // Orders the odd number before the pair: a reader that sees either of the new
        // values (its `Acquire` fence) then sees the odd number or a later one.
        fence(Ordering::Release);
        self.site.store(site, Ordering::Relaxed);
        self.resume.store(resume, Ordering::Relaxed);
        self.published.store(published + 2, Ordering::Release);
    }

    /// Publishes the start of outermost poll number `generation` (odd), after what
    /// [`Slot::publish`] published for it; wakes the watchdog if it sleeps.
    #[inline]
    pub(crate) fn begin(&self, generation: u64) {
        self.generation.store(generation, Ordering::Release);
        if SHARED.asleep.load(Ordering::Relaxed) {
            wake();
        }
    }

    /// Publishes the end of the outermost poll: `generation` is even.
    #[inline]
    pub(crate) fn end(&self, generation: u64) {
        self.generation.store(generation, Ordering::Release);
    }

    /// Tells the watchdog that this thread polls with `threshold` (rarely: only a
    /// threshold smaller than all the thread used before), so that it looks more often.
    pub(crate) fn note_threshold(&self, threshold: Duration) {
        self.min_threshold
            .fetch_min(nanos(threshold), Ordering::Relaxed);
        if let Some(watchdog) = shared().thread.get() {
            watchdog.unpark();
        }
    }

    /// Marks the thread gone; the watchdog drops the slot. Called by the thread itself.
    pub(crate) fn retire(&self) {
        #[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
        {
            // Only this thread locks it, here and in `register`.
            let alt_stack = self
                .alt_stack
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(alt_stack) = alt_stack {
                alt_stack.remove();
            }
        }
        self.alive.store(false, Ordering::Relaxed);
    }

    /// What the thread has waited to run since the baseline of the poll `generation`, for
    /// a poll still under way `age` old: waits that have ended, never more than `age`.
    pub(super) fn preempted_so_far(&self, generation: u64, age: Duration) -> Duration {
        self.readings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .baseline
            .filter(|&(of, _)| of == generation)
            .and_then(|(_, baseline)| Some(self.run_delay()?.read()?.saturating_sub(baseline)))
            .unwrap_or_default()
            .min(age)
    }

    /// The time the thread waited to run since the baseline of poll `generation`, which
    /// started at `start` and ran past `threshold`; `None` if there is none (the platform
    /// cannot tell, or the watchdog has not looked at the thread lately). Called by the
    /// thread itself at the end of the poll, so that no wait is under way: each one is
    /// counted.
    ///
    /// The baseline is the watchdog's last reading before the poll began, if it is at most
    /// `BEFORE_AT_MOST` thresholds older than the poll (and then what the thread waited
    /// between that reading and the poll's start is left out too); else its first reading
    /// during the poll (and then a wait that ended before it is not seen).
    pub(crate) fn preempted_since_baseline(
        &self,
        generation: u64,
        start: Instant,
        threshold: Duration,
    ) -> Option<Duration> {
        let baseline = {
            let readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
            match (readings.baseline, readings.latest) {
                (Some((of, baseline)), _) if of == generation => Some(baseline),
                // No look saw this poll: the last reading was taken before it.
                (_, Some(latest))
                    if latest.generation != generation
                        && start.saturating_duration_since(latest.at)
                            <= threshold.saturating_mul(BEFORE_AT_MOST) =>
                {
                    Some(latest.delay)
                }
                _ => None,
            }
        }?;
        let now = self.run_delay()?.read()?;
        Some(now.saturating_sub(baseline))
    }

    /// Records a reading of the run-queue delay, `delay`, taken at `at` by a look that saw
    /// `generation` right after; the first reading during a poll sets that poll's baseline
    /// (see [`Slot::preempted_since_baseline`]).
    pub(super) fn record(
        &self,
        delay: Duration,
        at: Instant,
        generation: u64,
        threshold: Duration,
    ) {
        let mut readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        let in_poll = generation % 2 == 1;
        if in_poll && readings.baseline.is_none_or(|(of, _)| of != generation) {
            let baseline = match readings.latest {
                Some(before)
                    if before.generation != generation
                        && at.duration_since(before.at)
                            <= threshold.saturating_mul(BEFORE_AT_MOST) =>
                {
                    before.delay
                }
                _ => delay,
            };
            readings.baseline = Some((generation, baseline));
        }
        readings.latest = Some(Reading {
            delay,
            generation,
            at,
        });
    }

    pub(super) fn run_delay(&self) -> Option<&RunDelay> {
        self.run_delay
            .get_or_init(|| RunDelay::open(self.tid))
            .as_ref()
    }

    /// What the thread is polling now, if an outermost poll is under way.
    pub(super) fn snapshot(&self) -> Option<Snapshot> {
        // A pair read while the thread published another is mixed: look again (a poll that
        // hangs stays put).
        for _ in 0..64 {
            let generation = self.generation.load(Ordering::Acquire);
            if generation % 2 == 0 {
                return None;
            }
            let published = self.published.load(Ordering::Acquire);
            let site = self.site.load(Ordering::Relaxed);
            let resume = self.resume.load(Ordering::Relaxed);
            // Pairs with the `Release` fence of `publish`: if either value read is newer
            // than `published`, the load below sees the odd number written before it.
            fence(Ordering::Acquire);
            if published % 2 == 0
                && self.published.load(Ordering::Relaxed) == published
                && self.generation.load(Ordering::Acquire) == generation
            {
                let site = site?;
                return Some(Snapshot {
                    generation,
                    site,
                    resume,
                });
            }
            std::hint::spin_loop();
        }
        None
    }
}

/// The watchdog's readings of one thread's run-queue delay.
#[derive(Debug)]
struct Readings {
    /// The last one.
    pub(super) latest: Option<Reading>,
    /// The baseline of one poll: its generation, and the delay.
    pub(super) baseline: Option<(u64, Duration)>,
}

/// One reading of a thread's run-queue delay.
#[derive(Clone, Copy, Debug)]
struct Reading {
    pub(super) delay: Duration,
    /// The slot's generation right after the reading.
    pub(super) generation: u64,
    /// Just before the reading.
    pub(super) at: Instant,
}

/// One look at a slot with a poll under way.
#[derive(Clone, Copy, Debug)]
pub(super) struct Snapshot {
    pub(super) generation: u64,
    pub(super) site: &'static FnSite,
    pub(super) resume: Option<&'static SourceLocation>,
}
