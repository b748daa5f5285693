#![no_main]
//! Fuzz target: ipv4 (not written yet; the module's parser is pending).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = data;
});
