//! An HTTP/1.1 server on ethox that serves one fixed body at `/`, built
//! for many keep-alive connections at once.
//!
//! Each connection's state is small and fixed: where the parser is in the
//! request it reads (a few dozen bytes: no request is ever stored, it is
//! parsed as the bytes arrive straight from the frame) and which responses
//! are queued (run-length coded, so a pipeline of a thousand identical
//! GETs is one entry). The responses are made once at start-up and shared
//! by every connection: a connection's send buffer produces the bytes of
//! its queued responses on demand from them, so nothing is copied per
//! connection and retransmissions read the same bytes again. The
//! connection table holds `--connections` entries, caller-sized as ethox's
//! tables are.
//!
//! What it answers (RFC 9110, RFC 9112):
//!
//! * `GET /` (a query string allowed): 200 with the body; `HEAD /` the
//!   same without the body;
//! * GET or HEAD of another path: 404; another method: 405 with `Allow`;
//! * keep-alive by default in HTTP/1.1, `Connection: close` honoured;
//!   HTTP/1.0 closes after the response unless it asked for keep-alive;
//!   pipelined requests are answered in order;
//! * a malformed request line or header, an HTTP/1.1 request without
//!   `Host`, or a bad `Content-Length`: 400; a head longer than
//!   `--max-header`: 431; a request body in chunked coding: 501; an HTTP
//!   version other than 1.x: 505; each of these closes the connection;
//! * a request body with a `Content-Length` is read and dropped;
//! * idle connections are closed after `--idle` seconds.
//!
//! The responses carry no `Date` header: they are fixed bytes, and a
//! queued response must read the same when it is retransmitted.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! cargo run --release --bin httpd -- --tap tap0 &
//! wrk -t1 -c100 -d3s http://10.0.0.2/
//! ```

use std::time::Duration;

use ethox::layer::tcp::buffer::{RecvBuffer, SendBuffer};
use ethox::layer::tcp::connection::Config as TcpConfig;
use ethox::layer::tcp::{Buffers, Event, Handle, Io};
use ethox::nic::Device;
use ethox::nic::sys::now;
use ethox::time::Instant;
use ethox_examples::cli::{Flag, Program};
use ethox_examples::{NoUdp, Sizes, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "httpd",
    usage: "",
    about: "An HTTP/1.1 server with keep-alive and pipelining that serves a fixed body at / \
(404 elsewhere, 400 for malformed requests), over IPv4 and IPv6, for thousands of connections \
from fixed tables.",
    flags: &[
        Flag {
            name: "--port",
            value: "N",
            help: "the TCP port",
            default: "80",
        },
        Flag {
            name: "--body",
            value: "BYTES",
            help: "the size of the body served at /",
            default: "128",
        },
        Flag {
            name: "--connections",
            value: "N",
            help: "TCP connection slots (the most connections at once)",
            default: "4096",
        },
        Flag {
            name: "--max-header",
            value: "BYTES",
            help: "the longest request head (request line and headers); longer gets 431",
            default: "8192",
        },
        Flag {
            name: "--idle",
            value: "S",
            help: "close a connection idle this many seconds",
            default: "60",
        },
    ],
    link: true,
};

/// The statuses the server answers with, in the order of [`Status`].
const STATUSES: [(u16, &str); 7] = [
    (200, "OK"),
    (400, "Bad Request"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (431, "Request Header Fields Too Large"),
    (501, "Not Implemented"),
    (505, "HTTP Version Not Supported"),
];

/// A response status, an index into [`STATUSES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok = 0,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    HeaderTooLarge,
    NotImplemented,
    VersionNotSupported,
}

/// What the response says about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persist {
    /// HTTP/1.1's default: nothing said, the connection stays.
    Default = 0,
    /// `Connection: keep-alive`, for an HTTP/1.0 client that asked.
    KeepAlive,
    /// `Connection: close`, and the server closes after it.
    Close,
}

/// One response the server can queue: its status, its connection header
/// and whether it is for HEAD (no body). Packed into one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind(u8);

impl Kind {
    const COUNT: usize = STATUSES.len() * 3 * 2;

    fn new(status: Status, persist: Persist, head: bool) -> Kind {
        Kind((status as u8 * 3 + persist as u8) * 2 + u8::from(head))
    }

