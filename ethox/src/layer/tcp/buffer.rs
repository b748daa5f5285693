//! Where a connection's data lives: the application's buffers.
//!
//! A TCP connection in ethox holds sequence state only. The bytes it sends
//! come from a [`SendBuffer`], which can produce any byte that was written
//! and not yet acknowledged, as often as asked (a retransmission reads the
//! same range again). The bytes it receives go into a [`RecvBuffer`],
//! straight from the frame, and the buffer decides whether it keeps data
//! that arrives out of order.
//!
//! Offsets are relative, never sequence numbers: a send buffer counts from
//! the oldest unacknowledged byte, a receive buffer from its in-order edge
//! (the next byte the peer must send). The connection translates.
//!
//! # Ready-made buffers
//!
//! All of them live in storage the caller hands in, or in none.
//!
//! | Send                  | Receive               | For                                  |
//! |-----------------------|-----------------------|--------------------------------------|
//! | [`RingSendBuffer`]    | [`RingRecvBuffer`]    | streams: a ring, nothing ever moves; receive holds out-of-order data |
//! | [`SliceSendBuffer`]   | [`SliceRecvBuffer`]   | a fixed slice, data kept contiguous (moved to the front when room is needed) |
//! | [`MessageSendBuffer`] | [`MessageRecvBuffer`] | a one-shot message: send these bytes, receive into this slice |
//! | [`Source`]            | [`Sink`]              | tests and benchmarks: a generated stream, a counting and hashing drain |
//!
//! [`RingRecvBuffer`] keeps segments that arrive ahead of a gap in the
//! ring's free space (RFC 9293 section 3.10.7.4 allows it) and reports them
//! most recent first, as SACK blocks want them (RFC 2018 section 4). The
//! other receive buffers take bytes in order only: the peer retransmits
//! the rest.
//!
//! [`Source`] and [`Sink`] share a [`Digest`], so a test checks that a
//! stream arrived whole by comparing [`Sink::digest`] with
//! [`Source::digest_of`].

use crate::managed::Slice;
use crate::storage::assembler::Assembler;
use crate::storage::ring::RingBuffer;

/// The bytes a connection sends: everything the application wrote that the
/// peer has not acknowledged yet, sent or not.
pub trait SendBuffer {
    /// The number of bytes queued, counted from the oldest unacknowledged
    /// byte.
    fn len(&self) -> usize;

    /// Whether no byte is queued.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the queued bytes that start `offset` bytes after the oldest
    /// unacknowledged one into `dst`, as many as fit and are queued, and
    /// returns how many it copied.
    ///
    /// Must give the same bytes for the same range every time until they
    /// are acknowledged: the connection retransmits by reading again.
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize;

    /// The peer acknowledged the first `n` queued bytes; they are never
    /// read again and their space may be reused. `n` is at most `len()`.
    fn acknowledge(&mut self, n: usize);
}

/// Where received bytes go: the in-order stream the application reads,
/// and, if the buffer wants them, bytes that arrived ahead of a gap.
pub trait RecvBuffer {
    /// How many bytes past the in-order edge the buffer can take now. The
    /// connection advertises this as its receive window.
    fn window(&self) -> usize;

    /// Offers `data`, whose first byte lies `offset` bytes past the
    /// in-order edge, and returns how far the in-order edge moved.
    ///
    /// For `offset == 0` that is the part of `data` that fit in the
    /// window, plus any held bytes the data joined up with. For data out
    /// of order (`offset > 0`) the buffer may hold it (and report it in
    /// [`held`](Self::held)) or refuse it; either way the edge does not
    /// move and the result is 0. Bytes beyond the window are not taken.
    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize;

    /// The ranges of bytes held out of order, as `(start, end)` offsets
    /// past the in-order edge (end exclusive), the range most recently
    /// added to first. Writes at most `out.len()` ranges and returns how
    /// many. The connection reports them to the peer as SACK blocks.
    ///
    /// The default holds nothing.
    fn held(&self, out: &mut [(usize, usize)]) -> usize {
        let _ = out;
        0
    }
}

impl<B: SendBuffer + ?Sized> SendBuffer for &mut B {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        (**self).read_at(offset, dst)
    }

    fn acknowledge(&mut self, n: usize) {
        (**self).acknowledge(n)
    }
}

impl<B: RecvBuffer + ?Sized> RecvBuffer for &mut B {
    fn window(&self) -> usize {
        (**self).window()
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        (**self).write_at(offset, data)
    }

    fn held(&self, out: &mut [(usize, usize)]) -> usize {
        (**self).held(out)
    }
}

/// Copies the bytes of `src` from `offset` on into `dst`, as many as fit,
/// and returns how many.
fn copy_from_offset(src: &[u8], offset: usize, dst: &mut [u8]) -> usize {
    let src = src.get(offset..).unwrap_or(&[]);
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}

/// A send buffer over a ring: the application writes at the end, the
/// connection acknowledges from the front, and the storage is reused
/// circularly without moving bytes.
///
/// ```
/// use ethox::layer::tcp::buffer::{RingSendBuffer, SendBuffer};
///
/// let mut storage = [0u8; 8];
/// let mut buffer = RingSendBuffer::new(&mut storage[..]);
/// assert_eq!(buffer.write(b"hello, world"), 8); // what fits
/// let mut segment = [0u8; 5];
/// assert_eq!(buffer.read_at(2, &mut segment), 5);
/// assert_eq!(&segment, b"llo, ");
/// buffer.acknowledge(7);
/// assert_eq!(buffer.free(), 7);
/// assert_eq!(buffer.write(b"world"), 5); // wraps around the storage
/// assert_eq!(buffer.len(), 6);
/// ```
#[derive(Debug)]
pub struct RingSendBuffer<'a> {
    ring: RingBuffer<'a>,
}

