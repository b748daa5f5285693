//! Tests of the TCP module against segments captured from Linux.
//!
//! Fixtures come from `scripts/capture.sh` (two namespaces joined by a
//! veth pair: host a 10.0.0.1 / fd00::1, host b 10.0.0.2 / fd00::2,
//! captured on b's interface with the filter `tcp`):
//!
//! * `tests/fixtures/tcp-ipv4.pcap`: `scripts/capture.sh tcx OUT 'tcp'
//!   COMMAND SETUP` with, as SETUP in b,
//!   `timeout 8 socat -u TCP4-LISTEN:5000,reuseaddr OPEN:/dev/null`
//!   and, as COMMAND in a,
//!   `printf 'hello\n' | timeout 5 socat -u - TCP4:10.0.0.2:5000;
//!   sleep 0.5; timeout 3 socat - TCP4:10.0.0.2:9 </dev/null`:
//!   a handshake, six bytes of data, both FINs, then a SYN to the closed
//!   port 9 answered by RST.
//! * `tests/fixtures/tcp-ipv6.pcap`: the same over IPv6 (`tcy`,
//!   `TCP6-LISTEN`, `TCP6:[fd00::2]:5000`, `TCP6:[fd00::2]:9`).
//! * `tests/fixtures/tcp-sack.pcap`: three ACKs with one, two and three
//!   SACK blocks, cut from a capture (`tcz`) of `head -c 300000
//!   /dev/urandom | timeout 10 socat -u - TCP4:10.0.0.2:5000` into a socat
//!   sink in b. netem is not available in this kernel, so the loss was made
//!   in b's ingress instead: `tc filter add dev eth0 parent ffff: protocol
//!   ip u32 match ip src 10.0.0.1/32 match u16 $V 0x000f at 4 action
//!   mirred egress redirect dev sink0` for $V in 1, 4 and 7 (IP IDs whose
//!   low nibble is 1, 4 or 7 are diverted to an unconnected veth), so
//!   Linux in b saw real holes and sent real SACKs. tcpdump on b sees
//!   frames before the ingress filter; the frames kept are b's ACKs.
//!
//! The IPv4 and IPv6 modules are written in parallel, so the TCP segment
//! is sliced out of each Ethernet frame by hand (see [`tcp_segment`]).

extern crate std;

use std::format;
use std::string::ToString;
use std::vec::Vec;

use super::*;
use crate::wire::{Ipv4Addr, Ipv6Addr};

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));

// Frames 1, 2, 4, 6 and 10 of tcp-ipv4.pcap (see the module comment).

/// 10.0.0.1:53322 > 10.0.0.2:5000 SYN with MSS, SACK-permitted, timestamps
/// and window scale (Linux layout: MSS, SACKOK+TS, NOP+WS).
const V4_SYN: [u8; 74] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x3c, 0x2e, 0x49, 0x40, 0x00, 0x40, 0x06, 0xf8, 0x70, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0xd0, 0x4a, 0x13, 0x88, 0xce, 0x3d, 0xd2, 0xdb, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0xe3, 0x8b, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x62, 0xe9,
    0x6d, 0xa8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
];

/// 10.0.0.2:5000 > 10.0.0.1:53322 SYN-ACK.
const V4_SYN_ACK: [u8; 74] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xba, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x13, 0x88, 0xd0, 0x4a, 0x9c, 0xbf, 0x5e, 0x9b, 0xce, 0x3d, 0xd2, 0xdc, 0xa0, 0x12,
    0xfe, 0x88, 0x7e, 0xb0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x2a, 0x08,
    0x3b, 0xcf, 0x62, 0xe9, 0x6d, 0xa8, 0x01, 0x03, 0x03, 0x0a,
];

/// 10.0.0.1:53322 > 10.0.0.2:5000 PSH-ACK carrying "hello\n" (NOP NOP TS).
const V4_DATA: [u8; 72] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x3a, 0x2e, 0x4b, 0x40, 0x00, 0x40, 0x06, 0xf8, 0x70, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0xd0, 0x4a, 0x13, 0x88, 0xce, 0x3d, 0xd2, 0xdc, 0x9c, 0xbf, 0x5e, 0x9c, 0x80, 0x18,
    0x00, 0x3f, 0x67, 0xdf, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x62, 0xe9, 0x6d, 0xa8, 0x2a, 0x08,
    0x3b, 0xcf, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
];

/// 10.0.0.1:53322 > 10.0.0.2:5000 FIN-ACK.
const V4_FIN: [u8; 66] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x34, 0x2e, 0x4c, 0x40, 0x00, 0x40, 0x06, 0xf8, 0x75, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
    0x00, 0x02, 0xd0, 0x4a, 0x13, 0x88, 0xce, 0x3d, 0xd2, 0xe2, 0x9c, 0xbf, 0x5e, 0x9c, 0x80, 0x11,
    0x00, 0x3f, 0xab, 0xc2, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x62, 0xe9, 0x6d, 0xa8, 0x2a, 0x08,
    0x3b, 0xcf,
];

/// 10.0.0.2:9 > 10.0.0.1:49992 RST-ACK from the closed port, no options.
const V4_RST: [u8; 54] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xce, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x00, 0x09, 0xc3, 0x48, 0x00, 0x00, 0x00, 0x00, 0xc8, 0xa5, 0x93, 0x8b, 0x50, 0x14,
    0x00, 0x00, 0x7c, 0x4b, 0x00, 0x00,
];

// Frames 1, 2, 4, 6 and 10 of tcp-ipv6.pcap.

/// [fd00::1]:43472 > [fd00::2]:5000 SYN.
const V6_SYN: [u8; 94] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0a,
    0xe7, 0x4d, 0x00, 0x28, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa9, 0xd0, 0x13, 0x88, 0xcb, 0x5c, 0x3f, 0x22, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20, 0x34, 0x6d, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0, 0x04, 0x02,
    0x08, 0x0a, 0x32, 0x9b, 0x22, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
];

/// [fd00::2]:5000 > [fd00::1]:43472 SYN-ACK.
const V6_SYN_ACK: [u8; 94] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60, 0x07,
    0x5b, 0xef, 0x00, 0x28, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x13, 0x88, 0xa9, 0xd0, 0x26, 0x92, 0xe2, 0xc6, 0xcb, 0x5c,
    0x3f, 0x23, 0xa0, 0x12, 0xfb, 0x04, 0x3e, 0xd2, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0, 0x04, 0x02,
    0x08, 0x0a, 0x8a, 0x15, 0x64, 0x37, 0x32, 0x9b, 0x22, 0x0c, 0x01, 0x03, 0x03, 0x0a,
];

