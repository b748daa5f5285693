//! The `tcpdump` example: reading captures of mixed traffic (the
//! `server` example answering the kernel's pings, UDP and TCP; the `curl`
//! example getting a lease, looking a name up and fetching a file) it
//! agrees with tshark on every frame's time, protocols and addresses;
//! `-c` and `-w` copy a capture; a live capture on the TAP sees a ping
//! in both directions and writes a file tshark reads.

mod common;

use std::time::Duration;

use common::{Example, HOST4, HOST6, Peer, TempDir, can_run, dnsmasq, run_limited, run_with_input};

const TCPDUMP: &str = env!("CARGO_BIN_EXE_tcpdump");
const SERVER: &str = env!("CARGO_BIN_EXE_server");
const CURL: &str = env!("CARGO_BIN_EXE_curl");

/// One frame as tshark decodes it.
#[derive(Debug)]
struct Decoded {
    /// Seconds since the epoch, as tshark prints them (`s.nnnnnnnnn`).
    epoch: String,
    /// `eth.type`: 0x0800, 0x0806, 0x86dd.
    ethertype: String,
    /// The network-layer source and destination (ARP's sender and target).
    src: String,
    dst: String,
    /// IPv4's protocol or IPv6's first next header, if IP.
    proto: Option<u8>,
    /// ARP's operation (1 request, 2 reply) and sender hardware address.
    arp: Option<(u16, String)>,
}

/// tshark's view of `file`, one entry per frame.
fn tshark(file: &str) -> Vec<Decoded> {
    let fields = [
        "frame.time_epoch",
        "eth.type",
        "ip.src",
        "ip.dst",
        "ipv6.src",
        "ipv6.dst",
        "arp.src.proto_ipv4",
        "arp.dst.proto_ipv4",
        "ip.proto",
        "ipv6.nxt",
        "arp.opcode",
        "arp.src.hw_mac",
    ];
    let mut args = vec![
        "-r",
        file,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=f",
    ];
    for field in fields {
        args.extend(["-e", field]);
    }
    let output = run_limited(
        {
            let mut command = std::process::Command::new("tshark");
            command.args(&args);
            command
        },
        Duration::from_secs(60),
    );
    assert!(output.status.success(), "tshark: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let pick = |a: usize, b: usize, c: usize| {
                [f[a], f[b], f[c]]
                    .into_iter()
                    .find(|v| !v.is_empty())
                    .unwrap_or("")
                    .to_string()
            };
            let proto = [f[8], f[9]]
                .into_iter()
                .find(|v| !v.is_empty())
                .map(|v| v.parse().expect("protocol number"));
            let arp =
                (!f[10].is_empty()).then(|| (f[10].parse().expect("opcode"), f[11].to_string()));
            Decoded {
                arp,
                epoch: f[0].to_string(),
                ethertype: f[1].to_string(),
                src: pick(2, 4, 6),
                dst: pick(3, 5, 7),
                proto,
            }
        })
        .collect()
}

/// `HH:MM:SS.uuuuuu` (UTC) of tshark's epoch time.
fn time_of_day(epoch: &str) -> String {
    let (secs, fraction) = epoch.split_once('.').expect("s.fraction");
    let secs: u64 = secs.parse().unwrap();
    let micros = &format!("{fraction:0<6}")[..6];
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{micros}",
        day / 3600,
        day / 60 % 60,
        day % 60
    )
}

