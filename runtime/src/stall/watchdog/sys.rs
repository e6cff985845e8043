//! Everything in the runtime that needs `unsafe`, in one place:
//!
//! - [`StaticRef`], an atomic `Option<&'static T>`: how a thread publishes, for the
//!   watchdog, which `#[no_block]` fn it is polling and where it resumed.
//! - On Linux, the thread's id and the signal that asks a thread for its own stack
//!   ([`signal`]).

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
#[cfg(target_os = "linux")]
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
#[cfg(target_os = "linux")]
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
/// The handler runs on whichever thread receives `SIGURG`. It saves `errno`, asks the
/// kernel for its thread id (`gettid`, a system call), and compares it with the request,
/// which is one atomic word holding the target's id, a sequence number and a phase. Only
/// if it is the target and the phase is "requested" does it move the phase to "writing"
/// (a compare-and-swap: a request the asker has given up meanwhile is not answered), call
/// [`backtrace::trace_unsynchronized`], store each frame's instruction pointer into a
/// static array of atomics (no allocation, no lock), then the count, then the phase
/// "done"; finally it restores `errno`. Another thread, or a late signal, does nothing.
///
/// `trace_unsynchronized` is libgcc's `_Unwind_Backtrace` on Linux, and its callback only
/// reads the frame's instruction pointer. The unwinder reads the stack and the unwind
/// tables; it finds the table of an address with `_dl_find_object`, which the glibc manual
/// documents as AS-Safe, from glibc 2.35 with libgcc 12 on. Older unwinders walk the loaded
/// objects with `dl_iterate_phdr`, which takes the loader's lock: a thread interrupted in
/// `dlopen` would then deadlock in the handler. So stacks are only taken with glibc 2.35
/// or later ([`unwinder_is_signal_safe`]), and the unwinder is run once outside any handler
/// before the first request, so that nothing in it is resolved lazily inside one. libgcc
/// takes a lock of its own only for frames registered by hand (`__register_frame`, which
/// JIT compilers use); a Rust program registers none.
///
/// The handler runs on the thread's own stack (not an alternate one, which is too small to
/// unwind on). `SA_RESTART` restarts most system calls the signal interrupts; the ones
/// that Linux never restarts (`epoll_wait`, `poll`, a socket read with a timeout, ...)
/// return `EINTR`, which code that waits must handle anyway.
#[cfg(target_os = "linux")]
pub(crate) mod signal {
    use std::ffi::{CStr, c_int, c_void};
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::{Duration, Instant};

    /// The signal: ignored by default, so one that arrives with no handler does nothing,
    /// and rarely used (by out-of-band socket data, which a program must ask for).
    const SIGNAL: c_int = libc::SIGURG;

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
        static INSTALLED: OnceLock<Result<(), &'static str>> = OnceLock::new();
        INSTALLED.get_or_init(install).err()
    }

    /// Whether the unwinder may run in a signal handler: see the module's docs.
    fn unwinder_is_signal_safe() -> bool {
        #[cfg(target_env = "gnu")]
        {
            // SAFETY: `gnu_get_libc_version` has no precondition and returns a pointer to a
            // static, NUL-terminated string.
            let version = unsafe { CStr::from_ptr(libc::gnu_get_libc_version()) };
            let mut parts = version
                .to_str()
                .unwrap_or("")
                .split('.')
                .map(|part| part.parse::<u32>().unwrap_or(0));
            let major = parts.next().unwrap_or(0);
            let minor = parts.next().unwrap_or(0);
            (major, minor) >= (2, 35)
        }
        #[cfg(not(target_env = "gnu"))]
        {
            false
        }
    }

    /// Installs the handler, unless the signal already has one (the program's own, which
    /// is left alone) or the unwinder is not safe in a handler.
    fn install() -> Result<(), &'static str> {
        if !unwinder_is_signal_safe() {
            return Err("stacks need glibc 2.35 or later");
        }
        // Run the unwinder once here, outside any handler: whatever it sets up or resolves
        // on its first call is then done.
        let mut frames = 0;
        // SAFETY: the callback only counts; nothing else is unsynchronized here.
        unsafe {
            backtrace::trace_unsynchronized(|_| {
                frames += 1;
                frames < 4
            });
        }
        // SAFETY: `sigaction` is given a valid (zeroed) struct to fill, and a null new one.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above; reading the current disposition changes nothing.
        if unsafe { libc::sigaction(SIGNAL, std::ptr::null(), &mut old) } != 0 {
            return Err("the signal handler could not be read");
        }
        if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            return Err("SIGURG has a handler of the program's own");
        }
        // SAFETY: an all-zero `sigaction` is a valid value (no handler, empty mask).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)
            as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        // SAFETY: `sa_mask` is a valid `sigset_t` to empty; `action` is fully initialized
        // and `on_signal` has the signature `SA_SIGINFO` calls for.
        let installed = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(SIGNAL, &action, std::ptr::null_mut())
        };
        if installed == 0 {
            Ok(())
        } else {
            Err("the signal handler could not be installed")
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
                libc::c_long::from(SIGNAL),
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
}
