//! UDP datagrams (RFC 768), over IPv4 and IPv6 (RFC 8200 section 8.1).
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-------------------------------+-------------------------------+
//! |          source port          |        destination port       |
//! +-------------------------------+-------------------------------+
//! |            length             |           checksum            |
//! +-------------------------------+-------------------------------+
//! |  payload ...
//! ```
//!
//! The length counts the header and the payload. Bytes after it in the
//! buffer (link-layer padding) are not part of the datagram: the payload
//! and the checksum stop at the length.
//!
//! The checksum covers a pseudo-header of the IP layer's addresses (see
//! [`checksum::pseudo_header`]), the header and the payload. A checksum
//! field of 0 means "no checksum": allowed over IPv4 (RFC 768), refused
//! over IPv6 (RFC 8200 section 8.1). A computed checksum of 0 is therefore
//! sent as 0xffff, its other one's complement form.
//!
//! Emitting follows the `wire` convention: the payload is the caller's.
//! Write it after the header first, then [`UdpRepr::emit`] writes the
//! header and, with [`ChecksumMode::Software`], the checksum over both:
//!
//! ```
//! use ethox::wire::{ChecksumMode, IpAddr, Ipv4Addr};
//! use ethox::wire::udp::{UdpPacket, UdpRepr};
//!
//! let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
//! let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
//! let repr = UdpRepr { src_port: 5353, dst_port: 53, payload_len: 4 };
//!
//! let mut bytes = [0u8; 12];
//! bytes[8..].copy_from_slice(b"abcd");
//! let mut packet = UdpPacket::new_unchecked(&mut bytes[..]);
//! repr.emit(&mut packet, src, dst, ChecksumMode::Software).unwrap();
//!
//! let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
//! assert!(packet.verify_checksum(src, dst));
//! assert_eq!(packet.payload(), b"abcd");
//! let parsed = UdpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, repr);
//! assert_eq!(parsed.to_string(), "UDP 5353 > 53 len 4");
//! ```

use core::fmt;
use core::ops::Range;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum::{self, Accumulator};
use super::ip::{IpAddr, IpProtocol};
use super::{ChecksumMode, Error, Result};

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const HEADER_LEN: usize = 8;
}

/// The length of the UDP header.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// A byte view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<UdpPacket<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the header is present, that the length field covers at
    /// least the header ([`Error::BadLength`]) and that the buffer holds
    /// as many bytes as it claims ([`Error::Truncated`]).
    ///
    /// A length field of 0 (an IPv6 jumbogram, RFC 2675) is refused as
    /// [`Error::BadLength`].
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let buffer_len = self.buffer.as_ref().len();
        if buffer_len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.len());
        if len < field::HEADER_LEN {
            return Err(Error::BadLength);
        }
        if len > buffer_len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// The length field: header and payload, in bytes.
    pub fn len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Whether the length field announces no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= field::HEADER_LEN
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The bytes of the datagram proper, header included: the buffer cut
    /// at the length field (clamped, so it never panics).
    fn datagram_range(&self) -> Range<usize> {
        let buffer_len = self.buffer.as_ref().len();
        0..usize::from(self.len()).min(buffer_len)
    }

    /// The payload bytes: after the header, up to the length field.
    fn payload_range(&self) -> Range<usize> {
        let end = self.datagram_range().end;
        field::HEADER_LEN.min(end)..end
    }

    /// Sum of the pseudo-header and the datagram up to its length field.
    fn full_sum(&self, src: IpAddr, dst: IpAddr) -> u16 {
        let range = self.datagram_range();
        let length = range.end as u32;
        let datagram = self.buffer.as_ref().get(range).unwrap_or_default();
        Accumulator::new()
            .pseudo_header(src, dst, IpProtocol::Udp, length)
            .bytes(datagram)
            .sum()
    }

    /// Whether the checksum is correct for a datagram from `src` to `dst`.
    ///
    /// A checksum field of 0 means the sender computed none: that passes
    /// over IPv4 (RFC 768) and fails over IPv6, where the checksum is
    /// mandatory (RFC 8200 section 8.1; the zero-checksum tunnels of RFC
    /// 6935 are not supported).
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if self.checksum() == 0 {
            return !is_ipv6(src, dst);
        }
        checksum::verifies(self.full_sum(src, dst))
    }
}

