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
# The same boot storm against Keystorm and against the PyKMIP server (not a test): loopback only,
# every run bounded in count or time.
#
#   1. builds keystorm and keystorm-load in release;
#   2. starts `keystorm serve` on the embedded default in a temp data dir (its first start makes
#      the server CA, the client CA and the default tenant's test client certificate);
#   3. starts `pykmip-server` (PyKMIP 0.11.0 from .venv, the pins of .ci/run) with a server
#      certificate from an openssl CA made here and Keystorm's client CA as its trust store, so
#      the same client certificate works for both;
#   4. against each: setup (Create + Activate of HOSTS x KEYS_PER_HOST keys) and one warm-up pass,
#      then SECS seconds of persistent connections and SECS seconds with one TLS connection per Get;
#   5. writes the four reports and a summary with the Get/s ratios to
#      Tuning/results/<date>-bootstorm-vs-pykmip.md (SVGs beside it).
#
# The server runs on SERVER_CPUS (default CPU 0), keystorm-load on LOAD_CPUS (default CPU 1), both
# at nice NICE (default -10, ahead of builds sharing the machine).
# Usage: [HOSTS=50] [KEYS_PER_HOST=20] [SECS=10] [CONCURRENCY=50] Tuning/scripts/bootstorm-vs-pykmip.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/bootstorm-vs-pykmip.XXXXXX)
DATE=$(date -u +%F)
HOSTS=${HOSTS:-50}
KEYS_PER_HOST=${KEYS_PER_HOST:-20}
SECS=${SECS:-10}
CONCURRENCY=${CONCURRENCY:-$HOSTS}
SERVER_CPUS=${SERVER_CPUS:-0}
# Priority of the servers and keystorm-load over whatever else runs on the machine (builds): the
# same for both servers. Negative values need root; NICE=0 to leave priorities alone.
NICE=${NICE:--10}
LOAD_CPUS=${LOAD_CPUS:-1}
KEYSTORM_PORT=${KEYSTORM_PORT:-25696}
PYKMIP_PORT=${PYKMIP_PORT:-25697}
ADMIN_PORT=${ADMIN_PORT:-25698}
SCRATCH=${SCRATCH:-.build-load-rel}
PYTHON=${KEYSTORM_PYKMIP_PYTHON:-$ROOT/.venv/bin/python}
RESULT="$ROOT/Tuning/results/$DATE-bootstorm-vs-pykmip.md"
ASSETS="$ROOT/Tuning/results/$DATE-bootstorm-vs-pykmip"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

# KEYSTORM_BIN / KEYSTORM_LOAD_BIN: use these binaries instead of building (say so in the result).
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

if [ ! -x "$PYTHON" ]; then
    log "PyKMIP venv ($ROOT/.venv, pins of .ci/run)"
    python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check PyKMIP==0.11.0 cryptography==50.0.2 \
        cffi==2.1.1 pycparser==3.12 SQLAlchemy==2.1.9 typing_extensions==4.16.0 requests==2.34.2 urllib3==2.8.0 \
        idna==3.20 charset-normalizer==3.5.3 certifi==2026.10.19.post1 six==1.17.0 enum-compat==0.0.3
    PYTHON="$ROOT/.venv/bin/python"
fi
PYKMIP_SERVER="$(dirname "$PYTHON")/pykmip-server"

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

log "keystorm serve (CPU $SERVER_CPUS, 127.0.0.1:$KEYSTORM_PORT)"
KS="$WORK/keystorm-data"
ADMIN=()  # keep the admin listener off the default port, which another server may hold
if "$KEYSTORM_BIN" serve --help 2>&1 | grep -q -- --admin-listen; then ADMIN=(--admin-listen "127.0.0.1:$ADMIN_PORT"); fi
# Every simulated host connects from 127.0.0.1: lift the per-source handshake limit (meant for
# one machine each) so that the storm is not refused by it.
if "$KEYSTORM_BIN" serve --help 2>&1 | grep -q -- --max-handshakes-per-source; then
    ADMIN+=(--max-handshakes-per-source 100000)
fi
nice -n "$NICE" taskset -c "$SERVER_CPUS" "$KEYSTORM_BIN" serve --data-dir "$KS" --listen "127.0.0.1:$KEYSTORM_PORT" "${ADMIN[@]}" \
    >"$WORK/keystorm.log" 2>&1 &
PIDS+=($!)
KEYSTORM_PID=$!
wait_for_port "$KEYSTORM_PORT" "$KEYSTORM_PID" "$WORK/keystorm.log"
CLIENT_CERT="$KS/clients/default/keystorm-test-client.pem"
CLIENT_KEY="$KS/clients/default/keystorm-test-client.key"

