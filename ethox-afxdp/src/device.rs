//! The AF_XDP device: set-up, counters, and the `Device` trait.

use core::fmt;
use core::time::Duration;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use ethox::nic::memory::{MemoryFrame, MemoryHandle};
use ethox::nic::sys::{self as nic_sys, IfName};
use ethox::nic::{self, Capabilities, Device, Handle, Info, Packet, Payload, Recv, Send};
use ethox::wire::EthernetAddress;
use ethox::wire::ethernet;

use crate::Error;
use crate::sys::{self, Bound, Received, XdpProgram, Xsk};

/// The most frames a UMEM may have: 2^20 (2 or 4 GiB of pinned memory).
pub const MAX_FRAMES: u32 = 1 << 20;

/// Where the XDP program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum XdpMode {
    /// In the driver, before the kernel builds a socket buffer
    /// (`XDP_FLAGS_DRV_MODE`): the fast mode, for drivers with XDP
    /// support (veth has it; its MTU must then stay below ~3498).
    #[default]
    Native,
    /// In the kernel's generic receive path, for any interface
    /// (`XDP_FLAGS_SKB_MODE`): slower, as every frame first becomes a
    /// socket buffer.
    Generic,
}

/// How the socket shares the UMEM with the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// Zero-copy (`XDP_ZEROCOPY`): the driver receives into and sends
    /// from the UMEM frames themselves.
    ZeroCopy,
    /// Copy mode (`XDP_COPY`): the kernel copies each frame between its
    /// own buffers and the UMEM. The stack still works in the UMEM
    /// without copies of its own.
    Copy,
    /// Zero-copy was asked for but the driver refused it (veth always
    /// does, with `EOPNOTSUPP`); the socket is bound in copy mode.
    CopyFallback {
        /// Why zero-copy was refused.
        errno: i32,
    },
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::ZeroCopy => f.write_str("zero-copy"),
            Binding::Copy => f.write_str("copy mode"),
            Binding::CopyFallback { errno } => write!(
                f,
                "copy mode: the driver refused zero-copy (errno {errno}; veth has no zero-copy)"
            ),
        }
    }
}

/// How to set up an [`XdpDevice`].
///
/// ```
/// use ethox_afxdp::{Config, XdpMode};
/// let config = Config { frames: 1024, mode: XdpMode::Generic, ..Config::default() };
/// assert_eq!(config.frame_size, 2048);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Frames in the UMEM, 2 to [`MAX_FRAMES`]. Half wait on the fill
    /// ring for received frames, the rest are lent for sending. Every
    /// ring gets the next power of two of entries, so no ring can
    /// overflow (each holds every frame) and queueing never fails.
    pub frames: u32,
    /// Bytes per frame: 2048 or 4096. A received frame starts 256 bytes
    /// in (the kernel's headroom), so 2048 carries an MTU up to 1778 and
    /// 4096 one up to 3826.
    pub frame_size: u32,
    /// The interface's receive queue to bind to (0 on a veth).
    pub queue: u32,
    /// Where the XDP program runs.
    pub mode: XdpMode,
    /// Ask for zero-copy; without driver support the socket falls back to
    /// copy mode and [`XdpDevice::binding`] says so.
    pub zero_copy: bool,
}

impl Default for Config {
    /// 4096 frames of 2048 bytes (8 MiB), queue 0, native mode, copy.
    fn default() -> Config {
        Config {
            frames: 4096,
            frame_size: 2048,
            queue: 0,
            mode: XdpMode::Native,
            zero_copy: false,
        }
    }
}

impl Config {
    /// Fails unless the UMEM's shape is one the device takes.
    fn check(&self) -> Result<(), Error> {
        if self.frame_size != 2048 && self.frame_size != 4096 {
            return Err(Error::BadConfiguration(
                "the frame size must be 2048 or 4096",
            ));
        }
        if !(2..=MAX_FRAMES).contains(&self.frames) {
            return Err(Error::BadConfiguration(
                "the UMEM needs 2 to 1048576 frames (half receive, half send)",
            ));
        }
        Ok(())
    }

