//! The IP layer: addresses, routes, neighbor resolution, and the packets
//! handed to transports.
//!
//! An [`Endpoint`] holds the host's addresses (with their on-link
//! prefixes), its [`Routes`], and its ARP [`NeighborCache`]. Its
//! [`recv`](Endpoint::recv) wraps a transport handler into an Ethernet
//! handler; its [`send`](Endpoint::send) wraps a transport sender.
//!
//! On receive it answers ARP requests for its addresses in place, learns
//! from ARP traffic (RFC 826), validates IPv4 packets, keeps only those
//! for this host (its unicast addresses, the limited and subnet-directed
//! broadcasts, all-hosts multicast) and hands them up as [`In`]. Every
//! dropped packet is counted in [`IpStats`] by reason.
//!
//! On send, [`Raw::prepare`] routes the destination, resolves the next
//! hop's hardware address and writes the IP header. While the next hop is
//! unresolved the packet is not sent: the buffer carries an ARP request
//! instead (at most one per second per address) and `prepare` reports
//! [`Error::Unresolved`]; the transport tries again later. A stale
//! neighbor is used while a revalidation request goes out on the next
//! buffer the device lends.
//!
//! Status: IPv4 and ARP. IPv6 with neighbor discovery, fragmentation,
//! reassembly and multicast groups arrive with the rest of the "Core
//! layers" issue.

use core::fmt;
use core::time::Duration;

use crate::layer::eth;
use crate::layer::neighbor::{NeighborCache, Resolution};
use crate::layer::route::{RateLimiter, Routes};
use crate::managed::Slice;
use crate::nic::{self, Device, Info};
use crate::time::Instant;
use crate::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use crate::wire::ethernet::{EtherType, EthernetAddress};
use crate::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Type};
use crate::wire::ip::{IpAddr, IpCidr, IpProtocol, Ipv4Addr};
use crate::wire::ipv4::{self, Ipv4Class, Ipv4Packet, Ipv4Repr};
use crate::wire::{ChecksumMode, Error as WireError};

/// Why a packet could not be built or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// No route to the destination, or no source address of its family.
    Unreachable,
    /// The next hop's hardware address is not known yet; a request is
    /// out. Try again later.
    Unresolved,
    /// The packet does not fit the device's buffer (fragmentation is not
    /// done here).
    TooLarge,
    /// The destination is not one this layer sends to (unspecified, a
    /// loopback address, the host itself).
    BadDestination,
    /// The device refused the buffer.
    Device(nic::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable => f.write_str("no route to host"),
            Error::Unresolved => f.write_str("next hop not resolved yet"),
            Error::TooLarge => f.write_str("packet larger than the link MTU"),
            Error::BadDestination => f.write_str("destination not allowed"),
            Error::Device(err) => write!(f, "device: {err}"),
        }
    }
}

impl From<nic::Error> for Error {
    fn from(err: nic::Error) -> Self {
        match err {
            nic::Error::TooLarge => Error::TooLarge,
            other => Error::Device(other),
        }
    }
}

/// Settings of the IP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpConfig {
    /// The TTL of IPv4 packets this host sends.
    pub ttl: u8,
    /// ICMP errors this host may send in a burst.
    pub icmp_error_burst: u32,
    /// One more ICMP error may be sent per this interval (RFC 4443 2.4(f),
    /// RFC 1812 4.3.2.8).
    pub icmp_error_interval: Duration,
}

impl Default for IpConfig {
    fn default() -> Self {
        // Linux allows about one error per millisecond with a burst of 50.
        IpConfig {
            ttl: 64,
            icmp_error_burst: 50,
            icmp_error_interval: Duration::from_millis(1),
        }
    }
}

/// Why an incoming packet is refused with an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reject {
    /// No one listens on the destination port (UDP).
    PortUnreachable,
    /// No handler for the upper-layer protocol.
    ProtocolUnreachable,
}

