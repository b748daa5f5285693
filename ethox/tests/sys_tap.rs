//! The TAP device against the kernel: each test makes a network
//! namespace, creates a TAP in it from the stack's thread, gives the
//! kernel side 10.0.0.1/24 and runs ethox on 10.0.0.2; the kernel's
//! `ping` and a Python UDP socket are the peers. Needs root (prints
//! "skipped: needs root" otherwise, or fails with ETHOX_REQUIRE_NET=1).
#![cfg(feature = "sys")]

mod sys_net;

use std::time::Duration;

use ethox::nic::sys::{self, Error, TapDevice, TapOptions};
use ethox::wire::{ChecksumMode, EthernetAddress, IpAddr, Ipv4Addr};
use sys_net::{App, Netns, UdpServer, can_run, in_netns, ping, start, udp_exchange};

const SLOTS: usize = 32;
type Tap = TapDevice<Vec<u8>, SLOTS>;

const KERNEL: &str = "10.0.0.1";
const STACK: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const STACK_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const TAP: &str = "ethox0";

/// Starts the stack with `app` on a new TAP in `netns` and gives the
/// kernel side its address.
fn start_on_tap(netns: &Netns, app: App) -> sys_net::Running {
    let running = start(netns, STACK, app, || {
        let tap = Tap::open(TAP, vec![0; SLOTS * 1514])?;
        assert_eq!(tap.name(), TAP);
        assert_eq!(tap.mtu(), 1500);
        tap.set_up()?;
        Ok((tap, STACK_MAC))
    });
    netns.ip(&["addr", "add", &format!("{KERNEL}/24"), "dev", TAP]);
    running
}

#[test]
fn kernel_pings_are_answered_by_the_stack() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let netns = Netns::new("tap-ping");
    let running = start_on_tap(&netns, App::default());
    let before = sys::now();
    let output = ping(&netns, &STACK.to_string(), 3);
    let report = running.finish();
    report.check_ping(&output);
    // Every reply was answered in place and written back, after the
    // answer to the kernel's ARP request.
    let answers = 3 + 1;
    assert!(report.stats.tx_frames >= answers, "{report:?}");
    // The kernel finishes checksums before frames reach a TAP.
    assert_eq!(report.stats.rx_partial_checksum, 0);
    let last = report.frames.last.expect("frames arrived");
    assert!(before <= last && last <= report.ended, "{report:?}");
}

#[test]
fn kernel_udp_datagram_is_echoed() {
    if !can_run(&["ip", "python3"]) {
        return;
    }
    let netns = Netns::new("tap-udp");
    let app = App {
        echo_port: 7,
        ..App::default()
    };
    let running = start_on_tap(&netns, app);
    let answer = udp_exchange(&netns, &STACK.to_string(), 7, "hello ethox");
    let report = running.finish();
    assert_eq!(answer, "hello ethox");
    let first = &report.app.received[0];
    assert_eq!(first.payload, b"hello ethox");
    assert_eq!(first.src.0, IpAddr::V4(KERNEL.parse().unwrap()));
    assert_eq!(first.checksum, ChecksumMode::Software);
    assert!(report.app.echoed >= 1);
    // The application's records of datagrams allocate: the counter the
    // ping test relies on does count.
    assert!(report.allocations > 0);
}

#[test]
fn a_tap_with_offloads_reports_unfinished_checksums_and_answers() {
    if !can_run(&["ip", "ping", "python3"]) {
        return;
    }
    for frame in [1514, sys::SEGMENTATION_FRAME_CAPACITY] {
        let netns = Netns::new("tap-vnet");
        let app = App {
            echo_port: 7,
            ..App::default()
        };
        let running = start(&netns, STACK, app, move || {
            let options = TapOptions {
                offload: true,
                ..TapOptions::default()
            };
            let tap = Tap::open_with(TAP, options, vec![0; SLOTS * frame])?;
            assert!(tap.vnet_header());
            // Segmentation needs buffers for 64 KiB frames.
            assert_eq!(tap.segmentation_offload(), frame > 1514);
            tap.set_up()?;
            Ok((tap, STACK_MAC))
        });
        netns.ip(&["addr", "add", &format!("{KERNEL}/24"), "dev", TAP]);
        // Every frame carries a virtio-net header both ways: pings are
        // answered (our all-zero header: a complete frame), and the
        // kernel leaves its UDP checksum to "the hardware".
        let output = ping(&netns, &STACK.to_string(), 3);
        let answer = udp_exchange(&netns, &STACK.to_string(), 7, "vnet header");
        let report = running.finish();
        report.check_offloaded_echo(&output, &answer, "vnet header");
    }
}

