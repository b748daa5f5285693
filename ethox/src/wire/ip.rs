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

/// An IPv4 or IPv6 address with a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpCidr {
    /// An IPv4 block.
    V4(super::ipv4::Ipv4Cidr),
    /// An IPv6 block.
    V6(super::ipv6::Ipv6Cidr),
}

impl IpCidr {
    /// A block of `prefix_len` bits around `address`;
    /// [`Error::BadLength`](super::Error::BadLength) beyond the family's
    /// address width.
    pub fn new(address: IpAddr, prefix_len: u8) -> super::Result<IpCidr> {
        match address {
            IpAddr::V4(a) => super::ipv4::Ipv4Cidr::new(a, prefix_len).map(IpCidr::V4),
            IpAddr::V6(a) => super::ipv6::Ipv6Cidr::new(a, prefix_len).map(IpCidr::V6),
        }
    }

    /// The address, host bits included.
    pub fn address(&self) -> IpAddr {
        match self {
            IpCidr::V4(c) => IpAddr::V4(c.address()),
            IpCidr::V6(c) => IpAddr::V6(c.address()),
        }
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        match self {
            IpCidr::V4(c) => c.prefix_len(),
            IpCidr::V6(c) => c.prefix_len(),
        }
    }

    /// Whether `addr` lies in the block (never across families).
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (IpCidr::V4(c), IpAddr::V4(a)) => c.contains_addr(a),
            (IpCidr::V6(c), IpAddr::V6(a)) => c.contains_addr(a),
            _ => false,
        }
    }
}

impl core::fmt::Display for IpCidr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IpCidr::V4(c) => write!(f, "{c}"),
            IpCidr::V6(c) => write!(f, "{c}"),
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
    fn cidr_of_either_family() {
        let v4 = IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 24).unwrap();
        assert!(v4.contains_addr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 200))));
        assert!(!v4.contains_addr(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let v6 = IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 64).unwrap();
        assert!(v6.contains_addr(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 1, 2, 3, 4))));
        assert_eq!(v6.prefix_len(), 64);
        assert!(IpCidr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 33).is_err());
        extern crate std;
        use std::string::ToString;
        assert_eq!(v4.to_string(), "10.0.0.1/24");
    }

    #[test]
    fn version_nibble() {
        assert_eq!(version_of(&[0x45]), Some(4));
        assert_eq!(version_of(&[0x60, 0]), Some(6));
        assert_eq!(version_of(&[]), None);
    }
}