/// [fd00::1]:43472 > [fd00::2]:5000 PSH-ACK carrying "hello\n".
const V6_DATA: [u8; 92] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0a,
    0xe7, 0x4d, 0x00, 0x26, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa9, 0xd0, 0x13, 0x88, 0xcb, 0x5c, 0x3f, 0x23, 0x26, 0x92,
    0xe2, 0xc7, 0x80, 0x18, 0x00, 0x40, 0x24, 0x68, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x32, 0x9b,
    0x22, 0x0c, 0x8a, 0x15, 0x64, 0x37, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
];

/// [fd00::1]:43472 > [fd00::2]:5000 FIN-ACK.
const V6_FIN: [u8; 86] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0a,
    0xe7, 0x4d, 0x00, 0x20, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa9, 0xd0, 0x13, 0x88, 0xcb, 0x5c, 0x3f, 0x29, 0x26, 0x92,
    0xe2, 0xc7, 0x80, 0x11, 0x00, 0x40, 0x68, 0x4b, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x32, 0x9b,
    0x22, 0x0c, 0x8a, 0x15, 0x64, 0x37,
];

/// [fd00::2]:9 > [fd00::1]:58580 RST-ACK from the closed port.
const V6_RST: [u8; 74] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60, 0x0c,
    0x06, 0x05, 0x00, 0x14, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0xe4, 0xd4, 0x00, 0x00, 0x00, 0x00, 0x64, 0x0c,
    0x7c, 0x63, 0x50, 0x14, 0x00, 0x00, 0xf0, 0x7e, 0x00, 0x00,
];

// The three frames of tcp-sack.pcap: 10.0.0.2:5000 > 10.0.0.1:38230 ACKs
// with NOP NOP TS NOP NOP SACK.

/// One SACK block.
const SACK_1: [u8; 78] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x40, 0x03, 0x86, 0x40, 0x00, 0x40, 0x06, 0x23, 0x30, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x13, 0x88, 0x95, 0x56, 0x44, 0xc1, 0xac, 0x2f, 0xef, 0xf6, 0x8d, 0x0a, 0xb0, 0x10,
    0x00, 0x43, 0x43, 0x1c, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x0a, 0x21, 0xa6, 0xc4, 0x2b, 0xc7,
    0xea, 0xcb, 0x01, 0x01, 0x05, 0x0a, 0xef, 0xf6, 0x92, 0xb2, 0xef, 0xf6, 0x98, 0x5a,
];

/// Two SACK blocks.
const SACK_2: [u8; 86] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x48, 0x03, 0x88, 0x40, 0x00, 0x40, 0x06, 0x23, 0x26, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x13, 0x88, 0x95, 0x56, 0x44, 0xc1, 0xac, 0x2f, 0xef, 0xf6, 0x8d, 0x0a, 0xd0, 0x10,
    0x00, 0x49, 0xf0, 0x72, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x0a, 0x21, 0xa6, 0xc4, 0x2b, 0xc7,
    0xea, 0xcb, 0x01, 0x01, 0x05, 0x12, 0xef, 0xf6, 0xa3, 0xaa, 0xef, 0xf6, 0xa9, 0x52, 0xef, 0xf6,
    0x92, 0xb2, 0xef, 0xf6, 0x9e, 0x02,
];

/// Three SACK blocks: the most that fit next to timestamps.
const SACK_3: [u8; 94] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x50, 0x03, 0x9e, 0x40, 0x00, 0x40, 0x06, 0x23, 0x08, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
    0x00, 0x01, 0x13, 0x88, 0x95, 0x56, 0x44, 0xc1, 0xac, 0x2f, 0xef, 0xf7, 0x18, 0x5a, 0xf0, 0x10,
    0x00, 0x4e, 0xae, 0xbe, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x0a, 0x21, 0xa6, 0xc4, 0x2b, 0xc7,
    0xea, 0xcb, 0x01, 0x01, 0x05, 0x1a, 0xef, 0xf7, 0x3e, 0x02, 0xef, 0xf7, 0x49, 0x52, 0xef, 0xf7,
    0x2d, 0x0a, 0xef, 0xf7, 0x38, 0x5a, 0xef, 0xf7, 0x1e, 0x02, 0xef, 0xf7, 0x29, 0x52,
];

const PCAP_V4: &[u8] = include_bytes!("../../../tests/fixtures/tcp-ipv4.pcap");
const PCAP_V6: &[u8] = include_bytes!("../../../tests/fixtures/tcp-ipv6.pcap");
const PCAP_SACK: &[u8] = include_bytes!("../../../tests/fixtures/tcp-sack.pcap");

/// Every named fixture: the frame, the addresses of its IP header, and the
/// Display string tcpdump's reading of it translates to.
const FIXTURES: [(&[u8], IpAddr, IpAddr, &str); 13] = [
    (
        &V4_SYN,
        A4,
        B4,
        "TCP 53322 > 5000 [S] seq 3460158171 win 64240 mss 1460 sackOK ts 1659465128/0 ws 10",
    ),
    (
        &V4_SYN_ACK,
        B4,
        A4,
        "TCP 5000 > 53322 [S.] seq 2629787291 ack 3460158172 win 65160 mss 1460 sackOK \
         ts 705182671/1659465128 ws 10",
    ),
    (
        &V4_DATA,
        A4,
        B4,
        "TCP 53322 > 5000 [P.] seq 3460158172 ack 2629787292 win 63 ts 1659465128/705182671 len 6",
    ),
    (
        &V4_FIN,
        A4,
        B4,
        "TCP 53322 > 5000 [F.] seq 3460158178 ack 2629787292 win 63 ts 1659465128/705182671",
    ),
    (
        &V4_RST,
        B4,
        A4,
        "TCP 9 > 49992 [R.] seq 0 ack 3366294411 win 0",
    ),
    (
        &V6_SYN,
        A6,
        B6,
        "TCP 43472 > 5000 [S] seq 3411820322 win 64800 mss 1440 sackOK ts 849027596/0 ws 10",
    ),
    (
        &V6_SYN_ACK,
        B6,
        A6,
        "TCP 5000 > 43472 [S.] seq 647160518 ack 3411820323 win 64260 mss 1440 sackOK \
         ts 2316657719/849027596 ws 10",
    ),
    (
        &V6_DATA,
        A6,
        B6,
        "TCP 43472 > 5000 [P.] seq 3411820323 ack 647160519 win 64 ts 849027596/2316657719 len 6",
    ),
    (
        &V6_FIN,
        A6,
        B6,
        "TCP 43472 > 5000 [F.] seq 3411820329 ack 647160519 win 64 ts 849027596/2316657719",
    ),
    (
        &V6_RST,
        B6,
        A6,
        "TCP 9 > 58580 [R.] seq 0 ack 1678539875 win 0",
    ),
    (
        &SACK_1,
        B4,
        A4,
        "TCP 5000 > 38230 [.] seq 1153543215 ack 4025912586 win 67 ts 169977540/734522059 \
         sack 4025914034-4025915482",
    ),
    (
        &SACK_2,
        B4,
        A4,
        "TCP 5000 > 38230 [.] seq 1153543215 ack 4025912586 win 73 ts 169977540/734522059 \
         sack 4025918378-4025919826 4025914034-4025916930",
    ),
    (
        &SACK_3,
        B4,
        A4,
        "TCP 5000 > 38230 [.] seq 1153543215 ack 4025948250 win 78 ts 169977540/734522059 \
         sack 4025957890-4025960786 4025953546-4025956442 4025949698-4025952594",
    ),
];

