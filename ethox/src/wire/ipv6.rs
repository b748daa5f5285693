//! IPv6 headers (RFC 8200), extension headers, CIDR blocks and address classification.
