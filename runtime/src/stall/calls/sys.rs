//! The interposed C functions: everything of `detect-blocking-calls` that needs `unsafe`,
//! in one place. See the [module's docs](super) for the mechanism and its limits.
//!
//! Each function here has the name and the C signature of a function of glibc. Defined in
//! the program, it takes the calls the program's own code (std, and any Rust crate) makes
//! to that name. It finds the C library's own function once with `dlsym(RTLD_NEXT, ..)`
//! (in a constructor that runs before `main`, else at its first call), and always calls
//! it, with the arguments it was given.
//!
//! Before the real call a function does only what is safe in a signal handler: it reads
//! the thread's state (one thread-local access, nothing to allocate or initialize) and the
//! cached pointer. Outside an instrumented poll that is all. Inside one, it marks the
//! thread busy (so that calls made by the recording itself are not looked at), reads the
//! monotonic clock, makes the real call, keeps `errno`, decides whether the call blocked
//! (with the real `fcntl(F_GETFL)` and `fstat` for a descriptor), records the call site's
//! stack into fixed-size thread-local books, and puts `errno` back. Nothing here panics,
//! allocates or takes a lock of the program's; the stack is walked as the watchdog walks
//! it in its own signal handler (libgcc's unwinder, see `watchdog/sys.rs`).
//!
//! `open`, `openat` and `fcntl` (and their `64` forms) are variadic in C. They are defined
//! here with their one optional argument as a fixed one (`mode`, `arg`) and passed on to
//! the real functions as a variadic argument. On x86_64 and aarch64 Linux, the only
//! targets this module is built for, a variadic argument travels in the same register as a
//! fixed one of its position, so the value read is the caller's when it passed one, and an
//! unused register otherwise, which the real function then ignores as it would have (it
//! reads `mode` only with `O_CREAT` or `O_TMPFILE`, and `arg` only for the commands that
//! take one). `syscall`, variadic too, with up to six arguments, one of them on the stack
//! on x86_64, is argued where it is defined.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use libc::{
    addrinfo, hostent, iovec, msghdr, pid_t, pthread_t, rusage, size_t, sockaddr, socklen_t,
    ssize_t, timespec,
};

use super::books::{self, MAX_FRAMES, State};

/// The C library's own function of a name, looked up once.
struct Real {
    name: &'static CStr,
    ptr: AtomicPtr<c_void>,
}

impl Real {
    const fn new(name: &'static CStr) -> Real {
        Real {
            name,
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The address of the next definition of the name after the program's, the C
    /// library's; null if there is none (a static binary).
    fn address(&self) -> *mut c_void {
        let cached = self.ptr.load(Ordering::Relaxed);
        if !cached.is_null() {
            return cached;
        }
        let errno = errno();
        // SAFETY: `RTLD_NEXT` with a NUL-terminated name is `dlsym`'s documented use for
        // finding the definition an interposer hides; it reads the name only.
        let found = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) };
        set_errno(errno);
        // Racing threads store the same address.
        self.ptr.store(found, Ordering::Relaxed);
        found
    }

    /// The function, as the pointer type `F`; `None` when it cannot be found.
    ///
    /// # Safety
    ///
    /// `F` must be an `unsafe extern "C" fn` type with the C signature of the function
    /// named `self.name`.
    unsafe fn get<F: Copy>(&self) -> Option<F> {
        const { assert!(size_of::<F>() == size_of::<*mut c_void>()) };
        let address = self.address();
        if address.is_null() {
            return None;
        }
        // SAFETY: `address` is the non-null address of the function named `self.name`,
        // and the caller promises that `F` is a function pointer type of its signature.
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&address) })
    }
}

fn errno() -> c_int {
    // SAFETY: `__errno_location` returns the calling thread's `errno`, valid for the
    // thread's life.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value }
}

/// What an interposed function returns when the C library has no function of its name
/// (never with glibc linked dynamically, the only case this module is built for): `fail`,
/// with `errno` set to `ENOSYS`.
fn unresolved<R>(fail: R) -> R {
    set_errno(libc::ENOSYS);
    fail
}

