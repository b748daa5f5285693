//! UDP datagrams through the whole stack (Ethernet, IPv4, UDP) between two
//! hosts on an in-memory link, ethox beside smoltcp doing the same work.
//!
//! Both stacks run on a wire that copies each frame once, with 64-byte
//! payloads in batches of 64, an IP MTU of 1500, every checksum (IPv4
//! header, UDP) computed and verified in software, ARP resolved during
//! set-up, and a clock that advances by one microsecond per batch (so the
//! 60-second ARP entries of both stacks outlive 60 million batches; a run
//! longer than that would fail the count checks, not measure ARP).
//!
//! * `one-way`: host A sends a batch to a bound port of host B, the link
//!   carries it, B's application takes every datagram and reads its first
//!   byte.
//! * `echo`: as `one-way`, then B answers every datagram with its payload
//!   and A takes the answers; one element is one round trip.
//!
//! ethox builds each datagram in the NIC's frame (`prepare`,
//! `payload_mut`, `send`) and answers in the received frame
//! (`udp::In::reply`); smoltcp goes through its socket buffers
//! (`send_slice`, `poll`, `recv`), as its API does. Every batch checks
//! that every datagram arrived (a few integer comparisons per batch), so a
//! lost datagram fails the bench rather than flattering it.

#[path = "common/smoltcp_link.rs"]
mod smoltcp_link;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Datagrams per batch (one measured iteration).
const BATCH: usize = 64;
/// Payload bytes per datagram.
const PAYLOAD: usize = 64;
/// Ethernet frame capacity: an IP MTU of 1500 behind a 14-byte header.
const FRAME: usize = 1514;
/// B's bound port.
const SERVER_PORT: u16 = 7;
/// A's bound port (the echo answers come back to it).
const CLIENT_PORT: u16 = 49_200;
/// Where both clocks start, in microseconds.
const START_MICROS: u64 = 100_000_000;

const IP_A: [u8; 4] = [10, 0, 0, 1];
const IP_B: [u8; 4] = [10, 0, 0, 2];
const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// The payload every datagram carries.
fn payload() -> [u8; PAYLOAD] {
    core::array::from_fn(|i| i as u8 ^ 0x5a)
}

mod ethox_side {
    use super::*;

    use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
    use ethox::layer::route::Routes;
    use ethox::layer::udp::{self, UdpError};
    use ethox::layer::{eth, icmp, ip};
    use ethox::nic::Device;
    use ethox::nic::memory::{MemoryLink, MemoryNic};
    use ethox::time::Instant;
    use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

    /// One frame buffer per datagram of a batch: every buffer is used in
    /// every batch, as every smoltcp buffer is.
    type Nic = MemoryNic<Vec<u8>, BATCH>;

    struct Host {
        nic: Nic,
        eth: eth::Endpoint,
        ip: ip::Endpoint<'static>,
        icmp: icmp::Endpoint,
        udp: udp::Endpoint<'static>,
    }