    /// The largest IP MTU whose frames fit a UMEM frame after the
    /// kernel's headroom.
    pub fn max_mtu(&self) -> usize {
        (self.frame_size.saturating_sub(sys::XDP_PACKET_HEADROOM) as usize)
            .saturating_sub(ethernet::HEADER_LEN)
    }
}

/// The device's counters. Ours count what `rx` and `tx` saw; `kernel`
/// is what the kernel counted for the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct XdpStats {
    /// Frames lent to the stack by `rx`.
    pub rx_frames: u64,
    /// Frames put on the TX ring: new ones and received ones answered in
    /// place.
    pub tx_queued: u64,
    /// Of those, received frames answered in place: sent from the UMEM
    /// address they arrived at, without a copy.
    pub tx_in_place: u64,
    /// Frames the kernel reported sent (completion ring).
    pub tx_completed: u64,
    /// `rx` calls that found the RX ring empty.
    pub rx_ring_empty: u64,
    /// Times the fill ring could not be topped up to half the frames:
    /// every other frame was being sent or lent. A starved fill ring
    /// makes the kernel drop received frames (`kernel.rx_fill_ring_empty`).
    pub fill_starved: u64,
    /// `tx` calls that found no frame free: the TX ring and completion
    /// ring hold every sending frame. Send less per call or use more
    /// frames.
    pub tx_ring_full: u64,
    /// Descriptors from the kernel (RX or completion ring) that named no
    /// frame the kernel held, or a length past the frame's end: ignored.
    pub invalid_descriptors: u64,
    /// `sendto` calls made to wake the kernel up for the TX ring.
    pub tx_kicks: u64,
    /// Kicks that failed for good (the link down, ...); the frames stay
    /// on the TX ring for the next kick.
    pub tx_kick_errors: u64,
    /// The `errno` of the last failed kick; 0 if none.
    pub last_kick_errno: i32,
    /// The kernel's counters.
    pub kernel: KernelStats,
}

/// The kernel's counters of the socket (`XDP_STATISTICS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KernelStats {
    /// Received frames dropped: in copy mode, mostly frames too large
    /// for a UMEM frame (a TSO super-frame, an MTU above the frame's
    /// room).
    pub rx_dropped: u64,
    /// Fill ring entries the kernel refused as invalid.
    pub rx_invalid_descs: u64,
    /// TX descriptors the kernel refused as invalid.
    pub tx_invalid_descs: u64,
    /// Frames dropped because the RX ring was full.
    pub rx_ring_full: u64,
    /// Frames dropped because the fill ring was empty.
    pub rx_fill_ring_empty: u64,
    /// Kicks that found the TX ring empty.
    pub tx_ring_empty: u64,
}

/// An AF_XDP socket on one queue of an interface, with its UMEM, rings
/// and XDP redirect program: see the [crate documentation](crate).
pub struct XdpDevice {
    /// Declared before the socket, so it drops first: the program leaves
    /// the interface (its link closes) before the socket closes and the
    /// UMEM goes.
    program: XdpProgram,
    xsk: Xsk,
    name: IfName,
    index: u32,
    queue: u32,
    mtu: usize,
    mac: EthernetAddress,
    mode: XdpMode,
    binding: Binding,
    capabilities: Capabilities,
    /// Frames kept on the fill ring: half the UMEM.
    fill_target: u32,
    stats: XdpStats,
}

impl fmt::Debug for XdpDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XdpDevice")
            .field("name", &self.name)
            .field("queue", &self.queue)
            .field("mode", &self.mode)
            .field("binding", &self.binding)
            .field("program_id", &self.program.id())
            .field("frames", &self.xsk.frame_count())
            .field("frame_size", &self.xsk.frame_size())
            .finish_non_exhaustive()
    }
}

