//! The DHCP client against a small server built from the wire module, two
//! hosts on the in-memory link with explicit time: DISCOVER, OFFER,
//! REQUEST, ACK; renewal at T1; rebinding at T2 while the leasing server
//! is silent; the address dropped when the lease ends; NAK; RELEASE; a
//! real dnsmasq exchange (unicast answers to an unconfigured host); and
//! the IP layer's rules for a host without an address.

use core::time::Duration;

use ethox::layer::dhcp::{self, Client, Event, State};
use ethox::layer::ip;
use ethox::layer::route::Route;
use ethox::layer::udp::{self, UdpError};
use ethox::nic::memory::MemoryLink;
use ethox::time::Instant;
use ethox::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr, Ipv4List};
use ethox::wire::ipv4::Ipv4Cidr;
use ethox::wire::pcap::PcapReader;
use ethox::wire::udp::UdpPacket;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

#[path = "common/udp_host.rs"]
mod udp_host;
use udp_host::{Host, Nic};

const CLIENT_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const POOL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
const DNS: [[u8; 4]; 2] = [[10, 0, 0, 53], [10, 0, 0, 54]];
const LEASE: u32 = 1000;

/// The client's host: no address, port 68 bound.
fn client_host() -> Host {
    let mut host = Host::new(1, None);
    host.udp.bind(dhcp::CLIENT_PORT).unwrap();
    host
}

/// The server's host: 10.0.0.2, port 67 bound.
fn server_host() -> Host {
    let mut host = Host::new(2, Some(SERVER));
    host.udp.bind(dhcp::SERVER_PORT).unwrap();
    host
}

/// How the test server treats requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Offers and acknowledges.
    Answer,
    /// Says nothing at all.
    Silent,
    /// Answers only broadcast requests (a rebinding client reaches it,
    /// a renewing one does not).
    BroadcastOnly,
    /// Refuses REQUESTs with a NAK (offers as usual).
    Nak,
}

/// A message the server received: its type and IP addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    kind: DhcpMessageType,
    src: IpAddr,
    dst: IpAddr,
    client_ip: Ipv4Addr,
    requested_ip: Option<Ipv4Addr>,
}

/// A DHCP server for one client: offers [`POOL`] with a lease of
/// [`LEASE`] seconds, answers to the broadcast address (or unicast to a
/// renewing client's address).
struct Server {
    mode: Mode,
    seen: Vec<Seen>,
    owed: Option<(DhcpMessageType, u32, Ipv4Addr)>,
}

impl Server {
    fn new(mode: Mode) -> Server {
        Server {
            mode,
            seen: Vec::new(),
            owed: None,
        }
    }

    fn kinds(&self) -> Vec<DhcpMessageType> {
        self.seen.iter().map(|s| s.kind).collect()
    }
}

impl udp::Recv<Nic> for Server {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, Nic>) {
        let packet = DhcpPacket::new_checked(datagram.payload()).unwrap();
        let repr = DhcpRepr::parse(&packet).unwrap();
        assert_eq!(repr.client_hardware_address, CLIENT_MAC);
        assert_eq!(datagram.src().1, dhcp::CLIENT_PORT);
        self.seen.push(Seen {
            kind: repr.message_type,
            src: datagram.src().0,
            dst: datagram.dst().0,
            client_ip: repr.client_ip,
            requested_ip: repr.requested_ip,
        });
        let broadcast = datagram.dst().0 == IpAddr::V4(Ipv4Addr::BROADCAST);
        let answer = match self.mode {
            Mode::Silent => return,
            Mode::BroadcastOnly if !broadcast => return,
            _ => match repr.message_type {
                DhcpMessageType::Discover => DhcpMessageType::Offer,
                DhcpMessageType::Request if self.mode == Mode::Nak => DhcpMessageType::Nak,
                DhcpMessageType::Request => DhcpMessageType::Ack,
                _ => return,
            },
        };
        let to = if repr.client_ip.is_unspecified() {
            Ipv4Addr::BROADCAST
        } else {
            repr.client_ip
        };
        self.owed = Some((answer, repr.transaction_id, to));
    }
}

