//! TCP segments and options (RFC 9293, RFC 7323, RFC 2018).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |  4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |  8
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data | Rsv |N|C|E|U|A|P|R|S|F|                               |
//! | Offset|     |S|W|C|R|C|S|S|Y|I|            Window             | 12
//! |       |     | |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        | 16
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Options (Data Offset * 4 - 20 bytes, up to 40)      | 20
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Data ...                          |
//! ```
//!
//! The byte view [`TcpPacket`] must span exactly the segment: the IP layer
//! hands it the IP payload (IPv4 total length or IPv6 payload length minus
//! extension headers, link padding removed), because the checksum and the
//! payload length are both taken from the buffer's length.
//!
//! Checksums cover a pseudo-header of the IP addresses, so
//! [`TcpPacket::verify_checksum`], [`TcpPacket::fill_checksum`],
//! [`TcpRepr::parse`] and [`TcpRepr::emit`] take the source and destination
//! as `IpAddr`, in either family. `emit` with [`ChecksumMode::Software`]
//! sums the packet as it is at that moment, so write the payload first (or
//! emit with [`ChecksumMode::Offloaded`] and call `fill_checksum` later).
//!
//! The flag once called NS (ECN nonce, RFC 3540) is historic (RFC 8311);
//! the bit is readable and preserved as [`TcpFlags::NS`] but nothing here
//! gives it a meaning.
//!
//! ```
//! use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpPacket, TcpRepr};
//! use ethox::wire::{ChecksumMode, IpAddr, Ipv4Addr};
//!
//! let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
//! let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
//! let syn = TcpRepr {
//!     src_port: 4000,
//!     dst_port: 80,
//!     flags: TcpFlags::SYN,
//!     seq_number: SeqNumber(1),
//!     window_len: 64240,
//!     max_seg_size: Some(1460),
//!     ..TcpRepr::default()
//! };
//! let mut bytes = [0u8; 24];
//! assert_eq!(syn.buffer_len(), bytes.len());
//! let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
//! syn.emit(&mut packet, src, dst, ChecksumMode::Software).unwrap();
//!
//! let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
//! assert!(packet.verify_checksum(src, dst));
//! let parsed = TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
//! assert_eq!(parsed, syn);
//! assert_eq!(parsed.to_string(), "TCP 4000 > 80 [S] seq 1 win 64240 mss 1460");
//! ```

use core::fmt;

use bitflags::bitflags;
use byteorder::{ByteOrder, NetworkEndian};

use super::checksum;
use super::ip::{IpAddr, IpProtocol};
use super::{ChecksumMode, Error, Result};

mod option;
mod seq;

pub use self::option::{TcpOption, TcpOptionKind, TcpOptions};
pub use self::seq::SeqNumber;

use self::option::{MAX_SACK_BLOCKS, TIMESTAMPS_LEN, sack_option_len};

bitflags! {
    /// The control bits of a TCP header (RFC 9293 section 3.1, RFC 3168
    /// section 6.1 for ECE and CWR).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TcpFlags: u16 {
        /// No more data from the sender.
        const FIN = 0x001;
        /// Synchronize sequence numbers.
        const SYN = 0x002;
        /// Reset the connection.
        const RST = 0x004;
        /// Push function.
        const PSH = 0x008;
        /// The acknowledgment field is significant.
        const ACK = 0x010;
        /// The urgent pointer field is significant.
        const URG = 0x020;
        /// ECN-Echo (RFC 3168).
        const ECE = 0x040;
        /// Congestion Window Reduced (RFC 3168).
        const CWR = 0x080;
        /// The historic ECN-nonce bit (RFC 3540, moved to Historic by
        /// RFC 8311); read and written, never interpreted.
        const NS = 0x100;
    }
}

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    /// Data offset (high nibble of byte 12), three reserved bits, NS and
    /// the eight flags of byte 13.
    pub const FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;
    pub const HEADER_LEN: usize = 20;
    /// A four-bit data offset counts at most 15 words.
    pub const MAX_HEADER_LEN: usize = 60;
}

/// The length of a TCP header without options.
pub const HEADER_LEN: usize = field::HEADER_LEN;
/// The largest TCP header: a data offset of 15 words.
pub const MAX_HEADER_LEN: usize = field::MAX_HEADER_LEN;
/// The room for options in the largest header.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// The largest shift count a window scale option may carry (RFC 7323
/// section 2.3).
pub const MAX_WINDOW_SCALE: u8 = 14;

