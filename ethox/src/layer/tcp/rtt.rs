//! Round-trip time estimation and the retransmission timeout (RFC 6298).
//!
//! A TCP sender must wait long enough before retransmitting that it
//! rarely resends a segment that was merely slow, and briefly enough that
//! a real loss is repaired quickly. RFC 6298 derives that timeout (RTO)
//! from a smoothed round-trip time (SRTT) and its mean deviation (RTTVAR),
//! and doubles it on every expiry (exponential back-off) so that a
//! congested path is probed ever more gently.
//!
//! [`RttEstimator`] keeps that state. It owns no timer: the connection
//! arms its own deadline at `now + estimator.rto()`.
//!
//! All arithmetic is on `u64` nanoseconds and saturates, so no sample, not
//! even [`Duration::MAX`], can make it overflow or panic.
//!
//! # Which samples to feed (Karn's algorithm)
//!
//! The caller must only call [`RttEstimator::sample`] with round-trip
//! times that are unambiguous (RFC 6298 section 3): the time from sending
//! a segment to the ACK that covers it when that segment was **never
//! retransmitted**, or the age of an echoed timestamp (RFC 7323 section
//! 4.1), which names the very transmission that was acknowledged. An ACK
//! for a retransmitted segment might answer either transmission, and a
//! sample from it would corrupt the estimate.
//!
//! Because every accepted sample is valid, a sample also ends the
//! back-off: RFC 6298 section 5 (the note after rule 5.7) recomputes the
//! RTO from section 2 as soon as a new measurement arrives, collapsing the
//! backed-off value, and Karn's algorithm keeps the doubled RTO only while
//! no unambiguous measurement exists.
//!
//! ```
//! use core::time::Duration;
//! use ethox::layer::tcp::rtt::{RtoConfig, RttEstimator};
//!
//! let mut rtt = RttEstimator::new(RtoConfig::default());
//! assert_eq!(rtt.rto(), Duration::from_secs(1)); // RFC 6298 2.1
//!
//! rtt.sample(Duration::from_millis(100));
//! // SRTT = 100 ms, RTTVAR = 50 ms, RTO = 100 ms + 4 * 50 ms.
//! assert_eq!(rtt.rto(), Duration::from_millis(300));
//!
//! rtt.back_off();
//! assert_eq!(rtt.rto(), Duration::from_millis(600));
//! ```

use core::time::Duration;

/// The bounds and constants of the retransmission timeout.
///
/// The defaults follow RFC 6298 except for [`min`](Self::min), see there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtoConfig {
    /// The RTO before the first sample (RFC 6298 2.1: 1 second).
    pub initial: Duration,
    /// The least RTO (default 200 ms).
    ///
    /// RFC 6298 2.4 asks for 1 second, a value chosen for the Internet of
    /// 2000 to keep spurious timeouts rare on paths with unknown delay.
    /// On a link with a 10 ms round trip that floor makes every
    /// timeout-driven repair a hundred times slower than the path needs,
    /// so ethox defaults to 200 ms like Linux and lets the user choose.
    /// Spurious timeouts stay rare because RTTVAR still adds four
    /// deviations on top of SRTT.
    pub min: Duration,
    /// The greatest RTO, also the cap of the back-off (RFC 6298 2.5: at
    /// least 60 seconds; default 60 s).
    pub max: Duration,
    /// The clock granularity G of RFC 6298 2.2/2.3: the least margin added
    /// to SRTT (default 1 ms).
    pub granularity: Duration,
}

impl Default for RtoConfig {
    fn default() -> Self {
        RtoConfig {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(200),
            max: Duration::from_secs(60),
            granularity: Duration::from_millis(1),
        }
    }
}

/// The smoothed round-trip time, its variation, and the retransmission
/// timeout derived from them (RFC 6298).
///
/// See the [module documentation](self) for which samples the caller may
/// feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RttEstimator {
    config: RtoConfig,
    /// SRTT in nanoseconds, `None` before the first sample.
    srtt: Option<u64>,
    /// RTTVAR in nanoseconds, 0 before the first sample.
    rttvar: u64,
    /// The least sample seen, in nanoseconds.
    min_rtt: Option<u64>,
    /// The RTO before back-off, already within `[min, max]`.
    base_rto: u64,
    /// How often the timer was backed off since the last sample.
    backoffs: u32,
    /// The RTO now, backed off and bounded: every segment sent arms a
    /// timer with it, so it is kept rather than computed each time.
    rto: u64,
    /// `config.min`, `config.max` and `config.granularity` in
    /// nanoseconds: every sample and every timer uses them, and a
    /// `Duration`'s nanoseconds take a 128-bit multiplication.
    min: u64,
    max: u64,
    granularity: u64,
}

