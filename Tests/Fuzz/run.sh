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
# Builds Keystorm's libFuzzer targets (release, -sanitize=fuzzer,address), writes the seed corpus
# (the OASIS test cases in Tests/Fixtures/oasis and the hex vectors of ../shared/kmip-vectors when
# present) and fuzzes.
#
#   Tests/Fuzz/run.sh --smoke                  # CI: FuzzTTLV and FuzzServer, 30 s each
#   Tests/Fuzz/run.sh FuzzTTLV 3600 [JOBS]     # a long run of one target
#
# Targets: FuzzTTLV (TTLV parser, framer, typed model decoder) and FuzzServer (the whole request
# path on an in-process server, as two tenants; an answer to tenant B holding tenant A's key
# material is a finding). Working corpora and crash inputs stay in Tests/Fuzz/.build-fuzz/
# (corpus/<target>, artifacts/<target>); a crash input is kept there and the run exits 1.
# Environment: FUZZ_SCRATCH (default .build-fuzz), FUZZ_RSS_MB (default 4096).
set -euo pipefail

cd "$(dirname "$0")"
scratch=${FUZZ_SCRATCH:-.build-fuzz}
rss=${FUZZ_RSS_MB:-4096}

if [ "${1:-}" = "--smoke" ]; then
    runs=("FuzzTTLV 30" "FuzzServer 30")
    jobs=1
elif [ $# -ge 2 ]; then
    runs=("$1 $2")
    jobs=${3:-1}
else
    sed -n '13,24p' "$0" >&2
    exit 64
fi

echo "== building the fuzz targets (release, fuzzer + address sanitizer)"
for product in FuzzTTLV FuzzServer; do
    swift build -c release --scratch-path "$scratch" --product "$product" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "^warning: 'swift-distributed-tracing'" | tail -n 3
done
bin="$scratch/release"

seed="$scratch/corpus/seed"
rm -rf "$seed"
KEYSTORM_FUZZ_WRITE_CORPUS="$seed" "$bin/FuzzServer"

status=0
for run in "${runs[@]}"; do
    read -r target seconds <<<"$run"
    corpus="$scratch/corpus/$target"
    artifacts="$scratch/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    log="$scratch/$target.log"
    echo "== $target for ${seconds}s ($jobs job(s)); log: $(pwd)/$log"
    set +e
    if [ "$jobs" -gt 1 ]; then
        "$bin/$target" -max_total_time="$seconds" -rss_limit_mb="$rss" -print_final_stats=1 \
            -artifact_prefix="$artifacts" -jobs="$jobs" -workers="$jobs" "$corpus" "$seed" >"$log" 2>&1
    else
        "$bin/$target" -max_total_time="$seconds" -rss_limit_mb="$rss" -print_final_stats=1 \
            -artifact_prefix="$artifacts" "$corpus" "$seed" >"$log" 2>&1
    fi
    code=$?
    set -e
    # With several jobs each worker writes fuzz-N.log, which libFuzzer also copies into the main
    # log when the job ends: count the main log's lines, or the workers' when it has none.
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$executed" -eq 0 ]; then
        executed=$( (cat fuzz-*.log 2>/dev/null || true) | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s+=$1} END {print s+0}')
    fi
    crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    echo "$target: $executed executions, $crashes crash/leak/timeout/oom input(s), exit $code"
    if [ "$code" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        tail -n 40 "$log"
        status=1
    fi
done
rm -f fuzz-*.log
exit $status
