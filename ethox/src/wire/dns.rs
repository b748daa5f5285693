//! DNS messages (RFC 1035 section 4), as a stub resolver reads and writes
//! them.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-------------------------------+-+-------+-+-+-+-+-+-+-+-------+
//! |              ID               |Q|Opcode |A|T|R|R|Z|A|C| RCODE |
//! |                               |R|       |A|C|D|A| |D|D|       |
//! +-------------------------------+-+-------+-+-+-+-+-+-+-+-------+
//! |           QDCOUNT             |           ANCOUNT             |
//! +-------------------------------+-------------------------------+
//! |           NSCOUNT             |           ARCOUNT             |
//! +-------------------------------+-------------------------------+
//! | questions: name, type (2), class (2)                          |
//! | answers, authority, additional records:                       |
//! |   name, type (2), class (2), TTL (4), RDLENGTH (2), RDATA     |
//! +---------------------------------------------------------------+
//! ```
//!
//! Names are labels of 1 to 63 bytes, each after its length byte, ending
//! with the empty root label; 255 bytes at most in all (RFC 1035 3.1). A
//! name may end instead with a compression pointer (two bytes, the top two
//! bits set) to the rest of the name elsewhere in the message (4.1.4).
//!
//! Pointers are where parsers loop or recurse without end, so here:
//!
//! * a pointer must go strictly backwards, before the start of the run
//!   of labels it ends: the positions visited fall with every jump, so
//!   the walk ends, and a loop is refused instead of followed;
//! * at most [`MAX_POINTERS`] pointers are followed in one name, and the
//!   name's length with its labels expanded stays within 255 bytes;
//! * nothing recurses: [`Labels`] walks a name with a loop and three
//!   integers of state.
//!
//! [`DnsMessage::parse`] checks the whole message once (every name, every
//! record's length, the address lengths of A and AAAA, the name in a
//! CNAME), after which its iterators over questions and records read the
//! validated bytes without allocating. [`MessageWriter`] builds messages:
//! the resolver's queries, and answers for test servers.
//!
//! ```
//! use ethox::wire::dns::{
//!     Class, DnsHeader, DnsMessage, MessageWriter, RecordData, RecordType, encode_name,
//! };
//! use ethox::wire::Ipv4Addr;
//!
//! let mut name = [0u8; 255];
//! let name_len = encode_name("example.test", &mut name).unwrap();
//! let mut buf = [0u8; 512];
//! let mut writer = MessageWriter::new(&mut buf, &DnsHeader::response(0x1234)).unwrap();
//! writer.question(&name[..name_len], RecordType::A, Class::In).unwrap();
//! // The answer's owner is a pointer to the question's name at offset 12.
//! writer.record(&[0xc0, 12], RecordType::A, Class::In, 300, &[192, 0, 2, 1]).unwrap();
//! let len = writer.finish();
//!
//! let message = DnsMessage::parse(&buf[..len]).unwrap();
//! assert_eq!(message.header().id, 0x1234);
//! let answer = message.answers().next().unwrap();
//! assert!(answer.name.matches(&name[..name_len]));
//! assert_eq!(answer.data, RecordData::A(Ipv4Addr::new(192, 0, 2, 1)));
//! assert_eq!(answer.ttl, 300);
//! assert_eq!(answer.name.to_string(), "example.test");
//! ```
//!
//! Not handled: EDNS(0) options are read as opaque OPT records, DNSSEC
//! records as opaque data; name escapes (`\.`, `\DDD`) in
//! [`encode_name`]; the extended label types of RFC 6891 (refused).

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::ip::{Ipv4Addr, Ipv6Addr};
use super::{Error, Result};

/// The DNS server port (RFC 1035 4.2.1).
pub const PORT: u16 = 53;
/// The length of the header.
pub const HEADER_LEN: usize = 12;
/// The longest name in wire form, length bytes and root label included
/// (RFC 1035 3.1).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 3.1).
pub const MAX_LABEL_LEN: usize = 63;
/// The most compression pointers followed in one name. A name of 255
/// bytes has at most 127 labels, so a pointer per label is already far
/// more than any compressor writes.
pub const MAX_POINTERS: usize = 127;
/// The largest DNS message over UDP without EDNS(0) (RFC 1035 4.2.1).
pub const MAX_UDP_MESSAGE: usize = 512;

mod field {
    use core::ops::Range;

    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

mod flag {
    pub const QR: u16 = 0x8000;
    pub const OPCODE_SHIFT: u16 = 11;
    pub const OPCODE_MASK: u16 = 0x0f;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const RA: u16 = 0x0080;
    pub const AD: u16 = 0x0020;
    pub const CD: u16 = 0x0010;
    pub const RCODE_MASK: u16 = 0x000f;
}

enum_with_unknown! {
    /// The kind of query (RFC 1035 4.1.1, RFC 1996, RFC 2136).
    pub enum Opcode(u8) {
        /// A standard query.
        Query = 0,
        /// An inverse query (obsolete, RFC 3425).
        InverseQuery = 1,
        /// A server status request.
        Status = 2,
        /// A zone change notification.
        Notify = 4,
        /// A dynamic update.
        Update = 5,
    }
}

enum_with_unknown! {
    /// The response code (RFC 1035 4.1.1).
    pub enum Rcode(u8) {
        /// No error.
        NoError = 0,
        /// The server could not interpret the query.
        FormatError = 1,
        /// The server failed.
        ServerFailure = 2,
        /// The name does not exist (NXDOMAIN).
        NameError = 3,
        /// The server does not do this kind of query.
        NotImplemented = 4,
        /// The server refuses to answer.
        Refused = 5,
    }
}

enum_with_unknown! {
    /// A record type (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6891).
    pub enum RecordType(u16) {
        /// An IPv4 address.
        A = 1,
        /// An authoritative name server.
        Ns = 2,
        /// The canonical name of an alias.
        Cname = 5,
        /// The start of a zone of authority.
        Soa = 6,
        /// A domain name pointer.
        Ptr = 12,
        /// Mail exchange.
        Mx = 15,
        /// Text strings.
        Txt = 16,
        /// An IPv6 address (RFC 3596).
        Aaaa = 28,
        /// A service location (RFC 2782).
        Srv = 33,
        /// The EDNS(0) pseudo-record (RFC 6891).
        Opt = 41,
        /// Any type (queries only).
        Any = 255,
    }
}

enum_with_unknown! {
    /// A record class (RFC 1035 3.2.4).
    pub enum Class(u16) {
        /// The Internet.
        In = 1,
        /// Chaos.
        Chaos = 3,
        /// Hesiod.
        Hesiod = 4,
        /// Any class (queries only).
        Any = 255,
    }
}

impl fmt::Display for RecordType {
    /// The mnemonic of RFC 1035 3.2.2 (`AAAA`, `CNAME`), or `TYPE` and the
    /// number (RFC 3597 5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            RecordType::A => "A",
            RecordType::Ns => "NS",
            RecordType::Cname => "CNAME",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Aaaa => "AAAA",
            RecordType::Srv => "SRV",
            RecordType::Opt => "OPT",
            RecordType::Any => "ANY",
            RecordType::Unknown(n) => return write!(f, "TYPE{n}"),
        };
        f.write_str(name)
    }
}

