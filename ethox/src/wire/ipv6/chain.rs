//! The IPv6 header chain walker (RFC 8200 section 4.1).
//!
//! ```text
//! | fixed header | HBH | RT6 | FRAG | DSTOPT | upper layer (TCP, UDP, ...)
//! 0              40    ^offset, len of each yielded header   ^offset of the upper layer
//! ```
//!
//! The rules are documented on [`Ipv6HeaderChain`].

use core::fmt;

use super::super::ip::IpProtocol;
use super::super::{Error, Result};
use super::Ipv6Packet;
use super::ext::{
    Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6OptionsHeader, Ipv6OptionsRepr, Ipv6RoutingHeader,
    Ipv6RoutingRepr, fmt_options,
};

/// The most extension headers the walker accepts in one packet.
///
/// RFC 8200 section 4.1 expects each header at most once (destination
/// options twice), which is five; 8 leaves room for unusual but valid
/// chains and bounds the work per packet.
pub const MAX_EXT_HEADERS: usize = 8;

/// The extension headers the walker understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6ExtHeaderKind {
    /// Hop-by-hop options (Next Header 0).
    HopByHop,
    /// Routing header (43).
    Routing,
    /// Fragment header (44).
    Fragment,
    /// Destination options (60).
    DestinationOptions,
}

impl Ipv6ExtHeaderKind {
    /// The kind a Next Header value names, if it is one this module parses.
    pub fn from_protocol(protocol: IpProtocol) -> Option<Ipv6ExtHeaderKind> {
        match protocol {
            IpProtocol::HopByHop => Some(Ipv6ExtHeaderKind::HopByHop),
            IpProtocol::Ipv6Route => Some(Ipv6ExtHeaderKind::Routing),
            IpProtocol::Ipv6Frag => Some(Ipv6ExtHeaderKind::Fragment),
            IpProtocol::Ipv6Opts => Some(Ipv6ExtHeaderKind::DestinationOptions),
            _ => None,
        }
    }

    /// The Next Header value naming this kind.
    pub fn protocol(self) -> IpProtocol {
        match self {
            Ipv6ExtHeaderKind::HopByHop => IpProtocol::HopByHop,
            Ipv6ExtHeaderKind::Routing => IpProtocol::Ipv6Route,
            Ipv6ExtHeaderKind::Fragment => IpProtocol::Ipv6Frag,
            Ipv6ExtHeaderKind::DestinationOptions => IpProtocol::Ipv6Opts,
        }
    }
}

impl fmt::Display for Ipv6ExtHeaderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ipv6ExtHeaderKind::HopByHop => "HBH",
            Ipv6ExtHeaderKind::Routing => "RT6",
            Ipv6ExtHeaderKind::Fragment => "FRAG",
            Ipv6ExtHeaderKind::DestinationOptions => "DSTOPT",
        })
    }
}

/// Whether `next_header` names an IPv6 extension header (IANA "IPv6
/// Extension Header Types") whose format the walker does not parse.
pub(super) const fn is_unparsed_ext_header(next_header: u8) -> bool {
    matches!(next_header, 50 | 51 | 135 | 139 | 140 | 253 | 254)
}

