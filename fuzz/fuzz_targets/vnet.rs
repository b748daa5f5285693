#![no_main]
//! Fuzz target: the virtio-net header of a TAP with offloads. Reading a
//! received header must not panic; preparing any frame for sending must
//! not panic, must change at most the TCP checksum field of a frame it
//! recognizes, and must ask for the checksum only where that field lies
//! inside the frame, and for segmentation only with a payload longer
//! than the segment size.
use ethox::nic::vnet::{VNET_HEADER_LEN, VNET_HEADER_NONE, VnetHeader, tx_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(header) = VnetHeader::parse(data) {
        let _ = (
            header.partial_checksum(),
            header.segmented(),
            header.segment_size(),
            header.capabilities(),
        );
    }
    let Some((size, frame)) = data.split_first_chunk::<2>() else {
        return;
    };
    let segment_size = u16::from_le_bytes(*size);
    let mut out = frame.to_vec();
    let header: [u8; VNET_HEADER_LEN] = tx_header(&mut out, segment_size);
    if header == VNET_HEADER_NONE {
        assert_eq!(out, frame, "a frame left alone is unchanged");
        return;
    }
    let start = usize::from(u16::from_le_bytes([header[6], header[7]]));
    let field = start + usize::from(u16::from_le_bytes([header[8], header[9]]));
    assert!(field + 2 <= frame.len());
    for (i, (a, b)) in out.iter().zip(frame).enumerate() {
        assert!(a == b || i == field || i == field + 1, "byte {i} changed");
    }
    if header[1] != 0 {
        let gso = u16::from_le_bytes([header[4], header[5]]);
        let headers = usize::from(u16::from_le_bytes([header[2], header[3]]));
        assert_eq!(gso, segment_size);
        assert!(gso > 0 && frame.len() >= headers + usize::from(gso));
    }
});
