//! Test harnesses shared by the TCP integration tests. Each test binary
//! uses a part of them, so unused items are expected.
#![allow(dead_code)]

pub mod frames;
pub mod tcp_host;
pub mod tcp_pair;
