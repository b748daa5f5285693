//! One test per rule of the TCP specifications, at the level of segments:
//! a `Connection` driven with hand-built `TcpRepr`s at explicit instants
//! (a scripted peer, [`Lone`]), or two connections joined by the pair
//! harness. Each test is named after the rule it checks.

mod common;

use core::time::Duration;

use common::tcp_pair::{Pair, START, Setup, Side, VecRecv, VecSend, pattern};
use ethox::layer::tcp::buffer::{RecvBuffer, RingRecvBuffer};
use ethox::layer::tcp::congestion::Algorithm;
use ethox::layer::tcp::connection::{
    CloseReason, Config, Connection, DEFAULT_PEER_MSS, Reaction, State,
};
use ethox::time::Instant;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};

const US: u16 = 40000;
const PEER: u16 = 80;
const OUR_ISS: SeqNumber = SeqNumber(0xabcd_0000);
const PEER_ISS: SeqNumber = SeqNumber(0x1234_0000);

/// The default configuration changed by `f`.
fn config(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    f(&mut c);
    c
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What the scripted peer offers in its SYN or SYN-ACK.
#[derive(Clone, Copy)]
struct PeerOpts {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack: bool,
    timestamps: bool,
    ecn: bool,
    /// The window field of its SYN and of its later segments.
    window: u16,
}

impl Default for PeerOpts {
    fn default() -> Self {
        PeerOpts {
            mss: Some(1460),
            window_scale: Some(7),
            sack: true,
            timestamps: true,
            ecn: false,
            window: 65535,
        }
    }
}

/// A connection under test, and a scripted peer that builds its segments
/// by hand.
struct Lone<R: RecvBuffer = VecRecv> {
    side: Side<R>,
    now: Instant,
    opts: PeerOpts,
    /// The peer's next sequence number.
    peer_nxt: SeqNumber,
    /// The last TSval the connection sent: what the peer echoes.
    ts_echo: u32,
    /// The highest sequence number the connection sent, plus one.
    our_max: SeqNumber,
}

impl Lone {
    fn new(conn: Connection, opts: PeerOpts) -> Lone {
        Lone::with_recv(conn, opts, VecRecv::new(1 << 20))
    }

    /// An active open answered by the peer's SYN-ACK, and our ACK.
    fn client(config: Config, opts: PeerOpts) -> Lone {
        Lone::client_with(config, opts, VecRecv::new(1 << 20))
    }

    /// An active open, its SYN not sent yet.
    fn connecting(config: Config) -> Lone {
        Lone::new(
            Connection::connect(US, PEER, OUR_ISS, START, config),
            PeerOpts::default(),
        )
    }

    /// The scripted peer's SYN, at the start.
    fn peer_syn(opts: PeerOpts) -> TcpRepr {
        let mut syn = Lone::new(
            Connection::connect(US, PEER, OUR_ISS, START, Config::default()),
            opts,
        )
        .syn(None);
        if opts.ecn {
            syn.flags |= TcpFlags::ECE | TcpFlags::CWR;
        }
        syn
    }

    /// A connection opened by the peer's SYN, its SYN-ACK not sent yet.
    fn accepted(config: Config, opts: PeerOpts) -> Lone {
        let syn = Lone::peer_syn(opts);
        let l = Lone::new(Connection::accept(&syn, OUR_ISS, START, config), opts);
        assert_eq!(l.state(), State::SynReceived);
        l
    }

    /// A passive open by the peer's SYN, our SYN-ACK and its ACK.
    fn server(config: Config, opts: PeerOpts) -> Lone {
        let mut l = Lone::accepted(config, opts);
        let out = l.out();
        assert_eq!(out.len(), 1);
        assert!(out[0].0.flags.contains(TcpFlags::SYN));
        assert_eq!(out[0].0.ack_number, Some(PEER_ISS + 1u32));
        l.peer_nxt = PEER_ISS + 1u32;
        let ack = l.ack_all();
        let r = l.feed(&ack, &[]);
        assert!(r.established);
        assert_eq!(l.state(), State::Established);
        l
    }
}

impl<R: RecvBuffer> Lone<R> {
    fn with_recv(conn: Connection, opts: PeerOpts, recv: R) -> Lone<R> {
        Lone {
            side: Side::new(conn, recv),
            now: START,
            opts,
            peer_nxt: PEER_ISS,
            ts_echo: 0,
            our_max: OUR_ISS,
        }
    }

    /// [`Lone::client`] with a receive buffer of the caller's.
    fn client_with(config: Config, opts: PeerOpts, recv: R) -> Lone<R> {
        let mut l = Lone::with_recv(
            Connection::connect(US, PEER, OUR_ISS, START, config),
            opts,
            recv,
        );
        let out = l.out();
        assert_eq!(out.len(), 1);
        assert!(out[0].0.flags.contains(TcpFlags::SYN));
        let mut syn_ack = l.syn(Some(OUR_ISS + 1u32));
        if opts.ecn {
            syn_ack.flags |= TcpFlags::ECE;
        }
        let r = l.feed(&syn_ack, &[]);
        assert!(r.established);
        l.peer_nxt = PEER_ISS + 1u32;
        let out = l.out();
        assert_eq!(out.len(), 1, "the ACK of the SYN-ACK");
        assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
        assert_eq!(l.state(), State::Established);
        l
    }

    /// The peer's SYN (with `ack`: SYN-ACK) with its options.
    fn syn(&self, ack: Option<SeqNumber>) -> TcpRepr {
        TcpRepr {
            src_port: PEER,
            dst_port: US,
            flags: TcpFlags::SYN,
            seq_number: PEER_ISS,
            ack_number: ack,
            window_len: self.opts.window,
            window_scale: self.opts.window_scale,
            max_seg_size: self.opts.mss,
            sack_permitted: self.opts.sack,
            timestamp: self
                .opts
                .timestamps
                .then_some((self.peer_clock(), self.ts_echo)),
            ..TcpRepr::default()
        }
    }

    /// The peer's timestamp clock: milliseconds.
    fn peer_clock(&self) -> u32 {
        self.now.as_millis() as u32
    }

    fn conn(&self) -> &Connection {
        &self.side.conn
    }

    fn state(&self) -> State {
        self.side.conn.state()
    }

    /// Everything the connection sends now.
    fn out(&mut self) -> Vec<(TcpRepr, Vec<u8>)> {
        let out = self.side.drain(self.now);
        for (repr, _) in &out {
            let end = repr.seq_number + repr.segment_len();
            if self.our_max < end {
                self.our_max = end;
            }
            if let Some((tsval, _)) = repr.timestamp {
                self.ts_echo = tsval;
            }
        }
        out
    }

    /// A segment of the peer's at `peer_nxt` acknowledging `ack`.
    fn seg(&self, flags: TcpFlags, ack: SeqNumber) -> TcpRepr {
        TcpRepr {
            src_port: PEER,
            dst_port: US,
            flags,
            seq_number: self.peer_nxt,
            ack_number: Some(ack),
            window_len: self.opts.window,
            timestamp: self
                .opts
                .timestamps
                .then_some((self.peer_clock(), self.ts_echo)),
            ..TcpRepr::default()
        }
    }

    /// The peer acknowledges everything the connection sent.
    fn peer_acks_all(&mut self) -> Reaction {
        let ack = self.ack_all();
        self.feed(&ack, &[])
    }

    /// A pure ACK of everything the connection sent.
    fn ack_all(&self) -> TcpRepr {
        self.seg(TcpFlags::empty(), self.our_max)
    }

    fn feed(&mut self, repr: &TcpRepr, payload: &[u8]) -> Reaction {
        self.side.deliver(self.now, repr, payload)
    }

    /// The peer sends `len` bytes of data in order (acknowledging all).
    fn send_data(&mut self, len: usize) -> Reaction {
        let mut seg = self.ack_all();
        seg.payload_len = len;
        self.peer_nxt += len;
        self.feed(&seg, &pattern(len))
    }

    /// The peer sends its FIN (acknowledging all).
    fn send_fin(&mut self) -> Reaction {
        let seg = self.seg(TcpFlags::FIN, self.our_max);
        self.peer_nxt += 1u32;
        self.feed(&seg, &[])
    }

    /// The application queues `len` bytes.
    fn write(&mut self, len: usize) {
        self.side.send.write(&pattern(len));
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Moves the clock to the connection's next deadline.
    fn skip_to_deadline(&mut self) -> Instant {
        let at = self.conn().next_deadline().expect("a deadline");
        // A deadline in the past is due now.
        self.now = self.now.max(at);
        self.now
    }
}

/// Only pure ACKs (no data, SYN, FIN or RST) in `out`.
fn only_acks(out: &[(TcpRepr, Vec<u8>)]) -> bool {
    out.iter().all(|(r, _)| {
        r.segment_len() == 0 && !r.flags.contains(TcpFlags::RST) && r.ack_number.is_some()
    })
}

/// A connection (active open) brought into `state` by the scripted peer.
fn in_state(state: State) -> Lone {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    match state {
        State::Established => {}
        State::FinWait1 => {
            l.side.conn.close();
            assert!(l.out()[0].0.flags.contains(TcpFlags::FIN));
        }
        State::FinWait2 => {
            l.side.conn.close();
            l.out();
            l.peer_acks_all();
        }
        State::CloseWait => {
            l.send_fin();
            l.out();
        }
        State::Closing => {
            l.side.conn.close();
            l.out();
            // The peer's FIN crosses ours: it does not acknowledge it.
            let fin = l.seg(TcpFlags::FIN, l.our_max - 1u32);
            l.peer_nxt += 1u32;
            l.feed(&fin, &[]);
        }
        State::LastAck => {
            l.send_fin();
            l.out();
            l.side.conn.close();
            assert!(l.out()[0].0.flags.contains(TcpFlags::FIN));
        }
        State::TimeWait => {
            l.side.conn.close();
            l.out();
            l.send_fin();
            l.out();
        }
        other => panic!("not a synchronized state: {other}"),
    }
    assert_eq!(l.state(), state);
    l
}

// ----------------------------------------------------------------------
// RFC 9293 state transitions
// ----------------------------------------------------------------------

#[test]
fn rfc9293_active_open_syn_sent_to_established() {
    let mut l = Lone::connecting(Config::default());
    assert_eq!(l.state(), State::SynSent);
    let out = l.out();
    let (syn, _) = &out[0];
    assert_eq!(out.len(), 1);
    assert_eq!(
        syn.flags & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST),
        TcpFlags::SYN
    );
    assert_eq!(syn.seq_number, OUR_ISS);
    assert_eq!(syn.ack_number, None);
    assert_eq!((syn.src_port, syn.dst_port), (US, PEER));
    assert_eq!(l.state(), State::SynSent);
    l.advance(ms(20));
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    let r = l.feed(&syn_ack, &[]);
    assert!(r.established && !r.closed);
    assert_eq!(l.state(), State::Established);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
    assert_eq!(out[0].0.ack_number, Some(PEER_ISS + 1u32));
    assert_eq!(out[0].0.flags & TcpFlags::SYN, TcpFlags::empty());
}

#[test]
fn rfc9293_passive_open_syn_received_to_established() {
    let mut l = Lone::server(Config::default(), PeerOpts::default());
    // Data flows right after: the peer's first data segment is taken.
    let r = l.send_data(100);
    assert!(r.readable);
    assert_eq!(l.side.recv.data, pattern(100));
}

#[test]
fn rfc9293_passive_open_retransmitted_syn_gets_syn_ack_again() {
    let config = Config::default();
    let syn = Lone::peer_syn(PeerOpts::default());
    let mut l = Lone::accepted(config, PeerOpts::default());
    let first = l.out();
    assert_eq!(first.len(), 1);
    l.advance(ms(300));
    l.feed(&syn, &[]);
    let again = l.out();
    assert_eq!(again.len(), 1);
    assert!(again[0].0.flags.contains(TcpFlags::SYN));
    assert_eq!(again[0].0.seq_number, OUR_ISS);
    assert_eq!(again[0].0.ack_number, Some(PEER_ISS + 1u32));
    assert_eq!(l.state(), State::SynReceived);
}

#[test]
fn rfc9293_simultaneous_open() {
    let config = Config::default();
    let mut a = Side::new(
        Connection::connect(40000, 80, SeqNumber(100), START, config),
        VecRecv::new(1 << 20),
    );
    let mut b = Side::new(
        Connection::connect(80, 40000, SeqNumber(300), START, config),
        VecRecv::new(1 << 20),
    );
    let (syn_a, _) = a.poll(START).unwrap();
    let (syn_b, _) = b.poll(START).unwrap();
    // The SYNs cross.
    a.deliver(START, &syn_b, &[]);
    b.deliver(START, &syn_a, &[]);
    assert_eq!(a.conn.state(), State::SynReceived);
    assert_eq!(b.conn.state(), State::SynReceived);
    // Each sends SYN-ACK <SEQ=ISS><ACK=peer ISS + 1>.
    let (syn_ack_a, _) = a.poll(START).unwrap();
    let (syn_ack_b, _) = b.poll(START).unwrap();
    assert!(syn_ack_a.flags.contains(TcpFlags::SYN));
    assert_eq!(syn_ack_a.seq_number, SeqNumber(100));
    assert_eq!(syn_ack_a.ack_number, Some(SeqNumber(301)));
    assert_eq!(syn_ack_b.ack_number, Some(SeqNumber(101)));
    let mut p = Pair {
        a,
        b,
        now: START,
        drop: Box::new(|_, _, _| false),
        sent: 4,
        max_in_flight: [0; 2],
    };
    p.b.deliver(START, &syn_ack_a, &[]);
    p.a.deliver(START, &syn_ack_b, &[]);
    p.run(100);
    assert_eq!(p.a.conn.state(), State::Established);
    assert_eq!(p.b.conn.state(), State::Established);
    // And they talk.
    p.a.send.write(&pattern(5000));
    p.b.send.write(&pattern(3000));
    p.run(1000);
    assert_eq!(p.b.recv.data, pattern(5000));
    assert_eq!(p.a.recv.data, pattern(3000));
}

#[test]
fn rfc9293_simultaneous_close_goes_through_closing() {
    let mut p = Pair::open(Config::default());
    p.a.conn.close();
    p.b.conn.close();
    let (fin_a, _) = p.a.poll(p.now).unwrap();
    let (fin_b, _) = p.b.poll(p.now).unwrap();
    assert!(fin_a.flags.contains(TcpFlags::FIN) && fin_b.flags.contains(TcpFlags::FIN));
    assert_eq!(p.a.conn.state(), State::FinWait1);
    assert_eq!(p.b.conn.state(), State::FinWait1);
    // The FINs cross.
    p.a.deliver(p.now, &fin_b, &[]);
    p.b.deliver(p.now, &fin_a, &[]);
    assert_eq!(p.a.conn.state(), State::Closing);
    assert_eq!(p.b.conn.state(), State::Closing);
    // Each ACKs the other's FIN: both wait in TIME-WAIT.
    let (ack_a, _) = p.a.poll(p.now).unwrap();
    let (ack_b, _) = p.b.poll(p.now).unwrap();
    p.a.deliver(p.now, &ack_b, &[]);
    p.b.deliver(p.now, &ack_a, &[]);
    assert_eq!(p.a.conn.state(), State::TimeWait);
    assert_eq!(p.b.conn.state(), State::TimeWait);
    p.run(100);
    assert_eq!(p.a.conn.state(), State::Closed);
    assert_eq!(p.a.conn.close_reason(), Some(CloseReason::Normal));
    assert_eq!(p.b.conn.close_reason(), Some(CloseReason::Normal));
}

#[test]
fn rfc9293_half_close_data_flows_from_close_wait_to_fin_wait_2() {
    let mut p = Pair::open(Config::default());
    p.a.send.write(&pattern(10_000));
    p.a.conn.close();
    p.run(1000);
    assert_eq!(p.a.conn.state(), State::FinWait2);
    assert_eq!(p.b.conn.state(), State::CloseWait);
    assert_eq!(p.b.recv.data, pattern(10_000));
    // B still sends, A still receives and ACKs.
    let data = pattern(50_000);
    p.b.send.write(&data);
    p.run(1000);
    assert_eq!(p.a.recv.data, data);
    assert_eq!(p.b.conn.in_flight(), 0);
    assert_eq!(p.a.conn.state(), State::FinWait2);
    assert_eq!(p.b.conn.state(), State::CloseWait);
}

#[test]
fn rfc9293_last_ack_closes_on_ack_of_fin() {
    let mut l = in_state(State::LastAck);
    let fin_end = l.our_max;
    // An ACK below the FIN keeps LAST-ACK.
    let partial = l.seg(TcpFlags::empty(), fin_end - 1u32);
    l.feed(&partial, &[]);
    assert_eq!(l.state(), State::LastAck);
    let ack = l.ack_all();
    let r = l.feed(&ack, &[]);
    assert!(r.closed);
    assert_eq!(l.state(), State::Closed);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::Normal));
    assert!(l.out().is_empty());
}

