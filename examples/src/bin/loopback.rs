//! The main demo of ethox: two hosts on an in-memory link.
//!
//! Host A (10.0.0.1) pings host B (10.0.0.2) through the whole stack:
//! NIC, Ethernet, IP with ARP, ICMP. The first ping waits while A's IP
//! layer resolves B with an ARP request, which B answers in place. B's
//! ICMP layer answers each echo request in the buffer it arrived in. Then
//! A floods B with echo requests for a bounded time and the demo prints
//! the round-trip rate.
//!
//! Time on the link is simulated (explicit instants, one millisecond per
//! exchange); the flood rate is wall-clock.
//!
//! `--pcap FILE` writes what B's NIC received and sent; the fault-injection
//! flags act on the link in both directions. UDP joins with the rest of
//! the "Core layers" issue.
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
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::capture::{Capture, CaptureMode};
use ethox::nic::fault::{FaultConfig, LinkFaults};
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use ethox::wire::pcap::{PcapSink, PcapWriter, TimestampResolution};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr};

const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SLOTS: usize = 64;
const FRAME: usize = 1514;
const PING_COUNT: u16 = 4;
const PING_DATA: usize = 56;

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
     defaults: no capture, no faults, seed 1, flood 500 ms (4096 pings with --pcap)"
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
}

impl<N> Host<N> {
    fn new(nic: N, mac: EthernetAddress, addr: Ipv4Addr) -> Host<N> {
        let mut ip = ip::Endpoint::new(
            vec![None; 2],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default()),
        );
        ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).expect("a /24 is valid"));
        Host {
            nic,
            eth: eth::Endpoint::new(mac),
            ip,
            icmp: icmp::Endpoint::new(),
        }
    }
}

/// Sends echo requests to B and matches the replies.
struct Pinger {
    /// Send at most this many (flood: unbounded).
    limit: u64,
    sent: u64,
    /// Requests to send in the current step.
    budget: usize,
    received: u64,
    /// (sequence number, simulated send time) of the requests in flight.
    sent_at: Vec<Instant>,
    verbose: bool,
    now: Instant,
    rtts: Vec<Duration>,
}

impl<D: Device> ip::Send<D> for Pinger {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.budget == 0 || self.sent >= self.limit {
            return;
        }
        let data = [0x5a; PING_DATA];
        let seq = self.sent as u16;
        let request = Icmpv4Repr::EchoRequest {
            ident: 0xe7,
            seq_no: seq,
            data: &data,
        };
        let init = ip::Init {
            src: None,
            dst: IpAddr::V4(IP_B),
            protocol: IpProtocol::Icmp,
            payload_len: request.buffer_len(),
        };
        match raw.prepare(init) {
            Ok(mut out) => {
                let emitted = request.emit(
                    &mut Icmpv4Packet::new_unchecked(out.payload_mut()),
                    ChecksumMode::Software,
                );
                if emitted.is_ok() && out.send().is_ok() {
                    if self.verbose {
                        self.sent_at.push(self.now);
                    }
                    self.sent += 1;
                    self.budget -= 1;
                }
            }
            Err(ip::Error::Unresolved) if self.verbose => {
                println!("  (waiting for ARP to resolve {IP_B})")
            }
            Err(_) => {}
        }
    }
}

impl<D: Device> ip::Recv<D> for Pinger {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let parsed = Icmpv4Packet::new_checked(packet.payload())
            .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software));
        if let Ok(Icmpv4Repr::EchoReply { seq_no, data, .. }) = parsed {
            self.received += 1;
            if self.verbose {
                let sent = self
                    .sent_at
                    .get(usize::from(seq_no))
                    .copied()
                    .unwrap_or(self.now);
                let rtt = self.now - sent;
                self.rtts.push(rtt);
                println!(
                    "  {} bytes from {}: icmp_seq={} ttl={} time={:.3} ms (simulated)",
                    data.len() + 8,
                    packet.repr().src(),
                    seq_no,
                    packet.repr().hop_limit(),
                    rtt.as_secs_f64() * 1e3
                );
            }
        }
    }
}

/// B's application: nothing but counting what its ICMP layer passes on.
#[derive(Default)]
struct Quiet {
    other: u64,
}

impl<D: Device> ip::Recv<D> for Quiet {
    fn receive(&mut self, _: ip::In<'_, '_, D>) {
        self.other += 1;
    }
}

type HostB = Host<Capture<Nic, FileOrNothing>>;

