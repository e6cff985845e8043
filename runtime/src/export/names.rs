//! The name, kind, unit and description of every metric the `metrics` feature publishes:
//! the one place they are written. The crate docs' table lists the same.

use metrics::Unit;

/// Threads of the pool now, busy or idle (gauge).
pub(crate) const POOL_THREADS: &str = "offload_pool_threads";
/// Threads of the pool waiting for work now (gauge).
pub(crate) const POOL_IDLE_THREADS: &str = "offload_pool_idle_threads";
/// The most threads the pool may run (gauge).
pub(crate) const POOL_MAX_THREADS: &str = "offload_pool_max_threads";
/// Jobs running now (gauge).
pub(crate) const POOL_RUNNING_JOBS: &str = "offload_pool_running_jobs";
/// Jobs in the queue now (gauge).
pub(crate) const POOL_QUEUED_JOBS: &str = "offload_pool_queued_jobs";
/// The most jobs the queue holds (gauge).
pub(crate) const POOL_QUEUE_CAPACITY: &str = "offload_pool_queue_capacity";
/// Callers waiting in line for room in the full queue now (gauge).
pub(crate) const POOL_WAITING_CALLERS: &str = "offload_pool_waiting_callers";
/// Jobs offered to the pool (counter).
pub(crate) const JOBS_SUBMITTED: &str = "offload_jobs_submitted_total";
/// Jobs ended, by `outcome` (counter).
pub(crate) const JOBS_ENDED: &str = "offload_jobs_ended_total";
/// Each job's time from submission to its start (histogram).
pub(crate) const JOB_QUEUE_WAIT: &str = "offload_job_queue_wait_seconds";
/// Each job's time running (histogram).
pub(crate) const JOB_RUN_TIME: &str = "offload_job_run_seconds";
/// Polls of a `#[no_block]` fn (counter, `release-stalls`).
#[cfg(feature = "release-stalls")]
pub(crate) const POLLS: &str = "offload_polls_total";
/// Polls of a `#[no_block]` fn longer than its threshold (counter, `release-stalls`).
#[cfg(feature = "release-stalls")]
pub(crate) const SLOW_POLLS: &str = "offload_slow_polls_total";
/// Each slow poll's time (histogram, `release-stalls`).
#[cfg(feature = "release-stalls")]
pub(crate) const SLOW_POLL_TIME: &str = "offload_slow_poll_seconds";

/// The label naming the pool.
pub(crate) const POOL: &str = "pool";
/// The label saying how a job ended.
pub(crate) const OUTCOME: &str = "outcome";
/// The label naming a `#[no_block]` fn, `module::path::name`.
#[cfg(feature = "release-stalls")]
pub(crate) const FUNCTION: &str = "function";

/// Describes every metric to the current recorder: its unit and what it counts.
pub(crate) fn describe_all() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        POOL_THREADS,
        Unit::Count,
        "Threads of the pool, busy or idle."
    );
    describe_gauge!(
        POOL_IDLE_THREADS,
        Unit::Count,
        "Threads of the pool waiting for work."
    );
    describe_gauge!(
        POOL_MAX_THREADS,
        Unit::Count,
        "The most threads the pool may run."
    );
    describe_gauge!(POOL_RUNNING_JOBS, Unit::Count, "Jobs running.");
    describe_gauge!(
        POOL_QUEUED_JOBS,
        Unit::Count,
        "Jobs queued, waiting for a thread."
    );
    describe_gauge!(
        POOL_QUEUE_CAPACITY,
        Unit::Count,
        "The most jobs the queue holds."
    );
    describe_gauge!(
        POOL_WAITING_CALLERS,
        Unit::Count,
        "Callers waiting in line for room in the full queue."
    );
    describe_counter!(JOBS_SUBMITTED, Unit::Count, "Jobs offered to the pool.");
    describe_counter!(
        JOBS_ENDED,
        Unit::Count,
        "Jobs ended: completed, panicked, cancelled (caller gone before the start), abandoned \
         (caller gone while running), refused (shut down, or no thread), queue_full."
    );
    describe_histogram!(
        JOB_QUEUE_WAIT,
        Unit::Seconds,
        "Each job's time from its submission to its start, any wait for room included."
    );
    describe_histogram!(JOB_RUN_TIME, Unit::Seconds, "Each job's time running.");
    #[cfg(feature = "release-stalls")]
    {
        describe_counter!(POLLS, Unit::Count, "Polls of the #[no_block] fn.");
        describe_counter!(
            SLOW_POLLS,
            Unit::Count,
            "Polls of the #[no_block] fn longer than its threshold."
        );
        describe_histogram!(
            SLOW_POLL_TIME,
            Unit::Seconds,
            "Each slow poll's time: how long it held its executor thread."
        );
    }
}
