//! `ping(8)` on ethox: ICMP or ICMPv6 echo requests to one host, a line per
//! reply, and the loss and round-trip summary at the end.
//!
//! The requests are built through the IP layer ([`ip::Raw::prepare_fragment`]),
//! so a `--size` beyond one frame goes out in fragments (RFC 791 2.3, RFC
//! 8200 4.5) and the replies are reassembled. The first request usually
//! finds the peer's hardware address unknown: the buffer carries the ARP
//! request or neighbor solicitation instead, and the echo request follows
//! a moment later without being counted as lost.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! cargo run --release --bin ping -- --tap tap0 -c 3 10.0.0.1
//! ```

use std::time::Duration;

use ethox::layer::ip::{self, FragmentCursor, IpRepr};
use ethox::layer::reassembly::{Reassembler, ReassemblySlot};
use ethox::nic::{Device, sys};
use ethox::time::Instant;
use ethox::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use ethox::wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use ethox::wire::{ChecksumMode, IpAddr, IpProtocol};
use ethox_examples::cli::{Args, Flag, Program};
use ethox_examples::{SLOTS, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "ping",
    usage: "HOST",
    about: "Sends ICMP echo requests to HOST (an IPv4 or IPv6 address) and prints \
every reply like ping(8), then the loss and round-trip times. Exits 0 if any reply came, \
1 if none, 2 on an error.",
    flags: &[
        Flag {
            name: "--count",
            value: "N",
            help: "how many requests to send (also -c)",
            default: "4",
        },
        Flag {
            name: "--interval",
            value: "MS",
            help: "time between requests in milliseconds",
            default: "1000",
        },
        Flag {
            name: "--size",
            value: "BYTES",
            help: "echo data per request (beyond one frame: fragments)",
            default: "56",
        },
        Flag {
            name: "--timeout",
            value: "S",
            help: "stop after this many seconds, whatever is outstanding",
            default: "none",
        },
        Flag {
            name: "--wait",
            value: "MS",
            help: "how long to wait for the last reply",
            default: "2000",
        },
    ],
    link: true,
};

/// The largest echo datagram: an IPv4 datagram's 65535 bytes less the
/// IPv4 header (IPv6 would allow 20 more; one limit keeps it simple).
const MAX_MESSAGE: usize = 65515;

/// How long a request waits for the peer's hardware address before it
/// counts as lost (the kernel's ARP gives up after about as long).
const RESOLVE_LIMIT: Duration = Duration::from_secs(3);

/// ICMP echo header: type, code, checksum, identifier, sequence number.
const ECHO_HEADER: usize = 8;

/// What `ping` was asked to do.
#[derive(Debug, Clone, Copy)]
struct Settings {
    dst: IpAddr,
    /// This host's address of `dst`'s family (`dst` itself until known).
    local: IpAddr,
    count: u32,
    interval: Duration,
    size: usize,
    timeout: Option<Duration>,
    wait: Duration,
}

/// A request on its way out: its sequence number, when its first bytes
/// left, the whole ICMP message and how much of it was sent.
struct Outgoing {
    seq: u16,
    message: Vec<u8>,
    cursor: FragmentCursor,
    started: Option<Instant>,
}

/// The pinger: sends requests on schedule, matches replies, keeps the
/// counts.
struct Pinger {
    settings: Settings,
    ident: u16,
    /// Requests sent completely.
    sent: u32,
    /// When the next request is due.
    next_at: Instant,
    outgoing: Option<Outgoing>,
    /// When each request left, by sequence number (wrapping at 2^16).
    sent_at: Vec<Option<Instant>>,
    replied: Vec<bool>,
    received: u32,
    duplicates: u32,
    /// Requests given up on: the peer's hardware address never resolved.
    errors: u32,
    /// Since when the next request waits for address resolution.
    unresolved_since: Option<Instant>,
    last_sent: Option<Instant>,
    first_sent: Option<Instant>,
    rtt_min: f64,
    rtt_max: f64,
    rtt_sum: f64,
    error: Option<String>,
}

impl Pinger {
    fn new(settings: Settings, now: Instant) -> Pinger {
        let slots = settings.count.clamp(1, 1 << 16) as usize;
        Pinger {
            settings,
            // ping(8)'s choice: the process id tells our replies from
            // another pinger's.
            ident: std::process::id() as u16,
            sent: 0,
            next_at: now,
            outgoing: None,
            sent_at: vec![None; slots],
            replied: vec![false; slots],
            received: 0,
            duplicates: 0,
            errors: 0,
            unresolved_since: None,
            last_sent: None,
            first_sent: None,
            rtt_min: f64::INFINITY,
            rtt_max: 0.0,
            rtt_sum: 0.0,
            error: None,
        }
    }