/// One round: A sends, the link carries, B answers, the link carries back,
/// A receives.
fn step(
    a: &mut Host<Nic>,
    b: &mut HostB,
    link: &mut LinkFaults,
    pinger: &mut Pinger,
    quiet: &mut Quiet,
    now: Instant,
) -> Result<(), String> {
    let err = |e: ethox::nic::Error| e.to_string();
    a.nic.set_time(now);
    b.nic.inner_mut().set_time(now);
    pinger.now = now;
    a.nic
        .tx(SLOTS, a.eth.send(a.ip.send(&mut *pinger)))
        .map_err(err)?;
    link.transfer(&mut a.nic, b.nic.inner_mut());
    b.nic
        .rx(SLOTS, b.eth.recv(b.ip.recv(b.icmp.recv(&mut *quiet))))
        .map_err(err)?;
    b.nic
        .tx(SLOTS, b.eth.send(b.ip.send(Nothing)))
        .map_err(err)?;
    link.transfer(b.nic.inner_mut(), &mut a.nic);
    a.nic
        .rx(SLOTS, a.eth.recv(a.ip.recv(a.icmp.recv(&mut *pinger))))
        .map_err(err)?;
    Ok(())
}

/// B sends nothing of its own; its IP layer may still owe ARP traffic.
struct Nothing;

impl<D: Device> ip::Send<D> for Nothing {
    fn send(&mut self, _: ip::Raw<'_, '_, D>) {}
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
    let mut a = Host::new(new_nic()?, MAC_A, IP_A);
    let mut b = Host::new(
        Capture::new(new_nic()?, writer, CaptureMode::Both),
        MAC_B,
        IP_B,
    );
    let mut link = LinkFaults::new(options.faults, options.seed);
    let mut quiet = Quiet::default();

    println!("ethox loopback: two hosts on an in-memory link");
    println!("  A is {MAC_A} {IP_A}, B is {MAC_B} {IP_B}");
    if options.faults != FaultConfig::default() {
        println!(
            "  link faults: {:?} (seed {})",
            options.faults, options.seed
        );
    }

    // 1. Ping: one request a (simulated) second, like ping(8).
    println!("PING {IP_B} from {IP_A}: {PING_DATA} data bytes");
    let mut pinger = Pinger {
        limit: u64::from(PING_COUNT),
        sent: 0,
        budget: 0,
        received: 0,
        sent_at: Vec::new(),
        verbose: true,
        now: Instant::ZERO,
        rtts: Vec::new(),
    };
    let mut now = Instant::from_secs(1);
    let mut rounds = 0;
    while pinger.sent < u64::from(PING_COUNT) && rounds < 20 {
        pinger.budget = 1;
        step(&mut a, &mut b, &mut link, &mut pinger, &mut quiet, now)?;
        // Let the reply (or a resolved ARP entry) arrive a millisecond later.
        step(
            &mut a,
            &mut b,
            &mut link,
            &mut pinger,
            &mut quiet,
            now + Duration::from_millis(1),
        )?;
        now += Duration::from_secs(1);
        rounds += 1;
    }
    let loss = 100.0 * (1.0 - pinger.received as f64 / pinger.sent.max(1) as f64);
    println!(
        "--- {IP_B} ping statistics ---\n  {} packets transmitted, {} received, {loss:.0}% packet loss",
        pinger.sent, pinger.received
    );

    // 2. Flood: as many echo round trips as the stack sustains.
    pinger.verbose = false;
    pinger.limit = if options.pcap.is_some() {
        pinger.sent + 4096
    } else {
        u64::MAX
    };
    let (sent_before, received_before) = (pinger.sent, pinger.received);
    let start = WallClock::now();
    while start.elapsed() < options.flood && pinger.sent < pinger.limit {
        pinger.budget = SLOTS / 2;
        let now = Instant::from_secs(100) + start.elapsed();
        step(&mut a, &mut b, &mut link, &mut pinger, &mut quiet, now)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let round_trips = pinger.received - received_before;
    println!(
        "  ping flood: {} requests, {round_trips} replies in {elapsed:.3} s: {:.0} k round trips/s ({:.2} M packets/s through both stacks)",
        pinger.sent - sent_before,
        round_trips as f64 / elapsed / 1e3,
        2.0 * round_trips as f64 / elapsed / 1e6
    );

    let ip_stats = b.ip.stats();
    println!(
        "  B ip: delivered {}, bad checksum {}, truncated {}, not for us {}; arp replies sent {}; icmp echo replies {}",
        ip_stats.rx_delivered,
        ip_stats.rx_bad_checksum,
        ip_stats.rx_truncated,
        ip_stats.rx_not_for_us,
        ip_stats.arp_replies_sent,
        b.icmp.stats().echo_replies_sent
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
    if pinger.received == 0 {
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
