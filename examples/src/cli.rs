//! The examples' command lines: `--flag value` pairs, `--help` that
//! prints every flag with its default, and the flags every example shares
//! (the link, the addresses, `--pcap` and the fault injection of the
//! smoltcp examples).

use std::time::Duration;

use ethox::nic::fault::FaultConfig;
use ethox::wire::{EthernetAddress, IpAddr, IpCidr, Ipv4Addr, Ipv6Addr};

use crate::{Link, NicKind};

/// One flag of a program: its name, the name of its value (empty for a
/// switch), what it does and its default as shown by `--help`.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// `--name`.
    pub name: &'static str,
    /// What the value is (`FILE`, `PCT`), empty for a switch.
    pub value: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The default, as text (empty: none).
    pub default: &'static str,
}

/// The flags [`Link`] takes, shared by every example that opens a NIC.
pub const LINK_FLAGS: &[Flag] = &[
    Flag {
        name: "--tap",
        value: "NAME",
        help: "run on a TAP device (created if missing)",
        default: "tap0",
    },
    Flag {
        name: "--raw",
        value: "IFACE",
        help: "run on an AF_PACKET socket on IFACE instead of a TAP",
        default: "",
    },
    Flag {
        name: "--nic",
        value: "KIND",
        help: "the backend on --iface: tap, raw, uring (AF_PACKET by io_uring), \
               uring-tap, afxdp (the kernel's end of a veth needs \
               `ethtool -K PEER tx-checksumming off`)",
        default: "tap",
    },
    Flag {
        name: "--iface",
        value: "NAME",
        help: "the interface (or TAP) --nic runs on",
        default: "tap0",
    },
    Flag {
        name: "--busy-poll",
        value: "USEC",
        help: "after traffic, keep polling the NIC this long before sleeping \
               (spends a core, saves a wake-up per batch)",
        default: "0",
    },
    Flag {
        name: "--offload",
        value: "",
        help: "tap, raw, uring, uring-tap: take the kernel's checksum and \
               segmentation offloads (virtio-net headers, 64 KiB buffers): \
               bulk TCP crosses in segments of up to 64 KiB both ways",
        default: "",
    },
    Flag {
        name: "--mac",
        value: "MAC",
        help: "this host's MAC address",
        default: "02:00:00:00:00:02",
    },
    Flag {
        name: "--ip4",
        value: "CIDR",
        help: "this host's IPv4 address (\"none\" for none)",
        default: "10.0.0.2/24",
    },
    Flag {
        name: "--ip6",
        value: "CIDR",
        help: "this host's IPv6 address (\"none\" for none)",
        default: "fd00::2/64",
    },
    Flag {
        name: "--gateway4",
        value: "ADDR",
        help: "IPv4 default gateway",
        default: "",
    },
    Flag {
        name: "--gateway6",
        value: "ADDR",
        help: "IPv6 default gateway",
        default: "",
    },
    Flag {
        name: "--pcap",
        value: "FILE",
        help: "write every frame sent and received to FILE",
        default: "",
    },
    Flag {
        name: "--drop-chance",
        value: "PCT",
        help: "drop this percentage of frames",
        default: "0",
    },
    Flag {
        name: "--corrupt-chance",
        value: "PCT",
        help: "flip one octet in this percentage of frames",
        default: "0",
    },
    Flag {
        name: "--size-limit",
        value: "BYTES",
        help: "drop frames larger than BYTES",
        default: "no limit",
    },
    Flag {
        name: "--tx-rate-limit",
        value: "N",
        help: "send at most N frames per shaping interval",
        default: "no limit",
    },
    Flag {
        name: "--rx-rate-limit",
        value: "N",
        help: "receive at most N frames per shaping interval",
        default: "no limit",
    },
    Flag {
        name: "--shaping-interval",
        value: "MS",
        help: "the rate limits' interval in milliseconds",
        default: "50",
    },
    Flag {
        name: "--seed",
        value: "N",
        help: "seed of the fault injector",
        default: "1",
    },
];