impl RttEstimator {
    /// An estimator without samples, whose RTO is `config.initial`
    /// (bounded by `config.min` and `config.max`).
    pub fn new(config: RtoConfig) -> Self {
        let (min, max) = (nanos(config.min), nanos(config.max));
        let base_rto = clamp_rto(min, max, nanos(config.initial));
        RttEstimator {
            config,
            srtt: None,
            rttvar: 0,
            min_rtt: None,
            base_rto,
            backoffs: 0,
            rto: base_rto,
            min,
            max,
            granularity: nanos(config.granularity),
        }
    }

    /// The configuration this estimator was made with.
    pub fn config(&self) -> &RtoConfig {
        &self.config
    }

    /// Takes a round-trip time measurement and clears the back-off.
    ///
    /// The first sample sets SRTT = R and RTTVAR = R/2 (RFC 6298 2.2),
    /// later ones update RTTVAR with beta = 1/4 and then SRTT with
    /// alpha = 1/8 (2.3). Then RTO = SRTT + max(G, 4 * RTTVAR), bounded
    /// by the configured minimum and maximum (2.4, 2.5).
    ///
    /// Only feed samples from segments that were not retransmitted, or
    /// from timestamp echoes (Karn's algorithm, see the module
    /// documentation).
    pub fn sample(&mut self, rtt: Duration) {
        self.sample_nanos(nanos(rtt));
    }

    /// [`sample`](Self::sample) with the round-trip time in nanoseconds.
    pub(super) fn sample_nanos(&mut self, r: u64) {
        let (srtt, rttvar) = match self.srtt {
            None => (r, r / 2),
            Some(srtt) => {
                // RTTVAR first: RFC 6298 2.3 uses the SRTT from before
                // this sample.
                let rttvar = weighted(self.rttvar, 3, srtt.abs_diff(r), 4);
                let srtt = weighted(srtt, 7, r, 8);
                (srtt, rttvar)
            }
        };
        self.srtt = Some(srtt);
        self.rttvar = rttvar;
        self.min_rtt = Some(self.min_rtt.map_or(r, |least| least.min(r)));
        let margin = self.granularity.max(rttvar.saturating_mul(4));
        self.base_rto = clamp_rto(self.min, self.max, srtt.saturating_add(margin));
        self.backoffs = 0;
        self.rto = self.base_rto;
    }

    /// The current retransmission timeout: the computed RTO doubled once
    /// per back-off, at most the configured maximum.
    pub fn rto(&self) -> Duration {
        Duration::from_nanos(self.rto_nanos())
    }

    /// [`rto`](Self::rto) in nanoseconds.
    pub(super) fn rto_nanos(&self) -> u64 {
        self.rto
    }

    /// The RTO from the base and the back-off count.
    fn backed_off_rto(&self) -> u64 {
        let factor = 1u64.checked_shl(self.backoffs).unwrap_or(0);
        let backed_off = match factor {
            // Shifted past 64 bits: certainly beyond the maximum.
            0 => u64::MAX,
            factor => self.base_rto.saturating_mul(factor),
        };
        backed_off.min(self.max)
    }

    /// The retransmission timer expired: double the RTO (RFC 6298 5.5),
    /// up to the configured maximum.
    ///
    /// The count of back-offs keeps rising (saturating) after the RTO
    /// reached the maximum, so the connection can use it to give up
    /// after some number of retransmissions (RFC 9293 3.8.3, R2).
    pub fn back_off(&mut self) {
        self.backoffs = self.backoffs.saturating_add(1);
        self.rto = self.backed_off_rto();
    }

    /// How often the timer was backed off since the last sample.
    pub fn backoffs(&self) -> u32 {
        self.backoffs
    }

