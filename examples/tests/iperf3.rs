//! The `iperf3` example against the real iperf3 (iperf 3.12 here): the
//! real client against the example's server, the example's client
//! against the real server, over TCP and UDP, both directions, over a TAP
//! (the harness's namespace, also with the kernel's offloads taken) and
//! over an AF_PACKET socket on a veth pair.
//! Every transfer must complete, and the byte counts both sides report
//! (read from the `--json` reports) must agree:
//!
//! * exactly wherever ethox receives, and wherever the real iperf3
//!   receives from the example's client (which lets its data drain
//!   before it ends the test);
//! * where the real client receives from the example's server (`-R`),
//!   the client counts at most what was sent and at least 90% of it: it
//!   stops reading at the end of the test and leaves what its socket
//!   buffer holds, between two real iperf3s too;
//! * UDP: the receiver's counter reaches the sender's last datagram, and
//!   the datagrams received plus those lost make up the bytes sent.

mod common;

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use common::{Example, Peer, can_run, run, run_limited};
use ethox_examples::json::{self, Value};

const IPERF3: &str = env!("CARGO_BIN_EXE_iperf3");

/// Seconds each transfer lasts.
const SECONDS: &str = "2";

/// The UDP datagram size of the tests (fits a frame).
const UDP_LEN: u64 = 1400;

/// `end.<sum>.<key>` of an iperf3 report.
fn field(report: &Value, sum: &str, key: &str) -> u64 {
    report
        .path(&["end", sum, key])
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no end.{sum}.{key} in {}", report.to_json()))
}

/// The JSON report among an example's output lines (the last that is
/// one).
fn report_in(lines: &[String]) -> Value {
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with('{'))
        .map(|l| json::parse(l).unwrap_or_else(|err| panic!("{err}: {l}")))
        .unwrap_or_else(|| panic!("no JSON report in:\n{}", lines.join("\n")))
}

/// Where the tests run: the kernel's namespace and the addresses, and
/// how the example attaches.
struct Net {
    peer: Peer,
    /// The kernel's address, and ethox's.
    kernel: &'static str,
    ethox: &'static str,
    /// Arguments that put the example on its NIC.
    nic: Vec<String>,
    /// The namespace of ethox's end of a veth (removed when dropped).
    ours: Option<Namespace>,
}

/// A namespace of the test's own, deleted when dropped.
struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

impl Net {
    /// The harness's TAP: the kernel at 10.0.0.1, ethox at 10.0.0.2.
    fn tap(tag: &str) -> Net {
        Net::tap_with(tag, "tap")
    }

    /// [`tap`](Self::tap) with `--nic kind` (`tap` or `uring-tap`).
    fn tap_with(tag: &str, kind: &str) -> Net {
        Net {
            peer: Peer::new(tag),
            kernel: common::PEER4,
            ethox: common::HOST4,
            nic: vec!["--nic".into(), kind.into(), "--iface".into(), "tap0".into()],
            ours: None,
        }
    }

    /// A veth pair: the kernel's end (10.0.1.1) in the harness's
    /// namespace, ethox's end in a namespace of its own with ethox's MAC
    /// address, an AF_PACKET socket on it (10.0.1.2). The kernel's end
    /// does not segment or coalesce (ethox's frame buffers hold one MTU).
    fn veth(tag: &str) -> Net {
        Net::veth_with(tag, "raw")
    }

    /// [`veth`](Self::veth) with `--nic kind` (`raw`, `uring`, `afxdp`).
    /// AF_XDP frames carry no note of an unfinished checksum, so for it
    /// the kernel's end finishes its checksums itself.
    fn veth_with(tag: &str, kind: &str) -> Net {
        Net::veth_setup(tag, kind, false)
    }

    /// [`veth`](Self::veth) with the kernel's end keeping its offloads
    /// (it hands over unsegmented TCP) and ethox's socket taking them
    /// (`--offload`).
    fn veth_offloaded(tag: &str, kind: &str) -> Net {
        let mut net = Net::veth_setup(tag, kind, true);
        net.nic.push("--offload".into());
        net
    }

