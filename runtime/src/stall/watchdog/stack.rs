//! Where a poll that is still running is: the stack of its thread, taken by the thread
//! itself in a signal handler (see `sys::signal`), turned into names
//! on another thread, and trimmed to the frames that are the user's.
//!
//! Only on Linux with the `stall-stacks` feature, where the handler can be installed and
//! its preconditions hold (see `sys::signal`); `OFFLOAD_STALL_STACKS=0` turns it off.
//! Elsewhere a report about a poll still running comes without a stack.

use std::fmt;
use std::sync::OnceLock;

/// The variable that turns off the stacks of reports about polls still running: `0`.
const STALL_STACKS_ENV: &str = "OFFLOAD_STALL_STACKS";

/// The stack of a thread whose poll has not returned, innermost frame first, without the
/// frames of offload and of the executor around the poll.
///
/// Its [`Display`](fmt::Display) shows one frame a line, the frames inside the standard
/// library (and the C library) at the top as one line (the call the user's code made), and,
/// below the user's first frame, each run of frames of crates that cargo downloaded (an
/// executor's, a web framework's, as their source files tell) as one line that names
/// them. The frames themselves are all kept.
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
        self.function.as_deref().is_none_or(is_library)
    }

    /// Whether the frame is in a crate that cargo downloaded (from a registry or a git
    /// repository), as its source file tells: a dependency's code, not the user's.
    fn is_dependency(&self) -> bool {
        self.file.as_deref().is_some_and(|file| {
            ["/registry/src/", "/git/checkouts/"]
                .iter()
                .any(|part| file.contains(part))
        })
    }
}

/// Whether `function` is a function of the standard library, or a C function (no path):
/// not the user's code, but where the user's code called into them. The rule
/// [`Stack`]'s `Display` follows to show the call the user's code made.
pub(crate) fn is_library(function: &str) -> bool {
    !function.contains("::") || ["std", "core", "alloc"].contains(&crate_of(function))
}

/// The crate whose code a function (a frame's name) is: `axum` for
/// `axum::serve::{{closure}}` and for `<axum::Router as tower::Service>::call`; for a type
/// with no path of its own, the trait's: `std` for
/// `<(&str, u16) as std::net::ToSocketAddrs>::to_socket_addrs`, `axum` for
/// `<F as axum::Handler>::call`.
pub(crate) fn crate_of(function: &str) -> &str {
    let mut path = function.trim_start_matches(['<', '&']);
    for prefix in ["mut ", "dyn "] {
        path = path.strip_prefix(prefix).unwrap_or(path);
    }
    let first = path.split("::").next().unwrap_or(path);
    match first.split_once(" as ") {
        Some((_, trait_path)) => trait_path,
        None => first,
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
                "{indent}{} ({} inside it left out)",
                call.function.as_deref().unwrap_or("<unknown>"),
                Frames(library - 1)
            )?;
            library
        } else {
            0
        };
        // Below the user's first frame, the frames of other crates (an executor's, a web
        // framework's) between the user's, each run of them as one line.
        let mut lines = Vec::new();
        let mut seen_own = false;
        let mut run: Vec<&StackFrame> = Vec::new();
        for frame in &self.frames[shown_from..] {
            let own = !frame.is_dependency() && !frame.is_library();
            if seen_own && !own {
                run.push(frame);
                continue;
            }
            if !run.is_empty() {
                lines.push(left_out(&run));
                run.clear();
            }
            seen_own |= own;
            lines.push(frame.to_string());
        }
        if !run.is_empty() {
            lines.push(left_out(&run));
        }
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{indent}{line}")?;
        }
        Ok(())
    }
}

