//! The TCP layer: connections whose data lives in the application's
//! buffers.
//!
//! An [`Endpoint`] holds the connection table (caller storage, looked up
//! in O(1) by a keyed hash of the four-tuple), the listening ports with
//! their backlogs, the secrets for initial sequence numbers (RFC 6528) and
//! SYN cookies (RFC 4987), and the layer's counters. Each connection is a
//! [`Connection`]: sequence state and timers, no
//! bytes.
//!
//! The bytes live with the application, which implements [`Io`]: for a
//! connection's [`Handle`] it lends a [`SendBuffer`]
//! (which can produce any unacknowledged byte again, so retransmissions
//! read from it) and a [`RecvBuffer`] (which takes
//! data straight from the frame, out of order too if it keeps an
//! assembler). [`buffer`] has ready-made ones. The application also hears
//! what happened through [`Io::event`].
//!
//! ```text
//! nic.rx(32, eth.recv(ip.recv(tcp.recv(&mut app))))?;
//! nic.tx(32, eth.send(ip.send(tcp.send(&mut app))))?;
//! ```
//!
//! * [`Endpoint::listen`] opens a port with a backlog: a SYN creates a
//!   connection in SYN-RECEIVED (the application hears
//!   [`Event::Incoming`] and sets up its buffers for that handle). When
//!   the backlog is full, SYNs are answered with SYN cookies and a valid
//!   cookie in the final ACK creates the connection, so a SYN flood cannot
//!   deny service. [`Endpoint::accept`] takes established connections in
//!   arrival order.
//! * [`Endpoint::connect`] opens actively.
//! * Segments for no connection are answered with a RST (RFC 9293
//!   3.10.7.1), built in place in the received frame.
//! * [`Endpoint::next_deadline`] says when the earliest timer of any
//!   connection runs out.
//!
//! # Example
//!
//! See `examples/loopback.rs` and the crate documentation for two hosts
//! moving data; `ethox/tests/tcp.rs` for every rule.

pub mod buffer;
pub mod congestion;
pub mod connection;
mod icmp_error;
pub mod isn;
pub mod rtt;
pub mod syn_cookie;
pub mod table;

use core::fmt;

use self::buffer::{RecvBuffer, SendBuffer};
use self::congestion::{Congestion, CongestionControl};
use self::connection::{CloseReason, Config, Connection, Reaction, State, Transmit};
use self::isn::IsnGenerator;
use self::syn_cookie::{CookieOptions, SynCookies};
pub use self::table::{ConnectionTable, FourTuple, Handle, Slot};
use crate::layer::ip;
use crate::managed::Slice;
use crate::nic::Device;
use crate::time::Instant;
use crate::wire::Error as WireError;
use crate::wire::ip::{IpAddr, IpProtocol};
use crate::wire::ipv4::Ecn;
use crate::wire::ipv4::HEADER_LEN as IPV4_HEADER_LEN;
use crate::wire::ipv6::HEADER_LEN as IPV6_HEADER_LEN;
use crate::wire::tcp::{TcpFlags, TcpPacket, TcpRepr};

/// The first port of the ephemeral range (RFC 6335).
pub const EPHEMERAL_FIRST: u16 = 0xc000;

/// What the application lends the TCP layer: each connection's buffers,
/// and an ear for what happens.
pub trait Io {
    /// The buffers of connection `conn`, or `None` if the application has
    /// none for it (it then receives nothing: its window is closed).
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>>;

    /// Something happened to `conn`. After [`Event::Closed`] the handle is
    /// dead and its table slot free.
    fn event(&mut self, conn: Handle, event: Event) {
        let _ = (conn, event);
    }
}

impl<T: Io + ?Sized> Io for &mut T {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        (**self).buffers(conn)
    }

    fn event(&mut self, conn: Handle, event: Event) {
        (**self).event(conn, event)
    }
}

/// A connection's two buffers, lent by [`Io::buffers`].
pub struct Buffers<'b> {
    /// The bytes to send.
    pub send: &'b mut dyn SendBuffer,
    /// Where received bytes go.
    pub recv: &'b mut dyn RecvBuffer,
}

/// What the TCP layer tells the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A SYN to a listening port created this connection: set up its
    /// buffers (it is not established yet).
    Incoming,
    /// The handshake completed.
    Established,
    /// New in-order data is in the receive buffer.
    Readable,
    /// Acknowledged data left the send buffer.
    Writable,
    /// The peer closed its direction: no more data will come.
    PeerClosed,
    /// The connection is over; the handle is no longer valid.
    Closed(CloseReason),
}

/// Why a TCP call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TcpError {
    /// Port 0 where a real port is needed.
    BadPort,
    /// The port is listened on already.
    InUse,
    /// The connection table (or the listener table) is full.
    TableFull,
    /// Every ephemeral port is taken for that destination.
    Exhausted,
    /// A connection with this four-tuple exists.
    Exists,
    /// No such connection (closed, or a stale handle).
    NoConnection,
    /// The addresses are of different families, or unspecified.
    BadAddress,
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcpError::BadPort => "port 0 is not allowed",
            TcpError::InUse => "port already listened on",
            TcpError::TableFull => "table full",
            TcpError::Exhausted => "no free ephemeral port",
            TcpError::Exists => "connection exists",
            TcpError::NoConnection => "no such connection",
            TcpError::BadAddress => "bad address pair",
        })
    }
}

impl core::error::Error for TcpError {}