#[test]
fn rfc9293_last_ack_retransmits_fin() {
    let mut l = in_state(State::LastAck);
    let fin = l.side.log.last().unwrap().1.repr;
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert!(out[0].0.flags.contains(TcpFlags::FIN));
    assert_eq!(out[0].0.seq_number, fin.seq_number);
}

#[test]
fn rfc9293_time_wait_lasts_the_configured_time() {
    let config = config(|c| c.time_wait = Duration::from_secs(5));
    let mut l = Lone::client(config, PeerOpts::default());
    l.side.conn.close();
    l.out();
    l.peer_acks_all();
    assert_eq!(l.state(), State::FinWait2);
    l.advance(ms(10));
    l.send_fin();
    assert_eq!(l.state(), State::TimeWait);
    let entered = l.now;
    let out = l.out();
    assert!(only_acks(&out) && out.len() == 1, "the FIN is ACKed");
    assert_eq!(
        l.conn().next_deadline(),
        Some(entered + Duration::from_secs(5))
    );
    l.now = entered + Duration::from_secs(5) - Duration::from_nanos(1);
    assert!(l.out().is_empty());
    assert_eq!(l.state(), State::TimeWait);
    l.now = entered + Duration::from_secs(5);
    assert!(l.out().is_empty());
    assert_eq!(l.state(), State::Closed);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::Normal));
}

#[test]
fn rfc9293_time_wait_reacks_retransmitted_fin_and_restarts() {
    let config = config(|c| c.time_wait = Duration::from_secs(5));
    let mut l = Lone::client(config, PeerOpts::default());
    l.side.conn.close();
    l.out();
    l.peer_acks_all();
    let fin = l.seg(TcpFlags::FIN, l.our_max);
    l.send_fin();
    let first = l.out();
    assert_eq!(first.len(), 1);
    assert_eq!(l.state(), State::TimeWait);
    // Our ACK was lost: the peer sends its FIN again 3 s later.
    l.advance(Duration::from_secs(3));
    let mut again = fin;
    again.timestamp = again.timestamp.map(|(_, ecr)| (l.peer_clock(), ecr));
    l.feed(&again, &[]);
    let out = l.out();
    assert_eq!(out.len(), 1, "the FIN is ACKed again");
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.state(), State::TimeWait);
    assert_eq!(
        l.conn().next_deadline(),
        Some(l.now + Duration::from_secs(5)),
        "the wait restarts"
    );
    l.advance(Duration::from_secs(4));
    assert!(l.out().is_empty());
    assert_eq!(l.state(), State::TimeWait);
    l.advance(Duration::from_secs(1));
    l.out();
    assert_eq!(l.state(), State::Closed);
}

#[test]
fn rfc9293_rst_in_each_synchronized_state_closes() {
    for state in [
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ] {
        let mut l = in_state(state);
        let rst = TcpRepr {
            ack_number: None,
            ..l.seg(TcpFlags::RST, SeqNumber(0))
        };
        let r = l.feed(&rst, &[]);
        assert!(r.closed, "{state}");
        assert_eq!(l.state(), State::Closed, "{state}");
        // RFC 9293 3.10.7.4: in CLOSING, LAST-ACK and TIME-WAIT a RST
        // just ends the connection (everything was delivered both ways
        // but our FIN's ACK); before, the user hears "reset".
        let expected = match state {
            State::Closing | State::LastAck | State::TimeWait => CloseReason::Normal,
            _ => CloseReason::Reset,
        };
        assert_eq!(l.conn().close_reason(), Some(expected), "{state}");
        assert!(l.out().is_empty(), "{state}: nothing answers a RST");
        assert_eq!(l.conn().next_deadline(), None, "{state}: no timer left");
    }
}

#[test]
fn rfc9293_rst_in_syn_received_closes() {
    let config = Config::default();
    let mut l = Lone::accepted(config, PeerOpts::default());
    l.out();
    l.peer_nxt = PEER_ISS + 1u32;
    let rst = l.seg(TcpFlags::RST, OUR_ISS + 1u32);
    let r = l.feed(&rst, &[]);
    assert!(r.closed);
    assert_eq!(l.state(), State::Closed);
    assert!(l.out().is_empty());
}

#[test]
fn rfc9293_rst_in_syn_sent_needs_acceptable_ack() {
    let mut l = Lone::connecting(Config::default());
    l.out();
    let rst = |ack: Option<SeqNumber>| TcpRepr {
        src_port: PEER,
        dst_port: US,
        flags: TcpFlags::RST,
        seq_number: SeqNumber(0),
        ack_number: ack,
        ..TcpRepr::default()
    };
    // No ACK: ignored (RFC 9293 3.10.7.3).
    let r = l.feed(&rst(None), &[]);
    assert!(!r.closed && !r.reset);
    assert_eq!(l.state(), State::SynSent);
    // An ACK that does not acknowledge our SYN: ignored, and no RST
    // answers a RST.
    for bad in [OUR_ISS, OUR_ISS + 2u32, OUR_ISS - 1000u32] {
        let r = l.feed(&rst(Some(bad)), &[]);
        assert!(!r.closed && !r.reset);
        assert_eq!(l.state(), State::SynSent);
    }
    assert!(l.out().is_empty());
    // The acceptable one: connection refused.
    let r = l.feed(&rst(Some(OUR_ISS + 1u32)), &[]);
    assert!(r.closed);
    assert_eq!(l.state(), State::Closed);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::Refused));
    assert!(l.out().is_empty());
}

