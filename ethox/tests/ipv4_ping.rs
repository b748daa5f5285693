//! Two hosts on the in-memory link, with explicit time: ARP resolution
//! (the first packet waits while a request goes out), echo requests
//! answered in place, and the drops the layers count.

use core::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::{Route, Routes};
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr};

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
}

impl Host {
    fn new(mac: u8, addr: Ipv4Addr) -> Host {
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).unwrap()));
        Host {
            nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
            eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, mac])),
            ip,
            icmp: icmp::Endpoint::new(),
        }
    }

    fn set_time(&mut self, now: Instant) {
        self.nic.set_time(now);
    }

    fn send(&mut self, app: &mut Pinger) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(app)))
            .unwrap()
    }

    fn receive(&mut self, app: &mut Pinger) -> usize {
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(self.icmp.recv(app))))
            .unwrap()
    }
}

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Sends echo requests to `dst` until `count` were sent; records replies.
struct Pinger {
    dst: Ipv4Addr,
    count: u16,
    sent: u16,
    last_error: Option<ip::Error>,
    replies: Vec<(u16, Vec<u8>)>,
    other: usize,
}

impl Pinger {
    fn new(dst: Ipv4Addr, count: u16) -> Pinger {
        Pinger {
            dst,
            count,
            sent: 0,
            last_error: None,
            replies: Vec::new(),
            other: 0,
        }
    }
}

impl<D: Device> ip::Send<D> for Pinger {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.sent == self.count {
            return;
        }
        let data = [self.sent as u8; 32];
        let request = Icmpv4Repr::EchoRequest {
            ident: 0x4242,
            seq_no: self.sent,
            data: &data,
        };
        let init = ip::Init {
            src: None,
            dst: IpAddr::V4(self.dst),
            protocol: IpProtocol::Icmp,
            payload_len: request.buffer_len(),
        };
        match raw.prepare(init) {
            Ok(mut out) => {
                request
                    .emit(
                        &mut Icmpv4Packet::new_unchecked(out.payload_mut()),
                        ChecksumMode::Software,
                    )
                    .unwrap();
                out.send().unwrap();
                self.sent += 1;
                self.last_error = None;
            }
            Err(err) => self.last_error = Some(err),
        }
    }
}

impl<D: Device> ip::Recv<D> for Pinger {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let parsed = Icmpv4Packet::new_checked(packet.payload())
            .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software));
        match parsed {
            Ok(Icmpv4Repr::EchoReply { seq_no, data, .. }) => {
                self.replies.push((seq_no, data.to_vec()))
            }
            _ => self.other += 1,
        }
    }
}

fn carry(a: &mut Host, b: &mut Host) -> usize {
    MemoryLink::exchange(&mut a.nic, &mut b.nic)
}

#[test]
fn first_ping_waits_for_arp_then_is_answered_in_place() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    let mut ping = Pinger::new(B, 1);
    let mut idle = Pinger::new(A, 0);
    let t0 = Instant::from_secs(100);
    a.set_time(t0);
    b.set_time(t0);

    // The first attempt sends an ARP request instead of the ping.
    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(ping.last_error, Some(ip::Error::Unresolved));
    assert_eq!(ping.sent, 0);
    assert_eq!(a.ip.stats().arp_requests_sent, 1);

    // B answers it in place and learns A on the way (RFC 826).
    carry(&mut a, &mut b);
    b.receive(&mut idle);
    assert_eq!(b.ip.stats().arp_replies_sent, 1);
    assert_eq!(
        b.ip.arp_cache().peek(A),
        Some(EthernetAddress([2, 0, 0, 0, 0, 1]))
    );
    carry(&mut a, &mut b);
    a.receive(&mut ping);
    assert_eq!(
        a.ip.arp_cache().peek(B),
        Some(EthernetAddress([2, 0, 0, 0, 0, 2]))
    );

    // Now the ping goes out, B's ICMP layer answers in place.
    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(ping.sent, 1);
    carry(&mut a, &mut b);
    b.receive(&mut idle);
    assert_eq!(b.icmp.stats().echo_replies_sent, 1);
    assert_eq!(idle.other, 0, "the echo request must not reach the app");
    carry(&mut a, &mut b);
    a.receive(&mut ping);
    assert_eq!(ping.replies, vec![(0, vec![0u8; 32])]);
    assert_eq!(b.ip.stats().rx_delivered, 1);
    assert_eq!(a.ip.stats().rx_delivered, 1);
}

