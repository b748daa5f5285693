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
//! broadcasts, all-hosts multicast) and hands them up as [`In`]. While it
//! has no IPv4 address it also takes DHCP answers unicast to the address
//! a server offers (RFC 2131 section 4.1). Every dropped packet is counted
//! in [`IpStats`] by reason.
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
use crate::layer::reassembly::{Fragment, FragmentKey, Progress, ReassembledId, Reassembler};
use crate::layer::route::{RateLimiter, Routes};
use crate::managed::Slice;
use crate::nic::{self, Capabilities, Device, Info};
use crate::time::Instant;
use crate::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use crate::wire::ethernet::{EtherType, EthernetAddress};
use crate::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Type};
use crate::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr, Icmpv6Type};
use crate::wire::ip::{IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};
use crate::wire::ipv4::{self, Ipv4Class, Ipv4Packet, Ipv4Repr};
use crate::wire::ipv6::{
    self, Ipv6ChainItem, Ipv6ExtHeaderRepr, Ipv6HeaderChain, Ipv6OptionAction, Ipv6Packet, Ipv6Repr,
};
use crate::wire::ndisc::{NdiscRepr, NeighborFlags};
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
    /// The storage for this kind of entry (multicast groups) is full.
    TableFull,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable => f.write_str("no route to host"),
            Error::Unresolved => f.write_str("next hop not resolved yet"),
            Error::TooLarge => f.write_str("packet larger than the link MTU"),
            Error::BadDestination => f.write_str("destination not allowed"),
            Error::Device(err) => write!(f, "device: {err}"),
            Error::TableFull => f.write_str("table full"),
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
    /// The hop limit of IPv6 packets this host sends.
    pub hop_limit: u8,
    /// Whether router advertisements are followed: default routes,
    /// on-link prefixes, the link MTU (RFC 4861 6.3.4).
    pub accept_router_advertisements: bool,
    /// Whether addresses are formed from advertised prefixes with the
    /// autonomous flag (RFC 4862 SLAAC, EUI-64 interface identifiers).
    pub slaac: bool,
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
            hop_limit: 64,
            accept_router_advertisements: true,
            slaac: false,
            icmp_error_burst: 50,
            icmp_error_interval: Duration::from_millis(1),
        }
    }
}

/// An ICMP error the IP layer builds in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IcmpError {
    /// Destination unreachable (or, for an unknown IPv6 next header, the
    /// parameter problem RFC 4443 asks for).
    Unreachable(Reject),
    /// ICMPv6 parameter problem, unrecognized option at this offset.
    UnrecognizedOption(u32),
    /// Time exceeded: fragment reassembly.
    ReassemblyTimeout,
}

impl IcmpError {
    /// ICMPv4 type, code and the rest-of-header word.
    fn v4(self) -> (Icmpv4Type, u8, u32) {
        match self {
            IcmpError::Unreachable(Reject::PortUnreachable) => (
                Icmpv4Type::DstUnreachable,
                Icmpv4DstUnreachable::PortUnreachable.into(),
                0,
            ),
            // IPv4 options are checked by the parser; nothing here
            // produces an unrecognized option for IPv4.
            IcmpError::Unreachable(Reject::ProtocolUnreachable)
            | IcmpError::UnrecognizedOption(_) => (
                Icmpv4Type::DstUnreachable,
                Icmpv4DstUnreachable::ProtoUnreachable.into(),
                0,
            ),
            IcmpError::ReassemblyTimeout => (Icmpv4Type::TimeExceeded, 1, 0),
        }
    }

    /// ICMPv6 type, code and body word (RFC 4443: port unreachable is
    /// destination unreachable code 4; an unknown next header a parameter
    /// problem code 1 pointing at the Next Header field; an unrecognized
    /// option code 2 pointing at the option).
    fn v6(self) -> (Icmpv6Type, u8, u32) {
        match self {
            IcmpError::Unreachable(Reject::PortUnreachable) => (Icmpv6Type::DstUnreachable, 4, 0),
            IcmpError::Unreachable(Reject::ProtocolUnreachable) => (Icmpv6Type::ParamProblem, 1, 6),
            IcmpError::UnrecognizedOption(pointer) => (Icmpv6Type::ParamProblem, 2, pointer),
            IcmpError::ReassemblyTimeout => (Icmpv6Type::TimeExceeded, 1, 0),
        }
    }

    /// Writes the 8-byte ICMP header in front of the quote already in
    /// `icmp`, with the checksum unless the device fills it.
    fn write(self, icmp: &mut [u8], header: &Header, capabilities: Capabilities) {
        match *header {
            Header::V4(..) => {
                let (kind, code, rest) = self.v4();
                let mut message = Icmpv4Packet::new_unchecked(icmp);
                message.set_msg_type(kind);
                message.set_msg_code(code);
                message.set_rest_of_header(rest);
                message.set_checksum(0);
                if capabilities.icmpv4.tx.in_software() {
                    message.fill_checksum();
                }
            }
            Header::V6(repr, ()) => {
                let (kind, code, word) = self.v6();
                let mut message = Icmpv6Packet::new_unchecked(icmp);
                message.set_msg_type(kind);
                message.set_msg_code(code);
                message.set_body_word(word);
                message.set_checksum(0);
                if capabilities.icmpv6.tx.in_software() {
                    message.fill_checksum(repr.src, repr.dst);
                }
            }
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
    /// Fragments received (IPv4 and IPv6).
    pub rx_fragments: u64,
    /// Fragments dropped: no reassembler configured, or the reassembler
    /// refused them (overlap, too large, table full; see its own stats).
    pub rx_fragments_dropped: u64,
    /// Datagrams reassembled and delivered.
    pub rx_reassembled: u64,
    /// ICMP time exceeded (reassembly) errors sent for datagrams whose
    /// first fragment came but not the rest (RFC 792, RFC 8200 4.5).
    pub reassembly_timeouts_reported: u64,
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
    /// IPv6 packets dropped at an extension header (an option or routing
    /// header this host must not skip, a fragment while reassembly is not
    /// configured).
    pub rx_ext_header_dropped: u64,
    /// Neighbor discovery messages received (valid ones).
    pub ndisc_rx: u64,
    /// Neighbor discovery messages dropped as invalid (hop limit not 255,
    /// bad options, bad checksum).
    pub ndisc_malformed: u64,
    /// Neighbor advertisements this host sent.
    pub ndisc_advertisements_sent: u64,
    /// Neighbor solicitations this host sent.
    pub ndisc_solicitations_sent: u64,
    /// Router advertisements followed.
    pub router_advertisements: u64,
    /// Addresses formed by SLAAC.
    pub slaac_addresses: u64,
    /// IGMP and MLD queries answered (by marking reports owed).
    pub group_queries: u64,
    /// IGMP and MLD reports and leaves this host sent.
    pub group_reports_sent: u64,
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
    /// An IPv6 header, as the transport sees it: `next_header` is the
    /// upper-layer protocol after any extension headers, and
    /// `payload_len` the upper-layer length.
    V6(Ipv6Repr),
}

impl IpRepr {
    /// The source address.
    #[inline(always)]
    pub fn src(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.src),
            IpRepr::V6(r) => IpAddr::V6(r.src),
        }
    }

    /// The destination address.
    #[inline(always)]
    pub fn dst(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.dst),
            IpRepr::V6(r) => IpAddr::V6(r.dst),
        }
    }

    /// The upper-layer protocol.
    #[inline(always)]
    pub fn protocol(&self) -> IpProtocol {
        match self {
            IpRepr::V4(r) => r.protocol,
            IpRepr::V6(r) => r.next_header,
        }
    }

    /// The payload length in bytes.
    #[inline(always)]
    pub fn payload_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.payload_len,
            IpRepr::V6(r) => usize::from(r.payload_len),
        }
    }

    /// TTL or hop limit.
    pub fn hop_limit(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ttl,
            IpRepr::V6(r) => r.hop_limit,
        }
    }
}

/// The persistent state of the IP layer of one interface.
pub struct Endpoint<'a> {
    addrs: Slice<'a, Option<IpCidr>>,
    routes: Routes<'a>,
    arp: NeighborCache<'a, Ipv4Addr>,
    ndisc: NeighborCache<'a, Ipv6Addr>,
    reassembler: Option<Reassembler<'a>>,
    groups: Slice<'a, GroupSlot>,
    state: IpState,
    /// Changes (wrapping) whenever an address is added or removed.
    addrs_generation: u32,
    /// The last destination of each family resolved to a fresh hardware
    /// address: a host sending to one peer resolves it again for every
    /// packet.
    last_v4: Option<Remembered<Ipv4Addr>>,
    last_v6: Option<Remembered<Ipv6Addr>>,
}

/// What a resolution found for one unicast destination, and what it
/// depended on: the answer stands while the addresses, the routes and the
/// neighbor cache are unchanged (their generations) and until the
/// neighbor entry ages or a route expires (`until`).
#[derive(Debug, Clone, Copy)]
struct Remembered<A> {
    dst: A,
    src: A,
    mac: EthernetAddress,
    /// The neighbor cache slot that answered, touched on every reuse as a
    /// lookup would.
    slot: usize,
    until: Instant,
    generations: [u32; 3],
}

impl<A: Copy + Eq> Remembered<A> {
    /// The answer for `dst` at `now`, if it still stands.
    #[inline]
    fn answer(this: Option<Self>, dst: A, now: Instant, generations: [u32; 3]) -> Option<Self> {
        this.filter(|last| last.dst == dst && now < last.until && last.generations == generations)
    }

    /// Remembers that `dst` goes from `src` to `mac`, the fresh mapping of
    /// `next_hop` in `cache`, as long as the routes' next expiry allows.
    fn new(
        cache: &NeighborCache<'_, A>,
        routes: &Routes<'_>,
        (dst, src, next_hop): (A, A, A),
        mac: EthernetAddress,
        generations: [u32; 3],
    ) -> Option<Self> {
        let (slot, fresh_until) = cache.fresh_until(next_hop)?;
        let until = match routes.next_deadline() {
            Some(expiry) => expiry.min(fresh_until),
            None => fresh_until,
        };
        Some(Remembered {
            dst,
            src,
            mac,
            slot,
            until,
            generations,
        })
    }
}

/// One slot of the multicast group table (storage for
/// [`Endpoint::set_group_storage`]); create with [`GroupSlot::EMPTY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSlot {
    group: Option<IpAddr>,
    /// A report for this group goes out on the next lent buffer (after a
    /// join, or to answer a query).
    report_owed: bool,
}

impl GroupSlot {
    /// A free slot.
    pub const EMPTY: GroupSlot = GroupSlot {
        group: None,
        report_owed: false,
    };
}

