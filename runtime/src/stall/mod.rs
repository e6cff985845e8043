//! Stall detection for `#[no_block]`: what a report holds and what it does.
//!
//! In debug builds, every poll of a `#[no_block]` fn's future is timed. A poll that holds
//! its thread longer than the fn's threshold (10 ms unless the attribute or
//! `OFFLOAD_STALL_THRESHOLD` says otherwise) is a stall, reported once, by the outermost
//! instrumented future on the thread. What the report does is the [`Mode`]. Unless code or
//! `OFFLOAD_STALL` sets one, a stall panics when a test's own code (a `#[no_block]` fn
//! compiled under `cfg(test)`, like a test body under `#[no_block]`) is in the stalled poll,
//! so that the test fails; elsewhere, as in a debug build of a server, it warns (one line on
//! stderr) and the server keeps serving.
//!
//! Time the thread spent waiting to run while other threads had the cores is left out,
//! where the platform tells it (Linux); and a watchdog thread reports a poll that has not
//! returned while it lasts, with its thread's stack where that can be taken (Linux with
//! glibc 2.35 or later). See the docs of `#[no_block]` in `async-offload`.
//!
//! With the `release-stalls` feature, release builds count and time every poll too (no
//! watchdog, no nesting: each fn's polls as a whole), and [`poll_stats`] reads the counts
//! in any build. A slow poll in a release build goes to a hook, or to a mode set in code or
//! by `OFFLOAD_STALL`; with none of them, it becomes a `WARN` event where the `tracing`
//! feature has a subscriber, and is only counted otherwise.

pub(crate) mod blocking;
mod call_sites;
#[cfg(feature = "detect-blocking-calls")]
mod calls;
#[cfg(feature = "release-stalls")]
pub(crate) mod counted;
pub(crate) mod guard;
mod mode;
#[cfg(test)]
pub(crate) use self::mode::parse_mode;
#[cfg(feature = "release-stalls")]
pub(crate) mod polls;
mod report;
mod watchdog;

pub(crate) use self::blocking::mark_pool_thread;
pub use self::call_sites::BlockingCall;
pub(crate) use self::guard::with_polls;
pub use self::mode::{Mode, set_hook, set_mode};
#[cfg(feature = "release-stalls")]
pub use self::polls::{PollStats, poll_stats};
pub use self::report::{LocationKind, SourceLocation, StallReport};
pub use self::watchdog::{Stack, StackFrame};

use self::mode::Action;

/// Runs `f`, whose blocking is expected, inside what may be a poll of a `#[no_block]` fn:
/// offload's own setup of the pools, or a test's setup or teardown
/// ([`allow_blocking`](crate::testing::allow_blocking)). Its calls of `#[blocking]` fns
/// pass, and with `detect-blocking-calls` the C library's blocking calls it makes are not
/// recorded (recorded, they would also take the places of the poll's own calls). Its time
/// still counts in the poll's: the thread is held all the same.
pub(crate) fn excused<T>(f: impl FnOnce() -> T) -> T {
    let _excuse = self::guard::Excuse::begin();
    #[cfg(feature = "detect-blocking-calls")]
    return calls::unwatched(f);
    #[cfg(not(feature = "detect-blocking-calls"))]
    f()
}

/// Sends a report on a finished poll where it goes: to
/// [`collect_stalls`](crate::testing::collect_stalls) if one is collecting on this thread,
/// else to what the mode decides, a panic in a test by default (`test`: a test's own code
/// was in the poll).
fn deliver(report: StallReport, test: bool) {
    if let Some(report) = uncollected(report) {
        act(mode::action(test), report);
    }
}

/// Gives `report` to [`collect_stalls`](crate::testing::collect_stalls) if one is
/// collecting on this thread; otherwise gives it back.
fn uncollected(report: StallReport) -> Option<StallReport> {
    let mut report = Some(report);
    // On a thread whose books are gone nothing collects: the report goes back.
    guard::try_with_polls(|polls| {
        if let Some(collected) = polls.collected.borrow_mut().as_mut() {
            collected.extend(report.take());
        }
    });
    report
}

/// Whether [`collect_stalls`](crate::testing::collect_stalls) is collecting on this thread.
#[cfg(feature = "release-stalls")]
fn collecting() -> bool {
    guard::try_with_polls(|polls| polls.collected.borrow().is_some()).unwrap_or(false)
}

/// Does `action` with `report`.
fn act(action: Action, report: StallReport) {
    match action {
        Action::Panic => panic!("{report}"),
        Action::Warn => warn(&report),
        Action::Off => {}
        Action::Hook(hook) => hook(&report),
    }
}

/// Sends a report on a poll still running (from the watchdog's reporter thread) where it
/// goes: the mode. `panic` and `warn` print it, whole, on stderr (a panic here would hit the
/// reporter, not the stalled task); with the `tracing` feature and a subscriber in place,
/// `warn` makes it a `WARN` event. A hook receives it. It never goes to
/// [`collect_stalls`](crate::testing::collect_stalls): a poll that never returns would
/// hide it there.
fn deliver_in_flight(report: &StallReport) {
    // `panic` and `warn` both print it: whether a test's code is in the poll, which decides
    // between them by default, makes no difference here.
    match mode::action(false) {
        Action::Off => {}
        Action::Hook(hook) => hook(report),
        #[cfg(feature = "tracing")]
        Action::Warn
            if tracing::dispatcher::get_default(|current| {
                !current.is::<tracing::subscriber::NoSubscriber>()
            }) =>
        {
            tracing::warn!(
                function = report.function,
                blocked_ms = report.blocked.as_secs_f64() * 1e3,
                threshold_ms = report.threshold.as_secs_f64() * 1e3,
                from = %report.from,
                still_running = true,
                thread = report.thread.as_deref().unwrap_or("<unnamed>"),
                "{report}"
            );
        }
        Action::Panic | Action::Warn => write_stderr(&format!("offload: {report}")),
    }
}

/// Writes `line` and a newline to the process's stderr, straight to it: not through a
/// test harness's capture, which the watchdog's threads inherit from the test that started
/// them (and which a test that hangs never shows).
fn write_stderr(line: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// `warn` mode: one line on stderr, or, with the `tracing` feature and a subscriber in
/// place, a `WARN` event (so that the report is not lost where nobody listens).
fn warn(report: &StallReport) {
    if trace(report) {
        return;
    }
    if report.blocking_call().is_some() {
        // With its stack, one frame a line, as a report on a poll still running.
        eprintln!("offload: {report}");
        return;
    }
    eprintln!("offload: {}", report.one_line());
}

/// With the `tracing` feature and a subscriber in place, makes `report` a `WARN` event and
/// returns `true`; otherwise returns `false`.
fn trace(report: &StallReport) -> bool {
    #[cfg(feature = "tracing")]
    if tracing::dispatcher::get_default(|current| {
        !current.is::<tracing::subscriber::NoSubscriber>()
    }) {
        tracing::warn!(
            function = report.function,
            blocked_ms = report.blocked.as_secs_f64() * 1e3,
            threshold_ms = report.threshold.as_secs_f64() * 1e3,
            from = %report.from,
            to = %report.to,
            thread = report.thread.as_deref().unwrap_or("<unnamed>"),
            "{}",
            report.one_line()
        );
        return true;
    }
    let _ = report;
    false
}