#[test]
fn arp_requests_are_rate_limited_per_address() {
    let mut a = Host::new(1, A);
    let mut ping = Pinger::new(B, 1);
    a.set_time(Instant::from_secs(1));
    assert_eq!(a.send(&mut ping), 1);
    // Within the second: no second request, the packet still waits.
    a.set_time(Instant::from_secs(1) + Duration::from_millis(900));
    assert_eq!(a.send(&mut ping), 0);
    assert_eq!(ping.last_error, Some(ip::Error::Unresolved));
    assert_eq!(a.ip.stats().arp_requests_sent, 1);
    assert_eq!(a.ip.next_deadline(), Some(Instant::from_secs(2)));
    a.set_time(Instant::from_secs(2));
    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(a.ip.stats().arp_requests_sent, 2);
}

#[test]
fn off_link_destinations_need_a_route() {
    let mut a = Host::new(1, A);
    let far = Ipv4Addr::new(192, 0, 2, 7);
    let mut ping = Pinger::new(far, 1);
    a.set_time(Instant::from_secs(1));
    assert_eq!(a.send(&mut ping), 0);
    assert_eq!(ping.last_error, Some(ip::Error::Unreachable));
    // With a default route, the gateway is resolved instead.
    a.ip.routes_mut()
        .add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 254)))
        .unwrap();
    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(ping.last_error, Some(ip::Error::Unresolved));
    let request = a.nic.drain_one(|frame| frame.to_vec()).unwrap();
    assert_eq!(
        ethox::wire::pretty::PrettyFrame::new(&request).to_string(),
        "ARP request who-has 10.0.0.254 tell 10.0.0.1"
    );
}

#[test]
fn arp_for_others_and_truncated_packets_are_counted() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    let mut idle = Pinger::new(A, 0);
    // B pretends to be resolved already, then pings 10.0.0.9 through A's MAC.
    b.set_time(Instant::from_secs(1));
    let mut ping = Pinger::new(Ipv4Addr::new(10, 0, 0, 9), 2);
    b.send(&mut ping); // ARP request for .9: A ignores it (not its address)
    carry(&mut b, &mut a);
    a.receive(&mut idle);
    assert_eq!(a.ip.stats().arp_replies_sent, 0);
    assert_eq!(a.ip.stats().arp_rx, 1);
    // A truncated IPv4 packet.
    let mut frame = vec![0u8; 60];
    frame[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    frame[14] = 0x45;
    frame[16..18].copy_from_slice(&200u16.to_be_bytes()); // longer than the frame
    a.nic.inject(&frame);
    a.receive(&mut idle);
    assert_eq!(a.ip.stats().rx_truncated, 1);
    assert_eq!(idle.other + idle.replies.len(), 0);
}

/// Sends `count` packets of an unassigned protocol to `dst`.
struct Probe {
    dst: Ipv4Addr,
    count: usize,
}

impl<D: Device> ip::Send<D> for Probe {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.count == 0 {
            return;
        }
        let init = ip::Init {
            src: None,
            dst: IpAddr::V4(self.dst),
            protocol: IpProtocol::Unknown(253),
            payload_len: 100,
        };
        if let Ok(mut out) = raw.prepare(init) {
            out.payload_mut().fill(0xab);
            out.send().unwrap();
            self.count -= 1;
        }
    }
}

/// Refuses every packet it is given as an unknown protocol.
#[derive(Default)]
struct Refuse {
    sent: usize,
    held: usize,
}

impl<D: Device> ip::Recv<D> for Refuse {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        match packet.reject(ip::Reject::ProtocolUnreachable) {
            Ok(true) => self.sent += 1,
            Ok(false) => self.held += 1,
            Err(err) => panic!("reject failed: {err}"),
        }
    }
}

#[test]
fn unknown_protocols_are_refused_with_rate_limited_icmp_errors() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    b.ip.set_config(ip::IpConfig {
        icmp_error_burst: 2,
        icmp_error_interval: Duration::from_secs(1),
        ..ip::IpConfig::default()
    });
    let mut refuse = Refuse::default();
    let mut seen = Pinger::new(B, 0);
    let now = Instant::from_secs(5);
    a.set_time(now);
    b.set_time(now);
    // Resolve first: A's probe triggers ARP, B answers.
    let mut probe = Probe { dst: B, count: 5 };
    a.nic.tx(SLOTS, a.eth.send(a.ip.send(&mut probe))).unwrap();
    carry(&mut a, &mut b);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(&mut refuse))))
        .unwrap();
    carry(&mut a, &mut b);
    a.receive(&mut seen);
    // Five probes; B may answer two of them.
    a.nic.tx(SLOTS, a.eth.send(a.ip.send(&mut probe))).unwrap();
    assert_eq!(probe.count, 0);
    carry(&mut a, &mut b);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(&mut refuse))))
        .unwrap();
    assert_eq!((refuse.sent, refuse.held), (2, 3));
    assert_eq!(b.ip.stats().icmp_errors_rate_limited, 3);
    // A's ICMP layer hands the errors to the app; check them on the wire.
    let mut lines = Vec::new();
    while let Some(line) = b
        .nic
        .drain_one(|f| ethox::wire::pretty::PrettyFrame::new(f).to_string())
    {
        lines.push(line);
    }
    assert_eq!(
        lines,
        vec!["IPv4 10.0.0.2 > 10.0.0.1: ICMP dst-unreachable protocol"; 2]
    );
    // A second later the bucket has refilled by one.
    b.set_time(now + Duration::from_secs(1));
    a.set_time(now + Duration::from_secs(1));
    probe.count = 2;
    a.nic.tx(SLOTS, a.eth.send(a.ip.send(&mut probe))).unwrap();
    carry(&mut a, &mut b);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(&mut refuse))))
        .unwrap();
    assert_eq!((refuse.sent, refuse.held), (3, 4));
}

