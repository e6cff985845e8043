//! Where a poll that is still running is: the stack of its thread, taken by the thread
//! itself in a signal handler (see [`raw::signal`](super::raw::signal)), turned into names
//! on another thread, and trimmed to the frames that are the user's.
//!
//! Only on Linux with glibc 2.35 or later; `OFFLOAD_STALL_STACKS=0` turns it off.
//! Elsewhere a report about a poll still running comes without a stack.

use std::fmt;
use std::sync::OnceLock;

/// The variable that turns off the stacks of reports about polls still running: `0`.
pub const STALL_STACKS_ENV: &str = "OFFLOAD_STALL_STACKS";

/// The stack of a thread whose poll has not returned, innermost frame first, without the
/// frames of offload and of the executor around the poll.
///
/// Its [`Display`](fmt::Display) shows one frame a line, and the frames inside the
/// standard library (and the C library) at the top as one line: the call the user's code
/// made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stack {
    /// The frames, innermost first; a function inlined into another has a frame of its own.
    pub frames: Vec<StackFrame>,
}

/// One frame of a [`Stack`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackFrame {
    /// The function, demangled, without its hash; `None` when the binary has no symbol
    /// for it.
    pub function: Option<String>,
    /// The source file, when the binary has debug information for the frame.
    pub file: Option<String>,
    /// The line in `file`.
    pub line: Option<u32>,
}

impl StackFrame {
    /// Whether the frame is inside the standard library or the C library: not the user's
    /// code, but where the user's code called into them.
    fn is_library(&self) -> bool {
        let Some(function) = self.function.as_deref() else {
            return true;
        };
        // `<&mut std::io::Stdin as std::io::Read>::read`: the type's path.
        let mut path = function.trim_start_matches(['<', '&']);
        for prefix in ["mut ", "dyn "] {
            path = path.strip_prefix(prefix).unwrap_or(path);
        }
        ["std::", "core::", "alloc::"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
            || !function.contains("::")
    }
}

impl fmt::Display for StackFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.function.as_deref().unwrap_or("<unknown>"))?;
        if let Some(file) = &self.file {
            write!(f, " at {}", short_path(file))?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Stack {
    /// One frame a line, each indented by the formatter's width (default 4).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indent = " ".repeat(f.width().unwrap_or(4));
        // The library frames at the top, as one line: the outermost of them is the call.
        let library = self
            .frames
            .iter()
            .take_while(|frame| frame.is_library())
            .count();
        let shown_from = if library > 1 && library < self.frames.len() {
            let call = &self.frames[library - 1];
            writeln!(
                f,
                "{indent}{} ({} frames inside it left out)",
                call.function.as_deref().unwrap_or("<unknown>"),
                library - 1
            )?;
            library
        } else {
            0
        };
        for (i, frame) in self.frames[shown_from..].iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{indent}{frame}")?;
        }
        Ok(())
    }
}

/// `path` relative to the current directory when it is under it, else as it is.
fn short_path(path: &str) -> &str {
    static CURRENT: OnceLock<Option<String>> = OnceLock::new();
    let current = CURRENT.get_or_init(|| {
        let dir = std::env::current_dir().ok()?;
        Some(format!("{}/", dir.to_str()?))
    });
    match current {
        Some(prefix) => path.strip_prefix(prefix.as_str()).unwrap_or(path),
        None => path,
    }
}

/// Whether stacks are wanted: not with `OFFLOAD_STALL_STACKS=0` (read once).
pub(crate) fn wanted() -> bool {
    static WANTED: OnceLock<bool> = OnceLock::new();
    *WANTED.get_or_init(|| {
        std::env::var(STALL_STACKS_ENV).map_or(true, |value| {
            !matches!(value.trim(), "0" | "off" | "false" | "no")
        })
    })
}

/// The stack of thread `tid` of this process, as the addresses of its frames; `None` when
/// stacks are off or cannot be taken here, or when the thread did not answer in time.
/// Quick: [`resolve`] does the slow part.
#[cfg(target_os = "linux")]
pub(crate) fn capture(tid: i32) -> Option<Vec<usize>> {
    if !wanted() {
        return None;
    }
    super::raw::signal::capture(tid, std::time::Duration::from_secs(1))
}

