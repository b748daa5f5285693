//! AF_XDP NIC backend for ethox: the stack reads and writes frames in
//! memory it shares with the kernel, without a copy of its own and
//! without a system call per frame.
//!
//! # How it works
//!
//! [`XdpDevice::open`] sets up, on one receive queue of an interface:
//!
//! 1. a **UMEM**: `frames` × `frame_size` bytes (2048 or 4096 per frame)
//!    of memory mapped by this process and registered with the kernel
//!    (`XDP_UMEM_REG`), which pins it;
//! 2. an **AF_XDP socket** with four rings mapped from the kernel (offsets
//!    from `XDP_MMAP_OFFSETS`): the *fill* ring gives the kernel frames to
//!    receive into, the *RX* ring hands received frames back, the *TX*
//!    ring gives it frames to send, the *completion* ring hands sent frames
//!    back. The socket is bound to the queue with `XDP_USE_NEED_WAKEUP`,
//!    in copy mode, or zero-copy when asked and the driver has it;
//! 3. an **XDP program** of five BPF instructions, written here as raw
//!    instructions (no compiler, no libbpf), that redirects each frame of
//!    the queue to the socket through an XSKMAP
//!    (`bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS)`), attached
//!    with a BPF link in native (driver) or generic mode. Dropping the
//!    device closes the link, which detaches and unloads the program.
//!
//! Then the [`Device`](ethox::nic::Device) calls move frames:
//!
//! * [`rx`](ethox::nic::Device::rx) lends each received frame to the
//!   stack *in the UMEM, where the kernel wrote it*. When the callback
//!   returns, a frame the stack queued (an ICMP echo reply, a UDP echo,
//!   a TCP ACK written in place) goes on the TX ring from the same
//!   address; any other frame goes back to the fill ring.
//! * [`tx`](ethox::nic::Device::tx) lends free UMEM frames for new
//!   frames and puts the queued ones on the TX ring.
//! * Both publish the rings and, as the kernel asks for it
//!   (`XDP_RING_NEED_WAKEUP`; in copy mode it always does for TX), kick
//!   the TX ring with a `sendto`. Frames on the completion ring return to
//!   the free list.
//! * [`XdpDevice::wait`] sleeps in `poll` until a frame arrives or a
//!   timeout passes, so an event loop sleeps until its next deadline.
//!
//! Nothing is allocated after set-up, and a frame is never lent to the
//! stack while the kernel may touch it: every frame has an owner (free,
//! ours, the kernel's to fill, the kernel's to send) and an address the
//! kernel returns is only taken if the kernel held that frame.
//!
//! # Checksums across a veth: set `tx-checksumming off` on the peer
//!
//! **The kernel on the other end of a veth sends TCP and UDP with their
//! checksums unfinished** (checksum offload: a veth "offloads" to
//! nobody), and in generic mode it also sends TSO super-frames larger
//! than a UMEM frame (dropped, counted as [`KernelStats::rx_dropped`]).
//! An AF_PACKET socket sees a flag on such frames; AF_XDP carries none,
//! so the stack finds a wrong checksum and drops them. On the kernel's
//! end of the link, run
//!
//! ```text
//! ethtool -K <peer-veth> tx-checksumming off
//! ```
//!
//! which also turns TSO off. (Or, knowing the peer, report TCP and UDP
//! receive checksums as offloaded with
//! [`XdpDevice::set_capabilities`], which makes the stack take them
//! unverified.) ICMP and ARP are not affected. A physical NIC's frames
//! from the wire carry finished checksums.
//!
//! # Requirements
//!
//! * Linux 5.9 or later (XDP links, `need_wakeup` ring flags), built
//!   with `CONFIG_XDP_SOCKETS`.
//! * Root, or `CAP_NET_RAW`, `CAP_NET_ADMIN` and `CAP_BPF`
//!   (`sudo setcap cap_net_raw,cap_net_admin,cap_bpf+ep <binary>`).
//! * An MTU that fits a frame after the kernel's 256 bytes of headroom
//!   ([`Config::max_mtu`]: 1778 for 2048-byte frames); native XDP on a
//!   veth also refuses a peer MTU above about 3498.
//! * The queue free of other AF_XDP sockets and the interface free of
//!   other XDP programs.
//!
//! Each failure is an [`Error`] that says what to do.
//!
//! # Example
//!
//! A host answering pings and UDP echo on port 7 at 10.0.0.2 on `veth0`
//! (privileged, so not run here):
//!
//! ```no_run
//! use core::time::Duration;
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, icmp, ip, udp};
//! use ethox::nic::Device;
//! use ethox::wire::{IpAddr, IpCidr, Ipv4Addr};
//! use ethox_afxdp::{Config, XdpDevice, XdpMode};
//!
//! /// Echoes every datagram to port 7 in place, in the UMEM frame it
//! /// arrived in.
//! struct Echo;
//! impl<D: Device> udp::Recv<D> for Echo {
//!     fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
//!         if datagram.dst().1 == 7 {
//!             let len = datagram.payload().len();
//!             if let Ok(reply) = datagram.reply(len) {
//!                 let _ = reply.send();
//!             }
//!         }
//!     }
//! }
//!
//! fn cache<A: Copy + Eq>() -> NeighborCache<'static, A> {
//!     NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config { frames: 2048, mode: XdpMode::Native, ..Config::default() };
//! let mut nic = XdpDevice::open("veth0", config)?;
//! println!("program {} attached, {}", nic.program_id(), nic.binding());
//!
//! let mut eth = eth::Endpoint::new(nic.mac_address());
//! let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), cache(), cache());
//! ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
//! let mut icmp = icmp::Endpoint::new();
//! let mut udp = udp::Endpoint::new(vec![None; 4], 0x4242);
//! udp.bind(7)?;
//! loop {
//!     // Sleep until a frame arrives (or the stack's next deadline).
//!     nic.wait(Some(Duration::from_millis(100)))?;
//!     // Echo requests and datagrams are answered in place and leave
//!     // with this batch.
//!     nic.rx(64, eth.recv(ip.recv(icmp.recv(udp.recv(&mut Echo)))))?;
//!     let stats = nic.stats();
//!     if stats.kernel.rx_dropped > 0 {
//!         eprintln!("frames too large for the UMEM: {}", stats.kernel.rx_dropped);
//!     }
//! }
//! # }
//! ```
//!
//! # Counters
//!
//! [`XdpDevice::stats`] returns what `rx` and `tx` saw (an empty RX ring,
//! a starved fill ring, no free frame to send, invalid descriptors,
//! kicks) and the kernel's own counters of the socket
//! (`XDP_STATISTICS`: frames dropped as too large, for a full RX ring or
//! an empty fill ring, invalid descriptors).
//!
//! # Measuring
//!
//! `cargo run -p ethox-afxdp --release --example xdp_bench [-- SECONDS]`
//! (as root) sets up a veth pair between two namespaces and prints the
//! frames per second this device and ethox's AF_PACKET `RawSocket`
//! receive (spinning, and sleeping in `poll`) and send, side by side.
//!
//! # Safety
//!
//! All `unsafe` code is in one private module (`sys`), each block with
//! the reason it holds. The UMEM outlives the socket and its rings (the
//! device drops the program's link first, then the rings, the socket,
//! and the UMEM last), and the kernel writes only into frames on the fill
//! ring, which are never lent to the stack.
#![warn(missing_docs)]
#![deny(unsafe_code)]

mod device;
mod error;
mod program;
#[allow(unsafe_code)]
mod sys;

pub use device::{
    Binding, Config, KernelStats, MAX_FRAMES, XdpDevice, XdpMode, XdpStats, program_loaded,
};
pub use error::Error;

/// The wire formats this backend carries, re-exported for convenience.
pub use ethox::wire;

// The privilege check of ethox's own privileged tests, for the unit
// tests that need root.
#[cfg(test)]
#[path = "../../ethox/tests/support/privilege.rs"]
mod privilege;
