//! A DNS stub resolver (RFC 1035, RFC 1123 6.1.3): addresses for names
//! from recursive servers, over UDP.
//!
//! The [`Resolver`] keeps its queries in slots the caller provides
//! ([`QuerySlot`]), each with the name (in wire form, up to 255 bytes),
//! the type (A or AAAA), its id and source port, the server it went to,
//! its retransmission deadline and the attempts made. Like every layer
//! here it is a state machine without I/O: queries go out through
//! [`udp::Send`] when the device lends buffers, answers come in through
//! [`udp::Recv`], and time comes with them (or with [`Resolver::poll`]).
//!
//! # Lifecycle of a query
//!
//! 1. [`Resolver::query`] encodes the name, picks a random id and binds a
//!    random ephemeral source port for the query on the UDP endpoint, and
//!    returns a [`QueryHandle`]. The query goes out on the next lent
//!    buffer.
//! 2. Without an answer by the deadline it is sent again, to the next
//!    server, after a timeout that doubles each time
//!    ([`ResolverConfig`]); after the last attempt it fails with
//!    [`ResolveError::Timeout`]. A server failure or refusal moves on to
//!    the next server at once.
//! 3. [`Resolver::result`] says whether it is done; [`Resolver::take`]
//!    returns the result, frees the slot and unbinds the port.
//!
//! # What an answer must match (RFC 5452 section 9)
//!
//! An answer is taken only if it comes from port 53 of a server the query
//! was sent to, to the query's own source port, with the query's id, the
//! response bit and the standard query opcode, and one question equal to
//! the query's (name without case, type, class IN). Anything else is
//! dropped and counted ([`DnsStats::rx_mismatched`]) and the query waits
//! on: a guessing attacker cannot end it. Malformed messages are dropped
//! and counted as well ([`DnsStats::rx_malformed`]); the query waits for
//! its retransmission.
//!
//! Addresses are taken from the answer section: CNAMEs are followed
//! inside the message from the question's name (at most
//! [`MAX_CNAME_HOPS`]), then every A or AAAA record of the name reached is
//! kept, up to [`MAX_ADDRESSES`]. The answer's TTL is the smallest of the
//! records used.
//!
//! # Example
//!
//! ```
//! use ethox::layer::dns::{QuerySlot, QueryType, Resolver};
//! use ethox::layer::udp;
//! use ethox::time::Instant;
//! use ethox::wire::{IpAddr, Ipv4Addr};
//!
//! let mut slots = [QuerySlot::EMPTY; 4];
//! let mut resolver = Resolver::new(&mut slots[..], 0x5eed);
//! resolver.set_servers(&[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53))]);
//! let mut ports = [None; 4];
//! let mut udp = udp::Endpoint::new(&mut ports[..], 0);
//! let now = Instant::from_secs(1);
//! let query = resolver.query(&mut udp, "example.test", QueryType::A, now).unwrap();
//! // The query has its own port, and goes out on the next lent buffer:
//! // nic.tx(n, eth.send(ip.send(udp.send(&mut resolver))))
//! assert_eq!(udp.bound_ports().count(), 1);
//! assert_eq!(resolver.next_deadline(), Some(now));
//! assert_eq!(resolver.result(query), None); // pending
//! ```
//!
//! Limits: no TCP fallback (an answer with the truncation bit and no
//! usable address fails with [`ResolveError::Truncated`]), no cache, no
//! search domains, no EDNS(0), no 0x20 case randomization; a CNAME whose
//! target's addresses are not in the same answer gives
//! [`ResolveError::NoData`] (recursive servers include them).

use core::fmt;
use core::time::Duration;

use crate::layer::ip;
use crate::layer::rng::SeedRng;
use crate::layer::udp::{self, UdpError};
use crate::managed::Slice;
use crate::nic::Device;
use crate::time::Instant;
use crate::wire::dns::{
    self, Class, DnsHeader, DnsMessage, MAX_NAME_LEN, MessageWriter, Name, Opcode, Rcode,
    RecordData, RecordType,
};
use crate::wire::ip::IpAddr;

/// The most addresses an [`Answer`] holds.
pub const MAX_ADDRESSES: usize = 8;
/// The most servers a resolver asks.
pub const MAX_SERVERS: usize = 3;
/// The most CNAMEs followed inside one answer.
pub const MAX_CNAME_HOPS: usize = 8;

/// How long a query that waits for the next hop's hardware address waits
/// before trying again (the buffer carried the ARP request).
const UNRESOLVED_RETRY: Duration = Duration::from_millis(250);

/// The address family asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryType {
    /// IPv4 addresses (A records).
    A,
    /// IPv6 addresses (AAAA records, RFC 3596).
    Aaaa,
}

impl QueryType {
    /// The record type asked for.
    pub const fn record_type(self) -> RecordType {
        match self {
            QueryType::A => RecordType::A,
            QueryType::Aaaa => RecordType::Aaaa,
        }
    }
}

/// Settings of the resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolverConfig {
    /// How long the first transmission waits for an answer.
    pub first_timeout: Duration,
    /// The longest wait; each retransmission doubles the wait up to it.
    pub max_timeout: Duration,
    /// Transmissions before the query fails, spread over the servers in
    /// turn.
    pub max_attempts: u8,
}

impl Default for ResolverConfig {
    /// 2 s, doubling to at most 8 s, 4 attempts: a query fails after
    /// 2 + 4 + 8 + 8 = 22 s without an answer.
    fn default() -> ResolverConfig {
        ResolverConfig {
            first_timeout: Duration::from_secs(2),
            max_timeout: Duration::from_secs(8),
            max_attempts: 4,
        }
    }
}

/// Addresses for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Answer {
    addrs: [IpAddr; MAX_ADDRESSES],
    len: usize,
    ttl: u32,
}

impl Answer {
    /// The addresses, in the server's order (at least one).
    pub fn addrs(&self) -> &[IpAddr] {
        self.addrs.get(..self.len).unwrap_or(&[])
    }

    /// Seconds the answer may be cached: the smallest TTL of the records
    /// it came from (CNAMEs included).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }
}