/// Counters of the TCP layer (per connection counters are in
/// [`ConnectionStats`](connection::ConnectionStats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpStats {
    /// Segments handed to a connection or listener.
    pub rx_segments: u64,
    /// Segments with a wrong checksum.
    pub rx_bad_checksum: u64,
    /// Segments shorter than their headers say.
    pub rx_truncated: u64,
    /// Segments with a malformed header or option, or port 0.
    pub rx_malformed: u64,
    /// Segments to a broadcast or multicast address (RFC 1122 4.2.3.10).
    pub rx_not_unicast: u64,
    /// Segments for no connection or listener (answered with a RST unless
    /// they were RSTs).
    pub rx_no_connection: u64,
    /// SYNs to a listener refused because the connection table was full
    /// and SYN cookies could not help.
    pub rx_syn_dropped: u64,
    /// Path MTU messages (ICMP fragmentation needed, packet too big) that
    /// shrank a connection's segments.
    pub rx_path_mtu: u64,
    /// Path MTU messages for no connection, or quoting a sequence number
    /// not in flight (RFC 5927: possibly forged).
    pub rx_icmp_ignored: u64,
    /// RSTs sent for segments that reached no connection.
    pub tx_resets: u64,
    /// Segments queued.
    pub tx_segments: u64,
    /// Segments that could not be built or queued (deferrals while the
    /// next hop is resolved are not counted).
    pub tx_errors: u64,
    /// SYN-ACKs sent with a SYN cookie (the backlog was full).
    pub syn_cookies_sent: u64,
    /// Connections created from a valid cookie.
    pub syn_cookies_accepted: u64,
    /// ACKs to a listener whose cookie did not verify (answered with RST).
    pub syn_cookies_rejected: u64,
    /// Connections opened (both ways).
    pub opened: u64,
    /// Connections closed, whatever the reason.
    pub closed: u64,
    /// TIME-WAIT connections ended early to make room for a connection a
    /// peer opened while the table was full (also counted in `closed`).
    pub time_wait_reused: u64,
}

/// A listening port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Listener {
    /// The port; 0 marks a free slot.
    port: u16,
    /// Connections not yet accepted (half-open or established) at most.
    backlog: u32,
    /// Connections not yet accepted now.
    pending: u32,
}

impl Listener {
    /// A free listener slot, for storage.
    pub const EMPTY: Listener = Listener {
        port: 0,
        backlog: 0,
        pending: 0,
    };
}

impl TcpStats {
    /// Counts a segment that did not parse. Out of line, as are the other
    /// drop counters: the receive fast path stays compact.
    #[cold]
    #[inline(never)]
    fn count_malformed(&mut self, err: WireError) {
        match err {
            WireError::BadChecksum => self.rx_bad_checksum += 1,
            WireError::Truncated | WireError::BadLength => self.rx_truncated += 1,
            _ => self.rx_malformed += 1,
        }
    }

    /// Counts a segment to a broadcast or multicast address.
    #[cold]
    #[inline(never)]
    fn count_not_unicast(&mut self) {
        self.rx_not_unicast += 1;
    }

    /// Counts a segment that could not be built or sent.
    #[cold]
    #[inline(never)]
    fn count_tx_error(&mut self) {
        self.tx_errors += 1;
    }
}

/// A table entry: the connection and what the endpoint tracks about it.
#[derive(Debug, Clone)]
pub struct Entry<C = Congestion> {
    conn: Connection<C>,
    /// Created by a listener and not yet accepted.
    unaccepted: bool,
    /// Order of arrival, for accept.
    serial: u64,
}

/// The persistent state of the TCP layer.
pub struct Endpoint<'a, C = Congestion> {
    table: ConnectionTable<'a, Entry<C>>,
    listeners: Slice<'a, Listener>,
    isn: IsnGenerator,
    cookies: SynCookies,
    config: Config,
    new_cc: fn(&Config) -> C,
    ephemeral: u16,
    serial: u64,
    /// Where the send path looks first (round robin).
    cursor: usize,
    /// The connection the last segment went to: a stream's segments come
    /// in runs, and comparing the tuple is cheaper than hashing it.
    recent: Option<Handle>,
    stats: TcpStats,
}

impl<C> fmt::Debug for Endpoint<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("connections", &self.table.len())
            .field("capacity", &self.table.capacity())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The secrets an endpoint is keyed with. Draw them from a good random
/// source at start-up; the stack has none of its own.
#[derive(Clone, Copy)]
pub struct Secrets {
    /// Keys initial sequence numbers (RFC 6528).
    pub isn: [u8; 16],
    /// Keys SYN cookies (RFC 4987).
    pub cookies: [u8; 16],
    /// Keys the connection table's hash (so a peer cannot force
    /// collisions).
    pub table: [u8; 16],
    /// Where ephemeral ports start (RFC 6056).
    pub ephemeral: u16,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

impl Secrets {
    /// Secrets derived from one 64-bit seed by a fixed mixing function:
    /// for tests and demos, where reproducible runs matter more than
    /// secrecy. Real hosts use random bytes.
    pub fn from_seed(seed: u64) -> Secrets {
        let mut state = seed ^ 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            // splitmix64
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut key = || {
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&next().to_le_bytes());
            k[8..].copy_from_slice(&next().to_le_bytes());
            k
        };
        let (isn, cookies, table) = (key(), key(), key());
        // From the mixed state like the keys: the seed's own top bits are
        // the same for seeds that differ in their low bits (a clock, a
        // process id), and every run would start at the same port.
        let ephemeral = (next() >> 48) as u16;
        Secrets {
            isn,
            cookies,
            table,
            ephemeral,
        }
    }
}

impl<'a> Endpoint<'a, Congestion> {
    /// An endpoint with connection storage `connections`, listener storage
    /// `listeners`, and the secrets. Connections use `config` (and its
    /// congestion control algorithm).
    pub fn new(
        connections: impl Into<Slice<'a, Slot<Entry>>>,
        listeners: impl Into<Slice<'a, Listener>>,
        secrets: Secrets,
        config: Config,
    ) -> Self {
        Self::with_congestion(connections, listeners, secrets, config, |config| {
            Congestion::new(config.congestion, usize::from(config.mss))
        })
    }
}

impl<'a, C: CongestionControl> Endpoint<'a, C> {
    /// [`Endpoint::new`] with congestion control of the caller's: `new_cc`
    /// makes one controller per connection.
    pub fn with_congestion(
        connections: impl Into<Slice<'a, Slot<Entry<C>>>>,
        listeners: impl Into<Slice<'a, Listener>>,
        secrets: Secrets,
        config: Config,
        new_cc: fn(&Config) -> C,
    ) -> Self {
        Endpoint {
            table: ConnectionTable::new(connections, secrets.table),
            listeners: listeners.into(),
            isn: IsnGenerator::new(secrets.isn),
            cookies: SynCookies::new(secrets.cookies),
            config,
            new_cc,
            ephemeral: secrets.ephemeral,
            serial: 0,
            cursor: 0,
            recent: None,
            stats: TcpStats::default(),
        }
    }

    /// The layer's counters.
    pub fn stats(&self) -> TcpStats {
        self.stats
    }

