#![no_main]
//! Fuzz target: a whole frame through every layer's parser, the way the
//! pretty printer walks it (Ethernet, ARP, IPv4, the IPv6 header chain,
//! TCP, UDP, DHCP, ICMPv4, ICMPv6 with NDISC and MLD, IGMP). Any input
//! must give a line, never a panic; the same bytes as a bare IP packet
//! too.
use core::fmt::Write;

use ethox::wire::pretty::{PrettyFrame, PrettyIp};
use libfuzzer_sys::fuzz_target;

/// Discards what it is given: the work is in the formatting.
struct Discard(usize);

impl Write for Discard {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut out = Discard(0);
    write!(out, "{}", PrettyFrame::new(data).with_link_header(true)).unwrap();
    write!(out, "{}", PrettyIp::new(data)).unwrap();
    assert!(out.0 > 0);
});
