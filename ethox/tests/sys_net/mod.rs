//! Shared by the system NIC tests (`sys_tap`, `sys_raw`): the privilege
//! check, network namespaces that remove themselves, and an ethox host
//! (Ethernet, IPv4, ICMP echo, UDP) running on a system NIC in a thread
//! of its own inside a test namespace, with the kernel as its peer.
//!
//! All traffic stays inside namespaces the tests create; each test's
//! namespaces carry the process id and a counter in their names, so
//! parallel tests and parallel runs do not meet.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use ethox::layer::icmp::IcmpStats;
use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::Routes;
use ethox::layer::udp;
use ethox::layer::{eth, icmp, ip};
use ethox::nic::sys::{RawSocket, SysStats, TapDevice};
use ethox::nic::{self, Device, Packet};
use ethox::time::Instant;
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, IpCidr, Ipv4Addr};

/// The system allocator, counting allocations per thread: the host loop
/// checks that the devices and the stack allocate nothing during traffic
/// (other threads, running commands, allocate as they like).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a thread-local integer without a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations this thread made so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// How long a stack thread runs at most, whatever the test does.
pub const STACK_LIMIT: Duration = Duration::from_secs(30);

#[path = "../support/privilege.rs"]
mod privilege;
pub use privilege::{can_run, run};

/// A network namespace for one test, removed when dropped (also when the
/// test fails).
pub struct Netns {
    name: String,
}

impl Netns {
    /// `ethox-test-<pid>-<tag>-<n>`, with its loopback up.
    pub fn new(tag: &str) -> Netns {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ethox-test-{}-{tag}-{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let netns = Netns { name };
        netns.ip(&["link", "set", "lo", "up"]);
        netns
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

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `body` on a thread inside `netns` (where the devices it opens
/// belong) and returns its result; a panic in `body` fails the caller.
pub fn in_netns<T: Send + 'static>(netns: &Netns, body: impl FnOnce() -> T + Send + 'static) -> T {
    let name = netns.name().to_string();
    std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&name).expect("setns");
        body()
    })
    .join()
    .expect("the thread in the namespace panicked")
}

/// A veth pair: `ours` in namespace `a` (up, no address: the stack's
/// link) and `peer` in `b` with `peer_addr`/24 (the kernel's).
pub fn veth_pair(a: &Netns, ours: &str, b: &Netns, peer: &str, peer_addr: &str) {
    a.ip(&[
        "link",
        "add",
        ours,
        "type",
        "veth",
        "peer",
        "name",
        peer,
        "netns",
        b.name(),
    ]);
    a.ip(&["link", "set", ours, "up"]);
    b.ip(&["addr", "add", &format!("{peer_addr}/24"), "dev", peer]);
    b.ip(&["link", "set", peer, "up"]);
}

/// Makes the kernel of `peer` send one 8000-byte echo request to `stack`
/// over the veth `our_link`/`peer_link`, whose ends' MTU it raises to
/// 9000 first (a stack that opened its socket for 1500 then gets frames
/// larger than its buffers). A static neighbor entry for the stack's
/// 02:00:00:00:00:02 makes the request leave at once; no answer is
/// awaited.
pub fn send_jumbo_ping(ours: &Netns, our_link: &str, peer: &Netns, peer_link: &str, stack: &str) {
    peer.ip(&["link", "set", peer_link, "mtu", "9000"]);
    ours.ip(&["link", "set", our_link, "mtu", "9000"]);
    peer.ip(&[
        "neigh",
        "add",
        stack,
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        peer_link,
    ]);
    let _ = peer
        .command("ping")
        .args(["-c", "1", "-s", "8000", "-W", "1", stack])
        .output();
}

/// Turns checksum offloading off on `link` in `netns` (`ethtool -K`):
/// the kernel then sends frames with finished checksums.
pub fn tx_checksumming_off(netns: &Netns, link: &str) {
    let output = netns
        .command("ethtool")
        .args(["-K", link, "tx-checksumming", "off"])
        .output()
        .expect("ethtool");
    assert!(output.status.success(), "{output:?}");
}

