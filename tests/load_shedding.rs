//! `PoolConfig::refuse_when_full`: a job that finds the queue full is refused at once with
//! `OffloadError::QueueFull`, naming the pool and its capacity; the refusal is counted, and
//! the body never runs and is dropped on a pool thread.

mod common;

use std::pin::pin;
use std::sync::Once;
use std::sync::mpsc;
use std::task::Poll;

use async_offload::{OffloadError, PoolConfig, Pools};
use common::{HANG_GUARD, poll_once};

fn install_pools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Pools::builder()
            .pool(
                "shed",
                PoolConfig::fixed(1)
                    .queue_capacity(1)
                    .refuse_when_full(true),
            )
            .pool(
                "shed-run",
                PoolConfig::fixed(1)
                    .queue_capacity(1)
                    .refuse_when_full(true),
            )
            .install()
            .expect("the test pools install");
    });
}

/// Captured by a refused body: records the thread it is dropped on.
struct DropWitness(mpsc::Sender<String>);

impl Drop for DropWitness {
    fn drop(&mut self) {
        let _ = self.0.send(common::thread_name());
    }
}

/// Runs on `pool` a job that holds its one thread until `release` is used, and a second
/// one that fills its queue of one; returns both callers' futures, polled once.
async fn fill(
    pool: &'static str,
    release: mpsc::Receiver<()>,
) -> (impl Future<Output = u32>, impl Future<Output = u32>) {
    let (started, wait_started) = mpsc::channel();
    let mut holder = Box::pin(async_offload::run(pool, move || {
        started.send(()).unwrap();
        release
            .recv_timeout(HANG_GUARD)
            .expect("the test lets the job go");
        1
    }));
    assert!(poll_once(holder.as_mut()).await.is_pending());
    wait_started
        .recv_timeout(HANG_GUARD)
        .expect("the holder runs");
    let mut queued = Box::pin(async_offload::run(pool, || 2));
    assert!(poll_once(queued.as_mut()).await.is_pending());
    let stats = common::stats_for(pool).unwrap();
    assert_eq!(
        (stats.queued, stats.queue_capacity, stats.refuse_when_full),
        (1, 1, true),
        "the queue is full, and refuses"
    );
    (holder, queued)
}

#[test]
fn a_full_queue_refuses_the_next_job_at_once_and_counts_it() {
    install_pools();
    common::current_thread().block_on(async {
        let (release, gate) = mpsc::channel();
        let (holder, queued) = fill("shed", gate).await;

        let (witness_sender, dropped_on) = mpsc::channel();
        let witness = DropWitness(witness_sender);
        let mut refused = pin!(async_offload::try_run("shed", move || {
            let _witness = &witness;
            panic!("a refused body never runs")
        }));
        // Refused at the first poll: on a current-thread runtime, with the pool's only
        // thread held, a caller made to wait for room would stay pending here.
        let Poll::Ready(result) = poll_once(refused.as_mut()).await else {
            panic!("the caller was made to wait for room");
        };
        let error = result.expect_err("the queue is full");
        let OffloadError::QueueFull { pool, capacity } = &error else {
            panic!("expected QueueFull, got {error:?}");
        };
        assert_eq!((pool.as_str(), *capacity), ("shed", 1));
        let message = error.to_string();
        assert!(message.contains("\"shed\""), "{message}");
        assert!(message.contains("queue of 1 jobs is full"), "{message}");

        release.send(()).unwrap();
        assert_eq!((holder.await, queued.await), (1, 2));
        let thread = dropped_on
            .recv_timeout(HANG_GUARD)
            .expect("the refused body was dropped");
        assert_eq!(thread, "offload-shed-0", "dropped on the pool's thread");
        // Room again: the next caller is taken.
        assert_eq!(async_offload::run("shed", || 4).await, 4);
    });

    let stats = common::stats_for("shed").unwrap();
    assert_eq!(stats.queue_full, 1);
    assert_eq!(
        stats.refused, 0,
        "a full queue is not a shutdown or a failed spawn"
    );
    assert_eq!((stats.submitted, stats.completed), (4, 3));
    assert_eq!(common::settled(&stats), stats.submitted);
}

#[test]
fn run_panics_with_the_refusal_and_where_it_was_called() {
    install_pools();
    let (release, gate) = mpsc::channel();
    let runtime = common::current_thread();
    let (holder, queued) = runtime.block_on(fill("shed-run", gate));
    let line = line!() + 1;
    let payload = common::panic_of(async_offload::run("shed-run", || 3));
    let message = common::panic_message(&*payload);
    assert!(
        message.starts_with("the offload pool \"shed-run\" refused the job: its queue of 1"),
        "{message}"
    );
    assert!(
        message.contains(&format!("(called at tests/load_shedding.rs:{line}:")),
        "{message}"
    );
    release.send(()).unwrap();
    runtime.block_on(async { assert_eq!((holder.await, queued.await), (1, 2)) });
    assert_eq!(common::stats_for("shed-run").unwrap().queue_full, 1);
}
