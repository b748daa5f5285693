//! The main demo runs, resolves B over a faulty link, and writes a capture
//! that our reader and (when installed) tshark accept.

use std::process::Command;

use ethox::wire::pcap::PcapReader;

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ethox-{}-{name}", std::process::id()))
}

#[test]
fn loopback_resolves_and_captures() {
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
        stdout.contains("A got:  02:00:00:00:00:02 > 02:00:00:00:00:01, ARP reply 10.0.0.2 is-at 02:00:00:00:00:02"),
        "{stdout}"
    );
    assert!(stdout.contains("M frames/s"), "{stdout}");

    let bytes = std::fs::read(&pcap).expect("capture written");
    let records: Vec<_> = PcapReader::new(&bytes)
        .expect("pcap header")
        .collect::<Result<_, _>>()
        .expect("records");
    assert!(records.len() > 2, "only {} frames captured", records.len());

    let tshark = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args(["-Y", "_ws.malformed || arp.opcode == 2"])
        .output();
    match tshark {
        Ok(out) if out.status.success() => {
            let lines = String::from_utf8_lossy(&out.stdout);
            // Exactly one match: B's ARP reply; nothing malformed.
            assert_eq!(lines.lines().count(), 1, "tshark: {lines}");
            assert!(
                lines.contains("10.0.0.2 is at 02:00:00:00:00:02"),
                "tshark: {lines}"
            );
        }
        _ if std::env::var("ETHOX_REQUIRE_NET").is_ok_and(|v| v == "1") => {
            panic!("tshark is required but not runnable")
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
