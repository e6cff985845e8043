//! How the pools size themselves to the load: `cargo bench --bench compare -- sizing`.
//!
//! Every case runs in a fresh process of this benchmark (`compare sizing-case <case>
//! <candidate>`), one candidate at a time, so that each starts with cold pools: offload's
//! `default` pool, tokio's blocking pool, smol's. The candidates take turns, and each case
//! runs `SAMPLES` times per candidate (the trickle case once: it lasts 14 s); the table
//! shows the median and the range. Thread counts are the threads the process gained during
//! the case (offload's include its starter thread).
//!
//! Before a case, offload's child installs the pools (`Pools::builder().install()`, as a
//! service does at start-up, which also starts offload's starter thread): the `default`
//! pool is then still without threads.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::common::Candidate;

/// Runs of each case per candidate.
const SAMPLES: usize = 5;
/// The bursts: batches awaited one after the other by each submitter, jobs in a batch.
const BATCHES: usize = 100;
const BATCH: usize = 16;
/// The blocking jobs of the cold-pool cases.
const BLOCKING_CALL: Duration = Duration::from_millis(50);
/// The trickle: one trivial job this often, measured this long after the pool has grown
/// (keep-alive, 10 s for offload and tokio, plus 4 s).
const TRICKLE_EVERY: Duration = Duration::from_millis(10);
const TRICKLE_FOR: Duration = Duration::from_secs(14);

/// The cases, by the name the child is given.
const CASES: [(&str, &str); 5] = [
    ("burst-1", "1 submitter, 100 batches of 16 trivial jobs"),
    ("burst-8", "8 submitters, 100 batches of 16 trivial jobs"),
    ("cold-64", "64 x 50 ms blocking jobs at once, cold pool"),
    ("cold-8", "8 x 50 ms blocking jobs at once, cold pool"),
    (
        "trickle",
        "grown to 64 threads, then 1 trivial job every 10 ms",
    ),
];

/// What one run of a case measured.
#[derive(Clone, Copy, Default)]
struct Measured {
    /// The case's figure: milliseconds, or a multiple of one blocking call.
    figure: f64,
    /// Threads the process gained.
    threads: f64,
    /// The longest poll of a caller's future, in microseconds.
    longest_poll_us: f64,
}

/// Runs every case in fresh processes and prints the table.
pub fn table() {
    let program = std::env::current_exe().expect("the benchmark's own path");
    println!(
        "{:<52}{:<24}{:>22}{:>16}{:>20}",
        "case", "candidate", "figure", "threads", "longest poll (us)"
    );
    for (case, title) in CASES {
        let samples = if case == "trickle" { 1 } else { SAMPLES };
        let mut runs = vec![Vec::new(); Candidate::ALL.len()];
        for _ in 0..samples {
            for (candidate, runs) in Candidate::ALL.iter().zip(runs.iter_mut()) {
                let output = std::process::Command::new(&program)
                    .args(["sizing-case", case, candidate_arg(*candidate)])
                    .output()
                    .expect("the benchmark runs itself");
                let stdout = String::from_utf8_lossy(&output.stdout);
                let measured = stdout
                    .lines()
                    .find_map(parse_result)
                    .unwrap_or_else(|| panic!("no result from {case}: {stdout}"));
                runs.push(measured);
            }
        }
        for (candidate, runs) in Candidate::ALL.iter().zip(runs) {
            let unit = match case {
                "cold-64" | "cold-8" => "x one call",
                "trickle" => "threads at the end",
                _ => "ms",
            };
            println!(
                "{:<52}{:<24}{:>22}{:>16}{:>20}",
                title,
                candidate.name(),
                format!("{} {unit}", summary(&runs, |run| run.figure, 2)),
                summary(&runs, |run| run.threads, 0),
                summary(&runs, |run| run.longest_poll_us, 0),
            );
        }
    }
}

/// The median of `runs`' figure, and its range when there is more than one run.
fn summary(runs: &[Measured], figure: impl Fn(&Measured) -> f64, decimals: usize) -> String {
    let mut values: Vec<f64> = runs.iter().map(figure).collect();
    values.sort_unstable_by(f64::total_cmp);
    let median = values[values.len() / 2];
    if values.len() == 1 {
        return format!("{median:.decimals$}");
    }
    format!(
        "{median:.decimals$} ({:.decimals$}-{:.decimals$})",
        values[0],
        values[values.len() - 1]
    )
}

fn candidate_arg(candidate: Candidate) -> &'static str {
    match candidate {
        Candidate::Offload => "offload",
        Candidate::SpawnBlocking => "spawn_blocking",
        Candidate::Unblock => "unblock",
        Candidate::OffloadSpinning => unreachable!("not among the sizing candidates"),
    }
}

