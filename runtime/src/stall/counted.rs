//! A `#[no_block]` fn's body in a release build with `release-stalls`: each poll counted
//! and timed, and a slow one reported to a hook or a `tracing` subscriber if there is one.
//!
//! Nothing of the debug build's checks runs here: no watchdog, no per-thread books, no
//! breakdown of a poll's time among the fns it awaits. A poll costs two readings of the
//! pools' clock, [`PollCounts::record`](super::polls::PollCounts), and two accesses of a
//! thread-local depth, so that a stall inside nested fns is reported once, by the
//! innermost one that ran past its threshold.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::task::{Context, Poll};
use std::time::Duration;

use super::guard::{FnSite, report_of_one_poll, resume_next_at, stopped_at};
use super::mode;
use super::report::SourceLocation;
use crate::pool::clock::Nanos;

/// A `#[no_block]` fn's body, counted and timed at every poll: what [`Guarded`] is in a
/// debug build.
///
/// [`Guarded`]: super::guard::Guarded
#[derive(Debug)]
pub struct Counted<'a, F> {
    /// The body's future, pinned in the fn's own future.
    body: Pin<&'a mut F>,
    site: &'static FnSite,
    /// The mark of the `.await` the body is at, as for `Guarded`.
    at: &'a AtomicU32,
    /// Where the fn resumes at its next poll: the `.await` it last stopped at, `None` for
    /// its start.
    resume_at: Option<&'static SourceLocation>,
}

impl<'a, F: Future> Counted<'a, F> {
    /// Wraps the body of the fn described by `site`, which marks its `.await`s in `at`.
    pub fn new(site: &'static FnSite, at: &'a AtomicU32, body: Pin<&'a mut F>) -> Self {
        Counted {
            body,
            site,
            at,
            resume_at: None,
        }
    }
}

impl<F: Future> Future for Counted<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if !mode::enabled() && !super::collecting() {
            return this.body.as_mut().poll(cx);
        }
        let under_way = UnderWay::enter();
        let start = Nanos::now();
        let poll = this.body.as_mut().poll(cx);
        let nanos = Nanos::now().nanos_since(start);
        let stopped_at = stopped_at(&poll, this.site, this.at);
        let threshold = this.site.threshold();
        if this
            .site
            .count_poll(nanos, threshold, this.resume_at, stopped_at)
            && under_way.first_report()
        {
            report_slow_poll(this.site, nanos, threshold, this.resume_at, stopped_at);
        }
        resume_next_at(&mut this.resume_at, stopped_at);
        poll
    }
}

thread_local! {
    /// This thread's polls of `#[no_block]` fns under way, one inside the other, and
    /// whether a slow one among them has been reported. A stall is reported once, by the
    /// innermost fn that ran past its threshold: the polls around it ran past theirs for
    /// the same reason (they are counted slow all the same). No destructor: a `const`
    /// thread-local of plain values.
    static UNDER_WAY: Cell<(u32, bool)> = const { Cell::new((0, false)) };
}

/// One poll of [`UNDER_WAY`], left when dropped (even by a panic in the body).
struct UnderWay(());

impl UnderWay {
    fn enter() -> UnderWay {
        UNDER_WAY.with(|under_way| {
            let (depth, reported) = under_way.get();
            under_way.set((depth + 1, reported));
        });
        UnderWay(())
    }

    /// Whether a slow poll ending now is the first of its stall to be reported; if so, the
    /// polls around it are not.
    fn first_report(&self) -> bool {
        UNDER_WAY.with(|under_way| {
            let (depth, reported) = under_way.get();
            under_way.set((depth, true));
            !reported
        })
    }
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        UNDER_WAY.with(|under_way| {
            let (depth, reported) = under_way.get();
            let depth = depth - 1;
            // The outermost poll is over: the next stall is another.
            under_way.set((depth, reported && depth > 0));
        });
    }
}

