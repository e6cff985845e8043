//! The pool's threads: starting the ones the growth rule reserved, the loop that takes jobs
//! off the queue, idle waits with a keep-alive, and the values a worker drops for callers
//! that went away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::clock::Nanos;
use super::growth::Ask;
use super::job::{JobHandle, Runnable};
use super::metrics::Outcome;
use super::sync::{self, Condvar, MutexGuard, thread};
use super::{Discarded, Pool, State, contain, priority, wake_from_line};
use crate::config::PoolConfig;
use crate::error::OffloadError;

/// A worker's own wake-up, for its whole life: a submitter wakes the worker that went idle
/// last, by its own condition variable, so that the others stay asleep.
///
/// Its flags are std atomics, not loom's (see `sync.rs`): outside a spin they are read and
/// written under the pool's lock, which orders them; only a spin, which the loom models
/// leave out, reads them without it.
pub(super) struct Wakeup {
    /// Set when a submitter claims the worker, under the pool's lock; cleared by the worker,
    /// under the lock. Atomic so that a spinning worker sees it without the lock.
    claimed: AtomicBool,
    /// Set by a shutdown, to end a spin; the worker then finds the shutdown in the state.
    poked: AtomicBool,
    /// Whether the worker sleeps on `wake` (set and cleared under the pool's lock): a
    /// claim of a worker that spins needs no system call to wake it.
    asleep: AtomicBool,
    /// The worker sleeps here, with the pool's lock.
    wake: Condvar,
}

impl Wakeup {
    fn new() -> Self {
        Wakeup {
            claimed: AtomicBool::new(false),
            poked: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            wake: Condvar::new(),
        }
    }

    /// Wakes the worker to see the shutdown.
    pub(super) fn wake_for_shutdown(&self) {
        self.poked.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// How a worker's wait for work ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Waited {
    /// Claimed while it spun.
    WhileSpinning,
    /// Claimed (or shut down) while it slept.
    Asleep,
    /// Idle for the whole keep-alive: the worker exits.
    TooLong,
}

/// What a submitter does once it has let the pool's lock go: wake the idle worker it
/// claimed (if it sleeps), or ask the starter for what the growth rule asks.
#[must_use]
pub(super) enum Signal {
    Wake(Arc<Wakeup>),
    Ask(Ask),
}

impl State {
    /// Makes sure a thread will take the work just queued (a job, or a value to drop):
    /// claims the idle worker that went idle last, or applies the growth rule. What to do
    /// once the lock is let go is returned.
    #[inline]
    pub(super) fn assign_worker(
        &mut self,
        config: &crate::config::PoolConfig,
        cores: usize,
    ) -> Signal {
        match self.idle.pop() {
            Some(worker) => {
                worker.claimed.store(true, Ordering::Release);
                self.claimed += 1;
                if worker.asleep.load(Ordering::Relaxed) {
                    Signal::Wake(worker)
                } else {
                    // Spinning: it sees the claim without a wake-up.
                    Signal::Ask(Ask::Nothing)
                }
            }
            None => Signal::Ask(self.grow_for_queued(config, cores)),
        }
    }
}

impl Pool {
    /// Does what [`State::assign_worker`] returned, with the pool's lock let go.
    #[inline]
    pub(super) fn send(self: &Arc<Self>, signal: Signal) {
        match signal {
            Signal::Ask(Ask::Nothing) => {}
            Signal::Wake(worker) => worker.wake.notify_one(),
            Signal::Ask(Ask::Start) => self.starter.ask_to_start(self),
            Signal::Ask(Ask::Look) => self.starter.ask_to_look(self),
        }
    }

    /// Starts the threads the pool has reserved, one after the other, until none is left
    /// or one fails to start. Called on the starter's thread (and, while a pool grows, by
    /// its workers between jobs), not on a caller's: a start takes a system call and tens
    /// of microseconds. (Only when the starter has no thread, after `shutdown` or if it
    /// could not start, does the caller that asks start them.)
    pub(super) fn start_reserved(self: &Arc<Self>) {
        self.lock().start_taken_up();
        while self.start_one_reserved() {}
    }

