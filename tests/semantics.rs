//! What a caller can rely on when a job is offloaded: panics, cancellation, back-pressure,
//! executors and unknown pools.

mod common;

use std::collections::BTreeSet;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, Pools, offload};
use common::{
    ExpectedPanic, HANG_GUARD, panic_message, panic_of, poll_once, silence_expected_panics,
    thread_name,
};

/// Installs the pools of this file; each test calls it, and the first to run installs
/// them (installing the same pools again changes nothing). Each test has its own pool, so
/// that tests running in parallel do not share threads.
fn install_pools() {
    Pools::builder()
        .pool("panics", PoolConfig::fixed(2))
        .pool("cancel-before-start", PoolConfig::fixed(1))
        .pool("cancel-while-running", PoolConfig::fixed(1))
        .pool("bounded", PoolConfig::fixed(1).queue_capacity(2))
        .pool(
            "spinning",
            PoolConfig::elastic(2).spin(Duration::from_micros(200)),
        )
        .pool(
            "keeps-threads",
            PoolConfig::elastic(1).keep_alive(Duration::MAX),
        )
        // A stack larger than the whole address space: no thread can ever start.
        .pool("unstartable", PoolConfig::fixed(1).stack_size(1 << 47))
        .install()
        .expect("the test pools install");
    silence_expected_panics();
}

#[test]
fn a_panic_reaches_the_caller_with_its_payload_and_the_threads_survive() {
    install_pools();
    common::current_thread().block_on(async {
        for i in 0..1_000 {
            let caller = tokio::spawn(async_offload::run("panics", move || -> u32 {
                std::panic::panic_any(ExpectedPanic(i))
            }));
            let payload = caller.await.expect_err("the job panicked").into_panic();
            assert_eq!(
                payload.downcast_ref::<ExpectedPanic>(),
                Some(&ExpectedPanic(i))
            );
        }

        // Two jobs that can only finish together: each waits for the other to start, so
        // both of the pool's threads must still be there.
        let (a_started, a_seen) = mpsc::channel();
        let (b_started, b_seen) = mpsc::channel();
        let a = async_offload::run("panics", move || {
            a_started.send(()).unwrap();
            b_seen.recv_timeout(HANG_GUARD).map(|()| thread_name())
        });
        let b = async_offload::run("panics", move || {
            b_started.send(()).unwrap();
            a_seen.recv_timeout(HANG_GUARD).map(|()| thread_name())
        });
        let (a, b) = tokio::join!(a, b);
        let names: BTreeSet<String> = [a, b]
            .into_iter()
            .map(|name| name.expect("both threads ran at once"))
            .collect();
        // No thread was replaced: a new one would be numbered 2 or more.
        let original: BTreeSet<String> = ["offload-panics-0", "offload-panics-1"]
            .map(String::from)
            .into();
        assert_eq!(names, original);
    });
}

#[offload(pool = "panics")]
fn fails_with(code: u32) -> u32 {
    std::panic::panic_any(ExpectedPanic(code))
}

#[test]
fn a_panic_in_an_offload_fn_resumes_in_the_awaiting_task() {
    install_pools();
    let payload = panic_of(fails_with(7));
    assert_eq!(
        payload.downcast_ref::<ExpectedPanic>(),
        Some(&ExpectedPanic(7))
    );
}

/// A call whose body panicked, polled again after the panic went on in its task, panics
/// again instead of waiting for an outcome that was taken (it once returned Pending for
/// ever).
#[test]
fn a_call_polled_again_after_its_body_panicked_says_so() {
    install_pools();
    silence_expected_panics();
    let mut call = Box::pin(async_offload::try_run("panics", || -> u32 {
        std::panic::panic_any(ExpectedPanic(8))
    }));
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(call.as_mut())
    }))
    .expect_err("the body's panic goes on in the caller");
    assert_eq!(
        first.downcast_ref::<ExpectedPanic>(),
        Some(&ExpectedPanic(8))
    );
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(poll_once(call.as_mut()))
    }))
    .expect_err("a call polled after it returned panics");
    assert_eq!(
        panic_message(again.as_ref()),
        "an offloaded call polled after it returned"
    );
}

/// The futures of `run` and `try_run` are `Unpin`, as a `JoinHandle` is: they can be
/// awaited through `&mut`, and are still there after.
#[test]
fn the_futures_of_run_and_try_run_are_polled_through_a_mutable_reference() {
    fn unpin<F: std::future::Future + Unpin>(future: F) -> F {
        future
    }
    let mut call = unpin(async_offload::run("default", || 40 + 2));
    assert_eq!(futures::executor::block_on(&mut call), 42);
    let mut tried = unpin(async_offload::try_run("default", || 7));
    assert_eq!(
        futures::executor::block_on(&mut tried).expect("the default pool runs it"),
        7
    );
}

/// Records the thread it is dropped on.
struct DropProbe(Arc<Mutex<Vec<String>>>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread_name());
    }
}

