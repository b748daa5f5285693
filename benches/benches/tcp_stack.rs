//! TCP through the whole stack (Ethernet, IPv4, TCP) between two hosts on
//! an in-memory link, ethox beside smoltcp doing the same work, and a
//! plain copy of the same bytes as the ceiling.
//!
//! Both stacks run on a wire that copies each frame once, an IP MTU of
//! 1500, 64 frame buffers per NIC (so at most 64 segments cross the link
//! each way per round), every checksum (IPv4 header, TCP) computed and
//! verified in software, ARP resolved and the connection established
//! during set-up, and a clock that advances by one microsecond per round
//! (no timer runs out during a measurement: the stacks' delayed-ACK timers
//! are 40 ms and 10 ms, their RTOs 200 ms and more).
//!
//! * `bulk`: host A's application writes a byte stream into its
//!   connection as fast as the send buffer takes it, host B's application
//!   reads it out; one iteration is 8 MiB arriving at B's application.
//!   Both stacks have 256 KiB send and 256 KiB receive buffers on each
//!   host (ethox's [`RingSendBuffer`] and [`RingRecvBuffer`], smoltcp's
//!   socket buffers), and both applications copy the bytes in from a
//!   pattern buffer and out into a 64 KiB buffer of their own (ethox
//!   `write`/`read`, smoltcp `send_slice`/`recv_slice`).
//! * `bulk-source-sink` (ethox only): the same transfer with the sending
//!   application a [`Source`] the connection reads from directly and the
//!   receiving one a [`Sink`] the connection writes to (a 256 KiB window):
//!   no application copies, what ethox's buffer traits allow.
//! * `memcpy`: the same 8 MiB copied between two 256 KiB buffers, window
//!   by window: what moving the bytes once costs, the ceiling.
//! * `request-response`: one established connection, A sends a 64-byte
//!   request, B's application reads it and writes it back, A reads the
//!   answer; one element is one round trip. Nagle is off on both stacks
//!   (a request/response application sets TCP_NODELAY; with Nagle on,
//!   nothing changes here as each message waits for no unacknowledged
//!   data, but it is what such an application asks for). Delayed ACKs stay
//!   on, as both stacks default (ethox 40 ms, smoltcp 10 ms): every ACK
//!   rides on the answer or the next request, so each round trip is
//!   exactly two frames on both stacks (checked), none of them a pure ACK.
//!
//! Each stack uses its defaults otherwise: ethox negotiates window
//! scaling, SACK and timestamps (12 option bytes per segment, so 1448
//! payload bytes in a full segment) and runs CUBIC; smoltcp 0.12 offers
//! window scaling, sends no timestamps (1460 payload bytes) and has no
//! congestion control compiled in. Neither loses a frame here, so neither
//! window limits the transfer once it is running: 64 segments a round.
//!
//! Every bulk iteration checks that B's application got at least 8 MiB
//! more than before; every request/response iteration checks every frame
//! and byte count. The bytes themselves are compared with the stream sent
//! in a transfer before and after the measurement (and in every iteration
//! in builds with debug assertions, as `cargo test --benches` makes), so a
//! stack that moved the wrong bytes fails the bench rather than
//! flattering it.

#[path = "common/smoltcp_link.rs"]
mod smoltcp_link;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Bytes B's application takes per bulk iteration.
const TRANSFER: usize = 8 << 20;
/// Send and receive buffer of every connection, on both stacks.
const WINDOW: usize = 256 << 10;
/// The applications' own read buffer.
const APP_BUFFER: usize = 64 << 10;
/// Length of the sender's pattern: a prime, so the stream lines up with
/// no buffer or segment size and a byte read from a wrong offset differs.
const PATTERN_LEN: usize = 65_521;
/// Request and answer size in `request-response`.
const MESSAGE: usize = 64;
/// Round trips per `request-response` iteration.
const ROUND_TRIPS: usize = 64;
/// Frame buffers per NIC.
const SLOTS: usize = 64;
/// Ethernet frame capacity: an IP MTU of 1500 behind a 14-byte header.
const FRAME: usize = 1514;
/// B's listening port.
const SERVER_PORT: u16 = 80;
/// A's port (smoltcp needs one; ethox picks an ephemeral one).
const CLIENT_PORT: u16 = 49_200;
/// Where both clocks start, in microseconds.
const START_MICROS: u64 = 100_000_000;
/// Rounds the handshake may take.
const SETUP_ROUNDS: usize = 20;
/// Compare every byte in every iteration (builds with debug assertions).
const VERIFY_ALWAYS: bool = cfg!(debug_assertions);

