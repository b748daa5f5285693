//! One-line, tcpdump-like descriptions of frames across all layers.
