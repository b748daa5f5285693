//! Blind attacks on live connections (RFC 5961), through the whole stack
//! on the in-memory link, while data flows both ways.
//!
//! The attacker knows the four-tuple (addresses, ports and the client's
//! MAC: it sits on the link or spoofs well) but not the sequence numbers.
//! The test gives it the most a lucky guesser could have: it places its
//! segments relative to the server's real RCV.NXT (computed from what the
//! server's application received) and keeps the client's latest TSval
//! (read off the wire), so every guess lands where RFC 5961 has to stop
//! it. `tcp_rules.rs` checks each rule with one segment; here the attacks
//! go on for seconds during transfers:
//!
//! * RSTs at many positions inside the window but not at RCV.NXT: each
//!   draws a challenge ACK (rate-limited), none kills the connection;
//! * SYNs inside the window: challenge ACKs, the connection survives;
//! * data at exactly RCV.NXT whose ACK number lies outside SND.UNA -
//!   MAX.SND.WND ..= SND.NXT, carrying a TSval far in the future: dropped,
//!   and neither the bytes nor the timestamp may stick;
//! * data without the ACK bit: dropped;
//! * a RST at exactly RCV.NXT: accepted, the connection is reset (that is
//!   what RFC 5961 3.2 prescribes; the defence is that one guess in 2^32
//!   hits);
//! * a guessing burst against an idle connection: every answer the
//!   server sends comes out of the challenge ACK allowance, at most 10 a
//!   second (RFC 5961 section 7).
//!
//! Afterwards the attacked transfers are byte-identical and close
//! normally. Time is explicit (one round is [`TICK`]).

mod common;

use core::time::Duration;
use std::collections::BTreeMap;

use common::frames::{self, End};
use common::tcp_host::{A, B, Host, Net, Sizes, pattern};
use ethox::layer::tcp::Event;
use ethox::layer::tcp::Handle;
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::nic::fault::FaultRng;
use ethox::time::Instant;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};
use ethox::wire::{EthernetAddress, IpAddr};

const PORT: u16 = 80;
/// One round: both hosts send and receive once.
const TICK: Duration = Duration::from_millis(10);
/// RFC 5961 section 7 as the stack implements it: challenge ACKs (and
/// other answers to suspicious segments) per connection per second.
const ALLOWANCE: u64 = 10;

const CLIENT: End = End {
    mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
    ip: A,
};
const SERVER: End = End {
    mac: EthernetAddress([2, 0, 0, 0, 0, 2]),
    ip: B,
};

/// A client connection and the server's end of it.
#[derive(Debug, Clone, Copy)]
struct Pair {
    client: Handle,
    server: Handle,
    /// The client's port: the attacker's source port.
    port: u16,
}

/// What the observer on the wire learned.
#[derive(Default)]
struct Observer {
    /// Initial sequence numbers by client port: the client's (from its
    /// SYN) and the server's (from its SYN-ACK).
    iss_client: BTreeMap<u16, SeqNumber>,
    iss_server: BTreeMap<u16, SeqNumber>,
    /// The client's latest TSval, by client port (each connection's
    /// clock has an offset of its own).
    tsval: BTreeMap<u16, u32>,
    /// Segments the server sent, by (client port, simulated second).
    server_sent: BTreeMap<(u16, u64), u64>,
}

impl Observer {
    /// Notes a segment the client sent.
    fn client_sent(&mut self, seen: &frames::Seen) {
        let r = &seen.repr;
        if r.flags.contains(TcpFlags::SYN) && r.ack_number.is_none() {
            self.iss_client.insert(r.src_port, r.seq_number);
        }
        if let Some((tsval, _)) = r.timestamp {
            self.tsval.insert(r.src_port, tsval);
        }
    }

    /// Notes a segment the server sent at `now`.
    fn server_sent(&mut self, seen: &frames::Seen, now: Instant) {
        let r = &seen.repr;
        if r.flags.contains(TcpFlags::SYN) && r.ack_number.is_some() {
            self.iss_server.insert(r.dst_port, r.seq_number);
        }
        *self
            .server_sent
            .entry((r.dst_port, now.secs()))
            .or_default() += 1;
    }
}

