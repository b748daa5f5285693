//! Initial sequence numbers that an off-path attacker cannot guess.
//!
//! A connection's initial sequence number (ISN) is what keeps segments
//! that an attacker forges blind, and segments left over from an earlier
//! incarnation of the same connection, out of a new one. RFC 6528 section
//! 3 gives the construction used here:
//!
//! ```text
//! ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//! ```
//!
//! `M` is the clock of RFC 9293 section 3.4.1: a 32-bit counter that ticks
//! every 4 microseconds, so successive incarnations of one connection
//! start at increasing sequence numbers and old duplicates fall outside
//! the new window. `F` is a pseudorandom function of the connection's
//! four-tuple keyed with a secret, so each tuple gets its own unpredictable
//! offset and one connection's ISN says nothing about another's (RFC 6528
//! section 3 suggests MD5; SipHash-2-4 is a keyed pseudorandom function,
//! which is all that is asked of `F`, and much cheaper).
//!
//! The secret should come from a good random source when the stack starts
//! and stay fixed while connections may still be in TIME-WAIT: changing it
//! moves every tuple's offset, which gives up the monotonic property for
//! connections reopened across the change (RFC 6528 section 3).
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use core::time::Duration;
//! use ethox::layer::tcp::isn::IsnGenerator;
//! use ethox::layer::tcp::table::FourTuple;
//! use ethox::time::Instant;
//!
//! let isns = IsnGenerator::new([42; 16]);
//! let tuple = FourTuple {
//!     local: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     local_port: 49152,
//!     remote: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)),
//!     remote_port: 80,
//! };
//! let now = Instant::from_secs(100);
//! let first = isns.isn(&tuple, now);
//! // The same connection a millisecond later starts 250 numbers further.
//! let later = isns.isn(&tuple, now + Duration::from_millis(1));
//! assert_eq!(later - first, 250);
//! ```

use core::fmt;
use core::hash::Hasher;

use siphasher::sip::SipHasher24;

use super::table::FourTuple;
use crate::time::Instant;
use crate::wire::tcp::SeqNumber;

/// How long one tick of the ISN clock `M` lasts, in nanoseconds (RFC 9293
/// section 3.4.1: "a (possibly fictitious) 32 bit clock ... incremented
/// roughly every 4 microseconds").
pub const TICK_NANOS: u64 = 4_000;

/// SipHash-2-4 of `tuple` keyed with `key`.
///
/// The tuple is encoded by [`FourTuple::write_to`]. This is the keyed
/// pseudorandom function `F` of RFC 6528 before truncation, for any other
/// use that needs an unpredictable per-connection value.
pub fn hash_tuple(key: &[u8; 16], tuple: &FourTuple) -> u64 {
    let mut hasher = SipHasher24::new_with_key(key);
    tuple.write_to(&mut hasher);
    hasher.finish()
}

/// Chooses initial sequence numbers by RFC 6528. See the
/// [module documentation](self).
#[derive(Clone)]
pub struct IsnGenerator {
    key: [u8; 16],
}

impl IsnGenerator {
    /// A generator keyed with `secret`, which should be random and stay
    /// unknown to peers.
    pub const fn new(secret: [u8; 16]) -> IsnGenerator {
        IsnGenerator { key: secret }
    }

    /// The ISN for a connection with `tuple` opened at `now`.
    ///
    /// The clock part wraps every 2^32 ticks (about 4.8 hours) and the sum
    /// wraps modulo 2^32, as sequence numbers do.
    pub fn isn(&self, tuple: &FourTuple, now: Instant) -> SeqNumber {
        // Truncation to 32 bits is the intended wrap of both parts.
        let clock = (now.as_nanos() / TICK_NANOS) as u32;
        let offset = hash_tuple(&self.key, tuple) as u32;
        SeqNumber(clock.wrapping_add(offset))
    }
}

impl fmt::Debug for IsnGenerator {
    /// Leaves the secret out, so it cannot end up in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IsnGenerator").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tcp::table::tests::{mapped, v4};
    use crate::wire::{IpAddr, Ipv4Addr, Ipv6Addr};
    use core::time::Duration;
    use std::format;

