//! IPv6 extension headers: hop-by-hop and destination options, routing,
//! fragment (RFC 8200 sections 4.3 to 4.6).
//!
//! ```text
//! hop-by-hop / destination options (RFC 8200 4.3, 4.6):
//! +---------------+---------------+-------------------------------+
//! |  Next Header  |  Hdr Ext Len  |  options (TLV) ...            |
//! +---------------+---------------+                               |
//! |  ... up to (Hdr Ext Len + 1) * 8 bytes in all                 |
//! +---------------------------------------------------------------+
//!
//! option:  | Option Type | Opt Data Len | Option Data ...  (Pad1 is one 0 byte)
//!
//! routing (RFC 8200 4.4):
//! +---------------+---------------+---------------+---------------+
//! |  Next Header  |  Hdr Ext Len  | Routing Type  | Segments Left |
//! +---------------+---------------+---------------+---------------+
//! |  type-specific data ... up to (Hdr Ext Len + 1) * 8 bytes     |
//! +---------------------------------------------------------------+
//!
//! fragment (RFC 8200 4.5), always 8 bytes:
//! +---------------+---------------+-------------------------+-+-+-+
//! |  Next Header  |   Reserved    |    Fragment Offset      |Res|M|
//! +---------------+---------------+-------------------------+-+-+-+
//! |                         Identification                        |
//! +---------------------------------------------------------------+
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::super::ip::{IpProtocol, Ipv6Addr};
use super::super::{Error, Result, array};

mod field {
    use core::ops::Range;

    // Shared by every extension header this module parses.
    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;
    /// Hdr Ext Len counts 8-octet units after the first 8 octets.
    pub const UNIT: usize = 8;

    // Options headers: the options start after the two fixed octets.
    pub const OPTIONS_START: usize = 2;

    // Routing header.
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
    pub const ROUTING_DATA_START: usize = 4;

    // Fragment header.
    pub const FRAG_RESERVED: usize = 1;
    pub const FRAG_OFFSET_M: Range<usize> = 2..4;
    pub const FRAG_IDENT: Range<usize> = 4..8;
    pub const FRAG_HEADER_LEN: usize = 8;

    // Option TLV.
    pub const OPT_TYPE: usize = 0;
    pub const OPT_LEN: usize = 1;
    pub const OPT_DATA_START: usize = 2;
}

/// The largest Hdr Ext Len encodes (255 + 1) * 8 = 2048 bytes.
const MAX_EXT_HEADER_LEN: usize = 256 * field::UNIT;

/// The most option bytes an options header can hold (2048 minus the two
/// fixed octets).
pub const MAX_OPTIONS_LEN: usize = MAX_EXT_HEADER_LEN - field::OPTIONS_START;

/// The most type-specific bytes a routing header can hold.
pub const MAX_ROUTING_DATA_LEN: usize = MAX_EXT_HEADER_LEN - field::ROUTING_DATA_START;

/// The length of a fragment header.
pub const FRAGMENT_HEADER_LEN: usize = field::FRAG_HEADER_LEN;

/// Rounds `len` up to the next multiple of 8.
const fn round_up_8(len: usize) -> usize {
    len.div_ceil(field::UNIT) * field::UNIT
}

/// Reads the length of a Hdr-Ext-Len-style header at the front of `buf`,
/// checking that the two fixed octets and the claimed length are present.
fn ext_header_len(buf: &[u8]) -> Result<usize> {
    let units = *buf.get(field::LENGTH).ok_or(Error::Truncated)?;
    let len = (usize::from(units) + 1) * field::UNIT;
    if buf.len() < len {
        return Err(Error::Truncated);
    }
    Ok(len)
}

/// Writes Next Header and Hdr Ext Len for a header of `len` bytes (a
/// multiple of 8, at most 2048).
fn write_fixed(buf: &mut [u8], next_header: IpProtocol, len: usize) {
    buf[field::NEXT_HEADER] = next_header.into();
    buf[field::LENGTH] = (len / field::UNIT).saturating_sub(1) as u8;
}

// ---------------------------------------------------------------------------
// Options (hop-by-hop and destination options)
// ---------------------------------------------------------------------------

