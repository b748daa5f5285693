//! The smoltcp `client` example on ethox: connects to HOST PORT (IPv4 or
//! IPv6) and answers every chunk it reads with the chunk reversed, its
//! newlines taken out and one put at the end, until the peer closes; then
//! it closes too and prints what went through.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! socat stdio tcp-listen:1234,reuseaddr &
//! cargo run --release --bin client -- --tap tap0 10.0.0.1 1234
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::CloseReason;
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::nic::{Device, sys};
use ethox::time::Instant;
use ethox::wire::IpAddr;
use ethox_examples::cli::{Args, Flag, Program};
use ethox_examples::{NoUdp, Sizes, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "client",
    usage: "HOST PORT",
    about: "Connects to HOST PORT over TCP (IPv4 or IPv6) and sends back every chunk it \
reads, reversed, without its newlines and with one at the end, until the peer closes. Exits \
0 after a normal close, 1 otherwise.",
    flags: &[
        Flag {
            name: "--send",
            value: "TEXT",
            help: "send TEXT and a newline once connected",
            default: "",
        },
        Flag {
            name: "--buffer",
            value: "BYTES",
            help: "the send and receive buffer",
            default: "65536",
        },
        Flag {
            name: "--timeout",
            value: "S",
            help: "give up (reset the connection) after this many seconds",
            default: "none",
        },
        Flag {
            name: "--verbose",
            value: "",
            help: "print the connection's events",
            default: "",
        },
    ],
    link: true,
};

/// What the client was asked to do.
struct Settings {
    remote: (IpAddr, u16),
    send: Option<String>,
    buffer: usize,
    timeout: Option<Duration>,
    verbose: bool,
}

/// The one connection: its buffers, its events, and the counts.
struct Client {
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static>,
    events: VecDeque<Event>,
    bytes_in: u64,
    bytes_out: u64,
}

impl Io for Client {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let _ = conn;
        Some(Buffers {
            send: &mut self.send,
            recv: &mut self.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        let _ = conn;
        self.events.push_back(event);
    }
}

impl Client {
    /// Queues `data` to send (as much as fits).
    fn write(&mut self, data: &[u8]) {
        let n = self.send.write(data);
        self.bytes_out += n as u64;
    }

    /// Answers what was read: each chunk reversed, its newlines removed
    /// and one appended. Reads no more than the answer has room for.
    fn answer(&mut self) {
        loop {
            let room = self.send.free();
            if room < 2 || self.recv.is_empty() {
                return;
            }
            let mut chunk = vec![0u8; room - 1];
            let n = self.recv.read(&mut chunk);
            self.bytes_in += n as u64;
            chunk.truncate(n);
            chunk.retain(|&b| b != b'\n');
            chunk.reverse();
            chunk.push(b'\n');
            self.write(&chunk);
        }
    }
}

struct Run {
    settings: Settings,
}

impl StackRunner for Run {
    type Output = Result<CloseReason, String>;

    fn run<D: Device + Waitable>(self, mut stack: Stack<D>) -> Result<CloseReason, String> {
        let settings = self.settings;
        let (host, port) = settings.remote;
        let local = stack
            .link
            .local_for(host)
            .ok_or_else(|| format!("no address of {host}'s family"))?;
        let start = sys::now();
        let conn = stack
            .tcp
            .connect((local, 0), settings.remote, start)
            .map_err(|err| format!("connect: {err:?}"))?;
        let local_port = stack.tcp.tuple(conn).map_or(0, |t| t.local_port);
        println!(
            "client: ready, connecting from {} to {}",
            endpoint(local, local_port),
            endpoint(host, port)
        );
        let mut client = Client {
            send: RingSendBuffer::new(vec![0; settings.buffer]),
            recv: RingRecvBuffer::new(vec![0; settings.buffer]),
            events: VecDeque::new(),
            bytes_in: 0,
            bytes_out: 0,
        };
        let deadline: Option<Instant> = settings.timeout.map(|t| start + t);
        let mut established: Option<Instant> = None;
        let reason = loop {
            let moved = stack.poll(&mut NoUdp, &mut client)?;
            let mut closed = None;
            while let Some(event) = client.events.pop_front() {
                if settings.verbose {
                    println!("client: {event:?}");
                }
                match event {
                    Event::Established => {
                        established = Some(sys::now());
                        println!("client: connected");
                        if let Some(text) = &settings.send {
                            client.write(text.as_bytes());
                            client.write(b"\n");
                        }
                    }
                    // What is queued goes out, then our FIN.
                    Event::PeerClosed => {
                        client.answer();
                        let _ = stack.tcp.close(conn);
                    }
                    Event::Closed(reason) => closed = Some(reason),
                    _ => {}
                }
            }
            if let Some(reason) = closed {
                break reason;
            }
            client.answer();
            if stack.link.pcap.is_some() {
                stack.flush_capture();
            }
            let now = sys::now();
            if deadline.is_some_and(|d| now >= d) {
                // Tell the peer, then stop.
                let _ = stack.tcp.abort(conn);
                stack.poll(&mut NoUdp, &mut client)?;
                println!("client: timed out");
                break CloseReason::TimedOut;
            }
            if moved == 0 {
                stack.wait(deadline, Duration::from_millis(100))?;
            }
        };
        stack.flush_capture();
        let secs = established.map_or(0.0, |at| {
            sys::now().saturating_duration_since(at).as_secs_f64()
        });
        println!(
            "client: connection ended: {reason:?}, {} bytes in, {} bytes out, {secs:.3} s",
            client.bytes_in, client.bytes_out
        );
        Ok(reason)
    }
}

/// `addr:port`, with brackets around an IPv6 address.
fn endpoint(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn settings(args: &Args) -> Result<Settings, String> {
    let [host, port] = args.positional() else {
        return Err("HOST (an IPv4 or IPv6 address) and PORT".into());
    };
    let host: IpAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{port:?} is not a port"))?;
    let timeout = args.secs("--timeout")?;
    Ok(Settings {
        remote: (host, port),
        send: args.value("--send").map(str::to_string),
        buffer: args.parse_or("--buffer", 65536usize)?.max(2),
        timeout,
        verbose: args.has("--verbose"),
    })
}

fn main() {
    let args = PROGRAM.parse_env();
    let (link, settings) = match args.link().and_then(|link| Ok((link, settings(&args)?))) {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("client: {err}\n\n{}", PROGRAM.help());
            std::process::exit(2);
        }
    };
    let sizes = Sizes {
        tcp_connections: 1,
        tcp_listeners: 1,
        ..Sizes::default()
    };
    let run = Run { settings };
    match ethox_examples::open_sized(&link, sizes, Default::default(), run).and_then(|r| r) {
        Ok(CloseReason::Normal) => {}
        Ok(_) => std::process::exit(1),
        Err(err) => {
            eprintln!("client: {err}");
            std::process::exit(2);
        }
    }
}
