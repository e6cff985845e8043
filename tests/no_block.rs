//! `#[no_block]` and `#[blocking]` in a debug build: the shapes of fn the attribute takes,
//! what a stall report says (checked with `collect_stalls`, so no global mode is touched),
//! the `#[blocking]` check, and a release build that leaves every fn as written.
//!
//! The lines a report must name are taken with `line!()` on the line of the `.await` itself,
//! and returned by the fn under test, so that no line number is written here.

// What is checked here exists in debug builds only (`cargo test --release` has no checks
// to test; `a_release_build_leaves_the_fns_as_written_unless_release_stalls_counts_them`
// builds one).
#![cfg(debug_assertions)]

mod common;

use std::fmt::Display;
use std::future::Future;
use std::num::ParseIntError;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_offload::stall::{LocationKind, StallReport};
use async_offload::testing::collect_stalls;
use async_offload::{blocking, no_block, offload};
use common::{panic_message, panic_of};

/// How long the fns below that block hold their thread: 20 times their threshold (`1ms`).
const BLOCK: Duration = Duration::from_millis(20);

/// Holds the thread far longer than the thresholds of the fns that call it.
fn block() {
    std::thread::sleep(BLOCK);
}

/// A future that is pending once (waking itself at once), then ready with `value`.
fn yield_once<T: Unpin>(value: T) -> YieldOnce<T> {
    YieldOnce {
        value: Some(value),
        yielded: false,
    }
}

struct YieldOnce<T> {
    value: Option<T>,
    yielded: bool,
}

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.yielded {
            Poll::Ready(self.value.take().expect("polled after it finished"))
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Runs `future` on this thread and returns its output and the stall reports it produced.
fn collect<F: Future>(future: F) -> (F::Output, Vec<StallReport>) {
    futures::executor::block_on(collect_stalls(future))
}

/// The only report of `reports`; fails if there is none or more than one.
#[track_caller]
fn only(reports: Vec<StallReport>) -> StallReport {
    assert_eq!(reports.len(), 1, "expected one report, got {reports:#?}");
    reports.into_iter().next().unwrap()
}

/// The function names of a report's breakdown, in its order.
fn breakdown_names(report: &StallReport) -> Vec<&'static str> {
    report.breakdown.iter().map(|&(name, _)| name).collect()
}

// ---------------------------------------------------------------------------------------
// What a report says.

#[no_block(threshold = "1ms")]
async fn blocks_between_awaits() -> [u32; 2] {
    let first = yield_once(line!()).await;
    block();
    let second = yield_once(line!()).await;
    [first, second]
}

#[test]
fn a_stall_between_two_awaits_is_reported_from_the_first_to_the_second() {
    let ([first, second], reports) = collect(blocks_between_awaits());
    let report = only(reports);
    assert_eq!(report.function, "no_block::blocks_between_awaits");
    assert_eq!(report.from_kind, LocationKind::Await);
    assert_eq!(report.to_kind, LocationKind::Await);
    assert_eq!((report.from.line, report.to.line), (first, second));
    assert_eq!((report.from.file, report.to.file), (file!(), file!()));
    assert!(report.from.column > 1 && report.to.column > 1, "{report:?}");
    assert_eq!(report.threshold, Duration::from_millis(1));
    assert!(report.blocked > report.threshold, "{report:?}");
    assert_eq!(
        breakdown_names(&report),
        ["no_block::blocks_between_awaits"]
    );
    assert!(!report.still_running);
}

#[no_block(threshold = "1ms")]
async fn blocks_at_start() -> [u32; 2] {
    let start = line!() - 1; // the line of the body's `{`
    block();
    let stopped = yield_once(line!()).await;
    [start, stopped]
}

#[test]
fn a_stall_before_the_first_await_is_reported_from_the_start_of_the_fn() {
    let ([start, stopped], reports) = collect(blocks_at_start());
    let report = only(reports);
    assert_eq!(report.function, "no_block::blocks_at_start");
    assert_eq!(
        (report.from_kind, report.from.line),
        (LocationKind::Start, start)
    );
    assert_eq!(
        (report.to_kind, report.to.line),
        (LocationKind::Await, stopped)
    );
    assert_eq!((report.from.file, report.to.file), (file!(), file!()));
}

