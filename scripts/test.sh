#!/usr/bin/env bash
# The project's whole test suite: what the README's test command runs and
# what CI runs. Tests that need privileges or tools skip with a message as
# a normal user; with ETHOX_REQUIRE_NET=1 (set by .ci/run) a skip fails.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --all --check

step "core without alloc or std, and with alloc only"
cargo build -p ethox --no-default-features
cargo build -p ethox --no-default-features --features alloc
cargo build -p ethox --no-default-features --features log

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --features ethox/sys -- -D warnings

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p ethox --features sys --no-deps --quiet

step "fuzz targets compile"
cargo check --quiet --manifest-path fuzz/Cargo.toml --bins

step "release build of the workspace"
cargo build --workspace --release

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "tests without std"
cargo test -p ethox --no-default-features --lib 2>&1 | tee -a "$log"

step "zero allocations, without the alloc feature and with it"
cargo test -p ethox --no-default-features --test zero_alloc 2>&1 | tee -a "$log"
cargo test -p ethox --no-default-features --features alloc --test zero_alloc 2>&1 | tee -a "$log"

step "tests (with the system NICs: their tests need root, see ETHOX_REQUIRE_NET)"
cargo test --workspace --no-fail-fast --features ethox/sys 2>&1 | tee -a "$log"

step "the long soak: 300 TCP connections, 16-256 KiB each way, through drops and corruption (release)"
cargo test --release -p ethox --test soak -- --ignored 2>&1 | tee -a "$log"

step "no_std, no alloc, no libc: the freestanding ethox-no-std moves TCP data"
bash ethox-no-std/run.sh

# The nightly steps: fuzzing and AddressSanitizer need a nightly
# toolchain. Without one they skip, except under ETHOX_REQUIRE_NET=1 (CI).
if cargo +nightly --version >/dev/null 2>&1; then
    step "fuzz every target from its committed corpus (${ETHOX_FUZZ_SECONDS:-90} s in all)"
    bash fuzz/run.sh "${ETHOX_FUZZ_SECONDS:-90}"

    step "the backends' tests under AddressSanitizer"
    for crate in ethox-afxdp ethox-io-uring; do
        RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
            CARGO_TARGET_DIR=target/asan \
            cargo +nightly test -p "$crate" --target x86_64-unknown-linux-gnu 2>&1 | tee -a "$log"
    done
elif [ "${ETHOX_REQUIRE_NET:-}" = 1 ]; then
    echo "ETHOX_REQUIRE_NET=1 but no nightly toolchain for fuzzing and ASan" >&2
    exit 1
else
    echo "skipped: fuzzing and AddressSanitizer need a nightly toolchain"
fi

# One closing line over every test binary above (cargo prints one per
# binary, and the last of them is often an empty doc-test run).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, i; exit (f > 0) }' "$log"
