//! Congestion control: how many bytes a connection may have in flight.
//!
//! A TCP sender must not send faster than the path can carry, or queues
//! overflow and everyone's packets are lost. The congestion window (cwnd)
//! bounds the bytes in flight; it grows while ACKs show the path has room
//! and shrinks when a loss or an ECN mark shows it has not.
//!
//! This module does window arithmetic only. The connection detects loss
//! (duplicate ACKs, SACK, RACK, the retransmission timer), decides what to
//! retransmit and counts the bytes in flight (the "pipe" of RFC 6675), and
//! tells a [`CongestionControl`] what happened. Because recovery uses the
//! pipe, the window is never inflated by duplicate ACKs as in RFC 6582's
//! fast recovery: during recovery it stays at ssthresh (RFC 6675 section
//! 5, step 4.2).
//!
//! Two algorithms are provided:
//!
//! * [`NewReno`]: RFC 5681 slow start and congestion avoidance with
//!   appropriate byte counting (RFC 3465), halving on loss.
//! * [`Cubic`]: RFC 9438, the default of Linux and of ethox
//!   ([`Algorithm::default`]); it regrows after a loss as a cubic function
//!   of time, so long fat paths refill in seconds instead of minutes.
//!
//! [`Congestion`] holds either, chosen at run time by [`Algorithm`].
//!
//! Both start with the initial window of RFC 6928, grow only while the
//! sender is limited by the window (an application that sends little
//! must not build up a window it never tested, RFC 7661 and RFC 9438
//! section 5.8), and use saturating arithmetic throughout: no MSS,
//! byte count or time makes them overflow or panic. An MSS of 0 counts
//! as 1.
//!
//! ```
//! use ethox::layer::tcp::congestion::{Algorithm, Congestion, CongestionControl};
//! use ethox::time::Instant;
//!
//! let mut cc = Congestion::new(Algorithm::NewReno, 1460);
//! assert_eq!(cc.window(), 14_600); // RFC 6928: ten segments
//!
//! // Slow start: a full-sized segment acknowledged grows the window by one.
//! let now = Instant::from_millis(10);
//! cc.on_ack(now, 1460, 14_600, Some(10_000_000)); // a 10 ms sample
//! assert_eq!(cc.window(), 16_060);
//!
//! // A loss halves the data in flight.
//! cc.on_congestion_event(now, 16_060);
//! assert_eq!(cc.window(), 8_030);
//! assert_eq!(cc.slow_start_threshold(), 8_030);
//! ```

use core::time::Duration;

use super::rtt::weighted;
use crate::time::Instant;

/// The window arithmetic of a congestion control algorithm.
///
/// All sizes are in bytes. The connection calls these methods; they only
/// update the window and the slow-start threshold.
pub trait CongestionControl {
    /// The congestion window in bytes.
    fn window(&self) -> usize;

    /// The slow-start threshold in bytes (`usize::MAX` before the first
    /// loss).
    fn slow_start_threshold(&self) -> usize;

    /// The sender's MSS changed (set once after the handshake, again on a
    /// path MTU change).
    ///
    /// Before any data was acknowledged or lost the window is the initial
    /// window of the new MSS; later the window keeps its size in bytes,
    /// but at least one segment.
    fn set_mss(&mut self, mss: usize);

    /// `acked` bytes of new data were cumulatively acknowledged outside
    /// recovery; `in_flight` bytes were outstanding before this ACK;
    /// `rtt_nanos` is a fresh round-trip sample in nanoseconds if the ACK
    /// gave one (integer nanoseconds, the unit of [`Instant`]: the sender
    /// measures in them, and a `Duration` would cost a conversion each
    /// way on every ACK).
    ///
    /// Grows the window by slow start (RFC 5681 3.1 with RFC 3465
    /// appropriate byte counting, L = 2 SMSS) or congestion avoidance, but
    /// only if the sender was limited by the window
    /// (`in_flight + mss >= window`).
    fn on_ack(&mut self, now: Instant, acked: usize, in_flight: usize, rtt_nanos: Option<u64>);

    /// Loss detected by duplicate ACKs or SACK, or an ECN-Echo (RFC 3168):
    /// reduce the window. Call it once per window of data, when recovery
    /// starts; `in_flight` is the data outstanding then (FlightSize).
    fn on_congestion_event(&mut self, now: Instant, in_flight: usize);

    /// Recovery finished: the recovery point was acknowledged.
    fn on_recovery_end(&mut self, now: Instant);

    /// The retransmission timer expired: ssthresh as on a loss (held if
    /// the timer expired again without an ACK in between, RFC 5681 3.1),
    /// the window one segment (the loss window of RFC 5681 3.1).
    fn on_timeout(&mut self, now: Instant, in_flight: usize);
}

/// The congestion control algorithms to choose from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// [`NewReno`]: RFC 5681, RFC 6582.
    NewReno,
    /// [`Cubic`]: RFC 9438. The default, as in Linux: it uses long fat
    /// paths well and behaves like Reno on short ones.
    #[default]
    Cubic,
}

/// One of the congestion control algorithms, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Congestion {
    /// RFC 5681 / RFC 6582.
    NewReno(NewReno),
    /// RFC 9438.
    Cubic(Cubic),
}