impl fmt::Display for Rcode {
    /// The names tools print (`NXDOMAIN`, `SERVFAIL`), or `RCODE` and the
    /// number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Rcode::NoError => "NOERROR",
            Rcode::FormatError => "FORMERR",
            Rcode::ServerFailure => "SERVFAIL",
            Rcode::NameError => "NXDOMAIN",
            Rcode::NotImplemented => "NOTIMP",
            Rcode::Refused => "REFUSED",
            Rcode::Unknown(n) => return write!(f, "RCODE{n}"),
        };
        f.write_str(name)
    }
}

/// The header's fields other than the section counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DnsHeader {
    /// Matches answers to queries.
    pub id: u16,
    /// QR: a response, not a query.
    pub response: bool,
    /// The kind of query.
    pub opcode: Opcode,
    /// AA: the answer comes from an authority for the name.
    pub authoritative: bool,
    /// TC: the message was cut to fit the transport.
    pub truncated: bool,
    /// RD: the client asks the server to resolve recursively.
    pub recursion_desired: bool,
    /// RA: the server resolves recursively.
    pub recursion_available: bool,
    /// AD: the data were validated (RFC 4035 3.2.3).
    pub authentic_data: bool,
    /// CD: the client does its own validation (RFC 4035 3.2.2).
    pub checking_disabled: bool,
    /// The response code.
    pub rcode: Rcode,
}

impl DnsHeader {
    /// A standard query with recursion desired, as a stub resolver sends.
    pub const fn query(id: u16) -> DnsHeader {
        DnsHeader {
            id,
            response: false,
            opcode: Opcode::Query,
            authoritative: false,
            truncated: false,
            recursion_desired: true,
            recursion_available: false,
            authentic_data: false,
            checking_disabled: false,
            rcode: Rcode::NoError,
        }
    }

    /// A response without error, recursion desired and available.
    pub const fn response(id: u16) -> DnsHeader {
        DnsHeader {
            response: true,
            recursion_available: true,
            ..DnsHeader::query(id)
        }
    }

    fn from_flags(id: u16, flags: u16) -> DnsHeader {
        DnsHeader {
            id,
            response: flags & flag::QR != 0,
            opcode: Opcode::from(((flags >> flag::OPCODE_SHIFT) & flag::OPCODE_MASK) as u8),
            authoritative: flags & flag::AA != 0,
            truncated: flags & flag::TC != 0,
            recursion_desired: flags & flag::RD != 0,
            recursion_available: flags & flag::RA != 0,
            authentic_data: flags & flag::AD != 0,
            checking_disabled: flags & flag::CD != 0,
            rcode: Rcode::from((flags & flag::RCODE_MASK) as u8),
        }
    }

    /// The flags word; opcode and rcode are cut to their four bits.
    fn flags(&self) -> u16 {
        let bit = |on: bool, bit: u16| if on { bit } else { 0 };
        bit(self.response, flag::QR)
            | ((u16::from(u8::from(self.opcode)) & flag::OPCODE_MASK) << flag::OPCODE_SHIFT)
            | bit(self.authoritative, flag::AA)
            | bit(self.truncated, flag::TC)
            | bit(self.recursion_desired, flag::RD)
            | bit(self.recursion_available, flag::RA)
            | bit(self.authentic_data, flag::AD)
            | bit(self.checking_disabled, flag::CD)
            | (u16::from(u8::from(self.rcode)) & flag::RCODE_MASK)
    }
}

/// A byte view of a DNS message's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DnsPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> DnsPacket<T> {
        DnsPacket { buffer }
    }

    /// Wraps a buffer that holds at least a header, else
    /// [`Error::Truncated`]. The sections are checked by
    /// [`DnsMessage::parse`].
    pub fn new_checked(buffer: T) -> Result<DnsPacket<T>> {
        let packet = DnsPacket::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the header is present.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word(&self, range: core::ops::Range<usize>) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[range])
    }

    /// The ID field.
    pub fn id(&self) -> u16 {
        self.word(field::ID)
    }

    /// The flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub fn flags(&self) -> u16 {
        self.word(field::FLAGS)
    }

    /// The header's fields, decoded.
    pub fn header(&self) -> DnsHeader {
        DnsHeader::from_flags(self.id(), self.flags())
    }

    /// How many questions follow.
    pub fn question_count(&self) -> u16 {
        self.word(field::QDCOUNT)
    }

    /// How many answer records follow.
    pub fn answer_count(&self) -> u16 {
        self.word(field::ANCOUNT)
    }

    /// How many authority records follow.
    pub fn authority_count(&self) -> u16 {
        self.word(field::NSCOUNT)
    }

    /// How many additional records follow.
    pub fn additional_count(&self) -> u16 {
        self.word(field::ARCOUNT)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DnsPacket<T> {
    fn set_word(&mut self, range: core::ops::Range<usize>, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[range], value)
    }

    /// Writes the ID field.
    pub fn set_id(&mut self, id: u16) {
        self.set_word(field::ID, id)
    }

    /// Writes the header's fields other than the counts.
    pub fn set_header(&mut self, header: &DnsHeader) {
        self.set_id(header.id);
        self.set_word(field::FLAGS, header.flags());
    }

    /// Writes the four section counts.
    pub fn set_counts(&mut self, counts: [u16; 4]) {
        self.set_word(field::QDCOUNT, counts[0]);
        self.set_word(field::ANCOUNT, counts[1]);
        self.set_word(field::NSCOUNT, counts[2]);
        self.set_word(field::ARCOUNT, counts[3]);
    }
}

/// One step of a name walk.
enum Step<'a> {
    Label(&'a [u8]),
    End,
}

/// Where a walk through a name is: the next byte to read, the start of
/// the run of labels being read (pointers must go before it), and how
/// many pointers were followed.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: usize,
    run_start: usize,
    pointers: usize,
}

