//! The AF_XDP device against the kernel: each test makes two network
//! namespaces joined by a veth pair; ethox runs on one end (10.0.2.2,
//! an `XdpDevice` with the interface's MAC address, in native or generic
//! XDP mode) and the kernel of the other namespace (10.0.2.1) is the
//! peer, with `ping` and Python UDP sockets. Needs root (prints
//! "skipped: needs root" otherwise, or fails with ETHOX_REQUIRE_NET=1).
//!
//! The kernel's end has `tx-checksumming off`: across a veth the kernel
//! otherwise leaves TCP/UDP checksums unfinished, and AF_XDP carries no
//! flag saying so (see the crate docs).

#[path = "../../ethox/tests/sys_net/mod.rs"]
mod sys_net;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ethox::nic::sys::{self, IfName, SysStats};
use ethox::wire::{IpAddr, Ipv4Addr};
use ethox_afxdp::{Binding, Config, Error, XdpDevice, XdpMode, XdpStats, program_loaded};
use sys_net::{
    App, Netns, SysNic, UdpServer, can_run, in_netns, ping, run, start, udp_exchange, veth_pair,
};

const KERNEL: &str = "10.0.2.1";
const STACK: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const OURS: &str = "veth-xdp";
const PEER: &str = "veth-kernel";

/// The last counters of each device, by program id: the host thread
/// reports through [`SysNic::counters`], which returns only the fields
/// ethox's own devices have.
static STATS: Mutex<Vec<(u32, XdpStats)>> = Mutex::new(Vec::new());

impl SysNic for XdpDevice {
    fn wait(&self, timeout: Duration) {
        XdpDevice::wait(self, Some(timeout)).expect("poll");
    }

    fn counters(&self) -> SysStats {
        let stats = self.stats();
        STATS.lock().unwrap().push((self.program_id(), stats));
        SysStats {
            rx_frames: stats.rx_frames,
            tx_frames: stats.tx_completed,
            rx_truncated: stats.kernel.rx_dropped,
            tx_dropped: stats.kernel.tx_invalid_descs + stats.tx_kick_errors,
            last_tx_errno: stats.last_kick_errno,
            ..SysStats::default()
        }
    }
}

/// The counters device `program` reported last.
fn xdp_stats(program: u32) -> XdpStats {
    let all = STATS.lock().unwrap();
    let found = all.iter().rev().find(|(id, _)| *id == program);
    found.expect("the host reported its counters").1
}

/// Namespaces `ours` (the stack's end of the veth) and `peer` (the
/// kernel's, with its address and checksums finished in software).
fn namespaces(tag: &str) -> (Netns, Netns) {
    let ours = Netns::new(&format!("{tag}-a"));
    let peer = Netns::new(&format!("{tag}-b"));
    veth_pair(&ours, OURS, &peer, PEER, KERNEL);
    let netns = peer.name();
    run(
        "ip",
        &[
            "netns",
            "exec",
            netns,
            "ethtool",
            "-K",
            PEER,
            "tx-checksumming",
            "off",
        ],
    );
    (ours, peer)
}

/// Two tests running `check(mode, tag)`, `<check>::native` and
/// `<check>::generic`, each with namespaces of its own.
macro_rules! in_both_modes {
    ($check:ident, $tag:literal) => {
        mod $check {
            #[test]
            fn native() {
                super::$check(ethox_afxdp::XdpMode::Native, concat!($tag, "-drv"));
            }

            #[test]
            fn generic() {
                super::$check(ethox_afxdp::XdpMode::Generic, concat!($tag, "-skb"));
            }
        }
    };
}

fn config(mode: XdpMode) -> Config {
    Config {
        frames: 256,
        mode,
        ..Config::default()
    }
}

/// The stack with `app` on our end of the veth; returns it and the id
/// of its XDP program.
fn start_stack(ours: &Netns, mode: XdpMode, app: App) -> (sys_net::Running, u32) {
    let program = Arc::new(AtomicU32::new(0));
    let id = program.clone();
    let running = start(ours, STACK, app, move || {
        let device = XdpDevice::open(OURS, config(mode)).unwrap_or_else(|err| panic!("{err}"));
        id.store(device.program_id(), Ordering::Relaxed);
        let mac = device.mac_address();
        Ok((device, mac))
    });
    let id = program.load(Ordering::Relaxed);
    (running, id)
}

