//! A host that answers the basic requests of the smoltcp `server` example,
//! over IPv4 and IPv6:
//!
//! * pings;
//! * UDP port 6969: answers "hello" to every datagram;
//! * TCP port 6969: says "hello" and closes;
//! * TCP port 6970: sends back every chunk it reads, reversed;
//! * TCP port 6971: sinks data, with keep-alives every second and a user
//!   timeout of 2 s (try the fault flags), and prints the [`Digest`] of
//!   what it took when the connection ends (a peer that sent the
//!   [`Source`] pattern compares it with [`Source::digest_of`]);
//! * TCP port 6972: sources data (a deterministic pattern, so a peer can
//!   check it) until the peer closes.
//!
//! Every connection's end is printed: `tcp connection N ended: REASON, X
//! bytes in, Y bytes out` (and `, digest D` on port 6971).
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! cargo run --release --bin server -- --tap tap0
//! ping 10.0.0.2; socat stdio udp4-connect:10.0.0.2:6969 <<<"abcdefg"
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use ethox::layer::tcp::buffer::{Digest, RingRecvBuffer, RingSendBuffer, Source};
use ethox::layer::tcp::connection::Config as TcpConfig;
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::layer::udp;
use ethox::nic::Device;
use ethox_examples::cli::{Flag, Program};
use ethox_examples::{Sizes, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "server",
    usage: "",
    about: "Answers pings; UDP 6969 answers \"hello\"; TCP 6969 says \"hello\" and closes; \
TCP 6970 echoes reversed chunks; TCP 6971 sinks data (keep-alive 1 s, user timeout 2 s); \
TCP 6972 sources data. IPv4 and IPv6.",
    flags: &[
        Flag {
            name: "--connections",
            value: "N",
            help: "TCP connection slots",
            default: "16",
        },
        Flag {
            name: "--backlog",
            value: "N",
            help: "connections not yet accepted per port; beyond, SYN cookies answer",
            default: "8",
        },
        Flag {
            name: "--buffer",
            value: "BYTES",
            help: "each connection's send and receive buffer",
            default: "65536",
        },
        Flag {
            name: "--source-seed",
            value: "N",
            help: "seed of the data port 6972 sends (ethox Source pattern)",
            default: "6972",
        },
        Flag {
            name: "--rto-min",
            value: "MS",
            help: "the least TCP retransmission timeout",
            default: "200",
        },
        Flag {
            name: "--rto-max",
            value: "MS",
            help: "the greatest TCP retransmission timeout (back-off stops there)",
            default: "60000",
        },
        Flag {
            name: "--verbose",
            value: "",
            help: "print every connection's events",
            default: "",
        },
    ],
    link: true,
};

const HELLO: &[u8] = b"hello\n";
const PORT_HELLO: u16 = 6969;
const PORT_ECHO: u16 = 6970;
const PORT_SINK: u16 = 6971;
const PORT_SOURCE: u16 = 6972;

/// UDP: "hello" to every datagram on 6969, built in the request's buffer.
struct Udp;

impl<D: Device> udp::Recv<D> for Udp {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        if datagram.dst().1 != PORT_HELLO {
            return;
        }
        if let Ok(mut out) = datagram.reply(HELLO.len()) {
            out.payload_mut().copy_from_slice(HELLO);
            let _ = out.send();
        }
    }
}

impl<D: Device> udp::Send<D> for Udp {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        let _ = raw;
    }
}

/// What a connection slot serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    /// Not known yet: the connection was just created.
    New,
    Hello,
    Echo,
    Sink,
    Source,
}

/// One connection slot: its buffers and what it serves.
struct Slot {
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static>,
    service: Service,
    /// Position in port 6972's stream.
    produced: u64,
    received: u64,
    /// The digest of what port 6971 took.
    digest: Digest,
}

impl Slot {
    fn new(size: usize) -> Slot {
        Slot {
            send: RingSendBuffer::new(vec![0; size]),
            recv: RingRecvBuffer::new(vec![0; size]),
            service: Service::New,
            produced: 0,
            received: 0,
            digest: Digest::new(),
        }
    }
}

/// TCP: the slots, and the events the main loop acts on.
struct Tcp {
    slots: Vec<Slot>,
    events: VecDeque<(Handle, Event)>,
    buffer: usize,
    seed: u64,
    verbose: bool,
}

