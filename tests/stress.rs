//! Stress with injected faults: many jobs across pools of each kind, from a few hundred
//! concurrent tasks, with panicking jobs, callers that give up at a random moment, and pools
//! shut down while jobs wait in their queues. Afterwards every job is accounted for, twice:
//! by the pools' own counters and by what the callers saw; every job body is dropped, run
//! or not; and no thread outlives its pool.
//!
//! Its own test binary, with this one test: it shuts pools down, and it counts the
//! process's threads.
//!
//! `OFFLOAD_STRESS_JOBS` sets how many jobs (200,000 unless set), `OFFLOAD_STRESS_SEED` the
//! seed of the random choices (printed, so that a failing run can be repeated).

mod common;

use std::hint::black_box;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, PoolStats, Pools, offload};
use common::{ExpectedPanic, HANG_GUARD, poll_once};
use futures::FutureExt;

/// Jobs driven unless `OFFLOAD_STRESS_JOBS` says otherwise.
const DEFAULT_JOBS: u64 = 200_000;
/// Concurrent caller tasks.
const TASKS: u64 = 300;
/// In a thousand jobs: how many panic, and how many callers drop their future.
const PANICS_PER_MILLE: u64 = 10;
const DROPS_PER_MILLE: u64 = 100;

/// The pools: short names, so that the OS keeps `offload-<pool>-` of the thread names.
const POOLS: [&str; 4] = ["f1", "f4", "e3", "e16"];
/// The pool `#[offload]` calls go to, which runs until the end.
const MACRO_POOL: usize = 1;
/// The pools shut down while jobs are queued, and after which share of the jobs.
const SHUT_DOWN: [(usize, u64, u64); 2] = [(0, 1, 3), (2, 2, 3)];

/// The pools' configurations, in the order of [`POOLS`]: two fixed, two elastic.
fn configs() -> [PoolConfig; 4] {
    [
        // One thread and a queue of 8: the pool callers most often find full.
        PoolConfig::fixed(1).queue_capacity(8),
        // Idle workers spin a little before they sleep.
        PoolConfig::fixed(4)
            .queue_capacity(64)
            .spin(Duration::from_micros(50)),
        // Threads that give up after 1 ms idle: they come and go all the time.
        PoolConfig::elastic(3)
            .queue_capacity(16)
            .keep_alive(Duration::from_millis(1)),
        PoolConfig::elastic(16)
            .queue_capacity(256)
            .keep_alive(Duration::from_millis(20)),
    ]
}

/// Per pool: job bodies made, dropped (run or not) and started.
static BODIES_MADE: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static BODIES_DROPPED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static BODIES_STARTED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Per pool: how many threads it started (one more than the highest thread number seen).
static THREADS_STARTED: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Jobs whose caller has been created, over all pools.
static ISSUED: AtomicU64 = AtomicU64::new(0);

/// Moves into each job body with its arguments; counts that the body is dropped, whether
/// it ran, was cancelled, or was refused.
struct Token {
    pool: usize,
}

impl Token {
    fn new(pool: usize) -> Self {
        BODIES_MADE[pool].fetch_add(1, Ordering::Relaxed);
        Token { pool }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        BODIES_DROPPED[self.pool].fetch_add(1, Ordering::Relaxed);
    }
}

/// What job `id` returns when it does not panic.
fn expected(id: u64) -> u64 {
    id ^ 0x5eed_5eed
}

