//! With the `metrics` feature: every figure reaches the application's `metrics` recorder
//! under its documented name, with its labels and unit. Its own test binary, for its global
//! recorder; one test, which ends with `shutdown` (the final publication).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use async_offload::{OffloadError, PoolConfig, Pools, no_block};
use metrics::Unit;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Far past any scheduling delay; the time a stuck test waits before it fails.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// The fn whose slow poll is counted and timed.
#[no_block(threshold = "1ms")]
async fn slow_handler() {
    std::thread::sleep(Duration::from_millis(20));
}

/// Two fns of one name, `metrics_export::handlers::get`: methods of two types.
mod handlers {
    use async_offload::no_block;

    pub struct Users;
    pub struct Orders;

    impl Users {
        #[no_block(threshold = "1s")]
        pub async fn get(&self) {}
    }

    impl Orders {
        #[no_block(threshold = "1s")]
        pub async fn get(&self) {}
    }
}

/// A metric as the test looks at it: kind, name, and labels as `key=value`, sorted.
type Id = (MetricKind, String, Vec<String>);

/// The figures the recorder holds now, with the unit each was described with.
fn figures(snapshotter: &Snapshotter) -> HashMap<Id, (Option<Unit>, DebugValue)> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, _description, value)| {
            let mut labels: Vec<String> = key
                .key()
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            labels.sort();
            (
                (key.kind(), key.key().name().to_owned(), labels),
                (unit, value),
            )
        })
        .collect()
}

fn id(kind: MetricKind, name: &str, labels: &[&str]) -> Id {
    (
        kind,
        name.to_owned(),
        labels.iter().map(|label| (*label).to_owned()).collect(),
    )
}

