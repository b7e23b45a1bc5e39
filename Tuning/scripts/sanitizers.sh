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
# Runs test suites under a sanitizer in a build folder of its own (.build-thread, .build-address):
#
#   Tuning/scripts/sanitizers.sh thread  [FILTER]
#   Tuning/scripts/sanitizers.sh address [FILTER]
#
# FILTER (a swift test --filter expression) defaults to the unit suites of every library target;
# pass '.' for everything (the live-server suites then run the sanitized keystorm binary, which
# takes several times longer). A build from nothing takes 15-25 minutes on 2 cores. Exit status
# is swift test's: a data race or a memory error reported by the sanitizer fails the run.
#
# Under thread, tsan-mutex.c (built here) is preloaded into the test process: it shows TSan the
# contended paths of Synchronization's Mutex, which TSan cannot see on its own (see that file).
set -euo pipefail

cd "$(dirname "$0")/../.."
kind=${1:?usage: sanitizers.sh thread|address [FILTER]}
case "$kind" in thread | address) ;; *) echo "sanitizer must be thread or address" >&2; exit 64 ;; esac
filter=${2:-"KMIPCodecTests|KMIPModelTests|KMIPServerTests|KeyStoreTests|RootKeysTests|IOReactorTests|AdminHTTPTests|KeystormPKITests"}
scratch=".build-$kind"
log="$scratch/sanitizer-$kind.log"
mkdir -p "$scratch"
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=1 second_deadlock_stack=1"}
export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=0 halt_on_error=1"}
echo "== swift build --build-tests --sanitize=$kind ($scratch)"
if ! swift build --build-tests --scratch-path "$scratch" --sanitize="$kind" >"$scratch/build.log" 2>&1; then
    grep -E "error:" "$scratch/build.log" | head -n 20
    echo "the build failed; log: $scratch/build.log"
    exit 1
fi
tail -n 1 "$scratch/build.log"
preload=""
if [ "$kind" = thread ]; then
    clang -shared -fPIC -O1 -Wall -Werror -o "$scratch/tsan-mutex.so" Tuning/scripts/tsan-mutex.c
    preload="$PWD/$scratch/tsan-mutex.so"
fi
echo "== swift test --sanitize=$kind --filter '$filter' (log: $log)"
set +e
LD_PRELOAD="$preload" swift test --skip-build --scratch-path "$scratch" --sanitize="$kind" --filter "$filter" >"$log" 2>&1
code=$?
set -e
grep -E "^(✔|✘|━) Test run|Executed .* tests|ThreadSanitizer|AddressSanitizer|SUMMARY" "$log" | sort | uniq -c | tail -n 20
echo "exit $code"
exit $code
