//! Two hosts on the in-memory link, with explicit time, talking UDP:
//! delivery to bound ports, answers built in place, port unreachable for
//! unbound ports, the drops the layer counts, and a bounded flood.

use core::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::udp::{self, UdpError};
use ethox::layer::{eth, icmp, ip};
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::nic::{Capabilities, ChecksumDuty, Device};
use ethox::time::Instant;
use ethox::wire::checksum;
use ethox::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr};
use ethox::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use ethox::wire::ipv4::{Ipv4Packet, Ipv4Repr};
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::udp::{UdpPacket, UdpRepr};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr};

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const ECHO_PORT: u16 = 7;

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    udp: udp::Endpoint<'static>,
}

impl Host {
    fn new(mac: u8, addr: Ipv4Addr, seed: u16) -> Host {
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).unwrap()));
        let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
        nic.set_time(Instant::from_secs(100));
        Host {
            nic,
            eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, mac])),
            ip,
            icmp: icmp::Endpoint::new(),
            udp: udp::Endpoint::new(vec![None; 8], seed),
        }
    }

    fn set_time(&mut self, now: Instant) {
        self.nic.set_time(now);
    }

    fn send(&mut self, app: &mut App) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(self.udp.send(app))))
            .unwrap()
    }

    /// Receives with the application behind UDP, and `other` for what is
    /// not UDP (and not answered by ICMP).
    fn receive(&mut self, app: &mut App, other: &mut Other) -> usize {
        self.nic
            .rx(
                SLOTS,
                self.eth
                    .recv(self.ip.recv(self.icmp.recv(self.udp.recv_or(app, other)))),
            )
            .unwrap()
    }
}

fn carry(from: &mut Host, to: &mut Host) -> usize {
    MemoryLink::transfer(&mut from.nic, &mut to.nic)
}

/// What the application saw of one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    payload: Vec<u8>,
}

/// A client and a server in one: sends its queue, records what arrives,
/// and (as an echo server) answers in place.
#[derive(Default)]
struct App {
    /// Datagrams to send, front first: source port, destination, payload.
    queue: Vec<(u16, (IpAddr, u16), Vec<u8>)>,
    sent: usize,
    last_error: Option<UdpError>,
    seen: Vec<Seen>,
    /// Answer each datagram with its payload in place (upper-cased unless
    /// only counting).
    echo: bool,
    reply_errors: Vec<UdpError>,
    /// Only count arrivals (for the flood), and mark them here by sequence.
    count_only: Option<Vec<bool>>,
}

impl App {
    fn to(src_port: u16, dst: (Ipv4Addr, u16), payload: &[u8]) -> App {
        App {
            queue: vec![(src_port, (IpAddr::V4(dst.0), dst.1), payload.to_vec())],
            ..App::default()
        }
    }

    fn echo() -> App {
        App {
            echo: true,
            ..App::default()
        }
    }
}

impl<D: Device> udp::Send<D> for App {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let Some((src_port, dst, payload)) = self.queue.first() else {
            return;
        };
        let init = udp::Init {
            src_port: *src_port,
            dst: *dst,
            payload_len: payload.len(),
        };
        match raw.prepare(init) {
            Ok(mut out) => {
                assert_eq!(out.repr().src_port, *src_port);
                assert_eq!(out.dst(), *dst);
                out.payload_mut().copy_from_slice(payload);
                out.send().unwrap();
                self.queue.remove(0);
                self.sent += 1;
                self.last_error = None;
            }
            Err(err) => self.last_error = Some(err),
        }
    }
}

