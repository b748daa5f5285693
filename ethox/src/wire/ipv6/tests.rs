//! Tests for the IPv6 module: real captures (see each constant for the
//! command that produced it; the files are in `ethox/tests/fixtures/`),
//! round trips, one test per malformation, and robustness loops.

extern crate std;

use std::format;
use std::string::ToString;
use std::vec::Vec;

use super::*;
use crate::wire::ethernet::EthernetAddress;

/// ICMPv6 echo request fd00::1 > fd00::2, id 9398 seq 1, from
/// `ping -6 -c 2 fd00::2` (ipv6-icmp-echo.pcap, frame 1; Ethernet header removed).
const ECHO_REQUEST: [u8; 104] = [
    0x60, 0x01, 0x5a, 0x09, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x2c, 0xaf, 0x24, 0xb6, 0x00, 0x01,
    0xe8, 0x1a, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x87, 0xc1, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
];

/// The echo reply to it (ipv6-icmp-echo.pcap, frame 2).
const ECHO_REPLY: [u8; 104] = [
    0x60, 0x06, 0x8f, 0xd7, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x2b, 0xaf, 0x24, 0xb6, 0x00, 0x01,
    0xe8, 0x1a, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x87, 0xc1, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
];

/// MLDv2 report for ff02::1234 that Linux sent when
/// `socat UDP6-RECV:5000,ipv6-join-group=[ff02::1234]:eth0` joined the group:
/// hop-by-hop header with Router Alert (MLD) and a PadN (ipv6-mld-hbh.pcap, frame 2).
const MLD_REPORT: [u8; 76] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
    0x8f, 0x00, 0x5e, 0xd6, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34,
];

/// First fragment of `ping -6 -s 1300 -c 1 fd00::2` after
/// `ip link set eth0 mtu 1280` (ipv6-frag.pcap, frame 1): offset 0, M set.
const FRAG_FIRST: [u8; 1280] = [
    0x60, 0x01, 0x5a, 0x09, 0x04, 0xd8, 0x2c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x00, 0x00, 0x01, 0xd6, 0xa1, 0xaa, 0x8b,
    0x80, 0x00, 0x00, 0x45, 0x29, 0xbd, 0x00, 0x01, 0xfa, 0x1a, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x74, 0xb8, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
];

/// Last fragment of the same datagram (ipv6-frag.pcap, frame 2): offset 1232, M clear.
const FRAG_LAST: [u8; 124] = [
    0x60, 0x01, 0x5a, 0x09, 0x00, 0x54, 0x2c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x00, 0x04, 0xd0, 0xd6, 0xa1, 0xaa, 0x8b,
    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
];

/// Crafted with scapy and sent between the test namespaces (ipv6-ext-scapy.pcap, frame 1):
/// `IPv6()/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b"\x11\x22\x33")])
/// /IPv6ExtHdrRouting(addresses=["fd00::3"], segleft=1)/UDP(sport=4000, dport=5000)/b"hello"`.
const DSTOPT_RT0_UDP: [u8; 85] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x3c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x2b, 0x00, 0x3e, 0x03, 0x11, 0x22, 0x33, 0x00,
    0x11, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x9e, 0xd4,
    0x68, 0x65, 0x6c, 0x6c, 0x6f,
];

/// Crafted with scapy (ipv6-ext-scapy.pcap, frame 2): traffic class 0xb8, flow label
/// 0x12345, hop-by-hop (Router Alert) + routing type 0 (segleft 0) + fragment
/// (id 0xcafe, atomic) + destination options (type 0xde) + UDP 4000 > 5000 "chain".
const FULL_CHAIN: [u8; 101] = [
    0x6b, 0x81, 0x23, 0x45, 0x00, 0x3d, 0x00, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x2b, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
    0x2c, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xca, 0xfe,
    0x11, 0x00, 0xde, 0x04, 0x01, 0x02, 0x03, 0x04, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0xaf, 0xd5,
    0x63, 0x68, 0x61, 0x69, 0x6e,
];

/// Crafted with scapy (ipv6-ext-scapy.pcap, frame 3): segment routing header
/// (type 4, segleft 0, segments fd00::2 fd00::9) + UDP.
const SRH_UDP: [u8; 91] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x33, 0x2b, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x04, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,
    0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
    0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0b, 0x07, 0x39, 0x73, 0x72, 0x68,
];

const ALL_FIXTURES: [&[u8]; 8] = [
    &ECHO_REQUEST,
    &ECHO_REPLY,
    &MLD_REPORT,
    &FRAG_FIRST,
    &FRAG_LAST,
    &DSTOPT_RT0_UDP,
    &FULL_CHAIN,
    &SRH_UDP,
];

const FD00_1: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const FD00_2: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
const FD00_3: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 3);

fn parse(bytes: &[u8]) -> (Ipv6Packet<&[u8]>, Ipv6Repr) {
    let packet = Ipv6Packet::new_checked(bytes).unwrap();
    let repr = Ipv6Repr::parse(&packet).unwrap();
    (packet, repr)
}

/// Every item of the walk, errors included.
fn chain(bytes: &[u8]) -> Vec<Result<Ipv6ChainItem<'_>>> {
    let packet = Ipv6Packet::new_checked(bytes).unwrap();
    Ipv6HeaderChain::new(&packet).unwrap().collect()
}

/// The extension headers of a packet that walks without error.
fn ext_headers(bytes: &[u8]) -> Vec<Ipv6ExtHeader<'_>> {
    chain(bytes)
        .into_iter()
        .filter_map(|item| match item.unwrap() {
            Ipv6ChainItem::Extension(header) => Some(header),
            Ipv6ChainItem::UpperLayer(_) => None,
        })
        .collect()
}

fn walk_bytes(bytes: &[u8]) -> Result<Ipv6UpperLayer<'_>> {
    walk(&Ipv6Packet::new_checked(bytes)?)
}

/// A packet fd00::1 > fd00::2 with `next` in the fixed header, then the
/// given headers and upper-layer bytes; Payload Length is set to match.
fn build(next: u8, headers: &[&[u8]], upper: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, next, 64]);
    out.extend_from_slice(&FD00_1.octets());
    out.extend_from_slice(&FD00_2.octets());
    for header in headers {
        out.extend_from_slice(header);
    }
    out.extend_from_slice(upper);
    let len = (out.len() - 40) as u16;
    out[4..6].copy_from_slice(&len.to_be_bytes());
    out
}

