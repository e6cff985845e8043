//! Nothing here: the tests of `detect-blocking-calls` are in `tests/calls.rs`.
