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
# Settings sweeps for `keystorm serve` under a boot storm from `keystorm-load` (a measurement, not a
# test). For each setting it starts the server once per value, with every other setting at its
# default (or as in CONFIG), runs one bounded boot storm against it, stops it, and writes one JSON
# report per run plus a Markdown summary. Values are interleaved across REPEAT rounds (1, 2, 4, 1,
# 2, 4, ...), so that drift in the machine's load hits every value alike.
#
#   Tuning/scripts/sweep.sh [output-dir]          # default: a new /tmp/keystorm-sweep.XXXXXX
#
# Settings swept (SWEEPS, default "loops cache inflight window"):
#   loops     event loops                    LOOPS_VALUES     default "1 2"
#   cache     cache.max-entries              CACHE_VALUES     default "0 256 100000"
#   inflight  unwrap.max-in-flight           INFLIGHT_VALUES  default "1 4 16 64"
#   window    unwrap.batch-window            WINDOW_VALUES    default "0 2ms 10ms"
# A setting the keystorm binary does not read is skipped, with a note in run-info.txt.
#
# Environment:
#   KEYSTORM, KEYSTORM_LOAD   the binaries; default: built here in release (.build-sweep)
#   HOSTS, KEYS_PER_HOST      the storm: simulated ESXi hosts and keys each host gets (64, 16)
#   DURATION                  seconds of load per run (10); the first Gets after a start unwrap
#   REPEAT                    rounds (2)
#   SERVER_CPUS, LOAD_CPUS    taskset CPU lists for the server and keystorm-load (0 and 1; pinning
#                             is skipped on a 1-CPU machine)
#   PORT                      the server's port on 127.0.0.1 (15696)
#   CONFIG                    a configuration file for every run (e.g. a Tuning/profiles/ file with
#                             root-keys = "keyprotect" against an emulator); default none
#   EXTRA_LOAD_ARGS           more keystorm-load options, e.g. "--connection-per-op"
#
# Settings reach the server as environment variables (KEYSTORM_LOOPS, KEYSTORM_CACHE_MAX_ENTRIES,
# ...), which beat the configuration file. The admin API is off (KEYSTORM_ADMIN_LISTEN=off) so that
# the sweep does not collide with another server on 9696. Needs python3 for the summary.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$(mktemp -d /tmp/keystorm-sweep.XXXXXX)}
mkdir -p "$OUT"
SWEEPS=${SWEEPS:-"loops cache inflight window"}
LOOPS_VALUES=${LOOPS_VALUES:-"1 2"}
CACHE_VALUES=${CACHE_VALUES:-"0 256 100000"}
INFLIGHT_VALUES=${INFLIGHT_VALUES:-"1 4 16 64"}
WINDOW_VALUES=${WINDOW_VALUES:-"0 2ms 10ms"}
HOSTS=${HOSTS:-64}
KEYS_PER_HOST=${KEYS_PER_HOST:-16}
DURATION=${DURATION:-10}
REPEAT=${REPEAT:-2}
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
PORT=${PORT:-15696}
CONFIG=${CONFIG:-}
EXTRA_LOAD_ARGS=${EXTRA_LOAD_ARGS:-}
DATA="$OUT/data"
SERVER_PID=""
SERVER_CPU=0
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT

log() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

if [ -z "${KEYSTORM:-}" ] || [ -z "${KEYSTORM_LOAD:-}" ]; then
    log "building keystorm and keystorm-load (release, .build-sweep)"
    (cd "$ROOT" && swift build -c release --scratch-path .build-sweep --product keystorm >&2)
    (cd "$ROOT" && swift build -c release --scratch-path .build-sweep --product keystorm-load >&2)
    KEYSTORM=${KEYSTORM:-$ROOT/.build-sweep/release/keystorm}
    KEYSTORM_LOAD=${KEYSTORM_LOAD:-$ROOT/.build-sweep/release/keystorm-load}
fi

pin_server=()
pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    pin_server=(taskset -c "$SERVER_CPUS")
    pin_load=(taskset -c "$LOAD_CPUS")
fi

# The environment variable of a setting key: KEYSTORM_ and the key in capitals, '.' and '-' as '_'.
env_name() { echo "KEYSTORM_$(echo "$1" | tr 'a-z.-' 'A-Z__')"; }

# start_server [KEY=VALUE ...]: starts keystorm serve with those settings and waits for its port.
start_server() {
    # Every simulated host connects from 127.0.0.1: lift the per-source handshake limit.
    local env_args=(KEYSTORM_ADMIN_LISTEN=off KEYSTORM_MAX_HANDSHAKES_PER_SOURCE=100000)
    local setting
    for setting in "$@"; do env_args+=("$(env_name "${setting%%=*}")=${setting#*=}"); done
    local config_args=()
    [ -n "$CONFIG" ] && config_args=(--config "$CONFIG")
    env "${env_args[@]}" "${pin_server[@]}" "$KEYSTORM" serve "${config_args[@]}" --data-dir "$DATA" \
        --listen "127.0.0.1:$PORT" >>"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    local waited=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "error: keystorm serve exited; see $OUT/server.log" >&2
            tail -n 20 "$OUT/server.log" >&2
            exit 1
        fi
        sleep 0.2
        waited=$((waited + 1))
        [ "$waited" -lt 600 ] || { echo "error: keystorm serve did not listen within 120 s" >&2; exit 1; }
    done
}