    /// Starts one reserved thread, if any is left; returns whether it did.
    fn start_one_reserved(self: &Arc<Self>) -> bool {
        let id = {
            let mut state = self.lock();
            if state.to_spawn == 0 {
                return false;
            }
            state.to_spawn -= 1;
            state.spawning += 1;
            #[cfg(test)]
            if !thread::current().name().is_some_and(|name| {
                name == "offload.starter" || name.starts_with(&format!("offload-{}-", self.name))
            }) {
                state.started_by_a_caller += 1;
            }
            state.next_thread_id += 1;
            state.next_thread_id - 1
        };
        match self.spawn_worker(id) {
            Ok(handle) => {
                let mut state = self.lock();
                state.spawning -= 1;
                match state
                    .exited_before_handle
                    .iter()
                    .position(|&gone| gone == id)
                {
                    // Idle for its whole keep-alive before this thread got the lock back.
                    Some(place) => drop(state.exited_before_handle.swap_remove(place)),
                    None => state.handles.push((id, handle)),
                }
                self.notify_if_last_exited(state);
                true
            }
            Err(error) => {
                self.start_failed(&error);
                false
            }
        }
    }

    /// Starts worker thread number `id`, counted already (in `threads` and `starting`).
    fn spawn_worker(self: &Arc<Self>, id: usize) -> std::io::Result<thread::JoinHandle<()>> {
        #[cfg(test)]
        self.injected_spawn_failure()?;
        let mut builder = thread::Builder::new().name(format!("offload-{}-{id}", self.name));
        if let Some(bytes) = self.config.stack_size {
            builder = builder.stack_size(bytes);
        }
        let pool = Arc::clone(self);
        builder.spawn(move || pool.work(id))
    }

    /// A thread failed to start: it, and the rest of the growth it was part of, will not
    /// come. If the pool has no thread left to run what is queued, every queued job is
    /// refused with the error (its caller is told, and its body dropped here, on the
    /// starter's or a worker's thread), and the places freed go to callers in line, whose
    /// jobs then ask for a thread again. Otherwise the threads there get to the queue.
    ///
    /// A pool with threads left asks for no new look at its queue here: the next job
    /// that finds no idle thread does, so a process at its limit of threads is not asked
    /// for one every 100 µs.
    fn start_failed(self: &Arc<Self>, error: &std::io::Error) {
        let mut state = self.lock();
        state.spawning -= 1;
        state.give_up_reserved(1);
        let look = state.take_deferred_look();
        let (refused, discarded, admitted) = if state.threads > 0 {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            let refused: Vec<Arc<dyn Runnable>> = state.queue.drain(..).collect();
            state.refused(refused.len());
            let discarded = std::mem::take(&mut state.discarded);
            let admitted = state.admit_while_room(self.config.queue_capacity);
            (refused, discarded, admitted)
        };
        self.notify_if_last_exited(state);
        if look {
            self.starter.ask_to_look(self);
        }
        for job in refused {
            let error = OffloadError::SpawnFailed {
                pool: self.name.to_string(),
                error: copy_of(error),
            };
            // A caller's waker, or a body's drop, may panic: contained, so that the other
            // callers are answered all the same.
            contain(|| job.refuse_queued(self, error));
        }
        for value in discarded {
            contain(move || drop(value));
        }
        for waker in admitted {
            wake_from_line(Some(waker));
        }
    }

    /// Lets the pool's lock go, and wakes [`Pool::wait_for_threads`] if no worker is left.
    fn notify_if_last_exited(&self, state: MutexGuard<'_, State>) {
        let last = state.not_joinable_yet() == 0;
        drop(state);
        if last {
            self.all_exited.notify_all();
        }
    }