/// An ICMP error this layer owes and sends on the next lent buffer.
#[derive(Debug, Clone, Copy)]
struct OwedError {
    /// Who gets it (the sender of the expired datagram).
    to: IpAddr,
    /// The quoted start of the expired datagram's first fragment.
    quote: [u8; crate::layer::reassembly::QUOTE_CAPACITY],
    quote_len: usize,
}

/// The part of the endpoint without borrowed storage.
#[derive(Debug)]
struct IpState {
    config: IpConfig,
    stats: IpStats,
    /// The identification of the last IPv6 fragmented datagram.
    next_ident6: u32,
    icmp_errors: RateLimiter,
    next_ident: u16,
    /// A neighbor to send an ARP request or a neighbor solicitation for
    /// on the next lent buffer (revalidation of a stale entry that was
    /// used meanwhile).
    revalidate: Option<IpAddr>,
    /// A time exceeded error for an expired reassembly.
    owed_error: Option<OwedError>,
    /// The link MTU a router advertised, if any.
    link_mtu: Option<u32>,
    /// A group left, whose leave (IGMP) or change to include nothing
    /// (MLDv2) is owed.
    owed_leave: Option<IpAddr>,
    /// An address to announce with a gratuitous ARP request.
    owed_announcement: Option<Ipv4Addr>,
    /// Whether anything above (or a group report) may be owed: set when
    /// something is, cleared when a lent buffer finds nothing to send.
    maybe_owed: bool,
    /// The packet just received must be answered with an ICMPv6 parameter
    /// problem (unrecognized option) pointing here: set while checking,
    /// answered in place by the receive handler.
    param_problem: Option<(Ipv6Repr, u32)>,
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
    fn has_v6(&self, addr: Ipv6Addr) -> bool;
    fn v6_source(&self, dst: Ipv6Addr) -> Option<Ipv6Addr>;
    fn resolve_v6(&mut self, dst: Ipv6Addr, now: Instant) -> Result<(Ipv6Addr, Resolved), Error>;
    fn datagram(&self, id: ReassembledId) -> &[u8];
    fn quote(&self, id: ReassembledId) -> &[u8];
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

    fn has_v6(&self, addr: Ipv6Addr) -> bool {
        Endpoint::has_v6(self, addr)
    }

    fn v6_source(&self, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        Endpoint::v6_source(self, dst)
    }

    fn resolve_v6(&mut self, dst: Ipv6Addr, now: Instant) -> Result<(Ipv6Addr, Resolved), Error> {
        Endpoint::resolve_v6(self, dst, now)
    }

    fn datagram(&self, id: ReassembledId) -> &[u8] {
        self.reassembler.as_ref().map_or(&[], |r| r.datagram(id))
    }

    fn quote(&self, id: ReassembledId) -> &[u8] {
        self.reassembler
            .as_ref()
            .and_then(|r| r.quote(id))
            .unwrap_or(&[])
    }
}

impl<'a> Endpoint<'a> {
    /// An endpoint with address storage `addrs` (free slots are `None`),
    /// a route table, an ARP cache for IPv4 and a neighbor cache for IPv6
    /// (a cache over empty storage disables that family's sending).
    pub fn new(
        addrs: impl Into<Slice<'a, Option<IpCidr>>>,
        routes: Routes<'a>,
        arp: NeighborCache<'a, Ipv4Addr>,
        ndisc: NeighborCache<'a, Ipv6Addr>,
    ) -> Self {
        Endpoint {
            addrs: addrs.into(),
            routes,
            arp,
            ndisc,
            reassembler: None,
            groups: Slice::from(&mut [][..]),
            state: IpState {
                config: IpConfig::default(),
                stats: IpStats::default(),
                next_ident6: 0,
                icmp_errors: rate_limiter(&IpConfig::default()),
                next_ident: 1,
                revalidate: None,
                owed_error: None,
                link_mtu: None,
                owed_leave: None,
                owed_announcement: None,
                maybe_owed: false,
                param_problem: None,
            },
            addrs_generation: 0,
            last_v4: None,
            last_v6: None,
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
                self.addrs_generation = self.addrs_generation.wrapping_add(1);
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
                self.addrs_generation = self.addrs_generation.wrapping_add(1);
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

    /// Reassembles fragmented datagrams (both families) into the
    /// reassembler's storage; without one, fragments are dropped and
    /// counted.
    pub fn set_reassembler(&mut self, reassembler: Reassembler<'a>) {
        self.reassembler = Some(reassembler);
    }

    /// The reassembler, if one is configured.
    pub fn reassembler(&self) -> Option<&Reassembler<'a>> {
        self.reassembler.as_ref()
    }

    /// Announces `addr`, one of this host's IPv4 addresses, with a
    /// gratuitous ARP request (RFC 5227 2.3) on the next buffer the device
    /// lends, so that neighbors update their caches (after an address or
    /// MAC change, a failover). `false` if the address is not ours.
    pub fn announce(&mut self, addr: Ipv4Addr) -> bool {
        if !self.has_v4(addr) {
            return false;
        }
        self.state.owed_announcement = Some(addr);
        self.state.maybe_owed = true;
        true
    }

    /// Storage for joined multicast groups (without it, joins fail with
    /// [`Error::TableFull`]).
    pub fn set_group_storage(&mut self, storage: impl Into<Slice<'a, GroupSlot>>) {
        let mut groups = storage.into();
        for slot in groups.iter_mut() {
            *slot = GroupSlot::EMPTY;
        }
        self.groups = groups;
    }

    /// Joins a multicast group: packets to it are delivered from now on,
    /// and an unsolicited report (IGMPv2 or MLDv2) goes out on the next
    /// buffer the device lends. Joining twice is harmless.
    pub fn join(&mut self, group: IpAddr) -> Result<(), Error> {
        if !group.is_multicast() {
            return Err(Error::BadDestination);
        }
        if self.is_member(group) {
            return Ok(());
        }
        let slot = self
            .groups
            .iter_mut()
            .find(|s| s.group.is_none())
            .ok_or(Error::TableFull)?;
        *slot = GroupSlot {
            group: Some(group),
            report_owed: true,
        };
        net_trace!("ip: joined {}", group);
        self.state.maybe_owed = true;
        Ok(())
    }

    /// Leaves a multicast group; a leave message goes out on the next lent
    /// buffer. `false` if the host was not a member.
    pub fn leave(&mut self, group: IpAddr) -> bool {
        match self.groups.iter_mut().find(|s| s.group == Some(group)) {
            Some(slot) => {
                *slot = GroupSlot::EMPTY;
                self.state.owed_leave = Some(group);
                self.state.maybe_owed = true;
                true
            }
            None => false,
        }
    }

    /// The groups this host joined.
    pub fn groups(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.groups.iter().filter_map(|s| s.group)
    }

    fn is_member(&self, group: IpAddr) -> bool {
        self.groups.iter().any(|s| s.group == Some(group))
    }

    /// Marks reports owed for the groups a query asks about: all of the
    /// family for a general query. Replies are sent on the next lent
    /// buffers rather than after the random delay of RFC 2236 / 3810: a
    /// host with few groups on a small segment, which is what this stack
    /// serves, does not cause report implosion.
    fn answer_query(&mut self, asked: IpAddr) {
        self.state.maybe_owed = true;
        self.state.stats.group_queries += 1;
        for slot in self.groups.iter_mut() {
            let Some(group) = slot.group else { continue };
            let general = asked.is_unspecified() && group.is_ipv4() == asked.is_ipv4();
            if general || group == asked {
                slot.report_owed = true;
            }
        }
    }

    /// Handles an IGMP message: queries mark reports owed, another host's
    /// report for a group cancels ours (RFC 2236 suppression).
    fn receive_igmp(&mut self, message: &[u8], checksum: ChecksumMode) {
        use crate::wire::igmp::{IgmpPacket, IgmpRepr};
        let parsed = IgmpPacket::new_checked(message).and_then(|p| IgmpRepr::parse(&p, checksum));
        match parsed {
            Ok(IgmpRepr::MembershipQuery { group_addr, .. }) => {
                self.answer_query(IpAddr::V4(group_addr))
            }
            Ok(IgmpRepr::MembershipReport { group_addr, .. }) => {
                for slot in self
                    .groups
                    .iter_mut()
                    .filter(|s| s.group == Some(IpAddr::V4(group_addr)))
                {
                    slot.report_owed = false;
                }
            }
            Ok(_) => {}
            Err(_) => {
                self.state.stats.rx_malformed += 1;
                net_drop!("ip: dropped: rx_malformed");
            }
        }
    }

    /// The link MTU the last router advertisement announced, if any
    /// (RFC 4861 4.6.4).
    pub fn advertised_mtu(&self) -> Option<u32> {
        self.state.link_mtu
    }

    /// The IPv6 neighbor cache.
    pub fn ndisc_cache(&self) -> &NeighborCache<'a, Ipv6Addr> {
        &self.ndisc
    }

