//! A TAP interface (`/dev/net/tun` with `IFF_TAP | IFF_NO_PI`): the
//! kernel sees an Ethernet interface whose wire is this process.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{
    Error, IfName, MAX_FRAME_CAPACITY, Pool, interface_ioctl, interface_mtu, now, would_block,
};
use crate::nic::memory::{MemoryFrame, MemoryHandle};
use crate::nic::vnet::{self, VNET_HEADER_LEN, VNET_HEADER_NONE, VnetHeader};
use crate::nic::{self, Capabilities, Device, Info, Packet, Recv, Send};

/// How a TAP is created: [`TapDevice::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TapOptions {
    /// Sets the interface's MTU; `None` keeps it (1500 for a new TAP).
    pub mtu: Option<usize>,
    /// Exchanges virtio-net headers with the kernel (`IFF_VNET_HDR`) and
    /// takes its offloads (`TUNSETOFFLOAD`): frames whose TCP/UDP checksum
    /// a local sender left unfinished arrive with it reported as
    /// offloaded instead of being finished by the kernel, and, when the
    /// buffers hold 65,535 bytes, the kernel hands over TCP segments of
    /// up to 64 KiB instead of cutting them to the MTU (segmentation
    /// offload, `TUN_F_TSO4 | TUN_F_TSO6`). The stack takes such a segment
    /// as one, which saves the kernel and the stack the per-frame work
    /// of the other 40-odd.
    ///
    /// Checksums left to the kernel are not checked by anyone: a
    /// [`FaultInjector`](crate::nic::fault::FaultInjector) corrupting
    /// frames of such a device damages data unnoticed.
    pub offload: bool,
}

/// What the kernel was told it may leave to this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Offload {
    /// Nothing: plain frames, no header.
    None,
    /// Unfinished checksums, with a virtio-net header on every frame.
    Checksum,
    /// Unfinished checksums and unsegmented TCP.
    Segmentation,
}

/// The smallest frame buffer that takes the kernel's unsegmented TCP:
/// the largest frame any Linux interface passes.
pub const SEGMENTATION_FRAME_CAPACITY: usize = MAX_FRAME_CAPACITY;