/// A parsed extension header of any kind the walker understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6ExtHeaderRepr<'a> {
    /// Hop-by-hop options.
    HopByHop(Ipv6OptionsRepr<'a>),
    /// Routing header.
    Routing(Ipv6RoutingRepr<'a>),
    /// Fragment header.
    Fragment(Ipv6FragmentRepr),
    /// Destination options.
    DestinationOptions(Ipv6OptionsRepr<'a>),
}

impl<'a> Ipv6ExtHeaderRepr<'a> {
    /// Parses a header of the given kind at the front of `bytes`,
    /// returning it and its length (at least 8).
    pub fn parse(
        kind: Ipv6ExtHeaderKind,
        bytes: &'a [u8],
    ) -> Result<(Ipv6ExtHeaderRepr<'a>, usize)> {
        Ok(match kind {
            Ipv6ExtHeaderKind::HopByHop | Ipv6ExtHeaderKind::DestinationOptions => {
                let header = Ipv6OptionsHeader::new_checked(bytes)?;
                let repr = Ipv6OptionsRepr::parse(&header)?;
                let repr = if kind == Ipv6ExtHeaderKind::HopByHop {
                    Ipv6ExtHeaderRepr::HopByHop(repr)
                } else {
                    Ipv6ExtHeaderRepr::DestinationOptions(repr)
                };
                (repr, header.header_len())
            }
            Ipv6ExtHeaderKind::Routing => {
                let header = Ipv6RoutingHeader::new_checked(bytes)?;
                let repr = Ipv6RoutingRepr::parse(&header)?;
                (Ipv6ExtHeaderRepr::Routing(repr), header.header_len())
            }
            Ipv6ExtHeaderKind::Fragment => {
                let header = Ipv6FragmentHeader::new_checked(bytes)?;
                let repr = Ipv6FragmentRepr::parse(&header)?;
                (Ipv6ExtHeaderRepr::Fragment(repr), header.header_len())
            }
        })
    }

    /// Which kind of header this is.
    pub fn kind(&self) -> Ipv6ExtHeaderKind {
        match self {
            Ipv6ExtHeaderRepr::HopByHop(_) => Ipv6ExtHeaderKind::HopByHop,
            Ipv6ExtHeaderRepr::Routing(_) => Ipv6ExtHeaderKind::Routing,
            Ipv6ExtHeaderRepr::Fragment(_) => Ipv6ExtHeaderKind::Fragment,
            Ipv6ExtHeaderRepr::DestinationOptions(_) => Ipv6ExtHeaderKind::DestinationOptions,
        }
    }

    /// The Next Header field of this header.
    pub fn next_header(&self) -> IpProtocol {
        match self {
            Ipv6ExtHeaderRepr::HopByHop(r) | Ipv6ExtHeaderRepr::DestinationOptions(r) => {
                r.next_header
            }
            Ipv6ExtHeaderRepr::Routing(r) => r.next_header,
            Ipv6ExtHeaderRepr::Fragment(r) => r.next_header,
        }
    }

    /// The header length `emit` writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Ipv6ExtHeaderRepr::HopByHop(r) | Ipv6ExtHeaderRepr::DestinationOptions(r) => {
                r.buffer_len()
            }
            Ipv6ExtHeaderRepr::Routing(r) => r.buffer_len(),
            Ipv6ExtHeaderRepr::Fragment(r) => r.buffer_len(),
        }
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            Ipv6ExtHeaderRepr::HopByHop(r) | Ipv6ExtHeaderRepr::DestinationOptions(r) => {
                r.emit(&mut Ipv6OptionsHeader::new_unchecked(buf))
            }
            Ipv6ExtHeaderRepr::Routing(r) => r.emit(&mut Ipv6RoutingHeader::new_unchecked(buf)),
            Ipv6ExtHeaderRepr::Fragment(r) => r.emit(&mut Ipv6FragmentHeader::new_unchecked(buf)),
        }
    }
}

impl fmt::Display for Ipv6ExtHeaderRepr<'_> {
    /// `HBH rtalert 0, padn 0`, `DSTOPT opt 0x3e len 3, pad1`,
    /// `RT6 type 0 segleft 1 deprecated`, `FRAG id 51966 off 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ipv6ExtHeaderRepr::HopByHop(r) | Ipv6ExtHeaderRepr::DestinationOptions(r) => {
                write!(f, "{}", self.kind())?;
                fmt_options(r.options, f)
            }
            Ipv6ExtHeaderRepr::Routing(r) => write!(f, "{r}"),
            Ipv6ExtHeaderRepr::Fragment(r) => write!(f, "{r}"),
        }
    }
}

/// One extension header found by the walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6ExtHeader<'a> {
    /// Where the header starts, from the first byte of the fixed header.
    pub offset: usize,
    /// Its length in bytes (a multiple of 8, at least 8).
    pub len: usize,
    /// The parsed header.
    pub repr: Ipv6ExtHeaderRepr<'a>,
    /// Its bytes.
    pub bytes: &'a [u8],
}

impl Ipv6ExtHeader<'_> {
    /// Which kind of header this is.
    pub fn kind(&self) -> Ipv6ExtHeaderKind {
        self.repr.kind()
    }

    /// The Next Header field of this header.
    pub fn next_header(&self) -> IpProtocol {
        self.repr.next_header()
    }
}