impl<D: Device> udp::Recv<D> for App {
    fn receive(&mut self, mut datagram: udp::In<'_, '_, '_, D>) {
        if let Some(marks) = &mut self.count_only {
            let seq = u32::from_be_bytes(datagram.payload()[..4].try_into().unwrap());
            assert!(!marks[seq as usize], "datagram {seq} twice");
            marks[seq as usize] = true;
        } else {
            assert_eq!(datagram.repr().payload_len, datagram.payload().len());
            self.seen.push(Seen {
                src: datagram.src(),
                dst: datagram.dst(),
                payload: datagram.payload().to_vec(),
            });
        }
        if self.echo {
            if self.count_only.is_none() {
                datagram.payload_mut().make_ascii_uppercase();
            }
            let len = datagram.payload().len();
            match datagram.reply(len) {
                Ok(out) => out.send().unwrap(),
                Err(err) => self.reply_errors.push(err),
            }
        }
    }
}

/// The IP-layer handler behind UDP: records the ICMP messages and the
/// protocols of other packets that reach it.
#[derive(Default)]
struct Other {
    icmp: Vec<Vec<u8>>,
    protocols: Vec<IpProtocol>,
}

impl<D: Device> ip::Recv<D> for Other {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let protocol = packet.repr().protocol();
        if protocol == IpProtocol::Icmp {
            self.icmp.push(packet.payload().to_vec());
        }
        self.protocols.push(protocol);
    }
}

/// Two hosts that know each other's hardware address: A's first send
/// went out as an ARP request and B answered it.
fn resolved_pair() -> (Host, Host) {
    let (mut a, mut b) = (Host::new(1, A, 0x1111), Host::new(2, B, 0x2222));
    let mut probe = App::to(40000, (B, 9), b"x");
    assert_eq!(a.send(&mut probe), 1);
    assert_eq!(probe.last_error, Some(UdpError::Ip(ip::Error::Unresolved)));
    carry(&mut a, &mut b);
    b.receive(&mut App::default(), &mut Other::default());
    carry(&mut b, &mut a);
    a.receive(&mut App::default(), &mut Other::default());
    assert_eq!(a.ip.arp_cache().peek(B), Some(MAC_B));
    (a, b)
}

/// An Ethernet + IPv4 frame from A to B around `ip_payload`, with a
/// correct IPv4 header checksum.
fn frame_a_to_b(protocol: IpProtocol, ip_payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + 20 + ip_payload.len()];
    EthernetRepr {
        src: MAC_A,
        dst: MAC_B,
        vlan: None,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    Ipv4Repr {
        src: A,
        dst: B,
        protocol,
        payload_len: ip_payload.len(),
        ..Ipv4Repr::default()
    }
    .emit(
        &mut Ipv4Packet::new_unchecked(&mut frame[14..34]),
        ChecksumMode::Software,
    );
    frame[34..].copy_from_slice(ip_payload);
    frame
}

/// A UDP datagram from A to B with a correct checksum.
fn datagram_a_to_b(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 8 + payload.len()];
    bytes[8..].copy_from_slice(payload);
    UdpRepr {
        src_port,
        dst_port,
        payload_len: payload.len(),
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut bytes[..]),
        IpAddr::V4(A),
        IpAddr::V4(B),
        ChecksumMode::Software,
    )
    .unwrap();
    bytes
}

#[test]
fn first_send_waits_for_arp_then_datagram_is_delivered() {
    let (mut a, mut b) = (Host::new(1, A, 0x1111), Host::new(2, B, 0x2222));
    b.udp.bind(5000).unwrap();
    let port = a.udp.bind_ephemeral().unwrap();
    assert_eq!(port, 0xc000 | 0x1111);
    let payload: Vec<u8> = (0..=255).collect();
    let mut client = App::to(port, (B, 5000), &payload);

    // The first attempt carries an ARP request instead.
    assert_eq!(a.send(&mut client), 1);
    assert_eq!(client.last_error, Some(UdpError::Ip(ip::Error::Unresolved)));
    assert_eq!(client.sent, 0);
    assert_eq!(a.udp.stats().tx_errors, 0, "a deferral is not an error");
    // A second attempt while the request is out sends nothing.
    assert_eq!(a.send(&mut client), 0);
    assert_eq!(client.last_error, Some(UdpError::Ip(ip::Error::Unresolved)));

    let mut server = App::default();
    carry(&mut a, &mut b);
    b.receive(&mut server, &mut Other::default());
    carry(&mut b, &mut a);
    a.receive(&mut client, &mut Other::default());

    assert_eq!(a.send(&mut client), 1);
    assert_eq!(client.sent, 1);
    assert_eq!(a.udp.stats().tx_datagrams, 1);
    carry(&mut a, &mut b);
    b.receive(&mut server, &mut Other::default());
    assert_eq!(
        server.seen,
        vec![Seen {
            src: (IpAddr::V4(A), port),
            dst: (IpAddr::V4(B), 5000),
            payload,
        }]
    );
    assert_eq!(b.udp.stats().rx_delivered, 1);
    assert_eq!(b.ip.stats().icmp_errors_sent, 0);
}

