//! The libpcap capture file format, written and read without std.
//!
//! A file is a global header followed by records, each a record header and
//! the captured bytes of one frame:
//!
//! ```text
//! global header (24 bytes)
//!  0               4       6       8               12              16              20              24
//! +---------------+-------+-------+---------------+---------------+---------------+---------------+
//! | magic         | major | minor | thiszone      | sigfigs       | snaplen       | link type     |
//! +---------------+-------+-------+---------------+---------------+---------------+---------------+
//!
//! record header (16 bytes), then incl_len bytes of frame
//!  0               4               8               12              16
//! +---------------+---------------+---------------+---------------+--------------------
//! | ts seconds    | ts fraction   | incl_len      | orig_len      | data ...
//! +---------------+---------------+---------------+---------------+--------------------
//! ```
//!
//! Every field is in the byte order of the writer; the magic number tells
//! which, and the timestamp resolution: 0xa1b2c3d4 for microseconds,
//! 0xa1b23c4d for nanoseconds. The version is 2.4. `incl_len` is what the
//! file holds (at most `snaplen`), `orig_len` the length on the wire.
//!
//! * [`PcapWriter`] writes little-endian files with link type Ethernet (or
//!   another, see [`PcapWriter::with_link_type`]) into any [`PcapSink`]:
//!   a [`SliceSink`], a `&mut [u8]` cursor, or with the `std` feature any
//!   `std::io::Write` through [`IoSink`].
//! * [`PcapReader`] reads a whole file held in memory, in either byte
//!   order and resolution, with link type Ethernet (1) or raw IP (101).
//!   Every malformation is a typed [`Error`], and iteration stops after it.
//!
//! ```
//! use core::time::Duration;
//! use ethox::wire::pcap::{LinkType, PcapReader, PcapWriter, SliceSink, TimestampResolution};
//!
//! let mut buf = [0u8; 256];
//! let mut writer =
//!     PcapWriter::new(SliceSink::new(&mut buf), TimestampResolution::Nano, 65535).unwrap();
//! let frame = [0xffu8; 60];
//! writer
//!     .write_packet(Duration::new(1_700_000_000, 123_456_789), &frame)
//!     .unwrap();
//! let file = writer.into_inner().into_written();
//! assert_eq!(file.len(), 24 + 16 + 60);
//!
//! let mut reader = PcapReader::new(file).unwrap();
//! assert_eq!(reader.header().link_type, LinkType::Ethernet);
//! let record = reader.next().unwrap().unwrap();
//! assert_eq!(record.timestamp_secs, 1_700_000_000);
//! assert_eq!(record.timestamp_nanos, 123_456_789);
//! assert_eq!(record.data, &frame[..]);
//! assert!(reader.next().is_none());
//! ```

use core::fmt;
use core::time::Duration;

use super::{Error, Result};

/// The magic number of a file with microsecond timestamps.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The magic number of a file with nanosecond timestamps.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// The major version this module reads and writes.
pub const VERSION_MAJOR: u16 = 2;
/// The minor version this module reads and writes.
pub const VERSION_MINOR: u16 = 4;
/// The length of the global file header.
pub const GLOBAL_HEADER_LEN: usize = field::GLOBAL_HEADER_LEN;
/// The length of a record header.
pub const RECORD_HEADER_LEN: usize = field::RECORD_HEADER_LEN;
/// The largest record the reader accepts and the largest snapshot length
/// the writer declares: 256 KiB, libpcap's bound for Ethernet.
pub const MAX_SNAPLEN: u32 = 256 * 1024;

/// The first bytes of a pcapng file (its Section Header Block type),
/// recognized to report [`Error::Unsupported`] rather than garbage.
const PCAPNG_BLOCK_TYPE: u32 = 0x0a0d_0d0a;

mod field {
    use core::ops::Range;

    // Global header.
    pub const MAGIC: Range<usize> = 0..4;
    pub const VERSION_MAJOR: Range<usize> = 4..6;
    pub const VERSION_MINOR: Range<usize> = 6..8;
    pub const THISZONE: Range<usize> = 8..12;
    pub const SIGFIGS: Range<usize> = 12..16;
    pub const SNAPLEN: Range<usize> = 16..20;
    pub const LINKTYPE: Range<usize> = 20..24;
    pub const GLOBAL_HEADER_LEN: usize = 24;

    // Record header.
    pub const TS_SEC: Range<usize> = 0..4;
    pub const TS_FRAC: Range<usize> = 4..8;
    pub const INCL_LEN: Range<usize> = 8..12;
    pub const ORIG_LEN: Range<usize> = 12..16;
    pub const RECORD_HEADER_LEN: usize = 16;
}

/// The unit of the fractional part of record timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampResolution {
    /// Microseconds (magic 0xa1b2c3d4).
    Micro,
    /// Nanoseconds (magic 0xa1b23c4d).
    Nano,
}

impl TimestampResolution {
    /// The magic number that announces this resolution.
    pub const fn magic(self) -> u32 {
        match self {
            TimestampResolution::Micro => MAGIC_MICROS,
            TimestampResolution::Nano => MAGIC_NANOS,
        }
    }

