#!/usr/bin/env bash
##===----------------------------------------------------------------------===##
##
## This source file is part of the Keystorm open source project
##
## Copyright (c) 2026 the Keystorm project authors
## Licensed under Apache License v2.0
##
## SPDX-License-Identifier: Apache-2.0
##
##===----------------------------------------------------------------------===##
#
# A Get loop (keystorm-load bootstorm, a TLS connection per Get, as vCenter does) measured alone,
# then again while an attacker without a certificate floods the server with idle TCP connections
# and half handshakes from 100 loopback addresses, offering FACTOR x max-connections in all.
# Prints the Get loop's failures and p99 in both phases. Loopback only; bounded in time.
#
#   KEYSTORM_BIN=.build-release/release/keystorm KEYSTORM_LOAD_BIN=.build-release/release/keystorm-load \
#     [ATTACKER_NICE=19] [SERVER_CPUS=0 CLIENT_CPUS=1 ATTACKER_CPUS=1] \
#     Tuning/scripts/flood-getloop.sh [SECONDS] [FACTOR]
# SERVER_CPUS, CLIENT_CPUS and ATTACKER_CPUS pin the server, the Get loop and the attacker to CPUs
# (taskset lists): the server on a core of its own is closer to separate machines, where the
# server's work on the flood cannot take CPU from the measured client.
set -euo pipefail

cd "$(dirname "$0")/../.."
secs=${1:-20}
factor=${2:-3}
bin=${KEYSTORM_BIN:-.build/debug/keystorm}
load=${KEYSTORM_LOAD_BIN:-.build/debug/keystorm-load}
limit=${MAX_CONNECTIONS:-10000}
# The attacker's CPU priority: 0 shares the cores equally with the server and the Get loop; 19
# stands in for an attacker on another machine (it then gets only what the others leave).
attacker_nice=${ATTACKER_NICE:-0}
# Command prefixes that pin to CPUs (taskset execs the command, so $! stays the process's pid).
server_pin=()
client_pin=()
attacker_pin=()
[ -n "${SERVER_CPUS:-}" ] && server_pin=(taskset -c "$SERVER_CPUS")
[ -n "${CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$CLIENT_CPUS")
[ -n "${ATTACKER_CPUS:-}" ] && attacker_pin=(taskset -c "$ATTACKER_CPUS")
work=$(mktemp -d /tmp/keystorm-flood-XXXXXX)
port=$((20000 + RANDOM % 20000))
ulimit -n 65536 || true
cleanup() { kill "${flood_pids[@]:-}" 2>/dev/null || true; kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
flood_pids=()
trap cleanup EXIT

"${server_pin[@]}" "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" --admin-listen off --max-connections "$limit" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
    [ -f "$work/data/clients/default/keystorm-test-client.key" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.2
done
d="$work/data"
tls=(--target "127.0.0.1:$port" --ca "$d/tls/server-ca.pem" --cert "$d/clients/default/keystorm-test-client.pem" --key "$d/clients/default/keystorm-test-client.key")
getloop() {
    "${client_pin[@]}" "$load" bootstorm "${tls[@]}" --hosts 50 --keys-per-host 4 --connection-per-op --concurrency 4 \
        --uids-file "$work/uids" --duration "$secs" --quiet --json "$1" >"$1.out" 2>&1 || true
}
summary() {
    python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
total = r["latency"].get("total") or next(iter(r["latency"].values()))
print("%s: gets=%d succeeded=%d failed=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%s" % (
    sys.argv[2], r["operations"], r["succeeded"], r["failed"], total["p50"], total["p99"], total["max"], r["errors"]))
if r.get("errorExamples"): print("  examples:", r["errorExamples"])
PY
}
getloop "$work/warmup.json"
getloop "$work/baseline.json"
summary "$work/baseline.json" baseline

per=$(( (limit * factor) / 2 ))
echo "flooding: $per idle TCP + $per half handshakes (${factor}x max-connections $limit), from 100 sources"
"${attacker_pin[@]}" nice -n "$attacker_nice" python3 Tuning/scripts/flood-memory.py "$server" "$port" --kind tcp --connections "$per" --rounds 1000 --hold 0 --settle 0 --sources 100 >"$work/flood-tcp.log" 2>&1 &
flood_pids+=($!)
"${attacker_pin[@]}" nice -n "$attacker_nice" python3 Tuning/scripts/flood-memory.py "$server" "$port" --kind hello --connections "$per" --rounds 1000 --hold 0 --settle 0 --sources 100 >"$work/flood-hello.log" 2>&1 &
flood_pids+=($!)
sleep 5
getloop "$work/flood.json"
summary "$work/flood.json" under-flood
kill "${flood_pids[@]}" 2>/dev/null || true
grep -h "round" "$work"/flood-*.log | tail -n 4 || true
