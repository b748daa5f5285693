//! DHCPv4 messages and options (RFC 2131, RFC 2132).
//!
//! A DHCP message is a BOOTP message (RFC 951) carried in UDP (server port
//! 67, client port 68) whose vendor area starts with the magic cookie
//! 99.130.83.99 and continues with options:
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+---------------+---------------+
//! |      op       |    htype      |     hlen      |     hops      |   0
//! +---------------+---------------+---------------+---------------+
//! |                          xid (4)                              |   4
//! +-------------------------------+-------------------------------+
//! |          secs (2)             |B|        flags (2)            |   8
//! +-------------------------------+-------------------------------+
//! |                        ciaddr (4)                             |  12
//! |                        yiaddr (4)                             |  16
//! |                        siaddr (4)                             |  20
//! |                        giaddr (4)                             |  24
//! +---------------------------------------------------------------+
//! |                        chaddr (16)                            |  28
//! +---------------------------------------------------------------+
//! |                        sname  (64)                            |  44
//! +---------------------------------------------------------------+
//! |                        file   (128)                           | 108
//! +---------------------------------------------------------------+
//! |             magic cookie 99.130.83.99 (4)                     | 236
//! +---------------------------------------------------------------+
//! |        options: kind, len, data ... End (variable)            | 240
//! +---------------------------------------------------------------+
//! ```
//!
//! Options (RFC 2132 section 2) are `kind len data[len]`, except Pad (0),
//! a single byte that is skipped, and End (255), which stops the list.
//! [`DhcpOptions`] walks them without allocating; [`DhcpOption::value`]
//! decodes the kinds this stack uses.
//!
//! Scope and choices, each documented where it applies:
//!
//! * There is no checksum: UDP carries it, so [`DhcpRepr::parse`] takes no
//!   [`ChecksumMode`](super::ChecksumMode).
//! * [`DhcpPacket::check_len`] also checks the magic cookie: without it the
//!   vendor area is plain BOOTP, not DHCP options.
//! * Option overload (option 52, RFC 2132 section 9.3) is followed by
//!   [`DhcpRepr::parse`]: options in `file`, then in `sname`, after the
//!   `options` field (RFC 2131 section 4.1). `emit` never overloads.
//! * RFC 3396 long options (one option split into several instances that
//!   the receiver concatenates) are not reassembled, since that needs a
//!   copy: [`DhcpRepr::parse`] reports an option it decodes that appears
//!   twice as [`Error::Unsupported`] instead of reading half of it.
//! * [`DhcpRepr::emit`] pads the message to 300 bytes, the BOOTP minimum
//!   that relays and older servers expect (RFC 1542 section 2.1).
//!
//! ```
//! use ethox::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr};
//! use ethox::wire::{EthernetAddress, Ipv4Addr};
//!
//! let mut repr = DhcpRepr::new(
//!     DhcpMessageType::Discover,
//!     0x1234abcd,
//!     EthernetAddress([0x02, 0, 0, 0, 0, 1]),
//! );
//! repr.requested_ip = Some(Ipv4Addr::new(10, 0, 0, 50));
//! let mut buf = [0u8; 400];
//! let len = repr.buffer_len();
//! assert_eq!(len, 300); // padded to the BOOTP minimum
//! repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..len])).unwrap();
//!
//! let packet = DhcpPacket::new_checked(&buf[..len]).unwrap();
//! let parsed = DhcpRepr::parse(&packet).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "DHCP discover xid 0x1234abcd");
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::ethernet::EthernetAddress;
use super::ip::Ipv4Addr;
use super::{Error, Result, array};

/// The UDP port servers (and relay agents) listen on.
pub const SERVER_PORT: u16 = 67;
/// The UDP port clients listen on.
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie 99.130.83.99 that opens the options (RFC 2131
/// section 3).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;
/// The smallest message [`DhcpRepr::emit`] writes: the 236-byte BOOTP
/// header and its 64-byte vendor area (RFC 951, RFC 1542 section 2.1).
pub const MIN_MESSAGE_LEN: usize = 300;

mod field {
    use core::ops::Range;

    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const BOOTP_LEN: usize = 236;
    pub const MAGIC: Range<usize> = 236..240;
    pub const OPTIONS: usize = 240;
}

/// The length of the fixed part of a DHCP message: the BOOTP header and
/// the magic cookie, up to the first option.
pub const HEADER_LEN: usize = field::OPTIONS;

/// The broadcast bit of the `flags` field (RFC 1542 section 2.2): the
/// client asks for replies to the broadcast address because it cannot yet
/// receive unicast for an address it does not have.
const FLAG_BROADCAST: u16 = 0x8000;

/// ARP hardware type for Ethernet (the `htype` field).
const HTYPE_ETHERNET: u8 = 1;

enum_with_unknown! {
    /// The BOOTP `op` field: which way the message travels.
    pub enum DhcpOpCode(u8) {
        /// Client to server.
        BootRequest = 1,
        /// Server to client.
        BootReply = 2,
    }
}

enum_with_unknown! {
    /// The DHCP message type (option 53, RFC 2132 section 9.6).
    pub enum DhcpMessageType(u8) {
        /// A client looks for servers.
        Discover = 1,
        /// A server offers an address.
        Offer = 2,
        /// A client asks for the offered (or its previous) address.
        Request = 3,
        /// A client found the address already in use.
        Decline = 4,
        /// A server confirms the lease.
        Ack = 5,
        /// A server refuses the request.
        Nak = 6,
        /// A client gives the address back.
        Release = 7,
        /// A client with an address asks for configuration only.
        Inform = 8,
    }
}

impl DhcpMessageType {
    /// The `op` field that goes with this message type (RFC 2131 section
    /// 4.1, tables 3 and 5): replies for what servers send, requests for
    /// what clients send. `None` for an unknown type.
    pub fn opcode(self) -> Option<DhcpOpCode> {
        match self {
            DhcpMessageType::Discover
            | DhcpMessageType::Request
            | DhcpMessageType::Decline
            | DhcpMessageType::Release
            | DhcpMessageType::Inform => Some(DhcpOpCode::BootRequest),
            DhcpMessageType::Offer | DhcpMessageType::Ack | DhcpMessageType::Nak => {
                Some(DhcpOpCode::BootReply)
            }
            DhcpMessageType::Unknown(_) => None,
        }
    }
}

impl fmt::Display for DhcpMessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhcpMessageType::Discover => f.write_str("discover"),
            DhcpMessageType::Offer => f.write_str("offer"),
            DhcpMessageType::Request => f.write_str("request"),
            DhcpMessageType::Decline => f.write_str("decline"),
            DhcpMessageType::Ack => f.write_str("ack"),
            DhcpMessageType::Nak => f.write_str("nak"),
            DhcpMessageType::Release => f.write_str("release"),
            DhcpMessageType::Inform => f.write_str("inform"),
            DhcpMessageType::Unknown(n) => write!(f, "type-{n}"),
        }
    }
}

enum_with_unknown! {
    /// A DHCP option code (RFC 2132). Only the codes this module decodes
    /// have names.
    pub enum DhcpOptionKind(u8) {
        /// Pad: one byte, no length (RFC 2132 section 3.1).
        Pad = 0,
        /// Subnet mask (section 3.3).
        SubnetMask = 1,
        /// Routers, in order of preference (section 3.5).
        Router = 3,
        /// DNS servers (section 3.8).
        DomainNameServer = 6,
        /// The client's host name (section 3.14).
        HostName = 12,
        /// The domain name for DNS resolution (section 3.17).
        DomainName = 15,
        /// The subnet's broadcast address (section 5.3).
        BroadcastAddress = 28,
        /// The address a client asks for (section 9.1).
        RequestedIp = 50,
        /// Lease time in seconds (section 9.2).
        LeaseTime = 51,
        /// Option overload: `file` and/or `sname` carry options
        /// (section 9.3).
        Overload = 52,
        /// DHCP message type (section 9.6).
        MessageType = 53,
        /// Server identifier (section 9.7).
        ServerIdentifier = 54,
        /// Parameter request list (section 9.8).
        ParameterRequestList = 55,
        /// An error message from the server (section 9.9).
        Message = 56,
        /// Maximum DHCP message size the sender accepts (section 9.10).
        MaxMessageSize = 57,
        /// Renewal (T1) time in seconds (section 9.11).
        RenewalTime = 58,
        /// Rebinding (T2) time in seconds (section 9.12).
        RebindingTime = 59,
        /// Vendor class identifier (section 9.13).
        VendorClassIdentifier = 60,
        /// Client identifier (section 9.14).
        ClientIdentifier = 61,
        /// End of the options (section 3.2).
        End = 255,
    }
}

