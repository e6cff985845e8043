//! The watchdog: a poll that does not return is reported while it lasts (from another
//! thread, with the stack where the poll blocks, on Linux), again later, and once more when
//! it returns.
//!
//! The hook is global to the process, so this file is its own test binary; the modes that
//! print are checked in child processes (each `*_child` test is run by its parent test in a
//! fresh run of this binary), whose stderr the parent reads as it comes.

#![cfg(debug_assertions)]

mod common;

use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_offload::no_block;
use async_offload::stall::{self, LocationKind, StallReport};

/// The variables that set the mode and turn stacks off.
const STALL_STACKS_ENV: &str = "OFFLOAD_STALL_STACKS";
use common::{
    HANG_GUARD, assert_child_passed, child_done, child_test, in_child, panic_message, panic_of,
    run_child,
};

/// A future that is pending once (waking itself at once), then ready with `value`.
struct YieldOnce<T>(Option<T>, bool);

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.1 {
            Poll::Ready(self.0.take().expect("polled after it finished"))
        } else {
            self.1 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn yield_once<T: Unpin>(value: T) -> YieldOnce<T> {
    YieldOnce(Some(value), false)
}

/// The sync call that blocks: waits until the test releases it.
#[inline(never)]
fn wait_for_release(release: &mpsc::Receiver<()>) {
    release.recv().expect("released");
}

#[no_block(threshold = "10ms")]
async fn waits_for_release(release: mpsc::Receiver<()>) -> u32 {
    let resumed = yield_once(line!()).await;
    wait_for_release(&release);
    resumed
}

/// Waits for the next report, or fails after [`HANG_GUARD`].
#[track_caller]
fn next(reports: &mpsc::Receiver<StallReport>) -> StallReport {
    reports
        .recv_timeout(HANG_GUARD)
        .expect("a report within the hang guard")
}

#[test]
fn a_poll_that_does_not_return_is_reported_while_it_lasts_then_when_it_returns() {
    let (sender, reports) = mpsc::channel();
    stall::set_hook(move |report| {
        let _ = sender.send(report.clone());
    });
    let (release, released) = mpsc::channel();
    let blocked = std::thread::Builder::new()
        .name("watchdog-blocked".into())
        .spawn(move || futures::executor::block_on(waits_for_release(released)))
        .unwrap();

    // The poll is blocked until the test releases it, which it does only after two reports:
    // they come while it lasts.
    let first = next(&reports);
    assert!(first.still_running, "{first:#?}");
    assert_eq!(first.function, "watchdog::waits_for_release");
    assert_eq!(first.from_kind, LocationKind::Await);
    assert_eq!(first.from.file, file!());
    assert_eq!(first.threshold, Duration::from_millis(10));
    // The watchdog reports at ages of 1 s, 2 s...; a wait for a core is left out of
    // `blocked` and shown apart.
    assert!(
        first.blocked + first.preempted >= Duration::from_secs(1),
        "{first:#?}"
    );
    assert_eq!(first.thread.as_deref(), Some("watchdog-blocked"));
    assert!(first.breakdown.is_empty());
    let text = first.to_string();
    assert!(
        text.starts_with("stall in watchdog::waits_for_release: one poll has held the thread for ")
            && text.contains(" so far and has not returned (threshold 10 ms)\n"),
        "{text}"
    );
    // (A wait for a core, if the watchdog saw one, is shown before the thread's name.)
    assert!(text.contains(", still running\n  "), "{text}");
    assert!(text.contains("thread: watchdog-blocked\n"), "{text}");
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        // Where it blocks: the fn that made the blocking call, the call itself, and the
        // instrumented fn, without offload's frames or the executor's.
        let functions = common::stack_functions(&first);
        let at = |name: &str| {
            functions
                .iter()
                .position(|function| function.ends_with(name))
        };
        let (Some(call), Some(caller), Some(body)) = (
            at("Receiver::recv"),
            at("watchdog::wait_for_release"),
            functions
                .iter()
                .position(|function| function.starts_with("watchdog::waits_for_release")),
        ) else {
            panic!("the stack does not show where the poll blocks: {functions:#?}");
        };
        assert!(call < caller && caller < body, "{functions:#?}");
        assert!(
            functions
                .iter()
                .all(|function| !function.contains("async_offload_runtime")
                    && !function.contains("futures_executor")),
            "{functions:#?}"
        );
        assert!(
            text.contains(
                "\n  stack, innermost first (offload's and the executor's frames left out, other crates' between the user's shown as one line):\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n    watchdog::wait_for_release at tests/watchdog.rs:"),
            "{text}"
        );
    }

    // Again, later: the age has doubled.
    let second = next(&reports);
    assert!(second.still_running, "{second:#?}");
    assert!(
        second.blocked + second.preempted >= Duration::from_secs(2),
        "{second:#?}"
    );
    assert!(!blocked.is_finished());

    // Released: the poll returns, and the usual report follows.
    release.send(()).unwrap();
    let last = next(&reports);
    assert!(!last.still_running, "{last:#?}");
    assert_eq!(last.function, "watchdog::waits_for_release");
    assert!(last.blocked >= second.blocked, "{last:#?}");
    assert_eq!(last.stack, None);
    assert_eq!(blocked.join().unwrap(), first.from.line);
}