/// The monotonic clock, in nanoseconds (0 if it cannot be read).
fn now() -> u64 {
    let mut time = timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes into the valid `timespec` it is given; it is
    // async-signal-safe (the vDSO's, with no lock).
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut time) } != 0 {
        return 0;
    }
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(time.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// Makes the real call, and, inside an instrumented poll, records it if `blocked` says,
/// from its result and the `errno` it left, that it was a blocking one.
#[inline(always)]
fn intercepted<R: Copy>(
    call: &'static str,
    real: impl FnOnce() -> R,
    blocked: impl FnOnce(R, c_int) -> bool,
) -> R {
    if books::state() != State::Watching {
        return real();
    }
    // Only now may the books be touched (see `books`' docs on signal handlers).
    books::set_state(State::Busy);
    let start = now();
    let result = real();
    let errno = errno();
    let took = Duration::from_nanos(now().saturating_sub(start));
    if blocked(result, errno) {
        let mut ips = [0usize; MAX_FRAMES];
        let mut len = 0;
        if books::stacks() {
            // SAFETY: unsynchronized with other traces, which is sound on Linux: the callback
            // only stores addresses into a local array, within its bounds. This may run in a
            // signal handler; `stacks()` is true only where the watchdog's run-time checks
            // found an unwinder that takes no lock (glibc's `_dl_find_object`).
            unsafe {
                backtrace::trace_unsynchronized(|frame| {
                    if let Some(slot) = ips.get_mut(len) {
                        *slot = frame.ip() as usize;
                        len += 1;
                    }
                    len < MAX_FRAMES
                });
            }
        }
        books::record(call, took, ips.get(..len).unwrap_or(&[]));
    }
    books::set_state(State::Watching);
    set_errno(errno);
    result
}

/// The real `fcntl`, for the checks below as well as for the interposed `fcntl`.
static FCNTL: Real = Real::new(c"fcntl");
type Fcntl = unsafe extern "C" fn(c_int, c_int, ...) -> c_int;

/// Whether `fd` has `O_NONBLOCK` (a socket of tokio or mio, for one).
fn nonblocking(fd: c_int) -> bool {
    // SAFETY: `Fcntl` is `fcntl`'s C signature.
    let Some(fcntl) = (unsafe { FCNTL.get::<Fcntl>() }) else {
        return false;
    };
    // SAFETY: `F_GETFL` only reads the descriptor's flags; a bad descriptor gives -1.
    let flags = unsafe { fcntl(fd, libc::F_GETFL) };
    flags >= 0 && flags & libc::O_NONBLOCK != 0
}

/// Whether reading or writing (`write`) `fd` is a blocking call: on a regular file or a
/// block device always (`O_NONBLOCK` does not apply to them), on a socket or a pipe
/// without `O_NONBLOCK`; never on anything else (terminals, eventfds, timerfds, /dev/null),
/// nor, for writes, on stdout and stderr unless `OFFLOAD_DETECT_STDIO=1`.
fn data_blocks(fd: c_int, write: bool) -> bool {
    if write && (fd == 1 || fd == 2) && !books::stdio() {
        return false;
    }
    // SAFETY: `stat` is plain data, for which all zeros is a valid value.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `fstat` writes into the valid struct it is given; a bad descriptor gives -1.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return false;
    }
    match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFBLK => true,
        libc::S_IFSOCK | libc::S_IFIFO => !nonblocking(fd),
        _ => false,
    }
}

/// Whether a socket call with `flags` on `fd` could block.
fn socket_blocks(fd: c_int, flags: c_int) -> bool {
    flags & libc::MSG_DONTWAIT == 0 && !nonblocking(fd)
}

/// Defines, for each entry, an interposed function of that name and signature that makes
/// the real call through [`intercepted`], recording it when the expression after `if`
/// (which sees the arguments, the result and, if it names it, the `errno` the call left)
/// holds; `$fail` is what it returns if the real function cannot be found. Also lists the
/// real functions, for [`resolve_all`].
macro_rules! interpose {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;
            via $real:ident, else $fail:expr, if |$result:pat_param $(, $errno:ident)?| $blocked:expr;
    )*) => {
        $(
            static $real: Real = Real::new(
                match CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes()) {
                    Ok(name) => name,
                    Err(_) => panic!("a name without a NUL"),
                },
            );

            $(#[doc = $doc])*
            ///
            /// # Safety
            ///
            /// The C function's own contract for its arguments.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: the type is the C signature of the function of this name.
                let Some(real) = (unsafe { $real.get::<unsafe extern "C" fn($($ty),*) -> $ret>() })
                else {
                    return unresolved($fail);
                };
                intercepted(
                    stringify!($name),
                    // SAFETY: `real` is the C library's function of this name, given the
                    // caller's arguments unchanged: the caller's contract is the call's.
                    || unsafe { real($($arg),*) },
                    |$result, _errno: c_int| {
                        $(let $errno = _errno;)?
                        $blocked
                    },
                )
            }
        )*

        /// The real functions of the entries.
        static PLAIN: &[&Real] = &[$(&$real),*];
    };
}