    /// Nanoseconds per unit of the fractional field.
    const fn nanos_per_unit(self) -> u32 {
        match self {
            TimestampResolution::Micro => 1_000,
            TimestampResolution::Nano => 1,
        }
    }

    /// The fraction field's exclusive upper bound: one second.
    const fn units_per_second(self) -> u32 {
        match self {
            TimestampResolution::Micro => 1_000_000,
            TimestampResolution::Nano => 1_000_000_000,
        }
    }
}

/// The byte order a file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcapByteOrder {
    /// Least significant byte first (what [`PcapWriter`] writes).
    Little,
    /// Most significant byte first.
    Big,
}

impl PcapByteOrder {
    fn u16(self, bytes: &[u8]) -> u16 {
        let b = super::array::<2>(bytes);
        match self {
            PcapByteOrder::Little => u16::from_le_bytes(b),
            PcapByteOrder::Big => u16::from_be_bytes(b),
        }
    }

    fn u32(self, bytes: &[u8]) -> u32 {
        let b = super::array::<4>(bytes);
        match self {
            PcapByteOrder::Little => u32::from_le_bytes(b),
            PcapByteOrder::Big => u32::from_be_bytes(b),
        }
    }
}

enum_with_unknown! {
    /// The link-layer header type of the frames (the LINKTYPE_ registry).
    pub enum LinkType(u32) {
        /// LINKTYPE_ETHERNET: frames start with an Ethernet II header.
        Ethernet = 1,
        /// LINKTYPE_RAW: frames are IPv4 or IPv6 packets, no link header.
        Raw = 101,
    }
}

/// The global header of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PcapHeader {
    /// The byte order of every field.
    pub byte_order: PcapByteOrder,
    /// The unit of record timestamps' fractional part.
    pub resolution: TimestampResolution,
    /// The GMT offset of the timestamps in seconds (written as 0, and
    /// ignored on read as libpcap does).
    pub thiszone: i32,
    /// Timestamp accuracy (written as 0, ignored on read).
    pub sigfigs: u32,
    /// The snapshot length: no record holds more bytes. As in libpcap, 0
    /// and values above [`MAX_SNAPLEN`] mean [`MAX_SNAPLEN`].
    pub snaplen: u32,
    /// What the frames are.
    pub link_type: LinkType,
}

impl PcapHeader {
    /// Parses the global header at the start of `file`.
    ///
    /// Errors: fewer than 24 bytes, [`Error::Truncated`]; a pcapng file,
    /// [`Error::Unsupported`]; any other magic, [`Error::Malformed`]; a
    /// version other than 2.4, [`Error::BadVersion`]; a link type other
    /// than Ethernet or raw IP, [`Error::Unsupported`].
    pub fn parse(file: &[u8]) -> Result<PcapHeader> {
        let header = file
            .get(..field::GLOBAL_HEADER_LEN)
            .ok_or(Error::Truncated)?;
        let magic_be = PcapByteOrder::Big.u32(&header[field::MAGIC]);
        let magic_le = PcapByteOrder::Little.u32(&header[field::MAGIC]);
        let (byte_order, resolution) = if magic_be == MAGIC_MICROS {
            (PcapByteOrder::Big, TimestampResolution::Micro)
        } else if magic_be == MAGIC_NANOS {
            (PcapByteOrder::Big, TimestampResolution::Nano)
        } else if magic_le == MAGIC_MICROS {
            (PcapByteOrder::Little, TimestampResolution::Micro)
        } else if magic_le == MAGIC_NANOS {
            (PcapByteOrder::Little, TimestampResolution::Nano)
        } else if magic_be == PCAPNG_BLOCK_TYPE {
            return Err(Error::Unsupported);
        } else {
            return Err(Error::Malformed);
        };
        let major = byte_order.u16(&header[field::VERSION_MAJOR]);
        let minor = byte_order.u16(&header[field::VERSION_MINOR]);
        if (major, minor) != (VERSION_MAJOR, VERSION_MINOR) {
            return Err(Error::BadVersion);
        }
        let link_type = LinkType::from(byte_order.u32(&header[field::LINKTYPE]));
        if let LinkType::Unknown(_) = link_type {
            return Err(Error::Unsupported);
        }
        Ok(PcapHeader {
            byte_order,
            resolution,
            thiszone: byte_order.u32(&header[field::THISZONE]) as i32,
            sigfigs: byte_order.u32(&header[field::SIGFIGS]),
            snaplen: byte_order.u32(&header[field::SNAPLEN]),
            link_type,
        })
    }

    /// The snapshot length records are checked against: `snaplen`, or
    /// [`MAX_SNAPLEN`] when it is 0 or larger.
    pub fn effective_snaplen(&self) -> u32 {
        if self.snaplen == 0 || self.snaplen > MAX_SNAPLEN {
            MAX_SNAPLEN
        } else {
            self.snaplen
        }
    }

