//! The main demo of ethox: two hosts on an in-memory link.
//!
//! Host A (10.0.0.1, fd00::1) and host B (10.0.0.2, fd00::2) each run the
//! whole stack: NIC, Ethernet, IP (ARP and neighbor discovery), ICMP, UDP.
//!
//! 1. A pings B over IPv4 and over IPv6. The first ping of each waits
//!    while A resolves B (an ARP request, a neighbor solicitation), which B
//!    answers; B's ICMP layer answers every echo request in the buffer it
//!    arrived in.
//! 2. A sends a UDP datagram to B's echo port (7) over each family; B's
//!    application answers it in place.
//! 3. A floods B's discard port (9) with UDP datagrams for a bounded time,
//!    then with echo requests, and the demo prints the rates.
//!
//! Time on the link is simulated (explicit instants); the flood rates are
//! wall-clock. `--pcap FILE` writes what B's NIC received and sent; the
//! fault-injection flags act on the link in both directions.
//!
//! ```text
//! cargo run --release --bin loopback -- --pcap loopback.pcap --drop-chance 10
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant as WallClock};

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::{eth, icmp, ip, udp};
use ethox::nic::Device;
use ethox::nic::capture::{Capture, CaptureMode};
use ethox::nic::fault::{FaultConfig, LinkFaults};
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::pcap::{PcapSink, PcapWriter, TimestampResolution};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};

const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const IP4_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP4_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const IP6_A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const IP6_B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
const ECHO_PORT: u16 = 7;
const CLIENT_PORT: u16 = 40000;
const DISCARD_PORT: u16 = 9;
const SLOTS: usize = 64;
const FRAME: usize = 1514;
const PING_COUNT: u16 = 4;
const PING_DATA: usize = 56;
const FLOOD_PAYLOAD: usize = 64;

type Nic = MemoryNic<Vec<u8>, SLOTS>;

struct Options {
    pcap: Option<String>,
    faults: FaultConfig,
    seed: u64,
    flood: Duration,
}

fn usage() -> &'static str {
    "usage: loopback [--pcap FILE] [--drop-chance PCT] [--corrupt-chance PCT]\n\
     \x20               [--size-limit BYTES] [--tx-rate-limit N] [--rx-rate-limit N]\n\
     \x20               [--shaping-interval MS] [--seed N] [--flood-ms MS]\n\
     defaults: no capture, no faults, seed 1, each flood 500 ms (4096 packets with --pcap)"
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        pcap: None,
        faults: FaultConfig::default(),
        seed: 1,
        flood: Duration::from_millis(500),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(usage().to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        let percent = || -> Result<u8, String> {
            let n = number()?;
            u8::try_from(n)
                .ok()
                .filter(|n| *n <= 100)
                .ok_or(format!("{flag}: 0-100, got {n}"))
        };
        match flag.as_str() {
            "--pcap" => options.pcap = Some(value.clone()),
            "--drop-chance" => options.faults.drop_chance = percent()?,
            "--corrupt-chance" => options.faults.corrupt_chance = percent()?,
            "--size-limit" => options.faults.size_limit = number()? as usize,
            "--tx-rate-limit" => options.faults.tx_rate_limit = number()? as u32,
            "--rx-rate-limit" => options.faults.rx_rate_limit = number()? as u32,
            "--shaping-interval" => {
                options.faults.shaping_interval = Duration::from_millis(number()?)
            }
            "--seed" => options.seed = number()?,
            "--flood-ms" => options.flood = Duration::from_millis(number()?.min(10_000)),
            _ => return Err(format!("unknown option {flag}\n{}", usage())),
        }
    }
    Ok(options)
}

/// A pcap sink that is a file, or nothing when no capture was asked for.
struct FileOrNothing(Option<BufWriter<File>>);

impl PcapSink for FileOrNothing {
    type Error = std::io::Error;

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.0 {
            Some(file) => file.write_all(bytes),
            None => Ok(()),
        }
    }
}

/// One host: its NIC and its layers.
struct Host<N> {
    nic: N,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    udp: udp::Endpoint<'static>,
}

