#!/usr/bin/env bash
# Counts the instructions ethox and smoltcp execute per unit of work in
# the in-memory benches, with valgrind's callgrind: per UDP datagram
# (one-way), per UDP echo round trip, per TCP request-response round trip
# and per TCP bulk segment. Instruction counts are exact and repeatable,
# unlike wall time on a shared machine; they do not see cache misses
# (add `--cache-sim=yes` to the valgrind line for those).
#
# usage: benches/instructions.sh        (needs valgrind; builds the benches
#                                         in release mode first)
#
# Each figure is (count of N units - count of 0 units) / units, so the
# set-up (handshakes, ARP, pattern generation) is subtracted out.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "needs valgrind (apt-get install valgrind)" >&2
    exit 2
fi

bins=$(cargo bench -p ethox-benches --bench udp_stack --bench tcp_stack --no-run 2>&1 |
    grep -o 'target/release/deps/[a-z_]*-[0-9a-f]*' | sort -u)
udp=$(grep udp_stack <<<"$bins" | head -1)
tcp=$(grep tcp_stack <<<"$bins" | head -1)

# Instructions the bench process executed, with VAR=SPEC in its environment.
count() {
    local var=$1 spec=$2 bin=$3
    env "$var=$spec" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --bench 2>&1 |
        awk '/Collected/ {n = $4} END {print n}'
}

# Instructions per unit: COUNT batches of UNITS units each.
per_unit() {
    local var=$1 name=$2 count=$3 units=$4 bin=$5
    local zero full
    zero=$(count "$var" "$name:0" "$bin")
    full=$(count "$var" "$name:$count" "$bin")
    echo $(((full - zero) / (count * units)))
}

printf '%-34s %8s %8s\n' "per" "ethox" "smoltcp"
for bench in one-way echo; do
    e=$(per_unit UDP_STACK_FIXED "ethox/$bench" 200 64 "$udp")
    s=$(per_unit UDP_STACK_FIXED "smoltcp/$bench" 200 64 "$udp")
    printf '%-34s %8s %8s\n' "UDP $bench (64-byte payload)" "$e" "$s"
done
e=$(per_unit TCP_STACK_FIXED ethox/request-response 20 64 "$tcp")
s=$(per_unit TCP_STACK_FIXED smoltcp/request-response 20 64 "$tcp")
printf '%-34s %8s %8s\n' "TCP request-response round trip" "$e" "$s"
# 8 MiB per iteration in segments of 1448 bytes (MSS less timestamps).
e=$(per_unit TCP_STACK_FIXED ethox/bulk 2 5793 "$tcp")
s=$(per_unit TCP_STACK_FIXED smoltcp/bulk 2 5793 "$tcp")
printf '%-34s %8s %8s\n' "TCP bulk, per 1448 bytes" "$e" "$s"
