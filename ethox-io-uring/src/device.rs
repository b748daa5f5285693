//! The device: which buffer goes where (free, posted for receive, waiting
//! to be lent, queued to send), lending them to the stack, and counting
//! what happened. The kernel side, and every `unsafe` block, is in
//! [`crate::ring`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use ethox::nic::memory::{MemoryFrame, MemoryHandle};
use ethox::nic::sys::{
    self, RawOptions, RawSocket, SysStats, TapDevice, TapOptions, VNET_HEADER_NONE, VnetHeader,
    vnet,
};
use ethox::nic::{self, Capabilities, Device, Handle, Info, Packet, Recv, Send};
use ethox::wire::EthernetAddress;

use crate::Error;
use crate::ring::{Completion, MAX_BUFFERS, Ring, Shape, Want};

/// The smallest frame buffer: an Ethernet frame of the 60-byte minimum.
const MIN_FRAME_SIZE: usize = 60;

/// The largest frame buffer: no Linux interface carries a longer frame.
const MAX_FRAME_SIZE: usize = 65_535;

/// The most single-shot receives in flight. Each waits on the file's
/// wait queue, and every frame (and, on a socket, every buffer a send
/// frees) wakes them all: thousands in flight cut a packet socket to
/// tens of thousands of frames a second. A receive submitted while frames
/// wait completes at once, so a few dozen keep up.
const SINGLE_SHOT_IN_FLIGHT: usize = 32;

/// How long [`UringNic::close`] waits for the kernel to finish.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// What the file descriptor is, which decides the operations used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Medium {
    /// One `read` returns one frame and one `write` sends one: a TAP
    /// (`IFF_TAP | IFF_NO_PI`), or a `SOCK_SEQPACKET`/`SOCK_DGRAM` socket
    /// (tests use a socket pair). Receives are `ReadFixed` (or
    /// `ReadMulti`), sends `WriteFixed`.
    Tap,
    /// An `AF_PACKET` socket bound to an interface with `PACKET_AUXDATA`
    /// on, as [`UringNic::open_packet`] opens it. Receives are `RecvMsg`
    /// (or `RecvMsgMulti`), for the checksum state in the control
    /// messages; sends are `Send`.
    Packet,
}

/// How frames are received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RxMode {
    /// Multishot where the kernel has it (by the opcode probe, and falling
    /// back if the first multishot receive is refused), else single-shot.
    #[default]
    Auto,
    /// One multishot receive and a provided-buffer ring; set-up fails
    /// with [`Error::Unsupported`] where the kernel lacks them.
    Multishot,
    /// One receive operation per posted buffer (the fallback; selectable
    /// so that it can be tested and compared).
    SingleShot,
}

/// The shape of an io_uring NIC, fixed at set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Packet buffers in the pool: 1 to 32768. The memory is allocated
    /// once, at set-up.
    pub buffers: usize,
    /// The largest frame a buffer holds: 60 to 65535 bytes; an IP MTU of
    /// 1500 needs 1514. The interface's MTU must fit.
    pub frame_size: usize,
    /// Buffers kept posted for receive (the rest serve `tx`); `None`:
    /// three quarters. Single-shot receives keep at most 32 of them in
    /// flight (every receive waiting on a file is woken by every frame). On the kernels measured a multishot ring of 512
    /// buffers ran dry under load and one of 4096 did not; running dry is
    /// not fatal (the receive is re-armed, counted in
    /// [`UringStats::rx_enobufs`]) but frames are lost meanwhile.
    pub rx_buffers: Option<usize>,
    /// Multishot or single-shot receives.
    pub rx_mode: RxMode,
    /// Register the buffers with the kernel (fixed buffers: no page
    /// pinning per operation). Registration pins the memory; where the
    /// locked-memory limit refuses it the device runs without.
    pub register_buffers: bool,
    /// Only the thread that creates the device uses it (`rx`, `tx`,
    /// `wait` and the drop): the kernel then runs finished operations
    /// only when that thread asks for completions, in one batch, instead
    /// of as they finish (`IORING_SETUP_DEFER_TASKRUN`, Linux 6.1). On
    /// the machines measured this cut the receive cost per frame by a
    /// fifth and raised the TAP receive rate by half.
    ///
    /// Another thread's calls then fail with `EEXIST`, and a device
    /// dropped on another thread cannot wait for the kernel, so it leaks
    /// its buffers (see [`UringNic::close`]). Off by default, since the
    /// device may move between threads.
    pub single_thread: bool,
    /// Exchange virtio-net headers with the kernel and take its offloads,
    /// as [`TapOptions::offload`] and [`RawOptions::offload`] describe
    /// (a TAP with `IFF_VNET_HDR`, a packet socket with
    /// `PACKET_VNET_HDR`): checksums a local sender left unfinished
    /// arrive marked offloaded, and with a `frame_size` of 65535 TCP
    /// crosses in segments of up to 64 KiB both ways
    /// ([`UringStats::rx_segmented`]), which cuts the per-frame work of
    /// both sides for bulk TCP. Off by default: the buffers then need
    /// 64 KiB each, so fewer of them make sense (512 take 32 MiB).
    pub offload: bool,
}