    fn veth_setup(tag: &str, kind: &str, kernel_offloads: bool) -> Net {
        let peer = Peer::new(tag);
        let ours = Namespace(format!("{}-ours", peer.name()));
        run("ip", &["netns", "add", &ours.0]);
        peer.ip(&[
            "link", "add", "veth-k", "type", "veth", "peer", "name", "veth-e", "netns", &ours.0,
        ]);
        run(
            "ip",
            &[
                "-n",
                &ours.0,
                "link",
                "set",
                "veth-e",
                "address",
                "02:00:00:00:00:02",
            ],
        );
        run("ip", &["-n", &ours.0, "link", "set", "veth-e", "up"]);
        peer.ip(&["addr", "add", "10.0.1.1/24", "dev", "veth-k"]);
        peer.ip(&["link", "set", "veth-k", "up"]);
        let mut offloads = vec!["-K", "veth-k", "tso", "off", "gso", "off", "gro", "off"];
        if kind == "afxdp" {
            offloads.extend(["tx-checksumming", "off"]);
        }
        if !kernel_offloads {
            let ethtool = peer
                .command("ethtool")
                .args(&offloads)
                .output()
                .expect("ethtool");
            assert!(ethtool.status.success(), "{ethtool:?}");
        }
        Net {
            peer,
            kernel: "10.0.1.1",
            ethox: "10.0.1.2",
            nic: vec![
                "--nic".into(),
                kind.into(),
                "--iface".into(),
                "veth-e".into(),
                "--ip4".into(),
                "10.0.1.2/24".into(),
                "--ip6".into(),
                "none".into(),
            ],
            ours: Some(ours),
        }
    }

    /// Starts the example with `args` on its NIC and waits for its
    /// "ready" line.
    fn start(&self, args: &[&str]) -> Example {
        let mut all: Vec<&str> = Vec::new();
        if let Some(ours) = &self.ours {
            // Into ethox's namespace from the kernel's.
            all.extend(["netns", "exec", ours.0.as_str(), IPERF3]);
        }
        all.extend(self.nic.iter().map(String::as_str));
        all.extend_from_slice(args);
        let program = if self.ours.is_some() { "ip" } else { IPERF3 };
        self.peer.spawn(program, &all, "ready")
    }

    /// The real client against the example's server: both reports (the
    /// client's, the server's).
    fn kernel_client(&self, args: &[&str]) -> (Value, Value) {
        let server = self.start(&["-s", "-1", "--json"]);
        let mut command = self.peer.command("iperf3");
        command
            .args(["-c", self.ethox, "-t", SECONDS, "--json"])
            .args(args);
        let out = run_limited(command, Duration::from_secs(30));
        let (code, lines) = server.finish(Duration::from_secs(10));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "iperf3 -c {args:?}: {text}{}\nserver:\n{}",
            String::from_utf8_lossy(&out.stderr),
            lines.join("\n")
        );
        assert_eq!(code, Some(0), "server:\n{}", lines.join("\n"));
        let client = json::parse(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
        (client, report_in(&lines))
    }

