//! SYN cookies: answer a SYN without keeping state, for when the listen
//! backlog is full (RFC 4987 section 3.6).
//!
//! A SYN flood fills a listener's backlog of half-open connections with
//! SYNs from addresses that never complete the handshake. With SYN
//! cookies the listener keeps answering once the backlog is full, but
//! stores nothing: what it must remember about the SYN is packed into the
//! initial sequence number of its SYN-ACK, under a keyed MAC. A real peer
//! returns that number plus one as the acknowledgment number of its ACK,
//! and the listener rebuilds the connection from it; a forged ACK from an
//! attacker that never saw the SYN-ACK fails the MAC.
//!
//! # Layout
//!
//! Our ISN (most significant bit first):
//!
//! ```text
//! | counter: 2 | MSS index: 3 | MAC: 27 |
//! ```
//!
//! - counter: the low bits of a clock that ticks every [`TICK_SECS`]
//!   seconds. A cookie is accepted during the tick it was made in and the
//!   next one, so it lives between one and two ticks; two bits are enough
//!   to tell those apart from anything older, and the MAC covers the whole
//!   tick number, so a cookie four ticks old, whose bits match again,
//!   still fails.
//! - MSS index: the largest entry of [`MSS_TABLE`] not above the MSS the
//!   SYN allows (RFC 4987 section 3.6: the MSS is the one option that
//!   must survive, encoded as one of a few common values).
//! - MAC: SipHash-2-4 keyed with the secret over the four-tuple, the
//!   peer's ISN, the tick number, the MSS index and the option bits below,
//!   truncated to 27 bits.
//!
//! The other SYN options do not fit in the ISN. If the peer offered
//! timestamps (RFC 7323), they ride in the low [`OPTION_BITS`] bits of the
//! TSval of our SYN-ACK, which the peer echoes in the TSecr of its ACK:
//!
//! ```text
//! | clock ... | ECN: 1 | SACK permitted: 1 | window scale: 4 (15 = none) |
//! ```
//!
//! They are covered by the MAC, so a peer cannot change them. Without
//! timestamps the connection gets no window scaling, no SACK and no ECN,
//! as in RFC 4987 section 3.6.
//!
//! A random guess of the acknowledgment number passes only if its counter
//! bits name an accepted tick (2 of 4 values) and its 27 MAC bits are
//! right: one in 2^28 guesses, or one in 2^27 when the ACK carries a TSecr
//! (then the option bits are tried in two ways, see [`SynCookies::decode`]).
//!
//! A cookie's ISN is not the RFC 6528 ISN of [`isn`](super::isn): it does
//! not grow with time within one tuple. That is the price RFC 4987 names
//! for statelessness, paid only while the backlog overflows.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use ethox::layer::tcp::syn_cookie::{CookieOptions, SynCookies};
//! use ethox::layer::tcp::table::FourTuple;
//! use ethox::time::Instant;
//! use ethox::wire::tcp::SeqNumber;
//!
//! let cookies = SynCookies::new([9; 16]);
//! let tuple = FourTuple {
//!     local: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     local_port: 80,
//!     remote: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)),
//!     remote_port: 49152,
//! };
//! let now = Instant::from_secs(1_000);
//! // A SYN with ISN 7000, MSS 1460, window scale 7, SACK permitted, and a
//! // timestamp option: answer with a cookie and forget the SYN.
//! let peer_isn = SeqNumber(7000);
//! let options = CookieOptions { window_scale: Some(7), sack_permitted: true, ecn: false };
//! let syn_ack = cookies.encode_with_timestamps(&tuple, peer_isn, 1460, options, 123_456, now);
//! let tsval = syn_ack.tsval.unwrap();
//!
//! // The ACK of the handshake comes back: seq = peer ISN + 1, ack = our
//! // ISN + 1, TSecr = our TSval.
//! let cookie = cookies
//!     .decode(&tuple, syn_ack.isn + 1u32, peer_isn + 1u32, Some(tsval), now)
//!     .unwrap();
//! assert_eq!(cookie.mss, 1460);
//! assert_eq!(cookie.options, options);
//! assert_eq!(cookie.our_isn, syn_ack.isn);
//!
//! // A forged ACK fails.
//! let forged = cookies.decode(&tuple, syn_ack.isn + 2u32, peer_isn + 1u32, Some(tsval), now);
//! assert!(forged.is_none());
//! ```

