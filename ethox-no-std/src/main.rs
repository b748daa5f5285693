//! ethox without std, alloc or libc: a freestanding Linux x86-64 program
//! that runs two hosts on ethox's in-memory link and moves 512 KiB over
//! TCP from A to B, checking every byte and a checksum of the stream.
//!
//! It proves what ethox promises for unikernels and embedded targets:
//! the core stack (`default-features = false`) builds and works with
//! nothing but `core`, storage handed in as arrays on the stack, and time
//! from the caller. The exit status says how it went (0: every byte
//! arrived and the checksums match), so CI can run it.
//!
//! Build and run: `ethox-no-std/run.sh` (see the README there).

#![no_std]
#![no_main]

mod rt;

use core::fmt::{self, Write};
use core::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::{Config, State};
use ethox::layer::tcp::{self, Buffers, Event, Handle, Io, Listener, Secrets, Slot};
use ethox::layer::{eth, ip};
use ethox::nic::Device;
use ethox::nic::memory::{MemoryLink, MemoryNic};
use ethox::time::Instant;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

/// Bytes moved from A to B.
const TOTAL: usize = 512 * 1024;
/// Frame buffers per NIC.
const FRAMES: usize = 32;
/// The largest Ethernet frame (an IP MTU of 1500).
const FRAME_LEN: usize = 1514;
/// Each side's send and receive ring.
const RING: usize = 64 * 1024;
/// Link rounds at most before the transfer counts as stalled.
const MAX_ROUNDS: usize = 100_000;

/// Exit statuses.
const OK: i32 = 0;
const WRONG_DATA: i32 = 1;
const STALLED: i32 = 2;
const SETUP: i32 = 3;
const PANIC: i32 = 101;

/// Byte `pos` of the stream: depends on the position, so a byte out of
/// place shows.
fn stream_byte(pos: usize) -> u8 {
    (pos as u8).wrapping_mul(31) ^ (pos >> 8) as u8 ^ (pos >> 16) as u8
}

/// FNV-1a, 64 bits: a running checksum of a stream.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    const NEW: Fnv = Fnv(0xcbf2_9ce4_8422_2325);
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// One host's application: the buffers of its one connection and what
/// it heard.
struct App<'a> {
    send: RingSendBuffer<'a>,
    recv: RingRecvBuffer<'a>,
    established: bool,
    peer_closed: bool,
    closed: bool,
}

impl Io for App<'_> {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        (conn.index == 0).then_some(Buffers {
            send: &mut self.send,
            recv: &mut self.recv,
        })
    }

    fn event(&mut self, _: Handle, event: Event) {
        match event {
            Event::Established => self.established = true,
            Event::PeerClosed => self.peer_closed = true,
            Event::Closed(_) => self.closed = true,
            _ => {}
        }
    }
}

/// The storage of one host, all of it caller-provided arrays.
struct Storage {
    frames: [u8; FRAMES * FRAME_LEN],
    addrs: [Option<IpCidr>; 2],
    routes: [Option<ethox::layer::route::Route>; 2],
    arp: [Neighbor<Ipv4Addr>; 4],
    ndisc: [Neighbor<ethox::wire::Ipv6Addr>; 1],
    connections: [Slot<tcp::Entry>; 1],
    listeners: [Listener; 1],
    send: [u8; RING],
    recv: [u8; RING],
}

impl Storage {
    fn new() -> Storage {
        Storage {
            frames: [0; FRAMES * FRAME_LEN],
            addrs: [None; 2],
            routes: [None; 2],
            arp: [Neighbor::EMPTY; 4],
            ndisc: [Neighbor::EMPTY; 1],
            connections: [const { Slot::empty() }; 1],
            listeners: [Listener::EMPTY; 1],
            send: [0; RING],
            recv: [0; RING],
        }
    }
}

/// One host: its NIC, layers and application.
struct Host<'a> {
    nic: MemoryNic<&'a mut [u8], FRAMES>,
    eth: eth::Endpoint,
    ip: ip::Endpoint<'a>,
    tcp: tcp::Endpoint<'a>,
    app: App<'a>,
}