    /// The configuration new connections get.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the configuration of connections created from now on.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// The number of connections in the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// A connection.
    pub fn connection(&self, conn: Handle) -> Option<&Connection<C>> {
        self.table.get(conn).map(|e| &e.conn)
    }

    /// A connection, to change its settings ([`Connection::set_nagle`],
    /// ...) or close it.
    pub fn connection_mut(&mut self, conn: Handle) -> Option<&mut Connection<C>> {
        self.table.get_mut(conn).map(|e| &mut e.conn)
    }

    /// A connection's addresses and ports.
    pub fn tuple(&self, conn: Handle) -> Option<FourTuple> {
        self.table.tuple(conn)
    }

    /// The connections, with their handles and four-tuples.
    pub fn connections(&self) -> impl Iterator<Item = (Handle, &FourTuple, &Connection<C>)> + '_ {
        self.table.iter().map(|(h, t, e)| (h, t, &e.conn))
    }

    /// The state of a connection (`Closed` for a dead handle).
    pub fn state(&self, conn: Handle) -> State {
        self.connection(conn)
            .map_or(State::Closed, Connection::state)
    }

    /// Closes the sending direction of `conn` after its queued data
    /// (RFC 9293 CLOSE).
    pub fn close(&mut self, conn: Handle) -> Result<(), TcpError> {
        self.connection_mut(conn)
            .ok_or(TcpError::NoConnection)?
            .close();
        Ok(())
    }

    /// Resets `conn` (RFC 9293 ABORT).
    pub fn abort(&mut self, conn: Handle) -> Result<(), TcpError> {
        self.connection_mut(conn)
            .ok_or(TcpError::NoConnection)?
            .abort();
        Ok(())
    }

    /// Listens on `port` with room for `backlog` connections not yet
    /// accepted; beyond it, SYN cookies answer.
    pub fn listen(&mut self, port: u16, backlog: usize) -> Result<(), TcpError> {
        if port == 0 {
            return Err(TcpError::BadPort);
        }
        if self.listeners.iter().any(|l| l.port == port) {
            return Err(TcpError::InUse);
        }
        let slot = self
            .listeners
            .iter_mut()
            .find(|l| l.port == 0)
            .ok_or(TcpError::TableFull)?;
        *slot = Listener {
            port,
            backlog: u32::try_from(backlog).unwrap_or(u32::MAX),
            pending: 0,
        };
        Ok(())
    }

    /// Stops listening on `port` (connections it created live on);
    /// `false` if it was not listened on.
    pub fn unlisten(&mut self, port: u16) -> bool {
        match self
            .listeners
            .iter_mut()
            .find(|l| l.port == port && port != 0)
        {
            Some(l) => {
                *l = Listener::EMPTY;
                true
            }
            None => false,
        }
    }

    /// The oldest established connection to listening port `port` that
    /// was not accepted yet.
    pub fn accept(&mut self, port: u16) -> Option<Handle> {
        let (handle, _) = self
            .table
            .iter()
            .filter(|(_, t, e)| {
                e.unaccepted && t.local_port == port && e.conn.state() != State::SynReceived
            })
            .map(|(h, _, e)| (h, e.serial))
            .min_by_key(|&(_, serial)| serial)?;
        if let Some(entry) = self.table.get_mut(handle) {
            entry.unaccepted = false;
        }
        if let Some(l) = self.listeners.iter_mut().find(|l| l.port == port) {
            l.pending = l.pending.saturating_sub(1);
        }
        Some(handle)
    }

    /// Opens a connection from `local` (address, and port or 0 for an
    /// ephemeral one) to `remote`, at `now`. The SYN goes out with the
    /// next send.
    pub fn connect(
        &mut self,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        now: Instant,
    ) -> Result<Handle, TcpError> {
        if remote.1 == 0 {
            return Err(TcpError::BadPort);
        }
        if local.0.is_ipv4() != remote.0.is_ipv4()
            || local.0.is_unspecified()
            || remote.0.is_unspecified()
        {
            return Err(TcpError::BadAddress);
        }
        if self.table.is_full() {
            return Err(TcpError::TableFull);
        }
        let mut tuple = FourTuple {
            local: local.0,
            local_port: local.1,
            remote: remote.0,
            remote_port: remote.1,
        };
        if tuple.local_port == 0 {
            tuple.local_port = self.free_ephemeral(tuple).ok_or(TcpError::Exhausted)?;
        }
        let iss = self.isn.isn(&tuple, now);
        let cc = (self.new_cc)(&self.config);
        let conn = Connection::connect_with(
            tuple.local_port,
            tuple.remote_port,
            iss,
            now,
            self.config_for(&tuple),
            cc,
        );
        let handle = self.insert(tuple, conn, false)?;
        Ok(handle)
    }

    /// The configuration of a connection on `tuple`. `config.mss` is what
    /// an IPv4 packet carries; IPv6's header is 20 bytes longer (RFC 8200
    /// section 5, RFC 6691), so an IPv6 connection announces less.
    fn config_for(&self, tuple: &FourTuple) -> Config {
        let mut config = self.config;
        if !tuple.remote.is_ipv4() {
            let extra = (IPV6_HEADER_LEN - IPV4_HEADER_LEN) as u16;
            config.mss = config.mss.saturating_sub(extra);
        }
        config
    }

    fn free_ephemeral(&mut self, mut tuple: FourTuple) -> Option<u16> {
        for _ in 0..=0x3fffu32 {
            let port = EPHEMERAL_FIRST | (self.ephemeral & 0x3fff);
            self.ephemeral = self.ephemeral.wrapping_add(1);
            tuple.local_port = port;
            let listened = self.listeners.iter().any(|l| l.port == port);
            if !listened && self.table.find(&tuple).is_none() {
                return Some(port);
            }
        }
        None
    }

    fn insert(
        &mut self,
        tuple: FourTuple,
        conn: Connection<C>,
        unaccepted: bool,
    ) -> Result<Handle, TcpError> {
        self.serial += 1;
        let entry = Entry {
            conn,
            unaccepted,
            serial: self.serial,
        };
        match self.table.insert(tuple, entry) {
            Ok(handle) => {
                self.stats.opened += 1;
                Ok(handle)
            }
            Err(table::TableError::Full) => Err(TcpError::TableFull),
            Err(_) => Err(TcpError::Exists),
        }
    }

    /// A path MTU message about one of our segments.
    fn on_path_mtu(&mut self, mtu: icmp_error::PathMtu) {
        let Some(handle) = self.table.find(&mtu.tuple) else {
            self.stats.rx_icmp_ignored += 1;
            return;
        };
        let accepted = self
            .table
            .get_mut(handle)
            .is_some_and(|e| e.conn.on_packet_too_big(mtu.seq, mtu.payload));
        if accepted {
            self.stats.rx_path_mtu += 1;
        } else {
            self.stats.rx_icmp_ignored += 1;
        }
    }

    /// When the earliest timer of any connection runs out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.table
            .iter()
            .filter_map(|(_, _, e)| e.conn.next_deadline())
            .min()
    }

    /// An IP-layer handler that gives TCP segments to their connections
    /// and listeners and drops other protocols.
    pub fn recv<A: Io>(&mut self, io: A) -> Receiver<'_, 'a, A, C, Discard> {
        self.recv_or(io, Discard)
    }

    /// Like [`recv`](Self::recv), but packets of other protocols go on to
    /// `next`, unchanged.
    pub fn recv_or<A: Io, N>(&mut self, io: A, next: N) -> Receiver<'_, 'a, A, C, N> {
        Receiver {
            endpoint: self,
            io,
            next,
        }
    }

    /// An IP-layer sender that sends what the connections have to send.
    pub fn send<A: Io>(&mut self, io: A) -> Sender<'_, 'a, A, C> {
        Sender {
            endpoint: self,
            io,
            idle: false,
            settled: None,
        }
    }

    /// Makes room in a full table for a connection a peer opens: the
    /// TIME-WAIT connection nearest its end goes (its application hears
    /// that it closed normally). TIME-WAIT only keeps a finished
    /// connection to answer a repeated FIN; holding slots with it would
    /// turn a busy server's own closes into refusals (a table of 16 would
    /// take 16 new connections a minute). Returns whether there is room.
    fn make_room<A: Io>(&mut self, io: &mut A) -> bool {
        if !self.table.is_full() {
            return true;
        }
        let oldest = self
            .table
            .iter()
            .filter(|(_, _, e)| e.conn.state() == State::TimeWait)
            .min_by_key(|(_, _, e)| e.conn.next_deadline())
            .map(|(h, _, _)| h);
        let Some(handle) = oldest else {
            return false;
        };
        self.stats.time_wait_reused += 1;
        self.reap(handle, io);
        !self.table.is_full()
    }

    /// Removes a finished connection and tells the application. Out of
    /// line: once per connection, not per segment.
    #[cold]
    #[inline(never)]
    fn reap<A: Io>(&mut self, handle: Handle, io: &mut A) {
        if let Some(entry) = self.table.remove(handle) {
            self.stats.closed += 1;
            let port = entry.conn.local_port();
            if let Some(l) = self
                .listeners
                .iter_mut()
                .find(|l| entry.unaccepted && l.port == port)
            {
                l.pending = l.pending.saturating_sub(1);
            }
            let reason = entry.conn.close_reason().unwrap_or(CloseReason::Normal);
            io.event(handle, Event::Closed(reason));
        }
    }

    /// A segment that matched no connection. Out of line (with the
    /// listener, SYN and cookie paths it reaches): the established fast
    /// path stays compact.
    #[cold]
    #[inline(never)]
    fn on_unmatched<D: Device, A: Io>(
        &mut self,
        packet: ip::In<'_, '_, D>,
        tuple: FourTuple,
        repr: TcpRepr,
        io: &mut A,
    ) {
        let now = packet.info().timestamp;
        let listener = self
            .listeners
            .iter()
            .position(|l| l.port == repr.dst_port && l.port != 0);
        let flags = repr.flags;
        if let Some(index) = listener {
            if flags.contains(TcpFlags::SYN)
                && !flags.contains(TcpFlags::RST)
                && repr.ack_number.is_none()
            {
                return self.on_syn(packet, tuple, repr, index, io, now);
            }
            if !flags.intersects(TcpFlags::SYN | TcpFlags::RST) && repr.ack_number.is_some() {
                if let Some(handle) = self.on_cookie_ack(&packet, tuple, &repr, index, now, io) {
                    self.stats.rx_segments += 1;
                    io.event(handle, Event::Incoming);
                    io.event(handle, Event::Established);
                    let payload = tcp_payload(packet.payload(), &repr);
                    self.deliver(handle, &repr, payload, now, io);
                    return;
                }
                self.stats.syn_cookies_rejected += 1;
            }
        }
        self.stats.rx_no_connection += 1;
        if !flags.contains(TcpFlags::RST) {
            self.send_reset(packet, &repr);
        }
    }

    /// A SYN to listener `index`.
    fn on_syn<D: Device, A: Io>(
        &mut self,
        packet: ip::In<'_, '_, D>,
        tuple: FourTuple,
        syn: TcpRepr,
        index: usize,
        io: &mut A,
        now: Instant,
    ) {
        let room = self
            .listeners
            .get(index)
            .is_some_and(|l| l.pending < l.backlog);
        if room && self.make_room(io) {
            let iss = self.isn.isn(&tuple, now);
            let cc = (self.new_cc)(&self.config);
            let conn = Connection::accept_with(&syn, iss, now, self.config_for(&tuple), cc);
            if let Ok(handle) = self.insert(tuple, conn, true) {
                if let Some(l) = self.listeners.get_mut(index) {
                    l.pending = l.pending.saturating_add(1);
                }
                self.stats.rx_segments += 1;
                io.event(handle, Event::Incoming);
                return;
            }
        }
        // The backlog (or the table) is full: answer statelessly.
        self.send_cookie(packet, tuple, &syn, now);
    }

    /// Answers `syn` with a SYN-ACK whose sequence number is a cookie,
    /// built in the SYN's own frame.
    fn send_cookie<D: Device>(
        &mut self,
        packet: ip::In<'_, '_, D>,
        tuple: FourTuple,
        syn: &TcpRepr,
        now: Instant,
    ) {
        let mss = syn
            .max_seg_size
            .unwrap_or(connection::DEFAULT_PEER_MSS)
            .min(self.config_for(&tuple).mss);
        let options = CookieOptions {
            window_scale: syn
                .window_scale
                .filter(|_| self.config.window_scale.is_some()),
            sack_permitted: syn.sack_permitted && self.config.sack,
            ecn: false,
        };
        let timestamps = self.config.timestamps && syn.timestamp.is_some();
        let cookie = if timestamps {
            let clock = now.as_millis() as u32;
            self.cookies
                .encode_with_timestamps(&tuple, syn.seq_number, mss, options, clock, now)
        } else {
            self.cookies.encode(&tuple, syn.seq_number, mss, now)
        };
        let our_scale = self.config.window_scale.map(|s| s.min(14));
        let answer = TcpRepr {
            src_port: syn.dst_port,
            dst_port: syn.src_port,
            flags: TcpFlags::SYN,
            seq_number: cookie.isn,
            ack_number: Some(syn.seq_number + 1u32),
            window_len: u16::MAX,
            window_scale: options.window_scale.and(our_scale).filter(|_| timestamps),
            max_seg_size: Some(cookie.mss),
            sack_permitted: options.sack_permitted && timestamps,
            timestamp: match (cookie.tsval, syn.timestamp) {
                (Some(tsval), Some((peer, _))) => Some((tsval, peer)),
                _ => None,
            },
            ..TcpRepr::default()
        };
        self.stats.syn_cookies_sent += 1;
        self.send_reply(packet, &answer);
    }

    /// An ACK to a listener: a connection if it returns a valid cookie.
    fn on_cookie_ack<D: Device, A: Io>(
        &mut self,
        packet: &ip::In<'_, '_, D>,
        tuple: FourTuple,
        ack: &TcpRepr,
        index: usize,
        now: Instant,
        io: &mut A,
    ) -> Option<Handle> {
        let _ = packet;
        let ack_number = ack.ack_number?;
        let tsecr = ack.timestamp.map(|(_, ecr)| ecr);
        let cookie = self
            .cookies
            .decode(&tuple, ack_number, ack.seq_number, tsecr, now)?;
        if !self.make_room(io) {
            self.stats.rx_syn_dropped += 1;
            return None;
        }
        let cc = (self.new_cc)(&self.config);
        let mut config = self.config_for(&tuple);
        if !cookie.timestamps {
            config.timestamps = false;
        }
        let conn = Connection::from_cookie(
            ack,
            cookie.our_isn,
            cookie.mss,
            cookie.options.window_scale,
            cookie.options.sack_permitted,
            now,
            config,
            cc,
        );
        let handle = self.insert(tuple, conn, true).ok()?;
        if let Some(l) = self.listeners.get_mut(index) {
            l.pending = l.pending.saturating_add(1);
        }
        self.stats.syn_cookies_accepted += 1;
        Some(handle)
    }

    /// Answers the received segment `seg` with a RST (RFC 9293 3.10.7.1),
    /// sent in place of the received packet.
    #[cold]
    #[inline(never)]
    fn send_reset<D: Device>(&mut self, packet: ip::In<'_, '_, D>, seg: &TcpRepr) {
        if self.send_reply(packet, &connection::reset_for(seg)) {
            self.stats.tx_resets += 1;
        }
    }

    /// Builds `answer` (no payload) in the received packet's buffer and
    /// sends it back.
    fn send_reply<D: Device>(&mut self, packet: ip::In<'_, '_, D>, answer: &TcpRepr) -> bool {
        let checksum = packet.info().capabilities.tcp.tx;
        let len = answer.buffer_len();
        let Ok(mut out) = packet.reply(IpProtocol::Tcp, len) else {
            self.stats.tx_errors += 1;
            return false;
        };
        let (src, dst) = (out.repr().src(), out.repr().dst());
        let mut header = TcpPacket::new_unchecked(out.payload_mut());
        if answer.emit(&mut header, src, dst, checksum).is_err() {
            self.stats.tx_errors += 1;
            return false;
        }
        match out.send() {
            Ok(()) => {
                self.stats.tx_segments += 1;
                true
            }
            Err(_) => {
                self.stats.tx_errors += 1;
                false
            }
        }
    }

    /// Gives a segment to connection `handle` and acts on the reaction.
    fn deliver<A: Io>(
        &mut self,
        handle: Handle,
        repr: &TcpRepr,
        payload: &[u8],
        now: Instant,
        io: &mut A,
    ) -> Reaction {
        let Some(entry) = self.table.get_mut(handle) else {
            return Reaction::default();
        };
        let reaction = match io.buffers(handle) {
            Some(bufs) => entry
                .conn
                .on_segment(now, repr, payload, bufs.send, bufs.recv),
            None => {
                let (mut send, mut recv) = (NoBuffers, NoBuffers);
                entry
                    .conn
                    .on_segment(now, repr, payload, &mut send, &mut recv)
            }
        };
        if reaction.established {
            io.event(handle, Event::Established);
        }
        if reaction.readable {
            io.event(handle, Event::Readable);
        }
        if reaction.writable {
            io.event(handle, Event::Writable);
        }
        if reaction.peer_closed {
            io.event(handle, Event::PeerClosed);
        }
        if reaction.closed {
            self.reap(handle, io);
        }
        reaction
    }
}