use core::fmt;
use core::hash::Hasher;

use siphasher::sip::SipHasher24;

use super::table::FourTuple;
use crate::time::Instant;
use crate::wire::tcp::SeqNumber;

/// How long one tick of the cookie clock lasts. A cookie is accepted for
/// one to two ticks after it was made (RFC 4987 section 3.6 suggests a
/// counter incremented every 64 seconds).
pub const TICK_SECS: u64 = 64;

/// The MSS values a cookie can carry, smallest first: the payloads of
/// common paths (minimum IPv4 datagram, IPv6 minimum MTU minus headers and
/// tunnels, PPPoE, plain Ethernet).
pub const MSS_TABLE: [u16; 8] = [536, 1220, 1280, 1360, 1400, 1440, 1452, 1460];

/// How many low bits of the TSval carry [`CookieOptions`].
pub const OPTION_BITS: u32 = 6;

const COUNTER_BITS: u32 = 2;
const MSS_BITS: u32 = 3;
const MAC_BITS: u32 = 32 - COUNTER_BITS - MSS_BITS;
const MAC_MASK: u32 = (1 << MAC_BITS) - 1;
const MSS_SHIFT: u32 = MAC_BITS;
const COUNTER_SHIFT: u32 = MAC_BITS + MSS_BITS;
const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;

const OPTION_MASK: u32 = (1 << OPTION_BITS) - 1;
const WSCALE_MASK: u32 = 0x0f;
/// The window-scale field value for "no window scaling".
const WSCALE_NONE: u32 = 0x0f;
const SACK_BIT: u32 = 1 << 4;
const ECN_BIT: u32 = 1 << 5;
/// The largest shift RFC 7323 section 2.3 allows; larger ones mean 14.
const MAX_WINDOW_SCALE: u8 = 14;
/// What the MAC covers in place of the option bits when the peer sent no
/// timestamps: outside `0..64`, so no TSecr can stand for it.
const NO_TIMESTAMPS: u8 = 0x80;

/// The SYN options a cookie keeps besides the MSS, when the peer uses
/// timestamps. The default is what a connection gets without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CookieOptions {
    /// The peer's window-scale shift (RFC 7323 section 2), `None` if it
    /// sent no window-scale option. Shifts above 14 are kept as 14.
    pub window_scale: Option<u8>,
    /// The peer sent SACK-permitted (RFC 2018).
    pub sack_permitted: bool,
    /// The SYN asked for ECN (RFC 3168 section 6.1.1).
    pub ecn: bool,
}

impl CookieOptions {
    fn to_bits(self) -> u32 {
        let wscale = match self.window_scale {
            Some(shift) => u32::from(shift.min(MAX_WINDOW_SCALE)),
            None => WSCALE_NONE,
        };
        let sack = if self.sack_permitted { SACK_BIT } else { 0 };
        let ecn = if self.ecn { ECN_BIT } else { 0 };
        wscale | sack | ecn
    }

    fn from_bits(bits: u32) -> CookieOptions {
        let wscale = bits & WSCALE_MASK;
        CookieOptions {
            window_scale: if wscale == WSCALE_NONE {
                None
            } else {
                // At most 14 after the mask and the test above.
                Some(wscale as u8)
            },
            sack_permitted: bits & SACK_BIT != 0,
            ecn: bits & ECN_BIT != 0,
        }
    }
}

/// What to put in the SYN-ACK that answers a SYN with a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynAckCookie {
    /// Our initial sequence number: the cookie.
    pub isn: SeqNumber,
    /// The MSS the cookie encodes, to announce in the SYN-ACK's MSS
    /// option and to use for the connection.
    pub mss: u16,
    /// The TSval to send, when the peer offered timestamps: the caller's
    /// timestamp clock with the options in its low bits.
    pub tsval: Option<u32>,
}

/// A connection rebuilt from a valid cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookie {
    /// Our initial sequence number (the acknowledgment number minus one).
    pub our_isn: SeqNumber,
    /// The peer's initial sequence number (the ACK's sequence number minus
    /// one).
    pub peer_isn: SeqNumber,
    /// The MSS for the connection, from [`MSS_TABLE`].
    pub mss: u16,
    /// Whether timestamps were negotiated: the peer offered them in its
    /// SYN and the options came back in the TSecr.
    pub timestamps: bool,
    /// The SYN's options; the default when `timestamps` is false.
    pub options: CookieOptions,
}

