//! IPv4 headers (RFC 791), CIDR blocks and address classification.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |R|D|M|    Fragment Offset      |  4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |  8
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          | 12
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        | 16
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (IHL * 4 - 20 bytes)               | 20
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Payload (up to Total Length)               |
//! ```
//!
//! The payload ends where the Total Length field says, not where the
//! buffer does: an Ethernet frame shorter than 60 bytes is padded by the
//! sender, and the padding is not part of the datagram.
//!
//! Options are walked and validated by [`Ipv4Packet::check_len`] (so a
//! checked view's [`options`](Ipv4Packet::option_iter) never runs past the
//! header) but otherwise skipped: [`Ipv4Repr`] does not carry them, and
//! [`Ipv4Repr::emit`] writes a 20-byte header without options.
//!
//! ```
//! use ethox::wire::ChecksumMode;
//! use ethox::wire::ip::{IpProtocol, Ipv4Addr};
//! use ethox::wire::ipv4::{Ipv4Packet, Ipv4Repr};
//!
//! let repr = Ipv4Repr {
//!     src: Ipv4Addr::new(10, 0, 0, 1),
//!     dst: Ipv4Addr::new(10, 0, 0, 2),
//!     protocol: IpProtocol::Udp,
//!     payload_len: 4,
//!     ttl: 64,
//!     ..Ipv4Repr::default()
//! };
//! let mut bytes = [0u8; 24];
//! bytes[20..].copy_from_slice(b"ping");
//! let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
//! repr.emit(&mut packet, ChecksumMode::Software);
//! assert!(packet.verify_checksum());
//!
//! let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
//! assert_eq!(Ipv4Repr::parse(&packet, ChecksumMode::Software), Ok(repr));
//! assert_eq!(packet.payload(), b"ping");
//! ```

use core::fmt;
use core::str::FromStr;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum;
use super::ip::{IpProtocol, Ipv4Addr};
use super::{ChecksumMode, Error, Result, array};

/// The IP version number this module handles.
pub const VERSION: u8 = 4;

/// The length of a header without options.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// The longest header: IHL 15, that is 60 bytes.
pub const MAX_HEADER_LEN: usize = 60;

/// The longest datagram the Total Length field can describe.
pub const MAX_PACKET_LEN: usize = u16::MAX as usize;

mod field {
    use core::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
    pub const HEADER_LEN: usize = 20;

    // Bits of the 16-bit word at FLAGS_FRAG.
    pub const FLAG_RESERVED: u16 = 0x8000;
    pub const FLAG_DF: u16 = 0x4000;
    pub const FLAG_MF: u16 = 0x2000;
    pub const FRAG_OFFSET_MASK: u16 = 0x1fff;
}

/// The Explicit Congestion Notification codepoint (RFC 3168 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Ecn {
    /// 00: the transport does not support ECN.
    #[default]
    NotEct,
    /// 01: ECN-capable transport, codepoint ECT(1).
    Ect1,
    /// 10: ECN-capable transport, codepoint ECT(0).
    Ect0,
    /// 11: congestion experienced.
    Ce,
}

impl From<u8> for Ecn {
    /// Takes the two low bits; the rest are ignored.
    fn from(bits: u8) -> Ecn {
        match bits & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }
}

impl From<Ecn> for u8 {
    fn from(ecn: Ecn) -> u8 {
        match ecn {
            Ecn::NotEct => 0b00,
            Ecn::Ect1 => 0b01,
            Ecn::Ect0 => 0b10,
            Ecn::Ce => 0b11,
        }
    }
}

enum_with_unknown! {
    /// The type octet of an IPv4 option (RFC 791 section 3.1, IANA "IP
    /// Option Numbers"): copy flag, class and number together.
    pub enum Ipv4OptionKind(u8) {
        /// End of option list; the rest of the header is padding.
        EndOfList = 0,
        /// No operation: one byte of alignment padding.
        NoOperation = 1,
        /// Record route (RFC 791).
        RecordRoute = 7,
        /// Internet timestamp (RFC 791).
        Timestamp = 68,
        /// Security (RFC 1108).
        Security = 130,
        /// Loose source and record route (RFC 791).
        LooseSourceRoute = 131,
        /// Stream identifier (RFC 791, obsolete).
        StreamId = 136,
        /// Strict source and record route (RFC 791).
        StrictSourceRoute = 137,
        /// Router alert (RFC 2113).
        RouterAlert = 148,
    }
}

impl Ipv4OptionKind {
    /// The exact total length (type and length octets included) that
    /// options of this kind must have, if the kind has a fixed size.
    const fn fixed_len(self) -> Option<usize> {
        match self {
            // RFC 791: "Length = 4" for the stream identifier.
            Ipv4OptionKind::StreamId => Some(4),
            // RFC 2113 section 2.1: "Length: 4".
            Ipv4OptionKind::RouterAlert => Some(4),
            _ => None,
        }
    }

    /// The shortest total length a variable-size option of this kind may
    /// have: the route options carry a pointer octet (RFC 791, "record
    /// route"), the timestamp option a pointer and an overflow/flags
    /// octet.
    const fn min_len(self) -> usize {
        match self {
            Ipv4OptionKind::RecordRoute
            | Ipv4OptionKind::LooseSourceRoute
            | Ipv4OptionKind::StrictSourceRoute => 3,
            Ipv4OptionKind::Timestamp => 4,
            _ => 2,
        }
    }
}

/// An iterator over the options of an IPv4 header.
///
/// It yields `(kind, data)` pairs, where `data` is what follows the type
/// and length octets (empty for the one-byte options No Operation and End
/// of List). After End of List the rest of the header is padding and is
/// not looked at. A malformed option (RFC 791 section 3.1: a length octet
/// that is missing, below 2, below the kind's minimum, not the kind's
/// fixed size, or running past the end of the header) yields
/// `Err(Error::BadOption)` once, and the iterator then ends. It never
/// reads outside the slice it was given and always terminates: every step
/// consumes at least one byte.
#[derive(Debug, Clone)]
pub struct Ipv4Options<'a> {
    rest: &'a [u8],
}