    /// When something in this layer next needs attention (a resolution
    /// that may be retried, a route that expires).
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.arp.next_deadline(),
            self.ndisc.next_deadline(),
            self.routes.next_deadline(),
            self.reassembler.as_ref().and_then(|r| r.next_deadline()),
        ]
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
            || self.is_member(IpAddr::V4(dst))
            || self
                .v4_addrs()
                .any(|c| c.address() == dst || c.broadcast() == Some(dst))
    }

    /// Whether a unicast IPv4 packet not addressed to this host is a DHCP
    /// server's answer that a host without any IPv4 address must take in.
    ///
    /// A server answers a client that did not set the broadcast flag by
    /// unicast to the address it offers (`yiaddr`) and the client's
    /// hardware address (RFC 2131 section 4.1), before the client has that
    /// address; the Ethernet layer already checked the hardware address.
    /// Only UDP from port 67 to port 68, unfragmented, and only while the
    /// host has no IPv4 address at all, so nothing else changes for a
    /// configured host.
    fn accepts_unconfigured_dhcp(&self, repr: &Ipv4Repr, bytes: &[u8], header_len: usize) -> bool {
        const PORTS: [u8; 4] = [0, 67, 0, 68];
        repr.protocol == IpProtocol::Udp
            && !repr.is_fragment()
            && ipv4::classify(repr.dst) == Ipv4Class::Unicast
            && bytes.get(header_len..header_len + 4) == Some(&PORTS[..])
            && self.v4_addrs().next().is_none()
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
    #[inline]
    fn resolve_v4(&mut self, dst: Ipv4Addr, now: Instant) -> Result<(Ipv4Addr, Resolved), Error> {
        let generations = self.generations(self.arp.generation());
        if let Some(last) = Remembered::answer(self.last_v4, dst, now, generations) {
            self.arp.touch(last.slot, now);
            return Ok((last.src, Resolved::Mac(last.mac)));
        }
        self.resolve_v4_afresh(dst, now)
    }

    /// The generations of what a resolution depends on, with the
    /// neighbor cache's of its family.
    #[inline]
    fn generations(&self, neighbors: u32) -> [u32; 3] {
        [self.addrs_generation, self.routes.generation(), neighbors]
    }

    /// [`resolve_v4`](Self::resolve_v4) without the remembered answer;
    /// remembers a unicast destination's fresh hardware address.
    fn resolve_v4_afresh(
        &mut self,
        dst: Ipv4Addr,
        now: Instant,
    ) -> Result<(Ipv4Addr, Resolved), Error> {
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
        // One pass over our addresses answers the three questions asked
        // of every packet: is `dst` ours (refused), a subnet's directed
        // broadcast (the first such subnet's address sends), or on a
        // subnet's link (the first such address sends, as `v4_source`
        // would pick).
        let mut broadcast_from = None;
        let mut on_link_from = None;
        for cidr in self.v4_addrs() {
            if cidr.address() == dst {
                return Err(Error::BadDestination);
            }
            if broadcast_from.is_none() && cidr.is_subnet_broadcast(dst) {
                broadcast_from = Some(cidr.address());
            }
            if on_link_from.is_none() && cidr.contains_addr(dst) {
                on_link_from = Some(cidr.address());
            }
        }
        if let Some(src) = broadcast_from {
            return Ok((src, Resolved::Mac(EthernetAddress::BROADCAST)));
        }
        // On-link prefixes of our own addresses first, then the table.
        let (next_hop, src) = match on_link_from {
            Some(src) => (dst, src),
            None => {
                let hop = self
                    .routes
                    .lookup(IpAddr::V4(dst), now)
                    .ok_or(Error::Unreachable)?;
                let next_hop = match hop.neighbor(IpAddr::V4(dst)) {
                    IpAddr::V4(n) => n,
                    IpAddr::V6(_) => return Err(Error::Unreachable),
                };
                (
                    next_hop,
                    self.v4_source(next_hop).ok_or(Error::Unreachable)?,
                )
            }
        };
        let resolved = match self.arp.lookup(next_hop, now) {
            Resolution::Known(mac) => {
                let generations = self.generations(self.arp.generation());
                let hops = (dst, src, next_hop);
                self.last_v4 = Remembered::new(&self.arp, &self.routes, hops, mac, generations);
                Resolved::Mac(mac)
            }
            Resolution::Revalidate(mac) => {
                self.state.revalidate = Some(IpAddr::V4(next_hop));
                self.state.maybe_owed = true;
                Resolved::Mac(mac)
            }
            Resolution::Request => Resolved::Request(IpAddr::V4(next_hop)),
            Resolution::Pending => Resolved::Pending,
        };
        Ok((src, resolved))
    }

    fn receive_arp<D: Device>(&mut self, frame: eth::In<'_, '_, D>) {
        let now = frame.info().timestamp;
        let repr = match ArpPacket::new_checked(frame.payload()).and_then(|p| ArpRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(_) => {
                self.state.stats.arp_malformed += 1;
                net_drop!("ip: dropped: arp_malformed");
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
                net_trace!(
                    "ip: arp: {} is-at {}",
                    source_protocol_addr,
                    source_hardware_addr
                );
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
    fn check_ipv4(
        &mut self,
        bytes: &[u8],
        checksum: ChecksumMode,
        now: Instant,
    ) -> Option<(Ipv4Repr, usize, Option<ReassembledId>)> {
        // `parse` runs `check_len` (options included) itself; a view built
        // with `new_checked` would walk the options twice per packet.
        let packet = Ipv4Packet::new_unchecked(bytes);
        let parsed = Ipv4Repr::parse(&packet, checksum).map(|r| (r, packet.header_len()));
        let (repr, header_len) = match parsed {
            Ok(parsed) => parsed,
            Err(WireError::BadChecksum) => {
                self.state.stats.rx_bad_checksum += 1;
                net_drop!("ip: dropped: rx_bad_checksum");
                return None;
            }
            Err(WireError::Truncated | WireError::BadLength) => {
                self.state.stats.rx_truncated += 1;
                net_drop!("ip: dropped: rx_truncated");
                return None;
            }
            Err(_) => {
                self.state.stats.rx_malformed += 1;
                net_drop!("ip: dropped: rx_malformed");
                return None;
            }
        };
        if !self.accepts_v4(repr.dst) && !self.accepts_unconfigured_dhcp(&repr, bytes, header_len) {
            self.state.stats.rx_not_for_us += 1;
            net_drop!("ip: dropped: rx_not_for_us");
            return None;
        }
        if !ipv4::classify(repr.src).is_valid_source() || self.has_v4(repr.src) {
            self.state.stats.rx_bad_source += 1;
            net_drop!("ip: dropped: rx_bad_source");
            return None;
        }
        if repr.is_fragment() {
            let key = FragmentKey::V4 {
                src: repr.src,
                dst: repr.dst,
                protocol: repr.protocol,
                ident: repr.ident,
            };
            let data = bytes
                .get(header_len..header_len + repr.payload_len)
                .unwrap_or(&[]);
            // The quote for a time exceeded error: header and 8 bytes.
            let quote = bytes.get(..header_len + 8).unwrap_or(bytes);
            let fragment = Fragment::new(key, usize::from(repr.frag_offset), repr.more_frags, data);
            let id = self.reassemble(fragment.with_quote(quote), now)?;
            let whole = Ipv4Repr {
                payload_len: self.datagram(id).len(),
                more_frags: false,
                frag_offset: 0,
                ..repr
            };
            return Some((whole, header_len, Some(id)));
        }
        Some((repr, header_len, None))
    }

    /// Adds a fragment; the id of the whole datagram once complete.
    fn reassemble(&mut self, fragment: Fragment<'_>, now: Instant) -> Option<ReassembledId> {
        self.state.stats.rx_fragments += 1;
        let Some(reassembler) = self.reassembler.as_mut() else {
            self.state.stats.rx_fragments_dropped += 1;
            net_drop!("ip: dropped: rx_fragments_dropped");
            return None;
        };
        match reassembler.add(fragment, now) {
            Ok(Progress::Complete(id)) => {
                self.state.stats.rx_reassembled += 1;
                Some(id)
            }
            Ok(_) => None,
            Err(_) => {
                self.state.stats.rx_fragments_dropped += 1;
                net_drop!("ip: dropped: rx_fragments_dropped");
                None
            }
        }
    }

    /// Frees a delivered datagram's reassembly slot.
    fn release(&mut self, id: ReassembledId) {
        if let Some(reassembler) = self.reassembler.as_mut() {
            reassembler.release(id);
        }
    }

    /// Frees the slots of routes whose lifetime ran out (routes learned
    /// from router advertisements): a full table then takes new ones
    /// again, and [`next_deadline`](Self::next_deadline) moves on instead
    /// of staying in the past.
    #[inline]
    fn expire_routes(&mut self, now: Instant) {
        if self.routes.next_deadline().is_some_and(|at| at <= now) {
            self.routes.remove_expired(now);
        }
    }

    /// Drops timed-out reassemblies; owes a time exceeded error for one
    /// whose first fragment arrived (one at a time, rate-limited when
    /// sent).
    #[inline]
    fn expire_fragments(&mut self, now: Instant) {
        let Some(reassembler) = self.reassembler.as_mut() else {
            return;
        };
        if reassembler.next_deadline().is_none_or(|at| at > now) {
            return;
        }
        self.expire_fragments_due(now);
    }

    /// The rest of [`expire_fragments`](Self::expire_fragments), out of
    /// line: a reassembly timing out is rare.
    #[cold]
    #[inline(never)]
    fn expire_fragments_due(&mut self, now: Instant) {
        let Some(reassembler) = self.reassembler.as_mut() else {
            return;
        };
        let owed = &mut self.state.owed_error;
        reassembler.expire(now, |key, quote| {
            let Some(quote) = quote.filter(|q| !q.is_empty()) else {
                return;
            };
            let to = match key {
                FragmentKey::V4 { src, .. } => IpAddr::V4(src),
                FragmentKey::V6 { src, .. } => IpAddr::V6(src),
            };
            let mut bytes = [0; crate::layer::reassembly::QUOTE_CAPACITY];
            let len = quote.len().min(bytes.len());
            bytes[..len].copy_from_slice(&quote[..len]);
            *owed = Some(OwedError {
                to,
                quote: bytes,
                quote_len: len,
            });
        });
        self.state.maybe_owed |= self.state.owed_error.is_some();
    }

    /// Sends an owed ICMP time exceeded (fragment reassembly) error; gives
    /// the buffer back if the sender cannot be reached yet.
    fn send_time_exceeded<'p, 'd, D: Device>(
        &mut self,
        raw: eth::Raw<'p, 'd, D>,
        error: OwedError,
    ) -> Option<eth::Raw<'p, 'd, D>> {
        let now = raw.info().timestamp;
        let quote = &error.quote[..error.quote_len];
        let (src, mac) = match error.to {
            IpAddr::V4(to) => match self.resolve_v4(to, now) {
                Ok((src, Resolved::Mac(mac))) => (IpAddr::V4(src), mac),
                _ => return Some(raw),
            },
            IpAddr::V6(to) => match self.resolve_v6(to, now) {
                Ok((src, Resolved::Mac(mac))) => (IpAddr::V6(src), mac),
                _ => return Some(raw),
            },
        };
        let capabilities = raw.info().capabilities;
        let protocol = match error.to {
            IpAddr::V4(_) => IpProtocol::Icmp,
            IpAddr::V6(_) => IpProtocol::Icmpv6,
        };
        let Ok(mut header) = header_for(error.to, src, protocol, 8 + quote.len(), self) else {
            return None;
        };
        if let Header::V4(_, checksum) = &mut header {
            *checksum = capabilities.ipv4.tx;
        }
        let init = eth::Init {
            dst: mac,
            ethertype: header.ethertype(),
            payload_len: header.len() + 8 + quote.len(),
        };
        let Ok(mut out) = raw.prepare(init) else {
            return None;
        };
        header.write(&mut out);
        let icmp = out.payload_mut().get_mut(header.len()..).unwrap_or(&mut []);
        if let Some(body) = icmp.get_mut(8..) {
            body.copy_from_slice(quote);
        }
        IcmpError::ReassemblyTimeout.write(icmp, &header, capabilities);
        if out.send().is_ok() {
            self.state.stats.reassembly_timeouts_reported += 1;
            self.state.stats.icmp_errors_sent += 1;
        }
        None
    }

    fn v6_addrs(&self) -> impl Iterator<Item = ipv6::Ipv6Cidr> + '_ {
        self.addrs().filter_map(|c| match c {
            IpCidr::V6(c) => Some(c),
            _ => None,
        })
    }

    fn has_v6(&self, addr: Ipv6Addr) -> bool {
        self.v6_addrs().any(|c| c.address() == addr)
    }

    /// Whether an IPv6 packet to `dst` is for this host: its unicast
    /// addresses, all-nodes, and the solicited-node groups of its
    /// addresses (RFC 4291 2.8).
    fn accepts_v6(&self, dst: Ipv6Addr) -> bool {
        dst == ipv6::ALL_NODES
            || self.is_member(IpAddr::V6(dst))
            || self
                .v6_addrs()
                .any(|c| c.address() == dst || ipv6::solicited_node(c.address()) == dst)
    }

    /// The source for a packet to `dst`: a link-local address for
    /// link-local and link-scope multicast destinations, else an address
    /// whose prefix holds `dst`, else any non-link-local address (a
    /// simplified RFC 6724).
    fn v6_source(&self, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        let link_scope = ipv6::is_link_local(dst)
            || (dst.is_multicast()
                && ipv6::multicast_scope(dst)
                    .is_some_and(|s| s <= ipv6::MulticastScope::LinkLocal));
        let link_local = self
            .v6_addrs()
            .map(|c| c.address())
            .find(|a| ipv6::is_link_local(*a));
        if link_scope {
            return link_local.or_else(|| self.v6_addrs().next().map(|c| c.address()));
        }
        self.v6_addrs()
            .find(|c| c.contains_addr(dst) && !ipv6::is_link_local(c.address()))
            .or_else(|| self.v6_addrs().find(|c| !ipv6::is_link_local(c.address())))
            .map(|c| c.address())
            .or(link_local)
    }

    #[inline]
    fn resolve_v6(&mut self, dst: Ipv6Addr, now: Instant) -> Result<(Ipv6Addr, Resolved), Error> {
        let generations = self.generations(self.ndisc.generation());
        if let Some(last) = Remembered::answer(self.last_v6, dst, now, generations) {
            self.ndisc.touch(last.slot, now);
            return Ok((last.src, Resolved::Mac(last.mac)));
        }
        self.resolve_v6_afresh(dst, now)
    }

    /// [`resolve_v6`](Self::resolve_v6) without the remembered answer;
    /// remembers a unicast destination's fresh hardware address.
    fn resolve_v6_afresh(
        &mut self,
        dst: Ipv6Addr,
        now: Instant,
    ) -> Result<(Ipv6Addr, Resolved), Error> {
        if dst.is_unspecified() || dst.is_loopback() || self.has_v6(dst) {
            return Err(Error::BadDestination);
        }
        let src = self.v6_source(dst).ok_or(Error::Unreachable)?;
        if dst.is_multicast() {
            return Ok((
                src,
                Resolved::Mac(EthernetAddress::from_ipv6_multicast(dst)),
            ));
        }
        let on_link = ipv6::is_link_local(dst) || self.v6_addrs().any(|c| c.contains_addr(dst));
        let next_hop = if on_link {
            dst
        } else {
            let hop = self
                .routes
                .lookup(IpAddr::V6(dst), now)
                .ok_or(Error::Unreachable)?;
            match hop.neighbor(IpAddr::V6(dst)) {
                IpAddr::V6(n) => n,
                IpAddr::V4(_) => return Err(Error::Unreachable),
            }
        };
        let resolved = match self.ndisc.lookup(next_hop, now) {
            Resolution::Known(mac) => {
                let generations = self.generations(self.ndisc.generation());
                let hops = (dst, src, next_hop);
                self.last_v6 = Remembered::new(&self.ndisc, &self.routes, hops, mac, generations);
                Resolved::Mac(mac)
            }
            Resolution::Revalidate(mac) => {
                self.state.revalidate = Some(IpAddr::V6(next_hop));
                self.state.maybe_owed = true;
                Resolved::Mac(mac)
            }
            Resolution::Request => Resolved::Request(IpAddr::V6(next_hop)),
            Resolution::Pending => Resolved::Pending,
        };
        Ok((src, resolved))
    }

    /// Validates an IPv6 packet and walks its extension headers; the
    /// transport's view of the header and where its bytes start, if the
    /// packet is for this host.
    fn check_ipv6(
        &mut self,
        bytes: &[u8],
        now: Instant,
    ) -> Option<(Ipv6Repr, usize, Option<ReassembledId>)> {
        let stats = &mut self.state.stats;
        // `parse` runs `check_len` itself.
        let packet = Ipv6Packet::new_unchecked(bytes);
        let parsed = Ipv6Repr::parse(&packet).map(|r| (packet, r));
        let (packet, repr) = match parsed {
            Ok(parsed) => parsed,
            Err(WireError::Truncated | WireError::BadLength) => {
                stats.rx_truncated += 1;
                net_drop!("ip: dropped: rx_truncated");
                return None;
            }
            Err(_) => {
                stats.rx_malformed += 1;
                net_drop!("ip: dropped: rx_malformed");
                return None;
            }
        };
        if !self.accepts_v6(repr.dst) {
            self.state.stats.rx_not_for_us += 1;
            net_drop!("ip: dropped: rx_not_for_us");
            return None;
        }
        if self.has_v6(repr.src) || repr.src.is_loopback() {
            self.state.stats.rx_bad_source += 1;
            net_drop!("ip: dropped: rx_bad_source");
            return None;
        }
        let chain = match Ipv6HeaderChain::new(&packet) {
            Ok(chain) => chain,
            Err(_) => {
                self.state.stats.rx_malformed += 1;
                net_drop!("ip: dropped: rx_malformed");
                return None;
            }
        };
        for item in chain {
            match item {
                Ok(Ipv6ChainItem::Extension(header)) => {
                    let must_drop = match header.repr {
                        // Options this host does not know and may not skip
                        // (RFC 8200 4.2): drop, and for two of the actions
                        // owe an ICMPv6 parameter problem pointing at the
                        // option.
                        Ipv6ExtHeaderRepr::HopByHop(options)
                        | Ipv6ExtHeaderRepr::DestinationOptions(options) => {
                            match unrecognized_option(&options, header.offset) {
                                Ok(None) => false,
                                Ok(Some((action, pointer))) => {
                                    let answer = match action {
                                        Ipv6OptionAction::DiscardSendIcmp => true,
                                        Ipv6OptionAction::DiscardSendIcmpUnlessMulticast => {
                                            !repr.dst.is_multicast()
                                        }
                                        _ => false,
                                    };
                                    if answer {
                                        self.state.param_problem = Some((repr, pointer));
                                    }
                                    true
                                }
                                Err(()) => true,
                            }
                        }
                        // A host is the final destination: a routing header
                        // with segments left would make it a router.
                        Ipv6ExtHeaderRepr::Routing(routing) => routing.segments_left > 0,
                        // Fragments are handled when the chain ends.
                        Ipv6ExtHeaderRepr::Fragment(_) => false,
                    };
                    if must_drop {
                        self.state.stats.rx_ext_header_dropped += 1;
                        net_drop!("ip: dropped: rx_ext_header_dropped");
                        return None;
                    }
                }
                Ok(Ipv6ChainItem::UpperLayer(upper)) => {
                    let mut upper_repr = Ipv6Repr {
                        next_header: upper.protocol,
                        payload_len: u16::try_from(upper.payload.len()).unwrap_or(u16::MAX),
                        ..repr
                    };
                    let Some(fragment) = upper.fragment.filter(|f| !f.is_atomic()) else {
                        return Some((upper_repr, upper.offset, None));
                    };
                    let key = FragmentKey::V6 {
                        src: repr.src,
                        dst: repr.dst,
                        ident: fragment.ident,
                    };
                    let quote = bytes
                        .get(..crate::layer::reassembly::QUOTE_CAPACITY)
                        .unwrap_or(bytes);
                    let piece = Fragment::new(
                        key,
                        fragment.byte_offset(),
                        fragment.more_frags,
                        upper.payload,
                    );
                    let id = self.reassemble(piece.with_quote(quote), now)?;
                    upper_repr.payload_len =
                        u16::try_from(self.datagram(id).len()).unwrap_or(u16::MAX);
                    return Some((upper_repr, upper.offset, Some(id)));
                }
                Err(_) => {
                    self.state.stats.rx_malformed += 1;
                    net_drop!("ip: dropped: rx_malformed");
                    return None;
                }
            }
        }
        self.state.stats.rx_malformed += 1;
        net_drop!("ip: dropped: rx_malformed");
        None
    }

    /// Handles a neighbor solicitation or advertisement; `None` when the
    /// packet was consumed, else gives it back for the transports.
    fn receive_ndisc<'p, 'd, D: Device>(
        &mut self,
        frame: eth::In<'p, 'd, D>,
        repr: Ipv6Repr,
        offset: usize,
    ) -> Option<eth::In<'p, 'd, D>> {
        let Some(message) = frame
            .payload()
            .get(offset..offset + usize::from(repr.payload_len))
        else {
            return Some(frame);
        };
        let Some(&kind) = message.first() else {
            return Some(frame);
        };
        let kind = Icmpv6Type::from(kind);
        if !matches!(
            kind,
            Icmpv6Type::NeighborSolicit
                | Icmpv6Type::NeighborAdvert
                | Icmpv6Type::RouterAdvert
                | Icmpv6Type::MldQuery
        ) {
            return Some(frame);
        }
        if kind == Icmpv6Type::MldQuery {
            self.receive_mld_query(message, repr);
            return None;
        }
        let checksum = frame.info().capabilities.icmpv6.rx;
        let parsed = Icmpv6Packet::new_checked(message)
            .and_then(|p| Icmpv6Repr::parse(&p, repr.src, repr.dst, checksum));
        // RFC 4861 6.1 / 7.1.1: a hop limit other than 255 means the
        // message crossed a router; drop it.
        let ndisc = match parsed {
            Ok(Icmpv6Repr::Ndisc(ndisc)) if repr.hop_limit == 255 => ndisc,
            _ => {
                self.state.stats.ndisc_malformed += 1;
                net_drop!("ip: dropped: ndisc_malformed");
                return None;
            }
        };
        self.state.stats.ndisc_rx += 1;
        let now = frame.info().timestamp;
        match ndisc {
            NdiscRepr::NeighborSolicit { target, lladdr } => {
                if !self.has_v6(target) {
                    return None;
                }
                if let (Some(mac), false) = (lladdr, repr.src.is_unspecified()) {
                    self.ndisc.fill(repr.src, mac, now);
                    net_trace!("ip: ndisc: {} is-at {}", repr.src, mac);
                }
                // A duplicate address detection probe (from ::) is answered
                // to all-nodes without the solicited flag (RFC 4861 7.2.4).
                let (dst, mac, flags) = if repr.src.is_unspecified() {
                    (
                        ipv6::ALL_NODES,
                        EthernetAddress::from_ipv6_multicast(ipv6::ALL_NODES),
                        NeighborFlags::OVERRIDE,
                    )
                } else {
                    let mac = lladdr.unwrap_or(frame.repr().src);
                    (
                        repr.src,
                        mac,
                        NeighborFlags::SOLICITED | NeighborFlags::OVERRIDE,
                    )
                };
                let advert = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
                    flags,
                    target,
                    lladdr: Some(frame.local_addr()),
                });
                let raw = frame.into_raw();
                let local = raw.local_addr();
                let _ = local;
                if send_icmpv6(raw, mac, target, dst, &advert).is_ok() {
                    self.state.stats.ndisc_advertisements_sent += 1;
                }
                None
            }
            NdiscRepr::NeighborAdvert { target, lladdr, .. } => {
                // Only neighbors being resolved or known are updated: an
                // unsolicited flood cannot fill the cache.
                if let Some(mac) = lladdr.or(Some(frame.repr().src)) {
                    self.ndisc.refresh(target, mac, now);
                }
                None
            }
            NdiscRepr::RouterAdvert {
                router_lifetime,
                options,
                ..
            } => {
                if self.state.config.accept_router_advertisements {
                    if let Some(mac) = options.source_lladdr() {
                        self.ndisc.fill(repr.src, mac, now);
                    }
                    self.follow_router_advertisement(
                        repr.src,
                        router_lifetime,
                        &options,
                        frame.local_addr(),
                        now,
                    );
                }
                None
            }
            _ => None,
        }
    }

    /// Handles an MLD query (RFC 3810 5.1.14: from a link-local source,
    /// hop limit 1).
    fn receive_mld_query(&mut self, message: &[u8], repr: Ipv6Repr) {
        use crate::wire::mld::MldRepr;
        let parsed = Icmpv6Packet::new_checked(message)
            .and_then(|p| Icmpv6Repr::parse(&p, repr.src, repr.dst, ChecksumMode::Software));
        let group =
            match parsed {
                Ok(Icmpv6Repr::Mld(
                    MldRepr::Query { group, .. } | MldRepr::QueryV1 { group, .. },
                )) if ipv6::is_link_local(repr.src) && repr.hop_limit == 1 => group,
                _ => {
                    self.state.stats.rx_malformed += 1;
                    net_drop!("ip: dropped: rx_malformed");
                    return;
                }
            };
        self.answer_query(IpAddr::V6(group));
    }

    /// Sends an owed group message: a leave, or a report for a group.
    /// Gives the buffer back if nothing is owed.
    fn send_group_message<'p, 'd, D: Device>(
        &mut self,
        raw: eth::Raw<'p, 'd, D>,
    ) -> Option<eth::Raw<'p, 'd, D>> {
        let owed = match self.state.owed_leave.take() {
            Some(group) => Some((group, false)),
            None => self
                .groups
                .iter_mut()
                .find(|s| s.report_owed)
                .and_then(|slot| {
                    slot.report_owed = false;
                    slot.group.map(|g| (g, true))
                }),
        };
        let Some((group, joining)) = owed else {
            return Some(raw);
        };
        let sent = match group {
            IpAddr::V4(group) => self.send_igmp(raw, group, joining),
            IpAddr::V6(group) => self.send_mld(raw, group, joining),
        };
        if sent {
            self.state.stats.group_reports_sent += 1;
        }
        None
    }

    /// An IGMPv2 report (to the group) or leave (to all routers), TTL 1,
    /// with the Router Alert option RFC 2236 asks for.
    fn send_igmp<D: Device>(
        &mut self,
        raw: eth::Raw<'_, '_, D>,
        group: Ipv4Addr,
        joining: bool,
    ) -> bool {
        use crate::wire::igmp::{self, IgmpPacket, IgmpRepr, IgmpVersion};
        let Some(src) = self.v4_addrs().next().map(|c| c.address()) else {
            return false;
        };
        let (message, dst) = if joining {
            (
                IgmpRepr::MembershipReport {
                    group_addr: group,
                    version: IgmpVersion::Version2,
                },
                group,
            )
        } else {
            (
                IgmpRepr::LeaveGroup { group_addr: group },
                igmp::ALL_ROUTERS,
            )
        };
        const HEADER: usize = ipv4::HEADER_LEN + 4;
        let len = message.buffer_len();
        let capabilities = raw.info().capabilities;
        let init = eth::Init {
            dst: EthernetAddress::from_ipv4_multicast(dst),
            ethertype: EtherType::Ipv4,
            payload_len: HEADER + len,
        };
        let Ok(mut out) = raw.prepare(init) else {
            return false;
        };
        let ident = self.state.next_ident();
        let (header, body) = out.payload_mut().split_at_mut(HEADER);
        let repr = Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::Igmp,
            payload_len: len,
            ttl: 1,
            ident,
            ..Ipv4Repr::default()
        };
        let mut packet = Ipv4Packet::new_unchecked(header);
        repr.emit(&mut packet, ChecksumMode::Offloaded);
        packet.set_header_len(HEADER);
        packet.set_total_len((HEADER + len) as u16);
        // Router Alert (RFC 2113): type 148, length 4, value 0.
        packet
            .options_mut()
            .copy_from_slice(&[0x94, 0x04, 0x00, 0x00]);
        packet.set_checksum(0);
        if capabilities.ipv4.tx.in_software() {
            packet.fill_checksum();
        }
        message.emit(&mut IgmpPacket::new_unchecked(body), ChecksumMode::Software);
        out.send().is_ok()
    }

    /// An MLDv2 report (RFC 3810 5.2) with one record: CHANGE_TO_EXCLUDE
    /// with no sources to join, CHANGE_TO_INCLUDE with none to leave; to
    /// ff02::16 from a link-local address, hop limit 1, behind a
    /// hop-by-hop header with Router Alert.
    fn send_mld<D: Device>(
        &mut self,
        raw: eth::Raw<'_, '_, D>,
        group: Ipv6Addr,
        joining: bool,
    ) -> bool {
        use crate::wire::icmpv6::Ipv6AddrList;
        use crate::wire::mld::{MldRecordRepr, MldRecordType, MldRecords, MldRepr};
        let src = self
            .v6_addrs()
            .map(|c| c.address())
            .find(|a| ipv6::is_link_local(*a))
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        let kind = if joining {
            MldRecordType::ChangeToExclude
        } else {
            MldRecordType::ChangeToInclude
        };
        let record = [MldRecordRepr {
            kind,
            group,
            sources: Ipv6AddrList::from_addrs(&[]),
            aux_data: &[],
        }];
        let message = Icmpv6Repr::Mld(MldRepr::Report {
            records: MldRecords::from_list(&record),
        });
        let dst = ipv6::ALL_MLDV2_ROUTERS;
        // Next header ICMPv6, length 0 (8 bytes), Router Alert (type 5,
        // length 2, value 0: MLD), PadN of 0 bytes.
        const HOP_BY_HOP: [u8; 8] = [58, 0, 5, 2, 0, 0, 1, 0];
        let len = message.buffer_len();
        let checksum = raw.info().capabilities.icmpv6.tx;
        let init = eth::Init {
            dst: EthernetAddress::from_ipv6_multicast(dst),
            ethertype: EtherType::Ipv6,
            payload_len: ipv6::HEADER_LEN + HOP_BY_HOP.len() + len,
        };
        let Ok(mut out) = raw.prepare(init) else {
            return false;
        };
        let header = Ipv6Repr {
            src,
            dst,
            next_header: IpProtocol::HopByHop,
            payload_len: (HOP_BY_HOP.len() + len) as u16,
            hop_limit: 1,
            traffic_class: 0,
            flow_label: 0,
        };
        let (ip, rest) = out.payload_mut().split_at_mut(ipv6::HEADER_LEN);
        header.emit(&mut Ipv6Packet::new_unchecked(ip));
        let (options, icmp) = rest.split_at_mut(HOP_BY_HOP.len());
        options.copy_from_slice(&HOP_BY_HOP);
        message.emit(&mut Icmpv6Packet::new_unchecked(icmp), src, dst, checksum);
        out.send().is_ok()
    }

    /// Applies a router advertisement from `router` (RFC 4861 6.3.4, RFC
    /// 4862 5.5.3): the default route lives for the router lifetime (0
    /// withdraws it), prefixes with the on-link flag become on-link
    /// routes for their valid lifetime, prefixes with the autonomous flag
    /// give an address when SLAAC is on, and the MTU option is kept.
    fn follow_router_advertisement(
        &mut self,
        router: Ipv6Addr,
        router_lifetime: u16,
        options: &crate::wire::ndisc::NdiscOptions<'_>,
        mac: EthernetAddress,
        now: Instant,
    ) {
        use crate::layer::route::Route;
        use crate::wire::ndisc::{NdiscOption, PrefixInfoFlags};

        self.state.stats.router_advertisements += 1;
        net_trace!(
            "ip: router advertisement from {} lifetime {} s",
            router,
            router_lifetime
        );
        let default = Route::default_v6(router);
        if router_lifetime == 0 {
            self.routes.remove(default.net, default.gateway);
        } else {
            let expires = now + Duration::from_secs(u64::from(router_lifetime));
            // A full table keeps the routes it has.
            let _ = self.routes.add(default.expiring_at(expires));
        }
        // RFC 4861 6.3.4: MTUs below the IPv6 minimum are ignored.
        if let Some(mtu) = options.mtu().filter(|&m| m >= 1280) {
            self.state.link_mtu = Some(mtu);
        }
        for option in options.iter() {
            let NdiscOption::PrefixInfo(info) = option else {
                continue;
            };
            // RFC 4861 6.3.4: the link-local prefix is ignored.
            if ipv6::is_link_local(info.prefix) {
                continue;
            }
            let Ok(prefix) = ipv6::Ipv6Cidr::new(info.prefix, info.prefix_len) else {
                continue;
            };
            if info.flags.contains(PrefixInfoFlags::ON_LINK) && info.valid_lifetime > 0 {
                let route = Route::on_link(IpCidr::V6(prefix.network()));
                let route = match info.valid_lifetime {
                    u32::MAX => route,
                    secs => route.expiring_at(now + Duration::from_secs(u64::from(secs))),
                };
                let _ = self.routes.add(route);
            }
            let autonomous = info.flags.contains(PrefixInfoFlags::AUTONOMOUS)
                && info.prefix_len == 64
                && info.valid_lifetime > 0
                && info.preferred_lifetime <= info.valid_lifetime;
            if self.state.config.slaac && autonomous {
                let mut octets = prefix.network().address().octets();
                octets[8..].copy_from_slice(&ipv6::interface_id_from_mac(mac));
                let addr = Ipv6Addr::from(octets);
                let cidr = ipv6::Ipv6Cidr::new(addr, 64)
                    .ok()
                    .filter(|_| !self.has_v6(addr));
                if cidr.is_some_and(|cidr| self.add_addr(IpCidr::V6(cidr))) {
                    self.state.stats.slaac_addresses += 1;
                    net_trace!("ip: slaac address {}", addr);
                }
            }
        }
    }

    /// Sends whatever this layer owes before the transports may use the
    /// buffer: a revalidation request for a stale neighbor. Returns the
    /// buffer if nothing was owed.
    fn owed<'p, 'd, D: Device>(&mut self, raw: eth::Raw<'p, 'd, D>) -> Option<eth::Raw<'p, 'd, D>> {
        if let Some(error) = self.state.owed_error.take() {
            let now = raw.info().timestamp;
            if self.state.icmp_errors.allow(now) {
                return self.send_time_exceeded(raw, error);
            }
            self.state.stats.icmp_errors_rate_limited += 1;
            net_drop!("ip: dropped: icmp_errors_rate_limited");
        }
        if let Some(addr) = self.state.owed_announcement.take() {
            // Sender and target are both the announced address.
            send_arp_request(&mut self.state.stats, raw, addr, addr);
            return None;
        }
        let raw = self.send_group_message(raw)?;
        let Some(target) = self.state.revalidate.take() else {
            return Some(raw);
        };
        let src = match target {
            IpAddr::V4(t) => self.v4_source(t).map(IpAddr::V4),
            IpAddr::V6(t) => self.v6_source(t).map(IpAddr::V6),
        };
        match src {
            Some(src) => {
                solicit(&mut self.state.stats, raw, target, src);
                None
            }
            None => Some(raw),
        }
    }
}