/// Which of the `file` and `sname` fields carry options (option 52).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DhcpOverload {
    /// The `file` field holds options (value 1 or 3).
    pub file: bool,
    /// The `sname` field holds options (value 2 or 3).
    pub sname: bool,
}

impl DhcpOverload {
    /// Decodes the option value: 1, 2 or 3; anything else is
    /// [`Error::Malformed`] (RFC 2132 section 9.3 defines no other).
    pub fn from_value(value: u8) -> Result<DhcpOverload> {
        match value {
            1 => Ok(DhcpOverload {
                file: true,
                sname: false,
            }),
            2 => Ok(DhcpOverload {
                file: false,
                sname: true,
            }),
            3 => Ok(DhcpOverload {
                file: true,
                sname: true,
            }),
            _ => Err(Error::Malformed),
        }
    }
}

/// A non-empty list of IPv4 addresses borrowed from an option (routers,
/// DNS servers), four octets each.
///
/// Build one from octets to emit: `Ipv4List::new(&[[10, 0, 0, 2]])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4List<'a> {
    addrs: &'a [[u8; 4]],
}

impl<'a> Ipv4List<'a> {
    /// Wraps a list of addresses; `None` if it is empty, since the list
    /// options have a minimum length of 4 (RFC 2132 section 3.5).
    pub const fn new(addrs: &'a [[u8; 4]]) -> Option<Ipv4List<'a>> {
        if addrs.is_empty() {
            None
        } else {
            Some(Ipv4List { addrs })
        }
    }

    /// Reads option data: a non-zero multiple of four bytes, or
    /// [`Error::BadOption`].
    pub fn from_bytes(data: &'a [u8]) -> Result<Ipv4List<'a>> {
        let (addrs, rest) = data.as_chunks::<4>();
        if !rest.is_empty() {
            return Err(Error::BadOption);
        }
        Ipv4List::new(addrs).ok_or(Error::BadOption)
    }

    /// The number of addresses (at least one).
    pub const fn len(&self) -> usize {
        self.addrs.len()
    }

    /// Always false: an empty list cannot be built. Present for the
    /// `len_without_is_empty` convention.
    pub const fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The first address (the most preferred router or server).
    pub fn first(&self) -> Option<Ipv4Addr> {
        self.addrs.first().map(|o| Ipv4Addr::from(*o))
    }

    /// The addresses as they appear on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.addrs.as_flattened()
    }

    /// Iterates over the addresses in order.
    pub fn iter(&self) -> Ipv4ListIter<'a> {
        Ipv4ListIter {
            inner: self.addrs.iter(),
        }
    }
}

impl<'a> IntoIterator for Ipv4List<'a> {
    type Item = Ipv4Addr;
    type IntoIter = Ipv4ListIter<'a>;

    fn into_iter(self) -> Ipv4ListIter<'a> {
        self.iter()
    }
}

/// The addresses of an [`Ipv4List`], without allocation.
#[derive(Debug, Clone)]
pub struct Ipv4ListIter<'a> {
    inner: core::slice::Iter<'a, [u8; 4]>,
}

impl Iterator for Ipv4ListIter<'_> {
    type Item = Ipv4Addr;

    fn next(&mut self) -> Option<Ipv4Addr> {
        self.inner.next().map(|o| Ipv4Addr::from(*o))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Ipv4ListIter<'_> {}

/// One option as it appears on the wire: its code and its data.
///
/// Pad and End never appear here; [`DhcpOptions`] consumes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DhcpOption<'a> {
    /// The option code.
    pub kind: DhcpOptionKind,
    /// The `len` bytes after the length byte.
    pub data: &'a [u8],
}

