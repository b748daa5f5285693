//! Frames per second through an `XdpDevice` (native and generic XDP
//! mode) and through ethox's `RawSocket` (AF_PACKET), on the same veth
//! pair in the same run: receiving (spinning, and sleeping in `poll`
//! between batches) and sending, with 60-byte frames. Needs root.
//!
//! ```text
//! cargo run -p ethox-afxdp --release --example xdp_bench [-- SECONDS]
//! ```
//!
//! Receiving: an `XdpDevice` on the other end of the veth (native mode)
//! sends as fast as it can; the device under test counts what it is lent
//! during SECONDS (default 2). The sender is the same for every receiver,
//! so a receiver faster than it shows the sender's rate. Sending: the
//! device under test sends as fast as it can during SECONDS; "sent" is
//! what the kernel reported taken, "delivered" what the other end's
//! counters show received.
//!
//! Figures vary by 10-40% from run to run on a shared VM: compare rows
//! of one run, as ratios.

#[path = "../../ethox/tests/sys_net/mod.rs"]
mod sys_net;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ethox::nic::sys::RawSocket;
use ethox::nic::{Device, Handle, Packet, PayloadMut, Recv, Send};
use ethox_afxdp::{Config, XdpDevice, XdpMode};
use sys_net::{Netns, can_run};

const OURS: &str = "veth-bench";
const PEER: &str = "veth-blast";
const OURS_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// An EtherType for local experiments (IEEE 802 local experimental 1):
/// the kernel's stack ignores it.
const ETHERTYPE: [u8; 2] = [0x88, 0xb5];
/// Frames per `rx`/`tx` call.
const BATCH: usize = 64;
/// Buffers of the AF_PACKET device.
const SLOTS: usize = 256;
/// No run lends or sends more than this many frames, whatever the time.
const MAX_FRAMES: u64 = 200_000_000;

/// Which device is measured.
#[derive(Clone, Copy)]
enum Kind {
    Xdp(XdpMode),
    Raw,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Xdp(XdpMode::Native) => "AF_XDP native",
            Kind::Xdp(XdpMode::Generic) => "AF_XDP generic",
            Kind::Raw => "AF_PACKET (RawSocket)",
        }
    }
}

fn xdp_config(mode: XdpMode) -> Config {
    Config {
        frames: 4096,
        mode,
        ..Config::default()
    }
}

/// Counts the frames it is lent.
struct Count(u64);

impl<D: Device> Recv<D> for Count {
    fn receive(&mut self, _: Packet<'_, '_, D>) {
        self.0 += 1;
    }
}

/// Fills every buffer it is lent with a 60-byte frame from `src` to
/// `dst`.
struct Blast {
    frame: [u8; 60],
}

impl Blast {
    fn new(src: [u8; 6], dst: [u8; 6]) -> Blast {
        let mut frame = [0u8; 60];
        frame[..6].copy_from_slice(&dst);
        frame[6..12].copy_from_slice(&src);
        frame[12..14].copy_from_slice(&ETHERTYPE);
        Blast { frame }
    }
}

impl<D: Device> Send<D> for Blast {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        if packet.payload.resize(60).is_ok() {
            packet.payload.payload_mut().copy_from_slice(&self.frame);
            let _ = packet.handle.queue();
        }
    }
}

/// A device that can sleep until a frame arrives.
trait Sleep: Device {
    fn sleep(&self, timeout: Duration);
}

impl Sleep for XdpDevice {
    fn sleep(&self, timeout: Duration) {
        self.wait(Some(timeout)).expect("poll");
    }
}

impl Sleep for RawSocket<Vec<u8>, SLOTS> {
    fn sleep(&self, timeout: Duration) {
        self.poll(Some(timeout)).expect("poll");
    }
}

/// The CPU time the calling thread used so far, in seconds, from
/// `/proc/thread-self/stat` (user and system time, in ticks of 1/100 s).
fn thread_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // The fields after the command name in parentheses start at the
    // third; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// What a receiving run measured.
struct Received {
    frames: u64,
    secs: f64,
    cpu_secs: f64,
}

impl Received {
    fn rate(&self) -> String {
        format!(
            "{:>5.2} M/s, {:>3.0}% of a CPU",
            self.frames as f64 / self.secs / 1e6,
            100.0 * self.cpu_secs / self.secs
        )
    }
}

/// Receives on `device` for `secs`, spinning or (`poll`) sleeping until
/// a frame arrives between batches.
fn receive<D: Sleep>(device: &mut D, poll: bool, secs: f64) -> Received {
    let mut count = Count(0);
    let cpu = thread_cpu_secs();
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < secs && count.0 < MAX_FRAMES {
        if poll {
            device.sleep(Duration::from_millis(10));
        }
        device.rx(BATCH, &mut count).expect("rx");
    }
    Received {
        frames: count.0,
        secs: started.elapsed().as_secs_f64(),
        cpu_secs: thread_cpu_secs() - cpu,
    }
}

/// Sends on `device` until `stop` or `secs` pass; returns the frames
/// queued.
fn send<D: Device>(device: &mut D, stop: &AtomicBool, secs: f64) -> u64 {
    let mut blast = Blast::new(PEER_MAC, OURS_MAC);
    let started = Instant::now();
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) && started.elapsed().as_secs_f64() < secs {
        sent += device.tx(BATCH, &mut blast).expect("tx") as u64;
        if sent > MAX_FRAMES {
            break;
        }
    }
    sent
}