/// The payload of a parsed segment within the IP payload.
fn tcp_payload<'b>(ip_payload: &'b [u8], repr: &TcpRepr) -> &'b [u8] {
    let start = TcpPacket::new_unchecked(ip_payload).header_len();
    ip_payload
        .get(start..start.saturating_add(repr.payload_len))
        .unwrap_or(&[])
}

/// Stand-in buffers for a connection the application lends none: nothing
/// to send, no room to receive.
#[derive(Debug, Clone, Copy, Default)]
struct NoBuffers;

impl SendBuffer for NoBuffers {
    fn len(&self) -> usize {
        0
    }

    fn read_at(&self, _: usize, _: &mut [u8]) -> usize {
        0
    }

    fn acknowledge(&mut self, _: usize) {}
}

impl RecvBuffer for NoBuffers {
    fn window(&self) -> usize {
        0
    }

    fn write_at(&mut self, _: usize, _: &[u8]) -> usize {
        0
    }
}

/// An IP-layer handler that drops every packet: where [`Endpoint::recv`]
/// sends packets that are not TCP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Discard;

impl<D: Device> ip::Recv<D> for Discard {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let _ = packet;
    }
}

/// The IP-facing receive handler built by [`Endpoint::recv`].
pub struct Receiver<'e, 'a, A, C, N> {
    endpoint: &'e mut Endpoint<'a, C>,
    io: A,
    next: N,
}

