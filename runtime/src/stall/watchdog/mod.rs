//! The watchdog: a thread that looks at the instrumented polls under way on the other
//! threads, for two things a poll cannot do for itself while it runs.
//!
//! - **The baseline of preemption.** At each look it reads how long each thread that has
//!   polled lately has waited to run so far ([`RunDelay`]; one `pread` of a file kept
//!   open, on the watchdog's thread). A poll that ends past its threshold reads it again
//!   (the only system call a poll can cost, and only a long one): the difference from the
//!   last reading before the poll began is the time the OS kept the thread waiting, which
//!   is not blocking and is left out. The reading before may be up to a look older than the
//!   poll, so a wait that ended just before the poll is left out too; when the watchdog
//!   itself was kept from running for more than `BEFORE_AT_MOST` (4) thresholds, its first
//!   reading during the poll is used instead, and a wait that ended before it is not seen.
//! - **Polls that do not return.** A poll still under way `FIRST_REPORT` (1 s) after the
//!   watchdog first saw it, or after its fn's threshold if that is longer, is reported as
//!   still running, with the stack of its thread where it can be taken, then again each
//!   time its age doubles (2 s, 4 s, 8 s ...). Taking the stack and delivering the report
//!   happen on a second thread, the reporter, so that the watchdog keeps its rhythm.
//!   Naming the frames of a stack reads the binary's debug information the first time
//!   (0.6 s for a test binary here): so the first poll to come within `NAME_AHEAD`
//!   (750 ms) of its first report has its stack taken and named then too, once per
//!   process, and the report finds the names ready when it falls due.
//!
//! Each thread that polls an instrumented future registers a [`Slot`] once, at its first
//! poll (which also starts the watchdog), and publishes each poll in it with relaxed
//! atomic stores: which fn, where it resumed, and a generation number that is odd while an
//! outermost poll runs. No clock read, no lock and no system call is added to a poll. The
//! watchdog looks at the slots every quarter of the smallest threshold seen (at least
//! every 500 µs, at most every 100 ms). When no poll has started or ended for `IDLE_AFTER`
//! (2 s), it stops waking up, except when a report on a poll still running falls due; the
//! next poll to start wakes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use self::schedstat::RunDelay;
pub(crate) use self::slot::Slot;
pub use self::stack::{Stack, StackFrame};
use super::mode;
use super::report::{LocationKind, StallReport};

mod schedstat;
mod slot;
pub(crate) mod stack;
pub(crate) mod sys;
#[cfg(test)]
mod tests;

/// When a poll still running is first reported, unless its fn's threshold is longer.
const FIRST_REPORT: Duration = Duration::from_secs(1);
/// How long before the first report on the first poll still running its stack is taken
/// and named in advance: more than naming the first stack takes (0.6 s here).
const NAME_AHEAD: Duration = Duration::from_millis(750);
/// How many thresholds old the reading of the look before a poll may be, to be its
/// baseline.
const BEFORE_AT_MOST: u32 = 4;
/// How many times the watchdog looks at the slots during the smallest threshold.
const LOOKS_PER_THRESHOLD: u32 = 4;
/// How often the watchdog looks, at most and at least, while polls come and go.
const MIN_TICK: Duration = Duration::from_micros(500);
const MAX_TICK: Duration = Duration::from_millis(100);
/// How long without a poll starting or ending before the watchdog stops waking up.
const IDLE_AFTER: Duration = Duration::from_secs(2);

/// What the polling threads and the watchdog share.
struct Shared {
    /// Slots registered since the watchdog last looked.
    new_slots: Mutex<Vec<Arc<Slot>>>,
    /// The watchdog thread, once started.
    thread: OnceLock<Thread>,
    /// Set while the watchdog sleeps until a poll wakes it.
    asleep: AtomicBool,
}

static SHARED: Shared = Shared {
    new_slots: Mutex::new(Vec::new()),
    thread: OnceLock::new(),
    asleep: AtomicBool::new(false),
};

fn shared() -> &'static Shared {
    &SHARED
}

