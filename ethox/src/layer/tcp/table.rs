//! The connection table: find a connection by its addresses and ports in
//! expected constant time, in storage the caller hands in.
//!
//! Every TCP segment names its connection by the four-tuple of RFC 9293
//! section 3.3.2 (local and remote address and port). A host with many
//! connections cannot scan for it, so [`ConnectionTable`] hashes the tuple.
//! The hash is SipHash-1-3 keyed with a secret the caller chooses: the
//! remote address and port are the peer's to pick, and with an unkeyed
//! hash a peer could choose tuples that all land in one bucket and turn
//! every lookup into a scan of the whole table (hash flooding). Without
//! the key a peer cannot tell which tuples collide.
//!
//! The table needs no storage beyond the caller's slice of [`Slot`]s:
//! collisions are chained through the slots themselves (each slot holds
//! the head of the bucket with its index and the link to the next entry of
//! its own chain), and the free slots form a list through the same links.
//! There are as many buckets as slots, so chains stay short on average.
//!
//! An entry is named by a [`Handle`]: its slot index and a generation
//! counter. The handle stays valid while the entry lives; removing the
//! entry bumps the slot's generation, so an old handle never finds the
//! next entry of the same slot (until that one slot has been reused 2^32
//! times, when the counter wraps).
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use ethox::layer::tcp::table::{ConnectionTable, FourTuple, Slot, TableError};
//!
//! let mut storage = [Slot::empty(), Slot::empty()];
//! let mut table = ConnectionTable::new(&mut storage[..], [7; 16]);
//! let tuple = FourTuple {
//!     local: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     local_port: 80,
//!     remote: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)),
//!     remote_port: 49152,
//! };
//! let handle = table.insert(tuple, "state").unwrap();
//! assert_eq!(table.find(&tuple), Some(handle));
//! assert_eq!(table.insert(tuple, "again"), Err(TableError::Exists(handle)));
//! assert_eq!(table.remove(handle), Some("state"));
//! // The handle of a removed entry never matches again.
//! assert_eq!(table.get(handle), None);
//! ```

use core::fmt;
use core::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::managed::Slice;
use crate::wire::IpAddr;

/// A connection's addresses and ports, seen from this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourTuple {
    /// This host's address.
    pub local: IpAddr,
    /// This host's port.
    pub local_port: u16,
    /// The peer's address.
    pub remote: IpAddr,
    /// The peer's port.
    pub remote_port: u16,
}

impl FourTuple {
    /// Feeds the tuple to a keyed hash, in the one encoding that every
    /// keyed hash of the TCP layer uses (the table, initial sequence
    /// numbers, SYN cookies).
    ///
    /// Each address is preceded by its family (4 or 6) and written in
    /// network byte order, then its port, so no two tuples give the same
    /// bytes: in particular an IPv4 address and its IPv4-mapped IPv6 form
    /// (`::ffff:a.b.c.d`) hash differently, as they are different
    /// connections on the wire.
    ///
    /// The bytes go in with one `write`: a streaming hash such as SipHash
    /// gives the same value as for six small writes, and each write costs
    /// a pass over the hasher's tail buffer (this runs for every segment).
    pub fn write_to<H: Hasher>(&self, state: &mut H) {
        let mut bytes = [0u8; 2 * ENDPOINT_MAX];
        let mut len = encode_endpoint(&mut bytes, 0, self.local, self.local_port);
        len = encode_endpoint(&mut bytes, len, self.remote, self.remote_port);
        state.write(bytes.get(..len).unwrap_or(&bytes));
    }
}

/// The longest encoded endpoint: family, IPv6 address, port.
const ENDPOINT_MAX: usize = 1 + 16 + 2;

