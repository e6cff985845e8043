//! Model checks of the pool protocol with loom: every interleaving of the threads of a
//! small pool (up to a bound on preemptions) runs, and each must keep the pool's promises.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p async-offload-runtime --release --lib loom`
//! (`.ci/run` does). `LOOM_MAX_PREEMPTIONS` widens or narrows the search; it is 3 here
//! unless set.
//!
//! What every model checks at its end, once the pool is shut down and its threads joined:
//! each job is accounted for exactly once (completed, panicked, cancelled before start,
//! abandoned or refused), no body ran whose caller had gone before it started, every body
//! that did not run was dropped, nobody is left in line, no place stays reserved, and no
//! worker is left. Loom itself fails a model on a deadlock, a lost wake-up (a caller
//! parked for ever) or a leaked loom object.
//!
//! Spinning workers (`PoolConfig::spin`) are not modelled: a spin lasts a span of real
//! time, and loom needs executions that do not depend on the clock.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Once};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use loom::future::block_on;
use loom::thread;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::pool::starter::Starter;
use crate::pool::sync::{self, Condvar, Mutex};
use crate::pool::{Pool, PoolStats, answered};

/// Runs `model` under loom, every interleaving, and reports how many there were.
///
/// Each execution returns the path it took (which of the outcomes its race allows); the
/// paths seen must be exactly `paths`, so that a model whose races cannot happen any more
/// (say, a check that now always wins) fails instead of passing vacuously.
fn check(
    name: &str,
    paths: &[&'static str],
    model: impl Fn() -> &'static str + Sync + Send + 'static,
) {
    let seen = Arc::new(StdMutex::new(BTreeMap::<&'static str, usize>::new()));
    let recorded = Arc::clone(&seen);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || {
        let path = model();
        *recorded
            .lock()
            .expect("a model panicked")
            .entry(path)
            .or_default() += 1;
    });
    let seen = seen.lock().expect("a model panicked");
    let interleavings: usize = seen.values().sum();
    println!("loom model {name}: {interleavings} interleavings checked, by path: {seen:?}");
    let mut expected = paths.to_vec();
    expected.sort_unstable();
    let reached: Vec<&str> = seen.keys().copied().collect();
    assert_eq!(reached, expected, "the paths this model reached");
}

/// A pool for one model whose threads are started where they are asked for (an inline
/// starter: the models of the queue, the line and shutdown stay small). Its metrics are
/// on: the counters are the accounting.
fn pool(config: PoolConfig) -> Arc<Pool> {
    Arc::new(Pool::with_starter(
        "model",
        config.metrics(true),
        Starter::inline(),
    ))
}

/// A pool for one model whose threads a starter thread of its own starts, as in a
/// program: for the models of that hand-off.
fn pool_with_a_starter_thread(config: PoolConfig) -> Arc<Pool> {
    Arc::new(Pool::with_starter(
        "model",
        config.metrics(true),
        Starter::new(),
    ))
}

/// Shuts `pool` down, waits for its threads, and checks that nothing was lost or left
/// behind. Returns the final counters.
fn shut_down_and_account(pool: &Pool) -> PoolStats {
    pool.begin_shutdown();
    pool.wait_for_threads(None)
        .expect("without a deadline the wait ends only when every worker has exited");
    pool.starter.stop();
    {
        let state = pool.lock();
        assert_eq!(state.threads, 0, "a worker outlived its pool");
        assert!(state.handles.is_empty(), "a worker was not joined");
        assert!(state.queue.is_empty(), "a queued job was left behind");
        assert!(
            state.discarded.is_empty(),
            "a discarded body was not dropped"
        );
        assert!(state.waiting.is_empty(), "a caller was left in line");
        assert_eq!(
            state.gone_from_line, 0,
            "the count of callers gone from the line drifted"
        );
        assert_eq!(
            state.reserved, 0,
            "a reserved place was never used or given back"
        );
        assert_eq!((state.idle.len(), state.claimed, state.running), (0, 0, 0));
        assert_eq!(
            (state.to_spawn, state.starting),
            (0, 0),
            "a reserved thread was never started nor given up"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        stats.submitted,
        stats.completed + stats.panicked + stats.cancelled + stats.abandoned + stats.refused,
        "a job is missing from the accounting: {stats:?}"
    );
    stats
}

/// Submits `body` to `pool` and waits for its result, as `try_run` does.
fn call<T: Send + 'static>(
    pool: &Arc<Pool>,
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<T, OffloadError> {
    block_on(async {
        let mut handle = pool.submit(body).await?;
        answered(poll_fn(|cx| handle.poll_outcome(cx)).await)
    })
}

/// [`call`], also telling whether the caller had to wait in line for room.
fn call_noting_the_line<T: Send + 'static>(
    pool: &Arc<Pool>,
    body: impl FnOnce() -> T + Send + 'static,
) -> (Result<T, OffloadError>, bool) {
    block_on(async {
        let mut in_line = false;
        let mut submit = pin!(pool.submit(body));
        let queued = poll_fn(|cx| {
            let poll = submit.as_mut().poll(cx);
            in_line |= poll.is_pending();
            poll
        })
        .await;
        match queued {
            Ok(handle) => (Ok(handle.await), in_line),
            Err(error) => (Err(error), in_line),
        }
    })
}

/// Polls `future` once, with a waker that does nothing, and drops it: a caller that goes
/// away at its first suspension point. Returns whether it was suspended there.
fn poll_once_and_drop(future: impl Future) -> bool {
    let mut future = pin!(future);
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

/// A gate a body can wait at until the model opens it (loom's `Notify` may wake early).
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = sync::lock(&self.open);
        while !*open {
            (open, _) = sync::wait_until(&self.opened, &self.open, open, None, None);
        }
    }

    fn open(&self) {
        *sync::lock(&self.open) = true;
        self.opened.notify_all();
    }
}

/// The panic the panic model's job raises.
const EXPECTED_PANIC: &str = "a job's panic, expected by the model";

/// Keeps the panic hook quiet about [`EXPECTED_PANIC`], which every execution of the
/// panic model raises; any other panic is reported as before.
fn quiet_expected_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let report = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&EXPECTED_PANIC) {
                report(info);
            }
        }));
    });
}