/// The first option of a hop-by-hop or destination options header that
/// this host does not recognize and may not skip: its action and its
/// offset from the start of the IPv6 header (`header_offset` is where the
/// extension header starts). `Err` for options that do not parse.
fn unrecognized_option(
    options: &ipv6::Ipv6OptionsRepr<'_>,
    header_offset: usize,
) -> Result<Option<(Ipv6OptionAction, u32)>, ()> {
    // The options start after the Next Header and Hdr Ext Len bytes.
    let mut at = header_offset + 2;
    for option in options.iter() {
        let option = option.map_err(|_| ())?;
        let unrecognized = matches!(option, ipv6::Ipv6OptionRepr::Other { .. });
        if unrecognized && option.action() != Ipv6OptionAction::Skip {
            return Ok(Some((
                option.action(),
                u32::try_from(at).unwrap_or(u32::MAX),
            )));
        }
        at += option.buffer_len();
    }
    Ok(None)
}

/// Asks for `target`'s hardware address: an ARP request for IPv4, a
/// neighbor solicitation to its solicited-node group for IPv6.
fn solicit<D: Device>(stats: &mut IpStats, raw: eth::Raw<'_, '_, D>, target: IpAddr, src: IpAddr) {
    match (target, src) {
        (IpAddr::V4(target), IpAddr::V4(src)) => send_arp_request(stats, raw, target, src),
        (IpAddr::V6(target), IpAddr::V6(src)) => {
            let group = ipv6::solicited_node(target);
            let solicitation = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
                target,
                lladdr: Some(raw.local_addr()),
            });
            let mac = EthernetAddress::from_ipv6_multicast(group);
            if send_icmpv6(raw, mac, src, group, &solicitation).is_ok() {
                stats.ndisc_solicitations_sent += 1;
            }
        }
        _ => {}
    }
}