/// What a node must do with an option type it does not recognize: the two
/// high-order bits of the Option Type (RFC 8200 section 4.2).
///
/// The wire layer only reports it; the stack decides to drop the packet or
/// answer with an ICMPv6 Parameter Problem (code 2, pointing at the option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6OptionAction {
    /// `00`: skip over this option and keep processing the header.
    Skip,
    /// `01`: discard the packet silently.
    Discard,
    /// `10`: discard the packet and send an ICMPv6 Parameter Problem, code
    /// 2, to the source, whatever the destination.
    DiscardSendIcmp,
    /// `11`: discard the packet and send the ICMPv6 Parameter Problem only
    /// if the destination was not a multicast address.
    DiscardSendIcmpUnlessMulticast,
}

impl Ipv6OptionAction {
    /// The action encoded in an Option Type.
    pub const fn from_option_type(option_type: u8) -> Ipv6OptionAction {
        match option_type >> 6 {
            0 => Ipv6OptionAction::Skip,
            1 => Ipv6OptionAction::Discard,
            2 => Ipv6OptionAction::DiscardSendIcmp,
            _ => Ipv6OptionAction::DiscardSendIcmpUnlessMulticast,
        }
    }
}

enum_with_unknown! {
    /// The value of a Router Alert option (RFC 2711, IANA "IPv6 Router
    /// Alert Option Values").
    pub enum RouterAlert(u16) {
        /// The datagram contains a Multicast Listener Discovery message.
        Mld = 0,
        /// The datagram contains an RSVP message.
        Rsvp = 1,
        /// The datagram contains an Active Networks message.
        ActiveNetworks = 2,
    }
}

/// Option Type values with a meaning here (IANA "Destination Options and
/// Hop-by-Hop Options").
mod option_type {
    pub const PAD1: u8 = 0x00;
    pub const PADN: u8 = 0x01;
    pub const ROUTER_ALERT: u8 = 0x05;
}

/// One option of a hop-by-hop or destination options header.
///
/// Pad1, PadN and Router Alert are decoded; every other option is kept as
/// its type and data, and [`action`](Self::action) says what RFC 8200
/// section 4.2 requires of a node that does not recognize it. (Jumbo
/// Payload, type 0xc2, arrives as `Other`: jumbograms are not supported.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6OptionRepr<'a> {
    /// One octet of padding (type 0, no length octet).
    Pad1,
    /// Two or more octets of padding; the data as received (RFC 8200 says
    /// zeros, and RFC 4942 section 2.1.9.5 suggests receivers check that
    /// and that padding stays below 8 bytes: both are the stack's choice).
    PadN(&'a [u8]),
    /// Router Alert (type 5, RFC 2711): routers on the path should look at
    /// the packet.
    RouterAlert(RouterAlert),
    /// Any other option.
    Other {
        /// The Option Type octet (action bits, change bit, number).
        option_type: u8,
        /// The Option Data.
        data: &'a [u8],
    },
}

impl<'a> Ipv6OptionRepr<'a> {
    /// The Option Type octet.
    pub const fn option_type(&self) -> u8 {
        match self {
            Ipv6OptionRepr::Pad1 => option_type::PAD1,
            Ipv6OptionRepr::PadN(_) => option_type::PADN,
            Ipv6OptionRepr::RouterAlert(_) => option_type::ROUTER_ALERT,
            Ipv6OptionRepr::Other { option_type, .. } => *option_type,
        }
    }

    /// What a node that does not recognize this option must do with the
    /// packet (RFC 8200 section 4.2).
    pub const fn action(&self) -> Ipv6OptionAction {
        Ipv6OptionAction::from_option_type(self.option_type())
    }

    /// Whether the option data may change on the way (the third-highest
    /// bit of the type); such data counts as zeros in an AH digest.
    pub const fn may_change(&self) -> bool {
        self.option_type() & 0x20 != 0
    }

