//! The UDP layer: a port table in caller storage, zero-copy datagrams.
//!
//! An [`Endpoint`] holds the local ports this host listens on (in slots
//! the caller provides), an allocator of ephemeral ports for clients, and
//! the layer's counters. Ports are bound on every address of the host.
//!
//! # Receiving
//!
//! [`Endpoint::recv`] wraps the application's [`Recv`] handler into an
//! IP-layer handler, the way [`icmp`](crate::layer::icmp) wraps its next
//! handler. For each UDP packet it
//!
//! * parses the header, verifying the checksum unless the device says it
//!   did ([`Capabilities::udp`](crate::nic::Capabilities::udp)); a zero
//!   checksum field over IPv4 means "none" and passes (RFC 768);
//!   malformed, truncated and corrupted datagrams are dropped and counted;
//! * hands datagrams for a bound destination port to the application as
//!   an [`In`], which lends the payload in place and can become the answer
//!   in the same buffer ([`In::reply`]);
//! * refuses datagrams for unbound ports through
//!   [`ip::In::reject`] with an ICMP port unreachable (RFC 1122 section
//!   4.1.3.1). The IP layer decides whether the error may go out
//!   (never for broadcasts, rate-limited); both outcomes are counted.
//!
//! UDP handles one protocol and the application sees only UDP, so other
//! packets need somewhere to go. [`Endpoint::recv`] drops them (into
//! [`Discard`]); [`Endpoint::recv_or`] hands them, unchanged, to another
//! IP-layer handler, as [`icmp::Endpoint::recv`](crate::layer::icmp::Endpoint::recv)
//! does for everything that is not ICMP:
//!
//! ```text
//! ip.recv(icmp.recv(udp.recv_or(&mut app, tcp.recv(&mut other))))
//! ```
//!
//! # Sending
//!
//! [`Endpoint::send`] wraps the application's [`Send`] handler into an
//! IP-layer sender. The application gets a [`Raw`] buffer and calls
//! [`Raw::prepare`] with the ports, the destination and the payload
//! length: the IP and UDP headers are written and the payload is the
//! frame's own bytes, filled through [`Out::payload_mut`].
//! [`Out::send`] computes the checksum over the final payload (unless the
//! device does; a computed 0 goes out as 0xffff) and queues the frame.
//! While the next hop's hardware address is being resolved, `prepare`
//! fails with [`ip::Error::Unresolved`] inside [`UdpError::Ip`]: the
//! buffer carried an ARP request instead, and the application tries again
//! later.
//!
//! A client takes a source port from [`Endpoint::bind_ephemeral`] (or
//! [`Endpoint::next_ephemeral`] and [`Endpoint::bind`]) so that answers
//! find it bound.
//!
//! # Lifetimes
//!
//! [`In`], [`Raw`] and [`Out`] name three lifetimes where the IP layer's
//! packets name two: `'u`, the borrow of the UDP endpoint (its counters),
//! then the IP packet's own `'p` and the device's `'d`. The IP packet
//! types are invariant in `'p` (they hold the IP endpoint behind a
//! `&'p mut dyn` reference), so the UDP borrow cannot simply be shortened
//! to theirs. Handlers write `udp::In<'_, '_, '_, D>`.
//!
//! # Example
//!
//! Two hosts on the in-memory link: A sends `hello` to B's port 7, where
//! an echo server answers in place.
//!
//! ```
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, ip, udp};
//! use ethox::nic::Device;
//! use ethox::nic::memory::{MemoryLink, MemoryNic};
//! use ethox::time::Instant;
//! use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};
//!
//! type Nic = MemoryNic<Vec<u8>, 4>;
//! fn host(last: u8) -> (Nic, eth::Endpoint, ip::Endpoint<'static>) {
//!     let mut nic = Nic::new(vec![0; 4 * 1514], 1514).unwrap();
//!     nic.set_time(Instant::from_secs(1));
//!     let neighbors = NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default());
//!     let no_ipv6 = NeighborCache::new(vec![], NeighborConfig::default());
//!     let mut ip = ip::Endpoint::new(vec![None; 1], Routes::new(vec![None; 1]), neighbors, no_ipv6);
//!     let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, last));
//!     ip.add_addr(IpCidr::new(addr, 24).unwrap());
//!     (nic, eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, last])), ip)
//! }
//!
//! /// Answers every datagram with its own payload, in the same buffer.
//! struct Echo;
//! impl<D: Device> udp::Recv<D> for Echo {
//!     fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
//!         let len = datagram.payload().len();
//!         if let Ok(out) = datagram.reply(len) {
//!             let _ = out.send();
//!         }
//!     }
//! }
//!
//! /// Sends `hello` once and keeps the answer.
//! struct Client { port: u16, sent: bool, answer: Vec<u8> }
//! impl<D: Device> udp::Send<D> for Client {
//!     fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
//!         if self.sent {
//!             return;
//!         }
//!         let init = udp::Init {
//!             src_port: self.port,
//!             dst: (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 7),
//!             payload_len: 5,
//!         };
//!         // The first attempt fails with Unresolved while ARP runs.
//!         if let Ok(mut out) = raw.prepare(init) {
//!             out.payload_mut().copy_from_slice(b"hello");
//!             self.sent = out.send().is_ok();
//!         }
//!     }
//! }
//! impl<D: Device> udp::Recv<D> for Client {
//!     fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
//!         self.answer = datagram.payload().to_vec();
//!     }
//! }
//!
//! let (mut nic_a, mut eth_a, mut ip_a) = host(1);
//! let (mut nic_b, mut eth_b, mut ip_b) = host(2);
//! let mut udp_a = udp::Endpoint::new(vec![None; 4], 0x1234);
//! let mut udp_b = udp::Endpoint::new(vec![None; 4], 0x5678);
//! udp_b.bind(7).unwrap();
//! let port = udp_a.bind_ephemeral().unwrap();
//! let mut client = Client { port, sent: false, answer: Vec::new() };
//!
//! // Round one resolves B's hardware address, round two carries the data.
//! for _ in 0..2 {
//!     nic_a.tx(4, eth_a.send(ip_a.send(udp_a.send(&mut client)))).unwrap();
//!     MemoryLink::transfer(&mut nic_a, &mut nic_b);
//!     nic_b.rx(4, eth_b.recv(ip_b.recv(udp_b.recv(Echo)))).unwrap();
//!     MemoryLink::transfer(&mut nic_b, &mut nic_a);
//!     nic_a.rx(4, eth_a.recv(ip_a.recv(udp_a.recv(&mut client)))).unwrap();
//! }
//! assert_eq!(client.answer, b"hello");
//! assert_eq!(udp_b.stats().rx_delivered, 1);
//! assert_eq!(udp_b.stats().tx_datagrams, 1);
//! ```
//!
//! Status: IPv4 (the IP layer's families). ICMP errors about datagrams this
//! host sent are not matched to ports yet: they go to the next handler.

