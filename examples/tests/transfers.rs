//! Bulk TCP between the `server` example and the kernel, checked byte for
//! byte against ethox's `Source` pattern: 64 MiB into the sink (port
//! 6971, whose summary line carries the digest of what it took) and 64
//! MiB out of the source (port 6972, compared as it is read), over IPv4
//! and IPv6; then 1 MiB each way with the server dropping 15% of the
//! frames it receives and corrupting 15% of the frames it receives and
//! sends.
//!
//! The lossy run is small and tunes both ends, because under that much
//! loss (a round trip fails 39% of the time) both TCPs spend their time
//! in retransmission timeouts that double on every failure: the kernel's
//! route gets `rto_min 10ms`, its RTO stops at 1 s and it retries long
//! enough not to give up; the server runs with `--rto-min 10 --rto-max
//! 1000`. It runs over IPv6 because neighbor discovery is checksummed:
//! ARP is not, and a corrupted ARP reply (which a real link's FCS would
//! have caught) teaches the server a wrong MAC for a minute.

mod common;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Example, HOST4, HOST6, Peer, Tool, can_run};
use ethox::layer::tcp::buffer::Source;

const SERVER: &str = env!("CARGO_BIN_EXE_server");

const MIB: u64 = 1 << 20;

/// The seed of the server's port 6972 stream (its default).
const SERVER_SEED: u64 = 6972;

/// The seed of what the tests send to the sink.
const SINK_SEED: u64 = 71;

/// socat's name for TCP to `addr:port`.
fn socat_tcp(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("tcp6:[{addr}]:{port}")
    } else {
        format!("tcp4:{addr}:{port}")
    }
}

/// Runs `work` on a thread, at most `limit`; `tool` is killed if it takes
/// longer (which also ends the work's reads and writes) and the test
/// fails, showing what the server printed.
fn bounded<T: Send + 'static>(
    tool: &mut Tool,
    server: &mut Example,
    limit: Duration,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => {
            let _ = tool.child.kill();
            panic!(
                "{what}: not done within {limit:?}; the server said:\n{}",
                server.output().join("\n")
            );
        }
    }
}

/// Sends `len` bytes of the stream of [`SINK_SEED`] into the sink at
/// `addr` with `socat -u`, and checks the server's summary of the
/// connection: its byte count, its digest and, if `normal`, that it
/// closed normally. Returns how long it took, up to that summary.
fn into_sink(
    peer: &Peer,
    server: &mut Example,
    addr: &str,
    len: u64,
    normal: bool,
    limit: Duration,
) -> Duration {
    let mut tool = peer.spawn_tool("socat", &["-u", "STDIN", &socat_tcp(addr, 6971)]);
    let mut stdin = tool.child.stdin.take().expect("piped");
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        let mut chunk = vec![0u8; 1 << 16];
        let mut position = 0;
        while position < len {
            let n = (len - position).min(chunk.len() as u64) as usize;
            Source::fill(SINK_SEED, position, &mut chunk[..n]);
            if stdin.write_all(&chunk[..n]).is_err() {
                break;
            }
            position += n as u64;
        }
        position
    });
    let line = server.wait_for("digest", limit);
    let took = start.elapsed();
    let status = tool.wait(Duration::from_secs(10));
    let written = writer.join().expect("writer");
    assert_eq!(written, len, "socat took only {written} bytes; {line}");
    assert!(
        status.is_some_and(|s| s.success()),
        "socat: {status:?} {}",
        tool.stderr()
    );
    let bytes: u64 = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" bytes in"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in {line:?}"));
    assert_eq!(bytes, len, "{line}");
    let digest = format!("digest {:016x}", Source::digest_of(SINK_SEED, len));
    assert!(line.ends_with(&digest), "{line}: expected {digest}");
    assert!(!normal || line.contains("ended: Normal"), "{line}");
    took
}

/// Reads `len` bytes from the source at `addr` with `socat -u` and checks
/// each against the server's stream; returns how long they took.
fn from_source(
    peer: &Peer,
    server: &mut Example,
    addr: &str,
    len: u64,
    limit: Duration,
) -> Duration {
    let mut tool = peer.spawn_tool("socat", &["-u", &socat_tcp(addr, 6972), "STDOUT"]);
    let mut stdout = tool.child.stdout.take().expect("piped");
    let start = Instant::now();
    let (read, mismatch) = bounded(&mut tool, server, limit, "reading the source", move || {
        let mut got = vec![0u8; 1 << 16];
        let mut want = vec![0u8; 1 << 16];
        let mut position = 0u64;
        while position < len {
            let room = (len - position).min(got.len() as u64) as usize;
            let n = match stdout.read(&mut got[..room]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            Source::fill(SERVER_SEED, position, &mut want[..n]);
            if let Some(i) = (0..n).find(|&i| got[i] != want[i]) {
                return (position, Some(position + i as u64));
            }
            position += n as u64;
        }
        (position, None)
    });
    let took = start.elapsed();
    assert_eq!(
        mismatch, None,
        "the stream differs from byte {mismatch:?} on"
    );
    assert_eq!(read, len, "the stream ended after {read} bytes");
    took
}

fn report(tag: &str, what: &str, len: u64, took: Duration) {
    let bits = len as f64 * 8.0 / took.as_secs_f64();
    eprintln!(
        "{tag}: {} MiB {what} in {took:.2?}: {:.1} Mbit/s",
        len / MIB,
        bits / 1e6
    );
}

/// Both directions to `addr`, the server run with `args`.
fn both_ways(peer: &Peer, tag: &str, addr: &str, args: &[&str], len: u64, normal: bool) {
    let limit = Duration::from_secs(120);
    let mut server = peer.start(SERVER, args);
    let took = into_sink(peer, &mut server, addr, len, normal, limit);
    report(tag, "into the sink", len, took);
    let took = from_source(peer, &mut server, addr, len, limit);
    report(tag, "from the source", len, took);
}

#[test]
fn sixty_four_mib_each_way_v4() {
    if !can_run(&["ip", "socat"]) {
        return;
    }
    let peer = Peer::new("bulk4");
    both_ways(&peer, "v4", HOST4, &[], 64 * MIB, true);
}

#[test]
fn sixty_four_mib_each_way_v6() {
    if !can_run(&["ip", "socat"]) {
        return;
    }
    let peer = Peer::new("bulk6");
    both_ways(&peer, "v6", HOST6, &[], 64 * MIB, true);
}

/// With the kernel's offloads taken the checksums of everything the
/// server sends are the kernel's to finish and its segments are cut by
/// the kernel, so only the bytes compared at the other end show they are
/// right: over a TAP (IPv4) and over io_uring (IPv6).
#[test]
fn sixty_four_mib_each_way_offloaded() {
    if !can_run(&["ip", "socat"]) {
        return;
    }
    let peer = Peer::new("bulkoff");
    both_ways(
        &peer,
        "tap offload v4",
        HOST4,
        &["--offload"],
        64 * MIB,
        true,
    );
    let uring = ["--nic", "uring-tap", "--iface", "tap0", "--offload"];
    both_ways(&peer, "uring-tap offload v6", HOST6, &uring, 64 * MIB, true);
}

#[test]
fn byte_identical_through_drops_and_corruption() {
    if !can_run(&["ip", "socat", "sysctl"]) {
        return;
    }
    let peer = Peer::new("faults");
    peer.tune_for_loss();
    let args = [
        "--drop-chance",
        "15",
        "--corrupt-chance",
        "15",
        "--rto-min",
        "10",
        "--rto-max",
        "1000",
    ];
    both_ways(&peer, "faults", HOST6, &args, MIB, false);
}
