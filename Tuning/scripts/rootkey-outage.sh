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
# A root-key outage on a live server (not a test): `keystorm serve --root-keys keyprotect` against
# the KeyProtectEmulator, whose outage fault answers every Key Protect and IAM call with 503.
#
#   1. starts the emulator and `keystorm serve` (fresh data dir, random loopback ports, admin API
#      on); the default tenant's root key is created in the emulator;
#   2. creates A_KEYS keys (set A) and B_KEYS keys (set B), restarts keystorm (empty key cache) and
#      Gets each key of A once: A is cached, B is not;
#   3. runs the Get loop of step 4 for BASELINE_SECONDS (its p99 is the baseline), then turns the
#      emulator's outage on and keeps it on;
#   4. a Get loop over A (keystorm-load bootstorm, a TLS connection per Get) for LOOP_SECONDS:
#      every Get must succeed;
#   5. Gets every key of B at once (a connection each): every Get must fail within unwrap.timeout
#      (+ MARGIN seconds) with "root key service unavailable" in its Result Message;
#   6. lifts the outage and Gets the keys of B again, once a second until all are served: that must
#      happen within keyprotect.outage-max-cooldown (10 s; until then calls fail at once while
#      Key Protect is thought down) + MARGIN, and the time it took is printed;
#   7. prints one line per phase; exits 1 when a goal is not met.
# Loopback only; every step bounded in time; processes and files removed on exit.
#
#   KEYSTORM_BIN=.build/debug/keystorm KEYSTORM_LOAD_BIN=.build/debug/keystorm-load \
#   KEYPROTECT_EMULATOR_BIN=.build/debug/KeyProtectEmulator \
#     [A_KEYS=50] [B_KEYS=10] [LOOP_SECONDS=30] [BASELINE_SECONDS=10] [UNWRAP_TIMEOUT=10] [MARGIN=1] \
#     Tuning/scripts/rootkey-outage.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
bin=${KEYSTORM_BIN:-.build/debug/keystorm}
load=${KEYSTORM_LOAD_BIN:-.build/debug/keystorm-load}
emulator=${KEYPROTECT_EMULATOR_BIN:-.build/debug/KeyProtectEmulator}
a_keys=${A_KEYS:-50}
b_keys=${B_KEYS:-10}
loop_seconds=${LOOP_SECONDS:-30}
baseline_seconds=${BASELINE_SECONDS:-10}
unwrap_timeout=${UNWRAP_TIMEOUT:-10}
margin=${MARGIN:-1}
work=$(mktemp -d /tmp/keystorm-rootkey-outage-XXXXXX)
port=$((20000 + RANDOM % 20000))
admin_port=$((port + 1))
api_key=outage-api-key
instance=3b1f7c2e-9d4a-4f6b-8e21-5c0d7a9e4f10
server=""
emulator_pid=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

"$emulator" --listen 127.0.0.1:0 --state-file "$work/kp-state.json" --api-key "$api_key" \
    --instance-id "$instance" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
kp_url=""
for _ in $(seq 1 300); do
    kp_url=$(sed -n 's/^KeyProtectEmulator listening on \(http[^ ]*\).*/\1/p' "$work/emulator.log" | head -n1)
    [ -n "$kp_url" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; fail "the emulator exited"; }
    sleep 0.1
done
[ -n "$kp_url" ] || fail "the emulator printed no address in 30 s"
faults() { curl -sf --max-time 5 -X PUT -H 'Content-Type: application/json' -d "$1" "$kp_url/admin/faults" >/dev/null; }
unwraps() { curl -sf --max-time 5 "$kp_url/admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("unwrap", 0))'; }
answers_5xx() { curl -sf --max-time 5 "$kp_url/admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status5xx"])'; }

d="$work/data"
export KEYSTORM_KEYPROTECT_URL="$kp_url" KEYSTORM_KEYPROTECT_IAM_URL="$kp_url/identity/token"
export KEYSTORM_KEYPROTECT_INSTANCE_ID="$instance" KEYSTORM_KEYPROTECT_API_KEY="$api_key"
export KEYSTORM_UNWRAP_TIMEOUT="$unwrap_timeout"
start_keystorm() {
    local log_file
    log_file="$work/serve-$(date +%s%N).log"
    : >"$log_file"
    "$bin" serve --data-dir "$d" --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin_port" \
        --root-keys keyprotect >"$log_file" 2>&1 &
    server=$!
    for _ in $(seq 1 600); do
        kill -0 "$server" 2>/dev/null || { cat "$log_file" >&2; fail "keystorm serve exited"; }
        grep -q "serving KMIP on" "$log_file" && return 0
        sleep 0.1
    done
    cat "$log_file" >&2
    fail "keystorm serve did not start in 60 s"
}
stop_keystorm() {
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
}
readyz() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$admin_port/readyz" || true; }

