//! The main demo runs: A resolves B with ARP and pings it over a lossy
//! link, streams a MiB to B over TCP that arrives whole and closes
//! cleanly despite the losses, and the capture it writes is one that our
//! reader and (when installed) tshark accept, with no malformed frame.

use std::process::Command;

use ethox::wire::pcap::PcapReader;

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ethox-{}-{name}", std::process::id()))
}

#[test]
fn loopback_resolves_pings_and_captures() {
    let pcap = temp_path("loopback.pcap");
    let output = Command::new(env!("CARGO_BIN_EXE_loopback"))
        .args([
            "--flood-ms",
            "50",
            "--drop-chance",
            "30",
            "--seed",
            "7",
            "--pcap",
        ])
        .arg(&pcap)
        .output()
        .expect("run loopback");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loopback failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("64 bytes from 10.0.0.2: icmp_seq="),
        "{stdout}"
    );
    assert!(stdout.contains("round trips/s"), "{stdout}");
    // TCP: handshake, the whole stream (1 MiB with faults), a clean close.
    for line in [
        "connected 10.0.0.1:",
        "tcp transfer: 1048576 bytes A -> B",
        "tcp close: A Normal, B Normal",
        "digest of the 1048576 bytes B read: ok",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }

    let bytes = std::fs::read(&pcap).expect("capture written");
    let records: Vec<_> = PcapReader::new(&bytes)
        .expect("pcap header")
        .collect::<Result<_, _>>()
        .expect("records");
    assert!(records.len() > 10, "only {} frames captured", records.len());

    let tshark = |filter: &str| {
        Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(["-Y", filter])
            .output()
    };
    match tshark("_ws.malformed || _ws.expert.severity >= error") {
        Ok(out) if out.status.success() => {
            let bad = String::from_utf8_lossy(&out.stdout);
            assert_eq!(bad.lines().count(), 0, "tshark found problems:\n{bad}");
            let replies = tshark("arp.opcode == 2 && arp.src.proto_ipv4 == 10.0.0.2").unwrap();
            assert!(
                !replies.stdout.is_empty(),
                "no ARP reply from B in the capture"
            );
            let echoes = tshark("icmp.type == 0 && ip.src == 10.0.0.2").unwrap();
            let echoes = String::from_utf8_lossy(&echoes.stdout).lines().count();
            assert!(echoes > 10, "only {echoes} echo replies in the capture");
            // tshark's dissection agrees with what the demo says B did.
            let count = |filter: &str| {
                String::from_utf8_lossy(&tshark(filter).unwrap().stdout)
                    .lines()
                    .count()
            };
            let number_after = |text: &str| -> usize {
                let at = stdout
                    .find(text)
                    .unwrap_or_else(|| panic!("{text:?} not in output:\n{stdout}"));
                stdout[at + text.len()..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no number after {text:?}"))
            };
            let replies = number_after("icmp echo replies ");
            let echo_filter = "(icmp.type == 0 && ip.src == 10.0.0.2) || (icmpv6.type == 129 && ipv6.src == fd00::2)";
            assert_eq!(
                count(echo_filter),
                replies,
                "echo replies: tshark vs the demo"
            );
            let captured = number_after("frames received and ");
            assert_eq!(
                count("eth.src == 02:00:00:00:00:02"),
                captured,
                "frames B sent: tshark vs the demo"
            );
            let na = tshark("icmpv6.type == 136 && ipv6.src == fd00::2").unwrap();
            assert!(
                !na.stdout.is_empty(),
                "no neighbor advertisement from B in the capture"
            );
            let udp = tshark("udp.dstport == 9 && ip.dst == 10.0.0.2").unwrap();
            let udp = String::from_utf8_lossy(&udp.stdout).lines().count();
            assert!(udp > 10, "only {udp} flood datagrams in the capture");
            // The TCP connection as tshark dissects it: the handshake,
            // the data (1 MiB is over 700 full segments), a FIN each way.
            let tcp = |filter: &str| count(&format!("tcp.port == 5001 && {filter}"));
            assert!(tcp("tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 10.0.0.1") >= 1);
            assert!(tcp("tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.0.0.2") >= 1);
            let data = tcp("tcp.len > 1000 && ip.src == 10.0.0.1");
            assert!(
                data > 500,
                "only {data} full TCP segments from A in the capture"
            );
            assert!(tcp("tcp.flags.fin == 1 && ip.src == 10.0.0.1") >= 1);
            assert!(tcp("tcp.flags.fin == 1 && ip.src == 10.0.0.2") >= 1);
            assert_eq!(tcp("tcp.flags.reset == 1"), 0, "a reset in the capture");
        }
        _ if std::env::var("ETHOX_REQUIRE_NET").is_ok_and(|v| v == "1") => {
            panic!("tshark is required (ETHOX_REQUIRE_NET=1) but not runnable")
        }
        _ => eprintln!("skipped: needs tshark"),
    }
    let _ = std::fs::remove_file(&pcap);
}

#[test]
fn loopback_rejects_bad_options() {
    let output = Command::new(env!("CARGO_BIN_EXE_loopback"))
        .args(["--drop-chance", "101"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("0-100"));
    let output = Command::new(env!("CARGO_BIN_EXE_loopback"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--corrupt-chance"));
}
