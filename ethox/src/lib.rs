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
//! # Where to start
//!
//! The [`wire`] module holds the packet formats: for every protocol a byte
//! view over a buffer (`EthernetFrame`, `Ipv4Packet`, `TcpPacket`, ...) that
//! reads and writes fields in place, and a `Repr` that is the parsed, owned
//! meaning of a header. Parsing an Ethernet frame looks like this:
//!
//! ```
//! use ethox::wire::ethernet::{EthernetFrame, EthernetRepr, EtherType};
//!
//! let bytes = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
//!     0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
//!     0x08, 0x06,                         // EtherType: ARP
//!     0x00, 0x01,                         // (payload follows)
//! ];
//! let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
//! let repr = EthernetRepr::parse(&frame).unwrap();
//! assert!(repr.dst.is_broadcast());
//! assert_eq!(repr.ethertype, EtherType::Arp);
//! assert_eq!(frame.payload(), &[0x00, 0x01]);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod layer;
pub mod managed;
pub mod nic;
pub mod time;
pub mod wire;
