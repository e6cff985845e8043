//! Timing each poll of a `#[no_block]` future, and keeping the books of one thread's
//! nested instrumented polls.
//!
//! Each thread keeps a small state: how deep it is in instrumented polls, the innermost
//! instrumented fn, the time nested polls took, and the finished polls of the current
//! outermost one. A guard saves what it replaces on entry and puts it back
//! on exit, so that nesting needs no stack; the outermost guard turns the finished polls
//! into a report when one of them ran past its threshold. The guard future itself holds no
//! reference to this state, so it is `Send` whenever the future it wraps is.

use std::cell::{Cell, OnceCell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::mode;
use super::report::{LocationKind, SourceLocation, StallReport};
use super::watchdog::Slot;

/// What the macro knows of one `#[no_block]` fn; one `static` per fn, made with
/// [`FnSite::new`].
#[derive(Debug)]
pub struct FnSite {
    /// `module::path::name`.
    pub name: &'static str,
    /// The threshold written on the attribute; `None` for the default.
    pub threshold: Option<Duration>,
    /// The opening brace of the body.
    pub start: SourceLocation,
    /// The closing brace of the body.
    pub end: SourceLocation,
    /// The `.await`s of the body, in source order; the marks of the body refer to them by
    /// their index plus one.
    pub awaits: &'static [SourceLocation],
    /// Whether the fn was compiled under `cfg(test)`: a test's own code. Unless a mode is
    /// set, a stall panics when such a fn is in the stalled poll, and warns otherwise.
    pub test: bool,
    /// What its polls have done so far (`release-stalls`).
    #[cfg(feature = "release-stalls")]
    pub(crate) polls: super::polls::PollCounts,
}

impl FnSite {
    /// The site of a fn named `name` (`module::path::name`), whose body runs from `start` to
    /// `end` through `awaits`, with the attribute's `threshold`; `test` if compiled under
    /// `cfg(test)`. Nothing counted yet.
    pub const fn new(
        name: &'static str,
        threshold: Option<Duration>,
        start: SourceLocation,
        end: SourceLocation,
        awaits: &'static [SourceLocation],
        test: bool,
    ) -> FnSite {
        FnSite {
            name,
            threshold,
            start,
            end,
            awaits,
            test,
            #[cfg(feature = "release-stalls")]
            polls: super::polls::PollCounts::new(),
        }
    }

    /// The fn's threshold: the attribute's, or the default.
    pub(crate) fn threshold(&self) -> Duration {
        self.threshold.unwrap_or_else(mode::default_threshold)
    }

    /// The span of a poll that resumed at `from` and stopped at `to` (each an `.await`, or
    /// `None` for the body's start and end), with what each end is.
    pub(crate) fn span(
        &self,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
    ) -> (SourceLocation, LocationKind, SourceLocation, LocationKind) {
        let (from, from_kind) = match from {
            Some(site) => (*site, LocationKind::Await),
            None => (self.start, LocationKind::Start),
        };
        let (to, to_kind) = match to {
            Some(site) => (*site, LocationKind::Await),
            None => (self.end, LocationKind::End),
        };
        (from, from_kind, to, to_kind)
    }
}

/// The per-thread books.
pub(crate) struct ThreadPolls {
    /// How many instrumented polls are under way on this thread, one inside the other.
    depth: Cell<u32>,
    /// The innermost instrumented fn being polled.
    current: Cell<Option<&'static FnSite>>,
    /// Whether a fn compiled under `cfg(test)` (a test's own code) is among the polls
    /// under way, which decides what a known-blocking call does by default.
    test_code: Cell<bool>,
    /// Where that fn resumed: an `.await`, or `None` for its start.
    resume: Cell<Option<&'static SourceLocation>>,
    /// Time the polls nested in that fn's poll took so far.
    nested: Cell<Duration>,
    /// The thresholds exceeded so far in the current outermost poll.
    exceeded: Cell<Option<Exceeded>>,
    /// This thread's slot, where the watchdog sees its polls; from its first poll on.
    slot: OnceCell<Arc<Slot>>,
    /// The number of the current or last outermost poll in the slot: odd while it runs.
    generation: Cell<u64>,
    /// The smallest threshold told to the slot.
    min_threshold: Cell<Duration>,
    /// The nested instrumented polls finished within the current outermost poll (kept
    /// between polls to reuse its allocation).
    finished: RefCell<Vec<FinishedPoll>>,
    /// Whether `finished` holds anything.
    any_finished: Cell<bool>,
    /// Reports kept for [`collect_stalls`](crate::testing::collect_stalls) instead of
    /// going to the mode.
    pub(crate) collected: RefCell<Option<Vec<StallReport>>>,
    /// Set on pool threads, which may always block.
    pub(crate) pool_thread: Cell<bool>,
    /// How many scopes whose blocking is excused ([`Excuse`]) the thread is in.
    pub(crate) excused: Cell<u32>,
}

/// What the polls that ran past their threshold in one outermost poll add up to.
#[derive(Clone, Copy)]
struct Exceeded {
    /// The smallest threshold exceeded: the report's.
    threshold: Duration,
    /// The most any poll ran past its own threshold: a stall unless the thread spent at
    /// least that long waiting to run.
    excess: Duration,
}

/// One finished poll of an instrumented fn.
struct FinishedPoll {
    site: &'static FnSite,
    depth: u32,
    own: Duration,
    from: Option<&'static SourceLocation>,
    to: Option<&'static SourceLocation>,
}

thread_local! {
    static POLLS: ThreadPolls = const {
        ThreadPolls {
            depth: Cell::new(0),
            current: Cell::new(None),
            test_code: Cell::new(false),
            resume: Cell::new(None),
            nested: Cell::new(Duration::ZERO),
            exceeded: Cell::new(None),
            slot: OnceCell::new(),
            generation: Cell::new(0),
            min_threshold: Cell::new(Duration::MAX),
            finished: RefCell::new(Vec::new()),
            any_finished: Cell::new(false),
            collected: RefCell::new(None),
            pool_thread: Cell::new(false),
            excused: Cell::new(0),
        }
    };
}

/// Runs `f` with this thread's books.
pub(crate) fn with_polls<R>(f: impl FnOnce(&ThreadPolls) -> R) -> R {
    POLLS.with(f)
}

/// Runs `f` with this thread's books, unless they are gone (the thread is exiting).
pub(crate) fn try_with_polls<R>(f: impl FnOnce(&ThreadPolls) -> R) -> Option<R> {
    POLLS.try_with(f).ok()
}

/// A scope in which this thread's known-blocking calls are excused (see
/// [`excused`](super::excused)), until it is dropped.
pub(crate) struct Excuse(());

impl Excuse {
    pub(crate) fn begin() -> Excuse {
        // `try_with`: on a thread whose books are gone there is nothing to excuse.
        let _ = POLLS.try_with(|polls| polls.excused.set(polls.excused.get() + 1));
        Excuse(())
    }
}

impl Drop for Excuse {
    fn drop(&mut self) {
        let _ = POLLS.try_with(|polls| polls.excused.set(polls.excused.get().saturating_sub(1)));
    }
}

impl ThreadPolls {
    /// The `#[no_block]` fn being polled on this thread right now, if any.
    pub(super) fn current(&self) -> Option<&'static FnSite> {
        self.current.get()
    }

    /// Whether a test's own code is among the polls under way on this thread.
    pub(super) fn in_test_code(&self) -> bool {
        self.test_code.get()
    }

    /// This thread's slot, registered at its first instrumented poll.
    fn slot(&self) -> &Slot {
        self.slot
            .get()
            .expect("the slot is registered at the first poll")
    }
}