impl udp::Send<Nic> for Server {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, Nic>) {
        let Some((kind, xid, to)) = self.owed else {
            return;
        };
        let mut repr = DhcpRepr::new(kind, xid, CLIENT_MAC);
        repr.server_identifier = Some(SERVER);
        if kind != DhcpMessageType::Nak {
            repr.your_ip = POOL;
            repr.server_ip = SERVER;
            repr.lease_duration = Some(LEASE);
            repr.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            repr.router = Ipv4List::new(&[[10, 0, 0, 1]]);
            repr.dns_servers = Ipv4List::new(&DNS);
        }
        let init = udp::Init {
            src_port: dhcp::SERVER_PORT,
            dst: (IpAddr::V4(to), dhcp::CLIENT_PORT),
            payload_len: repr.buffer_len(),
        };
        if let Ok(mut out) = raw.prepare(init) {
            repr.emit(&mut DhcpPacket::new_unchecked(out.payload_mut()))
                .unwrap();
            out.send().unwrap();
            self.owed = None;
        }
    }
}

/// The client host, the server host and time.
struct Net {
    client_host: Host,
    client: Client,
    server_host: Host,
    server: Server,
    now: Instant,
    events: Vec<Event>,
}

impl Net {
    fn new(mode: Mode) -> Net {
        Net {
            client_host: client_host(),
            client: Client::new(CLIENT_MAC, 0xd11c, dhcp::Config::default()),
            server_host: server_host(),
            server: Server::new(mode),
            now: Instant::from_secs(1),
            events: Vec::new(),
        }
    }

    /// One round at the current time: the client sends, the server
    /// answers, the client receives and applies.
    fn round(&mut self) {
        self.client_host.nic.set_time(self.now);
        self.server_host.nic.set_time(self.now);
        self.client_host.send(&mut self.client);
        self.apply();
        MemoryLink::transfer(&mut self.client_host.nic, &mut self.server_host.nic);
        self.server_host.receive(&mut self.server);
        self.server_host.send(&mut self.server);
        MemoryLink::transfer(&mut self.server_host.nic, &mut self.client_host.nic);
        self.client_host.receive(&mut self.client);
        self.apply();
    }

    fn apply(&mut self) {
        if let Some(event) = self
            .client
            .apply(&mut self.client_host.ip, self.now)
            .unwrap()
        {
            self.events.push(event);
        }
    }

    /// Rounds at the current time until nothing moves (bounded).
    fn settle(&mut self) {
        for _ in 0..6 {
            self.round();
        }
    }

    /// Sleeps to the client's next deadline and runs a round there.
    fn wake(&mut self) {
        let at = self.client.next_deadline().expect("a deadline");
        assert!(at >= self.now, "deadline {at} before now {}", self.now);
        self.now = at;
        self.settle();
    }

    /// Wakes at the client's deadlines until `done` holds (at most 50
    /// times).
    fn wake_until(&mut self, done: impl Fn(&Net) -> bool) {
        for _ in 0..50 {
            if done(self) {
                return;
            }
            self.wake();
        }
        panic!("still {} at {}", self.client.state(), self.now);
    }

    fn bound(mode: Mode) -> Net {
        let mut net = Net::new(mode);
        net.settle();
        assert_eq!(net.client.state(), State::Bound);
        net
    }

    fn client_addrs(&self) -> Vec<IpCidr> {
        self.client_host.ip.addrs().collect()
    }
}

fn pool_cidr() -> IpCidr {
    IpCidr::V4(Ipv4Cidr::new(POOL, 24).unwrap())
}

#[test]
fn discover_offer_request_ack_configures_the_host() {
    let mut net = Net::new(Mode::Answer);
    net.settle();
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(
        net.server.kinds(),
        [DhcpMessageType::Discover, DhcpMessageType::Request]
    );
    // Both from 0.0.0.0 to the limited broadcast; the REQUEST asks for
    // the offered address.
    for seen in &net.server.seen {
        assert_eq!(seen.src, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(seen.dst, IpAddr::V4(Ipv4Addr::BROADCAST));
    }
    assert_eq!(net.server.seen[1].requested_ip, Some(POOL));

    let lease = *net.client.lease().unwrap();
    assert_eq!(net.events, [Event::Configured(lease)]);
    assert_eq!(lease.router(), Some(ROUTER));
    assert_eq!(
        lease.dns_servers(),
        &[Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 0, 54)]
    );
    assert_eq!(
        lease.expires_at(),
        Some(net.now + Duration::from_secs(1000))
    );
    assert_eq!(net.client_addrs(), [pool_cidr()]);
    assert!(
        net.client_host
            .ip
            .routes()
            .iter()
            .eq([&Route::default_v4(ROUTER)])
    );
    let stats = net.client.stats();
    assert_eq!((stats.tx_discovers, stats.tx_requests), (1, 1));
    assert_eq!((stats.rx_offers, stats.rx_acks), (1, 1));
    // The client sleeps until T1.
    assert_eq!(net.client.next_deadline(), lease.renew_at());
}