/// A job's body: trivial work, a look at `cancelled()`, and the injected panic.
fn work(token: &Token, id: u64, panics: bool) -> u64 {
    BODIES_STARTED[token.pool].fetch_add(1, Ordering::Relaxed);
    let thread = std::thread::current();
    let number = thread
        .name()
        .and_then(|name| name.strip_prefix(&format!("offload-{}-", POOLS[token.pool])))
        .and_then(|number| number.parse::<u64>().ok());
    let Some(number) = number else {
        panic!("job {id} of {} ran on {thread:?}", POOLS[token.pool]);
    };
    THREADS_STARTED[token.pool].fetch_max(number + 1, Ordering::Relaxed);
    let mut spin = id;
    for _ in 0..id % 32 {
        if async_offload::cancelled() {
            break;
        }
        spin = black_box(spin.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
    black_box(spin);
    if panics {
        std::panic::panic_any(ExpectedPanic(u32::try_from(id).expect("ids fit in u32")));
    }
    expected(id)
}

/// The same job through the attribute.
#[offload(pool = "f4")]
fn through_the_attribute(token: Token, id: u64, panics: bool) -> u64 {
    work(&token, id, panics)
}

/// One offloaded call, as a caller makes it; the token is made at the first poll.
async fn call(pool: usize, id: u64, panics: bool, attribute: bool) -> Result<u64, OffloadError> {
    let token = Token::new(pool);
    if attribute {
        Ok(through_the_attribute(token, id, panics).await)
    } else {
        async_offload::try_run(POOLS[pool], move || work(&token, id, panics)).await
    }
}

/// A small xorshift generator, seeded per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that close seeds give unrelated sequences.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// What the callers of one pool saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Seen {
    /// Futures polled at least once: each was submitted to the pool.
    submitted: u64,
    /// The job's value came back.
    ok: u64,
    /// The job's panic came back, with its payload.
    panicked: u64,
    /// `OffloadError::ShutDown`.
    shut_down: u64,
    /// The caller dropped its future before it finished.
    dropped: u64,
    /// Callers that meant to drop their future, but it finished first.
    finished_before_drop: u64,
}

impl Seen {
    fn add(&mut self, other: &Seen) {
        self.submitted += other.submitted;
        self.ok += other.ok;
        self.panicked += other.panicked;
        self.shut_down += other.shut_down;
        self.dropped += other.dropped;
        self.finished_before_drop += other.finished_before_drop;
    }
}

/// One caller task: `jobs` calls, one after the other, with random pools and faults.
async fn caller(task: u64, jobs: std::ops::Range<u64>, seed: u64) -> [Seen; 4] {
    let mut rng = Rng::new(seed ^ task.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut seen = [Seen::default(); 4];
    for id in jobs {
        ISSUED.fetch_add(1, Ordering::Relaxed);
        let pool = usize::try_from(rng.below(4)).unwrap();
        let fault = rng.below(1000);
        let panics = fault < PANICS_PER_MILLE;
        let drop_after = (PANICS_PER_MILLE..PANICS_PER_MILLE + DROPS_PER_MILLE)
            .contains(&fault)
            .then(|| match rng.below(4) {
                // Right after submitting, or after a few turns of the runtime: while the
                // job waits for room, waits in the queue, runs, or has just finished.
                0 | 1 => 1,
                _ => 2 + rng.below(4),
            });
        let attribute = pool == MACRO_POOL && rng.below(2) == 0;
        let seen = &mut seen[pool];

        let mut future = pin!(AssertUnwindSafe(call(pool, id, panics, attribute)).catch_unwind());
        let outcome = match drop_after {
            None => Some(future.await),
            Some(polls) => {
                let mut outcome = None;
                for poll in 1..=polls {
                    if let Poll::Ready(done) = poll_once(future.as_mut()).await {
                        outcome = Some(done);
                        break;
                    }
                    if poll < polls {
                        tokio::task::yield_now().await;
                    }
                }
                outcome
            }
        };
        seen.submitted += 1;
        if drop_after.is_some() && outcome.is_some() {
            seen.finished_before_drop += 1;
        }
        match outcome {
            None => seen.dropped += 1,
            Some(Ok(Ok(value))) => {
                assert!(!panics, "job {id} was to panic, and returned {value}");
                assert_eq!(value, expected(id), "job {id} returned another's value");
                seen.ok += 1;
            }
            Some(Ok(Err(OffloadError::ShutDown { pool: name }))) => {
                assert_eq!(name, POOLS[pool], "job {id}: the error names its pool");
                seen.shut_down += 1;
            }
            Some(Ok(Err(error))) => panic!("job {id} on {}: {error}", POOLS[pool]),
            Some(Err(payload)) => {
                let Some(ExpectedPanic(thrown)) = payload.downcast_ref::<ExpectedPanic>() else {
                    std::panic::resume_unwind(payload);
                };
                assert!(panics, "job {id} panicked unasked");
                assert_eq!(u64::from(*thrown), id, "job {id}: the original payload");
                seen.panicked += 1;
            }
        }
    }
    seen
}

/// Shuts down pool `pool` once `after` jobs have been issued and it has jobs queued, then
/// checks that its threads are gone. Returns the number of jobs queued just before.
fn shut_down_while_queued(pool: usize, after: u64, callers_done: &AtomicBool) -> usize {
    let name = POOLS[pool];
    let mut queued = 0;
    let caught = common::eventually(|| {
        if callers_done.load(Ordering::Relaxed) {
            return true;
        }
        if ISSUED.load(Ordering::Relaxed) < after {
            return false;
        }
        queued = common::stats_for(name).unwrap().queued;
        queued > 0
    });
    assert!(
        caught && queued > 0,
        "{name}: no moment with jobs queued while the callers ran"
    );
    async_offload::shutdown_pool(name, HANG_GUARD)
        .unwrap_or_else(|error| panic!("{name} shuts down in time: {error}"));
    let stats = common::stats_for(name).unwrap();
    assert_eq!(
        (stats.threads, stats.running, stats.queued),
        (0, 0, 0),
        "{name}: its queue ran and its threads were joined"
    );
    #[cfg(target_os = "linux")]
    assert!(
        common::eventually(|| common::pool_threads_alive(name) == 0),
        "{name}: no thread outlives the pool: {:?}",
        common::os_thread_names()
    );
    queued
}

#[test]
fn every_job_is_accounted_for_under_faults_and_no_thread_outlives_its_pool() {
    #[cfg(target_os = "linux")]
    let threads_at_start = common::process_threads();
    let jobs: u64 = std::env::var("OFFLOAD_STRESS_JOBS").map_or(DEFAULT_JOBS, |jobs| {
        jobs.parse().expect("OFFLOAD_STRESS_JOBS is a number")
    });
    let seed: u64 = std::env::var("OFFLOAD_STRESS_SEED").map_or_else(
        |_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |now| now.as_secs())
        },
        |seed| seed.parse().expect("OFFLOAD_STRESS_SEED is a number"),
    );
    eprintln!("stress: {jobs} jobs, {TASKS} tasks, OFFLOAD_STRESS_SEED={seed}");
    common::silence_expected_panics();
    POOLS
        .iter()
        .zip(configs())
        .fold(Pools::builder(), |builder, (name, config)| {
            builder.pool(*name, config)
        })
        .install()
        .expect("the stress pools install");

    let runtime = common::multi_thread();
    let callers_done = Arc::new(AtomicBool::new(false));
    let shutdowns: Vec<_> = SHUT_DOWN
        .iter()
        .map(|&(pool, numerator, denominator)| {
            let callers_done = Arc::clone(&callers_done);
            let after = jobs * numerator / denominator;
            std::thread::spawn(move || shut_down_while_queued(pool, after, &callers_done))
        })
        .collect();
    let seen: [Seen; 4] = runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let share = jobs * task / TASKS..jobs * (task + 1) / TASKS;
                tokio::spawn(caller(task, share, seed))
            })
            .collect();
        let mut seen = [Seen::default(); 4];
        for task in tasks {
            let task_seen = tokio::time::timeout(HANG_GUARD * 5, task)
                .await
                .expect("no caller hangs")
                .expect("no caller fails");
            for (total, one) in seen.iter_mut().zip(&task_seen) {
                total.add(one);
            }
        }
        seen
    });
    callers_done.store(true, Ordering::Relaxed);
    let queued_at_shutdown: Vec<usize> = shutdowns
        .into_iter()
        .map(|shutdown| {
            shutdown
                .join()
                .expect("a pool shut down while jobs were queued")
        })
        .collect();

    async_offload::shutdown(HANG_GUARD).expect("every pool shuts down in time");
    drop(runtime);

    let stats: Vec<PoolStats> = POOLS
        .iter()
        .map(|name| common::stats_for(name).unwrap())
        .collect();
    for (pool, (stats, seen)) in stats.iter().zip(&seen).enumerate() {
        let name = POOLS[pool];
        eprintln!("stress: {name}: pool {stats:?}");
        eprintln!("stress: {name}: callers {seen:?}");
        eprintln!(
            "stress: {name}: {} threads started",
            THREADS_STARTED[pool].load(Ordering::Relaxed)
        );
        assert_eq!(
            (stats.threads, stats.running, stats.queued),
            (0, 0, 0),
            "{name}: nothing left running"
        );
        // The pool's books balance.
        assert_eq!(
            common::settled(stats),
            stats.submitted,
            "{name}: a job is unaccounted for"
        );
        // And agree with what the callers saw.
        assert_eq!(
            stats.submitted, seen.submitted,
            "{name}: submitted, by the pool and by the callers"
        );
        assert_eq!(
            stats.refused, seen.shut_down,
            "{name}: every refusal, and only those, reached its caller"
        );
        assert!(
            stats.completed >= seen.ok && stats.panicked >= seen.panicked,
            "{name}: every value and panic a caller got was counted"
        );
        // A caller that went away left its job cancelled, abandoned, or finished unseen.
        assert_eq!(
            stats.cancelled
                + stats.abandoned
                + (stats.completed - seen.ok)
                + (stats.panicked - seen.panicked),
            seen.dropped,
            "{name}: the jobs of callers that went away"
        );
        // Each body that started ended as completed, panicked or abandoned; the others
        // never ran; every body was dropped.
        assert_eq!(
            BODIES_STARTED[pool].load(Ordering::Relaxed),
            stats.completed + stats.panicked + stats.abandoned,
            "{name}: bodies that ran"
        );
        assert_eq!(
            BODIES_MADE[pool].load(Ordering::Relaxed),
            seen.submitted,
            "{name}: one body per call"
        );
        assert_eq!(
            BODIES_DROPPED[pool].load(Ordering::Relaxed),
            BODIES_MADE[pool].load(Ordering::Relaxed),
            "{name}: a job body was never dropped"
        );
    }
    for (&(pool, ..), queued) in SHUT_DOWN.iter().zip(&queued_at_shutdown) {
        let name = POOLS[pool];
        assert!(
            stats[pool].refused > 0,
            "{name} refused the jobs that came after its shutdown"
        );
        eprintln!("stress: {name} shut down with {queued} jobs queued");
    }

    let mut total = Seen::default();
    seen.iter().for_each(|one| total.add(one));
    let sum = |field: fn(&PoolStats) -> u64| stats.iter().map(field).sum::<u64>();
    assert_eq!(total.submitted, jobs, "every job was submitted once");
    assert!(total.panicked > 0 && total.dropped > 0 && total.shut_down > 0);
    eprintln!(
        "stress: {jobs} jobs: {} completed, {} panicked, {} cancelled before start, {} \
         abandoned, {} refused at shutdown; callers saw {} values, {} panics, {} refusals and \
         dropped {} futures ({} more finished before the drop); lost: {}",
        sum(|s| s.completed),
        sum(|s| s.panicked),
        sum(|s| s.cancelled),
        sum(|s| s.abandoned),
        sum(|s| s.refused),
        total.ok,
        total.panicked,
        total.shut_down,
        total.dropped,
        total.finished_before_drop,
        jobs - (sum(|s| s.completed)
            + sum(|s| s.panicked)
            + sum(|s| s.cancelled)
            + sum(|s| s.abandoned)
            + sum(|s| s.refused)),
    );

    #[cfg(target_os = "linux")]
    {
        // A joined thread, or one that exited on its own, leaves the OS's list a moment
        // after it is done; so do the runtime's threads after it is dropped.
        assert!(
            common::eventually(|| POOLS
                .iter()
                .all(|pool| common::pool_threads_alive(pool) == 0)),
            "no pool thread outlives its pool: {:?}",
            common::os_thread_names()
        );
        let back = common::eventually(|| common::process_threads() == threads_at_start);
        assert!(
            back,
            "the process had {threads_at_start} threads at the start and has {} now: {:?}",
            common::process_threads(),
            common::os_thread_names()
        );
    }
}