impl<N> Host<N> {
    fn new(nic: N, mac: EthernetAddress, v4: Ipv4Addr, v6: Ipv6Addr) -> Host<N> {
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default()),
        );
        for cidr in [
            IpCidr::new(IpAddr::V4(v4), 24),
            IpCidr::new(IpAddr::V6(v6), 64),
        ] {
            ip.add_addr(cidr.expect("valid prefix"));
        }
        ip.add_addr(
            IpCidr::new(IpAddr::V6(ethox::wire::ipv6::link_local_from_mac(mac)), 64)
                .expect("valid prefix"),
        );
        Host {
            nic,
            eth: eth::Endpoint::new(mac),
            ip,
            icmp: icmp::Endpoint::new(),
            udp: udp::Endpoint::new(vec![None; 4], u16::from(mac.0[5]) * 977),
        }
    }
}

/// Host A's pinger: echo requests out, replies counted.
struct Pinger {
    peer: IpAddr,
    /// Pings still to send in this step.
    pending: usize,
    seq: u16,
    sent: u64,
    replies: u64,
    verbose: bool,
    waiting: bool,
}

/// Host A's UDP client: datagrams to a port of B, echoes counted.
struct UdpClient {
    peer: IpAddr,
    /// Datagrams still to send in this step, and to which port.
    pending: usize,
    port: u16,
    sent: u64,
    echoes: u64,
    verbose: bool,
    waiting: bool,
}

/// Host A's application.
struct Client {
    ping: Pinger,
    udp: UdpClient,
}

impl Client {
    fn new(peer: IpAddr) -> Client {
        Client {
            ping: Pinger {
                peer,
                pending: 0,
                // ping(8) counts from 1.
                seq: 1,
                sent: 0,
                replies: 0,
                verbose: true,
                waiting: false,
            },
            udp: UdpClient {
                peer,
                pending: 0,
                port: ECHO_PORT,
                sent: 0,
                echoes: 0,
                verbose: true,
                waiting: false,
            },
        }
    }

    fn quiet(mut self) -> Client {
        self.ping.verbose = false;
        self.udp.verbose = false;
        self
    }
}

/// Says once that a destination is being resolved.
fn note_unresolved(peer: IpAddr, verbose: bool, waiting: &mut bool) {
    if verbose && !*waiting {
        let how = if peer.is_ipv4() {
            "ARP"
        } else {
            "neighbor discovery"
        };
        println!("  (waiting for {how} to resolve {peer})");
    }
    *waiting = true;
}

impl<D: Device> ip::Send<D> for Pinger {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.pending == 0 {
            return;
        }
        let data = [0x5a; PING_DATA];
        let protocol = match self.peer {
            IpAddr::V4(_) => IpProtocol::Icmp,
            IpAddr::V6(_) => IpProtocol::Icmpv6,
        };
        let init = ip::Init {
            src: None,
            dst: self.peer,
            protocol,
            payload_len: 8 + data.len(),
        };
        let mut out = match raw.prepare(init) {
            Ok(out) => out,
            Err(ip::Error::Unresolved) => {
                return note_unresolved(self.peer, self.verbose, &mut self.waiting);
            }
            Err(_) => return,
        };
        let (ident, seq_no) = (0xe7, self.seq);
        match out.repr() {
            ip::IpRepr::V6(header) => {
                let request = Icmpv6Repr::EchoRequest {
                    ident,
                    seq_no,
                    data: &data,
                };
                let mut packet = Icmpv6Packet::new_unchecked(out.payload_mut());
                request.emit(&mut packet, header.src, header.dst, ChecksumMode::Software);
            }
            _ => {
                let request = Icmpv4Repr::EchoRequest {
                    ident,
                    seq_no,
                    data: &data,
                };
                let _ = request.emit(
                    &mut Icmpv4Packet::new_unchecked(out.payload_mut()),
                    ChecksumMode::Software,
                );
            }
        }
        if out.send().is_ok() {
            self.pending -= 1;
            self.seq = self.seq.wrapping_add(1);
            self.sent += 1;
        }
    }
}

impl<D: Device> ip::Recv<D> for Pinger {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let ttl = packet.repr().hop_limit();
        let from = packet.repr().src();
        let echo = match packet.repr() {
            ip::IpRepr::V6(header) => Icmpv6Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv6Repr::parse(&p, header.src, header.dst, ChecksumMode::Software))
                .ok()
                .and_then(|r| match r {
                    Icmpv6Repr::EchoReply { seq_no, data, .. } => Some((seq_no, data.len())),
                    _ => None,
                }),
            _ => Icmpv4Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software))
                .ok()
                .and_then(|r| match r {
                    Icmpv4Repr::EchoReply { seq_no, data, .. } => Some((seq_no, data.len())),
                    _ => None,
                }),
        };
        if let Some((seq, len)) = echo {
            self.replies += 1;
            if self.verbose {
                println!("  {} bytes from {from}: icmp_seq={seq} ttl={ttl}", len + 8);
            }
        }
    }
}