log "PyKMIP certificates (openssl, ECDSA P-256: PyKMIP's TLS1.2 suite offers ECDHE-ECDSA-AES-GCM)"
P="$WORK/pykmip"
mkdir -p "$P/policies"
cat >"$P/ext.cnf" <<'CNF'
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
CNF
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" -out "$P/ca.pem" \
    -days 2 -subj "/CN=PyKMIP benchmark CA" -config "$P/ext.cnf" -extensions ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/server.key" -out "$P/server.csr" \
    -subj "/CN=127.0.0.1" -config "$P/ext.cnf" 2>/dev/null
openssl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -out "$P/server.pem" \
    -days 2 -extfile "$P/ext.cnf" -extensions server 2>/dev/null
cat >"$P/server.conf" <<CONF
[server]
hostname=127.0.0.1
port=$PYKMIP_PORT
certificate_path=$P/server.pem
key_path=$P/server.key
ca_path=$KS/tls/client-ca.pem
auth_suite=TLS1.2
policy_path=$P/policies
enable_tls_client_auth=True
logging_level=WARNING
database_path=$P/pykmip.db
CONF

log "pykmip-server (CPU $SERVER_CPUS, 127.0.0.1:$PYKMIP_PORT)"
nice -n "$NICE" taskset -c "$SERVER_CPUS" "$PYTHON" -W ignore "$PYKMIP_SERVER" -f "$P/server.conf" -l "$P/server.log" \
    >"$WORK/pykmip.out" 2>&1 &
PIDS+=($!)
PYKMIP_PID=$!
wait_for_port "$PYKMIP_PORT" "$PYKMIP_PID" "$WORK/pykmip.out"

OUT="$WORK/out"
mkdir -p "$OUT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of a process
storm() {  # name, port, ca, extra arguments...
    local name=$1 port=$2 ca=$3
    shift 3
    nice -n "$NICE" taskset -c "$LOAD_CPUS" "$KEYSTORM_LOAD_BIN" bootstorm --target "127.0.0.1:$port" --ca "$ca" \
        --cert "$CLIENT_CERT" --key "$CLIENT_KEY" --hosts "$HOSTS" --keys-per-host "$KEYS_PER_HOST" \
        --concurrency "$CONCURRENCY" --uids-file "$OUT/$name-uids.txt" --quiet "$@" >"$OUT/$name.stdout" 2>&1 ||
        echo "note: keystorm-load exited with $? for $name $*" >&2
}

for server in keystorm pykmip; do
    if [ "$server" = keystorm ]; then
        port=$KEYSTORM_PORT ca="$KS/tls/server-ca.pem" pid=$KEYSTORM_PID
    else
        port=$PYKMIP_PORT ca="$P/ca.pem" pid=$PYKMIP_PID
    fi
    log "$server: setup and warm-up pass ($HOSTS hosts x $KEYS_PER_HOST keys)"
    storm "$server" "$port" "$ca" --json "$OUT/$server-warmup.json"
    mv "$OUT/$server.stdout" "$OUT/$server-warmup.stdout"
    for mode in persistent per-op; do
        log "$server: $mode, $SECS s"
        extra=()
        [ "$mode" = per-op ] && extra=(--connection-per-op)
        # The server's CPU time over the run: Gets per CPU-second do not depend on how much of the
        # shared machine the server got, wall-clock Gets/s do.
        before=$(cpu_ticks "$pid")
        storm "$server" "$port" "$ca" "${extra[@]}" --duration "$SECS" --json "$OUT/$server-$mode.json" \
            --markdown "$OUT/$server-$mode.md" --svg "$OUT/$server-$mode.svg"
        echo "$(($(cpu_ticks "$pid") - before)) $(getconf CLK_TCK)" >"$OUT/$server-$mode.cpu"
        mv "$OUT/$server.stdout" "$OUT/$server-$mode.stdout"
    done
done