const IP_A: [u8; 4] = [10, 0, 0, 1];
const IP_B: [u8; 4] = [10, 0, 0, 2];
const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// The stream A sends: the pattern over and over.
fn pattern() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..PATTERN_LEN)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// Whether `bytes` are the stream at `position`.
fn is_stream_at(pattern: &[u8], mut position: u64, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let expected = &pattern[(position % PATTERN_LEN as u64) as usize..];
        let n = expected.len().min(bytes.len());
        if bytes[..n] != expected[..n] {
            return false;
        }
        bytes = &bytes[n..];
        position += n as u64;
    }
    true
}

/// The sending application: writes the stream into whatever takes it.
#[derive(Default)]
struct Writer {
    written: u64,
}

impl Writer {
    /// Writes up to `limit` more bytes of the stream through `write`
    /// (which returns how many it took) until it takes no more.
    fn produce(&mut self, pattern: &[u8], limit: usize, mut write: impl FnMut(&[u8]) -> usize) {
        let mut left = limit;
        while left > 0 {
            let at = (self.written % PATTERN_LEN as u64) as usize;
            let chunk = &pattern[at..][..left.min(PATTERN_LEN - at)];
            let n = write(chunk);
            self.written += n as u64;
            left -= n;
            if n < chunk.len() {
                break;
            }
        }
    }
}

/// The receiving application: reads into its own buffer through `read`
/// until nothing is left, comparing with the stream when asked.
struct Reader {
    read: u64,
    buffer: Box<[u8]>,
    mismatches: usize,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            read: 0,
            buffer: vec![0; APP_BUFFER].into_boxed_slice(),
            mismatches: 0,
        }
    }

    /// Reads until `read` gives nothing; returns how many bytes.
    fn consume(
        &mut self,
        pattern: &[u8],
        verify: bool,
        mut read: impl FnMut(&mut [u8]) -> usize,
    ) -> usize {
        let mut total = 0;
        loop {
            let n = read(&mut self.buffer);
            if n == 0 {
                return total;
            }
            black_box(self.buffer[n - 1]);
            if verify && !is_stream_at(pattern, self.read, &self.buffer[..n]) {
                self.mismatches += 1;
            }
            self.read += n as u64;
            total += n;
        }
    }
}

mod ethox_side {
    use super::*;

    use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
    use ethox::layer::route::Routes;
    use ethox::layer::tcp::buffer::{
        RecvBuffer, RingRecvBuffer, RingSendBuffer, SendBuffer, Sink, Source,
    };
    use ethox::layer::tcp::connection::{Config, State};
    use ethox::layer::tcp::{self, Buffers, Handle, Io, Listener, Secrets, Slot};
    use ethox::layer::{eth, ip};
    use ethox::nic::Device;
    use ethox::nic::memory::{MemoryLink, MemoryNic};
    use ethox::time::Instant;
    use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

    type Nic = MemoryNic<Vec<u8>, SLOTS>;

    /// A host's application: one connection's two buffers.
    struct App<S, R> {
        send: S,
        recv: R,
    }

