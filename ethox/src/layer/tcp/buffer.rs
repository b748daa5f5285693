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
