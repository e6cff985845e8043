//! `detect-blocking-calls` around setup: installing the pools inside a `#[no_block]` poll (a
//! test that starts with its pools, the documented pattern) leaves the rest of the poll
//! watched, and `testing::allow_blocking` excuses a test's own setup and nothing else. A
//! test binary of its own: the pools are set up here for the first time in the process, as
//! in a test binary's first test.

use std::path::PathBuf;

use async_offload::testing::collect_stalls;
use async_offload::{PoolConfig, Pools, no_block};
use detect_blocking::ten_bytes;

/// Installs pools (the first use of the pools in the process), then reads a file.
#[no_block]
async fn installs_then_reads(path: PathBuf) -> Vec<u8> {
    Pools::builder()
        .pool("setup", PoolConfig::fixed(1))
        .install()
        .expect("the pools install");
    std::fs::read(path).expect("the file")
}

/// Installs a test's pools, then reads a file.
#[no_block]
async fn installs_test_pools_then_reads(path: PathBuf) -> Vec<u8> {
    async_offload::testing::install_pools(
        Pools::builder().pool("setup-test", PoolConfig::elastic(2)),
    )
    .expect("the pools install");
    std::fs::read(path).expect("the file")
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn a_read_after_installing_the_pools_in_the_same_poll_is_reported() {
    // One test, in this order: the first install sets the pools up for the process.
    let install = collect_stalls(installs_then_reads(ten_bytes("install"))).await;
    let install_pools =
        collect_stalls(installs_test_pools_then_reads(ten_bytes("install_pools"))).await;
    for (name, (bytes, reports)) in [("install", install), ("install_pools", install_pools)] {
        assert_eq!(bytes, b"0123456789");
        let from_read: Vec<_> = reports
            .iter()
            .filter(|report| {
                report
                    .blocking_call_from()
                    .is_some_and(|from| from.starts_with("std::fs::read"))
            })
            .collect();
        assert!(
            !from_read.is_empty(),
            "{name}: the read is reported: {reports:#?}"
        );
        // Only the read: the setup's own calls are offload's, not the test's.
        assert_eq!(from_read.len(), reports.len(), "{name}: {reports:#?}");
    }
}

/// Reads one file as its setup, excused, then another.
#[no_block]
async fn reads_its_fixture_then_a_file(fixture: PathBuf, path: PathBuf) -> Vec<u8> {
    let fixture = async_offload::testing::allow_blocking(|| std::fs::read(fixture));
    assert_eq!(fixture.expect("the fixture"), b"0123456789");
    std::fs::read_to_string(path)
        .expect("the file")
        .into_bytes()
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn allow_blocking_excuses_the_setup_and_nothing_after_it() {
    let (bytes, reports) = collect_stalls(reads_its_fixture_then_a_file(
        ten_bytes("fixture"),
        ten_bytes("after-fixture"),
    ))
    .await;
    assert_eq!(bytes, b"0123456789");
    assert!(!reports.is_empty(), "the read after the setup is reported");
    // `std::fs::read` only in the excused setup; `read_to_string` after it.
    assert!(
        reports.iter().all(|report| report
            .blocking_call_from()
            .is_some_and(|from| from.starts_with("std::fs::read_to_string"))),
        "{reports:#?}"
    );
}
