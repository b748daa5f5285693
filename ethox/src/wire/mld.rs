//! Multicast Listener Discovery: MLDv2 (RFC 3810) queries and reports,
//! and the MLDv1 messages (RFC 2710) kept for interoperation.
//!
//! The messages are ICMPv6 messages: the byte view is [`Icmpv6Packet`],
//! whose MLD accessors are defined here, and they are parsed through
//! [`Icmpv6Repr::parse`](super::icmpv6::Icmpv6Repr::parse) (which verifies
//! the checksum) or directly with [`MldRepr::parse`].
//!
//! ```text
//! Query (130): 24 bytes is MLDv1, 28 or more MLDv2 (RFC 3810 section 8.1)
//! +------+------+-------------+
//! | type | code |  checksum   |  0
//! +------+------+-------------+
//! | max resp code|  reserved  |  4
//! +---------------------------+
//! |  multicast address (16)   |  8
//! +------+------+-------------+
//! |rsS|QRV| QQIC | nr sources |  24   (MLDv2 only)
//! +------+------+-------------+
//! |  source addresses (16 N)  |  28
//!
//! MLDv1 Report (131) / Done (132): the first 24 bytes of a query.
//!
//! MLDv2 Report (143)                    Multicast address record
//! +------+------+-------------+         +------+------+-------------+
//! | type | rsvd |  checksum   |  0      | type |auxlen| nr sources  |
//! +------+------+-------------+         +------+------+-------------+
//! |  reserved   | nr records  |  4      |  multicast address (16)   |
//! +-------------+-------------+         +---------------------------+
//! | records ...                  8      |  sources (16 N)           |
//!                                       +---------------------------+
//!                                       |  aux data (4 * auxlen)    |
//! ```
//!
//! Every count is checked against the buffer: a query whose source count
//! runs past the end is [`Error::Truncated`] already in
//! [`Icmpv6Packet::check_len`], a report whose records (or their sources)
//! run past the end is `Truncated` in [`MldRecordIter`].
//!
//! The Maximum Response Code and QQIC fields use the floating-point
//! encoding of RFC 3810 sections 5.1.3 and 5.1.9; the `Repr` holds the
//! decoded milliseconds and seconds, and [`encode_max_resp_code`] /
//! [`encode_qqic`] turn a value back into a code exactly when it is
//! representable (rounding down otherwise).
//!
//! The IP-layer rules of RFC 3810 section 5 (link-local source, hop limit
//! 1, Router Alert) are checked by the IP layer, not here.
//!
//! ```
//! use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr, Ipv6AddrList};
//! use ethox::wire::mld::{MldRecordRepr, MldRecordType, MldRecords, MldRepr};
//! use ethox::wire::{ChecksumMode, Ipv6Addr};
//!
//! // Join ff02::1234 from any source: an exclude-mode record with no sources.
//! let records = [MldRecordRepr {
//!     kind: MldRecordType::ChangeToExclude,
//!     group: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1234),
//!     sources: Ipv6AddrList::EMPTY,
//!     aux_data: &[],
//! }];
//! let repr = Icmpv6Repr::Mld(MldRepr::Report { records: MldRecords::from_list(&records) });
//! let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
//! let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
//!
//! let mut bytes = [0u8; 28];
//! assert_eq!(repr.buffer_len(), 28);
//! repr.emit(&mut Icmpv6Packet::new_unchecked(&mut bytes[..]), src, dst, ChecksumMode::Software);
//!
//! let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
//! let parsed = Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "MLDv2 report 1 record(s)");
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::icmpv6::{Icmpv6Packet, Icmpv6Type, Ipv6AddrList};
use super::icmpv6::{read, read_addr, read_u16};
use super::ip::Ipv6Addr;
use super::{Error, Result};

enum_with_unknown! {
    /// The type of an MLDv2 multicast address record (RFC 3810 section
    /// 5.2.12).
    pub enum MldRecordType(u8) {
        /// MODE_IS_INCLUDE: current state, include mode.
        ModeIsInclude = 1,
        /// MODE_IS_EXCLUDE: current state, exclude mode.
        ModeIsExclude = 2,
        /// CHANGE_TO_INCLUDE_MODE: filter mode change.
        ChangeToInclude = 3,
        /// CHANGE_TO_EXCLUDE_MODE: filter mode change.
        ChangeToExclude = 4,
        /// ALLOW_NEW_SOURCES: source list change.
        AllowNewSources = 5,
        /// BLOCK_OLD_SOURCES: source list change.
        BlockOldSources = 6,
    }
}

impl fmt::Display for MldRecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MldRecordType::ModeIsInclude => f.write_str("is-in"),
            MldRecordType::ModeIsExclude => f.write_str("is-ex"),
            MldRecordType::ChangeToInclude => f.write_str("to-in"),
            MldRecordType::ChangeToExclude => f.write_str("to-ex"),
            MldRecordType::AllowNewSources => f.write_str("allow"),
            MldRecordType::BlockOldSources => f.write_str("block"),
            MldRecordType::Unknown(t) => write!(f, "record-type-{t}"),
        }
    }
}

mod field {
    use core::ops::Range;

    // Queries and MLDv1 messages.
    pub const MAX_RESP_CODE: Range<usize> = 4..6;
    pub const MCAST_ADDR: Range<usize> = 8..24;
    pub const V1_LEN: usize = 24;
    // MLDv2 query.
    pub const QUERY_FLAGS: usize = 24;
    pub const QUERY_QQIC: usize = 25;
    pub const QUERY_NUM_SOURCES: Range<usize> = 26..28;
    pub const QUERY_SOURCES: usize = 28;
    // Bits of QUERY_FLAGS: four reserved bits, S, then QRV.
    pub const QUERY_S_FLAG: u8 = 0x08;
    pub const QUERY_QRV_MASK: u8 = 0x07;
    // MLDv2 report.
    pub const REPORT_NUM_RECORDS: Range<usize> = 6..8;
    pub const REPORT_RECORDS: usize = 8;
    // Multicast address record, offsets inside the record.
    pub const REC_TYPE: usize = 0;
    pub const REC_AUX_LEN: usize = 1;
    pub const REC_NUM_SOURCES: Range<usize> = 2..4;
    pub const REC_MCAST_ADDR: Range<usize> = 4..20;
    pub const REC_SOURCES: usize = 20;
}