    impl<S: SendBuffer, R: RecvBuffer> Io for App<S, R> {
        fn buffers(&mut self, _: Handle) -> Option<Buffers<'_>> {
            Some(Buffers {
                send: &mut self.send,
                recv: &mut self.recv,
            })
        }
    }

    struct Host<S, R> {
        nic: Nic,
        eth: eth::Endpoint,
        ip: ip::Endpoint<'static>,
        tcp: tcp::Endpoint<'static>,
        app: App<S, R>,
    }

    impl<S: SendBuffer, R: RecvBuffer> Host<S, R> {
        fn new(mac: [u8; 6], addr: [u8; 4], config: Config, app: App<S, R>) -> Host<S, R> {
            let mut ip = ip::Endpoint::new(
                vec![None; 1],
                Routes::new(vec![None; 1]),
                NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
                NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default()),
            );
            let cidr = IpCidr::new(IpAddr::V4(Ipv4Addr::from(addr)), 24).unwrap();
            assert!(ip.add_addr(cidr));
            Host {
                nic: Nic::new(vec![0; SLOTS * FRAME], FRAME).unwrap(),
                eth: eth::Endpoint::new(EthernetAddress(mac)),
                ip,
                tcp: tcp::Endpoint::new(
                    vec![Slot::empty(); 1],
                    vec![Listener::EMPTY; 1],
                    Secrets::from_seed(u64::from(mac[5])),
                    config,
                ),
                app,
            }
        }

        /// Sends what the connection has to send; returns the frames.
        fn send(&mut self) -> usize {
            let app = &mut self.app;
            let sender = self.eth.send(self.ip.send(self.tcp.send(app)));
            self.nic.tx(SLOTS, sender).unwrap()
        }

        /// Receives every waiting frame.
        fn receive(&mut self) -> usize {
            let app = &mut self.app;
            let receiver = self.eth.recv(self.ip.recv(self.tcp.recv(app)));
            self.nic.rx(SLOTS, receiver).unwrap()
        }
    }

    /// Two ethox hosts on a memory link with one established connection
    /// from A to B.
    struct Pair<S, R> {
        a: Host<S, R>,
        b: Host<S, R>,
        client: Handle,
        server: Handle,
        now: u64,
    }

    impl<S: SendBuffer, R: RecvBuffer> Pair<S, R> {
        fn new(config: Config, a: App<S, R>, b: App<S, R>) -> Pair<S, R> {
            let mut a = Host::new(MAC_A, IP_A, config, a);
            let mut b = Host::new(MAC_B, IP_B, config, b);
            b.tcp.listen(SERVER_PORT, 1).unwrap();
            let now = Instant::from_micros(START_MICROS);
            let remote = (IpAddr::V4(Ipv4Addr::from(IP_B)), SERVER_PORT);
            let client = a
                .tcp
                .connect((IpAddr::V4(Ipv4Addr::from(IP_A)), 0), remote, now)
                .unwrap();
            let mut pair = Pair {
                a,
                b,
                client,
                server: client,
                now: START_MICROS,
            };
            // ARP, then SYN, SYN-ACK, ACK.
            let mut accepted = None;
            for _ in 0..SETUP_ROUNDS {
                pair.round(|_| (), |_| ());
                accepted = accepted.or_else(|| pair.b.tcp.accept(SERVER_PORT));
                if accepted.is_some() {
                    break;
                }
            }
            pair.server = accepted.expect("an established connection at B");
            assert_eq!(pair.a.tcp.state(client), State::Established);
            assert_eq!(pair.b.tcp.state(pair.server), State::Established);
            pair
        }

        fn tick(&mut self) {
            self.now += 1;
            let now = Instant::from_micros(self.now);
            self.a.nic.set_time(now);
            self.b.nic.set_time(now);
        }

        /// One round: A's application, A sends, the link carries, B
        /// receives, B's application, B sends, the link carries back, A
        /// receives. Returns the frames A sent and B sent.
        fn round(
            &mut self,
            at_a: impl FnOnce(&mut App<S, R>),
            at_b: impl FnOnce(&mut App<S, R>),
        ) -> (usize, usize) {
            self.tick();
            at_a(&mut self.a.app);
            let sent = self.a.send();
            MemoryLink::transfer(&mut self.a.nic, &mut self.b.nic);
            self.b.receive();
            at_b(&mut self.b.app);
            let back = self.b.send();
            MemoryLink::transfer(&mut self.b.nic, &mut self.a.nic);
            self.a.receive();
            (sent, back)
        }

        /// Nothing was lost, refused, retransmitted or timed out.
        fn check(&self) {
            for (host, conn) in [(&self.a, self.client), (&self.b, self.server)] {
                let tcp = host.tcp.stats();
                assert_eq!(tcp.tx_errors, 0);
                assert_eq!(tcp.rx_bad_checksum + tcp.rx_truncated + tcp.rx_malformed, 0);
                assert_eq!(tcp.rx_no_connection, 0);
                let stats = host.tcp.connection(conn).expect("open").stats();
                assert_eq!(stats.retransmissions + stats.timeouts, 0);
                let nic = host.nic.stats();
                assert_eq!(nic.rx_missed + nic.rx_oversize, 0);
            }
        }
    }

    /// Ring buffers of the window size on both hosts, the applications
    /// copying in and out.
    pub struct Rings {
        pair: Pair<RingSendBuffer<'static>, RingRecvBuffer<'static>>,
        pattern: Vec<u8>,
        writer: Writer,
        reader: Reader,
    }

    impl Rings {
        fn app() -> App<RingSendBuffer<'static>, RingRecvBuffer<'static>> {
            App {
                send: RingSendBuffer::new(vec![0; WINDOW]),
                recv: RingRecvBuffer::new(vec![0; WINDOW]),
            }
        }

        /// `nagle`: whether the connections run Nagle's algorithm.
        pub fn new(nagle: bool) -> Rings {
            let mut config = Config::default();
            config.nagle = nagle;
            Rings {
                pair: Pair::new(config, Self::app(), Self::app()),
                pattern: pattern(),
                writer: Writer::default(),
                reader: Reader::new(),
            }
        }

        /// B's application takes at least `TRANSFER` more bytes.
        pub fn bulk(&mut self, verify: bool) {
            let Rings {
                pair,
                pattern,
                writer,
                reader,
            } = self;
            let target = reader.read + TRANSFER as u64;
            let mut idle = 0;
            while reader.read < target {
                let (sent, back) = pair.round(
                    |a| writer.produce(pattern, usize::MAX, |c| a.send.write(c)),
                    |b| {
                        reader.consume(pattern, verify || VERIFY_ALWAYS, |buf| b.recv.read(buf));
                    },
                );
                idle = if sent + back == 0 { idle + 1 } else { 0 };
                assert!(idle < 3, "ethox bulk stalled at {} bytes", reader.read);
            }
            assert_eq!(reader.mismatches, 0, "ethox bulk: wrong bytes arrived");
        }

        /// `ROUND_TRIPS` requests of `MESSAGE` bytes, each answered.
        pub fn request_response(&mut self) {
            let verify = VERIFY_ALWAYS;
            let Rings {
                pair,
                pattern,
                writer,
                reader,
            } = self;
            for _ in 0..ROUND_TRIPS {
                let before = reader.read;
                let mut echoed = 0;
                let (sent, back) = pair.round(
                    |a| writer.produce(pattern, MESSAGE, |c| a.send.write(c)),
                    |b| {
                        let mut request = [0u8; MESSAGE];
                        let n = b.recv.read(&mut request);
                        echoed = b.send.write(&request[..n]);
                    },
                );
                let answer = reader.consume(pattern, verify, |buf| pair.a.app.recv.read(buf));
                assert!(
                    sent == 1 && echoed == MESSAGE && back == 1 && answer == MESSAGE,
                    "ethox request-response: {sent} frames out, {echoed} bytes echoed, \
                     {back} frames back, {answer} bytes answered after {before}"
                );
            }
            assert_eq!(reader.mismatches, 0, "ethox request-response: wrong bytes");
        }

        pub fn check(&mut self) {
            self.bulk(true);
            self.pair.check();
        }
    }

    /// A [`Source`] at A and a [`Sink`] at B: the connection reads and
    /// writes the applications' data in place.
    pub struct SourceSink {
        pair: Pair<Source, Sink>,
        seed: u64,
    }

    impl SourceSink {
        /// `digest`: whether B's sink hashes what it takes (which costs
        /// about as much as the transfer: the measured pair only counts).
        pub fn new(digest: bool) -> SourceSink {
            let seed = 7;
            let sink = if digest {
                Sink::with_digest()
            } else {
                Sink::new()
            };
            let app = |send| App {
                send,
                recv: sink.clone().with_window(WINDOW),
            };
            SourceSink {
                pair: Pair::new(
                    Config::default(),
                    app(Source::unbounded(seed)),
                    app(Source::new(0, 0)),
                ),
                seed,
            }
        }

        pub fn bulk(&mut self) {
            let sink = &self.pair.b.app.recv;
            let target = sink.received() + TRANSFER as u64;
            let mut idle = 0;
            while self.pair.b.app.recv.received() < target {
                let (sent, back) = self.pair.round(|_| (), |_| ());
                idle = if sent + back == 0 { idle + 1 } else { 0 };
                assert!(idle < 3, "ethox source-sink stalled");
            }
        }

        /// The sink's digest, if it keeps one, is the source's stream.
        pub fn check(&mut self) {
            let sink = &self.pair.b.app.recv;
            if let Some(digest) = sink.digest() {
                let expected = Source::digest_of(self.seed, sink.received());
                assert_eq!(digest, expected, "ethox source-sink: wrong bytes");
            }
            self.pair.check();
        }
    }
}

