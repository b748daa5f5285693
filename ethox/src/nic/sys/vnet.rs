//! The virtio-net header a TAP opened with `IFF_VNET_HDR` puts before
//! every frame (`struct virtio_net_hdr` of `<linux/virtio_net.h>`): how the
//! kernel and the process tell each other about checksum and segmentation
//! offloads.
//!
//! With offloads on (`TUNSETOFFLOAD`), the kernel may hand over a frame
//! whose TCP or UDP checksum it left unfinished (a local sender counted on
//! the "hardware"), and, with segmentation offload, one TCP segment of up
//! to 64 KiB that it would otherwise have cut into MSS-sized frames. Both
//! come from the kernel's own memory, so there is nothing to verify: the
//! header's flags say so and the frame is lent with the checksum reported
//! as offloaded. Frames the stack writes carry an all-zero header: a
//! complete frame, every checksum filled in.

use crate::nic::{Capabilities, ChecksumMode};

/// Length of the header (the kernel's default `TUNSETVNETHDRSZ`, without
/// the `num_buffers` field of mergeable receive buffers).
pub const VNET_HEADER_LEN: usize = 10;

/// The header of a frame that asks nothing of the receiver.
pub const VNET_HEADER_NONE: [u8; VNET_HEADER_LEN] = [0; VNET_HEADER_LEN];

/// Offsets of the fields (all little-endian on the hosts Linux runs TAPs
/// on with a modern virtio header).
mod field {
    pub const FLAGS: usize = 0;
    pub const GSO_TYPE: usize = 1;
    pub const GSO_SIZE: usize = 4;
}

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` on is
/// left to the receiver; the field holds the pseudo-header sum.
const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the kernel verified the checksum.
const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_NONE`, with the ECN bit (0x80) masked off.
const GSO_NONE: u8 = 0;

/// A received frame's virtio-net header, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VnetHeader {
    flags: u8,
    gso_type: u8,
    gso_size: u16,
}

impl VnetHeader {
    /// Reads the first [`VNET_HEADER_LEN`] bytes of `bytes`; `None` if
    /// there are fewer.
    pub fn parse(bytes: &[u8]) -> Option<VnetHeader> {
        let header = bytes.get(..VNET_HEADER_LEN)?;
        Some(VnetHeader {
            flags: header[field::FLAGS],
            gso_type: header[field::GSO_TYPE],
            gso_size: u16::from_le_bytes([header[field::GSO_SIZE], header[field::GSO_SIZE + 1]]),
        })
    }

    /// Whether the TCP/UDP checksum was left unfinished by a local sender.
    pub fn partial_checksum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }

    /// Whether the frame is one segment the kernel did not cut to the
    /// link's MTU (generic segmentation offload).
    pub fn segmented(&self) -> bool {
        self.gso_type & 0x7f != GSO_NONE
    }

    /// The size the kernel would have cut a [`segmented`](Self::segmented)
    /// frame's payload to (the sender's MSS); 0 otherwise.
    pub fn segment_size(&self) -> u16 {
        self.gso_size
    }

    /// What is left for the stack: TCP and UDP checksums are offloaded
    /// when the kernel verified them or left them unfinished.
    pub fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::SOFTWARE;
        if self.flags & (F_NEEDS_CSUM | F_DATA_VALID) != 0 {
            capabilities.tcp.rx = ChecksumMode::Offloaded;
            capabilities.udp.rx = ChecksumMode::Offloaded;
        }
        capabilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tso_header_offloads_the_checksum() {
        // What Linux 6.x wrote before a 64 KiB TCP/IPv4 segment from
        // iperf3: NEEDS_CSUM, GSO_TCPV4, hdr_len 66, gso_size 1448,
        // csum_start 34, csum_offset 16.
        let bytes = [0x01, 0x01, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00];
        let header = VnetHeader::parse(&bytes).unwrap();
        assert!(header.partial_checksum());
        assert!(header.segmented());
        assert_eq!(header.segment_size(), 1448);
        let capabilities = header.capabilities();
        assert_eq!(capabilities.tcp.rx, ChecksumMode::Offloaded);
        assert_eq!(capabilities.udp.rx, ChecksumMode::Offloaded);
        assert_eq!(capabilities.ipv4.rx, ChecksumMode::Software);
        assert_eq!(capabilities.tcp.tx, ChecksumMode::Software);
    }

    #[test]
    fn an_empty_header_leaves_everything_to_the_stack() {
        let header = VnetHeader::parse(&VNET_HEADER_NONE).unwrap();
        assert!(!header.partial_checksum());
        assert!(!header.segmented());
        assert_eq!(header.capabilities(), Capabilities::SOFTWARE);
        // DATA_VALID alone: verified by the kernel.
        let mut bytes = VNET_HEADER_NONE;
        bytes[0] = F_DATA_VALID;
        let header = VnetHeader::parse(&bytes).unwrap();
        assert_eq!(header.capabilities().tcp.rx, ChecksumMode::Offloaded);
        assert!(!header.partial_checksum());
    }

    #[test]
    fn a_short_header_is_refused() {
        assert_eq!(VnetHeader::parse(&[0; VNET_HEADER_LEN - 1]), None);
        // The ECN bit alone is not a segmentation type.
        let mut bytes = VNET_HEADER_NONE;
        bytes[1] = 0x80;
        assert!(!VnetHeader::parse(&bytes).unwrap().segmented());
    }
}
