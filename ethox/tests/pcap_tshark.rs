//! Files written by `ethox::wire::pcap::PcapWriter` are read by tshark:
//! every frame, none malformed, timestamps and lengths as written, in
//! microsecond and nanosecond files.
//!
//! Needs `tshark` on the PATH. Without it the test prints
//! "skipped: needs tshark" and passes, unless `ETHOX_REQUIRE_NET=1`, in
//! which case it fails.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ethox::wire::pcap::{IoSink, PcapReader, PcapWriter, TimestampResolution};

/// tcpdump captures of dhclient and busybox udhcpc against dnsmasq.
const DHCP_CAPTURES: [&[u8]; 2] = [
    include_bytes!("fixtures/dhcp-dora.pcap"),
    include_bytes!("fixtures/dhcp-udhcpc.pcap"),
];

/// ARP request: who-has 10.0.0.2 tell 10.0.0.1 (as `arping` sends it).
const ARP_REQUEST: [u8; 42] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01,
    0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
];

/// ARP reply: 10.0.0.2 is-at 02:00:00:00:00:02.
const ARP_REPLY: [u8; 42] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06, 0x00, 0x01,
    0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
];

/// Ethernet frames below 60 bytes are padded by the sender.
fn padded(frame: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    out.resize(out.len().max(60), 0);
    out
}

fn frames() -> Vec<Vec<u8>> {
    let mut frames = vec![padded(&ARP_REQUEST), padded(&ARP_REPLY)];
    for capture in DHCP_CAPTURES {
        for record in PcapReader::new(capture).unwrap() {
            frames.push(record.unwrap().data.to_vec());
        }
    }
    frames
}

/// Distinct timestamps exercising every nanosecond digit.
fn timestamp(i: usize) -> Duration {
    let i = i as u64;
    Duration::new(
        1_700_000_000 + 37 * i,
        ((123_456_789 + 111_111_111 * i) % 1_000_000_000) as u32,
    )
}

/// How tshark prints `frame.time_epoch`: nine decimals, the last three
/// zero in a microsecond file.
fn epoch_text(ts: Duration, resolution: TimestampResolution) -> String {
    let nanos = match resolution {
        TimestampResolution::Micro => ts.subsec_micros() * 1000,
        TimestampResolution::Nano => ts.subsec_nanos(),
    };
    format!("{}.{:09}", ts.as_secs(), nanos)
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempFile(std::env::temp_dir().join(format!(
            "ethox-pcap-tshark-{}-{tag}-{nanos}.pcap",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether tshark can be run; without it, says the test is skipped, or
/// fails when `ETHOX_REQUIRE_NET=1` asks for every external check.
fn tshark_or_skip() -> bool {
    if Command::new("tshark").arg("--version").output().is_ok() {
        return true;
    }
    if std::env::var("ETHOX_REQUIRE_NET").is_ok_and(|v| v == "1") {
        panic!("skipped: needs tshark (ETHOX_REQUIRE_NET=1 makes it required)");
    }
    println!("skipped: needs tshark");
    false
}

/// One line of `tshark -T fields` output.
#[derive(Debug)]
struct Line {
    number: usize,
    epoch: String,
    len: usize,
    cap_len: usize,
    malformed: String,
    severities: Vec<u32>,
    messages: String,
}

fn tshark_fields(path: &Path) -> Vec<Line> {
    let output = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"])
        .args(["-e", "frame.number", "-e", "frame.time_epoch"])
        .args(["-e", "frame.len", "-e", "frame.cap_len"])
        .args(["-e", "_ws.malformed", "-e", "_ws.expert.severity"])
        .args(["-e", "_ws.expert.message"])
        .output()
        .expect("running tshark");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // As root tshark warns on stderr ("Running as user "root" ..."); only
    // the exit status says whether it could read the file.
    assert!(output.status.success(), "tshark failed: {stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 7, "unexpected tshark line {line:?}");
            Line {
                number: cols[0].parse().unwrap(),
                epoch: cols[1].to_string(),
                len: cols[2].parse().unwrap(),
                cap_len: cols[3].parse().unwrap(),
                malformed: cols[4].to_string(),
                severities: cols[5]
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().unwrap())
                    .collect(),
                messages: cols[6].to_string(),
            }
        })
        .collect()
}

/// Wireshark's PI_ERROR: malformed packets and worse.
const SEVERITY_ERROR: u32 = 0x0080_0000;

fn check(resolution: TimestampResolution, snaplen: u32, tag: &str) {
    let frames = frames();
    let file = TempFile::new(tag);
    let sink = IoSink(std::fs::File::create(&file.0).unwrap());
    let mut writer = PcapWriter::new(sink, resolution, snaplen).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        writer.write_packet(timestamp(i), frame).unwrap();
    }
    writer.sink_mut().0.sync_all().unwrap();
    drop(writer);

    let lines = tshark_fields(&file.0);
    assert_eq!(lines.len(), frames.len(), "tshark read {lines:?}");
    for (i, (line, frame)) in lines.iter().zip(&frames).enumerate() {
        assert_eq!(line.number, i + 1);
        assert_eq!(line.malformed, "", "frame {}: {}", i + 1, line.messages);
        assert!(
            line.severities.iter().all(|&s| s < SEVERITY_ERROR),
            "frame {}: {line:?}",
            i + 1
        );
        assert_eq!(line.epoch, epoch_text(timestamp(i), resolution), "{line:?}");
        assert_eq!(line.len, frame.len(), "{line:?}");
        assert_eq!(line.cap_len, frame.len().min(snaplen as usize), "{line:?}");
    }
}

#[test]
fn tshark_reads_written_pcaps() {
    if !tshark_or_skip() {
        return;
    }
    check(TimestampResolution::Micro, 65535, "us");
    check(TimestampResolution::Nano, 65535, "ns");
}

#[test]
fn tshark_reads_snapped_pcap() {
    if !tshark_or_skip() {
        return;
    }
    // Frames cut to 96 bytes keep their wire length in orig_len.
    check(TimestampResolution::Nano, 96, "snap");
}
