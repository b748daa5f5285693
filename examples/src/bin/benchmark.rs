//! TCP throughput between ethox on a TAP and the Linux stack on the other
//! end of it, as smoltcp's `benchmark` example measures it.
//!
//! ethox listens on two ports, as smoltcp's benchmark does:
//!
//! * port 1234 sends: ethox writes `--size` MiB and closes;
//! * port 1235 receives: ethox reads whatever comes and closes when the
//!   peer does.
//!
//! The mode names what the *kernel's* client does, as in smoltcp:
//! `reader` connects to 1234 and reads (ethox sends), `writer` connects to
//! 1235 and writes (ethox receives). The client is a thread of this
//! process using the kernel's sockets (`std::net::TcpStream`), so the
//! program must run where the TAP's kernel end has an address (a network
//! namespace whose `tap0` is 10.0.0.1/24, say). The client counts the
//! bytes and the time from the end of the handshake to the end of the
//! transfer: the reader until it reads the end of the stream, the writer
//! until ethox, having read everything, closes in turn.
//!
//! Neither side touches the data, as in smoltcp's benchmark: ethox queues
//! its ring buffer's bytes as they are and drops what it reads, so what is
//! measured is the stack and the TAP. Retransmissions are counted on both
//! sides: ethox's from the connection's counters, the kernel's from
//! `/proc/net/snmp` and `/proc/net/netstat` (the whole namespace), with
//! the frames the TAP dropped.
//!
//! ```sh
//! ip netns add bench && ip netns exec bench sh -c '
//!   ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//!   cargo run --release --bin benchmark -- reader'
//! ```
//! `benches/tap_benchmark.sh` does that for both modes and prints a table.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::thread::JoinHandle;
use std::time::{Duration, Instant as WallClock};

use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::{Config as TcpConfig, ConnectionStats, State};
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::nic::Device;
use ethox::wire::IpAddr;
use ethox_examples::cli::{Flag, Program};
use ethox_examples::{NoUdp, Sizes, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "benchmark",
    usage: "reader|writer",
    about: "TCP throughput against the kernel on the other end of the TAP, as smoltcp's \
benchmark: ethox listens on 1234 (sends SIZE MiB) and 1235 (receives); a kernel client thread \
connects and reads (reader: ethox sends) or writes (writer: ethox receives). Run it where the \
TAP's kernel end has an address (10.0.0.1/24 for the defaults). Prints the throughput in Gbit/s \
and the retransmissions of both sides.",
    flags: &[
        Flag {
            name: "--size",
            value: "MIB",
            help: "MiB to transfer",
            default: "1024",
        },
        Flag {
            name: "--buffer",
            value: "BYTES",
            help: "ethox's send and receive buffer per connection",
            default: "1048576",
        },
        Flag {
            name: "--mtu",
            value: "BYTES",
            help: "IP MTU of the TAP (set on it) and the MSS to match",
            default: "1500",
        },
        Flag {
            name: "--timeout",
            value: "SECS",
            help: "give up when the transfer takes longer",
            default: "300",
        },
    ],
    link: true,
};

/// Out-of-order ranges a receive buffer holds. A window of hundreds of
/// segments with a few percent loss has tens of holes at a time, and a
/// segment that would open a hole more than the buffer tracks is refused
/// and sent again: with the default 4, the kernel writing 64 MiB at 1%
/// loss each way resent 14000 segments in 4-6 s (0.1 Gbit/s); with 64,
/// about 2000 in 0.2-0.4 s.
const GAPS: usize = 64;

/// Where ethox sends: the kernel's reader connects here.
const PORT_SEND: u16 = 1234;
/// Where ethox receives: the kernel's writer connects here.
const PORT_RECV: u16 = 1235;

/// What the kernel's client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reads from port 1234: ethox sends.
    Reader,
    /// Writes to port 1235: ethox receives.
    Writer,
}

impl Mode {
    fn port(self) -> u16 {
        match self {
            Mode::Reader => PORT_SEND,
            Mode::Writer => PORT_RECV,
        }
    }
}

/// One accepted connection: its buffers and what went through them.
struct Conn {
    handle: Handle,
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static, GAPS>,
    /// The local port, once established (it says what to do).
    port: Option<u16>,
    /// Bytes queued for sending.
    queued: u64,
    /// Our close was asked for.
    closing: bool,
}