#[test]
fn echo_server_answers_in_place() {
    let (mut a, mut b) = resolved_pair();
    b.udp.bind(ECHO_PORT).unwrap();
    let port = a.udp.bind_ephemeral().unwrap();
    let mut client = App::to(port, (B, ECHO_PORT), b"hello, echo");
    let mut server = App::echo();

    assert_eq!(a.send(&mut client), 1);
    carry(&mut a, &mut b);
    b.receive(&mut server, &mut Other::default());
    assert_eq!(server.seen.len(), 1);
    assert!(server.reply_errors.is_empty());
    assert_eq!(b.udp.stats().tx_datagrams, 1);
    assert_eq!(b.nic.tx_pending(), 1);

    // On the wire: ports swapped, checksum correct over the new payload.
    let frame = b.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(
        PrettyFrame::new(&frame).to_string(),
        format!("IPv4 10.0.0.2 > 10.0.0.1: UDP 7 > {port} len 11")
    );
    let udp_bytes = &frame[34..];
    let packet = UdpPacket::new_checked(udp_bytes).unwrap();
    assert!(packet.verify_checksum(IpAddr::V4(B), IpAddr::V4(A)));
    assert_ne!(packet.checksum(), 0);

    a.nic.inject(&frame);
    a.receive(&mut client, &mut Other::default());
    assert_eq!(
        client.seen,
        vec![Seen {
            src: (IpAddr::V4(B), ECHO_PORT),
            dst: (IpAddr::V4(A), port),
            payload: b"HELLO, ECHO".to_vec(),
        }]
    );
    assert_eq!(a.udp.stats().rx_delivered, 1);
}

/// Answers with a different length: the first bytes are kept.
struct Shorten(usize);

impl<D: Device> udp::Recv<D> for Shorten {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        let mut out = datagram.reply(self.0).unwrap();
        assert_eq!(out.payload().len(), self.0);
        let len = out.payload().len();
        if len > 5 {
            out.payload_mut()[5..].fill(b'!');
        }
        out.send().unwrap();
    }
}

#[test]
fn answers_may_shrink_or_grow() {
    for (len, expect) in [(5, &b"hello"[..]), (8, &b"hello!!!"[..])] {
        let (mut a, mut b) = resolved_pair();
        b.udp.bind(ECHO_PORT).unwrap();
        a.udp.bind(3000).unwrap();
        a.send(&mut App::to(3000, (B, ECHO_PORT), b"hello world"));
        carry(&mut a, &mut b);
        b.nic
            .rx(SLOTS, b.eth.recv(b.ip.recv(b.udp.recv(&mut Shorten(len)))))
            .unwrap();
        carry(&mut b, &mut a);
        let mut client = App::default();
        a.receive(&mut client, &mut Other::default());
        assert_eq!(client.seen.len(), 1);
        assert_eq!(client.seen[0].payload, expect);
    }
}

