//! Ethernet II frames, with recognition of one 802.1Q / 802.1ad tag.
//!
//! ```text
//!  0                   6                  12        14
//! +-------------------+-------------------+---------+-----------
//! | destination MAC   | source MAC        | type    | payload ...
//! +-------------------+-------------------+---------+-----------
//!
//! tagged:                                 | TPID    | TCI | type | payload
//!                                         12        14    16     18
//! ```
//!
//! A tagged frame is not misread as an unknown EtherType: the view exposes
//! the tag ([`EthernetFrame::vlan`]) and the EtherType of the payload after
//! it ([`EthernetFrame::payload_ethertype`]). Frames with more than one tag
//! are reported as [`Error::Unsupported`] by [`EthernetRepr::parse`].

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::{Error, Result, array};

/// A 48-bit IEEE MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);
    /// 00:00:00:00:00:00 (never valid on the wire as a source).
    pub const UNSPECIFIED: EthernetAddress = EthernetAddress([0; 6]);

    /// Reads an address from the first six bytes of `bytes`, if present.
    pub fn from_bytes(bytes: &[u8]) -> Option<EthernetAddress> {
        bytes.first_chunk::<6>().map(|b| EthernetAddress(*b))
    }

    /// The six octets.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is the broadcast address.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Whether the group bit is set (broadcast included).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the locally-administered bit is set.
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The multicast MAC an IPv4 group maps to (RFC 1112 section 6.4):
    /// 01:00:5e followed by the low 23 bits of the group.
    pub const fn from_ipv4_multicast(group: core::net::Ipv4Addr) -> EthernetAddress {
        let o = group.octets();
        EthernetAddress([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }

    /// The multicast MAC an IPv6 group maps to (RFC 2464 section 7):
    /// 33:33 followed by the last four octets of the group.
    pub const fn from_ipv6_multicast(group: core::net::Ipv6Addr) -> EthernetAddress {
        let o = group.octets();
        EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

enum_with_unknown! {
    /// The EtherType field: what the payload of a frame is.
    pub enum EtherType(u16) {
        /// IPv4.
        Ipv4 = 0x0800,
        /// ARP.
        Arp = 0x0806,
        /// An 802.1Q VLAN tag follows.
        Vlan = 0x8100,
        /// IPv6.
        Ipv6 = 0x86dd,
        /// An 802.1ad (Q-in-Q) service tag follows.
        ServiceVlan = 0x88a8,
    }
}

impl EtherType {
    /// Whether this value is a tag protocol identifier rather than a
    /// payload type.
    pub fn is_vlan_tag(self) -> bool {
        matches!(self, EtherType::Vlan | EtherType::ServiceVlan)
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Vlan => f.write_str("802.1Q"),
            EtherType::Ipv6 => f.write_str("IPv6"),
            EtherType::ServiceVlan => f.write_str("802.1ad"),
            EtherType::Unknown(t) => write!(f, "ethertype 0x{t:04x}"),
        }
    }
}

/// The tag control information of an 802.1Q / 802.1ad tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Tag protocol identifier: [`EtherType::Vlan`] or
    /// [`EtherType::ServiceVlan`].
    pub tpid: EtherType,
    /// Priority code point (0..=7).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (0..=4095).
    pub vid: u16,
}

impl VlanTag {
    fn tci(&self) -> u16 {
        ((self.pcp as u16 & 0x7) << 13) | ((self.dei as u16) << 12) | (self.vid & 0x0fff)
    }

    fn from_tci(tpid: EtherType, tci: u16) -> VlanTag {
        VlanTag {
            tpid,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }
}

mod field {
    use core::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const HEADER_LEN: usize = 14;
    // Inside an 802.1Q / 802.1ad tag, right after the TPID.
    pub const VLAN_TCI: Range<usize> = 14..16;
    pub const VLAN_ETHERTYPE: Range<usize> = 16..18;
    pub const TAGGED_HEADER_LEN: usize = 18;
}

/// The length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = field::HEADER_LEN;
/// The length of a header with one VLAN tag.
pub const TAGGED_HEADER_LEN: usize = field::TAGGED_HEADER_LEN;

/// A byte view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> EthernetFrame<T> {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<EthernetFrame<T>> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the header, including a VLAN tag if the EtherType
    /// announces one, is present.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.ethertype().is_vlan_tag() && len < field::TAGGED_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress(array(&self.buffer.as_ref()[field::DESTINATION]))
    }

    /// The source address.
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress(array(&self.buffer.as_ref()[field::SOURCE]))
    }

    /// The EtherType field at offset 12: a payload type, or a tag TPID.
    pub fn ethertype(&self) -> EtherType {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::ETHERTYPE]).into()
    }

    /// The VLAN tag, if the frame carries one.
    pub fn vlan(&self) -> Option<VlanTag> {
        let tpid = self.ethertype();
        if !tpid.is_vlan_tag() {
            return None;
        }
        let tci = NetworkEndian::read_u16(&self.buffer.as_ref()[field::VLAN_TCI]);
        Some(VlanTag::from_tci(tpid, tci))
    }

    /// The EtherType of the payload: after the tag in a tagged frame.
    pub fn payload_ethertype(&self) -> EtherType {
        if self.ethertype().is_vlan_tag() {
            NetworkEndian::read_u16(&self.buffer.as_ref()[field::VLAN_ETHERTYPE]).into()
        } else {
            self.ethertype()
        }
    }

    /// The length of the header: 14, or 18 with a tag.
    #[inline]
    pub fn header_len(&self) -> usize {
        if self.ethertype().is_vlan_tag() {
            field::TAGGED_HEADER_LEN
        } else {
            field::HEADER_LEN
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> EthernetFrame<&'a T> {
    /// The payload after the header (and tag), borrowed for the buffer's
    /// lifetime.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let header_len = self.header_len();
        &self.buffer.as_ref()[header_len..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0)
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0)
    }

    /// Sets the EtherType field at offset 12.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        NetworkEndian::write_u16(
            &mut self.buffer.as_mut()[field::ETHERTYPE],
            ethertype.into(),
        )
    }

    /// Writes a tag and the payload EtherType after it.
    ///
    /// The buffer must hold [`TAGGED_HEADER_LEN`] bytes.
    pub fn set_vlan(&mut self, tag: VlanTag, payload_ethertype: EtherType) {
        let buf = self.buffer.as_mut();
        NetworkEndian::write_u16(&mut buf[field::ETHERTYPE], tag.tpid.into());
        NetworkEndian::write_u16(&mut buf[field::VLAN_TCI], tag.tci());
        NetworkEndian::write_u16(&mut buf[field::VLAN_ETHERTYPE], payload_ethertype.into());
    }

    /// The payload after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        &mut self.buffer.as_mut()[header_len..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for EthernetFrame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed header of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Source address.
    pub src: EthernetAddress,
    /// Destination address.
    pub dst: EthernetAddress,
    /// The VLAN tag, if any.
    pub vlan: Option<VlanTag>,
    /// The type of the payload (after the tag, if any).
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Parses a checked frame.
    ///
    /// A frame with a second tag after the first is [`Error::Unsupported`].
    #[inline(always)]
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        // An untagged frame, the usual one, read through a view of exactly
        // its 14 header bytes: one EtherType conversion, no bounds checks.
        if let Some(header) = frame.buffer.as_ref().first_chunk::<{ field::HEADER_LEN }>() {
            let view = EthernetFrame::new_unchecked(header);
            let ethertype = view.ethertype();
            if !ethertype.is_vlan_tag() {
                return Ok(EthernetRepr {
                    src: view.src_addr(),
                    dst: view.dst_addr(),
                    vlan: None,
                    ethertype,
                });
            }
        }
        Self::parse_tagged(frame)
    }

    /// [`parse`](Self::parse) for a tagged or truncated frame, out of line
    /// so the usual case inlines into the receive path.
    #[inline(never)]
    fn parse_tagged<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        let ethertype = frame.payload_ethertype();
        if frame.vlan().is_some() && ethertype.is_vlan_tag() {
            return Err(Error::Unsupported);
        }
        Ok(EthernetRepr {
            src: frame.src_addr(),
            dst: frame.dst_addr(),
            vlan: frame.vlan(),
            ethertype,
        })
    }

    /// The header length `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        if self.vlan.is_some() {
            field::TAGGED_HEADER_LEN
        } else {
            field::HEADER_LEN
        }
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes of the frame.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        match self.vlan {
            Some(tag) => {
                frame.set_dst_addr(self.dst);
                frame.set_src_addr(self.src);
                frame.set_vlan(tag, self.ethertype)
            }
            None => {
                // One store of the whole header (built in registers), not
                // three narrow ones: the next layer's writes follow at once.
                let (d, s) = (self.dst.0, self.src.0);
                let [t0, t1] = u16::from(self.ethertype).to_be_bytes();
                let header = [
                    d[0], d[1], d[2], d[3], d[4], d[5], s[0], s[1], s[2], s[3], s[4], s[5], t0, t1,
                ];
                if let Some(dst) = frame
                    .buffer
                    .as_mut()
                    .first_chunk_mut::<{ field::HEADER_LEN }>()
                {
                    *dst = header;
                }
            }
        }
    }
}

