//! `detect-blocking-calls`: the C library's blocking calls made inside a poll of a
//! `#[no_block]` future, reported like a stall however fast they were.
//!
//! # The mechanism, and why
//!
//! The program itself defines `nanosleep`, `read`, `getaddrinfo` and the other blocking
//! entry points of glibc (`sys.rs`; the list is in `StallReport::blocking_call`'s docs,
//! which a unit test keeps equal to `sys.rs`'s). A definition in the executable
//! takes every call the executable's own code makes to that name (std's calls go through
//! the `libc` crate to these very names), and finds the C library's function with
//! `dlsym(RTLD_NEXT, ..)`, which it always calls. This needs no `LD_PRELOAD`, no wrapper
//! around the test binary and no change to the user's code: adding the feature to
//! `[dev-dependencies]` is all. The other ways cost more or see less: `LD_PRELOAD` needs a
//! separate shared library and a launcher; `ptrace` or seccomp see system calls, not
//! which library function made them, and cost a context switch each; patching std's
//! functions is not possible from a crate.
//!
//! Futex waits are seen through `syscall`, which std and parking_lot call for them (glibc
//! has no function for a futex); `filter.rs` decides which of them are reported.
//!
//! What it cannot see: calls made from inside shared libraries to names the executable
//! does not export (the linker exports a definition of the executable only for the names
//! that the shared libraries it links against use; a library loaded later with `dlopen`,
//! or one whose names the executable exports none of, keeps calling glibc's own), system
//! calls made without the C library (inline assembly), and glibc's calls to itself (its
//! `pthread_mutex_lock` waits on a futex inside glibc).
//!
//! # What is reported, and when
//!
//! A thread inside a poll of an instrumented fn (not a pool thread) records each such call
//! that blocks (see `sys.rs` for the test of each: a descriptor with `O_NONBLOCK` never
//! blocks; nor, by default, does a write to stdout or stderr) in fixed-size books, once
//! per call site (the same stack) per poll with a count, at most 16 sites a poll (the calls
//! of further ones only counted). When the poll of the innermost instrumented fn ends, the
//! recorded calls that `filter.rs` keeps, merged by function, std function and C function,
//! become one `StallReport` (see `StallReport::blocking_calls`) that goes where stall
//! reports go. Between polls (the executor's own calls) nothing is looked at.
//!
//! # What it never does
//!
//! A report is never made inside a C function (a panic there would abort): the record is
//! plain data, the report comes when the poll returns. The reporter's own calls (reading
//! the binary's debug information to name the frames, a hook's writes) are made with the
//! thread marked busy, and so are not looked at. Calls before `main` and while a thread
//! exits find the books (a `const` thread-local with nothing to drop) and go straight to
//! the real function. A signal handler gets only async-signal-safe work before its real
//! call (see `sys.rs`). Two copies of this crate with the feature in one program (two
//! semver-incompatible versions of `async-offload-runtime`, each with the feature on) define
//! each name twice, and the program does not link (`duplicate symbol: nanosleep`, tried
//! with two copies of this version): the feature is on in at most one copy. A second copy
//! without the feature defines nothing and links.
//!
//! Only on Linux with glibc, on x86_64 and aarch64 (where the variadic `open`, `openat`,
//! `fcntl` and `syscall` can be defined soundly, see `sys.rs`). Elsewhere, with musl, in a static
//! binary, or with `--cfg offload_no_interpose` (which lets CI build this fallback on
//! Linux), the feature compiles and does nothing.

#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(offload_no_interpose)
))]
mod books;
#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(offload_no_interpose)
))]
mod filter;
#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(offload_no_interpose)
))]
mod sys;
#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(offload_no_interpose)
))]
mod watch;
#[cfg(not(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(offload_no_interpose)
)))]
#[path = "fallback.rs"]
mod watch;

pub(crate) use self::watch::{Watch, unwatched};