impl Congestion {
    /// The state of `algorithm` for a sender with this MSS.
    pub fn new(algorithm: Algorithm, mss: usize) -> Self {
        match algorithm {
            Algorithm::NewReno => Congestion::NewReno(NewReno::new(mss)),
            Algorithm::Cubic => Congestion::Cubic(Cubic::new(mss)),
        }
    }

    /// Which algorithm this is.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Congestion::NewReno(_) => Algorithm::NewReno,
            Congestion::Cubic(_) => Algorithm::Cubic,
        }
    }

    fn inner(&self) -> &dyn CongestionControl {
        match self {
            Congestion::NewReno(cc) => cc,
            Congestion::Cubic(cc) => cc,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn CongestionControl {
        match self {
            Congestion::NewReno(cc) => cc,
            Congestion::Cubic(cc) => cc,
        }
    }
}

impl CongestionControl for Congestion {
    fn window(&self) -> usize {
        self.inner().window()
    }

    fn slow_start_threshold(&self) -> usize {
        self.inner().slow_start_threshold()
    }

    fn set_mss(&mut self, mss: usize) {
        self.inner_mut().set_mss(mss)
    }

    fn on_ack(&mut self, now: Instant, acked: usize, in_flight: usize, rtt_nanos: Option<u64>) {
        self.inner_mut().on_ack(now, acked, in_flight, rtt_nanos)
    }

    fn on_congestion_event(&mut self, now: Instant, in_flight: usize) {
        self.inner_mut().on_congestion_event(now, in_flight)
    }

    fn on_recovery_end(&mut self, now: Instant) {
        self.inner_mut().on_recovery_end(now)
    }

    fn on_timeout(&mut self, now: Instant, in_flight: usize) {
        self.inner_mut().on_timeout(now, in_flight)
    }
}

/// The initial window of RFC 6928: min(10 MSS, max(2 MSS, 14600 bytes)),
/// ten segments for an Ethernet MSS, two for jumbo frames.
pub fn initial_window(mss: usize) -> usize {
    let mss = mss.max(1);
    mss.saturating_mul(10)
        .min(mss.saturating_mul(2).max(14_600))
}

/// What every algorithm here shares: the window, ssthresh, and the rules
/// of slow start and of the loss and timeout reductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// The sender MSS, at least 1.
    mss: usize,
    cwnd: usize,
    ssthresh: usize,
    /// Nothing changed the window yet: it is the initial window and
    /// follows a change of the MSS.
    initial: bool,
    /// The last event was a timeout and no new data was acknowledged
    /// since; RFC 5681 3.1 holds ssthresh on a repeated timeout.
    timed_out: bool,
}

impl Window {
    fn new(mss: usize) -> Self {
        let mss = mss.max(1);
        Window {
            mss,
            cwnd: initial_window(mss),
            ssthresh: usize::MAX,
            initial: true,
            timed_out: false,
        }
    }

    fn set_mss(&mut self, mss: usize) {
        self.mss = mss.max(1);
        if self.initial {
            self.cwnd = initial_window(self.mss);
        } else {
            // A window smaller than one segment would stall the sender.
            self.cwnd = self.cwnd.max(self.mss);
            if self.ssthresh != usize::MAX {
                self.ssthresh = self.ssthresh.max(self.least_ssthresh());
            }
        }
    }

    /// RFC 5681 eq. 4 keeps ssthresh at two segments or more.
    fn least_ssthresh(&self) -> usize {
        self.mss.saturating_mul(2)
    }

    /// Whether the sender used the window (RFC 7661): less than one
    /// segment of it was left unused.
    fn is_cwnd_limited(&self, in_flight: usize) -> bool {
        in_flight.saturating_add(self.mss) >= self.cwnd
    }

    /// The growth common to all algorithms for an ACK of `acked` new
    /// bytes with `in_flight` bytes outstanding before it: slow start,
    /// if the sender used its window.
    fn on_ack(&mut self, acked: usize, in_flight: usize) -> Growth {
        if acked == 0 {
            return Growth::Nothing;
        }
        // New data was acknowledged: a later timeout is a new one.
        self.timed_out = false;
        if !self.is_cwnd_limited(in_flight) {
            Growth::ApplicationLimited
        } else if self.cwnd < self.ssthresh {
            Growth::Avoidance(self.slow_start(acked))
        } else {
            Growth::Avoidance(acked)
        }
    }

    /// Slow start with appropriate byte counting (RFC 3465 2.2, L = 2):
    /// the window grows by the bytes acknowledged, at most two segments
    /// per ACK, up to ssthresh. Returns the part of the growth beyond
    /// ssthresh, which congestion avoidance counts as acknowledged bytes.
    fn slow_start(&mut self, acked: usize) -> usize {
        let grown = self
            .cwnd
            .saturating_add(acked.min(self.mss.saturating_mul(2)));
        self.grow_to(grown.min(self.ssthresh));
        grown - self.cwnd
    }

    fn grow_to(&mut self, cwnd: usize) {
        if cwnd > self.cwnd {
            self.cwnd = cwnd;
            self.initial = false;
        }
    }

    /// A congestion event: ssthresh is `reduced` but at least two
    /// segments, and the window is ssthresh (RFC 5681 eq. 4 and step 4.2
    /// of RFC 6675 section 5).
    fn reduce(&mut self, reduced: usize) {
        self.ssthresh = reduced.max(self.least_ssthresh());
        self.cwnd = self.ssthresh;
        self.initial = false;
        self.timed_out = false;
    }