impl<'a> RingSendBuffer<'a> {
    /// An empty buffer over `storage`.
    pub fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        RingSendBuffer {
            ring: RingBuffer::new(storage),
        }
    }

    /// Queues as much of `data` as fits and returns how many bytes.
    pub fn write(&mut self, data: &[u8]) -> usize {
        self.ring.enqueue(data)
    }

    /// How many bytes [`write`](Self::write) takes now.
    pub fn free(&self) -> usize {
        self.ring.free()
    }

    /// The most bytes the buffer holds.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// The first contiguous chunk of free space, to write into in place;
    /// [`commit`](Self::commit) queues what was written.
    pub fn writable(&mut self) -> &mut [u8] {
        self.ring.writable()
    }

    /// Queues the first `n` bytes of [`writable`](Self::writable) (clamped
    /// to the free space).
    pub fn commit(&mut self, n: usize) {
        self.ring.commit(n)
    }
}

impl SendBuffer for RingSendBuffer<'_> {
    fn len(&self) -> usize {
        self.ring.len()
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        self.ring.read_at(offset, dst)
    }

    fn acknowledge(&mut self, n: usize) {
        self.ring.consume(n)
    }
}

/// A receive buffer over a ring that holds out-of-order data.
///
/// In-order bytes are queued for the application. Bytes that arrive ahead
/// of a gap are written straight to their place in the ring's free space,
/// and an [`Assembler`] remembers up to `GAPS` such ranges; when the gap
/// closes they are queued without a copy. A segment that would open one
/// gap more is refused (the peer retransmits it). The window is the free
/// space, held bytes included: they sit where they will be queued. Bytes
/// that arrive again overwrite the held copy: a peer resends the same
/// bytes, and comparing them would cost a pass over every duplicate.
///
/// ```
/// use ethox::layer::tcp::buffer::{RecvBuffer, RingRecvBuffer};
///
/// let mut storage = [0u8; 16];
/// let mut buffer = RingRecvBuffer::new(&mut storage[..]);
/// assert_eq!(buffer.write_at(6, b"world"), 0); // ahead of a gap: held
/// let mut held = [(0, 0); 4];
/// assert_eq!(buffer.held(&mut held), 1);
/// assert_eq!(held[0], (6, 11));
/// assert_eq!(buffer.write_at(0, b"hello "), 11); // the gap closes
/// let mut text = [0u8; 16];
/// let n = buffer.read(&mut text);
/// assert_eq!(&text[..n], b"hello world");
/// ```
///
/// The default holds [`DEFAULT_GAPS`] ranges; each costs a few words:
/// `RingRecvBuffer::<'_, 64>::with_gaps` for windows of many segments on
/// lossy paths.
#[derive(Debug)]
pub struct RingRecvBuffer<'a, const GAPS: usize = DEFAULT_GAPS> {
    ring: RingBuffer<'a>,
    assembler: Assembler<GAPS>,
}

/// How many out-of-order ranges a [`RingRecvBuffer`] holds by default.
/// A window of many segments on a lossy path opens many holes: with only
/// the four a SACK option can name, data beyond them was refused and sent
/// again (found against Linux over a TAP at 1% loss: thousands of extra
/// retransmissions for 64 MiB).
pub const DEFAULT_GAPS: usize = 32;

impl<'a> RingRecvBuffer<'a> {
    /// An empty buffer over `storage` that holds up to [`DEFAULT_GAPS`]
    /// out-of-order ranges.
    pub fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        Self::with_gaps(storage)
    }
}

impl<'a, const GAPS: usize> RingRecvBuffer<'a, GAPS> {
    /// An empty buffer over `storage` that holds up to `GAPS` out-of-order
    /// ranges; with 0 it takes bytes in order only.
    pub fn with_gaps(storage: impl Into<Slice<'a, u8>>) -> Self {
        RingRecvBuffer {
            ring: RingBuffer::new(storage),
            assembler: Assembler::new(),
        }
    }

    /// Moves as many in-order bytes as fit into `dst` and returns how many.
    pub fn read(&mut self, dst: &mut [u8]) -> usize {
        self.ring.dequeue(dst)
    }

    /// The first contiguous chunk of in-order bytes, to read in place;
    /// [`consume`](Self::consume) drops what was read.
    pub fn readable(&self) -> &[u8] {
        self.ring.readable()
    }

    /// Drops the first `n` in-order bytes (clamped to [`len`](Self::len)).
    pub fn consume(&mut self, n: usize) {
        self.ring.consume(n)
    }

    /// The number of in-order bytes the application can read.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no in-order byte is there to read.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The most bytes the buffer holds.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }
}

impl<const GAPS: usize> RecvBuffer for RingRecvBuffer<'_, GAPS> {
    fn window(&self) -> usize {
        self.ring.free()
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if offset == 0 && self.assembler.is_empty() {
            // In order with nothing held, the usual case: what fits is
            // in order at once, as the assembler would say.
            return self.ring.enqueue(data);
        }
        let n = self.ring.write_at(offset, data);
        // Refused bytes were written to free space no held range covers
        // (a range that touches a held one is never refused): harmless.
        let advance = self.assembler.add(offset, n).unwrap_or(0);
        self.ring.commit(advance);
        advance
    }

    fn held(&self, out: &mut [(usize, usize)]) -> usize {
        if self.assembler.is_empty() {
            return 0;
        }
        let mut n = 0;
        for (slot, range) in out.iter_mut().zip(self.assembler.ranges_recent_first()) {
            *slot = range;
            n += 1;
        }
        n
    }
}

/// Bytes kept contiguous at `storage[start..end]`; moved to the front
/// only when an append needs the room.
#[derive(Debug)]
struct Linear<'a> {
    storage: Slice<'a, u8>,
    start: usize,
    end: usize,
}

impl<'a> Linear<'a> {
    fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        Linear {
            storage: storage.into(),
            start: 0,
            end: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.storage[self.start..self.end]
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn free(&self) -> usize {
        self.storage.len() - self.len()
    }

    fn append(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n > self.storage.len() - self.end {
            self.storage.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.storage[self.end..self.end + n].copy_from_slice(&data[..n]);
        self.end += n;
        n
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            // Empty: start over at the front, so no append moves bytes.
            self.start = 0;
            self.end = 0;
        }
    }
}

/// Receiving into linear storage: in order only (holding bytes ahead of a
/// gap would need the room they are ahead by, and a compaction moving
/// them).
impl RecvBuffer for Linear<'_> {
    fn window(&self) -> usize {
        self.free()
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if offset != 0 {
            return 0;
        }
        self.append(data)
    }
}

