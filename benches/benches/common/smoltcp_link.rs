//! smoltcp's side of the in-memory link, shared by the benches that put
//! ethox beside smoltcp: a `phy::Device` whose frames are allocated at
//! set-up and move between free pools and queues, and the wire between
//! two of them (one copy per frame, as ethox's `MemoryLink`).
#![allow(dead_code)]

use std::collections::VecDeque;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// The largest Ethernet frame: an IP MTU of 1500 and the header.
pub const FRAME: usize = 1514;

/// A frame buffer of full capacity and the length in use.
pub struct Frame {
    bytes: Box<[u8]>,
    len: usize,
}

impl Frame {
    fn new() -> Frame {
        Frame {
            bytes: vec![0; FRAME].into_boxed_slice(),
            len: 0,
        }
    }
}

/// One end of the in-memory link: frames
/// allocated at set-up move between free pools and queues; the wire
/// copies each frame once into a free receive buffer of the other end.
pub struct QueueDevice {
    /// Free receive buffers.
    pub rx_free: Vec<Frame>,
    /// Frames received, waiting for the stack.
    pub rx_queue: VecDeque<Frame>,
    /// Free transmit buffers.
    pub tx_free: Vec<Frame>,
    /// Frames sent, waiting for the wire.
    pub tx_queue: VecDeque<Frame>,
    /// Frames that found no free receive buffer.
    pub missed: usize,
}

impl QueueDevice {
    /// An end with `slots` frame buffers each way.
    pub fn new(slots: usize) -> QueueDevice {
        QueueDevice {
            rx_free: (0..slots).map(|_| Frame::new()).collect(),
            rx_queue: VecDeque::with_capacity(slots),
            tx_free: (0..slots).map(|_| Frame::new()).collect(),
            tx_queue: VecDeque::with_capacity(slots),
            missed: 0,
        }
    }

    /// Frames sent and not yet carried by the wire.
    pub fn queued(&self) -> usize {
        self.tx_queue.len()
    }

    /// The wire: moves every frame `from` sent into `to`'s receive
    /// queue, copying it once; returns how many arrived.
    pub fn transfer(from: &mut QueueDevice, to: &mut QueueDevice) -> usize {
        let mut arrived = 0;
        while let Some(frame) = from.tx_queue.pop_front() {
            match to.rx_free.pop() {
                Some(mut buf) => {
                    buf.bytes[..frame.len].copy_from_slice(&frame.bytes[..frame.len]);
                    buf.len = frame.len;
                    to.rx_queue.push_back(buf);
                    arrived += 1;
                }
                None => to.missed += 1,
            }
            from.tx_free.push(frame);
        }
        arrived
    }
}

pub struct RxToken<'a> {
    frame: Option<Frame>,
    free: &'a mut Vec<Frame>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(mut self, f: F) -> R {
        let frame = self.frame.take().expect("an rx token holds a frame");
        let result = f(&frame.bytes[..frame.len]);
        self.free.push(frame);
        result
    }
}

impl Drop for RxToken<'_> {
    fn drop(&mut self) {
        if let Some(frame) = self.frame.take() {
            self.free.push(frame);
        }
    }
}

/// Only handed out while a free transmit buffer exists.
pub struct TxToken<'a> {
    free: &'a mut Vec<Frame>,
    queue: &'a mut VecDeque<Frame>,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = self.free.pop().expect("a tx token has a free buffer");
        assert!(len <= FRAME, "frame of {len} bytes");
        frame.len = len;
        let result = f(&mut frame.bytes[..len]);
        self.queue.push_back(frame);
        result
    }
}

impl phy::Device for QueueDevice {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let QueueDevice {
            rx_free,
            rx_queue,
            tx_free,
            tx_queue,
            ..
        } = self;
        if tx_free.is_empty() {
            return None;
        }
        let frame = rx_queue.pop_front()?;
        Some((
            RxToken {
                frame: Some(frame),
                free: rx_free,
            },
            TxToken {
                free: tx_free,
                queue: tx_queue,
            },
        ))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        if self.tx_free.is_empty() {
            return None;
        }
        Some(TxToken {
            free: &mut self.tx_free,
            queue: &mut self.tx_queue,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // For Ethernet smoltcp counts the header: an IP MTU of 1500.
        caps.max_transmission_unit = FRAME;
        // The default ChecksumCapabilities: computed and verified in
        // software.
        caps
    }
}