/// Slices the TCP segment out of a captured Ethernet II frame by hand and
/// reads the addresses of its IP header.
///
/// 14 bytes of Ethernet (no VLAN tag in these captures), then either IPv4
/// (EtherType 0x0800: header of IHL * 4 bytes; the segment runs to the
/// total length at offset 2, which also drops any link padding) or IPv6
/// (0x86dd: fixed 40-byte header, Next Header 6 so no extension headers,
/// the segment is payload-length bytes, at offset 4).
fn tcp_segment(frame: &[u8]) -> (&[u8], IpAddr, IpAddr) {
    let ip = &frame[14..];
    match u16::from_be_bytes([frame[12], frame[13]]) {
        0x0800 => {
            assert_eq!(ip[0] >> 4, 4);
            assert_eq!(ip[9], 6, "not TCP");
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let src = Ipv4Addr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap());
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(&ip[16..20]).unwrap());
            (&ip[ihl..total], src.into(), dst.into())
        }
        0x86dd => {
            assert_eq!(ip[0] >> 4, 6);
            assert_eq!(ip[6], 6, "not TCP");
            let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
            (&ip[40..40 + len], src.into(), dst.into())
        }
        other => panic!("unexpected EtherType {other:#06x}"),
    }
}

/// The records of a little-endian, microsecond libpcap file (what tcpdump
/// writes here): a 24-byte file header, then per record a 16-byte header
/// whose third word is the captured length, then the frame.
fn pcap_frames(file: &[u8]) -> Vec<&[u8]> {
    assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "pcap magic");
    assert_eq!(
        u32::from_le_bytes(file[20..24].try_into().unwrap()),
        1,
        "Ethernet"
    );
    let mut frames = Vec::new();
    let mut at = 24;
    while at < file.len() {
        let caplen = u32::from_le_bytes(file[at + 8..at + 12].try_into().unwrap()) as usize;
        frames.push(&file[at + 16..at + 16 + caplen]);
        at += 16 + caplen;
    }
    frames
}

/// Every TCP segment of every fixture capture, with its addresses.
fn all_captured_segments() -> Vec<(&'static [u8], IpAddr, IpAddr)> {
    [PCAP_V4, PCAP_V6, PCAP_SACK]
        .into_iter()
        .flat_map(pcap_frames)
        .map(tcp_segment)
        .collect()
}

/// Parses a segment (checksum verified) or panics with the reason.
fn parse(segment: &[u8], src: IpAddr, dst: IpAddr) -> TcpRepr {
    let packet = TcpPacket::new_checked(segment).expect("check_len");
    assert!(packet.verify_checksum(src, dst), "fixture checksum");
    TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).expect("parse")
}

/// Emits `repr` with `payload` after the header, checksum in software.
fn emit(repr: &TcpRepr, payload: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let header_len = repr.buffer_len();
    let mut out = std::vec![0u8; header_len + payload.len()];
    out[header_len..].copy_from_slice(payload);
    let mut packet = TcpPacket::new_unchecked(&mut out[..]);
    repr.emit(&mut packet, src, dst, ChecksumMode::Software)
        .expect("emit");
    out
}

/// A valid SYN's TCP segment with the option bytes replaced by `options`
/// (a multiple of four, at most 40); the checksum is recomputed so only
/// the options can be wrong.
fn syn_with_options(options: &[u8]) -> Vec<u8> {
    assert!(options.len().is_multiple_of(4) && options.len() <= 40);
    let (syn, _, _) = tcp_segment(&V4_SYN);
    let mut bytes = Vec::from(&syn[..20]);
    bytes.extend_from_slice(options);
    let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
    packet.set_header_len(20 + options.len());
    packet.fill_checksum(A4, B4);
    bytes
}

#[test]
fn fixture_addresses_match_the_constants() {
    for (frame, src, dst, _) in FIXTURES {
        let (_, s, d) = tcp_segment(frame);
        assert_eq!((s, d), (src, dst));
    }
}

#[test]
fn parse_v4_syn_fields_and_options() {
    let (segment, src, dst) = tcp_segment(&V4_SYN);
    // Ethernet 14 + IPv4 20 (IHL 5): the 40-byte segment starts at 34.
    assert_eq!(segment, &V4_SYN[34..]);
    let packet = TcpPacket::new_checked(segment).unwrap();
    assert_eq!(packet.src_port(), 53322);
    assert_eq!(packet.dst_port(), 5000);
    assert_eq!(packet.seq_number(), SeqNumber(3460158171));
    assert_eq!(packet.ack_number(), SeqNumber(0));
    assert_eq!(packet.data_offset(), 10);
    assert_eq!(packet.header_len(), 40);
    assert_eq!(packet.flags(), TcpFlags::SYN);
    assert!(!packet.ns());
    assert_eq!(packet.window_len(), 64240);
    assert_eq!(packet.checksum(), 0xe38b);
    assert_eq!(packet.urgent_ptr(), 0);
    assert_eq!(packet.options().len(), 20);
    assert_eq!(packet.payload(), &[] as &[u8]);
    assert_eq!(packet.segment_len(), 1);
    assert!(packet.verify_checksum(src, dst));

    let options: Vec<_> = TcpOptions::new(packet.options())
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        options,
        [
            TcpOption::MaxSegmentSize(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                tsval: 1659465128,
                tsecr: 0
            },
            TcpOption::WindowScale(10),
        ]
    );

    let repr = TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
    assert_eq!(
        repr,
        TcpRepr {
            src_port: 53322,
            dst_port: 5000,
            flags: TcpFlags::SYN,
            seq_number: SeqNumber(3460158171),
            ack_number: None,
            window_len: 64240,
            window_scale: Some(10),
            max_seg_size: Some(1460),
            sack_permitted: true,
            sack_ranges: [None; 4],
            timestamp: Some((1659465128, 0)),
            urgent_ptr: None,
            payload_len: 0,
        }
    );
    assert_eq!(repr.segment_len(), 1);
    assert_eq!(repr.wire_flags(), TcpFlags::SYN);
}

#[test]
fn emit_of_parsed_syn_reproduces_linux_bytes() {
    let (segment, src, dst) = tcp_segment(&V4_SYN);
    let repr = parse(segment, src, dst);
    assert_eq!(repr.buffer_len(), 40);
    assert_eq!(repr.header_len(), 40);
    // Header, option layout and checksum all identical to Linux's.
    assert_eq!(emit(&repr, &[], src, dst), segment);
}

