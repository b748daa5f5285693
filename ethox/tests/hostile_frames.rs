//! Hostile input against a fully configured host: every captured fixture
//! frame, every prefix of it, and a bounded, deterministic set of byte
//! mutations, injected into host B's NIC and received through the whole
//! tree (Ethernet, ARP, IPv4, IPv6 with neighbor discovery, ICMP, and an
//! app that refuses whatever reaches it with an ICMP error).
//!
//! B must not panic, must count what it drops, must only ever transmit
//! well-formed frames, must not answer with ICMP errors where RFC 1122
//! 3.2.2 and RFC 4443 2.4(e) forbid them, and must still answer a normal
//! ping afterwards.
//!
//! Each fixture frame is fed in two forms: as captured (only the
//! destination MAC rewritten to B's, broadcast and multicast kept), and
//! retargeted at B (IPv4 and IPv6 destinations set to B's addresses, the
//! ARP target to B's IPv4 address). Retargeting adjusts the low 16 bits of
//! the source address so the ones'-complement sum of the addresses stays
//! the same: the IPv4 header checksum and every transport checksum over
//! the pseudo-header stay valid, so the frames reach the upper layers.
//! Each mutated frame is also fed a second time with its IPv4 header and
//! ICMP checksums recomputed, so mutations of fields behind a checksum get
//! past it.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::route::Routes;
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{DstUnreachable as Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6Repr};
use ethox::wire::ipv4::{Ipv4Packet, Ipv4Repr};
use ethox::wire::ipv6::{Ipv6Packet, Ipv6Repr};
use ethox::wire::pcap::{LinkType, PcapReader};
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};

const SLOTS: usize = 8;
const FRAME_CAPACITY: usize = 1514;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const A4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

/// Bytes of each frame that are mutated.
const MUTATED_PREFIX: usize = 80;

/// How the pretty printer marks a layer it could not parse, and a wrong
/// checksum: none may appear in what B sends.
const MARKERS: [&str; 10] = [
    "[truncated packet",
    "[bad length field",
    "[bad version",
    "[malformed option",
    "[malformed packet",
    "[unsupported packet",
    "[unknown IPv6 header",
    "[too many IPv6",
    "[buffer too small",
    "[bad checksum",
];

/// Whether a pretty-printed line marks a layer as unparsable or its
/// checksum as wrong.
fn is_flagged(line: &str) -> bool {
    MARKERS.iter().any(|m| line.contains(m))
}

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
}

impl Host {
    fn new(mac: EthernetAddress, v4: Ipv4Addr, v6: Ipv6Addr) -> Host {
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(v4), 24).unwrap()));
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(v6), 64).unwrap()));
        let link_local = ethox::wire::ipv6::link_local_from_mac(mac);
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(link_local), 64).unwrap()));
        Host {
            nic: Nic::new(vec![0; SLOTS * FRAME_CAPACITY], FRAME_CAPACITY).unwrap(),
            eth: eth::Endpoint::new(mac),
            ip,
            icmp: icmp::Endpoint::new(),
        }
    }

    fn set_time(&mut self, now: Instant) {
        self.nic.set_time(now);
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
}

/// B's app: refuses whatever the ICMP layer hands on.
#[derive(Default)]
struct Refuse {
    received: u64,
    errors_sent: u64,
    held_back: u64,
    failed: u64,
}

