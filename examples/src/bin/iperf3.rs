//! An iperf3-compatible server and client on ethox: the real `iperf3`
//! measures against it, and it measures against a real `iperf3 -s`.
//!
//! What goes over the wire is iperf3's protocol (as of iperf 3.12), read
//! from the messages the real program exchanges (`iperf3 --debug` prints
//! them):
//!
//! * a TCP control connection to the server's port (5201): the client
//!   sends a 37-byte cookie (36 characters and a NUL) naming the test;
//!   then both sides move through the test's states, each announced as
//!   one signed byte (`PARAM_EXCHANGE` 9, `CREATE_STREAMS` 10,
//!   `TEST_START` 1, `TEST_RUNNING` 2, `TEST_END` 4, `EXCHANGE_RESULTS`
//!   13, `DISPLAY_RESULTS` 14, `IPERF_DONE` 16; `ACCESS_DENIED` -1 for a
//!   busy server, `SERVER_ERROR` -2 followed by two 32-bit error codes);
//! * the client's parameters and both sides' results as JSON, each
//!   preceded by its length in 4 bytes, big-endian;
//! * TCP data streams to the same port, each opened with the cookie;
//! * or UDP streams to the same UDP port: the client sends a 4-byte
//!   datagram (`9876`), the server answers one (`6789`), then every
//!   datagram starts with the sender's clock (seconds and microseconds,
//!   32 bits each) and a packet counter (32 bits, or 64 when the client
//!   asks for `udp_counters_64bit`), all big-endian;
//! * in reverse mode (`-R`) the server sends and the client receives.
//!
//! The receiver of a stream counts what arrives (bytes; for UDP also the
//! datagrams, the lost ones from the gaps in the counter, and the jitter
//! of RFC 3550 A.8). The sender generates its bytes on demand (ethox's
//! `Source` pattern behind a send buffer, no copy kept), stops at `-t`
//! seconds, and lets the stream drain before it says `TEST_END`, so that
//! both sides report the same byte counts.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! cargo run --release --bin iperf3 -- --tap tap0 -s     # then: iperf3 -c 10.0.0.2
//! iperf3 -s -B 10.0.0.1 & cargo run --release --bin iperf3 -- --tap tap0 -c 10.0.0.1 -t 5
//! ```

use std::cell::Cell;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ethox::layer::tcp::buffer::{RecvBuffer, SendBuffer, Source};
use ethox::layer::tcp::connection::Config as TcpConfig;
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::layer::udp;
use ethox::nic::Device;
use ethox::nic::sys::now;
use ethox::storage::assembler::Assembler;
use ethox::time::Instant;
use ethox::wire::IpAddr;
use ethox_examples::cli::{Args, Flag, Program};
use ethox_examples::json::{self, Value, object};
use ethox_examples::{Sizes, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "iperf3",
    usage: "-s | -c ADDR",
    about: "An iperf3-compatible server (-s) and client (-c ADDR) on ethox: TCP or UDP streams, \
reverse mode, parallel streams; interoperates with the real iperf3 (protocol of iperf 3.12).",
    flags: &[
        Flag {
            name: "--server",
            value: "",
            help: "run as a server (also -s)",
            default: "",
        },
        Flag {
            name: "--client",
            value: "ADDR",
            help: "run as a client of the server at ADDR (also -c)",
            default: "",
        },
        Flag {
            name: "--port",
            value: "N",
            help: "the server's TCP and UDP port (also -p)",
            default: "5201",
        },
        Flag {
            name: "--time",
            value: "S",
            help: "client: seconds to send (also -t)",
            default: "10",
        },
        Flag {
            name: "--udp",
            value: "",
            help: "client: UDP streams instead of TCP (also -u)",
            default: "",
        },
        Flag {
            name: "--bitrate",
            value: "RATE",
            help: "client: bits/s per stream, K/M/G suffixes (also -b)",
            default: "1M for UDP, unlimited for TCP",
        },
        Flag {
            name: "--length",
            value: "BYTES",
            help: "client: write size; for UDP the datagram payload (also -l)",
            default: "131072 for TCP, 1400 for UDP",
        },
        Flag {
            name: "--reverse",
            value: "",
            help: "client: the server sends, the client receives (also -R)",
            default: "",
        },
        Flag {
            name: "--parallel",
            value: "N",
            help: "client: streams at once, at most 64 (also -P)",
            default: "1",
        },
        Flag {
            name: "--udp-counters-64bit",
            value: "",
            help: "client: 64-bit packet counters in UDP datagrams",
            default: "",
        },
        Flag {
            name: "--one-off",
            value: "",
            help: "server: exit after one test (also -1)",
            default: "",
        },
        Flag {
            name: "--json",
            value: "",
            help: "print the summary as JSON, shaped like iperf3's --json (also -J)",
            default: "",
        },
        Flag {
            name: "--window",
            value: "BYTES",
            help: "each TCP stream's receive window and unacknowledged send data",
            default: "4194304",
        },
    ],
    link: true,
};

const ALIASES: &[(&str, &str)] = &[
    ("-s", "--server"),
    ("-c", "--client"),
    ("-p", "--port"),
    ("-t", "--time"),
    ("-u", "--udp"),
    ("-b", "--bitrate"),
    ("-l", "--length"),
    ("-R", "--reverse"),
    ("-P", "--parallel"),
    ("-1", "--one-off"),
    ("-J", "--json"),
];

/// The protocol's constants.
mod proto {
    /// The cookie: 36 characters and a NUL.
    pub const COOKIE_LEN: usize = 37;
    /// The characters a cookie is made of (iperf3's: base32).
    pub const COOKIE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

    pub const TEST_START: u8 = 1;
    pub const TEST_RUNNING: u8 = 2;
    pub const TEST_END: u8 = 4;
    pub const PARAM_EXCHANGE: u8 = 9;
    pub const CREATE_STREAMS: u8 = 10;
    pub const SERVER_TERMINATE: u8 = 11;
    pub const CLIENT_TERMINATE: u8 = 12;
    pub const EXCHANGE_RESULTS: u8 = 13;
    pub const DISPLAY_RESULTS: u8 = 14;
    pub const IPERF_DONE: u8 = 16;
    /// -1 as a signed byte: the server is busy with another test.
    pub const ACCESS_DENIED: u8 = 0xff;
    /// -2 as a signed byte: an error, two 32-bit codes follow.
    pub const SERVER_ERROR: u8 = 0xfe;

    /// iperf3's error codes the server sends (its `i_errno` values).
    pub const IE_NUM_STREAMS: u32 = 5;
    pub const IE_BLOCK_SIZE: u32 = 6;
    pub const IE_INIT_TEST: u32 = 11;

    /// The client's first datagram on a UDP stream, and the server's
    /// answer.
    pub const UDP_CONNECT: [u8; 4] = *b"9876";
    pub const UDP_REPLY: [u8; 4] = *b"6789";

    /// iperf3's default UDP rate: 1 Mbit/s, in its binary units.
    pub const UDP_RATE: u64 = 1 << 20;

    /// The name of a state byte, for messages.
    pub fn state_name(state: u8) -> &'static str {
        match state {
            TEST_START => "TEST_START",
            TEST_RUNNING => "TEST_RUNNING",
            TEST_END => "TEST_END",
            PARAM_EXCHANGE => "PARAM_EXCHANGE",
            CREATE_STREAMS => "CREATE_STREAMS",
            SERVER_TERMINATE => "SERVER_TERMINATE",
            CLIENT_TERMINATE => "CLIENT_TERMINATE",
            EXCHANGE_RESULTS => "EXCHANGE_RESULTS",
            DISPLAY_RESULTS => "DISPLAY_RESULTS",
            IPERF_DONE => "IPERF_DONE",
            ACCESS_DENIED => "ACCESS_DENIED",
            SERVER_ERROR => "SERVER_ERROR",
            _ => "an unknown state",
        }
    }
}

/// The most parallel streams a test may have.
const MAX_STREAMS: usize = 64;

/// The most bytes of control messages a side holds unread.
const INBOX_MAX: usize = 1 << 16;

/// How long a test may take to set up (parameters, streams) before the
/// server gives up on it.
const SETUP_LIMIT: Duration = Duration::from_secs(10);

/// How long the end of a test may wait for the streams to drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// How long a receiving stream must be quiet before it counts as drained
/// when the sender's total is not known.
const QUIET: Duration = Duration::from_millis(200);

/// After a sender's data is all acknowledged, how long before it says the
/// test is over (`TEST_END` from a client, `EXCHANGE_RESULTS` from a
/// server): the receiving iperf3 stops reading then, and needs a moment
/// to read what its kernel acknowledged.
const SETTLE: Duration = Duration::from_millis(100);

/// Out-of-order ranges a receiving TCP stream remembers (a window of
/// hundreds of segments has many holes after a burst of loss).
const GAPS: usize = 64;

/// The seed of the generated data.
const DATA_SEED: u64 = 5201;

/// What one test is: the parameters the client sends.
#[derive(Debug, Clone, PartialEq)]
struct Params {
    udp: bool,
    time: Duration,
    parallel: usize,
    len: usize,
    /// Bits per second per stream; 0 for no limit.
    rate: u64,
    reverse: bool,
    counters64: bool,
}