    /// The number of bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Ipv6OptionRepr::Pad1 => 1,
            Ipv6OptionRepr::PadN(data) => field::OPT_DATA_START + data.len(),
            Ipv6OptionRepr::RouterAlert(_) => field::OPT_DATA_START + 2,
            Ipv6OptionRepr::Other { data, .. } => field::OPT_DATA_START + data.len(),
        }
    }

    /// Reads one option from the front of `bytes`, returning it and its
    /// length on the wire.
    ///
    /// Errors with [`Error::BadOption`] when the length octet is missing,
    /// the data runs past `bytes`, or a Router Alert is not 2 data bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<(Ipv6OptionRepr<'a>, usize)> {
        let ty = *bytes.get(field::OPT_TYPE).ok_or(Error::BadOption)?;
        if ty == option_type::PAD1 {
            return Ok((Ipv6OptionRepr::Pad1, 1));
        }
        let len = usize::from(*bytes.get(field::OPT_LEN).ok_or(Error::BadOption)?);
        let end = field::OPT_DATA_START + len;
        let data = bytes
            .get(field::OPT_DATA_START..end)
            .ok_or(Error::BadOption)?;
        let repr = match ty {
            option_type::PADN => Ipv6OptionRepr::PadN(data),
            option_type::ROUTER_ALERT => match data.first_chunk::<2>() {
                Some(value) if data.len() == 2 => {
                    Ipv6OptionRepr::RouterAlert(u16::from_be_bytes(*value).into())
                }
                _ => return Err(Error::BadOption),
            },
            option_type => Ipv6OptionRepr::Other { option_type, data },
        };
        Ok((repr, end))
    }

    /// Writes the option at the front of `buf`, returning the bytes
    /// written.
    ///
    /// Errors: [`Error::BufferTooSmall`] if it does not fit,
    /// [`Error::BadOption`] if the data is longer than 255 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (ty, data): (u8, &[u8]) = match self {
            Ipv6OptionRepr::Pad1 => {
                out[field::OPT_TYPE] = option_type::PAD1;
                return Ok(1);
            }
            Ipv6OptionRepr::PadN(data) => (option_type::PADN, data),
            Ipv6OptionRepr::RouterAlert(value) => {
                out[field::OPT_TYPE] = option_type::ROUTER_ALERT;
                out[field::OPT_LEN] = 2;
                out[field::OPT_DATA_START..].copy_from_slice(&u16::from(*value).to_be_bytes());
                return Ok(len);
            }
            Ipv6OptionRepr::Other { option_type, data } => (*option_type, data),
        };
        let data_len = u8::try_from(data.len()).map_err(|_| Error::BadOption)?;
        out[field::OPT_TYPE] = ty;
        out[field::OPT_LEN] = data_len;
        out[field::OPT_DATA_START..].copy_from_slice(data);
        Ok(len)
    }
}

impl fmt::Display for Ipv6OptionRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ipv6OptionRepr::Pad1 => f.write_str("pad1"),
            Ipv6OptionRepr::PadN(data) => write!(f, "padn {}", data.len()),
            Ipv6OptionRepr::RouterAlert(value) => write!(f, "rtalert {}", u16::from(*value)),
            Ipv6OptionRepr::Other { option_type, data } => {
                write!(f, "opt 0x{option_type:02x} len {}", data.len())
            }
        }
    }
}

/// Writes `options` one after the other at the front of `buf` (no padding
/// between or after them) and returns the bytes written.
///
/// The result is meant for [`Ipv6OptionsRepr::options`]; its `emit` pads
/// the header to a multiple of 8 bytes. Alignment inside the header (the
/// `xn+y` rules of RFC 8200 section 4.2) is the caller's: insert `Pad1` /
/// `PadN` options where an option needs it.
///
/// ```
/// use ethox::wire::ipv6::{encode_options, Ipv6OptionRepr, RouterAlert};
///
/// let mut buf = [0u8; 8];
/// let n = encode_options(&[Ipv6OptionRepr::RouterAlert(RouterAlert::Mld)], &mut buf).unwrap();
/// assert_eq!(&buf[..n], &[5, 2, 0, 0]);
/// ```
pub fn encode_options(options: &[Ipv6OptionRepr<'_>], buf: &mut [u8]) -> Result<usize> {
    let mut at = 0;
    for option in options {
        let rest = buf.get_mut(at..).ok_or(Error::BufferTooSmall)?;
        at += option.emit(rest)?;
    }
    Ok(at)
}

/// An iterator over the options of a hop-by-hop or destination options
/// header.
///
/// Yields each option in order; on a malformed option it yields one
/// `Err(Error::BadOption)` and then stops. Every step consumes at least
/// one byte, so it ends on any input.
#[derive(Debug, Clone)]
pub struct Ipv6OptionsIter<'a> {
    rest: &'a [u8],
}

