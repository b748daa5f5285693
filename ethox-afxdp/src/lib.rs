//! AF_XDP NIC backend for ethox.
//!
//! This crate will bind an AF_XDP socket to a NIC queue, share a UMEM with
//! the kernel and attach a small XDP program that redirects the queue's
//! frames to the socket, so that ethox reads and writes frames in the UMEM
//! itself.
//!
//! Status: the device lands with the "Fast paths" issue; until then the
//! crate only states its contract so that the workspace layout is fixed.
#![warn(missing_docs)]

/// The wire formats this backend carries, re-exported for convenience.
pub use ethox::wire;