/// Counters of the IP layer, by what happened to each packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IpStats {
    /// IPv4 packets handed to the transport layer.
    pub rx_delivered: u64,
    /// Packets cut short or with inconsistent length fields.
    pub rx_truncated: u64,
    /// IPv4 headers with a wrong checksum.
    pub rx_bad_checksum: u64,
    /// Packets with malformed options or forbidden field values.
    pub rx_malformed: u64,
    /// Packets for another host.
    pub rx_not_for_us: u64,
    /// Packets from a source that cannot send (multicast, broadcast,
    /// loopback, one of our own addresses).
    pub rx_bad_source: u64,
    /// Fragments (reassembly is not configured).
    pub rx_fragments: u64,
    /// Frames of another network protocol.
    pub rx_unknown_ethertype: u64,
    /// ARP packets received (valid ones).
    pub arp_rx: u64,
    /// ARP packets dropped as malformed or unsupported.
    pub arp_malformed: u64,
    /// ARP requests this host answered.
    pub arp_replies_sent: u64,
    /// ARP requests this host sent.
    pub arp_requests_sent: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Sends that failed for want of a route.
    pub tx_unreachable: u64,
    /// Sends deferred until the next hop is resolved.
    pub tx_unresolved: u64,
    /// ICMP errors sent for refused packets.
    pub icmp_errors_sent: u64,
    /// ICMP errors not sent because of the rate limit.
    pub icmp_errors_rate_limited: u64,
    /// Refused packets that must not be answered with an error (to a
    /// broadcast or multicast address, a non-first fragment, ...).
    pub icmp_errors_suppressed: u64,
}

/// The parsed header of a received or prepared IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpRepr {
    /// An IPv4 header.
    V4(Ipv4Repr),
}

impl IpRepr {
    /// The source address.
    pub fn src(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.src),
        }
    }

    /// The destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.dst),
        }
    }

    /// The upper-layer protocol.
    pub fn protocol(&self) -> IpProtocol {
        match self {
            IpRepr::V4(r) => r.protocol,
        }
    }

    /// The payload length in bytes.
    pub fn payload_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.payload_len,
        }
    }

    /// TTL or hop limit.
    pub fn hop_limit(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ttl,
        }
    }
}

/// The persistent state of the IP layer of one interface.
pub struct Endpoint<'a> {
    addrs: Slice<'a, Option<IpCidr>>,
    routes: Routes<'a>,
    arp: NeighborCache<'a, Ipv4Addr>,
    state: IpState,
}

/// The part of the endpoint without borrowed storage.
#[derive(Debug)]
struct IpState {
    config: IpConfig,
    stats: IpStats,
    icmp_errors: RateLimiter,
    next_ident: u16,
    /// A neighbor to send an ARP request for on the next lent buffer
    /// (revalidation of a stale entry that was used meanwhile).
    arp_revalidate: Option<Ipv4Addr>,
}

impl IpState {
    fn next_ident(&mut self) -> u16 {
        let ident = self.next_ident;
        self.next_ident = self.next_ident.wrapping_add(1);
        ident
    }
}

fn rate_limiter(config: &IpConfig) -> RateLimiter {
    RateLimiter::new(config.icmp_error_burst, config.icmp_error_interval)
}

/// What packets lent to transports need from the endpoint.
///
/// The packet types hold the endpoint as `&mut dyn IpContext`, which
/// erases the lifetime of its storage: handlers then name two lifetimes
/// (the lend and the device), not three. The methods are not generic, so
/// the cost is one indirect call per use, on the answer and send paths
/// only.
trait IpContext {
    fn state(&mut self) -> &mut IpState;
    fn has_v4(&self, addr: Ipv4Addr) -> bool;
    fn v4_source(&self, next_hop: Ipv4Addr) -> Option<Ipv4Addr>;
    fn resolve_v4(&mut self, dst: Ipv4Addr, now: Instant) -> Result<(Ipv4Addr, Resolved), Error>;
}

impl IpContext for Endpoint<'_> {
    fn state(&mut self) -> &mut IpState {
        &mut self.state
    }

    fn has_v4(&self, addr: Ipv4Addr) -> bool {
        Endpoint::has_v4(self, addr)
    }

    fn v4_source(&self, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        Endpoint::v4_source(self, next_hop)
    }

    fn resolve_v4(&mut self, dst: Ipv4Addr, now: Instant) -> Result<(Ipv4Addr, Resolved), Error> {
        Endpoint::resolve_v4(self, dst, now)
    }
}