    /// The smoothed round-trip time, `None` before the first sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(Duration::from_nanos)
    }

    /// [`srtt`](Self::srtt) in nanoseconds.
    pub(super) fn srtt_nanos(&self) -> Option<u64> {
        self.srtt
    }

    /// The round-trip time variation, `None` before the first sample.
    pub fn rttvar(&self) -> Option<Duration> {
        self.srtt.map(|_| Duration::from_nanos(self.rttvar))
    }

    /// The least round-trip time sampled so far, `None` before the first
    /// sample. Congestion control (CUBIC) and loss detection (RACK) use it
    /// as the path's propagation delay.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt.map(Duration::from_nanos)
    }
}

impl Default for RttEstimator {
    fn default() -> Self {
        RttEstimator::new(RtoConfig::default())
    }
}

/// A duration in nanoseconds, saturating at 584 years.
pub(super) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// `(old * keep + new * (parts - keep)) / parts` without overflow: the
/// exponentially weighted moving average of RFC 6298 2.3 (`keep` at
/// most `parts`).
pub(super) fn weighted(old: u64, keep: u64, new: u64, parts: u64) -> u64 {
    // In 64 bits when the sum fits, as it does for any delay below 292
    // years divided by `parts`: 128-bit arithmetic costs several times as
    // much, and the result is the same.
    let small = old
        .checked_mul(keep)
        .zip(new.checked_mul(parts.saturating_sub(keep)))
        .and_then(|(a, b)| a.checked_add(b));
    if let (Some(sum), Some(parts)) = (small, core::num::NonZeroU64::new(parts)) {
        return sum / parts;
    }
    let sum = u128::from(old) * u128::from(keep)
        + u128::from(new) * u128::from(parts.saturating_sub(keep));
    // The average lies between `old` and `new`, so it fits a u64.
    u64::try_from(sum / u128::from(parts)).unwrap_or(u64::MAX)
}

