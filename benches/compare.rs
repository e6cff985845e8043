//! `offload` against tokio's `spawn_blocking` and smol's `blocking::unblock`, side by side.
//!
//! `cargo bench --bench compare` runs every case in one process and prints one table: each
//! figure, and its ratio to `spawn_blocking` measured in the same run, so that the noise of
//! a shared machine falls on every candidate alike. Where it can, the candidates take turns
//! sample by sample. `BENCHMARKS.md` explains each case.
//!
//! `cargo bench --bench compare -- alone <offload|offload_fn|spawn_blocking|unblock> <round
//! trips>` runs only one candidate's round trips from a current-thread runtime, for a
//! profiler (`offload_fn` calls an `#[offload]` fn, `offload` calls `run`): run
//! under `valgrind --tool=callgrind` with two counts, the difference of the instructions
//! counted, divided by the difference of the counts, is the work of one round trip.
//! `cargo bench --bench compare -- callgrind` does exactly that for every candidate, three
//! times, and prints the table (it needs `valgrind` on the `PATH`).
//!
//! `cargo bench --bench compare -- submitters` runs only the many-submitters case.
//!
//! `cargo bench --bench compare -- sizing` runs the cases of how pools size themselves to
//! the load (bursts of short jobs, blocking jobs on a cold pool, a trickle after a burst),
//! each in a fresh process: see `sizing/mod.rs`.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_offload::{PoolConfig, Pools};
use common::Candidate;

mod common;
mod sizing;

/// Round trips measured per candidate and runtime.
const ROUND_TRIPS: usize = 20_000;
/// Jobs submitted at once in the throughput case.
const BATCH: usize = 100_000;
/// Repetitions of the throughput case.
const BATCH_SAMPLES: usize = 5;
/// The blocking call of the seed scenario and of the executor-lag case.
const BLOCKING_CALL: Duration = Duration::from_millis(50);
/// Callers waiting at once in the memory case.
const WAITERS: usize = 100_000;
/// The spin of the pool that measures `PoolConfig::spin`.
const SPIN: Duration = Duration::from_micros(50);
/// Jobs, one every millisecond, in the CPU-cost case.
const SPARSE_JOBS: usize = 1_000;
/// Submitting tasks in the many-submitters case.
const SUBMITTERS: [usize; 5] = [1, 2, 4, 8, 16];
/// Batches each submitting task awaits one after the other, and jobs in a batch.
const SUBMITTER_BATCHES: usize = 100;
const SUBMITTER_BATCH: usize = 16;
/// Runs of the many-submitters case per candidate and count; the median is shown.
const SUBMITTER_SAMPLES: usize = 7;
/// Round trips of the two callgrind runs per candidate: their difference is measured.
const CALLGRIND_ROUND_TRIPS: [usize; 2] = [2_000, 12_000];

/// One row of the table.
struct Row {
    case: String,
    candidate: &'static str,
    figure: f64,
    unit: &'static str,
    /// The same figure of `spawn_blocking` in this case, for the ratio.
    baseline: Option<f64>,
    goal: &'static str,
}