/// Why a query failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResolveError {
    /// The name does not exist (NXDOMAIN).
    NameError,
    /// The name exists but has no address of the type asked for.
    NoData,
    /// Every server tried failed (SERVFAIL, or a format or
    /// not-implemented error).
    ServerFailure,
    /// The server refused to answer.
    Refused,
    /// No answer after every attempt.
    Timeout,
    /// The answer was cut short (truncation bit) without an address, and
    /// this resolver does not retry over TCP.
    Truncated,
    /// The server list was emptied while the query waited.
    NoServers,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolveError::NameError => "no such name",
            ResolveError::NoData => "no address of that type",
            ResolveError::ServerFailure => "server failure",
            ResolveError::Refused => "query refused",
            ResolveError::Timeout => "no answer",
            ResolveError::Truncated => "answer truncated",
            ResolveError::NoServers => "no DNS server configured",
        })
    }
}

impl core::error::Error for ResolveError {}

/// Why a query could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryError {
    /// The name is not a valid domain name (empty label, a label over 63
    /// bytes, over 255 bytes in all).
    BadName,
    /// Every query slot is in use (results not yet taken included).
    TableFull,
    /// No server is configured.
    NoServers,
    /// No source port could be bound.
    Udp(UdpError),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::BadName => f.write_str("invalid domain name"),
            QueryError::TableFull => f.write_str("no free query slot"),
            QueryError::NoServers => f.write_str("no DNS server configured"),
            QueryError::Udp(err) => write!(f, "udp: {err}"),
        }
    }
}

impl core::error::Error for QueryError {}

/// Counters of the resolver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DnsStats {
    /// Queries started.
    pub queries: u64,
    /// Queries sent (first transmissions and retransmissions).
    pub tx_queries: u64,
    /// Retransmissions among them.
    pub tx_retransmissions: u64,
    /// Queries that could not be built or sent.
    pub tx_errors: u64,
    /// Answers taken (with addresses or an error code).
    pub rx_answers: u64,
    /// Messages that did not parse (cut short, bad names, pointer loops).
    pub rx_malformed: u64,
    /// Well-formed messages that do not answer the query on their port:
    /// wrong source, id, opcode or question, or not a response.
    pub rx_mismatched: u64,
    /// Messages to a port whose query is over (late answers).
    pub rx_unexpected: u64,
    /// Answers with the truncation bit.
    pub rx_truncated: u64,
    /// Queries that ran out of attempts.
    pub timeouts: u64,
}

/// Identifies a query of a [`Resolver`]; stale handles (of a slot taken
/// and reused) are recognized and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryHandle {
    index: usize,
    generation: u32,
}

/// What became of a query handed out by [`Resolver::due_query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transmission {
    /// It went out; the wait for an answer starts.
    Sent,
    /// It could not be built or sent; it counts as sent and lost.
    Lost,
    /// The next hop's hardware address is being resolved; the query is
    /// due again shortly, without using an attempt.
    Deferred,
}

/// A query due to be sent (see [`Resolver::due_query`]): where it goes,
/// from which port, and its message.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingQuery<'r> {
    /// The query.
    pub handle: QueryHandle,
    /// The server to send it to (port 53).
    pub server: IpAddr,
    /// The query's source port.
    pub src_port: u16,
    id: u16,
    qtype: QueryType,
    name: &'r [u8],
}

impl OutgoingQuery<'_> {
    /// The length of the message.
    pub fn len(&self) -> usize {
        dns::HEADER_LEN + self.name.len() + 4
    }

    /// Always false: a query has a header. Present for the
    /// `len_without_is_empty` convention.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the message (a standard query with recursion desired and
    /// one question) into `buf`; its length, or
    /// [`wire::Error::BufferTooSmall`](crate::wire::Error::BufferTooSmall).
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, crate::wire::Error> {
        let mut writer = MessageWriter::new(buf, &DnsHeader::query(self.id))?;
        writer.question(self.name, self.qtype.record_type(), Class::In)?;
        Ok(writer.finish())
    }
}

/// A query in flight.
#[derive(Clone, Copy)]
struct Pending {
    name: [u8; MAX_NAME_LEN],
    name_len: usize,
    qtype: QueryType,
    id: u16,
    /// Which server the next transmission goes to (an index into the
    /// server list).
    server: usize,
    /// The servers it was sent to, one bit per index.
    sent_to: u8,
    attempts: u8,
    /// When the next transmission is due; `None` while waiting.
    send_at: Option<Instant>,
    /// When the wait for an answer to the last transmission ends.
    deadline: Instant,
}

impl Pending {
    fn name(&self) -> &[u8] {
        self.name.get(..self.name_len).unwrap_or(&[])
    }
}

#[derive(Clone, Copy)]
enum SlotState {
    Free,
    Pending(Pending),
    Done(Result<Answer, ResolveError>),
}

/// Storage for one query; give the resolver a slice of them, created with
/// [`QuerySlot::EMPTY`]. About 300 bytes each (the name is kept in the
/// slot).
#[derive(Clone, Copy)]
pub struct QuerySlot {
    state: SlotState,
    generation: u32,
    /// The query's source port, bound while the slot is not free.
    port: u16,
}

impl QuerySlot {
    /// A free slot.
    pub const EMPTY: QuerySlot = QuerySlot {
        state: SlotState::Free,
        generation: 0,
        port: 0,
    };
}

impl fmt::Debug for QuerySlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            SlotState::Free => "free",
            SlotState::Pending(_) => "pending",
            SlotState::Done(_) => "done",
        };
        write!(f, "QuerySlot({state}, port {})", self.port)
    }
}

/// The stub resolver; see the [module documentation](self).
pub struct Resolver<'a> {
    slots: Slice<'a, QuerySlot>,
    servers: [IpAddr; MAX_SERVERS],
    server_count: usize,
    config: ResolverConfig,
    rng: SeedRng,
    generation: u32,
    stats: DnsStats,
}

