//! Two IPv6 hosts on the in-memory link, with explicit time: neighbor
//! discovery (the first packet waits while a solicitation goes to the
//! solicited-node group), echo answered in place, extension headers a host
//! must not skip, and ICMPv6 errors.

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv6Addr};

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

const A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
}

impl Host {
    fn new(mac: u8, addr: Ipv6Addr) -> Host {
        let mac = EthernetAddress([2, 0, 0, 0, 0, mac]);
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(addr), 64).unwrap()));
        let link_local = ethox::wire::ipv6::link_local_from_mac(mac);
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(link_local), 64).unwrap()));
        Host {
            nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
            eth: eth::Endpoint::new(mac),
            ip,
            icmp: icmp::Endpoint::new(),
        }
    }

    fn send<S: ip::Send<Nic>>(&mut self, app: S) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(app)))
            .unwrap()
    }

    fn receive<R: ip::Recv<Nic>>(&mut self, app: R) -> usize {
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(self.icmp.recv(app))))
            .unwrap()
    }

    fn drain(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(line) = self.nic.drain_one(|f| PrettyFrame::new(f).to_string()) {
            lines.push(line);
        }
        lines
    }
}

struct Ping6 {
    dst: Ipv6Addr,
    left: u16,
    last_error: Option<ip::Error>,
    replies: Vec<u16>,
}

impl Ping6 {
    /// `left` echo requests to `dst` (0: a handler that only listens).
    fn new(dst: Ipv6Addr, left: u16) -> Ping6 {
        Ping6 {
            dst,
            left,
            last_error: None,
            replies: Vec::new(),
        }
    }
}

impl<D: Device> ip::Send<D> for Ping6 {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.left == 0 {
            return;
        }
        let data = [7u8; 24];
        let request = Icmpv6Repr::EchoRequest {
            ident: 9,
            seq_no: self.left,
            data: &data,
        };
        let init = ip::Init {
            src: None,
            dst: IpAddr::V6(self.dst),
            protocol: IpProtocol::Icmpv6,
            payload_len: request.buffer_len(),
        };
        match raw.prepare(init) {
            Ok(mut out) => {
                let ip::IpRepr::V6(header) = out.repr() else {
                    panic!("not IPv6")
                };
                request.emit(
                    &mut Icmpv6Packet::new_unchecked(out.payload_mut()),
                    header.src,
                    header.dst,
                    ChecksumMode::Software,
                );
                out.send().unwrap();
                self.left -= 1;
                self.last_error = None;
            }
            Err(err) => self.last_error = Some(err),
        }
    }
}

impl<D: Device> ip::Recv<D> for Ping6 {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let ip::IpRepr::V6(header) = packet.repr() else {
            return;
        };
        let parsed = Icmpv6Packet::new_checked(packet.payload())
            .and_then(|p| Icmpv6Repr::parse(&p, header.src, header.dst, ChecksumMode::Software));
        if let Ok(Icmpv6Repr::EchoReply { seq_no, .. }) = parsed {
            self.replies.push(seq_no);
        }
    }
}

fn carry(from: &mut Host, to: &mut Host) -> usize {
    MemoryLink::transfer(&mut from.nic, &mut to.nic)
}

/// A (fd00::1) and B (fd00::2), their clocks at `now`.
fn hosts_at(now: Instant) -> (Host, Host) {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    a.nic.set_time(now);
    b.nic.set_time(now);
    (a, b)
}