/// Bounds an RTO by the configured minimum and maximum; the maximum wins
/// if the configuration has them the wrong way round.
fn clamp_rto(min: u64, max: u64, rto: u64) -> u64 {
    rto.max(min).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn us(micros: u64) -> Duration {
        Duration::from_micros(micros)
    }

    #[test]
    fn initial_rto_before_samples() {
        let rtt = RttEstimator::default();
        assert_eq!(rtt.rto(), Duration::from_secs(1));
        assert_eq!(rtt.srtt(), None);
        assert_eq!(rtt.rttvar(), None);
        assert_eq!(rtt.min_rtt(), None);
        assert_eq!(rtt.backoffs(), 0);
    }

    #[test]
    fn first_sample_sets_srtt_and_half_rttvar() {
        let mut rtt = RttEstimator::default();
        rtt.sample(ms(100));
        assert_eq!(rtt.srtt(), Some(ms(100)));
        assert_eq!(rtt.rttvar(), Some(ms(50)));
        assert_eq!(rtt.rto(), ms(300));
    }

    #[test]
    fn later_samples_follow_rfc_weights() {
        let mut rtt = RttEstimator::default();
        rtt.sample(ms(100));
        rtt.sample(ms(200));
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms
        // SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms
        assert_eq!(rtt.rttvar(), Some(us(62_500)));
        assert_eq!(rtt.srtt(), Some(us(112_500)));
        assert_eq!(rtt.rto(), us(112_500 + 4 * 62_500));
        rtt.sample(ms(50));
        // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 62.5 ms
        // SRTT = 7/8 * 112.5 + 1/8 * 50 = 104.6875 ms
        assert_eq!(rtt.rttvar(), Some(us(62_500)));
        assert_eq!(rtt.srtt(), Some(Duration::from_nanos(104_687_500)));
        assert_eq!(rtt.min_rtt(), Some(ms(50)));
    }

    #[test]
    fn granularity_is_the_least_margin() {
        let config = RtoConfig {
            min: Duration::ZERO,
            ..RtoConfig::default()
        };
        let mut rtt = RttEstimator::new(config);
        for _ in 0..100 {
            rtt.sample(ms(10));
        }
        // RTTVAR decays towards 0; G = 1 ms keeps RTO above SRTT.
        assert!(rtt.rttvar().unwrap() < us(250));
        assert_eq!(rtt.rto(), ms(11));
    }

    #[test]
    fn rto_is_clamped_to_min_and_max() {
        let mut rtt = RttEstimator::default();
        rtt.sample(us(100));
        assert_eq!(rtt.rto(), ms(200));
        rtt.sample(Duration::from_secs(3_600));
        assert_eq!(rtt.rto(), Duration::from_secs(60));
    }

    #[test]
    fn rfc_minimum_of_one_second_is_configurable() {
        let config = RtoConfig {
            min: Duration::from_secs(1),
            ..RtoConfig::default()
        };
        let mut rtt = RttEstimator::new(config);
        rtt.sample(ms(10));
        assert_eq!(rtt.rto(), Duration::from_secs(1));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut rtt = RttEstimator::default();
        rtt.sample(ms(100));
        let expected = [
            600, 1_200, 2_400, 4_800, 9_600, 19_200, 38_400, 60_000, 60_000,
        ];
        for (i, &millis) in expected.iter().enumerate() {
            rtt.back_off();
            assert_eq!(rtt.backoffs(), i as u32 + 1);
            assert_eq!(rtt.rto(), ms(millis));
        }
    }

    #[test]
    fn backoff_count_saturates_without_overflow() {
        let mut rtt = RttEstimator::default();
        for _ in 0..70 {
            rtt.back_off();
        }
        assert_eq!(rtt.rto(), Duration::from_secs(60));
        rtt.backoffs = u32::MAX - 1;
        rtt.back_off();
        rtt.back_off();
        assert_eq!(rtt.backoffs(), u32::MAX);
        assert_eq!(rtt.rto(), Duration::from_secs(60));
    }

    #[test]
    fn sample_clears_backoff() {
        let mut rtt = RttEstimator::default();
        rtt.sample(ms(100));
        rtt.back_off();
        rtt.back_off();
        assert_eq!(rtt.rto(), ms(1_200));
        rtt.sample(ms(100));
        assert_eq!(rtt.backoffs(), 0);
        // RTTVAR = 3/4 * 50 + 0 = 37.5 ms, SRTT = 100 ms.
        assert_eq!(rtt.rto(), ms(250));
    }

    #[test]
    fn huge_samples_do_not_overflow() {
        let config = RtoConfig {
            max: Duration::MAX,
            ..RtoConfig::default()
        };
        let mut rtt = RttEstimator::new(config);
        rtt.sample(Duration::MAX);
        assert_eq!(rtt.srtt(), Some(Duration::from_nanos(u64::MAX)));
        assert_eq!(rtt.rto(), Duration::from_nanos(u64::MAX));
        rtt.sample(Duration::ZERO);
        rtt.sample(Duration::MAX);
        rtt.back_off();
        assert_eq!(rtt.rto(), Duration::from_nanos(u64::MAX));
        assert_eq!(rtt.min_rtt(), Some(Duration::ZERO));
    }

    #[test]
    fn weighted_average_is_exact_on_both_sides_of_the_64_bit_limit() {
        let wide = |old: u64, keep: u64, new: u64, parts: u64| {
            let sum =
                u128::from(old) * u128::from(keep) + u128::from(new) * u128::from(parts - keep);
            (sum / u128::from(parts)) as u64
        };
        // Around where `old * 7` stops fitting in 64 bits.
        let edge = u64::MAX / 7;
        for old in [
            0,
            1,
            1_000_003,
            edge - 1,
            edge,
            edge + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            for new in [0, 9, edge, edge + 1, u64::MAX] {
                assert_eq!(
                    weighted(old, 7, new, 8),
                    wide(old, 7, new, 8),
                    "{old} {new}"
                );
                assert_eq!(
                    weighted(old, 3, new, 4),
                    wide(old, 3, new, 4),
                    "{old} {new}"
                );
            }
        }
    }

    #[test]
    fn inverted_bounds_prefer_max() {
        let config = RtoConfig {
            min: Duration::from_secs(10),
            max: Duration::from_secs(2),
            ..RtoConfig::default()
        };
        let mut rtt = RttEstimator::new(config);
        // The initial 1 s is raised to the minimum, then cut to the maximum.
        assert_eq!(rtt.rto(), Duration::from_secs(2));
        rtt.sample(ms(1));
        assert_eq!(rtt.rto(), Duration::from_secs(2));
    }

    #[test]
    fn zero_sample_gives_minimum() {
        let mut rtt = RttEstimator::default();
        rtt.sample(Duration::ZERO);
        assert_eq!(rtt.srtt(), Some(Duration::ZERO));
        assert_eq!(rtt.rto(), ms(200));
    }
}
