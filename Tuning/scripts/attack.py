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
"""Hostile clients for a live Keystorm server, for Tuning/results/RELIABILITY.md.

Each subcommand prints one summary line of `key=value` pairs (and JSON with --json) and exits 1
when it saw a defect. Only the standard library; loopback targets only.

  attack.py malformed --port P --ca CA --cert C --key K --count N [--seeds DIR] [--pid PID]
      N mutated requests (bit flips, truncation, length and type rewrites, splices of seed
      messages) over mutual TLS, reconnecting when the server closes. A reply that is not a
      KMIP response, or a server process that dies, is a defect. --resumption resumes the TLS
      session on reconnects (more requests a second; the handshake path is then exercised less).
  attack.py probe --port P --ca CA --owner-cert C --owner-key K --cert C2 --key K2 --count N
      tenant B asks for tenant A's keys (Get, Get Attributes, Add Attribute, Destroy, Revoke) and
      for random identifiers: any success, any reply holding A's key material, or a reason or
      message that tells A's identifiers from random ones is a leak.
  attack.py edits --port P --ca CA --cert C --key K --connections 6 --count 300
      six connections add attributes to one key at once: every edit must succeed, or fail with a
      reason that names the concurrent update, never as a store failure.
  attack.py kill9 --binary keystorm --cycles N [--writers 4]
      starts `keystorm serve` on a fresh data directory, streams Creates (each key read back and
      its material noted once acknowledged), kill -9s the server at a random moment, restarts it
      and checks every acknowledged key: lost or changed material is a defect.
"""

import argparse
import json
import multiprocessing
import os
import queue
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---- TTLV -------------------------------------------------------------------------------------

STRUCT, INT, LONG, BIGINT, ENUM, BOOL, TEXT, BYTES, DATE, INTERVAL = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10

T = {
    "RequestMessage": 0x420078, "RequestHeader": 0x420077, "ProtocolVersion": 0x420069,
    "Major": 0x42006A, "Minor": 0x42006B, "BatchCount": 0x42000D, "BatchItem": 0x42000F,
    "Operation": 0x42005C, "RequestPayload": 0x420079, "ResponsePayload": 0x42007C,
    "ResponseMessage": 0x42007B, "ResultStatus": 0x42007F, "ResultReason": 0x42007E,
    "ResultMessage": 0x42007D, "UniqueIdentifier": 0x420094, "ObjectType": 0x420057,
    "TemplateAttribute": 0x420091, "Attribute": 0x420008, "AttributeName": 0x42000A,
    "AttributeValue": 0x42000B, "KeyMaterial": 0x420043, "RevocationReason": 0x420081,
    "RevocationReasonCode": 0x420082,
}
OP = {"Create": 1, "Get": 10, "GetAttributes": 11, "AddAttribute": 13, "Locate": 8,
      "Revoke": 19, "Destroy": 20}


def item(tag, kind, value):
    if kind == STRUCT:
        body = b"".join(value)
    elif kind in (INT, ENUM, INTERVAL):
        body = struct.pack(">I", value & 0xFFFFFFFF)
    elif kind in (LONG, DATE):
        body = struct.pack(">q", value)
    elif kind == BOOL:
        body = struct.pack(">Q", 1 if value else 0)
    elif kind == TEXT:
        body = value.encode()
    else:
        body = value
    pad = (8 - len(body) % 8) % 8 if kind in (TEXT, BYTES, STRUCT) else 0
    if kind in (INT, ENUM, INTERVAL):
        pad = 4
    return struct.pack(">I", tag)[1:] + bytes([kind]) + struct.pack(">I", len(body)) + body + b"\0" * pad


def attribute(name, kind, value):
    return item(T["Attribute"], STRUCT, [item(T["AttributeName"], TEXT, name), item(T["AttributeValue"], kind, value)])


