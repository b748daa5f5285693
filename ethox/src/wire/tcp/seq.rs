//! TCP sequence numbers: 32-bit counters that wrap around.
//!
//! RFC 9293 section 3.4: "all arithmetic dealing with sequence numbers must
//! be performed modulo 2**32". Every operation here wraps; none of them can
//! overflow-panic on a value a peer chose, in debug builds either.
//!
//! Comparison is serial-number arithmetic (RFC 1982 with SERIAL_BITS = 32):
//! `a < b` when `b - a` taken modulo 2^32 lies in `1 .. 2^31`, that is when
//! `b` is less than half the number space ahead of `a`. Two numbers exactly
//! 2^31 apart are *not comparable*: RFC 1982 section 3.2 leaves that case
//! undefined, and [`SeqNumber::partial_cmp`] returns `None` for it, so
//! `<`, `>`, `<=` and `>=` are all false. The order is only meaningful for
//! numbers within 2^31 of each other, which everything inside one TCP window
//! is (RFC 7323 section 2.3 caps the window at 2^30). It is not transitive
//! around the whole circle, so it is not `Ord`: do not sort by it.

use core::cmp::Ordering;
use core::fmt;
use core::ops;

/// A TCP sequence (or acknowledgment) number, compared modulo 2^32.
///
/// ```
/// use ethox::wire::tcp::SeqNumber;
///
/// let near_wrap = SeqNumber(0xffff_fff0);
/// let after = near_wrap + 0x20usize; // wraps past zero
/// assert_eq!(after, SeqNumber(0x10));
/// assert!(near_wrap < after);
/// assert_eq!(after - near_wrap, 0x20);
/// assert_eq!(near_wrap - after, -0x20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `self + n` modulo 2^32.
    #[inline]
    pub const fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// `self - n` modulo 2^32.
    #[inline]
    pub const fn wrapping_sub(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n))
    }

    /// The signed distance `self - other` in `-2^31 .. 2^31`.
    ///
    /// Positive when `self` is ahead of `other`. Two numbers exactly 2^31
    /// apart give `i32::MIN` whichever way round they are subtracted: that
    /// is the ambiguous case of the module documentation.
    #[inline]
    pub const fn signed_distance(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// How far `self` is past `earlier`, or `None` if it is before it (or
    /// exactly 2^31 away, where before and after cannot be told apart).
    ///
    /// This is the checked form of `self - earlier` for code that indexes a
    /// buffer by sequence number.
    #[inline]
    pub const fn checked_distance(self, earlier: SeqNumber) -> Option<usize> {
        let d = self.signed_distance(earlier);
        if d >= 0 { Some(d as usize) } else { None }
    }

    /// Whether `self` lies in the `len` numbers starting at `start`
    /// (`start <= self < start + len`, modulo 2^32). Empty when `len` is 0.
    ///
    /// This is the receive-window test of RFC 9293 section 3.10.7.4 without
    /// the special cases for zero windows, which belong to the caller.
    #[inline]
    pub const fn in_window(self, start: SeqNumber, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// The later of two numbers; `self` when they are equal or not
    /// comparable (exactly 2^31 apart).
    #[inline]
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if other > self { other } else { self }
    }

    /// The earlier of two numbers; `self` when they are equal or not
    /// comparable (exactly 2^31 apart).
    #[inline]
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if other < self { other } else { self }
    }
}

impl PartialOrd for SeqNumber {
    /// Serial-number order (RFC 1982 section 3.2); `None` when the two
    /// numbers are exactly 2^31 apart.
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        match self.signed_distance(*other) {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d > 0 => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}

impl From<u32> for SeqNumber {
    fn from(n: u32) -> SeqNumber {
        SeqNumber(n)
    }
}

impl From<SeqNumber> for u32 {
    fn from(n: SeqNumber) -> u32 {
        n.0
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// A `usize` amount is reduced modulo 2^32 (the `as u32` truncation), which
// is exactly the arithmetic of the sequence space.
impl ops::Add<usize> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn add(self, rhs: usize) -> SeqNumber {
        self.wrapping_add(rhs as u32)
    }
}

impl ops::Add<u32> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn add(self, rhs: u32) -> SeqNumber {
        self.wrapping_add(rhs)
    }
}

impl ops::AddAssign<usize> for SeqNumber {
    #[inline]
    fn add_assign(&mut self, rhs: usize) {
        *self = *self + rhs;
    }
}

impl ops::AddAssign<u32> for SeqNumber {
    #[inline]
    fn add_assign(&mut self, rhs: u32) {
        *self = *self + rhs;
    }
}

impl ops::Sub<usize> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn sub(self, rhs: usize) -> SeqNumber {
        self.wrapping_sub(rhs as u32)
    }
}

