//! The TCP state machine at the level of segments: `Connection`s driven
//! with `TcpRepr`s and payload bytes, with explicit time. No devices, no
//! IP.
//!
//! [`Side`] is one connection with its buffers and a log of what it sent;
//! [`Pair`] joins two of them with a loss function and runs them until
//! both are quiet, moving time to the next deadline.

use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use ethox::layer::tcp::buffer::{RecvBuffer, SendBuffer};
use ethox::layer::tcp::connection::{Config, Connection, Reaction, State, Transmit};
use ethox::time::Instant;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};

/// What `poll_transmit` gets as room for a segment: an IPv4 packet of
/// 1500 bytes less its 20-byte header.
pub const MAX_LEN: usize = 1480;

/// Where every test's clock starts.
pub const START: Instant = Instant::from_secs(100);

/// A send buffer over a deque: everything written and not acknowledged.
#[derive(Default)]
pub struct VecSend {
    pub data: VecDeque<u8>,
}

impl VecSend {
    /// Queues `bytes` after what is queued.
    pub fn write(&mut self, bytes: &[u8]) {
        self.data.extend(bytes);
    }
}

impl SendBuffer for VecSend {
    fn len(&self) -> usize {
        self.data.len()
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.data.len().saturating_sub(offset));
        for (i, b) in dst[..n].iter_mut().enumerate() {
            *b = self.data[offset + i];
        }
        n
    }
    fn acknowledge(&mut self, n: usize) {
        self.data.drain(..n);
    }
}

/// A receive buffer with a capacity that holds out-of-order bytes
/// anywhere in its window and reports them most recent first.
pub struct VecRecv {
    /// In-order bytes the application has not read.
    pub data: Vec<u8>,
    /// In-order bytes the application read ([`VecRecv::read`]).
    pub consumed: Vec<u8>,
    pub capacity: usize,
    /// Out-of-order bytes by offset past the edge, with the number of the
    /// write that brought them (for "most recent first").
    held: BTreeMap<usize, (u8, u64)>,
    writes: u64,
}

impl VecRecv {
    pub fn new(capacity: usize) -> Self {
        VecRecv {
            data: Vec::new(),
            consumed: Vec::new(),
            capacity,
            held: BTreeMap::new(),
            writes: 0,
        }
    }

    /// The application reads up to `n` bytes.
    pub fn read(&mut self, n: usize) -> usize {
        let n = n.min(self.data.len());
        self.consumed.extend(self.data.drain(..n));
        n
    }

    /// Everything received in order, read or not.
    pub fn all(&self) -> Vec<u8> {
        let mut all = self.consumed.clone();
        all.extend_from_slice(&self.data);
        all
    }
}

impl RecvBuffer for VecRecv {
    fn window(&self) -> usize {
        self.capacity - self.data.len()
    }
    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        let window = self.window();
        self.writes += 1;
        for (i, &b) in data.iter().enumerate() {
            if offset + i < window {
                self.held.insert(offset + i, (b, self.writes));
            }
        }
        let mut advanced = 0;
        while let Some((b, _)) = self.held.remove(&advanced) {
            self.data.push(b);
            advanced += 1;
        }
        if advanced > 0 {
            self.held = std::mem::take(&mut self.held)
                .into_iter()
                .map(|(k, v)| (k - advanced, v))
                .collect();
        }
        advanced
    }
    fn held(&self, out: &mut [(usize, usize)]) -> usize {
        // (start, end, latest write in the range)
        let mut ranges: Vec<(usize, usize, u64)> = Vec::new();
        for (&k, &(_, write)) in &self.held {
            match ranges.last_mut() {
                Some(r) if r.1 == k => {
                    r.1 += 1;
                    r.2 = r.2.max(write);
                }
                _ => ranges.push((k, k + 1, write)),
            }
        }
        ranges.sort_by_key(|r| std::cmp::Reverse(r.2));
        let n = ranges.len().min(out.len());
        for (slot, r) in out.iter_mut().zip(&ranges) {
            *slot = (r.0, r.1);
        }
        n
    }
}

/// One connection with its buffers and a log of every segment it sent.
pub struct Side<R: RecvBuffer = VecRecv> {
    pub conn: Connection,
    pub send: VecSend,
    pub recv: R,
    /// Room `poll_transmit` gets per segment.
    pub max_len: usize,
    /// Poll as for a device that cuts segments itself
    /// (`poll_transmit_segmented`).
    pub segmented: bool,
    /// Every segment sent, when.
    pub log: Vec<(Instant, Transmit)>,
}

impl<R: RecvBuffer> Side<R> {
    pub fn new(conn: Connection, recv: R) -> Self {
        Side {
            conn,
            send: VecSend::default(),
            recv,
            max_len: MAX_LEN,
            segmented: false,
            log: Vec::new(),
        }
    }

    /// The next segment at `now`, reported as sent.
    pub fn poll(&mut self, now: Instant) -> Option<(TcpRepr, Vec<u8>)> {
        let (send, recv) = (&self.send, &self.recv);
        let t: Transmit = if self.segmented {
            self.conn
                .poll_transmit_segmented(now, send, recv, self.max_len)?
        } else {
            self.conn.poll_transmit(now, send, recv, self.max_len)?
        };
        let mut payload = vec![0; t.repr.payload_len];
        let n = self.send.read_at(t.offset, &mut payload);
        assert_eq!(n, payload.len(), "send buffer short for {t:?}");
        self.conn.on_transmitted(now, &t);
        self.log.push((now, t));
        Some((t.repr, payload))
    }

    /// Every segment due at `now` (at most 10 000, against a loop).
    pub fn drain(&mut self, now: Instant) -> Vec<(TcpRepr, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(s) = self.poll(now) {
            out.push(s);
            assert!(out.len() < 10_000, "endless segments");
        }
        out
    }

