#![no_main]
//! Fuzz target: libpcap files. The reader must not panic and must stop
//! after an error; the records it accepts, written again with the writer
//! (little-endian, same resolution, snaplen and link type), must read
//! back the same.
use ethox::wire::pcap::{PcapReader, PcapRecord, PcapWriter, SliceSink};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = PcapReader::new(data) else {
        return;
    };
    let header = *reader.header();
    let mut records: Vec<PcapRecord> = Vec::new();
    let mut failed = false;
    for record in reader {
        assert!(!failed, "a record after an error");
        match record {
            Ok(record) => records.push(record),
            Err(_) => failed = true,
        }
    }

    let mut out = vec![0u8; data.len()];
    let mut writer = PcapWriter::with_link_type(
        SliceSink::new(&mut out),
        header.resolution,
        header.snaplen,
        header.link_type,
    )
    .unwrap();
    for record in &records {
        writer.write_record(record).unwrap();
    }
    let written = writer.into_inner().into_written();
    let again = PcapReader::new(written).unwrap();
    assert_eq!(again.header().resolution, header.resolution);
    assert_eq!(again.header().link_type, header.link_type);
    assert_eq!(
        again.header().effective_snaplen(),
        header.effective_snaplen()
    );
    let reread: Vec<PcapRecord> = again.map(|r| r.unwrap()).collect();
    assert_eq!(reread, records);
});
