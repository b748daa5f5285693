//! Which bytes past an in-order edge have arrived: out-of-order reception.
//!
//! TCP segments can arrive out of order. RFC 9293 section 3.10.7.4 lets a
//! receiver keep segments that lie inside the receive window but beyond
//! the next expected byte, to be processed once the bytes before them
//! arrive. The bytes themselves go into caller storage (a ring's free
//! space, a linear buffer); an [`Assembler`] only remembers which ranges
//! past the in-order edge are filled, so it knows how far the edge moves
//! once the gap before them closes.
//!
//! Offsets are relative to the edge: offset 0 is the next byte in order.
//! Ranges that overlap or touch merge, so every range held is separated
//! from the edge and from its neighbours by a hole; the assembler holds at
//! most `N` ranges, hence at most `N` holes. A range that would need one
//! more is refused and changes nothing: scattering tiny segments across
//! the window must cost a sender retransmissions, not the receiver memory.
//! With `N == 0` only in-order bytes are taken.
//!
//! Each range remembers when it last changed, so the ranges can be listed
//! most recently changed first: RFC 2018 section 4 wants the first SACK
//! block to be the one holding the segment that triggered the
//! acknowledgment, and the others to repeat the most recently reported
//! blocks.
//!
//! Offsets and lengths come from packets, so nothing here panics on any
//! value: a range reaching past `usize::MAX` ends at `usize::MAX`.
//!
//! ```
//! use ethox::storage::assembler::Assembler;
//!
//! let mut assembler = Assembler::<2>::new();
//! assert_eq!(assembler.add(10, 5), Ok(0)); // bytes 10..15 arrive early
//! assert_eq!(assembler.add(20, 5), Ok(0)); // and 20..25
//! assert!(assembler.add(30, 5).is_err()); // a third hole: refused
//! assert_eq!(assembler.add(0, 10), Ok(15)); // the gap closes: 15 in order
//! // The remaining range now counts from the new edge.
//! assert!(assembler.ranges().eq([(5, 10)]));
//! ```

use core::fmt;

/// The error of [`Assembler::add`]: the bytes would need one hole more
/// than the assembler tracks. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TooManyRanges;

impl fmt::Display for TooManyRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many out-of-order ranges")
    }
}

impl core::error::Error for TooManyRanges {}

/// One range held past the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    /// Offset of the first byte, past the edge (always above 0: a range
    /// at the edge is in order, not held).
    start: usize,
    /// Offset one past the last byte.
    end: usize,
    /// When the range last changed; higher is more recent.
    stamp: u64,
}

impl Held {
    const EMPTY: Held = Held {
        start: 0,
        end: 0,
        stamp: 0,
    };

    fn bounds(&self) -> (usize, usize) {
        (self.start, self.end)
    }
}

/// Tracks up to `N` byte ranges held beyond an in-order edge.
///
/// See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembler<const N: usize> {
    /// Sorted by offset; the first `count` are in use. Disjoint and not
    /// adjacent, with a hole before each.
    ranges: [Held; N],
    count: usize,
    /// The stamp the next changed range gets.
    clock: u64,
}

impl<const N: usize> Default for Assembler<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Assembler<N> {
    /// The most ranges (and so holes) the assembler tracks.
    pub const CAPACITY: usize = N;

    /// An assembler holding nothing.
    pub const fn new() -> Self {
        Assembler {
            ranges: [Held::EMPTY; N],
            count: 0,
            clock: 0,
        }
    }

    /// The most ranges (and so holes) the assembler tracks: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of ranges held.
    pub const fn len(&self) -> usize {
        self.count
    }

    /// Whether no range is held: every byte received is in order.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Forgets every range held (the data behind them is given up).
    pub fn clear(&mut self) {
        self.count = 0;
    }

    fn used(&self) -> &[Held] {
        self.ranges.get(..self.count).unwrap_or(&[])
    }

