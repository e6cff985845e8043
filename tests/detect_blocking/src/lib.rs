//! What the tests of `detect-blocking-calls` (in `tests/`) share: how they read reports, and
//! their temporary files. The tests themselves are there; `tests/calls.rs` says how they
//! run with the feature.

use std::path::PathBuf;

use async_offload::no_block;
use async_offload::stall::StallReport;
use async_offload::testing::collect_stalls;

/// What each report says of its call: the C function, and the std function it came from.
pub fn calls(reports: &[StallReport]) -> Vec<(&str, &str)> {
    reports
        .iter()
        .map(|report| {
            (
                report.blocking_call().unwrap_or("<a stall, not a call>"),
                report.blocking_call_from().unwrap_or("<unknown>"),
            )
        })
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