/// The length of an MLDv1 message (and of the fixed part every MLD message
/// but the MLDv2 report has).
pub const V1_LEN: usize = field::V1_LEN;
/// The length of an MLDv2 query without sources.
pub const V2_QUERY_LEN: usize = field::QUERY_SOURCES;
/// The length of an MLDv2 report header without records.
pub const V2_REPORT_LEN: usize = field::REPORT_RECORDS;
/// The length of a multicast address record without sources or aux data.
pub const RECORD_LEN: usize = field::REC_SOURCES;

/// Checks the lengths of an MLD message of type `msg_type`; called from
/// [`Icmpv6Packet::check_len`], which has checked the first 8 bytes.
pub(crate) fn check_len(msg_type: Icmpv6Type, buf: &[u8]) -> Result<()> {
    let len = buf.len();
    match msg_type {
        Icmpv6Type::MldQuery => {
            if len < field::V1_LEN {
                return Err(Error::Truncated);
            }
            if len == field::V1_LEN {
                return Ok(());
            }
            // RFC 3810 section 8.1: neither MLDv1 (24) nor MLDv2 (28+).
            if len < field::QUERY_SOURCES {
                return Err(Error::BadLength);
            }
            let need = sources_len(read_u16(buf, field::QUERY_NUM_SOURCES))
                .and_then(|n| n.checked_add(field::QUERY_SOURCES))
                .ok_or(Error::Truncated)?;
            if len < need {
                return Err(Error::Truncated);
            }
            Ok(())
        }
        Icmpv6Type::MldReport | Icmpv6Type::MldDone if len < field::V1_LEN => Err(Error::Truncated),
        _ => Ok(()),
    }
}

/// The bytes taken by `count` addresses; checked so that no target width
/// can overflow.
fn sources_len(count: u16) -> Option<usize> {
    usize::from(count).checked_mul(16)
}

/// Decodes a Maximum Response Code to milliseconds (RFC 3810 section
/// 5.1.3): below 32768 the code is the value; above, it is a 3-bit
/// exponent and 12-bit mantissa, `(mant | 0x1000) << (exp + 3)`.
pub const fn decode_max_resp_code(code: u16) -> u32 {
    if code < 0x8000 {
        code as u32
    } else {
        let exp = (code >> 12) & 0x7;
        let mant = (code & 0x0fff) as u32;
        (mant | 0x1000) << (exp + 3)
    }
}

/// Encodes milliseconds as a Maximum Response Code: exactly when the value
/// is representable, otherwise rounding down; values beyond the largest
/// code (8 387 584 ms) give the largest code.
pub const fn encode_max_resp_code(ms: u32) -> u16 {
    if ms < 0x8000 {
        return ms as u16;
    }
    let mut exp = 0;
    while exp < 8 {
        let mant = ms >> (exp + 3);
        if mant < 0x2000 {
            return 0x8000 | ((exp as u16) << 12) | (mant as u16 & 0x0fff);
        }
        exp += 1;
    }
    0xffff
}

/// Decodes a Querier's Query Interval Code to seconds (RFC 3810 section
/// 5.1.9): below 128 the code is the value; above, a 3-bit exponent and
/// 4-bit mantissa, `(mant | 0x10) << (exp + 3)`.
pub const fn decode_qqic(code: u8) -> u16 {
    if code < 0x80 {
        code as u16
    } else {
        let exp = (code >> 4) & 0x7;
        let mant = (code & 0x0f) as u16;
        (mant | 0x10) << (exp + 3)
    }
}

/// Encodes seconds as a QQIC: exactly when representable, otherwise
/// rounding down; beyond the largest code (31 744 s) gives the largest.
pub const fn encode_qqic(secs: u16) -> u8 {
    if secs < 0x80 {
        return secs as u8;
    }
    let mut exp = 0;
    while exp < 8 {
        let mant = secs >> (exp + 3);
        if mant < 0x20 {
            return 0x80 | ((exp as u8) << 4) | (mant as u8 & 0x0f);
        }
        exp += 1;
    }
    0xff
}

