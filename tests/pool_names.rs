//! A pool name that nobody configured: noticed at start-up by `install` (even of no
//! pools), and at the first poll of a call otherwise.
//!
//! Its own test binary: the typo below makes installing pools fail in this process.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_offload::{ConfigError, PoolConfig, Pools, offload};
use common::{panic_message, panic_of};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// The line of the attribute on `load_user`, two lines down.
const LOAD_USER_LINE: u32 = line!() + 2;
/// Meant for the pool "db", misspelt.
#[offload(pool = "dbb")]
fn load_user(id: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id
}

#[offload(pool = "cpu")]
fn on_a_builtin_pool() -> u32 {
    1
}

#[test]
fn installing_no_pools_names_the_fn_file_and_line_of_a_misspelt_pool() {
    let error = Pools::builder()
        .install()
        .expect_err("\"dbb\" is not configured");
    let ConfigError::UnknownPools { uses, available } = &error else {
        panic!("expected UnknownPools, got {error:?}");
    };
    assert_eq!(uses.len(), 1, "{uses:?}");
    assert_eq!(uses[0].pool(), "dbb");
    assert_eq!(uses[0].function(), "pool_names::load_user");
    assert_eq!(uses[0].file(), file!());
    assert_eq!(uses[0].line(), LOAD_USER_LINE);
    assert!(available.iter().any(|pool| pool == "cpu"), "{available:?}");
    let message = error.to_string();
    assert!(message.contains("pool_names::load_user"), "{message}");
    assert!(
        message.contains(&format!("{}:{LOAD_USER_LINE}", file!())),
        "{message}"
    );
}

#[test]
fn install_refuses_pools_that_leave_a_use_unconfigured_and_installs_nothing() {
    let error = Pools::builder()
        .pool("db", PoolConfig::fixed(2))
        .install()
        .expect_err("\"dbb\" would still not exist");
    assert!(
        matches!(&error, ConfigError::UnknownPools { uses, .. } if uses[0].pool() == "dbb"),
        "{error:?}"
    );
    let unknown = futures::executor::block_on(async_offload::try_run("db", || ()));
    assert!(unknown.is_err(), "nothing was installed");
}

#[test]
fn an_offload_fn_on_an_unknown_pool_panics_at_its_first_poll_not_at_the_call() {
    let future = load_user(7); // nothing happens yet
    assert_eq!(RUNS.load(Ordering::SeqCst), 0);
    let payload = panic_of(future);
    let message = panic_message(&*payload);
    assert!(
        message.starts_with(
            "the #[offload] fn pool_names::load_user cannot run: no offload pool is named \"dbb\""
        ),
        "{message}"
    );
    assert_eq!(RUNS.load(Ordering::SeqCst), 0, "the body never ran");
    assert_eq!(futures::executor::block_on(on_a_builtin_pool()), 1);
}
