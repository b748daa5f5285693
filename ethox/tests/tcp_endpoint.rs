//! The TCP endpoint through the whole stack on the in-memory link: RSTs
//! for segments that reach no connection (RFC 9293 3.10.7.1), listener
//! backlogs and SYN cookies (RFC 4987), a full connection table, accept
//! order, IPv6, and a table of many connections.
//!
//! Host A is either another ethox TCP endpoint or a raw segment sender
//! ([`RawPeer`]) that puts hand-built segments on the wire and records
//! what comes back.

mod common;

use core::time::Duration;
use std::collections::VecDeque;

use common::tcp_host::{A, A6, B, B6, Host, Net, Sizes, pattern};
use ethox::layer::ip;
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::layer::tcp::{Event, Handle, TcpError};
use ethox::nic::Device;
use ethox::nic::memory::MemoryLink;
use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpPacket, TcpRepr};
use ethox::wire::{ChecksumMode, IpAddr, IpProtocol};

/// Sends queued segments to `dst` and records the TCP segments that
/// arrive, with their payloads.
struct RawPeer {
    dst: IpAddr,
    queue: VecDeque<(TcpRepr, Vec<u8>)>,
    got: Vec<(TcpRepr, Vec<u8>)>,
}

impl RawPeer {
    fn new(dst: IpAddr) -> RawPeer {
        RawPeer {
            dst,
            queue: VecDeque::new(),
            got: Vec::new(),
        }
    }

    /// Queues a segment from port 5000 to `port` (payload: a pattern of
    /// `repr.payload_len` bytes).
    fn push(&mut self, port: u16, mut repr: TcpRepr) {
        repr.src_port = 5000;
        repr.dst_port = port;
        let payload = pattern(repr.payload_len, 9);
        self.queue.push_back((repr, payload));
    }
}

impl<D: Device> ip::Send<D> for RawPeer {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        let Some((repr, payload)) = self.queue.front() else {
            return;
        };
        let header_len = repr.buffer_len();
        let init = ip::Init {
            src: None,
            dst: self.dst,
            protocol: IpProtocol::Tcp,
            payload_len: header_len + payload.len(),
        };
        let Ok(mut out) = raw.prepare(init) else {
            // Waiting for ARP.
            return;
        };
        let (src, dst) = (out.repr().src(), out.repr().dst());
        let bytes = out.payload_mut();
        bytes[header_len..].copy_from_slice(payload);
        repr.emit(
            &mut TcpPacket::new_unchecked(bytes),
            src,
            dst,
            ChecksumMode::Software,
        )
        .unwrap();
        out.send().unwrap();
        self.queue.pop_front();
    }
}

impl<D: Device> ip::Recv<D> for RawPeer {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let ip_repr = packet.repr();
        if ip_repr.protocol() != IpProtocol::Tcp {
            return;
        }
        let tcp = TcpPacket::new_unchecked(packet.payload());
        let repr = TcpRepr::parse(&tcp, ip_repr.src(), ip_repr.dst(), ChecksumMode::Software)
            .expect("a well-formed segment");
        let start = tcp.header_len();
        let payload = packet.payload()[start..start + repr.payload_len].to_vec();
        self.got.push((repr, payload));
    }
}

/// Host A as a raw peer, host B a TCP endpoint.
fn raw_net() -> (Net, RawPeer) {
    (Net::new(Config::default()), RawPeer::new(IpAddr::V4(B)))
}

/// Carries frames between the raw peer on A and B's TCP endpoint until
/// nothing moves; returns the segments A received meanwhile.
fn exchange(net: &mut Net, raw: &mut RawPeer) -> Vec<TcpRepr> {
    let before = raw.got.len();
    for _ in 0..20 {
        let mut moved = net.a.send_with(&mut *raw);
        MemoryLink::transfer(&mut net.a.nic, &mut net.b.nic);
        moved += net.b.receive();
        moved += net.b.send();
        MemoryLink::transfer(&mut net.b.nic, &mut net.a.nic);
        moved += net.a.receive_with(&mut *raw);
        if moved == 0 && raw.queue.is_empty() {
            break;
        }
    }
    raw.got[before..].iter().map(|(r, _)| *r).collect()
}

