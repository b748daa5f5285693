//! A short soak over a real TAP with the kernel as the peer: 50
//! concurrent connections to the `server` example, which drops and
//! corrupts 5% of the frames it receives (and corrupts 5% of those it
//! sends). Half of them push 16 to 208 KiB of ethox's `Source` pattern
//! into the sink (port 6971), whose summary line per connection carries
//! the byte count and digest of what it took; the other half read as much
//! from the source (port 6972), checked byte for byte. Every stream must
//! be byte-identical, every sink connection must end normally, and the
//! server must report every connection ended, within two minutes. The
//! clients connect 10 ms apart and start moving data together; the
//! server's backlog (64) holds every handshake, so no SYN cookie is
//! needed (with cookies, a client whose handshake ACK and first data
//! segment are both lost is reset when a later segment arrives: RFC 4987
//! cookies validate only the first sequence number, in Linux too).
//!
//! It runs over IPv6: neighbor discovery is checksummed, while a
//! corrupted ARP reply (which a real link's FCS would have caught) would
//! teach the server a wrong MAC for a minute. The kernel's side is tuned
//! for a lossy path ([`Peer::tune_for_loss`]): ethox's address pinned, a
//! 10 ms minimum RTO, enough retries not to give up.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{HOST6, Peer, can_run};
use ethox::layer::tcp::buffer::Source;

const SERVER: &str = env!("CARGO_BIN_EXE_server");
/// The seed of the server's port 6972 stream (its default).
const SOURCE_SEED: u64 = 6972;
/// The seed of what the clients push into the sink.
const SINK_SEED: u64 = 71;
/// Connections each way.
const EACH: usize = 25;
const KIB: u64 = 1024;

/// The bytes connection `i` moves (each way has the same sizes).
fn size(i: usize) -> u64 {
    16 * KIB + 8 * KIB * i as u64
}

/// A connection to the server's `port`, with generous timeouts.
fn connect(port: u16) -> Result<TcpStream, String> {
    let addr = SocketAddr::new(HOST6.parse().expect("an address"), port);
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(20))
        .map_err(|e| format!("connect to {port}: {e}"))?;
    let limit = Some(Duration::from_secs(60));
    stream.set_read_timeout(limit).map_err(|e| e.to_string())?;
    stream.set_write_timeout(limit).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Pushes `len` bytes of the sink stream into `stream`, closes the
/// sending direction and waits for the server to close.
fn into_sink(mut stream: TcpStream, len: u64) -> Result<(), String> {
    let mut chunk = vec![0u8; 16 * 1024];
    let mut position = 0;
    while position < len {
        let n = (len - position).min(chunk.len() as u64) as usize;
        Source::fill(SINK_SEED, position, &mut chunk[..n]);
        stream
            .write_all(&chunk[..n])
            .map_err(|e| format!("sink write at {position}: {e}"))?;
        position += n as u64;
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .map_err(|e| format!("sink close: {e}"))?;
    Ok(())
}

/// Reads `len` bytes of the source stream, checking each. The client
/// speaks first (a byte the source ignores): when the server's backlog
/// is full it answers with a SYN cookie and keeps no state, so if the
/// client's ACK of the cookie is lost, only a segment from the client
/// makes the connection (RFC 4987 3.6; a server that speaks first would
/// wait for ever).
fn from_source(mut stream: TcpStream, len: u64) -> Result<(), String> {
    stream
        .write_all(b"?")
        .map_err(|e| format!("source request: {e}"))?;
    let (mut got, mut want) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut position = 0;
    while position < len {
        let room = (len - position).min(got.len() as u64) as usize;
        let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
        let n = match stream.read(&mut got[..room]) {
            Ok(0) => return Err(format!("source ended after {position} bytes")),
            Ok(n) => n,
            Err(e) => return Err(format!("source read at {position} (port {port}): {e}")),
        };
        Source::fill(SOURCE_SEED, position, &mut want[..n]);
        if let Some(i) = (0..n).find(|&i| got[i] != want[i]) {
            return Err(format!("source differs at byte {}", position + i as u64));
        }
        position += n as u64;
    }
    Ok(())
}

/// `(bytes in, digest)` of a sink summary line: "tcp connection N ended:
/// REASON, X bytes in, Y bytes out, digest D".
fn sink_summary(line: &str) -> Option<(u64, String)> {
    let bytes = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" bytes in"))?
        .parse()
        .ok()?;
    let digest = line.rsplit("digest ").next()?.to_string();
    Some((bytes, digest))
}

#[test]
fn fifty_connections_through_drops_and_corruption() {
    if !can_run(&["ip", "sysctl"]) {
        return;
    }
    let peer = Peer::new("soak");
    peer.tune_for_loss();
    let mut server = peer.start(
        SERVER,
        &[
            "--connections",
            "128",
            "--backlog",
            "64",
            "--drop-chance",
            "5",
            "--corrupt-chance",
            "5",
            "--rto-min",
            "10",
            "--rto-max",
            "1000",
        ],
    );

    let start = Instant::now();
    let name = peer.name().to_string();
    let clients = std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&name).expect("enter the peer's namespace");
        // Threads started here live in the namespace too. They connect
        // a few milliseconds apart and start moving data together.
        let ready = Arc::new(Barrier::new(2 * EACH));
        let client = |i: usize, port: u16| {
            let ready = Arc::clone(&ready);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10 * i as u64));
                let stream = connect(port);
                ready.wait();
                match port {
                    6971 => into_sink(stream?, size(i / 2)),
                    _ => from_source(stream?, size(i / 2)),
                }
            })
        };
        let threads: Vec<_> = (0..2 * EACH)
            .map(|i| client(i, if i % 2 == 0 { 6971 } else { 6972 }))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err("a client panicked".into())))
            .collect::<Vec<_>>()
    });
    let results = clients.join().expect("the clients");
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} clients failed: {failed:?}; the server said:\n{}",
        failed.len(),
        server.output().join("\n")
    );

    // Every connection's end, from the server.
    let limit = Duration::from_secs(120);
    let ended = loop {
        let lines: Vec<String> = server
            .output()
            .into_iter()
            .filter(|l| l.contains(" ended: "))
            .collect();
        if lines.len() >= 2 * EACH {
            break lines;
        }
        assert!(
            start.elapsed() < limit,
            "{} of {} connections ended within {limit:?}:\n{}",
            lines.len(),
            2 * EACH,
            lines.join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = start.elapsed();
    let mut sinks: BTreeMap<(u64, String), usize> = BTreeMap::new();
    for line in ended.iter().filter(|l| l.contains("digest")) {
        assert!(line.contains("ended: Normal"), "{line}");
        let summary = sink_summary(line).unwrap_or_else(|| panic!("{line}"));
        *sinks.entry(summary).or_default() += 1;
    }
    let mut expected: BTreeMap<(u64, String), usize> = BTreeMap::new();
    for i in 0..EACH {
        let len = size(i);
        let digest = format!("{:016x}", Source::digest_of(SINK_SEED, len));
        *expected.entry((len, digest)).or_default() += 1;
    }
    assert_eq!(sinks, expected, "what the sink took");
    let bytes: u64 = (0..EACH).map(size).sum::<u64>() * 2;
    eprintln!(
        "soak over TAP: {} connections, {:.1} MiB, 5% drop and 5% corruption, all \
         byte-identical, all ended, in {took:.2?}",
        2 * EACH,
        bytes as f64 / (KIB * KIB) as f64
    );
}
