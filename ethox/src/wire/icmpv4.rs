//! ICMP for IPv4 (RFC 792), with the next-hop MTU of RFC 1191 and the
//! original-datagram length of RFC 4884.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +---------------+---------------+-------------------------------+
//! |     type      |     code      |           checksum            |
//! +---------------+---------------+-------------------------------+
//! |              rest of header: depends on the type              |
//! +---------------------------------------------------------------+
//! |  data ...
//!
//! rest of header, by type:
//!   echo request / reply (8 / 0): | identifier    | sequence number |
//!   destination unreachable (3):  | unused | len  | next-hop MTU    |
//!   time exceeded (11):           | unused | len  | unused          |
//!   parameter problem (12):       | ptr    | len  | unused          |
//!   redirect (5):                 | gateway internet address        |
//! ```
//!
//! `len` is the RFC 4884 length of the quoted original datagram in 32-bit
//! words (0 in messages without extensions, which is what every message
//! this module emits says). For the error messages the data is the
//! invoking datagram's IP header and at least its first 8 bytes of payload
//! (RFC 792); [`Icmpv4Repr`] keeps it as raw bytes for the upper layer.
//!
//! ICMP has no length field of its own: the view covers the whole buffer,
//! so hand it exactly the IP payload (bounded by the IPv4 total length,
//! without Ethernet padding). The checksum covers the whole ICMP message
//! and, unlike UDP, TCP and ICMPv6, no pseudo-header.
//!
//! Parsing and emitting an echo request:
//!
//! ```
//! use ethox::wire::ChecksumMode;
//! use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
//!
//! let repr = Icmpv4Repr::EchoRequest { ident: 1, seq_no: 2, data: b"ping" };
//! let mut bytes = [0u8; 12];
//! assert_eq!(repr.buffer_len(), 12);
//! repr.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]), ChecksumMode::Software)
//!     .unwrap();
//!
//! let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
//! assert!(packet.verify_checksum());
//! let parsed = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "ICMP echo request id 1 seq 2 len 4");
//! ```
//!
//! Answering a ping in place, without copying the data: the stack turns
//! the received request into the reply with
//! [`Icmpv4Packet::echo_request_into_reply`], which rewrites the type and
//! patches the checksum incrementally (RFC 1624); the IP layer swaps the
//! addresses (which leaves the IPv4 header checksum unchanged).
//!
//! ```
//! use ethox::wire::ChecksumMode;
//! use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
//!
//! let request = Icmpv4Repr::EchoRequest { ident: 7, seq_no: 1, data: b"abc" };
//! let mut bytes = [0u8; 11];
//! request
//!     .emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]), ChecksumMode::Software)
//!     .unwrap();
//!
//! let mut packet = Icmpv4Packet::new_checked(&mut bytes[..]).unwrap();
//! packet.echo_request_into_reply().unwrap();
//! assert!(packet.verify_checksum());
//!
//! let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
//! assert_eq!(
//!     Icmpv4Repr::parse(&packet, ChecksumMode::Software),
//!     Ok(Icmpv4Repr::EchoReply { ident: 7, seq_no: 1, data: b"abc" })
//! );
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum;
use super::ip::Ipv4Addr;
use super::{ChecksumMode, Error, Result, array};

enum_with_unknown! {
    /// The ICMP type: what kind of message this is.
    pub enum Icmpv4Type(u8) {
        /// Echo reply (RFC 792).
        EchoReply = 0,
        /// Destination unreachable (RFC 792).
        DstUnreachable = 3,
        /// Redirect (RFC 792).
        Redirect = 5,
        /// Echo request (RFC 792).
        EchoRequest = 8,
        /// Router advertisement (RFC 1256).
        RouterAdvert = 9,
        /// Router solicitation (RFC 1256).
        RouterSolicit = 10,
        /// Time exceeded (RFC 792).
        TimeExceeded = 11,
        /// Parameter problem (RFC 792).
        ParamProblem = 12,
        /// Timestamp request (RFC 792).
        Timestamp = 13,
        /// Timestamp reply (RFC 792).
        TimestampReply = 14,
    }
}

impl fmt::Display for Icmpv4Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4Type::EchoReply => f.write_str("echo reply"),
            Icmpv4Type::DstUnreachable => f.write_str("dst-unreachable"),
            Icmpv4Type::Redirect => f.write_str("redirect"),
            Icmpv4Type::EchoRequest => f.write_str("echo request"),
            Icmpv4Type::RouterAdvert => f.write_str("router advertisement"),
            Icmpv4Type::RouterSolicit => f.write_str("router solicitation"),
            Icmpv4Type::TimeExceeded => f.write_str("time-exceeded"),
            Icmpv4Type::ParamProblem => f.write_str("param-problem"),
            Icmpv4Type::Timestamp => f.write_str("timestamp request"),
            Icmpv4Type::TimestampReply => f.write_str("timestamp reply"),
            Icmpv4Type::Unknown(t) => write!(f, "type {t}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a destination unreachable message (RFC 792, RFC 1122
    /// section 3.2.2.1, RFC 1812 section 5.2.7.1).
    pub enum Icmpv4DstUnreachable(u8) {
        /// Destination network unreachable.
        NetUnreachable = 0,
        /// Destination host unreachable.
        HostUnreachable = 1,
        /// Destination protocol unreachable.
        ProtoUnreachable = 2,
        /// Destination port unreachable.
        PortUnreachable = 3,
        /// Fragmentation needed and DF set; the message carries the
        /// next-hop MTU (RFC 1191).
        FragRequired = 4,
        /// Source route failed.
        SrcRouteFailed = 5,
        /// Destination network unknown.
        DstNetUnknown = 6,
        /// Destination host unknown.
        DstHostUnknown = 7,
        /// Source host isolated.
        SrcHostIsolated = 8,
        /// Communication with the destination network administratively
        /// prohibited.
        NetProhibited = 9,
        /// Communication with the destination host administratively
        /// prohibited.
        HostProhibited = 10,
        /// Destination network unreachable for the type of service.
        NetUnreachToS = 11,
        /// Destination host unreachable for the type of service.
        HostUnreachToS = 12,
        /// Communication administratively prohibited (RFC 1812).
        CommProhibited = 13,
        /// Host precedence violation (RFC 1812).
        HostPrecedenceViolation = 14,
        /// Precedence cutoff in effect (RFC 1812).
        PrecedenceCutoff = 15,
    }
}