impl XdpDevice {
    /// Sets up an AF_XDP socket on interface `name` (in the calling
    /// thread's network namespace) as `config` says, and attaches the
    /// XDP program that redirects the queue's frames to it. Detached
    /// again when the device is dropped.
    ///
    /// Needs root, or `CAP_NET_RAW`, `CAP_NET_ADMIN` and `CAP_BPF`.
    pub fn open(name: &str, config: Config) -> Result<XdpDevice, Error> {
        config.check()?;
        let name = IfName::new(name)?;
        let index = crate::sys::interface_index(name);
        if index == 0 {
            return Err(Error::Sys(nic_sys::Error::NoSuchInterface(name)));
        }
        let mtu = nic_sys::interface_mtu(name)?;
        if mtu > config.max_mtu() {
            return Err(Error::MtuTooLarge {
                mtu,
                frame_size: config.frame_size,
                max_mtu: config.max_mtu(),
            });
        }
        let mac = nic_sys::interface_mac(name)?;
        let setup_error = |(op, errno)| Error::setup(op, errno, name, config.queue, config.mode);
        let fill_target = config.frames / 2;
        let (xsk, bound) = Xsk::open(
            index,
            config.queue,
            config.frames,
            config.frame_size,
            fill_target,
            config.zero_copy,
        )
        .map_err(setup_error)?;
        let binding = match bound {
            Bound::ZeroCopy if xsk.is_zero_copy() => Binding::ZeroCopy,
            Bound::ZeroCopy => Binding::CopyFallback {
                errno: libc::EOPNOTSUPP,
            },
            Bound::Copy => Binding::Copy,
            Bound::CopyFallback(errno) => Binding::CopyFallback { errno },
        };
        let flags = match config.mode {
            XdpMode::Native => sys::XDP_FLAGS_DRV_MODE,
            XdpMode::Generic => sys::XDP_FLAGS_SKB_MODE,
        };
        let program = XdpProgram::attach(index, config.queue, xsk.fd(), flags)
            .map_err(|err| Error::attach(err, name, config.queue, config.mode, mtu))?;
        Ok(XdpDevice {
            program,
            xsk,
            name,
            index,
            queue: config.queue,
            mtu,
            mac,
            mode: config.mode,
            binding,
            capabilities: Capabilities::SOFTWARE,
            fill_target,
            stats: XdpStats::default(),
        })
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The interface's index.
    pub fn interface_index(&self) -> u32 {
        self.index
    }

    /// The queue the socket is bound to.
    pub fn queue(&self) -> u32 {
        self.queue
    }

    /// The interface's IP MTU when the device was set up.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// The interface's hardware address when the device was set up: a
    /// natural choice for the stack's.
    pub fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    /// Where the XDP program runs.
    pub fn mode(&self) -> XdpMode {
        self.mode
    }

    /// How the socket was bound: zero-copy, copy mode, or copy mode after
    /// the driver refused zero-copy.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// The attached XDP program's id, as `ip link show` prints it
    /// (`prog/xdp id N`).
    pub fn program_id(&self) -> u32 {
        self.program.id()
    }

    /// Bytes per UMEM frame.
    pub fn frame_size(&self) -> u32 {
        self.xsk.frame_size()
    }

    /// Frames in the UMEM.
    pub fn frame_count(&self) -> u32 {
        self.xsk.frame_count()
    }

    /// Entries per ring (the frame count's next power of two).
    pub fn ring_size(&self) -> u32 {
        self.xsk.ring_size()
    }

    /// Frames free for sending now.
    pub fn free_frames(&self) -> usize {
        self.xsk.free_frames()
    }

    /// Frames given to the kernel to receive into.
    pub fn fill_level(&self) -> u32 {
        self.xsk.fill_level()
    }

    /// What the device reports to the stack for each packet. Everything
    /// in software by default: AF_XDP passes no checksum state.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// Sets what the device reports. Reporting TCP and UDP receive
    /// checksums as offloaded makes the stack take frames whose
    /// checksums a local sender left unfinished (the kernel across a
    /// veth) *without verifying any*: prefer
    /// `ethtool -K <peer> tx-checksumming off` on the sender.
    pub fn set_capabilities(&mut self, capabilities: Capabilities) {
        self.capabilities = capabilities;
    }

    /// The counters, with the kernel's read now (`getsockopt`; left at
    /// zero if that fails).
    pub fn stats(&self) -> XdpStats {
        let mut stats = self.stats;
        if let Ok(kernel) = self.xsk.kernel_stats() {
            stats.kernel = KernelStats {
                rx_dropped: kernel.rx_dropped,
                rx_invalid_descs: kernel.rx_invalid_descs,
                tx_invalid_descs: kernel.tx_invalid_descs,
                rx_ring_full: kernel.rx_ring_full,
                rx_fill_ring_empty: kernel.rx_fill_ring_empty_descs,
                tx_ring_empty: kernel.tx_ring_empty_descs,
            };
        }
        stats
    }

    /// TX descriptors the kernel has not taken yet.
    pub fn tx_pending(&self) -> usize {
        self.xsk.tx_unconsumed() as usize
    }

    /// Waits until a frame is on the RX ring (or, while TX descriptors
    /// wait for the kernel, until the socket is writable, which returns
    /// at once so the caller kicks again), at most `timeout` (`None`: no
    /// limit). Returns whether the socket is ready; `false` after the
    /// timeout or a signal.
    ///
    /// An event loop passes the time until the stack's next deadline, so
    /// an idle host sleeps exactly as long as it may.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        nic_sys::wait(self.xsk.fd(), self.xsk.tx_unconsumed() > 0, timeout)
    }

