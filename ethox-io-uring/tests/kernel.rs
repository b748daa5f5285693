//! The io_uring NIC against the kernel, through ethox's system NIC test
//! harness (`ethox/tests/sys_net`): namespaces the tests create (named
//! with the process id, removed afterwards), an ethox host (Ethernet,
//! IPv4, ICMP echo, UDP) in a thread of its own, and the kernel's `ping`
//! and a Python UDP socket as peers.
//!
//! * over a TAP in a namespace (kernel 10.0.0.1, ethox 10.0.0.2);
//! * over an `AF_PACKET` socket on a veth between two namespaces (kernel
//!   10.0.1.1, ethox 10.0.1.2 on the veth's own MAC address);
//!
//! each in both receive modes, and with a ring for one thread (deferred
//! task running). Needs root (prints "skipped: needs root"
//! otherwise, or fails with ETHOX_REQUIRE_NET=1).

#[path = "../../ethox/tests/sys_net/mod.rs"]
mod sys_net;

use std::time::{Duration, Instant};

use ethox::nic::sys::SysStats;
use ethox::nic::{Device, Packet, Payload, Recv};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, Ipv4Addr};
use ethox_io_uring::{Config, RxMode, UringNic};
use sys_net::{App, Netns, SysNic, can_run, in_netns, ping, start, udp_exchange, veth_pair};

impl SysNic for UringNic {
    fn wait(&self, timeout: Duration) {
        UringNic::wait(self, Some(timeout)).expect("wait");
    }
    fn counters(&self) -> SysStats {
        self.stats().into()
    }
}

/// The receive modes, and whether the ring is the creating thread's
/// alone (deferred task running).
const MODES: [(RxMode, bool); 3] = [
    (RxMode::Multishot, false),
    (RxMode::SingleShot, false),
    (RxMode::Multishot, true),
];

const TAP: &str = "uring0";
const TAP_KERNEL: &str = "10.0.0.1";
const TAP_STACK: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const TAP_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

const OURS: &str = "veth-uring";
const PEER: &str = "veth-kernel";
const VETH_KERNEL: &str = "10.0.1.1";
const VETH_STACK: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);

fn config((mode, single_thread): (RxMode, bool)) -> Config {
    Config {
        buffers: 256,
        rx_mode: mode,
        single_thread,
        ..Config::default()
    }
}

/// [`config`] with the kernel's offloads on frames of `frame_size` bytes.
fn offload_config(mode: (RxMode, bool), frame_size: usize) -> Config {
    Config {
        frame_size,
        offload: true,
        ..config(mode)
    }
}

/// The stack with `app` on a new TAP in `netns`, the kernel side up with
/// its address.
fn start_on_tap(netns: &Netns, mode: (RxMode, bool), app: App) -> sys_net::Running {
    let running = start(netns, TAP_STACK, app, move || {
        let nic = UringNic::open_tap(TAP, &config(mode)).expect("io_uring TAP");
        assert_eq!(nic.name(), Some(TAP));
        assert_eq!(nic.mtu(), Some(1500));
        assert_eq!(nic.multishot(), mode.0 == RxMode::Multishot);
        // Root may pin memory: the buffers are registered.
        assert!(nic.registered_buffers());
        nic.set_up().expect("set up");
        Ok((nic, TAP_MAC))
    });
    netns.ip(&["addr", "add", &format!("{TAP_KERNEL}/24"), "dev", TAP]);
    running
}

/// Namespaces joined by a veth, and the stack with `app` on our end.
fn start_on_veth(tag: &str, mode: (RxMode, bool), app: App) -> (Netns, Netns, sys_net::Running) {
    let ours = Netns::new(&format!("{tag}-a"));
    let peer = Netns::new(&format!("{tag}-b"));
    veth_pair(&ours, OURS, &peer, PEER, VETH_KERNEL);
    let running = start(&ours, VETH_STACK, app, move || {
        let nic = UringNic::open_packet(OURS, &config(mode)).expect("io_uring packet socket");
        assert_eq!(nic.multishot(), mode.0 == RxMode::Multishot);
        let mac = nic.mac_address().expect("an interface's address");
        Ok((nic, mac))
    });
    (ours, peer, running)
}

