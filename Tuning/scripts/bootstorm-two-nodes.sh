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
# The same boot storm against one Keystorm node on its SQLite store and against two nodes sharing
# one PostgreSQL (not a test): loopback only, every run bounded in time.
#
#   1. builds keystorm and keystorm-load in release (or takes KEYSTORM_BIN / KEYSTORM_LOAD_BIN);
#   2. one node: `keystorm serve` on the embedded default in a temp data dir;
#   3. two nodes: a throw-away PostgreSQL cluster (.ci/postgres), node A, then node B with A's
#      master key, both on the database; keystorm-load gets both as targets (round-robin) and a
#      CA bundle of both server CAs;
#   4. against each: setup (Create + Activate of HOSTS x KEYS_PER_HOST keys) and one warm-up pass,
#      then SECS seconds of persistent connections and SECS seconds with one TLS connection per Get;
#   5. writes Tuning/results/<date>-bootstorm-two-nodes.md: Get/s, latency, and server CPU per Get
#      (the Keystorm processes, and PostgreSQL's processes separately) from /proc.
#
# Servers (and PostgreSQL) run on SERVER_CPUS (default CPU 0), keystorm-load on LOAD_CPUS (default
# CPU 1), all at nice NICE (default -10).
# Usage: [HOSTS=50] [KEYS_PER_HOST=20] [SECS=10] [CONCURRENCY=50] Tuning/scripts/bootstorm-two-nodes.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/bootstorm-two-nodes.XXXXXX)
chmod 755 "$WORK"
DATE=$(date -u +%F)
HOSTS=${HOSTS:-50}
KEYS_PER_HOST=${KEYS_PER_HOST:-20}
SECS=${SECS:-10}
CONCURRENCY=${CONCURRENCY:-$HOSTS}
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
NICE=${NICE:--10}
BASE_PORT=${BASE_PORT:-26696}
SCRATCH=${SCRATCH:-.build-load-rel}
RESULT="$ROOT/Tuning/results/$DATE-bootstorm-two-nodes.md"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bash "$ROOT/.ci/postgres" stop "$WORK/pg" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

if [ -z "${KEYSTORM_BIN:-}" ]; then
    log "building keystorm (release, $SCRATCH)"
    (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product keystorm >&2)
    KEYSTORM_BIN="$ROOT/$SCRATCH/release/keystorm"
fi
if [ -z "${KEYSTORM_LOAD_BIN:-}" ]; then
    log "building keystorm-load (release, $SCRATCH)"
    (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product keystorm-load >&2)
    KEYSTORM_LOAD_BIN="$ROOT/$SCRATCH/release/keystorm-load"
fi

wait_for_port() {  # port, pid, log
    for _ in $(seq 1 600); do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "server exited:" >&2
            cat "$3" >&2
            exit 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "port $1 not open after 60 s" >&2
    exit 1
}

serve() {  # data dir, kmip port, admin port, extra arguments...; prints the pid
    local data=$1 port=$2 admin=$3
    shift 3
    nice -n "$NICE" taskset -c "$SERVER_CPUS" "$KEYSTORM_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" \
        --admin-listen "127.0.0.1:$admin" --max-handshakes-per-source 100000 "$@" >"$data.log" 2>&1 &
    echo $!
}

