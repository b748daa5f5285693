//! `tcpdump` on ethox: one line per frame, as `ethox::wire::pretty`
//! describes it, from a live interface or a capture file.
//!
//! * `-i IFACE`: captures through an `AF_PACKET` socket on the interface
//!   (both directions: [`RawSocket::set_outgoing`]; promiscuous unless
//!   `-p`). No stack runs: the frames are only looked at.
//! * `-r FILE`: reads a pcap file (Ethernet or raw IP) instead.
//! * `-w FILE`: writes the frames to a pcap file (then nothing is printed
//!   unless `--print`); with `-r`, copies the file (the first `-c`
//!   frames).
//!
//! Timestamps print as the time of day in UTC with microseconds (tcpdump
//! prints local time).
//!
//! ```sh
//! tcpdump -i tap0 -c 10
//! tcpdump -i veth0 -w trace.pcap && tcpdump -r trace.pcap
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ethox::nic::sys::RawSocket;
use ethox::nic::{Device, Packet, Payload, Recv};
use ethox::wire::pcap::{IoSink, LinkType, PcapReader, PcapWriter, TimestampResolution};
use ethox::wire::pretty::{PrettyFrame, PrettyIp};
use ethox_examples::cli::{Args, Flag, Program};

const PROGRAM: Program = Program {
    name: "tcpdump",
    usage: "",
    about: "Prints a line per frame (time of day in UTC, then what the frame is) captured live \
on an interface through an AF_PACKET socket (-i), or read from a pcap file (-r); writes the \
frames to a pcap file with -w. Needs CAP_NET_RAW for -i.",
    flags: &[
        Flag {
            name: "--interface",
            value: "IFACE",
            help: "capture live on IFACE (also -i)",
            default: "",
        },
        Flag {
            name: "--read",
            value: "FILE",
            help: "read frames from a pcap file instead (also -r)",
            default: "",
        },
        Flag {
            name: "--write",
            value: "FILE",
            help: "write the frames to a pcap file, not to the screen (also -w)",
            default: "",
        },
        Flag {
            name: "--print",
            value: "",
            help: "print the frames even while writing them",
            default: "",
        },
        Flag {
            name: "--count",
            value: "N",
            help: "stop after N frames (also -c)",
            default: "no limit",
        },
        Flag {
            name: "--timeout",
            value: "S",
            help: "stop a live capture after S seconds",
            default: "no limit",
        },
        Flag {
            name: "--link-header",
            value: "",
            help: "print the MAC addresses too (also -e)",
            default: "",
        },
        Flag {
            name: "--no-promiscuous",
            value: "",
            help: "do not put the interface in promiscuous mode (also -p)",
            default: "",
        },
    ],
    link: false,
};

/// tcpdump's short flags.
const ALIASES: &[(&str, &str)] = &[
    ("-i", "--interface"),
    ("-r", "--read"),
    ("-w", "--write"),
    ("-c", "--count"),
    ("-e", "--link-header"),
    ("-p", "--no-promiscuous"),
];

/// Buffers of the live socket: each holds the largest frame an
/// `AF_PACKET` buffer can (so any interface MTU up to 65521 works).
const LIVE_SLOTS: usize = 32;
const LIVE_FRAME: usize = 65_535;

/// How long a live capture sleeps at most before it looks at the clock.
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// A pcap file being written.
type FileWriter = PcapWriter<IoSink<BufWriter<File>>>;

/// Where the frames go: the screen, a file, or both.
struct Output {
    screen: Option<BufWriter<std::io::Stdout>>,
    file: Option<FileWriter>,
    link_header: bool,
    /// Frames handled.
    count: u64,
    /// The first write that failed; the capture stops with it.
    error: Option<String>,
}

impl Output {
    /// Takes one frame (`data`, of `orig_len` bytes on the wire) seen at
    /// `timestamp` since the Unix epoch.
    fn frame(&mut self, timestamp: Duration, data: &[u8], orig_len: u32, link: LinkType) {
        self.count += 1;
        if let Some(file) = &mut self.file {
            let stored = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let record = ethox::wire::pcap::PcapRecord {
                timestamp_secs: u32::try_from(timestamp.as_secs()).unwrap_or(u32::MAX),
                timestamp_nanos: timestamp.subsec_nanos(),
                orig_len: orig_len.max(stored),
                data,
            };
            if let Err(err) = file.write_record(&record) {
                self.error.get_or_insert(format!("write: {err}"));
            }
        }
        if let Some(screen) = &mut self.screen {
            let time = time_of_day(timestamp);
            let written = match link {
                LinkType::Raw => writeln!(screen, "{time} {}", PrettyIp::new(data)),
                _ => writeln!(
                    screen,
                    "{time} {}",
                    PrettyFrame::new(data).with_link_header(self.link_header)
                ),
            };
            if let Err(err) = written {
                self.error.get_or_insert(format!("stdout: {err}"));
            }
        }
    }

    /// Hands what is buffered to the screen and the file.
    fn flush(&mut self) {
        if let Some(Err(err)) = self.screen.as_mut().map(|s| s.flush()) {
            self.error.get_or_insert(format!("stdout: {err}"));
        }
        if let Some(Err(err)) = self.file.as_mut().map(|f| f.sink_mut().0.flush()) {
            self.error.get_or_insert(format!("write: {err}"));
        }
    }
}

/// `HH:MM:SS.uuuuuu` in UTC.
fn time_of_day(timestamp: Duration) -> String {
    let secs = timestamp.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        timestamp.subsec_micros()
    )
}

/// The live capture's receiver: every lent frame to the output, stamped
/// with the wall clock.
struct Live<'o>(&'o mut Output);

