//! The `curl` example against real servers: a namespace whose `tap0` is
//! the kernel's end, with dnsmasq answering `files.test` (A 10.0.0.1,
//! AAAA fd00::1) and handing out DHCP leases, and Python's HTTP servers
//! on the kernel's addresses. Files are fetched by name and compared byte
//! for byte, also through the fault injector, over IPv6, after DHCP; a
//! small HTTP/1.1 server checks chunked bodies, keep-alive, bodies ended
//! by the close, and error statuses.

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::{Example, Peer, TempDir, can_run, dnsmasq, run_limited};

const CURL: &str = env!("CARGO_BIN_EXE_curl");

/// The size of the file fetched.
const FILE_LEN: usize = 1 << 20;

/// An HTTP/1.1 server on 10.0.0.1:8001: `/chunked` sends a chunked body
/// (with chunk extensions and a trailer), `/keep` a body with a length on
/// a connection kept open, `/close` a body ended by closing the
/// connection; anything else is a 404 with a short body.
const HTTP11_SERVER: &str = r#"
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(1, 200):
                part = bytes([i % 251]) * (i * 37)
                self.wfile.write(b"%x;n=%d\r\n" % (len(part), i) + part + b"\r\n")
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif self.path == "/keep":
            body = b"kept alive\n" * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close\n" * 500)
            self.close_connection = True
        else:
            body = b"no such thing\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
server = http.server.HTTPServer(("10.0.0.1", 8001), Handler)
print("ready", flush=True)
server.serve_forever()
"#;

/// A namespace with dnsmasq, and a directory holding `file`: random
/// bytes.
struct Site {
    peer: Peer,
    dir: TempDir,
    file: Vec<u8>,
    _dnsmasq: Example,
    servers: Vec<Example>,
}

impl Site {
    fn new(tag: &str) -> Site {
        let peer = Peer::new(tag);
        tune_peer(&peer);
        let dir = TempDir::new(tag);
        let file = random_bytes(FILE_LEN);
        std::fs::create_dir_all(dir.path().join("www")).unwrap();
        std::fs::write(dir.path().join("www/file"), &file).unwrap();
        let dnsmasq = dnsmasq(&peer, &dir, &["--address=/files.test/fd00::1"]);
        Site {
            peer,
            dir,
            file,
            _dnsmasq: dnsmasq,
            servers: Vec::new(),
        }
    }

    /// `python3 -m http.server` on `addr` port 8000, serving the file.
    fn serve_files(&mut self, addr: &str) {
        let www = self.dir.file("www");
        let server = self.peer.spawn(
            "python3",
            &[
                "-u",
                "-m",
                "http.server",
                "--bind",
                addr,
                "--directory",
                &www,
                "8000",
            ],
            "Serving HTTP",
        );
        self.servers.push(server);
    }

    /// Runs curl on `tap0` with `args`, at most `limit`.
    fn curl(&self, args: &[&str], limit: Duration) -> Output {
        let mut command = self.peer.command(CURL);
        command.args(["--tap", "tap0"]).args(args);
        run_limited(command, limit)
    }
}

/// The kernel is the peer of a link that may lose a third of the frames
/// (the fault tests): it keeps asking for the example's hardware address
/// and caps its retransmission backoff at 2 s, so that a run's length
/// reflects ethox rather than Linux's patience; with the shorter backoff
/// it must also retry more often before it gives a connection up (the
/// HTTP server closes its socket once the file is in the send buffer,
/// and an orphaned socket gets 8 retries by default). Settings a kernel
/// lacks are skipped. Sockets take the backoff cap when they are made:
/// this runs before any server starts.
fn tune_peer(peer: &Peer) {
    for setting in [
        "net.ipv4.tcp_rto_max_ms=2000",
        "net.ipv4.tcp_orphan_retries=30",
        "net.ipv4.tcp_retries2=30",
        "net.ipv4.neigh.tap0.ucast_solicit=10",
        "net.ipv4.neigh.tap0.mcast_solicit=10",
        "net.ipv4.neigh.tap0.base_reachable_time_ms=5000",
    ] {
        let _ = peer.command("sysctl").args(["-qw", setting]).output();
    }
}

/// `len` bytes from xorshift seeded by the clock.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Asserts curl succeeded and printed exactly `expected`.
fn assert_body(output: &Output, expected: &[u8], what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
    assert_eq!(
        output.stdout.len(),
        expected.len(),
        "{what}: length; {stderr}"
    );
    assert!(output.stdout == expected, "{what}: the bytes differ");
}

