//! The Ethernet layer: the host's MAC address, frame filtering, headers.
//!
//! An [`Endpoint`] holds the host's hardware address and drop counters.
//! [`Endpoint::recv`] wraps an upper-layer [`Recv`] handler into a
//! [`nic::Recv`] that the device can lend frames to;
//! [`Endpoint::send`] does the same for senders.
//!
//! A frame is handed up when it is addressed to the host, to the broadcast
//! address, or to a multicast group that the upper layer says it wants
//! ([`Recv::wants_group`]: the IP layer knows its groups, so the filter
//! never disagrees with it). Everything else is dropped and counted in
//! [`EthStats`].
//!
//! ```
//! use ethox::layer::eth::{self, Endpoint, Init};
//! use ethox::nic::memory::{MemoryLink, MemoryNic};
//! use ethox::nic::Device;
//! use ethox::wire::{EtherType, EthernetAddress};
//!
//! let mac_a = EthernetAddress([2, 0, 0, 0, 0, 1]);
//! let mac_b = EthernetAddress([2, 0, 0, 0, 0, 2]);
//! let mut a = Endpoint::new(mac_a);
//! let mut b = Endpoint::new(mac_b);
//! let mut nic_a = MemoryNic::<_, 4>::new([0u8; 4 * 1514], 1514).unwrap();
//! let mut nic_b = MemoryNic::<_, 4>::new([0u8; 4 * 1514], 1514).unwrap();
//!
//! // A sends one frame to B.
//! struct Hello(EthernetAddress);
//! impl<D: ethox::nic::Device> eth::Send<D> for Hello {
//!     fn send(&mut self, raw: eth::Raw<'_, '_, D>) {
//!         let init = Init { dst: self.0, ethertype: EtherType::Unknown(0x88b5), payload_len: 46 };
//!         if let Ok(mut out) = raw.prepare(init) {
//!             out.payload_mut()[..5].copy_from_slice(b"hello");
//!             let _ = out.send();
//!         }
//!     }
//! }
//! nic_a.tx(1, a.send(Hello(mac_b))).unwrap();
//! MemoryLink::transfer(&mut nic_a, &mut nic_b);
//!
//! // B receives it.
//! struct Print(bool);
//! impl<D: ethox::nic::Device> eth::Recv<D> for Print {
//!     fn receive(&mut self, frame: eth::In<'_, '_, D>) {
//!         self.0 = frame.payload().starts_with(b"hello");
//!     }
//! }
//! let mut got = Print(false);
//! nic_b.rx(8, b.recv(&mut got)).unwrap();
//! assert!(got.0);
//! assert_eq!(b.stats().rx_delivered, 1);
//! ```

use crate::nic::{self, Device, Handle, Info, Packet, Payload, PayloadMut};
use crate::wire::Error as WireError;
use crate::wire::ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, HEADER_LEN};

/// Counters of the Ethernet layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EthStats {
    /// Frames handed to the upper layer.
    pub rx_delivered: u64,
    /// Frames shorter than an Ethernet header.
    pub rx_truncated: u64,
    /// Frames for another unicast address or an unwanted group.
    pub rx_not_for_us: u64,
    /// Frames with a source address that is multicast (never valid).
    pub rx_bad_source: u64,
    /// Frames with VLAN tags (the endpoint is not VLAN aware).
    pub rx_tagged: u64,
    /// Frames queued for transmission.
    pub tx_frames: u64,
    /// Frames that could not be built or queued.
    pub tx_errors: u64,
}

/// The persistent state of the Ethernet layer of one interface.
#[derive(Debug, Clone)]
pub struct Endpoint {
    addr: EthernetAddress,
    promiscuous: bool,
    stats: EthStats,
}

impl Endpoint {
    /// An endpoint with hardware address `addr`.
    pub fn new(addr: EthernetAddress) -> Endpoint {
        Endpoint {
            addr,
            promiscuous: false,
            stats: EthStats::default(),
        }
    }

    /// The host's hardware address.
    pub fn addr(&self) -> EthernetAddress {
        self.addr
    }

    /// Changes the host's hardware address.
    pub fn set_addr(&mut self, addr: EthernetAddress) {
        self.addr = addr;
    }

    /// Hands up every frame whatever its destination (for capture tools).
    pub fn set_promiscuous(&mut self, on: bool) {
        self.promiscuous = on;
    }

    /// When this layer next needs the clock: never, it keeps no timers.
    /// (Present so that an event loop can ask every endpoint alike.)
    pub fn next_deadline(&self) -> Option<crate::time::Instant> {
        None
    }

    /// The layer's counters.
    pub fn stats(&self) -> EthStats {
        self.stats
    }