/// The two hosts, the observer and the attacker's dice.
struct Field {
    net: Net,
    wire: Observer,
    rng: FaultRng,
    /// Attack segments put on the wire, by client port and kind.
    injected: BTreeMap<(u16, &'static str), u64>,
}

impl Field {
    fn new() -> Field {
        let sizes = Sizes {
            connections: 4,
            // Small windows, so that the transfers last seconds of
            // simulated time (one window a round).
            send: 8 * 1024,
            window: 8 * 1024,
        };
        let config = Config::default();
        let net = Net::with(
            Host::new(1, IpAddr::V4(A), sizes, config),
            Host::new(2, IpAddr::V4(B), sizes, config),
        );
        Field {
            net,
            wire: Observer::default(),
            rng: FaultRng::new(5961),
            injected: BTreeMap::new(),
        }
    }

    /// One round at the current time, the observer watching; then the
    /// clock moves on by a tick. Returns the frames that moved.
    fn round(&mut self) -> usize {
        let Field { net, wire, .. } = self;
        let now = net.now;
        net.a.app.pump();
        net.b.app.pump();
        let mut moved = net.a.send();
        moved += frames::carry(&mut net.a.nic, &mut net.b.nic, |s| wire.client_sent(s));
        moved += net.b.receive();
        moved += net.b.send();
        moved += frames::carry(&mut net.b.nic, &mut net.a.nic, |s| wire.server_sent(s, now));
        moved += net.a.receive();
        net.set_time(now + TICK);
        moved
    }

    /// Opens a connection from the client to the server and runs the
    /// handshake.
    fn open(&mut self) -> Pair {
        let client = self.net.dial(PORT).expect("a free slot");
        for _ in 0..10 {
            self.round();
        }
        assert_eq!(self.net.a.tcp.state(client), State::Established);
        let server = self.net.b.tcp.accept(PORT).expect("an accepted connection");
        let port = self.net.a.tcp.tuple(client).expect("a tuple").local_port;
        assert_eq!(
            self.net.b.tcp.tuple(server).map(|t| t.remote_port),
            Some(port)
        );
        assert!(self.wire.iss_client.contains_key(&port));
        assert!(self.wire.iss_server.contains_key(&port));
        Pair {
            client,
            server,
            port,
        }
    }

    /// In-order bytes the server's application got on `p` (read or not).
    fn server_in_order(&self, p: Pair) -> usize {
        let c = &self.net.b.app.conns[p.server.index as usize];
        c.received.len() + c.recv.len()
    }

    /// In-order bytes the client's application got on `p`.
    fn client_in_order(&self, p: Pair) -> usize {
        let c = &self.net.a.app.conns[p.client.index as usize];
        c.received.len() + c.recv.len()
    }

    /// The server's RCV.NXT on `p`, exactly.
    fn server_rcv_nxt(&self, p: Pair) -> SeqNumber {
        self.wire.iss_client[&p.port] + 1u32 + self.server_in_order(p)
    }

    /// Room in the server's receive buffer on `p`: every sequence number
    /// from RCV.NXT up to this far is inside its window.
    fn server_window(&self, p: Pair) -> usize {
        let c = &self.net.b.app.conns[p.server.index as usize];
        c.recv.capacity() - c.recv.len()
    }

    /// An ACK number the server cannot accept on `p`: at least 16 MiB
    /// from its SND.UNA either way (its windows and flight are far
    /// smaller), anywhere else in the sequence space.
    fn bad_ack(&mut self, p: Pair) -> SeqNumber {
        // SND.UNA lies at most a flight below what the client received.
        let una = self.wire.iss_server[&p.port] + 1u32 + self.client_in_order(p);
        let margin = 1usize << 24;
        una + margin + self.rng.below((1usize << 32) - 2 * margin)
    }

    /// A segment from the client's port on `p` to the server.
    fn forged(&self, p: Pair, flags: TcpFlags, seq: SeqNumber, ack: Option<SeqNumber>) -> TcpRepr {
        TcpRepr {
            src_port: p.port,
            dst_port: PORT,
            flags,
            seq_number: seq,
            ack_number: ack,
            window_len: 1000,
            ..TcpRepr::default()
        }
    }