impl<'a> Endpoint<'a> {
    /// An endpoint with address storage `addrs` (free slots are `None`),
    /// a route table and an ARP cache.
    pub fn new(
        addrs: impl Into<Slice<'a, Option<IpCidr>>>,
        routes: Routes<'a>,
        arp: NeighborCache<'a, Ipv4Addr>,
    ) -> Self {
        Endpoint {
            addrs: addrs.into(),
            routes,
            arp,
            state: IpState {
                config: IpConfig::default(),
                stats: IpStats::default(),
                icmp_errors: rate_limiter(&IpConfig::default()),
                next_ident: 1,
                arp_revalidate: None,
            },
        }
    }

    /// Changes the settings.
    pub fn set_config(&mut self, config: IpConfig) {
        self.state.config = config;
        self.state.icmp_errors = rate_limiter(&config);
    }

    /// The counters.
    pub fn stats(&self) -> IpStats {
        self.state.stats
    }

    /// The addresses of this host.
    pub fn addrs(&self) -> impl Iterator<Item = IpCidr> + '_ {
        self.addrs.iter().flatten().copied()
    }

    /// Adds an address; `false` when the storage is full. Adding an
    /// address twice keeps one.
    pub fn add_addr(&mut self, cidr: IpCidr) -> bool {
        if self.addrs.iter().flatten().any(|a| *a == cidr) {
            return true;
        }
        match self.addrs.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(cidr);
                true
            }
            None => false,
        }
    }

    /// Removes an address; `false` if it was not there.
    pub fn remove_addr(&mut self, addr: IpAddr) -> bool {
        match self
            .addrs
            .iter_mut()
            .find(|slot| slot.is_some_and(|c| c.address() == addr))
        {
            Some(slot) => {
                *slot = None;
                true
            }
            None => false,
        }
    }

    /// Whether `addr` is one of this host's addresses.
    pub fn has_addr(&self, addr: IpAddr) -> bool {
        self.addrs().any(|c| c.address() == addr)
    }

    /// The route table.
    pub fn routes(&self) -> &Routes<'a> {
        &self.routes
    }

    /// The route table, to add or remove routes.
    pub fn routes_mut(&mut self) -> &mut Routes<'a> {
        &mut self.routes
    }

    /// The ARP cache.
    pub fn arp_cache(&self) -> &NeighborCache<'a, Ipv4Addr> {
        &self.arp
    }

    /// When something in this layer next needs attention (a resolution
    /// that may be retried, a route that expires).
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.arp.next_deadline(), self.routes.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// A receive handler for the Ethernet layer that feeds `upper`.
    pub fn recv<U>(&mut self, upper: U) -> Receiver<'_, 'a, U> {
        Receiver {
            endpoint: self,
            upper,
        }
    }

    /// A send handler for the Ethernet layer that lets `upper` build
    /// packets.
    pub fn send<U>(&mut self, upper: U) -> Sender<'_, 'a, U> {
        Sender {
            endpoint: self,
            upper,
        }
    }

    fn v4_addrs(&self) -> impl Iterator<Item = ipv4::Ipv4Cidr> + '_ {
        self.addrs().filter_map(|c| match c {
            IpCidr::V4(c) => Some(c),
            _ => None,
        })
    }

    fn has_v4(&self, addr: Ipv4Addr) -> bool {
        self.v4_addrs().any(|c| c.address() == addr)
    }

    /// Whether an IPv4 packet to `dst` is for this host.
    fn accepts_v4(&self, dst: Ipv4Addr) -> bool {
        dst == Ipv4Addr::BROADCAST
            || dst == Ipv4Addr::new(224, 0, 0, 1)
            || self
                .v4_addrs()
                .any(|c| c.address() == dst || c.broadcast() == Some(dst))
    }

    /// The source address for a packet to `dst` leaving through `next_hop`:
    /// an address whose prefix holds the next hop, else the first IPv4
    /// address.
    fn v4_source(&self, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        self.v4_addrs()
            .find(|c| c.contains_addr(next_hop))
            .or_else(|| self.v4_addrs().next())
            .map(|c| c.address())
    }

    /// Where a packet to `dst` goes on the link: the hardware address,
    /// or what to do instead.
    fn resolve_v4(&mut self, dst: Ipv4Addr, now: Instant) -> Result<(Ipv4Addr, Resolved), Error> {
        match ipv4::classify(dst) {
            Ipv4Class::Broadcast => {
                let src = self.v4_addrs().next().ok_or(Error::Unreachable)?.address();
                return Ok((src, Resolved::Mac(EthernetAddress::BROADCAST)));
            }
            Ipv4Class::Multicast => {
                let src = self.v4_addrs().next().ok_or(Error::Unreachable)?.address();
                return Ok((
                    src,
                    Resolved::Mac(EthernetAddress::from_ipv4_multicast(dst)),
                ));
            }
            Ipv4Class::Unspecified
            | Ipv4Class::ThisNetwork
            | Ipv4Class::Loopback
            | Ipv4Class::Reserved => {
                return Err(Error::BadDestination);
            }
            Ipv4Class::LinkLocal | Ipv4Class::Unicast => {}
        }
        if self.has_v4(dst) {
            return Err(Error::BadDestination);
        }
        if let Some(cidr) = self.v4_addrs().find(|c| c.broadcast() == Some(dst)) {
            return Ok((cidr.address(), Resolved::Mac(EthernetAddress::BROADCAST)));
        }
        // On-link prefixes of our own addresses first, then the table.
        let next_hop = if self.v4_addrs().any(|c| c.contains_addr(dst)) {
            dst
        } else {
            let hop = self
                .routes
                .lookup(IpAddr::V4(dst), now)
                .ok_or(Error::Unreachable)?;
            match hop.neighbor(IpAddr::V4(dst)) {
                IpAddr::V4(n) => n,
                IpAddr::V6(_) => return Err(Error::Unreachable),
            }
        };
        let src = self.v4_source(next_hop).ok_or(Error::Unreachable)?;
        let resolved = match self.arp.lookup(next_hop, now) {
            Resolution::Known(mac) => Resolved::Mac(mac),
            Resolution::Revalidate(mac) => {
                self.state.arp_revalidate = Some(next_hop);
                Resolved::Mac(mac)
            }
            Resolution::Request => Resolved::Request(next_hop),
            Resolution::Pending => Resolved::Pending,
        };
        Ok((src, resolved))
    }

    fn send_arp_request<D: Device>(
        &mut self,
        raw: eth::Raw<'_, '_, D>,
        target: Ipv4Addr,
        src: Ipv4Addr,
    ) {
        send_arp_request(&mut self.state.stats, raw, target, src)
    }

    fn receive_arp<D: Device>(&mut self, frame: eth::In<'_, '_, D>) {
        let now = frame.info().timestamp;
        let repr = match ArpPacket::new_checked(frame.payload()).and_then(|p| ArpRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(_) => {
                self.state.stats.arp_malformed += 1;
                return;
            }
        };
        let ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr,
            source_protocol_addr,
            target_protocol_addr,
            ..
        } = repr;
        self.state.stats.arp_rx += 1;
        let for_us = self.has_v4(target_protocol_addr);
        // RFC 826: merge the sender if known; add it if the packet is for
        // us (we will talk back). A probe (sender 0.0.0.0) teaches nothing.
        if !source_protocol_addr.is_unspecified() && !self.has_v4(source_protocol_addr) {
            if for_us {
                self.arp
                    .fill(source_protocol_addr, source_hardware_addr, now);
            } else {
                self.arp
                    .refresh(source_protocol_addr, source_hardware_addr, now);
            }
        }
        if operation != ArpOperation::Request || !for_us {
            return;
        }
        let reply = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: frame.local_addr(),
            source_protocol_addr: target_protocol_addr,
            target_hardware_addr: source_hardware_addr,
            target_protocol_addr: source_protocol_addr,
        };
        if let Ok(mut out) = frame.reply(EtherType::Arp, reply.buffer_len()) {
            reply.emit(&mut ArpPacket::new_unchecked(out.payload_mut()));
            if out.send().is_ok() {
                self.state.stats.arp_replies_sent += 1;
            }
        }
    }

    /// Validates an IPv4 packet; the repr and header length if it is for
    /// this host.
    fn check_ipv4(&mut self, bytes: &[u8], checksum: ChecksumMode) -> Option<(Ipv4Repr, usize)> {
        let parsed = Ipv4Packet::new_checked(bytes)
            .and_then(|p| Ipv4Repr::parse(&p, checksum).map(|r| (r, p.header_len())));
        let (repr, header_len) = match parsed {
            Ok(parsed) => parsed,
            Err(WireError::BadChecksum) => {
                self.state.stats.rx_bad_checksum += 1;
                return None;
            }
            Err(WireError::Truncated | WireError::BadLength) => {
                self.state.stats.rx_truncated += 1;
                return None;
            }
            Err(_) => {
                self.state.stats.rx_malformed += 1;
                return None;
            }
        };
        if !self.accepts_v4(repr.dst) {
            self.state.stats.rx_not_for_us += 1;
            return None;
        }
        if !ipv4::classify(repr.src).is_valid_source() || self.has_v4(repr.src) {
            self.state.stats.rx_bad_source += 1;
            return None;
        }
        if repr.is_fragment() {
            self.state.stats.rx_fragments += 1;
            return None;
        }
        Some((repr, header_len))
    }
}