# The KMIP steps keystorm-load cannot do (Gets whose Result Reason, Message and time are kept),
# with attack.py's TTLV client.
cat >"$work/kmip.py" <<'PY'
import concurrent.futures, json, sys, time
sys.path.insert(0, sys.argv[1])
from attack import Client, create_aes, uid_request

mode, port, data, out = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def new_client():
    return Client(port, f"{data}/tls/server-ca.pem", f"{data}/clients/default/keystorm-test-client.pem",
                  f"{data}/clients/default/keystorm-test-client.key", timeout=60)
if mode == "create":  # create COUNT keys, one identifier a line in OUT
    client = new_client()
    uids = []
    for _ in range(int(sys.argv[6])):
        reply = client.call(create_aes())
        if reply.status != 0 or not reply.uid:
            sys.exit(f"Create failed: reason={reply.reason} message={reply.message!r}")
        uids.append(reply.uid)
    with open(out, "w") as f:
        f.write("\n".join(uids) + "\n")
    sys.exit(0)
# get: Get each key of the file OUT, a connection per Get (get-parallel: all at once, a thread
# each); JSON of the results on stdout.
def get(uid):
    own = new_client()
    own.connect()
    start = time.monotonic()
    reply = own.call(uid_request("Get", uid))
    seconds = time.monotonic() - start
    own.close()
    return {"uid": uid, "ok": reply.status == 0 and bool(reply.material), "status": reply.status,
            "reason": reply.reason, "message": reply.message, "seconds": seconds}
uids = open(out).read().split()
if mode == "get-parallel":
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(uids)) as pool:
        results = list(pool.map(get, uids))
else:
    results = [get(uid) for uid in uids]
print(json.dumps(results))
PY
kmip() { timeout 600 python3 "$work/kmip.py" "$ROOT/Tuning/scripts" "$1" "$port" "$d" "${@:2}"; }
# A summary of Get results (JSON from kmip.py get): count, failures, max seconds, answers seen.
get_summary() {
    python3 -c '
import collections, json, sys
r = json.load(open(sys.argv[1]))
answers = collections.Counter((x["status"], x["reason"], x["message"]) for x in r if not x["ok"])
print("gets=%d succeeded=%d failed=%d max_s=%.3f answers=%s" % (len(r), sum(x["ok"] for x in r),
      sum(not x["ok"] for x in r), max(x["seconds"] for x in r),
      "; ".join("status=%s reason=%s message=%r x%d" % (s, re, m, n) for (s, re, m), n in answers.items()) or "-"))' "$1"
}

start_keystorm
kmip create "$work/a.txt" "$a_keys" || fail "creating set A"
kmip create "$work/b.txt" "$b_keys" || fail "creating set B"
# An empty key cache, then only A is unwrapped into it.
stop_keystorm
start_keystorm
before=$(unwraps)
kmip get "$work/a.txt" >"$work/warm.json" || fail "Getting set A"
echo "setup: $a_keys keys in A, $b_keys in B (Create), restarted; warm A: $(get_summary "$work/warm.json") kp_unwraps=$(($(unwraps) - before)) unwrap.timeout=${unwrap_timeout}s"
python3 -c 'import json,sys; sys.exit(0 if all(x["ok"] for x in json.load(open(sys.argv[1]))) else 1)' "$work/warm.json" \
    || fail "a Get of set A failed before the outage"

# The Get loop over A: keystorm-load, a TLS connection per Get (as vCenter does), 4 at once.
getloop() {  # seconds, report
    timeout $(($1 + 120)) "$load" bootstorm --target "127.0.0.1:$port" --ca "$d/tls/server-ca.pem" \
        --cert "$d/clients/default/keystorm-test-client.pem" --key "$d/clients/default/keystorm-test-client.key" \
        --hosts "$a_keys" --keys-per-host 1 --keys "$a_keys" --uids-file "$work/a.txt" --connection-per-op \
        --concurrency 4 --duration "$1" --timeout 30 --quiet --json "$2" >"$2.out" 2>&1 || true
    [ -f "$2" ] || { cat "$2.out" >&2; fail "the Get loop wrote no report"; }
}
getloop "$baseline_seconds" "$work/baseline.json"

