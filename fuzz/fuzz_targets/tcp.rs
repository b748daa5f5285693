#![no_main]
//! Fuzz target: TCP segments (the bytes after the IP header).
//!
//! Parsing must not panic. Every option the walker yields must emit back
//! to bytes that parse to the same option. Whatever `TcpRepr` parses (the
//! checksum is not checked on the way in, or nothing would get through)
//! must emit, with the same payload, into a segment that checks, carries a
//! correct checksum for both address families and parses to an equal Repr.
use ethox::wire::tcp::{MAX_HEADER_LEN, TcpOption, TcpOptions, TcpPacket, TcpRepr};
use ethox::wire::{ChecksumMode, IpAddr, Ipv4Addr, Ipv6Addr};
use libfuzzer_sys::fuzz_target;

const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const DST4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const SRC6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
const DST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));

/// Room for the largest header and the payload of a -max_len=2048 input.
const OUT_LEN: usize = MAX_HEADER_LEN + 2048;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = TcpPacket::new_checked(data) else {
        return;
    };
    let _ = packet.verify_checksum(SRC4, DST4);
    let _ = packet.verify_checksum(SRC6, DST6);
    let _ = packet.segment_len();

    for option in TcpOptions::new(packet.options()) {
        let Ok(option) = option else { break };
        let mut buf = [0u8; 64];
        let n = option.emit(&mut buf).expect("a parsed option emits");
        assert_eq!(n, option.buffer_len());
        assert_eq!(TcpOption::parse(&buf[..n]), Ok((option, n)));
    }

    // With a correct checksum, verifying it changes nothing.
    for (src, dst) in [(SRC4, DST4), (SRC6, DST6)] {
        if packet.verify_checksum(src, dst) {
            assert_eq!(
                TcpRepr::parse(&packet, src, dst, ChecksumMode::Software),
                TcpRepr::parse(&packet, src, dst, ChecksumMode::Offloaded)
            );
        }
    }

    let Ok(repr) = TcpRepr::parse(&packet, SRC4, DST4, ChecksumMode::Offloaded) else {
        return;
    };
    let _ = repr.to_string();
    let payload = packet.payload();
    assert_eq!(repr.payload_len, payload.len());

    let header_len = repr.buffer_len();
    assert!((20..=MAX_HEADER_LEN).contains(&header_len) && header_len % 4 == 0);
    let total = header_len + payload.len();
    if total > OUT_LEN {
        return;
    }
    for (src, dst) in [(SRC4, DST4), (SRC6, DST6)] {
        let mut out = [0u8; OUT_LEN];
        out[header_len..total].copy_from_slice(payload);
        let mut emitted = TcpPacket::new_unchecked(&mut out[..total]);
        repr.emit(&mut emitted, src, dst, ChecksumMode::Software)
            .expect("a parsed Repr emits into its buffer_len");
        let emitted = TcpPacket::new_checked(&out[..total]).expect("emitted segment checks");
        assert_eq!(emitted.header_len(), header_len);
        assert!(emitted.verify_checksum(src, dst));
        let again = TcpRepr::parse(&emitted, src, dst, ChecksumMode::Software)
            .expect("emitted segment parses");
        assert_eq!(again, repr);
        assert_eq!(emitted.payload(), payload);
    }
});
