//! Reassembly of fragmented IPv4 and IPv6 datagrams into caller storage.
//!
//! The IP layer parses each fragment's header and hands the reassembler
//! the identifying [`FragmentKey`], the byte offset, the more-fragments
//! flag and the fragment's payload ([`Fragment`]). The reassembler copies
//! the payload into one of the equal datagram buffers carved out of the
//! caller's byte storage, and answers [`Progress::Complete`] with a
//! [`ReassembledId`] once every byte from offset zero to the end fixed by
//! the last fragment is present. The caller reads the datagram with
//! [`Reassembler::datagram`] and frees the slot with
//! [`Reassembler::release`]. Nothing here does I/O or reads a clock: every
//! call that depends on time takes `now`.
//!
//! # Rules
//!
//! * Received ranges are tracked as a list of holes (the idea of RFC 815)
//!   in a fixed array inside each slot, up to [`MAX_HOLES`]. A datagram
//!   that would need more holes than [`ReassemblyConfig::max_holes`] is
//!   dropped: scattered tiny fragments are an attack, not a workload.
//! * A fragment that touches data already received is an overlap, and the
//!   whole datagram is dropped, for both families (RFC 5722 makes it a MUST
//!   for IPv6; for IPv4 it defeats the overlapping-fragment attacks of
//!   RFC 1858 and RFC 3128, where a later fragment rewrites the transport
//!   header a filter already judged). The one exception is a fragment that
//!   lies entirely inside received data and carries the very same bytes:
//!   that is a duplicate (RFC 8200 section 4.5 lets implementations drop
//!   exact duplicates instead of the datagram) and is ignored. Because only
//!   holes are stored, not the original fragment boundaries, this also
//!   accepts an identical copy that a router cut differently; it can not
//!   change the reassembled bytes, so it is harmless.
//! * Every non-last fragment carries a positive multiple of 8 bytes at a
//!   multiple of 8 (RFC 791, RFC 8200 section 4.5); the last fragment fixes
//!   the total length, which no other fragment may exceed or contradict.
//! * A datagram may not grow beyond the buffer, nor beyond 65 515 bytes of
//!   IPv4 payload (a 16-bit total length minus the smallest header: the
//!   "ping of death") or 65 535 bytes of IPv6 payload (RFC 8200 section 4.5).
//! * An incomplete datagram expires [`ReassemblyConfig::timeout`] after its
//!   first fragment arrived. The default is 30 s; RFC 8200 fixes 60 s for
//!   IPv6 and RFC 1122 section 3.3.2 recommends 60 to 120 s for IPv4, so a
//!   caller following them configures one reassembler per family.
//!   [`Reassembler::expire`] reports each expired datagram with the quote
//!   of fragment zero, if that fragment arrived, so the IP layer can send
//!   ICMP "fragment reassembly time exceeded" (RFC 792 and RFC 8200
//!   section 4.5: only when fragment zero arrived).
//! * When a new datagram finds no free slot, the oldest incomplete datagram
//!   is evicted, so a flood of fragments that never complete can not keep
//!   out new datagrams. A completed datagram belongs to the caller until
//!   released, but no longer than one timeout after completion: then its
//!   slot is reclaimed, so a caller that forgets to release can not leak
//!   slots.
//!
//! All offset and length arithmetic is checked: the values come from
//! packets.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use ethox::layer::reassembly::{
//!     Fragment, FragmentKey, Progress, ReassemblyConfig, ReassemblySlot, Reassembler,
//! };
//! use ethox::time::Instant;
//! use ethox::wire::IpProtocol;
//!
//! let mut buffers = [0u8; 2 * 1500];
//! let mut slots = [ReassemblySlot::EMPTY; 2];
//! let mut reasm = Reassembler::new(&mut buffers, &mut slots, 1500, ReassemblyConfig::default());
//! let key = FragmentKey::V4 {
//!     src: Ipv4Addr::new(10, 0, 0, 1),
//!     dst: Ipv4Addr::new(10, 0, 0, 2),
//!     protocol: IpProtocol::Udp,
//!     ident: 7,
//! };
//! let now = Instant::from_secs(1);
//!
//! // The second half arrives first.
//! let tail = Fragment::new(key, 8, false, b"world");
//! assert_eq!(reasm.add(tail, now), Ok(Progress::Incomplete));
//! let head = Fragment::new(key, 0, true, b"hello, ");
//! assert!(reasm.add(head, now).is_err()); // 7 bytes: not a multiple of 8
//! let head = Fragment::new(key, 0, true, b"hello,  ");
//! let Ok(Progress::Complete(id)) = reasm.add(head, now) else { panic!() };
//! assert_eq!(reasm.datagram(id), b"hello,  world");
//! reasm.release(id);
//! assert_eq!(reasm.stats().completed, 1);
//! ```

use core::fmt;
use core::time::Duration;

use crate::managed::Slice;
use crate::time::Instant;
use crate::wire::ip::{IpProtocol, Ipv4Addr, Ipv6Addr};

/// The most holes a slot can track; [`ReassemblyConfig::max_holes`] is
/// capped at this.
pub const MAX_HOLES: usize = 8;

/// The most bytes of fragment zero's quote a slot keeps: the largest IPv4
/// header (60 bytes) and the first 8 bytes of its payload, what RFC 792
/// asks an ICMP error to carry.
pub const QUOTE_CAPACITY: usize = 68;

/// The largest IPv4 payload: a 16-bit total length minus a 20-byte header.
const IPV4_MAX_PAYLOAD: usize = 65_535 - 20;
/// The largest IPv6 fragmentable part (RFC 8200 section 4.5).
const IPV6_MAX_PAYLOAD: usize = 65_535;
/// Fragment offsets count 8-byte units in both families.
const FRAGMENT_UNIT: usize = 8;

/// What identifies the fragments of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragmentKey {
    /// IPv4: source, destination, protocol and identification (RFC 791).
    V4 {
        /// The source address.
        src: Ipv4Addr,
        /// The destination address.
        dst: Ipv4Addr,
        /// The protocol field.
        protocol: IpProtocol,
        /// The identification field.
        ident: u16,
    },
    /// IPv6: source, destination and the fragment header's identification
    /// (RFC 8200 section 4.5).
    V6 {
        /// The source address.
        src: Ipv6Addr,
        /// The destination address.
        dst: Ipv6Addr,
        /// The identification of the fragment header.
        ident: u32,
    },
}

impl FragmentKey {
    /// The most payload bytes a reassembled datagram of this family can
    /// hold: 65 515 for IPv4 (a 16-bit total length minus the 20-byte
    /// minimum header), 65 535 for IPv6.
    pub const fn max_payload(&self) -> usize {
        match self {
            FragmentKey::V4 { .. } => IPV4_MAX_PAYLOAD,
            FragmentKey::V6 { .. } => IPV6_MAX_PAYLOAD,
        }
    }

    /// A placeholder for empty slots; never compared while a slot is empty.
    const PLACEHOLDER: FragmentKey = FragmentKey::V4 {
        src: Ipv4Addr::UNSPECIFIED,
        dst: Ipv4Addr::UNSPECIFIED,
        protocol: IpProtocol::HopByHop,
        ident: 0,
    };
}

/// One received fragment, as the IP layer parsed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'p> {
    /// The datagram it belongs to.
    pub key: FragmentKey,
    /// Where its payload goes in the datagram, in bytes (the header's
    /// fragment offset times 8).
    pub offset: usize,
    /// The more-fragments flag: false on the last fragment.
    pub more_fragments: bool,
    /// The fragment's payload.
    pub data: &'p [u8],
    /// For fragment zero only: what an ICMP error about this datagram
    /// should quote (for IPv4 the header and the first 8 payload bytes).
    /// At most [`QUOTE_CAPACITY`] bytes are kept; ignored on other
    /// fragments.
    pub quote: &'p [u8],
}

