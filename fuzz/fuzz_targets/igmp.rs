#![no_main]
//! Fuzz target: IGMP messages (the IPv4 payload). Parse must not panic;
//! whatever parses must emit a message that parses back to the same Repr,
//! and an 8-byte v2 message with a correct checksum to the same bytes
//! (checksum field aside).
use ethox::wire::ChecksumMode;
use ethox::wire::igmp::{IgmpPacket, IgmpRepr, IgmpVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = IgmpPacket::new_checked(data) else {
        return;
    };
    let verified = packet.verify_checksum();
    let software = IgmpRepr::parse(&packet, ChecksumMode::Software);
    let Ok(repr) = IgmpRepr::parse(&packet, ChecksumMode::Offloaded) else {
        return;
    };
    assert_eq!(software.is_ok(), verified);
    let _ = (repr.to_string(), repr.dst_addr());

    let mut out = [0u8; 12];
    let len = repr.buffer_len();
    repr.emit(
        &mut IgmpPacket::new_unchecked(&mut out[..len]),
        ChecksumMode::Software,
    );
    let again = IgmpPacket::new_checked(&out[..len]).expect("emitted message checks");
    assert_eq!(IgmpRepr::parse(&again, ChecksumMode::Software), Ok(repr));
    // Fields a receiver ignores are written as zero: the group of a v1
    // query (RFC 1112 appendix I), the Max Resp Time of anything but a
    // query (RFC 2236 section 2.2).
    let ignored_fields = match repr {
        IgmpRepr::MembershipQuery { version, .. } => version == IgmpVersion::Version1,
        _ => data[1] != 0,
    };
    // The checksum may differ: 0x0000 and 0xffff both verify when the
    // rest sums to 0xffff (one's complement has two zeros).
    if data.len() == 8 && verified && !ignored_fields {
        assert_eq!((&out[..2], &out[4..8]), (&data[..2], &data[4..8]));
    }
});