    fn closes(self) -> bool {
        (self.0 / 2) % 3 == Persist::Close as u8
    }
}

/// Every response, made once: the status line and headers of each
/// [`Kind`] (an error's short body included), and the body of 200.
struct Responses {
    heads: Vec<Vec<u8>>,
    /// Whether the kind ends with the shared body.
    with_body: Vec<bool>,
    body: Vec<u8>,
}

impl Responses {
    fn new(body_len: usize) -> Responses {
        // Printable text, so that a person can read a response.
        let body: Vec<u8> = (0..body_len)
            .map(|i| {
                if i % 64 == 63 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        let mut heads = Vec::with_capacity(Kind::COUNT);
        let mut with_body = Vec::with_capacity(Kind::COUNT);
        for index in 0..Kind::COUNT {
            let head_only = index % 2 == 1;
            let persist = (index / 2) % 3;
            let (code, reason) = STATUSES[index / 6];
            let error_text = format!("{code} {reason}\n");
            let length = if code == 200 {
                body_len
            } else {
                error_text.len()
            };
            let mut text = format!(
                "HTTP/1.1 {code} {reason}\r\nServer: ethox-httpd\r\nContent-Type: text/plain\r\n\
Content-Length: {length}\r\n"
            );
            if code == 405 {
                text.push_str("Allow: GET, HEAD\r\n");
            }
            text.push_str(match persist {
                1 => "Connection: keep-alive\r\n",
                2 => "Connection: close\r\n",
                _ => "",
            });
            text.push_str("\r\n");
            if code != 200 && !head_only {
                text.push_str(&error_text);
            }
            heads.push(text.into_bytes());
            with_body.push(code == 200 && !head_only);
        }
        Responses {
            heads,
            with_body,
            body,
        }
    }

    /// The bytes of response `kind`.
    fn len(&self, kind: Kind) -> usize {
        let i = kind.0 as usize;
        self.heads[i].len()
            + if self.with_body[i] {
                self.body.len()
            } else {
                0
            }
    }

    /// Copies the bytes of response `kind` from `offset` on into `dst`;
    /// how many.
    fn copy(&self, kind: Kind, offset: usize, dst: &mut [u8]) -> usize {
        let i = kind.0 as usize;
        let head = &self.heads[i];
        let body: &[u8] = if self.with_body[i] { &self.body } else { &[] };
        let mut n = 0;
        if let Some(part) = head.get(offset..) {
            n = part.len().min(dst.len());
            dst[..n].copy_from_slice(&part[..n]);
        }
        let at = offset + n - head.len().min(offset + n);
        if let Some(part) = body.get(at..) {
            let m = part.len().min(dst.len() - n);
            dst[n..n + m].copy_from_slice(&part[..m]);
            n += m;
        }
        n
    }
}

/// Runs of queued responses a connection holds: a new run starts when
/// the kind changes.
const RUNS: usize = 4;

/// The most responses one connection may have queued; then it stops
/// reading requests until they are acknowledged.
const MAX_QUEUED: u32 = 1024;

/// Responses in order, run-length coded.
#[derive(Debug, Clone, Copy, Default)]
struct Queue {
    runs: [(u8, u32); RUNS],
    used: usize,
    total: u32,
}

impl Queue {
    /// The kind of the last response queued.
    fn last(&self) -> Option<Kind> {
        self.used.checked_sub(1).map(|i| Kind(self.runs[i].0))
    }

    /// Queues `count` responses of `kind`; false if a new run was needed
    /// and none was free.
    fn push(&mut self, kind: Kind, count: u32) -> bool {
        if count == 0 {
            return true;
        }
        if self.last() == Some(kind) {
            self.runs[self.used - 1].1 += count;
        } else if self.used < RUNS {
            self.runs[self.used] = (kind.0, count);
            self.used += 1;
        } else {
            return false;
        }
        self.total += count;
        true
    }

    /// Moves every response of `other` to the end of this queue (the
    /// caller made sure they fit).
    fn append(&mut self, other: &mut Queue) {
        for &(kind, count) in &other.runs[..other.used] {
            self.push(Kind(kind), count);
        }
        *other = Queue::default();
    }
}

/// The send side of a connection: its queued responses, produced from
/// the shared [`Responses`].
struct Outgoing {
    responses: &'static Responses,
    queue: Queue,
    /// Bytes of the first queued response already acknowledged.
    acked: usize,
}

impl SendBuffer for Outgoing {
    fn len(&self) -> usize {
        let queue = &self.queue;
        let all: usize = queue.runs[..queue.used]
            .iter()
            .map(|&(kind, count)| self.responses.len(Kind(kind)) * count as usize)
            .sum();
        all - self.acked
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let mut position = self.acked + offset;
        let mut written = 0;
        for &(kind, count) in &self.queue.runs[..self.queue.used] {
            let kind = Kind(kind);
            let each = self.responses.len(kind);
            let span = each * count as usize;
            if position >= span {
                position -= span;
                continue;
            }
            // Inside this run: response by response.
            while position < span && written < dst.len() {
                let n = self
                    .responses
                    .copy(kind, position % each, &mut dst[written..]);
                written += n;
                position += n;
            }
            if written == dst.len() {
                break;
            }
            position = 0;
        }
        written
    }

    fn acknowledge(&mut self, n: usize) {
        self.acked += n;
        let queue = &mut self.queue;
        while queue.used > 0 {
            let (kind, count) = queue.runs[0];
            let each = self.responses.len(Kind(kind));
            let done = (self.acked / each).min(count as usize) as u32;
            self.acked -= done as usize * each;
            queue.total -= done;
            if done < count {
                queue.runs[0].1 = count - done;
                break;
            }
            queue.runs.copy_within(1.., 0);
            queue.used -= 1;
        }
    }
}

/// Where the request parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before a request (empty lines are skipped, RFC 9112 2.2).
    Start,
    StartLf,
    Method,
    Target,
    Version,
    RequestLineLf,
    /// At the start of a header line, or of the empty line.
    Line,
    Name,
    Value,
    ValueLf,
    EndLf,
    /// Skipping a request body.
    Body,
    /// The connection is closing: everything is dropped.
    Dead,
}

/// Which header's value is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header {
    Other,
    Host,
    Connection,
    ContentLength,
    TransferEncoding,
}