#[test]
fn unbound_port_is_answered_with_port_unreachable() {
    let (mut a, mut b) = resolved_pair();
    a.udp.bind(4000).unwrap();
    let mut client = App::to(4000, (B, 9999), b"anyone?");
    assert_eq!(a.send(&mut client), 1);
    carry(&mut a, &mut b);
    let mut server = App::default();
    b.receive(&mut server, &mut Other::default());
    assert!(server.seen.is_empty());
    assert_eq!(b.udp.stats().rx_no_port, 1);
    assert_eq!(b.udp.stats().rx_delivered, 0);
    assert_eq!(b.ip.stats().icmp_errors_sent, 1);

    let frame = b.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(
        PrettyFrame::new(&frame).to_string(),
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP dst-unreachable port"
    );
    // It reaches the client's stack, past UDP, to the next handler.
    a.nic.inject(&frame);
    let mut other = Other::default();
    a.receive(&mut client, &mut other);
    assert!(client.seen.is_empty());
    assert_eq!(other.icmp.len(), 1);
    let icmp = Icmpv4Packet::new_checked(&other.icmp[0][..]).unwrap();
    match Icmpv4Repr::parse(&icmp, ChecksumMode::Software).unwrap() {
        Icmpv4Repr::DstUnreachable { reason, header, .. } => {
            assert_eq!(reason, Icmpv4DstUnreachable::PortUnreachable);
            // The quote: our IPv4 header, then our UDP header.
            let quoted = UdpPacket::new_unchecked(&header[20..]);
            assert_eq!((quoted.src_port(), quoted.dst_port()), (4000, 9999));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn port_unreachable_is_rate_limited_and_never_for_broadcasts() {
    let (mut a, mut b) = resolved_pair();
    b.ip.set_config(ip::IpConfig {
        icmp_error_burst: 1,
        icmp_error_interval: Duration::from_secs(1),
        ..ip::IpConfig::default()
    });
    let mut client = App::default();
    for _ in 0..3 {
        client
            .queue
            .push((4000, (IpAddr::V4(B), 9999), b"x".to_vec()));
    }
    client.queue.push((
        4000,
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 255)), 9999),
        b"x".to_vec(),
    ));
    assert_eq!(a.send(&mut client), 4);
    carry(&mut a, &mut b);
    b.receive(&mut App::default(), &mut Other::default());
    let stats = b.udp.stats();
    assert_eq!((stats.rx_no_port, stats.rx_no_port_silent), (1, 3));
    assert_eq!(b.ip.stats().icmp_errors_rate_limited, 2);
    assert_eq!(b.ip.stats().icmp_errors_suppressed, 1);
    assert_eq!(b.nic.tx_pending(), 1);

    // A second later one more error may go.
    let later = Instant::from_secs(101);
    a.set_time(later);
    b.set_time(later);
    client
        .queue
        .push((4000, (IpAddr::V4(B), 9999), b"x".to_vec()));
    a.send(&mut client);
    carry(&mut a, &mut b);
    b.receive(&mut App::default(), &mut Other::default());
    assert_eq!(b.udp.stats().rx_no_port, 2);
}

#[test]
fn broadcast_datagrams_reach_bound_ports_and_answers_come_from_us() {
    let (mut a, mut b) = resolved_pair();
    b.udp.bind(ECHO_PORT).unwrap();
    a.udp.bind(4000).unwrap();
    let bcast = Ipv4Addr::new(10, 0, 0, 255);
    let mut client = App::to(4000, (bcast, ECHO_PORT), b"who");
    a.send(&mut client);
    carry(&mut a, &mut b);
    let mut server = App::echo();
    b.receive(&mut server, &mut Other::default());
    assert_eq!(server.seen[0].dst, (IpAddr::V4(bcast), ECHO_PORT));
    carry(&mut b, &mut a);
    a.receive(&mut client, &mut Other::default());
    assert_eq!(client.seen[0].src, (IpAddr::V4(B), ECHO_PORT));
    assert_eq!(client.seen[0].payload, b"WHO");
}