/// Encodes family, address and port into `out` from `at` on; returns the
/// end. `out` has room for two endpoints of the longest kind.
fn encode_endpoint(out: &mut [u8; 2 * ENDPOINT_MAX], at: usize, addr: IpAddr, port: u16) -> usize {
    let (family, octets): (u8, &[u8]) = match &addr {
        IpAddr::V4(v4) => (4, &v4.octets()[..]),
        IpAddr::V6(v6) => (6, &v6.octets()[..]),
    };
    let fields = [&[family][..], octets, &port.to_be_bytes()[..]];
    let mut end = at;
    for field in fields {
        let start = end;
        end += field.len();
        if let Some(place) = out.get_mut(start..end) {
            place.copy_from_slice(field);
        }
    }
    end
}

/// The link value that ends a chain or the free list. Slot indices are
/// therefore below `u32::MAX`, which caps the capacity.
const NIL: u32 = u32::MAX;

/// The largest number of slots a table uses; storage beyond it is ignored.
pub const MAX_CAPACITY: usize = NIL as usize;

/// One place in a [`ConnectionTable`]'s storage.
///
/// Create storage with [`Slot::empty`]: `[const { Slot::empty() }; N]`
/// for any value type, or `vec![Slot::empty(); n]` for a `Clone` one. The
/// table overwrites every slot when it is created, so storage that held a
/// previous table can be handed in again.
#[derive(Debug, Clone, Copy)]
pub struct Slot<T> {
    entry: Option<Entry<T>>,
    /// Bumped (wrapping) whenever the entry leaves, so handles of the old
    /// entry stop matching.
    generation: u32,
    /// The first entry of the bucket whose number is this slot's index.
    head: u32,
    /// The next entry of this entry's bucket chain when in use; the next
    /// free slot when free.
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct Entry<T> {
    tuple: FourTuple,
    value: T,
}

impl<T> Slot<T> {
    /// A slot that holds nothing.
    pub const fn empty() -> Slot<T> {
        Slot {
            entry: None,
            generation: 0,
            head: NIL,
            next: NIL,
        }
    }

    /// The handle of this slot's entry, if it holds one; `index` is the
    /// slot's own.
    fn handle(&self, index: u32) -> Option<Handle> {
        self.entry.as_ref().map(|_| Handle {
            index,
            generation: self.generation,
        })
    }
}

/// Names one entry of a [`ConnectionTable`] while it lives.
///
/// The order is by slot index and then generation; it carries no meaning
/// beyond letting handles be sorted and kept in ordered sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle {
    /// The slot the entry lives in.
    pub index: u32,
    /// The slot's generation when the entry was inserted.
    pub generation: u32,
}

/// Why [`ConnectionTable::insert`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableError {
    /// Every slot holds an entry.
    Full,
    /// An entry with the same tuple exists; this is its handle.
    Exists(Handle),
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Full => f.write_str("connection table full"),
            TableError::Exists(_) => f.write_str("connection exists"),
        }
    }
}

impl core::error::Error for TableError {}

/// Connections found by [`FourTuple`], in caller storage. See the
/// [module documentation](self).
pub struct ConnectionTable<'a, T> {
    slots: Slice<'a, Slot<T>>,
    /// How many slots are in use: the storage length capped at
    /// [`MAX_CAPACITY`].
    capacity: u32,
    len: u32,
    free: u32,
    key: [u8; 16],
}

impl<'a, T> ConnectionTable<'a, T> {
    /// An empty table over `storage`, hashing with `secret`.
    ///
    /// `secret` should be random and unknown to peers (see the module
    /// documentation). Whatever `storage` held is dropped.
    pub fn new(storage: impl Into<Slice<'a, Slot<T>>>, secret: [u8; 16]) -> Self {
        let mut slots = storage.into();
        let capacity = slots.len().min(MAX_CAPACITY);
        let mut next_free = 0u32;
        for slot in slots.iter_mut().take(capacity) {
            next_free = next_free.wrapping_add(1);
            slot.entry = None;
            slot.head = NIL;
            // The generation is kept: handles into an earlier table over
            // the same storage then do not match either.
            slot.next = if (next_free as usize) < capacity {
                next_free
            } else {
                NIL
            };
        }
        ConnectionTable {
            slots,
            capacity: capacity as u32,
            len: 0,
            free: if capacity > 0 { 0 } else { NIL },
            key: secret,
        }
    }