impl Default for Config {
    /// 4096 buffers of 1514 bytes, 3072 of them posted for receive,
    /// multishot where available, registered buffers, usable from any
    /// thread.
    fn default() -> Self {
        Config {
            buffers: 4096,
            frame_size: 1514,
            rx_buffers: None,
            rx_mode: RxMode::Auto,
            register_buffers: true,
            single_thread: false,
            offload: false,
        }
    }
}

impl Config {
    /// Buffers kept posted for receive.
    fn rx_target(&self) -> usize {
        self.rx_buffers
            .unwrap_or(self.buffers * 3 / 4)
            .clamp(1, self.buffers.max(1))
    }

    fn check(&self) -> Result<(), Error> {
        if self.buffers == 0 || self.buffers > MAX_BUFFERS {
            return Err(Error::BadConfiguration {
                what: "buffers must be 1 to 32768",
            });
        }
        if !(MIN_FRAME_SIZE..=MAX_FRAME_SIZE).contains(&self.frame_size) {
            return Err(Error::BadConfiguration {
                what: "frame_size must be 60 to 65535 bytes",
            });
        }
        if self
            .rx_buffers
            .is_some_and(|rx| rx == 0 || rx > self.buffers)
        {
            return Err(Error::BadConfiguration {
                what: "rx_buffers must be 1 to `buffers`",
            });
        }
        Ok(())
    }
}

/// Counters of an io_uring NIC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UringStats {
    /// Frames lent to the stack by `rx`.
    pub rx_frames: u64,
    /// Frames the kernel sent.
    pub tx_frames: u64,
    /// Received frames larger than a buffer, dropped.
    pub rx_too_large: u64,
    /// Received frames whose TCP/UDP checksum a local sender left
    /// unfinished (packet sockets, TAPs with [`Config::offload`]), lent
    /// with that checksum reported as offloaded.
    pub rx_partial_checksum: u64,
    /// Received TCP segments the kernel did not cut to the MTU (TAPs with
    /// [`Config::offload`] and 64 KiB buffers).
    pub rx_segmented: u64,
    /// Receive completions with an error (other than cancellation and a
    /// multishot receive running out of buffers).
    pub rx_errors: u64,
    /// The `errno` of the last of those; 0 if none.
    pub last_rx_errno: i32,
    /// Send completions with an error, or that sent less than the frame:
    /// those frames are dropped.
    pub tx_errors: u64,
    /// The `errno` of the last failed send; 0 if none.
    pub last_tx_errno: i32,
    /// Times the multishot receive stopped because the buffer ring ran
    /// dry (`ENOBUFS`); each is re-armed once buffers are back. Frames
    /// arriving meanwhile wait in the socket or are dropped by the kernel.
    pub rx_enobufs: u64,
    /// Times the multishot receive was armed again after it stopped.
    pub rx_rearms: u64,
    /// Times the kernel refused the multishot receive and the device fell
    /// back to single-shot receives.
    pub multishot_fallbacks: u64,
    /// Times `tx` wanted a buffer and none was free.
    pub tx_exhausted: u64,
    /// `io_uring_enter` calls made by `rx`, `tx` and `close` (not by
    /// `wait`, which makes one per call).
    pub enters: u64,
    /// Completions naming a buffer the kernel did not have, ignored.
    pub bogus_completions: u64,
}