fn segment(flags: TcpFlags, seq: u32, ack: Option<u32>, len: usize) -> TcpRepr {
    TcpRepr {
        flags,
        seq_number: SeqNumber(seq),
        ack_number: ack.map(SeqNumber),
        window_len: 1000,
        payload_len: len,
        ..TcpRepr::default()
    }
}

// ----------------------------------------------------------------------
// RFC 9293 3.10.7.1: segments for no connection
// ----------------------------------------------------------------------

#[test]
fn rfc9293_closed_port_segment_with_ack_gets_rst_seq_ack() {
    let (mut net, mut raw) = raw_net();
    raw.push(81, segment(TcpFlags::empty(), 1000, Some(5000), 10));
    let got = exchange(&mut net, &mut raw);
    assert_eq!(got.len(), 1);
    // <SEQ=SEG.ACK><CTL=RST>
    let rst = got[0];
    assert_eq!(rst.flags & !TcpFlags::PSH, TcpFlags::RST);
    assert_eq!(rst.seq_number, SeqNumber(5000));
    assert_eq!(rst.ack_number, None);
    assert_eq!((rst.src_port, rst.dst_port), (81, 5000));
    assert_eq!(rst.payload_len, 0);
    let stats = net.b.tcp.stats();
    assert_eq!((stats.rx_no_connection, stats.tx_resets), (1, 1));
}

#[test]
fn rfc9293_closed_port_segment_without_ack_gets_rst_ack() {
    let (mut net, mut raw) = raw_net();
    // A SYN: SEG.LEN 1.
    raw.push(81, segment(TcpFlags::SYN, 1000, None, 0));
    // Data and FIN without ACK: SEG.LEN 10 + 1.
    raw.push(82, segment(TcpFlags::FIN, 0xffff_fffa, None, 10));
    let got = exchange(&mut net, &mut raw);
    assert_eq!(got.len(), 2);
    // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    assert_eq!(got[0].flags, TcpFlags::RST);
    assert_eq!(got[0].seq_number, SeqNumber(0));
    assert_eq!(got[0].ack_number, Some(SeqNumber(1001)));
    assert_eq!(got[0].src_port, 81);
    assert_eq!(got[1].flags, TcpFlags::RST);
    assert_eq!(got[1].seq_number, SeqNumber(0));
    assert_eq!(got[1].ack_number, Some(SeqNumber(5)), "wraps around");
    assert_eq!(got[1].src_port, 82);
}

#[test]
fn rfc9293_no_rst_answers_a_rst() {
    let (mut net, mut raw) = raw_net();
    raw.push(81, segment(TcpFlags::RST, 1000, None, 0));
    raw.push(81, segment(TcpFlags::RST, 1000, Some(5000), 0));
    // A listening port, too: a RST there finds no connection either.
    net.b.tcp.listen(80, 4).unwrap();
    raw.push(80, segment(TcpFlags::RST, 7, Some(8), 0));
    let got = exchange(&mut net, &mut raw);
    assert!(got.is_empty(), "{got:?}");
    let stats = net.b.tcp.stats();
    assert_eq!(stats.rx_no_connection, 3);
    assert_eq!(stats.tx_resets, 0);
}

#[test]
fn rfc9293_ack_to_a_listener_gets_rst() {
    let (mut net, mut raw) = raw_net();
    net.b.tcp.listen(80, 4).unwrap();
    raw.push(80, segment(TcpFlags::empty(), 1000, Some(77_777), 0));
    let got = exchange(&mut net, &mut raw);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].flags, TcpFlags::RST);
    assert_eq!(got[0].seq_number, SeqNumber(77_777));
    assert!(net.b.tcp.is_empty());
}

// ----------------------------------------------------------------------
// Listeners: backlog, SYN cookies (RFC 4987), accept order
// ----------------------------------------------------------------------