/// An 8-byte destination options header (one PadN) pointing at `next`.
fn dest_opts(next: u8) -> [u8; 8] {
    [next, 0, 1, 4, 0, 0, 0, 0]
}

const UDP_HEADER: [u8; 8] = [0x0f, 0xa0, 0x13, 0x88, 0x00, 0x08, 0x00, 0x00];

// --- fixed header ----------------------------------------------------------

#[test]
fn parse_echo_request() {
    let (packet, repr) = parse(&ECHO_REQUEST);
    assert_eq!(packet.version(), 6);
    assert_eq!(packet.traffic_class(), 0);
    assert_eq!((packet.dscp(), packet.ecn()), (0, 0));
    assert_eq!(packet.flow_label(), 0x15a09);
    assert_eq!(packet.payload_len(), 64);
    assert_eq!(packet.next_header(), IpProtocol::Icmpv6);
    assert_eq!(packet.hop_limit(), 64);
    assert_eq!(packet.src_addr(), FD00_1);
    assert_eq!(packet.dst_addr(), FD00_2);
    assert_eq!(packet.header_len(), 40);
    assert_eq!(packet.total_len(), 104);
    assert_eq!(packet.payload(), &ECHO_REQUEST[40..]);
    // ICMPv6 echo request, type 128.
    assert_eq!(packet.payload()[0], 128);
    assert_eq!(
        repr,
        Ipv6Repr {
            src: FD00_1,
            dst: FD00_2,
            next_header: IpProtocol::Icmpv6,
            payload_len: 64,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0x15a09,
        }
    );
    let upper = walk(&packet).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Icmpv6);
    assert_eq!((upper.offset, upper.payload.len()), (40, 64));
    assert_eq!((upper.fragment, upper.ext_headers), (None, 0));
}

#[test]
fn parse_echo_reply() {
    let (_, repr) = parse(&ECHO_REPLY);
    assert_eq!((repr.src, repr.dst), (FD00_2, FD00_1));
    assert_eq!(repr.flow_label, 0x68fd7);
    assert_eq!(repr.next_header, IpProtocol::Icmpv6);
    assert_eq!(repr.payload_len, 64);
}

#[test]
fn emit_reproduces_every_fixed_header() {
    for fixture in ALL_FIXTURES {
        let (_, repr) = parse(fixture);
        assert_eq!(repr.buffer_len(), 40);
        let mut out = fixture.to_vec();
        out[..40].fill(0xa5);
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
        assert_eq!(&out[..40], &fixture[..40]);
        assert_eq!(parse(&out).1, repr);
    }
}

#[test]
fn setters_keep_neighbouring_fields() {
    let mut bytes = FULL_CHAIN;
    let mut packet = Ipv6Packet::new_unchecked(&mut bytes[..]);
    packet.set_traffic_class(0x01);
    assert_eq!(packet.flow_label(), 0x12345);
    assert_eq!(packet.version(), 6);
    packet.set_flow_label(0xfff_ffff);
    assert_eq!(packet.flow_label(), 0xf_ffff);
    assert_eq!(packet.traffic_class(), 0x01);
    packet.set_version(4);
    assert_eq!(packet.version(), 4);
    assert_eq!(
        (packet.traffic_class(), packet.flow_label()),
        (0x01, 0xf_ffff)
    );
    packet.set_hop_limit(1);
    packet.set_payload_len(0);
    assert_eq!(packet.payload_mut().len(), 0);
    assert_eq!(packet.hop_limit(), 1);
}

#[test]
fn traffic_class_of_crafted_chain() {
    let (packet, repr) = parse(&FULL_CHAIN);
    assert_eq!(repr.traffic_class, 0xb8);
    assert_eq!((packet.dscp(), packet.ecn()), (46, 0));
    assert_eq!(repr.flow_label, 0x12345);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A 60-byte-minimum link pads short packets: the padding must not show
    // up in the payload or the upper layer.
    let mut padded = MLD_REPORT.to_vec();
    padded.extend_from_slice(&[0; 10]);
    let packet = Ipv6Packet::new_checked(&padded[..]).unwrap();
    assert_eq!(packet.payload(), &MLD_REPORT[40..]);
    assert_eq!(packet.packet_bytes(), &MLD_REPORT[..]);
    let upper = walk(&packet).unwrap();
    assert_eq!(upper.payload, &MLD_REPORT[48..]);
}

#[test]
fn truncated_fixed_header() {
    assert_eq!(
        Ipv6Packet::new_checked(&ECHO_REQUEST[..39]).err(),
        Some(Error::Truncated)
    );
    assert_eq!(
        Ipv6Packet::new_checked(&[][..]).err(),
        Some(Error::Truncated)
    );
}

#[test]
fn payload_length_beyond_buffer() {
    let mut bytes = ECHO_REQUEST;
    bytes[4..6].copy_from_slice(&65u16.to_be_bytes());
    let packet = Ipv6Packet::new_unchecked(&bytes[..]);
    assert_eq!(packet.check_len(), Err(Error::Truncated));
    assert_eq!(Ipv6Repr::parse(&packet), Err(Error::Truncated));
    assert_eq!(Ipv6HeaderChain::new(&packet).err(), Some(Error::Truncated));
}

#[test]
fn bad_version() {
    let mut bytes = ECHO_REQUEST;
    bytes[0] = 0x40 | (bytes[0] & 0x0f);
    let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(Ipv6Repr::parse(&packet), Err(Error::BadVersion));
}