def request(operation, payload):
    header = item(T["RequestHeader"], STRUCT, [
        item(T["ProtocolVersion"], STRUCT, [item(T["Major"], INT, 1), item(T["Minor"], INT, 1)]),
        item(T["BatchCount"], INT, 1),
    ])
    batch = item(T["BatchItem"], STRUCT, [item(T["Operation"], ENUM, OP[operation]),
                                          item(T["RequestPayload"], STRUCT, payload)])
    return item(T["RequestMessage"], STRUCT, [header, batch])


def create_aes():
    return request("Create", [
        item(T["ObjectType"], ENUM, 2),
        item(T["TemplateAttribute"], STRUCT, [
            attribute("Cryptographic Algorithm", ENUM, 3),
            attribute("Cryptographic Length", INT, 256),
            attribute("Cryptographic Usage Mask", INT, 12),
        ]),
    ])


def uid_request(operation, uid, extra=()):
    return request(operation, [item(T["UniqueIdentifier"], TEXT, uid)] + list(extra))


def parse(data, offset=0, end=None):
    """Flat list of (tag, type, value) with structures expanded depth-first; raises on bad TTLV."""
    end = len(data) if end is None else end
    out = []
    while offset < end:
        if end - offset < 8:
            raise ValueError("short header")
        tag = int.from_bytes(data[offset:offset + 3], "big")
        kind = data[offset + 3]
        length = int.from_bytes(data[offset + 4:offset + 8], "big")
        body = offset + 8
        if body + length > end:
            raise ValueError("length past the end")
        if kind == STRUCT:
            out.append((tag, kind, None))
            out.extend(parse(data, body, body + length))
            padded = length
        else:
            out.append((tag, kind, bytes(data[body:body + length])))
            padded = length + (8 - length % 8) % 8
        offset = body + padded
    return out


class Reply:
    def __init__(self, raw):
        self.raw = raw
        items = parse(raw)
        if not items or items[0][0] != T["ResponseMessage"]:
            raise ValueError("not a ResponseMessage")
        self.items = items

    def first(self, tag):
        for t, _, v in self.items:
            if t == tag:
                return v
        return None

    @property
    def status(self):
        value = self.first(T["ResultStatus"])
        return None if value is None else int.from_bytes(value[:4], "big")

    @property
    def reason(self):
        value = self.first(T["ResultReason"])
        return None if value is None else int.from_bytes(value[:4], "big")

    @property
    def message(self):
        value = self.first(T["ResultMessage"])
        return None if value is None else value.decode(errors="replace")

    @property
    def uid(self):
        value = self.first(T["UniqueIdentifier"])
        return None if value is None else value.decode()

    @property
    def material(self):
        return self.first(T["KeyMaterial"])


# ---- Transport --------------------------------------------------------------------------------

class Client:
    def __init__(self, port, ca, cert, key, host="127.0.0.1", timeout=30, resume=False):
        assert host in ("127.0.0.1", "::1", "localhost"), "loopback targets only"
        self.address = (host, port)
        self.resume = resume
        self.session = None
        self.connections = 0
        self.resumed = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.load_verify_locations(ca)
        self.context.load_cert_chain(cert, key)
        self.context.check_hostname = False
        self.timeout = timeout
        self.sock = None

    def connect(self):
        raw = socket.create_connection(self.address, timeout=self.timeout)
        self.sock = self.context.wrap_socket(raw, session=self.session if self.resume else None)
        self.connections += 1
        self.resumed += 1 if self.sock.session_reused else 0

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed by the server")
            data += chunk
        return data

    def exchange(self, message):
        """Sends bytes and returns the raw reply; raises ConnectionError when the server closes."""
        if self.sock is None:
            self.connect()
        self.sock.sendall(message)
        head = self._read(8)
        length = int.from_bytes(head[4:8], "big")
        if length > 16 << 20:
            raise ValueError("reply length %d" % length)
        reply = head + self._read(length)
        if self.resume:
            # TLS 1.3 tickets arrive after the handshake: the session is worth keeping once a
            # reply has been read.
            self.session = self.sock.session
        return reply

    def call(self, message):
        """One request and its reply; a connection the server closed while idle is opened again."""
        try:
            return Reply(self.exchange(message))
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            self.close()
            return Reply(self.exchange(message))