impl<D: Device> ip::Recv<D> for Refuse {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        self.received += 1;
        match packet.reject(ip::Reject::PortUnreachable) {
            Ok(true) => self.errors_sent += 1,
            Ok(false) => self.held_back += 1,
            Err(_) => self.failed += 1,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(out, "{b:02x}").unwrap();
    }
    out
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// The ones'-complement sum of `bytes` as 16-bit big-endian words (an odd
/// last byte padded with zero), not folded.
fn word_sum(bytes: &[u8]) -> u64 {
    bytes
        .chunks(2)
        .map(|c| u64::from(c[0]) << 8 | u64::from(c.get(1).copied().unwrap_or(0)))
        .sum()
}

/// The Internet checksum of a sum: folded and complemented.
fn checksum_of(sum: u64) -> u16 {
    let mut sum = sum;
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Points the frame at B, keeping every checksum that covers the
/// addresses valid. `None` if the frame has no address to retarget.
fn retarget(frame: &[u8]) -> Option<Vec<u8>> {
    let mut out = frame.to_vec();
    let ethertype = be16(frame, 12);
    // (source word to adjust, destination range, new destination)
    let (src_low, dst, new_dst): (usize, usize, &[u8]) = match ethertype {
        0x0800 if frame.len() >= 14 + 20 => (14 + 14, 14 + 16, &B4.octets()),
        0x86dd if frame.len() >= 14 + 40 => (14 + 22, 14 + 24, &B6.octets()),
        0x0806 if frame.len() >= 14 + 28 => {
            out[14 + 24..14 + 28].copy_from_slice(&B4.octets());
            return Some(out);
        }
        _ => return None,
    };
    let old = word_sum(&frame[src_low..src_low + 2]) + word_sum(&frame[dst..dst + new_dst.len()]);
    let new = word_sum(new_dst);
    // src_low' + new == src_low + old_dst (mod 0xffff).
    let adjusted = (old % 0xffff + 0xffff - new % 0xffff) % 0xffff;
    out[src_low..src_low + 2].copy_from_slice(&(adjusted as u16).to_be_bytes());
    out[dst..dst + new_dst.len()].copy_from_slice(new_dst);
    Some(out)
}

/// Recomputes the IPv4 header checksum and the ICMPv4 or ICMPv6 checksum
/// (when ICMP follows the fixed header directly), as far as the frame
/// holds them.
fn fix_checksums(frame: &mut [u8]) {
    if frame.len() < 14 + 1 {
        return;
    }
    match (be16(frame, 12), frame[14] >> 4) {
        (0x0800, 4) => {
            let ihl = usize::from(frame[14] & 0x0f) * 4;
            if ihl < 20 || frame.len() < 14 + ihl {
                return;
            }
            frame[24..26].fill(0);
            let sum = checksum_of(word_sum(&frame[14..14 + ihl]));
            frame[24..26].copy_from_slice(&sum.to_be_bytes());
            let total = usize::from(be16(frame, 16));
            let end = (14 + total).min(frame.len());
            let start = 14 + ihl;
            let first_fragment = be16(frame, 20) & 0x1fff == 0;
            if frame[23] == 1 && first_fragment && end >= start + 4 {
                frame[start + 2..start + 4].fill(0);
                let sum = checksum_of(word_sum(&frame[start..end]));
                frame[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
            }
        }
        (0x86dd, 6) if frame.len() >= 14 + 40 + 4 && frame[20] == 58 => {
            let payload_len = usize::from(be16(frame, 18));
            let start = 14 + 40;
            let end = (start + payload_len).min(frame.len());
            frame[start + 2..start + 4].fill(0);
            let pseudo = word_sum(&frame[22..54]) + (end - start) as u64 + 58;
            let sum = checksum_of(pseudo + word_sum(&frame[start..end]));
            frame[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {}
    }
}

/// The values byte `b` is mutated to: three, distinct, none equal to `b`.
fn mutations(b: u8) -> [u8; 3] {
    let third = if b <= 1 { 0x80 } else { 0x00 };
    [b ^ 0x01, b ^ 0xff, third]
}

/// Whether `payload` (after the IP header) starts an ICMP error message.
fn is_icmpv4_error(protocol: u8, payload: &[u8]) -> bool {
    protocol == 1 && matches!(payload.first(), Some(3 | 4 | 5 | 11 | 12))
}

/// What B did wrong in its transmitted frames.
#[derive(Default)]
struct Findings {
    malformed_output: Vec<String>,
    error_for_link_multicast: Vec<String>,
    error_about_error: Vec<String>,
    foreign_source_mac: Vec<String>,
}

impl Findings {
    fn print(&self) {
        for (what, list) in [
            ("malformed output", &self.malformed_output),
            ("output from a foreign MAC", &self.foreign_source_mac),
            (
                "ICMP errors for link-layer broadcasts/multicasts",
                &self.error_for_link_multicast,
            ),
            ("ICMP errors about ICMP errors", &self.error_about_error),
        ] {
            if let Some(first) = list.first() {
                eprintln!("{what}: {} frames, first: {first}", list.len());
            }
        }
    }
}

/// Whether B's `output` is an ICMP error, and whether the packet it quotes
/// is itself an ICMP error.
fn classify_error(output: &[u8]) -> Option<bool> {
    let payload = output.get(14..)?;
    match be16(output, 12) {
        0x0800 => {
            let ihl = usize::from(payload.first()? & 0x0f) * 4;
            let icmp = payload.get(ihl..)?;
            if payload.get(9) != Some(&1) || !matches!(icmp.first(), Some(3 | 11 | 12)) {
                return None;
            }
            let quote = icmp.get(8..)?;
            let quoted_ihl = usize::from(quote.first()? & 0x0f) * 4;
            let quoted_protocol = *quote.get(9)?;
            Some(is_icmpv4_error(
                quoted_protocol,
                quote.get(quoted_ihl..).unwrap_or(&[]),
            ))
        }
        0x86dd => {
            let icmp = payload.get(40..)?;
            if payload.get(6) != Some(&58) || !matches!(icmp.first(), Some(1..=4)) {
                return None;
            }
            let quote = icmp.get(8..)?;
            // Only a quoted ICMPv6 message right after the fixed header is
            // recognised (the fixtures' errors have no extension headers).
            Some(quote.get(6) == Some(&58) && quote.get(40).is_some_and(|t| *t < 128))
        }
        _ => None,
    }
}

struct Feeder {
    b: Host,
    app: Refuse,
    now: Instant,
    fed: u64,
    oversize: u64,
    transmitted: u64,
    findings: Findings,
    /// The fixture frame and variant being fed.
    context: String,
}

impl Feeder {
    /// Injects one frame into B, lets B handle it, and checks what B sent.
    fn feed(&mut self, frame: &[u8], kind: Kind) {
        // One millisecond per frame: the ICMP error bucket refills at one
        // per millisecond, so refusals keep producing errors.
        self.now += Duration::from_millis(1);
        self.b.set_time(self.now);
        if !self.b.nic.inject(frame) {
            assert!(frame.len() > FRAME_CAPACITY, "B's receive queue is full");
            self.oversize += 1;
            return;
        }
        self.fed += 1;
        let (b, app) = (&mut self.b, &mut self.app);
        let handled = catch_unwind(AssertUnwindSafe(|| b.receive(&mut *app)));
        match handled {
            Ok(1) => {}
            Ok(n) => panic!("B took {n} frames for one: {}", hex(frame)),
            Err(_) => panic!("B panicked on {} ({kind}): {}", self.context, hex(frame)),
        }
        let link_multicast = frame.first().is_some_and(|b| b & 1 == 1);
        let (findings, context) = (&mut self.findings, &self.context);
        let mut transmitted = 0;
        while let Some(()) = self.b.nic.drain_one(|out| {
            transmitted += 1;
            let line = PrettyFrame::new(out).to_string();
            let record = || {
                format!(
                    "{context} ({kind})\n    in  {}\n    out {} ({line})",
                    hex(frame),
                    hex(out)
                )
            };
            if is_flagged(&line) {
                findings.malformed_output.push(record());
            }
            if out.get(6..12) != Some(&MAC_B.0[..]) {
                findings.foreign_source_mac.push(record());
            }
            if let Some(about_error) = classify_error(out) {
                if link_multicast {
                    findings.error_for_link_multicast.push(record());
                }
                if about_error {
                    findings.error_about_error.push(record());
                }
            }
        }) {}
        self.transmitted += transmitted;
    }
}

fn fixture_frames() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let reader = PcapReader::new(&bytes).unwrap();
        assert_eq!(reader.header().link_type, LinkType::Ethernet);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, record) in reader.enumerate() {
            frames.push((format!("{name} #{}", i + 1), record.unwrap().data.to_vec()));
        }
    }
    frames
}

/// Sum of the drop counters of every layer of B.
fn drops(b: &Host) -> u64 {
    let (e, i, c) = (b.eth.stats(), b.ip.stats(), b.icmp.stats());
    e.rx_truncated
        + e.rx_not_for_us
        + e.rx_bad_source
        + e.rx_tagged
        + i.rx_truncated
        + i.rx_bad_checksum
        + i.rx_malformed
        + i.rx_not_for_us
        + i.rx_bad_source
        + i.rx_fragments
        + i.rx_unknown_ethertype
        + i.arp_malformed
        + i.rx_ext_header_dropped
        + i.ndisc_malformed
        + c.rx_bad_checksum
        + c.rx_malformed
}

/// A's app for the final check: one echo request per family, replies
/// recorded.
#[derive(Default)]
struct Ping {
    to_send: Vec<IpAddr>,
    replies: Vec<IpAddr>,
}

impl<D: Device> ip::Send<D> for Ping {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        let Some(&dst) = self.to_send.first() else {
            return;
        };
        let data = [0x5a; 16];
        let (protocol, len) = match dst {
            IpAddr::V4(_) => (IpProtocol::Icmp, 8 + data.len()),
            IpAddr::V6(_) => (IpProtocol::Icmpv6, 8 + data.len()),
        };
        let init = ip::Init {
            src: None,
            dst,
            protocol,
            payload_len: len,
        };
        let Ok(mut out) = raw.prepare(init) else {
            return;
        };
        match out.repr() {
            ip::IpRepr::V6(header) => Icmpv6Repr::EchoRequest {
                ident: 1,
                seq_no: 1,
                data: &data,
            }
            .emit(
                &mut Icmpv6Packet::new_unchecked(out.payload_mut()),
                header.src,
                header.dst,
                ChecksumMode::Software,
            ),
            _ => Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 1,
                data: &data,
            }
            .emit(
                &mut Icmpv4Packet::new_unchecked(out.payload_mut()),
                ChecksumMode::Software,
            )
            .unwrap(),
        }
        out.send().unwrap();
        self.to_send.remove(0);
    }
}

