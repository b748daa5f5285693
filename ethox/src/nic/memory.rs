//! An in-memory link: NICs whose wire is a memory copy.
//!
//! Each [`MemoryNic`] owns a pool of `N` frame buffers carved from storage
//! the caller hands in (an array, a borrowed slice, or a `Vec` with
//! `alloc`). A buffer is always in exactly one place: free, waiting in the
//! receive queue, waiting in the transmit queue, or lent to the stack. The
//! stack reads and writes the buffers in place; answering a received frame
//! moves the same buffer to the transmit queue, as a real NIC would.
//!
//! [`MemoryLink`] is the wire: it moves transmitted frames from one NIC's
//! transmit queue into free buffers of the others, copying the bytes once,
//! and counts a frame that finds no free buffer as missed by the receiver.
//!
//! Time is the caller's: [`MemoryNic::set_time`] sets the timestamp that
//! every lent packet reports, so tests choose time explicitly.

use crate::nic::{
    Capabilities, Device, Error, Handle, Info, Packet, Payload, PayloadMut, Recv, Result, Send,
};
use crate::time::Instant;

/// The smallest frame capacity a memory NIC accepts: an Ethernet frame
/// of the 60-byte minimum.
pub const MIN_FRAME_CAPACITY: usize = 60;

/// Frame counters of one memory NIC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MemoryNicStats {
    /// Frames lent to the stack by `rx`.
    pub rx_frames: u64,
    /// Frames queued for transmission (sent from `tx` or answered in `rx`).
    pub tx_frames: u64,
    /// Frames that arrived from the link while no buffer was free.
    pub rx_missed: u64,
    /// Frames that arrived from the link larger than this NIC's buffers.
    pub rx_oversize: u64,
}

/// A fixed-capacity FIFO of buffer indices (shared with the system NICs,
/// whose buffer pools have the same shape).
#[derive(Debug, Clone)]
pub(crate) struct IndexQueue<const N: usize> {
    slots: [u16; N],
    head: usize,
    len: usize,
}

