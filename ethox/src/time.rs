//! Time without std: a monotonic [`Instant`] and `core::time::Duration`.
//!
//! The stack has no clock. Every packet carries the time the device
//! received or will send it (see [`nic::Info`](crate::nic::Info)), and
//! every timer is compared against that. Tests therefore choose time
//! explicitly and run the same way every time.
//!
//! ```
//! use core::time::Duration;
//! use ethox::time::Instant;
//!
//! let start = Instant::from_millis(1_000);
//! let later = start + Duration::from_micros(250);
//! assert_eq!(later - start, Duration::from_micros(250));
//! assert!(later > start);
//! assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
//! ```

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in time, in nanoseconds since an epoch the caller chose.
///
/// 64 bits of nanoseconds last 584 years from the epoch. Arithmetic
/// saturates instead of overflowing, so a hostile or buggy timeout value
/// can never panic the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant { nanos: 0 };
    /// The latest representable instant, "never" for deadlines.
    pub const MAX: Instant = Instant { nanos: u64::MAX };

    /// An instant `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Instant {
        Instant { nanos }
    }

    /// An instant `micros` microseconds after the epoch (saturating).
    pub const fn from_micros(micros: u64) -> Instant {
        Instant {
            nanos: micros.saturating_mul(1_000),
        }
    }

    /// An instant `millis` milliseconds after the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Instant {
        Instant {
            nanos: millis.saturating_mul(1_000_000),
        }
    }

    /// An instant `secs` seconds after the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Instant {
        Instant {
            nanos: secs.saturating_mul(1_000_000_000),
        }
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.nanos / 1_000
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.nanos / 1_000_000
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.nanos / 1_000_000_000
    }

    /// The nanoseconds past the whole second.
    pub const fn subsec_nanos(self) -> u32 {
        (self.nanos % 1_000_000_000) as u32
    }

    /// The time since the epoch as a `Duration`.
    pub const fn since_epoch(self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        match self.nanos.checked_sub(earlier.nanos) {
            Some(d) => Some(Duration::from_nanos(d)),
            None => None,
        }
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// `self + duration`, or `None` past [`Instant::MAX`].
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        let d = u64::try_from(duration.as_nanos()).ok()?;
        self.nanos.checked_add(d).map(Instant::from_nanos)
    }

    /// `self - duration`, or `None` before the epoch.
    pub fn checked_sub(self, duration: Duration) -> Option<Instant> {
        let d = u64::try_from(duration.as_nanos()).ok()?;
        self.nanos.checked_sub(d).map(Instant::from_nanos)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at [`Instant::MAX`].
    fn add(self, rhs: Duration) -> Instant {
        self.checked_add(rhs).unwrap_or(Instant::MAX)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the epoch.
    fn sub(self, rhs: Duration) -> Instant {
        self.checked_sub(rhs).unwrap_or(Instant::ZERO)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero when `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.secs(), self.subsec_nanos() / 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let t = Instant::from_millis(1_234);
        assert_eq!(t.as_micros(), 1_234_000);
        assert_eq!(t.secs(), 1);
        assert_eq!(t.subsec_nanos(), 234_000_000);
        assert_eq!(Instant::from_secs(2).as_millis(), 2_000);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(Instant::from_secs(u64::MAX), Instant::MAX);
        assert_eq!(Instant::ZERO + Duration::MAX, Instant::MAX);
        assert_eq!(Instant::ZERO - Instant::from_secs(1), Duration::ZERO);
        assert_eq!(
            Instant::ZERO.checked_duration_since(Instant::from_nanos(1)),
            None
        );
    }

    #[test]
    fn display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Instant::from_micros(3_000_042).to_string(), "3.000042s");
    }
}