impl<D: Device> ip::Recv<D> for Ping {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let is_reply = match packet.repr() {
            ip::IpRepr::V6(h) => Icmpv6Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv6Repr::parse(&p, h.src, h.dst, ChecksumMode::Software))
                .is_ok_and(|r| matches!(r, Icmpv6Repr::EchoReply { seq_no: 1, .. })),
            _ => Icmpv4Packet::new_checked(packet.payload())
                .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software))
                .is_ok_and(|r| matches!(r, Icmpv4Repr::EchoReply { seq_no: 1, .. })),
        };
        if is_reply {
            self.replies.push(packet.repr().src());
        }
    }
}

/// Where a fed frame came from, for the findings.
#[derive(Clone, Copy)]
enum Kind {
    Prefix(usize),
    Mutated { at: usize, value: u8, fixed: bool },
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Kind::Prefix(len) => write!(f, "first {len} bytes"),
            Kind::Mutated { at, value, fixed } => {
                write!(f, "byte {at} set to {value:#04x}")?;
                if fixed {
                    f.write_str(", checksums fixed")?;
                }
                Ok(())
            }
        }
    }
}

/// Everything fed to B, and what B made of it.
struct Run {
    b: Host,
    app: Refuse,
    now: Instant,
    fed: u64,
    oversize: u64,
    transmitted: u64,
    retargeted: usize,
    findings: Findings,
}

