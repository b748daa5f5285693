//! The whole-path TCP harness of the `stack_rx` fuzz target (and of the
//! regression tests that replay its crashes).
//!
//! One fully configured host ("H", 10.0.0.2 and fd00::2): Ethernet, IPv4
//! with ARP, IPv6 with neighbor discovery, reassembly, ICMP echo, UDP
//! echo on port 7 (other protocols get an ICMP error), and TCP with two
//! listeners (port 80 with a backlog of 1, so SYN cookies answer the
//! second half-open connection; port 443 with 2) and an application of
//! ring buffers (`ethox/tests/common/tcp_host.rs`).
//!
//! The harness plays the peer ("P", 10.0.0.1 and fd00::1). Before the
//! input runs, a fixed script makes H resolve P (ARP, NDISC) and
//! establishes three connections with data in flight both ways: one that
//! H opened to P:5000 over IPv4, and two P opened to H:80 (IPv4) and
//! H:443 (IPv6). The harness watches every frame H sends and tracks each
//! four-tuple: the highest sequence number H sent, the last number H
//! acknowledged and H's last timestamp. Fuzzed segments are built from
//! offsets relative to those, with correct checksums, so they land in the
//! receive window, acknowledge data in flight, pass PAWS or just miss,
//! and reach deep states of the state machine.
//!
//! The input is a sequence of operations, each an opcode byte and its
//! fields (missing bytes read as zero):
//!
//! | op | what | fields |
//! |----|------|--------|
//! | 0 | raw frame | length u16, bytes |
//! | 1 | segment on a tracked tuple | see `Stack::send_segment` |
//! | 2 | segment on a new tuple (SYN floods, stray ACKs) | the same |
//! | 3 | time passes | u16 `t`: `t * t / 16` ms (0 to 268 s) |
//! | 4 | the application acts | kind, which connection, u16 argument |
//! | 5 | ICMP "fragmentation needed"/"packet too big" quoting a tracked tuple | which, u16 MTU, i16 sequence offset |
//!
//! After each operation H receives what was injected and sends what it
//! has. Nothing may panic, and every frame H sends must parse cleanly
//! ([`clean::assert_clean`]). At the end, time runs on past every timer.

use core::time::Duration;

use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::tcp::Handle;
use ethox::layer::tcp::connection::Config;
use ethox::layer::{icmp, ip, udp};
use ethox::nic::Device;
use ethox::time::Instant;
use ethox::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use ethox::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr};
use ethox::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::ipv4::{Ecn, Ipv4Packet, Ipv4Repr};
use ethox::wire::ipv6::{Ipv6Packet, Ipv6Repr};
use ethox::wire::ndisc::NdiscRepr;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpPacket, TcpRepr};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv6Addr};

use super::{clean, tcp_host};

use tcp_host::{A, A6, B, B6, Host, SLOTS, Sizes};

/// H's MAC (tcp_host's host number 2).
const MAC_H: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
/// The peer's MAC.
const MAC_P: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
/// The peer's initial sequence number on every connection.
const PEER_ISS: u32 = 0x8000_0000;
/// Tuples tracked at once; the oldest is forgotten for a new one.
const TRACKED: usize = 8;
/// Operations per input at most.
const MAX_OPS: usize = 2000;
/// Connection slots of H.
const CONNECTIONS: usize = 6;

/// Reads an input front to back; past its end every field is zero.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn i16(&mut self) -> i16 {
        self.u16() as i16
    }
    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// What the harness knows of one four-tuple from H's frames.
#[derive(Debug, Clone, Copy)]
struct Track {
    v6: bool,
    /// H's port.
    local: u16,
    /// The peer's port.
    remote: u16,
    /// The highest sequence number H sent, plus one (its SND.NXT).
    snd_nxt: SeqNumber,
    /// What H acknowledged last (its RCV.NXT); the peer's ISS before H
    /// acknowledged anything.
    rcv_nxt: SeqNumber,
    /// The highest number the peer acknowledged.
    acked: SeqNumber,
    /// H's last TSval.
    tsval: u32,
}