    pub fn deliver(&mut self, now: Instant, repr: &TcpRepr, payload: &[u8]) -> Reaction {
        self.conn
            .on_segment(now, repr, payload, &mut self.send, &mut self.recv)
    }

    /// Segments sent again: data (or SYN, FIN) starting below the highest
    /// sequence number sent before.
    pub fn retransmitted(&self) -> Vec<(Instant, TcpRepr)> {
        let mut max: Option<SeqNumber> = None;
        let mut again = Vec::new();
        for &(at, t) in &self.log {
            let len = t.repr.segment_len();
            if len == 0 {
                continue;
            }
            let end = t.repr.seq_number + len;
            if max.is_some_and(|m| t.repr.seq_number < m) {
                again.push((at, t.repr));
            }
            if max.is_none_or(|m| m < end) {
                max = Some(end);
            }
        }
        again
    }
}

/// Decides whether a segment is lost: (sent by A, segment count, header).
pub type LossFn = Box<dyn FnMut(bool, u64, &TcpRepr) -> bool>;

/// Two connections joined by a lossy wire without delay.
pub struct Pair<R: RecvBuffer = VecRecv> {
    pub a: Side<R>,
    pub b: Side<R>,
    pub now: Instant,
    /// Decides the fate of each segment: true drops it.
    pub drop: LossFn,
    /// Segments sent so far, both ways.
    pub sent: u64,
    /// The most bytes each side had in flight at once.
    pub max_in_flight: [usize; 2],
}

/// How a pair is set up: each side's config, ISN and receive buffer.
pub struct Setup<R> {
    pub config_a: Config,
    pub config_b: Config,
    pub iss_a: SeqNumber,
    pub iss_b: SeqNumber,
    pub recv_a: R,
    pub recv_b: R,
}

impl Setup<VecRecv> {
    /// Both sides with `config` and 1 MiB receive buffers.
    pub fn new(config: Config) -> Self {
        Setup {
            config_a: config,
            config_b: config,
            iss_a: SeqNumber(0xffff_f000),
            iss_b: SeqNumber(0x7000_0000),
            recv_a: VecRecv::new(1 << 20),
            recv_b: VecRecv::new(1 << 20),
        }
    }
}

impl Pair<VecRecv> {
    /// Runs the handshake with `config` on both sides.
    pub fn open(config: Config) -> Pair {
        let p = Pair::open_with(Setup::new(config));
        assert_eq!(p.a.conn.state(), State::Established);
        assert_eq!(p.b.conn.state(), State::Established);
        p
    }
}

impl<R: RecvBuffer> Pair<R> {
    /// A in SYN-SENT (its SYN not sent yet), B created by `accept` from
    /// A's SYN once it is polled: see [`Pair::open_with`].
    pub fn open_with(setup: Setup<R>) -> Pair<R> {
        let now = START;
        let mut a = Side::new(
            Connection::connect(40000, 80, setup.iss_a, now, setup.config_a),
            setup.recv_a,
        );
        let (syn, _) = a.poll(now).expect("SYN");
        assert!(syn.flags.contains(TcpFlags::SYN));
        let b = Side::new(
            Connection::accept(&syn, setup.iss_b, now, setup.config_b),
            setup.recv_b,
        );
        let mut p = Pair {
            a,
            b,
            now,
            drop: Box::new(|_, _, _| false),
            sent: 1,
            max_in_flight: [0; 2],
        };
        p.run(1000);
        p
    }

    /// Exchanges segments until both are quiet, advancing time to the next
    /// deadline when nothing moves (up to 120 s at a time). Fails if it
    /// takes more than `steps` rounds.
    pub fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            if !self.step() {
                let next = self.next_deadline();
                match next {
                    Some(at) if at > self.now && at < self.now + Duration::from_secs(120) => {
                        self.now = at
                    }
                    Some(at) if at <= self.now => {}
                    _ => return,
                }
            }
        }
        panic!(
            "not idle after {steps} steps: a {} b {}",
            self.a.conn.state(),
            self.b.conn.state()
        );
    }

    /// Runs until `done` holds (checked between rounds) or `steps` rounds
    /// passed; returns whether it held.
    pub fn run_until(&mut self, steps: usize, mut done: impl FnMut(&Pair<R>) -> bool) -> bool {
        for _ in 0..steps {
            if done(self) {
                return true;
            }
            if !self.step() {
                let next = self.next_deadline();
                match next {
                    Some(at) if at > self.now => self.now = at,
                    Some(_) => {}
                    None => return done(self),
                }
            }
        }
        done(self)
    }

    /// The earlier of both sides' deadlines.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.a.conn.next_deadline(), self.b.conn.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// One round at the current time: A sends all it has, then B.
    /// Returns whether anything was sent.
    pub fn step(&mut self) -> bool {
        let mut moved = false;
        while let Some((repr, payload)) = self.a.poll(self.now) {
            moved = true;
            self.sent += 1;
            self.max_in_flight[0] = self.max_in_flight[0].max(self.a.conn.in_flight());
            if !(self.drop)(true, self.sent, &repr) {
                self.b.deliver(self.now, &repr, &payload);
            }
        }
        while let Some((repr, payload)) = self.b.poll(self.now) {
            moved = true;
            self.sent += 1;
            self.max_in_flight[1] = self.max_in_flight[1].max(self.b.conn.in_flight());
            if !(self.drop)(false, self.sent, &repr) {
                self.a.deliver(self.now, &repr, &payload);
            }
        }
        moved
    }
}

/// Bytes that differ from their neighbours, so misplaced data shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}
