#!/usr/bin/env bash
# TCP throughput of ethox over a TAP against the Linux stack, as smoltcp's
# `benchmark` example measures it, beside the kernel talking to itself
# over a veth pair, and a table of the results.
#
# usage: benches/tap_benchmark.sh [SIZE_MIB] [RUNS] [MTUS]     (as root)
#   defaults: 1024 MiB, 3 runs, MTUS "1500 9000 65000"
#
# * ethox: a namespace whose tap0 is the kernel's end (10.0.0.1/24); the
#   `benchmark` example (release build) attaches to it as 10.0.0.2, sets
#   the TAP's MTU (and its MSS to match) and runs each mode RUNS times,
#   for each MTU. `reader`: the kernel reads, ethox sends
#   (port 1234); `writer`: the kernel writes, ethox receives (port 1235).
#   The modes are named for the kernel's client, as in smoltcp.
# * kernel: two namespaces joined by a veth pair, a Python client and
#   server moving the same bytes the same way (1 MiB reads and writes),
#   once with the veth's offloads on (64 KiB segments inside the kernel)
#   and once with TSO, GSO and GRO off (every segment a 1500-byte frame,
#   as on the TAP).
#
# * smoltcp, when SMOLTCP_BENCHMARK names a build of smoltcp's own
#   example (`cargo build --release --example benchmark --features ...` in
#   a smoltcp checkout): it runs on the same tap0 as 192.168.69.1 with the
#   kernel at 192.168.69.100 and moves its fixed 10^9 bytes. Without it
#   the table ends with the figures smoltcp's README quotes.
#
# Prints the median and best of the runs in Gbit/s (10^9 bit/s), and the
# retransmissions of the last ethox run. Everything it creates is removed
# on exit. The machine should be idle: the numbers move with its load.
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1024}"
runs="${2:-3}"
mtus="${3:-1500 9000 65000}"
ns="ethox-bench-$$"
va="ethox-bench-a-$$"
vb="ethox-bench-b-$$"

if [ "$(id -u)" != 0 ]; then
    echo "tap_benchmark.sh: needs root (network namespaces, a TAP)" >&2
    exit 1
fi

cleanup() {
    for n in "$ns" "$va" "$vb"; do
        for pid in $(ip netns pids "$n" 2>/dev/null); do
            kill "$pid" 2>/dev/null || true
        done
        ip netns del "$n" 2>/dev/null || true
    done
}
trap cleanup EXIT

cargo build --quiet --release -p ethox-examples --bin benchmark

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.0.0.1/24 dev tap0
ip -n "$ns" link set tap0 up

# The median and the best of the numbers on stdin.
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f", v[int((NR + 1) / 2)], v[NR] }'; }

rows=()
for mtu in $mtus; do
    for mode in reader writer; do
        : >"/tmp/$ns.$mode"
        retrans="?"
        for _ in $(seq "$runs"); do
            out="$(ip netns exec "$ns" cargo run --quiet --release -p ethox-examples --bin benchmark -- \
                --size "$size" --mtu "$mtu" "$mode")"
            echo "$out" | sed "s/^/  $mode, MTU $mtu: /" >&2
            echo "$out" | sed -n 's/^throughput: \([0-9.]*\) Gbit\/s$/\1/p' >>"/tmp/$ns.$mode"
            retrans="$(echo "$out" | sed -n 's/^retransmissions: ethox \([0-9]*\) .*kernel \([0-9]*\) .*/\1 \/ \2/p')"
        done
        case "$mode" in
        reader) what="ethox sends, kernel reads" ;;
        writer) what="kernel writes, ethox receives" ;;
        esac
        rows+=("ethox TAP $mode, MTU $mtu|$what|$(stats <"/tmp/$ns.$mode")|$retrans")
        rm -f "/tmp/$ns.$mode"
    done
done