#[test]
fn parse_v4_syn_ack() {
    let (segment, src, dst) = tcp_segment(&V4_SYN_ACK);
    let repr = parse(segment, src, dst);
    assert_eq!(repr.flags, TcpFlags::SYN);
    assert_eq!(repr.wire_flags(), TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(repr.seq_number, SeqNumber(2629787291));
    // The SYN-ACK acknowledges the client's SYN: ISN + 1.
    assert_eq!(repr.ack_number, Some(SeqNumber(3460158171) + 1u32));
    assert_eq!(repr.window_len, 65160);
    assert_eq!(repr.max_seg_size, Some(1460));
    assert_eq!(repr.window_scale, Some(10));
    assert!(repr.sack_permitted);
    assert_eq!(repr.timestamp, Some((705182671, 1659465128)));
}

#[test]
fn parse_v4_data_segment() {
    let (segment, src, dst) = tcp_segment(&V4_DATA);
    let packet = TcpPacket::new_checked(segment).unwrap();
    assert_eq!(packet.payload(), b"hello\n");
    assert_eq!(packet.header_len(), 32);
    assert_eq!(packet.segment_len(), 6);
    let repr = TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
    assert_eq!(repr.flags, TcpFlags::PSH);
    assert_eq!(repr.payload_len, 6);
    assert_eq!(repr.segment_len(), 6);
    assert_eq!(repr.max_seg_size, None);
    assert_eq!(repr.window_scale, None);
    assert!(!repr.sack_permitted);
    assert_eq!(repr.timestamp, Some((1659465128, 705182671)));
    assert_eq!(repr.ack_number, Some(SeqNumber(2629787292)));
}

#[test]
fn parse_fin_and_rst() {
    let (segment, src, dst) = tcp_segment(&V4_FIN);
    let fin = parse(segment, src, dst);
    assert_eq!(fin.flags, TcpFlags::FIN);
    assert_eq!(fin.segment_len(), 1);
    // The FIN follows the six data bytes.
    assert_eq!(fin.seq_number, SeqNumber(3460158172) + 6usize);

    let (segment, src, dst) = tcp_segment(&V4_RST);
    let rst = parse(segment, src, dst);
    assert_eq!(rst.flags, TcpFlags::RST);
    assert_eq!(rst.seq_number, SeqNumber(0));
    assert_eq!(rst.ack_number, Some(SeqNumber(3366294411)));
    assert_eq!(rst.window_len, 0);
    assert_eq!(rst.buffer_len(), 20);
    assert_eq!(rst.segment_len(), 0);

    let (segment, src, dst) = tcp_segment(&V6_RST);
    let rst6 = parse(segment, src, dst);
    assert_eq!((rst6.src_port, rst6.dst_port), (9, 58580));
    assert_eq!(rst6.flags, TcpFlags::RST);
}

#[test]
fn parse_v6_syn() {
    let (segment, src, dst) = tcp_segment(&V6_SYN);
    // Ethernet 14 + IPv6 40: the segment starts at 54.
    assert_eq!(segment, &V6_SYN[54..]);
    let repr = parse(segment, src, dst);
    assert_eq!((repr.src_port, repr.dst_port), (43472, 5000));
    assert_eq!(repr.seq_number, SeqNumber(3411820322));
    // 1500 - 40 (IPv6) - 20 (TCP).
    assert_eq!(repr.max_seg_size, Some(1440));
    assert_eq!(repr.window_len, 64800);
    assert_eq!(emit(&repr, &[], src, dst), segment);
}

#[test]
fn parse_sack_blocks() {
    let (segment, src, dst) = tcp_segment(&SACK_3);
    let packet = TcpPacket::new_checked(segment).unwrap();
    let options: Vec<_> = TcpOptions::new(packet.options())
        .map(Result::unwrap)
        .collect();
    let blocks = [
        Some((4025957890, 4025960786)),
        Some((4025953546, 4025956442)),
        Some((4025949698, 4025952594)),
        None,
    ];
    assert_eq!(
        options,
        [
            TcpOption::Timestamps {
                tsval: 169977540,
                tsecr: 734522059
            },
            TcpOption::SackRange(blocks),
        ]
    );
    let repr = TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
    assert_eq!(repr.sack_ranges, blocks);
    assert_eq!(repr.buffer_len(), 60);

    let (segment, src, dst) = tcp_segment(&SACK_1);
    let repr = parse(segment, src, dst);
    assert_eq!(
        repr.sack_ranges,
        [Some((4025914034, 4025915482)), None, None, None]
    );
    assert_eq!(repr.buffer_len(), 44);
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    // Linux's segments are deterministic given their Repr: same option
    // layout, zero reserved bits, zero urgent pointer without URG.
    let segments = all_captured_segments();
    assert_eq!(segments.len(), 23);
    for (segment, src, dst) in segments {
        let repr = parse(segment, src, dst);
        let payload = TcpPacket::new_checked(segment).unwrap().payload();
        assert_eq!(repr.buffer_len(), segment.len() - payload.len());
        let out = emit(&repr, payload, src, dst);
        assert_eq!(out, segment, "{repr}");
        assert_eq!(parse(&out, src, dst), repr);
    }
}

#[test]
fn display_of_fixtures() {
    for (frame, src, dst, expected) in FIXTURES {
        let (segment, _, _) = tcp_segment(frame);
        assert_eq!(parse(segment, src, dst).to_string(), expected);
    }
}

#[test]
fn display_formats() {
    let base = TcpRepr {
        src_port: 4000,
        dst_port: 80,
        flags: TcpFlags::SYN,
        seq_number: SeqNumber(1),
        window_len: 64240,
        max_seg_size: Some(1460),
        sack_permitted: true,
        timestamp: Some((123, 0)),
        window_scale: Some(7),
        ..TcpRepr::default()
    };
    assert_eq!(
        base.to_string(),
        "TCP 4000 > 80 [S] seq 1 win 64240 mss 1460 sackOK ts 123/0 ws 7"
    );
    let synack = TcpRepr {
        src_port: 80,
        dst_port: 4000,
        seq_number: SeqNumber(5),
        ack_number: Some(SeqNumber(2)),
        window_len: 65160,
        max_seg_size: None,
        sack_permitted: false,
        timestamp: None,
        window_scale: None,
        ..base
    };
    assert_eq!(
        synack.to_string(),
        "TCP 80 > 4000 [S.] seq 5 ack 2 win 65160"
    );
    let none = TcpRepr {
        flags: TcpFlags::empty(),
        ack_number: None,
        ..synack
    };
    assert_eq!(none.to_string(), "TCP 80 > 4000 [none] seq 5 win 65160");
    let everything = TcpRepr {
        flags: TcpFlags::all(),
        ack_number: Some(SeqNumber(9)),
        urgent_ptr: Some(3),
        payload_len: 6,
        ..synack
    };
    // tcpdump's order; NS has no letter.
    assert_eq!(
        everything.to_string(),
        "TCP 80 > 4000 [FSRP.UEW] seq 5 ack 9 win 65160 urg 3 len 6"
    );
}

#[test]
fn every_prefix_of_every_fixture_is_an_error_or_a_parse() {
    for (segment, src, dst) in all_captured_segments() {
        for len in 0..=segment.len() {
            let prefix = &segment[..len];
            let Ok(packet) = TcpPacket::new_checked(prefix) else {
                assert!(len < TcpPacket::new_checked(segment).unwrap().header_len());
                continue;
            };
            let _ = packet.options();
            let _ = packet.payload();
            let _ = packet.segment_len();
            for option in TcpOptions::new(packet.options()) {
                let _ = option;
            }
            for mode in [ChecksumMode::Software, ChecksumMode::Offloaded] {
                match TcpRepr::parse(&packet, src, dst, mode) {
                    Ok(repr) => {
                        let _ = repr.to_string();
                        // Only the whole segment carries the right checksum.
                        assert!(mode == ChecksumMode::Offloaded || len == segment.len());
                    }
                    Err(err) => assert_eq!(err, Error::BadChecksum),
                }
            }
        }
    }
}

#[test]
fn truncated_fixed_header() {
    let (segment, _, _) = tcp_segment(&V4_RST);
    for len in 0..20 {
        assert_eq!(
            TcpPacket::new_checked(&segment[..len]).err(),
            Some(Error::Truncated)
        );
    }
    assert!(TcpPacket::new_checked(segment).is_ok());
}

#[test]
fn data_offset_below_five_is_bad_length() {
    let (segment, _, _) = tcp_segment(&V4_RST);
    for words in 0..5u8 {
        let mut bytes = Vec::from(segment);
        bytes[12] = (words << 4) | (bytes[12] & 0x0f);
        assert_eq!(
            TcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::BadLength),
            "data offset {words}"
        );
    }
}