/// Whether the datagram travels over IPv6 (a mix of families cannot occur
/// on one packet; it is treated as IPv6, the stricter rule).
fn is_ipv6(src: IpAddr, dst: IpAddr) -> bool {
    src.is_ipv6() || dst.is_ipv6()
}

impl<'a, T: AsRef<[u8]> + ?Sized> UdpPacket<&'a T> {
    /// The payload, borrowed for the buffer's lifetime: from the end of
    /// the header to the length field, without any trailing padding.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let range = self.payload_range();
        self.buffer.as_ref().get(range).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::SRC_PORT], value)
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::DST_PORT], value)
    }

    /// Sets the length field (header and payload).
    pub fn set_len(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::LENGTH], value)
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// The payload up to the length field, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        self.buffer.as_mut().get_mut(range).unwrap_or_default()
    }

    /// Computes the checksum over the pseudo-header, the header and the
    /// payload up to the length field, and stores it.
    ///
    /// A result of 0 is stored as 0xffff, because 0 on the wire means "no
    /// checksum" (RFC 768).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let value = match checksum::finish(self.full_sum(src, dst)) {
            0 => 0xffff,
            value => value,
        };
        self.set_checksum(value)
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for UdpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The checksum field of a datagram from `src:src_port` to
/// `dst:dst_port` carrying `payload`, summed from these values: only the
/// payload is read, so a header just written is never read back (which
/// would stall on store forwarding). A result of 0 is given as 0xffff, as 0
/// on the wire means "no checksum" (RFC 768).
///
/// The payload must be the whole datagram's (a fragmented datagram's
/// checksum covers all its fragments); a payload above 65527 bytes cannot
/// be described by the length field, and its length is clamped.
pub fn checksum_field(
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> u16 {
    let len = u16::try_from(payload.len() + field::HEADER_LEN).unwrap_or(u16::MAX);
    let sum = Accumulator::new()
        .pseudo_header(src, dst, IpProtocol::Udp, u32::from(len))
        .word(src_port)
        .word(dst_port)
        .word(len)
        .bytes(payload)
        .sum();
    match checksum::finish(sum) {
        0 => 0xffff,
        value => value,
    }
}

/// The parsed header of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port (0: the sender expects no reply, RFC 768).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length of the payload after the header.
    pub payload_len: usize,
}

impl UdpRepr {
    /// Parses a checked datagram sent from `src` to `dst`.
    ///
    /// Verifies the checksum when `checksum` is [`ChecksumMode::Software`]
    /// ([`Error::BadChecksum`]). A zero checksum field over IPv6 is
    /// [`Error::BadChecksum`] in both modes: it is a protocol violation
    /// (RFC 8200 section 8.1) rather than something a device checks. A
    /// destination port of 0 is [`Error::Malformed`]; a source port of 0 is
    /// allowed (RFC 768: "if not used, a value of zero is inserted").
    #[inline]
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &UdpPacket<&T>,
        src: IpAddr,
        dst: IpAddr,
        checksum: ChecksumMode,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        if packet.dst_port() == 0 {
            return Err(Error::Malformed);
        }
        if packet.checksum() == 0 && is_ipv6(src, dst) {
            return Err(Error::BadChecksum);
        }
        if checksum.in_software() && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: usize::from(packet.len()) - field::HEADER_LEN,
        })
    }

    /// The header length `emit` writes: always [`HEADER_LEN`].
    pub const fn buffer_len(&self) -> usize {
        field::HEADER_LEN
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes, with the length field set to the header plus `payload_len`.
    ///
    /// The payload is the caller's: write it after the header before
    /// calling this with [`ChecksumMode::Software`], which computes the
    /// checksum over the header and the `payload_len` bytes after it. With
    /// [`ChecksumMode::Offloaded`] the checksum field is left 0 for the
    /// device to fill (or for a later [`UdpPacket::fill_checksum`]).
    ///
    /// Errors, with nothing written: [`Error::BufferTooSmall`] if the
    /// buffer cannot hold the header and the payload;
    /// [`Error::BadLength`] if they do not fit the 16-bit length field.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
        checksum: ChecksumMode,
    ) -> Result<()> {
        let Some(len) = self
            .payload_len
            .checked_add(field::HEADER_LEN)
            .and_then(|len| u16::try_from(len).ok())
        else {
            return Err(Error::BadLength);
        };
        if packet.buffer.as_ref().len() < usize::from(len) {
            return Err(Error::BufferTooSmall);
        }
        // The header in one store; with a software checksum, its words
        // are summed from registers and only the payload is read.
        let value = if checksum.in_software() {
            let payload = packet
                .buffer
                .as_ref()
                .get(field::HEADER_LEN..usize::from(len))
                .unwrap_or(&[]);
            checksum_field(src, dst, self.src_port, self.dst_port, payload)
        } else {
            0
        };
        let [s0, s1] = self.src_port.to_be_bytes();
        let [d0, d1] = self.dst_port.to_be_bytes();
        let [l0, l1] = len.to_be_bytes();
        let [c0, c1] = value.to_be_bytes();
        if let Some(header) = packet
            .buffer
            .as_mut()
            .first_chunk_mut::<{ field::HEADER_LEN }>()
        {
            *header = [s0, s1, d0, d1, l0, l1, c0, c1];
        }
        Ok(())
    }
}