/// No stacks here.
#[cfg(not(target_os = "linux"))]
pub(crate) fn capture(_tid: i32) -> Option<Vec<usize>> {
    None
}

/// The stack of the addresses [`capture`] took, named and trimmed.
pub(crate) fn resolve(ips: &[usize]) -> Stack {
    trim(symbolize(ips))
}

/// Why the stacks of this process cannot be taken, if so.
pub(crate) fn unavailable() -> Option<&'static str> {
    if !wanted() {
        return Some("turned off by OFFLOAD_STALL_STACKS=0");
    }
    #[cfg(target_os = "linux")]
    {
        super::raw::signal::unavailable()
    }
    #[cfg(not(target_os = "linux"))]
    {
        Some("stacks are taken on Linux only")
    }
}

/// No names here (nor any address to name).
#[cfg(not(target_os = "linux"))]
fn symbolize(_ips: &[usize]) -> Vec<StackFrame> {
    Vec::new()
}

/// The frames of the instruction pointers `ips`, innermost first; one per function, so
/// more than one per pointer where functions were inlined.
#[cfg(target_os = "linux")]
fn symbolize(ips: &[usize]) -> Vec<StackFrame> {
    let mut frames = Vec::with_capacity(ips.len());
    for &ip in ips {
        let before = frames.len();
        backtrace::resolve(ip as *mut std::ffi::c_void, |symbol| {
            frames.push(StackFrame {
                function: symbol.name().map(|name| format!("{name:#}")),
                file: symbol
                    .filename()
                    .map(|file| file.to_string_lossy().into_owned()),
                line: symbol.lineno(),
            });
        });
        if frames.len() == before {
            frames.push(StackFrame {
                function: None,
                file: None,
                line: None,
            });
        }
    }
    frames
}

/// The name of the handler that takes the stack (its frames come first).
const HANDLER: &str = "async_offload_runtime::stall::raw::signal::on_signal";
/// The name of the guard that times each poll of a `#[no_block]` fn.
const GUARD: &str = "async_offload_runtime::stall::guard::Guarded<";

