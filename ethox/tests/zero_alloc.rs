//! The stack allocates nothing once it is set up: a counting global
//! allocator watches a bounded run of traffic through the whole receive
//! and send trees (ARP, neighbor discovery, IPv4 and IPv6 echo answered in
//! place, ICMP errors for refused packets, malformed frames, neighbor
//! revalidation after the cache lifetime, captured IPv4 and IPv6
//! fragments put back together by the reassembler; a TCP bulk transfer
//! with a lost segment, and its close through TIME-WAIT; a DHCP lease, its
//! renewal and DNS queries) and must count zero allocations.
//!
//! All storage (NIC buffers, address tables, neighbor caches, routes,
//! reassembly buffers, the TCP connection table and ring buffers) is
//! allocated before the measurement starts. The apps below keep their
//! counters in fixed arrays, so nothing in the measured section allocates
//! on the test's behalf either.
//!
//! The stack's storage is handed in as borrowed slices (allocated once by
//! the test, then leaked), so the test runs with `ethox`'s default
//! features and also without any (`scripts/test.sh` runs it both ways):
//! `cargo test -p ethox --no-default-features --test zero_alloc`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::{CloseReason, Config as TcpConfig};
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, icmp, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{self, Icmpv6Packet, Icmpv6Repr};
use ethox::wire::pcap::PcapReader;
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};

/// Storage for the stack, allocated once at set-up and borrowed for the
/// rest of the test: borrowed slices need no `alloc` feature in `ethox`,
/// so this test also runs with `--no-default-features`.
fn leak<T>(storage: Vec<T>) -> &'static mut [T] {
    storage.leak()
}

/// Counts allocations made by a thread while it measures. Everything is
/// per thread, so tests measuring in parallel (the test harness runs them
/// on threads of their own) neither count each other's allocations nor
/// stop each other's counting.
struct Counting;

