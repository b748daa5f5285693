//! The TCP state machine at the level of segments: two `Connection`s
//! joined by a test harness that carries `TcpRepr`s and payload bytes,
//! with explicit time. No devices, no IP.

use core::time::Duration;
use std::collections::VecDeque;

use ethox::layer::tcp::buffer::{RecvBuffer, SendBuffer};
use ethox::layer::tcp::connection::{CloseReason, Config, Connection, State, Transmit};
use ethox::time::Instant;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};

/// A send buffer over a Vec: everything written and not acknowledged.
#[derive(Default)]
struct VecSend {
    data: VecDeque<u8>,
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

/// A receive buffer over a Vec with a capacity and an out-of-order map.
struct VecRecv {
    data: Vec<u8>,
    capacity: usize,
    /// Out-of-order bytes by offset past the edge.
    held: std::collections::BTreeMap<usize, u8>,
}

impl VecRecv {
    fn new(capacity: usize) -> Self {
        VecRecv {
            data: Vec::new(),
            capacity,
            held: Default::default(),
        }
    }
}

impl RecvBuffer for VecRecv {
    fn window(&self) -> usize {
        self.capacity - self.data.len()
    }
    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        let window = self.window();
        for (i, &b) in data.iter().enumerate() {
            if offset + i < window {
                self.held.insert(offset + i, b);
            }
        }
        let mut advanced = 0;
        while let Some(b) = self.held.remove(&advanced) {
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
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for &k in self.held.keys() {
            match ranges.last_mut() {
                Some(r) if r.1 == k => r.1 += 1,
                _ => ranges.push((k, k + 1)),
            }
        }
        let n = ranges.len().min(out.len());
        out[..n].copy_from_slice(&ranges[..n]);
        n
    }
}

struct Side {
    conn: Connection,
    send: VecSend,
    recv: VecRecv,
}

impl Side {
    fn poll(&mut self, now: Instant) -> Option<(TcpRepr, Vec<u8>)> {
        let t: Transmit = self.conn.poll_transmit(now, &self.send, &self.recv, 1480)?;
        let mut payload = vec![0; t.repr.payload_len];
        let n = self.send.read_at(t.offset, &mut payload);
        assert_eq!(n, payload.len(), "send buffer short for {:?}", t);
        self.conn.on_transmitted(now, &t);
        Some((t.repr, payload))
    }

    fn deliver(&mut self, now: Instant, repr: &TcpRepr, payload: &[u8]) {
        let _ = self
            .conn
            .on_segment(now, repr, payload, &mut self.send, &mut self.recv);
    }
}

/// Decides whether a segment is lost: (sent by A, segment count, header).
type LossFn = Box<dyn FnMut(bool, u64, &TcpRepr) -> bool>;

struct Pair {
    a: Side,
    b: Side,
    now: Instant,
    /// Decides the fate of each segment: (from_a, index) -> deliver?
    drop: LossFn,
    sent: u64,
}

impl Pair {
    fn new(config: Config) -> Pair {
        let now = Instant::from_secs(100);
        let a = Connection::connect(40000, 80, SeqNumber(0xffff_f000), now, config);
        let syn_probe = Side {
            conn: a,
            send: VecSend::default(),
            recv: VecRecv::new(1 << 20),
        };
        Pair {
            a: syn_probe,
            b: Side {
                conn: Connection::connect(1, 1, SeqNumber(0), now, config),
                send: VecSend::default(),
                recv: VecRecv::new(1 << 20),
            },
            now,
            drop: Box::new(|_, _, _| false),
            sent: 0,
        }
    }

    /// Runs the handshake: A's SYN creates B through `accept`.
    fn open(config: Config) -> Pair {
        let mut p = Pair::new(config);
        let (syn, _) = p.a.poll(p.now).expect("SYN");
        assert!(syn.flags.contains(TcpFlags::SYN));
        p.b.conn = Connection::accept(&syn, SeqNumber(0x7000_0000), p.now, config);
        p.run(1000);
        assert_eq!(p.a.conn.state(), State::Established);
        assert_eq!(p.b.conn.state(), State::Established);
        p
    }

    /// Exchanges segments until both are quiet, advancing time to the next
    /// deadline when nothing moves. Fails if it takes more than `steps`.
    fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            let mut moved = false;
            while let Some((repr, payload)) = self.a.poll(self.now) {
                moved = true;
                self.sent += 1;
                if !(self.drop)(true, self.sent, &repr) {
                    self.b.deliver(self.now, &repr, &payload);
                }
            }
            while let Some((repr, payload)) = self.b.poll(self.now) {
                moved = true;
                self.sent += 1;
                if !(self.drop)(false, self.sent, &repr) {
                    self.a.deliver(self.now, &repr, &payload);
                }
            }
            if !moved {
                let next = [self.a.conn.next_deadline(), self.b.conn.next_deadline()]
                    .into_iter()
                    .flatten()
                    .min();
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
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn handshake_negotiates_options() {
    let p = Pair::open(Config::default());
    let (sack, ts, scale, ecn) = p.a.conn.negotiated();
    assert!(sack && ts && !ecn);
    assert_eq!(scale, Some((7, 7)));
    assert_eq!(p.a.conn.stats().mss, 1460);
}

#[test]
fn bulk_transfer_and_close() {
    let mut p = Pair::open(Config::default());
    let data = pattern(300_000);
    p.a.send.data.extend(&data);
    p.a.conn.close();
    p.run(100_000);
    assert_eq!(p.b.recv.data, data);
    assert_eq!(p.b.conn.state(), State::CloseWait);
    assert_eq!(p.a.conn.state(), State::FinWait2);
    p.b.conn.close();
    p.run(100_000);
    assert_eq!(p.b.conn.state(), State::Closed);
    assert_eq!(p.b.conn.close_reason(), Some(CloseReason::Normal));
    // A waits in TIME-WAIT, then closes when its timer runs out.
    assert_eq!(p.a.conn.state(), State::Closed);
}

#[test]
fn transfer_survives_loss() {
    for seed in 1..20u64 {
        let mut p = Pair::open(Config::default());
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        p.drop = Box::new(move |_, _, _| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % 10 == 0
        });
        let data = pattern(200_000);
        p.a.send.data.extend(&data);
        p.a.conn.close();
        p.run(200_000);
        p.b.conn.close();
        p.run(200_000);
        eprintln!(
            "a {} {:?} {:?}\nb {} {:?}",
            p.a.conn.state(),
            p.a.conn.stats(),
            p.a.conn.next_deadline(),
            p.b.conn.state(),
            p.b.conn.stats()
        );
        assert_eq!(p.b.recv.data.len(), data.len(), "seed {seed}");
        assert!(p.b.recv.data == data, "seed {seed}");
        assert_eq!(p.a.conn.state(), State::Closed, "seed {seed}");
        assert_eq!(p.b.conn.state(), State::Closed, "seed {seed}");
    }
}
