//! Packet formats: byte views, parsed representations, checksums.
//!
//! Every protocol follows one pattern:
//!
//! * A **byte view** (`EthernetFrame<T>`, `Ipv4Packet<T>`, `TcpPacket<T>`,
//!   ...) wraps any `T: AsRef<[u8]>` and reads fields in place; with
//!   `T: AsMut<[u8]>` it writes them. `new_checked` runs `check_len`, which
//!   verifies that every byte an accessor may touch is present, including
//!   what the packet's own length fields claim. Accessors on a view built
//!   with `new_unchecked` may panic on a short buffer; parsers never use it
//!   on untrusted input.
//! * A **`Repr`** is the owned, validated meaning of a header. `parse` reads
//!   it from a checked view (and verifies the checksum unless a device did),
//!   `buffer_len` says how many bytes `emit` will write, and `emit` writes
//!   exactly that many (the payload is the caller's).
//!
//! Field offsets are named constants in a private `field` module per
//! protocol, so the layout reads like the RFC's header diagram.

#[macro_use]
mod macros;

pub mod checksum;
pub mod ethernet;
pub mod ip;

pub mod arp;
pub mod dhcpv4;
pub mod dns;
pub mod icmpv4;
pub mod icmpv6;
pub mod igmp;
pub mod ipv4;
pub mod ipv6;
pub mod mld;
pub mod ndisc;
pub mod pcap;
pub mod pretty;
pub mod tcp;
pub mod udp;

pub use self::ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
pub use self::ip::{IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};

use core::fmt;

/// Why a packet could not be parsed or emitted.
///
/// The variants keep the cause apart so that layers can count drops by
/// reason: a truncated packet, a bad checksum and an unsupported option are
/// different problems with different fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the fixed header, or than a length field
    /// inside the packet claims.
    Truncated,
    /// A length field is below the minimum the format allows, or disagrees
    /// with another length (an IPv4 IHL below 5, a UDP length below 8).
    BadLength,
    /// The checksum does not match the content.
    BadChecksum,
    /// The version field names a version this format is not.
    BadVersion,
    /// An option is malformed: a length of 0 or 1 where a length is
    /// required, an option that runs past the end of its header, or a
    /// fixed-size option with the wrong length.
    BadOption,
    /// A field holds a value the format forbids (reserved code, broadcast
    /// source address, a flag combination that cannot occur).
    Malformed,
    /// The packet is well formed but uses something this stack does not
    /// handle (an unknown hardware type, an unknown ICMP type for a `Repr`).
    Unsupported,
    /// An IPv6 header chain reached a header whose format is unknown; the
    /// value is its Next Header number.
    UnknownHeader(u8),
    /// An IPv6 header chain is longer than the walker's bound.
    TooManyHeaders,
    /// The output buffer is too small for what is being emitted.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated packet"),
            Error::BadLength => f.write_str("bad length field"),
            Error::BadChecksum => f.write_str("bad checksum"),
            Error::BadVersion => f.write_str("bad version"),
            Error::BadOption => f.write_str("malformed option"),
            Error::Malformed => f.write_str("malformed packet"),
            Error::Unsupported => f.write_str("unsupported packet"),
            Error::UnknownHeader(n) => write!(f, "unknown IPv6 header {n}"),
            Error::TooManyHeaders => f.write_str("too many IPv6 extension headers"),
            Error::BufferTooSmall => f.write_str("buffer too small"),
        }
    }
}

impl core::error::Error for Error {}

/// The result type of every fallible operation in `wire`.
pub type Result<T> = core::result::Result<T, Error>;

/// Who takes care of a checksum: this code, or the device.
///
/// On receive, `Software` means the parser verifies the checksum and
/// `Offloaded` means the device already did (or the caller chose to trust
/// the packet). On transmit, `Software` means `emit` (or `fill_checksum`)
/// computes it and `Offloaded` means the device will.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumMode {
    /// Compute or verify the checksum in software.
    #[default]
    Software,
    /// The device verifies or fills the checksum; skip the work.
    Offloaded,
}

impl ChecksumMode {
    /// Whether software has to do the work.
    pub const fn in_software(self) -> bool {
        matches!(self, ChecksumMode::Software)
    }
}

/// Copies `N` bytes from the front of `bytes` into an array.
///
/// Accessors call it on ranges that `check_len` has proved present; if a
/// slice is ever shorter, the missing bytes read as zero instead of
/// panicking.
#[inline]
pub(crate) fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    match bytes.first_chunk::<N>() {
        Some(chunk) => *chunk,
        None => [0; N],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_copies_and_never_panics() {
        assert_eq!(array::<2>(&[1, 2, 3]), [1, 2]);
        assert_eq!(array::<4>(&[1, 2]), [0; 4]);
    }

    #[test]
    fn errors_display() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(
            Error::UnknownHeader(99).to_string(),
            "unknown IPv6 header 99"
        );
        assert_eq!(Error::Truncated.to_string(), "truncated packet");
    }
}