use core::fmt;

use crate::layer::ip;
use crate::managed::Slice;
use crate::nic::{Device, Info};
use crate::wire::ChecksumMode;
use crate::wire::Error as WireError;
use crate::wire::ip::{IpAddr, IpProtocol};
use crate::wire::udp::{self as udp_wire, HEADER_LEN, UdpPacket, UdpRepr};

/// The first port of the ephemeral range (RFC 6335 section 6, IANA's
/// dynamic ports).
pub const EPHEMERAL_FIRST: u16 = 0xc000;

/// The last port of the ephemeral range.
pub const EPHEMERAL_LAST: u16 = 0xffff;

/// The offset of a port within the ephemeral range: the range is 2^14
/// ports aligned on 2^14, so masking keeps any offset in range.
const EPHEMERAL_MASK: u16 = 0x3fff;

/// The largest payload a UDP length field can describe (65535 minus the
/// header). The IP layer may allow less (its own length field, the
/// device's buffer).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - HEADER_LEN;

/// Why a port could not be bound or a datagram built or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UdpError {
    /// Port 0: it cannot be bound, sent to, or answered (RFC 768: a source
    /// port of 0 means the sender expects no reply).
    BadPort,
    /// The port is bound already.
    InUse,
    /// Every slot of the port table is taken.
    TableFull,
    /// Every ephemeral port is bound.
    Exhausted,
    /// The payload is longer than a UDP length field can describe
    /// ([`MAX_PAYLOAD`]).
    TooLarge,
    /// The IP layer could not build or send the packet;
    /// [`ip::Error::Unresolved`] means "try again later".
    Ip(ip::Error),
}

impl fmt::Display for UdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UdpError::BadPort => f.write_str("port 0 is not allowed"),
            UdpError::InUse => f.write_str("port already bound"),
            UdpError::TableFull => f.write_str("port table full"),
            UdpError::Exhausted => f.write_str("no free ephemeral port"),
            UdpError::TooLarge => f.write_str("payload larger than a UDP datagram"),
            UdpError::Ip(err) => write!(f, "ip: {err}"),
        }
    }
}

impl core::error::Error for UdpError {}

impl From<ip::Error> for UdpError {
    fn from(err: ip::Error) -> Self {
        UdpError::Ip(err)
    }
}

