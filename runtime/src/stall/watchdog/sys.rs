//! What the watchdog needs `unsafe` for, in one place (the runtime's other `unsafe` is in
//! the pools' clock and thread priorities, `pool/clock.rs` and `pool/priority.rs`, the
//! lock-free hand-over of a job, `pool/job/exchange.rs`, and the interposed C functions of
//! `detect-blocking-calls`, `stall/calls/sys.rs`):
//!
//! - [`StaticRef`], an atomic `Option<&'static T>`: how a thread publishes, for the
//!   watchdog, which `#[no_block]` fn it is polling and where it resumed.
//! - On Linux, the thread's id, and with the `stall-stacks` feature the signal that asks a
//!   thread for its own stack (`signal`).

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicPtr, Ordering};

/// An atomic `Option<&'static T>`.
pub(crate) struct StaticRef<T: 'static> {
    /// Null, or made from a `&'static T` by [`StaticRef::store`].
    ptr: AtomicPtr<T>,
}

impl<T: Sync + 'static> StaticRef<T> {
    /// `None`.
    pub(crate) const fn none() -> Self {
        StaticRef {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[inline]
    pub(crate) fn store(&self, value: Option<&'static T>, order: Ordering) {
        let ptr = match value {
            Some(value) => std::ptr::from_ref(value).cast_mut(),
            None => std::ptr::null_mut(),
        };
        self.ptr.store(ptr, order);
    }

    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> Option<&'static T> {
        let ptr = self.ptr.load(order);
        // SAFETY: `ptr` is null or was made by `store` from a `&'static T`, so it points to a
        // `T` that lives to the end of the program; nothing writes through it (the `cast_mut`
        // only fits `AtomicPtr`), and `T: Sync`, so sharing the reference between threads
        // is sound.
        unsafe { ptr.as_ref() }
    }
}

impl<T> std::fmt::Debug for StaticRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StaticRef")
            .field(&self.ptr.load(Ordering::Relaxed))
            .finish()
    }
}

/// The id of the calling thread, as the kernel knows it.
#[cfg(all(target_os = "linux", not(offload_not_linux)))]
pub(crate) fn gettid() -> i32 {
    // SAFETY: `gettid` takes no argument, cannot fail, and only returns a number. Called
    // through `syscall`, not its glibc wrapper, which glibc before 2.30 lacks.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    i32::try_from(tid).expect("thread ids fit a pid_t")
}

/// Asks the kernel for a short time slice for the calling thread (100 µs, where Linux 6.12
/// or later schedules with EEVDF): a thread that sleeps most of the time then gets a CPU
/// soon after it wakes, even when every core is busy. Best effort: an older kernel
/// ignores or refuses it, and nothing changes.
#[cfg(all(target_os = "linux", not(offload_not_linux)))]
pub(crate) fn ask_for_short_slices() {
    /// `struct sched_attr` of `sched_setattr(2)`, its first version.
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        sched_policy: u32,
        sched_flags: u64,
        sched_nice: i32,
        sched_priority: u32,
        sched_runtime: u64,
        sched_deadline: u64,
        sched_period: u64,
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        sched_policy: libc::SCHED_OTHER as u32,
        sched_flags: 0,
        sched_nice: 0,
        sched_priority: 0,
        sched_runtime: 100_000,
        sched_deadline: 0,
        sched_period: 0,
    };
    // SAFETY: `sched_setattr` reads `size` bytes of a valid, initialized `sched_attr` for
    // thread 0 (the caller) and changes only that thread's scheduling; it fails harmlessly.
    let _ = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0 as libc::c_long,
            std::ptr::from_ref(&attr),
            0 as libc::c_long,
        )
    };
}

