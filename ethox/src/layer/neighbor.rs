//! A neighbor cache: protocol address to hardware address, in caller
//! storage. ARP (IPv4) and neighbor discovery (IPv6) share it.
//!
//! The cache decides *when* to ask, the protocol decides *how*:
//! [`NeighborCache::lookup`] answers with the hardware address, or tells
//! the caller to send a request now, or to wait because one was sent less
//! than [`NeighborConfig::request_interval`] ago (one request per second
//! per address by default). The packet that needed the address is not
//! sent; the upper layer tries again later, so an unresolvable neighbor
//! never clogs transmission.
//!
//! Entries are fresh for [`NeighborConfig::lifetime`] (one minute by
//! default) after the last confirmation. A stale entry is still used, and
//! the caller is told to revalidate it with a request; if no answer comes
//! within [`NeighborConfig::grace`] the entry is forgotten.
//!
//! Only lookups (the host's own need) may evict an entry, and only one
//! that is not in use: an entry unused for a request interval, or one
//! whose request went unanswered that long; the least recently used of
//! those first. When every entry is in use the lookup waits (a miss), so
//! that lookups for many new addresses (SYN-ACKs to spoofed addresses on
//! the link) can neither push out the neighbors the host is talking to
//! nor make it send a request for every packet. Unsolicited information
//! ([`NeighborCache::fill`]) updates existing entries or takes free
//! slots, so a flood of announcements can not push out anyone either.
//!
//! ```
//! use core::net::Ipv4Addr;
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig, Resolution};
//! use ethox::time::Instant;
//! use ethox::wire::EthernetAddress;
//!
//! let mut storage = [Neighbor::<Ipv4Addr>::EMPTY; 8];
//! let mut cache = NeighborCache::new(&mut storage[..], NeighborConfig::default());
//! let peer = Ipv4Addr::new(10, 0, 0, 2);
//! let t0 = Instant::from_secs(1);
//!
//! assert_eq!(cache.lookup(peer, t0), Resolution::Request);   // send an ARP request
//! assert_eq!(cache.lookup(peer, t0), Resolution::Pending);   // already asked
//! cache.fill(peer, EthernetAddress([2, 0, 0, 0, 0, 2]), t0); // the reply
//! assert_eq!(cache.lookup(peer, t0), Resolution::Known(EthernetAddress([2, 0, 0, 0, 0, 2])));
//! ```

use core::time::Duration;

use crate::managed::Slice;
use crate::time::Instant;
use crate::wire::EthernetAddress;

/// Timing of a neighbor cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborConfig {
    /// How long a confirmed entry is fresh.
    pub lifetime: Duration,
    /// The least time between two requests for one address.
    pub request_interval: Duration,
    /// How long a stale entry is still used while it is revalidated.
    pub grace: Duration,
}

impl Default for NeighborConfig {
    fn default() -> Self {
        NeighborConfig {
            lifetime: Duration::from_secs(60),
            request_interval: Duration::from_secs(1),
            grace: Duration::from_secs(3),
        }
    }
}

/// What to do about a destination's hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Send to this address.
    Known(EthernetAddress),
    /// Send to this address, and also send a request to revalidate it.
    Revalidate(EthernetAddress),
    /// Unknown: send a request now; the packet must wait.
    Request,
    /// Unknown, a request is already out: the packet must wait.
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    Incomplete {
        requested_at: Instant,
    },
    Known {
        hardware: EthernetAddress,
        confirmed_at: Instant,
        revalidated_at: Option<Instant>,
    },
}

/// One slot of a neighbor cache. Create storage with [`Neighbor::EMPTY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbor<A> {
    addr: Option<A>,
    state: State,
    last_used: Instant,
}

impl<A> Neighbor<A> {
    /// A free slot.
    pub const EMPTY: Neighbor<A> = Neighbor {
        addr: None,
        state: State::Empty,
        last_used: Instant::ZERO,
    };

    /// The protocol address, if the slot is in use.
    pub fn protocol_addr(&self) -> Option<&A> {
        self.addr.as_ref()
    }