    fn protocol(&self) -> IpProtocol {
        match self.settings.dst {
            IpAddr::V4(_) => IpProtocol::Icmp,
            IpAddr::V6(_) => IpProtocol::Icmpv6,
        }
    }

    fn slot(&self, seq: u16) -> usize {
        usize::from(seq) % self.sent_at.len()
    }

    /// Whether every request went out and was answered or given up on.
    fn is_done(&self, now: Instant) -> bool {
        if self.sent < self.settings.count || self.outgoing.is_some() {
            return false;
        }
        let all_in = self.received >= self.settings.count;
        let waited = self
            .last_sent
            .is_none_or(|at| now >= at + self.settings.wait);
        all_in || waited
    }

    /// When the pinger next has something to do on its own.
    fn next_deadline(&self) -> Option<Instant> {
        if self.sent < self.settings.count || self.outgoing.is_some() {
            Some(self.next_at)
        } else {
            self.last_sent.map(|at| at + self.settings.wait)
        }
    }

    /// The echo request `seq` as a whole ICMP message from `src` to `dst`
    /// (ICMPv6's checksum covers the addresses, RFC 4443 2.3).
    fn message(&self, seq: u16, repr: IpRepr, checksum: ChecksumMode) -> Vec<u8> {
        // ping(8)'s data: counting bytes from 0x10 on.
        let data: Vec<u8> = (0..self.settings.size)
            .map(|i| (i as u8).wrapping_add(0x10))
            .collect();
        let mut message = vec![0u8; ECHO_HEADER + data.len()];
        match repr {
            IpRepr::V4(_) => {
                let request = Icmpv4Repr::EchoRequest {
                    ident: self.ident,
                    seq_no: seq,
                    data: &data,
                };
                let _ = request.emit(&mut Icmpv4Packet::new_unchecked(&mut message), checksum);
            }
            IpRepr::V6(header) => {
                let request = Icmpv6Repr::EchoRequest {
                    ident: self.ident,
                    seq_no: seq,
                    data: &data,
                };
                request.emit(
                    &mut Icmpv6Packet::new_unchecked(&mut message),
                    header.src,
                    header.dst,
                    checksum,
                );
            }
            _ => {}
        }
        message
    }

    /// Called when the last fragment of a request went out.
    fn request_sent(&mut self, seq: u16, started: Instant) {
        let slot = self.slot(seq);
        self.sent_at[slot] = Some(started);
        self.replied[slot] = false;
        self.sent += 1;
        self.unresolved_since = None;
        self.last_sent = Some(started);
        self.first_sent.get_or_insert(started);
        self.next_at = started + self.settings.interval;
    }

    /// A reply (or what looks like one) from `from`, `len` ICMP bytes.
    fn reply(&mut self, from: IpAddr, ident: u16, seq: u16, len: usize, ttl: u8, at: Instant) {
        if ident != self.ident || from != self.settings.dst {
            return;
        }
        let slot = self.slot(seq);
        let Some(sent_at) = self.sent_at[slot] else {
            return;
        };
        let rtt = at.saturating_duration_since(sent_at).as_secs_f64() * 1e3;
        let dup = if self.replied[slot] {
            self.duplicates += 1;
            " (DUP!)"
        } else {
            self.replied[slot] = true;
            self.received += 1;
            self.rtt_min = self.rtt_min.min(rtt);
            self.rtt_max = self.rtt_max.max(rtt);
            self.rtt_sum += rtt;
            ""
        };
        println!(
            "{len} bytes from {from}: icmp_seq={seq} ttl={ttl} time={} ms{dup}",
            millis(rtt)
        );
    }