impl<'a> Ipv6OptionsIter<'a> {
    /// Iterates over the TLV-encoded options in `options` (the header
    /// without its two fixed octets).
    pub const fn new(options: &'a [u8]) -> Ipv6OptionsIter<'a> {
        Ipv6OptionsIter { rest: options }
    }
}

impl<'a> Iterator for Ipv6OptionsIter<'a> {
    type Item = Result<Ipv6OptionRepr<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match Ipv6OptionRepr::parse(self.rest) {
            Ok((option, len)) => {
                self.rest = self.rest.get(len..).unwrap_or_default();
                Some(Ok(option))
            }
            Err(err) => {
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

impl core::iter::FusedIterator for Ipv6OptionsIter<'_> {}

/// A byte view of a hop-by-hop options or destination options header
/// (they share one format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6OptionsHeader<T: AsRef<[u8]>> {
    buffer: T,
}

/// A hop-by-hop options header (Next Header 0, RFC 8200 section 4.3).
pub type Ipv6HopByHopHeader<T> = Ipv6OptionsHeader<T>;
/// A destination options header (Next Header 60, RFC 8200 section 4.6).
pub type Ipv6DestOptsHeader<T> = Ipv6OptionsHeader<T>;

impl<T: AsRef<[u8]>> Ipv6OptionsHeader<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> Ipv6OptionsHeader<T> {
        Ipv6OptionsHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Ipv6OptionsHeader<T>> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the whole header, as long as Hdr Ext Len claims, is
    /// present. The options themselves are checked by
    /// [`Ipv6OptionsRepr::parse`] and the iterator.
    pub fn check_len(&self) -> Result<()> {
        ext_header_len(self.buffer.as_ref()).map(|_| ())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The Next Header field.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }

    /// The raw Hdr Ext Len field: 8-octet units after the first 8.
    pub fn header_len_field(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// The length of the header in bytes: (Hdr Ext Len + 1) * 8.
    pub fn header_len(&self) -> usize {
        (usize::from(self.header_len_field()) + 1) * field::UNIT
    }

    /// The options, padding included, borrowed from the buffer.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS_START..self.header_len()]
    }

    /// Iterates over the options.
    pub fn options_iter(&self) -> Ipv6OptionsIter<'_> {
        Ipv6OptionsIter::new(self.options())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6OptionsHeader<&'a T> {
    /// The options for the buffer's lifetime.
    pub fn options_bytes(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(field::OPTIONS_START..self.header_len())
            .unwrap_or_default()
    }

    /// The bytes after this header, borrowed for the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(self.header_len()..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6OptionsHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, next_header: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next_header.into()
    }

    /// Sets the raw Hdr Ext Len field.
    pub fn set_header_len_field(&mut self, units: u8) {
        self.buffer.as_mut()[field::LENGTH] = units
    }

    /// The options area, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS_START..end]
    }

    /// The bytes after this header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6OptionsHeader<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed hop-by-hop or destination options header.
///
/// The options stay as their TLV bytes (borrowed); iterate them with
/// [`iter`](Self::iter). To build one, write the options with
/// [`encode_options`] into a scratch buffer and point `options` at the
/// result: `emit` adds the padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6OptionsRepr<'a> {
    /// The header after this one.
    pub next_header: IpProtocol,
    /// The TLV-encoded options; as parsed, padding included. At most
    /// [`MAX_OPTIONS_LEN`] bytes are emitted.
    pub options: &'a [u8],
}

impl<'a> Ipv6OptionsRepr<'a> {
    /// Parses a checked header, validating every option.
    ///
    /// Errors: [`Error::Truncated`] if the header is shorter than Hdr Ext
    /// Len claims, [`Error::BadOption`] if an option is malformed or runs
    /// past the end of the header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        header: &Ipv6OptionsHeader<&'a T>,
    ) -> Result<Ipv6OptionsRepr<'a>> {
        header.check_len()?;
        let options = header.options_bytes();
        for option in Ipv6OptionsIter::new(options) {
            option?;
        }
        Ok(Ipv6OptionsRepr {
            next_header: header.next_header(),
            options,
        })
    }

    /// Iterates over the options.
    pub fn iter(&self) -> Ipv6OptionsIter<'a> {
        Ipv6OptionsIter::new(self.options)
    }

    fn options_len(&self) -> usize {
        self.options.len().min(MAX_OPTIONS_LEN)
    }

    /// The header length `emit` writes: the two fixed octets and the
    /// options, rounded up to a multiple of 8.
    pub fn buffer_len(&self) -> usize {
        round_up_8(field::OPTIONS_START + self.options_len())
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes, filling the space after the options with one Pad1 or PadN
    /// so that the options area parses (RFC 8200 section 4.2).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Ipv6OptionsHeader<T>) {
        let len = self.buffer_len();
        let opts_len = self.options_len();
        let buf = header.buffer.as_mut();
        write_fixed(buf, self.next_header, len);
        let area = &mut buf[field::OPTIONS_START..len];
        let (opts, pad) = area.split_at_mut(opts_len);
        opts.copy_from_slice(&self.options[..opts_len]);
        match pad.len() {
            0 => {}
            1 => pad[0] = option_type::PAD1,
            n => {
                pad.fill(0);
                pad[field::OPT_TYPE] = option_type::PADN;
                pad[field::OPT_LEN] = (n - field::OPT_DATA_START) as u8;
            }
        }
    }
}