/// One line for a run of frames of other crates, of the standard library and of the C
/// library: how many, and of which crates other than std's.
fn left_out(run: &[&StackFrame]) -> String {
    let mut crates: Vec<&str> = Vec::new();
    for function in run.iter().filter_map(|frame| frame.function.as_deref()) {
        let name = crate_of(function);
        if !["std", "core", "alloc"].contains(&name) && !crates.contains(&name) {
            crates.push(name);
        }
    }
    match crates.as_slice() {
        [] => format!("({} left out)", Frames(run.len())),
        _ => format!("({} of {} left out)", Frames(run.len()), crates.join(", ")),
    }
}

/// A count of frames: `1 frame`, `3 frames`.
struct Frames(usize);

impl fmt::Display for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 frame"),
            count => write!(f, "{count} frames"),
        }
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
#[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
pub(crate) fn capture(tid: i32) -> Option<Vec<usize>> {
    if unavailable().is_some() {
        return None;
    }
    super::sys::signal::capture(tid, std::time::Duration::from_secs(1))
}

/// No stacks here.
#[cfg(not(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks")))]
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
    #[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
    {
        let why = super::sys::signal::unavailable();
        if let Some(why) = why {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                crate::stall::write_stderr(&format!(
                    "offload: reports on polls still running will come without stacks: {why}"
                ));
            });
        }
        why
    }
    #[cfg(all(
        target_os = "linux",
        not(offload_not_linux),
        not(feature = "stall-stacks")
    ))]
    {
        Some(
            "stacks need the stall-stacks feature (for dev-dependencies: async-offload = { \
             version = \"0.1\", features = [\"stall-stacks\"] })",
        )
    }
    #[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
    {
        Some("stacks are taken on Linux only")
    }
}

/// No names here (nor any address to name).
#[cfg(not(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks")))]
fn symbolize(_ips: &[usize]) -> Vec<StackFrame> {
    Vec::new()
}

/// The frames of the instruction pointers `ips`, innermost first; one per function, so
/// more than one per pointer where functions were inlined.
#[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
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

/// The name of the handler that takes the stack (its frames come first), from the
/// compiler, so that a rename cannot leave it behind.
#[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
pub(super) fn handler() -> &'static str {
    super::sys::signal::handler_name()
}

/// No handler runs elsewhere; no frame has this name.
#[cfg(not(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks")))]
pub(super) fn handler() -> &'static str {
    "\0"
}

/// The name of the guard that times each poll of a `#[no_block]` fn, up to its generic
/// parameters (`…::stall::guard::Guarded<`), from the compiler.
pub(super) fn guard() -> &'static str {
    let name = std::any::type_name::<crate::stall::guard::Guarded<'static, ()>>();
    &name[..=name.find('<').unwrap_or(name.len() - 1)]
}

/// `frames` without the signal handler's at the top (up to the kernel's return trampoline,
/// which follows it), without the outermost `#[no_block]` guard's and those of the
/// executor that called it at the bottom, and without the guards between the user's
/// frames. When the names needed are missing (a binary without symbols), the frames stay.
pub(super) fn trim(mut frames: Vec<StackFrame>) -> Stack {
    let named = |frame: &StackFrame, part: &str| {
        frame
            .function
            .as_deref()
            .is_some_and(|function| function.contains(part))
    };
    let (guard, handler) = (guard(), handler());
    if let Some(outermost) = frames.iter().rposition(|frame| named(frame, guard)) {
        frames.truncate(outermost);
    }
    // The outermost frame that names the handler: the handler itself, below the closure
    // it gives the unwinder (a frame of its own where it is not inlined, as on nightly).
    if let Some(handler) = frames.iter().rposition(|frame| named(frame, handler)) {
        let mut first = handler + 1;
        // The trampoline the handler returns through (`__restore_rt`), named or not.
        if frames.get(first).is_some_and(|frame| {
            frame.function.is_none() || named(frame, "__restore_rt") || named(frame, "sigreturn")
        }) {
            first += 1;
        }
        frames.drain(..first.min(frames.len()));
    }
    frames.retain(|frame| !named(frame, guard));
    Stack { frames }
}
