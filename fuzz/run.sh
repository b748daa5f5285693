#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and fails if any crashes.
#
# usage: fuzz/run.sh [SECONDS_TOTAL]   (default 90)
#
# The total is shared out: the whole-path targets (stack_rx, tcp_pair,
# host_rx, tcp_rx) get 60% of it between them, the parser targets the
# rest; every target gets at least 1 s. Compiling is not counted. Each
# target starts from its committed corpus in fuzz/corpus/<target>/ (read
# only: what a run finds goes to a temporary directory, so the work tree
# stays clean). A crash leaves its input in fuzz/artifacts/<target>/.
# Prints the executions per target (libFuzzer's "Done N runs").
#
# Needs the nightly toolchain; installs cargo-fuzz if it is missing.
set -euo pipefail
cd "$(dirname "$0")"

total="${1:-90}"
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 1 ]; then
    echo "usage: $0 [SECONDS_TOTAL]" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

whole_path=(stack_rx tcp_pair host_rx tcp_rx)
mapfile -t all < <(cargo +nightly fuzz list)
parsers=()
for t in "${all[@]}"; do
    [[ " ${whole_path[*]} " == *" $t "* ]] || parsers+=("$t")
done
share() { # share SECONDS COUNT: seconds each, at least 1
    local each=$(($1 / $2))
    echo $((each > 0 ? each : 1))
}
whole_secs=$(share $((total * 6 / 10)) ${#whole_path[@]})
parser_secs=$(share $((total - whole_secs * ${#whole_path[@]})) ${#parsers[@]})

echo "== building ${#all[@]} targets"
cargo +nightly fuzz build 2>&1 | tail -n 1

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for t in "${whole_path[@]}" "${parsers[@]}"; do
    secs=$parser_secs
    [[ " ${whole_path[*]} " == *" $t "* ]] && secs=$whole_secs
    mkdir -p "corpus/$t" "$scratch/$t"
    log="$scratch/$t.log"
    status=0
    cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=4096 -timeout=20 >"$log" 2>&1 || status=$?
    runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 || true)"
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        summary+=("$t: FAILED after ${secs} s (exit $status)")
        echo "== $t FAILED; the end of its log:"
        tail -n 40 "$log"
    else
        summary+=("$t: ${runs:-no run count} (${secs} s)")
    fi
done

echo "== executions per target"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "== crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "== no crashes"