impl Params {
    /// The parameters as the client sends them.
    fn to_json(&self) -> Value {
        let mut members = vec![
            (
                if self.udp { "udp" } else { "tcp" }.to_string(),
                Value::Bool(true),
            ),
            ("omit".into(), 0u64.into()),
            ("time".into(), self.time.as_secs_f64().into()),
            ("num".into(), 0u64.into()),
            ("blockcount".into(), 0u64.into()),
            ("parallel".into(), (self.parallel as u64).into()),
        ];
        if self.reverse {
            members.push(("reverse".into(), true.into()));
        }
        members.push(("len".into(), (self.len as u64).into()));
        if self.rate > 0 {
            members.push(("bandwidth".into(), self.rate.into()));
        }
        if self.counters64 {
            members.push(("udp_counters_64bit".into(), 1u64.into()));
        }
        members.push(("pacing_timer".into(), 1000u64.into()));
        // The protocol version this program speaks.
        members.push(("client_version".into(), "3.12".into()));
        Value::Object(members)
    }

    /// Reads the client's parameters; an error is the code iperf3 knows
    /// and the reason.
    fn from_json(value: &Value) -> Result<Params, (u32, String)> {
        let flag = |key: &str| value.get(key).is_some_and(Value::truthy);
        let number = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
        let udp = flag("udp");
        if !udp && !flag("tcp") {
            return Err((proto::IE_INIT_TEST, "only TCP and UDP tests".into()));
        }
        if flag("bidirectional") {
            return Err((
                proto::IE_INIT_TEST,
                "bidirectional tests are not supported".into(),
            ));
        }
        let reverse = flag("reverse");
        let time = value.get("time").and_then(Value::as_f64).unwrap_or(0.0);
        if reverse && (number("num") > 0 || number("blockcount") > 0 || time <= 0.0) {
            return Err((
                proto::IE_INIT_TEST,
                "a reverse test is timed (-t), not counted in bytes or blocks".into(),
            ));
        }
        let parallel = number("parallel").max(1);
        if parallel > MAX_STREAMS as u64 {
            return Err((
                proto::IE_NUM_STREAMS,
                format!("{parallel} streams, at most {MAX_STREAMS}"),
            ));
        }
        let len = number("len");
        let len = if len == 0 { 131_072 } else { len };
        if udp && !(16..=max_udp_payload(false) as u64).contains(&len) {
            return Err((
                proto::IE_BLOCK_SIZE,
                format!(
                    "UDP datagrams of {len} bytes: 16 to {} (one frame)",
                    max_udp_payload(false)
                ),
            ));
        }
        Ok(Params {
            udp,
            time: Duration::try_from_secs_f64(time).unwrap_or_default(),
            parallel: parallel as usize,
            len: len as usize,
            rate: number("bandwidth"),
            reverse,
            counters64: flag("udp_counters_64bit"),
        })
    }

    fn protocol(&self) -> &'static str {
        if self.udp { "UDP" } else { "TCP" }
    }
}

