//! The pretty printer over every captured fixture: a golden file of the
//! lines it prints, and a cross-check of addresses and protocols against
//! tshark's dissection of the same files.
//!
//! Regenerate the golden file after an intended change with
//! `ETHOX_UPDATE_GOLDEN=1 cargo test -p ethox --test pretty_fixtures`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use ethox::wire::pcap::{LinkType, PcapReader};
use ethox::wire::pretty::{PrettyFrame, PrettyIp};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the captured fixtures, found {}",
        files.len()
    );
    files
}

/// One line per frame of `path`, as the pretty printer writes it.
fn pretty_lines(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("read fixture");
    let reader = PcapReader::new(&bytes).expect("fixture parses as pcap");
    let raw = reader.header().link_type == LinkType::Raw;
    reader
        .map(|record| {
            let record = record.expect("record");
            if raw {
                PrettyIp::new(record.data).to_string()
            } else {
                PrettyFrame::new(record.data).to_string()
            }
        })
        .collect()
}

#[test]
fn golden_lines_for_every_fixture() {
    let mut out = String::new();
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in pretty_lines(&path).iter().enumerate() {
            writeln!(out, "{name} #{}: {line}", i + 1).unwrap();
        }
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pretty.golden");
    if std::env::var_os("ETHOX_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &out).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("golden file (set ETHOX_UPDATE_GOLDEN=1 to create)");
    if expected != out {
        for (want, got) in expected.lines().zip(out.lines()) {
            if want != got {
                panic!("pretty output changed:\n  want: {want}\n   got: {got}");
            }
        }
        panic!(
            "pretty output changed: {} lines expected, {} printed",
            expected.lines().count(),
            out.lines().count()
        );
    }
}

/// How the pretty printer marks a layer it could not parse: the
/// `wire::Error` texts in brackets.
const REJECTIONS: [&str; 9] = [
    "[truncated packet",
    "[bad length field",
    "[bad version",
    "[malformed option",
    "[malformed packet",
    "[unsupported packet",
    "[unknown IPv6 header",
    "[too many IPv6",
    "[buffer too small",
];

fn tshark_available() -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("ETHOX_REQUIRE_NET").is_ok_and(|v| v == "1") {
            panic!("tshark is required (ETHOX_REQUIRE_NET=1) but not installed");
        }
        eprintln!("skipped: needs tshark");
    }
    found
}

/// What tshark says about each frame: source, destination, protocols.
struct Dissection {
    src: String,
    dst: String,
    protocols: String,
}

fn tshark_dissect(path: &Path) -> Vec<Dissection> {
    let output = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ipv6.src",
            "-e",
            "ipv6.dst",
            "-e",
            "frame.protocols",
        ])
        .output()
        .expect("run tshark");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            // Tunnelled or quoted headers repeat the fields; the first
            // value is the outermost header.
            let first = |s: &str| s.split(',').next().unwrap_or("").to_string();
            let (src, dst) = if !f[0].is_empty() {
                (first(f[0]), first(f[1]))
            } else {
                (first(f[2]), first(f[3]))
            };
            Dissection {
                src,
                dst,
                protocols: f.get(4).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

#[test]
fn addresses_and_protocols_agree_with_tshark() {
    if !tshark_available() {
        return;
    }
    let mut compared = 0;
    let mut rejects = 0;
    for path in fixtures() {
        let ours = pretty_lines(&path);
        let theirs = tshark_dissect(&path);
        assert_eq!(ours.len(), theirs.len(), "{}: frame count", path.display());
        for (i, (line, d)) in ours.iter().zip(&theirs).enumerate() {
            let at = format!("{} #{}: {line}", path.display(), i + 1);
            if !d.src.is_empty() {
                let family = if d.src.contains(':') { "IPv6" } else { "IPv4" };
                let header = format!("{family} {} > {}", d.src, d.dst);
                assert!(line.starts_with(&header), "{at}\n  tshark: {header}");
            }
            // The first transport-level protocol tshark names must be the
            // one we name (later ones are quoted inside ICMP errors), unless
            // the packet is a fragment (tshark reassembles).
            let layers: Vec<&str> = d.protocols.split(':').collect();
            let first = layers
                .iter()
                .position(|l| ["tcp", "udp", "icmp", "icmpv6", "igmp", "arp"].contains(l));
            let expect = first.map(|i| match (layers[i], layers.get(i + 1)) {
                ("udp", Some(&"dhcp")) => &["DHCP "][..],
                ("udp", _) => &["UDP "],
                ("tcp", _) => &["TCP "],
                // MLD travels in ICMPv6 and is named as itself.
                ("icmpv6", _) => &["ICMPv6", "MLD"],
                ("icmp", _) => &["ICMP"],
                ("igmp", _) => &["IGMP"],
                _ => &["ARP"],
            });
            // A layer we reject (tshark is more lenient) ends our line
            // early; such frames are few and listed.
            let rejected = REJECTIONS.iter().any(|reason| line.contains(reason));
            if rejected {
                eprintln!("rejected by ethox, dissected by tshark: {at}");
                rejects += 1;
            }
            if let Some(names) = expect.filter(|_| !line.contains("fragment") && !rejected) {
                assert!(
                    names.iter().any(|name| line.contains(name)),
                    "{at}\n  tshark protocols: {}",
                    d.protocols
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 50, "compared only {compared} frames");
    assert!(rejects <= 2, "{rejects} fixture frames rejected");
}

#[test]
fn every_prefix_of_every_fixture_frame_prints_without_panicking() {
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        for record in PcapReader::new(&bytes).unwrap() {
            let data = record.unwrap().data;
            for len in 0..=data.len() {
                let _ = PrettyFrame::new(&data[..len])
                    .with_link_header(true)
                    .to_string();
                let _ = PrettyIp::new(&data[len..]).to_string();
            }
        }
    }
}