/// Bits of the 16-bit word at offset 12 that carry flags (NS included).
const FLAG_BITS: u16 = 0x01ff;

/// A byte view of a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking it; accessors may panic if it is
    /// too short.
    pub const fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header is present ([`Error::Truncated`]), that
    /// the data offset counts at least the fixed header
    /// ([`Error::BadLength`]) and that the header it announces, options
    /// included, is present ([`Error::Truncated`]).
    ///
    /// The options themselves are validated when they are walked
    /// ([`TcpOptions`], [`TcpRepr::parse`]), which only reads inside
    /// [`options`](Self::options).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < field::HEADER_LEN {
            return Err(Error::BadLength);
        }
        if header_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// The sequence number.
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(NetworkEndian::read_u32(
            &self.buffer.as_ref()[field::SEQ_NUM],
        ))
    }

    /// The acknowledgment number field, whether or not ACK is set.
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(NetworkEndian::read_u32(
            &self.buffer.as_ref()[field::ACK_NUM],
        ))
    }

    /// The data offset: the header length in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS.start] >> 4
    }

    /// The header length in bytes (data offset times four).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// The control flags, NS included; the three reserved bits are not
    /// reported.
    pub fn flags(&self) -> TcpFlags {
        let word = NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLAGS]);
        TcpFlags::from_bits_truncate(word & FLAG_BITS)
    }

    /// Whether the historic NS bit is set.
    pub fn ns(&self) -> bool {
        self.flags().contains(TcpFlags::NS)
    }

    /// The window field, not scaled.
    pub fn window_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::WINDOW])
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The urgent pointer field, whether or not URG is set.
    pub fn urgent_ptr(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::URGENT])
    }

    /// The option bytes between the fixed header and the data (empty if
    /// the data offset and the buffer disagree).
    pub fn options(&self) -> &[u8] {
        let header_len = self.header_len();
        self.buffer
            .as_ref()
            .get(field::OPTIONS..header_len)
            .unwrap_or(&[])
    }

    /// The number of payload bytes after the header.
    pub fn payload_len(&self) -> usize {
        self.buffer.as_ref().len().saturating_sub(self.header_len())
    }

    /// The sequence space the segment takes: the payload plus one for SYN
    /// and one for FIN (RFC 9293 section 3.4, SEG.LEN).
    pub fn segment_len(&self) -> usize {
        let flags = self.flags();
        self.payload_len()
            + usize::from(flags.contains(TcpFlags::SYN))
            + usize::from(flags.contains(TcpFlags::FIN))
    }

    /// Whether the checksum is correct for a segment from `src` to `dst`.
    ///
    /// The whole buffer is summed, with the pseudo-header of RFC 9293
    /// section 3.1 (IPv4) or RFC 8200 section 8.1 (IPv6).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verifies(self.checksum_sum(src, dst))
    }

    fn checksum_sum(&self, src: IpAddr, dst: IpAddr) -> u16 {
        let data = self.buffer.as_ref();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        checksum::Accumulator::new()
            .pseudo_header(src, dst, IpProtocol::Tcp, len)
            .bytes(data)
            .sum()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> TcpPacket<&'a T> {
    /// The payload after the header, borrowed for the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let header_len = self.header_len();
        self.buffer.as_ref().get(header_len..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::SRC_PORT], port)
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::DST_PORT], port)
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, seq: SeqNumber) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::SEQ_NUM], seq.0)
    }

    /// Sets the acknowledgment number field.
    pub fn set_ack_number(&mut self, ack: SeqNumber) {
        NetworkEndian::write_u32(&mut self.buffer.as_mut()[field::ACK_NUM], ack.0)
    }

    /// Sets the data offset from a header length in bytes, keeping the
    /// flags. The length is rounded down to whole words and capped at
    /// [`MAX_HEADER_LEN`].
    pub fn set_header_len(&mut self, len: usize) {
        let words = (len.min(field::MAX_HEADER_LEN) / 4) as u8;
        let byte = &mut self.buffer.as_mut()[field::FLAGS.start];
        *byte = (words << 4) | (*byte & 0x0f);
    }

    /// Sets the flags (NS included), keeping the data offset and clearing
    /// the reserved bits.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        let bytes = &mut self.buffer.as_mut()[field::FLAGS];
        let word = NetworkEndian::read_u16(bytes);
        NetworkEndian::write_u16(bytes, (word & 0xf000) | (flags.bits() & FLAG_BITS));
    }

    /// Sets the window field.
    pub fn set_window_len(&mut self, window: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::WINDOW], window)
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value)
    }

    /// Sets the urgent pointer field.
    pub fn set_urgent_ptr(&mut self, ptr: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[field::URGENT], ptr)
    }

    /// The option bytes, writable (empty if the data offset and the buffer
    /// disagree).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(field::OPTIONS..header_len)
            .unwrap_or(&mut [])
    }

    /// The payload after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(header_len..)
            .unwrap_or(&mut [])
    }

    /// Computes the checksum over the whole buffer, as it is now, for a
    /// segment from `src` to `dst`, and stores it.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let sum = self.checksum_sum(src, dst);
        self.set_checksum(checksum::finish(sum));
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for TcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed header of a TCP segment: what a state machine needs to know
/// about a segment in, and all it has to say about a segment out.
///
/// `flags` carries the control bits *other than ACK and URG*: those two are
/// implied by `ack_number` and `urgent_ptr` being `Some`, so a segment
/// cannot say "ACK" without an acknowledgment number. `parse` never puts
/// them in `flags`, and `emit` ignores them there;
/// [`wire_flags`](Self::wire_flags) gives the complete set as sent.
///
/// Options keep their meaning, not their layout: which options, not in
/// which order, with how much padding, or how often. Unknown options are
/// dropped. When an option appears twice, the last one counts.
///
/// `Default` is an all-zero segment without flags or options, convenient
/// with struct-update syntax; its zero ports are not valid on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// SYN, FIN, RST, PSH, ECE, CWR and NS as present; never ACK or URG.
    pub flags: TcpFlags,
    /// Sequence number of the first byte (or of the SYN).
    pub seq_number: SeqNumber,
    /// The acknowledgment number, present exactly when ACK is set.
    pub ack_number: Option<SeqNumber>,
    /// The window field, not scaled.
    pub window_len: u16,
    /// Window scale shift count, at most [`MAX_WINDOW_SCALE`]: a larger
    /// value on the wire is read as 14 (RFC 7323 section 2.3 "MUST use 14"),
    /// and `emit` writes at most 14.
    pub window_scale: Option<u8>,
    /// Maximum segment size option.
    pub max_seg_size: Option<u16>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// SACK blocks as (left edge, right edge), first block first; a parsed
    /// segment fills a prefix. See [`buffer_len`](Self::buffer_len) for how
    /// many fit.
    pub sack_ranges: [Option<(u32, u32)>; MAX_SACK_BLOCKS],
    /// Timestamps option as (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
    /// The urgent pointer, present exactly when URG is set.
    pub urgent_ptr: Option<u16>,
    /// The number of data bytes after the header.
    pub payload_len: usize,
}

