//! Frames built and read by hand on the in-memory link: what an attacker
//! (or a flood of strangers) puts on the wire, and what an observer reads
//! off it. IP headers without options or extension headers.

use ethox::nic::memory::MemoryNic;
use ethox::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::ipv4::{Ipv4Packet, Ipv4Repr};
use ethox::wire::ipv6::{Ipv6Packet, Ipv6Repr};
use ethox::wire::tcp::{TcpPacket, TcpRepr};
use ethox::wire::udp::{UdpPacket, UdpRepr};
use ethox::wire::{
    ChecksumMode, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpAddr, IpProtocol,
    Ipv4Addr, Ipv6Addr,
};

/// The length of an untagged Ethernet header.
const ETH_LEN: usize = 14;

/// An Ethernet frame from `src` to `dst` of `ethertype`, with room for
/// `len` bytes after the header (zeros).
fn ethernet_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
    len: usize,
) -> Vec<u8> {
    let mut frame = vec![0u8; ETH_LEN + len];
    EthernetRepr {
        src,
        dst,
        vlan: None,
        ethertype,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame
}

/// An Ethernet frame from `src` to `dst` carrying the IPv4 packet `ip`
/// (its `payload_len` is set from `payload`).
pub fn ipv4_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    mut ip: Ipv4Repr,
    payload: &[u8],
) -> Vec<u8> {
    ip.payload_len = payload.len();
    let ip_len = ip.buffer_len();
    let mut frame = ethernet_frame(src, dst, EtherType::Ipv4, ip_len + payload.len());
    ip.emit(
        &mut Ipv4Packet::new_unchecked(&mut frame[ETH_LEN..ETH_LEN + ip_len]),
        ChecksumMode::Software,
    );
    frame[ETH_LEN + ip_len..].copy_from_slice(payload);
    frame
}

/// An Ethernet frame from `src` to `dst` carrying an ICMPv6 message from
/// `src_ip` to `dst_ip` with hop limit 255 (as neighbor discovery needs).
pub fn icmpv6_frame(
    src: (EthernetAddress, Ipv6Addr),
    dst: (EthernetAddress, Ipv6Addr),
    message: &Icmpv6Repr,
) -> Vec<u8> {
    let len = message.buffer_len();
    let mut frame = ethernet_frame(src.0, dst.0, EtherType::Ipv6, 40 + len);
    Ipv6Repr {
        src: src.1,
        dst: dst.1,
        next_header: IpProtocol::Icmpv6,
        payload_len: len as u16,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut Ipv6Packet::new_unchecked(
        &mut frame[ETH_LEN..ETH_LEN + 40],
    ));
    message.emit(
        &mut Icmpv6Packet::new_unchecked(&mut frame[ETH_LEN + 40..]),
        src.1,
        dst.1,
        ChecksumMode::Software,
    );
    frame
}

/// An ARP request from `sender` (its MAC and address) for `target`,
/// broadcast.
pub fn arp_request(sender: End, target: Ipv4Addr) -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: sender.mac,
        source_protocol_addr: sender.ip,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: target,
    };
    let mut frame = ethernet_frame(sender.mac, EthernetAddress::BROADCAST, EtherType::Arp, 28);
    repr.emit(&mut ArpPacket::new_unchecked(&mut frame[ETH_LEN..]));
    frame
}

/// A UDP datagram (header and `payload`) from `src` to `dst`, its
/// checksum filled in.
pub fn udp_datagram(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 8 + payload.len()];
    bytes[8..].copy_from_slice(payload);
    UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
        payload_len: payload.len(),
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut bytes[..]),
        IpAddr::V4(src.0),
        IpAddr::V4(dst.0),
        ChecksumMode::Software,
    )
    .expect("the datagram fits");
    bytes
}

/// A TCP segment (header and `payload`) from `src` to `dst`, its
/// checksum filled in.
pub fn tcp_segment(src: Ipv4Addr, dst: Ipv4Addr, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let mut repr = *repr;
    repr.payload_len = payload.len();
    let header_len = repr.buffer_len();
    let mut bytes = vec![0u8; header_len + payload.len()];
    bytes[header_len..].copy_from_slice(payload);
    repr.emit(
        &mut TcpPacket::new_unchecked(&mut bytes[..]),
        IpAddr::V4(src),
        IpAddr::V4(dst),
        ChecksumMode::Software,
    )
    .expect("the segment fits");
    bytes
}

/// One end of a hand-built frame: hardware and IPv4 address.
#[derive(Debug, Clone, Copy)]
pub struct End {
    pub mac: EthernetAddress,
    pub ip: Ipv4Addr,
}

/// A whole frame carrying a TCP segment from `src` to `dst`.
pub fn tcp_frame(src: End, dst: End, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let segment = tcp_segment(src.ip, dst.ip, repr, payload);
    let ip = Ipv4Repr {
        src: src.ip,
        dst: dst.ip,
        protocol: IpProtocol::Tcp,
        ..Ipv4Repr::default()
    };
    ipv4_frame(src.mac, dst.mac, ip, &segment)
}

/// A TCP segment read off the wire.
#[derive(Debug, Clone)]
pub struct Seen {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub repr: TcpRepr,
}

/// Reads an untagged Ethernet frame carrying an unfragmented IPv4 TCP
/// segment with good checksums; `None` for anything else.
pub fn parse_tcp(frame: &[u8]) -> Option<Seen> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if EthernetRepr::parse(&eth).ok()?.ethertype != EtherType::Ipv4 {
        return None;
    }
    let packet = Ipv4Packet::new_checked(eth.payload()).ok()?;
    let ip = Ipv4Repr::parse(&packet, ChecksumMode::Software).ok()?;
    if ip.protocol != IpProtocol::Tcp || ip.is_fragment() {
        return None;
    }
    let segment = TcpPacket::new_checked(packet.payload()).ok()?;
    let repr = TcpRepr::parse(
        &segment,
        IpAddr::V4(ip.src),
        IpAddr::V4(ip.dst),
        ChecksumMode::Software,
    )
    .ok()?;
    Some(Seen {
        src: ip.src,
        dst: ip.dst,
        repr,
    })
}

/// Moves every frame `from` transmitted to `to` (as `MemoryLink::transfer`
/// does), showing each TCP segment to `observe` on the way; returns how
/// many arrived.
pub fn carry<const N: usize>(
    from: &mut MemoryNic<Vec<u8>, N>,
    to: &mut MemoryNic<Vec<u8>, N>,
    mut observe: impl FnMut(&Seen),
) -> usize {
    let mut arrived = 0;
    while let Some(ok) = from.drain_one(|frame| {
        if let Some(seen) = parse_tcp(frame) {
            observe(&seen);
        }
        to.inject(frame)
    }) {
        arrived += usize::from(ok);
    }
    arrived
}