impl fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("servers", &self.servers())
            .field("slots", &self.slots.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<'a> Resolver<'a> {
    /// A resolver with query storage `slots` (all freed) and no servers.
    ///
    /// `seed` keys the query ids and source ports: pass a random value,
    /// since predictable ids and ports are what lets an off-path attacker
    /// forge answers (RFC 5452).
    pub fn new(slots: impl Into<Slice<'a, QuerySlot>>, seed: u64) -> Resolver<'a> {
        let mut slots = slots.into();
        for slot in slots.iter_mut() {
            *slot = QuerySlot::EMPTY;
        }
        Resolver {
            slots,
            servers: [IpAddr::V4(crate::wire::ip::Ipv4Addr::UNSPECIFIED); MAX_SERVERS],
            server_count: 0,
            config: ResolverConfig::default(),
            rng: SeedRng::new(seed),
            generation: 0,
            stats: DnsStats::default(),
        }
    }

    /// Changes the settings (for queries started from now on, and the
    /// retransmissions of those in flight).
    pub fn set_config(&mut self, config: ResolverConfig) {
        self.config = config;
    }

    /// The settings.
    pub fn config(&self) -> ResolverConfig {
        self.config
    }

    /// Sets the servers to ask, in order of preference (the first
    /// [`MAX_SERVERS`]; unspecified addresses are skipped); returns how
    /// many were kept. Queries in flight go on with the new list, and
    /// take answers only from servers in it.
    pub fn set_servers(&mut self, servers: &[IpAddr]) -> usize {
        self.server_count = 0;
        for &server in servers.iter().filter(|s| !s.is_unspecified()) {
            let Some(slot) = self.servers.get_mut(self.server_count) else {
                break;
            };
            *slot = server;
            self.server_count += 1;
        }
        self.server_count
    }

    /// The servers asked, in order.
    pub fn servers(&self) -> &[IpAddr] {
        self.servers.get(..self.server_count).unwrap_or(&[])
    }

    /// The counters.
    pub fn stats(&self) -> DnsStats {
        self.stats
    }

    /// Starts a query for `name`'s addresses of type `qtype`, due to go
    /// out on the next lent buffer. A random source port is bound on
    /// `udp` for it until [`take`](Self::take) or
    /// [`cancel`](Self::cancel).
    pub fn query(
        &mut self,
        udp: &mut udp::Endpoint<'_>,
        name: &str,
        qtype: QueryType,
        now: Instant,
    ) -> Result<QueryHandle, QueryError> {
        let mut encoded = [0u8; MAX_NAME_LEN];
        let name_len = dns::encode_name(name, &mut encoded).map_err(|_| QueryError::BadName)?;
        // The root has no addresses; asking for it is a mistake.
        if name_len <= 1 {
            return Err(QueryError::BadName);
        }
        if self.server_count == 0 {
            return Err(QueryError::NoServers);
        }
        let index = self
            .slots
            .iter()
            .position(|s| matches!(s.state, SlotState::Free))
            .ok_or(QueryError::TableFull)?;
        // RFC 5452 9.2: a random port for each query.
        udp.reseed_ephemeral(self.rng.next_u32() as u16);
        let port = udp.bind_ephemeral().map_err(QueryError::Udp)?;
        let id = self.rng.next_u32() as u16;
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let pending = Pending {
            name: encoded,
            name_len,
            qtype,
            id,
            server: 0,
            sent_to: 0,
            attempts: 0,
            send_at: Some(now),
            deadline: now,
        };
        let Some(slot) = self.slots.get_mut(index) else {
            udp.unbind(port);
            return Err(QueryError::TableFull);
        };
        *slot = QuerySlot {
            state: SlotState::Pending(pending),
            generation,
            port,
        };
        self.stats.queries += 1;
        net_trace!(
            "dns: query {} {:?} id {:#06x} port {}",
            name,
            qtype,
            id,
            port
        );
        Ok(QueryHandle { index, generation })
    }

    fn slot(&self, handle: QueryHandle) -> Option<&QuerySlot> {
        self.slots
            .get(handle.index)
            .filter(|s| s.generation == handle.generation && !matches!(s.state, SlotState::Free))
    }

    /// The result of a finished query; `None` while it is pending, or for
    /// a handle that is not (or no longer) this resolver's.
    pub fn result(&self, handle: QueryHandle) -> Option<Result<Answer, ResolveError>> {
        match self.slot(handle)?.state {
            SlotState::Done(result) => Some(result),
            _ => None,
        }
    }

    /// Whether the query is still waiting for an answer.
    pub fn is_pending(&self, handle: QueryHandle) -> bool {
        self.slot(handle)
            .is_some_and(|s| matches!(s.state, SlotState::Pending(_)))
    }

    /// The result of a finished query, freeing its slot and unbinding its
    /// port; `None` (and nothing freed) while it is pending or for a
    /// stale handle.
    pub fn take(
        &mut self,
        handle: QueryHandle,
        udp: &mut udp::Endpoint<'_>,
    ) -> Option<Result<Answer, ResolveError>> {
        let result = self.result(handle)?;
        self.free(handle.index, udp);
        Some(result)
    }

    /// Gives up a query, pending or finished: its slot is freed and its
    /// port unbound. `false` for a stale handle.
    pub fn cancel(&mut self, handle: QueryHandle, udp: &mut udp::Endpoint<'_>) -> bool {
        if self.slot(handle).is_none() {
            return false;
        }
        self.free(handle.index, udp);
        true
    }

    fn free(&mut self, index: usize, udp: &mut udp::Endpoint<'_>) {
        if let Some(slot) = self.slots.get_mut(index) {
            udp.unbind(slot.port);
            slot.state = SlotState::Free;
            slot.port = 0;
        }
    }

    /// When the resolver next needs the clock: a query due to be sent (at
    /// or before now: on the next lent buffer) or a wait that ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                SlotState::Pending(p) => Some(p.send_at.unwrap_or(p.deadline)),
                _ => None,
            })
            .min()
    }

    /// Runs the timers to `now`: a query whose wait ended is due again, to
    /// the next server, or fails with [`ResolveError::Timeout`] after its
    /// last attempt. Called by the UDP handlers with each packet's time;
    /// call it when the loop wakes at [`next_deadline`](Self::next_deadline)
    /// without traffic.
    pub fn poll(&mut self, now: Instant) {
        let servers = self.server_count.max(1);
        let max_attempts = self.config.max_attempts;
        for slot in self.slots.iter_mut() {
            let SlotState::Pending(pending) = &mut slot.state else {
                continue;
            };
            if self.server_count == 0 {
                // Every server was removed: the query cannot go anywhere.
                slot.state = SlotState::Done(Err(ResolveError::NoServers));
                continue;
            }
            if pending.send_at.is_some() || now < pending.deadline {
                continue;
            }
            if pending.attempts >= max_attempts {
                net_trace!("dns: query id {:#06x} timed out", pending.id);
                slot.state = SlotState::Done(Err(ResolveError::Timeout));
                self.stats.timeouts += 1;
                continue;
            }
            pending.server = (pending.server + 1) % servers;
            pending.send_at = Some(now);
        }
    }

    /// The wait after the `attempts`-th transmission: the first timeout
    /// doubled per earlier attempt, at most the maximum.
    fn timeout(&self, attempts: u8) -> Duration {
        let doublings = u32::from(attempts.saturating_sub(1)).min(16);
        self.config
            .first_timeout
            .saturating_mul(1 << doublings)
            .min(self.config.max_timeout)
    }

    /// The first query due at `now`, if any: what the UDP sender builds.
    /// Report what became of it with
    /// [`query_transmitted`](Self::query_transmitted).
    pub fn due_query(&self, now: Instant) -> Option<OutgoingQuery<'_>> {
        let servers = self.servers();
        if servers.is_empty() {
            return None;
        }
        self.slots.iter().enumerate().find_map(|(index, slot)| {
            let SlotState::Pending(pending) = &slot.state else {
                return None;
            };
            if pending.send_at.is_none_or(|t| t > now) {
                return None;
            }
            let server = *servers.get(pending.server % servers.len())?;
            Some(OutgoingQuery {
                handle: QueryHandle {
                    index,
                    generation: slot.generation,
                },
                server,
                src_port: slot.port,
                id: pending.id,
                qtype: pending.qtype,
                name: pending.name(),
            })
        })
    }

    /// Records what became of the query from
    /// [`due_query`](Self::due_query) at `now`.
    pub fn query_transmitted(&mut self, handle: QueryHandle, outcome: Transmission, now: Instant) {
        let servers = self.server_count.max(1);
        let Some(SlotState::Pending(mut pending)) = self.slot(handle).map(|s| s.state) else {
            return;
        };
        let server_index = pending.server % servers;
        match outcome {
            Transmission::Deferred => {
                pending.send_at = Some(now + UNRESOLVED_RETRY);
                self.update(handle.index, pending);
                return;
            }
            Transmission::Sent => {
                self.stats.tx_queries += 1;
                if pending.attempts > 0 {
                    self.stats.tx_retransmissions += 1;
                }
                pending.sent_to |= 1 << server_index;
            }
            // Counted as a lost transmission: the timer tries again, so a
            // persistent error cannot keep the query due.
            Transmission::Lost => self.stats.tx_errors += 1,
        }
        pending.server = server_index;
        pending.attempts = pending.attempts.saturating_add(1);
        pending.send_at = None;
        pending.deadline = now + self.timeout(pending.attempts);
        self.update(handle.index, pending);
    }

    fn update(&mut self, index: usize, pending: Pending) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.state = SlotState::Pending(pending);
        }
    }

    fn finish(&mut self, index: usize, result: Result<Answer, ResolveError>) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.state = SlotState::Done(result);
        }
    }

    /// Handles a datagram from `src` (address and port) to local port
    /// `port`, received at `now`.
    pub fn handle_datagram(&mut self, src: (IpAddr, u16), port: u16, payload: &[u8], now: Instant) {
        let Some(index) = self
            .slots
            .iter()
            .position(|s| s.port == port && port != 0 && !matches!(s.state, SlotState::Free))
        else {
            // Not a port of ours: another service's datagram.
            return;
        };
        let Some(SlotState::Pending(mut pending)) = self.slots.get(index).map(|s| s.state) else {
            self.stats.rx_unexpected += 1;
            net_drop!("dns: dropped: rx_unexpected");
            return;
        };
        let from_asked_server = src.1 == dns::PORT
            && self
                .servers()
                .iter()
                .position(|s| *s == src.0)
                .is_some_and(|i| pending.sent_to & (1 << i) != 0);
        if !from_asked_server {
            self.stats.rx_mismatched += 1;
            net_drop!("dns: dropped: rx_mismatched (source)");
            return;
        }
        let message = match DnsMessage::parse(payload) {
            Ok(message) => message,
            Err(_) => {
                self.stats.rx_malformed += 1;
                net_drop!("dns: dropped: rx_malformed");
                return;
            }
        };
        let header = message.header();
        let mut questions = message.questions();
        let question_matches = questions.next().is_some_and(|q| {
            q.qtype == pending.qtype.record_type()
                && q.qclass == Class::In
                && q.name.matches(pending.name())
        }) && questions.next().is_none();
        if !header.response
            || header.opcode != Opcode::Query
            || header.id != pending.id
            || !question_matches
        {
            self.stats.rx_mismatched += 1;
            net_drop!("dns: dropped: rx_mismatched (id or question)");
            return;
        }
        self.stats.rx_answers += 1;
        if header.truncated {
            self.stats.rx_truncated += 1;
        }
        let result = match header.rcode {
            Rcode::NoError => addresses(&message, pending.qtype).ok_or(if header.truncated {
                ResolveError::Truncated
            } else {
                ResolveError::NoData
            }),
            Rcode::NameError => Err(ResolveError::NameError),
            rcode => {
                let error = if rcode == Rcode::Refused {
                    ResolveError::Refused
                } else {
                    ResolveError::ServerFailure
                };
                // Another server may do better (RFC 1035 7.2): move on at
                // once while attempts remain.
                if pending.attempts < self.config.max_attempts && self.server_count > 1 {
                    pending.server = (pending.server + 1) % self.server_count;
                    pending.send_at = Some(now);
                    self.update(index, pending);
                    return;
                }
                Err(error)
            }
        };
        net_trace!("dns: answer id {:#06x}: {:?}", pending.id, result);
        self.finish(index, result);
    }
}