/// Starts the watchdog thread, once.
fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("offload.watchdog".into())
            .spawn(|| {
                #[cfg(all(target_os = "linux", not(offload_not_linux)))]
                self::sys::ask_for_short_slices();
                let _ = shared().thread.set(std::thread::current());
                Watchdog::default().run();
            });
        if let Err(error) = spawned {
            // Stalls are still reported at the end of each poll; only the watchdog's part
            // is missing.
            super::write_stderr(&format!(
                "offload: the stall watchdog thread could not start ({error}); polls that \
                 do not return will not be reported while they last"
            ));
        }
    });
}

/// Wakes the watchdog from its idle sleep.
fn wake() {
    let shared = shared();
    if shared.asleep.swap(false, Ordering::AcqRel) {
        if let Some(watchdog) = shared.thread.get() {
            watchdog.unpark();
        }
    }
}

/// The watchdog's own books.
#[derive(Default)]
struct Watchdog {
    watched: Vec<Watched>,
    /// Sends the reports on polls still running to the reporter thread, once started.
    reporter: Option<Sender<Job>>,
    /// Whether a stack has been sent to be named in advance (see `NAME_AHEAD`).
    named_ahead: bool,
}

/// The watchdog's books of one slot.
struct Watched {
    slot: Arc<Slot>,
    /// The generation last seen.
    seen: u64,
    /// When the watchdog first saw it: the poll started between the look before and then.
    first_seen: Instant,
    /// How old the poll of generation `seen` must be for its next report.
    next_report: Option<Duration>,
}

impl Watchdog {
    fn run(mut self) {
        let mut last_activity = Instant::now();
        loop {
            let (active, next_report, tick) = self.look();
            let now = Instant::now();
            if active {
                last_activity = now;
            }
            if now.duration_since(last_activity) < IDLE_AFTER {
                let sleep =
                    next_report.map_or(tick, |due| tick.min(due.saturating_duration_since(now)));
                std::thread::park_timeout(sleep);
                continue;
            }
            // Idle: sleep until a poll starts (it wakes us) or a report falls due. One more
            // look after saying so, in case a poll started just before.
            let shared = shared();
            shared.asleep.store(true, Ordering::SeqCst);
            std::thread::park_timeout(tick);
            let (active, next_report, _) = self.look();
            if active {
                shared.asleep.store(false, Ordering::SeqCst);
                last_activity = Instant::now();
                continue;
            }
            match next_report {
                Some(due) => {
                    std::thread::park_timeout(due.saturating_duration_since(Instant::now()));
                }
                None => std::thread::park(),
            }
            shared.asleep.store(false, Ordering::SeqCst);
        }
    }