#[test]
fn configured_host_talks_from_its_new_address() {
    let mut net = Net::bound(Mode::Answer);
    /// Sends one datagram to the server's port 9.
    struct Hello(bool);
    impl udp::Send<Nic> for Hello {
        fn send(&mut self, raw: udp::Raw<'_, '_, '_, Nic>) {
            if self.0 {
                return;
            }
            let init = udp::Init {
                src_port: 5000,
                dst: (IpAddr::V4(SERVER), 9),
                payload_len: 5,
            };
            if let Ok(mut out) = raw.prepare(init) {
                out.payload_mut().copy_from_slice(b"hello");
                self.0 = out.send().is_ok();
            }
        }
    }
    /// Records who sent datagrams to port 9.
    struct Sink(Vec<IpAddr>);
    impl udp::Recv<Nic> for Sink {
        fn receive(&mut self, datagram: udp::In<'_, '_, '_, Nic>) {
            self.0.push(datagram.src().0);
        }
    }
    net.server_host.udp.bind(9).unwrap();
    let mut hello = Hello(false);
    let mut sink = Sink(Vec::new());
    // ARP first (from the leased address, so the server learns it).
    for _ in 0..2 {
        net.client_host.send(&mut hello);
        MemoryLink::transfer(&mut net.client_host.nic, &mut net.server_host.nic);
        net.server_host.receive(&mut sink);
        MemoryLink::transfer(&mut net.server_host.nic, &mut net.client_host.nic);
        net.client_host.receive(&mut net.client);
    }
    assert!(hello.0);
    assert_eq!(sink.0, [IpAddr::V4(POOL)]);
}

#[test]
fn renewal_at_t1_is_unicast_to_the_server() {
    let mut net = Net::bound(Mode::Answer);
    let lease = *net.client.lease().unwrap();
    net.wake();
    assert_eq!(net.now, lease.renew_at().unwrap());
    // The server's hardware address first: the buffer carried an ARP
    // request, the REQUEST follows a moment later.
    assert_eq!(net.client.state(), State::Renewing);
    assert_eq!(net.server.seen.len(), 2);
    net.wake();
    assert_eq!(
        net.now,
        lease.renew_at().unwrap() + Duration::from_millis(250)
    );
    assert_eq!(net.client.state(), State::Bound);
    let renew = net.server.seen[2];
    assert_eq!(renew.kind, DhcpMessageType::Request);
    assert_eq!(renew.src, IpAddr::V4(POOL));
    assert_eq!(renew.dst, IpAddr::V4(SERVER));
    assert_eq!(renew.client_ip, POOL);
    assert_eq!(renew.requested_ip, None);
    // The lease now runs from the renewal; the address stayed put.
    let renewed = *net.client.lease().unwrap();
    assert_eq!(renewed.acquired(), net.now);
    assert_eq!(renewed.renew_at(), Some(net.now + Duration::from_secs(500)));
    assert!(renewed.expires_at() > lease.expires_at());
    assert_eq!(net.events.len(), 1);
    assert_eq!(net.client_addrs(), [pool_cidr()]);
    assert_eq!(net.client.stats().rx_acks, 2);
}

#[test]
fn rebinding_at_t2_reaches_another_server_while_the_first_is_silent() {
    let mut net = Net::bound(Mode::BroadcastOnly);
    let lease = *net.client.lease().unwrap();
    // T1: a unicast REQUEST nobody answers, then its retransmissions.
    net.wake();
    assert_eq!(net.client.state(), State::Renewing);
    net.wake_until(|net| net.client.state() != State::Renewing);
    net.settle();
    assert_eq!(net.client.state(), State::Bound);
    let rebind = *net.server.seen.last().unwrap();
    assert_eq!(rebind.dst, IpAddr::V4(Ipv4Addr::BROADCAST));
    assert_eq!(rebind.src, IpAddr::V4(POOL));
    assert_eq!(rebind.client_ip, POOL);
    let unicast = net
        .server
        .seen
        .iter()
        .filter(|s| s.dst == IpAddr::V4(SERVER))
        .count();
    // 375 s from T1 to T2: at T1 (once the server's address is
    // resolved), then after half of what is left each time (187 s, 94 s),
    // then the 60 s floor; the next would come after T2.
    assert_eq!(unicast, 4);
    assert!(net.now >= lease.rebind_at().unwrap());
    assert_eq!(net.client_addrs(), [pool_cidr()]);
}