/// Feeds every fixture frame, its prefixes and its mutations to a fresh
/// host B (with a reassembler if `reassembly`).
fn run(fixtures: &[(String, Vec<u8>)], reassembly: bool) -> Run {
    let mut b = Host::new(MAC_B, B4, B6);
    if reassembly {
        b.ip.set_reassembler(Reassembler::new(
            vec![0u8; 4 * 65536],
            vec![ReassemblySlot::EMPTY; 4],
            65536,
            ReassemblyConfig::default(),
        ));
    }
    let mut feeder = Feeder {
        b,
        app: Refuse::default(),
        now: Instant::from_secs(1000),
        fed: 0,
        oversize: 0,
        transmitted: 0,
        findings: Findings::default(),
        context: String::new(),
    };
    let mut retargeted = 0;
    for (name, captured) in fixtures {
        let mut base = captured.clone();
        if base.len() >= 6 && base[0] & 1 == 0 {
            base[..6].copy_from_slice(&MAC_B.0);
        }
        let mut variants = vec![("as captured", base.clone())];
        if let Some(at_b) = retarget(&base) {
            variants.push(("retargeted at B", at_b));
            retargeted += 1;
        }
        for (variant, frame) in &variants {
            feeder.context = format!("{name}, {variant}");
            // The whole frame and every truncation of it.
            for len in (0..=frame.len()).rev() {
                feeder.feed(&frame[..len], Kind::Prefix(len));
            }
            // Every byte of the first 80 set to three other values, as is
            // and with the checksums made right again.
            for at in 0..frame.len().min(MUTATED_PREFIX) {
                for value in mutations(frame[at]) {
                    let mut mutated = frame.clone();
                    mutated[at] = value;
                    let kind = |fixed| Kind::Mutated { at, value, fixed };
                    feeder.feed(&mutated, kind(false));
                    fix_checksums(&mut mutated);
                    feeder.feed(&mutated, kind(true));
                }
            }
        }
    }
    Run {
        b: feeder.b,
        app: feeder.app,
        now: feeder.now,
        fed: feeder.fed,
        oversize: feeder.oversize,
        transmitted: feeder.transmitted,
        retargeted,
        findings: feeder.findings,
    }
}