#[test]
fn jumbogram_is_unsupported() {
    // Payload Length 0 and a hop-by-hop header with a Jumbo Payload option
    // (RFC 2675) carrying 70000.
    let jumbo = [IpProtocol::Udp.into(), 0, 0xc2, 4, 0x00, 0x01, 0x11, 0x70];
    let mut bytes = build(0, &[&jumbo], &UDP_HEADER);
    bytes[4..6].fill(0);
    let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(Ipv6Repr::parse(&packet), Err(Error::Unsupported));
    assert_eq!(walk(&packet), Err(Error::Unsupported));
    // The option itself is reported as an unknown option, not rejected.
    let header = Ipv6OptionsHeader::new_checked(&jumbo[..]).unwrap();
    let repr = Ipv6OptionsRepr::parse(&header).unwrap();
    let option = repr.iter().next().unwrap().unwrap();
    assert_eq!(option.option_type(), 0xc2);
    assert_eq!(
        option.action(),
        Ipv6OptionAction::DiscardSendIcmpUnlessMulticast
    );
}

#[test]
fn multicast_source_and_unspecified_destination_are_malformed() {
    let mut bytes = ECHO_REQUEST;
    bytes[8] = 0xff;
    let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(Ipv6Repr::parse(&packet), Err(Error::Malformed));
    let mut bytes = ECHO_REQUEST;
    bytes[24..40].fill(0);
    let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(Ipv6Repr::parse(&packet), Err(Error::Malformed));
}

// --- extension headers from captures -----------------------------------------

#[test]
fn mld_report_with_router_alert() {
    let (packet, repr) = parse(&MLD_REPORT);
    assert_eq!(
        repr.src,
        link_local_from_mac(EthernetAddress([2, 0, 0, 0, 0, 1]))
    );
    assert_eq!(repr.dst, ALL_MLDV2_ROUTERS);
    assert_eq!(repr.hop_limit, 1);
    assert_eq!(repr.next_header, IpProtocol::HopByHop);
    assert_eq!(repr.payload_len, 36);

    let header = Ipv6HopByHopHeader::new_checked(packet.payload()).unwrap();
    assert_eq!(header.next_header(), IpProtocol::Icmpv6);
    assert_eq!((header.header_len_field(), header.header_len()), (0, 8));
    let hbh = Ipv6OptionsRepr::parse(&header).unwrap();
    let options: Vec<_> = hbh.iter().map(|o| o.unwrap()).collect();
    assert_eq!(
        options,
        [
            Ipv6OptionRepr::RouterAlert(RouterAlert::Mld),
            Ipv6OptionRepr::PadN(&[])
        ]
    );
    assert_eq!(header.payload().len(), 28);
    // MLDv2 report, type 143.
    assert_eq!(header.payload()[0], 143);

    let headers = ext_headers(&MLD_REPORT);
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].kind(), Ipv6ExtHeaderKind::HopByHop);
    assert_eq!((headers[0].offset, headers[0].len), (40, 8));
    assert_eq!(headers[0].repr, Ipv6ExtHeaderRepr::HopByHop(hbh));
    let upper = walk(&packet).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Icmpv6);
    assert_eq!((upper.offset, upper.payload), (48, &MLD_REPORT[48..]));
    assert_eq!(upper.ext_headers, 1);
}

#[test]
fn mld_hop_by_hop_built_from_typed_options() {
    // What Linux sends: Router Alert (MLD), then a PadN of 0 data bytes
    // that emit adds.
    let mut scratch = [0u8; 16];
    let n = encode_options(
        &[Ipv6OptionRepr::RouterAlert(RouterAlert::Mld)],
        &mut scratch,
    )
    .unwrap();
    let repr = Ipv6OptionsRepr {
        next_header: IpProtocol::Icmpv6,
        options: &scratch[..n],
    };
    assert_eq!(repr.buffer_len(), 8);
    let mut out = [0xffu8; 8];
    repr.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[..]));
    assert_eq!(out, MLD_REPORT[40..48]);
}

#[test]
fn first_fragment() {
    let (_, repr) = parse(&FRAG_FIRST);
    assert_eq!(repr.next_header, IpProtocol::Ipv6Frag);
    assert_eq!(repr.payload_len, 1240);
    let header = Ipv6FragmentHeader::new_checked(&FRAG_FIRST[40..]).unwrap();
    assert_eq!(header.next_header(), IpProtocol::Icmpv6);
    assert_eq!((header.frag_offset(), header.more_frags()), (0, true));
    assert_eq!(header.ident(), 0xd6a1aa8b);
    let frag = Ipv6FragmentRepr::parse(&header).unwrap();
    assert!(frag.is_first() && !frag.is_atomic());

    let upper = walk_bytes(&FRAG_FIRST).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Icmpv6);
    assert_eq!((upper.offset, upper.payload.len()), (48, 1232));
    assert_eq!(upper.fragment, Some(frag));
    assert!(upper.is_fragment() && !upper.is_non_first_fragment());
    // The echo request header is in the first fragment.
    assert_eq!(upper.payload[0], 128);
}

#[test]
fn last_fragment_stops_at_fragment_header() {
    let upper = walk_bytes(&FRAG_LAST).unwrap();
    let frag = upper.fragment.unwrap();
    assert_eq!(frag.frag_offset, 154);
    assert_eq!(frag.byte_offset(), 1232);
    assert!(!frag.more_frags);
    assert_eq!(frag.ident, 0xd6a1aa8b);
    assert!(upper.is_fragment() && upper.is_non_first_fragment());
    // The protocol of the reassembled payload, but the bytes are data.
    assert_eq!(upper.protocol, IpProtocol::Icmpv6);
    assert_eq!((upper.offset, upper.payload), (48, &FRAG_LAST[48..]));
    assert_eq!(upper.payload.len(), 76);
}

#[test]
fn non_first_fragment_does_not_look_past_the_fragment_header() {
    // A non-first fragment whose data starts with bytes that would be a
    // bogus ESP or hop-by-hop header if read as one: no error.
    let frag = [IpProtocol::Ipv6Opts.into(), 0, 0x00, 0x08, 0, 0, 0, 1];
    let bytes = build(44, &[&frag], &[0xff; 16]);
    let upper = walk_bytes(&bytes).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Ipv6Opts);
    assert!(upper.is_non_first_fragment());
    assert_eq!(upper.payload, &[0xff; 16]);
}

