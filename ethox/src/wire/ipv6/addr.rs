//! IPv6 address helpers: CIDR blocks, classification (RFC 4291), multicast
//! scopes (RFC 4007, RFC 7346), solicited-node groups and link-local
//! addresses from MAC addresses.
//!
//! ```text
//! multicast (RFC 4291 2.7):   | ff | flgs(4) | scop(4) | group ID (112 bits) |
//! solicited-node (2.7.1):     ff02::1:ff00:0/104 + low 24 bits of the unicast address
//! modified EUI-64 (App. A):   MAC aa:bb:cc:dd:ee:ff -> (aa^02)bb:ccff:fedd:eeff
//! ```

use core::fmt;

use super::super::ethernet::EthernetAddress;
use super::super::ip::Ipv6Addr;
use super::super::{Error, Result};

/// ff02::1, all nodes on the link (RFC 4291 section 2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ff02::2, all routers on the link (RFC 4291 section 2.7.1).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// ff02::16, all MLDv2-capable routers (RFC 3810 section 5.2.14): where
/// MLDv2 reports go.
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

/// The number of bits in an address.
const ADDR_BITS: u8 = 128;

/// The mask with the first `prefix_len` bits set (`prefix_len` <= 128).
const fn prefix_mask(prefix_len: u8) -> u128 {
    match u128::MAX.checked_shl((ADDR_BITS - prefix_len) as u32) {
        // A shift by 128 (prefix 0) is out of range: no bit is set.
        Some(mask) if prefix_len != 0 => mask,
        _ => 0,
    }
}

/// An IPv6 address with a prefix length: an interface address with its
/// on-link prefix, or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv6Cidr {
    address: Ipv6Addr,
    prefix_len: u8,
}

impl Ipv6Cidr {
    /// An address with a prefix length; a prefix longer than 128 bits is
    /// [`Error::BadLength`]. The host bits are kept (use
    /// [`network`](Self::network) to clear them).
    pub const fn new(address: Ipv6Addr, prefix_len: u8) -> Result<Ipv6Cidr> {
        if prefix_len > ADDR_BITS {
            return Err(Error::BadLength);
        }
        Ok(Ipv6Cidr {
            address,
            prefix_len,
        })
    }

    /// The address.
    pub const fn address(&self) -> Ipv6Addr {
        self.address
    }

    /// The prefix length (0..=128).
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The prefix as a mask: ffff:ffff:ffff:ffff:: for a /64.
    pub const fn netmask(&self) -> Ipv6Addr {
        Ipv6Addr::from_bits(prefix_mask(self.prefix_len))
    }