/// Gives the kernel side of the TAP its address and a static neighbor
/// entry for the stack (02:00:00:00:00:02), so that it sends to the
/// stack's address without asking first.
fn kernel_side_without_arp(netns: &Netns) {
    netns.ip(&["addr", "add", &format!("{TAP_KERNEL}/24"), "dev", TAP]);
    netns.ip(&[
        "neigh",
        "add",
        &TAP_STACK.to_string(),
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        TAP,
    ]);
}

fn echo_app() -> App {
    App {
        echo_port: 7,
        ..App::default()
    }
}

#[test]
fn kernel_pings_over_a_tap_are_answered_in_both_modes() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    for mode in MODES {
        let netns = Netns::new("uring-tap-ping");
        let running = start_on_tap(&netns, mode, App::default());
        let output = ping(&netns, &TAP_STACK.to_string(), 3);
        let report = running.finish();
        report.check_ping(&output);
        // The answers to the ARP request and the three echo requests.
        assert!(report.stats.tx_frames > 3, "{mode:?}: {report:?}");
        assert_eq!(report.stats.rx_partial_checksum, 0);
    }
}

#[test]
fn kernel_udp_over_a_tap_is_echoed_in_both_modes() {
    if !can_run(&["ip", "python3"]) {
        return;
    }
    for mode in MODES {
        let netns = Netns::new("uring-tap-udp");
        let running = start_on_tap(&netns, mode, echo_app());
        let answer = udp_exchange(&netns, &TAP_STACK.to_string(), 7, "hello uring");
        let report = running.finish();
        assert_eq!(answer, "hello uring", "{mode:?}");
        let first = &report.app.received[0];
        assert_eq!(first.payload, b"hello uring");
        assert_eq!(first.src.0, IpAddr::V4(TAP_KERNEL.parse().unwrap()));
        // The kernel finishes checksums before frames reach a TAP.
        assert_eq!(first.checksum, ChecksumMode::Software);
        assert!(report.app.echoed >= 1);
    }
}

#[test]
fn a_tap_with_offloads_reports_unfinished_checksums_and_answers() {
    if !can_run(&["ip", "ping", "python3"]) {
        return;
    }
    for (mode, frame_size) in MODES.into_iter().zip([1514, 65_535, 1514]) {
        let netns = Netns::new("uring-tap-vnet");
        let running = start(&netns, TAP_STACK, echo_app(), move || {
            let config = offload_config(mode, frame_size);
            let nic = UringNic::open_tap(TAP, &config).expect("io_uring TAP with offloads");
            // Segmentation needs buffers for 64 KiB frames.
            assert_eq!(nic.segmentation_offload(), frame_size == 65_535);
            nic.set_up().expect("set up");
            Ok((nic, TAP_MAC))
        });
        netns.ip(&["addr", "add", &format!("{TAP_KERNEL}/24"), "dev", TAP]);
        // Every frame carries a virtio-net header both ways: pings are
        // answered (our all-zero header: a complete frame)...
        let output = ping(&netns, &TAP_STACK.to_string(), 3);
        // ...and the kernel leaves its UDP checksum to "the hardware".
        let answer = udp_exchange(&netns, &TAP_STACK.to_string(), 7, "vnet header");
        let report = running.finish();
        report.check_offloaded_echo(&output, &answer, "vnet header");
    }
}

#[test]
fn a_packet_socket_with_offloads_reports_unfinished_checksums_and_answers() {
    if !can_run(&["ip", "ping", "python3"]) {
        return;
    }
    for (mode, frame_size) in MODES.into_iter().zip([65_535, 1514, 1514]) {
        let ours = Netns::new("uring-veth-vnet-a");
        let peer = Netns::new("uring-veth-vnet-b");
        veth_pair(&ours, OURS, &peer, PEER, VETH_KERNEL);
        let running = start(&ours, VETH_STACK, echo_app(), move || {
            let config = offload_config(mode, frame_size);
            let nic = UringNic::open_packet(OURS, &config).expect("io_uring packet socket");
            assert_eq!(nic.segmentation_offload(), frame_size == 65_535);
            let mac = nic.mac_address().expect("an interface's address");
            Ok((nic, mac))
        });
        // The virtio-net header sits between the control messages and
        // the frame, in both receive modes; the veth leaves its UDP
        // checksum unfinished.
        let output = ping(&peer, &VETH_STACK.to_string(), 3);
        let answer = udp_exchange(&peer, &VETH_STACK.to_string(), 7, "vnet header");
        let report = running.finish();
        report.check_offloaded_echo(&output, &answer, "vnet header");
    }
}