#[test]
fn a_job_whose_caller_left_before_it_started_never_runs() {
    install_pools();
    let runs = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(Mutex::new(Vec::new()));
    common::current_thread().block_on(async {
        let (started, wait_started) = mpsc::channel();
        let (release, wait_release) = mpsc::channel::<()>();
        let blocker = tokio::spawn(async_offload::run("cancel-before-start", move || {
            started.send(()).unwrap();
            wait_release.recv_timeout(HANG_GUARD).is_ok()
        }));
        tokio::task::spawn_blocking(move || wait_started.recv_timeout(HANG_GUARD))
            .await
            .unwrap()
            .expect("the blocking job started");

        for _ in 0..10 {
            let runs = Arc::clone(&runs);
            let probe = DropProbe(Arc::clone(&drops));
            let mut call = pin!(async_offload::run("cancel-before-start", move || {
                let _probe = probe;
                runs.fetch_add(1, Ordering::SeqCst);
            }));
            // One poll queues the job behind the blocker; then the caller goes away.
            assert!(poll_once(call.as_mut()).await.is_pending());
        }

        release.send(()).unwrap();
        assert!(blocker.await.unwrap(), "the blocker was released");
        // Jobs run in order, so once this one has run the cancelled ones were taken off
        // the queue.
        async_offload::run("cancel-before-start", || ()).await;
    });
    assert_eq!(runs.load(Ordering::SeqCst), 0, "a cancelled job ran");
    let drops = drops.lock().unwrap();
    assert_eq!(
        drops.len(),
        10,
        "every cancelled job's arguments were dropped"
    );
    assert!(
        drops
            .iter()
            .all(|name| name == "offload-cancel-before-start-0"),
        "arguments are dropped on the pool thread, not the executor: {drops:?}"
    );
}

#[test]
fn cancelled_turns_true_inside_a_running_job_once_its_caller_has_gone() {
    install_pools();
    assert!(
        !async_offload::cancelled(),
        "outside a job nothing is cancelled"
    );
    let (report, reports) = mpsc::channel();
    common::current_thread().block_on(async {
        let (started, mut wait_started) = tokio::sync::mpsc::unbounded_channel();
        let job = async_offload::run("cancel-while-running", move || {
            let at_start = async_offload::cancelled();
            started.send(()).unwrap();
            let deadline = std::time::Instant::now() + HANG_GUARD;
            while !async_offload::cancelled() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            report.send((at_start, async_offload::cancelled())).unwrap();
        });
        tokio::select! {
            () = job => panic!("the job only ends once cancelled"),
            _ = wait_started.recv() => {} // drops the job's future while it runs
        }
    });
    let (at_start, at_end) = reports.recv_timeout(HANG_GUARD).expect("the job reported");
    assert!(
        !at_start,
        "the caller was still waiting when the job started"
    );
    assert!(at_end, "the job saw its caller go");
}

#[test]
fn a_full_queue_makes_callers_wait_in_order_without_blocking_the_executor() {
    install_pools();
    // "bounded" has one thread and room for two waiting jobs: with job 1 running and
    // jobs 2 and 3 queued, callers 4 and 5 wait for room.
    let order = Arc::new(Mutex::new(Vec::new()));
    common::current_thread().block_on(async {
        let (started, mut wait_started) = tokio::sync::mpsc::unbounded_channel();
        let (release, wait_release) = mpsc::channel::<()>();
        let wait_release = Mutex::new(Some(wait_release));
        let wait_release = Arc::new(wait_release);
        let mut callers = Vec::new();
        for i in 1..=5 {
            let order = Arc::clone(&order);
            let started = started.clone();
            let wait_release = Arc::clone(&wait_release);
            callers.push(tokio::spawn(async_offload::run("bounded", move || {
                order.lock().unwrap().push(i);
                if i == 1 {
                    started.send(()).unwrap();
                    let gate = wait_release.lock().unwrap().take().unwrap();
                    gate.recv_timeout(HANG_GUARD).unwrap();
                }
            })));
        }
        wait_started.recv().await.expect("job 1 started");

        // The executor's only thread keeps running other tasks while the callers wait.
        let ticks = Arc::new(AtomicUsize::new(0));
        let heartbeat = tokio::spawn({
            let ticks = Arc::clone(&ticks);
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
            }
        });
        while ticks.load(Ordering::SeqCst) < 1_000 {
            tokio::task::yield_now().await;
        }
        assert!(
            callers.iter().all(|caller| !caller.is_finished()),
            "every caller is still waiting: job 1 holds the only thread"
        );
        assert_eq!(*order.lock().unwrap(), [1], "only job 1 has started");

        release.send(()).unwrap();
        for caller in callers {
            caller.await.unwrap();
        }
        heartbeat.abort();
    });
    assert_eq!(
        *order.lock().unwrap(),
        [1, 2, 3, 4, 5],
        "first come, first served"
    );
}

#[offload]
fn double_on_a_pool(value: u64) -> (u64, String) {
    (value * 2, thread_name())
}