impl<'p> Fragment<'p> {
    /// A fragment without a quote.
    pub const fn new(
        key: FragmentKey,
        offset: usize,
        more_fragments: bool,
        data: &'p [u8],
    ) -> Self {
        Fragment {
            key,
            offset,
            more_fragments,
            data,
            quote: &[],
        }
    }

    /// The same fragment, carrying `quote` (see [`Fragment::quote`]).
    pub const fn with_quote(self, quote: &'p [u8]) -> Self {
        Fragment { quote, ..self }
    }
}

/// Limits of a reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// How long an incomplete datagram waits for its missing fragments,
    /// from its first fragment; also how long a completed datagram stays
    /// reserved for the caller before its slot may be reclaimed.
    pub timeout: Duration,
    /// The most holes one datagram may have while it is being assembled,
    /// counting the open end before the last fragment arrived. Taken
    /// between 1 and [`MAX_HOLES`]; with 1, fragments must arrive in order.
    pub max_holes: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout: Duration::from_secs(30),
            max_holes: MAX_HOLES,
        }
    }
}

/// What [`Reassembler::add`] did with a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Progress {
    /// Stored; the datagram still misses fragments.
    Incomplete,
    /// A duplicate of data already received: ignored, nothing changed.
    Duplicate,
    /// The datagram is whole: read it with [`Reassembler::datagram`], then
    /// [`Reassembler::release`] it.
    Complete(ReassembledId),
}

/// Names a completed datagram until it is released or reclaimed. A stale
/// id (after release) names nothing, even if its slot was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReassembledId {
    index: usize,
    generation: u32,
}

/// Why a fragment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassemblyError {
    /// A malformed fragment: an offset that is not a multiple of 8, or a
    /// non-last fragment that is empty or not a multiple of 8 bytes long
    /// (only the fragment is dropped); or a fragment contradicting the
    /// total length fixed by a last fragment, or a last fragment shorter
    /// than data already received (the whole datagram is dropped).
    BadFragment,
    /// The fragment ends beyond the datagram buffer or beyond the largest
    /// datagram of its family; the whole datagram is dropped.
    TooLarge,
    /// The fragment overlaps received data other than as an identical
    /// duplicate; the whole datagram is dropped (RFC 5722). A fragment
    /// that contradicts a completed, unreleased datagram is refused but
    /// leaves that datagram alone.
    Overlap,
    /// The datagram would need more holes than configured; it is dropped.
    TooManyHoles,
    /// No slot for a new datagram: every slot holds a completed datagram
    /// the caller has not released yet, younger than the timeout.
    TableFull,
}

impl fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReassemblyError::BadFragment => f.write_str("bad fragment"),
            ReassemblyError::TooLarge => f.write_str("reassembled datagram too large"),
            ReassemblyError::Overlap => f.write_str("overlapping fragment"),
            ReassemblyError::TooManyHoles => f.write_str("too many holes in datagram"),
            ReassemblyError::TableFull => f.write_str("reassembly table full"),
        }
    }
}

impl core::error::Error for ReassemblyError {}

/// Counters of a reassembler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReassemblyStats {
    /// Datagrams reassembled.
    pub completed: u64,
    /// Fragments offered to [`Reassembler::add`].
    pub fragments: u64,
    /// Duplicate fragments ignored.
    pub duplicates: u64,
    /// Fragments refused as overlaps.
    pub overlaps: u64,
    /// Fragments refused as too large.
    pub too_large: u64,
    /// Fragments refused as malformed or inconsistent.
    pub bad_fragments: u64,
    /// Datagrams dropped for needing too many holes.
    pub too_many_holes: u64,
    /// Incomplete datagrams pushed out to make room for a new one.
    pub evicted: u64,
    /// Incomplete datagrams dropped because their time ran out.
    pub timed_out: u64,
    /// Completed datagrams whose slot was taken back because the caller
    /// did not release them within the timeout.
    pub reclaimed: u64,
    /// New datagrams refused because no slot could be freed.
    pub table_full: u64,
}

fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

/// A missing range `start..end` of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hole {
    start: usize,
    end: usize,
}

impl Hole {
    const NONE: Hole = Hole { start: 0, end: 0 };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    Incomplete,
    Complete,
}

/// The state of one datagram being reassembled. Create storage with
/// [`ReassemblySlot::EMPTY`]; each slot pairs with one datagram buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblySlot {
    state: State,
    key: FragmentKey,
    /// Bumped every time the slot starts a datagram, so stale ids miss.
    generation: u32,
    /// The first fragment's arrival while incomplete, the completion time
    /// once complete: the timeout runs from here.
    since: Instant,
    /// The end fixed by the last fragment, once it arrived.
    total: Option<usize>,
    /// The end of the furthest data received.
    high: usize,
    holes: [Hole; MAX_HOLES],
    hole_count: usize,
    /// Whether fragment zero arrived (and with it the quote).
    first_arrived: bool,
    quote: [u8; QUOTE_CAPACITY],
    quote_len: usize,
}

impl ReassemblySlot {
    /// A free slot.
    pub const EMPTY: ReassemblySlot = ReassemblySlot {
        state: State::Empty,
        key: FragmentKey::PLACEHOLDER,
        generation: 0,
        since: Instant::ZERO,
        total: None,
        high: 0,
        holes: [Hole::NONE; MAX_HOLES],
        hole_count: 0,
        first_arrived: false,
        quote: [0; QUOTE_CAPACITY],
        quote_len: 0,
    };

    /// The datagram this slot holds, if any.
    pub fn key(&self) -> Option<FragmentKey> {
        match self.state {
            State::Empty => None,
            State::Incomplete | State::Complete => Some(self.key),
        }
    }

    /// Whether the slot holds a completed datagram not yet released.
    pub fn is_complete(&self) -> bool {
        self.state == State::Complete
    }

    fn holes(&self) -> &[Hole] {
        self.holes.get(..self.hole_count).unwrap_or(&[])
    }

    fn quote(&self) -> Option<&[u8]> {
        if self.first_arrived {
            Some(self.quote.get(..self.quote_len).unwrap_or(&[]))
        } else {
            None
        }
    }

    fn deadline(&self, timeout: Duration) -> Option<Instant> {
        match self.state {
            State::Empty => None,
            State::Incomplete | State::Complete => Some(self.since + timeout),
        }
    }

    fn expired(&self, now: Instant, timeout: Duration) -> bool {
        self.deadline(timeout).is_some_and(|d| now >= d)
    }

    /// Starts a datagram whose bytes may lie in `0..limit`.
    fn start(&mut self, key: FragmentKey, now: Instant, limit: usize) {
        let generation = self.generation.wrapping_add(1);
        *self = ReassemblySlot::EMPTY;
        self.state = State::Incomplete;
        self.key = key;
        self.generation = generation;
        self.since = now;
        if limit > 0 {
            self.holes[0] = Hole {
                start: 0,
                end: limit,
            };
            self.hole_count = 1;
        }
    }

    /// Frees the slot, keeping the generation so old ids stay stale.
    fn clear(&mut self) {
        let generation = self.generation;
        *self = ReassemblySlot::EMPTY;
        self.generation = generation;
    }

