//! The blocking calls a report lists (`detect-blocking-calls`): one per call site of the
//! poll, and how a person reads them.

use std::fmt;
use std::time::Duration;

use super::report::Millis;
use super::watchdog::Stack;
use super::watchdog::stack::is_library;

/// The most call sites one poll records (before the reports are made, which leave some
/// out: see `calls/filter.rs`); the calls of further sites are only counted.
pub(crate) const MAX_CALL_SITES: usize = 16;

/// The calls of a C library's blocking function made from one place (the same stack) in a
/// poll of a `#[no_block]` fn, with the opt-in feature `detect-blocking-calls`; see
/// [`StallReport::blocking_calls`](super::StallReport::blocking_calls).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockingCall {
    /// The C function, like `"clock_nanosleep"` or `"read"`; `"futex"` for a futex wait.
    pub call: &'static str,
    /// How many times the poll made the call from this place.
    pub count: u32,
    /// The time the calls took, added up.
    pub took: Duration,
    /// The stack of the call, innermost first, the C function first; where stacks cannot
    /// be taken (see [`StallReport::stack`](super::StallReport::stack)), only that frame.
    pub stack: Stack,
}

impl BlockingCall {
    /// The function of the standard library (or of the C library) that the user's code
    /// called and that made the call, where the stack tells: `std::thread::sleep`,
    /// `std::fs::read`, `std::sync::mpsc::Receiver<T>::recv`. The outermost of the frames
    /// of `std`, `core`, `alloc` and of unnamed functions at the top of the stack.
    pub fn from(&self) -> Option<&str> {
        let library = self.library_frames();
        // The C function itself is the first; one of std's must follow it.
        if library < 2 {
            return None;
        }
        self.stack.frames.get(library - 1)?.function.as_deref()
    }

    /// The function that called into the standard library or the C library: the first
    /// frame below [`from`](Self::from), usually the user's code (or a crate's, like a
    /// database driver's); of a closure or an `async` block, the function it is in.
    pub fn caller(&self) -> Option<&str> {
        let function = self
            .stack
            .frames
            .get(self.library_frames())?
            .function
            .as_deref()?;
        let mut function = function;
        while let Some(outer) = function.strip_suffix("::{{closure}}") {
            function = outer;
        }
        Some(function)
    }

    /// How many frames at the top of the stack are the libraries' (the C function's
    /// first).
    fn library_frames(&self) -> usize {
        self.stack
            .frames
            .iter()
            .take_while(|frame| frame.function.as_deref().is_some_and(is_library))
            .count()
    }
}

impl fmt::Display for BlockingCall {
    /// `read (from std::fs::read) in service::load, 3 calls, 0.2 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.call)?;
        if let Some(from) = self.from() {
            write!(f, " (from {from})")?;
        }
        if let Some(caller) = self.caller() {
            write!(f, " in {caller}")?;
        }
        match self.count {
            1 => write!(f, ", 1 call, {}", Millis(self.took)),
            count => write!(f, ", {count} calls, {}", Millis(self.took)),
        }
    }
}