    /// The hardware address, if known.
    pub fn hardware_addr(&self) -> Option<EthernetAddress> {
        match self.state {
            State::Known { hardware, .. } => Some(hardware),
            _ => None,
        }
    }
}

/// Counters of a neighbor cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NeighborStats {
    /// Lookups answered with a hardware address.
    pub hits: u64,
    /// Lookups that had to wait for resolution.
    pub misses: u64,
    /// Requests the cache asked for (new and revalidation).
    pub requests: u64,
    /// Entries pushed out to make room for a lookup.
    pub evictions: u64,
    /// Unsolicited entries not stored because the table was full.
    pub fill_refused: u64,
}

/// Maps protocol addresses `A` to hardware addresses.
#[derive(Debug)]
pub struct NeighborCache<'s, A> {
    slots: Slice<'s, Neighbor<A>>,
    config: NeighborConfig,
    stats: NeighborStats,
    /// Changes whenever a mapping is added, replaced or removed: a user
    /// of the table that remembers an answer checks it before reusing it.
    generation: u32,
}

impl<'s, A: Copy + Eq> NeighborCache<'s, A> {
    /// A cache over `storage`, whose length is the capacity.
    pub fn new(storage: impl Into<Slice<'s, Neighbor<A>>>, config: NeighborConfig) -> Self {
        let mut slots = storage.into();
        for slot in slots.iter_mut() {
            *slot = Neighbor::EMPTY;
        }
        NeighborCache {
            slots,
            config,
            stats: NeighborStats::default(),
            generation: 0,
        }
    }

    /// A number that changes whenever a mapping is added, replaced or
    /// removed (it wraps): equal values mean every answer
    /// [`lookup`](Self::lookup) gave in between still stands, until its
    /// entry ages ([`fresh_until`](Self::fresh_until)).
    #[inline]
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Until when `addr`'s mapping, if known, answers lookups without a
    /// revalidation, and the slot that holds it (for [`touch`](Self::touch)).
    pub fn fresh_until(&self, addr: A) -> Option<(usize, Instant)> {
        let index = self.find(addr)?;
        match self.slots[index].state {
            State::Known { confirmed_at, .. } => {
                Some((index, confirmed_at.checked_add(self.config.lifetime)?))
            }
            _ => None,
        }
    }

    /// Records a use of the fresh mapping in `slot` at `now`, as a
    /// [`lookup`](Self::lookup) answered from it would (its hit count and
    /// its recency for eviction), for a caller that reused an answer under
    /// an unchanged [`generation`](Self::generation).
    #[inline]
    pub fn touch(&mut self, slot: usize, now: Instant) {
        if let Some(slot) = self.slots.get_mut(slot) {
            slot.last_used = now;
            self.stats.hits += 1;
        }
    }

    /// The counters.
    pub fn stats(&self) -> NeighborStats {
        self.stats
    }

    /// The timing in force.
    pub fn config(&self) -> NeighborConfig {
        self.config
    }

    fn find(&self, addr: A) -> Option<usize> {
        self.slots.iter().position(|s| s.addr == Some(addr))
    }

    /// Decides how to reach `addr` at `now`.
    pub fn lookup(&mut self, addr: A, now: Instant) -> Resolution {
        let config = self.config;
        let Some(index) = self.find(addr) else {
            return self.start_resolution(addr, now);
        };
        let slot = &mut self.slots[index];
        slot.last_used = now;
        match slot.state {
            State::Known {
                hardware,
                confirmed_at,
                revalidated_at,
            } => {
                let age = now.saturating_duration_since(confirmed_at);
                if age < config.lifetime {
                    self.stats.hits += 1;
                    return Resolution::Known(hardware);
                }
                if age >= config.lifetime.saturating_add(config.grace) {
                    // Stale and unanswered: forget the mapping and start over.
                    slot.state = State::Incomplete { requested_at: now };
                    self.generation = self.generation.wrapping_add(1);
                    self.stats.misses += 1;
                    self.stats.requests += 1;
                    return Resolution::Request;
                }
                self.stats.hits += 1;
                let due = revalidated_at
                    .is_none_or(|at| now.saturating_duration_since(at) >= config.request_interval);
                if due {
                    slot.state = State::Known {
                        hardware,
                        confirmed_at,
                        revalidated_at: Some(now),
                    };
                    self.stats.requests += 1;
                    Resolution::Revalidate(hardware)
                } else {
                    Resolution::Known(hardware)
                }
            }
            State::Incomplete { requested_at } => {
                self.stats.misses += 1;
                if now.saturating_duration_since(requested_at) >= config.request_interval {
                    slot.state = State::Incomplete { requested_at: now };
                    self.stats.requests += 1;
                    Resolution::Request
                } else {
                    Resolution::Pending
                }
            }
            State::Empty => self.start_resolution(addr, now),
        }
    }

