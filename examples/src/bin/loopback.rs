//! The main demo of ethox: two hosts on an in-memory link.
//!
//! What runs today (the IP, ICMP and UDP layers arrive with the "Core
//! layers" issue and will turn this into pings and UDP traffic):
//!
//! 1. Host A broadcasts an ARP request for B, built with `wire::arp` in a
//!    buffer lent by A's NIC through the Ethernet layer.
//! 2. Host B receives it through its Ethernet layer and answers in place:
//!    the same buffer becomes the ARP reply, no payload copied.
//! 3. A floods B with frames for a bounded time and the demo prints the
//!    rate the Ethernet layer sustained over the in-memory link.
//!
//! Every frame is printed with the pretty printer. `--pcap FILE` writes
//! what B's NIC saw and sent; the fault-injection flags apply to the link.
//!
//! ```text
//! cargo run --release --bin loopback -- --pcap loopback.pcap --drop-chance 10
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant as WallClock};

use ethox::layer::eth::{self, Endpoint, Init};
use ethox::nic::Device;
use ethox::nic::capture::{Capture, CaptureMode};
use ethox::nic::fault::{FaultConfig, LinkFaults};
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use ethox::wire::pcap::{PcapSink, PcapWriter, TimestampResolution};
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{EtherType, EthernetAddress, Ipv4Addr};

const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SLOTS: usize = 64;
const FRAME: usize = 1514;

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
     defaults: no capture, no faults, seed 1, flood 500 ms (4096 frames with --pcap)"
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

/// Sends one ARP request for `IP_B` from host A.
struct AskForB;

impl<D: Device> eth::Send<D> for AskForB {
    fn send(&mut self, raw: eth::Raw<'_, '_, D>) {
        let request = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: MAC_A,
            source_protocol_addr: IP_A,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: IP_B,
        };
        let init = Init {
            dst: EthernetAddress::BROADCAST,
            ethertype: EtherType::Arp,
            payload_len: request.buffer_len(),
        };
        if let Ok(mut out) = raw.prepare(init) {
            request.emit(&mut ArpPacket::new_unchecked(out.payload_mut()));
            let _ = out.send();
        }
    }
}

/// Host B: answers ARP requests for its address in place, counts the rest.
#[derive(Default)]
struct HostB {
    answered: u64,
    other: u64,
    verbose: bool,
}

impl<D: Device> eth::Recv<D> for HostB {
    fn receive(&mut self, frame: eth::In<'_, '_, D>) {
        if self.verbose {
            println!(
                "  B got:  {}",
                PrettyFrame::new(frame.frame()).with_link_header(true)
            );
        }
        if frame.repr().ethertype != EtherType::Arp {
            self.other += 1;
            return;
        }
        let Ok(ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr,
            source_protocol_addr,
            target_protocol_addr,
            ..
        }) = ArpPacket::new_checked(frame.payload()).and_then(|p| ArpRepr::parse(&p))
        else {
            return;
        };
        if target_protocol_addr != IP_B {
            return;
        }
        let reply = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: MAC_B,
            source_protocol_addr: IP_B,
            target_hardware_addr: source_hardware_addr,
            target_protocol_addr: source_protocol_addr,
        };
        if let Ok(mut out) = frame.reply(EtherType::Arp, reply.buffer_len()) {
            reply.emit(&mut ArpPacket::new_unchecked(out.payload_mut()));
            if out.send().is_ok() {
                self.answered += 1;
            }
        }
    }
}

/// Host A: prints what it receives.
#[derive(Default)]
struct HostA {
    replies: u64,
}

impl<D: Device> eth::Recv<D> for HostA {
    fn receive(&mut self, frame: eth::In<'_, '_, D>) {
        println!(
            "  A got:  {}",
            PrettyFrame::new(frame.frame()).with_link_header(true)
        );
        if frame.repr().ethertype == EtherType::Arp {
            self.replies += 1;
        }
    }
}

/// Fills every lent buffer with a minimum-size frame for B.
struct Flood;

impl<D: Device> eth::Send<D> for Flood {
    fn send(&mut self, raw: eth::Raw<'_, '_, D>) {
        let init = Init {
            dst: MAC_B,
            ethertype: EtherType::Unknown(0x88b5), // IEEE local experimental
            payload_len: 46,
        };
        if let Ok(out) = raw.prepare(init) {
            let _ = out.send();
        }
    }
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
    let mut nic_a = new_nic()?;
    // B's NIC records what it receives and sends.
    let mut nic_b = Capture::new(new_nic()?, writer, CaptureMode::Both);
    let mut eth_a = Endpoint::new(MAC_A);
    let mut eth_b = Endpoint::new(MAC_B);
    let mut link = LinkFaults::new(options.faults, options.seed);
    let mut host_a = HostA::default();
    let mut host_b = HostB {
        verbose: true,
        ..HostB::default()
    };
    let err = |e: ethox::nic::Error| e.to_string();

    println!("ethox loopback: two hosts on an in-memory link");
    println!("  A is {MAC_A} {IP_A}, B is {MAC_B} {IP_B}");
    if options.faults != FaultConfig::default() {
        println!(
            "  link faults: {:?} (seed {})",
            options.faults, options.seed
        );
    }

    // 1. A asks who has B; retried once a (simulated) second, as a faulty
    // link may lose the request or the reply.
    for attempt in 0..5u64 {
        let now = Instant::from_secs(1 + attempt);
        nic_a.set_time(now);
        nic_b.inner_mut().set_time(now);
        nic_a.tx(1, eth_a.send(AskForB)).map_err(err)?;
        // 2. The link carries it to B, which answers in place.
        link.transfer(&mut nic_a, nic_b.inner_mut());
        nic_b.rx(SLOTS, eth_b.recv(&mut host_b)).map_err(err)?;
        link.transfer(nic_b.inner_mut(), &mut nic_a);
        nic_a.rx(SLOTS, eth_a.recv(&mut host_a)).map_err(err)?;
        if host_a.replies > 0 {
            break;
        }
        println!("  (no reply yet, asking again)");
    }
    if host_a.replies == 0 {
        return Err("B never answered: the link lost every attempt".into());
    }

    // 3. A floods B with minimum-size frames for a bounded time.
    host_b.verbose = false;
    let start = WallClock::now();
    let mut sent = 0u64;
    // A capture of the whole flood would be hundreds of megabytes: with
    // --pcap the flood stops after a few thousand frames.
    let limit = if options.pcap.is_some() {
        4096
    } else {
        u64::MAX
    };
    while start.elapsed() < options.flood && sent < limit {
        let now = Instant::from_secs(10) + start.elapsed();
        nic_a.set_time(now);
        nic_b.inner_mut().set_time(now);
        sent += nic_a.tx(SLOTS, eth_a.send(Flood)).map_err(err)? as u64;
        link.transfer(&mut nic_a, nic_b.inner_mut());
        nic_b.rx(SLOTS, eth_b.recv(&mut host_b)).map_err(err)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let received = host_b.other;
    println!(
        "  flood: A sent {sent} frames, B's Ethernet layer took {received} in {elapsed:.3} s: {:.2} M frames/s",
        received as f64 / elapsed / 1e6
    );

    let stats = eth_b.stats();
    println!(
        "  B eth: delivered {}, not for us {}, truncated {}, sent {}",
        stats.rx_delivered, stats.rx_not_for_us, stats.rx_truncated, stats.tx_frames
    );
    if options.faults != FaultConfig::default() {
        println!("  link faults injected: {:?}", link.stats());
    }
    let capture = nic_b.stats();
    let (_, writer) = nic_b.into_parts();
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