#[test]
fn lease_expiry_drops_the_address_and_starts_over() {
    let mut net = Net::bound(Mode::Answer);
    let lease = *net.client.lease().unwrap();
    net.server.mode = Mode::Silent;
    net.wake_until(|net| net.client.lease().is_none());
    assert!(net.now >= lease.expires_at().unwrap());
    assert_eq!(net.events, [Event::Configured(lease), Event::Deconfigured]);
    assert!(net.client_addrs().is_empty());
    assert_eq!(net.client_host.ip.routes().len(), 0);
    assert_eq!(net.client.stats().leases_expired, 1);
    // It is looking for a server again, from 0.0.0.0.
    let last = *net.server.seen.last().unwrap();
    assert_eq!(last.kind, DhcpMessageType::Discover);
    assert_eq!(last.src, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // And takes a new lease when the server is back.
    net.server.mode = Mode::Answer;
    net.wake();
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(net.client_addrs(), [pool_cidr()]);
}

#[test]
fn nak_sends_the_client_back_to_discover() {
    let mut net = Net::new(Mode::Nak);
    net.round();
    assert_eq!(net.client.state(), State::Requesting);
    net.round();
    assert_eq!(net.client.state(), State::Init);
    assert_eq!(net.client.stats().rx_naks, 1);
    net.server.mode = Mode::Answer;
    net.settle();
    assert_eq!(net.client.state(), State::Bound);
    assert_eq!(
        net.server.kinds(),
        [
            DhcpMessageType::Discover,
            DhcpMessageType::Request,
            DhcpMessageType::Discover,
            DhcpMessageType::Request
        ]
    );

    // A NAK to a renewal ends the lease at once.
    net.server.mode = Mode::Nak;
    net.wake_until(|net| net.client.lease().is_none());
    assert!(net.events.contains(&Event::Deconfigured));
    // (and keeps refusing the new attempts that follow).
    assert!(net.client.stats().rx_naks >= 2);
}

#[test]
fn release_goes_to_the_server_and_the_address_goes_away() {
    let mut net = Net::bound(Mode::Answer);
    net.client.release(net.now);
    net.settle();
    // The server's address is resolved first.
    assert_eq!(net.client.state(), State::Releasing);
    net.wake();
    assert_eq!(net.client.state(), State::Released);
    let release = *net.server.seen.last().unwrap();
    assert_eq!(release.kind, DhcpMessageType::Release);
    assert_eq!(release.src, IpAddr::V4(POOL));
    assert_eq!(release.dst, IpAddr::V4(SERVER));
    assert!(net.client_addrs().is_empty());
    assert_eq!(net.events.last(), Some(&Event::Deconfigured));
    assert_eq!(net.client.next_deadline(), None);
}

#[test]
fn unanswered_discovers_back_off() {
    let mut net = Net::new(Mode::Silent);
    net.round();
    let mut times = vec![net.now];
    for _ in 0..6 {
        net.wake();
        times.push(net.now);
    }
    assert_eq!(net.server.seen.len(), 7);
    let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    for (gap, expected) in gaps.iter().zip([4u64, 8, 16, 32, 64, 64]) {
        assert!((expected - 1..=expected + 1).contains(gap), "{gaps:?}");
    }
}

/// The frames of the dnsmasq exchange
/// (DISCOVER, OFFER, REQUEST, ACK, RELEASE), see
/// `ethox/src/wire/dhcpv4.rs` for how they were captured.
fn dnsmasq_frames() -> Vec<Vec<u8>> {
    PcapReader::new(include_bytes!("fixtures/dhcp-dora.pcap"))
        .unwrap()
        .map(|r| r.unwrap().data.to_vec())
        .collect()
}

/// A captured server frame re-addressed to the client's transaction
/// (the UDP checksum recomputed).
fn to_transaction(frame: &[u8], xid: u32) -> Vec<u8> {
    let mut frame = frame.to_vec();
    frame[42 + 4..42 + 8].copy_from_slice(&xid.to_be_bytes());
    let src = IpAddr::V4(Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]));
    let dst = IpAddr::V4(Ipv4Addr::new(frame[30], frame[31], frame[32], frame[33]));
    let mut udp = UdpPacket::new_checked(&mut frame[34..]).unwrap();
    udp.fill_checksum(src, dst);
    frame
}

