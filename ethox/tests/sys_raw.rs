//! The AF_PACKET device against the kernel: each test makes two network
//! namespaces joined by a veth pair; ethox runs on one end (10.0.1.2,
//! through a RawSocket, the interface's own MAC address) and the kernel
//! of the other namespace (10.0.1.1) is the peer, with `ping` and a
//! Python UDP socket. Needs root (prints "skipped: needs root" otherwise,
//! or fails with ETHOX_REQUIRE_NET=1).
#![cfg(feature = "sys")]

mod sys_net;

use ethox::nic::Device;
use ethox::nic::sys::{self, Error, IfName, RawOptions, RawSocket};
use ethox::wire::{ChecksumMode, EthernetAddress, Ipv4Addr};
use sys_net::{App, Netns, UdpServer, can_run, in_netns, ping, start, udp_exchange, veth_pair};

const SLOTS: usize = 64;
type Raw = RawSocket<Vec<u8>, SLOTS>;

const KERNEL: &str = "10.0.1.1";
const STACK: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const OURS: &str = "veth-ethox";
const PEER: &str = "veth-kernel";

/// Namespaces `ours` (the stack's end of the veth) and `peer` (the
/// kernel's, with its address).
fn namespaces(tag: &str) -> (Netns, Netns) {
    let ours = Netns::new(&format!("{tag}-a"));
    let peer = Netns::new(&format!("{tag}-b"));
    veth_pair(&ours, OURS, &peer, PEER, KERNEL);
    (ours, peer)
}

/// The stack with `app` on our end of the veth, with its MAC address.
fn start_stack(ours: &Netns, app: App) -> sys_net::Running {
    start(ours, STACK, app, || {
        let raw = Raw::open(OURS, vec![0; SLOTS * 1514])?;
        let mac = raw.mac_address();
        Ok((raw, mac))
    })
}

/// [`namespaces`] with the stack running in ours.
fn start_on_veth(tag: &str, app: App) -> (Netns, Netns, sys_net::Running) {
    let (ours, peer) = namespaces(tag);
    let running = start_stack(&ours, app);
    (ours, peer, running)
}

#[test]
fn kernel_pings_are_answered_through_a_veth() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let (_ours, peer, running) = start_on_veth("raw-ping", App::default());
    let mac = running.mac;
    let output = ping(&peer, &STACK.to_string(), 3);
    let report = running.finish();
    report.check_ping(&output);
    // The kernel learned the stack's address: the veth's own MAC.
    let neighbors = peer.ip(&["neigh", "show", STACK.to_string().as_str()]);
    let neighbors = String::from_utf8_lossy(&neighbors.stdout).to_lowercase();
    assert!(neighbors.contains(&mac_text(mac)), "{neighbors}");
}

#[test]
fn offloaded_udp_checksums_are_reported_and_the_datagram_echoed() {
    if !can_run(&["ip", "python3"]) {
        return;
    }
    let app = App {
        echo_port: 7,
        ..App::default()
    };
    let (_ours, peer, running) = start_on_veth("raw-csum", app);
    // A veth offloads checksums by default: the kernel sends the datagram
    // with its UDP checksum unfinished.
    let answer = udp_exchange(&peer, &STACK.to_string(), 7, "partial checksum");
    let report = running.finish();
    // The echo came back: the stack took the datagram, and the kernel
    // accepted the checksum the stack computed for the answer.
    assert_eq!(answer, "partial checksum");
    let first = &report.app.received[0];
    assert_eq!(first.payload, b"partial checksum");
    assert_eq!(first.checksum, ChecksumMode::Offloaded);
    assert!(report.stats.rx_partial_checksum >= 1, "{report:?}");
}

#[test]
fn a_socket_with_offloads_reports_unfinished_checksums_and_answers() {
    if !can_run(&["ip", "ping", "python3"]) {
        return;
    }
    for frame in [1514, sys::SEGMENTATION_FRAME_CAPACITY] {
        let (ours, peer) = namespaces("raw-vnet");
        let app = App {
            echo_port: 7,
            ..App::default()
        };
        let running = start(&ours, STACK, app, move || {
            let options = RawOptions { offload: true };
            let raw = Raw::open_with(OURS, options, vec![0; SLOTS * frame])?;
            assert!(raw.vnet_header());
            let mac = raw.mac_address();
            Ok((raw, mac))
        });
        // Every frame carries a virtio-net header both ways: pings are
        // answered, and the veth leaves its UDP checksum unfinished.
        let output = ping(&peer, &STACK.to_string(), 3);
        let answer = udp_exchange(&peer, &STACK.to_string(), 7, "vnet header");
        let report = running.finish();
        report.check_offloaded_echo(&output, &answer, "vnet header");
    }
}

