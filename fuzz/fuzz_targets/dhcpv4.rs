#![no_main]
//! Fuzz target: DHCPv4 messages (UDP payloads). The view, the option
//! walker and the Repr parser must not panic; whatever parses must emit
//! and parse back to the same Repr.
use ethox::wire::dhcpv4::{DhcpPacket, DhcpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The walkers run even on messages the Repr refuses.
    let packet = DhcpPacket::new_unchecked(data);
    if data.len() >= ethox::wire::dhcpv4::HEADER_LEN {
        for option in packet
            .options()
            .chain(packet.file_options())
            .chain(packet.sname_options())
            .flatten()
        {
            let _ = option.value();
        }
    }
    let Ok(packet) = DhcpPacket::new_checked(data) else {
        return;
    };
    let _ = packet.overload();
    let _ = packet.hardware_address_bytes();
    let Ok(repr) = DhcpRepr::parse(&packet) else {
        return;
    };
    let _ = repr.to_string();

    let mut out = [0u8; 8192];
    let len = repr.buffer_len();
    assert!(len >= 300);
    let Some(buf) = out.get_mut(..len) else {
        return;
    };
    repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]))
        .expect("emit of a parsed repr");
    let reparsed = DhcpPacket::new_checked(&out[..len]).and_then(|p| DhcpRepr::parse(&p));
    assert_eq!(reparsed, Ok(repr));
});
