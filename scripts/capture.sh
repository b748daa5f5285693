#!/usr/bin/env bash
# Captures real traffic between two Linux hosts for test fixtures.
#
# usage: scripts/capture.sh NAME OUT.pcap 'FILTER' 'COMMAND IN HOST A' ['SETUP IN HOST B']
#
# Creates two network namespaces NAME-a and NAME-b joined by a veth pair
# (a: 02:00:00:00:00:01, 10.0.0.1/24, fd00::1/64; b: 02:00:00:00:00:02,
# 10.0.0.2/24, fd00::2/64), runs SETUP in b (e.g. a server, in the
# background), captures on b's interface with FILTER while COMMAND runs in
# a, then removes both namespaces. Traffic never leaves the pair.
set -euo pipefail
name="$1"; out="$2"; filter="$3"; cmd="$4"; setup="${5:-true}"
a="$name-a"; b="$name-b"
cleanup() {
    ip netns pids "$b" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$a" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$a"; ip netns add "$b"
ip link add "${name}0" type veth peer name "${name}1"
ip link set "${name}0" netns "$a"; ip link set "${name}1" netns "$b"
ip -n "$a" link set "${name}0" name eth0; ip -n "$b" link set "${name}1" name eth0
ip -n "$a" link set eth0 address 02:00:00:00:00:01
ip -n "$b" link set eth0 address 02:00:00:00:00:02
for ns in "$a" "$b"; do
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1 || true
    ip -n "$ns" link set lo up
done
ip -n "$a" addr add 10.0.0.1/24 dev eth0; ip -n "$a" addr add fd00::1/64 dev eth0 nodad
ip -n "$b" addr add 10.0.0.2/24 dev eth0; ip -n "$b" addr add fd00::2/64 dev eth0 nodad
ip -n "$a" link set eth0 up; ip -n "$b" link set eth0 up
ip netns exec "$b" bash -c "$setup" &
sleep 1
ip netns exec "$b" tcpdump -i eth0 -U -s 0 -w "$out" "$filter" 2>/dev/null &
tpid=$!
sleep 1
ip netns exec "$a" bash -c "$cmd" || true
sleep 1
kill "$tpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
echo "wrote $out"
