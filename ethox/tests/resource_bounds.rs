//! Full tables, through the whole stack on the in-memory link: what the
//! host does when the caller's storage runs out, with live traffic that
//! must not suffer for it. Never a panic, never live state overwritten,
//! every refusal a clear error or a counted drop.
//!
//! * TCP: the listener's backlog bounds the half-open connections a SYN
//!   flood makes, SYN cookies answer the rest and bring legitimate
//!   clients in while the table has room; with the table full a valid
//!   cookie is a counted drop (and a RST), `connect` fails with
//!   [`TcpError::TableFull`]; the live connections' bytes arrive intact.
//!   Connections whose neighbor never answers time out and give their
//!   slots back.
//! * Neighbor cache: the documented policy holds under a flood of ARP
//!   requests and SYNs from strangers on the link: unsolicited entries
//!   only take free slots (refusals counted), a lookup evicts only an
//!   entry not in use (counted) and otherwise waits, so the neighbor of a
//!   live transfer stays known and requests stay within their rate.
//! * Reassembly: with every slot taken by fragments that never complete,
//!   the oldest incomplete datagram is evicted (counted) so that a whole
//!   datagram still gets through; a datagram straggling behind the flood
//!   is the one evicted.
//! * UDP: a full port table refuses `bind` and `bind_ephemeral` with
//!   [`UdpError::TableFull`] and keeps every bound port working.
//! * Routes: a full table refuses with [`RouteError::TableFull`] and keeps
//!   its routes; routes learned from router advertisements leave the
//!   table when their lifetime is over, so a new router is taken.

mod common;

// A shared harness: this file uses a part of it.
#[allow(dead_code)]
#[path = "common/udp_host.rs"]
mod udp_host;

use core::time::Duration;
use std::collections::BTreeMap;

use common::frames::{self, End};
use common::tcp_host::{A, B, B6, Conn, Host, Net, Sizes, mac, pattern};
use ethox::layer::reassembly::{Reassembler, ReassemblyConfig, ReassemblySlot};
use ethox::layer::route::{Route, RouteError};
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::layer::tcp::{Event, Handle, TcpError};
use ethox::layer::udp::{self, UdpError};
use ethox::nic::Device;
use ethox::wire::icmpv6::Icmpv6Repr;
use ethox::wire::ipv4::Ipv4Repr;
use ethox::wire::ndisc::{
    NdiscOption, NdiscOptions, NdiscRepr, PrefixInfo, PrefixInfoFlags, RouterFlags,
};
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, IpProtocol, Ipv4Addr, Ipv6Addr};

const PORT: u16 = 80;
/// One round of the tests that step time by hand.
const TICK: Duration = Duration::from_millis(1);

/// Stranger `n` on the link (`n` below 150): a MAC and an address of the
/// hosts' /24 that nobody answers for.
fn stranger(n: u8) -> End {
    End {
        mac: EthernetAddress([2, 0x66, 0, 0, 0, n]),
        ip: Ipv4Addr::new(10, 0, 0, 100 + n),
    }
}

/// Host B as the target of hand-built frames.
const TO_B: End = End {
    mac: EthernetAddress([2, 0, 0, 0, 0, 2]),
    ip: B,
};

/// A SYN from stranger `n` to B's `port`.
fn syn_from(n: u8, port: u16) -> Vec<u8> {
    let syn = TcpRepr {
        src_port: 40_000 + u16::from(n),
        dst_port: port,
        flags: TcpFlags::SYN,
        seq_number: SeqNumber(u32::from(n) * 100_000),
        window_len: 65_535,
        max_seg_size: Some(1460),
        ..TcpRepr::default()
    };
    frames::tcp_frame(stranger(n), TO_B, &syn, &[])
}

/// A on 10.0.0.1 and B on 10.0.0.2 with `config`; B has `connections`
/// slots and listens on [`PORT`] with `backlog`.
fn hosts(a: Sizes, connections: usize, backlog: usize, config: Config) -> Net {
    let b = Sizes { connections, ..a };
    let mut net = Net::with(
        Host::new(1, IpAddr::V4(A), a, config),
        Host::new(2, IpAddr::V4(B), b, config),
    );
    net.b.tcp.listen(PORT, backlog).unwrap();
    net
}

