//! IPv6 neighbor discovery (RFC 4861): router and neighbor solicitations
//! and advertisements, redirects, and their options.
//!
//! The messages are ICMPv6 messages: the byte view is
//! [`Icmpv6Packet`], whose neighbor discovery accessors are defined here,
//! and they are parsed through [`Icmpv6Repr::parse`](super::icmpv6::Icmpv6Repr::parse)
//! (which verifies the checksum) or directly with [`NdiscRepr::parse`].
//!
//! ```text
//! Router Solicitation (133)           Router Advertisement (134)
//! +------+------+-------------+       +------+------+-------------+
//! | type | code |  checksum   |  0    | type | code |  checksum   |
//! +------+------+-------------+       +------+------+-------------+
//! |         reserved          |  4    | hops |MO... |  lifetime   |
//! +---------------------------+       +------+------+-------------+
//! | options ...                  8    |      reachable time       |
//!                                     +---------------------------+
//!                                12   |      retrans timer        |
//!                                     +---------------------------+
//!                                16   | options ...
//!
//! Neighbor Solicitation (135) / Advertisement (136) / Redirect (137)
//! +------+------+-------------+
//! | type | code |  checksum   |  0
//! +------+------+-------------+
//! |RSO  reserved (NA flags)   |  4
//! +---------------------------+
//! |  target address (16)      |  8
//! +---------------------------+
//! |  destination address (16) | 24   (Redirect only)
//! +---------------------------+
//! | options ...                  24 (NS, NA) / 40 (Redirect)
//!
//! Option (RFC 4861 section 4.6), a multiple of 8 bytes:
//! +------+------+---------------------------------
//! | type | len  | data ... (len * 8 - 2 bytes)
//! +------+------+---------------------------------
//! ```
//!
//! Options are walked by [`NdiscOptionIter`], which advances at least 8
//! bytes per step and stops at the first error: a length of 0 (which RFC
//! 4861 sections 6.1 and 7.1 say must make the whole message be
//! discarded), an option running past the end, or a fixed-size option
//! (link-layer address, prefix information, MTU, RDNSS) with the wrong
//! length are all [`Error::BadOption`]. Unknown options are kept as
//! [`NdiscOption::Unknown`] and otherwise ignored (section 4.6).
//!
//! [`NdiscRepr::parse`] applies the receive checks of RFC 4861 sections
//! 6.1.1, 6.1.2, 7.1.1, 7.1.2 and 8.1 that need nothing but the message
//! and its addresses: code 0, a link-local source for advertisements and
//! redirects, no multicast target, no link-layer address option from the
//! unspecified address, and so on. The hop limit of 255 that the same
//! sections require is checked by the IP layer, not here. Link-layer
//! address options are read as Ethernet addresses (length 1).
//!
//! ```
//! use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
//! use ethox::wire::ndisc::NdiscRepr;
//! use ethox::wire::{ChecksumMode, EthernetAddress, Ipv6Addr};
//!
//! let src = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
//! let target = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
//! // Sent to the solicited-node group of the target.
//! let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 2);
//! let repr = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
//!     target,
//!     lladdr: Some(EthernetAddress([2, 0, 0, 0, 0, 1])),
//! });
//! let mut bytes = [0u8; 32];
//! assert_eq!(repr.buffer_len(), 32);
//! repr.emit(&mut Icmpv6Packet::new_unchecked(&mut bytes[..]), src, dst, ChecksumMode::Software);
//!
//! let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
//! assert_eq!(packet.target_addr(), target);
//! let parsed = Icmpv6Repr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "ICMPv6 neighbor solicitation who-has fd00::2");
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::ethernet::EthernetAddress;
use super::icmpv6::{Icmpv6Packet, Icmpv6Type, Ipv6AddrList};
use super::icmpv6::{read, read_addr, read_u16, read_u32};
use super::ip::Ipv6Addr;
use super::{Error, Result};

bitflags::bitflags! {
    /// The flags byte of a Router Advertisement (RFC 4861 section 4.2).
    ///
    /// Bits this crate does not name (home agent, RFC 4191 router
    /// preference, proxy) are kept as they were received, so that a parsed
    /// advertisement emits back unchanged.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct RouterFlags: u8 {
        /// M: addresses are available through DHCPv6.
        const MANAGED = 0x80;
        /// O: other configuration is available through DHCPv6.
        const OTHER = 0x40;
    }
}

bitflags::bitflags! {
    /// The flags of a Neighbor Advertisement (RFC 4861 section 4.4). The
    /// reserved bits are ignored on receipt and sent as zero.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NeighborFlags: u8 {
        /// R: the sender is a router.
        const ROUTER = 0x80;
        /// S: sent in response to a Neighbor Solicitation.
        const SOLICITED = 0x40;
        /// O: override an existing cache entry.
        const OVERRIDE = 0x20;
    }
}

bitflags::bitflags! {
    /// The flags of a Prefix Information option (RFC 4861 section 4.6.2).
    /// Other bits are kept as received.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PrefixInfoFlags: u8 {
        /// L: the prefix is on-link.
        const ON_LINK = 0x80;
        /// A: the prefix may be used for stateless address
        /// autoconfiguration (RFC 4862 section 5.5.3).
        const AUTONOMOUS = 0x40;
    }
}

enum_with_unknown! {
    /// The type of a neighbor discovery option (RFC 4861 section 4.6,
    /// RFC 8106 section 5.1).
    pub enum NdiscOptionType(u8) {
        /// Source Link-Layer Address.
        SourceLinkLayerAddr = 1,
        /// Target Link-Layer Address.
        TargetLinkLayerAddr = 2,
        /// Prefix Information.
        PrefixInfo = 3,
        /// Redirected Header.
        RedirectedHeader = 4,
        /// MTU.
        Mtu = 5,
        /// Recursive DNS Server.
        Rdnss = 25,
    }
}

mod field {
    use core::ops::Range;

    // Router Advertisement.
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Range<usize> = 6..8;
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    pub const RETRANS_TIME: Range<usize> = 12..16;
    // Neighbor Advertisement: R, S, O in the top bits of the body word.
    pub const NEIGHBOR_FLAGS: usize = 4;
    // Neighbor Solicitation / Advertisement, Redirect.
    pub const TARGET: Range<usize> = 8..24;
    // Redirect.
    pub const DESTINATION: Range<usize> = 24..40;

    // Where the options start, which is also the fixed length.
    pub const RS_OPTIONS: usize = 8;
    pub const RA_OPTIONS: usize = 16;
    pub const NEIGHBOR_OPTIONS: usize = 24;
    pub const REDIRECT_OPTIONS: usize = 40;

    // Options: offsets inside one option.
    pub const OPT_TYPE: usize = 0;
    pub const OPT_LEN: usize = 1;
    pub const OPT_UNIT: usize = 8;
    pub const LLADDR: Range<usize> = 2..8;
    pub const PREFIX_LEN: usize = 2;
    pub const PREFIX_FLAGS: usize = 3;
    pub const VALID_LIFETIME: Range<usize> = 4..8;
    pub const PREFERRED_LIFETIME: Range<usize> = 8..12;
    pub const PREFIX: Range<usize> = 16..32;
    pub const PREFIX_INFO_LEN: usize = 32;
    pub const MTU: Range<usize> = 4..8;
    pub const RDNSS_LIFETIME: Range<usize> = 4..8;
    pub const RDNSS_SERVERS: usize = 8;
    pub const REDIRECTED_DATA: usize = 8;
    pub const UNKNOWN_DATA: usize = 2;
    // An option length is one byte of 8-byte units.
    pub const MAX_OPTION_LEN: usize = 255 * OPT_UNIT;
}

/// The fixed length of a neighbor discovery message of type `msg_type`
/// (where its options start), or `None` for other types.
pub(crate) fn fixed_len(msg_type: Icmpv6Type) -> Option<usize> {
    match msg_type {
        Icmpv6Type::RouterSolicit => Some(field::RS_OPTIONS),
        Icmpv6Type::RouterAdvert => Some(field::RA_OPTIONS),
        Icmpv6Type::NeighborSolicit | Icmpv6Type::NeighborAdvert => Some(field::NEIGHBOR_OPTIONS),
        Icmpv6Type::Redirect => Some(field::REDIRECT_OPTIONS),
        _ => None,
    }
}

