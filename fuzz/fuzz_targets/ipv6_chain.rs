#![no_main]
//! Fuzz target: IPv6 packets (fixed header and extension header chain).
//! Parsing and walking must not panic and must end within the header
//! bound; the fixed header and every extension header that parses must
//! emit back to a Repr equal to the parsed one (and, except for the
//! reserved bits of a fragment header, to the same bytes).
use ethox::wire::ipv6::{
    Ipv6ChainItem, Ipv6ExtHeaderKind, Ipv6ExtHeaderRepr, Ipv6HeaderChain, Ipv6Packet, Ipv6Repr,
    MAX_EXT_HEADERS,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Ipv6Packet::new_checked(data) else {
        return;
    };
    let _ = packet.payload();

    if let Ok(repr) = Ipv6Repr::parse(&packet) {
        let mut buf = [0u8; 4096];
        if data.len() <= buf.len() {
            buf[..data.len()].copy_from_slice(data);
            buf[..repr.buffer_len()].fill(0);
            repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
            assert_eq!(&buf[..40], &data[..40]);
            let again = Ipv6Packet::new_checked(&buf[..data.len()]).unwrap();
            assert_eq!(Ipv6Repr::parse(&again), Ok(repr));
        }
    }

    let Ok(chain) = Ipv6HeaderChain::new(&packet) else {
        return;
    };
    let mut items = 0;
    for item in chain {
        items += 1;
        assert!(items <= MAX_EXT_HEADERS + 1);
        match item {
            Ok(Ipv6ChainItem::Extension(header)) => {
                assert!(header.len >= 8 && header.len % 8 == 0);
                assert_eq!(header.bytes.len(), header.len);
                assert_eq!(header.repr.buffer_len(), header.len);
                let mut out = [0u8; 2048];
                header.repr.emit(&mut out);
                let (again, len) =
                    Ipv6ExtHeaderRepr::parse(header.kind(), &out[..header.len]).unwrap();
                assert_eq!((again, len), (header.repr, header.len));
                if header.kind() != Ipv6ExtHeaderKind::Fragment {
                    assert_eq!(&out[..header.len], header.bytes);
                }
                if let Ipv6ExtHeaderRepr::HopByHop(opts)
                | Ipv6ExtHeaderRepr::DestinationOptions(opts) = header.repr
                {
                    // Every option re-encodes to its own bytes.
                    let mut scratch = [0u8; 2048];
                    let mut at = 0;
                    for option in opts.iter() {
                        at += option.unwrap().emit(&mut scratch[at..]).unwrap();
                    }
                    assert_eq!(&scratch[..at], opts.options);
                }
                let _ = format!("{header}");
            }
            Ok(Ipv6ChainItem::UpperLayer(upper)) => {
                assert_eq!(upper.offset + upper.payload.len(), packet.total_len());
            }
            Err(_) => {}
        }
    }
});