impl fmt::Display for Icmpv4DstUnreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4DstUnreachable::NetUnreachable => f.write_str("net"),
            Icmpv4DstUnreachable::HostUnreachable => f.write_str("host"),
            Icmpv4DstUnreachable::ProtoUnreachable => f.write_str("protocol"),
            Icmpv4DstUnreachable::PortUnreachable => f.write_str("port"),
            Icmpv4DstUnreachable::FragRequired => f.write_str("frag-needed"),
            Icmpv4DstUnreachable::SrcRouteFailed => f.write_str("source-route-failed"),
            Icmpv4DstUnreachable::DstNetUnknown => f.write_str("net-unknown"),
            Icmpv4DstUnreachable::DstHostUnknown => f.write_str("host-unknown"),
            Icmpv4DstUnreachable::SrcHostIsolated => f.write_str("host-isolated"),
            Icmpv4DstUnreachable::NetProhibited => f.write_str("net-prohibited"),
            Icmpv4DstUnreachable::HostProhibited => f.write_str("host-prohibited"),
            Icmpv4DstUnreachable::NetUnreachToS => f.write_str("net-tos"),
            Icmpv4DstUnreachable::HostUnreachToS => f.write_str("host-tos"),
            Icmpv4DstUnreachable::CommProhibited => f.write_str("admin-prohibited"),
            Icmpv4DstUnreachable::HostPrecedenceViolation => {
                f.write_str("host-precedence-violation")
            }
            Icmpv4DstUnreachable::PrecedenceCutoff => f.write_str("precedence-cutoff"),
            Icmpv4DstUnreachable::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a time exceeded message (RFC 792).
    pub enum Icmpv4TimeExceeded(u8) {
        /// The TTL reached zero in transit.
        TtlExpired = 0,
        /// Fragment reassembly time exceeded.
        FragReassembly = 1,
    }
}

impl fmt::Display for Icmpv4TimeExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4TimeExceeded::TtlExpired => f.write_str("ttl"),
            Icmpv4TimeExceeded::FragReassembly => f.write_str("reassembly"),
            Icmpv4TimeExceeded::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a parameter problem message (RFC 792, RFC 1122 section
    /// 3.2.2.5, RFC 1812 section 5.2.7.3).
    pub enum Icmpv4ParamProblem(u8) {
        /// The pointer indicates the octet of the invoking header in error.
        AtPointer = 0,
        /// A required option is missing (RFC 1108).
        MissingOption = 1,
        /// Bad length.
        BadLength = 2,
    }
}

impl fmt::Display for Icmpv4ParamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4ParamProblem::AtPointer => f.write_str("pointer"),
            Icmpv4ParamProblem::MissingOption => f.write_str("missing-option"),
            Icmpv4ParamProblem::BadLength => f.write_str("bad-length"),
            Icmpv4ParamProblem::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a redirect message (RFC 792).
    pub enum Icmpv4Redirect(u8) {
        /// Redirect datagrams for the network.
        Net = 0,
        /// Redirect datagrams for the host.
        Host = 1,
        /// Redirect datagrams for the type of service and network.
        TosNet = 2,
        /// Redirect datagrams for the type of service and host.
        TosHost = 3,
    }
}

impl fmt::Display for Icmpv4Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4Redirect::Net => f.write_str("net"),
            Icmpv4Redirect::Host => f.write_str("host"),
            Icmpv4Redirect::TosNet => f.write_str("tos-net"),
            Icmpv4Redirect::TosHost => f.write_str("tos-host"),
            Icmpv4Redirect::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    // The second word, whose meaning depends on the type.
    pub const REST_OF_HEADER: Range<usize> = 4..8;
    // Echo request / reply.
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ_NO: Range<usize> = 6..8;
    // Parameter problem: the octet of the invoking header in error.
    pub const POINTER: usize = 4;
    // RFC 4884: length of the original datagram in 32-bit words, in
    // destination unreachable, time exceeded and parameter problem.
    pub const DATAGRAM_LEN: usize = 5;
    // Destination unreachable / fragmentation needed (RFC 1191).
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    // Redirect.
    pub const GATEWAY: Range<usize> = 4..8;
    pub const HEADER_LEN: usize = 8;
}

/// The length of the ICMP header (type, code, checksum, rest of header).
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// The shortest quotation of the invoking datagram an error message may
/// carry: a 20-byte IPv4 header and 8 bytes of its payload (RFC 792).
pub const MIN_QUOTE_LEN: usize = 28;

