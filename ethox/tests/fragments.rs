//! Reassembly through the whole receive path, fed with fragments Linux
//! sent (the captured fixtures): a fragmented ping is reassembled and
//! answered; a datagram missing a fragment times out and its sender gets
//! ICMP time exceeded; overlapping fragments are dropped; without a
//! reassembler fragments are counted and dropped.

use core::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::route::Routes;
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::pcap::PcapReader;
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};

const SLOTS: usize = 8;
/// Jumbo buffers, so that the reassembled 3 KB ping can be answered in
/// one frame (this stack does not fragment what it sends).
const FRAME: usize = 9014;
type Nic = MemoryNic<Vec<u8>, SLOTS>;
const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
}

fn host_b(reassembly: bool) -> Host {
    let mut ip = ip::Endpoint::new(
        vec![None; 4],
        Routes::new(vec![None; 4]),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 64).unwrap());
    if reassembly {
        let config = ReassemblyConfig {
            timeout: Duration::from_secs(30),
            ..ReassemblyConfig::default()
        };
        ip.set_reassembler(Reassembler::new(
            vec![0u8; 4 * 65536],
            vec![ReassemblySlot::EMPTY; 4],
            65536,
            config,
        ));
    }
    Host {
        nic: Nic::new(vec![0; SLOTS * FRAME], FRAME).unwrap(),
        eth: eth::Endpoint::new(MAC_B),
        ip,
        icmp: icmp::Endpoint::new(),
    }
}

/// Counts what reaches the application.
#[derive(Default)]
struct App(usize);

impl<D: Device> ip::Recv<D> for App {
    fn receive(&mut self, _: ip::In<'_, '_, D>) {
        self.0 += 1;
    }
}

struct Nothing;

impl<D: Device> ip::Send<D> for Nothing {
    fn send(&mut self, _: ip::Raw<'_, '_, D>) {}
}

fn frames(fixture: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    PcapReader::new(&bytes)
        .unwrap()
        .map(|r| r.unwrap().data.to_vec())
        .collect()
}

impl Host {
    fn feed(&mut self, frame: &[u8], app: &mut App) {
        assert!(self.nic.inject(frame));
        self.nic
            .rx(
                SLOTS,
                self.eth.recv(self.ip.recv(self.icmp.recv(&mut *app))),
            )
            .unwrap();
    }

    fn sent(&mut self) -> Vec<String> {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(Nothing)))
            .unwrap();
        let mut lines = Vec::new();
        while let Some(line) = self.nic.drain_one(|f| PrettyFrame::new(f).to_string()) {
            lines.push(line);
        }
        lines
    }
}

/// The three fragments of `ping -s 3000` that 10.0.0.1 sent at MTU 1400.
fn ipv4_fragments() -> Vec<Vec<u8>> {
    frames("ipv4-frag.pcap").into_iter().take(3).collect()
}

/// Learn 10.0.0.1's MAC from its ARP request, as B would in real life.
fn learn_a(b: &mut Host, app: &mut App) {
    let arp = frames("arp-request-reply.pcap");
    b.feed(&arp[0], app);
    b.nic.drain_one(|_| ()); // B's ARP reply
}

#[test]
fn fragmented_ipv4_ping_is_reassembled_and_answered() {
    let mut b = host_b(true);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    for fragment in ipv4_fragments() {
        b.feed(&fragment, &mut app);
    }
    let stats = b.ip.stats();
    assert_eq!(
        (
            stats.rx_fragments,
            stats.rx_reassembled,
            stats.rx_fragments_dropped
        ),
        (3, 1, 0)
    );
    // The ICMP layer verified the checksum over the whole 3008 bytes and
    // answered: the reassembly is byte-exact.
    assert_eq!(b.icmp.stats().rx_bad_checksum, 0);
    assert_eq!(b.icmp.stats().echo_replies_sent, 1);
    assert_eq!(app.0, 0);
    let reply = b
        .nic
        .drain_one(|f| PrettyFrame::new(f).to_string())
        .unwrap();
    assert_eq!(
        reply,
        "IPv4 10.0.0.2 > 10.0.0.1: ICMP echo reply id 10046 seq 1 len 3000"
    );
}