    /// The retransmission timer expired: ssthresh is `reduced` (at least
    /// two segments) unless this is a repeated timeout, and the window is
    /// the loss window of one segment (RFC 5681 3.1).
    fn time_out(&mut self, reduced: usize) {
        if !self.timed_out {
            self.ssthresh = reduced.max(self.least_ssthresh());
        }
        self.cwnd = self.mss;
        self.initial = false;
        self.timed_out = true;
    }
}

/// The [`CongestionControl`] methods every algorithm answers from its
/// `window: Window` field alone.
macro_rules! answer_from_window {
    () => {
        fn window(&self) -> usize {
            self.window.cwnd
        }

        fn slow_start_threshold(&self) -> usize {
            self.window.ssthresh
        }

        fn set_mss(&mut self, mss: usize) {
            self.window.set_mss(mss);
        }
    };
}

/// What is left for an algorithm to do after [`Window::on_ack`].
enum Growth {
    /// No new data was acknowledged.
    Nothing,
    /// The sender left part of its window unused, so the window must not
    /// grow (RFC 7661).
    ApplicationLimited,
    /// This many acknowledged bytes, those that slow start did not use,
    /// are for congestion avoidance (0 if slow start used them all).
    Avoidance(usize),
}

/// `value * numerator / denominator` rounded down, for fractions below 1
/// and other results that fit; saturating otherwise.
fn scale(value: usize, numerator: u128, denominator: u128) -> usize {
    let product = (value as u128).saturating_mul(numerator);
    usize::try_from(product / denominator.max(1)).unwrap_or(usize::MAX)
}

/// NewReno (RFC 5681, RFC 6582): slow start, then one segment per window
/// of acknowledged data; halve the data in flight on loss.
///
/// Fast recovery's window inflation and deflation (RFC 6582 3.2) are the
/// connection's business through the pipe of RFC 6675, so the window
/// stays at ssthresh during recovery and at its end (RFC 6582 3.2 step 3,
/// second choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReno {
    window: Window,
    /// Bytes acknowledged in congestion avoidance since the window last
    /// grew (RFC 3465 2.1).
    bytes_acked: usize,
}

impl NewReno {
    /// A sender with this MSS, in slow start with the
    /// [initial window](initial_window).
    pub fn new(mss: usize) -> Self {
        NewReno {
            window: Window::new(mss),
            bytes_acked: 0,
        }
    }
}

impl CongestionControl for NewReno {
    answer_from_window!();

    fn on_ack(&mut self, _now: Instant, acked: usize, in_flight: usize, _rtt: Option<u64>) {
        let Growth::Avoidance(acked) = self.window.on_ack(acked, in_flight) else {
            return;
        };
        // Congestion avoidance by byte counting (RFC 3465 2.1): one
        // segment per window's worth of acknowledged bytes, at most one
        // per ACK. The credit left over is capped at one window so that a
        // single huge ACK cannot bank growth for many round trips.
        self.bytes_acked = self.bytes_acked.saturating_add(acked);
        let cwnd = self.window.cwnd;
        if self.bytes_acked >= cwnd {
            self.bytes_acked = (self.bytes_acked - cwnd).min(cwnd);
            self.window.grow_to(cwnd.saturating_add(self.window.mss));
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, in_flight: usize) {
        // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 SMSS).
        self.window.reduce(in_flight / 2);
        self.bytes_acked = 0;
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        // The window was never inflated; it already equals ssthresh.
        self.bytes_acked = 0;
    }

    fn on_timeout(&mut self, _now: Instant, in_flight: usize) {
        self.window.time_out(in_flight / 2);
        self.bytes_acked = 0;
    }
}

/// CUBIC's multiplicative decrease factor, beta_cubic = 0.7 (RFC 9438
/// 4.6), as a fraction.
const BETA: (u128, u128) = (7, 10);
/// Fast convergence lowers W_max to cwnd * (1 + beta) / 2 = 0.85 cwnd
/// (RFC 9438 4.7).
const FAST_CONVERGENCE: (u128, u128) = (17, 20);
/// alpha_cubic = 3 (1 - beta) / (1 + beta) = 9/17, the Reno-friendly
/// additive increase in segments per round trip (RFC 9438 4.3).
const ALPHA: (u128, u128) = (9, 17);
/// The scaling constant C = 0.4 segments per second cubed (RFC 9438 5.1).
const C: (u128, u128) = (4, 10);
/// One second in the microseconds CUBIC's clock counts.
const MICROS_PER_SEC: u128 = 1_000_000;
/// The longest |t - K| the cubic function looks at, 10^12 µs (11.6 days):
/// its cube in µs³ still fits in a u128, and the window it gives is
/// beyond any real path anyway.
const MAX_CUBIC_OFFSET: u64 = 1_000_000_000_000;

/// CUBIC (RFC 9438): after a congestion event the window regrows along
/// W_cubic(t) = C (t - K)³ + W_max, fast while far below the window at
/// the last loss (W_max), flat around it (t = K) and faster again beyond
/// it, while never growing slower than Reno would (the Reno-friendly
/// region).
///
/// The concave and convex regions of RFC 9438 4.4 and 4.5 need no code
/// of their own: both move the window towards W_cubic(t + RTT). Windows
/// are kept in bytes and the Reno-friendly estimate counts bytes, as the
/// RFC asks of senders that count bytes (RFC 3465). Time is counted in
/// microseconds and K found with an integer cube root, so no floating
/// point is needed. Fast convergence (4.7) is on. HyStart++ is not
/// implemented: slow start is that of RFC 5681 with RFC 3465 ABC. An
/// ECN-Echo reduces like a loss, to at least two segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cubic {
    window: Window,
    /// W_max in bytes: the window before the last reduction, or less
    /// after fast convergence; 0 before the first.
    w_max: usize,
    /// cwnd_prior in bytes: the window before the last reduction.
    cwnd_prior: usize,
    /// The Reno-friendly estimate W_est in bytes.
    w_est: usize,
    /// t_epoch: when the current congestion avoidance stage began (moved
    /// later by application-limited periods); `None` outside one.
    epoch: Option<Instant>,
    /// K in microseconds.
    k_micros: u64,
    /// The next congestion avoidance stage follows a timeout: it starts
    /// with K = 0 and W_max = cwnd_epoch (RFC 9438 4.8).
    after_timeout: bool,
    /// Since when the sender left part of the window unused in the
    /// current stage; that time does not count in t (RFC 9438 4.2).
    app_limited_since: Option<Instant>,
    /// The smoothed round-trip time in nanoseconds, 1/8 weights as in
    /// RFC 6298.
    srtt: Option<u64>,
    /// Growth towards the cubic target not yet added, in byte-bytes
    /// (divided by cwnd on use): keeps fractions of a byte per ACK.
    cubic_credit: u128,
    /// Growth of W_est not yet added, likewise scaled.
    estimate_credit: u128,
}