/// Parsed command-line arguments: flags with values, switches, and the
/// positional arguments, checked against the program's flags.
#[derive(Debug, Clone, Default)]
pub struct Args {
    values: Vec<(&'static str, String)>,
    positional: Vec<String>,
}

/// A program's description for `--help`.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// The binary's name.
    pub name: &'static str,
    /// Its positional arguments, as shown in the usage line.
    pub usage: &'static str,
    /// What it does, one paragraph.
    pub about: &'static str,
    /// Its own flags (the link flags are added when `link` is set).
    pub flags: &'static [Flag],
    /// Whether it opens a NIC (and takes [`LINK_FLAGS`]).
    pub link: bool,
}

impl Program {
    fn all_flags(&self) -> impl Iterator<Item = &'static Flag> + '_ {
        let link: &'static [Flag] = if self.link { LINK_FLAGS } else { &[] };
        self.flags.iter().chain(link.iter())
    }

    /// The `--help` text: usage, what it does, every flag with its default.
    pub fn help(&self) -> String {
        let mut text = format!(
            "usage: {} [FLAGS] {}\n\n{}\n\nflags:\n",
            self.name, self.usage, self.about
        );
        for flag in self.all_flags() {
            let head = if flag.value.is_empty() {
                flag.name.to_string()
            } else {
                format!("{} {}", flag.name, flag.value)
            };
            let default = if flag.default.is_empty() {
                String::new()
            } else {
                format!(" (default: {})", flag.default)
            };
            text.push_str(&format!("  {head:<26} {}{default}\n", flag.help));
        }
        text.push_str("  --help                     print this help\n");
        text
    }

    /// Parses `std::env::args()`. `--help` prints the help and exits 0; an
    /// error prints it with the usage and exits 2.
    pub fn parse_env(&self) -> Args {
        self.parse_env_aliased(&[])
    }

    /// [`parse_env`](Self::parse_env) with short forms: an argument equal
    /// to the first of a pair in `aliases` stands for the second
    /// (`("-c", "--count")` makes `-c 3` mean `--count 3`).
    pub fn parse_env_aliased(&self, aliases: &[(&str, &str)]) -> Args {
        match self.parse(expand_aliases(std::env::args().skip(1), aliases)) {
            Ok(Some(args)) => args,
            Ok(None) => {
                print!("{}", self.help());
                std::process::exit(0);
            }
            Err(err) => {
                eprintln!("{}: {err}\n\n{}", self.name, self.help());
                std::process::exit(2);
            }
        }
    }

    /// Parses `args`; `Ok(None)` when help was asked for.
    pub fn parse(&self, args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Ok(None);
            }
            if !arg.starts_with("--") || arg == "--" {
                parsed.positional.push(arg);
                continue;
            }
            let flag = self
                .all_flags()
                .find(|f| f.name == arg)
                .ok_or_else(|| format!("unknown flag {arg}"))?;
            let value = if flag.value.is_empty() {
                String::new()
            } else {
                args.next()
                    .ok_or_else(|| format!("{} needs a value ({})", flag.name, flag.value))?
            };
            parsed.values.push((flag.name, value));
        }
        Ok(Some(parsed))
    }
}