impl<D: Device> udp::Send<D> for UdpClient {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        if self.pending == 0 {
            return;
        }
        let message = b"hello from ethox";
        let len = if self.port == ECHO_PORT {
            message.len()
        } else {
            FLOOD_PAYLOAD
        };
        let init = udp::Init {
            src_port: CLIENT_PORT,
            dst: (self.peer, self.port),
            payload_len: len,
        };
        let mut out = match raw.prepare(init) {
            Ok(out) => out,
            Err(udp::UdpError::Ip(ip::Error::Unresolved)) => {
                return note_unresolved(self.peer, self.verbose, &mut self.waiting);
            }
            Err(_) => return,
        };
        if self.port == ECHO_PORT {
            out.payload_mut().copy_from_slice(message);
        } else {
            out.payload_mut().fill(0xd5);
        }
        if out.send().is_ok() {
            self.pending -= 1;
            self.sent += 1;
        }
    }
}

impl<D: Device> udp::Recv<D> for UdpClient {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        self.echoes += 1;
        if self.verbose {
            let (addr, port) = datagram.src();
            println!(
                "  udp echo from [{addr}]:{port}: {:?}",
                String::from_utf8_lossy(datagram.payload())
            );
        }
    }
}

/// Host B's application: echoes on port 7 (in place), counts on port 9.
#[derive(Default)]
struct Server {
    discarded: u64,
    echoed: u64,
}

impl<D: Device> udp::Recv<D> for Server {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 == ECHO_PORT {
            let len = datagram.payload().len();
            if datagram.reply(len).and_then(|out| out.send()).is_ok() {
                self.echoed += 1;
            }
        } else {
            self.discarded += 1;
        }
    }
}

/// B sends nothing of its own; its IP layer may still owe ARP traffic.
struct Nothing;

impl<D: Device> ip::Send<D> for Nothing {
    fn send(&mut self, _: ip::Raw<'_, '_, D>) {}
}

type HostB = Host<Capture<Nic, FileOrNothing>>;

/// One round: A sends, the link carries, B answers, the link carries back,
/// A receives.
fn step(
    a: &mut Host<Nic>,
    b: &mut HostB,
    link: &mut LinkFaults,
    client: &mut Client,
    server: &mut Server,
    now: Instant,
) -> Result<(), String> {
    let err = |e: ethox::nic::Error| e.to_string();
    a.nic.set_time(now);
    b.nic.inner_mut().set_time(now);
    a.nic
        .tx(SLOTS, a.eth.send(a.ip.send(&mut client.ping)))
        .map_err(err)?;
    a.nic
        .tx(SLOTS, a.eth.send(a.ip.send(a.udp.send(&mut client.udp))))
        .map_err(err)?;
    link.transfer(&mut a.nic, b.nic.inner_mut());
    let b_udp = b.udp.recv(&mut *server);
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(b_udp))))
        .map_err(err)?;
    b.nic
        .tx(SLOTS, b.eth.send(b.ip.send(Nothing)))
        .map_err(err)?;
    link.transfer(b.nic.inner_mut(), &mut a.nic);
    let a_udp = a.udp.recv_or(&mut client.udp, &mut client.ping);
    a.nic
        .rx(SLOTS, a.eth.recv(a.ip.recv(a.icmp.recv(a_udp))))
        .map_err(err)?;
    Ok(())
}

