//! What a stall report says, and how a person reads it.

use std::fmt;
use std::time::Duration;

use super::call_sites::{self, BlockingCall};
use super::watchdog::Stack;

/// A place in the source: an `.await`, or the start or end of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// The file, as `file!()` gives it.
    pub file: &'static str,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One poll of a `#[no_block]` future that held its thread longer than the threshold.
///
/// Its [`Display`](fmt::Display) is the message a person reads; the fields are there for a
/// hook ([`set_hook`](crate::stall::set_hook)) or a test
/// ([`collect_stalls`](crate::testing::collect_stalls)) to look at.
///
/// Most reports come from the stalled thread when the poll returns. A report with
/// `still_running` comes from the watchdog's thread while the poll has not returned yet:
/// it names the instrumented fn being polled, the `.await` it resumed from, the time so
/// far, and, where it can be taken, the thread's [`stack`](StallReport::stack).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StallReport {
    /// The instrumented function whose own code (its time outside nested instrumented
    /// functions) held the thread longest in the poll: usually the one that blocked.
    pub function: &'static str,
    /// How long the outermost instrumented poll held the thread (so far, if still running),
    /// without `preempted`.
    pub blocked: Duration,
    /// The threshold the poll exceeded (if still running: the threshold of `function`).
    pub threshold: Duration,
    /// Where `function` resumed in this poll: an `.await`, or its start.
    pub from: SourceLocation,
    /// Where `function` stopped: an `.await`, or its end (if still running: its end).
    pub to: SourceLocation,
    /// What `from` is: `.await` or `start`.
    pub from_kind: LocationKind,
    /// What `to` is: `.await` or `end`.
    pub to_kind: LocationKind,
    /// The own time of each instrumented function in the poll, outermost first (empty if
    /// still running). Like `blocked`, without `preempted`: the platform tells how long the
    /// thread waited to run, not during which function, so each own time leaves out a share
    /// of it in proportion to its length. They add up to at most `blocked`.
    pub breakdown: Vec<(&'static str, Duration)>,
    /// Time left out of `blocked` because the operating system had the thread waiting to
    /// run (preempted by other threads). Zero where the platform cannot tell, and for a
    /// poll too short for the watchdog to have taken the baseline in time.
    pub preempted: Duration,
    /// `true` for a report about a poll that has not returned yet, from the watchdog.
    pub still_running: bool,
    /// The name of the thread the poll ran on, if it has one.
    pub thread: Option<String>,
    /// Where the thread is, for a report with `still_running`, where the stack can be
    /// taken (Linux with the `stall-stacks` feature, where the watchdog's run-time checks of
    /// the C library and the unwinder pass, and the stall signal is free; unless
    /// `OFFLOAD_STALL_STACKS=0`); for the
    /// report of blocking calls, the stack of the first (see
    /// [`blocking_calls`](StallReport::blocking_calls)).
    pub stack: Option<Stack>,
    /// The blocking calls made in the poll (the opt-in feature `detect-blocking-calls`),
    /// one per call site, in the order first made; empty for a stall.
    ///
    /// Such a report is made when the poll in which the calls were made returns, however
    /// fast they were, once per poll (apart from a report of a stall in the same poll):
    /// `blocked` is the time the calls took, added up, `threshold` is zero, `from` and
    /// `to` are the span of `function` in which they were made, `breakdown` is empty.
    /// [`blocking_call`](StallReport::blocking_call) lists what is looked at.
    pub blocking_calls: Vec<BlockingCall>,
    /// With `detect-blocking-calls`, the blocking calls made in the poll at call sites past
    /// the 16 a poll records: counted, not listed. Zero for a stall.
    pub blocking_calls_not_recorded: u32,
}

/// What a [`SourceLocation`] of a report points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LocationKind {
    /// An `.await` of the function's body.
    Await,
    /// The start of the function's body.
    Start,
    /// The end of the function's body (or, when the poll stopped at an `.await` inside a
    /// macro call or a nested block, the rest of the body).
    End,
}

