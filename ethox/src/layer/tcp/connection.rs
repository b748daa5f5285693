//! One TCP connection as a pure state machine: segments and time in,
//! segments out.
//!
//! A [`Connection`] holds the sequence state of RFC 9293 section 3.3.1
//! and nothing else: the bytes live in the application's
//! [`SendBuffer`] and [`RecvBuffer`]. It never touches a device. The
//! [endpoint](super) parses a segment, finds the connection and calls
//! [`Connection::on_segment`]; it asks [`Connection::poll_transmit`] for
//! the next segment to send, builds it in a frame (copying the payload
//! from the send buffer at the offset the [`Transmit`] names) and, once
//! the frame is queued, reports it with [`Connection::on_transmitted`].
//! That split matters: a segment that could not go out (the next hop is
//! still being resolved) changes nothing and is offered again.
//!
//! Tests drive a connection with [`TcpRepr`]s and explicit instants, no
//! bytes and no devices (see `tests` at the end of this file).
//!
//! What it implements:
//!
//! * the state machine of RFC 9293 section 3.10, with simultaneous open and
//!   close, half-close, TIME-WAIT of configurable length, a user timeout
//!   (section 3.10.8) and keep-alives (section 3.8.4);
//! * RFC 5961: RSTs and SYNs inside the window are answered with a
//!   challenge ACK (rate-limited), ACKs outside the acceptable range are
//!   dropped;
//! * RFC 7323 window scaling, timestamps and PAWS;
//! * RFC 2018 SACK both ways, and loss recovery after RFC 6675 (SACK
//!   scoreboard, pipe) or RFC 6582 (NewReno partial ACKs) without SACK;
//! * RFC 6298 retransmission timer with Karn's rule and backoff (the
//!   estimator is [`RttEstimator`]);
//! * congestion control behind [`CongestionControl`];
//! * RFC 3168 ECN negotiation and the ECE/CWR exchange;
//! * delayed ACKs (RFC 9293 3.8.6.3, at least every second full segment),
//!   Nagle's algorithm, silly-window avoidance on both sides (RFC 9293
//!   3.8.6.2), zero-window probes with backoff;
//! * MSS negotiation and path MTU updates.

use core::time::Duration;

use super::buffer::{RecvBuffer, SendBuffer};
use super::congestion::{Algorithm, Congestion, CongestionControl};
use super::rtt::{RtoConfig, RttEstimator};
use crate::time::Instant;
use crate::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};

/// The states of RFC 9293 section 3.3.2 that a connection object can be
/// in (LISTEN belongs to the endpoint's listeners).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Finished: nothing more to send or receive. The endpoint frees it.
    Closed,
    /// Our SYN is out, waiting for the peer's.
    SynSent,
    /// Both SYNs seen, waiting for the ACK of ours.
    SynReceived,
    /// Data flows both ways.
    Established,
    /// We closed; our FIN is not acknowledged yet.
    FinWait1,
    /// We closed and our FIN is acknowledged; the peer still sends.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both closed at once; waiting for the ACK of our FIN.
    Closing,
    /// The peer closed, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both directions closed; waiting out stray segments.
    TimeWait,
}

impl State {
    /// Whether both SYNs have been exchanged and acknowledged (the
    /// "synchronized" states of RFC 9293).
    pub fn is_synchronized(self) -> bool {
        !matches!(self, State::Closed | State::SynSent | State::SynReceived)
    }

    /// Whether the peer may still send us data.
    pub fn may_receive(self) -> bool {
        matches!(
            self,
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2
        )
    }

    /// Whether we may still queue data to send.
    pub fn may_send(self) -> bool {
        matches!(
            self,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        )
    }
}

impl core::fmt::Display for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match self {
            State::Closed => "CLOSED",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        };
        f.write_str(name)
    }
}

/// Why a connection ended, or `Normal` if both sides closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// Both sides closed (FINs exchanged and acknowledged).
    Normal,
    /// The peer answered our SYN with a RST: nothing listens there.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// Data went unacknowledged longer than the user timeout, the SYN was
    /// retried too often, or keep-alive probes went unanswered.
    TimedOut,
    /// The application aborted it (a RST was sent).
    Aborted,
}

/// Tunables of a connection. `Default` gives what a modern host does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The window scale shift we offer (RFC 7323), at most 14; `None` does
    /// not offer scaling (windows then stop at 64 KiB).
    pub window_scale: Option<u8>,
    /// Offer timestamps (RFC 7323): RTT measurement and PAWS.
    pub timestamps: bool,
    /// Offer SACK (RFC 2018).
    pub sack: bool,
    /// Ask for ECN (RFC 3168) when opening; always accepted when the peer
    /// asks and this is set.
    pub ecn: bool,
    /// Nagle's algorithm (RFC 9293 3.7.4): hold small segments while data
    /// is unacknowledged. On by default.
    pub nagle: bool,
    /// How long an ACK may wait for a second segment or outgoing data
    /// (RFC 9293 3.8.6.3 allows up to 500 ms). `None` ACKs every segment.
    pub delayed_ack: Option<Duration>,
    /// How long TIME-WAIT lasts (2 MSL; RFC 9293 suggests 2 minutes for
    /// MSL, Linux uses 60 s for the whole wait).
    pub time_wait: Duration,
    /// Give up when data stays unacknowledged this long (RFC 9293 3.10.8
    /// USER TIMEOUT), or when segments wait this long for the next hop's
    /// link-layer address; `None` waits forever (the retransmission
    /// backoff is still bounded).
    pub user_timeout: Option<Duration>,
    /// Send a keep-alive after this much idle time (RFC 9293 3.8.4); `None`
    /// sends none.
    pub keep_alive: Option<Duration>,
    /// Keep-alive probes left unanswered before the connection is dropped.
    pub keep_alive_probes: u8,
    /// SYN (or SYN-ACK) transmissions before giving up.
    pub syn_retries: u8,
    /// The RFC 6298 timer's bounds.
    pub rto: RtoConfig,
    /// Which congestion control a new connection uses.
    pub congestion: Algorithm,
    /// The MSS we announce: the largest segment payload our link takes.
    pub mss: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_scale: Some(7),
            timestamps: true,
            sack: true,
            ecn: false,
            nagle: true,
            delayed_ack: Some(Duration::from_millis(40)),
            time_wait: Duration::from_secs(60),
            user_timeout: Some(Duration::from_secs(120)),
            keep_alive: None,
            keep_alive_probes: 9,
            syn_retries: 6,
            rto: RtoConfig::default(),
            congestion: Algorithm::default(),
            mss: DEFAULT_MSS,
        }
    }
}

/// The MSS for an Ethernet link: 1500 bytes minus the IPv4 and TCP headers.
pub const DEFAULT_MSS: u16 = 1460;

/// The MSS assumed when the peer sends none (RFC 9293 3.7.1: 536 for
/// IPv4; IPv6 peers always send one in practice).
pub const DEFAULT_PEER_MSS: u16 = 536;

/// Duplicate ACKs that start fast retransmit (RFC 5681 3.2).
const DUP_THRESHOLD: u32 = 3;

/// Challenge ACKs one connection sends per second at most (RFC 5961
/// section 7 suggests a limit; Linux allows about 1000 per second host
/// wide, a connection needs far fewer).
const CHALLENGE_ACKS_PER_SEC: u8 = 10;

/// The shortest probe timeout, in nanoseconds (2 ms): a tail loss probe
/// fires no sooner.
const MIN_PROBE_TIMEOUT_NANOS: u64 = 2_000_000;

/// The longest a peer may delay its ACK of a single segment (RFC 8985
/// 7.2 WCDelAckT), in nanoseconds (200 ms).
const WORST_DELAYED_ACK_NANOS: u64 = 200_000_000;

/// How many SACK ranges of the peer's the scoreboard keeps.
const SCOREBOARD_RANGES: usize = 8;

/// The bytes the timestamps option takes in every segment (10, padded).
const TIMESTAMPS_LEN: usize = 12;

/// How many of the receive buffer's held ranges a run of duplicate ACKs
/// reports between them (see [`Connection::sack_blocks`]).
const SACK_REPORTED_RANGES: usize = 32;

/// The longest the persist (zero-window probe) timer backs off to.
const MAX_PERSIST: Duration = Duration::from_secs(60);

/// PAWS: a timestamp older than this is no longer trusted (RFC 7323
/// section 5.5, 24 days).
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);

/// Counters of one connection, readable at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Smoothed round-trip time, if measured.
    pub srtt: Option<Duration>,
    /// The current retransmission timeout.
    pub rto: Duration,
    /// The congestion window in bytes.
    pub cwnd: usize,
    /// The slow-start threshold in bytes.
    pub ssthresh: usize,
    /// The peer's window in bytes, scaled.
    pub send_window: usize,
    /// The MSS this side sends with.
    pub mss: usize,
    /// Segments sent, retransmissions included.
    pub segments_sent: u64,
    /// Segments received and accepted.
    pub segments_received: u64,
    /// Data bytes sent for the first time.
    pub bytes_sent: u64,
    /// Data bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Data bytes received in order.
    pub bytes_received: u64,
    /// Segments sent again (timeouts, fast retransmits, recovery).
    pub retransmissions: u64,
    /// Retransmission timer expirations.
    pub timeouts: u64,
    /// Fast retransmits (entries into loss recovery).
    pub fast_retransmits: u64,
    /// Segments that arrived out of order.
    pub out_of_order: u64,
    /// Segments dropped as outside the window or failing PAWS.
    pub rejected: u64,
    /// Challenge ACKs sent (RFC 5961).
    pub challenge_acks: u64,
    /// Zero-window probes sent.
    pub window_probes: u64,
    /// Tail loss probes sent (RFC 8985 section 7).
    pub tail_probes: u64,
    /// ECN congestion signals received (ECE).
    pub ecn_signals: u64,
}

/// What a segment did, for the endpoint and the application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaction {
    /// The connection became established.
    pub established: bool,
    /// New in-order data reached the receive buffer.
    pub readable: bool,
    /// Acknowledged data left the send buffer: there is room to write.
    pub writable: bool,
    /// The peer's FIN arrived: no more data will come.
    pub peer_closed: bool,
    /// The connection is over (see [`Connection::close_reason`]).
    pub closed: bool,
    /// Answer the segment with a RST, [`Connection::reset_for`] it (RFC
    /// 9293 3.10.7: unacceptable ACKs in SYN-SENT and SYN-RECEIVED). Not
    /// connection state: the endpoint sends it at once or never. (A flag,
    /// not the header: every segment's reaction is returned by value.)
    pub reset: bool,
}

/// A segment to send: the header, and where its payload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// The header; `repr.payload_len` bytes follow.
    pub repr: TcpRepr,
    /// Where the payload starts in the send buffer (offset from the oldest
    /// unacknowledged byte).
    pub offset: usize,
    /// Set the IP header's ECN field to ECT(0) (RFC 3168: data segments of
    /// an ECN-capable connection; never SYNs, pure ACKs or retransmissions).
    pub ect: bool,
    /// 0, or the payload bytes of each segment the device is to cut this
    /// one into (segmentation offload: the payload is longer).
    pub segment_size: u16,
}

/// The peer's SACK ranges above `snd_una`, merged and ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scoreboard {
    /// `(start, end)` ranges, sorted, disjoint, all above `snd_una`.
    ranges: [(SeqNumber, SeqNumber); SCOREBOARD_RANGES],
    len: usize,
}

impl Scoreboard {
    fn ranges(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.ranges[..self.len.min(SCOREBOARD_RANGES)]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// Adds a SACK block, ignoring blocks that are empty, reversed, or
    /// outside `(una, max]`: a peer cannot select what we never sent.
    #[inline(never)]
    fn add(&mut self, start: SeqNumber, end: SeqNumber, una: SeqNumber, max: SeqNumber) {
        let start = start.max(una);
        if start.partial_cmp(&end) != Some(core::cmp::Ordering::Less) || end > max {
            return;
        }
        let mut merged = (start, end);
        let mut kept = [(SeqNumber(0), SeqNumber(0)); SCOREBOARD_RANGES];
        let mut n = 0;
        for &(s, e) in self.ranges() {
            if e < merged.0 || merged.1 < s {
                kept[n] = (s, e);
                n += 1;
            } else {
                merged = (s.min(merged.0), e.max(merged.1));
            }
        }
        // Insert in order; when full, the highest range gives way (the
        // lowest ones matter most: they decide what is lost).
        let at = kept[..n]
            .iter()
            .position(|&(s, _)| merged.0 < s)
            .unwrap_or(n);
        if n == SCOREBOARD_RANGES {
            if at == n {
                self.ranges = kept;
                self.len = n;
                return;
            }
            n -= 1;
        }
        let mut i = n;
        while i > at {
            kept[i] = kept[i - 1];
            i -= 1;
        }
        kept[at] = merged;
        self.ranges = kept;
        self.len = n + 1;
    }

    /// Drops everything below the new `snd_una`.
    fn advance(&mut self, una: SeqNumber) {
        if self.len == 0 {
            return;
        }
        let mut kept = [(SeqNumber(0), SeqNumber(0)); SCOREBOARD_RANGES];
        let mut n = 0;
        for &(s, e) in self.ranges() {
            if e > una {
                kept[n] = (s.max(una), e);
                n += 1;
            }
        }
        self.ranges = kept;
        self.len = n;
    }

    fn sacked_bytes(&self) -> usize {
        self.ranges()
            .iter()
            .map(|&(s, e)| e.checked_distance(s).unwrap_or(0))
            .sum()
    }

    /// The RFC 6675 "lost" boundary: an unSACKed byte below it has more
    /// than `(DupThresh - 1) * SMSS` SACKed bytes above it (IsLost).
    fn lost_below(&self, mss: usize) -> Option<SeqNumber> {
        let mut above = 0usize;
        for &(s, e) in self.ranges().iter().rev() {
            above = above.saturating_add(e.checked_distance(s).unwrap_or(0));
            if above > (DUP_THRESHOLD as usize - 1).saturating_mul(mss) {
                return Some(s);
            }
        }
        None
    }

    /// Whether `seq` is SACKed; if so, where its range ends.
    fn covering(&self, seq: SeqNumber) -> Option<SeqNumber> {
        self.ranges()
            .iter()
            .find(|&&(s, e)| s <= seq && seq < e)
            .map(|&(_, e)| e)
    }

    /// The unSACKed bytes in `[from, to)`.
    fn holes_between(&self, from: SeqNumber, to: SeqNumber) -> usize {
        let total = to.checked_distance(from).unwrap_or(0);
        let covered: usize = self
            .ranges()
            .iter()
            .map(|&(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                e.checked_distance(s).unwrap_or(0)
            })
            .sum();
        total.saturating_sub(covered)
    }
}

/// Sender flags that are rarely set, one bit each: most polls find none
/// set, and one test says so (see [`Connection::nothing_to_send`]). The ACK
/// and congestion window flags, written on every segment, stay `bool`s: as
/// bits they cost more to write than the test saves (measured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Owed(u8);

impl Owed {
    /// Abort requested: a RST goes out next.
    const RST: u8 = 1;
    /// A keep-alive is due.
    const KEEP_ALIVE: u8 = 1 << 1;
    /// The probe timer fired: the next segment is the tail loss probe.
    const TAIL_PROBE: u8 = 1 << 2;
    /// The application closed: a FIN follows the queued data.
    const FIN: u8 = 1 << 3;