/// A JSON message as the control connection carries it: its length in 4
/// bytes, big-endian, then the text.
fn json_message(value: &Value) -> Vec<u8> {
    let text = value.to_json();
    let mut bytes = (text.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// The largest UDP payload one Ethernet frame carries.
fn max_udp_payload(ipv6: bool) -> usize {
    1500 - if ipv6 { 40 } else { 20 } - 8
}

/// The bytes a connection sends: a prefix (a stream's cookie, or the
/// control messages), then generated data up to a limit the program
/// moves. Nothing is stored but the prefix: the data is ethox's `Source`
/// pattern, made again whenever TCP reads a range (retransmissions too).
struct Outgoing {
    prefix: Vec<u8>,
    /// Stream position of the oldest unacknowledged byte.
    acked: u64,
    /// Stream position the bytes end at, for now.
    limit: u64,
    /// The furthest position TCP has read: what was "written".
    handed_out: Cell<u64>,
}

impl Outgoing {
    fn new(prefix: &[u8]) -> Outgoing {
        Outgoing {
            prefix: prefix.to_vec(),
            acked: 0,
            limit: prefix.len() as u64,
            handed_out: Cell::new(0),
        }
    }

    fn prefix_len(&self) -> u64 {
        self.prefix.len() as u64
    }

    /// Queues control bytes (no data may have been allowed yet).
    fn push(&mut self, bytes: &[u8]) {
        self.prefix.extend_from_slice(bytes);
        self.limit = self.prefix_len();
    }

    /// Lets the stream's data reach `total` bytes (never shrinks).
    fn allow_data(&mut self, total: u64) {
        self.limit = self.limit.max(self.prefix_len() + total);
    }

    /// Ends the data where TCP has read to: what was handed out is all
    /// that is sent.
    fn freeze(&mut self) {
        self.limit = self
            .handed_out
            .get()
            .max(self.acked)
            .max(self.prefix_len())
            .min(self.limit);
    }

    /// Data bytes handed to TCP.
    fn data_sent(&self) -> u64 {
        self.handed_out
            .get()
            .max(self.acked)
            .saturating_sub(self.prefix_len())
    }

    /// Data bytes the peer acknowledged.
    fn data_acked(&self) -> u64 {
        self.acked.saturating_sub(self.prefix_len())
    }
}

impl SendBuffer for Outgoing {
    fn len(&self) -> usize {
        usize::try_from(self.limit - self.acked).unwrap_or(usize::MAX)
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let start = self.acked.saturating_add(offset as u64);
        if start >= self.limit {
            return 0;
        }
        let n = (dst.len() as u64).min(self.limit - start) as usize;
        let dst = &mut dst[..n];
        let mut filled = 0;
        if let Some(prefix) = self.prefix.get(start as usize..) {
            filled = prefix.len().min(n);
            dst[..filled].copy_from_slice(&prefix[..filled]);
        }
        if filled < n {
            let position = start + filled as u64 - self.prefix_len();
            Source::fill(DATA_SEED, position, &mut dst[filled..]);
        }
        self.handed_out
            .set(self.handed_out.get().max(start + n as u64));
        n
    }

    fn acknowledge(&mut self, n: usize) {
        self.acked = self.acked.saturating_add(n as u64).min(self.limit);
    }
}

/// What a connection does with the bytes it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intake {
    /// Takes the 37-byte cookie and nothing more, until the program knows
    /// what the connection is.
    Cookie,
    /// Keeps them: control messages.
    Control,
    /// Counts and drops them: a data stream. Bytes ahead of a gap are
    /// remembered as ranges (no storage: they are dropped too), so the
    /// peer's SACK retransmits only what was lost.
    Count,
}

/// The receiving side of a connection: no storage beyond the cookie and
/// the control messages.
struct Incoming {
    cookie: [u8; proto::COOKIE_LEN],
    cookie_len: usize,
    intake: Intake,
    inbox: Vec<u8>,
    counted: u64,
    /// Data stream bytes held ahead of a gap.
    held: Assembler<GAPS>,
    window: usize,
}

impl Incoming {
    fn new(intake: Intake, window: usize) -> Incoming {
        Incoming {
            cookie: [0; proto::COOKIE_LEN],
            cookie_len: 0,
            intake,
            inbox: Vec::new(),
            counted: 0,
            held: Assembler::new(),
            window,
        }
    }

    fn cookie(&self) -> Option<&[u8; proto::COOKIE_LEN]> {
        (self.cookie_len == proto::COOKIE_LEN).then_some(&self.cookie)
    }

    /// The next state byte.
    fn take_state(&mut self) -> Option<u8> {
        (!self.inbox.is_empty()).then(|| self.inbox.remove(0))
    }

    /// The next `n` bytes, once all are there.
    fn take_bytes(&mut self, n: usize) -> Option<Vec<u8>> {
        (self.inbox.len() >= n).then(|| self.inbox.drain(..n).collect())
    }

    /// The next length-prefixed JSON message, once it is whole.
    fn take_json(&mut self) -> Result<Option<Value>, String> {
        let Some(head) = self.inbox.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len > INBOX_MAX - 4 {
            return Err(format!("a JSON message of {len} bytes is too long"));
        }
        if self.inbox.len() < 4 + len {
            return Ok(None);
        }
        let value = json::parse_bytes(&self.inbox[4..4 + len]).map_err(|err| err.to_string());
        self.inbox.drain(..4 + len);
        value.map(Some)
    }
}

impl RecvBuffer for Incoming {
    fn window(&self) -> usize {
        match self.intake {
            Intake::Cookie => proto::COOKIE_LEN - self.cookie_len,
            Intake::Control => INBOX_MAX - self.inbox.len(),
            Intake::Count => self.window,
        }
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if self.intake == Intake::Count {
            let n = data.len().min(self.window.saturating_sub(offset));
            let advanced = self.held.add(offset, n).unwrap_or(0);
            self.counted += advanced as u64;
            return advanced;
        }
        if offset != 0 {
            return 0;
        }
        let n = data.len().min(self.window());
        match self.intake {
            Intake::Cookie => {
                self.cookie[self.cookie_len..self.cookie_len + n].copy_from_slice(&data[..n]);
                self.cookie_len += n;
            }
            Intake::Control => self.inbox.extend_from_slice(&data[..n]),
            Intake::Count => {}
        }
        n
    }

    fn held(&self, out: &mut [(usize, usize)]) -> usize {
        let mut n = 0;
        for (slot, range) in out.iter_mut().zip(self.held.ranges_recent_first()) {
            *slot = range;
            n += 1;
        }
        n
    }
}

/// One TCP connection of the program.
struct Conn {
    handle: Handle,
    out: Outgoing,
    inc: Incoming,
    established: bool,
    peer_closed: bool,
}

/// The TCP application: the connections by table slot, and the events.
struct TcpSide {
    conns: Vec<Option<Conn>>,
    events: Vec<(Handle, Event)>,
    window: usize,
    /// Whether connections from listeners get buffers (the server's).
    accept: bool,
}

impl TcpSide {
    fn new(slots: usize, window: usize, accept: bool) -> TcpSide {
        TcpSide {
            conns: (0..slots).map(|_| None).collect(),
            events: Vec::new(),
            window,
            accept,
        }
    }

    fn get(&mut self, handle: Handle) -> Option<&mut Conn> {
        self.conns
            .get_mut(handle.index as usize)?
            .as_mut()
            .filter(|c| c.handle == handle)
    }

    fn insert(&mut self, handle: Handle, out: Outgoing, intake: Intake) {
        if let Some(slot) = self.conns.get_mut(handle.index as usize) {
            *slot = Some(Conn {
                handle,
                out,
                inc: Incoming::new(intake, self.window),
                established: false,
                peer_closed: false,
            });
        }
    }

    /// Takes the events, keeping the connection flags up to date.
    fn take_events(&mut self) -> Vec<(Handle, Event)> {
        let events = std::mem::take(&mut self.events);
        for &(handle, event) in &events {
            match event {
                Event::Established => {
                    if let Some(c) = self.get(handle) {
                        c.established = true;
                    }
                }
                Event::PeerClosed => {
                    if let Some(c) = self.get(handle) {
                        c.peer_closed = true;
                    }
                }
                Event::Closed(_) => {
                    if let Some(slot) = self.conns.get_mut(handle.index as usize)
                        && slot.as_ref().is_some_and(|c| c.handle == handle)
                    {
                        *slot = None;
                    }
                }
                _ => {}
            }
        }
        events
    }
}

impl Io for TcpSide {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let c = self.get(conn)?;
        Some(Buffers {
            send: &mut c.out,
            recv: &mut c.inc,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        if event == Event::Incoming && self.accept {
            self.insert(conn, Outgoing::new(&[]), Intake::Cookie);
        }
        self.events.push((conn, event));
    }
}

/// What the receiver of a stream counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Received {
    bytes: u64,
    /// UDP: the highest packet counter seen.
    packets: u64,
    /// UDP: the datagrams missing below it.
    lost: u64,
    out_of_order: u64,
    /// UDP: RFC 3550 interarrival jitter, in seconds.
    jitter: f64,
}

/// One UDP stream.
struct UdpStream {
    remote: (IpAddr, u16),
    local_port: u16,
    /// The connect handshake is done.
    connected: bool,
    received: Received,
    prev_transit: Option<f64>,
    /// Datagrams and bytes sent.
    sent_packets: u64,
    sent_bytes: u64,
}

impl UdpStream {
    fn new(remote: (IpAddr, u16), local_port: u16) -> UdpStream {
        UdpStream {
            remote,
            local_port,
            connected: false,
            received: Received::default(),
            prev_transit: None,
            sent_packets: 0,
            sent_bytes: 0,
        }
    }

    /// Counts one data datagram.
    fn count(&mut self, payload: &[u8], counters64: bool) {
        let header = if counters64 { 16 } else { 12 };
        let Some(head) = payload.get(..header) else {
            return;
        };
        let word =
            |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        let sent = f64::from(word(0)) + f64::from(word(4)) / 1e6;
        let counter = if counters64 {
            u64::from(word(8)) << 32 | u64::from(word(12))
        } else {
            u64::from(word(8))
        };
        let r = &mut self.received;
        r.bytes += payload.len() as u64;
        if counter > r.packets {
            r.lost += counter - r.packets - 1;
            r.packets = counter;
        } else {
            // Late: it was counted as lost when a later one came.
            r.out_of_order += 1;
            r.lost = r.lost.saturating_sub(1);
        }
        let transit = wall_secs() - sent;
        if let Some(prev) = self.prev_transit {
            let d = (transit - prev).abs();
            r.jitter += (d - r.jitter) / 16.0;
        }
        self.prev_transit = Some(transit);
    }
}

/// The wall clock in seconds, as UDP datagrams carry it.
fn wall_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The UDP application: the streams, the handshake, paced sending.
struct UdpSide {
    streams: Vec<UdpStream>,
    /// Server: its port, and how many more streams it takes.
    port: u16,
    accepting: usize,
    /// Client: the stream whose connect datagram is due.
    connect_due: Option<usize>,
    len: usize,
    counters64: bool,
    /// Sending: each stream may send this many datagrams so far.
    allowance: u64,
    sending: bool,
    next: usize,
}

impl UdpSide {
    fn new(port: u16) -> UdpSide {
        UdpSide {
            streams: Vec::new(),
            port,
            accepting: 0,
            connect_due: None,
            len: 0,
            counters64: false,
            allowance: 0,
            sending: false,
            next: 0,
        }
    }

    /// The first datagram of a stream whose allowance is not used up,
    /// round robin.
    fn next_to_send(&mut self) -> Option<usize> {
        let n = self.streams.len();
        (0..n)
            .map(|i| (self.next + i) % n)
            .find(|&i| self.streams[i].connected && self.streams[i].sent_packets < self.allowance)
    }
}

impl<D: Device> udp::Recv<D> for UdpSide {
    fn receive(&mut self, datagram: udp::In<'_, '_, '_, D>) {
        let src = datagram.src();
        let port = datagram.dst().1;
        let known = self
            .streams
            .iter()
            .position(|s| s.remote == src && s.local_port == port);
        let is_handshake = datagram.payload().len() == 4;
        match known {
            Some(i) if is_handshake => {
                let stream = &mut self.streams[i];
                if port == self.port && stream.received.packets == 0 {
                    // The server's answer was lost: the client asks again.
                    if let Ok(mut out) = datagram.reply(4) {
                        out.payload_mut().copy_from_slice(&proto::UDP_REPLY);
                        let _ = out.send();
                    }
                } else {
                    stream.connected = true;
                }
            }
            Some(i) => {
                let counters64 = self.counters64;
                self.streams[i].count(datagram.payload(), counters64);
            }
            None if is_handshake && port == self.port && self.accepting > 0 => {
                self.accepting -= 1;
                let mut stream = UdpStream::new(src, port);
                stream.connected = true;
                self.streams.push(stream);
                if let Ok(mut out) = datagram.reply(4) {
                    out.payload_mut().copy_from_slice(&proto::UDP_REPLY);
                    let _ = out.send();
                }
            }
            None => {}
        }
    }
}

impl<D: Device> udp::Send<D> for UdpSide {
    fn send(&mut self, raw: udp::Raw<'_, '_, '_, D>) {
        if let Some(i) = self.connect_due {
            let stream = &self.streams[i];
            let init = udp::Init {
                src_port: stream.local_port,
                dst: stream.remote,
                payload_len: 4,
            };
            if let Ok(mut out) = raw.prepare(init) {
                out.payload_mut().copy_from_slice(&proto::UDP_CONNECT);
                if out.send().is_ok() {
                    self.connect_due = None;
                }
            }
            return;
        }
        if !self.sending {
            return;
        }
        let Some(i) = self.next_to_send() else {
            return;
        };
        let (counters64, len) = (self.counters64, self.len);
        let stream = &mut self.streams[i];
        let init = udp::Init {
            src_port: stream.local_port,
            dst: stream.remote,
            payload_len: len,
        };
        let Ok(mut out) = raw.prepare(init) else {
            return;
        };
        let counter = stream.sent_packets + 1;
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let payload = out.payload_mut();
        let mut head = [0u8; 16];
        head[0..4].copy_from_slice(&(clock.as_secs() as u32).to_be_bytes());
        head[4..8].copy_from_slice(&clock.subsec_micros().to_be_bytes());
        let header = if counters64 {
            head[8..16].copy_from_slice(&counter.to_be_bytes());
            16
        } else {
            head[8..12].copy_from_slice(&(counter as u32).to_be_bytes());
            12
        };
        payload[..header].copy_from_slice(&head[..header]);
        Source::fill(DATA_SEED, counter * len as u64, &mut payload[header..]);
        if out.send().is_ok() {
            stream.sent_packets = counter;
            stream.sent_bytes += len as u64;
            self.next = i + 1;
        }
    }
}

/// How much a sender may have sent `elapsed` into the test at `rate`
/// bits/s: bytes for TCP, datagrams of `len` for UDP (the first at once).
fn paced(rate: u64, elapsed: Duration, unit: u64) -> u64 {
    let bytes = (rate as f64 / 8.0 * elapsed.as_secs_f64()) as u64;
    bytes / unit.max(1) + 1
}

/// One side's view of a stream at the end: what was sent and received.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct StreamReport {
    id: u64,
    sent_bytes: u64,
    sent_packets: u64,
    retransmits: Option<u64>,
    received: Received,
}

/// A finished test, as both sides reported it.
struct Report {
    params: Params,
    seconds: f64,
    streams: Vec<StreamReport>,
}

/// iperf3's stream ids: 1, then 3, 4, 5, ... (a quirk of its numbering
/// the real program shows in its results).
fn stream_id(index: usize) -> u64 {
    if index == 0 { 1 } else { index as u64 + 2 }
}

/// The results one side sends: its counts for the streams, in iperf3's
/// JSON.
fn results_json(streams: &[StreamReport], sender: bool, seconds: f64, cpu: (f64, f64)) -> Value {
    let unknown = Value::from(u64::MAX);
    let has_retransmits = sender && streams.iter().any(|s| s.retransmits.is_some());
    let list = streams
        .iter()
        .map(|s| {
            let (bytes, packets, jitter, errors) = if sender {
                (s.sent_bytes, s.sent_packets, 0.0, 0)
            } else {
                (
                    s.received.bytes,
                    s.received.packets,
                    s.received.jitter,
                    s.received.lost,
                )
            };
            object([
                ("id", s.id.into()),
                ("bytes", bytes.into()),
                (
                    "retransmits",
                    s.retransmits
                        .filter(|_| sender)
                        .map_or(unknown.clone(), Value::from),
                ),
                ("jitter", jitter.into()),
                ("errors", errors.into()),
                ("packets", packets.into()),
                ("start_time", 0u64.into()),
                ("end_time", seconds.into()),
            ])
        })
        .collect();
    object([
        ("cpu_util_total", (cpu.0 + cpu.1).into()),
        ("cpu_util_user", cpu.0.into()),
        ("cpu_util_system", cpu.1.into()),
        (
            "sender_has_retransmits",
            if has_retransmits {
                1u64.into()
            } else if sender {
                0u64.into()
            } else {
                unknown
            },
        ),
        ("streams", Value::Array(list)),
    ])
}

