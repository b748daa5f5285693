//! Network devices: where packet buffers come from.
//!
//! A [`Device`] owns its packet buffers and lends them to the stack, a
//! batch at a time, through two calls:
//!
//! * [`Device::rx`] lends up to `max` received frames, one after another, to
//!   a [`Recv`] handler (the root of the protocol tree);
//! * [`Device::tx`] lends up to `max` empty buffers to a [`Send`] handler,
//!   which may fill them.
//!
//! A lent [`Packet`] is a `&mut` handle plus a `&mut` payload, both
//! borrowed from the device for the duration of one callback. Calling
//! [`Handle::queue`] asks the device to transmit the buffer once the
//! callback returns; that is how a received frame is answered in place
//! (an ICMP echo reply, a TCP ACK) without copying.
//!
//! The handle and payload types are generic associated types of the
//! device, so a backend's handle can borrow the device's own rings (an
//! AF_XDP completion ring, an io_uring submission queue) for exactly that
//! long, without raw-pointer tricks.
//!
//! Batching exists here and only here: the device decides how many
//! buffers to lend per call, and the layers above handle one at a time.
//!
//! The devices here: [`memory`] (an in-memory link), [`fault`] (seeded
//! faults around another device), [`capture`] (pcap recording), and with
//! feature `sys` the system NICs of `nic::sys` (a TAP, an `AF_PACKET`
//! socket).
//!
//! ```
//! use ethox::nic::{Device, Handle, Packet, Payload, PayloadMut, Recv, Send};
//! use ethox::nic::memory::{MemoryNic, MemoryLink};
//! use ethox::time::Instant;
//!
//! // Sends one 60-byte frame of 0xab.
//! struct Writer;
//! impl<D: Device + ?Sized> Send<D> for Writer {
//!     fn send(&mut self, packet: Packet<'_, '_, D>) {
//!         if packet.payload.resize(60).is_ok() {
//!             packet.payload.payload_mut().fill(0xab);
//!             let _ = packet.handle.queue();
//!         }
//!     }
//! }
//!
//! // Counts the bytes it is lent.
//! struct Counter(usize);
//! impl<D: Device + ?Sized> Recv<D> for Counter {
//!     fn receive(&mut self, packet: Packet<'_, '_, D>) {
//!         self.0 += packet.payload.payload().len();
//!     }
//! }
//!
//! let mut a = MemoryNic::<_, 4>::new([0u8; 4 * 1514], 1514).unwrap();
//! let mut b = MemoryNic::<_, 4>::new([0u8; 4 * 1514], 1514).unwrap();
//! a.tx(1, Writer).unwrap();
//! MemoryLink::transfer(&mut a, &mut b);
//! b.set_time(Instant::from_millis(5));
//! let mut counter = Counter(0);
//! assert_eq!(b.rx(8, &mut counter).unwrap(), 1);
//! assert_eq!(counter.0, 60);
//! ```

pub mod capture;
pub mod fault;
pub mod memory;
pub mod vnet;
// The one module where the crate allows unsafe code: system calls.
#[cfg(feature = "sys")]
#[allow(unsafe_code)]
pub mod sys;

use core::fmt;

use crate::time::Instant;
use crate::wire::ChecksumMode;

/// Why a device operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// No buffer is free (transmit ring full, pool exhausted).
    Exhausted,
    /// A payload was resized beyond the buffer's capacity.
    TooLarge,
    /// The device's set-up is inconsistent (storage too small for the
    /// requested slots, a frame capacity below the minimum).
    BadConfiguration,
    /// The device is gone or failed with an OS error (`errno`).
    Os(i32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Exhausted => f.write_str("no free packet buffer"),
            Error::TooLarge => f.write_str("payload larger than the buffer"),
            Error::BadConfiguration => f.write_str("inconsistent device configuration"),
            Error::Os(errno) => write!(f, "device error (errno {errno})"),
        }
    }
}

impl core::error::Error for Error {}

/// The result type of device operations.
pub type Result<T> = core::result::Result<T, Error>;

/// Who verifies a protocol's checksum on receive and fills it on send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChecksumDuty {
    /// On receive: `Offloaded` if the device already verified it.
    pub rx: ChecksumMode,
    /// On send: `Offloaded` if the device fills it in.
    pub tx: ChecksumMode,
}

impl ChecksumDuty {
    /// Everything in software.
    pub const SOFTWARE: ChecksumDuty = ChecksumDuty {
        rx: ChecksumMode::Software,
        tx: ChecksumMode::Software,
    };
    /// The device verifies and fills.
    pub const OFFLOADED: ChecksumDuty = ChecksumDuty {
        rx: ChecksumMode::Offloaded,
        tx: ChecksumMode::Offloaded,
    };
}

/// What a device does for the stack, per protocol.
///
/// A layer consults its protocol's [`ChecksumDuty`] and skips the work the
/// device does. The default is everything in software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities {
    /// The IPv4 header checksum.
    pub ipv4: ChecksumDuty,
    /// UDP checksums (both IP versions).
    pub udp: ChecksumDuty,
    /// TCP checksums (both IP versions).
    pub tcp: ChecksumDuty,
    /// ICMPv4 checksums.
    pub icmpv4: ChecksumDuty,
    /// ICMPv6 checksums.
    pub icmpv6: ChecksumDuty,
    /// On send: the device cuts a TCP segment longer than the link's MTU
    /// into segments of the size set with [`Handle::set_segment_size`]
    /// (segmentation offload, TSO), so the stack may build segments of
    /// many MSS, up to the buffer's capacity.
    pub tcp_segmentation: bool,
}

