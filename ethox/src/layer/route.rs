//! The route table: longest-prefix match over caller storage, both
//! families, and a token bucket to rate-limit ICMP errors.
//!
//! [`Routes`] answers "where does a datagram for `dst` go next": straight
//! to `dst` on the link ([`Route::on_link`]), or to a gateway
//! ([`Route::via`]). Among the unexpired routes of `dst`'s family whose
//! network contains `dst`, the longest prefix wins (RFC 1812 section
//! 5.2.4.3); between equal prefixes the lowest metric wins, and between
//! equal metrics the route added first.
//!
//! The table has no implicit routes: the caller adds the on-link prefixes
//! of its own addresses (and `fe80::/64` for IPv6 link-local traffic, RFC
//! 4291 section 2.5.6) next to any gateways. A datagram's family is its
//! [`IpAddr`] variant: an IPv4-mapped IPv6 address is looked up as IPv6.
//!
//! Routes learned from router advertisements carry an expiry
//! ([`Route::expires_at`], RFC 4861 section 6.3.4). An expired route is
//! ignored by [`Routes::lookup`] at once and its slot is freed by
//! [`Routes::remove_expired`]; [`Routes::next_deadline`] tells an event
//! loop when to call it.
//!
//! Every operation is a linear scan of the storage. Route tables of a
//! host hold a handful of entries, where a scan beats any index, and the
//! scan needs no storage beyond the slots the caller hands in.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use ethox::layer::route::{Route, Routes};
//! use ethox::time::Instant;
//! use ethox::wire::ip::IpCidr;
//!
//! let mut storage = [None; 4];
//! let mut routes = Routes::new(&mut storage[..]);
//! let router = Ipv4Addr::new(192, 168, 1, 1);
//! let lan = IpCidr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 0)), 24).unwrap();
//! routes.add(Route::default_v4(router)).unwrap();
//! routes.add(Route::on_link(lan)).unwrap();
//!
//! let now = Instant::from_secs(1);
//! // A neighbor on the LAN is reached directly...
//! let peer = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));
//! let hop = routes.lookup(peer, now).unwrap();
//! assert_eq!(hop.gateway, None);
//! assert_eq!(hop.neighbor(peer), peer);
//! // ...anything else through the router.
//! let far = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
//! let hop = routes.lookup(far, now).unwrap();
//! assert_eq!(hop.neighbor(far), IpAddr::V4(router));
//! ```

use core::fmt;
use core::time::Duration;

use crate::managed::Slice;
use crate::time::Instant;
use crate::wire::ip::{IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};
use crate::wire::ipv4::Ipv4Cidr;
use crate::wire::ipv6::Ipv6Cidr;

// `new` only fails for a prefix longer than the address, so these are
// evaluated (and checked) at compile time: no run-time panic path exists.
const DEFAULT_NET_V4: Ipv4Cidr = match Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0) {
    Ok(net) => net,
    Err(_) => panic!("0.0.0.0/0 is a valid block"),
};
const DEFAULT_NET_V6: Ipv6Cidr = match Ipv6Cidr::new(Ipv6Addr::UNSPECIFIED, 0) {
    Ok(net) => net,
    Err(_) => panic!("::/0 is a valid block"),
};

/// One route: a destination network and how to reach it.
///
/// The fields are public; [`Routes::add`] checks them and clears the host
/// bits of `net`, so `10.0.0.1/24` and `10.0.0.0/24` are the same route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destinations this route covers.
    pub net: IpCidr,
    /// The next hop, of the same family as `net`; `None` when the network
    /// is on-link and datagrams go straight to their destination.
    pub gateway: Option<IpAddr>,
    /// Preference between routes of equal prefix length: lower wins.
    pub metric: u16,
    /// When the route stops being valid (routes learned from router
    /// advertisements); `None` for a route that never expires.
    pub expires_at: Option<Instant>,
}

impl Route {
    /// `net` is on the link: its destinations are neighbors.
    pub const fn on_link(net: IpCidr) -> Route {
        Route {
            net,
            gateway: None,
            metric: 0,
            expires_at: None,
        }
    }

    /// `net` is reached through `gateway`, a neighbor that forwards.
    pub const fn via(net: IpCidr, gateway: IpAddr) -> Route {
        Route {
            net,
            gateway: Some(gateway),
            metric: 0,
            expires_at: None,
        }
    }

    /// The IPv4 default route `0.0.0.0/0` through `gateway`.
    pub const fn default_v4(gateway: Ipv4Addr) -> Route {
        Route::via(IpCidr::V4(DEFAULT_NET_V4), IpAddr::V4(gateway))
    }

    /// The IPv6 default route `::/0` through `gateway` (usually the
    /// router's link-local address, RFC 4861 section 6.3.4).
    pub const fn default_v6(gateway: Ipv6Addr) -> Route {
        Route::via(IpCidr::V6(DEFAULT_NET_V6), IpAddr::V6(gateway))
    }

    /// This route with `metric`.
    pub const fn with_metric(mut self, metric: u16) -> Route {
        self.metric = metric;
        self
    }

    /// This route, valid until `at` (exclusive).
    pub const fn expiring_at(mut self, at: Instant) -> Route {
        self.expires_at = Some(at);
        self
    }