// ---------------------------------------------------------------------------------------
// What `panic` mode (the default) does with them, in child processes.

/// The sync call that blocks in a child: reads a line from stdin, which the parent writes
/// once it has read the report on stderr.
#[inline(never)]
fn read_a_line_from_stdin() -> String {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
    line
}

#[no_block(threshold = "10ms")]
async fn waits_for_stdin() -> String {
    yield_once(()).await;
    read_a_line_from_stdin()
}

#[test]
#[ignore = "run by the parents below in a child process"]
fn blocked_on_stdin_child() {
    if !in_child("blocked_on_stdin_child") {
        return;
    }
    // In `panic` mode: the end-of-poll report still panics in the task.
    let payload = panic_of(waits_for_stdin());
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("stall in watchdog::waits_for_stdin: one poll held the thread for "),
        "{message}"
    );
    child_done("blocked_on_stdin_child");
}

/// Runs `blocked_on_stdin_child` with `env`; returns the first report on a poll still
/// running that it printed, once it has printed it whole, then releases the child and
/// checks that it passed.
fn report_printed_by_a_child(env: &[(&str, &str)]) -> String {
    report_and_caught_signals_of_a_child(env).0
}

/// [`report_printed_by_a_child`], and the signals the child had handlers for once it had
/// printed the report (`SigCgt` of `/proc/<pid>/status`: bit `n - 1` for signal `n`).
fn report_and_caught_signals_of_a_child(env: &[(&str, &str)]) -> (String, u64) {
    let mut child = child_test("blocked_on_stdin_child")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, printed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut report = String::new();
    loop {
        let Ok(line) = printed.recv_timeout(HANG_GUARD) else {
            let _ = child.kill();
            panic!("no report on the running poll within the hang guard; so far:\n{report}");
        };
        if !report.is_empty() || line.starts_with("offload: stall in watchdog::waits_for_stdin") {
            let end = line.starts_with("  move the blocking call");
            report.push_str(&line);
            report.push('\n');
            if end {
                break;
            }
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .expect("the child's status");
    let caught = status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .expect("a SigCgt line");
    // Only now does the poll return.
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let output = child.wait_with_output().expect("the child ends");
    assert_child_passed("blocked_on_stdin_child", &output);
    (report, caught)
}

#[test]
fn panic_mode_prints_a_report_on_a_poll_still_running_and_panics_when_it_returns() {
    let report = report_printed_by_a_child(&[]);
    assert!(
        report.starts_with(
            "offload: stall in watchdog::waits_for_stdin: one poll has held the thread for "
        ),
        "{report}"
    );
    assert!(
        report.contains(" so far and has not returned (threshold 10 ms)\n"),
        "{report}"
    );
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert!(
            report.contains("\n    watchdog::read_a_line_from_stdin at tests/watchdog.rs:"),
            "{report}"
        );
    }
    eprintln!("{report}");
}

#[test]
fn offload_stall_stacks_0_leaves_the_stack_out() {
    let report = report_printed_by_a_child(&[(STALL_STACKS_ENV, "0")]);
    assert!(
        report.contains("\n  stack: not taken (turned off by OFFLOAD_STALL_STACKS=0)\n"),
        "{report}"
    );
    assert!(!report.contains("read_a_line_from_stdin"), "{report}");
}

/// The signal that asks a thread for its stack: `OFFLOAD_STALL_SIGNAL` picks it.
const STALL_SIGNAL_ENV: &str = "OFFLOAD_STALL_SIGNAL";

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn offload_stall_signal_picks_the_signal_that_takes_the_stack() {
    let (report, caught) = report_and_caught_signals_of_a_child(&[(STALL_SIGNAL_ENV, "SIGUSR2")]);
    assert!(
        report.contains("\n    watchdog::read_a_line_from_stdin at tests/watchdog.rs:"),
        "{report}"
    );
    // SIGUSR2 is 12 and SIGURG 23 on Linux.
    let (usr2, urg) = (1 << (12 - 1), 1 << (23 - 1));
    assert_eq!(caught & (usr2 | urg), usr2, "caught: {caught:#x}");
}

#[test]
fn a_signal_offload_does_not_know_turns_the_stacks_off_and_says_why() {
    let report = report_printed_by_a_child(&[(STALL_SIGNAL_ENV, "SIGPIPE")]);
    assert!(
        report.contains(
            "\n  stack: not taken (OFFLOAD_STALL_SIGNAL=SIGPIPE is not SIGURG, SIGUSR1, SIGUSR2 \
             or SIGRTMIN+<n> (up to SIGRTMAX))\n"
        ),
        "{report}"
    );
    assert!(!report.contains("read_a_line_from_stdin"), "{report}");
}

// ---------------------------------------------------------------------------------------
// When the watchdog runs, in a child process (the other tests here keep it busy).

/// How many times the watchdog thread has gone to sleep and woken up (its voluntary
/// context switches); `None` while it has not started.
#[cfg(target_os = "linux")]
fn watchdog_wakeups() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("a task").path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if name.trim_end() == "offload.watchdo" {
            let status = std::fs::read_to_string(path.join("status")).ok()?;
            return status
                .lines()
                .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|count| count.trim().parse().ok());
        }
    }
    None
}