impl fmt::Display for Ipv6ExtHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repr)
    }
}

/// Where the header chain ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6UpperLayer<'a> {
    /// The Next Header value that ended the chain: the upper-layer
    /// protocol, [`IpProtocol::Ipv6NoNxt`], or for a non-first fragment
    /// the fragment header's Next Header.
    pub protocol: IpProtocol,
    /// Where the upper-layer bytes start, from the first byte of the fixed
    /// header.
    pub offset: usize,
    /// The upper-layer bytes up to the end of the IPv6 payload (no
    /// link-layer padding).
    pub payload: &'a [u8],
    /// The fragment header on the way, if any.
    pub fragment: Option<Ipv6FragmentRepr>,
    /// How many extension headers were walked.
    pub ext_headers: usize,
}

impl Ipv6UpperLayer<'_> {
    /// Whether the packet is a fragment of a larger datagram (an atomic
    /// fragment, offset 0 without more fragments, is not).
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some_and(|f| !f.is_atomic())
    }

    /// Whether the packet is a fragment other than the first: `payload` is
    /// then a piece of the original payload, not a header.
    pub fn is_non_first_fragment(&self) -> bool {
        self.fragment.is_some_and(|f| !f.is_first())
    }
}

/// One step of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6ChainItem<'a> {
    /// An extension header.
    Extension(Ipv6ExtHeader<'a>),
    /// The end of the chain; always the last item.
    UpperLayer(Ipv6UpperLayer<'a>),
}

/// An iterator over the header chain of an IPv6 packet.
///
/// Yields `Ok(Ipv6ChainItem::Extension(..))` for each extension header and
/// then `Ok(Ipv6ChainItem::UpperLayer(..))`, or stops after one `Err`; at
/// most `MAX_EXT_HEADERS + 1` items are produced.
///
/// Design:
///
/// * The walk starts at the fixed header's Next Header and steps through
///   the extension headers this module parses: hop-by-hop (only directly
///   after the fixed header, else [`Error::Malformed`]), routing, fragment,
///   destination options. Each is parsed into its `Repr`, so a malformed
///   option or a length that runs past Payload Length stops the walk with
///   [`Error::BadOption`] / [`Error::Truncated`].
/// * Any Next Header value that is not an extension header ends the walk:
///   the upper-layer protocol (TCP, UDP, ICMPv6, No Next Header, IP-in-IP,
///   unknown numbers) with its offset and bytes.
/// * Extension headers with a format this module does not parse (ESP 50,
///   AH 51, Mobility 135, HIP 139, Shim6 140, experimental 253 and 254)
///   stop it with [`Error::UnknownHeader`].
/// * A fragment with a non-zero offset carries no header after the fragment
///   header, only a piece of the original payload, so the walk stops there:
///   [`Ipv6UpperLayer::protocol`] is the fragment header's Next Header (the
///   first header of the fragmentable part, which may itself be an
///   extension header), `payload` is the fragment data and
///   [`Ipv6UpperLayer::is_non_first_fragment`] is true. A first fragment is
///   walked on (RFC 8200 requires the whole chain in it); its upper-layer
///   bytes are only the start of the reassembled payload. A second fragment
///   header is [`Error::Unsupported`].
/// * It never loops: every step advances by at least 8 bytes (the smallest
///   extension header), and at most [`MAX_EXT_HEADERS`] extension headers
///   are accepted; one more is [`Error::TooManyHeaders`].
///
/// Offsets count from the first byte of the fixed header, which is what
/// the pointer of an ICMPv6 Parameter Problem needs.
#[derive(Debug, Clone)]
pub struct Ipv6HeaderChain<'a> {
    /// The packet from its first byte to the end of its payload.
    bytes: &'a [u8],
    /// Where the next header starts in `bytes`.
    offset: usize,
    /// The type of the header at `offset`.
    next: IpProtocol,
    /// Extension headers yielded so far.
    count: usize,
    fragment: Option<Ipv6FragmentRepr>,
    done: bool,
}

