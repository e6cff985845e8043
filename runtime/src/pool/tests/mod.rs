//! Tests of the pool that need its private state: the loom models of its protocol (run
//! with `--cfg loom`, see `.ci/run`), the line of waiting callers at shutdown, and thread
//! starts that fail.

use std::sync::atomic::Ordering;

use super::Pool;

#[cfg(not(loom))]
mod growth;
#[cfg(not(loom))]
mod line;
#[cfg(loom)]
mod loom_models;

impl Pool {
    /// Makes the next `count` thread starts of this pool fail, as at the process's limit
    /// of threads (`EAGAIN`).
    pub(crate) fn fail_next_starts(&self, count: usize) {
        self.failing_starts.store(count, Ordering::Relaxed);
    }

    /// Fails this thread start if the test asked for it.
    pub(super) fn injected_spawn_failure(&self) -> std::io::Result<()> {
        let failing =
            self.failing_starts
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(1)
                });
        match failing {
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "Resource temporarily unavailable (injected)",
            )),
            Err(_) => Ok(()),
        }
    }
}