    /// Whether `bit` is set.
    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Sets `bit` if `on`, clears it otherwise (without a branch: `on` is
    /// often computed).
    fn set(&mut self, bit: u8, on: bool) {
        self.0 = (self.0 & !bit) | (u8::from(on) * bit);
    }

    /// Whether any flag is set.
    fn any(self) -> bool {
        self.0 != 0
    }
}

/// One TCP connection's state. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Connection<C = Congestion> {
    state: State,
    config: Config,
    local_port: u16,
    remote_port: u16,
    close_reason: Option<CloseReason>,

    // Send sequence space (RFC 9293 3.3.1).
    iss: SeqNumber,
    snd_una: SeqNumber,
    /// The next sequence number to send (moves back after a timeout).
    snd_nxt: SeqNumber,
    /// The highest sequence number sent so far, plus one.
    snd_max: SeqNumber,
    /// The peer's window, scaled.
    snd_wnd: usize,
    snd_wl1: SeqNumber,
    snd_wl2: SeqNumber,
    /// The largest window the peer ever offered (RFC 5961 5.2, SWS).
    max_snd_wnd: usize,
    /// The shift the peer's window fields take (its offer).
    snd_shift: u8,
    /// Bytes our MSS: the most payload a segment carries, options aside.
    mss: usize,
    /// Where our FIN sits, once sent.
    fin_seq: Option<SeqNumber>,
    /// Rarely set sender flags: a RST, a keep-alive, a probe, a FIN (see
    /// [`Owed`]).
    owed: Owed,

    // Receive sequence space.
    irs: SeqNumber,
    rcv_nxt: SeqNumber,
    /// The right edge we advertised (never moved left, RFC 9293 3.8.6).
    rcv_adv: SeqNumber,
    /// The shift our window fields take (0 unless both offered scaling).
    rcv_shift: u8,
    /// Both sides offered window scaling (RFC 7323 2.2).
    scaling: bool,
    /// The most room the receive buffer ever offered: its size, near
    /// enough, for receiver-side SWS avoidance (RFC 9293 3.8.6.2.2).
    rcv_buf: usize,
    /// The peer's FIN was received.
    fin_received: bool,

    // Options.
    sack: bool,
    timestamps: bool,
    /// The TSval to echo (RFC 7323 TS.Recent) and when it was taken.
    ts_recent: u32,
    ts_recent_at: Instant,
    /// Our timestamp clock's offset (random per connection, RFC 7323 5.4).
    ts_offset: u32,
    ecn: bool,
    /// ECN: a CE mark was seen; ECE on every ACK until the peer's CWR.
    ecn_echo: bool,
    /// ECN: we reduced after ECE; the next new data segment carries CWR.
    ecn_cwr: bool,
    /// ECN: no second reduction until `snd_una` passes this.
    ecn_recover: Option<SeqNumber>,

    // Timers and ACKs.
    rtt: RttEstimator,
    /// Karn: one segment timed at a time; `(end of segment, sent at)`.
    rtt_probe: Option<(SeqNumber, Instant)>,
    /// Our timestamp clock at the last retransmission timeout: an echo
    /// older than that answers a transmission from before it, and its age
    /// would count the timeout as round-trip time.
    rto_ts: Option<u32>,
    retransmit_at: Option<Instant>,
    /// When data first went unacknowledged without progress (user timeout).
    stalled_since: Option<Instant>,
    /// SYN transmissions so far.
    syn_sent: u8,
    /// A segment could not go out since the last transmission or
    /// retransmission timeout (its next hop was not resolved, or there
    /// was no route).
    blocked: bool,
    /// An ACK goes out on the next poll, data or not.
    ack_now: bool,
    /// Duplicate ACKs still owed: one per out-of-order segment (RFC 5681
    /// 4.2), also when several arrive before the next poll.
    dup_acks_owed: u16,
    /// Duplicate ACKs sent so far of the owed run: each names other held
    /// ranges after the most recent one.
    dup_acks_paid: u16,
    ack_delayed_until: Option<Instant>,
    /// Full segments received since the last ACK.
    unacked_segments: u8,
    /// The congestion window, not the application or the peer's window,
    /// held back the last transmission: ACKs may grow the window even if
    /// several arrive before the next send (RFC 7661 spirit).
    cwnd_limited: bool,
    /// New data sent by limited transmit since the last new ACK.
    limited_bytes: usize,
    /// The largest payload the peer has sent: what "full-sized" means for
    /// delayed ACKs (the peer's segments may be smaller than our MSS).
    rcv_mss: usize,
    /// TIME-WAIT ends.
    time_wait_until: Option<Instant>,
    /// Zero-window probing.
    persist_at: Option<Instant>,
    persist_backoff: u32,
    /// A zero-window probe is due.
    probe_due: bool,
    /// Last time anything arrived, for keep-alive.
    last_heard: Instant,
    keep_alive_at: Option<Instant>,
    keep_alive_sent: u8,
    /// Challenge ACK limiter: the second it counts in and the count.
    challenge_second: u64,
    challenge_count: u8,

    // Loss recovery.
    cc: C,
    dup_acks: u32,
    /// In recovery until `snd_una` passes this (RFC 6582 "recover").
    recovery: Option<SeqNumber>,
    /// The highest sequence retransmitted in this recovery (RFC 6675
    /// HighRxt).
    high_rxt: SeqNumber,
    scoreboard: Scoreboard,
    /// When the tail loss probe timer (RFC 8985 7.2) fires.
    tlp_at: Option<Instant>,
    /// The probe in flight: where it starts. One per episode.
    tlp_probe: Option<SeqNumber>,
    /// The probe was SACKed above a hole: everything not SACKed below
    /// this was sent before a segment that arrived, so it is lost (the
    /// RACK reasoning of RFC 8985 applied to the probe).
    probe_lost_edge: Option<SeqNumber>,

    stats: ConnectionStats,
}

impl Connection<Congestion> {
    /// A connection that opens actively: it sends a SYN from `local_port`
    /// to `remote_port` with initial sequence number `iss` (from
    /// [`IsnGenerator`](super::isn::IsnGenerator)).
    pub fn connect(
        local_port: u16,
        remote_port: u16,
        iss: SeqNumber,
        now: Instant,
        config: Config,
    ) -> Self {
        let cc = Congestion::new(config.congestion, usize::from(DEFAULT_PEER_MSS));
        Self::connect_with(local_port, remote_port, iss, now, config, cc)
    }

    /// A connection opened passively by the SYN `syn` (a listener matched
    /// it): it answers with a SYN-ACK from sequence number `iss`.
    pub fn accept(syn: &TcpRepr, iss: SeqNumber, now: Instant, config: Config) -> Self {
        let cc = Congestion::new(config.congestion, usize::from(DEFAULT_PEER_MSS));
        Self::accept_with(syn, iss, now, config, cc)
    }
}

impl<C: CongestionControl> Connection<C> {
    fn blank(
        local_port: u16,
        remote_port: u16,
        iss: SeqNumber,
        now: Instant,
        config: Config,
        cc: C,
    ) -> Self {
        Connection {
            state: State::Closed,
            config,
            local_port,
            remote_port,
            close_reason: None,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: iss,
            max_snd_wnd: 0,
            snd_shift: 0,
            mss: usize::from(DEFAULT_PEER_MSS),
            fin_seq: None,
            owed: Owed::default(),
            ack_now: false,
            cwnd_limited: false,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            rcv_adv: SeqNumber(0),
            rcv_shift: 0,
            scaling: false,
            rcv_buf: 0,
            fin_received: false,
            sack: false,
            timestamps: false,
            ts_recent: 0,
            ts_recent_at: now,
            // Derived from the ISN, which is unpredictable already.
            ts_offset: iss.0.rotate_left(13) ^ 0x5bd1_e995,
            ecn: false,
            ecn_echo: false,
            ecn_cwr: false,
            ecn_recover: None,
            rtt: RttEstimator::new(config.rto),
            rtt_probe: None,
            rto_ts: None,
            retransmit_at: None,
            stalled_since: None,
            syn_sent: 0,
            blocked: false,
            dup_acks_owed: 0,
            dup_acks_paid: 0,
            ack_delayed_until: None,
            unacked_segments: 0,
            limited_bytes: 0,
            rcv_mss: 0,
            time_wait_until: None,
            persist_at: None,
            persist_backoff: 0,
            probe_due: false,
            last_heard: now,
            keep_alive_at: None,
            keep_alive_sent: 0,
            challenge_second: 0,
            challenge_count: 0,
            cc,
            dup_acks: 0,
            recovery: None,
            high_rxt: iss,
            scoreboard: Scoreboard::default(),
            tlp_at: None,
            tlp_probe: None,
            probe_lost_edge: None,
            stats: ConnectionStats::default(),
        }
    }

    /// [`Connection::connect`] with a congestion controller of the
    /// caller's (its MSS is set once the handshake tells it).
    pub fn connect_with(
        local_port: u16,
        remote_port: u16,
        iss: SeqNumber,
        now: Instant,
        config: Config,
        cc: C,
    ) -> Self {
        let mut conn = Self::blank(local_port, remote_port, iss, now, config, cc);
        conn.state = State::SynSent;
        conn.snd_nxt = iss;
        conn
    }

    /// [`Connection::accept`] with a congestion controller of the caller's.
    pub fn accept_with(syn: &TcpRepr, iss: SeqNumber, now: Instant, config: Config, cc: C) -> Self {
        let mut conn = Self::blank(syn.dst_port, syn.src_port, iss, now, config, cc);
        conn.state = State::SynReceived;
        conn.take_syn(syn, now);
        conn.ecn = config.ecn && syn.flags.contains(TcpFlags::ECE | TcpFlags::CWR);
        conn
    }

    /// A connection established by a valid SYN cookie (RFC 4987): the
    /// handshake's state was in the cookie, `ack` is the segment that
    /// returned it. `iss` is the cookie (our ISN), `mss` the peer's MSS
    /// the cookie encoded, `window_scale`/`sack` the options it encoded
    /// (`None`/false when the peer sent no timestamps to carry them).
    #[allow(clippy::too_many_arguments)]
    pub fn from_cookie(
        ack: &TcpRepr,
        iss: SeqNumber,
        mss: u16,
        window_scale: Option<u8>,
        sack: bool,
        now: Instant,
        config: Config,
        cc: C,
    ) -> Self {
        let mut conn = Self::blank(ack.dst_port, ack.src_port, iss, now, config, cc);
        conn.state = State::Established;
        conn.irs = ack.seq_number - 1u32;
        conn.rcv_nxt = ack.seq_number;
        conn.rcv_adv = ack.seq_number;
        conn.snd_una = iss + 1u32;
        conn.snd_nxt = conn.snd_una;
        conn.snd_max = conn.snd_una;
        conn.syn_sent = 1;
        if let (Some(ours), Some(theirs)) = (config.window_scale, window_scale) {
            conn.rcv_shift = ours.min(14);
            conn.snd_shift = theirs.min(14);
            conn.scaling = true;
        }
        conn.sack = config.sack && sack;
        // The cookie's SYN-ACK carried our clock without an offset.
        conn.ts_offset = 0;
        if let (true, Some((tsval, _))) = (config.timestamps, ack.timestamp) {
            conn.timestamps = true;
            conn.ts_recent = tsval;
            conn.ts_recent_at = now;
        }
        // After timestamps, which decide the payload per segment.
        conn.set_peer_mss(Some(mss));
        conn.update_window(ack);
        conn
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Why the connection ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// The local port.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The remote port.
    pub fn remote_port(&self) -> u16 {
        self.remote_port
    }

    /// The configuration (fixed at creation, except what the setters
    /// change).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Turns Nagle's algorithm on or off (off: `TCP_NODELAY`).
    pub fn set_nagle(&mut self, on: bool) {
        self.config.nagle = on;
    }

    /// Sets the keep-alive idle time (`None`: off).
    pub fn set_keep_alive(&mut self, idle: Option<Duration>) {
        self.config.keep_alive = idle;
        self.keep_alive_at = None;
        self.keep_alive_sent = 0;
    }

    /// Sets the user timeout (`None`: never give up).
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.config.user_timeout = timeout;
    }

    /// The counters, with the current RTT and window figures.
    pub fn stats(&self) -> ConnectionStats {
        ConnectionStats {
            srtt: self.rtt.srtt(),
            rto: self.rtt.rto(),
            cwnd: self.cc.window(),
            ssthresh: self.cc.slow_start_threshold(),
            send_window: self.snd_wnd,
            mss: self.mss,
            ..self.stats
        }
    }

    /// The congestion controller.
    pub fn congestion(&self) -> &C {
        &self.cc
    }

    /// Whether the connection negotiated SACK, timestamps, window scaling
    /// and ECN, in that order.
    pub fn negotiated(&self) -> (bool, bool, Option<(u8, u8)>, bool) {
        let scaling = self.scaling.then_some((self.snd_shift, self.rcv_shift));
        (self.sack, self.timestamps, scaling, self.ecn)
    }

    /// The bytes in flight: sent and not acknowledged (sequence space).
    pub fn in_flight(&self) -> usize {
        self.snd_max.checked_distance(self.snd_una).unwrap_or(0)
    }

    /// The application is done sending: a FIN follows the queued data
    /// (RFC 9293 3.10.4 CLOSE). Receiving goes on until the peer closes.
    ///
    /// In SYN-SENT too the FIN waits for the handshake and the queued
    /// data, as RFC 9293 has it for SYN-RECEIVED: the application may
    /// have written already, and deleting the connection would drop
    /// those bytes while reporting a normal close. [`abort`](Self::abort)
    /// gives up on a connection attempt.
    pub fn close(&mut self) {
        match self.state {
            State::SynSent | State::SynReceived | State::Established | State::CloseWait => {
                self.owed.set(Owed::FIN, true)
            }
            _ => {}
        }
    }

    /// Ends the connection at once (RFC 9293 3.10.5 ABORT): a RST goes out
    /// if the peer knows the connection, then it is closed.
    pub fn abort(&mut self) {
        match self.state {
            State::Closed | State::TimeWait => self.finish(CloseReason::Aborted),
            State::SynSent => self.finish(CloseReason::Aborted),
            _ => self.owed.set(Owed::RST, true),
        }
    }