log "writing $RESULT"
mkdir -p "$ASSETS"
cp "$OUT"/*-persistent.svg "$OUT"/*-per-op.svg "$ASSETS/"
"$PYTHON" - "$OUT" "$RESULT" "$DATE" "$HOSTS" "$KEYS_PER_HOST" "$SECS" "$CONCURRENCY" "$SERVER_CPUS" "$LOAD_CPUS" \
    "$(basename "$ASSETS")" "$NICE" "${KEYSTORM_BIN#"$ROOT"/}" "${KEYSTORM_LOAD_BIN#"$ROOT"/}" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, os, platform, sys
out, result, date, hosts, kph, secs, conc, scpu, lcpu, assets, nice, ksbin, loadbin, load0, load1 = sys.argv[1:]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
def text(name):
    with open(os.path.join(out, name + ".md")) as f:
        return f.read()
runs = {(s, m): load(f"{s}-{m}") for s in ("keystorm", "pykmip") for m in ("persistent", "per-op")}
def per_cpu_second(s, m):
    with open(os.path.join(out, f"{s}-{m}.cpu")) as f:
        ticks, hz = (int(x) for x in f.read().split())
    seconds = ticks / hz
    return runs[(s, m)]["succeeded"] / seconds if seconds > 0 else float("inf"), seconds
warm = {s: load(f"{s}-warmup") for s in ("keystorm", "pykmip")}
goals = {"persistent": 50, "per-op": 5}
lines = [f"# Boot storm: Keystorm vs PyKMIP ({date})", "",
         "Produced by `Tuning/scripts/bootstorm-vs-pykmip.sh` (binaries below).", "",
         f"- storm: {hosts} hosts x {kph} Gets each, popularity vm ({int(hosts) * int(kph)} distinct AES-256 keys,"
         " created with Create + Activate, then one warm-up pass, so the measured Gets hit warm caches)",
         f"- each measured run: {secs} s of Gets, {conc} in flight, KMIP 1.1, mutual TLS (TLS 1.3 with Keystorm,"
         " TLS 1.2 with PyKMIP's TLS1.2 suite), no session resumption",
         f"- CPU split: server on CPU {scpu}, keystorm-load on CPU {lcpu} (taskset), both at nice {nice}; a shared 2-core machine"
         f" ({os.cpu_count()} CPUs visible), other builds running, so absolute numbers are noisy; the ratios are"
         " the result",
         f"- PyKMIP 0.11.0 `pykmip-server` (SQLite), Python {platform.python_version()}",
         f"- binaries: `{ksbin}`, `{loadbin}`",
         f"- load average (1/5/15 min) at the start: {load0}; at the end: {load1}", "",
         "| connections | Keystorm Get/s | PyKMIP Get/s | ratio | goal | Keystorm p50 / p99 ms | PyKMIP p50 / p99 ms | errors K / P "
         "| Keystorm Gets per server CPU-s | PyKMIP Gets per server CPU-s | CPU ratio |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for mode in ("persistent", "per-op"):
    k, p = runs[("keystorm", mode)], runs[("pykmip", mode)]
    ratio = k["throughput"] / p["throughput"] if p["throughput"] > 0 else float("inf")
    met = "met" if ratio >= goals[mode] else "NOT met"
    kl, pl = k["latency"]["total"], p["latency"]["total"]
    label = "persistent" if mode == "persistent" else "one TLS connection per Get"
    lines.append(f"| {label} | {k['throughput']:.1f} | {p['throughput']:.1f} | {ratio:.1f}x | >= {goals[mode]}x ({met}) "
                 f"| {kl['p50']:.2f} / {kl['p99']:.2f} | {pl['p50']:.2f} / {pl['p99']:.2f} | {k['failed']} / {p['failed']} "
                 f"| {per_cpu_second('keystorm', mode)[0]:.0f} | {per_cpu_second('pykmip', mode)[0]:.0f} "
                 f"| {per_cpu_second('keystorm', mode)[0] / per_cpu_second('pykmip', mode)[0]:.1f}x |")
lines += ["", "Gets/s are wall-clock rates; on a shared machine they depend on how much CPU each process got."
          " Gets per server CPU-second (utime + stime of the server process over the run, from /proc) do not,"
          " and show what one core of each server would do.", "",
          "Setup (Create + Activate per key, persistent connections):", "",
          "| server | keys | Create+Activate/s | warm-up pass Get/s |", "|---|---:|---:|---:|"]
for s in ("keystorm", "pykmip"):
    st = warm[s].get("setup") or {}
    lines.append(f"| {s} | {st.get('keys', 0)} | {st.get('createRate', 0):.1f} | {warm[s]['throughput']:.1f} |")
lines += ["", f"Latency over time and histograms: `{assets}/` (one SVG per run).", ""]
for (s, m) in runs:
    lines += [f"## {s}, {m}", "", f"![{s} {m}]({assets}/{s}-{m}.svg)", ""]
    body = text(f"{s}-{m}").splitlines()
    lines += ["#" + l if l.startswith("# ") else l for l in body]
    lines.append("")
with open(result, "w") as f:
    f.write("\n".join(lines))
print("\n".join(lines[:20]))
PY
