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
#
# Server RSS under rounds of connection floods (not a test; loopback only, bounded).
#
# Each round opens N connections to 127.0.0.1:PORT and holds them, reads the server's VmRSS,
# closes them, waits SETTLE seconds and reads VmRSS again. Kinds:
#   tcp    connect and send nothing
#   hello  send a TLS ClientHello and nothing more (a half handshake)
#   frame  full mutual-TLS handshake (--cert, --key, --ca), then the first 16 bytes of a KMIP
#          message that announces 64 KiB (a partial frame)
# The client spreads connections over 127.0.0.2.. (SOURCES addresses), so that the server's
# per-source limit does not refuse them; raise the server's handshake budget above N to measure
# what N held connections cost.
#
# Usage: flood-memory.py PID PORT [--kind tcp|hello|frame] [--connections N] [--rounds R] [--settle S]
#        [--cert F --key F --ca F]
import argparse
import socket
import ssl
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def client_hello():
    """The bytes of a TLS ClientHello, from Python's own TLS client over memory BIOs."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pid", type=int)
    parser.add_argument("port", type=int)
    parser.add_argument("--kind", choices=["tcp", "hello", "frame"], default="tcp")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--ca")
    parser.add_argument("--connections", type=int, default=10300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=12)
    parser.add_argument("--hold", type=float, default=3)
    parser.add_argument("--sources", type=int, default=100)
    arguments = parser.parse_args()
    hello = client_hello() if arguments.kind == "hello" else b""
    context = None
    if arguments.kind == "frame":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(arguments.ca)
        context.load_cert_chain(arguments.cert, arguments.key)
    # A Request Message header announcing 64 KiB, then 8 bytes of it.
    partial = bytes([0x42, 0x00, 0x78, 0x01]) + (64 * 1024).to_bytes(4, "big") + bytes(8)
    print(f"kind={arguments.kind} connections={arguments.connections} idle RSS {rss_kib(arguments.pid)} KiB")
    for round_number in range(1, arguments.rounds + 1):
        before = rss_kib(arguments.pid)
        sockets = []
        for index in range(arguments.connections):
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            connection.bind((f"127.0.0.{2 + index % arguments.sources}", 0))
            connection.connect(("127.0.0.1", arguments.port))
            if hello:
                connection.sendall(hello)
            if context:
                connection = context.wrap_socket(connection)
                connection.sendall(partial)
            sockets.append(connection)
        time.sleep(arguments.hold)
        held = rss_kib(arguments.pid)
        for connection in sockets:
            connection.close()
        time.sleep(arguments.settle)
        after = rss_kib(arguments.pid)
        per = (held - before) / arguments.connections
        print(
            f"round {round_number}: RSS before {before} KiB, with {arguments.connections} open {held} KiB "
            f"({per:.1f} KiB each), {arguments.settle:.0f} s after closing {after} KiB"
        )


if __name__ == "__main__":
    main()
