//! ICMP errors about segments this host sent: path MTU discovery.
//!
//! An ICMPv4 "fragmentation needed" (RFC 1191) or ICMPv6 "packet too big"
//! (RFC 8201) quotes the start of the segment that did not fit. From the
//! quote we find the connection (its addresses and ports) and check that
//! the quoted sequence number is one we have in flight (RFC 5927 section
//! 4.1: a blind attacker must guess it), then shrink that connection's
//! segments to the MTU the router reported.

use crate::wire::ChecksumMode;
use crate::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use crate::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use crate::wire::ip::{IpAddr, IpProtocol, Ipv4Addr, Ipv6Addr};
use crate::wire::tcp::{HEADER_LEN as TCP_HEADER_LEN, SeqNumber};

use super::table::FourTuple;

/// The smallest MTU an IPv4 path may report (RFC 791: every host takes
/// 576-byte datagrams; RFC 1191 uses 68 as the floor, but segments that
/// small only help an attacker).
const MIN_MTU_V4: usize = 576;

/// The smallest IPv6 MTU (RFC 8200 section 5).
const MIN_MTU_V6: usize = 1280;

/// What a path MTU message says about one of our segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PathMtu {
    /// The connection the quoted segment belongs to, from our side.
    pub tuple: FourTuple,
    /// The quoted sequence number.
    pub seq: SeqNumber,
    /// The largest TCP payload that fits the reported MTU.
    pub payload: usize,
}

/// Reads an ICMP(v6) message from `src` to `dst` (IPv6 needs them for the
/// checksum). `None` if it is not a path MTU message quoting TCP.
pub(super) fn path_mtu(
    protocol: IpProtocol,
    src: IpAddr,
    dst: IpAddr,
    bytes: &[u8],
    checksum: ChecksumMode,
) -> Option<PathMtu> {
    match (protocol, src, dst) {
        (IpProtocol::Icmp, _, _) => {
            let repr = Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(bytes), checksum).ok()?;
            let Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragRequired,
                next_hop_mtu,
                header,
            } = repr
            else {
                return None;
            };
            let (tuple, seq, ip_header) = quoted_v4(header)?;
            let mtu = usize::from(next_hop_mtu).max(MIN_MTU_V4);
            let payload = mtu.saturating_sub(ip_header + TCP_HEADER_LEN);
            Some(PathMtu {
                tuple,
                seq,
                payload,
            })
        }
        (IpProtocol::Icmpv6, IpAddr::V6(src), IpAddr::V6(dst)) => {
            let repr =
                Icmpv6Repr::parse(&Icmpv6Packet::new_unchecked(bytes), src, dst, checksum).ok()?;
            let Icmpv6Repr::PacketTooBig { mtu, header } = repr else {
                return None;
            };
            let (tuple, seq) = quoted_v6(header)?;
            let mtu = usize::try_from(mtu).unwrap_or(usize::MAX).max(MIN_MTU_V6);
            let payload = mtu.saturating_sub(40 + TCP_HEADER_LEN);
            Some(PathMtu {
                tuple,
                seq,
                payload,
            })
        }
        _ => None,
    }
}

/// The four-tuple (seen from us, the quoted packet's sender), sequence
/// number and IP header length of a quoted IPv4 packet carrying TCP.
fn quoted_v4(quote: &[u8]) -> Option<(FourTuple, SeqNumber, usize)> {
    let first = *quote.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 || *quote.get(9)? != u8::from(IpProtocol::Tcp) {
        return None;
    }
    let src = Ipv4Addr::from(<[u8; 4]>::try_from(quote.get(12..16)?).ok()?);
    let dst = Ipv4Addr::from(<[u8; 4]>::try_from(quote.get(16..20)?).ok()?);
    let tcp = quote.get(header_len..)?;
    let (tuple, seq) = quoted_tcp(IpAddr::V4(src), IpAddr::V4(dst), tcp)?;
    Some((tuple, seq, header_len))
}

/// As [`quoted_v4`] for IPv6 (TCP directly after the fixed header).
fn quoted_v6(quote: &[u8]) -> Option<(FourTuple, SeqNumber)> {
    if *quote.first()? >> 4 != 6 || *quote.get(6)? != u8::from(IpProtocol::Tcp) {
        return None;
    }
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(quote.get(8..24)?).ok()?);
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(quote.get(24..40)?).ok()?);
    quoted_tcp(IpAddr::V6(src), IpAddr::V6(dst), quote.get(40..)?)
}

/// Ports and sequence number from the first 8 bytes of a quoted segment.
fn quoted_tcp(src: IpAddr, dst: IpAddr, tcp: &[u8]) -> Option<(FourTuple, SeqNumber)> {
    let ports = <[u8; 8]>::try_from(tcp.get(..8)?).ok()?;
    let tuple = FourTuple {
        local: src,
        local_port: u16::from_be_bytes([ports[0], ports[1]]),
        remote: dst,
        remote_port: u16::from_be_bytes([ports[2], ports[3]]),
    };
    let seq = SeqNumber(u32::from_be_bytes([ports[4], ports[5], ports[6], ports[7]]));
    Some((tuple, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header (20 bytes, TCP) from 10.0.0.1 to 10.0.0.2 and the
    /// first 8 bytes of a segment from port 40000 to 80, seq 1000.
    const QUOTE_V4: [u8; 28] = [
        0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, //
        0x9c, 0x40, 0x00, 0x50, 0, 0, 0x03, 0xe8,
    ];

    #[test]
    fn reads_a_quoted_v4_segment() {
        let (tuple, seq, ip_len) = quoted_v4(&QUOTE_V4).unwrap();
        assert_eq!(tuple.local, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!((tuple.local_port, tuple.remote_port), (40000, 80));
        assert_eq!(seq, SeqNumber(1000));
        assert_eq!(ip_len, 20);
    }

    #[test]
    fn short_or_foreign_quotes_are_ignored() {
        for len in 0..QUOTE_V4.len() {
            assert!(quoted_v4(&QUOTE_V4[..len]).is_none(), "{len}");
        }
        let mut udp = QUOTE_V4;
        udp[9] = 17;
        assert!(quoted_v4(&udp).is_none());
        let mut bad_ihl = QUOTE_V4;
        bad_ihl[0] = 0x44;
        assert!(quoted_v4(&bad_ihl).is_none());
    }

    #[test]
    fn frag_needed_gives_the_payload_that_fits() {
        let mut bytes = [0u8; 8 + 28];
        bytes[0] = 3; // destination unreachable
        bytes[1] = 4; // fragmentation needed
        bytes[6..8].copy_from_slice(&1400u16.to_be_bytes());
        bytes[8..].copy_from_slice(&QUOTE_V4);
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let mtu = path_mtu(IpProtocol::Icmp, any, any, &bytes, ChecksumMode::Offloaded).unwrap();
        assert_eq!(mtu.payload, 1400 - 40);
        assert_eq!(mtu.seq, SeqNumber(1000));
        // A forged tiny MTU is raised to the minimum.
        bytes[6..8].copy_from_slice(&68u16.to_be_bytes());
        let mtu = path_mtu(IpProtocol::Icmp, any, any, &bytes, ChecksumMode::Offloaded).unwrap();
        assert_eq!(mtu.payload, MIN_MTU_V4 - 40);
    }
}