#[test]
fn every_figure_reaches_the_recorder_under_its_documented_name() {
    // The pools first, the recorder after, as when an application sets up its exporter
    // late: the publisher thread notices it.
    Pools::builder()
        .pool(
            "db",
            PoolConfig::fixed(1)
                .queue_capacity(1)
                .refuse_when_full(true),
        )
        .install()
        .expect("the pools install");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async_offload::run("db", || ()));
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this binary");
    // Until the publisher has seen the recorder: a job's times reach it. (A gauge is not
    // enough: one published by a look that began before the recorder was installed
    // reaches it, while that look registered nothing with it.) A snapshot takes the
    // histograms' values: the probes' are not in the final one.
    let seen = std::time::Instant::now();
    let histogram = id(
        MetricKind::Histogram,
        "offload_job_queue_wait_seconds",
        &["pool=db"],
    );
    let mut probes = 0;
    loop {
        runtime.block_on(async_offload::run("db", || ()));
        probes += 1;
        if matches!(
            figures(&snapshotter).get(&histogram),
            Some((_, DebugValue::Histogram(values))) if !values.is_empty()
        ) {
            break;
        }
        assert!(seen.elapsed() < HANG_GUARD, "nothing was published");
        std::thread::sleep(Duration::from_millis(50));
    }

    runtime.block_on(async {
        for i in 0..4 {
            assert_eq!(async_offload::run("db", move || i).await, i);
        }
        // A panic on purpose: its message is not printed.
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"on purpose") {
                default_hook(info);
            }
        }));
        let panicked = tokio::spawn(async_offload::run("db", || -> () { panic!("on purpose") }));
        assert!(panicked.await.is_err());
        // The thread held, one job queued: the next is refused, the queue being full.
        let (started, wait_started) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let held = tokio::spawn(async_offload::run("db", move || {
            started.send(()).unwrap();
            let _ = gate.recv_timeout(HANG_GUARD);
        }));
        while wait_started.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn(async_offload::run("db", || ()));
        while async_offload::stats()
            .iter()
            .all(|pool| pool.name != "db" || pool.queued == 0)
        {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            async_offload::try_run("db", || ()).await,
            Err(OffloadError::QueueFull { .. })
        ));
        release.send(()).unwrap();
        held.await.unwrap();
        queued.await.unwrap();
        // A test's own code: its stall would fail the test, but for the collector.
        let ((), stalls) = async_offload::testing::collect_stalls(slow_handler()).await;
        assert_eq!(stalls.len(), 1, "{stalls:?}");
        handlers::Users.get().await;
        handlers::Users.get().await;
        handlers::Orders.get().await;
    });
    async_offload::shutdown(HANG_GUARD).expect("the pools shut down");
    let figures = figures(&snapshotter);

    // Every metric published is in the crate docs' table, and every row of it published.
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../src/lib.rs"))
        .expect("the crate docs");
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `offload_"))
        .filter_map(|row| row.split('`').next())
        .collect();
    let mut published: Vec<&str> = figures
        .keys()
        .filter_map(|(_, name, _)| name.strip_prefix("offload_"))
        .collect();
    published.sort_unstable();
    published.dedup();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort_unstable();
    assert_eq!(
        published, documented_sorted,
        "the metrics published and those documented"
    );

    let value = |kind, name: &str, labels: &[&str]| {
        figures
            .get(&id(kind, name, labels))
            .unwrap_or_else(|| panic!("{name} {labels:?} is published: {figures:#?}"))
    };
    let counter = |name: &str, labels: &[&str]| match value(MetricKind::Counter, name, labels) {
        (Some(Unit::Count), DebugValue::Counter(count)) => count.to_owned(),
        other => panic!("{name} {labels:?} is a count: {other:?}"),
    };
    // Counters are totals since the start: the job before the recorder counts, and the
    // probes.
    assert_eq!(
        counter("offload_jobs_submitted_total", &["pool=db"]),
        9 + probes
    );
    for (outcome, expected) in [
        ("completed", 7 + probes),
        ("panicked", 1),
        ("cancelled", 0),
        ("abandoned", 0),
        ("refused", 0),
        ("queue_full", 1),
    ] {
        let labels = ["outcome=".to_owned() + outcome, "pool=db".to_owned()];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        assert_eq!(
            counter("offload_jobs_ended_total", &labels),
            expected,
            "{outcome}"
        );
    }

    // Gauges: the pool after its shutdown, against its configuration.
    for (name, expected) in [
        ("offload_pool_threads", 0.0),
        ("offload_pool_idle_threads", 0.0),
        ("offload_pool_max_threads", 1.0),
        ("offload_pool_running_jobs", 0.0),
        ("offload_pool_queued_jobs", 0.0),
        ("offload_pool_queue_capacity", 1.0),
        ("offload_pool_waiting_callers", 0.0),
    ] {
        match value(MetricKind::Gauge, name, &["pool=db"]) {
            (Some(Unit::Count), DebugValue::Gauge(gauge)) => {
                assert_eq!(gauge.into_inner(), expected, "{name}");
            }
            other => panic!("{name} is a gauge of a count: {other:?}"),
        }
    }

    // Histograms, one value per job that started since the recorder was seen (the job
    // refused never started), in seconds.
    for name in ["offload_job_queue_wait_seconds", "offload_job_run_seconds"] {
        match value(MetricKind::Histogram, name, &["pool=db"]) {
            (Some(Unit::Seconds), DebugValue::Histogram(values)) => {
                assert_eq!(values.len(), 7, "{name}: {values:?}");
                assert!(
                    values.iter().all(|value| value.into_inner() >= 0.0),
                    "{name}"
                );
            }
            other => panic!("{name} is a histogram of seconds: {other:?}"),
        }
    }

    // The #[no_block] fn (`release-stalls`): its polls, its slow one and that poll's time.
    let function = "function=metrics_export::slow_handler";
    assert_eq!(counter("offload_polls_total", &[function]), 1);
    assert_eq!(counter("offload_slow_polls_total", &[function]), 1);
    // Two fns of one name share their label: their counts add up.
    let shared = "function=metrics_export::handlers::get";
    assert_eq!(counter("offload_polls_total", &[shared]), 3);
    assert_eq!(counter("offload_slow_polls_total", &[shared]), 0);
    match value(
        MetricKind::Histogram,
        "offload_slow_poll_seconds",
        &[function],
    ) {
        (Some(Unit::Seconds), DebugValue::Histogram(values)) => {
            assert_eq!(values.len(), 1, "{values:?}");
            assert!(values[0].into_inner() >= 0.02, "{values:?}");
        }
        other => panic!("offload_slow_poll_seconds is a histogram of seconds: {other:?}"),
    }
}
