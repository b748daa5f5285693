//! IGMPv1 and IGMPv2 (RFC 1112, RFC 2236), as a host speaks them.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Type     | Max Resp Time |           Checksum            |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Group Address                         |  4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! IGMPv3 query (RFC 3376 section 4.1), from offset 8:
//! | Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |  8
//! |                  Source Address [1 .. N]                      | 12
//! ```
//!
//! The view expects the whole IGMP message, that is the IPv4 payload as
//! bounded by the IPv4 Total Length: the checksum covers all of it (RFC
//! 2236 section 2.3), so link-layer padding must not be included.
//!
//! Versions of a query are told apart as RFC 3376 section 7.1 says: an
//! 8-byte query with Max Resp Time 0 is IGMPv1, any other 8-byte query is
//! IGMPv2, a query of 12 bytes or more is IGMPv3, and a query of 9 to 11
//! bytes is [`Error::BadLength`]. IGMPv3 queries are parsed, so that a
//! v2 host answers them as RFC 3376 section 7.2 expects of an older host:
//! the Max Resp Code is decoded (it may be in the exponential form) and the
//! v3-only fields (S flag, QRV, QQIC, sources) are dropped. IGMPv3 reports
//! (type 0x22) are [`Error::Unsupported`].
//!
//! ```
//! use ethox::wire::ChecksumMode;
//! use ethox::wire::igmp::{IgmpPacket, IgmpRepr, IgmpVersion};
//! use ethox::wire::ip::Ipv4Addr;
//!
//! let repr = IgmpRepr::MembershipReport {
//!     group_addr: Ipv4Addr::new(224, 0, 0, 251),
//!     version: IgmpVersion::Version2,
//! };
//! let mut bytes = [0u8; 8];
//! repr.emit(&mut IgmpPacket::new_unchecked(&mut bytes[..]), ChecksumMode::Software);
//! assert_eq!(bytes, [0x16, 0, 0x09, 0x04, 224, 0, 0, 251]);
//! let packet = IgmpPacket::new_checked(&bytes[..]).unwrap();
//! assert_eq!(IgmpRepr::parse(&packet, ChecksumMode::Software), Ok(repr));
//! assert_eq!(repr.to_string(), "IGMPv2 report 224.0.0.251");
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum;
use super::ip::Ipv4Addr;
use super::{ChecksumMode, Error, Result, array};

/// 224.0.0.1, all systems on this subnet: where general queries go.
pub const ALL_SYSTEMS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);

/// 224.0.0.2, all routers on this subnet: where leaves go (RFC 2236
/// section 3).
pub const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);

enum_with_unknown! {
    /// The IGMP message type.
    pub enum IgmpMessageType(u8) {
        /// Membership query, any version.
        MembershipQuery = 0x11,
        /// IGMPv1 membership report.
        MembershipReportV1 = 0x12,
        /// IGMPv2 membership report.
        MembershipReportV2 = 0x16,
        /// IGMPv2 leave group.
        LeaveGroup = 0x17,
        /// IGMPv3 membership report (not parsed by [`IgmpRepr`]).
        MembershipReportV3 = 0x22,
    }
}

/// An IGMP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgmpVersion {
    /// RFC 1112.
    Version1,
    /// RFC 2236.
    Version2,
    /// RFC 3376 (queries only).
    Version3,
}

impl IgmpVersion {
    const fn number(self) -> u8 {
        match self {
            IgmpVersion::Version1 => 1,
            IgmpVersion::Version2 => 2,
            IgmpVersion::Version3 => 3,
        }
    }
}

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const MAX_RESP_CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const GROUP_ADDR: Range<usize> = 4..8;
    pub const HEADER_LEN: usize = 8;

    // IGMPv3 query only.
    pub const V3_QRV_FLAGS: usize = 8;
    pub const V3_QQIC: usize = 9;
    pub const V3_NUM_SOURCES: Range<usize> = 10..12;
    pub const V3_QUERY_LEN: usize = 12;
}

/// The length of an IGMPv1 / IGMPv2 message.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// The length of an IGMPv3 query without sources.
pub const V3_QUERY_LEN: usize = field::V3_QUERY_LEN;

