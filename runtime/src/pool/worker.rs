//! The pool's threads: starting them, the loop that takes jobs off the queue, idle waits
//! with a keep-alive, and the values a worker drops for callers that went away.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::clock::Nanos;
use super::job::JobHandle;
use super::metrics::Outcome;
use super::sync::{self, MutexGuard, thread};
use super::{Discarded, Pool, State, contain, priority, wake_from_line};
use crate::error::OffloadError;

impl Pool {
    /// Makes sure a thread will take the job just queued: an idle one is woken, or a new one
    /// started while the pool is below its thread count.
    #[inline]
    pub(super) fn start_work(
        self: &Arc<Self>,
        state: MutexGuard<'_, State>,
    ) -> Result<(), OffloadError> {
        if state.idle > 0 {
            self.claim_idle_worker(state);
            return Ok(());
        }
        self.start_work_without_idle_worker(state)
    }

    /// [`Pool::start_work`] when no worker is idle: out of line, to keep the path of a
    /// job that wakes an idle worker short.
    #[inline(never)]
    fn start_work_without_idle_worker(
        self: &Arc<Self>,
        mut state: MutexGuard<'_, State>,
    ) -> Result<(), OffloadError> {
        if state.threads < self.config.threads {
            // Spawning under the lock keeps `threads` truthful; it happens only while the
            // pool grows, not once it has the threads its load needs.
            if let Err(error) = self.spawn_worker(&mut state) {
                if state.threads == 0 {
                    // Nobody would ever run the job: take it back, pass its place on to the
                    // next caller in line (who may find a thread), and tell the caller.
                    state.queue.pop_back();
                    let next = state.hand_off_place();
                    drop(state);
                    wake_from_line(next);
                    return Err(OffloadError::SpawnFailed {
                        pool: self.name.to_string(),
                        error,
                    });
                }
                // The running threads will get to the job once they are free.
            }
        }
        Ok(())
    }

    /// Starts one worker thread and counts it; on failure nothing is counted.
    pub(super) fn spawn_worker(self: &Arc<Self>, state: &mut State) -> std::io::Result<()> {
        let id = state.next_thread_id;
        let mut builder = thread::Builder::new().name(format!("offload-{}-{id}", self.name));
        if let Some(bytes) = self.config.stack_size {
            builder = builder.stack_size(bytes);
        }
        let pool = Arc::clone(self);
        let handle = builder.spawn(move || pool.work(id))?;
        state.next_thread_id += 1;
        state.threads += 1;
        state.handles.push((id, handle));
        Ok(())
    }