/// Writes an ARP request for `target` into `raw` and queues it.
fn send_arp_request<D: Device>(
    stats: &mut IpStats,
    raw: eth::Raw<'_, '_, D>,
    target: Ipv4Addr,
    src: Ipv4Addr,
) {
    let request = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: raw.local_addr(),
        source_protocol_addr: src,
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: target,
    };
    let init = eth::Init {
        dst: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
        payload_len: request.buffer_len(),
    };
    if let Ok(mut out) = raw.prepare(init) {
        request.emit(&mut ArpPacket::new_unchecked(out.payload_mut()));
        if out.send().is_ok() {
            stats.arp_requests_sent += 1;
        }
    }
}

/// How a destination is reached on the link.
enum Resolved {
    /// Send to this hardware address.
    Mac(EthernetAddress),
    /// Send an ARP request for this next hop instead.
    Request(Ipv4Addr),
    /// A request is out; send nothing.
    Pending,
}

/// A handler of packets the IP layer delivers.
pub trait Recv<D: Device> {
    /// Handles one packet for this host.
    fn receive(&mut self, packet: In<'_, '_, D>);
}

/// A producer of IP packets.
pub trait Send<D: Device> {
    /// Builds and sends one packet in `raw`, or leaves it unused.
    fn send(&mut self, raw: Raw<'_, '_, D>);
}