/// Puts the peer's results (its JSON) into `streams`, matched in order:
/// the peer's sent counts if we received, its received counts if we sent.
fn merge_peer_results(
    streams: &mut [StreamReport],
    peer: &Value,
    we_send: bool,
) -> Result<(), String> {
    let list = peer
        .get("streams")
        .and_then(Value::as_array)
        .ok_or("the peer's results have no streams")?;
    if list.len() != streams.len() {
        return Err(format!(
            "the peer reports {} streams, this side has {}",
            list.len(),
            streams.len()
        ));
    }
    for (stream, theirs) in streams.iter_mut().zip(list) {
        let number = |key: &str| theirs.get(key).and_then(Value::as_u64).unwrap_or(0);
        if let Some(id) = theirs.get("id").and_then(Value::as_u64) {
            stream.id = id;
        }
        if we_send {
            stream.received = Received {
                bytes: number("bytes"),
                packets: number("packets"),
                lost: number("errors"),
                out_of_order: 0,
                jitter: theirs.get("jitter").and_then(Value::as_f64).unwrap_or(0.0),
            };
        } else {
            stream.sent_bytes = number("bytes");
            stream.sent_packets = number("packets");
            stream.retransmits = Some(number("retransmits")).filter(|&r| r != u64::MAX);
        }
    }
    Ok(())
}

/// This process's CPU time, user and system, in seconds (from
/// `/proc/self/stat`, in the kernel's 100 Hz ticks).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    // utime and stime are fields 14 and 15, 12 and 13 after the name.
    (tick(11), tick(12))
}

/// CPU use in percent of one core since `start` (a `cpu_seconds` value).
fn cpu_percent(start: (f64, f64), wall: f64) -> (f64, f64) {
    let end = cpu_seconds();
    let wall = wall.max(1e-6);
    (
        (end.0 - start.0) / wall * 100.0,
        (end.1 - start.1) / wall * 100.0,
    )
}

impl Report {
    fn totals(&self) -> (StreamReport, u64) {
        let mut sum = StreamReport::default();
        let mut retransmits = 0;
        for s in &self.streams {
            sum.sent_bytes += s.sent_bytes;
            sum.sent_packets += s.sent_packets;
            retransmits += s.retransmits.unwrap_or(0);
            sum.received.bytes += s.received.bytes;
            sum.received.packets += s.received.packets;
            sum.received.lost += s.received.lost;
            sum.received.out_of_order += s.received.out_of_order;
            sum.received.jitter += s.received.jitter / self.streams.len().max(1) as f64;
        }
        (sum, retransmits)
    }

    /// The summary as JSON, in the shape of iperf3's `--json` (`end`'s
    /// `sum_sent` and `sum_received`, per-stream `sender` and
    /// `receiver`).
    fn to_json(&self) -> Value {
        let secs = self.seconds;
        let rate = |bytes: u64| bytes as f64 * 8.0 / secs.max(1e-9);
        let sent = |s: &StreamReport, retransmits: Option<u64>| {
            let mut members = vec![
                ("start".to_string(), 0u64.into()),
                ("end".into(), secs.into()),
                ("seconds".into(), secs.into()),
                ("bytes".into(), s.sent_bytes.into()),
                ("bits_per_second".into(), rate(s.sent_bytes).into()),
            ];
            if let Some(r) = retransmits {
                members.push(("retransmits".into(), r.into()));
            }
            if self.params.udp {
                members.push(("packets".into(), s.sent_packets.into()));
            }
            members.push(("sender".into(), true.into()));
            Value::Object(members)
        };
        let received = |s: &StreamReport| {
            let r = &s.received;
            let mut members = vec![
                ("start".to_string(), 0u64.into()),
                ("end".into(), secs.into()),
                ("seconds".into(), secs.into()),
                ("bytes".into(), r.bytes.into()),
                ("bits_per_second".into(), rate(r.bytes).into()),
            ];
            if self.params.udp {
                let lost_percent = r.lost as f64 * 100.0 / r.packets.max(1) as f64;
                members.push(("jitter_ms".into(), (r.jitter * 1000.0).into()));
                members.push(("lost_packets".into(), r.lost.into()));
                members.push(("packets".into(), r.packets.into()));
                members.push(("lost_percent".into(), lost_percent.into()));
                members.push(("out_of_order".into(), r.out_of_order.into()));
            }
            members.push(("sender".into(), false.into()));
            Value::Object(members)
        };
        let streams = self
            .streams
            .iter()
            .map(|s| {
                object([
                    ("id", s.id.into()),
                    ("sender", sent(s, s.retransmits)),
                    ("receiver", received(s)),
                ])
            })
            .collect();
        let (sum, retransmits) = self.totals();
        let tcp_retransmits = (!self.params.udp).then_some(retransmits);
        object([
            (
                "start",
                object([(
                    "test_start",
                    object([
                        ("protocol", self.params.protocol().into()),
                        ("num_streams", (self.params.parallel as u64).into()),
                        ("blksize", (self.params.len as u64).into()),
                        ("duration", self.params.time.as_secs_f64().into()),
                        ("reverse", u64::from(self.params.reverse).into()),
                    ]),
                )]),
            ),
            (
                "end",
                object([
                    ("streams", Value::Array(streams)),
                    ("sum_sent", sent(&sum, tcp_retransmits)),
                    ("sum_received", received(&sum)),
                ]),
            ),
        ])
    }

    /// The summary as text, iperf3's way: one line per stream and
    /// direction, then the sums.
    fn to_text(&self) -> String {
        let secs = self.seconds;
        let mut text = String::new();
        let _ = writeln!(text, "- - - - - - - - - - - - - - - - - - - - - - - - -");
        let _ = writeln!(
            text,
            "[ ID] Interval           Transfer     Bitrate{}",
            if self.params.udp {
                "         Jitter    Lost/Total Datagrams"
            } else {
                "         Retr"
            }
        );
        let line = |text: &mut String, id: &str, bytes: u64, extra: String, role: &str| {
            let _ = writeln!(
                text,
                "[{id:>3}]   0.00-{secs:<6.2} sec  {}  {}  {extra:<22} {role}",
                human_bytes(bytes),
                human_rate(bytes as f64 * 8.0 / secs.max(1e-9)),
            );
        };
        let mut rows: Vec<(String, StreamReport, u64)> = self
            .streams
            .iter()
            .map(|s| (s.id.to_string(), *s, s.retransmits.unwrap_or(0)))
            .collect();
        if self.streams.len() > 1 {
            let (sum, retransmits) = self.totals();
            rows.push(("SUM".into(), sum, retransmits));
        }
        for (id, s, retransmits) in rows {
            let r = &s.received;
            let (sent_extra, received_extra) = if self.params.udp {
                (
                    format!("0.000 ms  0/{} (0%)", s.sent_packets),
                    format!(
                        "{:.3} ms  {}/{} ({:.2}%)",
                        r.jitter * 1000.0,
                        r.lost,
                        r.packets,
                        r.lost as f64 * 100.0 / r.packets.max(1) as f64
                    ),
                )
            } else {
                (format!("{retransmits:>4}"), String::new())
            };
            line(&mut text, &id, s.sent_bytes, sent_extra, "sender");
            line(&mut text, &id, r.bytes, received_extra, "receiver");
        }
        text
    }
}

/// Bytes as iperf3 shows them (binary units).
fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes:>4} Bytes"),
        1024..1_048_576 => format!("{:>6.2} KBytes", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:>6.2} MBytes", b / 1_048_576.0),
        _ => format!("{:>6.2} GBytes", b / 1_073_741_824.0),
    }
}

/// Bits per second as iperf3 shows them (decimal units).
fn human_rate(bits: f64) -> String {
    if bits >= 1e9 {
        format!("{:>6.2} Gbits/sec", bits / 1e9)
    } else if bits >= 1e6 {
        format!("{:>6.2} Mbits/sec", bits / 1e6)
    } else {
        format!("{:>6.2} Kbits/sec", bits / 1e3)
    }
}

/// Prints the report, as text or JSON.
fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", report.to_json().to_json());
    } else {
        print!("{}", report.to_text());
    }
}

/// A new cookie: 36 characters of iperf3's alphabet and a NUL.
fn new_cookie() -> [u8; proto::COOKIE_LEN] {
    let mut state = ethox_examples::now_seed() | 1;
    let mut cookie = [0u8; proto::COOKIE_LEN];
    for byte in &mut cookie[..proto::COOKIE_LEN - 1] {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = proto::COOKIE_CHARS[(state >> 59) as usize];
    }
    cookie
}

/// What the user asked for.
struct Settings {
    server: Option<IpAddr>,
    port: u16,
    params: Params,
    one_off: bool,
    json: bool,
    window: usize,
}