    impl Host {
        fn new(mac: [u8; 6], addr: [u8; 4], port: u16) -> Host {
            let mut ip = ip::Endpoint::new(
                vec![None; 1],
                Routes::new(vec![None; 1]),
                NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
                NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            );
            let [a, b, c, d] = addr;
            let cidr = IpCidr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), 24).unwrap();
            assert!(ip.add_addr(cidr));
            let mut udp = udp::Endpoint::new(vec![None; 4], 0x1234);
            udp.bind(port).unwrap();
            Host {
                nic: Nic::new(vec![0; BATCH * FRAME], FRAME).unwrap(),
                eth: eth::Endpoint::new(EthernetAddress(mac)),
                ip,
                icmp: icmp::Endpoint::new(),
                udp,
            }
        }

        /// Sends up to `app.left` datagrams.
        fn send(&mut self, app: &mut Burst) -> usize {
            let Host {
                nic, eth, ip, udp, ..
            } = self;
            nic.tx(BATCH, eth.send(ip.send(udp.send(app)))).unwrap()
        }

        /// Receives every waiting frame, UDP behind ICMP behind IP.
        fn receive<A: udp::Recv<Nic>>(&mut self, app: A) -> usize {
            let Host {
                nic,
                eth,
                ip,
                icmp,
                udp,
            } = self;
            nic.rx(BATCH, eth.recv(ip.recv(icmp.recv(udp.recv(app)))))
                .unwrap()
        }
    }

    /// Sends `left` datagrams of the same payload to one destination.
    struct Burst {
        dst: (IpAddr, u16),
        payload: [u8; PAYLOAD],
        left: usize,
        last_error: Option<UdpError>,
    }

    impl<D: Device> udp::Send<D> for Burst {
        fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
            if self.left == 0 {
                return;
            }
            let init = udp::Init {
                src_port: CLIENT_PORT,
                dst: self.dst,
                payload_len: PAYLOAD,
            };
            match raw.prepare(init) {
                Ok(mut out) => {
                    out.payload_mut().copy_from_slice(&self.payload);
                    match out.send() {
                        Ok(()) => self.left -= 1,
                        Err(err) => self.last_error = Some(err),
                    }
                }
                Err(err) => self.last_error = Some(err),
            }
        }
    }

    /// Takes datagrams: counts them and reads each one's first byte.
    #[derive(Default)]
    struct Sink {
        datagrams: usize,
        bytes: usize,
    }

    impl<D: Device> udp::Recv<D> for Sink {
        fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
            let payload = datagram.payload();
            black_box(payload[0]);
            self.datagrams += 1;
            self.bytes += payload.len();
        }
    }

    /// Answers every datagram with its own payload, in the same frame.
    #[derive(Default)]
    struct Echo {
        answered: usize,
    }

    impl<D: Device> udp::Recv<D> for Echo {
        fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
            let payload = datagram.payload();
            black_box(payload[0]);
            let len = payload.len();
            if let Ok(out) = datagram.reply(len)
                && out.send().is_ok()
            {
                self.answered += 1;
            }
        }
    }

    /// Two ethox hosts on a memory link, B's hardware address known to A
    /// and A's to B.
    pub struct Pair {
        a: Host,
        b: Host,
        burst: Burst,
        now: u64,
    }

    impl Pair {
        pub fn new() -> Pair {
            let mut pair = Pair {
                a: Host::new(MAC_A, IP_A, CLIENT_PORT),
                b: Host::new(MAC_B, IP_B, SERVER_PORT),
                burst: Burst {
                    dst: (IpAddr::V4(Ipv4Addr::from(IP_B)), SERVER_PORT),
                    payload: payload(),
                    left: 0,
                    last_error: None,
                },
                now: START_MICROS,
            };
            pair.tick();
            // The first datagram goes out as an ARP request; B learns A
            // from it and answers; A learns B from the answer.
            pair.burst.left = 1;
            assert_eq!(pair.a.send(&mut pair.burst), 1);
            assert_eq!(
                pair.burst.last_error,
                Some(UdpError::Ip(ip::Error::Unresolved))
            );
            assert_eq!(MemoryLink::transfer(&mut pair.a.nic, &mut pair.b.nic), 1);
            pair.b.receive(Sink::default());
            assert_eq!(MemoryLink::transfer(&mut pair.b.nic, &mut pair.a.nic), 1);
            pair.a.receive(Sink::default());
            assert_eq!(
                pair.a.ip.arp_cache().peek(Ipv4Addr::from(IP_B)),
                Some(EthernetAddress(MAC_B))
            );
            assert_eq!(
                pair.b.ip.arp_cache().peek(Ipv4Addr::from(IP_A)),
                Some(EthernetAddress(MAC_A))
            );
            // Both directions at full batch size, once, outside the
            // measurement: the counts are checked inside.
            pair.one_way();
            pair.echo();
            pair
        }

        fn tick(&mut self) {
            self.now += 1;
            let now = Instant::from_micros(self.now);
            self.a.nic.set_time(now);
            self.b.nic.set_time(now);
        }

        /// A sends a batch to B; B takes every datagram.
        pub fn one_way(&mut self) {
            self.tick();
            self.burst.left = BATCH;
            let sent = self.a.send(&mut self.burst);
            let carried = MemoryLink::transfer(&mut self.a.nic, &mut self.b.nic);
            let mut sink = Sink::default();
            self.b.receive(&mut sink);
            assert!(
                sent == BATCH
                    && carried == BATCH
                    && sink.datagrams == BATCH
                    && sink.bytes == BATCH * PAYLOAD,
                "ethox one-way: sent {sent}, carried {carried}, delivered {}",
                sink.datagrams
            );
        }

        /// A sends a batch to B; B answers each in place; A takes every
        /// answer.
        pub fn echo(&mut self) {
            self.tick();
            self.burst.left = BATCH;
            let sent = self.a.send(&mut self.burst);
            let carried = MemoryLink::transfer(&mut self.a.nic, &mut self.b.nic);
            let mut echo = Echo::default();
            self.b.receive(&mut echo);
            let back = MemoryLink::transfer(&mut self.b.nic, &mut self.a.nic);
            let mut sink = Sink::default();
            self.a.receive(&mut sink);
            assert!(
                sent == BATCH
                    && carried == BATCH
                    && echo.answered == BATCH
                    && back == BATCH
                    && sink.datagrams == BATCH
                    && sink.bytes == BATCH * PAYLOAD,
                "ethox echo: sent {sent}, carried {carried}, answered {}, back {back}, \
                 delivered {}",
                echo.answered,
                sink.datagrams
            );
        }

        /// The counters agree that nothing was lost or dropped.
        pub fn check(&self) {
            for host in [&self.a, &self.b] {
                let udp = host.udp.stats();
                assert_eq!(udp.tx_errors, 0);
                assert_eq!(udp.rx_bad_checksum + udp.rx_truncated + udp.rx_malformed, 0);
                assert_eq!(udp.rx_no_port + udp.rx_no_port_silent, 0);
                let nic = host.nic.stats();
                assert_eq!(nic.rx_missed + nic.rx_oversize, 0);
            }
            // One ARP request, one ARP answer, nothing since.
            assert_eq!(self.a.ip.stats().arp_requests_sent, 1);
            assert_eq!(self.b.ip.stats().arp_requests_sent, 0);
        }
    }
}