    /// Puts `repr` (with `payload`) into the server's receive queue, as
    /// if it came from the client.
    fn inject(&mut self, kind: &'static str, repr: &TcpRepr, payload: &[u8]) {
        let frame = frames::tcp_frame(CLIENT, SERVER, repr, payload);
        assert!(self.net.b.nic.inject(&frame), "the server's queue is full");
        *self.injected.entry((repr.src_port, kind)).or_default() += 1;
    }

    /// A RST inside the window, not at RCV.NXT.
    fn rst_in_window(&mut self, p: Pair) {
        let offset = 1 + self.rng.below(self.server_window(p) - 1);
        let seq = self.server_rcv_nxt(p) + offset;
        let rst = self.forged(p, TcpFlags::RST, seq, None);
        self.inject("rst in window", &rst, &[]);
    }

    /// A SYN inside the window, with the client's current TSval so that
    /// PAWS lets it through to the RFC 5961 check.
    fn syn_in_window(&mut self, p: Pair) {
        let offset = self.rng.below(self.server_window(p));
        let seq = self.server_rcv_nxt(p) + offset;
        let mut syn = self.forged(p, TcpFlags::SYN, seq, None);
        syn.max_seg_size = Some(1460);
        syn.timestamp = Some((self.wire.tsval[&p.port], 0));
        self.inject("syn in window", &syn, &[]);
    }

    /// Data at exactly RCV.NXT with an unacceptable ACK number and a TSval
    /// far ahead: if the stack took the timestamp before judging the ACK,
    /// PAWS would reject every real segment after it.
    fn data_bad_ack(&mut self, p: Pair) {
        let seq = self.server_rcv_nxt(p);
        let ack = self.bad_ack(p);
        let mut data = self.forged(p, TcpFlags::PSH, seq, Some(ack));
        data.timestamp = Some((self.wire.tsval[&p.port].wrapping_add(1 << 30), 0));
        self.inject("data with bad ack", &data, &[0xee; 512]);
    }

    /// Data at exactly RCV.NXT without the ACK bit.
    fn data_without_ack(&mut self, p: Pair) {
        let seq = self.server_rcv_nxt(p);
        let mut data = self.forged(p, TcpFlags::PSH, seq, None);
        data.timestamp = Some((self.wire.tsval[&p.port], 0));
        self.inject("data without ack", &data, &[0xdd; 512]);
    }

    /// Data at RCV.NXT with an acceptable-looking ACK but a TSval older
    /// than the client's: PAWS drops it.
    fn data_old_timestamp(&mut self, p: Pair) {
        let seq = self.server_rcv_nxt(p);
        let una = self.wire.iss_server[&p.port] + 1u32 + self.client_in_order(p);
        let mut data = self.forged(p, TcpFlags::PSH, seq, Some(una));
        data.timestamp = Some((self.wire.tsval[&p.port].wrapping_sub(1 << 30), 0));
        self.inject("data with old tsval", &data, &[0xcc; 512]);
    }

    /// A RST at exactly RCV.NXT: the one guess that wins.
    fn rst_exact(&mut self, p: Pair) {
        let seq = self.server_rcv_nxt(p);
        let rst = self.forged(p, TcpFlags::RST, seq, None);
        self.inject("rst at rcv.nxt", &rst, &[]);
    }

    /// Challenge ACKs the server's end of `p` sent so far.
    fn challenge_acks(&self, p: Pair) -> u64 {
        self.net
            .b
            .tcp
            .connection(p.server)
            .map_or(0, |c| c.stats().challenge_acks)
    }