impl<D: Device, U: Recv<D> + ?Sized> Recv<D> for &mut U {
    fn receive(&mut self, packet: In<'_, '_, D>) {
        (**self).receive(packet)
    }
}

impl<D: Device, U: Send<D> + ?Sized> Send<D> for &mut U {
    fn send(&mut self, raw: Raw<'_, '_, D>) {
        (**self).send(raw)
    }
}

/// The Ethernet-facing receive handler built by [`Endpoint::recv`].
pub struct Receiver<'e, 'a, U> {
    endpoint: &'e mut Endpoint<'a>,
    upper: U,
}

impl<D: Device, U: Recv<D>> eth::Recv<D> for Receiver<'_, '_, U> {
    fn receive(&mut self, frame: eth::In<'_, '_, D>) {
        match frame.repr().ethertype {
            EtherType::Arp => self.endpoint.receive_arp(frame),
            EtherType::Ipv4 => {
                let checksum = frame.info().capabilities.ipv4.rx;
                let Some((repr, header_len)) = self.endpoint.check_ipv4(frame.payload(), checksum)
                else {
                    return;
                };
                self.endpoint.state.stats.rx_delivered += 1;
                self.upper.receive(In {
                    frame,
                    repr: IpRepr::V4(repr),
                    header_len,
                    endpoint: self.endpoint,
                });
            }
            _ => self.endpoint.state.stats.rx_unknown_ethertype += 1,
        }
    }

