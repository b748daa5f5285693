//! Two hosts on the in-memory link, with explicit time, talking TCP
//! through the whole stack (Ethernet, IPv4 or IPv6, TCP endpoint) into an
//! application of ring buffers.

use core::time::Duration;
use std::collections::VecDeque;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::{Config, State};
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};

pub const SLOTS: usize = 64;
pub type Nic = MemoryNic<Vec<u8>, SLOTS>;

pub const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
pub const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

/// Where every host's clock starts.
pub const START: Instant = Instant::from_secs(100);

/// One connection's side of the application: the ready-made ring
/// buffers, the bytes still to write into the send ring, and everything
/// read from the receive ring.
pub struct Conn {
    pub send: RingSendBuffer<'static>,
    pub recv: RingRecvBuffer<'static>,
    pub pending: VecDeque<u8>,
    pub received: Vec<u8>,
}

impl Conn {
    pub fn new(send: usize, window: usize) -> Conn {
        Conn {
            send: RingSendBuffer::new(vec![0; send]),
            recv: RingRecvBuffer::new(vec![0; window]),
            pending: VecDeque::new(),
            received: Vec::new(),
        }
    }

    /// Moves pending bytes into the send ring and received ones out.
    pub fn pump(&mut self) {
        self.pump_send();
        self.pump_recv();
    }

    /// Moves pending bytes into the send ring, as far as it has room.
    pub fn pump_send(&mut self) {
        while !self.pending.is_empty() {
            let (front, _) = self.pending.as_slices();
            let n = self.send.write(front);
            if n == 0 {
                break;
            }
            self.pending.drain(..n);
        }
    }

    /// Reads everything in the receive ring into `received`.
    pub fn pump_recv(&mut self) {
        let mut chunk = [0u8; 4096];
        loop {
            let n = self.recv.read(&mut chunk);
            if n == 0 {
                break;
            }
            self.received.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The application: buffers per table slot, and a log of events.
pub struct App {
    pub conns: Vec<Conn>,
    pub events: Vec<(Handle, Event)>,
    pub send: usize,
    pub window: usize,
}

impl App {
    pub fn new(slots: usize, send: usize, window: usize) -> App {
        App {
            conns: (0..slots).map(|_| Conn::new(send, window)).collect(),
            events: Vec::new(),
            send,
            window,
        }
    }
    pub fn write(&mut self, h: Handle, data: &[u8]) {
        self.conns[h.index as usize].pending.extend(data);
    }
    pub fn received(&self, h: Handle) -> &[u8] {
        &self.conns[h.index as usize].received
    }
    pub fn saw(&self, h: Handle, e: Event) -> bool {
        self.events.contains(&(h, e))
    }
    pub fn pump(&mut self) {
        self.conns.iter_mut().for_each(Conn::pump);
    }
}

impl Io for App {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let c = self.conns.get_mut(conn.index as usize)?;
        Some(Buffers {
            send: &mut c.send,
            recv: &mut c.recv,
        })
    }
    fn event(&mut self, conn: Handle, event: Event) {
        if event == Event::Incoming {
            // A fresh connection in this slot: fresh buffers.
            self.conns[conn.index as usize] = Conn::new(self.send, self.window);
        }
        self.events.push((conn, event));
    }
}

/// How big a host's tables and buffers are.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Connection table slots (and application buffer pairs).
    pub connections: usize,
    /// Each connection's send ring.
    pub send: usize,
    /// Each connection's receive ring.
    pub window: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            connections: 8,
            send: 128 * 1024,
            window: 256 * 1024,
        }
    }
}

/// A host: NIC, Ethernet, IP and TCP endpoints, and the application `A`
/// (by default the ring buffers of [`App`]).
pub struct Host<A = App> {
    pub nic: Nic,
    pub eth: eth::Endpoint,
    pub ip: ip::Endpoint<'static>,
    pub tcp: tcp::Endpoint<'static>,
    pub app: A,
    pub addr: IpAddr,
}

impl Host {
    /// A host with MAC 02:00:00:00:00:`last` and address `addr` (a /24
    /// for IPv4, a /64 and the link-local address for IPv6).
    pub fn new(last: u8, addr: IpAddr, sizes: Sizes, config: Config) -> Host {
        let app = App::new(sizes.connections, sizes.send, sizes.window);
        Host::with_app(last, addr, sizes.connections, config, app)
    }
}

/// The MAC address of host `last`.
pub fn mac(last: u8) -> EthernetAddress {
    EthernetAddress([2, 0, 0, 0, 0, last])
}

impl<A: Io> Host<A> {
    /// Like [`Host::new`], with `connections` table slots and the
    /// application `app`.
    pub fn with_app(last: u8, addr: IpAddr, connections: usize, config: Config, app: A) -> Host<A> {
        let mac = mac(last);
        let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
        nic.set_time(START);
        let tcp = tcp::Endpoint::new(
            vec![Slot::empty(); connections],
            vec![Listener::EMPTY; 2],
            Secrets::from_seed(u64::from(last)),
            config,
        );
        Host {
            nic,
            eth: eth::Endpoint::new(mac),
            ip: ip_endpoint(
                mac,
                addr,
                NeighborCache::new(arp_storage(), NeighborConfig::default()),
            ),
            tcp,
            app,
            addr,
        }
    }

    /// Pins `peer` at `peer_mac` in the ARP cache for good. ARP has no
    /// checksum: a real link's FCS drops the corrupted frames a fault
    /// injector delivers, so a corrupted reply would teach a wrong MAC no
    /// real link would.
    pub fn pin_arp(&mut self, peer: Ipv4Addr, peer_mac: EthernetAddress) {
        let forever = NeighborConfig {
            lifetime: Duration::from_secs(1 << 30),
            ..NeighborConfig::default()
        };
        let mut arp = NeighborCache::new(arp_storage(), forever);
        assert!(arp.fill(peer, peer_mac, START));
        self.ip = ip_endpoint(self.eth.addr(), self.addr, arp);
    }