impl Cubic {
    /// A sender with this MSS, in slow start with the
    /// [initial window](initial_window).
    pub fn new(mss: usize) -> Self {
        Cubic {
            window: Window::new(mss),
            w_max: 0,
            cwnd_prior: 0,
            w_est: 0,
            epoch: None,
            k_micros: 0,
            after_timeout: false,
            app_limited_since: None,
            srtt: None,
            cubic_credit: 0,
            estimate_credit: 0,
        }
    }

    /// W_max: the window, in bytes, the cubic function levels off at.
    pub fn w_max(&self) -> usize {
        self.w_max
    }

    /// K: how long after the start of the congestion avoidance stage the
    /// cubic function reaches W_max.
    pub fn k(&self) -> Duration {
        Duration::from_micros(self.k_micros)
    }

    /// Ends the congestion avoidance stage; the next one starts with the
    /// next ACK.
    fn end_epoch(&mut self) {
        self.epoch = None;
        self.app_limited_since = None;
        self.cubic_credit = 0;
        self.estimate_credit = 0;
    }

    /// Starts a congestion avoidance stage at `now` from the current
    /// window, cwnd_epoch (RFC 9438 4.2, 4.3, 4.8).
    fn start_epoch(&mut self, now: Instant) -> Instant {
        let cwnd = self.window.cwnd;
        if self.after_timeout || cwnd >= self.w_max {
            // Already at or above W_max: the curve starts flat at the
            // current window and then probes upwards (convex region).
            self.w_max = cwnd;
            self.k_micros = 0;
        } else {
            self.k_micros = cubic_k_micros(self.w_max - cwnd, self.window.mss);
        }
        self.after_timeout = false;
        self.w_est = cwnd;
        self.epoch = Some(now);
        now
    }

    /// W_cubic(t) in bytes for `t_micros` after the epoch (RFC 9438 eq. 1).
    fn w_cubic(&self, t_micros: u64) -> usize {
        let offset = t_micros.abs_diff(self.k_micros).min(MAX_CUBIC_OFFSET) as u128;
        // offset³ / 10^12 is (offset in seconds)³ in millionths; then
        // C * that * MSS / 10^6 bytes.
        let cube = offset * offset * offset / (MICROS_PER_SEC * MICROS_PER_SEC);
        let delta = cube.saturating_mul(C.0 * self.window.mss as u128) / (C.1 * MICROS_PER_SEC);
        let delta = usize::try_from(delta).unwrap_or(usize::MAX);
        if t_micros >= self.k_micros {
            self.w_max.saturating_add(delta)
        } else {
            self.w_max.saturating_sub(delta)
        }
    }

