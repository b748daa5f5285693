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
//! 4. A opens a TCP connection to B's port 5001, sends a stream (1 GiB;
//!    1 MiB with a capture or faults; `--tcp-mib` sets it) and closes;
//!    B checks the stream's digest and closes too. The demo prints the
//!    handshake's options, the throughput, the retransmissions and the
//!    close.
//!
//! Time on the link is simulated (explicit instants); the flood rates and
//! the TCP throughput are wall-clock. `--pcap FILE` writes what B's NIC
//! received and sent; the fault-injection flags act on the link in both
//! directions (TCP recovers what they drop or corrupt; with a size limit
//! both hosts announce an MSS that fits it).
//!
//! ```text
//! cargo run --release --bin loopback -- --pcap loopback.pcap --drop-chance 10
//! ```

use ethox_examples::FileOrNothing;
use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::{Duration, Instant as WallClock};

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{Digest, RingRecvBuffer, Source};
use ethox::layer::tcp::connection::{CloseReason, Config as TcpConfig, ConnectionStats, State};
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, icmp, ip, udp};
use ethox::nic::Device;
use ethox::nic::capture::{Capture, CaptureMode};
use ethox::nic::fault::{FaultConfig, LinkFaults};
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::pcap::{PcapWriter, TimestampResolution};
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
/// B's TCP port (iperf's).
const TCP_PORT: u16 = 5001;
/// The TCP stream's size without capture or faults, in MiB.
const TCP_MIB: u64 = 1024;
/// ... and with either (every frame of it is written to the capture; a
/// lossy link recovers in simulated time, but in many rounds).
const TCP_MIB_BOUNDED: u64 = 1;
/// Simulated time per round of the TCP transfer: one round moves up to
/// `SLOTS` frames each way.
const TCP_ROUND: Duration = Duration::from_micros(10);
/// Each host's TCP receive buffer (its window).
const TCP_WINDOW: usize = 1 << 20;
/// Headers in front of a TCP payload: Ethernet, IPv4, TCP.
const TCP_OVERHEAD: usize = 14 + 20 + 20;

type Nic = MemoryNic<Vec<u8>, SLOTS>;

struct Options {
    pcap: Option<String>,
    faults: FaultConfig,
    seed: u64,
    flood: Duration,
    tcp_mib: Option<u64>,
}

fn usage() -> &'static str {
    "usage: loopback [--pcap FILE] [--drop-chance PCT] [--corrupt-chance PCT]\n\
     \x20               [--size-limit BYTES] [--tx-rate-limit N] [--rx-rate-limit N]\n\
     \x20               [--shaping-interval MS] [--seed N] [--flood-ms MS] [--tcp-mib MIB]\n\
     defaults: no capture, no faults, seed 1, each flood 500 ms (4096 packets with --pcap),\n\
     \x20         a TCP stream of 1024 MiB (1 MiB with --pcap or faults)"
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        pcap: None,
        faults: FaultConfig::default(),
        seed: 1,
        flood: Duration::from_millis(500),
        tcp_mib: None,
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
            "--tcp-mib" => options.tcp_mib = Some(number()?.min(64 * 1024)),
            _ => return Err(format!("unknown option {flag}\n{}", usage())),
        }
    }
    Ok(options)
}

/// One host: its NIC and its layers.
struct Host<N> {
    nic: N,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    udp: udp::Endpoint<'static>,
    tcp: tcp::Endpoint<'static>,
}