/// Makes and checks SYN cookies. See the [module documentation](self).
#[derive(Clone)]
pub struct SynCookies {
    key: [u8; 16],
}

impl SynCookies {
    /// A cookie maker keyed with `secret`, which should be random, unknown
    /// to peers, and different from the keys of the other hashes.
    pub const fn new(secret: [u8; 16]) -> SynCookies {
        SynCookies { key: secret }
    }

    /// The cookie for a SYN from a peer that sent no timestamp option.
    ///
    /// `mss` is the largest segment the connection may use: the peer's
    /// MSS option (536 if it sent none, RFC 9293 section 3.7.1) capped by
    /// our own. The window scale, SACK and ECN are lost.
    pub fn encode(
        &self,
        tuple: &FourTuple,
        peer_isn: SeqNumber,
        mss: u16,
        now: Instant,
    ) -> SynAckCookie {
        let (isn, mss) = self.seal(tuple, peer_isn, mss, NO_TIMESTAMPS, now);
        SynAckCookie {
            isn,
            mss,
            tsval: None,
        }
    }

    /// The cookie for a SYN with a timestamp option: as
    /// [`encode`](Self::encode), and `options` ride in the TSval.
    ///
    /// `ts_clock` is the caller's timestamp clock now. The TSval returned
    /// is the latest value not after it whose low bits are the options, so
    /// later TSvals of the connection, taken from the clock, never go
    /// backwards (RFC 7323 section 5.4).
    pub fn encode_with_timestamps(
        &self,
        tuple: &FourTuple,
        peer_isn: SeqNumber,
        mss: u16,
        options: CookieOptions,
        ts_clock: u32,
        now: Instant,
    ) -> SynAckCookie {
        let bits = options.to_bits();
        // At most 6 bits, so it fits the byte.
        let (isn, mss) = self.seal(tuple, peer_isn, mss, bits as u8, now);
        let behind = ts_clock.wrapping_sub(bits) & OPTION_MASK;
        SynAckCookie {
            isn,
            mss,
            tsval: Some(ts_clock.wrapping_sub(behind)),
        }
    }

    /// Checks the ACK that completes a handshake answered with a cookie.
    ///
    /// `ack_number` and `seq_number` are the ACK's, `tsecr` its timestamp
    /// echo if it carried a timestamp option. Returns `None` unless the
    /// cookie is ours, for this tuple and peer ISN, and made during the
    /// current or the previous tick of `now`.
    ///
    /// With a `tsecr`, the cookie is first checked as one made with
    /// timestamps, then, failing that, as one made without: a peer that did
    /// not offer timestamps in its SYN may still send the option, which
    /// RFC 7323 section 3.2 says to ignore.
    pub fn decode(
        &self,
        tuple: &FourTuple,
        ack_number: SeqNumber,
        seq_number: SeqNumber,
        tsecr: Option<u32>,
        now: Instant,
    ) -> Option<Cookie> {
        let our_isn = ack_number.wrapping_sub(1);
        let peer_isn = seq_number.wrapping_sub(1);
        let tick = accepted_tick(our_isn.0 >> COUNTER_SHIFT, now)?;
        let mss_index = (our_isn.0 >> MSS_SHIFT) & ((1 << MSS_BITS) - 1);
        let mss = *MSS_TABLE.get(mss_index as usize)?;
        let mac = our_isn.0 & MAC_MASK;
        // The option bits are at most 6 bits, so they fit the byte.
        let echoed = tsecr.map(|ts| (ts & OPTION_MASK) as u8);
        let matches = |options: u8| self.mac(tuple, peer_isn, tick, mss_index, options) == mac;
        let (timestamps, options) = match echoed {
            Some(bits) if matches(bits) => (true, CookieOptions::from_bits(u32::from(bits))),
            _ if matches(NO_TIMESTAMPS) => (false, CookieOptions::default()),
            _ => return None,
        };
        Some(Cookie {
            our_isn,
            peer_isn,
            mss,
            timestamps,
            options,
        })
    }