#[test]
fn kernel_pings_through_a_veth_are_answered_in_both_modes() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    for mode in MODES {
        let (_ours, peer, running) = start_on_veth("uring-veth-ping", mode, App::default());
        let output = ping(&peer, &VETH_STACK.to_string(), 3);
        let report = running.finish();
        report.check_ping(&output);
    }
}

#[test]
fn offloaded_udp_checksums_through_a_veth_are_reported_per_frame() {
    if !can_run(&["ip", "python3", "ethtool"]) {
        return;
    }
    for mode in MODES {
        let (_ours, peer, running) = start_on_veth("uring-veth-csum", mode, echo_app());
        // A veth offloads checksums by default: the kernel sends the
        // datagram with its UDP checksum unfinished, and says so.
        let answer = udp_exchange(&peer, &VETH_STACK.to_string(), 7, "partial checksum");
        // With offloading off the next datagram's checksum is complete.
        sys_net::tx_checksumming_off(&peer, PEER);
        let second = udp_exchange(&peer, &VETH_STACK.to_string(), 7, "full checksum");
        let report = running.finish();
        assert_eq!(answer, "partial checksum", "{mode:?}");
        assert_eq!(second, "full checksum", "{mode:?}");
        let received = &report.app.received;
        let partial = received
            .iter()
            .find(|d| d.payload == b"partial checksum")
            .unwrap();
        let full = received
            .iter()
            .find(|d| d.payload == b"full checksum")
            .unwrap();
        assert_eq!(partial.checksum, ChecksumMode::Offloaded, "{mode:?}");
        assert_eq!(full.checksum, ChecksumMode::Software, "{mode:?}");
        assert!(report.stats.rx_partial_checksum >= 1, "{report:?}");
    }
}

#[test]
fn frames_too_large_for_the_buffers_are_counted_not_lent() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    for mode in MODES {
        let (ours, peer, running) = start_on_veth("uring-big", mode, App::default());
        // The MTU grows after the socket was opened for 1500: the kernel
        // now sends 9000-byte frames, and the buffers hold 1514.
        sys_net::send_jumbo_ping(&ours, OURS, &peer, PEER, &VETH_STACK.to_string());
        let report = running.finish();
        assert_eq!(report.stats.rx_truncated, 1, "{mode:?}: {report:?}");
        // The stack never saw the request, so never answered it.
        assert_eq!(report.icmp.echo_replies_sent, 0, "{report:?}");
        assert!(report.rx_errors.is_empty(), "{report:?}");
    }
}

/// Records the length of each frame lent.
struct Lengths(Vec<usize>);

impl<D: Device> Recv<D> for Lengths {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        self.0.push(packet.payload.payload().len());
    }
}