impl<D: Device, A: Io, C: CongestionControl, N: ip::Recv<D>> ip::Recv<D>
    for Receiver<'_, '_, A, C, N>
{
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let ip_repr = packet.repr();
        if ip_repr.protocol() != IpProtocol::Tcp {
            return self.not_tcp(packet);
        }
        let endpoint = &mut *self.endpoint;
        let checksum = packet.info().capabilities.tcp.rx;
        let parsed = TcpRepr::parse(
            &TcpPacket::new_unchecked(packet.payload()),
            ip_repr.src(),
            ip_repr.dst(),
            checksum,
        );
        let repr = match parsed {
            Ok(repr) => repr,
            Err(err) => return endpoint.stats.count_malformed(err),
        };
        if !packet.is_unicast_to_host() {
            return endpoint.stats.count_not_unicast();
        }
        let now = packet.info().timestamp;
        // A handle's tuple is that of a live entry only (the generation
        // check), and tuples are unique in the table: a match is the entry
        // `find` would return. Compared field by field, the ports first:
        // the tuple is only built for a lookup.
        let recent = endpoint.recent.filter(|&h| {
            endpoint.table.tuple_ref(h).is_some_and(|t| {
                t.local_port == repr.dst_port
                    && t.remote_port == repr.src_port
                    && t.local == ip_repr.dst()
                    && t.remote == ip_repr.src()
            })
        });
        let handle = match recent {
            Some(handle) => handle,
            None => {
                let tuple = FourTuple {
                    local: ip_repr.dst(),
                    local_port: repr.dst_port,
                    remote: ip_repr.src(),
                    remote_port: repr.src_port,
                };
                match endpoint.table.find(&tuple) {
                    Some(handle) => handle,
                    None => return endpoint.on_unmatched(packet, tuple, repr, &mut self.io),
                }
            }
        };
        endpoint.recent = Some(handle);
        endpoint.stats.rx_segments += 1;
        if packet.ecn() == Ecn::Ce
            && let Some(entry) = endpoint.table.get_mut(handle)
        {
            entry.conn.on_congestion_experienced();
        }
        let payload = tcp_payload(packet.payload(), &repr);
        let reaction = endpoint.deliver(handle, &repr, payload, now, &mut self.io);
        if reaction.reset {
            endpoint.send_reset(packet, &repr);
        }
    }
}