/// Builds a neighbor discovery message in `raw`: hop limit 255, as RFC 4861
/// requires of every NDISC packet.
fn send_icmpv6<D: Device>(
    raw: eth::Raw<'_, '_, D>,
    mac: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    message: &Icmpv6Repr<'_>,
) -> Result<(), Error> {
    let len = message.buffer_len();
    let checksum = raw.info().capabilities.icmpv6.tx;
    let init = eth::Init {
        dst: mac,
        ethertype: EtherType::Ipv6,
        payload_len: ipv6::HEADER_LEN + len,
    };
    let mut out = raw.prepare(init)?;
    let header = Ipv6Repr {
        src,
        dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: u16::try_from(len).map_err(|_| Error::TooLarge)?,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    let (ip, icmp) = out.payload_mut().split_at_mut(ipv6::HEADER_LEN);
    header.emit(&mut Ipv6Packet::new_unchecked(ip));
    message.emit(&mut Icmpv6Packet::new_unchecked(icmp), src, dst, checksum);
    out.send()?;
    Ok(())
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
    /// Send an ARP request or neighbor solicitation for this next hop
    /// instead.
    Request(IpAddr),
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

impl<U> Receiver<'_, '_, U> {
    /// An IGMP message in an IPv4 packet of this host.
    #[cold]
    #[inline(never)]
    fn receive_igmp<D: Device>(
        &mut self,
        frame: eth::In<'_, '_, D>,
        header_len: usize,
        payload_len: usize,
    ) {
        let checksum = frame.info().capabilities.ipv4.rx;
        let message = frame
            .payload()
            .get(header_len..header_len + payload_len)
            .unwrap_or(&[]);
        self.endpoint.receive_igmp(message, checksum);
    }

    /// An IPv6 packet: checked, extension headers walked, neighbor
    /// discovery answered, the rest handed up.
    #[inline(never)]
    fn receive_ipv6<D: Device>(&mut self, frame: eth::In<'_, '_, D>, now: Instant)
    where
        U: Recv<D>,
    {
        let Some((repr, offset, id)) = self.endpoint.check_ipv6(frame.payload(), now) else {
            if let Some((fixed, pointer)) = self.endpoint.state.param_problem.take() {
                let packet = In {
                    frame,
                    repr: IpRepr::V6(fixed),
                    header_len: ipv6::HEADER_LEN,
                    reassembled: None,
                    endpoint: self.endpoint,
                };
                let _ = packet.send_error(IcmpError::UnrecognizedOption(pointer));
            }
            return;
        };
        // Neighbor discovery is never fragmented (RFC 6980).
        let frame = if repr.next_header == IpProtocol::Icmpv6 && id.is_none() {
            match self.endpoint.receive_ndisc(frame, repr, offset) {
                Some(frame) => frame,
                None => return,
            }
        } else {
            frame
        };
        self.endpoint.state.stats.rx_delivered += 1;
        self.upper.receive(In {
            frame,
            repr: IpRepr::V6(repr),
            header_len: offset,
            reassembled: id,
            endpoint: self.endpoint,
        });
        if let Some(id) = id {
            self.endpoint.release(id);
        }
    }
}

impl<D: Device, U: Recv<D>> eth::Recv<D> for Receiver<'_, '_, U> {
    fn receive(&mut self, frame: eth::In<'_, '_, D>) {
        let now = frame.info().timestamp;
        self.endpoint.expire_fragments(now);
        self.endpoint.expire_routes(now);
        let (repr, header_len, reassembled) = match frame.repr().ethertype {
            EtherType::Arp => return self.endpoint.receive_arp(frame),
            EtherType::Ipv4 => {
                let checksum = frame.info().capabilities.ipv4.rx;
                let checked = self.endpoint.check_ipv4(frame.payload(), checksum, now);
                let Some((repr, header_len, id)) = checked else {
                    return;
                };
                if repr.protocol == IpProtocol::Igmp {
                    return self.receive_igmp(frame, header_len, repr.payload_len);
                }
                (IpRepr::V4(repr), header_len, id)
            }
            // Out of line: the IPv4 path above stays compact.
            EtherType::Ipv6 => return self.receive_ipv6(frame, now),
            _ => {
                self.endpoint.state.stats.rx_unknown_ethertype += 1;
                net_drop!("ip: dropped: rx_unknown_ethertype");
                return;
            }
        };
        self.endpoint.state.stats.rx_delivered += 1;
        self.upper.receive(In {
            frame,
            repr,
            header_len,
            reassembled,
            endpoint: self.endpoint,
        });
        if let Some(id) = reassembled {
            self.endpoint.release(id);
        }
    }

    fn wants_group(&self, group: EthernetAddress) -> bool {
        // All-hosts (224.0.0.1), all-nodes (ff02::1) and the solicited-node
        // groups of our IPv6 addresses; joined groups arrive with IGMP and
        // MLD.
        group == EthernetAddress::from_ipv4_multicast(Ipv4Addr::new(224, 0, 0, 1))
            || group == EthernetAddress::from_ipv6_multicast(ipv6::ALL_NODES)
            || self.endpoint.groups().any(|g| match g {
                IpAddr::V4(g) => group == EthernetAddress::from_ipv4_multicast(g),
                IpAddr::V6(g) => group == EthernetAddress::from_ipv6_multicast(g),
            })
            || self.endpoint.v6_addrs().any(|c| {
                group == EthernetAddress::from_ipv6_multicast(ipv6::solicited_node(c.address()))
            })
    }
}

/// The Ethernet-facing send handler built by [`Endpoint::send`].
pub struct Sender<'e, 'a, U> {
    endpoint: &'e mut Endpoint<'a>,
    upper: U,
}

impl<D: Device, U: Send<D>> eth::Send<D> for Sender<'_, '_, U> {
    fn send(&mut self, raw: eth::Raw<'_, '_, D>) {
        // The clock comes with the buffers: a host that receives nothing
        // still lets its lapsed routes go here.
        self.endpoint.expire_routes(raw.info().timestamp);
        // Whatever this layer owes (an ICMP error, a group report, a
        // revalidation request) goes first. The common case, nothing owed,
        // is one test: passing the buffer through `owed` and back would
        // move it through memory on every packet.
        let raw = if self.endpoint.state.maybe_owed {
            match self.endpoint.owed(raw) {
                Some(raw) => {
                    self.endpoint.state.maybe_owed = false;
                    raw
                }
                None => return,
            }
        } else {
            raw
        };
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
    /// Where the upper-layer bytes start in the Ethernet payload.
    header_len: usize,
    /// A reassembled datagram: its bytes are in the reassembler, not in
    /// the frame (which holds the last fragment).
    reassembled: Option<ReassembledId>,
    endpoint: &'p mut dyn IpContext,
}

impl<'p, 'd, D: Device> In<'p, 'd, D> {
    /// The parsed header (for IPv6: after the extension headers).
    #[inline(always)]
    pub fn repr(&self) -> IpRepr {
        self.repr
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.frame.info()
    }

    /// The upper-layer bytes (of the whole datagram, if it was
    /// reassembled from fragments).
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        if let Some(id) = self.reassembled {
            return self.endpoint.datagram(id);
        }
        let range = self.header_len..self.header_len + self.repr.payload_len();
        self.frame.payload().get(range).unwrap_or(&[])
    }

    /// The upper-layer bytes, writable. Empty for a reassembled datagram,
    /// whose bytes live in the reassembler and are read-only.
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        if self.reassembled.is_some() {
            return &mut [];
        }
        let range = self.header_len..self.header_len + self.repr.payload_len();
        self.frame.payload_mut().get_mut(range).unwrap_or(&mut [])
    }

    /// Whether the datagram was reassembled from fragments.
    pub fn is_reassembled(&self) -> bool {
        self.reassembled.is_some()
    }

    /// The ECN codepoint of the header (RFC 3168 section 5): a transport
    /// that negotiated ECN echoes `Ce` to its peer.
    pub fn ecn(&self) -> ipv4::Ecn {
        match self.repr {
            IpRepr::V4(r) => r.ecn,
            IpRepr::V6(r) => ipv4::Ecn::from(r.traffic_class),
        }
    }

    /// Whether the destination is one of this host's unicast addresses
    /// (not a broadcast or multicast address). Connection-oriented
    /// transports accept nothing else (RFC 1122 4.2.3.10).
    pub fn is_unicast_to_host(&self) -> bool {
        match self.repr {
            IpRepr::V4(r) => self.endpoint.has_v4(r.dst),
            IpRepr::V6(r) => self.endpoint.has_v6(r.dst),
        }
    }

    /// The source address a reply should carry: the destination if it is
    /// ours, else this host's address for answering the sender.
    fn reply_source(&self) -> Result<IpAddr, Error> {
        match self.repr {
            IpRepr::V4(r) if self.endpoint.has_v4(r.dst) => Ok(IpAddr::V4(r.dst)),
            IpRepr::V4(r) => self
                .endpoint
                .v4_source(r.src)
                .map(IpAddr::V4)
                .ok_or(Error::Unreachable),
            IpRepr::V6(r) if self.endpoint.has_v6(r.dst) => Ok(IpAddr::V6(r.dst)),
            IpRepr::V6(r) => self
                .endpoint
                .v6_source(r.src)
                .map(IpAddr::V6)
                .ok_or(Error::Unreachable),
        }
    }

    /// Turns the packet into an answer to its sender, in place: source
    /// and destination swap (a broadcast or multicast destination is
    /// replaced by this host's address), the protocol becomes `protocol`
    /// and the payload is resized to `payload_len`, its first bytes kept.
    /// The answer goes to the hardware address the packet came from.
    pub fn reply(self, protocol: IpProtocol, payload_len: usize) -> Result<Out<'p, 'd, D>, Error> {
        let src = self.reply_source()?;
        let mut header = header_for(self.repr.src(), src, protocol, payload_len, self.endpoint)?;
        if let Header::V4(_, checksum) = &mut header {
            *checksum = self.frame.info().capabilities.ipv4.tx;
        }
        let new_header_len = header.len();
        let keep = payload_len.min(self.repr.payload_len());
        let reassembled = self.reassembled;
        let (start, mut frame, endpoint) = (self.header_len, self.frame, self.endpoint);
        // Our header has no options or extension headers: move the kept
        // payload if the received header was longer.
        let total = new_header_len
            .checked_add(payload_len)
            .ok_or(Error::TooLarge)?;
        if start != new_header_len && reassembled.is_none() {
            frame
                .payload_mut()
                .copy_within(start..start + keep, new_header_len);
        }
        let ethertype = header.ethertype();
        let mut out = frame.reply(ethertype, total)?;
        header.write(&mut out);
        if let Some(id) = reassembled {
            // The datagram is in the reassembler: copy what is kept.
            let data = endpoint.datagram(id);
            let keep = keep.min(data.len());
            if let Some(dst) = out
                .payload_mut()
                .get_mut(new_header_len..new_header_len + keep)
            {
                dst.copy_from_slice(&data[..keep]);
            }
        }
        Ok(Out {
            frame: out,
            repr: header.repr(),
            header_len: new_header_len,
            endpoint,
        })
    }

    /// Refuses the packet with an ICMP destination unreachable error,
    /// built in place around the quoted packet (RFC 792, RFC 1122 3.2.2,
    /// RFC 4443 3.1).
    ///
    /// No error is sent, and `Ok(false)` returned, where the RFCs forbid
    /// one (the packet was for a broadcast or multicast address, came from
    /// an address that cannot be answered, or is a non-first fragment) or
    /// the rate limit holds it back. Transports call this for ports and
    /// protocols nobody handles.
    pub fn reject(self, why: Reject) -> Result<bool, Error> {
        self.send_error(IcmpError::Unreachable(why))
    }

    /// Builds the ICMP error `error` in place around the quoted packet.
    fn send_error(self, error: IcmpError) -> Result<bool, Error> {
        let now = self.frame.info().timestamp;
        // Never an error about an error, nor about a packet sent to a
        // link-layer group (RFC 1122 3.2.2, RFC 4443 2.4(e)).
        let first_byte = self.payload().first().copied();
        let about_an_error = match (self.repr.protocol(), first_byte) {
            (IpProtocol::Icmp, Some(kind)) => matches!(kind, 3 | 4 | 5 | 11 | 12),
            (IpProtocol::Icmpv6, Some(kind)) => kind < 128,
            _ => false,
        };
        // An unrecognized option is answered even to a group when its
        // action says so (RFC 8200 4.2); the checker already decided.
        let link_group = self.frame.repr().dst.is_multicast()
            && !matches!(error, IcmpError::UnrecognizedOption(_));
        let (may_answer, ip_header_len, max_error) = match self.repr {
            IpRepr::V4(r) => (
                self.endpoint.has_v4(r.dst)
                    && ipv4::classify(r.src) == Ipv4Class::Unicast
                    && r.frag_offset == 0,
                ipv4::HEADER_LEN,
                // RFC 1812 4.3.2.3: the whole error within 576 bytes.
                576,
            ),
            IpRepr::V6(r) => (
                (self.endpoint.has_v6(r.dst) || matches!(error, IcmpError::UnrecognizedOption(_)))
                    && !r.src.is_unspecified()
                    && !r.src.is_multicast(),
                ipv6::HEADER_LEN,
                // RFC 4443 2.4(c): within the minimum IPv6 MTU.
                1280,
            ),
        };
        let may_answer = may_answer && !about_an_error && !link_group;
        let state = self.endpoint.state();
        if !may_answer {
            state.stats.icmp_errors_suppressed += 1;
            net_drop!("ip: dropped: icmp_errors_suppressed");
            return Ok(false);
        }
        if !state.icmp_errors.allow(now) {
            state.stats.icmp_errors_rate_limited += 1;
            net_drop!("ip: dropped: icmp_errors_rate_limited");
            return Ok(false);
        }
        let error_headers = ip_header_len + 8;
        let original_len = match self.reassembled {
            Some(id) => self.endpoint.quote(id).len(),
            None => self.header_len + self.repr.payload_len(),
        };
        let quote_len = original_len.min(max_error - error_headers);
        let src = self.reply_source()?;
        let protocol = match self.repr {
            IpRepr::V4(_) => IpProtocol::Icmp,
            IpRepr::V6(_) => IpProtocol::Icmpv6,
        };
        let capabilities = self.frame.info().capabilities;
        let mut header = header_for(self.repr.src(), src, protocol, 8 + quote_len, self.endpoint)?;
        if let Header::V4(_, checksum) = &mut header {
            *checksum = capabilities.ipv4.tx;
        }
        let mut out = self
            .frame
            .reply(header.ethertype(), error_headers + quote_len)?;
        match self.reassembled {
            // Quote the first fragment's start, kept by the reassembler.
            Some(id) => {
                let quote = self.endpoint.quote(id);
                let quote = quote.get(..quote_len).unwrap_or(quote);
                if let Some(dst) = out
                    .payload_mut()
                    .get_mut(error_headers..error_headers + quote.len())
                {
                    dst.copy_from_slice(quote);
                }
            }
            None => out.payload_mut().copy_within(..quote_len, error_headers),
        }
        header.write(&mut out);
        let icmp = out
            .payload_mut()
            .get_mut(ip_header_len..)
            .unwrap_or(&mut []);
        error.write(icmp, &header, capabilities);
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

/// A header to write, with the device's checksum duty for IPv4.
#[derive(Clone, Copy)]
enum Header {
    V4(Ipv4Repr, ChecksumMode),
    V6(Ipv6Repr, ()),
}

impl Header {
    #[inline(always)]
    fn len(&self) -> usize {
        match self {
            Header::V4(..) => ipv4::HEADER_LEN,
            Header::V6(..) => ipv6::HEADER_LEN,
        }
    }

    #[inline(always)]
    fn ethertype(&self) -> EtherType {
        match self {
            Header::V4(..) => EtherType::Ipv4,
            Header::V6(..) => EtherType::Ipv6,
        }
    }

    #[inline(always)]
    fn repr(&self) -> IpRepr {
        match *self {
            Header::V4(r, _) => IpRepr::V4(r),
            Header::V6(r, _) => IpRepr::V6(r),
        }
    }

    /// Writes the header at the front of the Ethernet payload.
    #[inline(always)]
    fn write<D: Device>(&self, out: &mut eth::Out<'_, '_, D>) {
        let bytes = out.payload_mut();
        match *self {
            Header::V4(repr, checksum) => {
                if let Some(header) = bytes.get_mut(..ipv4::HEADER_LEN) {
                    let mut packet = Ipv4Packet::new_unchecked(header);
                    repr.emit(&mut packet, checksum);
                }
            }
            Header::V6(repr, ()) => {
                if let Some(header) = bytes.get_mut(..ipv6::HEADER_LEN) {
                    repr.emit(&mut Ipv6Packet::new_unchecked(header));
                }
            }
        }
    }
}

/// The header of a packet from `src` to `dst` carrying `payload_len`
/// bytes of `protocol`.
#[inline(always)]
fn header_for(
    dst: IpAddr,
    src: IpAddr,
    protocol: IpProtocol,
    payload_len: usize,
    endpoint: &mut dyn IpContext,
) -> Result<Header, Error> {
    let state = endpoint.state();
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            if ipv4::HEADER_LEN + payload_len > usize::from(u16::MAX) {
                return Err(Error::TooLarge);
            }
            let repr = Ipv4Repr {
                src,
                dst,
                protocol,
                payload_len,
                ttl: state.config.ttl,
                ident: state.next_ident(),
                ..Ipv4Repr::default()
            };
            Ok(Header::V4(repr, ChecksumMode::Software))
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let repr = Ipv6Repr {
                src,
                dst,
                next_header: protocol,
                payload_len: u16::try_from(payload_len).map_err(|_| Error::TooLarge)?,
                hop_limit: state.config.hop_limit,
                traffic_class: 0,
                flow_label: 0,
            };
            Ok(Header::V6(repr, ()))
        }
        _ => Err(Error::Unreachable),
    }
}

/// What a new packet's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    /// The source address; `None` picks one of this host's addresses.
    /// `Some(0.0.0.0)` is allowed with the destination 255.255.255.255
    /// only, for a host that has no address yet (a DHCP client, RFC 2131
    /// section 4.1): the frame goes to the Ethernet broadcast address
    /// without route or resolution.
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

    /// The largest upper-layer payload this buffer can carry to an IPv4
    /// destination (IPv6 takes 20 bytes more header).
    pub fn payload_capacity(&self) -> usize {
        self.frame
            .payload_capacity()
            .saturating_sub(ipv4::HEADER_LEN)
    }

    /// Routes `init.dst`, resolves the next hop, writes the headers and
    /// gives the payload to fill.
    ///
    /// [`Error::Unresolved`]: the next hop's address is being resolved;
    /// this buffer may have carried the ARP request or neighbor
    /// solicitation. Try again later.
    #[inline(always)]
    pub fn prepare(self, init: Init) -> Result<Out<'p, 'd, D>, Error> {
        let capabilities = self.frame.info().capabilities;
        let (frame, mac, src, endpoint) = resolve(self.frame, self.endpoint, &init)?;
        let mut header = header_for(init.dst, src, init.protocol, init.payload_len, endpoint)?;
        if let Header::V4(_, checksum) = &mut header {
            *checksum = capabilities.ipv4.tx;
        }
        let eth_init = eth::Init {
            dst: mac,
            ethertype: header.ethertype(),
            payload_len: header.len() + init.payload_len,
        };
        let mut out = frame.prepare(eth_init)?;
        header.write(&mut out);
        Ok(Out {
            frame: out,
            repr: header.repr(),
            header_len: header.len(),
            endpoint,
        })
    }

    /// Prepares the next fragment of a datagram of `init.payload_len`
    /// bytes that may be larger than one frame (RFC 791 2.3 and 3.2, RFC
    /// 8200 4.5), and returns it with the range of datagram bytes it
    /// carries: copy those into [`Out::payload_mut`] and send it. Call
    /// again with the same `cursor` on the next lent buffers until
    /// [`FragmentCursor::is_done`]. A datagram that fits one frame goes
    /// out whole, unfragmented.
    ///
    /// ```text
    /// match raw.prepare_fragment(init, &mut self.cursor) {
    ///     Ok((mut out, range)) => {
    ///         out.payload_mut().copy_from_slice(&self.datagram[range]);
    ///         out.send()?;
    ///     }
    ///     Err(ip::Error::Unresolved) => {} // try again later
    ///     Err(other) => return Err(other),
    /// }
    /// ```
    pub fn prepare_fragment(
        self,
        init: Init,
        cursor: &mut FragmentCursor,
    ) -> Result<(Out<'p, 'd, D>, core::ops::Range<usize>), Error> {
        let capabilities = self.frame.info().capabilities;
        let room = self.frame.payload_capacity();
        let total = init.payload_len;
        let (frame, mac, src, endpoint) = resolve(self.frame, self.endpoint, &init)?;
        let ipv6 = init.dst.is_ipv6();
        let header_len = if ipv6 {
            ipv6::HEADER_LEN
        } else {
            ipv4::HEADER_LEN
        };
        let offset = cursor.offset;
        let remaining = total.checked_sub(offset).ok_or(Error::TooLarge)?;
        let unfragmented = offset == 0 && header_len + total <= room;
        if unfragmented {
            cursor.offset = total;
            cursor.done = true;
            let mut header = header_for(init.dst, src, init.protocol, total, endpoint)?;
            if let Header::V4(_, checksum) = &mut header {
                *checksum = capabilities.ipv4.tx;
            }
            let eth_init = eth::Init {
                dst: mac,
                ethertype: header.ethertype(),
                payload_len: header.len() + total,
            };
            let mut out = frame.prepare(eth_init)?;
            header.write(&mut out);
            let out = Out {
                frame: out,
                repr: header.repr(),
                header_len: header.len(),
                endpoint,
            };
            return Ok((out, 0..total));
        }
        // Fragments: every piece but the last a multiple of 8 bytes.
        let fragment_header = if ipv6 { 8 } else { 0 };
        let space = room.saturating_sub(header_len + fragment_header) & !7;
        if space == 0 || (!ipv6 && total > 65515) || total > 65535 {
            return Err(Error::TooLarge);
        }
        let last = remaining <= space;
        let piece = if last { remaining } else { space };
        let state = endpoint.state();
        let ident = *cursor.ident.get_or_insert_with(|| {
            if ipv6 {
                state.next_ident6 = state.next_ident6.wrapping_add(1);
                state.next_ident6
            } else {
                u32::from(state.next_ident())
            }
        });
        let (header, fragment) = match (src, init.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let repr = Ipv4Repr {
                    src,
                    dst,
                    protocol: init.protocol,
                    payload_len: piece,
                    ttl: state.config.ttl,
                    ident: ident as u16,
                    more_frags: !last,
                    frag_offset: offset as u16,
                    ..Ipv4Repr::default()
                };
                (Header::V4(repr, capabilities.ipv4.tx), None)
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let repr = Ipv6Repr {
                    src,
                    dst,
                    next_header: IpProtocol::Ipv6Frag,
                    payload_len: (fragment_header + piece) as u16,
                    hop_limit: state.config.hop_limit,
                    traffic_class: 0,
                    flow_label: 0,
                };
                let fragment = ipv6::Ipv6FragmentRepr {
                    next_header: init.protocol,
                    frag_offset: (offset / 8) as u16,
                    more_frags: !last,
                    ident,
                };
                (Header::V6(repr, ()), Some(fragment))
            }
            _ => return Err(Error::Unreachable),
        };
        let eth_init = eth::Init {
            dst: mac,
            ethertype: header.ethertype(),
            payload_len: header_len + fragment_header + piece,
        };
        let mut out = frame.prepare(eth_init)?;
        header.write(&mut out);
        let fragment_bytes = out.payload_mut().get_mut(header_len..header_len + 8);
        if let (Some(fragment), Some(bytes)) = (fragment, fragment_bytes) {
            fragment.emit(&mut ipv6::Ipv6FragmentHeader::new_unchecked(bytes));
        }
        cursor.offset = offset + piece;
        cursor.done = last;
        let out = Out {
            frame: out,
            repr: header.repr(),
            header_len: header_len + fragment_header,
            endpoint,
        };
        Ok((out, offset..offset + piece))
    }
}