impl Args {
    /// The value of `flag` (the last one given).
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.as_str())
    }

    /// Whether switch `flag` was given.
    pub fn has(&self, flag: &str) -> bool {
        self.values.iter().any(|(f, _)| *f == flag)
    }

    /// The positional arguments.
    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// `flag`'s value parsed as `T`, or `default`.
    pub fn parse_or<T: std::str::FromStr>(&self, flag: &str, default: T) -> Result<T, String> {
        match self.value(flag) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("{flag}: cannot read {text:?}")),
        }
    }

    /// A duration given in milliseconds.
    pub fn millis_or(&self, flag: &str, default: Duration) -> Result<Duration, String> {
        match self.value(flag) {
            None => Ok(default),
            Some(_) => Ok(Duration::from_millis(self.parse_or(flag, 0u64)?)),
        }
    }

    /// A duration given in seconds (fractions allowed), or `None` when the
    /// flag is absent.
    pub fn secs(&self, flag: &str) -> Result<Option<Duration>, String> {
        match self.value(flag) {
            None => Ok(None),
            Some(text) => Duration::try_from_secs_f64(self.parse_or(flag, 0.0f64)?)
                .map(Some)
                .map_err(|_| format!("{flag}: cannot read {text:?} as seconds")),
        }
    }

    /// The link described by [`LINK_FLAGS`].
    pub fn link(&self) -> Result<Link, String> {
        let mut link = Link::default();
        if let Some(name) = self.value("--tap") {
            link.nic = NicKind::Tap(name.to_string());
        }
        if let Some(name) = self.value("--raw") {
            link.nic = NicKind::Raw(name.to_string());
        }
        if self.value("--nic").is_some() || self.value("--iface").is_some() {
            let kind = self.value("--nic").unwrap_or("tap");
            let name = self.value("--iface").unwrap_or(link.nic.name());
            link.nic = NicKind::from_flag(kind, name).ok_or_else(|| {
                format!("--nic: {kind:?} is none of tap, raw, uring, uring-tap, afxdp")
            })?;
        }
        let busy: u64 = self.parse_or("--busy-poll", 0)?;
        link.busy_poll = Duration::from_micros(busy);
        link.offload = self.has("--offload");
        if let Some(mac) = self.value("--mac") {
            link.mac = parse_mac(mac).ok_or_else(|| format!("--mac: cannot read {mac:?}"))?;
        }
        if let Some(text) = self.value("--ip4") {
            link.ipv4 = parse_cidr(text, true)?;
        }
        if let Some(text) = self.value("--ip6") {
            link.ipv6 = parse_cidr(text, false)?;
        }
        if let Some(text) = self.value("--gateway4") {
            link.gateway4 = Some(
                text.parse::<Ipv4Addr>()
                    .map_err(|_| format!("--gateway4: {text:?}"))?,
            );
        }
        if let Some(text) = self.value("--gateway6") {
            link.gateway6 = Some(
                text.parse::<Ipv6Addr>()
                    .map_err(|_| format!("--gateway6: {text:?}"))?,
            );
        }
        link.pcap = self.value("--pcap").map(str::to_string);
        link.faults = self.faults()?;
        if link.offload && link.faults.corrupt_chance > 0 {
            // Checksums left to the kernel are computed over the bytes as
            // corrupted, and the kernel's unfinished ones are never
            // checked: nothing would notice the damage.
            return Err("--corrupt-chance cannot go with --offload: the checksums \
                        that would catch the damage are left to the kernel"
                .into());
        }
        link.seed = self.parse_or("--seed", 1u64)?;
        Ok(link)
    }

    /// The fault injection the flags ask for.
    pub fn faults(&self) -> Result<FaultConfig, String> {
        let percent = |flag: &str| -> Result<u8, String> {
            let n: u8 = self.parse_or(flag, 0)?;
            if n > 100 {
                return Err(format!("{flag}: a percentage is 0-100, got {n}"));
            }
            Ok(n)
        };
        let defaults = FaultConfig::default();
        Ok(FaultConfig {
            drop_chance: percent("--drop-chance")?,
            corrupt_chance: percent("--corrupt-chance")?,
            size_limit: self.parse_or("--size-limit", defaults.size_limit)?,
            tx_rate_limit: self.parse_or("--tx-rate-limit", defaults.tx_rate_limit)?,
            rx_rate_limit: self.parse_or("--rx-rate-limit", defaults.rx_rate_limit)?,
            shaping_interval: self.millis_or("--shaping-interval", defaults.shaping_interval)?,
            ..defaults
        })
    }
}

