//! The DNS stub resolver against a small server built from the wire
//! module, two hosts on the in-memory link with explicit time: A and AAAA
//! answers with compressed names, CNAMEs, NXDOMAIN, answers cut short or
//! malformed (dropped and counted), wrong ids (ignored), silence (retry,
//! then timeout); and a host that gets its address and DNS servers from
//! DHCP and then resolves a name.

use std::collections::VecDeque;

use ethox::layer::dhcp::{self, Client};
use ethox::layer::dns::{QuerySlot, QueryType, ResolveError, Resolver};
use ethox::layer::udp;
use ethox::nic::memory::MemoryLink;
use ethox::time::Instant;
use ethox::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr, Ipv4List};
use ethox::wire::dns::{
    self as dns_wire, Class, DnsHeader, DnsMessage, MAX_NAME_LEN, MessageWriter, Rcode, RecordType,
};
use ethox::wire::{EthernetAddress, IpAddr, Ipv4Addr, Ipv6Addr};

#[path = "common/udp_host.rs"]
mod udp_host;
use udp_host::{Host, Nic};

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const HOST_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const HOST_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 5);

/// What the server does to its next answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Sends nothing.
    Silent,
    /// Sends the answer without its last byte.
    CutShort,
    /// Sends the answer with the first record's owner pointing at itself.
    PointerLoop,
    /// Sends the answer with another id.
    WrongId,
    /// Sends the answer from port 5353 instead of 53.
    WrongPort,
}

/// A DNS server for `example.test`: host (A and AAAA), www (a CNAME to
/// host), multi (two A records); other names do not exist. Answers
/// compress every owner name with pointers.
struct Server {
    faults: VecDeque<Fault>,
    /// The questions received: name and type.
    asked: Vec<(String, RecordType)>,
    owed: VecDeque<(IpAddr, u16, u16, Vec<u8>)>,
}

impl Server {
    fn new() -> Server {
        Server {
            faults: VecDeque::new(),
            asked: Vec::new(),
            owed: VecDeque::new(),
        }
    }

    /// The answer to `query`.
    fn answer(query: &DnsMessage<'_>) -> Vec<u8> {
        let question = query.questions().next().unwrap();
        let mut name = [0u8; MAX_NAME_LEN];
        let len = question.name.write_to(&mut name).unwrap();
        let name = &name[..len];
        let text = question.name.to_string().to_ascii_lowercase();
        let mut buf = vec![0u8; 512];
        let rcode = match text.as_str() {
            "host.example.test" | "www.example.test" | "multi.example.test" => Rcode::NoError,
            _ => Rcode::NameError,
        };
        let header = DnsHeader {
            authoritative: true,
            rcode,
            ..DnsHeader::response(query.header().id)
        };
        let mut writer = MessageWriter::new(&mut buf, &header).unwrap();
        writer.question(name, question.qtype, Class::In).unwrap();
        // The question's name is at 12; the CNAME's target right after
        // the CNAME record's fixed fields.
        let owner: &[u8] = &[0xc0, 12];
        let mut host_at: &[u8] = owner;
        let cname_target;
        if text == "www.example.test" {
            let target_offset = (writer.len() + 2 + 10) as u16;
            let mut target = [0u8; MAX_NAME_LEN];
            let target_len = dns_wire::encode_name("host.example.test", &mut target).unwrap();
            writer
                .record(
                    owner,
                    RecordType::Cname,
                    Class::In,
                    600,
                    &target[..target_len],
                )
                .unwrap();
            cname_target = (0xc000 | target_offset).to_be_bytes();
            host_at = &cname_target;
        }
        match (text.as_str(), question.qtype) {
            ("host.example.test" | "www.example.test", RecordType::A) => writer
                .record(host_at, RecordType::A, Class::In, 300, &HOST_V4.octets())
                .unwrap(),
            ("host.example.test" | "www.example.test", RecordType::Aaaa) => writer
                .record(host_at, RecordType::Aaaa, Class::In, 300, &HOST_V6.octets())
                .unwrap(),
            ("multi.example.test", RecordType::A) => {
                for last in [6, 7] {
                    writer
                        .record(owner, RecordType::A, Class::In, 60, &[10, 0, 0, last])
                        .unwrap();
                }
            }
            _ => {}
        }
        let len = writer.finish();
        buf.truncate(len);
        buf
    }
}