impl Cursor {
    const fn new(offset: usize) -> Cursor {
        Cursor {
            pos: offset,
            run_start: offset,
            pointers: 0,
        }
    }

    /// Reads the next label of the name, following pointers; every rule
    /// of the module documentation is checked here and only here.
    fn step<'a>(&mut self, message: &'a [u8]) -> Result<Step<'a>> {
        // Each turn either returns or follows a pointer, and pointers are
        // bounded: the loop ends.
        loop {
            let len = *message.get(self.pos).ok_or(Error::Truncated)?;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    self.pos += 1;
                    return Ok(Step::End);
                }
                0x00 => {
                    let start = self.pos + 1;
                    let label = message
                        .get(start..start + usize::from(len))
                        .ok_or(Error::Truncated)?;
                    self.pos = start + usize::from(len);
                    return Ok(Step::Label(label));
                }
                0xc0 => {
                    let low = *message.get(self.pos + 1).ok_or(Error::Truncated)?;
                    let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                    if target >= self.run_start || self.pointers >= MAX_POINTERS {
                        return Err(Error::Malformed);
                    }
                    self.pointers += 1;
                    self.pos = target;
                    self.run_start = target;
                }
                // 0x40 and 0x80: extended label types (RFC 6891 5).
                _ => return Err(Error::Unsupported),
            }
        }
    }
}

/// A validated domain name inside a message, possibly compressed.
///
/// Reading it needs the whole message (pointers lead anywhere before
/// the name), which the name borrows.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    message: &'a [u8],
    offset: usize,
}

impl<'a> Name<'a> {
    /// Parses the name at `offset` of `message`: the name, and the offset
    /// just after it where it stands (after its first pointer, or its
    /// root label).
    ///
    /// Errors: [`Error::Truncated`] past the end of the message,
    /// [`Error::Malformed`] for a pointer that does not go back before the
    /// labels it ends (a loop included) or one pointer too many,
    /// [`Error::BadLength`] for a name longer than 255 bytes,
    /// [`Error::Unsupported`] for extended label types.
    pub fn parse(message: &'a [u8], offset: usize) -> Result<(Name<'a>, usize)> {
        let mut cursor = Cursor::new(offset);
        let mut end = None;
        let mut len = 0usize;
        loop {
            let (pos, unjumped) = (cursor.pos, cursor.pointers == 0);
            let step = cursor.step(message)?;
            if unjumped && cursor.pointers > 0 {
                // Before the first jump the walk reads forward from the
                // name, so the first byte this step read, at `pos`, was
                // the pointer: the name stands in place up to it.
                end = Some(pos + 2);
            }
            match step {
                Step::Label(label) => {
                    len += 1 + label.len();
                    if len + 1 > MAX_NAME_LEN {
                        return Err(Error::BadLength);
                    }
                }
                Step::End => break,
            }
        }
        let end = end.unwrap_or(cursor.pos);
        Ok((Name { message, offset }, end))
    }

    /// The labels, from the leftmost; the root label is not included.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            message: self.message,
            cursor: Cursor::new(self.offset),
            done: false,
        }
    }

    /// The length of the name in wire form without compression (length
    /// bytes and root label included; 1 for the root).
    pub fn wire_len(&self) -> usize {
        self.labels().map(|l| 1 + l.len()).sum::<usize>() + 1
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// Whether the two names are equal, ASCII letters compared without
    /// case (RFC 4343).
    pub fn eq_ignore_case(&self, other: &Name<'_>) -> bool {
        labels_eq(self.labels(), other.labels())
    }

    /// Whether the name equals `wire`, an uncompressed name in wire form
    /// (as [`encode_name`] writes it), without case. `false` if `wire` is
    /// not such a name.
    pub fn matches(&self, wire: &[u8]) -> bool {
        match Name::parse(wire, 0) {
            Ok((other, end)) if end == wire.len() => self.eq_ignore_case(&other),
            _ => false,
        }
    }

    /// Writes the name uncompressed into `out`; the length written, or
    /// [`Error::BufferTooSmall`].
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize> {
        let mut at = 0;
        for label in self.labels() {
            let end = at + 1 + label.len();
            let slot = out.get_mut(at..end).ok_or(Error::BufferTooSmall)?;
            slot[0] = label.len() as u8;
            slot[1..].copy_from_slice(label);
            at = end;
        }
        *out.get_mut(at).ok_or(Error::BufferTooSmall)? = 0;
        Ok(at + 1)
    }
}

/// Whether two label sequences are equal, ASCII letters compared
/// without case.
fn labels_eq<'x, 'y>(
    mut a: impl Iterator<Item = &'x [u8]>,
    mut b: impl Iterator<Item = &'y [u8]>,
) -> bool {
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl PartialEq for Name<'_> {
    /// Names are equal without case, wherever they are stored.
    fn eq(&self, other: &Name<'_>) -> bool {
        self.eq_ignore_case(other)
    }
}

impl Eq for Name<'_> {}

impl fmt::Display for Name<'_> {
    /// Labels joined by dots (the root alone is `.`); dots, backslashes and
    /// bytes that are not printable ASCII inside a label are escaped as
    /// `\.`, `\\` and `\DDD` (RFC 1035 5.1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &byte in label {
                match byte {
                    b'.' | b'\\' => write!(f, "\\{}", byte as char)?,
                    0x21..=0x7e => write!(f, "{}", byte as char)?,
                    _ => write!(f, "\\{byte:03}")?,
                }
            }
        }
        Ok(())
    }
}

/// The labels of a [`Name`], leftmost first (see [`Name::labels`]).
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    message: &'a [u8],
    cursor: Cursor,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        match self.cursor.step(self.message) {
            Ok(Step::Label(label)) => Some(label),
            // The name was validated; an error cannot happen, and would
            // end the walk like the root label.
            Ok(Step::End) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

impl core::iter::FusedIterator for Labels<'_> {}

/// A question: the name, type and class asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// The name asked about.
    pub name: Name<'a>,
    /// The type asked for.
    pub qtype: RecordType,
    /// The class asked for.
    pub qclass: Class,
}