    fn remove_hole(&mut self, index: usize) {
        let Some(last) = self.hole_count.checked_sub(1) else {
            return;
        };
        if let Some(&moved) = self.holes.get(last)
            && let Some(slot) = self.holes.get_mut(index)
        {
            *slot = moved;
            self.hole_count = last;
        }
    }

    /// Fixes the end at `total`: nothing is missing beyond it any more.
    /// The caller checked that no data lies beyond.
    fn fix_total(&mut self, total: usize) {
        self.total = Some(total);
        let mut i = 0;
        // Each round either advances `i` or shrinks `hole_count`.
        while i < self.hole_count {
            let Some(hole) = self.holes.get_mut(i) else {
                return;
            };
            if hole.start >= total {
                self.remove_hole(i);
            } else {
                if hole.end > total {
                    hole.end = total;
                }
                i += 1;
            }
        }
    }

    fn store_quote(&mut self, quote: &[u8]) {
        let len = quote.len().min(QUOTE_CAPACITY);
        if let (Some(dst), Some(src)) = (self.quote.get_mut(..len), quote.get(..len)) {
            dst.copy_from_slice(src);
            self.quote_len = len;
        }
        self.first_arrived = true;
    }
}

/// How fragment data met the holes.
enum Placed {
    Filled,
    Duplicate,
}

/// Puts `data` at `start..end` (`end > start`) of `buffer` if it fits a
/// hole entirely; recognizes identical duplicates of received data.
fn place(
    slot: &mut ReassemblySlot,
    buffer: &mut [u8],
    max_holes: usize,
    start: usize,
    end: usize,
    data: &[u8],
) -> Result<Placed, ReassemblyError> {
    let holes = slot.holes();
    let Some(index) = holes.iter().position(|h| h.start <= start && end <= h.end) else {
        if holes.iter().any(|h| h.start < end && start < h.end) {
            // Partly new, partly received: a different placement.
            return Err(ReassemblyError::Overlap);
        }
        // Entirely received: a duplicate only if nothing would change.
        return match buffer.get(start..end) {
            Some(old) if old == data => Ok(Placed::Duplicate),
            _ => Err(ReassemblyError::Overlap),
        };
    };
    let Some(&hole) = holes.get(index) else {
        return Err(ReassemblyError::Overlap);
    };
    let Some(target) = buffer.get_mut(start..end) else {
        return Err(ReassemblyError::TooLarge);
    };
    if target.len() != data.len() {
        return Err(ReassemblyError::BadFragment);
    }
    let before = Hole {
        start: hole.start,
        end: start,
    };
    let after = Hole {
        start: end,
        end: hole.end,
    };
    match (before.start < before.end, after.start < after.end) {
        (true, true) => {
            let count = slot.hole_count;
            if count >= max_holes {
                return Err(ReassemblyError::TooManyHoles);
            }
            let (Some(new), true) = (slot.holes.get_mut(count), index < count) else {
                return Err(ReassemblyError::TooManyHoles);
            };
            *new = after;
            set_hole(slot, index, before);
            slot.hole_count = count + 1;
        }
        (true, false) => set_hole(slot, index, before),
        (false, true) => set_hole(slot, index, after),
        (false, false) => slot.remove_hole(index),
    }
    target.copy_from_slice(data);
    Ok(Placed::Filled)
}

fn set_hole(slot: &mut ReassemblySlot, index: usize, hole: Hole) {
    if let Some(h) = slot.holes.get_mut(index) {
        *h = hole;
    }
}

/// The datagram buffer of slot `index`.
fn buffer_of(buffers: &mut [u8], capacity: usize, index: usize) -> Option<&mut [u8]> {
    let start = index.checked_mul(capacity)?;
    let end = start.checked_add(capacity)?;
    buffers.get_mut(start..end)
}

/// Reassembles fragmented datagrams in caller storage.
#[derive(Debug)]
pub struct Reassembler<'a> {
    buffers: Slice<'a, u8>,
    slots: Slice<'a, ReassemblySlot>,
    /// Slots in use: as many as there are both slot states and buffers.
    count: usize,
    datagram_capacity: usize,
    config: ReassemblyConfig,
    stats: ReassemblyStats,
}

