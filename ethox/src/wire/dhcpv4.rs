//! DHCPv4 messages and options (RFC 2131, RFC 2132).
