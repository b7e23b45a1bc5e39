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
# A boot storm against `keystorm serve --root-keys keyprotect` (not a test): loopback only, every
# run bounded. The KeyProtectEmulator answers Key Protect's API with 30 ms added to every call and
# at most 200 wrap/unwrap calls per second (429 with Retry-After beyond), so a storm over 2,000
# keys whose cache is cold cannot finish in less than 2,000 / 200 = 10 s.
#
#   1. builds keystorm, keystorm-load and KeyProtectEmulator in release (or takes KEYSTORM_BIN,
#      KEYSTORM_LOAD_BIN, KP_EMULATOR_BIN);
#   2. starts the emulator and `keystorm serve --root-keys keyprotect` pointed at it;
#   3. creates 2,000 keys (Create + Activate), restarts keystorm (cold cache);
#   4. storm 1, cold: 200 hosts x 20 Gets over the 2,000 keys, a TLS connection per Get;
#   5. storm 2, warm: the same again;
#   6. restarts keystorm with --cache-prewarm 2000, waits for the prewarm's 2,000 unwraps, storm 3;
#   7. writes Tuning/results/<date>-bootstorm-keyprotect.md.
#
# Usage: [HOSTS=200] [KEYS_PER_HOST=20] [KEYS=2000] [LATENCY_MS=30] [RATE_LIMIT=200]
#        Tuning/scripts/bootstorm-keyprotect.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/bootstorm-keyprotect.XXXXXX)
DATE=$(date -u +%F)
HOSTS=${HOSTS:-200}
KEYS_PER_HOST=${KEYS_PER_HOST:-20}
KEYS=${KEYS:-2000}
LATENCY_MS=${LATENCY_MS:-30}
RATE_LIMIT=${RATE_LIMIT:-200}
CONCURRENCY=${CONCURRENCY:-$HOSTS}
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
NICE=${NICE:--10}
KEYSTORM_PORT=${KEYSTORM_PORT:-25706}
ADMIN_PORT=${ADMIN_PORT:-25708}
SCRATCH=${SCRATCH:-.build-load-rel}
RESULT="$ROOT/Tuning/results/$DATE-bootstorm-keyprotect.md"
API_KEY=bench-api-key
INSTANCE=3b1f7c2e-9d4a-4f6b-8e21-5c0d7a9e4f10
KEYSTORM_PID=""
EMULATOR_PID=""
cleanup() {
    [ -n "$KEYSTORM_PID" ] && kill "$KEYSTORM_PID" 2>/dev/null || true
    [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

for product in keystorm keystorm-load KeyProtectEmulator; do
    case $product in
        keystorm) var=KEYSTORM_BIN ;;
        keystorm-load) var=KEYSTORM_LOAD_BIN ;;
        KeyProtectEmulator) var=KP_EMULATOR_BIN ;;
    esac
    if [ -z "${!var:-}" ]; then
        log "building $product (release, $SCRATCH)"
        (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2)
        printf -v "$var" '%s' "$ROOT/$SCRATCH/release/$product"
    fi
done

log "KeyProtectEmulator: $LATENCY_MS ms per call, $RATE_LIMIT key actions/s"
"$KP_EMULATOR_BIN" --listen 127.0.0.1:0 --state-file "$WORK/kp-state.json" --api-key "$API_KEY" \
    --instance-id "$INSTANCE" --latency-ms "$LATENCY_MS" --rate-limit "$RATE_LIMIT" >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
KP_URL=""
for _ in $(seq 1 600); do
    KP_URL=$(sed -n 's/^KeyProtectEmulator listening on \(http[^ ]*\).*/\1/p' "$WORK/emulator.log" | head -n1)
    [ -n "$KP_URL" ] && break
    kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$WORK/emulator.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$KP_URL" ] || { echo "the emulator printed no address" >&2; exit 1; }
stats() { curl -s "$KP_URL/admin/stats"; }
reset_stats() { curl -s -X POST "$KP_URL/admin/stats/reset" >/dev/null; }