/// A suffixed number: `10M` is 10 * `unit`^2.
fn parse_suffixed(text: &str, unit: u64) -> Option<u64> {
    let (digits, scale) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], unit),
        (i, 'm' | 'M') => (&text[..i], unit * unit),
        (i, 'g' | 'G') => (&text[..i], unit * unit * unit),
        _ => (text, 1),
    };
    let value: f64 = digits.parse().ok()?;
    (value >= 0.0 && value.is_finite()).then_some((value * scale as f64) as u64)
}

fn settings(args: &Args) -> Result<Settings, String> {
    let server = match (args.has("--server"), args.value("--client")) {
        (true, None) => None,
        (false, Some(addr)) => Some(
            addr.parse::<IpAddr>()
                .map_err(|_| format!("--client: cannot read the address {addr:?}"))?,
        ),
        (true, Some(_)) => return Err("either -s or -c, not both".into()),
        (false, None) => return Err("-s (server) or -c ADDR (client)?".into()),
    };
    if let Some(arg) = args.positional().first() {
        return Err(format!("unexpected argument {arg:?}"));
    }
    let udp = args.has("--udp");
    let rate = match args.value("--bitrate") {
        Some(text) => parse_suffixed(text, 1000)
            .ok_or_else(|| format!("--bitrate: cannot read {text:?} (say 100M)"))?,
        None if udp => proto::UDP_RATE,
        None => 0,
    };
    let len = match args.value("--length") {
        Some(text) => parse_suffixed(text, 1024)
            .ok_or_else(|| format!("--length: cannot read {text:?} (say 128K)"))?
            as usize,
        None if udp => 1400,
        None => 131_072,
    };
    let ipv6 = server.is_some_and(|a| !a.is_ipv4());
    if udp && !(16..=max_udp_payload(ipv6)).contains(&len) {
        return Err(format!(
            "--length: a UDP datagram here is 16 to {} bytes (one frame), not {len}",
            max_udp_payload(ipv6)
        ));
    }
    if len == 0 {
        return Err("--length: at least one byte".into());
    }
    let parallel: usize = args.parse_or("--parallel", 1)?;
    if !(1..=MAX_STREAMS).contains(&parallel) {
        return Err(format!("--parallel: 1 to {MAX_STREAMS}, not {parallel}"));
    }
    let time = args
        .secs("--time")?
        .unwrap_or(Duration::from_secs(10))
        .max(Duration::from_millis(100));
    let window: usize = args.parse_or("--window", 4 << 20)?;
    if window < 1024 {
        return Err("--window: at least 1024 bytes".into());
    }
    Ok(Settings {
        server,
        port: args.parse_or("--port", 5201)?,
        params: Params {
            udp,
            time,
            parallel,
            len,
            rate,
            reverse: args.has("--reverse"),
            counters64: args.has("--udp-counters-64bit"),
        },
        one_off: args.has("--one-off"),
        json: args.has("--json"),
        window,
    })
}

/// The streams of a test on the TCP side, in order.
fn tcp_stream_reports<D: Device>(
    stack: &Stack<D>,
    tcp: &mut TcpSide,
    handles: &[Handle],
    last: &mut [StreamReport],
) {
    for (i, &handle) in handles.iter().enumerate() {
        if let Some(c) = tcp.get(handle) {
            last[i].sent_bytes = c.out.data_sent();
            last[i].received.bytes = c.inc.counted;
        }
        if let Some(conn) = stack.tcp.connection(handle) {
            last[i].retransmits = Some(conn.stats().retransmissions);
        }
    }
}

/// The UDP streams' counts, in order.
fn udp_stream_reports(udp: &UdpSide, last: &mut [StreamReport]) {
    for (report, stream) in last.iter_mut().zip(&udp.streams) {
        report.sent_bytes = stream.sent_bytes;
        report.sent_packets = stream.sent_packets;
        report.received = stream.received;
    }
}

/// Keeps the sending streams going: TCP streams `window` bytes beyond
/// what is acknowledged and no more than `rate` allows, UDP streams their
/// datagrams at `rate`.
fn feed(
    tcp: &mut TcpSide,
    udp: &mut UdpSide,
    handles: &[Handle],
    params: &Params,
    elapsed: Duration,
    window: usize,
) {
    let paced_limit = (params.rate > 0).then(|| paced(params.rate, elapsed, 1) + params.len as u64);
    for &handle in handles {
        if let Some(c) = tcp.get(handle) {
            let mut limit = c.out.data_acked() + window as u64;
            if let Some(paced) = paced_limit {
                limit = limit.min(paced);
            }
            c.out.allow_data(limit);
        }
    }
    udp.allowance = paced(params.rate, elapsed, params.len as u64);
}

/// The TCP table and the UDP ports a test of up to [`MAX_STREAMS`] needs,
/// with room for connections lingering from the previous tests.
fn sizes() -> Sizes {
    Sizes {
        udp_ports: MAX_STREAMS + 2,
        tcp_connections: 4 * MAX_STREAMS + 16,
        tcp_listeners: 2,
    }
}

// ---------------------------------------------------------------------
// The server.

/// Where a test on the server is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Sent PARAM_EXCHANGE, waiting for the parameters.
    Params,
    /// Sent CREATE_STREAMS, waiting for the streams.
    Streams,
    /// Sent TEST_RUNNING.
    Running,
    /// TEST_END came: the streams close, EXCHANGE_RESULTS goes out.
    Ending,
    /// Sent EXCHANGE_RESULTS, waiting for the client's results.
    Results,
    /// Has the client's results; the streams drain to its totals.
    Draining,
    /// Sent the results and DISPLAY_RESULTS, waiting for IPERF_DONE.
    Display,
}

/// A test the server runs.
struct ServerTest {
    control: Handle,
    cookie: [u8; proto::COOKIE_LEN],
    params: Option<Params>,
    phase: Phase,
    since: Instant,
    tcp_streams: Vec<Handle>,
    started: Option<Instant>,
    stopped: Option<Instant>,
    streams: Vec<StreamReport>,
    client_results: Option<Value>,
    cpu: (f64, f64),
    /// The received byte total and when it last moved.
    last_count: (u64, Instant),
}

/// How a step of a server test ended.
enum Outcome {
    Going,
    Done(Report),
    Failed(String),
}

struct Server {
    settings: Settings,
    tcp: TcpSide,
    udp: UdpSide,
    test: Option<ServerTest>,
}

impl Server {
    fn send_control(&mut self, handle: Handle, bytes: &[u8]) {
        if let Some(c) = self.tcp.get(handle) {
            c.out.push(bytes);
        }
    }

    fn send_state(&mut self, handle: Handle, state: u8) {
        self.send_control(handle, &[state]);
    }

    fn send_json(&mut self, handle: Handle, value: &Value) {
        self.send_control(handle, &json_message(value));
    }