    /// Congestion avoidance for `acked` bytes (RFC 9438 4.2 to 4.5).
    fn congestion_avoidance(&mut self, now: Instant, acked: usize) {
        let epoch = match self.epoch {
            Some(epoch) => epoch,
            None => self.start_epoch(now),
        };
        let cwnd = self.window.cwnd;
        let mss = self.window.mss;

        // W_est += alpha * segments_acked / cwnd (in segments), that is
        // alpha * acked * mss / cwnd in bytes; alpha becomes 1 once W_est
        // reached cwnd_prior (RFC 9438 4.3).
        let alpha = if self.w_est >= self.cwnd_prior {
            ALPHA.1
        } else {
            ALPHA.0
        };
        let per_cwnd = (acked as u128)
            .saturating_mul(mss as u128)
            .saturating_mul(alpha);
        self.estimate_credit = self.estimate_credit.saturating_add(per_cwnd);
        let divisor = (cwnd as u128).saturating_mul(ALPHA.1).max(1);
        let grown = self.estimate_credit / divisor;
        self.estimate_credit %= divisor;
        self.w_est = self
            .w_est
            .saturating_add(usize::try_from(grown).unwrap_or(usize::MAX));

        let t = micros(now.saturating_duration_since(epoch));
        if self.w_cubic(t) < self.w_est {
            // Reno-friendly region: Reno would do better, so do as Reno.
            self.window.grow_to(self.w_est);
            return;
        }

        // Concave or convex region: move towards the window one round
        // trip ahead, by (target - cwnd) / cwnd segments per segment
        // acknowledged, with target within [cwnd, 1.5 cwnd].
        let rtt = self.srtt.map_or(0, |srtt| srtt / 1_000);
        let target = self
            .w_cubic(t.saturating_add(rtt))
            .min(cwnd.saturating_add(cwnd / 2))
            .max(cwnd);
        let gap = (target - cwnd) as u128;
        self.cubic_credit = self
            .cubic_credit
            .saturating_add(gap.saturating_mul(acked as u128));
        let divisor = (cwnd as u128).max(1);
        let grown = self.cubic_credit / divisor;
        self.cubic_credit %= divisor;
        self.window
            .grow_to(cwnd.saturating_add(usize::try_from(grown).unwrap_or(usize::MAX)));
    }
}

impl CongestionControl for Cubic {
    answer_from_window!();

    fn on_ack(&mut self, now: Instant, acked: usize, in_flight: usize, rtt_nanos: Option<u64>) {
        if let Some(sample) = rtt_nanos {
            self.srtt = Some(
                self.srtt
                    .map_or(sample, |srtt| weighted(srtt, 7, sample, 8)),
            );
        }
        match self.window.on_ack(acked, in_flight) {
            Growth::Nothing => {}
            Growth::ApplicationLimited => {
                // RFC 9438 5.8: no growth while application-limited, and
                // (4.2) the time does not count towards t.
                if self.epoch.is_some() && self.app_limited_since.is_none() {
                    self.app_limited_since = Some(now);
                }
            }
            Growth::Avoidance(acked) => {
                if let (Some(since), Some(epoch)) = (self.app_limited_since.take(), self.epoch) {
                    self.epoch = Some(epoch + now.saturating_duration_since(since));
                }
                if acked > 0 {
                    self.congestion_avoidance(now, acked);
                }
            }
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, in_flight: usize) {
        let cwnd = self.window.cwnd;
        // Fast convergence (RFC 9438 4.7): a loss below the last W_max
        // means the flow's share shrank; leave more room for others.
        self.w_max = if cwnd < self.w_max {
            scale(cwnd, FAST_CONVERGENCE.0, FAST_CONVERGENCE.1)
        } else {
            cwnd
        };
        self.cwnd_prior = cwnd;
        // RFC 9438 4.6: ssthresh = flight_size * beta_cubic, cwnd =
        // ssthresh, both at least two segments.
        self.window.reduce(scale(in_flight, BETA.0, BETA.1));
        self.end_epoch();
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        // The congestion avoidance stage, and so t, starts with the next
        // new ACK.
        self.end_epoch();
    }

    fn on_timeout(&mut self, _now: Instant, in_flight: usize) {
        if !self.window.timed_out {
            self.cwnd_prior = self.window.cwnd;
        }
        // RFC 9438 4.8: the window as Reno, ssthresh with beta_cubic.
        self.window.time_out(scale(in_flight, BETA.0, BETA.1));
        self.after_timeout = true;
        self.end_epoch();
    }
}

/// A duration in whole microseconds, saturating.
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// K = cbrt((W_max - cwnd_epoch) / C) seconds (RFC 9438 eq. 2), in
/// microseconds, for a `deficit` of W_max - cwnd_epoch bytes.
fn cubic_k_micros(deficit: usize, mss: usize) -> u64 {
    // deficit / mss segments / C seconds³, in µs³: times 10^18.
    let micros_cubed = (deficit as u128)
        .saturating_mul(C.1 * MICROS_PER_SEC * MICROS_PER_SEC * MICROS_PER_SEC)
        / (C.0 * mss.max(1) as u128);
    integer_cube_root(micros_cubed)
}

/// The greatest `y` with `y³ <= x`, digit by digit in base 8 (one bit of
/// the root per step): each step doubles the root found so far and adds
/// one if the remaining value allows it.
fn integer_cube_root(x: u128) -> u64 {
    let mut remainder = x;
    let mut root: u128 = 0;
    // 126 is the highest multiple of 3 below 128: the root has 43 bits.
    let mut shift: u32 = 126;
    loop {
        root <<= 1;
        // (2r + 1)³ - (2r)³ = 3 * 2r * (2r + 1) + 1, the cost of setting
        // the next bit, at this bit position's scale.
        let step = 3 * root * (root + 1) + 1;
        if remainder >> shift >= step {
            remainder -= step << shift;
            root += 1;
        }
        if shift == 0 {
            break;
        }
        shift -= 3;
    }
    // At most 2^43 - 1, so it fits.
    u64::try_from(root).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tcp::rtt::nanos;

    const MSS: usize = 1_000;
    const RTT: Duration = Duration::from_millis(100);

    /// A sender that always fills its window, for `rounds` round trips of
    /// `rtt`: each round the window at its start is acknowledged one
    /// segment per ACK, the ACKs spread evenly over the round trip.
    fn run_rounds(
        cc: &mut impl CongestionControl,
        now: &mut Instant,
        rtt: Duration,
        rounds: usize,
    ) {
        for _ in 0..rounds {
            let acks = (cc.window() / MSS).max(1);
            let spacing = rtt / acks as u32;
            for _ in 0..acks {
                *now += spacing;
                cc.on_ack(*now, MSS, cc.window(), Some(nanos(rtt)));
            }
        }
    }

    /// A CUBIC sender that just reduced from `segments` segments.
    fn cubic_after_loss(segments: usize) -> Cubic {
        let mut cc = Cubic::new(MSS);
        cc.window.cwnd = segments * MSS;
        cc.on_congestion_event(Instant::ZERO, segments * MSS);
        cc
    }

    #[test]
    fn initial_window_per_rfc6928() {
        assert_eq!(initial_window(1_460), 14_600);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(9_000), 18_000);
        assert_eq!(initial_window(0), 10);
        assert_eq!(initial_window(usize::MAX), usize::MAX);
        let cc = NewReno::new(1_460);
        assert_eq!(cc.window(), 14_600);
        assert_eq!(cc.slow_start_threshold(), usize::MAX);
    }