/// The decoded value of an option (see [`DhcpOption::value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhcpOptionValue<'a> {
    /// Option 1.
    SubnetMask(Ipv4Addr),
    /// Option 3.
    Router(Ipv4List<'a>),
    /// Option 6.
    DomainNameServer(Ipv4List<'a>),
    /// Option 12 (NVT ASCII, not terminated).
    HostName(&'a [u8]),
    /// Option 15 (NVT ASCII, not terminated).
    DomainName(&'a [u8]),
    /// Option 28.
    BroadcastAddress(Ipv4Addr),
    /// Option 50.
    RequestedIp(Ipv4Addr),
    /// Option 51, seconds (0xffffffff means infinite).
    LeaseTime(u32),
    /// Option 52.
    Overload(DhcpOverload),
    /// Option 53.
    MessageType(DhcpMessageType),
    /// Option 54.
    ServerIdentifier(Ipv4Addr),
    /// Option 55: one option code per byte.
    ParameterRequestList(&'a [u8]),
    /// Option 56 (NVT ASCII).
    Message(&'a [u8]),
    /// Option 57, bytes.
    MaxMessageSize(u16),
    /// Option 58, seconds.
    RenewalTime(u32),
    /// Option 59, seconds.
    RebindingTime(u32),
    /// Option 61: a type byte and an identifier.
    ClientIdentifier(&'a [u8]),
    /// Any other option, undecoded (vendor class 60 included).
    Other(DhcpOption<'a>),
}

/// The smallest value of option 57 (RFC 2132 section 9.10): every host
/// must accept a 576-byte IP datagram.
const MIN_MAX_MESSAGE_SIZE: u16 = 576;

fn fixed4(data: &[u8]) -> Result<[u8; 4]> {
    data.try_into().map_err(|_| Error::BadOption)
}

fn non_empty(data: &[u8]) -> Result<&[u8]> {
    // Text and list options have a minimum length of 1 (RFC 2132 sections
    // 3.14, 3.17, 9.8, 9.9).
    if data.is_empty() {
        Err(Error::BadOption)
    } else {
        Ok(data)
    }
}

impl<'a> DhcpOption<'a> {
    /// Decodes the data by kind.
    ///
    /// A decoded kind with the wrong length for its format (a lease time
    /// that is not four bytes, an address list that is not a non-zero
    /// multiple of four, an empty host name) is [`Error::BadOption`]; a
    /// value the RFC forbids (a maximum message size below 576, an
    /// overload value other than 1..=3) is [`Error::Malformed`].
    pub fn value(&self) -> Result<DhcpOptionValue<'a>> {
        let data = self.data;
        let addr = |data: &[u8]| fixed4(data).map(Ipv4Addr::from);
        let secs = |data: &[u8]| fixed4(data).map(u32::from_be_bytes);
        Ok(match self.kind {
            DhcpOptionKind::SubnetMask => DhcpOptionValue::SubnetMask(addr(data)?),
            DhcpOptionKind::Router => DhcpOptionValue::Router(Ipv4List::from_bytes(data)?),
            DhcpOptionKind::DomainNameServer => {
                DhcpOptionValue::DomainNameServer(Ipv4List::from_bytes(data)?)
            }
            DhcpOptionKind::HostName => DhcpOptionValue::HostName(non_empty(data)?),
            DhcpOptionKind::DomainName => DhcpOptionValue::DomainName(non_empty(data)?),
            DhcpOptionKind::BroadcastAddress => DhcpOptionValue::BroadcastAddress(addr(data)?),
            DhcpOptionKind::RequestedIp => DhcpOptionValue::RequestedIp(addr(data)?),
            DhcpOptionKind::LeaseTime => DhcpOptionValue::LeaseTime(secs(data)?),
            DhcpOptionKind::Overload => match data {
                [value] => DhcpOptionValue::Overload(DhcpOverload::from_value(*value)?),
                _ => return Err(Error::BadOption),
            },
            DhcpOptionKind::MessageType => match data {
                [value] => DhcpOptionValue::MessageType(DhcpMessageType::from(*value)),
                _ => return Err(Error::BadOption),
            },
            DhcpOptionKind::ServerIdentifier => DhcpOptionValue::ServerIdentifier(addr(data)?),
            DhcpOptionKind::ParameterRequestList => {
                DhcpOptionValue::ParameterRequestList(non_empty(data)?)
            }
            DhcpOptionKind::Message => DhcpOptionValue::Message(non_empty(data)?),
            DhcpOptionKind::MaxMessageSize => {
                let bytes: [u8; 2] = data.try_into().map_err(|_| Error::BadOption)?;
                let size = u16::from_be_bytes(bytes);
                if size < MIN_MAX_MESSAGE_SIZE {
                    return Err(Error::Malformed);
                }
                DhcpOptionValue::MaxMessageSize(size)
            }
            DhcpOptionKind::RenewalTime => DhcpOptionValue::RenewalTime(secs(data)?),
            DhcpOptionKind::RebindingTime => DhcpOptionValue::RebindingTime(secs(data)?),
            DhcpOptionKind::ClientIdentifier => {
                // A type byte and at least one byte of identifier (RFC
                // 2132 section 9.14: minimum length 2).
                if data.len() < 2 {
                    return Err(Error::BadOption);
                }
                DhcpOptionValue::ClientIdentifier(data)
            }
            _ => DhcpOptionValue::Other(*self),
        })
    }
}

/// An iterator over the options of one region (the `options` field, or an
/// overloaded `file` / `sname` field).
///
/// Pad bytes are skipped and End stops the walk; a region that ends
/// without End also ends the walk (tolerated: RFC 2131 asks for End, but
/// the region's own length already bounds the list). An option whose length byte or data runs past the
/// region yields one [`Error::BadOption`] and then the iterator is done.
/// Every step consumes at least one byte, so the walk is bounded by the
/// region's length.
#[derive(Debug, Clone)]
pub struct DhcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> DhcpOptions<'a> {
    /// Walks the options in `region` (which must not include the magic
    /// cookie).
    pub const fn new(region: &'a [u8]) -> DhcpOptions<'a> {
        DhcpOptions { rest: region }
    }
}

impl<'a> Iterator for DhcpOptions<'a> {
    type Item = Result<DhcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, after_kind) = self.rest.split_first()?;
            match kind {
                0 => self.rest = after_kind,
                255 => {
                    self.rest = &[];
                    return None;
                }
                _ => {
                    let parsed = after_kind
                        .split_first()
                        .and_then(|(&len, after_len)| after_len.split_at_checked(usize::from(len)));
                    return match parsed {
                        Some((data, rest)) => {
                            self.rest = rest;
                            Some(Ok(DhcpOption {
                                kind: DhcpOptionKind::from(kind),
                                data,
                            }))
                        }
                        None => {
                            self.rest = &[];
                            Some(Err(Error::BadOption))
                        }
                    };
                }
            }
        }
    }
}

impl core::iter::FusedIterator for DhcpOptions<'_> {}

/// Finds the overload option in the `options` field, if any.
fn find_overload(options: &[u8]) -> Result<Option<DhcpOverload>> {
    for option in DhcpOptions::new(options) {
        let option = option?;
        if option.kind == DhcpOptionKind::Overload {
            return match option.value()? {
                DhcpOptionValue::Overload(overload) => Ok(Some(overload)),
                _ => Err(Error::BadOption),
            };
        }
    }
    Ok(None)
}

/// A byte view of a DHCP message (the UDP payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DhcpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> DhcpPacket<T> {
        DhcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<DhcpPacket<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the message is a DHCP message every accessor can read.
    ///
    /// * shorter than the 236-byte BOOTP header: [`Error::Truncated`];
    /// * a whole BOOTP header but no room for the magic cookie, or a
    ///   cookie other than 99.130.83.99: [`Error::Malformed`] (a BOOTP
    ///   message, not DHCP: RFC 2131 section 3);
    /// * `hlen` above the 16 bytes of `chaddr`: [`Error::BadLength`];
    /// * an option in the `options` field whose length runs past the
    ///   buffer: [`Error::BadOption`].
    ///
    /// Options inside an overloaded `file` / `sname` are checked by
    /// [`DhcpRepr::parse`], which reads them.
    pub fn check_len(&self) -> Result<()> {
        let buf = self.buffer.as_ref();
        if buf.len() < field::BOOTP_LEN {
            return Err(Error::Truncated);
        }
        let cookie = buf.get(field::MAGIC).ok_or(Error::Malformed)?;
        if NetworkEndian::read_u32(cookie) != MAGIC_COOKIE {
            return Err(Error::Malformed);
        }
        if usize::from(buf[field::HLEN]) > field::CHADDR.len() {
            return Err(Error::BadLength);
        }
        let options = buf.get(field::OPTIONS..).unwrap_or(&[]);
        for option in DhcpOptions::new(options) {
            option?;
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The `op` field.
    pub fn opcode(&self) -> DhcpOpCode {
        self.buffer.as_ref()[field::OP].into()
    }

    /// The hardware address type (`htype`, ARP numbering: 1 is Ethernet).
    pub fn hardware_type(&self) -> u8 {
        self.buffer.as_ref()[field::HTYPE]
    }

    /// The hardware address length (`hlen`).
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// The relay hop count (`hops`).
    pub fn hops(&self) -> u8 {
        self.buffer.as_ref()[field::HOPS]
    }

    /// The transaction identifier (`xid`).
    pub fn transaction_id(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::XID])
    }

    /// Seconds since the client began acquiring or renewing (`secs`).
    pub fn secs(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::SECS])
    }

    /// The whole `flags` field.
    pub fn flags(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLAGS])
    }

    /// Whether the broadcast bit of `flags` is set.
    pub fn broadcast_flag(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }

    /// The client's current address (`ciaddr`).
    pub fn client_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::CIADDR]))
    }

    /// The address the server assigns (`yiaddr`).
    pub fn your_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::YIADDR]))
    }

    /// The next server in bootstrap (`siaddr`).
    pub fn server_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::SIADDR]))
    }

    /// The relay agent's address (`giaddr`).
    pub fn relay_agent_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::GIADDR]))
    }

    /// The whole 16-byte `chaddr` field.
    pub fn chaddr(&self) -> [u8; 16] {
        array(&self.buffer.as_ref()[field::CHADDR])
    }

    /// The client's Ethernet address, when `htype` is 1 and `hlen` 6.
    pub fn client_hardware_address(&self) -> Option<EthernetAddress> {
        if self.hardware_type() == HTYPE_ETHERNET && self.hardware_len() == 6 {
            EthernetAddress::from_bytes(&self.buffer.as_ref()[field::CHADDR])
        } else {
            None
        }
    }

    /// The magic cookie (always [`MAGIC_COOKIE`] on a checked view).
    pub fn magic_cookie(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::MAGIC])
    }

    /// The overload option of the `options` field, if present
    /// (RFC 2132 section 9.3).
    pub fn overload(&self) -> Result<Option<DhcpOverload>> {
        find_overload(self.buffer.as_ref().get(field::OPTIONS..).unwrap_or(&[]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> DhcpPacket<&'a T> {
    /// The client's hardware address: the first `hlen` bytes of `chaddr`.
    pub fn hardware_address_bytes(&self) -> &'a [u8] {
        let chaddr = &self.buffer.as_ref()[field::CHADDR];
        let len = usize::from(self.hardware_len()).min(chaddr.len());
        &chaddr[..len]
    }

    /// The raw `sname` field (64 bytes: a NUL-terminated server name, or
    /// options when overloaded).
    pub fn server_name(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::SNAME]
    }

    /// The raw `file` field (128 bytes: a NUL-terminated boot file name,
    /// or options when overloaded).
    pub fn boot_file(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::FILE]
    }

    /// The bytes after the magic cookie, End and padding included.
    pub fn options_bytes(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::OPTIONS..]
    }

    /// The options of the `options` field. Overloaded regions are not
    /// included: see [`file_options`](Self::file_options) and
    /// [`sname_options`](Self::sname_options).
    pub fn options(&self) -> DhcpOptions<'a> {
        DhcpOptions::new(self.options_bytes())
    }

    /// The options in the `file` field (meaningful only when
    /// [`overload`](DhcpPacket::overload) says so).
    pub fn file_options(&self) -> DhcpOptions<'a> {
        DhcpOptions::new(self.boot_file())
    }

    /// The options in the `sname` field (meaningful only when
    /// [`overload`](DhcpPacket::overload) says so).
    pub fn sname_options(&self) -> DhcpOptions<'a> {
        DhcpOptions::new(self.server_name())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DhcpPacket<T> {
    /// Sets the `op` field.
    pub fn set_opcode(&mut self, op: DhcpOpCode) {
        self.buffer.as_mut()[field::OP] = op.into();
    }

    /// Sets `htype`.
    pub fn set_hardware_type(&mut self, htype: u8) {
        self.buffer.as_mut()[field::HTYPE] = htype;
    }

    /// Sets `hlen`.
    pub fn set_hardware_len(&mut self, hlen: u8) {
        self.buffer.as_mut()[field::HLEN] = hlen;
    }

    /// Sets `hops`.
    pub fn set_hops(&mut self, hops: u8) {
        self.buffer.as_mut()[field::HOPS] = hops;
    }

    /// Sets `xid`.
    pub fn set_transaction_id(&mut self, xid: u32) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::XID], xid)
    }

    /// Sets `secs`.
    pub fn set_secs(&mut self, secs: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::SECS], secs)
    }

    /// Sets the whole `flags` field.
    pub fn set_flags(&mut self, flags: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::FLAGS], flags)
    }

    /// Sets or clears the broadcast bit, keeping the other bits.
    pub fn set_broadcast_flag(&mut self, broadcast: bool) {
        let flags = self.flags() & !FLAG_BROADCAST;
        self.set_flags(if broadcast {
            flags | FLAG_BROADCAST
        } else {
            flags
        })
    }

    /// Sets `ciaddr`.
    pub fn set_client_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::CIADDR].copy_from_slice(&addr.octets())
    }

    /// Sets `yiaddr`.
    pub fn set_your_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::YIADDR].copy_from_slice(&addr.octets())
    }

    /// Sets `siaddr`.
    pub fn set_server_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SIADDR].copy_from_slice(&addr.octets())
    }

    /// Sets `giaddr`.
    pub fn set_relay_agent_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::GIADDR].copy_from_slice(&addr.octets())
    }

    /// Sets the whole `chaddr` field.
    pub fn set_chaddr(&mut self, chaddr: &[u8; 16]) {
        self.buffer.as_mut()[field::CHADDR].copy_from_slice(chaddr)
    }

    /// Writes an Ethernet address into `chaddr` (zero-filling the rest)
    /// and sets `htype` 1 and `hlen` 6.
    pub fn set_client_hardware_address(&mut self, addr: EthernetAddress) {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(addr.as_bytes());
        self.set_chaddr(&chaddr);
        self.set_hardware_type(HTYPE_ETHERNET);
        self.set_hardware_len(6);
    }

    /// Writes `name` into `sname`, zero-filling the rest; a longer name
    /// is cut to 64 bytes.
    pub fn set_server_name(&mut self, name: &[u8]) {
        copy_zero_filled(&mut self.buffer.as_mut()[field::SNAME], name)
    }

    /// Writes `name` into `file`, zero-filling the rest; a longer name is
    /// cut to 128 bytes.
    pub fn set_boot_file(&mut self, name: &[u8]) {
        copy_zero_filled(&mut self.buffer.as_mut()[field::FILE], name)
    }

    /// Writes the magic cookie.
    pub fn set_magic_cookie(&mut self) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::MAGIC], MAGIC_COOKIE)
    }

    /// The bytes after the magic cookie, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::OPTIONS..]
    }
}