/// `frames` without the signal handler's at the top (up to the kernel's return trampoline,
/// which follows it), without the outermost `#[no_block]` guard's and those of the
/// executor that called it at the bottom, and without the guards between the user's
/// frames. When the names needed are missing (a binary without symbols), the frames stay.
fn trim(mut frames: Vec<StackFrame>) -> Stack {
    let named = |frame: &StackFrame, part: &str| {
        frame
            .function
            .as_deref()
            .is_some_and(|function| function.contains(part))
    };
    if let Some(outermost) = frames.iter().rposition(|frame| named(frame, GUARD)) {
        frames.truncate(outermost);
    }
    if let Some(handler) = frames.iter().position(|frame| named(frame, HANDLER)) {
        let mut first = handler + 1;
        // The trampoline the handler returns through (`__restore_rt`), named or not.
        if frames.get(first).is_some_and(|frame| {
            frame.function.is_none() || named(frame, "__restore_rt") || named(frame, "sigreturn")
        }) {
            first += 1;
        }
        frames.drain(..first.min(frames.len()));
    }
    frames.retain(|frame| !named(frame, GUARD));
    Stack { frames }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str) -> StackFrame {
        StackFrame {
            function: Some(function.to_owned()),
            file: Some("src/lib.rs".to_owned()),
            line: Some(7),
        }
    }

    #[test]
    fn the_handler_the_guards_and_the_executor_are_trimmed() {
        let frames = vec![
            frame("backtrace::backtrace::libunwind::trace"),
            frame("async_offload_runtime::stall::raw::signal::on_signal"),
            StackFrame {
                function: None,
                file: None,
                line: None,
            },
            frame("std::sys::pal::unix::futex::futex_wait"),
            frame("std::sync::mpmc::Receiver<T>::recv"),
            frame("my_app::wait"),
            frame("my_app::inner::{{closure}}"),
            frame(
                "<async_offload_runtime::stall::guard::Guarded<F> as core::future::future::Future>::poll",
            ),
            frame("my_app::outer::{{closure}}"),
            frame(
                "<async_offload_runtime::stall::guard::Guarded<F> as core::future::future::Future>::poll",
            ),
            frame("tokio::runtime::scheduler::current_thread::CoreGuard::block_on"),
            frame("std::thread::Builder::spawn_unchecked_::{{closure}}"),
        ];
        let names: Vec<_> = trim(frames)
            .frames
            .into_iter()
            .map(|frame| frame.function.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "std::sys::pal::unix::futex::futex_wait",
                "std::sync::mpmc::Receiver<T>::recv",
                "my_app::wait",
                "my_app::inner::{{closure}}",
                "my_app::outer::{{closure}}",
            ]
        );
    }

    /// Many stacks taken of a thread that keeps busy with what could trip a signal handler
    /// up: unwinding (panics caught), its own backtraces, allocation, locks, thread
    /// creation. Each is answered, nothing deadlocks, nothing crashes.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn many_stacks_of_a_busy_thread_are_all_taken() {
        use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
        use std::sync::{Arc, Mutex};
        use std::time::Duration;

        assert_eq!(super::unavailable(), None, "stacks can be taken here");
        let stop = Arc::new(AtomicBool::new(false));
        let tid = Arc::new(AtomicI32::new(0));
        let rounds = Arc::new(AtomicU64::new(0));
        let busy = {
            let (stop, tid, rounds) = (stop.clone(), tid.clone(), rounds.clone());
            std::thread::spawn(move || {
                tid.store(super::super::raw::gettid(), Ordering::SeqCst);
                let lock = Mutex::new(Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    // `resume_unwind` skips the panic hook: nothing is printed.
                    let _ = std::panic::catch_unwind(|| std::panic::resume_unwind(Box::new(7)));
                    let _ = std::backtrace::Backtrace::force_capture();
                    lock.lock()
                        .unwrap()
                        .push(format!("{}", rounds.load(Ordering::Relaxed)));
                    if lock.lock().unwrap().len() > 64 {
                        lock.lock().unwrap().clear();
                        std::thread::spawn(|| 1).join().unwrap();
                    }
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        while tid.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let tid = tid.load(Ordering::SeqCst);
        for i in 0..2_000 {
            let ips = super::super::raw::signal::capture(tid, Duration::from_secs(10))
                .unwrap_or_else(|| panic!("capture {i} was not answered"));
            assert!(!ips.is_empty(), "capture {i} is empty");
            if i % 500 == 0 {
                let stack = resolve(&ips);
                assert!(!stack.frames.is_empty(), "{stack:?}");
            }
        }
        let before = rounds.load(Ordering::Relaxed);
        while rounds.load(Ordering::Relaxed) == before {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
        busy.join().expect("the busy thread survived");
    }

    #[test]
    fn without_names_nothing_is_trimmed() {
        let unknown = StackFrame {
            function: None,
            file: None,
            line: None,
        };
        assert_eq!(trim(vec![unknown.clone(); 3]).frames.len(), 3);
    }

    #[test]
    fn display_shows_the_library_call_on_one_line_then_the_users_frames() {
        let stack = Stack {
            frames: vec![
                frame("syscall"),
                frame("std::sys::pal::unix::futex::futex_wait"),
                frame("<&mut std::io::stdio::StdinRaw as std::io::Read>::read_buf"),
                frame("std::sync::mpmc::Receiver<T>::recv"),
                frame("my_app::wait"),
                frame("my_app::handler::{{closure}}"),
            ],
        };
        assert_eq!(
            stack.to_string(),
            "    std::sync::mpmc::Receiver<T>::recv (3 frames inside it left out)\n    \
             my_app::wait at src/lib.rs:7\n    my_app::handler::{{closure}} at src/lib.rs:7"
        );
        assert_eq!(
            format!("{stack:2}").lines().next(),
            Some("  std::sync::mpmc::Receiver<T>::recv (3 frames inside it left out)")
        );
    }
}