impl udp::Recv<Nic> for Server {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, Nic>) {
        let query = DnsMessage::parse(datagram.payload()).unwrap();
        let question = query.questions().next().unwrap();
        self.asked.push((question.name.to_string(), question.qtype));
        let mut answer = Server::answer(&query);
        let mut src_port = dns_wire::PORT;
        match self.faults.pop_front() {
            None => {}
            Some(Fault::Silent) => return,
            Some(Fault::CutShort) => {
                answer.pop();
            }
            Some(Fault::PointerLoop) => {
                // The first answer's owner starts right after the question.
                let at = 12 + question.name.wire_len() + 4;
                answer[at..at + 2].copy_from_slice(&(0xc000 | at as u16).to_be_bytes());
            }
            Some(Fault::WrongId) => answer[1] ^= 0x5a,
            Some(Fault::WrongPort) => src_port = 5353,
        }
        let (src, port) = datagram.src();
        self.owed.push_back((src, port, src_port, answer));
    }
}

impl udp::Send<Nic> for Server {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, Nic>) {
        let Some((dst, port, src_port, answer)) = self.owed.front() else {
            return;
        };
        let init = udp::Init {
            src_port: *src_port,
            dst: (*dst, *port),
            payload_len: answer.len(),
        };
        if let Ok(mut out) = raw.prepare(init) {
            out.payload_mut().copy_from_slice(answer);
            out.send().unwrap();
            self.owed.pop_front();
        }
    }
}

/// A resolving host and a DNS server host, and time.
struct Net {
    client: Host,
    resolver: Resolver<'static>,
    server_host: Host,
    server: Server,
    now: Instant,
}

impl Net {
    fn new() -> Net {
        let slots: &'static mut [QuerySlot] = Box::leak(Box::new([QuerySlot::EMPTY; 4]));
        let mut resolver = Resolver::new(slots, 0xd25);
        resolver.set_servers(&[IpAddr::V4(SERVER)]);
        let mut server_host = Host::new(2, Some(SERVER));
        server_host.udp.bind(dns_wire::PORT).unwrap();
        server_host.udp.bind(5353).unwrap();
        Net {
            client: Host::new(1, Some(CLIENT)),
            resolver,
            server_host,
            server: Server::new(),
            now: Instant::from_secs(1),
        }
    }

    fn round(&mut self) {
        self.client.nic.set_time(self.now);
        self.server_host.nic.set_time(self.now);
        self.client.send(&mut self.resolver);
        MemoryLink::transfer(&mut self.client.nic, &mut self.server_host.nic);
        self.server_host.receive(&mut self.server);
        self.server_host.send(&mut self.server);
        MemoryLink::transfer(&mut self.server_host.nic, &mut self.client.nic);
        self.client.receive(&mut self.resolver);
    }

    /// Runs rounds, sleeping to the resolver's deadlines, until it has
    /// nothing left to wait for (bounded).
    fn run(&mut self) {
        for _ in 0..40 {
            self.round();
            match self.resolver.next_deadline() {
                None => return,
                Some(at) => self.now = self.now.max(at),
            }
        }
        panic!("the resolver is still busy at {}", self.now);
    }

    fn resolve(&mut self, name: &str, qtype: QueryType) -> Result<Vec<IpAddr>, ResolveError> {
        let handle = self
            .resolver
            .query(&mut self.client.udp, name, qtype, self.now)
            .unwrap();
        self.run();
        let result = self.resolver.take(handle, &mut self.client.udp).unwrap();
        result.map(|answer| answer.addrs().to_vec())
    }
}