impl<N> Host<N> {
    fn new(
        nic: N,
        mac: EthernetAddress,
        v4: Ipv4Addr,
        v6: Ipv6Addr,
        tcp_config: TcpConfig,
    ) -> Host<N> {
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
            tcp: tcp::Endpoint::new(
                vec![Slot::empty(); 4],
                vec![Listener::EMPTY; 2],
                Secrets::from_seed(u64::from(mac.0[5])),
                tcp_config,
            ),
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

/// One host's TCP application: a generated stream to send (A), a ring
/// for what arrives (which holds segments that came out of order, so the
/// connection reports them in SACK blocks), the digest of what the
/// application read from it, and what happened.
struct TcpApp {
    name: &'static str,
    conn: Option<Handle>,
    send: Source,
    recv: RingRecvBuffer<'static>,
    digest: Digest,
    established: bool,
    peer_closed: bool,
    closed: Option<CloseReason>,
    /// The connection's counters, as last seen before it went away.
    stats: ConnectionStats,
}

impl TcpApp {
    fn new(name: &'static str, send: Source) -> TcpApp {
        TcpApp {
            name,
            conn: None,
            send,
            recv: RingRecvBuffer::new(vec![0; TCP_WINDOW]),
            digest: Digest::new(),
            established: false,
            peer_closed: false,
            closed: None,
            stats: ConnectionStats::default(),
        }
    }
}

impl TcpApp {
    /// Reads everything in order out of the ring into the digest.
    fn read(&mut self) {
        loop {
            let chunk = self.recv.readable();
            if chunk.is_empty() {
                return;
            }
            self.digest.update(chunk);
            let n = chunk.len();
            self.recv.consume(n);
        }
    }
}

impl Io for TcpApp {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        (self.conn == Some(conn)).then_some(Buffers {
            send: &mut self.send,
            recv: &mut self.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        match event {
            // B's listener made it: this is B's one connection.
            Event::Incoming if self.conn.is_none() => self.conn = Some(conn),
            _ if self.conn != Some(conn) => {}
            Event::Established => self.established = true,
            Event::PeerClosed => {
                self.peer_closed = true;
                println!("  {}: FIN from the peer", self.name);
            }
            Event::Closed(reason) => {
                self.closed = Some(reason);
                println!("  {}: closed ({reason:?})", self.name);
            }
            _ => {}
        }
    }
}

/// One TCP round: A sends, the link carries, B receives (ICMP and TCP)
/// and sends, the link carries back, A receives. Returns the frames sent
/// and received by both.
fn tcp_step(
    a: &mut Host<Nic>,
    b: &mut HostB,
    link: &mut LinkFaults,
    apps: (&mut TcpApp, &mut TcpApp),
    now: Instant,
) -> Result<usize, String> {
    let err = |e: ethox::nic::Error| e.to_string();
    let (client, server) = apps;
    a.nic.set_time(now);
    b.nic.inner_mut().set_time(now);
    let mut moved = a
        .nic
        .tx(SLOTS, a.eth.send(a.ip.send(a.tcp.send(&mut *client))))
        .map_err(err)?;
    link.transfer(&mut a.nic, b.nic.inner_mut());
    let b_tcp = b.tcp.recv(&mut *server);
    moved += b
        .nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(b_tcp))))
        .map_err(err)?;
    moved += b
        .nic
        .tx(SLOTS, b.eth.send(b.ip.send(b.tcp.send(&mut *server))))
        .map_err(err)?;
    link.transfer(b.nic.inner_mut(), &mut a.nic);
    let a_tcp = a.tcp.recv(&mut *client);
    moved += a
        .nic
        .rx(SLOTS, a.eth.recv(a.ip.recv(a.icmp.recv(a_tcp))))
        .map_err(err)?;
    for (host, app) in [(&a.tcp, &mut *client), (&b.tcp, &mut *server)] {
        app.read();
        if let Some(conn) = app.conn.and_then(|h| host.connection(h)) {
            app.stats = conn.stats();
        }
    }
    Ok(moved)
}

/// How a connection ended, for the summary.
fn closed_how(reason: Option<CloseReason>) -> String {
    reason.map_or("never connected".into(), |r| format!("{r:?}"))
}