fn copy_zero_filled(dst: &mut [u8], src: &[u8]) {
    dst.fill(0);
    let len = src.len().min(dst.len());
    dst[..len].copy_from_slice(&src[..len]);
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for DhcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed meaning of a DHCP message between a client on Ethernet and
/// a server.
///
/// Fields that come from options are `None` when the option is absent.
/// Byte-string options borrow from the packet. Durations are seconds;
/// 0xffffffff means an infinite lease (RFC 2131 section 3.3). Options this
/// type has no field for (vendor class and others) are skipped by `parse`
/// and can be read with [`DhcpPacket::options`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DhcpRepr<'a> {
    /// The message type (option 53); it also decides `op`.
    pub message_type: DhcpMessageType,
    /// `xid`.
    pub transaction_id: u32,
    /// `secs`.
    pub secs: u16,
    /// `chaddr` (with `htype` 1, `hlen` 6).
    pub client_hardware_address: EthernetAddress,
    /// `ciaddr`.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`.
    pub your_ip: Ipv4Addr,
    /// `siaddr`.
    pub server_ip: Ipv4Addr,
    /// `giaddr`.
    pub relay_agent_ip: Ipv4Addr,
    /// The broadcast bit of `flags`.
    pub broadcast: bool,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_identifier: Option<Ipv4Addr>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 28.
    pub broadcast_address: Option<Ipv4Addr>,
    /// Option 3, in order of preference.
    pub router: Option<Ipv4List<'a>>,
    /// Option 6, in order of preference.
    pub dns_servers: Option<Ipv4List<'a>>,
    /// Option 51, seconds.
    pub lease_duration: Option<u32>,
    /// Option 58 (T1), seconds.
    pub renew_duration: Option<u32>,
    /// Option 59 (T2), seconds.
    pub rebind_duration: Option<u32>,
    /// Option 15.
    pub domain_name: Option<&'a [u8]>,
    /// Option 12.
    pub hostname: Option<&'a [u8]>,
    /// Option 55: the option codes the client asks for.
    pub parameter_request_list: Option<&'a [u8]>,
    /// Option 57.
    pub max_size: Option<u16>,
    /// Option 61: type byte and identifier.
    pub client_identifier: Option<&'a [u8]>,
    /// Option 56.
    pub message: Option<&'a [u8]>,
}

/// Stores `value` into `slot`, refusing a second instance of the option
/// (RFC 3396 splitting, which this parser does not reassemble).
fn set_once<V>(slot: &mut Option<V>, value: V) -> Result<()> {
    if slot.is_some() {
        return Err(Error::Unsupported);
    }
    *slot = Some(value);
    Ok(())
}