#[test]
fn bad_checksum_is_dropped_and_counted() {
    let (mut a, mut b) = resolved_pair();
    b.udp.bind(5000).unwrap();
    a.send(&mut App::to(4000, (B, 5000), b"checksummed"));
    let mut frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    // Corrupt one payload byte: the IPv4 header stays valid.
    *frame.last_mut().unwrap() ^= 0x01;

    let mut server = App::default();
    assert!(b.nic.inject(&frame));
    b.receive(&mut server, &mut Other::default());
    assert!(server.seen.is_empty());
    assert_eq!(b.udp.stats().rx_bad_checksum, 1);
    assert_eq!(
        b.udp.stats().rx_no_port + b.udp.stats().rx_no_port_silent,
        0
    );
    assert_eq!(b.nic.tx_pending(), 0);

    // A device that claims to have verified UDP checksums is believed.
    b.nic.set_capabilities(Capabilities {
        udp: ChecksumDuty::OFFLOADED,
        ..Capabilities::SOFTWARE
    });
    assert!(b.nic.inject(&frame));
    b.receive(&mut server, &mut Other::default());
    assert_eq!(server.seen.len(), 1);
    assert_eq!(b.udp.stats().rx_bad_checksum, 1);
}

#[test]
fn truncated_and_malformed_datagrams_are_counted() {
    let mut b = Host::new(2, B, 0);
    b.udp.bind(5000).unwrap();
    let mut server = App::default();

    // Shorter than a UDP header.
    b.nic
        .inject(&frame_a_to_b(IpProtocol::Udp, &[0x0f, 0xa0, 0x13]));
    // A length field claiming more than the IP payload holds.
    let mut long = datagram_a_to_b(4000, 5000, b"data");
    long[4..6].copy_from_slice(&40u16.to_be_bytes());
    b.nic.inject(&frame_a_to_b(IpProtocol::Udp, &long));
    // A length field below the header.
    let mut short = datagram_a_to_b(4000, 5000, b"data");
    short[4..6].copy_from_slice(&4u16.to_be_bytes());
    b.nic.inject(&frame_a_to_b(IpProtocol::Udp, &short));
    // Destination port 0.
    b.nic.inject(&frame_a_to_b(
        IpProtocol::Udp,
        &datagram_a_to_b(4000, 0, b"data"),
    ));
    b.receive(&mut server, &mut Other::default());

    assert!(server.seen.is_empty());
    let stats = b.udp.stats();
    assert_eq!(stats.rx_truncated, 3);
    assert_eq!(stats.rx_malformed, 1);
    assert_eq!(
        stats.rx_delivered + stats.rx_no_port + stats.rx_no_port_silent,
        0
    );
    assert_eq!(b.nic.tx_pending(), 0);

    // A length field shorter than the IP payload: the rest is not data.
    let mut padded = datagram_a_to_b(4000, 5000, b"data");
    padded.extend_from_slice(b"junk");
    b.nic.inject(&frame_a_to_b(IpProtocol::Udp, &padded));
    b.receive(&mut server, &mut Other::default());
    assert_eq!(server.seen.len(), 1);
    assert_eq!(server.seen[0].payload, b"data");
}

#[test]
fn zero_checksum_is_accepted_over_ipv4() {
    let mut b = Host::new(2, B, 0);
    b.udp.bind(5000).unwrap();
    let mut bytes = datagram_a_to_b(4000, 5000, b"no checksum");
    bytes[6..8].fill(0);
    b.nic.inject(&frame_a_to_b(IpProtocol::Udp, &bytes));
    let mut server = App::default();
    b.receive(&mut server, &mut Other::default());
    assert_eq!(server.seen.len(), 1);
    assert_eq!(server.seen[0].payload, b"no checksum");
    assert_eq!(server.seen[0].src, (IpAddr::V4(A), 4000));
    assert_eq!(b.udp.stats().rx_bad_checksum, 0);
}