mod smoltcp_side {
    use super::*;

    use smoltcp::iface::{
        Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
    };
    use smoltcp::socket::tcp::{self, SocketBuffer, State};
    use smoltcp::time::Instant;
    use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

    use crate::smoltcp_link::QueueDevice;

    struct Host {
        dev: QueueDevice,
        iface: Interface,
        sockets: SocketSet<'static>,
        tcp: SocketHandle,
    }

    impl Host {
        fn new(mac: [u8; 6], addr: [u8; 4], nagle: bool, now: Instant) -> Host {
            let mut dev = QueueDevice::new(SLOTS);
            let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
            config.random_seed = u64::from(mac[5]);
            let mut iface = Interface::new(config, &mut dev, now);
            let [a, b, c, d] = addr;
            iface.update_ip_addrs(|addrs| {
                addrs
                    .push(IpCidr::new(IpAddress::v4(a, b, c, d), 24))
                    .unwrap()
            });
            let mut socket = tcp::Socket::new(
                SocketBuffer::new(vec![0; WINDOW]),
                SocketBuffer::new(vec![0; WINDOW]),
            );
            socket.set_nagle_enabled(nagle);
            let mut sockets = SocketSet::new(Vec::with_capacity(1));
            let tcp = sockets.add(socket);
            Host {
                dev,
                iface,
                sockets,
                tcp,
            }
        }

