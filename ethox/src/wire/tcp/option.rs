//! TCP options (RFC 9293 section 3.1, RFC 7323, RFC 2018).
//!
//! ```text
//! single byte:   +------+          with a length: +------+--------+---------------+
//!                | kind |                         | kind | length | data ...      |
//!                +------+                         +------+--------+---------------+
//!                kind 0 (EOL), 1 (NOP)            length counts kind and length bytes
//! ```
//!
//! [`TcpOptions`] walks the option bytes of a header; [`TcpOption::parse`]
//! reads one option and [`TcpOption::emit`] writes one.

use super::super::{Error, Result, array};

enum_with_unknown! {
    /// The kind byte of a TCP option (IANA "TCP Option Kind Numbers").
    pub enum TcpOptionKind(u8) {
        /// End of option list (RFC 9293).
        EndOfList = 0,
        /// No-operation, used for padding (RFC 9293).
        NoOperation = 1,
        /// Maximum segment size (RFC 9293 section 3.7.1).
        MaxSegmentSize = 2,
        /// Window scale (RFC 7323 section 2).
        WindowScale = 3,
        /// SACK permitted (RFC 2018 section 2).
        SackPermitted = 4,
        /// SACK blocks (RFC 2018 section 3).
        SackRange = 5,
        /// Timestamps (RFC 7323 section 3).
        Timestamps = 8,
    }
}

/// Fixed total lengths (kind and length bytes included) of the options that
/// have one.
const MSS_LEN: usize = 4;
const WS_LEN: usize = 3;
const SACK_PERMITTED_LEN: usize = 2;
pub(crate) const TIMESTAMPS_LEN: usize = 10;
/// A SACK option is 2 bytes of kind and length plus 8 bytes per block.
const SACK_BLOCK_LEN: usize = 8;
/// RFC 2018 section 3: at most four blocks fit in the 40 option bytes.
pub(crate) const MAX_SACK_BLOCKS: usize = 4;