#[test]
fn destination_options_and_type0_routing() {
    let headers = ext_headers(&DSTOPT_RT0_UDP);
    assert_eq!(headers.len(), 2);

    assert_eq!(headers[0].kind(), Ipv6ExtHeaderKind::DestinationOptions);
    assert_eq!((headers[0].offset, headers[0].len), (40, 8));
    let Ipv6ExtHeaderRepr::DestinationOptions(opts) = headers[0].repr else {
        panic!("not a destination options header")
    };
    assert_eq!(opts.next_header, IpProtocol::Ipv6Route);
    let options: Vec<_> = opts.iter().map(|o| o.unwrap()).collect();
    assert_eq!(
        options,
        [
            Ipv6OptionRepr::Other {
                option_type: 0x3e,
                data: &[0x11, 0x22, 0x33]
            },
            Ipv6OptionRepr::Pad1
        ]
    );
    // 0x3e: 00 (skip if unknown), 1 (may change), 11110 (RFC 4727 experiment).
    assert_eq!(options[0].action(), Ipv6OptionAction::Skip);
    assert!(options[0].may_change());

    assert_eq!(headers[1].kind(), Ipv6ExtHeaderKind::Routing);
    assert_eq!((headers[1].offset, headers[1].len), (48, 24));
    let Ipv6ExtHeaderRepr::Routing(routing) = headers[1].repr else {
        panic!("not a routing header")
    };
    assert_eq!(routing.next_header, IpProtocol::Udp);
    assert_eq!(routing.routing_type, Ipv6RoutingType::Type0);
    assert_eq!(routing.segments_left, 1);
    assert_eq!(routing.data.len(), 20);
    assert!(routing.is_deprecated());
    // RFC 5095: segments left, so the stack must answer with an error.
    assert!(routing.must_reject());
    assert!(routing.addresses().eq([FD00_3]));

    let view = Ipv6RoutingHeader::new_checked(&DSTOPT_RT0_UDP[48..]).unwrap();
    assert_eq!(view.header_len_field(), 2);
    assert_eq!(view.segments_left(), 1);
    assert_eq!(view.data(), routing.data);
    assert_eq!(view.payload(), &DSTOPT_RT0_UDP[72..]);

    let upper = walk_bytes(&DSTOPT_RT0_UDP).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Udp);
    assert_eq!((upper.offset, upper.payload), (72, &DSTOPT_RT0_UDP[72..]));
    assert_eq!(&upper.payload[8..], b"hello");
    assert_eq!(upper.ext_headers, 2);
}

#[test]
fn chain_hop_by_hop_routing_fragment_dest_opts_udp() {
    let items = chain(&FULL_CHAIN);
    assert_eq!(items.len(), 5);
    let kinds: Vec<_> = ext_headers(&FULL_CHAIN)
        .iter()
        .map(|h| (h.kind(), h.offset, h.len, h.next_header()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Ipv6ExtHeaderKind::HopByHop, 40, 8, IpProtocol::Ipv6Route),
            (Ipv6ExtHeaderKind::Routing, 48, 24, IpProtocol::Ipv6Frag),
            (Ipv6ExtHeaderKind::Fragment, 72, 8, IpProtocol::Ipv6Opts),
            (
                Ipv6ExtHeaderKind::DestinationOptions,
                80,
                8,
                IpProtocol::Udp
            ),
        ]
    );
    let headers = ext_headers(&FULL_CHAIN);
    let Ipv6ExtHeaderRepr::Routing(routing) = headers[1].repr else {
        panic!("not a routing header")
    };
    // Type 0 with no segments left is ignored, not an error.
    assert!(routing.is_deprecated() && !routing.must_reject());
    let Ipv6ExtHeaderRepr::DestinationOptions(opts) = headers[3].repr else {
        panic!("not a destination options header")
    };
    let option = opts.iter().next().unwrap().unwrap();
    assert_eq!(option.option_type(), 0xde);
    assert_eq!(
        option.action(),
        Ipv6OptionAction::DiscardSendIcmpUnlessMulticast
    );
    assert!(!option.may_change());

    let Ok(Ipv6ChainItem::UpperLayer(upper)) = items[4] else {
        panic!("chain does not end in an upper layer")
    };
    assert_eq!(upper.protocol, IpProtocol::Udp);
    assert_eq!((upper.offset, upper.payload), (88, &FULL_CHAIN[88..]));
    assert_eq!(&upper.payload[8..], b"chain");
    assert_eq!(upper.ext_headers, 4);
    let frag = upper.fragment.unwrap();
    assert_eq!(frag.ident, 0xcafe);
    assert!(frag.is_atomic() && !upper.is_fragment());
}

#[test]
fn full_chain_built_from_reprs_matches_capture() {
    let mut hbh_opts = [0u8; 8];
    let n = encode_options(
        &[Ipv6OptionRepr::RouterAlert(RouterAlert::Mld)],
        &mut hbh_opts,
    )
    .unwrap();
    let mut dst_opts = [0u8; 8];
    let m = encode_options(
        &[Ipv6OptionRepr::Other {
            option_type: 0xde,
            data: &[1, 2, 3, 4],
        }],
        &mut dst_opts,
    )
    .unwrap();
    let mut rt_data = [0u8; 20];
    rt_data[4..].copy_from_slice(&FD00_3.octets());
    let headers = [
        Ipv6ExtHeaderRepr::HopByHop(Ipv6OptionsRepr {
            next_header: IpProtocol::Ipv6Route,
            options: &hbh_opts[..n],
        }),
        Ipv6ExtHeaderRepr::Routing(Ipv6RoutingRepr {
            next_header: IpProtocol::Ipv6Frag,
            routing_type: Ipv6RoutingType::Type0,
            segments_left: 0,
            data: &rt_data,
        }),
        Ipv6ExtHeaderRepr::Fragment(Ipv6FragmentRepr {
            next_header: IpProtocol::Ipv6Opts,
            frag_offset: 0,
            more_frags: false,
            ident: 0xcafe,
        }),
        Ipv6ExtHeaderRepr::DestinationOptions(Ipv6OptionsRepr {
            next_header: IpProtocol::Udp,
            options: &dst_opts[..m],
        }),
    ];
    let udp = &FULL_CHAIN[88..];
    let ext_len: usize = headers.iter().map(|h| h.buffer_len()).sum();
    let ip = Ipv6Repr {
        src: FD00_1,
        dst: FD00_2,
        next_header: IpProtocol::HopByHop,
        payload_len: (ext_len + udp.len()) as u16,
        hop_limit: 64,
        traffic_class: 0xb8,
        flow_label: 0x12345,
    };
    let mut out = [0u8; 101];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
    let mut at = ip.buffer_len();
    for header in &headers {
        header.emit(&mut out[at..]);
        at += header.buffer_len();
    }
    out[at..].copy_from_slice(udp);
    assert_eq!(out, FULL_CHAIN);
}

