//! The fuzz harnesses, shared by the targets in `fuzz_targets/` and by
//! `ethox/tests/fuzz_regressions.rs`, which replays the inputs that once
//! crashed them in a normal `cargo test`. Only `ethox` and `std` are used
//! here, so both crates can include these files by path.
#![allow(dead_code)]

pub mod clean;
pub mod stack_rx;
#[path = "../../ethox/tests/common/tcp_host.rs"]
pub mod tcp_host;
pub mod tcp_pair;