    /// A worker's life: lower its priority if the pool says so, run the start hook, take jobs until the pool shuts down or, for an
    /// elastic pool, no job has come for the keep-alive, then run the stop hook.
    ///
    /// A panic in either hook is contained (see `PoolConfig::on_thread_start`): the worker
    /// is counted in `threads` from its spawn, so the job it was started for is never left
    /// without a thread, and it serves that job whether or not its start hook returned.
    pub(super) fn work(&self, id: usize) {
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
        // The clock reading at the end of the last job, while the worker goes straight on
        // to the next one: its start, without reading the clock again.
        let mut clock = None;
        let mut state = self.lock();
        loop {
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
                state.running += 1;
                let admitted = state.hand_off_place();
                drop(state);
                wake_from_line(admitted);
                // `run` catches the body's panic; `contain` one from dropping a cancelled
                // job's arguments or an abandoned result.
                let now = clock.take();
                clock = contain(move || job.run(self, now)).flatten();
                state = self.lock();
                state.running -= 1;
                continue;
            }
            let now = clock.take();
            if state.shut_down {
                break;
            }
            let keep_waiting;
            (state, keep_waiting) = self.wait_for_work(state, now);
            if !keep_waiting {
                // Idle for the whole keep-alive: detach this thread and let it end.
                if let Some(place) = state.handles.iter().position(|(of, _)| *of == id) {
                    state.handles.swap_remove(place);
                }
                break;
            }
        }
        // Out of the count under the same lock that saw nothing to do: a job queued from
        // now on starts another thread instead of waiting for this one.
        state.threads -= 1;
        if let Some(hook) = &self.config.on_thread_stop {
            state.stopping += 1;
            drop(state);
            contain(|| hook.call());
            state = self.lock();
            state.stopping -= 1;
        }
        let last = state.threads + state.stopping == 0;
        drop(state);
        if last {
            self.all_exited.notify_all();
        }
    }

    /// Waits idle until a submitter claims this worker or the pool shuts down (`true`), or
    /// until the keep-alive of an elastic pool runs out (`false`). With a spin configured,
    /// it first spins that long, watching for a claim, before it sleeps. `now` is a clock
    /// reading the worker already has for this moment, if any.
    pub(super) fn wait_for_work<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        now: Option<Nanos>,
    ) -> (MutexGuard<'a, State>, bool) {
        state.idle += 1;
        // At most `PoolConfig::MAX_SPIN`: the sum never overflows. (Not modelled under loom,
        // whose executions must not depend on the clock.)
        let spin_until = if self.config.spin.is_zero() {
            None
        } else {
            Nanos::now().checked_add(self.config.spin)
        };
        if let Some(until) = spin_until {
            loop {
                let claims = self.claims.load(Ordering::Acquire);
                drop(state);
                while self.claims.load(Ordering::Acquire) == claims && Nanos::now() < until {
                    std::hint::spin_loop();
                }
                state = self.lock();
                if state.claimed > 0 {
                    state.claimed -= 1;
                    return (state, true);
                }
                if state.shut_down {
                    state.idle -= 1;
                    return (state, true);
                }
                if Nanos::now() >= until {
                    break; // nothing came: sleep
                }
                // Another worker took the claim first: spin on for the time left.
            }
        }
        // A keep-alive too long to add to now (`Duration::MAX`, say) never runs out.
        let mut idle_since = if self.config.spin.is_zero() {
            now
        } else {
            None // read after the spin
        };
        let deadline = self.config.keep_alive.and_then(|idle| {
            let since = *idle_since.get_or_insert_with(Nanos::now);
            since.checked_add(idle)
        });
        loop {
            let timed_out;
            // The first wait counts the keep-alive from the reading it started from, not
            // from a new one; a wait after a spurious wake-up reads the clock.
            (state, timed_out) = sync::wait_until(
                &self.work_available,
                &self.state,
                state,
                deadline,
                idle_since.take(),
            );
            if state.claimed > 0 {
                // A submitter has already taken this worker off the idle count.
                state.claimed -= 1;
                return (state, true);
            }
            if state.shut_down || timed_out {
                state.idle -= 1;
                let shut_down = state.shut_down;
                return (state, shut_down);
            }
            // A spurious wake-up, or a claim another worker took first: wait on.
        }
    }

    /// Takes an idle worker off the idle count and wakes it (or ends its spin) to look at
    /// the queue. `state` must have an idle worker.
    #[inline]
    pub(super) fn claim_idle_worker(&self, mut state: MutexGuard<'_, State>) {
        state.idle -= 1;
        state.claimed += 1;
        self.claims.fetch_add(1, Ordering::Release);
        drop(state);
        self.work_available.notify_one();
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
    /// elastic pool's exited), one is started for it; only a pool that is shut down, or that
    /// cannot start a thread, drops it right here, on the caller's thread.
    pub(super) fn discard(self: &Arc<Self>, value: Discarded) {
        let mut state = self.lock();
        if state.threads == 0 && (state.shut_down || self.spawn_worker(&mut state).is_err()) {
            drop(state);
            drop(value);
            return;
        }
        state.discarded.push(value);
        if state.idle > 0 {
            self.claim_idle_worker(state);
        }
    }
}