#[test]
fn segment_routing_header() {
    let headers = ext_headers(&SRH_UDP);
    assert_eq!(headers.len(), 1);
    let Ipv6ExtHeaderRepr::Routing(routing) = headers[0].repr else {
        panic!("not a routing header")
    };
    assert_eq!(routing.routing_type, Ipv6RoutingType::Srh);
    assert_eq!((headers[0].offset, headers[0].len), (40, 40));
    assert_eq!(routing.segments_left, 0);
    assert!(!routing.is_deprecated() && !routing.must_reject());
    assert!(
        routing
            .addresses()
            .eq([FD00_2, Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 9)])
    );
    let upper = walk_bytes(&SRH_UDP).unwrap();
    assert_eq!((upper.protocol, upper.offset), (IpProtocol::Udp, 80));
    assert_eq!(&upper.payload[8..], b"srh");
}

#[test]
fn emit_reproduces_every_extension_header() {
    for fixture in ALL_FIXTURES {
        for header in ext_headers(fixture) {
            assert_eq!(header.repr.buffer_len(), header.len);
            let mut out = [0x5au8; 64];
            header.repr.emit(&mut out);
            assert_eq!(&out[..header.len], header.bytes, "{fixture:02x?}");
            let (again, len) = Ipv6ExtHeaderRepr::parse(header.kind(), &out[..header.len]).unwrap();
            assert_eq!((again, len), (header.repr, header.len));
        }
    }
}

// --- extension header emit -------------------------------------------------

#[test]
fn options_emit_pads_to_eight_octets() {
    let data = [0x77u8; 16];
    for data_len in 0..=data.len() {
        let option = Ipv6OptionRepr::Other {
            option_type: 0x1e,
            data: &data[..data_len],
        };
        let mut scratch = [0u8; 32];
        let n = encode_options(&[option], &mut scratch).unwrap();
        assert_eq!(n, 2 + data_len);
        let repr = Ipv6OptionsRepr {
            next_header: IpProtocol::Tcp,
            options: &scratch[..n],
        };
        let len = repr.buffer_len();
        assert_eq!(len % 8, 0);
        assert!(len >= 2 + n && len < 2 + n + 8);
        let mut out = [0xeeu8; 40];
        repr.emit(&mut Ipv6OptionsHeader::new_unchecked(&mut out[..]));
        let header = Ipv6OptionsHeader::new_checked(&out[..len]).unwrap();
        assert_eq!(header.header_len(), len);
        let parsed = Ipv6OptionsRepr::parse(&header).unwrap();
        assert_eq!(parsed.next_header, IpProtocol::Tcp);
        let options: Vec<_> = parsed.iter().map(|o| o.unwrap()).collect();
        assert_eq!(options[0], option);
        // What follows is exactly one padding option.
        match len - 2 - n {
            0 => assert_eq!(options.len(), 1),
            1 => assert_eq!(&options[1..], [Ipv6OptionRepr::Pad1]),
            pad => assert_eq!(&options[1..], [Ipv6OptionRepr::PadN(&[0; 8][..pad - 2])]),
        }
    }
}

#[test]
fn option_emit_errors() {
    let long = [0u8; 256];
    let option = Ipv6OptionRepr::Other {
        option_type: 0x1e,
        data: &long,
    };
    let mut buf = [0u8; 300];
    assert_eq!(option.emit(&mut buf), Err(Error::BadOption));
    let mut small = [0u8; 3];
    assert_eq!(
        Ipv6OptionRepr::RouterAlert(RouterAlert::Rsvp).emit(&mut small),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(
        encode_options(&[Ipv6OptionRepr::Pad1; 4], &mut small),
        Err(Error::BufferTooSmall)
    );
}

#[test]
fn routing_emit_pads_data() {
    let repr = Ipv6RoutingRepr {
        next_header: IpProtocol::Udp,
        routing_type: Ipv6RoutingType::Unknown(200),
        segments_left: 3,
        data: &[1, 2, 3, 4, 5],
    };
    assert_eq!(repr.buffer_len(), 16);
    let mut out = [0xffu8; 16];
    repr.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut out[..]));
    assert_eq!(out, [17, 1, 200, 3, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0]);
    let parsed =
        Ipv6RoutingRepr::parse(&Ipv6RoutingHeader::new_checked(&out[..]).unwrap()).unwrap();
    assert_eq!(parsed.data, &out[4..]);
    assert_eq!(parsed.addresses().count(), 0);
}

#[test]
fn fragment_emit_clears_reserved_bits() {
    let repr = Ipv6FragmentRepr {
        next_header: IpProtocol::Udp,
        frag_offset: 185,
        more_frags: true,
        ident: 0x0102_0304,
    };
    let mut out = [0xffu8; 8];
    repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut out[..]));
    assert_eq!(out, [17, 0, 0x05, 0xc9, 1, 2, 3, 4]);
    // Reserved bits set on the wire are ignored.
    let mut wire = out;
    wire[1] = 0xff;
    wire[3] |= 0x06;
    let parsed = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&wire[..]).unwrap());
    assert_eq!(parsed, Ok(repr));
    assert_eq!(
        Ipv6FragmentHeader::new_checked(&out[..7]).err(),
        Some(Error::Truncated)
    );
}

// --- malformations -----------------------------------------------------------

#[test]
fn hop_by_hop_not_first_is_malformed() {
    let hbh = [17, 0, 1, 4, 0, 0, 0, 0];
    let bytes = build(60, &[&dest_opts(0), &hbh], &UDP_HEADER);
    assert_eq!(walk_bytes(&bytes), Err(Error::Malformed));
    let items = chain(&bytes);
    assert_eq!(items.len(), 2);
    assert!(matches!(items[0], Ok(Ipv6ChainItem::Extension(_))));
    assert_eq!(items[1], Err(Error::Malformed));
    // The same header first is fine.
    let bytes = build(0, &[&hbh], &UDP_HEADER);
    assert_eq!(walk_bytes(&bytes).unwrap().protocol, IpProtocol::Udp);
}