#[no_block(threshold = "1ms")]
async fn blocks_at_end() -> [u32; 2] {
    let resumed = yield_once(line!()).await;
    block();
    [resumed, line!() + 1] // the next line is the body's `}`
}

#[test]
fn a_stall_after_the_last_await_is_reported_to_the_end_of_the_fn() {
    let ([resumed, end], reports) = collect(blocks_at_end());
    let report = only(reports);
    assert_eq!(report.function, "no_block::blocks_at_end");
    assert_eq!(
        (report.from_kind, report.from.line),
        (LocationKind::Await, resumed)
    );
    assert_eq!((report.to_kind, report.to.line), (LocationKind::End, end));
}

#[no_block(threshold = "1ms")]
async fn blocks_twice() -> [u32; 3] {
    let start = line!() - 1;
    block();
    let between = yield_once(line!()).await;
    block();
    [start, between, line!() + 1]
}

#[test]
fn each_stalled_poll_is_reported_once_with_its_own_span() {
    let ([start, between, end], reports) = collect(blocks_twice());
    let spans: Vec<_> = reports
        .iter()
        .map(|report| {
            assert_eq!(report.function, "no_block::blocks_twice");
            (
                report.from_kind,
                report.from.line,
                report.to_kind,
                report.to.line,
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            (LocationKind::Start, start, LocationKind::Await, between),
            (LocationKind::Await, between, LocationKind::End, end),
        ]
    );
}

#[no_block(threshold = "1ms")]
async fn blocks_after_a_macro_await() -> [u32; 2] {
    let resumed = yield_once(line!()).await;
    // Not a span boundary: the poll that stops in here is reported from `resumed` on.
    tokio::join!(yield_once(()));
    block();
    [resumed, line!() + 1]
}

#[test]
fn an_await_in_a_macro_call_is_not_a_span_boundary() {
    let ([resumed, end], reports) = collect(blocks_after_a_macro_await());
    let report = only(reports);
    assert_eq!(
        (report.from_kind, report.from.line),
        (LocationKind::Await, resumed)
    );
    assert_eq!((report.to_kind, report.to.line), (LocationKind::End, end));
}

#[no_block(threshold = "1ms")]
async fn outer_of_a_blocking_inner() -> [u32; 3] {
    let outer = yield_once(line!()).await;
    let [inner, inner_end] = inner_that_blocks().await;
    [outer, inner, inner_end]
}

#[no_block(threshold = "1ms")]
async fn inner_that_blocks() -> [u32; 2] {
    let resumed = yield_once(line!()).await;
    block();
    [resumed, line!() + 1]
}

#[test]
fn a_stall_in_a_nested_fn_is_reported_once_naming_the_nested_fn_and_its_span() {
    // Both fns exceed their threshold in the same poll (the outer one's time includes the
    // inner one's): one report, from the outermost future, about the inner fn.
    let ([_, inner, inner_end], reports) = collect(outer_of_a_blocking_inner());
    let report = only(reports);
    assert_eq!(report.function, "no_block::inner_that_blocks");
    assert_eq!(
        (report.from_kind, report.from.line),
        (LocationKind::Await, inner)
    );
    assert_eq!(
        (report.to_kind, report.to.line),
        (LocationKind::End, inner_end)
    );
    assert_eq!(
        breakdown_names(&report),
        [
            "no_block::outer_of_a_blocking_inner",
            "no_block::inner_that_blocks"
        ]
    );
}

#[no_block(threshold = "1ms")]
async fn blocks_itself_around_a_quick_inner() -> [u32; 2] {
    let resumed = quick_inner(line!()).await;
    block();
    [resumed, line!() + 1]
}

#[no_block(threshold = "1s")]
async fn quick_inner(value: u32) -> u32 {
    yield_once(value).await
}

#[test]
fn the_report_names_the_fn_whose_own_code_held_the_thread() {
    let ([resumed, end], reports) = collect(blocks_itself_around_a_quick_inner());
    let report = only(reports);
    assert_eq!(
        report.function,
        "no_block::blocks_itself_around_a_quick_inner"
    );
    assert_eq!(
        (report.from.line, report.to.line, report.to_kind),
        (resumed, end, LocationKind::End)
    );
    assert_eq!(
        breakdown_names(&report),
        [
            "no_block::blocks_itself_around_a_quick_inner",
            "no_block::quick_inner"
        ]
    );
}

#[test]
fn the_report_names_the_thread() {
    let reports = std::thread::Builder::new()
        .name("no-block-named-thread".into())
        .spawn(|| collect(blocks_at_start()).1)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        only(reports).thread.as_deref(),
        Some("no-block-named-thread")
    );
}