/// The TCP application: the connections and the events to act on.
struct Bench {
    conns: Vec<Option<Conn>>,
    events: Vec<(Handle, Event)>,
    buffer: usize,
    /// Bytes port 1234 sends per connection.
    size: u64,
    /// The connection on the benchmarked port, when there is one, and its
    /// counters as last seen (a connection's counters go with it).
    measured: Option<Handle>,
    stats: Option<ConnectionStats>,
    /// Totals over the connections of the benchmarked port.
    sent: u64,
    received: u64,
}

impl Io for Bench {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let c = self.conns.get_mut(conn.index as usize)?.as_mut()?;
        Some(Buffers {
            send: &mut c.send,
            recv: &mut c.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        if event == Event::Incoming
            && let Some(slot) = self.conns.get_mut(conn.index as usize)
        {
            *slot = Some(Conn {
                handle: conn,
                send: RingSendBuffer::new(vec![0; self.buffer]),
                recv: RingRecvBuffer::with_gaps(vec![0; self.buffer]),
                port: None,
                queued: 0,
                closing: false,
            });
        }
        self.events.push((conn, event));
    }
}

impl Bench {
    /// Acts on the events, fills the senders' buffers and drains the
    /// receivers'.
    fn step<D: Device>(&mut self, stack: &mut Stack<D>, port: u16) {
        for (handle, event) in self.events.drain(..) {
            let Some(conn) = self
                .conns
                .get_mut(handle.index as usize)
                .and_then(Option::as_mut)
            else {
                continue;
            };
            match event {
                Event::Established => {
                    conn.port = stack.tcp.tuple(handle).map(|t| t.local_port);
                    if conn.port == Some(port) {
                        self.measured = Some(handle);
                    }
                }
                Event::PeerClosed => {
                    let _ = stack.tcp.close(handle);
                    conn.closing = true;
                }
                Event::Closed(_) => {
                    if self.measured == Some(handle) {
                        self.measured = None;
                    }
                    self.conns[handle.index as usize] = None;
                }
                _ => {}
            }
        }
        for p in [PORT_SEND, PORT_RECV] {
            while stack.tcp.accept(p).is_some() {}
        }
        for conn in self.conns.iter_mut().flatten() {
            let counted = conn.port == Some(port);
            if conn.port == Some(PORT_SEND) && !conn.closing {
                // Queue the ring's bytes as they are: no copy, as
                // smoltcp's benchmark.
                while conn.queued < self.size {
                    let room = conn.send.writable().len() as u64;
                    let n = room.min(self.size - conn.queued);
                    if n == 0 {
                        break;
                    }
                    conn.send.commit(n as usize);
                    conn.queued += n;
                    if counted {
                        self.sent += n;
                    }
                }
                if conn.queued == self.size {
                    let _ = stack.tcp.close(conn.handle);
                    conn.closing = true;
                }
            }
            loop {
                let n = conn.recv.readable().len();
                if n == 0 {
                    break;
                }
                conn.recv.consume(n);
                if counted {
                    self.received += n as u64;
                }
            }
        }
        if let Some(c) = self.measured.and_then(|h| stack.tcp.connection(h)) {
            self.stats = Some(c.stats());
        }
    }
}

/// What the kernel's client saw.
struct ClientReport {
    bytes: u64,
    elapsed: Duration,
}

/// The kernel's side: connects to `addr`, reads until the end of the
/// stream (reader) or writes `size` bytes, shuts its direction and waits
/// for ethox to close (writer).
fn client(
    mode: Mode,
    addr: SocketAddr,
    size: u64,
    limit: Duration,
) -> Result<ClientReport, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|err| format!("connect to {addr}: {err}"))?;
    stream
        .set_read_timeout(Some(limit))
        .and_then(|()| stream.set_write_timeout(Some(limit)))
        .map_err(|err| format!("socket timeouts: {err}"))?;
    let mut buffer = vec![0u8; 1 << 20];
    let start = WallClock::now();
    let mut bytes = 0u64;
    match mode {
        Mode::Reader => loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => bytes += n as u64,
                Err(err) => return Err(format!("read after {bytes} bytes: {err}")),
            }
        },
        Mode::Writer => {
            while bytes < size {
                let n = (size - bytes).min(buffer.len() as u64) as usize;
                match stream.write(&buffer[..n]) {
                    Ok(0) => return Err(format!("write: closed after {bytes} bytes")),
                    Ok(n) => bytes += n as u64,
                    Err(err) => return Err(format!("write after {bytes} bytes: {err}")),
                }
            }
            stream
                .shutdown(Shutdown::Write)
                .map_err(|err| format!("shutdown: {err}"))?;
            // ethox closes once it has read everything.
            match stream.read(&mut buffer) {
                Ok(0) => {}
                Ok(n) => return Err(format!("{n} unexpected bytes from ethox")),
                Err(err) => return Err(format!("waiting for ethox to close: {err}")),
            }
        }
    }
    Ok(ClientReport {
        bytes,
        elapsed: start.elapsed(),
    })
}