impl<'a> Reassembler<'a> {
    /// A reassembler over `buffers`, split into buffers of
    /// `datagram_capacity` bytes each (the largest datagram payload it can
    /// rebuild), and `slots`. It holds as many datagrams at once as there
    /// are both slots and whole buffers; surplus storage is unused.
    pub fn new(
        buffers: impl Into<Slice<'a, u8>>,
        slots: impl Into<Slice<'a, ReassemblySlot>>,
        datagram_capacity: usize,
        config: ReassemblyConfig,
    ) -> Self {
        let buffers = buffers.into();
        let mut slots = slots.into();
        for slot in slots.iter_mut() {
            *slot = ReassemblySlot::EMPTY;
        }
        // With zero-byte buffers any number of them fit.
        let whole = buffers
            .len()
            .checked_div(datagram_capacity)
            .unwrap_or(usize::MAX);
        let count = slots.len().min(whole);
        Reassembler {
            buffers,
            slots,
            count,
            datagram_capacity,
            config,
            stats: ReassemblyStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// The limits in force.
    pub fn config(&self) -> ReassemblyConfig {
        self.config
    }

    /// How many datagrams can be reassembled at once.
    pub fn capacity(&self) -> usize {
        self.count
    }

    /// The largest datagram payload a buffer holds.
    pub fn datagram_capacity(&self) -> usize {
        self.datagram_capacity
    }

    /// How many slots hold a datagram (incomplete or unreleased).
    pub fn in_use(&self) -> usize {
        self.active()
            .iter()
            .filter(|s| s.state != State::Empty)
            .count()
    }

    fn active(&self) -> &[ReassemblySlot] {
        self.slots.get(..self.count).unwrap_or(&[])
    }

    fn max_holes(&self) -> usize {
        self.config.max_holes.clamp(1, MAX_HOLES)
    }

    fn find(&self, key: FragmentKey) -> Option<usize> {
        self.active()
            .iter()
            .position(|s| s.state != State::Empty && s.key == key)
    }

    fn drop_slot(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.clear();
        }
    }

    /// Adds a fragment received at `now`.
    ///
    /// Returns [`Progress::Complete`] when this fragment completed its
    /// datagram; the caller must then [`release`](Self::release) it (or it
    /// is reclaimed one timeout later). Errors say why the fragment was
    /// refused and, for most, that its datagram was dropped (see
    /// [`ReassemblyError`]); all are counted in [`stats`](Self::stats).
    pub fn add(
        &mut self,
        fragment: Fragment<'_>,
        now: Instant,
    ) -> Result<Progress, ReassemblyError> {
        bump(&mut self.stats.fragments);
        let result = self.add_inner(fragment, now);
        let stats = &mut self.stats;
        match result {
            Ok(Progress::Duplicate) => bump(&mut stats.duplicates),
            Ok(Progress::Complete(_)) => bump(&mut stats.completed),
            Ok(Progress::Incomplete) => {}
            Err(ReassemblyError::BadFragment) => bump(&mut stats.bad_fragments),
            Err(ReassemblyError::TooLarge) => bump(&mut stats.too_large),
            Err(ReassemblyError::Overlap) => bump(&mut stats.overlaps),
            Err(ReassemblyError::TooManyHoles) => bump(&mut stats.too_many_holes),
            Err(ReassemblyError::TableFull) => bump(&mut stats.table_full),
        }
        result
    }

    fn add_inner(
        &mut self,
        fragment: Fragment<'_>,
        now: Instant,
    ) -> Result<Progress, ReassemblyError> {
        let Fragment {
            key,
            offset: start,
            more_fragments: more,
            data,
            quote,
        } = fragment;
        let len = data.len();
        // RFC 791 / RFC 8200 4.5: offsets count 8-byte units, and every
        // fragment but the last carries a positive multiple of 8 bytes.
        if start % FRAGMENT_UNIT != 0 || (more && (len == 0 || len % FRAGMENT_UNIT != 0)) {
            return Err(ReassemblyError::BadFragment);
        }
        let end = start.checked_add(len).ok_or(ReassemblyError::TooLarge)?;
        let limit = key.max_payload().min(self.datagram_capacity);
        let timeout = self.config.timeout;

        let mut found = self.find(key);
        if let Some(index) = found
            && let Some(slot) = self.slots.get_mut(index)
            && slot.expired(now, timeout)
        {
            // Its time ran out before anyone called expire: never mix
            // these bytes with a newer datagram that reuses the ident.
            match slot.state {
                State::Complete => bump(&mut self.stats.reclaimed),
                _ => bump(&mut self.stats.timed_out),
            }
            slot.clear();
            found = None;
        }

        if let Some(index) = found
            && self
                .slots
                .get(index)
                .is_some_and(ReassemblySlot::is_complete)
        {
            return self.check_completed(index, start, end, more, data);
        }

        if end > limit {
            if let Some(index) = found {
                self.drop_slot(index);
            }
            return Err(ReassemblyError::TooLarge);
        }

        let index = match found {
            Some(index) => index,
            None => {
                let index = self.allocate(now)?;
                if let Some(slot) = self.slots.get_mut(index) {
                    slot.start(key, now, limit);
                }
                index
            }
        };
        let max_holes = self.max_holes();
        let (Some(slot), Some(buffer)) = (
            self.slots.get_mut(index),
            buffer_of(&mut self.buffers, self.datagram_capacity, index),
        ) else {
            return Err(ReassemblyError::TableFull);
        };

        match merge(slot, buffer, max_holes, start, end, more, data, quote) {
            Ok(Merged::Incomplete) => Ok(Progress::Incomplete),
            Ok(Merged::Duplicate) => Ok(Progress::Duplicate),
            Ok(Merged::Complete) => {
                slot.state = State::Complete;
                slot.since = now;
                Ok(Progress::Complete(ReassembledId {
                    index,
                    generation: slot.generation,
                }))
            }
            Err(error) => {
                slot.clear();
                Err(error)
            }
        }
    }

    /// A fragment for a completed datagram the caller still holds: only a
    /// duplicate is acceptable, and nothing may disturb the datagram.
    fn check_completed(
        &self,
        index: usize,
        start: usize,
        end: usize,
        more: bool,
        data: &[u8],
    ) -> Result<Progress, ReassemblyError> {
        let Some(total) = self.slots.get(index).and_then(|s| s.total) else {
            return Err(ReassemblyError::BadFragment);
        };
        if end > total || (!more && end != total) {
            return Err(ReassemblyError::BadFragment);
        }
        let stored = buffer_of_ref(&self.buffers, self.datagram_capacity, index)
            .and_then(|b| b.get(start..end));
        match stored {
            Some(old) if old == data => Ok(Progress::Duplicate),
            _ => Err(ReassemblyError::Overlap),
        }
    }

    /// A slot for a new datagram: a free one, else one whose completed
    /// datagram the caller held beyond the timeout, else the oldest
    /// incomplete datagram's.
    fn allocate(&mut self, now: Instant) -> Result<usize, ReassemblyError> {
        let timeout = self.config.timeout;
        let slots = self.active();
        if let Some(index) = slots.iter().position(|s| s.state == State::Empty) {
            return Ok(index);
        }
        if let Some(index) = slots
            .iter()
            .position(|s| s.state == State::Complete && s.expired(now, timeout))
        {
            bump(&mut self.stats.reclaimed);
            return Ok(index);
        }
        let oldest = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == State::Incomplete)
            .min_by_key(|(_, s)| s.since)
            .map(|(i, s)| (i, s.expired(now, timeout)));
        match oldest {
            Some((index, expired)) => {
                if expired {
                    bump(&mut self.stats.timed_out);
                } else {
                    bump(&mut self.stats.evicted);
                }
                Ok(index)
            }
            None => Err(ReassemblyError::TableFull),
        }
    }

    fn slot_of(&self, id: ReassembledId) -> Option<&ReassemblySlot> {
        self.active()
            .get(id.index)
            .filter(|s| s.state == State::Complete && s.generation == id.generation)
    }

    /// The payload of a completed datagram; empty if `id` is stale.
    pub fn datagram(&self, id: ReassembledId) -> &[u8] {
        let Some(total) = self.slot_of(id).and_then(|s| s.total) else {
            return &[];
        };
        buffer_of_ref(&self.buffers, self.datagram_capacity, id.index)
            .and_then(|b| b.get(..total))
            .unwrap_or(&[])
    }

    /// The key of a completed datagram, or `None` if `id` is stale.
    pub fn key(&self, id: ReassembledId) -> Option<FragmentKey> {
        self.slot_of(id).map(|s| s.key)
    }

    /// The quote fragment zero carried, or `None` if `id` is stale. For
    /// IPv6 this is where the caller keeps what it needs of fragment
    /// zero's headers (RFC 8200: the unfragmentable part and the next
    /// header come from fragment zero).
    pub fn quote(&self, id: ReassembledId) -> Option<&[u8]> {
        self.slot_of(id).and_then(ReassemblySlot::quote)
    }

    /// Frees a completed datagram's slot. The caller must release every
    /// completed datagram once it is done with it; an unreleased one keeps
    /// its slot for one timeout. Returns false if `id` was stale.
    pub fn release(&mut self, id: ReassembledId) -> bool {
        if self.slot_of(id).is_none() {
            return false;
        }
        self.drop_slot(id.index);
        true
    }

    /// Drops every incomplete datagram whose time ran out at `now`,
    /// calling `on_expired` with its key and, if fragment zero arrived,
    /// that fragment's quote (the IP layer then sends ICMP time exceeded,
    /// fragment reassembly; RFC 792 and RFC 8200 send it only when
    /// fragment zero arrived). Also reclaims completed datagrams not
    /// released within the timeout, silently.
    pub fn expire(&mut self, now: Instant, mut on_expired: impl FnMut(FragmentKey, Option<&[u8]>)) {
        let timeout = self.config.timeout;
        for slot in self.slots.iter_mut().take(self.count) {
            if !slot.expired(now, timeout) {
                continue;
            }
            match slot.state {
                State::Incomplete => {
                    on_expired(slot.key, slot.quote());
                    bump(&mut self.stats.timed_out);
                }
                State::Complete => bump(&mut self.stats.reclaimed),
                State::Empty => {}
            }
            slot.clear();
        }
    }

    /// The earliest time [`expire`](Self::expire) has work: an incomplete
    /// datagram timing out, or an unreleased one becoming reclaimable.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.config.timeout;
        self.active()
            .iter()
            .filter_map(|s| s.deadline(timeout))
            .min()
    }

    /// Drops every datagram, complete or not.
    pub fn flush(&mut self) {
        for slot in self.slots.iter_mut() {
            slot.clear();
        }
    }
}

fn buffer_of_ref(buffers: &[u8], capacity: usize, index: usize) -> Option<&[u8]> {
    let start = index.checked_mul(capacity)?;
    let end = start.checked_add(capacity)?;
    buffers.get(start..end)
}

/// What one fragment did to an incomplete datagram.
enum Merged {
    Incomplete,
    Duplicate,
    /// Nothing is missing any more; the caller finishes the slot.
    Complete,
}