    const KEY: [u8; 16] = *b"isn secret key!!";

    fn tuple() -> FourTuple {
        v4(49152)
    }

    #[test]
    fn deterministic() {
        let now = Instant::from_millis(12_345);
        let a = IsnGenerator::new(KEY);
        let b = IsnGenerator::new(KEY);
        assert_eq!(a.isn(&tuple(), now), b.isn(&tuple(), now));
    }

    #[test]
    fn differs_by_secret_port_and_address() {
        let now = Instant::from_secs(1);
        let isns = IsnGenerator::new(KEY);
        let base = isns.isn(&tuple(), now);
        assert_ne!(IsnGenerator::new([0; 16]).isn(&tuple(), now), base);
        let other_port = FourTuple {
            remote_port: 49153,
            ..tuple()
        };
        assert_ne!(isns.isn(&other_port, now), base);
        let other_local_port = FourTuple {
            local_port: 81,
            ..tuple()
        };
        assert_ne!(isns.isn(&other_local_port, now), base);
        let other_addr = FourTuple {
            remote: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
            ..tuple()
        };
        assert_ne!(isns.isn(&other_addr, now), base);
        // Swapping the ends is another connection.
        let swapped = FourTuple {
            local: tuple().remote,
            local_port: tuple().remote_port,
            remote: tuple().local,
            remote_port: tuple().local_port,
        };
        assert_ne!(isns.isn(&swapped, now), base);
    }

    #[test]
    fn v4_differs_from_mapped_v6() {
        let isns = IsnGenerator::new(KEY);
        let mapped = mapped(tuple());
        assert_ne!(
            hash_tuple(&KEY, &mapped),
            hash_tuple(&KEY, &tuple()),
            "family must be part of the encoding"
        );
        assert_ne!(
            isns.isn(&mapped, Instant::ZERO),
            isns.isn(&tuple(), Instant::ZERO)
        );
        // Moving bytes between an address and a port must not collide
        // either: v6 with a zero suffix against the same bytes shifted.
        let a = FourTuple {
            local: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            local_port: 1,
            remote: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            remote_port: 0,
        };
        let b = FourTuple {
            local_port: 0,
            remote_port: 1,
            ..a
        };
        assert_ne!(hash_tuple(&KEY, &a), hash_tuple(&KEY, &b));
    }

    #[test]
    fn advances_one_per_four_microseconds() {
        let isns = IsnGenerator::new(KEY);
        let start = Instant::from_secs(10);
        let base = isns.isn(&tuple(), start);
        // Within one tick nothing moves.
        assert_eq!(
            isns.isn(&tuple(), start + Duration::from_nanos(3_999)),
            base
        );
        assert_eq!(
            isns.isn(&tuple(), start + Duration::from_micros(4)) - base,
            1
        );
        assert_eq!(
            isns.isn(&tuple(), start + Duration::from_millis(1)) - base,
            250
        );
        assert_eq!(
            isns.isn(&tuple(), start + Duration::from_secs(1)) - base,
            250_000
        );
    }

    #[test]
    fn wraps_without_panic() {
        let isns = IsnGenerator::new(KEY);
        // The last tick before the clock part wraps, and the one after.
        let before = Instant::from_nanos(u64::from(u32::MAX) * TICK_NANOS);
        let after = before + Duration::from_micros(4);
        let a = isns.isn(&tuple(), before);
        let b = isns.isn(&tuple(), after);
        assert_eq!(b - a, 1);
        assert!(b > a);
        // The end of time does not overflow.
        let _ = isns.isn(&tuple(), Instant::MAX);
        // After a full cycle of the clock the ISN repeats.
        let cycle = Duration::from_nanos((1u64 << 32) * TICK_NANOS);
        assert_eq!(isns.isn(&tuple(), before + cycle), a);
    }

    #[test]
    fn debug_hides_secret() {
        let text = format!("{:?}", IsnGenerator::new(KEY));
        assert_eq!(text, "IsnGenerator { .. }");
    }
}