/// The rows of one case: a figure per candidate, with ratios to `spawn_blocking`'s.
fn rows_of(
    case: &str,
    unit: &'static str,
    goal: &'static str,
    figures: &[(Candidate, f64)],
) -> Vec<Row> {
    let baseline = figures
        .iter()
        .find(|(candidate, _)| *candidate == Candidate::SpawnBlocking)
        .map(|&(_, figure)| figure);
    figures
        .iter()
        .map(|&(candidate, figure)| Row {
            case: case.to_owned(),
            candidate: candidate.name(),
            figure,
            unit,
            baseline,
            goal: if candidate == Candidate::Offload {
                goal
            } else {
                ""
            },
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench` to a bench with its own harness.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["alone", candidate, round_trips] => {
            run_alone(
                candidate,
                round_trips.parse().expect("a number of round trips"),
            );
            return;
        }
        ["callgrind"] => {
            callgrind_table();
            return;
        }
        ["submitters"] => {
            print_table(&many_submitters());
            return;
        }
        ["sizing"] => {
            println!("{}\n", machine());
            sizing::table();
            return;
        }
        ["sizing-case", case, candidate] => {
            sizing::run_case(case, candidate);
            return;
        }
        _ => {}
    }
    Pools::builder()
        .pool("seed-2", PoolConfig::fixed(2))
        .pool("seed-8", PoolConfig::fixed(8))
        .pool("seed-64", PoolConfig::fixed(64))
        .pool("waiters", PoolConfig::fixed(4).queue_capacity(1024))
        .pool("spinning", PoolConfig::elastic(64).spin(SPIN))
        .install()
        .expect("the benchmark's pools install");
    println!("{}\n", machine());
    let mut rows = Vec::new();
    for (flavor, runtime) in [
        ("current-thread", current_thread()),
        ("multi-thread", multi_thread()),
    ] {
        let goal_median = if flavor == "current-thread" {
            "<= 0.7x"
        } else {
            "<= 1.0x"
        };
        let figures = round_trips(&runtime, &Candidate::ALL);
        let medians: Vec<_> = figures.iter().map(|&(c, median, _)| (c, median)).collect();
        let p99s: Vec<_> = figures.iter().map(|&(c, _, p99)| (c, p99)).collect();
        rows.extend(rows_of(
            &format!("round trip, {flavor}, median"),
            "us",
            goal_median,
            &medians,
        ));
        rows.extend(rows_of(
            &format!("round trip, {flavor}, p99"),
            "us",
            "<= 1.2x",
            &p99s,
        ));
        let spinning = round_trips(
            &runtime,
            &[Candidate::OffloadSpinning, Candidate::SpawnBlocking],
        );
        let medians: Vec<_> = spinning.iter().map(|&(c, median, _)| (c, median)).collect();
        rows.extend(rows_of(
            &format!("round trip, {flavor}, spinning pool, median"),
            "us",
            "",
            &medians,
        ));
    }
    rows.extend(fn_round_trips(&current_thread()));
    rows.extend(rows_of(
        &format!("throughput, {BATCH} jobs at once"),
        "jobs/ms",
        ">= 2.0x",
        &throughput(),
    ));
    rows.extend(cpu_cost());
    rows.extend(seed_scenario());
    rows.extend(executor_lag());
    rows.extend(waiting_callers());
    rows.extend(many_submitters());
    print_table(&rows);
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread runtime")
}

/// Round trip of a trivial job awaited from a task, one at a time, the candidates taking
/// turns: median and p99 in microseconds. (The pool whose workers always spin is measured
/// in turns with `spawn_blocking` alone, apart from the others: taking turns with them, it
/// would spin on one of the machine's two cores while they run, and slow their wake-ups.)
fn round_trips(
    runtime: &tokio::runtime::Runtime,
    candidates: &[Candidate],
) -> Vec<(Candidate, f64, f64)> {
    let candidates = candidates.to_vec();
    let round_trips = async move {
        let mut samples = vec![Vec::with_capacity(ROUND_TRIPS); candidates.len()];
        for i in 0..ROUND_TRIPS + ROUND_TRIPS / 10 {
            for (candidate, samples) in candidates.iter().zip(samples.iter_mut()) {
                let start = Instant::now();
                black_box(candidate.run("default", move || black_box(i)).await);
                if i >= ROUND_TRIPS / 10 {
                    // After a warm-up of a tenth.
                    samples.push(start.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        candidates
            .into_iter()
            .zip(samples)
            .map(|(candidate, mut samples)| {
                samples.sort_unstable_by(f64::total_cmp);
                let median = samples[samples.len() / 2];
                (candidate, median, samples[samples.len() * 99 / 100])
            })
            .collect()
    };
    runtime
        .block_on(async { tokio::spawn(round_trips).await })
        .expect("the round trips run")
}

/// Round trips of an `#[offload]` fn and of `spawn_blocking`, alone in turns, call by
/// call, from a current-thread runtime: the medians, in microseconds.
fn fn_round_trips(runtime: &tokio::runtime::Runtime) -> Vec<Row> {
    let medians = runtime.block_on(async {
        let (mut offloaded_fn, mut spawned) = (Vec::new(), Vec::new());
        for i in 0..ROUND_TRIPS + ROUND_TRIPS / 10 {
            let start = Instant::now();
            black_box(offloaded(i).await);
            let offloaded_fn_took = start.elapsed();
            let start = Instant::now();
            black_box(
                tokio::task::spawn_blocking(move || black_box(i))
                    .await
                    .unwrap(),
            );
            let spawned_took = start.elapsed();
            if i >= ROUND_TRIPS / 10 {
                offloaded_fn.push(offloaded_fn_took.as_secs_f64() * 1e6);
                spawned.push(spawned_took.as_secs_f64() * 1e6);
            }
        }
        [offloaded_fn, spawned].map(|mut samples| {
            samples.sort_unstable_by(f64::total_cmp);
            samples[samples.len() / 2]
        })
    });
    let case = "round trip, current-thread, two in turns, median";
    let row = |candidate, figure, goal| Row {
        case: case.to_owned(),
        candidate,
        figure,
        unit: "us",
        baseline: Some(medians[1]),
        goal,
    };
    vec![
        row("#[offload] fn", medians[0], "<= 1.0x"),
        row("tokio spawn_blocking", medians[1], ""),
    ]
}

/// One candidate's round trips, alone, from a current-thread runtime (see the module docs).
/// `offload_fn` is `offload` through an `#[offload]` fn rather than `run`.
fn run_alone(candidate: &str, round_trips: usize) {
    let candidate = match candidate {
        "offload" => Some(Candidate::Offload),
        "offload_fn" => None,
        "spawn_blocking" => Some(Candidate::SpawnBlocking),
        "unblock" => Some(Candidate::Unblock),
        other => panic!("no candidate {other:?}: offload, offload_fn, spawn_blocking or unblock"),
    };
    // `OFFLOAD_POOLS` may change the default pool (say, `default=elastic:64:spin=0ns`, to
    // count the work of a round trip without a worker's spin).
    Pools::builder()
        .from_env()
        .expect("OFFLOAD_POOLS is readable")
        .install()
        .expect("the pools install");
    current_thread().block_on(async {
        for i in 0..round_trips {
            // Boxed as `Candidate::run` boxes the others, for the same work around the call.
            let round_trip = match candidate {
                Some(candidate) => candidate.run("default", move || black_box(i)),
                None => Box::pin(offloaded(i)),
            };
            black_box(round_trip.await);
        }
    });
}

/// The job of `run_alone`, as an `#[offload]` fn.
#[async_offload::offload]
fn offloaded(i: usize) -> usize {
    black_box(i)
}

/// The instructions of one round trip of each candidate, counted by callgrind: this
/// program run alone under valgrind with two counts of round trips, three times per
/// candidate (the counts vary a little with how the threads interleave).
fn callgrind_table() {
    let program = std::env::current_exe().expect("the benchmark's own path");
    let count = |candidate: &str, round_trips: usize| -> f64 {
        let output = std::process::Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(&program)
            .args(["alone", candidate, &round_trips.to_string()])
            .output()
            .expect("valgrind runs (is it installed?)");
        let report = String::from_utf8_lossy(&output.stderr);
        report
            .lines()
            .find_map(|line| line.split("Collected : ").nth(1))
            .and_then(|count| count.trim().parse().ok())
            .unwrap_or_else(|| panic!("no count in valgrind's report:\n{report}"))
    };
    println!("{}\n", machine());
    println!(
        "{:<24}{:>30}{:>16}",
        "candidate", "instructions per round trip", "vs spawn_bl."
    );
    let [few, many] = CALLGRIND_ROUND_TRIPS;
    let ranges: Vec<(&str, f64, f64)> = ["offload", "offload_fn", "spawn_blocking", "unblock"]
        .into_iter()
        .map(|candidate| {
            let per_round_trip: Vec<f64> = (0..3)
                .map(|_| (count(candidate, many) - count(candidate, few)) / (many - few) as f64)
                .collect();
            let low = per_round_trip.iter().copied().fold(f64::INFINITY, f64::min);
            let high = per_round_trip.iter().copied().fold(0.0, f64::max);
            (candidate, low, high)
        })
        .collect();
    let baseline = ranges
        .iter()
        .find(|(candidate, ..)| *candidate == "spawn_blocking")
        .map(|(_, low, high)| low.midpoint(*high))
        .expect("spawn_blocking is measured");
    for (candidate, low, high) in ranges {
        println!(
            "{candidate:<24}{:>30}{:>15.2}x",
            format!("{low:.0}-{high:.0}"),
            low.midpoint(high) / baseline
        );
    }
}

/// `SUBMITTERS` tasks of a multi-thread runtime submitting at once, each awaiting
/// `SUBMITTER_BATCHES` batches of `SUBMITTER_BATCH` trivial jobs one after the other: the
/// median time of the whole, in milliseconds, per count of submitters. The candidates take
/// turns run by run. For `offload`, two ratios to one submitter's time: of the whole (the
/// work grows with the submitters), and per job (the same work per job: above 1 means that
/// contention costs each job more).
fn many_submitters() -> Vec<Row> {
    let runtime = multi_thread();
    let mut rows = Vec::new();
    let mut alone = None;
    for submitters in SUBMITTERS {
        let mut samples = vec![Vec::new(); Candidate::ALL.len()];
        for _ in 0..SUBMITTER_SAMPLES {
            for (candidate, samples) in Candidate::ALL.iter().zip(samples.iter_mut()) {
                let candidate = *candidate;
                let elapsed = runtime.block_on(async move {
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..submitters)
                        .map(|_| {
                            tokio::spawn(tokio::task::unconstrained(async move {
                                for _ in 0..SUBMITTER_BATCHES {
                                    let batch = (0..SUBMITTER_BATCH)
                                        .map(|i| candidate.run("default", move || black_box(i)));
                                    black_box(futures::future::join_all(batch).await);
                                }
                            }))
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("a submitter ends");
                    }
                    start.elapsed()
                });
                samples.push(elapsed.as_secs_f64() * 1e3);
            }
        }
        let medians: Vec<(Candidate, f64)> = Candidate::ALL
            .into_iter()
            .zip(samples)
            .map(|(candidate, mut samples)| {
                samples.sort_unstable_by(f64::total_cmp);
                (candidate, samples[samples.len() / 2])
            })
            .collect();
        let offload = medians[0].1;
        let alone = *alone.get_or_insert(offload);
        rows.extend(rows_of(
            &format!("{submitters} submitters x {SUBMITTER_BATCHES} x {SUBMITTER_BATCH} jobs"),
            "ms",
            "<= 1.0x",
            &medians,
        ));
        let case =
            format!("{submitters} submitters x {SUBMITTER_BATCHES} x {SUBMITTER_BATCH} jobs");
        rows.push(Row {
            case: case.clone(),
            candidate: "async_offload::run, time vs 1 submitter",
            figure: offload / alone,
            unit: "x",
            baseline: None,
            goal: "",
        });
        rows.push(Row {
            case,
            candidate: "async_offload::run, per job vs 1",
            figure: offload / alone / submitters as f64,
            unit: "x",
            baseline: None,
            goal: "",
        });
    }
    rows
}

/// `BATCH` trivial jobs submitted at once from one task and awaited together: the median
/// of `BATCH_SAMPLES` runs, in jobs per millisecond.
///
/// Awaiting a tokio `JoinHandle` spends tokio's cooperative budget, which makes the task
/// yield every 128 handles; `offload`'s and `blocking`'s futures do not take part in it. To
/// compare the pools rather than the budget, every candidate is awaited inside
/// `tokio::task::unconstrained`.
fn throughput() -> Vec<(Candidate, f64)> {
    let runtime = multi_thread();
    let mut samples = vec![Vec::new(); Candidate::ALL.len()];
    for _ in 0..BATCH_SAMPLES {
        for (candidate, samples) in Candidate::ALL.iter().zip(samples.iter_mut()) {
            let candidate = *candidate;
            let batch = tokio::task::unconstrained(async move {
                let start = Instant::now();
                let jobs = (0..BATCH).map(|i| candidate.run("default", move || black_box(i)));
                black_box(futures::future::join_all(jobs).await);
                start.elapsed()
            });
            let elapsed = runtime
                .block_on(async { tokio::spawn(batch).await })
                .expect("the batch runs");
            samples.push(BATCH as f64 / (elapsed.as_secs_f64() * 1e3));
        }
    }
    Candidate::ALL
        .into_iter()
        .zip(samples)
        .map(|(candidate, mut samples)| {
            samples.sort_unstable_by(f64::total_cmp);
            (candidate, samples[samples.len() / 2])
        })
        .collect()
}

/// The CPU time the process spends per job when jobs come one every millisecond, for
/// `offload` with and without a spin: what a spinning worker costs when it waits in vain.
fn cpu_cost() -> Vec<Row> {
    let runtime = current_thread();
    [Candidate::Offload, Candidate::OffloadSpinning]
        .into_iter()
        .map(|candidate| {
            let micros = runtime.block_on(async {
                candidate.run("default", || ()).await;
                let before = cpu_time();
                for i in 0..SPARSE_JOBS {
                    black_box(candidate.run("default", move || black_box(i)).await);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (cpu_time() - before).as_secs_f64() * 1e6 / SPARSE_JOBS as f64
            });
            Row {
                case: "CPU per job, one job every 1 ms".to_owned(),
                candidate: candidate.name(),
                figure: micros,
                unit: "us",
                baseline: None,
                goal: "",
            }
        })
        .collect()
}

/// The CPU time of the whole process so far (user and system), from `/proc/self/stat`, in
/// clock ticks of 10 ms (zero where there is no such file).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields; `fields` starts at the 3rd.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// N concurrent calls of a 50 ms blocking fn on a pool of N threads: the wall time, as a
/// multiple of one call. `spawn_blocking` and `unblock` use their own (larger) pools.
fn seed_scenario() -> Vec<Row> {
    let runtime = multi_thread();
    let mut rows = Vec::new();
    for (concurrency, pool) in [(2, "seed-2"), (8, "seed-8"), (64, "seed-64")] {
        let figures: Vec<(Candidate, f64)> = Candidate::ALL
            .iter()
            .map(|&candidate| {
                let wall = runtime.block_on(async {
                    // Start the threads beforehand: calls that can only finish together.
                    let all_started = Arc::new(std::sync::Barrier::new(concurrency));
                    let warm_up = (0..concurrency).map(|_| {
                        let all_started = Arc::clone(&all_started);
                        candidate.run(pool, move || {
                            all_started.wait();
                        })
                    });
                    futures::future::join_all(warm_up).await;
                    let start = Instant::now();
                    let calls = (0..concurrency)
                        .map(|_| candidate.run(pool, || std::thread::sleep(BLOCKING_CALL)));
                    futures::future::join_all(calls).await;
                    start.elapsed()
                });
                (candidate, wall.as_secs_f64() / BLOCKING_CALL.as_secs_f64())
            })
            .collect();
        rows.extend(rows_of(
            &format!("{concurrency} x 50 ms calls, wall / one call"),
            "x",
            "<= 1.05",
            &figures,
        ));
    }
    rows
}

/// The longest delay of a 1 ms heartbeat on a current-thread runtime while 8 x 50 ms of
/// blocking work runs: idle, offloaded by each candidate, and called inline.
fn executor_lag() -> Vec<Row> {
    let runtime = current_thread();
    let idle = runtime.block_on(worst_lag(async {
        tokio::time::sleep(BLOCKING_CALL).await;
    }));
    let figures: Vec<(Candidate, f64)> = Candidate::ALL
        .iter()
        .map(|&candidate| {
            let lag = runtime.block_on(worst_lag(async move {
                let calls =
                    (0..8).map(|_| candidate.run("default", || std::thread::sleep(BLOCKING_CALL)));
                futures::future::join_all(calls).await;
            }));
            (candidate, lag)
        })
        .collect();
    let inline = runtime.block_on(worst_lag(async {
        for _ in 0..8 {
            std::thread::sleep(BLOCKING_CALL);
            tokio::task::yield_now().await;
        }
    }));
    let mut rows = rows_of(
        "heartbeat lag, 8 x 50 ms offloaded",
        "ms",
        "idle + 1 ms",
        &figures,
    );
    for (label, lag) in [("idle executor", idle), ("called inline", inline)] {
        rows.push(Row {
            case: "heartbeat lag, 8 x 50 ms offloaded".to_owned(),
            candidate: label,
            figure: lag,
            unit: "ms",
            baseline: None,
            goal: "",
        });
    }
    rows
}

/// The longest delay, in milliseconds, of a task that wants to run every millisecond on
/// the same executor while `work` runs.
async fn worst_lag(work: impl Future<Output = ()>) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let period = Duration::from_millis(1);
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let before = Instant::now();
                tokio::time::sleep(period).await;
                worst = worst.max(before.elapsed().saturating_sub(period));
            }
            worst
        }
    });
    tokio::task::yield_now().await;
    work.await;
    stop.store(true, Ordering::Relaxed);
    heartbeat.await.expect("the heartbeat ends").as_secs_f64() * 1e3
}