    /// A receive handler for the device that feeds `upper`.
    pub fn recv<U>(&mut self, upper: U) -> Receiver<'_, U> {
        Receiver {
            endpoint: self,
            upper,
        }
    }

    /// A send handler for the device that lets `upper` fill frames.
    pub fn send<U>(&mut self, upper: U) -> Sender<'_, U> {
        Sender {
            endpoint: self,
            upper,
        }
    }

    fn accepts<D: Device, U: Recv<D>>(&self, dst: EthernetAddress, upper: &U) -> bool {
        self.promiscuous
            || dst == self.addr
            || dst.is_broadcast()
            || (dst.is_multicast() && upper.wants_group(dst))
    }
}

/// A handler of received Ethernet frames.
pub trait Recv<D: Device> {
    /// Handles one frame addressed to this host.
    fn receive(&mut self, frame: In<'_, '_, D>);

    /// Whether frames to the multicast MAC `group` are wanted. The default
    /// wants none (broadcast is always delivered).
    fn wants_group(&self, group: EthernetAddress) -> bool {
        let _ = group;
        false
    }
}

/// A producer of Ethernet frames.
pub trait Send<D: Device> {
    /// Fills and sends one frame, or leaves `raw` unused.
    fn send(&mut self, raw: Raw<'_, '_, D>);
}

impl<D: Device, U: Recv<D> + ?Sized> Recv<D> for &mut U {
    fn receive(&mut self, frame: In<'_, '_, D>) {
        (**self).receive(frame)
    }

    fn wants_group(&self, group: EthernetAddress) -> bool {
        (**self).wants_group(group)
    }
}

impl<D: Device, U: Send<D> + ?Sized> Send<D> for &mut U {
    fn send(&mut self, raw: Raw<'_, '_, D>) {
        (**self).send(raw)
    }
}

/// The device-facing receive handler built by [`Endpoint::recv`].
pub struct Receiver<'e, U> {
    endpoint: &'e mut Endpoint,
    upper: U,
}

impl<D: Device, U: Recv<D>> nic::Recv<D> for Receiver<'_, U> {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        // `parse` runs `check_len` itself: checking in `new_checked` too
        // would walk every received header twice.
        let repr =
            match EthernetRepr::parse(&EthernetFrame::new_unchecked(packet.payload.payload())) {
                Ok(repr) => repr,
                Err(WireError::Unsupported) => {
                    self.endpoint.stats.rx_tagged += 1;
                    net_drop!("eth: dropped: rx_tagged");
                    return;
                }
                Err(_) => {
                    self.endpoint.stats.rx_truncated += 1;
                    net_drop!("eth: dropped: rx_truncated");
                    return;
                }
            };
        if repr.vlan.is_some() {
            self.endpoint.stats.rx_tagged += 1;
            net_drop!("eth: dropped: rx_tagged");
            return;
        }
        if repr.src.is_multicast() {
            self.endpoint.stats.rx_bad_source += 1;
            net_drop!("eth: dropped: rx_bad_source");
            return;
        }
        if !self.endpoint.accepts(repr.dst, &self.upper) {
            self.endpoint.stats.rx_not_for_us += 1;
            net_drop!("eth: dropped: rx_not_for_us");
            return;
        }
        self.endpoint.stats.rx_delivered += 1;
        self.upper.receive(In {
            packet,
            repr,
            endpoint: self.endpoint,
        });
    }
}

/// The device-facing send handler built by [`Endpoint::send`].
pub struct Sender<'e, U> {
    endpoint: &'e mut Endpoint,
    upper: U,
}

impl<D: Device, U: Send<D>> nic::Send<D> for Sender<'_, U> {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        self.upper.send(Raw {
            packet,
            endpoint: self.endpoint,
        });
    }
}

/// What a new frame's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    /// The destination hardware address.
    pub dst: EthernetAddress,
    /// The payload's type.
    pub ethertype: EtherType,
    /// The payload length in bytes (without the Ethernet header).
    pub payload_len: usize,
}

/// A received frame for this host, lent to the upper layer.
pub struct In<'a, 'd, D: Device> {
    packet: Packet<'a, 'd, D>,
    repr: EthernetRepr,
    endpoint: &'a mut Endpoint,
}

