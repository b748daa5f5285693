//! Reassembly of fragmented IPv4 and IPv6 datagrams into caller storage.
