//! The `client` example against the Linux stack: socat listens in the
//! namespace, the client connects from ethox over IPv4 or IPv6, and every
//! line socat sends must come back reversed.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{PEER4, PEER6, Peer, can_run};

const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// socat listening on `listen` sends `input` (then closes its side) to
/// the client started with `args`; what socat received and the client's
/// output.
fn exchange(
    peer: &Peer,
    listen: &str,
    port: u16,
    input: &[u8],
    args: &[&str],
) -> (String, Vec<String>) {
    let mut socat = peer.spawn_tool("socat", &["-T", "10", listen, "STDIO"]);
    peer.wait_listening(port);
    let mut stdin = socat.child.stdin.take().expect("piped");
    stdin.write_all(input).expect("socat stdin");
    drop(stdin);
    let client = peer.start(CLIENT, args);
    let (code, output) = client.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "client:\n{}", output.join("\n"));
    let status = socat.wait(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "socat: {status:?} {}",
        socat.stderr()
    );
    let mut received = String::new();
    socat
        .child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut received)
        .expect("socat stdout");
    (received, output)
}

#[test]
fn reverses_what_socat_sends_v4() {
    if !can_run(&["ip", "socat", "ss"]) {
        return;
    }
    let peer = Peer::new("client4");
    let port = "7000";
    let (received, output) = exchange(
        &peer,
        "TCP4-LISTEN:7000,reuseaddr",
        7000,
        b"hello world\n",
        &[PEER4, port],
    );
    assert_eq!(received, "dlrow olleh\n");
    let summary = output.last().expect("output");
    assert!(
        summary.starts_with("client: connection ended: Normal, 12 bytes in, 12 bytes out"),
        "{output:?}"
    );
    assert!(
        output[0].contains("ready, connecting from 10.0.0.2:"),
        "{output:?}"
    );
}

#[test]
fn sends_first_and_reverses_v6() {
    if !can_run(&["ip", "socat", "ss"]) {
        return;
    }
    let peer = Peer::new("client6");
    let (received, output) = exchange(
        &peer,
        "TCP6-LISTEN:7001,reuseaddr",
        7001,
        b"hello world\n",
        &["--send", "hi", PEER6, "7001"],
    );
    assert_eq!(received, "hi\ndlrow olleh\n");
    let summary = output.last().expect("output");
    assert!(
        summary.starts_with("client: connection ended: Normal, 12 bytes in, 15 bytes out"),
        "{output:?}"
    );
}

#[test]
fn refused_connection_exits_1() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("clientrst");
    let client = peer.start(CLIENT, &[PEER4, "7002"]);
    let (code, output) = client.finish(Duration::from_secs(10));
    assert_eq!(code, Some(1), "{output:?}");
    assert!(
        output.last().is_some_and(|l| l.contains("ended: Refused")),
        "{output:?}"
    );
}
