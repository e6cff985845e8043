//! The starter: the thread that starts the pools' threads, so that no caller does.
//!
//! A caller whose job finds no idle worker reserves the threads the growth rule asks for
//! (`growth.rs`) and tells the starter, which costs it a lock and at most a wake-up; or it
//! asks the starter to look at the queue a little later. The starter starts the reserved
//! threads one after the other, and a pool's workers start one more between their jobs
//! while some are still reserved. A start that fails is handled where it failed
//! (`Pool::start_reserved`).
//!
//! One starter serves every pool of the process. Its thread is started with it, when the
//! pools are first set up (the first `install`, lookup or `stats`), and stopped by
//! [`shutdown`](crate::shutdown) once every pool's threads have been joined. Without its
//! thread (after that, or if it could not start), a request is served by whoever makes
//! it, there and then: threads are started on that caller's thread rather than never. The
//! loom models give each pool a starter of its own.

use std::sync::{Arc, OnceLock};

use super::clock::Nanos;
use super::growth::GROW_AFTER;
use super::sync::{self, Condvar, Mutex, thread};
use super::{Pool, contain};

/// The thread that starts the pools' threads, and what it has been asked to do.
pub(crate) struct Starter {
    /// The requests; held only to add or take one, never while a thread is started or a
    /// pool's lock is taken (a pool's lock is never held while this one is taken either).
    requests: Mutex<Requests>,
    /// The starter waits here for a request, or for the time of the next look.
    requested: Condvar,
    /// The machine's cores, for the growth rule.
    cores: usize,
}

/// What the starter has been asked to do.
#[derive(Default)]
struct Requests {
    /// Pools with threads reserved to start.
    start: Vec<Arc<Pool>>,
    /// Pools whose queue is to be looked at, and when.
    looks: Vec<(Nanos, Arc<Pool>)>,
    /// No thread serves the requests (it could not start, or was stopped): whoever makes
    /// one serves it.
    inline: bool,
    /// Set by [`Starter::stop`]: the pools are shut down, and grow no more.
    stopped: bool,
    /// The starter's thread, until it is stopped.
    thread: Option<thread::JoinHandle<()>>,
}

impl Starter {
    /// A starter, with its thread started. If the thread cannot start, requests are served
    /// by whoever makes them.
    pub(crate) fn new() -> Arc<Starter> {
        Starter::started(machine_cores())
    }

    /// A starter with its thread, for a machine of `cores` cores: for the loom model of
    /// growth, on one core, where only threads found blocked can make a pool grow.
    #[cfg(all(loom, test))]
    pub(crate) fn with_cores(cores: usize) -> Arc<Starter> {
        Starter::started(cores)
    }

    /// A starter with its thread started, for a machine of `cores` cores.
    fn started(cores: usize) -> Arc<Starter> {
        let starter = Arc::new(Starter {
            requests: Mutex::new(Requests::default()),
            requested: Condvar::new(),
            cores,
        });
        let serving = Arc::clone(&starter);
        let spawned = thread::Builder::new()
            .name("offload.starter".to_owned())
            .spawn(move || serving.serve());
        let mut requests = sync::lock(&starter.requests);
        #[cfg(feature = "metrics")]
        let started = spawned.is_ok();
        match spawned {
            Ok(handle) => requests.thread = Some(handle),
            Err(_) => requests.inline = true,
        }
        drop(requests);
        // No starter thread to start the `metrics` publisher: try here.
        #[cfg(feature = "metrics")]
        if !started {
            crate::export::start();
        }
        starter
    }

    /// A starter without a thread, for the tests of the pool's other parts (the loom models
    /// of its queue, line and shutdown): a request is served by its maker at once, as if the
    /// starter had been quick, which keeps those models small. The hand-off to a starter
    /// thread has models of its own.
    #[cfg(test)]
    pub(crate) fn inline() -> Arc<Starter> {
        Arc::new(Starter {
            requests: Mutex::new(Requests {
                inline: true,
                ..Requests::default()
            }),
            requested: Condvar::new(),
            cores: machine_cores(),
        })
    }

