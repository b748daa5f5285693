//! The two-host TCP harness of the `tcp_pair` fuzz target (and of the
//! regression tests that replay its crashes).
//!
//! Hosts A and B (`ethox/tests/common/tcp_host.rs`) on the in-memory
//! link; A dials B's port 80 (listened on with a backlog of 1) and B's
//! application accepts. The link is the fuzzer's: every frame a host sends
//! waits on its direction's wire until an operation delivers, drops,
//! duplicates, reorders or corrupts it. The applications write a stream
//! whose every byte depends on its position, read it, close and abort as
//! the input says.
//!
//! Input: two configuration bytes (A's, B's; bit 0 of A's picks IPv6:
//! see [`config`]), then operations of a code byte (bit 0 the direction
//! or side: 0 is A to B, or A; the rest the operation) and its fields:
//!
//! | op | what | fields |
//! |----|------|--------|
//! | 0 | deliver the next frame | |
//! | 1 | drop it | |
//! | 2 | deliver a copy, keep it | |
//! | 3 | swap it with a later one | u8 which |
//! | 4 | corrupt one octet, deliver | u16 where, u8 xor |
//! | 5 | time passes | u8 `t`: `t * t / 4` ms (0 to 16 s) |
//! | 6 | the application writes | u16 length (modulo 16 KiB) |
//! | 7 | the application reads | u16 length |
//! | 8 | the application closes (after what it wrote) | |
//! | 9 | the application aborts | |
//! | 10 | every frame on both wires is delivered, a few rounds | |
//! | 11 | every frame on this wire is delivered | |
//!
//! Checked after every operation: every frame a host sends parses
//! cleanly, and whatever an application reads is exactly the next bytes
//! of the other's stream (never wrong data, never more than was written).
//! At the end the link runs clean, the applications read everything and
//! time moves from deadline to deadline (bounded in rounds and simulated
//! time); then, unless a connection reported an error (reset, time-out)
//! or an application aborted, each direction must have delivered every
//! byte written.

use core::time::Duration;
use std::collections::VecDeque;

use ethox::layer::tcp::connection::{CloseReason, Config};
use ethox::layer::tcp::{Event, Handle};
use ethox::time::Instant;
use ethox::wire::IpAddr;

use super::{clean, tcp_host};

use tcp_host::{Host, Net, Sizes};

/// Operations per input at most.
const MAX_OPS: usize = 1000;
/// Frames a wire holds; more are dropped, as by a full router queue.
const WIRE_FRAMES: usize = 64;
/// Bytes each application writes at most.
const MAX_STREAM: u64 = 256 * 1024;
/// Rounds of the clean run at the end at most.
const FINAL_ROUNDS: usize = 20_000;
/// Simulated time the clean run may take: past every user timeout,
/// retransmission back-off and TIME-WAIT of the default configuration.
const FINAL_TIME: Duration = Duration::from_secs(30 * 60);

/// Reads an input front to back; past its end every field is zero.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
}

/// Byte `pos` of the stream in direction `dir` (0: A to B): a mix of the
/// position, so bytes delivered in the wrong place or twice show.
pub fn stream_byte(dir: usize, pos: u64) -> u8 {
    let mut z = pos.wrapping_add(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(dir as u64 + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z >> 56) as u8
}

/// A connection configuration from one input byte: bit 1 turns SACK
/// off, 2 timestamps, 3 window scaling, 4 Nagle, 5 delayed ACKs; bit 6
/// asks for ECN; bit 7 shortens the RTO floor to 10 ms.
pub fn config(bits: u8) -> Config {
    let mut c = Config::default();
    c.sack = bits & 2 == 0;
    c.timestamps = bits & 4 == 0;
    if bits & 8 != 0 {
        c.window_scale = None;
    }
    c.nagle = bits & 16 == 0;
    if bits & 32 != 0 {
        c.delayed_ack = None;
    }
    c.ecn = bits & 64 != 0;
    if bits & 128 != 0 {
        c.rto.min = Duration::from_millis(10);
    }
    c
}

/// What happened to one side's application and connection.
#[derive(Debug, Default, Clone, Copy)]
struct Side {
    handle: Option<Handle>,
    /// Bytes written into the stream (pending bytes included).
    written: u64,
    /// Bytes of the other side's stream read.
    read: u64,
    /// The application asked to close; done once its bytes are queued.
    close_wanted: bool,
    closed: bool,
    aborted: bool,
}

/// How an input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Bytes delivered (and read) A to B and B to A.
    pub delivered: [u64; 2],
    /// A connection reported an error or an application aborted.
    pub broken: bool,
}

/// Two hosts, the two wires, and what each side did.
pub struct Pair {
    net: Net,
    /// Frames in flight: `[A to B, B to A]`.
    wires: [VecDeque<Vec<u8>>; 2],
    sides: [Side; 2],
    /// Frames the hosts sent (for the tests).
    pub sent: usize,
}