/// A send buffer over a fixed slice: the unacknowledged bytes stay
/// contiguous, so the application can see them in one piece
/// ([`queued`](Self::queued)).
///
/// Acknowledged bytes are dropped by moving the start; the rest moves to
/// the front of the slice only when a write needs the room.
///
/// ```
/// use ethox::layer::tcp::buffer::{SendBuffer, SliceSendBuffer};
///
/// let mut storage = [0u8; 8];
/// let mut buffer = SliceSendBuffer::new(&mut storage[..]);
/// assert_eq!(buffer.write(b"abcdef"), 6);
/// buffer.acknowledge(4);
/// assert_eq!(buffer.queued(), b"ef");
/// assert_eq!(buffer.write(b"ghijkl"), 6); // moves "ef" to the front
/// assert_eq!(buffer.queued(), b"efghijkl");
/// ```
#[derive(Debug)]
pub struct SliceSendBuffer<'a> {
    bytes: Linear<'a>,
}

impl<'a> SliceSendBuffer<'a> {
    /// An empty buffer over `storage`.
    pub fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        SliceSendBuffer {
            bytes: Linear::new(storage),
        }
    }

    /// Queues as much of `data` as fits and returns how many bytes.
    pub fn write(&mut self, data: &[u8]) -> usize {
        self.bytes.append(data)
    }

    /// How many bytes [`write`](Self::write) takes now.
    pub fn free(&self) -> usize {
        self.bytes.free()
    }

    /// The most bytes the buffer holds.
    pub fn capacity(&self) -> usize {
        self.bytes.storage.len()
    }

    /// The bytes written and not acknowledged, in one piece.
    pub fn queued(&self) -> &[u8] {
        self.bytes.data()
    }
}

impl SendBuffer for SliceSendBuffer<'_> {
    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        copy_from_offset(self.bytes.data(), offset, dst)
    }

    fn acknowledge(&mut self, n: usize) {
        self.bytes.consume(n)
    }
}

/// A receive buffer over a fixed slice that takes bytes in order only and
/// keeps them contiguous for the application.
///
/// Bytes out of order are refused (the peer retransmits them). Read bytes
/// are dropped by moving the start; the rest moves to the front of the
/// slice only when arriving bytes need the room.
///
/// ```
/// use ethox::layer::tcp::buffer::{RecvBuffer, SliceRecvBuffer};
///
/// let mut storage = [0u8; 8];
/// let mut buffer = SliceRecvBuffer::new(&mut storage[..]);
/// assert_eq!(buffer.write_at(3, b"lo"), 0); // out of order: refused
/// assert_eq!(buffer.write_at(0, b"hello"), 5);
/// assert_eq!(buffer.readable(), b"hello");
/// buffer.consume(5);
/// assert_eq!(buffer.window(), 8);
/// ```
#[derive(Debug)]
pub struct SliceRecvBuffer<'a> {
    bytes: Linear<'a>,
}

impl<'a> SliceRecvBuffer<'a> {
    /// An empty buffer over `storage`.
    pub fn new(storage: impl Into<Slice<'a, u8>>) -> Self {
        SliceRecvBuffer {
            bytes: Linear::new(storage),
        }
    }

    /// Moves as many received bytes as fit into `dst` and returns how many.
    pub fn read(&mut self, dst: &mut [u8]) -> usize {
        let n = copy_from_offset(self.bytes.data(), 0, dst);
        self.bytes.consume(n);
        n
    }

    /// The received bytes not consumed yet, in one piece.
    pub fn readable(&self) -> &[u8] {
        self.bytes.data()
    }

    /// Drops the first `n` received bytes (clamped to [`len`](Self::len)).
    pub fn consume(&mut self, n: usize) {
        self.bytes.consume(n)
    }

    /// The number of received bytes not consumed yet.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no received byte is there to read.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() == 0
    }

    /// The most bytes the buffer holds.
    pub fn capacity(&self) -> usize {
        self.bytes.storage.len()
    }
}

impl RecvBuffer for SliceRecvBuffer<'_> {
    fn window(&self) -> usize {
        self.bytes.window()
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        self.bytes.write_at(offset, data)
    }
}

/// A send buffer for one message the application already has: sends its
/// bytes once, and is done when the peer acknowledged them all.
///
/// ```
/// use ethox::layer::tcp::buffer::{MessageSendBuffer, SendBuffer};
///
/// let mut buffer = MessageSendBuffer::new(b"GET / HTTP/1.0\r\n\r\n");
/// let mut segment = [0u8; 5];
/// assert_eq!(buffer.read_at(0, &mut segment), 5);
/// assert_eq!(&segment, b"GET /");
/// buffer.acknowledge(10);
/// assert_eq!(buffer.len(), 8);
/// buffer.acknowledge(8);
/// assert!(buffer.is_done());
/// ```
#[derive(Debug, Clone)]
pub struct MessageSendBuffer<'a> {
    message: &'a [u8],
    acknowledged: usize,
}

impl<'a> MessageSendBuffer<'a> {
    /// A buffer that sends `message`.
    pub fn new(message: &'a [u8]) -> Self {
        MessageSendBuffer {
            message,
            acknowledged: 0,
        }
    }

    /// How many bytes of the message the peer acknowledged.
    pub fn acknowledged(&self) -> usize {
        self.acknowledged
    }

    /// Whether the peer acknowledged the whole message.
    pub fn is_done(&self) -> bool {
        self.acknowledged == self.message.len()
    }
}

impl SendBuffer for MessageSendBuffer<'_> {
    fn len(&self) -> usize {
        self.message.len() - self.acknowledged
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let unacknowledged = self.message.get(self.acknowledged..).unwrap_or(&[]);
        copy_from_offset(unacknowledged, offset, dst)
    }

    fn acknowledge(&mut self, n: usize) {
        self.acknowledged += n.min(self.len());
    }
}