#[test]
fn listener_backlog_full_answers_with_cookies_and_both_connect() {
    let mut net = Net::new(Config::default());
    net.b.tcp.listen(80, 1).unwrap();
    let first = net.dial(80).unwrap();
    let second = net.dial(80).unwrap();
    net.run(100, Duration::from_secs(5));
    assert_eq!(net.a.tcp.state(first), State::Established);
    assert_eq!(net.a.tcp.state(second), State::Established);
    let stats = net.b.tcp.stats();
    assert_eq!(
        stats.syn_cookies_sent, 1,
        "the second SYN found the backlog full"
    );
    assert_eq!(stats.syn_cookies_accepted, 1);
    assert_eq!(net.b.tcp.len(), 2);
    let s1 = net.b.tcp.accept(80).unwrap();
    let s2 = net.b.tcp.accept(80).unwrap();
    assert_eq!(net.b.tcp.accept(80), None);
    // Both carry data.
    for (client, server, seed) in [(first, s1, 1u8), (second, s2, 2)] {
        let port = net.a.tcp.tuple(client).unwrap().local_port;
        let server = if net.b.tcp.tuple(server).unwrap().remote_port == port {
            server
        } else if server == s1 {
            s2
        } else {
            s1
        };
        let data = pattern(30_000, seed);
        net.a.app.write(client, &data);
        net.run(1000, Duration::from_secs(1));
        assert!(net.b.app.received(server) == data.as_slice());
    }
}

#[test]
fn syn_cookie_forged_ack_gets_rst() {
    let (mut net, mut raw) = raw_net();
    net.b.tcp.listen(80, 0).unwrap();
    let mut syn = segment(TcpFlags::SYN, 1000, None, 0);
    syn.max_seg_size = Some(1300);
    raw.push(80, syn);
    let got = exchange(&mut net, &mut raw);
    assert_eq!(got.len(), 1);
    let syn_ack = got[0];
    assert!(syn_ack.flags.contains(TcpFlags::SYN));
    assert_eq!(syn_ack.ack_number, Some(SeqNumber(1001)));
    assert_eq!(net.b.tcp.stats().syn_cookies_sent, 1);
    assert!(net.b.tcp.is_empty(), "no state for a cookie");
    let cookie = syn_ack.seq_number;
    // Forged: a wrong cookie, or the right one from another sequence number.
    for (seq, ack) in [
        (1001u32, cookie + 2u32),
        (1001, cookie),
        (2001, cookie + 1u32),
    ] {
        raw.push(80, segment(TcpFlags::empty(), seq, Some(ack.0), 0));
        let got = exchange(&mut net, &mut raw);
        assert_eq!(got.len(), 1, "ack {ack}");
        assert_eq!(got[0].flags, TcpFlags::RST);
        assert_eq!(got[0].seq_number, ack);
    }
    assert_eq!(net.b.tcp.stats().syn_cookies_rejected, 3);
    assert!(net.b.tcp.is_empty());
    // The right one makes the connection, with the MSS the cookie kept.
    raw.push(
        80,
        segment(TcpFlags::empty(), 1001, Some((cookie + 1u32).0), 0),
    );
    let got = exchange(&mut net, &mut raw);
    assert!(
        got.iter()
            .all(|r| r.flags.is_empty() && r.ack_number == Some(SeqNumber(1001))),
        "no RST, at most a window update: {got:?}"
    );
    let stats = net.b.tcp.stats();
    assert_eq!(stats.syn_cookies_accepted, 1);
    let server = net.b.tcp.accept(80).expect("the cookie's connection");
    assert_eq!(net.b.tcp.state(server), State::Established);
    let mss = net.b.tcp.connection(server).unwrap().stats().mss;
    // The largest MSS of the cookie's table not above 1300.
    assert_eq!(mss, 1280);
}