/// MLD accessors. They read missing bytes as zero;
/// [`Icmpv6Packet::check_len`] proves the fields of the message's own type
/// present.
impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Query: the Maximum Response Code (MLDv2, encoded) or Maximum
    /// Response Delay (MLDv1, milliseconds).
    pub fn max_resp_code(&self) -> u16 {
        read_u16(self.as_ref(), field::MAX_RESP_CODE)
    }

    /// Query, MLDv1 report and done: the multicast address.
    pub fn mcast_addr(&self) -> Ipv6Addr {
        read_addr(self.as_ref(), field::MCAST_ADDR)
    }

    /// MLDv2 query: the S flag (suppress router-side processing).
    pub fn query_suppress(&self) -> bool {
        self.query_flags() & field::QUERY_S_FLAG != 0
    }

    /// MLDv2 query: the querier's robustness variable.
    pub fn query_qrv(&self) -> u8 {
        self.query_flags() & field::QUERY_QRV_MASK
    }

    fn query_flags(&self) -> u8 {
        read::<1>(self.as_ref(), field::QUERY_FLAGS..field::QUERY_FLAGS + 1)[0]
    }

    /// MLDv2 query: the Querier's Query Interval Code (encoded).
    pub fn query_qqic(&self) -> u8 {
        read::<1>(self.as_ref(), field::QUERY_QQIC..field::QUERY_QQIC + 1)[0]
    }

    /// MLDv2 query: the number of sources.
    pub fn query_num_sources(&self) -> u16 {
        read_u16(self.as_ref(), field::QUERY_NUM_SOURCES)
    }

    /// MLDv2 report: the number of multicast address records.
    pub fn report_num_records(&self) -> u16 {
        read_u16(self.as_ref(), field::REPORT_NUM_RECORDS)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv6Packet<&'a T> {
    /// MLDv2 query: the source addresses, 16 bytes each, as many as the
    /// source count says (cut short if the buffer is, which `check_len`
    /// rejects).
    pub fn query_sources(&self) -> &'a [u8] {
        let bytes = self.bytes();
        let end = sources_len(self.query_num_sources())
            .and_then(|n| n.checked_add(field::QUERY_SOURCES))
            .map_or(bytes.len(), |end| end.min(bytes.len()));
        bytes.get(field::QUERY_SOURCES..end).unwrap_or(&[])
    }

    /// MLDv2 report: everything after the header, where the records are
    /// (walk them with [`MldRecordIter`]).
    pub fn report_records(&self) -> &'a [u8] {
        self.bytes().get(field::REPORT_RECORDS..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Query: sets the Maximum Response Code / Delay.
    pub fn set_max_resp_code(&mut self, code: u16) {
        NetworkEndian::write_u16(&mut self.bytes_mut()[field::MAX_RESP_CODE], code)
    }

    /// Query, MLDv1 report and done: sets the multicast address.
    pub fn set_mcast_addr(&mut self, addr: Ipv6Addr) {
        self.bytes_mut()[field::MCAST_ADDR].copy_from_slice(&addr.octets())
    }

    /// MLDv2 query: sets the S flag and QRV (reserved bits zero).
    pub fn set_query_flags(&mut self, suppress: bool, qrv: u8) {
        let s = if suppress { field::QUERY_S_FLAG } else { 0 };
        self.bytes_mut()[field::QUERY_FLAGS] = s | (qrv & field::QUERY_QRV_MASK)
    }

    /// MLDv2 query: sets the QQIC.
    pub fn set_query_qqic(&mut self, code: u8) {
        self.bytes_mut()[field::QUERY_QQIC] = code
    }

    /// MLDv2 query: sets the number of sources.
    pub fn set_query_num_sources(&mut self, count: u16) {
        NetworkEndian::write_u16(&mut self.bytes_mut()[field::QUERY_NUM_SOURCES], count)
    }

    /// MLDv2 report: sets the number of records.
    pub fn set_report_num_records(&mut self, count: u16) {
        NetworkEndian::write_u16(&mut self.bytes_mut()[field::REPORT_NUM_RECORDS], count)
    }
}

/// One multicast address record of an MLDv2 report (RFC 3810 section
/// 5.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MldRecordRepr<'a> {
    /// The record type.
    pub kind: MldRecordType,
    /// The multicast address the record is about.
    pub group: Ipv6Addr,
    /// The source addresses.
    pub sources: Ipv6AddrList<'a>,
    /// Auxiliary data. MLDv2 defines none: senders must leave it empty and
    /// receivers ignore it (RFC 3810 section 5.2.10). It is kept so a
    /// record re-emits as received; `emit` writes whole 32-bit words only.
    pub aux_data: &'a [u8],
}

impl<'a> MldRecordRepr<'a> {
    /// The most sources one record can list.
    pub const MAX_SOURCES: usize = u16::MAX as usize;
    /// The most aux data one record can carry, in bytes.
    pub const MAX_AUX_LEN: usize = 255 * 4;

    /// Parses the record at the front of `bytes`, returning it and its
    /// length. [`Error::Truncated`] when the header, the sources or the aux
    /// data it announces are not all there.
    pub fn parse(bytes: &'a [u8]) -> Result<(MldRecordRepr<'a>, usize)> {
        if bytes.len() < field::REC_SOURCES {
            return Err(Error::Truncated);
        }
        let kind = read::<1>(bytes, field::REC_TYPE..field::REC_TYPE + 1)[0];
        let aux_words = read::<1>(bytes, field::REC_AUX_LEN..field::REC_AUX_LEN + 1)[0];
        let sources_end = sources_len(read_u16(bytes, field::REC_NUM_SOURCES))
            .and_then(|n| n.checked_add(field::REC_SOURCES))
            .ok_or(Error::Truncated)?;
        let len = sources_end
            .checked_add(4 * usize::from(aux_words))
            .ok_or(Error::Truncated)?;
        let record = bytes.get(..len).ok_or(Error::Truncated)?;
        let sources = record
            .get(field::REC_SOURCES..sources_end)
            .ok_or(Error::Truncated)?;
        Ok((
            MldRecordRepr {
                kind: MldRecordType::from(kind),
                group: read_addr(record, field::REC_MCAST_ADDR),
                sources: Ipv6AddrList::from_bytes(sources)?,
                aux_data: record.get(sources_end..).unwrap_or(&[]),
            },
            len,
        ))
    }

    fn num_sources(&self) -> usize {
        self.sources.len().min(Self::MAX_SOURCES)
    }

    fn aux_len(&self) -> usize {
        (self.aux_data.len() / 4 * 4).min(Self::MAX_AUX_LEN)
    }

    /// The length `emit` writes. Sources beyond 65535 and aux data beyond
    /// 255 words or a whole word are cut off.
    pub fn buffer_len(&self) -> usize {
        field::REC_SOURCES + 16 * self.num_sources() + self.aux_len()
    }

    /// Writes the record into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `buf`. Panics if `buf` is shorter.
    pub fn emit(&self, buf: &mut [u8]) {
        let (num_sources, aux_len) = (self.num_sources(), self.aux_len());
        let record = &mut buf[..self.buffer_len()];
        record[field::REC_TYPE] = self.kind.into();
        // Both fit by construction of num_sources and aux_len.
        record[field::REC_AUX_LEN] = (aux_len / 4) as u8;
        NetworkEndian::write_u16(&mut record[field::REC_NUM_SOURCES], num_sources as u16);
        record[field::REC_MCAST_ADDR].copy_from_slice(&self.group.octets());
        let (sources, aux) = record[field::REC_SOURCES..].split_at_mut(16 * num_sources);
        self.sources.emit(num_sources, sources);
        aux.copy_from_slice(&self.aux_data[..aux_len]);
    }
}