/// One TCP option.
///
/// `SackRange` holds up to four (left edge, right edge) blocks as sent, the
/// first one in the first slot; a parsed option has its blocks in a prefix
/// of the array. `WindowScale` holds the shift count as it is on the wire,
/// even above 14 (it is [`TcpRepr`](super::TcpRepr) that clamps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// Kind 0: the end of the option list.
    EndOfList,
    /// Kind 1: one byte of padding.
    NoOperation,
    /// Kind 2: the largest segment the sender can receive.
    MaxSegmentSize(u16),
    /// Kind 3: the shift count of the sender's receive window.
    WindowScale(u8),
    /// Kind 4: the sender can receive SACK options.
    SackPermitted,
    /// Kind 5: blocks of data received out of order.
    SackRange([Option<(u32, u32)>; MAX_SACK_BLOCKS]),
    /// Kind 8: a timestamp and the echo of the peer's latest one.
    Timestamps {
        /// TSval: the sender's clock.
        tsval: u32,
        /// TSecr: the echoed value.
        tsecr: u32,
    },
    /// Any other kind with a length; `data` excludes kind and length bytes.
    ///
    /// On emit, use it only for kinds without a variant of their own.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// The option's data.
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// Reads the option at the start of `bytes`, returning it and the number
    /// of bytes it takes.
    ///
    /// Errors: [`Error::Truncated`] for an empty slice; [`Error::BadOption`]
    /// for a kind without its length byte, a length below 2, a length that
    /// runs past the end of `bytes`, or a known option whose length is not
    /// the one its RFC fixes (MSS 4, window scale 3, SACK-permitted 2,
    /// timestamps 10, SACK 2 + 8n with n in 1..=4).
    pub fn parse(bytes: &'a [u8]) -> Result<(TcpOption<'a>, usize)> {
        let Some((&kind, rest)) = bytes.split_first() else {
            return Err(Error::Truncated);
        };
        match TcpOptionKind::from(kind) {
            TcpOptionKind::EndOfList => return Ok((TcpOption::EndOfList, 1)),
            TcpOptionKind::NoOperation => return Ok((TcpOption::NoOperation, 1)),
            _ => {}
        }
        // Every other kind carries a length that counts the kind and length
        // bytes themselves (RFC 9293 section 3.1), so anything below 2 could
        // never advance the walk.
        let Some(&len) = rest.first() else {
            return Err(Error::BadOption);
        };
        let len = usize::from(len);
        if len < 2 {
            return Err(Error::BadOption);
        }
        let Some(data) = bytes.get(2..len) else {
            return Err(Error::BadOption);
        };
        let option = match TcpOptionKind::from(kind) {
            TcpOptionKind::MaxSegmentSize => match *data {
                [hi, lo] => TcpOption::MaxSegmentSize(u16::from_be_bytes([hi, lo])),
                _ => return Err(Error::BadOption),
            },
            TcpOptionKind::WindowScale => match *data {
                [shift] => TcpOption::WindowScale(shift),
                _ => return Err(Error::BadOption),
            },
            TcpOptionKind::SackPermitted => match *data {
                [] => TcpOption::SackPermitted,
                _ => return Err(Error::BadOption),
            },
            TcpOptionKind::Timestamps => {
                if len != TIMESTAMPS_LEN {
                    return Err(Error::BadOption);
                }
                let (tsval, tsecr) = data.split_at_checked(4).ok_or(Error::BadOption)?;
                TcpOption::Timestamps {
                    tsval: u32::from_be_bytes(array(tsval)),
                    tsecr: u32::from_be_bytes(array(tsecr)),
                }
            }
            TcpOptionKind::SackRange => {
                // RFC 2018 section 3: length 2 + 8n; an option without a
                // block is meaningless and more than four cannot fit.
                let (blocks, rest) = data.as_chunks::<SACK_BLOCK_LEN>();
                if !rest.is_empty() || blocks.is_empty() || blocks.len() > MAX_SACK_BLOCKS {
                    return Err(Error::BadOption);
                }
                let mut ranges = [None; MAX_SACK_BLOCKS];
                for (slot, block) in ranges.iter_mut().zip(blocks) {
                    let [a, b, c, d, e, f, g, h] = *block;
                    *slot = Some((
                        u32::from_be_bytes([a, b, c, d]),
                        u32::from_be_bytes([e, f, g, h]),
                    ));
                }
                TcpOption::SackRange(ranges)
            }
            _ => TcpOption::Unknown { kind, data },
        };
        Ok((option, len))
    }

    /// The kind byte of this option.
    pub fn kind(&self) -> TcpOptionKind {
        match self {
            TcpOption::EndOfList => TcpOptionKind::EndOfList,
            TcpOption::NoOperation => TcpOptionKind::NoOperation,
            TcpOption::MaxSegmentSize(_) => TcpOptionKind::MaxSegmentSize,
            TcpOption::WindowScale(_) => TcpOptionKind::WindowScale,
            TcpOption::SackPermitted => TcpOptionKind::SackPermitted,
            TcpOption::SackRange(_) => TcpOptionKind::SackRange,
            TcpOption::Timestamps { .. } => TcpOptionKind::Timestamps,
            TcpOption::Unknown { kind, .. } => TcpOptionKind::from(*kind),
        }
    }

    /// The number of bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => MSS_LEN,
            TcpOption::WindowScale(_) => WS_LEN,
            TcpOption::SackPermitted => SACK_PERMITTED_LEN,
            TcpOption::SackRange(ranges) => sack_option_len(ranges.iter().flatten().count()),
            TcpOption::Timestamps { .. } => TIMESTAMPS_LEN,
            TcpOption::Unknown { data, .. } => 2usize.saturating_add(data.len()),
        }
    }

    /// Writes the option at the start of `buf`, returning the number of
    /// bytes written ([`buffer_len`](Self::buffer_len)).
    ///
    /// Errors: [`Error::BufferTooSmall`] if `buf` is shorter than that;
    /// [`Error::BadOption`] for an option that cannot be written validly (a
    /// `SackRange` without a block, an `Unknown` whose data does not fit
    /// the one-byte length).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let length_byte = u8::try_from(len).map_err(|_| Error::BadOption)?;
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        match *self {
            TcpOption::EndOfList => out.fill(0),
            TcpOption::NoOperation => out.fill(1),
            TcpOption::MaxSegmentSize(mss) => {
                let [hi, lo] = mss.to_be_bytes();
                out.copy_from_slice(&[TcpOptionKind::MaxSegmentSize.into(), length_byte, hi, lo]);
            }
            TcpOption::WindowScale(shift) => {
                out.copy_from_slice(&[TcpOptionKind::WindowScale.into(), length_byte, shift]);
            }
            TcpOption::SackPermitted => {
                out.copy_from_slice(&[TcpOptionKind::SackPermitted.into(), length_byte]);
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                let [a, b, c, d] = tsval.to_be_bytes();
                let [e, f, g, h] = tsecr.to_be_bytes();
                out.copy_from_slice(&[
                    TcpOptionKind::Timestamps.into(),
                    length_byte,
                    a,
                    b,
                    c,
                    d,
                    e,
                    f,
                    g,
                    h,
                ]);
            }
            TcpOption::SackRange(ranges) => {
                if len == sack_option_len(0) {
                    return Err(Error::BadOption);
                }
                let (head, blocks) = out.split_at_mut(2);
                head.copy_from_slice(&[TcpOptionKind::SackRange.into(), length_byte]);
                let (blocks, _) = blocks.as_chunks_mut::<SACK_BLOCK_LEN>();
                for (block, (left, right)) in blocks.iter_mut().zip(ranges.iter().flatten()) {
                    let [a, b, c, d] = left.to_be_bytes();
                    let [e, f, g, h] = right.to_be_bytes();
                    *block = [a, b, c, d, e, f, g, h];
                }
            }
            TcpOption::Unknown { kind, data } => {
                let (head, body) = out.split_at_mut(2);
                head.copy_from_slice(&[kind, length_byte]);
                body.copy_from_slice(data);
            }
        }
        Ok(len)
    }
}

