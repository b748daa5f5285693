//! The `dhcp` example against dnsmasq: a namespace whose `tap0` is the
//! kernel's end with dnsmasq serving DHCP on it, the example attached to
//! the TAP without an IPv4 address. The lease it prints is the one
//! dnsmasq records, with the options dnsmasq was told to send; a release
//! takes it off dnsmasq's books.

mod common;

use std::time::{Duration, Instant};

use common::{Peer, TempDir, can_run, dnsmasq, run_limited};

const DHCP: &str = env!("CARGO_BIN_EXE_dhcp");

/// The example's MAC address (the examples' default).
const MAC: &str = "02:00:00:00:00:02";

/// Runs the example on `tap0` in `peer` with `args`; its exit code,
/// stdout and stderr.
fn run_dhcp(peer: &Peer, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = peer.command(DHCP);
    command
        .args(["--tap", "tap0", "--timeout", "20"])
        .args(args);
    let output = run_limited(command, Duration::from_secs(30));
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The value of the line starting with `key`.
fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {key:?} line in:\n{stdout}"))
}

/// The leased address, checked to be in dnsmasq's range.
fn leased_address(stdout: &str) -> String {
    let cidr = field(stdout, "address");
    let (addr, prefix) = cidr.split_once('/').expect("ADDR/PREFIX");
    assert_eq!(prefix, "24", "{stdout}");
    let last: u8 = addr
        .strip_prefix("10.0.0.")
        .and_then(|last| last.parse().ok())
        .unwrap_or_else(|| panic!("{addr} is not in 10.0.0.0/24"));
    assert!((50..=99).contains(&last), "{addr} is outside the range");
    addr.to_string()
}

/// dnsmasq's lease file, waited on (at most 5 s) until `done` holds.
fn leases_until(dir: &TempDir, done: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(dir.file("leases")).unwrap_or_default();
        if done(&text) || Instant::now() > end {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn lease_with_the_configured_options_is_printed_and_on_the_servers_books() {
    if !can_run(&["ip", "dnsmasq"]) {
        return;
    }
    let peer = Peer::new("dhcp-lease");
    let dir = TempDir::new("dhcp-lease");
    let _server = dnsmasq(
        &peer,
        &dir,
        &[
            "--dhcp-option=option:router,10.0.0.254",
            "--dhcp-option=option:dns-server,10.0.0.1,10.0.0.53",
        ],
    );
    let started = Instant::now();
    let (code, stdout, stderr) = run_dhcp(&peer, &["--verbose"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    eprintln!("lease in {:?}", started.elapsed());
    let addr = leased_address(&stdout);
    assert_eq!(field(&stdout, "router"), "10.0.0.254");
    assert_eq!(field(&stdout, "dns"), "10.0.0.1 10.0.0.53");
    assert_eq!(field(&stdout, "server"), "10.0.0.1");
    // 1h, T1 and T2 at dnsmasq's 1/2 and 7/8.
    assert_eq!(
        field(&stdout, "lease"),
        "3600 s (renew after 1800 s, rebind after 3150 s)"
    );
    // The client went through the states of RFC 2131 figure 5.
    for state in ["INIT", "SELECTING", "REQUESTING", "BOUND"] {
        assert!(
            stderr.contains(&format!("dhcp: {state}\n")),
            "{state}: {stderr}"
        );
    }
    let leases = leases_until(&dir, |text| text.contains(&addr));
    let line = leases
        .lines()
        .find(|line| line.contains(&addr))
        .unwrap_or_else(|| panic!("{addr} not in the lease file:\n{leases}"));
    assert!(line.contains(MAC), "{line}");
}

#[test]
fn release_takes_the_lease_off_the_servers_books() {
    if !can_run(&["ip", "dnsmasq"]) {
        return;
    }
    let peer = Peer::new("dhcp-release");
    let dir = TempDir::new("dhcp-release");
    let mut server = dnsmasq(&peer, &dir, &[]);
    let (code, stdout, stderr) = run_dhcp(&peer, &["--release"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let addr = leased_address(&stdout);
    // Without options of its own dnsmasq names itself router and DNS
    // server.
    assert_eq!(field(&stdout, "router"), "10.0.0.1");
    assert_eq!(field(&stdout, "dns"), "10.0.0.1");
    assert_eq!(field(&stdout, "released"), addr);
    server.wait_for(
        &format!("DHCPRELEASE(tap0) {addr} {MAC}"),
        Duration::from_secs(5),
    );
    let leases = leases_until(&dir, |text| !text.contains(MAC));
    assert!(!leases.contains(MAC), "still leased:\n{leases}");
}

#[test]
fn no_server_no_lease() {
    if !can_run(&["ip"]) {
        return;
    }
    let peer = Peer::new("dhcp-silence");
    let mut command = peer.command(DHCP);
    command.args(["--tap", "tap0", "--timeout", "1.5"]);
    let started = Instant::now();
    let output = run_limited(command, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no DHCP lease"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(started.elapsed() < Duration::from_secs(5));
}