/// A round with time moving on by [`TICK`].
fn tick(net: &mut Net) -> usize {
    let moved = net.step();
    let now = net.now + TICK;
    net.set_time(now);
    moved
}

/// A client connection and B's end of it.
#[derive(Debug, Clone, Copy)]
struct Pair {
    client: Handle,
    server: Handle,
}

/// A dials `n` connections to B's [`PORT`] and runs until each is
/// established and accepted (some may come in through SYN cookies).
fn open(net: &mut Net, n: usize) -> Vec<Pair> {
    let clients: Vec<Handle> = (0..n)
        .map(|_| {
            let h = net.dial(PORT).expect("a slot");
            // Fresh buffers: the slot may have served an earlier client.
            let app = &mut net.a.app;
            app.conns[h.index as usize] = Conn::new(app.send, app.window);
            h
        })
        .collect();
    let mut servers = BTreeMap::new();
    for _ in 0..100 {
        tick(net);
        while let Some(h) = net.b.tcp.accept(PORT) {
            let port = net.b.tcp.tuple(h).unwrap().remote_port;
            servers.insert(port, h);
        }
        let ports: Vec<u16> = clients
            .iter()
            .map(|&c| net.a.tcp.tuple(c).unwrap().local_port)
            .collect();
        if ports.iter().all(|p| servers.contains_key(p)) {
            return clients
                .iter()
                .zip(ports)
                .map(|(&client, port)| Pair {
                    client,
                    server: servers[&port],
                })
                .collect();
        }
    }
    panic!("{n} connections not all accepted");
}

/// Queues `len` bytes each way on `p` (patterns seeded by `seed`).
fn load(net: &mut Net, p: Pair, len: usize, seed: u8) {
    net.a.app.write(p.client, &pattern(len, seed));
    net.b
        .app
        .write(p.server, &pattern(len, seed.wrapping_add(1)));
}

/// Whether `p` delivered `len` bytes each way, and checks they are the
/// ones [`load`] queued.
fn delivered(net: &Net, p: Pair, len: usize, seed: u8) -> bool {
    let (up, down) = (net.b.app.received(p.server), net.a.app.received(p.client));
    if up.len() < len || down.len() < len {
        return false;
    }
    assert!(up == &pattern(len, seed)[..], "upload differs");
    assert!(
        down == &pattern(len, seed.wrapping_add(1))[..],
        "download differs"
    );
    true
}

/// Closes `pairs` from both ends and runs until they are gone (through
/// TIME-WAIT): each must end normally on both hosts.
fn close_all(net: &mut Net, pairs: &[Pair]) {
    for p in pairs {
        net.a.tcp.close(p.client).unwrap();
        net.b.tcp.close(p.server).unwrap();
    }
    let gone = |net: &Net, p: &Pair| {
        net.a.tcp.state(p.client) == State::Closed && net.b.tcp.state(p.server) == State::Closed
    };
    for _ in 0..100_000 {
        if pairs.iter().all(|p| gone(net, p)) {
            break;
        }
        if net.step() == 0 {
            let now = net.now;
            let next = [net.a.deadline_after(now), net.b.deadline_after(now)];
            // Nothing moves and no timer is left: done, or never.
            let Some(at) = next.into_iter().flatten().min() else {
                break;
            };
            net.set_time(at);
        }
    }
    for p in pairs {
        assert!(net.a.app.saw(p.client, Event::Closed(CloseReason::Normal)));
        assert!(net.b.app.saw(p.server, Event::Closed(CloseReason::Normal)));
    }
}