/// How [`TcpRepr::emit`] lays out the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OptionLayout {
    /// Linux's layout: every option group padded with NOPs to whole words,
    /// so that the 32-bit fields are aligned. Otherwise the options are
    /// packed back to back and the end padded with zeros (End of List).
    aligned: bool,
    /// How many SACK blocks are written.
    sack_blocks: usize,
}

impl TcpRepr {
    /// Parses a checked segment sent from `src` to `dst`, verifying the
    /// checksum when `checksum` is [`ChecksumMode::Software`].
    ///
    /// Rejected: a short or inconsistent header (as
    /// [`TcpPacket::check_len`]), a bad checksum ([`Error::BadChecksum`]),
    /// port 0 on either side ([`Error::Malformed`]; RFC 9293 reserves it),
    /// and a malformed option ([`Error::BadOption`], see [`TcpOptions`]).
    ///
    /// Flag combinations are *not* rejected, not even SYN with RST or FIN:
    /// RFC 9293 section 3.10.7 says what a connection does with each, so
    /// that is the state machine's decision, and `flags` can hold them all.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
        checksum: ChecksumMode,
    ) -> Result<TcpRepr> {
        packet.check_len()?;
        if checksum.in_software() && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let src_port = packet.src_port();
        let dst_port = packet.dst_port();
        if src_port == 0 || dst_port == 0 {
            return Err(Error::Malformed);
        }
        let wire_flags = packet.flags();
        let mut repr = TcpRepr {
            src_port,
            dst_port,
            flags: wire_flags.difference(TcpFlags::ACK | TcpFlags::URG),
            seq_number: packet.seq_number(),
            ack_number: wire_flags
                .contains(TcpFlags::ACK)
                .then(|| packet.ack_number()),
            window_len: packet.window_len(),
            urgent_ptr: wire_flags
                .contains(TcpFlags::URG)
                .then(|| packet.urgent_ptr()),
            payload_len: packet.payload_len(),
            ..TcpRepr::default()
        };
        let options = packet.options();
        // The common layout, two NOPs (kind 1) then the timestamps (kind
        // 8, length 10), read directly.
        if let &[1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] = options {
            let tsval = u32::from_be_bytes([v0, v1, v2, v3]);
            let tsecr = u32::from_be_bytes([e0, e1, e2, e3]);
            repr.timestamp = Some((tsval, tsecr));
            return Ok(repr);
        }
        for option in TcpOptions::new(options) {
            match option? {
                TcpOption::MaxSegmentSize(mss) => repr.max_seg_size = Some(mss),
                TcpOption::WindowScale(shift) => {
                    repr.window_scale = Some(shift.min(MAX_WINDOW_SCALE))
                }
                TcpOption::SackPermitted => repr.sack_permitted = true,
                TcpOption::SackRange(ranges) => repr.sack_ranges = ranges,
                TcpOption::Timestamps { tsval, tsecr } => repr.timestamp = Some((tsval, tsecr)),
                TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(repr)
    }

    /// The flags as they go on the wire: `flags` with ACK set exactly when
    /// there is an acknowledgment number and URG exactly when there is an
    /// urgent pointer.
    pub fn wire_flags(&self) -> TcpFlags {
        let mut flags = self.flags.difference(TcpFlags::ACK | TcpFlags::URG);
        flags.set(TcpFlags::ACK, self.ack_number.is_some());
        flags.set(TcpFlags::URG, self.urgent_ptr.is_some());
        flags
    }

    /// The sequence space the segment takes: payload, plus one for SYN and
    /// one for FIN (SEG.LEN of RFC 9293 section 3.4).
    pub fn segment_len(&self) -> usize {
        self.payload_len
            .saturating_add(usize::from(self.flags.contains(TcpFlags::SYN)))
            .saturating_add(usize::from(self.flags.contains(TcpFlags::FIN)))
    }

    /// The number of SACK blocks present in `sack_ranges`.
    fn sack_count(&self) -> usize {
        self.sack_ranges.iter().flatten().count()
    }

    /// The option bytes a layout takes, padding included.
    fn options_len(&self, layout: OptionLayout) -> usize {
        let mss = self.max_seg_size.is_some();
        let ts = self.timestamp.is_some();
        let ws = self.window_scale.is_some();
        let sp = self.sack_permitted;
        let sack = match layout.sack_blocks {
            0 => 0,
            n => sack_option_len(n),
        };
        if layout.aligned {
            // MSS; then TS behind SACK-permitted or two NOPs, or
            // SACK-permitted behind two NOPs; NOP WS; NOP NOP SACK.
            let sp_ts = match (ts, sp) {
                (true, _) => 12,
                (false, true) => 4,
                (false, false) => 0,
            };
            let sack = if sack == 0 { 0 } else { sack + 2 };
            usize::from(mss) * 4 + sp_ts + usize::from(ws) * 4 + sack
        } else {
            let packed = usize::from(mss) * 4
                + usize::from(sp) * 2
                + usize::from(ts) * 10
                + usize::from(ws) * 3
                + sack;
            packed.next_multiple_of(4)
        }
    }

    /// Chooses the option layout: Linux's aligned one if it fits in the 40
    /// option bytes, else the packed one, else fewer SACK blocks.
    fn layout(&self) -> OptionLayout {
        let wanted = self.sack_count().min(MAX_SACK_BLOCKS);
        if wanted == 0 {
            // Without SACK blocks the aligned layout takes at most 20
            // bytes: it always fits (the common case, decided at once).
            return OptionLayout {
                aligned: true,
                sack_blocks: 0,
            };
        }
        for sack_blocks in (0..=wanted).rev() {
            for aligned in [true, false] {
                let layout = OptionLayout {
                    aligned,
                    sack_blocks,
                };
                if self.options_len(layout) <= MAX_OPTIONS_LEN {
                    return layout;
                }
            }
        }
        // Without SACK blocks the options take at most 20 bytes, so the
        // loop has returned; this is only a well-formed fallback.
        OptionLayout {
            aligned: true,
            sack_blocks: 0,
        }
    }

    /// The header length `emit` writes: 20 bytes plus the options padded
    /// to whole words, never more than [`MAX_HEADER_LEN`].
    ///
    /// Options are written in Linux's order and alignment (MSS,
    /// SACK-permitted, timestamps, window scale, SACK; NOPs so that the
    /// 32-bit fields are word-aligned), which reproduces Linux's segments
    /// byte for byte. If that does not fit in 40 bytes, they are packed
    /// without NOPs; if that does not fit either, trailing SACK blocks are
    /// dropped until it does. RFC 2018 section 4 puts the most recent block
    /// first, so the ones dropped are the stalest. (With timestamps, three
    /// blocks fit; MSS, window scale and timestamps leave room for two.)
    pub fn buffer_len(&self) -> usize {
        let options = match self.plain_options_len() {
            Some(len) => len,
            None => self.options_len(self.layout()),
        };
        field::HEADER_LEN + options
    }

    /// The options length when the segment carries nothing beyond the
    /// timestamps (every segment of an established connection but those
    /// with SACK blocks): 12 bytes with them, none without. `None` for
    /// any other option, which takes the general layout.
    fn plain_options_len(&self) -> Option<usize> {
        let plain = self.max_seg_size.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
            && self.sack_ranges.iter().all(Option::is_none);
        plain.then_some(if self.timestamp.is_some() {
            TIMESTAMPS_LEN + 2
        } else {
            0
        })
    }

    /// Same as [`buffer_len`](Self::buffer_len).
    pub fn header_len(&self) -> usize {
        self.buffer_len()
    }

    /// Writes the header into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `packet`; the payload after it is the caller's.
    ///
    /// With [`ChecksumMode::Software`] the checksum is computed over the
    /// whole buffer as it is after the header is written, so the payload
    /// must be in place and the buffer must end where the segment ends.
    /// With [`ChecksumMode::Offloaded`] the checksum field is left zero for
    /// the device (or a later [`TcpPacket::fill_checksum`]).
    ///
    /// Returns [`Error::BufferTooSmall`] (writing nothing) if the buffer is
    /// shorter than the header plus `payload_len`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
        checksum: ChecksumMode,
    ) -> Result<()> {
        // The usual segment (timestamps or no options) skips the layout
        // search.
        let (layout, options_len) = match self.plain_options_len() {
            Some(len) => (None, len),
            None => {
                let layout = self.layout();
                (Some(layout), self.options_len(layout))
            }
        };
        let header_len = field::HEADER_LEN + options_len;
        let needed = header_len.checked_add(self.payload_len);
        if needed.is_none_or(|needed| packet.buffer.as_ref().len() < needed) {
            return Err(Error::BufferTooSmall);
        }
        let Some((fixed, rest)) = packet
            .buffer
            .as_mut()
            .split_first_chunk_mut::<{ field::HEADER_LEN }>()
        else {
            return Err(Error::BufferTooSmall);
        };
        *fixed = self.fixed_header(header_len);
        let options = rest.get_mut(..options_len).unwrap_or(&mut []);
        match (layout, self.timestamp) {
            (Some(layout), _) => self.emit_options(layout, options)?,
            // Two NOPs, then kind 8, length 10 (the aligned layout).
            (None, Some((tsval, tsecr))) => {
                if let Some((ts, _)) = options.split_first_chunk_mut::<{ TIMESTAMPS_LEN + 2 }>() {
                    let nop = u8::from(TcpOptionKind::NoOperation);
                    let kind = u8::from(TcpOptionKind::Timestamps);
                    ts[..4].copy_from_slice(&[nop, nop, kind, TIMESTAMPS_LEN as u8]);
                    ts[4..8].copy_from_slice(&tsval.to_be_bytes());
                    ts[8..].copy_from_slice(&tsecr.to_be_bytes());
                }
            }
            (None, None) => {}
        }
        if checksum.in_software() {
            packet.fill_checksum(src, dst);
        }
        Ok(())
    }

    /// Writes the options in `layout` into `buf`, which is exactly
    /// `options_len(layout)` bytes long.
    /// The first 20 bytes of the segment, checksum zero, for a header of
    /// `header_len` bytes: written in one go rather than field by field.
    fn fixed_header(&self, header_len: usize) -> [u8; field::HEADER_LEN] {
        let words = (header_len.min(field::MAX_HEADER_LEN) / 4) as u16;
        let [s0, s1] = self.src_port.to_be_bytes();
        let [d0, d1] = self.dst_port.to_be_bytes();
        let [q0, q1, q2, q3] = self.seq_number.0.to_be_bytes();
        let [a0, a1, a2, a3] = self.ack_number.unwrap_or_default().0.to_be_bytes();
        let [f0, f1] = ((words << 12) | (self.wire_flags().bits() & FLAG_BITS)).to_be_bytes();
        let [w0, w1] = self.window_len.to_be_bytes();
        let [u0, u1] = self.urgent_ptr.unwrap_or(0).to_be_bytes();
        [
            s0, s1, d0, d1, q0, q1, q2, q3, a0, a1, a2, a3, f0, f1, w0, w1, 0, 0, u0, u1,
        ]
    }

    fn emit_options(&self, layout: OptionLayout, buf: &mut [u8]) -> Result<()> {
        let pad = layout.aligned;
        let mut w = OptionWriter { buf, at: 0 };
        if let Some(mss) = self.max_seg_size {
            w.put(TcpOption::MaxSegmentSize(mss))?;
        }
        match (self.sack_permitted, self.timestamp) {
            (true, Some(_)) => w.put(TcpOption::SackPermitted)?,
            (false, Some(_)) if pad => w.nops(2)?,
            (true, None) => {
                if pad {
                    w.nops(2)?;
                }
                w.put(TcpOption::SackPermitted)?;
            }
            (false, _) => {}
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            w.put(TcpOption::Timestamps { tsval, tsecr })?;
        }
        if let Some(shift) = self.window_scale {
            if pad {
                w.nops(1)?;
            }
            w.put(TcpOption::WindowScale(shift.min(MAX_WINDOW_SCALE)))?;
        }
        if layout.sack_blocks > 0 {
            let mut ranges = [None; MAX_SACK_BLOCKS];
            for (slot, range) in ranges
                .iter_mut()
                .zip(self.sack_ranges.iter().flatten())
                .take(layout.sack_blocks)
            {
                *slot = Some(*range);
            }
            if pad {
                w.nops(2)?;
            }
            w.put(TcpOption::SackRange(ranges))?;
        }
        // Zero padding to the word boundary is an End of Option List
        // followed by zeros (RFC 9293 section 3.1).
        w.buf.get_mut(w.at..).unwrap_or(&mut []).fill(0);
        Ok(())
    }
}