#[test]
fn data_offset_beyond_buffer_is_truncated() {
    // The RST is 20 bytes; claim 6..=15 words.
    let (segment, _, _) = tcp_segment(&V4_RST);
    for words in 6..=15u8 {
        let mut bytes = Vec::from(segment);
        bytes[12] = words << 4;
        assert_eq!(
            TcpPacket::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }
    // The SYN's 40-byte header cut inside its options.
    let (segment, _, _) = tcp_segment(&V4_SYN);
    assert_eq!(
        TcpPacket::new_checked(&segment[..39]).err(),
        Some(Error::Truncated)
    );
}

#[test]
fn bad_checksum_over_ipv4() {
    let (segment, src, dst) = tcp_segment(&V4_DATA);
    let mut bytes = Vec::from(segment);
    *bytes.last_mut().unwrap() ^= 0x01; // corrupt the payload
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert!(!packet.verify_checksum(src, dst));
    assert_eq!(
        TcpRepr::parse(&packet, src, dst, ChecksumMode::Software),
        Err(Error::BadChecksum)
    );
    // A device that verified the checksum is trusted.
    assert!(TcpRepr::parse(&packet, src, dst, ChecksumMode::Offloaded).is_ok());
    // The right segment between the wrong addresses fails too.
    let good = TcpPacket::new_checked(segment).unwrap();
    let elsewhere = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
    assert!(!good.verify_checksum(src, elsewhere));
    assert_eq!(
        TcpRepr::parse(&good, src, elsewhere, ChecksumMode::Software),
        Err(Error::BadChecksum)
    );
}

#[test]
fn bad_checksum_over_ipv6() {
    let (segment, src, dst) = tcp_segment(&V6_SYN);
    let mut bytes = Vec::from(segment);
    bytes[17] ^= 0xff; // the checksum field itself
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, src, dst, ChecksumMode::Software),
        Err(Error::BadChecksum)
    );
    // The IPv4 pseudo-header does not verify an IPv6 segment.
    let good = TcpPacket::new_checked(segment).unwrap();
    assert!(good.verify_checksum(src, dst));
    assert!(!good.verify_checksum(A4, B4));
    // Mixed families do not panic.
    assert!(!good.verify_checksum(A4, dst));
}

#[test]
fn fill_checksum_matches_linux() {
    let (segment, src, dst) = tcp_segment(&V6_DATA);
    let mut bytes = Vec::from(segment);
    bytes[16] = 0;
    bytes[17] = 0;
    let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
    packet.fill_checksum(src, dst);
    assert_eq!(packet.checksum(), 0x2468);
}

#[test]
fn port_zero_is_malformed() {
    let (segment, src, dst) = tcp_segment(&V4_RST);
    for (at, port) in [(0, "source"), (2, "destination")] {
        let mut bytes = Vec::from(segment);
        bytes[at] = 0;
        bytes[at + 1] = 0;
        let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
        packet.fill_checksum(src, dst);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            TcpRepr::parse(&packet, src, dst, ChecksumMode::Software),
            Err(Error::Malformed),
            "{port}"
        );
    }
}

#[test]
fn odd_flag_combinations_are_kept_for_the_state_machine() {
    for flags in [
        TcpFlags::SYN | TcpFlags::RST,
        TcpFlags::SYN | TcpFlags::FIN,
        TcpFlags::all(),
        TcpFlags::empty(),
    ] {
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            flags,
            ack_number: flags.contains(TcpFlags::ACK).then_some(SeqNumber(7)),
            urgent_ptr: flags.contains(TcpFlags::URG).then_some(1),
            ..TcpRepr::default()
        };
        let bytes = emit(&repr, &[], A4, B4);
        let parsed = parse(&bytes, A4, B4);
        assert_eq!(parsed.wire_flags(), flags);
        assert_eq!(
            parsed,
            TcpRepr {
                flags: flags - TcpFlags::ACK - TcpFlags::URG,
                ..repr
            }
        );
    }
}

#[test]
fn ns_bit_is_readable_and_preserved() {
    let (segment, src, dst) = tcp_segment(&V4_RST);
    let mut bytes = Vec::from(segment);
    bytes[12] |= 0x01;
    TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(src, dst);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert!(packet.ns());
    assert!(packet.flags().contains(TcpFlags::NS | TcpFlags::RST));
    let repr = TcpRepr::parse(&packet, src, dst, ChecksumMode::Software).unwrap();
    assert!(repr.flags.contains(TcpFlags::NS));
    assert_eq!(emit(&repr, &[], src, dst), bytes);
}

#[test]
fn reserved_bits_are_ignored_and_cleared() {
    let (segment, src, dst) = tcp_segment(&V4_RST);
    let mut bytes = Vec::from(segment);
    bytes[12] |= 0x0e;
    TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(src, dst);
    let repr = parse(&bytes, src, dst);
    assert_eq!(repr.flags, TcpFlags::RST);
    assert_eq!(emit(&repr, &[], src, dst), segment);
}