/// B has 8 connection slots and a backlog of 2. With 4 live transfers, a
/// flood of 100 SYNs from strangers makes 2 half-open connections (the
/// backlog) and 98 SYN cookies; 2 more real clients get in through their
/// cookies during the flood, filling the table; a third's valid cookie
/// then finds the table full: a counted drop, and a RST that tells the
/// client. `connect` on the full table fails with `TableFull`. Every
/// live transfer completes byte-identical and closes normally: the
/// half-open connections wait for neighbors that never answer, and their
/// SYN-ACKs must not hold up everything else B sends.
#[test]
fn tcp_table_and_backlog_bounds() {
    let sizes = Sizes {
        connections: 16,
        send: 16 * 1024,
        window: 16 * 1024,
    };
    let mut net = hosts(sizes, 8, 2, Config::default());
    let len = 128 * 1024;
    let mut live = open(&mut net, 4);
    for (i, &p) in live.iter().enumerate() {
        load(&mut net, p, len, 10 * i as u8);
    }

    // The flood, 20 SYNs a round while the transfers run. (The four
    // clients' own SYNs came at once: two of them came in by cookie.)
    let before = net.b.tcp.stats();
    for round in 0..5u8 {
        for n in 0..20 {
            assert!(net.b.nic.inject(&syn_from(round * 20 + n, PORT)));
        }
        tick(&mut net);
    }
    let half_open = |net: &Net| {
        net.b
            .tcp
            .connections()
            .filter(|(_, _, c)| c.state() == State::SynReceived)
            .count()
    };
    let stats = net.b.tcp.stats();
    assert_eq!(half_open(&net), 2, "the backlog bounds the half-open");
    assert_eq!(net.b.tcp.len(), 6);
    assert_eq!(
        stats.syn_cookies_sent - before.syn_cookies_sent,
        98,
        "{stats:?}"
    );

    // Two real clients during the flood: in through their cookies.
    for (i, p) in open(&mut net, 2).into_iter().enumerate() {
        load(&mut net, p, len, 100 + 10 * i as u8);
        live.push(p);
    }
    let stats = net.b.tcp.stats();
    assert_eq!(
        stats.syn_cookies_accepted - before.syn_cookies_accepted,
        2,
        "{stats:?}"
    );
    assert_eq!(net.b.tcp.len(), 8, "the table is full");

    // A full table: B cannot open one, and a valid cookie is dropped.
    let refused = net
        .b
        .tcp
        .connect((IpAddr::V4(B), 0), (IpAddr::V4(A), 9), net.now);
    assert_eq!(refused, Err(TcpError::TableFull));
    assert!(TcpError::TableFull.to_string().contains("full"));
    let late = net.dial(PORT).unwrap();
    for _ in 0..10 {
        tick(&mut net);
    }
    let stats = net.b.tcp.stats();
    assert_eq!(stats.rx_syn_dropped, 1, "{stats:?}");
    assert_eq!(net.a.tcp.state(late), State::Closed);
    assert!(net.a.app.saw(late, Event::Closed(CloseReason::Reset)));
    assert_eq!(net.b.tcp.len(), 8);

    // The live transfers were never disturbed.
    let seeds: Vec<u8> = (0..4).map(|i| 10 * i).chain([100, 110]).collect();
    for _ in 0..20_000 {
        if live
            .iter()
            .zip(&seeds)
            .all(|(&p, &seed)| delivered(&net, p, len, seed))
        {
            break;
        }
        tick(&mut net);
    }
    for (&p, &seed) in live.iter().zip(&seeds) {
        assert!(
            delivered(&net, p, len, seed),
            "{p:?} did not finish: {} up, {} down; client {:?}; server {:?}; B's ARP {:?}; {:?}",
            net.b.app.received(p.server).len(),
            net.a.app.received(p.client).len(),
            net.a
                .tcp
                .connection(p.client)
                .map(|c| (c.state(), c.stats())),
            net.b
                .tcp
                .connection(p.server)
                .map(|c| (c.state(), c.stats())),
            net.b.ip.arp_cache().iter().collect::<Vec<_>>(),
            net.b.ip.arp_cache().stats(),
        );
        assert_eq!(net.b.tcp.state(p.server), State::Established);
    }
    close_all(&mut net, &live);
    eprintln!("B: {:?}", net.b.tcp.stats());
}

/// Runs `net` (only host A if `cut`, its frames going nowhere) until
/// `done` holds, jumping to the next deadline whenever nothing moves; at
/// most `limit` of simulated time.
fn run_until(net: &mut Net, cut: bool, limit: Duration, done: impl Fn(&Net) -> bool) {
    let end = net.now + limit;
    while !done(net) {
        assert!(net.now < end, "not done after {limit:?}");
        let moved = if cut {
            net.a.app.pump();
            let moved = net.a.send() + net.a.receive();
            while net.a.nic.drain_one(|_| ()).is_some() {}
            moved
        } else {
            net.step()
        };
        if moved == 0 {
            let now = net.now;
            let next = [net.a.deadline_after(now), net.b.deadline_after(now)];
            match next.into_iter().flatten().min() {
                Some(at) => net.set_time(at),
                None => assert!(done(net), "idle with no timer before done"),
            }
        }
    }
}

