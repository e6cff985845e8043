//! Tests of the pool that need its private state: the loom models of its protocol (run
//! with `--cfg loom`, see `.ci/run`), and the line of waiting callers at shutdown.

#[cfg(not(loom))]
mod line;
#[cfg(loom)]
mod loom_models;