    /// Refuses a test: SERVER_ERROR with iperf3's error code, then closes.
    fn refuse<D: Device>(&mut self, stack: &mut Stack<D>, handle: Handle, code: u32) {
        let mut bytes = vec![proto::SERVER_ERROR];
        bytes.extend_from_slice(&code.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        self.send_control(handle, &bytes);
        let _ = stack.tcp.close(handle);
    }

    /// Sorts connections whose cookie is complete: a new test's control
    /// connection, a stream of the current test, or a second client,
    /// which is told the server is busy.
    fn classify<D: Device>(&mut self, stack: &mut Stack<D>, at: Instant) {
        let ready: Vec<(Handle, [u8; proto::COOKIE_LEN])> = self
            .tcp
            .conns
            .iter()
            .flatten()
            .filter(|c| c.inc.intake == Intake::Cookie)
            .filter_map(|c| c.inc.cookie().map(|cookie| (c.handle, *cookie)))
            .collect();
        for (handle, cookie) in ready {
            let window = self.settings.window;
            let Some(conn) = self.tcp.get(handle) else {
                continue;
            };
            match &mut self.test {
                None => {
                    conn.inc.intake = Intake::Control;
                    conn.inc.window = INBOX_MAX;
                    if let Some(c) = stack.tcp.connection_mut(handle) {
                        c.set_nagle(false);
                    }
                    let peer = stack.tcp.tuple(handle).map(|t| (t.remote, t.remote_port));
                    if let (false, Some((addr, port))) = (self.settings.json, peer) {
                        println!("Accepted connection from {addr}, port {port}");
                    }
                    self.test = Some(ServerTest {
                        control: handle,
                        cookie,
                        params: None,
                        phase: Phase::Params,
                        since: at,
                        tcp_streams: Vec::new(),
                        started: None,
                        stopped: None,
                        streams: Vec::new(),
                        client_results: None,
                        cpu: cpu_seconds(),
                        last_count: (0, at),
                    });
                    self.send_state(handle, proto::PARAM_EXCHANGE);
                }
                Some(test)
                    if test.cookie == cookie
                        && test.phase == Phase::Streams
                        && test
                            .params
                            .as_ref()
                            .is_some_and(|p| !p.udp && test.tcp_streams.len() < p.parallel) =>
                {
                    conn.inc.intake = Intake::Count;
                    conn.inc.window = window;
                    test.tcp_streams.push(handle);
                }
                Some(_) => {
                    conn.inc.intake = Intake::Control;
                    self.send_state(handle, proto::ACCESS_DENIED);
                    let _ = stack.tcp.close(handle);
                }
            }
        }
    }

    /// Ends the current test: closes its connections, forgets its UDP
    /// streams.
    fn finish_test<D: Device>(&mut self, stack: &mut Stack<D>) {
        if let Some(test) = self.test.take() {
            for handle in test.tcp_streams.iter().chain([&test.control]) {
                let _ = stack.tcp.close(*handle);
            }
        }
        self.udp.streams.clear();
        self.udp.accepting = 0;
        self.udp.sending = false;
    }

    /// Moves the test on; the result says whether it ended.
    fn step<D: Device>(&mut self, stack: &mut Stack<D>, at: Instant) -> Outcome {
        let Some(test) = &mut self.test else {
            return Outcome::Going;
        };
        let control = test.control;
        let Some(conn) = self.tcp.get(control) else {
            return if test.phase == Phase::Display {
                Outcome::Done(self.report())
            } else {
                Outcome::Failed("the client's control connection closed".into())
            };
        };
        let peer_closed = conn.peer_closed;
        // Messages from the client.
        loop {
            let Some(test) = &mut self.test else {
                return Outcome::Going;
            };
            let Some(conn) = self.tcp.get(control) else {
                break;
            };
            match test.phase {
                Phase::Params => match conn.inc.take_json() {
                    Ok(None) => break,
                    Ok(Some(value)) => match Params::from_json(&value) {
                        Ok(params) => {
                            test.phase = Phase::Streams;
                            test.since = at;
                            if params.udp {
                                self.udp.accepting = params.parallel;
                                self.udp.len = params.len;
                                self.udp.counters64 = params.counters64;
                            }
                            test.params = Some(params);
                            self.send_state(control, proto::CREATE_STREAMS);
                        }
                        Err((code, why)) => {
                            self.refuse(stack, control, code);
                            return Outcome::Failed(format!("refused the test: {why}"));
                        }
                    },
                    Err(err) => {
                        self.refuse(stack, control, proto::IE_INIT_TEST);
                        return Outcome::Failed(format!("the client's parameters: {err}"));
                    }
                },
                Phase::Results => match conn.inc.take_json() {
                    Ok(None) => break,
                    Ok(Some(value)) => {
                        test.client_results = Some(value);
                        test.phase = Phase::Draining;
                        test.since = at;
                    }
                    Err(err) => return Outcome::Failed(format!("the client's results: {err}")),
                },
                _ => {
                    let Some(state) = conn.inc.take_state() else {
                        break;
                    };
                    match state {
                        proto::TEST_END if test.phase == Phase::Running => {
                            test.phase = Phase::Ending;
                            test.since = at;
                            test.stopped = Some(at);
                            for &handle in &test.tcp_streams {
                                if let Some(c) = self.tcp.get(handle) {
                                    c.out.freeze();
                                }
                            }
                            self.udp.sending = false;
                        }
                        proto::IPERF_DONE if test.phase == Phase::Display => {
                            let report = self.report();
                            return Outcome::Done(report);
                        }
                        proto::CLIENT_TERMINATE => {
                            return Outcome::Failed("the client ended the test".into());
                        }
                        other => {
                            return Outcome::Failed(format!(
                                "unexpected {} ({other}) from the client",
                                proto::state_name(other)
                            ));
                        }
                    }
                }
            }
        }
        let Some(test) = &mut self.test else {
            return Outcome::Going;
        };
        let Some(params) = test.params.clone() else {
            if at.saturating_duration_since(test.since) > SETUP_LIMIT {
                return Outcome::Failed("no parameters from the client".into());
            }
            return if peer_closed {
                Outcome::Failed("the client closed before the test".into())
            } else {
                Outcome::Going
            };
        };
        let we_send = params.reverse;
        let count = if params.udp {
            self.udp.streams.len()
        } else {
            test.tcp_streams.len()
        };
        if test.streams.len() < count {
            test.streams.resize(count, StreamReport::default());
        }
        // Our counts, until they are merged with the client's.
        if test.phase != Phase::Display {
            tcp_stream_reports(stack, &mut self.tcp, &test.tcp_streams, &mut test.streams);
            udp_stream_reports(&self.udp, &mut test.streams);
        }
        let received: u64 = test.streams.iter().map(|s| s.received.bytes).sum();
        if received != test.last_count.0 {
            test.last_count = (received, at);
        }
        let waited = at.saturating_duration_since(test.since);
        match test.phase {
            Phase::Streams if count == params.parallel => {
                test.phase = Phase::Running;
                test.since = at;
                test.started = Some(at);
                test.cpu = cpu_seconds();
                self.udp.allowance = 0;
                self.udp.sending = params.udp && we_send;
                self.send_state(control, proto::TEST_START);
                self.send_state(control, proto::TEST_RUNNING);
            }
            Phase::Streams if waited > SETUP_LIMIT => {
                return Outcome::Failed(format!(
                    "only {count} of {} streams came",
                    params.parallel
                ));
            }
            Phase::Running => {
                let elapsed = at.saturating_duration_since(test.started.unwrap_or(at));
                if we_send {
                    let window = self.settings.window;
                    feed(
                        &mut self.tcp,
                        &mut self.udp,
                        &test.tcp_streams,
                        &params,
                        elapsed,
                        window,
                    );
                }
                if elapsed > params.time + Duration::from_secs(60) {
                    return Outcome::Failed("no TEST_END from the client".into());
                }
            }
            Phase::Ending => {
                // As iperf3 does, our ends of the streams close (after the
                // data queued); the data we receive goes on arriving. When
                // we send, the client reads until EXCHANGE_RESULTS comes:
                // that waits until our data is acknowledged, and a moment
                // more for the client's program to read what its kernel
                // took.
                if waited.is_zero() {
                    for &handle in &test.tcp_streams {
                        let _ = stack.tcp.close(handle);
                    }
                }
                let acked = test
                    .tcp_streams
                    .iter()
                    .all(|&h| self.tcp.get(h).is_none_or(|c| c.out.len() == 0));
                let settled = !we_send || (acked && waited >= SETTLE);
                if settled || waited > DRAIN_LIMIT {
                    test.phase = Phase::Results;
                    test.since = at;
                    self.send_state(control, proto::EXCHANGE_RESULTS);
                }
            }
            Phase::Draining => {
                // Until each stream received what the client says it sent
                // (or the streams have been quiet a while: lost UDP).
                let client = test.client_results.clone().unwrap_or(Value::Null);
                let mut merged = test.streams.clone();
                if let Err(err) = merge_peer_results(&mut merged, &client, we_send) {
                    return Outcome::Failed(err);
                }
                let whole = we_send
                    || merged.iter().all(|s| {
                        if params.udp {
                            s.received.packets >= s.sent_packets
                        } else {
                            s.received.bytes >= s.sent_bytes
                        }
                    });
                // Lost datagrams never come: UDP waits until it is quiet.
                let quiet = params.udp && at.saturating_duration_since(test.last_count.1) >= QUIET;
                if whole || quiet || waited > DRAIN_LIMIT {
                    let seconds = test.stopped.zip(test.started).map_or(0.0, |(stop, start)| {
                        stop.saturating_duration_since(start).as_secs_f64()
                    });
                    for (mine, theirs) in test.streams.iter_mut().zip(&merged) {
                        mine.id = theirs.id;
                    }
                    let cpu = cpu_percent(test.cpu, seconds);
                    let results = results_json(&test.streams, we_send, seconds, cpu);
                    test.streams = merged;
                    test.phase = Phase::Display;
                    test.since = at;
                    self.send_json(control, &results);
                    self.send_state(control, proto::DISPLAY_RESULTS);
                }
            }
            Phase::Results | Phase::Display if waited > SETUP_LIMIT => {
                return Outcome::Failed("the client stopped answering".into());
            }
            _ => {}
        }
        if peer_closed
            && self
                .test
                .as_ref()
                .is_some_and(|t| t.phase != Phase::Display)
        {
            return Outcome::Failed("the client closed the control connection".into());
        }
        Outcome::Going
    }

    fn report(&self) -> Report {
        let test = self.test.as_ref();
        let params = test.and_then(|t| t.params.clone()).unwrap_or(Params {
            udp: false,
            time: Duration::ZERO,
            parallel: 0,
            len: 0,
            rate: 0,
            reverse: false,
            counters64: false,
        });
        let seconds = test
            .and_then(|t| t.stopped.zip(t.started))
            .map_or(0.0, |(stop, start)| {
                stop.saturating_duration_since(start).as_secs_f64()
            });
        Report {
            params,
            seconds,
            streams: test.map(|t| t.streams.clone()).unwrap_or_default(),
        }
    }

    /// The earliest time the server must look again: the next datagram
    /// of paced sending.
    fn deadline(&self, at: Instant) -> Option<Instant> {
        let test = self.test.as_ref()?;
        let params = test.params.as_ref()?;
        (test.phase == Phase::Running && params.reverse).then(|| at + Duration::from_millis(1))
    }
}

impl StackRunner for Server {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(mut self, mut stack: Stack<D>) -> Result<(), String> {
        let port = self.settings.port;
        stack
            .tcp
            .listen(port, MAX_STREAMS + 4)
            .map_err(|err| format!("TCP port {port}: {err}"))?;
        stack
            .udp
            .bind(port)
            .map_err(|err| format!("UDP port {port}: {err}"))?;
        let addrs: Vec<String> = stack.ip.addrs().map(|a| a.to_string()).collect();
        println!(
            "iperf3: server ready on {} port {port} ({})",
            addrs.join(", "),
            stack.link.nic
        );
        loop {
            let moved = stack.poll(&mut self.udp, &mut self.tcp)?;
            let at = now();
            for (handle, event) in self.tcp.take_events() {
                // A stream the client closed: close ours too.
                if event == Event::PeerClosed
                    && self.test.as_ref().is_none_or(|t| t.control != handle)
                {
                    let _ = stack.tcp.close(handle);
                }
            }
            while stack.tcp.accept(port).is_some() {}
            self.classify(&mut stack, at);
            match self.step(&mut stack, at) {
                Outcome::Going => {}
                Outcome::Done(report) => {
                    print_report(&report, self.settings.json);
                    self.finish_test(&mut stack);
                    if self.settings.one_off {
                        return linger(&mut stack, &mut self.udp, &mut self.tcp);
                    }
                }
                Outcome::Failed(why) => {
                    eprintln!("iperf3: test failed: {why}");
                    self.finish_test(&mut stack);
                    if self.settings.one_off {
                        let _ = linger(&mut stack, &mut self.udp, &mut self.tcp);
                        return Err(why);
                    }
                }
            }
            if stack.link.pcap.is_some() {
                stack.flush_capture();
            }
            if moved == 0 {
                stack.wait(self.deadline(at), Duration::from_millis(100))?;
            }
        }
    }
}

/// Runs the stack a little longer so that the last messages and FINs go
/// out before the program exits (at most a second).
fn linger<D: Device + Waitable>(
    stack: &mut Stack<D>,
    udp: &mut UdpSide,
    tcp: &mut TcpSide,
) -> Result<(), String> {
    let end = now() + Duration::from_secs(1);
    loop {
        let moved = stack.poll(&mut *udp, &mut *tcp)?;
        tcp.take_events();
        let busy = tcp
            .conns
            .iter()
            .flatten()
            .any(|c| c.out.len() > 0 || !c.peer_closed);
        let at = now();
        if !busy || at >= end {
            stack.flush_capture();
            return Ok(());
        }
        if moved == 0 {
            stack.wait(Some(end), Duration::from_millis(10))?;
        }
    }
}

// ---------------------------------------------------------------------
// The client.

/// Where the client is.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Step {
    /// Cookie sent, waiting for PARAM_EXCHANGE.
    Hello,
    /// Parameters sent, waiting for CREATE_STREAMS.
    Params,
    /// Opening the streams one after another.
    Streams,
    /// All open, waiting for TEST_RUNNING.
    Starting,
    Running,
    /// Time is up: our data drains before TEST_END.
    Stopping,
    /// Sent TEST_END, waiting for EXCHANGE_RESULTS.
    Ended,
    /// Reverse: the server's data drains before our results go.
    Draining,
    /// Sent our results, waiting for the server's.
    Results,
    /// Waiting for DISPLAY_RESULTS.
    Display,
}