/// Port 7 echoes in place; other UDP ports are refused with ICMP errors.
struct Echo;

impl<D: Device> udp::Recv<D> for Echo {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 == 7 {
            let len = datagram.payload().len();
            if let Ok(out) = datagram.reply(len) {
                let _ = out.send();
            }
        }
    }
}

/// Neither TCP, UDP nor ICMP: protocol unreachable.
struct Refuse;

impl<D: Device> ip::Recv<D> for Refuse {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let _ = packet.reject(ip::Reject::ProtocolUnreachable);
    }
}

/// H, its non-TCP endpoints and what the peer knows.
pub struct Stack {
    host: Host,
    icmp: icmp::Endpoint,
    udp: udp::Endpoint<'static>,
    tracks: Vec<Track>,
    /// Where the next tuple is tracked when all slots are in use.
    evict: usize,
    now: Instant,
    /// Frames H sent (for the tests: a sign the script worked).
    pub sent: usize,
}

/// Writes an Ethernet frame from the peer to H carrying `ethertype` and
/// `len` bytes that `fill` writes.
fn frame(
    ethertype: EtherType,
    dst: EthernetAddress,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let eth = EthernetRepr {
        src: MAC_P,
        dst,
        vlan: None,
        ethertype,
    };
    let mut bytes = vec![0u8; eth.buffer_len() + len];
    let mut view = EthernetFrame::new_unchecked(&mut bytes[..]);
    eth.emit(&mut view);
    fill(view.payload_mut());
    bytes
}

/// Writes an IP packet from `src` to `dst` (of one family) into a frame to
/// H: `len` bytes of `protocol` that `fill` writes (it gets the payload).
fn ip_frame(
    src: IpAddr,
    dst: IpAddr,
    protocol: IpProtocol,
    ecn: Ecn,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let repr = Ipv4Repr {
                src,
                dst,
                protocol,
                payload_len: len,
                ecn,
                ..Ipv4Repr::default()
            };
            frame(EtherType::Ipv4, MAC_H, repr.buffer_len() + len, |buf| {
                let mut packet = Ipv4Packet::new_unchecked(buf);
                repr.emit(&mut packet, ChecksumMode::Software);
                fill(packet.payload_mut());
            })
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let repr = Ipv6Repr {
                src,
                dst,
                next_header: protocol,
                payload_len: len as u16,
                hop_limit: 255,
                traffic_class: u8::from(ecn),
                flow_label: 0,
            };
            let mac = if dst.is_multicast() {
                EthernetAddress::from_ipv6_multicast(dst)
            } else {
                MAC_H
            };
            frame(EtherType::Ipv6, mac, 40 + len, |buf| {
                let mut packet = Ipv6Packet::new_unchecked(buf);
                repr.emit(&mut packet);
                fill(packet.payload_mut());
            })
        }
        _ => Vec::new(),
    }
}

/// The TCP segment `repr` from `src` to `dst` with payload bytes `fill`,
/// `fill + 1`, ..., and the optional poke applied before the checksum.
fn tcp_bytes(
    repr: &TcpRepr,
    src: IpAddr,
    dst: IpAddr,
    fill: u8,
    poke: Option<(usize, u8)>,
    out: &mut [u8],
) {
    let header = repr.buffer_len();
    for (i, b) in out[header..].iter_mut().enumerate() {
        *b = fill.wrapping_add(i as u8);
    }
    let mut packet = TcpPacket::new_unchecked(&mut out[..]);
    if repr
        .emit(&mut packet, src, dst, ChecksumMode::Software)
        .is_err()
    {
        return;
    }
    if let Some((at, xor)) = poke {
        let len = out.len();
        out[at % len] ^= xor;
        TcpPacket::new_unchecked(&mut out[..]).fill_checksum(src, dst);
    }
}