    /// The example's client against the real server: both reports (the
    /// client's, the server's).
    fn kernel_server(&self, args: &[&str]) -> (Value, Value) {
        let mut server = self.peer.spawn_tool("iperf3", &["-s", "-1", "--json"]);
        self.peer.wait_listening(5201);
        let mut all = vec!["-c", self.kernel, "-t", SECONDS, "--json"];
        all.extend_from_slice(args);
        let client = self.start(&all);
        let (code, lines) = client.finish(Duration::from_secs(30));
        let status = server.wait(Duration::from_secs(10));
        let mut text = String::new();
        if let Some(mut stdout) = server.child.stdout.take() {
            let _ = stdout.read_to_string(&mut text);
        }
        assert_eq!(
            code,
            Some(0),
            "client {args:?}:\n{}\n{text}",
            lines.join("\n")
        );
        assert!(
            status.is_some_and(|s| s.success()),
            "iperf3 -s: {status:?} {text}{}",
            server.stderr()
        );
        let report = json::parse(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
        (report_in(&lines), report)
    }
}

/// A TCP transfer where ethox, or a sender that drains, was on the
/// receiving end: the counts are equal and not zero.
fn exact_tcp(sent: u64, received: u64, what: &str) {
    assert!(sent > 0, "{what}: nothing sent");
    assert_eq!(sent, received, "{what}: sent {sent}, received {received}");
}

/// A transfer the real client received: at most what was sent, at least
/// 90% of it.
fn bounded(sent: u64, received: u64, what: &str) {
    assert!(
        received <= sent && received >= sent / 10 * 9 && sent > 0,
        "{what}: sent {sent}, received {received}"
    );
}

/// UDP counts: the receiver's counter reached the sender's last
/// datagram, and the datagrams received plus the lost ones make up what
/// was sent (exactly when `exact`, else the receiver counts at most what
/// was sent).
fn udp_counts(sent: (u64, u64), received: (u64, u64, u64), exact: bool, what: &str) {
    let (sent_bytes, sent_packets) = sent;
    let (bytes, packets, lost) = received;
    let counts = format!(
        "sent {sent_packets} ({sent_bytes} bytes), received {packets} ({bytes} bytes, {lost} lost)"
    );
    assert!(
        sent_packets > 0 && sent_bytes == sent_packets * UDP_LEN,
        "{what}: {counts}"
    );
    if exact {
        assert_eq!(packets, sent_packets, "{what}: {counts}");
        assert_eq!(bytes + lost * UDP_LEN, sent_bytes, "{what}: {counts}");
    } else {
        assert!(
            packets <= sent_packets && packets >= sent_packets / 10 * 9,
            "{what}: {counts}"
        );
        assert_eq!(
            bytes + lost * UDP_LEN,
            packets * UDP_LEN,
            "{what}: {counts}"
        );
    }
}

/// `(bytes, packets)` sent and `(bytes, packets, lost)` received, from an
/// iperf3 report's sums.
fn udp_sums(sender: &Value, receiver: &Value) -> ((u64, u64), (u64, u64, u64)) {
    (
        (
            field(sender, "sum_sent", "bytes"),
            field(sender, "sum_sent", "packets"),
        ),
        (
            field(receiver, "sum_received", "bytes"),
            field(receiver, "sum_received", "packets"),
            field(receiver, "sum_received", "lost_packets"),
        ),
    )
}

/// The real client sends TCP to the example's server over two streams,
/// then receives (`-R`).
fn kernel_client_tcp(net: &Net) {
    let (client, server) = net.kernel_client(&["-P", "2"]);
    let sent = field(&client, "sum_sent", "bytes");
    exact_tcp(
        sent,
        field(&client, "sum_received", "bytes"),
        "kernel -> ethox",
    );
    exact_tcp(
        sent,
        field(&server, "sum_received", "bytes"),
        "ethox's own report",
    );
    assert_eq!(
        server
            .path(&["start", "test_start", "num_streams"])
            .and_then(Value::as_u64),
        Some(2)
    );
    let (client, server) = net.kernel_client(&["-R"]);
    let sent = field(&server, "sum_sent", "bytes");
    assert_eq!(
        sent,
        field(&client, "sum_sent", "bytes"),
        "the client shows ethox's count"
    );
    bounded(
        sent,
        field(&client, "sum_received", "bytes"),
        "ethox -> kernel (-R)",
    );
}

/// The real client's UDP to the example's server, then back (`-R`, with
/// 64-bit counters).
fn kernel_client_udp(net: &Net) {
    let len = UDP_LEN.to_string();
    let (client, server) = net.kernel_client(&["-u", "-b", "10M", "-l", &len]);
    let (sent, received) = udp_sums(&client, &server);
    udp_counts(sent, received, true, "kernel -> ethox (UDP)");
    assert_eq!(
        received.0,
        field(&client, "sum_received", "bytes"),
        "the client shows ethox's count"
    );
    let (client, server) =
        net.kernel_client(&["-u", "-b", "10M", "-l", &len, "-R", "--udp-counters-64bit"]);
    let (sent, received) = udp_sums(&server, &client);
    udp_counts(sent, received, false, "ethox -> kernel (UDP -R)");
}

/// The example's client against the real server: TCP over two streams,
/// TCP reversed, UDP, UDP reversed with 64-bit counters.
fn kernel_server_all(net: &Net) {
    let (client, server) = net.kernel_server(&["-P", "2"]);
    exact_tcp(
        field(&client, "sum_sent", "bytes"),
        field(&server, "sum_received", "bytes"),
        "ethox -> kernel",
    );
    exact_tcp(
        field(&client, "sum_sent", "bytes"),
        field(&client, "sum_received", "bytes"),
        "the client's report of the server's count",
    );
    let (client, server) = net.kernel_server(&["-R"]);
    exact_tcp(
        field(&server, "sum_sent", "bytes"),
        field(&client, "sum_received", "bytes"),
        "kernel -> ethox (-R)",
    );
    let len = UDP_LEN.to_string();
    let (client, server) = net.kernel_server(&["-u", "-b", "10M", "-l", &len]);
    let (sent, received) = udp_sums(&client, &server);
    udp_counts(sent, received, true, "ethox -> kernel (UDP)");
    let (client, server) =
        net.kernel_server(&["-u", "-b", "10M", "-l", &len, "-R", "--udp-counters-64bit"]);
    let (sent, received) = udp_sums(&server, &client);
    udp_counts(sent, received, true, "kernel -> ethox (UDP -R)");
}

#[test]
fn tap_kernel_client_tcp_both_ways() {
    if !can_run(&["ip", "iperf3"]) {
        return;
    }
    kernel_client_tcp(&Net::tap("ip3-tcp"));
}

#[test]
fn tap_kernel_client_udp_both_ways() {
    if !can_run(&["ip", "iperf3"]) {
        return;
    }
    kernel_client_udp(&Net::tap("ip3-udp"));
}

#[test]
fn tap_ethox_client_against_kernel_server() {
    if !can_run(&["ip", "iperf3", "ss"]) {
        return;
    }
    kernel_server_all(&Net::tap("ip3-cli"));
}

#[test]
fn raw_kernel_client_tcp_and_udp() {
    if !can_run(&["ip", "iperf3", "ethtool"]) {
        return;
    }
    let net = Net::veth("ip3-raw");
    kernel_client_tcp(&net);
    kernel_client_udp(&net);
}

#[test]
fn raw_ethox_client_against_kernel_server() {
    if !can_run(&["ip", "iperf3", "ethtool", "ss"]) {
        return;
    }
    kernel_server_all(&Net::veth("ip3-rawcli"));
}

/// The kernel's client (TCP both ways, UDP) against our server, then our
/// client against the kernel's server.
fn every_way(net: &Net) {
    kernel_client_tcp(net);
    kernel_client_udp(net);
    kernel_server_all(net);
}

#[test]
fn uring_tap_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ss"]) {
        return;
    }
    every_way(&Net::tap_with("ip3-urt", "uring-tap"));
}