/// Asking a thread for its own stack: a signal whose handler, on that thread, walks the
/// stack into a buffer set aside beforehand; the asking thread reads the buffer and turns
/// it into names (elsewhere, since that allocates and takes locks).
///
/// # What the handler does, and why it is async-signal-safe
///
/// The handler runs on whichever thread receives the signal. It saves `errno`, asks the
/// kernel for its thread id (`gettid`, a system call), and compares it with the request,
/// which is one atomic word holding the target's id, a sequence number and a phase. Only
/// if it is the target and the phase is "requested" does it move the phase to "writing"
/// (a compare-and-swap: a request the asker has given up meanwhile is not answered), call
/// [`backtrace::trace_unsynchronized`], store each frame's instruction pointer into a
/// static array of atomics (no allocation, no lock), then the count, then the phase
/// "done"; finally it restores `errno`. Another thread, or a late signal, does nothing.
///
/// `trace_unsynchronized` is, in `backtrace` 0.3.76 (pinned to that version in
/// `Cargo.toml`: this argument was made by reading it), a direct call of libgcc's
/// `_Unwind_Backtrace` with a callback that builds a `Frame` on the stack and calls ours,
/// whose `ip()` is `_Unwind_GetIP`; nothing else, no lock, no allocation. The unwinder
/// reads the stack and the unwind tables; it finds the table of an address with
/// `_dl_find_object`, which the glibc manual documents as AS-Safe, when libgcc 12 or later
/// was built for glibc 2.35 or later. Older unwinders walk the loaded objects with
/// `dl_iterate_phdr`, which takes the loader's lock: a thread interrupted in `dlopen` would
/// then deadlock in the handler. So before installing the handler, [`preconditions`]
/// checks at run time that glibc is 2.35 or later and that the object that provides
/// `_Unwind_Backtrace` (libgcc_s, or the binary if libgcc is linked in statically) refers
/// to `_dl_find_object`; where either fails, no handler is installed, stacks are off, and
/// the reports say why. The unwinder is also run once outside any handler before the
/// handler is installed, so that nothing in it is resolved lazily inside one. One
/// condition cannot be checked: libgcc 12 takes a lock of its own for frames registered by
/// hand (`__register_frame`, which JIT compilers use, libgcc 13 no longer); a Rust program
/// registers none.
///
/// # Which signal, and a handler of the program's own
///
/// `SIGURG` unless `OFFLOAD_STALL_SIGNAL` names another ([`chosen`]). `SIGURG` is ignored
/// by default, so one that arrives with no handler does nothing, and rarely used (for
/// out-of-band socket data, which a program must ask for). When the signal already has a
/// handler, the program's, offload leaves it in place and takes no stacks: a handler
/// written for the program's own uses of the signal would receive requests it did not
/// expect, or lose its own signals to ours (two of a standard signal pending at once are
/// one), if offload chained to it. The handler is installed only over the default or
/// "ignore", and the disposition it replaces is the one the same `sigaction` call returns:
/// if another thread installed a handler since it was read, that one is put back at once.
///
/// # Where the handler runs
///
/// On an alternate signal stack (`SA_ONSTACK`) of 64 KiB, with a guard page below it,
/// which each thread that polls an instrumented future sets up when it registers its slot
/// ([`AltStack`]): a thread stalled deep in recursion, with little of its own stack left,
/// still has room for the kernel's signal frame and the unwinder. It replaces the one
/// std sets up for its stack-overflow message (smaller, and used the same way by std's
/// handler, which then runs on ours).
///
/// `SA_RESTART` restarts most system calls the signal interrupts (a blocked `read` of a
/// pipe goes on as if nothing happened: `tests/stall_stacks.rs`); the ones that Linux
/// never restarts, listed in the docs of `#[no_block]` (`epoll_wait`, `poll`, a socket
/// read with a timeout, ...), return `EINTR`, which code that waits must handle for any
/// signal.
#[cfg(all(target_os = "linux", not(offload_not_linux), feature = "stall-stacks"))]
pub(crate) mod signal {
    use std::ffi::{CStr, c_int, c_void};
    use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::{Duration, Instant};

    /// The variable that picks the signal.
    const SIGNAL_ENV: &str = "OFFLOAD_STALL_SIGNAL";

    /// The signal, once installed (0 before).
    static SIGNAL: AtomicI32 = AtomicI32::new(0);

    /// The most frames a stack keeps, innermost first.
    pub(crate) const MAX_FRAMES: usize = 128;

    /// The request: `tid << 32 | sequence << 2 | phase`.
    static REQUEST: AtomicU64 = AtomicU64::new(0);
    const IDLE: u64 = 0;
    const REQUESTED: u64 = 1;
    const WRITING: u64 = 2;
    const DONE: u64 = 3;
    const PHASE: u64 = 3;

    /// The instruction pointers of the answer, innermost first.
    static FRAMES: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
    /// How many of `FRAMES` the answer filled.
    static LEN: AtomicUsize = AtomicUsize::new(0);