/// Our tcpdump's lines for `file` (with `args`).
fn our_lines(file: &str, args: &[&str]) -> Vec<String> {
    let mut command = std::process::Command::new(TCPDUMP);
    command.args(["-r", file]).args(args);
    let output = run_limited(command, Duration::from_secs(60));
    assert!(output.status.success(), "tcpdump -r: {output:?}");
    String::from_utf8(output.stdout)
        .expect("text")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Compares our lines with tshark's decoding, frame by frame: the same
/// number of frames, the same time of day, and each line names the
/// network protocol, both addresses and the transport protocol tshark
/// found. Returns how many frames of each transport protocol there were.
fn agree(file: &str) -> Vec<(&'static str, usize)> {
    let decoded = tshark(file);
    let ours = our_lines(file, &[]);
    assert_eq!(
        decoded.len(),
        ours.len(),
        "frame counts:\n{}",
        ours.join("\n")
    );
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for (n, (frame, line)) in decoded.iter().zip(&ours).enumerate() {
        let here = format!("frame {} ({frame:?}): {line}", n + 1);
        assert!(line.starts_with(&time_of_day(&frame.epoch)), "time, {here}");
        let network = match frame.ethertype.as_str() {
            "0x0806" => "ARP",
            "0x0800" => "IPv4",
            "0x86dd" => "IPv6",
            other => panic!("unexpected ethertype {other}, {here}"),
        };
        let body = &line[16..];
        assert!(body.starts_with(network), "network protocol, {here}");
        if let Some((operation, sender_mac)) = &frame.arp {
            // tcpdump's wording: who-has TARGET tell SENDER; SENDER is-at MAC.
            let expected = match operation {
                1 => format!("ARP request who-has {} tell {}", frame.dst, frame.src),
                _ => format!("ARP reply {} is-at {sender_mac}", frame.src),
            };
            assert!(body.starts_with(&expected), "{expected:?}, {here}");
        } else {
            let addresses = format!("{network} {} > {}", frame.src, frame.dst);
            assert!(body.starts_with(&addresses), "addresses, {here}");
        }
        let transport = match frame.proto {
            None => "ARP",
            Some(1) => ": ICMP ",
            Some(6) => ": TCP ",
            Some(17) => ": UDP ",
            Some(58) => ": ICMPv6 ",
            Some(0) => ": HBH ",
            Some(other) => panic!("unexpected protocol {other}, {here}"),
        };
        assert!(body.contains(transport), "{transport:?}, {here}");
        match counts.iter_mut().find(|(t, _)| *t == transport) {
            Some((_, count)) => *count += 1,
            None => counts.push((transport, 1)),
        }
    }
    counts
}

fn count(counts: &[(&str, usize)], transport: &str) -> usize {
    counts
        .iter()
        .find(|(t, _)| *t == transport)
        .map_or(0, |(_, n)| *n)
}

#[test]
fn server_capture_agrees_with_tshark() {
    if !can_run(&["ip", "ping", "socat", "tshark"]) {
        return;
    }
    let peer = Peer::new("tcpdump-server");
    let dir = TempDir::new("tcpdump-server");
    let pcap = dir.file("server.pcap");
    let server = peer.start(SERVER, &["--pcap", &pcap]);
    for (flag, addr) in [("-4", HOST4), ("-6", HOST6)] {
        let out = peer
            .command("ping")
            .args([flag, "-c", "2", "-i", "0.2", "-w", "10", addr])
            .output()
            .unwrap();
        assert!(out.status.success(), "ping {addr}");
    }
    let limit = Duration::from_secs(10);
    for target in [
        format!("udp4-connect:{HOST4}:6969"),
        format!("tcp4-connect:{HOST4}:6969"),
        format!("udp6-connect:[{HOST6}]:6969"),
        format!("tcp6-connect:[{HOST6}]:6970"),
    ] {
        let mut socat = peer.command("socat");
        socat.args(["-T", "3", "stdio", &target]);
        let out = run_with_input(socat, b"abcdefg\n", limit);
        assert!(!out.stdout.is_empty(), "{target}");
    }
    // The server writes its capture out every round; a moment for the
    // last frames, then it is stopped.
    std::thread::sleep(Duration::from_millis(300));
    drop(server);
    let counts = agree(&pcap);
    for transport in [": ICMP ", ": ICMPv6 ", ": UDP ", ": TCP ", "ARP"] {
        assert!(count(&counts, transport) >= 2, "{transport}: {counts:?}");
    }
    // -c and -w: the first five frames copied, read back the same.
    let copy = dir.file("copy.pcap");
    let mut command = std::process::Command::new(TCPDUMP);
    command.args(["-r", &pcap, "-c", "5", "-w", &copy]);
    assert!(run_limited(command, limit).status.success());
    assert_eq!(our_lines(&copy, &[]), our_lines(&pcap, &["-c", "5"]));
    assert_eq!(tshark(&copy).len(), 5);
}

#[test]
fn curl_capture_agrees_with_tshark() {
    if !can_run(&["ip", "dnsmasq", "python3", "tshark"]) {
        return;
    }
    let peer = Peer::new("tcpdump-curl");
    let dir = TempDir::new("tcpdump-curl");
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/small"), b"a small file\n".repeat(300)).unwrap();
    let _dnsmasq = dnsmasq(&peer, &dir, &[]);
    let www = dir.file("www");
    let _http: Example = peer.spawn(
        "python3",
        &[
            "-u",
            "-m",
            "http.server",
            "--bind",
            "10.0.0.1",
            "--directory",
            &www,
            "8000",
        ],
        "Serving HTTP",
    );
    let pcap = dir.file("curl.pcap");
    let mut command = peer.command(CURL);
    command.args([
        "--tap",
        "tap0",
        "--dhcp",
        "--pcap",
        &pcap,
        "http://files.test:8000/small",
    ]);
    let output = run_limited(command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let counts = agree(&pcap);
    // DHCP and DNS over UDP, the fetch over TCP.
    assert!(count(&counts, ": UDP ") >= 6, "{counts:?}");
    assert!(count(&counts, ": TCP ") >= 6, "{counts:?}");
    let lines = our_lines(&pcap, &[]).join("\n");
    for what in [
        "DHCP discover",
        "DHCP ack",
        "DNS query",
        "A files.test",
        "[S.]",
    ] {
        assert!(lines.contains(what), "{what}:\n{lines}");
    }
}

#[test]
fn live_capture_sees_a_ping_both_ways() {
    if !can_run(&["ip", "ping", "tshark"]) {
        return;
    }
    let peer = Peer::new("tcpdump-live");
    let dir = TempDir::new("tcpdump-live");
    let _server = peer.start(SERVER, &[]);
    let file = dir.file("live.pcap");
    // One prints, one writes a file; both stop after 4 s.
    let printing = peer.spawn(
        TCPDUMP,
        &["-i", "tap0", "--timeout", "4"],
        "listening on tap0",
    );
    let writing = peer.spawn(
        TCPDUMP,
        &["-i", "tap0", "--timeout", "4", "-w", &file],
        "listening on tap0",
    );
    let out = peer
        .command("ping")
        .args(["-4", "-c", "2", "-i", "0.2", "-w", "3", HOST4])
        .output()
        .unwrap();
    assert!(out.status.success(), "ping");
    let (code, lines) = printing.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{lines:?}");
    let (code, written) = writing.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{written:?}");
    let text = lines.join("\n");
    // The kernel's request goes out of tap0, the reply comes in.
    for line in [
        format!("IPv4 10.0.0.1 > {HOST4}: ICMP echo request"),
        format!("IPv4 {HOST4} > 10.0.0.1: ICMP echo reply"),
    ] {
        assert_eq!(text.matches(&line).count(), 2, "{line}:\n{text}");
    }
    assert!(
        written.iter().any(|l| l.contains("packets captured")),
        "{written:?}"
    );
    let decoded = tshark(&file);
    let pings = decoded.iter().filter(|d| d.proto == Some(1)).count();
    assert_eq!(pings, 4, "{decoded:?}");
}