/// The receive side of a connection: a request parser that reads bytes
/// as they come, and the responses it has decided on since the send side
/// last took them.
#[derive(Debug, Clone)]
struct Parser {
    at: At,
    max_head: u32,
    /// Bytes of the current request's head so far.
    head_len: u32,
    method: [u8; 8],
    method_len: u8,
    /// The path (before any `?`) is exactly `/`, so far.
    root: bool,
    path_len: u32,
    target_len: u32,
    in_query: bool,
    version: [u8; 8],
    version_len: u8,
    name: [u8; 20],
    name_len: u8,
    header: Header,
    token: [u8; 12],
    token_len: u8,
    has_host: bool,
    close: bool,
    keep_alive: bool,
    chunked: bool,
    length: Option<u64>,
    /// The digits of the Content-Length value being read.
    digits: Option<u64>,
    body_left: u64,
    /// Responses decided and not yet handed to the send side.
    pending: Queue,
    /// A response decided when the send side had no room for it: the
    /// parser takes no more bytes until it is queued.
    stalled: Option<Kind>,
    /// What the send side can still take: free runs, responses; and the
    /// kind it ends with (set when the buffers are lent).
    room_runs: usize,
    room_total: u32,
    last_kind: Option<Kind>,
}

/// Token characters (RFC 9110 5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Parser {
    fn new(max_head: u32) -> Parser {
        Parser {
            at: At::Start,
            max_head,
            head_len: 0,
            method: [0; 8],
            method_len: 0,
            root: false,
            path_len: 0,
            target_len: 0,
            in_query: false,
            version: [0; 8],
            version_len: 0,
            name: [0; 20],
            name_len: 0,
            header: Header::Other,
            token: [0; 12],
            token_len: 0,
            has_host: false,
            close: false,
            keep_alive: false,
            chunked: false,
            length: None,
            digits: None,
            body_left: 0,
            pending: Queue::default(),
            stalled: None,
            room_runs: RUNS,
            room_total: MAX_QUEUED,
            last_kind: None,
        }
    }

    /// Starts the next request.
    fn reset(&mut self) {
        *self = Parser {
            pending: self.pending,
            stalled: self.stalled,
            room_runs: self.room_runs,
            room_total: self.room_total,
            last_kind: self.last_kind,
            ..Parser::new(self.max_head)
        };
    }

    /// Queues a response, or holds it (and stops reading) while the send
    /// side has no room.
    fn respond(&mut self, kind: Kind) {
        let new_run = self.last_kind != Some(kind);
        if self.room_total == 0 || (new_run && self.room_runs == 0) {
            self.stalled = Some(kind);
            return;
        }
        if new_run {
            self.room_runs -= 1;
        }
        self.room_total -= 1;
        self.last_kind = Some(kind);
        let _ = self.pending.push(kind, 1);
    }

    /// Lets a stalled response go to `queue` if it has room now.
    fn unstall(&mut self, queue: &mut Queue) {
        if let Some(kind) = self.stalled
            && queue.total < MAX_QUEUED
            && queue.push(kind, 1)
        {
            self.stalled = None;
        }
    }

    /// Answers with an error and closes.
    fn fail(&mut self, status: Status) {
        self.respond(Kind::new(status, Persist::Close, false));
        self.at = At::Dead;
    }

    fn method(&self) -> &[u8] {
        &self.method[..self.method_len as usize]
    }

    /// The response to the request whose head just ended.
    fn decide(&mut self) {
        let version = self.version;
        let valid = self.version_len == 8
            && version.starts_with(b"HTTP/")
            && version[5].is_ascii_digit()
            && version[6] == b'.'
            && version[7].is_ascii_digit();
        if !valid {
            return self.fail(Status::BadRequest);
        }
        if version[5] != b'1' {
            return self.fail(Status::VersionNotSupported);
        }
        let http10 = version[7] == b'0';
        if self.chunked {
            return self.fail(Status::NotImplemented);
        }
        if !http10 && !self.has_host {
            return self.fail(Status::BadRequest);
        }
        let head = self.method() == b"HEAD";
        let status = match (self.method() == b"GET" || head, self.root) {
            (true, true) => Status::Ok,
            (true, false) => Status::NotFound,
            (false, _) => Status::MethodNotAllowed,
        };
        let persist = match (http10, self.close, self.keep_alive) {
            (_, true, _) | (true, false, false) => Persist::Close,
            (true, false, true) => Persist::KeepAlive,
            (false, false, _) => Persist::Default,
        };
        let kind = Kind::new(status, persist, head);
        self.respond(kind);
        self.body_left = self.length.unwrap_or(0);
        if kind.closes() {
            self.at = At::Dead;
        } else if self.body_left > 0 {
            self.at = At::Body;
        } else {
            self.reset();
        }
    }

    /// The end of a header's value.
    fn end_value(&mut self) {
        match self.header {
            Header::Connection => self.end_token(),
            Header::ContentLength => match (self.digits, self.length) {
                (Some(n), None) => self.length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                // Empty, or two that differ (RFC 9112 6.3 item 5).
                _ => return self.fail(Status::BadRequest),
            },
            _ => {}
        }
        self.at = At::Line;
    }

    /// The end of a token in a Connection header.
    fn end_token(&mut self) {
        match &self.token[..self.token_len as usize] {
            b"close" => self.close = true,
            b"keep-alive" => self.keep_alive = true,
            _ => {}
        }
        self.token_len = 0;
    }

    /// One byte of a header's value.
    fn value_byte(&mut self, b: u8) {
        match self.header {
            Header::Connection => {
                if b == b',' || b == b' ' || b == b'\t' {
                    self.end_token();
                } else if (self.token_len as usize) < self.token.len() {
                    self.token[self.token_len as usize] = b.to_ascii_lowercase();
                    self.token_len += 1;
                } else {
                    // Longer than any token we know: matches none.
                    self.token[0] = b'!';
                }
            }
            Header::ContentLength => match b {
                b'0'..=b'9' => {
                    let n = self
                        .digits
                        .unwrap_or(0)
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(b - b'0')));
                    match n {
                        Some(n) => self.digits = Some(n),
                        None => self.fail(Status::BadRequest),
                    }
                }
                b' ' | b'\t' => {}
                _ => self.fail(Status::BadRequest),
            },
            Header::TransferEncoding => self.chunked = true,
            Header::Host | Header::Other => {}
        }
    }

    /// The header whose name was just read.
    fn classify_name(&mut self) {
        self.header = match &self.name[..self.name_len as usize] {
            b"host" => Header::Host,
            b"connection" => Header::Connection,
            b"content-length" => Header::ContentLength,
            b"transfer-encoding" => Header::TransferEncoding,
            _ => Header::Other,
        };
        if self.header == Header::Host {
            self.has_host = true;
        }
        self.token_len = 0;
        self.digits = None;
    }

    /// Feeds `data`; returns how many bytes were taken (fewer when a
    /// response stalled on a full queue).
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut i = 0;
        while i < data.len() {
            if self.stalled.is_some() {
                return i;
            }
            match self.at {
                At::Dead => return data.len(),
                At::Body => {
                    let n = (data.len() - i).min(self.body_left.min(usize::MAX as u64) as usize);
                    self.body_left -= n as u64;
                    i += n;
                    if self.body_left == 0 {
                        self.reset();
                    }
                    continue;
                }
                _ => {}
            }
            let b = data[i];
            i += 1;
            if self.at != At::Start && self.at != At::StartLf {
                self.head_len += 1;
                if self.head_len > self.max_head {
                    self.fail(Status::HeaderTooLarge);
                    continue;
                }
            }
            self.byte(b);
        }
        i
    }

    /// One byte of a request head.
    fn byte(&mut self, b: u8) {
        match self.at {
            At::Start => match b {
                b'\r' => self.at = At::StartLf,
                b'\n' => {}
                b if is_tchar(b) => {
                    self.at = At::Method;
                    self.head_len = 1;
                    self.method[0] = b;
                    self.method_len = 1;
                }
                _ => self.fail(Status::BadRequest),
            },
            At::StartLf => match b {
                b'\n' => self.at = At::Start,
                _ => self.fail(Status::BadRequest),
            },
            At::Method => match b {
                b' ' => self.at = At::Target,
                b if is_tchar(b) => {
                    if (self.method_len as usize) < self.method.len() {
                        self.method[self.method_len as usize] = b;
                        self.method_len += 1;
                    } else {
                        // Longer than any method we serve.
                        self.method[0] = b'!';
                    }
                }
                _ => self.fail(Status::BadRequest),
            },
            At::Target => match b {
                b' ' if self.target_len > 0 => self.at = At::Version,
                b if b > b' ' && b != 0x7f => {
                    if b == b'?' {
                        self.in_query = true;
                    } else if !self.in_query {
                        self.path_len += 1;
                        self.root = self.path_len == 1 && b == b'/';
                    }
                    self.target_len += 1;
                }
                _ => self.fail(Status::BadRequest),
            },
            At::Version => match b {
                b'\r' => self.at = At::RequestLineLf,
                b'\n' => self.at = At::Line,
                _ if (self.version_len as usize) < self.version.len() => {
                    self.version[self.version_len as usize] = b;
                    self.version_len += 1;
                }
                _ => self.fail(Status::BadRequest),
            },
            At::RequestLineLf => match b {
                b'\n' => self.at = At::Line,
                _ => self.fail(Status::BadRequest),
            },
            At::Line => match b {
                b'\r' => self.at = At::EndLf,
                b'\n' => self.decide(),
                b if is_tchar(b) => {
                    self.at = At::Name;
                    self.name[0] = b.to_ascii_lowercase();
                    self.name_len = 1;
                }
                // A folded line (obs-fold) or junk.
                _ => self.fail(Status::BadRequest),
            },
            At::Name => match b {
                b':' => {
                    self.classify_name();
                    self.at = At::Value;
                }
                b if is_tchar(b) => {
                    if (self.name_len as usize) < self.name.len() {
                        self.name[self.name_len as usize] = b.to_ascii_lowercase();
                        self.name_len += 1;
                    } else {
                        // Longer than any name we look at.
                        self.name[0] = b'!';
                    }
                }
                // Whitespace before the colon is forbidden (RFC 9112 5.1).
                _ => self.fail(Status::BadRequest),
            },
            At::Value => match b {
                b'\r' => self.at = At::ValueLf,
                b'\n' => self.end_value(),
                b'\t' => self.value_byte(b),
                b if b < b' ' || b == 0x7f => self.fail(Status::BadRequest),
                b => self.value_byte(b),
            },
            At::ValueLf => match b {
                b'\n' => self.end_value(),
                _ => self.fail(Status::BadRequest),
            },
            At::EndLf => match b {
                b'\n' => self.decide(),
                _ => self.fail(Status::BadRequest),
            },
            At::Body | At::Dead => {}
        }
    }
}