    /// Reaps the completion ring into the free list.
    fn reap(&mut self) {
        let (done, invalid) = self.xsk.reap_completions();
        self.stats.tx_completed += u64::from(done);
        self.stats.invalid_descriptors += u64::from(invalid);
    }

    /// Publishes the TX ring and kicks it when the kernel asks.
    fn flush_tx(&mut self) {
        let (kicks, failed) = self.xsk.flush_tx();
        self.stats.tx_kicks += u64::from(kicks);
        if let Some(errno) = failed {
            self.stats.tx_kick_errors += 1;
            self.stats.last_kick_errno = errno;
        }
    }

    /// Lends frame `index` from `offset`, holding `len` bytes, to `lend`;
    /// returns the length to send if it was queued.
    fn lend(
        &mut self,
        index: u32,
        offset: u32,
        len: usize,
        info: Info,
        lend: impl FnOnce(&mut MemoryHandle, &mut MemoryFrame<'_>),
    ) -> Option<usize> {
        let mut handle = MemoryHandle::new(info);
        let bytes = self.xsk.frame(index, offset)?;
        let mut frame = MemoryFrame::new(bytes, len);
        lend(&mut handle, &mut frame);
        let len = frame.payload().len();
        (handle.is_queued() && len > 0).then_some(len)
    }
}

impl Device for XdpDevice {
    type Handle<'d> = MemoryHandle;
    type Payload<'d> = MemoryFrame<'d>;

    /// Lends up to `max` received frames, in the UMEM where the kernel
    /// wrote them, to `receiver`. A frame the stack queued (an answer in
    /// place) goes on the TX ring from the same address; the others go
    /// back to the fill ring. The TX ring is kicked before returning.
    fn rx<R: Recv<Self>>(&mut self, max: usize, mut receiver: R) -> nic::Result<usize> {
        self.reap();
        if !self.xsk.fill_to(self.fill_target) {
            self.stats.fill_starved += 1;
        }
        if max == 0 {
            return Ok(0);
        }
        let mut count = 0;
        let mut queued = 0;
        if self.xsk.rx_ready() > 0 {
            let info = Info {
                timestamp: nic_sys::now(),
                capabilities: self.capabilities,
            };
            while count < max {
                let Some(received) = self.xsk.receive() else {
                    break;
                };
                let Received::Frame { index, offset, len } = received else {
                    self.stats.invalid_descriptors += 1;
                    continue;
                };
                let reply = self.lend(index, offset, len, info, |handle, payload| {
                    receiver.receive(Packet::<Self> { handle, payload })
                });
                match reply {
                    Some(len) if self.xsk.transmit(index, offset, len) => queued += 1,
                    // Not queued, or a reply that cannot be sent: the
                    // frame goes back to receiving (or, if it went to the
                    // free list, the next top-up takes it from there).
                    Some(_) => {}
                    None => {
                        self.xsk.recycle(index);
                    }
                }
                count += 1;
            }
            self.xsk.finish_rx();
        } else {
            self.stats.rx_ring_empty += 1;
        }
        self.stats.rx_frames += count as u64;
        self.stats.tx_queued += queued;
        self.stats.tx_in_place += queued;
        if queued > 0 || self.xsk.tx_unconsumed() > 0 {
            self.flush_tx();
        }
        Ok(count)
    }

