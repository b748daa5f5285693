//! One ring of an AF_XDP socket, mapped from the kernel.
//!
//! A ring is an array of `size` entries (a power of two) and two free-
//! running `u32` indices: the producer writes entries and then advances
//! the producer index, the consumer reads entries and then advances the
//! consumer index. Entry `i` lives in slot `i & (size - 1)`. We produce on
//! the fill and TX rings and consume on the RX and completion rings; the
//! kernel does the opposite.
//!
//! The indices are shared memory that both sides access concurrently,
//! so they are read and written as atomics: the kernel publishes with
//! `smp_store_release` and reads with `smp_load_acquire`, and we do the
//! same (`Release` stores, `Acquire` loads). That orders each entry's
//! contents before the index that hands it over. Entries themselves are
//! plain memory, touched only by the side that currently owns them.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering, fence};
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;

use super::Mapping;

/// A mapped ring of `T` entries (`u64` UMEM addresses for the fill and
/// completion rings, `xdp_desc` for RX and TX).
pub(crate) struct Ring<T> {
    producer: NonNull<AtomicU32>,
    consumer: NonNull<AtomicU32>,
    flags: NonNull<AtomicU32>,
    entries: NonNull<T>,
    size: u32,
    /// Our view of the producer index: exact on a ring we produce on,
    /// refreshed from the kernel's on a ring we consume from.
    cached_producer: u32,
    /// Our view of the consumer index, the other way round.
    cached_consumer: u32,
    /// Where the pointers above point; unmapped when the ring drops.
    _map: Mapping,
    _entries: PhantomData<T>,
}

// SAFETY: the ring owns its mapping; its pointers are only dereferenced
// through `&mut self` (entries) or as atomics (indices, flags), which any
// thread may do. Moving the ring moves that ownership.
unsafe impl<T: Send> Send for Ring<T> {}

impl<T: Copy> Ring<T> {
    /// Maps the ring of `size` entries (a power of two) that the socket
    /// `fd` has at page offset `pgoff`, laid out as `offsets` says
    /// (`XDP_MMAP_OFFSETS`). The offsets are checked to lie inside the
    /// mapping and be aligned, so that no later access leaves it.
    pub(crate) fn map(
        fd: BorrowedFd<'_>,
        pgoff: u64,
        offsets: &libc::xdp_ring_offset,
        size: u32,
    ) -> Result<Ring<T>, i32> {
        let entry = core::mem::size_of::<T>();
        let as_usize = |offset: u64| usize::try_from(offset).map_err(|_| libc::EINVAL);
        let (producer, consumer, flags, entries) = (
            as_usize(offsets.producer)?,
            as_usize(offsets.consumer)?,
            as_usize(offsets.flags)?,
            as_usize(offsets.desc)?,
        );
        if !size.is_power_of_two() {
            return Err(libc::EINVAL);
        }
        let len = (size as usize)
            .checked_mul(entry)
            .and_then(|bytes| bytes.checked_add(entries))
            .ok_or(libc::EINVAL)?;
        let index_fits = |offset: usize| {
            offset.is_multiple_of(core::mem::align_of::<AtomicU32>())
                && offset.checked_add(4).is_some_and(|end| end <= entries)
        };
        let laid_out = index_fits(producer)
            && index_fits(consumer)
            && index_fits(flags)
            && entries.is_multiple_of(core::mem::align_of::<T>());
        if !laid_out {
            return Err(libc::EINVAL);
        }
        let map = Mapping::shared(fd, pgoff, len)?;
        let at = |offset: usize| {
            // SAFETY: every offset was checked to lie inside the `len`
            // bytes just mapped (the indices before the entries, the
            // entries ending at `len`), and the mapping is page-aligned,
            // so the checked alignments hold for the addresses too.
            NonNull::new(unsafe { map.as_ptr().add(offset) }).ok_or(libc::EFAULT)
        };
        let producer = at(producer)?.cast::<AtomicU32>();
        let consumer = at(consumer)?.cast::<AtomicU32>();
        let flags = at(flags)?.cast::<AtomicU32>();
        let entries = at(entries)?.cast::<T>();
        let mut ring = Ring {
            producer,
            consumer,
            flags,
            entries,
            size,
            cached_producer: 0,
            cached_consumer: 0,
            _map: map,
            _entries: PhantomData,
        };
        ring.cached_producer = ring.producer().load(Ordering::Acquire);
        ring.cached_consumer = ring.consumer().load(Ordering::Acquire);
        Ok(ring)
    }

