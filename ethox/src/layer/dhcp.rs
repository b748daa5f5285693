//! A DHCPv4 client (RFC 2131): an address, a default route and DNS
//! servers from the network.
//!
//! The [`Client`] is a state machine without I/O of its own, like every
//! layer of this stack: messages come in through [`udp::Recv`], go out
//! through [`udp::Send`], and time comes with them (or with
//! [`Client::poll`]). It allocates nothing and keeps all its state in
//! itself.
//!
//! ```text
//!  INIT ──DISCOVER──▶ SELECTING ──OFFER / REQUEST──▶ REQUESTING ──ACK──▶ BOUND
//!   ▲                                                   │ NAK,             │ T1
//!   │                                                   │ no answer        ▼
//!   ├──────────────────────────────────────────────────-┘    RENEWING (unicast REQUEST)
//!   │                                                                      │ T2
//!   │  lease expired, NAK                                                   ▼
//!   └─────────────────────────────────────────────────── REBINDING (broadcast REQUEST)
//! ```
//!
//! * **INIT, SELECTING** (RFC 2131 section 4.4.1): DISCOVER from 0.0.0.0
//!   to 255.255.255.255, retransmitted after 4, 8, 16, 32, 64, 64, ...
//!   seconds, each randomized by up to one second either way (section
//!   4.1). The first valid OFFER wins.
//! * **REQUESTING**: REQUEST for the offered address naming the server,
//!   with the same backoff; after [`Config::request_retries`]
//!   retransmissions without an answer, or on a NAK, back to INIT.
//! * **BOUND**: the lease runs from the time the REQUEST was sent (section
//!   4.4.1). T1 and T2 are the server's (options 58, 59) or 0.5 and 0.875
//!   of the lease (section 4.4.5).
//! * **RENEWING** at T1: REQUEST unicast to the server from the leased
//!   address; **REBINDING** at T2: the same, broadcast. Retransmissions
//!   wait half the time left to T2 (to the lease's end), at least
//!   [`Config::min_renew_interval`] (section 4.4.5). At the lease's end
//!   the address is lost and the client starts over.
//! * **RELEASE** on demand ([`Client::release`]): the address goes back
//!   to the server and the client stops until [`Client::restart`].
//!
//! Transaction ids and the retransmission jitter come from the caller's
//! seed ([`Client::new`]), through a keyed hash, so they cannot be
//! predicted from earlier ones.
//!
//! # Using it
//!
//! The client listens on UDP port 68 ([`CLIENT_PORT`]), which the caller
//! binds. It sends from 0.0.0.0 while it has no address: the IP layer
//! lets a UDP sender pick that source for the limited broadcast
//! ([`udp::Raw::prepare_from`]), and while it has no IPv4 address it takes
//! in servers' answers unicast to the offered address. The client cannot
//! reach the IP endpoint from inside the callbacks (they lend packets, not
//! endpoints), so after each round the caller hands it the endpoint:
//! [`Client::apply`] adds or removes the address (its prefix from the
//! subnet mask option) and the default route (the first router option)
//! and reports what changed as an [`Event`]. The DNS servers (up to
//! three) and the lease times are in [`Client::lease`].
//!
//! ```
//! use ethox::layer::dhcp::{self, Client};
//! use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
//! use ethox::layer::route::Routes;
//! use ethox::layer::{eth, ip, udp};
//! use ethox::nic::Device;
//! use ethox::nic::memory::MemoryNic;
//! use ethox::time::Instant;
//! use ethox::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr};
//! use ethox::wire::EthernetAddress;
//!
//! let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
//! let mut nic = MemoryNic::<Vec<u8>, 4>::new(vec![0; 4 * 1514], 1514).unwrap();
//! nic.set_time(Instant::from_secs(1));
//! let mut eth = eth::Endpoint::new(mac);
//! let neighbors = NeighborCache::new(vec![Neighbor::EMPTY; 4], NeighborConfig::default());
//! let no_ipv6 = NeighborCache::new(vec![], NeighborConfig::default());
//! // No address yet: the client brings one.
//! let mut ip = ip::Endpoint::new(vec![None; 2], Routes::new(vec![None; 2]), neighbors, no_ipv6);
//! let mut udp = udp::Endpoint::new(vec![None; 4], 0x1234);
//! udp.bind(dhcp::CLIENT_PORT).unwrap();
//! let mut client = Client::new(mac, 0x5eed, dhcp::Config::default());
//!
//! // One round of the event loop: receive, send, apply.
//! nic.rx(4, eth.recv(ip.recv(udp.recv(&mut client)))).unwrap();
//! nic.tx(4, eth.send(ip.send(udp.send(&mut client)))).unwrap();
//! let event = client.apply(&mut ip, nic.time()).unwrap();
//! assert_eq!(event, None); // no lease yet
//! assert_eq!(client.state(), dhcp::State::Selecting);
//!
//! // The DISCOVER is on the wire: broadcast, from 0.0.0.0:68.
//! let discover = nic.drain_one(|frame| {
//!     assert_eq!(&frame[..6], &[0xff; 6]);
//!     assert_eq!(&frame[26..30], &[0, 0, 0, 0]);
//!     let message = DhcpPacket::new_checked(&frame[42..]).unwrap();
//!     DhcpRepr::parse(&message).unwrap().message_type
//! });
//! assert_eq!(discover, Some(DhcpMessageType::Discover));
//! // The loop sleeps until the retransmission, 4 s give or take 1 s.
//! let wake = client.next_deadline().unwrap();
//! assert!(wake >= Instant::from_secs(4) && wake <= Instant::from_secs(6));
//! ```
//!
//! A host running other UDP services on the same endpoint combines them
//! with [`Client::and`]: `udp.recv(client.and(&mut resolver))` hands the
//! client the datagrams for port 68 and the others to the resolver.
//!
//! Limits: no address conflict check (the ARP probe and DECLINE of RFC
//! 2131 section 4.4.1, RFC 5227), no INIT-REBOOT (a restarted client
//! starts from INIT), no INFORM, no relay-specific behaviour, no
//! classless static routes (RFC 3442); no random delay before the first
//! DISCOVER (section 4.4.1 SHOULD): the caller can wait before the first
//! round.

use core::fmt;
use core::time::Duration;

use crate::layer::ip;
use crate::layer::rng::SeedRng;
use crate::layer::route::Route;
use crate::layer::udp::{self, UdpError};
use crate::nic::Device;
use crate::time::Instant;
use crate::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr};
use crate::wire::ethernet::EthernetAddress;
use crate::wire::ip::{IpAddr, IpCidr, Ipv4Addr};
use crate::wire::ipv4::{self, Ipv4Cidr, Ipv4Class};

pub use crate::wire::dhcpv4::{CLIENT_PORT, SERVER_PORT};

/// How many DNS servers a lease keeps (the first ones the server lists).
pub const MAX_DNS_SERVERS: usize = 3;

/// The options the client asks for (option 55): subnet mask, router, DNS
/// servers, lease time, T1, T2.
const PARAMETER_REQUEST_LIST: [u8; 6] = [1, 3, 6, 51, 58, 59];

/// How long a send that waits for the next hop's hardware address (a
/// RENEWING or RELEASE unicast to the server) waits before trying again:
/// long enough not to spin an event loop, short next to any DHCP timer.
const UNRESOLVED_RETRY: Duration = Duration::from_millis(250);

