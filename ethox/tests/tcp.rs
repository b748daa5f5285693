//! Two hosts on the in-memory link, with explicit time, talking TCP
//! through the whole stack: handshakes through listeners, transfers,
//! closes, resets for closed ports, SYN cookies when the backlog is full.

use core::time::Duration;
use std::collections::VecDeque;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

const SLOTS: usize = 64;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// One connection's side of the application: the ready-made ring
/// buffers, the bytes still to write into the send ring, and everything
/// read from the receive ring.
struct Conn {
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static>,
    pending: VecDeque<u8>,
    received: Vec<u8>,
}

impl Conn {
    fn new(window: usize) -> Conn {
        Conn {
            send: RingSendBuffer::new(vec![0; 128 * 1024]),
            recv: RingRecvBuffer::new(vec![0; window]),
            pending: VecDeque::new(),
            received: Vec::new(),
        }
    }

    /// Moves pending bytes into the send ring and received ones out.
    fn pump(&mut self) {
        while !self.pending.is_empty() {
            let (front, _) = self.pending.as_slices();
            let n = self.send.write(front);
            if n == 0 {
                break;
            }
            self.pending.drain(..n);
        }
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
struct App {
    conns: Vec<Conn>,
    events: Vec<(Handle, Event)>,
    window: usize,
}

impl App {
    fn new(slots: usize, window: usize) -> App {
        App {
            conns: (0..slots).map(|_| Conn::new(window)).collect(),
            events: Vec::new(),
            window,
        }
    }
    fn write(&mut self, h: Handle, data: &[u8]) {
        self.conns[h.index as usize].pending.extend(data);
    }
    fn received(&self, h: Handle) -> &[u8] {
        &self.conns[h.index as usize].received
    }
    fn saw(&self, h: Handle, e: Event) -> bool {
        self.events.contains(&(h, e))
    }
    fn pump(&mut self) {
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
            self.conns[conn.index as usize] = Conn::new(self.window);
        }
        self.events.push((conn, event));
    }
}

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    tcp: tcp::Endpoint<'static>,
    app: App,
}

impl Host {
    fn new(last: u8, addr: Ipv4Addr, connections: usize, config: Config) -> Host {
        let mut ip = ip::Endpoint::new(
            vec![None; 2],
            Routes::new(vec![None; 2]),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).unwrap()));
        let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
        nic.set_time(Instant::from_secs(100));
        let tcp = tcp::Endpoint::new(
            vec![Slot::empty(); connections],
            vec![Listener::EMPTY; 2],
            Secrets::from_seed(u64::from(last)),
            config,
        );
        Host {
            nic,
            eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, last])),
            ip,
            tcp,
            app: App::new(connections, 256 * 1024),
        }
    }

    fn send(&mut self) -> usize {
        self.nic
            .tx(
                SLOTS,
                self.eth.send(self.ip.send(self.tcp.send(&mut self.app))),
            )
            .unwrap()
    }

    fn receive(&mut self) -> usize {
        self.nic
            .rx(
                SLOTS,
                self.eth.recv(self.ip.recv(self.tcp.recv(&mut self.app))),
            )
            .unwrap()
    }

    fn deadline(&self) -> Option<Instant> {
        [self.tcp.next_deadline(), self.ip.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }
}

struct Net {
    a: Host,
    b: Host,
    now: Instant,
}

impl Net {
    fn new(config: Config) -> Net {
        Net {
            a: Host::new(1, A, 8, config),
            b: Host::new(2, B, 8, config),
            now: Instant::from_secs(100),
        }
    }

    fn set_time(&mut self, now: Instant) {
        self.now = now;
        self.a.nic.set_time(now);
        self.b.nic.set_time(now);
    }