/// The harness's TAP with `--nic kind --offload`: the kernel hands ethox
/// unsegmented TCP and ethox hands the kernel its own for the kernel to
/// cut (checksums left unfinished both ways). Every way works as
/// without, and the bulk TCP crossed the TAP in frames far larger than
/// the MTU both ways (by the TAP's own counters: without offloads no
/// frame exceeds 1514 bytes).
fn every_way_offloaded(tag: &str, kind: &str) {
    let mut net = Net::tap_with(tag, kind);
    net.nic.push("--offload".into());
    every_way_unsegmented(&net, "tap0");
    // The harness's TAP persists, and with it the offloads the kernel
    // was told of: the next program to open it without them must not
    // get 64 KiB frames and unfinished checksums.
    net.nic.retain(|arg| arg != "--offload");
    kernel_client_tcp(&net);
}

/// Every way over `net`, with the bulk TCP crossing the kernel's
/// interface `iface` in frames far larger than the MTU both ways.
fn every_way_unsegmented(net: &Net, iface: &str) {
    let counter = |name: &str| -> u64 {
        let path = format!("/sys/class/net/{iface}/statistics/{name}");
        let out = net.peer.command("cat").arg(&path).output().expect("cat");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    };
    let names = ["tx_packets", "tx_bytes", "rx_packets", "rx_bytes"];
    let before = names.map(counter);
    kernel_client_tcp(net);
    let after = names.map(counter);
    let [tx_packets, tx_bytes, rx_packets, rx_bytes] =
        core::array::from_fn(|i| after[i] - before[i]);
    // The kernel's interface transmits to ethox, and receives what ethox
    // sends. Each direction's count mixes the bulk frames with the other
    // transfer's ACKs, so the average only has to be out of reach of
    // MTU-sized frames (1514 bytes at most), with room: a debug build's
    // slower ACKing gave 7,400 bytes where a release build gives more.
    const UNSEGMENTED: u64 = 3000;
    assert!(
        tx_packets > 0 && tx_bytes / tx_packets > UNSEGMENTED,
        "the kernel sent {tx_bytes} bytes in {tx_packets} frames on {iface}: not unsegmented"
    );
    assert!(
        rx_packets > 0 && rx_bytes / rx_packets > UNSEGMENTED,
        "ethox sent {rx_bytes} bytes in {rx_packets} frames on {iface}: not unsegmented"
    );
    kernel_client_udp(net);
    kernel_server_all(net);
}