impl fmt::Display for Ipv6OptionsRepr<'_> {
    /// `OPTS rtalert 0, padn 0`: the Repr does not know whether it is a
    /// hop-by-hop or a destination options header; `Ipv6ExtHeaderRepr`
    /// prints `HBH` or `DSTOPT` instead of `OPTS`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OPTS")?;
        fmt_options(self.options, f)
    }
}

/// Writes ` opt, opt, ...` (or ` malformed`).
pub(super) fn fmt_options(options: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, option) in Ipv6OptionsIter::new(options).enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        match option {
            Ok(option) => write!(f, "{option}")?,
            Err(_) => f.write_str("malformed")?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Routing header
// ---------------------------------------------------------------------------

enum_with_unknown! {
    /// The Routing Type of a routing header (IANA "Routing Types").
    pub enum Ipv6RoutingType(u8) {
        /// Type 0, source route: deprecated by RFC 5095.
        Type0 = 0,
        /// Type 1, Nimrod: deprecated.
        Nimrod = 1,
        /// Type 2, Mobile IPv6 home address (RFC 6275).
        Type2 = 2,
        /// Type 3, RPL source route (RFC 6554).
        Rpl = 3,
        /// Type 4, segment routing header (RFC 8754).
        Srh = 4,
    }
}

impl Ipv6RoutingType {
    /// Whether this type is deprecated and must never be acted upon.
    pub fn is_deprecated(self) -> bool {
        matches!(self, Ipv6RoutingType::Type0 | Ipv6RoutingType::Nimrod)
    }
}

/// A byte view of a routing header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6RoutingHeader<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> Ipv6RoutingHeader<T> {
        Ipv6RoutingHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Ipv6RoutingHeader<T>> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the whole header, as long as Hdr Ext Len claims (at
    /// least 8 bytes), is present.
    pub fn check_len(&self) -> Result<()> {
        ext_header_len(self.buffer.as_ref()).map(|_| ())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The Next Header field.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }

    /// The raw Hdr Ext Len field: 8-octet units after the first 8.
    pub fn header_len_field(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// The length of the header in bytes: (Hdr Ext Len + 1) * 8.
    pub fn header_len(&self) -> usize {
        (usize::from(self.header_len_field()) + 1) * field::UNIT
    }

    /// The Routing Type.
    pub fn routing_type(&self) -> Ipv6RoutingType {
        self.buffer.as_ref()[field::ROUTING_TYPE].into()
    }

    /// Segments Left: route segments still to visit.
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }

    /// The type-specific data (after Segments Left, up to the end of the
    /// header).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::ROUTING_DATA_START..self.header_len()]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6RoutingHeader<&'a T> {
    /// The type-specific data for the buffer's lifetime.
    pub fn data_bytes(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(field::ROUTING_DATA_START..self.header_len())
            .unwrap_or_default()
    }

    /// The bytes after this header, borrowed for the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(self.header_len()..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6RoutingHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, next_header: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next_header.into()
    }

    /// Sets the raw Hdr Ext Len field.
    pub fn set_header_len_field(&mut self, units: u8) {
        self.buffer.as_mut()[field::LENGTH] = units
    }

    /// Sets the Routing Type.
    pub fn set_routing_type(&mut self, routing_type: Ipv6RoutingType) {
        self.buffer.as_mut()[field::ROUTING_TYPE] = routing_type.into()
    }

    /// Sets Segments Left.
    pub fn set_segments_left(&mut self, segments_left: u8) {
        self.buffer.as_mut()[field::SEGMENTS_LEFT] = segments_left
    }

    /// The type-specific data, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[field::ROUTING_DATA_START..end]
    }

    /// The bytes after this header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6RoutingHeader<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed routing header.