/// Whether `addr` is in a solicited-node multicast group,
/// ff02::1:ff00:0/104 (RFC 4291 section 2.7.1).
pub fn is_solicited_node(addr: Ipv6Addr) -> bool {
    let o = addr.octets();
    o[..13] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]
}

/// The solicited-node multicast group of `addr` (RFC 4291 section 2.7.1),
/// where neighbor solicitations for it are sent.
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15],
    ])
}

/// Neighbor discovery accessors. They read missing bytes as zero;
/// [`Icmpv6Packet::check_len`] proves the fields of the message's own type
/// present.
impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Router Advertisement: the hop limit hosts should use (0: unspecified).
    pub fn cur_hop_limit(&self) -> u8 {
        read::<1>(
            self.as_ref(),
            field::CUR_HOP_LIMIT..field::CUR_HOP_LIMIT + 1,
        )[0]
    }

    /// Router Advertisement: the flags byte.
    pub fn router_flags(&self) -> RouterFlags {
        let byte = read::<1>(self.as_ref(), field::ROUTER_FLAGS..field::ROUTER_FLAGS + 1)[0];
        RouterFlags::from_bits_retain(byte)
    }

    /// Router Advertisement: the router lifetime in seconds (0: not a
    /// default router).
    pub fn router_lifetime(&self) -> u16 {
        read_u16(self.as_ref(), field::ROUTER_LIFETIME)
    }

    /// Router Advertisement: the reachable time in milliseconds (0:
    /// unspecified).
    pub fn reachable_time(&self) -> u32 {
        read_u32(self.as_ref(), field::REACHABLE_TIME)
    }

    /// Router Advertisement: the retransmission timer in milliseconds (0:
    /// unspecified).
    pub fn retrans_time(&self) -> u32 {
        read_u32(self.as_ref(), field::RETRANS_TIME)
    }

    /// Neighbor Advertisement: the R, S and O flags.
    pub fn neighbor_flags(&self) -> NeighborFlags {
        let byte = read::<1>(
            self.as_ref(),
            field::NEIGHBOR_FLAGS..field::NEIGHBOR_FLAGS + 1,
        )[0];
        NeighborFlags::from_bits_truncate(byte)
    }

    /// Neighbor Solicitation / Advertisement, Redirect: the target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        read_addr(self.as_ref(), field::TARGET)
    }

    /// Redirect: the destination address that is redirected.
    pub fn redirect_dest(&self) -> Ipv6Addr {
        read_addr(self.as_ref(), field::DESTINATION)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv6Packet<&'a T> {
    /// The options of a neighbor discovery message, raw (walk them with
    /// [`NdiscOptionIter`]); empty for other message types.
    pub fn ndisc_options(&self) -> &'a [u8] {
        match fixed_len(self.msg_type()) {
            Some(start) => self.bytes().get(start..).unwrap_or(&[]),
            None => &[],
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Router Advertisement: sets the hop limit.
    pub fn set_cur_hop_limit(&mut self, value: u8) {
        self.bytes_mut()[field::CUR_HOP_LIMIT] = value
    }

    /// Router Advertisement: sets the flags byte.
    pub fn set_router_flags(&mut self, flags: RouterFlags) {
        self.bytes_mut()[field::ROUTER_FLAGS] = flags.bits()
    }

    /// Router Advertisement: sets the router lifetime (seconds).
    pub fn set_router_lifetime(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.bytes_mut()[field::ROUTER_LIFETIME], value)
    }

    /// Router Advertisement: sets the reachable time (milliseconds).
    pub fn set_reachable_time(&mut self, value: u32) {
        NetworkEndian::write_u32(&mut self.bytes_mut()[field::REACHABLE_TIME], value)
    }

    /// Router Advertisement: sets the retransmission timer (milliseconds).
    pub fn set_retrans_time(&mut self, value: u32) {
        NetworkEndian::write_u32(&mut self.bytes_mut()[field::RETRANS_TIME], value)
    }

    /// Neighbor Advertisement: sets the flags byte (the rest of the body
    /// word is reserved and not touched).
    pub fn set_neighbor_flags(&mut self, flags: NeighborFlags) {
        self.bytes_mut()[field::NEIGHBOR_FLAGS] = flags.bits()
    }

    /// Neighbor Solicitation / Advertisement, Redirect: sets the target.
    pub fn set_target_addr(&mut self, addr: Ipv6Addr) {
        self.bytes_mut()[field::TARGET].copy_from_slice(&addr.octets())
    }

    /// Redirect: sets the destination address.
    pub fn set_redirect_dest(&mut self, addr: Ipv6Addr) {
        self.bytes_mut()[field::DESTINATION].copy_from_slice(&addr.octets())
    }
}

/// A Prefix Information option (RFC 4861 section 4.6.2).
///
/// Lifetimes are in seconds; 0xffffffff means infinity. RFC 4862 section
/// 5.5.3 has the receiver ignore an option whose preferred lifetime exceeds
/// its valid lifetime; that is a processing rule and is left to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixInfo {
    /// The number of leading bits of `prefix` that are valid (0 to 128).
    pub prefix_len: u8,
    /// The L and A flags.
    pub flags: PrefixInfoFlags,
    /// How long the prefix is valid for on-link determination.
    pub valid_lifetime: u32,
    /// How long addresses made from the prefix stay preferred.
    pub preferred_lifetime: u32,
    /// The prefix; bits after `prefix_len` are meant to be zero.
    pub prefix: Ipv6Addr,
}

/// One neighbor discovery option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdiscOption<'a> {
    /// Source Link-Layer Address (type 1).
    SourceLinkLayerAddr(EthernetAddress),
    /// Target Link-Layer Address (type 2).
    TargetLinkLayerAddr(EthernetAddress),
    /// Prefix Information (type 3).
    PrefixInfo(PrefixInfo),
    /// Redirected Header (type 4): the front of the redirected packet,
    /// padded with zeros to a multiple of 8 bytes.
    RedirectedHeader(&'a [u8]),
    /// MTU (type 5).
    Mtu(u32),
    /// Recursive DNS Server (type 25, RFC 8106 section 5.1).
    Rdnss {
        /// How long the servers may be used, in seconds (0xffffffff:
        /// infinity, 0: stop using them).
        lifetime: u32,
        /// The servers (at least one on the wire).
        servers: Ipv6AddrList<'a>,
    },
    /// An option this crate does not interpret.
    Unknown {
        /// The option type.
        kind: u8,
        /// Everything after the type and length bytes.
        data: &'a [u8],
    },
}

/// Rounds `len` up to whole 8-byte option units.
const fn pad8(len: usize) -> usize {
    len.div_ceil(field::OPT_UNIT) * field::OPT_UNIT
}

impl<'a> NdiscOption<'a> {
    /// The most Redirected Header data one option can hold.
    pub const MAX_REDIRECTED_LEN: usize = field::MAX_OPTION_LEN - field::REDIRECTED_DATA;
    /// The most servers one RDNSS option can hold.
    pub const MAX_RDNSS_SERVERS: usize = (field::MAX_OPTION_LEN - field::RDNSS_SERVERS) / 16;
    /// The most data an unknown option can hold.
    pub const MAX_UNKNOWN_LEN: usize = field::MAX_OPTION_LEN - field::UNKNOWN_DATA;