#[test]
fn tap_offload_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ss"]) {
        return;
    }
    every_way_offloaded("ip3-tof", "tap");
}

#[test]
fn uring_tap_offload_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ss"]) {
        return;
    }
    every_way_offloaded("ip3-urof", "uring-tap");
}

#[test]
fn raw_offload_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ethtool", "ss"]) {
        return;
    }
    every_way_unsegmented(&Net::veth_offloaded("ip3-rawof", "raw"), "veth-k");
}

#[test]
fn uring_raw_offload_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ethtool", "ss"]) {
        return;
    }
    every_way_unsegmented(&Net::veth_offloaded("ip3-urof2", "uring"), "veth-k");
}

#[test]
fn uring_raw_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ethtool", "ss"]) {
        return;
    }
    every_way(&Net::veth_with("ip3-urr", "uring"));
}

#[test]
fn afxdp_kernel_client_and_server() {
    if !can_run(&["ip", "iperf3", "ethtool", "ss"]) {
        return;
    }
    every_way(&Net::veth_with("ip3-xdp", "afxdp"));
}

#[test]
fn a_second_client_hears_the_server_is_busy() {
    if !can_run(&["ip", "iperf3"]) {
        return;
    }
    let net = Net::tap("ip3-busy");
    let server = net.start(&["-s", "-1"]);
    let mut first = net.peer.command("iperf3");
    first.args(["-c", net.ethox, "-t", "3", "-b", "10M"]);
    let first = std::thread::spawn(move || run_limited(first, Duration::from_secs(30)));
    std::thread::sleep(Duration::from_secs(1));
    let mut second = net.peer.command("iperf3");
    second.args(["-c", net.ethox, "-t", "1"]);
    let out = run_limited(second, Duration::from_secs(20));
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("busy"), "{text}");
    let first = first.join().expect("first client");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let (code, lines) = server.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{}", lines.join("\n"));
}

#[test]
fn argument_errors_print_the_usage() {
    for args in [
        &[][..],
        &["-s", "-c", "10.0.0.1"],
        &["-c", "nowhere"],
        &["-c", "10.0.0.1", "-u", "-l", "9000"],
        &["-s", "-P", "65"],
    ] {
        let out = Command::new(IPERF3)
            .args(args)
            .output()
            .expect("iperf3 example");
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("usage: iperf3"), "{args:?}: {text}");
    }
}