impl<'a, 'd, D: Device> In<'a, 'd, D> {
    /// The parsed header.
    pub fn repr(&self) -> EthernetRepr {
        self.repr
    }

    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.packet.handle.info()
    }

    /// The host's own hardware address.
    pub fn local_addr(&self) -> EthernetAddress {
        self.endpoint.addr
    }

    /// The whole frame, header included.
    pub fn frame(&self) -> &[u8] {
        self.packet.payload.payload()
    }

    /// The payload after the header.
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        self.packet
            .payload
            .payload()
            .get(HEADER_LEN..)
            .unwrap_or(&[])
    }

    /// The payload after the header, writable.
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.packet
            .payload
            .payload_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }

    /// Turns the frame into an answer to its sender, in place: the
    /// destination becomes the old source, the source this host, and the
    /// payload is resized to `payload_len` bytes, keeping its first bytes.
    #[inline(always)]
    pub fn reply(
        self,
        ethertype: EtherType,
        payload_len: usize,
    ) -> Result<Out<'a, 'd, D>, nic::Error> {
        let init = Init {
            dst: self.repr.src,
            ethertype,
            payload_len,
        };
        Raw {
            packet: self.packet,
            endpoint: self.endpoint,
        }
        .prepare(init)
    }

    /// Gives up the received contents and keeps the buffer, to build
    /// something else in it.
    pub fn into_raw(self) -> Raw<'a, 'd, D> {
        Raw {
            packet: self.packet,
            endpoint: self.endpoint,
        }
    }
}

/// An empty buffer to build a frame in.
pub struct Raw<'a, 'd, D: Device> {
    packet: Packet<'a, 'd, D>,
    endpoint: &'a mut Endpoint,
}

impl<'a, 'd, D: Device> Raw<'a, 'd, D> {
    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.packet.handle.info()
    }

    /// The host's own hardware address.
    pub fn local_addr(&self) -> EthernetAddress {
        self.endpoint.addr
    }

    /// The largest payload this buffer can carry.
    pub fn payload_capacity(&self) -> usize {
        self.packet.payload.capacity().saturating_sub(HEADER_LEN)
    }

    /// Sizes the buffer for `init.payload_len` bytes of payload and writes
    /// the header. The payload bytes that were already in the buffer stay.
    #[inline(always)]
    pub fn prepare(self, init: Init) -> Result<Out<'a, 'd, D>, nic::Error> {
        let len = HEADER_LEN
            .checked_add(init.payload_len)
            .ok_or(nic::Error::TooLarge)?;
        if let Err(err) = self.packet.payload.resize(len) {
            self.endpoint.stats.tx_errors += 1;
            return Err(err);
        }
        let repr = EthernetRepr {
            src: self.endpoint.addr,
            dst: init.dst,
            vlan: None,
            ethertype: init.ethertype,
        };
        repr.emit(&mut EthernetFrame::new_unchecked(
            self.packet.payload.payload_mut(),
        ));
        Ok(Out {
            packet: self.packet,
            endpoint: self.endpoint,
        })
    }
}

/// A frame with its header written and its payload writable.
pub struct Out<'a, 'd, D: Device> {
    packet: Packet<'a, 'd, D>,
    endpoint: &'a mut Endpoint,
}

impl<'a, 'd, D: Device> Out<'a, 'd, D> {
    /// The packet's timestamp and the device's capabilities.
    pub fn info(&self) -> Info {
        self.packet.handle.info()
    }

