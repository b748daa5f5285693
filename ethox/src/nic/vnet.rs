//! The virtio-net header a TAP opened with `IFF_VNET_HDR` puts before
//! every frame (`struct virtio_net_hdr` of `<linux/virtio_net.h>`, as a
//! virtio-net device has it): how the kernel and the process tell each
//! other about checksum and segmentation offloads. Plain logic on bytes,
//! so a bare-metal virtio-net driver can use it too.
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
use crate::wire::checksum;
use crate::wire::ip::{Ipv4Addr, Ipv6Addr};

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
    pub const HDR_LEN: usize = 2;
    pub const GSO_SIZE: usize = 4;
    pub const CSUM_START: usize = 6;
    pub const CSUM_OFFSET: usize = 8;
}

/// What the stack may leave to a TAP with offloads when it sends: TCP
/// checksums (every TCP frame goes out with a header asking the kernel to
/// finish it) and, with segmentation, cutting TCP segments.
pub fn tx_capabilities(segmentation: bool) -> Capabilities {
    let mut capabilities = Capabilities::SOFTWARE;
    capabilities.tcp.tx = ChecksumMode::Offloaded;
    capabilities.tcp_segmentation = segmentation;
    capabilities
}

/// `VIRTIO_NET_HDR_GSO_TCPV4`, `_TCPV6` and the ECN bit.
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;
const GSO_ECN: u8 = 0x80;

/// Where the TCP checksum lies in its header.
const TCP_CHECKSUM_AT: usize = 16;

/// The header for `frame`, a frame the stack built, on its way into a
/// TAP with offloads; `segment_size` is what the stack asked the device
/// to cut its TCP segment into (0: nothing).
///
/// For a TCP frame (Ethernet, then IPv4 without fragmentation or IPv6
/// without extension headers) the kernel is asked to finish the checksum,
/// which the stack may have left out ([`tx_capabilities`]): the field is
/// set to the pseudo-header sum, as `NEEDS_CSUM` wants, whatever it held.
/// With a segment size and a payload longer than it, the kernel is also
/// asked to cut the segment. Any other frame gets the all-zero header: it
/// is complete as it is.
pub fn tx_header(frame: &mut [u8], segment_size: u16) -> [u8; VNET_HEADER_LEN] {
    let Some(tcp) = TcpInFrame::find(frame) else {
        return VNET_HEADER_NONE;
    };
    let Some(field) = frame.get_mut(tcp.start + TCP_CHECKSUM_AT..tcp.start + TCP_CHECKSUM_AT + 2)
    else {
        return VNET_HEADER_NONE;
    };
    field.copy_from_slice(&tcp.pseudo_sum.to_be_bytes());
    let mut header = VNET_HEADER_NONE;
    header[field::FLAGS] = F_NEEDS_CSUM;
    let start = u16::try_from(tcp.start).unwrap_or(u16::MAX);
    header[field::CSUM_START..field::CSUM_START + 2].copy_from_slice(&start.to_le_bytes());
    header[field::CSUM_OFFSET..field::CSUM_OFFSET + 2]
        .copy_from_slice(&(TCP_CHECKSUM_AT as u16).to_le_bytes());
    let payload = tcp.len.saturating_sub(tcp.header_len);
    if segment_size > 0 && payload > usize::from(segment_size) {
        let mut gso_type = if tcp.ipv6 { GSO_TCPV6 } else { GSO_TCPV4 };
        if tcp.cwr {
            gso_type |= GSO_ECN;
        }
        header[field::GSO_TYPE] = gso_type;
        let headers = u16::try_from(tcp.start + tcp.header_len).unwrap_or(u16::MAX);
        header[field::HDR_LEN..field::HDR_LEN + 2].copy_from_slice(&headers.to_le_bytes());
        header[field::GSO_SIZE..field::GSO_SIZE + 2].copy_from_slice(&segment_size.to_le_bytes());
    }
    header
}

/// A TCP segment found in an Ethernet frame.
struct TcpInFrame {
    /// Where the TCP header starts in the frame.
    start: usize,
    /// Its header's length.
    header_len: usize,
    /// Header and payload.
    len: usize,
    /// The pseudo-header's one's complement sum.
    pseudo_sum: u16,
    ipv6: bool,
    /// The segment carries CWR.
    cwr: bool,
}

impl TcpInFrame {
    const ETH_LEN: usize = 14;
    const TCP: u8 = 6;

    fn find(frame: &[u8]) -> Option<TcpInFrame> {
        let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        let ip = frame.get(Self::ETH_LEN..)?;
        let (start, len, pseudo_sum, ipv6) = match ethertype {
            0x0800 => {
                let header_len = usize::from(ip.first()? & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
                // More fragments, or an offset: not a whole segment.
                let fragment = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x3fff;
                if *ip.get(9)? != Self::TCP || fragment != 0 || header_len < 20 {
                    return None;
                }
                let len = total.checked_sub(header_len)?;
                let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
                let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
                let sum = checksum::ipv4_pseudo_header(
                    Ipv4Addr::from(src),
                    Ipv4Addr::from(dst),
                    Self::TCP,
                    u16::try_from(len).ok()?,
                );
                (Self::ETH_LEN + header_len, len, sum, false)
            }
            0x86dd => {
                if *ip.get(6)? != Self::TCP {
                    return None;
                }
                let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
                let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
                let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
                let sum = checksum::ipv6_pseudo_header(
                    Ipv6Addr::from(src),
                    Ipv6Addr::from(dst),
                    Self::TCP,
                    len as u32,
                );
                (Self::ETH_LEN + 40, len, sum, true)
            }
            _ => return None,
        };
        let tcp = frame.get(start..start.checked_add(len)?)?;
        let header_len = usize::from(tcp.get(12)? >> 4) * 4;
        if header_len < 20 || header_len > len {
            return None;
        }
        Some(TcpInFrame {
            start,
            header_len,
            len,
            pseudo_sum,
            ipv6,
            cwr: tcp.get(13)? & 0x80 != 0,
        })
    }
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
        self.add_to(Capabilities::SOFTWARE)
    }