impl Drop for ThreadPolls {
    /// The thread is exiting: the watchdog forgets it.
    fn drop(&mut self) {
        if let Some(slot) = self.slot.get() {
            slot.retire();
        }
    }
}

/// A `#[no_block]` fn's body, timed at every poll.
#[derive(Debug)]
pub struct Guarded<'a, F> {
    /// The body's future, pinned in the fn's own future.
    body: Pin<&'a mut F>,
    site: &'static FnSite,
    /// The mark of the `.await` the body is at: its index in `site.awaits` plus one, or 0
    /// between `.await`s. The body writes it (see [`at_await`]); an atomic, not a `Cell`,
    /// so that the fn's future stays `Send`, and not a thread-local, so that it costs a
    /// plain store.
    at: &'a AtomicU32,
    /// Where the fn resumes at its next poll: the `.await` it last stopped at, `None` for
    /// its start.
    resume_at: Option<&'static SourceLocation>,
}

impl<'a, F: Future> Guarded<'a, F> {
    /// Wraps the body of the fn described by `site`, which marks its `.await`s in `at`.
    pub fn new(site: &'static FnSite, at: &'a AtomicU32, body: Pin<&'a mut F>) -> Self {
        Guarded {
            body,
            site,
            at,
            resume_at: None,
        }
    }
}

