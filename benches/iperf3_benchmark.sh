#!/usr/bin/env bash
# iperf3 and HTTP throughput of ethox's examples beside the kernel's, in
# one run, with a table of the figures and their ratios.
#
# usage: benches/iperf3_benchmark.sh [SECONDS]      (as root; default 5)
#
# * kernel <-> kernel: two namespaces joined by a veth pair, the real
#   iperf3 at both ends, once with the veth's offloads on (TSO/GSO/GRO:
#   64 KiB segments inside the kernel) and once with them off (every
#   segment a 1500-byte frame, as ethox sees them).
# * kernel iperf3 client -> ethox's `iperf3` server (release build), one
#   row per backend and direction (the kernel sends; `-R`: ethox sends):
#   - tap: a namespace whose tap0 is the kernel's end (10.0.0.1), ethox
#     attached as 10.0.0.2;
#   - raw: an AF_PACKET socket on ethox's end of a veth pair (its own
#     namespace, 10.0.1.2), the kernel's end with offloads off;
#   - uring-tap, uring-raw: the same TAP and veth driven by io_uring
#     (`ethox-io-uring`);
#   - afxdp: an AF_XDP socket on ethox's end of the veth (`ethox-afxdp`),
#     the kernel's end finishing its own checksums meanwhile;
#   - +busy: the same with `--busy-poll 200` (the event loop keeps
#     polling for 200 us after traffic instead of sleeping at once);
#   - +offload: the TAP with the kernel's offloads taken (`--offload`:
#     virtio-net headers, 64 KiB buffers; the kernel hands ethox its TCP
#     unsegmented and cuts ethox's, checksums left unfinished both ways),
#     for the TAP and for io_uring on it; for the raw socket and
#     io_uring on it (`PACKET_VNET_HDR`), with the kernel's end of the
#     veth keeping its offloads.
# * HTTP: wrk (one thread, 100 keep-alive connections) against ethox's
#   `httpd` (128-byte body) on each backend, and against
#   nginx (one worker, the same 128-byte body from a file) across a veth
#   between two kernel namespaces; nginx is started by the script with a
#   temporary configuration and killed by its PID.
#
# Everything it creates (namespaces, the temporary directory, the
# processes it started) is removed on exit. Compare figures only inside
# one run: this VM's runs vary by 10-40% (see shared/PLATFORM.md).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-5}"
tag="ip3b-$$"
kc="$tag-kc"     # kernel client side
ks="$tag-ks"     # kernel server side
tp="$tag-tap"    # the TAP's kernel end
rk="$tag-rk"     # the raw veth's kernel end
re="$tag-re"     # the raw veth's ethox end
tmp="$(mktemp -d "/tmp/$tag.XXXXXX")"
pids=()

if [ "$(id -u)" != 0 ]; then
    echo "iperf3_benchmark.sh: needs root (network namespaces, a TAP, a veth)" >&2
    exit 1
fi
for tool in iperf3 wrk nginx ethtool python3; do
    command -v "$tool" >/dev/null || {
        echo "iperf3_benchmark.sh: needs $tool (apt-get install iperf3 wrk nginx-light ethtool)" >&2
        exit 1
    }
done

cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for n in "$kc" "$ks" "$tp" "$rk" "$re"; do
        ip netns del "$n" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --quiet --release -p ethox-examples --bin iperf3 --bin httpd
bin="$PWD/target/release"

for n in "$kc" "$ks" "$tp" "$rk" "$re"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
done
# kernel <-> kernel
ip -n "$kc" link add veth-c type veth peer name veth-s netns "$ks"
ip -n "$kc" addr add 10.0.2.1/24 dev veth-c
ip -n "$ks" addr add 10.0.2.2/24 dev veth-s
ip -n "$kc" link set veth-c up
ip -n "$ks" link set veth-s up
# the TAP
ip -n "$tp" tuntap add dev tap0 mode tap
ip -n "$tp" addr add 10.0.0.1/24 dev tap0
ip -n "$tp" link set tap0 up
# the raw veth: ethox's end carries ethox's MAC address
ip -n "$rk" link add veth-k type veth peer name veth-e netns "$re"
ip -n "$re" link set veth-e address 02:00:00:00:00:02
ip -n "$re" link set veth-e up
ip -n "$rk" addr add 10.0.1.1/24 dev veth-k
ip -n "$rk" link set veth-k up
ip netns exec "$rk" ethtool -K veth-k tso off gso off gro off >/dev/null