/// How long a RELEASE may wait for the server's hardware address before
/// the client gives the address up without telling the server.
const RELEASE_PATIENCE: Duration = Duration::from_secs(3);

/// Settings of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Ask servers to broadcast their answers (the BROADCAST flag, RFC
    /// 1542 section 2.2). Not needed with this stack's IP layer, which
    /// takes unicast answers while unconfigured; off by default.
    pub broadcast_flag: bool,
    /// The first retransmission timeout of DISCOVER and REQUEST (RFC 2131
    /// section 4.1: 4 s).
    pub first_timeout: Duration,
    /// The longest retransmission timeout (section 4.1: 64 s).
    pub max_timeout: Duration,
    /// The randomization of every retransmission timeout, either way
    /// (section 4.1: one second).
    pub jitter: Duration,
    /// REQUEST retransmissions in REQUESTING before the client gives up
    /// on the offer and starts over.
    pub request_retries: u32,
    /// The shortest wait between REQUESTs in RENEWING and REBINDING
    /// (section 4.4.5: 60 s).
    pub min_renew_interval: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            broadcast_flag: false,
            first_timeout: Duration::from_secs(4),
            max_timeout: Duration::from_secs(64),
            jitter: Duration::from_secs(1),
            request_retries: 4,
            min_renew_interval: Duration::from_secs(60),
        }
    }
}

/// Where the client is (RFC 2131 figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// No address; a DISCOVER goes out on the next lent buffer.
    Init,
    /// DISCOVER sent; waiting for offers.
    Selecting,
    /// REQUEST for an offer sent; waiting for ACK or NAK.
    Requesting,
    /// The address is leased.
    Bound,
    /// Past T1: asking the leasing server to extend the lease.
    Renewing,
    /// Past T2: asking any server to extend the lease.
    Rebinding,
    /// A RELEASE is about to go out.
    Releasing,
    /// The lease was released; nothing happens until
    /// [`Client::restart`].
    Released,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Selecting => "SELECTING",
            State::Requesting => "REQUESTING",
            State::Bound => "BOUND",
            State::Renewing => "RENEWING",
            State::Rebinding => "REBINDING",
            State::Releasing => "RELEASING",
            State::Released => "RELEASED",
        })
    }
}

/// A leased address and the configuration that came with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    address: Ipv4Cidr,
    router: Option<Ipv4Addr>,
    dns_servers: [Ipv4Addr; MAX_DNS_SERVERS],
    dns_count: usize,
    server: Ipv4Addr,
    duration: Option<Duration>,
    acquired: Instant,
    renew_at: Option<Instant>,
    rebind_at: Option<Instant>,
    expires_at: Option<Instant>,
}

impl Lease {
    /// The address with its prefix (from the subnet mask option; the
    /// address class's when the option is absent or not a contiguous
    /// mask).
    pub fn address(&self) -> Ipv4Cidr {
        self.address
    }

    /// The default router (the first of the router option that is a
    /// unicast address), if the server named one.
    pub fn router(&self) -> Option<Ipv4Addr> {
        self.router
    }

    /// The DNS servers, in the server's order of preference (at most
    /// [`MAX_DNS_SERVERS`]).
    pub fn dns_servers(&self) -> &[Ipv4Addr] {
        self.dns_servers.get(..self.dns_count).unwrap_or(&[])
    }

    /// The server that leased the address (its server identifier).
    pub fn server(&self) -> Ipv4Addr {
        self.server
    }

    /// The lease time; `None` for an infinite lease.
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// When the lease started: when the REQUEST that got it was sent.
    pub fn acquired(&self) -> Instant {
        self.acquired
    }

    /// T1, when RENEWING starts (`None` for an infinite lease).
    pub fn renew_at(&self) -> Option<Instant> {
        self.renew_at
    }

    /// T2, when REBINDING starts.
    pub fn rebind_at(&self) -> Option<Instant> {
        self.rebind_at
    }

    /// When the address is lost unless renewed.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }
}

/// What [`Client::apply`] changed on the IP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// The lease's address (and default route, if any) is installed; a
    /// previous one was removed first.
    Configured(Lease),
    /// The address and route are removed (lease lost, NAK, release).
    Deconfigured,
}

/// Counters of the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DhcpStats {
    /// DISCOVERs sent.
    pub tx_discovers: u64,
    /// REQUESTs sent (selecting, renewing, rebinding).
    pub tx_requests: u64,
    /// RELEASEs sent.
    pub tx_releases: u64,
    /// Messages that could not be built or sent.
    pub tx_errors: u64,
    /// OFFERs taken.
    pub rx_offers: u64,
    /// ACKs that gave or extended a lease.
    pub rx_acks: u64,
    /// NAKs that ended a lease or an attempt.
    pub rx_naks: u64,
    /// Messages that did not parse, or answers missing what they must
    /// carry (an offer without server identifier, an ACK without lease
    /// time, an address that cannot be a host's).
    pub rx_malformed: u64,
    /// Well-formed messages not for this client or this state (another
    /// transaction, another hardware address, a late answer).
    pub rx_ignored: u64,
    /// Leases that expired without renewal.
    pub leases_expired: u64,
    /// Times the client went back to INIT (NAK, no answer to REQUEST,
    /// expired lease).
    pub restarts: u64,
}

/// A message the client wants sent now: see [`Client::pending_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// The IP source address (0.0.0.0 before the client has an address).
    pub src: Ipv4Addr,
    /// The IP destination: the limited broadcast, or the server.
    pub dst: Ipv4Addr,
    /// The message, for UDP from port 68 to port 67.
    pub repr: DhcpRepr<'static>,
}

/// The DHCPv4 client; see the [module documentation](self).
#[derive(Debug)]
pub struct Client {
    mac: EthernetAddress,
    config: Config,
    rng: SeedRng,
    state: State,
    /// The transaction of the current exchange.
    xid: u32,
    /// When the current acquisition or renewal began (the `secs` field).
    process_started: Instant,
    /// The `secs` of the DISCOVER that brought the offer, which the
    /// REQUEST repeats (section 4.4.1).
    discover_secs: u16,
    /// Transmissions of the current message so far.
    attempts: u32,
    /// When the next transmission is due; `None` when nothing is owed.
    send_at: Option<Instant>,
    /// When the last message went out (a lease runs from its REQUEST).
    last_sent: Option<Instant>,
    /// The server and address of the offer being requested.
    offer: Option<(Ipv4Addr, Ipv4Addr)>,
    lease: Option<Lease>,
    /// When a RELEASE that cannot be sent is given up.
    release_by: Option<Instant>,
    /// What [`Client::apply`] installed: the address and the router.
    applied: Option<(Ipv4Cidr, Option<Ipv4Addr>)>,
    stats: DhcpStats,
}

impl Client {
    /// A client for the interface with hardware address `mac`, in INIT:
    /// the first DISCOVER goes out on the first lent buffer.
    ///
    /// `seed` keys the transaction ids and the jitter: pass a random
    /// value (two clients with the same seed and MAC pick the same ids).
    pub fn new(mac: EthernetAddress, seed: u64, config: Config) -> Client {
        let mut rng = SeedRng::new(seed);
        let xid = rng.next_u32();
        Client {
            mac,
            config,
            rng,
            state: State::Init,
            xid,
            process_started: Instant::ZERO,
            discover_secs: 0,
            attempts: 0,
            send_at: Some(Instant::ZERO),
            last_sent: None,
            offer: None,
            lease: None,
            release_by: None,
            applied: None,
            stats: DhcpStats::default(),
        }
    }

