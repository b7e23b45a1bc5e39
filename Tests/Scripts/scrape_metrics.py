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
"""Scrapes a Keystorm /metrics endpoint and parses it with prometheus_client's text parser.

    scrape_metrics.py --url http://127.0.0.1:PORT/metrics [--token T]

Prints one JSON object: {"content_type": ..., "families": {name: type}, "samples": [[name,
{labels}, value], ...]}. Exits 2 when the endpoint answers anything but 200, and 3 when the
text does not parse (prometheus_client raises on malformed exposition text).
"""

import argparse
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token")
    args = parser.parse_args()

    request = urllib.request.Request(args.url)
    if args.token:
        request.add_header("Authorization", "Bearer " + args.token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        print("HTTP %d from %s" % (error.code, args.url), file=sys.stderr)
        return 2
    if status != 200:
        print("HTTP %d from %s" % (status, args.url), file=sys.stderr)
        return 2

    families = {}
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            families[family.name] = family.type
            for sample in family.samples:
                samples.append([sample.name, dict(sample.labels), sample.value])
    except Exception as error:  # the parser's ValueError and friends
        print("unparsable exposition text: %r" % (error,), file=sys.stderr)
        print(text, file=sys.stderr)
        return 3
    json.dump({"content_type": content_type, "families": families, "samples": samples}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
