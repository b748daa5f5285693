//! ARP for IPv4 over Ethernet (RFC 826).
//!
//! ```text
//!  0        2        4    5    6        8
//! +--------+--------+----+----+--------+---------------------------+
//! | htype  | ptype  |hlen|plen| oper   | sender hardware (hlen)    |
//! +--------+--------+----+----+--------+---------------------------+
//! | sender protocol (plen) | target hardware (hlen) | target protocol (plen)
//! +------------------------+------------------------+----------------+
//!
//! Ethernet / IPv4 (hlen 6, plen 4): 28 bytes
//!  8      14     18     24     28
//!  | SHA  | SPA  | THA  | TPA  |
//! ```
//!
//! The byte view reads any hardware and protocol type, placing the address
//! fields by the lengths the packet declares; [`ArpRepr`] only knows
//! Ethernet hardware with IPv4 protocol addresses, and reports anything
//! else as [`Error::Unsupported`]. Bytes after the last address are not
//! part of the packet: an ARP message inside an Ethernet frame is padded to
//! the 60-byte frame minimum, and the padding is ignored.
//!
//! ```
//! use ethox::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
//! use ethox::wire::ethernet::EthernetAddress;
//! use ethox::wire::ip::Ipv4Addr;
//!
//! let repr = ArpRepr::EthernetIpv4 {
//!     operation: ArpOperation::Request,
//!     source_hardware_addr: EthernetAddress([0x02, 0, 0, 0, 0, 1]),
//!     source_protocol_addr: Ipv4Addr::new(10, 0, 0, 1),
//!     target_hardware_addr: EthernetAddress::UNSPECIFIED,
//!     target_protocol_addr: Ipv4Addr::new(10, 0, 0, 2),
//! };
//! let mut bytes = [0u8; 28];
//! repr.emit(&mut ArpPacket::new_unchecked(&mut bytes[..]));
//! let parsed = ArpRepr::parse(&ArpPacket::new_checked(&bytes[..]).unwrap());
//! assert_eq!(parsed, Ok(repr));
//! assert_eq!(repr.to_string(), "ARP request who-has 10.0.0.2 tell 10.0.0.1");
//! ```

use core::fmt;

use byteorder::{ByteOrder, NetworkEndian};

use super::ethernet::{EtherType, EthernetAddress};
use super::ip::Ipv4Addr;
use super::{Error, Result, array};

enum_with_unknown! {
    /// The hardware type field (IANA "Hardware Types").
    pub enum ArpHardware(u16) {
        /// Ethernet (10 Mb and every later speed).
        Ethernet = 1,
    }
}

enum_with_unknown! {
    /// The operation field (RFC 826; IANA "Operation Codes").
    pub enum ArpOperation(u16) {
        /// Who has this protocol address?
        Request = 1,
        /// This protocol address is at this hardware address.
        Reply = 2,
    }
}

mod field {
    use core::ops::Range;

    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    /// Where the variable-length addresses start.
    pub const ADDRESSES: usize = 8;

    // The address fields, placed by the declared lengths. Lengths are
    // octets, so every end is at most 8 + 2 * (255 + 255) and none of the
    // sums can overflow.
    pub const fn sha(hlen: usize, _plen: usize) -> Range<usize> {
        ADDRESSES..ADDRESSES + hlen
    }
    pub const fn spa(hlen: usize, plen: usize) -> Range<usize> {
        ADDRESSES + hlen..ADDRESSES + hlen + plen
    }
    pub const fn tha(hlen: usize, plen: usize) -> Range<usize> {
        ADDRESSES + hlen + plen..ADDRESSES + 2 * hlen + plen
    }
    pub const fn tpa(hlen: usize, plen: usize) -> Range<usize> {
        ADDRESSES + 2 * hlen + plen..ADDRESSES + 2 * hlen + 2 * plen
    }
}

/// The length of an ARP packet for IPv4 over Ethernet.
pub const ETHERNET_IPV4_LEN: usize = 28;