interpose! {
    /// Sleeping.
    fn nanosleep(request: *const timespec, remain: *mut timespec) -> c_int;
        via NANOSLEEP, else -1, if |_| true;
    /// Sleeping: what `std::thread::sleep` calls with glibc today.
    fn clock_nanosleep(clock: libc::clockid_t, flags: c_int, request: *const timespec, remain: *mut timespec) -> c_int;
        via CLOCK_NANOSLEEP, else libc::ENOSYS, if |_| true;
    /// Sleeping.
    fn usleep(micros: libc::useconds_t) -> c_int;
        via USLEEP, else -1, if |_| true;

    /// Name resolution: what `ToSocketAddrs` calls.
    fn getaddrinfo(node: *const c_char, service: *const c_char, hints: *const addrinfo, res: *mut *mut addrinfo) -> c_int;
        via GETADDRINFO, else libc::EAI_SYSTEM, if |_| true;
    /// Name resolution.
    fn gethostbyname(name: *const c_char) -> *mut hostent;
        via GETHOSTBYNAME, else std::ptr::null_mut(), if |_| true;
    /// Name resolution.
    fn gethostbyname_r(name: *const c_char, ret: *mut hostent, buf: *mut c_char, len: size_t, result: *mut *mut hostent, h_errnop: *mut c_int) -> c_int;
        via GETHOSTBYNAME_R, else libc::ENOSYS, if |_| true;

    /// Reading a file, or a socket or pipe without `O_NONBLOCK`.
    fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t;
        via READ, else -1, if |_| data_blocks(fd, false);
    /// Writing a file, or a socket or pipe without `O_NONBLOCK`.
    fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t;
        via WRITE, else -1, if |_| data_blocks(fd, true);
    /// Reading a file at an offset.
    fn pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
        via PREAD64, else -1, if |_| data_blocks(fd, false);
    /// Writing a file at an offset.
    fn pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
        via PWRITE64, else -1, if |_| data_blocks(fd, true);
    /// Reading into several buffers.
    fn readv(fd: c_int, iov: *const iovec, count: c_int) -> ssize_t;
        via READV, else -1, if |_| data_blocks(fd, false);
    /// Writing from several buffers.
    fn writev(fd: c_int, iov: *const iovec, count: c_int) -> ssize_t;
        via WRITEV, else -1, if |_| data_blocks(fd, true);
    /// Syncing a file to its device.
    fn fsync(fd: c_int) -> c_int;
        via FSYNC, else -1, if |_| true;
    /// Syncing a file's data to its device.
    fn fdatasync(fd: c_int) -> c_int;
        via FDATASYNC, else -1, if |_| true;
    /// A file's metadata: what `std::fs::metadata` and `File::metadata` call with glibc
    /// today.
    fn statx(dirfd: c_int, path: *const c_char, flags: c_int, mask: c_uint, buf: *mut libc::statx) -> c_int;
        via STATX, else -1, if |_| true;
    /// A file's metadata: std's fallback where `statx` is missing.
    fn stat64(path: *const c_char, buf: *mut libc::stat64) -> c_int;
        via STAT64, else -1, if |_| true;
    /// A link's metadata: std's fallback where `statx` is missing.
    fn lstat64(path: *const c_char, buf: *mut libc::stat64) -> c_int;
        via LSTAT64, else -1, if |_| true;

    /// Connecting a socket without `O_NONBLOCK`.
    fn connect(fd: c_int, address: *const sockaddr, len: socklen_t) -> c_int;
        via CONNECT, else -1, if |_| !nonblocking(fd);
    /// Accepting on a socket without `O_NONBLOCK`.
    fn accept(fd: c_int, address: *mut sockaddr, len: *mut socklen_t) -> c_int;
        via ACCEPT, else -1, if |_| !nonblocking(fd);
    /// Accepting on a socket without `O_NONBLOCK`: what `TcpListener::accept` calls.
    fn accept4(fd: c_int, address: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int;
        via ACCEPT4, else -1, if |_| !nonblocking(fd);
    /// Receiving on a socket without `O_NONBLOCK` or `MSG_DONTWAIT`.
    fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
        via RECV, else -1, if |_| socket_blocks(fd, flags);
    /// Receiving, with the sender's address.
    fn recvfrom(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int, address: *mut sockaddr, address_len: *mut socklen_t) -> ssize_t;
        via RECVFROM, else -1, if |_| socket_blocks(fd, flags);
    /// Receiving a message.
    fn recvmsg(fd: c_int, message: *mut msghdr, flags: c_int) -> ssize_t;
        via RECVMSG, else -1, if |_| socket_blocks(fd, flags);
    /// Sending on a socket without `O_NONBLOCK` or `MSG_DONTWAIT`.
    fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
        via SEND, else -1, if |_| socket_blocks(fd, flags);
    /// Sending to an address.
    fn sendto(fd: c_int, buf: *const c_void, len: size_t, flags: c_int, address: *const sockaddr, address_len: socklen_t) -> ssize_t;
        via SENDTO, else -1, if |_| socket_blocks(fd, flags);
    /// Sending a message.
    fn sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> ssize_t;
        via SENDMSG, else -1, if |_| socket_blocks(fd, flags);

    /// Waiting for a child process, unless with `WNOHANG`.
    fn waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t;
        via WAITPID, else -1, if |_| options & libc::WNOHANG == 0;
    /// Waiting for a child process, unless with `WNOHANG`.
    fn wait4(pid: pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t;
        via WAIT4, else -1, if |_| options & libc::WNOHANG == 0;
    /// Waiting for a thread: what `JoinHandle::join` calls.
    fn pthread_join(thread: pthread_t, value: *mut *mut c_void) -> c_int;
        via PTHREAD_JOIN, else libc::ENOSYS, if |_| true;

    /// A file lock, unless with `LOCK_NB`: what `File::lock` calls.
    fn flock(fd: c_int, operation: c_int) -> c_int;
        via FLOCK, else -1, if |_| operation & libc::LOCK_NB == 0;

    /// Reading a file at an offset, under its name without `64` (the same function on
    /// these targets, but a symbol of its own, which C code built without
    /// `_FILE_OFFSET_BITS=64` calls).
    fn pread(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off_t) -> ssize_t;
        via PREAD, else -1, if |_| data_blocks(fd, false);
    /// Writing a file at an offset, under its name without `64`.
    fn pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: libc::off_t) -> ssize_t;
        via PWRITE, else -1, if |_| data_blocks(fd, true);
    /// Changing a file's length: what `File::set_len` calls.
    fn ftruncate64(fd: c_int, length: libc::off64_t) -> c_int;
        via FTRUNCATE64, else -1, if |_| true;
    /// Changing a file's length, under its name without `64`.
    fn ftruncate(fd: c_int, length: libc::off_t) -> c_int;
        via FTRUNCATE, else -1, if |_| true;
    /// Changing the length of a file by its path.
    fn truncate64(path: *const c_char, length: libc::off64_t) -> c_int;
        via TRUNCATE64, else -1, if |_| true;
    /// Changing the length of a file by its path, under its name without `64`.
    fn truncate(path: *const c_char, length: libc::off_t) -> c_int;
        via TRUNCATE, else -1, if |_| true;

    /// Opening a directory: what `std::fs::read_dir` calls.
    fn opendir(path: *const c_char) -> *mut libc::DIR;
        via OPENDIR, else std::ptr::null_mut(), if |_| true;
    /// Opening a directory from a descriptor: what `std::fs::remove_dir_all` calls.
    fn fdopendir(fd: c_int) -> *mut libc::DIR;
        via FDOPENDIR, else std::ptr::null_mut(), if |_| true;
    /// Reading a directory's next entry: what `ReadDir::next` calls.
    fn readdir64(dir: *mut libc::DIR) -> *mut libc::dirent64;
        via READDIR64, else std::ptr::null_mut(), if |_| true;
    /// Reading a directory's next entry, under its name without `64`.
    fn readdir(dir: *mut libc::DIR) -> *mut libc::dirent;
        via READDIR, else std::ptr::null_mut(), if |_| true;
    /// Making a directory: what `std::fs::create_dir` and `create_dir_all` call.
    fn mkdir(path: *const c_char, mode: libc::mode_t) -> c_int;
        via MKDIR, else -1, if |_| true;
    /// Making a directory relative to another.
    fn mkdirat(dirfd: c_int, path: *const c_char, mode: libc::mode_t) -> c_int;
        via MKDIRAT, else -1, if |_| true;
    /// Removing a name: what `std::fs::remove_file` calls.
    fn unlink(path: *const c_char) -> c_int;
        via UNLINK, else -1, if |_| true;
    /// Removing a name relative to a directory: what `std::fs::remove_dir_all` calls.
    fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int;
        via UNLINKAT, else -1, if |_| true;
    /// Removing an empty directory: what `std::fs::remove_dir` calls.
    fn rmdir(path: *const c_char) -> c_int;
        via RMDIR, else -1, if |_| true;
    /// Renaming: what `std::fs::rename` calls.
    fn rename(old: *const c_char, new: *const c_char) -> c_int;
        via RENAME, else -1, if |_| true;
    /// Renaming relative to directories.
    fn renameat(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char) -> c_int;
        via RENAMEAT, else -1, if |_| true;
    /// Renaming relative to directories, with flags.
    fn renameat2(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char, flags: c_uint) -> c_int;
        via RENAMEAT2, else -1, if |_| true;
    /// Making a hard link.
    fn link(old: *const c_char, new: *const c_char) -> c_int;
        via LINK, else -1, if |_| true;
    /// Making a hard link relative to directories: what `std::fs::hard_link` calls.
    fn linkat(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char, flags: c_int) -> c_int;
        via LINKAT, else -1, if |_| true;
    /// Making a symbolic link: what `std::os::unix::fs::symlink` calls.
    fn symlink(target: *const c_char, path: *const c_char) -> c_int;
        via SYMLINK, else -1, if |_| true;
    /// Making a symbolic link relative to a directory.
    fn symlinkat(target: *const c_char, dirfd: c_int, path: *const c_char) -> c_int;
        via SYMLINKAT, else -1, if |_| true;
    /// Reading a symbolic link: what `std::fs::read_link` calls.
    fn readlink(path: *const c_char, buf: *mut c_char, size: size_t) -> ssize_t;
        via READLINK, else -1, if |_| true;
    /// Reading a symbolic link relative to a directory.
    fn readlinkat(dirfd: c_int, path: *const c_char, buf: *mut c_char, size: size_t) -> ssize_t;
        via READLINKAT, else -1, if |_| true;
    /// Resolving a path: what `std::fs::canonicalize` calls.
    fn realpath(path: *const c_char, resolved: *mut c_char) -> *mut c_char;
        via REALPATH, else std::ptr::null_mut(), if |_| true;
    /// Changing a file's mode by its path: what `std::fs::set_permissions` calls.
    fn chmod(path: *const c_char, mode: libc::mode_t) -> c_int;
        via CHMOD, else -1, if |_| true;
    /// Changing an open file's mode: what `File::set_permissions` calls.
    fn fchmod(fd: c_int, mode: libc::mode_t) -> c_int;
        via FCHMOD, else -1, if |_| true;
    /// Changing a file's mode relative to a directory.
    fn fchmodat(dirfd: c_int, path: *const c_char, mode: libc::mode_t, flags: c_int) -> c_int;
        via FCHMODAT, else -1, if |_| true;
    /// Checking a path's access: `access`, which C code calls where Rust reads metadata.
    fn access(path: *const c_char, mode: c_int) -> c_int;
        via ACCESS, else -1, if |_| true;
    /// Checking a path's access relative to a directory.
    fn faccessat(dirfd: c_int, path: *const c_char, mode: c_int, flags: c_int) -> c_int;
        via FACCESSAT, else -1, if |_| true;

    /// Waiting for descriptors, unless with a zero timeout: what
    /// `TcpStream::connect_timeout` calls.
    fn poll(fds: *mut libc::pollfd, count: libc::nfds_t, timeout: c_int) -> c_int;
        via POLL, else -1, if |_| timeout != 0;
    /// Waiting for descriptors, unless with a zero timeout.
    fn pselect(count: c_int, read: *mut libc::fd_set, write: *mut libc::fd_set, except: *mut libc::fd_set, timeout: *const timespec, mask: *const libc::sigset_t) -> c_int;
        via PSELECT, else -1, if |result, errno| waited_for(timeout, result, errno);
    /// Waiting for descriptors, unless with a zero timeout.
    fn ppoll(fds: *mut libc::pollfd, count: libc::nfds_t, timeout: *const timespec, mask: *const libc::sigset_t) -> c_int;
        via PPOLL, else -1, if |result, errno| waited_for(timeout, result, errno);


    // The checked forms of the calls above that C code built with `_FORTIFY_SOURCE` calls
    // instead: the same arguments, and the size of the caller's buffer (`buflen`), which
    // the C library checks. `open`'s two-argument forms are what such code calls when it
    // passes no mode.

    /// `read`, checked.
    fn __read_chk(fd: c_int, buf: *mut c_void, count: size_t, buflen: size_t) -> ssize_t;
        via READ_CHK, else -1, if |_| data_blocks(fd, false);
    /// `pread64`, checked.
    fn __pread64_chk(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off64_t, buflen: size_t) -> ssize_t;
        via PREAD64_CHK, else -1, if |_| data_blocks(fd, false);
    /// `pread`, checked.
    fn __pread_chk(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off_t, buflen: size_t) -> ssize_t;
        via PREAD_CHK, else -1, if |_| data_blocks(fd, false);
    /// `recv`, checked.
    fn __recv_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int) -> ssize_t;
        via RECV_CHK, else -1, if |_| socket_blocks(fd, flags);
    /// `recvfrom`, checked.
    fn __recvfrom_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int, address: *mut sockaddr, address_len: *mut socklen_t) -> ssize_t;
        via RECVFROM_CHK, else -1, if |_| socket_blocks(fd, flags);
    /// `readlink`, checked.
    fn __readlink_chk(path: *const c_char, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t;
        via READLINK_CHK, else -1, if |_| true;
    /// `readlinkat`, checked.
    fn __readlinkat_chk(dirfd: c_int, path: *const c_char, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t;
        via READLINKAT_CHK, else -1, if |_| true;
    /// `poll`, checked.
    fn __poll_chk(fds: *mut libc::pollfd, count: libc::nfds_t, timeout: c_int, fdslen: size_t) -> c_int;
        via POLL_CHK, else -1, if |_| timeout != 0;
    /// `ppoll`, checked.
    fn __ppoll_chk(fds: *mut libc::pollfd, count: libc::nfds_t, timeout: *const timespec, mask: *const libc::sigset_t, fdslen: size_t) -> c_int;
        via PPOLL_CHK, else -1, if |result, errno| waited_for(timeout, result, errno);
    /// `open` without a mode, checked.
    fn __open_2(path: *const c_char, flags: c_int) -> c_int;
        via OPEN_2, else -1, if |_| true;
    /// `open64` without a mode, checked.
    fn __open64_2(path: *const c_char, flags: c_int) -> c_int;
        via OPEN64_2, else -1, if |_| true;
    /// `openat` without a mode, checked.
    fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int;
        via OPENAT_2, else -1, if |_| true;
    /// `openat64` without a mode, checked.
    fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int;
        via OPENAT64_2, else -1, if |_| true;
}

/// Whether a wait with the timeout `timeout` (none: for ever), which returned `result`
/// with `errno`, may have blocked: a timeout other than zero, read only if the call read it
/// (it returned, or a signal interrupted its wait), so that a bad pointer the kernel
/// refused (`EFAULT`) is not read here.
fn waited_for(timeout: *const timespec, result: c_int, errno: c_int) -> bool {
    if result < 0 && errno != libc::EINTR {
        return false;
    }
    // SAFETY: null, or a `timespec` that the real call has just read without a fault (it
    // does not change it).
    match unsafe { timeout.as_ref() } {
        Some(timeout) => timeout.tv_sec != 0 || timeout.tv_nsec != 0,
        None => true,
    }
}

static SELECT: Real = Real::new(c"select");

/// Waiting for descriptors, unless with a zero timeout. Linux writes the time left into
/// `timeout`, so whether the call may wait is read before it.
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn select(
    count: c_int,
    read: *mut libc::fd_set,
    write: *mut libc::fd_set,
    except: *mut libc::fd_set,
    timeout: *mut libc::timeval,
) -> c_int {
    type Select = unsafe extern "C" fn(
        c_int,
        *mut libc::fd_set,
        *mut libc::fd_set,
        *mut libc::fd_set,
        *mut libc::timeval,
    ) -> c_int;
    // SAFETY: `Select` is the C signature of `select`.
    let Some(real) = (unsafe { SELECT.get::<Select>() }) else {
        return unresolved(-1);
    };
    // Read only inside a poll, where it matters (elsewhere a bad pointer stays the
    // kernel's to refuse). SAFETY: a timeout given to `select` is null or points to a valid
    // `timeval`, which the real call reads too.
    let waits = books::state() == State::Watching
        && match unsafe { timeout.as_ref() } {
            Some(timeout) => timeout.tv_sec != 0 || timeout.tv_usec != 0,
            None => true,
        };
    // SAFETY: the caller's arguments, passed on unchanged: the caller's contract is the
    // call's.
    intercepted(
        "select",
        || unsafe { real(count, read, write, except, timeout) },
        |_, _| waits,
    )
}

/// Opening a file (variadic in C: see the module's docs).
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { open_with(&OPEN, "open", path, flags, mode) }
}