/// `UDP 5353 > 53 len 20`: ports, then the payload length (as tcpdump's
/// `length`), not the length field.
impl fmt::Display for UdpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UDP {} > {} len {}",
            self.src_port, self.dst_port, self.payload_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ip::{Ipv4Addr, Ipv6Addr};

    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    // Fixtures: real Linux traffic between the two namespaces of
    // `scripts/capture.sh` (host a 10.0.0.1 / fd00::1, host b 10.0.0.2 /
    // fd00::2), captured on host b.

    /// `echo hello | socat - UDP4:10.0.0.2:5000,sourceport=4000` from host a
    /// to a `socat UDP4-RECV:5000` on host b (`udp-ipv4.pcap`).
    const UDP_IPV4_FRAME: [u8; 48] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x22, 0xff, 0x4a, 0x40, 0x00, 0x40, 0x11, 0x27, 0x7e, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0e, 0x84, 0xcb, 0x68, 0x65, 0x6c,
        0x6c, 0x6f, 0x0a,
    ];

    /// `echo hello | socat - UDP6:[fd00::2]:5000,sourceport=4000` from host a
    /// to a `socat UDP6-RECV:5000` on host b (`udp-ipv6.pcap`).
    const UDP_IPV6_FRAME: [u8; 68] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x06, 0x22, 0x3e, 0x00, 0x0e, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0e,
        0x9e, 0xc9, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
    ];

    /// The IPv4 datagram again, sent with SO_NO_CHECK (`socat ...,
    /// setsockopt-int=1:11:1`): Linux leaves the checksum 0, "none"
    /// (`udp-ipv4-zero-checksum.pcap`).
    const UDP_IPV4_NO_CHECKSUM_FRAME: [u8; 48] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x22, 0x3a, 0xe3, 0x40, 0x00, 0x40, 0x11, 0xeb, 0xe5, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0e, 0x00, 0x00, 0x68, 0x65, 0x6c,
        0x6c, 0x6f, 0x0a,
    ];

    /// `echo hi | socat - UDP4:10.0.0.2:9999` from host a, nothing listening
    /// (`icmpv4-port-unreachable.pcap`, frame 1).
    const UDP_TO_CLOSED_PORT_FRAME: [u8; 45] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x1f, 0x21, 0x7f, 0x40, 0x00, 0x40, 0x11, 0x05, 0x4d, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0xce, 0xa7, 0x27, 0x0f, 0x00, 0x0b, 0x83, 0xb5, 0x68, 0x69, 0x0a,
    ];

    const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
    const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));

    /// The UDP datagram inside a captured Ethernet + IPv4 frame, sliced by
    /// hand because the IPv4 module is written separately: the IPv4 header
    /// starts after the 14-byte Ethernet header and is IHL * 4 bytes long;
    /// the datagram ends at the IPv4 total length.
    fn udp_of_v4(frame: &[u8]) -> &[u8] {
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        &ip[ihl..total]
    }

    /// The same for Ethernet + IPv6: the fixture has no extension headers,
    /// so UDP starts right after the 40-byte IPv6 header and runs for the
    /// payload length (bytes 4..6 of the IPv6 header).
    fn udp_of_v6(frame: &[u8]) -> &[u8] {
        let ip = &frame[14..];
        let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        &ip[40..40 + payload_len]
    }

    fn parse(bytes: &[u8], src: IpAddr, dst: IpAddr) -> Result<UdpRepr> {
        UdpRepr::parse(
            &UdpPacket::new_checked(bytes)?,
            src,
            dst,
            ChecksumMode::Software,
        )
    }

    /// Emits `repr` in front of `payload` the way a sender does: payload
    /// first, then the header and checksum.
    fn emit(repr: &UdpRepr, payload: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let mut out = std::vec![0u8; HEADER_LEN + payload.len()];
        out[HEADER_LEN..].copy_from_slice(payload);
        repr.emit(
            &mut UdpPacket::new_unchecked(&mut out[..]),
            src,
            dst,
            ChecksumMode::Software,
        )
        .unwrap();
        out
    }

    #[test]
    fn ipv4_fixture() {
        let bytes = udp_of_v4(&UDP_IPV4_FRAME);
        let packet = UdpPacket::new_checked(bytes).unwrap();
        assert_eq!(packet.src_port(), 4000);
        assert_eq!(packet.dst_port(), 5000);
        assert_eq!(packet.len(), 14);
        assert!(!packet.is_empty());
        assert_eq!(packet.checksum(), 0x84cb);
        assert_eq!(packet.payload(), b"hello\n");
        assert!(packet.verify_checksum(V4_SRC, V4_DST));
        // The pseudo-header binds the checksum to the addresses.
        assert!(!packet.verify_checksum(V4_DST, V4_DST));
        let repr = UdpRepr::parse(&packet, V4_SRC, V4_DST, ChecksumMode::Software).unwrap();
        assert_eq!(
            repr,
            UdpRepr {
                src_port: 4000,
                dst_port: 5000,
                payload_len: 6
            }
        );
        assert_eq!(repr.buffer_len(), 8);
        assert_eq!(repr.to_string(), "UDP 4000 > 5000 len 6");
        assert_eq!(&emit(&repr, b"hello\n", V4_SRC, V4_DST)[..], bytes);
    }

    #[test]
    fn ipv6_fixture() {
        let bytes = udp_of_v6(&UDP_IPV6_FRAME);
        let packet = UdpPacket::new_checked(bytes).unwrap();
        assert_eq!(packet.checksum(), 0x9ec9);
        assert!(packet.verify_checksum(V6_SRC, V6_DST));
        let repr = UdpRepr::parse(&packet, V6_SRC, V6_DST, ChecksumMode::Software).unwrap();
        assert_eq!(repr.to_string(), "UDP 4000 > 5000 len 6");
        assert_eq!(packet.payload(), b"hello\n");
        assert_eq!(&emit(&repr, b"hello\n", V6_SRC, V6_DST)[..], bytes);
        // The same datagram checked against IPv4 addresses fails.
        assert_eq!(parse(bytes, V4_SRC, V4_DST), Err(Error::BadChecksum));
    }

    #[test]
    fn closed_port_fixture() {
        let bytes = udp_of_v4(&UDP_TO_CLOSED_PORT_FRAME);
        let repr = parse(bytes, V4_SRC, V4_DST).unwrap();
        assert_eq!(repr.to_string(), "UDP 52903 > 9999 len 3");
        assert_eq!(&emit(&repr, b"hi\n", V4_SRC, V4_DST)[..], bytes);
    }

    #[test]
    fn zero_checksum_accepted_on_ipv4() {
        let bytes = udp_of_v4(&UDP_IPV4_NO_CHECKSUM_FRAME);
        let packet = UdpPacket::new_checked(bytes).unwrap();
        assert_eq!(packet.checksum(), 0);
        assert!(packet.verify_checksum(V4_SRC, V4_DST));
        let repr = UdpRepr::parse(&packet, V4_SRC, V4_DST, ChecksumMode::Software).unwrap();
        assert_eq!(repr.to_string(), "UDP 4000 > 5000 len 6");

        // Offloaded emit leaves the field 0: the fixture, byte for byte.
        let mut out = bytes.to_vec();
        out[..HEADER_LEN].fill(0xee);
        repr.emit(
            &mut UdpPacket::new_unchecked(&mut out[..]),
            V4_SRC,
            V4_DST,
            ChecksumMode::Offloaded,
        )
        .unwrap();
        assert_eq!(&out[..], bytes);
        // Software emit computes one: the checksummed fixture.
        assert_eq!(
            &emit(&repr, b"hello\n", V4_SRC, V4_DST)[..],
            udp_of_v4(&UDP_IPV4_FRAME)
        );
    }

    #[test]
    fn zero_checksum_rejected_on_ipv6() {
        let mut bytes = udp_of_v6(&UDP_IPV6_FRAME).to_vec();
        bytes[6] = 0;
        bytes[7] = 0;
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert!(!packet.verify_checksum(V6_SRC, V6_DST));
        for mode in [ChecksumMode::Software, ChecksumMode::Offloaded] {
            assert_eq!(
                UdpRepr::parse(&packet, V6_SRC, V6_DST, mode),
                Err(Error::BadChecksum)
            );
        }
    }

    #[test]
    fn length_field_below_header() {
        for len in [0u16, 1, 7] {
            let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
            bytes[4..6].copy_from_slice(&len.to_be_bytes());
            assert_eq!(
                UdpPacket::new_checked(&bytes[..]).err(),
                Some(Error::BadLength)
            );
        }
    }

    #[test]
    fn length_field_beyond_buffer() {
        let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        bytes[4..6].copy_from_slice(&15u16.to_be_bytes());
        assert_eq!(
            UdpPacket::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
        bytes[4..6].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            UdpPacket::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn header_truncated() {
        let bytes = udp_of_v4(&UDP_IPV4_FRAME);
        for len in 0..HEADER_LEN {
            assert_eq!(
                UdpPacket::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated)
            );
        }
    }

    #[test]
    fn bad_checksum() {
        let mut v4 = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        v4[9] ^= 0x20;
        assert_eq!(parse(&v4, V4_SRC, V4_DST), Err(Error::BadChecksum));
        let packet = UdpPacket::new_checked(&v4[..]).unwrap();
        assert!(UdpRepr::parse(&packet, V4_SRC, V4_DST, ChecksumMode::Offloaded).is_ok());

        let mut v6 = udp_of_v6(&UDP_IPV6_FRAME).to_vec();
        v6[7] ^= 0x01;
        assert_eq!(parse(&v6, V6_SRC, V6_DST), Err(Error::BadChecksum));
    }

    #[test]
    fn trailing_padding_is_not_payload() {
        // Ethernet pads short frames; the IP layer may hand the padding
        // on. The length field bounds the payload and the checksum.
        let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        bytes.extend_from_slice(&[0x5a; 12]);
        let packet = UdpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.payload(), b"hello\n");
        assert!(packet.verify_checksum(V4_SRC, V4_DST));
        assert_eq!(parse(&bytes, V4_SRC, V4_DST).unwrap().payload_len, 6);

        let mut packet = UdpPacket::new_unchecked(&mut bytes[..]);
        assert_eq!(packet.payload_mut().len(), 6);
        packet.fill_checksum(V4_SRC, V4_DST);
        assert_eq!(packet.checksum(), 0x84cb);
    }

    #[test]
    fn zero_destination_port_is_malformed() {
        let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        bytes[2..4].fill(0);
        UdpPacket::new_unchecked(&mut bytes[..]).fill_checksum(V4_SRC, V4_DST);
        assert_eq!(parse(&bytes, V4_SRC, V4_DST), Err(Error::Malformed));
    }

    #[test]
    fn zero_source_port_is_allowed() {
        let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        bytes[0..2].fill(0);
        UdpPacket::new_unchecked(&mut bytes[..]).fill_checksum(V4_SRC, V4_DST);
        let repr = parse(&bytes, V4_SRC, V4_DST).unwrap();
        assert_eq!(repr.src_port, 0);
        assert_eq!(repr.to_string(), "UDP 0 > 5000 len 6");
    }

    #[test]
    fn computed_zero_checksum_is_sent_as_ffff() {
        // Choose the last payload word so that the one's complement sum
        // over everything is 0xffff, i.e. the checksum computes to 0.
        let mut bytes = udp_of_v4(&UDP_IPV4_FRAME).to_vec();
        bytes[6..8].fill(0);
        bytes[12..14].fill(0);
        let partial = checksum::combine(&[
            checksum::pseudo_header(V4_SRC, V4_DST, IpProtocol::Udp, 14),
            checksum::sum(&bytes),
        ]);
        bytes[12..14].copy_from_slice(&(!partial).to_be_bytes());

        let mut packet = UdpPacket::new_unchecked(&mut bytes[..]);
        packet.fill_checksum(V4_SRC, V4_DST);
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum(V4_SRC, V4_DST));

        let repr = parse(&bytes, V4_SRC, V4_DST).unwrap();
        let payload = bytes[HEADER_LEN..].to_vec();
        assert_eq!(&emit(&repr, &payload, V4_SRC, V4_DST)[6..8], &[0xff, 0xff]);
    }

    #[test]
    fn every_prefix_parses_or_errors() {
        let cases: [(&[u8], IpAddr, IpAddr); 4] = [
            (udp_of_v4(&UDP_IPV4_FRAME), V4_SRC, V4_DST),
            (udp_of_v4(&UDP_IPV4_NO_CHECKSUM_FRAME), V4_SRC, V4_DST),
            (udp_of_v4(&UDP_TO_CLOSED_PORT_FRAME), V4_SRC, V4_DST),
            (udp_of_v6(&UDP_IPV6_FRAME), V6_SRC, V6_DST),
        ];
        for (bytes, src, dst) in cases {
            for len in 0..bytes.len() {
                let prefix = &bytes[..len];
                // Below 8 bytes the header is cut; above, the length
                // field claims more than is left.
                assert_eq!(UdpPacket::new_checked(prefix).err(), Some(Error::Truncated));
                // Unchecked accessors on a header-sized prefix stay in
                // bounds too.
                if len >= HEADER_LEN {
                    let packet = UdpPacket::new_unchecked(prefix);
                    assert!(packet.payload().len() < bytes.len() - HEADER_LEN);
                    let _ = packet.verify_checksum(src, dst);
                }
            }
            assert!(parse(bytes, src, dst).is_ok());
        }
    }

    #[test]
    fn emit_errors() {
        let repr = UdpRepr {
            src_port: 5353,
            dst_port: 53,
            payload_len: 20,
        };
        assert_eq!(repr.to_string(), "UDP 5353 > 53 len 20");
        let mut short = [0u8; 27];
        assert_eq!(
            repr.emit(
                &mut UdpPacket::new_unchecked(&mut short[..]),
                V4_SRC,
                V4_DST,
                ChecksumMode::Software
            ),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(short, [0; 27]);

        let huge = UdpRepr {
            payload_len: usize::from(u16::MAX) - 7,
            ..repr
        };
        let mut buffer = [0u8; 8];
        assert_eq!(
            huge.emit(
                &mut UdpPacket::new_unchecked(&mut buffer[..]),
                V6_SRC,
                V6_DST,
                ChecksumMode::Offloaded
            ),
            Err(Error::BadLength)
        );
        let max = UdpRepr {
            payload_len: usize::MAX,
            ..repr
        };
        assert_eq!(
            max.emit(
                &mut UdpPacket::new_unchecked(&mut buffer[..]),
                V6_SRC,
                V6_DST,
                ChecksumMode::Offloaded
            ),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn emit_parse_round_trip_empty_payload() {
        let repr = UdpRepr {
            src_port: 68,
            dst_port: 67,
            payload_len: 0,
        };
        for (src, dst) in [(V4_SRC, V4_DST), (V6_SRC, V6_DST)] {
            let out = emit(&repr, &[], src, dst);
            let packet = UdpPacket::new_checked(&out[..]).unwrap();
            assert!(packet.is_empty());
            assert_eq!(packet.payload(), b"");
            assert_eq!(parse(&out, src, dst), Ok(repr));
        }
    }

    #[test]
    fn setters_and_into_inner() {
        let mut bytes = [0u8; 8];
        let mut packet = UdpPacket::new_unchecked(&mut bytes[..]);
        packet.set_src_port(1);
        packet.set_dst_port(2);
        packet.set_len(8);
        packet.set_checksum(0xabcd);
        assert_eq!(packet.as_ref(), &[0, 1, 0, 2, 0, 8, 0xab, 0xcd]);
        assert_eq!(packet.into_inner().len(), 8);
    }
}
