#![no_main]
//! Fuzz target: the whole receive path with TCP. A fully configured host
//! with listeners and live connections to a peer the harness plays; the
//! input is a sequence of operations (frames, segments built relative to
//! the live connections' sequence numbers, time steps, application
//! calls, path MTU messages). See `fuzz/harness/stack_rx.rs`.
use libfuzzer_sys::fuzz_target;

#[path = "../harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::stack_rx::Stack::run(data));