/// Connections whose next hop never resolves end as if their peer never
/// answered, and give their slots back: half-open connections made by
/// SYNs from strangers time out after the SYN-ACK retries (the backlog is
/// whole again: the next stranger makes a half-open connection, not a
/// cookie), so does one made by a SYN from an address B has no route to,
/// a `connect` to a silent address on the link times out after the SYN
/// retries, and an established connection whose peer left the link times
/// out after the user timeout.
#[test]
fn unresolvable_neighbors_do_not_hold_connections_forever() {
    let mut config = Config::default();
    config.user_timeout = Some(Duration::from_secs(30));
    let mut net = hosts(Sizes::default(), Sizes::default().connections, 2, config);
    let pair = open(&mut net, 1)[0];
    for n in 0..3 {
        assert!(net.b.nic.inject(&syn_from(n, PORT)));
    }
    tick(&mut net);
    assert_eq!(net.b.tcp.len(), 3, "two half-open beside the live one");
    assert_eq!(net.b.tcp.stats().syn_cookies_sent, 1);
    run_until(&mut net, false, Duration::from_secs(600), |net| {
        net.b.tcp.len() == 1
    });
    let stats = net.b.tcp.stats();
    assert_eq!(stats.closed, 2, "{stats:?}");
    let timed_out = net
        .b
        .app
        .events
        .iter()
        .filter(|(_, e)| *e == Event::Closed(CloseReason::TimedOut))
        .count();
    assert_eq!(timed_out, 2);
    assert!(net.b.nic.inject(&syn_from(9, PORT)));
    tick(&mut net);
    assert_eq!(net.b.tcp.len(), 2, "the backlog has room again");
    assert_eq!(net.b.tcp.stats().syn_cookies_sent, 1);

    // A SYN from an address B has no route to (a spoofed source off the
    // link): the same.
    let off_link = End {
        mac: mac(1),
        ip: Ipv4Addr::new(192, 0, 2, 7),
    };
    let syn = TcpRepr {
        src_port: 4242,
        dst_port: PORT,
        flags: TcpFlags::SYN,
        seq_number: SeqNumber(7),
        window_len: 1000,
        ..TcpRepr::default()
    };
    assert!(
        net.b
            .nic
            .inject(&frames::tcp_frame(off_link, TO_B, &syn, &[]))
    );
    tick(&mut net);
    assert_eq!(net.b.tcp.len(), 3);
    run_until(&mut net, false, Duration::from_secs(600), |net| {
        net.b.tcp.len() == 1
    });
    assert!(net.b.tcp.stats().tx_errors > 0, "no route: counted");

    // A silent address on the link.
    let silent = net
        .a
        .tcp
        .connect(
            (IpAddr::V4(A), 0),
            (IpAddr::V4(stranger(50).ip), PORT),
            net.now,
        )
        .unwrap();
    run_until(&mut net, false, Duration::from_secs(600), |net| {
        net.a.tcp.state(silent) == State::Closed
    });
    assert!(net.a.app.saw(silent, Event::Closed(CloseReason::TimedOut)));

    // B leaves the link. After a quiet while A has data for it, but its
    // ARP entry for B is stale and gets no answer: the data never goes
    // out, and the user timeout ends the connection.
    let later = net.now + Duration::from_secs(100);
    net.set_time(later);
    net.a.app.write(pair.client, &pattern(64 * 1024, 1));
    run_until(&mut net, true, Duration::from_secs(600), |net| {
        net.a.tcp.state(pair.client) == State::Closed
    });
    assert!(
        net.a
            .app
            .saw(pair.client, Event::Closed(CloseReason::TimedOut))
    );
    assert!(net.a.tcp.is_empty());
    assert_eq!(net.a.ip.arp_cache().peek(B), None, "B was forgotten");
}