/// A byte view of an ARP packet of any hardware and protocol type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> ArpPacket<T> {
        ArpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<ArpPacket<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed part and the four addresses, as long as the
    /// packet's hardware and protocol lengths say, are present
    /// ([`Error::Truncated`] otherwise).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::ADDRESSES || len < self.packet_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The hardware type.
    pub fn hardware_type(&self) -> ArpHardware {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::HTYPE]).into()
    }

    /// The protocol type, in EtherType numbering.
    pub fn protocol_type(&self) -> EtherType {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::PTYPE]).into()
    }

    /// The length of a hardware address in bytes.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// The length of a protocol address in bytes.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// The operation.
    pub fn operation(&self) -> ArpOperation {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::OPER]).into()
    }

    /// The length of the packet the header declares: 8 fixed bytes and
    /// two addresses of each kind. Anything after it is padding.
    pub fn packet_len(&self) -> usize {
        let (hlen, plen) = self.lens();
        field::tpa(hlen, plen).end
    }

    fn lens(&self) -> (usize, usize) {
        // The fixed part may be missing in a view nobody checked; then
        // there are no addresses either.
        let bytes = self.buffer.as_ref();
        let hlen = bytes.get(field::HLEN).copied().unwrap_or(0);
        let plen = bytes.get(field::PLEN).copied().unwrap_or(0);
        (hlen as usize, plen as usize)
    }

    fn field(&self, range: core::ops::Range<usize>) -> &[u8] {
        self.buffer.as_ref().get(range).unwrap_or(&[])
    }

    /// The sender hardware address, `hardware_len` bytes.
    pub fn source_hardware_addr(&self) -> &[u8] {
        let (h, p) = self.lens();
        self.field(field::sha(h, p))
    }

    /// The sender protocol address, `protocol_len` bytes.
    pub fn source_protocol_addr(&self) -> &[u8] {
        let (h, p) = self.lens();
        self.field(field::spa(h, p))
    }

    /// The target hardware address, `hardware_len` bytes.
    pub fn target_hardware_addr(&self) -> &[u8] {
        let (h, p) = self.lens();
        self.field(field::tha(h, p))
    }

    /// The target protocol address, `protocol_len` bytes.
    pub fn target_protocol_addr(&self) -> &[u8] {
        let (h, p) = self.lens();
        self.field(field::tpa(h, p))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: ArpHardware) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::HTYPE], value.into())
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::PTYPE], value.into())
    }

    /// Sets the hardware address length; set it before the addresses.
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value
    }

    /// Sets the protocol address length; set it before the addresses.
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: ArpOperation) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::OPER], value.into())
    }

    /// Sets the sender hardware address; `addr` must be `hardware_len`
    /// bytes long and the buffer must hold the field.
    pub fn set_source_hardware_addr(&mut self, addr: &[u8]) {
        let (h, p) = self.lens();
        self.buffer.as_mut()[field::sha(h, p)].copy_from_slice(addr)
    }

    /// Sets the sender protocol address; `addr` must be `protocol_len`
    /// bytes long and the buffer must hold the field.
    pub fn set_source_protocol_addr(&mut self, addr: &[u8]) {
        let (h, p) = self.lens();
        self.buffer.as_mut()[field::spa(h, p)].copy_from_slice(addr)
    }

    /// Sets the target hardware address; `addr` must be `hardware_len`
    /// bytes long and the buffer must hold the field.
    pub fn set_target_hardware_addr(&mut self, addr: &[u8]) {
        let (h, p) = self.lens();
        self.buffer.as_mut()[field::tha(h, p)].copy_from_slice(addr)
    }

    /// Sets the target protocol address; `addr` must be `protocol_len`
    /// bytes long and the buffer must hold the field.
    pub fn set_target_protocol_addr(&mut self, addr: &[u8]) {
        let (h, p) = self.lens();
        self.buffer.as_mut()[field::tpa(h, p)].copy_from_slice(addr)
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for ArpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed ARP packet.
///
/// Only IPv4 over Ethernet exists today; the enum leaves room for other
/// combinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArpRepr {
    /// Hardware type 1 with 6-byte addresses, protocol type 0x0800 with
    /// 4-byte addresses.
    EthernetIpv4 {
        /// Request or reply.
        operation: ArpOperation,
        /// The sender's MAC.
        source_hardware_addr: EthernetAddress,
        /// The sender's IPv4 address (unspecified in an RFC 5227 probe).
        source_protocol_addr: Ipv4Addr,
        /// The target's MAC (ignored, usually zero, in a request).
        target_hardware_addr: EthernetAddress,
        /// The IPv4 address asked about or answered to.
        target_protocol_addr: Ipv4Addr,
    },
}

