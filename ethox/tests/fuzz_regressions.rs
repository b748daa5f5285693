//! The fuzz harnesses of `fuzz/` run in a normal `cargo test`: every
//! input that once crashed a target (kept as a byte fixture in
//! `tests/fixtures/fuzz/<target>/`) is replayed through the same harness
//! code the target runs, and the harnesses' set-up is checked, so a
//! target cannot silently lose its depth.

use std::path::Path;
use std::time::Duration;

use ethox::layer::tcp::Event;
use ethox::layer::tcp::connection::{CloseReason, Config, State};
use ethox::wire::IpAddr;

#[path = "../../fuzz/harness/mod.rs"]
mod harness;

use harness::tcp_host::{A, B, Host, Net, Sizes};
use harness::{stack_rx, tcp_pair};

/// Every fixture of `target`, by file name (sorted, so failures read the
/// same on every run).
fn fixtures(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    all.sort();
    all
}

/// Replays each fixture of a target through `run`, naming the one that
/// fails.
fn replay(target: &str, run: impl Fn(&[u8])) {
    let all = fixtures(target);
    assert!(!all.is_empty(), "no fixtures for {target}");
    for (name, bytes) in all {
        eprintln!("{target}/{name}");
        run(&bytes);
    }
}

/// The stack_rx set-up leaves the host with three established
/// connections and data in flight, so fuzzed segments have states to
/// reach.
#[test]
fn stack_rx_setup_establishes_three_connections() {
    let s = stack_rx::Stack::ready();
    assert_eq!(s.established(), 3);
    assert!(s.sent > 10, "only {} frames sent", s.sent);
}

/// Inputs that once crashed the tcp_pair target: `close-in-syn-sent`
/// (A wrote, then closed before the handshake completed; the bytes were
/// dropped and the close reported as normal), `small-window-lost-update`
/// (B's window update was overtaken by an older ACK; A, with a window
/// below its SWS threshold and nothing in flight, waited forever).
#[test]
fn tcp_pair_crashes_stay_fixed() {
    replay("tcp_pair", |data| {
        tcp_pair::Pair::run(data);
    });
}

/// On a link that delivers everything, both streams arrive whole: the
/// harness's end check holds and nothing reports an error.
#[test]
fn tcp_pair_clean_link_delivers_both_streams() {
    // IPv4, default configurations; A writes 12000 bytes, B 5000, each
    // flush (op 10) delivers everything in flight, time passes, B closes.
    let mut input = vec![0u8, 0];
    input.extend_from_slice(&[12, 0xe0, 0x2e, 20, 10, 50, 20, 13, 0x88, 0x13]);
    for _ in 0..20 {
        input.extend_from_slice(&[20, 10, 50]);
    }
    input.push(17);
    let outcome = tcp_pair::Pair::run(&input);
    assert!(!outcome.broken);
    assert_eq!(outcome.delivered, [12000, 5000]);
}

/// An input that only drops frames (A's ARP requests first) for 27
/// minutes ends in an error report, and the end check accepts that.
/// (Found with this harness: a connection whose next hop never resolved
/// sent nothing, so no timer ran and it waited forever without a word.)
#[test]
fn tcp_pair_lost_link_reports_an_error() {
    let mut input = vec![0u8, 0, 12, 0x10, 0x27];
    for _ in 0..100 {
        input.extend_from_slice(&[2, 10, 255]);
    }
    let outcome = tcp_pair::Pair::run(&input);
    assert!(outcome.broken);
    assert_eq!(outcome.delivered, [0, 0]);
}

/// A connection to a neighbor that never answers ARP gives up as an
/// unanswered handshake does, after its SYN retries (its SYN never
/// leaves, but the retransmission timer runs and counts each try), and the
/// application hears why.
#[test]
fn connection_to_an_unresolvable_neighbor_times_out() {
    let mut config = Config::default();
    config.user_timeout = Some(Duration::from_secs(30));
    let mut net = Net::with(
        Host::new(1, IpAddr::V4(A), Sizes::default(), config),
        Host::new(2, IpAddr::V4(B), Sizes::default(), config),
    );
    let client = net.dial(80).unwrap();
    let start = net.now;
    // Only A runs: its ARP requests go nowhere.
    for _ in 0..1000 {
        net.a.send();
        while net.a.nic.drain_one(|_| ()).is_some() {}
        if net.a.tcp.state(client) == State::Closed {
            break;
        }
        let next = net.a.deadline().expect("a deadline while connecting");
        let now = next.max(net.now + Duration::from_millis(100));
        net.set_time(now);
    }
    assert_eq!(net.a.tcp.state(client), State::Closed);
    assert!(net.a.app.saw(client, Event::Closed(CloseReason::TimedOut)));
    let took = net.now.saturating_duration_since(start);
    // The default six tries: 1 + 2 + 4 + 8 + 16 + 32 seconds.
    assert!(
        took >= Duration::from_secs(63) && took < Duration::from_secs(65),
        "{took:?}"
    );
}
