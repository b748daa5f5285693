//! Our `ping` against the Linux stack: the kernel's end of a TAP in a
//! namespace answers echo requests over IPv4 and IPv6, and the output
//! reads like ping(8).

mod common;

use std::time::Duration;

use common::{PEER4, PEER6, Peer, can_run};

const PING: &str = env!("CARGO_BIN_EXE_ping");

#[test]
fn our_ping_gets_replies_from_the_kernel() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("ping");
    for addr in [PEER4, PEER6] {
        let example = peer.spawn(
            PING,
            &["--tap", "tap0", "-c", "3", "--interval", "200", addr],
            "PING",
        );
        let (code, output) = example.finish(Duration::from_secs(20));
        let text = output.join("\n");
        assert_eq!(code, Some(0), "ping {addr}:\n{text}");
        let replies = output
            .iter()
            .filter(|line| {
                line.contains(&format!("from {addr}: icmp_seq=")) && line.contains("time=")
            })
            .count();
        assert_eq!(replies, 3, "three replies from {addr}:\n{text}");
        assert!(
            text.contains("3 packets transmitted, 3 received, 0% packet loss"),
            "{text}"
        );
        assert!(text.contains("rtt min/avg/max"), "{text}");
    }
}