/// The window a connection advertises: requests are small, and it holds
/// no bytes (they are parsed as they come).
const WINDOW: usize = 16 * 1024;

impl RecvBuffer for Parser {
    fn window(&self) -> usize {
        if self.stalled.is_some() { 0 } else { WINDOW }
    }

    fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if offset != 0 {
            return 0;
        }
        let data = data.get(..WINDOW).unwrap_or(data);
        self.feed(data)
    }
}

/// One connection: its handle, its two sides, and when it was last
/// heard from.
struct Conn {
    handle: Handle,
    out: Outgoing,
    parser: Parser,
    last: Instant,
    /// A closing response was queued and our close asked for.
    closing: bool,
}

/// The TCP application: connections by table slot.
struct Http {
    responses: &'static Responses,
    conns: Vec<Option<Conn>>,
    max_head: u32,
    /// Connections that just became established: accept them.
    established: usize,
    /// Connections whose peer closed, or that queued a closing response.
    to_close: Vec<Handle>,
    now: Instant,
}

impl Http {
    fn get(&mut self, handle: Handle) -> Option<&mut Conn> {
        self.conns
            .get_mut(handle.index as usize)?
            .as_mut()
            .filter(|c| c.handle == handle)
    }
}

impl Io for Http {
    fn buffers(&mut self, conn: Handle) -> Option<Buffers<'_>> {
        let c = self.get(conn)?;
        // The parser's new responses go to the send side, and the parser
        // learns how many more the send side can take.
        c.out.queue.append(&mut c.parser.pending);
        c.parser.unstall(&mut c.out.queue);
        c.parser.room_runs = RUNS - c.out.queue.used;
        c.parser.room_total = MAX_QUEUED.saturating_sub(c.out.queue.total);
        c.parser.last_kind = c.out.queue.last();
        // A closing response is queued: the connection closes after it.
        let close = c.parser.at == At::Dead && c.parser.stalled.is_none() && !c.closing;
        c.closing |= close;
        if close {
            self.to_close.push(conn);
        }
        let c = self.get(conn)?;
        Some(Buffers {
            send: &mut c.out,
            recv: &mut c.parser,
        })
    }

    fn event(&mut self, conn: Handle, event: Event) {
        let now = self.now;
        match event {
            Event::Incoming => {
                let (responses, max_head) = (self.responses, self.max_head);
                if let Some(slot) = self.conns.get_mut(conn.index as usize) {
                    *slot = Some(Conn {
                        handle: conn,
                        out: Outgoing {
                            responses,
                            queue: Queue::default(),
                            acked: 0,
                        },
                        parser: Parser::new(max_head),
                        last: now,
                        closing: false,
                    });
                }
            }
            Event::Established => self.established += 1,
            Event::Readable => {
                if let Some(c) = self.get(conn) {
                    c.last = now;
                }
            }
            Event::PeerClosed => self.to_close.push(conn),
            Event::Closed(_) => {
                if let Some(slot) = self.conns.get_mut(conn.index as usize)
                    && slot.as_ref().is_some_and(|c| c.handle == conn)
                {
                    *slot = None;
                }
            }
            _ => {}
        }
    }
}

