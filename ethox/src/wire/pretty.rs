//! One-line, tcpdump-like descriptions of frames across all layers.
//!
//! [`PrettyFrame`] describes an Ethernet frame, [`PrettyIp`] a bare IP
//! packet (a raw-IP capture, a tunnel). Both implement `Display` and write
//! straight into the formatter: nothing is allocated, and any input bytes
//! give a line (a malformed layer is named with the reason and the line
//! stops there).
//!
//! ```
//! use ethox::wire::pretty::PrettyIp;
//!
//! // A UDP datagram from 10.0.0.1:4000 to 10.0.0.2:5000 carrying "hi".
//! let packet = [
//!     0x45, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x26, 0xcd, // IPv4
//!     0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
//!     0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0a, 0x00, 0x00, b'h', b'i', // UDP, no checksum
//! ];
//! assert_eq!(
//!     PrettyIp::new(&packet).to_string(),
//!     "IPv4 10.0.0.1 > 10.0.0.2: UDP 4000 > 5000 len 2"
//! );
//! ```
//!
//! Checksums are verified; a packet whose checksum is wrong is still
//! described, with `[bad checksum]` after the layer in question, as
//! tcpdump does with `-v`.

use core::fmt;

use super::arp::{ArpPacket, ArpRepr};
use super::dhcpv4::{self, DhcpPacket, DhcpRepr};
use super::dns::{self, DnsMessage};
use super::ethernet::{EtherType, EthernetFrame, EthernetRepr};
use super::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use super::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use super::igmp::{IgmpPacket, IgmpRepr};
use super::ip::Ipv6Addr;
use super::ip::{IpAddr, IpProtocol};
use super::ipv4::{self, Ipv4Packet, Ipv4Repr};
use super::ipv6::{
    self, Ipv6ChainItem, Ipv6ExtHeaderRepr, Ipv6HeaderChain, Ipv6Packet, Ipv6Repr, Ipv6RoutingRepr,
    Ipv6RoutingType,
};
use super::tcp::{TcpPacket, TcpRepr};
use super::udp::{UdpPacket, UdpRepr};
use super::{ChecksumMode, Error, Result};

/// Describes an Ethernet frame on one line.
#[derive(Debug, Clone, Copy)]
pub struct PrettyFrame<'a> {
    frame: &'a [u8],
    link_header: bool,
}

impl<'a> PrettyFrame<'a> {
    /// Describes `frame`, starting at its network layer (like tcpdump).
    pub fn new(frame: &'a [u8]) -> Self {
        PrettyFrame {
            frame,
            link_header: false,
        }
    }

    /// Starts the line with the MAC addresses (like `tcpdump -e`).
    pub fn with_link_header(mut self, on: bool) -> Self {
        self.link_header = on;
        self
    }
}

impl fmt::Display for PrettyFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frame = match EthernetFrame::new_checked(self.frame) {
            Ok(frame) => frame,
            Err(err) => return write!(f, "Ethernet [{err}, {} bytes]", self.frame.len()),
        };
        let repr = match EthernetRepr::parse(&frame) {
            Ok(repr) => repr,
            Err(err) => {
                return write!(
                    f,
                    "Ethernet {} > {} [{err}]",
                    frame.src_addr(),
                    frame.dst_addr()
                );
            }
        };
        if self.link_header {
            write!(f, "{} > {}", repr.src, repr.dst)?;
            if let Some(tag) = repr.vlan {
                write!(f, " vlan {} p {}", tag.vid, tag.pcp)?;
            }
            f.write_str(", ")?;
        }
        let payload = frame.payload();
        match repr.ethertype {
            EtherType::Arp => fmt_arp(f, payload),
            EtherType::Ipv4 => fmt_ipv4(f, payload),
            EtherType::Ipv6 => fmt_ipv6(f, payload),
            other => write!(f, "{other} len {}", payload.len()),
        }
    }
}

/// Describes a bare IP packet (version 4 or 6) on one line.
#[derive(Debug, Clone, Copy)]
pub struct PrettyIp<'a> {
    packet: &'a [u8],
}

impl<'a> PrettyIp<'a> {
    /// Describes `packet`, an IPv4 or IPv6 packet without link header.
    pub fn new(packet: &'a [u8]) -> Self {
        PrettyIp { packet }
    }
}