impl Io for Tcp {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let slot = self.slots.get_mut(conn.index as usize)?;
        Some(Buffers {
            send: &mut slot.send,
            recv: &mut slot.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        if event == Event::Incoming {
            // A fresh connection in this slot: fresh buffers.
            if let Some(slot) = self.slots.get_mut(conn.index as usize) {
                *slot = Slot::new(self.buffer);
            }
        }
        self.events.push_back((conn, event));
    }
}

impl Tcp {
    /// Acts on what happened and keeps the services going.
    fn step<D: Device>(&mut self, stack: &mut Stack<D>) {
        while let Some((conn, event)) = self.events.pop_front() {
            let Some(slot) = self.slots.get_mut(conn.index as usize) else {
                continue;
            };
            if self.verbose {
                let tuple = stack.tcp.tuple(conn);
                println!("tcp {conn:?} {event:?} {tuple:?}");
            }
            match event {
                Event::Established if slot.service == Service::New => {
                    let port = stack.tcp.tuple(conn).map_or(0, |t| t.local_port);
                    slot.service = match port {
                        PORT_HELLO => Service::Hello,
                        PORT_ECHO => Service::Echo,
                        PORT_SINK => Service::Sink,
                        _ => Service::Source,
                    };
                    if slot.service == Service::Hello {
                        slot.send.write(HELLO);
                        let _ = stack.tcp.close(conn);
                    }
                    if let (Service::Sink, Some(c)) = (slot.service, stack.tcp.connection_mut(conn))
                    {
                        c.set_keep_alive(Some(Duration::from_secs(1)));
                        c.set_user_timeout(Some(Duration::from_secs(2)));
                    }
                }
                Event::PeerClosed => {
                    // Every service closes when its peer does.
                    let _ = stack.tcp.close(conn);
                }
                Event::Closed(reason) => {
                    let digest = match slot.service {
                        Service::Sink => format!(", digest {:016x}", slot.digest.value()),
                        _ => String::new(),
                    };
                    println!(
                        "tcp connection {} ended: {reason:?}, {} bytes in, {} bytes out{digest}",
                        conn.index, slot.received, slot.produced
                    );
                    slot.service = Service::New;
                }
                _ => {}
            }
        }
        // Data: echo, sink and source.
        let ports = [PORT_HELLO, PORT_ECHO, PORT_SINK, PORT_SOURCE];
        for port in ports {
            while stack.tcp.accept(port).is_some() {}
        }
        for (index, slot) in self.slots.iter_mut().enumerate() {
            match slot.service {
                Service::Echo => {
                    let mut chunk = [0u8; 2048];
                    let room = slot.send.free().min(chunk.len());
                    let n = slot.recv.read(&mut chunk[..room]);
                    chunk[..n].reverse();
                    slot.send.write(&chunk[..n]);
                    slot.received += n as u64;
                    slot.produced += n as u64;
                }
                Service::Sink => {
                    // Both parts of the ring, when the bytes wrap.
                    while !slot.recv.is_empty() {
                        let readable = slot.recv.readable();
                        let n = readable.len();
                        slot.digest.update(readable);
                        slot.recv.consume(n);
                        slot.received += n as u64;
                    }
                }
                Service::Source => {
                    let handle_open = stack
                        .tcp
                        .connections()
                        .any(|(h, _, c)| h.index as usize == index && c.state().may_send());
                    while handle_open && slot.send.free() > 0 {
                        let chunk = slot.send.writable();
                        if chunk.is_empty() {
                            break;
                        }
                        let n = chunk.len();
                        Source::fill(self.seed, slot.produced, chunk);
                        slot.send.commit(n);
                        slot.produced += n as u64;
                    }
                    // Whatever the peer sends is read and dropped.
                    let n = slot.recv.readable().len();
                    slot.recv.consume(n);
                }
                Service::New | Service::Hello => {}
            }
        }
    }
}

struct Run {
    tcp: Tcp,
    backlog: usize,
}

impl StackRunner for Run {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(mut self, mut stack: Stack<D>) -> Result<(), String> {
        stack.udp.bind(PORT_HELLO).map_err(|err| err.to_string())?;
        for port in [PORT_HELLO, PORT_ECHO, PORT_SINK, PORT_SOURCE] {
            stack
                .tcp
                .listen(port, self.backlog)
                .map_err(|err| err.to_string())?;
        }
        let addrs: Vec<String> = stack.ip.addrs().map(|a| a.to_string()).collect();
        println!("server: ready on {} ({})", addrs.join(", "), stack.link.nic);
        let mut udp = Udp;
        loop {
            let moved = stack.poll(&mut udp, &mut self.tcp)?;
            self.tcp.step(&mut stack);
            if stack.link.pcap.is_some() {
                stack.flush_capture();
            }
            if moved == 0 {
                stack.wait(None, Duration::from_millis(100))?;
            }
        }
    }
}

fn main() {
    let args = PROGRAM.parse_env();
    let result = (|| {
        let link = args.link()?;
        let connections: usize = args.parse_or("--connections", 16)?;
        let buffer: usize = args.parse_or("--buffer", 65536)?;
        let tcp = Tcp {
            slots: (0..connections).map(|_| Slot::new(buffer)).collect(),
            events: VecDeque::new(),
            buffer,
            seed: args.parse_or("--source-seed", 6972)?,
            verbose: args.has("--verbose"),
        };
        let sizes = Sizes {
            tcp_connections: connections,
            ..Sizes::default()
        };
        let mut tcp_config = TcpConfig::default();
        tcp_config.rto.min = args.millis_or("--rto-min", tcp_config.rto.min)?;
        tcp_config.rto.max = args.millis_or("--rto-max", tcp_config.rto.max)?;
        let backlog = args.parse_or("--backlog", 8)?;
        ethox_examples::open_sized(&link, sizes, tcp_config, Run { tcp, backlog })?
    })();
    if let Err(err) = result {
        eprintln!("server: {err}");
        std::process::exit(1);
    }
}
