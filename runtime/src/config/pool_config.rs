//! How one pool is shaped: its kind, thread count, queue and thread settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_offload_rules::check_pool_name;

use crate::error::ConfigError;

/// Whether a pool keeps its threads or lets idle ones go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum PoolKind {
    /// Threads start on demand, up to the maximum, and stay for the life of the process.
    Fixed,
    /// Threads start on demand, up to the maximum, and exit after
    /// [`keep_alive`](PoolConfig::keep_alive) without work.
    Elastic,
}

/// The configuration of one named pool.
///
/// Build one with [`PoolConfig::fixed`] or [`PoolConfig::elastic`] and adjust it with the
/// chained setters; hand it to [`PoolsBuilder::pool`](crate::PoolsBuilder::pool). Values are
/// checked when the pools are installed, and a bad one is an error naming the pool and the
/// value, never a silent default.
///
/// ```
/// use std::time::Duration;
/// use async_offload::PoolConfig;
///
/// let db = PoolConfig::fixed(8).queue_capacity(256);
/// let io = PoolConfig::elastic(128).keep_alive(Duration::from_secs(30));
/// assert_eq!(db.threads(), 8);
/// assert_eq!(io.kind(), async_offload::PoolKind::Elastic);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Fixed or elastic.
    pub(crate) kind: PoolKind,
    /// The most threads the pool runs at once (a fixed pool's thread count).
    pub(crate) threads: usize,
    /// How many submitted jobs may wait for a thread before callers wait for room.
    pub(crate) queue_capacity: usize,
    /// Whether a job that finds the queue full is refused at once, rather than wait for
    /// room.
    pub(crate) refuse_when_full: bool,
    /// How long an idle thread of an elastic pool waits for work before it exits;
    /// `None` for a fixed pool, whose threads never exit on their own.
    pub(crate) keep_alive: Option<Duration>,
    /// Stack size of each pool thread, in bytes; `None` is the standard library's default.
    pub(crate) stack_size: Option<usize>,
    /// Whether the pool keeps counters and timings for [`stats`](crate::stats).
    pub(crate) metrics: bool,
    /// How long an idle worker spins, looking for work, before it sleeps; `None` for the
    /// pool's own choice (see [`PoolConfig::spin`]).
    pub(crate) spin: Option<Duration>,
    /// The nice value of the pool's threads (Linux), if they are to run at a lower
    /// priority than the process's other threads.
    pub(crate) nice: Option<i32>,
    /// Run on each pool thread before its first job.
    pub(crate) on_thread_start: Option<ThreadHook>,
    /// Run on each pool thread as it exits.
    pub(crate) on_thread_stop: Option<ThreadHook>,
}

/// A closure run on pool threads ([`PoolConfig::on_thread_start`],
/// [`PoolConfig::on_thread_stop`]). Two hooks are equal when they are the same closure
/// (the same allocation): a configuration compares equal to its clones, and to nothing
/// else with a hook of its own.
#[derive(Clone)]
pub(crate) struct ThreadHook(Arc<dyn Fn() + Send + Sync>);

impl ThreadHook {
    /// Runs the closure.
    pub(crate) fn call(&self) {
        (self.0)();
    }
}

impl PartialEq for ThreadHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ThreadHook {}

impl fmt::Debug for ThreadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadHook(..)")
    }
}

impl PoolConfig {
    /// Waiting jobs a pool holds unless told otherwise.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
    /// How long an idle elastic thread waits for work unless told otherwise.
    pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
    /// The smallest stack size accepted, in bytes.
    pub const MIN_STACK_SIZE: usize = 64 * 1024;
    /// How long a worker spins when [`spin`](Self::spin) is not set and its last wait for
    /// work was short: about the time a caller takes to send the next job after the last
    /// one's result.
    pub const ADAPTIVE_SPIN: Duration = Duration::from_micros(50);
    /// The waits for work after which a worker spins, when [`spin`](Self::spin) is not
    /// set: work came back sooner than this, so it is likely to again.
    pub const SPIN_AFTER_WAITS_UNDER: Duration = Duration::from_micros(200);
    /// The longest spin accepted: past it, sleeping and being woken costs less.
    pub const MAX_SPIN: Duration = Duration::from_millis(1);
    /// The largest queue capacity accepted: more places than memory could ever fill, and
    /// few enough that counting them never overflows.
    pub const MAX_QUEUE_CAPACITY: usize = usize::MAX >> 3;
    /// The lowest nice value accepted ([`nice`](Self::nice)): just below normal priority.
    pub const MIN_NICE: i32 = 1;
    /// The highest nice value accepted ([`nice`](Self::nice)): the lowest priority.
    pub const MAX_NICE: i32 = 19;

