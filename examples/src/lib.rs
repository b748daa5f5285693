//! What the example programs share: their command line (the link, the
//! addresses, `--pcap` and the fault-injection flags of the smoltcp
//! examples), a whole host over any NIC, and an event loop that sleeps
//! until the stack's next deadline.
//!
//! A program opens its NIC with [`open`], which hands a [`Stack`] over the
//! chosen device (a TAP or an AF_PACKET socket, wrapped in pcap capture
//! and fault injection) to a generic function of the program's:
//!
//! ```no_run
//! use ethox_examples::{Link, Stack, StackRunner, Waitable, open};
//! use ethox::nic::Device;
//!
//! struct Run;
//! impl StackRunner for Run {
//!     type Output = ();
//!     fn run<D: Device + Waitable>(self, mut stack: Stack<D>) {
//!         // stack.poll(...) in a loop
//!         let _ = &mut stack;
//!     }
//! }
//! let link = Link::default();
//! open(&link, Run).unwrap();
//! ```

pub mod cli;
pub mod json;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

use ethox::layer::neighbor::{Neighbor, NeighborCache, NeighborConfig};
use ethox::layer::route::{Route, Routes};
use ethox::layer::tcp::connection::Config as TcpConfig;
use ethox::layer::tcp::{self, Listener, Secrets, Slot};
use ethox::layer::{dhcp, eth, icmp, ip, udp};
use ethox::nic::Device;
use ethox::nic::capture::{Capture, CaptureMode};
use ethox::nic::fault::{FaultConfig, FaultInjector};
use ethox::nic::sys::{
    Error as SysError, RawOptions, RawSocket, SEGMENTATION_FRAME_CAPACITY, TapDevice, TapOptions,
};
use ethox::time::Instant;
use ethox::wire::pcap::{PcapSink, PcapWriter, TimestampResolution};
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};
use ethox_afxdp::XdpDevice;
use ethox_io_uring::{Error as UringError, UringNic};

/// Frame buffers per NIC.
pub const SLOTS: usize = 64;

/// Bytes per frame buffer: an Ethernet MTU of 1500 and its header.
pub const FRAME: usize = 1514;

/// Which system NIC to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NicKind {
    /// A TAP device of this name (created if it does not exist).
    Tap(String),
    /// An AF_PACKET socket on the interface of this name.
    Raw(String),
    /// An AF_PACKET socket on the interface of this name, driven by
    /// io_uring (`ethox-io-uring`).
    Uring(String),
    /// A TAP device of this name driven by io_uring.
    UringTap(String),
    /// An AF_XDP socket on queue 0 of the interface of this name
    /// (`ethox-afxdp`). Across a veth the kernel's end must not leave
    /// checksums to offload: `ethtool -K PEER tx-checksumming off`.
    Xdp(String),
}

impl NicKind {
    /// The interface or TAP name.
    pub fn name(&self) -> &str {
        match self {
            NicKind::Tap(name)
            | NicKind::Raw(name)
            | NicKind::Uring(name)
            | NicKind::UringTap(name)
            | NicKind::Xdp(name) => name,
        }
    }

    /// Whether the kind is a TAP device (the program creates it).
    pub fn is_tap(&self) -> bool {
        matches!(self, NicKind::Tap(_) | NicKind::UringTap(_))
    }

    /// The kind named by `--nic` (`tap`, `raw`, `uring`, `uring-tap`,
    /// `afxdp`) on the interface `name`.
    pub fn from_flag(kind: &str, name: &str) -> Option<NicKind> {
        let name = name.to_string();
        Some(match kind {
            "tap" => NicKind::Tap(name),
            "raw" => NicKind::Raw(name),
            "uring" => NicKind::Uring(name),
            "uring-tap" => NicKind::UringTap(name),
            "afxdp" | "xdp" => NicKind::Xdp(name),
            _ => return None,
        })
    }
}

impl std::fmt::Display for NicKind {
    /// The NIC as a person reads it: `tap tap0`, `raw socket on eth0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NicKind::Tap(name) => write!(f, "tap {name}"),
            NicKind::Raw(name) => write!(f, "raw socket on {name}"),
            NicKind::Uring(name) => write!(f, "io_uring raw socket on {name}"),
            NicKind::UringTap(name) => write!(f, "io_uring tap {name}"),
            NicKind::Xdp(name) => write!(f, "AF_XDP socket on {name}"),
        }
    }
}