    /// The peer's path MTU shrank to leave `payload` bytes for a segment
    /// (ICMP fragmentation needed / packet too big, RFC 1191 / RFC 8201;
    /// the endpoint subtracts the headers). Never grows the MSS, never
    /// below 88 bytes (IPv4 minimum 576 minus headers is far above; this
    /// only guards against forged tiny values).
    pub fn reduce_mss(&mut self, payload: usize) {
        let mss = payload.max(88);
        if mss < self.mss {
            self.mss = mss;
            self.cc.set_mss(mss);
            // The segments in flight were too large: send them again now
            // rather than after a timeout (RFC 1191 section 6.5 spirit).
            if self.in_flight() > 0 {
                self.snd_nxt = self.snd_una;
                self.retransmit_at = None;
            }
        }
    }

    /// An ICMP path MTU message quoted our segment starting at `seq` and
    /// leaves `payload` bytes per segment. Accepted (and `true`) only if
    /// `seq` is in flight (RFC 5927 4.1); the MSS then shrinks.
    pub fn on_packet_too_big(&mut self, seq: SeqNumber, payload: usize) -> bool {
        let in_flight = self.snd_una <= seq && seq < self.snd_max;
        if in_flight {
            self.reduce_mss(payload);
        }
        in_flight
    }

    /// When this connection next needs `poll_transmit` although no
    /// segment arrived: the earliest of its timers.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.ack_now || self.owed.has(Owed::RST) {
            return Some(Instant::ZERO);
        }
        // The keep-alive timer is armed lazily by `on_timers`: report it
        // even before that ran (after `set_keep_alive`, or after a segment
        // reset it), or a caller sleeping until here never wakes.
        let keep_alive = match (self.config.keep_alive, self.keep_alive_at) {
            (_, Some(at)) => Some(at),
            (Some(idle), None) if self.state == State::Established && self.in_flight() == 0 => {
                Some(self.last_heard + idle)
            }
            _ => None,
        };
        [
            self.retransmit_at,
            self.tlp_at,
            self.ack_delayed_until,
            self.time_wait_until,
            self.persist_at,
            keep_alive,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ------------------------------------------------------------------
    // Receiving
    // ------------------------------------------------------------------

    /// Takes the peer's SYN: its sequence number and options.
    #[cold]
    fn take_syn(&mut self, syn: &TcpRepr, now: Instant) {
        self.irs = syn.seq_number;
        self.rcv_nxt = syn.seq_number + 1u32;
        self.rcv_adv = self.rcv_nxt;
        match (self.config.window_scale, syn.window_scale) {
            (Some(ours), Some(theirs)) => {
                self.rcv_shift = ours.min(14);
                self.snd_shift = theirs.min(14);
                self.scaling = true;
            }
            _ => {
                self.rcv_shift = 0;
                self.snd_shift = 0;
                self.scaling = false;
            }
        }
        self.sack = self.config.sack && syn.sack_permitted;
        if let (true, Some((tsval, _))) = (self.config.timestamps, syn.timestamp) {
            self.timestamps = true;
            self.ts_recent = tsval;
            self.ts_recent_at = now;
        } else {
            self.timestamps = false;
        }
        // After timestamps: they decide the payload a segment carries,
        // which is the congestion controller's MSS.
        self.set_peer_mss(syn.max_seg_size);
        // The window of a SYN is never scaled (RFC 7323 2.2).
        self.snd_wnd = usize::from(syn.window_len);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn.seq_number;
        self.snd_wl2 = syn.ack_number.unwrap_or(self.iss);
    }

    fn set_peer_mss(&mut self, peer: Option<u16>) {
        let peer = usize::from(peer.unwrap_or(DEFAULT_PEER_MSS));
        // Never above what our own link takes either.
        let mss = peer.min(usize::from(self.config.mss)).max(88);
        self.mss = mss;
        self.cc.set_mss(self.payload_per_segment());
    }

    /// The payload one full segment carries: the MSS less the options
    /// every segment repeats (RFC 9293 3.7.1 / RFC 6691).
    fn payload_per_segment(&self) -> usize {
        if self.timestamps {
            self.mss.saturating_sub(TIMESTAMPS_LEN).max(1)
        } else {
            self.mss
        }
    }

    /// The options every segment repeats (timestamps, if negotiated).
    fn repeated_options_len(&self) -> usize {
        if self.timestamps { TIMESTAMPS_LEN } else { 0 }
    }

    /// Feeds one received segment (already checked: ports, checksum) with
    /// its payload. `send` and `recv` are the application's buffers for
    /// this connection.
    pub fn on_segment(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: &[u8],
        send: &mut dyn SendBuffer,
        recv: &mut dyn RecvBuffer,
    ) -> Reaction {
        let mut reaction = Reaction::default();
        self.rcv_buf = self.rcv_buf.max(recv.window());
        let payload = payload.get(..seg.payload_len).unwrap_or(payload);
        match self.state {
            State::Closed => {}
            State::SynSent => self.on_segment_syn_sent(now, seg, &mut reaction),
            _ => self.on_segment_synchronized(now, seg, payload, send, recv, &mut reaction),
        }
        if self.state == State::Closed {
            reaction.closed = true;
        }
        reaction
    }

    /// RFC 9293 3.10.7.3, SYN-SENT.
    #[cold]
    fn on_segment_syn_sent(&mut self, now: Instant, seg: &TcpRepr, reaction: &mut Reaction) {
        let rst = seg.flags.contains(TcpFlags::RST);
        if let Some(ack) = seg.ack_number {
            // Acceptable only if it acknowledges our SYN and nothing more.
            if !(self.iss < ack && ack <= self.snd_max) {
                if !rst {
                    reaction.reset = true;
                }
                return;
            }
        }
        if rst {
            // RFC 5961 3.2 / RFC 9293: only with an acceptable ACK.
            if seg.ack_number.is_some() {
                self.finish(CloseReason::Refused);
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            return;
        }
        self.take_syn(seg, now);
        self.ecn = self.config.ecn
            && seg.flags.contains(TcpFlags::ECE)
            && !seg.flags.contains(TcpFlags::CWR);
        self.stats.segments_received += 1;
        self.last_heard = now;
        match seg.ack_number {
            Some(ack) => {
                self.snd_una = ack;
                self.snd_nxt = self.snd_nxt.max(ack);
                self.update_window(seg);
                self.take_rtt_sample(ack, now, seg.timestamp);
                self.retransmit_at = None;
                self.rtt_probe = None;
                self.state = State::Established;
                self.after_handshake();
                reaction.established = true;
                self.ack_now = true;
            }
            None => {
                // Simultaneous open (RFC 9293 3.5 figure 8): our SYN goes
                // out again with the ACK of theirs.
                self.state = State::SynReceived;
                self.snd_nxt = self.iss;
                self.retransmit_at = Some(now);
            }
        }
    }

    /// RFC 6298 5.7: if our SYN (or SYN-ACK) timed out, data starts with
    /// an RTO of 3 s (the handshake gave no sample, by Karn's rule, and
    /// the path may be slower than the initial 1 s assumed).
    #[cold]
    fn after_handshake(&mut self) {
        if self.syn_sent > 1 && self.rtt.srtt().is_none() {
            let mut config = *self.rtt.config();
            config.initial = config.initial.max(Duration::from_secs(3));
            self.rtt = RttEstimator::new(config);
        }
    }

    /// RFC 9293 3.10.7.4, every state from SYN-RECEIVED on.
    fn on_segment_synchronized(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: &[u8],
        send: &mut dyn SendBuffer,
        recv: &mut dyn RecvBuffer,
        reaction: &mut Reaction,
    ) {
        // Header prediction (the fast path of BSD-derived stacks): the
        // next in-order segment of an established connection is one the
        // checks before the ACK field let through, and it skips them.
        if !self.predicted(seg) && !self.screen(now, seg, recv) {
            return;
        }

        let Some(ack) = seg.ack_number else {
            return;
        };
        self.stats.segments_received += 1;
        self.last_heard = now;
        self.keep_alive_sent = 0;
        self.keep_alive_at = None;

        if self.state == State::SynReceived && !self.on_handshake_ack(seg, ack, reaction) {
            return;
        }

        // RFC 5961 5.2: an unacceptable ACK drops the segment before
        // anything of it is taken, its timestamp included: a forged
        // segment at RCV.NXT with a TSval far ahead would otherwise make
        // PAWS drop every real segment after it.
        if !self.ack_acceptable(ack) {
            return self.on_unacceptable_ack(now);
        }

        // Timestamps: remember the peer's clock (RFC 7323 4.3).
        if let (true, Some((tsval, _))) = (self.timestamps, seg.timestamp)
            && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0
            && seg.seq_number <= self.rcv_nxt
        {
            self.ts_recent = tsval;
            self.ts_recent_at = now;
        }

        if !self.process_ack(now, seg, payload.len(), send, reaction) {
            return;
        }
        if self.state == State::Closed {
            return;
        }

        // Data (RFC 9293 3.10.7.4 seventh).
        if !payload.is_empty() && self.state.may_receive() {
            self.receive_data(now, seg, payload, recv, reaction);
        }

        if seg.flags.contains(TcpFlags::FIN) {
            self.on_fin(now, seg, reaction);
        }
    }

    // The rare cases of `on_segment_synchronized`, out of line: the
    // common one (data and an ACK on an established connection) stays
    // small in the instruction cache.

    /// The ACK that completes our side of the handshake in SYN-RECEIVED:
    /// `false` if it is unacceptable (answered with a RST, RFC 9293
    /// 3.10.7.4 fifth).
    #[cold]
    #[inline(never)]
    fn on_handshake_ack(&mut self, seg: &TcpRepr, ack: SeqNumber, reaction: &mut Reaction) -> bool {
        if self.snd_una < ack && ack <= self.snd_max {
            self.state = State::Established;
            self.after_handshake();
            reaction.established = true;
            self.update_window(seg);
            true
        } else {
            reaction.reset = true;
            false
        }
    }

    /// A segment whose ACK is unacceptable is dropped.
    #[cold]
    #[inline(never)]
    fn on_unacceptable_ack(&mut self, now: Instant) {
        self.stats.rejected += 1;
        // The ACK it is owed comes out of the challenge ACK allowance
        // (RFC 5961 section 7 covers the answers of section 5 too).
        if self.ack_allowed(now) {
            self.ack_now = true;
        }
    }

    /// The FIN of `seg` (RFC 9293 3.10.7.4 eighth): taken only once every
    /// byte before it is in.
    #[cold]
    #[inline(never)]
    fn on_fin(&mut self, now: Instant, seg: &TcpRepr, reaction: &mut Reaction) {
        let fin_at = seg.seq_number + seg.payload_len;
        if fin_at == self.rcv_nxt && !self.fin_received {
            self.fin_received = true;
            self.rcv_nxt += 1u32;
            self.ack_now = true;
            reaction.peer_closed = true;
            match self.state {
                State::SynReceived | State::Established => self.state = State::CloseWait,
                State::FinWait1 => self.state = State::Closing,
                State::FinWait2 => self.enter_time_wait(now),
                _ => {}
            }
        } else if self.state == State::TimeWait {
            // A retransmitted FIN: our ACK was lost; ACK again and
            // restart the wait (RFC 9293 3.10.7.4).
            self.ack_now = true;
            self.enter_time_wait(now);
        } else if self.fin_received {
            self.ack_now = true;
        }
    }

    /// The checks before the ACK field (RFC 9293 3.10.7.4 first to
    /// fourth, with RFC 7323 PAWS and RFC 5961): `false` if the segment
    /// goes no further (dropped, answered, or a RST taken).
    #[inline(never)]
    fn screen(&mut self, now: Instant, seg: &TcpRepr, recv: &dyn RecvBuffer) -> bool {
        let rst = seg.flags.contains(TcpFlags::RST);
        let syn = seg.flags.contains(TcpFlags::SYN);

        // PAWS (RFC 7323 5.3): an old timestamp marks an old duplicate.
        if self.timestamps
            && !rst
            && let Some((tsval, _)) = seg.timestamp
        {
            // (Staleness is asked only of old timestamps: most are not.)
            if (tsval.wrapping_sub(self.ts_recent) as i32) < 0
                && now.saturating_duration_since(self.ts_recent_at) <= PAWS_IDLE
            {
                self.stats.rejected += 1;
                // Answered within the allowance, like every answer to a
                // segment that may be forged (RFC 5961 section 7).
                if self.ack_allowed(now) {
                    self.ack_now = true;
                }
                return false;
            }
        }

        // A retransmitted SYN of the handshake: answer with the SYN-ACK
        // again (its ACK was lost).
        if syn
            && self.state == State::SynReceived
            && seg.seq_number == self.irs
            && seg.ack_number.is_none()
        {
            self.snd_nxt = self.iss;
            self.retransmit_at = Some(now);
            // The peer is alive and still trying: the SYN-ACKs it asks
            // for do not use up our retry budget (on a lossy link both
            // sides retransmit, and counting its requests gave up on a
            // handshake the peer was still carrying on).
            self.syn_sent = self.syn_sent.min(1);
            return false;
        }

        // Sequence check (RFC 9293 3.10.7.4 first).
        let window = self.receive_window_now(recv);
        let seg_len = seg.segment_len();
        if !self.acceptable(seg.seq_number, seg_len, window) {
            self.stats.rejected += 1;
            if !rst {
                // RFC 9293: answer an unacceptable segment with an ACK
                // (this also re-synchronizes a peer after lost ACKs),
                // within the challenge ACK allowance so that forged
                // segments cannot make us flood (RFC 5961 section 7).
                if self.ack_allowed(now) {
                    self.ack_now = true;
                }
                // A retransmitted FIN in TIME-WAIT lies just below
                // RCV.NXT: our ACK of it was lost, so the wait restarts
                // (RFC 9293 3.10.7.4 eighth, TIME-WAIT).
                let fin_retransmitted = seg.flags.contains(TcpFlags::FIN)
                    && seg.seq_number + seg.payload_len + 1u32 == self.rcv_nxt;
                if self.state == State::TimeWait && fin_retransmitted {
                    self.enter_time_wait(now);
                }
            }
            return false;
        }

        // RST (RFC 5961 3.2): exact match resets, anything else in the
        // window gets a challenge ACK.
        if rst {
            if seg.seq_number == self.rcv_nxt {
                let reason = match self.state {
                    State::SynReceived => CloseReason::Refused,
                    // Both FINs were exchanged and acknowledged: the
                    // connection ended normally, the RST (the peer's
                    // answer to a stray or duplicated last ACK) only cuts
                    // the wait short.
                    State::TimeWait => CloseReason::Normal,
                    // RFC 9293 3.10.7.4 gives no reset signal in CLOSING
                    // and LAST-ACK either. With all our data acknowledged
                    // and only our FIN not, the peer most likely took the
                    // FIN and its last ACK was lost: its TIME-WAIT ran out
                    // before our backed-off retransmission of the FIN
                    // came, and its endpoint answered that with a RST.
                    State::Closing | State::LastAck
                        if self.fin_seq.is_some_and(|fin| self.snd_una == fin) =>
                    {
                        CloseReason::Normal
                    }
                    _ => CloseReason::Reset,
                };
                self.finish(reason);
            } else {
                self.challenge_ack(now);
            }
            return false;
        }

        // SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
        if syn {
            self.challenge_ack(now);
            return false;
        }

        true
    }

    /// Whether `seg` is one that [`screen`](Self::screen) lets through
    /// unchanged, found with a few comparisons: in ESTABLISHED, exactly
    /// at RCV.NXT, no SYN or RST, a timestamp no older than TS.Recent
    /// (PAWS passes), and room in the window we advertised if it takes
    /// sequence space (so it is acceptable). A segment this says no to
    /// takes the full checks, whatever they decide.
    fn predicted(&self, seg: &TcpRepr) -> bool {
        let paws_passes = !self.timestamps
            || seg
                .timestamp
                .is_none_or(|(tsval, _)| (tsval.wrapping_sub(self.ts_recent) as i32) >= 0);
        self.state == State::Established
            && seg.seq_number == self.rcv_nxt
            && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::RST)
            && paws_passes
            && (seg.segment_len() == 0 || self.rcv_adv.signed_distance(self.rcv_nxt) > 0)
    }

    /// The window to test arriving segments against: what we advertised
    /// (never less, RFC 9293 3.8.6: a window must not shrink).
    fn receive_window_now(&self, recv: &dyn RecvBuffer) -> usize {
        let advertised = self.rcv_adv.checked_distance(self.rcv_nxt).unwrap_or(0);
        advertised.max(recv.window().min(self.max_window()))
    }

    /// RFC 9293 3.10.7.4's acceptability table.
    fn acceptable(&self, seq: SeqNumber, seg_len: usize, window: usize) -> bool {
        let window = u32::try_from(window).unwrap_or(u32::MAX >> 1);
        match (seg_len, window) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, window),
            (_, 0) => false,
            (len, _) => {
                let last = seq + len.saturating_sub(1);
                seq.in_window(self.rcv_nxt, window) || last.in_window(self.rcv_nxt, window)
            }
        }
    }

    /// Takes one ACK from this second's allowance for answers to
    /// unacceptable or suspicious segments; `false` when it is spent.
    fn ack_allowed(&mut self, now: Instant) -> bool {
        let second = now.secs();
        if second != self.challenge_second {
            self.challenge_second = second;
            self.challenge_count = 0;
        }
        if self.challenge_count < CHALLENGE_ACKS_PER_SEC {
            self.challenge_count += 1;
            true
        } else {
            false
        }
    }

    /// Sends a challenge ACK unless this second's allowance is spent.
    #[cold]
    fn challenge_ack(&mut self, now: Instant) {
        if self.ack_allowed(now) {
            self.stats.challenge_acks += 1;
            self.ack_now = true;
        }
    }

    /// The RST answering `seg` (RFC 9293 3.10.7.1 and the unacceptable-ACK
    /// cases): `<SEQ=SEG.ACK><CTL=RST>`, or `<SEQ=0><ACK=SEG.SEQ+SEG.LEN>
    /// <CTL=RST,ACK>` when the segment had no ACK.
    #[cold]
    pub fn reset_for(&self, seg: &TcpRepr) -> TcpRepr {
        reset_for(seg)
    }

    /// RFC 5961 5.2: an ACK is acceptable when
    /// SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
    fn ack_acceptable(&self, ack: SeqNumber) -> bool {
        let oldest = self.snd_una - (self.max_snd_wnd.min(1 << 30) as u32);
        oldest <= ack && ack <= self.snd_max
    }

    /// The ACK field (fifth step), its number already found acceptable.
    /// Returns false if the segment is to be dropped here.
    fn process_ack(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload_len: usize,
        send: &mut dyn SendBuffer,
        reaction: &mut Reaction,
    ) -> bool {
        let Some(ack) = seg.ack_number else {
            return false;
        };

        if self.ecn && seg.flags.contains(TcpFlags::ECE) && ack > self.snd_una {
            self.on_ecn_echo(now);
        }
        if self.ecn && seg.flags.contains(TcpFlags::CWR) {
            self.ecn_echo = false;
        }

        // SACK blocks (RFC 2018): only above SND.UNA and at most what we sent.
        // (Most segments carry none: the scoreboard stays as it is.)
        let sack_blocks = self.sack && seg.sack_ranges.iter().any(Option::is_some);
        let sacked_more = sack_blocks && self.take_sack_blocks(seg, ack);
        // The tail probe arrived but something sent before it did not: that
        // is lost (RFC 8985 7.4 with RACK's reasoning), recover now.
        if let Some(probe) = self.tlp_probe {
            self.check_probe_loss(now, probe, ack);
        }
        if ack > self.snd_una {
            self.on_new_ack(now, ack, seg.timestamp, send, reaction);
            if sacked_more && self.in_flight() > 0 {
                self.on_duplicate_ack(now);
            }
        } else if ack == self.snd_una {
            self.on_same_ack(now, seg, payload_len, sacked_more);
        }
        // Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2 rule).
        if self.snd_wl1 < seg.seq_number || (self.snd_wl1 == seg.seq_number && self.snd_wl2 <= ack)
        {
            self.update_window(seg);
        }
        if self.snd_wnd > 0 {
            // The window opened: a probe byte the peer did not take is
            // sent again with the rest, now (it has no timer of its own).
            let persisting = self.persist_at.is_some() || self.persist_backoff > 0;
            if persisting && self.snd_nxt > self.snd_una {
                self.snd_nxt = self.snd_una;
            }
            self.persist_at = None;
            self.persist_backoff = 0;
            self.probe_due = false;
        }

        // The FIN's ACK moves the closing states on.
        if self.fin_seq.is_some_and(|fin| ack > fin) {
            return self.on_fin_acked(now);
        }
        true
    }

    // The rare cases of `process_ack`, out of line: the common one (an
    // ACK of new data) stays small in the instruction cache.

    /// The tail probe `probe` is outstanding and `ack` arrived: if it
    /// stops short of the probe while the probe was SACKed, something sent
    /// before the probe is lost (RFC 8985 7.4 with RACK's reasoning):
    /// recovery starts now.
    #[cold]
    #[inline(never)]
    fn check_probe_loss(&mut self, now: Instant, probe: SeqNumber, ack: SeqNumber) {
        if self.sack
            && ack < probe
            && self.scoreboard.covering(probe).is_some()
            && self.recovery.is_none()
        {
            self.probe_lost_edge = Some(probe);
            self.tlp_probe = None;
            self.enter_recovery(now);
        }
    }

    /// An ACK of SND.UNA (nothing new): a duplicate ACK (RFC 5681 2) if it
    /// has no data, no window change, data outstanding, no SYN or FIN.
    /// Not in a zero window: the peer answers each probe alike, nothing
    /// was lost.
    #[cold]
    #[inline(never)]
    fn on_same_ack(&mut self, now: Instant, seg: &TcpRepr, payload_len: usize, sacked_more: bool) {
        let wnd = usize::from(seg.window_len) << self.snd_shift;
        // (snd_wnd > 0: the answers to zero-window probes are no
        // duplicates. The window is updated after this.)
        let plain = payload_len == 0
            && !seg.flags.contains(TcpFlags::FIN)
            && self.snd_wnd > 0
            && wnd == self.snd_wnd;
        if (plain || sacked_more) && self.in_flight() > 0 {
            self.on_duplicate_ack(now);
        }
    }

    /// Our FIN is acknowledged: the closing states move on. `false` if
    /// the connection finished (LAST-ACK).
    #[cold]
    #[inline(never)]
    fn on_fin_acked(&mut self, now: Instant) -> bool {
        match self.state {
            State::FinWait1 => self.state = State::FinWait2,
            State::Closing => self.enter_time_wait(now),
            State::LastAck => {
                self.finish(CloseReason::Normal);
                return false;
            }
            _ => {}
        }
        true
    }

    /// Adds the SACK blocks of `seg` (with ACK `ack`) to the scoreboard:
    /// whether they SACKed data not SACKed before.
    ///
    /// RFC 6675 2 (DupAck): with SACK, an ACK that SACKs data not SACKed
    /// before is a duplicate, whatever its window and whether or not it
    /// also acknowledges data (section 5). A receiver that reads between
    /// ACKs changes its window, and one that ACKs a batch of segments at
    /// once moves its cumulative ACK up to the hole in the same ACK that
    /// first reports what lies beyond it: without this, neither ever
    /// counts as a duplicate and every loss waits for the retransmission
    /// timer. (Out of line: most segments carry no blocks.)
    #[cold]
    #[inline(never)]
    fn take_sack_blocks(&mut self, seg: &TcpRepr, ack: SeqNumber) -> bool {
        let sacked_before = self.scoreboard.sacked_bytes();
        for (s, e) in seg.sack_ranges.iter().flatten() {
            self.scoreboard.add(
                SeqNumber(*s),
                SeqNumber(*e),
                ack.max(self.snd_una),
                self.snd_max,
            );
        }
        self.scoreboard.sacked_bytes() > sacked_before
    }

    /// Takes the peer's window from `seg` (RFC 9293 SND.WND, SND.WL1,
    /// SND.WL2).
    fn update_window(&mut self, seg: &TcpRepr) {
        // The window of a SYN is never scaled (RFC 7323 2.2).
        let shift = if seg.flags.contains(TcpFlags::SYN) {
            0
        } else {
            self.snd_shift
        };
        self.snd_wnd = usize::from(seg.window_len) << shift;
        self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
        self.snd_wl1 = seg.seq_number;
        self.snd_wl2 = seg.ack_number.unwrap_or(self.snd_wl2);
    }

    /// `ack` acknowledges new data; `timestamp` is the segment's option.
    fn on_new_ack(
        &mut self,
        now: Instant,
        ack: SeqNumber,
        timestamp: Option<(u32, u32)>,
        send: &mut dyn SendBuffer,
        reaction: &mut Reaction,
    ) {
        let flight_before = self.in_flight();
        let acked = ack.checked_distance(self.snd_una).unwrap_or(0);
        // Sequence space that is not data: our SYN (acknowledged while
        // SYN-RECEIVED) and our FIN.
        let mut data = acked;
        if self.snd_una == self.iss {
            data = data.saturating_sub(1);
        }
        if self.fin_seq.is_some_and(|fin| ack > fin) {
            data = data.saturating_sub(1);
        }
        let data = data.min(send.len());
        if data > 0 {
            send.acknowledge(data);
            reaction.writable = true;
            self.stats.bytes_acked += data as u64;
        }
        self.snd_una = ack;
        self.limited_bytes = 0;
        if self.snd_nxt < ack {
            self.snd_nxt = ack;
        }
        if self.high_rxt < ack {
            self.high_rxt = ack;
        }
        self.scoreboard.advance(ack);

        let sample = self.take_rtt_sample(ack, now, timestamp);
        match self.recovery {
            Some(point) if ack < point => {
                // A partial ACK (RFC 6582 3.2 step 5): the next hole is
                // lost too; retransmit from SND.UNA without waiting.
                if !self.sack {
                    self.high_rxt = ack;
                }
                self.dup_acks = 0;
            }
            Some(_) => {
                self.recovery = None;
                self.dup_acks = 0;
                self.cc.on_recovery_end(now);
                self.probe_lost_edge = None;
            }
            None => {
                self.dup_acks = 0;
                // Several ACKs may arrive between two sends: each counts
                // as window-limited if the window held the sender back.
                let flight = if self.cwnd_limited {
                    flight_before.max(self.cc.window())
                } else {
                    flight_before
                };
                self.cc.on_ack(now, acked, flight, sample);
            }
        }

        // RFC 6298 5.2 / 5.3: stop the timer when everything is
        // acknowledged, restart it otherwise.
        self.stalled_since = None;
        if self.in_flight() == 0 {
            self.retransmit_at = None;
        } else {
            self.retransmit_at = Some(self.rto_deadline(now));
        }
        // A new ACK ends the probe episode (RFC 8985 7.4).
        self.tlp_probe = None;
        self.owed.set(Owed::TAIL_PROBE, false);
        self.arm_tail_probe(now);
    }

    /// The RTT sample (nanoseconds) an ACK of new data gives: the timed segment's, by
    /// Karn's rule only if it was not sent again; else, with timestamps,
    /// the age of the echoed TSval (RFC 7323 section 4.1), which names the
    /// transmission that got through, a retransmission too, as long as
    /// that transmission came after the last timeout.
    ///
    /// Without the echo, an ACK of retransmitted data never gave a
    /// sample, so the backed-off RTO (RFC 6298 5.5) stayed until a timed
    /// segment and its ACK both got through: on a lossy path each loss in
    /// between doubled it again, and a few took the connection to its
    /// user timeout.
    fn take_rtt_sample(
        &mut self,
        ack: SeqNumber,
        now: Instant,
        timestamp: Option<(u32, u32)>,
    ) -> Option<u64> {
        if let Some((end, sent)) = self.rtt_probe
            && ack >= end
        {
            self.rtt_probe = None;
            let rtt = now.as_nanos().saturating_sub(sent.as_nanos());
            self.rtt.sample_nanos(rtt);
            return Some(rtt);
        }
        let (_, echo) = timestamp.filter(|_| self.timestamps)?;
        if self
            .rto_ts
            .is_some_and(|at| (echo.wrapping_sub(at) as i32) < 0)
        {
            return None;
        }
        // An echo from our future is no measurement.
        let age = i32::try_from(self.ts_clock(now).wrapping_sub(echo)).ok()?;
        let millis = u64::from(age.unsigned_abs());
        let rtt = millis * 1_000_000;
        self.rtt.sample_nanos(rtt);
        Some(rtt)
    }

    #[cold]
    fn on_duplicate_ack(&mut self, now: Instant) {
        self.dup_acks = self.dup_acks.saturating_add(1);
        if self.recovery.is_some() {
            return;
        }
        let lost = self.sack && self.lost_edge().is_some();
        if self.dup_acks >= DUP_THRESHOLD || lost {
            self.enter_recovery(now);
        }
    }

    /// Fast retransmit (RFC 5681 3.2, RFC 6675 5 step 4).
    #[cold]
    fn enter_recovery(&mut self, now: Instant) {
        // RFC 6582 4.1: not again for losses of the window already
        // recovered (after a timeout, `recovery` marks its end).
        self.recovery = Some(self.snd_max);
        self.high_rxt = self.snd_una;
        self.stats.fast_retransmits += 1;
        // RFC 3042: the segments limited transmit sent do not count in
        // the flight that sets the new threshold.
        let flight = self.in_flight().saturating_sub(self.limited_bytes);
        self.cc.on_congestion_event(now, flight);
        self.rtt_probe = None;
    }

    #[cold]
    fn on_ecn_echo(&mut self, now: Instant) {
        self.stats.ecn_signals += 1;
        // Once per window (RFC 3168 6.1.2): not while recovering or while
        // a CWR is still to be sent.
        let reduced_lately = self.ecn_recover.is_some_and(|point| self.snd_una < point);
        if self.recovery.is_none() && !reduced_lately {
            self.cc.on_congestion_event(now, self.in_flight());
            self.ecn_recover = Some(self.snd_max);
            self.ecn_cwr = true;
        }
    }

    /// The largest window we can advertise.
    fn max_window(&self) -> usize {
        usize::from(u16::MAX) << self.rcv_shift
    }

    /// Takes in-order or out-of-order data.
    fn receive_data(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        payload: &[u8],
        recv: &mut dyn RecvBuffer,
        reaction: &mut Reaction,
    ) {
        // Trim what we have already (a retransmission overlapping data
        // received); the front of the window is `rcv_nxt`.
        let (offset, data) = match self.rcv_nxt.checked_distance(seg.seq_number) {
            Some(already) => (0, payload.get(already..).unwrap_or(&[])),
            None => (
                seg.seq_number.checked_distance(self.rcv_nxt).unwrap_or(0),
                payload,
            ),
        };
        if data.is_empty() {
            // A complete duplicate: ACK at once (RFC 5681 4.2, it may be
            // a retransmission after our ACK was lost).
            self.ack_now = true;
            return;
        }
        let advanced = recv.write_at(offset, data);
        if offset > 0 {
            // Out of order: a duplicate ACK at once, with SACK (RFC 5681
            // 4.2 SHOULD), one for each such segment: a sender without
            // SACK counts them to start fast retransmit.
            self.stats.out_of_order += 1;
            self.ack_now = true;
            self.dup_acks_owed = self.dup_acks_owed.saturating_add(1);
            return;
        }
        if advanced == 0 {
            // The window was full: ACK so the peer learns it.
            self.ack_now = true;
            return;
        }
        self.rcv_nxt += advanced;
        // The ACK of new data is no duplicate; owed ones would now look
        // like duplicates of it.
        self.dup_acks_owed = 0;
        self.dup_acks_paid = 0;
        self.stats.bytes_received += advanced as u64;
        reaction.readable = true;
        if advanced > data.len() {
            // Filled a gap (RFC 5681 4.2: ACK at once).
            self.ack_now = true;
        }
        if seg.flags.contains(TcpFlags::CWR) {
            self.ecn_echo = false;
        }
        self.schedule_ack(now, data.len());
    }

    /// Marks that the IP header of the segment just processed carried the
    /// CE codepoint (RFC 3168 6.1.3): ACKs echo it until the peer's CWR.
    #[cold]
    pub fn on_congestion_experienced(&mut self) {
        if self.ecn {
            self.ecn_echo = true;
            self.ack_now = true;
        }
    }

    /// Delayed ACK: at least every second full-sized segment (RFC 5681 4.2),
    /// otherwise within the configured delay.
    fn schedule_ack(&mut self, now: Instant, len: usize) {
        let Some(delay) = self.config.delayed_ack else {
            self.ack_now = true;
            return;
        };
        self.rcv_mss = self.rcv_mss.max(len).min(self.payload_per_segment());
        if len >= self.rcv_mss {
            // A segment a device left unsegmented (or a peer sent larger
            // than our MSS) counts as the full-sized ones it stands for,
            // as if it had arrived cut: one 64 KiB segment is acknowledged
            // at once, not after the delay.
            // (No division for the usual segment of one MSS or less.)
            let segments = if len >= 2 * self.rcv_mss {
                len / self.rcv_mss.max(1)
            } else {
                1
            };
            self.unacked_segments = self
                .unacked_segments
                .saturating_add(u8::try_from(segments).unwrap_or(u8::MAX));
        }
        if self.unacked_segments >= 2 {
            self.ack_now = true;
        } else if self.ack_delayed_until.is_none() {
            self.ack_delayed_until = Some(now + delay);
        }
    }

    #[cold]
    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.time_wait_until = Some(now + self.config.time_wait);
        self.retransmit_at = None;
        self.persist_at = None;
        self.keep_alive_at = None;
    }

    #[cold]
    fn finish(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.tlp_at = None;
        self.owed.set(Owed::TAIL_PROBE, false);
        self.close_reason.get_or_insert(reason);
        self.retransmit_at = None;
        self.ack_delayed_until = None;
        self.time_wait_until = None;
        self.persist_at = None;
        self.keep_alive_at = None;
        self.ack_now = false;
        self.dup_acks_owed = 0;
        self.dup_acks_paid = 0;
    }

    // ------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------

    /// Runs the timers that are due at `now`. `poll_transmit` calls it; an
    /// endpoint calls it for connections it does not poll.
    pub fn on_timers(&mut self, now: Instant, send: &dyn SendBuffer) {
        if let Some(at) = self.time_wait_until
            && now >= at
        {
            self.finish(CloseReason::Normal);
            return;
        }
        if self.ack_delayed_until.is_some_and(|at| now >= at) {
            self.ack_now = true;
        }
        if self.retransmit_at.is_some_and(|at| now >= at) {
            self.on_retransmit_timeout(now);
        }
        if self.tlp_at.is_some_and(|at| now >= at) {
            self.tlp_at = None;
            self.owed.set(
                Owed::TAIL_PROBE,
                self.in_flight() > 0 && self.recovery.is_none() && self.tlp_probe.is_none(),
            );
        }
        if self.persist_at.is_some_and(|at| now >= at) {
            self.persist_at = None;
            self.persist_backoff = self.persist_backoff.saturating_add(1);
            // The probe goes out in poll_transmit: one byte past the
            // window (RFC 9293 3.8.6.1).
            self.stats.window_probes += 1;
            self.probe_due = true;
        }
        let _ = send;
        if let (Some(idle), true) = (self.config.keep_alive, self.state == State::Established)
            && self.in_flight() == 0
        {
            let at = *self.keep_alive_at.get_or_insert(self.last_heard + idle);
            if now >= at {
                if self.keep_alive_sent >= self.config.keep_alive_probes {
                    self.owed.set(Owed::RST, true);
                    self.close_reason = Some(CloseReason::TimedOut);
                } else {
                    self.keep_alive_sent += 1;
                    self.owed.set(Owed::KEEP_ALIVE, true);
                    // Probes repeat at the RTO-like interval of 75 s in
                    // RFC 1122; we use a tenth of the idle time, at least 1 s.
                    let interval = (idle / 10).max(Duration::from_secs(1));
                    self.keep_alive_at = Some(now + interval);
                }
            }
        }
    }

    #[cold]
    fn on_retransmit_timeout(&mut self, now: Instant) {
        self.retransmit_at = None;
        let blocked = core::mem::take(&mut self.blocked);
        match self.state {
            State::SynSent | State::SynReceived => {
                // A SYN that could not go out in this period (its next
                // hop never resolved, or no route) counts as a try, like a
                // lost one: a neighbor that never answers ends the
                // handshake too.
                if blocked {
                    self.syn_sent = self.syn_sent.saturating_add(1);
                }
                if self.syn_sent >= self.config.syn_retries.max(1) {
                    self.finish(CloseReason::TimedOut);
                    return;
                }
                self.rtt.back_off();
                self.snd_nxt = self.iss;
                self.stats.timeouts += 1;
                return;
            }
            _ => {}
        }
        // Nothing in flight, nothing lost. But data that could not go out
        // at all (its next hop never resolves) is as undelivered as lost
        // data: the user timeout covers it too.
        let in_flight = self.in_flight() > 0;
        if !in_flight && !blocked {
            return;
        }
        let stalled = *self.stalled_since.get_or_insert(now);
        if let Some(limit) = self.config.user_timeout
            && now.saturating_duration_since(stalled) >= limit
        {
            self.owed.set(Owed::RST, true);
            self.close_reason = Some(CloseReason::TimedOut);
            return;
        }
        if !in_flight {
            return;
        }
        self.stats.timeouts += 1;
        self.rto_ts = Some(self.ts_clock(now));
        self.cc.on_timeout(now, self.in_flight());
        self.rtt.back_off();
        // Go back: everything unacknowledged is sent again, in order. The
        // peer may have dropped what it SACKed (RFC 2018 8).
        self.snd_nxt = self.snd_una;
        self.scoreboard.clear();
        self.tlp_at = None;
        self.owed.set(Owed::TAIL_PROBE, false);
        self.tlp_probe = None;
        self.probe_lost_edge = None;
        self.recovery = Some(self.snd_max);
        self.high_rxt = self.snd_una;
        self.dup_acks = 0;
        self.rtt_probe = None;
        // `fin_seq` stays: the FIN keeps its sequence number, an ACK of it
        // may still arrive, and `data_segment` sends it again once
        // SND.NXT is back at it.
    }

    // ------------------------------------------------------------------
    // Sending
    // ------------------------------------------------------------------

    /// The next segment to send at `now`, if any, header and payload at
    /// most `max_len` bytes (what the frame has room for).
    /// Nothing changes until [`on_transmitted`](Self::on_transmitted)
    /// reports it sent (timers that are due do run).
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        max_len: usize,
    ) -> Option<Transmit> {
        self.transmit_next(now, send, recv, max_len, false)
    }

    /// [`poll_transmit`](Self::poll_transmit) for a device that cuts TCP
    /// segments itself ([`Capabilities::tcp_segmentation`]): new data may
    /// go out as one segment of many full-sized ones, up to `max_len`
    /// bytes, with [`Transmit::segment_size`] saying how to cut it.
    /// Retransmissions and probes stay one segment each.
    ///
    /// [`Capabilities::tcp_segmentation`]: crate::nic::Capabilities::tcp_segmentation
    pub fn poll_transmit_segmented(
        &mut self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        max_len: usize,
    ) -> Option<Transmit> {
        self.transmit_next(now, send, recv, max_len, true)
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) at `now` with these
    /// buffers would offer nothing and change nothing, for any frame size:
    /// cheap checks the endpoint makes after a segment went out, instead
    /// of polling again for the next one that is not there (request and
    /// answer traffic sends one segment per batch).
    ///
    /// Every condition mirrors a step of `next_transmit`; a `false` only
    /// means "poll to find out". The cheapest come first.
    #[inline(always)]
    pub(crate) fn nothing_to_send(
        &self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
    ) -> bool {
        let due = |timer: Option<Instant>| timer.is_some_and(|at| now >= at);
        // No RST, keep-alive, probe or FIN owed, no ACK owed; data_segment:
        // `cwnd_limited` already cleared, no recovery.
        if self.owed.any()
            || self.ack_now
            || self.cwnd_limited
            || self.state != State::Established
            || self.recovery.is_some()
        {
            return false;
        }
        // data_segment: nothing queued past SND.NXT.
        let offset = self.snd_nxt.checked_distance(self.snd_una).unwrap_or(0);
        if send.len() > offset {
            return false;
        }
        // on_timers: none due, the keep-alive timer set if it runs; the
        // retransmission timer armed for data in flight.
        let in_flight = self.in_flight();
        if due(self.time_wait_until)
            || due(self.ack_delayed_until)
            || due(self.retransmit_at)
            || due(self.tlp_at)
            || due(self.persist_at)
            || (self.config.keep_alive.is_some()
                && in_flight == 0
                && self.keep_alive_at.is_none_or(|at| now >= at))
            || (in_flight > 0 && self.retransmit_at.is_none() && self.persist_at.is_none())
        {
            return false;
        }
        // The window: `rcv_buf` holds it already, and no update is due. It
        // never is while the window is less than a silly-window step past
        // what is promised (both of `window_update_due`'s cases need one),
        // the usual case right after a segment advertised the window.
        let window = recv.window();
        let promised = self.rcv_adv.checked_distance(self.rcv_nxt).unwrap_or(0);
        let available = window.min(self.max_window());
        window <= self.rcv_buf
            && (available < promised.saturating_add(self.sws_step(available))
                || !self.window_update_due(window))
    }

    #[inline]
    fn transmit_next(
        &mut self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        max_len: usize,
        segmented: bool,
    ) -> Option<Transmit> {
        // Trimmed in place: the segment is not copied out of the Option
        // and back in.
        let mut next = self.next_transmit(now, send, recv, max_len, segmented);
        let t = next.as_mut()?;
        // A payload that fits behind the longest header fits behind this
        // one (small segments: the header length is not computed here).
        let fits_any_header = t
            .repr
            .payload_len
            .saturating_add(crate::wire::tcp::MAX_HEADER_LEN)
            <= max_len;
        if fits_any_header {
            return next;
        }
        // The options vary (SACK blocks): fit the payload to the frame.
        let room = max_len.saturating_sub(t.repr.buffer_len());
        if t.repr.payload_len > room {
            t.repr.payload_len = room;
            t.repr.flags.remove(TcpFlags::FIN | TcpFlags::PSH);
            if room == 0 && t.repr.segment_len() == 0 && t.repr.flags.contains(TcpFlags::SYN) {
                return None;
            }
        }
        next
    }

    fn next_transmit(
        &mut self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        max_len: usize,
        segmented: bool,
    ) -> Option<Transmit> {
        // Room for the options every segment repeats; SACK blocks vary and
        // poll_transmit trims for them.
        let options = self.repeated_options_len();
        let max_payload = max_len.saturating_sub(crate::wire::tcp::HEADER_LEN + options);
        // The window once per poll (a call through the buffer's vtable).
        let window = recv.window();
        self.rcv_buf = self.rcv_buf.max(window);
        self.on_timers(now, send);
        if self.owed.has(Owed::RST) {
            return Some(self.rst_segment(now, recv));
        }
        match self.state {
            State::Closed | State::TimeWait if !self.ack_now => return None,
            State::Closed => return None,
            State::SynSent if self.snd_nxt == self.iss => return Some(self.syn(now, recv, false)),
            State::SynReceived if self.snd_nxt == self.iss => {
                return Some(self.syn(now, recv, true));
            }
            State::SynSent => return None,
            _ => {}
        }
        if let Some(t) = self.data_segment(now, send, recv, max_payload, segmented) {
            return Some(t);
        }
        if self.owed.has(Owed::TAIL_PROBE) {
            let seg_max = self.payload_per_segment().min(max_payload);
            match self.tail_probe(now, send, recv, seg_max) {
                Some(t) => return Some(t),
                None => self.owed.set(Owed::TAIL_PROBE, false),
            }
        }
        // Whatever held data back, unacknowledged data always has a timer
        // (RFC 6298 5.1): a connection must never wait without one.
        // While the peer's window is zero the persist timer sends the probe
        // byte again: no timeouts (RFC 9293 3.8.6.1: the connection is
        // kept as long as the probes are answered).
        if self.in_flight() > 0
            && self.retransmit_at.is_none()
            && self.persist_at.is_none()
            && self.state.is_synchronized()
        {
            self.retransmit_at = Some(self.rto_deadline(now));
        }
        if self.owed.has(Owed::KEEP_ALIVE) {
            // RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1, no data.
            let seq = self.snd_una - 1u32;
            return Some(self.bare_segment(now, TcpFlags::empty(), seq, recv));
        }
        if self.ack_now || self.window_update_due(window) {
            return Some(self.bare_segment(now, TcpFlags::empty(), self.snd_nxt, recv));
        }
        None
    }

    /// A segment without payload (an ACK, a keep-alive) from `seq`.
    fn bare_segment(
        &self,
        now: Instant,
        flags: TcpFlags,
        seq: SeqNumber,
        recv: &dyn RecvBuffer,
    ) -> Transmit {
        Transmit {
            repr: self.header(now, flags, seq, recv),
            offset: 0,
            ect: false,
            segment_size: 0,
        }
    }

    /// The RST of an abort (RFC 9293 3.10.5): no ACK, no options.
    #[cold]
    fn rst_segment(&self, now: Instant, recv: &dyn RecvBuffer) -> Transmit {
        let mut t = self.bare_segment(now, TcpFlags::RST, self.snd_max, recv);
        t.repr.ack_number = None;
        t.repr.window_len = 0;
        t.repr.timestamp = None;
        t.repr.sack_ranges = [None; 4];
        t
    }

    /// The SYN (or SYN-ACK) with our options.
    #[cold]
    fn syn(&self, now: Instant, recv: &dyn RecvBuffer, ack: bool) -> Transmit {
        let window = recv.window().min(usize::from(u16::MAX));
        let mut flags = TcpFlags::SYN;
        let ecn = if ack { self.ecn } else { self.config.ecn };
        if ecn {
            flags |= if ack {
                TcpFlags::ECE
            } else {
                TcpFlags::ECE | TcpFlags::CWR
            };
        }
        // A SYN-ACK offers only what the peer offered too (RFC 7323 1.3,
        // RFC 2018 2).
        let (wscale, sack, ts) = if ack {
            (
                self.scaling.then_some(self.rcv_shift),
                self.sack,
                self.timestamps,
            )
        } else {
            (
                self.config.window_scale,
                self.config.sack,
                self.config.timestamps,
            )
        };
        let repr = TcpRepr {
            src_port: self.local_port,
            dst_port: self.remote_port,
            flags,
            seq_number: self.iss,
            ack_number: ack.then_some(self.rcv_nxt),
            window_len: window as u16,
            window_scale: wscale,
            max_seg_size: Some(self.config.mss),
            sack_permitted: sack,
            timestamp: ts.then(|| (self.ts_clock(now), if ack { self.ts_recent } else { 0 })),
            ..TcpRepr::default()
        };
        Transmit {
            repr,
            offset: 0,
            ect: false,
            segment_size: 0,
        }
    }

    /// Our timestamp clock (RFC 7323 5.4): milliseconds, offset per
    /// connection.
    fn ts_clock(&self, now: Instant) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.ts_offset)
    }

    /// The window to advertise, in bytes, with receiver-side silly-window
    /// avoidance (RFC 9293 3.8.6.2.2): the right edge moves only in steps
    /// of at least one MSS, and never back.
    fn advertised_window(&self, recv: &dyn RecvBuffer) -> usize {
        let promised = self.rcv_adv.checked_distance(self.rcv_nxt).unwrap_or(0);
        let available = recv.window().min(self.max_window());
        if available >= promised.saturating_add(self.sws_step(available)) {
            available
        } else {
            promised
        }
    }

    /// The least step the right edge of the window moves by: min(MSS,
    /// half the buffer) (RFC 9293 3.8.6.2.2). Half of the room free now
    /// would let a buffer read in small pieces open in small steps.
    fn sws_step(&self, available: usize) -> usize {
        let buffer = self.rcv_buf.max(available);
        self.mss.min(buffer / 2).max(1)
    }

    /// Whether the window opened enough to tell the peer without waiting
    /// for data to carry it (it may be waiting on a closed window).
    /// `window` is the receive buffer's [`window`](RecvBuffer::window).
    fn window_update_due(&self, window: usize) -> bool {
        // Not before the handshake completes: the SYN-ACK carried the
        // window, and a bare ACK in SYN-RECEIVED acknowledges nothing new.
        if !self.state.is_synchronized() || !self.state.may_receive() || self.fin_received {
            return false;
        }
        let promised = self.rcv_adv.checked_distance(self.rcv_nxt).unwrap_or(0);
        let available = window.min(self.max_window());
        // Two segments' worth, or half a buffer smaller than that. Each
        // case implies a step `advertised_window` takes, so the update
        // moves the edge and is not sent again.
        let step = self.sws_step(available);
        let worth = self
            .mss
            .saturating_mul(2)
            .min(self.rcv_buf.max(available) / 2)
            .max(step);
        (promised < self.mss && available >= worth && available >= promised.saturating_add(step))
            || (available > promised.saturating_mul(2) && available - promised >= worth)
    }

    /// A header from this connection: ACK, window, timestamps and SACK
    /// blocks as they stand.
    fn header(
        &self,
        now: Instant,
        flags: TcpFlags,
        seq: SeqNumber,
        recv: &dyn RecvBuffer,
    ) -> TcpRepr {
        let window = self.advertised_window(recv) >> self.rcv_shift;
        let mut flags = flags;
        if self.ecn_echo {
            flags |= TcpFlags::ECE;
        }
        let mut repr = TcpRepr {
            src_port: self.local_port,
            dst_port: self.remote_port,
            flags,
            seq_number: seq,
            ack_number: Some(self.rcv_nxt),
            window_len: window.min(usize::from(u16::MAX)) as u16,
            timestamp: self
                .timestamps
                .then(|| (self.ts_clock(now), self.ts_recent)),
            ..TcpRepr::default()
        };
        if self.sack {
            repr.sack_ranges = self.sack_blocks(recv);
        }
        repr
    }

    /// The SACK blocks of the next segment (RFC 2018 section 4): the held
    /// range most recently added to first, then older ones.
    ///
    /// A receiver that takes a batch of segments before it sends owes a
    /// duplicate ACK for each out-of-order one, but builds them all after
    /// the batch. Were they all to name the same most recent ranges, a
    /// batch that opened more holes than one ACK has blocks for would
    /// never report the older ranges, and the sender would resend data
    /// that arrived. So the duplicates of one run name the older ranges
    /// in turn, as many new ones each as fit beside the first.
    fn sack_blocks(&self, recv: &dyn RecvBuffer) -> [Option<(u32, u32)>; 4] {
        // Most segments go out with nothing held: ask with a one-range
        // array first rather than clearing room for all of them.
        let mut probe = [(0usize, 0usize); 1];
        if recv.held(&mut probe) == 0 {
            return [None; 4];
        }
        self.held_sack_blocks(recv)
    }

    /// [`sack_blocks`](Self::sack_blocks) when data is held (loss or
    /// reordering). Out of line: the segments of a clean stream stay
    /// small in the instruction cache.
    #[cold]
    #[inline(never)]
    fn held_sack_blocks(&self, recv: &dyn RecvBuffer) -> [Option<(u32, u32)>; 4] {
        let mut blocks = [None; 4];
        let mut held = [(0usize, 0usize); SACK_REPORTED_RANGES];
        let n = recv.held(&mut held).min(held.len());
        let Some((&first, older)) = held[..n].split_first() else {
            return blocks;
        };
        // Beside the timestamps option three blocks fit, four without it
        // (RFC 2018 section 3: 40 bytes of options).
        let room = if self.timestamps { 3 } else { 4 };
        let others = (room - 1).min(older.len());
        let turn = usize::from(self.dup_acks_paid).wrapping_mul(room - 1);
        let chosen = (0..others).map(|k| older[turn.wrapping_add(k) % older.len()]);
        for (slot, (start, end)) in blocks.iter_mut().zip(core::iter::once(first).chain(chosen)) {
            if start < end {
                *slot = Some(((self.rcv_nxt + start).0, (self.rcv_nxt + end).0));
            }
        }
        blocks
    }

    /// Below this, a byte not SACKed is lost: RFC 6675's IsLost, or the
    /// tail loss probe's evidence.
    fn lost_edge(&self) -> Option<SeqNumber> {
        let sacked = self.scoreboard.lost_below(self.payload_per_segment());
        let probed = self.probe_lost_edge.filter(|&edge| edge > self.snd_una);
        match (sacked, probed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The probe timeout (RFC 8985 7.2): two smoothed round trips, plus
    /// the peer's worst delayed ACK when one segment is in flight, never
    /// after the retransmission timer. `None` before any RTT sample.
    ///
    /// In nanoseconds: it is armed for every new segment sent, and the
    /// same sums on `Duration`s cost several times as much.
    fn probe_timeout(&self) -> Option<u64> {
        let srtt = self.rtt.srtt_nanos()?;
        let mut pto = srtt.saturating_mul(2).max(MIN_PROBE_TIMEOUT_NANOS);
        if self.in_flight() <= self.payload_per_segment() {
            pto = pto.saturating_add(WORST_DELAYED_ACK_NANOS);
        }
        Some(pto.min(self.rtt.rto_nanos()))
    }

    /// When the retransmission timer armed at `now` runs out.
    fn rto_deadline(&self, now: Instant) -> Instant {
        after_nanos(now, self.rtt.rto_nanos())
    }

    /// Arms the probe timer if a probe may follow: SACK in use, data in
    /// flight, no recovery and no probe outstanding.
    fn arm_tail_probe(&mut self, now: Instant) {
        self.tlp_at = None;
        // (A closed window is the persist timer's business.)
        if !self.sack
            || self.recovery.is_some()
            || self.tlp_probe.is_some()
            || self.in_flight() == 0
            || self.snd_wnd == 0
        {
            return;
        }
        if let Some(pto) = self.probe_timeout() {
            self.tlp_at = Some(after_nanos(now, pto));
        }
    }

    /// The tail loss probe when no new data can go: the last segment sent,
    /// again (RFC 8985 7.3).
    #[cold]
    fn tail_probe(
        &self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        seg_max: usize,
    ) -> Option<Transmit> {
        let data_end = self.fin_seq.unwrap_or(self.snd_max);
        let start =
            data_end - (seg_max.min(data_end.checked_distance(self.snd_una).unwrap_or(0)) as u32);
        let len = data_end.checked_distance(start).unwrap_or(0);
        self.segment_at(now, start, len, send.len(), recv)
    }

    /// The RFC 6675 pipe: bytes thought to be in the network.
    #[inline(never)]
    fn pipe(&self) -> usize {
        let flight = self.in_flight();
        if self.sack {
            let sacked = self.scoreboard.sacked_bytes();
            let (lost, resent) = match self.lost_edge() {
                Some(edge) => (
                    self.scoreboard.holes_between(self.snd_una, edge),
                    self.scoreboard
                        .holes_between(self.snd_una, self.high_rxt.min(edge)),
                ),
                None => (0, 0),
            };
            flight
                .saturating_sub(sacked)
                .saturating_sub(lost)
                .saturating_add(resent)
        } else {
            let left = (self.dup_acks as usize).saturating_mul(self.payload_per_segment());
            let resent = self.high_rxt.checked_distance(self.snd_una).unwrap_or(0);
            flight.saturating_sub(left).saturating_add(resent)
        }
    }

    /// The next retransmission of loss recovery (RFC 6675 NextSeg rule 1;
    /// RFC 6582 without SACK): where it starts and how long it may be.
    #[inline(never)]
    fn next_lost(&self, seg_max: usize) -> Option<(SeqNumber, usize)> {
        let mut start = self.high_rxt.max(self.snd_una);
        if self.sack {
            let edge = self.lost_edge()?;
            // Skip SACKed ranges.
            while let Some(end) = self.scoreboard.covering(start) {
                start = end;
            }
            if start.partial_cmp(&edge) != Some(core::cmp::Ordering::Less) {
                return None;
            }
            // Up to the next SACKed range.
            let next_sacked = self
                .scoreboard
                .ranges()
                .iter()
                .map(|&(s, _)| s)
                .find(|&s| start < s)
                .unwrap_or(edge);
            let room = next_sacked.checked_distance(start).unwrap_or(0);
            Some((start, room.min(seg_max)))
        } else {
            // NewReno: one segment from SND.UNA after each (partial) ACK.
            if self.high_rxt > self.snd_una {
                return None;
            }
            let room = self.snd_max.checked_distance(start).unwrap_or(0);
            Some((start, room.min(seg_max)))
        }
    }

    /// A segment carrying data (new, or again), or a FIN.
    fn data_segment(
        &mut self,
        now: Instant,
        send: &dyn SendBuffer,
        recv: &dyn RecvBuffer,
        max_payload: usize,
        segmented: bool,
    ) -> Option<Transmit> {
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) {
            return None;
        }
        let seg_max = self.payload_per_segment().min(max_payload);
        if seg_max == 0 {
            return None;
        }
        let queued = send.len();
        // Loss recovery first.
        if self.recovery.is_some()
            && self.snd_nxt == self.snd_max
            && let Some(t) = self.recovery_segment(now, seg_max, queued, recv)
        {
            return Some(t);
        }

        let offset = self.snd_nxt.checked_distance(self.snd_una).unwrap_or(0);
        // Not sent yet, or sent and gone back over after a timeout.
        let fin_pending =
            self.owed.has(Owed::FIN) && self.fin_seq.is_none_or(|fin| self.snd_nxt <= fin);
        let available = queued.saturating_sub(offset);
        if available == 0 && !fin_pending {
            self.cwnd_limited = false;
            return None;
        }
        // (Asked only now: a poll with nothing to send, the usual one
        // after a segment, does without.)
        let cwnd = self.cc.window();
        // After a timeout SND.NXT went back: what was sent since counts.
        let flight = if self.recovery.is_some() && self.snd_nxt == self.snd_max {
            self.pipe()
        } else {
            offset
        };
        // Limited transmit (RFC 3042): each of the first two duplicate
        // ACKs lets one new segment out, so that a small window still
        // produces the three duplicates fast retransmit needs.
        let limited_transmit = if self.recovery.is_none() && self.dup_acks < DUP_THRESHOLD {
            (self.dup_acks as usize).saturating_mul(seg_max)
        } else {
            0
        };
        let cwnd_room = cwnd.saturating_add(limited_transmit).saturating_sub(flight);
        let wnd_room = self.snd_wnd.saturating_sub(offset);
        // With the device cutting segments, new data goes as whole
        // full-sized segments, as many as the windows and the frame take.
        let burst = if segmented {
            (max_payload / seg_max * seg_max).max(seg_max)
        } else {
            seg_max
        };
        let mut len = burst.min(available).min(cwnd_room).min(wnd_room);
        self.cwnd_limited = cwnd_room < seg_max.min(available).min(wnd_room);

        if available > 0 && wnd_room == 0 {
            return self.zero_window(now, queued, recv);
        }
        let all = len == available;
        if len < seg_max && available > 0 {
            // Nagle (RFC 9293 3.7.4): a small segment waits while data is
            // unacknowledged, unless closing needs it out. Unacknowledged
            // means SND.NXT > SND.UNA (RFC 1122 4.2.3.4), and going back
            // after a timeout (or an MTU drop) resends what was sent:
            // Nagle holds back new data only, or a lost small segment
            // would never be sent again.
            let resending = self.snd_nxt < self.snd_max;
            let unacked = self.snd_nxt > self.snd_una;
            if self.config.nagle && unacked && !fin_pending && !resending {
                return None;
            }
            // Sender SWS avoidance (RFC 9293 3.8.6.2.1): send a full
            // segment, everything queued, or half the peer's largest window.
            let half_window = self.max_snd_wnd / 2;
            if !(all || (len > 0 && len >= half_window)) {
                // With nothing in flight no ACK will come to open the
                // window further: if the peer's window update was lost,
                // only a timer gets the data out. It is the persist
                // timer, and when it fires what the window allows goes
                // (the override time-out of RFC 9293 3.8.6.2.1). Found by
                // the tcp_pair fuzz target: a reordered ACK left a
                // window below the threshold, and the sender waited
                // forever.
                if len > 0 && self.in_flight() == 0 {
                    return self.sws_override(now, len, queued, recv);
                }
                return None;
            }
            if len == 0 {
                return None;
            }
        }
        if len == 0 && !(fin_pending && available == 0) {
            return None;
        }
        if len > available {
            len = available;
        }
        if len <= seg_max {
            return self.segment_at(now, self.snd_nxt, len, queued, recv);
        }
        self.burst_segment(now, len, seg_max, queued, recv)
    }

    // The rare cases of `data_segment`, out of line: the common one (one
    // segment of new data, or nothing) stays small in the instruction
    // cache.

    /// A retransmission in loss recovery (RFC 6675 5 NextSeg), if the
    /// pipe leaves room for one.
    #[cold]
    #[inline(never)]
    fn recovery_segment(
        &self,
        now: Instant,
        seg_max: usize,
        queued: usize,
        recv: &dyn RecvBuffer,
    ) -> Option<Transmit> {
        let first = self.high_rxt == self.snd_una;
        if first || self.pipe().saturating_add(seg_max) <= self.cc.window() {
            let (seq, room) = self.next_lost(seg_max)?;
            return self.segment_at(now, seq, room, queued, recv);
        }
        None
    }

    /// Data waits behind the peer's zero window: probe with one byte past
    /// it, with backoff (RFC 9293 3.8.6.1), only when nothing else is
    /// outstanding. Persisting starts with nothing in flight, so what is
    /// in flight now is the probe byte: probe with it again.
    #[cold]
    #[inline(never)]
    fn zero_window(
        &mut self,
        now: Instant,
        queued: usize,
        recv: &dyn RecvBuffer,
    ) -> Option<Transmit> {
        if self.probe_due {
            return self.segment_at(now, self.snd_una, 1, queued, recv);
        }
        if self.persist_at.is_none() && self.in_flight() == 0 {
            self.arm_persist(now);
        }
        None
    }

    /// `len` bytes that sender SWS avoidance holds back, with nothing in
    /// flight: they go when the persist timer fires (armed here if it is
    /// not).
    #[cold]
    #[inline(never)]
    fn sws_override(
        &mut self,
        now: Instant,
        len: usize,
        queued: usize,
        recv: &dyn RecvBuffer,
    ) -> Option<Transmit> {
        if self.probe_due {
            return self.segment_at(now, self.snd_nxt, len, queued, recv);
        }
        if self.persist_at.is_none() {
            self.arm_persist(now);
        }
        None
    }

    /// Arms the persist timer: the RTO, backed off per unanswered probe.
    fn arm_persist(&mut self, now: Instant) {
        let backoff = 1u32 << self.persist_backoff.min(16);
        let wait = self.rtt.rto().saturating_mul(backoff).min(MAX_PERSIST);
        self.persist_at = Some(now + wait);
    }

    /// More than a segment of new data for a device that cuts segments:
    /// whole segments only (a short tail waits for the next call, as
    /// Nagle and SWS avoidance would have it cut).
    #[cold]
    #[inline(never)]
    fn burst_segment(
        &self,
        now: Instant,
        len: usize,
        seg_max: usize,
        queued: usize,
        recv: &dyn RecvBuffer,
    ) -> Option<Transmit> {
        let len = len / seg_max * seg_max;
        let mut t = self.segment_at(now, self.snd_nxt, len, queued, recv)?;
        // Options beyond those every segment repeats (SACK blocks) are
        // copied into each cut segment too: each carries that much less.
        let repeated = crate::wire::tcp::HEADER_LEN + self.repeated_options_len();
        let extra = t.repr.buffer_len().saturating_sub(repeated);
        let size = seg_max.saturating_sub(extra).max(1);
        if t.repr.payload_len > size {
            t.segment_size = u16::try_from(size).unwrap_or(u16::MAX);
        }
        Some(t)
    }

    /// The segment with data from `seq`, `len` bytes at most, adding the
    /// FIN where the data ends and the application closed.
    fn segment_at(
        &self,
        now: Instant,
        seq: SeqNumber,
        len: usize,
        queued: usize,
        recv: &dyn RecvBuffer,
    ) -> Option<Transmit> {
        let offset = seq.checked_distance(self.snd_una)?;
        let len = len.min(queued.saturating_sub(offset));
        let mut flags = TcpFlags::empty();
        let ends_data = offset + len == queued;
        if self.owed.has(Owed::FIN) && ends_data {
            flags |= TcpFlags::FIN;
        }
        if len == 0 && !flags.contains(TcpFlags::FIN) {
            return None;
        }
        if len > 0 && ends_data {
            flags |= TcpFlags::PSH;
        }
        let new_data = seq >= self.snd_max;
        if self.ecn_cwr && new_data && len > 0 {
            flags |= TcpFlags::CWR;
        }
        let mut repr = self.header(now, flags, seq, recv);
        repr.payload_len = len;
        Some(Transmit {
            repr,
            offset,
            ect: self.ecn && new_data && len > 0,
            segment_size: 0,
        })
    }

    /// The segment [`poll_transmit`](Self::poll_transmit) offered at `now`
    /// could not be sent: its next hop is being resolved, or there is no
    /// route. It stays due and goes as soon as it can; meanwhile the
    /// retransmission timer runs, so that a neighbor that never answers
    /// (or a route that never comes) ends the handshake after the SYN
    /// retries, or the connection after the user timeout, as a peer that
    /// never answers would (without a timer the connection would wait for
    /// ever). A RST that cannot go out is given up: the connection ends
    /// without it.
    pub(crate) fn on_unsent(&mut self, now: Instant) {
        if self.owed.has(Owed::RST) {
            self.owed.set(Owed::RST, false);
            self.finish(CloseReason::Aborted);
            return;
        }
        self.blocked = true;
        if self.retransmit_at.is_none() {
            self.retransmit_at = Some(self.rto_deadline(now));
        }
    }

    /// Whether the last segment this connection offered could not go out
    /// (see [`on_unsent`](Self::on_unsent); since then nothing went out,
    /// and no retransmission timeout passed).
    pub(crate) fn is_waiting(&self) -> bool {
        self.blocked
    }

    /// The segment `t` from [`poll_transmit`](Self::poll_transmit) was
    /// queued at `now`: advances the send state and the timers.
    pub fn on_transmitted(&mut self, now: Instant, t: &Transmit) {
        let repr = &t.repr;
        self.stats.segments_sent += 1;
        self.blocked = false;
        if repr.flags.contains(TcpFlags::RST) {
            return self.on_reset_sent();
        }
        if repr.ack_number.is_some() {
            // A pure ACK pays one owed duplicate; more may be due.
            if repr.payload_len == 0 {
                self.dup_acks_owed = self.dup_acks_owed.saturating_sub(1);
                self.dup_acks_paid = self.dup_acks_paid.wrapping_add(1);
            }
            if self.dup_acks_owed == 0 {
                self.dup_acks_paid = 0;
            }
            self.ack_now = self.dup_acks_owed > 0;
            self.ack_delayed_until = None;
            self.unacked_segments = 0;
            let window = if repr.flags.contains(TcpFlags::SYN) {
                usize::from(repr.window_len)
            } else {
                usize::from(repr.window_len) << self.rcv_shift
            };
            let edge = self.rcv_nxt + window;
            if edge > self.rcv_adv {
                self.rcv_adv = edge;
            }
        }
        if repr.flags.contains(TcpFlags::CWR) {
            self.ecn_cwr = false;
        }
        let seq = repr.seq_number;
        let seg_len = repr.segment_len();
        if repr.flags.contains(TcpFlags::SYN) {
            return self.on_syn_sent(now, seq);
        }
        if seg_len == 0 {
            if self.owed.has(Owed::KEEP_ALIVE) && seq == self.snd_una - 1u32 {
                self.owed.set(Owed::KEEP_ALIVE, false);
            }
            return;
        }
        let end = seq + seg_len;
        let probe = self.probe_due && self.on_probe_sent(now, repr);
        let again = seq < self.snd_max;
        if again {
            self.on_resent(repr, probe);
        } else {
            self.stats.bytes_sent += repr.payload_len as u64;
            if self.recovery.is_none() && self.dup_acks > 0 {
                self.limited_bytes = self.limited_bytes.saturating_add(repr.payload_len);
            }
            if self.rtt_probe.is_none() {
                self.rtt_probe = Some((end, now));
            }
        }
        let tail_probe = self.owed.has(Owed::TAIL_PROBE);
        if tail_probe {
            self.on_tail_probe_sent(now, seq);
        }
        if seq == self.snd_nxt {
            self.snd_nxt = end;
        } else if !probe && !tail_probe {
            // A recovery retransmission ahead of or behind SND.NXT.
            self.high_rxt = self.high_rxt.max(end);
        }
        if self.recovery.is_some() && seq == self.snd_una && !self.sack {
            self.high_rxt = self.high_rxt.max(end);
        }
        if self.snd_max < end {
            self.snd_max = end;
        }
        if repr.flags.contains(TcpFlags::FIN) {
            self.on_fin_sent(end);
        }
        if self.retransmit_at.is_none() && !probe {
            self.retransmit_at = Some(self.rto_deadline(now));
        }
        if !again && !tail_probe && self.tlp_probe.is_none() {
            self.arm_tail_probe(now);
        }
    }

    // The rare cases of `on_transmitted`, out of line: the common one (new
    // data or an ACK) stays small in the instruction cache.

    /// `on_transmitted` of a RST: the connection is over.
    #[cold]
    #[inline(never)]
    fn on_reset_sent(&mut self) {
        self.owed.set(Owed::RST, false);
        self.finish(CloseReason::Aborted);
    }

    /// `on_transmitted` of a SYN (or SYN-ACK) from `seq`.
    #[cold]
    #[inline(never)]
    fn on_syn_sent(&mut self, now: Instant, seq: SeqNumber) {
        self.syn_sent = self.syn_sent.saturating_add(1);
        if self.syn_sent == 1 {
            self.rtt_probe = Some((seq + 1u32, now));
        } else {
            self.stats.retransmissions += 1;
            self.rtt_probe = None;
        }
        self.snd_nxt = seq + 1u32;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        self.retransmit_at = Some(self.rto_deadline(now));
    }

    /// `on_transmitted` of data while a window probe is due: whether
    /// `repr` is the probe (its persist timer restarts).
    #[cold]
    #[inline(never)]
    fn on_probe_sent(&mut self, now: Instant, repr: &TcpRepr) -> bool {
        let seq = repr.seq_number;
        let probe = repr.payload_len == 1 && (seq == self.snd_nxt || seq == self.snd_una);
        if probe {
            self.probe_due = false;
            self.arm_persist(now);
        } else if repr.payload_len > 1 {
            // The override of sender SWS avoidance went out: a segment in
            // the window like any other, under the retransmission timer.
            self.probe_due = false;
        }
        probe
    }

    /// `on_transmitted` of a segment that starts below SND.MAX (sent
    /// before); `probe` if it is a window probe.
    #[cold]
    #[inline(never)]
    fn on_resent(&mut self, repr: &TcpRepr, probe: bool) {
        let seq = repr.seq_number;
        let end = seq + repr.segment_len();
        // A probe sent again is still a probe, not a retransmission.
        if !probe {
            self.stats.retransmissions += 1;
        }
        if self.rtt_probe.is_some_and(|(probe_end, _)| seq < probe_end) {
            self.rtt_probe = None;
        }
        // A segment resent after a timeout may reach past what was
        // sent before: that part is new.
        if let Some(new) = end.checked_distance(self.snd_max) {
            let fin = usize::from(repr.flags.contains(TcpFlags::FIN));
            self.stats.bytes_sent += new.saturating_sub(fin).min(repr.payload_len) as u64;
        }
    }

    /// `on_transmitted` of the tail loss probe from `seq`: new data or
    /// the last segment again (RFC 8985 7.3); the retransmission timer
    /// restarts behind it.
    #[cold]
    #[inline(never)]
    fn on_tail_probe_sent(&mut self, now: Instant, seq: SeqNumber) {
        self.owed.set(Owed::TAIL_PROBE, false);
        self.tlp_probe = Some(seq);
        self.stats.tail_probes += 1;
        self.retransmit_at = Some(self.rto_deadline(now));
    }

    /// `on_transmitted` of our FIN, which ends at `end`.
    #[cold]
    #[inline(never)]
    fn on_fin_sent(&mut self, end: SeqNumber) {
        self.fin_seq = Some(end - 1u32);
        match self.state {
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            _ => {}
        }
    }
}

