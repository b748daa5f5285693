//! Two hosts on the in-memory link, with explicit time, talking TCP
//! through the whole stack: handshakes through listeners, transfers,
//! closes, resets for closed ports, SYN cookies when the backlog is full.

mod common;

use core::time::Duration;

use common::tcp_host::{Net, pattern};
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::layer::tcp::{Event, Handle};

/// A connects to B's port 80 and the handshake completes.
fn connected(config: Config) -> (Net, Handle, Handle) {
    let mut net = Net::new(config);
    let (client, server) = net.connect(4);
    (net, client, server)
}

#[test]
fn connect_accept_transfer_close() {
    let (mut net, client, server) = connected(Config::default());
    let up = pattern(1_000_000, 1);
    let down = pattern(300_000, 2);
    net.a.app.write(client, &up);
    net.b.app.write(server, &down);
    net.a.tcp.close(client).unwrap();
    net.run(10_000, Duration::from_secs(1));
    assert_eq!(net.b.app.received(server).len(), up.len());
    assert!(net.b.app.received(server) == up.as_slice());
    assert!(net.a.app.received(client) == down.as_slice());
    assert_eq!(net.b.tcp.state(server), State::CloseWait);
    assert!(net.b.app.saw(server, Event::PeerClosed));
    net.b.tcp.close(server).unwrap();
    net.run(10_000, Duration::from_secs(120));
    assert!(net.b.app.saw(server, Event::Closed(CloseReason::Normal)));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Normal)));
    assert!(net.a.tcp.is_empty() && net.b.tcp.is_empty());
    let stats = net.a.tcp.stats();
    assert_eq!((stats.opened, stats.closed), (1, 1));
}

#[test]
fn closed_port_answers_reset() {
    let mut net = Net::new(Config::default());
    let client = net.dial(81).unwrap();
    net.run(100, Duration::from_secs(5));
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::Refused)));
    assert_eq!(net.b.tcp.stats().rx_no_connection, 1);
    assert_eq!(net.b.tcp.stats().tx_resets, 1);
}

#[test]
fn full_backlog_answers_with_syn_cookies() {
    let mut net = Net::new(Config::default());
    net.b.tcp.listen(80, 0).unwrap();
    let client = net.dial(80).unwrap();
    net.run(100, Duration::from_secs(5));
    assert_eq!(net.a.tcp.state(client), State::Established);
    let stats = net.b.tcp.stats();
    assert_eq!(stats.syn_cookies_sent, 1);
    assert_eq!(stats.syn_cookies_accepted, 1);
    let server = net.b.tcp.accept(80).expect("the cookie made a connection");
    // Options survived in the cookie: timestamps carried SACK and scaling.
    let (sack, ts, scale, _) = net.b.tcp.connection(server).unwrap().negotiated();
    assert!(sack && ts && scale.is_some());
    let data = pattern(200_000, 3);
    net.a.app.write(client, &data);
    net.run(10_000, Duration::from_secs(1));
    assert!(net.b.app.received(server) == data.as_slice());
}