/// Opening a file: what `File::open` calls with glibc (variadic in C).
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { open_with(&OPEN64, "open64", path, flags, mode) }
}

static OPEN: Real = Real::new(c"open");
static OPEN64: Real = Real::new(c"open64");
static OPENAT: Real = Real::new(c"openat");
static OPENAT64: Real = Real::new(c"openat64");

/// `open` or `open64`, as `real`.
///
/// # Safety
///
/// `real` is `open` or `open64`; the arguments are the caller's.
#[inline(always)]
unsafe fn open_with(
    real: &Real,
    call: &'static str,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    type Open = unsafe extern "C" fn(*const c_char, c_int, ...) -> c_int;
    // SAFETY: `Open` is the C signature of `open` and `open64`.
    let Some(real) = (unsafe { real.get::<Open>() }) else {
        return unresolved(-1);
    };
    // SAFETY: the caller's arguments, passed on as the caller passed them; `mode` as the
    // variadic argument, read by the real function only when the caller passed one.
    intercepted(call, || unsafe { real(path, flags, mode) }, |_, _| true)
}

/// Opening a file relative to a directory (variadic in C).
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { openat_with(&OPENAT, "openat", dirfd, path, flags, mode) }
}

/// Opening a file relative to a directory (variadic in C).
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { openat_with(&OPENAT64, "openat64", dirfd, path, flags, mode) }
}