    /// Looks at every slot once: takes the baselines and sends the reports that are due.
    /// Returns whether a poll started or ended since the last look, when the next report
    /// falls due, and how long to sleep until the next look.
    fn look(&mut self) -> (bool, Option<Instant>, Duration) {
        let new_slots = std::mem::take(
            &mut *shared()
                .new_slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let mut active = !new_slots.is_empty();
        let now = Instant::now();
        self.watched
            .extend(new_slots.into_iter().map(|slot| Watched {
                slot,
                seen: 0,
                first_seen: now,
                next_report: None,
            }));
        self.watched
            .retain(|watched| watched.slot.alive.load(Ordering::Relaxed));
        let mut next_report: Option<Instant> = None;
        let mut min_threshold = u64::MAX;
        let mut due = Vec::new();
        for watched in &mut self.watched {
            let slot = &watched.slot;
            min_threshold = min_threshold.min(slot.min_threshold.load(Ordering::Relaxed));
            let generation = slot.generation.load(Ordering::Acquire);
            let now = Instant::now();
            let changed = generation != watched.seen;
            if changed {
                // A poll started or ended since the last look.
                active = true;
                watched.seen = generation;
                watched.first_seen = now;
                watched.next_report = None;
            }
            let poll = slot.snapshot();
            if poll.is_none() && now.duration_since(watched.first_seen) > IDLE_AFTER {
                // Idle for a while: nothing to read.
                continue;
            }
            if let Some(delay) = slot.run_delay().and_then(RunDelay::read) {
                // Tagged with the generation after the reading: a reading tagged before a
                // poll was taken before it began.
                let generation = slot.generation.load(Ordering::Acquire);
                let threshold = poll.map_or(Duration::MAX, |poll| {
                    poll.site.threshold.unwrap_or_else(mode::default_threshold)
                });
                slot.record(delay, now, generation, threshold);
            }
            let Some(poll) = poll else {
                continue;
            };
            let threshold = poll.site.threshold.unwrap_or_else(mode::default_threshold);
            let next = *watched
                .next_report
                .get_or_insert_with(|| FIRST_REPORT.max(threshold));
            let age = now.duration_since(watched.first_seen);
            if !self.named_ahead && age >= next.saturating_sub(NAME_AHEAD) {
                self.named_ahead = true;
                due.push(Job::NameAhead(Arc::clone(slot)));
            }
            let due_at = if age >= next {
                watched.next_report = Some(next * 2);
                due.push(Job::Report(InFlight {
                    slot: Arc::clone(slot),
                    generation: poll.generation,
                    first_seen: watched.first_seen,
                }));
                now + next
            } else {
                now + (next - age)
            };
            next_report = Some(next_report.map_or(due_at, |earliest| earliest.min(due_at)));
        }
        for job in due {
            self.send(job);
        }
        let tick = Duration::from_nanos(min_threshold / u64::from(LOOKS_PER_THRESHOLD))
            .clamp(MIN_TICK, MAX_TICK);
        (active, next_report, tick)
    }

    /// Hands a job to the reporter thread, started on first use.
    fn send(&mut self, job: Job) {
        if self.reporter.is_none() {
            let (sender, receiver) = std::sync::mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name("offload.reporter".into())
                .spawn(move || report_in_flight(&receiver));
            match spawned {
                Ok(_) => self.reporter = Some(sender),
                Err(error) => {
                    super::write_stderr(&format!(
                        "offload: the stall reporter thread could not start ({error})"
                    ));
                    return;
                }
            }
        }
        if let Some(reporter) = &self.reporter {
            let _ = reporter.send(job);
        }
    }
}

/// What the reporter thread does.
enum Job {
    /// Takes the stack of a poll still running and names it, for nothing but to have read
    /// the debug information before the first report needs it (see `NAME_AHEAD`).
    NameAhead(Arc<Slot>),
    /// Makes a report on a poll still running.
    Report(InFlight),
}

/// A report on a poll still running, to make.
struct InFlight {
    slot: Arc<Slot>,
    generation: u64,
    /// When the watchdog first saw the poll: its age is counted from there.
    first_seen: Instant,
}

/// The reporter thread: takes the stack of each poll still running, makes its report and
/// delivers it.
fn report_in_flight(receiver: &Receiver<Job>) {
    for job in receiver {
        let InFlight {
            slot,
            generation,
            first_seen,
        } = match job {
            Job::NameAhead(slot) => {
                if let Some(ips) = self::stack::capture(slot.tid) {
                    self::stack::resolve(&ips);
                }
                continue;
            }
            Job::Report(report) => report,
        };
        let stack = self::stack::capture(slot.tid);
        let Some(poll) = slot.snapshot().filter(|poll| poll.generation == generation) else {
            // The poll returned meanwhile: its own report says the rest.
            continue;
        };
        let age = first_seen.elapsed();
        // A wait under way does not show yet: what is left out is what has ended.
        let threshold = poll.site.threshold.unwrap_or_else(mode::default_threshold);
        let preempted = slot.preempted_so_far(generation, age);
        let blocked = age - preempted;
        if blocked <= threshold {
            continue;
        }
        let (from, from_kind) = match poll.resume {
            Some(location) => (*location, LocationKind::Await),
            None => (poll.site.start, LocationKind::Start),
        };
        let report = StallReport {
            function: poll.site.name,
            blocked,
            threshold,
            from,
            to: poll.site.end,
            from_kind,
            to_kind: LocationKind::End,
            breakdown: Vec::new(),
            preempted,
            still_running: true,
            thread: slot.thread.clone(),
            stack: stack.as_deref().map(self::stack::resolve),
            blocking_calls: Vec::new(),
            blocking_calls_not_recorded: 0,
        };
        super::deliver_in_flight(&report);
    }
}

/// The calling thread's id for the OS, where there is one to use.
fn current_tid() -> i32 {
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    {
        self::sys::gettid()
    }
    #[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
    {
        0
    }
}

/// `duration` in ns, saturating.
#[inline]
fn nanos(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(duration.subsec_nanos()))
}
