//! With the `tracing` feature: a job runs inside the span of its caller, and `warn` mode
//! turns stall reports into events. Its own test binary, for its global subscriber.

use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, Once};
use std::time::Duration;

use async_offload::stall::{self, Mode};
use async_offload::{no_block, offload};
use futures::FutureExt;
use tracing::Instrument;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// An event as the tests look at it.
#[derive(Clone, Debug)]
struct Seen {
    message: String,
    level: tracing::Level,
    /// The names of the spans the event is in, outermost first.
    scope: Vec<String>,
    thread: String,
}

/// Every event of the process since the subscriber was set.
static EVENTS: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

/// Sets the capturing subscriber, for the whole process, once.
fn capture_events() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(Capture);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    });
}

struct Capture;

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let scope = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| span.name().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let seen = Seen {
            message: message.0,
            level: *event.metadata().level(),
            scope,
            thread: std::thread::current().name().unwrap_or("").to_owned(),
        };
        EVENTS.lock().unwrap().push(seen);
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// The events whose message contains `text`.
fn seen(text: &str) -> Vec<Seen> {
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|event| event.message.contains(text))
        .cloned()
        .collect()
}

#[offload]
fn logs_from_the_pool(id: u64) -> u64 {
    tracing::info!("inside the offloaded body");
    id
}

#[test]
fn a_job_runs_inside_its_callers_span_and_its_own() {
    capture_events();
    let request = tracing::info_span!("request", id = 7);
    let id = futures::executor::block_on(logs_from_the_pool(7).instrument(request));
    assert_eq!(id, 7);
    let inside = seen("inside the offloaded body");
    assert_eq!(inside.len(), 1, "{inside:?}");
    assert!(
        inside[0].thread.starts_with("offload-default-"),
        "{inside:?}"
    );
    assert_eq!(
        inside[0].scope,
        ["request", "offload"],
        "the caller's span, then the job's"
    );

    // Without a span where the call is made, only the job's own.
    futures::executor::block_on(async_offload::run("cpu", || {
        tracing::info!("no caller span")
    }));
    assert_eq!(seen("no caller span")[0].scope, ["offload"]);
}

#[no_block(threshold = "1ms")]
async fn blocks() {
    std::thread::sleep(Duration::from_millis(30));
}

#[test]
fn warn_mode_reports_a_stall_as_a_warning_event() {
    capture_events();
    stall::set_mode(Mode::Warn);
    futures::executor::block_on(blocks());
    let reports = seen("stall in tracing::blocks");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].level, tracing::Level::WARN);
}

/// A layer whose `on_exit` panics on pool threads: a bug of the application's, found when
/// the pool leaves the caller's span after the body.
struct PanicsOnExitOnPoolThreads;

impl<S> tracing_subscriber::Layer<S> for PanicsOnExitOnPoolThreads
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_exit(&self, _: &tracing::span::Id, _: Context<'_, S>) {
        if std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with("offload-"))
        {
            panic!("the subscriber panicked leaving a span");
        }
    }
}

#[test]
fn a_panic_leaving_the_callers_span_reaches_the_caller() {
    let pool = "span-exit";
    async_offload::Pools::builder()
        .pool(pool, async_offload::PoolConfig::fixed(1))
        .install()
        .expect("the test's own pool");
    let outcome = tracing::subscriber::with_default(
        tracing_subscriber::registry().with(PanicsOnExitOnPoolThreads),
        || {
            let request = tracing::info_span!("request");
            let call = async_offload::run(pool, || 7).instrument(request);
            futures::executor::block_on(AssertUnwindSafe(call).catch_unwind())
        },
    );
    let payload = outcome.expect_err("leaving the span panicked, and the caller was answered");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the subscriber panicked leaving a span")
    );
    let stats = async_offload::stats()
        .into_iter()
        .find(|stats| stats.name == pool)
        .expect("the pool's stats");
    assert_eq!((stats.submitted, stats.panicked), (1, 1));
}