/// A byte view of an ICMPv4 message.
///
/// The view spans the whole buffer: there is no length field, the message
/// ends where the IP payload ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Icmpv4Packet<T> {
        Icmpv4Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Icmpv4Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 8-byte header is present: every accessor reads
    /// inside it, and [`data`](Icmpv4Packet::data) is whatever follows.
    ///
    /// The RFC 4884 length is not checked here because RFC 792 senders
    /// leave that byte unspecified; the accessors that use it
    /// ([`quoted_datagram`](Icmpv4Packet::quoted_datagram),
    /// [`extension`](Icmpv4Packet::extension)) bound it themselves.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv4Type {
        self.buffer.as_ref()[field::TYPE].into()
    }

    /// The message code, whose meaning depends on the type.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The second 32-bit word as a number, whatever the type.
    pub fn rest_of_header(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::REST_OF_HEADER])
    }

    /// The identifier of an echo (or timestamp) request or reply.
    pub fn echo_ident(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// The sequence number of an echo (or timestamp) request or reply.
    pub fn echo_seq_no(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::ECHO_SEQ_NO])
    }

    /// The next-hop MTU of a "fragmentation needed" message (RFC 1191);
    /// zero from routers that predate it.
    pub fn next_hop_mtu(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::NEXT_HOP_MTU])
    }

    /// The pointer of a parameter problem message: the offset of the octet
    /// in error inside the quoted header.
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }

    /// The gateway address of a redirect message.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::GATEWAY]))
    }

    /// The RFC 4884 length of the quoted original datagram, in 32-bit
    /// words, of a destination unreachable, time exceeded or parameter
    /// problem message. Zero means the message has no extension structure
    /// and the quotation runs to the end.
    pub fn rfc4884_length(&self) -> u8 {
        self.buffer.as_ref()[field::DATAGRAM_LEN]
    }

    /// The length of the header: always [`HEADER_LEN`].
    pub const fn header_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// Whether the checksum over the whole buffer is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(checksum::sum(self.buffer.as_ref()))
    }

    /// Where the RFC 4884 original datagram ends inside the data, if the
    /// length field is set and stays inside the buffer.
    fn quote_end(&self) -> Option<usize> {
        let words = self.buffer.as_ref().get(field::DATAGRAM_LEN)?;
        let quote_len = usize::from(*words) * 4;
        let data_len = self.buffer.as_ref().len().checked_sub(field::HEADER_LEN)?;
        if quote_len == 0 || quote_len > data_len {
            None
        } else {
            Some(quote_len)
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv4Packet<&'a T> {
    /// Everything after the 8-byte header, borrowed for the buffer's
    /// lifetime: the echo data, or the quoted invoking datagram of an
    /// error message.
    pub fn data(&self) -> &'a [u8] {
        self.buffer
            .as_ref()
            .get(field::HEADER_LEN..)
            .unwrap_or_default()
    }

    /// The quoted original datagram of an error message: the first
    /// `rfc4884_length() * 4` bytes of the data when that length is set
    /// and fits (RFC 4884 section 4), otherwise the whole data.
    pub fn quoted_datagram(&self) -> &'a [u8] {
        let data = self.data();
        match self.quote_end() {
            Some(end) => data.get(..end).unwrap_or(data),
            None => data,
        }
    }

    /// The RFC 4884 extension structure after the quoted datagram, if the
    /// length field announces one that fits in the buffer.
    pub fn extension(&self) -> Option<&'a [u8]> {
        let end = self.quote_end()?;
        self.data().get(end..)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Icmpv4Type) {
        self.buffer.as_mut()[field::TYPE] = value.into()
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// Sets the whole second word.
    pub fn set_rest_of_header(&mut self, value: u32) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::REST_OF_HEADER], value)
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], value)
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::ECHO_SEQ_NO], value)
    }

    /// Sets the next-hop MTU of a "fragmentation needed" message.
    pub fn set_next_hop_mtu(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::NEXT_HOP_MTU], value)
    }

    /// Sets the pointer of a parameter problem message.
    pub fn set_pointer(&mut self, value: u8) {
        self.buffer.as_mut()[field::POINTER] = value
    }

    /// Sets the gateway address of a redirect message.
    pub fn set_gateway(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::GATEWAY].copy_from_slice(&value.octets())
    }

    /// Sets the RFC 4884 original datagram length, in 32-bit words.
    pub fn set_rfc4884_length(&mut self, value: u8) {
        self.buffer.as_mut()[field::DATAGRAM_LEN] = value
    }

    /// Everything after the header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(field::HEADER_LEN..)
            .unwrap_or_default()
    }

    /// Computes the checksum over the whole buffer and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::sum(self.buffer.as_ref());
        self.set_checksum(checksum::finish(sum))
    }

    /// Turns an echo request into its echo reply in place: type 8 becomes
    /// type 0, the code becomes 0 (RFC 792), identifier, sequence number
    /// and data stay as they are, and the checksum is patched with the
    /// incremental update of RFC 1624 instead of summing the data again.
    ///
    /// Returns [`Error::Unsupported`] (and changes nothing) if the message
    /// is not an echo request. The checksum is patched from its current
    /// value, so verify the request first.
    pub fn echo_request_into_reply(&mut self) -> Result<()> {
        if self.msg_type() != Icmpv4Type::EchoRequest {
            return Err(Error::Unsupported);
        }
        let old_word = u16::from_be_bytes([u8::from(Icmpv4Type::EchoRequest), self.msg_code()]);
        let new_word = u16::from_be_bytes([u8::from(Icmpv4Type::EchoReply), 0]);
        let updated = checksum::update(self.checksum(), old_word, new_word);
        self.set_msg_type(Icmpv4Type::EchoReply);
        self.set_msg_code(0);
        if updated == 0 {
            // RFC 1624 equation 3 yields 0x0000 both when the new sum is
            // "negative zero" (where 0x0000 is right) and when every byte
            // of the reply is zero (where a full sum gives 0xffff). The
            // case is rare (one sum value in 65536), so settle it by
            // summing once.
            self.fill_checksum();
        } else {
            self.set_checksum(updated);
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed meaning of the ICMPv4 messages this stack handles.
///
/// Data is borrowed from the packet: the echo data, and for error
/// messages the quoted invoking datagram (its IPv4 header and at least the
/// first 8 bytes of its payload), left unparsed for the layer that sent
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Icmpv4Repr<'a> {
    /// An echo request (ping).
    EchoRequest {
        /// Identifier, chosen by the sender to match replies.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// The data to echo back.
        data: &'a [u8],
    },
    /// An echo reply.
    EchoReply {
        /// Identifier copied from the request.
        ident: u16,
        /// Sequence number copied from the request.
        seq_no: u16,
        /// The data copied from the request.
        data: &'a [u8],
    },
    /// Destination unreachable.
    DstUnreachable {
        /// The code.
        reason: Icmpv4DstUnreachable,
        /// The MTU of the next hop for [`Icmpv4DstUnreachable::FragRequired`]
        /// (RFC 1191); zero for the other codes.
        next_hop_mtu: u16,
        /// The quoted invoking datagram.
        header: &'a [u8],
    },
    /// Time exceeded.
    TimeExceeded {
        /// The code.
        reason: Icmpv4TimeExceeded,
        /// The quoted invoking datagram.
        header: &'a [u8],
    },
    /// Parameter problem.
    ParamProblem {
        /// The code.
        reason: Icmpv4ParamProblem,
        /// The offset of the octet in error inside `header`, for
        /// [`Icmpv4ParamProblem::AtPointer`].
        pointer: u8,
        /// The quoted invoking datagram.
        header: &'a [u8],
    },
    /// Redirect.
    Redirect {
        /// The code.
        reason: Icmpv4Redirect,
        /// The gateway to send such traffic to instead.
        gateway: Ipv4Addr,
        /// The quoted invoking datagram.
        header: &'a [u8],
    },
}

/// Checks that an error message quotes at least what RFC 792 promises: the
/// invoking IPv4 header (as long as its IHL says) and 8 bytes after it.
fn check_quote(quote: &[u8]) -> Result<()> {
    let Some(&first) = quote.first() else {
        return Err(Error::Truncated);
    };
    if first >> 4 != 4 {
        // Whatever is quoted must be an IPv4 datagram.
        return Err(Error::Malformed);
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 {
        return Err(Error::BadLength);
    }
    if quote.len() < header_len + 8 {
        return Err(Error::Truncated);
    }
    Ok(())
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a checked message, verifying the checksum when `checksum` is
    /// [`ChecksumMode::Software`].
    ///
    /// Errors: [`Error::Truncated`] for a buffer shorter than the header or
    /// an error message quoting less than the invoking IP header and 8
    /// bytes; [`Error::Malformed`] / [`Error::BadLength`] for a quotation
    /// that is not an IPv4 header; [`Error::BadChecksum`];
    /// [`Error::Unsupported`] for the other types (router discovery,
    /// timestamps, unknown), which the view still reads.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv4Packet<&'a T>,
        checksum: ChecksumMode,
    ) -> Result<Icmpv4Repr<'a>> {
        packet.check_len()?;
        if checksum.in_software() && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let code = packet.msg_code();
        let data = packet.data();
        let repr = match packet.msg_type() {
            // The echo code is 0 (RFC 792); other values are ignored, as
            // hosts do, rather than refusing to answer.
            Icmpv4Type::EchoRequest => Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            Icmpv4Type::EchoReply => Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            Icmpv4Type::DstUnreachable => {
                check_quote(data)?;
                Icmpv4Repr::DstUnreachable {
                    reason: code.into(),
                    next_hop_mtu: packet.next_hop_mtu(),
                    header: data,
                }
            }
            Icmpv4Type::TimeExceeded => {
                check_quote(data)?;
                Icmpv4Repr::TimeExceeded {
                    reason: code.into(),
                    header: data,
                }
            }
            Icmpv4Type::ParamProblem => {
                check_quote(data)?;
                Icmpv4Repr::ParamProblem {
                    reason: code.into(),
                    pointer: packet.pointer(),
                    header: data,
                }
            }
            Icmpv4Type::Redirect => {
                check_quote(data)?;
                Icmpv4Repr::Redirect {
                    reason: code.into(),
                    gateway: packet.gateway(),
                    header: data,
                }
            }
            _ => return Err(Error::Unsupported),
        };
        Ok(repr)
    }

    /// The borrowed bytes after the header: echo data or quotation.
    pub const fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. } | Icmpv4Repr::EchoReply { data, .. } => data,
            Icmpv4Repr::DstUnreachable { header, .. }
            | Icmpv4Repr::TimeExceeded { header, .. }
            | Icmpv4Repr::ParamProblem { header, .. }
            | Icmpv4Repr::Redirect { header, .. } => header,
        }
    }

    /// The length of the whole message `emit` writes: the 8-byte header
    /// and the data.
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN + self.data().len()
    }

    /// Writes the header and copies the borrowed data into the first
    /// [`buffer_len`](Self::buffer_len) bytes of the packet.
    ///
    /// Unlike most `emit`s this one writes the payload too, because the
    /// `Repr` carries it. With [`ChecksumMode::Software`] the checksum is
    /// computed over those `buffer_len` bytes; with
    /// [`ChecksumMode::Offloaded`] it is left zero for the device (or a
    /// later [`Icmpv4Packet::fill_checksum`] on a view of exactly the
    /// message). Unused header bytes, including the RFC 4884 length, are
    /// written as zero.
    ///
    /// Returns [`Error::BufferTooSmall`], writing nothing, if the packet
    /// is shorter than `buffer_len`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Icmpv4Packet<T>,
        checksum: ChecksumMode,
    ) -> Result<()> {
        let len = self.buffer_len();
        let Some(message) = packet.buffer.as_mut().get_mut(..len) else {
            return Err(Error::BufferTooSmall);
        };
        let mut out = Icmpv4Packet::new_unchecked(message);
        out.set_rest_of_header(0);
        let (msg_type, code) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                out.set_echo_ident(ident);
                out.set_echo_seq_no(seq_no);
                (Icmpv4Type::EchoRequest, 0)
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                out.set_echo_ident(ident);
                out.set_echo_seq_no(seq_no);
                (Icmpv4Type::EchoReply, 0)
            }
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                out.set_next_hop_mtu(next_hop_mtu);
                (Icmpv4Type::DstUnreachable, reason.into())
            }
            Icmpv4Repr::TimeExceeded { reason, .. } => (Icmpv4Type::TimeExceeded, reason.into()),
            Icmpv4Repr::ParamProblem {
                reason, pointer, ..
            } => {
                out.set_pointer(pointer);
                (Icmpv4Type::ParamProblem, reason.into())
            }
            Icmpv4Repr::Redirect {
                reason, gateway, ..
            } => {
                out.set_gateway(gateway);
                (Icmpv4Type::Redirect, reason.into())
            }
        };
        out.set_msg_type(msg_type);
        out.set_msg_code(code);
        out.data_mut().copy_from_slice(self.data());
        if checksum.in_software() {
            out.fill_checksum();
        } else {
            out.set_checksum(0);
        }
        Ok(())
    }
}