/// The data of a record, decoded for the types a resolver follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordData<'a> {
    /// An IPv4 address (type A, class IN).
    A(Ipv4Addr),
    /// An IPv6 address (type AAAA, class IN).
    Aaaa(Ipv6Addr),
    /// The canonical name of an alias (type CNAME).
    Cname(Name<'a>),
    /// Any other record's bytes.
    Other(&'a [u8]),
}

/// A resource record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The owner name.
    pub name: Name<'a>,
    /// The type.
    pub rtype: RecordType,
    /// The class (for OPT, the sender's UDP payload size).
    pub class: Class,
    /// Seconds the record may be cached. RFC 2181 8: values with the top
    /// bit set are read as 0.
    pub ttl: u32,
    /// The data.
    pub data: RecordData<'a>,
}

/// Reads the question at `offset`; the question and the offset after it.
fn parse_question(message: &[u8], offset: usize) -> Result<(Question<'_>, usize)> {
    let (name, at) = Name::parse(message, offset)?;
    let fixed = message.get(at..at + 4).ok_or(Error::Truncated)?;
    let question = Question {
        name,
        qtype: RecordType::from(NetworkEndian::read_u16(&fixed[0..2])),
        qclass: Class::from(NetworkEndian::read_u16(&fixed[2..4])),
    };
    Ok((question, at + 4))
}

/// Reads the record at `offset`; the record and the offset after it.
fn parse_record(message: &[u8], offset: usize) -> Result<(Record<'_>, usize)> {
    let (name, at) = Name::parse(message, offset)?;
    let fixed = message.get(at..at + 10).ok_or(Error::Truncated)?;
    let rtype = RecordType::from(NetworkEndian::read_u16(&fixed[0..2]));
    let class = Class::from(NetworkEndian::read_u16(&fixed[2..4]));
    let ttl = NetworkEndian::read_u32(&fixed[4..8]);
    let ttl = if ttl & 0x8000_0000 != 0 { 0 } else { ttl };
    let rdlength = usize::from(NetworkEndian::read_u16(&fixed[8..10]));
    let start = at + 10;
    let end = start + rdlength;
    let rdata = message.get(start..end).ok_or(Error::Truncated)?;
    let data = match (rtype, class) {
        (RecordType::A, Class::In) => {
            let octets: [u8; 4] = rdata.try_into().map_err(|_| Error::BadLength)?;
            RecordData::A(Ipv4Addr::from(octets))
        }
        (RecordType::Aaaa, Class::In) => {
            let octets: [u8; 16] = rdata.try_into().map_err(|_| Error::BadLength)?;
            RecordData::Aaaa(Ipv6Addr::from(octets))
        }
        (RecordType::Cname, _) => {
            // The name is read in the whole message (it may point back)
            // and must fill the data exactly.
            let (target, name_end) = Name::parse(message, start)?;
            if name_end != end {
                return Err(Error::BadLength);
            }
            RecordData::Cname(target)
        }
        _ => RecordData::Other(rdata),
    };
    let record = Record {
        name,
        rtype,
        class,
        ttl,
        data,
    };
    Ok((record, end))
}

/// A whole, validated DNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    message: &'a [u8],
    header: DnsHeader,
    counts: [u16; 4],
    /// Where the answer, authority and additional sections start.
    sections: [usize; 3],
    /// Where the last record ends; bytes after it are ignored.
    end: usize,
}

impl<'a> DnsMessage<'a> {
    /// Checks the header and every question and record of `message`.
    ///
    /// Errors: [`Error::Truncated`] when a count promises more than the
    /// message holds or anything runs past its end; the errors of
    /// [`Name::parse`] for any name; [`Error::BadLength`] for an A or
    /// AAAA record of the wrong length or a CNAME whose name does not fill
    /// its data. Bytes after the last record are ignored.
    pub fn parse(message: &'a [u8]) -> Result<DnsMessage<'a>> {
        let packet = DnsPacket::new_checked(message)?;
        let counts = [
            packet.question_count(),
            packet.answer_count(),
            packet.authority_count(),
            packet.additional_count(),
        ];
        let mut at = HEADER_LEN;
        for _ in 0..counts[0] {
            at = parse_question(message, at)?.1;
        }
        let mut sections = [0; 3];
        for (start, &count) in sections.iter_mut().zip(&counts[1..]) {
            *start = at;
            for _ in 0..count {
                at = parse_record(message, at)?.1;
            }
        }
        Ok(DnsMessage {
            message,
            header: packet.header(),
            counts,
            sections,
            end: at,
        })
    }

    /// The header's fields.
    pub fn header(&self) -> DnsHeader {
        self.header
    }

    /// The message's bytes up to the end of its last record.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.message.get(..self.end).unwrap_or(self.message)
    }

    /// The questions.
    pub fn questions(&self) -> Questions<'a> {
        Entries {
            message: self.message,
            at: HEADER_LEN,
            left: self.counts[0],
            parse: parse_question,
        }
    }

    /// The answer records.
    pub fn answers(&self) -> Records<'a> {
        self.section(0)
    }

    /// The authority records.
    pub fn authorities(&self) -> Records<'a> {
        self.section(1)
    }

    /// The additional records.
    pub fn additionals(&self) -> Records<'a> {
        self.section(2)
    }

    fn section(&self, index: usize) -> Records<'a> {
        Entries {
            message: self.message,
            at: self.sections[index],
            left: self.counts[index + 1],
            parse: parse_record,
        }
    }
}

impl fmt::Display for DnsMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.header.response {
            "response"
        } else {
            "query"
        };
        write!(f, "DNS {kind} id 0x{:04x}", self.header.id)?;
        if self.header.response && self.header.rcode != Rcode::NoError {
            write!(f, " {}", self.header.rcode)?;
        }
        if let Some(q) = self.questions().next() {
            write!(f, " {} {}", q.qtype, q.name)?;
        }
        if self.header.response {
            write!(f, " answers {}", self.counts[1])?;
        }
        Ok(())
    }
}

/// Reads the entry at an offset of a message: the entry and the offset
/// after it.
type ParseEntry<'a, T> = fn(&'a [u8], usize) -> Result<(T, usize)>;

/// The entries of one section of a [`DnsMessage`], read one after the
/// other: [`Questions`] or [`Records`].
#[derive(Debug, Clone)]
pub struct Entries<'a, T> {
    message: &'a [u8],
    at: usize,
    left: u16,
    parse: ParseEntry<'a, T>,
}

/// The questions of a [`DnsMessage`].
pub type Questions<'a> = Entries<'a, Question<'a>>;

/// The records of one section of a [`DnsMessage`].
pub type Records<'a> = Entries<'a, Record<'a>>;

