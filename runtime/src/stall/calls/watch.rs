//! Watching the polls of instrumented fns for blocking calls, and reporting them.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

use super::books::{self, Outer, Record, State};
use super::filter;
use crate::stall::BlockingCall;
use crate::stall::guard::FnSite;
use crate::stall::report::{SourceLocation, StallReport};
use crate::stall::watchdog::{Stack, StackFrame};

/// The variable that makes writes to stdout and stderr count as blocking calls: `1`.
///
/// Off by default: a `println!` in a handler is usually a debugging aid or a log line, and
/// a terminal or a test harness's capture rarely blocks; every one would be a report.
const DETECT_STDIO_ENV: &str = "OFFLOAD_DETECT_STDIO";

/// The watch of one instrumented poll over the blocking calls made in it.
pub(crate) struct Watch {
    /// What the poll replaced; `None` once stopped.
    outer: Cell<Option<Outer>>,
}

/// The calls recorded in one poll, and how many it had no record for.
#[derive(Debug)]
pub(crate) struct Calls {
    records: Vec<Record>,
    missed: u32,
}

impl Watch {
    /// Begins to record the blocking calls of the poll starting now on this thread, unless
    /// it is a pool thread.
    pub(crate) fn start(pool_thread: bool) -> Watch {
        // Settled once, at the first poll, in ordinary code: an interposed call (perhaps in
        // a signal handler) only reads them.
        static SETTINGS: OnceLock<()> = OnceLock::new();
        SETTINGS.get_or_init(|| {
            let value = std::env::var(DETECT_STDIO_ENV);
            books::set_stdio(value.is_ok_and(|value| value.trim() == "1"));
            books::set_stacks(unwinding_is_signal_safe());
        });
        Watch {
            outer: Cell::new(Some(books::begin(pool_thread))),
        }
    }

    /// Stops recording: the outer poll's watch comes back; returns what this poll made.
    pub(crate) fn stop(&self) -> Calls {
        let (records, missed) = self
            .outer
            .take()
            .map(|outer| books::end(&outer))
            .unwrap_or_default();
        Calls { records, missed }
    }
}

impl Drop for Watch {
    /// Only when the poll panicked: the outer poll's watch comes back, this one's calls are
    /// dropped.
    fn drop(&mut self) {
        self.stop();
    }
}

impl Calls {
    /// Delivers the report of the calls made in a poll of `site` from `from` to `to`, in
    /// which a test's own code was (`test`) or not, unless none is to be reported. The
    /// reporting itself is not watched.
    pub(crate) fn report(
        self,
        site: &'static FnSite,
        from: Option<&'static SourceLocation>,
        to: Option<&'static SourceLocation>,
        test: bool,
    ) {
        if self.records.is_empty() && self.missed == 0 {
            return;
        }
        let _busy = Busy::start();
        let calls: Vec<BlockingCall> = self
            .records
            .iter()
            .map(|record| BlockingCall {
                call: record.call,
                count: record.count,
                took: record.took,
                stack: call_stack(record),
            })
            .filter(|call| filter::reported(call.call, &call.stack, call.took))
            .collect();
        let calls = merged(calls);
        if !calls.is_empty() || self.missed > 0 {
            let report = build_report(calls, self.missed, site, from, to);
            crate::stall::deliver(report, test);
        }
    }
}

/// `calls` with those of one site merged, in the order first made: a site is the C
/// function, the std function and the [`caller`](BlockingCall::caller) (calls from two
/// lines of one function are one site); the first's stack is kept.
fn merged(calls: Vec<BlockingCall>) -> Vec<BlockingCall> {
    let mut sites: Vec<BlockingCall> = Vec::with_capacity(calls.len());
    for call in calls {
        let site = sites.iter_mut().find(|site| {
            (site.call, site.from(), site.caller()) == (call.call, call.from(), call.caller())
        });
        match site {
            Some(site) => {
                site.count = site.count.saturating_add(call.count);
                site.took = site.took.saturating_add(call.took);
            }
            None => sites.push(call),
        }
    }
    sites
}

/// Runs `f` with the thread marked busy: the blocking calls it makes are not recorded
/// (those of an instrumented poll inside it are).
pub(crate) fn unwatched<T>(f: impl FnOnce() -> T) -> T {
    let _busy = Busy::start();
    f()
}

/// The thread marked busy while it reports or runs offload's own work, and put back
/// afterwards, even if that panics.
struct Busy(State);

impl Busy {
    fn start() -> Busy {
        let state = books::state();
        books::set_state(State::Busy);
        Busy(state)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        books::set_state(self.0);
    }
}

/// The report of a poll's blocking calls, and of `missed` more: no threshold (the calls
/// are reported however fast they were), the time they took as `blocked`, and the first
/// one's stack.
fn build_report(
    calls: Vec<BlockingCall>,
    missed: u32,
    site: &'static FnSite,
    from: Option<&'static SourceLocation>,
    to: Option<&'static SourceLocation>,
) -> StallReport {
    let (from, from_kind, to, to_kind) = site.span(from, to);
    StallReport {
        function: site.name,
        blocked: calls.iter().map(|call| call.took).sum(),
        threshold: Duration::ZERO,
        from,
        to,
        from_kind,
        to_kind,
        breakdown: Vec::new(),
        preempted: Duration::ZERO,
        still_running: false,
        thread: std::thread::current().name().map(str::to_owned),
        stack: calls.first().map(|call| call.stack.clone()),
        blocking_calls: calls,
        blocking_calls_not_recorded: missed,
    }
}

/// The stack of a recorded call, named: the C function first, then its caller (std's
/// frames, then the user's), without the interposer's own frames at the top nor the
/// executor's at the bottom.
fn call_stack(record: &Record) -> Stack {
    let mut stack = crate::stall::watchdog::stack::resolve(record.ips());
    // The walk starts inside the interposed function.
    let interposer = filter::interposer_of(record.call);
    if let Some(interposer) = stack
        .frames
        .iter()
        .position(|frame| frame.function.as_deref() == Some(interposer))
    {
        stack.frames.drain(..=interposer);
    }
    stack.frames.insert(
        0,
        StackFrame {
            function: Some(record.call.to_owned()),
            file: None,
            line: None,
        },
    );
    stack
}

/// Whether the watchdog's checks of what makes unwinding safe in a signal handler pass.
#[cfg(not(offload_not_linux))]
fn unwinding_is_signal_safe() -> bool {
    crate::stall::watchdog::sys::signal::preconditions_hold()
}

/// Without the watchdog's Linux code there is no check: no stacks.
#[cfg(offload_not_linux)]
fn unwinding_is_signal_safe() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stall::call_sites::tests::call;

    #[test]
    fn calls_of_one_function_std_function_and_c_function_are_one_site() {
        let calls = vec![
            call(
                "read",
                &["std::fs::read", "my_app::handler::{{closure}}"],
                1,
            ),
            call("read", &["std::fs::read", "my_app::other"], 1),
            call("read", &["std::fs::read", "my_app::handler"], 2),
            call("statx", &["std::fs::read", "my_app::handler"], 1),
        ];
        let merged = merged(calls);
        let sites: Vec<_> = merged
            .iter()
            .map(|site| (site.call, site.caller(), site.count))
            .collect();
        assert_eq!(
            sites,
            [
                ("read", Some("my_app::handler"), 3),
                ("read", Some("my_app::other"), 1),
                ("statx", Some("my_app::handler"), 1),
            ]
        );
    }
}