/// `openat` or `openat64`, as `real`.
///
/// # Safety
///
/// `real` is `openat` or `openat64`; the arguments are the caller's.
#[inline(always)]
unsafe fn openat_with(
    real: &Real,
    call: &'static str,
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    type OpenAt = unsafe extern "C" fn(c_int, *const c_char, c_int, ...) -> c_int;
    // SAFETY: `OpenAt` is the C signature of `openat` and `openat64`.
    let Some(real) = (unsafe { real.get::<OpenAt>() }) else {
        return unresolved(-1);
    };
    // SAFETY: as in `open_with`.
    intercepted(
        call,
        || unsafe { real(dirfd, path, flags, mode) },
        |_, _| true,
    )
}

/// File control (variadic in C: see the module's docs); waiting for a lock with
/// `F_SETLKW` or `F_OFD_SETLKW` is a blocking call.
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { fcntl_with(&FCNTL, "fcntl", fd, cmd, arg) }
}

/// File control with 64-bit offsets in its locks (variadic in C): what C code built with
/// `_FILE_OFFSET_BITS=64` or `_TIME_BITS=64` calls; the same as `fcntl` on these targets.
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    // SAFETY: the caller's arguments, passed on as the caller passed them.
    unsafe { fcntl_with(&FCNTL64, "fcntl64", fd, cmd, arg) }
}

