//! The Internet checksum (RFC 1071), its incremental update (RFC 1624) and
//! the IPv4 / IPv6 pseudo-headers.
//!
//! All sums here are *one's complement sums of big-endian 16-bit words*,
//! not yet complemented, returned as plain `u16` numbers. A checksum field
//! holds the complement of the sum: [`finish`] turns one into the other.
//! A received packet is intact when the sum over it, checksum field
//! included, is `0xffff`.
//!
//! ```
//! use ethox::wire::checksum;
//!
//! // The example of RFC 1071 section 3: the sum is ddf2.
//! let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
//! assert_eq!(checksum::sum(&data), 0xddf2);
//! assert_eq!(checksum::finish(0xddf2), 0x220d);
//! ```

use super::ip::{IpAddr, IpProtocol, Ipv4Addr, Ipv6Addr};

/// One's complement sum of `data` as big-endian 16-bit words.
///
/// An odd trailing byte is padded with a zero on the right, as RFC 1071
/// prescribes. The sum is taken over native-endian 64-bit words with
/// end-around carry (the byte-order independence of RFC 1071 section
/// 2(B)) in four independent accumulators, so that the adds of one word
/// do not wait for the previous one, and is swapped to network order once
/// at the end. Short inputs (headers) cost a handful of instructions.
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    u16::from_be(fold_to_16(sum_native(data)))
}

/// Sums `data` as native-endian words; the caller folds and swaps.
#[inline]
fn sum_native(data: &[u8]) -> u64 {
    let (blocks, rest) = data.as_chunks::<32>();
    let mut lanes = [0u64; 4];
    for block in blocks {
        let (words, _) = block.as_chunks::<8>();
        for (lane, word) in lanes.iter_mut().zip(words) {
            *lane = add64(*lane, u64::from_ne_bytes(*word));
        }
    }
    let (words, tail) = rest.as_chunks::<8>();
    let mut acc = add64(add64(lanes[0], lanes[1]), add64(lanes[2], lanes[3]));
    for word in words {
        acc = add64(acc, u64::from_ne_bytes(*word));
    }
    add64(acc, tail_word(tail))
}

/// The last 0 to 7 bytes as the native-endian word they would form if
/// padded with zeros on the right (where RFC 1071 pads an odd byte).
///
/// Built in registers from 4-, 2- and 1-byte loads: assembling the padded
/// word in memory and loading it whole would stall on store forwarding
/// and cost more than the rest of a header's sum.
#[inline]
fn tail_word(tail: &[u8]) -> u64 {
    let mut tail = tail;
    let mut word: u64 = 0;
    let mut shift = 0;
    if let Some((four, rest)) = tail.split_first_chunk::<4>() {
        word = u64::from(u32::from_le_bytes(*four));
        shift = 32;
        tail = rest;
    }
    if let Some((two, rest)) = tail.split_first_chunk::<2>() {
        word |= u64::from(u16::from_le_bytes(*two)) << shift;
        shift += 16;
        tail = rest;
    }
    if let Some(&one) = tail.first() {
        word |= u64::from(one) << shift;
    }
    // Little-endian assembly above; a big-endian reading of the same
    // bytes is its byte swap.
    if cfg!(target_endian = "big") {
        word.swap_bytes()
    } else {
        word
    }
}

/// End-around-carry addition of two 64-bit partial sums.
#[inline]
fn add64(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    s + carry as u64
}

#[inline]
fn fold_to_32(mut s: u64) -> u32 {
    s = (s & 0xffff_ffff) + (s >> 32);
    s = (s & 0xffff_ffff) + (s >> 32);
    s as u32
}

#[inline]
fn fold_to_16(s: u64) -> u16 {
    let mut s = fold_to_32(s);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// One's complement addition of two sums.
#[inline]
pub const fn add(a: u16, b: u16) -> u16 {
    let s = a as u32 + b as u32;
    ((s & 0xffff) + (s >> 16)) as u16
}

/// One's complement sum of several partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    sums.iter().fold(0, |acc, &s| add(acc, s))
}

/// Turns a sum into the value stored in a checksum field.
#[inline]
pub const fn finish(sum: u16) -> u16 {
    !sum
}

/// Whether a sum taken over a whole header or packet, checksum field
/// included, proves it intact.
#[inline]
pub const fn verifies(sum: u16) -> bool {
    sum == 0xffff
}

/// RFC 1624 equation 3: the checksum field after one 16-bit word of the
/// covered data changed from `old` to `new`, without summing everything
/// again: `HC' = ~(~HC + ~m + m')`.
#[inline]
pub const fn update(checksum: u16, old: u16, new: u16) -> u16 {
    !add(add(!checksum, !old), new)
}