#[test]
fn stack_datagram_reaches_a_kernel_socket() {
    if !can_run(&["ip", "python3"]) {
        return;
    }
    let netns = Netns::new("tap-send");
    // The kernel's socket listens before the stack starts sending.
    let server = UdpServer::start(&netns, 9000);
    let app = App {
        echo_port: 7,
        queue: vec![(
            40000,
            (IpAddr::V4(KERNEL.parse().unwrap()), 9000),
            b"from ethox".to_vec(),
        )],
        ..App::default()
    };
    let running = start_on_tap(&netns, app);
    let received = server.received();
    let report = running.finish();
    assert_eq!(received, format!("from ethox {STACK} 40000"));
    assert_eq!(report.app.sent, 1);
}

#[test]
fn idle_poll_sleeps_until_its_timeout() {
    if !can_run(&["ip"]) {
        return;
    }
    let netns = Netns::new("tap-poll");
    in_netns(&netns, || {
        // Down, the kernel sends nothing to the TAP.
        let tap = Tap::open(TAP, vec![0; SLOTS * 1514]).unwrap();
        let start = std::time::Instant::now();
        assert!(!tap.poll(Some(Duration::from_millis(50))).unwrap());
        let slept = start.elapsed();
        assert!(slept >= Duration::from_millis(50), "{slept:?}");
        assert!(slept < Duration::from_secs(2), "{slept:?}");
        // A zero timeout only looks.
        assert!(!tap.poll(Some(Duration::ZERO)).unwrap());
    });
}

#[test]
fn set_up_errors_are_specific() {
    if !can_run(&["ip"]) {
        return;
    }
    let netns = Netns::new("tap-errors");
    let name = netns.name().to_string();
    in_netns(&netns, move || {
        // The loopback interface exists but is no TAP.
        let err = Tap::open("lo", vec![0; SLOTS * 1514]).unwrap_err();
        assert!(
            matches!(err, Error::NotATap(n) if n.as_str() == "lo"),
            "{err}"
        );
        // A TAP is held by one device at a time.
        let first = Tap::open(TAP, vec![0; SLOTS * 1514]).unwrap();
        let err = Tap::open(TAP, vec![0; SLOTS * 1514]).unwrap_err();
        assert!(matches!(err, Error::Busy(_)), "{err}");
        assert!(err.to_string().contains("busy"), "{err}");
        drop(first);
        // Buffers too small for the MTU, taken from the interface or given.
        let err = TapDevice::<_, 4>::open("ethox1", vec![0u8; 4 * 1000]).unwrap_err();
        assert_eq!(
            err,
            Error::MtuTooLarge {
                mtu: 1500,
                frame_capacity: 1000
            }
        );
        let err =
            TapDevice::<_, 4>::open_with_mtu("ethox1", 9000, vec![0u8; 4 * 1514]).unwrap_err();
        assert!(matches!(err, Error::MtuTooLarge { mtu: 9000, .. }), "{err}");
        // A larger MTU fits larger buffers and is set on the interface.
        let jumbo = TapDevice::<_, 4>::open_with_mtu("ethox2", 9000, vec![0u8; 4 * 9014]).unwrap();
        assert_eq!(jumbo.mtu(), 9000);
        assert_eq!(jumbo.frame_capacity(), 9014);
        let link = sys_net::run("ip", &["-n", &name, "-o", "link", "show", "ethox2"]);
        let link = String::from_utf8_lossy(&link.stdout);
        assert!(link.contains("mtu 9000"), "{link}");
        // The kernel picks the number in a `%d` name.
        let numbered = Tap::open("etx%d", vec![0; SLOTS * 1514]).unwrap();
        assert!(numbered.name().starts_with("etx"), "{}", numbered.name());
        assert!(!numbered.name().contains('%'));
        // The pool's shape is checked before any system call.
        assert_eq!(
            TapDevice::<_, 0>::open(TAP, vec![0u8; 1514]).unwrap_err(),
            Error::BadConfiguration
        );
        assert_eq!(
            Tap::open("no/slash", vec![0; SLOTS * 1514]).unwrap_err(),
            Error::InvalidName
        );
        assert_eq!(
            sys::enter_netns("ethox-test-absent"),
            Err(Error::NoSuchNamespace)
        );
    });
}