    /// How many entries the table can hold.
    pub fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every slot holds an entry.
    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// Adds `value` under `tuple`.
    ///
    /// Fails with [`TableError::Exists`] if `tuple` has an entry already
    /// (the value is dropped and the old entry kept), and with
    /// [`TableError::Full`] if no slot is free.
    pub fn insert(&mut self, tuple: FourTuple, value: T) -> Result<Handle, TableError> {
        if let Some(existing) = self.find(&tuple) {
            return Err(TableError::Exists(existing));
        }
        let bucket = self.bucket(&tuple).ok_or(TableError::Full)?;
        let index = self.free;
        let chain = self.slot(bucket).map_or(NIL, |s| s.head);
        let slot = self.slot_mut(index).ok_or(TableError::Full)?;
        let next_free = slot.next;
        slot.next = chain;
        slot.entry = Some(Entry { tuple, value });
        let handle = Handle {
            index,
            generation: slot.generation,
        };
        self.free = next_free;
        if let Some(head) = self.slot_mut(bucket) {
            head.head = index;
        }
        self.len = self.len.wrapping_add(1);
        Ok(handle)
    }

    /// The handle of the entry for `tuple`, if there is one.
    pub fn find(&self, tuple: &FourTuple) -> Option<Handle> {
        let mut index = self.slot(self.bucket(tuple)?)?.head;
        while let Some(slot) = self.slot(index) {
            let entry = slot.entry.as_ref()?;
            if entry.tuple == *tuple {
                return slot.handle(index);
            }
            index = slot.next;
        }
        None
    }

    /// The value of a live entry.
    pub fn get(&self, handle: Handle) -> Option<&T> {
        self.live(handle).map(|entry| &entry.value)
    }

    /// The value of a live entry, to change it.
    pub fn get_mut(&mut self, handle: Handle) -> Option<&mut T> {
        let slot = self.slot_mut(handle.index)?;
        if slot.generation != handle.generation {
            return None;
        }
        slot.entry.as_mut().map(|entry| &mut entry.value)
    }

    /// The tuple of a live entry.
    pub fn tuple(&self, handle: Handle) -> Option<FourTuple> {
        self.tuple_ref(handle).copied()
    }

    /// [`tuple`](Self::tuple) without the copy, for the endpoint's paths
    /// that only look at it (once or twice for every segment).
    pub(crate) fn tuple_ref(&self, handle: Handle) -> Option<&FourTuple> {
        self.live(handle).map(|entry| &entry.tuple)
    }

    /// Takes a live entry out of the table and returns its value. The
    /// handle, and every copy of it, stops matching.
    pub fn remove(&mut self, handle: Handle) -> Option<T> {
        let tuple = self.live(handle)?.tuple;
        let bucket = self.bucket(&tuple)?;
        let index = handle.index;
        let after = self.slot(index)?.next;
        // Unlink from the chain: either the bucket head points at the
        // entry, or some earlier entry of the chain does.
        let first = self.slot(bucket)?.head;
        if first == index {
            self.slot_mut(bucket)?.head = after;
        } else {
            let mut prev = first;
            loop {
                let slot = self.slot_mut(prev)?;
                if slot.next == index {
                    slot.next = after;
                    break;
                }
                prev = slot.next;
            }
        }
        let free = self.free;
        let slot = self.slot_mut(index)?;
        let entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.next = free;
        self.free = index;
        self.len = self.len.wrapping_sub(1);
        Some(entry.value)
    }

