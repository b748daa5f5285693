//! Multicast Listener Discovery version 2 (RFC 3810).
