#![no_main]
//! Fuzz target: DNS messages (UDP payloads). The parser must not panic
//! and must end on any input (pointer loops, long chains); every name of
//! a parsed message must stay within 255 bytes and decompress to what it
//! says; and a message rebuilt from the parse with `MessageWriter`
//! (names decompressed) must parse back to the same header, questions
//! and records.
use ethox::wire::Error;
use ethox::wire::dns::{
    DnsMessage, MAX_NAME_LEN, MessageWriter, Name, RecordData, Section,
};
use libfuzzer_sys::fuzz_target;

/// The name decompressed into `buf`; its wire length.
fn expand(name: &Name<'_>, buf: &mut [u8; MAX_NAME_LEN]) -> usize {
    let len = name.write_to(buf).expect("a parsed name fits 255 bytes");
    assert_eq!(len, name.wire_len());
    assert!(name.matches(&buf[..len]));
    len
}

fuzz_target!(|data: &[u8]| {
    // Names anywhere in the input: the walker alone.
    for offset in 0..data.len().min(64) {
        if let Ok((name, end)) = Name::parse(data, offset) {
            assert!(end > offset && end <= data.len());
            assert!(name.wire_len() <= MAX_NAME_LEN);
            let _ = name.to_string();
        }
    }
    let Ok(message) = DnsMessage::parse(data) else {
        return;
    };
    let _ = message.to_string();

    let mut out = vec![0u8; 65536];
    let mut writer = MessageWriter::new(&mut out, &message.header()).expect("a header fits");
    let mut name = [0u8; MAX_NAME_LEN];
    let mut target = [0u8; MAX_NAME_LEN];
    for question in message.questions() {
        let len = expand(&question.name, &mut name);
        match writer.question(&name[..len], question.qtype, question.qclass) {
            Ok(()) => {}
            Err(Error::BufferTooSmall) => return,
            Err(err) => panic!("question refused: {err:?}"),
        }
    }
    let sections = [
        (Section::Answer, message.answers()),
        (Section::Authority, message.authorities()),
        (Section::Additional, message.additionals()),
    ];
    for (section, records) in sections {
        for record in records {
            let len = expand(&record.name, &mut name);
            let a;
            let aaaa;
            let rdata: &[u8] = match record.data {
                RecordData::A(addr) => {
                    a = addr.octets();
                    &a
                }
                RecordData::Aaaa(addr) => {
                    aaaa = addr.octets();
                    &aaaa
                }
                RecordData::Cname(cname) => {
                    let n = expand(&cname, &mut target);
                    &target[..n]
                }
                RecordData::Other(bytes) => bytes,
            };
            let written = writer.record_in(
                section,
                &name[..len],
                record.rtype,
                record.class,
                record.ttl,
                rdata,
            );
            match written {
                Ok(()) => {}
                Err(Error::BufferTooSmall) => return,
                Err(err) => panic!("record refused: {err:?}"),
            }
        }
    }
    let len = writer.finish();
    let rebuilt = DnsMessage::parse(&out[..len]).expect("a rebuilt message parses");
    assert_eq!(rebuilt.header(), message.header());
    assert!(rebuilt.questions().eq(message.questions()));
    assert!(rebuilt.answers().eq(message.answers()));
    assert!(rebuilt.authorities().eq(message.authorities()));
    assert!(rebuilt.additionals().eq(message.additionals()));
});