struct Client {
    settings: Settings,
}

struct ClientRun<'s, D: Device> {
    stack: &'s mut Stack<D>,
    settings: &'s Settings,
    tcp: TcpSide,
    udp: UdpSide,
    control: Handle,
    cookie: [u8; proto::COOKIE_LEN],
    local: IpAddr,
    remote: IpAddr,
    step: Step,
    since: Instant,
    streams: Vec<Handle>,
    started: Option<Instant>,
    stopped: Option<Instant>,
    reports: Vec<StreamReport>,
    server_results: Option<Value>,
    cpu: (f64, f64),
    last_count: (u64, Instant),
}

impl<D: Device + Waitable> ClientRun<'_, D> {
    fn control_out(&mut self, bytes: &[u8]) {
        if let Some(c) = self.tcp.get(self.control) {
            c.out.push(bytes);
        }
    }

    /// Opens stream `index`: a TCP connection that starts with the
    /// cookie, or a UDP port that sends the connect datagram.
    fn open_stream(&mut self, index: usize, at: Instant) -> Result<(), String> {
        let params = &self.settings.params;
        if params.udp {
            let port = self
                .stack
                .udp
                .bind_ephemeral()
                .map_err(|err| format!("a UDP port: {err}"))?;
            self.udp
                .streams
                .push(UdpStream::new((self.remote, self.settings.port), port));
            self.udp.connect_due = Some(index);
        } else {
            let handle = self
                .stack
                .tcp
                .connect((self.local, 0), (self.remote, self.settings.port), at)
                .map_err(|err| format!("stream {}: {err}", index + 1))?;
            self.tcp
                .insert(handle, Outgoing::new(&self.cookie), Intake::Count);
            self.streams.push(handle);
        }
        self.reports.push(StreamReport {
            id: stream_id(index),
            ..StreamReport::default()
        });
        self.since = at;
        Ok(())
    }

    /// Whether the last stream opened is ready: established with its
    /// cookie acknowledged, or its UDP handshake answered.
    fn last_stream_open(&mut self) -> bool {
        if self.settings.params.udp {
            return self.udp.streams.last().is_some_and(|s| s.connected);
        }
        match self.streams.last() {
            Some(&handle) => self
                .tcp
                .get(handle)
                .is_some_and(|c| c.established && c.out.len() == 0),
            None => false,
        }
    }

    fn count_received(&mut self) -> u64 {
        tcp_stream_reports(self.stack, &mut self.tcp, &self.streams, &mut self.reports);
        udp_stream_reports(&self.udp, &mut self.reports);
        self.reports.iter().map(|s| s.received.bytes).sum()
    }

    fn seconds(&self) -> f64 {
        self.stopped.zip(self.started).map_or(0.0, |(stop, start)| {
            stop.saturating_duration_since(start).as_secs_f64()
        })
    }

    /// Reacts to the server's messages; `Ok(true)` when the test is over.
    fn on_messages(&mut self, at: Instant) -> Result<bool, String> {
        loop {
            let Some(conn) = self.tcp.get(self.control) else {
                return Err("the server closed the control connection".into());
            };
            if self.step == Step::Results {
                match conn.inc.take_json()? {
                    None => return Ok(false),
                    Some(value) => {
                        self.server_results = Some(value);
                        self.step = Step::Display;
                        continue;
                    }
                }
            }
            let Some(state) = conn.inc.take_state() else {
                return Ok(false);
            };
            match (state, self.step) {
                (proto::PARAM_EXCHANGE, Step::Hello) => {
                    self.control_out(&json_message(&self.settings.params.to_json()));
                    self.step = Step::Params;
                }
                (proto::CREATE_STREAMS, Step::Params) => {
                    self.step = Step::Streams;
                    self.open_stream(0, at)?;
                }
                (proto::TEST_START, Step::Streams | Step::Starting) => {
                    self.step = Step::Starting;
                }
                (proto::TEST_RUNNING, Step::Streams | Step::Starting) => {
                    self.step = Step::Running;
                    self.started = Some(at);
                    self.since = at;
                    self.cpu = cpu_seconds();
                    let params = &self.settings.params;
                    self.udp.sending = params.udp && !params.reverse;
                    self.udp.allowance = 0;
                }
                (proto::EXCHANGE_RESULTS, Step::Ended) => {
                    self.step = Step::Draining;
                    self.since = at;
                }
                (proto::DISPLAY_RESULTS, Step::Display) => {
                    self.control_out(&[proto::IPERF_DONE]);
                    return Ok(true);
                }
                (proto::ACCESS_DENIED, _) => {
                    return Err("the server is busy running a test; try again later".into());
                }
                (proto::SERVER_ERROR, _) => {
                    let codes = loop {
                        let conn = self.tcp.get(self.control).ok_or("the server closed")?;
                        if let Some(bytes) = conn.inc.take_bytes(8) {
                            break bytes;
                        }
                        if conn.peer_closed {
                            break vec![0; 8];
                        }
                        self.stack.poll(&mut self.udp, &mut self.tcp)?;
                        self.tcp.take_events();
                        self.stack.wait(None, Duration::from_millis(10))?;
                    };
                    let code = u32::from_be_bytes([codes[0], codes[1], codes[2], codes[3]]);
                    let errno = u32::from_be_bytes([codes[4], codes[5], codes[6], codes[7]]);
                    return Err(format!(
                        "the server refused the test (iperf3 error {code}, errno {errno})"
                    ));
                }
                (proto::SERVER_TERMINATE, _) => {
                    return Err("the server ended the test".into());
                }
                (state, step) => {
                    return Err(format!(
                        "unexpected {} ({state}) from the server while {step:?}",
                        proto::state_name(state)
                    ));
                }
            }
        }
    }

    fn run(&mut self) -> Result<Report, String> {
        let params = self.settings.params.clone();
        let start = now();
        let mut last_progress = start;
        loop {
            let moved = self.stack.poll(&mut self.udp, &mut self.tcp)?;
            let at = now();
            for (handle, event) in self.tcp.take_events() {
                if let Event::Closed(reason) = event
                    && (handle == self.control || self.step <= Step::Running)
                    && self
                        .streams
                        .iter()
                        .chain([&self.control])
                        .any(|&h| h == handle)
                {
                    return Err(format!("a connection to the server closed: {reason:?}"));
                }
            }
            if self.on_messages(at)? {
                break;
            }
            let received = self.count_received();
            if received != self.last_count.0 {
                self.last_count = (received, at);
            }
            let waited = at.saturating_duration_since(self.since);
            let stream_open = self.step == Step::Streams && self.last_stream_open();
            match self.step {
                Step::Streams if stream_open => {
                    let opened = self.reports.len();
                    if opened < params.parallel {
                        self.open_stream(opened, at)?;
                    } else {
                        self.step = Step::Starting;
                    }
                }
                Step::Streams if params.udp && waited > Duration::from_secs(1) => {
                    // The connect datagram or its answer was lost.
                    self.udp.connect_due = Some(self.udp.streams.len() - 1);
                    self.since = at;
                }
                Step::Running => {
                    let elapsed = at.saturating_duration_since(self.started.unwrap_or(at));
                    if !params.reverse {
                        let window = self.settings.window;
                        feed(
                            &mut self.tcp,
                            &mut self.udp,
                            &self.streams,
                            &params,
                            elapsed,
                            window,
                        );
                    }
                    if elapsed >= params.time {
                        self.stopped = Some(at);
                        self.udp.sending = false;
                        for &handle in &self.streams {
                            if let Some(c) = self.tcp.get(handle) {
                                c.out.freeze();
                            }
                        }
                        self.step = Step::Stopping;
                        self.since = at;
                    }
                }
                Step::Stopping => {
                    let acked = self
                        .streams
                        .iter()
                        .all(|&h| self.tcp.get(h).is_none_or(|c| c.out.len() == 0));
                    let drained = params.reverse || params.udp || (acked && waited >= SETTLE);
                    if drained || waited > DRAIN_LIMIT {
                        self.control_out(&[proto::TEST_END]);
                        self.step = Step::Ended;
                        self.since = at;
                    }
                }
                Step::Draining => {
                    // The server closes its ends of the streams after its
                    // last byte: until then, what it sent is still coming.
                    let ended = if params.udp {
                        at.saturating_duration_since(self.last_count.1) >= QUIET
                    } else {
                        self.streams
                            .iter()
                            .all(|&h| self.tcp.get(h).is_none_or(|c| c.peer_closed))
                    };
                    if !params.reverse || ended || waited > DRAIN_LIMIT {
                        self.count_received();
                        let seconds = self.seconds();
                        let cpu = cpu_percent(self.cpu, seconds);
                        let ours = results_json(&self.reports, !params.reverse, seconds, cpu);
                        self.control_out(&json_message(&ours));
                        self.step = Step::Results;
                        self.since = at;
                    }
                }
                _ => {}
            }
            if self.step != Step::Running && waited > SETUP_LIMIT {
                return Err(format!("the server did not answer ({:?})", self.step));
            }
            if self.stack.link.pcap.is_some() {
                self.stack.flush_capture();
            }
            if moved == 0 {
                let pacing = (self.step == Step::Running).then(|| at + Duration::from_millis(1));
                let stop = self.started.map(|s| s + params.time);
                let wake = [pacing, stop].into_iter().flatten().min();
                self.stack.wait(wake, Duration::from_millis(50))?;
            } else {
                last_progress = at;
            }
            let _ = last_progress;
        }
        let server = self.server_results.clone().unwrap_or(Value::Null);
        let mut streams = self.reports.clone();
        merge_peer_results(&mut streams, &server, !params.reverse)?;
        // Close everything and let the FINs go out.
        for handle in self.streams.iter().chain([&self.control]) {
            let _ = self.stack.tcp.close(*handle);
        }
        linger(self.stack, &mut self.udp, &mut self.tcp)?;
        Ok(Report {
            params,
            seconds: self.seconds(),
            streams,
        })
    }
}