# ---- malformed --------------------------------------------------------------------------------

def mutate(rng, seeds):
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        if len(data) < 16:
            data = bytearray(rng.choice(seeds))
            if len(data) < 16:
                data += b"\0" * (16 - len(data))
        if choice == 0:      # bit flips
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
        elif choice == 1:    # truncate (inner lengths now point past the end)
            data = data[:rng.randrange(8, max(9, len(data)))]
        elif choice == 2:    # rewrite an item's length
            i = rng.randrange(0, max(1, len(data) - 8), 8)
            data[i + 4:i + 8] = struct.pack(">I", rng.choice([0, 1, 7, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 20)]))
        elif choice == 3:    # rewrite an item's type
            i = rng.randrange(0, max(1, len(data) - 8), 8)
            data[i + 3] = rng.randrange(256)
        elif choice == 4:    # splice two seeds
            other = rng.choice(seeds)
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + bytearray(other[rng.randrange(len(other) + 1):])
        elif choice == 5:    # a long text where a short one was
            text = b"x" * rng.choice([300, 4096, 70000])
            data += item(T["UniqueIdentifier"], TEXT, text.decode())
        else:                # duplicate a range
            a = rng.randrange(len(data))
            b = min(len(data), a + rng.randrange(1, 64))
            data = data[:b] + data[a:b] + data[b:]
    # Keep the outer length right, so that the server reads the whole message and answers it (a
    # header that promises more than is sent only makes the server wait for its idle timeout).
    if len(data) < 8:
        data += b"\0" * (8 - len(data))
    data[4:8] = struct.pack(">I", len(data) - 8)
    return bytes(data)


def load_seeds(directory):
    seeds = [create_aes(), uid_request("Get", "1"), uid_request("GetAttributes", "00000000-0000-0000-0000-000000000000"),
             request("Locate", [])]
    if directory and os.path.isdir(directory):
        for name in sorted(os.listdir(directory))[:2000]:
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            if 8 <= len(data) <= 65536:
                seeds.append(data)
    return seeds


def malformed_worker(args, seeds, w, count, results):
    """One worker process: `count` mutated requests on reconnecting connections; puts its tally."""
    rng = random.Random(args.seed * 1000 + w)
    client = Client(args.port, args.ca, args.cert, args.key, timeout=args.timeout, resume=args.resumption)
    local = {"sent": 0, "answered": 0, "failed_items": 0, "closed": 0, "undecodable": 0, "timeouts": 0}
    for _ in range(count):
        message = mutate(rng, seeds)
        local["sent"] += 1
        try:
            raw = client.exchange(message)
            try:
                reply = Reply(raw)
                local["answered"] += 1
                if reply.status != 0:
                    local["failed_items"] += 1
            except ValueError:
                local["undecodable"] += 1
                print("undecodable reply to %s: %s" % (message[:64].hex(), raw[:64].hex()), file=sys.stderr)
        except socket.timeout:
            local["timeouts"] += 1
            client.close()
        except (ConnectionError, ssl.SSLError, OSError):
            local["closed"] += 1
            client.close()
    local["connections"] = client.connections
    local["resumed"] = client.resumed
    results.put(local)