impl<'a> Ipv4Options<'a> {
    /// Walks the options area `options` (the header after its first 20
    /// bytes).
    pub const fn new(options: &'a [u8]) -> Ipv4Options<'a> {
        Ipv4Options { rest: options }
    }

    /// Walks all options and reports the first malformed one.
    pub fn validate(options: &'a [u8]) -> Result<()> {
        for option in Ipv4Options::new(options) {
            option?;
        }
        Ok(())
    }
}

impl<'a> Iterator for Ipv4Options<'a> {
    type Item = Result<(Ipv4OptionKind, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after_kind) = self.rest.split_first()?;
        let kind = Ipv4OptionKind::from(kind);
        match kind {
            Ipv4OptionKind::EndOfList => {
                self.rest = &[];
                return Some(Ok((kind, &[])));
            }
            Ipv4OptionKind::NoOperation => {
                self.rest = after_kind;
                return Some(Ok((kind, &[])));
            }
            _ => {}
        }
        // Every other option has a length octet counting the type and
        // length octets themselves.
        let len = after_kind.first().map(|&l| l as usize);
        let valid = match (len, kind.fixed_len()) {
            (None, _) => None,
            (Some(len), Some(fixed)) if len != fixed => None,
            (Some(len), _) if len < kind.min_len() => None,
            (Some(len), _) => self.rest.get(2..len).map(|data| (len, data)),
        };
        match valid {
            Some((len, data)) => {
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok((kind, data)))
            }
            None => {
                self.rest = &[];
                Some(Err(Error::BadOption))
            }
        }
    }
}

impl core::iter::FusedIterator for Ipv4Options<'_> {}

/// A byte view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that every byte an accessor may touch is present.
    ///
    /// * [`Error::Truncated`]: the buffer is shorter than 20 bytes, or
    ///   than the Total Length field claims.
    /// * [`Error::BadLength`]: IHL is below 5, or the header is longer
    ///   than Total Length.
    /// * [`Error::BadOption`]: an option runs past the header or has an
    ///   impossible length (see [`Ipv4Options`]).
    ///
    /// The version is not checked here but in [`Ipv4Repr::parse`], so that
    /// a caller can look at a packet of the wrong version.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < field::HEADER_LEN {
            return Err(Error::BadLength);
        }
        let total_len = self.total_len() as usize;
        if header_len > total_len {
            return Err(Error::BadLength);
        }
        if total_len > len {
            return Err(Error::Truncated);
        }
        // header_len <= total_len <= len: the options area is present.
        Ipv4Options::validate(self.options())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (4 for a packet this module can parse).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes: the IHL field times four.
    #[inline]
    pub fn header_len(&self) -> usize {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) as usize * 4
    }

    /// The Differentiated Services codepoint (RFC 2474), six bits.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// The ECN codepoint (RFC 3168).
    pub fn ecn(&self) -> Ecn {
        Ecn::from(self.buffer.as_ref()[field::DSCP_ECN])
    }

    /// The Total Length field: header and payload, in bytes.
    #[inline]
    pub fn total_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::TOTAL_LEN])
    }

    /// The Identification field.
    pub fn ident(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::IDENT])
    }

    fn flags_frag(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLAGS_FRAG])
    }

    /// The reserved flag bit, which RFC 791 says must be zero.
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & field::FLAG_RESERVED != 0
    }

    /// The Don't Fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & field::FLAG_DF != 0
    }

    /// The More Fragments flag.
    pub fn more_frags(&self) -> bool {
        self.flags_frag() & field::FLAG_MF != 0
    }

    /// The fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_frag() & field::FRAG_OFFSET_MASK) << 3
    }

    /// The Time to Live field.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The Protocol field: what the payload is.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The Header Checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::SRC_ADDR]))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::DST_ADDR]))
    }

    /// The header, options included.
    fn header(&self) -> &[u8] {
        let header_len = self.header_len();
        self.buffer.as_ref().get(..header_len).unwrap_or(&[])
    }

    /// The options area: the header after its first 20 bytes, padding
    /// included. Empty when IHL is 5.
    pub fn options(&self) -> &[u8] {
        self.header().get(field::HEADER_LEN..).unwrap_or(&[])
    }

    /// The options, one `(kind, data)` pair at a time.
    pub fn option_iter(&self) -> Ipv4Options<'_> {
        Ipv4Options::new(self.options())
    }

    /// Whether the header checksum is correct (RFC 791 section 3.1: the
    /// one's complement sum over the header, options included).
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(checksum::sum(self.header()))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv4Packet<&'a T> {
    /// The payload: from the end of the header to Total Length, borrowed
    /// for the buffer's lifetime. Bytes after Total Length (link-layer
    /// padding) are not part of it.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let range = self.header_len()..self.total_len() as usize;
        self.buffer.as_ref().get(range).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the IHL field from a header length in bytes (a multiple of 4
    /// from 20 to 60; other values are rounded down and masked).
    pub fn set_header_len(&mut self, len: usize) {
        let ihl = ((len / 4) & 0x0f) as u8;
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ihl;
    }

    /// Sets the DSCP (six bits; higher bits are ignored).
    pub fn set_dscp(&mut self, dscp: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0b11) | (dscp << 2);
    }

    /// Sets the ECN codepoint.
    pub fn set_ecn(&mut self, ecn: Ecn) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & !0b11) | u8::from(ecn);
    }

    /// Sets the Total Length field.
    pub fn set_total_len(&mut self, len: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::TOTAL_LEN], len)
    }

    /// Sets the Identification field.
    pub fn set_ident(&mut self, ident: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::IDENT], ident)
    }

    fn set_flags_frag(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::FLAGS_FRAG], value)
    }

    fn set_flag(&mut self, flag: u16, on: bool) {
        let value = self.flags_frag();
        self.set_flags_frag(if on { value | flag } else { value & !flag });
    }

    /// Sets or clears the reserved flag bit.
    pub fn set_reserved_flag(&mut self, on: bool) {
        self.set_flag(field::FLAG_RESERVED, on)
    }

    /// Sets or clears Don't Fragment.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(field::FLAG_DF, on)
    }

    /// Sets or clears More Fragments.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(field::FLAG_MF, on)
    }

    /// Sets the fragment offset from a byte offset (the low three bits are
    /// dropped: offsets count 8-byte units).
    pub fn set_frag_offset(&mut self, offset: u16) {
        let value = (self.flags_frag() & !field::FRAG_OFFSET_MASK) | (offset >> 3);
        self.set_flags_frag(value)
    }

    /// Sets the Time to Live field.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl
    }

    /// Sets the Protocol field.
    pub fn set_protocol(&mut self, protocol: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol.into()
    }

    /// Sets the Header Checksum field to a given value.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets())
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets())
    }

    /// Computes the header checksum over the current header (as long as
    /// IHL says, options included) and stores it.
    ///
    /// Call it after every other header field is final; the payload does
    /// not take part (RFC 791: "checksum on the header only").
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::sum(self.header());
        self.set_checksum(checksum::finish(sum));
    }

    /// The options area, writable (as long as IHL says).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(field::HEADER_LEN..header_len)
            .unwrap_or(&mut [])
    }

    /// The payload, writable: from the end of the header to Total Length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..self.total_len() as usize;
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed header of an IPv4 packet, options left out.
///
/// `frag_offset` is in bytes (always a multiple of 8), `payload_len` is
/// Total Length minus the header length, that is, without options. The
/// reserved flag bit is ignored on receive (as Linux does) and written as
/// zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// What the payload is.
    pub protocol: IpProtocol,
    /// The payload length in bytes (header and options excluded).
    pub payload_len: usize,
    /// Time to Live.
    pub ttl: u8,
    /// Differentiated Services codepoint, six bits.
    pub dscp: u8,
    /// ECN codepoint.
    pub ecn: Ecn,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes, a multiple of 8.
    pub frag_offset: u16,
}