/// The length of a SACK option carrying `blocks` blocks.
pub(crate) const fn sack_option_len(blocks: usize) -> usize {
    2 + SACK_BLOCK_LEN * blocks
}

/// An iterator over the options of a TCP header.
///
/// It yields every option up to the End of Option List or the end of the
/// bytes, skipping No-Operation padding and not yielding the End of Option
/// List itself (whatever follows it is padding, RFC 9293 section 3.1).
/// Unknown kinds are yielded as [`TcpOption::Unknown`]. A malformed option
/// is yielded once as `Err` and ends the walk: its length cannot be
/// trusted, so nothing after it can be found. Each step consumes at least
/// one byte, so the walk ends after at most `bytes.len()` steps.
///
/// ```
/// use ethox::wire::tcp::{TcpOption, TcpOptions};
///
/// // NOP, NOP, timestamps 1/2, EOL, then padding.
/// let bytes = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0];
/// let mut options = TcpOptions::new(&bytes);
/// assert_eq!(
///     options.next(),
///     Some(Ok(TcpOption::Timestamps { tsval: 1, tsecr: 2 }))
/// );
/// assert_eq!(options.next(), None);
/// ```
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Walks `bytes`, the option area of a header (see
    /// [`TcpPacket::options`](super::TcpPacket::options)).
    pub const fn new(bytes: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions { rest: bytes }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            match TcpOption::parse(self.rest) {
                Ok((TcpOption::EndOfList, _)) => break,
                Ok((option, len)) => {
                    // `parse` only returns lengths it has seen in the slice,
                    // and at least 1: the walk always moves forward.
                    self.rest = self.rest.get(len..).unwrap_or(&[]);
                    if option != TcpOption::NoOperation {
                        return Some(Ok(option));
                    }
                }
                Err(err) => {
                    self.rest = &[];
                    return Some(Err(err));
                }
            }
        }
        self.rest = &[];
        None
    }
}

impl core::iter::FusedIterator for TcpOptions<'_> {}