/// The neighbor caches' timing: entries are trusted for 15 s, not the
/// default minute. ARP has no checksum of its own (a real link's frame
/// check sequence protects it), so with `--corrupt-chance` a damaged reply
/// can teach the cache a wrong hardware address, and only the entry's age
/// corrects it. RFC 1122 2.3.2.1 asks for a timeout "on the order of a
/// minute"; Linux's entries turn stale after 15 to 45 s.
pub const NEIGHBORS: NeighborConfig = NeighborConfig {
    lifetime: Duration::from_secs(15),
    request_interval: Duration::from_secs(1),
    grace: Duration::from_secs(3),
};

/// The link and the host's identity on it: what every example takes on
/// its command line.
#[derive(Debug, Clone)]
pub struct Link {
    /// The NIC.
    pub nic: NicKind,
    /// The host's MAC address.
    pub mac: EthernetAddress,
    /// The IPv4 address and prefix.
    pub ipv4: Option<IpCidr>,
    /// The IPv6 address and prefix.
    pub ipv6: Option<IpCidr>,
    /// The IPv4 default gateway.
    pub gateway4: Option<Ipv4Addr>,
    /// The IPv6 default gateway.
    pub gateway6: Option<Ipv6Addr>,
    /// Write every frame to this pcap file.
    pub pcap: Option<String>,
    /// Faults to inject (the smoltcp examples' flags).
    pub faults: FaultConfig,
    /// Seed of the fault injector and of the stack's secrets.
    pub seed: u64,
    /// After traffic, how long the event loop keeps looking for more
    /// before it sleeps (`--busy-poll`): spinning spends a core to save
    /// the wake-up of a sleeping thread per batch.
    pub busy_poll: Duration,
    /// A TAP takes the kernel's checksum and segmentation offloads
    /// (`--offload`): its buffers hold 64 KiB frames.
    pub offload: bool,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            nic: NicKind::Tap("tap0".into()),
            mac: EthernetAddress([0x02, 0, 0, 0, 0, 0x02]),
            ipv4: IpCidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 24).ok(),
            ipv6: IpCidr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 64).ok(),
            gateway4: None,
            gateway6: None,
            pcap: None,
            faults: FaultConfig::default(),
            seed: 1,
            busy_poll: Duration::ZERO,
            offload: false,
        }
    }
}

impl Link {
    /// The host's IPv4 address.
    pub fn addr4(&self) -> Option<IpAddr> {
        self.ipv4.map(|c| c.address())
    }

    /// The host's IPv6 address.
    pub fn addr6(&self) -> Option<IpAddr> {
        self.ipv6.map(|c| c.address())
    }

    /// This host's address of the same family as `peer`.
    pub fn local_for(&self, peer: IpAddr) -> Option<IpAddr> {
        match peer {
            IpAddr::V4(_) => self.addr4(),
            IpAddr::V6(_) => self.addr6(),
        }
    }
}

/// A device the event loop can wait on.
pub trait Waitable {
    /// Waits until a frame may be read, or `timeout` passes (`None`:
    /// forever). `Ok(true)` if something is ready.
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool>;
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Waitable for TapDevice<S, N> {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        self.poll(timeout)
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>, const N: usize> Waitable for RawSocket<S, N> {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        self.poll(timeout)
    }
}

impl Waitable for UringNic {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        UringNic::wait(self, timeout)
    }
}

impl Waitable for XdpDevice {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        XdpDevice::wait(self, timeout)
    }
}

impl<D: Device + Waitable> Waitable for FaultInjector<D> {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        self.inner().wait(timeout)
    }
}

impl<D: Device + Waitable, S: PcapSink> Waitable for Capture<D, S> {
    fn wait(&self, timeout: Option<Duration>) -> std::io::Result<bool> {
        self.inner().wait(timeout)
    }
}

/// A pcap sink that is a file, or nothing when no capture was asked for.
pub struct FileOrNothing(Option<BufWriter<File>>);

impl PcapSink for FileOrNothing {
    type Error = std::io::Error;

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.0 {
            Some(file) => file.write_all(bytes),
            None => Ok(()),
        }
    }
}

impl FileOrNothing {
    /// A sink writing to `file`, or discarding without one.
    pub fn new(file: Option<BufWriter<File>>) -> Self {
        FileOrNothing(file)
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// The NIC stack of every example: the system device, its capture, and
/// fault injection on top (so the capture shows what really crossed the
/// link).
pub type Nic<D> = FaultInjector<Capture<D, FileOrNothing>>;

/// A whole host: the NIC and one endpoint per layer.
pub struct Stack<D> {
    /// The NIC (fault injection over capture over the device).
    pub nic: Nic<D>,
    /// Ethernet.
    pub eth: eth::Endpoint,
    /// IPv4 and IPv6 with their neighbor caches and routes.
    pub ip: ip::Endpoint<'static>,
    /// ICMP echo.
    pub icmp: icmp::Endpoint,
    /// UDP ports.
    pub udp: udp::Endpoint<'static>,
    /// TCP connections and listeners.
    pub tcp: tcp::Endpoint<'static>,
    /// The link it was built for.
    pub link: Link,
    /// When [`poll`](Self::poll) last moved a frame.
    active_at: Instant,
}

/// How many of each table a [`Stack`] gets.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// UDP port slots.
    pub udp_ports: usize,
    /// TCP connection slots.
    pub tcp_connections: usize,
    /// TCP listener slots.
    pub tcp_listeners: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            udp_ports: 8,
            tcp_connections: 16,
            tcp_listeners: 8,
        }
    }
}