    /// The statistics block ping(8) ends with.
    fn summary(&self, now: Instant) -> String {
        let lost = self.sent.saturating_sub(self.received);
        let loss = if self.sent == 0 {
            0
        } else {
            u64::from(lost) * 100 / u64::from(self.sent)
        };
        let elapsed = self
            .first_sent
            .map_or(0, |at| now.saturating_duration_since(at).as_millis());
        let mut text = format!(
            "--- {} ping statistics ---\n{} packets transmitted, {} received",
            self.settings.dst, self.sent, self.received
        );
        if self.duplicates > 0 {
            text.push_str(&format!(", +{} duplicates", self.duplicates));
        }
        if self.errors > 0 {
            text.push_str(&format!(", +{} errors", self.errors));
        }
        text.push_str(&format!(", {loss}% packet loss, time {elapsed}ms\n"));
        if self.received > 0 {
            let avg = self.rtt_sum / f64::from(self.received);
            text.push_str(&format!(
                "rtt min/avg/max = {:.3}/{:.3}/{:.3} ms\n",
                self.rtt_min, avg, self.rtt_max
            ));
        }
        text
    }
}

/// A time in milliseconds with ping(8)'s precision: three significant
/// digits, at most three decimals.
fn millis(ms: f64) -> String {
    match ms {
        ms if ms < 1.0 => format!("{ms:.3}"),
        ms if ms < 10.0 => format!("{ms:.2}"),
        ms if ms < 100.0 => format!("{ms:.1}"),
        ms => format!("{ms:.0}"),
    }
}

impl<D: Device> ip::Send<D> for Pinger {
    fn send(&mut self, raw: ip::Raw<'_, '_, D>) {
        let now = raw.info().timestamp;
        if self.error.is_some() {
            return;
        }
        if self.outgoing.is_none() {
            if self.sent >= self.settings.count || now < self.next_at {
                return;
            }
            self.outgoing = Some(Outgoing {
                seq: (self.sent + 1) as u16,
                message: Vec::new(),
                cursor: FragmentCursor::new(),
                started: None,
            });
        }
        let init = ip::Init {
            src: None,
            dst: self.settings.dst,
            protocol: self.protocol(),
            payload_len: ECHO_HEADER + self.settings.size,
        };
        let Some(mut outgoing) = self.outgoing.take() else {
            return;
        };
        match raw.prepare_fragment(init, &mut outgoing.cursor) {
            Ok((mut out, range)) => {
                if range.start == 0 {
                    // The source address is known now: the message can be
                    // summed. Fragments carry a checksum made here, only a
                    // whole message may leave it to the device.
                    let whole = range.end == init.payload_len;
                    let checksum = match out.repr() {
                        IpRepr::V4(_) if whole => out.info().capabilities.icmpv4.tx,
                        IpRepr::V6(_) if whole => out.info().capabilities.icmpv6.tx,
                        _ => ChecksumMode::Software,
                    };
                    outgoing.message = self.message(outgoing.seq, out.repr(), checksum);
                    outgoing.started = Some(now);
                }
                let piece = outgoing.message.get(range).unwrap_or(&[]);
                let payload = out.payload_mut();
                let n = piece.len().min(payload.len());
                payload[..n].copy_from_slice(&piece[..n]);
                match out.send() {
                    Ok(()) if outgoing.cursor.is_done() => {
                        let started = outgoing.started.unwrap_or(now);
                        self.request_sent(outgoing.seq, started);
                    }
                    Ok(()) => self.outgoing = Some(outgoing),
                    // The device is busy: the whole request again, soon.
                    Err(_) => self.next_at = now + Duration::from_millis(1),
                }
            }
            // ARP or neighbor discovery in progress (this buffer may have
            // carried the question): the same request again shortly, not
            // counted as lost.
            Err(ip::Error::Unresolved) => {
                let since = *self.unresolved_since.get_or_insert(now);
                if now >= since + RESOLVE_LIMIT {
                    // ping(8)'s report when ARP gives up: the request
                    // counts as sent and lost.
                    println!(
                        "From {} icmp_seq={} Destination Host Unreachable",
                        self.settings.local, outgoing.seq
                    );
                    self.errors += 1;
                    self.request_sent(outgoing.seq, since);
                } else {
                    self.next_at = now + Duration::from_millis(10);
                }
            }
            Err(err) => self.error = Some(format!("{}: {err}", self.settings.dst)),
        }
    }
}

