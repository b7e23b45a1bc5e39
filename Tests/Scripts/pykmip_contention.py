#!/usr/bin/env python3
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
"""Contention measurements with PyKMIP clients against a live Keystorm server (not a test).

    pykmip_contention.py edits --port P --ca server-ca.pem --cert client.pem --key client.key
        [--clients 6] [--count 300]
        creates one key, then CLIENTS processes (KMIP 2.0) each Set Attribute its Contact
        Information COUNT times; prints how many succeeded and why the others failed.

    pykmip_contention.py locate-storm --port P ... [--keys 27000] [--locators 4] [--seconds 15]
        creates KEYS keys (8 processes), then measures Get latency for SECONDS alone and while
        LOCATORS clients send Locate without a filter in a loop.

Lines starting with RESULT carry the figures. Run by ContentionMeasurementLiveTests with the venv
of .ci/run (KEYSTORM_MEASURE set); the server is whatever binary KEYSTORM_BINARY names.
"""

import argparse
import collections
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pykmip_lifecycle  # noqa: E402
from kmip import enums  # noqa: E402


def client(args, directory, kmip_version=None):
    return pykmip_lifecycle.make_client(args, directory, kmip_version=kmip_version)


def set_attributes(args, uid, index, queue):
    failures = collections.Counter()
    succeeded = 0
    try:
        with tempfile.TemporaryDirectory() as directory:
            with client(args, directory, enums.KMIPVersion.KMIP_2_0) as c:
                for i in range(args.count):
                    try:
                        c.set_attribute(uid, attribute_name="Contact Information", attribute_value=f"c{index}-{i}")
                        succeeded += 1
                    except Exception as failure:
                        failures[f"{type(failure).__name__}: {str(failure).replace(uid, '<uid>')}"] += 1
    except Exception as error:
        failures[f"client failed: {error!r}"] += 1
    queue.put((succeeded, dict(failures)))


def edits(args):
    with tempfile.TemporaryDirectory() as directory:
        with client(args, directory, enums.KMIPVersion.KMIP_2_0) as c:
            uid = c.create(enums.CryptographicAlgorithm.AES, 256)
    queue = multiprocessing.Queue()
    start = time.time()
    workers = [multiprocessing.Process(target=set_attributes, args=(args, uid, i, queue)) for i in range(args.clients)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=1200) for _ in workers]
    for worker in workers:
        worker.join()
    failures = collections.Counter()
    for _, failed in results:
        failures.update(failed)
    print(
        f"RESULT edits: clients={args.clients} requests={args.clients * args.count} "
        f"succeeded={sum(r[0] for r in results)} failed={sum(failures.values())} seconds={time.time() - start:.1f}",
        flush=True,
    )
    for reason, count in failures.most_common():
        print(f"RESULT edits: {count}x {reason}", flush=True)
    return 0


def create_keys(args, count, queue):
    try:
        with tempfile.TemporaryDirectory() as directory:
            with client(args, directory) as c:
                uids = [c.create(enums.CryptographicAlgorithm.AES, 256) for _ in range(count)]
        queue.put(uids[:5])
    except Exception as error:
        queue.put(repr(error))


def locate_loop(args, stop, queue):
    calls, elapsed, items = 0, 0.0, 0
    try:
        with tempfile.TemporaryDirectory() as directory:
            with client(args, directory) as c:
                while not stop.is_set():
                    start = time.perf_counter()
                    items = len(c.locate())
                    elapsed += time.perf_counter() - start
                    calls += 1
    except Exception as error:
        queue.put(("error", repr(error), 0))
        return
    queue.put((calls, elapsed, items))


def get_latencies(args, uids, seconds):
    latencies = []
    with tempfile.TemporaryDirectory() as directory:
        with client(args, directory) as c:
            end = time.time() + seconds
            while time.time() < end:
                start = time.perf_counter()
                c.get(uids[len(latencies) % len(uids)])
                latencies.append(time.perf_counter() - start)
    latencies.sort()

    def quantile(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return f"n={len(latencies)} p50={quantile(0.5):.2f} ms p99={quantile(0.99):.2f} ms max={latencies[-1] * 1000:.1f} ms"


def locate_storm(args):
    start = time.time()
    creators = 8
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=create_keys, args=(args, args.keys // creators, queue)) for _ in range(creators)]
    for worker in workers:
        worker.start()
    uids = []
    for _ in workers:
        result = queue.get(timeout=3600)
        if isinstance(result, str):
            print(f"RESULT locate-storm: creating keys failed: {result}", flush=True)
            return 1
        uids += result
    for worker in workers:
        worker.join()
    print(f"RESULT locate-storm: created {args.keys // creators * creators} keys in {time.time() - start:.0f} s", flush=True)
    print(f"RESULT locate-storm: Get alone: {get_latencies(args, uids, args.seconds)}", flush=True)

    stop = multiprocessing.Event()
    results = multiprocessing.Queue()
    locators = [multiprocessing.Process(target=locate_loop, args=(args, stop, results)) for _ in range(args.locators)]
    for locator in locators:
        locator.start()
    time.sleep(2)
    during = get_latencies(args, uids, args.seconds)
    stop.set()
    done = [results.get(timeout=1200) for _ in locators]
    for locator in locators:
        locator.join()
    calls = sum(r[0] for r in done if r[0] != "error")
    elapsed = sum(r[1] for r in done if r[0] != "error")
    print(f"RESULT locate-storm: Get with {args.locators} Locate clients: {during}", flush=True)
    print(
        f"RESULT locate-storm: Locate without filter: {calls} calls, mean {elapsed / max(calls, 1) * 1000:.0f} ms, "
        f"{max((r[2] for r in done if r[0] != 'error'), default=0)} identifiers each; "
        f"errors: {[r[1] for r in done if r[0] == 'error']}",
        flush=True,
    )
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("measurement", choices=["edits", "locate-storm"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ssl-version", default="PROTOCOL_TLS")
    parser.add_argument("--timeout", type=int, default=120)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--keys", type=int, default=27000)
    parser.add_argument("--locators", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    return edits(args) if args.measurement == "edits" else locate_storm(args)


if __name__ == "__main__":
    sys.exit(main())