struct Run {
    port: u16,
    http: Http,
    idle: Duration,
}

impl StackRunner for Run {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(mut self, mut stack: Stack<D>) -> Result<(), String> {
        let port = self.port;
        let backlog = self.http.conns.len();
        stack
            .tcp
            .listen(port, backlog)
            .map_err(|err| format!("TCP port {port}: {err}"))?;
        let addrs: Vec<String> = stack.ip.addrs().map(|a| a.to_string()).collect();
        println!(
            "httpd: ready on {} port {port} ({}), {} connection slots, {}-byte body",
            addrs.join(", "),
            stack.link.nic,
            self.http.conns.len(),
            self.http.responses.body.len()
        );
        let mut sweep = now();
        loop {
            self.http.now = now();
            let moved = stack.poll(&mut NoUdp, &mut self.http)?;
            // Accept only when something is there to take: accept looks
            // at the whole table.
            while self.http.established > 0 {
                self.http.established -= 1;
                if stack.tcp.accept(port).is_none() {
                    self.http.established = 0;
                }
            }
            for handle in std::mem::take(&mut self.http.to_close) {
                // The last responses go to the send side first: the FIN
                // follows what is queued there.
                if let Some(c) = self.http.get(handle) {
                    c.out.queue.append(&mut c.parser.pending);
                }
                let _ = stack.tcp.close(handle);
            }
            let at = now();
            if at >= sweep {
                sweep = at + Duration::from_secs(1);
                for c in self.http.conns.iter().flatten() {
                    if at.saturating_duration_since(c.last) > self.idle {
                        let _ = stack.tcp.close(c.handle);
                    }
                }
            }
            if stack.link.pcap.is_some() {
                stack.flush_capture();
            }
            if moved == 0 {
                stack.wait(Some(sweep), Duration::from_millis(100))?;
            }
        }
    }
}