impl ArpRepr {
    /// Parses a checked packet.
    ///
    /// * [`Error::Unsupported`]: a hardware type other than Ethernet, a
    ///   protocol type other than IPv4, or an operation other than request
    ///   and reply.
    /// * [`Error::BadLength`]: Ethernet and IPv4 with address lengths other
    ///   than 6 and 4.
    /// * [`Error::Malformed`]: the sender hardware address is multicast or
    ///   broadcast, which no interface owns (RFC 1812 section 3.3.2: such
    ///   a claim must not be believed).
    /// * Whatever [`ArpPacket::check_len`] reports.
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        packet.check_len()?;
        if packet.hardware_type() != ArpHardware::Ethernet
            || packet.protocol_type() != EtherType::Ipv4
        {
            return Err(Error::Unsupported);
        }
        if packet.hardware_len() != 6 || packet.protocol_len() != 4 {
            return Err(Error::BadLength);
        }
        let operation = packet.operation();
        if let ArpOperation::Unknown(_) = operation {
            return Err(Error::Unsupported);
        }
        let source_hardware_addr = EthernetAddress(array(packet.source_hardware_addr()));
        if source_hardware_addr.is_multicast() {
            return Err(Error::Malformed);
        }
        Ok(ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr,
            source_protocol_addr: Ipv4Addr::from(array::<4>(packet.source_protocol_addr())),
            target_hardware_addr: EthernetAddress(array(packet.target_hardware_addr())),
            target_protocol_addr: Ipv4Addr::from(array::<4>(packet.target_protocol_addr())),
        })
    }

    /// The packet length `emit` writes: 28 for IPv4 over Ethernet.
    pub const fn buffer_len(&self) -> usize {
        match self {
            ArpRepr::EthernetIpv4 { .. } => ETHERNET_IPV4_LEN,
        }
    }

    /// Writes the packet into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `packet` (ARP has no checksum). Padding up to a frame
    /// minimum is the caller's.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        match *self {
            ArpRepr::EthernetIpv4 {
                operation,
                source_hardware_addr,
                source_protocol_addr,
                target_hardware_addr,
                target_protocol_addr,
            } => {
                packet.set_hardware_type(ArpHardware::Ethernet);
                packet.set_protocol_type(EtherType::Ipv4);
                packet.set_hardware_len(6);
                packet.set_protocol_len(4);
                packet.set_operation(operation);
                packet.set_source_hardware_addr(source_hardware_addr.as_bytes());
                packet.set_source_protocol_addr(&source_protocol_addr.octets());
                packet.set_target_hardware_addr(target_hardware_addr.as_bytes());
                packet.set_target_protocol_addr(&target_protocol_addr.octets());
            }
        }
    }

    /// Whether this is an RFC 5227 probe: a request whose sender protocol
    /// address is `0.0.0.0`, asking whether anyone uses the target
    /// address before claiming it.
    pub fn is_probe(&self) -> bool {
        match self {
            ArpRepr::EthernetIpv4 {
                operation,
                source_protocol_addr,
                ..
            } => *operation == ArpOperation::Request && source_protocol_addr.is_unspecified(),
        }
    }

    /// Whether this is a gratuitous ARP: sender and target protocol
    /// addresses are the same, so nobody is asked anything and the packet
    /// only announces (or refreshes) the sender's mapping (RFC 5227
    /// section 2.3 calls a request of this form an announcement).
    pub fn is_gratuitous(&self) -> bool {
        match self {
            ArpRepr::EthernetIpv4 {
                source_protocol_addr,
                target_protocol_addr,
                ..
            } => {
                source_protocol_addr == target_protocol_addr
                    && !source_protocol_addr.is_unspecified()
            }
        }
    }
}