#[test]
fn dnsmasq_unicast_answers_reach_the_unconfigured_host() {
    let frames = dnsmasq_frames();
    let mut host = client_host();
    let mut client = Client::new(CLIENT_MAC, 77, dhcp::Config::default());
    host.send(&mut client);
    host.nic.drain_one(|_| ()).unwrap();
    // dnsmasq answers unicast to 10.0.0.63 and our MAC (no broadcast
    // flag), before the host has any address.
    assert!(
        host.nic
            .inject(&to_transaction(&frames[1], client.transaction_id()))
    );
    host.receive(&mut client);
    assert_eq!(client.state(), State::Requesting);
    host.send(&mut client);
    host.nic.drain_one(|_| ()).unwrap();
    assert!(
        host.nic
            .inject(&to_transaction(&frames[3], client.transaction_id()))
    );
    host.receive(&mut client);
    assert_eq!(client.state(), State::Bound);
    let event = client.apply(&mut host.ip, host.nic.time()).unwrap();
    assert!(matches!(event, Some(Event::Configured(_))));
    assert!(host.ip.has_addr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 63))));
    assert_eq!(host.ip.stats().rx_not_for_us, 0);
    assert_eq!(host.udp.stats().rx_delivered, 2);
}

#[test]
fn only_dhcp_answers_are_taken_before_an_address_and_none_after() {
    let frames = dnsmasq_frames();
    let offer = to_transaction(&frames[1], 1);
    let mut host = client_host();
    // Another UDP port (the same frame with destination port 69).
    let mut other_port = offer.clone();
    other_port[36..38].copy_from_slice(&69u16.to_be_bytes());
    // From a source port other than 67.
    let mut other_source = offer.clone();
    other_source[34..36].copy_from_slice(&53u16.to_be_bytes());
    for frame in [&other_port, &other_source] {
        assert!(host.nic.inject(frame));
    }
    let mut client = Client::new(CLIENT_MAC, 1, dhcp::Config::default());
    host.receive(&mut client);
    assert_eq!(host.ip.stats().rx_not_for_us, 2);
    // The DHCP answer itself goes up (and is ignored by the client, whose
    // transaction it is not).
    assert!(host.nic.inject(&offer));
    host.receive(&mut client);
    assert_eq!(host.ip.stats().rx_not_for_us, 2);
    assert_eq!(host.udp.stats().rx_delivered, 1);
    // With an address, unicast to another one is not for this host.
    host.ip
        .add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)), 24).unwrap());
    assert!(host.nic.inject(&offer));
    host.receive(&mut client);
    assert_eq!(host.ip.stats().rx_not_for_us, 3);
    assert_eq!(host.udp.stats().rx_delivered, 1);
}

#[test]
fn the_zero_source_is_only_for_the_limited_broadcast() {
    /// Tries one send from 0.0.0.0 to `dst`.
    struct FromZero {
        dst: Ipv4Addr,
        result: Option<Result<(), UdpError>>,
    }
    impl udp::Send<Nic> for FromZero {
        fn send(&mut self, raw: udp::Raw<'_, '_, '_, Nic>) {
            let init = udp::Init {
                src_port: 68,
                dst: (IpAddr::V4(self.dst), 67),
                payload_len: 4,
            };
            let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
            self.result = Some(raw.prepare_from(zero, init).and_then(|out| out.send()));
        }
    }
    let mut host = client_host();
    let mut unicast = FromZero {
        dst: SERVER,
        result: None,
    };
    host.send(&mut unicast);
    assert_eq!(
        unicast.result,
        Some(Err(UdpError::Ip(ip::Error::Unreachable)))
    );
    let mut broadcast = FromZero {
        dst: Ipv4Addr::BROADCAST,
        result: None,
    };
    host.send(&mut broadcast);
    assert_eq!(broadcast.result, Some(Ok(())));
    let frame = host.nic.drain_one(|f| f.to_vec()).unwrap();
    assert_eq!(&frame[..6], &[0xff; 6]);
    assert_eq!(&frame[26..30], &[0, 0, 0, 0]);
    assert_eq!(&frame[30..34], &[255; 4]);
    // A host with an address may still say 0.0.0.0 to the broadcast, and
    // without 0.0.0.0 its own address is picked as before.
    host.ip
        .add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)), 24).unwrap());
    host.send(&mut broadcast);
    assert_eq!(broadcast.result, Some(Ok(())));
}