cpu_ticks() {  # utime + stime of the given pids, summed
    local total=0
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
# The test cluster's postmaster and its children (none before the cluster starts).
postgres_pids() {
    local main
    main=$(head -n 1 "$WORK/pg/data/postmaster.pid" 2>/dev/null) || return 0
    echo "$main $(pgrep -P "$main" | tr '\n' ' ')"
}

OUT="$WORK/out"
mkdir -p "$OUT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

storm() {  # name, ca, targets (space separated host:port), extra arguments...
    local name=$1 ca=$2 targets=$3
    shift 3
    local target_args=()
    for target in $targets; do target_args+=(--target "$target"); done
    nice -n "$NICE" taskset -c "$LOAD_CPUS" "$KEYSTORM_LOAD_BIN" bootstorm "${target_args[@]}" --ca "$ca" \
        --cert "$CLIENT_CERT" --key "$CLIENT_KEY" --hosts "$HOSTS" --keys-per-host "$KEYS_PER_HOST" \
        --concurrency "$CONCURRENCY" --uids-file "$OUT/$name-uids.txt" --quiet "$@" >"$OUT/$name.stdout" 2>&1 ||
        echo "note: keystorm-load exited with $? for $name $*" >&2
}

measure() {  # name, ca, targets, keystorm pids (space separated)
    local name=$1 ca=$2 targets=$3 pids=$4
    log "$name: setup and warm-up pass ($HOSTS hosts x $KEYS_PER_HOST keys)"
    storm "$name" "$ca" "$targets" --json "$OUT/$name-warmup.json"
    for mode in persistent per-op; do
        log "$name: $mode, $SECS s"
        extra=()
        [ "$mode" = per-op ] && extra=(--connection-per-op)
        # shellcheck disable=SC2086
        local before pg_before
        before=$(cpu_ticks $pids)
        pg_before=$(cpu_ticks $(postgres_pids))
        storm "$name" "$ca" "$targets" "${extra[@]}" --duration "$SECS" --json "$OUT/$name-$mode.json"
        # shellcheck disable=SC2086
        echo "$(($(cpu_ticks $pids) - before)) $(($(cpu_ticks $(postgres_pids)) - pg_before)) $(getconf CLK_TCK)" \
            >"$OUT/$name-$mode.cpu"
    done
}

log "one node on SQLite (CPU $SERVER_CPUS)"
ONE="$WORK/one"
ONE_PID=$(serve "$ONE" "$BASE_PORT" "$((BASE_PORT + 10))")
PIDS+=("$ONE_PID")
wait_for_port "$BASE_PORT" "$ONE_PID" "$ONE.log"
CLIENT_CERT="$ONE/clients/default/keystorm-test-client.pem"
CLIENT_KEY="$ONE/clients/default/keystorm-test-client.key"
measure one-node "$ONE/tls/server-ca.pem" "127.0.0.1:$BASE_PORT" "$ONE_PID"
kill "$ONE_PID"

log "PostgreSQL (CPU $SERVER_CPUS)"
URL=$(taskset -c "$SERVER_CPUS" bash "$ROOT/.ci/postgres" start "$WORK/pg")
PG_VERSION=$(psql "$URL" -Atc "show server_version" 2>/dev/null || echo "?")
A="$WORK/node-a"
B="$WORK/node-b"
A_PID=$(serve "$A" "$((BASE_PORT + 1))" "$((BASE_PORT + 11))" --store "$URL")
PIDS+=("$A_PID")
wait_for_port "$((BASE_PORT + 1))" "$A_PID" "$A.log"
install -d -m 0700 "$B"
install -m 0600 "$A/master.key" "$B/master.key"
B_PID=$(serve "$B" "$((BASE_PORT + 2))" "$((BASE_PORT + 12))" --store "$URL")
PIDS+=("$B_PID")
wait_for_port "$((BASE_PORT + 2))" "$B_PID" "$B.log"
CLIENT_CERT="$A/clients/default/keystorm-test-client.pem"
CLIENT_KEY="$A/clients/default/keystorm-test-client.key"
cat "$A/tls/server-ca.pem" "$B/tls/server-ca.pem" >"$WORK/both-cas.pem"
measure two-nodes "$WORK/both-cas.pem" "127.0.0.1:$((BASE_PORT + 1)) 127.0.0.1:$((BASE_PORT + 2))" "$A_PID $B_PID"

log "writing $RESULT"
python3 - "$OUT" "$RESULT" "$DATE" "$HOSTS" "$KEYS_PER_HOST" "$SECS" "$CONCURRENCY" "$SERVER_CPUS" "$LOAD_CPUS" \
    "$NICE" "${KEYSTORM_BIN#"$ROOT"/}" "${KEYSTORM_LOAD_BIN#"$ROOT"/}" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$PG_VERSION" <<'PY'
import json, os, sys
out, result, date, hosts, kph, secs, conc, scpu, lcpu, nice, ksbin, loadbin, load0, load1, pgv = sys.argv[1:]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
def cpu(name):
    with open(os.path.join(out, name + ".cpu")) as f:
        keystorm, postgres, hz = (int(x) for x in f.read().split())
    return keystorm / hz, postgres / hz
lines = [f"# Boot storm: one node on SQLite, two nodes on PostgreSQL ({date})", "",
         "Produced by `Tuning/scripts/bootstorm-two-nodes.sh` (binaries below).", "",
         f"- storm: {hosts} hosts x {kph} Gets each ({int(hosts) * int(kph)} distinct AES-256 keys, created with"
         " Create + Activate, then one warm-up pass, so the measured Gets hit warm key caches; every Get still reads"
         " its record from the store)",
         f"- each measured run: {secs} s of Gets, {conc} in flight, KMIP 1.1, mutual TLS 1.3, no session resumption;"
         " with two nodes keystorm-load alternates between them (`--target A --target B`)",
         f"- CPU split: the Keystorm nodes and PostgreSQL on CPU {scpu}, keystorm-load on CPU {lcpu} (taskset), all at"
         f" nice {nice}; a shared 2-core machine, so absolute numbers are noisy; compare the rows",
         f"- PostgreSQL {pgv} on loopback (`.ci/postgres`: defaults, fsync and synchronous_commit on)",
         f"- binaries: `{ksbin}`, `{loadbin}`",
         f"- load average (1/5/15 min) at the start: {load0}; at the end: {load1}", "",
         "| setup | connections | Get/s | p50 / p99 ms | errors | Keystorm CPU µs per Get | PostgreSQL CPU µs per Get |"
         " Create+Activate/s (setup) |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
for name, label in (("one-node", "one node, SQLite"), ("two-nodes", "two nodes, PostgreSQL")):
    setup = (load(f"{name}-warmup").get("setup") or {}).get("createRate", 0)
    for mode in ("persistent", "per-op"):
        run = load(f"{name}-{mode}")
        ks, pg = cpu(f"{name}-{mode}")
        gets = max(1, run["succeeded"])
        latency = run["latency"]["total"]
        connection = "persistent" if mode == "persistent" else "one TLS connection per Get"
        lines.append(f"| {label} | {connection} | {run['throughput']:.1f} | {latency['p50']:.2f} / {latency['p99']:.2f}"
                     f" | {run['failed']} | {ks / gets * 1e6:.0f} | {pg / gets * 1e6:.0f} | {setup:.1f} |")
lines += ["", "CPU per Get is utime + stime over the run (from /proc) of the Keystorm processes (both nodes together"
          " for two nodes) and, separately, of every PostgreSQL process, divided by the Gets that succeeded.", ""]
with open(result, "w") as f:
    f.write("\n".join(lines))
print("\n".join(lines))
PY