    /// A pool of `threads` threads that, once started, stay for the life of the process.
    ///
    /// Threads start when work first needs them: a job that finds no idle thread gets one
    /// started for it, up to `threads` and never more. Like every pool thread, they are
    /// started by the pools' starter thread, not on the caller's. Suits work that should
    /// not compete for more than a set number of threads: a connection pool's size, or the
    /// CPU cores.
    #[must_use]
    pub const fn fixed(threads: usize) -> Self {
        PoolConfig {
            kind: PoolKind::Fixed,
            threads,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            refuse_when_full: false,
            keep_alive: None,
            stack_size: None,
            metrics: true,
            spin: None,
            nice: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }

    /// A pool that starts threads on demand, up to `max_threads`, and lets a thread exit
    /// after it has been idle for [`keep_alive`](Self::keep_alive) (10 s unless set).
    ///
    /// # How it sizes itself to its load
    ///
    /// Threads are started by the pools' starter thread (and by the pool's threads between
    /// their jobs, while it grows by several), not on a caller's thread: a call only queues
    /// its job and wakes a thread or the starter. (Only where the starter's own thread could
    /// not start, or after [`shutdown`](crate::shutdown), does a caller start the thread its
    /// job needs.) The pool grows from what it sees:
    ///
    /// - a job that finds an idle thread wakes the one that went idle **last**;
    /// - a job that finds no thread at all gets one at once;
    /// - a job that finds every thread busy waits for one to come back for it. If the
    ///   queue is still waiting 100 µs later because the busy threads are stuck in their
    ///   jobs (blocking calls), a thread is started for every waiting job at once, and for
    ///   the jobs that come while that load lasts. If the busy threads do finish jobs,
    ///   only too slowly, one more is started, up to the number of cores;
    /// - when more than 4 jobs wait for each thread serving the queue, one more starts at
    ///   once, up to the number of cores.
    ///
    /// So blocking calls each get their thread within about a tenth of a millisecond and
    /// the time the system takes to start them, while a burst of short jobs runs on as
    /// many threads as there are cores. And since the thread that went idle last is the
    /// one woken, a trickle of work keeps only the threads it needs busy: the others stay
    /// idle for their keep-alive and exit. A pool never exits a thread that has work.
    #[must_use]
    pub const fn elastic(max_threads: usize) -> Self {
        PoolConfig {
            kind: PoolKind::Elastic,
            threads: max_threads,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            refuse_when_full: false,
            keep_alive: Some(Self::DEFAULT_KEEP_ALIVE),
            stack_size: None,
            metrics: true,
            spin: None,
            nice: None,
            on_thread_start: None,
            on_thread_stop: None,
        }
    }

    /// How many jobs may wait for a free thread (default 1024). When the queue is full,
    /// callers wait asynchronously, first come first served, for room (unless the pool
    /// [refuses them](Self::refuse_when_full)).
    #[must_use]
    pub const fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Whether a job that finds the queue full is refused at once (`true`) instead of
    /// waiting in line for room (`false`, the default): for a service that would rather
    /// answer "busy" (a 503) than let requests pile up behind a saturated pool.
    ///
    /// The refused caller gets [`OffloadError::QueueFull`](crate::OffloadError::QueueFull),
    /// naming the pool and its capacity: [`try_run`](crate::try_run) returns it,
    /// [`run`](crate::run) and `#[offload]` fns panic with it. The body never runs; it is
    /// dropped on a pool thread, with what it captured, and the pool counts it in
    /// [`PoolStats::queue_full`](crate::PoolStats::queue_full).
    ///
    /// ```
    /// use async_offload::PoolConfig;
    ///
    /// let render = PoolConfig::fixed(4).queue_capacity(32).refuse_when_full(true);
    /// ```
    #[must_use]
    pub const fn refuse_when_full(mut self, refuse: bool) -> Self {
        self.refuse_when_full = refuse;
        self
    }

    /// How long an idle thread of an elastic pool waits for work before it exits.
    ///
    /// Only elastic pools have it: setting it on a fixed pool is a configuration error.
    #[must_use]
    pub const fn keep_alive(mut self, idle: Duration) -> Self {
        self.keep_alive = Some(idle);
        self
    }

    /// The stack size of each pool thread, in bytes (at least
    /// [`MIN_STACK_SIZE`](Self::MIN_STACK_SIZE)).
    #[must_use]
    pub const fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Whether the pool keeps counters and timings for [`stats`](crate::stats) and, with
    /// the `metrics` feature, records each job's times into the application's recorder
    /// (default: yes). They cost three clock reads and a few atomic operations per job;
    /// without them the counters and timings of the pool's [`PoolStats`](crate::PoolStats)
    /// stay zero (its gauges remain).
    #[must_use]
    pub const fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled;
        self
    }