impl<F: Future> Future for Guarded<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let Some(frame) = Frame::enter(this.site, this.resume_at) else {
            return this.body.as_mut().poll(cx);
        };
        let poll = this.body.as_mut().poll(cx);
        #[cfg(feature = "detect-blocking-calls")]
        let (calls, from, test) = (frame.calls.stop(), this.resume_at, frame.in_test_code());
        let stopped_at = stopped_at(&poll, this.site, this.at);
        let report = frame.exit(this.resume_at, stopped_at);
        resume_next_at(&mut this.resume_at, stopped_at);
        #[cfg(feature = "detect-blocking-calls")]
        calls.report(this.site, from, stopped_at, test);
        if let Some((report, test)) = report {
            super::deliver(*report, test);
        }
        poll
    }
}

/// Where a poll that returned `poll` stopped: the `.await` marked in `at`, or `None` for
/// the end of the body (or a poll that stopped at an `.await` the macro did not mark,
/// inside a macro call or a nested block).
#[inline]
pub(crate) fn stopped_at<T>(
    poll: &Poll<T>,
    site: &'static FnSite,
    at: &AtomicU32,
) -> Option<&'static SourceLocation> {
    match (poll, at.load(Ordering::Relaxed)) {
        (Poll::Ready(_), _) | (Poll::Pending, 0) => None,
        (Poll::Pending, mark) => site.awaits.get(mark as usize - 1),
    }
}

/// Where the next poll resumes, after one that stopped at `stopped_at`.
#[inline]
pub(crate) fn resume_next_at(
    resume_at: &mut Option<&'static SourceLocation>,
    stopped_at: Option<&'static SourceLocation>,
) {
    if stopped_at.is_some() {
        // Stopped inside a macro call or a nested block, the span runs on from the last
        // boundary: `resume_at` stays.
        *resume_at = stopped_at;
    }
}

/// Marks that the body is about to await at the `.await` numbered `mark`; returns `future`.
#[inline]
pub fn at_await<F>(at: &AtomicU32, mark: u32, future: F) -> F {
    at.store(mark, Ordering::Relaxed);
    future
}

/// Marks that the `.await` before has finished; returns its output.
#[inline]
pub fn awaited<T>(at: &AtomicU32, output: T) -> T {
    at.store(0, Ordering::Relaxed);
    output
}

/// One instrumented poll under way: what it replaced in the books, and when it started.
struct Frame {
    site: &'static FnSite,
    depth: u32,
    start: Instant,
    threshold: Duration,
    outer_current: Option<&'static FnSite>,
    outer_test_code: bool,
    outer_resume: Option<&'static SourceLocation>,
    outer_nested: Duration,
    /// Set once [`Frame::exit`] has put the books back.
    exited: bool,
    /// The blocking calls made in the poll (`detect-blocking-calls`).
    #[cfg(feature = "detect-blocking-calls")]
    calls: super::calls::Watch,
}

impl Frame {
    /// Starts timing a poll of `site`, which resumes at `resume`, unless stalls are off
    /// and nobody collects them. Publishes the poll in the thread's slot for the watchdog.
    fn enter(site: &'static FnSite, resume: Option<&'static SourceLocation>) -> Option<Frame> {
        with_polls(|polls| {
            if !mode::enabled() && polls.collected.borrow().is_none() {
                return None;
            }
            let threshold = site.threshold();
            let slot = polls.slot.get_or_init(|| Slot::register(threshold));
            if threshold < polls.min_threshold.get() {
                polls.min_threshold.set(threshold);
                slot.note_threshold(threshold);
            }
            let depth = polls.depth.get() + 1;
            polls.depth.set(depth);
            slot.publish(Some(site), resume);
            if depth == 1 {
                let generation = polls.generation.get() + 1;
                polls.generation.set(generation);
                slot.begin(generation);
            }
            Some(Frame {
                site,
                depth,
                threshold,
                outer_current: polls.current.replace(Some(site)),
                outer_test_code: polls.test_code.replace(polls.test_code.get() || site.test),
                outer_resume: polls.resume.replace(resume),
                outer_nested: polls.nested.replace(Duration::ZERO),
                exited: false,
                // Last but the clock: what `enter` itself does is not watched.
                #[cfg(feature = "detect-blocking-calls")]
                calls: super::calls::Watch::start(polls.pool_thread.get()),
                start: Instant::now(),
            })
        })
    }