impl StackRunner for Client {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(self, mut stack: Stack<D>) -> Result<(), String> {
        let settings = &self.settings;
        let remote = settings.server.ok_or("no server address")?;
        let local = stack
            .link
            .local_for(remote)
            .ok_or_else(|| format!("no local address of {remote}'s family"))?;
        let at = now();
        let control = stack
            .tcp
            .connect((local, 0), (remote, settings.port), at)
            .map_err(|err| format!("connect to {remote} port {}: {err}", settings.port))?;
        if let Some(c) = stack.tcp.connection_mut(control) {
            c.set_nagle(false);
        }
        let cookie = new_cookie();
        let mut tcp = TcpSide::new(sizes().tcp_connections, settings.window, false);
        tcp.insert(control, Outgoing::new(&cookie), Intake::Control);
        let mut udp = UdpSide::new(0);
        udp.len = settings.params.len;
        udp.counters64 = settings.params.counters64;
        if !settings.json {
            println!(
                "iperf3: ready; connecting to host {remote}, port {} ({})",
                settings.port, stack.link.nic
            );
        } else {
            eprintln!(
                "iperf3: ready; connecting to host {remote}, port {}",
                settings.port
            );
        }
        let mut run = ClientRun {
            stack: &mut stack,
            settings,
            tcp,
            udp,
            control,
            cookie,
            local,
            remote,
            step: Step::Hello,
            since: at,
            streams: Vec::new(),
            started: None,
            stopped: None,
            reports: Vec::new(),
            server_results: None,
            cpu: cpu_seconds(),
            last_count: (0, at),
        };
        let report = run.run();
        run.stack.flush_capture();
        let report = report?;
        print_report(&report, settings.json);
        if !settings.json {
            println!("\niperf Done.");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = PROGRAM.parse_env_aliased(ALIASES);
    let settings = match settings(&args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("iperf3: {err}\n\n{}", PROGRAM.help());
            return ExitCode::from(2);
        }
    };
    let result = (|| {
        let link = args.link()?;
        let mut tcp_config = TcpConfig::default();
        // Control messages are single bytes the peer waits for, and data
        // moves one way: nothing to wait for before sending.
        tcp_config.nagle = false;
        match settings.server {
            None => ethox_examples::open_sized(
                &link,
                sizes(),
                tcp_config,
                Server {
                    tcp: TcpSide::new(sizes().tcp_connections, settings.window, true),
                    udp: UdpSide::new(settings.port),
                    test: None,
                    settings,
                },
            )?,
            Some(_) => ethox_examples::open_sized(&link, sizes(), tcp_config, Client { settings })?,
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("iperf3: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            udp: true,
            time: Duration::from_secs(3),
            parallel: 2,
            len: 1400,
            rate: 10_000_000,
            reverse: true,
            counters64: true,
        }
    }

    #[test]
    fn parameters_go_and_come_back() {
        let p = params();
        let text = p.to_json().to_json();
        assert!(
            text.starts_with(r#"{"udp":true,"omit":0,"time":3,"#),
            "{text}"
        );
        assert_eq!(Params::from_json(&json::parse(&text).unwrap()), Ok(p));
    }

    #[test]
    fn parameters_out_of_bounds_are_refused() {
        let read = |text: &str| Params::from_json(&json::parse(text).unwrap());
        assert_eq!(
            read(r#"{"tcp":true,"parallel":65}"#).unwrap_err().0,
            proto::IE_NUM_STREAMS
        );
        assert_eq!(
            read(r#"{"udp":true,"len":9000}"#).unwrap_err().0,
            proto::IE_BLOCK_SIZE
        );
        assert!(read(r#"{"tcp":true,"bidirectional":true}"#).is_err());
        assert!(read(r#"{"tcp":true,"reverse":true,"num":100}"#).is_err());
        assert!(read(r#"{"sctp":true}"#).is_err());
        let tcp = read(r#"{"tcp":1,"time":10,"len":131072}"#).unwrap();
        assert_eq!((tcp.parallel, tcp.rate, tcp.reverse), (1, 0, false));
    }

    #[test]
    fn generated_data_is_read_again_the_same() {
        let mut out = Outgoing::new(b"cookie");
        out.allow_data(100);
        assert_eq!(out.len(), 106);
        let mut first = [0u8; 50];
        assert_eq!(out.read_at(0, &mut first), 50);
        assert_eq!(&first[..6], b"cookie");
        let mut again = [0u8; 20];
        assert_eq!(out.read_at(30, &mut again), 20);
        assert_eq!(again, first[30..50]);
        out.acknowledge(10);
        out.freeze();
        // Frozen at what TCP read: 50 bytes of the stream, 44 of data.
        assert_eq!(out.len(), 40);
        assert_eq!(out.data_sent(), 44);
        out.allow_data(10);
        assert_eq!(out.len(), 40, "allowing less never shrinks");
    }

    #[test]
    fn udp_counters_lost_and_late() {
        let mut stream =
            UdpStream::new((IpAddr::V4(ethox::wire::Ipv4Addr::new(10, 0, 0, 1)), 9), 9);
        let datagram = |n: u32| {
            let mut d = vec![0u8; 100];
            d[8..12].copy_from_slice(&n.to_be_bytes());
            d
        };
        for n in [1, 2, 5, 3, 6] {
            stream.count(&datagram(n), false);
        }
        let r = stream.received;
        assert_eq!((r.packets, r.lost, r.out_of_order, r.bytes), (6, 1, 1, 500));
        // Too short for a header: not counted.
        stream.count(&[0; 11], false);
        assert_eq!(stream.received.bytes, 500);
    }

    #[test]
    fn suffixes_and_ids() {
        assert_eq!(parse_suffixed("10M", 1000), Some(10_000_000));
        assert_eq!(parse_suffixed("1.5k", 1024), Some(1536));
        assert_eq!(parse_suffixed("x", 1000), None);
        assert_eq!((0..4).map(stream_id).collect::<Vec<_>>(), [1, 3, 4, 5]);
        let cookie = new_cookie();
        assert_eq!(cookie[36], 0);
        assert!(cookie[..36].iter().all(|c| proto::COOKIE_CHARS.contains(c)));
    }

    #[test]
    fn results_match_the_peer_in_order() {
        let mut mine = vec![
            StreamReport {
                id: 1,
                sent_bytes: 1000,
                ..StreamReport::default()
            };
            2
        ];
        let theirs = results_json(
            &[
                StreamReport {
                    id: 1,
                    received: Received {
                        bytes: 1000,
                        ..Received::default()
                    },
                    ..StreamReport::default()
                },
                StreamReport {
                    id: 3,
                    received: Received {
                        bytes: 900,
                        ..Received::default()
                    },
                    ..StreamReport::default()
                },
            ],
            false,
            1.0,
            (0.0, 0.0),
        );
        let theirs = json::parse(&theirs.to_json()).unwrap();
        merge_peer_results(&mut mine, &theirs, true).unwrap();
        assert_eq!(mine[1].id, 3);
        assert_eq!(mine[1].received.bytes, 900);
        assert!(merge_peer_results(&mut mine[..1], &theirs, true).is_err());
    }
}