KS="$WORK/keystorm-data"
export KEYSTORM_KEYPROTECT_URL="$KP_URL" KEYSTORM_KEYPROTECT_IAM_URL="$KP_URL/identity/token"
export KEYSTORM_KEYPROTECT_INSTANCE_ID="$INSTANCE" KEYSTORM_KEYPROTECT_API_KEY="$API_KEY"
ADMIN=()
if "$KEYSTORM_BIN" serve --help 2>&1 | grep -q -- --admin-listen; then ADMIN=(--admin-listen "127.0.0.1:$ADMIN_PORT"); fi
# Every simulated host connects from 127.0.0.1: lift the per-source handshake limit (meant for
# one machine each) so that the storm is not refused by it.
if "$KEYSTORM_BIN" serve --help 2>&1 | grep -q -- --max-handshakes-per-source; then
    ADMIN+=(--max-handshakes-per-source 100000)
fi
start_keystorm() {  # extra serve arguments
    local log_file
    log_file="$WORK/keystorm-$(date +%s%N).log"
    nice -n "$NICE" taskset -c "$SERVER_CPUS" "$KEYSTORM_BIN" serve --data-dir "$KS" \
        --listen "127.0.0.1:$KEYSTORM_PORT" --root-keys keyprotect "${ADMIN[@]}" "$@" >"$log_file" 2>&1 &
    KEYSTORM_PID=$!
    for _ in $(seq 1 1200); do
        kill -0 "$KEYSTORM_PID" 2>/dev/null || { cat "$log_file" >&2; exit 1; }
        grep -q "serving KMIP on" "$log_file" && return 0
        sleep 0.1
    done
    echo "keystorm serve did not start in 120 s" >&2
    cat "$log_file" >&2
    exit 1
}
stop_keystorm() {
    kill "$KEYSTORM_PID"
    wait "$KEYSTORM_PID" 2>/dev/null || true
    KEYSTORM_PID=""
}

log "keystorm serve --root-keys keyprotect"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_keystorm
OUT="$WORK/out"
mkdir -p "$OUT"
storm() {  # name, extra arguments
    local name=$1
    shift
    nice -n "$NICE" taskset -c "$LOAD_CPUS" "$KEYSTORM_LOAD_BIN" bootstorm --target "127.0.0.1:$KEYSTORM_PORT" \
        --ca "$KS/tls/server-ca.pem" --cert "$KS/clients/default/keystorm-test-client.pem" \
        --key "$KS/clients/default/keystorm-test-client.key" --hosts "$HOSTS" --keys-per-host "$KEYS_PER_HOST" \
        --keys "$KEYS" --concurrency "$CONCURRENCY" --uids-file "$OUT/uids.txt" --quiet --timeout 120 "$@" \
        >"$OUT/$name.stdout" 2>&1 || echo "note: keystorm-load exited with $? for $name" >&2
}

log "setup: $KEYS keys (Create + Activate; every new key is wrapped by the emulator)"
storm setup --count 1 --json "$OUT/setup.json"
log "restart: cold cache"
stop_keystorm
start_keystorm
for run in cold warm; do
    log "storm $run: $HOSTS hosts x $KEYS_PER_HOST Gets, a TLS connection per Get"
    reset_stats
    storm "$run" --connection-per-op --json "$OUT/$run.json" --markdown "$OUT/$run.md"
    stats >"$OUT/$run-kp.json"
done

log "restart with --cache-prewarm $KEYS"
stop_keystorm
reset_stats
PREWARM_START=$(date +%s.%N)
start_keystorm --cache-prewarm "$KEYS"
PREWARM_UNWRAPS=0
for _ in $(seq 1 1200); do
    PREWARM_UNWRAPS=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("unwrap", 0))')
    [ "$PREWARM_UNWRAPS" -ge "$KEYS" ] && break
    sleep 0.1