fn kernel_pings_are_answered_in_place(mode: XdpMode, tag: &str) {
    if !can_run(&["ip", "ping", "ethtool"]) {
        return;
    }
    let (ours, peer) = namespaces(tag);
    let (running, program) = start_stack(&ours, mode, App::default());
    let output = ping(&peer, &STACK.to_string(), 3);
    let report = running.finish();
    let stats = xdp_stats(program);
    assert!(output.contains("3 received"), "{output}");
    assert!(report.icmp.echo_replies_sent >= 3, "{report:?}");
    // Every reply left from the UMEM frame its request arrived in.
    assert!(stats.tx_in_place >= 3, "{stats:?}");
    assert!(stats.tx_completed >= stats.tx_in_place, "{stats:?}");
    assert_eq!(stats.invalid_descriptors, 0, "{stats:?}");
    assert_eq!(stats.kernel.rx_invalid_descs, 0, "{stats:?}");
    assert_eq!(stats.kernel.tx_invalid_descs, 0, "{stats:?}");
    assert_eq!(stats.tx_kick_errors, 0, "{stats:?}");
    assert!(report.rx_errors.is_empty(), "{report:?}");
    // Receiving, answering in place and sending allocated nothing.
    assert_eq!(report.allocations, 0, "{report:?}");
    assert_eq!(report.frames.own, 0, "{report:?}");
    assert_eq!(report.frames.backwards, 0, "{report:?}");
}

in_both_modes!(kernel_pings_are_answered_in_place, "xdp-ping");

fn udp_is_echoed_to_a_kernel_socket(mode: XdpMode, tag: &str) {
    if !can_run(&["ip", "python3", "ethtool"]) {
        return;
    }
    let app = App {
        echo_port: 7,
        ..App::default()
    };
    let (ours, peer) = namespaces(tag);
    let (running, program) = start_stack(&ours, mode, app);
    let first = udp_exchange(&peer, &STACK.to_string(), 7, "over af_xdp");
    let second = udp_exchange(&peer, &STACK.to_string(), 7, "and again");
    let report = running.finish();
    let stats = xdp_stats(program);
    assert_eq!(first, "over af_xdp");
    assert_eq!(second, "and again");
    let received: Vec<&[u8]> = report.app.received.iter().map(|d| &d.payload[..]).collect();
    assert!(received.contains(&&b"over af_xdp"[..]), "{report:?}");
    assert!(report.app.echoed >= 2, "{report:?}");
    assert!(stats.tx_in_place >= 2, "{stats:?}");
}

in_both_modes!(udp_is_echoed_to_a_kernel_socket, "xdp-udp");

#[test]
fn stack_datagram_reaches_a_kernel_socket() {
    if !can_run(&["ip", "python3", "ethtool"]) {
        return;
    }
    let (ours, peer) = namespaces("xdp-send");
    let server = UdpServer::start(&peer, 9000);
    let mut app = App::default();
    let kernel = IpAddr::V4(KERNEL.parse().unwrap());
    app.queue
        .push((40000, (kernel, 9000), b"from ethox over af_xdp".to_vec()));
    let (running, program) = start_stack(&ours, XdpMode::Native, app);
    let received = server.received();
    let report = running.finish();
    let stats = xdp_stats(program);
    assert_eq!(received, format!("from ethox over af_xdp {STACK} 40000"));
    assert_eq!(report.app.sent, 1);
    // An ARP request went out of a free frame first, then the datagram.
    assert!(stats.tx_completed >= 2, "{stats:?}");
    assert!(stats.tx_kicks >= 1, "{stats:?}");
}