/// Writes the report of a poll's blocking calls, `calls`, and of `not_recorded` more (one
/// of them at least), made in `function` between `span` (its second line), for
/// [`StallReport`](super::StallReport)'s `Display`.
pub(super) fn write_report(
    f: &mut fmt::Formatter<'_>,
    function: &str,
    calls: &[BlockingCall],
    not_recorded: u32,
    span: fmt::Arguments<'_>,
) -> fmt::Result {
    let took: Duration = calls.iter().map(|call| call.took).sum();
    match calls {
        [] => writeln!(
            f,
            "blocking calls in {function}: {not_recorded} inside a poll of this #[no_block] \
             fn, at call sites past the {MAX_CALL_SITES} a poll records; they are reported \
             however fast they were"
        )?,
        [call] => {
            write!(f, "blocking call in {function}: {}", call.call)?;
            if let Some(from) = call.from() {
                write!(f, " (from {from})")?;
            }
            write!(f, " took {}", Millis(call.took))?;
            if call.count > 1 {
                write!(f, " in {} calls", call.count)?;
            }
            writeln!(
                f,
                " inside a poll of this #[no_block] fn; it is reported however fast it was"
            )?;
        }
        _ => {
            writeln!(
                f,
                "blocking calls in {function}: {} call sites, {} in all, inside a poll of this \
                 #[no_block] fn; they are reported however fast they were",
                calls.len(),
                Millis(took)
            )?;
        }
    }
    writeln!(f, "  {span}")?;
    if calls.len() > 1 {
        for (number, call) in calls.iter().enumerate() {
            writeln!(f, "  {}. {call}", number + 1)?;
        }
    }
    if not_recorded > 0 && !calls.is_empty() {
        writeln!(
            f,
            "  and {not_recorded} more, at call sites past the {MAX_CALL_SITES} a poll records"
        )?;
    }
    if let Some(first) = calls.first() {
        writeln!(
            f,
            "  stack of the {}call, innermost first (offload's and the executor's frames \
             left out, other crates' between the user's shown as one line):",
            if calls.len() > 1 { "first " } else { "" }
        )?;
        writeln!(f, "{:4}", first.stack)?;
    }
    f.write_str(
        "  move the blocking call into an #[offload] fn (or run it with async_offload::run): \
         it holds an executor thread for as long as it blocks",
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stall::report::{LocationKind, SourceLocation, StallReport};
    use crate::stall::watchdog::StackFrame;

    /// The calls of `name` from a stack of `functions` (below the C function), each of them
    /// 0.1 ms.
    pub(crate) fn call(name: &'static str, functions: &[&str], count: u32) -> BlockingCall {
        BlockingCall {
            call: name,
            count,
            took: Duration::from_micros(100),
            stack: Stack {
                frames: std::iter::once(name)
                    .chain(functions.iter().copied())
                    .map(|function| StackFrame {
                        function: Some(function.to_owned()),
                        file: None,
                        line: None,
                    })
                    .collect(),
            },
        }
    }

    fn report(calls: Vec<BlockingCall>, not_recorded: u32) -> StallReport {
        let at = |line| SourceLocation {
            file: "src/lib.rs",
            line,
            column: 1,
        };
        StallReport {
            function: "my_app::handler",
            blocked: calls.iter().map(|call| call.took).sum(),
            threshold: Duration::ZERO,
            from: at(1),
            to: at(9),
            from_kind: LocationKind::Start,
            to_kind: LocationKind::End,
            breakdown: Vec::new(),
            preempted: Duration::ZERO,
            still_running: false,
            thread: None,
            stack: calls.first().map(|call| call.stack.clone()),
            blocking_calls: calls,
            blocking_calls_not_recorded: not_recorded,
        }
    }

    #[test]
    fn a_call_names_the_std_function_and_the_caller_outside_its_closures() {
        let read = call(
            "statx",
            &[
                "std::sys::fs::metadata",
                "std::fs::metadata",
                "my_app::handler::{{closure}}::{{closure}}",
                "my_app::serve",
            ],
            3,
        );
        assert_eq!(read.from(), Some("std::fs::metadata"));
        assert_eq!(read.caller(), Some("my_app::handler"));
        assert_eq!(
            read.to_string(),
            "statx (from std::fs::metadata) in my_app::handler, 3 calls, 0.1 ms"
        );
        // A C function called by the user's code directly: no std function.
        let direct = call("__read_chk", &["my_app::ffi"], 1);
        assert_eq!(
            (direct.from(), direct.caller()),
            (None, Some("my_app::ffi"))
        );
    }

    #[test]
    fn a_poll_with_several_call_sites_is_one_report_that_lists_each_once() {
        let calls = vec![
            call("statx", &["std::fs::metadata", "my_app::handler"], 2),
            call(
                "pread64",
                &["std::os::unix::fs::FileExt::read_at", "my_app::handler"],
                1,
            ),
        ];
        let text = report(calls, 0).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "blocking calls in my_app::handler: 2 call sites, 0.2 ms in all, inside a poll of \
             this #[no_block] fn; they are reported however fast they were"
        );
        assert_eq!(
            lines[2],
            "  1. statx (from std::fs::metadata) in my_app::handler, 2 calls, 0.1 ms"
        );
        assert_eq!(
            lines[3],
            "  2. pread64 (from std::os::unix::fs::FileExt::read_at) in my_app::handler, 1 \
             call, 0.1 ms"
        );
        assert!(lines[4].starts_with("  stack of the first call"), "{text}");
        assert!(!text.contains("may be more"), "{text}");
    }

    #[test]
    fn the_calls_past_the_sites_a_poll_records_are_counted_in_the_report() {
        let calls = vec![call("read", &["std::fs::read", "my_app::handler"], 1)];
        let text = report(calls, 3).to_string();
        assert!(
            text.contains("and 3 more, at call sites past the 16 a poll records"),
            "{text}"
        );
        let text = report(Vec::new(), 2).to_string();
        assert!(
            text.starts_with("blocking calls in my_app::handler: 2 inside a poll"),
            "{text}"
        );
    }

    #[test]
    fn one_call_site_keeps_the_one_line_form() {
        let text = report(
            vec![call("read", &["std::fs::read", "my_app::handler"], 2)],
            0,
        )
        .to_string();
        assert!(
            text.starts_with(
                "blocking call in my_app::handler: read (from std::fs::read) took 0.1 ms in 2 \
                 calls inside a poll"
            ),
            "{text}"
        );
    }
}