/// `WAITERS` callers at once on a pool of 4 threads with room for 1024 waiting jobs: the
/// most threads the process had, and the memory each waiting caller took.
fn waiting_callers() -> Vec<Row> {
    let runtime = multi_thread();
    let before = process_status();
    let peak_pool_threads = Arc::new(AtomicUsize::new(0));
    let peak_rss = Arc::new(AtomicUsize::new(0));
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = std::thread::spawn({
        let (peak_pool_threads, peak_rss, watching) = (
            Arc::clone(&peak_pool_threads),
            Arc::clone(&peak_rss),
            Arc::clone(&watching),
        );
        move || {
            while watching.load(Ordering::Relaxed) {
                let pool = async_offload::stats()
                    .into_iter()
                    .find(|pool| pool.name == "waiters")
                    .expect("the pool exists");
                peak_pool_threads.fetch_max(pool.threads, Ordering::Relaxed);
                peak_rss.fetch_max(process_status().rss_kib, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    runtime.block_on(async {
        let jobs = (0..WAITERS).map(|i| async_offload::run("waiters", move || black_box(i)));
        black_box(futures::future::join_all(jobs).await);
    });
    watching.store(false, Ordering::Relaxed);
    watcher.join().expect("the watcher ends");
    let growth_kib = peak_rss
        .load(Ordering::Relaxed)
        .saturating_sub(before.rss_kib);
    let row = |candidate: &'static str, figure: f64, unit: &'static str, goal: &'static str| Row {
        case: format!("{WAITERS} callers, pool of 4, queue 1024"),
        candidate,
        figure,
        unit,
        baseline: None,
        goal,
    };
    vec![
        row(
            "pool threads, at most",
            peak_pool_threads.load(Ordering::Relaxed) as f64,
            "threads",
            "<= 4",
        ),
        row(
            "memory per waiting caller",
            growth_kib as f64 * 1024.0 / WAITERS as f64,
            "bytes",
            "",
        ),
    ]
}

/// What `/proc/self/status` says of the process (zeros where there is none).
#[derive(Clone, Copy, Default)]
struct ProcessStatus {
    rss_kib: usize,
}

fn process_status() -> ProcessStatus {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return ProcessStatus::default();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    ProcessStatus {
        rss_kib: field("VmRSS:"),
    }
}

/// The machine, for the record: cores and CPU model.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("machine: {cores} cores, {model}")
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<52}{:<34}{:>12} {:<8}{:>14}{:>14}",
        "case", "candidate", "figure", "", "vs spawn_bl.", "goal"
    );
    let mut last_case = "";
    for row in rows {
        let case = if row.case == last_case { "" } else { &row.case };
        last_case = &row.case;
        let ratio = row.baseline.map_or_else(String::new, |baseline| {
            format!("{:.2}x", row.figure / baseline)
        });
        println!(
            "{case:<52}{:<34}{:>12.2} {:<8}{ratio:>14}{:>14}",
            row.candidate, row.figure, row.unit, row.goal
        );
    }
}