/// The properties every run must have: no panic (checked while feeding),
/// drops counted in every layer, deep layers reached, clean output, and a
/// host that still answers pings.
fn check(run: Run, fixtures: usize) {
    let b = &run.b;
    let (e, i, c, app) = (b.eth.stats(), b.ip.stats(), b.icmp.stats(), &run.app);
    eprintln!(
        "fed {} frames ({} oversize refused by the NIC), B transmitted {}",
        run.fed, run.oversize, run.transmitted
    );
    eprintln!("{e:?}\n{i:?}\n{c:?}");
    eprintln!(
        "app: received {}, errors sent {}, held back {}, failed {}",
        app.received, app.errors_sent, app.held_back, app.failed
    );
    assert!(run.retargeted >= fixtures * 9 / 10, "{}", run.retargeted);
    // Bounded: the frames, their prefixes and mutations of both variants.
    assert!(run.fed > 100_000 && run.fed < 200_000, "{}", run.fed);

    // Every frame the NIC took went through the Ethernet layer once.
    assert_eq!(
        e.rx_delivered + e.rx_truncated + e.rx_not_for_us + e.rx_bad_source + e.rx_tagged,
        run.fed
    );
    // The drops were counted, in every layer.
    assert!(drops(b) > run.fed / 2, "drops: {}", drops(b));
    for (what, count) in [
        ("eth rx_truncated", e.rx_truncated),
        ("eth rx_not_for_us", e.rx_not_for_us),
        ("eth rx_bad_source", e.rx_bad_source),
        ("ip rx_truncated", i.rx_truncated),
        ("ip rx_bad_checksum", i.rx_bad_checksum),
        ("ip rx_malformed", i.rx_malformed),
        ("ip rx_not_for_us", i.rx_not_for_us),
        ("ip rx_unknown_ethertype", i.rx_unknown_ethertype),
        ("ip arp_malformed", i.arp_malformed),
        ("ip rx_ext_header_dropped", i.rx_ext_header_dropped),
        ("ip ndisc_malformed", i.ndisc_malformed),
        ("icmp rx_bad_checksum", c.rx_bad_checksum),
        ("icmp rx_malformed", c.rx_malformed),
    ] {
        assert!(count > 0, "{what} never moved");
    }
    // The retargeted frames reached the top of the tree and were answered.
    assert!(c.echo_replies_sent > 0);
    assert!(i.arp_replies_sent > 0);
    assert!(i.ndisc_advertisements_sent > 0);
    assert!(app.errors_sent > 0);
    assert_eq!(app.failed, 0, "reject failed");
    // Every frame B sent parses cleanly, with right checksums, and comes
    // from B.
    let findings = &run.findings;
    findings.print();
    assert!(
        findings.malformed_output.is_empty() && findings.foreign_source_mac.is_empty(),
        "B sent bad frames (the first of each kind is printed above)"
    );

    // After all that, B still answers a normal ping of either family from
    // A over the link: ARP and neighbor discovery first, then echo.
    let mut b = run.b;
    let mut a = Host::new(MAC_A, A4, A6);
    let now = run.now + Duration::from_secs(1);
    a.set_time(now);
    b.set_time(now);
    let mut ping = Ping {
        to_send: vec![IpAddr::V4(B4), IpAddr::V6(B6)],
        replies: Vec::new(),
    };
    let mut idle = Refuse::default();
    for _ in 0..4 {
        a.send(&mut ping);
        MemoryLink::transfer(&mut a.nic, &mut b.nic);
        b.receive(&mut idle);
        MemoryLink::transfer(&mut b.nic, &mut a.nic);
        a.receive(&mut ping);
    }
    assert_eq!(ping.replies, vec![IpAddr::V4(B4), IpAddr::V6(B6)]);
    assert_eq!(a.ip.arp_cache().peek(B4), Some(MAC_B));
    assert_eq!(a.ip.ndisc_cache().peek(B6), Some(MAC_B));
    assert_eq!(idle.received, 0);
}

