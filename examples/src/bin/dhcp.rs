//! A DHCPv4 client run once: the host starts without an IPv4 address,
//! gets a lease with `ethox::layer::dhcp::Client` (RFC 2131), prints it
//! and exits; with `--release` it gives the address back first.
//!
//! ```sh
//! ip tuntap add dev tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up
//! dnsmasq --no-daemon --interface=tap0 --bind-interfaces --dhcp-range=10.0.0.50,10.0.0.99,1h &
//! cargo run --bin dhcp -- --tap tap0
//! ```
//!
//! Output, one fact a line:
//!
//! ```text
//! address 10.0.0.57/24
//! router 10.0.0.1
//! dns 10.0.0.1
//! server 10.0.0.1
//! lease 3600 s (renew after 1800 s, rebind after 3150 s)
//! ```

use std::time::Duration;

use ethox::layer::dhcp::{Client, Event, Lease, State};
use ethox::nic::Device;
use ethox::nic::sys::now;
use ethox::time::Instant;
use ethox_examples::cli::{Flag, Program};
use ethox_examples::{NoTcp, Stack, StackRunner, Waitable};

const PROGRAM: Program = Program {
    name: "dhcp",
    usage: "",
    about: "Gets an IPv4 address by DHCP (the host starts without one: --ip4 is ignored) and \
prints the lease: address and prefix, router, DNS servers, server, lease time. Exits 0 with a \
lease, 1 without.",
    flags: &[
        Flag {
            name: "--timeout",
            value: "S",
            help: "give up after S seconds without a lease",
            default: "30",
        },
        Flag {
            name: "--release",
            value: "",
            help: "give the address back to the server before exiting",
            default: "",
        },
        Flag {
            name: "--verbose",
            value: "",
            help: "print the client's state changes (to stderr)",
            default: "",
        },
    ],
    link: true,
};

/// How long a RELEASE may take to go out (the client itself gives up
/// after 3 s without the server's hardware address).
const RELEASE_LIMIT: Duration = Duration::from_secs(5);

struct Run {
    timeout: Duration,
    release: bool,
    verbose: bool,
}

impl StackRunner for Run {
    type Output = Result<(), String>;

    fn run<D: Device + Waitable>(self, mut stack: Stack<D>) -> Result<(), String> {
        let mut client = stack.dhcp_client()?;
        let verbose = self.verbose;
        let lease = stack.acquire_lease(&mut client, self.timeout, |state| {
            if verbose {
                eprintln!("dhcp: {state}");
            }
        })?;
        for line in describe(&lease) {
            println!("{line}");
        }
        if self.release {
            release(&mut stack, &mut client)?;
            println!("released {}", lease.address().address());
        }
        stack.flush_capture();
        Ok(())
    }
}

/// Sends the RELEASE and removes the address.
fn release<D: Device + Waitable>(stack: &mut Stack<D>, client: &mut Client) -> Result<(), String> {
    let end = now() + RELEASE_LIMIT;
    client.release(now());
    loop {
        stack.poll(&mut *client, &mut NoTcp)?;
        let at = now();
        let event = client
            .apply(&mut stack.ip, at)
            .map_err(|err| format!("removing the lease: {err}"))?;
        if event == Some(Event::Deconfigured) || client.state() == State::Released {
            if client.stats().tx_releases == 0 {
                return Err("the RELEASE could not be sent (server unreachable)".into());
            }
            return Ok(());
        }
        if at >= end {
            return Err(format!("no RELEASE within {RELEASE_LIMIT:?}"));
        }
        let wake = [client.next_deadline(), Some(end)]
            .into_iter()
            .flatten()
            .min();
        stack.wait(wake, Duration::from_millis(100))?;
    }
}

/// The lease, one fact a line.
fn describe(lease: &Lease) -> Vec<String> {
    let mut lines = vec![format!("address {}", lease.address())];
    if let Some(router) = lease.router() {
        lines.push(format!("router {router}"));
    }
    if !lease.dns_servers().is_empty() {
        let servers: Vec<String> = lease.dns_servers().iter().map(|s| s.to_string()).collect();
        lines.push(format!("dns {}", servers.join(" ")));
    }
    lines.push(format!("server {}", lease.server()));
    let after = |at: Option<Instant>| {
        at.map_or(0, |t| {
            t.saturating_duration_since(lease.acquired()).as_secs()
        })
    };
    lines.push(match lease.duration() {
        None => "lease infinite".to_string(),
        Some(duration) => format!(
            "lease {} s (renew after {} s, rebind after {} s)",
            duration.as_secs(),
            after(lease.renew_at()),
            after(lease.rebind_at())
        ),
    });
    lines
}

fn main() {
    let args = PROGRAM.parse_env_aliased(&[("-v", "--verbose")]);
    let result = (|| {
        if let Some(extra) = args.positional().first() {
            return Err(format!("unexpected argument {extra:?}"));
        }
        let mut link = args.link()?;
        // The address comes from the server.
        link.ipv4 = None;
        link.gateway4 = None;
        let run = Run {
            timeout: Duration::from_secs_f64(args.parse_or("--timeout", 30.0f64)?.clamp(0.0, 1e9)),
            release: args.has("--release"),
            verbose: args.has("--verbose"),
        };
        ethox_examples::open(&link, run)?
    })();
    if let Err(err) = result {
        eprintln!("dhcp: {err}");
        std::process::exit(1);
    }
}