    /// A worker's life: lower its priority if the pool says so, run the start hook, start
    /// the threads still reserved, take jobs until the pool shuts down or, for an elastic
    /// pool, no job has come for the keep-alive, then run the stop hook.
    ///
    /// A panic in either hook is contained (see `PoolConfig::on_thread_start`): the worker
    /// is counted in `threads` from its reservation, so the job it was started for is
    /// never left without a thread, and it serves that job whether or not its start hook
    /// returned.
    fn work(self: &Arc<Self>, id: usize) {
        crate::stall::mark_pool_thread();
        if let Some(nice) = self.config.nice {
            if let Err(error) = priority::lower_current_thread(nice) {
                // The thread serves at its normal priority: a job is better run than not.
                eprintln!(
                    "offload pool {:?}: thread offload-{}-{id} runs at normal priority: \
                     setting nice {nice} failed: {error}",
                    self.name, self.name
                );
            }
        }
        if let Some(hook) = &self.config.on_thread_start {
            contain(|| hook.call());
        }
        let me = Arc::new(Wakeup::new());
        let mut spin = self.config.spin.unwrap_or(Duration::ZERO);
        // The clock reading at the end of the last job, while the worker goes straight on
        // to the next one: its start, without reading the clock again.
        let mut clock = None;
        let mut state = self.lock();
        state.starting -= 1;
        if state.take_deferred_look() {
            drop(state);
            self.starter.ask_to_look(self);
            state = self.lock();
        }
        loop {
            if state.to_spawn > 0 {
                // Growing by several threads: start one before taking a job, so that they
                // start on more than one thread at once.
                clock = None;
                drop(state);
                self.start_one_reserved();
                state = self.lock();
                continue;
            }
            if let Some(value) = state.discarded.pop() {
                clock = None;
                state.running += 1;
                drop(state);
                contain(move || drop(value));
                state = self.lock();
                state.running -= 1;
                continue;
            }
            if let Some(job) = state.queue.pop_front() {
                let number = state.growth.taken;
                state.growth.taken += 1;
                state.running += 1;
                let admitted = state.hand_off_place();
                let look = state.take_deferred_look();
                drop(state);
                if look {
                    self.starter.ask_to_look(self);
                }
                wake_from_line(admitted);
                // `run` catches the body's panic; `contain` one from dropping a cancelled
                // job's arguments or an abandoned result.
                let now = clock.take();
                clock = contain(move || job.run(self, now)).flatten();
                state = self.lock();
                state.running -= 1;
                state.finished(number);
                continue;
            }
            state.queue_emptied();
            let now = clock.take();
            if state.shut_down {
                break;
            }
            // For an adaptive spin: how long this wait lasts.
            let waited_since = self
                .config
                .spin
                .is_none()
                .then(|| now.unwrap_or_else(Nanos::now));
            let waited;
            (state, waited) = self.wait_for_work(state, &me, waited_since.or(now), spin);
            spin = self.next_spin(spin, waited, waited_since);
            if waited != Waited::TooLong && state.take_deferred_look() {
                drop(state);
                self.starter.ask_to_look(self);
                state = self.lock();
            }
            if waited == Waited::TooLong {
                // Idle for the whole keep-alive: detach this thread and let it end.
                match state.handles.iter().position(|&(of, _)| of == id) {
                    Some(place) => drop(state.handles.swap_remove(place)),
                    None => state.exited_before_handle.push(id),
                }
                break;
            }
        }
        // Out of the count under the same lock that saw nothing to do: a job queued from
        // now on asks for another thread instead of waiting for this one.
        state.threads -= 1;
        if let Some(hook) = &self.config.on_thread_stop {
            state.stopping += 1;
            drop(state);
            contain(|| hook.call());
            state = self.lock();
            state.stopping -= 1;
        }
        self.notify_if_last_exited(state);
    }

    /// How long this worker spins at its next wait for work, after a wait that spun for
    /// `spun`, ended as `waited` and began at `since`: the pool's configured spin or,
    /// unless one is configured, [`PoolConfig::ADAPTIVE_SPIN`] when spinning pays: after a
    /// spin that found work, or after a wait without a spin that was shorter than
    /// [`PoolConfig::SPIN_AFTER_WAITS_UNDER`]. A spin that found nothing is not tried again
    /// at once. (No adaptive spin under loom, whose executions must not depend on the
    /// clock.)
    fn next_spin(&self, spun: Duration, waited: Waited, since: Option<Nanos>) -> Duration {
        if let Some(spin) = self.config.spin {
            return spin;
        }
        let pays = match waited {
            Waited::WhileSpinning => true,
            Waited::Asleep if spun.is_zero() => since.is_some_and(|since| {
                let waited = Nanos::now().nanos_since(since);
                u128::from(waited) < PoolConfig::SPIN_AFTER_WAITS_UNDER.as_nanos()
            }),
            Waited::Asleep | Waited::TooLong => false,
        };
        if pays && cfg!(not(loom)) {
            PoolConfig::ADAPTIVE_SPIN
        } else {
            Duration::ZERO
        }
    }