    #[test]
    fn set_mss_before_data_resets_initial_window() {
        let mut cc = Cubic::new(536);
        // The ACK of the SYN leaves the window unused: no growth.
        cc.on_ack(Instant::ZERO, 1, 1, None);
        cc.set_mss(1_460);
        assert_eq!(cc.window(), 14_600);
    }

    #[test]
    fn set_mss_after_loss_keeps_bytes_but_one_segment() {
        let mut cc = NewReno::new(1_000);
        cc.on_congestion_event(Instant::ZERO, 10_000);
        assert_eq!(cc.window(), 5_000);
        cc.set_mss(1_400);
        assert_eq!(cc.window(), 5_000);
        cc.on_timeout(Instant::ZERO, 0);
        assert_eq!(cc.window(), 1_400);
        cc.set_mss(9_000);
        assert_eq!(cc.window(), 9_000);
        assert_eq!(cc.slow_start_threshold(), 18_000);
    }

    #[test]
    fn slow_start_counts_bytes_with_limit_two_segments() {
        let mut cc = NewReno::new(MSS);
        let now = Instant::ZERO;
        cc.on_ack(now, MSS, 10 * MSS, None);
        assert_eq!(cc.window(), 11 * MSS);
        // A small ACK grows by its bytes only (RFC 3465).
        cc.on_ack(now, 100, 11 * MSS, None);
        assert_eq!(cc.window(), 11 * MSS + 100);
        // A stretch ACK of five segments grows by two (L = 2).
        cc.on_ack(now, 5 * MSS, 12 * MSS, None);
        assert_eq!(cc.window(), 13 * MSS + 100);
    }

    #[test]
    fn slow_start_doubles_per_round_trip() {
        let mut cc = NewReno::new(MSS);
        let mut now = Instant::ZERO;
        run_rounds(&mut cc, &mut now, RTT, 3);
        assert_eq!(cc.window(), 80 * MSS);
    }

    #[test]
    fn no_growth_when_not_window_limited() {
        for algorithm in [Algorithm::NewReno, Algorithm::Cubic] {
            let mut cc = Congestion::new(algorithm, MSS);
            cc.on_ack(Instant::ZERO, MSS, 5 * MSS, None);
            assert_eq!(cc.window(), 10 * MSS);
            // One segment short of the window still counts as limited.
            cc.on_ack(Instant::ZERO, MSS, 9 * MSS, None);
            assert_eq!(cc.window(), 11 * MSS);
        }
    }

    #[test]
    fn slow_start_stops_at_ssthresh_and_carries_over() {
        let mut cc = NewReno::new(MSS);
        cc.window.ssthresh = 10 * MSS + 500;
        cc.on_ack(Instant::ZERO, 2 * MSS, 10 * MSS, None);
        assert_eq!(cc.window(), 10 * MSS + 500);
        assert_eq!(cc.bytes_acked, 1_500);
    }

    #[test]
    fn congestion_avoidance_adds_one_segment_per_round_trip() {
        let mut cc = NewReno::new(MSS);
        let mut now = Instant::ZERO;
        cc.on_congestion_event(now, 40 * MSS);
        assert_eq!(cc.window(), 20 * MSS);
        run_rounds(&mut cc, &mut now, RTT, 1);
        assert_eq!(cc.window(), 21 * MSS);
        run_rounds(&mut cc, &mut now, RTT, 9);
        assert_eq!(cc.window(), 30 * MSS);
    }

    #[test]
    fn congestion_avoidance_grows_at_most_one_segment_per_ack() {
        let mut cc = NewReno::new(MSS);
        cc.on_congestion_event(Instant::ZERO, 20 * MSS);
        cc.on_ack(Instant::ZERO, 1_000 * MSS, 10 * MSS, None);
        assert_eq!(cc.window(), 11 * MSS);
        // The banked credit is capped at one window.
        assert!(cc.bytes_acked <= cc.window());
    }

