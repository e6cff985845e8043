//! When a pool starts threads: the growth rule, in one place.
//!
//! A thread is not started on a caller's thread. A caller only queues its job and, when
//! no idle worker can take it, tells the pool's [starter](super::starter) what the rule
//! below asks for; the starter (and the pool's workers, between their jobs, while some are
//! reserved) starts the threads. The rule decides from what the pool sees under its lock: the jobs queued, the
//! workers idle, woken, starting and running, and, between two looks at the queue, which
//! jobs were taken and finished (so whether the busy threads are stuck in their jobs).
//!
//! 1. A job that finds an idle worker wakes the one that went idle **last**. The others
//!    stay asleep: under a trickle of work the same few threads serve it, and the surplus
//!    ones really stay idle for their keep-alive and exit.
//! 2. A job that finds no idle worker, in a pool with no thread at all (or in a fixed
//!    pool below its size, whose threads never exit), gets a thread started for it at
//!    once.
//! 3. Otherwise it waits for a busy thread to come back for it, and the pool looks at
//!    its queue again [`GROW_AFTER`] later (counted from when the last of the threads on
//!    their way to the queue, starting or woken, got there). If jobs still wait then, with
//!    no thread coming for them:
//!    - threads still in the job they were running at the last look are stuck in it (a
//!      call that sleeps, waits for I/O, a lock, or another job): if no job taken since
//!      has finished either, every busy thread blocks, and a thread is started for every
//!      waiting job, up to the pool's maximum; until the queue next empties, jobs that
//!      find no idle worker then get a thread at once, as in rule 2 (a burst of blocking
//!      jobs is not slow-started). If other threads did finish jobs, a thread is started
//!      in place of each stuck one;
//!    - if nothing is stuck but the jobs queued before the look are still not all taken,
//!      the threads make progress on short jobs (computing, or fast calls), too slowly:
//!      one more thread is started, as long as the pool has fewer threads than the
//!      machine has cores (more would only share the same cores);
//!    - and while jobs wait with no thread coming for them, there is always another look
//!      to come (below the pool's maximum), so that threads that later block in what they
//!      took (jobs that wait for one another, say) are found. (After a thread fails to
//!      start, the next job to find no idle thread asks for it.)
//! 4. Whatever the time: when more than [`QUEUE_PER_THREAD`] jobs wait for each thread
//!    serving the queue (running, woken or starting), one more thread is started at once,
//!    as long as the pool has fewer threads than cores: a burst of short jobs runs on the
//!    cores there are, and no more threads.
//!
//! So a burst of short jobs runs on the threads already there, no more than the cores,
//! which take one job after another without a wake-up each; a burst of blocking jobs gets
//! a thread per job within [`GROW_AFTER`] and the time to start them; and beyond the
//! cores, a pool grows only for threads found stuck.

use std::time::Duration;

use super::State;
use crate::config::{PoolConfig, PoolKind};

/// How long after it is asked for a look at the queue comes (rule 3): longer than a burst
/// of short jobs takes to drain (a few microseconds a job), shorter than any blocking call
/// worth a thread of its own.
pub(crate) const GROW_AFTER: Duration = Duration::from_micros(100);

/// Rule 4: how many jobs may wait for each thread serving the queue before the pool adds
/// a thread at once (up to the cores): a burst of short jobs then runs on as many threads
/// as the machine can run at once, without waiting [`GROW_AFTER`] for a look.
pub(crate) const QUEUE_PER_THREAD: usize = 4;

/// What the growth rule keeps between its decisions, under the pool's lock.
#[derive(Debug, Default)]
pub(super) struct Growth {
    /// Jobs ever queued.
    pub(super) pushed: u64,
    /// Jobs ever taken off the queue by a worker.
    pub(super) taken: u64,
    /// Jobs ever finished by a worker (returned from, whatever their outcome).
    pub(super) finished: u64,
    /// The look at the queue the starter has been asked to take, with what it compares.
    look: Option<Look>,
    /// A look to ask for once the threads on their way to the queue (starting, or woken)
    /// all got there.
    deferred: bool,
    /// The last look found every busy thread blocked: until the queue next empties, a job
    /// that finds no idle worker gets a thread at once.
    blocking: bool,
    /// The starter has been asked to start the reserved threads and has not begun yet.
    start_asked: bool,
}

/// What a look at the queue compares with, taken when it is asked for.
#[derive(Debug, Clone, Copy)]
struct Look {
    /// The jobs queued before the look was asked for are those numbered below this.
    queued_before: u64,
    /// `taken` when the look was asked for: the jobs taken before it are numbered below.
    taken_then: u64,
    /// `finished` when the look was asked for.
    finished_then: u64,
    /// Jobs taken before the look was asked for that have finished since.
    old_finished: u64,
}

/// What a decision asks of the starter now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// Nothing: a thread is coming for every job, the pool is at its maximum, or a look
    /// is asked for (or deferred) already.
    Nothing,
    /// Start the threads reserved in the pool's state (`to_spawn`).
    Start,
    /// Look at the queue again [`GROW_AFTER`] from now.
    Look,
}

impl State {
    /// Queued jobs and values to drop that no thread is coming for: not counting those a
    /// woken or a starting worker will take.
    pub(super) fn unassigned(&self) -> usize {
        (self.queue.len() + self.discarded.len()).saturating_sub(self.claimed + self.starting)
    }