    /// Where the client is.
    pub fn state(&self) -> State {
        self.state
    }

    /// The current lease, if the client holds one (BOUND, RENEWING,
    /// REBINDING, and RELEASING until the RELEASE is out).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// The counters.
    pub fn stats(&self) -> DhcpStats {
        self.stats
    }

    /// The settings.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The transaction id of the current exchange.
    pub fn transaction_id(&self) -> u32 {
        self.xid
    }

    /// When the client next needs the clock: a (re)transmission, T1, T2,
    /// the lease's end. A time at or before now means "send on the next
    /// lent buffer".
    pub fn next_deadline(&self) -> Option<Instant> {
        let lease_timer = match (self.state, &self.lease) {
            (State::Bound, Some(lease)) => lease.renew_at,
            (State::Renewing, Some(lease)) => lease.rebind_at,
            (State::Rebinding, Some(lease)) => lease.expires_at,
            _ => None,
        };
        [self.send_at, lease_timer, self.release_by]
            .into_iter()
            .flatten()
            .min()
    }

    /// Gives the lease back: a RELEASE goes to the server on the next lent
    /// buffer, after which the address is gone (call [`apply`](Self::apply))
    /// and the client waits for [`restart`](Self::restart). Without a
    /// lease the client just stops.
    pub fn release(&mut self, now: Instant) {
        if self.lease.is_some() {
            self.enter(State::Releasing, now);
            self.release_by = Some(now + RELEASE_PATIENCE);
        } else {
            self.offer = None;
            self.enter(State::Released, now);
            self.send_at = None;
        }
    }

    /// Starts over from INIT, giving up any lease without telling the
    /// server (after a link change, or to leave RELEASED).
    pub fn restart(&mut self, now: Instant) {
        self.lease = None;
        self.offer = None;
        self.release_by = None;
        self.enter(State::Init, now);
    }

    /// Moves to `state` with a new transaction, due to send at once.
    fn enter(&mut self, state: State, now: Instant) {
        net_trace!("dhcp: {} -> {}", self.state, state);
        self.state = state;
        self.xid = self.rng.next_u32();
        self.attempts = 0;
        self.send_at = Some(now);
        if state == State::Renewing {
            self.process_started = now;
        }
    }

    /// Back to INIT after a failure (NAK, no answer, expiry).
    fn start_over(&mut self, now: Instant) {
        self.stats.restarts += 1;
        self.restart(now);
    }

    /// Runs the timers up to `now`: T1 starts RENEWING, T2 REBINDING, the
    /// lease's end drops the address; REQUESTING gives up after its
    /// retransmissions; a RELEASE that could not go out is given up.
    /// Called by the UDP handlers with each packet's time and by
    /// [`apply`](Self::apply); call it when the loop wakes at
    /// [`next_deadline`](Self::next_deadline) without traffic.
    pub fn poll(&mut self, now: Instant) {
        if let Some(lease) = self.lease {
            let holding = matches!(
                self.state,
                State::Bound | State::Renewing | State::Rebinding
            );
            if holding && lease.expires_at.is_some_and(|t| now >= t) {
                net_trace!("dhcp: lease of {} expired", lease.address);
                self.stats.leases_expired += 1;
                self.start_over(now);
                return;
            }
            if self.state == State::Renewing && lease.rebind_at.is_some_and(|t| now >= t) {
                self.enter(State::Rebinding, now);
            }
            if self.state == State::Bound && lease.renew_at.is_some_and(|t| now >= t) {
                // A late wake-up may be past T2 as well.
                let past_rebind = lease.rebind_at.is_some_and(|t| now >= t);
                let next = if past_rebind {
                    State::Rebinding
                } else {
                    State::Renewing
                };
                self.enter(next, now);
            }
        }
        let due = self.send_at.is_some_and(|t| now >= t);
        if self.state == State::Requesting && due && self.attempts > self.config.request_retries {
            net_trace!("dhcp: no answer to REQUEST");
            self.start_over(now);
        }
        if self.state == State::Releasing && self.release_by.is_some_and(|t| now >= t) {
            self.finish_release(now);
        }
    }