impl<A: Io, C: CongestionControl, N> Receiver<'_, '_, A, C, N> {
    /// A packet of another protocol: an ICMP error about a TCP path, or
    /// the next handler's. Out of line: the TCP fast path stays compact.
    #[cold]
    #[inline(never)]
    fn not_tcp<D: Device>(&mut self, packet: ip::In<'_, '_, D>)
    where
        N: ip::Recv<D>,
    {
        let ip_repr = packet.repr();
        if matches!(ip_repr.protocol(), IpProtocol::Icmp | IpProtocol::Icmpv6) {
            let checksum = match ip_repr.protocol() {
                IpProtocol::Icmp => packet.info().capabilities.icmpv4.rx,
                _ => packet.info().capabilities.icmpv6.rx,
            };
            let bytes = packet.payload();
            if let Some(mtu) = icmp_error::path_mtu(
                ip_repr.protocol(),
                ip_repr.src(),
                ip_repr.dst(),
                bytes,
                checksum,
            ) {
                self.endpoint.on_path_mtu(mtu);
                return;
            }
        }
        self.next.receive(packet)
    }
}

/// The IP-facing send handler built by [`Endpoint::send`].
pub struct Sender<'e, 'a, A, C> {
    endpoint: &'e mut Endpoint<'a, C>,
    io: A,
    /// A whole pass over the table found nothing to send: the rest of
    /// this batch is skipped.
    idle: bool,
    /// The connection that sent last and was found, right after, to have
    /// nothing more to send at that time
    /// ([`Connection::nothing_to_send`]): skipped while buffers come with
    /// the same timestamp. Only the sender's own calls reach its state and
    /// buffers until then; a reap (whose event may touch any buffer)
    /// forgets it.
    settled: Option<(Handle, Instant)>,
}

impl<D: Device, A: Io, C: CongestionControl> ip::Send<D> for Sender<'_, '_, A, C> {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        if self.idle {
            return;
        }
        let now = raw.info().timestamp;
        // The pass below would skip the only connection.
        if self.settled.is_some_and(|(_, at)| at == now) && self.endpoint.table.len() == 1 {
            self.idle = true;
            return;
        }
        let capacity = self.endpoint.table.capacity();
        // The room for an IPv4 payload; IPv6's header takes 20 bytes more.
        let room_v4 = raw.payload_capacity();
        let segmented = raw.info().capabilities.tcp_segmentation;
        let start = self.endpoint.cursor;
        // Connections whose last segment could not go out (no next hop
        // yet) go last: their buffer goes unqueued, and the device lends
        // no more in this call.
        for waiting in [false, true] {
            for step in 0..capacity {
                let index = (start + step) % capacity.max(1);
                let Some(handle) = self.endpoint.table.handle_at(index) else {
                    continue;
                };
                if self.settled == Some((handle, now)) {
                    continue;
                }
                let is_waiting = self
                    .endpoint
                    .table
                    .get(handle)
                    .is_some_and(|e| e.conn.is_waiting());
                if is_waiting != waiting {
                    continue;
                }
                let max_len = match self.endpoint.table.tuple_ref(handle) {
                    Some(tuple) if !tuple.remote.is_ipv4() => {
                        room_v4.saturating_sub(IPV6_HEADER_LEN - IPV4_HEADER_LEN)
                    }
                    _ => room_v4,
                };
                let Some(transmit) = self.poll(handle, now, max_len, segmented) else {
                    continue;
                };
                // Fairness: the next buffer starts with the next
                // connection, unless this one has more to send right now
                // (bulk transfers fill a batch).
                self.endpoint.cursor = index;
                self.transmit(raw, handle, transmit, now);
                return;
            }
        }
        self.idle = true;
    }
}

