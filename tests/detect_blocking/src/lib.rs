//! What the tests of `detect-blocking-calls` (in `tests/`) share: how they read reports, and
//! their temporary files. The tests themselves are there; `tests/calls.rs` says how they
//! run with the feature.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use async_offload::no_block;
use async_offload::stall::StallReport;
use async_offload::testing::collect_stalls;

/// What the reports of blocking calls say of each call site: the C function, and the std
/// function it came from. Reports of stalls are left out: a slow machine (an emulator, a
/// loaded runner) can add one to a poll that made a blocking call.
pub fn calls(reports: &[StallReport]) -> Vec<(&str, &str)> {
    reports
        .iter()
        .flat_map(|report| &report.blocking_calls)
        .map(|call| (call.call, call.from().unwrap_or("<unknown>")))
        .collect()
}

/// The reports as a person reads them.
pub fn shown(reports: &[StallReport]) -> String {
    reports.iter().map(|report| format!("{report}\n")).collect()
}

/// A path in the temporary directory, of its own name and this process's.
pub fn temporary(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("offload-detect-{}-{name}", std::process::id()))
}

/// A file of 10 bytes, of its own name.
pub fn ten_bytes(name: &str) -> PathBuf {
    let path = temporary(name);
    std::fs::write(&path, b"0123456789").expect("a temporary file");
    path
}

/// Makes `call` inside one poll of a `#[no_block]` fn: its value, and the poll's reports.
pub async fn reports_of<T>(call: impl FnOnce() -> T) -> (T, Vec<StallReport>) {
    collect_stalls(inline(call)).await
}

#[no_block]
async fn inline<T>(call: impl FnOnce() -> T) -> T {
    call()
}

// Futex waits: another thread holds what the test waits for during `HELD` after the test's
// thread knows it is held, so that the wait cannot be skipped unless the test's thread is
// kept from running for that long.

/// How long another thread keeps what the test waits for.
pub const HELD: Duration = Duration::from_millis(500);

/// Runs `hold` on another thread, which calls its argument once it holds what the test
/// waits for; returns once it does.
pub fn held_by_another_thread(hold: impl FnOnce(&dyn Fn()) + Send + 'static) -> JoinHandle<()> {
    let (held, holds) = mpsc::channel();
    let thread = std::thread::spawn(move || hold(&|| held.send(()).expect("the test waits")));
    holds.recv().expect("the other thread holds it");
    thread
}

/// A thread that sends `value` on `to` after [`HELD`].
pub fn sends_later<T: Send + 'static>(
    to: impl FnOnce(T) + Send + 'static,
    value: T,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(HELD);
        to(value);
    })
}

/// A thread that holds `lock` for [`HELD`]; returns once it does.
pub fn locked_by_another_thread<T: Send + 'static>(lock: &Arc<Mutex<T>>) -> JoinHandle<()> {
    let lock = Arc::clone(lock);
    held_by_another_thread(move |held| {
        let _guard = lock.lock().expect("not poisoned");
        held();
        std::thread::sleep(HELD);
    })
}