    /// Parses the option at the front of `bytes`, returning it and its
    /// length on the wire (at least 8).
    ///
    /// [`Error::BadOption`] for fewer than 2 bytes, a length of 0, an
    /// option longer than `bytes`, or a fixed-size option of the wrong
    /// size; [`Error::Malformed`] for a prefix length over 128.
    pub fn parse(bytes: &'a [u8]) -> Result<(NdiscOption<'a>, usize)> {
        let (kind, units) = match bytes {
            [kind, units, ..] => (*kind, *units),
            _ => return Err(Error::BadOption),
        };
        if units == 0 {
            return Err(Error::BadOption);
        }
        let len = usize::from(units) * field::OPT_UNIT;
        let opt = bytes.get(..len).ok_or(Error::BadOption)?;
        let tail = |start: usize| opt.get(start..).unwrap_or(&[]);
        let option = match NdiscOptionType::from(kind) {
            NdiscOptionType::SourceLinkLayerAddr | NdiscOptionType::TargetLinkLayerAddr => {
                if units != 1 {
                    return Err(Error::BadOption);
                }
                let addr = EthernetAddress(read(opt, field::LLADDR));
                if kind == u8::from(NdiscOptionType::SourceLinkLayerAddr) {
                    NdiscOption::SourceLinkLayerAddr(addr)
                } else {
                    NdiscOption::TargetLinkLayerAddr(addr)
                }
            }
            NdiscOptionType::PrefixInfo => {
                if len != field::PREFIX_INFO_LEN {
                    return Err(Error::BadOption);
                }
                let prefix_len = read::<1>(opt, field::PREFIX_LEN..field::PREFIX_LEN + 1)[0];
                if prefix_len > 128 {
                    return Err(Error::Malformed);
                }
                let flags = read::<1>(opt, field::PREFIX_FLAGS..field::PREFIX_FLAGS + 1)[0];
                NdiscOption::PrefixInfo(PrefixInfo {
                    prefix_len,
                    flags: PrefixInfoFlags::from_bits_retain(flags),
                    valid_lifetime: read_u32(opt, field::VALID_LIFETIME),
                    preferred_lifetime: read_u32(opt, field::PREFERRED_LIFETIME),
                    prefix: read_addr(opt, field::PREFIX),
                })
            }
            NdiscOptionType::RedirectedHeader => {
                NdiscOption::RedirectedHeader(tail(field::REDIRECTED_DATA))
            }
            NdiscOptionType::Mtu => {
                if units != 1 {
                    return Err(Error::BadOption);
                }
                NdiscOption::Mtu(read_u32(opt, field::MTU))
            }
            NdiscOptionType::Rdnss => {
                // RFC 8106 section 5.1: 1 + 2 units per server, at least one.
                if units < 3 || units.is_multiple_of(2) {
                    return Err(Error::BadOption);
                }
                NdiscOption::Rdnss {
                    lifetime: read_u32(opt, field::RDNSS_LIFETIME),
                    servers: Ipv6AddrList::from_bytes(tail(field::RDNSS_SERVERS))
                        .map_err(|_| Error::BadOption)?,
                }
            }
            NdiscOptionType::Unknown(_) => NdiscOption::Unknown {
                kind,
                data: tail(field::UNKNOWN_DATA),
            },
        };
        Ok((option, len))
    }

    /// The option type.
    pub fn kind(&self) -> NdiscOptionType {
        match self {
            NdiscOption::SourceLinkLayerAddr(_) => NdiscOptionType::SourceLinkLayerAddr,
            NdiscOption::TargetLinkLayerAddr(_) => NdiscOptionType::TargetLinkLayerAddr,
            NdiscOption::PrefixInfo(_) => NdiscOptionType::PrefixInfo,
            NdiscOption::RedirectedHeader(_) => NdiscOptionType::RedirectedHeader,
            NdiscOption::Mtu(_) => NdiscOptionType::Mtu,
            NdiscOption::Rdnss { .. } => NdiscOptionType::Rdnss,
            NdiscOption::Unknown { kind, .. } => NdiscOptionType::from(*kind),
        }
    }

    /// The length `emit` writes: a multiple of 8.
    ///
    /// Variable data beyond what one option can hold (an option is at most
    /// 255 units) is cut off: see the `MAX_*` constants.
    pub fn buffer_len(&self) -> usize {
        match self {
            NdiscOption::SourceLinkLayerAddr(_)
            | NdiscOption::TargetLinkLayerAddr(_)
            | NdiscOption::Mtu(_) => field::OPT_UNIT,
            NdiscOption::PrefixInfo(_) => field::PREFIX_INFO_LEN,
            NdiscOption::RedirectedHeader(data) => {
                field::REDIRECTED_DATA + pad8(data.len().min(Self::MAX_REDIRECTED_LEN))
            }
            NdiscOption::Rdnss { servers, .. } => {
                field::RDNSS_SERVERS + 16 * servers.len().min(Self::MAX_RDNSS_SERVERS)
            }
            NdiscOption::Unknown { data, .. } => {
                pad8(field::UNKNOWN_DATA + data.len().min(Self::MAX_UNKNOWN_LEN))
            }
        }
    }

    /// Writes the option, padding included, into the first
    /// [`buffer_len`](Self::buffer_len) bytes of `buf`. Panics if `buf` is
    /// shorter.
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        let opt = &mut buf[..len];
        opt.fill(0);
        opt[field::OPT_TYPE] = self.kind().into();
        // At most 255 units by construction of buffer_len.
        opt[field::OPT_LEN] = (len / field::OPT_UNIT) as u8;
        match *self {
            NdiscOption::SourceLinkLayerAddr(addr) | NdiscOption::TargetLinkLayerAddr(addr) => {
                opt[field::LLADDR].copy_from_slice(addr.as_bytes())
            }
            NdiscOption::PrefixInfo(info) => {
                opt[field::PREFIX_LEN] = info.prefix_len;
                opt[field::PREFIX_FLAGS] = info.flags.bits();
                NetworkEndian::write_u32(&mut opt[field::VALID_LIFETIME], info.valid_lifetime);
                NetworkEndian::write_u32(
                    &mut opt[field::PREFERRED_LIFETIME],
                    info.preferred_lifetime,
                );
                opt[field::PREFIX].copy_from_slice(&info.prefix.octets());
            }
            NdiscOption::RedirectedHeader(data) => {
                let n = data.len().min(Self::MAX_REDIRECTED_LEN);
                opt[field::REDIRECTED_DATA..][..n].copy_from_slice(&data[..n]);
            }
            NdiscOption::Mtu(mtu) => NetworkEndian::write_u32(&mut opt[field::MTU], mtu),
            NdiscOption::Rdnss { lifetime, servers } => {
                NetworkEndian::write_u32(&mut opt[field::RDNSS_LIFETIME], lifetime);
                servers.emit(Self::MAX_RDNSS_SERVERS, &mut opt[field::RDNSS_SERVERS..]);
            }
            NdiscOption::Unknown { data, .. } => {
                let n = data.len().min(Self::MAX_UNKNOWN_LEN);
                opt[field::UNKNOWN_DATA..][..n].copy_from_slice(&data[..n]);
            }
        }
    }
}

/// Walks the options of a neighbor discovery message.
///
/// Yields each option, or one error and then nothing. Every step consumes
/// at least 8 bytes, so the walk ends after at most `len / 8` steps.
#[derive(Debug, Clone)]
pub struct NdiscOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> NdiscOptionIter<'a> {
    /// Walks `bytes`, the options area of a message.
    pub const fn new(bytes: &'a [u8]) -> NdiscOptionIter<'a> {
        NdiscOptionIter { rest: bytes }
    }
}

impl<'a> Iterator for NdiscOptionIter<'a> {
    type Item = Result<NdiscOption<'a>>;

    fn next(&mut self) -> Option<Result<NdiscOption<'a>>> {
        if self.rest.is_empty() {
            return None;
        }
        match NdiscOption::parse(self.rest) {
            Ok((option, len)) => {
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok(option))
            }
            Err(err) => {
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

/// The options of a Router Advertisement: either borrowed from a packet
/// (validated) or given as a list for emitting.
///
/// Two values are equal when they hold the same options in the same order.
#[derive(Clone, Copy)]
pub struct NdiscOptions<'a>(Options<'a>);

#[derive(Clone, Copy)]
enum Options<'a> {
    // Invariant: NdiscOptionIter walks it without an error.
    Wire(&'a [u8]),
    List(&'a [NdiscOption<'a>]),
}

impl<'a> NdiscOptions<'a> {
    /// No options.
    pub const EMPTY: NdiscOptions<'static> = NdiscOptions(Options::List(&[]));