impl<A: Io, C: CongestionControl> Sender<'_, '_, A, C> {
    /// Asks connection `handle` for a segment; reaps it if its timers
    /// closed it.
    fn poll(
        &mut self,
        handle: Handle,
        now: Instant,
        max_len: usize,
        segmented: bool,
    ) -> Option<Transmit> {
        let endpoint = &mut *self.endpoint;
        let entry = endpoint.table.get_mut(handle)?;
        let conn = &mut entry.conn;
        let transmit = match (self.io.buffers(handle), segmented) {
            (Some(bufs), false) => conn.poll_transmit(now, bufs.send, bufs.recv, max_len),
            (Some(bufs), true) => conn.poll_transmit_segmented(now, bufs.send, bufs.recv, max_len),
            (None, _) => conn.poll_transmit(now, &NoBuffers, &NoBuffers, max_len),
        };
        if transmit.is_none() && entry.conn.state() == State::Closed {
            self.settled = None;
            endpoint.reap(handle, &mut self.io);
        }
        transmit
    }

    /// Builds `t` in `raw` and queues it.
    fn transmit<D: Device>(
        &mut self,
        raw: ip::Raw<'_, '_, D>,
        handle: Handle,
        t: Transmit,
        now: Instant,
    ) {
        self.settled = None;
        let endpoint = &mut *self.endpoint;
        let header_len = t.repr.buffer_len();
        // The addresses go straight from the table into the IP request.
        let Some(init) = endpoint.table.tuple_ref(handle).map(|tuple| ip::Init {
            src: Some(tuple.local),
            dst: tuple.remote,
            protocol: IpProtocol::Tcp,
            payload_len: header_len + t.repr.payload_len,
        }) else {
            return;
        };
        let checksum = raw.info().capabilities.tcp.tx;
        let mut out = match raw.prepare(init) {
            Ok(out) => out,
            Err(err) => return self.unsent(err, handle, now),
        };
        if t.ect {
            out.set_ecn(Ecn::Ect0);
        }
        if t.segment_size > 0 {
            out.set_segment_size(t.segment_size);
        }
        let (src, dst) = (out.repr().src(), out.repr().dst());
        let bytes = out.payload_mut();
        // The payload first: a software checksum covers it.
        let filled = match (bytes.get_mut(header_len..), self.io.buffers(handle)) {
            (Some(dst), Some(bufs)) => bufs.send.read_at(t.offset, dst),
            (Some(_), None) => 0,
            (None, _) => 0,
        };
        if filled != t.repr.payload_len {
            // The buffer gave fewer bytes than it said it had: sending
            // garbage in their place would corrupt the stream.
            return endpoint.stats.count_tx_error();
        }
        let mut packet = TcpPacket::new_unchecked(bytes);
        if t.repr.emit(&mut packet, src, dst, checksum).is_err() {
            return endpoint.stats.count_tx_error();
        }
        match out.send() {
            Ok(()) => {
                endpoint.stats.tx_segments += 1;
                if let Some(entry) = endpoint.table.get_mut(handle) {
                    entry.conn.on_transmitted(now, &t);
                    if entry.conn.state() == State::Closed {
                        endpoint.reap(handle, &mut self.io);
                        return;
                    }
                    // Data without PSH stopped short of the end of the
                    // queued data (bulk transfers): more may go, poll.
                    let ends_data = t.repr.payload_len == 0 || t.repr.flags.contains(TcpFlags::PSH);
                    let settled = ends_data
                        && match self.io.buffers(handle) {
                            Some(bufs) => entry.conn.nothing_to_send(now, bufs.send, bufs.recv),
                            None => entry.conn.nothing_to_send(now, &NoBuffers, &NoBuffers),
                        };
                    if settled {
                        self.settled = Some((handle, now));
                    }
                }
            }
            Err(_) => endpoint.stats.count_tx_error(),
        }
    }

    /// The IP layer could not prepare connection `handle`'s segment.
    /// Out of line: rare, and the send fast path stays compact.
    #[cold]
    #[inline(never)]
    fn unsent(&mut self, err: ip::Error, handle: Handle, now: Instant) {
        let endpoint = &mut *self.endpoint;
        // Deferrals while the next hop is resolved are no errors.
        if !matches!(err, ip::Error::Unresolved) {
            endpoint.stats.tx_errors += 1;
        }
        // The next buffer starts with the next connection: starting again
        // here would give every buffer to a connection whose neighbor
        // never answers (a SYN from a spoofed address on the link), and no
        // other connection would send. The connection's timer runs
        // meanwhile.
        endpoint.cursor = endpoint.cursor.wrapping_add(1);
        if let Some(entry) = endpoint.table.get_mut(handle) {
            entry.conn.on_unsent(now);
            if entry.conn.state() == State::Closed {
                endpoint.reap(handle, &mut self.io);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::buffer::{RingRecvBuffer, RingSendBuffer};
    use super::*;
    use crate::layer::eth;
    use crate::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
    use crate::layer::route::{Route, Routes};
    use crate::nic::memory::{MemoryLink, MemoryNic};
    use crate::wire::{EthernetAddress, IpCidr, Ipv4Addr};

    const FRAMES: usize = 8;
    const RING: usize = 2048;
    const CONNS: usize = 2;
    type Nic = MemoryNic<[u8; FRAMES * 1514], FRAMES>;

    /// A host's storage, borrowed by its layers.
    struct Storage {
        addrs: [Option<IpCidr>; 1],
        routes: [Option<Route>; 1],
        arp: [Neighbor<Ipv4Addr>; 2],
        ndisc: [Neighbor<crate::wire::Ipv6Addr>; 2],
        slots: [Slot<Entry>; CONNS],
        listeners: [Listener; 1],
        rings: [[u8; RING]; 2 * CONNS],
    }

    impl Storage {
        fn new() -> Storage {
            Storage {
                addrs: [None],
                routes: [None],
                arp: [Neighbor::EMPTY; 2],
                ndisc: [Neighbor::EMPTY; 2],
                slots: [const { Slot::empty() }; CONNS],
                listeners: [Listener::EMPTY],
                rings: [[0; RING]; 2 * CONNS],
            }
        }
    }

    /// Ring buffers per table slot.
    struct Rings<'s> {
        conns: [(RingSendBuffer<'s>, RingRecvBuffer<'s>); CONNS],
    }

    impl Io for Rings<'_> {
        fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
            let (send, recv) = self.conns.get_mut(conn.index as usize)?;
            Some(Buffers { send, recv })
        }
    }