impl<'a> DhcpRepr<'a> {
    /// A message with the given type, transaction and client address and
    /// every other field empty (unspecified addresses, no options).
    pub const fn new(
        message_type: DhcpMessageType,
        transaction_id: u32,
        client_hardware_address: EthernetAddress,
    ) -> DhcpRepr<'a> {
        DhcpRepr {
            message_type,
            transaction_id,
            secs: 0,
            client_hardware_address,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::UNSPECIFIED,
            server_ip: Ipv4Addr::UNSPECIFIED,
            relay_agent_ip: Ipv4Addr::UNSPECIFIED,
            broadcast: false,
            requested_ip: None,
            server_identifier: None,
            subnet_mask: None,
            broadcast_address: None,
            router: None,
            dns_servers: None,
            lease_duration: None,
            renew_duration: None,
            rebind_duration: None,
            domain_name: None,
            hostname: None,
            parameter_request_list: None,
            max_size: None,
            client_identifier: None,
            message: None,
        }
    }

    /// Parses a checked message.
    ///
    /// Options are read from `options`, then from `file` and `sname` when
    /// option 52 says they are overloaded (RFC 2131 section 4.1).
    /// Errors, beyond those of [`DhcpPacket::check_len`] and
    /// [`DhcpOption::value`]:
    ///
    /// * no message type option (a plain BOOTP message), an unknown
    ///   message type, or a hardware type other than Ethernet:
    ///   [`Error::Unsupported`];
    /// * Ethernet with `hlen` other than 6, or an `op` that does not match
    ///   the message type: [`Error::Malformed`];
    /// * a decoded option present twice: [`Error::Unsupported`] (RFC 3396
    ///   concatenation is not done).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &DhcpPacket<&'a T>) -> Result<DhcpRepr<'a>> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET {
            return Err(Error::Unsupported);
        }
        let client_hardware_address = packet.client_hardware_address().ok_or(Error::Malformed)?;

        let mut repr = DhcpRepr::new(
            DhcpMessageType::Unknown(0),
            packet.transaction_id(),
            client_hardware_address,
        );
        repr.secs = packet.secs();
        repr.client_ip = packet.client_ip();
        repr.your_ip = packet.your_ip();
        repr.server_ip = packet.server_ip();
        repr.relay_agent_ip = packet.relay_agent_ip();
        repr.broadcast = packet.broadcast_flag();

        let mut message_type = None;
        let overload = packet.overload()?.unwrap_or_default();
        let empty = DhcpOptions::new(&[]);
        let regions = [
            packet.options(),
            if overload.file {
                packet.file_options()
            } else {
                empty.clone()
            },
            if overload.sname {
                packet.sname_options()
            } else {
                empty
            },
        ];
        for region in regions {
            for option in region {
                repr.take_option(option?, &mut message_type)?;
            }
        }

        let message_type = message_type.ok_or(Error::Unsupported)?;
        let opcode = message_type.opcode().ok_or(Error::Unsupported)?;
        if packet.opcode() != opcode {
            return Err(Error::Malformed);
        }
        repr.message_type = message_type;
        Ok(repr)
    }

    fn take_option(
        &mut self,
        option: DhcpOption<'a>,
        message_type: &mut Option<DhcpMessageType>,
    ) -> Result<()> {
        match option.value()? {
            DhcpOptionValue::MessageType(t) => set_once(message_type, t),
            DhcpOptionValue::SubnetMask(a) => set_once(&mut self.subnet_mask, a),
            DhcpOptionValue::Router(l) => set_once(&mut self.router, l),
            DhcpOptionValue::DomainNameServer(l) => set_once(&mut self.dns_servers, l),
            DhcpOptionValue::HostName(s) => set_once(&mut self.hostname, s),
            DhcpOptionValue::DomainName(s) => set_once(&mut self.domain_name, s),
            DhcpOptionValue::BroadcastAddress(a) => set_once(&mut self.broadcast_address, a),
            DhcpOptionValue::RequestedIp(a) => set_once(&mut self.requested_ip, a),
            DhcpOptionValue::LeaseTime(t) => set_once(&mut self.lease_duration, t),
            DhcpOptionValue::ServerIdentifier(a) => set_once(&mut self.server_identifier, a),
            DhcpOptionValue::ParameterRequestList(s) => {
                set_once(&mut self.parameter_request_list, s)
            }
            DhcpOptionValue::Message(s) => set_once(&mut self.message, s),
            DhcpOptionValue::MaxMessageSize(n) => set_once(&mut self.max_size, n),
            DhcpOptionValue::RenewalTime(t) => set_once(&mut self.renew_duration, t),
            DhcpOptionValue::RebindingTime(t) => set_once(&mut self.rebind_duration, t),
            DhcpOptionValue::ClientIdentifier(s) => set_once(&mut self.client_identifier, s),
            // Already acted on before the walk; only the `options` field
            // may carry it, and a second one is refused like any repeat.
            DhcpOptionValue::Overload(_) => Ok(()),
            DhcpOptionValue::Other(_) => Ok(()),
        }
    }

    /// Calls `f` with each option `emit` writes, in the order it writes
    /// them: the message type first, then the server's answers, then the
    /// client's requests. The order matches what dnsmasq and dhclient
    /// send, so a parsed message emits back to the same bytes.
    fn for_each_option(
        &self,
        mut f: impl FnMut(DhcpOptionKind, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let message_type = [u8::from(self.message_type)];
        f(DhcpOptionKind::MessageType, &message_type)?;
        let addr = |a: Option<Ipv4Addr>| a.map(|a| a.octets());
        let secs = |s: Option<u32>| s.map(u32::to_be_bytes);
        if let Some(a) = addr(self.server_identifier) {
            f(DhcpOptionKind::ServerIdentifier, &a)?;
        }
        if let Some(a) = addr(self.requested_ip) {
            f(DhcpOptionKind::RequestedIp, &a)?;
        }
        if let Some(s) = secs(self.lease_duration) {
            f(DhcpOptionKind::LeaseTime, &s)?;
        }
        if let Some(s) = secs(self.renew_duration) {
            f(DhcpOptionKind::RenewalTime, &s)?;
        }
        if let Some(s) = secs(self.rebind_duration) {
            f(DhcpOptionKind::RebindingTime, &s)?;
        }
        if let Some(a) = addr(self.subnet_mask) {
            f(DhcpOptionKind::SubnetMask, &a)?;
        }
        if let Some(a) = addr(self.broadcast_address) {
            f(DhcpOptionKind::BroadcastAddress, &a)?;
        }
        if let Some(l) = self.router {
            f(DhcpOptionKind::Router, l.as_bytes())?;
        }
        if let Some(s) = self.domain_name {
            f(DhcpOptionKind::DomainName, s)?;
        }
        if let Some(s) = self.hostname {
            f(DhcpOptionKind::HostName, s)?;
        }
        if let Some(l) = self.dns_servers {
            f(DhcpOptionKind::DomainNameServer, l.as_bytes())?;
        }
        if let Some(s) = self.parameter_request_list {
            f(DhcpOptionKind::ParameterRequestList, s)?;
        }
        if let Some(n) = self.max_size {
            f(DhcpOptionKind::MaxMessageSize, &n.to_be_bytes())?;
        }
        if let Some(s) = self.client_identifier {
            f(DhcpOptionKind::ClientIdentifier, s)?;
        }
        if let Some(s) = self.message {
            f(DhcpOptionKind::Message, s)?;
        }
        Ok(())
    }

    /// The length `emit` writes: header, cookie, options and End, padded
    /// to [`MIN_MESSAGE_LEN`].
    pub fn buffer_len(&self) -> usize {
        let mut len = field::OPTIONS + 1;
        // The closure never fails; the result is always Ok.
        let _ = self.for_each_option(|_, data| {
            len += 2 + data.len();
            Ok(())
        });
        len.max(MIN_MESSAGE_LEN)
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len)
    /// bytes of the packet: the BOOTP header (`op` from the message type,
    /// `htype` 1, `hlen` 6, `hops` 0, empty `sname` and `file`), the magic
    /// cookie, the options, End, and zero padding up to 300 bytes. Bytes
    /// past `buffer_len` are left alone.
    ///
    /// Errors, checked before anything is written: a buffer shorter than
    /// `buffer_len`, [`Error::BufferTooSmall`]; an unknown message type,
    /// [`Error::Unsupported`]; an option value `parse` would refuse (over
    /// 255 bytes, an empty host name, a client identifier under two
    /// bytes), [`Error::BadOption`], or a maximum size below 576,
    /// [`Error::Malformed`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut DhcpPacket<T>) -> Result<()> {
        let opcode = self.message_type.opcode().ok_or(Error::Unsupported)?;
        // Refuse what parse would refuse, so that emit and parse agree.
        self.for_each_option(|kind, data| {
            if data.len() > usize::from(u8::MAX) {
                return Err(Error::BadOption);
            }
            DhcpOption { kind, data }.value().map(|_| ())
        })?;
        let len = self.buffer_len();
        let buf = packet.buffer.as_mut();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        out.fill(0);

        let mut packet = DhcpPacket::new_unchecked(out);
        packet.set_opcode(opcode);
        packet.set_client_hardware_address(self.client_hardware_address);
        packet.set_hops(0);
        packet.set_transaction_id(self.transaction_id);
        packet.set_secs(self.secs);
        packet.set_flags(if self.broadcast { FLAG_BROADCAST } else { 0 });
        packet.set_client_ip(self.client_ip);
        packet.set_your_ip(self.your_ip);
        packet.set_server_ip(self.server_ip);
        packet.set_relay_agent_ip(self.relay_agent_ip);
        packet.set_magic_cookie();

        let mut options = packet.options_mut();
        self.for_each_option(|kind, data| {
            let (head, rest) = core::mem::take(&mut options).split_at_mut(2 + data.len());
            head[0] = kind.into();
            // Lengths were checked to fit a byte above.
            head[1] = data.len() as u8;
            head[2..].copy_from_slice(data);
            options = rest;
            Ok(())
        })?;
        options[0] = DhcpOptionKind::End.into();
        Ok(())
    }
}