#[test]
fn header_length_overrun_is_truncated() {
    // Hdr Ext Len 1 claims 16 bytes; only 8 are in the payload (the UDP
    // header after it would be read as part of it: Payload Length ends at 8).
    let header = [17, 1, 1, 4, 0, 0, 0, 0];
    let bytes = build(60, &[&header], &[]);
    assert_eq!(walk_bytes(&bytes), Err(Error::Truncated));
    assert_eq!(
        Ipv6OptionsHeader::new_checked(&header[..]).err(),
        Some(Error::Truncated)
    );
    assert_eq!(
        Ipv6RoutingHeader::new_checked(&header[..]).err(),
        Some(Error::Truncated)
    );
    // Even the two fixed octets missing.
    assert_eq!(
        Ipv6OptionsHeader::new_checked(&header[..1]).err(),
        Some(Error::Truncated)
    );
    let bytes = build(43, &[], &[17]);
    assert_eq!(walk_bytes(&bytes), Err(Error::Truncated));
}

#[test]
fn option_overrun_is_bad_option() {
    // An option of 10 data bytes in an 8-byte header.
    let header = [17, 0, 0x3e, 10, 0, 0, 0, 0];
    let view = Ipv6OptionsHeader::new_checked(&header[..]).unwrap();
    assert_eq!(Ipv6OptionsRepr::parse(&view), Err(Error::BadOption));
    let bytes = build(60, &[&header], &UDP_HEADER);
    assert_eq!(walk_bytes(&bytes), Err(Error::BadOption));
    // The iterator yields the error once, then stops.
    let mut iter = view.options_iter();
    assert_eq!(iter.next(), Some(Err(Error::BadOption)));
    assert_eq!(iter.next(), None);
}

#[test]
fn option_without_length_octet_is_bad_option() {
    // PadN of 2 zero bytes, then Pad1, then an option type with no room
    // for its length octet.
    let header = [17, 0, 1, 2, 0, 0, 0, 0x3e];
    let view = Ipv6OptionsHeader::new_checked(&header[..]).unwrap();
    let items: Vec<_> = view.options_iter().collect();
    assert_eq!(
        items,
        [
            Ok(Ipv6OptionRepr::PadN(&[0, 0])),
            Ok(Ipv6OptionRepr::Pad1),
            Err(Error::BadOption)
        ]
    );
    assert_eq!(Ipv6OptionsRepr::parse(&view), Err(Error::BadOption));
}

#[test]
fn router_alert_of_wrong_size_is_bad_option() {
    let header = [17, 0, 5, 3, 0, 0, 0, 0];
    let view = Ipv6OptionsHeader::new_checked(&header[..]).unwrap();
    assert_eq!(Ipv6OptionsRepr::parse(&view), Err(Error::BadOption));
    let header = [17, 0, 5, 1, 0, 1, 1, 0];
    let view = Ipv6OptionsHeader::new_checked(&header[..]).unwrap();
    assert_eq!(Ipv6OptionsRepr::parse(&view), Err(Error::BadOption));
}

#[test]
fn nine_headers_are_too_many() {
    let header = dest_opts(60);
    let last = dest_opts(17);
    let mut headers: Vec<&[u8]> = std::vec![&header[..]; 8];
    headers.push(&last);
    let bytes = build(60, &headers, &UDP_HEADER);
    assert_eq!(walk_bytes(&bytes), Err(Error::TooManyHeaders));
    let items = chain(&bytes);
    assert_eq!(items.len(), MAX_EXT_HEADERS + 1);
    assert_eq!(items[MAX_EXT_HEADERS], Err(Error::TooManyHeaders));

    // Eight are accepted.
    let mut headers: Vec<&[u8]> = std::vec![&header[..]; 7];
    headers.push(&last);
    let bytes = build(60, &headers, &UDP_HEADER);
    let upper = walk_bytes(&bytes).unwrap();
    assert_eq!((upper.protocol, upper.ext_headers), (IpProtocol::Udp, 8));
    assert_eq!(upper.offset, 40 + 8 * 8);
}

#[test]
fn esp_is_unknown_header() {
    let bytes = build(50, &[], &[0; 16]);
    assert_eq!(walk_bytes(&bytes), Err(Error::UnknownHeader(50)));
    // Also after a parsed header.
    let bytes = build(60, &[&dest_opts(50)], &[0; 16]);
    assert_eq!(walk_bytes(&bytes), Err(Error::UnknownHeader(50)));
    for n in [51, 135, 139, 140, 253, 254] {
        let bytes = build(n, &[], &[0; 16]);
        assert_eq!(walk_bytes(&bytes), Err(Error::UnknownHeader(n)));
    }
}

#[test]
fn non_extension_protocols_end_the_chain() {
    for n in [6u8, 17, 58, 59, 4, 41, 132, 200] {
        let bytes = build(60, &[&dest_opts(n)], &[1, 2, 3]);
        let upper = walk_bytes(&bytes).unwrap();
        assert_eq!(upper.protocol, IpProtocol::from(n));
        assert_eq!((upper.offset, upper.payload), (48, &[1u8, 2, 3][..]));
    }
    // No Next Header right after the fixed header, with an empty payload.
    let bytes = build(59, &[], &[]);
    let upper = walk_bytes(&bytes).unwrap();
    assert_eq!(upper.protocol, IpProtocol::Ipv6NoNxt);
    assert!(upper.payload.is_empty());
}

#[test]
fn second_fragment_header_is_unsupported() {
    let frag1 = [44, 0, 0, 0, 0, 0, 0, 1];
    let frag2 = [17, 0, 0, 0, 0, 0, 0, 2];
    let bytes = build(44, &[&frag1, &frag2], &UDP_HEADER);
    assert_eq!(walk_bytes(&bytes), Err(Error::Unsupported));
}