/// The addresses of type `qtype` for the question's name, following
/// CNAMEs within the answer section; `None` if there are none.
fn addresses(message: &DnsMessage<'_>, qtype: QueryType) -> Option<Answer> {
    let question = message.questions().next()?;
    let mut name: Name<'_> = question.name;
    let mut ttl = u32::MAX;
    // Each hop looks for a CNAME owned by the current name; a chain that
    // loops ends at the hop bound.
    for _ in 0..MAX_CNAME_HOPS {
        let alias = message.answers().find_map(|r| match r.data {
            RecordData::Cname(target) if r.name == name => Some((target, r.ttl)),
            _ => None,
        });
        let Some((target, alias_ttl)) = alias else {
            break;
        };
        name = target;
        ttl = ttl.min(alias_ttl);
    }
    let mut answer = Answer {
        addrs: [IpAddr::V4(crate::wire::ip::Ipv4Addr::UNSPECIFIED); MAX_ADDRESSES],
        len: 0,
        ttl,
    };
    for record in message.answers().filter(|r| r.name == name) {
        let addr = match (record.data, qtype) {
            (RecordData::A(a), QueryType::A) => IpAddr::V4(a),
            (RecordData::Aaaa(a), QueryType::Aaaa) => IpAddr::V6(a),
            _ => continue,
        };
        let Some(slot) = answer.addrs.get_mut(answer.len) else {
            break;
        };
        *slot = addr;
        answer.len += 1;
        answer.ttl = answer.ttl.min(record.ttl);
    }
    (answer.len > 0).then_some(answer)
}