/// Counters of the UDP layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct UdpStats {
    /// Datagrams handed to the application.
    pub rx_delivered: u64,
    /// Datagrams with a wrong checksum (or a zero one over IPv6).
    pub rx_bad_checksum: u64,
    /// Datagrams shorter than a header, or than their length field says.
    pub rx_truncated: u64,
    /// Datagrams with a forbidden field value (destination port 0).
    pub rx_malformed: u64,
    /// Datagrams for unbound ports, answered with ICMP port unreachable.
    pub rx_no_port: u64,
    /// Datagrams for unbound ports not answered: the error was
    /// suppressed (broadcast destination, ...), rate-limited, or could
    /// not be sent.
    pub rx_no_port_silent: u64,
    /// Datagrams queued for transmission (sent and answers).
    pub tx_datagrams: u64,
    /// Datagrams that could not be built or queued. A send deferred while
    /// the next hop is resolved is not counted (the IP layer counts it).
    pub tx_errors: u64,
}

/// The persistent state of the UDP layer: bound ports and counters.
#[derive(Debug)]
pub struct Endpoint<'a> {
    ports: Slice<'a, Option<u16>>,
    /// Offset of the next ephemeral port to try, within the range.
    ephemeral: u16,
    stats: UdpStats,
}

impl<'a> Endpoint<'a> {
    /// An endpoint with port-table storage `ports` (free slots are `None`;
    /// a `Some(port)` slot is a bound port) and the ephemeral allocator
    /// started at a position chosen by `ephemeral_seed`.
    ///
    /// Pass a random seed: predictable client ports make blind spoofing
    /// of answers easier (RFC 6056). The endpoint has no randomness of its
    /// own; see [`reseed_ephemeral`](Self::reseed_ephemeral).
    pub fn new(ports: impl Into<Slice<'a, Option<u16>>>, ephemeral_seed: u16) -> Self {
        Endpoint {
            ports: ports.into(),
            ephemeral: ephemeral_seed & EPHEMERAL_MASK,
            stats: UdpStats::default(),
        }
    }

    /// When this layer next needs the clock: never, it keeps no timers.
    /// (Present so that an event loop can ask every endpoint alike.)
    pub fn next_deadline(&self) -> Option<crate::time::Instant> {
        None
    }

    /// The counters.
    pub fn stats(&self) -> UdpStats {
        self.stats
    }

    /// Listens on `port`: datagrams to it are handed to the application.
    ///
    /// Errors: [`UdpError::BadPort`] for port 0, [`UdpError::InUse`] if it
    /// is bound already, [`UdpError::TableFull`] if no slot is free.
    pub fn bind(&mut self, port: u16) -> Result<(), UdpError> {
        if port == 0 {
            return Err(UdpError::BadPort);
        }
        if self.is_bound(port) {
            return Err(UdpError::InUse);
        }
        let slot = self
            .ports
            .iter_mut()
            .find(|slot| slot.is_none())
            .ok_or(UdpError::TableFull)?;
        *slot = Some(port);
        Ok(())
    }

    /// Stops listening on `port`; `false` if it was not bound.
    pub fn unbind(&mut self, port: u16) -> bool {
        let mut found = false;
        // Clears every slot holding it, in case the caller's initial
        // storage named a port twice.
        for slot in self.ports.iter_mut().filter(|slot| **slot == Some(port)) {
            *slot = None;
            found = true;
        }
        found
    }

    /// Whether `port` is bound.
    pub fn is_bound(&self, port: u16) -> bool {
        self.ports.contains(&Some(port))
    }

    /// The bound ports, in slot order.
    pub fn bound_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.ports.iter().flatten().copied()
    }

    /// Moves the ephemeral allocator to a position chosen by `seed`.
    ///
    /// [`next_ephemeral`](Self::next_ephemeral) walks the range in order
    /// from there. A caller with a random source can reseed before each
    /// allocation to pick every port at random (RFC 6056 section 3.3.1).
    pub fn reseed_ephemeral(&mut self, seed: u16) {
        self.ephemeral = seed & EPHEMERAL_MASK;
    }

    /// The next unbound port of the ephemeral range
    /// [`EPHEMERAL_FIRST`]`..=`[`EPHEMERAL_LAST`], walking the range
    /// upwards and wrapping from 65535 to 49152. The port is not bound;
    /// `None` when every ephemeral port is.
    ///
    /// Each port skipped is bound and takes a slot of the table, so the
    /// walk looks at no more ports than are bound in the range, plus one,
    /// each a scan of the table: cheap for the tens or hundreds of slots a
    /// host has, quadratic only for tables near the size of the range.
    pub fn next_ephemeral(&mut self) -> Option<u16> {
        let bound = self
            .bound_ports()
            .filter(|port| *port >= EPHEMERAL_FIRST)
            .count();
        let range = usize::from(EPHEMERAL_MASK) + 1;
        // Counted per slot: a port named twice in the caller's initial
        // storage only makes the walk longer, never wrong.
        for _ in 0..bound.saturating_add(1).min(range) {
            let port = EPHEMERAL_FIRST | (self.ephemeral & EPHEMERAL_MASK);
            self.ephemeral = self.ephemeral.wrapping_add(1) & EPHEMERAL_MASK;
            if !self.is_bound(port) {
                return Some(port);
            }
        }
        None
    }

    /// Binds the next free ephemeral port and returns it.
    ///
    /// Errors: [`UdpError::TableFull`] if no slot is free,
    /// [`UdpError::Exhausted`] if every ephemeral port is bound.
    pub fn bind_ephemeral(&mut self) -> Result<u16, UdpError> {
        if !self.ports.iter().any(Option::is_none) {
            return Err(UdpError::TableFull);
        }
        let port = self.next_ephemeral().ok_or(UdpError::Exhausted)?;
        self.bind(port)?;
        Ok(port)
    }

    /// An IP-layer handler that hands datagrams for bound ports to `app`,
    /// refuses those for other ports, and drops packets of other
    /// protocols.
    pub fn recv<A>(&mut self, app: A) -> Receiver<'_, 'a, A, Discard> {
        self.recv_or(app, Discard)
    }

    /// Like [`recv`](Self::recv), but packets of other protocols go on to
    /// `next`, unchanged.
    pub fn recv_or<A, N>(&mut self, app: A, next: N) -> Receiver<'_, 'a, A, N> {
        Receiver {
            endpoint: self,
            app,
            next,
        }
    }

    /// An IP-layer sender that lets `app` build datagrams.
    pub fn send<A>(&mut self, app: A) -> Sender<'_, 'a, A> {
        Sender {
            endpoint: self,
            app,
        }
    }
}