    /// Runs both hosts until nothing moves and no timer is due within
    /// `horizon`; fails if that takes more than `steps` rounds.
    fn run(&mut self, steps: usize, horizon: Duration) {
        for _ in 0..steps {
            self.a.app.pump();
            self.b.app.pump();
            let mut moved = 0;
            moved += self.a.send();
            MemoryLink::transfer(&mut self.a.nic, &mut self.b.nic);
            moved += self.b.receive();
            moved += self.b.send();
            MemoryLink::transfer(&mut self.b.nic, &mut self.a.nic);
            moved += self.a.receive();
            if moved == 0 {
                let next = [self.a.deadline(), self.b.deadline()]
                    .into_iter()
                    .flatten()
                    .min();
                match next {
                    Some(at) if at <= self.now => {}
                    Some(at) if at <= self.now + horizon => self.set_time(at),
                    _ => return,
                }
            }
        }
        panic!("not idle after {steps} rounds");
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// A connects to B's port 80 and the handshake completes.
fn connected(config: Config) -> (Net, Handle, Handle) {
    let mut net = Net::new(config);
    net.b.tcp.listen(80, 4).unwrap();
    let now = net.now;
    let client = net
        .a
        .tcp
        .connect((IpAddr::V4(A), 0), (IpAddr::V4(B), 80), now)
        .unwrap();
    net.run(100, Duration::from_secs(5));
    assert_eq!(net.a.tcp.state(client), State::Established);
    let server = net
        .b
        .tcp
        .accept(80)
        .expect("an established connection to accept");
    assert_eq!(net.b.tcp.state(server), State::Established);
    assert!(net.a.app.saw(client, Event::Established));
    assert!(net.b.app.saw(server, Event::Incoming));
    (net, client, server)
}

#[test]
fn connect_accept_transfer_close() {
    let (mut net, client, server) = connected(Config::default());
    let up = pattern(1_000_000, 1);
    let down = pattern(300_000, 2);
    net.a.app.write(client, &up);
    net.b.app.write(server, &down);
    net.a.tcp.close(client).unwrap();
    net.run(10_000, Duration::from_secs(1));
    assert_eq!(net.b.app.received(server).len(), up.len());
    assert!(net.b.app.received(server) == up.as_slice());
    assert!(net.a.app.received(client) == down.as_slice());
    assert_eq!(net.b.tcp.state(server), State::CloseWait);
    assert!(net.b.app.saw(server, Event::PeerClosed));
    net.b.tcp.close(server).unwrap();
    net.run(10_000, Duration::from_secs(120));
    assert!(net.b.app.saw(server, Event::Closed(CloseReason::Normal)));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Normal)));
    assert!(net.a.tcp.is_empty() && net.b.tcp.is_empty());
    let stats = net.a.tcp.stats();
    assert_eq!((stats.opened, stats.closed), (1, 1));
}

#[test]
fn closed_port_answers_reset() {
    let mut net = Net::new(Config::default());
    let now = net.now;
    let client = net
        .a
        .tcp
        .connect((IpAddr::V4(A), 0), (IpAddr::V4(B), 81), now)
        .unwrap();
    net.run(100, Duration::from_secs(5));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Refused)));
    assert_eq!(net.b.tcp.stats().rx_no_connection, 1);
    assert_eq!(net.b.tcp.stats().tx_resets, 1);
}

#[test]
fn full_backlog_answers_with_syn_cookies() {
    let mut net = Net::new(Config::default());
    net.b.tcp.listen(80, 0).unwrap();
    let now = net.now;
    let client = net
        .a
        .tcp
        .connect((IpAddr::V4(A), 0), (IpAddr::V4(B), 80), now)
        .unwrap();
    net.run(100, Duration::from_secs(5));
    assert_eq!(net.a.tcp.state(client), State::Established);
    let stats = net.b.tcp.stats();
    assert_eq!(stats.syn_cookies_sent, 1);
    assert_eq!(stats.syn_cookies_accepted, 1);
    let server = net.b.tcp.accept(80).expect("the cookie made a connection");
    // Options survived in the cookie: timestamps carried SACK and scaling.
    let (sack, ts, scale, _) = net.b.tcp.connection(server).unwrap().negotiated();
    assert!(sack && ts && scale.is_some());
    let data = pattern(200_000, 3);
    net.a.app.write(client, &data);
    net.run(10_000, Duration::from_secs(1));
    assert!(net.b.app.received(server) == data.as_slice());
}