#[test]
fn rfc9293_unacceptable_ack_in_syn_sent_answered_with_rst() {
    let mut l = Lone::connecting(Config::default());
    l.out();
    for bad in [OUR_ISS, OUR_ISS + 5u32] {
        let syn_ack = l.syn(Some(bad));
        let r = l.feed(&syn_ack, &[]);
        assert!(r.reset, "a RST answers");
        let rst = l.conn().reset_for(&syn_ack);
        // <SEQ=SEG.ACK><CTL=RST>
        assert_eq!(rst.flags, TcpFlags::RST);
        assert_eq!(rst.seq_number, bad);
        assert_eq!(rst.ack_number, None);
        assert_eq!((rst.src_port, rst.dst_port), (US, PEER));
        assert_eq!(l.state(), State::SynSent);
    }
    // The handshake still completes with the right SYN-ACK.
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    assert!(l.feed(&syn_ack, &[]).established);
}

#[test]
fn rfc9293_unacceptable_ack_in_syn_received_answered_with_rst() {
    let config = Config::default();
    let mut l = Lone::accepted(config, PeerOpts::default());
    l.out();
    l.peer_nxt = PEER_ISS + 1u32;
    for bad in [OUR_ISS, OUR_ISS + 2u32, OUR_ISS + 100_000u32] {
        let ack = l.seg(TcpFlags::empty(), bad);
        let r = l.feed(&ack, &[]);
        assert!(r.reset, "a RST answers");
        let rst = l.conn().reset_for(&ack);
        assert_eq!(rst.flags, TcpFlags::RST);
        assert_eq!(rst.seq_number, bad);
        assert_eq!(l.state(), State::SynReceived);
    }
    let ack = l.seg(TcpFlags::empty(), OUR_ISS + 1u32);
    assert!(l.feed(&ack, &[]).established);
}

#[test]
fn rfc9293_syn_retransmitted_with_backoff_then_times_out() {
    let config = config(|c| c.syn_retries = 4);
    let mut l = Lone::connecting(config);
    let mut sent_at = Vec::new();
    loop {
        for (repr, _) in l.out() {
            assert!(repr.flags.contains(TcpFlags::SYN));
            assert_eq!(repr.seq_number, OUR_ISS);
            sent_at.push(l.now);
        }
        if l.state() == State::Closed {
            break;
        }
        l.skip_to_deadline();
    }
    // syn_retries transmissions, 1 s, 2 s, 4 s apart (RFC 6298 5.5),
    // then a last wait of 8 s.
    let gaps: Vec<u64> = sent_at
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis() as u64)
        .collect();
    assert_eq!(gaps, [1000, 2000, 4000]);
    assert_eq!(l.now, START + Duration::from_secs(15));
    assert_eq!(l.conn().close_reason(), Some(CloseReason::TimedOut));
    assert_eq!(l.conn().stats().retransmissions, 3);
}

#[test]
fn rfc9293_syn_ack_retransmitted_then_times_out() {
    let config = config(|c| c.syn_retries = 3);
    let mut l = Lone::accepted(config, PeerOpts::default());
    let mut sent = 0;
    while l.state() != State::Closed {
        for (repr, _) in l.out() {
            assert!(repr.flags.contains(TcpFlags::SYN));
            assert_eq!(repr.ack_number, Some(PEER_ISS + 1u32));
            sent += 1;
        }
        if l.state() != State::Closed {
            l.skip_to_deadline();
        }
    }
    assert_eq!(sent, 3);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::TimedOut));
}

#[test]
fn rfc9293_user_timeout_aborts_unacknowledged_data() {
    let config = config(|c| c.user_timeout = Some(Duration::from_secs(10)));
    let mut l = Lone::client(config, PeerOpts::default());
    l.write(1000);
    let sent_at = l.now;
    assert_eq!(l.out().len(), 1);
    // The peer never answers: retransmissions until the user timeout.
    let mut last = Vec::new();
    while l.state() != State::Closed {
        l.skip_to_deadline();
        last = l.out();
        assert!(l.now < sent_at + Duration::from_secs(60), "no timeout");
    }
    let waited = l.now - sent_at;
    assert!(
        waited >= Duration::from_secs(10),
        "gave up after {waited:?}"
    );
    assert!(
        l.conn().stats().retransmissions >= 3,
        "{:?}",
        l.conn().stats()
    );
    let (rst, _) = last.last().expect("a RST");
    assert!(rst.flags.contains(TcpFlags::RST));
    assert_eq!(rst.seq_number, l.our_max);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::TimedOut));
}

#[test]
fn rfc9293_user_timeout_not_reached_while_acks_progress() {
    let config = config(|c| c.user_timeout = Some(Duration::from_secs(10)));
    let mut l = Lone::client(config, PeerOpts::default());
    // 30 s of data, each segment lost once and ACKed after its
    // retransmission: progress every few seconds.
    for _ in 0..10 {
        l.write(1000);
        l.out();
        l.skip_to_deadline();
        assert_eq!(l.out().len(), 1, "the retransmission");
        l.advance(ms(100));
        l.peer_acks_all();
        l.advance(Duration::from_secs(2));
    }
    assert_eq!(l.state(), State::Established);
}

#[test]
fn rfc9293_keep_alive_probe_is_below_snd_una_and_answered() {
    let mut p = Pair::open(Config::default());
    p.a.conn.set_keep_alive(Some(Duration::from_secs(30)));
    p.a.send.write(&pattern(100));
    let start = p.now;
    p.run_until(100, |p| p.a.conn.in_flight() == 0 && p.now > start);
    let quiet = p.now;
    let acked = p.a.log.len();
    // Idle for 100 s: probes every 30 s, each answered.
    p.run_until(10_000, |p| p.now > quiet + Duration::from_secs(100));
    let probes: Vec<_> = p.a.log[acked..]
        .iter()
        .filter(|(_, t)| t.repr.payload_len == 0)
        .collect();
    assert!(probes.len() >= 3, "{} probes", probes.len());
    let una = p.a.log[acked - 1].1.repr.seq_number + p.a.log[acked - 1].1.repr.segment_len();
    for (at, t) in &probes {
        // SEG.SEQ = SND.NXT - 1 (RFC 9293 3.8.4), no data.
        assert_eq!(t.repr.seq_number, una - 1u32, "probe at {at:?}");
    }
    assert_eq!(p.a.conn.state(), State::Established);
    assert_eq!(p.b.conn.state(), State::Established);
}

#[test]
fn rfc9293_keep_alive_drops_after_unanswered_probes() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.side.conn.set_keep_alive(Some(Duration::from_secs(20)));
    let idle_from = l.now;
    let una = l.our_max;
    let mut probes = Vec::new();
    let mut rst = None;
    while l.state() != State::Closed {
        l.skip_to_deadline();
        for (repr, _) in l.out() {
            if repr.flags.contains(TcpFlags::RST) {
                rst = Some(repr);
            } else {
                assert_eq!(repr.seq_number, una - 1u32);
                assert_eq!(repr.payload_len, 0);
                probes.push(l.now);
            }
        }
        assert!(l.now < idle_from + Duration::from_secs(3600));
    }
    let config = Config::default();
    assert_eq!(probes.len(), usize::from(config.keep_alive_probes));
    assert_eq!(probes[0], idle_from + Duration::from_secs(20));
    assert!(rst.is_some());
    assert_eq!(l.conn().close_reason(), Some(CloseReason::TimedOut));
}

#[test]
fn rfc9293_keep_alive_answered_probe_restarts_the_count() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.side.conn.set_keep_alive(Some(Duration::from_secs(20)));
    for _ in 0..30 {
        l.skip_to_deadline();
        let out = l.out();
        assert_eq!(out.len(), 1);
        // The peer answers the probe (an unacceptable segment) with an ACK.
        l.peer_acks_all();
    }
    assert_eq!(l.state(), State::Established);
}

// ----------------------------------------------------------------------
// RFC 5961
// ----------------------------------------------------------------------

#[test]
fn rfc5961_in_window_rst_gets_challenge_ack() {
    let mut l = in_state(State::Established);
    let mut rst = l.seg(TcpFlags::RST, l.our_max);
    rst.seq_number = l.peer_nxt + 1000u32;
    let r = l.feed(&rst, &[]);
    assert!(!r.closed);
    assert_eq!(l.state(), State::Established);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert!(only_acks(&out));
    assert_eq!(out[0].0.seq_number, l.our_max);
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.conn().stats().challenge_acks, 1);
}

#[test]
fn rfc5961_exact_rst_resets() {
    let mut l = in_state(State::Established);
    let rst = l.seg(TcpFlags::RST, l.our_max);
    let r = l.feed(&rst, &[]);
    assert!(r.closed);
    assert_eq!(l.conn().close_reason(), Some(CloseReason::Reset));
    assert!(l.out().is_empty());
    assert_eq!(l.conn().stats().challenge_acks, 0);
}

#[test]
fn rfc5961_out_of_window_rst_ignored() {
    let mut l = in_state(State::Established);
    for seq in [
        l.peer_nxt - 1u32,
        l.peer_nxt + (1u32 << 21),
        l.peer_nxt + 0x8000_0000u32,
    ] {
        let mut rst = l.seg(TcpFlags::RST, l.our_max);
        rst.seq_number = seq;
        let r = l.feed(&rst, &[]);
        assert!(!r.closed);
        assert!(l.out().is_empty(), "nothing answers seq {seq}");
    }
    assert_eq!(l.state(), State::Established);
    assert_eq!(l.conn().stats().challenge_acks, 0);
}

#[test]
fn rfc5961_syn_in_established_gets_challenge_ack() {
    let mut l = in_state(State::Established);
    for seq in [l.peer_nxt, l.peer_nxt + 5000u32] {
        let mut syn = l.syn(None);
        syn.seq_number = seq;
        let r = l.feed(&syn, &[]);
        assert!(!r.closed && !r.reset);
        let out = l.out();
        assert_eq!(out.len(), 1);
        assert!(only_acks(&out));
        assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    }
    assert_eq!(l.state(), State::Established);
    assert_eq!(l.conn().stats().challenge_acks, 2);
}

#[test]
fn rfc5961_challenge_acks_rate_limited_per_second() {
    let mut l = in_state(State::Established);
    let mut acks = 0;
    for _ in 0..50 {
        let mut rst = l.seg(TcpFlags::RST, l.our_max);
        rst.seq_number = l.peer_nxt + 10u32;
        l.feed(&rst, &[]);
        acks += l.out().len();
        l.advance(ms(10));
    }
    // Half a second: one second's allowance at most.
    let first = acks;
    assert!((1..=10).contains(&first), "{first} challenge ACKs");
    assert_eq!(l.conn().stats().challenge_acks, first as u64);
    // A second later the allowance is back.
    l.advance(Duration::from_secs(1));
    let mut rst = l.seg(TcpFlags::RST, l.our_max);
    rst.seq_number = l.peer_nxt + 10u32;
    l.feed(&rst, &[]);
    assert_eq!(l.out().len(), 1);
    assert_eq!(l.state(), State::Established);
}

#[test]
fn rfc5961_ack_above_snd_max_dropped_and_acked() {
    let mut l = in_state(State::Established);
    l.write(1000);
    l.out();
    let mut seg = l.seg(TcpFlags::empty(), l.our_max + 1u32);
    seg.payload_len = 100;
    let r = l.feed(&seg, &pattern(100));
    assert!(!r.readable && !r.writable);
    assert!(l.side.recv.data.is_empty(), "the data was dropped");
    assert_eq!(l.side.send.data.len(), 1000, "nothing acknowledged");
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert!(only_acks(&out));
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.conn().stats().rejected, 1);
}

