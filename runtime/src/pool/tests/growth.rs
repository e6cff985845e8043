//! The growth rule (`growth.rs`): its decisions on a pool's state, step by step, and the
//! pool at work: blocking jobs get threads, a trickle lets surplus threads go, and a
//! thread that cannot start leaves no job behind.

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use futures::executor::block_on;

use crate::config::PoolConfig;
use crate::error::OffloadError;
use crate::pool::growth::Ask;
use crate::pool::job::Runnable;
use crate::pool::starter::Starter;
use crate::pool::{Pool, State};

/// How long a test waits for what should happen soon, before it fails instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// The cores the rule is told the machine has.
const CORES: usize = 2;

/// A pool whose state the tests change by hand: nothing is started.
fn pool(config: PoolConfig) -> Pool {
    Pool::with_starter("growth", config, Starter::inline())
}

/// A queued job that is never run.
struct Queued;

impl Runnable for Queued {
    fn run(
        self: Arc<Self>,
        _: &Pool,
        _: Option<crate::pool::clock::Nanos>,
    ) -> Option<crate::pool::clock::Nanos> {
        None
    }

    fn refuse_queued(self: Arc<Self>, _: &Pool, _: OffloadError) {}
}

/// Queues `jobs` jobs, as submitters do one after the other, and returns what the rule
/// asked of the starter for them.
fn queue(state: &mut State, config: &PoolConfig, jobs: usize) -> Vec<Ask> {
    let mut asked = Vec::new();
    for _ in 0..jobs {
        state.queue.push_back(Arc::new(Queued));
        state.growth.pushed += 1;
        match state.grow_for_queued(config, CORES) {
            Ask::Nothing => {}
            ask => asked.push(ask),
        }
    }
    asked
}

/// The starter starts the reserved threads, and they get to the queue.
fn arrive(state: &mut State) {
    state.start_taken_up();
    state.starting -= state.to_spawn;
    state.to_spawn = 0;
}

/// A worker takes the job at the front and runs it; returns its number, and whether a
/// deferred look is asked for, as a worker does.
fn take(state: &mut State) -> (u64, bool) {
    state.queue.pop_front().expect("a job is queued");
    let number = state.growth.taken;
    state.growth.taken += 1;
    state.running += 1;
    (number, state.take_deferred_look())
}

/// A pool without threads gets one for its first job, which it takes and runs: returns
/// the job's number.
fn first_job_running(state: &mut State, config: &PoolConfig) -> u64 {
    assert_eq!(queue(state, config, 1), [Ask::Start]);
    arrive(state);
    take(state).0
}

/// A worker finishes job `number`.
fn finish(state: &mut State, number: u64) {
    state.running -= 1;
    state.finished(number);
}

#[test]
fn the_first_job_of_a_pool_without_threads_gets_one_at_once() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    assert_eq!(queue(&mut state, &config, 1), [Ask::Start]);
    assert_eq!((state.threads, state.starting, state.to_spawn), (1, 1, 1));
    // The next jobs find the thread on its way: the look counts from when it takes a job.
    assert_eq!(queue(&mut state, &config, 3), []);
    assert_eq!(state.threads, 1);
    arrive(&mut state);
    assert!(take(&mut state).1, "the look is asked for now");
}

#[test]
fn jobs_taken_in_time_make_no_thread() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    let first = first_job_running(&mut state, &config);
    assert_eq!(queue(&mut state, &config, 3), [Ask::Look]);
    finish(&mut state, first);
    for _ in 0..3 {
        let (job, _) = take(&mut state);
        finish(&mut state, job);
    }
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Nothing);
    assert_eq!(state.threads, 1);
}

