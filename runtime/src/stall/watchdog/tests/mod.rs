//! The watchdog's longer tests, kept out of its production files.

#[cfg(any(offload_not_linux, not(target_os = "linux")))]
mod fallback;
mod slot;
mod stack;