    fn wants_group(&self, group: EthernetAddress) -> bool {
        // All-hosts (224.0.0.1); joined groups arrive with IGMP.
        group == EthernetAddress::from_ipv4_multicast(Ipv4Addr::new(224, 0, 0, 1))
    }
}

/// The Ethernet-facing send handler built by [`Endpoint::send`].
pub struct Sender<'e, 'a, U> {
    endpoint: &'e mut Endpoint<'a>,
    upper: U,
}

impl<D: Device, U: Send<D>> eth::Send<D> for Sender<'_, '_, U> {
    fn send(&mut self, raw: eth::Raw<'_, '_, D>) {
        // A revalidation request owed for a stale neighbor goes first.
        let owed = self.endpoint.state.arp_revalidate.take();
        if let Some((target, src)) = owed.and_then(|t| Some((t, self.endpoint.v4_source(t)?))) {
            self.endpoint.send_arp_request(raw, target, src);
            return;
        }
        self.upper.send(Raw {
            frame: raw,
            endpoint: self.endpoint,
        });
    }
}

/// A received IP packet for this host.
pub struct In<'p, 'd, D: Device> {
    frame: eth::In<'p, 'd, D>,
    repr: IpRepr,
    header_len: usize,
    endpoint: &'p mut dyn IpContext,
}

impl<'p, 'd, D: Device> In<'p, 'd, D> {
    /// The parsed header.
    pub fn repr(&self) -> IpRepr {
        self.repr
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.frame.info()
    }

    /// The upper-layer bytes.
    pub fn payload(&self) -> &[u8] {
        let range = self.header_len..self.header_len + self.repr.payload_len();
        self.frame.payload().get(range).unwrap_or(&[])
    }