#[test]
fn fragments_in_any_order_reassemble() {
    let mut b = host_b(true);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    let fragments = ipv4_fragments();
    for i in [2, 0, 1] {
        b.feed(&fragments[i], &mut app);
    }
    assert_eq!(b.icmp.stats().echo_replies_sent, 1);
}

#[test]
fn a_missing_fragment_times_out_with_icmp_time_exceeded() {
    let mut b = host_b(true);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    learn_a(&mut b, &mut app);
    let fragments = ipv4_fragments();
    b.feed(&fragments[0], &mut app);
    b.feed(&fragments[2], &mut app);
    assert_eq!(b.ip.next_deadline(), Some(Instant::from_secs(31)));
    assert!(b.sent().is_empty());
    // After the timeout the next received frame (anything) expires it and
    // the error goes out on the next buffer the NIC lends.
    b.nic.set_time(Instant::from_secs(31));
    b.feed(&frames("arp-gratuitous.pcap")[0], &mut app);
    assert_eq!(
        b.sent(),
        vec!["IPv4 10.0.0.2 > 10.0.0.1: ICMP time-exceeded reassembly"]
    );
    assert_eq!(b.ip.stats().reassembly_timeouts_reported, 1);
    assert_eq!(b.icmp.stats().echo_replies_sent, 0);
}

#[test]
fn overlapping_fragments_drop_the_datagram() {
    let mut b = host_b(true);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    let fragments = ipv4_fragments();
    // Move the second fragment 8 bytes back so it overlaps the first
    // (fragment offset is in 8-byte units at bytes 20-21 of the frame;
    // the IPv4 header checksum is recomputed).
    let mut overlapping = fragments[1].clone();
    let word = u16::from_be_bytes([overlapping[20], overlapping[21]]);
    overlapping[20..22].copy_from_slice(&(word - 1).to_be_bytes());
    overlapping[24..26].copy_from_slice(&[0, 0]);
    let sum = ethox::wire::checksum::sum(&overlapping[14..34]);
    overlapping[24..26].copy_from_slice(&ethox::wire::checksum::finish(sum).to_be_bytes());
    b.feed(&fragments[0], &mut app);
    b.feed(&overlapping, &mut app);
    b.feed(&fragments[2], &mut app);
    assert_eq!(b.icmp.stats().echo_replies_sent, 0);
    assert!(b.ip.stats().rx_fragments_dropped >= 1);
    assert_eq!(b.ip.reassembler().unwrap().stats().overlaps, 1);
}

#[test]
fn without_a_reassembler_fragments_are_counted_and_dropped() {
    let mut b = host_b(false);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    for fragment in ipv4_fragments() {
        b.feed(&fragment, &mut app);
    }
    let stats = b.ip.stats();
    assert_eq!(
        (
            stats.rx_fragments,
            stats.rx_fragments_dropped,
            stats.rx_reassembled
        ),
        (3, 3, 0)
    );
    assert_eq!(b.nic.tx_pending(), 0);
}

#[test]
fn fragmented_ipv6_ping_is_reassembled_and_answered() {
    let mut b = host_b(true);
    let mut app = App::default();
    b.nic.set_time(Instant::from_secs(1));
    for fragment in frames("ipv6-frag.pcap") {
        let mut fragment = fragment;
        fragment[..6].copy_from_slice(&MAC_B.0);
        b.feed(&fragment, &mut app);
    }
    assert_eq!(b.ip.stats().rx_reassembled, 1);
    assert_eq!(b.icmp.stats().echo_replies_sent, 1);
    let reply = b
        .nic
        .drain_one(|f| PrettyFrame::new(f).to_string())
        .unwrap();
    assert_eq!(
        reply,
        "IPv6 fd00::2 > fd00::1: ICMPv6 echo reply id 10685 seq 1 len 1300"
    );
}

/// Sends one large datagram of unassigned protocol 200 (253 would be read
/// as an experimental extension header by IPv6, RFC 7045) in fragments, a fragment per
/// lent buffer.
struct Big {
    dst: IpAddr,
    data: Vec<u8>,
    cursor: ip::FragmentCursor,
    fragments: usize,
}