    /// Validates the options area of a message; the first error of the
    /// walk (see [`NdiscOption::parse`]) is returned.
    pub fn parse(bytes: &'a [u8]) -> Result<NdiscOptions<'a>> {
        for option in NdiscOptionIter::new(bytes) {
            option?;
        }
        Ok(NdiscOptions(Options::Wire(bytes)))
    }

    /// Options to emit.
    pub const fn from_list(options: &'a [NdiscOption<'a>]) -> NdiscOptions<'a> {
        NdiscOptions(Options::List(options))
    }

    /// The raw bytes, when the options were read from a packet.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.0 {
            Options::Wire(bytes) => Some(bytes),
            Options::List(_) => None,
        }
    }

    /// Iterates over the options.
    pub fn iter(&self) -> NdiscOptionsIter<'a> {
        match self.0 {
            Options::Wire(bytes) => {
                NdiscOptionsIter(OptionsIter::Wire(NdiscOptionIter::new(bytes)))
            }
            Options::List(list) => NdiscOptionsIter(OptionsIter::List(list.iter())),
        }
    }

    /// The first Source Link-Layer Address option.
    pub fn source_lladdr(&self) -> Option<EthernetAddress> {
        self.iter().find_map(|o| match o {
            NdiscOption::SourceLinkLayerAddr(addr) => Some(addr),
            _ => None,
        })
    }

    /// The first Target Link-Layer Address option.
    pub fn target_lladdr(&self) -> Option<EthernetAddress> {
        self.iter().find_map(|o| match o {
            NdiscOption::TargetLinkLayerAddr(addr) => Some(addr),
            _ => None,
        })
    }

    /// The first MTU option.
    pub fn mtu(&self) -> Option<u32> {
        self.iter().find_map(|o| match o {
            NdiscOption::Mtu(mtu) => Some(mtu),
            _ => None,
        })
    }

    /// The Prefix Information options.
    pub fn prefixes(&self) -> impl Iterator<Item = PrefixInfo> + 'a {
        self.iter().filter_map(|o| match o {
            NdiscOption::PrefixInfo(info) => Some(info),
            _ => None,
        })
    }

    /// The length `emit` writes.
    pub fn buffer_len(&self) -> usize {
        match self.0 {
            Options::Wire(bytes) => bytes.len(),
            Options::List(list) => list.iter().map(NdiscOption::buffer_len).sum(),
        }
    }

    /// Writes the options into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `buf`. Panics if `buf` is shorter.
    pub fn emit(&self, buf: &mut [u8]) {
        match self.0 {
            Options::Wire(bytes) => buf[..bytes.len()].copy_from_slice(bytes),
            Options::List(list) => {
                let mut at = 0;
                for option in list {
                    option.emit(&mut buf[at..]);
                    at += option.buffer_len();
                }
            }
        }
    }
}

impl Default for NdiscOptions<'_> {
    fn default() -> Self {
        NdiscOptions::EMPTY
    }
}

impl PartialEq for NdiscOptions<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for NdiscOptions<'_> {}

impl fmt::Debug for NdiscOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An iterator over [`NdiscOptions`].
#[derive(Debug, Clone)]
pub struct NdiscOptionsIter<'a>(OptionsIter<'a>);

#[derive(Debug, Clone)]
enum OptionsIter<'a> {
    Wire(NdiscOptionIter<'a>),
    List(core::slice::Iter<'a, NdiscOption<'a>>),
}

impl<'a> Iterator for NdiscOptionsIter<'a> {
    type Item = NdiscOption<'a>;

    fn next(&mut self) -> Option<NdiscOption<'a>> {
        match &mut self.0 {
            // Validated by NdiscOptions::parse; an error cannot occur, and
            // would end the walk if it did.
            OptionsIter::Wire(walk) => walk.next().and_then(|o| o.ok()),
            OptionsIter::List(list) => list.next().copied(),
        }
    }
}