/// A handler of received datagrams.
pub trait Recv<D: Device> {
    /// Handles one datagram for a bound port.
    fn receive(&mut self, datagram: In<'_, '_, '_, D>);
}

/// A producer of datagrams.
pub trait Send<D: Device> {
    /// Builds and sends one datagram in `raw`, or leaves it unused.
    fn send(&mut self, raw: Raw<'_, '_, '_, D>);
}

impl<D: Device, U: Recv<D> + ?Sized> Recv<D> for &mut U {
    fn receive(&mut self, datagram: In<'_, '_, '_, D>) {
        (**self).receive(datagram)
    }
}

impl<D: Device, U: Send<D> + ?Sized> Send<D> for &mut U {
    fn send(&mut self, raw: Raw<'_, '_, '_, D>) {
        (**self).send(raw)
    }
}

/// An IP-layer handler that drops every packet: where
/// [`Endpoint::recv`] sends packets that are not UDP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Discard;

impl<D: Device> ip::Recv<D> for Discard {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let _ = packet;
    }
}

/// The IP-facing receive handler built by [`Endpoint::recv`] and
/// [`Endpoint::recv_or`].
pub struct Receiver<'e, 'a, A, N> {
    endpoint: &'e mut Endpoint<'a>,
    app: A,
    next: N,
}

impl<D: Device, A: Recv<D>, N: ip::Recv<D>> ip::Recv<D> for Receiver<'_, '_, A, N> {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let ip_repr = packet.repr();
        if ip_repr.protocol() != IpProtocol::Udp {
            return self.next.receive(packet);
        }
        let checksum = packet.info().capabilities.udp.rx;
        // `parse` runs `check_len` itself.
        let parsed = UdpRepr::parse(
            &UdpPacket::new_unchecked(packet.payload()),
            ip_repr.src(),
            ip_repr.dst(),
            checksum,
        );
        let stats = &mut self.endpoint.stats;
        let repr = match parsed {
            Ok(repr) => repr,
            Err(WireError::BadChecksum) => {
                stats.rx_bad_checksum += 1;
                return;
            }
            Err(WireError::Truncated | WireError::BadLength) => {
                stats.rx_truncated += 1;
                return;
            }
            Err(_) => {
                stats.rx_malformed += 1;
                return;
            }
        };
        if !self.endpoint.is_bound(repr.dst_port) {
            // RFC 1122 4.1.3.1: SHOULD send port unreachable. The IP layer
            // holds it back where ICMP errors are forbidden or too many.
            let stats = &mut self.endpoint.stats;
            match packet.reject(ip::Reject::PortUnreachable) {
                Ok(true) => stats.rx_no_port += 1,
                Ok(false) | Err(_) => stats.rx_no_port_silent += 1,
            }
            return;
        }
        let stats = &mut self.endpoint.stats;
        stats.rx_delivered += 1;
        self.app.receive(In {
            packet,
            repr,
            stats,
        });
    }
}

/// The IP-facing send handler built by [`Endpoint::send`].
pub struct Sender<'e, 'a, A> {
    endpoint: &'e mut Endpoint<'a>,
    app: A,
}

impl<D: Device, A: Send<D>> ip::Send<D> for Sender<'_, '_, A> {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        self.app.send(Raw {
            ip: raw,
            stats: &mut self.endpoint.stats,
        });
    }
}