#[test]
fn a_and_aaaa_answers_with_compressed_names() {
    let mut net = Net::new();
    assert_eq!(
        net.resolve("host.example.test", QueryType::A),
        Ok(vec![IpAddr::V4(HOST_V4)])
    );
    assert_eq!(
        net.resolve("host.example.test", QueryType::Aaaa),
        Ok(vec![IpAddr::V6(HOST_V6)])
    );
    assert_eq!(
        net.resolve("multi.example.test", QueryType::A),
        Ok(vec![
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 6)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))
        ])
    );
    assert_eq!(
        net.server.asked,
        [
            ("host.example.test".to_string(), RecordType::A),
            ("host.example.test".to_string(), RecordType::Aaaa),
            ("multi.example.test".to_string(), RecordType::A)
        ]
    );
    let stats = net.resolver.stats();
    assert_eq!((stats.tx_queries, stats.rx_answers), (3, 3));
    assert_eq!(stats.tx_retransmissions, 0);
    // Every query's port was unbound when its result was taken.
    assert_eq!(net.client.udp.bound_ports().count(), 0);
}

#[test]
fn queries_in_flight_together_get_their_own_answers() {
    let mut net = Net::new();
    let udp = &mut net.client.udp;
    let now = net.now;
    let v4 = net
        .resolver
        .query(udp, "www.example.test", QueryType::A, now)
        .unwrap();
    let v6 = net
        .resolver
        .query(udp, "www.example.test", QueryType::Aaaa, now)
        .unwrap();
    let nx = net
        .resolver
        .query(udp, "nope.example.test", QueryType::A, now)
        .unwrap();
    net.run();
    let udp = &mut net.client.udp;
    let v4 = net.resolver.take(v4, udp).unwrap().unwrap();
    assert_eq!(v4.addrs(), &[IpAddr::V4(HOST_V4)]);
    // The CNAME's 600 s and the address's 300 s: the smaller.
    assert_eq!(v4.ttl(), 300);
    let v6 = net.resolver.take(v6, udp).unwrap().unwrap();
    assert_eq!(v6.addrs(), &[IpAddr::V6(HOST_V6)]);
    assert_eq!(
        net.resolver.take(nx, udp),
        Some(Err(ResolveError::NameError))
    );
}

#[test]
fn broken_answers_are_dropped_counted_and_retried() {
    let mut net = Net::new();
    net.server
        .faults
        .extend([Fault::CutShort, Fault::PointerLoop, Fault::WrongId]);
    let start = net.now;
    assert_eq!(
        net.resolve("www.example.test", QueryType::A),
        Ok(vec![IpAddr::V4(HOST_V4)])
    );
    let stats = net.resolver.stats();
    assert_eq!(stats.rx_malformed, 2);
    assert_eq!(stats.rx_mismatched, 1);
    assert_eq!(stats.rx_answers, 1);
    // Four transmissions: after 2, 4 and 8 s (the first waited a moment
    // for ARP).
    assert_eq!(stats.tx_queries, 4);
    assert_eq!(stats.tx_retransmissions, 3);
    assert_eq!(net.server.asked.len(), 4);
    let waited = net.now - start;
    assert!(
        waited.as_secs() >= 14 && waited.as_secs() < 15,
        "{waited:?}"
    );
}

#[test]
fn an_answer_from_the_wrong_port_is_not_taken() {
    let mut net = Net::new();
    net.server.faults.push_back(Fault::WrongPort);
    assert_eq!(
        net.resolve("host.example.test", QueryType::A),
        Ok(vec![IpAddr::V4(HOST_V4)])
    );
    assert_eq!(net.resolver.stats().rx_mismatched, 1);
    assert_eq!(net.resolver.stats().tx_queries, 2);
}

#[test]
fn silence_times_out_after_every_attempt() {
    let mut net = Net::new();
    net.server.faults.extend([Fault::Silent; 4]);
    let start = net.now;
    assert_eq!(
        net.resolve("host.example.test", QueryType::A),
        Err(ResolveError::Timeout)
    );
    assert_eq!(net.server.asked.len(), 4);
    let stats = net.resolver.stats();
    assert_eq!((stats.tx_queries, stats.timeouts), (4, 1));
    // 0.25 s for ARP, then 2 + 4 + 8 + 8 s of waiting.
    assert_eq!((net.now - start).as_millis(), 22_250);
    // A fifth attempt would have been answered; the next query is.
    assert_eq!(
        net.resolve("host.example.test", QueryType::A),
        Ok(vec![IpAddr::V4(HOST_V4)])
    );
}