/// The TCP segment of a frame H sent: (IPv6, source, destination, repr).
fn parse_tcp(bytes: &[u8]) -> Option<(bool, TcpRepr)> {
    let eth = EthernetFrame::new_checked(bytes).ok()?;
    let eth_repr = EthernetRepr::parse(&eth).ok()?;
    let (v6, src, dst, payload) = match eth_repr.ethertype {
        EtherType::Ipv4 => {
            let packet = Ipv4Packet::new_checked(eth.payload()).ok()?;
            let repr = Ipv4Repr::parse(&packet, ChecksumMode::Offloaded).ok()?;
            if repr.protocol != IpProtocol::Tcp {
                return None;
            }
            (
                false,
                IpAddr::V4(repr.src),
                IpAddr::V4(repr.dst),
                packet.payload(),
            )
        }
        EtherType::Ipv6 => {
            let packet = Ipv6Packet::new_checked(eth.payload()).ok()?;
            if packet.next_header() != IpProtocol::Tcp {
                return None;
            }
            (
                true,
                IpAddr::V6(packet.src_addr()),
                IpAddr::V6(packet.dst_addr()),
                packet.payload(),
            )
        }
        _ => return None,
    };
    let segment = TcpPacket::new_checked(payload).ok()?;
    let repr = TcpRepr::parse(&segment, src, dst, ChecksumMode::Offloaded).ok()?;
    Some((v6, repr))
}

/// H's addresses and the peer's, in one family.
fn addrs(v6: bool) -> (IpAddr, IpAddr) {
    if v6 {
        (IpAddr::V6(B6), IpAddr::V6(A6))
    } else {
        (IpAddr::V4(B), IpAddr::V4(A))
    }
}

impl Stack {
    /// H as configured, before the set-up script.
    fn new() -> Stack {
        let config = Config::default();
        let sizes = Sizes {
            connections: CONNECTIONS,
            send: 16 * 1024,
            window: 8 * 1024,
        };
        let mut host = Host::new(2, IpAddr::V4(B), sizes, config);
        host.ip.add_addr(IpCidr::new(IpAddr::V6(B6), 64).unwrap());
        host.ip.add_addr(
            IpCidr::new(
                IpAddr::V6(ethox::wire::ipv6::link_local_from_mac(MAC_H)),
                64,
            )
            .unwrap(),
        );
        host.ip.set_reassembler(Reassembler::new(
            vec![0u8; 2 * 8192],
            vec![ReassemblySlot::EMPTY; 2],
            8192,
            ReassemblyConfig::default(),
        ));
        host.tcp.listen(80, 1).unwrap();
        host.tcp.listen(443, 2).unwrap();
        let mut udp = udp::Endpoint::new(vec![None; 2], 7);
        udp.bind(7).unwrap();
        let now = tcp_host::START;
        host.nic.set_time(now);
        Stack {
            host,
            icmp: icmp::Endpoint::new(),
            udp,
            tracks: Vec::new(),
            evict: 0,
            now,
            sent: 0,
        }
    }

