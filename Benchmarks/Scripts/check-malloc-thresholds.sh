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
# Checks the benchmarks' allocation counts against Thresholds/<Swift major.minor>/ and fails on a
# regression. Only `mallocCountTotal` is checked (with `--metric`, benchmark measures nothing
# else, so the counts are exact); times are never asserted.
#
#   Benchmarks/Scripts/check-malloc-thresholds.sh [extra benchmark options, e.g. --filter 'KeyCache.*']
#
# Environment: BENCH_SCRATCH, the scratch path inside Benchmarks/ (default .build-bench).
#
# Exit status: 0 when every count is within its benchmark's tolerance (see each benchmark's
# `thresholds:`), or when some are lower than recorded (an improvement: it says which, so that
# the thresholds can be updated with the command in Benchmarks/README.md); 1 on a regression, a
# missing thresholds file, a failed build or a failed benchmark.
set -euo pipefail

cd "$(dirname "$0")/.."
scratch=${BENCH_SCRATCH:-.build-bench}
version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -n1)
thresholds="Thresholds/$version"
if [ ! -d "$thresholds" ]; then
    echo "error: no malloc thresholds for Swift $version ($(pwd)/$thresholds); record them with:" >&2
    echo "  swift package --scratch-path $scratch --allow-writing-to-package-directory benchmark thresholds update --metric mallocCountTotal --path $thresholds" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift package --scratch-path "$scratch" benchmark thresholds check \
    --metric mallocCountTotal --path "$thresholds" --no-progress "$@" 2>&1 | tee "$log" || status=$?

if [ "$status" -eq 0 ]; then
    echo "malloc thresholds: every benchmark within its tolerance"
    exit 0
fi
# benchmark 1.38.1 fails the plugin for counts below the thresholds too (BETTER than the
# thresholds, exit code 4 inside the plugin). Fewer allocations is not a failure.
if grep -q "is BETTER than the defined thresholds" "$log" && ! grep -q "is WORSE than the defined thresholds" "$log"; then
    echo "malloc thresholds: no regression; some counts are lower than recorded (update $thresholds)"
    exit 0
fi
echo "malloc thresholds: FAILED (a regression above, or the build or a benchmark failed)" >&2
exit 1
