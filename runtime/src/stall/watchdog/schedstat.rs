//! How long a thread waited to run: runnable, but not running because the OS ran
//! something else (preempted, or woken while all cores were busy).
//!
//! On Linux it is the second number of `/proc/self/task/<tid>/schedstat`, the thread's
//! run-queue delay, in nanoseconds. The kernel adds a wait to it when the wait ends, when
//! the thread runs again: a thread waiting right now shows none of that wait yet. Time a
//! hypervisor gives the virtual CPU to another guest (steal time) never appears in it: a
//! thread looks like it ran. Elsewhere nothing tells it, and [`RunDelay::open`] is `None`.

use std::time::Duration;

/// Reads one thread's run-queue delay; cheap to read again (one `pread`).
#[derive(Debug)]
pub(crate) struct RunDelay {
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    file: std::fs::File,
}

impl RunDelay {
    /// The reader of thread `tid` of this process, if the platform tells its delay.
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    pub(crate) fn open(tid: i32) -> Option<RunDelay> {
        let file = std::fs::File::open(format!("/proc/self/task/{tid}/schedstat")).ok()?;
        let reader = RunDelay { file };
        // A kernel without scheduler statistics shows zeros; a thread that has run has
        // been given a CPU at least once.
        reader.read_all().filter(|&(_, runs)| runs > 0)?;
        Some(reader)
    }

    /// The thread's run-queue delay since it started.
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    pub(crate) fn read(&self) -> Option<Duration> {
        self.read_all()
            .map(|(delay, _)| Duration::from_nanos(delay))
    }

    /// The run-queue delay in nanoseconds, and how many times the thread got a CPU.
    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    fn read_all(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::FileExt;
        let mut buffer = [0u8; 96];
        let len = self.file.read_at(&mut buffer, 0).ok()?;
        parse(std::str::from_utf8(&buffer[..len]).ok()?)
    }

    /// Nothing tells it here.
    #[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
    pub(crate) fn open(_tid: i32) -> Option<RunDelay> {
        None
    }

    /// Nothing tells it here.
    #[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
    pub(crate) fn read(&self) -> Option<Duration> {
        None
    }
}

/// The delay and the count of a `schedstat` line: `"<cpu ns> <delay ns> <times run>\n"`.
/// (The CPU time is of no use: the kernel brings it up to date only now and then.)
#[cfg_attr(
    not(all(target_os = "linux", not(offload_not_linux))),
    allow(dead_code)
)]
fn parse(line: &str) -> Option<(u64, u64)> {
    let mut numbers = line.split_ascii_whitespace().map(str::parse::<u64>);
    let _cpu = numbers.next()?.ok()?;
    Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_gives_the_delay_and_the_times_run() {
        assert_eq!(parse("193297853 38973177 457\n"), Some((38_973_177, 457)));
        assert_eq!(parse("12 13"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("x 1 2"), None);
    }

    #[cfg(all(target_os = "linux", not(offload_not_linux)))]
    #[test]
    fn a_thread_that_waits_for_a_busy_core_shows_a_delay() {
        let reader =
            RunDelay::open(crate::stall::watchdog::sys::gettid()).expect("schedstat on Linux");
        let before = reader.read().expect("a reading");
        // More busy threads than cores: this thread has to wait for one at some point.
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            for _ in 0..2 * cores {
                scope.spawn(|| {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            let start = std::time::Instant::now();
            while reader.read().expect("a reading") == before {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "no run-queue delay in a minute of a loaded machine"
                );
                std::hint::spin_loop();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
}