/// The length of a datagram with `payload_len` bytes of payload, if a
/// length field can say it.
fn datagram_len(payload_len: usize) -> Result<usize, UdpError> {
    if payload_len > MAX_PAYLOAD {
        return Err(UdpError::TooLarge);
    }
    Ok(HEADER_LEN + payload_len)
}

/// The payload of a datagram whose header starts `bytes`: after the
/// header, `len` bytes (or nothing if the buffer is shorter).
fn payload_of(bytes: &[u8], len: usize) -> &[u8] {
    bytes
        .get(HEADER_LEN..HEADER_LEN.saturating_add(len))
        .unwrap_or(&[])
}

/// [`payload_of`], writable.
fn payload_of_mut(bytes: &mut [u8], len: usize) -> &mut [u8] {
    bytes
        .get_mut(HEADER_LEN..HEADER_LEN.saturating_add(len))
        .unwrap_or(&mut [])
}

/// Writes the UDP header of `repr` at the front of `ip`'s payload, the
/// checksum left 0 until [`Out::send`].
fn start<'u, 'p, 'd, D: Device>(
    mut ip: ip::Out<'p, 'd, D>,
    repr: UdpRepr,
    stats: &'u mut UdpStats,
) -> Result<Out<'u, 'p, 'd, D>, UdpError> {
    let (src, dst) = (ip.repr().src(), ip.repr().dst());
    let mut packet = UdpPacket::new_unchecked(ip.payload_mut());
    // Checks the lengths before writing anything: the IP layer sized the
    // payload for this datagram, so it fits.
    if repr
        .emit(&mut packet, src, dst, ChecksumMode::Offloaded)
        .is_err()
    {
        stats.tx_errors += 1;
        return Err(UdpError::Ip(ip::Error::TooLarge));
    }
    Ok(Out { ip, repr, stats })
}

/// A received datagram for a bound port, lent to the application (see
/// the [module documentation](self#lifetimes) for the lifetimes).
pub struct In<'u, 'p, 'd, D: Device> {
    packet: ip::In<'p, 'd, D>,
    repr: UdpRepr,
    stats: &'u mut UdpStats,
}

impl<'u, 'p, 'd, D: Device> In<'u, 'p, 'd, D> {
    /// The parsed UDP header.
    pub fn repr(&self) -> UdpRepr {
        self.repr
    }

    /// The parsed IP header.
    pub fn ip_repr(&self) -> ip::IpRepr {
        self.packet.repr()
    }

    /// The sender's address and port.
    pub fn src(&self) -> (IpAddr, u16) {
        (self.packet.repr().src(), self.repr.src_port)
    }

    /// The address and port the datagram was sent to (a broadcast or
    /// multicast address, or one of this host's).
    pub fn dst(&self) -> (IpAddr, u16) {
        (self.packet.repr().dst(), self.repr.dst_port)
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.packet.info()
    }

    /// The payload, as long as the length field says.
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        payload_of(self.packet.payload(), self.repr.payload_len)
    }

    /// The payload, writable (to build the answer in place).
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        payload_of_mut(self.packet.payload_mut(), self.repr.payload_len)
    }

    /// Turns the datagram into an answer to its sender, in the same
    /// buffer: addresses and ports swap (an answer to a broadcast comes
    /// from this host's address) and the payload is resized to
    /// `payload_len`, its first bytes kept. Write the rest through
    /// [`Out::payload_mut`]; the checksum is computed by [`Out::send`].
    ///
    /// Errors: [`UdpError::BadPort`] when the source port is 0 (the sender
    /// wants no answer), [`UdpError::TooLarge`], or the IP layer's error.
    #[inline(always)]
    pub fn reply(self, payload_len: usize) -> Result<Out<'u, 'p, 'd, D>, UdpError> {
        let In {
            packet,
            repr,
            stats,
        } = self;
        let answer = UdpRepr {
            src_port: repr.dst_port,
            dst_port: repr.src_port,
            payload_len,
        };
        let built = if answer.dst_port == 0 {
            Err(UdpError::BadPort)
        } else {
            datagram_len(payload_len).and_then(|len| Ok(packet.reply(IpProtocol::Udp, len)?))
        };
        match built {
            Ok(ip) => start(ip, answer, stats),
            Err(err) => {
                stats.tx_errors += 1;
                Err(err)
            }
        }
    }

    /// Gives up the datagram and keeps the buffer, to build another
    /// datagram in it.
    pub fn into_raw(self) -> Raw<'u, 'p, 'd, D> {
        Raw {
            ip: self.packet.into_raw(),
            stats: self.stats,
        }
    }
}