/// A DHCP server handing out 10.0.0.1 with the DNS server 10.0.0.2, next
/// to the DNS server, answering to the broadcast address.
struct Both {
    dns: Server,
    dhcp_owed: Option<(DhcpMessageType, u32)>,
}

impl udp::Recv<Nic> for Both {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, Nic>) {
        if datagram.dst().1 != dhcp::SERVER_PORT {
            return self.dns.receive(datagram);
        }
        let repr = DhcpRepr::parse(&DhcpPacket::new_checked(datagram.payload()).unwrap()).unwrap();
        let answer = match repr.message_type {
            DhcpMessageType::Discover => DhcpMessageType::Offer,
            DhcpMessageType::Request => DhcpMessageType::Ack,
            _ => return,
        };
        self.dhcp_owed = Some((answer, repr.transaction_id));
    }
}

impl udp::Send<Nic> for Both {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, Nic>) {
        let Some((kind, xid)) = self.dhcp_owed else {
            return self.dns.send(raw);
        };
        let mut repr = DhcpRepr::new(kind, xid, EthernetAddress([2, 0, 0, 0, 0, 1]));
        repr.your_ip = CLIENT;
        repr.server_identifier = Some(SERVER);
        repr.lease_duration = Some(3600);
        repr.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
        repr.dns_servers = Ipv4List::new(&[[10, 0, 0, 2]]);
        let init = udp::Init {
            src_port: dhcp::SERVER_PORT,
            dst: (IpAddr::V4(Ipv4Addr::BROADCAST), dhcp::CLIENT_PORT),
            payload_len: repr.buffer_len(),
        };
        if let Ok(mut out) = raw.prepare(init) {
            repr.emit(&mut DhcpPacket::new_unchecked(out.payload_mut()))
                .unwrap();
            out.send().unwrap();
            self.dhcp_owed = None;
        }
    }
}

#[test]
fn a_host_configured_by_dhcp_resolves_with_its_dns_server() {
    let mut host = Host::new(1, None);
    host.udp.bind(dhcp::CLIENT_PORT).unwrap();
    let slots: &'static mut [QuerySlot] = Box::leak(Box::new([QuerySlot::EMPTY; 2]));
    let mut client = Client::new(
        EthernetAddress([2, 0, 0, 0, 0, 1]),
        5,
        dhcp::Config::default(),
    );
    let mut resolver = Resolver::new(slots, 6);
    let mut server_host = Host::new(2, Some(SERVER));
    server_host.udp.bind(dhcp::SERVER_PORT).unwrap();
    server_host.udp.bind(dns_wire::PORT).unwrap();
    let mut server = Both {
        dns: Server::new(),
        dhcp_owed: None,
    };
    let mut now = Instant::from_secs(1);
    let mut query = None;
    let mut answer = None;
    for _ in 0..20 {
        host.nic.set_time(now);
        server_host.nic.set_time(now);
        host.send(client.and(&mut resolver));
        MemoryLink::transfer(&mut host.nic, &mut server_host.nic);
        server_host.receive(&mut server);
        server_host.send(&mut server);
        MemoryLink::transfer(&mut server_host.nic, &mut host.nic);
        host.receive(client.and(&mut resolver));
        if let Some(dhcp::Event::Configured(lease)) = client.apply(&mut host.ip, now).unwrap() {
            let servers: Vec<IpAddr> = lease.dns_servers().iter().map(|a| IpAddr::V4(*a)).collect();
            resolver.set_servers(&servers);
            query = Some(
                resolver
                    .query(&mut host.udp, "host.example.test", QueryType::A, now)
                    .unwrap(),
            );
        }
        if let Some(result) = query.and_then(|handle| resolver.take(handle, &mut host.udp)) {
            answer = Some(result);
            break;
        }
        let next = [client.next_deadline(), resolver.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        if let Some(at) = next {
            now = now.max(at);
        }
    }
    assert!(host.ip.has_addr(IpAddr::V4(CLIENT)));
    assert_eq!(answer.unwrap().unwrap().addrs(), &[IpAddr::V4(HOST_V4)]);
}