static FCNTL64: Real = Real::new(c"fcntl64");

/// `fcntl` or `fcntl64`, as `real`.
///
/// # Safety
///
/// `real` is `fcntl` or `fcntl64`; the arguments are the caller's.
#[inline(always)]
unsafe fn fcntl_with(
    real: &Real,
    call: &'static str,
    fd: c_int,
    cmd: c_int,
    arg: c_ulong,
) -> c_int {
    // SAFETY: `Fcntl` is the C signature of `fcntl` and `fcntl64`.
    let Some(real) = (unsafe { real.get::<Fcntl>() }) else {
        return unresolved(-1);
    };
    // SAFETY: the caller's arguments, passed on as the caller passed them; `arg` as the
    // variadic argument (an `int` or a pointer, in a register of this width).
    intercepted(
        call,
        || unsafe { real(fd, cmd, arg) },
        |_, _| cmd == libc::F_SETLKW || cmd == libc::F_OFD_SETLKW,
    )
}

static SYSCALL: Real = Real::new(c"syscall");

/// A system call by its number: what std's `Mutex`, `RwLock`, `Condvar`, `Once`,
/// `thread::park` (so `mpsc` and `block_on`) and parking_lot call to wait on a futex, the
/// only system call looked at here; every other number goes straight to the real function.
///
/// `syscall` is variadic in C, `long syscall(long number, ...)`, with at most six `long`
/// arguments after the number. It is defined here with all six as fixed ones, and passes
/// all six on as variadic ones. That reads, for a caller that passed fewer, values it did
/// not pass, which the real function reads too (it passes all six to the kernel) and the
/// kernel ignores for a call that takes fewer. It holds on the two targets this module is
/// built for, where a variadic argument is where a fixed one of its position would be:
/// on x86_64 (System V) the number and the first five arguments in `rdi`, `rsi`, `rdx`,
/// `rcx`, `r8` and `r9`, the sixth on the stack just above the return address, and `al`,
/// which a variadic call sets to the count of vector registers used, ignored by a fixed
/// signature; on aarch64 Linux (AAPCS64, unlike Apple's variant) all seven in `x0`-`x6`.
/// The tests call it with 0, 3, 4, 5 and 6 arguments, pointers among them, on both
/// targets.
///
/// # Safety
///
/// The C function's own contract for its arguments.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn syscall(
    number: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    type Syscall = unsafe extern "C" fn(c_long, ...) -> c_long;
    // SAFETY: `Syscall` is the C signature of `syscall`.
    let Some(real) = (unsafe { SYSCALL.get::<Syscall>() }) else {
        return unresolved(-1);
    };
    // SAFETY: the caller's arguments, passed on as the caller passed them (see above).
    let call = || unsafe { real(number, a1, a2, a3, a4, a5, a6) };
    if number != libc::SYS_futex {
        return call();
    }
    // The futex operation is the second argument, an `int`.
    intercepted(super::filter::FUTEX, call, |result, errno| {
        futex_waited(a2 as c_int, result, errno)
    })
}

