#!/usr/bin/env bash
# Builds ethox-no-std (no std, no alloc, no libc: a freestanding Linux
# executable) in the dev and release profiles, checks that nothing from
# libc or a dynamic loader is linked, and runs it: it moves 512 KiB over
# TCP between two ethox hosts on the in-memory link and exits 0 only if
# every byte arrived and the checksums match. With the x86_64-unknown-none
# target installed it builds and runs that too (optional).
#
# usage: ethox-no-std/run.sh
set -euo pipefail
cd "$(dirname "$0")"

check_and_run() {
    local bin="$1"
    # A freestanding binary has no undefined symbols (libc's would be) and
    # no program interpreter (the dynamic loader).
    local undefined
    undefined="$(nm -u "$bin")"
    if [ -n "$undefined" ]; then
        echo "error: $bin needs symbols from elsewhere (libc?):" >&2
        echo "$undefined" >&2
        exit 1
    fi
    if readelf -l "$bin" | grep -q INTERP; then
        echo "error: $bin is dynamically linked" >&2
        exit 1
    fi
    echo "== $bin ($(stat -c %s "$bin") bytes)"
    "$bin"
}

cargo build --locked --quiet
check_and_run target/debug/ethox-no-std
cargo build --locked --quiet --release
check_and_run target/release/ethox-no-std

if command -v rustup >/dev/null && rustup target list --installed | grep -qx x86_64-unknown-none; then
    cargo build --locked --quiet --release --target x86_64-unknown-none
    check_and_run target/x86_64-unknown-none/release/ethox-no-std
else
    echo "(x86_64-unknown-none not installed: skipped)"
fi
