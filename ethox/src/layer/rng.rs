//! Unpredictable numbers from a caller's seed, for protocol fields that
//! an off-path attacker must not guess: DHCP transaction ids (RFC 2131
//! section 4.1), DNS query ids and source ports (RFC 5452 section 9).
//!
//! The stack has no randomness of its own (no global state, no clock):
//! the caller hands in a seed, and each value is SipHash-2-4 of a counter
//! keyed with it. Seeing any number of outputs does not reveal the key, so
//! later values stay unguessable, which a plain xorshift or splitmix
//! generator (whose state its outputs give away) does not promise.

use core::hash::Hasher;

use siphasher::sip::SipHasher24;

/// A keyed counter: each call hashes the next counter value.
#[derive(Clone)]
pub(crate) struct SeedRng {
    key: [u8; 16],
    counter: u64,
}

impl core::fmt::Debug for SeedRng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key is the secret; the counter says nothing useful.
        f.write_str("SeedRng { .. }")
    }
}

impl SeedRng {
    /// A generator keyed with `seed` (both halves of the SipHash key are
    /// derived from it, with a different constant each).
    pub(crate) fn new(seed: u64) -> SeedRng {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&(seed ^ 0x736f_6d65_7073_6575).to_le_bytes());
        key[8..].copy_from_slice(&(seed ^ 0x646f_7261_6e64_6f6d).to_le_bytes());
        SeedRng { key, counter: 0 }
    }

    /// The next 64 unpredictable bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut hasher = SipHasher24::new_with_key(&self.key);
        hasher.write_u64(self.counter);
        self.counter = self.counter.wrapping_add(1);
        hasher.finish()
    }

    /// The next 32 bits.
    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A value in `0..=bound` (the small modulo bias does not matter for
    /// the jitter this serves).
    pub(crate) fn up_to(&mut self, bound: u64) -> u64 {
        match bound.checked_add(1) {
            Some(range) => self.next_u64() % range,
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_other_seed_other_sequence() {
        let mut a = SeedRng::new(7);
        let mut b = SeedRng::new(7);
        let mut c = SeedRng::new(8);
        let first = a.next_u64();
        assert_eq!(first, b.next_u64());
        assert_ne!(first, c.next_u64());
        // Successive values differ.
        assert_ne!(first, a.next_u64());
    }

    #[test]
    fn up_to_stays_in_range_including_the_extremes() {
        let mut rng = SeedRng::new(1);
        let mut seen = [false; 3];
        for _ in 0..200 {
            let v = rng.up_to(2);
            assert!(v <= 2);
            seen[v as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(rng.up_to(0), 0);
        // The full range does not overflow.
        let _ = rng.up_to(u64::MAX);
    }

    #[test]
    fn debug_hides_the_key() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{:?}", SeedRng::new(42)), "SeedRng { .. }");
    }
}