#[test]
fn display_says_what_blocked_where_and_what_to_do() {
    let ([first, second], reports) = collect(blocks_between_awaits());
    let text = only(reports).to_string();
    for expected in [
        "stall in no_block::blocks_between_awaits: one poll held the thread for ".to_owned(),
        "(threshold 1 ms)".to_owned(),
        format!("from {}:{first}:", file!()),
        format!("to {}:{second}:", file!()),
        "(.await)".to_owned(),
        "own time: no_block::blocks_between_awaits ".to_owned(),
        "; thread: display_says_what_blocked_where_and_what_to_do".to_owned(),
        "move the blocking call into an #[offload] fn, or raise the threshold with \
         #[no_block(threshold = \"...\")]"
            .to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[no_block(threshold = "1s")]
async fn does_not_block() -> u32 {
    let one = yield_once(1).await;
    quick_inner(0).await;
    one + yield_once(1).await
}

#[test]
fn polls_that_do_not_block_are_not_reported() {
    let (value, reports) = collect(does_not_block());
    assert_eq!(value, 2);
    assert!(reports.is_empty(), "{reports:#?}");
}

// ---------------------------------------------------------------------------------------
// The shapes of fn `#[no_block]` takes. Each blocks, so that a report proves it is
// instrumented, and returns a value that proves its body ran as written.

struct Counter {
    count: u32,
}

impl Counter {
    #[no_block(threshold = "1ms")]
    async fn get(&self) -> u32 {
        block();
        yield_once(self.count).await
    }

    #[no_block(threshold = "1ms")]
    async fn bump(&mut self, by: u32) -> u32 {
        yield_once(()).await;
        block();
        self.count += by;
        self.count
    }
}

#[no_block(threshold = "1ms")]
async fn describe<T: Display + Send, U>(value: T, _marker: U) -> String
where
    U: Copy,
{
    block();
    format!("<{value}>")
}

#[no_block(threshold = "1ms")]
async fn evens(below: u32) -> impl Iterator<Item = u32> + Send {
    block();
    (0..below).filter(|n| n % 2 == 0)
}

#[no_block(threshold = "1ms")]
async fn sum(a: &str, b: &str) -> Result<u32, ParseIntError> {
    block();
    if a.is_empty() {
        return Ok(0);
    }
    let a: u32 = a.parse()?;
    let b: u32 = yield_once(b).await.parse()?;
    Ok(a + b)
}

/// Its `return` and its tail have different types, both coerced to the declared one.
#[no_block(threshold = "1ms")]
async fn boxed(early: bool) -> Box<dyn Display + Send> {
    block();
    if early {
        return Box::new("early");
    }
    Box::new(yield_once(2).await)
}

trait Store {
    async fn load(&self, key: u32) -> String;
    fn load_send(&self, key: u32) -> impl Future<Output = String> + Send;
}

struct Memory;

impl Store for Memory {
    #[no_block(threshold = "1ms")]
    async fn load(&self, key: u32) -> String {
        block();
        format!("value {key}")
    }

    #[no_block(threshold = "1ms")]
    async fn load_send(&self, key: u32) -> String {
        yield_once(()).await;
        block();
        format!("sent {key}")
    }
}

/// Fails unless `reports` is one report about `function`.
#[track_caller]
fn assert_reported(reports: Vec<StallReport>, function: &str) {
    assert_eq!(only(reports).function, function);
}

#[test]
fn methods_taking_ref_self_and_ref_mut_self() {
    let mut counter = Counter { count: 40 };
    let (value, reports) = collect(counter.get());
    assert_eq!(value, 40);
    assert_reported(reports, "no_block::get");
    let (value, reports) = collect(counter.bump(2));
    assert_eq!((value, counter.count), (42, 42));
    assert_reported(reports, "no_block::bump");
}

#[test]
fn generic_fns_and_impl_trait_returns() {
    let (text, reports) = collect(describe(7_u8, ()));
    assert_eq!(text, "<7>");
    assert_reported(reports, "no_block::describe");
    let (text, reports) = collect(describe(String::from("x"), 1.5));
    assert_eq!(text, "<x>");
    assert_reported(reports, "no_block::describe");
    let (numbers, reports) = collect(evens(7));
    assert_eq!(numbers.collect::<Vec<_>>(), [0, 2, 4, 6]);
    assert_reported(reports, "no_block::evens");
}

#[test]
fn question_mark_and_early_return_keep_their_meaning() {
    let (result, reports) = collect(sum("40", "2"));
    assert_eq!(result, Ok(42));
    assert_reported(reports, "no_block::sum");
    let (result, reports) = collect(sum("", "2"));
    assert_eq!(result, Ok(0), "the early return");
    assert_reported(reports, "no_block::sum");
    let (result, reports) = collect(sum("4x", "2"));
    assert_eq!(result, Err("4x".parse::<u32>().unwrap_err()));
    assert_reported(reports, "no_block::sum");
    let (result, reports) = collect(sum("4", "y"));
    assert_eq!(result, Err("y".parse::<u32>().unwrap_err()));
    assert_reported(reports, "no_block::sum");
}

#[test]
fn returns_coerce_to_the_declared_type() {
    let (value, reports) = collect(boxed(true));
    assert_eq!(value.to_string(), "early");
    assert_reported(reports, "no_block::boxed");
    let (value, reports) = collect(boxed(false));
    assert_eq!(value.to_string(), "2");
    assert_reported(reports, "no_block::boxed");
}

#[test]
fn async_fns_in_trait_impls() {
    let (value, reports) = collect(Memory.load(3));
    assert_eq!(value, "value 3");
    assert_reported(reports, "no_block::load");
    let (value, reports) = collect(Memory.load_send(4));
    assert_eq!(value, "sent 4");
    assert_reported(reports, "no_block::load_send");
}

#[no_block(threshold = "1ms")]
async fn holds_across_awaits(name: String) -> String {
    let owned = vec![name];
    yield_once(()).await;
    block();
    let more = yield_once(owned).await;
    more.concat()
}

#[test]
fn the_future_is_send_and_runs_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("no-block-worker")
        .build()
        .unwrap();
    let (value, reports) = runtime
        .block_on(async {
            // Spawned on a worker, so its polls (and its report) happen there.
            tokio::spawn(collect_stalls(holds_across_awaits("sent".into()))).await
        })
        .expect("the task finished");
    assert_eq!(value, "sent");
    let report = only(reports);
    assert_eq!(report.function, "no_block::holds_across_awaits");
    assert_eq!(report.thread.as_deref(), Some("no-block-worker"));
    // And through a trait whose method must return a `Send` future.
    let (value, reports) = runtime
        .block_on(runtime.spawn(collect_stalls(Memory.load_send(5))))
        .unwrap();
    assert_eq!(value, "sent 5");
    assert_reported(reports, "no_block::load_send");
}

// ---------------------------------------------------------------------------------------
// `#[blocking]` and `assert_blocking_allowed`.

#[blocking]
fn blocking_read(value: u32) -> u32 {
    value
}

/// The line of the call in `calls_blocking_read`.
const BLOCKING_READ_LINE: u32 = line!() + 4;
#[no_block(threshold = "1s")]
async fn calls_blocking_read() -> u32 {
    yield_once(()).await;
    blocking_read(3)
}

/// A plain async fn: the check applies to the whole poll of the `#[no_block]` fn above it.
async fn plain_helper() -> u32 {
    blocking_read(4)
}

#[no_block(threshold = "1s")]
async fn calls_blocking_read_through_a_plain_fn() -> u32 {
    plain_helper().await
}

/// The line of the call in `asserts_blocking_allowed`.
static ASSERT_LINE: AtomicU32 = AtomicU32::new(0);

#[no_block(threshold = "1s")]
async fn asserts_blocking_allowed() {
    ASSERT_LINE.store(line!() + 1, Ordering::SeqCst);
    async_offload::assert_blocking_allowed();
}

#[test]
fn a_blocking_fn_called_inside_a_no_block_poll_panics_naming_both_fns() {
    let payload = panic_of(calls_blocking_read());
    assert_eq!(
        panic_message(&*payload),
        format!(
            "a call to the #[blocking] fn no_block::blocking_read at {}:{BLOCKING_READ_LINE}:5 \
             was made inside a poll of the #[no_block] fn no_block::calls_blocking_read, where \
             it would block an executor thread; move it into an #[offload] fn (or run it with \
             async_offload::run)",
            file!()
        )
    );
    let payload = panic_of(calls_blocking_read_through_a_plain_fn());
    let message = panic_message(&*payload);
    let (call, poll) = message
        .split_once(" was made inside a poll of ")
        .expect("the call, then the poll");
    assert!(
        call.starts_with(&format!(
            "a call to the #[blocking] fn no_block::blocking_read at {}:",
            file!()
        )),
        "{message}"
    );
    assert!(
        poll.starts_with("the #[no_block] fn no_block::calls_blocking_read_through_a_plain_fn,"),
        "{message}"
    );
}

#[test]
fn assert_blocking_allowed_inside_a_no_block_poll_panics_naming_the_call_and_the_fn() {
    let payload = panic_of(asserts_blocking_allowed());
    let message = panic_message(&*payload);
    let call = format!(
        "a blocking call at {}:{}:",
        file!(),
        ASSERT_LINE.load(Ordering::SeqCst)
    );
    assert!(
        message.starts_with(&call),
        "{call:?} does not start {message:?}"
    );
    assert!(
        message.contains("inside a poll of the #[no_block] fn no_block::asserts_blocking_allowed"),
        "{message}"
    );
}

/// The line of the unexcused call in `allows_its_setup_only`.
static UNEXCUSED_LINE: AtomicU32 = AtomicU32::new(0);

/// A test's setup excused, then the same call unexcused, in one poll.
#[no_block(threshold = "1s")]
async fn allows_its_setup_only() -> u32 {
    let setup = async_offload::testing::allow_blocking(|| blocking_read(5));
    UNEXCUSED_LINE.store(line!() + 1, Ordering::SeqCst);
    setup + blocking_read(6)
}

#[test]
fn allow_blocking_excuses_its_closure_and_nothing_after_it() {
    let payload = panic_of(allows_its_setup_only());
    let message = panic_message(&*payload);
    // The panic is the second call's.
    let call = format!(
        "a call to the #[blocking] fn no_block::blocking_read at {}:{}:",
        file!(),
        UNEXCUSED_LINE.load(Ordering::SeqCst)
    );
    assert!(
        message.starts_with(&call),
        "{call:?} does not start {message:?}"
    );
    assert!(
        message.contains("inside a poll of the #[no_block] fn no_block::allows_its_setup_only"),
        "{message}"
    );
    // A panic in the closure ends the excuse too.
    let excused = std::panic::catch_unwind(|| {
        async_offload::testing::allow_blocking(|| panic!("in the setup"))
    });
    assert!(excused.is_err());
    let payload = panic_of(calls_blocking_read());
    assert!(panic_message(&*payload).contains("calls_blocking_read"));
}

#[offload]
fn offloaded_read(value: u32) -> u32 {
    async_offload::assert_blocking_allowed();
    blocking_read(value)
}

#[no_block(threshold = "1s")]
async fn awaits_an_offloaded_read() -> u32 {
    offloaded_read(5).await
}

#[test]
fn blocking_is_allowed_in_an_offload_body_called_from_a_no_block_fn() {
    assert_eq!(futures::executor::block_on(awaits_an_offloaded_read()), 5);
}

#[test]
fn a_pool_thread_may_block_even_while_it_polls_a_no_block_fn() {
    let value = futures::executor::block_on(async_offload::run("default", || {
        async_offload::assert_blocking_allowed();
        // A pool thread that itself drives an instrumented future may still block in it.
        futures::executor::block_on(calls_blocking_read())
    }));
    assert_eq!(value, 3);
}

#[test]
fn plain_threads_may_block_before_during_no_poll_and_after_a_failed_check() {
    let value = std::thread::spawn(|| {
        async_offload::assert_blocking_allowed();
        let before = blocking_read(1);
        // Between two polls of an instrumented fn the thread polls none of them.
        let mut future = std::pin::pin!(calls_blocking_read());
        let waker = std::task::Waker::noop();
        let pending = future.as_mut().poll(&mut Context::from_waker(waker));
        assert!(pending.is_pending());
        let between = blocking_read(2);
        // A check that failed inside a poll leaves the thread's books right.
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            future.as_mut().poll(&mut Context::from_waker(waker))
        }));
        assert!(failed.is_err(), "the #[blocking] call in the poll panicked");
        async_offload::assert_blocking_allowed();
        before + between + blocking_read(3)
    })
    .join()
    .expect("no check failed outside a poll");
    assert_eq!(value, 6);
}