# stop_server: sets SERVER_CPU to the server's CPU seconds (utime + stime) so far, then stops it
# (SIGTERM) and waits for it to exit.
stop_server() {
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)
    SERVER_CPU=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

storm() { # storm JSON-FILE
    # shellcheck disable=SC2086
    "${pin_load[@]}" "$KEYSTORM_LOAD" bootstorm --target "127.0.0.1:$PORT" \
        --ca "$DATA/tls/server-ca.pem" \
        --cert "$DATA/clients/default/keystorm-test-client.pem" \
        --key "$DATA/clients/default/keystorm-test-client.key" \
        --hosts "$HOSTS" --keys-per-host "$KEYS_PER_HOST" --uids-file "$OUT/uids.txt" \
        --duration "$DURATION" --quiet --json "$1" $EXTRA_LOAD_ARGS >>"$OUT/load.log" 2>&1 || {
        echo "warning: keystorm-load failed for $1 (see $OUT/load.log); its report counts the failures" >&2
    }
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) CPUs, $(uname -sr), $(swift --version 2>/dev/null | head -n1)"
    echo "storm: hosts=$HOSTS keys-per-host=$KEYS_PER_HOST duration=${DURATION}s repeat=$REPEAT extra='$EXTRA_LOAD_ARGS'"
    echo "pinning: server '${pin_server[*]:-none}', load '${pin_load[*]:-none}'"
    echo "config: ${CONFIG:-defaults}"
} >"$OUT/run-info.txt"

# First start: the data directory, its PKI and test client, and the keys (kept in uids.txt).
log "preparing $DATA and the keys"
start_server
"${pin_load[@]}" "$KEYSTORM_LOAD" bootstorm --target "127.0.0.1:$PORT" --ca "$DATA/tls/server-ca.pem" \
    --cert "$DATA/clients/default/keystorm-test-client.pem" --key "$DATA/clients/default/keystorm-test-client.key" \
    --hosts "$HOSTS" --keys-per-host "$KEYS_PER_HOST" --uids-file "$OUT/uids.txt" --count 1 --quiet \
    >>"$OUT/load.log" 2>&1
stop_server

echo "sweep,setting,value,round,server_cpu_s,load_avg,file" >"$OUT/runs.csv"
for sweep in $SWEEPS; do
    case "$sweep" in
    loops) key=loops values=$LOOPS_VALUES ;;
    cache) key=cache.max-entries values=$CACHE_VALUES ;;
    inflight) key=unwrap.max-in-flight values=$INFLIGHT_VALUES ;;
    window) key=unwrap.batch-window values=$WINDOW_VALUES ;;
    *) echo "error: unknown sweep '$sweep' (loops, cache, inflight, window)" >&2; exit 1 ;;
    esac
    # An unknown setting is ignored without a word, so a sweep of a key this binary does not read
    # would measure the default over and over: skip it instead.
    if ! grep -qa "$key" "$KEYSTORM"; then
        echo "$sweep: skipped: $KEYSTORM does not read $key" | tee -a "$OUT/run-info.txt" >&2
        continue
    fi
    for round in $(seq 1 "$REPEAT"); do
        for value in $values; do
            file="$OUT/$sweep-$value-r$round.json"
            log "$sweep: $key=$value, round $round"
            load=$(cut -d' ' -f1 /proc/loadavg)
            start_server "$key=$value"
            storm "$file"
            stop_server
            echo "$sweep,$key,$value,$round,$SERVER_CPU,$load,$(basename "$file")" >>"$OUT/runs.csv"
        done
    done
done

python3 - "$OUT" >"$OUT/summary.md" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
print(open(os.path.join(out, "run-info.txt")).read().strip().replace("\n", "  \n"))
print()
print("| setting | value | round | Gets/s | Gets per server CPU-s | p50 ms | p99 ms | failed | load avg |")
print("|---|---|---|---|---|---|---|---|---|")
for row in csv.DictReader(open(os.path.join(out, "runs.csv"))):
    path = os.path.join(out, row["file"])
    if not os.path.exists(path):
        print(f"| {row['setting']} | {row['value']} | {row['round']} | no report | | | | | {row['load_avg']} |")
        continue
    report = json.load(open(path))
    total = report.get("latency", {}).get("total", {})
    cpu = float(row["server_cpu_s"] or 0)
    per_cpu = f"{report.get('succeeded', 0) / cpu:,.0f}" if cpu > 0 else "-"
    print(f"| {row['setting']} | {row['value']} | {row['round']} | {report.get('throughput', 0):,.0f} | {per_cpu} "
          f"| {total.get('p50', 0):.2f} | {total.get('p99', 0):.2f} | {report.get('failed', 0)} | {row['load_avg']} |")
PY
cat "$OUT/summary.md"
log "reports in $OUT (runs.csv, summary.md, one JSON per run)"