/// `args` with each argument that is the first of a pair in `aliases`
/// replaced by the second (short forms of flags: `-c` for `--count`).
pub fn expand_aliases<'a>(
    args: impl IntoIterator<Item = String> + 'a,
    aliases: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = String> + 'a {
    args.into_iter().map(
        move |arg| match aliases.iter().find(|(short, _)| *short == arg) {
            Some((_, long)) => long.to_string(),
            None => arg,
        },
    )
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<EthernetAddress> {
    let mut bytes = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut bytes {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(EthernetAddress(bytes))
}

/// `addr/len` of the family asked for, or `none`.
fn parse_cidr(text: &str, v4: bool) -> Result<Option<IpCidr>, String> {
    if text == "none" {
        return Ok(None);
    }
    let flag = if v4 { "--ip4" } else { "--ip6" };
    let (addr, len) = text
        .split_once('/')
        .ok_or_else(|| format!("{flag}: ADDR/LEN, got {text:?}"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{flag}: cannot read {addr:?}"))?;
    if addr.is_ipv4() != v4 {
        return Err(format!("{flag}: wrong address family in {text:?}"));
    }
    let len: u8 = len
        .parse()
        .map_err(|_| format!("{flag}: cannot read {len:?}"))?;
    IpCidr::new(addr, len)
        .map(Some)
        .map_err(|err| format!("{flag}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: Program = Program {
        name: "test",
        usage: "HOST",
        about: "A test.",
        flags: &[Flag {
            name: "--count",
            value: "N",
            help: "how many",
            default: "4",
        }],
        link: true,
    };

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        PROGRAM.parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_values_and_positionals() {
        let args = parse(&["--count", "7", "10.0.0.1", "--drop-chance", "15"])
            .unwrap()
            .unwrap();
        assert_eq!(args.parse_or("--count", 4u32).unwrap(), 7);
        assert_eq!(args.positional(), ["10.0.0.1"]);
        let link = args.link().unwrap();
        assert_eq!(link.faults.drop_chance, 15);
        assert_eq!(link.nic, NicKind::Tap("tap0".into()));
        assert_eq!(args.secs("--count").unwrap(), Some(Duration::from_secs(7)));
        assert_eq!(args.secs("--nope").unwrap(), None);
    }

    #[test]
    fn nic_kinds_and_busy_polling() {
        let link = |args: &[&str]| parse(args).unwrap().unwrap().link();
        assert_eq!(
            link(&["--raw", "eth1"]).unwrap().nic,
            NicKind::Raw("eth1".into())
        );
        let xdp = link(&["--nic", "afxdp", "--iface", "veth0"]).unwrap();
        assert_eq!(xdp.nic, NicKind::Xdp("veth0".into()));
        assert_eq!(xdp.busy_poll, Duration::ZERO);
        // --iface alone keeps the TAP kind; --nic alone keeps the name.
        let tap = link(&["--iface", "tap7"]).unwrap();
        assert_eq!(tap.nic, NicKind::Tap("tap7".into()));
        let uring = link(&["--tap", "tap3", "--nic", "uring-tap", "--busy-poll", "200"]).unwrap();
        assert_eq!(uring.nic, NicKind::UringTap("tap3".into()));
        assert_eq!(uring.busy_poll, Duration::from_micros(200));
        assert!(!uring.offload);
        let offload = link(&["--nic", "uring-tap", "--offload"]).unwrap();
        assert!(offload.offload);
        let err = link(&["--offload", "--corrupt-chance", "5"]).unwrap_err();
        assert!(
            err.contains("--corrupt-chance cannot go with --offload"),
            "{err}"
        );
        assert!(link(&["--nic", "dpdk"]).unwrap_err().contains("--nic"));
    }

    #[test]
    fn errors_name_the_flag() {
        assert!(parse(&["--nope"]).unwrap_err().contains("--nope"));
        assert!(parse(&["--count"]).unwrap_err().contains("needs a value"));
        let args = parse(&["--drop-chance", "150"]).unwrap().unwrap();
        assert!(args.link().unwrap_err().contains("0-100"));
        let args = parse(&["--ip4", "fd00::1/64"]).unwrap().unwrap();
        assert!(args.link().unwrap_err().contains("family"));
        let args = parse(&["--count", "-1"]).unwrap().unwrap();
        assert!(args.secs("--count").unwrap_err().contains("seconds"));
    }

    #[test]
    fn help_lists_defaults() {
        assert!(parse(&["--help"]).unwrap().is_none());
        let help = PROGRAM.help();
        assert!(help.contains("--count N"));
        assert!(help.contains("(default: 4)"));
        assert!(help.contains("--drop-chance PCT"));
        assert!(help.contains("(default: tap0)"));
    }

    #[test]
    fn short_forms_stand_for_flags() {
        let raw = ["-c", "7", "-x", "HOST"].map(String::from);
        let args = PROGRAM
            .parse(expand_aliases(raw, &[("-c", "--count")]))
            .unwrap()
            .unwrap();
        assert_eq!(args.parse_or("--count", 4u32).unwrap(), 7);
        // What is not an alias stays as it was: a positional here.
        assert_eq!(args.positional(), ["-x", "HOST"]);
    }

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("02:00:00:00:00:0a"),
            Some(EthernetAddress([2, 0, 0, 0, 0, 10]))
        );
        assert_eq!(parse_mac("02:00:00:00:00"), None);
        assert_eq!(parse_mac("02:00:00:00:00:00:01"), None);
    }
}