impl Capabilities {
    /// Every checksum computed and verified in software.
    pub const SOFTWARE: Capabilities = Capabilities {
        ipv4: ChecksumDuty::SOFTWARE,
        udp: ChecksumDuty::SOFTWARE,
        tcp: ChecksumDuty::SOFTWARE,
        icmpv4: ChecksumDuty::SOFTWARE,
        icmpv6: ChecksumDuty::SOFTWARE,
        tcp_segmentation: false,
    };
}

/// What a device tells the stack about one lent packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// When the frame was received, or the time to use for sending. The
    /// stack has no clock of its own: all its timers run on this.
    pub timestamp: Instant,
    /// What the device does for this packet.
    pub capabilities: Capabilities,
}

/// The device's side of a lent packet.
pub trait Handle {
    /// Asks the device to transmit this buffer, with the payload as it is
    /// when the callback returns.
    ///
    /// On a received packet this turns the buffer into a reply sent in
    /// place. Fails with [`Error::Exhausted`] when the transmit queue is
    /// full; the buffer is then released as if not queued.
    fn queue(&mut self) -> Result<()>;

    /// Whether [`queue`](Self::queue) succeeded for this packet: the
    /// device transmits it when the callback returns. Wrappers (capture,
    /// statistics) use it to see what the stack sent.
    fn is_queued(&self) -> bool;

    /// The timestamp and capabilities for this packet.
    fn info(&self) -> Info;

    /// Asks the device to cut this packet, a TCP segment, into segments
    /// of `size` payload bytes on the way out. Only for devices whose
    /// [`Capabilities::tcp_segmentation`] is set; other devices ignore it
    /// (and the stack never builds a segment larger than the MTU for
    /// them). 0 takes the request back.
    fn set_segment_size(&mut self, size: u16);
}

/// A packet buffer's bytes, readable.
pub trait Payload {
    /// The bytes of the frame, from the first byte of the link header.
    fn payload(&self) -> &[u8];
}

/// A packet buffer whose bytes and length can change.
///
/// A layer that builds a frame resizes the buffer to the final length and
/// then writes headers front to back; a layer answering in place may shrink
/// or grow the frame and move bytes with `copy_within`, without copying the
/// payload out.
pub trait PayloadMut: Payload {
    /// The bytes of the frame, writable.
    fn payload_mut(&mut self) -> &mut [u8];

    /// The largest length the buffer can take.
    fn capacity(&self) -> usize;

    /// Sets the frame length. Bytes up to the smaller of the old and new
    /// lengths are kept; new bytes have unspecified contents.
    ///
    /// Fails with [`Error::TooLarge`] beyond [`capacity`](Self::capacity).
    fn resize(&mut self, len: usize) -> Result<()>;
}

/// A buffer lent by a device: its handle and its payload, both borrowed
/// for `'a` from a device borrowed for `'d`.
pub struct Packet<'a, 'd, D: Device + ?Sized> {
    /// Queues the buffer and reports its [`Info`].
    pub handle: &'a mut D::Handle<'d>,
    /// The frame bytes.
    pub payload: &'a mut D::Payload<'d>,
}

impl<'d, D: Device + ?Sized> Packet<'_, 'd, D> {
    /// A shorter borrow of the same packet, to hand to an inner handler
    /// and keep using afterwards.
    pub fn reborrow(&mut self) -> Packet<'_, 'd, D> {
        Packet {
            handle: &mut *self.handle,
            payload: &mut *self.payload,
        }
    }

    /// The packet's timestamp and capabilities.
    pub fn info(&self) -> Info {
        self.handle.info()
    }
}

/// A source and sink of frames that lends its buffers to the stack.
pub trait Device {
    /// The per-packet handle, possibly borrowing device state for `'d`.
    type Handle<'d>: Handle + ?Sized;

    /// The per-packet buffer, possibly borrowing device memory for `'d`.
    type Payload<'d>: PayloadMut + ?Sized;

    /// Lends up to `max` received frames to `receiver`, one at a time, and
    /// returns how many it lent. Zero means nothing was waiting.
    fn rx<R: Recv<Self>>(&mut self, max: usize, receiver: R) -> Result<usize>;

    /// Lends up to `max` empty buffers to `sender`, one at a time, and
    /// returns how many were queued for transmission. Lending stops early
    /// when the sender leaves a buffer unqueued (it had nothing to send)
    /// or no buffer is free.
    fn tx<S: Send<Self>>(&mut self, max: usize, sender: S) -> Result<usize>;
}

/// A handler of received packets: the root of a receive tree.
pub trait Recv<D: Device + ?Sized> {
    /// Handles one received packet.
    fn receive(&mut self, packet: Packet<'_, '_, D>);
}

/// A producer of packets to send: the root of a send tree.
///
/// Named after what it does; import it as `nic::Send` where the marker
/// trait `core::marker::Send` is also in scope.
pub trait Send<D: Device + ?Sized> {
    /// Fills one empty buffer and queues it, or leaves it unqueued when
    /// there is nothing to send.
    fn send(&mut self, packet: Packet<'_, '_, D>);
}

impl<D: Device + ?Sized, R: Recv<D> + ?Sized> Recv<D> for &mut R {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        (**self).receive(packet)
    }
}

impl<D: Device + ?Sized, S: Send<D> + ?Sized> Send<D> for &mut S {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        (**self).send(packet)
    }
}