/// A byte view of an IGMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IgmpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> IgmpPacket<T> {
        IgmpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<IgmpPacket<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 8-byte message is present ([`Error::Truncated`]
    /// otherwise). The IGMPv3 query fields are checked by
    /// [`IgmpRepr::parse`], which is the only reader of them.
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
    pub fn msg_type(&self) -> IgmpMessageType {
        self.buffer.as_ref()[field::TYPE].into()
    }

    /// The Max Resp Time octet as it is on the wire: tenths of a second
    /// in IGMPv2, zero in IGMPv1, a Max Resp Code in IGMPv3 (see
    /// [`IgmpRepr`] for the decoded value).
    pub fn max_resp_code(&self) -> u8 {
        self.buffer.as_ref()[field::MAX_RESP_CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The group address (zero in general queries).
    pub fn group_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::GROUP_ADDR]))
    }

    /// Whether the checksum over the whole buffer is correct (RFC 2236
    /// section 2.3: over the whole IGMP message, that is the entire IP
    /// payload, not only the first 8 bytes).
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(checksum::sum(self.buffer.as_ref()))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IgmpPacket<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: IgmpMessageType) {
        self.buffer.as_mut()[field::TYPE] = value.into()
    }

    /// Sets the Max Resp Time / Code octet.
    pub fn set_max_resp_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::MAX_RESP_CODE] = value
    }

    /// Sets the checksum field to a given value.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// Sets the group address.
    pub fn set_group_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::GROUP_ADDR].copy_from_slice(&addr.octets())
    }

    /// Computes the checksum over the whole buffer and stores it. The
    /// buffer must be exactly the message that will be sent.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::sum(self.buffer.as_ref());
        self.set_checksum(checksum::finish(sum));
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for IgmpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Decodes an IGMPv3 Max Resp Code into tenths of a second (RFC 3376
/// section 4.1.1): below 128 the value itself, from 128 on a floating
/// point number `1 exp(3) mant(4)` worth `(mant | 0x10) << (exp + 3)`.
pub const fn decode_max_resp_code(code: u8) -> u16 {
    if code < 128 {
        return code as u16;
    }
    let exp = (code >> 4) & 0x07;
    let mant = code & 0x0f;
    ((mant as u16) | 0x10) << (exp + 3)
}

/// Encodes tenths of a second as an IGMPv3 Max Resp Code, rounding down
/// to the nearest value the code can express (and saturating at 31744).
pub const fn encode_max_resp_code(tenths: u16) -> u8 {
    if tenths < 128 {
        return tenths as u8;
    }
    let mut exp = 0u8;
    while exp < 8 {
        let scaled = tenths >> (exp + 3);
        if scaled < 0x20 {
            return 0x80 | (exp << 4) | (scaled as u8 & 0x0f);
        }
        exp += 1;
    }
    0xff
}

/// A parsed IGMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgmpRepr {
    /// A membership query, general (group unspecified) or for one group.
    MembershipQuery {
        /// The longest time a host may wait before it reports, in tenths
        /// of a second: the decoded Max Resp Code for IGMPv3, and 0 for
        /// IGMPv1, which has no such field (an IGMPv2 host then uses 100,
        /// RFC 2236 section 4).
        max_resp_time: u16,
        /// The group asked about, or `0.0.0.0` for a general query.
        /// Always `0.0.0.0` for IGMPv1, whose receivers ignore the field
        /// (RFC 1112 appendix I).
        group_addr: Ipv4Addr,
        /// The query version, per RFC 3376 section 7.1.
        version: IgmpVersion,
    },
    /// A membership report: the sender has members of `group_addr`.
    MembershipReport {
        /// The group reported.
        group_addr: Ipv4Addr,
        /// [`IgmpVersion::Version1`] (type 0x12) or
        /// [`IgmpVersion::Version2`] (type 0x16); `emit` writes
        /// `Version3` as a v2 report, since v3 reports have another
        /// format.
        version: IgmpVersion,
    },
    /// An IGMPv2 leave: the sender may have been the last member.
    LeaveGroup {
        /// The group left.
        group_addr: Ipv4Addr,
    },
}