#[test]
fn checksum_is_filled_per_device_duty_and_zero_goes_out_as_ffff() {
    let (mut a, _b) = resolved_pair();
    // A payload whose checksum computes to 0: choose the last word so that
    // the sum over pseudo-header, header and payload is 0xffff.
    let mut payload = vec![0x12, 0x34, 0, 0];
    let partial = checksum::combine(&[
        checksum::pseudo_header(IpAddr::V4(A), IpAddr::V4(B), IpProtocol::Udp, 12),
        checksum::sum(&[0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0c, 0x00, 0x00]),
        checksum::sum(&payload),
    ]);
    payload[2..].copy_from_slice(&(!partial).to_be_bytes());
    a.send(&mut App::to(4000, (B, 5000), &payload));
    let frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    let packet = UdpPacket::new_checked(&frame[34..]).unwrap();
    assert_eq!(packet.checksum(), 0xffff);
    assert!(packet.verify_checksum(IpAddr::V4(A), IpAddr::V4(B)));

    // With the device filling checksums, the field is left for it.
    a.nic.set_capabilities(Capabilities {
        udp: ChecksumDuty::OFFLOADED,
        ..Capabilities::SOFTWARE
    });
    a.send(&mut App::to(4000, (B, 5000), b"offloaded"));
    let frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(UdpPacket::new_checked(&frame[34..]).unwrap().checksum(), 0);
}

/// Answers every datagram, expecting `error`.
struct ReplyFails(Option<UdpError>);

impl<D: Device> udp::Recv<D> for ReplyFails {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        self.0 = datagram.reply(4).err();
    }
}

#[test]
fn source_port_zero_is_delivered_but_not_answered() {
    let mut b = Host::new(2, B, 0);
    b.udp.bind(5000).unwrap();
    let bytes = datagram_a_to_b(0, 5000, b"fire and forget");
    b.nic.inject(&frame_a_to_b(IpProtocol::Udp, &bytes));
    let mut app = ReplyFails(None);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.udp.recv(&mut app))))
        .unwrap();
    assert_eq!(app.0, Some(UdpError::BadPort));
    assert_eq!(b.udp.stats().rx_delivered, 1);
    assert_eq!(b.udp.stats().tx_errors, 1);
    assert_eq!(b.nic.tx_pending(), 0);
}

#[test]
fn other_protocols_pass_to_the_next_handler() {
    let mut b = Host::new(2, B, 0);
    b.nic
        .inject(&frame_a_to_b(IpProtocol::Unknown(253), b"not udp"));
    b.nic.inject(&frame_a_to_b(IpProtocol::Tcp, &[0; 20]));
    let mut other = Other::default();
    b.receive(&mut App::default(), &mut other);
    assert_eq!(
        other.protocols,
        vec![IpProtocol::Unknown(253), IpProtocol::Tcp]
    );
    // With `recv`, they are dropped quietly: no protocol unreachable.
    b.nic
        .inject(&frame_a_to_b(IpProtocol::Unknown(253), b"not udp"));
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.udp.recv(App::default()))))
        .unwrap();
    assert_eq!(b.nic.tx_pending(), 0);
    assert_eq!(b.udp.stats(), udp::UdpStats::default());
}

#[test]
fn send_errors_are_typed_and_counted() {
    let (mut a, _b) = resolved_pair();
    let cases = [
        ((B, 0), 4, UdpError::BadPort),
        ((B, 5000), udp::MAX_PAYLOAD + 1, UdpError::TooLarge),
        ((B, 5000), 2000, UdpError::Ip(ip::Error::TooLarge)),
        (
            (Ipv4Addr::new(192, 0, 2, 1), 5000),
            4,
            UdpError::Ip(ip::Error::Unreachable),
        ),
    ];
    for (i, (dst, len, error)) in cases.into_iter().enumerate() {
        let mut app = SendLen {
            dst: (IpAddr::V4(dst.0), dst.1),
            len,
            result: None,
            capacity: 0,
        };
        assert_eq!(
            a.nic
                .tx(SLOTS, a.eth.send(a.ip.send(a.udp.send(&mut app))))
                .unwrap(),
            0
        );
        assert_eq!(app.result, Some(Err(error)));
        assert_eq!(app.capacity, 1514 - 14 - 20 - 8);
        assert_eq!(a.udp.stats().tx_errors, i as u64 + 1);
    }
    assert_eq!(a.udp.stats().tx_datagrams, 0);
}