done
PREWARM_SECONDS=$(python3 -c "import time; print(f'{time.time() - $PREWARM_START:.1f}')")
log "prewarm: $PREWARM_UNWRAPS unwraps after $PREWARM_SECONDS s"
reset_stats
storm prewarmed --connection-per-op --json "$OUT/prewarmed.json" --markdown "$OUT/prewarmed.md"
stats >"$OUT/prewarmed-kp.json"

log "writing $RESULT"
python3 - "$OUT" "$RESULT" "$DATE" "$HOSTS" "$KEYS_PER_HOST" "$KEYS" "$LATENCY_MS" "$RATE_LIMIT" "$CONCURRENCY" \
    "$PREWARM_UNWRAPS" "$PREWARM_SECONDS" "$SERVER_CPUS" "$LOAD_CPUS" "$NICE" "${KEYSTORM_BIN#"$ROOT"/}" \
    "${KEYSTORM_LOAD_BIN#"$ROOT"/}" "${KP_EMULATOR_BIN#"$ROOT"/}" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, os, sys
(out, result, date, hosts, kph, keys, latency, rate, conc, pw_unwraps, pw_secs, scpu, lcpu, nice, ksbin, loadbin,
 kpbin, load0, load1) = sys.argv[1:]
bound = int(keys) / int(rate)
def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)
setup = load("setup.json").get("setup") or {}
lines = [f"# Boot storm against Key Protect ({date})", "",
         "Produced by `Tuning/scripts/bootstorm-keyprotect.sh`: `keystorm serve --root-keys keyprotect` against the"
         f" KeyProtectEmulator with {latency} ms added to every call and at most {rate} wrap/unwrap calls per second"
         " (429 with Retry-After beyond).", "",
         f"- storm: {hosts} hosts x {kph} Gets over {keys} distinct keys (popularity vm: every key read"
         f" {int(hosts) * int(kph) // int(keys)} times), {conc} in flight, one TLS connection per Get (vCenter's pattern)",
         f"- lower bound for a cold cache: {keys} unwraps / {rate} per s = {bound:.1f} s",
         f"- setup: {setup.get('created', 0)} keys created with Create + Activate in {setup.get('seconds', 0):.1f} s"
         f" ({setup.get('createRate', 0):.1f}/s), then keystorm restarted (empty cache)",
         f"- CPU split: keystorm on CPU {scpu}, keystorm-load on CPU {lcpu} (taskset), nice {nice}; the emulator"
         " unpinned; a shared 2-core machine",
         f"- binaries: `{ksbin}`, `{loadbin}`, `{kpbin}`",
         f"- load average (1/5/15 min) at the start: {load0}; at the end: {load1}", "",
         "| storm | seconds | vs lower bound | Gets ok | failed | Get p50 ms | Get p99 ms | max ms | KP unwraps | KP 429s |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for name, label in (("cold", "cold cache"), ("warm", "warm cache"), ("prewarmed", "after restart with prewarm")):
    r = load(f"{name}.json")
    kp = load(f"{name}-kp.json")
    t = r["latency"]["total"]
    lines.append(f"| {label} | {r['seconds']:.2f} | {r['seconds'] / bound:.2f}x | {r['succeeded']} | {r['failed']} "
                 f"| {t['p50']:.1f} | {t['p99']:.1f} | {t['max']:.1f} | {kp.get('calls', {}).get('unwrap', 0)} "
                 f"| {kp.get('status429', 0)} |")
lines += ["", f"Prewarm at start (`--cache-prewarm {keys}`): {pw_unwraps} unwraps within {pw_secs} s of the start"
          " (the storm began after them).", ""]
for name in ("cold", "warm", "prewarmed"):
    r = load(f"{name}.json")
    if r["errors"]:
        lines.append(f"Errors, {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())))
for name in ("cold", "warm", "prewarmed"):
    with open(os.path.join(out, f"{name}.md")) as f:
        body = f.read().splitlines()
    lines += ["", f"## {name}", ""] + ["#" + l if l.startswith("# ") else l for l in body]
with open(result, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines[:20]))
PY