def run_malformed(args):
    # Worker processes, not threads: the mutations and the TLS handshakes after each close are
    # CPU work in this process, and threads would share one interpreter lock.
    seeds = load_seeds(args.seeds)
    stats = {"sent": 0, "answered": 0, "failed_items": 0, "closed": 0, "undecodable": 0, "timeouts": 0,
             "connections": 0, "resumed": 0}
    start = time.time()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=malformed_worker,
                               args=(args, seeds, w, args.count // args.workers + (1 if w < args.count % args.workers else 0), results))
               for w in range(args.workers)]
    for worker in workers:
        worker.start()
    alive = True
    tallies = []
    while len(tallies) < len(workers):
        try:
            tallies.append(results.get(timeout=1))
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers) and results.empty():
                break
        if args.pid:
            try:
                os.kill(args.pid, 0)
            except OSError:
                alive = False
    for worker in workers:
        worker.join()
    for local in tallies:
        for k, v in local.items():
            stats[k] += v
    stats["seconds"] = round(time.time() - start, 1)
    stats["server_alive"] = alive
    complete = len(tallies) == len(workers)
    if not complete:
        print("a worker process ended without its tally", file=sys.stderr)
    return stats, stats["undecodable"] == 0 and alive and complete


# ---- probe ------------------------------------------------------------------------------------

def run_probe(args):
    owner = Client(args.port, args.ca, args.owner_cert, args.owner_key)
    stranger = Client(args.port, args.ca, args.cert, args.key)
    owned, materials = [], []
    for _ in range(args.keys):
        uid = owner.call(create_aes()).uid
        owned.append(uid)
        materials.append(owner.call(uid_request("Get", uid)).material)
    rng = random.Random(args.seed)
    operations = [
        lambda u: uid_request("Get", u),
        lambda u: uid_request("GetAttributes", u),
        lambda u: uid_request("AddAttribute", u, [attribute("x-Probe", TEXT, "p")]),
        lambda u: uid_request("Destroy", u),
        lambda u: uid_request("Revoke", u, [item(T["RevocationReason"], STRUCT, [item(T["RevocationReasonCode"], ENUM, 5)])]),
    ]
    stats = {"probes": 0, "leaks": 0, "successes": 0}
    answers = {"owned": set(), "random": set()}
    for n in range(args.count):
        kind = "owned" if n % 2 == 0 else "random"
        uid = rng.choice(owned) if kind == "owned" else "%08x-%04x-4%03x-a%03x-%012x" % (
            rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))
        op = rng.randrange(len(operations))
        reply = stranger.call(operations[op](uid))
        stats["probes"] += 1
        if reply.status == 0:
            stats["successes"] += 1
            stats["leaks"] += 1
        if any(m and m in reply.raw for m in materials):
            stats["leaks"] += 1
        # The answer's shape, with the identifier itself taken out of the message.
        shape = (op, reply.status, reply.reason, (reply.message or "").replace(uid, "<uid>"))
        answers[kind].add(shape)
    distinguishing = answers["owned"].symmetric_difference(answers["random"])
    stats["distinguishing_answers"] = len(distinguishing)
    stats["leaks"] += len(distinguishing)
    # The owner still has every key, unchanged.
    for uid, material in zip(owned, materials):
        if owner.call(uid_request("Get", uid)).material != material:
            stats["leaks"] += 1
    return stats, stats["leaks"] == 0


# ---- edits ------------------------------------------------------------------------------------

def run_edits(args):
    setup = Client(args.port, args.ca, args.cert, args.key)
    uid = setup.call(create_aes()).uid
    results = {"ok": 0, "failed": 0, "store_failures": 0, "reasons": {}}
    lock = threading.Lock()

    def worker(w):
        client = Client(args.port, args.ca, args.cert, args.key)
        for i in range(args.count):
            reply = client.call(uid_request("AddAttribute", uid, [attribute("x-Edit", TEXT, "%d-%d" % (w, i))]))
            with lock:
                if reply.status == 0:
                    results["ok"] += 1
                else:
                    results["failed"] += 1
                    key = "%s: %s" % (reply.reason, re.sub(r"[0-9a-f-]{36}", "<uid>", reply.message or ""))
                    results["reasons"][key] = results["reasons"].get(key, 0) + 1
                    if "key store" in (reply.message or ""):
                        results["store_failures"] += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["edits"] = args.connections * args.count
    return results, results["store_failures"] == 0