/// What a new datagram's headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    /// The source port (usually bound, so that answers are received; 0
    /// says no answer is expected).
    pub src_port: u16,
    /// The destination address and port.
    pub dst: (IpAddr, u16),
    /// The payload length in bytes.
    pub payload_len: usize,
}

/// An empty buffer to build a datagram in.
pub struct Raw<'u, 'p, 'd, D: Device> {
    ip: ip::Raw<'p, 'd, D>,
    stats: &'u mut UdpStats,
}

impl<'u, 'p, 'd, D: Device> Raw<'u, 'p, 'd, D> {
    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.ip.info()
    }

    /// The largest payload this buffer can carry.
    pub fn payload_capacity(&self) -> usize {
        self.ip
            .payload_capacity()
            .saturating_sub(HEADER_LEN)
            .min(MAX_PAYLOAD)
    }

    /// Routes `init.dst`, resolves the next hop, writes the IP and UDP
    /// headers and gives the payload to fill.
    ///
    /// Errors: [`UdpError::BadPort`] for destination port 0,
    /// [`UdpError::TooLarge`], or the IP layer's error; with
    /// [`ip::Error::Unresolved`] the buffer may have carried an ARP
    /// request, and the datagram should be tried again later.
    #[inline(always)]
    pub fn prepare(self, init: Init) -> Result<Out<'u, 'p, 'd, D>, UdpError> {
        self.prepare_with_source(None, init)
    }

    /// [`prepare`](Self::prepare) with the source address `src` instead of
    /// one the IP layer picks: one of this host's addresses, or 0.0.0.0 to
    /// the limited broadcast 255.255.255.255 while the host has no address
    /// (a DHCP client; see [`ip::Init::src`]).
    pub fn prepare_from(self, src: IpAddr, init: Init) -> Result<Out<'u, 'p, 'd, D>, UdpError> {
        self.prepare_with_source(Some(src), init)
    }

    #[inline(always)]
    fn prepare_with_source(
        self,
        src: Option<IpAddr>,
        init: Init,
    ) -> Result<Out<'u, 'p, 'd, D>, UdpError> {
        let Raw { ip, stats } = self;
        let (dst, dst_port) = init.dst;
        let repr = UdpRepr {
            src_port: init.src_port,
            dst_port,
            payload_len: init.payload_len,
        };
        let built = if dst_port == 0 {
            Err(UdpError::BadPort)
        } else {
            datagram_len(init.payload_len).and_then(|len| {
                let ip_init = ip::Init {
                    src,
                    dst,
                    protocol: IpProtocol::Udp,
                    payload_len: len,
                };
                Ok(ip.prepare(ip_init)?)
            })
        };
        match built {
            Ok(ip) => start(ip, repr, stats),
            // A deferral, not a failure.
            Err(err @ UdpError::Ip(ip::Error::Unresolved)) => Err(err),
            Err(err) => {
                stats.tx_errors += 1;
                Err(err)
            }
        }
    }
}

impl<D: Device> Raw<'_, '_, '_, D> {
    /// Sends part of a datagram whose payload may be larger than one
    /// frame: as IP fragments, one per lent buffer (RFC 791, RFC 8200 4.5),
    /// the UDP header and checksum covering the whole `payload`. Call
    /// again with the same `cursor` and payload on later buffers until
    /// [`LargeDatagram::is_done`]. Returns how many payload bytes are out.
    ///
    /// The payload is copied from the caller's slice into each frame (the
    /// datagram does not fit one frame, so it cannot be written in place),
    /// and its checksum is summed once, on the first call.
    pub fn send_large(
        self,
        init: Init,
        payload: &[u8],
        cursor: &mut LargeDatagram,
    ) -> Result<usize, UdpError> {
        let Raw { ip, stats } = self;
        let (dst, dst_port) = init.dst;
        if dst_port == 0 {
            stats.tx_errors += 1;
            return Err(UdpError::BadPort);
        }
        let len = datagram_len(payload.len())?;
        let ip_init = ip::Init {
            src: None,
            dst,
            protocol: IpProtocol::Udp,
            payload_len: len,
        };
        let offload = ip.info().capabilities.udp.tx;
        let (mut out, range) = match ip.prepare_fragment(ip_init, &mut cursor.fragments) {
            Ok(prepared) => prepared,
            Err(err @ ip::Error::Unresolved) => return Err(UdpError::Ip(err)),
            Err(err) => {
                stats.tx_errors += 1;
                return Err(UdpError::Ip(err));
            }
        };
        if cursor.header.is_none() {
            let (src_addr, dst_addr) = (out.repr().src(), out.repr().dst());
            let value = if offload.in_software() {
                udp_wire::checksum_field(src_addr, dst_addr, init.src_port, dst_port, payload)
            } else {
                0
            };
            let mut header = [0u8; HEADER_LEN];
            header[0..2].copy_from_slice(&init.src_port.to_be_bytes());
            header[2..4].copy_from_slice(&dst_port.to_be_bytes());
            header[4..6].copy_from_slice(&(len as u16).to_be_bytes());
            header[6..8].copy_from_slice(&value.to_be_bytes());
            cursor.header = Some(header);
        }
        let header = cursor.header.unwrap_or_default();
        // This fragment's bytes of the datagram: header bytes, then
        // payload bytes.
        let bytes = out.payload_mut();
        let head_end = range.end.min(HEADER_LEN);
        let head = header
            .get(range.start.min(head_end)..head_end)
            .unwrap_or(&[]);
        let (into_head, into_payload) = bytes.split_at_mut(head.len().min(bytes.len()));
        into_head.copy_from_slice(head);
        let from = range.start.max(HEADER_LEN) - HEADER_LEN;
        let to = range.end.saturating_sub(HEADER_LEN);
        if let (Some(src), true) = (
            payload.get(from..to),
            into_payload.len() == to.saturating_sub(from),
        ) {
            into_payload.copy_from_slice(src);
        }
        match out.send() {
            Ok(()) => {
                if cursor.fragments.is_done() {
                    stats.tx_datagrams += 1;
                }
                Ok(cursor.fragments.sent().saturating_sub(HEADER_LEN))
            }
            Err(err) => {
                stats.tx_errors += 1;
                Err(UdpError::Ip(err))
            }
        }
    }
}