impl Pair {
    /// A and B with the configurations of the two bytes; A's SYN is on
    /// the wire.
    pub fn new(a: u8, b: u8) -> Pair {
        let sizes = Sizes {
            connections: 2,
            send: 8 * 1024,
            window: 4 * 1024,
        };
        let (addr_a, addr_b) = if a & 1 == 1 {
            (IpAddr::V6(tcp_host::A6), IpAddr::V6(tcp_host::B6))
        } else {
            (IpAddr::V4(tcp_host::A), IpAddr::V4(tcp_host::B))
        };
        let mut net = Net::with(
            Host::new(1, addr_a, sizes, config(a)),
            Host::new(2, addr_b, sizes, config(b)),
        );
        net.b.tcp.listen(80, 1).expect("a free listener slot");
        let client = net.dial(80).expect("room to dial");
        let mut pair = Pair {
            net,
            wires: [VecDeque::new(), VecDeque::new()],
            sides: [Side::default(); 2],
            sent: 0,
        };
        pair.sides[0].handle = Some(client);
        pair.emit();
        pair
    }

    /// Runs one fuzz input; panics on a broken rule.
    pub fn run(data: &[u8]) -> Outcome {
        let mut input = Input(data);
        let (a, b) = (input.u8(), input.u8());
        let mut pair = Pair::new(a, b);
        for _ in 0..MAX_OPS {
            if input.0.is_empty() {
                break;
            }
            pair.op(&mut input);
            pair.emit();
        }
        pair.finish();
        Outcome {
            delivered: [pair.sides[1].read, pair.sides[0].read],
            broken: pair.broken(),
        }
    }

    fn host(&mut self, side: usize) -> &mut Host {
        if side == 0 {
            &mut self.net.a
        } else {
            &mut self.net.b
        }
    }

    fn op(&mut self, input: &mut Input<'_>) {
        let code = input.u8();
        let dir = usize::from(code & 1);
        match (code >> 1) % 12 {
            0 => {
                if let Some(f) = self.wires[dir].pop_front() {
                    self.deliver(dir, &f);
                }
            }
            1 => {
                self.wires[dir].pop_front();
            }
            2 => {
                if let Some(f) = self.wires[dir].front().cloned() {
                    self.deliver(dir, &f);
                }
            }
            3 => {
                let k = usize::from(input.u8());
                let wire = &mut self.wires[dir];
                if wire.len() > 1 {
                    let k = 1 + k % (wire.len() - 1);
                    wire.swap(0, k);
                }
            }
            4 => {
                let at = usize::from(input.u16());
                let xor = input.u8().max(1);
                if let Some(mut f) = self.wires[dir].pop_front() {
                    let len = f.len();
                    f[at % len] ^= xor;
                    self.deliver(dir, &f);
                }
            }
            5 => {
                let t = u64::from(input.u8());
                let now = self.net.now + Duration::from_millis(t * t / 4);
                self.net.set_time(now);
            }
            6 => {
                let len = u64::from(input.u16()) % (16 * 1024);
                self.write(dir, len);
            }
            7 => {
                let len = usize::from(input.u16());
                self.read(dir, len);
            }
            8 => self.sides[dir].close_wanted = true,
            9 => {
                if let Some(h) = self.sides[dir].handle
                    && self.host(dir).tcp.abort(h).is_ok()
                {
                    self.sides[dir].aborted = true;
                }
            }
            10 => {
                for _ in 0..4 {
                    self.deliver_all();
                    if self.emit() == 0 {
                        break;
                    }
                }
            }
            _ => {
                while let Some(f) = self.wires[dir].pop_front() {
                    self.deliver(dir, &f);
                }
            }
        }
    }

    /// `frame` reaches the other end of wire `dir`, which receives it.
    fn deliver(&mut self, dir: usize, frame: &[u8]) {
        let to = self.host(1 - dir);
        to.nic.inject(frame);
        to.receive();
    }

    /// Delivers every frame on both wires, in order.
    fn deliver_all(&mut self) -> usize {
        let mut moved = 0;
        for dir in 0..2 {
            while let Some(f) = self.wires[dir].pop_front() {
                self.deliver(dir, &f);
                moved += 1;
            }
        }
        moved
    }

    /// The applications do their part, then both hosts send what they
    /// have onto their wires. Returns how many frames they sent.
    fn emit(&mut self) -> usize {
        let mut sent = 0;
        for side in 0..2 {
            self.app_round(side);
            let host = self.host(side);
            host.send();
            let mut frames = Vec::new();
            while let Some(f) = host.nic.drain_one(|f| {
                clean::assert_clean(f);
                f.to_vec()
            }) {
                frames.push(f);
            }
            sent += frames.len();
            for f in frames {
                if self.wires[side].len() < WIRE_FRAMES {
                    self.wires[side].push_back(f);
                }
            }
        }
        self.sent += sent;
        sent
    }