    /// How long a worker that runs out of work spins, looking for more, before it sleeps,
    /// every time (at most [`MAX_SPIN`](Self::MAX_SPIN); `Duration::ZERO`: never).
    ///
    /// A job that arrives while a worker spins starts without the wake-up of a sleeping
    /// thread, which is most of the round trip of a short job. The price is CPU: each worker
    /// that runs out of work burns up to this much of a core, and on a machine with few
    /// cores that core may be the one the executor needs.
    ///
    /// Unless this is set, a worker spins only when it pays: for
    /// [`ADAPTIVE_SPIN`](Self::ADAPTIVE_SPIN), after a spin that found work, or after a
    /// wait without a spin shorter than
    /// [`SPIN_AFTER_WAITS_UNDER`](Self::SPIN_AFTER_WAITS_UNDER); a spin that found nothing
    /// is not tried again at once; and no more workers of the process's pools spin that way
    /// at once than half the cores (one at least), so that spinning threads never take
    /// every core from the executor. Jobs that come back to back (a caller awaiting one call
    /// after another, batches of short jobs) then find a worker still looking, and a trickle
    /// of jobs finds them asleep, costing nothing.
    /// `benches/compare.rs` measures both sides; see `BENCHMARKS.md`.
    #[must_use]
    pub const fn spin(mut self, spin: Duration) -> Self {
        self.spin = Some(spin);
        self
    }