/// Whether a futex operation `op` that returned `result` waited: one of the operations
/// that sleep until a wake-up (or a timeout), unless it returned at once because the
/// futex no longer held the value expected (`EAGAIN` in `errno`).
fn futex_waited(op: c_int, result: c_long, errno: c_int) -> bool {
    let waits = matches!(
        op & libc::FUTEX_CMD_MASK,
        libc::FUTEX_WAIT
            | libc::FUTEX_WAIT_BITSET
            | libc::FUTEX_LOCK_PI
            | libc::FUTEX_LOCK_PI2
            | libc::FUTEX_WAIT_REQUEUE_PI
    );
    waits && !(result == -1 && errno == libc::EAGAIN)
}

/// Every real function looked up here: those of [`interpose!`], and of the variadic ones.
fn interposed() -> impl Iterator<Item = &'static Real> {
    PLAIN.iter().copied().chain([
        &FCNTL, &FCNTL64, &OPEN, &OPEN64, &OPENAT, &OPENAT64, &SELECT, &SYSCALL,
    ])
}

/// Looks up every real function, so that none is looked up later inside a signal handler
/// (`dlsym` is not async-signal-safe); what a call looks up itself otherwise.
extern "C" fn resolve_all() {
    for real in interposed() {
        real.address();
    }
}

