//! What a stall report does: the modes set in code and in the environment, and the hook.
//!
//! The mode is global to the process, so this file is its own test binary, the modes set in
//! code are checked in one test, in order, and the environment variables (read once per
//! process) are checked in child processes: each `*_child` test is run by its parent test in
//! a fresh run of this binary with the variables set.

// What is checked here exists in debug builds only (`cargo test --release` has no checks
// to test; `tests/no_block.rs` builds one, with and without `release-stalls`).
#![cfg(debug_assertions)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_offload::no_block;
use async_offload::stall::{self, Mode, StallReport};

/// The variables that set the mode and the default threshold.
const STALL_ENV: &str = "OFFLOAD_STALL";
const STALL_THRESHOLD_ENV: &str = "OFFLOAD_STALL_THRESHOLD";
use async_offload::testing::collect_stalls;
use common::{child_done, in_child, panic_message, panic_of, run_child, thread_name};

/// Blocks 20 times its threshold in its only poll.
#[no_block(threshold = "1ms")]
async fn stalls() -> u32 {
    std::thread::sleep(Duration::from_millis(20));
    7
}

/// Blocks 10 times the default threshold (10 ms) in its only poll.
#[no_block]
async fn stalls_past_the_default_threshold() -> u32 {
    std::thread::sleep(Duration::from_millis(100));
    8
}

/// Returns at once: far below any threshold, but not below a zero one.
#[no_block]
async fn returns_at_once() -> u32 {
    9
}

/// What `#[no_block(threshold = "1ms")]` on `stalls` generates in a crate compiled without
/// `cfg(test)`, like a server's handler (in this test crate, `cfg!(test)` is true): blocks
/// 20 times its threshold in its only poll.
async fn stalls_outside_a_test() -> u32 {
    use async_offload::__private::{FnSite, Guarded};
    use async_offload::stall::SourceLocation;
    const HERE: SourceLocation = SourceLocation {
        file: file!(),
        line: line!(),
        column: 1,
    };
    static SITE: FnSite = FnSite::new(
        "server::handler",
        Some(Duration::from_millis(1)),
        HERE,
        HERE,
        &[],
        false,
    );
    let at = std::sync::atomic::AtomicU32::new(0);
    let body = std::pin::pin!(async {
        std::thread::sleep(Duration::from_millis(20));
        7
    });
    Guarded::new(&SITE, &at, body).await
}

/// A known-blocking fn: what a sync driver's call looks like.
#[async_offload::blocking]
fn known_blocking() -> u32 {
    3
}

/// A handler compiled without `cfg(test)` (built by hand as in `stalls_outside_a_test`)
/// that makes a known-blocking call inline, however fast.
async fn calls_known_blocking_outside_a_test() -> u32 {
    use async_offload::__private::{FnSite, Guarded};
    use async_offload::stall::SourceLocation;
    const HERE: SourceLocation = SourceLocation {
        file: file!(),
        line: line!(),
        column: 1,
    };
    static SITE: FnSite = FnSite::new(
        "server::blocking_handler",
        Some(Duration::from_secs(10)),
        HERE,
        HERE,
        &[],
        false,
    );
    let at = std::sync::atomic::AtomicU32::new(0);
    let body = std::pin::pin!(async { known_blocking() });
    Guarded::new(&SITE, &at, body).await
}

/// The same call in a test's own code.
#[no_block]
async fn calls_known_blocking_in_a_test() -> u32 {
    known_blocking()
}

/// A test's own code that awaits the handler: it does not block itself.
#[no_block(threshold = "1s")]
async fn awaits_the_handler() -> u32 {
    stalls_outside_a_test().await
}

/// Runs `future` on this thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// Checks that the task running `stalls()` panicked with its report as message.
#[track_caller]
fn assert_stalls_panics() {
    let payload = panic_of(stalls());
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("stall in stall_modes::stalls: one poll held the thread for "),
        "{message}"
    );
    for expected in [
        "(threshold 1 ms)\n",
        "\n  own time: stall_modes::stalls ",
        "\n  move the blocking call into an #[offload] fn",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} not in:\n{message}"
        );
    }
}

