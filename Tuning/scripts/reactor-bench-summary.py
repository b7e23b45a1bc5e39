#!/usr/bin/env python3
#===----------------------------------------------------------------------===#
#
# This source file is part of the Keystorm open source project
#
# Copyright (c) 2026 the Keystorm project authors
# Licensed under Apache License v2.0
#
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
"""Turns the raw lines of reactor-bench.sh into the Markdown tables of Tuning/results.

Usage: reactor-bench-summary.py RAW_FILE
"""
import sys


def parse(path):
    rows = []
    for line in open(path):
        if line.startswith("#") or "mode=" not in line:
            continue
        label, _, rest = line.partition(" mode=")
        fields = dict(item.split("=", 1) for item in ("mode=" + rest).split() if "=" in item)
        rows.append((label.strip(), fields))
    return rows


def main():
    rows = parse(sys.argv[1])
    print("| server | TLS | handshakes/s | server CPU s | handshakes per server CPU-s | server CPU per handshake (µs) | errors |")
    print("|---|---|---|---|---|---|---|")
    for label, f in rows:
        if f["mode"] != "hs":
            continue
        cpu, ops = float(f["server_cpu_s"]), int(f["ops"])
        per_op = f"{cpu / ops * 1e6:.0f}" if ops else "-"
        print(f"| {label} | {f['tls']} | {f['rate']} | {cpu:.2f} | {f['per_server_cpu_s']} | {per_op} | {f['errors']} |")
    print()
    print("| server | RR/s | server CPU s | RR per server CPU-s | server CPU per RR (µs) | p50 µs | p99 µs | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for label, f in rows:
        if f["mode"] != "rr":
            continue
        cpu, ops = float(f["server_cpu_s"]), int(f["ops"])
        per_op = f"{cpu / ops * 1e6:.1f}" if ops else "-"
        print(
            f"| {label} | {f['rate']} | {cpu:.2f} | {f['per_server_cpu_s']} | {per_op} | {f['p50_us']} | {f['p99_us']} | {f['errors']} |"
        )
    print()
    print("| server | connections held | RSS before (KiB) | RSS with them open (KiB) | KiB per idle connection |")
    print("|---|---|---|---|---|")
    for label, f in rows:
        if f["mode"] != "idle":
            continue
        print(f"| {label} | {f['held']} | {f['rss_before_kib']} | {f['rss_after_kib']} | {f['per_conn_kib']} |")


if __name__ == "__main__":
    main()