impl<const N: usize> IndexQueue<N> {
    pub(crate) const fn new() -> Self {
        IndexQueue {
            slots: [0; N],
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, index: u16) {
        // Every buffer is in exactly one queue and each queue holds N, so
        // this never overflows; the check keeps that an invariant rather
        // than an assumption.
        if self.len < N {
            self.slots[(self.head + self.len) % N] = index;
            self.len += 1;
        }
    }

    pub(crate) fn pop(&mut self) -> Option<u16> {
        if self.len == 0 {
            return None;
        }
        let index = self.slots[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(index)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The `nth` index from the front, without taking it.
    #[cfg_attr(not(feature = "sys"), allow(dead_code))]
    pub(crate) fn peek(&self, nth: usize) -> Option<u16> {
        if nth < self.len {
            Some(self.slots[(self.head + nth) % N])
        } else {
            None
        }
    }

    fn swap_front(&mut self) {
        if self.len >= 2 {
            self.slots.swap(self.head, (self.head + 1) % N);
        }
    }
}

/// A fixed-capacity stack of free buffer indices (shared with the system
/// NICs' buffer pools).
///
/// Last freed, first reused: the buffer taken next is the one whose bytes
/// were touched last, still in the CPU's caches, where a queue would cycle
/// through every buffer of the pool. A request-response exchange then runs
/// in one or two buffers, not in all of them.
#[derive(Debug, Clone)]
pub(crate) struct IndexStack<const N: usize> {
    slots: [u16; N],
    len: usize,
}

impl<const N: usize> IndexStack<N> {
    /// A stack holding every index below `N` (at most 65536 of them), the
    /// lowest on top: a pool whose buffers are all free.
    pub(crate) fn full() -> Self {
        let mut stack = IndexStack {
            slots: [0; N],
            len: 0,
        };
        for index in (0..N.min(usize::from(u16::MAX) + 1)).rev() {
            stack.push(index as u16);
        }
        stack
    }

    #[inline]
    pub(crate) fn push(&mut self, index: u16) {
        // As for `IndexQueue::push`: each buffer is in one place, so this
        // never overflows; the check keeps that an invariant.
        if let Some(slot) = self.slots.get_mut(self.len) {
            *slot = index;
            self.len += 1;
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<u16> {
        self.len = self.len.checked_sub(1)?;
        self.slots.get(self.len).copied()
    }

    #[cfg_attr(not(feature = "sys"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// One end of an in-memory link with `N` frame buffers.
#[derive(Debug, Clone)]
pub struct MemoryNic<S, const N: usize> {
    storage: S,
    frame_capacity: usize,
    lens: [u16; N],
    free: IndexStack<N>,
    rx_queue: IndexQueue<N>,
    tx_queue: IndexQueue<N>,
    now: Instant,
    capabilities: Capabilities,
    stats: MemoryNicStats,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> MemoryNic<S, N> {
    /// A NIC with `N` buffers of `frame_capacity` bytes each, carved from
    /// `storage`, which must hold at least `N * frame_capacity` bytes.
    ///
    /// The frame capacity is the largest Ethernet frame (without FCS) the
    /// NIC carries: an IP MTU of 1500 needs 1514.
    pub fn new(storage: S, frame_capacity: usize) -> Result<Self> {
        let enough = N
            .checked_mul(frame_capacity)
            .is_some_and(|needed| storage.as_ref().len() >= needed);
        if N == 0
            || N > usize::from(u16::MAX)
            || !enough
            || !(MIN_FRAME_CAPACITY..=usize::from(u16::MAX)).contains(&frame_capacity)
        {
            return Err(Error::BadConfiguration);
        }
        let free = IndexStack::full();
        Ok(MemoryNic {
            storage,
            frame_capacity,
            lens: [0; N],
            free,
            rx_queue: IndexQueue::new(),
            tx_queue: IndexQueue::new(),
            now: Instant::ZERO,
            capabilities: Capabilities::SOFTWARE,
            stats: MemoryNicStats::default(),
        })
    }

    /// A NIC whose frames carry an IP MTU of `mtu` behind an Ethernet
    /// header.
    pub fn with_mtu(storage: S, mtu: usize) -> Result<Self> {
        Self::new(
            storage,
            mtu.saturating_add(crate::wire::ethernet::HEADER_LEN),
        )
    }

    /// Sets the timestamp lent packets report from now on.
    pub fn set_time(&mut self, now: Instant) {
        self.now = now;
    }

    /// The timestamp lent packets report.
    pub fn time(&self) -> Instant {
        self.now
    }

    /// Sets what this NIC claims to do for the stack.
    pub fn set_capabilities(&mut self, capabilities: Capabilities) {
        self.capabilities = capabilities;
    }

    /// The largest frame a buffer holds.
    pub fn frame_capacity(&self) -> usize {
        self.frame_capacity
    }

    /// Frames waiting to be lent by `rx`.
    pub fn rx_pending(&self) -> usize {
        self.rx_queue.len()
    }

    /// Frames waiting for the link to carry them.
    pub fn tx_pending(&self) -> usize {
        self.tx_queue.len()
    }

    /// The NIC's counters.
    pub fn stats(&self) -> MemoryNicStats {
        self.stats
    }

    /// Puts a frame into the receive queue as if it came from the link.
    ///
    /// Returns `false` (and counts a miss or an oversize frame) when it
    /// cannot be taken, as the link would.
    pub fn inject(&mut self, frame: &[u8]) -> bool {
        if frame.len() > self.frame_capacity {
            self.stats.rx_oversize += 1;
            return false;
        }
        let Some(index) = self.free.pop() else {
            self.stats.rx_missed += 1;
            return false;
        };
        let range = self.slot_range(index, frame.len());
        self.storage.as_mut()[range].copy_from_slice(frame);
        self.lens[usize::from(index)] = frame.len() as u16;
        self.rx_queue.push(index);
        true
    }

    /// Takes the next transmitted frame off the transmit queue and hands
    /// its bytes to `f`, as the link would.
    pub fn drain_one<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        self.drain_one_mut(|frame| f(frame))
    }

    /// [`drain_one`](Self::drain_one), with the bytes writable (a faulty
    /// wire changes them in passing).
    pub fn drain_one_mut<T>(&mut self, f: impl FnOnce(&mut [u8]) -> T) -> Option<T> {
        let index = self.tx_queue.pop()?;
        let len = usize::from(self.lens[usize::from(index)]);
        let range = self.slot_range(index, len);
        let result = f(&mut self.storage.as_mut()[range]);
        self.free.push(index);
        Some(result)
    }

    /// Swaps the two frames at the front of the transmit queue.
    pub(crate) fn swap_front_tx(&mut self) {
        self.tx_queue.swap_front();
    }

    fn slot_range(&self, index: u16, len: usize) -> core::ops::Range<usize> {
        let start = usize::from(index) * self.frame_capacity;
        start..start + len.min(self.frame_capacity)
    }

    fn info(&self) -> Info {
        Info {
            timestamp: self.now,
            capabilities: self.capabilities,
        }
    }

    /// Lends buffer `index` with `len` bytes, then files it by whether it
    /// was queued. Returns whether it was.
    fn lend(&mut self, index: u16, len: usize, lend: impl FnOnce(Packet<'_, '_, Self>)) -> bool {
        let info = self.info();
        let range = self.slot_range(index, self.frame_capacity);
        let mut handle = MemoryHandle::new(info);
        let mut frame = MemoryFrame::new(&mut self.storage.as_mut()[range], len);
        lend(Packet {
            handle: &mut handle,
            payload: &mut frame,
        });
        let len = frame.len();
        self.lens[usize::from(index)] = len as u16;
        if handle.queued {
            self.tx_queue.push(index);
            self.stats.tx_frames += 1;
        } else {
            self.free.push(index);
        }
        handle.queued
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Device for MemoryNic<S, N> {
    type Handle<'d> = MemoryHandle;
    type Payload<'d> = MemoryFrame<'d>;

    fn rx<R: Recv<Self>>(&mut self, max: usize, mut receiver: R) -> Result<usize> {
        let mut count = 0;
        while count < max {
            let Some(index) = self.rx_queue.pop() else {
                break;
            };
            let len = usize::from(self.lens[usize::from(index)]);
            self.stats.rx_frames += 1;
            self.lend(index, len, |packet| receiver.receive(packet));
            count += 1;
        }
        Ok(count)
    }

    fn tx<T: Send<Self>>(&mut self, max: usize, mut sender: T) -> Result<usize> {
        let mut count = 0;
        while count < max {
            let Some(index) = self.free.pop() else {
                break;
            };
            if !self.lend(index, 0, |packet| sender.send(packet)) {
                break;
            }
            count += 1;
        }
        Ok(count)
    }
}

/// The handle of a packet lent by a [`MemoryNic`] (and by the system NICs
/// of `nic::sys`, whose buffers have the same shape).
#[derive(Debug)]
pub struct MemoryHandle {
    queued: bool,
    info: Info,
    segment_size: u16,
}

impl MemoryHandle {
    /// A handle not yet queued, reporting `info` (public for the backends in
    /// other crates, whose buffers have the same shape).
    pub fn new(info: Info) -> Self {
        MemoryHandle {
            queued: false,
            info,
            segment_size: 0,
        }
    }

    /// The segment size the stack asked for
    /// ([`Handle::set_segment_size`]); 0 if none.
    pub fn segment_size(&self) -> u16 {
        self.segment_size
    }
}

impl Handle for MemoryHandle {
    fn queue(&mut self) -> Result<()> {
        // The transmit queue has room for every buffer, so queueing cannot
        // fail here.
        self.queued = true;
        Ok(())
    }

    fn is_queued(&self) -> bool {
        self.queued
    }

    fn info(&self) -> Info {
        self.info
    }

    fn set_segment_size(&mut self, size: u16) {
        self.segment_size = size;
    }
}

/// A frame buffer lent by a [`MemoryNic`] (and by the system NICs of
/// `nic::sys`).
#[derive(Debug)]
pub struct MemoryFrame<'d> {
    bytes: &'d mut [u8],
    len: usize,
}

impl<'d> MemoryFrame<'d> {
    /// A frame of `len` bytes (at most `bytes.len()`) in `bytes`, the
    /// whole buffer (public for backends in other crates).
    pub fn new(bytes: &'d mut [u8], len: usize) -> Self {
        let len = len.min(bytes.len());
        MemoryFrame { bytes, len }
    }

    /// The frame's length now.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Payload for MemoryFrame<'_> {
    fn payload(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl PayloadMut for MemoryFrame<'_> {
    fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..self.len]
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }

    fn resize(&mut self, len: usize) -> Result<()> {
        if len > self.bytes.len() {
            return Err(Error::TooLarge);
        }
        self.len = len;
        Ok(())
    }
}

/// The wire between memory NICs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryLink;

impl MemoryLink {
    /// Moves every frame `from` transmitted into `to`'s receive queue and
    /// returns how many arrived. Frames that find no room are counted by
    /// `to` and dropped, as on a real link.
    pub fn transfer<S1, S2, const N1: usize, const N2: usize>(
        from: &mut MemoryNic<S1, N1>,
        to: &mut MemoryNic<S2, N2>,
    ) -> usize
    where
        S1: AsRef<[u8]> + AsMut<[u8]>,
        S2: AsRef<[u8]> + AsMut<[u8]>,
    {
        let mut arrived = 0;
        while let Some(ok) = from.drain_one(|frame| to.inject(frame)) {
            arrived += usize::from(ok);
        }
        arrived
    }

    /// Carries frames both ways between two NICs until both transmit
    /// queues are empty; returns how many frames arrived in all.
    pub fn exchange<S1, S2, const N1: usize, const N2: usize>(
        a: &mut MemoryNic<S1, N1>,
        b: &mut MemoryNic<S2, N2>,
    ) -> usize
    where
        S1: AsRef<[u8]> + AsMut<[u8]>,
        S2: AsRef<[u8]> + AsMut<[u8]>,
    {
        Self::transfer(a, b) + Self::transfer(b, a)
    }

    /// A shared segment: every frame any NIC transmitted reaches every
    /// other NIC (a hub). Returns how many deliveries succeeded.
    pub fn broadcast<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
        nics: &mut [&mut MemoryNic<S, N>],
    ) -> usize {
        let mut arrived = 0;
        for sender in 0..nics.len() {
            let (before, rest) = nics.split_at_mut(sender);
            let Some((from, after)) = rest.split_first_mut() else {
                continue;
            };
            while let Some(n) = from.drain_one(|frame| {
                before
                    .iter_mut()
                    .chain(after.iter_mut())
                    .map(|to| usize::from(to.inject(frame)))
                    .sum::<usize>()
            }) {
                arrived += n;
            }
        }
        arrived
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fill(u8, usize);
    impl<D: Device + ?Sized> Send<D> for Fill {
        fn send(&mut self, packet: Packet<'_, '_, D>) {
            if self.1 == 0 {
                return;
            }
            self.1 -= 1;
            packet.payload.resize(64).unwrap();
            packet.payload.payload_mut().fill(self.0);
            packet.handle.queue().unwrap();
        }
    }

    #[derive(Default)]
    struct Collect {
        frames: usize,
        last: [u8; 32],
        stamp: Instant,
        echo: bool,
    }
    impl<D: Device + ?Sized> Recv<D> for Collect {
        fn receive(&mut self, packet: Packet<'_, '_, D>) {
            self.frames += 1;
            self.stamp = packet.info().timestamp;
            let bytes = packet.payload.payload();
            let n = bytes.len().min(32);
            self.last[..n].copy_from_slice(&bytes[..n]);
            if self.echo {
                packet.payload.payload_mut()[0] = 0xee;
                packet.handle.queue().unwrap();
            }
        }
    }

    type Nic = MemoryNic<[u8; 4 * 128], 4>;

    fn nic() -> Nic {
        MemoryNic::new([0; 4 * 128], 128).unwrap()
    }

    #[test]
    fn rejects_bad_configuration() {
        assert_eq!(
            MemoryNic::<_, 4>::new([0u8; 100], 60).err(),
            Some(Error::BadConfiguration)
        );
        assert_eq!(
            MemoryNic::<_, 1>::new([0u8; 100], 59).err(),
            Some(Error::BadConfiguration)
        );
        assert_eq!(
            MemoryNic::<_, 0>::new([0u8; 100], 60).err(),
            Some(Error::BadConfiguration)
        );
    }

    #[test]
    fn frames_cross_the_link_with_the_receivers_time() {
        let (mut a, mut b) = (nic(), nic());
        assert_eq!(a.tx(8, Fill(0x42, 2)).unwrap(), 2);
        assert_eq!(a.tx_pending(), 2);
        assert_eq!(MemoryLink::transfer(&mut a, &mut b), 2);
        b.set_time(Instant::from_millis(7));
        let mut got = Collect::default();
        assert_eq!(b.rx(1, &mut got).unwrap(), 1);
        assert_eq!(b.rx(8, &mut got).unwrap(), 1);
        assert_eq!(got.frames, 2);
        assert_eq!(got.last, [0x42; 32]);
        assert_eq!(got.stamp, Instant::from_millis(7));
        assert_eq!(b.rx(8, &mut got).unwrap(), 0);
    }

    #[test]
    fn answering_in_place_reuses_the_buffer() {
        let (mut a, mut b) = (nic(), nic());
        a.tx(8, Fill(1, 1)).unwrap();
        MemoryLink::transfer(&mut a, &mut b);
        let mut echo = Collect {
            echo: true,
            ..Default::default()
        };
        b.rx(8, &mut echo).unwrap();
        assert_eq!(b.tx_pending(), 1);
        MemoryLink::transfer(&mut b, &mut a);
        let mut got = Collect::default();
        a.rx(8, &mut got).unwrap();
        assert_eq!(got.last[0], 0xee);
        assert_eq!(got.last[1], 1);
        assert_eq!(b.stats().tx_frames, 1);
    }

    #[test]
    fn a_full_receiver_counts_misses() {
        let (mut a, mut b) = (nic(), nic());
        a.tx(8, Fill(1, 4)).unwrap();
        MemoryLink::transfer(&mut a, &mut b);
        a.tx(8, Fill(2, 3)).unwrap();
        assert_eq!(MemoryLink::transfer(&mut a, &mut b), 0);
        assert_eq!(b.stats().rx_missed, 3);
        // The sender's buffers came back to its pool.
        assert_eq!(a.tx(8, Fill(3, 8)).unwrap(), 4);
    }

    #[test]
    fn resize_beyond_capacity_fails() {
        struct Big;
        impl<D: Device + ?Sized> Send<D> for Big {
            fn send(&mut self, packet: Packet<'_, '_, D>) {
                assert_eq!(packet.payload.capacity(), 128);
                assert_eq!(packet.payload.resize(129), Err(Error::TooLarge));
            }
        }
        let mut a = nic();
        assert_eq!(a.tx(8, Big).unwrap(), 0);
        assert_eq!(a.tx_pending(), 0);
    }

    #[test]
    fn oversize_injection_is_counted() {
        let mut a = nic();
        assert!(!a.inject(&[0; 129]));
        assert_eq!(a.stats().rx_oversize, 1);
        assert!(a.inject(&[0; 60]));
        assert_eq!(a.rx_pending(), 1);
    }

    #[test]
    fn broadcast_reaches_every_other_nic() {
        let (mut a, mut b, mut c) = (nic(), nic(), nic());
        a.tx(8, Fill(9, 1)).unwrap();
        c.tx(8, Fill(8, 1)).unwrap();
        assert_eq!(MemoryLink::broadcast(&mut [&mut a, &mut b, &mut c]), 4);
        assert_eq!((a.rx_pending(), b.rx_pending(), c.rx_pending()), (1, 2, 1));
    }
}