impl<D: Device> ip::Send<D> for Big {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.cursor.is_done() {
            return;
        }
        let init = ip::Init {
            src: None,
            dst: self.dst,
            protocol: ethox::wire::IpProtocol::Unknown(200),
            payload_len: self.data.len(),
        };
        if let Ok((mut out, range)) = raw.prepare_fragment(init, &mut self.cursor) {
            out.payload_mut().copy_from_slice(&self.data[range]);
            out.send().unwrap();
            self.fragments += 1;
        }
    }
}

/// Keeps what reaches it.
#[derive(Default)]
struct Keep(Vec<Vec<u8>>);

impl<D: Device> ip::Recv<D> for Keep {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        self.0.push(packet.payload().to_vec());
    }
}

fn sender() -> Host {
    let mut ip = ip::Endpoint::new(
        vec![None; 4],
        Routes::new(vec![None; 4]),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 24).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 64).unwrap());
    Host {
        // An MTU of 1500: the datagrams below need fragments.
        nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
        eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, 1])),
        ip,
        icmp: icmp::Endpoint::new(),
    }
}

fn send_in_fragments(dst: IpAddr, len: usize) -> (usize, Vec<Vec<u8>>, Vec<String>) {
    let (mut a, mut b) = (sender(), host_b(true));
    a.nic.set_time(Instant::from_secs(1));
    b.nic.set_time(Instant::from_secs(1));
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 256) as u8).collect();
    let mut big = Big {
        dst,
        data: data.clone(),
        cursor: ip::FragmentCursor::new(),
        fragments: 0,
    };
    let mut keep = Keep::default();
    let mut wire = Vec::new();
    for _ in 0..4 {
        a.nic.tx(SLOTS, a.eth.send(a.ip.send(&mut big))).unwrap();
        while let Some(frame) = a.nic.drain_one(|f| f.to_vec()) {
            wire.push(PrettyFrame::new(&frame).to_string());
            b.nic.inject(&frame);
        }
        b.nic.rx(SLOTS, b.eth.recv(b.ip.recv(&mut keep))).unwrap();
        b.nic.tx(SLOTS, b.eth.send(b.ip.send(Nothing))).unwrap();
        while let Some(frame) = b.nic.drain_one(|f| f.to_vec()) {
            a.nic.inject(&frame);
        }
        a.nic
            .rx(SLOTS, a.eth.recv(a.ip.recv(&mut Keep::default())))
            .unwrap();
    }
    assert!(big.cursor.is_done(), "{wire:#?}");
    assert_eq!(
        keep.0.len(),
        1,
        "one datagram reassembled: {wire:#?} {:?} {:?}",
        b.ip.stats(),
        b.ip.reassembler().map(|r| r.stats())
    );
    assert_eq!(keep.0[0], data, "byte-identical");
    (big.fragments, keep.0, wire)
}

#[test]
fn large_ipv4_datagrams_go_out_in_fragments_and_reassemble() {
    let (fragments, _, wire) = send_in_fragments(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 4000);
    assert_eq!(fragments, 3);
    // The first lend resolved B; then 1480 + 1480 + 1040 bytes.
    assert_eq!(wire[0], "ARP request who-has 10.0.0.2 tell 10.0.0.1");
    assert!(
        wire[1].contains("frag id") && wire[1].contains("off 0+"),
        "{}",
        wire[1]
    );
    assert!(wire[2].contains("off 1480+"), "{}", wire[2]);
    assert!(wire[3].contains("off 2960:"), "{}", wire[3]);
}

#[test]
fn large_ipv6_datagrams_go_out_in_fragments_and_reassemble() {
    let (fragments, _, wire) =
        send_in_fragments(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 3000);
    assert_eq!(fragments, 3);
    assert!(
        wire[1].contains("FRAG id") && wire[1].contains("off 0+"),
        "{}",
        wire[1]
    );
    assert!(wire[3].contains("off 2896,"), "{}", wire[3]);
}

#[test]
fn small_datagrams_are_not_fragmented() {
    let (fragments, _, wire) = send_in_fragments(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 1480);
    assert_eq!(fragments, 1);
    assert!(!wire[1].contains("frag"), "{}", wire[1]);
}