    /// The header in this header's byte order.
    pub fn to_bytes(&self) -> [u8; GLOBAL_HEADER_LEN] {
        let mut out = [0u8; GLOBAL_HEADER_LEN];
        let mut put = |range: core::ops::Range<usize>, le: &[u8], be: &[u8]| {
            out[range].copy_from_slice(match self.byte_order {
                PcapByteOrder::Little => le,
                PcapByteOrder::Big => be,
            })
        };
        let magic = self.resolution.magic();
        put(field::MAGIC, &magic.to_le_bytes(), &magic.to_be_bytes());
        put(
            field::VERSION_MAJOR,
            &VERSION_MAJOR.to_le_bytes(),
            &VERSION_MAJOR.to_be_bytes(),
        );
        put(
            field::VERSION_MINOR,
            &VERSION_MINOR.to_le_bytes(),
            &VERSION_MINOR.to_be_bytes(),
        );
        put(
            field::THISZONE,
            &self.thiszone.to_le_bytes(),
            &self.thiszone.to_be_bytes(),
        );
        put(
            field::SIGFIGS,
            &self.sigfigs.to_le_bytes(),
            &self.sigfigs.to_be_bytes(),
        );
        put(
            field::SNAPLEN,
            &self.snaplen.to_le_bytes(),
            &self.snaplen.to_be_bytes(),
        );
        let link = u32::from(self.link_type);
        put(field::LINKTYPE, &link.to_le_bytes(), &link.to_be_bytes());
        out
    }
}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PcapRecord<'a> {
    /// Seconds since the Unix epoch.
    pub timestamp_secs: u32,
    /// The fraction of the second in nanoseconds (microsecond files are
    /// scaled), always below 1 000 000 000.
    pub timestamp_nanos: u32,
    /// The frame's length on the wire; `data` may be shorter (snaplen).
    pub orig_len: u32,
    /// The captured bytes, borrowed from the file.
    pub data: &'a [u8],
}

impl PcapRecord<'_> {
    /// The timestamp as a duration since the Unix epoch.
    pub fn timestamp(&self) -> Duration {
        Duration::new(u64::from(self.timestamp_secs), self.timestamp_nanos)
    }

    /// Whether the capture cut the frame short.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// Reads the records of a whole file in memory.
///
/// Iterating yields `Ok(record)` for each well-formed record, `None` at
/// the end of the file, and at most one `Err` after which it yields
/// `None`:
///
/// * 1 to 15 bytes left (a cut record header), or `incl_len` beyond the
///   end of the file: [`Error::Truncated`];
/// * `incl_len` above the snapshot length, above [`MAX_SNAPLEN`] or above
///   `orig_len`: [`Error::BadLength`];
/// * a fraction of a second of one second or more: [`Error::Malformed`].
///
/// Each record consumes at least 16 bytes, so iteration is bounded.
#[derive(Debug, Clone)]
pub struct PcapReader<'a> {
    header: PcapHeader,
    rest: &'a [u8],
}

impl<'a> PcapReader<'a> {
    /// Checks the global header (see [`PcapHeader::parse`]) and gets ready
    /// to read the records after it.
    pub fn new(file: &'a [u8]) -> Result<PcapReader<'a>> {
        let header = PcapHeader::parse(file)?;
        let rest = file.get(field::GLOBAL_HEADER_LEN..).unwrap_or(&[]);
        Ok(PcapReader { header, rest })
    }

    /// The global header.
    pub fn header(&self) -> &PcapHeader {
        &self.header
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Reads the next record: `Ok(None)` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<PcapRecord<'a>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        // Whatever happens next, this record is consumed or the file is
        // abandoned: an error leaves nothing to read, so no caller loops.
        let input = core::mem::take(&mut self.rest);
        let (header, after) = input
            .split_first_chunk::<{ field::RECORD_HEADER_LEN }>()
            .ok_or(Error::Truncated)?;
        let order = self.header.byte_order;
        let secs = order.u32(&header[field::TS_SEC]);
        let fraction = order.u32(&header[field::TS_FRAC]);
        let incl_len = order.u32(&header[field::INCL_LEN]);
        let orig_len = order.u32(&header[field::ORIG_LEN]);

        let resolution = self.header.resolution;
        if fraction >= resolution.units_per_second() {
            return Err(Error::Malformed);
        }
        if incl_len > self.header.effective_snaplen() || incl_len > MAX_SNAPLEN {
            return Err(Error::BadLength);
        }
        if incl_len > orig_len {
            return Err(Error::BadLength);
        }
        let incl_len = usize::try_from(incl_len).map_err(|_| Error::BadLength)?;
        let (data, rest) = after.split_at_checked(incl_len).ok_or(Error::Truncated)?;
        self.rest = rest;
        Ok(Some(PcapRecord {
            timestamp_secs: secs,
            timestamp_nanos: fraction * resolution.nanos_per_unit(),
            orig_len,
            data,
        }))
    }
}

impl<'a> Iterator for PcapReader<'a> {
    type Item = Result<PcapRecord<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

impl core::iter::FusedIterator for PcapReader<'_> {}

/// Where a [`PcapWriter`] puts its bytes.
///
/// `write_all` writes all of `bytes` or fails; after a failure the sink
/// may hold part of a record.
pub trait PcapSink {
    /// Why a write failed.
    type Error;

    /// Appends `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> core::result::Result<(), Self::Error>;
}

/// A sink over a fixed buffer that remembers how much it wrote.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// Writes from the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> SliceSink<'a> {
        SliceSink { buf, len: 0 }
    }