faults '{"outage": true}' || fail "turning the outage on"
outage_start=$(date +%s)
getloop "$loop_seconds" "$work/loop.json"
loop_ready=$(readyz)
python3 - "$work/loop.json" "$loop_ready" "$work/baseline.json" <<'PY' || fail "cached Gets failed during the outage"
import json, sys
def read(path):
    r = json.load(open(path))
    return r, r["latency"].get("total") or next(iter(r["latency"].values()))
r, t = read(sys.argv[1])
_, base = read(sys.argv[3])
print("outage, cached A: gets=%d succeeded=%d failed=%d (%.1f%% served) over %.1f s, p50_ms=%.2f p99_ms=%.2f"
      " (baseline before the outage %.2f) max_ms=%.2f errors=%s readyz=%s" % (
    r["operations"], r["succeeded"], r["failed"], 100.0 * r["succeeded"] / max(1, r["operations"]), r["seconds"],
    t["p50"], t["p99"], base["p99"], t["max"], r["errors"] or "-", sys.argv[2]))
sys.exit(0 if r["operations"] > 0 and r["failed"] == 0 else 1)
PY

b_start=$(date +%s)
b_unwraps=$(unwraps)
b_5xx=$(answers_5xx)
kmip get-parallel "$work/b.txt" >"$work/uncached.json" || fail "Getting set B during the outage"
echo "outage, uncached B (all at once, after $((b_start - outage_start)) s of outage): $(get_summary "$work/uncached.json")" \
    "kp_unwrap_calls=$(($(unwraps) - b_unwraps)) kp_503s=$(($(answers_5xx) - b_5xx)) readyz=$(readyz)"
python3 - "$work/uncached.json" "$unwrap_timeout" "$margin" <<'PY' || fail "uncached Gets did not fail within unwrap.timeout with the clear error"
import json, sys
r, bound = json.load(open(sys.argv[1])), float(sys.argv[2]) + float(sys.argv[3])
bad = [x for x in r if x["ok"] or x["seconds"] > bound or "root key service unavailable" not in (x["message"] or "")]
for x in bad:
    print("  not as wanted: %s" % x)
sys.exit(1 if bad else 0)
PY

faults '{"outage": false}' || fail "lifting the outage"
lifted=$(date +%s.%N)
# Until the next probe of Key Protect (at most keyprotect.outage-max-cooldown after the last one)
# calls fail at once: Get B once a second until every key is served, for at most that long.
recovery_bound=$((10 + margin))
served_after="over $recovery_bound"
while :; do
    kmip get "$work/b.txt" >"$work/after.json" || fail "Getting set B after the outage"
    waited=$(python3 -c "import time; print('%.1f' % (time.time() - $lifted))")
    if python3 -c 'import json,sys; sys.exit(0 if all(x["ok"] for x in json.load(open(sys.argv[1]))) else 1)' "$work/after.json"; then
        served_after=$waited
        break
    fi
    python3 -c "import sys; sys.exit(0 if float('$waited') < $recovery_bound else 1)" || break
    sleep 1
done
# /readyz is not a goal here; how long it takes to say ready again is reported (bounded: 60 s).
ready_after="over 60"
for _ in $(seq 1 240); do
    if [ "$(readyz)" = 200 ]; then ready_after=$(python3 -c "import time; print('%.1f' % (time.time() - $lifted))"); break; fi
    sleep 0.25
done
echo "after the outage, B: $(get_summary "$work/after.json"); all served ${served_after} s after it was lifted; /readyz 200 after $ready_after s"
python3 -c 'import json,sys; sys.exit(0 if all(x["ok"] for x in json.load(open(sys.argv[1]))) else 1)' "$work/after.json" \
    || fail "a Get of set B still failed ${recovery_bound} s after the outage was lifted"
echo "PASS: cached Gets served throughout the outage; uncached Gets failed within ${unwrap_timeout}s + ${margin}s with the clear error; all served within ${recovery_bound} s after it"
