//! io_uring NIC backend for ethox.
//!
//! This crate will drive an AF_PACKET socket or a TAP file descriptor
//! through io_uring: a pool of packet buffers allocated at set-up, many
//! receives and sends in flight, one submission per batch. The stack reads
//! and writes frames in the backend's own buffers.
//!
//! Status: the device lands with the "Fast paths" issue; until then the
//! crate only states its contract so that the workspace layout is fixed.
#![warn(missing_docs)]

/// The wire formats this backend carries, re-exported for convenience.
pub use ethox::wire;