impl fmt::Display for PrettyIp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match super::ip::version_of(self.packet) {
            Some(4) => fmt_ipv4(f, self.packet),
            Some(6) => fmt_ipv6(f, self.packet),
            Some(v) => write!(f, "IP [version {v}, {} bytes]", self.packet.len()),
            None => f.write_str("IP [empty]"),
        }
    }
}

/// Parses with checksum verification (when `verify`); on a bad checksum
/// parses again without, so the packet is still described. Returns the
/// repr and whether the checksum was right.
fn verified<R>(verify: bool, parse: impl Fn(ChecksumMode) -> Result<R>) -> Result<(R, bool)> {
    if !verify {
        return parse(ChecksumMode::Offloaded).map(|repr| (repr, true));
    }
    match parse(ChecksumMode::Software) {
        Ok(repr) => Ok((repr, true)),
        Err(Error::BadChecksum) => parse(ChecksumMode::Offloaded).map(|repr| (repr, false)),
        Err(err) => Err(err),
    }
}

fn bad_checksum_note(f: &mut fmt::Formatter<'_>, ok: bool) -> fmt::Result {
    if ok {
        Ok(())
    } else {
        f.write_str(" [bad checksum]")
    }
}

fn fmt_arp(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match ArpPacket::new_checked(bytes).and_then(|p| ArpRepr::parse(&p)) {
        Ok(repr) => write!(f, "{repr}"),
        Err(err) => write!(f, "ARP [{err}]"),
    }
}

fn fmt_ipv4(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let parsed = Ipv4Packet::new_checked(bytes).and_then(|packet| {
        let (repr, ok) = verified(true, |mode| Ipv4Repr::parse(&packet, mode))?;
        Ok((packet, repr, ok))
    });
    let (packet, repr, ok) = match parsed {
        Ok(parsed) => parsed,
        // The fixed header is there: name the hosts before the problem.
        Err(err) if bytes.len() >= ipv4::HEADER_LEN => {
            let packet = Ipv4Packet::new_unchecked(bytes);
            return write!(
                f,
                "IPv4 {} > {} [{err}]",
                packet.src_addr(),
                packet.dst_addr()
            );
        }
        Err(err) => return write!(f, "IPv4 [{err}]"),
    };
    write!(f, "{repr}")?;
    bad_checksum_note(f, ok)?;
    f.write_str(": ")?;
    let payload = packet.payload();
    if repr.frag_offset != 0 {
        // Only the first fragment holds the upper-layer header.
        return write!(f, "{} fragment len {}", repr.protocol, payload.len());
    }
    let whole = !repr.more_frags;
    fmt_transport(
        f,
        repr.protocol,
        IpAddr::V4(repr.src),
        IpAddr::V4(repr.dst),
        payload,
        whole,
    )
}

fn fmt_ipv6(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let parsed = Ipv6Packet::new_checked(bytes).and_then(|packet| {
        let repr = Ipv6Repr::parse(&packet)?;
        Ok((packet, repr))
    });
    let (packet, repr) = match parsed {
        Ok(parsed) => parsed,
        Err(err) if bytes.len() >= ipv6::HEADER_LEN => {
            let packet = Ipv6Packet::new_unchecked(bytes);
            return write!(
                f,
                "IPv6 {} > {} [{err}]",
                packet.src_addr(),
                packet.dst_addr()
            );
        }
        Err(err) => return write!(f, "IPv6 [{err}]"),
    };
    write!(f, "{repr}: ")?;
    let chain = match Ipv6HeaderChain::new(&packet) {
        Ok(chain) => chain,
        Err(err) => return write!(f, "[{err}]"),
    };
    // With a routing header still to be followed, upper-layer checksums
    // cover the final destination (RFC 8200 section 8.1).
    let mut dst = repr.dst;
    for item in chain {
        match item {
            Ok(Ipv6ChainItem::Extension(header)) => {
                if let Ipv6ExtHeaderRepr::Routing(routing) = header.repr {
                    dst = final_destination(&routing).unwrap_or(dst);
                }
                write!(f, "{header}, ")?
            }
            Ok(Ipv6ChainItem::UpperLayer(upper)) => {
                if upper.is_non_first_fragment() {
                    return write!(f, "{} fragment len {}", upper.protocol, upper.payload.len());
                }
                let whole = !upper.is_fragment();
                return fmt_transport(
                    f,
                    upper.protocol,
                    IpAddr::V6(repr.src),
                    IpAddr::V6(dst),
                    upper.payload,
                    whole,
                );
            }
            Err(err) => return write!(f, "[{err}]"),
        }
    }
    Ok(())
}

