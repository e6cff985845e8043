//! `#[offload(fallible)]`: the fn returns `Result<T, OffloadError>`, so a caller hears why
//! its job could not run (an unknown pool, a full queue that refuses, a pool shut down)
//! instead of panicking; the body's own result and panics are unchanged.

mod common;

use std::pin::pin;
use std::sync::mpsc;
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, Pools, offload};
use common::{HANG_GUARD, poll_once};
use futures::FutureExt;

#[offload(pool = "fallible", fallible)]
fn parse(text: String) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[offload(pool = "fallible-full", fallible)]
fn holds_the_thread(release: mpsc::Receiver<()>, started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    release
        .recv_timeout(HANG_GUARD)
        .expect("the test lets the job go");
}

#[offload(pool = "fallible-full", fallible)]
fn queued() -> u32 {
    2
}

#[offload(pool = "fallible-gone", fallible)]
fn on_a_pool_shut_down() -> u32 {
    3
}

#[offload(pool = "nobody-configured-this", fallible)]
fn on_an_unknown_pool() -> u32 {
    4
}

#[offload(pool = "fallible", fallible)]
fn panics() -> u32 {
    std::panic::panic_any(common::ExpectedPanic(5))
}

fn install_pools() {
    async_offload::testing::install_pools(
        Pools::builder()
            .pool("fallible", PoolConfig::fixed(1))
            .pool(
                "fallible-full",
                PoolConfig::fixed(1)
                    .queue_capacity(1)
                    .refuse_when_full(true),
            )
            .pool("fallible-gone", PoolConfig::fixed(1)),
    )
    .expect("the test pools install");
}

#[test]
fn the_body_s_result_comes_back_inside_ok() {
    install_pools();
    let parsed = futures::executor::block_on(parse("42".to_owned()));
    assert_eq!(parsed.expect("the job ran"), Ok(42));
    let parsed = futures::executor::block_on(parse("x".to_owned()));
    assert!(parsed.expect("the job ran").is_err());
}

#[test]
fn a_pool_nobody_configured_is_an_error_naming_it() {
    install_pools();
    let error = futures::executor::block_on(on_an_unknown_pool()).expect_err("no such pool");
    let OffloadError::UnknownPool { requested, .. } = &error else {
        panic!("expected UnknownPool, got {error:?}");
    };
    assert_eq!(requested, "nobody-configured-this");
}

#[test]
fn a_full_queue_that_refuses_is_an_error() {
    install_pools();
    common::current_thread().block_on(async {
        let (release, gate) = mpsc::channel();
        let (started, wait_started) = mpsc::channel();
        let mut holder = pin!(holds_the_thread(gate, started));
        assert!(poll_once(holder.as_mut()).await.is_pending());
        wait_started.recv_timeout(HANG_GUARD).expect("the holder runs");
        let mut second = pin!(queued());
        assert!(poll_once(second.as_mut()).await.is_pending());

        let error = queued().await.expect_err("the queue of one is full");
        assert!(
            matches!(&error, OffloadError::QueueFull { pool, capacity: 1 } if pool == "fallible-full"),
            "{error:?}"
        );
        release.send(()).unwrap();
        holder.await.expect("the holder ran");
        assert_eq!(second.await.expect("the queued job ran"), 2);
    });
}

#[test]
fn a_pool_shut_down_is_an_error() {
    install_pools();
    assert_eq!(
        futures::executor::block_on(on_a_pool_shut_down()).ok(),
        Some(3)
    );
    async_offload::shutdown_pool("fallible-gone", Duration::from_secs(10))
        .expect("the idle pool shuts down");
    let error = futures::executor::block_on(on_a_pool_shut_down()).expect_err("shut down");
    assert!(
        matches!(&error, OffloadError::ShutDown { pool } if pool == "fallible-gone"),
        "{error:?}"
    );
}

#[test]
fn a_panic_of_the_body_is_still_a_panic() {
    install_pools();
    common::silence_expected_panics();
    let outcome =
        futures::executor::block_on(std::panic::AssertUnwindSafe(panics()).catch_unwind());
    let payload = outcome.expect_err("the body panicked");
    assert_eq!(
        payload.downcast_ref::<common::ExpectedPanic>(),
        Some(&common::ExpectedPanic(5))
    );
}