    /// Rules 2 to 4 for work just queued that found no idle worker. `cores` is the
    /// machine's.
    pub(super) fn grow_for_queued(&mut self, config: &PoolConfig, cores: usize) -> Ask {
        let unassigned = self.unassigned();
        if unassigned == 0 || self.threads >= config.threads || self.shut_down {
            // (After a shutdown, only values to drop are queued, for the threads there.)
            return Ask::Nothing;
        }
        if self.threads == 0 || config.kind == PoolKind::Fixed || self.growth.blocking {
            return self.reserve(unassigned.min(config.threads - self.threads));
        }
        let serving = self.running + self.claimed + self.starting;
        if unassigned > QUEUE_PER_THREAD * serving.max(1) && self.threads < cores {
            // A long queue for the threads serving it: one more at once (rule 4).
            return self.reserve(1);
        }
        if self.growth.look.is_some() {
            return Ask::Nothing; // asked for already: it covers these jobs too
        }
        if self.starting > 0 || self.claimed > 0 {
            // Threads are on their way: the look counts from when the last of them gets
            // to the queue.
            self.growth.deferred = true;
            return Ask::Nothing;
        }
        self.new_look()
    }

    /// Rule 3's look at the queue, made by the starter [`GROW_AFTER`] after it was asked
    /// for. `cores` is the machine's. Returns what to ask of the starter now: threads to
    /// start, or another look.
    pub(super) fn look_at_queue(&mut self, config: &PoolConfig, cores: usize) -> Ask {
        let Some(look) = self.growth.look.take() else {
            return Ask::Nothing;
        };
        let unassigned = self.unassigned();
        let room = config.threads - self.threads;
        if self.shut_down || unassigned == 0 || room == 0 {
            // Every job is taken, or a thread is coming for it; or the pool cannot grow
            // (at its maximum its threads are all busy and take the jobs as they can).
            return Ask::Nothing;
        }
        // Running at the look, still running: in one job for all this time.
        let stuck = look.taken_then - look.finished_then - look.old_finished;
        // Taken since the look, and finished.
        let new_finished = self.growth.finished - look.finished_then - look.old_finished;
        if stuck > 0 && new_finished == 0 {
            // Every busy thread blocks.
            self.growth.blocking = true;
            return self.reserve(unassigned.min(room));
        }
        if stuck > 0 {
            // Some block while others make progress: a thread in place of each stuck one,
            // and a look again once a thread takes a job.
            self.growth.deferred = true;
            let stuck = usize::try_from(stuck).unwrap_or(usize::MAX);
            return self.reserve(unassigned.min(room).min(stuck));
        }
        if self.starting > 0 || self.claimed > 0 {
            // A thread on its way has not had its chance yet: the look again is asked for
            // once it has.
            self.growth.deferred = true;
            return Ask::Nothing;
        }
        if self.growth.taken >= look.queued_before || self.threads >= cores {
            // Taken in time, or no room for short jobs: a look again, for what waits.
            return self.new_look();
        }
        // Short jobs, too many for the threads there: one more, and a look again once it
        // has taken a job.
        self.growth.deferred = true;
        self.reserve(1)
    }

    /// A worker got to the queue (started, woken, or took a job): whether a deferred look
    /// waited for it, the last of the threads on their way, and is to be asked for now
    /// (when jobs still wait; else it is dropped).
    pub(super) fn take_deferred_look(&mut self) -> bool {
        if !self.growth.deferred || self.starting > 0 || self.claimed > 0 {
            return false;
        }
        self.growth.deferred = false;
        if self.unassigned() == 0 || self.growth.look.is_some() {
            return false;
        }
        self.new_look();
        true
    }

    /// A worker finished the job it took when `taken` was `number`.
    pub(super) fn finished(&mut self, number: u64) {
        self.growth.finished += 1;
        if let Some(look) = &mut self.growth.look {
            if number < look.taken_then {
                look.old_finished += 1;
            }
        }
    }

    /// A worker found the queue empty: the load it grew for has been served, and there is
    /// nothing left to look at.
    pub(super) fn queue_emptied(&mut self) {
        self.growth.blocking = false;
        self.growth.deferred = false;
    }

    /// `count` jobs left the queue without a worker: refused, since no thread could start.
    pub(super) fn refused(&mut self, count: usize) {
        self.growth.taken += count as u64;
    }

    /// Asks for a look at the queue as it is now.
    fn new_look(&mut self) -> Ask {
        self.growth.look = Some(Look {
            queued_before: self.growth.pushed,
            taken_then: self.growth.taken,
            finished_then: self.growth.finished,
            old_finished: 0,
        });
        Ask::Look
    }

    /// Reserves `count` threads to start: counted in `threads` from now, as on their way
    /// to the queue (`starting`), until a spawner starts them.
    fn reserve(&mut self, count: usize) -> Ask {
        if count == 0 {
            return Ask::Nothing;
        }
        self.threads += count;
        self.starting += count;
        self.to_spawn += count;
        if std::mem::replace(&mut self.growth.start_asked, true) {
            Ask::Nothing // the starter will find them with those it was asked for
        } else {
            Ask::Start
        }
    }

    /// The starter takes up the request to start threads: a reservation made from now on
    /// asks again, in case the starter has already looked at `to_spawn` for the last time.
    pub(super) fn start_taken_up(&mut self) {
        self.growth.start_asked = false;
    }

    /// Gives up the reserved threads not started yet (and `failed`, one whose start
    /// failed): they will not come.
    pub(super) fn give_up_reserved(&mut self, failed: usize) {
        let given_up = self.to_spawn + failed;
        self.threads -= given_up;
        self.starting -= given_up;
        self.to_spawn = 0;
    }
}

impl super::Pool {
    /// Rule 3's look at the queue, on the starter's thread: starts the threads it reserves
    /// there and then.
    pub(super) fn look_at_queue(self: &std::sync::Arc<Self>, starter: &super::Starter) {
        let ask = self.lock().look_at_queue(&self.config, starter.cores());
        match ask {
            Ask::Nothing => {}
            Ask::Start => self.start_reserved(),
            Ask::Look => starter.ask_to_look(self),
        }
    }
}
