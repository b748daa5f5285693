//! Frames per second received and sent by ethox's NICs, side by side on
//! the same links in the same run: `TapDevice` and `RawSocket` against
//! the io_uring NIC over a TAP and over an `AF_PACKET` socket, in both
//! receive modes. No stack above the NIC: the frames are counted (receive)
//! or written once and sent again and again (transmit), so the figures
//! are the device's own cost.
//!
//! ```text
//! cargo run --release -p ethox-io-uring --example frames_bench [SECONDS] [RUNS] [LEN] [ONLY]   (as root)
//! ```
//!
//! LEN is the frame length, 60 (the default) to 1514. ONLY, if given,
//! keeps the devices whose label contains it (`TAP`, `Multishot`,
//! `RawSocket`, ...), for profiling one of them.
//!
//! The links, in namespaces this program creates (named with its process
//! id) and removes when it ends, also on a panic:
//!
//! * TAP: `tapgen` and `tapdut` joined by a bridge. A generator (the
//!   io_uring NIC, sending) writes LEN-byte frames into `tapgen`; the
//!   bridge floods them to `tapdut`, where the device under test reads
//!   them. Transmit is measured on `tapdut` alone (out of the bridge): the
//!   kernel takes each frame and drops it (not for its address).
//! * veth: `vgen` in one namespace, `vdut` in another. The generator
//!   sends out of `vgen` through a packet socket; the device under test
//!   reads from `vdut`, and sends out of it for transmit.
//!
//! Receive rates are what the device took while the generator ran flat
//! out for SECONDS (default 2); both share the machine's CPUs, so a rate
//! is also bounded by the generator. Each figure is the median of RUNS
//! (default 3). Compare figures inside one run only: placement on the
//! CPUs moves them by tens of percent from run to run.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ethox::nic::sys::{RawSocket, TapDevice, enter_netns};
use ethox::nic::{Device, Handle, Packet, PayloadMut, Recv, Send};
use ethox_io_uring::{Config, RxMode, UringNic};

/// Frames a system NIC of ethox holds.
const SLOTS: usize = 512;
/// Frames lent per `rx`/`tx` call, for every device.
const BATCH: usize = 256;
/// The most frames one generator run sends, whatever the time.
const MAX_FRAMES: u64 = 50_000_000;

/// A namespace removed on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("uring-bench-{}-{tag}", std::process::id());
        run(&["ip", "netns", "add", &name]);
        Netns(name)
    }

    fn ip(&self, args: &[&str]) {
        let mut all = vec!["ip", "-n", &self.0];
        all.extend_from_slice(args);
        run(&all);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn run(args: &[&str]) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|err| panic!("{}: {err}", args[0]));
    assert!(status.success(), "{args:?} failed");
}

/// The device under test, as the loops need it.
trait Dut: Device {
    /// Sleeps until something may be ready, at most a millisecond.
    fn idle(&self);
    /// Frames the kernel took.
    fn sent(&self) -> u64;
}

impl Dut for TapDevice<Vec<u8>, SLOTS> {
    fn idle(&self) {
        let _ = self.poll(Some(Duration::from_millis(1)));
    }
    fn sent(&self) -> u64 {
        self.stats().tx_frames
    }
}

impl Dut for RawSocket<Vec<u8>, SLOTS> {
    fn idle(&self) {
        let _ = self.poll(Some(Duration::from_millis(1)));
    }
    fn sent(&self) -> u64 {
        self.stats().tx_frames
    }
}

impl Dut for UringNic {
    fn idle(&self) {
        let _ = self.wait(Some(Duration::from_millis(1)));
    }
    fn sent(&self) -> u64 {
        self.stats().tx_frames
    }
}

/// Counts frames.
struct Count(u64);

impl<D: Device> Recv<D> for Count {
    fn receive(&mut self, _: Packet<'_, '_, D>) {
        self.0 += 1;
    }
}

/// Fills each buffer with a frame of this length to nobody (a locally
/// administered address no interface has) of an experimental type.
#[derive(Clone, Copy)]
struct Blast(usize);

impl<D: Device> Send<D> for Blast {
    fn send(&mut self, packet: Packet<'_, '_, D>) {
        if packet.payload.resize(self.0).is_err() {
            return;
        }
        let frame = packet.payload.payload_mut();
        frame[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
        frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x01]);
        frame[12..14].copy_from_slice(&[0x88, 0xb5]);
        let _ = packet.handle.queue();
    }
}