/// [`update`] for a change of several bytes (an address, a port pair).
///
/// `old` and `new` must have the same length and start at an even offset
/// inside the covered data; an odd length is padded as in [`sum`].
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    // ~(~HC + ~sum(old) + sum(new)) is the same identity applied to the
    // whole run: one's complement addition is associative.
    !add(add(!checksum, !sum(old)), sum(new))
}

/// A one's complement sum being accumulated over several pieces (an IP
/// pseudo-header, header fields, a payload), folded once at the end.
///
/// The pieces are added as native-endian words with end-around carry
/// (RFC 1071 section 2(B): the sum does not depend on byte order), so
/// adding a field costs one add rather than a fold to 16 bits each time.
/// Every piece must start at an even offset of the covered data.
///
/// ```
/// use ethox::wire::checksum::{self, Accumulator};
/// let data = [0x45, 0x00, 0x00, 0x54, 0x12, 0x34];
/// let sum = Accumulator::new().word(0x4500).bytes(&data[2..]).sum();
/// assert_eq!(sum, checksum::sum(&data));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accumulator(u64);

impl Accumulator {
    /// An empty sum.
    pub const fn new() -> Self {
        Accumulator(0)
    }

    /// Adds `data` (an odd length is padded with a zero byte on the right,
    /// so only the last piece may have one).
    #[inline]
    #[must_use]
    pub fn bytes(self, data: &[u8]) -> Self {
        Accumulator(add64(self.0, sum_native(data)))
    }

    /// Adds one 16-bit field, as a number (it is big-endian on the wire).
    #[inline]
    #[must_use]
    pub fn word(self, word: u16) -> Self {
        // The native-endian reading of the field's wire bytes.
        Accumulator(add64(self.0, u64::from(word.to_be())))
    }

    /// Adds four bytes as they stand on the wire (an IPv4 address).
    #[inline]
    #[must_use]
    pub fn bytes4(self, bytes: [u8; 4]) -> Self {
        Accumulator(add64(self.0, u64::from(u32::from_ne_bytes(bytes))))
    }

    /// Adds the pseudo-header of an upper-layer packet of `length` bytes
    /// (see [`pseudo_header`]; addresses of mixed families are summed as
    /// IPv6, the IPv4 one mapped).
    #[inline]
    #[must_use]
    pub fn pseudo_header(
        self,
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
        length: u32,
    ) -> Self {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                // An IPv4 datagram cannot carry more than 65535 bytes.
                let length = u16::try_from(length).unwrap_or(u16::MAX);
                self.ipv4_pseudo_header(s, d, protocol.into(), length)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                self.ipv6_pseudo_header(s, d, protocol.into(), length)
            }
            (s, d) => self.word(mixed_pseudo_header(s, d, protocol.into(), length)),
        }
    }

    /// Adds an IPv4 pseudo-header (see [`ipv4_pseudo_header`]).
    #[inline]
    fn ipv4_pseudo_header(self, src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> Self {
        self.bytes4(src.octets())
            .bytes4(dst.octets())
            .word(u16::from(protocol))
            .word(length)
    }

    /// Adds an IPv6 pseudo-header (see [`ipv6_pseudo_header`]).
    #[inline]
    fn ipv6_pseudo_header(
        self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        next_header: u8,
        length: u32,
    ) -> Self {
        self.bytes(&src.octets())
            .bytes(&dst.octets())
            .bytes4(length.to_be_bytes())
            .word(u16::from(next_header))
    }

    /// The sum of everything added, as [`sum`] gives it.
    #[inline]
    pub fn sum(self) -> u16 {
        u16::from_be(fold_to_16(self.0))
    }
}

/// Sum of the IPv4 pseudo-header (RFC 793 / RFC 768): source, destination,
/// zero, protocol, and the upper-layer length.
#[inline]
pub fn ipv4_pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    Accumulator::new()
        .ipv4_pseudo_header(src, dst, protocol, length)
        .sum()
}

/// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source,
/// destination, 32-bit upper-layer length, three zero bytes and the next
/// header value.
#[inline]
pub fn ipv6_pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> u16 {
    Accumulator::new()
        .ipv6_pseudo_header(src, dst, next_header, length)
        .sum()
}

/// Sum of the pseudo-header for an upper-layer packet of `length` bytes
/// between `src` and `dst`, in whichever family they belong to.
///
/// Upper layers (UDP, TCP, ICMPv6) call this so that one code path serves
/// IPv4 and IPv6. Addresses of different families cannot occur on one
/// packet; if a caller passes them anyway, the IPv4 one is taken in its
/// IPv4-mapped IPv6 form rather than panicking.
#[inline]
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: IpProtocol, length: u32) -> u16 {
    Accumulator::new()
        .pseudo_header(src, dst, protocol, length)
        .sum()
}