# Waits until something in namespace $1 listens on TCP port $2 (5 s).
wait_port() {
    for _ in $(seq 100); do
        [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] && return 0
        sleep 0.05
    done
    echo "nothing listens on port $2 in $1" >&2
    return 1
}

# Gbit/s the receiver counted, from an iperf3 --json report on stdin.
gbits() {
    python3 -c 'import json, sys
e = json.load(sys.stdin)["end"]
print("%.2f" % (e["sum_received"]["bits_per_second"] / 1e9))'
}

# kernel_run LABEL ARGS...: the real iperf3 between the two kernel
# namespaces.
kernel_run() {
    local label="$1"
    shift
    ip netns exec "$ks" iperf3 -s -1 >/dev/null 2>&1 &
    local server=$!
    pids+=("$server")
    wait_port "$ks" 5201
    local rate
    rate="$(ip netns exec "$kc" iperf3 -c 10.0.2.2 -t "$secs" -J "$@" | gbits)"
    wait "$server" || true
    echo "$label $rate"
}

# ethox_run LABEL NETNS_OF_ETHOX NETNS_OF_KERNEL ADDR NIC_ARGS -- IPERF_ARGS:
# the real client against ethox's server.
ethox_run() {
    local label="$1" ours="$2" theirs="$3" addr="$4"
    shift 4
    local nic=()
    while [ "$1" != "--" ]; do
        nic+=("$1")
        shift
    done
    shift
    ip netns exec "$ours" "$bin/iperf3" "${nic[@]}" -s -1 >"$tmp/server.out" 2>&1 &
    local server=$!
    pids+=("$server")
    sleep 0.5
    local rate
    if rate="$(ip netns exec "$theirs" timeout $((secs + 30)) iperf3 -c "$addr" -t "$secs" -J "$@" | gbits)"; then
        echo "$label $rate"
    else
        echo "$label n/a"
        sed 's/^/  ethox: /' "$tmp/server.out" >&2
    fi
    wait "$server" || true
}

rows="$tmp/rows"
: >"$rows"
kernel_run "kernel-offloads-on" >>"$rows"
for end in "ip netns exec $kc ethtool -K veth-c" "ip netns exec $ks ethtool -K veth-s"; do
    $end tso off gso off gro off >/dev/null
done
kernel_run "kernel-offloads-off" >>"$rows"