    /// The handle of the entry in slot `index`, if it holds one.
    ///
    /// Indices run from 0 to [`capacity`](Self::capacity); walking them in
    /// turn visits every entry, e.g. to service connections round-robin
    /// from where the last walk stopped.
    pub fn handle_at(&self, index: usize) -> Option<Handle> {
        let index = u32::try_from(index).ok()?;
        self.slot(index)?.handle(index)
    }

    /// Every entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &FourTuple, &T)> + '_ {
        self.slots
            .iter()
            .take(self.capacity())
            .zip(0u32..)
            .filter_map(|(slot, index)| {
                let handle = slot.handle(index)?;
                let entry = slot.entry.as_ref()?;
                Some((handle, &entry.tuple, &entry.value))
            })
    }

    /// Every entry, in slot order, with its value to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Handle, &FourTuple, &mut T)> + '_ {
        let capacity = self.capacity();
        self.slots
            .iter_mut()
            .take(capacity)
            .zip(0u32..)
            .filter_map(|(slot, index)| {
                let handle = slot.handle(index)?;
                let entry = slot.entry.as_mut()?;
                Some((handle, &entry.tuple, &mut entry.value))
            })
    }

    /// The bucket of `tuple`: the keyed hash scaled to the capacity by a
    /// multiply (Lemire's range reduction), which needs no division.
    /// `None` for a table without slots.
    fn bucket(&self, tuple: &FourTuple) -> Option<u32> {
        if self.capacity == 0 {
            return None;
        }
        let mut hasher = SipHasher13::new_with_key(&self.key);
        tuple.write_to(&mut hasher);
        let scaled = (u128::from(hasher.finish()) * u128::from(self.capacity)) >> 64;
        // Below `capacity`, so it fits.
        u32::try_from(scaled).ok()
    }

    fn live(&self, handle: Handle) -> Option<&Entry<T>> {
        let slot = self.slot(handle.index)?;
        if slot.generation != handle.generation {
            return None;
        }
        slot.entry.as_ref()
    }

    /// The slot at `index`, `None` for [`NIL`] or past the capacity.
    fn slot(&self, index: u32) -> Option<&Slot<T>> {
        if index >= self.capacity {
            return None;
        }
        self.slots.get(index as usize)
    }

    fn slot_mut(&mut self, index: u32) -> Option<&mut Slot<T>> {
        if index >= self.capacity {
            return None;
        }
        self.slots.get_mut(index as usize)
    }
}

impl<T> fmt::Debug for ConnectionTable<'_, T> {
    /// Sizes only: the key must not end up in a log, and the entries have
    /// [`iter`](ConnectionTable::iter).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionTable")
            .field("capacity", &self.capacity)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Also the fixtures of the other TCP modules' tests.