    /// Records that the `len` bytes starting `offset` bytes past the edge
    /// arrived, and returns how far the edge advanced.
    ///
    /// The bytes merge with every range they overlap or touch. If they
    /// start at the edge (`offset == 0`), the edge advances through them
    /// and through every range they now reach, and the remaining ranges'
    /// offsets shift down by the same amount. Otherwise the edge stays (the
    /// result is 0) and the merged range becomes the most recent one, also
    /// when the bytes were all held already (a duplicate still triggers an
    /// acknowledgment whose first SACK block must cover it).
    ///
    /// Adding no bytes changes nothing and returns `Ok(0)`.
    ///
    /// # Errors
    ///
    /// [`TooManyRanges`] if the bytes lie apart from the edge and from
    /// every range held, and `N` ranges are held already. Nothing changes.
    pub fn add(&mut self, offset: usize, len: usize) -> Result<usize, TooManyRanges> {
        if len == 0 {
            return Ok(0);
        }
        let added_end = offset.saturating_add(len);
        let used = self.used();
        // The ranges the new bytes overlap or touch are consecutive: from
        // the first that ends at or after `offset` to the last that starts
        // at or before `added_end` (a hole separates each range from the
        // next, so merging can not reach further).
        let first = used
            .iter()
            .position(|held| held.end >= offset)
            .unwrap_or(used.len());
        let touched = used
            .get(first..)
            .unwrap_or(&[])
            .iter()
            .take_while(|held| held.start <= added_end);
        let (start, end) = touched
            .clone()
            .fold((offset, added_end), |(start, end), held| {
                (start.min(held.start), end.max(held.end))
            });
        let past = first + touched.count();

        if start == 0 {
            // Everything up to `end` is in order now; `first` is 0 since
            // every range ends after the edge.
            self.ranges.copy_within(past..self.count, 0);
            self.count -= past;
            for held in &mut self.ranges[..self.count] {
                // Every remaining range starts after `end`: they do not
                // touch what merged.
                held.start -= end;
                held.end -= end;
            }
            return Ok(end);
        }

        let count = self.count - (past - first) + 1;
        if count > N {
            return Err(TooManyRanges);
        }
        // Make room for exactly one range at `first`, where the touched
        // ones were (or, if none, where the new one sorts).
        self.ranges.copy_within(past..self.count, first + 1);
        self.ranges[first] = Held {
            start,
            end,
            stamp: self.clock,
        };
        // 2^64 changes do not happen; wrapping keeps a miracle from
        // panicking and only disturbs the order of the listing.
        self.clock = self.clock.wrapping_add(1);
        self.count = count;
        Ok(0)
    }

    /// The ranges held, as `(start, end)` offsets past the edge (end
    /// exclusive), in order of offset.
    pub fn ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.used().iter().map(Held::bounds)
    }

    /// The range that changed most recently, as `(start, end)`.
    pub fn most_recent(&self) -> Option<(usize, usize)> {
        self.used()
            .iter()
            .max_by_key(|held| held.stamp)
            .map(Held::bounds)
    }

    /// The ranges held, as `(start, end)` offsets past the edge, the one
    /// changed most recently first: the order of SACK blocks (RFC 2018
    /// section 4). Each step scans all ranges; `N` is small.
    pub fn ranges_recent_first(&self) -> RecentFirst<'_> {
        RecentFirst {
            ranges: self.used(),
            older_than: None,
        }
    }
}

/// The ranges of an [`Assembler`], most recently changed first; see
/// [`Assembler::ranges_recent_first`].
#[derive(Debug, Clone)]
pub struct RecentFirst<'a> {
    ranges: &'a [Held],
    /// The stamp of the range yielded last; `None` before the first.
    older_than: Option<u64>,
}

