#!/usr/bin/env bash
# Runs every fuzz target for the given number of seconds (default 60),
# one after another, keeping the corpus in fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
for target in $(cargo +nightly fuzz list); do
    echo "== $target ($secs s)"
    mkdir -p "corpus/$target"
    cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>&1 | tail -n 12
done