/// The progress of a datagram sent with [`Raw::send_large`]; keep one per
/// datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LargeDatagram {
    fragments: ip::FragmentCursor,
    /// The UDP header, checksum included, fixed by the first fragment.
    header: Option<[u8; HEADER_LEN]>,
}

impl LargeDatagram {
    /// A datagram not sent yet.
    pub const fn new() -> LargeDatagram {
        LargeDatagram {
            fragments: ip::FragmentCursor::new(),
            header: None,
        }
    }

    /// Whether the whole datagram has gone out.
    pub const fn is_done(&self) -> bool {
        self.fragments.is_done()
    }
}

/// A datagram with its headers written and its payload writable.
pub struct Out<'u, 'p, 'd, D: Device> {
    ip: ip::Out<'p, 'd, D>,
    repr: UdpRepr,
    stats: &'u mut UdpStats,
}

impl<'u, 'p, 'd, D: Device> Out<'u, 'p, 'd, D> {
    /// The UDP header as written.
    pub fn repr(&self) -> UdpRepr {
        self.repr
    }

    /// The IP header as written.
    pub fn ip_repr(&self) -> ip::IpRepr {
        self.ip.repr()
    }

    /// The source address and port.
    pub fn src(&self) -> (IpAddr, u16) {
        (self.ip.repr().src(), self.repr.src_port)
    }

    /// The destination address and port.
    pub fn dst(&self) -> (IpAddr, u16) {
        (self.ip.repr().dst(), self.repr.dst_port)
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.ip.info()
    }

