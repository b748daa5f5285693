//! The `server` example against the Linux stack: a namespace whose
//! `tap0` is the kernel's end, the example attached to it, and the
//! kernel's ping and socat as the clients.

mod common;

use std::time::Duration;

use common::{HOST4, HOST6, Peer, TempFile, can_run, check_pcap, run_with_input};

const SERVER: &str = env!("CARGO_BIN_EXE_server");

#[test]
fn kernel_pings_are_answered_v4_and_v6() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let peer = Peer::new("ping");
    let _server = peer.start(SERVER, &[]);
    for (flag, addr) in [("-4", HOST4), ("-6", HOST6)] {
        let out = peer
            .command("ping")
            .args([flag, "-c", "3", "-i", "0.2", "-w", "10", addr])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "ping {addr}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("3 received"), "{text}");
    }
}

#[test]
fn udp_and_tcp_services_answer_socat() {
    if !can_run(&["ip", "socat"]) {
        return;
    }
    let peer = Peer::new("socat");
    let _server = peer.start(SERVER, &[]);
    let limit = Duration::from_secs(10);
    for (family, addr) in [("4", HOST4), ("6", format!("[{HOST6}]").leak() as &str)] {
        // UDP 6969: "hello" to anything.
        let mut udp = peer.command("socat");
        udp.args([
            "-T",
            "3",
            "stdio",
            &format!("udp{family}-connect:{addr}:6969"),
        ]);
        let out = run_with_input(udp, b"abcdefg\n", limit);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello\n",
            "udp {addr}"
        );
        // TCP 6969: "hello", then the server closes.
        let mut tcp = peer.command("socat");
        tcp.args([
            "-T",
            "5",
            "stdio",
            &format!("tcp{family}-connect:{addr}:6969"),
        ]);
        let out = run_with_input(tcp, b"", limit);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello\n",
            "tcp 6969 {addr}"
        );
        // TCP 6970: chunks come back reversed.
        let mut echo = peer.command("socat");
        echo.args([
            "-T",
            "5",
            "stdio",
            &format!("tcp{family}-connect:{addr}:6970"),
        ]);
        let out = run_with_input(echo, b"abcdefg\n", limit);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "\ngfedcba",
            "tcp 6970 {addr}"
        );
    }
}

#[test]
fn capture_of_udp_and_tcp_reads_clean_in_tshark() {
    if !can_run(&["ip", "socat", "tshark"]) {
        return;
    }
    let peer = Peer::new("serverpcap");
    let pcap = TempFile::new("server.pcap");
    let server = peer.start(SERVER, &["--pcap", pcap.path()]);
    let limit = Duration::from_secs(10);
    for address in [
        format!("udp4-connect:{HOST4}:6969"),
        format!("tcp4-connect:{HOST4}:6970"),
        format!("udp6-connect:[{HOST6}]:6969"),
        format!("tcp6-connect:[{HOST6}]:6970"),
    ] {
        let mut socat = peer.command("socat");
        socat.args(["-T", "3", "stdio", &address]);
        let out = run_with_input(socat, b"abcdefg\n", limit);
        assert!(!out.stdout.is_empty(), "{address}: no answer");
    }
    // The server writes the capture out after every round; stop it.
    drop(server);
    let frames = check_pcap(&pcap.0, 16);
    for what in ["UDP", "TCP", "6969", "6970", "[FIN, ACK]"] {
        assert!(frames.contains(what), "no {what} in:\n{frames}");
    }
}