impl IgmpRepr {
    /// Parses a message.
    ///
    /// * [`Error::BadChecksum`]: with [`ChecksumMode::Software`], the
    ///   checksum over the whole message is wrong.
    /// * [`Error::BadLength`]: a query of 9 to 11 bytes, which RFC 3376
    ///   section 7.1 says to ignore.
    /// * [`Error::Truncated`]: an IGMPv3 query with fewer source addresses
    ///   than its Number of Sources says.
    /// * [`Error::Malformed`]: a report or leave for an address that is
    ///   not multicast, or a query whose group is neither `0.0.0.0` nor
    ///   multicast.
    /// * [`Error::Unsupported`]: IGMPv3 reports and other types (DVMRP,
    ///   mtrace, ...).
    /// * Whatever [`IgmpPacket::check_len`] reports.
    ///
    /// Bytes after the first 8 of a v1/v2 message are ignored, as RFC
    /// 2236 section 2.5 requires; they still count for the checksum.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &IgmpPacket<T>,
        checksum: ChecksumMode,
    ) -> Result<IgmpRepr> {
        packet.check_len()?;
        if checksum.in_software() && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let group_addr = packet.group_addr();
        let len = packet.buffer.as_ref().len();
        match packet.msg_type() {
            IgmpMessageType::MembershipQuery => {
                let code = packet.max_resp_code();
                let (version, max_resp_time, group_addr) = if len == field::HEADER_LEN {
                    if code == 0 {
                        (IgmpVersion::Version1, 0, Ipv4Addr::UNSPECIFIED)
                    } else {
                        (IgmpVersion::Version2, code as u16, group_addr)
                    }
                } else if len >= field::V3_QUERY_LEN {
                    check_v3_sources(packet.buffer.as_ref())?;
                    (
                        IgmpVersion::Version3,
                        decode_max_resp_code(code),
                        group_addr,
                    )
                } else {
                    return Err(Error::BadLength);
                };
                if !group_addr.is_unspecified() && !group_addr.is_multicast() {
                    return Err(Error::Malformed);
                }
                Ok(IgmpRepr::MembershipQuery {
                    max_resp_time,
                    group_addr,
                    version,
                })
            }
            kind @ (IgmpMessageType::MembershipReportV1
            | IgmpMessageType::MembershipReportV2
            | IgmpMessageType::LeaveGroup) => {
                if !group_addr.is_multicast() {
                    return Err(Error::Malformed);
                }
                Ok(match kind {
                    IgmpMessageType::MembershipReportV1 => IgmpRepr::MembershipReport {
                        group_addr,
                        version: IgmpVersion::Version1,
                    },
                    IgmpMessageType::MembershipReportV2 => IgmpRepr::MembershipReport {
                        group_addr,
                        version: IgmpVersion::Version2,
                    },
                    _ => IgmpRepr::LeaveGroup { group_addr },
                })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// The message length `emit` writes: 8, or 12 for an IGMPv3 query.
    pub const fn buffer_len(&self) -> usize {
        match self {
            IgmpRepr::MembershipQuery {
                version: IgmpVersion::Version3,
                ..
            } => field::V3_QUERY_LEN,
            _ => field::HEADER_LEN,
        }
    }

    /// Where the message is sent (RFC 2236 section 9, RFC 1112 appendix
    /// I): general queries to all systems, group queries and reports to
    /// the group, leaves to all routers.
    pub const fn dst_addr(&self) -> Ipv4Addr {
        match *self {
            IgmpRepr::MembershipQuery { group_addr, .. } if group_addr.is_unspecified() => {
                ALL_SYSTEMS
            }
            IgmpRepr::MembershipQuery { group_addr, .. }
            | IgmpRepr::MembershipReport { group_addr, .. } => group_addr,
            IgmpRepr::LeaveGroup { .. } => ALL_ROUTERS,
        }
    }

    /// Writes the message into `packet`.
    ///
    /// The view must span exactly [`buffer_len`](Self::buffer_len) bytes:
    /// with [`ChecksumMode::Software`] the checksum is computed over the
    /// whole view, as a receiver will check it over the whole IP payload.
    /// With [`ChecksumMode::Offloaded`] the field is left zero (IGMP has
    /// no device offload in practice; call
    /// [`fill_checksum`](IgmpPacket::fill_checksum) later).
    ///
    /// An IGMPv1 query writes Max Resp Time 0 and group 0 whatever the
    /// fields say; an IGMPv2 query with a time of 0 would read back as
    /// IGMPv1, and a time above 255 is written as 255. An IGMPv3 query
    /// encodes the time as a Max Resp Code and writes S = 0 with the RFC
    /// 3376 section 8 defaults QRV 2 and QQIC 125, and no sources.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut IgmpPacket<T>,
        checksum: ChecksumMode,
    ) {
        match *self {
            IgmpRepr::MembershipQuery {
                max_resp_time,
                group_addr,
                version,
            } => {
                packet.set_msg_type(IgmpMessageType::MembershipQuery);
                match version {
                    IgmpVersion::Version1 => {
                        packet.set_max_resp_code(0);
                        packet.set_group_addr(Ipv4Addr::UNSPECIFIED);
                    }
                    IgmpVersion::Version2 => {
                        let time = u8::try_from(max_resp_time).unwrap_or(u8::MAX);
                        packet.set_max_resp_code(time);
                        packet.set_group_addr(group_addr);
                    }
                    IgmpVersion::Version3 => {
                        packet.set_max_resp_code(encode_max_resp_code(max_resp_time));
                        packet.set_group_addr(group_addr);
                        let buf = packet.buffer.as_mut();
                        buf[field::V3_QRV_FLAGS] = 2;
                        buf[field::V3_QQIC] = 125;
                        NetworkEndian::write_u16(&mut buf[field::V3_NUM_SOURCES], 0);
                    }
                }
            }
            IgmpRepr::MembershipReport {
                group_addr,
                version,
            } => {
                packet.set_msg_type(match version {
                    IgmpVersion::Version1 => IgmpMessageType::MembershipReportV1,
                    _ => IgmpMessageType::MembershipReportV2,
                });
                packet.set_max_resp_code(0);
                packet.set_group_addr(group_addr);
            }
            IgmpRepr::LeaveGroup { group_addr } => {
                packet.set_msg_type(IgmpMessageType::LeaveGroup);
                packet.set_max_resp_code(0);
                packet.set_group_addr(group_addr);
            }
        }
        packet.set_checksum(0);
        if checksum.in_software() {
            packet.fill_checksum();
        }
    }
}

/// Checks that an IGMPv3 query holds the source addresses it announces.
fn check_v3_sources(message: &[u8]) -> Result<()> {
    let count = message
        .get(field::V3_NUM_SOURCES)
        .map(NetworkEndian::read_u16)
        .ok_or(Error::Truncated)?;
    // At most 12 + 4 * 65535 bytes: no overflow in usize.
    if message.len() < field::V3_QUERY_LEN + 4 * count as usize {
        return Err(Error::Truncated);
    }
    Ok(())
}

impl fmt::Display for IgmpRepr {
    /// * `IGMPv1 general query`
    /// * `IGMPv2 general query max-resp 10.0s`,
    ///   `IGMPv2 group query 239.1.2.3 max-resp 0.1s` (and `IGMPv3 ...`)
    /// * `IGMPv1 report 239.1.2.3`, `IGMPv2 report 224.0.0.251`
    /// * `IGMPv2 leave 239.1.2.3`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IgmpRepr::MembershipQuery {
                max_resp_time,
                group_addr,
                version,
            } => {
                write!(f, "IGMPv{} ", version.number())?;
                if group_addr.is_unspecified() {
                    f.write_str("general query")?;
                } else {
                    write!(f, "group query {group_addr}")?;
                }
                if version != IgmpVersion::Version1 {
                    write!(
                        f,
                        " max-resp {}.{}s",
                        max_resp_time / 10,
                        max_resp_time % 10
                    )?;
                }
                Ok(())
            }
            IgmpRepr::MembershipReport {
                group_addr,
                version,
            } => {
                let n = match version {
                    IgmpVersion::Version1 => 1,
                    _ => 2,
                };
                write!(f, "IGMPv{n} report {group_addr}")
            }
            IgmpRepr::LeaveGroup { group_addr } => write!(f, "IGMPv2 leave {group_addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ip::IpProtocol;
    use crate::wire::ipv4::{Ipv4OptionKind, Ipv4Packet, Ipv4Repr};
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    // Captured with `scripts/capture.sh` (host a: 10.0.0.1, host b:
    // 10.0.0.2), IGMP message only. Host a ran
    // `sysctl -w net.ipv4.conf.eth0.force_igmp_version=2` and
    // `timeout 4 socat -u UDP4-RECV:5000,ip-add-membership=239.1.2.3:eth0 -`;
    // host b sent the queries with scapy, since Linux is never a querier
    // (ethox/tests/fixtures/igmp-v2.pcap).

    /// Host a's unsolicited report on joining 239.1.2.3 (frame 1).
    const V2_REPORT: [u8; 8] = [0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03];

    /// The group-specific query for 239.1.2.3, Max Resp Time 1 (frame 2).
    const V2_GROUP_QUERY: [u8; 8] = [0x11, 0x01, 0xfd, 0xf9, 0xef, 0x01, 0x02, 0x03];

    /// An IGMPv3 general query, Max Resp Code 10, QRV 2, QQIC 125
    /// (frame 4); host a answered it with a v2 report.
    const V3_GENERAL_QUERY: [u8; 12] = [
        0x11, 0x0a, 0xec, 0x78, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00,
    ];

    /// The leave socat's exit caused (frame 6, sent to 224.0.0.2).
    const V2_LEAVE: [u8; 8] = [0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03];

    /// The same join with `force_igmp_version=1`: an IGMPv1 report
    /// (igmp-v1.pcap, frame 1) ...
    const V1_REPORT: [u8; 8] = [0x12, 0x00, 0xfc, 0xfa, 0xef, 0x01, 0x02, 0x03];

    /// ... and an IGMPv1 query (Max Resp Time 0) from host b (frame 2).
    const V1_QUERY: [u8; 8] = [0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00];

    /// The whole IPv4 packet around [`V2_REPORT`]: TTL 1, DSCP CS6, and
    /// the router alert option RFC 2236 section 2 asks for.
    const V2_REPORT_IP: [u8; 32] = [
        0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xe9, 0x12, 0x0a, 0x00, 0x00,
        0x01, 0xef, 0x01, 0x02, 0x03, 0x94, 0x04, 0x00, 0x00, 0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01,
        0x02, 0x03,
    ];

    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);

    fn parse(bytes: &[u8]) -> Result<IgmpRepr> {
        IgmpRepr::parse(&IgmpPacket::new_checked(bytes)?, ChecksumMode::Software)
    }

    /// A copy of `bytes` with `edit` applied and the checksum fixed.
    fn edited(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        edit(&mut bytes);
        IgmpPacket::new_unchecked(&mut bytes[..]).fill_checksum();
        bytes
    }

    #[test]
    fn parse_fixtures() {
        let cases: [(&[u8], IgmpRepr, &str); 6] = [
            (
                &V2_REPORT,
                IgmpRepr::MembershipReport {
                    group_addr: GROUP,
                    version: IgmpVersion::Version2,
                },
                "IGMPv2 report 239.1.2.3",
            ),
            (
                &V2_GROUP_QUERY,
                IgmpRepr::MembershipQuery {
                    max_resp_time: 1,
                    group_addr: GROUP,
                    version: IgmpVersion::Version2,
                },
                "IGMPv2 group query 239.1.2.3 max-resp 0.1s",
            ),
            (
                &V3_GENERAL_QUERY,
                IgmpRepr::MembershipQuery {
                    max_resp_time: 10,
                    group_addr: Ipv4Addr::UNSPECIFIED,
                    version: IgmpVersion::Version3,
                },
                "IGMPv3 general query max-resp 1.0s",
            ),
            (
                &V2_LEAVE,
                IgmpRepr::LeaveGroup { group_addr: GROUP },
                "IGMPv2 leave 239.1.2.3",
            ),
            (
                &V1_REPORT,
                IgmpRepr::MembershipReport {
                    group_addr: GROUP,
                    version: IgmpVersion::Version1,
                },
                "IGMPv1 report 239.1.2.3",
            ),
            (
                &V1_QUERY,
                IgmpRepr::MembershipQuery {
                    max_resp_time: 0,
                    group_addr: Ipv4Addr::UNSPECIFIED,
                    version: IgmpVersion::Version1,
                },
                "IGMPv1 general query",
            ),
        ];
        for (bytes, expected, display) in cases {
            let packet = IgmpPacket::new_checked(bytes).unwrap();
            assert!(packet.verify_checksum());
            let repr = IgmpRepr::parse(&packet, ChecksumMode::Software).unwrap();
            assert_eq!(repr, expected);
            assert_eq!(repr.to_string(), display);

            // Emit reproduces the captured bytes, checksum included.
            assert_eq!(repr.buffer_len(), bytes.len());
            let mut out = [0xa5u8; 12];
            let out = &mut out[..bytes.len()];
            repr.emit(
                &mut IgmpPacket::new_unchecked(&mut out[..]),
                ChecksumMode::Software,
            );
            assert_eq!(out, bytes);
        }
        let packet = IgmpPacket::new_checked(&V2_GROUP_QUERY[..]).unwrap();
        assert_eq!(packet.msg_type(), IgmpMessageType::MembershipQuery);
        assert_eq!(packet.max_resp_code(), 1);
        assert_eq!(packet.checksum(), 0xfdf9);
        assert_eq!(packet.group_addr(), GROUP);
    }

    #[test]
    fn parse_from_padded_ethernet_payload() {
        // On a NIC the 46-byte frame is padded to 60: the IPv4 payload is
        // cut at Total Length, so the padding does not reach the IGMP
        // checksum.
        let mut frame_payload = [0u8; 46];
        frame_payload[..32].copy_from_slice(&V2_REPORT_IP);
        let ip = Ipv4Packet::new_checked(&frame_payload[..]).unwrap();
        let ip_repr = Ipv4Repr::parse(&ip, ChecksumMode::Software).unwrap();
        assert_eq!(ip_repr.protocol, IpProtocol::Igmp);
        assert_eq!((ip_repr.ttl, ip_repr.dscp), (1, 48));
        assert_eq!(
            ip.option_iter().collect::<Vec<_>>(),
            [Ok((Ipv4OptionKind::RouterAlert, &[0, 0][..]))]
        );
        let igmp = IgmpPacket::new_checked(ip.payload()).unwrap();
        let repr = IgmpRepr::parse(&igmp, ChecksumMode::Software).unwrap();
        assert_eq!(repr.dst_addr(), ip_repr.dst);
        assert_eq!(repr.to_string(), "IGMPv2 report 239.1.2.3");
        // The padding, if included, would still verify (zeros add
        // nothing), but a non-zero byte would not.
        let mut padded = frame_payload;
        padded[40] = 1;
        let igmp = IgmpPacket::new_checked(&padded[24..]).unwrap();
        assert!(!igmp.verify_checksum());
    }

    #[test]
    fn destinations() {
        assert_eq!(parse(&V2_REPORT).unwrap().dst_addr(), GROUP);
        assert_eq!(parse(&V2_GROUP_QUERY).unwrap().dst_addr(), GROUP);
        assert_eq!(parse(&V1_QUERY).unwrap().dst_addr(), ALL_SYSTEMS);
        assert_eq!(parse(&V3_GENERAL_QUERY).unwrap().dst_addr(), ALL_SYSTEMS);
        assert_eq!(parse(&V2_LEAVE).unwrap().dst_addr(), ALL_ROUTERS);
    }

    #[test]
    fn every_prefix_is_an_error_or_a_parse() {
        for fixture in [
            &V2_REPORT[..],
            &V2_GROUP_QUERY[..],
            &V3_GENERAL_QUERY[..],
            &V1_QUERY[..],
        ] {
            for len in 0..fixture.len() {
                let prefix = &fixture[..len];
                for mode in [ChecksumMode::Software, ChecksumMode::Offloaded] {
                    let result =
                        IgmpPacket::new_checked(prefix).and_then(|p| IgmpRepr::parse(&p, mode));
                    if len < 8 {
                        assert_eq!(result, Err(Error::Truncated));
                    } else if len > 8 && mode == ChecksumMode::Offloaded {
                        // Only the v3 query is that long: cut to 9 to 11
                        // bytes it is no version at all. (Cut to 8 it
                        // reads as v2 when the checksum is not checked.)
                        assert_eq!(result, Err(Error::BadLength));
                    }
                }
            }
        }
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = V2_REPORT;
        bytes[7] = 4; // a different group
        assert_eq!(parse(&bytes), Err(Error::BadChecksum));
        let packet = IgmpPacket::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum());
        assert_eq!(
            IgmpRepr::parse(&packet, ChecksumMode::Offloaded),
            Ok(IgmpRepr::MembershipReport {
                group_addr: Ipv4Addr::new(239, 1, 2, 4),
                version: IgmpVersion::Version2,
            })
        );
        // The checksum covers bytes past the first eight too.
        let mut long = V3_GENERAL_QUERY;
        long[9] = 60;
        assert_eq!(parse(&long), Err(Error::BadChecksum));
    }

    #[test]
    fn query_of_nine_to_eleven_bytes() {
        for len in 9..12 {
            let bytes = edited(&V2_GROUP_QUERY, |b| b.resize(len, 0));
            assert_eq!(parse(&bytes), Err(Error::BadLength), "len {len}");
        }
    }

    #[test]
    fn v3_query_sources_truncated() {
        // Two sources announced, one present.
        let bytes = edited(&V3_GENERAL_QUERY, |b| {
            b[11] = 2;
            b.extend_from_slice(&[10, 0, 0, 9]);
        });
        assert_eq!(parse(&bytes), Err(Error::Truncated));
        // Both present: a group-and-source-specific query reads as a
        // query for its group; the sources are dropped.
        let bytes = edited(&V3_GENERAL_QUERY, |b| {
            b[4..8].copy_from_slice(&GROUP.octets());
            b[11] = 2;
            b.extend_from_slice(&[10, 0, 0, 9, 10, 0, 0, 10]);
        });
        assert_eq!(
            parse(&bytes),
            Ok(IgmpRepr::MembershipQuery {
                max_resp_time: 10,
                group_addr: GROUP,
                version: IgmpVersion::Version3,
            })
        );
        // 65535 sources announced in a short buffer.
        let bytes = edited(&V3_GENERAL_QUERY, |b| b[10..12].copy_from_slice(&[0xff; 2]));
        assert_eq!(parse(&bytes), Err(Error::Truncated));
    }

    #[test]
    fn non_multicast_groups_are_malformed() {
        for kind in [0x12, 0x16, 0x17] {
            let bytes = edited(&V2_REPORT, |b| {
                b[0] = kind;
                b[4..8].copy_from_slice(&[10, 0, 0, 1]);
            });
            assert_eq!(parse(&bytes), Err(Error::Malformed), "type {kind:#x}");
            // A report needs a group: 0.0.0.0 is not one.
            let bytes = edited(&bytes, |b| b[4..8].copy_from_slice(&[0; 4]));
            assert_eq!(parse(&bytes), Err(Error::Malformed), "type {kind:#x}");
        }
        let bytes = edited(&V2_GROUP_QUERY, |b| b[4..8].copy_from_slice(&[10, 0, 0, 1]));
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let bytes = edited(&V2_GROUP_QUERY, |b| b[4..8].copy_from_slice(&[255; 4]));
        assert_eq!(parse(&bytes), Err(Error::Malformed));
    }

    #[test]
    fn v1_query_group_is_ignored() {
        let bytes = edited(&V1_QUERY, |b| b[4..8].copy_from_slice(&[10, 0, 0, 1]));
        assert_eq!(parse(&bytes), parse(&V1_QUERY));
    }

    #[test]
    fn other_types_are_unsupported() {
        for kind in [0x22, 0x13, 0x1e, 0x1f, 0x00, 0xff] {
            let bytes = edited(&V2_REPORT, |b| b[0] = kind);
            assert_eq!(parse(&bytes), Err(Error::Unsupported), "type {kind:#x}");
        }
    }

    #[test]
    fn either_zero_checksum_verifies() {
        // Found by the fuzz target: the words other than the checksum sum
        // to 0xffff, so 0xffff verifies as well as the 0x0000 emit writes.
        let bytes = [17, 10, 255, 255, 236, 120, 2, 125];
        let repr = parse(&bytes).unwrap();
        let mut out = [0u8; 8];
        repr.emit(
            &mut IgmpPacket::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(out, [17, 10, 0, 0, 236, 120, 2, 125]);
        assert_eq!(parse(&out), Ok(repr));
    }

    #[test]
    fn max_resp_time_of_a_report_is_ignored() {
        // Found by the fuzz target: a v2 report with Max Resp Time 1. RFC
        // 2236 section 2.2: zero when sent, ignored when received; emit
        // writes it back as zero.
        let bytes = [22, 1, 248, 250, 239, 0, 2, 3];
        let repr = parse(&bytes).unwrap();
        assert_eq!(
            repr,
            IgmpRepr::MembershipReport {
                group_addr: Ipv4Addr::new(239, 0, 2, 3),
                version: IgmpVersion::Version2,
            }
        );
        let mut out = [0u8; 8];
        repr.emit(
            &mut IgmpPacket::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(out, [22, 0, 248, 251, 239, 0, 2, 3]);
    }

    #[test]
    fn trailing_bytes_of_a_report_are_ignored() {
        let bytes = edited(&V2_REPORT, |b| b.extend_from_slice(&[1, 2, 3, 4, 5]));
        assert_eq!(parse(&bytes), parse(&V2_REPORT));
    }

    #[test]
    fn max_resp_code_encoding() {
        assert_eq!(decode_max_resp_code(0), 0);
        assert_eq!(decode_max_resp_code(127), 127);
        assert_eq!(decode_max_resp_code(0x80), 128);
        assert_eq!(decode_max_resp_code(0x8f), 248);
        assert_eq!(decode_max_resp_code(0x90), 256);
        assert_eq!(decode_max_resp_code(0xff), 31744);
        for code in 0..=255u8 {
            assert_eq!(encode_max_resp_code(decode_max_resp_code(code)), code);
        }
        // Values between codes round down; large ones saturate.
        assert_eq!(encode_max_resp_code(130), 0x80);
        assert_eq!(decode_max_resp_code(encode_max_resp_code(1000)), 992);
        assert_eq!(encode_max_resp_code(u16::MAX), 0xff);
    }

    #[test]
    fn emit_edge_cases() {
        // A v2 query longer than 25.5 s saturates; v3 encodes it.
        let query = |version, max_resp_time| IgmpRepr::MembershipQuery {
            max_resp_time,
            group_addr: Ipv4Addr::UNSPECIFIED,
            version,
        };
        let mut out = [0u8; 8];
        query(IgmpVersion::Version2, 1000).emit(
            &mut IgmpPacket::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(parse(&out), Ok(query(IgmpVersion::Version2, 255)));
        let mut out = [0u8; 12];
        query(IgmpVersion::Version3, 1000).emit(
            &mut IgmpPacket::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(parse(&out), Ok(query(IgmpVersion::Version3, 992)));
        assert_eq!(
            query(IgmpVersion::Version3, 992).to_string(),
            "IGMPv3 general query max-resp 99.2s"
        );
        // Offloaded leaves the checksum zero.
        let mut out = [0xffu8; 8];
        let mut packet = IgmpPacket::new_unchecked(&mut out[..]);
        IgmpRepr::LeaveGroup { group_addr: GROUP }.emit(&mut packet, ChecksumMode::Offloaded);
        assert_eq!(packet.checksum(), 0);
        packet.fill_checksum();
        assert_eq!(out, V2_LEAVE);
        // A v3 report repr is written as a v2 report.
        let mut out = [0u8; 8];
        IgmpRepr::MembershipReport {
            group_addr: GROUP,
            version: IgmpVersion::Version3,
        }
        .emit(
            &mut IgmpPacket::new_unchecked(&mut out[..]),
            ChecksumMode::Software,
        );
        assert_eq!(out, V2_REPORT);
    }
}