#[test]
fn ping6_resolves_with_neighbor_discovery_then_is_answered() {
    let (mut a, mut b) = hosts_at(Instant::from_secs(3));
    let mut ping = Ping6::new(B, 2);
    let mut quiet = Ping6::new(A, 0);

    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(ping.last_error, Some(ip::Error::Unresolved));
    assert_eq!(a.ip.stats().ndisc_solicitations_sent, 1);
    carry(&mut a, &mut b);
    b.receive(&mut quiet);
    assert_eq!(b.ip.stats().ndisc_advertisements_sent, 1);
    assert_eq!(
        b.ip.ndisc_cache().peek(A),
        Some(EthernetAddress([2, 0, 0, 0, 0, 1]))
    );
    carry(&mut b, &mut a);
    a.receive(&mut ping);
    assert_eq!(
        a.ip.ndisc_cache().peek(B),
        Some(EthernetAddress([2, 0, 0, 0, 0, 2]))
    );

    assert_eq!(a.send(&mut ping), 2);
    carry(&mut a, &mut b);
    b.receive(&mut quiet);
    assert_eq!(b.icmp.stats().echo_replies_sent, 2);
    let replies = b.drain();
    assert_eq!(
        replies,
        vec![
            "IPv6 fd00::2 > fd00::1: ICMPv6 echo reply id 9 seq 2 len 24",
            "IPv6 fd00::2 > fd00::1: ICMPv6 echo reply id 9 seq 1 len 24",
        ]
    );
}

#[test]
fn solicitation_goes_to_the_solicited_node_group_with_hop_limit_255() {
    let mut a = Host::new(1, A);
    a.nic.set_time(Instant::from_secs(1));
    let mut ping = Ping6::new(B, 1);
    a.send(&mut ping);
    let frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(&frame[..6], &[0x33, 0x33, 0xff, 0, 0, 2]);
    assert_eq!(frame[14 + 7], 255, "hop limit");
    assert_eq!(
        PrettyFrame::new(&frame).to_string(),
        "IPv6 fd00::1 > ff02::1:ff00:2: ICMPv6 neighbor solicitation who-has fd00::2"
    );
}

#[test]
fn neighbor_discovery_from_beyond_the_link_is_dropped() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    a.nic.set_time(Instant::from_secs(1));
    b.nic.set_time(Instant::from_secs(1));
    let mut ping = Ping6::new(B, 1);
    a.send(&mut ping);
    // Lower the hop limit as a router would (and fix nothing else: the
    // ICMPv6 checksum does not cover it).
    let mut frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    frame[14 + 7] = 254;
    b.nic.inject(&frame);
    b.receive(&mut ping);
    assert_eq!(b.ip.stats().ndisc_malformed, 1);
    assert_eq!(b.ip.stats().ndisc_advertisements_sent, 0);
}

#[test]
fn duplicate_address_detection_is_answered_to_all_nodes() {
    let mut b = Host::new(2, B);
    b.nic.set_time(Instant::from_secs(1));
    // A DAD probe for B's address, as Linux sends it (from ::, to the
    // solicited-node group, no link-layer option).
    let solicit = Icmpv6Repr::Ndisc(ethox::wire::ndisc::NdiscRepr::NeighborSolicit {
        target: B,
        lladdr: None,
    });
    let group = ethox::wire::ipv6::solicited_node(B);
    let mut frame = vec![0u8; 14 + 40 + solicit.buffer_len()];
    frame[..6].copy_from_slice(&EthernetAddress::from_ipv6_multicast(group).0);
    frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
    frame[12..14].copy_from_slice(&[0x86, 0xdd]);
    let header = ethox::wire::ipv6::Ipv6Repr {
        src: Ipv6Addr::UNSPECIFIED,
        dst: group,
        next_header: IpProtocol::Icmpv6,
        payload_len: solicit.buffer_len() as u16,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    header.emit(&mut ethox::wire::ipv6::Ipv6Packet::new_unchecked(
        &mut frame[14..54],
    ));
    solicit.emit(
        &mut Icmpv6Packet::new_unchecked(&mut frame[54..]),
        Ipv6Addr::UNSPECIFIED,
        group,
        ChecksumMode::Software,
    );
    b.nic.inject(&frame);
    let mut quiet = Ping6::new(A, 0);
    b.receive(&mut quiet);
    assert_eq!(
        b.drain(),
        vec![
            "IPv6 fd00::2 > ff02::1: ICMPv6 neighbor advertisement fd00::2 is-at 02:00:00:00:00:02 [O]"
        ]
    );
}

/// Refuses what it is given as an unknown protocol.
struct Refuse(usize);

impl<D: Device> ip::Recv<D> for Refuse {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        if packet.reject(ip::Reject::PortUnreachable).unwrap() {
            self.0 += 1;
        }
    }
}

