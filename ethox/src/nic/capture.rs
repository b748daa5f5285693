//! A device wrapper that records every frame to a pcap capture.
//!
//! [`Capture`] wraps any [`Device`] and writes, through a
//! [`PcapWriter`], each frame the device
//! lends on receive (as it arrived, before any layer looks at it) and
//! each frame the stack queued for transmission (as it leaves, including
//! received frames answered in place). Timestamps are the packets' own.
//!
//! A capture must never disturb the traffic it watches: a sink that fails
//! (disk full) is counted in [`CaptureStats::write_errors`] and the frame
//! goes on.
//!
//! ```
//! use ethox::nic::capture::{Capture, CaptureMode};
//! use ethox::nic::memory::MemoryNic;
//! use ethox::wire::pcap::{PcapReader, PcapWriter, SliceSink, TimestampResolution};
//!
//! let mut file = [0u8; 4096];
//! let nic = MemoryNic::<_, 4>::new([0u8; 4 * 1514], 1514).unwrap();
//! let writer = PcapWriter::new(SliceSink::new(&mut file), TimestampResolution::Nano, 65535).unwrap();
//! let mut nic = Capture::new(nic, writer, CaptureMode::Both);
//! nic.inner_mut().inject(&[0xff; 60]);
//! # use ethox::nic::{Device, Packet, Recv};
//! # struct Ignore;
//! # impl<D: Device> Recv<D> for Ignore { fn receive(&mut self, _: Packet<'_, '_, D>) {} }
//! nic.rx(8, Ignore).unwrap();
//! let written = nic.into_parts().1.into_inner().into_written();
//! let records: std::vec::Vec<_> = PcapReader::new(written).unwrap().collect();
//! assert_eq!(records.len(), 1);
//! ```

use crate::nic::{Device, Handle, Packet, Payload, Recv, Result, Send};
use crate::wire::pcap::{PcapSink, PcapWriter};

/// Which directions a [`Capture`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureMode {
    /// Received frames only.
    Rx,
    /// Transmitted frames only.
    Tx,
    /// Both directions.
    Both,
}

impl CaptureMode {
    fn rx(self) -> bool {
        matches!(self, CaptureMode::Rx | CaptureMode::Both)
    }

    fn tx(self) -> bool {
        matches!(self, CaptureMode::Tx | CaptureMode::Both)
    }
}

/// Counters of a [`Capture`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CaptureStats {
    /// Received frames recorded.
    pub rx_recorded: u64,
    /// Transmitted frames recorded.
    pub tx_recorded: u64,
    /// Frames the sink failed to take.
    pub write_errors: u64,
}

struct Recorder<S: PcapSink> {
    writer: PcapWriter<S>,
    mode: CaptureMode,
    stats: CaptureStats,
}

impl<S: PcapSink> Recorder<S> {
    fn record<D: Device>(&mut self, packet: &Packet<'_, '_, D>, transmitted: bool) {
        let stamp = packet.handle.info().timestamp.since_epoch();
        match self.writer.write_packet(stamp, packet.payload.payload()) {
            Ok(_) if transmitted => self.stats.tx_recorded += 1,
            Ok(_) => self.stats.rx_recorded += 1,
            Err(_) => self.stats.write_errors += 1,
        }
    }
}

/// Records the traffic of `D` to a pcap sink `S`.
pub struct Capture<D, S: PcapSink> {
    inner: D,
    recorder: Recorder<S>,
}

impl<D: Device, S: PcapSink> Capture<D, S> {
    /// Wraps `inner`, recording the directions `mode` names to `writer`.
    pub fn new(inner: D, writer: PcapWriter<S>, mode: CaptureMode) -> Self {
        Capture {
            inner,
            recorder: Recorder {
                writer,
                mode,
                stats: CaptureStats::default(),
            },
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// The writer (to flush its sink while capturing goes on).
    pub fn writer_mut(&mut self) -> &mut PcapWriter<S> {
        &mut self.recorder.writer
    }

    /// What was recorded so far.
    pub fn stats(&self) -> CaptureStats {
        self.recorder.stats
    }

    /// Splits into the device and the writer (to flush or read the file).
    pub fn into_parts(self) -> (D, PcapWriter<S>) {
        (self.inner, self.recorder.writer)
    }
}

impl<D: Device, S: PcapSink> Device for Capture<D, S> {
    type Handle<'d> = D::Handle<'d>;
    type Payload<'d> = D::Payload<'d>;

    fn rx<R: Recv<Self>>(&mut self, max: usize, receiver: R) -> Result<usize> {
        self.inner.rx(
            max,
            RecordRecv {
                upper: receiver,
                recorder: &mut self.recorder,
            },
        )
    }

    fn tx<T: Send<Self>>(&mut self, max: usize, sender: T) -> Result<usize> {
        self.inner.tx(
            max,
            RecordSend {
                upper: sender,
                recorder: &mut self.recorder,
            },
        )
    }
}

struct RecordRecv<'r, R, S: PcapSink> {
    upper: R,
    recorder: &'r mut Recorder<S>,
}

impl<D: Device, R: Recv<Capture<D, S>>, S: PcapSink> Recv<D> for RecordRecv<'_, R, S> {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        if self.recorder.mode.rx() {
            self.recorder.record(&packet, false);
        }
        self.upper.receive(Packet {
            handle: &mut *packet.handle,
            payload: &mut *packet.payload,
        });
        if self.recorder.mode.tx() && packet.handle.is_queued() {
            self.recorder.record(&packet, true);
        }
    }
}

