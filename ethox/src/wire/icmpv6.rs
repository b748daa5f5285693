//! ICMP for IPv6 (RFC 4443): errors, echo, and the envelope that neighbor
//! discovery ([`ndisc`]) and multicast listener discovery
//! ([`mld`]) travel in.
//!
//! ```text
//!  0       7 8      15 16                     31
//! +---------+---------+------------------------+
//! |  type   |  code   |        checksum        |
//! +---------+---------+------------------------+
//! |   message body word: unused / MTU /        |  4..8
//! |   pointer / identifier + sequence /        |
//! |   NDISC and MLD fields                     |
//! +--------------------------------------------+
//! |   rest of the message: the quoted invoking |  8..
//! |   packet, echo data, NDISC / MLD body ...  |
//! +--------------------------------------------+
//! ```
//!
//! * **Length.** An ICMPv6 message is the whole upper-layer payload of its
//!   IPv6 packet; there is no length field of its own. The view's buffer
//!   must be exactly that slice (the IPv6 payload length, minus extension
//!   headers, says where it ends), because the checksum covers all of it
//!   and the quoted packet, echo data and options run to its end.
//! * **Checksum** (RFC 4443 section 2.3). It covers the IPv6 pseudo-header
//!   (source, destination, upper-layer length, next header 58) and the
//!   whole message, so [`Icmpv6Packet::verify_checksum`] and
//!   [`Icmpv6Packet::fill_checksum`] take the source and destination
//!   addresses. [`Icmpv6Repr::parse`] verifies it only with
//!   [`ChecksumMode::Software`]; [`Icmpv6Repr::emit`] writes the whole
//!   message (the `Repr` borrows its data, quotation and options and copies
//!   them) and then, with `Software`, fills the checksum over the packet's
//!   contents. With `Offloaded` it leaves the field zero for the device, or
//!   for a later [`Icmpv6Packet::fill_checksum`].
//! * **Errors and informational messages.** Types below 128 are errors
//!   (RFC 4443 section 2.1). A node must never answer an error with an
//!   error (section 2.4 (e)): check [`Icmpv6Type::is_error`] first.
//! * **What this module does not check.** Rules about the IPv6 header are
//!   the IP layer's: the hop limit of 255 on neighbor discovery messages
//!   (RFC 4861 sections 6.1 and 7.1), the link-local source, hop limit 1
//!   and Router Alert of MLD (RFC 3810 section 5), the rate limiting of
//!   errors (RFC 4443 section 2.4 (f)) and which packets may be answered
//!   with an error at all (section 2.4 (e)).
//!
//! ```
//! use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
//! use ethox::wire::{ChecksumMode, Ipv6Addr};
//!
//! let src = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
//! let dst = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
//! let repr = Icmpv6Repr::EchoRequest { ident: 7, seq_no: 1, data: b"ping" };
//!
//! let mut bytes = [0u8; 12];
//! assert_eq!(repr.buffer_len(), bytes.len());
//! let mut packet = Icmpv6Packet::new_unchecked(&mut bytes[..]);
//! repr.emit(&mut packet, src, dst, ChecksumMode::Software);
//!
//! let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
//! assert!(packet.verify_checksum(src, dst));
//! let parsed = Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "ICMPv6 echo request id 7 seq 1 len 4");
//! ```

use core::fmt;
use core::ops::Range;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum;
use super::ip::{IpProtocol, Ipv6Addr};
use super::mld::{self, MldRepr};
use super::ndisc::{self, NdiscRepr};
use super::{ChecksumMode, Error, Result, array};

enum_with_unknown! {
    /// The type of an ICMPv6 message (RFC 4443 section 2.1, RFC 4861
    /// section 4, RFC 2710 section 3, RFC 3810 section 5).
    pub enum Icmpv6Type(u8) {
        /// Destination Unreachable (error).
        DstUnreachable = 1,
        /// Packet Too Big (error).
        PacketTooBig = 2,
        /// Time Exceeded (error).
        TimeExceeded = 3,
        /// Parameter Problem (error).
        ParamProblem = 4,
        /// Echo Request.
        EchoRequest = 128,
        /// Echo Reply.
        EchoReply = 129,
        /// Multicast Listener Query (MLDv1 and MLDv2).
        MldQuery = 130,
        /// MLDv1 Multicast Listener Report.
        MldReport = 131,
        /// MLDv1 Multicast Listener Done.
        MldDone = 132,
        /// Router Solicitation.
        RouterSolicit = 133,
        /// Router Advertisement.
        RouterAdvert = 134,
        /// Neighbor Solicitation.
        NeighborSolicit = 135,
        /// Neighbor Advertisement.
        NeighborAdvert = 136,
        /// Redirect.
        Redirect = 137,
        /// MLDv2 Multicast Listener Report.
        MldReportV2 = 143,
    }
}

impl Icmpv6Type {
    /// Whether this is an error message (types 0 to 127, RFC 4443 section
    /// 2.1). The stack must never send an error in answer to one.
    pub fn is_error(self) -> bool {
        u8::from(self) < 128
    }

    /// Whether this is a neighbor discovery message (types 133 to 137).
    pub fn is_ndisc(self) -> bool {
        matches!(
            self,
            Icmpv6Type::RouterSolicit
                | Icmpv6Type::RouterAdvert
                | Icmpv6Type::NeighborSolicit
                | Icmpv6Type::NeighborAdvert
                | Icmpv6Type::Redirect
        )
    }

    /// Whether this is a multicast listener discovery message.
    pub fn is_mld(self) -> bool {
        matches!(
            self,
            Icmpv6Type::MldQuery
                | Icmpv6Type::MldReport
                | Icmpv6Type::MldDone
                | Icmpv6Type::MldReportV2
        )
    }
}