    pub fn send(&mut self) -> usize {
        self.nic
            .tx(
                SLOTS,
                self.eth.send(self.ip.send(self.tcp.send(&mut self.app))),
            )
            .unwrap()
    }

    pub fn receive(&mut self) -> usize {
        self.nic
            .rx(
                SLOTS,
                self.eth.recv(self.ip.recv(self.tcp.recv(&mut self.app))),
            )
            .unwrap()
    }

    /// Sends with another IP-layer sender than the TCP endpoint.
    pub fn send_with<S: ip::Send<Nic>>(&mut self, sender: S) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(sender)))
            .unwrap()
    }

    /// Receives into another IP-layer receiver than the TCP endpoint.
    pub fn receive_with<R: ip::Recv<Nic>>(&mut self, receiver: R) -> usize {
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(receiver)))
            .unwrap()
    }

    pub fn deadline(&self) -> Option<Instant> {
        [self.tcp.next_deadline(), self.ip.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The earliest of the host's deadlines after `now`: every
    /// connection's, not only the earliest (which may be due already and
    /// waiting for something else than time).
    pub fn deadline_after(&self, now: Instant) -> Option<Instant> {
        self.tcp
            .connections()
            .filter_map(|(_, _, c)| c.next_deadline())
            .chain(self.ip.next_deadline())
            .filter(|&at| at > now)
            .min()
    }
}

/// Four ARP or neighbor cache entries.
fn arp_storage<A: Copy>() -> Vec<Neighbor<A>> {
    vec![Neighbor::EMPTY; 4]
}

/// The IP endpoint of a host with MAC `mac` at `addr` (a /24 for IPv4, a
/// /64 and the link-local address for IPv6) with the ARP cache `arp`.
pub fn ip_endpoint(
    mac: EthernetAddress,
    addr: IpAddr,
    arp: NeighborCache<'static, Ipv4Addr>,
) -> ip::Endpoint<'static> {
    let mut ip = ip::Endpoint::new(
        vec![None; 4],
        Routes::new(vec![None; 2]),
        arp,
        NeighborCache::new(arp_storage(), NeighborConfig::default()),
    );
    match addr {
        IpAddr::V4(_) => assert!(ip.add_addr(IpCidr::new(addr, 24).unwrap())),
        IpAddr::V6(_) => {
            assert!(ip.add_addr(IpCidr::new(addr, 64).unwrap()));
            let link_local = ethox::wire::ipv6::link_local_from_mac(mac);
            assert!(ip.add_addr(IpCidr::new(IpAddr::V6(link_local), 64).unwrap()));
        }
    }
    ip
}

pub struct Net {
    pub a: Host,
    pub b: Host,
    pub now: Instant,
}

impl Net {
    /// Hosts A and B on IPv4 with 8 connections each.
    pub fn new(config: Config) -> Net {
        Net::with(
            Host::new(1, IpAddr::V4(A), Sizes::default(), config),
            Host::new(2, IpAddr::V4(B), Sizes::default(), config),
        )
    }

    pub fn with(a: Host, b: Host) -> Net {
        Net { a, b, now: START }
    }

    pub fn set_time(&mut self, now: Instant) {
        self.now = now;
        self.a.nic.set_time(now);
        self.b.nic.set_time(now);
    }

    /// Runs both hosts until nothing moves and no timer is due within
    /// `horizon`; fails if that takes more than `steps` rounds.
    pub fn run(&mut self, steps: usize, horizon: Duration) {
        for _ in 0..steps {
            if self.step() == 0 {
                // Nothing moved: only time can change that. (A timer due
                // already may be waiting for something else, such as a
                // neighbor that does not answer.)
                let now = self.now;
                let next = [self.a.deadline_after(now), self.b.deadline_after(now)]
                    .into_iter()
                    .flatten()
                    .min();
                match next {
                    Some(at) if at <= now + horizon => self.set_time(at),
                    _ => return,
                }
            }
        }
        panic!("not idle after {steps} rounds");
    }

    /// One round at the current time: both applications pump, A sends,
    /// B receives and sends, A receives. Returns the frames that moved.
    pub fn step(&mut self) -> usize {
        self.a.app.pump();
        self.b.app.pump();
        let mut moved = self.a.send();
        MemoryLink::transfer(&mut self.a.nic, &mut self.b.nic);
        moved += self.b.receive();
        moved += self.b.send();
        MemoryLink::transfer(&mut self.b.nic, &mut self.a.nic);
        moved + self.a.receive()
    }

    /// A opens a connection to B's `port` from an ephemeral port, now.
    pub fn dial(&mut self, port: u16) -> Result<Handle, tcp::TcpError> {
        let now = self.now;
        self.a
            .tcp
            .connect((self.a.addr, 0), (self.b.addr, port), now)
    }

    /// A connects to B's port 80 (listened on with `backlog`) and the
    /// handshake completes; returns A's and B's handles.
    pub fn connect(&mut self, backlog: usize) -> (Handle, Handle) {
        self.b.tcp.listen(80, backlog).unwrap();
        let client = self.dial(80).unwrap();
        self.run(100, Duration::from_secs(5));
        assert_eq!(self.a.tcp.state(client), State::Established);
        let server = self
            .b
            .tcp
            .accept(80)
            .expect("an established connection to accept");
        assert_eq!(self.b.tcp.state(server), State::Established);
        assert!(self.a.app.saw(client, Event::Established));
        assert!(self.b.app.saw(server, Event::Incoming));
        (client, server)
    }
}

pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}
