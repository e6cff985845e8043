//! The watchdog's longer tests, kept out of its production files.

mod slot;
mod stack;