    /// Whether the route is no longer valid at `now`: a route expiring at
    /// `t` is used strictly before `t`.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

impl fmt::Display for Route {
    /// `10.0.0.0/8 via 10.0.0.1 metric 5`, `10.0.0.0/24 on-link metric 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.gateway {
            Some(gateway) => write!(f, "{} via {gateway}", self.net)?,
            None => write!(f, "{} on-link", self.net)?,
        }
        write!(f, " metric {}", self.metric)?;
        if let Some(at) = self.expires_at {
            write!(f, " expires {at}")?;
        }
        Ok(())
    }
}

/// Why a route was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteError {
    /// The gateway's family differs from the network's.
    FamilyMismatch,
    /// The gateway can not be a neighbor: unspecified, multicast, or the
    /// IPv4 limited broadcast address.
    BadGateway,
    /// Every slot holds a route; none was overwritten.
    TableFull,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteError::FamilyMismatch => "gateway and network of different families",
            RouteError::BadGateway => "gateway is not a unicast address",
            RouteError::TableFull => "route table full",
        })
    }
}

impl core::error::Error for RouteError {}

/// The answer of [`Routes::lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NextHop {
    /// The gateway to send to, or `None` when the destination is on-link.
    pub gateway: Option<IpAddr>,
    /// The route that matched.
    pub route: Route,
}

impl NextHop {
    /// The neighbor whose link-layer address the datagram to `dst` needs:
    /// the gateway, or `dst` itself when it is on-link.
    pub fn neighbor(&self, dst: IpAddr) -> IpAddr {
        self.gateway.unwrap_or(dst)
    }
}

/// The block with its host bits cleared, so equal networks compare equal.
fn network_of(net: IpCidr) -> IpCidr {
    match net {
        IpCidr::V4(c) => IpCidr::V4(c.network()),
        IpCidr::V6(c) => IpCidr::V6(c.network()),
    }
}

/// Checks a gateway against its network.
fn check_gateway(net: IpCidr, gateway: IpAddr) -> Result<(), RouteError> {
    let unusable = match (net, gateway) {
        // A datagram is handed to the gateway as a link-layer unicast, so
        // the gateway must be a unicast address (RFC 1122 section 3.3.1.2).
        (IpCidr::V4(_), IpAddr::V4(a)) => {
            a.is_unspecified() || a.is_multicast() || a.is_broadcast()
        }
        (IpCidr::V6(_), IpAddr::V6(a)) => a.is_unspecified() || a.is_multicast(),
        _ => return Err(RouteError::FamilyMismatch),
    };
    if unusable {
        Err(RouteError::BadGateway)
    } else {
        Ok(())
    }
}

/// A route table over caller storage.
///
/// Create the storage as `[None; N]`; its length is the capacity. Routes
/// are kept packed at the front of the storage in the order they were
/// added, which is the order of [`iter`](Self::iter) and the last
/// tie-break of [`lookup`](Self::lookup). All operations are O(n) scans.
#[derive(Debug)]
pub struct Routes<'a> {
    /// Invariant: `slots[..len]` are all `Some`, `slots[len..]` all `None`.
    slots: Slice<'a, Option<Route>>,
    len: usize,
    /// The earliest `expires_at` among the stored routes, kept current by
    /// every change: the IP layer asks for it on every packet.
    next_expiry: Option<Instant>,
    /// Changes with every change to the table (see
    /// [`generation`](Routes::generation)).
    generation: u32,
}

impl<'a> Routes<'a> {
    /// An empty table over `storage`; whatever it held is cleared.
    pub fn new(storage: impl Into<Slice<'a, Option<Route>>>) -> Self {
        let mut slots = storage.into();
        for slot in slots.iter_mut() {
            *slot = None;
        }
        Routes {
            slots,
            len: 0,
            next_expiry: None,
            generation: 0,
        }
    }