/// Walks the records of an MLDv2 report: exactly as many as its record
/// count says, each checked against the buffer.
///
/// Yields each record, or one error ([`Error::Truncated`] when the count
/// claims more than the buffer holds) and then nothing. Every step consumes
/// at least 20 bytes and the count bounds the walk.
#[derive(Debug, Clone)]
pub struct MldRecordIter<'a> {
    remaining: u16,
    rest: &'a [u8],
}

impl<'a> MldRecordIter<'a> {
    /// Walks `count` records in `bytes`.
    pub const fn new(count: u16, bytes: &'a [u8]) -> MldRecordIter<'a> {
        MldRecordIter {
            remaining: count,
            rest: bytes,
        }
    }

    /// The bytes after the records walked so far.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for MldRecordIter<'a> {
    type Item = Result<MldRecordRepr<'a>>;

    fn next(&mut self) -> Option<Result<MldRecordRepr<'a>>> {
        if self.remaining == 0 {
            return None;
        }
        match MldRecordRepr::parse(self.rest) {
            Ok((record, len)) => {
                self.remaining -= 1;
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok(record))
            }
            Err(err) => {
                self.remaining = 0;
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

/// The records of an MLDv2 report: either borrowed from a packet
/// (validated) or given as a list for emitting.
///
/// Two values are equal when they hold the same records in the same order.
#[derive(Clone, Copy)]
pub struct MldRecords<'a>(Records<'a>);

#[derive(Clone, Copy)]
enum Records<'a> {
    // Invariant: MldRecordIter walks `count` records over exactly `bytes`.
    Wire { count: u16, bytes: &'a [u8] },
    List(&'a [MldRecordRepr<'a>]),
}

impl<'a> MldRecords<'a> {
    /// No records.
    pub const EMPTY: MldRecords<'static> = MldRecords(Records::List(&[]));

    /// Validates `count` records at the front of `bytes`; bytes after them
    /// are not part of the result.
    pub fn parse(count: u16, bytes: &'a [u8]) -> Result<MldRecords<'a>> {
        let mut walk = MldRecordIter::new(count, bytes);
        for record in walk.by_ref() {
            record?;
        }
        let used = bytes.len() - walk.rest().len();
        Ok(MldRecords(Records::Wire {
            count,
            bytes: bytes.get(..used).unwrap_or(&[]),
        }))
    }

    /// Records to emit. At most 65535 are written.
    pub const fn from_list(records: &'a [MldRecordRepr<'a>]) -> MldRecords<'a> {
        MldRecords(Records::List(records))
    }

    /// The number of records `emit` writes.
    pub fn len(&self) -> usize {
        match self.0 {
            Records::Wire { count, .. } => usize::from(count),
            Records::List(list) => list.len().min(usize::from(u16::MAX)),
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes of the records, when they were read from a packet.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.0 {
            Records::Wire { bytes, .. } => Some(bytes),
            Records::List(_) => None,
        }
    }

    /// Iterates over the records.
    pub fn iter(&self) -> MldRecordsIter<'a> {
        match self.0 {
            Records::Wire { count, bytes } => {
                MldRecordsIter(RecordsIter::Wire(MldRecordIter::new(count, bytes)))
            }
            Records::List(list) => MldRecordsIter(RecordsIter::List(list.iter().take(self.len()))),
        }
    }

    /// The length `emit` writes.
    pub fn buffer_len(&self) -> usize {
        match self.0 {
            Records::Wire { bytes, .. } => bytes.len(),
            Records::List(_) => self.iter().map(|r| r.buffer_len()).sum(),
        }
    }

    /// Writes the records into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `buf`. Panics if `buf` is shorter.
    pub fn emit(&self, buf: &mut [u8]) {
        match self.0 {
            Records::Wire { bytes, .. } => buf[..bytes.len()].copy_from_slice(bytes),
            Records::List(_) => {
                let mut at = 0;
                for record in self.iter() {
                    record.emit(&mut buf[at..]);
                    at += record.buffer_len();
                }
            }
        }
    }
}

impl Default for MldRecords<'_> {
    fn default() -> Self {
        MldRecords::EMPTY
    }
}

impl PartialEq for MldRecords<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for MldRecords<'_> {}

impl fmt::Debug for MldRecords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An iterator over [`MldRecords`].
#[derive(Debug, Clone)]
pub struct MldRecordsIter<'a>(RecordsIter<'a>);

#[derive(Debug, Clone)]
enum RecordsIter<'a> {
    Wire(MldRecordIter<'a>),
    List(core::iter::Take<core::slice::Iter<'a, MldRecordRepr<'a>>>),
}

impl<'a> Iterator for MldRecordsIter<'a> {
    type Item = MldRecordRepr<'a>;

    fn next(&mut self) -> Option<MldRecordRepr<'a>> {
        match &mut self.0 {
            // Validated by MldRecords::parse; an error would end the walk.
            RecordsIter::Wire(walk) => walk.next().and_then(|r| r.ok()),
            RecordsIter::List(list) => list.next().copied(),
        }
    }
}

/// The parsed meaning of an MLD message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MldRepr<'a> {
    /// An MLDv1 query (RFC 2710 section 3.6): a message of exactly 24
    /// bytes.
    QueryV1 {
        /// Maximum Response Delay in milliseconds.
        max_resp_ms: u16,
        /// The group asked about; unspecified for a general query.
        group: Ipv6Addr,
    },
    /// An MLDv2 query (RFC 3810 section 5.1).
    Query {
        /// The Maximum Response Code, decoded to milliseconds.
        max_resp_ms: u32,
        /// The group asked about; unspecified for a general query.
        group: Ipv6Addr,
        /// S: routers suppress their timer updates (section 5.1.7).
        suppress: bool,
        /// The querier's robustness variable (0 to 7).
        qrv: u8,
        /// The Querier's Query Interval Code, decoded to seconds.
        qqi: u16,
        /// The sources asked about.
        sources: Ipv6AddrList<'a>,
    },
    /// An MLDv1 report (RFC 2710 section 3.7).
    ReportV1 {
        /// The group listened to.
        group: Ipv6Addr,
    },
    /// An MLDv1 done (RFC 2710 section 3.8).
    Done {
        /// The group left.
        group: Ipv6Addr,
    },
    /// An MLDv2 report (RFC 3810 section 5.2).
    Report {
        /// The multicast address records.
        records: MldRecords<'a>,
    },
}