#[test]
fn rfc5961_ack_below_snd_una_minus_max_window_dropped_and_acked() {
    // A small peer window, so that an old ACK is easy to build.
    let opts = PeerOpts {
        window: 1000,
        window_scale: None,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(Config::default(), opts);
    l.side.conn.set_nagle(false);
    for _ in 0..3 {
        l.write(1000);
        l.out();
        l.peer_acks_all();
    }
    let una = l.our_max;
    // Within SND.UNA - MAX.SND.WND: an old duplicate, data taken.
    let mut seg = l.seg(TcpFlags::empty(), una - 1000u32);
    seg.payload_len = 10;
    let r = l.feed(&seg, &pattern(10));
    assert!(r.readable);
    l.peer_nxt += 10u32;
    l.out();
    // Below it: dropped, answered with an ACK.
    let mut seg = l.seg(TcpFlags::empty(), una - 1001u32);
    seg.payload_len = 10;
    let r = l.feed(&seg, &pattern(10));
    assert!(!r.readable);
    assert_eq!(l.side.recv.data.len(), 10);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.state(), State::Established);
}

// ----------------------------------------------------------------------
// Sequence numbers wrap around
// ----------------------------------------------------------------------

#[test]
fn seq_transfer_wraps_around_on_both_sides() {
    let mut setup = Setup::new(Config::default());
    setup.iss_a = SeqNumber(0xffff_fff0);
    setup.iss_b = SeqNumber(0xffff_ff00);
    let mut p = Pair::open_with(setup);
    assert_eq!(p.a.conn.state(), State::Established);
    // Some loss too, so that recovery and SACK run across the wrap.
    let mut n = 0u64;
    p.drop = Box::new(move |_, _, r| {
        n += 1;
        r.payload_len > 0 && n.is_multiple_of(17)
    });
    let up = pattern(300_000);
    let down = pattern(200_000);
    p.a.send.write(&up);
    p.b.send.write(&down);
    p.a.conn.close();
    p.run(100_000);
    assert!(p.b.recv.data == up);
    assert!(p.a.recv.data == down);
    p.b.conn.close();
    p.run(100_000);
    assert_eq!(p.a.conn.state(), State::Closed);
    assert_eq!(p.b.conn.state(), State::Closed);
    assert_eq!(p.a.conn.close_reason(), Some(CloseReason::Normal));
    // Both sides' numbers did cross zero.
    let crossed = |side: &Side| {
        side.log
            .iter()
            .any(|(_, t)| t.repr.seq_number.0 < 0x1000_0000)
            && side
                .log
                .iter()
                .any(|(_, t)| t.repr.seq_number.0 > 0xf000_0000)
    };
    assert!(crossed(&p.a) && crossed(&p.b));
    assert!(p.a.conn.stats().retransmissions > 0);
}

// ----------------------------------------------------------------------
// RFC 7323: window scaling, timestamps, PAWS
// ----------------------------------------------------------------------

#[test]
fn rfc7323_window_scale_negotiated_when_both_offer() {
    let l = Lone::client(Config::default(), PeerOpts::default());
    assert_eq!(l.conn().negotiated().2, Some((7, 7)));
    let l = Lone::server(Config::default(), PeerOpts::default());
    assert_eq!(l.conn().negotiated().2, Some((7, 7)));
}

#[test]
fn rfc7323_window_scale_off_when_the_peer_does_not_offer() {
    let opts = PeerOpts {
        window_scale: None,
        ..PeerOpts::default()
    };
    // Active: our SYN offered, the SYN-ACK did not.
    let mut l = Lone::client(Config::default(), opts);
    assert_eq!(l.conn().negotiated().2, None);
    let ack = l.seg(TcpFlags::empty(), l.our_max);
    l.feed(&ack, &[]);
    assert_eq!(
        l.conn().stats().send_window,
        65535,
        "the peer's window unscaled"
    );
    l.send_data(10);
    l.skip_to_deadline();
    let out = l.out();
    // Unscaled: the 64 KiB of the SYN less the 10 bytes taken (the
    // right edge moves in steps of an MSS, RFC 9293 3.8.6.2.2).
    assert_eq!(out[0].0.window_len, 65525, "our window unscaled");
    // Passive: the SYN did not offer, so the SYN-ACK does not either.
    let mut l = Lone::accepted(Config::default(), opts);
    let out = l.out();
    assert_eq!(out[0].0.window_scale, None);
    assert_eq!(l.conn().negotiated().2, None);
}

#[test]
fn rfc7323_window_scale_off_when_we_do_not_offer() {
    let config = config(|c| c.window_scale = None);
    let mut l = Lone::connecting(config);
    assert_eq!(l.out()[0].0.window_scale, None);
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    l.feed(&syn_ack, &[]);
    assert_eq!(l.conn().negotiated().2, None);
    let ack = l.seg(TcpFlags::empty(), OUR_ISS + 1u32);
    l.peer_nxt = PEER_ISS + 1u32;
    l.feed(&ack, &[]);
    assert_eq!(l.conn().stats().send_window, 65535);
}

#[test]
fn rfc7323_syn_windows_are_not_scaled() {
    let opts = PeerOpts {
        window: 1000,
        ..PeerOpts::default()
    };
    let mut l = Lone::new(
        Connection::connect(US, PEER, OUR_ISS, START, Config::default()),
        opts,
    );
    let syn = l.out()[0].0;
    // 1 MiB of buffer: the SYN says 65535, unscaled.
    assert_eq!(syn.window_len, 65535);
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    l.feed(&syn_ack, &[]);
    l.peer_nxt = PEER_ISS + 1u32;
    assert_eq!(
        l.conn().stats().send_window,
        1000,
        "the SYN-ACK's window is not scaled"
    );
    // Later windows are: 1000 << 7.
    l.peer_acks_all();
    assert_eq!(l.conn().stats().send_window, 128_000);
    // And ours: 1 MiB >> 7.
    l.send_data(10);
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(usize::from(out[0].0.window_len), ((1usize << 20) - 10) >> 7);
}

#[test]
fn rfc7323_windows_above_64k_are_used() {
    let mut p = Pair::open(Config::default());
    p.a.send.write(&pattern(1_000_000));
    p.run(100_000);
    assert_eq!(p.b.recv.data.len(), 1_000_000);
    // More in flight than an unscaled window allows.
    assert!(
        p.max_in_flight[0] > 65535,
        "at most {} bytes in flight",
        p.max_in_flight[0]
    );
}

#[test]
fn rfc7323_timestamps_echoed() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    assert!(l.conn().negotiated().1);
    // The SYN-ACK's TSval was echoed by the ACK of the handshake.
    let hs_ack = l.side.log[1].1.repr;
    assert_eq!(hs_ack.timestamp.unwrap().1, START.as_millis() as u32);
    for (step, tsval) in [(ms(5), 777_000u32), (ms(5), 777_020), (ms(5), 777_500)] {
        l.advance(step);
        let mut seg = l.ack_all();
        seg.timestamp = Some((tsval, l.ts_echo));
        seg.payload_len = 1460;
        l.feed(&seg, &pattern(1460));
        l.peer_nxt += 1460u32;
        let mut seg = l.ack_all();
        seg.timestamp = Some((tsval, l.ts_echo));
        seg.payload_len = 1460;
        l.feed(&seg, &pattern(1460));
        l.peer_nxt += 1460u32;
        let out = l.out();
        assert_eq!(out.len(), 1);
        let (ours, echo) = out[0].0.timestamp.unwrap();
        assert_eq!(echo, tsval, "TSecr = the peer's TSval");
        assert_ne!(ours, 0);
    }
}

#[test]
fn rfc7323_paws_drops_old_timestamp_and_acks() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.advance(ms(10));
    let newer = l.peer_clock() + 1000;
    let mut seg = l.ack_all();
    seg.timestamp = Some((newer, l.ts_echo));
    seg.payload_len = 100;
    l.feed(&seg, &pattern(100));
    l.peer_nxt += 100u32;
    l.out();
    // An old duplicate: in the window, but its TSval is older.
    let mut old = l.ack_all();
    old.timestamp = Some((newer - 500, l.ts_echo));
    old.payload_len = 100;
    let r = l.feed(&old, &pattern(100));
    assert!(!r.readable);
    assert_eq!(
        l.side.recv.data.len(),
        100,
        "the old segment's data was dropped"
    );
    assert_eq!(l.conn().stats().rejected, 1);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert!(only_acks(&out));
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(
        out[0].0.timestamp.unwrap().1,
        newer,
        "TS.Recent is unchanged"
    );
    // A RST is not subject to PAWS... but the exact one still resets.
    let mut rst = l.seg(TcpFlags::RST, l.our_max);
    rst.timestamp = Some((newer - 500, 0));
    assert!(l.feed(&rst, &[]).closed);
}

#[test]
fn rfc7323_timestamps_off_unless_both_offer() {
    let opts = PeerOpts {
        timestamps: false,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(Config::default(), opts);
    assert!(!l.conn().negotiated().1);
    l.send_data(10);
    l.skip_to_deadline();
    assert!(l.out().iter().all(|(r, _)| r.timestamp.is_none()));
    // Without timestamps a segment carries the full MSS.
    l.write(5000);
    let out = l.out();
    assert_eq!(out[0].0.payload_len, 1460);
}

// ----------------------------------------------------------------------
// SACK (RFC 2018, RFC 6675) and NewReno (RFC 6582)
// ----------------------------------------------------------------------

/// The SACK blocks of `repr`, in order.
fn sack_blocks(repr: &TcpRepr) -> Vec<(u32, u32)> {
    repr.sack_ranges.iter().flatten().copied().collect()
}

/// The peer sends `len` bytes at `offset` past its next sequence number
/// (out of order when `offset > 0`); returns what the connection sends.
fn peer_data_at<R: RecvBuffer>(l: &mut Lone<R>, offset: u32, len: usize) -> Vec<TcpRepr> {
    let mut seg = l.ack_all();
    seg.seq_number = l.peer_nxt + offset;
    seg.payload_len = len;
    l.feed(&seg, &pattern(len));
    l.out().into_iter().map(|(r, _)| r).collect()
}

fn check_sack_generation<R: RecvBuffer>(mut l: Lone<R>) {
    let base = l.peer_nxt.0;
    let at = |o: u32| base.wrapping_add(o);
    let out = peer_data_at(&mut l, 1000, 500);
    assert_eq!(out.len(), 1, "out of order: ACKed at once");
    assert_eq!(out[0].ack_number, Some(l.peer_nxt));
    assert_eq!(sack_blocks(&out[0]), [(at(1000), at(1500))]);
    let out = peer_data_at(&mut l, 3000, 500);
    assert_eq!(
        sack_blocks(&out[0]),
        [(at(3000), at(3500)), (at(1000), at(1500))]
    );
    let out = peer_data_at(&mut l, 2000, 200);
    assert_eq!(
        sack_blocks(&out[0]),
        [
            (at(2000), at(2200)),
            (at(3000), at(3500)),
            (at(1000), at(1500))
        ],
        "most recent first (RFC 2018 4)"
    );
    // Joining a block moves it to the front.
    let out = peer_data_at(&mut l, 1500, 100);
    assert_eq!(
        sack_blocks(&out[0]),
        [
            (at(1000), at(1600)),
            (at(2000), at(2200)),
            (at(3000), at(3500))
        ]
    );
    // Filling the hole at the edge: ACK at once, the first block gone.
    let out = peer_data_at(&mut l, 0, 1000);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack_number, Some(SeqNumber(at(1600))));
    assert_eq!(
        sack_blocks(&out[0]),
        [(at(2000), at(2200)), (at(3000), at(3500))]
    );
}

