//! The check every fuzz harness applies to what a host sends: each frame
//! must parse cleanly through every layer, the way the pretty printer
//! walks it, with correct checksums. Hostile input must never make the
//! stack emit a malformed frame.

use std::sync::OnceLock;

use ethox::wire::Error;
use ethox::wire::pretty::PrettyFrame;

/// How the pretty printer marks a layer it could not parse: the error in
/// brackets. None may appear in a frame a host sent.
fn markers() -> &'static [String] {
    static MARKERS: OnceLock<Vec<String>> = OnceLock::new();
    MARKERS.get_or_init(|| {
        [
            Error::Truncated,
            Error::BadLength,
            Error::BadChecksum,
            Error::BadVersion,
            Error::BadOption,
            Error::Malformed,
            Error::Unsupported,
            Error::UnknownHeader(0),
            Error::TooManyHeaders,
            Error::BufferTooSmall,
        ]
        .iter()
        .map(|err| {
            // "unknown IPv6 header 0" is matched without its number.
            let text = err.to_string();
            format!("[{}", text.trim_end_matches(" 0"))
        })
        .collect()
    })
}

/// Panics, showing the frame, if any layer of `frame` does not parse.
pub fn assert_clean(frame: &[u8]) {
    let line = PrettyFrame::new(frame).to_string();
    if let Some(marker) = markers().iter().find(|m| line.contains(m.as_str())) {
        panic!("a host sent a bad frame ({marker}]): {line}");
    }
}
