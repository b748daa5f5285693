//! The `ping` example against the Linux stack: it runs in a namespace
//! whose `tap0` is the kernel's end, pings the kernel's addresses over
//! IPv4 and IPv6, and must print what ping(8) prints.

mod common;

use std::time::Duration;

use common::{PEER4, PEER6, Peer, TempFile, can_run, check_pcap, run_with_input};

const PING: &str = env!("CARGO_BIN_EXE_ping");

/// Runs our ping on the namespace's TAP with `args`; its exit code and
/// output.
fn ping(peer: &Peer, args: &[&str]) -> (Option<i32>, String) {
    let mut command = peer.command(PING);
    command.args(["--tap", "tap0"]).args(args);
    let out = run_with_input(command, b"", Duration::from_secs(20));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), format!("{text}{err}"))
}

/// Checks the output of `count` answered pings of `bytes` ICMP bytes to
/// `addr`.
fn check_replies(text: &str, addr: &str, count: u32, bytes: usize) {
    assert!(
        text.starts_with(&format!("PING {addr} ({addr}) ")),
        "{text}"
    );
    for seq in 1..=count {
        let line = format!("{bytes} bytes from {addr}: icmp_seq={seq} ttl=64 time=");
        let reply = text
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("no {line:?} in:\n{text}"));
        let time: f64 = reply
            .strip_prefix(&line)
            .and_then(|rest| rest.strip_suffix(" ms"))
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no time in {reply:?}"));
        assert!(time > 0.0 && time < 1000.0, "{reply}");
    }
    assert!(
        text.contains(&format!("--- {addr} ping statistics ---")),
        "{text}"
    );
    let summary = format!("{count} packets transmitted, {count} received, 0% packet loss");
    assert!(text.contains(&summary), "{text}");
    let rtt = text
        .lines()
        .find_map(|l| l.strip_prefix("rtt min/avg/max = "))
        .unwrap_or_else(|| panic!("no rtt line in:\n{text}"));
    let times: Vec<f64> = rtt
        .trim_end_matches(" ms")
        .split('/')
        .map(|t| t.parse().unwrap())
        .collect();
    assert!(
        times.len() == 3 && times[0] <= times[1] && times[1] <= times[2],
        "{rtt}"
    );
}

#[test]
fn pings_the_kernel_v4_and_v6() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("ping");
    for addr in [PEER4, PEER6] {
        let (code, text) = ping(&peer, &["-c", "3", "--interval", "100", addr]);
        assert_eq!(code, Some(0), "{text}");
        check_replies(&text, addr, 3, 64);
    }
}

#[test]
fn large_pings_go_in_fragments_v4_and_v6() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("pingfrag");
    for addr in [PEER4, PEER6] {
        let args = ["--count", "2", "--interval", "100", "--size", "4000", addr];
        let (code, text) = ping(&peer, &args);
        assert_eq!(code, Some(0), "{text}");
        check_replies(&text, addr, 2, 4008);
    }
}

#[test]
fn no_answer_exits_1() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("pingnone");
    // Nobody has 10.0.0.9: ARP goes unanswered.
    let (code, text) = ping(&peer, &["-c", "1", "10.0.0.9"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("From 10.0.0.2 icmp_seq=1 Destination Host Unreachable"),
        "{text}"
    );
    assert!(
        text.contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss"),
        "{text}"
    );
    assert!(!text.contains("rtt"), "{text}");
    // The kernel drops pings silently: the overall timeout ends it.
    peer.command("sysctl")
        .args(["-qw", "net.ipv4.icmp_echo_ignore_all=1"])
        .status()
        .expect("sysctl");
    let (code, text) = ping(
        &peer,
        // Long enough for an ARP retry (1 s) when the first request is
        // lost while the TAP comes up on a loaded machine.
        &["-c", "2", "--interval", "100", "--timeout", "4", PEER4],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("2 packets transmitted, 0 received, 100% packet loss"),
        "{text}"
    );
}

#[test]
fn bad_arguments_exit_2() {
    for args in [&["--count", "x", "10.0.0.1"][..], &["not-an-address"], &[]] {
        let out = std::process::Command::new(PING)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage: ping"),
            "{args:?}"
        );
    }
    let out = std::process::Command::new(PING)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--count N") && help.contains("(default: 4)"),
        "{help}"
    );
}

#[test]
fn captures_read_clean_in_tshark() {
    if !can_run(&["ip", "tshark"]) {
        return;
    }
    let peer = Peer::new("pingpcap");
    for addr in [PEER4, PEER6] {
        let pcap = TempFile::new("ping.pcap");
        let args = [
            "-c",
            "2",
            "--interval",
            "100",
            "--size",
            "3000",
            "--pcap",
            pcap.path(),
            addr,
        ];
        let (code, text) = ping(&peer, &args);
        assert_eq!(code, Some(0), "{text}");
        // Resolution, then two requests and two replies in three
        // fragments each.
        let frames = check_pcap(&pcap.0, 1 + 2 * 3 * 2);
        assert!(frames.contains("Echo (ping) reply"), "{frames}");
    }
}