#[test]
fn rfc2018_receiver_sack_blocks_most_recent_first() {
    check_sack_generation(Lone::client(Config::default(), PeerOpts::default()));
    // The same with the ready-made ring buffer and its assembler.
    check_sack_generation(Lone::client_with(
        Config::default(),
        PeerOpts::default(),
        RingRecvBuffer::new(vec![0; 1 << 16]),
    ));
}

#[test]
fn rfc2018_no_sack_blocks_unless_negotiated() {
    let opts = PeerOpts {
        sack: false,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(Config::default(), opts);
    let out = peer_data_at(&mut l, 1000, 500);
    assert_eq!(out.len(), 1);
    assert!(sack_blocks(&out[0]).is_empty());
}

/// A loss function dropping the first transmission of the data segments
/// A sends with these ordinals (0 = the first data segment).
fn drop_first_transmissions(ordinals: &'static [u64]) -> common::tcp_pair::LossFn {
    let mut seen = std::collections::HashSet::new();
    let mut new_segments = 0u64;
    Box::new(move |from_a, _, r| {
        if !from_a || r.payload_len == 0 || !seen.insert(r.seq_number.0) {
            return false;
        }
        new_segments += 1;
        ordinals.contains(&(new_segments - 1))
    })
}

#[test]
fn rfc6675_sack_recovery_retransmits_only_the_holes() {
    for lost in [&[20u64][..], &[20, 24], &[15, 16, 30]] {
        let mut p = Pair::open(Config::default());
        p.drop = drop_first_transmissions(lost);
        let data = pattern(200_000);
        p.a.send.write(&data);
        p.run(10_000);
        assert!(p.b.recv.data == data);
        let stats = p.a.conn.stats();
        assert_eq!(stats.timeouts, 0, "{lost:?}: {stats:?}");
        // One recovery per window with losses.
        assert!(
            (1..=2).contains(&stats.fast_retransmits),
            "{lost:?}: {stats:?}"
        );
        assert_eq!(
            stats.retransmissions,
            lost.len() as u64,
            "{lost:?}: only the holes are sent again: {:?}",
            p.a.retransmitted()
        );
    }
}

#[test]
fn rfc6582_newreno_partial_acks_retransmit_one_hole_each() {
    let config = config(|c| c.sack = false);
    let lost: &[u64] = &[20, 23, 26];
    let mut p = Pair::open(config);
    assert!(!p.a.conn.negotiated().0);
    p.drop = drop_first_transmissions(lost);
    let data = pattern(200_000);
    p.a.send.write(&data);
    // Follow the recovery segment by segment: each retransmission must
    // wait for the partial ACK of the one before.
    let mut acks_between = Vec::new();
    let mut acks = 0;
    let mut seen_retransmissions = 0;
    for _ in 0..100_000 {
        let before_b = p.b.log.len();
        if !p.step() {
            match p.next_deadline() {
                Some(at) => p.now = p.now.max(at),
                None => break,
            }
        }
        acks += p.b.log.len() - before_b;
        let r = p.a.retransmitted().len();
        if r > seen_retransmissions {
            acks_between.push(acks);
            acks = 0;
            seen_retransmissions = r;
        }
        if p.b.recv.data.len() == data.len() && p.a.conn.in_flight() == 0 {
            break;
        }
    }
    assert!(p.b.recv.data == data);
    let stats = p.a.conn.stats();
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert_eq!(stats.fast_retransmits, 1);
    assert_eq!(stats.retransmissions, 3, "{:?}", p.a.retransmitted());
    let resent: Vec<u32> =
        p.a.retransmitted()
            .iter()
            .map(|(_, r)| r.seq_number.0)
            .collect();
    let mut sorted = resent.clone();
    sorted.sort_unstable();
    assert_eq!(resent, sorted, "holes in order");
    assert!(
        acks_between[1..].iter().all(|&n| n >= 1),
        "{acks_between:?}"
    );
}

// ----------------------------------------------------------------------
// RFC 6298: the retransmission timer
// ----------------------------------------------------------------------

/// An active open whose SYN-ACK arrives `rtt` after the SYN.
fn client_with_rtt(config: Config, rtt: Duration) -> Lone {
    let mut l = Lone::connecting(config);
    l.out();
    l.advance(rtt);
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    l.feed(&syn_ack, &[]);
    l.peer_nxt = PEER_ISS + 1u32;
    l.out();
    l
}

#[test]
fn rfc6298_initial_rto_is_one_second() {
    let mut l = Lone::connecting(Config::default());
    assert_eq!(l.conn().stats().rto, Duration::from_secs(1));
    l.out();
    assert_eq!(
        l.conn().next_deadline(),
        Some(START + Duration::from_secs(1))
    );
}

#[test]
fn rfc6298_rto_is_srtt_plus_four_rttvar() {
    let l = client_with_rtt(Config::default(), ms(100));
    let stats = l.conn().stats();
    assert_eq!(stats.srtt, Some(ms(100)));
    // RTTVAR = R/2 = 50 ms: RTO = 100 + 4 * 50.
    assert_eq!(stats.rto, ms(300));
    // A second sample: RTTVAR = 3/4 * 50 + 1/4 * |100 - 60| = 47.5,
    // SRTT = 7/8 * 100 + 1/8 * 60 = 95, RTO = 95 + 190.
    let mut l = l;
    l.write(100);
    l.out();
    l.advance(ms(60));
    l.peer_acks_all();
    let stats = l.conn().stats();
    assert_eq!(stats.srtt, Some(ms(95)));
    assert_eq!(stats.rto, ms(285));
}

#[test]
fn rfc6298_rto_clamped_by_min() {
    let l = client_with_rtt(Config::default(), ms(10));
    assert_eq!(l.conn().stats().srtt, Some(ms(10)));
    assert_eq!(
        l.conn().stats().rto,
        ms(200),
        "10 + 4 * 5 ms, raised to the minimum"
    );
    let rto = ethox::layer::tcp::rtt::RtoConfig {
        min: ms(1000),
        ..Default::default()
    };
    let l = client_with_rtt(config(|c| c.rto = rto), ms(100));
    assert_eq!(l.conn().stats().rto, ms(1000));
}

/// Karn's rule is for connections without timestamps: with them, the
/// echoed TSval names the transmission an ACK answers (RFC 7323 4.2).
fn no_timestamps() -> Config {
    config(|c| c.timestamps = false)
}

/// With timestamps, the ACK of a retransmission is a valid sample: its
/// TSecr echoes the retransmission, so the backed-off RTO comes down.
#[test]
fn rfc7323_timestamps_sample_the_ack_of_a_retransmission() {
    let mut l = client_with_rtt(Config::default(), ms(100));
    l.write(1000);
    l.out();
    l.skip_to_deadline();
    assert_eq!(l.out().len(), 1, "the retransmission");
    assert_eq!(l.conn().stats().rto, ms(600));
    l.advance(ms(20));
    l.peer_acks_all();
    assert!(l.conn().stats().rto < ms(600), "{:?}", l.conn().stats());
}

#[test]
fn rfc6298_karn_no_sample_from_a_retransmitted_syn() {
    let mut l = Lone::connecting(no_timestamps());
    l.out();
    l.skip_to_deadline();
    assert_eq!(l.out().len(), 1, "the SYN again");
    l.advance(ms(50));
    let syn_ack = l.syn(Some(OUR_ISS + 1u32));
    assert!(l.feed(&syn_ack, &[]).established);
    assert_eq!(l.conn().stats().srtt, None);
}

#[test]
fn rfc6298_karn_no_sample_from_retransmitted_data() {
    let mut l = client_with_rtt(no_timestamps(), ms(100));
    l.write(1000);
    l.out();
    l.skip_to_deadline();
    assert_eq!(l.out().len(), 1, "the retransmission");
    let rto_backed_off = l.conn().stats().rto;
    assert_eq!(rto_backed_off, ms(600));
    // The ACK comes 20 ms after the retransmission (or 320 ms after the
    // first transmission): no sample either way.
    l.advance(ms(20));
    l.peer_acks_all();
    let stats = l.conn().stats();
    assert_eq!(stats.srtt, Some(ms(100)), "SRTT unchanged");
    assert_eq!(stats.rto, ms(600), "the backed-off RTO is kept (Karn)");
}

#[test]
fn rfc6298_backoff_doubles_on_repeated_timeouts() {
    let mut l = client_with_rtt(Config::default(), ms(100));
    l.write(1000);
    l.out();
    let mut times = vec![l.now];
    for _ in 0..6 {
        l.skip_to_deadline();
        let out = l.out();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
        times.push(l.now);
    }
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis() as u64)
        .collect();
    assert_eq!(gaps, [300, 600, 1200, 2400, 4800, 9600]);
    assert_eq!(l.conn().stats().timeouts, 6);
    assert_eq!(l.conn().stats().rto, ms(19_200));
}

#[test]
fn rfc6298_backoff_is_capped_by_max() {
    let mut l = client_with_rtt(config(|c| c.user_timeout = None), ms(100));
    l.write(1000);
    l.out();
    for _ in 0..20 {
        l.skip_to_deadline();
        assert_eq!(l.out().len(), 1);
    }
    assert_eq!(l.conn().stats().rto, Duration::from_secs(60));
    assert_eq!(l.state(), State::Established);
}

#[test]
fn rfc6298_new_sample_clears_backoff() {
    let mut l = client_with_rtt(no_timestamps(), ms(100));
    l.write(1000);
    l.out();
    l.skip_to_deadline();
    l.out();
    l.skip_to_deadline();
    l.out();
    assert_eq!(l.conn().stats().rto, ms(1200));
    l.peer_acks_all();
    assert_eq!(l.conn().stats().rto, ms(1200));
    // New data, answered in 100 ms: a valid sample ends the backoff.
    l.write(1000);
    l.out();
    l.advance(ms(100));
    l.peer_acks_all();
    let stats = l.conn().stats();
    // SRTT stays 100 ms, RTTVAR = 3/4 * 50 = 37.5 ms: RTO 250 ms.
    assert_eq!(stats.srtt, Some(ms(100)));
    assert_eq!(stats.rto, ms(250));
}

// ----------------------------------------------------------------------
// Congestion control
// ----------------------------------------------------------------------

#[test]
fn rfc5681_cwnd_grows_in_slow_start() {
    for algorithm in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut l = Lone::client(config(|c| c.congestion = algorithm), PeerOpts::default());
        let initial = l.conn().stats().cwnd;
        assert_eq!(initial, 10 * 1448, "RFC 6928 IW");
        l.write(1_000_000);
        let mut in_flight: std::collections::VecDeque<TcpRepr> =
            l.out().into_iter().map(|(r, _)| r).collect();
        assert_eq!(in_flight.len(), 10);
        let mut cwnd = initial;
        for _ in 0..40 {
            // An ACK for every second segment, and the sender sends
            // what the window allows.
            l.advance(ms(1));
            in_flight.pop_front();
            let second = in_flight.pop_front().unwrap();
            let ack = l.seg(TcpFlags::empty(), second.seq_number + second.payload_len);
            l.feed(&ack, &[]);
            in_flight.extend(l.out().into_iter().map(|(r, _)| r));
            let grown = l.conn().stats().cwnd;
            // RFC 3465 with L = 2: two segments per ACK.
            assert_eq!(grown, cwnd + 2 * 1448, "{algorithm:?}");
            let flight: usize = in_flight.iter().map(|r| r.payload_len).sum();
            assert_eq!(flight, grown, "{algorithm:?}: the window is used");
            cwnd = grown;
        }
        assert_eq!(l.conn().stats().ssthresh, usize::MAX);
    }
}

