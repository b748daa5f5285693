//! IPv6 headers (RFC 8200), extension headers, CIDR blocks and address
//! classification (RFC 4291, RFC 4007, RFC 7346).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |  4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                         Source Address                        +  8
//! |                          (16 octets)                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                      Destination Address                      + 24
//! |                          (16 octets)                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  extension headers (optional) ... upper-layer header ...        40
//! ```
//!
//! The module has four parts:
//!
//! * the fixed header: [`Ipv6Packet`] (byte view) and [`Ipv6Repr`];
//! * the extension headers it can parse, each a view and a `Repr`:
//!   hop-by-hop and destination options ([`Ipv6OptionsHeader`],
//!   [`Ipv6OptionsRepr`], options as [`Ipv6OptionRepr`] through
//!   [`Ipv6OptionsIter`]), routing ([`Ipv6RoutingHeader`],
//!   [`Ipv6RoutingRepr`]) and fragment ([`Ipv6FragmentHeader`],
//!   [`Ipv6FragmentRepr`]);
//! * the header chain walker [`Ipv6HeaderChain`] / [`walk`], which steps
//!   from the fixed header through the extension headers to the upper-layer
//!   protocol, bounded by [`MAX_EXT_HEADERS`];
//! * addresses: [`Ipv6Cidr`], [`classify`] / [`Ipv6AddrClass`],
//!   [`multicast_scope`], [`solicited_node`], [`link_local_from_mac`] and
//!   the well-known groups [`ALL_NODES`], [`ALL_ROUTERS`],
//!   [`ALL_MLDV2_ROUTERS`].
//!
//! The fixed header has no checksum; upper layers cover the addresses with
//! [`checksum::pseudo_header`](super::checksum::pseudo_header).
//!
//! **Jumbograms** (RFC 2675: Payload Length 0 and a Jumbo Payload option in
//! a hop-by-hop header) are not supported: [`Ipv6Repr::parse`] and the
//! walker report [`Error::Unsupported`] for a zero Payload Length followed
//! by a hop-by-hop header, the only shape a jumbogram can have. Links this
//! stack runs on carry at most 64 KiB frames, so no valid packet is lost.
//!
//! ```
//! use ethox::wire::ipv6::{walk, Ipv6ChainItem, Ipv6HeaderChain, Ipv6Packet, Ipv6Repr};
//! use ethox::wire::IpProtocol;
//!
//! // fd00::1 > fd00::2, a destination options header (one PadN filling
//! // it to 8 bytes), then UDP 4000 > 5000 with no data.
//! let bytes = [
//!     0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 60, 64, // ver, len 16, DestOpts, hlim
//!     0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
//!     0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
//!     17, 0, 1, 4, 0, 0, 0, 0, // next UDP, 8 bytes, PadN of 4
//!     0x0f, 0xa0, 0x13, 0x88, 0x00, 0x08, 0x00, 0x00, // UDP header
//! ];
//! let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
//! let repr = Ipv6Repr::parse(&packet).unwrap();
//! assert_eq!(repr.next_header, IpProtocol::Ipv6Opts);
//! assert_eq!(format!("{repr}"), "IPv6 fd00::1 > fd00::2");
//!
//! let upper = walk(&packet).unwrap();
//! assert_eq!(upper.protocol, IpProtocol::Udp);
//! assert_eq!(upper.offset, 48);
//! assert_eq!(upper.payload.len(), 8);
//!
//! // The same walk, header by header.
//! let items: Vec<_> = Ipv6HeaderChain::new(&packet).unwrap().collect();
//! assert_eq!(items.len(), 2);
//! assert!(matches!(items[0], Ok(Ipv6ChainItem::Extension(ref h)) if h.offset == 40 && h.len == 8));
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::ip::{IpProtocol, Ipv6Addr};
use super::{Error, Result, array};

mod addr;
mod chain;
mod ext;

pub use self::addr::{
    ALL_MLDV2_ROUTERS, ALL_NODES, ALL_ROUTERS, Ipv6AddrClass, Ipv6Cidr, MulticastScope, classify,
    interface_id_from_mac, is_global_unicast, is_ipv4_mapped, is_link_local, is_unique_local,
    link_local_from_mac, multicast_scope, solicited_node,
};
pub use self::chain::{
    Ipv6ChainItem, Ipv6ExtHeader, Ipv6ExtHeaderKind, Ipv6ExtHeaderRepr, Ipv6HeaderChain,
    Ipv6UpperLayer, MAX_EXT_HEADERS, walk,
};
pub use self::ext::{
    FRAGMENT_HEADER_LEN, Ipv6DestOptsHeader, Ipv6FragmentHeader, Ipv6FragmentRepr,
    Ipv6HopByHopHeader, Ipv6OptionAction, Ipv6OptionRepr, Ipv6OptionsHeader, Ipv6OptionsIter,
    Ipv6OptionsRepr, Ipv6RoutingHeader, Ipv6RoutingRepr, Ipv6RoutingType, MAX_OPTIONS_LEN,
    MAX_ROUTING_DATA_LEN, RouterAlert, encode_options,
};

