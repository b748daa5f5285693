//! The examples' test harness: a network namespace with a TAP whose
//! kernel side is the peer (10.0.0.1/24, fd00::1/64; ethox takes .2 and
//! ::2), the example started inside it as a child process, and the
//! kernel's tools (ping, socat, python) driven against it. Everything is
//! removed afterwards: the child is killed by its PID, the namespace
//! deleted, also when a test fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The kernel's addresses on the TAP.
pub const PEER4: &str = "10.0.0.1";
pub const PEER6: &str = "fd00::1";
/// ethox's addresses (the examples' defaults).
pub const HOST4: &str = "10.0.0.2";
pub const HOST6: &str = "fd00::2";

#[path = "../../../ethox/tests/support/privilege.rs"]
mod privilege;
pub use privilege::{can_run, run};

/// A namespace with `tap0`: the kernel's end of the link, configured and
/// up, waiting for an example to attach.
pub struct Peer {
    name: String,
}

impl Peer {
    pub fn new(tag: &str) -> Peer {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ethox-ex-{}-{tag}-{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let peer = Peer { name };
        peer.ip(&["link", "set", "lo", "up"]);
        peer.ip(&["tuntap", "add", "dev", "tap0", "mode", "tap"]);
        peer.ip(&["addr", "add", &format!("{PEER4}/24"), "dev", "tap0"]);
        peer.ip(&[
            "-6",
            "addr",
            "add",
            &format!("{PEER6}/64"),
            "dev",
            "tap0",
            "nodad",
        ]);
        peer.ip(&["link", "set", "tap0", "up"]);
        peer
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n <name> args`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Starts `program args` inside the namespace with its stdin and
    /// stdout piped; it is killed when the returned [`Tool`] is dropped.
    pub fn spawn_tool(&self, program: &str, args: &[&str]) -> Tool {
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{program}: {err}"));
        Tool { child }
    }

    /// Waits until something in the namespace listens on TCP `port` (at
    /// most 5 s).
    pub fn wait_listening(&self, port: u16) {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let out = self
                .command("ss")
                .args(["-Hltn", &format!("sport = :{port}")])
                .output()
                .expect("ss");
            if !out.stdout.is_empty() {
                return;
            }
            assert!(Instant::now() < end, "nothing listens on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Tunes the kernel's side for a lossy path over IPv6: ethox's
    /// address known for good (solicitations get lost too), quick
    /// retransmissions that back off to at most 1 s, and enough of them
    /// not to give up.
    pub fn tune_for_loss(&self) {
        self.ip(&[
            "-6",
            "neigh",
            "replace",
            HOST6,
            "lladdr",
            "02:00:00:00:00:02",
            "dev",
            "tap0",
            "nud",
            "permanent",
        ]);
        self.ip(&[
            "-6",
            "route",
            "replace",
            "fd00::/64",
            "dev",
            "tap0",
            "rto_min",
            "10ms",
        ]);
        let sysctl = self
            .command("sysctl")
            .args([
                "-qw",
                "net.ipv4.tcp_retries2=100",
                "net.ipv4.tcp_orphan_retries=100",
                "net.ipv4.tcp_syn_retries=20",
            ])
            .status()
            .expect("sysctl");
        assert!(sysctl.success());
        // Since Linux 6.15; without it the kernel's timeouts back off
        // further and the tests take longer.
        let _ = self
            .command("sysctl")
            .args(["-qw", "net.ipv4.tcp_rto_max_ms=1000"])
            .status();
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Starts example `bin` (a path from `env!("CARGO_BIN_EXE_...")`) on
    /// `tap0` inside the namespace with `args`, and waits until it prints
    /// a line containing `ready` (at most 10 s).
    pub fn start(&self, bin: &str, args: &[&str]) -> Example {
        let mut child = self
            .command(bin)
            .arg("--tap")
            .arg("tap0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{bin}: {err}"));
        let stdout = child.stdout.take().expect("piped");
        let (lines, rx) = mpsc::channel();
        std::thread::spawn(move || forward_lines(stdout, lines));
        let mut example = Example {
            child,
            lines: rx,
            seen: Vec::new(),
        };
        example.wait_for("ready", Duration::from_secs(10));
        example
    }
}

impl Peer {
    /// Starts `bin` (an example without a NIC, or a kernel-side service
    /// like dnsmasq) inside the namespace with exactly `args` (no `--tap`
    /// added), its stdout and stderr lines both collected, and waits until
    /// one contains `ready` (at most 10 s).
    pub fn spawn(&self, bin: &str, args: &[&str], ready: &str) -> Example {
        let mut command = self.command(bin);
        command.args(args);
        let (child, lines) = launch(command, bin);
        let mut example = Example {
            child,
            lines,
            seen: Vec::new(),
        };
        example.wait_for(ready, Duration::from_secs(10));
        example
    }
}

/// Spawns `command` with its stdout and stderr lines sent, as they come,
/// to the receiver returned.
fn launch(mut command: Command, what: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (lines, rx) = mpsc::channel();
    let err_lines = lines.clone();
    std::thread::spawn(move || forward_lines(stdout, lines));
    std::thread::spawn(move || forward_lines(stderr, err_lines));
    (child, rx)
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn forward_lines(stream: impl Read, lines: mpsc::Sender<String>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        if lines.send(line).is_err() {
            return;
        }
    }
}

/// A program (an example, or a service like dnsmasq) running in a test
/// namespace; killed (by its PID) when dropped.
pub struct Example {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Example {
    /// Waits for a line of its output containing `text`; panics with what
    /// it printed if none comes within `limit`.
    pub fn wait_for(&mut self, text: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    let mut err = String::new();
                    if let (Some(mut stderr), Some(_)) = (self.child.stderr.take(), status) {
                        let _ = stderr.read_to_string(&mut err);
                    }
                    panic!(
                        "no line with {text:?} within {limit:?} (exit: {status:?}); output:\n{}\n{err}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Everything it printed so far.
    pub fn output(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.clone()
    }

    /// Waits for it to exit on its own (at most `limit`), returning its
    /// exit code and output.
    pub fn finish(mut self, limit: Duration) -> (Option<i32>, Vec<String>) {
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return (status.code(), self.output());
            }
            if Instant::now() > end {
                let output = self.output();
                panic!(
                    "still running after {limit:?}; output:\n{}",
                    output.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        // `ip netns exec` runs the example in its own process: killing it
        // ends the example (exec replaces it).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A kernel tool running in a test namespace; killed (by its PID) when
/// dropped.
pub struct Tool {
    pub child: Child,
}

impl Tool {
    /// Waits for it to exit, at most `limit`; `None` if it did not.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What it printed on stderr (after it exited).
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` with `input` on its stdin to its end or at most `limit`
/// (then kills it by its PID), reading its stdout and stderr meanwhile so
/// that a large output does not stall it; its output.
pub fn run_with_input(mut command: Command, input: &[u8], limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let out = read_in_thread(child.stdout.take().expect("piped"));
    let err = read_in_thread(child.stderr.take().expect("piped"));
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > end {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// [`run_with_input`] with nothing on stdin.
pub fn run_limited(command: Command, limit: Duration) -> Output {
    run_with_input(command, &[], limit)
}

/// Reads `stream` to its end on a thread of its own.
fn read_in_thread(mut stream: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        bytes
    })
}

/// A directory of its own under the system's temporary directory,
/// removed with everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ethox-ex-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path of `name` inside, as text.
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// dnsmasq on `tap0` of `peer`: DHCP for 10.0.0.50-99 (one hour), DNS on
/// port 53 answering `files.test` with 10.0.0.1 and nothing else, no
/// upstream; its lease file in `dir`. `extra` adds options.
pub fn dnsmasq(peer: &Peer, dir: &TempDir, extra: &[&str]) -> Example {
    let leases = format!("--dhcp-leasefile={}", dir.file("leases"));
    let pid = format!("--pid-file={}", dir.file("dnsmasq.pid"));
    let mut args = vec![
        "--no-daemon",
        "--interface=tap0",
        "--bind-interfaces",
        "--dhcp-range=10.0.0.50,10.0.0.99,255.255.255.0,1h",
        "--address=/files.test/10.0.0.1",
        "--no-resolv",
        "--no-hosts",
        "--no-ping",
        "--log-dhcp",
        "--log-queries",
        "-p",
        "53",
        leases.as_str(),
        pid.as_str(),
    ];
    args.extend_from_slice(extra);
    peer.spawn("dnsmasq", &args, "started")
}

/// A file in the temporary directory, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str) -> TempFile {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let file = format!("ethox-test-{}-{n}-{name}", std::process::id());
        TempFile(std::env::temp_dir().join(file))
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary directory")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the capture at `path` with tshark, every checksum verified:
/// fails the test if a frame is malformed or draws a warning, or if
/// fewer than `min_frames` are in it. Returns tshark's one-line summary
/// of each frame.
pub fn check_pcap(path: &Path, min_frames: usize) -> String {
    let checks = [
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
    ];
    let mut args = vec!["-r".to_string(), path.display().to_string()];
    for check in checks {
        args.push("-o".into());
        args.push(check.into());
    }
    let summary = Command::new("tshark").args(&args).output().expect("tshark");
    assert!(
        summary.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&summary.stderr)
    );
    let summary = String::from_utf8_lossy(&summary.stdout).into_owned();
    assert!(
        summary.lines().count() >= min_frames,
        "fewer than {min_frames} frames:\n{summary}"
    );
    args.push("-Y".into());
    args.push("_ws.malformed || _ws.expert.severity >= warning".into());
    let bad = Command::new("tshark").args(&args).output().expect("tshark");
    let bad = String::from_utf8_lossy(&bad.stdout);
    assert!(
        bad.trim().is_empty(),
        "malformed or suspect frames:\n{bad}\nall:\n{summary}"
    );
    summary
}