    /// One request at a time: the buffer is shared.
    static ASKING: Mutex<()> = Mutex::new(());

    /// Why no stack can be taken here, if so; the handler is installed on the first call.
    pub(crate) fn unavailable() -> Option<&'static str> {
        static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
        INSTALLED
            .get_or_init(install)
            .as_ref()
            .err()
            .map(String::as_str)
    }

    /// The signal `OFFLOAD_STALL_SIGNAL` names, and its name: `SIGURG` when it is unset.
    fn chosen() -> Result<(c_int, String), String> {
        let Ok(value) = std::env::var(SIGNAL_ENV) else {
            return Ok((libc::SIGURG, "SIGURG".to_owned()));
        };
        let name = value.trim();
        let short = name.strip_prefix("SIG").unwrap_or(name);
        let signal = match short {
            "URG" => Some(libc::SIGURG),
            "USR1" => Some(libc::SIGUSR1),
            "USR2" => Some(libc::SIGUSR2),
            _ => short
                .strip_prefix("RTMIN+")
                .and_then(|n| n.parse::<c_int>().ok())
                .map(|n| libc::SIGRTMIN() + n)
                .filter(|&signal| signal <= libc::SIGRTMAX()),
        };
        match signal {
            Some(signal) => Ok((signal, format!("SIG{short}"))),
            None => Err(format!(
                "{SIGNAL_ENV}={value} is not SIGURG, SIGUSR1, SIGUSR2 or SIGRTMIN+<n> (up to \
                 SIGRTMAX)"
            )),
        }
    }

    /// Whether what the handler's safety rests on holds here: then a stack may also be
    /// walked inside another signal handler (the interposed calls of
    /// `detect-blocking-calls`). Checked once.
    #[cfg(all(
        feature = "detect-blocking-calls",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(offload_no_interpose)
    ))]
    pub(crate) fn preconditions_hold() -> bool {
        static HOLDS: OnceLock<bool> = OnceLock::new();
        *HOLDS.get_or_init(|| {
            let hold = preconditions().is_ok();
            if hold {
                // Before any interposed call may walk a stack inside a handler.
                warm_up_unwinder();
            }
            hold
        })
    }

    /// Checks what the handler's safety rests on (see the module's docs); says which one
    /// fails.
    fn preconditions() -> Result<(), String> {
        #[cfg(not(target_env = "gnu"))]
        {
            Err("stacks need glibc (its _dl_find_object)".to_owned())
        }
        #[cfg(target_env = "gnu")]
        {
            unsafe extern "C" {
                /// libgcc's unwinder, which `backtrace::trace_unsynchronized` calls.
                fn _Unwind_Backtrace();
            }
            // SAFETY: `gnu_get_libc_version` has no precondition and returns a pointer to a
            // static, NUL-terminated string.
            let version = unsafe { CStr::from_ptr(libc::gnu_get_libc_version()) };
            let version = version.to_str().unwrap_or("");
            let mut parts = version
                .split('.')
                .map(|part| part.parse::<u32>().unwrap_or(0));
            let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            if (major, minor) < (2, 35) {
                return Err(format!("stacks need glibc 2.35 or later, not {version}"));
            }
            // SAFETY: an all-zero `Dl_info` is a valid value for `dladdr` to fill.
            let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
            // SAFETY: `dladdr` only reads the loader's tables for an address (of a function
            // of a loaded object), and fills `info`.
            let found = unsafe { libc::dladdr(_Unwind_Backtrace as *const c_void, &mut info) };
            if found == 0 || info.dli_fname.is_null() {
                return Err("the object that provides _Unwind_Backtrace is unknown".to_owned());
            }
            // SAFETY: the name `dladdr` gives is a NUL-terminated string that lives as long
            // as the object, which provides the unwinder and is never unloaded.
            let unwinder = unsafe { CStr::from_ptr(info.dli_fname) };
            let unwinder = unwinder.to_string_lossy();
            let path = if unwinder.is_empty() {
                // The main program: the loader gives it no name.
                "/proc/self/exe"
            } else {
                &*unwinder
            };
            let bytes = std::fs::read(path)
                .map_err(|error| format!("{path}, the unwinder, could not be read ({error})"))?;
            let name = b"\0_dl_find_object\0";
            if !bytes.windows(name.len()).any(|window| window == name) {
                return Err(format!(
                    "stacks need libgcc 12 or later built for glibc 2.35 or later (an unwinder \
                     that uses _dl_find_object); {path} does not use it"
                ));
            }
            Ok(())
        }
    }

    /// Installs the handler, unless the signal already has one (the program's own, which
    /// is left alone) or a precondition fails.
    fn install() -> Result<(), String> {
        let (signal, name) = chosen()?;
        preconditions()?;
        warm_up_unwinder();
        take_over(signal, &name)?;
        SIGNAL.store(signal, Ordering::Release);
        Ok(())
    }

    /// Runs the unwinder once, outside any signal handler: whatever it sets up or resolves
    /// lazily on its first call (libgcc's own state, the lookup of `_dl_find_object`) is
    /// then done before a handler walks a stack.
    fn warm_up_unwinder() {
        static WARM: OnceLock<()> = OnceLock::new();
        WARM.get_or_init(|| {
            let mut frames = 0;
            // SAFETY: the callback only counts; nothing else is unsynchronized here.
            unsafe {
                backtrace::trace_unsynchronized(|_| {
                    frames += 1;
                    frames < 4
                });
            }
        });
    }

    /// Installs the handler of `signal`, called `name`, unless it has a handler of the
    /// program's own.
    fn take_over(signal: c_int, name: &str) -> Result<(), String> {
        let of_its_own = |old: &libc::sigaction| {
            if is_this_handler(old.sa_sigaction) {
                format!(
                    "{name} is taken by another copy of async-offload in this program (two \
                     versions of it are linked in; `cargo tree -d` shows them): that copy \
                     takes the stacks of its own #[no_block] fns; depend on one version for \
                     stacks in all of them"
                )
            } else {
                format!(
                    "{name} has a handler of the program's own, left in place (set \
                     {SIGNAL_ENV} to a signal the program does not use)"
                )
            }
        };
        // SAFETY: `sigaction` is given a valid (zeroed) struct to fill, and a null new one:
        // reading the current disposition changes nothing.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } != 0 {
            return Err(format!("the disposition of {name} could not be read"));
        }
        let of_the_program = |old: &libc::sigaction| {
            old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN
        };
        if of_the_program(&old) {
            return Err(of_its_own(&old));
        }
        // SAFETY: an all-zero `sigaction` is a valid value (no handler, empty mask).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)
            as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
        // SAFETY: `sa_mask` is a valid `sigset_t` to empty; `action` is fully initialized
        // and `on_signal` has the signature `SA_SIGINFO` calls for. The same call returns
        // the disposition it replaced, into a valid struct.
        let installed = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, &mut old)
        };
        if installed != 0 {
            return Err(format!("the handler of {name} could not be installed"));
        }
        if of_the_program(&old) {
            // Installed by another thread since it was read: put it back.
            // SAFETY: `old` is the disposition `sigaction` just returned, as it was.
            unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            return Err(of_its_own(&old));
        }
        Ok(())
    }

    /// Whether `handler` is this crate's handler, of this copy of the crate or of another
    /// (another version linked into the same program, whose handler has the same path):
    /// named from the binary's symbols, as a stack's frames are. Only when a signal is
    /// found taken, once.
    fn is_this_handler(handler: libc::sighandler_t) -> bool {
        let mut named = false;
        // `resolve` takes return addresses, and looks one byte before the one given: the
        // handler's first byte is found from its second.
        backtrace::resolve((handler + 1) as *mut c_void, |symbol| {
            named |= symbol
                .name()
                .is_some_and(|found| format!("{found:#}") == handler_name());
        });
        named
    }

    /// The calling thread's alternate signal stack, for the handler: see the module's
    /// docs. Removed by [`AltStack::remove`], on the same thread.
    #[derive(Debug)]
    pub(crate) struct AltStack {
        /// The mapping: a guard page, then the stack.
        mapping: usize,
        /// Its length.
        len: usize,
        /// The thread whose alternate stack it is.
        tid: i32,
    }

    impl AltStack {
        /// The usable size: room for the kernel's signal frame (up to about 11 KiB with
        /// the largest register sets of x86-64) and the unwinder, several times over.
        const SIZE: usize = 64 * 1024;

        /// Maps a stack and makes it the calling thread's alternate signal stack; `None`
        /// if either fails (the handler then runs on the thread's stack).
        pub(crate) fn install() -> Option<AltStack> {
            // SAFETY: `sysconf` only reads a system value.
            let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
            let len = page + Self::SIZE;
            // SAFETY: a new private anonymous mapping, at an address the kernel picks: it
            // touches no memory of the program's.
            let mapping = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                    -1,
                    0,
                )
            };
            if mapping == libc::MAP_FAILED {
                return None;
            }
            let stack = AltStack {
                mapping: mapping as usize,
                len,
                tid: super::gettid(),
            };
            let new = libc::stack_t {
                ss_sp: mapping.wrapping_byte_add(page),
                ss_flags: 0,
                ss_size: Self::SIZE,
            };
            // SAFETY: the first page of the mapping just made becomes the guard page, below
            // the stack (which grows down); `new` describes the rest of it, which lives
            // until `remove` takes it off this thread.
            let installed = unsafe {
                libc::mprotect(mapping, page, libc::PROT_NONE) == 0
                    && libc::sigaltstack(&new, std::ptr::null_mut()) == 0
            };
            if installed {
                Some(stack)
            } else {
                // SAFETY: not installed: nothing refers to the mapping.
                unsafe { libc::munmap(mapping, len) };
                None
            }
        }

        /// Takes the stack off the calling thread, if it is still its alternate stack, and
        /// unmaps it. Called on another thread than the one that installed it, it leaks
        /// the stack, which that thread may still use.
        pub(crate) fn remove(self) {
            if super::gettid() != self.tid {
                return;
            }
            // SAFETY: an all-zero `stack_t` is a valid value for `sigaltstack` to fill.
            let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
            let disable = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: reads this thread's alternate stack; if it is this one (std may have
            // disabled it already, at the thread's end), disables it. Not in a handler on
            // it (the thread is here), so it can be. Then nothing uses the mapping, which
            // this struct owns.
            unsafe {
                if libc::sigaltstack(std::ptr::null(), &mut current) == 0
                    && current.ss_flags & libc::SS_DISABLE == 0
                    && (current.ss_sp as usize) > self.mapping
                    && (current.ss_sp as usize) < self.mapping + self.len
                {
                    libc::sigaltstack(&disable, std::ptr::null_mut());
                }
                libc::munmap(self.mapping as *mut c_void, self.len);
            }
        }
    }

    /// The stack of thread `tid` of this process, as the instruction pointers of its
    /// frames, innermost first (the first ones are the handler's own). `None` when it
    /// cannot be taken here, when the thread is gone, or when it did not answer within
    /// `timeout` (it may block the signal, or sleep where signals wait).
    pub(crate) fn capture(tid: i32, timeout: Duration) -> Option<Vec<usize>> {
        if unavailable().is_some() {
            return None;
        }
        let _asking = ASKING.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = REQUEST.load(Ordering::Acquire);
        if previous & PHASE == WRITING {
            // A handler given up on is still writing (see below): it never finished, so
            // the buffer stays out of use.
            return None;
        }
        let sequence = ((previous >> 2).wrapping_add(1)) & 0x3fff_ffff;
        let tag = (u64::from(tid as u32) << 32) | (sequence << 2);
        LEN.store(0, Ordering::Relaxed);
        REQUEST.store(tag | REQUESTED, Ordering::SeqCst);
        let pid = i32::try_from(std::process::id()).expect("process ids fit a pid_t");
        // SAFETY: `tgkill` only sends a signal; it fails (ESRCH) if the thread is gone.
        let sent = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::c_long::from(pid),
                libc::c_long::from(tid),
                libc::c_long::from(SIGNAL.load(Ordering::Acquire)),
            )
        };
        if sent != 0 {
            REQUEST.store(tag | IDLE, Ordering::SeqCst);
            return None;
        }
        let deadline = Instant::now() + timeout;
        loop {
            let state = REQUEST.load(Ordering::Acquire);
            if state == tag | DONE {
                let len = LEN.load(Ordering::Relaxed).min(MAX_FRAMES);
                let frames = FRAMES[..len]
                    .iter()
                    .map(|frame| frame.load(Ordering::Relaxed))
                    .collect();
                REQUEST.store(tag | IDLE, Ordering::SeqCst);
                return Some(frames);
            }
            if Instant::now() >= deadline {
                // Give up, unless the handler has started: then it finishes soon.
                if REQUEST
                    .compare_exchange(
                        tag | REQUESTED,
                        tag | IDLE,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                    .is_ok()
                {
                    return None;
                }
            }
            if Instant::now() >= deadline + timeout {
                // A handler that started and did not finish in twice the time: leave the
                // buffer to it for good.
                return None;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// The handler's name as its frame shows it, for trimming it off a stack.
    pub(crate) fn handler_name() -> &'static str {
        std::any::type_name_of_val(&on_signal)
    }

    /// The handler: see the module's docs for what it may do.
    extern "C" fn on_signal(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {
        // SAFETY: `__errno_location` returns the calling thread's `errno`, valid for the
        // thread's life; it is read here and written back at the end.
        let errno = unsafe { *libc::__errno_location() };
        let state = REQUEST.load(Ordering::SeqCst);
        // SAFETY: as in `gettid`; no `expect` here, a handler must not panic.
        let tid = u64::from(unsafe { libc::syscall(libc::SYS_gettid) } as u32);
        if state & PHASE == REQUESTED
            && state >> 32 == tid
            && REQUEST
                .compare_exchange(
                    state,
                    (state & !PHASE) | WRITING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
        {
            let mut len = 0;
            // SAFETY: unsynchronized with other traces, which is sound: the callback only
            // stores into atomics (see the module's docs for the unwinder itself).
            unsafe {
                backtrace::trace_unsynchronized(|frame| match FRAMES.get(len) {
                    Some(slot) => {
                        slot.store(frame.ip() as usize, Ordering::Relaxed);
                        len += 1;
                        len < MAX_FRAMES
                    }
                    None => false,
                });
            }
            LEN.store(len, Ordering::Relaxed);
            REQUEST.store((state & !PHASE) | DONE, Ordering::Release);
        }
        // SAFETY: as above.
        unsafe { *libc::__errno_location() = errno };
    }
    #[cfg(test)]
    mod tests {
        use super::*;

        /// The disposition of `signal`.
        fn disposition(signal: c_int) -> libc::sigaction {
            // SAFETY: as in `take_over`: reading changes nothing.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            assert_eq!(
                unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) },
                0
            );
            old
        }

        extern "C" fn the_programs_own(_: c_int) {}

        #[test]
        fn a_handler_of_the_programs_own_is_left_in_place() {
            // Signals nothing else in this process uses.
            let (free, taken) = (libc::SIGRTMIN() + 6, libc::SIGRTMIN() + 7);
            // SAFETY: an all-zero `sigaction` is valid; the handler does nothing.
            let mut own: libc::sigaction = unsafe { std::mem::zeroed() };
            own.sa_sigaction = the_programs_own as extern "C" fn(c_int) as libc::sighandler_t;
            // SAFETY: `own` is fully initialized.
            assert_eq!(
                unsafe { libc::sigaction(taken, &own, std::ptr::null_mut()) },
                0
            );

            let refused = take_over(taken, "SIGRTMIN+7").unwrap_err();
            assert!(
                refused.starts_with("SIGRTMIN+7 has a handler of the program's own, left in place"),
                "{refused}"
            );
            assert_eq!(disposition(taken).sa_sigaction, own.sa_sigaction);

            take_over(free, "SIGRTMIN+6").expect("installed over the default");
            let ours = disposition(free);
            assert_eq!(
                ours.sa_sigaction,
                on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)
                    as libc::sighandler_t
            );
            let flags = libc::SA_SIGINFO | libc::SA_RESTART;
            assert_eq!(ours.sa_flags & flags, flags);
        }

        #[test]
        fn a_handler_of_another_copy_of_this_crate_is_recognised() {
            // A signal nothing else in this process uses, taken by this crate's handler as
            // another copy of the crate would have taken it: the same path.
            let signal = libc::SIGRTMIN() + 8;
            take_over(signal, "SIGRTMIN+8").expect("installed over the default");
            let refused = take_over(signal, "SIGRTMIN+8").unwrap_err();
            assert!(
                refused.starts_with("SIGRTMIN+8 is taken by another copy of async-offload"),
                "{refused}"
            );
        }
    }
}
