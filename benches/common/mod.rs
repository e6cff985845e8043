//! What the benchmarks share: the candidates they compare, each a way to run a closure on
//! other threads and await its result.

// Each bench uses the candidates it compares: `allocations` leaves out the spinning pool.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;

/// A way to run a closure on other threads and await its result.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    Offload,
    /// `offload` on a pool whose idle workers spin 50 µs before they sleep.
    OffloadSpinning,
    SpawnBlocking,
    Unblock,
}

impl Candidate {
    pub const ALL: [Candidate; 3] = [
        Candidate::Offload,
        Candidate::SpawnBlocking,
        Candidate::Unblock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Candidate::Offload => "async_offload::run",
            Candidate::OffloadSpinning => "async_offload::run, spin 50 us",
            Candidate::SpawnBlocking => "tokio spawn_blocking",
            Candidate::Unblock => "blocking::unblock",
        }
    }

    /// Runs `job` on the candidate's threads (for `offload`, on the pool `pool`).
    pub fn run<T: Send + 'static>(
        self,
        pool: &'static str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        match self {
            Candidate::Offload => Box::pin(async_offload::run(pool, job)),
            Candidate::OffloadSpinning => Box::pin(async_offload::run("spinning", job)),
            Candidate::SpawnBlocking => {
                Box::pin(async move { tokio::task::spawn_blocking(job).await.unwrap() })
            }
            Candidate::Unblock => Box::pin(blocking::unblock(job)),
        }
    }
}