    /// Waits idle, on top of the pool's stack of idle workers, until a submitter claims
    /// this worker or the pool shuts down, or until the keep-alive of an elastic pool runs
    /// out. It first spins for `spin`, watching for a claim, before it sleeps. `now` is a
    /// clock reading the worker already has for this moment, if any.
    fn wait_for_work<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        me: &Arc<Wakeup>,
        now: Option<Nanos>,
        spin: Duration,
    ) -> (MutexGuard<'a, State>, Waited) {
        state.idle.push(Arc::clone(me));
        // At most `PoolConfig::MAX_SPIN`: the sum never overflows. (Not modelled under loom,
        // whose executions must not depend on the clock: its spin is always zero.)
        let slot = if spin.is_zero() {
            None
        } else {
            SpinSlot::take(self.config.spin.is_some(), self.starter.cores())
        };
        let spin_until = slot.as_ref().and_then(|_| Nanos::now().checked_add(spin));
        if let Some(until) = spin_until {
            drop(state);
            while !me.claimed.load(Ordering::Acquire)
                && !me.poked.load(Ordering::Acquire)
                && Nanos::now() < until
            {
                std::hint::spin_loop();
            }
            drop(slot);
            state = self.lock();
            if me.claimed.load(Ordering::Relaxed) {
                me.claimed.store(false, Ordering::Relaxed);
                state.claimed -= 1;
                return (state, Waited::WhileSpinning);
            }
        }
        // A keep-alive too long to add to now (`Duration::MAX`, say) never runs out.
        let mut idle_since = if spin_until.is_none() {
            now
        } else {
            None // read after the spin
        };
        let deadline = self.config.keep_alive.and_then(|idle| {
            let since = *idle_since.get_or_insert_with(Nanos::now);
            since.checked_add(idle)
        });
        loop {
            if me.claimed.load(Ordering::Relaxed) {
                // A submitter took this worker off the stack, under the lock.
                me.claimed.store(false, Ordering::Relaxed);
                state.claimed -= 1;
                return (state, Waited::Asleep);
            }
            if state.shut_down {
                me.poked.store(false, Ordering::Relaxed);
                leave_the_stack(&mut state, me);
                return (state, Waited::Asleep);
            }
            let timed_out;
            // The first wait counts the keep-alive from the reading it started from, not
            // from a new one; a wait after a spurious wake-up reads the clock.
            me.asleep.store(true, Ordering::Relaxed);
            (state, timed_out) =
                sync::wait_until(&me.wake, &self.state, state, deadline, idle_since.take());
            me.asleep.store(false, Ordering::Relaxed);
            if timed_out && !me.claimed.load(Ordering::Relaxed) && !state.shut_down {
                leave_the_stack(&mut state, me);
                return (state, Waited::TooLong);
            }
            // Claimed, shut down, or a spurious wake-up: the loop sees which.
        }
    }

    /// Counts a job the pool turned away (as `outcome`) and drops its body as a cancelled
    /// one's is.
    pub(super) fn refuse<F: Send + 'static, T>(
        self: &Arc<Self>,
        handle: &JobHandle<F, T>,
        outcome: Outcome,
    ) {
        self.metrics.ended(outcome);
        if let Some(body) = handle.take_back_body() {
            self.discard(Box::new(body));
        }
    }

    /// Hands a value to a pool thread to drop. Used for bodies whose callers went away
    /// before the job was queued, or that the pool refused. With no thread left (all of an
    /// elastic pool's exited), one is started for it; only a pool that is shut down with no
    /// thread left drops it right here, on the caller's thread.
    pub(super) fn discard(self: &Arc<Self>, value: Discarded) {
        let mut state = self.lock();
        if state.shut_down && state.threads == 0 {
            drop(state);
            drop(value);
            return;
        }
        state.discarded.push(value);
        let signal = state.assign_worker(&self.config, self.starter.cores());
        drop(state);
        self.send(signal);
    }
}

/// Workers of every pool spinning now.
static SPINNING: AtomicUsize = AtomicUsize::new(0);

/// One of the process's spinning workers, counted in [`SPINNING`] while it lives.
struct SpinSlot;

impl SpinSlot {
    /// A slot to spin in. A spin the pool's configuration asks for (`configured`) always
    /// gets one; an adaptive spin only while fewer workers than half the machine's `cores`
    /// (one at least) spin: spinning threads never take every core from the executor,
    /// whose threads then could not send the work they wait for.
    fn take(configured: bool, cores: usize) -> Option<SpinSlot> {
        let spinning = SPINNING.fetch_add(1, Ordering::Relaxed);
        if configured || spinning < (cores / 2).max(1) {
            return Some(SpinSlot);
        }
        SPINNING.fetch_sub(1, Ordering::Relaxed);
        None
    }
}

impl Drop for SpinSlot {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes an idle worker that was not claimed off the stack (keeping the others' order).
fn leave_the_stack(state: &mut State, me: &Arc<Wakeup>) {
    if let Some(place) = state.idle.iter().position(|idle| Arc::ptr_eq(idle, me)) {
        state.idle.remove(place);
    }
}

/// A copy of `error` for each caller told of it (`io::Error` is not `Clone`).
fn copy_of(error: &std::io::Error) -> std::io::Error {
    match error.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(error.kind(), error.to_string()),
    }
}