#[test]
fn threads_stuck_in_their_job_with_nothing_finished_block_and_every_waiting_job_gets_a_thread() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    queue(&mut state, &config, 1);
    arrive(&mut state);
    take(&mut state); // and blocks in it
    assert_eq!(queue(&mut state, &config, 4), [Ask::Look]);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    assert_eq!(
        (state.threads, state.to_spawn),
        (5, 4),
        "a thread per waiting job"
    );
    arrive(&mut state);
    for _ in 0..4 {
        take(&mut state);
    }
    // Blocking load: until the queue empties, a job with no idle thread gets one at once,
    // up to the maximum.
    assert_eq!(queue(&mut state, &config, 4), [Ask::Start]);
    assert_eq!(state.threads, 8);
    assert_eq!(queue(&mut state, &config, 1), [], "at the maximum");
}

#[test]
fn blocking_load_ends_when_the_queue_empties() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    first_job_running(&mut state, &config);
    queue(&mut state, &config, 1);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    arrive(&mut state);
    take(&mut state);
    assert_eq!(
        queue(&mut state, &config, 1),
        [Ask::Start],
        "at once, no look first"
    );
    arrive(&mut state);
    take(&mut state);
    state.queue_emptied();
    assert_eq!(queue(&mut state, &config, 1), [Ask::Look]);
}

#[test]
fn threads_that_make_progress_too_slowly_get_one_more_up_to_the_cores() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    let first = first_job_running(&mut state, &config);
    assert_eq!(queue(&mut state, &config, 3), [Ask::Look]);
    finish(&mut state, first);
    let (second, _) = take(&mut state);
    finish(&mut state, second);
    // The jobs queued before the look were taken in time; those still waiting get a look
    // of their own.
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Look);
    let (third, _) = take(&mut state);
    finish(&mut state, third);
    // Progress, but a job queued before this look still waits: one more thread.
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    assert_eq!(state.threads, 2, "one more");
    assert_eq!(
        queue(&mut state, &config, 1),
        [],
        "a look waits for the new thread"
    );
    arrive(&mut state);
    let (fourth, look) = take(&mut state);
    assert!(look, "the look again, once the new thread takes a job");
    // Two threads on two cores: no more for short jobs, but another look while jobs wait.
    queue(&mut state, &config, 2);
    finish(&mut state, fourth);
    let (fifth, _) = take(&mut state);
    finish(&mut state, fifth);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Look);
    assert_eq!(state.threads, 2);
}

#[test]
fn a_thread_is_started_in_place_of_each_stuck_one_while_others_make_progress() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    first_job_running(&mut state, &config);
    queue(&mut state, &config, 1);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    arrive(&mut state);
    let (second, _) = take(&mut state);
    state.queue_emptied();
    // Two threads run; then one finishes jobs while the other stays in the first.
    assert_eq!(queue(&mut state, &config, 2), [Ask::Look]);
    finish(&mut state, second);
    let (third, _) = take(&mut state);
    finish(&mut state, third);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    assert_eq!(state.threads, 3, "one in place of the stuck one");
}

#[test]
fn a_look_that_waited_for_threads_that_took_no_job_is_not_lost() {
    // Found by review: a look deferred until threads on their way got to the queue, which
    // they found empty, stayed deferred for good, and later jobs never got a look.
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    let first = first_job_running(&mut state, &config);
    assert_eq!(
        queue(&mut state, &config, 5),
        [Ask::Look, Ask::Start],
        "a look, then rule 4: a second thread"
    );
    finish(&mut state, first);
    assert_eq!(
        state.look_at_queue(&config, CORES),
        Ask::Nothing,
        "deferred"
    );
    // The running thread takes the waiting jobs; the second arrives to an empty queue.
    for _ in 0..5 {
        let (job, _) = take(&mut state);
        finish(&mut state, job);
    }
    state.queue_emptied();
    arrive(&mut state);
    assert!(!state.take_deferred_look(), "nothing waits: no look");
    // The next job that waits gets its look.
    assert_eq!(queue(&mut state, &config, 1), [Ask::Look]);
}

