//! Lowering the scheduling priority of a pool's threads ([`PoolConfig::nice`]).
//!
//! On Linux the scheduler keeps a nice value per thread, and `setpriority(PRIO_PROCESS, 0,
//! n)` sets the calling thread's (Linux departs from POSIX here: `who == 0` is the calling
//! thread, not the whole process). std has no call for it, hence the one `unsafe` block in
//! this file. Elsewhere there is no per-thread nice value, and nothing is done.
//!
//! [`PoolConfig::nice`]: crate::PoolConfig::nice

#![allow(unsafe_code)]

/// Sets the nice value of the calling thread to `nice` (validated: 1..=19). A thread that
/// already runs at a higher nice value keeps it; any other failure is returned.
#[cfg(all(target_os = "linux", not(offload_not_linux)))]
pub(super) fn lower_current_thread(nice: i32) -> std::io::Result<()> {
    // SAFETY: `setpriority` takes three integers and reads or writes no memory of ours;
    // with `PRIO_PROCESS` and `who == 0` it changes only the calling thread's nice value.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if result == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EACCES) {
        // The thread runs at a higher nice value already, inherited from its process, and
        // going back up takes a privilege the process does not have: its priority is as
        // low as was asked, or lower.
        return Ok(());
    }
    Err(error)
}

/// Does nothing: see the module's docs.
#[cfg(not(all(target_os = "linux", not(offload_not_linux))))]
pub(super) fn lower_current_thread(_nice: i32) -> std::io::Result<()> {
    Ok(())
}
