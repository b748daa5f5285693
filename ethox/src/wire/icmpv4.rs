//! ICMP for IPv4 (RFC 792).
