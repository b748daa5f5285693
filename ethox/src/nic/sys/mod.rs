//! System NICs: real links through the Linux kernel (feature `sys`).
//!
//! * [`TapDevice`]: a TAP interface (`/dev/net/tun`). The kernel sees an
//!   Ethernet interface; every frame it sends there is read by the stack
//!   and every frame the stack writes arrives at the kernel as if from a
//!   wire. The usual way to give a user-space stack an address on the
//!   host. With [`TapOptions::offload`] the kernel and the stack hand each
//!   other TCP segments of up to 64 KiB and leave checksums unfinished,
//!   as a virtio-net device does ([`crate::nic::vnet`]).
//! * [`RawSocket`]: an `AF_PACKET` socket bound to an existing interface
//!   (a veth end, a physical NIC). The stack sees every frame that the
//!   interface receives and sends frames out of it, next to the kernel's
//!   own stack.
//!
//! Both follow the shape of the in-memory NIC ([`crate::nic::memory`]): a
//! pool of `N` frame buffers carved from storage the caller hands in at
//! set-up (nothing is allocated), `rx` lends received frames, `tx` lends
//! free buffers, and every buffer the stack queued (a new frame or a
//! received one answered in place) is handed to the kernel at the end of
//! the same `rx` or `tx` call, so replies leave with the batch that caused
//! them. The frame capacity is the storage's length divided by `N`; an
//! interface MTU of 1500 needs 1514 bytes per buffer.
//!
//! Time comes from `CLOCK_MONOTONIC`, read once per batch ([`now`]). An
//! idle host sleeps in the device's `poll` until a frame arrives or the
//! stack's next deadline passes.
//!
//! The devices are non-blocking. Set-up failures are an [`Error`] that
//! says what to do (a missing interface, missing privileges); failures
//! during traffic are [`crate::nic::Error::Os`] with the `errno`.
//!
//! Privileges: creating a TAP needs `CAP_NET_ADMIN`, an `AF_PACKET`
//! socket `CAP_NET_RAW`: run as root or give the binary the capabilities
//! (`sudo setcap cap_net_admin,cap_net_raw+ep <binary>`).
//!
//! A host on a TAP, answering pings to 10.0.0.2 (needs privileges, so it
//! is not run here):
//!
//! ```no_run
//! use core::time::Duration;
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, icmp, ip};
//! use ethox::nic::Device;
//! use ethox::nic::sys::TapDevice;
//! use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};
//!
//! /// What is not an echo request: ignored.
//! struct Ignore;
//! impl<D: Device> ip::Recv<D> for Ignore {
//!     fn receive(&mut self, _: ip::In<'_, '_, D>) {}
//! }
//!
//! fn cache<A: Copy + Eq>() -> NeighborCache<'static, A> {
//!     NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut tap = TapDevice::<_, 32>::open("ethox0", vec![0; 32 * 1514])?;
//! tap.set_up()?; // and, as root: ip addr add 10.0.0.1/24 dev ethox0
//! let mut eth = eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
//! let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), cache(), cache());
//! ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
//! let mut icmp = icmp::Endpoint::new();
//! loop {
//!     tap.poll(Some(Duration::from_millis(100)))?;
//!     // Echo requests are answered in place and leave with this batch.
//!     tap.rx(32, eth.recv(ip.recv(icmp.recv(Ignore))))?;
//! }
//! # }
//! ```

// Every unsafe block says why it holds.
#![deny(clippy::undocumented_unsafe_blocks)]

mod raw;
mod tap;

pub use crate::nic::vnet::{self, VNET_HEADER_LEN, VNET_HEADER_NONE, VnetHeader};
pub use raw::{RawOptions, RawSocket, finish_packet};
pub use tap::{SEGMENTATION_FRAME_CAPACITY, TapDevice, TapOptions};

use core::fmt;
use core::time::Duration;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::nic::memory::{IndexQueue, IndexStack, MemoryFrame, MemoryHandle};
use crate::nic::{self, Capabilities, Device, Handle, Info, Packet};
use crate::time::Instant;
use crate::wire::ethernet;

/// The longest interface name, without the terminating NUL (`IFNAMSIZ`
/// is 16).
pub const MAX_NAME_LEN: usize = libc::IFNAMSIZ - 1;