#[test]
fn ack_and_urg_fields_without_their_flags_are_ignored() {
    let (segment, src, dst) = tcp_segment(&V4_SYN);
    let mut bytes = Vec::from(segment);
    bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
    bytes[18..20].copy_from_slice(&[5, 6]);
    TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(src, dst);
    let repr = parse(&bytes, src, dst);
    assert_eq!(repr.ack_number, None);
    assert_eq!(repr.urgent_ptr, None);
    // emit writes zeros there, which is Linux's SYN again.
    assert_eq!(emit(&repr, &[], src, dst), segment);
}

#[test]
fn ack_and_urg_in_flags_are_ignored_by_emit() {
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        flags: TcpFlags::ACK | TcpFlags::URG | TcpFlags::PSH,
        ..TcpRepr::default()
    };
    assert_eq!(repr.wire_flags(), TcpFlags::PSH);
    let bytes = emit(&repr, &[], A4, B4);
    assert_eq!(
        TcpPacket::new_checked(&bytes[..]).unwrap().flags(),
        TcpFlags::PSH
    );
}

#[test]
fn urgent_pointer_round_trip() {
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq_number: SeqNumber(100),
        ack_number: Some(SeqNumber(200)),
        urgent_ptr: Some(3),
        payload_len: 4,
        ..TcpRepr::default()
    };
    let bytes = emit(&repr, b"urgd", A6, B6);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.urgent_ptr(), 3);
    assert_eq!(packet.flags(), TcpFlags::ACK | TcpFlags::URG);
    assert_eq!(packet.payload(), b"urgd");
    assert_eq!(parse(&bytes, A6, B6), repr);
}

// Option malformations, each inside an otherwise valid SYN.

