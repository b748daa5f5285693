//! An io_uring NIC for ethox: a TAP or an `AF_PACKET` socket driven
//! through io_uring, with many receives and sends in flight and one system
//! call per batch.
//!
//! ethox's own system NICs ([`TapDevice`](ethox::nic::sys::TapDevice),
//! [`RawSocket`](ethox::nic::sys::RawSocket)) make a system call per frame
//! (TAP) or per batch of 64 (`recvmmsg`). [`UringNic`] instead keeps the
//! kernel supplied with buffers ahead of time and collects what finished
//! from the completion queue, so a busy link costs one `io_uring_enter`
//! per `rx` or `tx` call, whatever the number of frames.
//!
//! # How it works
//!
//! * **A pool allocated at set-up.** [`Config::buffers`] buffers of
//!   [`Config::frame_size`] bytes, registered with the kernel (fixed
//!   buffers) along with the file descriptor (a fixed file). Nothing is
//!   allocated after set-up: not by the device, not by the stack.
//! * **Receiving.** Where the kernel has it (by the opcode probe), one
//!   multishot receive (`ReadMulti` on a TAP, `RecvMsgMulti` on a packet
//!   socket) takes buffers from a provided-buffer ring and posts a
//!   completion per frame; when the ring runs dry the kernel ends it with
//!   `ENOBUFS` and the device re-arms it once buffers are back (counted).
//!   Otherwise, or with [`RxMode::SingleShot`], each posted buffer has a
//!   receive of its own (`ReadFixed` or `RecvMsg`).
//! * **Zero copy.** The stack reads each frame in the buffer the kernel
//!   filled. A frame the stack answers in place (an ICMP echo reply, a TCP
//!   ACK: [`Handle::queue`](ethox::nic::Handle::queue) on a received
//!   packet) is sent from that same buffer. `tx` lends free buffers; what
//!   the stack queues is sent (`WriteFixed` on a TAP, `Send` on a packet
//!   socket) and the buffer returns to the pool when the send completes.
//! * **Waiting.** [`UringNic::wait`] sleeps until one completion arrives or
//!   a timeout passes: an event loop passes the time to the stack's next
//!   deadline. It waits for one completion at a time, because waiting for
//!   several in one call stalled under multishot load on the kernels
//!   measured. A device used by one thread only
//!   ([`Config::single_thread`]) has the kernel run finished operations
//!   when it asks, in batches, which is cheaper still.
//! * **Checksums.** A TAP gets frames with finished checksums
//!   ([`Capabilities::SOFTWARE`](ethox::nic::Capabilities::SOFTWARE), as
//!   for `TapDevice`). A packet socket sees frames a local sender left with
//!   unfinished TCP/UDP checksums; the kernel says so per frame in
//!   `PACKET_AUXDATA`, which the receives collect as control messages, and
//!   such frames are lent with those checksums reported as offloaded (as
//!   `RawSocket` does; counted in [`UringStats::rx_partial_checksum`]).
//! * **Offloads.** A TAP or packet socket opened with [`Config::offload`]
//!   puts a virtio-net header before every frame, in the last bytes of
//!   the slot's headroom, both ways (see
//!   [`ethox::nic::vnet`]): the kernel's TCP arrives in segments of up to
//!   64 KiB ([`UringStats::rx_segmented`]) with checksums left
//!   unfinished, and the stack's TCP leaves its checksums and the cutting
//!   of segments of many MSS to the kernel
//!   ([`Capabilities::tcp_segmentation`](ethox::nic::Capabilities::tcp_segmentation)).
//!   With a `frame_size` of 65535 this moves 2-5 times as much TCP as
//!   without, more than the kernel does between two namespaces.
//! * **Safety.** A buffer is either the kernel's or the device's; only the
//!   device's are lent to the stack, and a buffer comes back from the
//!   kernel only with the completion that names it. Dropping the device
//!   with operations in flight cancels them and waits for every last
//!   completion before the memory is freed; if the kernel does not finish
//!   in time the memory is leaked, never freed. All `unsafe` code is in
//!   one module, each block with the reason it holds.
//!
//! # Walkthrough: a host that answers pings
//!
//! As root (a TAP needs `CAP_NET_ADMIN`; this example is compiled, not
//! run), with `ip addr add 10.0.0.1/24 dev uring0` on the kernel side:
//!
//! ```no_run
//! use core::time::Duration;
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, icmp, ip};
//! use ethox::nic::Device;
//! use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};
//! use ethox_io_uring::{Config, UringNic};
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
//! // 1024 buffers of 1514 bytes, multishot receive where the kernel has it.
//! let config = Config { buffers: 1024, ..Config::default() };
//! let mut nic = UringNic::open_tap("uring0", &config)?;
//! nic.set_up()?;
//! let mut eth = eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
//! let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), cache(), cache());
//! ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
//! let mut icmp = icmp::Endpoint::new();
//! loop {
//!     // Sleep until a frame arrives (or the stack's next deadline).
//!     nic.wait(Some(Duration::from_millis(100)))?;
//!     // Echo requests are answered in the buffer they arrived in, and the
//!     // replies leave with the one system call that ends this batch.
//!     nic.rx(64, eth.recv(ip.recv(icmp.recv(Ignore))))?;
//!     let stats = nic.stats();
//!     if stats.rx_errors > 0 {
//!         eprintln!("receive errors: {stats:?}");
//!     }
//! }
//! # }
//! ```
//!
//! On an existing link (a veth end) [`UringNic::open_packet`] opens an
//! `AF_PACKET` socket instead, and [`UringNic::mac_address`] is the
//! interface's address, a natural one for the stack. [`UringNic::from_fd`]
//! drives a descriptor the caller opened; a `SOCK_SEQPACKET` socket pair
//! behaves like a TAP, which makes the device testable without privileges:
//!
//! ```
//! use std::os::fd::{FromRawFd, OwnedFd};
//! use ethox::nic::{Device, Packet, Payload, Recv};
//! use ethox_io_uring::{Config, Medium, RxMode, UringNic};
//!
//! struct Count(usize);
//! impl<D: Device> Recv<D> for Count {
//!     fn receive(&mut self, packet: Packet<'_, '_, D>) {
//!         self.0 += packet.payload.payload().len();
//!     }
//! }
//!
//! let mut fds = [0; 2];
//! // SAFETY (of the example): `fds` has room for the two descriptors.
//! let made = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) };
//! assert_eq!(made, 0);
//! // SAFETY (of the example): both were just opened and are owned here.
//! let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
//! let config = Config { buffers: 16, rx_mode: RxMode::SingleShot, ..Config::default() };
//! let mut nic = match UringNic::from_fd(ours, Medium::Tap, &config) {
//!     Ok(nic) => nic,
//!     // io_uring may be unavailable where the docs are tested.
//!     Err(err) => return eprintln!("skipped: {err}"),
//! };
//! let frame = [0xab_u8; 60];
//! // SAFETY (of the example): `frame` is readable for its length.
//! unsafe { libc::write(std::os::fd::AsRawFd::as_raw_fd(&theirs), frame.as_ptr().cast(), 60) };
//! nic.wait(Some(std::time::Duration::from_secs(1))).unwrap();
//! let mut count = Count(0);
//! nic.rx(8, &mut count).unwrap();
//! assert_eq!(count.0, 60);
//! ```
//!
//! # Requirements
//!
//! Linux 5.19 or later with io_uring enabled (6.0 for multishot receive
//! on a packet socket, 6.7 on a TAP, 6.1 for [`Config::single_thread`];
//! older kernels get the fallbacks). Where io_uring is missing or
//! disabled (`kernel.io_uring_disabled`), set-up fails with
//! [`Error::Unavailable`] or [`Error::Disabled`], whose messages say what
//! to do.
#![warn(missing_docs)]
#![deny(unsafe_code)]
// Every unsafe block says why it holds.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod device;
mod error;
// The one module where the crate allows unsafe code: the ring and the
// memory the kernel shares.
#[allow(unsafe_code)]
mod ring;

pub use device::{Config, Medium, RxMode, UringNic, UringStats};
pub use error::Error;

/// The wire formats this backend carries, re-exported for convenience.
pub use ethox::wire;
