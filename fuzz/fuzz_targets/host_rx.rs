#![no_main]
//! Fuzz target: the whole receive path. Each input is a sequence of
//! frames (two length bytes, then the frame) fed to one fully configured
//! host: Ethernet, IPv4 with ARP, IPv6 with neighbor discovery and SLAAC,
//! multicast groups, reassembly, ICMP echo, UDP with bound ports and an
//! application that answers in place or refuses. Nothing may panic, and
//! every frame the host sends in answer must parse cleanly: hostile input
//! must never make the stack emit a malformed frame.
use std::sync::Mutex;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::route::Routes;
use ethox::layer::{eth, icmp, ip, udp};
use ethox::managed::Slice;
use ethox::nic::Device;
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};
use libfuzzer_sys::fuzz_target;

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    udp: udp::Endpoint<'static>,
}

/// Owned storage, freed with the host after each input.
fn owned<T>(v: Vec<T>) -> Slice<'static, T> {
    Slice::from(v)
}

fn host() -> Host {
    let mac = EthernetAddress([2, 0, 0, 0, 0, 2]);
    let mut ip = ip::Endpoint::new(
        owned(vec![None; 6]),
        Routes::new(owned(vec![None; 4])),
        NeighborCache::new(owned(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
        NeighborCache::new(owned(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 64).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(ethox::wire::ipv6::link_local_from_mac(mac)), 64).unwrap());
    ip.set_config(ip::IpConfig {
        slaac: true,
        ..ip::IpConfig::default()
    });
    ip.set_group_storage(owned(vec![ip::GroupSlot::EMPTY; 2]));
    ip.join(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3))).unwrap();
    ip.set_reassembler(Reassembler::new(
        owned(vec![0u8; 2 * 65536]),
        owned(vec![ReassemblySlot::EMPTY; 2]),
        65536,
        ReassemblyConfig::default(),
    ));
    let mut udp = udp::Endpoint::new(owned(vec![None; 2]), 7);
    udp.bind(7).unwrap();
    udp.bind(9).unwrap();
    Host {
        nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
        eth: eth::Endpoint::new(mac),
        ip,
        icmp: icmp::Endpoint::new(),
        udp,
    }
}

/// Port 7 echoes in place, anything else is refused.
struct App;

impl<D: Device> udp::Recv<D> for App {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 == 7 {
            let len = datagram.payload().len();
            if let Ok(out) = datagram.reply(len) {
                let _ = out.send();
            }
        }
    }
}

impl<D: Device> ip::Recv<D> for App {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let _ = packet.reject(ip::Reject::ProtocolUnreachable);
    }
}

struct Nothing;

impl<D: Device> ip::Send<D> for Nothing {
    fn send(&mut self, _: ip::Raw<'_, '_, D>) {}
}

static HOST: Mutex<Option<Host>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = HOST.lock().unwrap();
    // A fresh host per input keeps runs reproducible.
    *guard = Some(host());
    let h = guard.as_mut().unwrap();
    let mut rest = data;
    let mut now = Instant::from_secs(1);
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_le_bytes(*len)) % 1515;
        let frame = &tail[..len.min(tail.len())];
        rest = &tail[frame.len()..];
        h.nic.set_time(now);
        now += core::time::Duration::from_millis(700);
        h.nic.inject(frame);
        let mut app = App;
        let mut other = App;
        h.nic
            .rx(
                SLOTS,
                h.eth
                    .recv(h.ip.recv(h.icmp.recv(h.udp.recv_or(&mut app, &mut other)))),
            )
            .unwrap();
        h.nic.tx(SLOTS, h.eth.send(h.ip.send(Nothing))).unwrap();
        while let Some(line) = h.nic.drain_one(|f| PrettyFrame::new(f).to_string()) {
            for marker in [
                "[truncated",
                "[bad length",
                "[bad version",
                "[malformed",
                "[unsupported",
                "[unknown IPv6",
                "[too many",
                "[bad checksum",
            ] {
                assert!(!line.contains(marker), "the host sent a bad frame: {line}");
            }
        }
    }
});