impl fmt::Display for Icmpv6Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv6Type::DstUnreachable => f.write_str("dst-unreachable"),
            Icmpv6Type::PacketTooBig => f.write_str("packet-too-big"),
            Icmpv6Type::TimeExceeded => f.write_str("time-exceeded"),
            Icmpv6Type::ParamProblem => f.write_str("param-problem"),
            Icmpv6Type::EchoRequest => f.write_str("echo request"),
            Icmpv6Type::EchoReply => f.write_str("echo reply"),
            Icmpv6Type::MldQuery => f.write_str("multicast listener query"),
            Icmpv6Type::MldReport => f.write_str("multicast listener report"),
            Icmpv6Type::MldDone => f.write_str("multicast listener done"),
            Icmpv6Type::RouterSolicit => f.write_str("router solicitation"),
            Icmpv6Type::RouterAdvert => f.write_str("router advertisement"),
            Icmpv6Type::NeighborSolicit => f.write_str("neighbor solicitation"),
            Icmpv6Type::NeighborAdvert => f.write_str("neighbor advertisement"),
            Icmpv6Type::Redirect => f.write_str("redirect"),
            Icmpv6Type::MldReportV2 => f.write_str("multicast listener report v2"),
            Icmpv6Type::Unknown(t) => write!(f, "type {t}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a Destination Unreachable message (RFC 4443 section 3.1).
    pub enum DstUnreachable(u8) {
        /// No route to destination.
        NoRoute = 0,
        /// Communication with destination administratively prohibited.
        AdminProhibited = 1,
        /// Beyond scope of source address.
        BeyondScope = 2,
        /// Address unreachable.
        AddrUnreachable = 3,
        /// Port unreachable.
        PortUnreachable = 4,
        /// Source address failed ingress/egress policy.
        FailedPolicy = 5,
        /// Reject route to destination.
        RejectRoute = 6,
    }
}

impl fmt::Display for DstUnreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DstUnreachable::NoRoute => f.write_str("no-route"),
            DstUnreachable::AdminProhibited => f.write_str("admin-prohibited"),
            DstUnreachable::BeyondScope => f.write_str("beyond-scope"),
            DstUnreachable::AddrUnreachable => f.write_str("address"),
            DstUnreachable::PortUnreachable => f.write_str("port"),
            DstUnreachable::FailedPolicy => f.write_str("failed-policy"),
            DstUnreachable::RejectRoute => f.write_str("reject-route"),
            DstUnreachable::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a Time Exceeded message (RFC 4443 section 3.3).
    pub enum TimeExceeded(u8) {
        /// Hop limit exceeded in transit.
        HopLimitExceeded = 0,
        /// Fragment reassembly time exceeded.
        FragReassemblyExceeded = 1,
    }
}

impl fmt::Display for TimeExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeExceeded::HopLimitExceeded => f.write_str("hop-limit"),
            TimeExceeded::FragReassemblyExceeded => f.write_str("reassembly"),
            TimeExceeded::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

enum_with_unknown! {
    /// The code of a Parameter Problem message (RFC 4443 section 3.4).
    pub enum ParamProblem(u8) {
        /// Erroneous header field encountered.
        ErroneousHeaderField = 0,
        /// Unrecognized Next Header type encountered.
        UnrecognizedNextHeader = 1,
        /// Unrecognized IPv6 option encountered.
        UnrecognizedOption = 2,
    }
}

impl fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamProblem::ErroneousHeaderField => f.write_str("header-field"),
            ParamProblem::UnrecognizedNextHeader => f.write_str("next-header"),
            ParamProblem::UnrecognizedOption => f.write_str("option"),
            ParamProblem::Unknown(c) => write!(f, "code {c}"),
        }
    }
}

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    // The second word: unused (zero) in Destination Unreachable and Time
    // Exceeded, the MTU in Packet Too Big, the pointer in Parameter
    // Problem, identifier and sequence number in echo messages.
    pub const BODY_WORD: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ_NO: Range<usize> = 6..8;
    pub const HEADER_LEN: usize = 8;
}

/// The length of the part every ICMPv6 message has: type, code, checksum
/// and the message body word.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// The minimum IPv6 link MTU (RFC 8200 section 5).
pub const MIN_MTU: usize = 1280;

/// The most of an invoking packet an error message quotes.
///
/// RFC 4443 section 2.4 (c): an error carries as much of the invoking
/// packet as fits without the error packet exceeding the minimum MTU. With
/// a 40-byte IPv6 header and no extension headers that is 1280 - 40 - 8.
pub const MAX_ERROR_QUOTE_LEN: usize = MIN_MTU - 40 - HEADER_LEN;

/// The front of `invoking` that an error message should quote: at most
/// [`MAX_ERROR_QUOTE_LEN`] bytes.
pub fn error_quote(invoking: &[u8]) -> &[u8] {
    invoking.get(..MAX_ERROR_QUOTE_LEN).unwrap_or(invoking)
}

/// Reads `N` bytes at `range`; missing bytes read as zero, so accessors
/// used on a message of another type never panic.
pub(crate) fn read<const N: usize>(buf: &[u8], range: Range<usize>) -> [u8; N] {
    array(buf.get(range).unwrap_or(&[]))
}

/// Reads a big-endian `u16` at `range` (see [`read`]).
pub(crate) fn read_u16(buf: &[u8], range: Range<usize>) -> u16 {
    u16::from_be_bytes(read(buf, range))
}

/// Reads a big-endian `u32` at `range` (see [`read`]).
pub(crate) fn read_u32(buf: &[u8], range: Range<usize>) -> u32 {
    u32::from_be_bytes(read(buf, range))
}

/// Reads an IPv6 address at `range` (see [`read`]).
pub(crate) fn read_addr(buf: &[u8], range: Range<usize>) -> Ipv6Addr {
    Ipv6Addr::from(read::<16>(buf, range))
}