    /// Our ISN for the SYN, and the MSS it encodes.
    fn seal(
        &self,
        tuple: &FourTuple,
        peer_isn: SeqNumber,
        mss: u16,
        options: u8,
        now: Instant,
    ) -> (SeqNumber, u16) {
        let tick = now.secs() / TICK_SECS;
        let mss_index = mss_index(mss);
        let mac = self.mac(tuple, peer_isn, tick, mss_index, options);
        // The counter is masked to its two bits before the shift.
        let counter = ((tick & COUNTER_MASK) as u32) << COUNTER_SHIFT;
        let isn = counter | (mss_index << MSS_SHIFT) | mac;
        let mss = MSS_TABLE
            .get(mss_index as usize)
            .copied()
            .unwrap_or(MSS_TABLE[0]);
        (SeqNumber(isn), mss)
    }

    /// The 27-bit MAC over everything the cookie vouches for. `options`
    /// is the option bits, or [`NO_TIMESTAMPS`].
    fn mac(
        &self,
        tuple: &FourTuple,
        peer_isn: SeqNumber,
        tick: u64,
        mss_index: u32,
        options: u8,
    ) -> u32 {
        let mut hasher = SipHasher24::new_with_key(&self.key);
        tuple.write_to(&mut hasher);
        hasher.write(&peer_isn.0.to_be_bytes());
        hasher.write(&tick.to_be_bytes());
        // The index is below 8 and the options one byte: fixed widths keep
        // the encoding unambiguous.
        hasher.write(&[mss_index as u8, options]);
        // Truncation keeps the low bits, which is the MAC.
        (hasher.finish() as u32) & MAC_MASK
    }
}

impl fmt::Debug for SynCookies {
    /// Leaves the secret out, so it cannot end up in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SynCookies").finish_non_exhaustive()
    }
}

/// The index of the largest [`MSS_TABLE`] entry not above `mss`; the
/// smallest entry for anything below it (536 is the MSS every host must
/// accept, RFC 9293 section 3.7.1).
fn mss_index(mss: u16) -> u32 {
    let fitting = MSS_TABLE.iter().filter(|&&entry| entry <= mss).count();
    // At most 8 entries.
    fitting.saturating_sub(1) as u32
}