mod smoltcp_side {
    use super::*;

    use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
    use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata};
    use smoltcp::time::Instant;
    use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint};

    use crate::smoltcp_link::QueueDevice;

    struct Host {
        dev: QueueDevice,
        iface: Interface,
        sockets: SocketSet<'static>,
        udp: SocketHandle,
    }

    impl Host {
        fn new(mac: [u8; 6], addr: [u8; 4], port: u16, now: Instant) -> Host {
            let mut dev = QueueDevice::new(BATCH);
            let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
            config.random_seed = u64::from(mac[5]);
            let mut iface = Interface::new(config, &mut dev, now);
            let [a, b, c, d] = addr;
            iface.update_ip_addrs(|addrs| {
                addrs
                    .push(IpCidr::new(IpAddress::v4(a, b, c, d), 24))
                    .unwrap()
            });
            // Room for two batches of metadata and payload in each
            // direction: a batch never finds its socket buffer full.
            let buffer = || {
                PacketBuffer::new(
                    vec![PacketMetadata::EMPTY; 2 * BATCH],
                    vec![0; 2 * BATCH * PAYLOAD],
                )
            };
            let mut socket = udp::Socket::new(buffer(), buffer());
            socket.bind(port).unwrap();
            let mut sockets = SocketSet::new(Vec::with_capacity(1));
            let udp = sockets.add(socket);
            Host {
                dev,
                iface,
                sockets,
                udp,
            }
        }

        /// Polls until nothing more happens: a UDP socket sends one
        /// datagram per poll, so a batch takes a poll per datagram.
        fn poll_all(&mut self, now: Instant) {
            while self.iface.poll(now, &mut self.dev, &mut self.sockets) != PollResult::None {}
        }

        fn socket(&mut self) -> &mut udp::Socket<'static> {
            self.sockets.get_mut::<udp::Socket>(self.udp)
        }

        /// Queues `count` datagrams to `dst`; returns how many were taken.
        fn send(&mut self, dst: IpEndpoint, payload: &[u8], count: usize) -> usize {
            let socket = self.socket();
            (0..count)
                .take_while(|_| socket.send_slice(payload, dst).is_ok())
                .count()
        }

        /// Takes every datagram waiting, reading each one's first byte;
        /// returns the datagrams and their payload bytes.
        fn drain(&mut self) -> (usize, usize) {
            let socket = self.socket();
            let (mut datagrams, mut bytes) = (0, 0);
            while let Ok((payload, _)) = socket.recv() {
                black_box(payload[0]);
                datagrams += 1;
                bytes += payload.len();
            }
            (datagrams, bytes)
        }
    }

    /// Two smoltcp interfaces on the memory link, neighbors resolved.
    pub struct Pair {
        a: Host,
        b: Host,
        to_b: IpEndpoint,
        payload: [u8; PAYLOAD],
        now: u64,
    }

    impl Pair {
        pub fn new() -> Pair {
            let start = Instant::from_micros(START_MICROS as i64);
            let [a, b, c, d] = IP_B;
            let mut pair = Pair {
                a: Host::new(MAC_A, IP_A, CLIENT_PORT, start),
                b: Host::new(MAC_B, IP_B, SERVER_PORT, start),
                to_b: IpEndpoint::new(IpAddress::v4(a, b, c, d), SERVER_PORT),
                payload: payload(),
                now: START_MICROS,
            };
            // One datagram: the first poll sends an ARP request and keeps
            // the datagram; B learns A from the request and answers; A
            // learns B from the answer and sends the datagram.
            let now = pair.tick();
            assert_eq!(pair.a.send(pair.to_b, &[1], 1), 1);
            pair.a.poll_all(now);
            assert_eq!(QueueDevice::transfer(&mut pair.a.dev, &mut pair.b.dev), 1);
            pair.b.poll_all(now);
            assert_eq!(QueueDevice::transfer(&mut pair.b.dev, &mut pair.a.dev), 1);
            pair.a.poll_all(now);
            assert_eq!(QueueDevice::transfer(&mut pair.a.dev, &mut pair.b.dev), 1);
            pair.b.poll_all(now);
            assert_eq!(pair.b.drain(), (1, 1));
            // Both directions at full batch size, once, outside the
            // measurement: the counts are checked inside (an unresolved
            // neighbor would hold datagrams back and fail them).
            pair.one_way();
            pair.echo();
            pair
        }

        fn tick(&mut self) -> Instant {
            self.now += 1;
            Instant::from_micros(self.now as i64)
        }

        /// A sends a batch to B; B takes every datagram.
        pub fn one_way(&mut self) {
            let now = self.tick();
            let queued = self.a.send(self.to_b, &self.payload, BATCH);
            self.a.poll_all(now);
            let carried = QueueDevice::transfer(&mut self.a.dev, &mut self.b.dev);
            self.b.iface.poll(now, &mut self.b.dev, &mut self.b.sockets);
            let (delivered, bytes) = self.b.drain();
            assert!(
                queued == BATCH
                    && carried == BATCH
                    && delivered == BATCH
                    && bytes == BATCH * PAYLOAD,
                "smoltcp one-way: queued {queued}, carried {carried}, delivered {delivered}"
            );
        }

        /// A sends a batch to B; B receives each datagram and sends it
        /// back; A takes every answer.
        pub fn echo(&mut self) {
            let now = self.tick();
            let queued = self.a.send(self.to_b, &self.payload, BATCH);
            self.a.poll_all(now);
            let carried = QueueDevice::transfer(&mut self.a.dev, &mut self.b.dev);
            self.b.iface.poll(now, &mut self.b.dev, &mut self.b.sockets);
            let mut answered = 0;
            let socket = self.b.socket();
            let mut buf = [0u8; PAYLOAD];
            while let Ok((len, meta)) = socket.recv_slice(&mut buf) {
                black_box(buf[0]);
                if socket.send_slice(&buf[..len], meta).is_ok() {
                    answered += 1;
                }
            }
            self.b.poll_all(now);
            let back = QueueDevice::transfer(&mut self.b.dev, &mut self.a.dev);
            self.a.iface.poll(now, &mut self.a.dev, &mut self.a.sockets);
            let (delivered, bytes) = self.a.drain();
            assert!(
                queued == BATCH
                    && carried == BATCH
                    && answered == BATCH
                    && back == BATCH
                    && delivered == BATCH
                    && bytes == BATCH * PAYLOAD,
                "smoltcp echo: queued {queued}, carried {carried}, answered {answered}, \
                 back {back}, delivered {delivered}"
            );
        }

        /// Nothing was lost on the wire or left behind.
        pub fn check(&self) {
            for host in [&self.a, &self.b] {
                assert_eq!(host.dev.missed, 0);
                assert!(host.dev.rx_queue.is_empty() && host.dev.tx_queue.is_empty());
                assert_eq!(host.dev.rx_free.len() + host.dev.tx_free.len(), 2 * BATCH);
            }
        }
    }
}