/// The kernel's counters that say why a transfer slowed, for the
/// namespace the program runs in (all of its traffic is the benchmark's).
#[derive(Debug, Clone, Copy, Default)]
struct KernelCounters {
    /// TCP segments retransmitted (`RetransSegs`).
    retransmitted: u64,
    /// Of those, tail loss probes, fast retransmits and timeouts.
    loss_probes: u64,
    fast_retransmits: u64,
    timeouts: u64,
    /// Frames the TAP dropped: towards ethox (its queue was full because
    /// ethox did not read in time) and from ethox.
    tap_tx_dropped: u64,
    tap_rx_dropped: u64,
}

impl KernelCounters {
    fn read(tap: Option<&str>) -> KernelCounters {
        let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
        let netstat = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
        let interface = |name: &str| {
            tap.and_then(|tap| {
                std::fs::read_to_string(format!("/sys/class/net/{tap}/statistics/{name}")).ok()
            })
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
        };
        KernelCounters {
            retransmitted: counter(&snmp, "Tcp:", "RetransSegs"),
            loss_probes: counter(&netstat, "TcpExt:", "TCPLossProbes"),
            fast_retransmits: counter(&netstat, "TcpExt:", "TCPFastRetrans"),
            timeouts: counter(&netstat, "TcpExt:", "TCPTimeouts"),
            tap_tx_dropped: interface("tx_dropped"),
            tap_rx_dropped: interface("rx_dropped"),
        }
    }

    /// What changed since `before`.
    fn since(self, before: KernelCounters) -> KernelCounters {
        KernelCounters {
            retransmitted: self.retransmitted.saturating_sub(before.retransmitted),
            loss_probes: self.loss_probes.saturating_sub(before.loss_probes),
            fast_retransmits: self
                .fast_retransmits
                .saturating_sub(before.fast_retransmits),
            timeouts: self.timeouts.saturating_sub(before.timeouts),
            tap_tx_dropped: self.tap_tx_dropped.saturating_sub(before.tap_tx_dropped),
            tap_rx_dropped: self.tap_rx_dropped.saturating_sub(before.tap_rx_dropped),
        }
    }
}

/// Counter `name` of a `/proc/net/snmp`-style table: a line of names and
/// a line of values, both starting with `prefix`. 0 if absent.
fn counter(table: &str, prefix: &str, name: &str) -> u64 {
    let mut lines = table.lines().filter(|l| l.starts_with(prefix));
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if let Some((_, value)) = names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == name)
        {
            return value.parse().unwrap_or(0);
        }
    }
    0
}

struct Run {
    mode: Mode,
    bench: Bench,
    limit: Duration,
}