#[test]
fn dropping_a_tap_with_operations_in_flight_is_sound_idle_and_under_a_flood() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    for mode in MODES {
        for flood in [false, true] {
            let netns = Netns::new("uring-tap-drop");
            let name = netns.name().to_string();
            let (opened, ready) = std::sync::mpsc::channel();
            let (go, flooding) = std::sync::mpsc::channel::<()>();
            let stack = std::thread::spawn(move || {
                ethox::nic::sys::enter_netns(&name).unwrap();
                let mut nic = UringNic::open_tap(TAP, &config(mode)).unwrap();
                nic.set_up().unwrap();
                opened.send(()).unwrap();
                let _ = flooding.recv_timeout(Duration::from_secs(5));
                // Receive (and send nothing back) for a moment: the flood's
                // echo requests keep receives completing.
                let started = Instant::now();
                let mut lent = Lengths(Vec::with_capacity(1 << 16));
                while started.elapsed() < Duration::from_millis(300) {
                    nic.wait(Some(Duration::from_millis(10))).unwrap();
                    nic.rx(64, &mut lent).unwrap();
                }
                let in_flight = nic.in_flight();
                let stats = nic.stats();
                let closed = nic.close();
                // The buffers' memory is back with the allocator: use it.
                let blocks: Vec<Vec<u8>> = (0..64).map(|_| vec![0x3c; 64 * 1024]).collect();
                std::thread::sleep(Duration::from_millis(50));
                let intact = blocks.iter().all(|b| b.iter().all(|&x| x == 0x3c));
                (in_flight, stats, lent.0.len(), closed, intact)
            });
            ready.recv().unwrap();
            kernel_side_without_arp(&netns);
            let mut pinger = None;
            if flood {
                // A flood of echo requests, bounded in count and time.
                pinger = Some(
                    netns
                        .command("ping")
                        .args(["-f", "-c", "200000", "-w", "3", &TAP_STACK.to_string()])
                        .stdout(std::process::Stdio::null())
                        .spawn()
                        .expect("ping"),
                );
            }
            go.send(()).unwrap();
            let (in_flight, stats, lent, closed, intact) = stack.join().unwrap();
            if let Some(mut pinger) = pinger {
                let _ = pinger.kill();
                let _ = pinger.wait();
            }
            assert!(in_flight > 0, "{mode:?}: {stats:?}");
            // Multishot stayed multishot: the kernel took it on a TAP.
            assert_eq!(stats.multishot_fallbacks, 0, "{stats:?}");
            assert_eq!(stats.rx_errors, 0, "{stats:?}");
            assert!(closed, "{mode:?} flood={flood}: the kernel finished");
            assert!(intact, "{mode:?} flood={flood}");
            if flood {
                assert!(lent > 0, "{mode:?}: {stats:?}");
            }
        }
    }
}

#[test]
fn set_up_errors_name_the_problem() {
    if !can_run(&["ip"]) {
        return;
    }
    let netns = Netns::new("uring-errors");
    in_netns(&netns, || {
        let err = UringNic::open_packet("veth-none", &config((RxMode::Auto, false))).unwrap_err();
        assert!(err.to_string().contains("`veth-none`"), "{err}");
        let err = UringNic::open_tap("lo", &config((RxMode::Auto, false))).unwrap_err();
        assert!(err.to_string().contains("not a TAP"), "{err}");
        // Loopback's MTU is 65536: no buffer of ours holds its frames.
        let err = UringNic::open_packet("lo", &config((RxMode::Auto, false))).unwrap_err();
        assert!(err.to_string().contains("MTU 65536"), "{err}");
    });
}

#[test]
fn tap_frames_too_large_for_the_buffers_are_counted_not_lent() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    for mode in MODES {
        let netns = Netns::new("uring-tap-big");
        let name = netns.name().to_string();
        let (opened, ready) = std::sync::mpsc::channel();
        let stack = std::thread::spawn(move || {
            ethox::nic::sys::enter_netns(&name).unwrap();
            let mut nic = UringNic::open_tap(TAP, &config(mode)).unwrap();
            nic.set_up().unwrap();
            opened.send(()).unwrap();
            let mut lent = Lengths(Vec::new());
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                nic.wait(Some(Duration::from_millis(10))).unwrap();
                nic.rx(64, &mut lent).unwrap();
                let stats = nic.stats();
                if stats.rx_too_large + stats.rx_errors > 0 {
                    break;
                }
            }
            (nic.stats(), lent.0)
        });
        ready.recv().unwrap();
        netns.ip(&["link", "set", TAP, "mtu", "9000"]);
        kernel_side_without_arp(&netns);
        let _ = netns
            .command("ping")
            .args(["-c", "1", "-s", "8000", "-W", "1", &TAP_STACK.to_string()])
            .output();
        let (stats, lent) = stack.join().unwrap();
        // A TAP read returns what fits, not the frame's length: the device
        // reads one byte more than a frame may have to tell.
        assert_eq!(stats.rx_too_large, 1, "{mode:?}: {stats:?}");
        assert!(lent.iter().all(|&len| len < 1514), "{lent:?}");
    }
}