impl ops::Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn sub(self, rhs: u32) -> SeqNumber {
        self.wrapping_sub(rhs)
    }
}

impl ops::SubAssign<usize> for SeqNumber {
    #[inline]
    fn sub_assign(&mut self, rhs: usize) {
        *self = *self - rhs;
    }
}

impl ops::SubAssign<u32> for SeqNumber {
    #[inline]
    fn sub_assign(&mut self, rhs: u32) {
        *self = *self - rhs;
    }
}

/// The signed distance, as [`SeqNumber::signed_distance`]: never panics.
impl ops::Sub<SeqNumber> for SeqNumber {
    type Output = i32;
    #[inline]
    fn sub(self, rhs: SeqNumber) -> i32 {
        self.signed_distance(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_wraps_past_zero() {
        assert_eq!(SeqNumber(0xffff_fff0) + 0x20usize, SeqNumber(0x10));
        assert_eq!(SeqNumber(0xffff_fff0) + 0x20u32, SeqNumber(0x10));
        assert_eq!(SeqNumber(0xffff_ffff).wrapping_add(1), SeqNumber(0));
        let mut s = SeqNumber(u32::MAX);
        s += 2usize;
        assert_eq!(s, SeqNumber(1));
        s += 0xffff_ffffu32;
        assert_eq!(s, SeqNumber(0));
    }

    #[test]
    fn huge_amounts_reduce_modulo_2_32_without_panic() {
        // usize::MAX is -1 modulo 2^32 on 64-bit targets.
        let s = SeqNumber(5) + usize::MAX;
        assert_eq!(s, SeqNumber(5u32.wrapping_add(usize::MAX as u32)));
        assert_eq!(SeqNumber(0) - 1u32, SeqNumber(u32::MAX));
        assert_eq!(
            SeqNumber(0) - usize::MAX,
            SeqNumber(0u32.wrapping_sub(usize::MAX as u32))
        );
        let mut s = SeqNumber(3);
        s -= 4usize;
        assert_eq!(s, SeqNumber(u32::MAX));
        s -= 1u32;
        assert_eq!(s, SeqNumber(u32::MAX - 1));
    }

    #[test]
    fn sub_is_signed_across_wrap() {
        let a = SeqNumber(0xffff_fff0);
        let b = SeqNumber(0x10);
        assert_eq!(b - a, 0x20);
        assert_eq!(a - b, -0x20);
        assert_eq!(b.checked_distance(a), Some(0x20));
        assert_eq!(a.checked_distance(b), None);
        assert_eq!(a.checked_distance(a), Some(0));
        assert_eq!(SeqNumber(0) - SeqNumber(u32::MAX), 1);
    }

    #[test]
    fn comparisons_across_wrap() {
        let a = SeqNumber(0xffff_fff0);
        let b = a + 0x20u32;
        // Each operator on its own: they are what is under test.
        assert!(a < b);
        assert!(b > a);
        assert!(a <= b);
        assert!(b >= a);
        assert!(a != b);
        assert_eq!(a.max(b), b);
        assert_eq!(b.max(a), b);
        assert_eq!(a.min(b), a);
        assert_eq!(b.min(a), a);
        // Half the space minus one ahead is still "after".
        assert!(SeqNumber(0) < SeqNumber(0x7fff_ffff));
        assert!(SeqNumber(0) > SeqNumber(0x8000_0001));
    }

    #[test]
    fn exactly_half_the_space_apart_is_incomparable() {
        let a = SeqNumber(0);
        let b = SeqNumber(0x8000_0000);
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!(b.partial_cmp(&a), None);
        assert!(!a.lt(&b) && !a.gt(&b) && !a.le(&b) && !a.ge(&b));
        assert_eq!(a - b, i32::MIN);
        assert_eq!(b - a, i32::MIN);
        assert_eq!(b.checked_distance(a), None);
        // max / min fall back to self rather than guess.
        assert_eq!(a.max(b), a);
        assert_eq!(b.min(a), b);
    }

    #[test]
    fn window_membership_across_wrap() {
        let start = SeqNumber(0xffff_fff0);
        assert!(start.in_window(start, 1));
        assert!(SeqNumber(0x0f).in_window(start, 0x20));
        assert!(!SeqNumber(0x10).in_window(start, 0x20));
        assert!(!SeqNumber(0xffff_ffef).in_window(start, 0x20));
        assert!(!start.in_window(start, 0));
    }

    #[test]
    fn conversions_and_display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(SeqNumber::from(7u32), SeqNumber(7));
        assert_eq!(u32::from(SeqNumber(7)), 7);
        assert_eq!(SeqNumber(4_000_000_000).to_string(), "4000000000");
    }
}
