//! A byte FIFO over caller storage that wraps around.
//!
//! A TCP connection's send and receive buffers are queues of bytes with a
//! fixed capacity (RFC 9293 section 3.3.1: the send window is bounded by
//! what the sender keeps for retransmission, the receive window by the
//! space left to hold data). [`RingBuffer`] is that queue over a
//! [`Slice`]: bytes are appended at the end and consumed at the front,
//! and the storage is reused circularly, so nothing ever moves.
//!
//! Besides the plain queue operations the ring can:
//! * read anywhere in the queued bytes without consuming them
//!   ([`read_at`](RingBuffer::read_at)), which is how a sender retransmits;
//! * write into the free space past the end without queueing the bytes
//!   yet ([`write_at`](RingBuffer::write_at), then
//!   [`commit`](RingBuffer::commit)), which is how a receiver holds
//!   segments that arrive ahead of a gap (RFC 9293 section 3.10.7.4);
//! * lend its first contiguous queued or free chunk
//!   ([`readable`](RingBuffer::readable),
//!   [`writable`](RingBuffer::writable)) for copy-free use.
//!
//! Every copy is at most two `copy_from_slice` calls: one up to the end of
//! the storage, one from its start. No operation panics: counts larger
//! than what is there are clamped, and a ring over no storage takes and
//! gives nothing.
//!
//! ```
//! use ethox::storage::ring::RingBuffer;
//!
//! let mut storage = [0u8; 8];
//! let mut ring = RingBuffer::new(&mut storage[..]);
//! assert_eq!(ring.enqueue(b"hello"), 5);
//! let mut word = [0u8; 3];
//! assert_eq!(ring.dequeue(&mut word), 3);
//! assert_eq!(&word, b"hel");
//! // Six bytes are free, wrapping around the end of the storage.
//! assert_eq!(ring.enqueue(b"world!!"), 6);
//! let mut all = [0u8; 8];
//! assert_eq!(ring.read_at(0, &mut all), 8);
//! assert_eq!(&all, b"loworld!");
//! ```

use crate::managed::Slice;

/// A byte FIFO over caller storage; see the [module documentation](self).
#[derive(Debug)]
pub struct RingBuffer<'a> {
    storage: Slice<'a, u8>,
    /// Index of the first queued byte; below the capacity (0 if none).
    read: usize,
    /// Number of queued bytes; at most the capacity.
    len: usize,
}

