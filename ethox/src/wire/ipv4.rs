//! IPv4 headers (RFC 791), CIDR blocks and address classification.