#[test]
fn a_look_while_a_thread_is_on_its_way_waits_for_it() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    let first = first_job_running(&mut state, &config);
    assert_eq!(queue(&mut state, &config, 1), [Ask::Look]);
    finish(&mut state, first);
    // A long queue starts a second thread (rule 4), still on its way at the look.
    assert_eq!(queue(&mut state, &config, 4), [Ask::Start]);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Nothing);
    arrive(&mut state);
    assert!(take(&mut state).1, "the arriving thread asks for the look");
}

#[test]
fn threads_that_block_in_what_they_took_in_time_are_found_at_the_next_look() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    let first = first_job_running(&mut state, &config);
    assert_eq!(queue(&mut state, &config, 3), [Ask::Look]);
    finish(&mut state, first);
    take(&mut state); // taken in time, then blocked in (jobs that wait for one another)
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Look);
    assert_eq!(state.look_at_queue(&config, CORES), Ask::Start);
    assert_eq!(state.threads, 3, "a thread for each waiting job");
}

#[test]
fn a_long_queue_of_short_jobs_gets_threads_up_to_the_cores_at_once() {
    let config = PoolConfig::elastic(8);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    // The first job starts a thread; the sixth finds five waiting for it: one more.
    assert_eq!(queue(&mut state, &config, 6), [Ask::Start]);
    assert_eq!(state.threads, 2);
    assert_eq!(queue(&mut state, &config, 20), [], "no more than the cores");
    assert_eq!(state.threads, 2);
}

#[test]
fn a_fixed_pool_starts_its_threads_as_jobs_need_them() {
    let config = PoolConfig::fixed(4);
    let pool = pool(config.clone());
    let mut state = pool.lock();
    assert_eq!(queue(&mut state, &config, 3), [Ask::Start]);
    assert_eq!(state.threads, 3);
    assert_eq!(queue(&mut state, &config, 3), [], "asked already");
    assert_eq!(state.threads, 4, "never above its size");
}

/// A pool at work, with the process's starter.
fn working_pool(name: &str, config: PoolConfig) -> Arc<Pool> {
    Arc::new(Pool::new(name, config))
}