struct RecordSend<'r, T, S: PcapSink> {
    upper: T,
    recorder: &'r mut Recorder<S>,
}

impl<D: Device, T: Send<Capture<D, S>>, S: PcapSink> Send<D> for RecordSend<'_, T, S> {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        self.upper.send(Packet {
            handle: &mut *packet.handle,
            payload: &mut *packet.payload,
        });
        if self.recorder.mode.tx() && packet.handle.is_queued() {
            self.recorder.record(&packet, true);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::nic::PayloadMut;
    use crate::nic::memory::{MemoryLink, MemoryNic};
    use crate::time::Instant;
    use crate::wire::pcap::{PcapReader, SliceSink, TimestampResolution};

    struct Echo;
    impl<D: Device> Recv<D> for Echo {
        fn receive(&mut self, packet: Packet<'_, '_, D>) {
            packet.payload.payload_mut()[0] = 0x02;
            packet.handle.queue().unwrap();
        }
    }

    /// Fills every buffer, queues only the first `self.0` of them.
    struct One(usize);
    impl<D: Device> Send<D> for One {
        fn send(&mut self, packet: Packet<'_, '_, D>) {
            packet.payload.resize(60).unwrap();
            packet.payload.payload_mut().fill(0x0a);
            if self.0 > 0 {
                self.0 -= 1;
                packet.handle.queue().unwrap();
            }
        }
    }

    #[test]
    fn records_received_answered_and_sent_frames_with_their_time() {
        let mut file = [0u8; 2048];
        let writer =
            PcapWriter::new(SliceSink::new(&mut file), TimestampResolution::Nano, 0).unwrap();
        let nic = MemoryNic::<_, 4>::new([0u8; 4 * 128], 128).unwrap();
        let mut nic = Capture::new(nic, writer, CaptureMode::Both);
        nic.inner_mut().set_time(Instant::from_nanos(1_500_000_123));
        nic.inner_mut().inject(&[0xff; 60]);
        assert_eq!(nic.rx(8, Echo).unwrap(), 1);
        assert_eq!(nic.tx(8, One(1)).unwrap(), 1);
        // A buffer the sender left unqueued is not recorded.
        assert_eq!(nic.tx(8, One(0)).unwrap(), 0);
        let stats = nic.stats();
        assert_eq!(
            (stats.rx_recorded, stats.tx_recorded, stats.write_errors),
            (1, 2, 0)
        );

        let (mut inner, writer) = nic.into_parts();
        let mut peer = MemoryNic::<_, 4>::new([0u8; 4 * 128], 128).unwrap();
        assert_eq!(MemoryLink::transfer(&mut inner, &mut peer), 2);
        let written = writer.into_inner().into_written();
        let records: std::vec::Vec<_> = PcapReader::new(written)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].data, &[0xff; 60][..]);
        assert_eq!(records[1].data[0], 0x02);
        assert_eq!(records[2].data, &[0x0a; 60][..]);
        assert_eq!(
            (records[0].timestamp_secs, records[0].timestamp_nanos),
            (1, 500_000_123)
        );
    }

    #[test]
    fn a_failing_sink_is_counted_not_fatal() {
        let mut file = [0u8; 40];
        let writer =
            PcapWriter::new(SliceSink::new(&mut file), TimestampResolution::Micro, 0).unwrap();
        let nic = MemoryNic::<_, 4>::new([0u8; 4 * 128], 128).unwrap();
        let mut nic = Capture::new(nic, writer, CaptureMode::Rx);
        nic.inner_mut().inject(&[0xff; 60]);
        assert_eq!(nic.rx(8, Echo).unwrap(), 1);
        assert_eq!(nic.stats().write_errors, 1);
        assert_eq!(nic.inner().tx_pending(), 1);
    }
}