impl LocationKind {
    fn label(self) -> &'static str {
        match self {
            LocationKind::Await => ".await",
            LocationKind::Start => "start",
            LocationKind::End => "end",
        }
    }
}

impl fmt::Display for StallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.blocking_calls.is_empty() || self.blocking_calls_not_recorded > 0 {
            return call_sites::write_report(
                f,
                self.function,
                &self.blocking_calls,
                self.blocking_calls_not_recorded,
                format_args!(
                    "from {} ({}) to {} ({}); thread: {}",
                    self.from,
                    self.from_kind.label(),
                    self.to,
                    self.to_kind.label(),
                    self.thread.as_deref().unwrap_or("<unnamed>")
                ),
            );
        }
        if self.still_running {
            writeln!(
                f,
                "stall in {}: one poll has held the thread for {} so far and has not \
                 returned (threshold {})",
                self.function,
                Millis(self.blocked),
                Millis(self.threshold),
            )?;
            writeln!(
                f,
                "  from {} ({}), still running",
                self.from,
                self.from_kind.label()
            )?;
            f.write_str(" ")?;
        } else {
            writeln!(
                f,
                "stall in {}: one poll held the thread for {} (threshold {})",
                self.function,
                Millis(self.blocked),
                Millis(self.threshold),
            )?;
            writeln!(
                f,
                "  from {} ({}) to {} ({})",
                self.from,
                self.from_kind.label(),
                self.to,
                self.to_kind.label()
            )?;
            f.write_str("  own time: ")?;
            for (i, (function, own)) in self.breakdown.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                write!(f, "{separator}{function} {}", Millis(*own))?;
            }
            f.write_str(";")?;
        }
        if !self.preempted.is_zero() {
            write!(f, " preempted {} (left out);", Millis(self.preempted))?;
        }
        writeln!(
            f,
            " thread: {}",
            self.thread.as_deref().unwrap_or("<unnamed>")
        )?;
        match &self.stack {
            Some(stack) => {
                writeln!(
                    f,
                    "  stack, innermost first (offload's and the executor's frames left out, \
                     other crates' between the user's shown as one line):"
                )?;
                writeln!(f, "{stack:4}")?;
            }
            None if self.still_running => writeln!(
                f,
                "  stack: not taken ({})",
                super::watchdog::stack::unavailable()
                    .unwrap_or("the thread did not answer in time")
            )?,
            None => {}
        }
        f.write_str(
            "  move the blocking call into an #[offload] fn, or raise the threshold with \
             #[no_block(threshold = \"...\")]",
        )
    }
}