/// The parsed meaning of a neighbor discovery message.
///
/// Options other than the ones a variant keeps are skipped (RFC 4861
/// section 4.6); the first of several link-layer address options is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdiscRepr<'a> {
    /// Router Solicitation (RFC 4861 section 4.1).
    RouterSolicit {
        /// The Source Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Router Advertisement (RFC 4861 section 4.2).
    RouterAdvert {
        /// The hop limit hosts should use (0: unspecified).
        hop_limit: u8,
        /// M and O flags (and others, kept as received).
        flags: RouterFlags,
        /// The router lifetime in seconds (0: not a default router).
        router_lifetime: u16,
        /// The reachable time in milliseconds (0: unspecified).
        reachable_time: u32,
        /// The retransmission timer in milliseconds (0: unspecified).
        retrans_time: u32,
        /// All options (link-layer address, prefixes, MTU, RDNSS, ...).
        options: NdiscOptions<'a>,
    },
    /// Neighbor Solicitation (RFC 4861 section 4.3).
    NeighborSolicit {
        /// The address whose link-layer address is asked for.
        target: Ipv6Addr,
        /// The Source Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Neighbor Advertisement (RFC 4861 section 4.4).
    NeighborAdvert {
        /// R, S and O.
        flags: NeighborFlags,
        /// The address advertised.
        target: Ipv6Addr,
        /// The Target Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Redirect (RFC 4861 section 4.5).
    Redirect {
        /// The better first hop (or `dest` itself when it is on-link).
        target: Ipv6Addr,
        /// The destination being redirected.
        dest: Ipv6Addr,
        /// The Target Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
        /// The data of the Redirected Header option: the front of the
        /// packet that caused the redirect, zero-padded to 8 bytes.
        redirected: Option<&'a [u8]>,
    },
}

/// The first link-layer address option of the wanted kind, walking (and so
/// validating) all options.
fn find_lladdr(options: &[u8], kind: NdiscOptionType) -> Result<Option<EthernetAddress>> {
    let mut found = None;
    for option in NdiscOptionIter::new(options) {
        match (option?, kind) {
            (NdiscOption::SourceLinkLayerAddr(addr), NdiscOptionType::SourceLinkLayerAddr)
            | (NdiscOption::TargetLinkLayerAddr(addr), NdiscOptionType::TargetLinkLayerAddr) => {
                found = found.or(Some(addr))
            }
            _ => {}
        }
    }
    Ok(found)
}

impl<'a> NdiscRepr<'a> {
    /// Parses a neighbor discovery message sent from `src` to `dst`. The
    /// checksum is not looked at: [`Icmpv6Repr::parse`](super::icmpv6::Icmpv6Repr::parse)
    /// verifies it.
    ///
    /// [`Error::Malformed`] for what RFC 4861 says to discard: a code other
    /// than 0; a Router Advertisement or Redirect whose source is not
    /// link-local (6.1.2, 8.1); a multicast target in a solicitation or
    /// advertisement (7.1.1, 7.1.2); a Solicitation from the unspecified
    /// address that is not sent to a solicited-node group or carries a
    /// source link-layer address (7.1.1), or such a Router Solicitation
    /// with one (6.1.1); a solicited Advertisement to a multicast group
    /// (7.1.2); a Redirect for a multicast destination, or whose target is
    /// neither link-local nor the destination (8.1). Option errors as in
    /// [`NdiscOptionIter`]. [`Error::Unsupported`] for other message types.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&'a T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<NdiscRepr<'a>> {
        packet.check_len()?;
        if fixed_len(packet.msg_type()).is_none() {
            return Err(Error::Unsupported);
        }
        if packet.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        let options = packet.ndisc_options();
        match packet.msg_type() {
            Icmpv6Type::RouterSolicit => {
                let lladdr = find_lladdr(options, NdiscOptionType::SourceLinkLayerAddr)?;
                if src.is_unspecified() && lladdr.is_some() {
                    return Err(Error::Malformed);
                }
                Ok(NdiscRepr::RouterSolicit { lladdr })
            }
            Icmpv6Type::RouterAdvert => {
                if !src.is_unicast_link_local() {
                    return Err(Error::Malformed);
                }
                Ok(NdiscRepr::RouterAdvert {
                    hop_limit: packet.cur_hop_limit(),
                    flags: packet.router_flags(),
                    router_lifetime: packet.router_lifetime(),
                    reachable_time: packet.reachable_time(),
                    retrans_time: packet.retrans_time(),
                    options: NdiscOptions::parse(options)?,
                })
            }
            Icmpv6Type::NeighborSolicit => {
                let target = packet.target_addr();
                if target.is_multicast() {
                    return Err(Error::Malformed);
                }
                let lladdr = find_lladdr(options, NdiscOptionType::SourceLinkLayerAddr)?;
                if src.is_unspecified() && (!is_solicited_node(dst) || lladdr.is_some()) {
                    return Err(Error::Malformed);
                }
                Ok(NdiscRepr::NeighborSolicit { target, lladdr })
            }
            Icmpv6Type::NeighborAdvert => {
                let target = packet.target_addr();
                let flags = packet.neighbor_flags();
                if target.is_multicast()
                    || (dst.is_multicast() && flags.contains(NeighborFlags::SOLICITED))
                {
                    return Err(Error::Malformed);
                }
                let lladdr = find_lladdr(options, NdiscOptionType::TargetLinkLayerAddr)?;
                Ok(NdiscRepr::NeighborAdvert {
                    flags,
                    target,
                    lladdr,
                })
            }
            _ => {
                // Redirect: the only other type fixed_len accepts.
                let target = packet.target_addr();
                let dest = packet.redirect_dest();
                if !src.is_unicast_link_local()
                    || dest.is_multicast()
                    || !(target.is_unicast_link_local() || target == dest)
                {
                    return Err(Error::Malformed);
                }
                let (mut lladdr, mut redirected) = (None, None);
                for option in NdiscOptionIter::new(options) {
                    match option? {
                        NdiscOption::TargetLinkLayerAddr(addr) => lladdr = lladdr.or(Some(addr)),
                        NdiscOption::RedirectedHeader(data) => {
                            redirected = redirected.or(Some(data))
                        }
                        _ => {}
                    }
                }
                Ok(NdiscRepr::Redirect {
                    target,
                    dest,
                    lladdr,
                    redirected,
                })
            }
        }
    }

    /// The ICMPv6 message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        match self {
            NdiscRepr::RouterSolicit { .. } => Icmpv6Type::RouterSolicit,
            NdiscRepr::RouterAdvert { .. } => Icmpv6Type::RouterAdvert,
            NdiscRepr::NeighborSolicit { .. } => Icmpv6Type::NeighborSolicit,
            NdiscRepr::NeighborAdvert { .. } => Icmpv6Type::NeighborAdvert,
            NdiscRepr::Redirect { .. } => Icmpv6Type::Redirect,
        }
    }

    /// The length of the whole message `emit` writes, options included.
    pub fn buffer_len(&self) -> usize {
        let lladdr_len = |lladdr: &Option<EthernetAddress>| {
            if lladdr.is_some() { field::OPT_UNIT } else { 0 }
        };
        match self {
            NdiscRepr::RouterSolicit { lladdr } => field::RS_OPTIONS + lladdr_len(lladdr),
            NdiscRepr::RouterAdvert { options, .. } => field::RA_OPTIONS + options.buffer_len(),
            NdiscRepr::NeighborSolicit { lladdr, .. }
            | NdiscRepr::NeighborAdvert { lladdr, .. } => {
                field::NEIGHBOR_OPTIONS + lladdr_len(lladdr)
            }
            NdiscRepr::Redirect {
                lladdr, redirected, ..
            } => {
                field::REDIRECT_OPTIONS
                    + lladdr_len(lladdr)
                    + redirected.map_or(0, |r| NdiscOption::RedirectedHeader(r).buffer_len())
            }
        }
    }

    /// Writes the whole message except the checksum into the first
    /// [`buffer_len`](Self::buffer_len) bytes of the packet; reserved
    /// fields are zeroed. [`Icmpv6Repr::emit`](super::icmpv6::Icmpv6Repr::emit)
    /// calls this and then fills the checksum. Panics if the buffer is
    /// shorter.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv6Packet<T>) {
        packet.set_msg_type(self.msg_type());
        packet.set_msg_code(0);
        packet.set_body_word(0);
        match *self {
            NdiscRepr::RouterSolicit { lladdr } => {
                if let Some(addr) = lladdr {
                    NdiscOption::SourceLinkLayerAddr(addr)
                        .emit(&mut packet.bytes_mut()[field::RS_OPTIONS..]);
                }
            }
            NdiscRepr::RouterAdvert {
                hop_limit,
                flags,
                router_lifetime,
                reachable_time,
                retrans_time,
                options,
            } => {
                packet.set_cur_hop_limit(hop_limit);
                packet.set_router_flags(flags);
                packet.set_router_lifetime(router_lifetime);
                packet.set_reachable_time(reachable_time);
                packet.set_retrans_time(retrans_time);
                options.emit(&mut packet.bytes_mut()[field::RA_OPTIONS..]);
            }
            NdiscRepr::NeighborSolicit { target, lladdr } => {
                packet.set_target_addr(target);
                if let Some(addr) = lladdr {
                    NdiscOption::SourceLinkLayerAddr(addr)
                        .emit(&mut packet.bytes_mut()[field::NEIGHBOR_OPTIONS..]);
                }
            }
            NdiscRepr::NeighborAdvert {
                flags,
                target,
                lladdr,
            } => {
                packet.set_neighbor_flags(flags);
                packet.set_target_addr(target);
                if let Some(addr) = lladdr {
                    NdiscOption::TargetLinkLayerAddr(addr)
                        .emit(&mut packet.bytes_mut()[field::NEIGHBOR_OPTIONS..]);
                }
            }
            NdiscRepr::Redirect {
                target,
                dest,
                lladdr,
                redirected,
            } => {
                packet.set_target_addr(target);
                packet.set_redirect_dest(dest);
                let mut at = field::REDIRECT_OPTIONS;
                if let Some(addr) = lladdr {
                    let option = NdiscOption::TargetLinkLayerAddr(addr);
                    option.emit(&mut packet.bytes_mut()[at..]);
                    at += option.buffer_len();
                }
                if let Some(data) = redirected {
                    NdiscOption::RedirectedHeader(data).emit(&mut packet.bytes_mut()[at..]);
                }
            }
        }
    }
}