ethox_backends() {
    ethox_run "tap:kernel-sends" "$tp" "$tp" 10.0.0.2 --tap tap0 --
    ethox_run "tap:ethox-sends" "$tp" "$tp" 10.0.0.2 --tap tap0 -- -R
    ethox_run "tap+offload:kernel-sends" "$tp" "$tp" 10.0.0.2 --tap tap0 --offload --
    ethox_run "tap+offload:ethox-sends" "$tp" "$tp" 10.0.0.2 --tap tap0 --offload -- -R
    local raw=(--raw veth-e --ip4 10.0.1.2/24 --ip6 none)
    ethox_run "raw:kernel-sends" "$re" "$rk" 10.0.1.2 "${raw[@]}" -- 
    ethox_run "raw:ethox-sends" "$re" "$rk" 10.0.1.2 "${raw[@]}" -- -R
    # With offloads taken, the kernel's end keeps its own.
    ip netns exec "$rk" ethtool -K veth-k tso on gso on gro on >/dev/null
    ethox_run "raw+offload:kernel-sends" "$re" "$rk" 10.0.1.2 "${raw[@]}" --offload --
    ethox_run "raw+offload:ethox-sends" "$re" "$rk" 10.0.1.2 "${raw[@]}" --offload -- -R
    ip netns exec "$rk" ethtool -K veth-k tso off gso off gro off >/dev/null
    local uring_tap=(--nic uring-tap --iface tap0)
    ethox_run "uring-tap:kernel-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --
    ethox_run "uring-tap:ethox-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" -- -R
    ethox_run "uring-tap+busy:kernel-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --busy-poll 200 --
    ethox_run "uring-tap+busy:ethox-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --busy-poll 200 -- -R
    ethox_run "uring-tap+offload:kernel-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --offload --
    ethox_run "uring-tap+offload:ethox-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --offload -- -R
    ethox_run "uring-tap+offload+busy:kernel-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --offload --busy-poll 200 --
    ethox_run "uring-tap+offload+busy:ethox-sends" "$tp" "$tp" 10.0.0.2 "${uring_tap[@]}" --offload --busy-poll 200 -- -R
    local uring=(--nic uring --iface veth-e --ip4 10.0.1.2/24 --ip6 none)
    ethox_run "uring-raw:kernel-sends" "$re" "$rk" 10.0.1.2 "${uring[@]}" --
    ethox_run "uring-raw:ethox-sends" "$re" "$rk" 10.0.1.2 "${uring[@]}" -- -R
    ip netns exec "$rk" ethtool -K veth-k tso on gso on gro on >/dev/null
    ethox_run "uring-raw+offload:kernel-sends" "$re" "$rk" 10.0.1.2 "${uring[@]}" --offload --
    ethox_run "uring-raw+offload:ethox-sends" "$re" "$rk" 10.0.1.2 "${uring[@]}" --offload -- -R
    ip netns exec "$rk" ethtool -K veth-k tso off gso off gro off >/dev/null
    # AF_XDP frames carry no note of an unfinished checksum: the kernel's
    # end finishes its own (shared/PLATFORM.md).
    ip netns exec "$rk" ethtool -K veth-k tx-checksumming off >/dev/null
    local xdp=(--nic afxdp --iface veth-e --ip4 10.0.1.2/24 --ip6 none)
    ethox_run "afxdp:kernel-sends" "$re" "$rk" 10.0.1.2 "${xdp[@]}" --
    ethox_run "afxdp:ethox-sends" "$re" "$rk" 10.0.1.2 "${xdp[@]}" -- -R
    # The same with the event loop polling for 200 us after traffic before
    # it sleeps (`--busy-poll`, as AF_XDP programs usually run).
    ethox_run "afxdp+busy:kernel-sends" "$re" "$rk" 10.0.1.2 "${xdp[@]}" --busy-poll 200 --
    ethox_run "afxdp+busy:ethox-sends" "$re" "$rk" 10.0.1.2 "${xdp[@]}" --busy-poll 200 -- -R
    ip netns exec "$rk" ethtool -K veth-k tx-checksumming on >/dev/null
}
ethox_backends >>"$rows"

# HTTP: requests per second wrk reports.
wrk_rate() {
    ip netns exec "$1" wrk -t1 -c100 -d"${secs}s" "$2" |
        sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p'
}