/// Counts the bodies that ran and the bodies (run or not) that were dropped, and where.
#[derive(Default)]
struct Bodies {
    ran: AtomicUsize,
    dropped: AtomicUsize,
    dropped_off_pool: AtomicUsize,
}

/// A value a body captures, to see where it is dropped.
struct Captured(Arc<Bodies>);

impl Drop for Captured {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::Relaxed);
        if !on_a_thread_of_the_pool() {
            self.0.dropped_off_pool.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whether this is one of the pool's threads or its starter's: not a caller's.
fn on_a_thread_of_the_pool() -> bool {
    thread::current()
        .name()
        .is_some_and(|name| name.starts_with("offload-model-") || name == "offload.starter")
}

impl Bodies {
    /// A body that counts its run and returns `value`.
    fn body(self: &Arc<Self>, value: u32) -> impl FnOnce() -> u32 + Send + 'static {
        let captured = Captured(Arc::clone(self));
        move || {
            captured.0.ran.fetch_add(1, Ordering::Relaxed);
            value
        }
    }

    fn ran(&self) -> usize {
        self.ran.load(Ordering::Relaxed)
    }

    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Checks that `bodies` bodies were dropped, every one on a pool thread.
    fn assert_all_dropped_on_the_pool(&self, bodies: usize) {
        assert_eq!(self.dropped(), bodies);
        let elsewhere = self.dropped_off_pool.load(Ordering::Relaxed);
        assert_eq!(elsewhere, 0, "a body was dropped on its caller's thread");
    }
}