#[test]
fn option_length_zero() {
    let bytes = syn_with_options(&[2, 0, 5, 0xb4]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
    // An unknown kind with length 0 as well.
    let bytes = syn_with_options(&[99, 0, 1, 1]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn option_length_one() {
    let bytes = syn_with_options(&[1, 1, 99, 1]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    let mut options = TcpOptions::new(packet.options());
    assert_eq!(options.next(), Some(Err(Error::BadOption)));
    assert_eq!(options.next(), None);
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn option_overrunning_the_header() {
    // Timestamps claiming 10 bytes with 8 left in the header.
    let bytes = syn_with_options(&[1, 1, 8, 10, 0, 0, 0, 1]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
    // An unknown option claiming 255 bytes.
    let bytes = syn_with_options(&[200, 255, 0, 0]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
    // A kind byte as the last byte, its length missing.
    let bytes = syn_with_options(&[1, 1, 1, 3]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn option_options_do_not_read_into_the_payload() {
    // A 24-byte header whose option claims 8 bytes: the 4 bytes after the
    // header are payload and must not be read as option data.
    let (syn, _, _) = tcp_segment(&V4_SYN);
    let mut bytes = Vec::from(&syn[..20]);
    bytes.extend_from_slice(&[200, 8, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
    let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
    packet.set_header_len(24);
    packet.fill_checksum(A4, B4);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn option_wrong_mss_length() {
    for options in [[2u8, 3, 5, 1], [2, 2, 1, 1]] {
        let bytes = syn_with_options(&options);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
            Err(Error::BadOption)
        );
    }
    let bytes = syn_with_options(&[2, 5, 5, 0xb4, 0, 1, 1, 1]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn option_wrong_fixed_lengths() {
    // (option bytes, kind) with a length one off the fixed size.
    let cases: [&[u8]; 6] = [
        &[3, 2],                             // window scale, 2 instead of 3
        &[3, 4, 7, 0],                       // window scale, 4
        &[4, 3, 0],                          // SACK-permitted, 3
        &[4, 4, 0, 0],                       // SACK-permitted, 4
        &[8, 9, 0, 0, 0, 1, 0, 0, 0],        // timestamps, 9
        &[8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0], // timestamps, 11
    ];
    for case in cases {
        assert_eq!(TcpOption::parse(case), Err(Error::BadOption), "{case:?}");
        let mut padded = Vec::from(case);
        padded.resize(case.len().next_multiple_of(4), 1);
        let bytes = syn_with_options(&padded);
        let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
            Err(Error::BadOption),
            "{case:?}"
        );
    }
}

#[test]
fn option_sack_bad_lengths() {
    // No block: length 2.
    assert_eq!(TcpOption::parse(&[5, 2]), Err(Error::BadOption));
    // Not 2 + 8n.
    let mut ten = [0u8; 11];
    ten[..2].copy_from_slice(&[5, 11]);
    assert_eq!(TcpOption::parse(&ten), Err(Error::BadOption));
    // Five blocks: 42 bytes, more than RFC 2018 allows (and than a header
    // holds).
    let mut five = [0u8; 42];
    five[..2].copy_from_slice(&[5, 42]);
    assert_eq!(TcpOption::parse(&five), Err(Error::BadOption));
    // Four blocks is the maximum.
    let mut four = [0u8; 34];
    four[..2].copy_from_slice(&[5, 34]);
    assert!(matches!(
        TcpOption::parse(&four),
        Ok((
            TcpOption::SackRange([Some(_), Some(_), Some(_), Some(_)]),
            34
        ))
    ));
    // Inside a header: NOP NOP SACK with length 14 (2 + 12): a block and a
    // half.
    let bytes = syn_with_options(&[1, 1, 5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
    // A 42-byte SACK cannot fit in the 40 option bytes: it overruns.
    let mut options = [0u8; 40];
    options[..2].copy_from_slice(&[5, 42]);
    let bytes = syn_with_options(&options);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software),
        Err(Error::BadOption)
    );
}

#[test]
fn options_stop_at_end_of_list_and_skip_nops() {
    // NOP, MSS, EOL, then bytes that would be a malformed option.
    let bytes = [1, 2, 4, 5, 0xb4, 0, 2, 0];
    let options: Vec<_> = TcpOptions::new(&bytes).collect();
    assert_eq!(options, [Ok(TcpOption::MaxSegmentSize(1460))]);
    // Only padding.
    assert_eq!(TcpOptions::new(&[1, 1, 1, 1]).count(), 0);
    assert_eq!(TcpOptions::new(&[0, 1, 1, 1]).count(), 0);
    assert_eq!(TcpOptions::new(&[]).count(), 0);
    // Single-byte options parse on their own.
    assert_eq!(TcpOption::parse(&[0]), Ok((TcpOption::EndOfList, 1)));
    assert_eq!(TcpOption::parse(&[1, 9]), Ok((TcpOption::NoOperation, 1)));
    assert_eq!(TcpOption::parse(&[]), Err(Error::Truncated));
}

#[test]
fn unknown_options_are_yielded_and_skipped_by_the_repr() {
    // MD5 signature (kind 19, 18 bytes) as Linux lays it out: NOP NOP MD5.
    let mut options = [0u8; 20];
    options[..4].copy_from_slice(&[1, 1, 19, 18]);
    options[4..20].copy_from_slice(&[0x5a; 16]);
    let bytes = syn_with_options(&options);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    let found: Vec<_> = TcpOptions::new(packet.options()).collect();
    assert_eq!(
        found,
        [Ok(TcpOption::Unknown {
            kind: 19,
            data: &[0x5a; 16]
        })]
    );
    assert_eq!(found[0].unwrap().kind(), TcpOptionKind::Unknown(19));
    let repr = TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software).unwrap();
    assert_eq!(repr.buffer_len(), 20);
}

#[test]
fn option_walk_always_terminates() {
    // Pseudo-random option areas (xorshift) of every length: the walk
    // never yields more items than there are bytes and always ends.
    let mut x: u32 = 0x9e37_79b9;
    let mut area = [0u8; 40];
    for round in 0..20_000 {
        for b in area.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Bias towards small kinds and lengths, where the edge cases are.
            *b = if round % 2 == 0 {
                (x % 12) as u8
            } else {
                x as u8
            };
        }
        let len = (x as usize) % 41;
        let mut steps = 0;
        for item in TcpOptions::new(&area[..len]) {
            steps += 1;
            assert!(steps <= len);
            if let Ok(option) = item {
                // Whatever parses emits back to something that parses to
                // the same option.
                let mut out = [0u8; 64];
                let n = option.emit(&mut out).unwrap();
                assert_eq!(TcpOption::parse(&out[..n]), Ok((option, n)));
            }
        }
    }
}

#[test]
fn window_scale_above_14_is_clamped() {
    let bytes = syn_with_options(&[1, 3, 3, 15]);
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    // The view shows the wire value; the Repr applies RFC 7323 2.3.
    assert_eq!(
        TcpOptions::new(packet.options()).next(),
        Some(Ok(TcpOption::WindowScale(15)))
    );
    let repr = TcpRepr::parse(&packet, A4, B4, ChecksumMode::Software).unwrap();
    assert_eq!(repr.window_scale, Some(14));
    // emit never writes more than 14 either.
    let out = emit(
        &TcpRepr {
            window_scale: Some(200),
            ..repr
        },
        &[],
        A4,
        B4,
    );
    assert_eq!(&out[20..24], &[1, 3, 3, 14]);
}

#[test]
fn duplicate_options_last_one_counts() {
    let bytes = syn_with_options(&[2, 4, 1, 0, 2, 4, 2, 0]);
    let repr = parse(&bytes, A4, B4);
    assert_eq!(repr.max_seg_size, Some(512));
}

#[test]
fn emit_each_option() {
    let ranges = [Some((1, 2)), Some((3, 4)), None, None];
    let cases: [(TcpOption, &[u8]); 8] = [
        (TcpOption::EndOfList, &[0]),
        (TcpOption::NoOperation, &[1]),
        (TcpOption::MaxSegmentSize(1460), &[2, 4, 5, 0xb4]),
        (TcpOption::WindowScale(7), &[3, 3, 7]),
        (TcpOption::SackPermitted, &[4, 2]),
        (
            TcpOption::SackRange(ranges),
            &[5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4],
        ),
        (
            TcpOption::Timestamps {
                tsval: 0x01020304,
                tsecr: 0x05060708,
            },
            &[8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
        ),
        (
            TcpOption::Unknown {
                kind: 30,
                data: &[0xab, 0xcd],
            },
            &[30, 4, 0xab, 0xcd],
        ),
    ];
    for (option, wire) in cases {
        let mut out = [0xeeu8; 40];
        assert_eq!(option.buffer_len(), wire.len());
        assert_eq!(option.emit(&mut out), Ok(wire.len()));
        assert_eq!(&out[..wire.len()], wire);
        assert_eq!(out[wire.len()], 0xee, "wrote past the option");
        assert_eq!(TcpOption::parse(wire), Ok((option, wire.len())));
        // One byte short.
        assert_eq!(
            option.emit(&mut out[..wire.len() - 1]),
            Err(Error::BufferTooSmall)
        );
    }
}

#[test]
fn emit_of_unwritable_options_fails() {
    let mut out = [0u8; 300];
    assert_eq!(
        TcpOption::SackRange([None; 4]).emit(&mut out),
        Err(Error::BadOption)
    );
    let big = [0u8; 254];
    assert_eq!(
        TcpOption::Unknown {
            kind: 99,
            data: &big
        }
        .emit(&mut out),
        Err(Error::BadOption)
    );
    let fits = [0u8; 253];
    assert_eq!(
        TcpOption::Unknown {
            kind: 99,
            data: &fits
        }
        .emit(&mut out),
        Ok(255)
    );
}

#[test]
fn emit_layouts_follow_linux() {
    let base = TcpRepr {
        src_port: 1,
        dst_port: 2,
        ..TcpRepr::default()
    };
    let cases: [(TcpRepr, &[u8]); 5] = [
        (base, &[]),
        (
            TcpRepr {
                timestamp: Some((1, 2)),
                ..base
            },
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
        ),
        (
            TcpRepr {
                sack_permitted: true,
                ..base
            },
            &[1, 1, 4, 2],
        ),
        (
            TcpRepr {
                max_seg_size: Some(536),
                window_scale: Some(0),
                ..base
            },
            &[2, 4, 2, 0x18, 1, 3, 3, 0],
        ),
        (
            TcpRepr {
                sack_ranges: [Some((5, 6)), None, None, None],
                ..base
            },
            &[1, 1, 5, 10, 0, 0, 0, 5, 0, 0, 0, 6],
        ),
    ];
    for (repr, options) in cases {
        let bytes = emit(&repr, &[], A4, B4);
        assert_eq!(&bytes[20..], options, "{repr}");
        assert_eq!(parse(&bytes, A4, B4), repr);
    }
}

#[test]
fn sack_blocks_are_dropped_to_fit_60_bytes() {
    let four = [Some((1, 2)), Some((3, 4)), Some((5, 6)), Some((7, 8))];
    // Timestamps and four blocks: 12 + 36 > 40, so three blocks go out,
    // as Linux sends them.
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        ack_number: Some(SeqNumber(1)),
        timestamp: Some((9, 9)),
        sack_ranges: four,
        ..TcpRepr::default()
    };
    assert_eq!(repr.buffer_len(), 60);
    let bytes = emit(&repr, &[], A4, B4);
    let parsed = parse(&bytes, A4, B4);
    assert_eq!(parsed.sack_ranges, [four[0], four[1], four[2], None]);
    assert_eq!(parsed.timestamp, Some((9, 9)));

    // MSS, window scale and timestamps leave room for two.
    let crowded = TcpRepr {
        max_seg_size: Some(1460),
        window_scale: Some(7),
        ..repr
    };
    assert_eq!(crowded.buffer_len(), 60);
    let parsed = parse(&emit(&crowded, &[], A4, B4), A4, B4);
    assert_eq!(parsed.sack_ranges, [four[0], four[1], None, None]);

    // Everything at once still fits in 60 bytes.
    let full = TcpRepr {
        sack_permitted: true,
        ..crowded
    };
    assert_eq!(full.buffer_len(), 60);
    assert_eq!(emit(&full, &[], A4, B4).len(), 60);

    // Blocks with holes in the array are written in order, compacted.
    let holes = TcpRepr {
        timestamp: None,
        sack_ranges: [None, Some((1, 2)), None, Some((3, 4))],
        ..repr
    };
    let parsed = parse(&emit(&holes, &[], A4, B4), A4, B4);
    assert_eq!(parsed.sack_ranges, [Some((1, 2)), Some((3, 4)), None, None]);
}

#[test]
fn packed_layout_when_aligned_does_not_fit() {
    // MSS + SACK-permitted + four blocks: 4 + 2 + 34 = 40 bytes packed,
    // 44 aligned. Packing keeps every block, so the Repr round-trips.
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        max_seg_size: Some(1000),
        sack_permitted: true,
        sack_ranges: [Some((1, 2)), Some((3, 4)), Some((5, 6)), Some((7, 8))],
        ..TcpRepr::default()
    };
    assert_eq!(repr.buffer_len(), 60);
    let bytes = emit(&repr, &[], A4, B4);
    assert_eq!(&bytes[20..28], &[2, 4, 3, 0xe8, 4, 2, 5, 34]);
    assert_eq!(parse(&bytes, A4, B4), repr);

    // SACK-permitted + window scale + four blocks: 2 + 3 + 34 = 39 packed,
    // padded to 40 with an End of Option List.
    let padded = TcpRepr {
        max_seg_size: None,
        window_scale: Some(2),
        ..repr
    };
    assert_eq!(padded.buffer_len(), 60);
    let bytes = emit(&padded, &[], A4, B4);
    assert_eq!(&bytes[20..27], &[4, 2, 3, 3, 2, 5, 34]);
    assert_eq!(bytes[59], 0);
    assert_eq!(parse(&bytes, A4, B4), padded);

    // With timestamps as well, one block has to go.
    let repr = TcpRepr {
        max_seg_size: None,
        window_scale: Some(2),
        timestamp: Some((1, 1)),
        sack_ranges: [Some((1, 2)), Some((3, 4)), Some((5, 6)), None],
        ..repr
    };
    // Aligned: 12 + 4 + 28 = 44; packed: 2 + 10 + 3 + 26 = 41 > 40. With
    // two blocks the aligned layout fits again (12 + 4 + 20 = 36).
    assert_eq!(repr.buffer_len(), 56);
    let parsed = parse(&emit(&repr, &[], A4, B4), A4, B4);
    assert_eq!(parsed.sack_ranges, [Some((1, 2)), Some((3, 4)), None, None]);
}

#[test]
fn emit_into_a_short_buffer_fails_without_writing() {
    let (segment, src, dst) = tcp_segment(&V4_DATA);
    let repr = parse(segment, src, dst);
    // Header fits, payload does not.
    let mut out = [0xeeu8; 37];
    let mut packet = TcpPacket::new_unchecked(&mut out[..]);
    assert_eq!(
        repr.emit(&mut packet, src, dst, ChecksumMode::Software),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(out, [0xee; 37]);
    let mut empty = [0u8; 0];
    let mut packet = TcpPacket::new_unchecked(&mut empty[..]);
    assert_eq!(
        repr.emit(&mut packet, src, dst, ChecksumMode::Offloaded),
        Err(Error::BufferTooSmall)
    );
    // A payload length that overflows does not panic.
    let absurd = TcpRepr {
        payload_len: usize::MAX,
        ..repr
    };
    let mut out = [0u8; 64];
    let mut packet = TcpPacket::new_unchecked(&mut out[..]);
    assert_eq!(
        absurd.emit(&mut packet, src, dst, ChecksumMode::Software),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(absurd.segment_len(), usize::MAX);
}

#[test]
fn emit_offloaded_then_fill_checksum() {
    let (segment, src, dst) = tcp_segment(&V6_DATA);
    let repr = parse(segment, src, dst);
    let header_len = repr.buffer_len();
    let mut out = Vec::from(segment);
    out[..header_len].fill(0xee);
    let mut packet = TcpPacket::new_unchecked(&mut out[..]);
    repr.emit(&mut packet, src, dst, ChecksumMode::Offloaded)
        .unwrap();
    assert_eq!(packet.checksum(), 0);
    packet.fill_checksum(src, dst);
    assert_eq!(out, segment);
}

#[test]
fn setters_write_what_getters_read() {
    let mut bytes = [0u8; 28];
    let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
    packet.set_src_port(1);
    packet.set_dst_port(2);
    packet.set_seq_number(SeqNumber(3));
    packet.set_ack_number(SeqNumber(4));
    packet.set_flags(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR);
    packet.set_header_len(24);
    packet.set_window_len(5);
    packet.set_checksum(6);
    packet.set_urgent_ptr(7);
    packet.options_mut().copy_from_slice(&[1, 1, 1, 0]);
    packet.payload_mut().copy_from_slice(b"data");
    let packet = TcpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.src_port(), 1);
    assert_eq!(packet.dst_port(), 2);
    assert_eq!(packet.seq_number(), SeqNumber(3));
    assert_eq!(packet.ack_number(), SeqNumber(4));
    assert_eq!(
        packet.flags(),
        TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR
    );
    assert_eq!(packet.header_len(), 24);
    assert_eq!(packet.window_len(), 5);
    assert_eq!(packet.checksum(), 6);
    assert_eq!(packet.urgent_ptr(), 7);
    assert_eq!(packet.options(), &[1, 1, 1, 0]);
    assert_eq!(packet.payload(), b"data");
    assert_eq!(packet.segment_len(), 5);
    assert_eq!(packet.as_ref().len(), 28);
    assert_eq!(packet.into_inner().len(), 28);
}

#[test]
fn accessors_survive_an_inconsistent_data_offset() {
    // A checked view whose data offset is then changed past the buffer:
    // options and payload come back empty instead of panicking.
    let mut bytes = [0u8; 20];
    bytes[12] = 0x50;
    let mut packet = TcpPacket::new_checked(&mut bytes[..]).unwrap();
    packet.set_header_len(60);
    assert_eq!(packet.options(), &[] as &[u8]);
    assert_eq!(packet.options_mut(), &mut [] as &mut [u8]);
    assert_eq!(packet.payload_mut(), &mut [] as &mut [u8]);
    assert_eq!(packet.payload_len(), 0);
    assert_eq!(packet.check_len(), Err(Error::Truncated));
    let packet = TcpPacket::new_unchecked(&bytes[..]);
    assert_eq!(packet.payload(), &[] as &[u8]);
}

#[test]
fn ecn_flags_display() {
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        flags: TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR,
        ..TcpRepr::default()
    };
    assert_eq!(format!("{repr}"), "TCP 1 > 2 [SEW] seq 0 win 0");
}