#[test]
fn hostile_frames_are_dropped_and_the_host_keeps_working() {
    let fixtures = fixture_frames();
    assert!(fixtures.len() >= 100, "{} fixture frames", fixtures.len());
    // The output check catches a cut frame and a wrong checksum.
    let (_, ping) = fixtures
        .iter()
        .find(|(name, _)| name == "ipv4-ping.pcap #1")
        .unwrap();
    assert!(!is_flagged(&PrettyFrame::new(ping).to_string()));
    assert!(is_flagged(&PrettyFrame::new(&ping[..40]).to_string()));
    let mut corrupt = ping.clone();
    corrupt[14 + 20 + 8] ^= 0x10; // echo data
    assert!(is_flagged(&PrettyFrame::new(&corrupt).to_string()));
    check(run(&fixtures, false), fixtures.len());
}

#[test]
fn hostile_frames_with_reassembly_configured() {
    let fixtures = fixture_frames();
    let run = run(&fixtures, true);
    let stats = run.b.ip.reassembler().unwrap().stats();
    eprintln!("{stats:?}");
    // The captured fragments were put back together (and refused).
    assert!(run.b.ip.stats().rx_reassembled > 0);
    check(run, fixtures.len());
}

/// A frame from A to B with an IP header (`protocol` over `payload`),
/// sent to Ethernet address `to`.
fn frame_to_b(to: EthernetAddress, v6: bool, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let header_len = if v6 { 40 } else { 20 };
    let mut frame = vec![0u8; 14 + header_len + payload.len()];
    frame[..6].copy_from_slice(&to.0);
    frame[6..12].copy_from_slice(&MAC_A.0);
    if v6 {
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        Ipv6Repr {
            src: A6,
            dst: B6,
            next_header: protocol,
            payload_len: payload.len() as u16,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut frame[14..54]));
    } else {
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        Ipv4Repr {
            src: A4,
            dst: B4,
            protocol,
            payload_len: payload.len(),
            ttl: 64,
            ..Ipv4Repr::default()
        }
        .emit(
            &mut Ipv4Packet::new_unchecked(&mut frame[14..34]),
            ChecksumMode::Software,
        );
    }
    frame[14 + header_len..].copy_from_slice(payload);
    frame
}