impl<'a> MldRepr<'a> {
    /// Parses an MLD message. The checksum is not looked at:
    /// [`Icmpv6Repr::parse`](super::icmpv6::Icmpv6Repr::parse) verifies it.
    /// The code (and the reserved fields) are ignored, as RFC 2710 and RFC
    /// 3810 say receivers do. Bytes after a query's sources or a report's
    /// records are ignored (RFC 3810 section 5.1.12).
    ///
    /// [`Error::Truncated`] / [`Error::BadLength`] from
    /// [`Icmpv6Packet::check_len`] and [`MldRecordIter`];
    /// [`Error::Malformed`] for a query whose address is neither
    /// unspecified nor multicast, or an MLDv1 report or done whose address
    /// is not multicast; [`Error::Unsupported`] for other message types.
    /// The group of an MLDv2 record is not checked: deciding what to do with
    /// a record for a non-multicast or reserved address is the router's.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv6Packet<&'a T>) -> Result<MldRepr<'a>> {
        packet.check_len()?;
        match packet.msg_type() {
            Icmpv6Type::MldQuery => {
                let group = packet.mcast_addr();
                if !(group.is_unspecified() || group.is_multicast()) {
                    return Err(Error::Malformed);
                }
                if packet.as_ref().len() == field::V1_LEN {
                    return Ok(MldRepr::QueryV1 {
                        max_resp_ms: packet.max_resp_code(),
                        group,
                    });
                }
                Ok(MldRepr::Query {
                    max_resp_ms: decode_max_resp_code(packet.max_resp_code()),
                    group,
                    suppress: packet.query_suppress(),
                    qrv: packet.query_qrv(),
                    qqi: decode_qqic(packet.query_qqic()),
                    sources: Ipv6AddrList::from_bytes(packet.query_sources())?,
                })
            }
            t @ (Icmpv6Type::MldReport | Icmpv6Type::MldDone) => {
                let group = packet.mcast_addr();
                if !group.is_multicast() {
                    return Err(Error::Malformed);
                }
                Ok(if t == Icmpv6Type::MldReport {
                    MldRepr::ReportV1 { group }
                } else {
                    MldRepr::Done { group }
                })
            }
            Icmpv6Type::MldReportV2 => Ok(MldRepr::Report {
                records: MldRecords::parse(packet.report_num_records(), packet.report_records())?,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    /// The ICMPv6 message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        match self {
            MldRepr::QueryV1 { .. } | MldRepr::Query { .. } => Icmpv6Type::MldQuery,
            MldRepr::ReportV1 { .. } => Icmpv6Type::MldReport,
            MldRepr::Done { .. } => Icmpv6Type::MldDone,
            MldRepr::Report { .. } => Icmpv6Type::MldReportV2,
        }
    }

    fn num_sources(sources: &Ipv6AddrList<'_>) -> usize {
        sources.len().min(usize::from(u16::MAX))
    }

    /// The length of the whole message `emit` writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            MldRepr::QueryV1 { .. } | MldRepr::ReportV1 { .. } | MldRepr::Done { .. } => {
                field::V1_LEN
            }
            MldRepr::Query { sources, .. } => {
                field::QUERY_SOURCES + 16 * Self::num_sources(sources)
            }
            MldRepr::Report { records } => field::REPORT_RECORDS + records.buffer_len(),
        }
    }

    /// Writes the whole message except the checksum into the first
    /// [`buffer_len`](Self::buffer_len) bytes of the packet; code and
    /// reserved fields are zeroed, times are encoded with
    /// [`encode_max_resp_code`] and [`encode_qqic`], and at most 65535
    /// sources are written. [`Icmpv6Repr::emit`](super::icmpv6::Icmpv6Repr::emit)
    /// calls this and then fills the checksum. Panics if the buffer is
    /// shorter.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv6Packet<T>) {
        packet.set_msg_type(self.msg_type());
        packet.set_msg_code(0);
        packet.set_body_word(0);
        match *self {
            MldRepr::QueryV1 { max_resp_ms, group } => {
                packet.set_max_resp_code(max_resp_ms);
                packet.set_mcast_addr(group);
            }
            MldRepr::ReportV1 { group } | MldRepr::Done { group } => packet.set_mcast_addr(group),
            MldRepr::Query {
                max_resp_ms,
                group,
                suppress,
                qrv,
                qqi,
                sources,
            } => {
                let count = Self::num_sources(&sources);
                packet.set_max_resp_code(encode_max_resp_code(max_resp_ms));
                packet.set_mcast_addr(group);
                packet.set_query_flags(suppress, qrv);
                packet.set_query_qqic(encode_qqic(qqi));
                // count <= u16::MAX by num_sources.
                packet.set_query_num_sources(count as u16);
                sources.emit(count, &mut packet.bytes_mut()[field::QUERY_SOURCES..]);
            }
            MldRepr::Report { records } => {
                // len() <= u16::MAX by construction.
                packet.set_report_num_records(records.len() as u16);
                records.emit(&mut packet.bytes_mut()[field::REPORT_RECORDS..]);
            }
        }
    }
}