#[test]
fn broadcasts_are_never_answered_with_errors() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    let mut refuse = Refuse::default();
    a.set_time(Instant::from_secs(1));
    let mut probe = Probe {
        dst: Ipv4Addr::new(10, 0, 0, 255),
        count: 1,
    };
    a.nic.tx(SLOTS, a.eth.send(a.ip.send(&mut probe))).unwrap();
    assert_eq!(probe.count, 0, "a subnet broadcast needs no resolution");
    carry(&mut a, &mut b);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(&mut refuse))))
        .unwrap();
    assert_eq!((refuse.sent, refuse.held), (0, 1));
    assert_eq!(b.ip.stats().icmp_errors_suppressed, 1);
    assert_eq!(b.nic.tx_pending(), 0);
}

#[test]
fn gratuitous_arp_is_announced_and_updates_known_neighbors() {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    let mut idle = Pinger::new(A, 0);
    let mut ping = Pinger::new(B, 1);
    let now = Instant::from_secs(1);
    a.set_time(now);
    b.set_time(now);
    // A and B know each other after one exchange.
    a.send(&mut ping);
    carry(&mut a, &mut b);
    b.receive(&mut idle);
    carry(&mut a, &mut b);
    a.receive(&mut ping);
    // B announces itself with a new MAC (a failover).
    b.eth.set_addr(EthernetAddress([2, 0, 0, 0, 0, 0x22]));
    assert!(b.ip.announce(B));
    assert!(!b.ip.announce(Ipv4Addr::new(10, 0, 0, 77)));
    assert_eq!(b.send(&mut idle), 1);
    let frame = b.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(
        ethox::wire::pretty::PrettyFrame::new(&frame)
            .with_link_header(true)
            .to_string(),
        "02:00:00:00:00:22 > ff:ff:ff:ff:ff:ff, ARP announcement 10.0.0.2"
    );
    a.nic.inject(&frame);
    a.receive(&mut ping);
    assert_eq!(
        a.ip.arp_cache().peek(B),
        Some(EthernetAddress([2, 0, 0, 0, 0, 0x22]))
    );
}

/// A and B at `now`, each knowing the other's hardware address: A's first
/// `ping` went out as an ARP request, which B (answering with `idle`)
/// learned A from and answered.
fn resolved_pair(now: Instant, ping: &mut Pinger, idle: &mut Pinger) -> (Host, Host) {
    let (mut a, mut b) = (Host::new(1, A), Host::new(2, B));
    a.set_time(now);
    b.set_time(now);
    a.send(ping); // ARP request
    carry(&mut a, &mut b);
    b.receive(idle);
    carry(&mut a, &mut b);
    a.receive(ping);
    (a, b)
}