    /// H after the set-up script: P resolved, three connections
    /// established with data in flight.
    pub fn ready() -> Stack {
        let mut s = Stack::new();
        // ARP: P asks for H (H learns P's MAC from the request).
        let arp = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: MAC_P,
            source_protocol_addr: A,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: B,
        };
        let f = frame(EtherType::Arp, EthernetAddress::BROADCAST, 28, |buf| {
            arp.emit(&mut ArpPacket::new_unchecked(buf))
        });
        s.inject(&f);
        // NDISC: P solicits H with its link-layer address.
        let target = B6;
        let group = Ipv6Addr::new(
            0xff02,
            0,
            0,
            0,
            0,
            1,
            0xff00 | (target.segments()[6] & 0xff),
            target.segments()[7],
        );
        let ns = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
            target,
            lladdr: Some(MAC_P),
        });
        let f = ip_frame(
            IpAddr::V6(A6),
            IpAddr::V6(group),
            IpProtocol::Icmpv6,
            Ecn::NotEct,
            ns.buffer_len(),
            |buf| {
                ns.emit(
                    &mut Icmpv6Packet::new_unchecked(buf),
                    A6,
                    group,
                    ChecksumMode::Software,
                )
            },
        );
        s.inject(&f);
        s.cycle();

        // H opens to P:5000; P answers the SYN.
        let now = s.now;
        let _ = s
            .host
            .tcp
            .connect((IpAddr::V4(B), 40000), (IpAddr::V4(A), 5000), now);
        s.cycle();
        let syn_ack: &[u8] = &[
            0x12, // SYN, ACK
            0, 0, 0, 0, // on H's ISS + 1
            0xff, 0xff, // window
            0x0f, 0, // timestamps, MSS, window scale, SACK-permitted
            0xb4, 0x05, 7, 0, // MSS 1460, scale 7, tsadj 0
        ];
        s.peer_segment(0, &mut Input(syn_ack));
        // P opens to H:80 over IPv4 and to H:443 over IPv6.
        let syn: &[u8] = &[0x02, 0, 0, 0, 0, 0xff, 0xff, 0x0f, 0, 0xb4, 0x05, 7, 0];
        // Targets: IPv4 to port 80 from 3000; IPv6 to 443 from 3001.
        for target in [0, 0b1011] {
            let mut input = vec![target];
            input.extend_from_slice(syn);
            s.new_segment(&mut Input(&input));
        }
        // P acknowledges every SYN-ACK and sends 1000 bytes on each.
        let data: &[u8] = &[0x18, 0, 0, 0, 0, 0xff, 0xff, 0x01, 0, 0, 0xe8, 0x03, 0x41];
        for which in 0..s.tracks.len() {
            let mut input = vec![which as u8];
            input.extend_from_slice(data);
            s.tracked_segment(&mut Input(&input));
        }
        for port in [80, 443] {
            s.host.tcp.accept(port);
        }
        // H's application answers with 6000 bytes on each.
        let handles: Vec<Handle> = s.host.tcp.connections().map(|(h, _, _)| h).collect();
        for h in handles {
            s.write(h, 6000);
        }
        s.cycle();
        s
    }

    /// Runs one fuzz input against a freshly set-up H.
    pub fn run(data: &[u8]) {
        let mut s = Stack::ready();
        let mut input = Input(data);
        for _ in 0..MAX_OPS {
            if input.is_empty() {
                break;
            }
            s.op(&mut input);
            s.cycle();
        }
        for secs in [1, 10, 100, 1000] {
            s.advance(Duration::from_secs(secs));
        }
    }

    fn op(&mut self, input: &mut Input<'_>) {
        match input.u8() % 6 {
            0 => {
                let len = usize::from(input.u16()) % 1515;
                let bytes = input.bytes(len).to_vec();
                self.inject(&bytes);
            }
            1 => self.tracked_segment(input),
            2 => self.new_segment(input),
            3 => {
                let t = u64::from(input.u16());
                self.advance(Duration::from_millis(t * t / 16));
            }
            4 => self.app(input),
            _ => self.icmp_error(input),
        }
    }

    fn inject(&mut self, frame: &[u8]) {
        self.host.nic.inject(frame);
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.host.nic.set_time(self.now);
        self.cycle();
    }

    /// H receives everything injected and sends what it has, until quiet
    /// (a few rounds at most: the time does not move).
    fn cycle(&mut self) {
        for _ in 0..4 {
            let h = &mut self.host;
            let mut app = Echo;
            h.nic
                .rx(
                    SLOTS,
                    h.eth.recv(
                        h.ip.recv(
                            self.icmp.recv(
                                h.tcp
                                    .recv_or(&mut h.app, self.udp.recv_or(&mut app, Refuse)),
                            ),
                        ),
                    ),
                )
                .unwrap();
            h.nic
                .tx(SLOTS, h.eth.send(h.ip.send(h.tcp.send(&mut h.app))))
                .unwrap();
            let mut drained = 0;
            while let Some(seg) = self.host.nic.drain_one(|f| {
                clean::assert_clean(f);
                parse_tcp(f)
            }) {
                drained += 1;
                if let Some((v6, repr)) = seg {
                    self.track(v6, &repr);
                }
            }
            self.sent += drained;
            // Pending bytes move into the send rings as room frees up.
            for conn in &mut self.host.app.conns {
                conn.pump_send();
            }
            if drained == 0 && self.host.nic.rx_pending() == 0 {
                break;
            }
        }
    }

    /// Updates the tuple of a segment H sent.
    fn track(&mut self, v6: bool, repr: &TcpRepr) {
        let found = self
            .tracks
            .iter()
            .position(|t| t.v6 == v6 && t.local == repr.src_port && t.remote == repr.dst_port);
        let end = repr.seq_number + repr.segment_len();
        let index = match found {
            Some(i) => i,
            None => {
                if repr.flags.contains(TcpFlags::RST) {
                    return;
                }
                let track = Track {
                    v6,
                    local: repr.src_port,
                    remote: repr.dst_port,
                    snd_nxt: end,
                    rcv_nxt: SeqNumber(PEER_ISS),
                    acked: repr.seq_number,
                    tsval: 0,
                };
                if self.tracks.len() < TRACKED {
                    self.tracks.push(track);
                    self.tracks.len() - 1
                } else {
                    let i = self.evict % TRACKED;
                    self.evict += 1;
                    self.tracks[i] = track;
                    i
                }
            }
        };
        let t = &mut self.tracks[index];
        if end > t.snd_nxt {
            t.snd_nxt = end;
        }
        if let Some(ack) = repr.ack_number {
            t.rcv_nxt = ack;
        }
        if let Some((tsval, _)) = repr.timestamp {
            t.tsval = tsval;
        }
    }

    /// The peer's timestamp clock: milliseconds.
    fn peer_clock(&self) -> u32 {
        (self.now.as_millis() as u32).wrapping_add(0x1000_0000)
    }

    /// Op 1: a segment on a tracked tuple.
    fn tracked_segment(&mut self, input: &mut Input<'_>) {
        let which = input.u8();
        if self.tracks.is_empty() {
            return;
        }
        let index = usize::from(which) % self.tracks.len();
        self.peer_segment(index, input);
    }

    /// Op 2: a segment on a tuple chosen by the input.
    fn new_segment(&mut self, input: &mut Input<'_>) {
        let target = input.u8();
        let v6 = target & 1 == 1;
        let local = [80, 443, 5000, 40000][usize::from(target >> 1) & 3];
        let remote = 3000 + u16::from(target >> 3);
        let track = Track {
            v6,
            local,
            remote,
            snd_nxt: SeqNumber(0),
            rcv_nxt: SeqNumber(PEER_ISS),
            acked: SeqNumber(0),
            tsval: 0,
        };
        self.send_segment(track, None, input);
    }

    /// A segment from the peer on tracked tuple `index`.
    fn peer_segment(&mut self, index: usize, input: &mut Input<'_>) {
        let track = self.tracks[index];
        self.send_segment(track, Some(index), input);
    }

    /// Builds the segment the input describes on `track`, injects it, and
    /// remembers the ACK sent on a tracked tuple. The fields:
    ///
    /// `target, flags, seq_off i16, ack_off i16, window u16, options, misc`,
    /// then by the option bits `mss u16`, `wscale`, `tsadj`, and SACK blocks
    /// (`left i16, len u16` each), `urgent u16` if URG, then
    /// `payload_len u16, fill, poke` and, if `poke` is not 0, `xor`.
    ///
    /// * `target`: on a tracked tuple, which one; on a new tuple, bit 0 picks
    ///   IPv6, bits 1-2 H's port (80, 443, 5000, 40000) and the rest the
    ///   peer's port (3000 up).
    /// * `flags`: the eight bits of the TCP header (FIN SYN RST PSH ACK URG
    ///   ECE CWR).
    /// * `seq_off` is added to H's RCV.NXT, `ack_off` to H's SND.NXT (or,
    ///   with option bit 4, to the peer's last ACK); on a new tuple to the
    ///   peer's ISS and to 0.
    /// * `options`: bit 0 timestamps (TSval the peer's clock plus `tsadj`
    ///   steps of 4096, TSecr H's last TSval), 1 MSS, 2 window scale,
    ///   3 SACK-permitted, 4 see `ack_off`, 5-7 the number of SACK blocks
    ///   (edges relative to the ACK number).
    /// * `misc`: bits 0-1 the IP ECN codepoint.
    /// * `poke`: if not 0, byte `poke - 1` (modulo the segment length) of the
    ///   segment is XORed with `xor` before the checksum is computed: any
    ///   header bit pattern, malformed options included, with a valid
    ///   checksum.
    fn send_segment(&mut self, track: Track, index: Option<usize>, input: &mut Input<'_>) {
        let flags = TcpFlags::from_bits_truncate(u16::from(input.u8()));
        let seq_off = input.i16();
        let ack_off = input.i16();
        let window_len = input.u16();
        let options = input.u8();
        let misc = input.u8();
        let max_seg_size = (options & 2 != 0).then(|| input.u16());
        let window_scale = (options & 4 != 0).then(|| input.u8());
        let tsadj = if options & 1 != 0 {
            input.u8() as i8
        } else {
            0
        };
        let seq_number = track.rcv_nxt.wrapping_add(seq_off as i32 as u32);
        let ack_base = if options & 0x10 != 0 {
            track.acked
        } else {
            track.snd_nxt
        };
        let ack = ack_base.wrapping_add(ack_off as i32 as u32);
        let mut sack_ranges = [None; 4];
        for slot in sack_ranges.iter_mut().take(usize::from(options >> 5)) {
            let left = ack.wrapping_add(input.i16() as i32 as u32);
            let right = left.wrapping_add(u32::from(input.u16()));
            *slot = Some((left.0, right.0));
        }
        let urgent_ptr = flags.contains(TcpFlags::URG).then(|| input.u16());
        let tsval = self
            .peer_clock()
            .wrapping_add((i32::from(tsadj) * 4096) as u32);
        let mut repr = TcpRepr {
            src_port: track.remote,
            dst_port: track.local,
            flags,
            seq_number,
            ack_number: flags.contains(TcpFlags::ACK).then_some(ack),
            window_len,
            window_scale,
            max_seg_size,
            sack_permitted: options & 8 != 0,
            sack_ranges,
            timestamp: (options & 1 != 0).then_some((tsval, track.tsval)),
            urgent_ptr,
            payload_len: 0,
        };
        // The frame must fit H's 1514-byte buffers.
        let room = 1514 - 14 - 40 - repr.buffer_len();
        repr.payload_len = usize::from(input.u16()) % (room + 1);
        let fill = input.u8();
        let poke = match input.u8() {
            0 => None,
            at => Some((usize::from(at - 1), input.u8())),
        };
        let (local, remote) = addrs(track.v6);
        let ecn = Ecn::from(misc & 3);
        let len = repr.buffer_len() + repr.payload_len;
        let f = ip_frame(remote, local, IpProtocol::Tcp, ecn, len, |buf| {
            tcp_bytes(&repr, remote, local, fill, poke, buf)
        });
        self.inject(&f);
        if let (Some(i), Some(ack)) = (index, repr.ack_number) {
            let t = &mut self.tracks[i];
            if ack > t.acked {
                t.acked = ack;
            }
        }
        self.cycle();
    }

    /// Op 4: the application acts on one of H's connections.
    fn app(&mut self, input: &mut Input<'_>) {
        let kind = input.u8();
        let which = usize::from(input.u8());
        let arg = input.u16();
        let handles: Vec<Handle> = self.host.tcp.connections().map(|(h, _, _)| h).collect();
        let handle = (!handles.is_empty()).then(|| handles[which % handles.len()]);
        match (kind % 8, handle) {
            (0, Some(h)) => self.write(h, usize::from(arg) % 16384),
            (1, Some(h)) => {
                let mut chunk = vec![0u8; usize::from(arg)];
                let conn = &mut self.host.app.conns[h.index as usize];
                let n = conn.recv.read(&mut chunk);
                conn.received.extend_from_slice(&chunk[..n]);
            }
            (2, Some(h)) => {
                let _ = self.host.tcp.close(h);
            }
            (3, Some(h)) => {
                let _ = self.host.tcp.abort(h);
            }
            (4, _) => {
                self.host.tcp.accept(if arg & 1 == 0 { 80 } else { 443 });
            }
            (5, _) => {
                let (local, remote) = addrs(arg & 1 == 1);
                let now = self.now;
                let _ = self
                    .host
                    .tcp
                    .connect((local, 0), (remote, 5000 + (arg >> 1) % 4), now);
            }
            (6, _) => {
                if arg & 1 == 0 {
                    self.host.tcp.unlisten(80);
                } else {
                    let _ = self.host.tcp.listen(80, usize::from(arg >> 1) % 4);
                }
            }
            (7, Some(h)) => {
                if let Some(conn) = self.host.tcp.connection_mut(h) {
                    conn.set_nagle(arg & 1 == 1);
                    conn.set_keep_alive(
                        (arg & 2 != 0).then(|| Duration::from_millis(u64::from(arg))),
                    );
                    conn.set_user_timeout(
                        (arg & 4 != 0).then(|| Duration::from_millis(u64::from(arg) * 8)),
                    );
                }
            }
            _ => {}
        }
    }

    /// The application queues `len` bytes on `h`.
    fn write(&mut self, h: Handle, len: usize) {
        let bytes = tcp_host::pattern(len, h.index as u8);
        let conn = &mut self.host.app.conns[h.index as usize];
        conn.pending.extend(bytes);
        conn.pump_send();
    }

    /// Op 5: a path MTU message about a segment H sent on a tracked tuple.
    fn icmp_error(&mut self, input: &mut Input<'_>) {
        let which = input.u8();
        let mtu = input.u16();
        let seq_off = input.i16();
        if self.tracks.is_empty() {
            return;
        }
        let track = self.tracks[usize::from(which) % self.tracks.len()];
        let (local, remote) = addrs(track.v6);
        // The quoted segment as H sent it: its IP header and 8 bytes.
        let quoted = TcpRepr {
            src_port: track.local,
            dst_port: track.remote,
            flags: TcpFlags::empty(),
            seq_number: track.snd_nxt.wrapping_add(seq_off as i32 as u32),
            ack_number: Some(track.rcv_nxt),
            window_len: 0,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; 4],
            timestamp: None,
            urgent_ptr: None,
            payload_len: 1400,
        };
        let mut original = ip_frame(
            local,
            remote,
            IpProtocol::Tcp,
            Ecn::NotEct,
            20 + 1400,
            |buf| tcp_bytes(&quoted, local, remote, 0, None, buf),
        );
        let ip_header = if track.v6 { 40 } else { 20 };
        original.truncate(14 + ip_header + 8);
        let header = &original[14..];
        let f = if track.v6 {
            let (IpAddr::V6(src), IpAddr::V6(dst)) = (remote, local) else {
                return;
            };
            let repr = Icmpv6Repr::PacketTooBig {
                mtu: u32::from(mtu),
                header,
            };
            ip_frame(
                remote,
                local,
                IpProtocol::Icmpv6,
                Ecn::NotEct,
                repr.buffer_len(),
                |buf| {
                    repr.emit(
                        &mut Icmpv6Packet::new_unchecked(buf),
                        src,
                        dst,
                        ChecksumMode::Software,
                    )
                },
            )
        } else {
            let repr = Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragRequired,
                next_hop_mtu: mtu,
                header,
            };
            ip_frame(
                remote,
                local,
                IpProtocol::Icmp,
                Ecn::NotEct,
                repr.buffer_len(),
                |buf| {
                    let _ = repr.emit(
                        &mut Icmpv4Packet::new_unchecked(buf),
                        ChecksumMode::Software,
                    );
                },
            )
        };
        self.inject(&f);
    }

    /// The number of established connections H has (for the tests).
    pub fn established(&self) -> usize {
        use ethox::layer::tcp::connection::State;
        self.host
            .tcp
            .connections()
            .filter(|(_, _, c)| c.state() == State::Established)
            .count()
    }
}