/// The CPU time the calling thread used so far, in nanoseconds: what
/// the device costs, however busy the machine is with other work.
fn thread_cpu_ns() -> u64 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a writable timespec; the call writes only it.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64
}

/// Frames per second, and CPU nanoseconds of the device's thread per
/// frame.
type Rate = (f64, f64);

fn rate(frames: u64, started: Instant, cpu_before: u64) -> Rate {
    let cpu = (thread_cpu_ns() - cpu_before) as f64;
    (
        frames as f64 / started.elapsed().as_secs_f64(),
        cpu / frames.max(1) as f64,
    )
}

/// Receives for `seconds`.
fn receive<D: Dut>(mut dut: D, seconds: f64) -> Rate {
    let mut count = Count(0);
    let cpu = thread_cpu_ns();
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        dut.idle();
        let _ = dut.rx(BATCH, &mut count);
    }
    rate(count.0, started, cpu)
}

/// Sends for `seconds`; counts the frames the kernel took.
fn transmit<D: Dut>(mut dut: D, seconds: f64, blast: Blast) -> Rate {
    let before = dut.sent();
    let cpu = thread_cpu_ns();
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds {
        if dut.tx(BATCH, blast).unwrap_or(0) == 0 {
            dut.idle();
        }
    }
    // Take the last completions.
    let _ = dut.rx(0, Count(0));
    rate(dut.sent() - before, started, cpu)
}

/// A generator sending out of `interface` in `netns` (a TAP or a packet
/// socket) until `stop`, bounded in count and time.
/// Returns the rate it sent at, in frames per second.
fn generator(
    netns: &str,
    interface: &'static str,
    tap: bool,
    blast: Blast,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<f64> {
    let netns = netns.to_string();
    thread::spawn(move || {
        enter_netns(&netns).expect("setns");
        let config = Config {
            rx_buffers: Some(16),
            single_thread: true,
            ..Config::default()
        };
        let mut nic = retry(|| {
            if tap {
                UringNic::open_tap(interface, &config)
            } else {
                UringNic::open_packet(interface, &config)
            }
        });
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed)
            && nic.stats().tx_frames < MAX_FRAMES
            && started.elapsed() < Duration::from_secs(600)
        {
            if nic.tx(BATCH, blast).unwrap_or(0) == 0 {
                nic.idle();
            }
        }
        nic.stats().tx_frames as f64 / started.elapsed().as_secs_f64()
    })
}

