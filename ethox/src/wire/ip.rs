//! Definitions shared by IPv4 and IPv6: addresses, protocol numbers.
//!
//! Addresses are the standard `core::net` types, so they interoperate
//! with the rest of the Rust ecosystem and need no conversion at the API
//! edge. The protocol-specific helpers (CIDR blocks, classification beyond
//! what `core::net` offers, solicited-node groups) live in
//! [`ipv4`](super::ipv4) and [`ipv6`](super::ipv6).

pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

enum_with_unknown! {
    /// An IP protocol number (IPv4 Protocol, IPv6 Next Header).
    pub enum IpProtocol(u8) {
        /// IPv6 hop-by-hop options header.
        HopByHop = 0,
        /// ICMP for IPv4.
        Icmp = 1,
        /// IGMP.
        Igmp = 2,
        /// TCP.
        Tcp = 6,
        /// UDP.
        Udp = 17,
        /// IPv6 routing header.
        Ipv6Route = 43,
        /// IPv6 fragment header.
        Ipv6Frag = 44,
        /// Encapsulating security payload.
        Esp = 50,
        /// Authentication header.
        Ah = 51,
        /// ICMP for IPv6.
        Icmpv6 = 58,
        /// IPv6 "no next header".
        Ipv6NoNxt = 59,
        /// IPv6 destination options header.
        Ipv6Opts = 60,
    }
}

impl core::fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IpProtocol::HopByHop => f.write_str("HopByHop"),
            IpProtocol::Icmp => f.write_str("ICMP"),
            IpProtocol::Igmp => f.write_str("IGMP"),
            IpProtocol::Tcp => f.write_str("TCP"),
            IpProtocol::Udp => f.write_str("UDP"),
            IpProtocol::Ipv6Route => f.write_str("IPv6-Route"),
            IpProtocol::Ipv6Frag => f.write_str("IPv6-Frag"),
            IpProtocol::Esp => f.write_str("ESP"),
            IpProtocol::Ah => f.write_str("AH"),
            IpProtocol::Icmpv6 => f.write_str("ICMPv6"),
            IpProtocol::Ipv6NoNxt => f.write_str("IPv6-NoNxt"),
            IpProtocol::Ipv6Opts => f.write_str("IPv6-Opts"),
            IpProtocol::Unknown(n) => write!(f, "proto-{n}"),
        }
    }
}

/// The IP version nibble of a packet, read without committing to a format.
///
/// Returns `None` for an empty buffer; any other value is returned as is so
/// the caller can count unknown versions.
pub fn version_of(packet: &[u8]) -> Option<u8> {
    packet.first().map(|b| b >> 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
        assert_eq!(IpProtocol::from(200), IpProtocol::Unknown(200));
    }

    #[test]
    fn version_nibble() {
        assert_eq!(version_of(&[0x45]), Some(4));
        assert_eq!(version_of(&[0x60, 0]), Some(6));
        assert_eq!(version_of(&[]), None);
    }
}