    /// B accepts its connection; each side's pending bytes go into its
    /// send ring, and a wanted close happens once they all did.
    fn app_round(&mut self, side: usize) {
        if side == 1 && self.sides[1].handle.is_none() {
            self.sides[1].handle = self.net.b.tcp.accept(80);
            if self.sides[1].handle.is_some() {
                // One connection is all B serves: a stale SYN must not
                // open another in the slot whose buffers are B's.
                self.net.b.tcp.unlisten(80);
            }
        }
        let Some(h) = self.sides[side].handle else {
            return;
        };
        let s = self.sides[side];
        let host = self.host(side);
        let conn = &mut host.app.conns[h.index as usize];
        conn.pump_send();
        if s.close_wanted && !s.closed && conn.pending.is_empty() {
            let _ = host.tcp.close(h);
            self.sides[side].closed = true;
        }
    }

    /// `side`'s application writes `len` more bytes of its stream, unless
    /// it closed or aborted.
    fn write(&mut self, side: usize, len: u64) {
        let s = self.sides[side];
        let Some(h) = s.handle else {
            return;
        };
        if s.close_wanted || s.aborted {
            return;
        }
        let len = len.min(MAX_STREAM - s.written);
        let conn = &mut self.host(side).app.conns[h.index as usize];
        conn.pending
            .extend((s.written..s.written + len).map(|pos| stream_byte(side, pos)));
        self.sides[side].written += len;
    }

    /// `side`'s application reads up to `len` bytes; they must be the next
    /// ones of the other side's stream.
    fn read(&mut self, side: usize, len: usize) {
        let Some(h) = self.sides[side].handle else {
            return;
        };
        let mut chunk = vec![0u8; len];
        let n = self.host(side).app.conns[h.index as usize]
            .recv
            .read(&mut chunk);
        let from = 1 - side;
        let start = self.sides[side].read;
        for (i, &b) in chunk[..n].iter().enumerate() {
            let pos = start + i as u64;
            assert_eq!(
                b,
                stream_byte(from, pos),
                "side {side} read a wrong byte at offset {pos} of the stream"
            );
        }
        self.sides[side].read += n as u64;
        assert!(
            self.sides[side].read <= self.sides[from].written,
            "side {side} read {} bytes of a stream of {}",
            self.sides[side].read,
            self.sides[from].written
        );
    }

    /// Whether a connection reported an error or an application aborted.
    fn broken(&self) -> bool {
        let error = |host: &Host, side: &Side| {
            side.handle.is_some_and(|h| {
                host.app.events.iter().any(|&(eh, e)| {
                    eh == h && matches!(e, Event::Closed(r) if r != CloseReason::Normal)
                })
            })
        };
        self.sides.iter().any(|s| s.aborted)
            || error(&self.net.a, &self.sides[0])
            || error(&self.net.b, &self.sides[1])
    }

    /// The earlier of both hosts' deadlines.
    fn deadline(&self) -> Option<Instant> {
        [self.net.a.deadline(), self.net.b.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The clean run at the end, then the delivery check.
    fn finish(&mut self) {
        let until = self.net.now + FINAL_TIME;
        for _ in 0..FINAL_ROUNDS {
            let mut moved = self.deliver_all();
            for side in 0..2 {
                let before = self.sides[side].read;
                self.read(side, 1 << 16);
                moved += usize::from(self.sides[side].read != before);
            }
            moved += self.emit();
            if moved == 0 {
                match self.deadline() {
                    // Due, and nothing moved: an event loop would spin
                    // with its clock running.
                    Some(at) if at <= self.net.now => {
                        self.net.set_time(self.net.now + Duration::from_millis(1))
                    }
                    Some(at) if at <= until => self.net.set_time(at),
                    _ => break,
                }
            }
        }
        if self.broken() {
            return;
        }
        for side in 0..2 {
            let from = 1 - side;
            assert_eq!(
                self.sides[side].read,
                self.sides[from].written,
                "no error was reported, yet side {side} read {} of the {} bytes side {from} wrote \
                 (A {:?} {}, B {:?} {}; events A {:?} B {:?})",
                self.sides[side].read,
                self.sides[from].written,
                self.sides[0],
                self.net
                    .a
                    .tcp
                    .state(self.sides[0].handle.expect("A's handle")),
                self.sides[1],
                self.sides[1]
                    .handle
                    .map_or(ethox::layer::tcp::connection::State::Closed, |h| self
                        .net
                        .b
                        .tcp
                        .state(h)),
                self.net.a.app.events,
                self.net.b.app.events,
            );
        }
    }
}