// ---------------------------------------------------------------------------------------
// `#[no_block]` above `#[tokio::test]`.

#[no_block(threshold = "1s")]
#[tokio::test]
async fn a_tokio_test_under_no_block_that_does_not_block_passes() {
    let value = yield_once(20).await;
    tokio::task::yield_now().await;
    assert_eq!(value + does_not_block().await, 22);
}

#[no_block(threshold = "1s")]
#[tokio::test]
async fn the_body_of_a_tokio_test_under_no_block_is_checked() {
    tokio::task::yield_now().await;
    // Caught here, to check the line of the call too.
    let line = line!() + 1;
    let payload = std::panic::catch_unwind(|| blocking_read(1)).expect_err("the check panicked");
    let message = panic_message(&*payload);
    assert!(
        message.starts_with(&format!(
            "a call to the #[blocking] fn no_block::blocking_read at {}:{line}:",
            file!()
        )),
        "{message}"
    );
    assert!(
        message.contains(
            " was made inside a poll of the #[no_block] fn \
             no_block::the_body_of_a_tokio_test_under_no_block_is_checked,"
        ),
        "{message}"
    );
}

// A test's own code is compiled under `cfg(test)`: there a stall fails the test by default
// (elsewhere, as in a server, it warns: see `tests/stall_modes.rs`).
#[no_block(threshold = "1ms")]
#[tokio::test]
#[should_panic(
    expected = "stall in no_block::a_tokio_test_under_no_block_that_stalls_fails: one poll held \
                the thread for "
)]
async fn a_tokio_test_under_no_block_that_stalls_fails() {
    tokio::task::yield_now().await;
    std::thread::sleep(Duration::from_millis(20));
}