    /// Whether a test's own code is in this poll or one it is nested in.
    #[cfg(feature = "detect-blocking-calls")]
    fn in_test_code(&self) -> bool {
        self.outer_test_code || self.site.test
    }

    /// Stops timing, puts the books back, and, for the outermost poll, returns the report
    /// of a stall, and whether a test's own code was in the poll (the report boxed: the
    /// common case, no report, then moves a pointer, not a report-sized value).
    fn exit(
        mut self,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
    ) -> Option<(Box<StallReport>, bool)> {
        let elapsed = self.start.elapsed();
        #[cfg(feature = "release-stalls")]
        self.site.count_poll(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            self.threshold,
            from,
            to,
        );
        with_polls(|polls| {
            let own = elapsed.saturating_sub(polls.nested.get());
            self.restore(polls, elapsed);
            if elapsed > self.threshold {
                let excess = elapsed - self.threshold;
                polls.exceeded.set(Some(match polls.exceeded.get() {
                    None => Exceeded {
                        threshold: self.threshold,
                        excess,
                    },
                    Some(before) => Exceeded {
                        threshold: before.threshold.min(self.threshold),
                        excess: before.excess.max(excess),
                    },
                }));
            }
            let finished = FinishedPoll {
                site: self.site,
                depth: self.depth,
                own,
                from,
                to,
            };
            if self.depth > 1 {
                // The outermost poll may still stall: keep this one for its breakdown.
                polls.finished.borrow_mut().push(finished);
                polls.any_finished.set(true);
                return None;
            }
            // The outermost poll: the common case, no stall and nothing nested, touches
            // nothing more.
            let slot = polls.slot();
            let generation = polls.generation.get();
            let exceeded = polls.exceeded.take();
            if !polls.any_finished.replace(false) && exceeded.is_none() {
                slot.end(generation + 1);
                polls.generation.set(generation + 1);
                return None;
            }
            let mut all = polls.finished.borrow_mut();
            all.push(finished);
            let report = exceeded.and_then(|exceeded| {
                // A long poll: leave out the time the thread waited to run, if the watchdog
                // took a baseline for it. Reading it takes a moment, which counts as part
                // of the poll.
                let preempted =
                    slot.preempted_since_baseline(generation, self.start, exceeded.threshold);
                let elapsed_now = self.start.elapsed();
                let preempted = preempted.unwrap_or_default().min(elapsed_now);
                let late = elapsed_now - elapsed;
                if exceeded.excess + late <= preempted {
                    return None;
                }
                let report = build_report(&all, elapsed_now, preempted, exceeded.threshold);
                Some((Box::new(report), all.iter().any(|poll| poll.site.test)))
            });
            all.clear();
            slot.end(generation + 1);
            polls.generation.set(generation + 1);
            report
        })
    }

    /// Puts back what the poll replaced; its time counts as nested in the outer one. The
    /// outer poll is published again; the end of the outermost poll is published by its
    /// caller.
    fn restore(&mut self, polls: &ThreadPolls, elapsed: Duration) {
        polls.depth.set(self.depth - 1);
        polls.current.set(self.outer_current);
        polls.test_code.set(self.outer_test_code);
        polls.resume.set(self.outer_resume);
        polls.nested.set(self.outer_nested + elapsed);
        if self.depth > 1 {
            polls.slot().publish(self.outer_current, self.outer_resume);
        }
        self.exited = true;
    }
}

impl Drop for Frame {
    /// Only when the poll panicked: the books must be right for the thread's next poll.
    fn drop(&mut self) {
        if !self.exited {
            let elapsed = self.start.elapsed();
            with_polls(|polls| {
                self.restore(polls, elapsed);
                if self.depth == 1 {
                    polls.exceeded.set(None);
                    polls.any_finished.set(false);
                    polls.finished.borrow_mut().clear();
                    let generation = polls.generation.get() + 1;
                    polls.generation.set(generation);
                    polls.slot().end(generation);
                }
            });
        }
    }
}

/// The report of one poll of `site` alone, which held the thread for `held`, from `from` to
/// `to`: in a release build, where polls are not followed into the fns they await.
#[cfg(feature = "release-stalls")]
pub(crate) fn report_of_one_poll(
    site: &'static FnSite,
    held: Duration,
    threshold: Duration,
    from: Option<&'static SourceLocation>,
    to: Option<&'static SourceLocation>,
) -> StallReport {
    let poll = FinishedPoll {
        site,
        depth: 1,
        own: held,
        from,
        to,
    };
    build_report(&[poll], held, Duration::ZERO, threshold)
}