    #[test]
    fn loss_halves_flight_with_two_segment_floor() {
        let mut cc = NewReno::new(MSS);
        cc.on_congestion_event(Instant::ZERO, 30 * MSS);
        assert_eq!(cc.window(), 15 * MSS);
        assert_eq!(cc.slow_start_threshold(), 15 * MSS);
        cc.on_congestion_event(Instant::ZERO, MSS);
        assert_eq!(cc.window(), 2 * MSS);
        cc.on_recovery_end(Instant::ZERO);
        assert_eq!(cc.window(), 2 * MSS);
    }

    #[test]
    fn timeout_sets_loss_window_and_holds_ssthresh_when_repeated() {
        for algorithm in [Algorithm::NewReno, Algorithm::Cubic] {
            let mut cc = Congestion::new(algorithm, MSS);
            cc.on_timeout(Instant::ZERO, 20 * MSS);
            assert_eq!(cc.window(), MSS);
            let ssthresh = cc.slow_start_threshold();
            let expected = match algorithm {
                Algorithm::NewReno => 10 * MSS,
                Algorithm::Cubic => 14 * MSS,
            };
            assert_eq!(ssthresh, expected);
            // The retransmission times out again: ssthresh stays.
            cc.on_timeout(Instant::ZERO, MSS);
            assert_eq!(cc.window(), MSS);
            assert_eq!(cc.slow_start_threshold(), ssthresh);
            // After new data is acknowledged, a timeout is a fresh one.
            cc.on_ack(Instant::ZERO, MSS, MSS, None);
            assert_eq!(cc.window(), 2 * MSS);
            cc.on_timeout(Instant::ZERO, 2 * MSS);
            assert_eq!(cc.slow_start_threshold(), 2 * MSS);
        }
    }

    #[test]
    fn integer_cube_root_is_exact_floor() {
        for y in [0u128, 1, 2, 3, 10, 1_000, 4_217_163, (1 << 42) + 12_345] {
            let cube = y * y * y;
            assert_eq!(integer_cube_root(cube) as u128, y);
            if cube > 0 {
                assert_eq!(integer_cube_root(cube - 1) as u128, y - 1);
            }
            assert_eq!(integer_cube_root(cube + 1) as u128, y.max(1));
        }
        for x in 0..2_000u128 {
            let y = integer_cube_root(x) as u128;
            assert!(y * y * y <= x && (y + 1) * (y + 1) * (y + 1) > x, "{x}");
        }
        let y = integer_cube_root(u128::MAX) as u128;
        let cube = |n: u128| n.checked_mul(n).and_then(|square| square.checked_mul(n));
        assert!(cube(y).is_some());
        assert!(cube(y + 1).is_none());
    }

    #[test]
    fn cubic_reduces_to_seventy_percent() {
        let cc = cubic_after_loss(100);
        assert_eq!(cc.window(), 70 * MSS);
        assert_eq!(cc.slow_start_threshold(), 70 * MSS);
        assert_eq!(cc.w_max(), 100 * MSS);
    }

    #[test]
    fn cubic_k_for_known_w_max() {
        // W_max = 100 segments, cwnd_epoch = 70: K = cbrt(30 / 0.4) s
        // = cbrt(75) s = 4.2171633 s.
        let mut cc = cubic_after_loss(100);
        cc.on_ack(Instant::ZERO, MSS, 70 * MSS, Some(nanos(RTT)));
        assert_eq!(cc.k(), Duration::from_micros(4_217_163));
        // At t = K the curve is at W_max, a second either side 0.4
        // segments below and above.
        assert_eq!(cc.w_cubic(4_217_163), 100 * MSS);
        assert_eq!(cc.w_cubic(3_217_163), 100 * MSS - 400);
        assert_eq!(cc.w_cubic(5_217_163), 100 * MSS + 400);
        // K is rounded down, so the curve starts a byte above cwnd_epoch.
        assert!((70 * MSS..=70 * MSS + 1).contains(&cc.w_cubic(0)));
    }

    #[test]
    fn cubic_regrows_to_w_max_around_k_concave_then_convex() {
        let mut cc = cubic_after_loss(100);
        let mut now = Instant::ZERO;
        run_rounds(&mut cc, &mut now, RTT, 10);
        let first_second = cc.window() - 70 * MSS;
        // Up to K (4.2 s).
        run_rounds(&mut cc, &mut now, RTT, 32);
        let at_k = cc.window();
        assert!((99 * MSS..=101 * MSS).contains(&at_k), "{at_k}");
        // Concave: the second after K adds a small part of the first.
        run_rounds(&mut cc, &mut now, RTT, 10);
        let plateau = cc.window() - at_k;
        assert!(plateau < first_second / 10, "{plateau} {first_second}");
        // Convex: towards 2 K the window grows faster and faster.
        run_rounds(&mut cc, &mut now, RTT, 30);
        let before = cc.window();
        run_rounds(&mut cc, &mut now, RTT, 10);
        let probing = cc.window() - before;
        assert!(probing > 10 * plateau, "{probing} {plateau}");
        assert!(cc.window() > 130 * MSS);
    }

    #[test]
    fn cubic_fast_convergence_lowers_w_max() {
        let mut cc = cubic_after_loss(100);
        // A second loss before regaining W_max.
        cc.on_congestion_event(Instant::ZERO, 70 * MSS);
        assert_eq!(cc.w_max(), 59_500); // 0.85 * 70 segments
        assert_eq!(cc.window(), 49 * MSS);
    }