    /// Everything the application of `host` heard about `h`.
    fn events(host: &Host, h: Handle) -> Vec<Event> {
        host.app
            .events
            .iter()
            .filter(|(e, _)| *e == h)
            .map(|&(_, ev)| ev)
            .collect()
    }
}

/// The bytes each way of the attacked transfer.
const LEN: usize = 2 << 20;

/// What an attacked run left behind.
struct Run {
    f: Field,
    /// The attacked transfer.
    bulk: Pair,
    /// A second connection: idle, or a transfer of its own (`busy`).
    side: Pair,
    /// Challenge ACKs the bulk transfer's server end sent, by second.
    challenges: BTreeMap<u64, u64>,
}

/// Opens the bulk pair and the side pair (moving [`LEN`] bytes each way
/// too if `busy`), then runs rounds until the bulk transfer is done, with
/// `attack(field, bulk, side)` putting forged segments on the wire before
/// each. The bulk transfer's server end must stay established throughout,
/// and its bytes must arrive intact both ways. Only the server's wire
/// counts of the attack are kept (`server_sent` starts empty).
fn attacked(busy: bool, mut attack: impl FnMut(&mut Field, Pair, Pair)) -> Run {
    let mut f = Field::new();
    f.net.b.tcp.listen(PORT, 4).unwrap();
    let bulk = f.open();
    let side = f.open();
    let up = pattern(LEN, 1);
    let down = pattern(LEN, 2);
    f.net.a.app.write(bulk.client, &up);
    f.net.b.app.write(bulk.server, &down);
    if busy {
        f.net.a.app.write(side.client, &pattern(LEN, 3));
        f.net.b.app.write(side.server, &pattern(LEN, 4));
    }
    f.wire.server_sent.clear();
    let mut challenges = BTreeMap::<u64, u64>::new();
    let mut rounds = 0;
    while f.client_in_order(bulk) < LEN || f.server_in_order(bulk) < LEN {
        rounds += 1;
        assert!(
            rounds < 20_000,
            "the bulk transfer stalled: {} of {LEN} up, {} down; server {:?}",
            f.server_in_order(bulk),
            f.client_in_order(bulk),
            f.net.b.tcp.connection(bulk.server).map(|c| c.stats()),
        );
        attack(&mut f, bulk, side);
        let second = f.net.now.secs();
        let before = f.challenge_acks(bulk);
        f.round();
        *challenges.entry(second).or_default() += f.challenge_acks(bulk) - before;
        assert_eq!(
            f.net.b.tcp.state(bulk.server),
            State::Established,
            "the bulk transfer's server end fell"
        );
    }
    assert!(
        challenges.len() >= 3,
        "the attack lasted {} s only",
        challenges.len()
    );
    // Not one injected byte among the real ones.
    f.round();
    assert!(
        f.net.b.app.received(bulk.server) == &up[..],
        "upload differs"
    );
    assert!(
        f.net.a.app.received(bulk.client) == &down[..],
        "download differs"
    );
    let injected: BTreeMap<_, _> = f
        .injected
        .iter()
        .filter(|(k, _)| k.0 == bulk.port)
        .collect();
    eprintln!(
        "{rounds} rounds, {} simulated seconds; injected {injected:?}; bulk server {:?}",
        challenges.len(),
        f.net.b.tcp.connection(bulk.server).map(|c| c.stats())
    );
    Run {
        f,
        bulk,
        side,
        challenges,
    }
}

impl Run {
    /// Closes `pairs` from both ends and runs until the tables are empty:
    /// each pair must end normally on both hosts.
    fn close_normally(&mut self, pairs: &[Pair]) {
        let net = &mut self.f.net;
        for p in pairs {
            net.a.tcp.close(p.client).unwrap();
            net.b.tcp.close(p.server).unwrap();
        }
        net.run(10_000, Duration::from_secs(200));
        for &p in pairs {
            ended(net, p, CloseReason::Normal);
        }
        assert!(net.a.tcp.is_empty() && net.b.tcp.is_empty());
    }
}

/// Both ends of `p` are gone, and the last their applications heard was
/// that they closed for `reason`.
fn ended(net: &Net, p: Pair, reason: CloseReason) {
    for (host, h) in [(&net.a, p.client), (&net.b, p.server)] {
        assert_eq!(host.tcp.state(h), State::Closed);
        let events = Field::events(host, h);
        assert_eq!(events.last(), Some(&Event::Closed(reason)), "{events:?}");
    }
}

/// RSTs and SYNs at guessed positions inside the window, six a round for
/// seconds: each draws a challenge ACK while the allowance lasts (at most
/// [`ALLOWANCE`] a second, at least one), none resets anything, and the
/// transfer goes on to the end.
#[test]
fn in_window_rsts_and_syns_draw_limited_challenge_acks() {
    let mut run = attacked(false, |f, bulk, _| {
        for _ in 0..3 {
            f.rst_in_window(bulk);
            f.syn_in_window(bulk);
        }
    });
    for (&second, &n) in &run.challenges {
        assert!(
            (1..=ALLOWANCE).contains(&n),
            "{n} challenge ACKs in second {second}"
        );
    }
    let (bulk, side) = (run.bulk, run.side);
    run.close_normally(&[bulk, side]);
}

/// Data at exactly RCV.NXT, three segments a round whose ACK numbers the
/// server cannot accept (and whose TSval lies far ahead), and three
/// without the ACK bit: all dropped, the bad ACKs counted as rejected.
/// The stream stays the sender's, and the forged TSval does not stick:
/// if it did, PAWS would drop every real segment after it and the
/// transfer would stall.
#[test]
fn data_with_unacceptable_acks_is_dropped() {
    let mut run = attacked(false, |f, bulk, _| {
        for _ in 0..3 {
            f.data_bad_ack(bulk);
            f.data_without_ack(bulk);
        }
    });
    let bulk = run.bulk;
    let server = run.f.net.b.tcp.connection(bulk.server).unwrap().stats();
    let forged = run.f.injected[&(bulk.port, "data with bad ack")];
    assert!(forged > 1000);
    assert!(server.rejected >= forged, "{forged} forged: {server:?}");
    let side = run.side;
    run.close_normally(&[bulk, side]);
}

/// Guessing bursts against an idle connection for seconds: every round
/// a RST and a SYN inside the window, data with an unacceptable ACK and
/// data with a stale TSval. Everything the server sends on that
/// connection answers the attacker, and all of it comes out of one
/// allowance: at least one segment a second, at most [`ALLOWANCE`] (RFC
/// 5961 section 7), whatever the kind of bait.
#[test]
fn guessing_bursts_are_answered_within_the_allowance() {
    let mut run = attacked(false, |f, _, idle| {
        f.rst_in_window(idle);
        f.syn_in_window(idle);
        f.data_bad_ack(idle);
        f.data_old_timestamp(idle);
    });
    let idle = run.side;
    assert_eq!(run.f.net.b.tcp.state(idle.server), State::Established);
    let wire = &run.f.wire;
    let injected: u64 = run
        .f
        .injected
        .iter()
        .filter(|(k, _)| k.0 == idle.port)
        .map(|(_, n)| n)
        .sum();
    let answers: Vec<_> = wire
        .server_sent
        .iter()
        .filter(|(k, _)| k.0 == idle.port)
        .map(|(k, n)| (k.1, *n))
        .collect();
    eprintln!("{injected} forged segments; answers by second: {answers:?}");
    for &second in run.challenges.keys() {
        let n = wire
            .server_sent
            .get(&(idle.port, second))
            .copied()
            .unwrap_or(0);
        assert!(
            (1..=ALLOWANCE).contains(&n),
            "{n} answers in second {second}: {:?}",
            wire.server_sent
        );
    }
    let bulk = run.bulk;
    run.close_normally(&[bulk, idle]);
}

/// A RST at exactly RCV.NXT is the segment RFC 5961 3.2 accepts: the
/// server's end is reset at once, and the client's at its next segment,
/// which draws a RST from the server. The other transfer is untouched.
#[test]
fn exact_rst_is_accepted_and_resets_both_ends() {
    let mut doomed_at = None;
    let mut run = attacked(true, |f, _, side| {
        if doomed_at.is_none() && f.server_in_order(side) >= 256 * 1024 {
            f.rst_exact(side);
            doomed_at = Some(f.net.now);
        }
    });
    assert!(doomed_at.is_some(), "the doomed transfer never moved");
    ended(&run.f.net, run.side, CloseReason::Reset);
    let bulk = run.bulk;
    run.close_normally(&[bulk]);
}