impl<D: Device> udp::Recv<D> for Resolver<'_> {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        let now = datagram.info().timestamp;
        self.poll(now);
        self.handle_datagram(datagram.src(), datagram.dst().1, datagram.payload(), now);
    }
}

impl<D: Device> udp::Send<D> for Resolver<'_> {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let now = raw.info().timestamp;
        self.poll(now);
        let Some(query) = self.due_query(now) else {
            return;
        };
        let handle = query.handle;
        let init = udp::Init {
            src_port: query.src_port,
            dst: (query.server, dns::PORT),
            payload_len: query.len(),
        };
        let outcome = match raw.prepare(init) {
            Ok(mut out) => {
                let written = query.write(out.payload_mut());
                if written == Ok(query.len()) && out.send().is_ok() {
                    Transmission::Sent
                } else {
                    Transmission::Lost
                }
            }
            // The buffer carried an ARP request for the next hop.
            Err(UdpError::Ip(ip::Error::Unresolved)) => Transmission::Deferred,
            Err(_) => Transmission::Lost,
        };
        self.query_transmitted(handle, outcome, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::wire::dns::Section;
    use crate::wire::ip::{Ipv4Addr, Ipv6Addr};
    use crate::wire::pcap::PcapReader;
    use std::string::ToString;
    use std::vec::Vec;

    const S1: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const S2: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
    const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    /// dnsmasq's answers (see `wire::dns`'s tests for the capture):
    /// A host, AAAA host, A www (CNAME), A nx (NXDOMAIN), A multi (two
    /// addresses), AAAA www.
    fn answers() -> Vec<Vec<u8>> {
        PcapReader::new(include_bytes!("../../tests/fixtures/dns-dnsmasq.pcap"))
            .unwrap()
            .skip(1)
            .step_by(2)
            .map(|r| r.unwrap().data[42..].to_vec())
            .collect()
    }

    struct Fixture {
        slots: [QuerySlot; 4],
        ports: [Option<u16>; 8],
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                slots: [QuerySlot::EMPTY; 4],
                ports: [None; 8],
            }
        }

        fn parts(&mut self) -> (Resolver<'_>, udp::Endpoint<'_>) {
            let mut resolver = Resolver::new(&mut self.slots[..], 42);
            resolver.set_servers(&[S1, S2]);
            (resolver, udp::Endpoint::new(&mut self.ports[..], 0))
        }
    }

    /// What went out: the server, the source port and the message.
    struct Sent {
        server: IpAddr,
        port: u16,
        message: Vec<u8>,
    }

    impl Sent {
        fn id(&self) -> u16 {
            u16::from_be_bytes([self.message[0], self.message[1]])
        }

        /// `answer` with this query's id.
        fn answered_by(&self, answer: &[u8]) -> Vec<u8> {
            let mut answer = answer.to_vec();
            answer[..2].copy_from_slice(&self.id().to_be_bytes());
            answer
        }
    }

    /// Sends the due query, if any.
    fn send(resolver: &mut Resolver<'_>, now: Instant) -> Option<Sent> {
        resolver.poll(now);
        let query = resolver.due_query(now)?;
        let mut message = std::vec![0u8; query.len()];
        assert_eq!(query.write(&mut message), Ok(query.len()));
        let (handle, server, port) = (query.handle, query.server, query.src_port);
        resolver.query_transmitted(handle, Transmission::Sent, now);
        Some(Sent {
            server,
            port,
            message,
        })
    }

    /// Starts a query at 1 s and sends it.
    fn ask(
        resolver: &mut Resolver<'_>,
        udp: &mut udp::Endpoint<'_>,
        name: &str,
        qtype: QueryType,
    ) -> (QueryHandle, Sent) {
        let handle = resolver.query(udp, name, qtype, secs(1)).unwrap();
        (handle, send(resolver, secs(1)).unwrap())
    }

    /// An answer to `sent` built with the writer: the question copied,
    /// then `records` (owner, type, ttl, data) in the answer section.
    fn answer_with(
        sent: &Sent,
        header: DnsHeader,
        records: &[(&[u8], RecordType, u32, &[u8])],
    ) -> Vec<u8> {
        let query = DnsMessage::parse(&sent.message).unwrap();
        let question = query.questions().next().unwrap();
        let mut name = [0u8; MAX_NAME_LEN];
        let len = question.name.write_to(&mut name).unwrap();
        let mut buf = std::vec![0u8; 1024];
        let mut writer = MessageWriter::new(
            &mut buf,
            &DnsHeader {
                id: sent.id(),
                ..header
            },
        )
        .unwrap();
        writer
            .question(&name[..len], question.qtype, Class::In)
            .unwrap();
        for &(owner, rtype, ttl, data) in records {
            writer
                .record_in(Section::Answer, owner, rtype, Class::In, ttl, data)
                .unwrap();
        }
        let len = writer.finish();
        buf.truncate(len);
        buf
    }

    const QUESTION: &[u8] = &[0xc0, 12];

    #[test]
    fn queries_go_out_from_their_own_port_with_their_own_id() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let a = resolver
            .query(&mut udp, "host.example.test", QueryType::A, secs(1))
            .unwrap();
        let b = resolver
            .query(&mut udp, "host.example.test.", QueryType::Aaaa, secs(1))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(udp.bound_ports().count(), 2);
        assert_eq!(resolver.next_deadline(), Some(secs(1)));
        let first = send(&mut resolver, secs(1)).unwrap();
        let second = send(&mut resolver, secs(1)).unwrap();
        assert!(send(&mut resolver, secs(1)).is_none());
        assert_eq!(first.server, S1);
        assert_ne!(first.port, second.port);
        assert_ne!(first.id(), second.id());
        assert!(udp.is_bound(first.port) && udp.is_bound(second.port));
        for (sent, qtype) in [(&first, RecordType::A), (&second, RecordType::Aaaa)] {
            let message = DnsMessage::parse(&sent.message).unwrap();
            let header = message.header();
            assert!(!header.response && header.recursion_desired);
            let question = message.questions().next().unwrap();
            assert_eq!(question.name.to_string(), "host.example.test");
            assert_eq!((question.qtype, question.qclass), (qtype, Class::In));
        }
        assert!(resolver.is_pending(a));
        assert_eq!(resolver.result(a), None);
        assert_eq!(resolver.next_deadline(), Some(secs(3)));
        assert_eq!(resolver.stats().tx_queries, 2);
    }

    #[test]
    fn dnsmasq_answers_give_addresses_and_errors() {
        let answers = answers();
        let v6: IpAddr = IpAddr::V6("fd00::5".parse::<Ipv6Addr>().unwrap());
        type Case<'c> = (
            &'c str,
            QueryType,
            usize,
            Result<&'c [IpAddr], ResolveError>,
        );
        let cases: [Case<'_>; 6] = [
            ("host.example.test", QueryType::A, 0, Ok(&[HOST])),
            ("host.example.test", QueryType::Aaaa, 1, Ok(&[v6])),
            ("www.example.test", QueryType::A, 2, Ok(&[HOST])),
            (
                "nx.example.test",
                QueryType::A,
                3,
                Err(ResolveError::NameError),
            ),
            (
                "multi.example.test",
                QueryType::A,
                4,
                Ok(&[
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 6)),
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
                ]),
            ),
            ("WWW.example.TEST", QueryType::Aaaa, 5, Ok(&[v6])),
        ];
        for (name, qtype, answer, expected) in cases {
            let mut fixture = Fixture::new();
            let (mut resolver, mut udp) = fixture.parts();
            let handle = resolver.query(&mut udp, name, qtype, secs(1)).unwrap();
            let sent = send(&mut resolver, secs(1)).unwrap();
            let bytes = sent.answered_by(&answers[answer]);
            resolver.handle_datagram((S1, 53), sent.port, &bytes, secs(1));
            let result = resolver.take(handle, &mut udp).unwrap();
            match expected {
                Ok(addrs) => {
                    let found = result.unwrap();
                    assert_eq!(found.addrs(), addrs, "{name}");
                    assert_eq!(found.ttl(), 300);
                }
                Err(err) => assert_eq!(result, Err(err)),
            }
            // Taken: the slot and port are free, the handle stale.
            assert_eq!(udp.bound_ports().count(), 0);
            assert_eq!(resolver.result(handle), None);
            assert_eq!(resolver.take(handle, &mut udp), None);
            assert_eq!(resolver.next_deadline(), None);
            assert_eq!(resolver.stats().rx_answers, 1);
        }
    }

    #[test]
    fn answers_that_do_not_match_the_query_are_dropped() {
        let answers = answers();
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let (handle, sent) = ask(&mut resolver, &mut udp, "host.example.test", QueryType::A);
        let good = sent.answered_by(&answers[0]);
        let mut wrong_id = good.clone();
        wrong_id[1] ^= 1;
        let mut not_response = good.clone();
        not_response[2] &= 0x7f;
        let mut other_opcode = good.clone();
        other_opcode[2] |= 0x10;
        // The AAAA answer and the answer for another name.
        let other_type = sent.answered_by(&answers[1]);
        let other_name = sent.answered_by(&answers[4]);
        for bytes in [
            &wrong_id,
            &not_response,
            &other_opcode,
            &other_type,
            &other_name,
        ] {
            resolver.handle_datagram((S1, 53), sent.port, bytes, secs(1));
        }
        // Right bytes, wrong source: another address, another port, and a
        // configured server the query did not go to yet.
        let stranger = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));
        resolver.handle_datagram((stranger, 53), sent.port, &good, secs(1));
        resolver.handle_datagram((S1, 5353), sent.port, &good, secs(1));
        resolver.handle_datagram((S2, 53), sent.port, &good, secs(1));
        assert_eq!(resolver.stats().rx_mismatched, 8);
        // A port that is not a query's is someone else's business.
        resolver.handle_datagram((S1, 53), sent.port.wrapping_add(1), &good, secs(1));
        assert_eq!(resolver.stats().rx_mismatched, 8);
        assert!(resolver.is_pending(handle));
        // The real answer still gets through.
        resolver.handle_datagram((S1, 53), sent.port, &good, secs(1));
        assert_eq!(resolver.result(handle).unwrap().unwrap().addrs(), &[HOST]);
        // A late copy finds the query over.
        resolver.handle_datagram((S1, 53), sent.port, &good, secs(1));
        assert_eq!(resolver.stats().rx_unexpected, 1);
        assert_eq!(resolver.stats().rx_answers, 1);
    }

    #[test]
    fn malformed_answers_are_dropped_and_the_query_waits() {
        let answers = answers();
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let (handle, sent) = ask(&mut resolver, &mut udp, "www.example.test", QueryType::A);
        let good = sent.answered_by(&answers[2]);
        // Cut short, and with the CNAME's pointer turned into a loop.
        let mut looping = good.clone();
        let at = good.len() - 16;
        looping[at..at + 2].copy_from_slice(&[0xc0, at as u8]);
        for bytes in [&good[..good.len() - 1], &good[..11], &looping[..]] {
            resolver.handle_datagram((S1, 53), sent.port, bytes, secs(1));
        }
        assert_eq!(resolver.stats().rx_malformed, 3);
        assert!(resolver.is_pending(handle));
        resolver.handle_datagram((S1, 53), sent.port, &good, secs(2));
        assert_eq!(resolver.result(handle).unwrap().unwrap().addrs(), &[HOST]);
    }

    #[test]
    fn unanswered_queries_rotate_servers_back_off_and_time_out() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let handle = resolver
            .query(&mut udp, "slow.test", QueryType::A, secs(10))
            .unwrap();
        let mut now = secs(10);
        let mut trail = Vec::new();
        while let Some(sent) = send(&mut resolver, now) {
            trail.push((now, sent.server, sent.id(), sent.port));
            now = resolver.next_deadline().unwrap();
        }
        let times: Vec<Instant> = trail.iter().map(|t| t.0).collect();
        assert_eq!(times, [secs(10), secs(12), secs(16), secs(24)]);
        let servers: Vec<IpAddr> = trail.iter().map(|t| t.1).collect();
        assert_eq!(servers, [S1, S2, S1, S2]);
        // The same id and port each time.
        assert!(trail.iter().all(|t| (t.2, t.3) == (trail[0].2, trail[0].3)));
        assert_eq!(now, secs(32));
        assert_eq!(resolver.result(handle), Some(Err(ResolveError::Timeout)));
        let stats = resolver.stats();
        assert_eq!(
            (stats.tx_queries, stats.tx_retransmissions, stats.timeouts),
            (4, 3, 1)
        );
        assert_eq!(resolver.next_deadline(), None);
        // The port stays bound until the result is taken.
        assert_eq!(udp.bound_ports().count(), 1);
        assert!(resolver.take(handle, &mut udp).is_some());
        assert_eq!(udp.bound_ports().count(), 0);
    }

    #[test]
    fn an_answer_from_the_second_server_counts_once_it_was_asked() {
        let answers = answers();
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let handle = resolver
            .query(&mut udp, "host.example.test", QueryType::A, secs(1))
            .unwrap();
        let first = send(&mut resolver, secs(1)).unwrap();
        let second = send(&mut resolver, secs(3)).unwrap();
        assert_eq!(second.server, S2);
        // The first server's late answer is still welcome.
        resolver.handle_datagram(
            (S1, 53),
            first.port,
            &first.answered_by(&answers[0]),
            secs(4),
        );
        assert!(resolver.result(handle).unwrap().is_ok());
    }

    #[test]
    fn server_failure_moves_to_the_next_server_at_once() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let (handle, sent) = ask(&mut resolver, &mut udp, "a.test", QueryType::A);
        let failed = DnsHeader {
            rcode: Rcode::ServerFailure,
            ..DnsHeader::response(0)
        };
        resolver.handle_datagram(
            (S1, 53),
            sent.port,
            &answer_with(&sent, failed, &[]),
            secs(1),
        );
        assert!(resolver.is_pending(handle));
        let again = send(&mut resolver, secs(1)).unwrap();
        assert_eq!(again.server, S2);
        let ok = answer_with(
            &again,
            DnsHeader::response(0),
            &[(QUESTION, RecordType::A, 60, &[10, 0, 0, 5])],
        );
        resolver.handle_datagram((S2, 53), again.port, &ok, secs(1));
        let answer = resolver.result(handle).unwrap().unwrap();
        assert_eq!((answer.addrs(), answer.ttl()), (&[HOST][..], 60));

        // With one server, a refusal is the result.
        resolver.set_servers(&[S1]);
        let (handle, sent) = ask(&mut resolver, &mut udp, "b.test", QueryType::A);
        let refused = DnsHeader {
            rcode: Rcode::Refused,
            ..DnsHeader::response(0)
        };
        resolver.handle_datagram(
            (S1, 53),
            sent.port,
            &answer_with(&sent, refused, &[]),
            secs(1),
        );
        assert_eq!(resolver.result(handle), Some(Err(ResolveError::Refused)));
    }

    #[test]
    fn cname_chains_are_followed_within_bounds() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let (a, sent) = ask(&mut resolver, &mut udp, "a.test", QueryType::A);
        // a -> b -> c, c has the address; TTLs 100, 50, 200: 50 wins. A
        // record of another name is not taken.
        let answer = answer_with(
            &sent,
            DnsHeader::response(0),
            &[
                (QUESTION, RecordType::Cname, 100, b"\x01b\x04test\x00"),
                (b"\x01c\x04test\x00", RecordType::A, 200, &[10, 0, 0, 9]),
                (
                    b"\x01b\x04test\x00",
                    RecordType::Cname,
                    50,
                    b"\x01c\x04test\x00",
                ),
                (b"\x01x\x04test\x00", RecordType::A, 1, &[10, 0, 0, 1]),
            ],
        );
        resolver.handle_datagram((S1, 53), sent.port, &answer, secs(1));
        let found = resolver.take(a, &mut udp).unwrap().unwrap();
        assert_eq!(found.addrs(), &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9))]);
        assert_eq!(found.ttl(), 50);

        // a -> b -> a: a loop ends at the hop bound with no data.
        let (loop_query, sent) = ask(&mut resolver, &mut udp, "a.test", QueryType::A);
        let answer = answer_with(
            &sent,
            DnsHeader::response(0),
            &[
                (QUESTION, RecordType::Cname, 100, b"\x01b\x04test\x00"),
                (b"\x01b\x04test\x00", RecordType::Cname, 100, QUESTION),
            ],
        );
        resolver.handle_datagram((S1, 53), sent.port, &answer, secs(1));
        assert_eq!(
            resolver.take(loop_query, &mut udp),
            Some(Err(ResolveError::NoData))
        );
    }

    #[test]
    fn truncated_and_empty_answers() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let truncated = DnsHeader {
            truncated: true,
            ..DnsHeader::response(0)
        };
        // Truncated without an address: an error; with one: taken.
        let (bare, sent) = ask(&mut resolver, &mut udp, "big.test", QueryType::A);
        resolver.handle_datagram(
            (S1, 53),
            sent.port,
            &answer_with(&sent, truncated, &[]),
            secs(1),
        );
        assert_eq!(
            resolver.take(bare, &mut udp),
            Some(Err(ResolveError::Truncated))
        );
        let (some, sent) = ask(&mut resolver, &mut udp, "big.test", QueryType::A);
        let answer = answer_with(
            &sent,
            truncated,
            &[(QUESTION, RecordType::A, 9, &[10, 0, 0, 5])],
        );
        resolver.handle_datagram((S1, 53), sent.port, &answer, secs(1));
        assert_eq!(
            resolver.take(some, &mut udp).unwrap().unwrap().addrs(),
            &[HOST]
        );
        assert_eq!(resolver.stats().rx_truncated, 2);
        // No error, but only an AAAA for an A query: no data.
        let (empty, sent) = ask(&mut resolver, &mut udp, "v6only.test", QueryType::A);
        let answer = answer_with(
            &sent,
            DnsHeader::response(0),
            &[(QUESTION, RecordType::Aaaa, 9, &[0; 16])],
        );
        resolver.handle_datagram((S1, 53), sent.port, &answer, secs(1));
        assert_eq!(
            resolver.take(empty, &mut udp),
            Some(Err(ResolveError::NoData))
        );
    }

    #[test]
    fn at_most_eight_addresses_are_kept() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let (handle, sent) = ask(&mut resolver, &mut udp, "many.test", QueryType::A);
        let octets: Vec<[u8; 4]> = (1..=12).map(|i| [10, 0, 1, i]).collect();
        let records: Vec<(&[u8], RecordType, u32, &[u8])> = octets
            .iter()
            .map(|o| (QUESTION, RecordType::A, 60, &o[..]))
            .collect();
        resolver.handle_datagram(
            (S1, 53),
            sent.port,
            &answer_with(&sent, DnsHeader::response(0), &records),
            secs(1),
        );
        let answer = resolver.take(handle, &mut udp).unwrap().unwrap();
        assert_eq!(answer.addrs().len(), MAX_ADDRESSES);
        assert_eq!(answer.addrs()[7], IpAddr::V4(Ipv4Addr::new(10, 0, 1, 8)));
    }

    #[test]
    fn queries_that_cannot_start() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        for bad in ["", ".", "a..b", &"x".repeat(64)] {
            assert_eq!(
                resolver.query(&mut udp, bad, QueryType::A, secs(1)),
                Err(QueryError::BadName)
            );
        }
        for _ in 0..4 {
            resolver
                .query(&mut udp, "a.test", QueryType::A, secs(1))
                .unwrap();
        }
        assert_eq!(
            resolver.query(&mut udp, "a.test", QueryType::A, secs(1)),
            Err(QueryError::TableFull)
        );
        assert_eq!(udp.bound_ports().count(), 4);

        let mut fixture = Fixture::new();
        let (mut resolver, _) = fixture.parts();
        let mut no_ports = udp::Endpoint::new(&mut [][..], 0);
        assert_eq!(
            resolver.query(&mut no_ports, "a.test", QueryType::A, secs(1)),
            Err(QueryError::Udp(UdpError::TableFull))
        );
        assert_eq!(resolver.set_servers(&[]), 0);
        assert_eq!(
            resolver.query(&mut no_ports, "a.test", QueryType::A, secs(1)),
            Err(QueryError::NoServers)
        );
        // Unspecified servers are skipped, and at most three are kept.
        let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(resolver.set_servers(&[unspecified, S1, S2, S1, S2]), 3);
        assert_eq!(resolver.servers(), &[S1, S2, S1]);
    }

    #[test]
    fn cancel_frees_and_stale_handles_are_refused() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let first = resolver
            .query(&mut udp, "a.test", QueryType::A, secs(1))
            .unwrap();
        assert!(resolver.cancel(first, &mut udp));
        assert!(!resolver.cancel(first, &mut udp));
        assert_eq!(udp.bound_ports().count(), 0);
        assert_eq!(resolver.next_deadline(), None);
        // The slot is reused; the old handle does not reach the new query.
        let second = resolver
            .query(&mut udp, "b.test", QueryType::A, secs(1))
            .unwrap();
        assert!(!resolver.is_pending(first));
        assert!(resolver.is_pending(second));
        assert!(!resolver.cancel(first, &mut udp));
    }

    #[test]
    fn deferred_sends_wait_a_moment_without_using_an_attempt() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let handle = resolver
            .query(&mut udp, "a.test", QueryType::A, secs(1))
            .unwrap();
        resolver.query_transmitted(handle, Transmission::Deferred, secs(1));
        assert_eq!(resolver.next_deadline(), Some(secs(1) + UNRESOLVED_RETRY));
        assert!(resolver.due_query(secs(1)).is_none());
        let sent = send(&mut resolver, secs(1) + UNRESOLVED_RETRY).unwrap();
        assert_eq!(sent.server, S1);
        // A lost transmission uses its attempt and waits like a sent one.
        let other = resolver
            .query(&mut udp, "b.test", QueryType::A, secs(1))
            .unwrap();
        resolver.query_transmitted(other, Transmission::Lost, secs(1));
        assert_eq!(resolver.stats().tx_errors, 1);
        assert!(resolver.due_query(secs(2)).is_none());
        resolver.poll(secs(3));
        assert_eq!(resolver.due_query(secs(3)).map(|q| q.server), Some(S2));
    }

    #[test]
    fn emptying_the_server_list_ends_waiting_queries() {
        let mut fixture = Fixture::new();
        let (mut resolver, mut udp) = fixture.parts();
        let handle = resolver
            .query(&mut udp, "a.test", QueryType::A, secs(1))
            .unwrap();
        resolver.set_servers(&[]);
        assert!(resolver.due_query(secs(1)).is_none());
        resolver.poll(secs(1));
        assert_eq!(resolver.result(handle), Some(Err(ResolveError::NoServers)));
    }

    #[test]
    fn errors_display() {
        assert_eq!(ResolveError::NameError.to_string(), "no such name");
        assert_eq!(
            QueryError::Udp(UdpError::TableFull).to_string(),
            "udp: port table full"
        );
        let slot = QuerySlot::EMPTY;
        assert_eq!(std::format!("{slot:?}"), "QuerySlot(free, port 0)");
    }
}