    #[test]
    fn cubic_reno_friendly_for_small_window_and_short_rtt() {
        let rtt = Duration::from_millis(1);
        let mut cubic = cubic_after_loss(10);
        let mut reno = NewReno::new(MSS);
        reno.on_congestion_event(Instant::ZERO, 10 * MSS);
        let (mut cubic_now, mut reno_now) = (Instant::ZERO, Instant::ZERO);
        run_rounds(&mut cubic, &mut cubic_now, rtt, 100);
        run_rounds(&mut reno, &mut reno_now, rtt, 100);
        // K is almost 2 s, so the cubic curve is still below W_max; the
        // Reno estimate drove the window, at about Reno's pace.
        let t = micros(cubic_now - Instant::ZERO);
        assert!(cubic.w_cubic(t) < 10 * MSS);
        assert!(cubic.window() > 80 * MSS, "{}", cubic.window());
        assert!(cubic.window() * 10 >= reno.window() * 8);
        assert_eq!(cubic.window(), cubic.w_est);
    }

    #[test]
    fn cubic_after_timeout_starts_flat_from_the_window() {
        let mut cc = cubic_after_loss(100);
        let mut now = Instant::ZERO;
        cc.on_timeout(now, 70 * MSS);
        assert_eq!(cc.window(), MSS);
        assert_eq!(cc.slow_start_threshold(), 49 * MSS);
        // Slow start: 1, 2, 4, 8, 16, 32 segments, then 49 = ssthresh
        // and congestion avoidance within the seventh round.
        run_rounds(&mut cc, &mut now, RTT, 7);
        assert_eq!(cc.w_max(), 49 * MSS);
        assert_eq!(cc.k(), Duration::ZERO);
        assert!((49 * MSS..50 * MSS).contains(&cc.window()));
        run_rounds(&mut cc, &mut now, RTT, 10);
        assert!(cc.window() > 52 * MSS);
    }

    #[test]
    fn cubic_application_limited_time_does_not_count() {
        let mut busy = cubic_after_loss(100);
        let mut now = Instant::ZERO;
        run_rounds(&mut busy, &mut now, RTT, 5);
        // Both senders leave their window unused once; one stays idle
        // for a minute before it fills the window again.
        busy.on_ack(now, MSS, MSS, None);
        let mut idle = busy;
        let window = idle.window();
        let mut idle_now = now + Duration::from_secs(60);
        idle.on_ack(idle_now, MSS, MSS, None);
        assert_eq!(idle.window(), window);
        run_rounds(&mut idle, &mut idle_now, RTT, 5);
        run_rounds(&mut busy, &mut now, RTT, 5);
        // Had the minute counted, t would be far past K and the window
        // far above W_max.
        assert_eq!(idle.window(), busy.window());
        assert!(idle.window() < 100 * MSS);
    }

    #[test]
    fn congestion_enum_delegates() {
        assert_eq!(Algorithm::default(), Algorithm::Cubic);
        let mut cc = Congestion::new(Algorithm::default(), MSS);
        assert_eq!(cc.algorithm(), Algorithm::Cubic);
        cc.set_mss(2 * MSS);
        assert_eq!(cc.window(), 14_600);
        cc.on_congestion_event(Instant::ZERO, 10 * MSS);
        assert_eq!(cc.window(), 7 * MSS);
        let cc = Congestion::new(Algorithm::NewReno, MSS);
        assert_eq!(cc.algorithm(), Algorithm::NewReno);
    }

    #[test]
    fn hostile_values_do_not_overflow() {
        for algorithm in [Algorithm::NewReno, Algorithm::Cubic] {
            for mss in [0, 1, usize::MAX / 3, usize::MAX] {
                let mut cc = Congestion::new(algorithm, mss);
                let big = usize::MAX;
                cc.on_ack(Instant::ZERO, big, big, Some(u64::MAX));
                cc.on_congestion_event(Instant::ZERO, big);
                cc.on_ack(Instant::MAX, big, big, Some(u64::MAX));
                cc.on_ack(Instant::ZERO, big, big, Some(0));
                cc.on_recovery_end(Instant::MAX);
                cc.on_ack(Instant::MAX, big, big, None);
                cc.on_timeout(Instant::MAX, big);
                cc.on_ack(Instant::MAX, big, big, None);
                cc.on_ack(Instant::ZERO, big, 0, None);
                cc.set_mss(0);
                cc.on_congestion_event(Instant::MAX, 0);
                assert!(cc.window() >= 1);
                assert!(cc.slow_start_threshold() >= 2);
                cc.set_mss(big);
                assert!(cc.window() >= big);
            }
        }
    }

    #[test]
    fn cubic_huge_w_max_and_time() {
        let mut cc = Cubic::new(1);
        cc.window.cwnd = usize::MAX;
        cc.on_congestion_event(Instant::ZERO, usize::MAX);
        cc.on_ack(Instant::ZERO, 1, usize::MAX, None);
        assert!(cc.k() > Duration::from_secs(1_000_000));
        cc.on_ack(Instant::MAX, usize::MAX, usize::MAX, Some(u64::MAX));
        assert!(cc.window() >= scale(usize::MAX, 7, 10));
        assert_eq!(cc.w_cubic(u64::MAX), usize::MAX);
    }
}