impl fmt::Display for NdiscRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NdiscRepr::RouterSolicit { .. } => f.write_str("ICMPv6 router solicitation"),
            NdiscRepr::RouterAdvert {
                flags,
                router_lifetime,
                options,
                ..
            } => {
                write!(f, "ICMPv6 router advertisement lifetime {router_lifetime}s")?;
                if flags.intersects(RouterFlags::MANAGED | RouterFlags::OTHER) {
                    f.write_str(" [")?;
                    if flags.contains(RouterFlags::MANAGED) {
                        f.write_str("M")?;
                    }
                    if flags.contains(RouterFlags::OTHER) {
                        f.write_str("O")?;
                    }
                    f.write_str("]")?;
                }
                for option in options.iter() {
                    match option {
                        NdiscOption::PrefixInfo(info) => {
                            write!(f, " prefix {}/{}", info.prefix, info.prefix_len)?
                        }
                        NdiscOption::Mtu(mtu) => write!(f, " mtu {mtu}")?,
                        NdiscOption::Rdnss { servers, .. } => {
                            for server in servers {
                                write!(f, " rdnss {server}")?;
                            }
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            NdiscRepr::NeighborSolicit { target, .. } => {
                write!(f, "ICMPv6 neighbor solicitation who-has {target}")
            }
            NdiscRepr::NeighborAdvert {
                flags,
                target,
                lladdr,
            } => {
                write!(f, "ICMPv6 neighbor advertisement {target}")?;
                if let Some(addr) = lladdr {
                    write!(f, " is-at {addr}")?;
                }
                if !flags.is_empty() {
                    f.write_str(" [")?;
                    for (flag, letter) in [
                        (NeighborFlags::ROUTER, "R"),
                        (NeighborFlags::SOLICITED, "S"),
                        (NeighborFlags::OVERRIDE, "O"),
                    ] {
                        if flags.contains(flag) {
                            f.write_str(letter)?;
                        }
                    }
                    f.write_str("]")?;
                }
                Ok(())
            }
            NdiscRepr::Redirect { target, dest, .. } => {
                write!(f, "ICMPv6 redirect {dest} to {target}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;
    use crate::wire::icmpv6::Icmpv6Repr;
    use crate::wire::icmpv6::test_support::*;

    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const LL_A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
    const LL_B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
    const A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
    const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

    /// A router solicitation Linux sent when host b's link came up
    /// (scripts/capture.sh, filter 'icmp6'), fe80::ff:fe00:2 > ff02::2, with a
    /// source link-layer address option (ndisc-rs-ns-na.pcap frame 1).
    const ROUTER_SOLICIT: [u8; 70] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7b, 0x2a, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    ];

    /// `ping -6 -c 2 fd00::2` from host a: the neighbor solicitation before the
    /// first echo, fd00::1 > ff02::1:ff00:2, who-has fd00::2, source link-layer
    /// address 02:00:00:00:00:01 (ndisc-rs-ns-na.pcap frame 2).
    const NEIGHBOR_SOLICIT: [u8; 86] = [
        0x33, 0x33, 0xff, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x02, 0x87, 0x00, 0x7d, 0x97, 0x00, 0x00,
        0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    /// Host b's answer to [`NEIGHBOR_SOLICIT`]: solicited + override, target
    /// link-layer address 02:00:00:00:00:02 (ndisc-rs-ns-na.pcap frame 3).
    const NEIGHBOR_ADVERT: [u8; 86] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x1c, 0x9a, 0x60, 0x00,
        0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    ];

    /// Host a answering a unicast reachability probe from host b (during the
    /// redirect capture below): solicited only, no option (ndisc-na-unicast.pcap).
    const NEIGHBOR_ADVERT_NO_OPTION: [u8; 78] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0x88, 0x00, 0x3f, 0x26, 0x40, 0x00,
        0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe,
        0x00, 0x00, 0x01,
    ];

    /// Duplicate address detection for `ip -6 addr add fd00::9/64 dev eth0` on
    /// host a: from ::, to ff02::1:ff00:9, carrying only a nonce option (type 14,
    /// RFC 7527), which the parser skips (ndisc-dad.pcap).
    const DAD_SOLICIT: [u8; 86] = [
        0x33, 0x33, 0xff, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x09, 0x87, 0x00, 0x56, 0x10, 0x00, 0x00,
        0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x09, 0x0e, 0x01, 0x03, 0x31, 0xd0, 0x5c, 0x45, 0xee,
    ];

    /// An unsolicited router advertisement from `dnsmasq --enable-ra
    /// --dhcp-range=fd00::,ra-only,64,1h` on host b: lifetime 1800 s, prefix
    /// information fd00::/64 (L, A, 3600 s / 3600 s), MTU 1500, source link-layer
    /// address, RDNSS fe80::ff:fe00:2 for 3600 s (ndisc-ra.pcap).
    const ROUTER_ADVERT: [u8; 142] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x6c,
        0x0e, 0x6f, 0x61, 0x00, 0x58, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0x00, 0xa6, 0x82, 0x40, 0x00,
        0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x04, 0x40, 0xc0, 0x00,
        0x00, 0x0e, 0x10, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x05, 0xdc, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x19, 0x03,
        0x00, 0x00, 0x00, 0x00, 0x0e, 0x10, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02,
    ];

    /// Host b (forwarding, route to fd01::/64 via fe80::ff:fe00:1 on the same
    /// link) redirecting host a's `ping -6 -c1 fd01::5` to host a itself: target
    /// fe80::ff:fe00:1, destination fd01::5, target link-layer address
    /// 02:00:00:00:00:01, and the first 104 bytes of the echo request in a
    /// redirected header option (ndisc-redirect.pcap).
    const REDIRECT: [u8; 214] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0xa0, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x89, 0x00, 0x07, 0x71, 0x00, 0x00,
        0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe,
        0x00, 0x00, 0x01, 0xfd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x0e, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x04, 0xd7, 0x8b, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
        0x80, 0x00, 0x52, 0x0c, 0x38, 0x8b, 0x00, 0x01, 0x7c, 0x1b, 0x02, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0xbd, 0x8a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];

    const FIXTURES: [&[u8]; 7] = [
        &ROUTER_SOLICIT,
        &NEIGHBOR_SOLICIT,
        &NEIGHBOR_ADVERT,
        &NEIGHBOR_ADVERT_NO_OPTION,
        &DAD_SOLICIT,
        &ROUTER_ADVERT,
        &REDIRECT,
    ];

    fn ndisc(repr: Icmpv6Repr<'_>) -> NdiscRepr<'_> {
        match repr {
            Icmpv6Repr::Ndisc(n) => n,
            other => panic!("not NDISC: {other:?}"),
        }
    }

    /// A copy of the message of `frame` with `edit` applied and the
    /// checksum refilled, and its addresses.
    fn tampered(frame: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> (Vec<u8>, Ipv6Addr, Ipv6Addr) {
        let (msg, src, dst) = split(frame, 0);
        let mut bytes = msg.to_vec();
        edit(&mut bytes);
        refill(&mut bytes, src, dst);
        (bytes, src, dst)
    }

    #[test]
    fn router_solicit_fixture() {
        let (msg, src, dst) = split(&ROUTER_SOLICIT, 0);
        assert_eq!(
            (src, dst),
            (LL_B, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2))
        );
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            ndisc(repr),
            NdiscRepr::RouterSolicit {
                lladdr: Some(MAC_B)
            }
        );
        assert_eq!(show(&repr), "ICMPv6 router solicitation");
    }

    #[test]
    fn neighbor_solicit_fixture() {
        let (msg, src, dst) = split(&NEIGHBOR_SOLICIT, 0);
        assert_eq!(dst, solicited_node(B));
        assert!(is_solicited_node(dst));
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(packet.target_addr(), B);
        assert_eq!(packet.ndisc_options(), &[1, 1, 2, 0, 0, 0, 0, 1]);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            ndisc(repr),
            NdiscRepr::NeighborSolicit {
                target: B,
                lladdr: Some(MAC_A)
            }
        );
        assert_eq!(show(&repr), "ICMPv6 neighbor solicitation who-has fd00::2");
    }

    #[test]
    fn neighbor_advert_fixture() {
        let (msg, src, dst) = split(&NEIGHBOR_ADVERT, 0);
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(
            packet.neighbor_flags(),
            NeighborFlags::SOLICITED | NeighborFlags::OVERRIDE
        );
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            ndisc(repr),
            NdiscRepr::NeighborAdvert {
                flags: NeighborFlags::SOLICITED | NeighborFlags::OVERRIDE,
                target: B,
                lladdr: Some(MAC_B)
            }
        );
        assert_eq!(
            show(&repr),
            "ICMPv6 neighbor advertisement fd00::2 is-at 02:00:00:00:00:02 [SO]"
        );
    }

    #[test]
    fn neighbor_advert_without_option_fixture() {
        let (msg, src, dst) = split(&NEIGHBOR_ADVERT_NO_OPTION, 0);
        assert_eq!(msg.len(), 24);
        let repr = parse_and_reemit(msg, src, dst);
        assert_eq!(
            ndisc(repr),
            NdiscRepr::NeighborAdvert {
                flags: NeighborFlags::SOLICITED,
                target: LL_A,
                lladdr: None
            }
        );
        assert_eq!(
            show(&repr),
            "ICMPv6 neighbor advertisement fe80::ff:fe00:1 [S]"
        );
    }

    #[test]
    fn dad_solicit_fixture() {
        let (msg, src, dst) = split(&DAD_SOLICIT, 0);
        assert!(src.is_unspecified());
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        // The only option is the nonce, type 14, which is not interpreted.
        let options: Vec<_> = NdiscOptionIter::new(packet.ndisc_options()).collect();
        assert_eq!(options.len(), 1);
        assert!(matches!(
            options[0],
            Ok(NdiscOption::Unknown { kind: 14, data }) if data.len() == 6
        ));
        let repr = parse(msg, src, dst).unwrap();
        let target = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 9);
        assert_eq!(
            ndisc(repr),
            NdiscRepr::NeighborSolicit {
                target,
                lladdr: None
            }
        );
        assert_eq!(dst, solicited_node(target));
        assert_eq!(show(&repr), "ICMPv6 neighbor solicitation who-has fd00::9");
        // Unknown options are not re-emitted: the emitted message is the
        // fixture without the nonce.
        let out = emit(&repr, src, dst);
        assert_eq!(out.len(), 24);
        assert_eq!(out[4..], msg[4..24]);
        assert_eq!(parse(&out, src, dst), Ok(repr));
    }

    #[test]
    fn router_advert_fixture() {
        let (msg, src, dst) = split(&ROUTER_ADVERT, 0);
        assert_eq!((src, dst), (LL_B, ALL_NODES));
        let repr = parse_and_reemit(msg, src, dst);
        let NdiscRepr::RouterAdvert {
            hop_limit,
            flags,
            router_lifetime,
            reachable_time,
            retrans_time,
            options,
        } = ndisc(repr)
        else {
            panic!("{repr:?}");
        };
        assert_eq!(hop_limit, 64);
        assert_eq!(flags, RouterFlags::empty());
        assert_eq!(
            (router_lifetime, reachable_time, retrans_time),
            (1800, 0, 0)
        );
        let prefix = PrefixInfo {
            prefix_len: 64,
            flags: PrefixInfoFlags::ON_LINK | PrefixInfoFlags::AUTONOMOUS,
            valid_lifetime: 3600,
            preferred_lifetime: 3600,
            prefix: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0),
        };
        let servers = [LL_B];
        let expected = [
            NdiscOption::PrefixInfo(prefix),
            NdiscOption::Mtu(1500),
            NdiscOption::SourceLinkLayerAddr(MAC_B),
            NdiscOption::Rdnss {
                lifetime: 3600,
                servers: Ipv6AddrList::from_addrs(&servers),
            },
        ];
        assert!(options.iter().eq(expected.iter().copied()));
        assert_eq!(options, NdiscOptions::from_list(&expected));
        assert_eq!(options.source_lladdr(), Some(MAC_B));
        assert_eq!(options.target_lladdr(), None);
        assert_eq!(options.mtu(), Some(1500));
        assert!(options.prefixes().eq([prefix]));
        assert_eq!(options.as_bytes(), Some(&msg[16..]));
        assert_eq!(
            show(&repr),
            "ICMPv6 router advertisement lifetime 1800s prefix fd00::/64 mtu 1500 \
             rdnss fe80::ff:fe00:2"
        );

        // The same advertisement built from typed options emits the same
        // bytes (dnsmasq leaves every reserved field zero).
        let built = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            flags: RouterFlags::empty(),
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_time: 0,
            options: NdiscOptions::from_list(&expected),
        });
        assert_eq!(built, repr);
        assert_eq!(emit(&built, src, dst), msg);
    }

    #[test]
    fn redirect_fixture() {
        let (msg, src, dst) = split(&REDIRECT, 0);
        assert_eq!((src, dst), (LL_B, A));
        let packet = Icmpv6Packet::new_checked(msg).unwrap();
        assert_eq!(
            packet.redirect_dest(),
            Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 5)
        );
        let repr = parse_and_reemit(msg, src, dst);
        let NdiscRepr::Redirect {
            target,
            dest,
            lladdr,
            redirected,
        } = ndisc(repr)
        else {
            panic!("{repr:?}");
        };
        assert_eq!(target, LL_A);
        assert_eq!(dest, Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 5));
        assert_eq!(lladdr, Some(MAC_A));
        // The redirected echo request: its IPv6 header and ICMPv6 message.
        let redirected = redirected.unwrap();
        assert_eq!(redirected.len(), 104);
        assert_eq!(redirected[0] >> 4, 6);
        assert_eq!(redirected[6], 58);
        assert_eq!(redirected[24..40], dest.octets());
        assert_eq!(redirected[40], 128);
        assert_eq!(show(&repr), "ICMPv6 redirect fd01::5 to fe80::ff:fe00:1");
    }

    #[test]
    fn every_prefix_of_every_fixture() {
        for frame in FIXTURES {
            let (msg, src, dst) = split(frame, 0);
            all_prefixes(msg, src, dst);
        }
    }

    #[test]
    fn truncated_fixed_part() {
        let (msg, _, _) = split(&NEIGHBOR_SOLICIT, 0);
        assert_eq!(
            Icmpv6Packet::new_checked(&msg[..23]).err(),
            Some(Error::Truncated)
        );
        let (msg, _, _) = split(&REDIRECT, 0);
        assert_eq!(
            Icmpv6Packet::new_checked(&msg[..39]).err(),
            Some(Error::Truncated)
        );
        let (msg, _, _) = split(&ROUTER_ADVERT, 0);
        assert_eq!(
            Icmpv6Packet::new_checked(&msg[..15]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn bad_checksum() {
        let (msg, src, dst) = split(&NEIGHBOR_ADVERT, 0);
        let mut bytes = msg.to_vec();
        bytes[31] ^= 0x80;
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadChecksum));
    }

    #[test]
    fn option_length_zero_is_bad_option() {
        // RFC 4861 7.1.1: an option of length 0 makes the whole message
        // invalid (and would loop a naive walker forever).
        let (bytes, src, dst) = tampered(&NEIGHBOR_SOLICIT, |b| b[25] = 0);
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadOption));
        assert_eq!(
            NdiscOptionIter::new(&bytes[24..]).collect::<Vec<_>>(),
            [Err(Error::BadOption)]
        );
    }

    #[test]
    fn option_overrun_is_bad_option() {
        // The link-layer address option claims 16 bytes; 8 are there.
        let (bytes, src, dst) = tampered(&NEIGHBOR_ADVERT, |b| b[25] = 2);
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadOption));
        // RA: the RDNSS option at the end claims one unit more.
        let (bytes, src, dst) = tampered(&ROUTER_ADVERT, |b| {
            let last = b.len() - 24;
            assert_eq!(b[last], 25);
            b[last + 1] = 5;
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadOption));
        // Trailing bytes too short for an option header.
        let (bytes, src, dst) = tampered(&ROUTER_SOLICIT, |b| b.push(1));
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadOption));
    }

    #[test]
    fn wrong_fixed_option_size_is_bad_option() {
        // A 16-byte source link-layer address option.
        let (bytes, src, dst) = tampered(&ROUTER_SOLICIT, |b| {
            b[9] = 2;
            b.extend_from_slice(&[0; 8]);
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::BadOption));
        // Prefix information of 3 units, MTU of 2 units, RDNSS of 2 units.
        for (kind, units) in [(3u8, 3u8), (5, 2), (25, 2), (25, 1)] {
            let mut opt = [0u8; 24];
            opt[0] = kind;
            opt[1] = units;
            let len = usize::from(units) * 8;
            assert_eq!(
                NdiscOption::parse(&opt[..len]),
                Err(Error::BadOption),
                "kind {kind} units {units}"
            );
        }
    }

    #[test]
    fn prefix_length_over_128_is_malformed() {
        let (bytes, src, dst) = tampered(&ROUTER_ADVERT, |b| {
            assert_eq!(b[16], 3);
            b[18] = 129;
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
    }

    #[test]
    fn option_walk_always_ends() {
        // Many minimal options: one step each, never more than len / 8.
        let mut bytes = [0u8; 512];
        for unit in bytes.chunks_exact_mut(8) {
            unit[0] = 200;
            unit[1] = 1;
        }
        assert_eq!(NdiscOptionIter::new(&bytes).count(), 64);
        // Arbitrary bytes: the walk ends, within len / 8 + 1 steps.
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..2000 {
            for b in bytes.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            let len = (x as usize) % bytes.len();
            let steps = NdiscOptionIter::new(&bytes[..len]).count();
            assert!(steps <= len / 8 + 1);
        }
    }

    #[test]
    fn nonzero_code_is_malformed() {
        let (bytes, src, dst) = tampered(&NEIGHBOR_SOLICIT, |b| b[1] = 1);
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
    }

    #[test]
    fn multicast_target_is_malformed() {
        // NA target ff02::1 (RFC 4861 7.1.2).
        let (bytes, src, dst) = tampered(&NEIGHBOR_ADVERT, |b| {
            b[8..24].copy_from_slice(&ALL_NODES.octets())
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
        // NS target ff02::1 (7.1.1).
        let (bytes, src, dst) = tampered(&NEIGHBOR_SOLICIT, |b| {
            b[8..24].copy_from_slice(&ALL_NODES.octets())
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
    }

    #[test]
    fn solicited_advert_to_multicast_is_malformed() {
        let (msg, src, _) = split(&NEIGHBOR_ADVERT, 0);
        let mut bytes = msg.to_vec();
        refill(&mut bytes, src, ALL_NODES);
        assert_eq!(parse(&bytes, src, ALL_NODES), Err(Error::Malformed));
        // Unsolicited (S clear) it is fine.
        bytes[4] = NeighborFlags::OVERRIDE.bits();
        refill(&mut bytes, src, ALL_NODES);
        assert!(parse(&bytes, src, ALL_NODES).is_ok());
    }

    #[test]
    fn unspecified_source_rules() {
        // DAD solicitation with a source link-layer address (7.1.1).
        let (msg, _, dst) = split(&NEIGHBOR_SOLICIT, 0);
        let mut bytes = msg.to_vec();
        let any = Ipv6Addr::UNSPECIFIED;
        refill(&mut bytes, any, dst);
        assert_eq!(parse(&bytes, any, dst), Err(Error::Malformed));
        // DAD solicitation not sent to a solicited-node group.
        let (msg, _, _) = split(&DAD_SOLICIT, 0);
        let mut bytes = msg.to_vec();
        refill(&mut bytes, any, ALL_NODES);
        assert_eq!(parse(&bytes, any, ALL_NODES), Err(Error::Malformed));
        // Router solicitation from :: with a link-layer address (6.1.1).
        let (msg, _, dst) = split(&ROUTER_SOLICIT, 0);
        let mut bytes = msg.to_vec();
        refill(&mut bytes, any, dst);
        assert_eq!(parse(&bytes, any, dst), Err(Error::Malformed));
    }

    #[test]
    fn advert_and_redirect_need_link_local_source() {
        let (msg, _, dst) = split(&ROUTER_ADVERT, 0);
        let mut bytes = msg.to_vec();
        refill(&mut bytes, B, dst);
        assert_eq!(parse(&bytes, B, dst), Err(Error::Malformed));
        let (msg, _, dst) = split(&REDIRECT, 0);
        let mut bytes = msg.to_vec();
        refill(&mut bytes, B, dst);
        assert_eq!(parse(&bytes, B, dst), Err(Error::Malformed));
    }

    #[test]
    fn redirect_destination_and_target_rules() {
        // A multicast destination (8.1).
        let (bytes, src, dst) = tampered(&REDIRECT, |b| {
            b[24..40].copy_from_slice(&ALL_NODES.octets())
        });
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
        // A global target that is not the destination.
        let (bytes, src, dst) = tampered(&REDIRECT, |b| b[8..24].copy_from_slice(&B.octets()));
        assert_eq!(parse(&bytes, src, dst), Err(Error::Malformed));
        // The destination itself is on-link: target == destination.
        let (bytes, src, dst) = tampered(&REDIRECT, |b| {
            let dest: [u8; 16] = b[24..40].try_into().unwrap();
            b[8..24].copy_from_slice(&dest);
        });
        assert!(parse(&bytes, src, dst).is_ok());
    }

    #[test]
    fn every_option_kind_round_trips() {
        let prefix = PrefixInfo {
            prefix_len: 48,
            flags: PrefixInfoFlags::ON_LINK,
            valid_lifetime: u32::MAX,
            preferred_lifetime: 600,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
        };
        let servers = [A, B, LL_A];
        let quoted = [0x60u8, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let unknown = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
        let options = [
            NdiscOption::SourceLinkLayerAddr(MAC_A),
            NdiscOption::TargetLinkLayerAddr(MAC_B),
            NdiscOption::PrefixInfo(prefix),
            NdiscOption::RedirectedHeader(&quoted),
            NdiscOption::Mtu(9000),
            NdiscOption::Rdnss {
                lifetime: 10,
                servers: Ipv6AddrList::from_addrs(&servers),
            },
            NdiscOption::Unknown {
                kind: 31,
                data: &unknown,
            },
        ];
        let lens: Vec<usize> = options.iter().map(NdiscOption::buffer_len).collect();
        assert_eq!(lens, [8, 8, 32, 24, 8, 56, 16]);
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 255,
            flags: RouterFlags::MANAGED | RouterFlags::OTHER | RouterFlags::from_bits_retain(0x08),
            router_lifetime: 0,
            reachable_time: 30_000,
            retrans_time: 1000,
            options: NdiscOptions::from_list(&options),
        });
        let out = emit(&repr, LL_B, ALL_NODES);
        assert_eq!(out.len(), 16 + 152);
        assert_eq!(out[5], 0xc8, "unnamed flag bits are kept");
        let parsed = parse(&out, LL_B, ALL_NODES).unwrap();
        // Padding shows up in the parsed variable-length options, so
        // compare those by their front.
        let NdiscRepr::RouterAdvert { options: got, .. } = ndisc(parsed) else {
            panic!()
        };
        let got: Vec<_> = got.iter().collect();
        assert_eq!(got.len(), options.len());
        assert_eq!(got[..3], options[..3]);
        assert!(
            matches!(got[3], NdiscOption::RedirectedHeader(d) if d[..10] == quoted && d.len() == 16)
        );
        assert_eq!(got[4..6], options[4..6]);
        assert!(matches!(got[6], NdiscOption::Unknown { kind: 31, data } if data == unknown));
        assert_eq!(
            show(&parsed),
            "ICMPv6 router advertisement lifetime 0s [MO] prefix 2001:db8:1::/48 mtu 9000 \
             rdnss fd00::1 rdnss fd00::2 rdnss fe80::ff:fe00:1"
        );
        // And a parsed advertisement re-emits byte for byte.
        assert_eq!(emit(&parsed, LL_B, ALL_NODES), out);
    }

    #[test]
    fn oversized_option_data_is_cut_to_one_option() {
        let big = [0u8; 3000];
        let option = NdiscOption::RedirectedHeader(&big);
        assert_eq!(option.buffer_len(), 255 * 8);
        let mut out = [0u8; 255 * 8];
        option.emit(&mut out);
        assert_eq!(out[..2], [4, 255]);
        assert_eq!(NdiscOption::parse(&out).map(|(_, len)| len), Ok(255 * 8));
        let many = [A; 200];
        let rdnss = NdiscOption::Rdnss {
            lifetime: 1,
            servers: Ipv6AddrList::from_addrs(&many),
        };
        assert_eq!(rdnss.buffer_len(), 8 + 16 * 127);
    }

    #[test]
    fn redirect_and_solicit_round_trip() {
        let quoted = [0x60u8; 20];
        let dest = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
        for lladdr in [None, Some(MAC_A)] {
            for redirected in [None, Some(&quoted[..16])] {
                let repr = Icmpv6Repr::Ndisc(NdiscRepr::Redirect {
                    target: LL_A,
                    dest,
                    lladdr,
                    redirected,
                });
                let out = emit(&repr, LL_B, A);
                assert_eq!(parse(&out, LL_B, A), Ok(repr));
            }
            let rs = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { lladdr });
            let out = emit(&rs, LL_A, ALL_NODES);
            assert_eq!(parse(&out, LL_A, ALL_NODES), Ok(rs));
        }
    }

    #[test]
    fn solicited_node_groups() {
        let addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0x1234, 0x5678);
        assert_eq!(
            solicited_node(addr),
            Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff34, 0x5678)
        );
        assert!(is_solicited_node(solicited_node(addr)));
        assert!(!is_solicited_node(ALL_NODES));
    }
}