fn parse_result(line: &str) -> Option<Measured> {
    let rest = line.strip_prefix("RESULT ")?;
    let mut measured = Measured::default();
    for field in rest.split_whitespace() {
        let (key, value) = field.split_once('=')?;
        let value: f64 = value.parse().ok()?;
        match key {
            "figure" => measured.figure = value,
            "threads" => measured.threads = value,
            "longest_poll_us" => measured.longest_poll_us = value,
            _ => return None,
        }
    }
    Some(measured)
}

/// In a fresh process: runs `case` for `candidate` and prints its result line.
pub fn run_case(case: &str, candidate: &str) {
    let candidate = match candidate {
        "offload" => Candidate::Offload,
        "spawn_blocking" => Candidate::SpawnBlocking,
        "unblock" => Candidate::Unblock,
        other => panic!("no candidate {other:?}"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    if candidate == Candidate::Offload {
        async_offload::Pools::builder()
            .from_env()
            .expect("OFFLOAD_POOLS is readable")
            .install()
            .expect("the pools install");
    }
    let longest_poll = Arc::new(AtomicU64::new(0));
    let threads_before = process_threads();
    let figure = match case {
        "burst-1" => bursts(&runtime, candidate, 1),
        "burst-8" => bursts(&runtime, candidate, 8),
        "cold-64" => cold(&runtime, candidate, 64, &longest_poll),
        "cold-8" => cold(&runtime, candidate, 8, &longest_poll),
        "trickle" => trickle(&runtime, candidate, threads_before),
        other => panic!("no case {other:?}"),
    };
    let threads = if case == "trickle" {
        figure
    } else {
        (process_threads() - threads_before) as f64
    };
    println!(
        "RESULT figure={figure} threads={threads} longest_poll_us={}",
        longest_poll.load(Ordering::Relaxed) as f64 / 1e3
    );
}

/// `submitters` tasks, each awaiting `BATCHES` batches of `BATCH` trivial jobs one after
/// the other: the whole, in milliseconds.
fn bursts(runtime: &tokio::runtime::Runtime, candidate: Candidate, submitters: usize) -> f64 {
    runtime.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..submitters)
            .map(|_| {
                tokio::spawn(tokio::task::unconstrained(async move {
                    for _ in 0..BATCHES {
                        let batch =
                            (0..BATCH).map(|i| candidate.run("default", move || black_box(i)));
                        black_box(futures::future::join_all(batch).await);
                    }
                }))
            })
            .collect();
        for task in tasks {
            task.await.expect("a submitter ends");
        }
        start.elapsed().as_secs_f64() * 1e3
    })
}

/// `jobs` blocking calls submitted at once to a pool without threads, each from a task of
/// its own whose polls are timed: the wall time as a multiple of one call. The longest
/// poll of those tasks goes to `longest_poll`, in nanoseconds.
fn cold(
    runtime: &tokio::runtime::Runtime,
    candidate: Candidate,
    jobs: usize,
    longest_poll: &Arc<AtomicU64>,
) -> f64 {
    runtime.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..jobs)
            .map(|_| {
                let call = async move {
                    candidate
                        .run("default", || std::thread::sleep(BLOCKING_CALL))
                        .await;
                };
                tokio::spawn(TimedPolls {
                    future: Box::pin(call),
                    longest: Arc::clone(longest_poll),
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a call ends");
        }
        start.elapsed().as_secs_f64() / BLOCKING_CALL.as_secs_f64()
    })
}

/// Grows the pool to 64 threads with calls that can only finish together, then sends one
/// trivial job every `TRICKLE_EVERY` for `TRICKLE_FOR`: the threads the process still has
/// over `threads_before` at the end.
fn trickle(runtime: &tokio::runtime::Runtime, candidate: Candidate, threads_before: usize) -> f64 {
    runtime.block_on(async move {
        let all_started = Arc::new(std::sync::Barrier::new(64));
        let grow = (0..64).map(|_| {
            let all_started = Arc::clone(&all_started);
            candidate.run("default", move || {
                all_started.wait();
            })
        });
        futures::future::join_all(grow).await;
        let start = Instant::now();
        while start.elapsed() < TRICKLE_FOR {
            black_box(candidate.run("default", || black_box(1)).await);
            tokio::time::sleep(TRICKLE_EVERY).await;
        }
        process_threads().saturating_sub(threads_before) as f64
    })
}

/// A future whose polls are timed; the longest goes to `longest`, in nanoseconds.
struct TimedPolls {
    future: Pin<Box<dyn Future<Output = ()> + Send>>,
    longest: Arc<AtomicU64>,
}

impl Future for TimedPolls {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let start = Instant::now();
        let poll = self.future.as_mut().poll(cx);
        let took = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.longest.fetch_max(took, Ordering::Relaxed);
        poll
    }
}

/// How many threads the process has (`Threads:` in `/proc/self/status`; 0 elsewhere).
fn process_threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|count| count.trim().parse().ok())
        })
        .unwrap_or(0)
}