        fn socket(&mut self) -> &mut tcp::Socket<'static> {
            self.sockets.get_mut::<tcp::Socket>(self.tcp)
        }

        /// Processes every received frame.
        fn ingress(&mut self, now: Instant) {
            while self
                .iface
                .poll_ingress_single(now, &mut self.dev, &mut self.sockets)
                != PollIngressSingleResult::None
            {}
        }

        /// Sends until nothing more goes out (a TCP socket sends one
        /// segment per poll); returns the frames queued.
        fn egress(&mut self, now: Instant) -> usize {
            let before = self.dev.queued();
            while self
                .iface
                .poll_egress(now, &mut self.dev, &mut self.sockets)
                != PollResult::None
            {}
            self.dev.queued() - before
        }
    }

    /// Two smoltcp interfaces on the memory link with one established
    /// connection from A to B.
    pub struct Pair {
        a: Host,
        b: Host,
        pattern: Vec<u8>,
        writer: Writer,
        reader: Reader,
        now: u64,
    }

    impl Pair {
        /// `nagle`: whether the sockets run Nagle's algorithm.
        pub fn new(nagle: bool) -> Pair {
            let start = Instant::from_micros(START_MICROS as i64);
            let mut pair = Pair {
                a: Host::new(MAC_A, IP_A, nagle, start),
                b: Host::new(MAC_B, IP_B, nagle, start),
                pattern: pattern(),
                writer: Writer::default(),
                reader: Reader::new(),
                now: START_MICROS,
            };
            pair.b.socket().listen(SERVER_PORT).unwrap();
            let [a, b, c, d] = IP_B;
            let a_host = &mut pair.a;
            let socket = a_host.sockets.get_mut::<tcp::Socket>(a_host.tcp);
            socket
                .connect(
                    a_host.iface.context(),
                    (IpAddress::v4(a, b, c, d), SERVER_PORT),
                    CLIENT_PORT,
                )
                .unwrap();
            // ARP, then SYN, SYN-ACK, ACK.
            for _ in 0..SETUP_ROUNDS {
                pair.round(|_, _| (), |_, _| ());
                if pair.a.socket().state() == State::Established
                    && pair.b.socket().state() == State::Established
                {
                    break;
                }
            }
            assert_eq!(pair.a.socket().state(), State::Established);
            assert_eq!(pair.b.socket().state(), State::Established);
            pair
        }

        /// One round, as ethox's: A's application, A sends, the link
        /// carries, B receives, B's application, B sends, the link
        /// carries back, A receives. Returns the frames each host sent.
        fn round(
            &mut self,
            at_a: impl FnOnce(&mut tcp::Socket<'static>, &mut Writer),
            at_b: impl FnOnce(&mut tcp::Socket<'static>, &mut Reader),
        ) -> (usize, usize) {
            self.now += 1;
            let now = Instant::from_micros(self.now as i64);
            at_a(self.a.socket(), &mut self.writer);
            let sent = self.a.egress(now);
            QueueDevice::transfer(&mut self.a.dev, &mut self.b.dev);
            self.b.ingress(now);
            at_b(self.b.socket(), &mut self.reader);
            let back = self.b.egress(now);
            QueueDevice::transfer(&mut self.b.dev, &mut self.a.dev);
            self.a.ingress(now);
            (sent, back)
        }

        /// B's application takes at least `TRANSFER` more bytes.
        pub fn bulk(&mut self, verify: bool) {
            let target = self.reader.read + TRANSFER as u64;
            let pattern = std::mem::take(&mut self.pattern);
            let verify = verify || VERIFY_ALWAYS;
            let mut idle = 0;
            while self.reader.read < target {
                let (sent, back) = self.round(
                    |a, writer| {
                        writer.produce(&pattern, usize::MAX, |c| a.send_slice(c).unwrap_or(0))
                    },
                    |b, reader| {
                        reader.consume(&pattern, verify, |buf| b.recv_slice(buf).unwrap_or(0));
                    },
                );
                idle = if sent + back == 0 { idle + 1 } else { 0 };
                assert!(idle < 3, "smoltcp bulk stalled at {}", self.reader.read);
            }
            self.pattern = pattern;
            assert_eq!(self.reader.mismatches, 0, "smoltcp bulk: wrong bytes");
        }

        /// `ROUND_TRIPS` requests of `MESSAGE` bytes, each answered.
        pub fn request_response(&mut self) {
            let pattern = std::mem::take(&mut self.pattern);
            for _ in 0..ROUND_TRIPS {
                let mut echoed = 0;
                let (sent, back) = self.round(
                    |a, writer| writer.produce(&pattern, MESSAGE, |c| a.send_slice(c).unwrap_or(0)),
                    |b, _| {
                        let mut request = [0u8; MESSAGE];
                        let n = b.recv_slice(&mut request).unwrap_or(0);
                        echoed = b.send_slice(&request[..n]).unwrap_or(0);
                    },
                );
                let Pair { a, reader, .. } = self;
                let socket = a.sockets.get_mut::<tcp::Socket>(a.tcp);
                let answer = reader.consume(&pattern, VERIFY_ALWAYS, |buf| {
                    socket.recv_slice(buf).unwrap_or(0)
                });
                assert!(
                    sent == 1 && echoed == MESSAGE && back == 1 && answer == MESSAGE,
                    "smoltcp request-response: {sent} frames out, {echoed} bytes echoed, \
                     {back} frames back, {answer} bytes answered"
                );
            }
            self.pattern = pattern;
            assert_eq!(
                self.reader.mismatches, 0,
                "smoltcp request-response: wrong bytes"
            );
        }

        /// Nothing was lost on the wire or left behind.
        pub fn check(&mut self) {
            self.bulk(true);
            for host in [&self.a, &self.b] {
                assert_eq!(host.dev.missed, 0);
                assert!(host.dev.rx_queue.is_empty() && host.dev.tx_queue.is_empty());
            }
        }
    }
}

/// The ceiling: the same bytes copied once, window by window.
struct Memcpy {
    src: Vec<u8>,
    dst: Vec<u8>,
}

impl Memcpy {
    fn new() -> Memcpy {
        let mut src = pattern();
        src.resize(WINDOW, 0x5a);
        Memcpy {
            src,
            dst: vec![0; WINDOW],
        }
    }

    fn run(&mut self) {
        for _ in 0..TRANSFER / WINDOW {
            self.dst.copy_from_slice(black_box(&self.src));
            black_box(&mut self.dst);
        }
    }
}

/// Runs one bench a fixed number of times without criterion, for
/// counting instructions and cycles, which a shared machine disturbs far
/// less than wall time: `TCP_STACK_FIXED=ethox/bulk:100 perf stat -e
/// instructions:u,cycles:u target/release/deps/tcp_stack-HASH --bench`
/// (a count of 0 measures the set-up alone).
fn fixed_run(spec: &str) {
    let (name, count) = spec.split_once(':').expect("NAME:COUNT");
    let count: usize = count.parse().expect("a count");
    let mut run: Box<dyn FnMut()> = match name {
        "ethox/bulk" => {
            let mut pair = ethox_side::Rings::new(true);
            Box::new(move || pair.bulk(false))
        }
        "ethox/bulk-source-sink" => {
            let mut pair = ethox_side::SourceSink::new(false);
            Box::new(move || pair.bulk())
        }
        "smoltcp/bulk" => {
            let mut pair = smoltcp_side::Pair::new(true);
            Box::new(move || pair.bulk(false))
        }
        "ethox/request-response" => {
            let mut pair = ethox_side::Rings::new(false);
            Box::new(move || pair.request_response())
        }
        "smoltcp/request-response" => {
            let mut pair = smoltcp_side::Pair::new(false);
            Box::new(move || pair.request_response())
        }
        _ => panic!("no bench {name}"),
    };
    (0..count).for_each(|_| run());
}

fn bench_tcp_stack(c: &mut Criterion) {
    if let Ok(spec) = std::env::var("TCP_STACK_FIXED") {
        return fixed_run(&spec);
    }
    let mut group = c.benchmark_group("tcp_stack");

    // Set-up runs one verified transfer on each (the handshake and slow
    // start happen outside the measurement).
    let mut ethox = ethox_side::Rings::new(true);
    ethox.check();
    let mut hashed = ethox_side::SourceSink::new(true);
    hashed.bulk();
    hashed.check();
    let mut sink = ethox_side::SourceSink::new(false);
    sink.bulk();
    sink.check();
    let mut smol = smoltcp_side::Pair::new(true);
    smol.check();
    let mut copy = Memcpy::new();

    // An iteration takes milliseconds: 20 samples fit the measurement.
    group.sample_size(20);
    group.throughput(Throughput::Bytes(TRANSFER as u64));
    group.bench_function(BenchmarkId::new("ethox", "bulk"), |b| {
        b.iter(|| ethox.bulk(false))
    });
    group.bench_function(BenchmarkId::new("ethox", "bulk-source-sink"), |b| {
        b.iter(|| sink.bulk())
    });
    group.bench_function(BenchmarkId::new("smoltcp", "bulk"), |b| {
        b.iter(|| smol.bulk(false))
    });
    group.bench_function(BenchmarkId::new("memcpy", "bulk"), |b| {
        b.iter(|| copy.run())
    });
    copy.run();
    assert!(copy.dst == copy.src, "memcpy copied wrong bytes");
    ethox.check();
    sink.check();
    smol.check();

    // Nagle off on both (see the module documentation).
    let mut ethox = ethox_side::Rings::new(false);
    let mut smol = smoltcp_side::Pair::new(false);
    ethox.request_response();
    smol.request_response();
    group.sample_size(100);
    group.throughput(Throughput::Elements(ROUND_TRIPS as u64));
    group.bench_function(BenchmarkId::new("ethox", "request-response"), |b| {
        b.iter(|| ethox.request_response())
    });
    group.bench_function(BenchmarkId::new("smoltcp", "request-response"), |b| {
        b.iter(|| smol.request_response())
    });
    group.finish();
    ethox.check();
    smol.check();
}

criterion_group!(benches, bench_tcp_stack);
criterion_main!(benches);
