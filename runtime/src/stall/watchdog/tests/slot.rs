//! Tests of what a polling thread publishes in its slot (`watchdog::slot`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::stall::guard::FnSite;
use crate::stall::report::SourceLocation;
use crate::stall::watchdog::Slot;

const fn location(line: u32) -> SourceLocation {
    SourceLocation {
        file: "src/lib.rs",
        line,
        column: 5,
    }
}

const fn site(name: &'static str, line: u32) -> FnSite {
    FnSite::new(name, None, location(line), location(line + 10), &[], false)
}

static OUTER: FnSite = site("outer", 1);
static OUTER_RESUME: SourceLocation = location(3);
static INNER: FnSite = site("inner", 20);
static INNER_RESUME: SourceLocation = location(22);

/// A thread that keeps entering and leaving a nested poll publishes two pairs in turn;
/// whenever the watchdog reads them, it reads one of the two, never a site with the
/// other's resume point.
#[test]
fn a_snapshot_pairs_a_site_with_its_own_resume_point() {
    let slot = Slot::new(Duration::from_millis(10));
    slot.begin(1);
    /// Stops the writer when dropped, also by a failed assertion.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let (mut outer, mut inner) = (0, 0);
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stopped.load(Ordering::Relaxed) {
                slot.publish(Some(&INNER), Some(&INNER_RESUME));
                slot.publish(Some(&OUTER), Some(&OUTER_RESUME));
            }
        });
        let _stop = Stop(&stopped);
        for _ in 0..200_000 {
            let Some(poll) = slot.snapshot() else {
                continue;
            };
            let resume = poll.resume.expect("both pairs have a resume point");
            if std::ptr::eq(poll.site, &OUTER) {
                assert!(std::ptr::eq(resume, &OUTER_RESUME), "outer with {resume}");
                outer += 1;
            } else {
                assert!(std::ptr::eq(poll.site, &INNER), "{:?}", poll.site);
                assert!(std::ptr::eq(resume, &INNER_RESUME), "inner with {resume}");
                inner += 1;
            }
        }
    });
    assert!(outer + inner > 0, "no snapshot was read whole");
}