/// The TCP part: connect, stream `bytes` from A to B, close both ways.
fn tcp_transfer(
    a: &mut Host<Nic>,
    b: &mut HostB,
    link: &mut LinkFaults,
    bytes: u64,
    start: Instant,
) -> Result<(), String> {
    const SEED: u64 = 0x5eed;
    let mut client = TcpApp::new("A", Source::new(SEED, bytes));
    let mut server = TcpApp::new("B", Source::new(SEED, 0));
    b.tcp.listen(TCP_PORT, 1).map_err(|e| e.to_string())?;
    println!("TCP {IP4_A} -> {IP4_B}:{TCP_PORT}: {bytes} bytes");
    let handle = a
        .tcp
        .connect((IpAddr::V4(IP4_A), 0), (IpAddr::V4(IP4_B), TCP_PORT), start)
        .map_err(|e| e.to_string())?;
    client.conn = Some(handle);
    let local_port = a.tcp.tuple(handle).map_or(0, |t| t.local_port);

    let mut now = start;
    let wall = WallClock::now();
    let mut transfer_start = None;
    let mut transfer_time: Option<Duration> = None;
    let mut rounds = 0u64;
    // Bounded: a transfer that cannot finish (a link that drops
    // everything) fails the demo instead of running forever.
    let limit = Duration::from_secs(60);
    loop {
        if wall.elapsed() > limit {
            return Err(format!(
                "tcp: not finished after {limit:?} ({} of {bytes} bytes arrived)",
                server.digest.len()
            ));
        }
        let moved = tcp_step(a, b, link, (&mut client, &mut server), now)?;
        rounds += 1;
        if client.established && transfer_start.is_none() {
            let conn = a.tcp.connection(handle);
            let (sack, ts, scale, _) = conn.map_or((false, false, None, false), |c| c.negotiated());
            let options = [
                scale.map(|(ours, theirs)| format!("window scale {ours}/{theirs}")),
                sack.then(|| "SACK".to_string()),
                ts.then(|| "timestamps".to_string()),
            ];
            let options: Vec<_> = options.into_iter().flatten().collect();
            println!(
                "  connected {IP4_A}:{local_port} -> {IP4_B}:{TCP_PORT}: mss {}, {}",
                client.stats.mss,
                options.join(", ")
            );
            // All of the stream is queued: the FIN follows its last byte.
            a.tcp.close(handle).map_err(|e| e.to_string())?;
            transfer_start = Some(WallClock::now());
        }
        if server.peer_closed && transfer_time.is_none() {
            // Everything arrived (and was read): the transfer is over.
            let elapsed = transfer_start.map_or(Duration::ZERO, |t| t.elapsed());
            transfer_time = Some(elapsed);
            let received = server.digest.len();
            let seconds = elapsed.as_secs_f64().max(1e-9);
            let stats = client.stats;
            println!(
                "  tcp transfer: {received} bytes A -> B in {seconds:.3} s: {:.2} Gbit/s, {} segments, {} retransmissions ({} fast, {} timeouts)",
                received as f64 * 8.0 / seconds / 1e9,
                stats.segments_sent,
                stats.retransmissions,
                stats.fast_retransmits,
                stats.timeouts,
            );
            if let Some(conn) = server.conn {
                // B has read everything: its side goes too.
                b.tcp.close(conn).map_err(|e| e.to_string())?;
            }
        }
        // Done when both closed, or A gave up before B had a connection.
        if client.closed.is_some() && (server.closed.is_some() || server.conn.is_none()) {
            break;
        }
        if moved > 0 {
            now += TCP_ROUND;
            continue;
        }
        // Nothing moved: skip ahead to the next timer (a retransmission,
        // a delayed ACK, the end of TIME-WAIT, an ARP retry). One that is
        // due already waits for another (an ACK owed while the peer's
        // address is being resolved again).
        let next = [
            a.tcp.next_deadline(),
            b.tcp.next_deadline(),
            a.ip.next_deadline(),
            b.ip.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .filter(|&at| at > now)
        .min();
        now = next.ok_or_else(|| {
            format!(
                "tcp: stalled with no timer running (A {:?}: is B reachable?)",
                a.tcp.state(handle)
            )
        })?;
    }

    let received = server.digest.len();
    let digest_ok = server.digest.value() == Source::digest_of(SEED, bytes);
    println!(
        "  tcp close: A {}, B {} (A after TIME-WAIT), {:.3} s simulated in {rounds} rounds; digest of the {received} bytes B read: {}",
        closed_how(client.closed),
        closed_how(server.closed),
        (now - start).as_secs_f64(),
        if digest_ok { "ok" } else { "WRONG" },
    );
    let closed_well = [client.closed, server.closed]
        .iter()
        .all(|c| *c == Some(CloseReason::Normal));
    if received != bytes || !digest_ok || !closed_well {
        return Err("tcp: the stream did not arrive whole, or did not close cleanly".into());
    }
    debug_assert!(a.tcp.state(handle) == State::Closed);
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
    let writer = PcapWriter::new(FileOrNothing::new(file), TimestampResolution::Nano, 0)
        .map_err(|e| e.to_string())?;
    // With a size limit on the link, both hosts announce an MSS whose
    // frames fit it (the path MTU, known here rather than discovered).
    let mut tcp_config = TcpConfig::default();
    let size_limit = options.faults.size_limit;
    let tcp_room = (size_limit > 0).then(|| size_limit.saturating_sub(TCP_OVERHEAD));
    if let Some(room) = tcp_room {
        tcp_config.mss = u16::try_from(room).unwrap_or(u16::MAX).min(tcp_config.mss);
    }
    if options.faults != FaultConfig::default() {
        // A lossy link backs the retransmission timer off far (simulated
        // time is cheap here): the transfer waits it out rather than
        // giving up after the default two minutes.
        tcp_config.user_timeout = None;
        // And B's FIN, retransmitted at that backed-off timer (up to a
        // minute), must still find A in TIME-WAIT (which restarts with
        // each retransmitted FIN): the 2 MSL of RFC 9293, not Linux's
        // 60 s, or A is gone, answers with a RST, and B ends reset.
        tcp_config.time_wait = Duration::from_secs(240);
    }
    let mut a = Host::new(new_nic()?, MAC_A, IP4_A, IP6_A, tcp_config);
    let mut b = Host::new(
        Capture::new(new_nic()?, writer, CaptureMode::Both),
        MAC_B,
        IP4_B,
        IP6_B,
        tcp_config,
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

    // 4. TCP, in simulated time after the floods.
    let bounded = options.pcap.is_some() || options.faults != FaultConfig::default();
    let mib = options
        .tcp_mib
        .unwrap_or(if bounded { TCP_MIB_BOUNDED } else { TCP_MIB });
    // Room for the options of every segment (timestamps, SACK blocks)
    // and some data.
    if tcp_room.is_some_and(|room| room < 64 + 40) {
        println!("TCP skipped: --size-limit {size_limit} leaves no room for a segment");
    } else {
        let start = Instant::from_secs(300) + options.flood * 2;
        tcp_transfer(&mut a, &mut b, &mut link, mib << 20, start)?;
    }

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
        sink.flush().map_err(|e| format!("{path}: {e}"))?;
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
