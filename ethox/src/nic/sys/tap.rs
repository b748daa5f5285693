//! A TAP interface (`/dev/net/tun` with `IFF_TAP | IFF_NO_PI`): the
//! kernel sees an Ethernet interface whose wire is this process.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Error, IfName, Pool, interface_ioctl, interface_mtu, now, would_block};
use crate::nic::memory::{MemoryFrame, MemoryHandle};
use crate::nic::{self, Capabilities, Device, Info, Packet, Recv, Send};

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
/// the stack's ([`Capabilities::SOFTWARE`]).
///
/// A TAP has no batched read: each frame is one `read(2)` and each sent
/// frame one `write(2)`; a batch shares one timestamp.
#[derive(Debug)]
pub struct TapDevice<S, const N: usize> {
    fd: OwnedFd,
    name: IfName,
    mtu: usize,
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
        Self::create(name, None, storage)
    }

    /// [`open`](Self::open), and sets the interface's MTU to `mtu`.
    pub fn open_with_mtu(name: &str, mtu: usize, storage: S) -> Result<Self, Error> {
        Self::create(name, Some(mtu), storage)
    }

    fn create(name: &str, mtu: Option<usize>, storage: S) -> Result<Self, Error> {
        let name = IfName::new(name)?;
        let pool = Pool::new(storage)?;
        if let Some(mtu) = mtu {
            pool.check_mtu(mtu)?;
        }
        let fd = open_tun()?;
        let mut request = super::ifreq(name);
        request.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
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
            pool,
        })
    }

    /// Sets the interface administratively up, as `ip link set <name> up`
    /// does; the kernel drops what the stack writes until it is.
    pub fn set_up(&self) -> Result<(), Error> {
        super::set_interface_up(self.name)
    }
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
fn flush<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize>(fd: BorrowedFd<'_>, pool: &mut Pool<S, N>) {
    while let Some(index) = pool.queued.peek(0) {
        let len = pool.len_of(index);
        let frame = pool.slot(index);
        let len = len.min(frame.len());
        // SAFETY: `frame` is a live buffer of at least `len` bytes, only
        // read by the call.
        let written = unsafe { libc::write(fd.as_raw_fd(), frame.as_ptr().cast(), len) };
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
        let info = Info {
            timestamp: now(),
            capabilities: Capabilities::SOFTWARE,
        };
        let fd = self.fd.as_fd();
        let mut count = 0;
        let mut failure = None;
        while count < max {
            let Some(index) = self.pool.take_free(&mut |pool| flush(fd, pool)) else {
                break;
            };
            let slot = self.pool.slot(index);
            // SAFETY: `slot` is a live, writable buffer of `slot.len()`
            // bytes; read writes at most that many.
            let read = unsafe { libc::read(fd.as_raw_fd(), slot.as_mut_ptr().cast(), slot.len()) };
            let Ok(len) = usize::try_from(read) else {
                self.pool.free.push(index);
                let errno = super::errno();
                if !would_block(errno) && count == 0 {
                    failure = Some(errno);
                }
                break;
            };
            self.pool.stats.rx_frames += 1;
            self.pool.lend(index, len, info, |handle, payload| {
                receiver.receive(Packet { handle, payload })
            });
            count += 1;
        }
        flush(fd, &mut self.pool);
        match failure {
            Some(errno) => Err(nic::Error::Os(errno)),
            None => Ok(count),
        }
    }

    /// Lends up to `max` free buffers to `sender` and writes the frames
    /// queued in them (and any queued before) to the kernel.
    fn tx<T: Send<Self>>(&mut self, max: usize, sender: T) -> nic::Result<usize> {
        let fd = self.fd.as_fd();
        Ok(self.pool.send(max, |pool| flush(fd, pool), sender))
    }
}

super::device_common!(TapDevice);