/// A system NIC as the host loop needs it.
pub trait SysNic: Device {
    fn wait(&self, timeout: Duration);
    fn counters(&self) -> SysStats;
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> SysNic for TapDevice<S, N> {
    fn wait(&self, timeout: Duration) {
        self.poll(Some(timeout)).expect("poll");
    }
    fn counters(&self) -> SysStats {
        self.stats()
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> SysNic for RawSocket<S, N> {
    fn wait(&self, timeout: Duration) {
        self.poll(Some(timeout)).expect("poll");
    }
    fn counters(&self) -> SysStats {
        self.stats()
    }
}

/// A datagram the application received.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub src: (IpAddr, u16),
    pub dst_port: u16,
    pub payload: Vec<u8>,
    /// Who the device said checks this datagram's checksum.
    pub checksum: ChecksumMode,
}

/// The application above UDP: echoes datagrams to its echo port in
/// place, records every datagram, and sends its queue.
#[derive(Debug, Default)]
pub struct App {
    pub echo_port: u16,
    /// Datagrams to send, front first: source port, destination, payload.
    pub queue: Vec<(u16, (IpAddr, u16), Vec<u8>)>,
    pub sent: usize,
    pub received: Vec<Datagram>,
    pub echoed: usize,
}

impl<D: Device> udp::Recv<D> for App {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        let dst_port = datagram.dst().1;
        self.received.push(Datagram {
            src: datagram.src(),
            dst_port,
            payload: datagram.payload().to_vec(),
            checksum: datagram.info().capabilities.udp.rx,
        });
        if dst_port == self.echo_port {
            let len = datagram.payload().len();
            if let Ok(out) = datagram.reply(len) {
                self.echoed += usize::from(out.send().is_ok());
            }
        }
    }
}

impl<D: Device> udp::Send<D> for App {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let Some((src_port, dst, payload)) = self.queue.first() else {
            return;
        };
        let init = udp::Init {
            src_port: *src_port,
            dst: *dst,
            payload_len: payload.len(),
        };
        // Until the peer's address is resolved this sends an ARP request
        // instead, and the datagram is tried again on a later call.
        if let Ok(mut out) = raw.prepare(init) {
            out.payload_mut().copy_from_slice(payload);
            if out.send().is_ok() {
                self.queue.remove(0);
                self.sent += 1;
            }
        }
    }
}

/// What the device lent, seen below Ethernet.
#[derive(Debug, Default, Clone)]
pub struct Frames {
    pub count: usize,
    /// Frames whose source address is the stack's own: looped-back sends.
    pub own: usize,
    /// Timestamps earlier than the one before.
    pub backwards: usize,
    pub last: Option<Instant>,
}

/// Records each frame in `frames`, then hands it to `inner`.
struct Inspect<'f, R> {
    mac: EthernetAddress,
    frames: &'f mut Frames,
    inner: R,
}

impl<D: Device, R: nic::Recv<D>> nic::Recv<D> for Inspect<'_, R> {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        use ethox::nic::Payload;
        let frame = packet.payload.payload();
        self.frames.count += 1;
        if frame.get(6..12) == Some(&self.mac.0[..]) {
            self.frames.own += 1;
        }
        let now = packet.info().timestamp;
        if self.frames.last.is_some_and(|last| now < last) {
            self.frames.backwards += 1;
        }
        self.frames.last = Some(now);
        self.inner.receive(packet)
    }
}

/// What a host thread did, read when it stopped.
#[derive(Debug)]
pub struct Report {
    pub app: App,
    pub frames: Frames,
    pub stats: SysStats,
    pub icmp: IcmpStats,
    pub rx_errors: Vec<nic::Error>,
    /// Allocations inside `rx` and `tx` calls (the application's own
    /// records of datagrams count too).
    pub allocations: u64,
    /// `sys::now()` when the loop ended: timestamps are on this clock.
    pub ended: Instant,
}

impl Report {
    /// Checks what every ping test expects after `ping -c 3` (whose
    /// output is `output`): every request answered, nothing allocated
    /// inside `rx`/`tx`, nothing refused by the kernel, none of the
    /// stack's own frames received back, timestamps in order.
    pub fn check_ping(&self, output: &str) {
        assert!(output.contains("3 received"), "{output}");
        assert!(self.icmp.echo_replies_sent >= 3, "{self:?}");
        assert!(self.rx_errors.is_empty(), "{self:?}");
        // Receiving, answering in place and sending allocated nothing.
        assert_eq!(self.allocations, 0, "{self:?}");
        assert_eq!(self.stats.tx_dropped, 0, "{self:?}");
        // Our replies never come back to us as received frames.
        assert_eq!(self.frames.own, 0, "{self:?}");
        // Timestamps come from the monotonic clock, in order.
        assert_eq!(self.frames.backwards, 0, "{self:?}");
    }

    /// Checks a TAP with offloads after `ping -c 3` (whose output is
    /// `output`) and a UDP echo of `payload` (answered with `answer`):
    /// the pings answered and nothing refused (our frames' all-zero
    /// virtio-net header says "complete"), and the kernel's UDP checksum
    /// left unfinished, reported as offloaded.
    #[allow(dead_code)]
    pub fn check_offloaded_echo(&self, output: &str, answer: &str, payload: &str) {
        assert!(output.contains("3 received"), "{output}");
        assert!(self.icmp.echo_replies_sent >= 3, "{self:?}");
        assert_eq!(self.stats.tx_dropped, 0, "{self:?}");
        assert_eq!(answer, payload);
        let first = &self.app.received[0];
        assert_eq!(first.payload, payload.as_bytes());
        assert_eq!(first.checksum, ChecksumMode::Offloaded);
        assert!(self.stats.rx_partial_checksum >= 1, "{self:?}");
    }
}

/// A host running in its own thread; stopped and joined by
/// [`finish`](Self::finish), or stopped when dropped.
pub struct Running {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Report>>,
    pub mac: EthernetAddress,
}