/// A TAP interface with `N` frame buffers carved from `storage`.
///
/// Frames the kernel sends out of the interface are read by
/// [`rx`](Device::rx); frames the stack queues are written to the kernel,
/// which receives them as if from a wire. The kernel side needs an
/// address and must be up (`ip addr add 10.0.0.1/24 dev <name>`,
/// [`set_up`](Self::set_up)); the stack uses another address of the same
/// subnet and its own MAC address.
///
/// The kernel finishes every checksum before a frame reaches a TAP and
/// verifies the checksums of frames written to it, so all checksums are
/// the stack's ([`Capabilities::SOFTWARE`]), unless the TAP was opened
/// with [`TapOptions::offload`]: then frames the kernel's own senders
/// left unfinished, or whose checksum it verified, arrive with it marked
/// offloaded, and TCP may arrive unsegmented.
///
/// A TAP has no batched read: each frame is one `read(2)` and each sent
/// frame one `write(2)`; a batch shares one timestamp.
#[derive(Debug)]
pub struct TapDevice<S, const N: usize> {
    fd: OwnedFd,
    name: IfName,
    mtu: usize,
    offload: Offload,
    pool: Pool<S, N>,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> TapDevice<S, N> {
    /// Creates the TAP `name` in the calling thread's network namespace,
    /// or attaches to it if it exists (a persistent TAP nobody holds).
    /// The frames carry the interface's MTU (1500 for a new TAP), which
    /// must fit the buffers: `storage.len() / N` bytes each.
    ///
    /// A name with `%d` (`"tap%d"`) lets the kernel pick a free number;
    /// [`name`](Self::name) tells which. A TAP this call created
    /// disappears when the device is dropped.
    pub fn open(name: &str, storage: S) -> Result<Self, Error> {
        Self::open_with(name, TapOptions::default(), storage)
    }

    /// [`open`](Self::open), and sets the interface's MTU to `mtu`.
    pub fn open_with_mtu(name: &str, mtu: usize, storage: S) -> Result<Self, Error> {
        let options = TapOptions {
            mtu: Some(mtu),
            ..TapOptions::default()
        };
        Self::open_with(name, options, storage)
    }

    /// [`open`](Self::open) with the MTU and offloads of `options`.
    ///
    /// ```no_run
    /// use ethox::nic::sys::{TapDevice, TapOptions, SEGMENTATION_FRAME_CAPACITY};
    ///
    /// // 64 buffers large enough for the kernel's unsegmented TCP.
    /// let storage = vec![0u8; 64 * SEGMENTATION_FRAME_CAPACITY];
    /// let options = TapOptions { offload: true, ..TapOptions::default() };
    /// let tap = TapDevice::<_, 64>::open_with("tap0", options, storage)?;
    /// assert!(tap.segmentation_offload());
    /// # Ok::<(), ethox::nic::sys::Error>(())
    /// ```
    pub fn open_with(name: &str, options: TapOptions, storage: S) -> Result<Self, Error> {
        let name = IfName::new(name)?;
        let pool = Pool::new(storage)?;
        let mtu = options.mtu;
        if let Some(mtu) = mtu {
            pool.check_mtu(mtu)?;
        }
        let offload = match options.offload {
            false => Offload::None,
            true if pool.frame_capacity >= SEGMENTATION_FRAME_CAPACITY => Offload::Segmentation,
            true => Offload::Checksum,
        };
        let mut pool = pool;
        if offload != Offload::None {
            pool.tx_capabilities = vnet::tx_capabilities(offload == Offload::Segmentation);
        }
        let fd = open_tun()?;
        let mut request = super::ifreq(name);
        let mut flags = libc::IFF_TAP | libc::IFF_NO_PI;
        if offload != Offload::None {
            flags |= libc::IFF_VNET_HDR;
        }
        request.ifr_ifru.ifru_flags = flags as libc::c_short;
        interface_ioctl(
            fd.as_fd(),
            libc::TUNSETIFF,
            "TUNSETIFF (a TAP needs CAP_NET_ADMIN)",
            &mut request,
            name,
        )
        .map_err(|err| match err {
            Error::Io {
                errno: libc::EBUSY, ..
            } => Error::Busy(name),
            Error::Io {
                errno: libc::EINVAL,
                ..
            } => Error::NotATap(name),
            other => other,
        })?;
        // The kernel filled in a `%d` pattern: the name is the real one.
        let name = IfName::from_c_chars(&request.ifr_name).unwrap_or(name);
        set_offload(fd.as_fd(), offload)?;
        let mtu = match mtu {
            Some(mtu) => {
                super::set_interface_mtu(name, mtu)?;
                mtu
            }
            None => {
                let mtu = interface_mtu(name)?;
                pool.check_mtu(mtu)?;
                mtu
            }
        };
        Ok(TapDevice {
            fd,
            name,
            mtu,
            offload,
            pool,
        })
    }

    /// Whether every frame carries a virtio-net header (asked for with
    /// [`TapOptions::offload`]); a device driving the descriptor itself
    /// must read and write it.
    pub fn vnet_header(&self) -> bool {
        self.offload != Offload::None
    }

    /// Whether the kernel hands over unsegmented TCP (with
    /// [`TapOptions::offload`] and buffers of at least
    /// [`SEGMENTATION_FRAME_CAPACITY`] bytes).
    pub fn segmentation_offload(&self) -> bool {
        self.offload == Offload::Segmentation
    }

    /// Sets the interface administratively up, as `ip link set <name> up`
    /// does; the kernel drops what the stack writes until it is.
    pub fn set_up(&self) -> Result<(), Error> {
        super::set_interface_up(self.name)
    }
}

/// Tells the kernel which offloads the process takes. Also when it takes
/// none: a persistent TAP keeps the offloads of its previous owner, and a
/// reader without virtio-net headers would get frames larger than its
/// buffers and checksums left unfinished.
fn set_offload(fd: BorrowedFd<'_>, offload: Offload) -> Result<(), Error> {
    let features = match offload {
        Offload::None => 0,
        Offload::Checksum => libc::TUN_F_CSUM,
        Offload::Segmentation => libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6,
    };
    // SAFETY: TUNSETOFFLOAD takes its argument by value and touches no
    // memory of ours.
    let done = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(features),
        )
    };
    if done < 0 {
        return Err(Error::last("TUNSETOFFLOAD", None));
    }
    Ok(())
}