#[test]
fn accept_order_is_fifo() {
    let mut net = Net::new(Config::default());
    net.b.tcp.listen(80, 8).unwrap();
    // Three connections come and two go on B's side, so that table slots
    // are reused out of order.
    let mut early = Vec::new();
    for _ in 0..3 {
        net.dial(80).unwrap();
        net.run(100, Duration::from_secs(1));
        early.push(net.b.tcp.accept(80).unwrap());
    }
    net.b.tcp.abort(early[1]).unwrap();
    net.b.tcp.abort(early[0]).unwrap();
    net.run(100, Duration::from_secs(1));
    assert_eq!(net.b.tcp.len(), 1);
    let mut ports = Vec::new();
    for _ in 0..3 {
        let client = net.dial(80).unwrap();
        ports.push(net.a.tcp.tuple(client).unwrap().local_port);
        net.run(100, Duration::from_secs(1));
        net.set_time(net.now + Duration::from_millis(10));
    }
    let accepted: Vec<u16> = (0..3)
        .map(|_| {
            let h = net.b.tcp.accept(80).unwrap();
            net.b.tcp.tuple(h).unwrap().remote_port
        })
        .collect();
    assert_eq!(accepted, ports);
    assert_eq!(net.b.tcp.accept(80), None);
    let slots: Vec<u32> = net.b.tcp.connections().map(|(h, _, _)| h.index).collect();
    assert_eq!(slots.len(), 4);
}

// ----------------------------------------------------------------------
// The connection table
// ----------------------------------------------------------------------

#[test]
fn table_full_connect_fails() {
    let sizes = Sizes {
        connections: 2,
        ..Sizes::default()
    };
    let mut net = Net::with(
        Host::new(1, IpAddr::V4(A), sizes, Config::default()),
        Host::new(2, IpAddr::V4(B), Sizes::default(), Config::default()),
    );
    net.b.tcp.listen(80, 8).unwrap();
    let now = net.now;
    let local = (IpAddr::V4(A), 0);
    let remote = (IpAddr::V4(B), 80);
    let first = net.a.tcp.connect(local, remote, now).unwrap();
    net.a.tcp.connect(local, remote, now).unwrap();
    assert_eq!(
        net.a.tcp.connect(local, remote, now),
        Err(TcpError::TableFull)
    );
    // A slot freed is a slot to use again.
    net.run(100, Duration::from_secs(1));
    net.a.tcp.abort(first).unwrap();
    net.run(100, Duration::from_secs(1));
    assert!(net.a.app.saw(first, Event::Closed(CloseReason::Aborted)));
    let third = net.a.tcp.connect(local, remote, now).unwrap();
    net.run(100, Duration::from_secs(1));
    assert_eq!(net.a.tcp.state(third), State::Established);
    assert_eq!(
        net.a.tcp.state(first),
        State::Closed,
        "the old handle is dead"
    );
}

#[test]
fn many_connections_on_one_table() {
    const N: usize = 200;
    let sizes = Sizes {
        connections: N,
        send: 4096,
        window: 4096,
    };
    let mut net = Net::with(
        Host::new(1, IpAddr::V4(A), sizes, Config::default()),
        Host::new(2, IpAddr::V4(B), sizes, Config::default()),
    );
    net.b.tcp.listen(80, N).unwrap();
    let clients: Vec<Handle> = (0..N).map(|_| net.dial(80).unwrap()).collect();
    net.run(10_000, Duration::from_secs(5));
    assert_eq!(net.b.tcp.stats().syn_cookies_sent, 0);
    let servers: Vec<Handle> = (0..N).map(|_| net.b.tcp.accept(80).unwrap()).collect();
    assert_eq!(net.b.tcp.len(), N);
    // Each client sends its own bytes and closes; each server answers.
    for (i, &c) in clients.iter().enumerate() {
        net.a.app.write(c, &pattern(1000 + i, i as u8));
        net.a.tcp.close(c).unwrap();
    }
    for (i, &s) in servers.iter().enumerate() {
        net.b.app.write(s, &pattern(300, i as u8 ^ 0x55));
    }
    net.run(100_000, Duration::from_secs(1));
    for (j, &s) in servers.iter().enumerate() {
        let port = net.b.tcp.tuple(s).unwrap().remote_port;
        let i = clients
            .iter()
            .position(|&c| net.a.tcp.tuple(c).unwrap().local_port == port)
            .unwrap();
        assert!(net.b.app.received(s) == pattern(1000 + i, i as u8).as_slice());
        assert!(net.a.app.received(clients[i]) == pattern(300, j as u8 ^ 0x55).as_slice());
        assert_eq!(net.b.tcp.state(s), State::CloseWait);
    }
    for &s in &servers {
        net.b.tcp.close(s).unwrap();
    }
    net.run(100_000, Duration::from_secs(120));
    assert!(net.a.tcp.is_empty() && net.b.tcp.is_empty());
    assert_eq!(net.b.tcp.stats().closed, N as u64);
}