impl StackRunner for Run {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(mut self, mut stack: Stack<D>) -> Result<(), String> {
        for port in [PORT_SEND, PORT_RECV] {
            stack.tcp.listen(port, 4).map_err(|err| err.to_string())?;
        }
        let addr: IpAddr = stack
            .link
            .addr4()
            .or(stack.link.addr6())
            .ok_or("no address: give --ip4 or --ip6")?;
        let target = SocketAddr::new(addr, self.mode.port());
        let size = self.bench.size;
        println!(
            "benchmark: ready on {addr}; {}: {size} bytes, {}",
            match self.mode {
                Mode::Reader => "reader",
                Mode::Writer => "writer",
            },
            match self.mode {
                Mode::Reader => "ethox sends (port 1234), the kernel reads",
                Mode::Writer => "the kernel writes, ethox receives (port 1235)",
            }
        );
        let tap = stack
            .link
            .nic
            .is_tap()
            .then(|| stack.link.nic.name().to_string());
        let kernel_before = KernelCounters::read(tap.as_deref());
        let (mode, limit) = (self.mode, self.limit);
        // Named, so a profile tells its time from the stack's.
        let thread: JoinHandle<_> = std::thread::Builder::new()
            .name("kernel-client".into())
            .spawn(move || client(mode, target, size, limit))
            .map_err(|err| format!("client thread: {err}"))?;
        let deadline = WallClock::now() + self.limit + Duration::from_secs(10);
        let port = self.mode.port();
        let mut udp = NoUdp;
        while !thread.is_finished() {
            let moved = stack.poll(&mut udp, &mut self.bench)?;
            self.bench.step(&mut stack, port);
            if moved == 0 {
                if WallClock::now() > deadline {
                    return Err(format!("no end after {:?}", self.limit));
                }
                stack.wait(None, Duration::from_millis(10))?;
            }
        }
        // The client has closed too: answer its FIN before counting the
        // kernel's retransmissions, or it probes for the missing ACK.
        let settle = WallClock::now() + Duration::from_millis(100);
        while WallClock::now() < settle
            && self
                .bench
                .measured
                .is_some_and(|h| !matches!(stack.tcp.state(h), State::TimeWait | State::Closed))
        {
            if stack.poll(&mut udp, &mut self.bench)? == 0 {
                stack.wait(None, Duration::from_millis(1))?;
            }
            self.bench.step(&mut stack, port);
        }
        if stack.link.pcap.is_some() {
            stack.flush_capture();
        }
        let report = thread
            .join()
            .map_err(|_| "the client thread panicked".to_string())??;
        let kernel = KernelCounters::read(tap.as_deref()).since(kernel_before);
        let ethox_bytes = match self.mode {
            Mode::Reader => self.bench.sent,
            Mode::Writer => self.bench.received,
        };
        let secs = report.elapsed.as_secs_f64();
        println!(
            "bytes: {} (kernel), {ethox_bytes} (ethox) in {secs:.3} s",
            report.bytes
        );
        println!(
            "throughput: {:.2} Gbit/s",
            report.bytes as f64 * 8.0 / secs.max(1e-9) / 1e9
        );
        let stats = self.bench.stats.unwrap_or_default();
        println!(
            "retransmissions: ethox {} ({} fast retransmits, {} timeouts), \
kernel {} ({} fast retransmits, {} timeouts, {} loss probes)",
            stats.retransmissions,
            stats.fast_retransmits,
            stats.timeouts,
            kernel.retransmitted,
            kernel.fast_retransmits,
            kernel.timeouts,
            kernel.loss_probes
        );
        println!(
            "ethox: {} segments sent, {} received, {} out of order, srtt {:?}, cwnd {}; \
TAP drops: {} towards ethox, {} from ethox",
            stats.segments_sent,
            stats.segments_received,
            stats.out_of_order,
            stats.srtt.unwrap_or_default(),
            stats.cwnd,
            kernel.tap_tx_dropped,
            kernel.tap_rx_dropped
        );
        if report.bytes != size || ethox_bytes != size {
            return Err(format!(
                "expected {size} bytes, the kernel counted {} and ethox {ethox_bytes}",
                report.bytes
            ));
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = PROGRAM.parse_env();
    let result = (|| {
        let mode = match args.positional() {
            [mode] if mode == "reader" => Mode::Reader,
            [mode] if mode == "writer" => Mode::Writer,
            _ => return Err(format!("reader or writer?\n\n{}", PROGRAM.help())),
        };
        let link = args.link()?;
        let mib: u64 = args.parse_or("--size", 1024)?;
        let buffer: usize = args.parse_or("--buffer", 1 << 20)?;
        if buffer == 0 {
            return Err("--buffer: at least one byte".into());
        }
        let limit = Duration::from_secs(args.parse_or("--timeout", 300)?);
        let connections = 4;
        let bench = Bench {
            conns: (0..connections).map(|_| None).collect(),
            events: Vec::new(),
            buffer,
            size: mib.saturating_mul(1 << 20),
            measured: None,
            stats: None,
            sent: 0,
            received: 0,
        };
        let sizes = Sizes {
            udp_ports: 1,
            tcp_connections: connections,
            tcp_listeners: 2,
        };
        let mtu: usize = args.parse_or("--mtu", 1500)?;
        let mss = mtu
            .checked_sub(40)
            .and_then(|mss| u16::try_from(mss).ok())
            .filter(|_| mtu >= 576)
            .ok_or_else(|| format!("--mtu: 576 to 65535, got {mtu}"))?;
        let mut tcp_config = TcpConfig::default();
        tcp_config.mss = mss;
        ethox_examples::open_with_mtu(
            &link,
            (mtu != 1500).then_some(mtu),
            sizes,
            tcp_config,
            Run { mode, bench, limit },
        )?
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("benchmark: {err}");
            ExitCode::FAILURE
        }
    }
}