/// `now` plus `nanos`, at most [`Instant::MAX`] (as `now + duration`).
fn after_nanos(now: Instant, nanos: u64) -> Instant {
    Instant::from_nanos(now.as_nanos().saturating_add(nanos))
}

/// The RST answering `seg`, which reached no connection or an
/// unacceptable ACK (RFC 9293 3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` when it
/// had an ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
pub fn reset_for(seg: &TcpRepr) -> TcpRepr {
    let base = TcpRepr {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        flags: TcpFlags::RST,
        ..TcpRepr::default()
    };
    match seg.ack_number {
        Some(ack) => TcpRepr {
            seq_number: ack,
            ..base
        },
        None => TcpRepr {
            seq_number: SeqNumber(0),
            ack_number: Some(seg.seq_number + seg.segment_len()),
            ..base
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::buffer::{RingRecvBuffer, RingSendBuffer};
    use super::*;

    /// A connection with ring buffers over the caller's arrays; its
    /// receive buffer holds `GAPS` out-of-order ranges.
    struct Side<'s, const GAPS: usize = { crate::layer::tcp::buffer::DEFAULT_GAPS }> {
        conn: Connection,
        send: RingSendBuffer<'s>,
        recv: RingRecvBuffer<'s, GAPS>,
    }

    /// Storage for the four buffers of a pair.
    type PairStorage = [[u8; 64 * 1024]; 4];

    /// A (port 40000) connected to B (port 80) at `now`, default
    /// configuration, the handshake done.
    fn established<const GAPS: usize>(
        storage: &mut PairStorage,
        now: Instant,
    ) -> (Side<'_>, Side<'_, GAPS>) {
        let [a_send, a_recv, b_send, b_recv] = storage;
        let config = Config::default();
        let mut a = Side {
            conn: Connection::connect(40000, 80, SeqNumber(0xffff_f000), now, config),
            send: RingSendBuffer::new(&mut a_send[..]),
            recv: RingRecvBuffer::new(&mut a_recv[..]),
        };
        let mut frame = [0u8; 1480];
        let syn = a.poll(now, &mut frame).expect("SYN");
        let mut b = Side {
            conn: Connection::accept(&syn, SeqNumber(0x7000_0000), now, config),
            send: RingSendBuffer::new(&mut b_send[..]),
            recv: RingRecvBuffer::with_gaps(&mut b_recv[..]),
        };
        let syn_ack = b.poll(now, &mut frame).expect("SYN-ACK");
        a.deliver(now, &syn_ack, &[]);
        let ack = a.poll(now, &mut frame).expect("ACK");
        b.deliver(now, &ack, &[]);
        assert_eq!(b.conn.state(), State::Established);
        (a, b)
    }

    impl<const GAPS: usize> Side<'_, GAPS> {
        /// The next segment, sent: header and payload length.
        fn poll(&mut self, now: Instant, payload: &mut [u8]) -> Option<TcpRepr> {
            let t = self.conn.poll_transmit(now, &self.send, &self.recv, 1480)?;
            let n = self
                .send
                .read_at(t.offset, &mut payload[..t.repr.payload_len]);
            assert_eq!(n, t.repr.payload_len);
            self.conn.on_transmitted(now, &t);
            Some(t.repr)
        }

        fn deliver(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) {
            let _ = self
                .conn
                .on_segment(now, seg, payload, &mut self.send, &mut self.recv);
        }
    }

    /// Header prediction only ever says yes to segments the full checks
    /// let through untouched: every mix of sequence number, flags,
    /// timestamp and length around the next expected segment.
    #[test]
    fn predicted_segments_pass_the_checks_unchanged() {
        let mut storage = [[0u8; 64 * 1024]; 4];
        let now = Instant::from_secs(1);
        let (mut a, mut b) = established::<4>(&mut storage, now);
        assert_eq!(a.send.write(&[7; 10]), 10);
        let mut frame = [0u8; 1480];
        let template = a.poll(now, &mut frame).expect("data");
        let (tsval, tsecr) = template.timestamp.expect("timestamps");
        let mut predicted = 0;
        for seq in [-1i32, 0, 1, 100] {
            for flags in [
                TcpFlags::empty(),
                TcpFlags::PSH,
                TcpFlags::FIN,
                TcpFlags::SYN,
                TcpFlags::RST,
                TcpFlags::ECE,
            ] {
                for ts in [
                    None,
                    Some(tsval.wrapping_sub(1)),
                    Some(tsval),
                    Some(tsval.wrapping_add(1)),
                ] {
                    for payload_len in [0, 10] {
                        let seg = TcpRepr {
                            seq_number: template.seq_number + seq as u32,
                            flags,
                            timestamp: ts.map(|v| (v, tsecr)),
                            payload_len,
                            ..template
                        };
                        if !b.conn.predicted(&seg) {
                            continue;
                        }
                        predicted += 1;
                        let before = std::format!("{:?}", b.conn);
                        assert!(b.conn.screen(now, &seg, &b.recv), "{seg}");
                        assert_eq!(std::format!("{:?}", b.conn), before, "{seg}");
                    }
                }
            }
        }
        // At RCV.NXT, any flags but SYN and RST, with or without payload,
        // a timestamp not older or none.
        assert_eq!(predicted, 4 * 3 * 2);
        b.deliver(now, &template, &frame[..template.payload_len]);
        assert_eq!(b.recv.window(), 64 * 1024 - 10);
    }

    /// `nothing_to_send` says yes only where a poll finds nothing and
    /// changes nothing; after each segment of a request and answer it
    /// says yes, so the endpoint does not poll again.
    #[test]
    fn nothing_to_send_only_when_a_poll_finds_nothing() {
        fn settled<const GAPS: usize>(side: &mut Side<'_, GAPS>, now: Instant) -> bool {
            let yes = side.conn.nothing_to_send(now, &side.send, &side.recv);
            if yes {
                let before = std::format!("{:?}", side.conn);
                for max_len in [0, 60, 1480, 64 * 1024] {
                    let t = side
                        .conn
                        .poll_transmit(now, &side.send, &side.recv, max_len);
                    assert_eq!(t, None);
                    assert_eq!(std::format!("{:?}", side.conn), before);
                }
            }
            yes
        }
        let mut storage = [[0u8; 64 * 1024]; 4];
        let mut now = Instant::from_secs(1);
        let (mut a, mut b) = established::<4>(&mut storage, now);
        a.conn.set_nagle(false);
        b.conn.set_nagle(false);
        let mut frame = [0u8; 1480];
        let mut reply = [0u8; 64];
        for round in 0..4u64 {
            now += Duration::from_millis(round);
            assert_eq!(a.send.write(&[1; 64]), 64);
            assert!(!settled(&mut a, now));
            let request = a.poll(now, &mut frame).expect("request");
            assert!(settled(&mut a, now), "request {round}");
            b.deliver(now, &request, &frame[..64]);
            assert_eq!(b.recv.read(&mut reply), 64);
            assert_eq!(b.send.write(&reply), 64);
            let answer = b.poll(now, &mut frame).expect("answer");
            assert!(settled(&mut b, now), "answer {round}");
            a.deliver(now, &answer, &frame[..64]);
            assert_eq!(a.recv.read(&mut reply), 64);
        }
        // More than a window's worth: the last segment the window lets go
        // leaves data queued (no), a delayed ACK comes due (no), and the
        // data acknowledged a window update may be due.
        assert!(a.send.write(&[2; 60_000]) > 0);
        while a.poll(now, &mut frame).is_some() {
            settled(&mut a, now);
        }
        assert!(!settled(&mut a, now));
        let mut last = None;
        for _ in 0..64 {
            let Some(t) = a.poll(now, &mut frame) else {
                break;
            };
            b.deliver(now, &t, &frame[..t.payload_len]);
            last = Some(t);
        }
        assert!(last.is_none());
        for step in 0..50 {
            let mut sent = false;
            while let Some(t) = b.poll(now, &mut frame) {
                settled(&mut b, now);
                a.deliver(now, &t, &frame[..t.payload_len]);
                sent = true;
            }
            while let Some(t) = a.poll(now, &mut frame) {
                settled(&mut a, now);
                b.deliver(now, &t, &frame[..t.payload_len]);
                sent = true;
            }
            let mut sink = [0u8; 4096];
            b.recv.read(&mut sink);
            settled(&mut a, now);
            settled(&mut b, now);
            if !sent {
                now += Duration::from_millis(50 * step);
            }
        }
        // Keep-alive: its timer is set by the first poll, not before.
        a.conn.set_keep_alive(Some(Duration::from_secs(10)));
        settled(&mut a, now);
        let _ = a.poll(now, &mut frame);
        settled(&mut a, now);
        now += Duration::from_secs(11);
        assert!(!settled(&mut a, now));
        a.conn.close();
        assert!(!settled(&mut a, now));
    }

    /// Closing while the SYN is out keeps what the application wrote: the
    /// data and then the FIN go out once the handshake completes. (Found
    /// by the tcp_pair fuzz target: the close deleted the connection,
    /// dropped the bytes and reported a normal close.)
    #[test]
    fn close_in_syn_sent_sends_queued_data_then_fin() {
        let mut storage = [[0u8; 64 * 1024]; 4];
        let [a_send, a_recv, b_send, b_recv] = &mut storage;
        let now = Instant::from_secs(100);
        let config = Config::default();
        let mut a = Side {
            conn: Connection::connect(40000, 80, SeqNumber(1000), now, config),
            send: RingSendBuffer::new(&mut a_send[..]),
            recv: RingRecvBuffer::new(&mut a_recv[..]),
        };
        let mut frame = [0u8; 1480];
        let syn = a.poll(now, &mut frame).expect("SYN");
        assert_eq!(a.send.write(&[7; 100]), 100);
        a.conn.close();
        assert_eq!(a.conn.state(), State::SynSent);

        let mut b: Side<'_> = Side {
            conn: Connection::accept(&syn, SeqNumber(5000), now, config),
            send: RingSendBuffer::new(&mut b_send[..]),
            recv: RingRecvBuffer::new(&mut b_recv[..]),
        };
        let syn_ack = b.poll(now, &mut frame).expect("SYN-ACK");
        a.deliver(now, &syn_ack, &[]);
        let data = a.poll(now, &mut frame).expect("the data");
        assert_eq!(data.payload_len, 100);
        assert!(data.flags.contains(TcpFlags::FIN));
        assert_eq!(a.conn.state(), State::FinWait1);
        assert_eq!(a.conn.close_reason(), None);
        b.deliver(now, &data, &frame[..100]);
        assert_eq!(b.conn.state(), State::CloseWait);
        assert_eq!(b.recv.read(&mut [0u8; 200]), 100);
    }

    /// A window below the sender's SWS threshold with nothing in flight
    /// (the peer's window update was lost or overtaken by an older ACK):
    /// the sender holds the small segment back but arms a timer, and
    /// sends what the window allows when it fires instead of waiting
    /// forever. (Found by the tcp_pair fuzz target.)
    #[test]
    fn small_window_with_nothing_in_flight_is_used_after_a_timeout() {
        let mut storage = [[0u8; 64 * 1024]; 4];
        let now = Instant::from_secs(100);
        let (mut a, b) = established::<4>(&mut storage, now);
        let mut frame = [0u8; 1480];
        // B's latest ACK again, with a window of 1152 bytes.
        let mut ack = b
            .conn
            .header(now, TcpFlags::empty(), b.conn.snd_nxt, &b.recv);
        ack.window_len = (1152 >> b.conn.rcv_shift) as u16;
        a.deliver(now, &ack, &[]);
        assert_eq!(a.conn.snd_wnd, 1152);

        assert_eq!(a.send.write(&[1; 10_000]), 10_000);
        assert!(a.poll(now, &mut frame).is_none(), "SWS avoidance holds it");
        let at = a.conn.next_deadline().expect("a timer while data waits");
        let seg = a.poll(at, &mut frame).expect("the override");
        assert_eq!(seg.payload_len, 1152);
        assert!(a.poll(at, &mut frame).is_none());
        assert!(a.conn.next_deadline().is_some(), "in flight, under a timer");
    }

    /// A receiver that takes a batch of segments with one lost and then
    /// ACKs once (as a batching stack does) moves its cumulative ACK up
    /// to the hole in the same ACK whose SACK blocks first show what lies
    /// beyond it. That ACK is a duplicate by RFC 6675's definition: the
    /// sender retransmits the hole at once instead of waiting for its
    /// retransmission timer.
    #[test]
    fn cumulative_ack_with_new_sack_blocks_starts_fast_retransmit() {
        let mut storage = [[0u8; 64 * 1024]; 4];
        let now = Instant::from_secs(100);
        let (mut a, mut b) = established::<4>(&mut storage, now);
        let mut frame = [0u8; 1480];

        // Ten full segments (the initial window); the third is lost.
        let now = now + Duration::from_millis(1);
        assert_eq!(a.send.write(&[0x5a; 10 * 1448]), 10 * 1448);
        let mut segments = 0;
        let mut lost = None;
        while let Some(seg) = a.poll(now, &mut frame) {
            segments += 1;
            if segments == 3 {
                lost = Some(seg.seq_number);
                continue;
            }
            b.deliver(now, &seg, &frame[..seg.payload_len]);
        }
        assert_eq!(segments, 10);
        let lost = lost.unwrap();

        // One ACK for the batch: up to the hole, SACKing the rest.
        let ack = b.poll(now, &mut frame).expect("an ACK");
        assert_eq!(ack.ack_number, Some(lost));
        assert!(ack.sack_ranges[0].is_some());
        let now = now + Duration::from_millis(1);
        a.deliver(now, &ack, &[]);
        assert_eq!(a.conn.stats().fast_retransmits, 1);
        let again = a.poll(now, &mut frame).expect("the retransmission");
        assert_eq!(again.seq_number, lost);
        assert_eq!(a.conn.stats().retransmissions, 1);
        assert_eq!(a.conn.stats().timeouts, 0);
    }

    /// A batch that opens more holes than one ACK has SACK blocks for
    /// (three beside the timestamps) owes a duplicate ACK per
    /// out-of-order segment. Between them the duplicates must name every
    /// held range, each led by the most recent one (RFC 2018 section 4):
    /// were they all alike, the sender would never hear of the older
    /// ranges and would resend data that arrived.
    #[test]
    fn duplicate_acks_of_a_batch_name_every_held_range() {
        let mut storage = [[0u8; 64 * 1024]; 4];
        let now = Instant::from_secs(100);
        // The receiver holds up to 8 ranges: more than an ACK reports.
        let (mut a, mut b) = established::<8>(&mut storage, now);
        let mut frame = [0u8; 1480];

        // Ten segments; every other one is lost, from the first: five
        // held ranges, five duplicate ACKs owed.
        let now = now + Duration::from_millis(1);
        assert_eq!(a.send.write(&[0x5a; 10 * 1448]), 10 * 1448);
        let mut arrived = [(0u32, 0u32); 5];
        let mut index = 0;
        while let Some(seg) = a.poll(now, &mut frame) {
            if index % 2 == 1 {
                b.deliver(now, &seg, &frame[..seg.payload_len]);
                let start = seg.seq_number.0;
                arrived[index / 2] = (start, start.wrapping_add(seg.payload_len as u32));
            }
            index += 1;
        }
        assert_eq!(index, 10);
        assert_eq!(b.conn.stats().out_of_order, 5);

        let mut reported = [false; 5];
        let mut acks = 0;
        while let Some(ack) = b.poll(now, &mut frame) {
            acks += 1;
            assert!(acks <= 5, "only the owed duplicates");
            assert_eq!(
                ack.sack_ranges[0],
                Some(arrived[4]),
                "the most recent leads"
            );
            assert!(ack.sack_ranges[2].is_some() && ack.sack_ranges[3].is_none());
            for block in ack.sack_ranges.iter().flatten() {
                let known = arrived.iter().position(|r| r == block);
                reported[known.expect("a block is a range that arrived")] = true;
            }
        }
        assert_eq!(acks, 5);
        assert_eq!(reported, [true; 5], "every held range reported");
    }
}