impl<D: Device> Recv<D> for Live<'_> {
    fn receive(&mut self, packet: Packet<'_, '_, D>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let data = packet.payload.payload();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.0.frame(now, data, len, LinkType::Ethernet);
    }
}

/// What to capture and where to put it.
struct Settings {
    count: Option<u64>,
    timeout: Option<Duration>,
    promiscuous: bool,
    print: bool,
    write: Option<String>,
    link_header: bool,
}

impl Settings {
    fn from_args(args: &Args) -> Result<Settings, String> {
        let count = match args.value("--count") {
            None => None,
            Some(_) => Some(args.parse_or("--count", 0u64)?),
        };
        let timeout = match args.value("--timeout") {
            None => None,
            Some(_) => Some(Duration::from_secs_f64(
                args.parse_or("--timeout", 0.0f64)?.clamp(0.0, 1e9),
            )),
        };
        Ok(Settings {
            count,
            timeout,
            promiscuous: !args.has("--no-promiscuous"),
            print: args.has("--print") || args.value("--write").is_none(),
            write: args.value("--write").map(str::to_string),
            link_header: args.has("--link-header"),
        })
    }

    /// The output the settings ask for, for frames of `link`.
    fn output(&self, link: LinkType, resolution: TimestampResolution) -> Result<Output, String> {
        let file = match &self.write {
            None => None,
            Some(path) => {
                let sink = BufWriter::new(File::create(path).map_err(|e| format!("{path}: {e}"))?);
                let writer = PcapWriter::with_link_type(IoSink(sink), resolution, 0, link)
                    .map_err(|e| format!("{path}: {e}"))?;
                Some(writer)
            }
        };
        Ok(Output {
            screen: self.print.then(|| BufWriter::new(std::io::stdout())),
            file,
            link_header: self.link_header,
            count: 0,
            error: None,
        })
    }

    fn done(&self, count: u64) -> bool {
        self.count.is_some_and(|limit| count >= limit)
    }
}

/// Prints (or copies) the frames of the pcap file at `path`.
fn read_file(path: &str, settings: &Settings) -> Result<u64, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let reader = PcapReader::new(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let header = *reader.header();
    let mut output = settings.output(header.link_type, header.resolution)?;
    for record in reader {
        if settings.done(output.count) {
            break;
        }
        let record = record.map_err(|e| format!("{path}: frame {}: {e}", output.count + 1))?;
        output.frame(
            record.timestamp(),
            record.data,
            record.orig_len,
            header.link_type,
        );
        if let Some(err) = output.error.take() {
            return Err(err);
        }
    }
    output.flush();
    match output.error {
        Some(err) => Err(err),
        None => Ok(output.count),
    }
}

/// Captures on `iface` until the count or the timeout.
fn capture(iface: &str, settings: &Settings) -> Result<u64, String> {
    let mut raw = RawSocket::<_, LIVE_SLOTS>::open(iface, vec![0u8; LIVE_SLOTS * LIVE_FRAME])
        .map_err(|e| format!("{iface}: {e}"))?;
    raw.set_outgoing(true);
    if settings.promiscuous {
        raw.set_promiscuous(true)
            .map_err(|e| format!("{iface}: {e}"))?;
    }
    let mut output = settings.output(LinkType::Ethernet, TimestampResolution::Micro)?;
    eprintln!(
        "tcpdump: listening on {iface}, link-type EN10MB (Ethernet), snapshot length {} bytes",
        raw.frame_capacity()
    );
    let end = settings.timeout.map(|t| Instant::now() + t);
    while !settings.done(output.count) {
        let now = Instant::now();
        if end.is_some_and(|end| now >= end) {
            break;
        }
        let wait = end.map_or(IDLE_WAIT, |end| (end - now).min(IDLE_WAIT));
        raw.poll(Some(wait)).map_err(|e| format!("poll: {e}"))?;
        let left = settings
            .count
            .map_or(LIVE_SLOTS, |limit| (limit - output.count) as usize);
        let got = raw
            .rx(left.min(LIVE_SLOTS), Live(&mut output))
            .map_err(|e| format!("receive: {e}"))?;
        if got == 0 {
            // Idle: whatever was captured is visible (and on disk) now.
            output.flush();
        }
        if let Some(err) = output.error.take() {
            return Err(err);
        }
    }
    output.flush();
    let stats = raw.stats();
    eprintln!(
        "{} packets captured\n{} packets dropped (larger than {} bytes)",
        output.count,
        stats.rx_truncated,
        raw.frame_capacity()
    );
    match output.error {
        Some(err) => Err(err),
        None => Ok(output.count),
    }
}

fn main() {
    let args = PROGRAM.parse_env_aliased(ALIASES);
    let result = (|| {
        if let Some(extra) = args.positional().first() {
            return Err(format!(
                "unexpected argument {extra:?} (filters are not supported)"
            ));
        }
        let settings = Settings::from_args(&args)?;
        match (args.value("--read"), args.value("--interface")) {
            (Some(path), None) => read_file(path, &settings),
            (None, Some(iface)) => capture(iface, &settings),
            (Some(_), Some(_)) => Err("-r and -i exclude each other".into()),
            (None, None) => Err("say where the frames come from: -i IFACE or -r FILE".into()),
        }
    })();
    if let Err(err) = result {
        eprintln!("tcpdump: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_is_utc_with_microseconds() {
        let t = Duration::new(1_700_000_000 + 3600 * 5 + 61, 123_456_789);
        // 1_700_000_000 is 22:13:20 UTC.
        assert_eq!(time_of_day(t), "03:14:21.123456");
        assert_eq!(time_of_day(Duration::ZERO), "00:00:00.000000");
    }
}