/// The largest frame buffer the pool carves: no Linux interface carries
/// an Ethernet frame longer than this.
const MAX_FRAME_CAPACITY: usize = 65_535;

/// The smallest frame buffer: an Ethernet frame of the 60-byte minimum.
const MIN_FRAME_CAPACITY: usize = 60;

/// A network interface name: 1 to 15 bytes, as the kernel accepts them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfName {
    bytes: [u8; MAX_NAME_LEN],
    len: u8,
}

impl IfName {
    /// Checks `name` the way the kernel does (`dev_valid_name`): 1 to 15
    /// bytes, not `.` or `..`, without `/`, `:`, NUL or white space.
    pub fn new(name: &str) -> Result<IfName, Error> {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name != "."
            && name != ".."
            && !name
                .bytes()
                .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace());
        if !valid {
            return Err(Error::InvalidName);
        }
        let mut bytes = [0; MAX_NAME_LEN];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(IfName {
            bytes,
            len: name.len() as u8,
        })
    }

    /// The name the kernel wrote into a request (`ifr_name`), up to its
    /// NUL; `None` if it is not a valid name.
    fn from_c_chars(chars: &[libc::c_char; libc::IFNAMSIZ]) -> Option<IfName> {
        let mut bytes = [0u8; MAX_NAME_LEN];
        let mut len = 0;
        for (&c, byte) in chars.iter().zip(bytes.iter_mut()) {
            if c == 0 {
                break;
            }
            *byte = c as u8;
            len += 1;
        }
        IfName::new(core::str::from_utf8(&bytes[..len]).ok()?).ok()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Built from a `&str` or checked as UTF-8, so this cannot fail; an
        // empty name stands in rather than a panic.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// The name as a NUL-terminated C array, for `ifreq` and friends.
    pub fn to_c_chars(self) -> [libc::c_char; libc::IFNAMSIZ] {
        let mut chars = [0; libc::IFNAMSIZ];
        for (c, &b) in chars.iter_mut().zip(&self.bytes[..usize::from(self.len)]) {
            *c = b as libc::c_char;
        }
        chars
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Why a system NIC could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The interface or namespace name is not one the kernel accepts.
    InvalidName,
    /// No interface of this name exists in this network namespace.
    NoSuchInterface(IfName),
    /// An interface of this name exists but is not a TAP (a TUN, a veth,
    /// a physical NIC): `TUNSETIFF` cannot attach to it.
    NotATap(IfName),
    /// Another process has the TAP open. Right after its owner exited the
    /// kernel may still hold it for a moment: retry after ~100 ms.
    Busy(IfName),
    /// No network namespace of this name (`/run/netns/<name>`).
    NoSuchNamespace,
    /// The process lacks a capability for `op`.
    PermissionDenied {
        /// What was refused.
        op: &'static str,
    },
    /// The interface's MTU needs frames larger than the buffers.
    MtuTooLarge {
        /// The IP MTU of the interface (or the one asked for).
        mtu: usize,
        /// The bytes each buffer holds: storage length / N.
        frame_capacity: usize,
    },
    /// The pool cannot be built: `N` is 0 or above 65535, or the storage
    /// holds less than a 60-byte frame per buffer.
    BadConfiguration,
    /// Another system call failed.
    Io {
        /// The call, or what it was for.
        op: &'static str,
        /// Its `errno`.
        errno: i32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidName => {
                f.write_str("invalid name: 1 to 15 bytes, without '/', ':', NUL or white space")
            }
            Error::NoSuchInterface(name) => {
                write!(f, "no network interface `{name}` in this network namespace")
            }
            Error::NotATap(name) => write!(f, "interface `{name}` exists but is not a TAP"),
            Error::Busy(name) => write!(
                f,
                "TAP `{name}` is busy: another process has it open (if its owner just exited, retry in 100 ms)"
            ),
            Error::NoSuchNamespace => {
                f.write_str("no network namespace of that name (see `ip netns list`)")
            }
            Error::PermissionDenied { op } => write!(
                f,
                "{op}: permission denied: run as root or give the binary the capabilities: \
                 `sudo setcap cap_net_admin,cap_net_raw+ep <binary>`"
            ),
            Error::MtuTooLarge {
                mtu,
                frame_capacity,
            } => write!(
                f,
                "MTU {mtu} needs {} bytes per frame buffer but the buffers hold {frame_capacity}: \
                 give more storage per buffer or a smaller MTU",
                mtu.saturating_add(ethernet::HEADER_LEN)
            ),
            Error::BadConfiguration => f.write_str(
                "bad buffer pool: 1 to 65535 buffers of at least 60 bytes each are needed",
            ),
            Error::Io { op, errno } => {
                let mut text = [0u8; 128];
                write!(f, "{op}: {} (errno {errno})", strerror(*errno, &mut text))
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The error for `errno` from `op`, on the interface `name`.
    fn from_errno(op: &'static str, errno: i32, name: Option<IfName>) -> Error {
        match (errno, name) {
            (libc::EPERM | libc::EACCES, _) => Error::PermissionDenied { op },
            (libc::ENODEV | libc::ENXIO, Some(name)) => Error::NoSuchInterface(name),
            _ => Error::Io { op, errno },
        }
    }

    /// The error for the current `errno` from `op`.
    fn last(op: &'static str, name: Option<IfName>) -> Error {
        Error::from_errno(op, errno(), name)
    }
}

/// Counters of a system NIC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SysStats {
    /// Frames lent to the stack by `rx`.
    pub rx_frames: u64,
    /// Frames the kernel took for transmission.
    pub tx_frames: u64,
    /// Received frames larger than a buffer, dropped.
    pub rx_truncated: u64,
    /// Received frames whose TCP/UDP checksum the kernel left unfinished
    /// (a local sender with checksum offload), lent with the checksum
    /// reported as offloaded.
    pub rx_partial_checksum: u64,
    /// Received TCP segments the kernel did not cut to the MTU (devices
    /// with offloads: `TapOptions::offload`, `RawOptions::offload`).
    pub rx_segmented: u64,
    /// Frames the interface sent, seen on receive and skipped (unless
    /// the socket asked for them: `RawSocket::set_outgoing`).
    pub rx_outgoing: u64,
    /// Frames the kernel refused to send (link down, too long), dropped.
    pub tx_dropped: u64,
    /// The `errno` of the last refusal; 0 if none.
    pub last_tx_errno: i32,
}

/// The current `CLOCK_MONOTONIC` time: the clock the system NICs stamp
/// their packets with, for an event loop's own timing.
pub fn now() -> Instant {
    let mut time = libc::timespec::zeroed();
    // SAFETY: `time` is a writable timespec; clock_gettime writes only it.
    // CLOCK_MONOTONIC exists on every Linux, so the call does not fail
    // (and if it did, the time would read zero).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut time) };
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(time.tv_nsec).unwrap_or(0);
    Instant::from_nanos(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

/// Moves the calling thread into the network namespace `name`, the one
/// `ip netns add <name>` made (`/run/netns/<name>`).
///
/// TAP devices and sockets belong to the namespace of the thread that
/// creates them, so a program that runs its stack in a namespace enters it
/// on the stack's thread first. Other threads stay where they were.
/// Needs `CAP_SYS_ADMIN`.
pub fn enter_netns(name: &str) -> Result<(), Error> {
    const DIR: &[u8] = b"/run/netns/";
    let mut path = [0u8; 256];
    let valid = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.bytes().any(|b| b == b'/' || b == 0)
        && DIR.len() + name.len() < path.len();
    if !valid {
        return Err(Error::InvalidName);
    }
    path[..DIR.len()].copy_from_slice(DIR);
    path[DIR.len()..DIR.len() + name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: `path` is NUL-terminated (zero-filled past the name, which
    // has no NUL and leaves room for one).
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(match errno() {
            libc::ENOENT => Error::NoSuchNamespace,
            errno => Error::from_errno("open /run/netns", errno, None),
        });
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: setns takes any fd; the kernel checks it names a network
    // namespace and changes only the calling thread.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(Error::last("setns (needs CAP_SYS_ADMIN)", None));
    }
    Ok(())
}

/// The accessors both devices have, and `AsRawFd`/`AsFd`, for a device
/// type with fields `fd`, `name`, `mtu` and `pool`.
macro_rules! device_common {
    ($device:ident) => {
        impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> $device<S, N> {
            /// The interface's name.
            pub fn name(&self) -> &str {
                self.name.as_str()
            }

            /// The interface's IP MTU when the device was set up.
            pub fn mtu(&self) -> usize {
                self.mtu
            }

            /// The largest frame a buffer holds.
            pub fn frame_capacity(&self) -> usize {
                self.pool.frame_capacity
            }

            /// The device's counters.
            pub fn stats(&self) -> $crate::nic::sys::SysStats {
                self.pool.stats
            }

            /// Frames queued that the kernel has not taken yet.
            pub fn tx_pending(&self) -> usize {
                self.pool.queued.len()
            }

            /// Waits until a frame can be read (or, while frames wait to be
            /// sent, written), at most `timeout` (`None`: no limit).
            /// Returns whether the device is ready; `false` after the
            /// timeout or a signal.
            ///
            /// An event loop passes the time until the stack's next
            /// deadline, so an idle host sleeps exactly as long as it may.
            pub fn poll(&self, timeout: Option<core::time::Duration>) -> std::io::Result<bool> {
                $crate::nic::sys::wait(self.fd.as_fd(), self.pool.queued.len() > 0, timeout)
            }
        }

        impl<S, const N: usize> std::os::fd::AsRawFd for $device<S, N> {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.fd.as_raw_fd()
            }
        }

        impl<S, const N: usize> std::os::fd::AsFd for $device<S, N> {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.fd.as_fd()
            }
        }
    };
}
use device_common;

/// The C library's message for `errno`, written into `buffer` (without
/// the allocation `io::Error`'s `Display` makes).
fn strerror(errno: i32, buffer: &mut [u8; 128]) -> &str {
    // SAFETY: the buffer is writable for its length; the XSI strerror_r
    // (libc links that one) writes at most that many bytes, NUL included.
    let failed = unsafe { libc::strerror_r(errno, buffer.as_mut_ptr().cast(), buffer.len()) };
    let len = buffer.iter().position(|&b| b == 0).unwrap_or(0);
    match core::str::from_utf8(&buffer[..len]) {
        Ok(text) if failed == 0 && !text.is_empty() => text,
        _ => "unknown error",
    }
}

/// The calling thread's `errno`.
fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Whether `errno` means "nothing now, try again later".
fn would_block(errno: i32) -> bool {
    errno == libc::EAGAIN || errno == libc::EWOULDBLOCK || errno == libc::EINTR
}

/// Waits until `fd` is readable (or writable too, with `write`), or
/// `timeout` passes (`None`: no limit). Returns whether it is ready; a
/// signal ends the wait early with `false`.
pub fn wait(fd: BorrowedFd<'_>, write: bool, timeout: Option<Duration>) -> io::Result<bool> {
    let mut events = libc::POLLIN;
    if write {
        events |= libc::POLLOUT;
    }
    let mut poll_fd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    let mut limit = libc::timespec::zeroed();
    let limit_ptr: *const libc::timespec = match timeout {
        Some(timeout) => {
            limit.tv_sec = libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX);
            limit.tv_nsec = timeout.subsec_nanos().into();
            &limit
        }
        None => core::ptr::null(),
    };
    // SAFETY: one valid pollfd; `limit_ptr` is null or points to a
    // timespec that outlives the call; a null signal mask keeps the
    // thread's own.
    let ready = unsafe { libc::ppoll(&mut poll_fd, 1, limit_ptr, core::ptr::null()) };
    if ready < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(err);
    }
    Ok(ready > 0)
}

/// A socket for interface requests (`SIOCGIFMTU` and friends), which the
/// kernel answers for the calling thread's network namespace.
fn control_socket() -> Result<OwnedFd, Error> {
    // SAFETY: plain socket(2) call without pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last("socket for interface requests", None));
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An interface request for `name`, its other fields zero.
fn ifreq(name: IfName) -> libc::ifreq {
    let mut request = libc::ifreq::zeroed();
    request.ifr_name = name.to_c_chars();
    request
}

/// C structs for which all-zero bytes are a valid value: the arguments
/// of the system calls here start zeroed and get their fields set.
///
/// # Safety
///
/// Implement it only for plain C data (integers, arrays of them, raw
/// pointers, unions and structs of those) in which every field may be
/// zero.
unsafe trait Zeroable: Sized {
    /// The value whose bytes are all zero.
    fn zeroed() -> Self {
        // SAFETY: the trait's contract: all zeros is a valid `Self`.
        unsafe { core::mem::zeroed() }
    }
}

// SAFETY: a name array and a union of integers, socket addresses and a
// pointer; zero is valid for each (null for the pointer).
unsafe impl Zeroable for libc::ifreq {}
// SAFETY: two integers.
unsafe impl Zeroable for libc::timespec {}
// SAFETY: a pointer (null) and a length.
unsafe impl Zeroable for libc::iovec {}
// SAFETY: integers and a byte array.
unsafe impl Zeroable for libc::sockaddr_ll {}
// SAFETY: a msghdr (pointers, which may be null, and integers) and an
// integer.
unsafe impl Zeroable for libc::mmsghdr {}
// SAFETY: integers.
unsafe impl Zeroable for libc::packet_mreq {}
// SAFETY: integers.
unsafe impl Zeroable for libc::tpacket_auxdata {}

/// Sends interface request `op` (named `what` in errors) on `fd`.
fn interface_ioctl(
    fd: BorrowedFd<'_>,
    op: libc::Ioctl,
    what: &'static str,
    request: &mut libc::ifreq,
    name: IfName,
) -> Result<(), Error> {
    // SAFETY: every request sent here (SIOC[GS]IF*, TUNSETIFF) reads and
    // writes one `ifreq`, which `request` is, borrowed for the call.
    if unsafe { libc::ioctl(fd.as_raw_fd(), op, request as *mut libc::ifreq) } < 0 {
        return Err(Error::last(what, Some(name)));
    }
    Ok(())
}

/// The IP MTU of interface `name`.
pub fn interface_mtu(name: IfName) -> Result<usize, Error> {
    let socket = control_socket()?;
    let mut request = ifreq(name);
    interface_ioctl(
        socket.as_fd(),
        libc::SIOCGIFMTU,
        "SIOCGIFMTU",
        &mut request,
        name,
    )?;
    // SAFETY: SIOCGIFMTU succeeded, so it wrote the `ifru_mtu` member.
    let mtu = unsafe { request.ifr_ifru.ifru_mtu };
    Ok(usize::try_from(mtu).unwrap_or(0))
}

/// Sets the IP MTU of interface `name`.
fn set_interface_mtu(name: IfName, mtu: usize) -> Result<(), Error> {
    let socket = control_socket()?;
    let mut request = ifreq(name);
    request.ifr_ifru.ifru_mtu = libc::c_int::try_from(mtu).unwrap_or(libc::c_int::MAX);
    interface_ioctl(
        socket.as_fd(),
        libc::SIOCSIFMTU,
        "SIOCSIFMTU",
        &mut request,
        name,
    )
}

/// Sets interface `name` administratively up (`ip link set <name> up`).
fn set_interface_up(name: IfName) -> Result<(), Error> {
    let socket = control_socket()?;
    let mut request = ifreq(name);
    interface_ioctl(
        socket.as_fd(),
        libc::SIOCGIFFLAGS,
        "SIOCGIFFLAGS",
        &mut request,
        name,
    )?;
    // SAFETY: SIOCGIFFLAGS succeeded, so it wrote the `ifru_flags` member.
    let flags = unsafe { request.ifr_ifru.ifru_flags };
    request.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    interface_ioctl(
        socket.as_fd(),
        libc::SIOCSIFFLAGS,
        "SIOCSIFFLAGS",
        &mut request,
        name,
    )
}

/// The hardware (MAC) address of interface `name`.
pub fn interface_mac(name: IfName) -> Result<ethernet::EthernetAddress, Error> {
    let socket = control_socket()?;
    let mut request = ifreq(name);
    interface_ioctl(
        socket.as_fd(),
        libc::SIOCGIFHWADDR,
        "SIOCGIFHWADDR",
        &mut request,
        name,
    )?;
    // SAFETY: SIOCGIFHWADDR succeeded, so it wrote the `ifru_hwaddr`
    // member, whose first six data bytes are an Ethernet address.
    let data = unsafe { request.ifr_ifru.ifru_hwaddr.sa_data };
    let mut mac = [0u8; 6];
    for (byte, &c) in mac.iter_mut().zip(data.iter()) {
        *byte = c as u8;
    }
    Ok(ethernet::EthernetAddress(mac))
}

/// The frame buffers of a system NIC: `N` buffers carved from caller
/// storage, each free, lent, or queued for transmission; the same shape
/// as the in-memory NIC's.
#[derive(Debug)]
struct Pool<S, const N: usize> {
    storage: S,
    frame_capacity: usize,
    lens: [usize; N],
    /// The segment size the stack asked for, per queued buffer.
    segment_sizes: [u16; N],
    /// What the stack may leave to the device on send.
    tx_capabilities: Capabilities,
    free: IndexStack<N>,
    queued: IndexQueue<N>,
    stats: SysStats,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Pool<S, N> {
    /// `N` buffers of `storage.len() / N` bytes each (at most 65535).
    fn new(storage: S) -> Result<Self, Error> {
        if N == 0 || N > usize::from(u16::MAX) {
            return Err(Error::BadConfiguration);
        }
        let frame_capacity = (storage.as_ref().len() / N).min(MAX_FRAME_CAPACITY);
        if frame_capacity < MIN_FRAME_CAPACITY {
            return Err(Error::BadConfiguration);
        }
        let free = IndexStack::full();
        Ok(Pool {
            storage,
            frame_capacity,
            lens: [0; N],
            segment_sizes: [0; N],
            tx_capabilities: Capabilities::SOFTWARE,
            free,
            queued: IndexQueue::new(),
            stats: SysStats::default(),
        })
    }

    /// Fails unless an IP packet of `mtu` bytes behind an Ethernet header
    /// fits a buffer.
    fn check_mtu(&self, mtu: usize) -> Result<(), Error> {
        if mtu.saturating_add(ethernet::HEADER_LEN) > self.frame_capacity {
            return Err(Error::MtuTooLarge {
                mtu,
                frame_capacity: self.frame_capacity,
            });
        }
        Ok(())
    }

    /// Where the storage starts, after checking it still holds `N`
    /// buffers (a strange `AsMut` could hand out a shorter slice later).
    fn base(&mut self) -> Option<*mut u8> {
        let bytes = self.storage.as_mut();
        (bytes.len() >= N * self.frame_capacity).then_some(bytes.as_mut_ptr())
    }

    /// Buffer `index`, all of its capacity.
    fn slot(&mut self, index: u16) -> &mut [u8] {
        let start = usize::from(index) * self.frame_capacity;
        let end = start + self.frame_capacity;
        self.storage.as_mut().get_mut(start..end).unwrap_or(&mut [])
    }

    /// A free buffer; when none is, `flush` first hands the queued ones
    /// to the kernel, which may free some.
    fn take_free(&mut self, flush: &mut impl FnMut(&mut Self)) -> Option<u16> {
        if let Some(index) = self.free.pop() {
            return Some(index);
        }
        flush(self);
        self.free.pop()
    }

    /// Lends buffer `index` holding `len` bytes to `lend`, then files it:
    /// queued for transmission if the stack queued it, else free. Returns
    /// whether it was queued.
    fn lend(
        &mut self,
        index: u16,
        len: usize,
        info: Info,
        mut lend: impl FnMut(&mut MemoryHandle, &mut MemoryFrame<'_>),
    ) -> bool {
        let mut handle = MemoryHandle::new(info);
        let mut frame = MemoryFrame::new(self.slot(index), len);
        lend(&mut handle, &mut frame);
        let len = frame.len();
        let queued = handle.is_queued();
        if let Some(slot_len) = self.lens.get_mut(usize::from(index)) {
            *slot_len = len;
        }
        if let Some(size) = self.segment_sizes.get_mut(usize::from(index)) {
            *size = handle.segment_size();
        }
        if queued {
            self.queued.push(index);
        } else {
            self.free.push(index);
        }
        queued
    }

    /// Lends free buffers of device `D` to `sender` until `max` were
    /// queued, `sender` leaves one unqueued, or none is free even after
    /// `flush`; then flushes. Returns how many were queued.
    fn send<D, T>(&mut self, max: usize, mut flush: impl FnMut(&mut Self), mut sender: T) -> usize
    where
        D: for<'d> Device<Handle<'d> = MemoryHandle, Payload<'d> = MemoryFrame<'d>> + ?Sized,
        T: nic::Send<D>,
    {
        let info = Info {
            timestamp: now(),
            capabilities: self.tx_capabilities,
        };
        let mut count = 0;
        while count < max {
            let Some(index) = self.take_free(&mut flush) else {
                break;
            };
            let queued = self.lend(index, 0, info, |handle, payload| {
                sender.send(Packet::<D> { handle, payload })
            });
            if !queued {
                break;
            }
            count += 1;
        }
        flush(self);
        count
    }

    /// The length of the frame in buffer `index`.
    fn len_of(&self, index: u16) -> usize {
        self.lens.get(usize::from(index)).copied().unwrap_or(0)
    }

    /// The segment size the stack asked for the frame in buffer `index`.
    fn segment_size_of(&self, index: u16) -> u16 {
        self.segment_sizes
            .get(usize::from(index))
            .copied()
            .unwrap_or(0)
    }

    /// The kernel took the first `count` queued frames: free them.
    fn sent(&mut self, count: usize) {
        for _ in 0..count {
            if let Some(index) = self.queued.pop() {
                self.free.push(index);
                self.stats.tx_frames += 1;
            }
        }
    }

    /// The kernel refused the first queued frame with `errno`: drop it,
    /// so one bad frame cannot block the queue.
    fn refused(&mut self, errno: i32) {
        if let Some(index) = self.queued.pop() {
            self.free.push(index);
            self.stats.tx_dropped += 1;
            self.stats.last_tx_errno = errno;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::ToString;
    use std::vec;

    use crate::nic::PayloadMut;

    #[test]
    fn names_are_checked_like_the_kernel_does() {
        assert_eq!(IfName::new("ethox0").unwrap().as_str(), "ethox0");
        assert_eq!(IfName::new("a234567890abcde").unwrap().as_str().len(), 15);
        for bad in [
            "",
            ".",
            "..",
            "a234567890abcdef",
            "a/b",
            "a:b",
            "a b",
            "a\0b",
            "a\nb",
        ] {
            assert_eq!(IfName::new(bad), Err(Error::InvalidName), "{bad:?}");
        }
        // A name with a format for the kernel to fill in is valid.
        assert!(IfName::new("tap%d").is_ok());
    }

    #[test]
    fn names_round_trip_through_c_arrays() {
        let name = IfName::new("veth-a").unwrap();
        let chars = name.to_c_chars();
        assert_eq!(chars[6], 0);
        assert_eq!(IfName::from_c_chars(&chars), Some(name));
        // Fifteen bytes fill all but the terminating NUL.
        let long = IfName::new("abcdefghijklmno").unwrap();
        assert_eq!(IfName::from_c_chars(&long.to_c_chars()), Some(long));
        // Garbage from the kernel is refused, not trusted.
        let mut bad = [b'x' as libc::c_char; libc::IFNAMSIZ];
        bad[3] = b'/' as libc::c_char;
        assert_eq!(IfName::from_c_chars(&bad), None);
        assert_eq!(IfName::from_c_chars(&[0; libc::IFNAMSIZ]), None);
    }

    #[test]
    fn errors_say_what_to_do() {
        let name = IfName::new("nope0").unwrap();
        let denied = Error::from_errno("TUNSETIFF", libc::EPERM, Some(name));
        assert_eq!(denied, Error::PermissionDenied { op: "TUNSETIFF" });
        let text = denied.to_string();
        assert!(text.contains("run as root"), "{text}");
        assert!(
            text.contains("sudo setcap cap_net_admin,cap_net_raw+ep <binary>"),
            "{text}"
        );
        assert_eq!(
            Error::from_errno("SIOCGIFMTU", libc::ENODEV, Some(name)),
            Error::NoSuchInterface(name)
        );
        assert!(Error::NoSuchInterface(name).to_string().contains("`nope0`"));
        let io = Error::from_errno("bind", libc::EADDRINUSE, None);
        assert_eq!(
            io,
            Error::Io {
                op: "bind",
                errno: libc::EADDRINUSE
            }
        );
        let text = io.to_string();
        assert!(text.starts_with("bind: "), "{text}");
        assert!(
            text.contains(&format!("(errno {})", libc::EADDRINUSE)),
            "{text}"
        );
        assert!(text.contains("already in use"), "{text}");
        // Numbers no C library knows still print.
        let odd = Error::Io { op: "x", errno: -5 }.to_string();
        assert!(odd.contains("errno -5"), "{odd}");
        let mtu = Error::MtuTooLarge {
            mtu: 9000,
            frame_capacity: 1514,
        };
        assert!(mtu.to_string().contains("9014"), "{mtu}");
        // A name of garbage from the kernel side never panics Display.
        assert!(!Error::InvalidName.to_string().is_empty());
    }

    #[test]
    fn pools_check_their_shape() {
        assert_eq!(
            Pool::<_, 0>::new(vec![0u8; 1514]).err(),
            Some(Error::BadConfiguration)
        );
        assert_eq!(
            Pool::<_, 4>::new(vec![0u8; 4 * 59]).err(),
            Some(Error::BadConfiguration)
        );
        let pool = Pool::<_, 4>::new(vec![0u8; 4 * 1514 + 3]).unwrap();
        assert_eq!(pool.frame_capacity, 1514);
        assert!(pool.check_mtu(1500).is_ok());
        assert_eq!(
            pool.check_mtu(1501),
            Err(Error::MtuTooLarge {
                mtu: 1501,
                frame_capacity: 1514
            })
        );
        // Hostile MTUs saturate instead of overflowing.
        assert!(pool.check_mtu(usize::MAX).is_err());
        // Buffers never exceed the largest frame, however large the storage.
        let pool = Pool::<_, 1>::new(vec![0u8; 100_000]).unwrap();
        assert_eq!(pool.frame_capacity, MAX_FRAME_CAPACITY);
    }

    #[test]
    fn pool_files_lent_buffers_and_drops_refused_ones() {
        /// Fills every buffer it is lent with 60 bytes of 7, if `fill`.
        struct Filler {
            fill: bool,
        }
        impl<D: Device + ?Sized> nic::Send<D> for Filler {
            fn send(&mut self, packet: Packet<'_, '_, D>) {
                if self.fill {
                    packet.payload.resize(60).unwrap();
                    packet.payload.payload_mut().fill(7);
                    packet.handle.queue().unwrap();
                }
            }
        }
        type Tap = TapDevice<[u8; 200], 2>;

        let mut pool = Pool::<_, 2>::new([0u8; 2 * 100]).unwrap();
        let mut flushes = 0;
        // The sender fills three buffers' worth but only two exist: after
        // a flush that takes nothing, lending stops.
        let queued = pool.send::<Tap, _>(3, |_| flushes += 1, Filler { fill: true });
        assert_eq!(queued, 2);
        assert_eq!(flushes, 2);
        assert_eq!(pool.queued.len(), 2);
        let first = pool.queued.peek(0).unwrap();
        assert_eq!(pool.len_of(first), 60);
        assert!(pool.slot(first)[..60].iter().all(|&b| b == 7));
        pool.refused(libc::EMSGSIZE);
        pool.sent(5);
        assert_eq!(pool.free.len(), 2);
        assert_eq!(pool.stats.tx_dropped, 1);
        assert_eq!(pool.stats.tx_frames, 1);
        assert_eq!(pool.stats.last_tx_errno, libc::EMSGSIZE);
        // A sender with nothing to send leaves its buffer free.
        assert_eq!(pool.send::<Tap, _>(4, |_| {}, Filler { fill: false }), 0);
        assert_eq!(pool.free.len(), 2);
    }

    #[test]
    fn monotonic_time_moves_forward() {
        let a = now();
        let b = now();
        assert!(a > Instant::ZERO);
        assert!(b >= a);
    }

    #[test]
    fn bad_namespace_names_are_refused_before_any_call() {
        assert_eq!(enter_netns(""), Err(Error::InvalidName));
        assert_eq!(enter_netns("../etc"), Err(Error::InvalidName));
        assert_eq!(enter_netns(&"n".repeat(300)), Err(Error::InvalidName));
    }
}