/// Runs [`resolve_all`] before `main`, with the program's other constructors (the C
/// library is initialized by then).
#[used]
// SAFETY: `.init_array` holds pointers to functions taking no arguments that the
// loader calls once at start-up; `resolve_all` is one, and does not rely on Rust's
// runtime being set up (no allocation, no thread-local, no panic).
#[unsafe(link_section = ".init_array")]
static RESOLVE_ALL: extern "C" fn() = resolve_all;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The C functions that `StallReport::blocking_call`'s docs list as looked at.
    fn documented() -> BTreeSet<String> {
        let source = include_str!("../report.rs");
        // The list: from its first item to the end of its paragraph.
        let list = source
            .lines()
            .map(str::trim)
            .skip_while(|line| *line != "/// # The calls looked at")
            .skip_while(|line| !line.starts_with("/// - "))
            .take_while(|line| *line != "///");
        list.flat_map(|line| line.split('`').skip(1).step_by(2))
            // Flags (`O_NONBLOCK`) and variables (`OFFLOAD_DETECT_STDIO=1`) are conditions.
            .filter(|word| {
                word.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_docs_list_exactly_the_interposed_functions() {
        let interposed: BTreeSet<String> = super::interposed()
            .map(|real| real.name.to_str().expect("an ASCII name").to_owned())
            .collect();
        let documented = documented();
        assert!(interposed.len() > 60, "{interposed:?}");
        let undocumented: Vec<_> = interposed.difference(&documented).collect();
        let not_interposed: Vec<_> = documented.difference(&interposed).collect();
        assert!(
            undocumented.is_empty() && not_interposed.is_empty(),
            "interposed but not in StallReport::blocking_call's docs: {undocumented:?}; \
             in the docs but not interposed: {not_interposed:?}"
        );
    }
}