    /// `capabilities` (what another report about the frame said, such as
    /// a packet socket's auxiliary data), with the TCP and UDP receive
    /// checksums offloaded where this header says so too: either report
    /// may say "nothing to verify".
    pub fn add_to(&self, mut capabilities: Capabilities) -> Capabilities {
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

    /// An Ethernet frame with an IPv4 (or IPv6) TCP segment of
    /// `payload` bytes, flags `flags`, its checksum field `0xdead` (a
    /// stale value the header must replace).
    fn tcp_frame(ipv6: bool, payload: usize, flags: u8) -> std::vec::Vec<u8> {
        let mut frame = std::vec![0u8; 14];
        frame[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        let tcp_len = 20 + payload;
        if ipv6 {
            frame[12..14].copy_from_slice(&[0x86, 0xdd]);
            frame.extend_from_slice(&[0x60, 0, 0, 0]);
            frame.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            frame.extend_from_slice(&[6, 64]);
            frame.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            frame.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        } else {
            frame[12..14].copy_from_slice(&[0x08, 0x00]);
            frame.extend_from_slice(&[0x45, 0]);
            frame.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
            // Identification, DF, TTL 64, TCP, header checksum (not ours).
            frame.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
            frame.extend_from_slice(&[10, 0, 0, 2, 10, 0, 0, 1]);
        }
        // Ports 80 -> 40000, seq, ack, data offset 5, flags, window.
        frame.extend_from_slice(&[0, 80, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags]);
        frame.extend_from_slice(&[0xff, 0xff, 0xde, 0xad, 0, 0]);
        frame.extend((0..payload).map(|i| (i * 7) as u8));
        frame
    }

    /// Finishes the checksum as the kernel does for `NEEDS_CSUM` (the
    /// complement of the sum from `csum_start` on, field included) and
    /// checks that a receiver verifying it in full accepts the segment.
    fn finish_and_verify(frame: &mut [u8], header: &[u8; VNET_HEADER_LEN], ipv6: bool) {
        let start = usize::from(u16::from_le_bytes([header[6], header[7]]));
        let at = start + usize::from(u16::from_le_bytes([header[8], header[9]]));
        let sum = checksum::sum(&frame[start..]);
        frame[at..at + 2].copy_from_slice(&checksum::finish(sum).to_be_bytes());
        let tcp = &frame[start..];
        let pseudo = if ipv6 {
            let src: [u8; 16] = frame[22..38].try_into().unwrap();
            let dst: [u8; 16] = frame[38..54].try_into().unwrap();
            checksum::ipv6_pseudo_header(src.into(), dst.into(), 6, tcp.len() as u32)
        } else {
            let src: [u8; 4] = frame[26..30].try_into().unwrap();
            let dst: [u8; 4] = frame[30..34].try_into().unwrap();
            checksum::ipv4_pseudo_header(src.into(), dst.into(), 6, tcp.len() as u16)
        };
        assert!(checksum::verifies(checksum::combine(&[
            pseudo,
            checksum::sum(tcp)
        ])));
    }

    #[test]
    fn a_long_tcp_segment_is_left_to_the_kernel_to_cut_and_sum() {
        for ipv6 in [false, true] {
            let mut frame = tcp_frame(ipv6, 3000, 0x18);
            let header = tx_header(&mut frame, 1000);
            let start: u16 = if ipv6 { 54 } else { 34 };
            let [s0, s1] = start.to_le_bytes();
            let [h0, h1] = (start + 20).to_le_bytes();
            let gso = if ipv6 { GSO_TCPV6 } else { GSO_TCPV4 };
            // NEEDS_CSUM, TCPV4/6, hdr_len, gso_size 1000, start, 16.
            assert_eq!(header, [1, gso, h0, h1, 0xe8, 0x03, s0, s1, 16, 0]);
            finish_and_verify(&mut frame, &header, ipv6);
        }
        // CWR rides with the ECN bit, as the kernel's own segments do.
        let mut frame = tcp_frame(false, 3000, 0x90);
        assert_eq!(tx_header(&mut frame, 1000)[1], GSO_TCPV4 | GSO_ECN);
    }

    #[test]
    fn a_short_tcp_segment_only_has_its_checksum_left() {
        // No segment size, or a payload that fits one: no GSO (the kernel
        // refuses a GSO frame with no more than one segment's payload).
        for (payload, size) in [(3000, 0), (1000, 1000), (0, 1448)] {
            let mut frame = tcp_frame(false, payload, 0x10);
            let header = tx_header(&mut frame, size);
            assert_eq!(header, [1, 0, 0, 0, 0, 0, 34, 0, 16, 0], "{payload} {size}");
            finish_and_verify(&mut frame, &header, false);
        }
    }

    #[test]
    fn other_frames_go_as_they_are() {
        // UDP, an IPv4 fragment, ARP, a truncated TCP header: untouched.
        let mut udp = tcp_frame(false, 100, 0x10);
        udp[23] = 17;
        let mut fragment = tcp_frame(false, 100, 0x10);
        fragment[20] = 0x20;
        let mut arp = tcp_frame(false, 100, 0x10);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let mut short = tcp_frame(false, 0, 0x10);
        short.truncate(50);
        for mut frame in [udp, fragment, arp, short] {
            let before = frame.clone();
            assert_eq!(tx_header(&mut frame, 1000), VNET_HEADER_NONE);
            assert_eq!(frame, before);
        }
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
