//! Fault injection, deterministic from a seed.
//!
//! Two places inject faults:
//!
//! * [`FaultInjector`] wraps any [`Device`]. On receive it drops frames by
//!   chance, corrupts one octet by chance, drops frames above a size
//!   limit, and enforces a token-bucket rate limit; on transmit it corrupts
//!   by chance and rate-limits by lending fewer buffers. It is what the
//!   examples' `--drop-chance`, `--corrupt-chance`, `--size-limit`,
//!   `--tx-rate-limit`, `--rx-rate-limit` and `--shaping-interval` flags
//!   configure. Loss is applied where frames are received: every frame
//!   crosses exactly one receiver, so the loss rate of the path is the
//!   configured one, and a device never has to take back a buffer the
//!   stack already queued.
//! * [`LinkFaults`] acts on the in-memory wire, where frames are copied
//!   anyway: it also duplicates and reorders them.
//!
//! The same seed gives the same faults on the same traffic, so a failing
//! test run can be replayed exactly.

use core::time::Duration;

use crate::nic::memory::MemoryNic;
use crate::nic::{Device, Packet, Payload, PayloadMut, Recv, Result, Send};
use crate::time::Instant;

/// A small, fast, deterministic generator (xorshift64*): good enough to
/// decide faults, not for anything secret.
#[derive(Debug, Clone)]
pub struct FaultRng {
    state: u64,
}