/// Opens `/dev/net/tun`, non-blocking.
fn open_tun() -> Result<OwnedFd, Error> {
    // SAFETY: the path is a NUL-terminated literal.
    let fd = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last(
            "open /dev/net/tun (missing: modprobe tun)",
            None,
        ));
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Writes the queued frames to the TAP, in order, until the kernel would
/// block; frames it refuses are dropped and counted.
fn flush<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(
    fd: BorrowedFd<'_>,
    vnet_header: bool,
    pool: &mut Pool<S, N>,
) {
    while let Some(index) = pool.queued.peek(0) {
        let len = pool.len_of(index);
        let segment_size = pool.segment_size_of(index);
        let frame = pool.slot(index);
        let len = len.min(frame.len());
        let written = if vnet_header {
            // What the kernel is to finish (a TCP checksum) or cut.
            let header = vnet::tx_header(&mut frame[..len], segment_size);
            let parts = [
                libc::iovec {
                    iov_base: header.as_ptr().cast_mut().cast(),
                    iov_len: VNET_HEADER_LEN,
                },
                libc::iovec {
                    iov_base: frame.as_mut_ptr().cast(),
                    iov_len: len,
                },
            ];
            // SAFETY: both vectors name live buffers of their lengths,
            // only read by the call (the header too: `writev` never
            // writes through an iovec).
            unsafe { libc::writev(fd.as_raw_fd(), parts.as_ptr(), 2) }
        } else {
            // SAFETY: `frame` is a live buffer of at least `len` bytes,
            // only read by the call.
            unsafe { libc::write(fd.as_raw_fd(), frame.as_ptr().cast(), len) }
        };
        if written >= 0 {
            pool.sent(1);
            continue;
        }
        let errno = super::errno();
        if would_block(errno) {
            break;
        }
        pool.refused(errno);
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Device for TapDevice<S, N> {
    type Handle<'d> = MemoryHandle;
    type Payload<'d> = MemoryFrame<'d>;

    /// Reads up to `max` frames (until the kernel has no more) and lends
    /// each to `receiver`; frames it queued are then written back.
    ///
    /// A read error other than "nothing waiting" is returned as
    /// [`nic::Error::Os`] when it is the first thing this call saw; after
    /// frames were lent the call returns their count instead.
    fn rx<R: Recv<Self>>(&mut self, max: usize, mut receiver: R) -> nic::Result<usize> {
        let mut info = Info {
            timestamp: now(),
            capabilities: Capabilities::SOFTWARE,
        };
        let fd = self.fd.as_fd();
        let vnet = self.vnet_header();
        let mut count = 0;
        let mut failure = None;
        while count < max {
            let Some(index) = self.pool.take_free(&mut |pool| flush(fd, vnet, pool)) else {
                break;
            };
            let slot = self.pool.slot(index);
            let mut header = VNET_HEADER_NONE;
            let read = if vnet {
                let parts = [
                    libc::iovec {
                        iov_base: header.as_mut_ptr().cast(),
                        iov_len: VNET_HEADER_LEN,
                    },
                    libc::iovec {
                        iov_base: slot.as_mut_ptr().cast(),
                        iov_len: slot.len(),
                    },
                ];
                // SAFETY: both vectors name live, writable buffers of
                // their lengths (the local header, the slot); `readv`
                // writes at most that much into each.
                unsafe { libc::readv(fd.as_raw_fd(), parts.as_ptr(), 2) }
            } else {
                // SAFETY: `slot` is a live, writable buffer of
                // `slot.len()` bytes; read writes at most that many.
                unsafe { libc::read(fd.as_raw_fd(), slot.as_mut_ptr().cast(), slot.len()) }
            };
            let Ok(len) = usize::try_from(read) else {
                self.pool.free.push(index);
                let errno = super::errno();
                if !would_block(errno) && count == 0 {
                    failure = Some(errno);
                }
                break;
            };
            let len = if vnet {
                // The kernel writes the whole header before any frame.
                let Some(header) = VnetHeader::parse(&header) else {
                    self.pool.free.push(index);
                    continue;
                };
                self.pool.stats.rx_partial_checksum += u64::from(header.partial_checksum());
                self.pool.stats.rx_segmented += u64::from(header.segmented());
                info.capabilities = header.capabilities();
                len.saturating_sub(VNET_HEADER_LEN)
            } else {
                len
            };
            self.pool.stats.rx_frames += 1;
            self.pool.lend(index, len, info, |handle, payload| {
                receiver.receive(Packet { handle, payload })
            });
            count += 1;
        }
        flush(fd, vnet, &mut self.pool);
        match failure {
            Some(errno) => Err(nic::Error::Os(errno)),
            None => Ok(count),
        }
    }

    /// Lends up to `max` free buffers to `sender` and writes the frames
    /// queued in them (and any queued before) to the kernel.
    fn tx<T: Send<Self>>(&mut self, max: usize, sender: T) -> nic::Result<usize> {
        let fd = self.fd.as_fd();
        let vnet = self.vnet_header();
        Ok(self.pool.send(max, |pool| flush(fd, vnet, pool), sender))
    }
}

super::device_common!(TapDevice);