impl Iterator for RecentFirst<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let older_than = self.older_than;
        let next = self
            .ranges
            .iter()
            .filter(|held| older_than.is_none_or(|stamp| held.stamp < stamp))
            .max_by_key(|held| held.stamp)?;
        self.older_than = Some(next.stamp);
        Some(next.bounds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges<const N: usize>(assembler: &Assembler<N>) -> [(usize, usize); N] {
        let mut out = [(0, 0); N];
        for (slot, range) in out.iter_mut().zip(assembler.ranges()) {
            *slot = range;
        }
        out
    }

    #[test]
    fn in_order_advances_by_len() {
        let mut a = Assembler::<4>::new();
        assert_eq!(a.add(0, 10), Ok(10));
        assert_eq!(a.add(0, 1), Ok(1));
        assert!(a.is_empty());
    }

    #[test]
    fn empty_add_changes_nothing() {
        let mut a = Assembler::<1>::new();
        assert_eq!(a.add(0, 0), Ok(0));
        assert_eq!(a.add(5, 0), Ok(0));
        assert!(a.is_empty());
        assert_eq!(a.add(5, 1), Ok(0));
        // Full, but an empty range needs no hole.
        assert_eq!(a.add(100, 0), Ok(0));
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn out_of_order_then_gap_closes() {
        let mut a = Assembler::<4>::new();
        assert_eq!(a.add(10, 5), Ok(0));
        assert_eq!(a.add(20, 5), Ok(0));
        assert_eq!(ranges(&a), [(10, 15), (20, 25), (0, 0), (0, 0)]);
        // Closing the first gap exactly: 0..10 joins 10..15.
        assert_eq!(a.add(0, 10), Ok(15));
        assert!(a.ranges().eq([(5, 10)]));
        // Overshooting into the remaining range: 0..7 overlaps 5..10.
        assert_eq!(a.add(0, 7), Ok(10));
        assert!(a.is_empty());
    }

    #[test]
    fn in_order_bytes_short_of_a_range_shift_it() {
        let mut a = Assembler::<2>::new();
        a.add(10, 5).unwrap();
        assert_eq!(a.add(0, 4), Ok(4));
        assert!(a.ranges().eq([(6, 11)]));
    }

    #[test]
    fn one_add_closes_several_gaps() {
        let mut a = Assembler::<4>::new();
        for offset in [5, 15, 25, 35] {
            a.add(offset, 5).unwrap();
        }
        // 0..30 swallows 5..10, 15..20 and 25..30 (touching its end);
        // 30..35 stays a gap.
        assert_eq!(a.add(0, 30), Ok(30));
        assert!(a.ranges().eq([(5, 10)]));
    }

    #[test]
    fn adjacent_ranges_merge() {
        let mut a = Assembler::<4>::new();
        a.add(10, 5).unwrap();
        a.add(15, 5).unwrap();
        a.add(5, 5).unwrap();
        assert!(a.ranges().eq([(5, 20)]));
        // A range bridging two others merges all three.
        a.add(30, 5).unwrap();
        a.add(20, 10).unwrap();
        assert!(a.ranges().eq([(5, 35)]));
    }

    #[test]
    fn overlaps_and_duplicates_merge() {
        let mut a = Assembler::<4>::new();
        a.add(10, 10).unwrap();
        a.add(12, 3).unwrap(); // inside
        a.add(8, 4).unwrap(); // overlaps the front
        a.add(18, 10).unwrap(); // overlaps the back
        assert!(a.ranges().eq([(8, 28)]));
        a.add(2, 40).unwrap(); // covers it
        assert!(a.ranges().eq([(2, 42)]));
    }

    #[test]
    fn sorted_insertion() {
        let mut a = Assembler::<4>::new();
        a.add(40, 1).unwrap();
        a.add(10, 1).unwrap();
        a.add(30, 1).unwrap();
        a.add(20, 1).unwrap();
        assert_eq!(ranges(&a), [(10, 11), (20, 21), (30, 31), (40, 41)]);
    }

    #[test]
    fn refuses_a_hole_too_many_without_change() {
        let mut a = Assembler::<2>::new();
        a.add(10, 5).unwrap();
        a.add(30, 5).unwrap();
        let before = a.clone();
        assert_eq!(a.add(20, 5), Err(TooManyRanges));
        assert_eq!(a.add(50, 5), Err(TooManyRanges));
        assert_eq!(a.add(1, 5), Err(TooManyRanges));
        assert_eq!(a, before);
        // Extending a held range needs no new hole.
        assert_eq!(a.add(15, 5), Ok(0));
        assert_eq!(a.add(20, 10), Ok(0));
        assert!(a.ranges().eq([(10, 35)]));
        // In-order bytes are always taken, even when full.
        a.add(40, 1).unwrap();
        assert_eq!(a.add(0, 1), Ok(1));
    }

    #[test]
    fn zero_capacity_takes_only_in_order() {
        let mut a = Assembler::<0>::new();
        assert_eq!(Assembler::<0>::CAPACITY, 0);
        assert_eq!(a.add(1, 1), Err(TooManyRanges));
        assert_eq!(a.add(0, 3), Ok(3));
        assert_eq!(a.ranges().count(), 0);
        assert_eq!(a.most_recent(), None);
    }

    #[test]
    fn hostile_values_saturate() {
        let mut a = Assembler::<2>::new();
        assert_eq!(a.add(usize::MAX, usize::MAX), Ok(0));
        assert!(a.ranges().eq([(usize::MAX, usize::MAX)]));
        assert_eq!(a.add(usize::MAX - 1, 5), Ok(0));
        assert!(a.ranges().eq([(usize::MAX - 1, usize::MAX)]));
        assert_eq!(a.add(1, usize::MAX), Ok(0));
        assert!(a.ranges().eq([(1, usize::MAX)]));
        assert_eq!(a.add(0, 1), Ok(usize::MAX));
        assert!(a.is_empty());
        assert_eq!(a.add(0, usize::MAX), Ok(usize::MAX));
    }

    #[test]
    fn recent_first_order() {
        let mut a = Assembler::<4>::new();
        a.add(30, 5).unwrap();
        a.add(10, 5).unwrap();
        a.add(50, 5).unwrap();
        assert!(a.ranges_recent_first().eq([(50, 55), (10, 15), (30, 35)]));
        // Extending a range makes it the most recent.
        a.add(35, 2).unwrap();
        assert!(a.ranges_recent_first().eq([(30, 37), (50, 55), (10, 15)]));
        // So does a duplicate inside it (RFC 2018: the block holding the
        // segment that triggered the ACK goes first).
        a.add(11, 2).unwrap();
        assert_eq!(a.most_recent(), Some((10, 15)));
        assert!(a.ranges_recent_first().eq([(10, 15), (30, 37), (50, 55)]));
    }

    #[test]
    fn recent_first_survives_edge_advance_and_merge() {
        let mut a = Assembler::<4>::new();
        a.add(40, 5).unwrap();
        a.add(20, 5).unwrap();
        a.add(10, 5).unwrap();
        // Bridging 10..15 and 20..25 makes one range, the most recent.
        a.add(15, 5).unwrap();
        assert!(a.ranges_recent_first().eq([(10, 25), (40, 45)]));
        // The edge swallows 10..25; the rest keeps its order, shifted.
        assert_eq!(a.add(0, 10), Ok(25));
        assert!(a.ranges_recent_first().eq([(15, 20)]));
    }

    #[test]
    fn refused_add_keeps_recency() {
        let mut a = Assembler::<1>::new();
        a.add(5, 1).unwrap();
        assert!(a.add(9, 1).is_err());
        assert_eq!(a.most_recent(), Some((5, 6)));
    }

    #[test]
    fn clear_forgets() {
        let mut a = Assembler::<3>::new();
        a.add(5, 5).unwrap();
        a.add(15, 5).unwrap();
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.capacity(), 3);
        assert_eq!(a.add(0, 10), Ok(10));
    }

    /// Compares against a bitmap model over a small window, for every
    /// sequence of adds of a pseudo-random walk.
    #[test]
    fn matches_bitmap_model() {
        const WINDOW: usize = 64;
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % bound as u64) as usize
        };
        let (mut refused, mut advanced) = (0, 0);
        for _ in 0..200 {
            let mut a = Assembler::<3>::new();
            let mut model = [false; WINDOW * 2];
            for _ in 0..20 {
                let offset = if next(4) == 0 { 0 } else { next(WINDOW) };
                let len = next(12);
                let before = a.clone();
                let mut trial = model;
                for bit in &mut trial[offset..offset + len] {
                    *bit = true;
                }
                let advance = trial.iter().take_while(|&&bit| bit).count();
                let holes = trial[advance..]
                    .windows(2)
                    .filter(|pair| !pair[0] && pair[1])
                    .count();
                match a.add(offset, len) {
                    Ok(moved) => {
                        assert!(holes <= 3);
                        assert_eq!(moved, advance);
                        advanced += usize::from(moved > len);
                        model = [false; WINDOW * 2];
                        model[..WINDOW * 2 - advance].copy_from_slice(&trial[advance..]);
                    }
                    Err(TooManyRanges) => {
                        assert!(holes > 3);
                        assert_eq!(a, before);
                        refused += 1;
                    }
                }
                let mut expected = [false; WINDOW * 2];
                for (start, end) in a.ranges() {
                    assert!(start > 0 && start < end);
                    for bit in &mut expected[start..end] {
                        *bit = true;
                    }
                }
                assert_eq!(expected, model);
            }
        }
        // The walk did reach both interesting cases.
        assert!(refused > 10 && advanced > 10, "{refused} {advanced}");
    }
}
