//! Tests in one process, each installing the pools it needs with
//! `testing::install_pools`, in whatever order the test runner picks, with no `Once`.

mod common;

use async_offload::testing::install_pools;
use async_offload::{ConfigError, PoolConfig, Pools, offload};

/// Runs on the pool of the first test below.
#[offload(pool = "per-test-a")]
fn on_a() -> String {
    common::thread_name()
}

/// Runs on the pool of the second test below.
#[offload(pool = "per-test-b")]
fn on_b() -> String {
    common::thread_name()
}

/// The pool both tests share, installed by whichever runs first.
fn shared_pool() {
    install_pools(Pools::builder().pool("per-test-shared", PoolConfig::fixed(1)))
        .expect("the same configuration each time");
}

#[test]
fn a_test_installs_its_own_pool() {
    shared_pool();
    install_pools(Pools::builder().pool("per-test-a", PoolConfig::fixed(1)))
        .expect("the other test's pool need not exist yet");
    assert_eq!(futures::executor::block_on(on_a()), "offload-per-test-a-0");
    let shared = futures::executor::block_on(async_offload::run("per-test-shared", || 1));
    assert_eq!(shared, 1);
}

#[test]
fn another_test_installs_its_own_pool() {
    shared_pool();
    install_pools(Pools::builder().pool("per-test-b", PoolConfig::elastic(2)))
        .expect("the other test's pool need not exist yet");
    assert_eq!(futures::executor::block_on(on_b()), "offload-per-test-b-0");
}

#[test]
fn a_test_cannot_change_a_pool_another_installed() {
    shared_pool();
    let error = install_pools(Pools::builder().pool("per-test-shared", PoolConfig::fixed(3)))
        .expect_err("the shared pool keeps its configuration");
    assert!(
        matches!(&error, ConfigError::AlreadyInstalled { pool, .. } if pool == "per-test-shared"),
        "{error:?}"
    );
}

#[test]
fn a_mistake_is_still_refused_naming_the_pool() {
    let error = install_pools(Pools::builder().pool("per-test-broken", PoolConfig::fixed(0)))
        .expect_err("a pool needs a thread");
    assert!(
        matches!(&error, ConfigError::Invalid { pool, setting: "threads", .. } if pool == "per-test-broken"),
        "{error:?}"
    );
}

#[test]
fn calls_alternating_between_pools_each_run_on_their_own() {
    install_pools(
        Pools::builder()
            .pool("per-test-left", PoolConfig::fixed(1))
            .pool("per-test-right", PoolConfig::fixed(1)),
    )
    .expect("two pools of this test");
    futures::executor::block_on(async {
        for _ in 0..3 {
            for pool in ["per-test-left", "per-test-right", "cpu"] {
                let thread = async_offload::run(pool, common::thread_name).await;
                assert!(thread.starts_with(&format!("offload-{pool}-")), "{thread}");
            }
        }
    });
}

/// Runs on a pool installed only after its first call failed.
#[offload(pool = "per-test-late")]
fn on_a_late_pool() -> String {
    common::thread_name()
}

/// An `#[offload]` fn keeps its pool once it has found it; a call that found none keeps
/// nothing, so the pool installed after it is the one the next call runs on.
#[test]
fn an_offload_fn_called_before_its_pool_exists_runs_on_it_once_installed() {
    let payload = common::panic_of(on_a_late_pool());
    let message = common::panic_message(&*payload);
    assert!(
        message.contains("no offload pool is named \"per-test-late\""),
        "{message}"
    );
    install_pools(Pools::builder().pool("per-test-late", PoolConfig::fixed(1)))
        .expect("a pool of this test");
    for _ in 0..2 {
        let thread = futures::executor::block_on(on_a_late_pool());
        assert_eq!(thread, "offload-per-test-late-0");
    }
}