/// The report of a stalled outermost poll, from its finished polls, which held the thread
/// for `held`, of which it spent `preempted` waiting to run (at most `held`).
///
/// The preemption is left out of the own times as well as of the whole: the platform tells
/// how long the thread waited, not during which fn, so each own time gives up its share in
/// proportion to its length. Then they add up to at most what the report says the poll held
/// the thread, and the time left out is shown once, as `preempted`.
fn build_report(
    finished: &[FinishedPoll],
    held: Duration,
    preempted: Duration,
    threshold: Duration,
) -> StallReport {
    let blocked = held - preempted;
    let worst = finished
        .iter()
        .max_by_key(|poll| poll.own)
        .expect("the outermost poll is among the finished ones");
    let mut breakdown: Vec<(&'static str, Duration, u32)> = Vec::new();
    for poll in finished {
        match breakdown
            .iter_mut()
            .find(|(name, ..)| *name == poll.site.name)
        {
            Some((_, own, depth)) => {
                *own += poll.own;
                *depth = (*depth).min(poll.depth);
            }
            None => breakdown.push((poll.site.name, poll.own, poll.depth)),
        }
    }
    breakdown.sort_by_key(|&(_, _, depth)| depth);
    let (from, from_kind, to, to_kind) = worst.site.span(worst.from, worst.to);
    StallReport {
        function: worst.site.name,
        blocked,
        threshold,
        from,
        to,
        from_kind,
        to_kind,
        breakdown: breakdown
            .into_iter()
            .map(|(name, own, _)| (name, share(own, blocked, held)))
            .collect(),
        preempted,
        still_running: false,
        thread: std::thread::current().name().map(str::to_owned),
        stack: None,
        blocking_calls: Vec::new(),
        blocking_calls_not_recorded: 0,
    }
}

/// `part` of `whole`, scaled down to `scaled` for the whole (rounded down, so that scaled
/// parts never add up to more than `scaled`).
fn share(part: Duration, scaled: Duration, whole: Duration) -> Duration {
    if whole.is_zero() {
        return part;
    }
    let nanos = part.as_nanos() * scaled.as_nanos() / whole.as_nanos();
    // At most `scaled`'s nanoseconds when `part` is at most `whole`: it fits.
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn location(line: u32) -> SourceLocation {
        SourceLocation {
            file: "src/app.rs",
            line,
            column: 1,
        }
    }

    static OUTER: FnSite = FnSite::new("app::handle", None, location(1), location(9), &[], false);
    static INNER: FnSite = FnSite::new("app::query", None, location(11), location(19), &[], false);

    fn finished(site: &'static FnSite, depth: u32, own_ms: u64) -> FinishedPoll {
        FinishedPoll {
            site,
            depth,
            own: Duration::from_millis(own_ms),
            from: None,
            to: None,
        }
    }

    #[test]
    fn own_times_leave_out_the_preemption_and_never_exceed_the_time_held() {
        // 93.4 ms of own time in a poll that waited 4.5 ms of it for a core.
        let polls = [finished(&INNER, 2, 90), finished(&OUTER, 1, 3)];
        let held = Duration::from_micros(93_400);
        let preempted = Duration::from_micros(4_500);
        let report = build_report(&polls, held, preempted, Duration::from_millis(10));
        assert_eq!(report.blocked, Duration::from_micros(88_900));
        assert_eq!(report.preempted, preempted);
        assert_eq!(report.function, "app::query");
        let names: Vec<&str> = report.breakdown.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["app::handle", "app::query"]);
        let total: Duration = report.breakdown.iter().map(|(_, own)| *own).sum();
        assert!(total <= report.blocked, "{report:#?}");
        // Each gives up its share: the shares stay in proportion.
        let (outer, inner) = (report.breakdown[0].1, report.breakdown[1].1);
        assert!(inner < Duration::from_millis(90) && outer < Duration::from_millis(3));
        assert!(
            inner.abs_diff(outer * 30) < Duration::from_micros(1),
            "{report:#?}"
        );
        let text = report.to_string();
        assert!(text.contains("held the thread for 88.9 ms"), "{text}");
        assert!(text.contains("app::query 85.7 ms"), "{text}");
        assert_eq!(text.matches("4.5 ms").count(), 1, "{text}");

        // Without preemption, the own times are those measured.
        let report = build_report(&polls, held, Duration::ZERO, Duration::from_millis(10));
        assert_eq!(report.breakdown[1].1, Duration::from_millis(90));
    }
}
