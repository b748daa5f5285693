#![no_main]
//! Fuzz target: UDP datagrams. The first input byte picks the IP family of
//! the pseudo-header (even: IPv4 10.0.0.1 > 10.0.0.2, odd: IPv6 fd00::1 >
//! fd00::2, the addresses of the fixtures); the rest is the datagram.
//! Parse must not panic; whatever parses must emit into a stack buffer and
//! parse back to an equal `Repr`.
//!
//! The checksum is checked as a property instead of gating the parse:
//! random bytes almost never carry a valid one.
use ethox::wire::udp::{UdpPacket, UdpRepr};
use ethox::wire::{ChecksumMode, Error, IpAddr, Ipv4Addr, Ipv6Addr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&family, datagram)) = data.split_first() else {
        return;
    };
    let (src, dst) = if family % 2 == 0 {
        (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        )
    } else {
        (
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
        )
    };
    let Ok(packet) = UdpPacket::new_checked(datagram) else {
        return;
    };
    let _ = (packet.src_port(), packet.dst_port(), packet.checksum());
    let payload = packet.payload();
    assert_eq!(payload.len() + 8, usize::from(packet.len()));
    let verified = packet.verify_checksum(src, dst);
    let software = UdpRepr::parse(&packet, src, dst, ChecksumMode::Software);
    let Ok(repr) = UdpRepr::parse(&packet, src, dst, ChecksumMode::Offloaded) else {
        assert!(software.is_err());
        return;
    };
    match software {
        Ok(r) => assert!(verified && r == repr),
        Err(e) => assert!(!verified && e == Error::BadChecksum),
    }
    let _ = repr.to_string();

    let mut out = [0u8; 4096];
    let len = 8 + repr.payload_len;
    let Some(buf) = out.get_mut(..len) else {
        return;
    };
    buf[8..].copy_from_slice(payload);
    let mut emitted = UdpPacket::new_unchecked(&mut buf[..]);
    repr.emit(&mut emitted, src, dst, ChecksumMode::Software)
        .unwrap();
    let emitted = UdpPacket::new_checked(&out[..len]).unwrap();
    assert!(emitted.verify_checksum(src, dst));
    assert_ne!(emitted.checksum(), 0);
    assert_eq!(emitted.payload(), payload);
    assert_eq!(
        UdpRepr::parse(&emitted, src, dst, ChecksumMode::Software),
        Ok(repr)
    );
    // The header is deterministic, and so is a nonzero checksum.
    assert_eq!(&out[..6], &datagram[..6]);
    if verified && packet.checksum() != 0 {
        assert_eq!(&out[6..8], &datagram[6..8]);
    }
});