    /// The number of routes the storage can hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The number of routes stored, expired ones not yet removed included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no route.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn live(&self) -> &[Option<Route>] {
        self.slots.get(..self.len).unwrap_or(&[])
    }

    /// The routes stored, in the order they were added, expired ones not
    /// yet removed included.
    pub fn iter(&self) -> impl Iterator<Item = &Route> + '_ {
        self.live().iter().flatten()
    }

    /// Adds `route`, or updates the route with the same network and
    /// gateway (its metric and expiry; it keeps its place in the order).
    ///
    /// The gateway must be of the network's family
    /// ([`RouteError::FamilyMismatch`]) and a unicast address
    /// ([`RouteError::BadGateway`]). A full table refuses new routes with
    /// [`RouteError::TableFull`] and keeps every stored route: expired
    /// routes hold their slot until [`remove_expired`](Self::remove_expired),
    /// so call it first when adding a route learned from the network.
    pub fn add(&mut self, route: Route) -> Result<(), RouteError> {
        if let Some(gateway) = route.gateway {
            check_gateway(route.net, gateway)?;
        }
        let route = Route {
            net: network_of(route.net),
            ..route
        };
        let live = self.slots.get_mut(..self.len).unwrap_or(&mut []);
        for existing in live.iter_mut().flatten() {
            if existing.net == route.net && existing.gateway == route.gateway {
                *existing = route;
                self.changed();
                return Ok(());
            }
        }
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(route);
                self.len += 1;
                self.changed();
                Ok(())
            }
            None => Err(RouteError::TableFull),
        }
    }

    fn earliest_expiry(&self) -> Option<Instant> {
        self.iter().filter_map(|r| r.expires_at).min()
    }

    /// Records a change to the table: a new earliest expiry, a new
    /// generation.
    fn changed(&mut self) {
        self.next_expiry = self.earliest_expiry();
        self.generation = self.generation.wrapping_add(1);
    }

    /// A number that changes (wrapping) whenever a route is added, updated
    /// or removed: equal values mean a [`lookup`](Self::lookup) answer
    /// still stands, until the [`next_deadline`](Self::next_deadline).
    #[inline]
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Keeps the routes for which `keep` holds, in order; returns how many
    /// were dropped.
    fn retain(&mut self, mut keep: impl FnMut(&Route) -> bool) -> usize {
        let mut kept = 0;
        for index in 0..self.len {
            let Some(Some(route)) = self.slots.get(index).copied() else {
                continue;
            };
            if keep(&route) {
                if let Some(slot) = self.slots.get_mut(kept) {
                    *slot = Some(route);
                }
                kept += 1;
            }
        }
        for slot in self.slots.get_mut(kept..self.len).unwrap_or(&mut []) {
            *slot = None;
        }
        let dropped = self.len.saturating_sub(kept);
        self.len = kept;
        self.changed();
        dropped
    }

    /// Removes the route to `net` through `gateway` (`None`: the on-link
    /// route). Host bits of `net` are ignored. Returns whether one existed.
    pub fn remove(&mut self, net: IpCidr, gateway: Option<IpAddr>) -> bool {
        let net = network_of(net);
        self.retain(|r| !(r.net == net && r.gateway == gateway)) > 0
    }

    /// Removes the routes expired at `now`; returns how many.
    pub fn remove_expired(&mut self, now: Instant) -> usize {
        self.retain(|r| !r.is_expired(now))
    }

    /// Removes every route.
    pub fn clear(&mut self) {
        self.retain(|_| false);
    }

    /// The earliest expiry among the stored routes: when
    /// [`remove_expired`](Self::remove_expired) has work to do. It may
    /// already be past if expired routes were not removed yet.
    #[inline]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_expiry
    }

    /// The next hop towards `dst` at `now`: the longest prefix among the
    /// unexpired routes of `dst`'s family that contain it, then the lowest
    /// metric, then the route added first. `None` when no route matches.
    pub fn lookup(&self, dst: IpAddr, now: Instant) -> Option<NextHop> {
        let mut best: Option<&Route> = None;
        for route in self.iter() {
            // `contains_addr` is false across families.
            if !route.net.contains_addr(dst) || route.is_expired(now) {
                continue;
            }
            // Strict comparisons: an equal candidate added later never
            // displaces the earlier one.
            let better = best.is_none_or(|b| {
                let (len, best_len) = (route.net.prefix_len(), b.net.prefix_len());
                len > best_len || (len == best_len && route.metric < b.metric)
            });
            if better {
                best = Some(route);
            }
        }
        best.map(|route| NextHop {
            gateway: route.gateway,
            route: *route,
        })
    }
}

/// Counters of a [`RateLimiter`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RateLimiterStats {
    /// Calls to [`RateLimiter::allow`] that took a token.
    pub allowed: u64,
    /// Calls to [`RateLimiter::allow`] refused for want of a token.
    pub limited: u64,
}

/// A token bucket limiting how often ICMP errors are sent.
///
/// RFC 4443 section 2.4 (f) requires an IPv6 node to limit the rate of
/// the ICMPv6 errors it originates and recommends a token bucket; RFC 1812
/// section 4.3.2.8 asks the same of IPv4 routers. Without a limit, a flood
/// of bad datagrams turns the host into an amplifier of error traffic.
///
/// The bucket holds at most `capacity` tokens and starts full, so a burst
/// of `capacity` errors goes out at once; after that one token comes back
/// every `refill_every`. Each sent error costs one token.
///
/// Time comes from the caller. A `now` earlier than the last refill (a
/// clock that stepped back) mints nothing: tokens left may still be spent,
/// and refilling resumes once time passes the last refill again, so a
/// broken clock can only make the host send fewer errors, never more.
///
/// ```
/// use core::time::Duration;
/// use ethox::layer::route::RateLimiter;
/// use ethox::time::Instant;
///
/// let mut limiter = RateLimiter::new(2, Duration::from_millis(100));
/// let t0 = Instant::from_secs(1);
/// assert!(limiter.allow(t0));
/// assert!(limiter.allow(t0));
/// assert!(!limiter.allow(t0)); // burst spent
/// assert!(limiter.allow(t0 + Duration::from_millis(100))); // one token back
/// assert_eq!(limiter.stats().limited, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimiter {
    capacity: u32,
    refill_every: Duration,
    tokens: u32,
    /// The instant the tokens were last counted at; `None` before the
    /// first call, whose time becomes the start.
    last_refill: Option<Instant>,
    stats: RateLimiterStats,
}