    /// The message due at `now`, if any: what the UDP sender builds.
    /// Call [`message_sent`](Self::message_sent) once it is out.
    pub fn pending_message(&self, now: Instant) -> Option<Message> {
        if self.send_at.is_none_or(|t| now < t) {
            return None;
        }
        // The acquisition starts with the first DISCOVER.
        let secs = match self.state {
            State::Init => 0,
            _ => u16::try_from(
                now.saturating_duration_since(self.process_started)
                    .as_secs(),
            )
            .unwrap_or(u16::MAX),
        };
        let mut repr = DhcpRepr::new(DhcpMessageType::Request, self.xid, self.mac);
        repr.secs = secs;
        repr.parameter_request_list = Some(&PARAMETER_REQUEST_LIST);
        let (src, dst) = match (self.state, self.lease) {
            (State::Init | State::Selecting, _) => {
                repr.message_type = DhcpMessageType::Discover;
                repr.broadcast = self.config.broadcast_flag;
                (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
            }
            (State::Requesting, _) => {
                let (server, address) = self.offer?;
                repr.secs = self.discover_secs;
                repr.broadcast = self.config.broadcast_flag;
                repr.requested_ip = Some(address);
                repr.server_identifier = Some(server);
                (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
            }
            (State::Renewing, Some(lease)) => {
                repr.client_ip = lease.address.address();
                (lease.address.address(), lease.server)
            }
            (State::Rebinding, Some(lease)) => {
                repr.client_ip = lease.address.address();
                (lease.address.address(), Ipv4Addr::BROADCAST)
            }
            (State::Releasing, Some(lease)) => {
                repr.message_type = DhcpMessageType::Release;
                repr.secs = 0;
                repr.parameter_request_list = None;
                repr.client_ip = lease.address.address();
                repr.server_identifier = Some(lease.server);
                (lease.address.address(), lease.server)
            }
            _ => return None,
        };
        Some(Message { src, dst, repr })
    }

    /// Records that the message from
    /// [`pending_message`](Self::pending_message) went out at `now`, and
    /// schedules its retransmission.
    pub fn message_sent(&mut self, now: Instant) {
        self.advance(now, true);
    }

    /// Moves on after a transmission at `now` that went out (`sent`) or
    /// was lost to an error: either way the retransmission timer runs, so
    /// a persistent error cannot make the message due forever.
    fn advance(&mut self, now: Instant, sent: bool) {
        let count = u64::from(sent);
        if sent {
            self.last_sent = Some(now);
        } else {
            self.stats.tx_errors += 1;
        }
        match self.state {
            State::Init | State::Selecting => {
                self.stats.tx_discovers += count;
                if self.state == State::Init {
                    self.state = State::Selecting;
                    self.process_started = now;
                }
                self.discover_secs = u16::try_from(
                    now.saturating_duration_since(self.process_started)
                        .as_secs(),
                )
                .unwrap_or(u16::MAX);
                self.send_at = Some(now + self.backoff());
            }
            State::Requesting => {
                self.stats.tx_requests += count;
                self.send_at = Some(now + self.backoff());
            }
            State::Renewing | State::Rebinding => {
                self.stats.tx_requests += count;
                let lease = self.lease;
                let until = match self.state {
                    State::Renewing => lease.and_then(|l| l.rebind_at),
                    _ => lease.and_then(|l| l.expires_at),
                };
                // Half the time left, at least the minimum (RFC 2131
                // 4.4.5); the state's own end comes first if sooner.
                let half = until.map_or(Duration::ZERO, |t| t.saturating_duration_since(now) / 2);
                self.send_at = Some(now + half.max(self.config.min_renew_interval));
            }
            State::Releasing => {
                self.stats.tx_releases += count;
                self.finish_release(now);
            }
            State::Bound | State::Released => {}
        }
        self.attempts = self.attempts.saturating_add(1);
    }

    fn finish_release(&mut self, now: Instant) {
        self.lease = None;
        self.offer = None;
        self.release_by = None;
        self.enter(State::Released, now);
        self.send_at = None;
    }

    /// The retransmission timeout after `attempts` transmissions: the
    /// first timeout doubled per retransmission up to the maximum, moved
    /// by a random amount within the jitter either way (RFC 2131 4.1).
    fn backoff(&mut self) -> Duration {
        let doublings = self.attempts.min(16);
        let base = self
            .config
            .first_timeout
            .saturating_mul(1 << doublings)
            .min(self.config.max_timeout);
        let jitter = u64::try_from(self.config.jitter.as_millis()).unwrap_or(u64::MAX / 2);
        let offset = self.rng.up_to(jitter.saturating_mul(2));
        if offset >= jitter {
            base.saturating_add(Duration::from_millis(offset - jitter))
        } else {
            base.saturating_sub(Duration::from_millis(jitter - offset))
        }
    }

    /// Handles a DHCP message (a UDP payload from a server's port 67) that
    /// arrived at `now`.
    pub fn handle_message(&mut self, payload: &[u8], now: Instant) {
        let repr = match DhcpPacket::new_checked(payload).and_then(|p| DhcpRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(_) => {
                self.stats.rx_malformed += 1;
                net_drop!("dhcp: dropped: rx_malformed");
                return;
            }
        };
        if repr.transaction_id != self.xid || repr.client_hardware_address != self.mac {
            self.stats.rx_ignored += 1;
            net_drop!("dhcp: dropped: rx_ignored (transaction)");
            return;
        }
        let offered_by = self.offer.map(|(server, _)| server);
        let from_offerer = repr.server_identifier.is_none_or(|s| Some(s) == offered_by);
        match (self.state, repr.message_type) {
            (State::Selecting, DhcpMessageType::Offer) => self.take_offer(&repr, now),
            (State::Requesting, DhcpMessageType::Ack) if from_offerer => self.bind(&repr, now),
            (State::Requesting, DhcpMessageType::Nak) if from_offerer => self.refused(now),
            (State::Renewing | State::Rebinding, DhcpMessageType::Ack) => self.bind(&repr, now),
            (State::Renewing | State::Rebinding, DhcpMessageType::Nak) => self.refused(now),
            _ => {
                self.stats.rx_ignored += 1;
                net_drop!("dhcp: dropped: rx_ignored (state)");
            }
        }
    }

    fn take_offer(&mut self, repr: &DhcpRepr<'_>, now: Instant) {
        let (Some(server), true) = (repr.server_identifier, is_host_address(repr.your_ip)) else {
            self.stats.rx_malformed += 1;
            net_drop!("dhcp: dropped: offer without server or address");
            return;
        };
        net_trace!("dhcp: offer of {} from {}", repr.your_ip, server);
        self.stats.rx_offers += 1;
        self.offer = Some((server, repr.your_ip));
        // The REQUEST keeps the DISCOVER's transaction (section 4.4.1).
        let xid = self.xid;
        self.enter(State::Requesting, now);
        self.xid = xid;
    }

    fn refused(&mut self, now: Instant) {
        net_trace!("dhcp: NAK");
        self.stats.rx_naks += 1;
        self.start_over(now);
    }

    fn bind(&mut self, repr: &DhcpRepr<'_>, now: Instant) {
        let server = repr
            .server_identifier
            .or(self.offer.map(|(server, _)| server))
            .or(self.lease.map(|l| l.server));
        let (Some(server), Some(seconds), true) =
            (server, repr.lease_duration, is_host_address(repr.your_ip))
        else {
            self.stats.rx_malformed += 1;
            net_drop!("dhcp: dropped: ack without lease time or address");
            return;
        };
        let address = repr
            .subnet_mask
            .and_then(|mask| Ipv4Cidr::from_netmask(repr.your_ip, mask))
            .filter(|cidr| cidr.prefix_len() > 0)
            .or_else(|| classful(repr.your_ip));
        let Some(address) = address else {
            self.stats.rx_malformed += 1;
            return;
        };
        let router = repr
            .router
            .and_then(|list| list.iter().find(|r| is_host_address(*r)));
        let mut dns_servers = [Ipv4Addr::UNSPECIFIED; MAX_DNS_SERVERS];
        let mut dns_count = 0;
        if let Some(list) = repr.dns_servers {
            for (slot, addr) in dns_servers.iter_mut().zip(list.iter()) {
                *slot = addr;
                dns_count += 1;
            }
        }
        // The lease runs from when the REQUEST went out (section 4.4.1).
        let acquired = self.last_sent.unwrap_or(now).min(now);
        let (duration, renew_at, rebind_at, expires_at) =
            lease_times(seconds, repr.renew_duration, repr.rebind_duration, acquired);
        let lease = Lease {
            address,
            router,
            dns_servers,
            dns_count,
            server,
            duration,
            acquired,
            renew_at,
            rebind_at,
            expires_at,
        };
        net_trace!("dhcp: bound to {} for {:?}", address, duration);
        self.stats.rx_acks += 1;
        self.lease = Some(lease);
        self.offer = None;
        self.state = State::Bound;
        self.attempts = 0;
        self.send_at = None;
    }

    /// Installs the lease on `ip` (or removes what an ended lease
    /// installed) after running the timers to `now`: the address with its
    /// prefix, and the default route through the router. Returns what
    /// changed, `None` if nothing did.
    ///
    /// [`ip::Error::TableFull`] when the endpoint has no free address slot
    /// or the route table no room: whatever could be installed is, and the
    /// next call tries the rest again.
    pub fn apply(
        &mut self,
        ip: &mut ip::Endpoint<'_>,
        now: Instant,
    ) -> Result<Option<Event>, ip::Error> {
        self.poll(now);
        let wanted = self.lease.map(|l| (l.address, l.router));
        if wanted == self.applied {
            return Ok(None);
        }
        if let Some((address, router)) = self.applied.take() {
            ip.remove_addr(IpAddr::V4(address.address()));
            if let Some(router) = router {
                let route = Route::default_v4(router);
                ip.routes_mut().remove(route.net, route.gateway);
            }
            net_trace!("dhcp: removed {}", address);
        }
        let (Some((address, router)), Some(lease)) = (wanted, self.lease) else {
            return Ok(Some(Event::Deconfigured));
        };
        if !ip.add_addr(IpCidr::V4(address)) {
            return Err(ip::Error::TableFull);
        }
        self.applied = Some((address, None));
        if let Some(router) = router {
            if ip.routes_mut().add(Route::default_v4(router)).is_err() {
                return Err(ip::Error::TableFull);
            }
            self.applied = Some((address, Some(router)));
        }
        net_trace!("dhcp: configured {} via {:?}", address, router);
        Ok(Some(Event::Configured(lease)))
    }
}

/// Whether `addr` can be a host's address: not 0.0.0.0, broadcast,
/// multicast, loopback or reserved.
fn is_host_address(addr: Ipv4Addr) -> bool {
    matches!(
        ipv4::classify(addr),
        Ipv4Class::Unicast | Ipv4Class::LinkLocal
    )
}

/// The prefix of the address's historic class (A /8, B /16, C /24), the
/// assumption of hosts told no subnet mask (RFC 1122 3.3.1.1 leaves it to
/// configuration; RFC 950 defines the classes).
fn classful(addr: Ipv4Addr) -> Option<Ipv4Cidr> {
    let prefix = match addr.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    };
    Ipv4Cidr::new(addr, prefix).ok()
}

/// The lease's duration, T1, T2 and end from the server's seconds (RFC
/// 2131 4.4.5): T1 defaults to half the lease, T2 to seven eighths; a T2
/// past the lease is the lease, a T1 past T2 is T2. 0xffffffff is an
/// infinite lease without timers.
#[allow(clippy::type_complexity)]
fn lease_times(
    lease: u32,
    t1: Option<u32>,
    t2: Option<u32>,
    start: Instant,
) -> (
    Option<Duration>,
    Option<Instant>,
    Option<Instant>,
    Option<Instant>,
) {
    if lease == u32::MAX {
        return (None, None, None, None);
    }
    let lease = u64::from(lease);
    let t2 = t2.map_or(lease * 7 / 8, u64::from).min(lease);
    let t1 = t1.map_or(lease / 2, u64::from).min(t2);
    let at = |secs: u64| Some(start + Duration::from_secs(secs));
    (Some(Duration::from_secs(lease)), at(t1), at(t2), at(lease))
}

/// The client and another UDP service behind one UDP endpoint (built by
/// [`Client::and`]): datagrams to port 68 go to the client, the rest to
/// the other service; a lent buffer goes to the client when it has a
/// message due, else to the other service.
pub struct WithService<'c, S> {
    client: &'c mut Client,
    other: S,
}

