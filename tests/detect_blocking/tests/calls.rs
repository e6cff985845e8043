//! `detect-blocking-calls`: each blocking call of std made inside a poll of a `#[no_block]`
//! fn is reported, however fast it was; the same calls on a pool thread, through tokio's
//! async equivalents, or outside `#[no_block]` are not.
//!
//! Each test makes a call that takes microseconds: far below any threshold, so that only
//! the feature can catch it. `cargo test --workspace` builds this crate without the
//! feature; `the_tests_pass_with_the_feature` runs these tests again in a build with it.

use std::future::Future;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use async_offload::stall::StallReport;
use async_offload::testing::collect_stalls;
use async_offload::{no_block, offload};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use detect_blocking::{calls, shown, ten_bytes};
use tower::ServiceExt;

#[no_block]
async fn sleeps() {
    std::thread::sleep(Duration::from_micros(1));
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_one_microsecond_sleep_is_reported_with_its_span_and_stack() {
    let ((), reports) = collect_stalls(sleeps()).await;
    // `std::thread::sleep`, under the path where std defines it.
    assert!(
        matches!(calls(&reports).as_slice(), [("clock_nanosleep", from)]
            if from.starts_with("std::thread::") && from.ends_with("::sleep")),
        "{}",
        shown(&reports)
    );
    let report = &reports[0];
    assert!(report.function.ends_with("::sleeps"), "{report}");
    assert_eq!(report.threshold, Duration::ZERO);
    assert!(report.breakdown.is_empty() && !report.still_running);
    let stack = report.stack.as_ref().expect("the stack of the call");
    assert!(
        stack.frames.iter().any(|frame| frame
            .function
            .as_deref()
            .is_some_and(|f| f.contains("sleeps"))),
        "the user's fn is on the stack: {report}"
    );
    let text = report.to_string();
    assert!(
        text.starts_with("blocking call in ")
            && text.contains("clock_nanosleep (from std::thread::"),
        "{text}"
    );
}

#[no_block]
async fn sleeps_in_a_loop() {
    for _ in 0..3 {
        std::thread::sleep(Duration::from_micros(1));
    }
    std::thread::sleep(Duration::from_micros(1));
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_poll_is_one_report_that_lists_each_call_site_once_with_its_count() {
    let ((), reports) = collect_stalls(sleeps_in_a_loop()).await;
    let [report] = reports.as_slice() else {
        panic!("one report: {}", shown(&reports));
    };
    // The loop's call and the one after it: one function, one C call, one std function.
    let sites: Vec<_> = report
        .blocking_calls
        .iter()
        .map(|call| (call.call, call.count, call.caller()))
        .collect();
    let caller = Some(concat!(module_path!(), "::sleeps_in_a_loop"));
    assert_eq!(sites, [("clock_nanosleep", 4, caller)], "{report}");
    assert_eq!(
        report.blocked,
        report.blocking_calls.iter().map(|call| call.took).sum()
    );
    assert_eq!(report.stack.as_ref(), Some(&report.blocking_calls[0].stack));
}

/// Sleeps at `depth` levels of recursion: each sleep from a stack of its own.
#[inline(never)]
fn sleeps_at_each_level(depth: u32) {
    std::thread::sleep(Duration::from_nanos(1));
    if depth > 1 {
        sleeps_at_each_level(std::hint::black_box(depth - 1));
    }
}

#[no_block]
async fn sleeps_from_20_stacks() {
    sleeps_at_each_level(20);
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn calls_past_the_sites_a_poll_records_are_counted() {
    let ((), reports) = collect_stalls(sleeps_from_20_stacks()).await;
    let [report] = reports.as_slice() else {
        panic!("one report: {}", shown(&reports));
    };
    // 16 stacks recorded, merged into the one site they share; 4 counted.
    let sites: Vec<_> = report
        .blocking_calls
        .iter()
        .map(|call| (call.call, call.count))
        .collect();
    assert_eq!(sites, [("clock_nanosleep", 16)], "{report}");
    assert_eq!(report.blocking_calls_not_recorded, 4, "{report}");
    assert!(report.to_string().contains("and 4 more"), "{report}");
}

#[no_block]
async fn reads(path: PathBuf) -> Vec<u8> {
    std::fs::read(path).expect("the file")
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_ten_byte_file_read_is_reported() {
    let path = ten_bytes("read");
    let (bytes, reports) = collect_stalls(reads(path.clone())).await;
    assert_eq!(bytes, b"0123456789");
    let calls = calls(&reports);
    for wanted in ["open64", "read"] {
        assert!(
            calls.iter().any(|(call, _)| *call == wanted),
            "{wanted}: {calls:?}"
        );
    }
    assert!(
        calls
            .iter()
            .all(|(_, from)| from.starts_with("std::fs::read")),
        "{calls:?}"
    );
    std::fs::remove_file(path).expect("removed");
}

#[no_block]
async fn resolves() -> usize {
    ("localhost", 80)
        .to_socket_addrs()
        .map_or(0, Iterator::count)
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn resolving_localhost_is_reported() {
    let (_, reports) = collect_stalls(resolves()).await;
    let calls = calls(&reports);
    assert!(
        calls
            .iter()
            .any(|(call, from)| *call == "getaddrinfo" && from.contains("ToSocketAddrs")),
        "{calls:?}"
    );
}

#[no_block]
async fn connects(to: SocketAddr) -> bool {
    std::net::TcpStream::connect(to).is_ok()
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_blocking_connect_to_a_local_listener_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local listener");
    let to = listener.local_addr().expect("its address");
    let (connected, reports) = collect_stalls(connects(to)).await;
    assert!(connected);
    assert!(
        matches!(calls(&reports).as_slice(), [("connect", from)]
            if from.contains("TcpStream") && from.ends_with("::connect")),
        "{}",
        shown(&reports)
    );
}

#[no_block]
async fn joins(thread: std::thread::JoinHandle<u32>) -> u32 {
    thread.join().expect("the thread's value")
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn joining_a_finished_thread_is_reported() {
    let thread = std::thread::spawn(|| 7);
    while !thread.is_finished() {
        std::thread::yield_now();
    }
    let (value, reports) = collect_stalls(joins(thread)).await;
    assert_eq!(value, 7);
    let calls = calls(&reports);
    assert!(
        matches!(calls.as_slice(), [("pthread_join", from)] if from.contains("JoinHandle")),
        "{calls:?}"
    );
}

#[no_block]
async fn locks(file: std::fs::File) {
    file.lock().expect("nobody else holds the lock");
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn taking_a_file_lock_is_reported() {
    let file = std::fs::File::open(ten_bytes("lock")).expect("the file opens");
    let ((), reports) = collect_stalls(locks(file)).await;
    let calls = calls(&reports);
    assert!(
        matches!(calls.as_slice(), [("flock", from)] if from.ends_with("::lock")),
        "{calls:?}"
    );
}

#[no_block]
async fn waits_for(mut child: std::process::Child) -> bool {
    child.wait().expect("the child's status").success()
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_for_a_process_is_reported() {
    let child = std::process::Command::new("true")
        .spawn()
        .expect("`true` starts");
    let (success, reports) = collect_stalls(waits_for(child)).await;
    assert!(success);
    let calls = calls(&reports);
    assert!(
        matches!(calls.as_slice(), [("waitpid" | "wait4", from)] if from.contains("wait")),
        "{calls:?}"
    );
}

/// Every call above: a sleep, a read of `path`, a name resolved, a connection to `to`, a
/// thread joined. Returns how many bytes, addresses and connections it got.
fn blocking_calls(path: PathBuf, to: SocketAddr) -> usize {
    std::thread::sleep(Duration::from_micros(1));
    let read = std::fs::read(path).expect("the file").len();
    let resolved = ("localhost", 80)
        .to_socket_addrs()
        .map_or(0, Iterator::count);
    let connected = std::net::TcpStream::connect(to).is_ok();
    std::thread::spawn(|| ()).join().expect("joined");
    read + resolved + usize::from(connected)
}

/// Runs `calls` (given a 10-byte file and the address of a listener) under
/// `collect_stalls`, and checks that it ran and that nothing was reported.
async fn nothing_reported<F>(name: &str, calls: impl FnOnce(PathBuf, SocketAddr) -> F)
where
    F: Future<Output = usize>,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local listener");
    let to = listener.local_addr().expect("its address");
    let path = ten_bytes(name);
    let (done, reports) = collect_stalls(calls(path.clone(), to)).await;
    assert!(done > 10, "the calls ran: {done}");
    assert!(reports.is_empty(), "{}", shown(&reports));
    std::fs::remove_file(path).expect("removed");
}

/// Every call above, on a pool thread.
#[offload(pool = "default")]
fn blocks_on_a_pool_thread(path: PathBuf, to: SocketAddr) -> usize {
    blocking_calls(path, to)
}

#[no_block]
async fn offloads(path: PathBuf, to: SocketAddr) -> usize {
    let run = async_offload::run("default", || {
        std::thread::sleep(Duration::from_micros(1));
    });
    run.await;
    blocks_on_a_pool_thread(path, to).await
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn the_same_calls_on_a_pool_thread_are_not_reported() {
    nothing_reported("pool", offloads).await;
}

#[no_block]
async fn awaits_tokio(path: PathBuf, to: SocketAddr) -> usize {
    tokio::time::sleep(Duration::from_micros(1)).await;
    let read = tokio::fs::read(path).await.expect("the file").len();
    let resolved = tokio::net::lookup_host("localhost:80")
        .await
        .map_or(0, Iterator::count);
    let connected = tokio::net::TcpStream::connect(to).await.is_ok();
    let joined = tokio::spawn(async { 1 }).await.expect("joined");
    // A line on stderr, as a handler's debugging output: not reported by default.
    let _ = writeln!(std::io::stderr(), "a line from inside a #[no_block] poll");
    read + resolved + usize::from(connected) + joined
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn tokios_async_equivalents_and_stderr_are_not_reported() {
    // `tokio::fs` and `lookup_host` run on tokio's blocking threads, not in the poll; its
    // sockets are non-blocking.
    nothing_reported("tokio", awaits_tokio).await;
}

/// Every call above, in an async fn without `#[no_block]`.
async fn blocks_unwatched(path: PathBuf, to: SocketAddr) -> usize {
    blocking_calls(path, to)
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn the_same_calls_outside_no_block_are_not_reported() {
    nothing_reported("unwatched", blocks_unwatched).await;
}

// ---------------------------------------------------------------------------------------
// An axum handler that reads a small file inline, and its fix.

const PROFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

#[no_block]
async fn profile_inline() -> String {
    std::fs::read_to_string(PROFILE).expect("the file")
}

#[offload(pool = "default")]
fn read_profile() -> std::io::Result<String> {
    std::fs::read_to_string(PROFILE)
}

#[no_block]
async fn profile_offloaded() -> String {
    read_profile().await.expect("the file")
}

/// Serves one `GET /profile` with `router`, and returns the status and the reports.
async fn get_profile(router: Router) -> (StatusCode, Vec<StallReport>) {
    let request = Request::get("/profile")
        .body(Body::empty())
        .expect("a request");
    let (response, reports) = collect_stalls(router.oneshot(request)).await;
    (response.expect("infallible").status(), reports)
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn an_axum_handler_reading_a_file_inline_is_caught_and_the_offloaded_fix_passes() {
    let (status, reports) = get_profile(Router::new().route("/profile", get(profile_inline))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!reports.is_empty());
    assert!(
        reports
            .iter()
            .all(|report| report.function.ends_with("::profile_inline")
                && report
                    .blocking_call_from()
                    .is_some_and(|from| from.starts_with("std::fs::read_to_string"))),
        "{}",
        shown(&reports)
    );
    println!("{}", reports[0]);

    let (status, reports) =
        get_profile(Router::new().route("/profile", get(profile_offloaded))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reports.is_empty(), "{}", shown(&reports));
}

/// Serves one `GET /profile` with `router`, all of it inside a `#[no_block]` poll (as a
/// `#[no_block]` on `main` or on a serving loop puts it).
#[no_block]
async fn serves_under_no_block(router: Router) -> StatusCode {
    let request = Request::get("/profile")
        .body(Body::empty())
        .expect("a request");
    router.oneshot(request).await.expect("infallible").status()
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn the_frameworks_frames_between_the_users_are_one_line() {
    let router = Router::new().route("/profile", get(profile_inline));
    let (status, reports) = collect_stalls(serves_under_no_block(router)).await;
    assert_eq!(status, StatusCode::OK);
    let report = reports
        .iter()
        .find(|report| report.blocking_call().is_some())
        .expect("the read's report");
    let stack = report.stack.as_ref().expect("its stack");
    // The frames are all there, axum's and tower's between the handler and the server...
    let framework = stack
        .frames
        .iter()
        .filter(|frame| {
            frame.function.as_deref().is_some_and(|function| {
                function.trim_start_matches('<').starts_with("axum::")
                    || function.trim_start_matches('<').starts_with("tower::")
            })
        })
        .count();
    assert!(framework > 2, "{stack:?}");
    // ...and shown as one line, between the handler's frame and the server's.
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let frame_of = |function: &str| {
        lines
            .iter()
            .rposition(|line| line.trim_start().starts_with(function))
    };
    let handler = frame_of("calls::profile_inline").expect("the handler's frame");
    let server = frame_of("calls::serves_under_no_block").expect("the server's frame");
    let between = &lines[handler + 1..server];
    assert!(
        matches!(between, [line] if line.contains("frames of") && line.contains("axum")),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// The run with the feature.

/// Runs this crate's tests in a build with the feature, in a target directory of its own
/// (a build of the workspace must not get the feature; see `Cargo.toml`).
#[cfg(not(feature = "detect"))]
#[test]
fn the_tests_pass_with_the_feature() {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(crate_dir)
        .args([
            "test",
            "--quiet",
            "-p",
            "detect-blocking",
            "--features",
            "detect",
        ])
        // Its own target directory: the one of this test is locked by `cargo test`.
        .env(
            "CARGO_TARGET_DIR",
            format!("{crate_dir}/../../target/detect-blocking"),
        )
        .env_remove("OFFLOAD_STALL")
        .env_remove("OFFLOAD_DETECT_STDIO")
        .env_remove("OFFLOAD_DETECT_LOCK_WAITS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo test --features detect failed: {}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