impl<T> Iterator for Entries<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.left = self.left.checked_sub(1)?;
        // Validated by `DnsMessage::parse`; an error ends the walk.
        match (self.parse)(self.message, self.at) {
            Ok((entry, at)) => {
                self.at = at;
                Some(entry)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }
}

/// Writes a dotted name (`"www.example.com"`, a final dot allowed, `""`
/// or `"."` for the root) in uncompressed wire form into `out`; the
/// length written.
///
/// Errors: an empty label (`"a..b"`, `".a"`), a label over 63 bytes or a
/// name over 255 bytes in wire form, [`Error::Malformed`];
/// [`Error::BufferTooSmall`] when `out` is shorter than the name.
pub fn encode_name(text: &str, out: &mut [u8]) -> Result<usize> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let mut at = 0;
    if !text.is_empty() {
        for label in text.split('.') {
            let bytes = label.as_bytes();
            if bytes.is_empty() || bytes.len() > MAX_LABEL_LEN {
                return Err(Error::Malformed);
            }
            let end = at + 1 + bytes.len();
            if end + 1 > MAX_NAME_LEN {
                return Err(Error::Malformed);
            }
            let slot = out.get_mut(at..end).ok_or(Error::BufferTooSmall)?;
            slot[0] = bytes.len() as u8;
            slot[1..].copy_from_slice(bytes);
            at = end;
        }
    }
    *out.get_mut(at).ok_or(Error::BufferTooSmall)? = 0;
    Ok(at + 1)
}

/// Builds a DNS message in a caller's buffer: the header, then questions,
/// then records, section by section.
///
/// Whatever it writes parses: names are checked as
/// [`DnsMessage::parse`] checks them (so a pointer must lead back into
/// what is already written), A and AAAA data must have their lengths, a
/// CNAME's data must be one name.
#[derive(Debug)]
pub struct MessageWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    counts: [u16; 4],
}

/// The section a record goes into ([`MessageWriter::record_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Answers.
    Answer,
    /// Authority.
    Authority,
    /// Additional.
    Additional,
}