#[test]
fn loom_a_job_runs_once_and_its_result_comes_back() {
    check("submit", &["both ran"], || {
        let pool = pool(PoolConfig::fixed(1));
        let bodies = Arc::new(Bodies::default());
        let submitter = {
            let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
            thread::spawn(move || call(&pool, bodies.body(1)))
        };
        let second = call(&pool, bodies.body(2));
        assert_eq!(second.expect("the pool is running"), 2);
        let first = submitter.join().expect("the submitter does not panic");
        assert_eq!(first.expect("the pool is running"), 1);

        let stats = shut_down_and_account(&pool);
        assert_eq!((stats.submitted, stats.completed), (2, 2));
        assert_eq!((bodies.ran(), bodies.dropped()), (2, 2));
        "both ran"
    });
}

#[test]
fn loom_a_caller_waits_in_line_for_room_in_a_full_queue() {
    check(
        "wait for room",
        &["queued at once", "waited in line"],
        || {
            let pool = pool(PoolConfig::fixed(1).queue_capacity(1));
            let bodies = Arc::new(Bodies::default());
            // Fills the queue until the worker takes the job.
            let first = block_on(pool.submit(bodies.body(1))).expect("the pool is running");
            let second = {
                let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
                // Queued at once, or in line until the worker takes the first job.
                thread::spawn(move || call_noting_the_line(&pool, bodies.body(2)))
            };
            assert_eq!(block_on(first), 1);
            let (second, in_line) = second.join().expect("the second caller does not panic");
            assert_eq!(second.expect("the pool is running"), 2);

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.completed, 2);
            assert_eq!(bodies.ran(), 2);
            if in_line {
                "waited in line"
            } else {
                "queued at once"
            }
        },
    );
}

#[test]
fn loom_a_caller_gone_before_the_start_means_the_body_never_runs() {
    check(
        "cancel before start",
        &["abandoned", "cancelled", "completed, not taken"],
        || {
            let pool = pool(PoolConfig::fixed(1));
            let bodies = Arc::new(Bodies::default());
            let handle = block_on(pool.submit(bodies.body(1))).expect("the pool is running");
            // The caller goes away while the worker may be starting the job.
            drop(handle);

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.submitted, 1);
            // The worker saw the caller gone (cancelled, never ran), or had started the body
            // (abandoned), or had even stored its result (completed, never taken): nothing else.
            assert_eq!(
                stats.cancelled + stats.abandoned + stats.completed,
                1,
                "{stats:?}"
            );
            assert_eq!(bodies.ran() as u64, stats.abandoned + stats.completed);
            bodies.assert_all_dropped_on_the_pool(1);
            match (stats.cancelled, stats.abandoned) {
                (1, _) => "cancelled",
                (_, 1) => "abandoned",
                _ => "completed, not taken",
            }
        },
    );
}

/// A caller whose call is polled by another task (a waker the job was not made with) is
/// woken there: the worker takes the waker after it puts the outcome in, and the caller
/// looks for the outcome again after it puts a new waker in.
#[test]
fn loom_a_call_polled_from_another_task_wakes_that_task() {
    check(
        "caller moves",
        &["ready at the first poll", "ready after the move"],
        || {
            let pool = pool(PoolConfig::fixed(1));
            let bodies = Arc::new(Bodies::default());
            // The job holds the waker of this first task.
            let mut handle = block_on(pool.submit(bodies.body(1))).expect("the pool is running");
            // A poll with another waker, as from a task the call moved to...
            let first = pin!(&mut handle)
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
            let path = match first {
                Poll::Ready(value) => {
                    assert_eq!(value, 1);
                    "ready at the first poll"
                }
                // ...and then polls from a third, which must be woken when the outcome is in.
                Poll::Pending => {
                    assert_eq!(block_on(&mut handle), 1);
                    "ready after the move"
                }
            };
            drop(handle);
            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.completed, 1);
            path
        },
    );
}

