//! A host for UDP services on the in-memory link: a NIC, Ethernet, IPv4
//! (with or without an address) and a UDP endpoint, with handlers passed
//! per call. Used by the DHCP and DNS tests.

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::{eth, ip, udp};
use ethox::nic::Device;
use ethox::nic::memory::MemoryNic;
use ethox::time::Instant;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

/// Buffers per NIC, and frames per `rx`/`tx` call.
pub const SLOTS: usize = 8;

/// The hosts' NIC.
pub type Nic = MemoryNic<Vec<u8>, SLOTS>;

/// A host with MAC 02:00:00:00:00:`last`.
pub struct Host {
    pub nic: Nic,
    pub eth: eth::Endpoint,
    pub ip: ip::Endpoint<'static>,
    pub udp: udp::Endpoint<'static>,
}

impl Host {
    /// A host with `addr`/24, or none; two address and route slots, four
    /// ARP entries, eight UDP ports; time 1 s.
    pub fn new(last: u8, addr: Option<Ipv4Addr>) -> Host {
        let mut ip = ip::Endpoint::new(
            vec![None; 2],
            Routes::new(vec![None; 2]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![], NeighborConfig::default()),
        );
        if let Some(addr) = addr {
            assert!(ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).unwrap()));
        }
        let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
        nic.set_time(Instant::from_secs(1));
        Host {
            nic,
            eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, last])),
            ip,
            udp: udp::Endpoint::new(vec![None; 8], 0x1111),
        }
    }

    /// Receives what the NIC holds, UDP going to `app`.
    pub fn receive<A: udp::Recv<Nic>>(&mut self, app: A) {
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(self.udp.recv(app))))
            .unwrap();
    }

    /// Lends `app` buffers to send in.
    pub fn send<A: udp::Send<Nic>>(&mut self, app: A) {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(self.udp.send(app))))
            .unwrap();
    }
}