/// A byte view of an ICMPv6 message.
///
/// [`check_len`](Self::check_len) proves the fields of the message's own
/// type present (for neighbor discovery and MLD messages too, whose
/// accessors live in [`ndisc`] and [`mld`]).
/// Accessors of another type's fields read missing bytes as zero rather
/// than panicking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps a buffer without checking it; setters may panic if it is too
    /// short.
    pub const fn new_unchecked(buffer: T) -> Icmpv6Packet<T> {
        Icmpv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Icmpv6Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the common header and the fixed fields of the message's
    /// type are present.
    ///
    /// Beyond the 8-byte header: Router Advertisement 16 bytes, Neighbor
    /// Solicitation / Advertisement 24, Redirect 40 (RFC 4861 section 4),
    /// MLD messages 24, and an MLDv2 query (28 bytes or more) its whole
    /// source list; a query of 25 to 27 bytes is neither MLDv1 nor MLDv2
    /// and is [`Error::BadLength`] (RFC 3810 section 8.1). Option and
    /// record lists are checked by their iterators.
    pub fn check_len(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.len() < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let msg_type = self.msg_type();
        if let Some(min) = ndisc::fixed_len(msg_type)
            && buf.len() < min
        {
            return Err(Error::Truncated);
        }
        if msg_type.is_mld() {
            mld::check_len(msg_type, buf)?;
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        Icmpv6Type::from(self.buffer.as_ref()[field::TYPE])
    }

    /// The message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The message body word (bytes 4 to 8) as one number.
    pub fn body_word(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::BODY_WORD])
    }

    /// The MTU of a Packet Too Big message.
    pub fn mtu(&self) -> u32 {
        self.body_word()
    }

    /// The pointer of a Parameter Problem message: the offset in the
    /// invoking packet where the problem was found.
    pub fn pointer(&self) -> u32 {
        self.body_word()
    }

    /// The identifier of an echo message.
    pub fn echo_ident(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// The sequence number of an echo message.
    pub fn echo_seq_no(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::ECHO_SEQ_NO])
    }

    /// Whether the checksum is right for a message from `src` to `dst`.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::verifies(message_sum(src, dst, self.buffer.as_ref()))
    }
}

/// The sum of the pseudo-header (RFC 4443 section 2.3, RFC 8200 section
/// 8.1) and the whole message `data`.
fn message_sum(src: Ipv6Addr, dst: Ipv6Addr, data: &[u8]) -> u16 {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    checksum::Accumulator::new()
        .pseudo_header(src.into(), dst.into(), IpProtocol::Icmpv6, len)
        .bytes(data)
        .sum()
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv6Packet<&'a T> {
    /// The message after the 8-byte header (the quoted packet, the echo
    /// data, the body of an NDISC or MLD message), borrowed for the
    /// buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        self.buffer.as_ref().get(field::HEADER_LEN..).unwrap_or(&[])
    }

    /// The whole message, borrowed for the buffer's lifetime.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, msg_type: Icmpv6Type) {
        self.buffer.as_mut()[field::TYPE] = msg_type.into()
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// Sets the message body word (bytes 4 to 8).
    pub fn set_body_word(&mut self, value: u32) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::BODY_WORD], value)
    }

    /// Sets the MTU of a Packet Too Big message.
    pub fn set_mtu(&mut self, mtu: u32) {
        self.set_body_word(mtu)
    }

    /// Sets the pointer of a Parameter Problem message.
    pub fn set_pointer(&mut self, pointer: u32) {
        self.set_body_word(pointer)
    }

    /// Sets the identifier of an echo message.
    pub fn set_echo_ident(&mut self, ident: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], ident)
    }

    /// Sets the sequence number of an echo message.
    pub fn set_echo_seq_no(&mut self, seq_no: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::ECHO_SEQ_NO], seq_no)
    }

    /// The message after the 8-byte header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::HEADER_LEN..]
    }

    /// The whole message, writable, for the NDISC and MLD emitters.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Computes the checksum over the whole buffer for a message from
    /// `src` to `dst` and writes it.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let sum = message_sum(src, dst, self.buffer.as_ref());
        self.set_checksum(checksum::finish(sum))
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv6Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A list of IPv6 addresses, as MLD source lists and RDNSS options carry
/// them: either borrowed from a packet (16 bytes each) or given as typed
/// values for emitting.
///
/// Two lists are equal when they hold the same addresses in the same order,
/// whichever form they are in.
#[derive(Clone, Copy)]
pub struct Ipv6AddrList<'a>(AddrList<'a>);

#[derive(Clone, Copy)]
enum AddrList<'a> {
    // Invariant: the length is a multiple of 16.
    Wire(&'a [u8]),
    Addrs(&'a [Ipv6Addr]),
}

impl<'a> Ipv6AddrList<'a> {
    /// The empty list.
    pub const EMPTY: Ipv6AddrList<'static> = Ipv6AddrList(AddrList::Addrs(&[]));

    /// A list over packet bytes; [`Error::BadLength`] unless their length
    /// is a multiple of 16.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Ipv6AddrList<'a>> {
        if !bytes.len().is_multiple_of(16) {
            return Err(Error::BadLength);
        }
        Ok(Ipv6AddrList(AddrList::Wire(bytes)))
    }

    /// A list of typed addresses (for emitting).
    pub const fn from_addrs(addrs: &'a [Ipv6Addr]) -> Ipv6AddrList<'a> {
        Ipv6AddrList(AddrList::Addrs(addrs))
    }

    /// The number of addresses.
    pub fn len(&self) -> usize {
        match self.0 {
            AddrList::Wire(bytes) => bytes.len() / 16,
            AddrList::Addrs(addrs) => addrs.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Ipv6Addr> {
        self.iter().nth(index)
    }

    /// The packet bytes, when the list was read from a packet.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.0 {
            AddrList::Wire(bytes) => Some(bytes),
            AddrList::Addrs(_) => None,
        }
    }

    /// Iterates over the addresses.
    pub fn iter(&self) -> Ipv6AddrIter<'a> {
        match self.0 {
            AddrList::Wire(bytes) => Ipv6AddrIter(AddrIter::Wire(bytes.chunks_exact(16))),
            AddrList::Addrs(addrs) => Ipv6AddrIter(AddrIter::Addrs(addrs.iter())),
        }
    }

    /// Writes the first `count` addresses, 16 bytes each, to the front of
    /// `buf`.
    pub(crate) fn emit(&self, count: usize, buf: &mut [u8]) {
        for (addr, out) in self.iter().take(count).zip(buf.chunks_exact_mut(16)) {
            out.copy_from_slice(&addr.octets());
        }
    }
}