///
/// Type 0 (and type 1) are parsed so they can be reported, but RFC 5095
/// section 3 forbids acting on them: when Segments Left is non-zero the
/// stack must treat the header as an unrecognized routing type, i.e. drop
/// the packet and send an ICMPv6 Parameter Problem, code 0, pointing at the
/// Routing Type (RFC 8200 section 4.4). [`must_reject`](Self::must_reject)
/// says exactly that. When Segments Left is 0 any routing header is ignored
/// and processing goes on with the next header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6RoutingRepr<'a> {
    /// The header after this one.
    pub next_header: IpProtocol,
    /// The Routing Type.
    pub routing_type: Ipv6RoutingType,
    /// Segments Left.
    pub segments_left: u8,
    /// The type-specific data after Segments Left, as on the wire. `emit`
    /// pads it with zeros to a multiple of 8 (counting the 4 fixed bytes)
    /// and writes at most [`MAX_ROUTING_DATA_LEN`] bytes of it.
    pub data: &'a [u8],
}

impl<'a> Ipv6RoutingRepr<'a> {
    /// Parses a checked header.
    ///
    /// Errors: [`Error::Truncated`] if the header is shorter than Hdr Ext
    /// Len claims. The type-specific data is not validated.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        header: &Ipv6RoutingHeader<&'a T>,
    ) -> Result<Ipv6RoutingRepr<'a>> {
        header.check_len()?;
        Ok(Ipv6RoutingRepr {
            next_header: header.next_header(),
            routing_type: header.routing_type(),
            segments_left: header.segments_left(),
            data: header.data_bytes(),
        })
    }

    /// Whether the routing type is deprecated (type 0 per RFC 5095, type 1).
    pub fn is_deprecated(&self) -> bool {
        self.routing_type.is_deprecated()
    }

    /// Whether a host must discard the packet with an ICMPv6 Parameter
    /// Problem (code 0, pointer at the Routing Type): a deprecated type
    /// with segments still to visit (RFC 5095 section 3).
    pub fn must_reject(&self) -> bool {
        self.is_deprecated() && self.segments_left > 0
    }

    /// The addresses of a routing header whose type-specific data is 4
    /// bytes followed by full addresses: type 0 and type 2 (all of them),
    /// type 4 (the Segment List, `Last Entry + 1` entries). Empty for
    /// other types; stops at the end of the data.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        // SRH: Last Entry, Flags, Tag (2 bytes), then the segment list and
        // optional TLVs (RFC 8754 section 2).
        let limit = match self.routing_type {
            Ipv6RoutingType::Type0 | Ipv6RoutingType::Type2 => usize::MAX,
            Ipv6RoutingType::Srh => self.data.first().map_or(0, |&last| usize::from(last) + 1),
            _ => 0,
        };
        let list = self.data.get(4..).unwrap_or_default();
        list.chunks_exact(16)
            .take(limit)
            .map(|chunk| Ipv6Addr::from(array::<16>(chunk)))
    }

    fn data_len(&self) -> usize {
        self.data.len().min(MAX_ROUTING_DATA_LEN)
    }

    /// The header length `emit` writes: 4 fixed bytes and the data,
    /// rounded up to a multiple of 8.
    pub fn buffer_len(&self) -> usize {
        round_up_8(field::ROUTING_DATA_START + self.data_len())
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Ipv6RoutingHeader<T>) {
        let len = self.buffer_len();
        let data_len = self.data_len();
        let buf = header.buffer.as_mut();
        write_fixed(buf, self.next_header, len);
        buf[field::ROUTING_TYPE] = self.routing_type.into();
        buf[field::SEGMENTS_LEFT] = self.segments_left;
        let area = &mut buf[field::ROUTING_DATA_START..len];
        let (data, pad) = area.split_at_mut(data_len);
        data.copy_from_slice(&self.data[..data_len]);
        pad.fill(0);
    }
}