impl<'a> RingBuffer<'a> {
    /// An empty ring over `storage`; its capacity is the storage's length.
    pub fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        RingBuffer {
            storage: storage.into(),
            read: 0,
            len: 0,
        }
    }

    /// The most bytes the ring holds.
    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// The number of bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no byte can be queued.
    pub fn is_full(&self) -> bool {
        self.len == self.capacity()
    }

    /// The number of bytes that can be queued: the free space.
    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// The same as [`free`](Self::free): what a receiver can advertise.
    pub fn window(&self) -> usize {
        self.free()
    }

    /// Drops every queued byte.
    pub fn clear(&mut self) {
        self.read = 0;
        self.len = 0;
    }

    /// The storage index `distance` bytes after the index `from`, where
    /// `from` is below the capacity and `distance` at most the capacity.
    fn index_after(&self, from: usize, distance: usize) -> usize {
        // The sum stays below twice the capacity (a slice holds at most
        // isize::MAX bytes): no overflow, one subtraction at most.
        let sum = from + distance;
        if sum >= self.capacity() {
            sum - self.capacity()
        } else {
            sum
        }
    }

    /// The storage index of the first free byte.
    fn write_index(&self) -> usize {
        self.index_after(self.read, self.len)
    }

    /// Appends as much of `src` as fits and returns how many bytes.
    pub fn enqueue(&mut self, src: &[u8]) -> usize {
        let n = self.write_at(0, src);
        self.commit(n);
        n
    }

    /// Moves as many queued bytes as fit into `dst` and returns how many.
    pub fn dequeue(&mut self, dst: &mut [u8]) -> usize {
        let n = self.read_at(0, dst);
        self.consume(n);
        n
    }

    /// Copies queued bytes starting `offset` bytes after the first into
    /// `dst`, as many as fit and are queued, without consuming them, and
    /// returns how many.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        if offset >= self.len {
            return 0;
        }
        let n = dst.len().min(self.len - offset);
        let start = self.index_after(self.read, offset);
        let (head, tail) = self.split_at_wrap(start, n);
        let (dst_head, dst_tail) = dst[..n].split_at_mut(head.len());
        dst_head.copy_from_slice(head);
        dst_tail.copy_from_slice(tail);
        n
    }

    /// Copies `src` into the free space starting `offset` bytes past the
    /// last queued byte, as much as fits, and returns how many bytes. The
    /// bytes are not queued until [`commit`](Self::commit)ted.
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> usize {
        let free = self.free();
        if offset >= free {
            return 0;
        }
        let n = src.len().min(free - offset);
        let start = self.index_after(self.write_index(), offset);
        let (head, tail) = self.split_at_wrap_mut(start, n);
        let (src_head, src_tail) = src[..n].split_at(head.len());
        head.copy_from_slice(src_head);
        tail.copy_from_slice(src_tail);
        n
    }

    /// Queues the next `n` bytes of free space as they are (written by
    /// [`write_at`](Self::write_at) or through
    /// [`writable`](Self::writable)). Clamped to the free space.
    pub fn commit(&mut self, n: usize) {
        self.len += n.min(self.free());
    }

    /// Drops the first `n` queued bytes. Clamped to the queued bytes.
    ///
    /// The free space past the end keeps its position and content (a
    /// receiver may hold bytes there), so even an emptied ring does not
    /// rewind to the start of its storage; [`clear`](Self::clear) does.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        if n > 0 {
            self.read = self.index_after(self.read, n);
            self.len -= n;
        }
    }

    /// The first contiguous chunk of queued bytes: all of them unless they
    /// wrap around the end of the storage.
    pub fn readable(&self) -> &[u8] {
        let end = self.capacity().min(self.read + self.len);
        &self.storage[self.read..end]
    }

    /// The first contiguous chunk of free space past the last queued byte.
    /// Bytes written there are queued by [`commit`](Self::commit).
    pub fn writable(&mut self) -> &mut [u8] {
        let start = self.write_index();
        let end = if self.is_full() {
            start
        } else if start >= self.read {
            // The queued bytes do not wrap: free space runs to the end.
            self.capacity()
        } else {
            self.read
        };
        &mut self.storage[start..end]
    }

    /// The `n` bytes (at most the capacity) starting at storage index
    /// `start`, as the part before the end of the storage and the part
    /// wrapped to its start.
    fn split_at_wrap(&self, start: usize, n: usize) -> (&[u8], &[u8]) {
        let (wrapped, rest) = self.storage.split_at(start);
        let head = n.min(rest.len());
        (&rest[..head], &wrapped[..n - head])
    }

    /// [`split_at_wrap`](Self::split_at_wrap), mutable.
    fn split_at_wrap_mut(&mut self, start: usize, n: usize) -> (&mut [u8], &mut [u8]) {
        let (wrapped, rest) = self.storage.split_at_mut(start);
        let head = n.min(rest.len());
        (&mut rest[..head], &mut wrapped[..n - head])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All queued bytes, in order.
    fn contents<'s>(ring: &RingBuffer<'_>, out: &'s mut [u8]) -> &'s [u8] {
        let n = ring.read_at(0, out);
        &out[..n]
    }

    #[test]
    fn fifo_with_wrap() {
        let mut storage = [0u8; 5];
        let mut ring = RingBuffer::new(&mut storage);
        assert_eq!(ring.enqueue(b"abcd"), 4);
        let mut out = [0u8; 3];
        assert_eq!(ring.dequeue(&mut out), 3);
        assert_eq!(&out, b"abc");
        // 1 queued at index 3; 4 free: index 4, then 0..3.
        assert_eq!(ring.enqueue(b"efghij"), 4);
        assert!(ring.is_full());
        assert_eq!(ring.enqueue(b"x"), 0);
        let mut all = [0u8; 8];
        assert_eq!(contents(&ring, &mut all), b"defgh");
        let mut out = [0u8; 8];
        assert_eq!(ring.dequeue(&mut out), 5);
        assert_eq!(&out[..5], b"defgh");
        assert!(ring.is_empty());
    }

    #[test]
    fn read_at_offsets_and_wrap() {
        let mut storage = [0u8; 6];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue(b"0123");
        ring.consume(3);
        ring.enqueue(b"45678"); // queued "345678" from index 3, wrapping
        let mut out = [0u8; 4];
        assert_eq!(ring.read_at(1, &mut out), 4);
        assert_eq!(&out, b"4567");
        assert_eq!(ring.read_at(4, &mut out), 2);
        assert_eq!(&out[..2], b"78");
        assert_eq!(ring.read_at(6, &mut out), 0);
        assert_eq!(ring.read_at(usize::MAX, &mut out), 0);
        // Reading does not consume.
        assert_eq!(ring.len(), 6);
    }

    #[test]
    fn write_at_then_commit() {
        let mut storage = [0u8; 8];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue(b"ab");
        ring.consume(2);
        ring.enqueue(b"cd"); // queued at 2..4, free 4..8 then 0..2
        // Out of order: bytes 3..6 past the end, wrapping at index 8.
        assert_eq!(ring.write_at(3, b"HIJ"), 3);
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.write_at(0, b"EFG"), 3);
        ring.commit(6);
        let mut all = [0u8; 8];
        assert_eq!(contents(&ring, &mut all), b"cdEFGHIJ");
        // Beyond the free space nothing is written.
        assert_eq!(ring.write_at(0, b"z"), 0);
        ring.consume(1);
        assert_eq!(ring.write_at(1, b"z"), 0);
        assert_eq!(ring.write_at(0, b"yz"), 1);
        assert_eq!(ring.write_at(usize::MAX, b"z"), 0);
    }

    #[test]
    fn commit_and_consume_clamp() {
        let mut storage = [0u8; 4];
        let mut ring = RingBuffer::new(&mut storage);
        ring.commit(usize::MAX);
        assert_eq!(ring.len(), 4);
        ring.consume(usize::MAX);
        assert_eq!(ring.len(), 0);
        ring.consume(1);
        assert_eq!(ring.len(), 0);
    }

    #[test]
    fn consume_keeps_free_space_in_place() {
        let mut storage = [0u8; 4];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue(b"ab");
        ring.write_at(1, b"d");
        ring.consume(2);
        // The held byte is still one past the (empty) queue's end.
        ring.write_at(0, b"c");
        ring.commit(2);
        let mut all = [0u8; 4];
        assert_eq!(contents(&ring, &mut all), b"cd");
    }

    #[test]
    fn zero_copy_chunks() {
        let mut storage = [0u8; 6];
        let mut ring = RingBuffer::new(&mut storage);
        assert_eq!(ring.writable().len(), 6);
        ring.writable()[..4].copy_from_slice(b"abcd");
        ring.commit(4);
        assert_eq!(ring.readable(), b"abcd");
        assert_eq!(ring.writable().len(), 2);
        ring.consume(3);
        // Queued "d" at 3; free 4..6 then 0..3.
        assert_eq!(ring.writable().len(), 2);
        ring.enqueue(b"efgh");
        // Queued bytes wrap: the first chunk ends with the storage.
        assert_eq!(ring.readable(), b"def");
        // Free space is 2..3, between the wrapped end and the start.
        assert_eq!(ring.writable().len(), 1);
        ring.enqueue(b"i");
        assert!(ring.is_full());
        assert_eq!(ring.writable().len(), 0);
        ring.consume(3);
        assert_eq!(ring.readable(), b"ghi");
    }

    #[test]
    fn full_ring_positions() {
        let mut storage = [0u8; 3];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue(b"a");
        ring.consume(1);
        ring.enqueue(b"bcd");
        assert!(ring.is_full());
        assert_eq!(ring.readable(), b"bc");
        assert_eq!(ring.free(), 0);
        assert_eq!(ring.window(), 0);
        let mut all = [0u8; 3];
        assert_eq!(contents(&ring, &mut all), b"bcd");
    }

    #[test]
    fn empty_storage() {
        let mut ring = RingBuffer::new(&mut [][..]);
        assert_eq!(ring.capacity(), 0);
        assert!(ring.is_empty() && ring.is_full());
        assert_eq!(ring.enqueue(b"a"), 0);
        assert_eq!(ring.write_at(0, b"a"), 0);
        ring.commit(1);
        ring.consume(1);
        assert_eq!(ring.dequeue(&mut [0u8; 1]), 0);
        assert!(ring.readable().is_empty());
        assert!(ring.writable().is_empty());
    }

    #[test]
    fn clear_rewinds() {
        let mut storage = [0u8; 4];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue(b"abc");
        ring.consume(2);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.writable().len(), 4);
    }

    /// Compares every operation against a plain queue over many wraps.
    #[test]
    fn matches_queue_model() {
        let mut storage = [0u8; 7];
        let mut ring = RingBuffer::new(&mut storage);
        let mut model = [0u8; 7];
        let mut model_len = 0;
        let mut next_byte = 0u8;
        let mut rng = 7u32;
        for _ in 0..2000 {
            rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let amount = (rng >> 16) as usize % 9;
            if rng & 1 == 0 {
                let mut src = [0u8; 9];
                for byte in &mut src[..amount] {
                    *byte = next_byte;
                    next_byte = next_byte.wrapping_add(1);
                }
                let n = ring.enqueue(&src[..amount]);
                assert_eq!(n, amount.min(7 - model_len));
                model[model_len..model_len + n].copy_from_slice(&src[..n]);
                model_len += n;
                // What was not taken is generated again next time.
                next_byte = next_byte.wrapping_sub((amount - n) as u8);
            } else {
                let mut dst = [0u8; 9];
                let n = ring.dequeue(&mut dst[..amount]);
                assert_eq!(n, amount.min(model_len));
                assert_eq!(&dst[..n], &model[..n]);
                model.copy_within(n..model_len, 0);
                model_len -= n;
            }
            let mut all = [0u8; 7];
            assert_eq!(contents(&ring, &mut all), &model[..model_len]);
            assert!(model[..model_len].starts_with(ring.readable()));
        }
    }
}