/// Slow start grows the window for every ACK of a window's worth even
/// when they all arrive before the sender sends again (a receive batch):
/// the window held the sender back, so each ACK counts.
#[test]
fn rfc5681_cwnd_grows_with_acks_batched_between_sends() {
    for algorithm in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut l = Lone::client(config(|c| c.congestion = algorithm), PeerOpts::default());
        let initial = l.conn().stats().cwnd;
        l.write(1_000_000);
        let sent: Vec<TcpRepr> = l.out().into_iter().map(|(r, _)| r).collect();
        assert_eq!(sent.len(), 10);
        l.advance(ms(1));
        // Five ACKs, each for two segments, all before the next send.
        for pair in sent.chunks(2) {
            let last = pair[1];
            let ack = l.seg(TcpFlags::empty(), last.seq_number + last.payload_len);
            l.feed(&ack, &[]);
        }
        assert_eq!(
            l.conn().stats().cwnd,
            initial + 5 * 2 * 1448,
            "{algorithm:?}"
        );
    }
}

/// A connection with ten segments in flight whose first one was lost:
/// the peer sends duplicate ACKs (with SACK blocks for the rest).
fn three_dup_acks(algorithm: Algorithm, sack: bool) -> (Lone, usize, Vec<TcpRepr>) {
    let opts = PeerOpts {
        sack,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(config(|c| c.congestion = algorithm), opts);
    // The peer's first window update (its SYN-ACK's window was unscaled):
    // a later change of window would make an ACK no duplicate.
    l.peer_acks_all();
    l.write(100_000);
    let out = l.out();
    assert_eq!(out.len(), 10);
    let flight = l.conn().in_flight();
    let una = OUR_ISS + 1u32;
    let mut sent = Vec::new();
    for (i, (seg, _)) in out.iter().enumerate().skip(1).take(3) {
        let mut dup = l.seg(TcpFlags::empty(), una);
        if sack {
            let end = seg.seq_number + seg.payload_len;
            dup.sack_ranges[0] = Some(((una + 1448u32).0, end.0));
        }
        l.feed(&dup, &[]);
        let now = l.out();
        if i < 3 {
            // Limited transmit (RFC 3042): one new segment each.
            assert_eq!(now.len(), 1, "dup ACK {i}: one new segment");
            assert!(now[0].0.seq_number >= out[9].0.seq_number + out[9].0.payload_len);
            continue;
        }
        sent.extend(now.into_iter().map(|(r, _)| r));
    }
    (l, flight, sent)
}

#[test]
fn rfc5681_fast_retransmit_reduces_cwnd() {
    for sack in [true, false] {
        let (l, flight, sent) = three_dup_acks(Algorithm::NewReno, sack);
        let stats = l.conn().stats();
        assert_eq!(stats.fast_retransmits, 1);
        assert_eq!(stats.timeouts, 0);
        assert_eq!(sent[0].seq_number, OUR_ISS + 1u32, "the lost segment first");
        assert_eq!(sent[0].payload_len, 1448);
        assert_eq!(stats.ssthresh, flight / 2, "sack {sack}");
        assert!(stats.cwnd < flight, "sack {sack}: {stats:?}");
    }
}

#[test]
fn rfc5681_timeout_sets_cwnd_to_one_mss() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.write(100_000);
    l.out();
    let flight = l.conn().in_flight();
    // First the tail loss probe (RFC 8985), then, still unanswered, the
    // retransmission timeout.
    l.skip_to_deadline();
    assert_eq!(l.out().len(), 1, "the tail loss probe");
    assert_eq!(l.conn().stats().tail_probes, 1);
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(out.len(), 1, "one segment: the loss window");
    assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
    let stats = l.conn().stats();
    assert_eq!(stats.cwnd, 1448);
    assert_eq!(stats.timeouts, 1);
    assert!(stats.ssthresh <= flight);
}

#[test]
fn congestion_newreno_and_cubic_are_selectable() {
    let (reno, flight, _) = three_dup_acks(Algorithm::NewReno, true);
    assert_eq!(reno.conn().congestion().algorithm(), Algorithm::NewReno);
    let (cubic, flight_cubic, _) = three_dup_acks(Algorithm::Cubic, true);
    assert_eq!(cubic.conn().congestion().algorithm(), Algorithm::Cubic);
    assert_eq!(flight, flight_cubic);
    // NewReno halves (RFC 5681), CUBIC keeps 0.7 (RFC 9438 4.6).
    assert_eq!(reno.conn().stats().ssthresh, flight / 2);
    assert_eq!(cubic.conn().stats().ssthresh, flight * 7 / 10);
    assert_eq!(Config::default().congestion, Algorithm::Cubic);
}

// ----------------------------------------------------------------------
// ECN (RFC 3168)
// ----------------------------------------------------------------------

#[test]
fn rfc3168_ecn_negotiated_when_both_ask() {
    let ecn = config(|c| c.ecn = true);
    let p = Pair::open(ecn);
    let syn = p.a.log[0].1;
    let syn_ack = p.b.log[0].1;
    assert!(
        syn.repr
            .flags
            .contains(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR)
    );
    assert!(syn_ack.repr.flags.contains(TcpFlags::SYN | TcpFlags::ECE));
    assert!(!syn_ack.repr.flags.contains(TcpFlags::CWR));
    assert!(!syn.ect && !syn_ack.ect, "no ECT on SYNs");
    assert!(p.a.conn.negotiated().3);
    assert!(p.b.conn.negotiated().3);
}

#[test]
fn rfc3168_ecn_off_when_one_side_lacks_it() {
    let ecn = config(|c| c.ecn = true);
    for (config_a, config_b) in [(ecn, Config::default()), (Config::default(), ecn)] {
        let mut setup = Setup::new(config_a);
        setup.config_b = config_b;
        let mut p = Pair::open_with(setup);
        assert_eq!(p.a.conn.state(), State::Established);
        let syn = p.a.log[0].1.repr;
        let syn_ack = p.b.log[0].1.repr;
        assert_eq!(
            syn.flags.contains(TcpFlags::ECE | TcpFlags::CWR),
            config_a.ecn
        );
        assert!(!syn_ack.flags.contains(TcpFlags::ECE));
        assert!(!p.a.conn.negotiated().3);
        assert!(!p.b.conn.negotiated().3);
        p.a.send.write(&pattern(10_000));
        p.run(100);
        assert!(p.a.log.iter().all(|(_, t)| !t.ect));
    }
}

#[test]
fn rfc3168_data_segments_are_ect_and_acks_are_not() {
    let mut p = Pair::open(config(|c| c.ecn = true));
    p.a.send.write(&pattern(20_000));
    p.run(100);
    for (_, t) in &p.a.log[1..] {
        assert_eq!(t.ect, t.repr.payload_len > 0, "{:?}", t.repr);
    }
    assert!(p.b.log.iter().all(|(_, t)| !t.ect));
}

#[test]
fn rfc3168_ce_echoed_until_cwr() {
    let opts = PeerOpts {
        ecn: true,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(config(|c| c.ecn = true), opts);
    assert!(l.conn().negotiated().3);
    l.send_data(100);
    // The IP header of that segment carried CE.
    l.side.conn.on_congestion_experienced();
    let out = l.out();
    assert_eq!(out.len(), 1, "ACKed at once");
    assert!(out[0].0.flags.contains(TcpFlags::ECE));
    // Every ACK echoes it until the peer's CWR.
    for _ in 0..3 {
        l.send_data(1448);
        l.send_data(1448);
        let out = l.out();
        assert!(!out.is_empty());
        assert!(out.iter().all(|(r, _)| r.flags.contains(TcpFlags::ECE)));
    }
    let mut cwr = l.ack_all();
    cwr.flags |= TcpFlags::CWR;
    cwr.payload_len = 1448;
    l.feed(&cwr, &pattern(1448));
    l.peer_nxt += 1448u32;
    l.send_data(1448);
    let out = l.out();
    assert!(!out.is_empty());
    assert!(out.iter().all(|(r, _)| !r.flags.contains(TcpFlags::ECE)));
}

#[test]
fn rfc3168_sender_reduces_once_and_sets_cwr() {
    let opts = PeerOpts {
        ecn: true,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(
        config(|c| {
            c.ecn = true;
            c.congestion = Algorithm::NewReno;
        }),
        opts,
    );
    l.peer_acks_all();
    l.write(200_000);
    let out = l.out();
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|(r, _)| !r.flags.contains(TcpFlags::CWR)));
    let flight = l.conn().in_flight();
    // ECE on the ACKs of the first two and four segments, then plain
    // ACKs for the rest, one segment at a time.
    let mut sent = Vec::new();
    for (i, (seg, _)) in out.iter().enumerate().skip(1) {
        let flags = if i <= 3 {
            TcpFlags::ECE
        } else {
            TcpFlags::empty()
        };
        let ack = l.seg(flags, seg.seq_number + seg.payload_len);
        l.feed(&ack, &[]);
        if i == 3 {
            let stats = l.conn().stats();
            assert_eq!(stats.ecn_signals, 3);
            assert_eq!(stats.ssthresh, flight / 2, "reduced once: {stats:?}");
        }
        sent.extend(l.out().into_iter().map(|(r, _)| r));
    }
    let stats = l.conn().stats();
    assert_eq!(stats.ssthresh, flight / 2, "{stats:?}");
    assert_eq!(stats.fast_retransmits, 0);
    assert_eq!(stats.retransmissions, 0);
    // The first new data segment after the reduction carries CWR, only it.
    assert!(!sent.is_empty());
    assert!(sent[0].flags.contains(TcpFlags::CWR), "{:?}", sent[0]);
    assert!(sent[1..].iter().all(|r| !r.flags.contains(TcpFlags::CWR)));
}

// ----------------------------------------------------------------------
// Segmentation offload: the device cuts segments of many MSS
// ----------------------------------------------------------------------

/// A client whose device cuts segments, with 64 KiB frames.
fn segmenting_client() -> Lone {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.side.segmented = true;
    l.side.max_len = 65_000;
    l
}

#[test]
fn segmentation_offload_sends_whole_segments_up_to_the_window() {
    let mut l = segmenting_client();
    let mss = 1448;
    l.write(3 * mss + 100);
    let out = l.out();
    // Three full segments in one, cut by the device; the short tail
    // waits, as Nagle has it (data is in flight).
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0.payload_len, 3 * mss);
    let (_, t) = l.side.log.last().unwrap();
    assert_eq!(usize::from(t.segment_size), mss);
    let ack = l.ack_all();
    l.feed(&ack, &[]);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.payload_len, 100);
    let (_, t) = l.side.log.last().unwrap();
    assert_eq!(t.segment_size, 0, "one segment: nothing to cut");
    // A long write goes in segments of whole MSS, as many as the
    // congestion window lets out (ten segments at first, RFC 6928).
    l.feed(&l.ack_all(), &[]);
    l.write(100 * mss);
    let out = l.out();
    let sent: usize = out.iter().map(|(r, _)| r.payload_len).sum();
    assert_eq!(
        sent,
        10 * mss,
        "{:?}",
        out.iter().map(|(r, _)| r.payload_len).collect::<Vec<_>>()
    );
    assert!(out.iter().all(|(r, _)| r.payload_len % mss == 0));
    assert!(out[0].0.payload_len > mss);
}