#[test]
fn finished_udp_checksums_stay_the_stacks_to_verify() {
    if !can_run(&["ip", "python3", "ethtool"]) {
        return;
    }
    let app = App {
        echo_port: 7,
        ..App::default()
    };
    let (_ours, peer, running) = start_on_veth("raw-nocsum", app);
    sys_net::tx_checksumming_off(&peer, PEER);
    let answer = udp_exchange(&peer, &STACK.to_string(), 7, "full checksum");
    let report = running.finish();
    assert_eq!(answer, "full checksum");
    // The flag is per packet: this datagram's checksum was complete.
    assert_eq!(report.app.received[0].checksum, ChecksumMode::Software);
    assert_eq!(report.stats.rx_partial_checksum, 0, "{report:?}");
}

#[test]
fn stack_datagram_reaches_a_kernel_socket_through_a_veth() {
    if !can_run(&["ip", "python3"]) {
        return;
    }
    let (ours, peer) = namespaces("raw-send");
    let server = UdpServer::start(&peer, 9000);
    let app = App {
        queue: vec![(
            40000,
            (ethox::wire::IpAddr::V4(KERNEL.parse().unwrap()), 9000),
            b"from ethox".to_vec(),
        )],
        ..App::default()
    };
    let running = start_stack(&ours, app);
    let received = server.received();
    let report = running.finish();
    assert_eq!(received, format!("from ethox {STACK} 40000"));
    assert_eq!(report.app.sent, 1);
    assert!(
        report.stats.tx_frames >= 2,
        "ARP request and datagram: {report:?}"
    );
}

#[test]
fn promiscuous_mode_is_requested_and_released() {
    if !can_run(&["ip"]) {
        return;
    }
    let (ours, _peer) = namespaces("raw-promisc");
    let name = ours.name().to_string();
    let flags = move || {
        // Requests by sockets count in `promiscuity`, not in the flags.
        let link = sys_net::run("ip", &["-n", &name, "-d", "-o", "link", "show", OURS]);
        String::from_utf8_lossy(&link.stdout).to_string()
    };
    let check = flags.clone();
    in_netns(&ours, move || {
        let raw = Raw::open(OURS, vec![0; SLOTS * 1514]).unwrap();
        assert!(check().contains("promiscuity 0"), "{}", check());
        raw.set_promiscuous(true).unwrap();
        assert!(check().contains("promiscuity 1"), "{}", check());
        raw.set_promiscuous(false).unwrap();
        assert!(check().contains("promiscuity 0"), "{}", check());
        raw.set_promiscuous(true).unwrap();
        // Closing the socket takes its request back.
        drop(raw);
    });
    assert!(flags().contains("promiscuity 0"), "{}", flags());
}

#[test]
fn set_up_errors_are_specific() {
    if !can_run(&["ip"]) {
        return;
    }
    let ours = Netns::new("raw-errors");
    in_netns(&ours, || {
        let err = Raw::open("veth-none", vec![0; SLOTS * 1514]).unwrap_err();
        assert_eq!(
            err,
            Error::NoSuchInterface(IfName::new("veth-none").unwrap())
        );
        assert!(err.to_string().contains("`veth-none`"), "{err}");
        // Loopback's MTU is 65536: no buffer of ours holds its frames.
        let err = Raw::open("lo", vec![0; SLOTS * 1514]).unwrap_err();
        assert!(
            matches!(err, Error::MtuTooLarge { mtu: 65536, .. }),
            "{err}"
        );
    });
}

#[test]
fn frames_too_large_for_the_buffers_are_counted_not_lent() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let (ours, peer) = namespaces("raw-big");
    let name = ours.name().to_string();
    let opened = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        sys::enter_netns(&name).unwrap();
        let mut raw = Raw::open(OURS, vec![0; SLOTS * 1514]).unwrap();
        opened.0.send(()).unwrap();
        let mut lent = Lengths(Vec::new());
        let started = std::time::Instant::now();
        while raw.stats().rx_truncated == 0 && started.elapsed() < sys_net::STACK_LIMIT {
            raw.poll(Some(std::time::Duration::from_millis(10)))
                .unwrap();
            raw.rx(SLOTS, &mut lent).unwrap();
        }
        (raw.stats(), lent.0)
    });
    opened.1.recv().unwrap();
    // The MTU grows after the socket was opened for 1500: the kernel now
    // sends 9000-byte frames, and the buffers hold 1514.
    sys_net::send_jumbo_ping(&ours, OURS, &peer, PEER, &STACK.to_string());
    let (stats, lent) = handle.join().unwrap();
    assert_eq!(stats.rx_truncated, 1, "{stats:?}");
    assert!(lent.iter().all(|&len| len <= 1514), "{lent:?}");
}

