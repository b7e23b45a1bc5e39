#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the Keystorm open source project
#
# Copyright (c) 2026 the Keystorm project authors
# Licensed under Apache License v2.0
#
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# IOReactor benchmark (not a test): loopback only, every run bounded (<= 20 s).
#
#   (a) full mutual-TLS handshakes/s: reactor-bench-server vs `openssl s_server -rev` (same cert) vs NIO
#   (b) request/response round trips/s over 100 persistent TLS connections (80 B -> 120 B) vs NIO
#   (c) server CPU per round trip and per handshake (/proc/PID/stat at the window edges)
#   (d) server RSS per idle TLS connection with 10,000 open
#
# The server runs on CPU 0 (one loop / one event-loop thread), the C load generator on CPU 1.
# Usage: [PARTS="hs rr idle"] [ROUNDS=2] [SECS=5] Tuning/scripts/reactor-bench.sh [raw-output-file]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/reactor-bench.XXXXXX)
RAW=${1:-$WORK/raw.txt}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
PARTS=${PARTS:-"hs rr idle"}
ROUNDS=${ROUNDS:-2}
want() { [[ " $PARTS " == *" $1 "* ]]; }
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK/certs"' EXIT

echo "== building" >&2
(cd "$ROOT" && swift build -c release --scratch-path .build-reactor-release --product reactor-bench-server >&2)
(cd "$ROOT/Tuning/peers/nio-rr" && swift build -c release --scratch-path .build-nio >&2)
gcc -O2 -Wall -o "$WORK/loadgen" "$ROOT/Tuning/loadgen/loadgen.c" -lssl -lcrypto
REACTOR="$ROOT/.build-reactor-release/release/reactor-bench-server"
NIO="$ROOT/Tuning/peers/nio-rr/.build-nio/release/nio-rr-server"

echo "== certificates (ECDSA P-256)" >&2
C="$WORK/certs"
mkdir -p "$C"
cat > "$C/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/$1.key" 2>/dev/null; }
key ca
openssl req -x509 -new -key "$C/ca.key" -subj /CN=bench-ca -days 3 -config "$C/ext.cnf" -extensions ca -out "$C/ca.pem"
for n in server client; do
    key $n
    openssl req -new -key "$C/$n.key" -subj "/CN=$n" -config "$C/ext.cnf" -out "$C/$n.csr"
    openssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -set_serial $RANDOM -days 3 \
        -extfile "$C/ext.cnf" -extensions $n -out "$C/$n.pem" 2>/dev/null
done
CERTS=(-C "$C/client.pem" -K "$C/client.key" -A "$C/ca.pem")
PORT=17400

# start NAME CMD...: runs the server on CPU 0 and waits until it accepts connections.
start() {
    local name=$1
    shift
    PORT=$((PORT + 1))
    taskset -c 0 "$@" > "$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server $name did not start" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}
stop() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; sleep 0.5; }
load() { taskset -c 1 "$WORK/loadgen" -p "$PORT" -P "$SERVER_PID" "${CERTS[@]}" "$@"; }
record() { echo "$1 $2" | tee -a "$RAW"; }

reactor() { start "$1" "$REACTOR" --port $((PORT + 1)) --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" --loops 1 "${@:2}"; }
nio() { start nio "$NIO" --port $((PORT + 1)) --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" --threads 1; }
s_server() {
    start s_server openssl s_server -accept "127.0.0.1:$((PORT + 1))" -cert "$C/server.pem" -key "$C/server.key" \
        -CAfile "$C/ca.pem" -Verify 1 -verify_return_error -verify_quiet -rev -quiet "$@"
}

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"

if want hs; then
echo "== (a) full mTLS handshakes, 32 concurrent loops, TLS 1.3 and 1.2" >&2
for tls in 13 12; do
    reactor reactor-hs --tickets 0; record "reactor-uring tickets=0" "$(load -m hs -c 32 -d "$SECS" -w "$WARMUP" -t $tls)"; stop
    s_server -num_tickets 0 -no_ticket; record "openssl-s_server tickets=0" "$(load -m hs -c 32 -d "$SECS" -w "$WARMUP" -t $tls)"; stop
    nio; record "nio-niossl default-tickets" "$(load -m hs -c 32 -d "$SECS" -w "$WARMUP" -t $tls)"; stop
done
reactor reactor-hs1 --tickets 1; record "reactor-uring tickets=1" "$(load -m hs -c 32 -d "$SECS" -w "$WARMUP" -t 13)"; stop
reactor reactor-hs-epoll --tickets 0 --backend epoll; record "reactor-epoll tickets=0" "$(load -m hs -c 32 -d "$SECS" -w "$WARMUP" -t 13)"; stop
fi

if want rr; then
echo "== (b) request/response over 100 persistent TLS 1.3 connections" >&2
for round in $(seq 1 "$ROUNDS"); do
    reactor reactor-rr; record "reactor-uring task round=$round" "$(load -m rr -c 100 -d "$SECS" -w "$WARMUP")"; stop
    reactor reactor-rr-actor --actor; record "reactor-uring actor round=$round" "$(load -m rr -c 100 -d "$SECS" -w "$WARMUP")"; stop
    nio; record "nio-niossl round=$round" "$(load -m rr -c 100 -d "$SECS" -w "$WARMUP")"; stop
done
reactor reactor-rr-epoll --backend epoll; record "reactor-epoll task" "$(load -m rr -c 100 -d "$SECS" -w "$WARMUP")"; stop
fi

if want idle; then
echo "== (d) RSS per idle TLS connection, 10,000 open" >&2
reactor reactor-idle-2k --bio 2048; record "reactor-uring idle bio=2048" "$(load -m idle -c 10000 -H 1)"; stop
reactor reactor-idle-1k --bio 1024; record "reactor-uring idle bio=1024 (default)" "$(load -m idle -c 10000 -H 1)"; stop
nio; record "nio-niossl idle" "$(load -m idle -c 10000 -H 1)"; stop
fi

echo "raw results in $RAW" >&2