/// Opens with `open`, again for a moment while the kernel still holds a
/// TAP its previous owner closed.
fn retry<T, E: std::fmt::Display>(mut open: impl FnMut() -> Result<T, E>) -> T {
    let started = Instant::now();
    loop {
        match open() {
            Ok(value) => return value,
            Err(err) if started.elapsed() > Duration::from_secs(2) => panic!("{err}"),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The device kinds compared.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Tap,
    Raw,
    /// With whether the ring is for one thread (deferred task running).
    UringTap(RxMode, bool),
    UringPacket(RxMode, bool),
}

impl Kind {
    fn label(self) -> String {
        match self {
            Kind::Tap => "TapDevice".into(),
            Kind::Raw => "RawSocket".into(),
            Kind::UringTap(mode, one) => format!("UringNic TAP {mode:?}{}", thread(one)),
            Kind::UringPacket(mode, one) => {
                format!("UringNic AF_PACKET {mode:?}{}", thread(one))
            }
        }
    }

    fn is_tap(self) -> bool {
        matches!(self, Kind::Tap | Kind::UringTap(..))
    }
}

fn thread(single: bool) -> &'static str {
    if single { " 1-thread" } else { "" }
}

/// Runs `body` with the device of `kind` on `interface`, in `netns`.
fn with_device(
    netns: &str,
    interface: &'static str,
    kind: Kind,
    seconds: f64,
    rx: Option<Blast>,
) -> Rate {
    let netns = netns.to_string();
    thread::spawn(move || {
        enter_netns(&netns).expect("setns");
        let storage = || vec![0u8; SLOTS * 1514];
        let config = |mode, single_thread| Config {
            rx_mode: mode,
            single_thread,
            ..Config::default()
        };
        macro_rules! go {
            ($dut:expr) => {
                match rx {
                    None => receive($dut, seconds),
                    Some(blast) => transmit($dut, seconds, blast),
                }
            };
        }
        match kind {
            Kind::Tap => go!(retry(|| TapDevice::<_, SLOTS>::open(interface, storage()))),
            Kind::Raw => go!(retry(|| RawSocket::<_, SLOTS>::open(interface, storage()))),
            Kind::UringTap(mode, one) => {
                go!(retry(|| UringNic::open_tap(interface, &config(mode, one))))
            }
            Kind::UringPacket(mode, one) => {
                go!(retry(|| UringNic::open_packet(
                    interface,
                    &config(mode, one)
                )))
            }
        }
    })
    .join()
    .expect("device thread")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The medians of the rates and of the costs.
fn medians(rates: &[Rate]) -> Rate {
    (
        median(rates.iter().map(|r| r.0).collect()),
        median(rates.iter().map(|r| r.1).collect()),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(2.0, |s| s.parse().expect("SECONDS"));
    let runs: usize = args.next().map_or(3, |s| s.parse().expect("RUNS"));
    let len: usize = args.next().map_or(60, |s| s.parse().expect("LEN"));
    assert!((60..=1514).contains(&len), "LEN: 60 to 1514");
    let blast = Blast(len);
    let only = args.next().unwrap_or_default();
    // The TAP link: two persistent TAPs and a bridge.
    let tap_ns = Netns::new("tap");
    for tap in ["tapgen", "tapdut"] {
        tap_ns.ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
    }
    tap_ns.ip(&["link", "add", "br0", "type", "bridge"]);
    tap_ns.ip(&["link", "set", "tapgen", "master", "br0"]);
    for link in ["br0", "tapgen", "tapdut"] {
        tap_ns.ip(&["link", "set", link, "up"]);
    }
    // The veth link.
    let gen_ns = Netns::new("gen");
    let dut_ns = Netns::new("dut");
    gen_ns.ip(&[
        "link", "add", "vgen", "type", "veth", "peer", "name", "vdut", "netns", &dut_ns.0,
    ]);
    gen_ns.ip(&["link", "set", "vgen", "up"]);
    dut_ns.ip(&["link", "set", "vdut", "up"]);

    let kinds = [
        Kind::Tap,
        Kind::UringTap(RxMode::Multishot, false),
        Kind::UringTap(RxMode::Multishot, true),
        Kind::UringTap(RxMode::SingleShot, true),
        Kind::Raw,
        Kind::UringPacket(RxMode::Multishot, false),
        Kind::UringPacket(RxMode::Multishot, true),
        Kind::UringPacket(RxMode::SingleShot, true),
    ];
    println!("{seconds} s per measurement, median of {runs} runs, {len}-byte frames");
    println!("(ns/frame: CPU time of the device's thread per frame)");
    println!(
        "{:<38} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "device", "rx frames/s", "(offered/s)", "rx ns/frame", "tx frames/s", "tx ns/frame"
    );
    for kind in kinds.into_iter().filter(|k| k.label().contains(&only)) {
        let (mut rx, mut offered, mut tx) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            // Receive: the generator feeds the link while the device reads.
            let stop = Arc::new(AtomicBool::new(false));
            let (gen_netns, gen_link, netns, link) = if kind.is_tap() {
                tap_ns.ip(&["link", "set", "tapdut", "master", "br0"]);
                (&tap_ns.0, "tapgen", &tap_ns.0, "tapdut")
            } else {
                (&gen_ns.0, "vgen", &dut_ns.0, "vdut")
            };
            let generator = generator(gen_netns, gen_link, kind.is_tap(), blast, stop.clone());
            thread::sleep(Duration::from_millis(200));
            rx.push(with_device(netns, link, kind, seconds, None));
            stop.store(true, Ordering::Relaxed);
            offered.push(generator.join().expect("generator"));
            // Transmit: the device alone on its link.
            if kind.is_tap() {
                tap_ns.ip(&["link", "set", "tapdut", "nomaster"]);
                tap_ns.ip(&["link", "set", "tapdut", "up"]);
            }
            tx.push(with_device(netns, link, kind, seconds, Some(blast)));
        }
        let (rx, rx_cost) = medians(&rx);
        let (tx, tx_cost) = medians(&tx);
        println!(
            "{:<38} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>12.0}",
            kind.label(),
            rx,
            median(offered),
            rx_cost,
            tx,
            tx_cost
        );
    }
}