/// Runs one bench a fixed number of times without criterion, for
/// counting instructions and cycles, which a shared machine disturbs far
/// less than wall time: `UDP_STACK_FIXED=ethox/one-way:100000 perf stat -e
/// instructions:u,cycles:u target/release/deps/udp_stack-HASH --bench`
/// (a count of 0 measures the set-up alone).
fn fixed_run(spec: &str) {
    let (name, count) = spec.split_once(':').expect("NAME:COUNT");
    let count: usize = count.parse().expect("a count");
    let mut ethox = ethox_side::Pair::new();
    let mut smol = smoltcp_side::Pair::new();
    let run: &mut dyn FnMut() = match name {
        "ethox/one-way" => &mut || ethox.one_way(),
        "ethox/echo" => &mut || ethox.echo(),
        "smoltcp/one-way" => &mut || smol.one_way(),
        "smoltcp/echo" => &mut || smol.echo(),
        _ => panic!("no bench {name}"),
    };
    (0..count).for_each(|_| run());
}

fn bench_udp_stack(c: &mut Criterion) {
    if let Ok(spec) = std::env::var("UDP_STACK_FIXED") {
        return fixed_run(&spec);
    }
    let mut group = c.benchmark_group("udp_stack");
    group.throughput(Throughput::Elements(BATCH as u64));

    let mut ethox = ethox_side::Pair::new();
    let mut smol = smoltcp_side::Pair::new();

    group.bench_function(BenchmarkId::new("ethox", "one-way"), |b| {
        b.iter(|| ethox.one_way())
    });
    group.bench_function(BenchmarkId::new("smoltcp", "one-way"), |b| {
        b.iter(|| smol.one_way())
    });
    group.bench_function(BenchmarkId::new("ethox", "echo"), |b| {
        b.iter(|| ethox.echo())
    });
    group.bench_function(BenchmarkId::new("smoltcp", "echo"), |b| {
        b.iter(|| smol.echo())
    });
    group.finish();

    ethox.check();
    smol.check();
}

criterion_group!(benches, bench_udp_stack);
criterion_main!(benches);
