//! The watchdog's longer tests, kept out of its production files.

#[cfg(any(offload_no_linux_stall, not(target_os = "linux")))]
mod fallback;
mod slot;
mod stack;