// ----------------------------------------------------------------------
// IPv6
// ----------------------------------------------------------------------

#[test]
fn ipv6_connection_over_the_link() {
    let mut net = Net::with(
        Host::new(1, IpAddr::V6(A6), Sizes::default(), Config::default()),
        Host::new(2, IpAddr::V6(B6), Sizes::default(), Config::default()),
    );
    let (client, server) = net.connect(4);
    let tuple = net.b.tcp.tuple(server).unwrap();
    assert_eq!(tuple.remote, IpAddr::V6(A6));
    assert_eq!(tuple.local, IpAddr::V6(B6));
    let up = pattern(300_000, 7);
    let down = pattern(100_000, 8);
    net.a.app.write(client, &up);
    net.b.app.write(server, &down);
    net.a.tcp.close(client).unwrap();
    net.run(10_000, Duration::from_secs(1));
    assert!(net.b.app.received(server) == up.as_slice());
    assert!(net.a.app.received(client) == down.as_slice());
    net.b.tcp.close(server).unwrap();
    net.run(10_000, Duration::from_secs(120));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Normal)));
    assert!(net.b.app.saw(server, Event::Closed(CloseReason::Normal)));
    assert!(net.a.ip.stats().ndisc_solicitations_sent >= 1);
    assert_eq!(net.a.tcp.stats().tx_errors, 0);
    assert_eq!(net.b.tcp.stats().tx_errors, 0);
}

#[test]
fn ipv6_mss_leaves_room_for_the_longer_header() {
    let mut net = Net::with(
        Host::new(1, IpAddr::V6(A6), Sizes::default(), Config::default()),
        Host::new(2, IpAddr::V6(B6), Sizes::default(), Config::default()),
    );
    let (client, server) = net.connect(4);
    // 1500 bytes less 40 of IPv6 and 20 of TCP (RFC 8200 5, RFC 6691).
    assert_eq!(net.a.tcp.connection(client).unwrap().stats().mss, 1440);
    assert_eq!(net.b.tcp.connection(server).unwrap().stats().mss, 1440);
    // And through a SYN cookie too.
    net.b.tcp.unlisten(80);
    net.b.tcp.listen(80, 0).unwrap();
    let cookie_client = net.dial(80).unwrap();
    net.run(100, Duration::from_secs(5));
    assert_eq!(net.b.tcp.stats().syn_cookies_accepted, 1);
    let cookie_server = net.b.tcp.accept(80).unwrap();
    assert_eq!(net.a.tcp.state(cookie_client), State::Established);
    assert!(net.b.tcp.connection(cookie_server).unwrap().stats().mss <= 1440);
}

#[test]
fn ipv6_closed_port_gets_rst() {
    let mut net = Net::with(
        Host::new(1, IpAddr::V6(A6), Sizes::default(), Config::default()),
        Host::new(2, IpAddr::V6(B6), Sizes::default(), Config::default()),
    );
    let client = net.dial(81).unwrap();
    net.run(100, Duration::from_secs(5));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Refused)));
    assert_eq!(net.b.tcp.stats().tx_resets, 1);
}
