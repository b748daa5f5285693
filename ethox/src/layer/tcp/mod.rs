//! The TCP layer (in progress).

pub mod buffer;
pub mod congestion;
pub mod connection;
pub mod isn;
pub mod rtt;
pub mod syn_cookie;
pub mod table;