impl fmt::Display for MldRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Group(Ipv6Addr);
        impl fmt::Display for Group {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.0.is_unspecified() {
                    f.write_str("general")
                } else {
                    self.0.fmt(f)
                }
            }
        }
        match self {
            MldRepr::QueryV1 { max_resp_ms, group } => {
                write!(f, "MLDv1 query {} max-resp {max_resp_ms}ms", Group(*group))
            }
            MldRepr::Query {
                max_resp_ms,
                group,
                sources,
                ..
            } => {
                write!(f, "MLDv2 query {} max-resp {max_resp_ms}ms", Group(*group))?;
                if !sources.is_empty() {
                    write!(f, " {} source(s)", sources.len())?;
                }
                Ok(())
            }
            MldRepr::ReportV1 { group } => write!(f, "MLDv1 report {group}"),
            MldRepr::Done { group } => write!(f, "MLDv1 done {group}"),
            MldRepr::Report { records } => write!(f, "MLDv2 report {} record(s)", records.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::ToString;
    use std::vec::Vec;

    use super::*;
    use crate::wire::icmpv6::Icmpv6Repr;
    use crate::wire::icmpv6::test_support::*;

    const LL_A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
    const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
    const GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1234);
    const SSM_GROUP: Ipv6Addr = Ipv6Addr::new(0xff3e, 0, 0, 0, 0, 0, 0, 0x4321);
    const SRC_2: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
    const SRC_3: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 3);

    /// MLD messages follow an 8-byte hop-by-hop header (Router Alert).
    const HBH: usize = 8;

    /// Host a after `ip -6 addr add fd00::9/64 dev eth0` (scripts/capture.sh,
    /// filter 'ip6'): an MLDv2 report with two CHANGE_TO_EXCLUDE records, for
    /// ff02::1:ff00:9 and ff02::1:ff00:1 (mld-report.pcap frame 1).
    const REPORT_TWO_RECORDS: [u8; 110] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0x6f, 0xe4, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0xff,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x09,
        0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0xff, 0x00, 0x00, 0x01,
    ];

    /// Host a joining ff02::1234 with `timeout 2 socat -u
    /// UDP6-RECV:5000,ipv6-join-group=[ff02::1234]:eth0 -`: one
    /// CHANGE_TO_EXCLUDE record, no sources (mld-report.pcap frame 2).
    const REPORT_JOIN: [u8; 90] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0x5e, 0xd6, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xff,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
    ];

    /// The same socat leaving when `timeout` ends it: one CHANGE_TO_INCLUDE record,
    /// no sources (mld-report.pcap frame 3).
    const REPORT_LEAVE: [u8; 90] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0x5f, 0xd6, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xff,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
    ];

    /// A Python program on host a joining ff3e::4321 from sources fd00::2 and
    /// fd00::3 (setsockopt MCAST_JOIN_SOURCE_GROUP): one ALLOW_NEW_SOURCES record
    /// with two sources (mld-ssm.pcap frame 1).
    const REPORT_ALLOW: [u8; 122] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0x32, 0x84, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x02, 0xff,
        0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x21,
        0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x03,
    ];

    /// The same program leaving source fd00::3 (MCAST_LEAVE_SOURCE_GROUP): one
    /// BLOCK_OLD_SOURCES record (mld-ssm.pcap frame 2).
    const REPORT_BLOCK: [u8; 106] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0x2e, 0x98, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00, 0x00, 0x01, 0xff,
        0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x21,
        0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x03,
    ];

    /// Host b, a Linux bridge with `mcast_querier 1 mcast_mld_version 2`,
    /// answering [`REPORT_BLOCK`] with a group-and-source-specific query:
    /// ff3e::4321, source fd00::3, max response 1000 ms, QRV 2, QQI 125 s
    /// (mld-ssm.pcap frame 3).
    const QUERY_WITH_SOURCE: [u8; 106] = [
        0x33, 0x33, 0x00, 0x00, 0x43, 0x21, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xff, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x21, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x82, 0x00, 0xf7, 0xeb, 0x03, 0xe8, 0x00, 0x00, 0xff, 0x3e, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x21, 0x02, 0x7d, 0x00, 0x01,
        0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x03,
    ];

    /// Host a with `net.ipv6.conf.eth0.force_mld_version=1` joining ff02::1234
    /// (socat as above): an MLDv1 report (mld-v1.pcap frame 1).
    const V1_REPORT: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x12, 0x34, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x83, 0x00, 0x5c, 0xbd, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
    ];

    /// The same host leaving: an MLDv1 done, sent to ff02::2 (mld-v1.pcap frame 2).
    const V1_DONE: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x84, 0x00, 0x6d, 0xef, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
    ];

    /// Host b's bridge querier answering [`V1_DONE`] with an MLDv2
    /// multicast-address-specific query for ff02::1234, no sources (mld-v1.pcap
    /// frame 3).
    const QUERY_GROUP: [u8; 90] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x82, 0x00, 0x69, 0x86, 0x03, 0xe8, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x02, 0x7d, 0x00, 0x00,
    ];

    const FIXTURES: [&[u8]; 9] = [
        &REPORT_TWO_RECORDS,
        &REPORT_JOIN,
        &REPORT_LEAVE,
        &REPORT_ALLOW,
        &REPORT_BLOCK,
        &QUERY_WITH_SOURCE,
        &V1_REPORT,
        &V1_DONE,
        &QUERY_GROUP,
    ];

    fn mld(repr: Icmpv6Repr<'_>) -> MldRepr<'_> {
        match repr {
            Icmpv6Repr::Mld(m) => m,
            other => panic!("not MLD: {other:?}"),
        }
    }

    fn records(repr: Icmpv6Repr<'_>) -> Vec<MldRecordRepr<'_>> {
        match mld(repr) {
            MldRepr::Report { records } => records.iter().collect(),
            other => panic!("not a report: {other:?}"),
        }
    }

    fn record(kind: MldRecordType, group: Ipv6Addr, sources: &[Ipv6Addr]) -> MldRecordRepr<'_> {
        MldRecordRepr {
            kind,
            group,
            sources: Ipv6AddrList::from_addrs(sources),
            aux_data: &[],
        }
    }

    #[test]
    fn report_two_records_fixture() {
        let (msg, src, dst) = split(&REPORT_TWO_RECORDS, HBH);
        assert_eq!((src, dst), (LL_A, ALL_MLDV2_ROUTERS));
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(packet.msg_type(), Icmpv6Type::MldReportV2);
        assert_eq!(packet.report_num_records(), 2);
        let repr = parse_and_reemit(msg, src, dst);
        let expected = [
            record(
                MldRecordType::ChangeToExclude,
                Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 9),
                &[],
            ),
            record(
                MldRecordType::ChangeToExclude,
                Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 1),
                &[],
            ),
        ];
        assert_eq!(records(repr), expected);
        assert_eq!(
            mld(repr),
            MldRepr::Report {
                records: MldRecords::from_list(&expected)
            }
        );
        assert_eq!(show(&repr), "MLDv2 report 2 record(s)");
        // Built from typed records, the report is the same bytes.
        let built = Icmpv6Repr::Mld(MldRepr::Report {
            records: MldRecords::from_list(&expected),
        });
        assert_eq!(emit(&built, src, dst), msg);
    }

    #[test]
    fn join_and_leave_fixtures() {
        let (msg, src, dst) = split(&REPORT_JOIN, HBH);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            records(repr),
            [record(MldRecordType::ChangeToExclude, GROUP, &[])]
        );
        assert_eq!(show(&repr), "MLDv2 report 1 record(s)");

        let (msg, src, dst) = split(&REPORT_LEAVE, HBH);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            records(repr),
            [record(MldRecordType::ChangeToInclude, GROUP, &[])]
        );
    }

    #[test]
    fn source_specific_fixtures() {
        let (msg, src, dst) = split(&REPORT_ALLOW, HBH);
        let repr = parse_and_reemit(msg, src, dst);
        let got = records(repr);
        assert_eq!(
            got,
            [record(
                MldRecordType::AllowNewSources,
                SSM_GROUP,
                &[SRC_2, SRC_3]
            )]
        );
        assert_eq!(got[0].sources.as_bytes().map(<[u8]>::len), Some(32));
        assert_eq!(got[0].kind.to_string(), "allow");

        let (msg, src, dst) = split(&REPORT_BLOCK, HBH);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            records(repr),
            [record(MldRecordType::BlockOldSources, SSM_GROUP, &[SRC_3])]
        );
    }

    #[test]
    fn query_with_source_fixture() {
        let (msg, src, dst) = split(&QUERY_WITH_SOURCE, HBH);
        assert_eq!(dst, SSM_GROUP);
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(packet.max_resp_code(), 1000);
        assert_eq!(packet.query_qqic(), 125);
        assert_eq!(packet.query_num_sources(), 1);
        let repr = parse_and_reemit(msg, src, dst);
        let sources = [SRC_3];
        assert_eq!(
            mld(repr),
            MldRepr::Query {
                max_resp_ms: 1000,
                group: SSM_GROUP,
                suppress: false,
                qrv: 2,
                qqi: 125,
                sources: Ipv6AddrList::from_addrs(&sources),
            }
        );
        assert_eq!(
            show(&repr),
            "MLDv2 query ff3e::4321 max-resp 1000ms 1 source(s)"
        );
    }

    #[test]
    fn mldv1_and_group_query_fixtures() {
        let (msg, src, dst) = split(&V1_REPORT, HBH);
        assert_eq!(dst, GROUP);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(mld(repr), MldRepr::ReportV1 { group: GROUP });
        assert_eq!(show(&repr), "MLDv1 report ff02::1234");

        let (msg, src, dst) = split(&V1_DONE, HBH);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(mld(repr), MldRepr::Done { group: GROUP });
        assert_eq!(show(&repr), "MLDv1 done ff02::1234");

        let (msg, src, dst) = split(&QUERY_GROUP, HBH);
        assert_eq!(msg.len(), V2_QUERY_LEN);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            mld(repr),
            MldRepr::Query {
                max_resp_ms: 1000,
                group: GROUP,
                suppress: false,
                qrv: 2,
                qqi: 125,
                sources: Ipv6AddrList::EMPTY,
            }
        );
        assert_eq!(show(&repr), "MLDv2 query ff02::1234 max-resp 1000ms");
    }

    #[test]
    fn every_prefix_of_every_fixture() {
        for frame in FIXTURES {
            let (msg, src, dst) = split(frame, HBH);
            all_prefixes(msg, src, dst);
        }
    }

    #[test]
    fn record_count_larger_than_buffer_is_truncated() {
        let (msg, src, dst) = split(&REPORT_TWO_RECORDS, HBH);
        let mut bytes = msg.to_vec();
        bytes[7] = 3;
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Truncated));
        // A huge count over an empty record area.
        let mut bytes = [143, 0, 0, 0, 0, 0, 0xff, 0xff];
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Truncated));
        assert_eq!(MldRecordIter::new(u16::MAX, &[]).count(), 1);
    }

    #[test]
    fn record_sources_past_the_end_are_truncated() {
        // The ALLOW record says 3 sources; 2 are there.
        let (msg, src, dst) = split(&REPORT_ALLOW, HBH);
        let mut bytes = msg.to_vec();
        assert_eq!(bytes[8], 5);
        bytes[11] = 3;
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Truncated));
        // Aux data announced but missing.
        let mut bytes = msg.to_vec();
        bytes[9] = 1;
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Truncated));
    }

    #[test]
    fn query_source_count_larger_than_buffer_is_truncated() {
        let (msg, _, _) = split(&QUERY_WITH_SOURCE, HBH);
        let mut bytes = msg.to_vec();
        bytes[27] = 2;
        assert_eq!(
            Icmpv6Packet::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn query_between_v1_and_v2_is_bad_length() {
        // RFC 3810 8.1: 24 bytes is MLDv1, 28 or more MLDv2, else ignored.
        let (msg, _, _) = split(&QUERY_GROUP, HBH);
        for len in 25..28 {
            assert_eq!(
                Icmpv6Packet::new_checked(&msg[..len]).err(),
                Some(Error::BadLength)
            );
        }
        assert_eq!(
            Icmpv6Packet::new_checked(&msg[..23]).err(),
            Some(Error::Truncated)
        );
        // The first 24 bytes are a valid MLDv1 query.
        let (_, src, dst) = split(&QUERY_GROUP, HBH);
        let mut v1 = msg[..24].to_vec();
        refill(&mut v1, src, dst);
        let repr = parse(&v1, src, dst).unwrap();
        assert_eq!(
            mld(repr),
            MldRepr::QueryV1 {
                max_resp_ms: 1000,
                group: GROUP
            }
        );
        assert_eq!(show(&repr), "MLDv1 query ff02::1234 max-resp 1000ms");
        assert_eq!(emit(&repr, src, dst), v1);
    }

    #[test]
    fn bad_checksum() {
        let (msg, src, dst) = split(&REPORT_JOIN, HBH);
        let mut bytes = msg.to_vec();
        bytes[10] ^= 1;
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadChecksum));
    }

    #[test]
    fn non_multicast_groups_are_malformed() {
        let (msg, src, dst) = split(&V1_REPORT, HBH);
        let mut bytes = msg.to_vec();
        bytes[8..24].copy_from_slice(&SRC_2.octets());
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
        let (msg, src, dst) = split(&QUERY_GROUP, HBH);
        let mut bytes = msg.to_vec();
        bytes[8..24].copy_from_slice(&SRC_2.octets());
        refill(&mut bytes, src, dst);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
    }

    #[test]
    fn general_query_and_trailing_bytes() {
        // RFC 3810 5.1.12: extra bytes after the sources are covered by the
        // checksum and otherwise ignored.
        let repr = Icmpv6Repr::Mld(MldRepr::Query {
            max_resp_ms: 10_000,
            group: Ipv6Addr::UNSPECIFIED,
            suppress: true,
            qrv: 7,
            qqi: 1024,
            sources: Ipv6AddrList::EMPTY,
        });
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let mut out = emit(&repr, LL_A, all_nodes);
        // S + QRV 7; QQI 1024 s = 0x10 << (3 + 3): exponent 3, mantissa 0.
        assert_eq!(out[24..26], [0x0f, 0xb0]);
        out.extend_from_slice(&[1, 2, 3, 4]);
        refill(&mut out, LL_A, all_nodes);
        assert_eq!(parse(&out, LL_A, all_nodes), Ok(repr));
        assert_eq!(show(&repr), "MLDv2 query general max-resp 10000ms");
    }

    #[test]
    fn time_codes_round_trip() {
        // RFC 3810 5.1.3 / 5.1.9: codes are exact, and values decoded from
        // a code encode back to it.
        for code in 0..=u16::MAX {
            assert_eq!(encode_max_resp_code(decode_max_resp_code(code)), code);
        }
        for code in 0..=u8::MAX {
            assert_eq!(encode_qqic(decode_qqic(code)), code);
        }
        assert_eq!(decode_max_resp_code(0x8000), 32768);
        assert_eq!(decode_max_resp_code(0xffff), 8_387_584);
        assert_eq!(encode_max_resp_code(u32::MAX), 0xffff);
        assert_eq!(decode_qqic(0x80), 128);
        assert_eq!(decode_qqic(0xff), 31_744);
        assert_eq!(encode_qqic(u16::MAX), 0xff);
        // Not representable: rounded down to the code below.
        assert_eq!(decode_max_resp_code(encode_max_resp_code(32_769)), 32_768);
        // Decoding is increasing, so the encoding is unambiguous.
        assert!((1..=u16::MAX).all(|c| decode_max_resp_code(c) > decode_max_resp_code(c - 1)));
    }

    #[test]
    fn large_times_and_records_with_aux_data() {
        let sources = [SRC_2, SRC_3];
        let aux = [9u8, 8, 7, 6, 5, 4, 3, 2];
        let list = [
            record(MldRecordType::ModeIsInclude, SSM_GROUP, &sources),
            MldRecordRepr {
                kind: MldRecordType::Unknown(9),
                group: GROUP,
                sources: Ipv6AddrList::EMPTY,
                aux_data: &aux,
            },
        ];
        let report = Icmpv6Repr::Mld(MldRepr::Report {
            records: MldRecords::from_list(&list),
        });
        assert_eq!(report.buffer_len(), 8 + (20 + 32) + (20 + 8));
        let out = emit(&report, LL_A, ALL_MLDV2_ROUTERS);
        assert_eq!(out[8 + 52 + 1], 2, "aux data length in words");
        let parsed = parse(&out, LL_A, ALL_MLDV2_ROUTERS).unwrap();
        assert_eq!(parsed, report);
        assert_eq!(records(parsed)[1].aux_data, aux);
        assert_eq!(emit(&parsed, LL_A, ALL_MLDV2_ROUTERS), out);

        let query = Icmpv6Repr::Mld(MldRepr::Query {
            max_resp_ms: 1_048_576,
            group: SSM_GROUP,
            suppress: false,
            qrv: 3,
            qqi: 4096,
            sources: Ipv6AddrList::from_addrs(&sources),
        });
        let out = emit(&query, LL_A, SSM_GROUP);
        assert_eq!(out.len(), 28 + 32);
        assert_eq!(parse(&out, LL_A, SSM_GROUP), Ok(query));
    }

    #[test]
    fn trailing_bytes_after_records_are_ignored() {
        let (msg, src, dst) = split(&REPORT_JOIN, HBH);
        let mut bytes = msg.to_vec();
        bytes.extend_from_slice(&[0xee; 5]);
        refill(&mut bytes, src, dst);
        let repr = parse(&bytes, src, dst).unwrap();
        let MldRepr::Report { records } = mld(repr) else {
            panic!()
        };
        assert_eq!(records.as_bytes(), Some(&msg[8..]));
        assert_eq!(emit(&repr, src, dst), msg);
    }
}