/// A receive buffer for one message of known size: fills the given slice
/// in order until it is full, then advertises a zero window.
///
/// Bytes out of order are refused (the peer retransmits them).
///
/// ```
/// use ethox::layer::tcp::buffer::{MessageRecvBuffer, RecvBuffer};
///
/// let mut reply = [0u8; 4];
/// let mut buffer = MessageRecvBuffer::new(&mut reply);
/// assert_eq!(buffer.write_at(0, b"OK"), 2);
/// assert_eq!(buffer.write_at(0, b"!\r\n"), 2); // only what fits
/// assert!(buffer.is_full());
/// assert_eq!(buffer.data(), b"OK!\r");
/// ```
#[derive(Debug)]
pub struct MessageRecvBuffer<'a> {
    bytes: Linear<'a>,
}

impl<'a> MessageRecvBuffer<'a> {
    /// A buffer that receives into `buffer`.
    pub fn new(buffer: &'a mut [u8]) -> Self {
        MessageRecvBuffer {
            bytes: Linear::new(buffer),
        }
    }

    /// How many bytes arrived.
    pub fn received(&self) -> usize {
        self.bytes.len()
    }

    /// The bytes that arrived, from the start of the slice.
    pub fn data(&self) -> &[u8] {
        self.bytes.data()
    }

    /// Whether the slice is full.
    pub fn is_full(&self) -> bool {
        self.bytes.free() == 0
    }
}

impl RecvBuffer for MessageRecvBuffer<'_> {
    fn window(&self) -> usize {
        self.bytes.window()
    }

    // Nothing is ever consumed, so appending never moves bytes.
    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        self.bytes.write_at(offset, data)
    }
}

/// The finalizer of SplitMix64: spreads every input bit over the output.
const fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A 64-bit digest of a byte stream, the same however the stream is cut
/// into pieces: [`Sink`] keeps one of what it received,
/// [`Source::digest_of`] computes one of what a [`Source`] sends.
///
/// It detects corruption, loss, duplication and reordering; it is not
/// cryptographic. It takes the stream 8 bytes at a time, so it runs at a
/// few bytes per cycle. Precisely: the state starts at
/// `0xcbf2_9ce4_8422_2325`; each 8-byte word `w` (little-endian) makes the
/// state `((state ^ w) * 0x9e37_79b9_7f4a_7c15).rotate_left(29)` (wrapping
/// multiplication); the value absorbs the last partial word (zero-padded)
/// if there is one, then the stream length in bytes, then applies the
/// SplitMix64 finalizer. Each step is a bijection of the state, so two
/// streams of the same length that differ in a single word always differ.
///
/// ```
/// use ethox::layer::tcp::buffer::Digest;
///
/// let mut whole = Digest::new();
/// whole.update(b"hello, world");
/// let mut pieces = Digest::new();
/// pieces.update(b"hel");
/// pieces.update(b"lo, world");
/// assert_eq!(whole.value(), pieces.value());
/// assert_ne!(whole.value(), Digest::new().value());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    state: u64,
    /// The bytes of an incomplete word, little-endian.
    partial: u64,
    /// How many bytes `partial` holds, below 8.
    partial_len: u32,
    len: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Self::new()
    }
}

impl Digest {
    const START: u64 = 0xcbf2_9ce4_8422_2325;
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The digest of the empty stream.
    pub const fn new() -> Self {
        Digest {
            state: Self::START,
            partial: 0,
            partial_len: 0,
            len: 0,
        }
    }

    const fn absorb(state: u64, word: u64) -> u64 {
        (state ^ word)
            .wrapping_mul(Self::MULTIPLIER)
            .rotate_left(29)
    }

    /// Appends `bytes` (fewer than 8 after what `partial` holds) to the
    /// incomplete word.
    fn push_partial(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.partial |= u64::from(byte) << (8 * self.partial_len);
            self.partial_len += 1;
        }
    }

    /// Appends `bytes` to the stream.
    pub fn update(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        let mut bytes = bytes;
        if self.partial_len > 0 {
            let (head, rest) = bytes.split_at(bytes.len().min(8 - self.partial_len as usize));
            self.push_partial(head);
            bytes = rest;
            if self.partial_len < 8 {
                return;
            }
            self.state = Self::absorb(self.state, self.partial);
            self.partial = 0;
            self.partial_len = 0;
        }
        let words = bytes.chunks_exact(8);
        let rest = words.remainder();
        for word in words {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            self.state = Self::absorb(self.state, word);
        }
        self.push_partial(rest);
    }

    /// The number of bytes in the stream (modulo 2^64).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the stream is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of the stream so far. More bytes can follow.
    pub fn value(&self) -> u64 {
        let mut state = self.state;
        if self.partial_len > 0 {
            state = Self::absorb(state, self.partial);
        }
        mix64(Self::absorb(state, self.len))
    }
}

/// A receive buffer that takes every in-order byte and discards it,
/// counting them and, if asked, keeping their [`Digest`]: the receiving
/// end of tests and benchmarks.
///
/// The window stays constant, [`Sink::DEFAULT_WINDOW`] unless configured.
/// Bytes out of order are refused.
///
/// ```
/// use ethox::layer::tcp::buffer::{RecvBuffer, SendBuffer, Sink, Source};
///
/// let mut source = Source::new(7, 10_000);
/// let mut sink = Sink::with_digest().with_window(1500);
/// let mut segment = [0u8; 1460];
/// while !source.is_done() {
///     let n = source.read_at(0, &mut segment);
///     let taken = sink.write_at(0, &segment[..n]);
///     source.acknowledge(taken);
/// }
/// assert_eq!(sink.received(), 10_000);
/// assert_eq!(sink.digest(), Some(Source::digest_of(7, 10_000)));
/// ```
#[derive(Debug, Clone)]
pub struct Sink {
    received: u64,
    digest: Option<Digest>,
    window: usize,
}

impl Default for Sink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink {
    /// The window a sink advertises unless configured: 1 MiB.
    pub const DEFAULT_WINDOW: usize = 1 << 20;

    /// A sink that counts bytes.
    pub const fn new() -> Self {
        Sink {
            received: 0,
            digest: None,
            window: Self::DEFAULT_WINDOW,
        }
    }