    /// The payload.
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        payload_of(self.ip.payload(), self.repr.payload_len)
    }

    /// The payload, writable: the frame's own bytes.
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        payload_of_mut(self.ip.payload_mut(), self.repr.payload_len)
    }

    /// Computes the checksum over the payload as it is now (unless the
    /// device does; a result of 0 is sent as 0xffff, RFC 768) and queues
    /// the datagram.
    #[inline(always)]
    pub fn send(self) -> Result<(), UdpError> {
        let Out {
            mut ip,
            repr,
            stats,
        } = self;
        let (src, dst) = (ip.repr().src(), ip.repr().dst());
        if ip.info().capabilities.udp.tx.in_software() {
            // The header was emitted into this buffer, so the check
            // passes; it keeps the checksum's writes provably in bounds.
            match UdpPacket::new_checked(ip.payload_mut()) {
                Ok(mut packet) => {
                    // Summed from the repr's words and the payload only.
                    let value = udp_wire::checksum_field(
                        src,
                        dst,
                        repr.src_port,
                        repr.dst_port,
                        packet.payload_mut(),
                    );
                    packet.set_checksum(value);
                }
                Err(_) => {
                    stats.tx_errors += 1;
                    return Err(UdpError::Ip(ip::Error::TooLarge));
                }
            }
        }
        match ip.send() {
            Ok(()) => {
                stats.tx_datagrams += 1;
                Ok(())
            }
            Err(err) => {
                stats.tx_errors += 1;
                Err(UdpError::Ip(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_unbind_and_errors() {
        let mut storage = [None; 2];
        let mut udp = Endpoint::new(&mut storage, 0);
        assert_eq!(udp.bind(0), Err(UdpError::BadPort));
        assert_eq!(udp.bind(53), Ok(()));
        assert_eq!(udp.bind(53), Err(UdpError::InUse));
        assert_eq!(udp.bind(67), Ok(()));
        assert_eq!(udp.bind(68), Err(UdpError::TableFull));
        assert!(udp.is_bound(53) && udp.is_bound(67) && !udp.is_bound(68));
        assert!(udp.unbind(53));
        assert!(!udp.unbind(53));
        assert!(!udp.is_bound(53));
        assert_eq!(udp.bind(68), Ok(()));
        assert!(udp.bound_ports().eq([68, 67]));
        assert_eq!(storage, [Some(68), Some(67)]);
    }

    #[test]
    fn empty_table_binds_nothing() {
        let mut udp = Endpoint::new(&mut [][..], 0);
        assert_eq!(udp.bind(1), Err(UdpError::TableFull));
        assert_eq!(udp.bind_ephemeral(), Err(UdpError::TableFull));
        // Nothing is bound, so the allocator still answers.
        assert_eq!(udp.next_ephemeral(), Some(EPHEMERAL_FIRST));
        assert!(!udp.unbind(1));
    }

    #[test]
    fn caller_storage_may_start_with_bound_ports() {
        let mut storage = [Some(80), None, Some(80)];
        let mut udp = Endpoint::new(&mut storage, 0);
        assert!(udp.is_bound(80));
        assert_eq!(udp.bind(80), Err(UdpError::InUse));
        // A duplicate in the initial storage goes with one unbind.
        assert!(udp.unbind(80));
        assert!(!udp.is_bound(80));
    }

    #[test]
    fn ephemeral_ports_walk_the_range_and_wrap() {
        let mut storage = [None; 4];
        let mut udp = Endpoint::new(&mut storage, 0x3ffe);
        assert_eq!(udp.next_ephemeral(), Some(65534));
        assert_eq!(udp.next_ephemeral(), Some(65535));
        assert_eq!(udp.next_ephemeral(), Some(49152));
        assert_eq!(udp.next_ephemeral(), Some(49153));
        // The seed is taken modulo the range size.
        udp.reseed_ephemeral(0xffff);
        assert_eq!(udp.next_ephemeral(), Some(65535));
        udp.reseed_ephemeral(0x4005);
        assert_eq!(udp.next_ephemeral(), Some(49157));
    }

    #[test]
    fn ephemeral_ports_skip_bound_ones() {
        let mut storage = [None; 4];
        let mut udp = Endpoint::new(&mut storage, 0x3fff);
        udp.bind(65535).unwrap();
        udp.bind(49152).unwrap();
        udp.bind(49154).unwrap();
        assert_eq!(udp.next_ephemeral(), Some(49153));
        assert_eq!(udp.next_ephemeral(), Some(49155));
        assert_eq!(udp.bind_ephemeral(), Ok(49156));
        assert!(udp.is_bound(49156));
        // The table is full now.
        assert_eq!(udp.bind_ephemeral(), Err(UdpError::TableFull));
    }

    #[test]
    fn every_ephemeral_port_bound_is_exhausted() {
        // One more slot than the range: the whole range bound, one free.
        // (The walk over a table this size is the allocator's worst case.)
        const SLOTS: usize = 16385;
        let mut storage = [None; SLOTS];
        for (slot, port) in storage.iter_mut().zip(EPHEMERAL_FIRST..=EPHEMERAL_LAST) {
            *slot = Some(port);
        }
        let mut udp = Endpoint::new(&mut storage, 1234);
        assert_eq!(udp.bind_ephemeral(), Err(UdpError::Exhausted));
        assert!(udp.unbind(50000));
        // Start the walk just below the freed port.
        udp.reseed_ephemeral(50000 - EPHEMERAL_FIRST - 2);
        assert_eq!(udp.next_ephemeral(), Some(50000));
        assert_eq!(udp.bind_ephemeral(), Ok(50000));
        assert!(udp.is_bound(50000));
    }

    #[test]
    fn errors_display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(UdpError::InUse.to_string(), "port already bound");
        assert_eq!(
            UdpError::from(ip::Error::Unresolved).to_string(),
            "ip: next hop not resolved yet"
        );
    }

    #[test]
    fn datagram_lengths() {
        assert_eq!(datagram_len(0), Ok(8));
        assert_eq!(datagram_len(MAX_PAYLOAD), Ok(65535));
        assert_eq!(datagram_len(MAX_PAYLOAD + 1), Err(UdpError::TooLarge));
        assert_eq!(datagram_len(usize::MAX), Err(UdpError::TooLarge));
        let bytes = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(payload_of(&bytes, 2), &[9, 10]);
        assert_eq!(payload_of(&bytes, 3), &[] as &[u8]);
        assert_eq!(payload_of(&bytes[..4], 0), &[] as &[u8]);
        assert_eq!(payload_of(&bytes, usize::MAX), &[] as &[u8]);
    }
}