    /// The upper-layer bytes, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len..self.header_len + self.repr.payload_len();
        self.frame.payload_mut().get_mut(range).unwrap_or(&mut [])
    }

    /// Turns the packet into an answer to its sender, in place: source
    /// and destination swap (a broadcast or multicast destination is
    /// replaced by this host's address), the protocol becomes `protocol`
    /// and the payload is resized to `payload_len`, its first bytes kept.
    /// The answer goes to the hardware address the packet came from.
    pub fn reply(self, protocol: IpProtocol, payload_len: usize) -> Result<Out<'p, 'd, D>, Error> {
        let IpRepr::V4(received) = self.repr;
        let src = if self.endpoint.has_v4(received.dst) {
            received.dst
        } else {
            self.endpoint
                .v4_source(received.src)
                .ok_or(Error::Unreachable)?
        };
        let repr = Ipv4Repr {
            src,
            dst: received.src,
            protocol,
            payload_len,
            ttl: self.endpoint.state().config.ttl,
            ident: self.endpoint.state().next_ident(),
            ..Ipv4Repr::default()
        };
        let checksum = self.frame.info().capabilities.ipv4.tx;
        let total = ipv4::HEADER_LEN
            .checked_add(payload_len)
            .ok_or(Error::TooLarge)?;
        let mut frame = self.frame;
        // Our header has no options: move the kept payload up if the
        // received header had some.
        if self.header_len != ipv4::HEADER_LEN {
            let keep = payload_len.min(received.payload_len);
            let start = self.header_len;
            frame
                .payload_mut()
                .copy_within(start..start + keep, ipv4::HEADER_LEN);
        }
        let mut out = frame.reply(EtherType::Ipv4, total)?;
        repr.emit(
            &mut Ipv4Packet::new_unchecked(&mut out.payload_mut()[..ipv4::HEADER_LEN]),
            ChecksumMode::Offloaded,
        );
        finish_header(&mut out, checksum);
        Ok(Out {
            frame: out,
            repr: IpRepr::V4(repr),
            endpoint: self.endpoint,
        })
    }

    /// Refuses the packet with an ICMP destination unreachable error,
    /// built in place around the quoted packet (RFC 792, RFC 1122 3.2.2).
    ///
    /// No error is sent, and `Ok(false)` returned, where the RFCs forbid
    /// one (the packet was for a broadcast or multicast address, came from
    /// an address that cannot be answered, or is a non-first fragment) or
    /// the rate limit holds it back. Transports call this for ports and
    /// protocols nobody handles.
    pub fn reject(self, why: Reject) -> Result<bool, Error> {
        let IpRepr::V4(received) = self.repr;
        let now = self.frame.info().timestamp;
        let may_answer = self.endpoint.has_v4(received.dst)
            && ipv4::classify(received.src) == Ipv4Class::Unicast
            && received.frag_offset == 0;
        let state = self.endpoint.state();
        if !may_answer {
            state.stats.icmp_errors_suppressed += 1;
            return Ok(false);
        }
        if !state.icmp_errors.allow(now) {
            state.stats.icmp_errors_rate_limited += 1;
            return Ok(false);
        }
        let code = match why {
            Reject::PortUnreachable => Icmpv4DstUnreachable::PortUnreachable,
            Reject::ProtocolUnreachable => Icmpv4DstUnreachable::ProtoUnreachable,
        };
        // Quote the original header and as much payload as keeps the whole
        // error within 576 bytes (RFC 1812 4.3.2.3) and the buffer.
        const ERROR_HEADERS: usize = ipv4::HEADER_LEN + 8;
        let original_len = self.header_len + received.payload_len;
        let room = self.frame.payload().len().max(original_len);
        let quote_len = original_len.min(576 - ERROR_HEADERS).min(room);
        let repr = Ipv4Repr {
            src: received.dst,
            dst: received.src,
            protocol: IpProtocol::Icmp,
            payload_len: 8 + quote_len,
            ttl: state.config.ttl,
            ident: state.next_ident(),
            ..Ipv4Repr::default()
        };
        let checksum = self.frame.info().capabilities;
        let mut out = self
            .frame
            .reply(EtherType::Ipv4, ERROR_HEADERS + quote_len)?;
        let bytes = out.payload_mut();
        bytes.copy_within(..quote_len, ERROR_HEADERS);
        let (header, icmp) = bytes.split_at_mut(ipv4::HEADER_LEN);
        let mut message = Icmpv4Packet::new_unchecked(icmp);
        message.set_msg_type(Icmpv4Type::DstUnreachable);
        message.set_msg_code(code.into());
        message.set_rest_of_header(0);
        message.set_checksum(0);
        if checksum.icmpv4.tx.in_software() {
            message.fill_checksum();
        }
        repr.emit(
            &mut Ipv4Packet::new_unchecked(header),
            ChecksumMode::Offloaded,
        );
        finish_header(&mut out, checksum.ipv4.tx);
        out.send()?;
        self.endpoint.state().stats.icmp_errors_sent += 1;
        Ok(true)
    }

    /// Gives up the received packet and keeps the buffer for a new one.
    pub fn into_raw(self) -> Raw<'p, 'd, D> {
        Raw {
            frame: self.frame.into_raw(),
            endpoint: self.endpoint,
        }
    }
}

/// Fills the IPv4 header checksum at the front of `out`'s payload, unless
/// the device does.
fn finish_header<D: Device>(out: &mut eth::Out<'_, '_, D>, checksum: ChecksumMode) {
    if let (true, Some(header)) = (
        checksum.in_software(),
        out.payload_mut().get_mut(..ipv4::HEADER_LEN),
    ) {
        Ipv4Packet::new_unchecked(header).fill_checksum();
    }
}

/// What a new packet's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    /// The source address; `None` picks one of this host's addresses.
    pub src: Option<IpAddr>,
    /// The destination.
    pub dst: IpAddr,
    /// The upper-layer protocol.
    pub protocol: IpProtocol,
    /// The upper-layer length in bytes.
    pub payload_len: usize,
}