    /// A closure each thread of the pool runs when it starts, before its first job: to set
    /// up a thread-local, attach the thread to a VM, pin it to a core. Setting it again
    /// replaces the closure.
    ///
    /// If it panics, the panic is caught (the panic hook has printed it) and the thread goes
    /// on to serve jobs all the same: a job never waits for a thread that gave up, and a
    /// pool never starts thread after thread, each failing the same way. A body that needs
    /// what the hook sets up should check for it.
    ///
    /// Code only: `OFFLOAD_POOLS` and configuration files keep the hook set in code.
    ///
    /// ```
    /// use async_offload::PoolConfig;
    ///
    /// let db = PoolConfig::fixed(4).on_thread_start(|| {
    ///     // e.g. open this thread's connection into a thread-local
    /// });
    /// ```
    #[must_use]
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(ThreadHook(Arc::new(hook)));
        self
    }

    /// A closure each thread of the pool runs as it exits: an idle thread of an elastic pool
    /// after its keep-alive, or every thread at [`shutdown`](crate::shutdown), once the
    /// queue is empty. [`shutdown`](crate::shutdown)'s timeout counts the time threads spend
    /// in it. Setting it again replaces the closure.
    ///
    /// The thread no longer counts among the pool's threads while the hook runs: a job
    /// submitted meanwhile goes to another thread, or a new one, never to one on its way out.
    /// If the hook panics, the panic is caught (the panic hook has printed it) and the
    /// thread ends as it would have.
    ///
    /// Code only: `OFFLOAD_POOLS` and configuration files keep the hook set in code.
    #[must_use]
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_thread_stop = Some(ThreadHook(Arc::new(hook)));
        self
    }

    /// Runs the pool's threads at a lower scheduling priority: the nice value `nice`, from 1
    /// (a little below normal) to 19 (the lowest). Off by default.
    ///
    /// For a CPU-heavy pool on a machine with few cores: its threads then give way to the
    /// executor's, so that quick requests stay quick while the pool is busy, and the pool
    /// gets less CPU time when both want it. A trade-off, measured in `BENCHMARKS.md`.
    ///
    /// - On Linux, each thread of the pool sets its own nice value when it starts (the
    ///   scheduler keeps one per thread). If a thread already runs at a higher nice value
    ///   (a process started with `nice -n 15`, say), it stays there: raising a priority
    ///   takes a privilege.
    /// - Elsewhere it does nothing: other systems have no per-thread nice value (on macOS
    ///   and the BSDs it would apply to the whole process). The same configuration works
    ///   everywhere; only the scheduling differs.
    ///
    /// Only lowering is allowed: a value outside 1..=19 is a configuration error.
    #[must_use]
    pub const fn nice(mut self, nice: i32) -> Self {
        self.nice = Some(nice);
        self
    }

    /// Fixed or elastic.
    #[must_use]
    pub const fn kind(&self) -> PoolKind {
        self.kind
    }

    /// The thread count of a fixed pool, the maximum of an elastic one.
    #[must_use]
    pub const fn threads(&self) -> usize {
        self.threads
    }

    /// The same pool, of another kind: the thread count stays, and the keep-alive becomes
    /// what the new kind has by default.
    pub(crate) fn with_kind(mut self, kind: PoolKind) -> Self {
        if kind != self.kind {
            self.kind = kind;
            self.keep_alive = match kind {
                PoolKind::Fixed => None,
                PoolKind::Elastic => Some(Self::DEFAULT_KEEP_ALIVE),
            };
        }
        self
    }

    /// The same pool with another thread count (maximum, for an elastic pool).
    pub(crate) fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Checks every value, and names `pool` and the value in the error.
    pub(crate) fn validate(&self, pool: &str) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, value: String, reason: &'static str| {
            Err(ConfigError::Invalid {
                pool: pool.to_owned(),
                setting,
                value,
                reason,
            })
        };
        validate_name(pool)?;
        if self.threads == 0 {
            return invalid("threads", "0".into(), "a pool needs at least one thread");
        }
        if self.queue_capacity == 0 {
            return invalid(
                "queue_capacity",
                "0".into(),
                "the queue must hold at least one waiting job",
            );
        }
        if self.queue_capacity > Self::MAX_QUEUE_CAPACITY {
            return invalid(
                "queue_capacity",
                self.queue_capacity.to_string(),
                "larger than PoolConfig::MAX_QUEUE_CAPACITY",
            );
        }
        match (self.kind, self.keep_alive) {
            (PoolKind::Fixed, Some(idle)) => {
                return invalid(
                    "keep_alive",
                    format!("{idle:?}"),
                    "the threads of a fixed pool never exit; use PoolConfig::elastic for a keep-alive",
                );
            }
            (PoolKind::Elastic, Some(idle)) if idle.is_zero() => {
                return invalid(
                    "keep_alive",
                    format!("{idle:?}"),
                    "an idle thread must wait some time for work before it exits",
                );
            }
            _ => {}
        }
        if let Some(spin) = self.spin.filter(|&spin| spin > Self::MAX_SPIN) {
            return invalid(
                "spin",
                format!("{spin:?}"),
                "longer than PoolConfig::MAX_SPIN (1 ms): past it, a sleeping thread costs less",
            );
        }
        if let Some(nice) = self.nice {
            if !(Self::MIN_NICE..=Self::MAX_NICE).contains(&nice) {
                return invalid(
                    "nice",
                    nice.to_string(),
                    "outside 1..=19: a pool's threads can only be lowered in priority, from 1 \
                     (a little below normal) to 19 (the lowest)",
                );
            }
        }
        if let Some(bytes) = self.stack_size {
            if bytes < Self::MIN_STACK_SIZE {
                return invalid(
                    "stack_size",
                    bytes.to_string(),
                    "smaller than PoolConfig::MIN_STACK_SIZE (65536 bytes)",
                );
            }
        }
        Ok(())
    }
}

/// Checks a pool name with the rule `#[offload(pool = "...")]` applies at compile time:
/// not empty, and nothing that `OFFLOAD_POOLS` could not write.
pub(crate) fn validate_name(pool: &str) -> Result<(), ConfigError> {
    check_pool_name(pool).map_err(|bad| ConfigError::Invalid {
        pool: pool.to_owned(),
        setting: "name",
        value: format!("{pool:?}"),
        reason: bad.reason(),
    })
}