/// The last destination of a routing header with segments left.
fn final_destination(routing: &Ipv6RoutingRepr<'_>) -> Option<Ipv6Addr> {
    if routing.segments_left == 0 {
        return None;
    }
    match routing.routing_type {
        // A segment routing header lists the path in reverse (RFC 8754).
        Ipv6RoutingType::Srh => routing.addresses().next(),
        _ => routing.addresses().last(),
    }
}

fn fmt_transport(
    f: &mut fmt::Formatter<'_>,
    protocol: IpProtocol,
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
    whole: bool,
) -> fmt::Result {
    // In the first fragment of a datagram the checksum covers bytes that
    // are not here: describe without verifying.
    match protocol {
        IpProtocol::Tcp => {
            let parsed = TcpPacket::new_checked(payload)
                .and_then(|packet| verified(whole, |mode| TcpRepr::parse(&packet, src, dst, mode)));
            match parsed {
                Ok((repr, ok)) => {
                    write!(f, "{repr}")?;
                    bad_checksum_note(f, ok)
                }
                Err(err) => write!(f, "TCP [{err}]"),
            }
        }
        IpProtocol::Udp => {
            let packet = match UdpPacket::new_checked(payload) {
                Ok(packet) => packet,
                Err(err) => return write!(f, "UDP [{err}]"),
            };
            match verified(whole, |mode| UdpRepr::parse(&packet, src, dst, mode)) {
                Ok((repr, ok)) => {
                    write!(f, "{repr}")?;
                    bad_checksum_note(f, ok)?;
                    let ports = [repr.src_port, repr.dst_port];
                    if ports.contains(&dhcpv4::SERVER_PORT) && ports.contains(&dhcpv4::CLIENT_PORT)
                    {
                        fmt_dhcp(f, packet.payload())?;
                    } else if ports.contains(&dns::PORT) {
                        fmt_dns(f, packet.payload())?;
                    }
                    Ok(())
                }
                Err(err) => write!(f, "UDP [{err}]"),
            }
        }
        IpProtocol::Icmp => {
            let parsed = Icmpv4Packet::new_checked(payload)
                .and_then(|packet| verified(whole, |mode| Icmpv4Repr::parse(&packet, mode)));
            match parsed {
                Ok((repr, ok)) => {
                    write!(f, "{repr}")?;
                    bad_checksum_note(f, ok)
                }
                Err(Error::Unsupported) => write!(
                    f,
                    "ICMP type {} len {}",
                    payload.first().copied().unwrap_or(0),
                    payload.len()
                ),
                Err(err) => write!(f, "ICMP [{err}]"),
            }
        }
        IpProtocol::Icmpv6 => {
            let (IpAddr::V6(src), IpAddr::V6(dst)) = (src, dst) else {
                return write!(f, "ICMPv6 [over IPv4]");
            };
            let parsed = Icmpv6Packet::new_checked(payload).and_then(|packet| {
                verified(whole, |mode| Icmpv6Repr::parse(&packet, src, dst, mode))
            });
            match parsed {
                Ok((repr, ok)) => {
                    write!(f, "{repr}")?;
                    bad_checksum_note(f, ok)
                }
                Err(Error::Unsupported) => write!(
                    f,
                    "ICMPv6 type {} len {}",
                    payload.first().copied().unwrap_or(0),
                    payload.len()
                ),
                Err(err) => write!(f, "ICMPv6 [{err}]"),
            }
        }
        IpProtocol::Igmp => {
            let parsed = IgmpPacket::new_checked(payload)
                .and_then(|packet| verified(whole, |mode| IgmpRepr::parse(&packet, mode)));
            match parsed {
                Ok((repr, ok)) => {
                    write!(f, "{repr}")?;
                    bad_checksum_note(f, ok)
                }
                Err(err) => write!(f, "IGMP [{err}]"),
            }
        }
        IpProtocol::Ipv6NoNxt => f.write_str("no next header"),
        other => write!(f, "{other} len {}", payload.len()),
    }
}

fn fmt_dns(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match DnsMessage::parse(bytes) {
        Ok(message) => write!(f, ": {message}"),
        Err(err) => write!(f, ": DNS [{err}]"),
    }
}

fn fmt_dhcp(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match DhcpPacket::new_checked(bytes).and_then(|packet| DhcpRepr::parse(&packet)) {
        Ok(repr) => write!(f, ": {repr}"),
        Err(err) => write!(f, ": DHCP [{err}]"),
    }
}