#[test]
fn outgoing_frames_are_lent_only_when_asked_for() {
    if !can_run(&["ip", "ping"]) {
        return;
    }
    let (_ours, peer) = namespaces("raw-outgoing");
    let name = peer.name().to_string();
    let opened = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        sys::enter_netns(&name).unwrap();
        // Two sockets on the kernel's end: a stack's (the default) and a
        // capture tool's.
        let mut stack = Raw::open(PEER, vec![0; SLOTS * 1514]).unwrap();
        let mut capture = Raw::open(PEER, vec![0; SLOTS * 1514]).unwrap();
        assert!(!stack.outgoing());
        capture.set_outgoing(true);
        assert!(capture.outgoing());
        let kernel_mac = capture.mac_address();
        opened.0.send(()).unwrap();
        let mut seen_by_stack = Sources(Vec::new());
        let mut seen_by_capture = Sources(Vec::new());
        let started = std::time::Instant::now();
        while started.elapsed() < sys_net::STACK_LIMIT {
            capture
                .poll(Some(std::time::Duration::from_millis(10)))
                .unwrap();
            stack.rx(SLOTS, &mut seen_by_stack).unwrap();
            capture.rx(SLOTS, &mut seen_by_capture).unwrap();
            if seen_by_capture.0.contains(&kernel_mac) {
                break;
            }
        }
        (
            kernel_mac,
            stack.stats(),
            seen_by_stack.0,
            seen_by_capture.0,
        )
    });
    opened.1.recv().unwrap();
    // Nobody answers at 10.0.1.2: the kernel sends ARP requests, out of
    // the interface the sockets are on.
    let _ = peer
        .command("ping")
        .args(["-c", "1", "-W", "1", &STACK.to_string()])
        .output();
    let (kernel_mac, stack_stats, by_stack, by_capture) = handle.join().unwrap();
    assert!(
        by_capture.contains(&kernel_mac),
        "the capture socket sees the kernel's frames: {by_capture:?}"
    );
    // The kernel does not deliver them to the stack's socket at all
    // (PACKET_IGNORE_OUTGOING), or the socket skips them (older kernels).
    assert!(
        !by_stack.contains(&kernel_mac),
        "{by_stack:?} {stack_stats:?}"
    );
}

/// Records the source MAC address of each frame it is lent.
struct Sources(Vec<EthernetAddress>);

impl<D: Device> ethox::nic::Recv<D> for Sources {
    fn receive(&mut self, packet: ethox::nic::Packet<'_, '_, D>) {
        use ethox::nic::Payload;
        if let Some(src) = packet.payload.payload().get(6..12) {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(src);
            self.0.push(EthernetAddress(mac));
        }
    }
}

/// Records the length of each frame it is lent.
struct Lengths(Vec<usize>);

impl<D: Device> ethox::nic::Recv<D> for Lengths {
    fn receive(&mut self, packet: ethox::nic::Packet<'_, '_, D>) {
        use ethox::nic::Payload;
        self.0.push(packet.payload.payload().len());
    }
}

/// `aa:bb:...` as `ip neigh` prints it.
fn mac_text(mac: EthernetAddress) -> String {
    mac.0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Fills every buffer it is lent with one 60-byte frame of a local
/// experimental EtherType (the kernel drops those cheaply).
struct Blast;

impl<D: Device> ethox::nic::Send<D> for Blast {
    fn send(&mut self, packet: ethox::nic::Packet<'_, '_, D>) {
        use ethox::nic::{Handle, PayloadMut};
        if packet.payload.resize(60).is_ok() {
            let frame = packet.payload.payload_mut();
            frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xfe]);
            frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xfd]);
            frame[12..14].copy_from_slice(&[0x88, 0xb5]);
            let _ = packet.handle.queue();
        }
    }
}

/// Counts the frames it is lent.
struct Count(u64);