impl Client {
    /// Shares the UDP endpoint with `other` (a DNS resolver, an
    /// application), so that one receive tree and one send tree serve
    /// both:
    ///
    /// ```text
    /// nic.rx(n, eth.recv(ip.recv(udp.recv(client.and(&mut resolver)))))?;
    /// nic.tx(n, eth.send(ip.send(udp.send(client.and(&mut resolver)))))?;
    /// ```
    pub fn and<S>(&mut self, other: S) -> WithService<'_, S> {
        WithService {
            client: self,
            other,
        }
    }
}

impl<D: Device, S: udp::Recv<D>> udp::Recv<D> for WithService<'_, S> {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 == CLIENT_PORT {
            udp::Recv::receive(&mut *self.client, datagram)
        } else {
            self.other.receive(datagram)
        }
    }
}

impl<D: Device, S: udp::Send<D>> udp::Send<D> for WithService<'_, S> {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let now = raw.info().timestamp;
        self.client.poll(now);
        if self.client.pending_message(now).is_some() {
            udp::Send::send(&mut *self.client, raw)
        } else {
            self.other.send(raw)
        }
    }
}

impl<D: Device> udp::Recv<D> for Client {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 != CLIENT_PORT || datagram.src().1 != SERVER_PORT {
            return;
        }
        let now = datagram.info().timestamp;
        self.poll(now);
        self.handle_message(datagram.payload(), now);
    }
}

impl<D: Device> udp::Send<D> for Client {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let now = raw.info().timestamp;
        self.poll(now);
        let Some(message) = self.pending_message(now) else {
            return;
        };
        let init = udp::Init {
            src_port: CLIENT_PORT,
            dst: (IpAddr::V4(message.dst), SERVER_PORT),
            payload_len: message.repr.buffer_len(),
        };
        let mut out = match raw.prepare_from(IpAddr::V4(message.src), init) {
            Ok(out) => out,
            Err(UdpError::Ip(ip::Error::Unresolved)) => {
                // The buffer carried an ARP request for the server.
                self.send_at = Some(now + UNRESOLVED_RETRY);
                return;
            }
            Err(_) => return self.advance(now, false),
        };
        let emitted = message
            .repr
            .emit(&mut DhcpPacket::new_unchecked(out.payload_mut()));
        let sent = emitted.is_ok() && out.send().is_ok();
        self.advance(now, sent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::layer::neighbor::{NeighborCache, NeighborConfig};
    use crate::layer::route::Routes;
    use crate::wire::dhcpv4::Ipv4List;
    use crate::wire::pcap::PcapReader;
    use std::vec::Vec;

    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const OFFERED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 63);

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    /// The UDP payloads of a capture (Ethernet, IPv4 without options,
    /// UDP: 42 bytes of headers).
    fn payloads(file: &'static [u8]) -> Vec<Vec<u8>> {
        PcapReader::new(file)
            .unwrap()
            .map(|r| r.unwrap().data[42..].to_vec())
            .collect()
    }

    /// dnsmasq's DISCOVER, OFFER, REQUEST, ACK, and dhclient's RELEASE
    /// (see the wire module's tests for how it was captured).
    fn dora() -> Vec<Vec<u8>> {
        payloads(include_bytes!("../../tests/fixtures/dhcp-dora.pcap"))
    }

    /// A captured server message re-addressed to `client`'s transaction.
    fn for_client(message: &[u8], client: &Client) -> Vec<u8> {
        let mut message = message.to_vec();
        message[4..8].copy_from_slice(&client.transaction_id().to_be_bytes());
        message
    }