#[test]
fn segmentation_offload_retransmits_one_segment_at_a_time() {
    let mut l = segmenting_client();
    let mss = 1448;
    l.write(10 * mss);
    let first = l.out();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0.payload_len, 10 * mss);
    // Nothing comes back: the tail loss probe resends the last MSS, the
    // timeout then the first, each a segment of its own.
    let mut probes = Vec::new();
    while probes.len() < 2 {
        l.skip_to_deadline();
        for (repr, _) in l.out() {
            assert_eq!(repr.payload_len, mss, "{repr:?}");
            assert_eq!(l.side.log.last().unwrap().1.segment_size, 0);
            probes.push(repr.seq_number);
        }
    }
    let start = first[0].0.seq_number;
    assert_eq!(probes, [start + (9 * mss) as u32, start]);
}

// ----------------------------------------------------------------------
// Delayed ACKs (RFC 9293 3.8.6.3, RFC 5681 4.2)
// ----------------------------------------------------------------------

#[test]
fn delayed_ack_one_segment_acked_after_the_delay() {
    let mut l = Lone::client(
        config(|c| c.delayed_ack = Some(ms(100))),
        PeerOpts::default(),
    );
    l.advance(ms(3));
    let arrived = l.now;
    l.send_data(500);
    assert!(l.out().is_empty(), "no ACK at once");
    assert_eq!(l.conn().next_deadline(), Some(arrived + ms(100)));
    l.advance(ms(99));
    assert!(l.out().is_empty());
    l.advance(ms(1));
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
}

#[test]
fn delayed_ack_two_full_segments_acked_at_once() {
    let mut l = Lone::client(
        config(|c| c.delayed_ack = Some(ms(100))),
        PeerOpts::default(),
    );
    l.send_data(1448);
    assert!(l.out().is_empty());
    l.advance(ms(1));
    l.send_data(1448);
    let out = l.out();
    assert_eq!(out.len(), 1, "the second full segment is ACKed at once");
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.conn().next_deadline(), None);
}

#[test]
fn delayed_ack_an_unsegmented_segment_is_acked_at_once() {
    // A TAP with segmentation offload hands over the kernel's TCP in
    // segments of many MSS: one counts as the full-sized segments it
    // stands for, so it is acknowledged at once, not after the delay.
    let mut l = Lone::client(
        config(|c| c.delayed_ack = Some(ms(100))),
        PeerOpts::default(),
    );
    l.send_data(1448);
    assert!(l.out().is_empty(), "one full segment waits");
    l.advance(ms(1));
    l.send_data(2 * 1448);
    assert_eq!(l.out().len(), 1);
    l.advance(ms(1));
    l.send_data(16 * 1448);
    let out = l.out();
    assert_eq!(out.len(), 1, "the large segment is ACKed at once");
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert_eq!(l.conn().next_deadline(), None);
}

#[test]
fn delayed_ack_data_to_send_carries_the_ack() {
    let mut l = Lone::client(
        config(|c| c.delayed_ack = Some(ms(100))),
        PeerOpts::default(),
    );
    l.send_data(100);
    l.write(50);
    let out = l.out();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.payload_len, 50);
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
    assert!(
        l.conn().next_deadline() > Some(l.now + ms(100)),
        "no ACK left pending"
    );
}

#[test]
fn delayed_ack_none_acks_every_segment() {
    let mut l = Lone::client(config(|c| c.delayed_ack = None), PeerOpts::default());
    for len in [1, 100, 1448, 1448, 7] {
        l.send_data(len);
        let out = l.out();
        assert_eq!(out.len(), 1, "{len} bytes");
        assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
        l.advance(ms(1));
    }
}

// ----------------------------------------------------------------------
// Nagle (RFC 9293 3.7.4) and silly window syndrome (3.8.6.2)
// ----------------------------------------------------------------------

#[test]
fn nagle_small_segment_waits_for_the_ack() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.write(100);
    assert_eq!(l.out().len(), 1, "nothing unacknowledged: it goes");
    l.write(100);
    assert!(l.out().is_empty(), "waits for the ACK");
    l.write(2000);
    let out = l.out();
    assert_eq!(out.len(), 1, "a full segment goes");
    assert_eq!(out[0].0.payload_len, 1448);
    l.advance(ms(5));
    l.peer_acks_all();
    let out = l.out();
    assert_eq!(out.len(), 1, "the rest goes with the ACK");
    assert_eq!(out[0].0.payload_len, 2200 - 100 - 1448);
}

#[test]
fn nagle_off_sends_small_segments_at_once() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.side.conn.set_nagle(false);
    for _ in 0..5 {
        l.write(100);
        let out = l.out();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0.payload_len, 100);
    }
    assert_eq!(l.conn().in_flight(), 500);
}

#[test]
fn nagle_does_not_hold_a_retransmission() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.write(100);
    l.out();
    l.write(100);
    assert!(l.out().is_empty());
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(out.len(), 1, "the lost segment is sent again");
    assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
}

#[test]
fn sws_sender_does_not_send_slivers() {
    let opts = PeerOpts {
        window: 10_000,
        window_scale: None,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(Config::default(), opts);
    l.side.conn.set_nagle(false);
    l.write(30_000);
    let mut sent = Vec::new();
    for _ in 0..100 {
        let out = l.out();
        sent.extend(out.iter().map(|(r, _)| r.payload_len));
        if l.our_max == OUR_ISS + 30_001u32 && l.conn().in_flight() == 0 {
            break;
        }
        // The peer ACKs the oldest segment only, the window 10 000 past it.
        l.advance(ms(5));
        let oldest = l
            .side
            .log
            .iter()
            .map(|(_, t)| t.repr)
            .find(|r| {
                r.payload_len > 0 && r.seq_number + r.payload_len > l.our_max - l.conn().in_flight()
            })
            .unwrap();
        let ack = l.seg(TcpFlags::empty(), oldest.seq_number + oldest.payload_len);
        l.feed(&ack, &[]);
    }
    assert_eq!(sent.iter().sum::<usize>(), 30_000);
    let (last, rest) = sent.split_last().unwrap();
    assert!(rest.iter().all(|&n| n == 1448), "{sent:?}");
    assert!(*last <= 1448);
}

/// A client with a receive buffer of `capacity` bytes that the peer
/// filled; returns it and the ACK that closed the window.
fn full_receiver(capacity: usize) -> (Lone, TcpRepr) {
    let mut l = Lone::client_with(
        Config::default(),
        PeerOpts::default(),
        VecRecv::new(capacity),
    );
    while l.side.recv.window() > 0 {
        let n = l.side.recv.window().min(1448);
        l.send_data(n);
    }
    l.skip_to_deadline();
    let (last, _) = l.out().pop().expect("an ACK");
    assert_eq!(last.window_len, 0);
    assert_eq!(last.ack_number, Some(l.peer_nxt));
    (l, last)
}

#[test]
fn sws_receiver_window_not_advertised_in_tiny_steps() {
    let capacity = 8192;
    let (mut l, full) = full_receiver(capacity);
    let full_edge = full.ack_number.unwrap();
    // The application reads 100 bytes at a time; whatever ACK goes out
    // (for an old duplicate of the peer's, say) moves the right edge of
    // the window by nothing or by at least min(MSS, buffer / 2), less the
    // granularity of the scaled window field (128 bytes).
    let mut edges = vec![full_edge];
    for _ in 0..40 {
        l.side.recv.read(100);
        // Slow enough to stay inside the allowance for answers to old
        // duplicates (ten a second, as for challenge ACKs).
        l.advance(ms(110));
        let mut old = l.ack_all();
        old.seq_number = l.peer_nxt - 1u32;
        old.payload_len = 1;
        l.feed(&old, &pattern(1));
        let out = l.out();
        assert_eq!(out.len(), 1, "a duplicate is ACKed at once");
        let window = u32::from(out[0].0.window_len) << 7;
        edges.push(out[0].0.ack_number.unwrap() + window);
    }
    let steps: Vec<i32> = edges.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.len() > 10, "{steps:?}");
    assert!(
        steps.iter().all(|&d| d <= 0 || d >= 1460 - 128),
        "right edge steps {steps:?}"
    );
    assert!(steps.iter().any(|&d| d > 0), "the window opens at last");
}

// ----------------------------------------------------------------------
// Zero window: persist timer, probes (RFC 9293 3.8.6.1)
// ----------------------------------------------------------------------

/// A client whose peer closed its window, with `queued` bytes to send.
fn zero_window(config: Config, queued: usize) -> Lone {
    let mut l = Lone::client(config, PeerOpts::default());
    // Nagle off: the tail segment goes with the rest.
    l.side.conn.set_nagle(false);
    l.opts.window = 0;
    l.peer_acks_all();
    assert_eq!(l.conn().stats().send_window, 0);
    l.write(queued);
    assert!(l.out().is_empty(), "nothing goes into a zero window");
    l
}

#[test]
fn zero_window_persist_probes_back_off_and_transfer_resumes() {
    let mut l = zero_window(Config::default(), 5000);
    let rto = l.conn().stats().rto;
    let closed_at = l.now;
    let mut probes = Vec::new();
    for _ in 0..5 {
        l.skip_to_deadline();
        for (repr, _) in l.out() {
            // One byte past the window.
            assert_eq!(repr.payload_len, 1, "{repr:?}");
            assert_eq!(repr.seq_number, OUR_ISS + 1u32, "the same first byte");
            probes.push(l.now);
        }
        // The peer still has no room: it ACKs without taking the byte.
        let ack = l.seg(TcpFlags::empty(), OUR_ISS + 1u32);
        l.feed(&ack, &[]);
        assert!(l.out().is_empty());
    }
    let mut gaps = vec![probes[0] - closed_at];
    gaps.extend(probes.windows(2).map(|w| w[1] - w[0]));
    assert_eq!(gaps, [rto, rto * 2, rto * 4, rto * 8, rto * 16]);
    assert_eq!(l.conn().stats().window_probes, 5);
    assert_eq!(l.conn().stats().timeouts, 0, "probes are no timeouts");
    // The window opens: everything goes at once, no timeout needed.
    l.opts.window = 65535;
    l.advance(ms(10));
    let ack = l.seg(TcpFlags::empty(), OUR_ISS + 1u32);
    l.feed(&ack, &[]);
    let out = l.out();
    let sent: usize = out.iter().map(|(r, _)| r.payload_len).sum();
    assert_eq!(
        sent,
        5000,
        "{:?}",
        out.iter()
            .map(|(r, _)| (r.seq_number, r.payload_len))
            .collect::<Vec<_>>()
    );
    assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
    l.peer_acks_all();
    assert_eq!(l.conn().in_flight(), 0);
    assert!(l.side.send.data.is_empty());
}

#[test]
fn zero_window_probe_taken_by_the_peer() {
    let mut l = zero_window(Config::default(), 5000);
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(out.len(), 1);
    // The peer had room for that byte after all, still no more.
    let ack = l.seg(TcpFlags::empty(), OUR_ISS + 2u32);
    l.feed(&ack, &[]);
    assert_eq!(l.side.send.data.len(), 4999);
    l.opts.window = 65535;
    let ack = l.seg(TcpFlags::empty(), OUR_ISS + 2u32);
    l.feed(&ack, &[]);
    let out = l.out();
    assert_eq!(out[0].0.seq_number, OUR_ISS + 2u32);
    assert_eq!(out.iter().map(|(r, _)| r.payload_len).sum::<usize>(), 4999);
}

