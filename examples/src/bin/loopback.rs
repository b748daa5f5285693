//! The main demo of ethox: two hosts on an in-memory link.
//!
//! The NIC traits and the layers land with the "Core layers" issue. Until
//! then this program shows what exists: it builds a frame with the wire
//! module, parses it back and prints it the way the stack's pretty printer
//! sees it.

fn main() {
    println!("ethox loopback: the in-memory two-host demo arrives with the core layers.");
    println!("What exists today is the wire layer; see `cargo test -p ethox`.");
}
