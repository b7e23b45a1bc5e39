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
# COUNT malformed requests (attack.py malformed) against a live server on a fresh data directory,
# beside a Get loop on persistent connections that must not see one failure. Prints the attack's
# tally, the Get loop's totals and p99, and whether the server is still alive. Loopback only.
#
#   KEYSTORM_BIN=.build-release/release/keystorm KEYSTORM_LOAD_BIN=.build-release/release/keystorm-load \
#     Tuning/scripts/malformed-live.sh COUNT [WORKERS] [attack.py options, e.g. --resumption]
#
# The seeds are the fuzz corpus Tests/Fuzz/run.sh writes (Tests/Fuzz/.build-fuzz/corpus/seed);
# without it the attack mutates a handful of built-in requests.
set -euo pipefail

cd "$(dirname "$0")/../.."
count=${1:?usage: malformed-live.sh COUNT [WORKERS] [attack.py options]}
workers=${2:-4}
shift $(($# < 2 ? $# : 2))
bin=${KEYSTORM_BIN:-.build/debug/keystorm}
load=${KEYSTORM_LOAD_BIN:-.build/debug/keystorm-load}
seeds=Tests/Fuzz/.build-fuzz/corpus/seed
work=$(mktemp -d /tmp/keystorm-malformed-XXXXXX)
port=$((20000 + RANDOM % 20000))
loop=""
cleanup() { [ -n "$loop" ] && kill "$loop" 2>/dev/null; kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" --admin-listen off >"$work/serve.log" 2>&1 &
server=$!
d="$work/data"
for _ in $(seq 1 600); do
    [ -f "$d/clients/default/keystorm-test-client.key" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.2
done
tls=(--ca "$d/tls/server-ca.pem" --cert "$d/clients/default/keystorm-test-client.pem" --key "$d/clients/default/keystorm-test-client.key")

# The Get loop: 60-second rounds on 2 persistent connections until the attack ends.
touch "$work/attack.running"
(
    round=0
    while [ -f "$work/attack.running" ]; do
        round=$((round + 1))
        "$load" bootstorm --target "127.0.0.1:$port" "${tls[@]}" --hosts 2 --keys-per-host 4 --concurrency 2 \
            --uids-file "$work/uids" --duration 60 --quiet --json "$work/getloop-$round.json" >"$work/getloop-$round.out" 2>&1 || true
    done
) &
loop=$!

set +e
python3 Tuning/scripts/attack.py malformed --port "$port" "${tls[@]}" --count "$count" --workers "$workers" \
    --seeds "$seeds" --pid "$server" "$@"
attack=$?
set -e
rm -f "$work/attack.running"
wait "$loop" 2>/dev/null || true
loop=""

set +e
python3 - "$work" <<'PY'
import glob, json, sys
gets = failed = 0
p99 = 0.0
errors = {}
for path in sorted(glob.glob(sys.argv[1] + "/getloop-*.json")):
    r = json.load(open(path))
    total = r["latency"].get("total") or next(iter(r["latency"].values()))
    gets += r["operations"]; failed += r["failed"]; p99 = max(p99, total["p99"])
    for k, v in (r.get("errors") or {}).items():
        errors[k] = errors.get(k, 0) + v
print("get loop: gets=%d failed=%d worst_round_p99_ms=%.1f errors=%s" % (gets, failed, p99, errors))
sys.exit(1 if failed or gets == 0 else 0)
PY
getloop=$?
set -e
if kill -0 "$server" 2>/dev/null; then alive=yes; else alive=no; fi
echo "server alive: $alive"
[ "$attack" -eq 0 ] && [ "$getloop" -eq 0 ] && [ "$alive" = yes ]