/// What [`arp_and_syn_flood`] saw.
struct FloodRun {
    net: Net,
    pair: Pair,
    /// The round the transfer completed in.
    done: usize,
    /// Rounds of the transfer in which B's cache did not know A.
    missing: usize,
}

/// Runs a 1 MiB transfer each way between A and B for 3000 rounds of
/// [`TICK`], and with `flood` strangers put two frames on the link each
/// round: an ARP request for B from one of 40 addresses, and a SYN from
/// one of 40 others to a listener with room for half-open connections
/// (whose SYN-ACKs need lookups). B's ARP cache has 4 entries.
fn arp_and_syn_flood(flood: bool) -> FloodRun {
    let sizes = Sizes {
        connections: 8,
        send: 16 * 1024,
        window: 16 * 1024,
    };
    let mut net = hosts(sizes, 8, 16, Config::default());
    let pair = open(&mut net, 1)[0];
    let len = 1 << 20;
    load(&mut net, pair, len, 7);
    let (mut missing, mut done) = (0, None);
    for round in 0..3000 {
        let n = (round % 40) as u8;
        if flood {
            assert!(net.b.nic.inject(&frames::arp_request(stranger(n), B)));
            assert!(net.b.nic.inject(&syn_from(40 + n, PORT)));
        }
        tick(&mut net);
        if done.is_none() && delivered(&net, pair, len, 7) {
            done = Some(round);
        }
        if done.is_none() && net.b.ip.arp_cache().peek(A) != Some(mac(1)) {
            missing += 1;
        }
    }
    FloodRun {
        net,
        pair,
        done: done.expect("the transfer did not finish"),
        missing,
    }
}

/// B's ARP cache has 4 entries, one of them A's, which a live transfer
/// uses all the time. For three seconds strangers flood the link: ARP
/// requests for B (RFC 826 merges a requester only if it takes a free
/// slot; the refusals are counted), and SYNs whose SYN-ACKs need lookups.
/// The documented policy: a lookup evicts only an entry not in use
/// (unused, or unanswered, for a request interval), counted, and
/// otherwise waits. A's entry stays known as long as the transfer runs
/// (once it is over, the entry is idle and may go), B asks about each
/// address at most once a second (the cache's slots bound the requests),
/// and the transfer completes byte-identical.
#[test]
fn neighbor_cache_full_keeps_the_neighbor_in_use() {
    let mut run = arp_and_syn_flood(true);
    let stats = run.net.b.ip.arp_cache().stats();
    eprintln!(
        "transfer done in round {}; B's ARP cache {stats:?}",
        run.done
    );
    assert_eq!(
        run.missing, 0,
        "A's entry was missing in {} rounds",
        run.missing
    );
    assert!(stats.fill_refused > 0, "{stats:?}");
    assert!(stats.evictions > 0, "{stats:?}");
    let seconds = (3000 * TICK.as_millis() as u64).div_ceil(1000);
    assert!(stats.requests <= 4 * (seconds + 1), "{stats:?}");
    close_all(&mut run.net, &[run.pair]);
}

/// The same flood does not slow the transfer much: B's half-open
/// connections wait for neighbors that never answer, and each of their
/// tries leaves a transmit buffer unqueued (which ends the device's
/// batch); they must come after the connections that can send, or with
/// seven of them B sends in one round out of eight. Rounds are simulated
/// time, so this is deterministic.
#[test]
fn a_flood_of_half_open_connections_keeps_the_pace_of_a_transfer() {
    let quiet = arp_and_syn_flood(false).done;
    let flooded = arp_and_syn_flood(true).done;
    eprintln!("1 MiB each way: {quiet} rounds, {flooded} with the flood");
    assert!(
        flooded * 2 <= quiet * 3,
        "{flooded} rounds, {quiet} without the flood"
    );
}

/// B as a UDP host with a reassembler of two slots, bound to port 7,
/// and what it delivered on its ports.
struct UdpTarget {
    host: udp_host::Host,
    got: Payloads,
}

/// The payloads of the datagrams delivered.
#[derive(Default)]
struct Payloads(Vec<Vec<u8>>);

impl<D: Device> udp::Recv<D> for Payloads {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        self.0.push(datagram.payload().to_vec());
    }
}

