#![no_main]
//! Fuzz target: IPv4 headers and CIDR arithmetic. Parse must not panic;
//! whatever parses must emit a header that parses back to the same Repr
//! over the same payload, and for a header without options (and with a
//! correct checksum and a clear reserved bit) to the same bytes, checksum
//! field aside. Parsing an unchecked buffer fails exactly as `check_len`.
use std::fmt::Write;

use ethox::wire::ChecksumMode;
use ethox::wire::ip::Ipv4Addr;
use ethox::wire::ipv4::{HEADER_LEN, Ipv4Cidr, Ipv4Packet, Ipv4Repr, classify};
use libfuzzer_sys::fuzz_target;

fn cidr_properties(data: &[u8]) {
    let Some(&[a, b, c, d, prefix, x, y, z, w]) = data.first_chunk::<9>() else {
        return;
    };
    let Ok(cidr) = Ipv4Cidr::new(Ipv4Addr::new(a, b, c, d), prefix) else {
        assert!(prefix > 32);
        return;
    };
    let other = Ipv4Addr::new(x, y, z, w);
    assert!(cidr.contains_addr(cidr.address()));
    assert!(cidr.network().contains_subnet(cidr));
    assert!(cidr.contains_subnet(cidr.network()));
    assert_eq!(
        cidr.contains_addr(other),
        cidr.network().contains_addr(other)
    );
    if let Some(broadcast) = cidr.broadcast() {
        assert!(cidr.contains_addr(broadcast) && cidr.is_subnet_broadcast(broadcast));
    }
    let text = cidr.to_string();
    assert_eq!(text.parse::<Ipv4Cidr>(), Ok(cidr));
    let _ = classify(other).is_valid_source();
}

fuzz_target!(|data: &[u8]| {
    cidr_properties(data);

    // Parse checks the lengths itself (with a shortcut for the usual
    // 20-byte header): a buffer check_len refuses fails with its error.
    let unchecked = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(data), ChecksumMode::Offloaded);
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        let refused = Ipv4Packet::new_unchecked(data).check_len();
        assert_eq!(unchecked.err(), refused.err());
        return;
    };
    // check_len walked the options: the iterator finds nothing wrong.
    for option in packet.option_iter() {
        assert!(option.is_ok());
    }
    let verified = packet.verify_checksum();
    let software = Ipv4Repr::parse(&packet, ChecksumMode::Software);
    let Ok(repr) = Ipv4Repr::parse(&packet, ChecksumMode::Offloaded) else {
        return;
    };
    assert_eq!(software.is_ok(), verified);
    let payload = packet.payload();
    assert_eq!(payload.len(), repr.payload_len);
    let mut text = String::new();
    write!(text, "{repr}").unwrap();

    let mut out = [0u8; 65535];
    let len = repr.buffer_len() + repr.payload_len;
    out[HEADER_LEN..len].copy_from_slice(payload);
    repr.emit(
        &mut Ipv4Packet::new_unchecked(&mut out[..len]),
        ChecksumMode::Software,
    );
    let again = Ipv4Packet::new_checked(&out[..len]).expect("emitted header checks");
    assert_eq!(Ipv4Repr::parse(&again, ChecksumMode::Software), Ok(repr));
    assert_eq!(again.payload(), payload);
    // The checksum may differ: 0x0000 and 0xffff both verify when the
    // rest sums to 0xffff (one's complement has two zeros).
    if packet.header_len() == HEADER_LEN && !packet.reserved_flag() && verified {
        assert_eq!(
            (&out[..10], &out[12..HEADER_LEN]),
            (&data[..10], &data[12..HEADER_LEN])
        );
    }
});
