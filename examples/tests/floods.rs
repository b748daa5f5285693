//! Floods from the kernel's side of the TAP against the `server` example,
//! while legitimate clients in the same namespace keep using it:
//!
//! * a SYN flood from random spoofed sources (`hping3 --rand-source`,
//!   bounded by a count): clients connecting one after another to the
//!   hello port all through the flood get in (SYN cookies once the
//!   backlog is full) at a rate of at least 90%;
//! * a UDP flood to closed ports, with an ICMP echo flood (`ping -f`) and
//!   legitimate pings and TCP clients beside it: the port unreachable
//!   errors the kernel receives (its `Icmp: InDestUnreachs` counter in
//!   the namespace) stay within the server's ICMP error rate limit (a
//!   burst of 50, then one a millisecond, the IP layer's defaults), and
//!   the legitimate pings and connections succeed at 90% or more.
//!
//! The figures go to stderr (run with `--nocapture`).

mod common;

use std::io::Read;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{HOST4, Peer, Tool, can_run};

const SERVER: &str = env!("CARGO_BIN_EXE_server");

/// The server's ICMP error allowance: a burst, then one per interval.
const ICMP_BURST: u64 = 50;
const ICMP_INTERVAL_MS: u64 = 1;

/// Runs `work` on a thread inside the peer's namespace (sockets it opens
/// are the kernel peer's).
fn in_netns<T: Send + 'static>(
    peer: &Peer,
    work: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let name = peer.name().to_string();
    std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&name).expect("enter the peer's namespace");
        work()
    })
}

/// One connection to the hello port: true if it said "hello" and closed,
/// within a few seconds.
fn hello() -> bool {
    let addr: SocketAddr = format!("{HOST4}:6969").parse().expect("an address");
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut got = Vec::new();
    stream.read_to_end(&mut got).is_ok() && got == b"hello\n"
}

/// `tries` connections to the hello port one after another, `pause`
/// apart; how many succeeded.
fn hello_clients(tries: usize, pause: Duration) -> usize {
    (0..tries)
        .filter(|_| {
            let ok = hello();
            std::thread::sleep(pause);
            ok
        })
        .count()
}

/// Waits for `tool` (at most `limit`, else it is killed and the test
/// fails) and returns what it printed (stdout, then stderr: hping3 prints
/// its statistics there).
fn finish(mut tool: Tool, what: &str, limit: Duration) -> String {
    let status = tool.wait(limit);
    assert!(status.is_some(), "{what} still running after {limit:?}");
    let mut out = String::new();
    if let Some(mut stdout) = tool.child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    out + &tool.stderr()
}