    /// The number of bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Gives back the written part of the buffer.
    pub fn into_written(self) -> &'a mut [u8] {
        &mut self.buf[..self.len]
    }
}

impl PcapSink for SliceSink<'_> {
    type Error = Error;

    /// Fails with [`Error::BufferTooSmall`], writing nothing, when the
    /// bytes do not fit.
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(Error::BufferTooSmall)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A cursor: each write fills the front of the slice and moves past it,
/// like `std::io::Write for &mut [u8]`.
impl PcapSink for &mut [u8] {
    type Error = Error;

    /// Fails with [`Error::BufferTooSmall`], writing nothing, when the
    /// bytes do not fit.
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.len() {
            return Err(Error::BufferTooSmall);
        }
        let (head, tail) = core::mem::take(self).split_at_mut(bytes.len());
        head.copy_from_slice(bytes);
        *self = tail;
        Ok(())
    }
}

/// Writes into any `std::io::Write` (a file, a `Vec<u8>`, a socket).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct IoSink<W>(pub W);

#[cfg(feature = "std")]
impl<W> IoSink<W> {
    /// Gives back the writer.
    pub fn into_inner(self) -> W {
        self.0
    }
}

#[cfg(feature = "std")]
impl<W: std::io::Write> PcapSink for IoSink<W> {
    type Error = std::io::Error;

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }
}

/// Why [`PcapWriter::write_packet`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcapWriteError<E> {
    /// The sink refused the bytes.
    Sink(E),
    /// The timestamp's seconds do not fit the 32-bit field (after
    /// 2106-02-07).
    TimestampOverflow,
    /// The frame is longer than the 32-bit `orig_len` can say.
    FrameTooLong,
}

impl<E> From<E> for PcapWriteError<E> {
    fn from(e: E) -> Self {
        PcapWriteError::Sink(e)
    }
}