/// A hook that records the reports it receives, and the threads it ran on.
fn recording_hook() -> Arc<Mutex<Vec<(StallReport, String)>>> {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    stall::set_hook(move |report| sink.lock().unwrap().push((report.clone(), thread_name())));
    received
}

#[test]
fn modes_set_in_code_panic_warn_off_and_hook_in_turn() {
    assert!(
        std::env::var_os(STALL_ENV).is_none() && std::env::var_os(STALL_THRESHOLD_ENV).is_none(),
        "run this test without {STALL_ENV} and {STALL_THRESHOLD_ENV}: it checks the defaults"
    );

    // The default, for a test's own code (`stalls` is compiled under `cfg(test)`): the
    // stalled task panics with the report. (Outside a test it warns: see
    // `by_default_a_stall_outside_a_test_warns_and_one_in_a_test_panics`.)
    assert_stalls_panics();
    // And the default threshold is 10 ms.
    let (value, reports) = block_on(collect_stalls(stalls_past_the_default_threshold()));
    assert_eq!(value, 8);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].threshold, Duration::from_millis(10));

    // A hook receives each report, on the stalled thread, instead of a panic.
    let received = recording_hook();
    assert_eq!(block_on(stalls()), 7);
    {
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 1, "{received:#?}");
        let (report, thread) = &received[0];
        assert_eq!(report.function, "stall_modes::stalls");
        assert_eq!(report.threshold, Duration::from_millis(1));
        assert_eq!(*thread, thread_name());
        assert_eq!(report.thread.as_deref(), Some(&*thread_name()));
    }

    // `warn` replaces the hook, and does not panic (what it prints is checked by
    // `warn_from_the_environment_prints_one_line_per_stall`).
    stall::set_mode(Mode::Warn);
    assert_eq!(block_on(stalls()), 7);
    assert_eq!(received.lock().unwrap().len(), 1, "the hook was replaced");

    // `off`: no report at all, and no hook.
    let received = recording_hook();
    stall::set_mode(Mode::Off);
    assert_eq!(block_on(stalls()), 7);
    assert!(received.lock().unwrap().is_empty());
    // ... except for `collect_stalls`, which times polls in any mode.
    let (value, reports) = block_on(collect_stalls(stalls()));
    assert_eq!(value, 7);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert!(received.lock().unwrap().is_empty());

    // Back to `panic`.
    stall::set_mode(Mode::Panic);
    assert_stalls_panics();
    assert!(received.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// The environment, in child processes.

/// Runs the child test `name` with `env` set (see `common::run_child`) and returns its
/// stderr.
#[track_caller]
fn stderr_of_child(name: &str, env: &[(&str, &str)]) -> String {
    String::from_utf8_lossy(&run_child(name, env).stderr).into_owned()
}

/// The lines of a child's stderr that `warn` mode printed.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("offload: stall in"))
        .collect()
}

#[test]
#[ignore = "run by warn_from_the_environment_prints_one_line_per_stall in a child process"]
fn warn_from_env_child() {
    const NAME: &str = "warn_from_env_child";
    if !in_child(NAME) {
        return;
    }
    assert_eq!(block_on(stalls()), 7);
    assert_eq!(block_on(stalls()), 7);
    // A mode set in code wins over the variable.
    stall::set_mode(Mode::Panic);
    assert_stalls_panics();
    child_done(NAME);
}

#[test]
fn warn_from_the_environment_prints_one_line_per_stall() {
    let stderr = stderr_of_child("warn_from_env_child", &[(STALL_ENV, "warn")]);
    let warnings = warnings(&stderr);
    assert_eq!(warnings.len(), 2, "{stderr}");
    for line in warnings {
        assert!(
            line.starts_with("offload: stall in stall_modes::stalls: one poll held the thread"),
            "{line}"
        );
        for expected in [
            "(threshold 1 ms); from ",
            "; own time: stall_modes::stalls ",
            "; move the blocking call into an #[offload] fn",
        ] {
            assert!(line.contains(expected), "{expected:?} not in {line:?}");
        }
    }
}