impl<'a> Ipv6HeaderChain<'a> {
    /// Starts a walk at the fixed header's Next Header.
    ///
    /// Errors: [`Error::Truncated`] if the packet fails
    /// [`check_len`](Ipv6Packet::check_len), [`Error::Unsupported`] for a
    /// jumbogram. The version is not checked: parse the fixed header with
    /// [`Ipv6Repr::parse`](super::Ipv6Repr::parse) first.
    pub fn new<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&'a T>) -> Result<Ipv6HeaderChain<'a>> {
        packet.check_len()?;
        if packet.payload_len() == 0 && packet.next_header() == IpProtocol::HopByHop {
            return Err(Error::Unsupported);
        }
        Ok(Self::from_bytes(
            packet.next_header(),
            packet.packet_bytes(),
            packet.header_len(),
        ))
    }

    /// Starts a walk over `bytes` (a packet from its first byte, ending
    /// where its payload ends) at `start`, where a header of type
    /// `next_header` begins. Useful for packets quoted in ICMPv6 errors,
    /// which may be cut short: a header that does not fit is
    /// [`Error::Truncated`].
    pub fn from_bytes(
        next_header: IpProtocol,
        bytes: &'a [u8],
        start: usize,
    ) -> Ipv6HeaderChain<'a> {
        Ipv6HeaderChain {
            bytes,
            offset: start,
            next: next_header,
            count: 0,
            fragment: None,
            done: false,
        }
    }

    /// Walks the rest of the chain and returns where it ends.
    pub fn upper_layer(self) -> Result<Ipv6UpperLayer<'a>> {
        for item in self {
            if let Ipv6ChainItem::UpperLayer(upper) = item? {
                return Ok(upper);
            }
        }
        // The iterator always ends with an upper layer or an error; this is
        // only reached if it was already exhausted.
        Err(Error::Malformed)
    }

    fn upper(&self, protocol: IpProtocol, rest: &'a [u8]) -> Ipv6ChainItem<'a> {
        Ipv6ChainItem::UpperLayer(Ipv6UpperLayer {
            protocol,
            offset: self.offset,
            payload: rest,
            fragment: self.fragment,
            ext_headers: self.count,
        })
    }

    fn step(&mut self) -> Result<Ipv6ChainItem<'a>> {
        let rest = self.bytes.get(self.offset..).ok_or(Error::Truncated)?;
        if self.fragment.is_some_and(|f| !f.is_first()) {
            // Only fragment data follows: no header to look at.
            return Ok(self.upper(self.next, rest));
        }
        let Some(kind) = Ipv6ExtHeaderKind::from_protocol(self.next) else {
            let n = u8::from(self.next);
            if is_unparsed_ext_header(n) {
                return Err(Error::UnknownHeader(n));
            }
            return Ok(self.upper(self.next, rest));
        };
        // RFC 8200 section 4.1: hop-by-hop options only right after the
        // fixed header.
        if kind == Ipv6ExtHeaderKind::HopByHop && self.count != 0 {
            return Err(Error::Malformed);
        }
        if self.count >= MAX_EXT_HEADERS {
            return Err(Error::TooManyHeaders);
        }
        let (repr, len) = Ipv6ExtHeaderRepr::parse(kind, rest)?;
        if let Ipv6ExtHeaderRepr::Fragment(fragment) = repr {
            if self.fragment.is_some() {
                return Err(Error::Unsupported);
            }
            self.fragment = Some(fragment);
        }
        let header = Ipv6ExtHeader {
            offset: self.offset,
            len,
            repr,
            bytes: rest.get(..len).unwrap_or(rest),
        };
        // `len` is at least 8 and at most `rest.len()`: the walk advances.
        self.offset = self.offset.saturating_add(len);
        self.count += 1;
        self.next = repr.next_header();
        Ok(Ipv6ChainItem::Extension(header))
    }
}

impl<'a> Iterator for Ipv6HeaderChain<'a> {
    type Item = Result<Ipv6ChainItem<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Ok(Ipv6ChainItem::Extension(_))) {
            self.done = true;
        }
        Some(item)
    }
}

impl core::iter::FusedIterator for Ipv6HeaderChain<'_> {}

/// Walks the header chain of a packet to its upper layer; see
/// [`Ipv6HeaderChain`].
pub fn walk<'a, T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&'a T>) -> Result<Ipv6UpperLayer<'a>> {
    Ipv6HeaderChain::new(packet)?.upper_layer()
}
