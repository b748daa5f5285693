#![no_main]
//! Fuzz target: ICMPv4 messages (the IPv4 payload). Parse must not panic;
//! whatever parses must emit into a stack buffer and parse back to an
//! equal `Repr`.
//!
//! The checksum is checked as a property instead of gating the parse:
//! random bytes almost never carry a valid one, so parsing with
//! `Offloaded` lets the fuzzer reach the per-type code.
use ethox::wire::ChecksumMode;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Icmpv4Packet::new_checked(data) else {
        assert!(data.len() < 8);
        return;
    };
    // Every accessor must be in bounds on a checked view.
    let _ = (packet.msg_type(), packet.msg_code(), packet.checksum());
    let _ = (packet.echo_ident(), packet.echo_seq_no(), packet.pointer());
    let _ = (
        packet.next_hop_mtu(),
        packet.gateway(),
        packet.rest_of_header(),
    );
    let _ = (packet.rfc4884_length(), packet.data());
    let quoted = packet.quoted_datagram();
    if let Some(extension) = packet.extension() {
        assert_eq!(quoted.len() + extension.len(), packet.data().len());
    }
    let verified = packet.verify_checksum();
    let software = Icmpv4Repr::parse(&packet, ChecksumMode::Software);
    let Ok(repr) = Icmpv4Repr::parse(&packet, ChecksumMode::Offloaded) else {
        assert!(software.is_err());
        return;
    };
    match software {
        Ok(r) => assert!(verified && r == repr),
        Err(e) => assert!(!verified && e == ethox::wire::Error::BadChecksum),
    }
    let _ = repr.to_string();

    let mut out = [0u8; 4096];
    let len = repr.buffer_len();
    assert_eq!(len, data.len());
    let Some(buf) = out.get_mut(..len) else {
        return;
    };
    let mut emitted = Icmpv4Packet::new_unchecked(&mut buf[..]);
    repr.emit(&mut emitted, ChecksumMode::Software).unwrap();
    let emitted = Icmpv4Packet::new_checked(&out[..len]).unwrap();
    assert!(emitted.verify_checksum());
    assert_eq!(
        Icmpv4Repr::parse(&emitted, ChecksumMode::Software),
        Ok(repr)
    );

    // Answering an echo request in place must keep the checksum right.
    if verified && packet.msg_type() == ethox::wire::icmpv4::Icmpv4Type::EchoRequest {
        let mut copy = [0u8; 4096];
        let Some(buf) = copy.get_mut(..data.len()) else {
            return;
        };
        buf.copy_from_slice(data);
        let mut reply = Icmpv4Packet::new_unchecked(&mut buf[..]);
        reply.echo_request_into_reply().unwrap();
        assert!(reply.verify_checksum());
    }
});
