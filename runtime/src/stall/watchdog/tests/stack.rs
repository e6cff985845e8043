//! Tests of taking, naming and trimming the stack of a stalled thread (`watchdog::stack`).

use crate::stall::watchdog::stack::*;

fn frame(function: &str) -> StackFrame {
    StackFrame {
        function: Some(function.to_owned()),
        file: Some("src/lib.rs".to_owned()),
        line: Some(7),
    }
}

#[test]
fn the_handler_the_guards_and_the_executor_are_trimmed() {
    // `trim` takes the runtime's names from the compiler, as this test does; that they are
    // spelled as the symbols of a real stack is checked by tests/watchdog.rs, which finds
    // no frame of the runtime left in a stack taken of a stalled poll.
    let guard_poll = format!("<{}F> as core::future::future::Future>::poll", guard());
    // The closure the handler gives the unwinder has a frame of its own where it is not
    // inlined (nightly's builds): the handler's frame is the outermost with its name.
    let handler_closure = format!("{}::{{closure#0}}", handler());
    let frames = vec![
        frame(&handler_closure),
        frame("backtrace::backtrace::libunwind::trace"),
        frame(handler()),
        StackFrame {
            function: None,
            file: None,
            line: None,
        },
        frame("std::sys::pal::unix::futex::futex_wait"),
        frame("std::sync::mpmc::Receiver<T>::recv"),
        frame("my_app::wait"),
        frame("my_app::inner::{{closure}}"),
        frame(&guard_poll),
        frame("my_app::outer::{{closure}}"),
        frame(&guard_poll),
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
#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    not(offload_not_linux),
    feature = "stall-stacks"
))]
#[test]
fn many_stacks_of_a_busy_thread_are_all_taken() {
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    assert_eq!(
        crate::stall::watchdog::stack::unavailable(),
        None,
        "stacks can be taken here"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let tid = Arc::new(AtomicI32::new(0));
    let rounds = Arc::new(AtomicU64::new(0));
    let busy = {
        let (stop, tid, rounds) = (stop.clone(), tid.clone(), rounds.clone());
        std::thread::spawn(move || {
            tid.store(crate::stall::watchdog::sys::gettid(), Ordering::SeqCst);
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
        let ips = crate::stall::watchdog::sys::signal::capture(tid, Duration::from_secs(10))
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

/// A frame of `function` in a crate cargo downloaded from the registry.
fn dependency(function: &str) -> StackFrame {
    StackFrame {
        function: Some(function.to_owned()),
        file: Some(format!(
            "/home/me/.cargo/registry/src/index.crates.io-0/{}/src/lib.rs",
            function.split("::").next().unwrap_or_default()
        )),
        line: Some(1),
    }
}

#[test]
fn display_gathers_the_dependencies_frames_below_the_users_first_into_one_line() {
    let stack = Stack {
        frames: vec![
            frame("pread64"),
            frame("std::os::unix::fs::FileExt::read_at"),
            // The driver that made the call stays: it is above the user's first frame.
            dependency("rusqlite::Connection::query_row"),
            frame("my_app::load"),
            dependency("axum::handler::Handler::call::{{closure}}"),
            dependency("tower::util::oneshot::Oneshot<S,Req>::poll"),
            dependency("axum::routing::route::RouteFuture<E>::poll"),
            frame("my_app::serve::{{closure}}"),
            dependency("hyper::server::conn::http1::Connection<I,S>::poll"),
        ],
    };
    let lines: Vec<String> = stack.to_string().lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "    std::os::unix::fs::FileExt::read_at (1 frame inside it left out)",
            "    rusqlite::Connection::query_row at /home/me/.cargo/registry/src/index.crates.io-0/rusqlite/src/lib.rs:1",
            "    my_app::load at src/lib.rs:7",
            "    (3 frames of axum, tower left out)",
            "    my_app::serve::{{closure}} at src/lib.rs:7",
            "    (1 frame of hyper left out)",
        ]
    );
    // The frames themselves are all kept.
    assert_eq!(stack.frames.len(), 9);
}