impl fmt::Display for Ipv6RoutingRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RT6 type {} segleft {}",
            u8::from(self.routing_type),
            self.segments_left
        )?;
        if self.is_deprecated() {
            f.write_str(" deprecated")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Fragment header
// ---------------------------------------------------------------------------

/// A byte view of a fragment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> Ipv6FragmentHeader<T> {
        Ipv6FragmentHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Ipv6FragmentHeader<T>> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks that the 8 header bytes are present.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < field::FRAG_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn offset_m(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::FRAG_OFFSET_M])
    }

    /// The Next Header field: the first header of the fragmentable part
    /// of the original packet (RFC 8200 section 4.5).
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }

    /// The Fragment Offset in 8-octet units.
    pub fn frag_offset(&self) -> u16 {
        self.offset_m() >> 3
    }

    /// The M flag: more fragments follow.
    pub fn more_frags(&self) -> bool {
        self.offset_m() & 0x1 != 0
    }

    /// The Identification.
    pub fn ident(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::FRAG_IDENT])
    }

    /// The length of the header, 8.
    pub const fn header_len(&self) -> usize {
        field::FRAG_HEADER_LEN
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6FragmentHeader<&'a T> {
    /// The fragment data after the header, borrowed for the buffer's
    /// lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buffer.as_ref();
        buf.get(field::FRAG_HEADER_LEN..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, next_header: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next_header.into()
    }

    /// Sets the Fragment Offset (8-octet units, 13 bits) and M flag; the
    /// reserved bits become zero.
    pub fn set_offset_and_more(&mut self, frag_offset: u16, more_frags: bool) {
        let value = ((frag_offset & 0x1fff) << 3) | u16::from(more_frags);
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::FRAG_OFFSET_M], value)
    }

    /// Sets the Identification.
    pub fn set_ident(&mut self, ident: u32) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::FRAG_IDENT], ident)
    }

    /// Zeroes the reserved octet.
    pub fn clear_reserved(&mut self) {
        self.buffer.as_mut()[field::FRAG_RESERVED] = 0
    }

    /// The fragment data after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::FRAG_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6FragmentHeader<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed fragment header.
///
/// The reserved fields are ignored on reception and written as zero, as
/// RFC 8200 section 4.5 requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6FragmentRepr {
    /// The first header of the fragmentable part of the original packet.
    pub next_header: IpProtocol,
    /// The Fragment Offset in 8-octet units (13 bits; `emit` keeps the low
    /// 13).
    pub frag_offset: u16,
    /// More fragments follow.
    pub more_frags: bool,
    /// The Identification shared by all fragments of the datagram.
    pub ident: u32,
}

impl Ipv6FragmentRepr {
    /// Parses a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        header: &Ipv6FragmentHeader<&T>,
    ) -> Result<Ipv6FragmentRepr> {
        header.check_len()?;
        Ok(Ipv6FragmentRepr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// The offset of this fragment's data in the original packet, in
    /// bytes.
    pub const fn byte_offset(&self) -> usize {
        (self.frag_offset as usize & 0x1fff) * 8
    }

    /// Whether this is the first fragment (offset 0), which carries the
    /// upper-layer header.
    pub const fn is_first(&self) -> bool {
        self.frag_offset & 0x1fff == 0
    }

    /// Whether this is an atomic fragment: offset 0 and no more fragments,
    /// a whole datagram to process on its own (RFC 6946).
    pub const fn is_atomic(&self) -> bool {
        self.is_first() && !self.more_frags
    }

    /// The header length `emit` writes: 8.
    pub const fn buffer_len(&self) -> usize {
        field::FRAG_HEADER_LEN
    }

    /// Writes the header into the first 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Ipv6FragmentHeader<T>) {
        header.set_next_header(self.next_header);
        header.clear_reserved();
        header.set_offset_and_more(self.frag_offset, self.more_frags);
        header.set_ident(self.ident);
    }
}

impl fmt::Display for Ipv6FragmentRepr {
    /// `FRAG id 51966 off 1232+`: offset in bytes, `+` when more fragments
    /// follow (as in the IPv4 format).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FRAG id {} off {}", self.ident, self.byte_offset())?;
        if self.more_frags {
            f.write_str("+")?;
        }
        Ok(())
    }
}