#[no_block(threshold = "10ms")]
async fn quick() -> u32 {
    yield_once(1).await
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by the_watchdog_starts_with_the_first_poll_and_sleeps_when_polls_stop in a child process"]
fn idle_child() {
    if !in_child("idle_child") {
        return;
    }
    // No instrumented poll yet: no watchdog.
    assert_eq!(watchdog_wakeups(), None, "a watchdog before the first poll");
    assert_eq!(futures::executor::block_on(quick()), 1);
    assert!(
        common::eventually(|| watchdog_wakeups().is_some()),
        "no watchdog after a poll"
    );
    // No poll any more: it stops waking up (a second without a wake-up, within the guard).
    let mut last = watchdog_wakeups().unwrap();
    let mut quiet_since = std::time::Instant::now();
    assert!(
        common::eventually(|| {
            let now = watchdog_wakeups().unwrap();
            if now != last {
                last = now;
                quiet_since = std::time::Instant::now();
            }
            quiet_since.elapsed() >= Duration::from_secs(1)
        }),
        "the watchdog kept waking up without polls"
    );
    // A poll wakes it again.
    assert_eq!(futures::executor::block_on(quick()), 1);
    assert!(
        common::eventually(|| watchdog_wakeups().unwrap() > last),
        "a poll did not wake the watchdog"
    );
    child_done("idle_child");
}

#[cfg(target_os = "linux")]
#[test]
fn the_watchdog_starts_with_the_first_poll_and_sleeps_when_polls_stop() {
    run_child("idle_child", &[]);
}