    /// The network: the address with the host bits cleared.
    pub const fn network(&self) -> Ipv6Cidr {
        Ipv6Cidr {
            address: Ipv6Addr::from_bits(self.address.to_bits() & prefix_mask(self.prefix_len)),
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `addr` is inside the prefix.
    pub const fn contains_addr(self, addr: Ipv6Addr) -> bool {
        let mask = prefix_mask(self.prefix_len);
        (self.address.to_bits() ^ addr.to_bits()) & mask == 0
    }

    /// Whether all of `subnet` is inside this prefix.
    pub const fn contains_subnet(self, subnet: Ipv6Cidr) -> bool {
        self.prefix_len <= subnet.prefix_len && self.contains_addr(subnet.address)
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

enum_with_unknown! {
    /// The scope of a multicast address (RFC 4291 section 2.7, RFC 7346).
    /// Values 0 and f are reserved, the others not named here unassigned.
    pub enum MulticastScope(u8) {
        /// 1: loopback transmission only.
        InterfaceLocal = 0x1,
        /// 2: the link.
        LinkLocal = 0x2,
        /// 3: realm-local (RFC 7346), defined by the network technology.
        RealmLocal = 0x3,
        /// 4: the smallest administratively configured scope.
        AdminLocal = 0x4,
        /// 5: a site.
        SiteLocal = 0x5,
        /// 8: several sites of one organization.
        OrganizationLocal = 0x8,
        /// e: global.
        Global = 0xe,
    }
}

/// The scope of a multicast address, `None` if `addr` is not multicast.
pub const fn multicast_scope(addr: Ipv6Addr) -> Option<MulticastScope> {
    let o = addr.octets();
    if o[0] != 0xff {
        return None;
    }
    // enum_with_unknown's From is not const; map the nibble by hand.
    Some(match o[1] & 0x0f {
        0x1 => MulticastScope::InterfaceLocal,
        0x2 => MulticastScope::LinkLocal,
        0x3 => MulticastScope::RealmLocal,
        0x4 => MulticastScope::AdminLocal,
        0x5 => MulticastScope::SiteLocal,
        0x8 => MulticastScope::OrganizationLocal,
        0xe => MulticastScope::Global,
        other => MulticastScope::Unknown(other),
    })
}

/// What kind of address an IPv6 address is (RFC 4291 section 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6AddrClass {
    /// `::`, only ever a source while an interface has no address.
    Unspecified,
    /// `::1`.
    Loopback,
    /// `ff00::/8`, with its scope.
    Multicast(MulticastScope),
    /// `fe80::/10`, link-local unicast.
    LinkLocal,
    /// `fc00::/7`, unique local unicast (RFC 4193).
    UniqueLocal,
    /// `::ffff:0:0/96`, an IPv4 address in IPv6 form (RFC 4291 2.5.5.2);
    /// never valid on the wire.
    Ipv4Mapped,
    /// Every other address. RFC 4291 calls everything not listed above
    /// global unicast; this includes the deprecated site-local `fec0::/10`,
    /// which RFC 3879 says to treat as global.
    GlobalUnicast,
}

/// Whether `addr` is link-local unicast, `fe80::/10`.
pub const fn is_link_local(addr: Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// Whether `addr` is unique local unicast, `fc00::/7` (RFC 4193).
pub const fn is_unique_local(addr: Ipv6Addr) -> bool {
    addr.segments()[0] & 0xfe00 == 0xfc00
}

/// Whether `addr` is IPv4-mapped, `::ffff:0:0/96`.
pub const fn is_ipv4_mapped(addr: Ipv6Addr) -> bool {
    addr.to_bits() >> 32 == 0xffff
}

/// Whether `addr` is global unicast in the sense of [`Ipv6AddrClass`].
pub const fn is_global_unicast(addr: Ipv6Addr) -> bool {
    matches!(classify(addr), Ipv6AddrClass::GlobalUnicast)
}

/// Classifies an address.
pub const fn classify(addr: Ipv6Addr) -> Ipv6AddrClass {
    if let Some(scope) = multicast_scope(addr) {
        return Ipv6AddrClass::Multicast(scope);
    }
    match addr.to_bits() {
        0 => Ipv6AddrClass::Unspecified,
        1 => Ipv6AddrClass::Loopback,
        _ if is_link_local(addr) => Ipv6AddrClass::LinkLocal,
        _ if is_unique_local(addr) => Ipv6AddrClass::UniqueLocal,
        _ if is_ipv4_mapped(addr) => Ipv6AddrClass::Ipv4Mapped,
        _ => Ipv6AddrClass::GlobalUnicast,
    }
}

/// The solicited-node multicast group of an address: `ff02::1:ff00:0/104`
/// with the low 24 bits of `addr` (RFC 4291 section 2.7.1). Neighbor
/// solicitations for `addr` go there.
pub const fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    const PREFIX: u128 = 0xff02_0000_0000_0000_0000_0001_ff00_0000;
    Ipv6Addr::from_bits(PREFIX | (addr.to_bits() & 0x00ff_ffff))
}

/// The modified EUI-64 interface identifier of a MAC address (RFC 4291
/// appendix A): ff:fe inserted in the middle and the universal/local bit
/// inverted.
pub const fn interface_id_from_mac(mac: EthernetAddress) -> [u8; 8] {
    let m = mac.0;
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// The link-local address `fe80::/64` + modified EUI-64 of a MAC address,
/// as an interface forms it without privacy extensions (RFC 4862 5.3).
pub const fn link_local_from_mac(mac: EthernetAddress) -> Ipv6Addr {
    let id = interface_id_from_mac(mac);
    Ipv6Addr::from_bits((0xfe80u128 << 112) | u64::from_be_bytes(id) as u128)
}