    /// The payload after the header.
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        self.packet
            .payload
            .payload()
            .get(HEADER_LEN..)
            .unwrap_or(&[])
    }

    /// The payload after the header, writable.
    #[inline(always)]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.packet
            .payload
            .payload_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }

    /// Changes the payload length, keeping the header and the first bytes.
    pub fn resize_payload(&mut self, payload_len: usize) -> Result<(), nic::Error> {
        let len = HEADER_LEN
            .checked_add(payload_len)
            .ok_or(nic::Error::TooLarge)?;
        self.packet.payload.resize(len)
    }

    /// Asks the device to cut the frame's TCP segment into segments of
    /// `size` payload bytes (see [`nic::Capabilities::tcp_segmentation`]).
    pub fn set_segment_size(&mut self, size: u16) {
        self.packet.handle.set_segment_size(size);
    }

    /// Queues the frame for transmission.
    #[inline(always)]
    pub fn send(self) -> Result<(), nic::Error> {
        match self.packet.handle.queue() {
            Ok(()) => {
                self.endpoint.stats.tx_frames += 1;
                Ok(())
            }
            Err(err) => {
                self.endpoint.stats.tx_errors += 1;
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nic::memory::{MemoryLink, MemoryNic};

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const GROUP: EthernetAddress = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);

    type Nic = MemoryNic<[u8; 8 * 128], 8>;
    fn nic() -> Nic {
        MemoryNic::new([0; 8 * 128], 128).unwrap()
    }

    struct To(EthernetAddress, u8);
    impl<D: Device> Send<D> for To {
        fn send(&mut self, raw: Raw<'_, '_, D>) {
            let init = Init {
                dst: self.0,
                ethertype: EtherType::Ipv4,
                payload_len: 46,
            };
            let mut out = raw.prepare(init).unwrap();
            out.payload_mut().fill(self.1);
            out.send().unwrap();
        }
    }

    #[derive(Default)]
    struct Sink {
        got: u32,
        want_group: bool,
        echo: bool,
    }
    impl<D: Device> Recv<D> for Sink {
        fn receive(&mut self, frame: In<'_, '_, D>) {
            self.got += 1;
            if self.echo {
                let len = frame.payload().len();
                let out = frame.reply(EtherType::Ipv4, len).unwrap();
                out.send().unwrap();
            }
        }
        fn wants_group(&self, group: EthernetAddress) -> bool {
            self.want_group && group == GROUP
        }
    }

    fn deliver(dst: EthernetAddress, sink: &mut Sink) -> EthStats {
        let (mut na, mut nb) = (nic(), nic());
        let (mut a, mut b) = (Endpoint::new(A), Endpoint::new(B));
        na.tx(1, a.send(To(dst, 7))).unwrap();
        MemoryLink::transfer(&mut na, &mut nb);
        nb.rx(8, b.recv(sink)).unwrap();
        b.stats()
    }

    #[test]
    fn accepts_own_unicast_and_broadcast() {
        let mut sink = Sink::default();
        deliver(B, &mut sink);
        deliver(EthernetAddress::BROADCAST, &mut sink);
        assert_eq!(sink.got, 2);
    }

    #[test]
    fn drops_other_unicast_and_unwanted_groups() {
        let mut sink = Sink::default();
        let stats = deliver(EthernetAddress([2, 0, 0, 0, 0, 9]), &mut sink);
        assert_eq!((sink.got, stats.rx_not_for_us), (0, 1));
        let stats = deliver(GROUP, &mut sink);
        assert_eq!((sink.got, stats.rx_not_for_us), (0, 1));
        sink.want_group = true;
        deliver(GROUP, &mut sink);
        assert_eq!(sink.got, 1);
    }

    #[test]
    fn truncated_tagged_and_bad_source_frames_are_counted() {
        let mut nb = nic();
        let mut b = Endpoint::new(B);
        let mut sink = Sink::default();
        assert!(nb.inject(&[0xff; 60])); // broadcast from a multicast source
        let mut tagged = [0u8; 64];
        tagged[..6].copy_from_slice(&B.0);
        tagged[6..12].copy_from_slice(&A.0);
        tagged[12..18].copy_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        assert!(nb.inject(&tagged));
        nb.rx(8, b.recv(&mut sink)).unwrap();
        let stats = b.stats();
        assert_eq!((stats.rx_bad_source, stats.rx_tagged, sink.got), (1, 1, 0));
    }

    #[test]
    fn truncated_frames_are_counted_not_delivered() {
        let mut nb = nic();
        let mut b = Endpoint::new(B);
        let mut sink = Sink::default();
        assert!(nb.inject(&B.0[..]));
        assert!(nb.inject(&[0u8; 13]));
        nb.rx(8, b.recv(&mut sink)).unwrap();
        assert_eq!((b.stats().rx_truncated, sink.got), (2, 0));
    }

    #[test]
    fn reply_in_place_swaps_addresses() {
        let (mut na, mut nb) = (nic(), nic());
        let (mut a, mut b) = (Endpoint::new(A), Endpoint::new(B));
        na.tx(1, a.send(To(B, 3))).unwrap();
        MemoryLink::transfer(&mut na, &mut nb);
        let mut echo = Sink {
            echo: true,
            ..Sink::default()
        };
        nb.rx(8, b.recv(&mut echo)).unwrap();
        MemoryLink::transfer(&mut nb, &mut na);
        let mut back = Sink::default();
        na.rx(8, a.recv(&mut back)).unwrap();
        assert_eq!(back.got, 1);
        assert_eq!((a.stats().tx_frames, b.stats().tx_frames), (1, 1));
        na.drain_one(|_| ());
    }

    #[test]
    fn prepare_beyond_capacity_fails_and_counts() {
        struct Huge;
        impl<D: Device> Send<D> for Huge {
            fn send(&mut self, raw: Raw<'_, '_, D>) {
                assert_eq!(raw.payload_capacity(), 128 - 14);
                let init = Init {
                    dst: B,
                    ethertype: EtherType::Ipv4,
                    payload_len: 115,
                };
                assert!(raw.prepare(init).is_err());
            }
        }
        let mut na = nic();
        let mut a = Endpoint::new(A);
        assert_eq!(na.tx(1, a.send(Huge)).unwrap(), 0);
        assert_eq!(a.stats().tx_errors, 1);
    }
}