/// Sends one UDP-numbered packet (protocol 17) with an empty payload.
struct Udpish(Ipv6Addr, bool);

impl<D: Device> ip::Send<D> for Udpish {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.1 {
            return;
        }
        let init = ip::Init {
            src: None,
            dst: IpAddr::V6(self.0),
            protocol: IpProtocol::Udp,
            payload_len: 8,
        };
        if let Ok(mut out) = raw.prepare(init) {
            out.payload_mut()
                .copy_from_slice(&[0x0f, 0xa0, 0x13, 0x88, 0, 8, 0, 0]);
            out.send().unwrap();
            self.1 = true;
        }
    }
}

#[test]
fn refused_packets_get_icmpv6_port_unreachable_with_the_quote() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    a.nic.set_time(Instant::from_secs(1));
    b.nic.set_time(Instant::from_secs(1));
    let mut quiet = Ping6::new(A, 0);
    let mut probe = Udpish(B, false);
    a.send(&mut probe); // neighbor solicitation
    carry(&mut a, &mut b);
    b.receive(&mut quiet);
    carry(&mut b, &mut a);
    a.receive(&mut quiet);
    a.send(&mut probe);
    assert!(probe.1);
    carry(&mut a, &mut b);
    let mut refuse = Refuse(0);
    b.receive(&mut refuse);
    assert_eq!(refuse.0, 1);
    let frames = b.drain();
    assert_eq!(
        frames,
        vec!["IPv6 fd00::2 > fd00::1: ICMPv6 dst-unreachable port"]
    );
}

#[test]
fn router_advertisement_gives_default_route_mtu_and_slaac_address() {
    // A host with only its link-local address, following the router
    // advertisement dnsmasq sent in the captured fixture.
    let mac = EthernetAddress([2, 0, 0, 0, 0, 7]);
    let mut ip = ip::Endpoint::new(
        vec![None; 4],
        Routes::new(vec![None; 4]),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V6(ethox::wire::ipv6::link_local_from_mac(mac)), 64).unwrap());
    ip.set_config(ip::IpConfig {
        slaac: true,
        ..ip::IpConfig::default()
    });
    let mut host = Host {
        nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
        eth: eth::Endpoint::new(mac),
        ip,
        icmp: icmp::Endpoint::new(),
    };
    let path = format!(
        "{}/tests/fixtures/ndisc-ra.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::read(path).unwrap();
    let ra = ethox::wire::pcap::PcapReader::new(&file)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .data
        .to_vec();
    host.nic.set_time(Instant::from_secs(10));
    host.nic.inject(&ra);
    let mut quiet = Ping6::new(A, 0);
    host.receive(&mut quiet);
    let stats = host.ip.stats();
    assert_eq!(stats.router_advertisements, 1);
    assert_eq!(host.ip.advertised_mtu(), Some(1500));
    let router = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
    let hop = host.ip.routes().lookup(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        Instant::from_secs(11),
    );
    assert_eq!(hop.and_then(|h| h.gateway), Some(IpAddr::V6(router)));
    // The route expires with the router lifetime (1800 s).
    assert!(
        host.ip
            .routes()
            .lookup(IpAddr::V6(A), Instant::from_secs(10 + 1800))
            .is_none_or(|h| h.gateway.is_none())
    );
    // SLAAC: fd00::/64 plus the EUI-64 interface identifier of 02:00:00:00:00:07.
    let formed = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0xff, 0xfe00, 7);
    assert!(
        host.ip.has_addr(IpAddr::V6(formed)),
        "addresses: {:?}",
        host.ip.addrs().collect::<Vec<_>>()
    );
    assert_eq!(stats.slaac_addresses, 1);
    // The router's link-layer address was learned from the option.
    assert_eq!(
        host.ip.ndisc_cache().peek(router),
        Some(EthernetAddress([2, 0, 0, 0, 0, 2]))
    );
}