    struct Host<'s> {
        nic: Nic,
        eth: eth::Endpoint,
        ip: ip::Endpoint<'s>,
        tcp: Endpoint<'s>,
        app: Rings<'s>,
    }

    impl<'s> Host<'s> {
        fn new(last: u8, storage: &'s mut Storage) -> Host<'s> {
            let Storage {
                addrs,
                routes,
                arp,
                ndisc,
                slots,
                listeners,
                rings,
            } = storage;
            let mut ip = ip::Endpoint::new(
                &mut addrs[..],
                Routes::new(&mut routes[..]),
                NeighborCache::new(&mut arp[..], NeighborConfig::default()),
                NeighborCache::new(&mut ndisc[..], NeighborConfig::default()),
            );
            let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, last));
            assert!(ip.add_addr(IpCidr::new(addr, 24).unwrap()));
            let [s0, r0, s1, r1] = rings;
            Host {
                nic: Nic::new([0; FRAMES * 1514], 1514).unwrap(),
                eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, last])),
                ip,
                tcp: Endpoint::new(
                    &mut slots[..],
                    &mut listeners[..],
                    Secrets::from_seed(u64::from(last)),
                    // Each small message goes at once, each ACK too.
                    Config {
                        nagle: false,
                        delayed_ack: None,
                        ..Config::default()
                    },
                ),
                app: Rings {
                    conns: [
                        (
                            RingSendBuffer::new(&mut s0[..]),
                            RingRecvBuffer::new(&mut r0[..]),
                        ),
                        (
                            RingSendBuffer::new(&mut s1[..]),
                            RingRecvBuffer::new(&mut r1[..]),
                        ),
                    ],
                },
            }
        }

        fn set_time(&mut self, now: Instant) {
            self.nic.set_time(now);
        }
    }

    /// One round: A sends, B receives and sends, A receives.
    fn round(a: &mut Host<'_>, b: &mut Host<'_>) {
        let tx = |h: &mut Host<'_>| {
            let app = &mut h.app;
            h.nic.tx(FRAMES, h.eth.send(h.ip.send(h.tcp.send(app))))
        };
        let rx = |h: &mut Host<'_>| {
            let app = &mut h.app;
            h.nic.rx(FRAMES, h.eth.recv(h.ip.recv(h.tcp.recv(app))))
        };
        tx(a).unwrap();
        MemoryLink::transfer(&mut a.nic, &mut b.nic);
        rx(b).unwrap();
        tx(b).unwrap();
        MemoryLink::transfer(&mut b.nic, &mut a.nic);
        rx(a).unwrap();
    }

    /// Reads everything connection `conn` of `host` received.
    fn take(host: &mut Host<'_>, conn: Handle, out: &mut [u8]) -> usize {
        host.app.conns[conn.index as usize].1.read(out)
    }

    /// Seeds that differ only in their low bits (a clock's nanoseconds, a
    /// process id) start the ephemeral ports in different places, so a
    /// program run twice does not reuse the four-tuple of its last run
    /// (which the peer may still hold).
    #[test]
    fn seeds_spread_the_first_ephemeral_port() {
        let base = 0x1879_4a6b_2c3d_0000u64;
        let mut starts: [u16; 64] =
            core::array::from_fn(|i| Secrets::from_seed(base ^ i as u64).ephemeral & 0x3fff);
        starts.sort_unstable();
        let distinct = 1 + starts.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(distinct >= 60, "{distinct} distinct starts of 64");
        // Small seeds too (the tests' MAC-derived ones).
        assert_ne!(
            Secrets::from_seed(1).ephemeral,
            Secrets::from_seed(2).ephemeral
        );
        // Reproducible for one seed.
        assert_eq!(
            Secrets::from_seed(base).ephemeral,
            Secrets::from_seed(base).ephemeral
        );
    }

    /// Segments of two connections alternate in each batch, and a slot
    /// is reused by a new connection: every segment reaches its own
    /// connection (the receive path remembers the last one it found).
    #[test]
    fn interleaved_segments_reach_their_connections() {
        let (mut store_a, mut store_b) = (Storage::new(), Storage::new());
        let mut a = Host::new(1, &mut store_a);
        let mut b = Host::new(2, &mut store_b);
        let now = Instant::from_secs(100);
        a.set_time(now);
        b.set_time(now);
        b.tcp.listen(80, CONNS).unwrap();
        let local = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 0);
        let remote = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
        let mut clients = [
            a.tcp.connect(local, remote, now).unwrap(),
            a.tcp.connect(local, remote, now).unwrap(),
        ];
        for _ in 0..4 {
            round(&mut a, &mut b);
        }
        // B accepts in arrival order: the first SYN went out first.
        let mut servers = [b.tcp.accept(80).unwrap(), b.tcp.accept(80).unwrap()];
        for step in 0..3u8 {
            // One small message per connection: each batch alternates.
            for (i, &client) in clients.iter().enumerate() {
                let message = [b'a' + i as u8 + 2 * step; 100];
                let send = &mut a.app.conns[client.index as usize].0;
                assert_eq!(send.write(&message), message.len());
            }
            round(&mut a, &mut b);
            for (i, &server) in servers.iter().enumerate() {
                let mut got = [0u8; 256];
                let n = take(&mut b, server, &mut got);
                assert_eq!(
                    &got[..n],
                    &[b'a' + i as u8 + 2 * step; 100][..],
                    "step {step}"
                );
            }
            if step == 1 {
                // The first connection goes; a new one takes its slot with
                // a new generation, and the other one stays the most
                // recent: B must not hand the new one's segments to it.
                a.tcp.abort(clients[0]).unwrap();
                round(&mut a, &mut b);
                assert!(b.tcp.state(servers[0]) == State::Closed);
                clients[0] = a.tcp.connect(local, remote, now).unwrap();
                for _ in 0..3 {
                    round(&mut a, &mut b);
                }
                servers[0] = b.tcp.accept(80).unwrap();
                assert_eq!(b.tcp.tuple(servers[0]).map(|t| t.remote_port), {
                    a.tcp.tuple(clients[0]).map(|t| t.local_port)
                });
            }
        }
        assert_eq!(b.tcp.stats().rx_no_connection, 0);
    }
}