impl RateLimiter {
    /// A full bucket of `capacity` tokens, one token back every
    /// `refill_every`. A capacity of zero refuses everything; a zero
    /// interval limits nothing.
    pub const fn new(capacity: u32, refill_every: Duration) -> RateLimiter {
        RateLimiter {
            capacity,
            refill_every,
            tokens: capacity,
            last_refill: None,
            stats: RateLimiterStats {
                allowed: 0,
                limited: 0,
            },
        }
    }

    /// The most tokens the bucket holds.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// The time it takes one token to come back.
    pub fn refill_every(&self) -> Duration {
        self.refill_every
    }

    /// The tokens left as of the last call to [`allow`](Self::allow).
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// The counters.
    pub fn stats(&self) -> RateLimiterStats {
        self.stats
    }

    /// Whether one more error may be sent at `now`; takes a token if so.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens > 0 {
            self.tokens -= 1;
            self.stats.allowed = self.stats.allowed.saturating_add(1);
            true
        } else {
            self.stats.limited = self.stats.limited.saturating_add(1);
            false
        }
    }

    fn refill(&mut self, now: Instant) {
        let Some(last) = self.last_refill else {
            self.last_refill = Some(now);
            return;
        };
        let period = self.refill_every.as_nanos();
        if self.tokens >= self.capacity || period == 0 {
            // A full bucket (or no limit at all) carries no partial token:
            // the next one is a whole period after the next spend.
            self.tokens = self.capacity;
            self.last_refill = Some(now.max(last));
            return;
        }
        // Earlier than the last refill: the clock stepped back. Mint
        // nothing and keep the anchor, so the same interval is never
        // credited twice.
        let Some(elapsed) = now.checked_duration_since(last) else {
            return;
        };
        let elapsed = elapsed.as_nanos();
        let periods = elapsed / period;
        if periods == 0 {
            return;
        }
        let room = self.capacity - self.tokens;
        match u32::try_from(periods) {
            Ok(periods) if periods < room => {
                self.tokens += periods;
                // Advance by whole periods only, so the fraction of the
                // next token already earned is kept. The advance is at
                // most `elapsed`, which fits since `now` does.
                let advance = u64::try_from(u128::from(periods) * period).unwrap_or(u64::MAX);
                self.last_refill = Some(Instant::from_nanos(
                    last.as_nanos().saturating_add(advance).min(now.as_nanos()),
                ));
            }
            _ => {
                self.tokens = self.capacity;
                self.last_refill = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn v6(segments: [u16; 8]) -> IpAddr {
        IpAddr::V6(Ipv6Addr::from(segments))
    }

    fn net(addr: IpAddr, prefix_len: u8) -> IpCidr {
        IpCidr::new(addr, prefix_len).unwrap()
    }

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    fn gateway_for(routes: &Routes<'_>, dst: IpAddr, now: Instant) -> Option<Option<IpAddr>> {
        routes.lookup(dst, now).map(|hop| hop.gateway)
    }

    #[test]
    fn longest_prefix_ipv4() {
        let mut storage = [None; 8];
        let mut routes = Routes::new(&mut storage);
        let (gw0, gw8, gw32) = (v4(192, 168, 0, 1), v4(192, 168, 0, 8), v4(192, 168, 0, 32));
        // Added shortest last and longest first, so order can not explain
        // the result.
        routes
            .add(Route::via(net(v4(10, 1, 2, 3), 32), gw32))
            .unwrap();
        routes
            .add(Route::on_link(net(v4(10, 1, 2, 0), 24)))
            .unwrap();
        routes
            .add(Route::via(net(v4(10, 0, 0, 0), 8), gw8))
            .unwrap();
        routes
            .add(Route::default_v4(Ipv4Addr::new(192, 168, 0, 1)))
            .unwrap();
        let now = secs(1);
        assert_eq!(gateway_for(&routes, v4(10, 1, 2, 3), now), Some(Some(gw32)));
        assert_eq!(gateway_for(&routes, v4(10, 1, 2, 4), now), Some(None));
        assert_eq!(gateway_for(&routes, v4(10, 1, 2, 255), now), Some(None));
        assert_eq!(gateway_for(&routes, v4(10, 1, 3, 3), now), Some(Some(gw8)));
        assert_eq!(
            gateway_for(&routes, v4(10, 255, 255, 255), now),
            Some(Some(gw8))
        );
        assert_eq!(gateway_for(&routes, v4(11, 1, 2, 3), now), Some(Some(gw0)));
        assert_eq!(gateway_for(&routes, v4(0, 0, 0, 0), now), Some(Some(gw0)));
        let hop = routes.lookup(v4(10, 9, 9, 9), now).unwrap();
        assert_eq!(hop.route.net, net(v4(10, 0, 0, 0), 8));
        assert_eq!(hop.neighbor(v4(10, 9, 9, 9)), gw8);
    }

    #[test]
    fn longest_prefix_ipv6() {
        let mut storage = [None; 8];
        let mut routes = Routes::new(&mut storage);
        let router = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let gw48 = v6([0xfe80, 0, 0, 0, 0, 0, 0, 0x48]);
        let gw128 = v6([0xfe80, 0, 0, 0, 0, 0, 0, 0x128]);
        let host = v6([0x2001, 0xdb8, 1, 2, 0, 0, 0, 0x99]);
        routes.add(Route::default_v6(router)).unwrap();
        routes
            .add(Route::via(
                net(v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0]), 48),
                gw48,
            ))
            .unwrap();
        routes
            .add(Route::on_link(net(
                v6([0x2001, 0xdb8, 1, 2, 0, 0, 0, 0]),
                64,
            )))
            .unwrap();
        routes.add(Route::via(net(host, 128), gw128)).unwrap();
        let now = secs(1);
        assert_eq!(gateway_for(&routes, host, now), Some(Some(gw128)));
        let neighbor = v6([0x2001, 0xdb8, 1, 2, 0xa, 0xb, 0xc, 0xd]);
        assert_eq!(gateway_for(&routes, neighbor, now), Some(None));
        assert_eq!(
            routes.lookup(neighbor, now).unwrap().neighbor(neighbor),
            neighbor
        );
        let sibling = v6([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]);
        assert_eq!(gateway_for(&routes, sibling, now), Some(Some(gw48)));
        let far = v6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 1]);
        assert_eq!(
            gateway_for(&routes, far, now),
            Some(Some(IpAddr::V6(router)))
        );
    }

    #[test]
    fn families_never_answer_each_other() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        routes
            .add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 1)))
            .unwrap();
        let v6_dst = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
        assert_eq!(routes.lookup(v6_dst, secs(1)), None);
        // An IPv4-mapped IPv6 address is IPv6.
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 2).to_ipv6_mapped());
        assert_eq!(routes.lookup(mapped, secs(1)), None);

        let router = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        routes.add(Route::default_v6(router)).unwrap();
        assert_eq!(
            gateway_for(&routes, v6_dst, secs(1)),
            Some(Some(IpAddr::V6(router)))
        );
        assert_eq!(
            gateway_for(&routes, v4(8, 8, 8, 8), secs(1)),
            Some(Some(v4(10, 0, 0, 1)))
        );

        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        routes.add(Route::default_v6(router)).unwrap();
        assert_eq!(routes.lookup(v4(8, 8, 8, 8), secs(1)), None);
    }

    #[test]
    fn metric_then_insertion_order_break_ties() {
        let mut storage = [None; 8];
        let mut routes = Routes::new(&mut storage);
        let (a, b, c) = (
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 3),
        );
        routes.add(Route::default_v4(a).with_metric(10)).unwrap();
        routes.add(Route::default_v4(b).with_metric(5)).unwrap();
        routes.add(Route::default_v4(c).with_metric(5)).unwrap();
        let dst = v4(203, 0, 113, 1);
        // Lowest metric; of the two with metric 5, the first added.
        assert_eq!(
            gateway_for(&routes, dst, secs(1)),
            Some(Some(IpAddr::V4(b)))
        );
        assert!(routes.remove(net(v4(0, 0, 0, 0), 0), Some(IpAddr::V4(b))));
        assert_eq!(
            gateway_for(&routes, dst, secs(1)),
            Some(Some(IpAddr::V4(c)))
        );
        // Re-added, b now comes after c.
        routes.add(Route::default_v4(b).with_metric(5)).unwrap();
        assert_eq!(
            gateway_for(&routes, dst, secs(1)),
            Some(Some(IpAddr::V4(c)))
        );
        // A longer prefix beats any metric.
        routes
            .add(Route::on_link(net(v4(203, 0, 113, 0), 24)).with_metric(u16::MAX))
            .unwrap();
        assert_eq!(gateway_for(&routes, dst, secs(1)), Some(None));
    }

    #[test]
    fn learned_routes_expire() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        assert_eq!(routes.next_deadline(), None);
        let static_gw = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let ra_gw = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
        let prefix = net(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 0]), 64);
        routes
            .add(Route::default_v6(static_gw).with_metric(100))
            .unwrap();
        routes
            .add(Route::default_v6(ra_gw).expiring_at(secs(100)))
            .unwrap();
        routes
            .add(Route::on_link(prefix).expiring_at(secs(50)))
            .unwrap();
        assert_eq!(routes.next_deadline(), Some(secs(50)));

        let dst = v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 7]);
        assert_eq!(gateway_for(&routes, dst, secs(49)), Some(None));
        // Expired at its deadline, even before it is removed.
        assert_eq!(
            gateway_for(&routes, dst, secs(50)),
            Some(Some(IpAddr::V6(ra_gw)))
        );
        assert_eq!(routes.len(), 3);
        assert_eq!(routes.remove_expired(secs(60)), 1);
        assert_eq!(routes.len(), 2);
        assert_eq!(routes.next_deadline(), Some(secs(100)));
        assert_eq!(routes.remove_expired(secs(99)), 0);
        // Past the RA route's lifetime the static route takes over.
        assert_eq!(
            gateway_for(&routes, dst, secs(100)),
            Some(Some(IpAddr::V6(static_gw)))
        );
        // Not removed yet: the deadline is in the past, telling the
        // caller to remove it now.
        assert_eq!(routes.next_deadline(), Some(secs(100)));
        assert_eq!(routes.remove_expired(secs(100)), 1);
        assert_eq!(routes.next_deadline(), None);
        assert_eq!(routes.len(), 1);
    }

    #[test]
    fn same_net_and_gateway_updates_in_place() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        let gw = Ipv4Addr::new(10, 0, 0, 1);
        let other = Ipv4Addr::new(10, 0, 0, 2);
        routes
            .add(Route::default_v4(gw).with_metric(1).expiring_at(secs(10)))
            .unwrap();
        routes.add(Route::default_v4(other).with_metric(1)).unwrap();
        // A newer advertisement from the same router.
        routes
            .add(Route::default_v4(gw).with_metric(1).expiring_at(secs(20)))
            .unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes.next_deadline(), Some(secs(20)));
        // Still first in the order, so still preferred at equal metric.
        let dst = v4(1, 1, 1, 1);
        assert_eq!(
            gateway_for(&routes, dst, secs(15)),
            Some(Some(IpAddr::V4(gw)))
        );
        // A worse metric makes the other route win.
        routes.add(Route::default_v4(gw).with_metric(7)).unwrap();
        assert_eq!(routes.len(), 2);
        let first = routes.iter().next().copied().unwrap();
        assert_eq!(first.metric, 7);
        assert_eq!(first.expires_at, None);
        assert_eq!(
            gateway_for(&routes, dst, secs(15)),
            Some(Some(IpAddr::V4(other)))
        );
        // Host bits do not make a different route.
        let lan = Route::on_link(net(v4(192, 168, 1, 77), 24));
        routes.add(lan).unwrap();
        routes
            .add(Route::on_link(net(v4(192, 168, 1, 1), 24)).with_metric(3))
            .unwrap();
        assert_eq!(routes.len(), 3);
        let stored = routes.iter().nth(2).copied().unwrap();
        assert_eq!(stored.net, net(v4(192, 168, 1, 0), 24));
        assert_eq!(stored.metric, 3);
    }

    #[test]
    fn full_table_refuses_and_keeps_routes() {
        let mut storage = [None; 2];
        let mut routes = Routes::new(&mut storage);
        let a = Route::default_v4(Ipv4Addr::new(10, 0, 0, 1));
        let b = Route::on_link(net(v4(10, 0, 0, 0), 24)).expiring_at(secs(5));
        routes.add(a).unwrap();
        routes.add(b).unwrap();
        let c = Route::on_link(net(v4(172, 16, 0, 0), 12));
        assert_eq!(routes.add(c), Err(RouteError::TableFull));
        let stored: [Route; 2] = [
            routes.iter().copied().next().unwrap(),
            routes.iter().copied().nth(1).unwrap(),
        ];
        assert_eq!(stored, [a, b]);
        assert_eq!(routes.len(), 2);
        assert_eq!(gateway_for(&routes, v4(10, 0, 0, 9), secs(1)), Some(None));
        // Updating a stored route needs no free slot.
        assert_eq!(routes.add(a.with_metric(9)), Ok(()));
        // Freeing the expired slot makes room.
        assert_eq!(routes.remove_expired(secs(5)), 1);
        assert_eq!(routes.add(c), Ok(()));
        assert_eq!(gateway_for(&routes, v4(172, 20, 0, 1), secs(6)), Some(None));
    }

    #[test]
    fn remove_routes() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        let lan = net(v4(10, 0, 0, 0), 24);
        let gw = v4(10, 0, 0, 1);
        routes.add(Route::on_link(lan)).unwrap();
        routes
            .add(Route::via(net(v4(10, 1, 0, 0), 16), gw))
            .unwrap();
        routes
            .add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 1)))
            .unwrap();
        // Wrong gateway, wrong family, absent network: nothing happens.
        assert!(!routes.remove(lan, Some(gw)));
        assert!(!routes.remove(net(v6([0xfd00, 0, 0, 0, 0, 0, 0, 0]), 24), None));
        assert!(!routes.remove(net(v4(10, 2, 0, 0), 16), Some(gw)));
        assert_eq!(routes.len(), 3);
        // Host bits are ignored.
        assert!(routes.remove(net(v4(10, 1, 2, 3), 16), Some(gw)));
        assert!(!routes.remove(net(v4(10, 1, 0, 0), 16), Some(gw)));
        assert_eq!(routes.len(), 2);
        assert_eq!(
            gateway_for(&routes, v4(10, 1, 0, 5), secs(1)),
            Some(Some(gw))
        );
        // Order of the rest is kept.
        let nets: [IpCidr; 2] = [
            routes.iter().next().unwrap().net,
            routes.iter().nth(1).unwrap().net,
        ];
        assert_eq!(nets, [lan, net(v4(0, 0, 0, 0), 0)]);
        routes.clear();
        assert!(routes.is_empty());
        assert_eq!(routes.lookup(v4(10, 0, 0, 2), secs(1)), None);
        assert_eq!(routes.capacity(), 4);
    }

    #[test]
    fn bad_gateways_are_refused() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        let net4 = net(v4(10, 0, 0, 0), 8);
        let net6 = net(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), 32);
        let cases = [
            (
                net4,
                v6([0xfe80, 0, 0, 0, 0, 0, 0, 1]),
                RouteError::FamilyMismatch,
            ),
            (net6, v4(10, 0, 0, 1), RouteError::FamilyMismatch),
            (net4, v4(0, 0, 0, 0), RouteError::BadGateway),
            (net4, v4(224, 0, 0, 1), RouteError::BadGateway),
            (net4, v4(255, 255, 255, 255), RouteError::BadGateway),
            (net6, v6([0; 8]), RouteError::BadGateway),
            (
                net6,
                v6([0xff02, 0, 0, 0, 0, 0, 0, 1]),
                RouteError::BadGateway,
            ),
        ];
        for (network, gateway, error) in cases {
            assert_eq!(routes.add(Route::via(network, gateway)), Err(error));
        }
        assert!(routes.is_empty());
    }

    #[test]
    fn zero_capacity_never_panics() {
        let mut routes = Routes::new(&mut [][..]);
        assert_eq!(routes.capacity(), 0);
        assert_eq!(
            routes.add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 1))),
            Err(RouteError::TableFull)
        );
        assert_eq!(routes.lookup(v4(10, 0, 0, 2), secs(1)), None);
        assert!(!routes.remove(net(v4(0, 0, 0, 0), 0), None));
        assert_eq!(routes.remove_expired(Instant::MAX), 0);
        assert_eq!(routes.next_deadline(), None);
        assert_eq!(routes.iter().count(), 0);
        routes.clear();
        assert_eq!(routes.len(), 0);
    }

    #[test]
    fn point_to_point_and_host_routes_are_on_link() {
        let mut storage = [None; 4];
        let mut routes = Routes::new(&mut storage);
        routes
            .add(Route::default_v4(Ipv4Addr::new(10, 0, 0, 1)))
            .unwrap();
        // RFC 3021: both addresses of a /31 are hosts on the link.
        routes
            .add(Route::on_link(net(v4(192, 0, 2, 8), 31)))
            .unwrap();
        routes
            .add(Route::on_link(net(v4(198, 51, 100, 7), 32)))
            .unwrap();
        for dst in [v4(192, 0, 2, 8), v4(192, 0, 2, 9), v4(198, 51, 100, 7)] {
            let hop = routes.lookup(dst, secs(1)).unwrap();
            assert_eq!(hop.gateway, None);
            assert_eq!(hop.neighbor(dst), dst);
        }
        for dst in [v4(192, 0, 2, 10), v4(192, 0, 2, 7), v4(198, 51, 100, 6)] {
            assert_eq!(
                gateway_for(&routes, dst, secs(1)),
                Some(Some(v4(10, 0, 0, 1)))
            );
        }
    }

    #[test]
    fn display() {
        extern crate std;
        use std::string::ToString;
        let route = Route::via(net(v4(10, 1, 0, 0), 16), v4(10, 0, 0, 1)).with_metric(5);
        assert_eq!(route.to_string(), "10.1.0.0/16 via 10.0.0.1 metric 5");
        let route = Route::on_link(net(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]), 64)).expiring_at(secs(3));
        assert_eq!(
            route.to_string(),
            "fe80::/64 on-link metric 0 expires 3.000000s"
        );
        assert_eq!(RouteError::TableFull.to_string(), "route table full");
    }

    /// A small deterministic generator, so the mixed-operation test runs
    /// the same way every time.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
    }

    #[test]
    fn mixed_operations_keep_invariants() {
        let mut storage = [None; 5];
        let mut routes = Routes::new(&mut storage);
        let mut rng = Lcg(7);
        let (mut found, mut full) = (0u32, 0u32);
        for step in 0..20_000u64 {
            let now = Instant::from_millis(step);
            let r = rng.next();
            let addr = v4(
                10,
                (r >> 8) as u8 & 3,
                (r >> 10) as u8 & 3,
                (r >> 12) as u8 & 3,
            );
            let prefix = [0, 8, 16, 24, 32][(r % 5) as usize];
            let gateway = match (r >> 3) % 3 {
                0 => None,
                1 => Some(v4(10, 0, 0, 1)),
                _ => Some(v4(10, 0, 0, 2)),
            };
            match (r >> 16) % 4 {
                0 | 1 => {
                    let mut route = Route {
                        net: net(addr, prefix),
                        gateway,
                        metric: (r >> 20) as u16 % 3,
                        expires_at: None,
                    };
                    if r & 4 != 0 {
                        route = route.expiring_at(now + Duration::from_millis(u64::from(r >> 24)));
                    }
                    let before = routes.len();
                    match routes.add(route) {
                        Ok(()) => assert!(routes.len() == before || routes.len() == before + 1),
                        Err(e) => {
                            assert_eq!(e, RouteError::TableFull);
                            full += 1;
                            assert_eq!(routes.len(), routes.capacity());
                        }
                    }
                }
                2 => {
                    routes.remove(net(addr, prefix), gateway);
                }
                _ => {
                    routes.remove_expired(now);
                }
            }
            // Invariants: packed, no duplicate key, lookup is the best match.
            assert_eq!(routes.iter().count(), routes.len());
            assert!(routes.len() <= routes.capacity());
            for (i, a) in routes.iter().enumerate() {
                for b in routes.iter().skip(i + 1) {
                    assert!(!(a.net == b.net && a.gateway == b.gateway));
                }
            }
            let dst = v4(
                10,
                (r >> 24) as u8 & 3,
                (r >> 26) as u8 & 3,
                (r >> 28) as u8 & 3,
            );
            match routes.lookup(dst, now) {
                Some(hop) => {
                    found += 1;
                    assert!(hop.route.net.contains_addr(dst) && !hop.route.is_expired(now));
                    for other in routes
                        .iter()
                        .filter(|o| o.net.contains_addr(dst) && !o.is_expired(now))
                    {
                        let key = (other.net.prefix_len(), core::cmp::Reverse(other.metric));
                        let best = (
                            hop.route.net.prefix_len(),
                            core::cmp::Reverse(hop.route.metric),
                        );
                        assert!(key <= best);
                    }
                }
                None => assert!(
                    routes
                        .iter()
                        .all(|o| !o.net.contains_addr(dst) || o.is_expired(now))
                ),
            }
        }
        // The walk must have exercised both a full table and real matches.
        assert!(full > 100, "table full {full} times");
        assert!(found > 5_000, "{found} lookups matched");
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn limiter_bursts_up_to_capacity() {
        let mut limiter = RateLimiter::new(5, ms(100));
        let t0 = secs(10);
        for _ in 0..5 {
            assert!(limiter.allow(t0));
        }
        assert!(!limiter.allow(t0));
        assert!(!limiter.allow(t0 + ms(99)));
        assert_eq!(
            limiter.stats(),
            RateLimiterStats {
                allowed: 5,
                limited: 2
            }
        );
        assert_eq!(limiter.tokens(), 0);
    }

    #[test]
    fn limiter_refills_at_the_set_rate() {
        let mut limiter = RateLimiter::new(3, ms(100));
        let t0 = secs(10);
        for _ in 0..3 {
            assert!(limiter.allow(t0));
        }
        // Calls every 50 ms: one in two gets a token, the half-earned
        // token is not lost between calls.
        let mut allowed = 0;
        for i in 1..=40u64 {
            if limiter.allow(t0 + ms(50 * i)) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 20);
        // Several periods at once give several tokens.
        let t1 = t0 + ms(2_000);
        assert!(!limiter.allow(t1));
        let t2 = t1 + ms(250);
        assert!(limiter.allow(t2));
        assert!(limiter.allow(t2));
        assert!(!limiter.allow(t2));
        // The 50 ms past the second period count towards the next token.
        assert!(limiter.allow(t1 + ms(300)));
    }

    #[test]
    fn limiter_saturates_at_capacity() {
        let mut limiter = RateLimiter::new(4, ms(10));
        let t0 = secs(1);
        assert!(limiter.allow(t0));
        // A long idle time refills to capacity, not beyond.
        let later = t0 + Duration::from_secs(3_600);
        let granted = (0..10).filter(|_| limiter.allow(later)).count();
        assert_eq!(granted, 4);
        // The end of time neither overflows nor panics.
        assert!(limiter.allow(Instant::MAX));
        let granted = (0..10).filter(|_| limiter.allow(Instant::MAX)).count();
        assert_eq!(granted, 3);
        assert_eq!(limiter.stats().allowed, 9);
        assert_eq!(limiter.capacity(), 4);
        assert_eq!(limiter.refill_every(), ms(10));
    }

    #[test]
    fn limiter_survives_time_going_backwards() {
        let mut limiter = RateLimiter::new(2, ms(100));
        let t0 = secs(100);
        assert!(limiter.allow(t0));
        assert!(limiter.allow(t0 + ms(50)));
        assert!(!limiter.allow(t0 + ms(60)));
        // The clock steps back: nothing is minted, however far back.
        assert!(!limiter.allow(t0 - ms(500)));
        assert!(!limiter.allow(Instant::ZERO));
        // Time before the old anchor plus a period earns nothing either.
        assert!(!limiter.allow(t0 + ms(99)));
        // Once time passes the anchor again, refilling resumes.
        assert!(limiter.allow(t0 + ms(100)));
        assert!(!limiter.allow(t0 + ms(100)));

        // Stepping back with tokens left: they may be spent, no more.
        let mut limiter = RateLimiter::new(3, ms(100));
        assert!(limiter.allow(secs(50)));
        assert!(limiter.allow(secs(10)));
        assert!(limiter.allow(secs(10)));
        assert!(!limiter.allow(secs(10) + ms(900)));
        assert!(!limiter.allow(secs(50) + ms(99)));
        assert!(limiter.allow(secs(50) + ms(100)));
    }

    #[test]
    fn limiter_degenerate_settings() {
        let mut none = RateLimiter::new(0, ms(1));
        for t in 0..100 {
            assert!(!none.allow(Instant::from_millis(t)));
        }
        assert_eq!(
            none.stats(),
            RateLimiterStats {
                allowed: 0,
                limited: 100
            }
        );

        let mut unlimited = RateLimiter::new(1, Duration::ZERO);
        for _ in 0..100 {
            assert!(unlimited.allow(secs(1)));
        }
        assert!(unlimited.allow(secs(0)));

        // A refill interval beyond the clock's range: the burst only.
        let mut once = RateLimiter::new(2, Duration::MAX);
        assert!(once.allow(Instant::ZERO));
        assert!(once.allow(Instant::ZERO));
        assert!(!once.allow(Instant::MAX));

        // Capacity at the top of the range.
        let mut big = RateLimiter::new(u32::MAX, Duration::from_nanos(1));
        assert!(big.allow(Instant::ZERO));
        assert!(big.allow(Instant::MAX));
        assert_eq!(big.tokens(), u32::MAX - 1);
    }
}