impl fmt::Display for DhcpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DHCP {} xid 0x{:08x}",
            self.message_type, self.transaction_id
        )?;
        if !self.your_ip.is_unspecified() {
            write!(f, " yiaddr {}", self.your_ip)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    // DHCP messages (UDP payloads) captured with scripts/capture.sh over a
    // veth pair, dnsmasq serving 10.0.0.50-99 in host b:
    //
    // * DORA_*: `dhclient -1 -v -sf /bin/true eth0` and then `dhclient -r`
    //   in host a, dnsmasq with `--port=0 --no-resolv`
    //   (ethox/tests/fixtures/dhcp-dora.pcap);
    // * UDHCPC_*: `busybox udhcpc -f -q -n -R -B -x hostname:ethox` in
    //   host a, dnsmasq with `--dhcp-option=option:dns-server,10.0.0.2,
    //   10.0.0.3 --domain=example.test --no-ping`
    //   (ethox/tests/fixtures/dhcp-udhcpc.pcap).

    /// dhclient DHCPDISCOVER (xid 0x91edf55c, hostname "vm", 13 requested parameters).
    const DORA_DISCOVER: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0x91, 0xed, 0xf5, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x01, 0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02, 0x03, 0x0f, 0x06,
        0x77, 0x0c, 0x2c, 0x2f, 0x1a, 0x79, 0x2a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// dnsmasq DHCPOFFER of 10.0.0.63 answering DORA_DISCOVER.
    const DORA_OFFER: [u8; 300] = [
        0x02, 0x01, 0x06, 0x00, 0x91, 0xed, 0xf5, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0a, 0x00, 0x00, 0x3f, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x33, 0x04, 0x00, 0x00, 0xa8, 0xc0,
        0x3a, 0x04, 0x00, 0x00, 0x54, 0x60, 0x3b, 0x04, 0x00, 0x00, 0x93, 0xa8, 0x01, 0x04, 0xff,
        0xff, 0xff, 0x00, 0x1c, 0x04, 0x0a, 0x00, 0x00, 0xff, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x02,
        0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// dhclient DHCPREQUEST for 10.0.0.63 from server 10.0.0.2.
    const DORA_REQUEST: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0x91, 0xed, 0xf5, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x03, 0x36, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x32, 0x04, 0x0a, 0x00, 0x00, 0x3f,
        0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02, 0x03, 0x0f, 0x06, 0x77, 0x0c, 0x2c,
        0x2f, 0x1a, 0x79, 0x2a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// dnsmasq DHCPACK of 10.0.0.63, echoing hostname "vm".
    const DORA_ACK: [u8; 300] = [
        0x02, 0x01, 0x06, 0x00, 0x91, 0xed, 0xf5, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0a, 0x00, 0x00, 0x3f, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x05, 0x36, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x33, 0x04, 0x00, 0x00, 0xa8, 0xc0,
        0x3a, 0x04, 0x00, 0x00, 0x54, 0x60, 0x3b, 0x04, 0x00, 0x00, 0x93, 0xa8, 0x01, 0x04, 0xff,
        0xff, 0xff, 0x00, 0x1c, 0x04, 0x0a, 0x00, 0x00, 0xff, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x02,
        0x0c, 0x02, 0x76, 0x6d, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// dhclient -r DHCPRELEASE of 10.0.0.63 (new xid 0x05107611, ciaddr set).
    const DORA_RELEASE: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0x05, 0x10, 0x76, 0x11, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00,
        0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x07, 0x36, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x0c, 0x02, 0x76, 0x6d, 0xff, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// busybox udhcpc -B DHCPDISCOVER: broadcast flag, max size 576, client id, vendor class.
    const UDHCPC_DISCOVER: [u8; 300] = [
        0x01, 0x01, 0x06, 0x00, 0xbe, 0xfa, 0x8f, 0x12, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x01, 0x39, 0x02, 0x02, 0x40, 0x37, 0x07, 0x01, 0x03, 0x06, 0x0c, 0x0f, 0x1c,
        0x2a, 0x0c, 0x05, 0x65, 0x74, 0x68, 0x6f, 0x78, 0x3c, 0x0c, 0x75, 0x64, 0x68, 0x63, 0x70,
        0x20, 0x31, 0x2e, 0x33, 0x35, 0x2e, 0x30, 0x3d, 0x07, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x01, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// dnsmasq DHCPACK to udhcpc: domain name, DNS server list, 317 bytes.
    const UDHCPC_ACK: [u8; 317] = [
        0x02, 0x01, 0x06, 0x00, 0xbe, 0xfa, 0x8f, 0x12, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0a, 0x00, 0x00, 0x3f, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
        0x35, 0x01, 0x05, 0x36, 0x04, 0x0a, 0x00, 0x00, 0x02, 0x33, 0x04, 0x00, 0x00, 0xa8, 0xc0,
        0x3a, 0x04, 0x00, 0x00, 0x54, 0x60, 0x3b, 0x04, 0x00, 0x00, 0x93, 0xa8, 0x01, 0x04, 0xff,
        0xff, 0xff, 0x00, 0x1c, 0x04, 0x0a, 0x00, 0x00, 0xff, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x02,
        0x0f, 0x0c, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x0c,
        0x05, 0x65, 0x74, 0x68, 0x6f, 0x78, 0x06, 0x08, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00,
        0x03, 0xff,
    ];

    const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const LEASED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 63);

    fn all_fixtures() -> [&'static [u8]; 7] {
        [
            &DORA_DISCOVER,
            &DORA_OFFER,
            &DORA_REQUEST,
            &DORA_ACK,
            &DORA_RELEASE,
            &UDHCPC_DISCOVER,
            &UDHCPC_ACK,
        ]
    }

    fn parse(bytes: &[u8]) -> Result<DhcpRepr<'_>> {
        DhcpRepr::parse(&DhcpPacket::new_checked(bytes)?)
    }

    /// Emits `repr` into a fresh buffer of exactly `buffer_len` bytes.
    fn emit(repr: &DhcpRepr<'_>) -> Vec<u8> {
        let mut out = std::vec![0xaa; repr.buffer_len()];
        repr.emit(&mut DhcpPacket::new_unchecked(&mut out[..]))
            .unwrap();
        out
    }

    /// Builds a minimal Ethernet DHCP message with the given options
    /// (End included by the caller when wanted).
    fn with_options(op: u8, options: &[u8]) -> Vec<u8> {
        let mut bytes = std::vec![0u8; HEADER_LEN];
        bytes[0] = op;
        bytes[1] = 1;
        bytes[2] = 6;
        bytes[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        bytes[28..34].copy_from_slice(CLIENT_MAC.as_bytes());
        bytes[236..240].copy_from_slice(&[99, 130, 83, 99]);
        bytes.extend_from_slice(options);
        bytes
    }

    #[test]
    fn parse_dora_discover() {
        let packet = DhcpPacket::new_checked(&DORA_DISCOVER[..]).unwrap();
        assert_eq!(packet.opcode(), DhcpOpCode::BootRequest);
        assert_eq!(packet.hardware_type(), 1);
        assert_eq!(packet.hardware_len(), 6);
        assert_eq!(packet.hops(), 0);
        assert_eq!(packet.magic_cookie(), MAGIC_COOKIE);
        assert_eq!(packet.hardware_address_bytes(), CLIENT_MAC.as_bytes());
        assert!(packet.server_name().iter().all(|&b| b == 0));
        assert!(packet.boot_file().iter().all(|&b| b == 0));
        assert_eq!(packet.overload(), Ok(None));

        let repr = DhcpRepr::parse(&packet).unwrap();
        let mut expected = DhcpRepr::new(DhcpMessageType::Discover, 0x91ed_f55c, CLIENT_MAC);
        expected.hostname = Some(b"vm");
        expected.parameter_request_list = Some(&[1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
        assert_eq!(repr, expected);
        assert_eq!(repr.to_string(), "DHCP discover xid 0x91edf55c");
    }

    #[test]
    fn parse_dora_offer() {
        let repr = parse(&DORA_OFFER).unwrap();
        assert_eq!(repr.message_type, DhcpMessageType::Offer);
        assert_eq!(repr.transaction_id, 0x91ed_f55c);
        assert_eq!(repr.client_hardware_address, CLIENT_MAC);
        assert_eq!(repr.your_ip, LEASED);
        assert_eq!(repr.server_ip, SERVER);
        assert_eq!(repr.client_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(repr.relay_agent_ip, Ipv4Addr::UNSPECIFIED);
        assert!(!repr.broadcast);
        assert_eq!(repr.server_identifier, Some(SERVER));
        assert_eq!(repr.lease_duration, Some(43200));
        assert_eq!(repr.renew_duration, Some(21600));
        assert_eq!(repr.rebind_duration, Some(37800));
        assert_eq!(repr.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(repr.broadcast_address, Some(Ipv4Addr::new(10, 0, 0, 255)));
        let routers: Vec<Ipv4Addr> = repr.router.unwrap().iter().collect();
        assert_eq!(routers, [SERVER]);
        assert_eq!(repr.dns_servers, None);
        assert_eq!(repr.hostname, None);
        assert_eq!(
            repr.to_string(),
            "DHCP offer xid 0x91edf55c yiaddr 10.0.0.63"
        );
    }

    #[test]
    fn parse_dora_request_ack_release() {
        let request = parse(&DORA_REQUEST).unwrap();
        assert_eq!(request.message_type, DhcpMessageType::Request);
        assert_eq!(request.requested_ip, Some(LEASED));
        assert_eq!(request.server_identifier, Some(SERVER));
        assert_eq!(request.hostname, Some(&b"vm"[..]));
        assert_eq!(request.to_string(), "DHCP request xid 0x91edf55c");

        let ack = parse(&DORA_ACK).unwrap();
        assert_eq!(ack.message_type, DhcpMessageType::Ack);
        assert_eq!(ack.your_ip, LEASED);
        assert_eq!(ack.hostname, Some(&b"vm"[..]));
        assert_eq!(ack.lease_duration, Some(43200));
        assert_eq!(ack.to_string(), "DHCP ack xid 0x91edf55c yiaddr 10.0.0.63");

        let release = parse(&DORA_RELEASE).unwrap();
        assert_eq!(release.message_type, DhcpMessageType::Release);
        assert_eq!(release.transaction_id, 0x0510_7611);
        assert_eq!(release.client_ip, LEASED);
        assert_eq!(release.server_identifier, Some(SERVER));
        assert_eq!(release.to_string(), "DHCP release xid 0x05107611");
    }

    #[test]
    fn parse_udhcpc_discover() {
        let packet = DhcpPacket::new_checked(&UDHCPC_DISCOVER[..]).unwrap();
        assert!(packet.broadcast_flag());
        assert_eq!(packet.flags(), 0x8000);
        let repr = DhcpRepr::parse(&packet).unwrap();
        assert_eq!(repr.message_type, DhcpMessageType::Discover);
        assert_eq!(repr.transaction_id, 0xbefa_8f12);
        assert!(repr.broadcast);
        assert_eq!(repr.max_size, Some(576));
        assert_eq!(repr.hostname, Some(&b"ethox"[..]));
        assert_eq!(
            repr.parameter_request_list,
            Some(&[1, 3, 6, 12, 15, 28, 42][..])
        );
        assert_eq!(repr.client_identifier, Some(&[1, 2, 0, 0, 0, 0, 1][..]));
        // The vendor class has no Repr field; the iterator shows it.
        let vendor = packet
            .options()
            .map(|o| o.unwrap())
            .find(|o| o.kind == DhcpOptionKind::VendorClassIdentifier)
            .unwrap();
        assert_eq!(vendor.data, b"udhcp 1.35.0");
        assert_eq!(vendor.value(), Ok(DhcpOptionValue::Other(vendor)));
        assert_eq!(repr.to_string(), "DHCP discover xid 0xbefa8f12");
    }

    #[test]
    fn parse_udhcpc_ack_with_dns_list() {
        let repr = parse(&UDHCPC_ACK).unwrap();
        assert_eq!(repr.message_type, DhcpMessageType::Ack);
        assert!(repr.broadcast);
        assert_eq!(repr.domain_name, Some(&b"example.test"[..]));
        let dns = repr.dns_servers.unwrap();
        assert_eq!(dns.len(), 2);
        assert_eq!(dns.first(), Some(SERVER));
        let servers: Vec<Ipv4Addr> = dns.into_iter().collect();
        assert_eq!(servers, [SERVER, Ipv4Addr::new(10, 0, 0, 3)]);
        assert_eq!(dns.as_bytes(), &[10, 0, 0, 2, 10, 0, 0, 3]);
        assert_eq!(repr.to_string(), "DHCP ack xid 0xbefa8f12 yiaddr 10.0.0.63");
    }

    #[test]
    fn options_iterator_walks_fixture() {
        let packet = DhcpPacket::new_checked(&DORA_OFFER[..]).unwrap();
        let kinds: Vec<DhcpOptionKind> = packet.options().map(|o| o.unwrap().kind).collect();
        use DhcpOptionKind::*;
        assert_eq!(
            kinds,
            [
                MessageType,
                ServerIdentifier,
                LeaseTime,
                RenewalTime,
                RebindingTime,
                SubnetMask,
                BroadcastAddress,
                Router
            ]
        );
        let values: Vec<DhcpOptionValue> = packet
            .options()
            .map(|o| o.unwrap().value().unwrap())
            .collect();
        assert_eq!(
            values[0],
            DhcpOptionValue::MessageType(DhcpMessageType::Offer)
        );
        assert_eq!(values[2], DhcpOptionValue::LeaseTime(43200));
    }

    #[test]
    fn emit_reproduces_fixtures() {
        // Everything these senders put in is something the Repr models,
        // in the order emit writes it, padded the same way.
        for bytes in [
            &DORA_DISCOVER[..],
            &DORA_OFFER,
            &DORA_REQUEST,
            &DORA_ACK,
            &DORA_RELEASE,
            &UDHCPC_ACK,
        ] {
            let repr = parse(bytes).unwrap();
            assert_eq!(repr.buffer_len(), bytes.len());
            assert_eq!(emit(&repr), bytes, "{repr}");
        }
    }

    #[test]
    fn emit_parse_round_trip() {
        for bytes in all_fixtures() {
            let repr = parse(bytes).unwrap();
            let out = emit(&repr);
            assert_eq!(parse(&out), Ok(repr));
        }
        // udhcpc's vendor class is dropped, so the message shrinks but
        // keeps the 300-byte minimum.
        assert_eq!(parse(&UDHCPC_DISCOVER).unwrap().buffer_len(), 300);
    }

    #[test]
    fn emit_large_message_and_leaves_tail_alone() {
        let dns = [[10, 0, 0, 2], [10, 0, 0, 3], [10, 0, 0, 4]];
        let mut repr = DhcpRepr::new(DhcpMessageType::Nak, 7, CLIENT_MAC);
        repr.message = Some(&[b'x'; 200]);
        repr.dns_servers = Ipv4List::new(&dns);
        repr.relay_agent_ip = Ipv4Addr::new(10, 9, 9, 9);
        let len = repr.buffer_len();
        assert_eq!(len, 240 + 3 + 14 + 202 + 1);
        let mut out = [0xaa; 600];
        repr.emit(&mut DhcpPacket::new_unchecked(&mut out[..]))
            .unwrap();
        assert!(out[len..].iter().all(|&b| b == 0xaa));
        assert_eq!(out[len - 1], 255);
        assert_eq!(out[0], 2);
        assert_eq!(parse(&out[..len]), Ok(repr));
        assert_eq!(repr.to_string(), "DHCP nak xid 0x00000007");
    }

    #[test]
    fn emit_errors() {
        let repr = parse(&DORA_OFFER).unwrap();
        let mut short = [0u8; 299];
        assert_eq!(
            repr.emit(&mut DhcpPacket::new_unchecked(&mut short[..])),
            Err(Error::BufferTooSmall)
        );

        let mut buf = [0u8; 1024];
        let mut bad = repr;
        bad.hostname = Some(&[b'h'; 256]);
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut buf[..])),
            Err(Error::BadOption)
        );
        bad.hostname = Some(&[]);
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut buf[..])),
            Err(Error::BadOption)
        );
        let mut bad = repr;
        bad.client_identifier = Some(&[1]);
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut buf[..])),
            Err(Error::BadOption)
        );
        let mut bad = repr;
        bad.max_size = Some(575);
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut buf[..])),
            Err(Error::Malformed)
        );
        let mut bad = repr;
        bad.message_type = DhcpMessageType::Unknown(9);
        assert_eq!(
            bad.emit(&mut DhcpPacket::new_unchecked(&mut buf[..])),
            Err(Error::Unsupported)
        );
        // Nothing was written by the refused emits.
        assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn truncated_every_prefix() {
        for bytes in all_fixtures() {
            for len in 0..=bytes.len() {
                let result = parse(&bytes[..len]);
                if len < 236 {
                    assert_eq!(result, Err(Error::Truncated), "prefix {len}");
                } else if len < 240 {
                    assert_eq!(result, Err(Error::Malformed), "prefix {len}");
                } else {
                    // Cut inside an option: an overrun; otherwise a parse
                    // (the End option is not required) or an error.
                    let _ = result;
                }
            }
        }
        // Cutting right inside the first option is an overrun.
        assert_eq!(parse(&DORA_OFFER[..241]), Err(Error::BadOption));
        assert_eq!(parse(&DORA_OFFER[..242]), Err(Error::BadOption));
    }

    #[test]
    fn bad_magic_cookie() {
        let mut bytes = DORA_DISCOVER;
        bytes[239] = 0x64;
        assert_eq!(
            DhcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::Malformed)
        );
        // A BOOTP message with an empty vendor area.
        let mut bootp = DORA_DISCOVER;
        bootp[236..].fill(0);
        assert_eq!(parse(&bootp), Err(Error::Malformed));
    }

    #[test]
    fn bad_hardware_length() {
        let mut bytes = DORA_DISCOVER;
        bytes[2] = 17;
        assert_eq!(
            DhcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::BadLength)
        );
        bytes[2] = 16;
        let packet = DhcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.hardware_address_bytes().len(), 16);
        assert_eq!(packet.client_hardware_address(), None);
        assert_eq!(DhcpRepr::parse(&packet), Err(Error::Malformed));
    }

    #[test]
    fn non_ethernet_hardware_is_unsupported() {
        let mut bytes = DORA_DISCOVER;
        bytes[1] = 6; // IEEE 802 networks
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn option_overrun() {
        // Lease time claiming 200 bytes where 4 follow.
        let bytes = with_options(2, &[53, 1, 2, 51, 200, 0, 0, 0, 1]);
        assert_eq!(
            DhcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::BadOption)
        );
        let packet = DhcpPacket::new_unchecked(&bytes[..]);
        let mut options = packet.options();
        assert!(options.next().unwrap().is_ok());
        assert_eq!(options.next(), Some(Err(Error::BadOption)));
        assert_eq!(options.next(), None);
    }

    #[test]
    fn option_missing_length_byte() {
        let bytes = with_options(1, &[53, 1, 1, 12]);
        assert_eq!(
            DhcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::BadOption)
        );
    }

    #[test]
    fn option_wrong_fixed_size() {
        let bytes = with_options(2, &[53, 1, 2, 51, 3, 0, 0, 1, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let bytes = with_options(1, &[53, 2, 1, 1, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let bytes = with_options(1, &[53, 1, 1, 57, 1, 2, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let bytes = with_options(1, &[53, 1, 1, 61, 1, 1, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let bytes = with_options(1, &[53, 1, 1, 12, 0, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
    }

    #[test]
    fn address_list_not_multiple_of_four() {
        let bytes = with_options(2, &[53, 1, 2, 6, 6, 10, 0, 0, 2, 10, 0, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        let bytes = with_options(2, &[53, 1, 2, 3, 0, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        assert_eq!(Ipv4List::from_bytes(&[1, 2, 3]), Err(Error::BadOption));
        assert_eq!(Ipv4List::from_bytes(&[]), Err(Error::BadOption));
        assert_eq!(Ipv4List::new(&[]), None);
        let list = Ipv4List::from_bytes(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        assert!(!list.is_empty());
        assert_eq!(list.iter().len(), 2);
    }

    #[test]
    fn max_message_size_below_minimum() {
        let bytes = with_options(1, &[53, 1, 1, 57, 2, 0x02, 0x3f, 255]);
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let bytes = with_options(1, &[53, 1, 1, 57, 2, 0x02, 0x40, 255]);
        assert_eq!(parse(&bytes).unwrap().max_size, Some(576));
    }

    #[test]
    fn missing_or_unknown_message_type() {
        // The cookie but no option 53: BOOTP with vendor extensions.
        let bytes = with_options(1, &[12, 2, b'v', b'm', 255]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        let bytes = with_options(1, &[53, 1, 9, 255]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        let bytes = with_options(1, &[53, 1, 0, 255]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn opcode_mismatch() {
        let mut bytes = DORA_OFFER;
        bytes[0] = 1;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        bytes[0] = 3;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
    }

    #[test]
    fn duplicate_option_is_unsupported() {
        // RFC 3396 would concatenate these two DNS option instances.
        let bytes = with_options(2, &[53, 1, 2, 6, 4, 10, 0, 0, 2, 6, 4, 10, 0, 0, 3, 255]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        let bytes = with_options(2, &[53, 1, 2, 53, 1, 2, 255]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn pad_end_and_missing_end() {
        // Pads before, between and after; trailing bytes after End are
        // not options.
        let bytes = with_options(1, &[0, 0, 53, 1, 1, 0, 12, 1, b'h', 255, 12, 9]);
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.hostname, Some(&b"h"[..]));
        // No End at all: the walk stops at the buffer's end.
        let bytes = with_options(1, &[53, 1, 1]);
        assert_eq!(
            parse(&bytes).unwrap().message_type,
            DhcpMessageType::Discover
        );
        // Nothing but pads and an unknown zero-length option.
        let mut options = DhcpOptions::new(&[0, 0, 80, 0, 0]);
        let rapid = options.next().unwrap().unwrap();
        assert_eq!(
            (rapid.kind, rapid.data),
            (DhcpOptionKind::Unknown(80), &[][..])
        );
        assert_eq!(options.next(), None);
        assert_eq!(DhcpOptions::new(&[0; 1000]).count(), 0);
        assert_eq!(DhcpOptions::new(&[255, 53, 1, 1]).count(), 0);
    }

    #[test]
    fn overload_is_followed() {
        // Overload 3: `file` then `sname` carry options.
        let mut bytes = with_options(2, &[53, 1, 5, 52, 1, 3, 255]);
        bytes[108..115].copy_from_slice(&[51, 4, 0, 0, 0x0e, 0x10, 255]);
        bytes[44..51].copy_from_slice(&[1, 4, 255, 255, 255, 0, 255]);
        let packet = DhcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            packet.overload(),
            Ok(Some(DhcpOverload {
                file: true,
                sname: true
            }))
        );
        let repr = DhcpRepr::parse(&packet).unwrap();
        assert_eq!(repr.lease_duration, Some(3600));
        assert_eq!(repr.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        // Emit puts it all in `options`; the meaning survives.
        assert_eq!(parse(&emit(&repr)), Ok(repr));

        // Overload 1: `sname` is a name, not options.
        let mut bytes = with_options(2, &[53, 1, 5, 52, 1, 1, 255]);
        bytes[44..48].copy_from_slice(b"boot");
        assert_eq!(parse(&bytes).unwrap().subnet_mask, None);

        // An overrun inside an overloaded field.
        let mut bytes = with_options(2, &[53, 1, 5, 52, 1, 2, 255]);
        bytes[44..108].fill(0);
        bytes[106..108].copy_from_slice(&[12, 9]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
        // The same option found in two regions.
        let mut bytes = with_options(2, &[53, 1, 5, 52, 1, 1, 255]);
        bytes[108..111].copy_from_slice(&[53, 1, 5]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
    }

    #[test]
    fn bad_overload_value() {
        let bytes = with_options(2, &[53, 1, 5, 52, 1, 4, 255]);
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let bytes = with_options(2, &[53, 1, 5, 52, 2, 1, 1, 255]);
        assert_eq!(parse(&bytes), Err(Error::BadOption));
    }

    #[test]
    fn setters_write_fields() {
        let mut buf = [0u8; 300];
        let mut packet = DhcpPacket::new_unchecked(&mut buf[..]);
        packet.set_opcode(DhcpOpCode::BootReply);
        packet.set_client_hardware_address(CLIENT_MAC);
        packet.set_hops(3);
        packet.set_transaction_id(0x0102_0304);
        packet.set_secs(9);
        packet.set_flags(0x0001);
        packet.set_broadcast_flag(true);
        packet.set_client_ip(Ipv4Addr::new(1, 1, 1, 1));
        packet.set_your_ip(Ipv4Addr::new(2, 2, 2, 2));
        packet.set_server_ip(Ipv4Addr::new(3, 3, 3, 3));
        packet.set_relay_agent_ip(Ipv4Addr::new(4, 4, 4, 4));
        packet.set_server_name(b"srv");
        packet.set_boot_file(&[b'f'; 200]);
        packet.set_magic_cookie();
        packet.options_mut()[..4].copy_from_slice(&[53, 1, 2, 255]);
        let packet = DhcpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.flags(), 0x8001);
        assert_eq!(packet.hops(), 3);
        assert_eq!(&packet.server_name()[..4], b"srv\0");
        assert!(packet.boot_file().iter().all(|&b| b == b'f'));
        let repr = DhcpRepr::parse(&packet).unwrap();
        assert_eq!(repr.transaction_id, 0x0102_0304);
        assert_eq!(repr.secs, 9);
        assert!(repr.broadcast);
        assert_eq!(repr.client_ip, Ipv4Addr::new(1, 1, 1, 1));
        assert_eq!(repr.your_ip, Ipv4Addr::new(2, 2, 2, 2));
        assert_eq!(repr.server_ip, Ipv4Addr::new(3, 3, 3, 3));
        assert_eq!(repr.relay_agent_ip, Ipv4Addr::new(4, 4, 4, 4));
        let mut packet = DhcpPacket::new_unchecked(&mut buf[..]);
        packet.set_broadcast_flag(false);
        assert_eq!(packet.flags(), 0x0001);
        assert_eq!(packet.into_inner().len(), 300);
    }

    #[test]
    fn message_type_names() {
        for (n, name) in [
            (1, "discover"),
            (2, "offer"),
            (3, "request"),
            (4, "decline"),
            (5, "ack"),
            (6, "nak"),
            (7, "release"),
            (8, "inform"),
            (42, "type-42"),
        ] {
            assert_eq!(DhcpMessageType::from(n).to_string(), name);
        }
        assert_eq!(
            DhcpMessageType::Inform.opcode(),
            Some(DhcpOpCode::BootRequest)
        );
        assert_eq!(DhcpMessageType::Nak.opcode(), Some(DhcpOpCode::BootReply));
        assert_eq!(DhcpMessageType::Unknown(0).opcode(), None);
    }

    #[test]
    fn fixture_file_holds_these_messages() {
        use crate::wire::pcap::PcapReader;
        let dora = include_bytes!("../../tests/fixtures/dhcp-dora.pcap");
        let udhcpc = include_bytes!("../../tests/fixtures/dhcp-udhcpc.pcap");
        let payloads = |file: &'static [u8]| -> Vec<&'static [u8]> {
            // Ethernet (14) + IPv4 without options (20) + UDP (8).
            PcapReader::new(file)
                .unwrap()
                .map(|r| &r.unwrap().data[42..])
                .collect()
        };
        assert_eq!(
            payloads(dora),
            [
                &DORA_DISCOVER[..],
                &DORA_OFFER,
                &DORA_REQUEST,
                &DORA_ACK,
                &DORA_RELEASE
            ]
        );
        let udhcpc = payloads(udhcpc);
        assert_eq!(udhcpc.len(), 4);
        assert_eq!(udhcpc[0], UDHCPC_DISCOVER);
        assert_eq!(udhcpc[3], UDHCPC_ACK);
        for message in udhcpc {
            assert!(parse(message).is_ok());
        }
    }
}