#[test]
fn loom_a_caller_gone_from_the_line_passes_its_place_on() {
    check(
        "cancel in line",
        &["admitted, then left", "left the line", "left the queue"],
        || {
            let pool = pool(PoolConfig::fixed(1).queue_capacity(1));
            let bodies = Arc::new(Bodies::default());
            let first = block_on(pool.submit(bodies.body(1))).expect("the pool is running");
            let leaver = {
                let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
                // May be queued at once, or wait in line and leave it, admitted or not.
                thread::spawn(move || poll_once_and_drop(pool.submit(bodies.body(2))))
            };
            let third = call(&pool, bodies.body(3));
            assert_eq!(third.expect("the pool is running"), 3);
            assert_eq!(block_on(first), 1);
            let left_the_line = leaver.join().expect("the leaver does not panic");
            let passed_on = pool.lock().loom_places_passed_on;

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.submitted, 3);
            // The leaver's job never ran (cancelled in line or in the queue), or ran and its
            // result went unseen (abandoned, or completed but never taken).
            assert_eq!(
                stats.completed + stats.abandoned + stats.cancelled,
                3,
                "{stats:?}"
            );
            assert!(stats.completed >= 2, "{stats:?}");
            assert_eq!(bodies.ran() as u64, stats.completed + stats.abandoned);
            bodies.assert_all_dropped_on_the_pool(3);
            match (left_the_line, passed_on) {
                (false, _) => "left the queue",
                (true, 0) => "left the line",
                (true, _) => "admitted, then left",
            }
        },
    );
}

#[test]
fn loom_a_panicking_job_leaves_its_worker_alive() {
    quiet_expected_panics();
    check("panic", &["survived"], || {
        let pool = pool(PoolConfig::fixed(1));
        let panicked = block_on(async {
            let handle = pool
                .submit(|| -> u32 { panic::panic_any(EXPECTED_PANIC) })
                .await
                .expect("the pool is running");
            panic::catch_unwind(AssertUnwindSafe(|| block_on(handle)))
        });
        let payload = panicked.expect_err("the job's panic reaches its caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&EXPECTED_PANIC));
        // The same (only) worker runs the next job.
        let next = call(&pool, || 5);
        assert_eq!(next.expect("the pool is running"), 5);

        let started = pool.lock().next_thread_id;
        assert_eq!(started, 1, "the worker died and was replaced");
        let stats = shut_down_and_account(&pool);
        assert_eq!((stats.panicked, stats.completed), (1, 1));
        "survived"
    });
}

#[test]
fn loom_an_elastic_pool_grows_to_its_load() {
    check(
        "elastic growth",
        &["grew to two threads", "one thread sufficed"],
        || {
            // A keep-alive too long to reach: the threads stay.
            let pool = pool(PoolConfig::elastic(2).keep_alive(Duration::MAX));
            let bodies = Arc::new(Bodies::default());
            let submitter = {
                let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
                thread::spawn(move || call(&pool, bodies.body(1)))
            };
            let mine = call(&pool, bodies.body(2));
            assert_eq!(mine.expect("the pool is running"), 2);
            let theirs = submitter.join().expect("the submitter does not panic");
            assert_eq!(theirs.expect("the pool is running"), 1);
            let started = pool.lock().next_thread_id;
            assert!((1..=2).contains(&started), "{started} threads started");

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.completed, 2);
            assert_eq!(bodies.ran(), 2);
            if started == 2 {
                "grew to two threads"
            } else {
                "one thread sufficed"
            }
        },
    );
}