impl StallReport {
    /// For the report of blocking calls (the opt-in feature `detect-blocking-calls`), the
    /// C library function of the first (see [`blocking_calls`](Self::blocking_calls)),
    /// like `"clock_nanosleep"` or `"read"` (`"futex"` for a futex wait); `None` for a
    /// stall.
    ///
    /// # The calls looked at
    ///
    /// The calls that the program's own code (std, and any crate linked into the
    /// executable, C code built by a build script included) makes to these functions of the
    /// C library, on a thread inside a poll (not a pool thread), where each counts as
    /// blocking:
    ///
    /// - always: `nanosleep`, `clock_nanosleep`, `usleep` (sleeping); `getaddrinfo`,
    ///   `gethostbyname`, `gethostbyname_r` (name resolution); `pthread_join`; `fsync`,
    ///   `fdatasync`; `open`, `open64`, `openat`, `openat64`, `__open_2`, `__open64_2`,
    ///   `__openat_2`, `__openat64_2`; `statx`, `stat64`, `lstat64`; `ftruncate`,
    ///   `ftruncate64`, `truncate`, `truncate64`; directories and names: `opendir`,
    ///   `fdopendir`, `readdir`, `readdir64`, `mkdir`, `mkdirat`, `rmdir`, `unlink`,
    ///   `unlinkat`, `rename`, `renameat`, `renameat2`, `link`, `linkat`, `symlink`,
    ///   `symlinkat`, `readlink`, `readlinkat`, `__readlink_chk`, `__readlinkat_chk`,
    ///   `realpath`, `chmod`, `fchmod`, `fchmodat`, `access`, `faccessat`;
    /// - on a regular file or a block device, or on a socket or pipe without `O_NONBLOCK`
    ///   (writes to stdout and stderr only with `OFFLOAD_DETECT_STDIO=1`): `read`, `write`,
    ///   `pread`, `pread64`, `pwrite`, `pwrite64`, `readv`, `writev`, `__read_chk`,
    ///   `__pread_chk`, `__pread64_chk`;
    /// - on a socket without `O_NONBLOCK`: `connect`, `accept`, `accept4`; and without
    ///   `MSG_DONTWAIT` either: `recv`, `recvfrom`, `recvmsg`, `send`, `sendto`, `sendmsg`,
    ///   `__recv_chk`, `__recvfrom_chk`;
    /// - without `WNOHANG`: `waitpid`, `wait4`; without `LOCK_NB`: `flock`; with `F_SETLKW`
    ///   or `F_OFD_SETLKW`: `fcntl`, `fcntl64`;
    /// - with a timeout other than zero: `poll`, `ppoll`, `__poll_chk`, `__ppoll_chk`,
    ///   `select`, `pselect`;
    /// - with `SYS_futex`, a wait that slept: `syscall` (see below).
    ///
    /// A futex wait (one that slept, not one that found the value changed) is reported as
    /// `"futex"`: the waits of std's `Mutex`, `RwLock`, `Condvar`, `Once`, `OnceLock`,
    /// `thread::park` (so `mpsc` receives and `futures::executor::block_on`) and of
    /// parking_lot; [`blocking_call_from`](Self::blocking_call_from) names the primitive,
    /// like `std::sync::mpsc::Receiver<T>::recv`. Offload's own waits, and the waits of
    /// tokio's code for its own locks, are never reported. A wait for a lock (a mutex or a
    /// read-write lock) is reported once it has taken 1 ms at one call site in the poll, or
    /// what
    /// `OFFLOAD_DETECT_LOCK_WAITS` says (a duration, `0` for every wait, `off` for none):
    /// a short critical section under contention is not the problem, a lock held across
    /// slow work is. Any other wait is reported however short. Where the stack of a call
    /// cannot be taken (see [`stack`](Self::stack)), futex waits are not reported: they
    /// cannot be told apart.
    ///
    /// Not looked at: `fstat` (a descriptor's metadata, which needs no I/O); calls made
    /// from inside shared libraries, unless to a name that the program's linker exported
    /// for them (it does for the names the libraries linked at build time use, not for one
    /// loaded with `dlopen`); glibc's calls to itself (its `pthread_mutex_lock` waits
    /// inside glibc); other system calls made through `syscall`; and system calls made
    /// without the C library.
    pub fn blocking_call(&self) -> Option<&str> {
        Some(self.blocking_calls.first()?.call)
    }

    /// For the report of blocking calls, the function of the standard library (or of the
    /// C library) that the user's code called and that made the first call, where the
    /// stack tells (see [`BlockingCall::from`]).
    pub fn blocking_call_from(&self) -> Option<&str> {
        self.blocking_calls.first()?.from()
    }

    /// The report on one line, for `warn` mode.
    pub(crate) fn one_line(&self) -> String {
        self.to_string().replace("\n  ", "; ")
    }
}

/// A duration in milliseconds, with one decimal below 100 ms: `48.2 ms`, `120 ms`; from
/// 10 s on, in seconds: `12.0 s`.
pub(super) struct Millis(pub(super) Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_secs_f64() * 1e3;
        if millis >= 10_000.0 {
            write!(f, "{:.1} s", millis / 1e3)
        } else if millis >= 100.0 || millis.fract() == 0.0 {
            write!(f, "{millis:.0} ms")
        } else {
            write!(f, "{millis:.1} ms")
        }
    }
}