// ---------------------------------------------------------------------------------------
// A release build.

#[test]
fn a_release_build_leaves_the_fns_as_written_unless_release_stalls_counts_them() {
    // `tests/release_check` counts the reports of a fn that blocks 50 times its threshold
    // and the panics of a #[blocking] call inside a #[no_block] fn. Built in debug it counts
    // both (which shows that it can count), built in release none; with `release-stalls`
    // in release, the slow poll only, and its counts.
    for (profile, expected) in [
        (&[][..], "debug_assertions=true reports=2"),
        (&["--release"][..], "debug_assertions=false reports=0"),
        (
            &["--release", "--features", "release-stalls"][..],
            "debug_assertions=false reports=1 polls=1 slow=1",
        ),
    ] {
        let workspace = env!("CARGO_MANIFEST_DIR");
        let output = std::process::Command::new(env!("CARGO"))
            .current_dir(workspace)
            .args(["run", "--quiet", "-p", "release-check"])
            .args(profile)
            // Its own target directory: the one of this test is locked by `cargo test`.
            .env(
                "CARGO_TARGET_DIR",
                format!("{workspace}/target/release-check"),
            )
            .env_remove("OFFLOAD_STALL")
            .env_remove("OFFLOAD_STALL_THRESHOLD")
            .output()
            .expect("cargo runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "cargo run {profile:?} -p release-check failed: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(stdout.trim(), expected, "with {profile:?}");
    }
}