/// `ip -d link show dev <OURS>` in `ours`.
fn link_details(ours: &Netns) -> String {
    let output = ours.ip(&["-d", "link", "show", "dev", OURS]);
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn the_program_leaves_with_the_device(mode: XdpMode, tag: &str) {
    if !can_run(&["ip", "ethtool"]) {
        return;
    }
    // How `ip link` names the mode.
    let shown_as = match mode {
        XdpMode::Native => "xdp",
        XdpMode::Generic => "xdpgeneric",
    };
    let (ours, _peer) = namespaces(tag);
    let name = ours.name().to_string();
    let (attached, id, gone, loaded_after) = in_netns(&ours, move || {
        let device = XdpDevice::open(OURS, config(mode)).unwrap_or_else(|err| panic!("{err}"));
        let id = device.program_id();
        let show = |args: &[&str]| {
            let output = std::process::Command::new("ip")
                .args(["-n", &name])
                .args(args)
                .output()
                .expect("ip");
            String::from_utf8_lossy(&output.stdout).to_string()
        };
        let attached = show(&["-d", "link", "show", "dev", OURS]);
        assert!(program_loaded(id).unwrap());
        drop(device);
        let gone = show(&["link", "show", "dev", OURS]);
        (attached, id, gone, program_loaded(id).unwrap())
    });
    assert!(has_word(&attached, shown_as), "{attached}");
    assert!(
        attached.contains(&format!("prog/xdp id {id} ")),
        "{attached}"
    );
    for word in ["xdp", "xdpgeneric", "prog/xdp"] {
        assert!(!has_word(&gone, word), "{gone}");
    }
    assert!(!loaded_after, "program {id} still loaded");
    assert!(!link_details(&ours).contains("prog/xdp"));
}

/// Whether `word` stands on its own in `text` (the interface's name has
/// "xdp" in it too).
fn has_word(text: &str, word: &str) -> bool {
    text.split_whitespace().any(|w| w == word)
}

in_both_modes!(the_program_leaves_with_the_device, "xdp-drop");

#[test]
fn bad_configurations_give_clear_errors() {
    if !can_run(&["ip", "ethtool"]) {
        return;
    }
    let (ours, _peer) = namespaces("xdp-bad");
    // Native XDP on a veth checks the MTU of the veth's peer.
    ours.ip(&[
        "link",
        "add",
        "veth-big",
        "mtu",
        "3600",
        "type",
        "veth",
        "peer",
        "name",
        "veth-big-p",
        "mtu",
        "3600",
    ]);
    ours.ip(&["link", "set", "veth-big", "up"]);
    ours.ip(&[
        "link",
        "add",
        "veth-mq",
        "numrxqueues",
        "2",
        "numtxqueues",
        "2",
        "type",
        "veth",
        "peer",
        "name",
        "veth-mq-p",
        "numrxqueues",
        "2",
        "numtxqueues",
        "2",
    ]);
    for name in ["veth-mq", "veth-mq-p"] {
        ours.ip(&["link", "set", name, "up"]);
    }
    ours.ip(&["link", "set", "veth-big-p", "up"]);
    in_netns(&ours, || {
        let missing = XdpDevice::open("veth-none", Config::default()).unwrap_err();
        assert_eq!(
            missing,
            Error::Sys(sys::Error::NoSuchInterface(
                IfName::new("veth-none").unwrap()
            ))
        );
        let odd = Config {
            frame_size: 3000,
            ..Config::default()
        };
        let err = XdpDevice::open(OURS, odd).unwrap_err();
        assert!(matches!(err, Error::BadConfiguration(_)), "{err}");
        assert!(err.to_string().contains("2048 or 4096"), "{err}");
        // 3600 bytes do not fit a 2048-byte frame.
        let err = XdpDevice::open("veth-big", Config::default()).unwrap_err();
        assert!(matches!(err, Error::MtuTooLarge { mtu: 3600, .. }), "{err}");
        // They fit 4096 bytes, but native XDP on a veth refuses them.
        let big = Config {
            frame_size: 4096,
            ..Config::default()
        };
        let err = XdpDevice::open("veth-big", big).unwrap_err();
        assert!(
            matches!(err, Error::NativeMtuTooLarge { mtu: 3600, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("generic mode"), "{err}");
        // Generic mode takes them.
        let generic = Config {
            mode: XdpMode::Generic,
            ..big
        };
        drop(XdpDevice::open("veth-big", generic).unwrap_or_else(|err| panic!("{err}")));
        // A veth has one queue.
        let err = XdpDevice::open(
            OURS,
            Config {
                queue: 5,
                ..Config::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoSuchQueue { queue: 5, .. }), "{err}");
        // Zero-copy is asked for, refused by the veth, and copy mode
        // used instead, which the device says.
        let zero_copy = Config {
            zero_copy: true,
            ..Config::default()
        };
        let device = XdpDevice::open(OURS, zero_copy).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(
            device.binding(),
            Binding::CopyFallback {
                errno: libc::EOPNOTSUPP
            }
        );
        assert!(device.binding().to_string().contains("refused zero-copy"));
        // A second device on the same interface finds the queue taken.
        let err = XdpDevice::open(OURS, Config::default()).unwrap_err();
        assert!(matches!(err, Error::QueueBusy { queue: 0, .. }), "{err}");
        drop(device);
        // Once the first is gone, the queue is free again.
        drop(XdpDevice::open(OURS, Config::default()).unwrap_or_else(|err| panic!("{err}")));
        // One program per interface: a device on another queue finds the
        // first device's program attached.
        let first = XdpDevice::open("veth-mq", Config::default()).unwrap_or_else(|e| panic!("{e}"));
        let second = Config {
            queue: 1,
            ..Config::default()
        };
        let err = XdpDevice::open("veth-mq", second).unwrap_err();
        assert_eq!(err, Error::XdpAttached(IfName::new("veth-mq").unwrap()));
        assert!(err.to_string().contains("xdp off"), "{err}");
        drop(first);
    });
}

/// A ping flood wraps every ring several times over (2000 requests,
/// 256 frames, rings of 256 entries): each reply must come back, sent in
/// place, and every frame must find its way back to the fill ring.
fn a_ping_flood_wraps_the_rings(mode: XdpMode, tag: &str) {
    if !can_run(&["ip", "ping", "ethtool"]) {
        return;
    }
    const COUNT: u64 = 2000;
    let (ours, peer) = namespaces(tag);
    let (running, program) = start_stack(&ours, mode, App::default());
    // `-f` sends the next request when the reply came (or after 10 ms):
    // bounded by the count and the 20 s deadline.
    let output = peer
        .command("ping")
        .args([
            "-f",
            "-c",
            &COUNT.to_string(),
            "-w",
            "20",
            "-q",
            &STACK.to_string(),
        ])
        .output()
        .expect("ping");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let report = running.finish();
    let stats = xdp_stats(program);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(&format!("{COUNT} received")), "{text}");
    assert!(stats.tx_in_place >= COUNT, "{stats:?}");
    assert!(stats.rx_frames >= COUNT, "{stats:?}");
    assert_eq!(stats.invalid_descriptors, 0, "{stats:?}");
    assert_eq!(stats.fill_starved, 0, "{stats:?}");
    assert_eq!(stats.kernel.rx_fill_ring_empty, 0, "{stats:?}");
    assert_eq!(stats.kernel.rx_invalid_descs, 0, "{stats:?}");
    assert_eq!(stats.kernel.tx_invalid_descs, 0, "{stats:?}");
    assert_eq!(report.allocations, 0, "{report:?}");
}

in_both_modes!(a_ping_flood_wraps_the_rings, "xdp-flood");

/// Set in the environment of this test binary when it runs itself as
/// `nobody`.
const AS_NOBODY: &str = "ETHOX_AFXDP_TEST_AS_NOBODY";

/// Without privileges the set-up stops at the socket, with an error that
/// names the capabilities to give. As root, the test runs itself again as
/// `nobody` in a namespace with our veth end, to see that.
#[test]
fn without_privileges_the_error_names_the_capabilities() {
    if std::env::var_os(AS_NOBODY).is_some() {
        let err = XdpDevice::open(OURS, Config::default()).unwrap_err();
        assert_eq!(
            err,
            Error::PermissionDenied {
                op: "socket(AF_XDP)"
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("CAP_NET_RAW") && text.contains("CAP_BPF"),
            "{text}"
        );
        return;
    }
    if !can_run(&["ip", "ethtool", "runuser"]) {
        return;
    }
    let (ours, _peer) = namespaces("xdp-nobody");
    let test = "without_privileges_the_error_names_the_capabilities";
    let output = ours
        .command("runuser")
        .args(["-u", "nobody", "--"])
        .arg(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--test-threads=1"])
        .env(AS_NOBODY, "1")
        .output()
        .expect("runuser");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("1 passed"),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