    /// A sink that counts bytes and keeps their digest.
    pub const fn with_digest() -> Self {
        Sink {
            digest: Some(Digest::new()),
            ..Self::new()
        }
    }

    /// The same sink, advertising `window` bytes.
    pub const fn with_window(self, window: usize) -> Self {
        Sink { window, ..self }
    }

    /// How many bytes arrived in order.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The digest of the bytes that arrived, if the sink keeps one.
    pub fn digest(&self) -> Option<u64> {
        self.digest.as_ref().map(Digest::value)
    }
}

impl RecvBuffer for Sink {
    fn window(&self) -> usize {
        self.window
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if offset != 0 {
            return 0;
        }
        let taken = data.get(..self.window).unwrap_or(data);
        self.received = self.received.wrapping_add(taken.len() as u64);
        if let Some(digest) = &mut self.digest {
            digest.update(taken);
        }
        taken.len()
    }
}

/// The period of [`Source`]'s base pattern: a prime, so that no buffer or
/// segment size (powers of two, MSS values) lines up with it, and a
/// stream read from a wrong offset differs from the right bytes.
const PATTERN_PERIOD: usize = 4093;

/// The base pattern of [`Source`]: xorshift64 output, made at compile
/// time.
static PATTERN: [u8; PATTERN_PERIOD] = {
    let mut table = [0u8; PATTERN_PERIOD];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut i = 0;
    while i < PATTERN_PERIOD {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        table[i] = (state >> 56) as u8;
        i += 1;
    }
    table
};

/// A send buffer that generates a deterministic stream of `total` bytes
/// (endless with `u64::MAX`): the sending end of tests and benchmarks.
///
/// The byte at stream position `p` is [`Source::byte_at`]`(seed, p)`: the
/// base pattern (period 4093) starting at a seed-dependent phase, each
/// period XORed with a byte hashed from the seed and the period's number.
/// So streams of different seeds differ, a stream is not periodic at any
/// buffer size, and generating it is a copy with an XOR, as fast as
/// `memcpy` in practice.
///
/// ```
/// use ethox::layer::tcp::buffer::{SendBuffer, Source};
///
/// let mut source = Source::new(1, 100);
/// let mut bytes = [0u8; 10];
/// assert_eq!(source.read_at(95, &mut bytes), 5);
/// assert_eq!(bytes[0], Source::byte_at(1, 95));
/// source.acknowledge(100);
/// assert!(source.is_done());
/// ```
#[derive(Debug, Clone)]
pub struct Source {
    seed: u64,
    total: u64,
    acknowledged: u64,
}

impl Source {
    /// A source of `total` bytes of the stream of `seed`.
    pub const fn new(seed: u64, total: u64) -> Self {
        Source {
            seed,
            total,
            acknowledged: 0,
        }
    }

    /// A source that never ends (`u64::MAX` bytes).
    pub const fn unbounded(seed: u64) -> Self {
        Self::new(seed, u64::MAX)
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many bytes the stream has.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many bytes the peer acknowledged.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged
    }

    /// How many bytes are not acknowledged yet.
    pub fn remaining(&self) -> u64 {
        self.total - self.acknowledged
    }

    /// Whether the peer acknowledged the whole stream.
    pub fn is_done(&self) -> bool {
        self.acknowledged == self.total
    }

    /// The XOR key of pattern period `period` in the stream of `seed`.
    fn period_key(seed: u64, period: u64) -> u8 {
        (mix64(seed ^ period.wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 56) as u8
    }

    /// Where stream position `position` of the stream of `seed` lies: the
    /// number of its pattern period and its index into [`PATTERN`].
    fn locate(seed: u64, position: u64) -> (u64, usize) {
        let period_len = PATTERN_PERIOD as u64;
        let phase = seed % period_len;
        let (mut period, mut index) = (position / period_len, position % period_len + phase);
        if index >= period_len {
            index -= period_len;
            period += 1;
        }
        (period, index as usize)
    }

    /// The byte at stream position `position` of the stream of `seed`.
    pub fn byte_at(seed: u64, position: u64) -> u8 {
        let (period, index) = Self::locate(seed, position);
        PATTERN[index] ^ Self::period_key(seed, period)
    }

    /// Fills `dst` with the stream of `seed` from `position` on: byte `i`
    /// becomes [`byte_at`](Self::byte_at)`(seed, position + i)`.
    pub fn fill(seed: u64, position: u64, dst: &mut [u8]) {
        let (mut period, mut index) = Self::locate(seed, position);
        let mut dst = dst;
        while !dst.is_empty() {
            let key = Self::period_key(seed, period);
            let pattern = &PATTERN[index..];
            let (now, rest) = dst.split_at_mut(pattern.len().min(dst.len()));
            for (byte, pattern) in now.iter_mut().zip(pattern) {
                *byte = pattern ^ key;
            }
            dst = rest;
            index = 0;
            period = period.wrapping_add(1);
        }
    }

    /// The [`Digest`] of the first `len` bytes of the stream of `seed`:
    /// what a [`Sink`] keeps after receiving them.
    pub fn digest_of(seed: u64, len: u64) -> u64 {
        let mut digest = Digest::new();
        let mut chunk = [0u8; PATTERN_PERIOD];
        let mut position = 0;
        while position < len {
            let n = (len - position).min(chunk.len() as u64) as usize;
            Self::fill(seed, position, &mut chunk[..n]);
            digest.update(&chunk[..n]);
            position += n as u64;
        }
        digest.value()
    }
}

impl SendBuffer for Source {
    fn len(&self) -> usize {
        usize::try_from(self.remaining()).unwrap_or(usize::MAX)
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let remaining = self.remaining();
        let offset = offset as u64;
        if offset >= remaining {
            return 0;
        }
        let n = dst
            .len()
            .min(usize::try_from(remaining - offset).unwrap_or(usize::MAX));
        Self::fill(self.seed, self.acknowledged + offset, &mut dst[..n]);
        n
    }