/// The same calls, whatever the executor.
async fn offloaded_calls() {
    let (doubled, thread) = double_on_a_pool(21).await;
    assert_eq!(doubled, 42);
    assert!(thread.starts_with("offload-default-"), "ran on {thread}");
    assert_eq!(async_offload::run("cpu", || 6 * 7).await, 42);
    let thread = async_offload::try_run("cpu", thread_name).await.unwrap();
    assert!(thread.starts_with("offload-cpu-"), "ran on {thread}");
}

#[test]
fn works_on_a_tokio_current_thread_runtime() {
    common::current_thread().block_on(offloaded_calls());
}

#[test]
fn works_on_a_tokio_multi_thread_runtime() {
    common::multi_thread().block_on(async {
        // Spawned, so the future must be `Send` too.
        tokio::spawn(offloaded_calls()).await.unwrap();
    });
}

#[test]
fn works_on_the_futures_executor() {
    futures::executor::block_on(offloaded_calls());
}

#[test]
fn an_unknown_pool_is_an_error_naming_it_and_the_pools_that_exist() {
    install_pools();
    let error = futures::executor::block_on(async_offload::try_run("dbb", || ())).unwrap_err();
    let OffloadError::UnknownPool {
        requested,
        available,
    } = &error
    else {
        panic!("expected UnknownPool, got {error:?}");
    };
    assert_eq!(requested, "dbb");
    for pool in ["bounded", "cpu", "default", "panics"] {
        assert!(
            available.iter().any(|name| name == pool),
            "{pool} in {available:?}"
        );
    }
    let message = error.to_string();
    assert!(message.contains("\"dbb\""), "{message}");
    assert!(message.contains("\"default\""), "{message}");
}

#[test]
fn run_panics_on_an_unknown_pool_with_the_same_message() {
    install_pools();
    let payload = panic_of(async_offload::run("dbb", || ()));
    let message = panic_message(&*payload);
    assert!(
        message.contains("no offload pool is named \"dbb\""),
        "{message}"
    );
    assert!(message.contains("\"cpu\""), "{message}");
}

#[test]
fn workers_that_spin_before_they_sleep_run_every_job_once() {
    install_pools();
    let runs = Arc::new(AtomicUsize::new(0));
    common::multi_thread().block_on(async {
        // One at a time: each job finds a worker still spinning, or a sleeping one.
        for i in 0..500u64 {
            let runs = Arc::clone(&runs);
            let got = async_offload::run("spinning", move || {
                runs.fetch_add(1, Ordering::SeqCst);
                i
            })
            .await;
            assert_eq!(got, i);
        }
        // Many at once, on both workers.
        let jobs = (0..500u64).map(|i| {
            let runs = Arc::clone(&runs);
            async_offload::run("spinning", move || {
                runs.fetch_add(1, Ordering::SeqCst);
                i * 2
            })
        });
        let results = futures::future::join_all(jobs).await;
        assert!(
            results
                .iter()
                .enumerate()
                .all(|(i, &got)| got == i as u64 * 2)
        );
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1000);
    let stats = common::stats_for("spinning").unwrap();
    assert!(stats.threads <= 2, "{stats:?}");
    assert_eq!(stats.completed, 1000);
}

#[test]
fn an_elastic_pool_whose_keep_alive_never_runs_out_keeps_working() {
    install_pools();
    common::current_thread().block_on(async {
        assert_eq!(async_offload::run("keeps-threads", || 1).await, 1);
        // Once its worker waits idle, with a keep-alive too long to add to the clock...
        while common::stats_for("keeps-threads").unwrap().idle_threads == 0 {
            tokio::task::yield_now().await;
        }
        // ...the same worker still takes the next job.
        let second = tokio::time::timeout(HANG_GUARD, async_offload::run("keeps-threads", || 2));
        assert_eq!(second.await, Ok(2));
    });
    let stats = common::stats_for("keeps-threads").unwrap();
    assert_eq!((stats.threads, stats.completed), (1, 2));
}

#[test]
fn a_pool_that_cannot_start_a_thread_refuses_the_job_and_says_why() {
    install_pools();
    let runs = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let (runs, dropped) = (Arc::clone(&runs), DropCounter(Arc::clone(&drops)));
        let outcome =
            common::current_thread().block_on(async_offload::try_run("unstartable", move || {
                let _dropped = dropped;
                runs.fetch_add(1, Ordering::SeqCst);
            }));
        match outcome {
            Err(OffloadError::SpawnFailed { pool, error }) => {
                assert_eq!(pool, "unstartable");
                assert!(!error.to_string().is_empty());
            }
            other => panic!("expected SpawnFailed, got {other:?}"),
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0, "a refused body never runs");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "every refused body is dropped"
    );
    let stats = common::stats_for("unstartable").unwrap();
    assert_eq!((stats.submitted, stats.refused, stats.threads), (3, 3, 0));
}

/// Counts its drops.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