impl<'b> MessageWriter<'b> {
    /// Starts a message with `header` and no questions or records.
    /// [`Error::BufferTooSmall`] if `buf` cannot hold the header.
    pub fn new(buf: &'b mut [u8], header: &DnsHeader) -> Result<MessageWriter<'b>> {
        let head = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        let mut packet = DnsPacket::new_unchecked(head);
        packet.set_header(header);
        packet.set_counts([0; 4]);
        Ok(MessageWriter {
            buf,
            len: HEADER_LEN,
            counts: [0; 4],
        })
    }

    /// Appends `name` (wire form: labels, possibly ending with a pointer
    /// back into the message) and checks it; the offset after it.
    fn push_name(&mut self, name: &[u8]) -> Result<usize> {
        let start = self.len;
        let end = start + name.len();
        self.buf
            .get_mut(start..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(name);
        let written = self.buf.get(..end).ok_or(Error::BufferTooSmall)?;
        match Name::parse(written, start) {
            Ok((_, name_end)) if name_end == end => Ok(end),
            Ok(_) => Err(Error::Malformed),
            Err(Error::Truncated) => Err(Error::Malformed),
            Err(err) => Err(err),
        }
    }

    fn push(&mut self, at: usize, bytes: &[u8]) -> Result<usize> {
        let end = at + bytes.len();
        self.buf
            .get_mut(at..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(bytes);
        Ok(end)
    }

    fn count(&mut self, index: usize) -> Result<()> {
        let count = &mut self.counts[index];
        *count = count.checked_add(1).ok_or(Error::BufferTooSmall)?;
        Ok(())
    }

    /// Appends a question. [`Error::Malformed`] once records were
    /// written (questions come first).
    pub fn question(&mut self, name: &[u8], qtype: RecordType, qclass: Class) -> Result<()> {
        if self.counts[1..].iter().any(|&c| c > 0) {
            return Err(Error::Malformed);
        }
        let at = self.push_name(name)?;
        let mut fixed = [0u8; 4];
        NetworkEndian::write_u16(&mut fixed[0..2], u16::from(qtype));
        NetworkEndian::write_u16(&mut fixed[2..4], u16::from(qclass));
        self.len = self.push(at, &fixed)?;
        self.count(0)
    }

    /// Appends an answer record; see [`record_in`](Self::record_in).
    pub fn record(
        &mut self,
        name: &[u8],
        rtype: RecordType,
        class: Class,
        ttl: u32,
        rdata: &[u8],
    ) -> Result<()> {
        self.record_in(Section::Answer, name, rtype, class, ttl, rdata)
    }

    /// Appends a record to `section`: sections are written in order, so
    /// [`Error::Malformed`] for a section before one already written to,
    /// for data that does not fit its type (A: 4 bytes, AAAA: 16, CNAME:
    /// one name), or a name that does not parse.
    pub fn record_in(
        &mut self,
        section: Section,
        name: &[u8],
        rtype: RecordType,
        class: Class,
        ttl: u32,
        rdata: &[u8],
    ) -> Result<()> {
        let index = match section {
            Section::Answer => 1,
            Section::Authority => 2,
            Section::Additional => 3,
        };
        if self.counts[index + 1..].iter().any(|&c| c > 0) {
            return Err(Error::Malformed);
        }
        let rdlength = u16::try_from(rdata.len()).map_err(|_| Error::BufferTooSmall)?;
        let start = self.len;
        let at = self.push_name(name)?;
        let mut fixed = [0u8; 10];
        NetworkEndian::write_u16(&mut fixed[0..2], u16::from(rtype));
        NetworkEndian::write_u16(&mut fixed[2..4], u16::from(class));
        NetworkEndian::write_u32(&mut fixed[4..8], ttl);
        NetworkEndian::write_u16(&mut fixed[8..10], rdlength);
        let at = self.push(at, &fixed)?;
        let end = self.push(at, rdata)?;
        // The record must read back as written (A and AAAA lengths, the
        // CNAME's name); otherwise it is taken out again.
        let written = self.buf.get(..end).ok_or(Error::BufferTooSmall)?;
        match parse_record(written, start) {
            Ok((_, record_end)) if record_end == end => {}
            _ => {
                self.len = start;
                return Err(Error::Malformed);
            }
        }
        self.len = end;
        self.count(index)
    }

    /// The length written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header is written.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// Writes the section counts and returns the message's length.
    pub fn finish(self) -> usize {
        let counts = self.counts;
        let len = self.len;
        if let Some(head) = self.buf.get_mut(..HEADER_LEN) {
            DnsPacket::new_unchecked(head).set_counts(counts);
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::wire::pcap::PcapReader;
    use std::string::ToString;
    use std::vec::Vec;

    // A stub's queries (python, 10.0.0.1:40000) and dnsmasq 2.90's answers
    // (10.0.0.2:53), captured with scripts/capture.sh over a veth pair:
    //
    //   dnsmasq --no-daemon --port=53 --no-resolv --no-hosts
    //     --local=/example.test/ --local-ttl=300
    //     --host-record=host.example.test,10.0.0.5,fd00::5
    //     --cname=www.example.test,host.example.test
    //     --host-record=multi.example.test,10.0.0.6
    //     --host-record=multi.example.test,10.0.0.7
    //
    // Queries, ids 0x1001-0x1006: A and AAAA host.example.test, A
    // www.example.test (a CNAME), A nx.example.test (NXDOMAIN), A
    // multi.example.test (two addresses), AAAA www.example.test.
    fn fixture() -> Vec<&'static [u8]> {
        PcapReader::new(include_bytes!("../../tests/fixtures/dns-dnsmasq.pcap"))
            .unwrap()
            .map(|r| &r.unwrap().data[42..])
            .collect()
    }

    fn encoded(text: &str) -> Vec<u8> {
        let mut buf = [0u8; MAX_NAME_LEN];
        let len = encode_name(text, &mut buf).unwrap();
        buf[..len].to_vec()
    }

    /// A message: the header (id 1, response, one question and `answers`
    /// answers claimed) followed by `body`.
    fn message(counts: [u16; 4], body: &[u8]) -> Vec<u8> {
        let mut bytes = std::vec![0u8; HEADER_LEN];
        let mut packet = DnsPacket::new_unchecked(&mut bytes[..]);
        packet.set_header(&DnsHeader::response(1));
        packet.set_counts(counts);
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn dnsmasq_answers_parse() {
        let frames = fixture();
        assert_eq!(frames.len(), 12);
        let addresses = |bytes: &[u8]| -> Vec<RecordData<'static>> {
            let message = DnsMessage::parse(bytes).unwrap();
            message
                .answers()
                .filter_map(|r| match r.data {
                    RecordData::A(a) => Some(RecordData::A(a)),
                    RecordData::Aaaa(a) => Some(RecordData::Aaaa(a)),
                    _ => None,
                })
                .collect()
        };
        let host_v4 = RecordData::A(Ipv4Addr::new(10, 0, 0, 5));
        let host_v6 = RecordData::Aaaa("fd00::5".parse().unwrap());
        assert_eq!(addresses(frames[1]), [host_v4]);
        assert_eq!(addresses(frames[3]), [host_v6]);
        assert_eq!(addresses(frames[5]), [host_v4]);
        assert_eq!(addresses(frames[7]), []);
        assert_eq!(
            addresses(frames[9]),
            [
                RecordData::A(Ipv4Addr::new(10, 0, 0, 6)),
                RecordData::A(Ipv4Addr::new(10, 0, 0, 7))
            ]
        );
        assert_eq!(addresses(frames[11]), [host_v6]);

        let answer = DnsMessage::parse(frames[1]).unwrap();
        let header = answer.header();
        assert_eq!(header.id, 0x1001);
        assert!(header.response && header.authoritative && header.recursion_desired);
        assert!(header.recursion_available && !header.truncated);
        assert_eq!(header.rcode, Rcode::NoError);
        let question = answer.questions().next().unwrap();
        assert!(question.name.matches(&encoded("host.example.test")));
        assert_eq!(
            (question.qtype, question.qclass),
            (RecordType::A, Class::In)
        );
        let record = answer.answers().next().unwrap();
        assert_eq!(record.ttl, 300);
        assert_eq!(record.name, question.name);
        assert_eq!(
            answer.to_string(),
            "DNS response id 0x1001 A host.example.test answers 1"
        );

        let nx = DnsMessage::parse(frames[7]).unwrap();
        assert_eq!(nx.header().rcode, Rcode::NameError);
        assert_eq!(
            nx.to_string(),
            "DNS response id 0x1004 NXDOMAIN A nx.example.test answers 0"
        );
    }

    #[test]
    fn cname_and_its_address_follow_pointers_into_record_data() {
        let cname = DnsMessage::parse(fixture()[5]).unwrap();
        let mut answers = cname.answers();
        let alias = answers.next().unwrap();
        assert!(alias.name.matches(&encoded("WWW.Example.TEST")));
        let RecordData::Cname(target) = alias.data else {
            panic!("{alias:?}")
        };
        assert_eq!(target.to_string(), "host.example.test");
        // The address record's owner is a pointer into the CNAME's data.
        let address = answers.next().unwrap();
        assert_eq!(address.name, target);
        assert!(answers.next().is_none());
        assert_eq!(cname.authorities().count(), 0);
        assert_eq!(cname.additionals().count(), 0);
    }

    #[test]
    fn the_queries_are_what_the_writer_writes() {
        let frames = fixture();
        for (query, (name, qtype)) in frames.iter().step_by(2).zip([
            ("host.example.test", RecordType::A),
            ("host.example.test", RecordType::Aaaa),
            ("www.example.test", RecordType::A),
            ("nx.example.test", RecordType::A),
            ("multi.example.test", RecordType::A),
            ("www.example.test", RecordType::Aaaa),
        ]) {
            let id = DnsPacket::new_checked(*query).unwrap().id();
            let mut buf = [0u8; 512];
            let mut writer = MessageWriter::new(&mut buf, &DnsHeader::query(id)).unwrap();
            writer.question(&encoded(name), qtype, Class::In).unwrap();
            let len = writer.finish();
            assert_eq!(&buf[..len], *query);
            let parsed = DnsMessage::parse(query).unwrap();
            assert!(!parsed.header().response);
            assert_eq!(parsed.as_bytes(), *query);
        }
    }

    #[test]
    fn the_writer_reproduces_a_compressed_answer() {
        let original = fixture()[5];
        let mut buf = [0u8; 512];
        let header = DnsHeader {
            authoritative: true,
            ..DnsHeader::response(0x1003)
        };
        let mut writer = MessageWriter::new(&mut buf, &header).unwrap();
        writer
            .question(&encoded("www.example.test"), RecordType::A, Class::In)
            .unwrap();
        writer
            .record(
                &[0xc0, 12],
                RecordType::Cname,
                Class::In,
                300,
                &encoded("host.example.test"),
            )
            .unwrap();
        // The CNAME's data starts at offset 46.
        writer
            .record(&[0xc0, 46], RecordType::A, Class::In, 300, &[10, 0, 0, 5])
            .unwrap();
        assert!(!writer.is_empty());
        let len = writer.finish();
        assert_eq!(&buf[..len], original);
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        // A pointer to itself, at the question's name.
        let to_itself = message([1, 0, 0, 0], &[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&to_itself), Err(Error::Malformed));
        // A forward pointer.
        let forward = message([1, 0, 0, 0], &[0xc0, 14, 0, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&forward), Err(Error::Malformed));
        // Two names pointing at each other: the second goes back to the
        // first, which goes forward to the second.
        let mut pair = message([2, 0, 0, 0], &[1, b'a', 0xc0, 22, 0, 1, 0, 1]);
        pair.extend_from_slice(&[1, b'b', 0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&pair), Err(Error::Malformed));
        // A pointer into the middle of a label that reads as a pointer back
        // to the label: still a loop.
        let sneaky = message([1, 0, 0, 0], &[2, 0xc0, 12, 0xc0, 13, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&sneaky), Err(Error::Malformed));
    }

    #[test]
    fn pointer_chains_and_expanded_lengths_are_bounded() {
        // The root at 12, then names each pointing at the one before:
        // every jump goes back, but the last name has 200 of them.
        let mut body = std::vec![0u8];
        for i in 0..200u16 {
            let target = if i == 0 { 12 } else { 12 + 1 + 2 * (i - 1) };
            body.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let chain = message([0, 0, 0, 0], &body);
        let last = chain.len() - 2;
        assert_eq!(
            Name::parse(&chain, last).map(|n| n.1),
            Err(Error::Malformed)
        );
        // 127 pointers are allowed.
        let allowed = 12 + 1 + 2 * 126;
        let (name, end) = Name::parse(&chain, allowed).unwrap();
        assert!(name.is_root());
        assert_eq!(end, allowed + 2);

        // Labels of 63 bytes, each name pointing back at the previous:
        // the fourth expands past 255 bytes.
        let mut body = Vec::new();
        let mut starts = Vec::new();
        for i in 0..4u16 {
            starts.push(HEADER_LEN + body.len());
            body.push(63);
            body.extend_from_slice(&[b'x'; 63]);
            if i == 0 {
                body.push(0);
            } else {
                body.extend_from_slice(&(0xc000 | starts[i as usize - 1] as u16).to_be_bytes());
            }
        }
        let long = message([0, 0, 0, 0], &body);
        assert_eq!(Name::parse(&long, starts[2]).unwrap().0.wire_len(), 193);
        assert_eq!(
            Name::parse(&long, starts[3]).map(|n| n.1),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn broken_messages_give_typed_errors() {
        assert_eq!(DnsMessage::parse(&[0; 11]), Err(Error::Truncated));
        // More questions claimed than present.
        let short = message([2, 0, 0, 0], &[0, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&short), Err(Error::Truncated));
        // Extended label type 0x40.
        let extended = message([1, 0, 0, 0], &[0x41, 0, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&extended), Err(Error::Unsupported));
        // A label running past the end.
        let cut = message([1, 0, 0, 0], &[5, b'a', b'b']);
        assert_eq!(DnsMessage::parse(&cut), Err(Error::Truncated));
        // A pointer cut in half.
        let half = message([1, 0, 0, 0], &[0xc0]);
        assert_eq!(DnsMessage::parse(&half), Err(Error::Truncated));
        let record = |rtype: u16, rdata: &[u8]| {
            let mut body = std::vec![0u8];
            body.extend_from_slice(&rtype.to_be_bytes());
            body.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            body.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            body.extend_from_slice(rdata);
            message([0, 1, 0, 0], &body)
        };
        assert_eq!(
            DnsMessage::parse(&record(1, &[1, 2, 3])),
            Err(Error::BadLength)
        );
        assert_eq!(
            DnsMessage::parse(&record(28, &[0; 4])),
            Err(Error::BadLength)
        );
        // A CNAME with a byte after its name.
        assert_eq!(
            DnsMessage::parse(&record(5, &[1, b'a', 0, 9])),
            Err(Error::BadLength)
        );
        // A CNAME whose name runs past its data (and the message).
        assert_eq!(
            DnsMessage::parse(&record(5, &[3, b'a'])),
            Err(Error::Truncated)
        );
        // Record data longer than the message.
        let mut long = record(16, b"abc");
        long.truncate(long.len() - 1);
        assert_eq!(DnsMessage::parse(&long), Err(Error::Truncated));
        // The same records well formed parse; an unknown type is opaque.
        assert!(DnsMessage::parse(&record(1, &[1, 2, 3, 4])).is_ok());
        let txt = record(16, b"\x02hi");
        let parsed = DnsMessage::parse(&txt).unwrap();
        assert_eq!(
            parsed.answers().next().unwrap().data,
            RecordData::Other(b"\x02hi")
        );
    }

    #[test]
    fn ttls_with_the_top_bit_read_as_zero() {
        let mut body = std::vec![0u8, 0, 1, 0, 1];
        body.extend_from_slice(&0x8000_0001u32.to_be_bytes());
        body.extend_from_slice(&[0, 4, 1, 2, 3, 4]);
        let bytes = message([0, 1, 0, 0], &body);
        let parsed = DnsMessage::parse(&bytes).unwrap();
        assert_eq!(parsed.answers().next().unwrap().ttl, 0);
    }

    #[test]
    fn every_prefix_of_an_answer_fails_cleanly() {
        for frame in fixture() {
            for len in 0..frame.len() {
                assert!(DnsMessage::parse(&frame[..len]).is_err(), "{len}");
            }
            // Trailing bytes are ignored.
            let mut longer = frame.to_vec();
            longer.extend_from_slice(&[0xff; 7]);
            let parsed = DnsMessage::parse(&longer).unwrap();
            assert_eq!(parsed.as_bytes(), frame);
        }
    }

    #[test]
    fn mutated_answers_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for frame in fixture() {
            for _ in 0..500 {
                let mut bytes = frame.to_vec();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                if let Ok(parsed) = DnsMessage::parse(&bytes) {
                    for q in parsed.questions() {
                        let _ = q.name.to_string();
                    }
                    for r in parsed.answers().chain(parsed.authorities()) {
                        assert!(r.name.wire_len() <= MAX_NAME_LEN);
                        let mut out = [0u8; MAX_NAME_LEN];
                        assert_eq!(r.name.write_to(&mut out), Ok(r.name.wire_len()));
                    }
                    let _ = parsed.to_string();
                }
            }
        }
    }

    #[test]
    fn names_encode_within_the_limits() {
        assert_eq!(encoded("www.example.com"), b"\x03www\x07example\x03com\x00");
        assert_eq!(encoded("example.com."), encoded("example.com"));
        assert_eq!(encoded(""), [0]);
        assert_eq!(encoded("."), [0]);
        let mut buf = [0u8; MAX_NAME_LEN];
        for bad in ["a..b", ".a", "..", "a.b.."] {
            assert_eq!(encode_name(bad, &mut buf), Err(Error::Malformed), "{bad}");
        }
        let label63 = "x".repeat(63);
        assert!(encode_name(&label63, &mut buf).is_ok());
        assert_eq!(
            encode_name(&"x".repeat(64), &mut buf),
            Err(Error::Malformed)
        );
        // 4 labels of 63 make 256 bytes in wire form: one too many.
        let four = [label63.as_str(); 4].join(".");
        assert_eq!(encode_name(&four, &mut buf), Err(Error::Malformed));
        let fits = [&label63[..], &label63[..], &label63[..], &"x".repeat(61)].join(".");
        assert_eq!(encode_name(&fits, &mut buf), Ok(255));
        assert_eq!(
            encode_name("abc", &mut buf[..4]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(encode_name("abc", &mut buf[..5]), Ok(5));
    }

    #[test]
    fn names_print_compare_and_decompress() {
        let bytes = message([0, 0, 0, 0], b"\x03a.b\x02\\\x01\x00\x03WWW\xc0\x0c");
        let (name, end) = Name::parse(&bytes, 12).unwrap();
        assert_eq!(end, 20);
        assert_eq!(name.to_string(), "a\\.b.\\\\\\001");
        let (www, end) = Name::parse(&bytes, 20).unwrap();
        assert_eq!(end, 26);
        assert_eq!(www.wire_len(), 4 + 8);
        let mut out = [0u8; 32];
        assert_eq!(www.write_to(&mut out), Ok(12));
        assert_eq!(&out[..12], b"\x03WWW\x03a.b\x02\\\x01\x00");
        assert_eq!(www.write_to(&mut out[..11]), Err(Error::BufferTooSmall));
        assert!(www.matches(b"\x03www\x03A.B\x02\\\x01\x00"));
        assert!(!www.matches(b"\x03www\x03a.b\x00"));
        // Not a name at all, or trailing bytes.
        assert!(!www.matches(b"\x03www"));
        assert!(!www.matches(b"\x03www\x03a.b\x02\\\x01\x00\x00"));
        assert_ne!(www, name);
        let root = message([0, 0, 0, 0], &[0]);
        let (root, _) = Name::parse(&root, 12).unwrap();
        assert!(root.is_root());
        assert_eq!(root.to_string(), ".");
        assert_eq!(std::format!("{root:?}"), "Name(.)");
    }

    #[test]
    fn types_and_codes_print_as_tools_print_them() {
        assert_eq!(RecordType::Aaaa.to_string(), "AAAA");
        assert_eq!(RecordType::from(99).to_string(), "TYPE99");
        assert_eq!(Rcode::ServerFailure.to_string(), "SERVFAIL");
        assert_eq!(Rcode::from(9).to_string(), "RCODE9");
    }

    #[test]
    fn header_flags_round_trip() {
        let header = DnsHeader {
            id: 0xbeef,
            response: true,
            opcode: Opcode::Update,
            authoritative: true,
            truncated: true,
            recursion_desired: false,
            recursion_available: true,
            authentic_data: true,
            checking_disabled: true,
            rcode: Rcode::Refused,
        };
        let mut bytes = [0u8; HEADER_LEN];
        DnsPacket::new_unchecked(&mut bytes[..]).set_header(&header);
        let packet = DnsPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.header(), header);
        assert_eq!(packet.flags(), 0xaeb5);
        // Out-of-range opcodes and rcodes are cut to four bits.
        let odd = DnsHeader {
            opcode: Opcode::Unknown(0x1f),
            rcode: Rcode::Unknown(0x1e),
            ..DnsHeader::query(0)
        };
        DnsPacket::new_unchecked(&mut bytes[..]).set_header(&odd);
        let back = DnsPacket::new_checked(&bytes[..]).unwrap().header();
        assert_eq!(
            (back.opcode, back.rcode),
            (Opcode::Unknown(15), Rcode::Unknown(14))
        );
        assert!(!back.response);
    }

    #[test]
    fn the_writer_refuses_what_would_not_parse() {
        let mut buf = [0u8; 64];
        assert!(MessageWriter::new(&mut buf[..11], &DnsHeader::query(1)).is_err());
        let mut writer = MessageWriter::new(&mut buf, &DnsHeader::response(1)).unwrap();
        assert!(writer.is_empty());
        // A pointer to where nothing is written yet.
        assert_eq!(
            writer.question(&[0xc0, 12], RecordType::A, Class::In),
            Err(Error::Malformed)
        );
        // A name without its root label.
        assert_eq!(
            writer.question(b"\x01a", RecordType::A, Class::In),
            Err(Error::Malformed)
        );
        writer
            .question(b"\x01a\x00", RecordType::A, Class::In)
            .unwrap();
        let len = writer.len();
        // A data of the wrong length leaves nothing behind.
        assert_eq!(
            writer.record(&[0xc0, 12], RecordType::A, Class::In, 1, &[1, 2, 3]),
            Err(Error::Malformed)
        );
        assert_eq!(writer.len(), len);
        writer
            .record_in(
                Section::Additional,
                &[0xc0, 12],
                RecordType::A,
                Class::In,
                1,
                &[1; 4],
            )
            .unwrap();
        // Sections go in order; questions come first.
        assert_eq!(
            writer.record(&[0xc0, 12], RecordType::A, Class::In, 1, &[1; 4]),
            Err(Error::Malformed)
        );
        assert_eq!(
            writer.question(b"\x00", RecordType::A, Class::In),
            Err(Error::Malformed)
        );
        // Out of room.
        assert_eq!(
            writer.record_in(
                Section::Additional,
                &[0xc0, 12],
                RecordType::Txt,
                Class::In,
                1,
                &[0; 40]
            ),
            Err(Error::BufferTooSmall)
        );
        let len = writer.finish();
        let parsed = DnsMessage::parse(&buf[..len]).unwrap();
        assert_eq!(parsed.additionals().count(), 1);
        assert_eq!(parsed.answers().count(), 0);
    }
}