impl FaultRng {
    /// A generator seeded with `seed` (zero is replaced by a constant,
    /// since xorshift never leaves the zero state).
    pub const fn new(seed: u64) -> FaultRng {
        FaultRng {
            state: if seed == 0 {
                0x9e37_79b9_7f4a_7c15
            } else {
                seed
            },
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound` (zero when `bound` is zero).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        // The multiply-shift maps 32 random bits onto the range without a
        // division; the bias is far below what fault decisions care about.
        (((self.next_u64() >> 32) * bound as u64) >> 32) as usize
    }

    /// True with a probability of `percent` in 100.
    pub fn chance(&mut self, percent: u8) -> bool {
        percent > 0 && self.below(100) < usize::from(percent.min(100))
    }
}

/// A token bucket refilled to `capacity` at every interval boundary.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: u32,
    interval: Duration,
    tokens: u32,
    refilled_at: Option<Instant>,
}

impl TokenBucket {
    /// A bucket of `capacity` packets per `interval`; a capacity of zero
    /// means no limit.
    pub const fn new(capacity: u32, interval: Duration) -> TokenBucket {
        TokenBucket {
            capacity,
            interval,
            tokens: capacity,
            refilled_at: None,
        }
    }

    /// Whether the bucket limits anything.
    pub const fn is_limited(&self) -> bool {
        self.capacity > 0
    }

    fn refill(&mut self, now: Instant) {
        let due = match self.refilled_at {
            None => true,
            Some(at) => now.saturating_duration_since(at) >= self.interval,
        };
        if due {
            self.tokens = self.capacity;
            self.refilled_at = Some(now);
        }
    }

    /// Tokens available at `now`, without taking any.
    pub fn available(&mut self, now: Instant) -> u32 {
        if !self.is_limited() {
            return u32::MAX;
        }
        self.refill(now);
        self.tokens
    }

    /// When the bucket refills, if it is empty and limits anything.
    pub fn refills_at(&self) -> Option<Instant> {
        if !self.is_limited() || self.tokens > 0 {
            return None;
        }
        self.refilled_at.map(|at| at + self.interval)
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        if !self.is_limited() {
            return true;
        }
        self.refill(now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// What faults to inject. The default injects none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultConfig {
    /// Percent chance (0-100) that a received frame is dropped.
    pub drop_chance: u8,
    /// Percent chance that one octet of a frame is changed.
    pub corrupt_chance: u8,
    /// Received frames longer than this are dropped; 0 means no limit.
    pub size_limit: usize,
    /// Frames sent per shaping interval; 0 means no limit.
    pub tx_rate_limit: u32,
    /// Frames received per shaping interval; 0 means no limit.
    pub rx_rate_limit: u32,
    /// The refill interval of both token buckets.
    pub shaping_interval: Duration,
    /// Percent chance that the link delivers a frame twice (link only).
    pub duplicate_chance: u8,
    /// Percent chance that the link swaps a frame with the next one
    /// (link only).
    pub reorder_chance: u8,
}

/// What the injector did, by fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FaultStats {
    /// Frames dropped by chance.
    pub dropped: u64,
    /// Frames with one octet changed.
    pub corrupted: u64,
    /// Frames dropped for exceeding the size limit.
    pub oversize: u64,
    /// Received frames dropped by the rate limit.
    pub rx_rate_limited: u64,
    /// Transmit opportunities withheld by the rate limit.
    pub tx_rate_limited: u64,
    /// Frames delivered twice by the link.
    pub duplicated: u64,
    /// Frames the link swapped with their successor.
    pub reordered: u64,
}

/// The decisions shared by the device wrapper and the link.
#[derive(Debug, Clone)]
struct Faults {
    config: FaultConfig,
    rng: FaultRng,
    rx_bucket: TokenBucket,
    tx_bucket: TokenBucket,
    stats: FaultStats,
}

impl Faults {
    fn new(config: FaultConfig, seed: u64) -> Faults {
        Faults {
            config,
            rng: FaultRng::new(seed),
            rx_bucket: TokenBucket::new(config.rx_rate_limit, config.shaping_interval),
            tx_bucket: TokenBucket::new(config.tx_rate_limit, config.shaping_interval),
            stats: FaultStats::default(),
        }
    }

    /// Flips bits of one octet of `bytes`, by chance.
    fn maybe_corrupt(&mut self, bytes: &mut [u8]) {
        if bytes.is_empty() || !self.rng.chance(self.config.corrupt_chance) {
            return;
        }
        let at = self.rng.below(bytes.len());
        // A non-zero mask, so the octet really changes.
        let mask = (self.rng.below(255) + 1) as u8;
        if let Some(octet) = bytes.get_mut(at) {
            *octet ^= mask;
            self.stats.corrupted += 1;
        }
    }

    /// Whether a received frame of `len` bytes at `now` gets through.
    fn admit_rx(&mut self, len: usize, now: Instant) -> bool {
        if self.config.size_limit > 0 && len > self.config.size_limit {
            self.stats.oversize += 1;
            return false;
        }
        if self.rng.chance(self.config.drop_chance) {
            self.stats.dropped += 1;
            return false;
        }
        if !self.rx_bucket.take(now) {
            self.stats.rx_rate_limited += 1;
            return false;
        }
        true
    }
}

/// A device wrapper that injects faults into the traffic of `D`.
#[derive(Debug, Clone)]
pub struct FaultInjector<D> {
    inner: D,
    faults: Faults,
    /// The latest packet timestamp seen: the clock of the tx bucket.
    last_seen: Instant,
}

impl<D: Device> FaultInjector<D> {
    /// Wraps `inner`, deciding faults with a generator seeded by `seed`.
    pub fn new(inner: D, config: FaultConfig, seed: u64) -> FaultInjector<D> {
        FaultInjector {
            inner,
            faults: Faults::new(config, seed),
            last_seen: Instant::ZERO,
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably (to set its time, say).
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwraps the device.
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// What was injected so far.
    pub fn stats(&self) -> FaultStats {
        self.faults.stats
    }

    /// The configuration in force.
    pub fn config(&self) -> FaultConfig {
        self.faults.config
    }

    /// When the transmit rate limit lends buffers again, if it lends none
    /// now: a deadline for the poll loop, like a timer's (without it, a
    /// loop that sleeps until the stack's next deadline oversleeps).
    pub fn tx_ready_at(&self) -> Option<Instant> {
        self.faults.tx_bucket.refills_at()
    }
}

impl<D: Device> Device for FaultInjector<D> {
    type Handle<'d> = D::Handle<'d>;
    type Payload<'d> = D::Payload<'d>;

    fn rx<R: Recv<Self>>(&mut self, max: usize, receiver: R) -> Result<usize> {
        self.inner.rx(
            max,
            FaultyRecv {
                upper: receiver,
                faults: &mut self.faults,
            },
        )
    }

    fn tx<S: Send<Self>>(&mut self, max: usize, sender: S) -> Result<usize> {
        // The rate limit withholds buffers instead of dropping frames the
        // stack queued: the stack simply sees a busy device. The bucket
        // runs on the time of the packets the device lends.
        let mut lend = max;
        if self.faults.tx_bucket.is_limited() {
            let mut tokens = self.faults.tx_bucket.available(self.last_seen);
            if tokens == 0 {
                // Perhaps time moved on: ask the device for the time by
                // lending one buffer that is left unqueued, so it costs
                // nothing.
                self.inner.tx(1, TimeProbe(&mut self.last_seen))?;
                tokens = self.faults.tx_bucket.available(self.last_seen);
            }
            lend = max.min(tokens as usize);
            if lend < max {
                self.faults.stats.tx_rate_limited += 1;
            }
        }
        if lend == 0 {
            return Ok(0);
        }
        let sent = self.inner.tx(
            lend,
            FaultySend {
                upper: sender,
                faults: &mut self.faults,
                last_seen: &mut self.last_seen,
            },
        )?;
        for _ in 0..sent {
            self.faults.tx_bucket.take(self.last_seen);
        }
        Ok(sent)
    }
}

/// Lends nothing back: records the time of the buffer it is offered.
struct TimeProbe<'t>(&'t mut Instant);

impl<D: Device> Send<D> for TimeProbe<'_> {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        *self.0 = packet.info().timestamp;
    }
}

struct FaultyRecv<'f, R> {
    upper: R,
    faults: &'f mut Faults,
}

impl<D: Device, R: Recv<FaultInjector<D>>> Recv<D> for FaultyRecv<'_, R> {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        let now = packet.info().timestamp;
        if !self.faults.admit_rx(packet.payload.payload().len(), now) {
            return;
        }
        self.faults.maybe_corrupt(packet.payload.payload_mut());
        self.upper.receive(Packet {
            handle: packet.handle,
            payload: packet.payload,
        });
    }
}

struct FaultySend<'f, S> {
    upper: S,
    faults: &'f mut Faults,
    last_seen: &'f mut Instant,
}

impl<D: Device, S: Send<FaultInjector<D>>> Send<D> for FaultySend<'_, S> {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        *self.last_seen = packet.info().timestamp;
        self.upper.send(Packet {
            handle: &mut *packet.handle,
            payload: &mut *packet.payload,
        });
        // Corrupting a buffer that was not queued is harmless, so this
        // need not know whether the sender queued it.
        self.faults.maybe_corrupt(packet.payload.payload_mut());
    }
}

/// Faults applied by the in-memory wire: everything [`FaultInjector`]
/// does on receive, plus duplication and reordering.
#[derive(Debug, Clone)]
pub struct LinkFaults {
    faults: Faults,
}

impl LinkFaults {
    /// Link faults decided by a generator seeded with `seed`.
    pub fn new(config: FaultConfig, seed: u64) -> LinkFaults {
        LinkFaults {
            faults: Faults::new(config, seed),
        }
    }

    /// What was injected so far.
    pub fn stats(&self) -> FaultStats {
        self.faults.stats
    }

    /// Moves every frame `from` transmitted to `to`, applying faults on
    /// the way, at the receiver's time. Returns the frames delivered.
    pub fn transfer<S1, S2, const N1: usize, const N2: usize>(
        &mut self,
        from: &mut MemoryNic<S1, N1>,
        to: &mut MemoryNic<S2, N2>,
    ) -> usize
    where
        S1: AsRef<[u8]> + AsMut<[u8]>,
        S2: AsRef<[u8]> + AsMut<[u8]>,
    {
        let now = to.time();
        let mut delivered = 0;
        loop {
            if from.tx_pending() >= 2 && self.faults.rng.chance(self.faults.config.reorder_chance) {
                from.swap_front_tx();
                self.faults.stats.reordered += 1;
            }
            let faults = &mut self.faults;
            let Some(n) = from.drain_one_mut(|frame| {
                if !faults.admit_rx(frame.len(), now) {
                    return 0;
                }
                faults.maybe_corrupt(frame);
                let mut n = usize::from(to.inject(frame));
                if faults.rng.chance(faults.config.duplicate_chance) {
                    faults.stats.duplicated += 1;
                    n += usize::from(to.inject(frame));
                }
                n
            }) else {
                break;
            };
            delivered += n;
        }
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nic::Handle;
    use crate::nic::memory::MemoryLink;

    struct Numbered(u8, u8);
    impl<D: Device + ?Sized> Send<D> for Numbered {
        fn send(&mut self, packet: Packet<'_, '_, D>) {
            if self.0 == self.1 {
                return;
            }
            packet.payload.resize(60).unwrap();
            packet.payload.payload_mut().fill(self.0);
            self.0 += 1;
            packet.handle.queue().unwrap();
        }
    }

    #[derive(Default)]
    struct Seen {
        first_bytes: [u8; 32],
        count: usize,
        corrupted: usize,
    }
    impl<D: Device + ?Sized> Recv<D> for Seen {
        fn receive(&mut self, packet: Packet<'_, '_, D>) {
            let bytes = packet.payload.payload();
            if self.count < 32 {
                self.first_bytes[self.count] = bytes[0];
            }
            if bytes.iter().any(|&b| b != bytes[59]) {
                self.corrupted += 1;
            }
            self.count += 1;
        }
    }

    type Nic = MemoryNic<[u8; 32 * 64], 32>;
    fn nic() -> Nic {
        MemoryNic::new([0; 32 * 64], 64).unwrap()
    }

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let (mut a, mut b) = (FaultRng::new(7), FaultRng::new(7));
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
        assert!(!a.chance(0));
        assert!(a.chance(100));
        assert_eq!(FaultRng::new(0).below(0), 0);
    }

    #[test]
    fn drop_chance_drops_about_that_share() {
        let config = FaultConfig {
            drop_chance: 30,
            ..FaultConfig::default()
        };
        let mut rx = FaultInjector::new(nic(), config, 1);
        let mut tx = nic();
        let mut seen = Seen::default();
        for _ in 0..100 {
            tx.tx(32, Numbered(0, 10)).unwrap();
            MemoryLink::transfer(&mut tx, rx.inner_mut());
            rx.rx(32, &mut seen).unwrap();
        }
        let dropped = rx.stats().dropped as usize;
        assert_eq!(dropped + seen.count, 1000);
        assert!((200..400).contains(&dropped), "dropped {dropped}");
    }

    #[test]
    fn corruption_changes_exactly_one_octet() {
        let config = FaultConfig {
            corrupt_chance: 100,
            ..FaultConfig::default()
        };
        let mut rx = FaultInjector::new(nic(), config, 3);
        let mut tx = nic();
        tx.tx(32, Numbered(5, 6)).unwrap();
        MemoryLink::transfer(&mut tx, rx.inner_mut());
        struct Check;
        impl<D: Device + ?Sized> Recv<D> for Check {
            fn receive(&mut self, packet: Packet<'_, '_, D>) {
                let changed = packet.payload.payload().iter().filter(|&&b| b != 5).count();
                assert_eq!(changed, 1);
            }
        }
        assert_eq!(rx.rx(8, Check).unwrap(), 1);
        assert_eq!(rx.stats().corrupted, 1);
    }

    #[test]
    fn size_limit_and_rx_rate_limit() {
        let config = FaultConfig {
            size_limit: 59,
            ..FaultConfig::default()
        };
        let mut rx = FaultInjector::new(nic(), config, 3);
        let mut tx = nic();
        tx.tx(32, Numbered(0, 3)).unwrap();
        MemoryLink::transfer(&mut tx, rx.inner_mut());
        let mut seen = Seen::default();
        rx.rx(32, &mut seen).unwrap();
        assert_eq!((seen.count, rx.stats().oversize), (0, 3));

        let config = FaultConfig {
            rx_rate_limit: 2,
            shaping_interval: Duration::from_millis(10),
            ..FaultConfig::default()
        };
        let mut rx = FaultInjector::new(nic(), config, 3);
        tx.tx(32, Numbered(0, 5)).unwrap();
        MemoryLink::transfer(&mut tx, rx.inner_mut());
        let mut seen = Seen::default();
        rx.rx(32, &mut seen).unwrap();
        assert_eq!((seen.count, rx.stats().rx_rate_limited), (2, 3));
        // A new interval refills the bucket.
        tx.tx(32, Numbered(0, 5)).unwrap();
        MemoryLink::transfer(&mut tx, rx.inner_mut());
        rx.inner_mut().set_time(Instant::from_millis(10));
        rx.rx(32, &mut seen).unwrap();
        assert_eq!(seen.count, 4);
    }

    #[test]
    fn tx_rate_limit_lends_fewer_buffers() {
        let config = FaultConfig {
            tx_rate_limit: 3,
            shaping_interval: Duration::from_millis(10),
            ..FaultConfig::default()
        };
        let mut tx = FaultInjector::new(nic(), config, 3);
        assert_eq!(tx.tx_ready_at(), None, "tokens left: ready now");
        assert_eq!(tx.tx(32, Numbered(0, 100)).unwrap(), 3);
        assert_eq!(tx.tx(32, Numbered(0, 100)).unwrap(), 0);
        assert!(tx.stats().tx_rate_limited > 0);
        assert_eq!(tx.tx_ready_at(), Some(Instant::from_millis(10)));
        tx.inner_mut().set_time(Instant::from_millis(9));
        assert_eq!(tx.tx(32, Numbered(0, 100)).unwrap(), 0);
        tx.inner_mut().set_time(Instant::from_millis(10));
        assert_eq!(tx.tx(32, Numbered(0, 100)).unwrap(), 3);
        assert_eq!(tx.tx_ready_at(), Some(Instant::from_millis(20)));
        assert_eq!(tx.inner().tx_pending(), 6);
    }

    #[test]
    fn link_duplicates_and_reorders_deterministically() {
        let config = FaultConfig {
            duplicate_chance: 20,
            reorder_chance: 20,
            ..FaultConfig::default()
        };
        let run = |seed| {
            let mut faults = LinkFaults::new(config, seed);
            let (mut a, mut b) = (nic(), nic());
            a.tx(32, Numbered(0, 12)).unwrap();
            faults.transfer(&mut a, &mut b);
            let mut seen = Seen::default();
            b.rx(32, &mut seen).unwrap();
            (seen.first_bytes, seen.count, faults.stats())
        };
        let (order, count, stats) = run(11);
        assert_eq!(run(11), (order, count, stats));
        assert_eq!(count, 12 + stats.duplicated as usize);
        assert!(stats.duplicated > 0 && stats.reordered > 0, "{stats:?}");
        let mut sorted = order;
        sorted[..count].sort_unstable();
        assert_ne!(order[..count], sorted[..count]);
    }

    #[test]
    fn handle_info_reaches_through_the_wrapper() {
        let mut rx = FaultInjector::new(nic(), FaultConfig::default(), 1);
        assert_eq!(rx.tx_ready_at(), None, "no limit");
        rx.inner_mut().inject(&[1; 60]);
        rx.inner_mut().set_time(Instant::from_secs(3));
        struct Stamp;
        impl<D: Device + ?Sized> Recv<D> for Stamp {
            fn receive(&mut self, packet: Packet<'_, '_, D>) {
                assert_eq!(packet.handle.info().timestamp, Instant::from_secs(3));
            }
        }
        assert_eq!(rx.rx(1, Stamp).unwrap(), 1);
    }
}