impl UdpTarget {
    fn new() -> UdpTarget {
        let mut host = udp_host::Host::new(2, Some(B));
        let slots = 2;
        host.ip.set_reassembler(Reassembler::new(
            vec![0u8; slots * 1500],
            vec![ReassemblySlot::EMPTY; slots],
            1500,
            ReassemblyConfig::default(),
        ));
        host.udp.bind(7).unwrap();
        UdpTarget {
            host,
            got: Payloads::default(),
        }
    }

    /// Puts `frames` into B's receive queue and lets B take them.
    fn feed(&mut self, frames: &[Vec<u8>]) {
        for frame in frames {
            assert!(self.host.nic.inject(frame), "B's queue is full");
        }
        self.host.receive(&mut self.got);
    }

    fn stats(&self) -> ethox::layer::reassembly::ReassemblyStats {
        self.host.ip.reassembler().expect("a reassembler").stats()
    }
}

/// The fragments of a UDP datagram of `len` payload bytes (a pattern
/// seeded by `seed`) from `src` to B's port 7, IPv4 ident `ident`, cut
/// into pieces of `piece` bytes.
fn fragments(src: End, ident: u16, len: usize, seed: u8, piece: usize) -> Vec<Vec<u8>> {
    let datagram = frames::udp_datagram((src.ip, 5000), (B, 7), &pattern(len, seed));
    datagram
        .chunks(piece)
        .enumerate()
        .map(|(i, chunk)| {
            let offset = i * piece;
            let ip = Ipv4Repr {
                src: src.ip,
                dst: B,
                protocol: IpProtocol::Udp,
                ident,
                more_frags: offset + chunk.len() < datagram.len(),
                frag_offset: offset as u16,
                ..Ipv4Repr::default()
            };
            frames::ipv4_frame(src.mac, TO_B.mac, ip, chunk)
        })
        .collect()
}

/// Reassembly with every slot taken by datagrams that never complete
/// (first fragments of strangers, three a round): the documented policy
/// evicts the oldest incomplete datagram, counted, so a datagram whose
/// fragments arrive together still gets through every round; a datagram
/// whose last fragment comes after two (the slot count) newer
/// datagrams started is the one evicted, and never delivered. Nothing
/// else is disturbed and nothing panics.
#[test]
fn reassembly_slots_full_evict_the_oldest() {
    let mut b = UdpTarget::new();
    let client = End { mac: mac(1), ip: A };
    let rounds = 20u16;
    for round in 0..rounds {
        let mut batch: Vec<Vec<u8>> = (0..3)
            .map(|k| {
                let n = (round * 3 + k) as u8;
                fragments(stranger(n), 1000 + n as u16, 1000, n, 512).remove(0)
            })
            .collect();
        batch.extend(fragments(client, round, 1000, round as u8, 504));
        b.feed(&batch);
    }
    assert_eq!(
        b.got.0.len(),
        rounds as usize,
        "every whole datagram came through"
    );
    for (round, payload) in b.got.0.iter().enumerate() {
        assert!(
            payload == &pattern(1000, round as u8),
            "datagram {round} differs"
        );
    }
    let stats = b.stats();
    assert_eq!(stats.completed, u64::from(rounds));
    assert!(stats.evicted >= 3 * u64::from(rounds) - 2, "{stats:?}");

    // A straggler: its second half comes after two newer datagrams.
    let late = fragments(client, 500, 1000, 99, 504);
    b.feed(&late[..1]);
    let flood: Vec<Vec<u8>> = (0..2)
        .map(|k| fragments(stranger(100 + k), 2000 + k as u16, 1000, k, 512).remove(0))
        .collect();
    b.feed(&flood);
    b.feed(&late[1..]);
    assert_eq!(b.got.0.len(), rounds as usize, "the straggler was evicted");
    let after = b.stats();
    assert_eq!(after.evicted, stats.evicted + 3, "{after:?}");
    assert_eq!(after.completed, stats.completed);
    eprintln!("{after:?}");
}

