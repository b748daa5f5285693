//! Links the program freestanding: no C start files (it has its own
//! `_start`), no libc or other default libraries, statically.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        for arg in ["-nostartfiles", "-nostdlib", "-static"] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