impl<'a> Host<'a> {
    /// Host number `n`: MAC 02:00:00:00:00:0n, address 10.0.0.n/24.
    fn new(n: u8, storage: &'a mut Storage) -> Option<Host<'a>> {
        let config = NeighborConfig::default();
        let mut ip = ip::Endpoint::new(
            &mut storage.addrs,
            Routes::new(&mut storage.routes),
            NeighborCache::new(&mut storage.arp, config),
            NeighborCache::new(&mut storage.ndisc, config),
        );
        if !ip.add_addr(IpCidr::new(IpAddr::V4(addr(n)), 24).ok()?) {
            return None;
        }
        Some(Host {
            nic: MemoryNic::new(&mut storage.frames[..], FRAME_LEN).ok()?,
            eth: eth::Endpoint::new(EthernetAddress([2, 0, 0, 0, 0, n])),
            ip,
            tcp: tcp::Endpoint::new(
                &mut storage.connections,
                &mut storage.listeners,
                Secrets::from_seed(u64::from(n)),
                Config::default(),
            ),
            app: App {
                send: RingSendBuffer::new(&mut storage.send),
                recv: RingRecvBuffer::new(&mut storage.recv),
                established: false,
                peer_closed: false,
                closed: false,
            },
        })
    }

    /// Sends what the host has; returns how many frames.
    fn send(&mut self) -> usize {
        self.nic
            .tx(
                FRAMES,
                self.eth.send(self.ip.send(self.tcp.send(&mut self.app))),
            )
            .unwrap_or(0)
    }

    /// Receives what arrived; returns how many frames.
    fn receive(&mut self) -> usize {
        self.nic
            .rx(
                FRAMES,
                self.eth.recv(self.ip.recv(self.tcp.recv(&mut self.app))),
            )
            .unwrap_or(0)
    }

    fn deadline(&self) -> Option<Instant> {
        [self.tcp.next_deadline(), self.ip.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }
}

fn addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// Formats into a fixed buffer (no allocation); what does not fit is cut.
struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Prints one line to standard output.
fn say(args: fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; 256],
        len: 0,
    };
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    rt::write_stdout(&line.buf[..line.len]);
}

/// A panic (there should be none) ends the program with status 101.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    say(format_args!("ethox-no-std: panic: {info}"));
    rt::exit(PANIC)
}

/// The transfer; returns the exit status.
pub fn run() -> i32 {
    let mut storage_a = Storage::new();
    let mut storage_b = Storage::new();
    let (Some(mut a), Some(mut b)) = (Host::new(1, &mut storage_a), Host::new(2, &mut storage_b))
    else {
        say(format_args!("ethox-no-std: set-up failed"));
        return SETUP;
    };
    let mut now = Instant::from_secs(1);
    a.nic.set_time(now);
    b.nic.set_time(now);
    if b.tcp.listen(80, 1).is_err() {
        return SETUP;
    }
    let Ok(client) = a
        .tcp
        .connect((IpAddr::V4(addr(1)), 0), (IpAddr::V4(addr(2)), 80), now)
    else {
        say(format_args!("ethox-no-std: connect failed"));
        return SETUP;
    };

    let (mut written, mut read) = (0usize, 0usize);
    let (mut sent_sum, mut read_sum) = (Fnv::NEW, Fnv::NEW);
    let mut chunk = [0u8; 4096];
    let mut closing = false;
    for round in 0..MAX_ROUNDS {
        // A writes as much of the stream as its ring takes.
        while written < TOTAL {
            let n = chunk.len().min(TOTAL - written);
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = stream_byte(written + i);
            }
            let taken = a.app.send.write(&chunk[..n]);
            sent_sum.add(&chunk[..taken]);
            written += taken;
            if taken < n {
                break;
            }
        }
        if written == TOTAL && !closing {
            closing = a.tcp.close(client).is_ok();
        }
        // B reads and checks everything that arrived.
        loop {
            let n = b.app.recv.read(&mut chunk);
            if n == 0 {
                break;
            }
            for (i, &byte) in chunk[..n].iter().enumerate() {
                if byte != stream_byte(read + i) {
                    say(format_args!(
                        "ethox-no-std: wrong byte at offset {} of the stream",
                        read + i
                    ));
                    return WRONG_DATA;
                }
            }
            read_sum.add(&chunk[..n]);
            read += n;
        }
        b.tcp.accept(80);
        if read == TOTAL && b.app.peer_closed {
            if read_sum.0 != sent_sum.0 {
                say(format_args!("ethox-no-std: checksums differ"));
                return WRONG_DATA;
            }
            say(format_args!(
                "ethox-no-std: {TOTAL} bytes A to B in {round} rounds, {} ms simulated, \
                 checksum {:016x} ok (A {}, B established {})",
                now.saturating_duration_since(Instant::from_secs(1))
                    .as_millis(),
                read_sum.0,
                a.tcp.state(client),
                b.app.established,
            ));
            return OK;
        }

        let mut moved = a.send();
        moved += MemoryLink::transfer(&mut a.nic, &mut b.nic);
        moved += b.receive();
        moved += b.send();
        moved += MemoryLink::transfer(&mut b.nic, &mut a.nic);
        moved += a.receive();
        if moved == 0 {
            // Nothing moves: time jumps to the next deadline.
            let next = [a.deadline(), b.deadline()].into_iter().flatten().min();
            now = match next {
                Some(at) if at > now => at,
                _ => now + Duration::from_millis(1),
            };
            a.nic.set_time(now);
            b.nic.set_time(now);
        }
        if a.tcp.state(client) == State::Closed && read < TOTAL {
            say(format_args!(
                "ethox-no-std: A's connection closed after {read} bytes"
            ));
            return STALLED;
        }
    }
    say(format_args!(
        "ethox-no-std: stalled after {read} of {TOTAL} bytes"
    ));
    STALLED
}
