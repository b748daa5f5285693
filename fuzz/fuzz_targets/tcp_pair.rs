#![no_main]
//! Fuzz target: two hosts talking TCP over a link the input controls
//! (deliver, drop, duplicate, reorder, corrupt), with application writes,
//! reads, closes and aborts. TCP must deliver exactly the bytes written,
//! in order, or report an error. See `fuzz/harness/tcp_pair.rs`.
use libfuzzer_sys::fuzz_target;

#[path = "../harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::tcp_pair::Pair::run(data);
});