    fn producer(&self) -> &AtomicU32 {
        // SAFETY: points into `self.map`, which lives as long as `self`;
        // aligned and in bounds (checked in `map`); an `AtomicU32` has
        // the layout of the kernel's `u32`, and both sides access it only
        // atomically (the kernel with READ_ONCE/acquire/release).
        unsafe { self.producer.as_ref() }
    }

    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: as for `producer`.
        unsafe { self.consumer.as_ref() }
    }

    fn flags(&self) -> &AtomicU32 {
        // SAFETY: as for `producer`; the kernel sets and clears the flag
        // bits with WRITE_ONCE.
        unsafe { self.flags.as_ref() }
    }

    /// How many entries the ring holds.
    pub(crate) fn size(&self) -> u32 {
        self.size
    }

    /// Whether the kernel asks to be woken up (`XDP_RING_NEED_WAKEUP`) to
    /// look at this ring: a `sendto` for TX, a `recvfrom` or `poll` for
    /// the fill ring.
    pub(crate) fn needs_wakeup(&self) -> bool {
        // The flag is read after our producer index was published: the
        // fence keeps the load from moving before that store, so that we
        // cannot miss a flag the kernel set after looking at the old
        // index.
        fence(Ordering::SeqCst);
        self.flags().load(Ordering::Relaxed) & libc::XDP_RING_NEED_WAKEUP != 0
    }

    // The producer side: the fill and TX rings.

    /// Free slots to produce into. The kernel's consumer index is read
    /// again only when the cached view shows no room. A consumer index
    /// ahead of ours (which a correct kernel never shows) reads as a
    /// full ring, so nothing is written.
    fn room(&mut self) -> u32 {
        let used = self.cached_producer.wrapping_sub(self.cached_consumer);
        if used < self.size {
            return self.size - used;
        }
        self.cached_consumer = self.consumer().load(Ordering::Acquire);
        self.size
            .saturating_sub(self.cached_producer.wrapping_sub(self.cached_consumer))
    }

    /// Writes `value` into the next slot; `false` if the ring is full.
    /// The kernel sees it after [`submit`](Self::submit).
    pub(crate) fn push(&mut self, value: T) -> bool {
        if self.room() == 0 {
            return false;
        }
        let slot = (self.cached_producer & (self.size - 1)) as usize;
        // SAFETY: `slot < size`, so the entry lies inside the mapped
        // array. The slot is between the kernel's consumer index and our
        // producer index: the kernel is done with it (it consumed it, with
        // acquire/release ordering) and does not read it before we
        // publish the new producer index.
        unsafe { self.entries.as_ptr().add(slot).write(value) };
        self.cached_producer = self.cached_producer.wrapping_add(1);
        true
    }

    /// Publishes the entries pushed so far to the kernel.
    pub(crate) fn submit(&mut self) {
        self.producer()
            .store(self.cached_producer, Ordering::Release);
    }

    /// Entries published and not yet taken by the kernel.
    pub(crate) fn unconsumed(&self) -> u32 {
        let consumer = self.consumer().load(Ordering::Acquire);
        self.producer()
            .load(Ordering::Relaxed)
            .wrapping_sub(consumer)
            .min(self.size)
    }

    // The consumer side: the RX and completion rings.

    /// Entries the kernel has published and we have not taken; reads the
    /// kernel's producer index.
    pub(crate) fn ready(&mut self) -> u32 {
        self.cached_producer = self.producer().load(Ordering::Acquire);
        let ready = self.cached_producer.wrapping_sub(self.cached_consumer);
        // A producer index more than a ring ahead (which a correct
        // kernel never shows) would make us read slots the kernel may be
        // writing: read nothing instead.
        if ready > self.size { 0 } else { ready }
    }

    /// Takes the next entry, if the kernel has published one. The kernel
    /// may reuse its slot after [`release`](Self::release).
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.cached_producer == self.cached_consumer && self.ready() == 0 {
            return None;
        }
        if self.cached_producer.wrapping_sub(self.cached_consumer) > self.size {
            return None;
        }
        let slot = (self.cached_consumer & (self.size - 1)) as usize;
        // SAFETY: `slot < size`, inside the mapped array. The entry lies
        // between our consumer index and the producer index the kernel
        // published with release ordering, which our acquire load saw:
        // the kernel has finished writing it and does not touch it again
        // until we publish a consumer index past it.
        let value = unsafe { self.entries.as_ptr().add(slot).read() };
        self.cached_consumer = self.cached_consumer.wrapping_add(1);
        Some(value)
    }

    /// Hands the slots of the entries taken so far back to the kernel.
    pub(crate) fn release(&mut self) {
        self.consumer()
            .store(self.cached_consumer, Ordering::Release);
    }
}