fn run(options: Options) -> Result<(), String> {
    let new_nic = || Nic::new(vec![0u8; SLOTS * FRAME], FRAME).map_err(|e| e.to_string());
    let file = match &options.pcap {
        Some(path) => Some(BufWriter::new(
            File::create(path).map_err(|e| format!("{path}: {e}"))?,
        )),
        None => None,
    };
    let writer = PcapWriter::new(FileOrNothing(file), TimestampResolution::Nano, 0)
        .map_err(|e| e.to_string())?;
    let mut a = Host::new(new_nic()?, MAC_A, IP4_A, IP6_A);
    let mut b = Host::new(
        Capture::new(new_nic()?, writer, CaptureMode::Both),
        MAC_B,
        IP4_B,
        IP6_B,
    );
    for port in [ECHO_PORT, DISCARD_PORT] {
        b.udp.bind(port).map_err(|e| e.to_string())?;
    }
    a.udp.bind(CLIENT_PORT).map_err(|e| e.to_string())?;
    let mut link = LinkFaults::new(options.faults, options.seed);
    let mut server = Server::default();

    println!("ethox loopback: two hosts on an in-memory link");
    println!("  A is {MAC_A} {IP4_A} {IP6_A}, B is {MAC_B} {IP4_B} {IP6_B}");
    if options.faults != FaultConfig::default() {
        println!(
            "  link faults: {:?} (seed {})",
            options.faults, options.seed
        );
    }

    // 1 and 2: pings and a UDP echo over each family, one step per
    // (simulated) second, like ping(8).
    let mut now = Instant::from_secs(1);
    let mut clients = Vec::new();
    for peer in [IpAddr::V4(IP4_B), IpAddr::V6(IP6_B)] {
        println!("PING {peer}: {PING_DATA} data bytes");
        let mut client = Client::new(peer);
        for _ in 0..(u32::from(PING_COUNT) + 4) {
            if client.ping.sent == u64::from(PING_COUNT) {
                break;
            }
            client.ping.pending = 1;
            step(&mut a, &mut b, &mut link, &mut client, &mut server, now)?;
            now += Duration::from_secs(1);
        }
        let loss = 100.0 * (1.0 - client.ping.replies as f64 / client.ping.sent.max(1) as f64);
        println!(
            "--- {peer} ping statistics: {} transmitted, {} received, {loss:.0}% packet loss",
            client.ping.sent, client.ping.replies
        );
        client.ping.pending = 0;
        for _ in 0..4 {
            if client.udp.echoes > 0 {
                break;
            }
            client.udp.pending = 1;
            step(&mut a, &mut b, &mut link, &mut client, &mut server, now)?;
            now += Duration::from_secs(1);
        }
        clients.push(client);
    }

    // 3. Floods, bounded in time (and in count when capturing).
    let limit = if options.pcap.is_some() {
        4096
    } else {
        u64::MAX
    };
    let mut client = Client::new(IpAddr::V4(IP4_B)).quiet();
    client.udp.port = DISCARD_PORT;
    let start = WallClock::now();
    while start.elapsed() < options.flood && client.udp.sent < limit {
        client.udp.pending = SLOTS / 2;
        let t = Instant::from_secs(100) + start.elapsed();
        step(&mut a, &mut b, &mut link, &mut client, &mut server, t)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "  udp flood: {} datagrams of {FLOOD_PAYLOAD} bytes sent, {} received in {elapsed:.3} s: {:.2} M datagrams/s",
        client.udp.sent,
        server.discarded,
        server.discarded as f64 / elapsed / 1e6
    );

    let start = WallClock::now();
    while start.elapsed() < options.flood && client.ping.sent < limit {
        client.ping.pending = SLOTS / 2;
        let t = Instant::from_secs(200) + start.elapsed();
        step(&mut a, &mut b, &mut link, &mut client, &mut server, t)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "  ping flood: {} requests, {} replies in {elapsed:.3} s: {:.0} k round trips/s ({:.2} M packets/s through both stacks)",
        client.ping.sent,
        client.ping.replies,
        client.ping.replies as f64 / elapsed / 1e3,
        2.0 * client.ping.replies as f64 / elapsed / 1e6
    );

    let ip_stats = b.ip.stats();
    println!(
        "  B ip: delivered {}, bad checksum {}, truncated {}, not for us {}; arp replies {}, neighbor advertisements {}; icmp echo replies {}; udp delivered {}",
        ip_stats.rx_delivered,
        ip_stats.rx_bad_checksum,
        ip_stats.rx_truncated,
        ip_stats.rx_not_for_us,
        ip_stats.arp_replies_sent,
        ip_stats.ndisc_advertisements_sent,
        b.icmp.stats().echo_replies_sent,
        b.udp.stats().rx_delivered,
    );
    if options.faults != FaultConfig::default() {
        println!("  link faults injected: {:?}", link.stats());
    }
    let capture = b.nic.stats();
    let (_, writer) = b.nic.into_parts();
    if let Some(path) = &options.pcap {
        let mut sink = writer.into_inner();
        if let Some(file) = sink.0.as_mut() {
            file.flush().map_err(|e| format!("{path}: {e}"))?;
        }
        println!(
            "  wrote {path}: {} frames received and {} sent by B",
            capture.rx_recorded, capture.tx_recorded
        );
    }
    if clients.iter().all(|c| c.ping.replies == 0) {
        return Err("no echo reply came back".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loopback: {message}");
            ExitCode::FAILURE
        }
    }
}