/// Prepares one datagram of `len` bytes, keeping the outcome.
struct SendLen {
    dst: (IpAddr, u16),
    len: usize,
    result: Option<Result<(), UdpError>>,
    capacity: usize,
}

impl<D: Device> udp::Send<D> for SendLen {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        self.capacity = raw.payload_capacity();
        let init = udp::Init {
            src_port: 4000,
            dst: self.dst,
            payload_len: self.len,
        };
        self.result = Some(raw.prepare(init).map(|_| ()));
    }
}

#[test]
fn bind_errors() {
    let mut host = Host::new(1, A, 0);
    assert_eq!(host.udp.bind(0), Err(UdpError::BadPort));
    host.udp.bind(53).unwrap();
    assert_eq!(host.udp.bind(53), Err(UdpError::InUse));
    for port in 1..8 {
        host.udp.bind(1000 + port).unwrap();
    }
    assert_eq!(host.udp.bind(2000), Err(UdpError::TableFull));
    assert_eq!(host.udp.bind_ephemeral(), Err(UdpError::TableFull));
    assert!(host.udp.unbind(53));
    assert!(!host.udp.is_bound(53));
    host.udp.bind(2000).unwrap();
}

#[test]
fn ephemeral_allocator_skips_bound_ports_and_wraps() {
    let mut host = Host::new(1, A, 0x3ffe);
    host.udp.bind(65535).unwrap();
    host.udp.bind(49152).unwrap();
    assert_eq!(host.udp.next_ephemeral(), Some(65534));
    assert_eq!(host.udp.next_ephemeral(), Some(49153));
    assert_eq!(host.udp.bind_ephemeral(), Ok(49154));
    assert_eq!(host.udp.next_ephemeral(), Some(49155));
    // Different seeds start elsewhere.
    let mut other = Host::new(1, A, 0x0123);
    assert_eq!(other.udp.next_ephemeral(), Some(0xc123));
}

#[test]
fn flood_of_ten_thousand_datagrams_arrives_complete() {
    const COUNT: u32 = 10_000;
    let (mut a, mut b) = resolved_pair();
    b.udp.bind(ECHO_PORT).unwrap();
    let port = a.udp.bind_ephemeral().unwrap();
    let mut client = App {
        count_only: Some(vec![false; COUNT as usize]),
        ..App::default()
    };
    for seq in 0..COUNT {
        let mut payload = seq.to_be_bytes().to_vec();
        payload.extend_from_slice(&[seq as u8; 60]);
        client
            .queue
            .push((port, (IpAddr::V4(B), ECHO_PORT), payload));
    }
    client.queue.reverse();
    // Sends from the back of the queue (cheap to take).
    let mut server = App {
        echo: true,
        count_only: Some(vec![false; COUNT as usize]),
        ..App::default()
    };
    let mut rounds = 0;
    while !client.queue.is_empty() || a.nic.tx_pending() + b.nic.tx_pending() > 0 {
        rounds += 1;
        assert!(rounds < 10 * COUNT, "the flood does not drain");
        let mut batch = Batch(&mut client);
        a.nic
            .tx(SLOTS, a.eth.send(a.ip.send(a.udp.send(&mut batch))))
            .unwrap();
        carry(&mut a, &mut b);
        b.receive(&mut server, &mut Other::default());
        carry(&mut b, &mut a);
        a.receive(&mut client, &mut Other::default());
    }
    let all = |marks: &Option<Vec<bool>>| marks.as_ref().unwrap().iter().all(|m| *m);
    assert!(all(&server.count_only), "every datagram reached the server");
    assert!(all(&client.count_only), "every echo reached the client");
    assert_eq!(b.udp.stats().rx_delivered, u64::from(COUNT));
    assert_eq!(b.udp.stats().tx_datagrams, u64::from(COUNT));
    assert_eq!(a.udp.stats().rx_delivered, u64::from(COUNT));
    assert_eq!(a.udp.stats().tx_datagrams, u64::from(COUNT));
    assert_eq!(a.udp.stats().tx_errors + b.udp.stats().tx_errors, 0);
    assert_eq!(a.nic.stats().rx_missed + b.nic.stats().rx_missed, 0);
}