    fn start_resolution(&mut self, addr: A, now: Instant) -> Resolution {
        let index = match self.free_slot() {
            Some(index) => index,
            None => {
                let Some(index) = self.evictable(now) else {
                    // Every entry is in use (or there is no storage):
                    // asking anyway would let the answer go nowhere, so
                    // wait.
                    self.stats.misses += 1;
                    return Resolution::Pending;
                };
                self.stats.evictions += 1;
                index
            }
        };
        self.slots[index] = Neighbor {
            addr: Some(addr),
            state: State::Incomplete { requested_at: now },
            last_used: now,
        };
        self.generation = self.generation.wrapping_add(1);
        self.stats.misses += 1;
        self.stats.requests += 1;
        Resolution::Request
    }

    fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(|s| s.addr.is_none())
    }

    /// The least recently used entry that is not in use at `now`: not
    /// looked up for a request interval, or still unresolved a request
    /// interval after its request.
    fn evictable(&self, now: Instant) -> Option<usize> {
        let interval = self.config.request_interval;
        let idle = |at: Instant| now.saturating_duration_since(at) >= interval;
        (0..self.slots.len())
            .filter(|&i| {
                let slot = &self.slots[i];
                match slot.state {
                    State::Incomplete { requested_at } => idle(requested_at),
                    _ => idle(slot.last_used),
                }
            })
            .min_by_key(|&i| self.slots[i].last_used)
    }

    /// Records that `addr` is at `hardware` (a reply, an announcement, a
    /// request from that neighbor). Updates an existing entry or takes a
    /// free slot; never evicts. Returns whether the mapping was stored.
    pub fn fill(&mut self, addr: A, hardware: EthernetAddress, now: Instant) -> bool {
        let index = match self.find(addr).or_else(|| self.free_slot()) {
            Some(index) => index,
            None => {
                self.stats.fill_refused += 1;
                return false;
            }
        };
        let slot = &mut self.slots[index];
        if slot.addr.is_none() {
            slot.last_used = now;
        }
        slot.addr = Some(addr);
        slot.state = State::Known {
            hardware,
            confirmed_at: now,
            revalidated_at: None,
        };
        self.generation = self.generation.wrapping_add(1);
        true
    }

    /// Updates `addr` only if it is already in the table (RFC 826: merge
    /// the sender of any ARP packet we already know).
    pub fn refresh(&mut self, addr: A, hardware: EthernetAddress, now: Instant) -> bool {
        if self.find(addr).is_none() {
            return false;
        }
        self.fill(addr, hardware, now)
    }

    /// The hardware address of `addr` if it is known, without side effects.
    pub fn peek(&self, addr: A) -> Option<EthernetAddress> {
        self.find(addr).and_then(|i| self.slots[i].hardware_addr())
    }

    /// Forgets `addr`.
    pub fn remove(&mut self, addr: A) {
        if let Some(index) = self.find(addr) {
            self.slots[index] = Neighbor::EMPTY;
            self.generation = self.generation.wrapping_add(1);
        }
    }

    /// Forgets everything.
    pub fn flush(&mut self) {
        for slot in self.slots.iter_mut() {
            *slot = Neighbor::EMPTY;
        }
        self.generation = self.generation.wrapping_add(1);
    }

    /// The entries in use.
    pub fn iter(&self) -> impl Iterator<Item = &Neighbor<A>> {
        self.slots.iter().filter(|s| s.addr.is_some())
    }

    /// When the next request may go out for an address still being
    /// resolved, so an event loop knows when retrying is useful.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                State::Incomplete { requested_at } => {
                    Some(requested_at + self.config.request_interval)
                }
                _ => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, n)
    }

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    #[test]
    fn requests_at_most_once_per_interval() {
        let mut storage = [Neighbor::EMPTY; 4];
        let mut cache = NeighborCache::new(&mut storage, NeighborConfig::default());
        assert_eq!(cache.lookup(ip(2), secs(10)), Resolution::Request);
        assert_eq!(
            cache.lookup(ip(2), secs(10) + Duration::from_millis(999)),
            Resolution::Pending
        );
        assert_eq!(cache.next_deadline(), Some(secs(11)));
        assert_eq!(cache.lookup(ip(2), secs(11)), Resolution::Request);
        assert_eq!(cache.stats().requests, 2);
    }

    #[test]
    fn entries_go_stale_revalidate_and_expire() {
        let mut storage = [Neighbor::EMPTY; 4];
        let mut cache = NeighborCache::new(&mut storage, NeighborConfig::default());
        cache.lookup(ip(2), secs(0));
        cache.fill(ip(2), MAC2, secs(0));
        assert_eq!(cache.lookup(ip(2), secs(59)), Resolution::Known(MAC2));
        assert_eq!(cache.lookup(ip(2), secs(60)), Resolution::Revalidate(MAC2));
        // One revalidation request per interval.
        assert_eq!(cache.lookup(ip(2), secs(60)), Resolution::Known(MAC2));
        assert_eq!(cache.lookup(ip(2), secs(61)), Resolution::Revalidate(MAC2));
        // No answer within the grace period: forgotten.
        assert_eq!(cache.lookup(ip(2), secs(63)), Resolution::Request);
        assert_eq!(cache.peek(ip(2)), None);
        // An answer during revalidation makes it fresh again.
        cache.fill(ip(2), MAC1, secs(64));
        assert_eq!(cache.lookup(ip(2), secs(100)), Resolution::Known(MAC1));
    }

    #[test]
    fn lookups_evict_lru_but_fills_never_evict() {
        let mut storage = [Neighbor::EMPTY; 2];
        let mut cache = NeighborCache::new(&mut storage, NeighborConfig::default());
        cache.lookup(ip(1), secs(1));
        cache.fill(ip(1), MAC1, secs(1));
        cache.lookup(ip(2), secs(2));
        cache.fill(ip(2), MAC2, secs(2));
        // A flood of announcements cannot push anyone out.
        assert!(!cache.fill(ip(3), MAC1, secs(3)));
        assert_eq!(cache.stats().fill_refused, 1);
        assert_eq!(cache.peek(ip(1)), Some(MAC1));
        // Use 1, then need 3: 2 is least recently used and goes.
        cache.lookup(ip(1), secs(4));
        assert_eq!(cache.lookup(ip(3), secs(5)), Resolution::Request);
        assert_eq!(cache.peek(ip(2)), None);
        assert_eq!(cache.peek(ip(1)), Some(MAC1));
        assert_eq!(cache.stats().evictions, 1);
    }

    #[test]
    fn refresh_only_touches_known_neighbors() {
        let mut storage = [Neighbor::EMPTY; 2];
        let mut cache = NeighborCache::new(&mut storage, NeighborConfig::default());
        assert!(!cache.refresh(ip(1), MAC1, secs(1)));
        assert_eq!(cache.iter().count(), 0);
        cache.lookup(ip(1), secs(1));
        assert!(cache.refresh(ip(1), MAC1, secs(1)));
        assert_eq!(cache.peek(ip(1)), Some(MAC1));
        cache.remove(ip(1));
        assert_eq!(cache.iter().count(), 0);
    }

    #[test]
    fn empty_storage_never_panics() {
        let mut cache = NeighborCache::<Ipv4Addr>::new(&mut [][..], NeighborConfig::default());
        assert_eq!(cache.lookup(ip(1), secs(1)), Resolution::Pending);
        assert!(!cache.fill(ip(1), MAC1, secs(1)));
        assert_eq!(cache.next_deadline(), None);
    }
}