#[test]
fn zero_window_probing_never_times_out_while_answered() {
    let mut l = zero_window(
        config(|c| c.user_timeout = Some(Duration::from_secs(10))),
        5000,
    );
    let start = l.now;
    while l.now < start + Duration::from_secs(600) {
        l.skip_to_deadline();
        l.out();
        let ack = l.seg(TcpFlags::empty(), OUR_ISS + 1u32);
        l.feed(&ack, &[]);
        assert_eq!(l.state(), State::Established, "at {:?}", l.now - start);
    }
    assert!(l.conn().stats().window_probes >= 10);
}

#[test]
fn zero_window_update_sent_when_the_application_reads() {
    let capacity = 16 * 1024;
    let (mut l, _) = full_receiver(capacity);
    assert!(l.out().is_empty());
    l.side.recv.read(500);
    assert!(l.out().is_empty(), "500 bytes are not worth an update");
    l.side.recv.read(capacity);
    let out = l.out();
    assert_eq!(out.len(), 1, "a window update");
    assert_eq!(usize::from(out[0].0.window_len) << 7, capacity);
    assert_eq!(out[0].0.ack_number, Some(l.peer_nxt));
}

#[test]
fn zero_window_update_sent_for_a_buffer_smaller_than_two_segments() {
    let capacity = 2000;
    let mut l = Lone::client_with(
        Config::default(),
        PeerOpts::default(),
        VecRecv::new(capacity),
    );
    l.send_data(1448);
    l.send_data(552);
    l.skip_to_deadline();
    let out = l.out();
    assert_eq!(out.last().unwrap().0.window_len, 0);
    l.side.recv.read(capacity);
    let out = l.out();
    assert_eq!(out.len(), 1, "a window update");
    assert!(usize::from(out[0].0.window_len) << 7 >= 1000);
}

// ----------------------------------------------------------------------
// MSS (RFC 9293 3.7.1, RFC 6691)
// ----------------------------------------------------------------------

#[test]
fn mss_is_the_smaller_of_both() {
    for (peer, expected) in [(1000u16, 1000usize), (9000, 1460), (1460, 1460)] {
        let opts = PeerOpts {
            mss: Some(peer),
            ..PeerOpts::default()
        };
        let mut l = Lone::client(Config::default(), opts);
        assert_eq!(
            l.side.log[0].1.repr.max_seg_size,
            Some(1460),
            "we announce ours"
        );
        assert_eq!(l.conn().stats().mss, expected);
        l.write(20_000);
        let out = l.out();
        // Timestamps take 12 bytes of each segment.
        assert!(out.iter().all(|(r, _)| r.payload_len == expected - 12));
        // The same on the passive side.
        let l = Lone::server(Config::default(), opts);
        assert_eq!(l.conn().stats().mss, expected);
    }
}

#[test]
fn mss_defaults_to_536_without_the_option() {
    let opts = PeerOpts {
        mss: None,
        timestamps: false,
        ..PeerOpts::default()
    };
    let mut l = Lone::client(Config::default(), opts);
    assert_eq!(l.conn().stats().mss, usize::from(DEFAULT_PEER_MSS));
    assert_eq!(DEFAULT_PEER_MSS, 536);
    l.write(5000);
    let out = l.out();
    assert!(out.iter().all(|(r, _)| r.payload_len == 536));
}

#[test]
fn mss_reduce_shrinks_segments() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    l.side.conn.set_nagle(false);
    l.write(3000);
    let out = l.out();
    assert_eq!(out[0].0.payload_len, 1448);
    // Path MTU shrank: those segments were too big, they go again.
    l.side.conn.reduce_mss(600);
    assert_eq!(l.conn().stats().mss, 600);
    let out = l.out();
    assert!(!out.is_empty());
    assert_eq!(out[0].0.seq_number, OUR_ISS + 1u32);
    assert!(out.iter().all(|(r, _)| r.payload_len <= 588), "{out:?}");
    // Growing is not a reduction; absurd values are floored.
    l.side.conn.reduce_mss(1400);
    assert_eq!(l.conn().stats().mss, 600);
    l.side.conn.reduce_mss(0);
    assert_eq!(l.conn().stats().mss, 88);
}

// ----------------------------------------------------------------------
// Out of order data with a receive buffer holding few gaps
// ----------------------------------------------------------------------

#[test]
fn out_of_order_with_a_one_gap_assembler_completes() {
    type Ring = RingRecvBuffer<'static, 1>;
    let setup = Setup {
        config_a: Config::default(),
        config_b: Config::default(),
        iss_a: SeqNumber(0xffff_0000),
        iss_b: SeqNumber(1),
        recv_a: Ring::with_gaps(vec![0; 1 << 20]),
        recv_b: Ring::with_gaps(vec![0; 1 << 20]),
    };
    let mut p = Pair::open_with(setup);
    assert_eq!(p.a.conn.state(), State::Established);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    p.drop = Box::new(move |_, _, r| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        r.payload_len > 0 && rng.is_multiple_of(8)
    });
    let data = pattern(400_000);
    p.a.send.write(&data);
    p.a.conn.close();
    p.run(100_000);
    let mut got = vec![0; data.len() + 1];
    let n = p.b.recv.read(&mut got);
    assert_eq!(n, data.len());
    assert!(got[..n] == data[..]);
    assert_eq!(p.b.conn.state(), State::CloseWait);
    assert!(p.b.conn.stats().out_of_order > 0);
    assert!(p.a.conn.stats().retransmissions > 0);
}

/// Answers to unacceptable segments share the challenge ACK allowance
/// (RFC 5961 section 7), so forged old segments cannot make a flood.
#[test]
fn rfc5961_acks_to_out_of_window_segments_are_rate_limited() {
    let capacity = 8192;
    let (mut l, _) = full_receiver(capacity);
    let mut answered = 0;
    for _ in 0..50 {
        let mut old = l.ack_all();
        old.seq_number = l.peer_nxt - 1000u32;
        old.payload_len = 1;
        l.feed(&old, &pattern(1));
        answered += l.out().len();
    }
    assert!(
        (1..=10).contains(&answered),
        "{answered} answers to 50 old segments in one second"
    );
}

/// RFC 6298 5.7: after the SYN timed out, data starts with a 3 s RTO.
#[test]
fn rfc6298_rto_is_three_seconds_after_a_syn_timeout() {
    let now = Instant::from_secs(100);
    let mut conn = Connection::connect(40000, 80, SeqNumber(1), now, Config::default());
    let (send, recv) = (VecSend::default(), VecRecv::new(1000));
    let syn = conn.poll_transmit(now, &send, &recv, 1500).unwrap();
    conn.on_transmitted(now, &syn);
    // The SYN is lost; it goes again after the initial RTO of 1 s.
    let later = conn.next_deadline().unwrap();
    assert_eq!(later, now + Duration::from_secs(1));
    let again = conn.poll_transmit(later, &send, &recv, 1500).unwrap();
    assert!(again.repr.flags.contains(TcpFlags::SYN));
    conn.on_transmitted(later, &again);
    let syn_ack = TcpRepr {
        src_port: 80,
        dst_port: 40000,
        flags: TcpFlags::SYN,
        seq_number: SeqNumber(5000),
        ack_number: Some(SeqNumber(2)),
        window_len: 1000,
        max_seg_size: Some(1460),
        ..TcpRepr::default()
    };
    let (mut send, mut recv) = (send, recv);
    conn.on_segment(later, &syn_ack, &[], &mut send, &mut recv);
    assert_eq!(conn.state(), State::Established);
    assert_eq!(conn.stats().rto, Duration::from_secs(3));
}

/// Limited transmit (RFC 3042): the first two duplicate ACKs each let
/// one new segment out although the window is full.
#[test]
fn rfc3042_limited_transmit_sends_new_data_on_duplicate_acks() {
    let mut l = Lone::client(Config::default(), PeerOpts::default());
    // The peer's first window update, so that its ACKs are duplicates.
    l.peer_acks_all();
    l.write(100_000);
    let first: Vec<TcpRepr> = l.out().into_iter().map(|(r, _)| r).collect();
    assert_eq!(first.len(), 10, "the initial window");
    l.advance(ms(1));
    // Segment 0 is lost: the peer's ACKs for 1 and 2 repeat SND.UNA.
    for expected_new in [1, 1] {
        let dup = l.seg(TcpFlags::empty(), first[0].seq_number);
        l.feed(&dup, &[]);
        let out = l.out();
        assert_eq!(out.len(), expected_new, "one new segment per duplicate");
        assert!(out[0].0.seq_number > first[9].seq_number);
    }
    assert_eq!(l.conn().stats().fast_retransmits, 0);
}

/// RFC 8985 tail loss probe: the last three segments of a flight are lost
/// and no duplicate ACK comes. After two round trips the last segment goes
/// again; its SACK shows the hole below it, and the two lost segments are
/// resent at once instead of after the retransmission timeout.
#[test]
fn rfc8985_tail_loss_probe_recovers_without_a_timeout() {
    let mut l = client_with_rtt(Config::default(), ms(10));
    l.write(10 * 1448);
    let sent: Vec<TcpRepr> = l.out().into_iter().map(|(r, _)| r).collect();
    assert_eq!(sent.len(), 10);
    let end = |r: &TcpRepr| r.seq_number + r.payload_len;
    // Segments 0-6 arrive; 7, 8 and 9 are lost.
    l.advance(ms(10));
    let ack = l.seg(TcpFlags::empty(), end(&sent[6]));
    l.feed(&ack, &[]);
    assert!(l.out().is_empty());
    let before = l.now;
    l.skip_to_deadline();
    assert!(
        l.now - before < ms(100),
        "the probe comes well before the RTO"
    );
    let probe = l.out();
    assert_eq!(probe.len(), 1);
    assert_eq!(
        probe[0].0.seq_number, sent[9].seq_number,
        "the last segment again"
    );
    // The probe arrives: the peer SACKs it above the hole.
    let mut sack = l.seg(TcpFlags::empty(), end(&sent[6]));
    sack.sack_ranges[0] = Some((sent[9].seq_number.0, end(&sent[9]).0));
    l.feed(&sack, &[]);
    let resent: Vec<_> = l.out().into_iter().map(|(r, _)| r.seq_number).collect();
    assert_eq!(resent, [sent[7].seq_number, sent[8].seq_number]);
    let stats = l.conn().stats();
    assert_eq!(
        (stats.tail_probes, stats.timeouts, stats.fast_retransmits),
        (1, 0, 1)
    );
}

/// A peer that keeps retransmitting its SYN is alive: the SYN-ACKs it
/// asks for do not use up the retry budget of a passive open.
#[test]
fn rfc9293_retransmitted_syns_keep_the_handshake_alive() {
    let config = config(|c| c.syn_retries = 3);
    let mut l = Lone::accepted(config, PeerOpts::default());
    for _ in 0..6 {
        l.out();
        l.skip_to_deadline();
        // The peer's SYN again (our SYN-ACKs are being lost).
        let syn = l.syn(None);
        l.feed(&syn, &[]);
        assert_eq!(l.state(), State::SynReceived);
    }
    assert!(l.out().iter().any(|(r, _)| r.flags.contains(TcpFlags::SYN)));
}
