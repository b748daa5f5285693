//! `curl` on ethox: one HTTP/1.1 GET over the stack's TCP, the body to
//! stdout.
//!
//! The host name is looked up with `ethox::layer::dns::Resolver` (A
//! records first, AAAA if there are none, only AAAA with `-6`), from the
//! server `--dns` names or, with `--dhcp`, the ones the DHCP lease names
//! (the address then comes from the lease too). The response's body is
//! delimited as RFC 9112 section 6.3 says: no body for 1xx, 204 and 304,
//! chunked transfer coding (section 7.1), a Content-Length, or else the
//! server closing the connection. Informational (1xx) responses before
//! the final one are skipped.
//!
//! Exit status: 0 for a whole 2xx response, 1 for any other status (the
//! body is still printed) or a failure, 2 for a bad command line.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! python3 -m http.server --bind 10.0.0.1 8000 &
//! cargo run --bin curl -- --tap tap0 http://10.0.0.1:8000/
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

use ethox::layer::dhcp;
use ethox::layer::dns::{QuerySlot, QueryType, ResolveError, Resolver, ResolverConfig};
use ethox::layer::tcp::buffer::{RingRecvBuffer, RingSendBuffer};
use ethox::layer::tcp::connection::State;
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::nic::Device;
use ethox::nic::sys::now;
use ethox::time::Instant;
use ethox::wire::{IpAddr, Ipv4Addr};
use ethox_examples::cli::{Args, Flag, Program};
use ethox_examples::{Stack, StackRunner, Waitable};

use http::{Head, ResponseReader};

const PROGRAM: Program = Program {
    name: "curl",
    usage: "URL",
    about: "Fetches URL (http://HOST[:PORT]/PATH; HOST an IPv4 address, an IPv6 address in \
brackets, or a name looked up by DNS) with HTTP/1.1 GET and writes the body to stdout. Exits \
0 for a whole 2xx response, 1 otherwise.",
    flags: &[
        Flag {
            name: "--dns",
            value: "ADDR",
            help: "the DNS server for names",
            default: "10.0.0.1, or the lease's with --dhcp",
        },
        Flag {
            name: "--ipv6",
            value: "",
            help: "look names up as AAAA only (also -6)",
            default: "",
        },
        Flag {
            name: "--dhcp",
            value: "",
            help: "get the IPv4 address (and the DNS server) by DHCP first",
            default: "",
        },
        Flag {
            name: "--output",
            value: "FILE",
            help: "write the body to FILE instead of stdout (also -o)",
            default: "",
        },
        Flag {
            name: "--timeout",
            value: "S",
            help: "give up after S seconds in all (also -m)",
            default: "30",
        },
        Flag {
            name: "--verbose",
            value: "",
            help: "print what happens, the request and the response head to stderr (also -v)",
            default: "",
        },
        Flag {
            name: "--buffer",
            value: "BYTES",
            help: "the connection's receive buffer",
            default: "262144",
        },
    ],
    link: true,
};

const ALIASES: &[(&str, &str)] = &[
    ("-6", "--ipv6"),
    ("-o", "--output"),
    ("-m", "--timeout"),
    ("-v", "--verbose"),
];

/// How long the connection may take to close after the response, before
/// the program exits anyway.
const LINGER: Duration = Duration::from_secs(1);

/// The longest sleep of the event loop: the deadlines wake it earlier.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Where the server is, as the URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Addr(IpAddr),
    Name(String),
}

/// An `http://` URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    host: Host,
    port: u16,
    /// The path and query, starting with `/`.
    target: String,
    /// The Host header: the authority as written (host and port).
    authority: String,
}