/// Reports a slow poll of `site` that took `nanos`, from `from` to `to`, to whoever
/// listens: a collector of `testing::collect_stalls`, a hook, a mode set in code or by
/// `OFFLOAD_STALL`, or a `tracing` subscriber.
#[cold]
#[inline(never)]
fn report_slow_poll(
    site: &'static FnSite,
    nanos: u64,
    threshold: Duration,
    from: Option<&'static SourceLocation>,
    to: Option<&'static SourceLocation>,
) {
    let report = report_of_one_poll(site, Duration::from_nanos(nanos), threshold, from, to);
    let Some(report) = super::uncollected(report) else {
        return;
    };
    match mode::release_action() {
        Some(action) => super::act(action, report),
        None => {
            super::trace(&report);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::stall::LocationKind;
    use crate::stall::polls::stats_of;

    /// Far past any scheduling delay of the fast poll, and far below the slow one's.
    const THRESHOLD: Duration = Duration::from_millis(100);
    const BLOCK: Duration = Duration::from_millis(150);

    const fn location(line: u32) -> SourceLocation {
        SourceLocation {
            file: "src/app.rs",
            line,
            column: 5,
        }
    }

    static AWAITS: [SourceLocation; 1] = [location(4)];
    static SITE: FnSite = FnSite::new(
        "app::handle",
        Some(THRESHOLD),
        location(2),
        location(9),
        &AWAITS,
        false,
    );

    /// A body that stops at its first `.await` at once, then blocks for [`BLOCK`] and ends.
    struct Body<'a> {
        at: &'a AtomicU32,
        stopped: bool,
    }

    impl Future for Body<'_> {
        type Output = u32;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if !self.stopped {
                self.stopped = true;
                self.at.store(1, Ordering::Relaxed);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.at.store(0, Ordering::Relaxed);
            std::thread::sleep(BLOCK);
            Poll::Ready(7)
        }
    }

    #[test]
    fn each_poll_is_counted_and_a_slow_one_reported_with_its_span() {
        let at = AtomicU32::new(0);
        let body = pin!(Body {
            at: &at,
            stopped: false,
        });
        let counted = Counted::new(&SITE, &at, body);
        let (value, reports) = futures::executor::block_on(crate::testing::collect_stalls(counted));
        assert_eq!(value, 7);

        let [report] = &reports[..] else {
            panic!("one report, of the slow poll: {reports:?}");
        };
        assert_eq!(report.function, "app::handle");
        assert!(report.blocked >= BLOCK, "{report}");
        assert_eq!(
            (report.from.line, report.from_kind),
            (4, LocationKind::Await)
        );
        assert_eq!((report.to.line, report.to_kind), (9, LocationKind::End));

        let stats = stats_of(&SITE);
        assert_eq!((stats.polls, stats.slow_polls), (2, 1), "{stats:?}");
        assert!(stats.slow_time >= BLOCK, "{stats:?}");
        assert_eq!(
            stats.longest, stats.slow_time,
            "the slow poll is the longest"
        );
        assert_eq!(
            (stats.longest_from.line, stats.longest_from_kind),
            (4, LocationKind::Await)
        );
        assert_eq!(
            (stats.longest_to.line, stats.longest_to_kind),
            (9, LocationKind::End)
        );
        assert_eq!(stats.threshold, THRESHOLD);
    }

    static OUTER: FnSite = FnSite::new(
        "app::route",
        Some(THRESHOLD),
        location(20),
        location(29),
        &[],
        false,
    );
    static INNER: FnSite = FnSite::new(
        "app::query",
        Some(THRESHOLD),
        location(30),
        location(39),
        &AWAITS,
        false,
    );

    #[test]
    fn a_stall_inside_nested_fns_is_reported_once_by_the_innermost_and_counted_by_each() {
        let (outer_at, inner_at) = (AtomicU32::new(0), AtomicU32::new(0));
        let body = pin!(Body {
            at: &inner_at,
            stopped: false,
        });
        let inner = pin!(Counted::new(&INNER, &inner_at, body));
        let outer = Counted::new(&OUTER, &outer_at, inner);
        let (value, reports) = futures::executor::block_on(crate::testing::collect_stalls(outer));
        assert_eq!(value, 7);
        let [report] = &reports[..] else {
            panic!("one report for the one stall: {reports:?}");
        };
        assert_eq!(report.function, "app::query");
        for site in [&OUTER, &INNER] {
            let stats = stats_of(site);
            assert_eq!((stats.polls, stats.slow_polls), (2, 1), "{stats:?}");
        }
        // The next stall on this thread is reported again.
        let at = AtomicU32::new(0);
        let body = pin!(Body {
            at: &at,
            stopped: false,
        });
        let (_, reports) = futures::executor::block_on(crate::testing::collect_stalls(
            Counted::new(&OUTER, &at, body),
        ));
        assert_eq!(reports.len(), 1, "{reports:?}");
    }
}
