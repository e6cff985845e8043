//! The starter: the thread that starts the pools' threads, so that no caller ever does.
//!
//! A caller whose job finds no idle worker reserves the threads the growth rule asks for
//! (`growth.rs`) and tells the starter, which costs it a lock and a wake-up; or it asks the
//! starter to look at the queue again a little later. The starter starts the reserved
//! threads one after the other, while each new worker, before its first job, starts
//! another if some are still reserved: a pool that grows by many threads starts them on
//! two threads or more at once. A start that fails is handled where it failed
//! (`Pool::start_reserved`).
//!
//! One starter serves every pool of the process. Its thread is started with it, when the
//! pools are first set up (the first `install`, lookup or `stats`), and stopped by
//! [`shutdown`](crate::shutdown) once every pool's threads have been joined. The loom
//! models give each pool a starter of its own.

use std::sync::{Arc, OnceLock};

use super::Pool;
use super::clock::Nanos;
use super::growth::GROW_AFTER;
use super::sync::{self, Condvar, Mutex, thread};

/// The thread that starts the pools' threads, and what it has been asked to do.
pub(crate) struct Starter {
    /// The requests; held only to add or take one, never while a thread is started or a
    /// pool's lock is taken (a pool's lock is never held while this one is taken either).
    requests: Mutex<Requests>,
    /// The starter waits here for a request, or for the time of the next check.
    requested: Condvar,
    /// The machine's cores, for the growth rule.
    cores: usize,
    /// No thread: requests are served by whoever makes them, there and then (only the
    /// tests of the pool's other parts make such a starter, see [`Starter::inline`]).
    inline: bool,
}

/// What the starter has been asked to do.
#[derive(Default)]
struct Requests {
    /// Pools with threads reserved to start.
    start: Vec<Arc<Pool>>,
    /// Pools whose queue is to be looked at, and when.
    checks: Vec<(Nanos, Arc<Pool>)>,
    /// Set by [`Starter::stop`]: the thread ends.
    stopped: bool,
    /// The starter's thread, until it is stopped.
    thread: Option<thread::JoinHandle<()>>,
}

impl Starter {
    /// A starter, with its thread started; `None` if the thread could not start (the
    /// pools then cannot start threads either, and say so to each caller).
    pub(crate) fn new() -> Arc<Starter> {
        let starter = Arc::new(Starter {
            requests: Mutex::new(Requests::default()),
            requested: Condvar::new(),
            cores: machine_cores(),
            inline: false,
        });
        let serving = Arc::clone(&starter);
        let spawned = thread::Builder::new()
            .name("offload.starter".to_owned())
            .spawn(move || serving.serve());
        match spawned {
            Ok(handle) => sync::lock(&starter.requests).thread = Some(handle),
            // Its requests are then served by whoever makes them: see `ask_to_start`.
            Err(_) => sync::lock(&starter.requests).stopped = true,
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
                stopped: true,
                ..Requests::default()
            }),
            requested: Condvar::new(),
            cores: machine_cores(),
            inline: true,
        })
    }

    /// The starter of the process's pools, started with the first of them. (Not under
    /// loom, whose models give each pool a starter of their own.)
    pub(crate) fn global() -> &'static Arc<Starter> {
        static GLOBAL: OnceLock<Arc<Starter>> = OnceLock::new();
        GLOBAL.get_or_init(Starter::new)
    }

    /// Stops the starter's thread, once it has served the requests it has, and waits for
    /// it. Requests made afterwards are served by their makers (see `ask_to_start`).
    pub(crate) fn stop(&self) {
        let thread = {
            let mut requests = sync::lock(&self.requests);
            requests.stopped = true;
            requests.thread.take()
        };
        self.requested.notify_one();
        if let Some(thread) = thread {
            // The thread catches nothing: a panic there is a bug, reported by the hook.
            let _ = thread.join();
        }
    }

    /// Asks the starter to start the threads `pool` has reserved.
    pub(super) fn ask_to_start(&self, pool: &Arc<Pool>) {
        let served = {
            let mut requests = sync::lock(&self.requests);
            if !requests.stopped {
                requests.start.push(Arc::clone(pool));
            }
            !requests.stopped
        };
        if served {
            self.requested.notify_one();
        } else {
            // No starter thread any more (after `shutdown`, or it never started): the
            // reserved threads are started here rather than never. Only a pool still in
            // use after `shutdown`'s end gets here.
            pool.start_reserved();
        }
    }

    /// Asks the starter to look at `pool`'s queue [`GROW_AFTER`] from now.
    pub(super) fn ask_to_check(&self, pool: &Arc<Pool>) {
        if self.inline {
            pool.check_growth(self);
            return;
        }
        let at = Nanos::now()
            .checked_add(GROW_AFTER)
            .unwrap_or_else(Nanos::now);
        let first = {
            let mut requests = sync::lock(&self.requests);
            if requests.stopped {
                return; // no growth after `shutdown`: the threads there finish the queue
            }
            requests.checks.push((at, Arc::clone(pool)));
            requests.checks.len() == 1
        };
        // With other checks to make, the starter already waits for the earliest, which is
        // no later than this one (each is due `GROW_AFTER` after it was asked for): waking
        // it would only cost the caller a system call.
        if first {
            self.requested.notify_one();
        }
    }

    /// The starter's thread: serves requests until it is stopped.
    fn serve(&self) {
        let mut requests = sync::lock(&self.requests);
        loop {
            if let Some(pool) = requests.start.pop() {
                drop(requests);
                pool.start_reserved();
                requests = sync::lock(&self.requests);
                continue;
            }
            if requests.stopped {
                return;
            }
            let Some(at) = earliest(&requests.checks).map(|index| requests.checks[index].0) else {
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
            // The earliest check now: due, as its time is at most the one just waited for.
            let Some(index) = earliest(&requests.checks) else {
                continue;
            };
            let (_, pool) = requests.checks.swap_remove(index);
            drop(requests);
            pool.check_growth(self);
            requests = sync::lock(&self.requests);
        }
    }

    /// The machine's cores.
    pub(super) fn cores(&self) -> usize {
        self.cores
    }
}

/// The index of the check due first, if any.
fn earliest(checks: &[(Nanos, Arc<Pool>)]) -> Option<usize> {
    checks
        .iter()
        .enumerate()
        .min_by_key(|(_, (at, _))| *at)
        .map(|(index, _)| index)
}

/// The cores of the machine, as the growth rule counts them.
fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