impl Default for Ipv4Repr {
    /// An unfragmented, empty datagram between unspecified addresses with
    /// TTL 64 (the default Linux uses), protocol 255 (reserved).
    fn default() -> Ipv4Repr {
        Ipv4Repr {
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            protocol: IpProtocol::Unknown(255),
            payload_len: 0,
            ttl: 64,
            dscp: 0,
            ecn: Ecn::NotEct,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }
}

impl Ipv4Repr {
    /// Parses a packet, checking its lengths and options again.
    ///
    /// * [`Error::BadVersion`]: the version field is not 4.
    /// * [`Error::BadChecksum`]: the header checksum is wrong (only with
    ///   [`ChecksumMode::Software`]).
    /// * [`Error::Malformed`]: the fragment would end beyond the largest
    ///   datagram the Total Length field can describe (RFC 791: 65535
    ///   bytes; the "ping of death" overflow).
    /// * Whatever [`Ipv4Packet::check_len`] reports.
    ///
    /// Source addresses are not judged here (RFC 1122 section 3.2.1.3
    /// leaves that to the IP layer, which knows its subnets).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Ipv4Packet<T>,
        checksum: ChecksumMode,
    ) -> Result<Ipv4Repr> {
        let bytes = packet.buffer.as_ref();
        // The usual header, version 4 without options, read through a
        // view of exactly its 20 bytes: the same accessors, without a
        // bounds check or an options walk each.
        if let Some(header) = bytes.first_chunk::<{ field::HEADER_LEN }>()
            && header[field::VER_IHL] == (VERSION << 4) | (field::HEADER_LEN / 4) as u8
        {
            let view = Ipv4Packet::new_unchecked(header);
            let total_len = usize::from(view.total_len());
            // The checks of `check_len`, in its order, for this shape.
            if total_len < field::HEADER_LEN {
                return Err(Error::BadLength);
            }
            if total_len > bytes.len() {
                return Err(Error::Truncated);
            }
            return Self::parse_checked(&view, total_len, checksum);
        }
        packet.check_len()?;
        if packet.version() != VERSION {
            return Err(Error::BadVersion);
        }
        Self::parse_checked(packet, usize::from(packet.total_len()), checksum)
    }

    /// The rest of [`parse`](Self::parse) once the lengths and the version
    /// are known good: the checksum, the fragment's end, the fields.
    #[inline]
    fn parse_checked<T: AsRef<[u8]>>(
        packet: &Ipv4Packet<T>,
        total_len: usize,
        checksum: ChecksumMode,
    ) -> Result<Ipv4Repr> {
        if checksum.in_software() && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let header_len = packet.header_len();
        let payload_len = total_len.saturating_sub(header_len);
        // The reassembled datagram carries at least a 20-byte header; its
        // payload ends at frag_offset + payload_len.
        if packet.frag_offset() as usize + payload_len > MAX_PACKET_LEN - field::HEADER_LEN {
            return Err(Error::Malformed);
        }
        Ok(Ipv4Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len,
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// The header length `emit` writes: 20, as it writes no options.
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// Whether this header describes a fragment rather than a whole
    /// datagram.
    pub const fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Writes the 20-byte header into the front of `packet`.
    ///
    /// The packet buffer must hold [`buffer_len`](Self::buffer_len) bytes.
    /// Total Length is `20 + payload_len`, saturated at 65535: a caller
    /// that needs more has to fragment first. The fragment offset loses
    /// its low three bits, DSCP its high two. With
    /// [`ChecksumMode::Software`] the header checksum is filled in (it
    /// covers only the header, so the payload may be written before or
    /// after); with [`ChecksumMode::Offloaded`] the field is zero for the
    /// device to fill.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Ipv4Packet<T>,
        checksum: ChecksumMode,
    ) {
        let ver_ihl = (VERSION << 4) | (field::HEADER_LEN / 4) as u8;
        let tos = ((self.dscp & 0x3f) << 2) | u8::from(self.ecn);
        let total_len = self.payload_len.saturating_add(field::HEADER_LEN);
        let total_len = u16::try_from(total_len).unwrap_or(u16::MAX);
        let mut flags_frag = (self.frag_offset >> 3) & field::FRAG_OFFSET_MASK;
        if self.dont_frag {
            flags_frag |= field::FLAG_DF;
        }
        if self.more_frags {
            flags_frag |= field::FLAG_MF;
        }
        let protocol = u8::from(self.protocol);
        let s = self.src.octets();
        let d = self.dst.octets();
        let [len_hi, len_lo] = total_len.to_be_bytes();
        let [id_hi, id_lo] = self.ident.to_be_bytes();
        let [ff_hi, ff_lo] = flags_frag.to_be_bytes();
        // The header is assembled in registers and stored at once: one
        // wide store instead of a dozen narrow ones, and the checksum is
        // summed from the same values (reading back bytes just written
        // would wait on store forwarding).
        let mut header = [
            ver_ihl, tos, len_hi, len_lo, id_hi, id_lo, ff_hi, ff_lo, self.ttl, protocol, 0, 0,
            s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3],
        ];
        if checksum.in_software() {
            let sum = checksum::Accumulator::new()
                .word(u16::from_be_bytes([ver_ihl, tos]))
                .word(total_len)
                .word(self.ident)
                .word(flags_frag)
                .word(u16::from_be_bytes([self.ttl, protocol]))
                .bytes4(s)
                .bytes4(d)
                .sum();
            let value = checksum::finish(sum).to_be_bytes();
            header[10] = value[0];
            header[11] = value[1];
        }
        if let Some(dst) = packet
            .buffer
            .as_mut()
            .first_chunk_mut::<{ field::HEADER_LEN }>()
        {
            *dst = header;
        }
    }
}