    /// The starter of the process's pools, started with the first of them. (Not under
    /// loom, whose models give each pool a starter of their own.)
    pub(crate) fn global() -> &'static Arc<Starter> {
        static GLOBAL: OnceLock<Arc<Starter>> = OnceLock::new();
        GLOBAL.get_or_init(Starter::new)
    }

    /// Stops the starter's thread, once it has started the threads it was asked for, and
    /// waits for it. For after every pool is shut down: no pool grows any more.
    pub(crate) fn stop(&self) {
        let thread = {
            let mut requests = sync::lock(&self.requests);
            requests.stopped = true;
            requests.inline = true;
            requests.thread.take()
        };
        self.requested.notify_one();
        if let Some(thread) = thread {
            // `serve` contains every panic of a request: the thread ends normally.
            let _ = thread.join();
        }
    }

    /// Asks the starter to start the threads `pool` has reserved.
    pub(super) fn ask_to_start(&self, pool: &Arc<Pool>) {
        let inline = {
            let mut requests = sync::lock(&self.requests);
            if !requests.inline {
                requests.start.push(Arc::clone(pool));
            }
            requests.inline
        };
        if inline {
            pool.start_reserved();
        } else {
            self.requested.notify_one();
        }
    }

    /// Asks the starter to look at `pool`'s queue [`GROW_AFTER`] from now.
    pub(super) fn ask_to_look(&self, pool: &Arc<Pool>) {
        let at = Nanos::now()
            .checked_add(GROW_AFTER)
            .unwrap_or_else(Nanos::now);
        let first = {
            let mut requests = sync::lock(&self.requests);
            if requests.stopped {
                return; // no growth after `shutdown`: the threads there finish the queue
            }
            if !requests.inline {
                requests.looks.push((at, Arc::clone(pool)));
            }
            (!requests.inline).then(|| requests.looks.len() == 1)
        };
        match first {
            // Served here, as if the time had passed.
            None => pool.look_at_queue(self),
            // With other looks to take, the starter already waits for the earliest, which
            // is no later than this one (each is due `GROW_AFTER` after it was asked for):
            // waking it would only cost the caller a system call.
            Some(first) => {
                if first {
                    self.requested.notify_one();
                }
            }
        }
    }

    /// The starter's thread: serves requests until it is stopped. A request that panics
    /// (a waker or a body's drop, when a pool refuses its queue) is contained: the thread
    /// serves on.
    fn serve(&self) {
        // The `metrics` feature's publisher, started from here rather than by whichever
        // caller first touched the pools (once per process).
        #[cfg(feature = "metrics")]
        crate::export::start();
        let mut requests = sync::lock(&self.requests);
        loop {
            if let Some(pool) = requests.start.pop() {
                drop(requests);
                contain(|| pool.start_reserved());
                requests = sync::lock(&self.requests);
                continue;
            }
            if requests.stopped {
                return;
            }
            let Some(at) = earliest(&requests.looks).map(|index| requests.looks[index].0) else {
                (requests, _) =
                    sync::wait_until(&self.requested, &self.requests, requests, None, None);
                continue;
            };
            let due;
            (requests, due) =
                sync::wait_until(&self.requested, &self.requests, requests, Some(at), None);
            if !due {
                continue; // a new request, or a spurious wake-up
            }
            // The earliest look now: due, as its time is at most the one just waited for.
            let Some(index) = earliest(&requests.looks) else {
                continue;
            };
            let (_, pool) = requests.looks.swap_remove(index);
            drop(requests);
            contain(|| pool.look_at_queue(self));
            requests = sync::lock(&self.requests);
        }
    }

    /// The machine's cores.
    pub(super) fn cores(&self) -> usize {
        self.cores
    }
}

/// The index of the look due first, if any.
fn earliest(looks: &[(Nanos, Arc<Pool>)]) -> Option<usize> {
    looks
        .iter()
        .enumerate()
        .min_by_key(|(_, (at, _))| *at)
        .map(|(index, _)| index)
}

/// The cores of the machine, as the growth rule counts them.
fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