    /// Lends up to `max` free UMEM frames to `sender` and puts the ones
    /// it queued on the TX ring, then kicks it. Stops early when the
    /// sender leaves a frame unqueued or no frame is free (counted as
    /// `tx_ring_full`).
    fn tx<S: Send<Self>>(&mut self, max: usize, mut sender: S) -> nic::Result<usize> {
        self.reap();
        let info = Info {
            timestamp: nic_sys::now(),
            capabilities: self.capabilities,
        };
        let mut count = 0;
        while count < max {
            let Some(index) = self.xsk.take_free() else {
                self.stats.tx_ring_full += 1;
                break;
            };
            let queued = self.lend(index, 0, 0, info, |handle, payload| {
                sender.send(Packet::<Self> { handle, payload })
            });
            match queued {
                Some(len) if self.xsk.transmit(index, 0, len) => count += 1,
                Some(_) => break,
                None => {
                    self.xsk.release(index);
                    break;
                }
            }
        }
        self.stats.tx_queued += count as u64;
        if count > 0 || self.xsk.tx_unconsumed() > 0 {
            self.flush_tx();
        }
        Ok(count)
    }
}

impl AsRawFd for XdpDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.xsk.fd().as_raw_fd()
    }
}

impl AsFd for XdpDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.xsk.fd()
    }
}

/// Whether a BPF program with id `id` is loaded in the kernel; for
/// checking that a dropped device's program is gone. Needs
/// `CAP_SYS_ADMIN`.
pub fn program_loaded(id: u32) -> Result<bool, Error> {
    const OP: &str = "BPF_PROG_GET_FD_BY_ID";
    crate::sys::program_exists(id).map_err(|errno| match errno {
        libc::EPERM | libc::EACCES => Error::PermissionDenied { op: OP },
        errno => Error::Sys(nic_sys::Error::Io { op: OP, errno }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_are_checked_before_any_privileged_call() {
        let odd = Config {
            frame_size: 1500,
            ..Config::default()
        };
        assert!(matches!(
            XdpDevice::open("lo", odd),
            Err(Error::BadConfiguration(_))
        ));
        for frames in [0, 1, MAX_FRAMES + 1] {
            let config = Config {
                frames,
                ..Config::default()
            };
            let err = XdpDevice::open("lo", config).unwrap_err();
            assert!(err.to_string().contains("frames"), "{err}");
        }
        let missing = XdpDevice::open("ethox-none0", Config::default()).unwrap_err();
        assert_eq!(
            missing,
            Error::Sys(nic_sys::Error::NoSuchInterface(
                IfName::new("ethox-none0").unwrap()
            ))
        );
        assert_eq!(
            XdpDevice::open("bad/name", Config::default()).unwrap_err(),
            Error::Sys(nic_sys::Error::InvalidName)
        );
    }

    #[test]
    fn the_largest_mtu_leaves_the_kernels_headroom() {
        assert_eq!(Config::default().max_mtu(), 2048 - 256 - 14);
        let big = Config {
            frame_size: 4096,
            ..Config::default()
        };
        assert_eq!(big.max_mtu(), 4096 - 256 - 14);
    }

    #[test]
    fn devices_can_move_to_another_thread() {
        fn movable<T: core::marker::Send>() {}
        movable::<XdpDevice>();
    }
}