#[test]
fn every_prefix_of_every_fixture() {
    for fixture in ALL_FIXTURES {
        for n in 0..=fixture.len() {
            let cut = &fixture[..n];
            match Ipv6Packet::new_checked(cut) {
                Ok(packet) => {
                    assert_eq!(n, fixture.len());
                    Ipv6Repr::parse(&packet).unwrap();
                    walk(&packet).unwrap();
                }
                Err(err) => assert_eq!(err, Error::Truncated),
            }
            // Unchecked views must not panic through the safe entry points.
            let packet = Ipv6Packet::new_unchecked(cut);
            let _ = Ipv6Repr::parse(&packet);
            let _ = Ipv6HeaderChain::new(&packet).map(|c| c.count());
        }
    }
}

#[test]
fn every_payload_prefix_walks_or_is_truncated() {
    // Cut the payload and fix up Payload Length, so the walker itself meets
    // the short headers.
    for fixture in ALL_FIXTURES {
        let full = walk_bytes(fixture).unwrap();
        for n in 40..=fixture.len() {
            let mut bytes = fixture[..n].to_vec();
            bytes[4..6].copy_from_slice(&((n - 40) as u16).to_be_bytes());
            match walk_bytes(&bytes) {
                Ok(upper) => {
                    assert!(n >= full.offset);
                    assert_eq!(upper.offset, full.offset);
                    assert_eq!(upper.payload, &fixture[full.offset..n]);
                }
                // Payload Length 0 before a hop-by-hop header is the
                // shape of a jumbogram.
                Err(Error::Unsupported) => {
                    assert_eq!((n, fixture[6]), (40, 0));
                }
                Err(err) => {
                    assert!(n < full.offset, "{n} {err:?}");
                    assert_eq!(err, Error::Truncated);
                }
            }
        }
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    const VALUES: [u8; 9] = [0x00, 0x01, 0x02, 0x05, 0x2b, 0x2c, 0x3c, 0x80, 0xff];
    for fixture in ALL_FIXTURES {
        let len = fixture.len().min(120);
        for i in 0..len {
            for value in VALUES {
                let mut bytes = fixture.to_vec();
                bytes[i] = value;
                let packet = Ipv6Packet::new_unchecked(&bytes[..]);
                let _ = Ipv6Repr::parse(&packet);
                if let Ok(chain) = Ipv6HeaderChain::new(&packet) {
                    assert!(chain.count() <= MAX_EXT_HEADERS + 1);
                }
            }
        }
    }
}

#[test]
fn random_chains_never_panic_and_end() {
    // A small deterministic generator: chains made of extension header
    // numbers and random lengths, to exercise every branch of the walker.
    let mut state: u64 = 0x1234_5678_9abc_def0;
    let mut rand = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    const NEXT: [u8; 10] = [0, 43, 44, 60, 60, 17, 50, 59, 6, 135];
    for _ in 0..20_000 {
        let len = 40 + (rand() as usize % 120);
        let mut bytes: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
        bytes[0] = 0x60;
        bytes[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
        bytes[6] = NEXT[rand() as usize % NEXT.len()];
        let mut at = 40;
        while at + 2 <= len {
            bytes[at] = NEXT[rand() as usize % NEXT.len()];
            bytes[at + 1] = (rand() % 3) as u8;
            at += 8 * (usize::from(bytes[at + 1]) + 1);
        }
        let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let Ok(chain) = Ipv6HeaderChain::new(&packet) else {
            continue;
        };
        let mut count = 0;
        for item in chain {
            count += 1;
            if let Ok(Ipv6ChainItem::Extension(header)) = item {
                assert!(header.len >= 8);
                let _ = header.to_string();
            }
        }
        assert!(count <= MAX_EXT_HEADERS + 1);
    }
}

// --- Display -------------------------------------------------------------------

#[test]
fn display() {
    assert_eq!(parse(&ECHO_REQUEST).1.to_string(), "IPv6 fd00::1 > fd00::2");
    assert_eq!(parse(&ECHO_REPLY).1.to_string(), "IPv6 fd00::2 > fd00::1");
    assert_eq!(
        parse(&MLD_REPORT).1.to_string(),
        "IPv6 fe80::ff:fe00:1 > ff02::16"
    );
    let shown = |bytes| -> Vec<std::string::String> {
        ext_headers(bytes).iter().map(|h| h.to_string()).collect()
    };
    assert_eq!(shown(&MLD_REPORT), ["HBH rtalert 0, padn 0"]);
    assert_eq!(shown(&FRAG_FIRST), ["FRAG id 3600919179 off 0+"]);
    assert_eq!(shown(&FRAG_LAST), ["FRAG id 3600919179 off 1232"]);
    assert_eq!(
        shown(&DSTOPT_RT0_UDP),
        [
            "DSTOPT opt 0x3e len 3, pad1",
            "RT6 type 0 segleft 1 deprecated"
        ]
    );
    assert_eq!(
        shown(&FULL_CHAIN),
        [
            "HBH rtalert 0, padn 0",
            "RT6 type 0 segleft 0 deprecated",
            "FRAG id 51966 off 0",
            "DSTOPT opt 0xde len 4"
        ]
    );
    assert_eq!(shown(&SRH_UDP), ["RT6 type 4 segleft 0"]);
    let Ipv6ExtHeaderRepr::HopByHop(hbh) = ext_headers(&MLD_REPORT)[0].repr else {
        panic!("not hop-by-hop")
    };
    assert_eq!(hbh.to_string(), "OPTS rtalert 0, padn 0");
    assert_eq!(Ipv6ExtHeaderKind::DestinationOptions.to_string(), "DSTOPT");
    assert_eq!(format!("{}", Ipv6ExtHeaderKind::Routing), "RT6");
}

// --- addresses -------------------------------------------------------------------

#[test]
fn cidr() {
    let cidr = Ipv6Cidr::new(FD00_1, 64).unwrap();
    assert_eq!((cidr.address(), cidr.prefix_len()), (FD00_1, 64));
    assert_eq!(cidr.to_string(), "fd00::1/64");
    assert_eq!(cidr.network().to_string(), "fd00::/64");
    assert_eq!(
        cidr.netmask(),
        Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0, 0, 0, 0)
    );
    assert!(cidr.contains_addr(FD00_2));
    assert!(!cidr.contains_addr(Ipv6Addr::new(0xfd00, 0, 0, 1, 0, 0, 0, 1)));
    assert_eq!(Ipv6Cidr::new(FD00_1, 129), Err(Error::BadLength));

    let all = Ipv6Cidr::new(Ipv6Addr::UNSPECIFIED, 0).unwrap();
    assert!(all.contains_addr(FD00_1) && all.contains_addr(Ipv6Addr::LOCALHOST));
    assert_eq!(all.netmask(), Ipv6Addr::UNSPECIFIED);
    assert!(all.contains_subnet(cidr) && !cidr.contains_subnet(all));

    let host = Ipv6Cidr::new(FD00_1, 128).unwrap();
    assert!(host.contains_addr(FD00_1) && !host.contains_addr(FD00_2));
    assert!(cidr.contains_subnet(host) && host.contains_subnet(host));
    assert_eq!(host.network(), host);

    let wide = Ipv6Cidr::new(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0), 8).unwrap();
    assert!(wide.contains_subnet(cidr));
    let odd = Ipv6Cidr::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 10).unwrap();
    assert_eq!(
        odd.network().address(),
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)
    );
    assert!(odd.contains_addr(Ipv6Addr::new(0xfebf, 1, 0, 0, 0, 0, 0, 1)));
    assert!(!odd.contains_addr(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 1)));
}

