//! Called from inside a tokio runtime, an offloaded body runs with that runtime entered, as
//! a `spawn_blocking` closure does: `Handle::current()`, `tokio::spawn`, timers, `tokio::fs`
//! and `Handle::block_on` work in it. Called from another executor, the body sees no
//! runtime. (The `tokio` feature, on by default.)

mod common;

use std::time::Duration;

use async_offload::offload;
use futures::FutureExt;
use tokio::runtime::Handle;

/// Whether the body sees a tokio runtime, and which thread it ran on.
#[offload]
fn sees_a_runtime() -> (bool, String) {
    (Handle::try_current().is_ok(), common::thread_name())
}

/// What the body can do with the caller's runtime: spawn onto it, wait for a timer and
/// read a file through it.
fn use_the_runtime() -> (String, usize) {
    let handle = Handle::current();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let _task = tokio::spawn(async move {
        sender.send(7_u32).expect("the body waits for it");
    });
    handle.block_on(async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(receiver.await, Ok(7), "the task spawned from the body ran");
        let text = tokio::fs::read_to_string("Cargo.toml")
            .await
            .expect("tokio::fs works in the body");
        (common::thread_name(), text.len())
    })
}

#[test]
fn a_job_from_a_current_thread_runtime_runs_inside_it() {
    common::current_thread().block_on(async {
        let (inside, thread) = sees_a_runtime().await;
        assert!(inside, "the body sees the caller's runtime");
        assert!(thread.starts_with("offload-default-"), "{thread}");
        let (thread, length) = async_offload::run("default", use_the_runtime).await;
        assert!(thread.starts_with("offload-default-"), "{thread}");
        assert!(length > 0);
    });
}

#[test]
fn a_job_from_a_multi_thread_runtime_runs_inside_it() {
    common::multi_thread().block_on(async {
        assert!(sees_a_runtime().await.0);
        let (_, length) = async_offload::run("cpu", use_the_runtime).await;
        assert!(length > 0);
    });
}

#[test]
fn a_job_spawned_from_the_body_runs_on_the_callers_runtime_not_on_the_pool() {
    common::current_thread().block_on(async {
        let task =
            async_offload::run("default", || tokio::spawn(async { common::thread_name() })).await;
        let thread = task.await.expect("the spawned task finishes");
        assert!(!thread.starts_with("offload-"), "it ran on {thread}");
    });
}

#[test]
fn a_job_from_another_executor_sees_no_runtime() {
    let (inside, thread) = futures::executor::block_on(sees_a_runtime());
    assert!(!inside, "no tokio runtime called it");
    assert!(thread.starts_with("offload-default-"), "{thread}");
}

#[test]
fn the_runtime_is_left_when_the_body_returns() {
    common::current_thread().block_on(async {
        assert!(sees_a_runtime().await.0);
    });
    // The same pool thread, called from outside tokio: the previous runtime is gone.
    let pool = "runtime-left";
    async_offload::Pools::builder()
        .pool(pool, async_offload::PoolConfig::fixed(1))
        .install()
        .expect("the test's own pool");
    common::current_thread().block_on(async_offload::run(pool, || {
        assert!(Handle::try_current().is_ok());
    }));
    let inside =
        futures::executor::block_on(async_offload::run(pool, || Handle::try_current().is_ok()));
    assert!(
        !inside,
        "the one thread of the pool left the earlier runtime"
    );
}

/// A body that leaves a runtime entered (a forgotten `EnterGuard`) makes tokio panic when
/// the pool leaves the caller's runtime after it: that panic reaches the caller, as the
/// body's own would, instead of leaving it waiting for ever, and the pool counts it.
#[test]
fn a_panic_leaving_the_callers_runtime_reaches_the_caller() {
    let pool = "leaves-a-runtime-entered";
    async_offload::Pools::builder()
        .pool(pool, async_offload::PoolConfig::fixed(1))
        .install()
        .expect("the test's own pool");
    common::current_thread().block_on(async {
        let call = async_offload::run(pool, || {
            std::mem::forget(Handle::current().enter());
            7
        });
        let outcome = tokio::time::timeout(
            common::HANG_GUARD,
            std::panic::AssertUnwindSafe(call).catch_unwind(),
        )
        .await
        .expect("the caller is answered");
        let payload = outcome.expect_err("leaving the runtime panicked");
        let message = common::panic_message(payload.as_ref());
        assert!(message.contains("EnterGuard"), "{message}");
        // The pool thread lives on and serves the next job.
        assert_eq!(async_offload::run(pool, || 8).await, 8);
    });
    let stats = common::stats_for(pool).expect("the pool's stats");
    assert_eq!(
        (stats.submitted, stats.panicked, stats.completed),
        (2, 1, 1)
    );
    assert_eq!(common::settled(&stats), stats.submitted);
}