impl<D: Device> ethox::nic::Recv<D> for Count {
    fn receive(&mut self, _: ethox::nic::Packet<'_, '_, D>) {
        self.0 += 1;
    }
}

/// One step of a sender or receiver: frames moved.
type Step = Box<dyn FnMut() -> u64>;

/// Sends 60-byte frames through the device `tx` opens, for `time`, while
/// the one `rx` opens (first) counts what arrives; both in `netns`.
/// Returns frames sent and received per second.
fn blast<T, R>(netns: &Netns, tx: T, rx: R, time: std::time::Duration) -> (f64, f64)
where
    T: FnOnce() -> Step + core::marker::Send + 'static,
    R: FnOnce() -> Step + core::marker::Send + 'static,
{
    let (opened, ready) = std::sync::mpsc::channel();
    let name = netns.name().to_string();
    let receiver = std::thread::spawn(move || {
        sys::enter_netns(&name).unwrap();
        let mut step = rx();
        opened.send(()).unwrap();
        let started = std::time::Instant::now();
        let mut received = 0;
        while started.elapsed() < time + std::time::Duration::from_millis(100) {
            received += step();
        }
        received
    });
    ready.recv().unwrap();
    let name = netns.name().to_string();
    let sender = std::thread::spawn(move || {
        sys::enter_netns(&name).unwrap();
        let mut step = tx();
        let started = std::time::Instant::now();
        let mut sent = 0;
        while started.elapsed() < time {
            sent += step();
        }
        sent
    });
    let sent = sender.join().unwrap() as f64;
    let received = receiver.join().unwrap() as f64;
    (sent / time.as_secs_f64(), received / time.as_secs_f64())
}

/// A sender step: one `tx` batch, or a wait while the kernel is full.
fn sender<D: sys_net::SysNic + 'static>(mut nic: D) -> Step {
    Box::new(move || {
        let before = nic.counters().tx_frames;
        if nic.tx(64, Blast).unwrap() == 0 {
            nic.wait(std::time::Duration::from_millis(1));
        }
        nic.counters().tx_frames - before
    })
}

/// A receiver step: one `rx` batch after waiting for frames.
fn receiver<D: sys_net::SysNic + 'static>(mut nic: D) -> Step {
    Box::new(move || {
        nic.wait(std::time::Duration::from_millis(1));
        let mut count = Count(0);
        nic.rx(64, &mut count).unwrap();
        count.0
    })
}

/// Frame rates of the devices, 60-byte frames, one second each:
/// RawSocket to RawSocket over a veth; a RawSocket on a TAP's kernel
/// side sending into the TAP; the TAP sending to the kernel (which drops
/// the frames). Prints the figures; asserts only that frames moved.
///
/// `cargo test --release -p ethox --features sys --test sys_raw -- --ignored --nocapture`
#[test]
#[ignore = "a measurement: run with --ignored --nocapture (and --release)"]
fn measure_frame_rates() {
    if !can_run(&["ip"]) {
        return;
    }
    type Tap = ethox::nic::sys::TapDevice<Vec<u8>, SLOTS>;
    const TAP: &str = "ethox-rate";
    let time = std::time::Duration::from_secs(1);
    let (ours, peer) = namespaces("raw-rate");
    // Both veth ends in one namespace, the peer's without an address.
    peer.ip(&["link", "set", PEER, "netns", ours.name()]);
    ours.ip(&["link", "set", PEER, "up"]);
    let raw = |name: &'static str| Raw::open(name, vec![0; SLOTS * 1514]).unwrap();
    let tap = || {
        let tap = Tap::open(TAP, vec![0; SLOTS * 1514]).unwrap();
        tap.set_up().unwrap();
        tap
    };

    let (tx, rx) = blast(
        &ours,
        move || sender(raw(OURS)),
        move || receiver(raw(PEER)),
        time,
    );
    println!("RawSocket -> veth -> RawSocket: sent {tx:.0}/s, received {rx:.0}/s");
    assert!(rx > 0.0);

    let (tx, rx) = blast(
        &ours,
        move || sender(raw(TAP)),
        move || receiver(tap()),
        time,
    );
    println!("RawSocket on the TAP -> TapDevice: sent {tx:.0}/s, received {rx:.0}/s");
    assert!(rx > 0.0);

    let idle = || -> Step {
        Box::new(|| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            0
        })
    };
    let (tx, _) = blast(&ours, move || sender(tap()), idle, time);
    println!("TapDevice -> kernel: sent {tx:.0}/s");
    assert!(tx > 0.0);
}
