#![no_main]
//! Fuzz target: ARP. Parse must not panic, nor the generic accessors;
//! whatever parses must emit the same 28 bytes and parse back to the same
//! Repr.
use ethox::wire::arp::{ArpPacket, ArpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = ArpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.hardware_type(),
        packet.protocol_type(),
        packet.operation(),
        packet.source_hardware_addr(),
        packet.source_protocol_addr(),
        packet.target_hardware_addr(),
        packet.target_protocol_addr(),
    );
    assert!(packet.packet_len() <= data.len());
    let Ok(repr) = ArpRepr::parse(&packet) else {
        return;
    };
    let _ = repr.to_string();
    let mut out = [0u8; 28];
    let len = repr.buffer_len();
    repr.emit(&mut ArpPacket::new_unchecked(&mut out[..len]));
    assert_eq!(&out[..len], &data[..len]);
    let again = ArpPacket::new_checked(&out[..len]).expect("emitted packet checks");
    assert_eq!(ArpRepr::parse(&again), Ok(repr));
});
