#![no_main]
//! Fuzz target: Ethernet II frames. Parse must not panic; whatever parses
//! must emit back to the same header bytes; parsing an unchecked buffer
//! fails exactly as `check_len`.
use ethox::wire::ethernet::{EthernetFrame, EthernetRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Parse checks the lengths itself (with a shortcut for untagged
    // frames): a buffer check_len refuses fails with its error.
    let unchecked = EthernetRepr::parse(&EthernetFrame::new_unchecked(data));
    let Ok(frame) = EthernetFrame::new_checked(data) else {
        let refused = EthernetFrame::new_unchecked(data).check_len();
        assert_eq!(unchecked.err(), refused.err());
        return;
    };
    assert_eq!(EthernetRepr::parse(&frame), unchecked);
    let Ok(repr) = EthernetRepr::parse(&frame) else {
        return;
    };
    let _ = frame.payload();
    let mut out = [0u8; 18];
    let len = repr.buffer_len();
    repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..len]));
    assert_eq!(&out[..len], &data[..len]);
});
