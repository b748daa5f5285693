//! Protocol endpoints: the layers of the callback tree.
//!
//! Each layer has an `Endpoint` holding that layer's persistent state
//! (Ethernet: the MAC address; IP: addresses, routes, neighbor caches;
//! TCP: the connection table). `endpoint.recv(upper)` and
//! `endpoint.send(upper)` borrow it and wrap the next layer's handler, so
//! that a whole host is one expression:
//!
//! ```text
//! nic.rx(32, eth.recv(ip.recv(udp.recv(&mut app))))?;
//! nic.tx(32, eth.send(ip.send(udp.send(&mut app))))?;
//! ```
//!
//! Each layer's packet comes in three forms: `In` (received and
//! validated), `Raw` (an empty buffer to build in) and `Out` (headers
//! written, payload writable; `send()` queues it). An `In` can become an
//! `Out` in place to answer without copying the payload.

pub mod dhcp;
pub mod dns;
pub mod eth;
pub mod icmp;
pub mod ip;
pub mod neighbor;
pub mod reassembly;
mod rng;
pub mod route;
pub mod tcp;
pub mod udp;