# httpd_run LABEL NETNS_OF_ETHOX NETNS_OF_KERNEL URL NIC_ARGS...
httpd_run() {
    local label="$1" ours="$2" theirs="$3" url="$4"
    shift 4
    ip netns exec "$ours" "$bin/httpd" "$@" >"$tmp/httpd.out" 2>&1 &
    local server=$!
    pids+=("$server")
    sleep 0.5
    echo "$label $(wrk_rate "$theirs" "$url")"
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

http="$tmp/http"
: >"$http"
httpd_run "httpd-tap" "$tp" "$tp" http://10.0.0.2/ --tap tap0 >>"$http"
httpd_run "httpd-tap+offload" "$tp" "$tp" http://10.0.0.2/ --tap tap0 --offload >>"$http"
httpd_run "httpd-raw" "$re" "$rk" http://10.0.1.2/ --raw veth-e --ip4 10.0.1.2/24 --ip6 none >>"$http"
httpd_run "httpd-uring-tap" "$tp" "$tp" http://10.0.0.2/ --nic uring-tap --iface tap0 >>"$http"
httpd_run "httpd-uring-tap+offload" "$tp" "$tp" http://10.0.0.2/ --nic uring-tap --iface tap0 --offload >>"$http"
httpd_run "httpd-uring-raw" "$re" "$rk" http://10.0.1.2/ --nic uring --iface veth-e --ip4 10.0.1.2/24 --ip6 none >>"$http"
ip netns exec "$rk" ethtool -K veth-k tx-checksumming off >/dev/null
httpd_run "httpd-afxdp" "$re" "$rk" http://10.0.1.2/ --nic afxdp --iface veth-e --ip4 10.0.1.2/24 --ip6 none >>"$http"
ip netns exec "$rk" ethtool -K veth-k tx-checksumming on >/dev/null

# nginx across the kernel veth (its offloads back on, as a kernel server
# runs), serving the same 128 bytes as httpd's default body.
for end in "ip netns exec $kc ethtool -K veth-c" "ip netns exec $ks ethtool -K veth-s"; do
    $end tso on gso on gro on >/dev/null
done
mkdir -p "$tmp/www"
python3 -c 'import sys
sys.stdout.write("".join("\n" if i % 64 == 63 else chr(97 + i % 26) for i in range(128)))' >"$tmp/www/index.html"
# One worker (httpd runs one thread: the ratios' base), then one per vCPU.
for workers in 1 2; do
cat >"$tmp/nginx.conf" <<EOF
worker_processes $workers;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp;
    proxy_temp_path $tmp;
    fastcgi_temp_path $tmp;
    uwsgi_temp_path $tmp;
    scgi_temp_path $tmp;
    keepalive_requests 1000000;
    server {
        listen 10.0.2.2:80;
        root $tmp/www;
    }
}
EOF
ip netns exec "$ks" nginx -c "$tmp/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$ks" 80
if [ "$workers" = 1 ]; then label=nginx-veth; else label="nginx-veth-${workers}-workers"; fi
echo "$label $(wrk_rate "$kc" http://10.0.2.2/)" >>"$http"
kill "$nginx_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
done

# The table.
python3 - "$rows" "$http" "$secs" <<'EOF'
import sys
rows = dict(line.split() for line in open(sys.argv[1]) if line.strip())
http = dict(line.split() for line in open(sys.argv[2]) if line.strip())
secs = sys.argv[3]
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
on, off = num(rows.get("kernel-offloads-on")), num(rows.get("kernel-offloads-off"))
print(f"\niperf3, one TCP stream, {secs} s, Gbit/s the receiver counted")
print(f"{'path':<34}{'Gbit/s':>8}{'/ kernel off':>14}{'/ kernel on':>13}")
def ratio(v, base):
    return f"{v / base:.2f}" if v is not None and base else "-"
for name, value in rows.items():
    v = num(value)
    shown = f"{v:.2f}" if v is not None else value
    print(f"{name:<34}{shown:>8}{ratio(v, off):>14}{ratio(v, on):>13}")
# io_uring against the plain TAP backend, like for like.
print(f"\nio_uring TAP / TAP, same direction and offloads")
for mode in ["", "+offload"]:
    for way in ["kernel-sends", "ethox-sends"]:
        tap = num(rows.get(f"tap{mode}:{way}"))
        for uring in [f"uring-tap{mode}", f"uring-tap{mode}+busy"]:
            v = num(rows.get(f"{uring}:{way}"))
            if v is not None and tap:
                print(f"{uring + ':' + way:<34}{v / tap:>8.2f}")
nginx = num(http.get("nginx-veth"))
print(f"\nHTTP, wrk -t1 -c100, {secs} s, 128-byte body, requests/s")
print(f"{'server':<28}{'req/s':>10}{'/ nginx':>10}")
for name, value in http.items():
    v = num(value)
    shown = f"{v:.0f}" if v is not None else value
    print(f"{name:<28}{shown:>10}{ratio(v, nginx):>10}")
EOF
