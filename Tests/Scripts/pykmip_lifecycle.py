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
"""A key's lifecycle with PyKMIP's ProxyKmipClient against a live Keystorm server.

    pykmip_lifecycle.py --port P --ca server-ca.pem --cert client.pem --key client.key
        create AES-256 (named), get (32 bytes), get_attributes (named and all of them, which
        PyKMIP's default KMIP 1.2 must decode), locate by name, activate, revoke, destroy; get
        after destroy must fail with Item Not Found. Then, at KMIP 2.0: create a named key,
        delete its Name through an Attribute Reference {Vendor Identification "", Attribute Name
        "Name"} (as PyKMIP names standard attributes); get_attributes by name, before and after.
        Exit 0 when all hold.

    pykmip_lifecycle.py ... --expect-refused
        the client certificate is not on the server's allow-list: the TLS handshake must fail
        (in TLS 1.3 the server's alert surfaces at the first read after the client's Finished).
        Exit 0 when it fails that way, 1 when any operation succeeds.

Run by Tests/KeystormIntegrationTests/PyKMIPLiveTests.swift with the venv of .ci/run. The
configuration file is written to a temporary directory, so /etc/pykmip and ~/.pykmip are not read.
"""

import argparse
import os
import ssl
import sys
import tempfile
import uuid

from kmip import enums
from kmip.core import objects
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions


def make_client(args, directory, kmip_version=None):
    config = os.path.join(directory, "pykmip.conf")
    with open(config, "w") as handle:
        handle.write(
            "[client]\n"
            f"host={args.host}\nport={args.port}\n"
            f"certfile={args.cert}\nkeyfile={args.key}\nca_certs={args.ca}\n"
            "cert_reqs=CERT_REQUIRED\n"
            f"ssl_version={args.ssl_version}\n"
            "do_handshake_on_connect=True\nsuppress_ragged_eofs=True\n"
            f"timeout={args.timeout}\n"
        )
    return pie_client.ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        ssl_version=args.ssl_version,
        config="client",
        config_file=config,
        kmip_version=kmip_version,
    )


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


def attribute_map(attributes):
    return {attribute.attribute_name.value: attribute.attribute_value for attribute in attributes}


def lifecycle(client):
    factory = attribute_factories.AttributeFactory()
    name = "pykmip-lifecycle-" + uuid.uuid4().hex
    uid = client.create(
        enums.CryptographicAlgorithm.AES,
        256,
        name=name,
        cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
    )
    check(bool(uid), f"create AES-256 '{name}' -> {uid}")

    key = client.get(uid)
    check(len(key.value) == 32, f"get: {len(key.value)} bytes of key material")
    check(key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES, "get: algorithm AES")

    got_uid, attributes = client.get_attributes(uid, ["Name", "Cryptographic Length", "Cryptographic Algorithm", "State"])
    values = attribute_map(attributes)
    check(got_uid == uid, "get_attributes: same unique identifier")
    check(values["Cryptographic Length"].value == 256, "get_attributes: Cryptographic Length 256")
    check(values["Name"].name_value.value == name, "get_attributes: Name")
    check(values["State"].value == enums.State.PRE_ACTIVE, "get_attributes: State Pre-Active")

    # Every attribute, in PyKMIP's default KMIP 1.2: only attributes 1.2 defines (no Random
    # Number Generator, a 1.3 attribute PyKMIP cannot decode at 1.2).
    got_uid, attributes = client.get_attributes(uid)
    everything = attribute_map(attributes)
    check(got_uid == uid, f"get_attributes (all, KMIP 1.2): {len(attributes)} attributes")
    check(everything["Name"].name_value.value == name, "get_attributes (all, KMIP 1.2): Name")
    check("Random Number Generator" not in everything, "get_attributes (all, KMIP 1.2): no Random Number Generator")

    located = client.locate(attributes=[factory.create_attribute(enums.AttributeType.NAME, name)])
    check(located == [uid], f"locate by name: {located}")

    client.activate(uid)
    _, attributes = client.get_attributes(uid, ["State"])
    check(attribute_map(attributes)["State"].value == enums.State.ACTIVE, "activate: State Active")

    client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid, revocation_message="pykmip lifecycle")
    _, attributes = client.get_attributes(uid, ["State"])
    check(attribute_map(attributes)["State"].value == enums.State.DEACTIVATED, "revoke: State Deactivated")

    client.destroy(uid)
    print("ok: destroy", flush=True)

    try:
        client.get(uid)
    except pie_exceptions.KmipOperationFailure as failure:
        check(failure.reason == enums.ResultReason.ITEM_NOT_FOUND, f"get after destroy fails: {failure}")
    else:
        raise AssertionError("get after destroy succeeded")


def kmip_2_0(client):
    name = "pykmip-2.0-" + uuid.uuid4().hex
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    check(bool(uid), f"KMIP 2.0: create AES-256 '{name}' -> {uid}")

    # By name: PyKMIP sends Attribute References {"", "Name"}. (Not every attribute: PyKMIP 0.11
    # cannot decode the Random Number Generator, which KMIP 2.0 defines.)
    _, attributes = client.get_attributes(uid, ["Name", "State"])
    names = [attribute.attribute_name.value for attribute in attributes]
    check(names.count("Name") == 1 and "State" in names, f"KMIP 2.0: get_attributes Name, State: {names}")

    reference = objects.AttributeReference(vendor_identification="", attribute_name="Name")
    deleted_uid, _ = client.delete_attribute(uid, attribute_reference=reference)
    check(deleted_uid == uid, "KMIP 2.0: delete_attribute by reference {'', 'Name'}")

    _, attributes = client.get_attributes(uid, ["Name", "State"])
    names = [attribute.attribute_name.value for attribute in attributes]
    check(names == ["State"], f"KMIP 2.0: get_attributes Name, State: the Name is gone: {names}")
    client.destroy(uid)
    print("ok: KMIP 2.0: destroy", flush=True)


def refused(args, directory):
    client = make_client(args, directory)
    stage = "handshake"
    try:
        client.open()
        # TLS 1.3: the client's side of the handshake ends before the server checks the client
        # certificate; the server's alert arrives with the first read.
        stage = "first read after the handshake"
        client.create(enums.CryptographicAlgorithm.AES, 256)
    except pie_exceptions.KmipOperationFailure as failure:
        print(f"FAIL: the server answered a KMIP request: {failure}", flush=True)
        return 1
    except (ssl.SSLError, ConnectionError, EOFError) as error:
        # SSLError: the server's alert; ConnectionError/EOFError: it closed the connection
        # (PyKMIP raises EOFError when a read returns nothing).
        print(f"ok: refused at the {stage}: {type(error).__name__}: {error}", flush=True)
        return 0
    except Exception as error:
        print(f"FAIL: unexpected {type(error).__name__} at the {stage}: {error}", flush=True)
        return 1
    finally:
        try:
            client.close()
        except Exception:
            pass
    print("FAIL: a certificate that is not on the allow-list was served", flush=True)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ssl-version", default="PROTOCOL_TLS", help="an ssl module constant, e.g. PROTOCOL_TLS or PROTOCOL_TLSv1_2")
    parser.add_argument("--timeout", type=int, default=30)
    parser.add_argument("--expect-refused", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pykmip-") as directory:
        if args.expect_refused:
            return refused(args, directory)
        client = make_client(args, directory)
        with client:
            lifecycle(client)
        client = make_client(args, directory, kmip_version=enums.KMIPVersion.KMIP_2_0)
        with client:
            kmip_2_0(client)
    print("PyKMIP lifecycle: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