/// Receive rate of `kind` on our end while the other end blasts.
fn measure_rx(ours: &Netns, peer: &Netns, kind: Kind, poll: bool, secs: f64) -> String {
    let stop = Arc::new(AtomicBool::new(false));
    let sender_stop = stop.clone();
    let peer_name = peer.name().to_string();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let sender = std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&peer_name).expect("setns");
        let mut blaster =
            XdpDevice::open(PEER, xdp_config(XdpMode::Native)).unwrap_or_else(|e| panic!("{e}"));
        // Sends until told to stop, at most a few seconds past the run.
        let _ = ready_rx.recv();
        send(&mut blaster, &sender_stop, secs + 5.0)
    });
    let ours_name = ours.name().to_string();
    let report = std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&ours_name).expect("setns");
        let started = |()| ready_tx.send(()).expect("sender");
        match kind {
            Kind::Xdp(mode) => {
                let mut device =
                    XdpDevice::open(OURS, xdp_config(mode)).unwrap_or_else(|e| panic!("{e}"));
                started(());
                let received = receive(&mut device, poll, secs);
                let kernel = device.stats().kernel;
                format!(
                    "{}  (dropped: RX ring full {}, fill ring empty {})",
                    received.rate(),
                    kernel.rx_ring_full,
                    kernel.rx_fill_ring_empty
                )
            }
            Kind::Raw => {
                let mut device = RawSocket::<_, SLOTS>::open(OURS, vec![0u8; SLOTS * 1514])
                    .unwrap_or_else(|e| panic!("{e}"));
                started(());
                receive(&mut device, poll, secs).rate()
            }
        }
    })
    .join();
    stop.store(true, Ordering::Relaxed);
    let offered = sender.join().expect("the sender panicked");
    let report = report.expect("the receiver panicked");
    format!(
        "{report}  [sender queued {:.2} M/s]",
        offered as f64 / secs / 1e6
    )
}

/// Frames the interface `name` in `netns` received, from `ip -s link`.
fn received_by(netns: &Netns, name: &str) -> u64 {
    let output = netns.ip(&["-s", "link", "show", "dev", name]);
    let text = String::from_utf8_lossy(&output.stdout);
    // "RX:  bytes packets errors ..." then a line of numbers.
    let mut lines = text
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("RX:"));
    lines
        .nth(1)
        .and_then(|numbers| numbers.split_whitespace().nth(1))
        .and_then(|packets| packets.parse().ok())
        .unwrap_or(0)
}

/// Send rate of `kind` on our end.
fn measure_tx(ours: &Netns, peer: &Netns, kind: Kind, secs: f64) -> String {
    let before = received_by(peer, PEER);
    let ours_name = ours.name().to_string();
    let (sent, took) = std::thread::spawn(move || {
        ethox::nic::sys::enter_netns(&ours_name).expect("setns");
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        match kind {
            Kind::Xdp(mode) => {
                let mut device =
                    XdpDevice::open(OURS, xdp_config(mode)).unwrap_or_else(|e| panic!("{e}"));
                send(&mut device, &stop, secs);
                let took = started.elapsed().as_secs_f64();
                // Collect the last completions.
                std::thread::sleep(Duration::from_millis(50));
                device.tx(0, Blast::new(OURS_MAC, PEER_MAC)).expect("tx");
                (device.stats().tx_completed, took)
            }
            Kind::Raw => {
                let mut device = RawSocket::<_, SLOTS>::open(OURS, vec![0u8; SLOTS * 1514])
                    .unwrap_or_else(|e| panic!("{e}"));
                send(&mut device, &stop, secs);
                (device.stats().tx_frames, started.elapsed().as_secs_f64())
            }
        }
    })
    .join()
    .expect("the sender panicked");
    let delivered = received_by(peer, PEER).saturating_sub(before);
    format!(
        "{:>6.2} M/s sent, {:>6.2} M/s delivered",
        sent as f64 / took / 1e6,
        delivered as f64 / took / 1e6
    )
}

fn main() {
    if !can_run(&["ip"]) {
        return;
    }
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .filter(|&secs| secs > 0.0 && secs <= 30.0)
        .unwrap_or(2.0);
    let ours = Netns::new("bench-a");
    let peer = Netns::new("bench-b");
    ours.ip(&[
        "link",
        "add",
        OURS,
        "type",
        "veth",
        "peer",
        "name",
        PEER,
        "netns",
        peer.name(),
    ]);
    ours.ip(&["link", "set", OURS, "address", "02:00:00:00:00:01", "up"]);
    peer.ip(&["link", "set", PEER, "address", "02:00:00:00:00:02", "up"]);

    println!("60-byte frames over a veth, {secs} s per row, batches of {BATCH}");
    println!("receive (sender: AF_XDP native on the other end)");
    for kind in [
        Kind::Xdp(XdpMode::Native),
        Kind::Xdp(XdpMode::Generic),
        Kind::Raw,
    ] {
        for poll in [false, true] {
            let how = if poll { "poll" } else { "spin" };
            let result = measure_rx(&ours, &peer, kind, poll, secs);
            println!("  {:<22} {how}: {result}", kind.label());
        }
    }
    println!("send (spinning)");
    for kind in [
        Kind::Xdp(XdpMode::Native),
        Kind::Xdp(XdpMode::Generic),
        Kind::Raw,
    ] {
        let result = measure_tx(&ours, &peer, kind, secs);
        println!("  {:<22} {result}", kind.label());
    }
}
