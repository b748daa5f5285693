//! ethox: a standalone user-space TCP/IP stack.
//!
//! ethox is built for servers on raw NIC queues (io_uring, AF_XDP),
//! unikernels and bare-metal systems. Its promises:
//!
//! * **No allocation.** Every table, cache and buffer is storage that the
//!   caller hands in at set-up.
//! * **No panic on input.** Every parser checks every length before it reads
//!   and reports a typed [`wire::Error`]; the packet is dropped and counted.
//! * **Zero copy.** Packet buffers belong to the NIC; layers borrow them for
//!   the duration of a callback, parse in place and answer in place.
//!
//! # A tour
//!
//! * [`wire`]: the packet formats. For every protocol a byte view over a
//!   buffer (`EthernetFrame`, `Ipv4Packet`, `TcpPacket`, ...) that reads
//!   and writes fields in place, and a `Repr`: the parsed meaning of a
//!   header. [`wire::pretty`] prints any frame on one line.
//! * [`nic`]: where packet buffers come from. A [`nic::Device`] lends its
//!   buffers to the stack a batch at a time; [`nic::memory`] is an
//!   in-memory link for tests and demos, [`nic::fault`] injects seeded
//!   faults, [`nic::capture`] records pcap files.
//! * [`layer`]: the protocol endpoints of the callback tree, starting with
//!   [`layer::eth`]; each wraps the next layer's handler.
//! * [`time`], [`managed`]: time without a clock, storage without an
//!   allocator.
//!
//! Parsing a frame and printing it:
//!
//! ```
//! use ethox::wire::ethernet::{EtherType, EthernetFrame, EthernetRepr};
//! use ethox::wire::pretty::PrettyFrame;
//!
//! let bytes = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
//!     0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
//!     0x08, 0x06,                         // EtherType: ARP
//!     0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // request
//!     0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1, // sender
//!     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2, // target
//! ];
//! let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
//! let repr = EthernetRepr::parse(&frame).unwrap();
//! assert!(repr.dst.is_broadcast());
//! assert_eq!(repr.ethertype, EtherType::Arp);
//! assert_eq!(
//!     PrettyFrame::new(&bytes).to_string(),
//!     "ARP request who-has 10.0.0.2 tell 10.0.0.1"
//! );
//! ```
//!
//! Sending a frame between two hosts on the in-memory link is shown in
//! [`layer::eth`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// Reports a dropped packet (debug level) through `log` when the `log`
/// feature is on; compiles to nothing otherwise.
#[cfg(feature = "log")]
macro_rules! net_drop {
    ($($arg:tt)*) => { ::log::debug!($($arg)*) };
}

#[cfg(not(feature = "log"))]
macro_rules! net_drop {
    ($($arg:tt)*) => {{
        if false {
            let _ = format_args!($($arg)*);
        }
    }};
}

/// Reports a state change (trace level) through `log` when the `log`
/// feature is on; compiles to nothing otherwise.
#[cfg(feature = "log")]
macro_rules! net_trace {
    ($($arg:tt)*) => { ::log::trace!($($arg)*) };
}

#[cfg(not(feature = "log"))]
macro_rules! net_trace {
    ($($arg:tt)*) => {{
        if false {
            let _ = format_args!($($arg)*);
        }
    }};
}

pub mod layer;
pub mod managed;
pub mod nic;
pub mod time;
pub mod wire;
