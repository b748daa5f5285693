//! Multicast groups through the IP layer: joins announce themselves
//! (IGMPv2, MLDv2), queries captured from Linux are answered, another
//! host's report suppresses ours, leaves go out, and datagrams to a joined
//! group are delivered while others are not.

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::{eth, ip};
use ethox::nic::Device;
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::pcap::PcapReader;
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;
/// The host has the address of host "a" of the captures (10.0.0.1),
/// which joined 239.1.2.3 and ff02::1234 there.
const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const GROUP4: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);
const GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1234);

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
}

fn host() -> Host {
    let mut ip = ip::Endpoint::new(
        vec![None; 4],
        Routes::new(vec![None; 4]),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 24).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(ethox::wire::ipv6::link_local_from_mac(MAC)), 64).unwrap());
    ip.set_group_storage(vec![ip::GroupSlot::EMPTY; 4]);
    let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
    nic.set_time(Instant::from_secs(1));
    Host {
        nic,
        eth: eth::Endpoint::new(MAC),
        ip,
    }
}

#[derive(Default)]
struct App {
    delivered: Vec<IpAddr>,
}

impl<D: Device> ip::Recv<D> for App {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        self.delivered.push(packet.repr().dst());
    }
}

struct Nothing;

impl<D: Device> ip::Send<D> for Nothing {
    fn send(&mut self, _: ip::Raw<'_, '_, D>) {}
}

impl Host {
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

    fn feed(&mut self, frame: &[u8], app: &mut App) {
        self.nic.inject(frame);
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(&mut *app)))
            .unwrap();
    }
}

fn frames(fixture: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    PcapReader::new(&bytes)
        .unwrap()
        .map(|r| r.unwrap().data.to_vec())
        .collect()
}

#[test]
fn joins_are_reported_and_leaves_announced() {
    let mut h = host();
    h.ip.join(IpAddr::V4(GROUP4)).unwrap();
    h.ip.join(IpAddr::V6(GROUP6)).unwrap();
    assert_eq!(
        h.sent(),
        vec![
            "IPv4 10.0.0.1 > 239.1.2.3: IGMPv2 report 239.1.2.3",
            "IPv6 fe80::ff:fe00:1 > ff02::16: HBH rtalert 0, padn 0, MLDv2 report 1 record(s)",
        ]
    );
    assert!(h.sent().is_empty(), "each report is sent once");
    assert!(h.ip.leave(IpAddr::V4(GROUP4)));
    assert_eq!(
        h.sent(),
        vec!["IPv4 10.0.0.1 > 224.0.0.2: IGMPv2 leave 239.1.2.3"]
    );
    assert!(!h.ip.leave(IpAddr::V4(GROUP4)));
    assert_eq!(h.ip.stats().group_reports_sent, 3);
}

#[test]
fn join_errors() {
    let mut h = host();
    assert_eq!(
        h.ip.join(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9))),
        Err(ip::Error::BadDestination)
    );
    for i in 0..4 {
        h.ip.join(IpAddr::V4(Ipv4Addr::new(239, 0, 0, i))).unwrap();
    }
    assert_eq!(h.ip.join(IpAddr::V4(GROUP4)), Err(ip::Error::TableFull));
    // Joining again is not an error.
    h.ip.join(IpAddr::V4(Ipv4Addr::new(239, 0, 0, 1))).unwrap();
}

#[test]
fn queries_captured_from_linux_are_answered() {
    let mut h = host();
    let mut app = App::default();
    h.ip.join(IpAddr::V4(GROUP4)).unwrap();
    h.ip.join(IpAddr::V6(GROUP6)).unwrap();
    h.sent();
    // igmp-v2.pcap #2: a group-specific query for 239.1.2.3; #4: an
    // IGMPv3 general query. mld-v1.pcap #3: an MLD query for ff02::1234.
    let igmp = frames("igmp-v2.pcap");
    h.feed(&igmp[1], &mut app);
    assert_eq!(
        h.sent(),
        vec!["IPv4 10.0.0.1 > 239.1.2.3: IGMPv2 report 239.1.2.3"]
    );
    h.feed(&igmp[3], &mut app);
    assert_eq!(
        h.sent(),
        vec!["IPv4 10.0.0.1 > 239.1.2.3: IGMPv2 report 239.1.2.3"]
    );
    let mld = frames("mld-v1.pcap");
    h.feed(&mld[2], &mut app);
    assert_eq!(
        h.sent(),
        vec!["IPv6 fe80::ff:fe00:1 > ff02::16: HBH rtalert 0, padn 0, MLDv2 report 1 record(s)"]
    );
    assert_eq!(h.ip.stats().group_queries, 3);
    assert!(
        app.delivered.is_empty(),
        "queries are consumed by the IP layer"
    );
}

#[test]
fn another_hosts_report_suppresses_ours() {
    let mut h = host();
    let mut app = App::default();
    h.ip.join(IpAddr::V4(GROUP4)).unwrap();
    h.sent();
    let igmp = frames("igmp-v2.pcap");
    h.feed(&igmp[1], &mut app); // query: our report is owed
    // igmp-v2.pcap #3 is a report for 239.1.2.3 (from 10.0.0.1 in the
    // capture; rewrite the source to another host, 10.0.0.7).
    let mut report = igmp[2].clone();
    report[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 7]);
    report[14 + 15] = 7;
    report[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
    let ihl = usize::from(report[14] & 0x0f) * 4;
    let sum = ethox::wire::checksum::sum(&report[14..14 + ihl]);
    report[14 + 10..14 + 12].copy_from_slice(&ethox::wire::checksum::finish(sum).to_be_bytes());
    h.feed(&report, &mut app);
    assert!(h.sent().is_empty(), "our report was suppressed");
}

#[test]
fn datagrams_to_joined_groups_are_delivered_others_not() {
    let mut h = host();
    let mut app = App::default();
    // A UDP datagram captured to 10.0.0.2, readdressed to a group.
    let mut frame = frames("ipv4-udp.pcap")[0].clone();
    let to_group = |frame: &mut Vec<u8>, group: Ipv4Addr| {
        frame[..6].copy_from_slice(&EthernetAddress::from_ipv4_multicast(group).0);
        frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        frame[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 9]);
        frame[14 + 16..14 + 20].copy_from_slice(&group.octets());
        frame[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
        let sum = ethox::wire::checksum::sum(&frame[14..34]);
        frame[14 + 10..14 + 12].copy_from_slice(&ethox::wire::checksum::finish(sum).to_be_bytes());
    };
    to_group(&mut frame, GROUP4);
    h.feed(&frame, &mut app);
    assert!(app.delivered.is_empty());
    assert_eq!(
        h.eth.stats().rx_not_for_us,
        1,
        "the Ethernet filter drops unjoined groups"
    );
    h.ip.join(IpAddr::V4(GROUP4)).unwrap();
    h.feed(&frame, &mut app);
    assert_eq!(app.delivered, vec![IpAddr::V4(GROUP4)]);
}