#[test]
fn loom_an_idle_elastic_thread_exits_and_a_new_job_still_finds_one() {
    check(
        "elastic idle exit",
        &["a new thread ran it", "the same thread ran it"],
        || {
            // Under loom the keep-alive of an idle thread may run out at any step.
            let pool = pool(PoolConfig::elastic(1).keep_alive(Duration::from_secs(1)));
            let bodies = Arc::new(Bodies::default());
            assert_eq!(call(&pool, bodies.body(1)).expect("the pool is running"), 1);
            // The thread may be idle, exiting, or gone: the job is run all the same.
            assert_eq!(call(&pool, bodies.body(2)).expect("the pool is running"), 2);
            let started = pool.lock().next_thread_id;

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.completed, 2);
            assert_eq!(bodies.ran(), 2);
            if started == 2 {
                "a new thread ran it"
            } else {
                "the same thread ran it"
            }
        },
    );
}

#[test]
fn loom_shutdown_runs_queued_jobs_and_refuses_the_line() {
    check(
        "shutdown",
        &["refused in line", "refused on arrival"],
        || {
            let pool = pool(PoolConfig::fixed(1).queue_capacity(1));
            let bodies = Arc::new(Bodies::default());
            // The only worker is held in the first job until the end, so only the shutdown
            // itself can answer a caller in line.
            let gate = Arc::new(Gate::default());
            let running = {
                let (gate, body) = (Arc::clone(&gate), bodies.body(1));
                block_on(pool.submit(move || {
                    gate.wait();
                    body()
                }))
                .expect("the pool is running")
            };
            // Queued once the worker has taken the first job: the queue is full.
            let queued = block_on(pool.submit(bodies.body(2))).expect("the pool is running");
            let late = {
                let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
                // In line when the shutdown comes, or arriving after it.
                thread::spawn(move || call_noting_the_line(&pool, bodies.body(3)))
            };
            pool.begin_shutdown();
            let (late, in_line) = late.join().expect("the late caller does not panic");
            let error = late.expect_err("a caller not queued before the shutdown is refused");
            assert!(
                matches!(&error, OffloadError::ShutDown { pool } if pool == "model"),
                "{error}"
            );
            // Jobs running or queued before the shutdown still run and report.
            gate.open();
            assert_eq!(block_on(running), 1);
            assert_eq!(block_on(queued), 2);

            let stats = shut_down_and_account(&pool);
            assert_eq!((stats.completed, stats.refused), (2, 1), "{stats:?}");
            assert_eq!(bodies.ran(), 2);
            assert_eq!(bodies.dropped(), 3);
            if in_line {
                "refused in line"
            } else {
                "refused on arrival"
            }
        },
    );
}

#[test]
fn loom_shutdown_racing_the_line_refuses_exactly_the_jobs_not_queued() {
    let paths = [
        "admitted, then refused",
        "queued after waiting in line",
        "queued at once",
        "refused in line",
        "refused on arrival",
    ];
    check("shutdown racing the line", &paths, || {
        let pool = pool(PoolConfig::fixed(1).queue_capacity(1));
        let bodies = Arc::new(Bodies::default());
        let queued = block_on(pool.submit(bodies.body(1))).expect("the pool is running");
        let late = {
            let (pool, bodies) = (Arc::clone(&pool), Arc::clone(&bodies));
            // Queued before the shutdown, in line (admitted or not) when it comes, or
            // arriving after it.
            thread::spawn(move || call_noting_the_line(&pool, bodies.body(2)))
        };
        pool.begin_shutdown();
        assert_eq!(block_on(queued), 1);
        let (late, in_line) = late.join().expect("the late caller does not panic");
        let refused_after_admission = pool.lock().loom_refused_after_admission;

        let stats = shut_down_and_account(&pool);
        match &late {
            Ok(value) => assert_eq!(*value, 2),
            Err(error) => assert!(
                matches!(error, OffloadError::ShutDown { pool } if pool == "model"),
                "{error}"
            ),
        }
        assert_eq!(stats.completed + stats.refused, 2, "{stats:?}");
        assert_eq!(bodies.ran() as u64, stats.completed);
        assert_eq!(bodies.dropped(), 2);
        match (late.is_ok(), in_line, refused_after_admission) {
            (true, false, _) => "queued at once",
            (true, true, _) => "queued after waiting in line",
            (false, false, _) => "refused on arrival",
            (false, true, 0) => "refused in line",
            (false, true, _) => "admitted, then refused",
        }
    });
}