/// What a program does with the stack once its NIC is open: generic over
/// the device, called by [`open`].
pub trait StackRunner {
    /// What the program returns.
    type Output;

    /// Runs the program on `stack`.
    fn run<D: Device + Waitable>(self, stack: Stack<D>) -> Self::Output;
}

/// Opens the NIC `link` names, builds a [`Stack`] on it and gives it to
/// `runner`. Errors are the NIC's set-up errors, as text that says what
/// to do.
pub fn open<R: StackRunner>(link: &Link, runner: R) -> Result<R::Output, String> {
    open_sized(link, Sizes::default(), TcpConfig::default(), runner)
}

/// [`open`] with table sizes and a TCP configuration.
pub fn open_sized<R: StackRunner>(
    link: &Link,
    sizes: Sizes,
    tcp_config: TcpConfig,
    runner: R,
) -> Result<R::Output, String> {
    open_with_mtu(link, None, sizes, tcp_config, runner)
}

/// [`open_sized`], with frame buffers for an IP MTU of `mtu` (`None`:
/// 1500) and a TAP set to it. An AF_PACKET socket keeps its interface's
/// MTU, which must fit. The TCP MSS is the caller's to match.
pub fn open_with_mtu<R: StackRunner>(
    link: &Link,
    mtu: Option<usize>,
    sizes: Sizes,
    tcp_config: TcpConfig,
    runner: R,
) -> Result<R::Output, String> {
    let mut frame = mtu.map_or(FRAME, |mtu| mtu.saturating_add(FRAME - 1500));
    if link.offload && !matches!(link.nic, NicKind::Xdp(_)) {
        // Room for the kernel's unsegmented TCP.
        frame = frame.max(SEGMENTATION_FRAME_CAPACITY);
    }
    let storage = vec![0u8; SLOTS.saturating_mul(frame)];
    match &link.nic {
        NicKind::Tap(name) => {
            let options = TapOptions {
                mtu,
                offload: link.offload,
            };
            let tap = while_busy(
                || TapDevice::<_, SLOTS>::open_with(name, options, storage.clone()),
                |err| matches!(err, SysError::Busy(_)),
            )
            .map_err(|err| format!("tap {name}: {err}"))?;
            tap.set_up().map_err(|err| format!("tap {name}: {err}"))?;
            Ok(runner.run(Stack::new(tap, link, sizes, tcp_config)?))
        }
        NicKind::Raw(name) => {
            let options = RawOptions {
                offload: link.offload,
            };
            let raw = RawSocket::<_, SLOTS>::open_with(name, options, storage)
                .map_err(|err| format!("raw socket on {name}: {err}"))?;
            Ok(runner.run(Stack::new(raw, link, sizes, tcp_config)?))
        }
        NicKind::Uring(name) | NicKind::UringTap(name) => {
            let mut config = ethox_io_uring::Config {
                frame_size: frame,
                offload: link.offload,
                ..ethox_io_uring::Config::default()
            };
            if config.offload {
                // 64 KiB buffers: 512 of them take 32 MiB, and a few dozen
                // segments in flight carry a whole TCP window.
                config.buffers = 512;
            }
            let what = &link.nic;
            let nic = while_busy(
                || match (&link.nic, mtu) {
                    (NicKind::Uring(_), _) => UringNic::open_packet(name, &config),
                    (_, Some(mtu)) => UringNic::open_tap_with_mtu(name, mtu, &config),
                    (_, None) => UringNic::open_tap(name, &config),
                },
                |err| matches!(err, UringError::Sys(SysError::Busy(_))),
            )
            .map_err(|err| format!("{what}: {err}"))?;
            nic.set_up().map_err(|err| format!("{what}: {err}"))?;
            Ok(runner.run(Stack::new(nic, link, sizes, tcp_config)?))
        }
        NicKind::Xdp(name) => {
            if link.offload {
                return Err(format!(
                    "AF_XDP socket on {name}: --offload needs virtio-net headers, \
                     which AF_XDP frames do not carry"
                ));
            }
            let nic = XdpDevice::open(name, ethox_afxdp::Config::default())
                .map_err(|err| format!("AF_XDP socket on {name}: {err}"))?;
            Ok(runner.run(Stack::new(nic, link, sizes, tcp_config)?))
        }
    }
}