mod field {
    use core::ops::Range;

    // Version (4 bits), Traffic Class (8 bits), Flow Label (20 bits).
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
    pub const HEADER_LEN: usize = 40;
}

/// The length of the fixed IPv6 header.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// The flow label is the low 20 bits of the first word.
const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

/// A byte view of an IPv6 packet (fixed header and what follows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header and the Payload Length bytes after it
    /// are present.
    ///
    /// The buffer may be longer (Ethernet pads short frames); the bytes
    /// past `40 + payload_len` are not part of the packet and
    /// [`payload`](Ipv6Packet::payload) leaves them out. The version is
    /// not checked here; [`Ipv6Repr::parse`] does.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.total_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn first_word(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::VER_TC_FLOW])
    }

    /// The version field (6 for IPv6).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The traffic class octet: DSCP (6 bits) and ECN (2 bits).
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// The differentiated services code point (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// The explicit congestion notification bits (RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// The 20-bit flow label (RFC 6437).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & FLOW_LABEL_MASK
    }

    /// The Payload Length field: bytes after the fixed header, extension
    /// headers included.
    pub fn payload_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::PAYLOAD_LEN])
    }

    /// The Next Header field: the first extension header or the
    /// upper-layer protocol.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(&self.buffer.as_ref()[field::SRC_ADDR]))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(&self.buffer.as_ref()[field::DST_ADDR]))
    }

    /// The length of the fixed header, 40.
    pub const fn header_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// The length of the packet as its header claims: 40 + Payload Length.
    pub fn total_len(&self) -> usize {
        field::HEADER_LEN + usize::from(self.payload_len())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6Packet<&'a T> {
    /// The payload (extension headers and upper layer), borrowed for the
    /// buffer's lifetime. It is exactly Payload Length bytes long: trailing
    /// link-layer padding is left out.
    pub fn payload(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(field::HEADER_LEN..self.total_len())
            .unwrap_or_default()
    }

    /// The packet as its header delimits it: the fixed header and Payload
    /// Length bytes, without trailing padding.
    pub fn packet_bytes(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(..self.total_len()).unwrap_or(buf)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_first_word(&mut self, word: u32) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::VER_TC_FLOW], word)
    }

    /// Sets the version field (the low 4 bits of `version`).
    pub fn set_version(&mut self, version: u8) {
        let word = (self.first_word() & 0x0fff_ffff) | (u32::from(version & 0x0f) << 28);
        self.set_first_word(word)
    }

    /// Sets the traffic class octet.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let word = (self.first_word() & 0xf00f_ffff) | (u32::from(tc) << 20);
        self.set_first_word(word)
    }

    /// Sets the flow label (the low 20 bits of `label`).
    pub fn set_flow_label(&mut self, label: u32) {
        let word = (self.first_word() & !FLOW_LABEL_MASK) | (label & FLOW_LABEL_MASK);
        self.set_first_word(word)
    }

    /// Sets the Payload Length field.
    pub fn set_payload_len(&mut self, len: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::PAYLOAD_LEN], len)
    }

    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, next_header: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next_header.into()
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets())
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets())
    }

    /// The payload, writable; bounded by Payload Length like
    /// [`payload`](Ipv6Packet::payload).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        let buf = self.buffer.as_mut();
        let end = end.min(buf.len());
        buf.get_mut(field::HEADER_LEN..end).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed fixed header of an IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// The first extension header or the upper-layer protocol.
    pub next_header: IpProtocol,
    /// Bytes after the fixed header, extension headers included.
    pub payload_len: u16,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class (DSCP << 2 | ECN); 0 when unused.
    pub traffic_class: u8,
    /// Flow label (20 bits, RFC 6437); 0 when unused. `emit` keeps the
    /// low 20 bits only.
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses a fixed header.
    ///
    /// Errors: [`Error::Truncated`] (header or Payload Length bytes
    /// missing), [`Error::BadVersion`] (version is not 6),
    /// [`Error::Unsupported`] (a jumbogram: Payload Length 0 followed by a
    /// hop-by-hop header), [`Error::Malformed`] (a multicast source, which
    /// RFC 4291 section 2.7 forbids, or the unspecified address as
    /// destination, RFC 4291 section 2.5.2).
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(Error::BadVersion);
        }
        if packet.payload_len() == 0 && packet.next_header() == IpProtocol::HopByHop {
            return Err(Error::Unsupported);
        }
        let src = packet.src_addr();
        let dst = packet.dst_addr();
        if src.is_multicast() || dst.is_unspecified() {
            return Err(Error::Malformed);
        }
        Ok(Ipv6Repr {
            src,
            dst,
            next_header: packet.next_header(),
            payload_len: packet.payload_len(),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// The header length `emit` writes: 40.
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// Writes the fixed header into the first 40 bytes of the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) {
        packet.set_first_word(
            (6 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & FLOW_LABEL_MASK),
        );
        packet.set_payload_len(self.payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
    }
}

impl fmt::Display for Ipv6Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IPv6 {} > {}", self.src, self.dst)
    }
}

#[cfg(test)]
mod tests;
