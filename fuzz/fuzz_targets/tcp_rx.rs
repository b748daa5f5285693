#![no_main]
//! Fuzz target: the TCP receive path through the whole stack. Each input
//! is a sequence of frames (two length bytes, one byte of time step, then
//! the frame) fed to a host with a TCP listener on port 80 (backlog 1, so
//! SYN cookies answer the second SYN), a listener on 443, and a
//! connection of its own in SYN-SENT to 10.0.0.1:5000. The application
//! echoes what it reads and closes when the peer does. The device claims
//! to have verified receive checksums, so the fuzzer's segments reach the
//! state machine; answers are checksummed in software and must parse.
use std::sync::Mutex;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::Config;
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, icmp, ip};
use ethox::managed::Slice;
use ethox::nic::memory::MemoryNic;
use ethox::nic::{Capabilities, ChecksumDuty, Device};
use ethox::time::Instant;
use ethox::wire::pretty::PrettyFrame;
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};
use libfuzzer_sys::fuzz_target;

const SLOTS: usize = 8;
const CONNECTIONS: usize = 4;
type Nic = MemoryNic<Vec<u8>, SLOTS>;

struct Host {
    nic: Nic,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'static>,
    icmp: icmp::Endpoint,
    tcp: tcp::Endpoint<'static>,
    app: App,
}

/// Owned storage, freed with the host after each input.
fn owned<T>(v: Vec<T>) -> Slice<'static, T> {
    Slice::from(v)
}

struct App {
    rings: Vec<(RingSendBuffer<'static>, RingRecvBuffer<'static, 2>)>,
}

impl App {
    fn new() -> App {
        let ring = || {
            (
                RingSendBuffer::new(vec![0u8; 2048]),
                RingRecvBuffer::with_gaps(vec![0u8; 2048]),
            )
        };
        App {
            rings: (0..CONNECTIONS).map(|_| ring()).collect(),
        }
    }
}

impl Io for App {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let (send, recv) = self.rings.get_mut(conn.index as usize)?;
        Some(Buffers { send, recv })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        let Some((send, recv)) = self.rings.get_mut(conn.index as usize) else {
            return;
        };
        match event {
            Event::Incoming => {
                *send = RingSendBuffer::new(vec![0u8; 2048]);
                *recv = RingRecvBuffer::with_gaps(vec![0u8; 2048]);
            }
            Event::Readable => {
                let mut chunk = [0u8; 512];
                let n = recv.read(&mut chunk);
                send.write(&chunk[..n]);
            }
            _ => {}
        }
    }
}

fn host() -> Host {
    let mac = EthernetAddress([2, 0, 0, 0, 0, 2]);
    let mut ip = ip::Endpoint::new(
        owned(vec![None; 4]),
        Routes::new(owned(vec![None; 4])),
        NeighborCache::new(owned(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
        NeighborCache::new(owned(vec![Neighbor::EMPTY; 4]), NeighborConfig::default()),
    );
    ip.add_addr(IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).unwrap());
    ip.add_addr(IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 64).unwrap());
    let mut tcp = tcp::Endpoint::new(
        owned(vec![Slot::empty(); CONNECTIONS]),
        owned(vec![Listener::EMPTY; 2]),
        Secrets::from_seed(7),
        Config::default(),
    );
    tcp.listen(80, 1).unwrap();
    tcp.listen(443, 2).unwrap();
    let now = Instant::from_secs(1);
    tcp.connect(
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000),
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 5000),
        now,
    )
    .unwrap();
    let mut nic = Nic::new(vec![0; SLOTS * 1514], 1514).unwrap();
    let verified = ChecksumDuty {
        rx: ChecksumMode::Offloaded,
        tx: ChecksumMode::Software,
    };
    nic.set_capabilities(Capabilities {
        ipv4: verified,
        udp: verified,
        tcp: verified,
        icmpv4: verified,
        icmpv6: verified,
        tcp_segmentation: false,
    });
    nic.set_time(now);
    Host {
        nic,
        eth: eth::Endpoint::new(mac),
        ip,
        icmp: icmp::Endpoint::new(),
        tcp,
        app: App::new(),
    }
}

static HOST: Mutex<Option<Host>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = HOST.lock().unwrap();
    // A fresh host per input keeps runs reproducible.
    *guard = Some(host());
    let h = guard.as_mut().unwrap();
    let mut rest = data;
    let mut now = Instant::from_secs(1);
    while let Some((head, tail)) = rest.split_first_chunk::<3>() {
        let len = usize::from(u16::from_le_bytes([head[0], head[1]])) % 1515;
        // Time moves by 0..=255 steps of 10 ms: timers fire too.
        now += core::time::Duration::from_millis(10 * u64::from(head[2]));
        let frame = &tail[..len.min(tail.len())];
        rest = &tail[frame.len()..];
        h.nic.set_time(now);
        h.nic.inject(frame);
        h.nic
            .rx(
                SLOTS,
                h.eth.recv(h.ip.recv(h.icmp.recv(h.tcp.recv(&mut h.app)))),
            )
            .unwrap();
        h.nic
            .tx(SLOTS, h.eth.send(h.ip.send(h.tcp.send(&mut h.app))))
            .unwrap();
        while let Some(line) = h.nic.drain_one(|f| PrettyFrame::new(f).to_string()) {
            for marker in [
                "[truncated",
                "[bad length",
                "[bad version",
                "[malformed",
                "[unsupported",
                "[bad option",
                "[bad checksum",
            ] {
                assert!(!line.contains(marker), "the host sent a bad frame: {line}");
            }
        }
    }
});