impl Default for Ipv6AddrList<'_> {
    fn default() -> Self {
        Ipv6AddrList::EMPTY
    }
}

impl PartialEq for Ipv6AddrList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Ipv6AddrList<'_> {}

impl fmt::Debug for Ipv6AddrList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Ipv6AddrList<'a> {
    type Item = Ipv6Addr;
    type IntoIter = Ipv6AddrIter<'a>;

    fn into_iter(self) -> Ipv6AddrIter<'a> {
        self.iter()
    }
}

/// An iterator over the addresses of an [`Ipv6AddrList`].
#[derive(Debug, Clone)]
pub struct Ipv6AddrIter<'a>(AddrIter<'a>);

#[derive(Debug, Clone)]
enum AddrIter<'a> {
    Wire(core::slice::ChunksExact<'a, u8>),
    Addrs(core::slice::Iter<'a, Ipv6Addr>),
}

impl Iterator for Ipv6AddrIter<'_> {
    type Item = Ipv6Addr;

    fn next(&mut self) -> Option<Ipv6Addr> {
        match &mut self.0 {
            AddrIter::Wire(chunks) => chunks.next().map(|c| Ipv6Addr::from(array::<16>(c))),
            AddrIter::Addrs(addrs) => addrs.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            AddrIter::Wire(chunks) => chunks.size_hint(),
            AddrIter::Addrs(addrs) => addrs.size_hint(),
        }
    }
}

impl ExactSizeIterator for Ipv6AddrIter<'_> {}

/// The parsed meaning of an ICMPv6 message.
///
/// Quotations, echo data and options are borrowed from the packet (or, for
/// emitting, from the caller); [`emit`](Self::emit) copies them into the
/// output, so [`buffer_len`](Self::buffer_len) is the length of the whole
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Destination Unreachable (RFC 4443 section 3.1).
    DstUnreachable {
        /// Why the destination is unreachable.
        reason: DstUnreachable,
        /// The quoted invoking packet, starting with its IPv6 header.
        header: &'a [u8],
    },
    /// Packet Too Big (RFC 4443 section 3.2). The code is ignored on
    /// receipt and sent as zero. An MTU below [`MIN_MTU`] is returned as
    /// is; RFC 8201 section 4 tells the path-MTU layer not to go below
    /// 1280.
    PacketTooBig {
        /// The MTU of the next-hop link.
        mtu: u32,
        /// The quoted invoking packet.
        header: &'a [u8],
    },
    /// Time Exceeded (RFC 4443 section 3.3).
    TimeExceeded {
        /// What ran out.
        reason: TimeExceeded,
        /// The quoted invoking packet.
        header: &'a [u8],
    },
    /// Parameter Problem (RFC 4443 section 3.4).
    ParamProblem {
        /// What kind of problem.
        reason: ParamProblem,
        /// The offset in the invoking packet where the problem is.
        pointer: u32,
        /// The quoted invoking packet.
        header: &'a [u8],
    },
    /// Echo Request (RFC 4443 section 4.1).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// The data after the header.
        data: &'a [u8],
    },
    /// Echo Reply (RFC 4443 section 4.2).
    EchoReply {
        /// Identifier, copied from the request.
        ident: u16,
        /// Sequence number, copied from the request.
        seq_no: u16,
        /// The data, copied from the request.
        data: &'a [u8],
    },
    /// A neighbor discovery message (RFC 4861).
    Ndisc(NdiscRepr<'a>),
    /// A multicast listener discovery message (RFC 2710, RFC 3810).
    Mld(MldRepr<'a>),
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a message sent from `src` to `dst`, verifying the checksum
    /// first when `checksum` is [`ChecksumMode::Software`].
    ///
    /// Errors: [`Error::Truncated`] / [`Error::BadLength`] from
    /// [`Icmpv6Packet::check_len`], [`Error::BadChecksum`],
    /// [`Error::Malformed`] for an echo message with a code other than 0
    /// (RFC 4443 section 4 defines only code 0), what
    /// [`NdiscRepr::parse`] and [`MldRepr::parse`] report, and
    /// [`Error::Unsupported`] for other types. Codes of error messages that
    /// this crate does not name are kept as `Unknown` rather than rejected,
    /// since later RFCs add codes.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&'a T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        checksum: ChecksumMode,
    ) -> Result<Icmpv6Repr<'a>> {
        packet.check_len()?;
        if checksum.in_software() && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let header = packet.payload();
        match packet.msg_type() {
            Icmpv6Type::DstUnreachable => Ok(Icmpv6Repr::DstUnreachable {
                reason: packet.msg_code().into(),
                header,
            }),
            Icmpv6Type::PacketTooBig => Ok(Icmpv6Repr::PacketTooBig {
                mtu: packet.mtu(),
                header,
            }),
            Icmpv6Type::TimeExceeded => Ok(Icmpv6Repr::TimeExceeded {
                reason: packet.msg_code().into(),
                header,
            }),
            Icmpv6Type::ParamProblem => Ok(Icmpv6Repr::ParamProblem {
                reason: packet.msg_code().into(),
                pointer: packet.pointer(),
                header,
            }),
            t @ (Icmpv6Type::EchoRequest | Icmpv6Type::EchoReply) => {
                if packet.msg_code() != 0 {
                    return Err(Error::Malformed);
                }
                let (ident, seq_no, data) = (packet.echo_ident(), packet.echo_seq_no(), header);
                Ok(if t == Icmpv6Type::EchoRequest {
                    Icmpv6Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }
                } else {
                    Icmpv6Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    }
                })
            }
            t if t.is_ndisc() => NdiscRepr::parse(packet, src, dst).map(Icmpv6Repr::Ndisc),
            t if t.is_mld() => MldRepr::parse(packet).map(Icmpv6Repr::Mld),
            _ => Err(Error::Unsupported),
        }
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        match self {
            Icmpv6Repr::DstUnreachable { .. } => Icmpv6Type::DstUnreachable,
            Icmpv6Repr::PacketTooBig { .. } => Icmpv6Type::PacketTooBig,
            Icmpv6Repr::TimeExceeded { .. } => Icmpv6Type::TimeExceeded,
            Icmpv6Repr::ParamProblem { .. } => Icmpv6Type::ParamProblem,
            Icmpv6Repr::EchoRequest { .. } => Icmpv6Type::EchoRequest,
            Icmpv6Repr::EchoReply { .. } => Icmpv6Type::EchoReply,
            Icmpv6Repr::Ndisc(n) => n.msg_type(),
            Icmpv6Repr::Mld(m) => m.msg_type(),
        }
    }

    /// Whether this is an error message, which must never be answered with
    /// another error (RFC 4443 section 2.4 (e)).
    pub fn is_error(&self) -> bool {
        self.msg_type().is_error()
    }

    /// The length of the whole message `emit` writes, data and options
    /// included.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::DstUnreachable { header, .. }
            | Icmpv6Repr::PacketTooBig { header, .. }
            | Icmpv6Repr::TimeExceeded { header, .. }
            | Icmpv6Repr::ParamProblem { header, .. } => field::HEADER_LEN + header.len(),
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => {
                field::HEADER_LEN + data.len()
            }
            Icmpv6Repr::Ndisc(n) => n.buffer_len(),
            Icmpv6Repr::Mld(m) => m.buffer_len(),
        }
    }

    /// Writes the whole message into the first
    /// [`buffer_len`](Self::buffer_len) bytes of the packet, copying the
    /// borrowed data, then fills the checksum when `checksum` is
    /// [`ChecksumMode::Software`] (zero otherwise).
    ///
    /// The checksum covers the packet's whole buffer, so it should be
    /// exactly `buffer_len()` bytes long. Panics if it is shorter.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Icmpv6Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        checksum: ChecksumMode,
    ) {
        packet.set_msg_type(self.msg_type());
        match *self {
            Icmpv6Repr::DstUnreachable { reason, header } => {
                emit_error(packet, reason.into(), 0, header)
            }
            Icmpv6Repr::PacketTooBig { mtu, header } => emit_error(packet, 0, mtu, header),
            Icmpv6Repr::TimeExceeded { reason, header } => {
                emit_error(packet, reason.into(), 0, header)
            }
            Icmpv6Repr::ParamProblem {
                reason,
                pointer,
                header,
            } => emit_error(packet, reason.into(), pointer, header),
            Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }
            | Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
                packet.payload_mut()[..data.len()].copy_from_slice(data);
            }
            Icmpv6Repr::Ndisc(ref n) => n.emit(packet),
            Icmpv6Repr::Mld(ref m) => m.emit(packet),
        }
        packet.set_checksum(0);
        if checksum.in_software() {
            packet.fill_checksum(src, dst);
        }
    }
}

