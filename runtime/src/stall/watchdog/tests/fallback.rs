//! What the watchdog does where the platform gives neither stacks nor run-queue delays:
//! the code of every platform but Linux, built and run on Linux with
//! `RUSTFLAGS="--cfg offload_not_linux"` (as `.ci/run` does).

use std::sync::mpsc;
use std::time::Duration;

use crate::stall::watchdog::schedstat::RunDelay;
use crate::stall::watchdog::{Slot, current_tid, stack};

#[test]
fn no_stack_and_no_run_queue_delay_are_read() {
    assert_eq!(stack::unavailable(), Some("stacks are taken on Linux only"));
    assert_eq!(stack::capture(current_tid()), None);
    assert!(RunDelay::open(current_tid()).is_none());
    let slot = Slot::new(Duration::from_millis(10));
    slot.begin(1);
    assert_eq!(
        slot.preempted_since_baseline(1, std::time::Instant::now(), Duration::from_millis(10)),
        None
    );
}

/// The sync call that blocks: waits until the test releases it.
#[inline(never)]
fn wait_for_release(release: &mpsc::Receiver<()>) {
    release.recv().expect("released");
}

#[async_offload::no_block(threshold = "10ms")]
async fn fallback_waits_for_release(release: mpsc::Receiver<()>) {
    wait_for_release(&release);
}

/// A poll that does not return is still reported while it lasts, by the watchdog, without
/// a stack; and when it returns, with nothing left out for preemption.
#[test]
fn a_poll_that_does_not_return_is_reported_without_a_stack() {
    let (sender, reports) = mpsc::channel();
    let sender = std::sync::Mutex::new(sender);
    async_offload::stall::set_hook(move |report| {
        if report.function.ends_with("fallback_waits_for_release") {
            // The hook's only lock: reports come from the reporter thread and the polling
            // thread, one at a time here.
            let _ = sender
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .send(report.clone());
        }
    });
    let (release, released) = mpsc::channel();
    let blocked = std::thread::spawn(move || {
        futures::executor::block_on(fallback_waits_for_release(released));
    });
    let guard = Duration::from_secs(60);
    let first = reports
        .recv_timeout(guard)
        .expect("a report while it lasts");
    assert!(first.still_running, "{first:#?}");
    assert_eq!(first.stack, None);
    assert_eq!(first.preempted, Duration::ZERO);
    assert!(
        first
            .to_string()
            .contains("\n  stack: not taken (stacks are taken on Linux only)\n"),
        "{first}"
    );
    release.send(()).unwrap();
    let last = reports
        .recv_timeout(guard)
        .expect("a report when it returns");
    assert!(!last.still_running, "{last:#?}");
    assert_eq!(last.preempted, Duration::ZERO);
    blocked.join().unwrap();
}