impl fmt::Display for Ipv4Repr {
    /// `IPv4 10.0.0.1 > 10.0.0.2`, and for a fragment
    /// ` frag id 7 off 1480+` (the `+` when more fragments follow).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IPv4 {} > {}", self.src, self.dst)?;
        if self.is_fragment() {
            write!(f, " frag id {} off {}", self.ident, self.frag_offset)?;
            if self.more_frags {
                f.write_str("+")?;
            }
        }
        Ok(())
    }
}

/// An IPv4 address with a prefix length: an interface address and its
/// subnet, or a route.
///
/// The address keeps its host bits (`10.0.0.1/24` is an interface
/// address); [`network`](Self::network) clears them.
///
/// ```
/// use ethox::wire::ipv4::Ipv4Cidr;
/// use ethox::wire::ip::Ipv4Addr;
///
/// let cidr: Ipv4Cidr = "10.0.0.1/24".parse().unwrap();
/// assert_eq!(cidr.broadcast(), Some(Ipv4Addr::new(10, 0, 0, 255)));
/// assert!(cidr.contains_addr(Ipv4Addr::new(10, 0, 0, 77)));
/// assert_eq!(cidr.network().to_string(), "10.0.0.0/24");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    address: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// A block of `prefix_len` leading bits; [`Error::BadLength`] when
    /// `prefix_len` is above 32.
    pub const fn new(address: Ipv4Addr, prefix_len: u8) -> Result<Ipv4Cidr> {
        if prefix_len > 32 {
            return Err(Error::BadLength);
        }
        Ok(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    /// A block from a dotted netmask; `None` unless the mask is a run of
    /// ones followed by zeros.
    pub const fn from_netmask(address: Ipv4Addr, netmask: Ipv4Addr) -> Option<Ipv4Cidr> {
        let mask = netmask.to_bits();
        let ones = mask.leading_ones();
        if mask.count_ones() != ones {
            return None;
        }
        match Ipv4Cidr::new(address, ones as u8) {
            Ok(cidr) => Some(cidr),
            Err(_) => None,
        }
    }

    /// The address, host bits included.
    pub const fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The prefix length, 0 to 32.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    const fn mask_bits(&self) -> u32 {
        // A shift by 32 would overflow: /0 masks nothing.
        match u32::MAX.checked_shl(32 - self.prefix_len as u32) {
            Some(mask) => mask,
            None => 0,
        }
    }

    /// The netmask, `255.255.255.0` for a /24.
    pub const fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.mask_bits())
    }

    /// The block with its host bits cleared.
    pub const fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            address: Ipv4Addr::from_bits(self.address.to_bits() & self.mask_bits()),
            prefix_len: self.prefix_len,
        }
    }

    /// The directed broadcast address of the subnet (all host bits set).
    ///
    /// `None` for /31 and /32: a /31 is a point-to-point link whose two
    /// addresses are both hosts (RFC 3021), and a /32 is a single host.
    pub const fn broadcast(&self) -> Option<Ipv4Addr> {
        if self.prefix_len >= 31 {
            return None;
        }
        Some(Ipv4Addr::from_bits(
            self.address.to_bits() | !self.mask_bits(),
        ))
    }

    /// Whether `addr` is this subnet's directed broadcast address.
    pub const fn is_subnet_broadcast(&self, addr: Ipv4Addr) -> bool {
        match self.broadcast() {
            Some(broadcast) => broadcast.to_bits() == addr.to_bits(),
            None => false,
        }
    }

    /// Whether `addr` lies in the block.
    pub const fn contains_addr(&self, addr: Ipv4Addr) -> bool {
        let mask = self.mask_bits();
        addr.to_bits() & mask == self.address.to_bits() & mask
    }

    /// Whether all of `subnet` lies in the block.
    pub const fn contains_subnet(&self, subnet: Ipv4Cidr) -> bool {
        self.prefix_len <= subnet.prefix_len && self.contains_addr(subnet.address)
    }
}

impl fmt::Display for Ipv4Cidr {
    /// `10.0.0.1/24`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Error;

    /// Parses `a.b.c.d/n`; anything else is [`Error::Malformed`].
    fn from_str(s: &str) -> Result<Ipv4Cidr> {
        let (addr, prefix) = s.split_once('/').ok_or(Error::Malformed)?;
        let addr = Ipv4Addr::from_str(addr).map_err(|_| Error::Malformed)?;
        // u8::from_str accepts a leading '+'; a prefix is digits only.
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Malformed);
        }
        let prefix = u8::from_str(prefix).map_err(|_| Error::Malformed)?;
        Ipv4Cidr::new(addr, prefix).map_err(|_| Error::Malformed)
    }
}

/// What kind of address an IPv4 address is, by the special-purpose blocks
/// that hold regardless of any subnet (RFC 1122 section 3.2.1.3, RFC 3927,
/// RFC 5771, RFC 6890).
///
/// A subnet's directed broadcast address depends on the subnet: see
/// [`Ipv4Cidr::is_subnet_broadcast`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv4Class {
    /// `0.0.0.0`: no address yet (a DHCP client's source).
    Unspecified,
    /// `0.0.0.0/8` other than `0.0.0.0`: "this host on this network",
    /// never a destination (RFC 1122 section 3.2.1.3 (b)).
    ThisNetwork,
    /// `127.0.0.0/8`: must never appear on a wire.
    Loopback,
    /// `169.254.0.0/16` (RFC 3927).
    LinkLocal,
    /// `224.0.0.0/4` (RFC 5771).
    Multicast,
    /// `255.255.255.255`: the limited broadcast address.
    Broadcast,
    /// `240.0.0.0/4` other than the limited broadcast: reserved.
    Reserved,
    /// Any other address (private ranges included).
    Unicast,
}

impl Ipv4Class {
    /// Whether a datagram may carry this address as its source:
    /// multicast, broadcast and reserved addresses are never sources (RFC
    /// 1122 section 3.2.1.3), nor is loopback outside the host.
    pub const fn is_valid_source(self) -> bool {
        !matches!(
            self,
            Ipv4Class::Multicast | Ipv4Class::Broadcast | Ipv4Class::Reserved | Ipv4Class::Loopback
        )
    }
}