#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::wire::{Ipv4Addr, Ipv6Addr};
    use std::vec;
    use std::vec::Vec;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    /// An IPv4 connection to local port 80.
    pub(in crate::layer::tcp) fn v4(remote_port: u16) -> FourTuple {
        FourTuple {
            local: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            local_port: 80,
            remote: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            remote_port,
        }
    }

    /// An IPv6 connection to local port 443.
    pub(in crate::layer::tcp) fn v6(remote_port: u16) -> FourTuple {
        FourTuple {
            local: IpAddr::V6(Ipv6Addr::LOCALHOST),
            local_port: 443,
            remote: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            remote_port,
        }
    }

    /// Records every byte written, and how many writes brought them.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: usize,
    }

    impl Hasher for Recorder {
        fn finish(&self) -> u64 {
            0
        }

        fn write(&mut self, bytes: &[u8]) {
            self.bytes.extend_from_slice(bytes);
            self.writes += 1;
        }
    }

    #[test]
    fn write_to_feeds_family_address_port_of_each_end_in_one_write() {
        let mut recorder = Recorder::default();
        v4(0xabcd).write_to(&mut recorder);
        assert_eq!(recorder.writes, 1);
        assert_eq!(
            recorder.bytes,
            [4, 10, 0, 0, 1, 0, 80, 4, 10, 0, 0, 2, 0xab, 0xcd]
        );
        let mut recorder = Recorder::default();
        v6(1).write_to(&mut recorder);
        let mut expected = vec![6];
        expected.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        expected.extend_from_slice(&[1, 187, 6]);
        expected.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
        expected.extend_from_slice(&[0, 1]);
        assert_eq!(recorder.bytes, expected);
        // SipHash streams: one write hashes as the bytes written in pieces.
        let mut whole = SipHasher13::new_with_key(&KEY);
        v6(1).write_to(&mut whole);
        let mut pieces = SipHasher13::new_with_key(&KEY);
        for chunk in expected.chunks(3) {
            pieces.write(chunk);
        }
        assert_eq!(whole.finish(), pieces.finish());
    }

    /// `tuple` with both addresses in their IPv4-mapped IPv6 form.
    pub(in crate::layer::tcp) fn mapped(tuple: FourTuple) -> FourTuple {
        let map = |addr| match addr {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            v6 => v6,
        };
        FourTuple {
            local: map(tuple.local),
            remote: map(tuple.remote),
            ..tuple
        }
    }

    /// Storage for a test table, leaked so that it needs no `alloc`
    /// feature (the no-std unit test run uses it too).
    fn storage(n: usize) -> &'static mut [Slot<u32>] {
        vec![Slot::empty(); n].leak()
    }

    /// A full table of `n` slots, value `p` under `tuple(p)` for each
    /// port `p` below `n`, and the handles in port order.
    fn filled(n: u16, tuple: fn(u16) -> FourTuple) -> (ConnectionTable<'static, u32>, Vec<Handle>) {
        let mut table = ConnectionTable::new(storage(n.into()), KEY);
        let handles = (0..n)
            .map(|p| table.insert(tuple(p), u32::from(p)).unwrap())
            .collect();
        (table, handles)
    }

    /// The length of the longest bucket chain, from the table's links.
    fn longest_chain<T>(table: &ConnectionTable<'_, T>) -> usize {
        (0..table.capacity)
            .map(|bucket| {
                let mut len = 0;
                let mut index = table.slot(bucket).map_or(NIL, |s| s.head);
                while let Some(slot) = table.slot(index) {
                    len += 1;
                    index = slot.next;
                }
                len
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn fill_to_capacity_then_full() {
        let (mut table, handles) = filled(64, v4);
        assert!(table.is_full());
        assert_eq!(table.len(), 64);
        assert_eq!(table.insert(v4(1000), 0), Err(TableError::Full));
        // A duplicate is reported as such even when the table is full.
        assert_eq!(table.insert(v4(5), 0), Err(TableError::Exists(handles[5])));
        for (port, handle) in (0..64u16).zip(&handles) {
            assert_eq!(table.find(&v4(port)), Some(*handle));
            assert_eq!(table.get(*handle), Some(&u32::from(port)));
            assert_eq!(table.tuple(*handle), Some(v4(port)));
        }
        assert_eq!(table.find(&v4(64)), None);
    }

    #[test]
    fn remove_and_reinsert() {
        let (mut table, handles) = filled(8, v4);
        assert_eq!(table.remove(handles[3]), Some(3));
        assert_eq!(table.len(), 7);
        assert!(!table.is_full());
        assert_eq!(table.find(&v4(3)), None);
        let again = table.insert(v4(100), 100).unwrap();
        // The freed slot is reused with a new generation.
        assert_eq!(again.index, handles[3].index);
        assert_ne!(again, handles[3]);
        assert_eq!(table.get(handles[3]), None);
        assert_eq!(table.get(again), Some(&100));
        for p in (0..8u16).filter(|&p| p != 3) {
            assert_eq!(table.find(&v4(p)), Some(handles[usize::from(p)]));
        }
    }

    #[test]
    fn stale_handle_rejected_everywhere() {
        let mut table = ConnectionTable::new(storage(2), KEY);
        let old = table.insert(v4(1), 1).unwrap();
        assert_eq!(table.remove(old), Some(1));
        let new = table.insert(v4(1), 2).unwrap();
        assert_eq!(table.get(old), None);
        assert_eq!(table.get_mut(old), None);
        assert_eq!(table.tuple(old), None);
        assert_eq!(table.remove(old), None);
        assert_eq!(table.get(new), Some(&2));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn hostile_handles_do_not_panic() {
        let mut table = ConnectionTable::new(storage(4), KEY);
        table.insert(v4(1), 1).unwrap();
        for index in [4, 5, u32::MAX - 1, u32::MAX] {
            let handle = Handle {
                index,
                generation: 0,
            };
            assert_eq!(table.get(handle), None);
            assert_eq!(table.remove(handle), None);
        }
        assert_eq!(table.handle_at(usize::MAX), None);
        assert_eq!(table.handle_at(4), None);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn generation_wraps() {
        let slots = storage(1);
        slots[0].generation = u32::MAX;
        let mut table = ConnectionTable::new(slots, KEY);
        let first = table.insert(v4(1), 1).unwrap();
        assert_eq!(first.generation, u32::MAX);
        table.remove(first);
        let second = table.insert(v4(1), 2).unwrap();
        assert_eq!(second.generation, 0);
        assert_eq!(table.get(first), None);
    }

    #[test]
    fn chains_survive_any_removal_order() {
        // 64 entries in 64 buckets: some buckets hold chains for certain
        // (the chance of no collision is 64!/64^64, about 1e-26).
        let (mut table, handles) = filled(64, v6);
        assert!(longest_chain(&table) >= 2);
        // Remove in a scrambled order, checking every survivor each time:
        // this unlinks heads, middles and tails of chains.
        let order: Vec<usize> = (0..64).map(|i| (i * 37) % 64).collect();
        let mut removed = [false; 64];
        for &i in &order {
            assert_eq!(table.remove(handles[i]), Some(i as u32));
            removed[i] = true;
            for (j, handle) in handles.iter().enumerate() {
                let expect = (!removed[j]).then_some(*handle);
                assert_eq!(table.find(&v6(j as u16)), expect);
            }
        }
        assert!(table.is_empty());
        assert_eq!(longest_chain(&table), 0);
    }

    #[test]
    fn all_in_one_bucket() {
        // Pick tuples that all hash to bucket 0 of an 8-slot table (about
        // one port in 8 does), so the whole table is one chain.
        let mut table = ConnectionTable::new(storage(8), KEY);
        let ports: Vec<u16> = (0..u16::MAX)
            .filter(|&p| table.bucket(&v4(p)) == Some(0))
            .take(8)
            .collect();
        assert_eq!(ports.len(), 8);
        let handles: Vec<_> = ports
            .iter()
            .map(|&p| table.insert(v4(p), u32::from(p)).unwrap())
            .collect();
        assert_eq!(longest_chain(&table), 8);
        // Head of the chain (inserted last), middle, tail (inserted first).
        for i in [7, 3, 0] {
            assert_eq!(table.remove(handles[i]), Some(u32::from(ports[i])));
            assert_eq!(table.find(&v4(ports[i])), None);
        }
        assert_eq!(longest_chain(&table), 5);
        for i in [1, 2, 4, 5, 6] {
            assert_eq!(table.find(&v4(ports[i])), Some(handles[i]));
        }
        for i in [0, 3, 7] {
            let h = table.insert(v4(ports[i]), 0).unwrap();
            assert_eq!(table.find(&v4(ports[i])), Some(h));
        }
        assert_eq!(longest_chain(&table), 8);
        assert!(table.is_full());
    }

    #[test]
    fn one_bucket_chain() {
        // With one slot everything collides; with two, three entries of
        // a full-then-drained table must still chain correctly.
        let mut table = ConnectionTable::new(storage(1), KEY);
        let h = table.insert(v4(1), 1).unwrap();
        assert_eq!(table.insert(v4(2), 2), Err(TableError::Full));
        assert_eq!(table.remove(h), Some(1));
        let h2 = table.insert(v4(2), 2).unwrap();
        assert_eq!(table.find(&v4(2)), Some(h2));
        assert_eq!(table.find(&v4(1)), None);

        let mut table = ConnectionTable::new(storage(3), KEY);
        for round in 0..50u16 {
            let hs: Vec<_> = (0..3)
                .map(|i| table.insert(v4(round * 3 + i), 0).unwrap())
                .collect();
            assert!(table.is_full());
            // Remove the middle one first, then the rest.
            for i in [1, 0, 2] {
                assert!(table.remove(hs[i]).is_some());
            }
            assert!(table.is_empty());
        }
    }

    #[test]
    fn zero_capacity() {
        let mut table: ConnectionTable<'_, u32> = ConnectionTable::new(storage(0), KEY);
        assert_eq!(table.capacity(), 0);
        assert!(table.is_full());
        assert!(table.is_empty());
        assert_eq!(table.insert(v4(1), 1), Err(TableError::Full));
        assert_eq!(table.find(&v4(1)), None);
        assert_eq!(table.handle_at(0), None);
        assert_eq!(table.iter().count(), 0);
        let handle = Handle {
            index: 0,
            generation: 0,
        };
        assert_eq!(table.remove(handle), None);
    }

    #[test]
    fn v4_and_mapped_v6_are_different_tuples() {
        let plain = v4(9);
        let mapped = mapped(plain);
        assert_ne!(mapped, plain);
        let mut table = ConnectionTable::new(storage(4), KEY);
        let a = table.insert(plain, 1).unwrap();
        let b = table.insert(mapped, 2).unwrap();
        assert_ne!(a, b);
        assert_eq!(table.find(&mapped), Some(b));
        assert_eq!(table.find(&plain), Some(a));
    }

    #[test]
    fn iteration_and_handle_at() {
        let mut table = ConnectionTable::new(storage(8), KEY);
        let a = table.insert(v4(1), 10).unwrap();
        let b = table.insert(v6(2), 20).unwrap();
        for (_, _, value) in table.iter_mut() {
            *value += 1;
        }
        let seen: Vec<_> = table.iter().map(|(h, t, v)| (h, *t, *v)).collect();
        assert_eq!(seen.len(), 2);
        assert!(seen.contains(&(a, v4(1), 11)));
        assert!(seen.contains(&(b, v6(2), 21)));
        let walked: Vec<_> = (0..table.capacity())
            .filter_map(|i| table.handle_at(i))
            .collect();
        assert_eq!(walked.len(), 2);
        assert!(walked.contains(&a) && walked.contains(&b));
        *table.get_mut(a).unwrap() = 99;
        assert_eq!(table.get(a), Some(&99));
    }

    #[test]
    fn new_clears_reused_storage() {
        let slots = storage(4);
        let old = {
            let mut table = ConnectionTable::new(&mut slots[..], KEY);
            table.insert(v4(1), 1).unwrap()
        };
        let table = ConnectionTable::new(&mut slots[..], KEY);
        assert!(table.is_empty());
        assert_eq!(table.find(&v4(1)), None);
        assert_eq!(table.get(old), None);
    }

    #[test]
    fn key_changes_buckets() {
        // Same tuples, other key: the layout differs, so a peer that
        // learned one table's collisions learns nothing about another's.
        let layout = |key: [u8; 16]| -> Vec<Option<u32>> {
            let table: ConnectionTable<'_, u32> = ConnectionTable::new(storage(64), key);
            (0..32u16).map(|p| table.bucket(&v4(p))).collect()
        };
        assert_ne!(layout(KEY), layout([0; 16]));
    }
}