fn emit_error<T: AsRef<[u8]> + AsMut<[u8]>>(
    packet: &mut Icmpv6Packet<T>,
    code: u8,
    word: u32,
    header: &[u8],
) {
    packet.set_msg_code(code);
    packet.set_body_word(word);
    packet.payload_mut()[..header.len()].copy_from_slice(header);
}

impl fmt::Display for Icmpv6Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv6Repr::DstUnreachable { reason, .. } => {
                write!(f, "ICMPv6 dst-unreachable {reason}")
            }
            Icmpv6Repr::PacketTooBig { mtu, .. } => write!(f, "ICMPv6 packet-too-big mtu {mtu}"),
            Icmpv6Repr::TimeExceeded { reason, .. } => write!(f, "ICMPv6 time-exceeded {reason}"),
            Icmpv6Repr::ParamProblem {
                reason, pointer, ..
            } => write!(f, "ICMPv6 param-problem {reason} pointer {pointer}"),
            Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMPv6 echo request id {ident} seq {seq_no} len {}",
                data.len()
            ),
            Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMPv6 echo reply id {ident} seq {seq_no} len {}",
                data.len()
            ),
            Icmpv6Repr::Ndisc(n) => n.fmt(f),
            Icmpv6Repr::Mld(m) => m.fmt(f),
        }
    }
}

/// Helpers for the tests of this module, [`ndisc`] and
/// [`mld`].
#[cfg(test)]
pub(crate) mod test_support {
    extern crate std;

    use std::string::{String, ToString};

    use super::*;

    /// Splits a captured Ethernet frame into its ICMPv6 message and the
    /// IPv6 source and destination, by hand because the IPv6 module is not
    /// used here: 14 bytes of Ethernet header, then the 40-byte IPv6 header
    /// (payload length at 4..6, source at 8..24, destination at 24..40),
    /// then `ext` bytes of extension headers (8 for the hop-by-hop header
    /// with Router Alert that MLD messages carry). The message ends where
    /// the IPv6 payload length says.
    pub(crate) fn split(frame: &[u8], ext: usize) -> (&[u8], Ipv6Addr, Ipv6Addr) {
        let ip = &frame[14..];
        let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
        let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
        (&ip[40 + ext..40 + payload_len], src, dst)
    }