/// A full UDP port table: `bind` and `bind_ephemeral` fail with
/// `TableFull` (and a message that says so), every bound port keeps
/// receiving, and freeing a slot makes room again.
#[test]
fn udp_port_table_full_refuses_and_keeps_its_ports() {
    let mut b = UdpTarget::new();
    // The host has eight slots; port 7 took one.
    for port in 1000..1007 {
        b.host.udp.bind(port).unwrap();
    }
    assert_eq!(b.host.udp.bind(2000), Err(UdpError::TableFull));
    assert_eq!(b.host.udp.bind_ephemeral(), Err(UdpError::TableFull));
    assert_eq!(UdpError::TableFull.to_string(), "port table full");
    assert_eq!(b.host.udp.bound_ports().count(), 8);
    let to = |port: u16, seed: u8| {
        let datagram = frames::udp_datagram((A, 5000), (B, port), &pattern(100, seed));
        let ip = Ipv4Repr {
            src: A,
            dst: B,
            protocol: IpProtocol::Udp,
            ..Ipv4Repr::default()
        };
        frames::ipv4_frame(mac(1), TO_B.mac, ip, &datagram)
    };
    b.feed(&[to(7, 1), to(1003, 2), to(2000, 3)]);
    assert_eq!(b.got.0, vec![pattern(100, 1), pattern(100, 2)]);
    let stats = b.host.udp.stats();
    assert_eq!(stats.rx_no_port + stats.rx_no_port_silent, 1, "{stats:?}");
    assert!(b.host.udp.unbind(1003));
    b.host.udp.bind(2000).unwrap();
    b.feed(&[to(2000, 4)]);
    assert_eq!(b.got.0.last(), Some(&pattern(100, 4)));
}

/// A full route table refuses a new route with `TableFull` (and a message
/// that says so) and keeps every route it has.
#[test]
fn route_table_full_refuses_and_keeps_its_routes() {
    let mut b = UdpTarget::new();
    let routes = b.host.ip.routes_mut();
    let net = |third: u8| IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 1, third, 0)), 24).unwrap();
    let gateway = Ipv4Addr::new(10, 0, 0, 1);
    for third in 0..routes.capacity() as u8 {
        routes
            .add(Route::via(net(third), IpAddr::V4(gateway)))
            .unwrap();
    }
    let before: Vec<Route> = routes.iter().copied().collect();
    let refused = routes.add(Route::default_v4(gateway));
    assert_eq!(refused, Err(RouteError::TableFull));
    assert_eq!(RouteError::TableFull.to_string(), "route table full");
    assert!(routes.iter().copied().eq(before));
}

/// A router advertisement from router `n` (link-local fe80::`n`, MAC
/// 02:77:00:00:00:`n`) to B, a default router for `lifetime` seconds,
/// with the on-link prefix fd0`n`::/64 valid as long.
fn router_advert(n: u8, lifetime: u16) -> Vec<u8> {
    let router = (
        EthernetAddress([2, 0x77, 0, 0, 0, n]),
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)),
    );
    let b = (mac(2), ethox::wire::ipv6::link_local_from_mac(mac(2)));
    let prefix = NdiscOption::PrefixInfo(PrefixInfo {
        prefix_len: 64,
        flags: PrefixInfoFlags::ON_LINK,
        valid_lifetime: u32::from(lifetime),
        preferred_lifetime: u32::from(lifetime),
        prefix: Ipv6Addr::new(0xfd00 + u16::from(n), 0, 0, 0, 0, 0, 0, 0),
    });
    let options = [NdiscOption::SourceLinkLayerAddr(router.0), prefix];
    let advert = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: RouterFlags::empty(),
        router_lifetime: lifetime,
        reachable_time: 0,
        retrans_time: 0,
        options: NdiscOptions::from_list(&options),
    });
    frames::icmpv6_frame(router, b, &advert)
}