/// RFC 1122 3.2.2 and RFC 4443 2.4(e): no ICMP error about an ICMP error
/// message, nor about a packet that came as a link-layer broadcast or
/// multicast. `ip::In::reject` promises to hold back errors "where the
/// RFCs forbid one" but checks neither; the hostile runs above find both
/// (their findings are printed, not asserted).
#[test]
fn icmp_errors_are_never_sent_where_the_rfcs_forbid_them() {
    let udp = [0x0f, 0xa0, 0x13, 0x88, 0, 8, 0, 0];
    // What the errors quote: a UDP datagram (its addresses do not matter
    // to the rule).
    let quoted4 = &frame_to_b(MAC_B, false, IpProtocol::Udp, &udp)[14..];
    let quoted6 = &frame_to_b(MAC_B, true, IpProtocol::Udp, &udp)[14..];
    let mut error4 = vec![0u8; 8 + quoted4.len()];
    Icmpv4Repr::DstUnreachable {
        reason: Icmpv4DstUnreachable::PortUnreachable,
        next_hop_mtu: 0,
        header: quoted4,
    }
    .emit(
        &mut Icmpv4Packet::new_unchecked(&mut error4[..]),
        ChecksumMode::Software,
    )
    .unwrap();
    let mut error6 = vec![0u8; 8 + quoted6.len()];
    Icmpv6Repr::DstUnreachable {
        reason: Icmpv6DstUnreachable::PortUnreachable,
        header: quoted6,
    }
    .emit(
        &mut Icmpv6Packet::new_unchecked(&mut error6[..]),
        A6,
        B6,
        ChecksumMode::Software,
    );
    let all_nodes = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
    let cases = [
        (
            "IPv4 datagram to B in a link-layer broadcast",
            frame_to_b(EthernetAddress::BROADCAST, false, IpProtocol::Udp, &udp),
        ),
        (
            "IPv6 packet to B in a link-layer multicast",
            frame_to_b(all_nodes, true, IpProtocol::Udp, &udp),
        ),
        (
            "ICMPv4 destination unreachable to B",
            frame_to_b(MAC_B, false, IpProtocol::Icmp, &error4),
        ),
        (
            "ICMPv6 destination unreachable to B",
            frame_to_b(MAC_B, true, IpProtocol::Icmpv6, &error6),
        ),
    ];
    let mut answered = Vec::new();
    for (what, frame) in &cases {
        let mut b = Host::new(MAC_B, B4, B6);
        b.set_time(Instant::from_secs(1));
        let mut app = Refuse::default();
        assert!(b.nic.inject(frame));
        b.receive(&mut app);
        assert_eq!(app.received, 1, "{what}: reaches the app");
        if let Some(line) = b.nic.drain_one(|out| PrettyFrame::new(out).to_string()) {
            eprintln!("{what}\n    in  {}\n    out {line}", hex(frame));
            answered.push(*what);
        }
    }
    assert!(
        answered.is_empty(),
        "answered with an ICMP error: {answered:?}"
    );
}