impl<D: Device> ip::Recv<D> for Pinger {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        let repr = packet.repr();
        let at = packet.info().timestamp;
        let len = packet.payload().len();
        let reply = match repr {
            IpRepr::V4(_) => {
                let checksum = packet.info().capabilities.icmpv4.rx;
                match Icmpv4Packet::new_checked(packet.payload())
                    .and_then(|p| Icmpv4Repr::parse(&p, checksum))
                {
                    Ok(Icmpv4Repr::EchoReply { ident, seq_no, .. }) => Some((ident, seq_no)),
                    _ => None,
                }
            }
            IpRepr::V6(header) => {
                let checksum = packet.info().capabilities.icmpv6.rx;
                match Icmpv6Packet::new_checked(packet.payload())
                    .and_then(|p| Icmpv6Repr::parse(&p, header.src, header.dst, checksum))
                {
                    Ok(Icmpv6Repr::EchoReply { ident, seq_no, .. }) => Some((ident, seq_no)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((ident, seq)) = reply {
            self.reply(repr.src(), ident, seq, len, repr.hop_limit(), at);
        }
    }
}

struct Run {
    settings: Settings,
}

impl StackRunner for Run {
    type Output = Result<bool, String>;

    fn run<D: Device + Waitable>(self, mut stack: Stack<D>) -> Result<bool, String> {
        let mut settings = self.settings;
        settings.local = stack
            .link
            .local_for(settings.dst)
            .ok_or_else(|| format!("no address of {}'s family", settings.dst))?;
        let message = ECHO_HEADER + settings.size;
        let header = if settings.dst.is_ipv4() { 20 } else { 40 };
        if header + message > ethox_examples::FRAME - 14 {
            // Replies come back in fragments: room to put them together.
            let slots = vec![ReassemblySlot::EMPTY; 2];
            let reassembler =
                Reassembler::new(vec![0; 2 * message], slots, message, Default::default());
            stack.ip.set_reassembler(reassembler);
        }
        let start = sys::now();
        let mut pinger = Pinger::new(settings, start);
        println!(
            "PING {0} ({0}) {1}({2}) bytes of data.",
            settings.dst,
            settings.size,
            header + message
        );
        let deadline = settings.timeout.map(|t| start + t);
        loop {
            let now = sys::now();
            if pinger.is_done(now) || deadline.is_some_and(|d| now >= d) {
                break;
            }
            let received = stack
                .nic
                .rx(
                    SLOTS,
                    stack.eth.recv(stack.ip.recv(stack.icmp.recv(&mut pinger))),
                )
                .map_err(|err| format!("receive: {err}"))?;
            let sent = stack
                .nic
                .tx(SLOTS, stack.eth.send(stack.ip.send(&mut pinger)))
                .map_err(|err| format!("send: {err}"))?;
            if let Some(err) = pinger.error.take() {
                return Err(err);
            }
            if stack.link.pcap.is_some() {
                stack.flush_capture();
            }
            if received + sent == 0 {
                let wake = [pinger.next_deadline(), deadline]
                    .into_iter()
                    .flatten()
                    .min();
                stack.wait(wake, Duration::from_millis(100))?;
            }
        }
        stack.flush_capture();
        print!("\n{}", pinger.summary(sys::now()));
        Ok(pinger.received > 0)
    }
}

/// The settings from the command line; `-c N` is `--count N`.
fn settings(args: &Args) -> Result<Settings, String> {
    let [host] = args.positional() else {
        return Err("one HOST, an IPv4 or IPv6 address".into());
    };
    let dst: IpAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    let count: u32 = args.parse_or("--count", 4)?;
    let size: usize = args.parse_or("--size", 56)?;
    if size + ECHO_HEADER > MAX_MESSAGE {
        return Err(format!(
            "--size: at most {} bytes",
            MAX_MESSAGE - ECHO_HEADER
        ));
    }
    let timeout = args.secs("--timeout")?;
    Ok(Settings {
        dst,
        local: dst,
        count,
        interval: args.millis_or("--interval", Duration::from_secs(1))?,
        size,
        timeout,
        wait: args.millis_or("--wait", Duration::from_secs(2))?,
    })
}

fn main() {
    // ping(8)'s short form of the count.
    let argv: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| if a == "-c" { "--count".into() } else { a })
        .collect();
    let parsed = PROGRAM.parse(argv).and_then(|args| match args {
        Some(args) => Ok(Some((args.link()?, settings(&args)?))),
        None => Ok(None),
    });
    let (link, settings) = match parsed {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{}", PROGRAM.help());
            return;
        }
        Err(err) => {
            eprintln!("ping: {err}\n\n{}", PROGRAM.help());
            std::process::exit(2);
        }
    };
    match ethox_examples::open(&link, Run { settings }).and_then(|result| result) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(err) => {
            eprintln!("ping: {err}");
            std::process::exit(2);
        }
    }
}