/// The IP layer remembers its last IPv4 resolution (a host sending to one
/// peer would otherwise resolve it for every packet); whatever it depended
/// on changing must be seen by the very next packet.
#[test]
fn a_remembered_resolution_follows_the_arp_cache_addresses_and_routes() {
    let mut idle = Pinger::new(A, 0);
    let mut ping = Pinger::new(B, 100);
    let (mut a, mut b) = resolved_pair(Instant::from_secs(1), &mut ping, &mut idle);
    let dst_mac = |a: &mut Host| {
        let frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
        while a.nic.drain_one(|_| ()).is_some() {}
        EthernetAddress::from_bytes(&frame[..6]).unwrap()
    };
    assert_eq!(a.send(&mut ping), SLOTS);
    assert_eq!(dst_mac(&mut a), EthernetAddress([2, 0, 0, 0, 0, 2]));
    let hits = a.ip.arp_cache().stats().hits;
    assert_eq!(a.send(&mut ping), SLOTS);
    assert_eq!(dst_mac(&mut a), EthernetAddress([2, 0, 0, 0, 0, 2]));
    assert_eq!(
        a.ip.arp_cache().stats().hits,
        hits + SLOTS as u64,
        "a remembered answer counts as the lookup it saves"
    );

    // B moves to a new MAC and announces it: the next ping follows.
    b.eth.set_addr(EthernetAddress([2, 0, 0, 0, 0, 0x22]));
    assert!(b.ip.announce(B));
    assert_eq!(b.send(&mut idle), 1);
    carry(&mut b, &mut a);
    a.receive(&mut ping);
    assert_eq!(a.send(&mut ping), SLOTS);
    assert_eq!(dst_mac(&mut a), EthernetAddress([2, 0, 0, 0, 0, 0x22]));

    // Without its address on B's subnet, A has no route to B.
    assert!(a.ip.remove_addr(IpAddr::V4(A)));
    let elsewhere = Ipv4Addr::new(10, 9, 0, 1);
    assert!(a.ip.add_addr(IpCidr::new(IpAddr::V4(elsewhere), 24).unwrap()));
    assert_eq!(a.send(&mut ping), 0);
    assert_eq!(ping.last_error, Some(ip::Error::Unreachable));

    // A host route through B as its own gateway: pings go again, from
    // the address A has now.
    let via_b = Route::via(IpCidr::new(IpAddr::V4(B), 32).unwrap(), IpAddr::V4(B));
    a.ip.routes_mut().add(via_b).unwrap();
    assert_eq!(a.send(&mut ping), SLOTS);
    let frame = a.nic.drain_one(|f| f.to_vec()).unwrap();
    while a.nic.drain_one(|_| ()).is_some() {}
    assert_eq!(frame[26..30], elsewhere.octets());
    assert_eq!(frame[..6], [2, 0, 0, 0, 0, 0x22]);

    // And without the route, nothing.
    assert!(a.ip.routes_mut().remove(via_b.net, via_b.gateway));
    assert_eq!(a.send(&mut ping), 0);
    assert_eq!(ping.last_error, Some(ip::Error::Unreachable));
}

#[test]
fn arp_entries_go_stale_are_revalidated_then_forgotten() {
    let mut idle = Pinger::new(A, 0);
    let mut ping = Pinger::new(B, 100);
    let t0 = Instant::from_secs(10);
    let (mut a, _b) = resolved_pair(t0, &mut ping, &mut idle);
    assert_eq!(
        a.send(&mut ping),
        8,
        "resolved: every lent buffer carries a ping"
    );
    a.nic.drain_one(|_| ());
    while a.nic.drain_one(|_| ()).is_some() {}
    // 60 s later the entry is stale: the ping still goes, and a
    // revalidation request (broadcast) follows on the next buffer.
    a.set_time(t0 + Duration::from_secs(60));
    let sent = a.send(&mut ping);
    let mut lines = Vec::new();
    while let Some(line) = a
        .nic
        .drain_one(|f| ethox::wire::pretty::PrettyFrame::new(f).to_string())
    {
        lines.push(line);
    }
    assert_eq!(sent, 8);
    assert!(
        lines[0].starts_with("IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "ARP request who-has 10.0.0.2 tell 10.0.0.1");
    // Nobody answers: after the grace period the mapping is forgotten and
    // packets wait for a fresh resolution.
    a.set_time(t0 + Duration::from_secs(64));
    assert_eq!(a.send(&mut ping), 1);
    assert_eq!(ping.last_error, Some(ip::Error::Unresolved));
    assert_eq!(a.ip.arp_cache().peek(B), None);
}

#[test]
fn the_most_specific_route_wins() {
    let mut a = Host::new(1, A);
    a.set_time(Instant::from_secs(1));
    a.ip.routes_mut()
        .add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 254)))
        .unwrap();
    let net = IpCidr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)), 24).unwrap();
    a.ip.routes_mut()
        .add(Route::via(net, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 253))))
        .unwrap();
    let who_has = |a: &mut Host, dst| {
        let mut ping = Pinger::new(dst, 1);
        a.send(&mut ping);
        a.nic
            .drain_one(|f| ethox::wire::pretty::PrettyFrame::new(f).to_string())
            .unwrap()
    };
    assert_eq!(
        who_has(&mut a, Ipv4Addr::new(192, 0, 2, 7)),
        "ARP request who-has 10.0.0.253 tell 10.0.0.1"
    );
    assert_eq!(
        who_has(&mut a, Ipv4Addr::new(198, 51, 100, 7)),
        "ARP request who-has 10.0.0.254 tell 10.0.0.1"
    );
    // On-link destinations never take a route.
    assert_eq!(
        who_has(&mut a, Ipv4Addr::new(10, 0, 0, 9)),
        "ARP request who-has 10.0.0.9 tell 10.0.0.1"
    );
}