#[test]
#[ignore = "run by by_default_a_stall_outside_a_test_warns_and_one_in_a_test_panics in a child process"]
fn default_child() {
    const NAME: &str = "default_child";
    if !in_child(NAME) {
        return;
    }
    // Outside a test's own code: a warning each, and the handler's value.
    assert_eq!(block_on(stalls_outside_a_test()), 7);
    assert_eq!(block_on(stalls_outside_a_test()), 7);
    eprintln!("child: outside a test checked");
    // The same stall in a poll of a test's own code fails it.
    let payload = panic_of(awaits_the_handler());
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("stall in server::handler: one poll held the thread for "),
        "{message}"
    );
    // A mode set in code wins over the default: `panic` outside a test, `warn` in one.
    stall::set_mode(Mode::Panic);
    panic_of(stalls_outside_a_test());
    stall::set_mode(Mode::Warn);
    assert_eq!(block_on(stalls()), 7);
    child_done(NAME);
}

#[test]
#[ignore = "run by by_default_a_known_blocking_call_outside_a_test_warns_and_one_in_a_test_panics in a child process"]
fn blocking_default_child() {
    const NAME: &str = "blocking_default_child";
    if !in_child(NAME) {
        return;
    }
    assert_eq!(block_on(calls_known_blocking_outside_a_test()), 3);
    let payload = panic_of(calls_known_blocking_in_a_test());
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("a call to the #[blocking] fn stall_modes::known_blocking at "),
        "{message}"
    );
    assert!(
        message.contains(
            "inside a poll of the #[no_block] fn stall_modes::calls_known_blocking_in_a_test"
        ),
        "{message}"
    );
    child_done(NAME);
}

#[test]
fn by_default_a_known_blocking_call_outside_a_test_warns_and_one_in_a_test_panics() {
    let stderr = stderr_of_child("blocking_default_child", &[]);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("offload: a call to the #[blocking] fn"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(
        warned[0].contains("inside a poll of the #[no_block] fn server::blocking_handler"),
        "{stderr}"
    );
}

#[test]
fn by_default_a_stall_outside_a_test_warns_and_one_in_a_test_panics() {
    let stderr = stderr_of_child("default_child", &[]);
    let (outside, rest) = stderr
        .split_once("child: outside a test checked")
        .expect("the child got past the checks outside a test");
    let outside = warnings(outside);
    assert_eq!(outside.len(), 2, "{stderr}");
    for line in outside {
        assert!(
            line.starts_with("offload: stall in server::handler: one poll held the thread"),
            "{line}"
        );
    }
    // Then only `warn` set in code prints a line.
    let rest = warnings(rest);
    assert_eq!(rest.len(), 1, "{stderr}");
    assert!(
        rest[0].starts_with("offload: stall in stall_modes::stalls:"),
        "{stderr}"
    );
}

#[test]
#[ignore = "run by off_from_the_environment_reports_nothing_unless_code_says_otherwise in a child process"]
fn off_from_env_child() {
    const NAME: &str = "off_from_env_child";
    if !in_child(NAME) {
        return;
    }
    assert_eq!(block_on(stalls()), 7);
    assert_eq!(block_on(stalls_past_the_default_threshold()), 8);
    eprintln!("child: off checked");
    // A hook set in code wins over the variable.
    let received = recording_hook();
    assert_eq!(block_on(stalls()), 7);
    assert_eq!(received.lock().unwrap().len(), 1);
    // So does a mode.
    stall::set_mode(Mode::Panic);
    assert_stalls_panics();
    child_done(NAME);
}

#[test]
fn off_from_the_environment_reports_nothing_unless_code_says_otherwise() {
    let stderr = stderr_of_child("off_from_env_child", &[(STALL_ENV, "off")]);
    let (off, _) = stderr
        .split_once("child: off checked")
        .expect("the child got past the `off` checks");
    assert!(!off.contains("stall"), "{off}");
}

#[test]
#[ignore = "run by an_invalid_mode_in_the_environment_is_reported_and_stalls_still_panic in a child process"]
fn invalid_mode_child() {
    const NAME: &str = "invalid_mode_child";
    if !in_child(NAME) {
        return;
    }
    assert_stalls_panics();
    child_done(NAME);
}

#[test]
fn an_invalid_mode_in_the_environment_is_reported_and_stalls_still_panic() {
    let stderr = stderr_of_child("invalid_mode_child", &[(STALL_ENV, "quiet")]);
    assert!(
        stderr.contains("offload: OFFLOAD_STALL=\"quiet\" is not a mode"),
        "{stderr}"
    );
}

#[test]
#[ignore = "run by the_threshold_from_the_environment_is_the_default_and_the_attribute_wins in a child process"]
fn raised_threshold_child() {
    const NAME: &str = "raised_threshold_child";
    if !in_child(NAME) {
        return;
    }
    // OFFLOAD_STALL_THRESHOLD=1s: 100 ms no longer stalls a fn without a threshold...
    let (value, reports) = block_on(collect_stalls(stalls_past_the_default_threshold()));
    assert_eq!(value, 8);
    assert!(reports.is_empty(), "{reports:#?}");
    // ... but a threshold written on the attribute stays.
    let (_, reports) = block_on(collect_stalls(stalls()));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].threshold, Duration::from_millis(1));
    // And the mode is still the default.
    assert_stalls_panics();
    child_done(NAME);
}