impl fmt::Display for Icmpv4Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMP echo request id {ident} seq {seq_no} len {}",
                data.len()
            ),
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMP echo reply id {ident} seq {seq_no} len {}",
                data.len()
            ),
            Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragRequired,
                next_hop_mtu,
                ..
            } => write!(f, "ICMP frag-needed mtu {next_hop_mtu}"),
            Icmpv4Repr::DstUnreachable { reason, .. } => {
                write!(f, "ICMP dst-unreachable {reason}")
            }
            Icmpv4Repr::TimeExceeded { reason, .. } => write!(f, "ICMP time-exceeded {reason}"),
            Icmpv4Repr::ParamProblem {
                reason: Icmpv4ParamProblem::AtPointer,
                pointer,
                ..
            } => write!(f, "ICMP param-problem pointer {pointer}"),
            Icmpv4Repr::ParamProblem { reason, .. } => write!(f, "ICMP param-problem {reason}"),
            Icmpv4Repr::Redirect {
                reason, gateway, ..
            } => write!(f, "ICMP redirect {reason} to {gateway}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    // Fixtures: real Linux traffic between the two namespaces of
    // `scripts/capture.sh` (host a 10.0.0.1, host b 10.0.0.2), captured on
    // host b. Every ICMP message below was generated by the Linux kernel;
    // where the packet that provoked it could not come from a stock tool,
    // the comment says it was crafted with scapy.

    /// `ping -c 2 -i 0.2 10.0.0.2` (iputils) from host a, captured on host b
    /// (`icmpv4-echo.pcap`, frame 1): echo request id 10893 seq 1, 56 bytes
    /// of data (a timestamp, then 0x10, 0x11, ...).
    const ECHO_REQUEST_FRAME: [u8; 98] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x54, 0x8c, 0x31, 0x40, 0x00, 0x40, 0x01, 0x9a, 0x75, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0xfc, 0xb2, 0x2a, 0x8d, 0x00, 0x01, 0xfe, 0x1a, 0x02,
        0x6b, 0x00, 0x00, 0x00, 0x00, 0x09, 0x66, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
        0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// Linux's answer to the request above (`icmpv4-echo.pcap`, frame 2).
    const ECHO_REPLY_FRAME: [u8; 98] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x54, 0xfe, 0xfa, 0x00, 0x00, 0x40, 0x01, 0x67, 0xac, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0xb3, 0x2a, 0x8d, 0x00, 0x01, 0xfe, 0x1a, 0x02,
        0x6b, 0x00, 0x00, 0x00, 0x00, 0x09, 0x66, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
        0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// `echo hi | socat - UDP4:10.0.0.2:9999` from host a, nothing listening on
    /// host b: Linux on b answers port unreachable, quoting the whole
    /// 31-byte datagram (`icmpv4-port-unreachable.pcap`, frame 2).
    const PORT_UNREACHABLE_FRAME: [u8; 73] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x00, 0x3b, 0xf2, 0x85, 0x00, 0x00, 0x40, 0x01, 0x73, 0x7a, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x03, 0x03, 0x11, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00,
        0x1f, 0x21, 0x7f, 0x40, 0x00, 0x40, 0x11, 0x05, 0x4d, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x02, 0xce, 0xa7, 0x27, 0x0f, 0x00, 0x0b, 0x83, 0xb5, 0x68, 0x69, 0x0a,
    ];

    /// Fragmentation needed, sent by Linux on host b (forwarding on, route to
    /// 10.0.0.3 with `mtu lock 1400`) for a 1450-byte DF UDP datagram that
    /// host a sent through it (crafted with scapy: Linux tools would do PMTU
    /// discovery first). Linux quotes up to 576 bytes in all
    /// (`icmpv4-frag-needed.pcap`).
    const FRAG_NEEDED_FRAME: [u8; 590] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x02, 0x40, 0x1a, 0x57, 0x00, 0x00, 0x40, 0x01, 0x49, 0xa4, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x03, 0x04, 0x80, 0x9e, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05,
        0xaa, 0x34, 0x56, 0x40, 0x00, 0x40, 0x11, 0xec, 0xe9, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x03, 0x9c, 0x41, 0x00, 0x09, 0x05, 0x96, 0x7a, 0xaa, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
        0xab, 0xab, 0xab, 0xab, 0xab,
    ];

    /// Time exceeded in transit, sent by Linux on host b (forwarding on) for
    /// a traceroute-style UDP probe with TTL 1 to 10.0.0.3 that host a sent
    /// through it (probe crafted with scapy; no third hop exists in the
    /// two-namespace set-up) (`icmpv4-time-exceeded-ttl.pcap`, frame 2).
    const TTL_EXCEEDED_FRAME: [u8; 75] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x00, 0x3d, 0xa9, 0x9c, 0x00, 0x00, 0x40, 0x01, 0xbc, 0x61, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x0b, 0x00, 0x09, 0x22, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00,
        0x21, 0x12, 0x34, 0x00, 0x00, 0x01, 0x11, 0x93, 0x95, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x03, 0x9c, 0x40, 0x82, 0x9a, 0x00, 0x0d, 0x88, 0x20, 0x70, 0x72, 0x6f, 0x62, 0x65,
    ];

    /// Fragment reassembly time exceeded, sent by Linux on host b
    /// (`net.ipv4.ipfrag_time=1`) after host a sent only the first fragment
    /// of an echo request (fragment crafted with scapy)
    /// (`icmpv4-reassembly-timeout.pcap`, frame 2).
    const REASSEMBLY_TIMEOUT_FRAME: [u8; 86] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x00, 0x48, 0x1c, 0x40, 0x00, 0x00, 0x40, 0x01, 0x49, 0xb3, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x0b, 0x01, 0xf4, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00,
        0x2c, 0x56, 0x78, 0x20, 0x00, 0x40, 0x01, 0xf0, 0x56, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x02, 0x08, 0x00, 0xf7, 0xf3, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// Parameter problem, pointer 20, sent by Linux on host b for an echo
    /// request whose IPv4 header carries a record-route option of length 1
    /// (crafted with scapy) (`icmpv4-param-problem.pcap`, frame 2).
    const PARAM_PROBLEM_FRAME: [u8; 84] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x00, 0x46, 0x50, 0x89, 0x00, 0x00, 0x40, 0x01, 0x15, 0x6c, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x0c, 0x00, 0xdf, 0xff, 0x14, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00,
        0x2a, 0x45, 0x67, 0x00, 0x00, 0x40, 0x01, 0x19, 0x69, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x02, 0x07, 0x01, 0x00, 0x00, 0x08, 0x00, 0xde, 0x1e, 0x00, 0x09, 0x00, 0x01, 0x62,
        0x61, 0x64, 0x2d, 0x6f, 0x70, 0x74, 0x69, 0x6f, 0x6e,
    ];

    /// Host redirect to 10.0.0.3, sent by Linux on host b (forwarding on) for
    /// an echo request host a sent through it to 10.0.0.3, its own second
    /// address on the same link (request crafted with scapy)
    /// (`icmpv4-redirect.pcap`, frame 2).
    const REDIRECT_FRAME: [u8; 81] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
        0xc0, 0x00, 0x43, 0xa8, 0x7f, 0x00, 0x00, 0x40, 0x01, 0xbd, 0x78, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x05, 0x01, 0xf0, 0xfb, 0x0a, 0x00, 0x00, 0x03, 0x45, 0x00, 0x00,
        0x27, 0x23, 0x45, 0x00, 0x00, 0x3f, 0x01, 0x44, 0x8e, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x03, 0x08, 0x00, 0xb8, 0xe1, 0x00, 0x07, 0x00, 0x01, 0x72, 0x65, 0x64, 0x69, 0x72,
        0x65, 0x63, 0x74, 0x2d, 0x6d, 0x65,
    ];

    /// The ICMP message inside a captured Ethernet + IPv4 frame, sliced by
    /// hand because the IPv4 module is written separately: the IPv4
    /// header starts after the 14-byte Ethernet header and is IHL * 4
    /// bytes long; the message ends at the IPv4 total length.
    fn icmp_of(frame: &[u8]) -> &[u8] {
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        &ip[ihl..total]
    }

    const ALL_FRAMES: [&[u8]; 8] = [
        &ECHO_REQUEST_FRAME,
        &ECHO_REPLY_FRAME,
        &PORT_UNREACHABLE_FRAME,
        &FRAG_NEEDED_FRAME,
        &TTL_EXCEEDED_FRAME,
        &REASSEMBLY_TIMEOUT_FRAME,
        &PARAM_PROBLEM_FRAME,
        &REDIRECT_FRAME,
    ];

    fn parse(bytes: &[u8]) -> Result<Icmpv4Repr<'_>> {
        Icmpv4Repr::parse(&Icmpv4Packet::new_checked(bytes)?, ChecksumMode::Software)
    }

    /// Emits `repr` into a fresh buffer of exactly its length.
    fn emit(repr: &Icmpv4Repr<'_>) -> Vec<u8> {
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(
            &mut Icmpv4Packet::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        )
        .unwrap();
        out
    }

    #[test]
    fn fixtures_emit_back_to_the_same_bytes() {
        // Linux zeroes every unused header byte, so emitting the parsed
        // Repr must reproduce each message exactly, checksum included.
        for frame in ALL_FRAMES {
            let bytes = icmp_of(frame);
            let repr = parse(bytes).unwrap();
            assert_eq!(repr.buffer_len(), bytes.len());
            let out = emit(&repr);
            assert_eq!(&out[..], bytes, "{repr}");
            assert_eq!(parse(&out), Ok(repr));
        }
    }

    #[test]
    fn echo_request_fixture() {
        let bytes = icmp_of(&ECHO_REQUEST_FRAME);
        let packet = Icmpv4Packet::new_checked(bytes).unwrap();
        assert_eq!(packet.msg_type(), Icmpv4Type::EchoRequest);
        assert_eq!(packet.msg_code(), 0);
        assert_eq!(packet.checksum(), 0xfcb2);
        assert!(packet.verify_checksum());
        assert_eq!(packet.echo_ident(), 10893);
        assert_eq!(packet.echo_seq_no(), 1);
        assert_eq!(packet.data().len(), 56);
        assert_eq!(&packet.data()[16..20], &[0x10, 0x11, 0x12, 0x13]);
        let repr = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(
            repr,
            Icmpv4Repr::EchoRequest {
                ident: 10893,
                seq_no: 1,
                data: &bytes[8..],
            }
        );
        assert_eq!(repr.to_string(), "ICMP echo request id 10893 seq 1 len 56");
    }

    #[test]
    fn echo_reply_fixture() {
        let bytes = icmp_of(&ECHO_REPLY_FRAME);
        let repr = parse(bytes).unwrap();
        assert_eq!(
            repr,
            Icmpv4Repr::EchoReply {
                ident: 10893,
                seq_no: 1,
                data: &icmp_of(&ECHO_REQUEST_FRAME)[8..],
            }
        );
        assert_eq!(repr.to_string(), "ICMP echo reply id 10893 seq 1 len 56");
    }

    #[test]
    fn port_unreachable_fixture() {
        let bytes = icmp_of(&PORT_UNREACHABLE_FRAME);
        let packet = Icmpv4Packet::new_checked(bytes).unwrap();
        assert_eq!(packet.msg_type(), Icmpv4Type::DstUnreachable);
        assert_eq!(packet.rfc4884_length(), 0);
        assert_eq!(packet.extension(), None);
        assert_eq!(packet.quoted_datagram(), packet.data());
        let repr = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        let Icmpv4Repr::DstUnreachable {
            reason,
            next_hop_mtu,
            header,
        } = repr
        else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4DstUnreachable::PortUnreachable);
        assert_eq!(next_hop_mtu, 0);
        // The whole invoking datagram: IPv4 header, UDP header, "hi\n".
        assert_eq!(header.len(), 31);
        assert_eq!(header[9], 17);
        assert_eq!(&header[20..24], &[0xce, 0xa7, 0x27, 0x0f]); // 52903 > 9999
        assert_eq!(&header[28..], b"hi\n");
        assert_eq!(repr.to_string(), "ICMP dst-unreachable port");
    }

    #[test]
    fn frag_needed_fixture() {
        let bytes = icmp_of(&FRAG_NEEDED_FRAME);
        let packet = Icmpv4Packet::new_checked(bytes).unwrap();
        assert_eq!(packet.next_hop_mtu(), 1400);
        let repr = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        let Icmpv4Repr::DstUnreachable {
            reason,
            next_hop_mtu,
            header,
        } = repr
        else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4DstUnreachable::FragRequired);
        assert_eq!(next_hop_mtu, 1400);
        // 576 bytes in all: 20 (IP) + 8 (ICMP) + 548 quoted.
        assert_eq!(header.len(), 548);
        assert_eq!(&header[2..4], &1450u16.to_be_bytes());
        assert_eq!(repr.to_string(), "ICMP frag-needed mtu 1400");
    }

    #[test]
    fn time_exceeded_fixtures() {
        let repr = parse(icmp_of(&TTL_EXCEEDED_FRAME)).unwrap();
        let Icmpv4Repr::TimeExceeded { reason, header } = repr else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4TimeExceeded::TtlExpired);
        assert_eq!(header[8], 1, "quoted TTL");
        assert_eq!(&header[22..24], &33434u16.to_be_bytes());
        assert_eq!(repr.to_string(), "ICMP time-exceeded ttl");

        let repr = parse(icmp_of(&REASSEMBLY_TIMEOUT_FRAME)).unwrap();
        let Icmpv4Repr::TimeExceeded { reason, header } = repr else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4TimeExceeded::FragReassembly);
        assert_eq!(header[6] & 0x20, 0x20, "quoted more-fragments flag");
        assert_eq!(repr.to_string(), "ICMP time-exceeded reassembly");
    }

    #[test]
    fn param_problem_fixture() {
        let repr = parse(icmp_of(&PARAM_PROBLEM_FRAME)).unwrap();
        let Icmpv4Repr::ParamProblem {
            reason,
            pointer,
            header,
        } = repr
        else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4ParamProblem::AtPointer);
        // The quoted header has IHL 6; octet 20 is the bad option.
        assert_eq!(pointer, 20);
        assert_eq!(header[0], 0x46);
        assert_eq!(&header[20..22], &[0x07, 0x01]);
        assert_eq!(repr.to_string(), "ICMP param-problem pointer 20");
    }

    #[test]
    fn redirect_fixture() {
        let bytes = icmp_of(&REDIRECT_FRAME);
        let packet = Icmpv4Packet::new_checked(bytes).unwrap();
        assert_eq!(packet.gateway(), Ipv4Addr::new(10, 0, 0, 3));
        let repr = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        let Icmpv4Repr::Redirect {
            reason,
            gateway,
            header,
        } = repr
        else {
            panic!("{repr:?}")
        };
        assert_eq!(reason, Icmpv4Redirect::Host);
        assert_eq!(gateway, Ipv4Addr::new(10, 0, 0, 3));
        assert_eq!(&header[16..20], &[10, 0, 0, 3]);
        assert_eq!(repr.to_string(), "ICMP redirect host to 10.0.0.3");
    }

    #[test]
    fn bad_checksum() {
        for frame in ALL_FRAMES {
            let mut bytes = icmp_of(frame).to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
            let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
            assert!(!packet.verify_checksum());
            assert_eq!(
                Icmpv4Repr::parse(&packet, ChecksumMode::Software),
                Err(Error::BadChecksum)
            );
            // A device that verified (or a caller that trusts) skips it.
            assert!(Icmpv4Repr::parse(&packet, ChecksumMode::Offloaded).is_ok());
        }
    }

    #[test]
    fn truncated_header() {
        let bytes = icmp_of(&ECHO_REQUEST_FRAME);
        for len in 0..HEADER_LEN {
            assert_eq!(
                Icmpv4Packet::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated)
            );
        }
        assert!(Icmpv4Packet::new_checked(&bytes[..HEADER_LEN]).is_ok());
    }

    #[test]
    fn every_prefix_parses_or_errors() {
        for frame in ALL_FRAMES {
            let bytes = icmp_of(frame);
            for len in 0..=bytes.len() {
                let prefix = &bytes[..len];
                let Ok(packet) = Icmpv4Packet::new_checked(prefix) else {
                    assert!(len < HEADER_LEN);
                    continue;
                };
                // Every accessor is safe on a checked view.
                let _ = (packet.msg_type(), packet.msg_code(), packet.checksum());
                let _ = (packet.echo_ident(), packet.echo_seq_no());
                let _ = (packet.next_hop_mtu(), packet.pointer(), packet.gateway());
                let _ = (packet.rest_of_header(), packet.rfc4884_length());
                let _ = (packet.data(), packet.quoted_datagram(), packet.extension());
                let _ = packet.verify_checksum();
                let software = Icmpv4Repr::parse(&packet, ChecksumMode::Software);
                // A cut usually breaks the checksum, but not always: the
                // bytes cut off may sum to zero in one's complement
                // (trailing zeros, or 255 words of 0xabab = 0xab * 0xffff).
                if software.is_ok() {
                    assert!(packet.verify_checksum(), "len {len}");
                }
                match Icmpv4Repr::parse(&packet, ChecksumMode::Offloaded) {
                    Ok(repr) => {
                        assert_eq!(repr.buffer_len(), len);
                        assert_eq!(parse(&emit(&repr)), Ok(repr));
                    }
                    Err(e) => {
                        // Only error messages can be too short once the
                        // header is there: their quotation is cut.
                        assert_eq!(e, Error::Truncated, "len {len}");
                        assert!(len < HEADER_LEN + 28 + 4);
                    }
                }
            }
        }
    }

    /// Builds a destination unreachable message quoting `quote`.
    fn unreachable_with(quote: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; HEADER_LEN + quote.len()];
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_msg_type(Icmpv4Type::DstUnreachable);
        packet.set_msg_code(1);
        packet.data_mut().copy_from_slice(quote);
        packet.fill_checksum();
        bytes
    }

    #[test]
    fn quotation_shorter_than_ip_header_and_8_bytes() {
        let quote = &icmp_of(&PORT_UNREACHABLE_FRAME)[8..];
        assert!(parse(&unreachable_with(&quote[..28])).is_ok());
        assert_eq!(
            parse(&unreachable_with(&quote[..27])),
            Err(Error::Truncated)
        );
        assert_eq!(parse(&unreachable_with(&[])), Err(Error::Truncated));
        // The quoted header says it is 24 bytes long: 32 are needed.
        let mut long_header = quote.to_vec();
        long_header[0] = 0x46;
        long_header.push(0);
        assert_eq!(
            parse(&unreachable_with(&long_header[..31])),
            Err(Error::Truncated)
        );
        assert!(parse(&unreachable_with(&long_header[..32])).is_ok());
    }

    #[test]
    fn quotation_that_is_not_an_ipv4_header() {
        let mut quote = icmp_of(&PORT_UNREACHABLE_FRAME)[8..].to_vec();
        quote[0] = 0x65;
        assert_eq!(parse(&unreachable_with(&quote)), Err(Error::Malformed));
        quote[0] = 0x44;
        assert_eq!(parse(&unreachable_with(&quote)), Err(Error::BadLength));
    }

    #[test]
    fn unsupported_types_are_still_readable() {
        // A timestamp request (RFC 792): id 1, seq 2, three timestamps.
        let mut bytes = [0u8; 20];
        bytes[0] = 13;
        bytes[4..8].copy_from_slice(&[0, 1, 0, 2]);
        bytes[8..12].copy_from_slice(&3_600_000u32.to_be_bytes());
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.fill_checksum();
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.msg_type(), Icmpv4Type::Timestamp);
        assert_eq!((packet.echo_ident(), packet.echo_seq_no()), (1, 2));
        assert_eq!(&packet.data()[..4], &3_600_000u32.to_be_bytes());
        assert_eq!(
            Icmpv4Repr::parse(&packet, ChecksumMode::Software),
            Err(Error::Unsupported)
        );

        for msg_type in [9u8, 10, 14, 4, 42, 255] {
            let mut bytes = [0u8; 8];
            bytes[0] = msg_type;
            Icmpv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();
            assert_eq!(parse(&bytes), Err(Error::Unsupported), "type {msg_type}");
        }
        assert_eq!(Icmpv4Type::from(10), Icmpv4Type::RouterSolicit);
        assert_eq!(Icmpv4Type::from(42).to_string(), "type 42");
    }

    /// Full recomputation, for comparison with the incremental update.
    fn full_checksum(bytes: &[u8]) -> u16 {
        let mut copy = bytes.to_vec();
        let mut packet = Icmpv4Packet::new_unchecked(&mut copy[..]);
        packet.fill_checksum();
        packet.checksum()
    }

    #[test]
    fn echo_reply_in_place_matches_linux() {
        // Answering the captured request in place gives, byte for byte,
        // the reply Linux sent: same data, incrementally patched checksum.
        let mut bytes = icmp_of(&ECHO_REQUEST_FRAME).to_vec();
        let mut packet = Icmpv4Packet::new_checked(&mut bytes[..]).unwrap();
        packet.echo_request_into_reply().unwrap();
        assert!(packet.verify_checksum());
        assert_eq!(&bytes[..], icmp_of(&ECHO_REPLY_FRAME));
        assert_eq!(full_checksum(&bytes), 0x04b3);
    }

    #[test]
    fn echo_reply_in_place_incremental_equals_full_recompute() {
        let mut x: u32 = 0x9e37_79b9;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for round in 0..2000usize {
            let len = HEADER_LEN + round % 64;
            let mut bytes = vec![0u8; len];
            for b in bytes.iter_mut() {
                *b = next() as u8;
            }
            if round % 7 == 0 {
                // Mostly-zero messages probe the edges of the one's
                // complement arithmetic.
                bytes.iter_mut().skip(2).for_each(|b| *b = 0);
                bytes[4] = (round / 7) as u8;
            }
            let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
            packet.set_msg_type(Icmpv4Type::EchoRequest);
            packet.set_msg_code((round % 3) as u8);
            packet.fill_checksum();
            packet.echo_request_into_reply().unwrap();
            assert_eq!(packet.msg_type(), Icmpv4Type::EchoReply);
            assert_eq!(packet.msg_code(), 0);
            assert!(packet.verify_checksum(), "round {round}");
            assert_eq!(packet.checksum(), full_checksum(&bytes), "round {round}");
        }
    }

    #[test]
    fn echo_reply_in_place_all_zero_reply() {
        // id 0, seq 0, no data: the reply is eight zero bytes, whose only
        // valid checksum is 0xffff (RFC 1624 equation 3 alone says 0).
        let repr = Icmpv4Repr::EchoRequest {
            ident: 0,
            seq_no: 0,
            data: &[],
        };
        let mut bytes = emit(&repr);
        let mut packet = Icmpv4Packet::new_checked(&mut bytes[..]).unwrap();
        packet.echo_request_into_reply().unwrap();
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum());
        assert_eq!(packet.checksum(), full_checksum(&bytes));
    }

    #[test]
    fn echo_reply_in_place_refuses_other_types() {
        let mut bytes = icmp_of(&ECHO_REPLY_FRAME).to_vec();
        let mut packet = Icmpv4Packet::new_checked(&mut bytes[..]).unwrap();
        assert_eq!(packet.echo_request_into_reply(), Err(Error::Unsupported));
        assert_eq!(&bytes[..], icmp_of(&ECHO_REPLY_FRAME));
    }

    #[test]
    fn all_sixteen_unreachable_codes() {
        let names = [
            "net",
            "host",
            "protocol",
            "port",
            "frag-needed",
            "source-route-failed",
            "net-unknown",
            "host-unknown",
            "host-isolated",
            "net-prohibited",
            "host-prohibited",
            "net-tos",
            "host-tos",
            "admin-prohibited",
            "host-precedence-violation",
            "precedence-cutoff",
        ];
        let quote = &icmp_of(&PORT_UNREACHABLE_FRAME)[8..];
        for (code, name) in (0u8..).zip(names) {
            let reason = Icmpv4DstUnreachable::from(code);
            assert!(!matches!(reason, Icmpv4DstUnreachable::Unknown(_)));
            assert_eq!(u8::from(reason), code);
            assert_eq!(reason.to_string(), name);
            let repr = Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu: 0,
                header: quote,
            };
            let out = emit(&repr);
            assert_eq!(out[1], code);
            assert_eq!(parse(&out), Ok(repr));
            if code != 4 {
                assert_eq!(
                    repr.to_string(),
                    std::format!("ICMP dst-unreachable {name}")
                );
            }
        }
        assert_eq!(
            Icmpv4DstUnreachable::from(16),
            Icmpv4DstUnreachable::Unknown(16)
        );
    }

    #[test]
    fn other_codes_display() {
        let header = &icmp_of(&PORT_UNREACHABLE_FRAME)[8..];
        let cases = [
            (
                Icmpv4Repr::ParamProblem {
                    reason: Icmpv4ParamProblem::MissingOption,
                    pointer: 0,
                    header,
                },
                "ICMP param-problem missing-option",
            ),
            (
                Icmpv4Repr::ParamProblem {
                    reason: Icmpv4ParamProblem::BadLength,
                    pointer: 0,
                    header,
                },
                "ICMP param-problem bad-length",
            ),
            (
                Icmpv4Repr::Redirect {
                    reason: Icmpv4Redirect::TosNet,
                    gateway: Ipv4Addr::new(10, 0, 0, 1),
                    header,
                },
                "ICMP redirect tos-net to 10.0.0.1",
            ),
            (
                Icmpv4Repr::Redirect {
                    reason: Icmpv4Redirect::Net,
                    gateway: Ipv4Addr::new(10, 0, 0, 1),
                    header,
                },
                "ICMP redirect net to 10.0.0.1",
            ),
            (
                Icmpv4Repr::TimeExceeded {
                    reason: Icmpv4TimeExceeded::Unknown(9),
                    header,
                },
                "ICMP time-exceeded code 9",
            ),
            (
                Icmpv4Repr::DstUnreachable {
                    reason: Icmpv4DstUnreachable::Unknown(99),
                    next_hop_mtu: 0,
                    header,
                },
                "ICMP dst-unreachable code 99",
            ),
        ];
        for (repr, text) in cases {
            assert_eq!(repr.to_string(), text);
            assert_eq!(parse(&emit(&repr)), Ok(repr));
        }
        assert_eq!(Icmpv4Redirect::from(3), Icmpv4Redirect::TosHost);
        assert_eq!(Icmpv4Redirect::TosHost.to_string(), "tos-host");
    }

    #[test]
    fn rfc4884_length_and_extension() {
        // Time exceeded with a 32-word (128-byte) original datagram field
        // followed by a 12-byte extension structure (RFC 4884 section 4).
        let mut quote = [0u8; 140];
        quote[..31].copy_from_slice(&icmp_of(&PORT_UNREACHABLE_FRAME)[8..]);
        quote[128] = 0x20; // extension header version 2
        let mut bytes = vec![0u8; HEADER_LEN + quote.len()];
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_msg_type(Icmpv4Type::TimeExceeded);
        packet.set_rfc4884_length(32);
        packet.data_mut().copy_from_slice(&quote);
        packet.fill_checksum();

        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.rfc4884_length(), 32);
        assert_eq!(packet.quoted_datagram(), &quote[..128]);
        assert_eq!(packet.extension(), Some(&quote[128..]));
        // The Repr keeps the whole data; emit writes the length as 0.
        let repr = Icmpv4Repr::parse(&packet, ChecksumMode::Software).unwrap();
        assert_eq!(repr.data(), &quote[..]);
        let out = emit(&repr);
        assert_eq!(out[5], 0);
        assert_eq!(parse(&out), Ok(repr));

        // A length past the end is ignored by the accessors, not trusted.
        let mut bytes = bytes.clone();
        bytes[5] = 36;
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.quoted_datagram(), &quote[..]);
        assert_eq!(packet.extension(), None);
    }

    #[test]
    fn emit_into_short_buffer() {
        let repr = parse(icmp_of(&ECHO_REQUEST_FRAME)).unwrap();
        let mut out = [0xaau8; 63];
        assert_eq!(
            repr.emit(
                &mut Icmpv4Packet::new_unchecked(&mut out[..]),
                ChecksumMode::Software
            ),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(out, [0xaa; 63]);
    }

    #[test]
    fn emit_into_longer_buffer_writes_only_the_message() {
        let repr = parse(icmp_of(&TTL_EXCEEDED_FRAME)).unwrap();
        let len = repr.buffer_len();
        let mut out = vec![0xaau8; len + 5];
        repr.emit(
            &mut Icmpv4Packet::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        )
        .unwrap();
        assert_eq!(&out[..len], icmp_of(&TTL_EXCEEDED_FRAME));
        assert_eq!(&out[len..], &[0xaa; 5]);
    }

    #[test]
    fn emit_offloaded_leaves_checksum_zero() {
        let repr = parse(icmp_of(&ECHO_REQUEST_FRAME)).unwrap();
        let mut out = vec![0xffu8; repr.buffer_len()];
        let mut packet = Icmpv4Packet::new_unchecked(&mut out[..]);
        repr.emit(&mut packet, ChecksumMode::Offloaded).unwrap();
        assert_eq!(packet.checksum(), 0);
        packet.fill_checksum();
        assert_eq!(&out[..], icmp_of(&ECHO_REQUEST_FRAME));
    }

    #[test]
    fn setters_round_trip() {
        let mut bytes = [0u8; 8];
        let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        packet.set_gateway(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(packet.rest_of_header(), 0xc000_0201);
        packet.set_pointer(7);
        packet.set_rfc4884_length(3);
        packet.set_next_hop_mtu(1280);
        assert_eq!(packet.rest_of_header(), 0x0703_0500);
        packet.set_echo_ident(0x1234);
        packet.set_echo_seq_no(0x5678);
        assert_eq!(packet.rest_of_header(), 0x1234_5678);
        assert_eq!(packet.data_mut().len(), 0);
        assert_eq!(packet.header_len(), HEADER_LEN);
        assert_eq!(packet.into_inner().len(), 8);
    }
}