impl From<UringStats> for SysStats {
    /// The counters ethox's system NICs share: a too-large frame is
    /// `rx_truncated`, a failed send `tx_dropped`.
    fn from(stats: UringStats) -> SysStats {
        SysStats {
            rx_frames: stats.rx_frames,
            tx_frames: stats.tx_frames,
            rx_truncated: stats.rx_too_large,
            rx_partial_checksum: stats.rx_partial_checksum,
            rx_segmented: stats.rx_segmented,
            rx_outgoing: 0,
            tx_dropped: stats.tx_errors,
            last_tx_errno: stats.last_tx_errno,
        }
    }
}

/// What holds the file descriptor: ethox's own device (which opened it
/// and answers for the interface), or the caller's descriptor.
#[derive(Debug)]
enum File {
    Tap(TapDevice<Vec<u8>, 1>),
    Packet(RawSocket<Vec<u8>, 1>),
    Fd(OwnedFd),
}

impl File {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            File::Tap(tap) => tap.as_fd(),
            File::Packet(socket) => socket.as_fd(),
            File::Fd(fd) => fd.as_fd(),
        }
    }
}

/// A fixed-capacity FIFO of buffer indices.
#[derive(Debug)]
struct Fifo {
    slots: Box<[u16]>,
    head: usize,
    len: usize,
}