fn main() {
    let args = PROGRAM.parse_env();
    let result = (|| {
        if let Some(arg) = args.positional().first() {
            return Err(format!("unexpected argument {arg:?}\n\n{}", PROGRAM.help()));
        }
        let link = args.link()?;
        let connections: usize = args.parse_or("--connections", 4096)?;
        if connections == 0 {
            return Err("--connections: at least 1".into());
        }
        let body: usize = args.parse_or("--body", 128)?;
        let max_head: u32 = args.parse_or("--max-header", 8192)?;
        let idle = args.secs("--idle")?.unwrap_or(Duration::from_secs(60));
        // Made once, shared by every connection for the program's life.
        let responses: &'static Responses = Box::leak(Box::new(Responses::new(body)));
        let http = Http {
            responses,
            conns: (0..connections).map(|_| None).collect(),
            max_head,
            established: 0,
            to_close: Vec::new(),
            now: now(),
        };
        let sizes = Sizes {
            udp_ports: 1,
            tcp_connections: connections,
            tcp_listeners: 1,
        };
        let mut tcp_config = TcpConfig::default();
        // A response is written whole: send it at once.
        tcp_config.nagle = false;
        let run = Run {
            port: args.parse_or("--port", 80)?,
            http,
            idle,
        };
        ethox_examples::open_sized(&link, sizes, tcp_config, run)?
    })();
    if let Err(err) = result {
        eprintln!("httpd: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responses() -> &'static Responses {
        Box::leak(Box::new(Responses::new(10)))
    }

    /// Feeds `input` in pieces of `step` bytes and returns the response
    /// kinds decided, in order.
    fn parse(input: &[u8], step: usize) -> (Vec<Kind>, At) {
        let mut parser = Parser::new(200);
        let mut kinds = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = rest.len().min(step);
            let taken = parser.feed(&rest[..n]);
            rest = &rest[taken..];
            for &(kind, count) in &parser.pending.runs[..parser.pending.used] {
                kinds.extend(std::iter::repeat_n(Kind(kind), count as usize));
            }
            // The send side took them all, and the one that stalled.
            let stalled = parser.stalled.take();
            assert!(taken == n || stalled.is_some(), "stopped without a stall");
            kinds.extend(stalled);
            parser.pending = Queue::default();
            parser.room_runs = RUNS;
            parser.room_total = MAX_QUEUED;
            parser.last_kind = kinds.last().copied();
        }
        (kinds, parser.at)
    }

    fn ok(persist: Persist) -> Kind {
        Kind::new(Status::Ok, persist, false)
    }

    #[test]
    fn requests_whole_and_byte_by_byte() {
        let pipelined = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n\
HEAD /?q=1 HTTP/1.1\r\nhost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\
GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        for step in [1, 7, pipelined.len()] {
            let (kinds, at) = parse(pipelined, step);
            assert_eq!(
                kinds,
                [
                    ok(Persist::Default),
                    Kind::new(Status::NotFound, Persist::Default, false),
                    Kind::new(Status::Ok, Persist::Default, true),
                    Kind::new(Status::MethodNotAllowed, Persist::Default, false),
                    ok(Persist::Close),
                ],
                "step {step}"
            );
            assert_eq!(at, At::Dead, "the close ends the connection's requests");
        }
    }

    #[test]
    fn http10_and_bad_requests() {
        let cases: &[(&[u8], Kind)] = &[
            (b"GET / HTTP/1.0\r\n\r\n", ok(Persist::Close)),
            (
                b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                ok(Persist::KeepAlive),
            ),
            (b"\r\nGET / HTTP/1.1\nHost: a\n\n", ok(Persist::Default)),
            (
                b"GET / HTTP/1.1\r\n\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"GET  / HTTP/1.1\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"GET / HTTP/1.1\r\nHost : a\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"GET / HTTP/2.0\r\n\r\n",
                Kind::new(Status::VersionNotSupported, Persist::Close, false),
            ),
            (
                b"GET / HTTX/1.1\r\n\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"\x16\x03\x01",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
                Kind::new(Status::NotImplemented, Persist::Close, false),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n",
                Kind::new(Status::BadRequest, Persist::Close, false),
            ),
        ];
        for (input, kind) in cases {
            let (kinds, _) = parse(input, 1);
            assert_eq!(kinds, [*kind], "{}", String::from_utf8_lossy(input));
        }
        let long = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 300]].concat();
        let (kinds, at) = parse(&long, 13);
        assert_eq!(
            kinds,
            [Kind::new(Status::HeaderTooLarge, Persist::Close, false)]
        );
        assert_eq!(at, At::Dead);
    }

    #[test]
    fn responses_are_read_from_the_shared_templates() {
        let r = responses();
        let mut out = Outgoing {
            responses: r,
            queue: Queue::default(),
            acked: 0,
        };
        assert!(out.queue.push(ok(Persist::Default), 3));
        let not_found = Kind::new(Status::NotFound, Persist::Close, false);
        assert!(out.queue.push(not_found, 1));
        let each = r.len(ok(Persist::Default));
        assert_eq!(out.len(), 3 * each + r.len(not_found));
        let mut all = vec![0u8; out.len()];
        assert_eq!(out.read_at(0, &mut all), all.len());
        let text = String::from_utf8(all.clone()).unwrap();
        assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 3);
        assert!(
            text.contains("Content-Length: 10\r\n\r\nabcdefghij"),
            "{text}"
        );
        assert!(
            text.ends_with("Connection: close\r\n\r\n404 Not Found\n"),
            "{text}"
        );
        // Any range reads the same again, across responses.
        let mut part = vec![0u8; each + 5];
        assert_eq!(out.read_at(each - 3, &mut part), part.len());
        assert_eq!(part, all[each - 3..2 * each + 2]);
        out.acknowledge(each + 4);
        assert_eq!(out.queue.total, 3);
        assert_eq!(out.len(), all.len() - each - 4);
        let mut rest = vec![0u8; out.len()];
        out.read_at(0, &mut rest);
        assert_eq!(rest, all[each + 4..]);
        out.acknowledge(rest.len());
        assert_eq!((out.len(), out.queue.used, out.queue.total), (0, 0, 0));
    }

    #[test]
    fn a_full_queue_stalls_the_parser_until_there_is_room() {
        let mut parser = Parser::new(200);
        parser.room_runs = 1;
        parser.room_total = 2;
        let three = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3);
        // Two fit; the third is read and its response held.
        assert_eq!(parser.feed(&three), three.len());
        assert_eq!(parser.pending.total, 2);
        assert_eq!(parser.stalled, Some(ok(Persist::Default)));
        assert_eq!(parser.window(), 0);
        assert_eq!(parser.feed(b"GET"), 0);
        let mut queue = Queue::default();
        queue.append(&mut parser.pending);
        parser.unstall(&mut queue);
        assert_eq!((queue.total, queue.used, parser.stalled), (3, 1, None));
        assert_eq!(parser.feed(b"GET"), 3);
    }

    #[test]
    fn kinds_pack_and_unpack() {
        let r = responses();
        assert_eq!(r.heads.len(), Kind::COUNT);
        for (status, code) in [(Status::Ok, "200"), (Status::VersionNotSupported, "505")] {
            for persist in [Persist::Default, Persist::KeepAlive, Persist::Close] {
                let kind = Kind::new(status, persist, true);
                let head = String::from_utf8_lossy(&r.heads[kind.0 as usize]);
                assert!(head.starts_with(&format!("HTTP/1.1 {code} ")), "{head}");
                assert_eq!(kind.closes(), persist == Persist::Close);
                assert_eq!(head.contains("close"), persist == Persist::Close);
                assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
            }
        }
    }
}