#[test]
fn fetches_a_file_by_name_byte_for_byte() {
    if !can_run(&["ip", "dnsmasq", "python3"]) {
        return;
    }
    let mut site = Site::new("curl-plain");
    site.serve_files("10.0.0.1");
    let started = Instant::now();
    let output = site.curl(
        &["-v", "-m", "60", "http://files.test:8000/file"],
        Duration::from_secs(90),
    );
    eprintln!("1 MiB in {:?}", started.elapsed());
    assert_body(&output, &site.file, "files.test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("* files.test is 10.0.0.1"),
        "looked up by name: {stderr}"
    );
    assert!(stderr.contains("< Content-Length: 1048576"), "{stderr}");
    // By address too, with -o.
    let out = site.dir.file("copy");
    let output = site.curl(
        &["-o", &out, "http://10.0.0.1:8000/file"],
        Duration::from_secs(90),
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(std::fs::read(&out).unwrap() == site.file, "-o file differs");
}

#[test]
fn drops_and_corruption_do_not_change_a_byte() {
    if !can_run(&["ip", "dnsmasq", "python3"]) {
        return;
    }
    let mut site = Site::new("curl-faults");
    site.serve_files("10.0.0.1");
    let started = Instant::now();
    let output = site.curl(
        &[
            "-v",
            "-m",
            "150",
            "--drop-chance",
            "15",
            "--corrupt-chance",
            "15",
            "http://files.test:8000/file",
        ],
        Duration::from_secs(180),
    );
    eprintln!(
        "1 MiB through 15 % drops and corruption in {:?}",
        started.elapsed()
    );
    assert_body(&output, &site.file, "with faults");
}

#[test]
fn ipv6_by_aaaa_and_by_literal() {
    if !can_run(&["ip", "dnsmasq", "python3"]) {
        return;
    }
    let mut site = Site::new("curl-v6");
    site.serve_files("fd00::1");
    let output = site.curl(
        &["-v", "-6", "-m", "60", "http://files.test:8000/file"],
        Duration::from_secs(90),
    );
    assert_body(&output, &site.file, "-6 files.test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("* files.test is fd00::1"), "{stderr}");
    assert!(
        stderr.contains("connecting to fd00::1 port 8000 from fd00::2"),
        "{stderr}"
    );
    let output = site.curl(
        &["-m", "60", "http://[fd00::1]:8000/file"],
        Duration::from_secs(90),
    );
    assert_body(&output, &site.file, "[fd00::1]");
}

#[test]
fn dhcp_gives_the_address_and_the_dns_server() {
    if !can_run(&["ip", "dnsmasq", "python3"]) {
        return;
    }
    let mut site = Site::new("curl-dhcp");
    site.serve_files("10.0.0.1");
    let output = site.curl(
        &["-v", "--dhcp", "-m", "60", "http://files.test:8000/file"],
        Duration::from_secs(90),
    );
    assert_body(&output, &site.file, "--dhcp");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let leased = stderr
        .lines()
        .find_map(|line| line.strip_prefix("* leased 10.0.0."))
        .unwrap_or_else(|| panic!("no lease: {stderr}"));
    let last: u8 = leased.split('/').next().unwrap().parse().unwrap();
    assert!((50..=99).contains(&last), "{leased}");
    assert!(
        stderr.contains("* looking up files.test (A) at 10.0.0.1"),
        "{stderr}"
    );
}

#[test]
fn chunked_kept_alive_closed_and_missing() {
    if !can_run(&["ip", "dnsmasq", "python3"]) {
        return;
    }
    let mut site = Site::new("curl-http11");
    let server = site
        .peer
        .spawn("python3", &["-u", "-c", HTTP11_SERVER], "ready");
    site.servers.push(server);
    let limit = Duration::from_secs(60);

    let chunked: Vec<u8> = (1..200u32)
        .flat_map(|i| std::iter::repeat_n((i % 251) as u8, (i * 37) as usize))
        .collect();
    let output = site.curl(&["-v", "http://files.test:8001/chunked"], limit);
    assert_body(&output, &chunked, "/chunked");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("< Transfer-Encoding: chunked"), "{stderr}");

    // The server keeps the connection open: the length ends the body,
    // and curl closes.
    let started = Instant::now();
    let output = site.curl(&["http://files.test:8001/keep"], limit);
    assert_body(&output, &b"kept alive\n".repeat(1000), "/keep");
    assert!(started.elapsed() < Duration::from_secs(10));

    let output = site.curl(&["http://10.0.0.1:8001/close"], limit);
    assert_body(&output, &b"until close\n".repeat(500), "/close");

    // A 404: the body is printed, the exit status is 1.
    let output = site.curl(&["http://files.test:8001/missing"], limit);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"no such thing\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("404"), "{stderr}");
}

#[test]
fn failures_are_reported() {
    if !can_run(&["ip", "dnsmasq"]) {
        return;
    }
    let site = Site::new("curl-fail");
    let limit = Duration::from_secs(30);
    // No such name: dnsmasq knows only files.test.
    let output = site.curl(&["http://nowhere.test:8000/"], limit);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not resolve nowhere.test"),
        "{stderr}"
    );
    // Nothing listens: the kernel resets the SYN.
    let output = site.curl(&["http://10.0.0.1:8000/"], limit);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Refused"), "{stderr}");
    // A bad URL is a usage error.
    let output = site.curl(&["https://files.test/"], limit);
    assert_eq!(output.status.code(), Some(2));
}