/// Routes learned from router advertisements fill B's table (two slots)
/// and a second router's are refused while they last; when their
/// lifetime is over they leave the table at B's next poll (its deadline
/// moves on instead of staying in the past, where an event loop sleeping
/// until it would spin), and the second router's next advertisement is
/// taken: B has a default route again.
#[test]
fn expired_learned_routes_give_their_slots_back() {
    let mut b = Host::new(2, IpAddr::V6(B6), Sizes::default(), Config::default());
    let far = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let feed = |b: &mut Host, frame: &[u8]| {
        assert!(b.nic.inject(frame));
        b.receive();
        b.send();
        while b.nic.drain_one(|_| ()).is_some() {}
    };
    feed(&mut b, &router_advert(1, 30));
    assert_eq!(
        b.ip.routes().len(),
        2,
        "{:?}",
        b.ip.routes().iter().collect::<Vec<_>>()
    );
    feed(&mut b, &router_advert(2, 1800));
    let via = |b: &Host, now| b.ip.routes().lookup(far, now).and_then(|hop| hop.gateway);
    let router = |n: u16| Some(IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)));
    assert_eq!(via(&b, b.nic.time()), router(1), "the table was full");

    // Router 1 is gone; its routes lapse.
    let later = b.nic.time() + Duration::from_secs(60);
    b.nic.set_time(later);
    b.send();
    b.receive();
    while b.nic.drain_one(|_| ()).is_some() {}
    assert_eq!(via(&b, later), None);
    assert!(
        b.deadline().is_none_or(|at| at > later),
        "a deadline in the past: {:?} at {later}",
        b.deadline()
    );
    assert_eq!(b.ip.routes().len(), 0);
    feed(&mut b, &router_advert(2, 1800));
    assert_eq!(via(&b, later), router(2));
}

/// A server that closes first keeps each finished connection in
/// TIME-WAIT for a minute. With its table full of them, a new client
/// still gets in: the TIME-WAIT connection nearest its end gives its slot
/// (counted; its application hears it closed normally), whether the SYN
/// found room in the backlog or came back as a cookie. Only TIME-WAIT
/// makes room: `connect` on the full table still fails, as does a client
/// once every slot holds a live connection.
#[test]
fn time_wait_connections_make_room_for_new_clients() {
    let sizes = Sizes {
        connections: 8,
        send: 4096,
        window: 4096,
    };
    let mut net = hosts(sizes, 4, 8, Config::default());
    let mut first = None;
    for round in 0..4 {
        let pair = open(&mut net, 1)[0];
        first.get_or_insert(pair);
        load(&mut net, pair, 1000, round);
        for _ in 0..10 {
            tick(&mut net);
        }
        net.b.tcp.close(pair.server).unwrap();
        for _ in 0..10 {
            tick(&mut net);
        }
        net.a.tcp.close(pair.client).unwrap();
        for _ in 0..10 {
            tick(&mut net);
        }
        assert_eq!(net.b.tcp.state(pair.server), State::TimeWait);
    }
    assert_eq!(net.b.tcp.len(), 4, "full of TIME-WAIT");
    assert!(net.a.tcp.is_empty());

    // Two new clients at once: one SYN finds room in the backlog, the
    // other (with the backlog set to one) comes back with a cookie.
    net.b.tcp.unlisten(PORT);
    net.b.tcp.listen(PORT, 1).unwrap();
    let fresh = open(&mut net, 2);
    let stats = net.b.tcp.stats();
    assert_eq!(stats.time_wait_reused, 2, "{stats:?}");
    assert_eq!(stats.syn_cookies_accepted, 1, "{stats:?}");
    let first = first.unwrap();
    assert!(
        net.b
            .app
            .saw(first.server, Event::Closed(CloseReason::Normal))
    );
    assert_eq!(
        net.b
            .tcp
            .connect((IpAddr::V4(B), 0), (IpAddr::V4(A), 9), net.now),
        Err(TcpError::TableFull)
    );
    for (i, &p) in fresh.iter().enumerate() {
        load(&mut net, p, 1000, 50 + i as u8);
    }
    for _ in 0..20 {
        tick(&mut net);
    }
    for (i, &p) in fresh.iter().enumerate() {
        assert!(delivered(&net, p, 1000, 50 + i as u8));
    }

    // With live connections in every slot, nothing makes room.
    let extra = open(&mut net, 2);
    assert_eq!(net.b.tcp.len(), 4);
    let late = net.dial(PORT).unwrap();
    for _ in 0..20 {
        tick(&mut net);
    }
    assert_eq!(net.a.tcp.state(late), State::Closed);
    assert!(net.b.tcp.stats().rx_syn_dropped > 0);
    close_all(&mut net, &[fresh[0], fresh[1], extra[0], extra[1]]);
}