#[test]
fn blocking_jobs_each_get_a_thread_and_no_caller_starts_one() {
    const JOBS: usize = 32;
    let pool = working_pool("blocking", PoolConfig::elastic(JOBS));
    // Each job waits until all are running at once: only a thread per job lets them.
    let all_running = Arc::new(Barrier::new(JOBS));
    let handles: Vec<_> = (0..JOBS)
        .map(|_| {
            let all_running = Arc::clone(&all_running);
            block_on(pool.submit(move || {
                all_running.wait();
            }))
            .expect("the pool is running")
        })
        .collect();
    for handle in handles {
        block_on(handle);
    }
    let state = pool.lock();
    assert_eq!(state.next_thread_id, JOBS, "a thread per job, no more");
    assert_eq!(state.started_by_a_caller, 0, "a caller started a thread");
    drop(state);
    pool.begin_shutdown();
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

#[test]
fn under_a_trickle_the_surplus_threads_idle_out() {
    const THREADS: usize = 8;
    let config = PoolConfig::elastic(THREADS).keep_alive(Duration::from_millis(200));
    let pool = working_pool("trickle", config);
    let all_running = Arc::new(Barrier::new(THREADS));
    let grown: Vec<_> = (0..THREADS)
        .map(|_| {
            let all_running = Arc::clone(&all_running);
            block_on(pool.submit(move || {
                all_running.wait();
            }))
            .expect("the pool is running")
        })
        .collect();
    for handle in grown {
        block_on(handle);
    }
    assert_eq!(pool.stats().threads, THREADS);
    // One short job at a time: the worker that went idle last takes each, and the others
    // never wake before their keep-alive runs out.
    let deadline = Instant::now() + HANG_GUARD;
    while pool.stats().threads > 1 {
        assert!(
            Instant::now() < deadline,
            "{} threads still alive under the trickle",
            pool.stats().threads
        );
        block_on(block_on(pool.submit(|| ())).expect("the pool is running"));
        std::thread::sleep(Duration::from_millis(5));
    }
    pool.begin_shutdown();
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

#[test]
fn a_thread_that_cannot_start_refuses_the_job_of_a_pool_without_threads() {
    let pool = working_pool("cannot-start", PoolConfig::elastic(2));
    pool.fail_next_starts(1);
    let mut handle = block_on(pool.submit(|| 1)).expect("queued");
    let outcome = block_on(std::future::poll_fn(|cx| handle.poll_outcome(cx)));
    match crate::pool::answered(outcome) {
        Err(OffloadError::SpawnFailed { pool, error }) => {
            assert_eq!(pool, "cannot-start");
            assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
        }
        other => panic!("expected SpawnFailed, got {other:?}"),
    }
    // The next start works: so does the next job.
    assert_eq!(block_on(block_on(pool.submit(|| 2)).expect("queued")), 2);
    let stats = pool.stats();
    assert_eq!((stats.refused, stats.completed), (1, 1));
    pool.begin_shutdown();
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

#[test]
fn a_thread_that_cannot_start_leaves_the_waiting_job_to_the_thread_there() {
    let pool = working_pool("one-left", PoolConfig::elastic(2));
    let (started, on_start) = mpsc::channel();
    let (release, on_release) = mpsc::channel::<()>();
    let first = block_on(pool.submit(move || {
        started.send(()).expect("the test waits");
        on_release
            .recv_timeout(HANG_GUARD)
            .expect("the test releases the job");
        1
    }))
    .expect("queued");
    on_start
        .recv_timeout(HANG_GUARD)
        .expect("the first job runs");
    // The growth for the second job (its thread blocked) fails to start a thread.
    pool.fail_next_starts(1);
    let second = block_on(pool.submit(|| 2)).expect("queued");
    let deadline = Instant::now() + HANG_GUARD;
    while pool
        .failing_starts
        .load(std::sync::atomic::Ordering::Relaxed)
        > 0
    {
        assert!(Instant::now() < deadline, "no thread start was tried");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Not stranded: the thread there takes it once free.
    release.send(()).expect("the job waits for it");
    assert_eq!((block_on(first), block_on(second)), (1, 2));
    let stats = pool.stats();
    assert_eq!((stats.refused, stats.completed, stats.threads), (0, 2, 1));
    pool.begin_shutdown();
    assert_eq!(pool.wait_for_threads(None), Ok(()));
}

/// A waker that panics, as a broken executor's might.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("a waker that panics, on purpose");
    }
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_refused_caller_whose_waker_panics_does_not_keep_the_others_from_their_answer() {
    use crate::pool::job::Job;
    let pool = Arc::new(Pool::with_starter(
        "refused-wakers",
        PoolConfig::elastic(2),
        Starter::inline(),
    ));
    let panicking = std::task::Waker::from(Arc::new(PanickingWaker));
    let counting = Arc::new(CountingWaker::default());
    let (first, _first_handle) = Job::new(|| 1, false, &panicking);
    let (second, mut second_handle) =
        Job::new(|| 2, false, &std::task::Waker::from(Arc::clone(&counting)));
    {
        // Both queued, a thread reserved for them, none started yet.
        let mut state = pool.lock();
        state.queue.push_back(first);
        state.queue.push_back(second);
        state.growth.pushed += 2;
        state.threads = 1;
        state.starting = 1;
        state.to_spawn = 1;
    }
    pool.fail_next_starts(1);
    pool.start_reserved();
    assert_eq!(
        counting.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "woken"
    );
    let outcome = block_on(std::future::poll_fn(|cx| second_handle.poll_outcome(cx)));
    assert!(matches!(
        crate::pool::answered(outcome),
        Err(OffloadError::SpawnFailed { .. })
    ));
    let state = pool.lock();
    assert!(state.queue.is_empty());
    assert_eq!((state.threads, state.starting), (0, 0));
}