/// Calls `open` until it succeeds or fails with an error other than
/// "busy", for about a second: a TAP whose previous owner just exited is
/// busy for a moment (up to ~100 ms measured, shared/PLATFORM.md), and a
/// program started right after another should not fail for that.
fn while_busy<T, E>(
    mut open: impl FnMut() -> Result<T, E>,
    is_busy: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let mut tries = 20;
    loop {
        match open() {
            Err(err) if is_busy(&err) && tries > 0 => {
                tries -= 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

impl<D: Device> Stack<D> {
    /// A host on `device` with `link`'s addresses and routes.
    pub fn new(
        device: D,
        link: &Link,
        sizes: Sizes,
        tcp_config: TcpConfig,
    ) -> Result<Self, String> {
        let file = match &link.pcap {
            Some(path) => Some(BufWriter::new(
                File::create(path).map_err(|err| format!("{path}: {err}"))?,
            )),
            None => None,
        };
        let writer = PcapWriter::new(FileOrNothing(file), TimestampResolution::Micro, 0)
            .map_err(|err| format!("pcap: {err}"))?;
        let capture = Capture::new(device, writer, CaptureMode::Both);
        let nic = FaultInjector::new(capture, link.faults, link.seed);
        let mut ip = ip::Endpoint::new(
            vec![None; 4],
            Routes::new(vec![None; 4]),
            NeighborCache::new(vec![Neighbor::EMPTY; 16], NEIGHBORS),
            NeighborCache::new(vec![Neighbor::EMPTY; 16], NEIGHBORS),
        );
        for cidr in [link.ipv4, link.ipv6].into_iter().flatten() {
            ip.add_addr(cidr);
        }
        if link.ipv6.is_some() {
            let local = ethox::wire::ipv6::link_local_from_mac(link.mac);
            if let Ok(cidr) = IpCidr::new(IpAddr::V6(local), 64) {
                ip.add_addr(cidr);
            }
        }
        if let Some(gw) = link.gateway4 {
            ip.routes_mut()
                .add(Route::default_v4(gw))
                .map_err(|err| format!("IPv4 gateway: {err}"))?;
        }
        if let Some(gw) = link.gateway6 {
            ip.routes_mut()
                .add(Route::default_v6(gw))
                .map_err(|err| format!("IPv6 gateway: {err}"))?;
        }
        let secrets = Secrets::from_seed(link.seed ^ now_seed());
        Ok(Stack {
            nic,
            eth: eth::Endpoint::new(link.mac),
            ip,
            icmp: icmp::Endpoint::new(),
            udp: udp::Endpoint::new(vec![None; sizes.udp_ports], secrets.ephemeral),
            tcp: tcp::Endpoint::new(
                vec![Slot::empty(); sizes.tcp_connections],
                vec![Listener::EMPTY; sizes.tcp_listeners],
                secrets,
                tcp_config,
            ),
            link: link.clone(),
            active_at: Instant::ZERO,
        })
    }

    /// One round: every received frame through the layers to `udp_app`
    /// and `tcp_app`, then whatever they and the layers have to send.
    /// Returns how many frames moved.
    pub fn poll<U, T>(&mut self, udp_app: &mut U, tcp_app: &mut T) -> Result<usize, String>
    where
        U: udp::Recv<Nic<D>> + udp::Send<Nic<D>>,
        T: tcp::Io,
    {
        let received = self
            .nic
            .rx(
                SLOTS,
                self.eth.recv(
                    self.ip.recv(
                        self.icmp.recv(
                            self.udp
                                .recv_or(&mut *udp_app, self.tcp.recv(&mut *tcp_app)),
                        ),
                    ),
                ),
            )
            .map_err(|err| format!("receive: {err}"))?;
        let sent_udp = self
            .nic
            .tx(
                SLOTS,
                self.eth.send(self.ip.send(self.udp.send(&mut *udp_app))),
            )
            .map_err(|err| format!("send: {err}"))?;
        let sent_tcp = self
            .nic
            .tx(
                SLOTS,
                self.eth.send(self.ip.send(self.tcp.send(&mut *tcp_app))),
            )
            .map_err(|err| format!("send: {err}"))?;
        let sent_ip = self
            .nic
            .tx(SLOTS, self.eth.send(self.ip.send(NothingToSend)))
            .map_err(|err| format!("send: {err}"))?;
        let moved = received + sent_udp + sent_tcp + sent_ip;
        if moved > 0 && !self.link.busy_poll.is_zero() {
            self.active_at = ethox::nic::sys::now();
        }
        Ok(moved)
    }

    /// The earliest deadline of the layers (`None`: no timer runs).
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.ip.next_deadline(),
            self.tcp.next_deadline(),
            self.nic.tx_ready_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Writes buffered capture data to the pcap file.
    pub fn flush_capture(&mut self) {
        let _ = self.nic.inner_mut().writer_mut().sink_mut().flush();
    }
}

impl<D: Device + Waitable> Stack<D> {
    /// Sleeps until a frame arrives, the stack's next deadline, `extra`
    /// (the application's own deadline) or `limit` from now, whichever is
    /// first.
    pub fn wait(&self, extra: Option<Instant>, limit: Duration) -> Result<(), String> {
        let now = ethox::nic::sys::now();
        if now < self.active_at + self.link.busy_poll {
            // Busy polling: the caller polls again at once.
            std::hint::spin_loop();
            return Ok(());
        }
        let deadline = [self.next_deadline(), extra].into_iter().flatten().min();
        let timeout = match deadline {
            // A deadline already due (a segment waiting for a buffer the
            // rate limiter holds back, say): look again soon, not at once.
            Some(at) if at <= now => Duration::from_micros(100),
            Some(at) => at.saturating_duration_since(now).min(limit),
            None => limit,
        };
        self.nic
            .wait(Some(timeout))
            .map(|_| ())
            .map_err(|err| format!("poll: {err}"))
    }
}

impl<D: Device + Waitable> Stack<D> {
    /// A DHCP client for this host (its MAC address, a fresh seed), with
    /// its port, [`dhcp::CLIENT_PORT`], bound on the UDP endpoint.
    pub fn dhcp_client(&mut self) -> Result<dhcp::Client, String> {
        self.udp
            .bind(dhcp::CLIENT_PORT)
            .map_err(|err| format!("UDP port {}: {err}", dhcp::CLIENT_PORT))?;
        Ok(dhcp::Client::new(
            self.link.mac,
            now_seed(),
            dhcp::Config::default(),
        ))
    }

    /// Runs the DHCP `client` (its port, [`dhcp::CLIENT_PORT`], bound on
    /// the UDP endpoint) until it holds a lease, which it installs on the
    /// IP endpoint; an error after `limit` without one. `on_state` hears
    /// each state the client enters.
    pub fn acquire_lease(
        &mut self,
        client: &mut dhcp::Client,
        limit: Duration,
        mut on_state: impl FnMut(dhcp::State),
    ) -> Result<dhcp::Lease, String> {
        let end = ethox::nic::sys::now() + limit;
        let mut state = client.state();
        on_state(state);
        loop {
            self.poll(&mut *client, &mut NoTcp)?;
            if client.state() != state {
                state = client.state();
                on_state(state);
            }
            let now = ethox::nic::sys::now();
            match client.apply(&mut self.ip, now) {
                Ok(Some(dhcp::Event::Configured(lease))) => return Ok(lease),
                Ok(_) => {}
                Err(err) => return Err(format!("installing the DHCP lease: {err}")),
            }
            if now >= end {
                return Err(format!(
                    "no DHCP lease within {limit:?} (client {})",
                    client.state()
                ));
            }
            let wake = [client.next_deadline(), Some(end)]
                .into_iter()
                .flatten()
                .min();
            self.wait(wake, Duration::from_millis(100))?;
        }
    }
}

/// An IP-layer sender with nothing of its own: lends the layers the
/// buffers for what they owe (ARP and neighbor solicitations, ICMP
/// errors, group reports).
pub struct NothingToSend;

impl<D: Device> ip::Send<D> for NothingToSend {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        let _ = raw;
    }
}

/// A UDP handler for programs without UDP.
pub struct NoUdp;

impl<D: Device> udp::Recv<D> for NoUdp {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        let _ = datagram;
    }
}

impl<D: Device> udp::Send<D> for NoUdp {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let _ = raw;
    }
}

/// A TCP application for programs without TCP.
pub struct NoTcp;

impl tcp::Io for NoTcp {
    fn buffers(&mut self, conn: tcp::Handle) -> Option<tcp::Buffers<'_>> {
        let _ = conn;
        None
    }
}

/// Entropy for secrets and transaction ids: the clock and the process id
/// (the examples are demos; a production host reads `getrandom`).
pub fn now_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ u64::from(std::process::id()).rotate_left(32)
}