/// Where a datagram sent in fragments has got to; keep one per datagram
/// across the calls to [`Raw::prepare_fragment`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentCursor {
    ident: Option<u32>,
    offset: usize,
    done: bool,
}

impl FragmentCursor {
    /// A datagram not sent yet.
    pub const fn new() -> FragmentCursor {
        FragmentCursor {
            ident: None,
            offset: 0,
            done: false,
        }
    }

    /// Whether the whole datagram has gone out.
    pub const fn is_done(&self) -> bool {
        self.done
    }

    /// How many datagram bytes have gone out.
    pub const fn sent(&self) -> usize {
        self.offset
    }
}

/// Routes `init.dst` and resolves the next hop: the buffer back with the
/// hardware address and the source address, or the reason it cannot go
/// (the buffer may have carried an ARP request or solicitation).
#[allow(clippy::type_complexity)]
#[inline(always)]
fn resolve<'p, 'd, D: Device>(
    frame: eth::Raw<'p, 'd, D>,
    endpoint: &'p mut dyn IpContext,
    init: &Init,
) -> Result<
    (
        eth::Raw<'p, 'd, D>,
        EthernetAddress,
        IpAddr,
        &'p mut dyn IpContext,
    ),
    Error,
> {
    // A host being configured sends from 0.0.0.0 to the limited broadcast
    // (RFC 1122 3.2.1.3, RFC 2131 4.1): no route, no resolution, no
    // address of its own needed.
    if init.src == Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        && init.dst == IpAddr::V4(Ipv4Addr::BROADCAST)
    {
        let src = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        return Ok((frame, EthernetAddress::BROADCAST, src, endpoint));
    }
    let now = frame.info().timestamp;
    let resolved = match init.dst {
        IpAddr::V4(dst) => endpoint
            .resolve_v4(dst, now)
            .map(|(src, r)| (IpAddr::V4(src), r)),
        IpAddr::V6(dst) => endpoint
            .resolve_v6(dst, now)
            .map(|(src, r)| (IpAddr::V6(src), r)),
    };
    let (default_src, resolved) = match resolved {
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
            solicit(stats, frame, next_hop, default_src);
            return Err(Error::Unresolved);
        }
        Resolved::Pending => {
            endpoint.state().stats.tx_unresolved += 1;
            return Err(Error::Unresolved);
        }
    };
    let src = match init.src {
        None => default_src,
        Some(IpAddr::V4(src)) if endpoint.has_v4(src) => IpAddr::V4(src),
        Some(IpAddr::V6(src)) if endpoint.has_v6(src) => IpAddr::V6(src),
        Some(_) => return Err(Error::Unreachable),
    };
    Ok((frame, mac, src, endpoint))
}