/// [`pseudo_header`] for addresses of different families, out of line:
/// kept apart, it cannot make the compiler build the common cases'
/// addresses byte by byte in a merged path.
#[cold]
#[inline(never)]
fn mixed_pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, length: u32) -> u16 {
    ipv6_pseudo_header(as_ipv6(src), as_ipv6(dst), protocol, length)
}

fn as_ipv6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious definition, byte pair by byte pair, for comparison.
    fn reference_sum(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = data[i] as u32;
            let lo = if i + 1 < data.len() {
                data[i + 1] as u32
            } else {
                0
            };
            acc += (hi << 8) | lo;
            i += 2;
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
    }

    #[test]
    fn empty_sums_to_zero() {
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn odd_lengths_pad_on_the_right() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn matches_reference_for_every_length_and_pattern() {
        let mut data = [0u8; 300];
        let mut x: u32 = 0x1234_5678;
        for b in data.iter_mut() {
            // xorshift: deterministic, covers all byte values.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        for len in 0..data.len() {
            for start in 0..4.min(data.len() - len) {
                let slice = &data[start..start + len];
                assert_eq!(sum(slice), reference_sum(slice), "len {len} start {start}");
            }
        }
    }

    #[test]
    fn all_ones_carries_around() {
        let data = [0xffu8; 1000];
        assert_eq!(sum(&data), reference_sum(&data));
        assert_eq!(sum(&data), 0xffff);
    }

    #[test]
    fn real_ipv4_header_verifies() {
        // IPv4 header of an ICMP echo request from Linux ping,
        // 10.0.0.1 > 10.0.0.2 with DF set and ID 0, checksum 0x26a7.
        let header = [
            0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x26, 0xa7, 0x0a, 0x00,
            0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        ];
        assert!(verifies(sum(&header)));
        let mut zeroed = header;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(finish(sum(&zeroed)), 0x26a7);
    }

    #[test]
    fn incremental_update_matches_full_recompute() {
        let mut header = [
            0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0x0a, 0x00,
            0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        ];
        let original = finish(sum(&header));
        // Decrement the TTL (word 4: ttl, protocol), as a router does.
        let old_word = u16::from_be_bytes([header[8], header[9]]);
        header[8] -= 1;
        let new_word = u16::from_be_bytes([header[8], header[9]]);
        let updated = update(original, old_word, new_word);
        assert_eq!(updated, finish(sum(&header)));

        // Rewrite the source address, as a NAT does.
        let old_src = [header[12], header[13], header[14], header[15]];
        header[12..16].copy_from_slice(&[192, 168, 7, 9]);
        let updated = update_bytes(updated, &old_src, &header[12..16]);
        assert_eq!(updated, finish(sum(&header)));
    }

    #[test]
    fn pseudo_headers() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        assert_eq!(
            ipv4_pseudo_header(src, dst, 6, 40),
            reference_sum(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 40])
        );
        let src6 = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let dst6 = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 2);
        let mut bytes = [0u8; 40];
        bytes[..16].copy_from_slice(&src6.octets());
        bytes[16..32].copy_from_slice(&dst6.octets());
        bytes[32..36].copy_from_slice(&70000u32.to_be_bytes());
        bytes[39] = 58;
        assert_eq!(
            ipv6_pseudo_header(src6, dst6, 58, 70000),
            reference_sum(&bytes)
        );
    }

    #[test]
    fn accumulated_pieces_sum_as_the_whole() {
        // Pseudo-headers of both families (and a mixed pair, summed as
        // IPv6 with the IPv4 address mapped), header words, an odd tail:
        // the accumulator agrees with summing the bytes laid end to end.
        let v4 = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        );
        let v6 = (
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xffff, 0xfffe)),
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0x0200, 0xff, 0xfe00, 1)),
        );
        let mixed = (v4.0, v6.1);
        let payload: [u8; 37] = core::array::from_fn(|i| (i as u8).wrapping_mul(151) ^ 0xa5);
        for (src, dst) in [v4, v6, mixed] {
            for length in [0u32, 45, 65535, 70000] {
                let accumulated = Accumulator::new()
                    .pseudo_header(src, dst, IpProtocol::Udp, length)
                    .word(0xfedc)
                    .bytes4([0xff, 0xff, 0x80, 0x01])
                    .bytes(&payload)
                    .sum();
                let mut whole = std::vec::Vec::new();
                whole.extend_from_slice(&0xfedcu16.to_be_bytes());
                whole.extend_from_slice(&[0xff, 0xff, 0x80, 0x01]);
                whole.extend_from_slice(&payload);
                let expected = add(
                    pseudo_header(src, dst, IpProtocol::Udp, length),
                    reference_sum(&whole),
                );
                assert_eq!(accumulated, expected, "{src} > {dst} length {length}");
            }
        }
    }
}