/// A job on a pool with no thread is run by a thread its starter starts: the caller only
/// queues it and asks.
#[test]
fn loom_a_cold_pool_gets_its_thread_from_the_starter() {
    check("cold start", &["ran"], || {
        let pool = pool_with_a_starter_thread(PoolConfig::fixed(1));
        let bodies = Arc::new(Bodies::default());
        assert_eq!(call(&pool, bodies.body(1)).expect("the pool is running"), 1);
        let by_a_caller = pool.lock().started_by_a_caller;
        assert_eq!(by_a_caller, 0, "a caller started a thread");

        let stats = shut_down_and_account(&pool);
        assert_eq!(stats.completed, 1);
        bodies.assert_all_dropped_on_the_pool(1);
        "ran"
    });
}

/// Two jobs on an elastic pool whose first blocks: the starter's look at the queue may find
/// the first thread blocked (and start a second for the other job), or come after the
/// first thread took both; either way both run, and no caller starts a thread. The machine
/// is said to have one core, so that only a thread found blocked can make the pool grow
/// (more threads for short jobs stop at the cores).
#[test]
fn loom_a_blocked_thread_makes_an_elastic_pool_grow() {
    check(
        "growth by the starter",
        &["grew to two threads", "one thread ran both"],
        || {
            let pool = Arc::new(Pool::with_starter(
                "model",
                PoolConfig::elastic(2)
                    .keep_alive(Duration::MAX)
                    .metrics(true),
                Starter::with_cores(1),
            ));
            let bodies = Arc::new(Bodies::default());
            let gate = Arc::new(Gate::default());
            let blocked = {
                let (gate, body) = (Arc::clone(&gate), bodies.body(1));
                block_on(pool.submit(move || {
                    gate.wait();
                    body()
                }))
                .expect("the pool is running")
            };
            let second = block_on(pool.submit(bodies.body(2))).expect("the pool is running");
            gate.open();
            assert_eq!((block_on(blocked), block_on(second)), (1, 2));
            let (started, by_a_caller) = {
                let state = pool.lock();
                (state.next_thread_id, state.started_by_a_caller)
            };
            assert_eq!(by_a_caller, 0, "a caller started a thread");

            let stats = shut_down_and_account(&pool);
            assert_eq!(stats.completed, 2);
            bodies.assert_all_dropped_on_the_pool(2);
            match started {
                2 => "grew to two threads",
                _ => "one thread ran both",
            }
        },
    );
}

/// A pool that cannot start a thread refuses the job queued for it, telling its caller and
/// dropping its body off the caller's thread; the next job, whose thread starts, runs.
#[test]
fn loom_a_thread_that_cannot_start_refuses_its_job_and_the_next_start_serves() {
    check("failed start", &["refused, then ran"], || {
        let pool = pool_with_a_starter_thread(PoolConfig::fixed(1));
        pool.fail_next_starts(1);
        let bodies = Arc::new(Bodies::default());
        let refused = call(&pool, bodies.body(1));
        assert!(
            matches!(&refused, Err(OffloadError::SpawnFailed { pool, .. }) if pool == "model"),
            "{refused:?}"
        );
        assert_eq!(call(&pool, bodies.body(2)).expect("a thread starts"), 2);

        let stats = shut_down_and_account(&pool);
        assert_eq!((stats.refused, stats.completed), (1, 1), "{stats:?}");
        assert_eq!(bodies.ran(), 1);
        bodies.assert_all_dropped_on_the_pool(2);
        "refused, then ran"
    });
}
