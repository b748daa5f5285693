//! IPv6 neighbor discovery messages and options (RFC 4861).