    /// A server message of `kind` for `client`'s transaction.
    fn reply<'a>(
        client: &Client,
        kind: DhcpMessageType,
        edit: impl FnOnce(&mut DhcpRepr<'a>),
    ) -> Vec<u8> {
        let mut repr: DhcpRepr<'a> = DhcpRepr::new(kind, client.transaction_id(), MAC);
        repr.your_ip = OFFERED;
        repr.server_identifier = Some(SERVER);
        if kind == DhcpMessageType::Ack {
            repr.lease_duration = Some(1000);
            repr.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            repr.router = Ipv4List::new(&[[10, 0, 0, 1]]);
        }
        edit(&mut repr);
        let mut buf = std::vec![0u8; repr.buffer_len()];
        repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]))
            .unwrap();
        buf
    }

    /// Sends what is due at `now`; the message sent.
    fn send(client: &mut Client, now: Instant) -> Option<Message> {
        client.poll(now);
        let message = client.pending_message(now)?;
        client.message_sent(now);
        Some(message)
    }

    /// A client bound at 10 s to a 1000 s lease from a REQUEST sent at
    /// 10 s (T1 510 s, T2 885 s, end 1010 s).
    fn bound() -> Client {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(9)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Offer, |_| {}), secs(10));
        send(&mut client, secs(10)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Ack, |_| {}), secs(10));
        assert_eq!(client.state(), State::Bound);
        client
    }

    fn ip_endpoint<'a>(
        addrs: &'a mut [Option<IpCidr>],
        routes: &'a mut [Option<Route>],
    ) -> ip::Endpoint<'a> {
        ip::Endpoint::new(
            addrs,
            Routes::new(routes),
            NeighborCache::new(&mut [][..], NeighborConfig::default()),
            NeighborCache::new(&mut [][..], NeighborConfig::default()),
        )
    }

    #[test]
    fn discover_goes_out_first_from_nowhere_to_everyone() {
        let mut client = Client::new(MAC, 7, Config::default());
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.next_deadline(), Some(Instant::ZERO));
        let message = send(&mut client, secs(100)).unwrap();
        assert_eq!(message.src, Ipv4Addr::UNSPECIFIED);
        assert_eq!(message.dst, Ipv4Addr::BROADCAST);
        assert_eq!(message.repr.message_type, DhcpMessageType::Discover);
        assert_eq!(message.repr.client_hardware_address, MAC);
        assert_eq!(message.repr.transaction_id, client.transaction_id());
        assert_eq!(
            message.repr.parameter_request_list,
            Some(&[1, 3, 6, 51, 58, 59][..])
        );
        assert!(!message.repr.broadcast);
        assert_eq!(client.state(), State::Selecting);
        assert_eq!(client.stats().tx_discovers, 1);
        // Nothing more is due before the retransmission.
        assert_eq!(client.pending_message(secs(102)), None);
        let wake = client.next_deadline().unwrap();
        assert!(wake >= secs(103) && wake <= secs(105), "{wake}");
    }

    #[test]
    fn broadcast_flag_is_set_when_configured() {
        let config = Config {
            broadcast_flag: true,
            ..Config::default()
        };
        let mut client = Client::new(MAC, 7, config);
        assert!(send(&mut client, secs(1)).unwrap().repr.broadcast);
    }

    #[test]
    fn discover_backs_off_4_8_16_32_64_64_within_a_second() {
        let mut client = Client::new(MAC, 3, Config::default());
        let mut now = secs(1);
        send(&mut client, now).unwrap();
        let xid = client.transaction_id();
        for expected in [4u64, 8, 16, 32, 64, 64, 64] {
            let wake = client.next_deadline().unwrap();
            let waited = wake - now;
            assert!(
                waited >= Duration::from_secs(expected - 1)
                    && waited <= Duration::from_secs(expected + 1),
                "{waited:?} for {expected}"
            );
            now = wake;
            let message = send(&mut client, now).unwrap();
            // Retransmissions keep the transaction.
            assert_eq!(message.repr.transaction_id, xid);
            // `secs` counts from the start of the acquisition.
            assert_eq!(u64::from(message.repr.secs), (now - secs(1)).as_secs());
        }
        assert_eq!(client.stats().tx_discovers, 8);
    }

    #[test]
    fn seeds_choose_transactions_and_jitter() {
        let mut delays = Vec::new();
        let mut xids = Vec::new();
        for seed in 0..8 {
            let mut client = Client::new(MAC, seed, Config::default());
            xids.push(client.transaction_id());
            send(&mut client, secs(0)).unwrap();
            delays.push(client.next_deadline().unwrap());
        }
        xids.sort_unstable();
        xids.dedup();
        assert_eq!(xids.len(), 8);
        delays.sort_unstable();
        delays.dedup();
        assert!(delays.len() > 4, "{delays:?}");
        // The same seed gives the same client.
        let a = Client::new(MAC, 5, Config::default());
        let b = Client::new(MAC, 5, Config::default());
        assert_eq!(a.transaction_id(), b.transaction_id());
    }

    #[test]
    fn zero_jitter_gives_exact_doubling() {
        let config = Config {
            jitter: Duration::ZERO,
            ..Config::default()
        };
        let mut client = Client::new(MAC, 3, config);
        send(&mut client, secs(0)).unwrap();
        assert_eq!(client.next_deadline(), Some(secs(4)));
        send(&mut client, secs(4)).unwrap();
        assert_eq!(client.next_deadline(), Some(secs(12)));
    }

    #[test]
    fn dnsmasq_offer_and_ack_bind_the_address() {
        let dora = dora();
        let mut client = Client::new(MAC, 11, Config::default());
        send(&mut client, secs(100)).unwrap();
        // The retransmitted DISCOVER (at about 104 s) brings the offer.
        let again = client.next_deadline().unwrap();
        let discover = send(&mut client, again).unwrap();
        let at = again + Duration::from_secs(1);
        client.handle_message(&for_client(&dora[1], &client), at);
        assert_eq!(client.state(), State::Requesting);
        assert_eq!(client.stats().rx_offers, 1);
        let request = send(&mut client, at).unwrap();
        assert_eq!(request.repr.message_type, DhcpMessageType::Request);
        assert_eq!(
            (request.src, request.dst),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
        );
        assert_eq!(request.repr.requested_ip, Some(OFFERED));
        assert_eq!(request.repr.server_identifier, Some(SERVER));
        assert_eq!(request.repr.client_ip, Ipv4Addr::UNSPECIFIED);
        // Same transaction and `secs` as the DISCOVER (RFC 2131 4.4.1).
        assert_eq!(request.repr.transaction_id, discover.repr.transaction_id);
        assert_eq!(request.repr.secs, discover.repr.secs);

        let acked = at + Duration::from_millis(5);
        client.handle_message(&for_client(&dora[3], &client), acked);
        assert_eq!(client.state(), State::Bound);
        let lease = *client.lease().unwrap();
        assert_eq!(lease.address(), Ipv4Cidr::new(OFFERED, 24).unwrap());
        assert_eq!(lease.router(), Some(SERVER));
        assert_eq!(lease.server(), SERVER);
        assert_eq!(lease.dns_servers(), &[] as &[Ipv4Addr]);
        assert_eq!(lease.duration(), Some(Duration::from_secs(43200)));
        // From when the REQUEST went out.
        assert_eq!(lease.acquired(), at);
        assert_eq!(lease.renew_at(), Some(at + Duration::from_secs(21600)));
        assert_eq!(lease.rebind_at(), Some(at + Duration::from_secs(37800)));
        assert_eq!(lease.expires_at(), Some(at + Duration::from_secs(43200)));
        assert_eq!(client.next_deadline(), lease.renew_at());
        assert_eq!(client.pending_message(acked), None);
        assert_eq!(client.stats().rx_acks, 1);
    }

    #[test]
    fn udhcpc_capture_gives_dns_servers() {
        let udhcpc = payloads(include_bytes!("../../tests/fixtures/dhcp-udhcpc.pcap"));
        let offer = DhcpRepr::parse(&DhcpPacket::new_checked(&udhcpc[1][..]).unwrap()).unwrap();
        let mut client = Client::new(offer.client_hardware_address, 2, Config::default());
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&for_client(&udhcpc[1], &client), secs(1));
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&for_client(&udhcpc[3], &client), secs(1));
        let lease = client.lease().unwrap();
        assert_eq!(
            lease.dns_servers(),
            &[Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)]
        );
    }

    #[test]
    fn at_most_three_dns_servers_are_kept() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Offer, |_| {}), secs(1));
        send(&mut client, secs(1)).unwrap();
        let five = [
            [1, 1, 1, 1],
            [2, 2, 2, 2],
            [3, 3, 3, 3],
            [4, 4, 4, 4],
            [5, 5, 5, 5],
        ];
        let ack = reply(&client, DhcpMessageType::Ack, |r| {
            r.dns_servers = Ipv4List::new(&five);
        });
        client.handle_message(&ack, secs(1));
        assert_eq!(
            client.lease().unwrap().dns_servers(),
            &[
                Ipv4Addr::new(1, 1, 1, 1),
                Ipv4Addr::new(2, 2, 2, 2),
                Ipv4Addr::new(3, 3, 3, 3)
            ]
        );
    }

    #[test]
    fn foreign_transactions_and_garbage_are_ignored() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        let mut offer = reply(&client, DhcpMessageType::Offer, |_| {});
        offer[7] ^= 1;
        client.handle_message(&offer, secs(2));
        let other_mac = reply(&client, DhcpMessageType::Offer, |r| {
            r.client_hardware_address = EthernetAddress([2, 0, 0, 0, 0, 9]);
        });
        client.handle_message(&other_mac, secs(2));
        // An ACK while selecting is not an answer to anything sent.
        client.handle_message(&reply(&client, DhcpMessageType::Ack, |_| {}), secs(2));
        assert_eq!(client.stats().rx_ignored, 3);
        for garbage in [&[][..], &[2; 10][..], &dora()[1][..200]] {
            client.handle_message(garbage, secs(2));
        }
        // The client's own DISCOVER (a request, not a reply) parses but
        // is no offer.
        client.handle_message(&dora()[0], secs(2));
        assert_eq!(client.stats().rx_malformed, 3);
        assert_eq!(client.state(), State::Selecting);
    }

    #[test]
    fn offers_missing_what_they_must_carry_are_refused() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        let no_server = reply(&client, DhcpMessageType::Offer, |r| {
            r.server_identifier = None
        });
        let broadcast = reply(&client, DhcpMessageType::Offer, |r| {
            r.your_ip = Ipv4Addr::BROADCAST
        });
        let zero = reply(&client, DhcpMessageType::Offer, |r| {
            r.your_ip = Ipv4Addr::UNSPECIFIED
        });
        for offer in [no_server, broadcast, zero] {
            client.handle_message(&offer, secs(2));
        }
        assert_eq!(client.stats().rx_malformed, 3);
        assert_eq!(client.state(), State::Selecting);
    }

    #[test]
    fn acks_without_lease_time_or_with_bad_address_are_refused() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Offer, |_| {}), secs(1));
        send(&mut client, secs(1)).unwrap();
        let no_time = reply(&client, DhcpMessageType::Ack, |r| r.lease_duration = None);
        let multicast = reply(&client, DhcpMessageType::Ack, |r| {
            r.your_ip = Ipv4Addr::new(224, 0, 0, 1)
        });
        // Another server's ACK is not for the offer taken.
        let other = reply(&client, DhcpMessageType::Ack, |r| {
            r.server_identifier = Some(Ipv4Addr::new(10, 0, 0, 3))
        });
        for ack in [no_time, multicast, other] {
            client.handle_message(&ack, secs(2));
        }
        assert_eq!(client.stats().rx_malformed, 2);
        assert_eq!(client.stats().rx_ignored, 1);
        assert_eq!(client.state(), State::Requesting);
    }

    #[test]
    fn odd_masks_fall_back_to_the_address_class() {
        for (mask, address, prefix) in [
            (Some([255, 0, 255, 0]), [10, 1, 2, 3], 8),
            (Some([0, 0, 0, 0]), [172, 16, 0, 9], 16),
            (None, [192, 168, 1, 7], 24),
            (Some([255, 255, 255, 255]), [192, 168, 1, 7], 32),
        ] {
            let mut client = Client::new(MAC, 1, Config::default());
            send(&mut client, secs(1)).unwrap();
            let address = Ipv4Addr::from(address);
            client.handle_message(
                &reply(&client, DhcpMessageType::Offer, |r| r.your_ip = address),
                secs(1),
            );
            send(&mut client, secs(1)).unwrap();
            let ack = reply(&client, DhcpMessageType::Ack, |r| {
                r.your_ip = address;
                r.subnet_mask = mask.map(Ipv4Addr::from);
            });
            client.handle_message(&ack, secs(1));
            let lease = client.lease().unwrap();
            assert_eq!(lease.address(), Ipv4Cidr::new(address, prefix).unwrap());
        }
    }

    #[test]
    fn lease_times_follow_rfc_2131_defaults_and_bounds() {
        let start = secs(100);
        let at = |s: u64| Some(start + Duration::from_secs(s));
        assert_eq!(
            lease_times(1000, None, None, start),
            (Some(Duration::from_secs(1000)), at(500), at(875), at(1000))
        );
        // T2 past the lease, T1 past T2: clamped.
        assert_eq!(
            lease_times(100, Some(300), Some(200), start),
            (Some(Duration::from_secs(100)), at(100), at(100), at(100))
        );
        assert_eq!(lease_times(100, Some(90), None, start).1, at(87));
        assert_eq!(lease_times(0, None, None, start).3, at(0));
        assert_eq!(
            lease_times(u32::MAX, Some(1), Some(2), start),
            (None, None, None, None)
        );
        // The largest finite lease near the end of time saturates.
        let late = lease_times(u32::MAX - 1, None, None, Instant::MAX);
        assert_eq!(late.3, Some(Instant::MAX));
    }

    #[test]
    fn renewing_at_t1_unicasts_to_the_server() {
        let mut client = bound();
        assert_eq!(client.next_deadline(), Some(secs(510)));
        assert_eq!(send(&mut client, secs(509)), None);
        let request = send(&mut client, secs(510)).unwrap();
        assert_eq!(client.state(), State::Renewing);
        assert_eq!((request.src, request.dst), (OFFERED, SERVER));
        assert_eq!(request.repr.client_ip, OFFERED);
        assert_eq!(request.repr.requested_ip, None);
        assert_eq!(request.repr.server_identifier, None);
        assert_eq!(request.repr.secs, 0);
        // Half of the 375 s to T2.
        assert_eq!(
            client.next_deadline(),
            Some(secs(510) + Duration::from_millis(187_500))
        );
        // Closer to T2 the minimum of 60 s holds; T2 comes first.
        send(&mut client, secs(800)).unwrap();
        assert_eq!(client.next_deadline(), Some(secs(860)));
        // The server's ACK extends the lease from the last REQUEST.
        client.handle_message(&reply(&client, DhcpMessageType::Ack, |_| {}), secs(801));
        assert_eq!(client.state(), State::Bound);
        assert_eq!(client.lease().unwrap().expires_at(), Some(secs(1800)));
        assert_eq!(client.stats().rx_acks, 2);
    }

    #[test]
    fn rebinding_at_t2_broadcasts_then_the_lease_expires() {
        let mut client = bound();
        send(&mut client, secs(510)).unwrap();
        let xid = client.transaction_id();
        let request = send(&mut client, secs(885)).unwrap();
        assert_eq!(client.state(), State::Rebinding);
        assert_ne!(request.repr.transaction_id, xid);
        assert_eq!((request.src, request.dst), (OFFERED, Ipv4Addr::BROADCAST));
        assert_eq!(request.repr.client_ip, OFFERED);
        // 125 s left: wait 62.5 s.
        assert_eq!(
            client.next_deadline(),
            Some(secs(885) + Duration::from_millis(62_500))
        );
        send(&mut client, secs(948)).unwrap();
        // The lease ends at 1010 s before the next retransmission.
        assert_eq!(client.next_deadline(), Some(secs(1008).min(secs(1010))));
        client.poll(secs(1010));
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.lease(), None);
        assert_eq!(client.stats().leases_expired, 1);
        let discover = send(&mut client, secs(1010)).unwrap();
        assert_eq!(discover.repr.message_type, DhcpMessageType::Discover);
        assert_eq!(discover.src, Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn any_server_may_answer_while_rebinding() {
        let mut client = bound();
        send(&mut client, secs(900)).unwrap();
        assert_eq!(client.state(), State::Rebinding);
        let other = Ipv4Addr::new(10, 0, 0, 3);
        let ack = reply(&client, DhcpMessageType::Ack, |r| {
            r.server_identifier = Some(other)
        });
        client.handle_message(&ack, secs(901));
        assert_eq!(client.state(), State::Bound);
        assert_eq!(client.lease().unwrap().server(), other);
    }

    #[test]
    fn a_late_wake_up_skips_to_where_the_time_is() {
        let mut client = bound();
        // Past T2 without having renewed: straight to REBINDING.
        client.poll(secs(900));
        assert_eq!(client.state(), State::Rebinding);
        let mut client = bound();
        client.poll(secs(5000));
        assert_eq!(client.state(), State::Init);
    }

    #[test]
    fn nak_restarts_from_requesting_and_renewing() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Offer, |_| {}), secs(1));
        send(&mut client, secs(1)).unwrap();
        // A NAK naming another server is not about this request.
        let other = reply(&client, DhcpMessageType::Nak, |r| {
            r.server_identifier = Some(Ipv4Addr::new(10, 0, 0, 3))
        });
        client.handle_message(&other, secs(2));
        assert_eq!(client.state(), State::Requesting);
        client.handle_message(&reply(&client, DhcpMessageType::Nak, |_| {}), secs(2));
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.next_deadline(), Some(secs(2)));

        let mut client = bound();
        send(&mut client, secs(600)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Nak, |_| {}), secs(601));
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.lease(), None);
        assert_eq!(client.stats().rx_naks, 1);
        assert_eq!(client.stats().restarts, 1);
    }

    #[test]
    fn unanswered_requests_give_up_after_the_retries() {
        let mut client = Client::new(MAC, 1, Config::default());
        send(&mut client, secs(1)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Offer, |_| {}), secs(1));
        let mut now = secs(1);
        for _ in 0..5 {
            let request = send(&mut client, now).unwrap();
            assert_eq!(request.repr.message_type, DhcpMessageType::Request);
            now = client.next_deadline().unwrap();
        }
        let discover = send(&mut client, now).unwrap();
        assert_eq!(discover.repr.message_type, DhcpMessageType::Discover);
        assert_eq!(client.stats().tx_requests, 5);
        assert_eq!(client.stats().restarts, 1);
    }

    #[test]
    fn release_tells_the_server_and_stops() {
        let mut client = bound();
        client.release(secs(20));
        assert_eq!(client.state(), State::Releasing);
        let release = send(&mut client, secs(20)).unwrap();
        assert_eq!(release.repr.message_type, DhcpMessageType::Release);
        assert_eq!((release.src, release.dst), (OFFERED, SERVER));
        assert_eq!(release.repr.client_ip, OFFERED);
        assert_eq!(release.repr.server_identifier, Some(SERVER));
        assert_eq!(client.state(), State::Released);
        assert_eq!(client.lease(), None);
        assert_eq!(client.next_deadline(), None);
        assert_eq!(send(&mut client, secs(10_000)), None);
        // Answers after the release change nothing.
        client.handle_message(&reply(&client, DhcpMessageType::Ack, |_| {}), secs(21));
        assert_eq!(client.state(), State::Released);
        client.restart(secs(30));
        assert_eq!(client.state(), State::Init);
        assert_eq!(
            send(&mut client, secs(30)).unwrap().repr.message_type,
            DhcpMessageType::Discover
        );
    }

    #[test]
    fn release_gives_up_when_the_server_cannot_be_reached() {
        let mut client = bound();
        client.release(secs(20));
        client.poll(secs(22));
        assert_eq!(client.state(), State::Releasing);
        client.poll(secs(23));
        assert_eq!(client.state(), State::Released);
        assert_eq!(client.lease(), None);
        // Without a lease there is nothing to release.
        let mut idle = Client::new(MAC, 1, Config::default());
        idle.release(secs(1));
        assert_eq!(idle.state(), State::Released);
        assert_eq!(idle.next_deadline(), None);
    }

    #[test]
    fn apply_installs_and_removes_address_and_route() {
        let mut addrs = [None; 2];
        let mut routes = [None; 2];
        let mut ip = ip_endpoint(&mut addrs, &mut routes);
        let mut client = bound();
        let event = client.apply(&mut ip, secs(11)).unwrap();
        let lease = *client.lease().unwrap();
        assert_eq!(event, Some(Event::Configured(lease)));
        let cidr = IpCidr::V4(Ipv4Cidr::new(OFFERED, 24).unwrap());
        assert!(ip.addrs().eq([cidr]));
        assert!(
            ip.routes()
                .iter()
                .eq([&Route::default_v4(Ipv4Addr::new(10, 0, 0, 1))])
        );
        // Nothing changed: nothing to do.
        assert_eq!(client.apply(&mut ip, secs(12)).unwrap(), None);
        // A renewal with the same address changes nothing either.
        send(&mut client, secs(510)).unwrap();
        client.handle_message(&reply(&client, DhcpMessageType::Ack, |_| {}), secs(511));
        assert_eq!(client.apply(&mut ip, secs(511)).unwrap(), None);
        // The lease ends: both go.
        assert_eq!(
            client.apply(&mut ip, secs(5000)).unwrap(),
            Some(Event::Deconfigured)
        );
        assert_eq!(ip.addrs().count(), 0);
        assert_eq!(ip.routes().len(), 0);
    }

    #[test]
    fn apply_moves_to_a_new_address_and_reports_full_tables() {
        let mut addrs = [None; 1];
        let mut routes = [None; 1];
        let mut ip = ip_endpoint(&mut addrs, &mut routes);
        let mut client = bound();
        client.apply(&mut ip, secs(11)).unwrap();
        // Renewal gives another address and no router.
        send(&mut client, secs(510)).unwrap();
        let moved = Ipv4Addr::new(10, 0, 0, 77);
        let ack = reply(&client, DhcpMessageType::Ack, |r| {
            r.your_ip = moved;
            r.router = None;
        });
        client.handle_message(&ack, secs(511));
        assert!(matches!(
            client.apply(&mut ip, secs(511)),
            Ok(Some(Event::Configured(_)))
        ));
        assert!(
            ip.addrs()
                .eq([IpCidr::V4(Ipv4Cidr::new(moved, 24).unwrap())])
        );
        assert!(ip.routes().is_empty());

        // No room for the address.
        let mut full = [Some(IpCidr::V4(
            Ipv4Cidr::new(Ipv4Addr::new(192, 168, 0, 1), 24).unwrap(),
        ))];
        let mut routes = [None; 1];
        let mut ip = ip_endpoint(&mut full, &mut routes);
        let mut client = bound();
        assert_eq!(client.apply(&mut ip, secs(11)), Err(ip::Error::TableFull));
        assert_eq!(client.apply(&mut ip, secs(11)), Err(ip::Error::TableFull));
        // No room for the route: the address stays, the error repeats.
        let mut addrs = [None; 1];
        let mut ip = ip_endpoint(&mut addrs, &mut []);
        assert_eq!(client.apply(&mut ip, secs(11)), Err(ip::Error::TableFull));
        assert_eq!(ip.addrs().count(), 1);
    }

    #[test]
    fn state_names() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(State::Rebinding.to_string(), "REBINDING");
        assert_eq!(State::Init.to_string(), "INIT");
    }
}