    /// Checks and parses with software checksum verification.
    pub(crate) fn parse(msg: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> Result<Icmpv6Repr<'_>> {
        let packet = Icmpv6Packet::new_checked(msg)?;
        Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software)
    }

    /// Emits `repr` into a fresh buffer of `buffer_len` bytes.
    pub(crate) fn emit(repr: &Icmpv6Repr<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> std::vec::Vec<u8> {
        let mut out = std::vec![0xa5; repr.buffer_len()];
        repr.emit(
            &mut Icmpv6Packet::new_unchecked(&mut out[..]),
            src,
            dst,
            ChecksumMode::Software,
        );
        out
    }

    /// Parses `msg`, checks that emitting the result reproduces it byte
    /// for byte, and returns the result.
    pub(crate) fn parse_and_reemit(msg: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> Icmpv6Repr<'_> {
        let repr = parse(msg, src, dst).unwrap();
        assert_eq!(repr.buffer_len(), msg.len());
        assert_eq!(emit(&repr, src, dst), msg);
        repr
    }

    /// Rewrites the checksum after a test tampered with the message.
    pub(crate) fn refill(msg: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
        Icmpv6Packet::new_unchecked(msg).fill_checksum(src, dst)
    }

    /// Parses every prefix of `msg` (including all of it) in both checksum
    /// modes: each must be an error or a valid parse, never a panic, and
    /// what parses must emit and parse back to the same value.
    pub(crate) fn all_prefixes(msg: &[u8], src: Ipv6Addr, dst: Ipv6Addr) {
        for len in 0..=msg.len() {
            let prefix = &msg[..len];
            for mode in [ChecksumMode::Software, ChecksumMode::Offloaded] {
                let Ok(packet) = Icmpv6Packet::new_checked(prefix) else {
                    continue;
                };
                let Ok(repr) = Icmpv6Repr::parse(&packet, src, dst, mode) else {
                    continue;
                };
                let _ = repr.to_string();
                let out = emit(&repr, src, dst);
                assert_eq!(parse(&out, src, dst), Ok(repr), "prefix {len}");
            }
        }
    }

    /// `Display` as a string.
    pub(crate) fn show(repr: &Icmpv6Repr<'_>) -> String {
        repr.to_string()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::test_support::*;
    use super::*;

    /// fd00::1 and fd00::2, the two hosts of scripts/capture.sh.
    const A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

    /// `ping -6 -c 2 fd00::2` from host a (scripts/capture.sh, filter 'icmp6'):
    /// echo request fd00::1 > fd00::2, id 12997 seq 1, 56 bytes of data.
    /// Kept in tests/fixtures/icmpv6-echo.pcap (frame 1).
    const ECHO_REQUEST: [u8; 118] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x01, 0x5a, 0x09, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x63, 0x8f, 0x32, 0xc5,
        0x00, 0x01, 0x42, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xe2, 0xd1, 0x09, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
        0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// The reply of host b to [`ECHO_REQUEST`] (icmpv6-echo.pcap frame 2).
    const ECHO_REPLY: [u8; 118] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x06, 0x8f, 0xd7, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x62, 0x8f, 0x32, 0xc5,
        0x00, 0x01, 0x42, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xe2, 0xd1, 0x09, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
        0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// Host b forwarding (`net.ipv6.conf.all.forwarding=1`, route to fd01::/64)
    /// answering `ping -6 -c1 -t 1 fd01::5` from host a: time exceeded, hop
    /// limit, quoting the whole 104-byte echo request (icmpv6-errors.pcap frame 1).
    const TIME_EXCEEDED: [u8; 166] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x0b, 0xb6, 0x58, 0x00, 0x70, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x90, 0xf9, 0x00, 0x00,
        0x00, 0x00, 0x60, 0x04, 0xd7, 0x8b, 0x00, 0x40, 0x3a, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x80, 0x00, 0x1d,
        0xcc, 0x36, 0x20, 0x00, 0x01, 0x6b, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x02, 0x36,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
        0x37,
    ];

    /// Host b (forwarding, no route to fd02::/64) answering `ping -6 -c1 fd02::5`:
    /// destination unreachable, no route (icmpv6-errors.pcap frame 2).
    const NO_ROUTE: [u8; 166] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x07, 0xe3, 0x19, 0x00, 0x70, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x0e, 0x48, 0x00, 0x00,
        0x00, 0x00, 0x60, 0x01, 0x5c, 0x01, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x80, 0x00, 0x48,
        0x78, 0x36, 0x2f, 0x00, 0x01, 0x6c, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x79,
        0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
        0x37,
    ];

    /// Host b forwarding over a route with `mtu 1280`, answering
    /// `ping -6 -c1 -s 1400 fd03::5`: packet too big, MTU 1280, the quotation cut
    /// so the error packet is exactly 1280 bytes (icmpv6-errors.pcap frame 3).
    const PACKET_TOO_BIG: [u8; 1294] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0xb5, 0xfc, 0x04, 0xd8, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0xa2, 0x35, 0x00, 0x00,
        0x05, 0x00, 0x60, 0x06, 0x96, 0xec, 0x05, 0x80, 0x3a, 0x3f, 0xfd, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x03, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x80, 0x00, 0x6f,
        0x8a, 0x36, 0x31, 0x00, 0x01, 0x6d, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xda,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
        0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54,
        0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
        0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90,
        0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,
        0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd,
        0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc,
        0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb,
        0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
        0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
        0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
        0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
        0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53,
        0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
        0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80,
        0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
        0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e,
        0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
        0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc,
        0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
        0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
        0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34,
        0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43,
        0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52,
        0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
        0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70,
        0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
        0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e,
        0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d,
        0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
        0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
        0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
        0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9,
        0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
        0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
        0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
        0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42,
        0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
        0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60,
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
        0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e,
        0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
        0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c,
        0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
        0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
        0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
        0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
        0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
        0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
        0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
        0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
        0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
        0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32,
        0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
        0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50,
        0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e,
        0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d,
        0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c,
        0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
        0x9c, 0x9d, 0x9e, 0x9f,
    ];

    /// `echo hi | socat - UDP6:[fd00::2]:9999` from host a, nothing listening on
    /// host b: destination unreachable, port (icmpv6-errors.pcap frame 4).
    const PORT_UNREACHABLE: [u8; 113] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x04, 0x98, 0x02, 0x00, 0x3b, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x04, 0x16, 0xe9, 0x00, 0x00,
        0x00, 0x00, 0x60, 0x0e, 0x7c, 0x5b, 0x00, 0x0b, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xbd, 0x10, 0x27,
        0x0f, 0x00, 0x0b, 0xaf, 0x4a, 0x68, 0x69, 0x0a,
    ];

    const FIXTURES: [&[u8]; 6] = [
        &ECHO_REQUEST,
        &ECHO_REPLY,
        &TIME_EXCEEDED,
        &NO_ROUTE,
        &PACKET_TOO_BIG,
        &PORT_UNREACHABLE,
    ];

    #[test]
    fn echo_request_fixture() {
        let (msg, src, dst) = split(&ECHO_REQUEST, 0);
        assert_eq!((src, dst), (A, B));
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(packet.msg_type(), Icmpv6Type::EchoRequest);
        assert_eq!(packet.msg_code(), 0);
        assert_eq!(packet.checksum(), 0x638f);
        assert!(packet.verify_checksum(src, dst));
        let repr = parse_and_reemit(msg, src, dst);
        let Icmpv6Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } = repr
        else {
            panic!("{repr:?}");
        };
        assert_eq!((ident, seq_no, data.len()), (12997, 1, 56));
        // Linux ping: a 16-byte timestamp, then bytes counting up from 0x10.
        assert_eq!(data[16..20], [0x10, 0x11, 0x12, 0x13]);
        assert_eq!(data[55], 0x37);
        assert!(!repr.is_error());
        assert_eq!(show(&repr), "ICMPv6 echo request id 12997 seq 1 len 56");
    }

    #[test]
    fn echo_reply_fixture() {
        let (msg, src, dst) = split(&ECHO_REPLY, 0);
        assert_eq!((src, dst), (B, A));
        let repr = parse_and_reemit(msg, src, dst);
        // The reply echoes the request's identifier, sequence and data.
        let (request, _, _) = split(&ECHO_REQUEST, 0);
        assert_eq!(
            repr,
            Icmpv6Repr::EchoReply {
                ident: 12997,
                seq_no: 1,
                data: &request[HEADER_LEN..],
            }
        );
        assert_eq!(show(&repr), "ICMPv6 echo reply id 12997 seq 1 len 56");
    }

    #[test]
    fn time_exceeded_fixture() {
        let (msg, src, dst) = split(&TIME_EXCEEDED, 0);
        assert_eq!((src, dst), (B, A));
        let repr = parse_and_reemit(msg, src, dst);
        let Icmpv6Repr::TimeExceeded { reason, header } = repr else {
            panic!("{repr:?}");
        };
        assert_eq!(reason, TimeExceeded::HopLimitExceeded);
        // The quoted echo request: IPv6 header (hop limit 1, to fd01::5)
        // and its 64-byte ICMPv6 message.
        assert_eq!(header.len(), 104);
        assert_eq!(header[0] >> 4, 6);
        assert_eq!(header[7], 1);
        assert_eq!(header[24..26], [0xfd, 0x01]);
        assert_eq!(header[40], 128);
        assert!(repr.is_error());
        assert_eq!(show(&repr), "ICMPv6 time-exceeded hop-limit");
    }

    #[test]
    fn no_route_fixture() {
        let (msg, src, dst) = split(&NO_ROUTE, 0);
        let repr = parse_and_reemit(msg, src, dst);
        let Icmpv6Repr::DstUnreachable { reason, header } = repr else {
            panic!("{repr:?}");
        };
        assert_eq!(reason, DstUnreachable::NoRoute);
        assert_eq!(header.len(), 104);
        assert_eq!(header[24..26], [0xfd, 0x02]);
        assert_eq!(show(&repr), "ICMPv6 dst-unreachable no-route");
    }

    #[test]
    fn packet_too_big_fixture() {
        let (msg, src, dst) = split(&PACKET_TOO_BIG, 0);
        // The error packet is exactly the minimum MTU (RFC 4443 2.4 (c)).
        assert_eq!(msg.len() + 40, MIN_MTU);
        let repr = parse_and_reemit(msg, src, dst);
        let Icmpv6Repr::PacketTooBig { mtu, header } = repr else {
            panic!("{repr:?}");
        };
        assert_eq!(mtu, 1280);
        assert_eq!(header.len(), MAX_ERROR_QUOTE_LEN);
        // The invoking packet claimed 1408 bytes of payload.
        assert_eq!(u16::from_be_bytes([header[4], header[5]]), 1408);
        assert_eq!(show(&repr), "ICMPv6 packet-too-big mtu 1280");
    }

    #[test]
    fn port_unreachable_fixture() {
        let (msg, src, dst) = split(&PORT_UNREACHABLE, 0);
        let repr = parse_and_reemit(msg, src, dst);
        let Icmpv6Repr::DstUnreachable { reason, header } = repr else {
            panic!("{repr:?}");
        };
        assert_eq!(reason, DstUnreachable::PortUnreachable);
        // IPv6 + UDP header + "hi\n".
        assert_eq!(header.len(), 40 + 8 + 3);
        assert_eq!(header[6], 17);
        assert_eq!(u16::from_be_bytes([header[42], header[43]]), 9999);
        assert_eq!(&header[48..], b"hi\n");
        assert_eq!(show(&repr), "ICMPv6 dst-unreachable port");
    }

    #[test]
    fn every_prefix_of_every_fixture() {
        for frame in FIXTURES {
            let (msg, src, dst) = split(frame, 0);
            all_prefixes(msg, src, dst);
        }
    }

    #[test]
    fn truncated_header() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Icmpv6Packet::new_checked(&ECHO_REQUEST[54..54 + len]).err(),
                Some(Error::Truncated)
            );
        }
    }

    #[test]
    fn bad_checksum() {
        let (msg, src, dst) = split(&ECHO_REQUEST, 0);
        let mut bytes = msg.to_vec();
        bytes[20] ^= 0x01;
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum(src, dst));
        assert_eq!(
            Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software),
            Err(Error::BadChecksum)
        );
        // A device that verified it is trusted.
        assert!(Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Offloaded).is_ok());
        // The pseudo-header counts: another destination fails.
        let other = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 3);
        assert_eq!(parse(msg, src, other), Err(Error::BadChecksum));
    }

    #[test]
    fn echo_with_nonzero_code_is_malformed() {
        let (msg, src, dst) = split(&ECHO_REQUEST, 0);
        let mut bytes = msg.to_vec();
        bytes[1] = 1;
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
    }

    #[test]
    fn unknown_type_is_unsupported() {
        let mut bytes = [200, 0, 0, 0, 1, 2, 3, 4];
        refill(&mut bytes, A, B);
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.msg_type(), Icmpv6Type::Unknown(200));
        assert_eq!(parse(&bytes, A, B), Err(Error::Unsupported));
    }

    #[test]
    fn unknown_error_codes_are_kept() {
        // Destination unreachable code 8 (RFC 8883) and a non-zero code on
        // Packet Too Big, which receivers ignore.
        let quote = [0x60u8, 0, 0, 0];
        let repr = Icmpv6Repr::DstUnreachable {
            reason: DstUnreachable::Unknown(8),
            header: &quote,
        };
        let out = emit(&repr, A, B);
        assert_eq!(out[1], 8);
        assert_eq!(parse(&out, A, B), Ok(repr));
        assert_eq!(show(&repr), "ICMPv6 dst-unreachable code 8");

        let (msg, src, dst) = split(&PACKET_TOO_BIG, 0);
        let mut bytes = msg.to_vec();
        bytes[1] = 3;
        refill(&mut bytes, src, dst);
        assert!(matches!(
            parse(&bytes, src, dst),
            Ok(Icmpv6Repr::PacketTooBig { mtu: 1280, .. })
        ));
    }

    #[test]
    fn param_problem_round_trip() {
        let quote = [0x60u8, 0, 0, 0, 0, 8, 99, 64];
        let repr = Icmpv6Repr::ParamProblem {
            reason: ParamProblem::UnrecognizedNextHeader,
            pointer: 6,
            header: &quote,
        };
        let out = emit(&repr, B, A);
        assert_eq!(&out[..2], &[4, 1]);
        assert_eq!(out[4..8], [0, 0, 0, 6]);
        let packet = Icmpv6Packet::new_checked(&out[..]).unwrap();
        assert_eq!(packet.pointer(), 6);
        assert_eq!(packet.payload(), &quote);
        assert_eq!(parse(&out, B, A), Ok(repr));
        assert!(repr.is_error());
        assert_eq!(show(&repr), "ICMPv6 param-problem next-header pointer 6");
    }

    #[test]
    fn error_types_are_errors() {
        for t in 0..=255u8 {
            assert_eq!(Icmpv6Type::from(t).is_error(), t < 128);
        }
        assert!(Icmpv6Type::ParamProblem.is_error());
        assert!(!Icmpv6Type::NeighborSolicit.is_error());
        assert!(Icmpv6Type::Redirect.is_ndisc() && !Icmpv6Type::Redirect.is_mld());
        assert!(Icmpv6Type::MldReportV2.is_mld());
    }

    #[test]
    fn offloaded_emit_leaves_checksum_for_later() {
        let repr = Icmpv6Repr::EchoReply {
            ident: 1,
            seq_no: 2,
            data: b"abc",
        };
        let mut out = [0xffu8; 11];
        let mut packet = Icmpv6Packet::new_unchecked(&mut out[..]);
        repr.emit(&mut packet, A, B, ChecksumMode::Offloaded);
        assert_eq!(packet.checksum(), 0);
        packet.fill_checksum(A, B);
        assert!(packet.verify_checksum(A, B));
        assert_eq!(parse(&out, A, B), Ok(repr));
    }

    #[test]
    fn error_quote_is_capped() {
        let big = [0u8; 2000];
        assert_eq!(error_quote(&big).len(), 1232);
        assert_eq!(error_quote(&big[..100]).len(), 100);
        let (msg, _, _) = split(&PACKET_TOO_BIG, 0);
        assert_eq!(msg.len(), HEADER_LEN + MAX_ERROR_QUOTE_LEN);
    }

    #[test]
    fn address_lists_compare_by_value() {
        let bytes = [A.octets(), B.octets()].concat();
        let wire = Ipv6AddrList::from_bytes(&bytes).unwrap();
        let typed = [A, B];
        assert_eq!(wire, Ipv6AddrList::from_addrs(&typed));
        assert_ne!(wire, Ipv6AddrList::from_addrs(&typed[..1]));
        assert_eq!(wire.len(), 2);
        assert_eq!(wire.get(1), Some(B));
        assert_eq!(wire.get(2), None);
        assert_eq!(wire.as_bytes(), Some(&bytes[..]));
        assert_eq!(
            Ipv6AddrList::from_bytes(&bytes[..17]),
            Err(Error::BadLength)
        );
        assert!(Ipv6AddrList::default().is_empty());
    }

    #[test]
    fn accessors_of_other_types_do_not_panic() {
        // An 8-byte echo request read through NDISC and MLD accessors.
        let mut bytes = [128, 0, 0, 0, 0, 1, 0, 1];
        refill(&mut bytes, A, B);
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.target_addr(), Ipv6Addr::UNSPECIFIED);
        assert_eq!(packet.mcast_addr(), Ipv6Addr::UNSPECIFIED);
        assert_eq!(packet.retrans_time(), 0);
        assert!(packet.ndisc_options().is_empty());
        assert!(packet.query_sources().is_empty());
        assert_eq!(packet.payload(), &[]);
    }
}