/// Sends from the back of the app's queue (the flood reverses it so that
/// it goes out in order without shifting the vector).
struct Batch<'a>(&'a mut App);

impl<D: Device> udp::Send<D> for Batch<'_> {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let Some((src_port, dst, payload)) = self.0.queue.last() else {
            return;
        };
        let init = udp::Init {
            src_port: *src_port,
            dst: *dst,
            payload_len: payload.len(),
        };
        let mut out = raw.prepare(init).unwrap();
        out.payload_mut().copy_from_slice(payload);
        out.send().unwrap();
        self.0.queue.pop();
        self.0.sent += 1;
    }
}

/// Keeps the payloads it receives.
#[derive(Default)]
struct Collect {
    payloads: Vec<Vec<u8>>,
}

impl<D: Device> udp::Recv<D> for Collect {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        self.payloads.push(datagram.payload().to_vec());
    }
}

/// Sends one 6000-byte datagram in fragments.
struct Large {
    dst: IpAddr,
    payload: Vec<u8>,
    cursor: udp::LargeDatagram,
}

impl<D: Device> udp::Send<D> for Large {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        if self.cursor.is_done() {
            return;
        }
        let init = udp::Init {
            src_port: 4000,
            dst: (self.dst, 5000),
            payload_len: self.payload.len(),
        };
        let _ = raw.send_large(init, &self.payload, &mut self.cursor);
    }
}

#[test]
fn datagrams_larger_than_a_frame_go_in_fragments_and_arrive_whole() {
    use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
    let (mut a, mut b) = (Host::new(1, A, 1), Host::new(2, B, 2));
    b.ip.set_reassembler(Reassembler::new(
        vec![0u8; 2 * 65536],
        vec![ReassemblySlot::EMPTY; 2],
        65536,
        ReassemblyConfig::default(),
    ));
    b.udp.bind(5000).unwrap();
    let payload: Vec<u8> = (0..6000u32).map(|i| (i % 251) as u8).collect();
    let mut large = Large {
        dst: IpAddr::V4(B),
        payload: payload.clone(),
        cursor: udp::LargeDatagram::new(),
    };
    let mut sink = Collect::default();
    for _ in 0..3 {
        a.nic
            .tx(SLOTS, a.eth.send(a.ip.send(a.udp.send(&mut large))))
            .unwrap();
        MemoryLink::transfer(&mut a.nic, &mut b.nic);
        b.nic
            .rx(SLOTS, b.eth.recv(b.ip.recv(b.udp.recv(&mut sink))))
            .unwrap();
        MemoryLink::transfer(&mut b.nic, &mut a.nic);
        a.nic
            .rx(
                SLOTS,
                a.eth.recv(a.ip.recv(a.udp.recv(&mut Collect::default()))),
            )
            .unwrap();
    }
    assert!(large.cursor.is_done());
    assert_eq!(b.ip.stats().rx_reassembled, 1);
    assert_eq!(sink.payloads, vec![payload]);
    assert_eq!(b.udp.stats().rx_bad_checksum, 0);
}