    fn acknowledge(&mut self, n: usize) {
        self.acknowledged += (n as u64).min(self.remaining());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held<B: RecvBuffer>(buffer: &B) -> ([(usize, usize); 8], usize) {
        let mut out = [(0, 0); 8];
        let n = buffer.held(&mut out);
        (out, n)
    }

    #[test]
    fn ring_send_wraps_and_acknowledges() {
        let mut storage = [0u8; 6];
        let mut buffer = RingSendBuffer::new(&mut storage);
        assert_eq!(buffer.write(b"abcd"), 4);
        buffer.acknowledge(3);
        assert_eq!(buffer.write(b"efghij"), 5);
        assert_eq!(buffer.free(), 0);
        assert_eq!(buffer.len(), 6);
        let mut out = [0u8; 6];
        // The same range reads the same bytes every time (retransmission).
        for _ in 0..2 {
            assert_eq!(buffer.read_at(1, &mut out), 5);
            assert_eq!(&out[..5], b"efghi");
        }
        assert_eq!(buffer.read_at(6, &mut out), 0);
        buffer.acknowledge(usize::MAX);
        assert!(buffer.is_empty());
        assert_eq!(buffer.capacity(), 6);
    }

    #[test]
    fn ring_send_in_place_write() {
        let mut storage = [0u8; 4];
        let mut buffer = RingSendBuffer::new(&mut storage);
        buffer.writable()[..3].copy_from_slice(b"xyz");
        buffer.commit(3);
        let mut out = [0u8; 4];
        assert_eq!(buffer.read_at(0, &mut out), 3);
        assert_eq!(&out[..3], b"xyz");
    }

    #[test]
    fn ring_recv_out_of_order_then_gap_closes() {
        let mut storage = [0u8; 32];
        let mut buffer = RingRecvBuffer::new(&mut storage);
        assert_eq!(buffer.write_at(4, b"efgh"), 0);
        assert_eq!(buffer.write_at(12, b"mnop"), 0);
        assert_eq!(buffer.len(), 0);
        assert_eq!(buffer.window(), 32);
        // Closing the first gap advances over the held range only.
        assert_eq!(buffer.write_at(0, b"abcd"), 8);
        assert_eq!(buffer.readable(), b"abcdefgh");
        assert_eq!(held(&buffer).0[..held(&buffer).1], [(4, 8)]);
        // Overlapping retransmission closes the second.
        assert_eq!(buffer.write_at(0, b"ijklm"), 8);
        assert_eq!(buffer.len(), 16);
        assert_eq!(held(&buffer).1, 0);
        let mut out = [0u8; 16];
        assert_eq!(buffer.read(&mut out), 16);
        assert_eq!(&out, b"abcdefghijklmnop");
    }

    #[test]
    fn ring_recv_held_most_recent_first() {
        let mut storage = [0u8; 64];
        let mut buffer = RingRecvBuffer::new(&mut storage);
        buffer.write_at(30, b"3");
        buffer.write_at(10, b"1");
        buffer.write_at(20, b"2");
        let (ranges, n) = held(&buffer);
        assert_eq!(ranges[..n], [(20, 21), (10, 11), (30, 31)]);
        buffer.write_at(11, b"x");
        let (ranges, n) = held(&buffer);
        assert_eq!(ranges[..n], [(10, 12), (20, 21), (30, 31)]);
        // Only as many as fit.
        let mut one = [(0, 0); 1];
        assert_eq!(buffer.held(&mut one), 1);
        assert_eq!(one[0], (10, 12));
    }

    #[test]
    fn ring_recv_refuses_a_gap_too_many() {
        let mut storage = [0u8; 16];
        let mut buffer = RingRecvBuffer::<'_, 1>::with_gaps(&mut storage);
        assert_eq!(buffer.write_at(2, b"c"), 0);
        assert_eq!(buffer.write_at(5, b"f"), 0); // refused
        assert_eq!(held(&buffer).0[..held(&buffer).1], [(2, 3)]);
        // The refused byte is not taken when the gap before it closes.
        assert_eq!(buffer.write_at(0, b"ab"), 3);
        assert_eq!(buffer.write_at(0, b"d"), 1);
        assert_eq!(buffer.readable(), b"abcd");
    }

    #[test]
    fn ring_recv_without_gaps_takes_in_order_only() {
        let mut storage = [0u8; 8];
        let mut buffer = RingRecvBuffer::<'_, 0>::with_gaps(&mut storage);
        assert_eq!(buffer.write_at(1, b"b"), 0);
        assert_eq!(held(&buffer).1, 0);
        assert_eq!(buffer.write_at(0, b"a"), 1);
    }

    #[test]
    fn ring_recv_refuses_beyond_window() {
        let mut storage = [0u8; 8];
        let mut buffer = RingRecvBuffer::new(&mut storage);
        assert_eq!(buffer.write_at(0, b"abcdef"), 6);
        assert_eq!(buffer.window(), 2);
        assert_eq!(buffer.write_at(2, b"x"), 0);
        assert_eq!(buffer.write_at(usize::MAX, b"x"), 0);
        assert_eq!(held(&buffer).1, 0);
        // Out of order, partly beyond: only the part inside is held.
        assert_eq!(buffer.write_at(1, b"hij"), 0);
        assert_eq!(held(&buffer).0[..held(&buffer).1], [(1, 2)]);
        assert_eq!(buffer.write_at(0, b"ghi"), 2);
        assert_eq!(buffer.window(), 0);
        let mut out = [0u8; 8];
        assert_eq!(buffer.read(&mut out), 8);
        assert_eq!(&out, b"abcdefgh");
        assert_eq!(buffer.window(), 8);
    }

    #[test]
    fn ring_recv_holds_across_the_wrap() {
        let mut storage = [0u8; 8];
        let mut buffer = RingRecvBuffer::new(&mut storage);
        buffer.write_at(0, b"012345");
        buffer.consume(5); // edge at storage index 6
        assert_eq!(buffer.write_at(2, b"CDE"), 0); // indices 0..3
        assert_eq!(buffer.write_at(0, b"AB"), 5);
        let mut out = [0u8; 8];
        assert_eq!(buffer.read(&mut out), 6);
        assert_eq!(&out[..6], b"5ABCDE");
    }

    #[test]
    fn ring_recv_reassembles_a_shuffled_stream() {
        const SEGMENT: usize = 100;
        const SEGMENTS: usize = 40;
        let mut storage = [0u8; 1024];
        let mut buffer = RingRecvBuffer::<'_, 8>::with_gaps(&mut storage);
        let mut digest = Digest::new();
        // Segment k is sent in the order of k * 7 mod 40 (7 is coprime to
        // 40), again and again until everything arrived.
        let mut edge = 0;
        let mut rounds = 0;
        while edge < SEGMENT * SEGMENTS {
            rounds += 1;
            assert!(rounds < 100);
            for k in (0..SEGMENTS).map(|k| k * 7 % SEGMENTS) {
                let position = k * SEGMENT;
                if position + SEGMENT <= edge {
                    continue;
                }
                let mut segment = [0u8; SEGMENT];
                Source::fill(9, position as u64, &mut segment);
                // The part before the edge is a retransmission of data
                // already taken: the connection trims it.
                let skip = edge.saturating_sub(position);
                edge += buffer.write_at(position + skip - edge, &segment[skip..]);
                let readable = buffer.readable();
                digest.update(readable);
                let n = readable.len();
                buffer.consume(n);
            }
        }
        let readable = buffer.readable();
        digest.update(readable);
        assert_eq!(edge, SEGMENT * SEGMENTS);
        assert_eq!(digest.value(), Source::digest_of(9, edge as u64));
        // Holding out of order data made it take fewer rounds than one
        // segment per round.
        assert!(rounds < SEGMENTS / 2, "{rounds}");
    }

    #[test]
    fn slice_send_compacts_only_when_needed() {
        let mut storage = [0u8; 8];
        let mut buffer = SliceSendBuffer::new(&mut storage);
        assert_eq!(buffer.write(b"abcdef"), 6);
        buffer.acknowledge(2);
        // Fits at the tail: nothing moves.
        assert_eq!(buffer.write(b"gh"), 2);
        assert_eq!(buffer.bytes.start, 2);
        assert_eq!(buffer.free(), 2);
        // Needs the room: moves to the front.
        assert_eq!(buffer.write(b"ijk"), 2);
        assert_eq!(buffer.bytes.start, 0);
        assert_eq!(buffer.queued(), b"cdefghij");
        let mut out = [0u8; 4];
        assert_eq!(buffer.read_at(6, &mut out), 2);
        assert_eq!(&out[..2], b"ij");
        assert_eq!(buffer.read_at(usize::MAX, &mut out), 0);
        // Emptied: starts over at the front.
        buffer.acknowledge(usize::MAX);
        assert_eq!((buffer.bytes.start, buffer.bytes.end), (0, 0));
        assert_eq!(buffer.capacity(), 8);
    }

    #[test]
    fn slice_recv_in_order_only() {
        let mut storage = [0u8; 6];
        let mut buffer = SliceRecvBuffer::new(&mut storage);
        assert_eq!(buffer.write_at(1, b"b"), 0);
        assert_eq!(buffer.write_at(0, b"abcd"), 4);
        let mut out = [0u8; 3];
        assert_eq!(buffer.read(&mut out), 3);
        assert_eq!(&out, b"abc");
        assert_eq!(buffer.window(), 5);
        // Needs the room: "d" moves to the front.
        assert_eq!(buffer.write_at(0, b"efghijk"), 5);
        assert_eq!(buffer.readable(), b"defghi");
        assert_eq!(buffer.window(), 0);
        assert_eq!(buffer.write_at(0, b"z"), 0);
        buffer.consume(2);
        assert_eq!(buffer.len(), 4);
        buffer.consume(usize::MAX);
        assert!(buffer.is_empty());
        assert_eq!(buffer.capacity(), 6);
        assert_eq!(held(&buffer).1, 0);
    }

    #[test]
    fn message_send_once() {
        let mut buffer = MessageSendBuffer::new(b"0123456789");
        let mut out = [0u8; 4];
        assert_eq!(buffer.read_at(8, &mut out), 2);
        assert_eq!(&out[..2], b"89");
        assert_eq!(buffer.read_at(10, &mut out), 0);
        buffer.acknowledge(7);
        assert_eq!(buffer.acknowledged(), 7);
        assert_eq!(buffer.read_at(0, &mut out), 3);
        assert_eq!(&out[..3], b"789");
        assert!(!buffer.is_done());
        buffer.acknowledge(usize::MAX);
        assert!(buffer.is_done());
        assert!(buffer.is_empty());
        assert!(MessageSendBuffer::new(b"").is_done());
    }

    #[test]
    fn message_recv_fills_until_full() {
        let mut slice = [0u8; 5];
        let mut buffer = MessageRecvBuffer::new(&mut slice);
        assert_eq!(buffer.write_at(2, b"c"), 0);
        assert_eq!(buffer.write_at(0, b"abc"), 3);
        assert_eq!(buffer.received(), 3);
        assert_eq!(buffer.window(), 2);
        assert!(!buffer.is_full());
        assert_eq!(buffer.write_at(0, b"defg"), 2);
        assert!(buffer.is_full());
        assert_eq!(buffer.window(), 0);
        assert_eq!(buffer.write_at(0, b"h"), 0);
        assert_eq!(buffer.data(), b"abcde");
        drop(buffer);
        assert_eq!(&slice, b"abcde");
    }

    #[test]
    fn sink_counts_and_digests() {
        let mut sink = Sink::with_digest();
        assert_eq!(sink.window(), Sink::DEFAULT_WINDOW);
        assert_eq!(sink.write_at(3, b"xyz"), 0);
        assert_eq!(sink.write_at(0, b"hello, "), 7);
        assert_eq!(sink.write_at(0, b"world"), 5);
        assert_eq!(sink.received(), 12);
        let mut digest = Digest::new();
        digest.update(b"hello, world");
        assert_eq!(sink.digest(), Some(digest.value()));
        assert_eq!(held(&sink).1, 0);

        let mut counting = Sink::new();
        assert_eq!(counting.write_at(0, b"abc"), 3);
        assert_eq!(counting.received(), 3);
        assert_eq!(counting.digest(), None);
    }

    #[test]
    fn sink_window_limits() {
        let mut sink = Sink::with_digest().with_window(4);
        assert_eq!(sink.write_at(0, b"abcdef"), 4);
        assert_eq!(sink.window(), 4);
        let mut digest = Digest::new();
        digest.update(b"abcd");
        assert_eq!(sink.digest(), Some(digest.value()));
        let mut closed = Sink::new().with_window(0);
        assert_eq!(closed.write_at(0, b"a"), 0);
    }

    #[test]
    fn source_fill_matches_byte_at() {
        let mut bytes = [0u8; 3 * PATTERN_PERIOD];
        for seed in [0, 1, 4092, 4093, u64::MAX] {
            for start in [0, 1, 4000, 4092, u64::MAX - bytes.len() as u64] {
                Source::fill(seed, start, &mut bytes);
                for (i, &byte) in bytes.iter().enumerate() {
                    assert_eq!(byte, Source::byte_at(seed, start + i as u64));
                }
            }
        }
    }

    /// How many of the bytes at the same index are equal.
    fn equal_bytes(a: &[u8], b: &[u8]) -> usize {
        a.iter().zip(b).filter(|(x, y)| x == y).count()
    }

    #[test]
    fn source_streams_differ() {
        let mut a = [0u8; 8192];
        let mut b = [0u8; 8192];
        Source::fill(1, 0, &mut a);
        Source::fill(2, 0, &mut b);
        assert!(equal_bytes(&a, &b) < a.len() / 16);
        // Not periodic at powers of two, segment sizes or the base period:
        // a read from a wrong offset is noticed.
        for shift in [1, 2, 4, 512, 1024, 1460, 2048, 4093, 4096, 8192, 1 << 32] {
            Source::fill(1, shift, &mut b);
            assert!(equal_bytes(&a, &b) < a.len() / 16, "shift {shift}");
        }
    }

    #[test]
    fn source_sends_total_bytes() {
        let mut source = Source::new(3, 10);
        assert_eq!(source.len(), 10);
        let mut out = [0u8; 16];
        assert_eq!(source.read_at(4, &mut out), 6);
        assert_eq!(out[0], Source::byte_at(3, 4));
        assert_eq!(source.read_at(10, &mut out), 0);
        assert_eq!(source.read_at(usize::MAX, &mut out), 0);
        source.acknowledge(4);
        assert_eq!(source.read_at(0, &mut out), 6);
        assert_eq!(out[0], Source::byte_at(3, 4));
        assert_eq!((source.acknowledged(), source.remaining()), (4, 6));
        source.acknowledge(usize::MAX);
        assert!(source.is_done());
        assert_eq!(source.len(), 0);
        assert_eq!((source.seed(), source.total()), (3, 10));
    }

    #[test]
    fn source_unbounded_near_the_end_of_u64() {
        let mut source = Source::unbounded(5);
        assert_eq!(
            source.len(),
            usize::try_from(u64::MAX).unwrap_or(usize::MAX)
        );
        source.acknowledge(usize::MAX);
        source.acknowledge(usize::MAX);
        assert!(source.remaining() < 2);
        let mut out = [0u8; 4];
        let n = source.read_at(0, &mut out);
        assert_eq!(n as u64, source.remaining());
        source.acknowledge(usize::MAX);
        assert!(source.is_done());
        assert_eq!(source.read_at(0, &mut out), 0);
    }

    #[test]
    fn source_digest_matches_a_sink() {
        let mut source = Source::new(11, 100_000);
        let mut sink = Sink::with_digest();
        // Odd segment sizes, so words are split across writes.
        let mut segment = [0u8; 1337];
        while !source.is_done() {
            let n = source.read_at(0, &mut segment);
            let taken = sink.write_at(0, &segment[..n]);
            source.acknowledge(taken);
        }
        assert_eq!(sink.digest(), Some(Source::digest_of(11, 100_000)));
        assert_ne!(sink.digest(), Some(Source::digest_of(12, 100_000)));
        assert_ne!(sink.digest(), Some(Source::digest_of(11, 99_999)));
    }

    #[test]
    fn digest_ignores_how_the_stream_is_cut() {
        let mut bytes = [0u8; 40];
        Source::fill(0, 0, &mut bytes);
        let mut whole = Digest::new();
        whole.update(&bytes);
        for first in 0..bytes.len() {
            for second in first..bytes.len() {
                let mut cut = Digest::new();
                cut.update(&bytes[..first]);
                cut.update(&bytes[first..second]);
                cut.update(&bytes[second..]);
                assert_eq!(cut, whole);
            }
        }
        assert_eq!(whole.len(), 40);
        assert!(Digest::default().is_empty());
    }

    #[test]
    fn digest_detects_changes() {
        let value = |bytes: &[u8]| {
            let mut digest = Digest::new();
            digest.update(bytes);
            digest.value()
        };
        let mut bytes = [0u8; 24];
        let reference = value(&bytes);
        // Every single bit flip.
        for bit in 0..bytes.len() * 8 {
            bytes[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(value(&bytes), reference, "bit {bit}");
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        // Trailing zeros and swapped words.
        assert_ne!(value(&bytes[..23]), reference);
        assert_ne!(value(&[]), value(&[0]));
        let mut swapped = [0u8; 16];
        swapped[0] = 1;
        let mut other = [0u8; 16];
        other[8] = 1;
        assert_ne!(value(&swapped), value(&other));
    }

    #[test]
    fn buffers_work_through_mut_references() {
        fn fill<B: RecvBuffer>(mut buffer: B) -> usize {
            buffer.write_at(0, b"abc")
        }
        fn drain<B: SendBuffer>(mut buffer: B) -> usize {
            let n = buffer.len();
            buffer.acknowledge(n);
            n
        }
        let mut sink = Sink::new();
        assert_eq!(fill(&mut sink), 3);
        assert_eq!(sink.received(), 3);
        let mut message = MessageSendBuffer::new(b"xy");
        assert_eq!(drain(&mut message), 2);
        assert!(message.is_done());
    }
}