impl fmt::Display for EthernetRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}", self.src, self.dst)?;
        if let Some(tag) = self.vlan {
            write!(f, " vlan {} p {}", tag.vid, tag.pcp)?;
        }
        write!(f, ", {}", self.ethertype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP request captured from Linux (`arping` over a veth pair in a
    /// test namespace, `scripts/capture.sh`): who-has 10.0.0.2 tell
    /// 10.0.0.1, padded by the sender to the 60-byte minimum.
    const ARP_REQUEST_FRAME: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn parse_broadcast_arp() {
        let frame = EthernetFrame::new_checked(&ARP_REQUEST_FRAME[..]).unwrap();
        let repr = EthernetRepr::parse(&frame).unwrap();
        assert_eq!(repr.dst, EthernetAddress::BROADCAST);
        assert_eq!(repr.src, EthernetAddress([0x02, 0, 0, 0, 0, 1]));
        assert_eq!(repr.ethertype, EtherType::Arp);
        assert_eq!(repr.vlan, None);
        assert_eq!(frame.payload().len(), 46);
    }

    #[test]
    fn emit_round_trip() {
        let repr = EthernetRepr {
            src: EthernetAddress([0x02, 0, 0, 0, 0, 1]),
            dst: EthernetAddress::BROADCAST,
            vlan: None,
            ethertype: EtherType::Arp,
        };
        let mut bytes = [0u8; 60];
        bytes[14..].copy_from_slice(&ARP_REQUEST_FRAME[14..]);
        repr.emit(&mut EthernetFrame::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, ARP_REQUEST_FRAME);
        let parsed = EthernetRepr::parse(&EthernetFrame::new_checked(&bytes[..]).unwrap());
        assert_eq!(parsed, Ok(repr));
    }

    #[test]
    fn vlan_tag_is_exposed_not_misparsed() {
        // Same frame with an 802.1Q tag, VID 100, PCP 5.
        let mut bytes = [0u8; 64];
        bytes[..12].copy_from_slice(&ARP_REQUEST_FRAME[..12]);
        bytes[12..18].copy_from_slice(&[0x81, 0x00, 0xa0, 0x64, 0x08, 0x06]);
        bytes[18..].copy_from_slice(&ARP_REQUEST_FRAME[14..]);
        let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
        assert_eq!(frame.ethertype(), EtherType::Vlan);
        assert_eq!(frame.payload_ethertype(), EtherType::Arp);
        let repr = EthernetRepr::parse(&frame).unwrap();
        let tag = repr.vlan.unwrap();
        assert_eq!((tag.vid, tag.pcp, tag.dei), (100, 5, false));
        assert_eq!(repr.ethertype, EtherType::Arp);
        assert_eq!(frame.payload(), &ARP_REQUEST_FRAME[14..]);

        let mut out = [0u8; 64];
        out[18..].copy_from_slice(&ARP_REQUEST_FRAME[14..]);
        assert_eq!(repr.buffer_len(), 18);
        repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);
    }

    #[test]
    fn truncated_frames() {
        assert_eq!(
            EthernetFrame::new_checked(&ARP_REQUEST_FRAME[..13]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            EthernetFrame::new_checked(&[][..]).err(),
            Some(Error::Truncated)
        );
        // A tag announced but cut off.
        let tagged = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0, 1,
        ];
        assert_eq!(
            EthernetFrame::new_checked(&tagged[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn double_tag_is_unsupported() {
        let mut bytes = [0u8; 22];
        bytes[12..18].copy_from_slice(&[0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00]);
        let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&frame), Err(Error::Unsupported));
    }

    #[test]
    fn address_classes() {
        let unicast = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
        assert!(unicast.is_unicast() && unicast.is_local() && !unicast.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        let group = core::net::Ipv4Addr::new(224, 129, 2, 3);
        assert_eq!(
            EthernetAddress::from_ipv4_multicast(group),
            EthernetAddress([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03])
        );
        let solicited = core::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0x0002);
        assert_eq!(
            EthernetAddress::from_ipv6_multicast(solicited),
            EthernetAddress([0x33, 0x33, 0xff, 0x00, 0x00, 0x02])
        );
        assert_eq!(EthernetAddress::from_bytes(&[1, 2, 3]), None);
        extern crate std;
        use std::string::ToString;
        assert_eq!(unicast.to_string(), "02:00:00:00:00:01");
    }
}