/// Classifies an address; see [`Ipv4Class`].
pub const fn classify(addr: Ipv4Addr) -> Ipv4Class {
    let o = addr.octets();
    if addr.is_unspecified() {
        Ipv4Class::Unspecified
    } else if o[0] == 0 {
        Ipv4Class::ThisNetwork
    } else if addr.is_loopback() {
        Ipv4Class::Loopback
    } else if addr.is_link_local() {
        Ipv4Class::LinkLocal
    } else if addr.is_multicast() {
        Ipv4Class::Multicast
    } else if addr.is_broadcast() {
        Ipv4Class::Broadcast
    } else if o[0] >= 240 {
        Ipv4Class::Reserved
    } else {
        Ipv4Class::Unicast
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    // All fixtures below were captured with `scripts/capture.sh` between
    // two network namespaces (10.0.0.1 in host a, 10.0.0.2 in host b) and
    // are the IPv4 packets without their Ethernet header.

    /// `ping -c 1 10.0.0.2`: the echo request, DF set, 64 data bytes
    /// (ethox/tests/fixtures/ipv4-ping.pcap, frame 1).
    const PING_REQUEST: [u8; 84] = [
        0x45, 0x00, 0x00, 0x54, 0xf8, 0x38, 0x40, 0x00, 0x40, 0x01, 0x2e, 0x6e, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0x4c, 0xca, 0x25, 0x25, 0x00, 0x01, 0xea, 0x1a,
        0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xda, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
        0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// The header of the echo reply from the same capture (frame 2):
    /// Linux answers with DF clear and its own identification.
    const PING_REPLY: [u8; 20] = [
        0x45, 0x00, 0x00, 0x54, 0xba, 0x68, 0x00, 0x00, 0x40, 0x01, 0xac, 0x3e, 0x0a, 0x00, 0x00,
        0x02, 0x0a, 0x00, 0x00, 0x01,
    ];

    /// `echo -n hello-ethox | socat -u - UDP4-SENDTO:10.0.0.2:5000`
    /// (ipv4-udp.pcap): 39 bytes, so its Ethernet frame needed padding on
    /// a real NIC.
    const UDP_DATAGRAM: [u8; 39] = [
        0x45, 0x00, 0x00, 0x27, 0x4c, 0xfc, 0x40, 0x00, 0x40, 0x11, 0xd9, 0xc7, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0xbd, 0xbc, 0x13, 0x88, 0x00, 0x13, 0x90, 0x9d, 0x68, 0x65,
        0x6c, 0x6c, 0x6f, 0x2d, 0x65, 0x74, 0x68, 0x6f, 0x78,
    ];

    /// `ping -R -c 1 10.0.0.2` (ipv4-options.pcap, frame 1): IHL 15 with
    /// a NOP and a 39-byte record-route option holding 10.0.0.1.
    const RECORD_ROUTE_REQUEST: [u8; 124] = [
        0x4f, 0x00, 0x00, 0x7c, 0x95, 0xc6, 0x40, 0x00, 0x40, 0x01, 0x54, 0xa8, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0x01, 0x07, 0x27, 0x08, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x48, 0x57, 0x28, 0x63, 0x00, 0x01, 0xf4, 0x1a, 0x02, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0xc8, 0xeb, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];

    /// The 60-byte header of the reply (frame 2): record route with three
    /// addresses filled in, then End of List.
    const RECORD_ROUTE_REPLY_HEADER: [u8; 60] = [
        0x4f, 0x00, 0x00, 0x7c, 0x8f, 0xf1, 0x00, 0x00, 0x40, 0x01, 0xb0, 0x48, 0x0a, 0x00, 0x00,
        0x02, 0x0a, 0x00, 0x00, 0x01, 0x07, 0x27, 0x10, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00,
        0x02, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// `ip link set eth0 mtu 1400; ping -s 3000 -c 1 10.0.0.2`
    /// (ipv4-frag.pcap): the headers of the first two fragments (1396
    /// bytes each, offsets 0 and 1376, MF set) ...
    const FRAG_FIRST_HEADER: [u8; 20] = [
        0x45, 0x00, 0x05, 0x74, 0x21, 0x32, 0x20, 0x00, 0x40, 0x01, 0x20, 0x55, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02,
    ];
    const FRAG_MIDDLE_HEADER: [u8; 20] = [
        0x45, 0x00, 0x05, 0x74, 0x21, 0x32, 0x20, 0xac, 0x40, 0x01, 0x1f, 0xa9, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02,
    ];

    /// ... and the whole last fragment (offset 2752, MF clear).
    const FRAG_LAST: [u8; 276] = [
        0x45, 0x00, 0x01, 0x14, 0x21, 0x32, 0x01, 0x58, 0x40, 0x01, 0x43, 0x5d, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
        0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0,
        0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
        0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee,
        0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
        0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
        0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
        0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
        0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
        0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
        0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75,
        0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84,
        0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93,
        0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
        0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
        0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    ];

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn parse(bytes: &[u8]) -> Result<Ipv4Repr> {
        Ipv4Repr::parse(&Ipv4Packet::new_checked(bytes)?, ChecksumMode::Software)
    }

    /// A full-length packet made of a captured header and zero payload.
    fn with_zero_payload(header: &[u8]) -> Vec<u8> {
        let total = u16::from_be_bytes([header[2], header[3]]) as usize;
        let mut bytes = std::vec![0u8; total];
        bytes[..header.len()].copy_from_slice(header);
        bytes
    }

    /// Applies `edit` to a copy of `bytes` and fixes the header checksum,
    /// so that only the edited field is wrong.
    fn edited(bytes: &[u8], edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        edit(&mut bytes);
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        packet.fill_checksum();
        bytes
    }

    #[test]
    fn parse_ping_request() {
        let packet = Ipv4Packet::new_checked(&PING_REQUEST[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 84);
        assert_eq!(packet.ident(), 0xf838);
        assert!(packet.dont_frag() && !packet.more_frags() && !packet.reserved_flag());
        assert_eq!(packet.checksum(), 0x2e6e);
        assert!(packet.verify_checksum());
        assert_eq!(packet.options(), &[] as &[u8]);
        assert_eq!(packet.option_iter().count(), 0);
        assert_eq!(packet.payload(), &PING_REQUEST[20..]);
        let repr = Ipv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(
            repr,
            Ipv4Repr {
                src: A,
                dst: B,
                protocol: IpProtocol::Icmp,
                payload_len: 64,
                ttl: 64,
                dscp: 0,
                ecn: Ecn::NotEct,
                ident: 0xf838,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
            }
        );
        assert!(!repr.is_fragment());
        assert_eq!(repr.to_string(), "IPv4 10.0.0.1 > 10.0.0.2");
    }

    #[test]
    fn emit_reproduces_captured_headers() {
        for fixture in [
            &PING_REQUEST[..],
            &UDP_DATAGRAM[..],
            &FRAG_LAST[..],
            &with_zero_payload(&PING_REPLY),
            &with_zero_payload(&FRAG_FIRST_HEADER),
            &with_zero_payload(&FRAG_MIDDLE_HEADER),
        ] {
            let repr = parse(fixture).unwrap();
            assert_eq!(repr.buffer_len(), 20);
            let mut out = std::vec![0xa5u8; fixture.len()];
            repr.emit(
                &mut Ipv4Packet::new_unchecked(&mut out[..]),
                ChecksumMode::Software,
            );
            assert_eq!(&out[..20], &fixture[..20]);
        }
    }

    #[test]
    fn emit_reply_from_scratch() {
        // The reply header built from what tcpdump shows, not parsed.
        let repr = Ipv4Repr {
            src: B,
            dst: A,
            protocol: IpProtocol::Icmp,
            payload_len: 64,
            ttl: 64,
            ident: 0xba68,
            ..Ipv4Repr::default()
        };
        let mut out = [0u8; 20];
        repr.emit(
            &mut Ipv4Packet::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(out, PING_REPLY);
    }

    #[test]
    fn emit_offloaded_leaves_checksum_zero() {
        let repr = parse(&PING_REQUEST).unwrap();
        let mut out = PING_REQUEST;
        let mut packet = Ipv4Packet::new_unchecked(&mut out[..]);
        repr.emit(&mut packet, ChecksumMode::Offloaded);
        assert_eq!(packet.checksum(), 0);
        assert!(!packet.verify_checksum());
        let packet = Ipv4Packet::new_checked(&out[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&packet, ChecksumMode::Offloaded), Ok(repr));
        assert_eq!(
            Ipv4Repr::parse(&packet, ChecksumMode::Software),
            Err(Error::BadChecksum)
        );
    }

    #[test]
    fn round_trip_every_field() {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(198, 51, 100, 7),
            protocol: IpProtocol::Tcp,
            payload_len: 9,
            ttl: 3,
            dscp: 46,
            ecn: Ecn::Ce,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
        };
        let mut bytes = [0u8; 29];
        repr.emit(
            &mut Ipv4Packet::new_unchecked(&mut bytes[..]),
            ChecksumMode::Software,
        );
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.dscp(), 46);
        assert_eq!(packet.ecn(), Ecn::Ce);
        assert_eq!(Ipv4Repr::parse(&packet, ChecksumMode::Software), Ok(repr));
        assert_eq!(
            repr.to_string(),
            "IPv4 192.0.2.1 > 198.51.100.7 frag id 48879 off 1480+"
        );
    }

    #[test]
    fn udp_payload_excludes_ethernet_padding() {
        // On a NIC the 53-byte frame is padded to 60: seven more bytes
        // after the datagram, which the veth capture does not show.
        let mut padded = [0u8; 46];
        padded[..39].copy_from_slice(&UDP_DATAGRAM);
        let packet = Ipv4Packet::new_checked(&padded[..]).unwrap();
        let repr = Ipv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(repr.protocol, IpProtocol::Udp);
        assert_eq!(repr.payload_len, 19);
        assert_eq!(packet.payload(), &UDP_DATAGRAM[20..]);
        assert_eq!(&packet.payload()[8..], b"hello-ethox");
        assert_eq!(repr.to_string(), "IPv4 10.0.0.1 > 10.0.0.2");
    }

    #[test]
    fn fragments() {
        let first = with_zero_payload(&FRAG_FIRST_HEADER);
        let middle = with_zero_payload(&FRAG_MIDDLE_HEADER);
        let expected = [
            (
                &first[..],
                0,
                true,
                "IPv4 10.0.0.1 > 10.0.0.2 frag id 8498 off 0+",
            ),
            (
                &middle[..],
                1376,
                true,
                "IPv4 10.0.0.1 > 10.0.0.2 frag id 8498 off 1376+",
            ),
            (
                &FRAG_LAST[..],
                2752,
                false,
                "IPv4 10.0.0.1 > 10.0.0.2 frag id 8498 off 2752",
            ),
        ];
        for (bytes, offset, more, display) in expected {
            let repr = parse(bytes).unwrap();
            assert_eq!(repr.ident, 8498);
            assert_eq!(repr.frag_offset, offset);
            assert_eq!(repr.more_frags, more);
            assert!(!repr.dont_frag);
            assert!(repr.is_fragment());
            assert_eq!(repr.to_string(), display);
        }
        let last = Ipv4Packet::new_checked(&FRAG_LAST[..]).unwrap();
        assert_eq!(last.payload().len(), 256);
        // 3000 bytes of data + 8 of ICMP header, split 1376 + 1376 + 256.
        assert_eq!(2752 + last.payload().len(), 3008);
    }

    #[test]
    fn record_route_options() {
        let packet = Ipv4Packet::new_checked(&RECORD_ROUTE_REQUEST[..]).unwrap();
        assert_eq!(packet.header_len(), 60);
        assert_eq!(packet.options().len(), 40);
        let options: Vec<_> = packet.option_iter().collect();
        assert_eq!(options.len(), 2);
        assert_eq!(options[0], Ok((Ipv4OptionKind::NoOperation, &[][..])));
        let (kind, data) = options[1].unwrap();
        assert_eq!(kind, Ipv4OptionKind::RecordRoute);
        // Pointer 8: one address recorded, 10.0.0.1, eight slots in all.
        assert_eq!(data.len(), 37);
        assert_eq!(&data[..5], &[8, 10, 0, 0, 1]);
        let repr = Ipv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(repr.payload_len, 64);
        assert_eq!(packet.payload(), &RECORD_ROUTE_REQUEST[60..]);
        assert_eq!(packet.payload()[0], 8); // ICMP echo request
        assert_eq!(repr.to_string(), "IPv4 10.0.0.1 > 10.0.0.2");

        // The emitted header has no options: 20 bytes, IHL 5, and a total
        // length 40 bytes shorter.
        let mut out = [0u8; 84];
        out[20..].copy_from_slice(packet.payload());
        repr.emit(
            &mut Ipv4Packet::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        let emitted = Ipv4Packet::new_checked(&out[..]).unwrap();
        assert_eq!((emitted.header_len(), emitted.total_len()), (20, 84));
        assert_eq!(Ipv4Repr::parse(&emitted, ChecksumMode::Software), Ok(repr));
    }

    #[test]
    fn record_route_reply_ends_with_end_of_list() {
        let bytes = with_zero_payload(&RECORD_ROUTE_REPLY_HEADER);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(packet.verify_checksum());
        let options: Vec<_> = packet.option_iter().map(|o| o.unwrap()).collect();
        assert_eq!(options.len(), 2);
        assert_eq!(options[0].0, Ipv4OptionKind::RecordRoute);
        assert_eq!(
            &options[0].1[..13],
            &[16, 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 2]
        );
        assert_eq!(options[1], (Ipv4OptionKind::EndOfList, &[][..]));
        assert_eq!(parse(&bytes).unwrap().src, B);
    }

    #[test]
    fn every_prefix_is_an_error_or_a_parse() {
        let first = with_zero_payload(&FRAG_FIRST_HEADER);
        for fixture in [
            &PING_REQUEST[..],
            &UDP_DATAGRAM[..],
            &RECORD_ROUTE_REQUEST[..],
            &FRAG_LAST[..],
            &first[..],
        ] {
            for len in 0..fixture.len() {
                // Every proper prefix is shorter than Total Length.
                assert_eq!(parse(&fixture[..len]), Err(Error::Truncated), "len {len}");
                // Once the fixed header is there, even an unchecked view
                // cuts the variable parts short instead of panicking.
                if len >= HEADER_LEN {
                    let packet = Ipv4Packet::new_unchecked(&fixture[..len]);
                    let _ = (
                        packet.payload(),
                        packet.options(),
                        packet.option_iter().count(),
                    );
                }
            }
            assert!(parse(fixture).is_ok());
        }
    }

    #[test]
    fn bad_version() {
        let bytes = edited(&PING_REQUEST, |b| b[0] = 0x65);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 6);
        assert_eq!(
            Ipv4Repr::parse(&packet, ChecksumMode::Software),
            Err(Error::BadVersion)
        );
    }

    #[test]
    fn ihl_below_five() {
        for ihl in 0..5 {
            let bytes = edited(&PING_REQUEST, |b| b[0] = 0x40 | ihl);
            assert_eq!(parse(&bytes), Err(Error::BadLength), "ihl {ihl}");
        }
    }

    #[test]
    fn header_longer_than_total_length() {
        // IHL 6 (24 bytes) but Total Length 22.
        let bytes = edited(&PING_REQUEST, |b| {
            b[0] = 0x46;
            b[3] = 22;
        });
        assert_eq!(parse(&bytes), Err(Error::BadLength));
        // Total Length below the fixed header.
        let bytes = edited(&PING_REQUEST, |b| b[3] = 19);
        assert_eq!(parse(&bytes), Err(Error::BadLength));
    }

    #[test]
    fn total_length_beyond_buffer() {
        let bytes = edited(&PING_REQUEST, |b| b[3] = 85);
        assert_eq!(parse(&bytes), Err(Error::Truncated));
        let bytes = edited(&PING_REQUEST, |b| b[2..4].copy_from_slice(&[0xff, 0xff]));
        assert_eq!(parse(&bytes), Err(Error::Truncated));
    }

    #[test]
    fn total_length_shorter_than_buffer_is_padding() {
        let bytes = edited(&PING_REQUEST, |b| b[3] = 28);
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.payload(), &PING_REQUEST[20..28]);
        assert_eq!(parse(&bytes).unwrap().payload_len, 8);
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = PING_REQUEST;
        bytes[8] = 63; // TTL decremented without updating the checksum
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum());
        let repr = Ipv4Repr::parse(&packet, ChecksumMode::Offloaded).unwrap();
        assert_eq!(repr.ttl, 63);
        // The checksum covers the options too.
        let mut bytes = RECORD_ROUTE_REQUEST;
        bytes[30] = 99;
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
        // But not the payload.
        let mut bytes = PING_REQUEST;
        bytes[40] ^= 0xff;
        assert!(parse(&bytes).is_ok());
    }

    #[test]
    fn option_overruns_header() {
        // Record route claims 41 bytes where 39 remain after the NOP.
        let bytes = edited(&RECORD_ROUTE_REQUEST, |b| b[22] = 41);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let packet = Ipv4Packet::new_unchecked(&bytes[..]);
        let items: Vec<_> = packet.option_iter().collect();
        assert_eq!(
            items,
            [
                Ok((Ipv4OptionKind::NoOperation, &[][..])),
                Err(Error::BadOption)
            ]
        );
    }

    #[test]
    fn option_length_zero_or_one() {
        for len in [0, 1] {
            let bytes = edited(&RECORD_ROUTE_REQUEST, |b| b[22] = len);
            assert_eq!(parse(&bytes), Err(Error::BadOption), "len {len}");
        }
        // Record route needs its pointer octet: length 2 is too short.
        let bytes = edited(&RECORD_ROUTE_REQUEST, |b| b[22] = 2);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
    }

    #[test]
    fn option_missing_length_byte() {
        // IHL 6: an unknown option kind in the last byte has no room for
        // its length octet.
        let mut bytes = [0u8; 24];
        bytes[..20].copy_from_slice(&PING_REQUEST[..20]);
        let bytes = edited(&bytes, |b| {
            b[0] = 0x46;
            b[3] = 24;
            b[20..24].copy_from_slice(&[1, 1, 1, 0x99]);
        });
        assert_eq!(parse(&bytes), Err(Error::BadOption));
    }

    #[test]
    fn router_alert_wrong_size() {
        let mut bytes = [0u8; 24];
        bytes[..20].copy_from_slice(&PING_REQUEST[..20]);
        let good = edited(&bytes, |b| {
            b[0] = 0x46;
            b[3] = 24;
            b[20..24].copy_from_slice(&[0x94, 4, 0, 0]);
        });
        assert!(parse(&good).is_ok());
        let bad = edited(&good, |b| b[20..24].copy_from_slice(&[0x94, 3, 0, 1]));
        assert_eq!(parse(&bad), Err(Error::BadOption));
    }

    #[test]
    fn bytes_after_end_of_list_are_padding() {
        let mut bytes = [0u8; 24];
        bytes[..20].copy_from_slice(&PING_REQUEST[..20]);
        let bytes = edited(&bytes, |b| {
            b[0] = 0x46;
            b[3] = 24;
            // EOL then garbage that would be a malformed option.
            b[20..24].copy_from_slice(&[0, 0x83, 0, 0]);
        });
        assert!(parse(&bytes).is_ok());
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.option_iter().count(), 1);
    }

    #[test]
    fn fragment_beyond_max_datagram() {
        // Offset 65528 (field 0x1fff) with 64 bytes of payload: the
        // reassembled datagram would be longer than 65535 bytes.
        let bytes = edited(&PING_REQUEST, |b| b[6..8].copy_from_slice(&[0x1f, 0xff]));
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        // Offset 65512 + 3 bytes still fits (65535 - 20 = 65515).
        let bytes = edited(&PING_REQUEST, |b| {
            b[6..8].copy_from_slice(&[0x1f, 0xfd]);
            b[3] = 23;
        });
        assert_eq!(parse(&bytes).unwrap().frag_offset, 65512);
    }

    #[test]
    fn options_walker_terminates_on_any_bytes() {
        // Every option area of up to three bytes, and forty-byte areas of
        // every repeated pattern: never a panic, never more items than
        // bytes.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for area in [&[a][..], &[a, b][..], &[a, b, a][..], &[b, a, 4, 0][..]] {
                    let n = Ipv4Options::new(area).count();
                    assert!(n <= area.len());
                }
            }
            let area = [a; 40];
            assert!(Ipv4Options::new(&area).count() <= 40);
        }
    }

    #[test]
    fn setters_and_options_mut() {
        let mut bytes = [0u8; 32];
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_version(4);
        packet.set_header_len(24);
        packet.set_dscp(10);
        packet.set_ecn(Ecn::Ect0);
        packet.set_total_len(32);
        packet.set_ident(7);
        packet.set_reserved_flag(true);
        packet.set_dont_frag(true);
        packet.set_more_frags(true);
        packet.set_more_frags(false);
        packet.set_frag_offset(16);
        packet.set_ttl(1);
        packet.set_protocol(IpProtocol::Igmp);
        packet.set_src_addr(A);
        packet.set_dst_addr(Ipv4Addr::new(224, 0, 0, 22));
        packet.options_mut().copy_from_slice(&[0x94, 4, 0, 0]);
        packet.payload_mut().copy_from_slice(&[9; 8]);
        packet.fill_checksum();
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((packet.dscp(), packet.ecn()), (10, Ecn::Ect0));
        assert!(packet.reserved_flag() && packet.dont_frag() && !packet.more_frags());
        assert_eq!(packet.frag_offset(), 16);
        assert_eq!(
            packet.option_iter().collect::<Vec<_>>(),
            [Ok((Ipv4OptionKind::RouterAlert, &[0, 0][..]))]
        );
        assert_eq!(packet.payload(), &[9; 8]);
        // The reserved bit is ignored on receive.
        let repr = Ipv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(repr.payload_len, 8);
        assert_eq!(
            repr.to_string(),
            "IPv4 10.0.0.1 > 224.0.0.22 frag id 7 off 16"
        );
    }

    #[test]
    fn ecn_codepoints() {
        for bits in 0..4u8 {
            assert_eq!(u8::from(Ecn::from(bits)), bits);
        }
        assert_eq!(Ecn::from(0b10), Ecn::Ect0);
        assert_eq!(Ecn::from(0xff), Ecn::Ce);
    }

    #[test]
    fn cidr_blocks() {
        let cidr = Ipv4Cidr::new(A, 24).unwrap();
        assert_eq!(cidr.to_string(), "10.0.0.1/24");
        assert_eq!(cidr.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(
            cidr.network(),
            Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 0), 24).unwrap()
        );
        assert_eq!(cidr.broadcast(), Some(Ipv4Addr::new(10, 0, 0, 255)));
        assert!(cidr.is_subnet_broadcast(Ipv4Addr::new(10, 0, 0, 255)));
        assert!(!cidr.is_subnet_broadcast(B));
        assert!(cidr.contains_addr(B));
        assert!(!cidr.contains_addr(Ipv4Addr::new(10, 0, 1, 1)));
        assert!(cidr.contains_subnet("10.0.0.128/25".parse().unwrap()));
        assert!(!cidr.contains_subnet("10.0.0.0/23".parse().unwrap()));
        assert_eq!(Ipv4Cidr::new(A, 33), Err(Error::BadLength));

        // RFC 3021: no broadcast on /31, none on /32.
        let p2p = Ipv4Cidr::new(A, 31).unwrap();
        assert_eq!(p2p.broadcast(), None);
        assert!(!p2p.is_subnet_broadcast(A));
        assert!(p2p.contains_addr(Ipv4Addr::new(10, 0, 0, 0)));
        let host = Ipv4Cidr::new(A, 32).unwrap();
        assert_eq!(host.netmask(), Ipv4Addr::BROADCAST);
        assert_eq!(host.broadcast(), None);
        assert!(host.contains_addr(A) && !host.contains_addr(B));

        let all = Ipv4Cidr::new(A, 0).unwrap();
        assert_eq!(all.netmask(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(all.network().address(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(all.broadcast(), Some(Ipv4Addr::BROADCAST));
        assert!(all.contains_addr(Ipv4Addr::new(203, 0, 113, 9)));
        assert!(all.contains_subnet(cidr));

        assert_eq!(
            Ipv4Cidr::from_netmask(A, Ipv4Addr::new(255, 255, 240, 0)),
            Ipv4Cidr::new(A, 20).ok()
        );
        assert_eq!(
            Ipv4Cidr::from_netmask(A, Ipv4Addr::new(255, 0, 255, 0)),
            None
        );

        for bad in [
            "10.0.0.1",
            "10.0.0.1/",
            "10.0.0.1/33",
            "10.0.0/8",
            "10.0.0.1/+8",
            "x/8",
            "10.0.0.1/008",
        ] {
            assert_eq!(bad.parse::<Ipv4Cidr>(), Err(Error::Malformed), "{bad}");
        }
        assert_eq!("0.0.0.0/0".parse::<Ipv4Cidr>(), Ok(all.network()));
    }

    #[test]
    fn address_classes() {
        let cases = [
            ("0.0.0.0", Ipv4Class::Unspecified),
            ("0.1.2.3", Ipv4Class::ThisNetwork),
            ("127.0.0.1", Ipv4Class::Loopback),
            ("169.254.9.9", Ipv4Class::LinkLocal),
            ("224.0.0.1", Ipv4Class::Multicast),
            ("239.255.255.255", Ipv4Class::Multicast),
            ("255.255.255.255", Ipv4Class::Broadcast),
            ("240.0.0.1", Ipv4Class::Reserved),
            ("10.0.0.1", Ipv4Class::Unicast),
            ("192.0.2.255", Ipv4Class::Unicast),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(addr.parse().unwrap()), class, "{addr}");
        }
        assert!(Ipv4Class::Unspecified.is_valid_source());
        assert!(Ipv4Class::Unicast.is_valid_source());
        assert!(!Ipv4Class::Multicast.is_valid_source());
        assert!(!Ipv4Class::Broadcast.is_valid_source());
    }
}