thread_local! {
    /// Set while this thread measures (const-initialised, no destructor:
    /// touching it never allocates).
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    /// Allocations this thread made while measuring.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

impl Counting {
    fn note(&self) {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` measuring on this thread; returns what it returned and the
/// allocations it made.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    MEASURING.with(|m| m.set(true));
    let out = f();
    MEASURING.with(|m| m.set(false));
    let after = ALLOCATIONS.with(Cell::get);
    (out, after - before)
}

const SLOTS: usize = 8;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const A4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

/// Pings of each family in the measured section.
const PINGS: usize = 1000;
/// Every this many rounds, one packet of each family is refused.
const REFUSE_EVERY: usize = 10;
/// The round at which time jumps past the neighbor lifetime.
const JUMP_AT: usize = PINGS / 2;

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    tcp: tcp::Endpoint<'static>,
}

impl Host {
    fn new(mac: EthernetAddress, v4: Ipv4Addr, v6: Ipv6Addr) -> Host {
        let mut ip = ip::Endpoint::new(
            leak(vec![None; 4]),
            Routes::new(leak(vec![None; 4])),
            NeighborCache::new(leak(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
            NeighborCache::new(leak(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(v4), 24).unwrap()));
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(v6), 64).unwrap()));
        let link_local = ethox::wire::ipv6::link_local_from_mac(mac);
        assert!(ip.add_addr(IpCidr::new(IpAddr::V6(link_local), 64).unwrap()));
        Host {
            nic: Nic::new(vec![0; SLOTS * 1514], 1514).unwrap(),
            eth: eth::Endpoint::new(mac),
            ip,
            icmp: icmp::Endpoint::new(),
            tcp: tcp::Endpoint::new(
                leak(vec![Slot::empty(); 2]),
                leak(vec![Listener::EMPTY; 1]),
                Secrets::from_seed(u64::from(mac.0[5])),
                TcpConfig::default(),
            ),
        }
    }

    fn set_time(&mut self, now: Instant) {
        self.nic.set_time(now);
    }

    fn send<S: ip::Send<Nic>>(&mut self, app: S) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(app)))
            .unwrap_or(0)
    }

    fn receive<R: ip::Recv<Nic>>(&mut self, app: R) -> usize {
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(self.icmp.recv(app))))
            .unwrap_or(0)
    }
}

/// What host A sends in one round, one packet per kind.
#[derive(Clone, Copy, Default)]
struct Plan {
    echo4: Option<u16>,
    echo6: Option<u16>,
    probe4: bool,
    probe6: bool,
}

/// Host A's app: sends the round's plan and counts what comes back, in
/// fixed arrays.
struct Pinger {
    plan: Plan,
    /// Prepare failures (unresolved, unreachable) while sending.
    send_errors: usize,
    replies4: [u8; PINGS],
    replies6: [u8; PINGS],
    bad_echo_data: usize,
    unreachable4: usize,
    unreachable6: usize,
    other: usize,
}

impl Pinger {
    fn new() -> Pinger {
        Pinger {
            plan: Plan::default(),
            send_errors: 0,
            replies4: [0; PINGS],
            replies6: [0; PINGS],
            bad_echo_data: 0,
            unreachable4: 0,
            unreachable6: 0,
            other: 0,
        }
    }

    fn echo_data(seq: u16) -> [u8; ECHO_LEN] {
        let mut data = [0u8; ECHO_LEN];
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = (seq as u8).wrapping_add(i as u8);
        }
        data
    }
}

/// Echo data bytes per ping.
const ECHO_LEN: usize = 40;

/// A probe with protocol number 17 and an 8-byte UDP-like header; host B
/// has no UDP layer, its app refuses it.
const PROBE: [u8; 8] = [0x0f, 0xa0, 0x13, 0x88, 0, 8, 0, 0];

impl<D: Device> ip::Send<D> for Pinger {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        let plan = &mut self.plan;
        let (dst, protocol, len) = if plan.echo4.is_some() {
            (IpAddr::V4(B4), IpProtocol::Icmp, 8 + ECHO_LEN)
        } else if plan.echo6.is_some() {
            (IpAddr::V6(B6), IpProtocol::Icmpv6, 8 + ECHO_LEN)
        } else if plan.probe4 {
            (IpAddr::V4(B4), IpProtocol::Udp, PROBE.len())
        } else if plan.probe6 {
            (IpAddr::V6(B6), IpProtocol::Udp, PROBE.len())
        } else {
            return;
        };
        let init = ip::Init {
            src: None,
            dst,
            protocol,
            payload_len: len,
        };
        let mut out = match raw.prepare(init) {
            Ok(out) => out,
            Err(_) => {
                self.send_errors += 1;
                return;
            }
        };
        if let Some(seq) = plan.echo4.take() {
            let data = Pinger::echo_data(seq);
            let request = Icmpv4Repr::EchoRequest {
                ident: 0x4242,
                seq_no: seq,
                data: &data,
            };
            let emitted = request.emit(
                &mut Icmpv4Packet::new_unchecked(out.payload_mut()),
                ChecksumMode::Software,
            );
            if emitted.is_err() {
                self.send_errors += 1;
                return;
            }
        } else if let Some(seq) = plan.echo6.take() {
            let ip::IpRepr::V6(header) = out.repr() else {
                self.send_errors += 1;
                return;
            };
            let data = Pinger::echo_data(seq);
            let request = Icmpv6Repr::EchoRequest {
                ident: 0x6666,
                seq_no: seq,
                data: &data,
            };
            request.emit(
                &mut Icmpv6Packet::new_unchecked(out.payload_mut()),
                header.src,
                header.dst,
                ChecksumMode::Software,
            );
        } else if plan.probe4 {
            plan.probe4 = false;
            out.payload_mut().copy_from_slice(&PROBE);
        } else {
            plan.probe6 = false;
            out.payload_mut().copy_from_slice(&PROBE);
        }
        if out.send().is_err() {
            self.send_errors += 1;
        }
    }
}

impl<D: Device> ip::Recv<D> for Pinger {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        match packet.repr() {
            ip::IpRepr::V4(_) => {
                let parsed = Icmpv4Packet::new_checked(packet.payload())
                    .and_then(|p| Icmpv4Repr::parse(&p, ChecksumMode::Software));
                match parsed {
                    Ok(Icmpv4Repr::EchoReply {
                        ident: 0x4242,
                        seq_no,
                        data,
                    }) if usize::from(seq_no) < PINGS => {
                        if data != Pinger::echo_data(seq_no) {
                            self.bad_echo_data += 1;
                        }
                        let slot = &mut self.replies4[usize::from(seq_no)];
                        *slot = slot.saturating_add(1);
                    }
                    Ok(Icmpv4Repr::DstUnreachable {
                        reason: Icmpv4DstUnreachable::PortUnreachable,
                        header,
                        ..
                    }) if header.ends_with(&PROBE) => self.unreachable4 += 1,
                    _ => self.other += 1,
                }
            }
            ip::IpRepr::V6(header) => {
                let parsed = Icmpv6Packet::new_checked(packet.payload()).and_then(|p| {
                    Icmpv6Repr::parse(&p, header.src, header.dst, ChecksumMode::Software)
                });
                match parsed {
                    Ok(Icmpv6Repr::EchoReply {
                        ident: 0x6666,
                        seq_no,
                        data,
                    }) if usize::from(seq_no) < PINGS => {
                        if data != Pinger::echo_data(seq_no) {
                            self.bad_echo_data += 1;
                        }
                        let slot = &mut self.replies6[usize::from(seq_no)];
                        *slot = slot.saturating_add(1);
                    }
                    Ok(Icmpv6Repr::DstUnreachable {
                        reason: icmpv6::DstUnreachable::PortUnreachable,
                        header,
                    }) if header.ends_with(&PROBE) => self.unreachable6 += 1,
                    _ => self.other += 1,
                }
            }
            _ => self.other += 1,
        }
    }
}

/// Host B's app: refuses whatever reaches it (the ICMP layer answered
/// the pings before it).
#[derive(Default)]
struct Refuse {
    errors_sent: usize,
    held_back: usize,
    failed: usize,
}

impl<D: Device> ip::Recv<D> for Refuse {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        match packet.reject(ip::Reject::PortUnreachable) {
            Ok(true) => self.errors_sent += 1,
            Ok(false) => self.held_back += 1,
            Err(_) => self.failed += 1,
        }
    }
}

/// Frames that every layer must drop, built before the measurement.
fn malformed_frames() -> Vec<Vec<u8>> {
    let header = |ethertype: [u8; 2], len: usize| {
        let mut frame = vec![0u8; len];
        frame[..6].copy_from_slice(&MAC_B.0);
        frame[6..12].copy_from_slice(&MAC_A.0);
        frame[12..14].copy_from_slice(&ethertype);
        frame
    };
    let mut frames = Vec::new();
    // Shorter than an Ethernet header.
    frames.push(MAC_B.0[..5].to_vec());
    // A multicast source address.
    let mut bad_source = header([0x08, 0x00], 60);
    bad_source[6] = 0x01;
    frames.push(bad_source);
    // A VLAN tag.
    frames.push(header([0x81, 0x00], 64));
    // For another host.
    let mut other = header([0x08, 0x00], 60);
    other[5] = 0x77;
    frames.push(other);
    // IPv4: total length beyond the frame.
    let mut long = header([0x08, 0x00], 60);
    long[14] = 0x45;
    long[16..18].copy_from_slice(&400u16.to_be_bytes());
    frames.push(long);
    // IPv4: version 5.
    let mut version = header([0x08, 0x00], 60);
    version[14] = 0x55;
    frames.push(version);
    // IPv4: a valid header with one bit of its checksum flipped, carrying
    // an echo request.
    let mut checksum = header([0x08, 0x00], 14 + 20 + 8);
    let ip = ethox::wire::ipv4::Ipv4Repr {
        src: A4,
        dst: B4,
        protocol: IpProtocol::Icmp,
        payload_len: 8,
        ttl: 64,
        ..Default::default()
    };
    ip.emit(
        &mut ethox::wire::ipv4::Ipv4Packet::new_unchecked(&mut checksum[14..34]),
        ChecksumMode::Software,
    );
    checksum[24] ^= 0x01;
    frames.push(checksum);
    // ARP: hardware length 7.
    let mut arp = header([0x08, 0x06], 60);
    arp[14..22].copy_from_slice(&[0, 1, 8, 0, 7, 4, 0, 1]);
    frames.push(arp);
    // ARP: cut after 10 bytes.
    let mut short_arp = header([0x08, 0x06], 24);
    short_arp[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    frames.push(short_arp);
    // IPv6: payload length beyond the frame.
    let mut long6 = header([0x86, 0xdd], 14 + 40 + 8);
    long6[14] = 0x60;
    long6[18..20].copy_from_slice(&900u16.to_be_bytes());
    long6[20] = 58;
    long6[21] = 64;
    long6[22..38].copy_from_slice(&A6.octets());
    long6[38..54].copy_from_slice(&B6.octets());
    frames.push(long6);
    // IPv6: a hop-by-hop header that runs past the packet.
    let mut hbh = header([0x86, 0xdd], 14 + 40 + 8);
    hbh[14] = 0x60;
    hbh[18..20].copy_from_slice(&8u16.to_be_bytes());
    hbh[20] = 0; // hop-by-hop
    hbh[21] = 64;
    hbh[22..38].copy_from_slice(&A6.octets());
    hbh[38..54].copy_from_slice(&B6.octets());
    hbh[54] = 58;
    hbh[55] = 9; // (9 + 1) * 8 bytes, far more than the 8 there are
    frames.push(hbh);
    // ICMPv6 echo request with a wrong checksum.
    let mut bad_icmp6 = header([0x86, 0xdd], 14 + 40 + 8);
    bad_icmp6[14] = 0x60;
    bad_icmp6[18..20].copy_from_slice(&8u16.to_be_bytes());
    bad_icmp6[20] = 58;
    bad_icmp6[21] = 64;
    bad_icmp6[22..38].copy_from_slice(&A6.octets());
    bad_icmp6[38..54].copy_from_slice(&B6.octets());
    bad_icmp6[54] = 128;
    bad_icmp6[56..58].copy_from_slice(&[0xde, 0xad]);
    frames.push(bad_icmp6);
    // An unknown ethertype.
    frames.push(header([0x88, 0xb5], 60));
    frames
}

/// The captured fragments of a ping from 10.0.0.1 to 10.0.0.2 (three) and
/// from fd00::1 to fd00::2 (two), sent to B's MAC address.
fn captured_fragments() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut frames = Vec::new();
    for name in ["ipv4-frag.pcap", "ipv6-frag.pcap"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        for record in PcapReader::new(&bytes).unwrap() {
            let mut frame = record.unwrap().data.to_vec();
            let from_a = frame.get(26..30) == Some(&A4.octets()[..])
                || frame.get(22..38) == Some(&A6.octets()[..]);
            if from_a {
                frame[..6].copy_from_slice(&MAC_B.0);
                frames.push(frame);
            }
        }
    }
    assert_eq!(frames.len(), 5, "the fixtures changed");
    frames
}

/// Sum of the drop counters of B's layers.
fn drops(b: &Host) -> u64 {
    let e = b.eth.stats();
    let i = b.ip.stats();
    let c = b.icmp.stats();
    e.rx_truncated
        + e.rx_not_for_us
        + e.rx_bad_source
        + e.rx_tagged
        + i.rx_truncated
        + i.rx_bad_checksum
        + i.rx_malformed
        + i.rx_not_for_us
        + i.rx_unknown_ethertype
        + i.arp_malformed
        + i.rx_ext_header_dropped
        + c.rx_bad_checksum
        + c.rx_malformed
}

/// One round: A sends its plan, B answers, A reads the answers.
fn round(a: &mut Host, b: &mut Host, pinger: &mut Pinger, refuse: &mut Refuse) {
    a.send(&mut *pinger);
    MemoryLink::transfer(&mut a.nic, &mut b.nic);
    b.receive(&mut *refuse);
    MemoryLink::transfer(&mut b.nic, &mut a.nic);
    a.receive(&mut *pinger);
    // Anything A sent meanwhile is ignored here.
    while a.nic.drain_one(|_| ()).is_some() {}
}

#[test]
fn steady_state_traffic_allocates_nothing() {
    // The counter sees an allocation on this thread (so a zero below
    // means something).
    let (_, control) = measure(|| std::hint::black_box(vec![0u8; 64]));
    assert_eq!(control, 1, "the counting allocator is not wired in");

    // Set-up: everything allocated here.
    let mut a = Host::new(MAC_A, A4, A6);
    let mut b = Host::new(MAC_B, B4, B6);
    b.ip.set_reassembler(Reassembler::new(
        leak(vec![0u8; 4 * 4096]),
        leak(vec![ReassemblySlot::EMPTY; 4]),
        4096,
        ReassemblyConfig::default(),
    ));
    let fragments = captured_fragments();
    let mut pinger = Pinger::new();
    let mut refuse = Refuse::default();
    let malformed = malformed_frames();
    let t0 = Instant::from_secs(100);
    a.set_time(t0);
    b.set_time(t0);

    // Resolve both families before measuring.
    pinger.plan = Plan {
        echo4: Some(0),
        ..Plan::default()
    };
    a.send(&mut pinger);
    MemoryLink::transfer(&mut a.nic, &mut b.nic);
    b.receive(&mut refuse);
    MemoryLink::transfer(&mut b.nic, &mut a.nic);
    a.receive(&mut pinger);
    pinger.plan = Plan {
        echo6: Some(0),
        ..Plan::default()
    };
    a.send(&mut pinger);
    MemoryLink::transfer(&mut a.nic, &mut b.nic);
    b.receive(&mut refuse);
    MemoryLink::transfer(&mut b.nic, &mut a.nic);
    a.receive(&mut pinger);
    assert_eq!(a.ip.arp_cache().peek(B4), Some(MAC_B));
    assert_eq!(a.ip.ndisc_cache().peek(B6), Some(MAC_B));
    // Each family's first attempt waited for resolution (the ARP request
    // or solicitation took the buffer) and no ping went out yet.
    assert!(pinger.send_errors >= 2);
    assert_eq!(b.icmp.stats().echo_replies_sent, 0);
    pinger.send_errors = 0;

    let ip_a0 = a.ip.stats();
    let ip_b0 = b.ip.stats();
    let icmp_b0 = b.icmp.stats();
    let drops0 = drops(&b);

    let ((jump_ok, answered_malformed, injected), allocations) = measure(|| {
        let mut now = t0;
        let mut jump_ok = (false, false);
        let mut answered_malformed = 0usize;
        let mut injected = 0usize;
        for i in 0..PINGS {
            now += Duration::from_millis(2);
            if i == JUMP_AT {
                // Past the 60 s lifetime: the entries are stale, still used,
                // and revalidated with a request on the next buffer.
                now += Duration::from_secs(61);
            }
            a.set_time(now);
            b.set_time(now);
            let refuse_now = i % REFUSE_EVERY == 0;
            pinger.plan = Plan {
                echo4: Some(i as u16),
                echo6: Some(i as u16),
                probe4: refuse_now,
                probe6: refuse_now,
            };
            // At the jump the revalidation requests take buffers of their
            // own in the same pass, and their answers come back in it.
            round(&mut a, &mut b, &mut pinger, &mut refuse);
            if i == JUMP_AT {
                // The requests went out and the replies confirmed B again.
                jump_ok = (
                    a.ip.arp_cache().peek(B4) == Some(MAC_B),
                    a.ip.ndisc_cache().peek(B6) == Some(MAC_B),
                );
            }
            if i % 100 == 50 {
                // A few at a time: B's NIC has SLOTS buffers.
                for chunk in malformed.chunks(SLOTS / 2) {
                    for frame in chunk {
                        injected += usize::from(b.nic.inject(frame));
                    }
                    b.receive(&mut refuse);
                    // Nothing malformed may be answered.
                    while b.nic.drain_one(|_| ()).is_some() {
                        answered_malformed += 1;
                    }
                }
            }
            if i % 100 == 75 {
                // A fragmented ping of each family, reassembled; B answers
                // the one whose reply fits its buffers.
                for frame in &fragments {
                    b.nic.inject(frame);
                }
                b.receive(&mut refuse);
                while b.nic.drain_one(|_| ()).is_some() {}
            }
        }
        (jump_ok, answered_malformed, injected)
    });

    assert_eq!(allocations, 0, "the stack allocated in steady state");

    // What ran in the section really happened.
    assert_eq!(pinger.send_errors, 0);
    assert!(
        pinger.replies4.iter().all(|&n| n == 1),
        "every IPv4 ping answered once"
    );
    assert!(
        pinger.replies6.iter().all(|&n| n == 1),
        "every IPv6 ping answered once"
    );
    assert_eq!(pinger.bad_echo_data, 0);
    assert_eq!(pinger.other, 0);
    let refused = PINGS / REFUSE_EVERY;
    assert_eq!(
        (pinger.unreachable4, pinger.unreachable6),
        (refused, refused)
    );
    assert_eq!(
        (refuse.errors_sent, refuse.held_back, refuse.failed),
        (2 * refused, 0, 0)
    );
    let (ip_a, ip_b, icmp_b) = (a.ip.stats(), b.ip.stats(), b.icmp.stats());
    // Every ping, and the reassembled IPv6 ping (1300 bytes fit B's
    // buffers; the 3000-byte IPv4 one does not).
    let fragment_batches = (0..PINGS).filter(|i| i % 100 == 75).count() as u64;
    assert_eq!(
        ip_b.rx_reassembled - ip_b0.rx_reassembled,
        2 * fragment_batches
    );
    assert_eq!(
        icmp_b.echo_replies_sent - icmp_b0.echo_replies_sent,
        2 * PINGS as u64 + fragment_batches
    );
    assert_eq!(
        icmp_b.echo_reply_errors - icmp_b0.echo_reply_errors,
        fragment_batches
    );
    assert_eq!(
        ip_b.icmp_errors_sent - ip_b0.icmp_errors_sent,
        2 * refused as u64
    );
    // Revalidation after the lifetime: one ARP request, one neighbor
    // solicitation, both answered.
    assert_eq!(jump_ok, (true, true));
    assert_eq!(ip_a.arp_requests_sent - ip_a0.arp_requests_sent, 1);
    assert_eq!(
        ip_a.ndisc_solicitations_sent - ip_a0.ndisc_solicitations_sent,
        1
    );
    assert_eq!(ip_b.arp_replies_sent - ip_b0.arp_replies_sent, 1);
    assert_eq!(
        ip_b.ndisc_advertisements_sent - ip_b0.ndisc_advertisements_sent,
        1
    );
    // Ten batches of malformed frames, each one dropped, counted once,
    // and never answered.
    assert_eq!(answered_malformed, 0);
    let batches = (0..PINGS).filter(|i| i % 100 == 50).count();
    assert_eq!(injected, batches * malformed.len());
    assert_eq!(drops(&b) - drops0, injected as u64);
}

/// Bytes A streams to B over TCP in the measured section.
const TCP_BYTES: u64 = 1 << 20;
/// Each connection's send and receive ring.
const TCP_RING: usize = 64 * 1024;
/// B's TCP port.
const TCP_PORT: u16 = 5001;

/// Byte `position` of the stream A sends.
fn stream_byte(position: u64) -> u8 {
    (position as u8).wrapping_mul(31) ^ (position >> 11) as u8
}

/// One host's TCP application: rings over leaked storage, a counter of
/// what it wrote and read (read bytes compared with the stream), the
/// events it saw in fixed fields.
struct TcpApp {
    conn: Option<Handle>,
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static>,
    written: u64,
    read: u64,
    wrong_bytes: u64,
    established: bool,
    peer_closed: bool,
    closed: Option<CloseReason>,
}

impl TcpApp {
    fn new() -> TcpApp {
        TcpApp {
            conn: None,
            send: RingSendBuffer::new(leak(vec![0; TCP_RING])),
            recv: RingRecvBuffer::new(leak(vec![0; TCP_RING])),
            written: 0,
            read: 0,
            wrong_bytes: 0,
            established: false,
            peer_closed: false,
            closed: None,
        }
    }

    /// Writes the stream into the send ring, up to `TCP_BYTES`, through
    /// a stack buffer.
    fn write(&mut self) {
        let mut chunk = [0u8; 1024];
        while self.written < TCP_BYTES && self.send.free() > 0 {
            let n = (TCP_BYTES - self.written).min(chunk.len() as u64) as usize;
            for (i, byte) in chunk[..n].iter_mut().enumerate() {
                *byte = stream_byte(self.written + i as u64);
            }
            let taken = self.send.write(&chunk[..n]);
            self.written += taken as u64;
        }
    }

    /// Reads everything in order and compares it with the stream.
    fn read(&mut self) {
        let mut chunk = [0u8; 1024];
        loop {
            let n = self.recv.read(&mut chunk);
            if n == 0 {
                return;
            }
            for (i, &byte) in chunk[..n].iter().enumerate() {
                if byte != stream_byte(self.read + i as u64) {
                    self.wrong_bytes += 1;
                }
            }
            self.read += n as u64;
        }
    }
}

impl Io for TcpApp {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        if self.conn != Some(conn) {
            return None;
        }
        Some(Buffers {
            send: &mut self.send,
            recv: &mut self.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        match event {
            Event::Incoming if self.conn.is_none() => self.conn = Some(conn),
            _ if self.conn != Some(conn) => {}
            Event::Established => self.established = true,
            Event::PeerClosed => self.peer_closed = true,
            Event::Closed(reason) => self.closed = Some(reason),
            _ => {}
        }
    }
}

impl Host {
    /// Sends what TCP has to send; returns the frames.
    fn send_tcp(&mut self, app: &mut TcpApp) -> usize {
        self.nic
            .tx(SLOTS, self.eth.send(self.ip.send(self.tcp.send(app))))
            .unwrap_or(0)
    }

    /// Receives every waiting frame, TCP behind ICMP; returns the frames.
    fn receive_tcp(&mut self, app: &mut TcpApp) -> usize {
        let tcp = self.tcp.recv(app);
        self.nic
            .rx(SLOTS, self.eth.recv(self.ip.recv(self.icmp.recv(tcp))))
            .unwrap_or(0)
    }

    fn tcp_deadline(&self) -> Option<Instant> {
        [self.tcp.next_deadline(), self.ip.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// One TCP round: the applications write and read, A sends, B receives
/// and sends, A receives; with `lose_one`, the link loses A's first frame.
/// Returns the frames moved.
fn tcp_round(
    (a, b): (&mut Host, &mut Host),
    (client, server): (&mut TcpApp, &mut TcpApp),
    lose_one: bool,
) -> usize {
    client.write();
    let mut moved = a.send_tcp(client);
    if lose_one {
        a.nic.drain_one(|_| ());
    }
    MemoryLink::transfer(&mut a.nic, &mut b.nic);
    moved += b.receive_tcp(server);
    server.read();
    moved += b.send_tcp(server);
    MemoryLink::transfer(&mut b.nic, &mut a.nic);
    moved += a.receive_tcp(client);
    moved
}

#[test]
fn tcp_bulk_transfer_and_close_allocate_nothing() {
    let (_, control) = measure(|| std::hint::black_box(vec![0u8; 64]));
    assert_eq!(control, 1, "the counting allocator is not wired in");

    // Set-up: hosts, rings, the connection and its handshake.
    let mut a = Host::new(MAC_A, A4, A6);
    let mut b = Host::new(MAC_B, B4, B6);
    let (mut client, mut server) = (TcpApp::new(), TcpApp::new());
    let mut now = Instant::from_secs(100);
    a.set_time(now);
    b.set_time(now);
    b.tcp.listen(TCP_PORT, 1).unwrap();
    let handle = a
        .tcp
        .connect((IpAddr::V4(A4), 0), (IpAddr::V4(B4), TCP_PORT), now)
        .unwrap();
    client.conn = Some(handle);
    for _ in 0..4 {
        tcp_round((&mut a, &mut b), (&mut client, &mut server), false);
    }
    assert!(client.established && server.conn.is_some());
    assert_eq!(b.tcp.accept(TCP_PORT), server.conn);

    let (rounds, allocations) = measure(|| {
        let mut rounds = 0usize;
        let mut closing = (false, false);
        let mut retransmitted = 0;
        while client.closed.is_none() || server.closed.is_none() {
            rounds += 1;
            if rounds > 100_000 {
                break;
            }
            a.set_time(now);
            b.set_time(now);
            // One data segment is lost early on: SACK, retransmission.
            let lose_one = rounds == 5;
            let moved = tcp_round((&mut a, &mut b), (&mut client, &mut server), lose_one);
            if client.written == TCP_BYTES && !closing.0 {
                closing.0 = a.tcp.close(handle).is_ok();
            }
            if let (true, false, Some(conn)) = (server.peer_closed, closing.1, server.conn) {
                closing.1 = b.tcp.close(conn).is_ok();
            }
            if let Some(conn) = a.tcp.connection(handle) {
                retransmitted = conn.stats().retransmissions;
            }
            // Nothing moved: on to the next timer (a retransmission, a
            // delayed ACK, TIME-WAIT's end).
            let next = [a.tcp_deadline(), b.tcp_deadline()]
                .into_iter()
                .flatten()
                .filter(|&at| at > now)
                .min();
            now = match (moved, next) {
                (0, Some(at)) => at,
                _ => now + Duration::from_micros(10),
            };
        }
        (rounds, retransmitted)
    });
    let (rounds, retransmitted) = rounds;

    assert_eq!(allocations, 0, "TCP allocated in steady state");
    // What ran in the section really happened.
    assert!(rounds < 100_000, "the transfer did not finish");
    assert_eq!((client.written, server.read), (TCP_BYTES, TCP_BYTES));
    assert_eq!(server.wrong_bytes, 0);
    assert!(retransmitted >= 1, "the lost segment was sent again");
    assert_eq!(client.closed, Some(CloseReason::Normal));
    assert_eq!(server.closed, Some(CloseReason::Normal));
    assert!(a.tcp.is_empty() && b.tcp.is_empty());
    let stats = a.tcp.stats();
    assert_eq!((stats.opened, stats.closed), (1, 1));
    assert!(
        b.tcp.stats().rx_segments > TCP_BYTES / 1460,
        "the stream went in full segments"
    );
}

/// A DHCP server leasing A4 for 1000 s with the DNS server B4, and a DNS
/// server answering every A query with B4; both build their answers in
/// the frame, from state in fixed fields.
#[derive(Default)]
struct UdpServers {
    dhcp_owed: Option<(ethox::wire::dhcpv4::DhcpMessageType, u32, Ipv4Addr)>,
    /// The query to answer: its bytes, length and sender.
    dns_owed: Option<([u8; 300], usize, (IpAddr, u16))>,
}

impl ethox::layer::udp::Recv<Nic> for UdpServers {
    fn receive(&mut self, datagram: ethox::layer::udp::In<'_, '_, '_, Nic>) {
        use ethox::wire::dhcpv4::{DhcpMessageType, DhcpPacket, DhcpRepr};
        let payload = datagram.payload();
        if datagram.dst().1 == 53 {
            let mut query = [0u8; 300];
            if let Some(slot) = query.get_mut(..payload.len()) {
                slot.copy_from_slice(payload);
                self.dns_owed = Some((query, payload.len(), datagram.src()));
            }
            return;
        }
        let Ok(repr) = DhcpPacket::new_checked(payload).and_then(|p| DhcpRepr::parse(&p)) else {
            return;
        };
        let answer = match repr.message_type {
            DhcpMessageType::Discover => DhcpMessageType::Offer,
            DhcpMessageType::Request => DhcpMessageType::Ack,
            _ => return,
        };
        let to = if repr.client_ip.is_unspecified() {
            Ipv4Addr::BROADCAST
        } else {
            repr.client_ip
        };
        self.dhcp_owed = Some((answer, repr.transaction_id, to));
    }
}

impl ethox::layer::udp::Send<Nic> for UdpServers {
    fn send(&mut self, raw: ethox::layer::udp::Raw<'_, '_, '_, Nic>) {
        use ethox::layer::udp::Init;
        use ethox::wire::dhcpv4::{DhcpPacket, DhcpRepr, Ipv4List};
        use ethox::wire::dns::{Class, DnsHeader, DnsMessage, MessageWriter, RecordType};
        if let Some((kind, xid, to)) = self.dhcp_owed {
            let mut repr = DhcpRepr::new(kind, xid, MAC_A);
            repr.your_ip = A4;
            repr.server_identifier = Some(B4);
            repr.lease_duration = Some(1000);
            repr.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            repr.dns_servers = Ipv4List::new(&[[10, 0, 0, 2]]);
            let init = Init {
                src_port: 67,
                dst: (IpAddr::V4(to), 68),
                payload_len: repr.buffer_len(),
            };
            if let Ok(mut out) = raw.prepare(init) {
                let _ = repr.emit(&mut DhcpPacket::new_unchecked(out.payload_mut()));
                if out.send().is_ok() {
                    self.dhcp_owed = None;
                }
            }
            return;
        }
        let Some((query, len, (to, port))) = self.dns_owed else {
            return;
        };
        let Ok(message) = DnsMessage::parse(&query[..len]) else {
            self.dns_owed = None;
            return;
        };
        // Question copied back, one A record pointing at it: 16 bytes more.
        let init = Init {
            src_port: 53,
            dst: (to, port),
            payload_len: len + 16,
        };
        let Ok(mut out) = raw.prepare(init) else {
            return;
        };
        let id = message.header().id;
        let written = MessageWriter::new(out.payload_mut(), &DnsHeader::response(id)).and_then(
            |mut writer| {
                writer.question(&query[12..len - 4], RecordType::A, Class::In)?;
                writer.record(&[0xc0, 12], RecordType::A, Class::In, 60, &B4.octets())?;
                Ok(writer.finish())
            },
        );
        if written == Ok(len + 16) && out.send().is_ok() {
            self.dns_owed = None;
        }
    }
}

#[test]
fn dhcp_lease_renewal_and_dns_queries_allocate_nothing() {
    use ethox::layer::dhcp::{self, Client, State};
    use ethox::layer::dns::{QuerySlot, QueryType, Resolver};
    use ethox::layer::udp;

    /// Queries resolved in the measured section.
    const QUERIES: usize = 200;

    // Set-up: everything allocated here.
    let new_ip = || {
        ip::Endpoint::new(
            leak(vec![None; 2]),
            Routes::new(leak(vec![None; 2])),
            NeighborCache::new(leak(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
            NeighborCache::new(leak(vec![]), NeighborConfig::default()),
        )
    };
    let mut nic_a = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
    let mut nic_b = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
    let (mut eth_a, mut eth_b) = (eth::Endpoint::new(MAC_A), eth::Endpoint::new(MAC_B));
    let (mut ip_a, mut ip_b) = (new_ip(), new_ip());
    assert!(ip_b.add_addr(IpCidr::new(IpAddr::V4(B4), 24).unwrap()));
    let mut udp_a = udp::Endpoint::new(leak(vec![None; 4]), 1);
    let mut udp_b = udp::Endpoint::new(leak(vec![None; 4]), 2);
    udp_a.bind(dhcp::CLIENT_PORT).unwrap();
    udp_b.bind(dhcp::SERVER_PORT).unwrap();
    udp_b.bind(53).unwrap();
    let mut client = Client::new(MAC_A, 3, dhcp::Config::default());
    let mut resolver = Resolver::new(leak(vec![QuerySlot::EMPTY; 2]), 4);
    let mut servers = UdpServers::default();

    let ((bound, renewed, answers), allocations) = measure(|| {
        let mut now = Instant::from_secs(1);
        let mut bound = false;
        let mut renewed = false;
        let mut answers = 0;
        let mut query = None;
        let mut queries = 0;
        for _ in 0..(4 * QUERIES) {
            nic_a.set_time(now);
            nic_b.set_time(now);
            nic_a
                .tx(
                    SLOTS,
                    eth_a.send(ip_a.send(udp_a.send(client.and(&mut resolver)))),
                )
                .unwrap();
            MemoryLink::transfer(&mut nic_a, &mut nic_b);
            nic_b
                .rx(SLOTS, eth_b.recv(ip_b.recv(udp_b.recv(&mut servers))))
                .unwrap();
            nic_b
                .tx(SLOTS, eth_b.send(ip_b.send(udp_b.send(&mut servers))))
                .unwrap();
            MemoryLink::transfer(&mut nic_b, &mut nic_a);
            nic_a
                .rx(
                    SLOTS,
                    eth_a.recv(ip_a.recv(udp_a.recv(client.and(&mut resolver)))),
                )
                .unwrap();
            if let Ok(Some(dhcp::Event::Configured(lease))) = client.apply(&mut ip_a, now) {
                let mut addrs = [IpAddr::V4(Ipv4Addr::UNSPECIFIED); 3];
                for (slot, addr) in addrs.iter_mut().zip(lease.dns_servers()) {
                    *slot = IpAddr::V4(*addr);
                }
                resolver.set_servers(&addrs[..lease.dns_servers().len()]);
                bound = true;
            }
            if let Some(result) = query.and_then(|handle| resolver.take(handle, &mut udp_a)) {
                answers += usize::from(result.is_ok_and(|a| a.addrs() == [IpAddr::V4(B4)]));
                query = None;
            }
            if bound && query.is_none() && queries < QUERIES {
                query = resolver
                    .query(&mut udp_a, "name.example.test", QueryType::A, now)
                    .ok();
                queries += 1;
            }
            if renewed && client.state() == State::Bound {
                break;
            }
            if queries == QUERIES && query.is_none() && !renewed {
                // Jump to T1 and renew.
                now = client.next_deadline().unwrap_or(now);
                renewed = true;
                continue;
            }
            let next = [client.next_deadline(), resolver.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            now = now.max(next.unwrap_or(now));
        }
        (bound, renewed && client.state() == State::Bound, answers)
    });
    assert!(bound && renewed);
    assert_eq!(answers, QUERIES);
    assert_eq!(client.stats().rx_acks, 2);
    assert_eq!(resolver.stats().rx_answers, QUERIES as u64);
    assert_eq!(allocations, 0, "allocations during DHCP and DNS traffic");
}