/// Merges one fragment into an incomplete datagram. On error the caller
/// drops the datagram.
#[allow(clippy::too_many_arguments)]
fn merge(
    slot: &mut ReassemblySlot,
    buffer: &mut [u8],
    max_holes: usize,
    start: usize,
    end: usize,
    more: bool,
    data: &[u8],
    quote: &[u8],
) -> Result<Merged, ReassemblyError> {
    let mut changed = false;
    if more {
        // A non-last fragment may not reach past the known end.
        if slot.total.is_some_and(|total| end > total) {
            return Err(ReassemblyError::BadFragment);
        }
    } else {
        match slot.total {
            // A second last fragment must agree on the end.
            Some(total) if total != end => return Err(ReassemblyError::BadFragment),
            Some(_) => {}
            None => {
                // Data already received beyond the end it now claims.
                if slot.high > end {
                    return Err(ReassemblyError::BadFragment);
                }
                slot.fix_total(end);
                changed = true;
            }
        }
    }

    if start < end {
        match place(slot, buffer, max_holes, start, end, data)? {
            Placed::Filled => {
                changed = true;
                slot.high = slot.high.max(end);
                if start == 0 {
                    slot.store_quote(quote);
                }
            }
            Placed::Duplicate => {}
        }
    } else if start == 0 && !slot.first_arrived {
        // An empty last fragment at offset zero: an empty datagram.
        slot.store_quote(quote);
        changed = true;
    }

    Ok(if slot.total.is_some() && slot.hole_count == 0 {
        Merged::Complete
    } else if changed {
        Merged::Incomplete
    } else {
        Merged::Duplicate
    })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    const CAP: usize = 4096;

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    fn key4(ident: u16) -> FragmentKey {
        FragmentKey::V4 {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Udp,
            ident,
        }
    }

    fn key6(ident: u32) -> FragmentKey {
        FragmentKey::V6 {
            src: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1),
            dst: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2),
            ident,
        }
    }

    /// A deterministic generator (xorshift64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                let j = self.below(i + 1);
                items.swap(i, j);
            }
        }
    }

    fn payload(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// `(offset, more, range)` of each fragment of `len` bytes cut every
    /// `size` bytes (a multiple of 8).
    fn cut(len: usize, size: usize) -> Vec<(usize, bool, core::ops::Range<usize>)> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let end = (offset + size).min(len);
            out.push((offset, end < len, offset..end));
            if end == len {
                return out;
            }
            offset = end;
        }
    }

    struct Storage<const N: usize> {
        buffers: [u8; N],
        slots: [ReassemblySlot; 4],
    }

    impl<const N: usize> Storage<N> {
        fn new() -> Self {
            Storage {
                buffers: [0; N],
                slots: [ReassemblySlot::EMPTY; 4],
            }
        }

        fn reasm(&mut self, config: ReassemblyConfig) -> Reassembler<'_> {
            Reassembler::new(&mut self.buffers, &mut self.slots, N / 4, config)
        }
    }

    /// Feeds the fragments of `data` in `order`, asserting only the last
    /// completes; returns the reassembled bytes.
    fn feed(
        reasm: &mut Reassembler<'_>,
        key: FragmentKey,
        data: &[u8],
        size: usize,
        order: &[usize],
        now: Instant,
    ) -> Vec<u8> {
        let frags = cut(data.len(), size);
        let mut done = None;
        for (n, &i) in order.iter().enumerate() {
            let (offset, more, ref range) = frags[i];
            let progress = reasm
                .add(Fragment::new(key, offset, more, &data[range.clone()]), now)
                .unwrap();
            if n + 1 < order.len() {
                assert_eq!(progress, Progress::Incomplete, "fragment {i}");
            } else {
                let Progress::Complete(id) = progress else {
                    panic!("last fragment did not complete: {progress:?}");
                };
                done = Some(id);
            }
        }
        let id = done.unwrap();
        let out = reasm.datagram(id).to_vec();
        assert!(reasm.release(id));
        out
    }

    #[test]
    fn in_order_many_fragments() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(4000, 1);
        let order: Vec<usize> = (0..cut(4000, 64).len()).collect();
        assert_eq!(order.len(), 63);
        assert_eq!(feed(&mut reasm, key4(1), &data, 64, &order, secs(1)), data);
        let stats = reasm.stats();
        assert_eq!(stats.completed, 1);
        assert_eq!(stats.fragments, 63);
        assert_eq!(reasm.in_use(), 0);
    }

    #[test]
    fn reverse_order_many_fragments() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(3001, 2);
        let order: Vec<usize> = (0..cut(3001, 40).len()).rev().collect();
        assert_eq!(feed(&mut reasm, key6(9), &data, 40, &order, secs(1)), data);
    }

    #[test]
    fn shuffled_many_fragments() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..50u16 {
            let len = 1 + rng.below(CAP);
            let size = 8 * (1 + rng.below(64));
            let data = payload(len, round as u8);
            let mut order: Vec<usize> = (0..cut(len, size).len()).collect();
            // Keep the holes within the limit: shuffle only small windows
            // here; the hole limit has its own test.
            for window in order.chunks_mut(4) {
                rng.shuffle(window);
            }
            let key = if round % 2 == 0 {
                key4(round)
            } else {
                key6(round.into())
            };
            assert_eq!(feed(&mut reasm, key, &data, size, &order, secs(1)), data);
        }
        assert_eq!(reasm.stats().completed, 50);
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(100, 3);
        let k = key4(2);
        let now = secs(1);
        let first = Fragment::new(k, 0, true, &data[..48]);
        assert_eq!(reasm.add(first, now), Ok(Progress::Incomplete));
        assert_eq!(reasm.add(first, now), Ok(Progress::Duplicate));
        // An identical piece of received data, cut differently.
        let inner = Fragment::new(k, 8, true, &data[8..24]);
        assert_eq!(reasm.add(inner, now), Ok(Progress::Duplicate));
        let last = Fragment::new(k, 48, false, &data[48..]);
        let Ok(Progress::Complete(id)) = reasm.add(last, now) else {
            panic!()
        };
        // Duplicates of a completed, unreleased datagram change nothing.
        assert_eq!(reasm.add(last, now), Ok(Progress::Duplicate));
        assert_eq!(reasm.add(first, now), Ok(Progress::Duplicate));
        assert_eq!(reasm.datagram(id), &data[..]);
        assert_eq!(reasm.stats().duplicates, 4);
        assert_eq!(reasm.stats().completed, 1);
        assert!(reasm.release(id));
    }

    #[test]
    fn same_placement_different_bytes_is_an_overlap() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let k = key6(3);
        let now = secs(1);
        assert_eq!(
            reasm.add(Fragment::new(k, 0, true, &[1; 16]), now),
            Ok(Progress::Incomplete)
        );
        assert_eq!(
            reasm.add(Fragment::new(k, 0, true, &[2; 16]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.in_use(), 0);
        assert_eq!(reasm.stats().overlaps, 1);
    }

    #[test]
    fn overlap_v6_drops_the_whole_datagram() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(64, 4);
        let k = key6(4);
        let now = secs(1);
        reasm
            .add(Fragment::new(k, 0, true, &data[..32]), now)
            .unwrap();
        reasm
            .add(Fragment::new(k, 48, false, &data[48..]), now)
            .unwrap();
        // 24..40 overlaps received 24..32, even with the same bytes.
        assert_eq!(
            reasm.add(Fragment::new(k, 24, true, &data[24..40]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.in_use(), 0);
        // The missing piece now starts a new datagram, which lacks the rest.
        assert_eq!(
            reasm.add(Fragment::new(k, 32, true, &data[32..48]), now),
            Ok(Progress::Incomplete)
        );
        assert_eq!(reasm.stats().overlaps, 1);
        assert_eq!(reasm.stats().completed, 0);
    }

    #[test]
    fn overlap_v4_drops_the_whole_datagram() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(64, 5);
        let k = key4(5);
        let now = secs(1);
        reasm
            .add(Fragment::new(k, 16, true, &data[16..32]), now)
            .unwrap();
        // Spans a hole and received data.
        assert_eq!(
            reasm.add(Fragment::new(k, 0, true, &data[..24]), now),
            Err(ReassemblyError::Overlap)
        );
        // Spans received data and the open end.
        reasm
            .add(Fragment::new(k, 16, true, &data[16..32]), now)
            .unwrap();
        assert_eq!(
            reasm.add(Fragment::new(k, 24, false, &data[24..]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.in_use(), 0);
        assert_eq!(reasm.stats().overlaps, 2);
    }

    #[test]
    fn tiny_fragment_overlap_attack_is_refused() {
        // RFC 1858 / RFC 3128: fragment zero carries a harmless TCP header
        // (ACK only) that a filter lets through; a second fragment at
        // offset 8 rewrites the flags to SYN.
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let k = FragmentKey::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Tcp,
            ident: 0x1234,
        };
        let now = secs(1);
        let mut header = [0u8; 24];
        header[0..2].copy_from_slice(&4000u16.to_be_bytes());
        header[2..4].copy_from_slice(&23u16.to_be_bytes());
        header[12] = 0x50;
        header[13] = 0x10; // ACK
        let mut rewrite = [0u8; 24];
        rewrite.copy_from_slice(&header);
        rewrite[13] = 0x02; // SYN
        assert_eq!(
            reasm.add(Fragment::new(k, 0, true, &header), now),
            Ok(Progress::Incomplete)
        );
        assert_eq!(
            reasm.add(Fragment::new(k, 8, false, &rewrite[8..]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.in_use(), 0);

        // The RFC 3128 variant: a tiny fragment zero, then offset 8 with
        // the rest of the header, then a fragment overwriting offset 8..16.
        reasm
            .add(Fragment::new(k, 0, true, &header[..8]), now)
            .unwrap();
        reasm
            .add(Fragment::new(k, 8, true, &header[8..]), now)
            .unwrap();
        assert_eq!(
            reasm.add(Fragment::new(k, 8, false, &rewrite[8..16]), now),
            Err(ReassemblyError::BadFragment)
        );
        assert_eq!(reasm.in_use(), 0);
        reasm
            .add(Fragment::new(k, 0, true, &header[..8]), now)
            .unwrap();
        reasm
            .add(Fragment::new(k, 8, true, &header[8..]), now)
            .unwrap();
        assert_eq!(
            reasm.add(Fragment::new(k, 8, true, &rewrite[8..16]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.stats().completed, 0);
    }

    #[test]
    fn timeout_reports_the_quote_only_if_fragment_zero_arrived() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let quote = [0x45u8; 80]; // longer than kept
        let data = payload(32, 6);
        reasm
            .add(
                Fragment::new(key4(1), 0, true, &data[..16]).with_quote(&quote),
                secs(10),
            )
            .unwrap();
        reasm
            .add(Fragment::new(key4(2), 16, false, &data[16..]), secs(20))
            .unwrap();
        assert_eq!(reasm.next_deadline(), Some(secs(40)));

        let mut seen = Vec::new();
        reasm.expire(secs(39), |k, q| seen.push((k, q.map(<[u8]>::to_vec))));
        assert!(seen.is_empty());
        reasm.expire(secs(40), |k, q| seen.push((k, q.map(<[u8]>::to_vec))));
        assert_eq!(seen, [(key4(1), Some(quote[..QUOTE_CAPACITY].to_vec()))]);
        assert_eq!(reasm.next_deadline(), Some(secs(50)));
        seen.clear();
        reasm.expire(secs(60), |k, q| seen.push((k, q.map(<[u8]>::to_vec))));
        assert_eq!(seen, [(key4(2), None)]);
        assert_eq!(reasm.next_deadline(), None);
        assert_eq!(reasm.stats().timed_out, 2);
        assert_eq!(reasm.in_use(), 0);
    }

    #[test]
    fn expired_datagram_is_not_mixed_with_a_new_one() {
        // Without a call to expire, a late fragment with a reused ident
        // must start over rather than complete the stale datagram.
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let k = key4(7);
        reasm
            .add(Fragment::new(k, 0, true, &[1; 8]), secs(0))
            .unwrap();
        assert_eq!(
            reasm.add(Fragment::new(k, 8, false, &[2; 8]), secs(30)),
            Ok(Progress::Incomplete)
        );
        assert_eq!(reasm.stats().timed_out, 1);
        assert_eq!(reasm.next_deadline(), Some(secs(60)));
    }

    #[test]
    fn quote_of_a_completed_datagram() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let k = key6(8);
        let hdr = [0x60u8, 0, 0, 0];
        reasm
            .add(Fragment::new(k, 8, false, &[2; 3]), secs(0))
            .unwrap();
        let Ok(Progress::Complete(id)) =
            reasm.add(Fragment::new(k, 0, true, &[1; 8]).with_quote(&hdr), secs(0))
        else {
            panic!()
        };
        assert_eq!(reasm.quote(id), Some(&hdr[..]));
        assert_eq!(reasm.key(id), Some(k));
        assert_eq!(reasm.datagram(id), &[1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        assert!(reasm.release(id));
        // The id is stale now.
        assert_eq!(reasm.datagram(id), b"");
        assert_eq!(reasm.quote(id), None);
        assert!(!reasm.release(id));
    }

    #[test]
    fn too_large() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let now = secs(1);
        // Beyond the buffer: the datagram under way is dropped.
        reasm
            .add(Fragment::new(key4(1), 0, true, &[0; 8]), now)
            .unwrap();
        assert_eq!(
            reasm.add(Fragment::new(key4(1), CAP - 8, false, &[0; 9]), now),
            Err(ReassemblyError::TooLarge)
        );
        assert_eq!(reasm.in_use(), 0);
        // Exactly the buffer is fine.
        let data = payload(CAP, 9);
        let order: Vec<usize> = (0..cut(CAP, 1024).len()).collect();
        assert_eq!(feed(&mut reasm, key4(2), &data, 1024, &order, now), data);
        // Offsets that would overflow never panic.
        assert_eq!(
            reasm.add(Fragment::new(key6(1), usize::MAX - 7, true, &[0; 8]), now),
            Err(ReassemblyError::TooLarge)
        );
        assert_eq!(reasm.stats().too_large, 2);
    }

    #[test]
    fn family_limits_ping_of_death() {
        let mut buffers = [0u8; 70_000];
        let mut slots = [ReassemblySlot::EMPTY; 1];
        let mut reasm = Reassembler::new(
            &mut buffers,
            &mut slots,
            70_000,
            ReassemblyConfig::default(),
        );
        let now = secs(1);
        // The largest IPv4 fragment offset (8191 * 8) plus a little.
        assert_eq!(
            reasm.add(Fragment::new(key4(1), 65_528, false, &[0; 8]), now),
            Err(ReassemblyError::TooLarge)
        );
        assert_eq!(
            reasm.add(Fragment::new(key4(1), 65_512, false, &[0; 3]), now),
            Ok(Progress::Incomplete)
        );
        assert_eq!(
            reasm.add(Fragment::new(key6(1), 65_528, false, &[0; 8]), now),
            Err(ReassemblyError::TooLarge)
        );
        assert_eq!(
            reasm.add(Fragment::new(key6(1), 65_528, false, &[0; 7]), now),
            Ok(Progress::Incomplete)
        );
        // The single slot went to the IPv6 datagram.
        assert_eq!(reasm.stats().evicted, 1);
    }

    #[test]
    fn bad_fragments() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let now = secs(1);
        let k = key4(1);
        let bad = Err(ReassemblyError::BadFragment);
        // Alone: not a multiple of 8, empty, misaligned. Nothing is kept.
        assert_eq!(reasm.add(Fragment::new(k, 0, true, &[0; 12]), now), bad);
        assert_eq!(reasm.add(Fragment::new(k, 8, true, &[]), now), bad);
        assert_eq!(reasm.add(Fragment::new(k, 4, true, &[0; 8]), now), bad);
        assert_eq!(reasm.add(Fragment::new(k, 4, false, &[0; 8]), now), bad);
        assert_eq!(reasm.in_use(), 0);
        // Such a fragment leaves a datagram under way alone.
        reasm.add(Fragment::new(k, 0, true, &[0; 8]), now).unwrap();
        assert_eq!(reasm.add(Fragment::new(k, 8, true, &[0; 5]), now), bad);
        assert_eq!(reasm.in_use(), 1);

        // A last fragment ending before data already received.
        reasm
            .add(Fragment::new(k, 32, true, &[0; 16]), now)
            .unwrap();
        assert_eq!(reasm.add(Fragment::new(k, 16, false, &[0; 4]), now), bad);
        assert_eq!(reasm.in_use(), 0);

        // A second last fragment with a different end.
        reasm
            .add(Fragment::new(k, 16, false, &[0; 4]), now)
            .unwrap();
        assert_eq!(reasm.add(Fragment::new(k, 8, false, &[0; 4]), now), bad);
        assert_eq!(reasm.in_use(), 0);

        // A non-last fragment beyond the end a last fragment fixed.
        reasm
            .add(Fragment::new(k, 16, false, &[0; 4]), now)
            .unwrap();
        assert_eq!(reasm.add(Fragment::new(k, 16, true, &[0; 8]), now), bad);
        assert_eq!(reasm.in_use(), 0);

        // A completed datagram is not disturbed by a contradiction.
        reasm.add(Fragment::new(k, 8, false, &[0; 4]), now).unwrap();
        let Ok(Progress::Complete(id)) = reasm.add(Fragment::new(k, 0, true, &[0; 8]), now) else {
            panic!()
        };
        assert_eq!(reasm.add(Fragment::new(k, 8, false, &[0; 8]), now), bad);
        assert_eq!(
            reasm.add(Fragment::new(k, 0, true, &[1; 8]), now),
            Err(ReassemblyError::Overlap)
        );
        assert_eq!(reasm.datagram(id), &[0; 12]);
        assert_eq!(reasm.stats().bad_fragments, 9);
    }

    #[test]
    fn empty_last_fragment() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let now = secs(1);
        let k = key6(1);
        reasm.add(Fragment::new(k, 0, true, &[5; 8]), now).unwrap();
        let Ok(Progress::Complete(id)) = reasm.add(Fragment::new(k, 8, false, &[]), now) else {
            panic!()
        };
        assert_eq!(reasm.datagram(id), &[5; 8]);
        assert_eq!(
            reasm.add(Fragment::new(k, 8, false, &[]), now),
            Ok(Progress::Duplicate)
        );
        reasm.release(id);
        // An empty datagram: odd, but consistent.
        let Ok(Progress::Complete(id)) = reasm.add(Fragment::new(k, 0, false, &[]), now) else {
            panic!()
        };
        assert_eq!(reasm.datagram(id), b"");
        assert_eq!(reasm.quote(id), Some(&[][..]));
    }

    #[test]
    fn hole_limit_exceeded() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let now = secs(1);
        let k = key4(1);
        // Every other 8-byte block, from offset 8: each adds a hole.
        for n in 0..7 {
            assert_eq!(
                reasm.add(Fragment::new(k, 8 + 16 * n, true, &[0; 8]), now),
                Ok(Progress::Incomplete),
                "block {n}"
            );
        }
        assert_eq!(
            reasm.add(Fragment::new(k, 8 + 16 * 7, true, &[0; 8]), now),
            Err(ReassemblyError::TooManyHoles)
        );
        assert_eq!(reasm.in_use(), 0);
        assert_eq!(reasm.stats().too_many_holes, 1);

        // With a limit of one hole, only in-order arrival works.
        let config = ReassemblyConfig {
            max_holes: 0, // taken as 1
            ..ReassemblyConfig::default()
        };
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(config);
        let data = payload(100, 3);
        let order: Vec<usize> = (0..cut(100, 24).len()).collect();
        assert_eq!(feed(&mut reasm, k, &data, 24, &order, now), data);
        assert_eq!(
            reasm.add(Fragment::new(k, 8, true, &[0; 8]), now),
            Err(ReassemblyError::TooManyHoles)
        );
    }

    #[test]
    fn filling_holes_releases_them() {
        // Many holes opened and closed in turn never hit the limit.
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let data = payload(1024, 7);
        let n = cut(1024, 8).len();
        // Odd blocks first, in pairs that each leave at most a few holes.
        let mut order = Vec::new();
        for base in (0..n).step_by(4) {
            for i in [base + 3, base + 1, base + 2, base] {
                if i < n {
                    order.push(i);
                }
            }
        }
        order.retain(|&i| i != n - 1);
        order.push(n - 1);
        assert_eq!(feed(&mut reasm, key6(2), &data, 8, &order, secs(1)), data);
    }

    #[test]
    fn eviction_of_the_oldest_incomplete() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        assert_eq!(reasm.capacity(), 4);
        for i in 0..4u16 {
            reasm
                .add(
                    Fragment::new(key4(i), 0, true, &[0; 8]),
                    secs(10 - u64::from(i)),
                )
                .unwrap();
        }
        // key4(3) started earliest (t = 7) and goes.
        assert_eq!(
            reasm.add(Fragment::new(key4(9), 0, true, &[0; 8]), secs(11)),
            Ok(Progress::Incomplete)
        );
        assert_eq!(reasm.stats().evicted, 1);
        // Its late fragment starts over instead of completing it.
        assert_eq!(
            reasm.add(Fragment::new(key4(3), 8, false, &[0; 8]), secs(11)),
            Ok(Progress::Incomplete)
        );
        // That evicted key4(2) (t = 8), the oldest now.
        assert_eq!(reasm.stats().evicted, 2);
        let Ok(Progress::Complete(_)) = reasm.add(Fragment::new(key4(0), 8, false, &[1]), secs(11))
        else {
            panic!()
        };
        assert_eq!(reasm.stats().completed, 1);
    }

    #[test]
    fn table_full_then_unreleased_slots_are_reclaimed() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let mut ids = Vec::new();
        for i in 0..4u16 {
            let Ok(Progress::Complete(id)) =
                reasm.add(Fragment::new(key4(i), 0, false, &[i as u8; 3]), secs(1))
            else {
                panic!()
            };
            ids.push(id);
        }
        assert_eq!(
            reasm.add(Fragment::new(key4(9), 0, true, &[0; 8]), secs(30)),
            Err(ReassemblyError::TableFull)
        );
        assert_eq!(reasm.stats().table_full, 1);
        assert_eq!(reasm.next_deadline(), Some(secs(31)));
        // One timeout after completion the slots may be taken.
        assert_eq!(
            reasm.add(Fragment::new(key4(9), 0, true, &[0; 8]), secs(31)),
            Ok(Progress::Incomplete)
        );
        assert_eq!(reasm.stats().reclaimed, 1);
        assert_eq!(reasm.datagram(ids[0]), b"");
        assert_eq!(reasm.datagram(ids[1]), &[1; 3]);
        // expire reclaims the rest silently.
        let mut calls = 0;
        reasm.expire(secs(31), |_, _| calls += 1);
        assert_eq!(calls, 0);
        assert_eq!(reasm.stats().reclaimed, 4);
        assert_eq!(reasm.in_use(), 1);
        assert!(!reasm.release(ids[3]));
    }

    #[test]
    fn interleaved_datagrams_with_different_keys() {
        let mut st = Storage::<{ 4 * CAP }>::new();
        let mut reasm = st.reasm(ReassemblyConfig::default());
        let keys = [
            key4(1),
            FragmentKey::V4 {
                src: Ipv4Addr::new(10, 0, 0, 1),
                dst: Ipv4Addr::new(10, 0, 0, 2),
                protocol: IpProtocol::Tcp,
                ident: 1,
            },
            key6(1),
            key6(2),
        ];
        let datas: Vec<Vec<u8>> = (0..4).map(|i| payload(500 + 37 * i, i as u8)).collect();
        let frags: Vec<_> = datas.iter().map(|d| cut(d.len(), 48)).collect();
        let mut rng = Rng(42);
        let mut next = [0usize; 4];
        let mut done = 0;
        while done < 4 {
            let d = rng.below(4);
            let Some((offset, more, range)) = frags[d].get(next[d]).cloned() else {
                continue;
            };
            next[d] += 1;
            let frag = Fragment::new(keys[d], offset, more, &datas[d][range]);
            match reasm.add(frag, secs(1)).unwrap() {
                Progress::Complete(id) => {
                    assert_eq!(next[d], frags[d].len());
                    assert_eq!(reasm.key(id), Some(keys[d]));
                    assert_eq!(reasm.datagram(id), &datas[d][..]);
                    reasm.release(id);
                    done += 1;
                }
                p => assert_eq!(p, Progress::Incomplete),
            }
        }
        assert_eq!(reasm.stats().completed, 4);
        assert_eq!(reasm.stats().evicted, 0);
    }

    #[test]
    fn zero_slot_storage_never_panics() {
        let now = secs(1);
        let frag = Fragment::new(key4(1), 0, false, &[1, 2, 3]);
        let mut none: [ReassemblySlot; 0] = [];
        let mut reasm = Reassembler::new(&mut [][..], &mut none, 1500, ReassemblyConfig::default());
        assert_eq!(reasm.capacity(), 0);
        assert_eq!(reasm.add(frag, now), Err(ReassemblyError::TableFull));
        assert_eq!(reasm.next_deadline(), None);
        reasm.expire(now, |_, _| panic!());

        // Slots but no bytes, and bytes too few for one buffer.
        let mut slots = [ReassemblySlot::EMPTY; 2];
        let mut reasm =
            Reassembler::new(&mut [][..], &mut slots, 1500, ReassemblyConfig::default());
        assert_eq!(reasm.add(frag, now), Err(ReassemblyError::TableFull));
        let mut small = [0u8; 100];
        let mut slots = [ReassemblySlot::EMPTY; 2];
        let mut reasm = Reassembler::new(&mut small, &mut slots, 1500, ReassemblyConfig::default());
        assert_eq!(reasm.capacity(), 0);
        assert_eq!(reasm.add(frag, now), Err(ReassemblyError::TableFull));

        // Zero-byte buffers: only empty datagrams fit.
        let mut slots = [ReassemblySlot::EMPTY; 2];
        let mut reasm = Reassembler::new(&mut [][..], &mut slots, 0, ReassemblyConfig::default());
        assert_eq!(reasm.capacity(), 2);
        assert_eq!(reasm.add(frag, now), Err(ReassemblyError::TooLarge));
        let Ok(Progress::Complete(id)) = reasm.add(Fragment::new(key4(1), 0, false, &[]), now)
        else {
            panic!()
        };
        assert_eq!(reasm.datagram(id), b"");
        let forged = ReassembledId {
            index: usize::MAX,
            generation: 0,
        };
        assert_eq!(reasm.datagram(forged), b"");
        assert!(!reasm.release(forged));
    }

    #[test]
    fn randomized_fragments_never_panic_and_reassemble() {
        let mut buffers = [0u8; 4 * 2048];
        let mut slots = [ReassemblySlot::EMPTY; 4];
        let config = ReassemblyConfig::default();
        let mut reasm = Reassembler::new(&mut buffers, &mut slots, 2048, config);
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut clean = 0;
        let mut now = secs(1);
        for iteration in 0..3000u32 {
            now += Duration::from_millis(rng.below(50) as u64);
            if rng.below(2) == 0 {
                // A whole datagram, fragments shuffled within windows and
                // some repeated exactly: it must come back byte for byte.
                let len = rng.below(2049);
                let size = 8 * (1 + rng.below(40));
                let data = payload(len, iteration as u8);
                let key = key6(0x8000_0000 | iteration);
                let frags = cut(len, size);
                let mut order: Vec<usize> = (0..frags.len()).collect();
                for window in order.chunks_mut(3) {
                    rng.shuffle(window);
                }
                let mut completed = None;
                for &i in &order {
                    let (offset, more, ref range) = frags[i];
                    let frag = Fragment::new(key, offset, more, &data[range.clone()]);
                    let copies = if rng.below(8) == 0 { 2 } else { 1 };
                    for _ in 0..copies {
                        match reasm.add(frag, now) {
                            Ok(Progress::Complete(id)) => {
                                assert!(completed.is_none());
                                completed = Some(id);
                            }
                            Ok(_) => {}
                            Err(e) => panic!("clean datagram refused: {e} at {iteration}"),
                        }
                    }
                }
                let id = completed.expect("clean datagram did not complete");
                assert_eq!(reasm.datagram(id), &data[..]);
                assert!(reasm.release(id));
                clean += 1;
            } else {
                // Garbage: random keys from a small set, random offsets,
                // lengths and flags, including absurd ones.
                let key = match rng.below(3) {
                    0 => key4(rng.below(3) as u16),
                    1 => key6(rng.below(3) as u32),
                    _ => key4(u16::MAX),
                };
                let offset = match rng.below(4) {
                    0 => usize::MAX - rng.below(64),
                    1 => rng.below(70_000),
                    _ => 8 * rng.below(300),
                };
                let len = rng.below(600);
                let junk = payload(len, rng.next() as u8);
                let frag = Fragment::new(key, offset, rng.below(2) == 0, &junk)
                    .with_quote(&junk[..len.min(100)]);
                if let Ok(Progress::Complete(id)) = reasm.add(frag, now) {
                    let got = reasm.datagram(id);
                    assert!(got.len() <= 2048);
                    assert_eq!(reasm.key(id), Some(key));
                    if rng.below(4) != 0 {
                        reasm.release(id);
                    }
                }
                if rng.below(50) == 0 {
                    reasm.expire(now, |_, quote| {
                        assert!(quote.is_none_or(|q| q.len() <= QUOTE_CAPACITY))
                    });
                }
            }
            assert!(reasm.in_use() <= 4);
            if let Some(deadline) = reasm.next_deadline() {
                assert!(deadline <= now + config.timeout);
            }
        }
        assert!(clean > 1000);
        let stats = reasm.stats();
        assert!(stats.completed >= clean);
        assert!(stats.bad_fragments > 0 && stats.too_large > 0);
    }
}