/// The number before `label` in `text` ("20 received" -> 20).
fn count_before(text: &str, label: &str) -> Option<u64> {
    let at = text.find(label)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

/// A counter of the namespace's kernel: `value` of the `group` lines of
/// /proc/net/snmp (`Icmp`, `InDestUnreachs`).
fn snmp(peer: &Peer, group: &str, value: &str) -> u64 {
    let out = peer
        .command("cat")
        .arg("/proc/net/snmp")
        .output()
        .expect("cat");
    let text = String::from_utf8_lossy(&out.stdout);
    let prefix = format!("{group}:");
    let mut lines = text.lines().filter(|l| l.starts_with(&prefix));
    let (names, values) = (
        lines.next().expect("a header"),
        lines.next().expect("values"),
    );
    let at = names
        .split_whitespace()
        .position(|n| n == value)
        .unwrap_or_else(|| panic!("no {value} in {names}"));
    values
        .split_whitespace()
        .nth(at)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// Frames the kernel wrote to the TAP so far (what the server was
/// offered).
fn tap_frames_out(peer: &Peer) -> u64 {
    let out = peer
        .command("cat")
        .arg("/sys/class/net/tap0/statistics/tx_packets")
        .output()
        .expect("cat");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a number")
}

/// 40 000 SYNs from random sources at up to 50 000 a second, and forty
/// clients connecting meanwhile: at least 90% get their hello.
#[test]
fn syn_flood_with_spoofed_sources_lets_clients_in() {
    if !can_run(&["ip", "hping3"]) {
        return;
    }
    let peer = Peer::new("synflood");
    let _server = peer.start(SERVER, &[]);
    let offered = tap_frames_out(&peer);
    let start = Instant::now();
    let flood = peer.spawn_tool(
        "hping3",
        &[
            "-q",
            "-S",
            "-p",
            "6969",
            "--rand-source",
            "-c",
            "40000",
            "-i",
            "u20",
            HOST4,
        ],
    );
    let tries = 40;
    let clients = in_netns(&peer, move || {
        hello_clients(tries, Duration::from_millis(50))
    });
    let summary = finish(flood, "hping3", Duration::from_secs(120));
    let flood_time = start.elapsed();
    let ok = clients.join().expect("the clients");
    let sent = count_before(&summary, "packets transmitted").unwrap_or(0);
    let offered = tap_frames_out(&peer) - offered;
    eprintln!(
        "SYN flood: {sent} spoofed SYNs in {flood_time:.2?} ({offered} frames offered to the \
         server); {ok} of {tries} clients got in"
    );
    assert!(sent >= 40_000, "hping3 sent {sent}: {summary}");
    assert!(ok * 10 >= tries * 9, "only {ok} of {tries} clients got in");
    let after = in_netns(&peer, hello).join().expect("a client");
    assert!(after, "no hello after the flood");
}

/// Sends `count` datagrams to closed ports of the server as fast as the
/// socket takes them.
fn udp_flood(count: usize) {
    let socket = UdpSocket::bind("0.0.0.0:0").expect("a socket");
    for i in 0..count {
        let port = 20_000 + (i % 1000) as u16;
        // A full socket buffer drops the datagram: that is a flood too.
        let _ = socket.send_to(b"flood", (HOST4, port));
    }
}

/// A UDP flood to closed ports while `ping -f` floods echo requests and
/// legitimate pings and TCP clients go on: the port unreachables stay
/// within the rate limit (counted by the kernel over a window from the
/// flood's start), and the legitimate traffic is answered.
#[test]
fn icmp_error_rate_limit_holds_under_floods() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let peer = Peer::new("udpflood");
    let _server = peer.start(SERVER, &[]);
    let unreachables = snmp(&peer, "Icmp", "InDestUnreachs");
    let offered = tap_frames_out(&peer);

    let pings = peer.spawn_tool("ping", &["-c", "20", "-i", "0.1", "-W", "2", HOST4]);
    let echo_flood = peer.spawn_tool("ping", &["-q", "-f", "-c", "3000", "-W", "1", HOST4]);
    let tries = 20;
    let clients = in_netns(&peer, move || {
        hello_clients(tries, Duration::from_millis(100))
    });
    let start = Instant::now();
    let datagrams = 30_000;
    in_netns(&peer, move || udp_flood(datagrams))
        .join()
        .expect("the UDP flood");
    // Time for the server to work through its queue.
    std::thread::sleep(Duration::from_millis(300));
    let window = start.elapsed();
    let unreachables = snmp(&peer, "Icmp", "InDestUnreachs") - unreachables;
    let offered = tap_frames_out(&peer) - offered;

    let pings = finish(pings, "ping", Duration::from_secs(30));
    let echo_flood = finish(echo_flood, "ping -f", Duration::from_secs(60));
    let ok = clients.join().expect("the clients");
    let answered = count_before(&pings, "received").unwrap_or(0);
    let flood_sent = count_before(&echo_flood, "packets transmitted").unwrap_or(0);
    let flood_answered = count_before(&echo_flood, "received").unwrap_or(0);
    let bound = ICMP_BURST + window.as_millis() as u64 / ICMP_INTERVAL_MS + 1;
    eprintln!(
        "floods: {datagrams} datagrams to closed ports, {offered} frames offered to the server \
         in {window:.2?}: {unreachables} port unreachables (bound {bound}); ping -f {flood_answered} \
         of {flood_sent} answered; pings {answered} of 20; {ok} of {tries} TCP clients"
    );
    assert!(unreachables > 0, "no port unreachable at all");
    assert!(
        unreachables <= bound,
        "{unreachables} port unreachables in {window:?}, at most {bound} allowed"
    );
    assert!(
        offered > bound,
        "the flood offered only {offered} frames: it did not test the limit"
    );
    assert!(answered * 10 >= 20 * 9, "pings: {pings}");
    assert!(
        flood_sent > 0 && flood_answered * 10 >= flood_sent * 9,
        "ping -f: {echo_flood}"
    );
    assert!(ok * 10 >= tries * 9, "only {ok} of {tries} clients got in");
    // The socket that flooded is gone; the server still answers.
    let check = peer
        .command("ping")
        .args(["-c", "1", "-W", "2", HOST4])
        .output()
        .expect("ping");
    assert!(
        check.status.success(),
        "no answer to a ping after the floods"
    );
}
