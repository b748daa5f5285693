//! ethox: a standalone user-space TCP/IP stack.
//!
//! ethox is built for servers on raw NIC queues (io_uring, AF_XDP),
//! unikernels and bare-metal systems. Its promises:
//!
//! * **No allocation.** Every table, cache and buffer is storage that the
//!   caller hands in at set-up.
//! * **No panic on input.** Every parser checks every length before it reads
//!   and reports a typed [`wire::Error`]; the packet is dropped and counted.
//! * **Zero copy.** Packet buffers belong to the NIC; layers borrow them for
//!   the duration of a callback, parse in place and answer in place.
//!
//! # A tour
//!
//! * [`wire`]: the packet formats. For every protocol a byte view over a
//!   buffer (`EthernetFrame`, `Ipv4Packet`, `TcpPacket`, ...) that reads
//!   and writes fields in place, and a `Repr`: the parsed meaning of a
//!   header. [`wire::pretty`] prints any frame on one line.
//! * [`nic`]: where packet buffers come from. A [`nic::Device`] lends its
//!   buffers to the stack a batch at a time; [`nic::memory`] is an
//!   in-memory link for tests and demos, [`nic::fault`] injects seeded
//!   faults, [`nic::capture`] records pcap files; with feature `sys`,
//!   `nic::sys` puts the stack on real links (TAP devices, `AF_PACKET`
//!   sockets).
//! * [`layer`]: the protocol endpoints of the callback tree:
//!   [`layer::eth`], [`layer::ip`] (IPv4 with ARP, IPv6 with neighbor
//!   discovery and SLAAC, routes, fragmentation and reassembly, multicast
//!   groups, ICMP errors), [`layer::icmp`] (echo), [`layer::udp`],
//!   [`layer::tcp`] (connections whose bytes live in the application's
//!   buffers); each wraps the next layer's handler. Services over UDP:
//!   [`layer::dhcp`] (a DHCPv4 client that configures the IP layer) and
//!   [`layer::dns`] (a stub resolver).
//! * [`storage`]: byte rings and out-of-order assemblers over caller
//!   memory.
//! * [`time`], [`managed`]: time without a clock, storage without an
//!   allocator.
//!
//! Parsing a frame and printing it:
//!
//! ```
//! use ethox::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr};
//! use ethox::wire::pretty::PrettyFrame;
//!
//! let bytes = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
//!     0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
//!     0x08, 0x06,                         // EtherType: ARP
//!     0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // request
//!     0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, // sender
//!     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // target
//! ];
//! let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
//! let repr = EthernetRepr::parse(&frame).unwrap();
//! assert!(repr.dst.is_broadcast());
//! assert_eq!(repr.ethertype, EtherType::Arp);
//! assert_eq!(
//!     PrettyFrame::new(&bytes).to_string(),
//!     "ARP request who-has 10.0.0.2 tell 10.0.0.1"
//! );
//! ```
//!
//! # A ping between two hosts
//!
//! A host is a NIC and one endpoint per layer. The receive tree is built
//! from the NIC up (`eth.recv(ip.recv(icmp.recv(app)))`), the send tree
//! the same way; each call borrows the endpoints only while the NIC lends
//! packets. Time comes from the NIC (here set by hand, so the example runs
//! the same way every time).
//!
//! ```
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, icmp, ip};
//! use ethox::nic::Device;
//! use ethox::nic::memory::{MemoryLink, MemoryNic};
//! use ethox::time::Instant;
//! use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
//! use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr};
//!
//! type Nic = MemoryNic<Vec<u8>, 4>;
//! struct Host { nic: Nic, eth: eth::Endpoint, ip: ip::Endpoint<'static>, icmp: icmp::Endpoint }
//!
//! fn cache<A: Copy + Eq>() -> NeighborCache<'static, A> {
//!     NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default())
//! }
//!
//! fn host(n: u8) -> Host {
//!     let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), cache(), cache());
//!     ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), 24).unwrap());
//!     let mut nic = Nic::new(vec![0; 4 * 1514], 1514).unwrap();
//!     nic.set_time(Instant::from_secs(1));
//!     Host { nic, eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, n])), ip, icmp: icmp::Endpoint::new() }
//! }
//!
//! /// Sends one echo request to 10.0.0.2 and counts replies.
//! #[derive(Default)]
//! struct Ping { sent: bool, replies: usize }
//!
//! impl<D: Device> ip::Send<D> for Ping {
//!     fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
//!         if self.sent { return; }
//!         let request = Icmpv4Repr::EchoRequest { ident: 1, seq_no: 1, data: b"ethox" };
//!         let init = ip::Init {
//!             src: None,
//!             dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
//!             protocol: IpProtocol::Icmp,
//!             payload_len: request.buffer_len(),
//!         };
//!         // The first attempt only resolves the address (an ARP request
//!         // goes out in this buffer); the packet is built on a later one.
//!         if let Ok(mut out) = raw.prepare(init) {
//!             request.emit(&mut Icmpv4Packet::new_unchecked(out.payload_mut()), ChecksumMode::Software).unwrap();
//!             self.sent = out.send().is_ok();
//!         }
//!     }
//! }
//!
//! impl<D: Device> ip::Recv<D> for Ping {
//!     fn receive(&mut self, packet: ip::In<'_, '_, D>) {
//!         let reply = Icmpv4Packet::new_checked(packet.payload())
//!             .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software));
//!         if let Ok(Icmpv4Repr::EchoReply { data: b"ethox", .. }) = reply {
//!             self.replies += 1;
//!         }
//!     }
//! }
//!
//! let (mut a, mut b) = (host(1), host(2));
//! let mut ping = Ping::default();
//! for _ in 0..3 {
//!     a.nic.tx(4, a.eth.send(a.ip.send(&mut ping))).unwrap();
//!     MemoryLink::transfer(&mut a.nic, &mut b.nic);
//!     // B answers ARP in its IP layer and the echo in its ICMP layer, in place.
//!     b.nic.rx(4, b.eth.recv(b.ip.recv(b.icmp.recv(&mut Ping::default())))).unwrap();
//!     MemoryLink::transfer(&mut b.nic, &mut a.nic);
//!     a.nic.rx(4, a.eth.recv(a.ip.recv(a.icmp.recv(&mut ping)))).unwrap();
//! }
//! assert_eq!(ping.replies, 1);
//! ```
//!
//! UDP works the same way one layer up ([`layer::udp`]).
//!
//! # A TCP server
//!
//! TCP adds a layer above IP: [`layer::tcp::Endpoint`] holds the
//! connection table and the listening ports, in storage the caller hands
//! in. The bytes of each connection live in the application's buffers,
//! which it lends through [`layer::tcp::Io`] when the layer asks for a
//! connection's handle; [`layer::tcp::buffer`] has ready-made ones. Here
//! B listens on port 80 and echoes what it reads; A connects, sends a line
//! and reads the echo.
//!
//! ```
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
//! use ethox::layer::tcp::connection::Config;
//! use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
//! use ethox::layer::{eth, ip};
//! use ethox::nic::Device;
//! use ethox::nic::memory::{MemoryLink, MemoryNic};
//! use ethox::time::Instant;
//! use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};
//!
//! type Nic = MemoryNic<Vec<u8>, 16>;
//! struct Host { nic: Nic, eth: eth::Endpoint, ip: ip::Endpoint<'static>, tcp: tcp::Endpoint<'static> }
//!
//! fn host(n: u8) -> Host {
//!     let arp = NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default());
//!     let ndisc = NeighborCache::new(vec![], NeighborConfig::default());
//!     let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), arp, ndisc);
//!     ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), 24).unwrap());
//!     let mut nic = Nic::new(vec![0; 16 * 1514], 1514).unwrap();
//!     nic.set_time(Instant::from_secs(1));
//!     // Four connection slots, one listener slot; secrets from a seed
//!     // here, from a random source in a real host.
//!     let tcp = tcp::Endpoint::new(vec![Slot::empty(); 4], vec![Listener::EMPTY; 1],
//!         Secrets::from_seed(u64::from(n)), Config::default());
//!     Host { nic, eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, n])), ip, tcp }
//! }
//!
//! /// One pair of ring buffers per connection slot, indexed by handle.
//! struct App { rings: Vec<(RingSendBuffer<'static>, RingRecvBuffer<'static>)> }
//! impl App {
//!     fn new() -> App {
//!         let ring = || (RingSendBuffer::new(vec![0; 4096]), RingRecvBuffer::new(vec![0; 4096]));
//!         App { rings: (0..4).map(|_| ring()).collect() }
//!     }
//! }
//! impl Io for App {
//!     fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
//!         let (send, recv) = self.rings.get_mut(conn.index as usize)?;
//!         Some(Buffers { send, recv })
//!     }
//!     fn event(&mut self, conn: Handle, event: Event) {
//!         if event == Event::Readable {
//!             // The echo: what arrived goes straight back out.
//!             let (send, recv) = &mut self.rings[conn.index as usize];
//!             let mut chunk = [0; 512];
//!             let n = recv.read(&mut chunk);
//!             send.write(&chunk[..n]);
//!         }
//!     }
//! }
//!
//! let (mut a, mut b) = (host(1), host(2));
//! let (mut client, mut server) = (App::new(), App::new());
//! b.tcp.listen(80, 4).unwrap();
//! let conn = a.tcp.connect((IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 0),
//!     (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80), Instant::from_secs(1)).unwrap();
//! client.rings[conn.index as usize].0.write(b"hello, ethox\n");
//!
//! // The client does not echo: it only reads, so take its events apart.
//! struct Reader<'a>(&'a mut App, Vec<u8>);
//! impl Io for Reader<'_> {
//!     fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> { self.0.buffers(conn) }
//!     fn event(&mut self, conn: Handle, event: Event) {
//!         if event == Event::Readable {
//!             let mut chunk = [0; 512];
//!             let n = self.0.rings[conn.index as usize].1.read(&mut chunk);
//!             self.1.extend_from_slice(&chunk[..n]);
//!         }
//!     }
//! }
//! let mut reader = Reader(&mut client, Vec::new());
//! // ARP, the handshake, the line, its echo, and the ACKs.
//! for _ in 0..6 {
//!     a.nic.tx(16, a.eth.send(a.ip.send(a.tcp.send(&mut reader)))).unwrap();
//!     MemoryLink::transfer(&mut a.nic, &mut b.nic);
//!     b.nic.rx(16, b.eth.recv(b.ip.recv(b.tcp.recv(&mut server)))).unwrap();
//!     b.nic.tx(16, b.eth.send(b.ip.send(b.tcp.send(&mut server)))).unwrap();
//!     MemoryLink::transfer(&mut b.nic, &mut a.nic);
//!     a.nic.rx(16, a.eth.recv(a.ip.recv(a.tcp.recv(&mut reader)))).unwrap();
//! }
//! assert_eq!(reader.1, b"hello, ethox\n");
//! assert_eq!(b.tcp.accept(80).map(|h| b.tcp.state(h)), Some(tcp::connection::State::Established));
//! ```
#![no_std]
// Unsafe code is forbidden, except in `nic::sys` (system calls), which
// needs `feature = "sys"`: there the crate denies it and only that module
// allows it, so no other module can opt in.
#![cfg_attr(not(feature = "sys"), forbid(unsafe_code))]
#![cfg_attr(feature = "sys", deny(unsafe_code))]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
// Unit tests may use std whatever the features (the test harness links
// it anyway); the library itself only with the `std` feature.
#[cfg(any(feature = "std", test))]
extern crate std;

/// Reports a dropped packet (debug level) through `log` when the `log`
/// feature is on; compiles to nothing otherwise.
#[cfg(feature = "log")]
macro_rules! net_drop {
    ($($arg:tt)*) => { ::log::debug!($($arg)*) };
}

#[cfg(not(feature = "log"))]
macro_rules! net_drop {
    ($($arg:tt)*) => {{
        if false {
            let _ = format_args!($($arg)*);
        }
    }};
}

/// Reports a state change (trace level) through `log` when the `log`
/// feature is on; compiles to nothing otherwise.
#[cfg(feature = "log")]
macro_rules! net_trace {
    ($($arg:tt)*) => { ::log::trace!($($arg)*) };
}

#[cfg(not(feature = "log"))]
macro_rules! net_trace {
    ($($arg:tt)*) => {{
        if false {
            let _ = format_args!($($arg)*);
        }
    }};
}

pub mod layer;
pub mod managed;
pub mod nic;
pub mod storage;
pub mod time;
pub mod wire;