impl<E: fmt::Display> fmt::Display for PcapWriteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapWriteError::Sink(e) => write!(f, "pcap sink: {e}"),
            PcapWriteError::TimestampOverflow => f.write_str("timestamp does not fit pcap"),
            PcapWriteError::FrameTooLong => f.write_str("frame too long for pcap"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for PcapWriteError<E> {}

#[cfg(feature = "std")]
impl From<PcapWriteError<std::io::Error>> for std::io::Error {
    fn from(e: PcapWriteError<std::io::Error>) -> std::io::Error {
        match e {
            PcapWriteError::Sink(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}

/// Writes a pcap file: the global header at creation, then one record per
/// [`write_packet`](Self::write_packet).
#[derive(Debug)]
pub struct PcapWriter<S: PcapSink> {
    sink: S,
    resolution: TimestampResolution,
    snaplen: u32,
}

impl<S: PcapSink> PcapWriter<S> {
    /// Writes the global header of an Ethernet capture.
    ///
    /// Frames longer than `snaplen` are cut to it; a `snaplen` of 0 or
    /// above [`MAX_SNAPLEN`] is written as [`MAX_SNAPLEN`], so that every
    /// file this writes is one [`PcapReader`] accepts.
    pub fn new(
        sink: S,
        resolution: TimestampResolution,
        snaplen: u32,
    ) -> core::result::Result<PcapWriter<S>, S::Error> {
        Self::with_link_type(sink, resolution, snaplen, LinkType::Ethernet)
    }

    /// Writes the global header of a capture of `link_type` frames.
    pub fn with_link_type(
        mut sink: S,
        resolution: TimestampResolution,
        snaplen: u32,
        link_type: LinkType,
    ) -> core::result::Result<PcapWriter<S>, S::Error> {
        let header = PcapHeader {
            byte_order: PcapByteOrder::Little,
            resolution,
            thiszone: 0,
            sigfigs: 0,
            snaplen,
            link_type,
        };
        let snaplen = header.effective_snaplen();
        let header = PcapHeader { snaplen, ..header };
        sink.write_all(&header.to_bytes())?;
        Ok(PcapWriter {
            sink,
            resolution,
            snaplen,
        })
    }

    /// Appends one frame captured at `timestamp` (since the Unix epoch).
    ///
    /// In a microsecond file the sub-microsecond part is dropped. At most
    /// `snaplen` bytes are stored; `orig_len` keeps the frame's length.
    pub fn write_packet(
        &mut self,
        timestamp: Duration,
        frame: &[u8],
    ) -> core::result::Result<(), PcapWriteError<S::Error>> {
        let orig_len = u32::try_from(frame.len()).map_err(|_| PcapWriteError::FrameTooLong)?;
        self.write(timestamp, frame, orig_len)
    }

    /// Appends a record read from another file, keeping its `orig_len`
    /// (to copy or filter a capture). Its data is cut to this file's
    /// `snaplen` like a frame's; an `orig_len` below the data's length is
    /// raised to it.
    pub fn write_record(
        &mut self,
        record: &PcapRecord<'_>,
    ) -> core::result::Result<(), PcapWriteError<S::Error>> {
        let stored = u32::try_from(record.data.len()).map_err(|_| PcapWriteError::FrameTooLong)?;
        let timestamp = Duration::new(u64::from(record.timestamp_secs), record.timestamp_nanos);
        self.write(timestamp, record.data, record.orig_len.max(stored))
    }

    fn write(
        &mut self,
        timestamp: Duration,
        frame: &[u8],
        orig_len: u32,
    ) -> core::result::Result<(), PcapWriteError<S::Error>> {
        let secs =
            u32::try_from(timestamp.as_secs()).map_err(|_| PcapWriteError::TimestampOverflow)?;
        let fraction = timestamp.subsec_nanos() / self.resolution.nanos_per_unit();
        let data = match frame.get(..self.snaplen as usize) {
            Some(cut) => cut,
            None => frame,
        };
        // At most snaplen, which fits u32.
        let incl_len = data.len() as u32;

        let mut header = [0u8; RECORD_HEADER_LEN];
        header[field::TS_SEC].copy_from_slice(&secs.to_le_bytes());
        header[field::TS_FRAC].copy_from_slice(&fraction.to_le_bytes());
        header[field::INCL_LEN].copy_from_slice(&incl_len.to_le_bytes());
        header[field::ORIG_LEN].copy_from_slice(&orig_len.to_le_bytes());
        self.sink.write_all(&header)?;
        self.sink.write_all(data)?;
        Ok(())
    }

    /// The timestamp resolution of the file.
    pub fn resolution(&self) -> TimestampResolution {
        self.resolution
    }

    /// The snapshot length written in the header.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, writable (to flush it, for instance).
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Gives back the sink.
    pub fn into_inner(self) -> S {
        self.sink
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// The ARP request of the Ethernet tests (`arping` from 10.0.0.1),
    /// padded to 60 bytes.
    const ARP_REQUEST: [u8; 60] = {
        let mut f = [0u8; 60];
        let head = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
        ];
        let mut i = 0;
        while i < head.len() {
            f[i] = head[i];
            i += 1;
        }
        f
    };

    /// tcpdump's capture of a dhclient DORA exchange against dnsmasq and
    /// a release (see the dhcpv4 tests).
    const DORA_FILE: &[u8] = include_bytes!("../../tests/fixtures/dhcp-dora.pcap");

    /// A hand-made big-endian file: snaplen 96, Ethernet, two records of
    /// the ARP request, the second marked as cut from a 100-byte frame.
    fn big_endian_file(magic: u32, fraction: u32) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&magic.to_be_bytes());
        f.extend_from_slice(&2u16.to_be_bytes());
        f.extend_from_slice(&4u16.to_be_bytes());
        f.extend_from_slice(&0i32.to_be_bytes());
        f.extend_from_slice(&0u32.to_be_bytes());
        f.extend_from_slice(&96u32.to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        for (secs, orig) in [(1_600_000_000u32, 60u32), (1_600_000_001, 100)] {
            f.extend_from_slice(&secs.to_be_bytes());
            f.extend_from_slice(&fraction.to_be_bytes());
            f.extend_from_slice(&60u32.to_be_bytes());
            f.extend_from_slice(&orig.to_be_bytes());
            f.extend_from_slice(&ARP_REQUEST);
        }
        f
    }

    fn write_file(
        resolution: TimestampResolution,
        snaplen: u32,
        frames: &[(Duration, &[u8])],
    ) -> Vec<u8> {
        let mut writer = PcapWriter::new(IoSinkless::default(), resolution, snaplen).unwrap();
        for (ts, frame) in frames {
            writer.write_packet(*ts, frame).unwrap();
        }
        writer.into_inner().0
    }

    /// A `Vec` sink that does not need the std feature.
    #[derive(Default)]
    struct IoSinkless(Vec<u8>);

    impl PcapSink for IoSinkless {
        type Error = core::convert::Infallible;
        fn write_all(&mut self, bytes: &[u8]) -> core::result::Result<(), Self::Error> {
            self.0.extend_from_slice(bytes);
            Ok(())
        }
    }

    fn dora_frames() -> Vec<&'static [u8]> {
        PcapReader::new(DORA_FILE)
            .unwrap()
            .map(|r| r.unwrap().data)
            .collect()
    }

    fn round_trip(resolution: TimestampResolution) {
        let mut frames: Vec<(Duration, &[u8])> = Vec::new();
        frames.push((Duration::new(1_700_000_000, 123_456_789), &ARP_REQUEST));
        for (i, frame) in dora_frames().into_iter().enumerate() {
            frames.push((Duration::new(1_700_000_001 + i as u64, 999_999_999), frame));
        }
        frames.push((Duration::ZERO, &[]));
        let file = write_file(resolution, 65535, &frames);

        let mut reader = PcapReader::new(&file).unwrap();
        let header = *reader.header();
        assert_eq!(header.byte_order, PcapByteOrder::Little);
        assert_eq!(header.resolution, resolution);
        assert_eq!(header.snaplen, 65535);
        assert_eq!(header.link_type, LinkType::Ethernet);
        assert_eq!(&file[..4], &resolution.magic().to_le_bytes());
        let records: Vec<PcapRecord> = reader.by_ref().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), frames.len());
        for (record, (ts, frame)) in records.iter().zip(&frames) {
            let nanos = match resolution {
                TimestampResolution::Nano => ts.subsec_nanos(),
                TimestampResolution::Micro => ts.subsec_micros() * 1000,
            };
            assert_eq!(record.timestamp_secs as u64, ts.as_secs());
            assert_eq!(record.timestamp_nanos, nanos);
            assert_eq!(record.timestamp(), Duration::new(ts.as_secs(), nanos));
            assert_eq!(record.data, *frame);
            assert_eq!(record.orig_len as usize, frame.len());
            assert!(!record.is_truncated());
        }
        assert_eq!(reader.next(), None);
        assert!(reader.remaining().is_empty());
    }

    #[test]
    fn round_trip_micro() {
        round_trip(TimestampResolution::Micro);
    }

    #[test]
    fn round_trip_nano() {
        round_trip(TimestampResolution::Nano);
    }

    #[test]
    fn snaplen_truncates_and_keeps_orig_len() {
        let file = write_file(
            TimestampResolution::Micro,
            20,
            &[(Duration::new(5, 0), &ARP_REQUEST)],
        );
        assert_eq!(file.len(), 24 + 16 + 20);
        let record = PcapReader::new(&file).unwrap().next().unwrap().unwrap();
        assert_eq!(record.data, &ARP_REQUEST[..20]);
        assert_eq!(record.orig_len, 60);
        assert!(record.is_truncated());
        // 0 and oversized snaplens are written as the maximum.
        for snaplen in [0, u32::MAX] {
            let file = write_file(TimestampResolution::Nano, snaplen, &[]);
            assert_eq!(
                PcapReader::new(&file).unwrap().header().snaplen,
                MAX_SNAPLEN
            );
        }
    }

    #[test]
    fn read_big_endian() {
        for (magic, fraction, nanos, resolution) in [
            (
                MAGIC_MICROS,
                250_000,
                250_000_000,
                TimestampResolution::Micro,
            ),
            (
                MAGIC_NANOS,
                250_000_001,
                250_000_001,
                TimestampResolution::Nano,
            ),
        ] {
            let file = big_endian_file(magic, fraction);
            let mut reader = PcapReader::new(&file).unwrap();
            let header = *reader.header();
            assert_eq!(header.byte_order, PcapByteOrder::Big);
            assert_eq!(header.resolution, resolution);
            assert_eq!(header.snaplen, 96);
            assert_eq!(header.to_bytes(), file[..24]);
            let first = reader.next().unwrap().unwrap();
            assert_eq!(first.timestamp_secs, 1_600_000_000);
            assert_eq!(first.timestamp_nanos, nanos);
            assert_eq!(first.data, &ARP_REQUEST[..]);
            let second = reader.next().unwrap().unwrap();
            assert_eq!(second.timestamp_secs, 1_600_000_001);
            assert_eq!(second.orig_len, 100);
            assert!(second.is_truncated());
            assert_eq!(reader.next(), None);
        }
    }

    #[test]
    fn every_prefix_never_panics() {
        let files = [
            DORA_FILE.to_vec(),
            big_endian_file(MAGIC_NANOS, 1),
            write_file(
                TimestampResolution::Nano,
                100,
                &[(Duration::new(1, 2), &ARP_REQUEST)],
            ),
        ];
        for file in &files {
            for len in 0..=file.len() {
                let prefix = &file[..len];
                let Ok(reader) = PcapReader::new(prefix) else {
                    assert!(len < GLOBAL_HEADER_LEN);
                    assert_eq!(PcapReader::new(prefix).err(), Some(Error::Truncated));
                    continue;
                };
                let mut records = 0;
                let mut error = None;
                for record in reader {
                    match record {
                        Ok(_) => records += 1,
                        Err(e) => {
                            assert!(error.is_none(), "a second item after an error");
                            error = Some(e);
                        }
                    }
                    assert!(records <= file.len() / RECORD_HEADER_LEN);
                }
                if len < file.len() && error.is_none() {
                    // Only a cut exactly between records reads cleanly.
                    let whole = PcapReader::new(&file[..]).unwrap();
                    let mut offsets = Vec::from([GLOBAL_HEADER_LEN]);
                    let mut at = GLOBAL_HEADER_LEN;
                    for r in whole {
                        at += RECORD_HEADER_LEN + r.unwrap().data.len();
                        offsets.push(at);
                    }
                    assert!(offsets.contains(&len), "prefix {len} read cleanly");
                }
                if let Some(e) = error {
                    assert_eq!(e, Error::Truncated, "prefix {len}");
                }
            }
        }
    }

    #[test]
    fn truncated_global_header() {
        assert_eq!(PcapReader::new(&[]).err(), Some(Error::Truncated));
        assert_eq!(
            PcapReader::new(&DORA_FILE[..23]).err(),
            Some(Error::Truncated)
        );
        // A header alone is an empty capture.
        let mut reader = PcapReader::new(&DORA_FILE[..24]).unwrap();
        assert_eq!(reader.next_record(), Ok(None));
    }

    #[test]
    fn truncated_record_header() {
        let mut reader = PcapReader::new(&DORA_FILE[..24 + 15]).unwrap();
        assert_eq!(reader.next(), Some(Err(Error::Truncated)));
        assert_eq!(reader.next(), None);
    }

    #[test]
    fn truncated_record_data() {
        let mut reader = PcapReader::new(&DORA_FILE[..24 + 16 + 341]).unwrap();
        assert_eq!(reader.next(), Some(Err(Error::Truncated)));
        assert_eq!(reader.next(), None);
    }

    #[test]
    fn bad_magic() {
        let mut file = DORA_FILE.to_vec();
        file[0] ^= 1;
        assert_eq!(PcapReader::new(&file).err(), Some(Error::Malformed));
        // A pcapng section header block.
        file[..4].copy_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(PcapReader::new(&file).err(), Some(Error::Unsupported));
    }

    #[test]
    fn bad_version() {
        let mut file = DORA_FILE.to_vec();
        file[4] = 3;
        assert_eq!(PcapReader::new(&file).err(), Some(Error::BadVersion));
        let mut file = DORA_FILE.to_vec();
        file[6] = 3;
        assert_eq!(PcapReader::new(&file).err(), Some(Error::BadVersion));
    }

    #[test]
    fn link_types() {
        let mut file = DORA_FILE.to_vec();
        file[20] = 101;
        let reader = PcapReader::new(&file).unwrap();
        assert_eq!(reader.header().link_type, LinkType::Raw);
        file[20] = 113; // Linux cooked capture
        assert_eq!(PcapReader::new(&file).err(), Some(Error::Unsupported));

        let mut buf = [0u8; 24];
        let writer = PcapWriter::with_link_type(
            SliceSink::new(&mut buf),
            TimestampResolution::Micro,
            1500,
            LinkType::Raw,
        )
        .unwrap();
        let file = writer.into_inner().into_written();
        assert_eq!(
            PcapReader::new(file).unwrap().header().link_type,
            LinkType::Raw
        );
    }

    /// Overwrites a field of the first record header of the DORA file.
    fn with_first_record_field(range: core::ops::Range<usize>, value: u32) -> Vec<u8> {
        let mut file = DORA_FILE.to_vec();
        file[24 + range.start..24 + range.end].copy_from_slice(&value.to_le_bytes());
        file
    }

    #[test]
    fn incl_len_above_snaplen() {
        let mut file = big_endian_file(MAGIC_MICROS, 0);
        // Snaplen 50 below the 60 stored bytes.
        file[16..20].copy_from_slice(&50u32.to_be_bytes());
        let mut reader = PcapReader::new(&file).unwrap();
        assert_eq!(reader.next(), Some(Err(Error::BadLength)));
        assert_eq!(reader.next(), None);
    }

    #[test]
    fn incl_len_above_maximum() {
        let file = with_first_record_field(field::INCL_LEN, MAX_SNAPLEN + 1);
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::BadLength))
        );
        // Not enough data is Truncated, once the length is plausible.
        let file = with_first_record_field(field::INCL_LEN, 343);
        let file = {
            let mut f = file;
            f[24 + 12..24 + 16].copy_from_slice(&400u32.to_le_bytes());
            f.truncate(24 + 16 + 342);
            f
        };
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::Truncated))
        );
        let file = with_first_record_field(field::INCL_LEN, u32::MAX);
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::BadLength))
        );
    }

    #[test]
    fn incl_len_above_orig_len() {
        let file = with_first_record_field(field::ORIG_LEN, 341);
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::BadLength))
        );
    }

    #[test]
    fn fraction_of_a_whole_second() {
        let file = with_first_record_field(field::TS_FRAC, 1_000_000);
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::Malformed))
        );
        let file = with_first_record_field(field::TS_FRAC, 999_999);
        assert!(PcapReader::new(&file).unwrap().next().unwrap().is_ok());
        let file = big_endian_file(MAGIC_NANOS, 1_000_000_000);
        assert_eq!(
            PcapReader::new(&file).unwrap().next(),
            Some(Err(Error::Malformed))
        );
    }

    #[test]
    fn dora_fixture_records() {
        let reader = PcapReader::new(DORA_FILE).unwrap();
        let header = *reader.header();
        assert_eq!(header.byte_order, PcapByteOrder::Little);
        assert_eq!(header.resolution, TimestampResolution::Micro);
        assert_eq!(header.snaplen, 262144);
        assert_eq!(header.link_type, LinkType::Ethernet);
        let records: Vec<PcapRecord> = reader.map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 5);
        assert_eq!(records[0].timestamp_secs, 1_795_300_079);
        assert_eq!(records[0].timestamp_nanos, 162_557_000);
        assert!(
            records
                .iter()
                .all(|r| r.data.len() == 342 && r.orig_len == 342)
        );
        // Rewriting the records reproduces tcpdump's file byte for byte.
        let frames: Vec<(Duration, &[u8])> =
            records.iter().map(|r| (r.timestamp(), r.data)).collect();
        assert_eq!(
            write_file(TimestampResolution::Micro, 262144, &frames),
            DORA_FILE
        );
    }

    #[test]
    fn write_record_keeps_orig_len() {
        let file = big_endian_file(MAGIC_NANOS, 7);
        let records: Vec<PcapRecord> = PcapReader::new(&file)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut writer =
            PcapWriter::new(IoSinkless::default(), TimestampResolution::Nano, 50).unwrap();
        for record in &records {
            writer.write_record(record).unwrap();
        }
        // A record claiming less than it holds.
        let liar = PcapRecord {
            orig_len: 1,
            ..records[0]
        };
        writer.write_record(&liar).unwrap();
        let out = writer.into_inner().0;
        let copied: Vec<PcapRecord> = PcapReader::new(&out).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(copied.len(), 3);
        assert_eq!(copied[0].data, &ARP_REQUEST[..50]);
        assert_eq!(
            (copied[0].orig_len, copied[1].orig_len, copied[2].orig_len),
            (60, 100, 60)
        );
        assert_eq!(copied[1].timestamp(), records[1].timestamp());
    }

    #[test]
    fn every_fixture_file_parses() {
        // Every capture kept in tests/fixtures, whoever added it.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pcap") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let reader = PcapReader::new(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(matches!(
                reader.header().link_type,
                LinkType::Ethernet | LinkType::Raw
            ));
            let mut records = 0;
            for record in reader {
                let record = record.unwrap_or_else(|e| panic!("{path:?}: {e}"));
                assert!(record.data.len() as u64 <= u64::from(record.orig_len));
                records += 1;
            }
            assert!(records > 0, "{path:?} holds no frame");
            files += 1;
        }
        assert!(files >= 2);
    }

    #[test]
    fn slice_sinks() {
        let mut buf = [0u8; 24 + 16 + 30];
        let mut writer =
            PcapWriter::new(SliceSink::new(&mut buf), TimestampResolution::Micro, 30).unwrap();
        assert_eq!(writer.sink().len(), 24);
        writer
            .write_packet(Duration::new(1, 1_999), &ARP_REQUEST)
            .unwrap();
        assert_eq!(
            writer.write_packet(Duration::new(2, 0), &ARP_REQUEST),
            Err(PcapWriteError::Sink(Error::BufferTooSmall))
        );
        assert_eq!(writer.sink().len(), buf.len());
        let record = PcapReader::new(&buf).unwrap().next().unwrap().unwrap();
        assert_eq!(record.timestamp_nanos, 1_000);
        assert_eq!(record.data, &ARP_REQUEST[..30]);

        let mut short = [0u8; 10];
        assert_eq!(
            PcapWriter::new(SliceSink::new(&mut short), TimestampResolution::Nano, 0).err(),
            Some(Error::BufferTooSmall)
        );
        assert!(short.iter().all(|&b| b == 0));

        // A plain `&mut [u8]` cursor.
        let mut buf = [0u8; 100];
        let mut writer = PcapWriter::new(&mut buf[..], TimestampResolution::Nano, 1500).unwrap();
        writer
            .write_packet(Duration::new(3, 4), &ARP_REQUEST)
            .unwrap();
        assert_eq!(writer.into_inner().len(), 0);
        let record = PcapReader::new(&buf).unwrap().next().unwrap().unwrap();
        assert_eq!((record.timestamp_secs, record.timestamp_nanos), (3, 4));
        let mut cursor = &mut [0u8; 3][..];
        assert_eq!(cursor.write_all(&[1, 2, 3, 4]), Err(Error::BufferTooSmall));
        assert_eq!(cursor.write_all(&[1, 2]), Ok(()));
        assert_eq!(cursor, &mut [0][..]);
        let mut sink = SliceSink::new(&mut []);
        assert!(sink.is_empty());
        assert_eq!(sink.write_all(&[]), Ok(()));
        assert_eq!(sink.written(), &[]);
    }

    #[test]
    fn timestamp_overflow() {
        let mut writer =
            PcapWriter::new(IoSinkless::default(), TimestampResolution::Nano, 0).unwrap();
        assert_eq!(
            writer.write_packet(Duration::new(u64::from(u32::MAX) + 1, 0), &ARP_REQUEST),
            Err(PcapWriteError::TimestampOverflow)
        );
        assert_eq!(
            writer.write_packet(
                Duration::new(u64::from(u32::MAX), 999_999_999),
                &ARP_REQUEST
            ),
            Ok(())
        );
        assert_eq!(writer.resolution(), TimestampResolution::Nano);
        assert_eq!(writer.snaplen(), MAX_SNAPLEN);
        writer.sink_mut().0.truncate(24);
    }

    #[cfg(feature = "std")]
    #[test]
    fn io_sink_writes_vec() {
        let mut writer =
            PcapWriter::new(IoSink(Vec::new()), TimestampResolution::Micro, 65535).unwrap();
        writer
            .write_packet(Duration::new(9, 9_000), &ARP_REQUEST)
            .unwrap();
        let file = writer.into_inner().into_inner();
        assert_eq!(file.len(), 24 + 16 + 60);
        let record = PcapReader::new(&file).unwrap().next().unwrap().unwrap();
        assert_eq!(record.timestamp(), Duration::new(9, 9_000));
        let err: std::io::Error = PcapWriteError::<std::io::Error>::TimestampOverflow.into();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