if [ -n "${SMOLTCP_BENCHMARK:-}" ]; then
    ip -n "$ns" addr add 192.168.69.100/24 dev tap0
    ip -n "$ns" link set tap0 mtu 1500
    for mode in reader writer; do
        results=""
        for _ in $(seq "$runs"); do
            result="$(ip netns exec "$ns" "$SMOLTCP_BENCHMARK" --tap tap0 "$mode" |
                sed -n 's/^throughput: \([0-9.]*\) Gbps$/\1/p')"
            echo "  smoltcp $mode: $result Gbit/s" >&2
            results+="$result"$'\n'
        done
        case "$mode" in
        reader) what="smoltcp sends, kernel reads" ;;
        writer) what="kernel writes, smoltcp receives" ;;
        esac
        rows+=("smoltcp TAP $mode, MTU 1500|$what|$(printf '%s' "$results" | stats)|")
    done
fi

# The kernel against itself: a Python peer on each end of a veth pair.
peer='
import socket, sys, time
role, mode, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
buf = bytearray(1 << 20)
if role == "server":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("10.0.1.2", 5001)); srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    if mode == "reader":   # the client reads: send size bytes, close
        view, left = memoryview(buf), size
        while left:
            left -= conn.send(view[:min(left, len(buf))])
    else:                  # the client writes: read to the end, close
        while conn.recv_into(buf):
            pass
    conn.close()
else:
    s = socket.create_connection(("10.0.1.2", 5001))
    start, done = time.monotonic(), 0
    if mode == "reader":
        while True:
            n = s.recv_into(buf)
            if not n:
                break
            done += n
    else:
        view = memoryview(buf)
        while done < size:
            done += s.send(view[:min(size - done, len(buf))])
        s.shutdown(socket.SHUT_WR)
        s.recv_into(buf)
    secs = time.monotonic() - start
    assert done == size, (done, size)
    print("%.2f" % (done * 8 / secs / 1e9))
'
ip netns add "$va"
ip netns add "$vb"
ip link add "eb-a-$$" netns "$va" type veth peer name "eb-b-$$" netns "$vb"
ip -n "$va" addr add 10.0.1.1/24 dev "eb-a-$$"
ip -n "$vb" addr add 10.0.1.2/24 dev "eb-b-$$"
for n in "$va" "$vb"; do
    ip -n "$n" link set lo up
done
ip -n "$va" link set "eb-a-$$" up
ip -n "$vb" link set "eb-b-$$" up
bytes=$((size * 1024 * 1024))
for offloads in on off; do
    ip netns exec "$va" ethtool -K "eb-a-$$" tso "$offloads" gso "$offloads" gro "$offloads" >/dev/null 2>&1 || true
    ip netns exec "$vb" ethtool -K "eb-b-$$" tso "$offloads" gso "$offloads" gro "$offloads" >/dev/null 2>&1 || true
    for mode in reader writer; do
        results=""
        for _ in $(seq "$runs"); do
            coproc server { ip netns exec "$vb" python3 -c "$peer" server "$mode" "$bytes"; }
            read -r _ <&"${server[0]}"
            result="$(ip netns exec "$va" python3 -c "$peer" client "$mode" "$bytes")"
            wait "$server_PID" || true
            echo "  kernel veth offloads $offloads $mode: $result Gbit/s" >&2
            results+="$result"$'\n'
        done
        rows+=("kernel veth $mode, offloads $offloads|kernel to kernel|$(printf '%s' "$results" | stats)|")
    done
done

echo
echo "TCP throughput, $size MiB per run, $runs runs each: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(uname -srm), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| %-34s | %-32s | %14s | %12s | %21s |\n' test direction "Gbit/s median" "Gbit/s best" "retrans. ethox/kernel"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..34})" \
    "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..23})"
for row in "${rows[@]}"; do
    IFS='|' read -r name what nums retrans <<<"$row"
    read -r median best <<<"$nums"
    printf '| %-34s | %-32s | %14s | %12s | %21s |\n' "$name" "$what" "$median" "$best" "$retrans"
done
echo
echo "smoltcp's README quotes, for its benchmark example over a TAP (Core i7-7500U,"
echo "Linux 4.9.65, 2017): reader 2.556 Gbps, writer 5.301 Gbps. Its reader and"
echo "writer are named for the kernel's client too, and its buffers are 64 KiB."
