#![no_main]
//! Fuzz target: Ethernet II frames. Parse must not panic; whatever parses
//! must emit back to the same header bytes.
use ethox::wire::ethernet::{EthernetFrame, EthernetRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = EthernetFrame::new_checked(data) else {
        return;
    };
    let Ok(repr) = EthernetRepr::parse(&frame) else {
        return;
    };
    let _ = frame.payload();
    let mut out = [0u8; 18];
    let len = repr.buffer_len();
    repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..len]));
    assert_eq!(&out[..len], &data[..len]);
});