impl Fifo {
    fn new(capacity: usize) -> Fifo {
        Fifo {
            slots: vec![0; capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, slot: u16) {
        // Each buffer is in one place at a time, so this never overflows;
        // the check keeps that an invariant, not an assumption.
        if self.len < self.slots.len() {
            let at = (self.head + self.len) % self.slots.len();
            self.slots[at] = slot;
            self.len += 1;
        }
    }

    fn peek(&self) -> Option<u16> {
        (self.len > 0).then(|| self.slots[self.head])
    }

    fn pop(&mut self) -> Option<u16> {
        let slot = self.peek()?;
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        Some(slot)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A NIC driven by io_uring over a TAP or an `AF_PACKET` socket.
///
/// The pool's buffers are allocated at set-up; receives (one multishot
/// operation with a provided-buffer ring, or one operation per buffer)
/// and sends are in flight together, and each `rx` or `tx` call ends with
/// one `io_uring_enter` that submits everything the batch queued. The
/// stack reads each frame in the buffer the kernel filled; a frame
/// answered in place is sent from that buffer.
///
/// An event loop sleeps in [`wait`](Self::wait) until a completion
/// arrives or the stack's next deadline passes.
///
/// Dropping the device cancels what is in flight and waits for the
/// kernel to finish with every buffer before freeing the memory (see
/// [`close`](Self::close)).
#[derive(Debug)]
pub struct UringNic {
    // Declared first, so dropped first: the ring drains before the file
    // closes (the kernel holds the file open while registered anyway).
    ring: Ring,
    file: File,
    medium: Medium,
    shape: Shape,
    /// Free buffers, most recently used last (warm in the cache).
    free: Vec<u16>,
    /// Received frames waiting to be lent.
    ready: Fifo,
    /// Frames queued for sending that are not yet in the submission queue.
    pending: Fifo,
    /// The frame length of each buffer waiting to be lent or sent.
    lens: Box<[u32]>,
    /// The segment size the stack asked for, per queued buffer.
    segment_sizes: Box<[u16]>,
    /// The capabilities lent with buffers for `tx`.
    tx_capabilities: Capabilities,
    /// The control-message length of each received buffer.
    controls: Box<[u8]>,
    rx_target: usize,
    stats: UringStats,
}

impl UringNic {
    /// Creates the TAP `name` in the calling thread's network namespace
    /// (or attaches to an existing one nobody holds), as ethox's
    /// [`TapDevice::open`] does, and drives it through io_uring. The
    /// interface's MTU must fit `config.frame_size`.
    ///
    /// Needs `CAP_NET_ADMIN`.
    pub fn open_tap(name: &str, config: &Config) -> Result<Self, Error> {
        Self::create_tap(name, None, config)
    }

    /// [`open_tap`](Self::open_tap), and sets the interface's MTU to `mtu`.
    pub fn open_tap_with_mtu(name: &str, mtu: usize, config: &Config) -> Result<Self, Error> {
        Self::create_tap(name, Some(mtu), config)
    }

    fn create_tap(name: &str, mtu: Option<usize>, config: &Config) -> Result<Self, Error> {
        config.check()?;
        let options = TapOptions {
            mtu,
            offload: config.offload,
        };
        // A device of one buffer of the frame size: it checks the MTU
        // against it and decides the offloads as the frames allow.
        let tap = TapDevice::open_with(name, options, vec![0; config.frame_size])?;
        let vnet_header = tap.vnet_header();
        Self::new(File::Tap(tap), Medium::Tap, vnet_header, config)
    }

    /// Opens an `AF_PACKET` socket on the interface `name` (a veth end, a
    /// NIC), as ethox's [`RawSocket::open`] does (bound, with
    /// `PACKET_AUXDATA`, not seeing its own frames), and drives it through
    /// io_uring. The interface's MTU must fit `config.frame_size`.
    ///
    /// Needs `CAP_NET_RAW`.
    pub fn open_packet(name: &str, config: &Config) -> Result<Self, Error> {
        config.check()?;
        let options = RawOptions {
            offload: config.offload,
        };
        let socket = RawSocket::open_with(name, options, vec![0; config.frame_size])?;
        let vnet_header = socket.vnet_header();
        Self::new(File::Packet(socket), Medium::Packet, vnet_header, config)
    }

    /// Drives the caller's `fd` as `medium` says. For [`Medium::Packet`]
    /// the socket must be bound to an interface; without `PACKET_AUXDATA`
    /// every checksum is the stack's to verify. With
    /// [`Config::offload`] the descriptor's frames carry a virtio-net
    /// header (a TAP opened with `IFF_VNET_HDR`, a socket with
    /// `PACKET_VNET_HDR`).
    pub fn from_fd(fd: OwnedFd, medium: Medium, config: &Config) -> Result<Self, Error> {
        config.check()?;
        Self::new(File::Fd(fd), medium, config.offload, config)
    }

    fn new(file: File, medium: Medium, vnet_header: bool, config: &Config) -> Result<Self, Error> {
        let shape = Shape::new(medium, config.buffers, config.frame_size, vnet_header);
        let want = match config.rx_mode {
            RxMode::Auto => Want::Auto,
            RxMode::Multishot => Want::Multishot,
            RxMode::SingleShot => Want::SingleShot,
        };
        let ring = Ring::new(
            file.fd().as_raw_fd(),
            medium,
            shape,
            want,
            config.register_buffers,
            config.single_thread,
        )?;
        let count = shape.count;
        let mut nic = UringNic {
            ring,
            file,
            medium,
            shape,
            // Popped from the end: buffer 0 first.
            free: (0..count as u16).rev().collect(),
            ready: Fifo::new(count),
            pending: Fifo::new(count),
            lens: vec![0; count].into_boxed_slice(),
            segment_sizes: vec![0; count].into_boxed_slice(),
            tx_capabilities: if vnet_header {
                vnet::tx_capabilities(shape.capacity >= sys::SEGMENTATION_FRAME_CAPACITY)
            } else {
                Capabilities::SOFTWARE
            },
            controls: vec![0; count].into_boxed_slice(),
            rx_target: config.rx_target(),
            stats: UringStats::default(),
        };
        nic.replenish();
        nic.ring.submit().map_err(|err| {
            Error::io(
                "io_uring_enter (first receives)",
                err.raw_os_error().unwrap_or(0),
            )
        })?;
        Ok(nic)
    }

    /// The interface's name (`None` for a caller's descriptor).
    pub fn name(&self) -> Option<&str> {
        match &self.file {
            File::Tap(tap) => Some(tap.name()),
            File::Packet(socket) => Some(socket.name()),
            File::Fd(_) => None,
        }
    }

    /// The interface's IP MTU at set-up (`None` for a caller's
    /// descriptor).
    pub fn mtu(&self) -> Option<usize> {
        match &self.file {
            File::Tap(tap) => Some(tap.mtu()),
            File::Packet(socket) => Some(socket.mtu()),
            File::Fd(_) => None,
        }
    }

    /// The interface's hardware address, for a packet socket: a natural
    /// choice for the stack's.
    pub fn mac_address(&self) -> Option<EthernetAddress> {
        match &self.file {
            File::Packet(socket) => Some(socket.mac_address()),
            _ => None,
        }
    }

    /// Sets a TAP administratively up (`ip link set <name> up`); the
    /// kernel drops what the stack sends until it is. Does nothing for
    /// other descriptors.
    pub fn set_up(&self) -> Result<(), Error> {
        match &self.file {
            File::Tap(tap) => Ok(tap.set_up()?),
            _ => Ok(()),
        }
    }

    /// Puts a packet socket's interface in promiscuous mode, or takes the
    /// request back, as [`RawSocket::set_promiscuous`] does. Does nothing
    /// for other descriptors.
    pub fn set_promiscuous(&self, on: bool) -> Result<(), Error> {
        match &self.file {
            File::Packet(socket) => Ok(socket.set_promiscuous(on)?),
            _ => Ok(()),
        }
    }

    /// What the descriptor is.
    pub fn medium(&self) -> Medium {
        self.medium
    }

    /// Whether TCP crosses unsegmented: [`Config::offload`] and a
    /// `frame_size` of 65535.
    pub fn segmentation_offload(&self) -> bool {
        self.shape.vnet > 0 && self.shape.capacity >= sys::SEGMENTATION_FRAME_CAPACITY
    }

    /// The largest frame a buffer holds.
    pub fn frame_capacity(&self) -> usize {
        self.shape.capacity
    }

    /// The buffers in the pool.
    pub fn buffers(&self) -> usize {
        self.shape.count
    }

    /// Whether frames are received by a multishot operation (else one
    /// operation per buffer).
    pub fn multishot(&self) -> bool {
        self.ring.multishot()
    }

    /// Whether the buffers are registered with the kernel.
    pub fn registered_buffers(&self) -> bool {
        self.ring.registered()
    }

    /// Operations in flight (receives, sends).
    pub fn in_flight(&self) -> usize {
        self.ring.outstanding()
    }

    /// Free buffers: neither posted for receive, waiting, lent nor being
    /// sent.
    pub fn free_buffers(&self) -> usize {
        self.free.len()
    }

    /// The device's counters.
    pub fn stats(&self) -> UringStats {
        let counters = self.ring.counters();
        UringStats {
            enters: counters.enters,
            rx_rearms: counters.arms.saturating_sub(1),
            bogus_completions: counters.bogus,
            ..self.stats
        }
    }

    /// Submits what is queued and waits until a frame arrived or a send
    /// finished, at most `timeout` (`None`: no limit). Returns whether
    /// there is something to do: `false` after the timeout or a signal.
    ///
    /// An event loop passes the time until the stack's next deadline, so
    /// an idle host sleeps exactly as long as it may. It waits for one
    /// completion at a time: waiting for several in one call stalled
    /// under multishot load on the kernels measured.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let rearm = self.ring.multishot() && !self.ring.armed();
        if self.ready.len() > 0 || self.pending.len() > 0 || rearm {
            return Ok(true);
        }
        self.ring.wait(timeout)
    }

    /// Cancels what is in flight, waits for the kernel to finish with
    /// every buffer, and frees the memory; what dropping the device does,
    /// with the outcome. Returns `false` if the kernel did not finish
    /// within 5 seconds: the buffers are then leaked, never freed, since
    /// the kernel may still write to them.
    pub fn close(mut self) -> bool {
        self.ring.drain(CLOSE_LIMIT)
        // Dropping the drained ring frees the memory at once; a ring that
        // did not drain tries again and then leaks.
    }

    /// Takes what completed: received frames to `ready`, sent buffers
    /// back to `free`.
    fn reap(&mut self) {
        while let Some(completion) = self.ring.next() {
            match completion {
                Completion::Received {
                    slot,
                    len,
                    truncated,
                    control_len,
                } => {
                    if truncated {
                        self.stats.rx_too_large += 1;
                        self.free.push(slot);
                        continue;
                    }
                    let index = usize::from(slot);
                    self.lens[index] = len as u32;
                    self.controls[index] = control_len as u8;
                    self.ready.push(slot);
                }
                Completion::Empty { slot, errno } => {
                    if errno != 0 && errno != libc::ECANCELED && errno != libc::ENOBUFS {
                        self.stats.rx_errors += 1;
                        self.stats.last_rx_errno = errno;
                    }
                    self.free.push(slot);
                }
                Completion::Sent { slot, result } => {
                    let len = self.lens.get(usize::from(slot)).copied().unwrap_or(0);
                    match u32::try_from(result) {
                        Ok(sent) if sent >= len => self.stats.tx_frames += 1,
                        Ok(_) => {
                            self.stats.tx_errors += 1;
                            self.stats.last_tx_errno = libc::EMSGSIZE;
                        }
                        Err(_) => {
                            self.stats.tx_errors += 1;
                            self.stats.last_tx_errno = -result;
                        }
                    }
                    self.free.push(slot);
                }
                Completion::MultishotEnded { errno } => self.multishot_ended(errno),
                Completion::Other | Completion::Bogus => {}
            }
        }
    }

    /// The multishot receive stopped with `errno`: it is re-armed by
    /// `replenish`, unless it failed before delivering anything (the
    /// kernel refuses multishot on this file), where receiving falls back
    /// to single-shot operations rather than failing again and again.
    fn multishot_ended(&mut self, errno: i32) {
        match errno {
            0 | libc::ECANCELED => {}
            libc::ENOBUFS => self.stats.rx_enobufs += 1,
            errno => {
                self.stats.rx_errors += 1;
                self.stats.last_rx_errno = errno;
                if !self.ring.delivered() {
                    let free = &mut self.free;
                    if self.ring.abandon_multishot(|slot| free.push(slot)) {
                        self.stats.multishot_fallbacks += 1;
                    }
                }
            }
        }
    }

    /// Buffers the receive side may still claim from `free`.
    fn rx_deficit(&self) -> usize {
        let held = self.ready.len() + self.ring.provided() + self.ring.receiving();
        let target = if self.ring.multishot() {
            self.rx_target
        } else {
            self.rx_target.min(SINGLE_SHOT_IN_FLIGHT)
        };
        target.saturating_sub(held)
    }

    /// Posts free buffers for receive, up to the target, and (re-)arms
    /// the multishot receive.
    fn replenish(&mut self) {
        let mut wanted = self.rx_deficit();
        while wanted > 0 {
            let Some(slot) = self.free.pop() else {
                break;
            };
            let posted = if self.ring.multishot() {
                self.ring.provide(slot)
            } else {
                self.ring.room(1) && self.ring.receive(slot)
            };
            if !posted {
                self.free.push(slot);
                break;
            }
            wanted -= 1;
        }
        if self.ring.multishot() && !self.ring.armed() && self.ring.provided() > 0 {
            self.ring.arm();
        }
    }

    /// Moves the queued frames into the submission queue, submitting when
    /// it is full.
    fn flush(&mut self) -> io::Result<()> {
        while let Some(slot) = self.pending.peek() {
            if !self.ring.room(1) {
                self.ring.submit()?;
                if !self.ring.room(1) {
                    break;
                }
            }
            let len = self.lens.get(usize::from(slot)).copied().unwrap_or(0);
            self.pending.pop();
            let header = self.tx_header(slot, len as usize);
            if !self.ring.send(slot, len as usize, header) {
                // Not the device's buffer or too long: cannot happen with
                // buffers lent by this device; dropped, not retried.
                self.stats.tx_errors += 1;
                self.free.push(slot);
            }
        }
        Ok(())
    }

    /// The end of every batch: queued frames and receives submitted, with
    /// one `io_uring_enter`.
    fn finish(&mut self) -> nic::Result<()> {
        let flushed = self.flush();
        self.replenish();
        flushed
            .and_then(|()| self.ring.submit())
            .map_err(|err| nic::Error::Os(err.raw_os_error().unwrap_or(0)))
    }

    /// Lends buffer `slot` holding `len` bytes to `lend`, then files it:
    /// queued to send if the stack queued it, else free. Returns whether
    /// it was queued.
    fn lend(
        &mut self,
        slot: u16,
        len: usize,
        info: Info,
        lend: impl FnOnce(&mut MemoryHandle, &mut MemoryFrame<'_>),
    ) -> bool {
        let Some((_, bytes)) = self.ring.parts(slot, 0) else {
            return false;
        };
        let mut handle = MemoryHandle::new(info);
        let mut frame = MemoryFrame::new(bytes, len);
        lend(&mut handle, &mut frame);
        let len = frame.len();
        let queued = handle.is_queued();
        if let Some(slot_len) = self.lens.get_mut(usize::from(slot)) {
            *slot_len = len as u32;
        }
        if let Some(size) = self.segment_sizes.get_mut(usize::from(slot)) {
            *size = handle.segment_size();
        }
        if queued {
            self.pending.push(slot);
        } else {
            self.free.push(slot);
        }
        queued
    }

    /// A received frame's final length and capabilities, or `None` if it
    /// is dropped (counted).
    fn finish_frame(&mut self, slot: u16, len: usize) -> Option<(usize, Capabilities)> {
        let (len, mut capabilities) = match self.medium {
            // The kernel finishes every checksum before a frame reaches a
            // TAP without offloads, as for TapDevice.
            Medium::Tap => (len, Capabilities::SOFTWARE),
            Medium::Packet => {
                let control_len = usize::from(self.controls.get(usize::from(slot)).copied()?);
                let (control, frame) = self.ring.parts(slot, control_len)?;
                match sys::finish_packet(control, frame, len) {
                    Some((len, capabilities, unfinished)) => {
                        self.stats.rx_partial_checksum += u64::from(unfinished);
                        (len, capabilities)
                    }
                    None => {
                        self.stats.rx_too_large += 1;
                        return None;
                    }
                }
            }
        };
        if let Some(header) = self.ring.vnet_header(slot) {
            let header = VnetHeader::parse(&header)?;
            capabilities = header.add_to(capabilities);
            // A packet socket's control message counted it already.
            if self.medium == Medium::Tap {
                self.stats.rx_partial_checksum += u64::from(header.partial_checksum());
            }
            self.stats.rx_segmented += u64::from(header.segmented());
        }
        Some((len, capabilities))
    }

    /// The virtio-net header to send the `len`-byte frame in `slot`
    /// behind (TAPs with offloads; ignored by others).
    fn tx_header(&mut self, slot: u16, len: usize) -> [u8; sys::VNET_HEADER_LEN] {
        if self.shape.vnet == 0 {
            return VNET_HEADER_NONE;
        }
        let segment_size = self
            .segment_sizes
            .get(usize::from(slot))
            .copied()
            .unwrap_or(0);
        match self.ring.parts(slot, 0) {
            Some((_, frame)) => match frame.get_mut(..len) {
                Some(frame) => vnet::tx_header(frame, segment_size),
                None => VNET_HEADER_NONE,
            },
            None => VNET_HEADER_NONE,
        }
    }

    /// A free buffer for `tx`, leaving enough for the receive side; when
    /// none is, finished sends are taken back first.
    fn take_for_tx(&mut self) -> Option<u16> {
        if self.free.len() <= self.rx_deficit() {
            // Sends on a TAP or a packet socket finish during the submit
            // that starts them: submitting frees their buffers.
            let _ = self.flush();
            let _ = self.ring.submit();
            self.reap();
        }
        if self.free.len() <= self.rx_deficit() {
            self.stats.tx_exhausted += 1;
            return None;
        }
        self.free.pop()
    }
}

impl Device for UringNic {
    type Handle<'d> = MemoryHandle;
    type Payload<'d> = MemoryFrame<'d>;

    /// Lends up to `max` received frames to `receiver`, in the buffers
    /// the kernel filled; frames it queued (answers in place) are sent
    /// from the same buffers. Ends with one `io_uring_enter` submitting
    /// the answers and the receives that replace the lent buffers.
    ///
    /// Frames larger than a buffer are dropped and counted
    /// ([`UringStats::rx_too_large`]). Fails with [`nic::Error::Os`] only
    /// if `io_uring_enter` itself fails; failed operations are counted.
    fn rx<R: Recv<Self>>(&mut self, max: usize, mut receiver: R) -> nic::Result<usize> {
        self.reap();
        let timestamp = sys::now();
        let mut count = 0;
        while count < max {
            let Some(slot) = self.ready.pop() else {
                break;
            };
            let len = self.lens.get(usize::from(slot)).copied().unwrap_or(0) as usize;
            let Some((len, capabilities)) = self.finish_frame(slot, len) else {
                self.free.push(slot);
                continue;
            };
            self.stats.rx_frames += 1;
            let info = Info {
                timestamp,
                capabilities,
            };
            self.lend(slot, len, info, |handle, payload| {
                receiver.receive(Packet { handle, payload })
            });
            count += 1;
        }
        self.finish()?;
        Ok(count)
    }

    /// Lends up to `max` free buffers to `sender` and sends the frames it
    /// queued, submitted with one `io_uring_enter`. The buffers return to
    /// the pool when the kernel reports the send done. Buffers reserved
    /// for receiving are not lent ([`Config::rx_buffers`]).
    fn tx<S: Send<Self>>(&mut self, max: usize, mut sender: S) -> nic::Result<usize> {
        self.reap();
        let info = Info {
            timestamp: sys::now(),
            capabilities: self.tx_capabilities,
        };
        let mut count = 0;
        while count < max {
            let Some(slot) = self.take_for_tx() else {
                break;
            };
            let queued = self.lend(slot, 0, info, |handle, payload| {
                sender.send(Packet { handle, payload })
            });
            if !queued {
                break;
            }
            count += 1;
        }
        self.finish()?;
        Ok(count)
    }
}

impl AsRawFd for UringNic {
    fn as_raw_fd(&self) -> RawFd {
        self.file.fd().as_raw_fd()
    }
}

impl AsFd for UringNic {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_are_checked() {
        assert!(Config::default().check().is_ok());
        assert_eq!(Config::default().rx_target(), 3072);
        let bad = [
            Config {
                buffers: 0,
                ..Config::default()
            },
            Config {
                buffers: MAX_BUFFERS + 1,
                ..Config::default()
            },
            Config {
                frame_size: 59,
                ..Config::default()
            },
            Config {
                frame_size: 65_536,
                ..Config::default()
            },
            Config {
                rx_buffers: Some(0),
                ..Config::default()
            },
            Config {
                rx_buffers: Some(4097),
                ..Config::default()
            },
        ];
        for config in bad {
            let err = config.check().unwrap_err();
            assert!(matches!(err, Error::BadConfiguration { .. }), "{config:?}");
            assert!(err.to_string().contains("must be"), "{err}");
        }
        let one = Config {
            buffers: 1,
            ..Config::default()
        };
        assert_eq!(one.rx_target(), 1);
    }

    #[test]
    fn the_device_moves_between_threads() {
        fn send<T: std::marker::Send>() {}
        send::<UringNic>();
    }

    #[test]
    fn fifo_keeps_order_and_bounds() {
        let mut fifo = Fifo::new(3);
        for slot in [5, 6, 7, 8] {
            fifo.push(slot);
        }
        assert_eq!(fifo.len(), 3);
        assert_eq!(fifo.pop(), Some(5));
        fifo.push(9);
        assert_eq!(fifo.pop(), Some(6));
        assert_eq!(fifo.pop(), Some(7));
        assert_eq!(fifo.pop(), Some(9));
        assert_eq!(fifo.pop(), None);
    }
}
