//! `detect-blocking-calls`: the entry points that C code linked into the program calls
//! rather than std's (the checked `__*_chk` forms of `_FORTIFY_SOURCE`, `open` without a
//! mode, `fcntl64`, the names without `64`) are reported like std's, and with the same
//! conditions. Each is declared and called here as such C code calls it.

#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_int, c_void};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;

use detect_blocking::{calls, reports_of, shown, temporary, ten_bytes};
use libc::{off_t, off64_t, pollfd, sigset_t, size_t, sockaddr, socklen_t, ssize_t, timespec};

// The C library's declarations of these functions (glibc's headers), which the program's
// definitions of the same names take.
unsafe extern "C" {
    fn fcntl64(fd: c_int, cmd: c_int, ...) -> c_int;
    fn pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    fn __read_chk(fd: c_int, buf: *mut c_void, count: size_t, buflen: size_t) -> ssize_t;
    fn __pread_chk(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: off_t,
        buflen: size_t,
    ) -> ssize_t;
    fn __pread64_chk(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: off64_t,
        buflen: size_t,
    ) -> ssize_t;
    fn __open_2(path: *const c_char, flags: c_int) -> c_int;
    fn __open64_2(path: *const c_char, flags: c_int) -> c_int;
    fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int;
    fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int;
    fn __readlink_chk(
        path: *const c_char,
        buf: *mut c_char,
        size: size_t,
        buflen: size_t,
    ) -> ssize_t;
    fn __readlinkat_chk(
        dirfd: c_int,
        path: *const c_char,
        buf: *mut c_char,
        size: size_t,
        buflen: size_t,
    ) -> ssize_t;
    fn __poll_chk(fds: *mut pollfd, count: libc::nfds_t, timeout: c_int, fdslen: size_t) -> c_int;
    fn __ppoll_chk(
        fds: *mut pollfd,
        count: libc::nfds_t,
        timeout: *const timespec,
        mask: *const sigset_t,
        fdslen: size_t,
    ) -> c_int;
    fn __recv_chk(
        fd: c_int,
        buf: *mut c_void,
        len: size_t,
        buflen: size_t,
        flags: c_int,
    ) -> ssize_t;
    fn __recvfrom_chk(
        fd: c_int,
        buf: *mut c_void,
        len: size_t,
        buflen: size_t,
        flags: c_int,
        address: *mut sockaddr,
        address_len: *mut socklen_t,
    ) -> ssize_t;
}

/// A path as C takes it.
fn c_path(path: &std::path::Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("a path without NUL")
}

/// A poll of one descriptor for reading, as C passes it.
fn readable(fd: c_int) -> [pollfd; 1] {
    [pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }]
}