# ---- kill9 ------------------------------------------------------------------------------------

def run_kill9(args):
    root = tempfile.mkdtemp(prefix="keystorm-kill9-")
    data = os.path.join(root, "data")
    port = args.port or random.randrange(20000, 60000)
    serve = [args.binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:%d" % port, "--admin-listen", "off"]
    ca = os.path.join(data, "tls", "server-ca.pem")
    cert = os.path.join(data, "clients", "default", "keystorm-test-client.pem")
    key = os.path.join(data, "clients", "default", "keystorm-test-client.key")
    acknowledged = {}
    lock = threading.Lock()
    rng = random.Random(args.seed)
    stats = {"cycles": 0, "acknowledged": 0, "lost": 0, "changed": 0}

    def start():
        log = open(os.path.join(root, "serve.log"), "ab")
        process = subprocess.Popen(serve, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if os.path.exists(key):
                    return process
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("keystorm serve did not start; see %s" % log.name)

    def writer(stop):
        client = Client(port, ca, cert, key, timeout=10)
        while not stop.is_set():
            try:
                uid = client.call(create_aes()).uid
                if uid is None:
                    continue
                # Acknowledged: from here on the key must survive. Read its material once.
                material = client.call(uid_request("Get", uid)).material
                with lock:
                    acknowledged[uid] = material
            except (ConnectionError, ssl.SSLError, OSError, ValueError):
                client.close()
                time.sleep(0.05)

    process = start()
    try:
        for _ in range(args.cycles):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(stop,)) for _ in range(args.writers)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, args.max_delay))
            process.send_signal(signal.SIGKILL)
            process.wait()
            stop.set()
            for t in threads:
                t.join()
            stats["cycles"] += 1
            process = start()
        checker = Client(port, ca, cert, key)
        with lock:
            keys = dict(acknowledged)
        for uid, material in keys.items():
            got = checker.call(uid_request("Get", uid)).material
            if got is None:
                stats["lost"] += 1
            elif material is not None and got != material:
                stats["changed"] += 1
        stats["acknowledged"] = len(keys)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if not args.keep:
            subprocess.run(["rm", "-rf", root])
    return stats, stats["lost"] == 0 and stats["changed"] == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the result here")
    sub = parser.add_subparsers(dest="command", required=True)

    def tls(p, owner=False):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--ca", required=True)
        p.add_argument("--cert", required=True)
        p.add_argument("--key", required=True)
        p.add_argument("--seed", type=int, default=1)
        if owner:
            p.add_argument("--owner-cert", required=True)
            p.add_argument("--owner-key", required=True)

    p = sub.add_parser("malformed")
    tls(p)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seeds", help="a corpus directory (Tests/Fuzz/run.sh writes one)")
    p.add_argument("--pid", type=int, help="the server's pid, checked to be alive")
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--resumption", action="store_true",
                   help="resume the TLS session after the server closes (a full handshake per close otherwise)")
    p = sub.add_parser("probe")
    tls(p, owner=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--keys", type=int, default=20)
    p = sub.add_parser("edits")
    tls(p)
    p.add_argument("--connections", type=int, default=6)
    p.add_argument("--count", type=int, default=300)
    p = sub.add_parser("kill9")
    p.add_argument("--binary", required=True)
    p.add_argument("--cycles", type=int, default=50)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--max-delay", type=float, default=1.5)
    p.add_argument("--port", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    run = {"malformed": run_malformed, "probe": run_probe, "edits": run_edits, "kill9": run_kill9}[args.command]
    stats, ok = run(args)
    stats["ok"] = ok
    print(args.command + ": " + " ".join("%s=%s" % (k, v) for k, v in stats.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(stats, f, indent=2, sort_keys=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
