//! The `benchmark` example against the Linux stack: both modes move a
//! small stream through a TAP in a test namespace, the byte counts of
//! both sides match, and the output lines a script reads parse.

mod common;

use std::time::Duration;

use common::{Peer, can_run};

const BENCHMARK: &str = env!("CARGO_BIN_EXE_benchmark");

const MIB: u64 = 16;

/// Runs `mode` and returns its output after checking it exited cleanly.
fn run(mode: &str, extra: &[&str]) -> Vec<String> {
    let peer = Peer::new(&format!("bench-{mode}"));
    let mut args = vec!["--size", "16", "--timeout", "60"];
    args.extend_from_slice(extra);
    args.push(mode);
    let example = peer.start(BENCHMARK, &args);
    let (code, output) = example.finish(Duration::from_secs(90));
    assert_eq!(code, Some(0), "{mode}:\n{}", output.join("\n"));
    output
}

/// The value after `prefix` in the line that starts with it.
fn line<'a>(output: &'a [String], prefix: &str) -> &'a str {
    output
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{}", output.join("\n")))
}

/// Checks the direction the first line names, the bytes both sides
/// counted and the throughput line.
fn check(output: &[String], direction: &str) {
    assert!(output[0].contains(direction), "{}", output[0]);
    let bytes = line(output, "bytes: ");
    let expected = (MIB << 20).to_string();
    // "N (kernel), M (ethox) in S s"
    let counts: Vec<&str> = bytes
        .split([' ', ','])
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty())
        .collect();
    assert_eq!(counts, [expected.as_str(), expected.as_str()], "{bytes}");
    let rate = line(output, "throughput: ");
    let gbits: f64 = rate
        .strip_suffix(" Gbit/s")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("throughput {rate:?}"));
    assert!(gbits > 0.0 && gbits.is_finite(), "{rate}");
    let retrans = line(output, "retransmissions: ethox ");
    assert!(retrans.contains("kernel"), "{retrans}");
}

#[test]
fn reader_kernel_reads_what_ethox_sends() {
    if !can_run(&["ip"]) {
        return;
    }
    check(&run("reader", &[]), "ethox sends (port 1234)");
}

#[test]
fn writer_ethox_reads_what_the_kernel_writes() {
    if !can_run(&["ip"]) {
        return;
    }
    check(&run("writer", &[]), "ethox receives (port 1235)");
}

#[test]
fn both_modes_survive_loss() {
    // A lossy link: the count must still come out exact, through
    // retransmissions. ethox drops 1% of what it receives and corrupts 1%
    // of what it sends (the kernel drops those on their checksum), so
    // data is lost whichever side sends it.
    if !can_run(&["ip"]) {
        return;
    }
    for mode in ["reader", "writer"] {
        let output = run(
            mode,
            &[
                "--drop-chance",
                "1",
                "--corrupt-chance",
                "1",
                "--buffer",
                "262144",
            ],
        );
        check(&output, "ethox");
        let retrans = line(&output, "retransmissions: ethox ");
        let ethox: u64 = retrans
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let kernel: u64 = retrans
            .split("kernel ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            ethox + kernel > 0,
            "{mode}: 1% loss but no retransmission: {retrans}"
        );
    }
}
