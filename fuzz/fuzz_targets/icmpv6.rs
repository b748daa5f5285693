#![no_main]
//! Fuzz target: ICMPv6, neighbor discovery and MLD.
//!
//! Input: 16 bytes of IPv6 source, 16 of destination (they feed the
//! pseudo-header and the NDISC address rules), one byte whose low bit picks
//! the checksum mode (0: verify in software, 1: offloaded, so mutated
//! messages reach the type parsers), then the ICMPv6 message.
//!
//! Parse must not panic; whatever parses must emit into a stack buffer and
//! parse back (with a software checksum) to an equal `Repr`, and must
//! display without panicking.
use core::fmt::Write;

use ethox::wire::ChecksumMode;
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::mld::MldRecordIter;
use ethox::wire::ndisc::NdiscOptionIter;
use libfuzzer_sys::fuzz_target;

struct Sink;

impl Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((addrs, rest)) = data.split_first_chunk::<33>() else {
        return;
    };
    let src = core::net::Ipv6Addr::from(*addrs[..16].first_chunk::<16>().unwrap());
    let dst = core::net::Ipv6Addr::from(*addrs[16..32].first_chunk::<16>().unwrap());
    let mode = if addrs[32] & 1 == 0 {
        ChecksumMode::Software
    } else {
        ChecksumMode::Offloaded
    };

    // The raw walkers on their own, over arbitrary bytes: they must end.
    assert!(NdiscOptionIter::new(rest).count() <= rest.len() / 8 + 1);
    let count = u16::from_be_bytes([addrs[30], addrs[31]]);
    assert!(MldRecordIter::new(count, rest).count() <= usize::from(count));

    let Ok(packet) = Icmpv6Packet::new_checked(rest) else {
        return;
    };
    let _ = packet.verify_checksum(src, dst);
    let Ok(repr) = Icmpv6Repr::parse(&packet, src, dst, mode) else {
        return;
    };
    let _ = write!(Sink, "{repr}");

    let mut out = [0u8; 4096];
    let len = repr.buffer_len();
    let Some(buf) = out.get_mut(..len) else {
        return;
    };
    repr.emit(
        &mut Icmpv6Packet::new_unchecked(&mut *buf),
        src,
        dst,
        ChecksumMode::Software,
    );
    let packet = Icmpv6Packet::new_checked(&*buf).expect("emitted message checks");
    let again = Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software)
        .expect("emitted message parses");
    assert_eq!(again, repr);
});