impl fmt::Display for ArpRepr {
    /// * `ARP request who-has 10.0.0.2 tell 10.0.0.1`
    /// * `ARP reply 10.0.0.2 is-at 02:00:00:00:00:02`
    /// * `ARP announcement 10.0.0.1`: a gratuitous request (sender and
    ///   target protocol address equal; RFC 5227 section 2.3). A
    ///   gratuitous reply prints as a reply, which already says it all.
    /// * `ARP probe who-has 10.0.0.7`: a request from `0.0.0.0` (RFC 5227
    ///   section 2.1.1).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpRepr::EthernetIpv4 {
                operation,
                source_hardware_addr,
                source_protocol_addr,
                target_protocol_addr,
                ..
            } => match operation {
                ArpOperation::Request if self.is_probe() => {
                    write!(f, "ARP probe who-has {target_protocol_addr}")
                }
                ArpOperation::Request if self.is_gratuitous() => {
                    write!(f, "ARP announcement {source_protocol_addr}")
                }
                ArpOperation::Request => write!(
                    f,
                    "ARP request who-has {target_protocol_addr} tell {source_protocol_addr}"
                ),
                ArpOperation::Reply => {
                    write!(
                        f,
                        "ARP reply {source_protocol_addr} is-at {source_hardware_addr}"
                    )
                }
                // parse never produces it; a hand-built one still prints.
                ArpOperation::Unknown(op) => write!(
                    f,
                    "ARP op {op} {source_protocol_addr} > {target_protocol_addr}"
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 2]);
    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    /// `arping -c 1 -i eth0 10.0.0.2` in host a of `scripts/capture.sh`
    /// (ethox/tests/fixtures/arp-request-reply.pcap, frame 1), Ethernet
    /// header removed: the 28-byte request and the 16 zero bytes arping
    /// pads it with.
    const REQUEST: [u8; 44] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// The kernel's reply from host b (same file, frame 2), unpadded on
    /// the veth.
    const REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a,
        0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
    ];

    /// `arping -U -c 1 -i eth0 10.0.0.1` (arp-gratuitous.pcap): an
    /// unsolicited request for the sender's own address, target MAC set
    /// to broadcast, padded like the request.
    const ANNOUNCEMENT: [u8; 44] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a,
        0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn parse(bytes: &[u8]) -> Result<ArpRepr> {
        ArpRepr::parse(&ArpPacket::new_checked(bytes)?)
    }

    #[test]
    fn parse_request_ignoring_padding() {
        let packet = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(packet.hardware_type(), ArpHardware::Ethernet);
        assert_eq!(packet.protocol_type(), EtherType::Ipv4);
        assert_eq!((packet.hardware_len(), packet.protocol_len()), (6, 4));
        assert_eq!(packet.operation(), ArpOperation::Request);
        assert_eq!(packet.packet_len(), 28);
        assert_eq!(packet.target_protocol_addr(), &[10, 0, 0, 2]);
        let repr = ArpRepr::parse(&packet).unwrap();
        assert_eq!(
            repr,
            ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Request,
                source_hardware_addr: MAC_A,
                source_protocol_addr: A,
                target_hardware_addr: EthernetAddress::UNSPECIFIED,
                target_protocol_addr: B,
            }
        );
        assert!(!repr.is_gratuitous() && !repr.is_probe());
        assert_eq!(
            repr.to_string(),
            "ARP request who-has 10.0.0.2 tell 10.0.0.1"
        );
        // The padding does not change anything.
        assert_eq!(parse(&REQUEST[..28]), Ok(repr));
    }

    #[test]
    fn parse_reply() {
        let repr = parse(&REPLY).unwrap();
        assert_eq!(
            repr,
            ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Reply,
                source_hardware_addr: MAC_B,
                source_protocol_addr: B,
                target_hardware_addr: MAC_A,
                target_protocol_addr: A,
            }
        );
        assert_eq!(
            repr.to_string(),
            "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02"
        );
    }

    #[test]
    fn parse_announcement() {
        let repr = parse(&ANNOUNCEMENT).unwrap();
        let ArpRepr::EthernetIpv4 {
            operation,
            target_hardware_addr,
            ..
        } = repr;
        assert_eq!(operation, ArpOperation::Request);
        assert_eq!(target_hardware_addr, EthernetAddress::BROADCAST);
        assert!(repr.is_gratuitous() && !repr.is_probe());
        assert_eq!(repr.to_string(), "ARP announcement 10.0.0.1");
    }

    #[test]
    fn probe_and_gratuitous_reply_display() {
        let probe = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: MAC_A,
            source_protocol_addr: Ipv4Addr::UNSPECIFIED,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: Ipv4Addr::new(10, 0, 0, 7),
        };
        assert!(probe.is_probe() && !probe.is_gratuitous());
        assert_eq!(probe.to_string(), "ARP probe who-has 10.0.0.7");
        let gratuitous_reply = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: MAC_A,
            source_protocol_addr: A,
            target_hardware_addr: MAC_A,
            target_protocol_addr: A,
        };
        assert!(gratuitous_reply.is_gratuitous());
        assert_eq!(
            gratuitous_reply.to_string(),
            "ARP reply 10.0.0.1 is-at 02:00:00:00:00:01"
        );
    }

    #[test]
    fn emit_reproduces_captures() {
        for fixture in [&REQUEST[..], &REPLY[..], &ANNOUNCEMENT[..]] {
            let repr = parse(fixture).unwrap();
            assert_eq!(repr.buffer_len(), 28);
            let mut out = [0xa5u8; 28];
            repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], &fixture[..28]);
            assert_eq!(parse(&out), Ok(repr));
        }
    }

    #[test]
    fn every_prefix_is_an_error_or_a_parse() {
        for fixture in [&REQUEST[..], &REPLY[..], &ANNOUNCEMENT[..]] {
            for len in 0..fixture.len() {
                let result = parse(&fixture[..len]);
                if len < 28 {
                    assert_eq!(result, Err(Error::Truncated), "len {len}");
                } else {
                    assert!(result.is_ok(), "len {len}");
                }
                // The address accessors stay in bounds even unchecked.
                let packet = ArpPacket::new_unchecked(&fixture[..len]);
                let _ = (
                    packet.packet_len(),
                    packet.source_hardware_addr(),
                    packet.target_protocol_addr(),
                );
            }
        }
    }

    #[test]
    fn declared_lengths_beyond_buffer() {
        // hlen 255, plen 255: 1028 bytes claimed, 44 present.
        let mut bytes = REQUEST;
        bytes[4] = 255;
        bytes[5] = 255;
        let packet = ArpPacket::new_unchecked(&bytes[..]);
        assert_eq!(packet.packet_len(), 8 + 2 * 510);
        assert_eq!(packet.check_len(), Err(Error::Truncated));
        // plen 16 (IPv6-sized) needs 52 bytes.
        let mut bytes = REQUEST;
        bytes[5] = 16;
        assert_eq!(parse(&bytes), Err(Error::Truncated));
    }

    #[test]
    fn wrong_address_lengths() {
        // hlen 8 still fits in the padded buffer: a length mismatch, not
        // a truncation.
        let mut bytes = REQUEST;
        bytes[4] = 8;
        assert!(ArpPacket::new_checked(&bytes[..]).is_ok());
        assert_eq!(parse(&bytes), Err(Error::BadLength));
        let mut bytes = REQUEST;
        bytes[5] = 0;
        assert_eq!(parse(&bytes), Err(Error::BadLength));
    }

    #[test]
    fn other_hardware_or_protocol_is_unsupported() {
        // IEEE 802 hardware (6).
        let mut bytes = REQUEST;
        bytes[1] = 6;
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        // IPv6 as the protocol type.
        let mut bytes = REQUEST;
        bytes[2..4].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        let packet = ArpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.protocol_type(), EtherType::Ipv6);
    }

    #[test]
    fn unknown_operation_is_unsupported() {
        for op in [0u8, 3, 8, 255] {
            let mut bytes = REQUEST;
            bytes[7] = op;
            assert_eq!(parse(&bytes), Err(Error::Unsupported), "op {op}");
        }
        let unknown = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Unknown(8),
            source_hardware_addr: MAC_A,
            source_protocol_addr: A,
            target_hardware_addr: MAC_B,
            target_protocol_addr: B,
        };
        assert_eq!(unknown.to_string(), "ARP op 8 10.0.0.1 > 10.0.0.2");
    }

    #[test]
    fn multicast_sender_hardware_is_malformed() {
        let mut bytes = REPLY;
        bytes[8..14].copy_from_slice(&[0xff; 6]);
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let mut bytes = REPLY;
        bytes[8..14].copy_from_slice(&[0x01, 0x00, 0x5e, 0, 0, 1]);
        assert_eq!(parse(&bytes), Err(Error::Malformed));
    }

    #[test]
    fn generic_view_reads_other_sizes() {
        // A made-up layout with 2-byte hardware and 3-byte protocol
        // addresses, to check that fields move with the lengths.
        let mut bytes = [0u8; 18];
        let mut packet = ArpPacket::new_unchecked(&mut bytes[..]);
        packet.set_hardware_type(ArpHardware::Unknown(99));
        packet.set_protocol_type(EtherType::Unknown(0x1234));
        packet.set_hardware_len(2);
        packet.set_protocol_len(3);
        packet.set_operation(ArpOperation::Reply);
        packet.set_source_hardware_addr(&[1, 2]);
        packet.set_source_protocol_addr(&[3, 4, 5]);
        packet.set_target_hardware_addr(&[6, 7]);
        packet.set_target_protocol_addr(&[8, 9, 10]);
        let packet = ArpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.packet_len(), 18);
        assert_eq!(packet.source_hardware_addr(), &[1, 2]);
        assert_eq!(packet.source_protocol_addr(), &[3, 4, 5]);
        assert_eq!(packet.target_hardware_addr(), &[6, 7]);
        assert_eq!(packet.target_protocol_addr(), &[8, 9, 10]);
        assert_eq!(packet.hardware_type(), ArpHardware::Unknown(99));
        assert_eq!(ArpRepr::parse(&packet), Err(Error::Unsupported));
        assert_eq!(&bytes[8..], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
}