#[test]
#[ignore = "run by the_threshold_from_the_environment_is_the_default_and_the_attribute_wins in a child process"]
fn lowered_threshold_child() {
    const NAME: &str = "lowered_threshold_child";
    if !in_child(NAME) {
        return;
    }
    // OFFLOAD_STALL_THRESHOLD=5ms: the threshold of a fn without one.
    let (_, reports) = block_on(collect_stalls(stalls_past_the_default_threshold()));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].threshold, Duration::from_millis(5));
    child_done(NAME);
}

#[test]
#[ignore = "run by a_zero_threshold_in_the_environment_is_reported_and_the_default_kept in a child process"]
fn zero_threshold_child() {
    const NAME: &str = "zero_threshold_child";
    if !in_child(NAME) {
        return;
    }
    // OFFLOAD_STALL_THRESHOLD=0ms would make every poll a stall: the default stays.
    let (value, reports) = block_on(collect_stalls(returns_at_once()));
    assert_eq!(value, 9);
    assert!(reports.is_empty(), "{reports:#?}");
    let (_, reports) = block_on(collect_stalls(stalls_past_the_default_threshold()));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].threshold, Duration::from_millis(10));
    child_done(NAME);
}

#[test]
fn a_zero_threshold_in_the_environment_is_reported_and_the_default_kept() {
    let stderr = stderr_of_child("zero_threshold_child", &[(STALL_THRESHOLD_ENV, "0ms")]);
    let expected = "offload: OFFLOAD_STALL_THRESHOLD: duration \"0ms\" is zero, which would \
                    report every poll as a stall; give a positive threshold, like 10ms; the \
                    threshold stays 10 ms";
    assert_eq!(
        stderr.matches(expected).count(),
        1,
        "{expected:?} once in:\n{stderr}"
    );
}

#[test]
fn the_threshold_from_the_environment_is_the_default_and_the_attribute_wins() {
    run_child("raised_threshold_child", &[(STALL_THRESHOLD_ENV, "1s")]);
    run_child("lowered_threshold_child", &[(STALL_THRESHOLD_ENV, "5ms")]);
}