/// A cursor writing options one after another.
struct OptionWriter<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl OptionWriter<'_> {
    fn put(&mut self, option: TcpOption<'_>) -> Result<()> {
        let rest = self.buf.get_mut(self.at..).ok_or(Error::BufferTooSmall)?;
        self.at += option.emit(rest)?;
        Ok(())
    }

    fn nops(&mut self, n: usize) -> Result<()> {
        for _ in 0..n {
            self.put(TcpOption::NoOperation)?;
        }
        Ok(())
    }
}

impl fmt::Display for TcpRepr {
    /// `TCP 4000 > 80 [S.] seq 1 ack 2 win 64240 mss 1460 sackOK ts 1/0
    /// ws 7 len 6`: flags in tcpdump's letters and order (`.` for ACK,
    /// `[none]`), the acknowledgment number only with ACK, the urgent
    /// pointer only with URG, options in the order `emit` writes them
    /// (Linux's), the length only when there is data. NS has no letter
    /// (tcpdump 4.99 prints none either).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TCP {} > {} [", self.src_port, self.dst_port)?;
        let flags = self.wire_flags();
        const LETTERS: [(TcpFlags, char); 8] = [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::ACK, '.'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
        ];
        let mut any = false;
        for (flag, letter) in LETTERS {
            if flags.contains(flag) {
                write!(f, "{letter}")?;
                any = true;
            }
        }
        if !any {
            f.write_str("none")?;
        }
        write!(f, "] seq {}", self.seq_number)?;
        if let Some(ack) = self.ack_number {
            write!(f, " ack {ack}")?;
        }
        write!(f, " win {}", self.window_len)?;
        if let Some(urgent) = self.urgent_ptr {
            write!(f, " urg {urgent}")?;
        }
        if let Some(mss) = self.max_seg_size {
            write!(f, " mss {mss}")?;
        }
        if self.sack_permitted {
            f.write_str(" sackOK")?;
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            write!(f, " ts {tsval}/{tsecr}")?;
        }
        if let Some(shift) = self.window_scale {
            write!(f, " ws {shift}")?;
        }
        if self.sack_count() > 0 {
            f.write_str(" sack")?;
            for (left, right) in self.sack_ranges.iter().flatten() {
                write!(f, " {left}-{right}")?;
            }
        }
        if self.payload_len > 0 {
            write!(f, " len {}", self.payload_len)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