/// An empty buffer to build an IP packet in.
pub struct Raw<'p, 'd, D: Device> {
    frame: eth::Raw<'p, 'd, D>,
    endpoint: &'p mut dyn IpContext,
}

impl<'p, 'd, D: Device> Raw<'p, 'd, D> {
    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.frame.info()
    }

    /// The largest upper-layer payload this buffer can carry.
    pub fn payload_capacity(&self) -> usize {
        self.frame
            .payload_capacity()
            .saturating_sub(ipv4::HEADER_LEN)
    }

    /// Routes `init.dst`, resolves the next hop, writes the headers and
    /// gives the payload to fill.
    ///
    /// [`Error::Unresolved`]: the next hop's address is being resolved;
    /// this buffer may have carried the ARP request. Try again later.
    pub fn prepare(self, init: Init) -> Result<Out<'p, 'd, D>, Error> {
        let IpAddr::V4(dst) = init.dst else {
            return Err(Error::Unreachable);
        };
        let now = self.frame.info().timestamp;
        let endpoint = self.endpoint;
        let (default_src, resolved) = match endpoint.resolve_v4(dst, now) {
            Ok(found) => found,
            Err(err) => {
                endpoint.state().stats.tx_unreachable += 1;
                return Err(err);
            }
        };
        let mac = match resolved {
            Resolved::Mac(mac) => mac,
            Resolved::Request(next_hop) => {
                let stats = &mut endpoint.state().stats;
                stats.tx_unresolved += 1;
                send_arp_request(stats, self.frame, next_hop, default_src);
                return Err(Error::Unresolved);
            }
            Resolved::Pending => {
                endpoint.state().stats.tx_unresolved += 1;
                return Err(Error::Unresolved);
            }
        };
        let src = match init.src {
            Some(IpAddr::V4(src)) if endpoint.has_v4(src) => src,
            Some(_) => return Err(Error::Unreachable),
            None => default_src,
        };
        let total = ipv4::HEADER_LEN
            .checked_add(init.payload_len)
            .ok_or(Error::TooLarge)?;
        if total > usize::from(u16::MAX) {
            return Err(Error::TooLarge);
        }
        let checksum = self.frame.info().capabilities.ipv4.tx;
        let repr = Ipv4Repr {
            src,
            dst,
            protocol: init.protocol,
            payload_len: init.payload_len,
            ttl: endpoint.state().config.ttl,
            ident: endpoint.state().next_ident(),
            ..Ipv4Repr::default()
        };
        let eth_init = eth::Init {
            dst: mac,
            ethertype: EtherType::Ipv4,
            payload_len: total,
        };
        let mut out = self.frame.prepare(eth_init)?;
        repr.emit(
            &mut Ipv4Packet::new_unchecked(&mut out.payload_mut()[..ipv4::HEADER_LEN]),
            ChecksumMode::Offloaded,
        );
        finish_header(&mut out, checksum);
        Ok(Out {
            frame: out,
            repr: IpRepr::V4(repr),
            endpoint,
        })
    }
}

/// An IP packet with its headers written and its payload writable.
pub struct Out<'p, 'd, D: Device> {
    frame: eth::Out<'p, 'd, D>,
    repr: IpRepr,
    endpoint: &'p mut dyn IpContext,
}

impl<'p, 'd, D: Device> Out<'p, 'd, D> {
    /// The header as written.
    pub fn repr(&self) -> IpRepr {
        self.repr
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.frame.info()
    }

    /// The upper-layer bytes.
    pub fn payload(&self) -> &[u8] {
        self.frame.payload().get(ipv4::HEADER_LEN..).unwrap_or(&[])
    }

    /// The upper-layer bytes, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.frame
            .payload_mut()
            .get_mut(ipv4::HEADER_LEN..)
            .unwrap_or(&mut [])
    }

    /// Queues the packet.
    pub fn send(self) -> Result<(), Error> {
        self.frame.send()?;
        self.endpoint.state().stats.tx_packets += 1;
        Ok(())
    }
}