#[test]
fn address_classes() {
    let addr = |s: &str| -> Ipv6Addr { s.parse().unwrap() };
    assert_eq!(classify(addr("::")), Ipv6AddrClass::Unspecified);
    assert_eq!(classify(addr("::1")), Ipv6AddrClass::Loopback);
    assert_eq!(classify(addr("fe80::ff:fe00:1")), Ipv6AddrClass::LinkLocal);
    assert_eq!(classify(addr("febf::1")), Ipv6AddrClass::LinkLocal);
    assert_eq!(classify(addr("fd00::1")), Ipv6AddrClass::UniqueLocal);
    assert_eq!(classify(addr("fc00::1")), Ipv6AddrClass::UniqueLocal);
    assert_eq!(classify(addr("::ffff:10.0.0.1")), Ipv6AddrClass::Ipv4Mapped);
    assert_eq!(classify(addr("2001:db8::1")), Ipv6AddrClass::GlobalUnicast);
    assert_eq!(classify(addr("fec0::1")), Ipv6AddrClass::GlobalUnicast);
    assert!(is_global_unicast(addr("2001:db8::1")) && !is_global_unicast(FD00_1));
    assert!(is_link_local(addr("fe80::1")) && !is_link_local(addr("fec0::1")));
    assert!(is_unique_local(FD00_1) && !is_unique_local(addr("fe00::1")));
    assert!(is_ipv4_mapped(addr("::ffff:1.2.3.4")) && !is_ipv4_mapped(addr("::1.2.3.4")));

    let scopes = [
        ("ff01::1", MulticastScope::InterfaceLocal),
        ("ff02::1", MulticastScope::LinkLocal),
        ("ff03::1", MulticastScope::RealmLocal),
        ("ff04::1", MulticastScope::AdminLocal),
        ("ff05::2", MulticastScope::SiteLocal),
        ("ff08::1", MulticastScope::OrganizationLocal),
        ("ff0e::101", MulticastScope::Global),
        ("ff3e::8000:1", MulticastScope::Global),
        ("ff00::1", MulticastScope::Unknown(0)),
        ("ff0f::1", MulticastScope::Unknown(0xf)),
        ("ff06::1", MulticastScope::Unknown(6)),
    ];
    for (text, scope) in scopes {
        assert_eq!(multicast_scope(addr(text)), Some(scope), "{text}");
        assert_eq!(classify(addr(text)), Ipv6AddrClass::Multicast(scope));
        // The const mapping agrees with the enum's From.
        assert_eq!(MulticastScope::from(addr(text).octets()[1] & 0x0f), scope);
    }
    assert_eq!(multicast_scope(FD00_1), None);
}

#[test]
fn well_known_groups_and_solicited_node() {
    assert_eq!(ALL_NODES.to_string(), "ff02::1");
    assert_eq!(ALL_ROUTERS.to_string(), "ff02::2");
    assert_eq!(ALL_MLDV2_ROUTERS.to_string(), "ff02::16");
    assert_eq!(solicited_node(FD00_2).to_string(), "ff02::1:ff00:2");
    assert_eq!(
        solicited_node("2001:db8::aabb:ccdd:eeff".parse().unwrap()).to_string(),
        "ff02::1:ffdd:eeff"
    );
    assert_eq!(
        multicast_scope(solicited_node(FD00_1)),
        Some(MulticastScope::LinkLocal)
    );
}

#[test]
fn link_local_from_mac_address() {
    let mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
    assert_eq!(interface_id_from_mac(mac), [0, 0, 0, 0xff, 0xfe, 0, 0, 2]);
    // Linux formed this address on the capture namespace's interface.
    assert_eq!(link_local_from_mac(mac).to_string(), "fe80::ff:fe00:2");
    // RFC 4291 appendix A: a universal MAC gets the u bit set.
    let mac = EthernetAddress([0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]);
    assert_eq!(
        link_local_from_mac(mac).to_string(),
        "fe80::3656:78ff:fe9a:bcde"
    );
    assert_eq!(classify(link_local_from_mac(mac)), Ipv6AddrClass::LinkLocal);
}

#[test]
fn option_actions() {
    let action = Ipv6OptionAction::from_option_type;
    assert_eq!(action(0x1e), Ipv6OptionAction::Skip);
    assert_eq!(action(0x5e), Ipv6OptionAction::Discard);
    assert_eq!(action(0x9e), Ipv6OptionAction::DiscardSendIcmp);
    assert_eq!(
        action(0xde),
        Ipv6OptionAction::DiscardSendIcmpUnlessMulticast
    );
    assert_eq!(
        Ipv6OptionRepr::RouterAlert(RouterAlert::Mld).action(),
        Ipv6OptionAction::Skip
    );
    assert_eq!(RouterAlert::from(7), RouterAlert::Unknown(7));
}