#[test]
fn unrecognized_options_that_ask_for_it_get_a_parameter_problem() {
    let mut b = Host::new(2, B);
    b.nic.set_time(Instant::from_secs(1));
    // Crafted with scapy (see the fixture): hop-by-hop with Router Alert,
    // a routing header with no segments left, an atomic fragment header,
    // then destination options holding option type 0xde, whose top bits
    // (11) say: discard, and answer with a parameter problem unless the
    // destination was multicast.
    let path = format!(
        "{}/tests/fixtures/ipv6-ext-scapy.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = std::fs::read(path).unwrap();
    let frame = ethox::wire::pcap::PcapReader::new(&file)
        .unwrap()
        .nth(1)
        .unwrap()
        .unwrap()
        .data
        .to_vec();
    b.nic.inject(&frame);
    let mut quiet = Ping6::new(A, 0);
    b.receive(&mut quiet);
    assert_eq!(b.ip.stats().rx_ext_header_dropped, 1);
    let answer = b
        .nic
        .drain_one(|f| f.to_vec())
        .expect("a parameter problem");
    let ip6 = ethox::wire::ipv6::Ipv6Packet::new_checked(&answer[14..]).unwrap();
    let icmp = Icmpv6Packet::new_checked(ip6.payload()).unwrap();
    match Icmpv6Repr::parse(&icmp, B, A, ChecksumMode::Software).unwrap() {
        Icmpv6Repr::ParamProblem {
            pointer, header, ..
        } => {
            // The pointer is an offset into the quoted packet, and there
            // sits the unrecognized option type.
            assert_eq!(header[pointer as usize], 0xde);
            assert_eq!(
                &header[..40],
                &frame[14..54],
                "the quote starts with the original header"
            );
        }
        other => panic!("not a parameter problem: {other:?}"),
    }
}

/// The IP layer remembers its last IPv6 resolution; a change of this
/// host's addresses is seen by the very next packet.
#[test]
fn a_remembered_resolution_follows_the_addresses() {
    let (mut a, mut b) = hosts_at(Instant::from_secs(3));
    let mut quiet = Ping6::new(A, 0);
    let mut first = Ping6::new(B, 1);
    assert_eq!(a.send(&mut first), 1); // neighbor solicitation
    carry(&mut a, &mut b);
    b.receive(&mut quiet);
    carry(&mut b, &mut a);
    a.receive(&mut first);
    assert_eq!(a.send(&mut first), 1);
    assert_eq!(
        a.drain(),
        ["IPv6 fd00::1 > fd00::2: ICMPv6 echo request id 9 seq 1 len 24"]
    );

    // Off B's prefix, A has no route to B.
    assert!(a.ip.remove_addr(IpAddr::V6(A)));
    let elsewhere = Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 1);
    assert!(a.ip.add_addr(IpCidr::new(IpAddr::V6(elsewhere), 64).unwrap()));
    let mut second = Ping6::new(B, 1);
    assert_eq!(a.send(&mut second), 0);
    assert_eq!(second.last_error, Some(ip::Error::Unreachable));

    // Back on it: the ping goes, from the address A has again.
    assert!(a.ip.remove_addr(IpAddr::V6(elsewhere)));
    assert!(a.ip.add_addr(IpCidr::new(IpAddr::V6(A), 64).unwrap()));
    assert_eq!(a.send(&mut second), 1);
    assert_eq!(
        a.drain(),
        ["IPv6 fd00::1 > fd00::2: ICMPv6 echo request id 9 seq 1 len 24"]
    );
}