/// A call of C, returning what the C function returned.
type Call<'a> = Box<dyn FnOnce() -> isize + 'a>;

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn the_checked_forms_and_the_names_without_64_are_reported() {
    let path = ten_bytes("checked");
    let c_file = &c_path(&path);
    let link = temporary("checked-link");
    std::os::unix::fs::symlink(&path, &link).expect("a symbolic link");
    let c_link = c_path(&link);
    let file = std::fs::File::open(&path).expect("the file");
    let fd = file.as_raw_fd();
    // A blocking socket with a datagram for each `recv` and one more for the polls.
    let (sender, receiver) = UnixDatagram::pair().expect("a socket pair");
    for _ in 0..3 {
        sender.send(b"x").expect("a datagram");
    }
    let socket = receiver.as_raw_fd();
    let opens = |open: unsafe extern "C" fn(*const c_char, c_int) -> c_int| -> Call<'_> {
        Box::new(move || {
            // SAFETY: a valid path, and a descriptor closed once.
            unsafe {
                let fd = open(c_file.as_ptr(), libc::O_RDONLY);
                if fd >= 0 {
                    libc::close(fd);
                }
                fd as isize
            }
        })
    };
    let opens_at = |open: unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int| -> Call<'_> {
        Box::new(move || {
            // SAFETY: as in `opens`, relative to the working directory.
            unsafe {
                let fd = open(libc::AT_FDCWD, c_file.as_ptr(), libc::O_RDONLY);
                if fd >= 0 {
                    libc::close(fd);
                }
                fd as isize
            }
        })
    };

    // SAFETY (each call below): buffers of the sizes given, valid paths and descriptors.
    let cases: Vec<(&str, Call<'_>)> = vec![
        (
            "__read_chk",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                __read_chk(fd, buf.as_mut_ptr().cast(), 4, buf.len())
            }),
        ),
        (
            "__pread_chk",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                __pread_chk(fd, buf.as_mut_ptr().cast(), 4, 2, buf.len())
            }),
        ),
        (
            "__pread64_chk",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                __pread64_chk(fd, buf.as_mut_ptr().cast(), 4, 2, buf.len())
            }),
        ),
        (
            "pread",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                pread(fd, buf.as_mut_ptr().cast(), 4, 2)
            }),
        ),
        ("__open_2", opens(__open_2)),
        ("__open64_2", opens(__open64_2)),
        ("__openat_2", opens_at(__openat_2)),
        ("__openat64_2", opens_at(__openat64_2)),
        (
            "__readlink_chk",
            Box::new(|| unsafe {
                let mut buf = [0 as c_char; 256];
                __readlink_chk(c_link.as_ptr(), buf.as_mut_ptr(), buf.len(), buf.len())
            }),
        ),
        (
            "__readlinkat_chk",
            Box::new(|| unsafe {
                let mut buf = [0 as c_char; 256];
                __readlinkat_chk(
                    libc::AT_FDCWD,
                    c_link.as_ptr(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    buf.len(),
                )
            }),
        ),
        (
            "__recv_chk",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                __recv_chk(socket, buf.as_mut_ptr().cast(), 4, buf.len(), 0)
            }),
        ),
        (
            "__recvfrom_chk",
            Box::new(|| unsafe {
                let mut buf = [0u8; 4];
                let null = std::ptr::null_mut();
                __recvfrom_chk(
                    socket,
                    buf.as_mut_ptr().cast(),
                    4,
                    buf.len(),
                    0,
                    null,
                    null.cast(),
                )
            }),
        ),
        (
            "__poll_chk",
            Box::new(|| unsafe {
                let mut fds = readable(socket);
                __poll_chk(fds.as_mut_ptr(), 1, 60_000, size_of_val(&fds)) as isize
            }),
        ),
        (
            "select",
            Box::new(|| unsafe {
                let mut read = std::mem::zeroed::<libc::fd_set>();
                libc::FD_SET(socket, &mut read);
                let mut timeout = libc::timeval {
                    tv_sec: 60,
                    tv_usec: 0,
                };
                let none = std::ptr::null_mut();
                libc::select(socket + 1, &mut read, none, none, &mut timeout) as isize
            }),
        ),
        (
            "pselect",
            Box::new(|| unsafe {
                let mut read = std::mem::zeroed::<libc::fd_set>();
                libc::FD_SET(socket, &mut read);
                let timeout = timespec {
                    tv_sec: 60,
                    tv_nsec: 0,
                };
                let none = std::ptr::null_mut();
                libc::pselect(
                    socket + 1,
                    &mut read,
                    none,
                    none,
                    &timeout,
                    std::ptr::null(),
                ) as isize
            }),
        ),
        (
            "__ppoll_chk",
            Box::new(|| unsafe {
                let mut fds = readable(socket);
                let timeout = timespec {
                    tv_sec: 60,
                    tv_nsec: 0,
                };
                __ppoll_chk(
                    fds.as_mut_ptr(),
                    1,
                    &timeout,
                    std::ptr::null(),
                    size_of_val(&fds),
                ) as isize
            }),
        ),
    ];
    for (name, call) in cases {
        let (result, reports) = reports_of(call).await;
        assert!(
            result >= 0,
            "{name} failed: {}",
            std::io::Error::last_os_error()
        );
        let reported: Vec<_> = calls(&reports).iter().map(|(call, _)| *call).collect();
        assert_eq!(reported, [name], "{}", shown(&reports));
    }
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn waiting_for_a_lock_with_fcntl64_is_reported() {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(ten_bytes("fcntl64"))
        .expect("the file");
    let fd = file.as_raw_fd();
    let (results, reports) = reports_of(|| {
        let lock = libc::flock {
            l_type: libc::F_WRLCK as i16,
            l_whence: libc::SEEK_SET as i16,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        // SAFETY: a valid descriptor, and for `F_SETLKW` a valid lock description.
        unsafe {
            [
                fcntl64(fd, libc::F_GETFL),
                fcntl64(fd, libc::F_SETLKW, &lock),
            ]
        }
    })
    .await;
    assert!(results[0] >= 0 && results[1] == 0, "{results:?}");
    // The lock's wait, not the flags' read.
    let reported: Vec<_> = calls(&reports).iter().map(|(call, _)| *call).collect();
    assert_eq!(reported, ["fcntl64"], "{}", shown(&reports));
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn calls_that_cannot_block_are_not_reported() {
    let (sender, receiver) = UnixDatagram::pair().expect("a socket pair");
    sender.send(b"x").expect("a datagram");
    let socket = receiver.as_raw_fd();
    let (results, reports) = reports_of(|| {
        let mut fds = readable(socket);
        let zero = timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let mut buf = [0u8; 4];
        // SAFETY: buffers of the sizes given, a valid descriptor (below `FD_SETSIZE`).
        unsafe {
            [
                __poll_chk(fds.as_mut_ptr(), 1, 0, size_of_val(&fds)) as isize,
                __ppoll_chk(
                    fds.as_mut_ptr(),
                    1,
                    &zero,
                    std::ptr::null(),
                    size_of_val(&fds),
                ) as isize,
                {
                    let mut read = std::mem::zeroed::<libc::fd_set>();
                    libc::FD_SET(socket, &mut read);
                    let mut zero = libc::timeval {
                        tv_sec: 0,
                        tv_usec: 0,
                    };
                    let none = std::ptr::null_mut();
                    libc::select(socket + 1, &mut read, none, none, &mut zero) as isize
                },
                __recv_chk(
                    socket,
                    buf.as_mut_ptr().cast(),
                    4,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                ),
            ]
        }
    })
    .await;
    assert_eq!(results, [1, 1, 1, 1], "each saw the datagram");
    assert!(reports.is_empty(), "{}", shown(&reports));
}

#[cfg_attr(not(feature = "detect"), ignore = "needs the feature")]
#[tokio::test]
async fn syscall_passes_its_arguments_on_and_reports_only_futex_waits() {
    let path = ten_bytes("syscall");
    let file = std::fs::File::open(&path).expect("the file");
    let fd = file.as_raw_fd();
    let word = std::sync::atomic::AtomicU32::new(7);
    let futex = word.as_ptr();
    let c_file = c_path(&path);
    let (results, reports) = reports_of(|| {
        let mut buf = [0u8; 16];
        // SAFETY: `statx` is plain data, for which all zeros is a valid value.
        let mut status: libc::statx = unsafe { std::mem::zeroed() };
        // A deadline 1 ms from now on the monotonic clock, as `FUTEX_WAIT_BITSET` takes it.
        let mut deadline = timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid `timespec` to write.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut deadline) },
            0
        );
        deadline.tv_nsec += 1_000_000;
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1_000_000_000;
        }
        // SAFETY: each system call with the arguments the kernel documents for it: a valid
        // descriptor and buffer, a futex word that lives through the calls, a valid timeout.
        let (pid, read, status_read, wake, changed, timed_out) = unsafe {
            (
                // No argument.
                libc::syscall(libc::SYS_getpid),
                // Three, a pointer among them.
                libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()),
                // Five, the last a pointer.
                libc::syscall(
                    libc::SYS_statx,
                    libc::AT_FDCWD,
                    c_file.as_ptr(),
                    0,
                    libc::STATX_SIZE,
                    &mut status,
                ),
                // Three: a wake-up of nobody, which never blocks.
                libc::syscall(
                    libc::SYS_futex,
                    futex,
                    libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                    1,
                ),
                // Four: a wait that finds the word changed (not 8), and does not sleep.
                (
                    libc::syscall(
                        libc::SYS_futex,
                        futex,
                        libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                        8,
                        std::ptr::null::<timespec>(),
                    ),
                    std::io::Error::last_os_error().raw_os_error(),
                ),
                // Six, as std waits: a wait until the deadline, which times out.
                (
                    libc::syscall(
                        libc::SYS_futex,
                        futex,
                        libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                        7,
                        &deadline,
                        std::ptr::null::<u32>(),
                        !0u32,
                    ),
                    std::io::Error::last_os_error().raw_os_error(),
                ),
            )
        };
        (
            pid,
            read,
            buf,
            (status_read, status.stx_size),
            wake,
            changed,
            timed_out,
        )
    })
    .await;
    let (pid, read, buf, status, wake, changed, timed_out) = results;
    assert_eq!(pid, i64::from(std::process::id()));
    assert_eq!(read, 10);
    assert_eq!(&buf[..10], b"0123456789");
    assert_eq!(status, (0, 10));
    assert_eq!(wake, 0);
    assert_eq!(changed, (-1, Some(libc::EAGAIN)));
    assert_eq!(timed_out, (-1, Some(libc::ETIMEDOUT)));
    // Only the wait that timed out.
    let reported: Vec<_> = calls(&reports).iter().map(|(call, _)| *call).collect();
    assert_eq!(reported, ["futex"], "{}", shown(&reports));
}