impl Url {
    fn parse(text: &str) -> Result<Url, String> {
        let bad = |why: &str| format!("bad URL {text:?}: {why}");
        if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("spaces or control characters"));
        }
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("only http:// is supported"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        // The fragment stays with the client.
        let rest = rest.split('#').next().unwrap_or("");
        let target = match rest.strip_prefix('?') {
            Some(_) => format!("/{rest}"),
            None if rest.is_empty() => "/".to_string(),
            None => rest.to_string(),
        };
        if authority.contains('@') {
            return Err(bad("user names are not supported"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (v6, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("no closing ]"))?;
            let addr = v6
                .parse()
                .map_err(|_| bad("not an IPv6 address in brackets"))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?),
            };
            (Host::Addr(IpAddr::V6(addr)), port)
        } else {
            let (host, port) = match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            let host = match host.parse::<Ipv4Addr>() {
                Ok(addr) => Host::Addr(IpAddr::V4(addr)),
                Err(_) if is_host_name(host) => Host::Name(host.to_ascii_lowercase()),
                Err(_) => return Err(bad("not a host name or address")),
            };
            (host, port)
        };
        let port = match port {
            None | Some("") => 80,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("bad port"))?,
        };
        Ok(Url {
            host,
            port,
            target,
            authority: authority.to_string(),
        })
    }

    /// The request: a GET of the target with the headers curl sends.
    fn request(&self) -> String {
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ethox-curl/{}\r\nAccept: */*\r\n\r\n",
            self.target,
            self.authority,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Letters, digits, hyphens and dots, labels of 1 to 63 (RFC 1123 2.1).
fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// What the user asked for.
struct Settings {
    url: Url,
    dns: Option<IpAddr>,
    ipv6_only: bool,
    dhcp: bool,
    output: Option<String>,
    timeout: Duration,
    verbose: bool,
    buffer: usize,
}

/// Out-of-order ranges the receive buffer holds. A lossy link leaves
/// many holes in a window; data beyond the ranges a buffer can hold is
/// refused and must come again, so a handful (the SACK option's four)
/// turns every loss into several.
const GAPS: usize = 64;

/// The one connection's buffers and what happened to it.
struct Fetch {
    conn: Option<Handle>,
    send: RingSendBuffer<'static>,
    recv: RingRecvBuffer<'static, GAPS>,
    events: Vec<Event>,
}

impl Io for Fetch {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        if Some(conn) != self.conn {
            return None;
        }
        Some(Buffers {
            send: &mut self.send,
            recv: &mut self.recv,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        if Some(conn) == self.conn {
            self.events.push(event);
        }
    }
}

/// Prints to stderr with `-v`.
macro_rules! say {
    ($settings:expr, $($arg:tt)*) => {
        if $settings.verbose {
            eprintln!($($arg)*);
        }
    };
}

struct Run {
    settings: Settings,
}

impl StackRunner for Run {
    type Output = Result<u16, String>;

    fn run<D: Device + Waitable>(self, mut stack: Stack<D>) -> Result<u16, String> {
        let settings = &self.settings;
        let deadline = now() + settings.timeout;
        let mut local4 = stack.link.addr4();
        let mut dns = settings.dns;
        if settings.dhcp {
            let lease = lease(&mut stack, settings)?;
            local4 = Some(IpAddr::V4(lease.address().address()));
            if dns.is_none() {
                dns = lease.dns_servers().first().map(|&s| IpAddr::V4(s));
            }
        }
        let local6 = stack.link.addr6();
        let remote = match &settings.url.host {
            Host::Addr(addr) => *addr,
            Host::Name(name) => {
                let dns = dns.unwrap_or(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
                let wanted: &[QueryType] = match (settings.ipv6_only, local4, local6) {
                    (true, _, _) | (false, None, Some(_)) => &[QueryType::Aaaa],
                    (false, Some(_), None) => &[QueryType::A],
                    _ => &[QueryType::A, QueryType::Aaaa],
                };
                resolve(&mut stack, settings, name, dns, wanted, deadline)?
            }
        };
        let local = match remote {
            IpAddr::V4(_) => local4,
            IpAddr::V6(_) => local6,
        }
        .ok_or_else(|| format!("no local address to reach {remote} from"))?;
        let result = fetch(&mut stack, settings, local, remote, deadline);
        stack.flush_capture();
        result
    }
}

/// A DHCP lease, installed on the stack.
fn lease<D: Device + Waitable>(
    stack: &mut Stack<D>,
    settings: &Settings,
) -> Result<dhcp::Lease, String> {
    let mut client = stack.dhcp_client()?;
    say!(settings, "* DHCP on {}", stack.link.mac);
    let lease = stack.acquire_lease(&mut client, settings.timeout, |state| {
        say!(settings, "* DHCP {state}");
    })?;
    say!(
        settings,
        "* leased {} from {} (router {:?}, DNS {:?})",
        lease.address(),
        lease.server(),
        lease.router(),
        lease.dns_servers()
    );
    Ok(lease)
}

/// `name`'s address: the first of the types in `wanted` that has one.
fn resolve<D: Device + Waitable>(
    stack: &mut Stack<D>,
    settings: &Settings,
    name: &str,
    server: IpAddr,
    wanted: &[QueryType],
    deadline: Instant,
) -> Result<IpAddr, String> {
    let mut resolver = Resolver::new(vec![QuerySlot::EMPTY; 1], ethox_examples::now_seed());
    resolver.set_servers(&[server]);
    // More and shorter tries than the resolver's default (4, from 2 s up
    // to 8 s): a lookup is the first step of a fetch the user waits for,
    // and on a lossy link (try the fault flags) four tries all fail
    // often. They last 43 s, longer than a neighbor cache entry with a
    // wrong address lives; the overall timeout still bounds them.
    resolver.set_config(ResolverConfig {
        first_timeout: Duration::from_secs(1),
        max_timeout: Duration::from_secs(4),
        max_attempts: 12,
    });
    let mut last = ResolveError::NoData;
    for &qtype in wanted {
        say!(settings, "* looking up {name} ({qtype:?}) at {server}");
        let query = resolver
            .query(&mut stack.udp, name, qtype, now())
            .map_err(|err| format!("{name}: {err}"))?;
        let result = loop {
            stack.poll(&mut resolver, &mut ethox_examples::NoTcp)?;
            if let Some(result) = resolver.take(query, &mut stack.udp) {
                break result;
            }
            if now() >= deadline {
                return Err(format!("timed out looking up {name}"));
            }
            let wake = [resolver.next_deadline(), Some(deadline)]
                .into_iter()
                .flatten()
                .min();
            stack.wait(wake, IDLE_WAIT)?;
        };
        match result {
            Ok(answer) => {
                let addr = answer.addrs()[0];
                say!(settings, "* {name} is {addr} (of {:?})", answer.addrs());
                return Ok(addr);
            }
            // No address of this type: maybe of the next.
            Err(ResolveError::NoData) => last = ResolveError::NoData,
            Err(err) => return Err(format!("could not resolve {name}: {err}")),
        }
    }
    Err(format!("could not resolve {name}: {last}"))
}

/// Connects, sends the request, and writes the response's body out;
/// returns the status.
fn fetch<D: Device + Waitable>(
    stack: &mut Stack<D>,
    settings: &Settings,
    local: IpAddr,
    remote: IpAddr,
    deadline: Instant,
) -> Result<u16, String> {
    let mut out: Box<dyn Write> = match &settings.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).map_err(|err| format!("{path}: {err}"))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let request = settings.url.request();
    let mut fetch = Fetch {
        conn: None,
        send: RingSendBuffer::new(vec![0; request.len()]),
        recv: RingRecvBuffer::with_gaps(vec![0; settings.buffer]),
        events: Vec::new(),
    };
    let started = now();
    let port = settings.url.port;
    let conn = stack
        .tcp
        .connect((local, 0), (remote, port), started)
        .map_err(|err| format!("connect to {remote} port {port}: {err}"))?;
    fetch.conn = Some(conn);
    fetch.send.write(request.as_bytes());
    say!(
        settings,
        "* connecting to {remote} port {port} from {local}"
    );
    for line in request.lines().filter(|l| !l.is_empty()) {
        say!(settings, "> {line}");
    }
    let mut reader = ResponseReader::default();
    let mut shown_head = false;
    let mut closing_since: Option<Instant> = None;
    loop {
        let moved = stack.poll(&mut ethox_examples::NoUdp, &mut fetch)?;
        // The bytes first: they came before any FIN.
        while !fetch.recv.is_empty() {
            let chunk = fetch.recv.readable();
            let n = chunk.len();
            reader
                .feed(chunk, &mut |body| out.write_all(body))
                .map_err(|err| format!("response: {err}"))?;
            fetch.recv.consume(n);
        }
        if let (false, Some(head)) = (shown_head, reader.head()) {
            shown_head = true;
            show_head(settings, head);
        }
        let at = now();
        for event in std::mem::take(&mut fetch.events) {
            match event {
                Event::Established => say!(settings, "* connected"),
                Event::PeerClosed => {
                    reader.finish().map_err(|err| format!("response: {err}"))?;
                    let _ = stack.tcp.close(conn);
                }
                Event::Closed(reason) if !reader.is_done() => {
                    return Err(format!("connection to {remote} port {port}: {reason:?}"));
                }
                _ => {}
            }
        }
        if reader.is_done() {
            if closing_since.is_none() {
                closing_since = Some(at);
                let _ = stack.tcp.close(conn);
                out.flush().map_err(|err| format!("output: {err}"))?;
                let secs = at.saturating_duration_since(started).as_secs_f64();
                say!(
                    settings,
                    "* {} bytes of body in {secs:.3} s ({:.1} MB/s)",
                    reader.body_len(),
                    reader.body_len() as f64 / secs.max(1e-6) / 1e6
                );
            }
            let state = stack.tcp.state(conn);
            let lingered = closing_since.is_some_and(|t| at >= t + LINGER);
            if matches!(state, State::Closed | State::TimeWait) || lingered {
                say!(settings, "* connection {state}");
                break;
            }
        }
        if at >= deadline {
            return Err(format!(
                "timed out after {:?} ({} bytes of body)",
                settings.timeout,
                reader.body_len()
            ));
        }
        if moved == 0 {
            let linger_end = closing_since.map(|t| t + LINGER);
            let wake = [Some(deadline), linger_end].into_iter().flatten().min();
            stack.wait(wake, IDLE_WAIT)?;
        }
    }
    out.flush().map_err(|err| format!("output: {err}"))?;
    Ok(reader.head().map_or(0, |head| head.status))
}

fn show_head(settings: &Settings, head: &Head) {
    say!(
        settings,
        "< {} {} {}",
        head.version,
        head.status,
        head.reason
    );
    for (name, value) in &head.fields {
        say!(settings, "< {name}: {value}");
    }
}

fn settings(args: &Args) -> Result<Settings, String> {
    let url = match args.positional() {
        [url] if !url.starts_with('-') => Url::parse(url)?,
        [] => return Err("no URL".into()),
        other => return Err(format!("one URL, please (got {other:?})")),
    };
    let dns = match args.value("--dns") {
        None => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| format!("--dns: cannot read {text:?}"))?,
        ),
    };
    Ok(Settings {
        url,
        dns,
        ipv6_only: args.has("--ipv6"),
        dhcp: args.has("--dhcp"),
        output: args.value("--output").map(str::to_string),
        timeout: Duration::from_secs_f64(args.parse_or("--timeout", 30.0f64)?.clamp(0.0, 1e9)),
        verbose: args.has("--verbose"),
        buffer: args.parse_or("--buffer", 262_144usize)?.max(1024),
    })
}

fn main() {
    let args = PROGRAM.parse_env_aliased(ALIASES);
    let settings = match settings(&args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("curl: {err}\n\n{}", PROGRAM.help());
            std::process::exit(2);
        }
    };
    let result = args.link().and_then(|mut link| {
        if settings.dhcp {
            link.ipv4 = None;
            link.gateway4 = None;
        }
        ethox_examples::open(&link, Run { settings })?
    });
    match result {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => {
            eprintln!("curl: the server answered {status}");
            std::process::exit(1);
        }
        Err(err) => {
            eprintln!("curl: {err}");
            std::process::exit(1);
        }
    }
}

/// Reading an HTTP/1.1 response (RFC 9112) as it arrives, in pieces of
/// any size.
mod http {
    use std::fmt;

    /// The longest line of the head or of a chunk's size.
    const MAX_LINE: usize = 8 * 1024;
    /// The most bytes of head, informational responses included.
    const MAX_HEAD: usize = 64 * 1024;

    /// Why a response could not be read.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum HttpError {
        /// Not a status line.
        StatusLine(String),
        /// A header field without a colon or with an empty name.
        Field(String),
        /// A line or the whole head too long.
        TooLong,
        /// Content-Length unreadable or given twice differently.
        ContentLength(String),
        /// A transfer coding other than chunked.
        TransferCoding(String),
        /// A chunk size that is not hexadecimal or does not fit 64 bits.
        ChunkSize(String),
        /// Chunk data not followed by CRLF.
        ChunkEnd,
        /// The connection closed before the response ended.
        CutShort { body: u64 },
        /// The connection closed before any response.
        Empty,
        /// Writing the body out failed.
        Output(String),
    }

    impl fmt::Display for HttpError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                HttpError::StatusLine(line) => write!(f, "bad status line {line:?}"),
                HttpError::Field(line) => write!(f, "bad header field {line:?}"),
                HttpError::TooLong => f.write_str("head too long"),
                HttpError::ContentLength(v) => write!(f, "bad Content-Length {v:?}"),
                HttpError::TransferCoding(v) => write!(f, "transfer coding {v:?} not supported"),
                HttpError::ChunkSize(v) => write!(f, "bad chunk size {v:?}"),
                HttpError::ChunkEnd => f.write_str("chunk data not followed by CRLF"),
                HttpError::CutShort { body } => write!(
                    f,
                    "the connection closed before the response ended ({body} bytes of body)"
                ),
                HttpError::Empty => f.write_str("the connection closed without a response"),
                HttpError::Output(err) => write!(f, "output: {err}"),
            }
        }
    }

    /// The status line and the header fields of the final response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Head {
        pub version: String,
        pub status: u16,
        pub reason: String,
        pub fields: Vec<(String, String)>,
    }

    impl Head {
        /// The values of every field named `name` (any case), each split at
        /// commas (RFC 9110 5.3 makes repeated fields one list).
        fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
            self.fields
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        }

        /// How the body is delimited (RFC 9112 6.3), for a response to a
        /// GET.
        fn framing(&self) -> Result<Phase, HttpError> {
            if (100..200).contains(&self.status) || self.status == 204 || self.status == 304 {
                return Ok(Phase::Done);
            }
            let codings: Vec<&str> = self.list("transfer-encoding").collect();
            if !codings.is_empty() {
                // Transfer-Encoding overrides Content-Length (6.3 point 3).
                return match codings.as_slice() {
                    [only] if only.eq_ignore_ascii_case("chunked") => Ok(Phase::ChunkSize),
                    _ => Err(HttpError::TransferCoding(codings.join(", "))),
                };
            }
            let mut length = None;
            for value in self.list("content-length") {
                let bad = || HttpError::ContentLength(value.to_string());
                if !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: u64 = value.parse().map_err(|_| bad())?;
                if length.is_some_and(|l| l != n) {
                    return Err(bad());
                }
                length = Some(n);
            }
            Ok(match length {
                Some(0) => Phase::Done,
                Some(n) => Phase::Length { left: n },
                None => Phase::UntilClose,
            })
        }

        fn parse(lines: &[String]) -> Result<Head, HttpError> {
            let (status_line, field_lines) = lines
                .split_first()
                .ok_or_else(|| HttpError::StatusLine(String::new()))?;
            let bad = || HttpError::StatusLine(status_line.clone());
            let (version, rest) = status_line.split_once(' ').ok_or_else(bad)?;
            if !version.starts_with("HTTP/1.") {
                return Err(bad());
            }
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let status = code.parse().map_err(|_| bad())?;
            let mut fields: Vec<(String, String)> = Vec::new();
            for line in field_lines {
                if line.starts_with([' ', '\t']) {
                    // Obsolete line folding (RFC 9112 5.2): one space.
                    let (_, value) = fields.last_mut().ok_or(HttpError::Field(line.clone()))?;
                    value.push(' ');
                    value.push_str(line.trim());
                    continue;
                }
                let (name, value) = line
                    .split_once(':')
                    .filter(|(n, _)| !n.is_empty() && !n.contains([' ', '\t']))
                    .ok_or_else(|| HttpError::Field(line.clone()))?;
                fields.push((name.to_string(), value.trim().to_string()));
            }
            Ok(Head {
                version: version.to_string(),
                status,
                reason: reason.to_string(),
                fields,
            })
        }
    }

    /// Where the reader is in the response.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    enum Phase {
        /// Reading the status line and header fields.
        #[default]
        Head,
        /// Body bytes left before the end.
        Length { left: u64 },
        /// Reading a chunk-size line.
        ChunkSize,
        /// Bytes of the chunk left.
        ChunkData { left: u64 },
        /// The CRLF after a chunk's data.
        ChunkEnd,
        /// Trailer fields, up to the empty line.
        Trailer,
        /// Everything until the connection closes.
        UntilClose,
        /// The response is complete.
        Done,
    }

    /// Reads one response: the head, then the body, handed out as it
    /// comes.
    #[derive(Debug, Default)]
    pub struct ResponseReader {
        phase: Phase,
        /// A line not complete yet.
        line: Vec<u8>,
        /// The lines of the head being read.
        head_lines: Vec<String>,
        head_bytes: usize,
        head: Option<Head>,
        body: u64,
        /// Bytes received at all.
        received: u64,
    }

    impl ResponseReader {
        /// The final response's head, once read.
        pub fn head(&self) -> Option<&Head> {
            self.head.as_ref()
        }

        /// Whether the response is complete.
        pub fn is_done(&self) -> bool {
            self.phase == Phase::Done
        }

        /// Body bytes handed out.
        pub fn body_len(&self) -> u64 {
            self.body
        }

        /// Takes the next bytes of the connection; body bytes go to
        /// `body`. Bytes after the end of the response are ignored.
        pub fn feed(
            &mut self,
            mut input: &[u8],
            body: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
        ) -> Result<(), HttpError> {
            self.received += input.len() as u64;
            while !input.is_empty() {
                match self.phase {
                    Phase::Head | Phase::ChunkSize | Phase::ChunkEnd | Phase::Trailer => {
                        let Some(line) = self.take_line(&mut input)? else {
                            break;
                        };
                        self.on_line(line)?;
                    }
                    Phase::Length { left } | Phase::ChunkData { left } => {
                        let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                        let (data, rest) = input.split_at(n);
                        self.give(data, body)?;
                        input = rest;
                        let left = left - n as u64;
                        self.phase = match (self.phase, left) {
                            (Phase::Length { .. }, 0) => Phase::Done,
                            (Phase::Length { .. }, _) => Phase::Length { left },
                            (_, 0) => Phase::ChunkEnd,
                            _ => Phase::ChunkData { left },
                        };
                    }
                    Phase::UntilClose => {
                        self.give(input, body)?;
                        input = &[];
                    }
                    Phase::Done => break,
                }
            }
            Ok(())
        }

        /// The connection closed: fine if that is how the body ends (or it
        /// ended already).
        pub fn finish(&mut self) -> Result<(), HttpError> {
            match self.phase {
                Phase::Done => Ok(()),
                Phase::UntilClose => {
                    self.phase = Phase::Done;
                    Ok(())
                }
                Phase::Head if self.received == 0 => Err(HttpError::Empty),
                _ => Err(HttpError::CutShort { body: self.body }),
            }
        }

        fn give(
            &mut self,
            data: &[u8],
            body: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
        ) -> Result<(), HttpError> {
            self.body += data.len() as u64;
            body(data).map_err(|err| HttpError::Output(err.to_string()))
        }

        /// A whole line from the buffered part and `input` (without its
        /// CRLF or LF), or `None` if `input` ended first (kept for later).
        fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<String>, HttpError> {
            let (piece, complete) = match input.iter().position(|&b| b == b'\n') {
                Some(at) => (&input[..at], true),
                None => (*input, false),
            };
            if self.line.len() + piece.len() > MAX_LINE {
                return Err(HttpError::TooLong);
            }
            self.line.extend_from_slice(piece);
            *input = input
                .get(piece.len() + usize::from(complete)..)
                .unwrap_or(&[]);
            if !complete {
                return Ok(None);
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if self.phase == Phase::Head {
                self.head_bytes += line.len() + 2;
                if self.head_bytes > MAX_HEAD {
                    return Err(HttpError::TooLong);
                }
            }
            // Field values may be Latin-1 (RFC 9110 5.5): shown, not used.
            Ok(Some(String::from_utf8_lossy(&line).into_owned()))
        }

        fn on_line(&mut self, line: String) -> Result<(), HttpError> {
            match self.phase {
                Phase::Head if line.is_empty() && self.head_lines.is_empty() => {
                    // Stray empty lines before the status line are skipped
                    // (RFC 9112 2.2).
                }
                Phase::Head if line.is_empty() => {
                    let head = Head::parse(&std::mem::take(&mut self.head_lines))?;
                    if (100..200).contains(&head.status) {
                        // Informational: the final response follows.
                        return Ok(());
                    }
                    self.phase = head.framing()?;
                    self.head = Some(head);
                }
                Phase::Head => self.head_lines.push(line),
                Phase::ChunkSize => {
                    // The size, then maybe extensions after ';' (7.1.1).
                    let size = line
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim_matches([' ', '\t']);
                    let bad = || HttpError::ChunkSize(line.clone());
                    if size.is_empty() || size.len() > 16 {
                        return Err(bad());
                    }
                    let size = u64::from_str_radix(size, 16).map_err(|_| bad())?;
                    self.phase = match size {
                        0 => Phase::Trailer,
                        left => Phase::ChunkData { left },
                    };
                }
                Phase::ChunkEnd if line.is_empty() => self.phase = Phase::ChunkSize,
                Phase::ChunkEnd => return Err(HttpError::ChunkEnd),
                Phase::Trailer if line.is_empty() => self.phase = Phase::Done,
                // Trailer fields are not needed here.
                Phase::Trailer => {}
                _ => {}
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Feeds `response` in pieces of `step` bytes; the head, the body
        /// and whether it is done, or the error.
        fn read(response: &[u8], step: usize) -> Result<(Head, Vec<u8>, bool), HttpError> {
            let mut reader = ResponseReader::default();
            let mut body = Vec::new();
            for piece in response.chunks(step) {
                reader.feed(piece, &mut |data| {
                    body.extend_from_slice(data);
                    Ok(())
                })?;
            }
            let done = reader.is_done();
            let head = reader.head().cloned().unwrap_or_default();
            Ok((head, body, done))
        }

        /// [`read`] at every step size from 1 to the whole, all agreeing.
        fn read_every_way(response: &[u8]) -> Result<(Head, Vec<u8>, bool), HttpError> {
            let whole = read(response, response.len().max(1));
            for step in 1..response.len() {
                assert_eq!(read(response, step), whole, "in pieces of {step}");
            }
            whole
        }

        #[test]
        fn content_length_ends_the_body() {
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhelloEXTRA";
            let (head, body, done) = read_every_way(response).unwrap();
            assert_eq!(head.status, 200);
            assert_eq!(head.reason, "OK");
            assert_eq!(head.fields[1], ("Server".into(), "x".into()));
            assert_eq!(body, b"hello");
            assert!(done);
        }

        #[test]
        fn chunked_with_extensions_and_trailers() {
            let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
Content-Length: 999\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\nA \r\n0123456789\r\n\
0\r\nChecksum: abc\r\n\r\nEXTRA";
            let (_, body, done) = read_every_way(response).unwrap();
            assert_eq!(body, b"hello 0123456789");
            assert!(done);
        }

        #[test]
        fn until_close_and_bare_line_feeds() {
            let response = b"\r\nHTTP/1.0 200 OK\nX-Folded: a\n  b\n\nall of it";
            let (head, body, done) = read_every_way(response).unwrap();
            assert_eq!(head.fields, [("X-Folded".into(), "a b".into())]);
            assert_eq!(body, b"all of it");
            assert!(!done);
            let mut reader = ResponseReader::default();
            reader.feed(response, &mut |_| Ok(())).unwrap();
            assert_eq!(reader.finish(), Ok(()));
            assert!(reader.is_done());
        }

        #[test]
        fn informational_responses_are_skipped_and_204_has_no_body() {
            let response = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\
Content-Length: 7\r\n\r\n";
            let (head, body, done) = read_every_way(response).unwrap();
            assert_eq!(head.status, 204);
            assert!(body.is_empty());
            assert!(done);
        }

        #[test]
        fn a_body_cut_short_is_an_error_at_close() {
            let mut reader = ResponseReader::default();
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
            reader.feed(response, &mut |_| Ok(())).unwrap();
            assert_eq!(reader.finish(), Err(HttpError::CutShort { body: 5 }));
            let mut chunked = ResponseReader::default();
            let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
            chunked.feed(response, &mut |_| Ok(())).unwrap();
            assert!(!chunked.is_done());
            assert_eq!(chunked.finish(), Err(HttpError::CutShort { body: 5 }));
            assert_eq!(ResponseReader::default().finish(), Err(HttpError::Empty));
        }

        #[test]
        fn hostile_heads_and_chunks_are_errors() {
            // Each response and the error it gives, by name.
            let cases: [(&[u8], &str); 9] = [
                (b"SSH-2.0-OpenSSH\r\n\r\n", "StatusLine"),
                (b"HTTP/1.1 2000 OK\r\n\r\n", "StatusLine"),
                (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "Field"),
                (
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                    "ContentLength",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                    "ContentLength",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                    "TransferCoding",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    "ChunkSize",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
                    "ChunkSize",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
                    "ChunkEnd",
                ),
            ];
            for (response, expected) in cases {
                let err = read(response, response.len()).unwrap_err();
                assert!(
                    format!("{err:?}").starts_with(expected),
                    "{err:?} for {:?}",
                    String::from_utf8_lossy(response)
                );
            }
        }

        #[test]
        fn heads_and_lines_are_bounded() {
            let mut long_line = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
            long_line.resize(long_line.len() + MAX_LINE, b'a');
            assert_eq!(read(&long_line, 1000).unwrap_err(), HttpError::TooLong);
            let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
            for _ in 0..MAX_HEAD / 10 {
                many.extend_from_slice(b"X: aaaaa\r\n");
            }
            assert_eq!(read(&many, 4096).unwrap_err(), HttpError::TooLong);
        }

        #[test]
        fn huge_lengths_do_not_overflow() {
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nab";
            let (_, body, done) = read(response, 7).unwrap();
            assert_eq!(body, b"ab");
            assert!(!done);
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n";
            assert!(matches!(
                read(response, 9).unwrap_err(),
                HttpError::ContentLength(_)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ethox::wire::Ipv6Addr;

    #[test]
    fn urls() {
        let url = Url::parse("http://files.test:8000/file?x=1#frag").unwrap();
        assert_eq!(url.host, Host::Name("files.test".into()));
        assert_eq!(url.port, 8000);
        assert_eq!(url.target, "/file?x=1");
        assert_eq!(url.authority, "files.test:8000");
        let url = Url::parse("HTTP://10.0.0.1").unwrap();
        assert_eq!(url.host, Host::Addr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!((url.port, url.target.as_str()), (80, "/"));
        let url = Url::parse("http://[fd00::1]:8080?q").unwrap();
        let v6 = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
        assert_eq!(url.host, Host::Addr(IpAddr::V6(v6)));
        assert_eq!((url.port, url.target.as_str()), (8080, "/?q"));
        assert!(
            url.request()
                .starts_with("GET /?q HTTP/1.1\r\nHost: [fd00::1]:8080\r\n")
        );
        assert!(url.request().ends_with("\r\n\r\n"));
    }

    #[test]
    fn bad_urls() {
        for url in [
            "https://x/",
            "files.test/file",
            "http://[fd00::1/",
            "http://[fd00::1]x/",
            "http://x:0/",
            "http://x:65536/",
            "http://user@x/",
            "http://a b/",
            "http:///path",
            "http://bad_name/",
        ] {
            assert!(Url::parse(url).is_err(), "{url}");
        }
    }
}