/// The full tick number whose low bits are `counter`, if it is the tick of
/// `now` or the one before.
fn accepted_tick(counter: u32, now: Instant) -> Option<u64> {
    let current = now.secs() / TICK_SECS;
    [Some(current), current.checked_sub(1)]
        .into_iter()
        .flatten()
        .find(|tick| tick & COUNTER_MASK == u64::from(counter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tcp::table::tests::{mapped, v4, v6};
    use crate::wire::{IpAddr, Ipv4Addr};
    use core::time::Duration;
    use std::format;

    const KEY: [u8; 16] = *b"cookie secret 16";

    const FULL: CookieOptions = CookieOptions {
        window_scale: Some(9),
        sack_permitted: true,
        ecn: true,
    };

    /// xorshift32: a fixed, simple generator so the test is the same on
    /// every run.
    fn xorshift(state: &mut u32) -> u32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state
    }

    #[test]
    fn round_trip_v4_and_v6() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(5_000);
        for tuple in [v4(49152), v6(50000)] {
            let peer = SeqNumber(0x1234_5678);
            let sent = cookies.encode(&tuple, peer, 1460, now);
            assert_eq!(sent.tsval, None);
            let got = cookies
                .decode(&tuple, sent.isn + 1u32, peer + 1u32, None, now)
                .unwrap();
            assert_eq!(got.our_isn, sent.isn);
            assert_eq!(got.peer_isn, peer);
            assert_eq!(got.mss, 1460);
            assert!(!got.timestamps);
            assert_eq!(got.options, CookieOptions::default());

            let sent = cookies.encode_with_timestamps(&tuple, peer, 1400, FULL, 777_777, now);
            let tsval = sent.tsval.unwrap();
            let got = cookies
                .decode(&tuple, sent.isn + 1u32, peer + 1u32, Some(tsval), now)
                .unwrap();
            assert_eq!(got.mss, 1400);
            assert!(got.timestamps);
            assert_eq!(got.options, FULL);
        }
    }

    #[test]
    fn every_option_combination_round_trips() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(300);
        let peer = SeqNumber(99);
        for wscale in (0..=14).map(Some).chain([None]) {
            for sack_permitted in [false, true] {
                for ecn in [false, true] {
                    let options = CookieOptions {
                        window_scale: wscale,
                        sack_permitted,
                        ecn,
                    };
                    let sent =
                        cookies.encode_with_timestamps(&v4(49152), peer, 536, options, 0, now);
                    let got = cookies
                        .decode(&v4(49152), sent.isn + 1u32, peer + 1u32, sent.tsval, now)
                        .unwrap();
                    assert_eq!(got.options, options);
                }
            }
        }
    }

    #[test]
    fn window_scale_above_14_is_14() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(300);
        let options = CookieOptions {
            window_scale: Some(200),
            ..FULL
        };
        let sent = cookies.encode_with_timestamps(&v4(49152), SeqNumber(1), 1460, options, 0, now);
        let got = cookies
            .decode(&v4(49152), sent.isn + 1u32, SeqNumber(2), sent.tsval, now)
            .unwrap();
        assert_eq!(got.options.window_scale, Some(14));
    }

    #[test]
    fn tsval_never_ahead_of_clock() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(1);
        for clock in [0u32, 1, 63, 64, 1000, u32::MAX, u32::MAX - 70] {
            let sent =
                cookies.encode_with_timestamps(&v4(49152), SeqNumber(1), 1460, FULL, clock, now);
            let tsval = sent.tsval.unwrap();
            assert_eq!(tsval & OPTION_MASK, FULL.to_bits());
            // Behind the clock by less than 64, modulo 2^32.
            assert!(
                clock.wrapping_sub(tsval) < 64,
                "clock {clock} tsval {tsval}"
            );
        }
    }

    #[test]
    fn mss_selection() {
        let cases = [
            (0, 536),
            (100, 536),
            (535, 536),
            (536, 536),
            (1219, 536),
            (1220, 1220),
            (1279, 1220),
            (1280, 1280),
            (1451, 1440),
            (1452, 1452),
            (1459, 1452),
            (1460, 1460),
            (1500, 1460),
            (u16::MAX, 1460),
        ];
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(77);
        for (offered, expect) in cases {
            let sent = cookies.encode(&v4(49152), SeqNumber(5), offered, now);
            assert_eq!(sent.mss, expect, "offered {offered}");
            let got = cookies
                .decode(&v4(49152), sent.isn + 1u32, SeqNumber(6), None, now)
                .unwrap();
            assert_eq!(got.mss, expect, "offered {offered}");
        }
    }

    #[test]
    fn lives_one_to_two_ticks() {
        let cookies = SynCookies::new(KEY);
        let tick = Duration::from_secs(TICK_SECS);
        let made = Instant::from_secs(TICK_SECS * 10);
        let sent = cookies.encode(&v4(49152), SeqNumber(1), 1460, made);
        let check = |at: Instant| {
            cookies
                .decode(&v4(49152), sent.isn + 1u32, SeqNumber(2), None, at)
                .is_some()
        };
        assert!(check(made));
        assert!(check(made + tick));
        assert!(check(made + tick * 2 - Duration::from_nanos(1)));
        assert!(!check(made + tick * 2), "stale after two ticks");
        assert!(!check(made + tick * 3));
        // Four ticks on, the counter bits match again; the MAC does not.
        assert!(!check(made + tick * 4));
        assert!(!check(made + tick * 5));
        // A clock that went back a tick does not accept it either.
        assert!(!check(made - Duration::from_nanos(1)));
    }

    #[test]
    fn first_tick_and_end_of_time() {
        let cookies = SynCookies::new(KEY);
        for now in [Instant::ZERO, Instant::MAX] {
            let sent = cookies.encode(&v6(50000), SeqNumber(1), 1220, now);
            assert!(
                cookies
                    .decode(&v6(50000), sent.isn + 1u32, SeqNumber(2), None, now)
                    .is_some()
            );
        }
    }

    #[test]
    fn wrong_tuple_or_peer_isn_rejected() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(900);
        let sent = cookies.encode(&v4(49152), SeqNumber(1000), 1460, now);
        let ack = sent.isn + 1u32;
        let others = [
            FourTuple {
                remote_port: 49153,
                ..v4(49152)
            },
            FourTuple {
                local_port: 8080,
                ..v4(49152)
            },
            FourTuple {
                remote: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
                ..v4(49152)
            },
            mapped(v4(49152)),
        ];
        for tuple in others {
            assert!(
                cookies
                    .decode(&tuple, ack, SeqNumber(1001), None, now)
                    .is_none()
            );
        }
        assert!(
            cookies
                .decode(&v4(49152), ack, SeqNumber(1002), None, now)
                .is_none()
        );
        assert!(
            cookies
                .decode(&v4(49152), ack, SeqNumber(1001), None, now)
                .is_some()
        );
        // Another key does not accept it.
        let other = SynCookies::new([1; 16]);
        assert!(
            other
                .decode(&v4(49152), ack, SeqNumber(1001), None, now)
                .is_none()
        );
    }

    #[test]
    fn bit_flips_rejected() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(12_345);
        let peer = SeqNumber(0xdead_beef);
        let sent = cookies.encode_with_timestamps(&v4(49152), peer, 1452, FULL, 1 << 20, now);
        let ack = sent.isn + 1u32;
        let tsval = sent.tsval.unwrap();
        for bit in 0..32 {
            let flipped = SeqNumber(ack.0 ^ (1 << bit));
            let got = cookies.decode(&v4(49152), flipped, peer + 1u32, Some(tsval), now);
            assert!(got.is_none(), "ack bit {bit}");
            let flipped = SeqNumber((peer + 1u32).0 ^ (1 << bit));
            let got = cookies.decode(&v4(49152), ack, flipped, Some(tsval), now);
            assert!(got.is_none(), "seq bit {bit}");
        }
        // The option bits of the TSecr are under the MAC...
        for bit in 0..OPTION_BITS {
            let got = cookies.decode(&v4(49152), ack, peer + 1u32, Some(tsval ^ (1 << bit)), now);
            assert!(got.is_none(), "tsecr bit {bit}");
        }
        // ...and dropping the timestamp option loses the cookie.
        assert!(
            cookies
                .decode(&v4(49152), ack, peer + 1u32, None, now)
                .is_none()
        );
        // The clock bits above them are not: they are only a clock.
        let got = cookies.decode(&v4(49152), ack, peer + 1u32, Some(tsval ^ (1 << 31)), now);
        assert_eq!(got.map(|c| c.options), Some(FULL));
    }

    #[test]
    fn tsecr_without_negotiated_timestamps_is_ignored() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(64);
        let sent = cookies.encode(&v4(49152), SeqNumber(3), 1460, now);
        let got = cookies
            .decode(&v4(49152), sent.isn + 1u32, SeqNumber(4), Some(0x3f), now)
            .unwrap();
        assert!(!got.timestamps);
        assert_eq!(got.options, CookieOptions::default());
    }

    #[test]
    fn random_guesses_rejected() {
        // Each guess passes with probability 2^-27 at most (counter bits
        // right half of the time, two MAC trials of 27 bits with a TSecr):
        // about 0.0007 expected passes in 100k guesses.
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(TICK_SECS * 1000 + 5);
        let mut state = 0x2545_f491;
        let mut accepted = 0;
        for _ in 0..100_000 {
            let ack = SeqNumber(xorshift(&mut state));
            let tsecr = Some(xorshift(&mut state));
            if cookies
                .decode(&v4(49152), ack, SeqNumber(1), tsecr, now)
                .is_some()
            {
                accepted += 1;
            }
        }
        assert!(accepted <= 1, "{accepted} of 100000 guesses accepted");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let cookies = SynCookies::new(KEY);
        let now = Instant::from_secs(4_000);
        // The peer's ISN is the last number, so its ACK's seq wraps to 0.
        let peer = SeqNumber(u32::MAX);
        let sent = cookies.encode(&v6(50000), peer, 1460, now);
        let got = cookies
            .decode(&v6(50000), sent.isn + 1u32, SeqNumber(0), None, now)
            .unwrap();
        assert_eq!(got.peer_isn, peer);
        // An ACK of 0 means our ISN was u32::MAX: decoded without panic.
        let wrapped = cookies.decode(&v6(50000), SeqNumber(0), SeqNumber(0), Some(u32::MAX), now);
        assert!(wrapped.is_none_or(|c| c.our_isn == SeqNumber(u32::MAX)));
        // Many peer ISNs, across the whole space, all round trip.
        let mut state = 7;
        for _ in 0..1000 {
            let peer = SeqNumber(xorshift(&mut state));
            let sent = cookies.encode(&v4(49152), peer, 1360, now);
            let got = cookies.decode(&v4(49152), sent.isn + 1u32, peer + 1u32, None, now);
            assert_eq!(got.map(|c| (c.mss, c.peer_isn)), Some((1360, peer)));
        }
    }

    #[test]
    fn debug_hides_secret() {
        let text = format!("{:?}", SynCookies::new(KEY));
        assert_eq!(text, "SynCookies { .. }");
    }
}