impl Running {
    pub fn finish(mut self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().expect("joined once");
        handle.join().expect("the stack thread panicked")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Starts a host with address `addr`/24 and `app` in namespace `netns`:
/// the thread enters the namespace, opens its NIC with `open` (which
/// returns the NIC and the host's MAC address), and serves until
/// stopped or [`STACK_LIMIT`]. Returns once the NIC is open.
pub fn start<D, F>(netns: &Netns, addr: Ipv4Addr, mut app: App, open: F) -> Running
where
    D: SysNic,
    F: FnOnce() -> Result<(D, EthernetAddress), ethox::nic::sys::Error> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let name = netns.name().to_string();
    let thread_stop = stop.clone();
    let handle = std::thread::spawn(move || {
        let opened = ethox::nic::sys::enter_netns(&name).and_then(|()| open());
        let (mut nic, mac) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                let _ = ready_tx.send(Err(err.to_string()));
                panic!("set-up failed: {err}");
            }
        };
        let _ = ready_tx.send(Ok(mac));
        let cache = || NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default());
        let mut ip = ip::Endpoint::new(
            vec![None; 2],
            Routes::new(vec![None; 2]),
            cache(),
            NeighborCache::new(vec![Neighbor::EMPTY; 8], NeighborConfig::default()),
        );
        assert!(ip.add_addr(IpCidr::new(IpAddr::V4(addr), 24).unwrap()));
        let mut eth = eth::Endpoint::new(mac);
        let mut icmp = icmp::Endpoint::new();
        let mut udp = udp::Endpoint::new(vec![None; 4], 0x4242);
        if app.echo_port != 0 {
            udp.bind(app.echo_port).unwrap();
        }
        let mut frames = Frames::default();
        let mut rx_errors = Vec::with_capacity(64);
        let mut allocated = 0;
        let started = std::time::Instant::now();
        while !thread_stop.load(Ordering::Relaxed) && started.elapsed() < STACK_LIMIT {
            nic.wait(Duration::from_millis(10));
            let receiver = Inspect {
                mac,
                frames: &mut frames,
                inner: eth.recv(ip.recv(icmp.recv(udp.recv(&mut app)))),
            };
            let before = allocations();
            let received = nic.rx(32, receiver);
            let sent = nic.tx(32, eth.send(ip.send(udp.send(&mut app))));
            allocated += allocations() - before;
            if let Err(err) = received {
                rx_errors.push(err);
            }
            sent.expect("tx");
        }
        Report {
            app,
            frames,
            stats: nic.counters(),
            icmp: icmp.stats(),
            rx_errors,
            allocations: allocated,
            ended: ethox::nic::sys::now(),
        }
    });
    match ready_rx.recv() {
        Ok(Ok(mac)) => Running {
            stop,
            handle: Some(handle),
            mac,
        },
        Ok(Err(err)) => panic!("the stack could not start: {err}"),
        Err(_) => panic!("the stack thread died: {:?}", handle.join().err()),
    }
}

/// A UDP client in `netns`, by Python: sends `payload` to `dst`:`port`
/// up to five times, a second apart, and returns the first answer.
pub fn udp_exchange(netns: &Netns, dst: &str, port: u16, payload: &str) -> String {
    let script = format!(
        "import socket\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.settimeout(1)\n\
         for _ in range(5):\n\
         \x20   s.sendto(b'{payload}', ('{dst}', {port}))\n\
         \x20   try:\n\
         \x20       print(s.recvfrom(2048)[0].decode())\n\
         \x20       break\n\
         \x20   except socket.timeout:\n\
         \x20       pass\n"
    );
    let output = netns
        .command("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A UDP server socket of the kernel in a namespace, by Python: takes
/// one datagram on a port, within ten seconds.
pub struct UdpServer {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl UdpServer {
    /// Listens on `port` of every address of `netns`; returns once the
    /// socket is bound.
    pub fn start(netns: &Netns, port: u16) -> UdpServer {
        let script = format!(
            "import socket\n\
             s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             s.bind(('0.0.0.0', {port}))\n\
             s.settimeout(10)\n\
             print('ready', flush=True)\n\
             data, src = s.recvfrom(2048)\n\
             print(data.decode(), src[0], src[1])\n"
        );
        let mut child = netns
            .command("python3")
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let mut server = UdpServer { child, stdout };
        assert_eq!(server.line(), "ready");
        server
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut self.stdout, &mut line).expect("read");
        line.trim().to_string()
    }

    /// Waits for the datagram: `"<payload> <source address> <port>"`.
    pub fn received(mut self) -> String {
        let line = self.line();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "the UDP server failed: {line}");
        line
    }
}

/// `ping -c <count>` from `netns` to `dst`; returns ping's output after
/// checking it exited successfully (every reply came).
pub fn ping(netns: &Netns, dst: &str, count: u32) -> String {
    let output = netns
        .command("ping")
        .args(["-c", &count.to_string(), "-i", "0.2", "-w", "10", dst])
        .output()
        .expect("ping");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "ping failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}