/// An IP packet with its headers written and its payload writable.
pub struct Out<'p, 'd, D: Device> {
    frame: eth::Out<'p, 'd, D>,
    repr: IpRepr,
    header_len: usize,
    endpoint: &'p mut dyn IpContext,
}

impl<'p, 'd, D: Device> Out<'p, 'd, D> {
    /// The header as written.
    #[inline(always)]
    pub fn repr(&self) -> IpRepr {
        self.repr
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.frame.info()
    }

    /// The upper-layer bytes.
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        self.frame.payload().get(self.header_len..).unwrap_or(&[])
    }

    /// The upper-layer bytes, writable.
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.frame
            .payload_mut()
            .get_mut(self.header_len..)
            .unwrap_or(&mut [])
    }

    /// Sets the header's ECN codepoint (RFC 3168 section 5): ECT(0) on
    /// the data segments of a connection that negotiated ECN.
    pub fn set_ecn(&mut self, ecn: ipv4::Ecn) {
        let software = self.frame.info().capabilities.ipv4.tx.in_software();
        let header_len = self.header_len;
        let Some(header) = self.frame.payload_mut().get_mut(..header_len) else {
            return;
        };
        match &mut self.repr {
            IpRepr::V4(repr) => {
                let mut packet = Ipv4Packet::new_unchecked(header);
                packet.set_ecn(ecn);
                if software {
                    packet.fill_checksum();
                }
                repr.ecn = ecn;
            }
            IpRepr::V6(repr) => {
                let mut packet = Ipv6Packet::new_unchecked(header);
                let class = (packet.traffic_class() & !0b11) | u8::from(ecn);
                packet.set_traffic_class(class);
                repr.traffic_class = class;
            }
        }
    }

    /// Asks the device to cut the packet's TCP segment into segments of
    /// `size` payload bytes (see [`nic::Capabilities::tcp_segmentation`]).
    pub fn set_segment_size(&mut self, size: u16) {
        self.frame.set_segment_size(size);
    }

    /// Queues the packet.
    #[inline(always)]
    pub fn send(self) -> Result<(), Error> {
        self.frame.send()?;
        self.endpoint.state().stats.tx_packets += 1;
        Ok(())
    }
}
