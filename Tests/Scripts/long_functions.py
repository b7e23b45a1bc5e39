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

"""Lists the Swift functions, initializers and deinitializers longer than a limit.

Usage: Tests/Scripts/long_functions.py [--max N] [--exclude DIR]... [PATH]...

PATH defaults to Sources (relative to the repository root). Every `func`, `init` and `deinit`
body is measured from the line of its declaration keyword to the line of its closing brace. The
scan matches braces after removing comments, string literals (single-line, multi-line and raw)
and character escapes, so a brace in a string or a comment does not count. A body nested in
another function is measured on its own and also counts towards the outer one.

Prints one line per function over N lines (default 100), longest first:
  LINES path:line name
and exits 1 when there is any, 0 otherwise. `--exclude` skips a directory (repeatable). Python 3
standard library only; CI runs it after the build (.ci/run).
"""

import argparse
import os
import re
import sys

DECLARATION = re.compile(r"(?<![.\w])(?:func\s+([^\s(<]+)|(init)[?!]?(?=\s*[(<])|(deinit)(?=\s*\{))")
CONTINUATIONS = ("{", "->", "throws", "async", "rethrows", "where")


def strip_code(text):
    """Returns `text` with comments and string contents blanked, keeping newlines and offsets."""
    out = []
    i = 0
    n = len(text)
    depth_comment = 0
    while i < n:
        c = text[i]
        if depth_comment:
            if text.startswith("*/", i):
                depth_comment -= 1
                out.append("  ")
                i += 2
            elif text.startswith("/*", i):
                depth_comment += 1
                out.append("  ")
                i += 2
            else:
                out.append("\n" if c == "\n" else " ")
                i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if text.startswith("/*", i):
            depth_comment = 1
            out.append("  ")
            i += 2
            continue
        if c == "#" or c == '"':
            match = re.match(r'(#*)("""|")', text[i:])
            if match:
                i = skip_string(text, i, match, out)
                continue
        out.append(c)
        i += 1
    return "".join(out)


def skip_string(text, start, match, out):
    """Blanks the string literal at `start` into `out` and returns the index after it."""
    hashes, quote = match.group(1), match.group(2)
    closing = quote + hashes
    i = start + len(match.group(0))
    out.append(" " * (i - start))
    escape = "\\" + hashes
    n = len(text)
    while i < n:
        if text.startswith(escape + "(", i):
            # An interpolation: skip to its balanced closing parenthesis.
            j = i + len(escape) + 1
            depth = 1
            while j < n and depth:
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                elif text[j] == '"':
                    inner = re.match(r'(#*)("""|")', text[j:])
                    blank = []
                    j = skip_string(text, j, inner, blank)
                    continue
                j += 1
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        if text.startswith(escape, i):
            out.append(" " * (len(escape) + 1))
            i += len(escape) + 1
            continue
        if text.startswith(closing, i):
            out.append(" " * len(closing))
            return i + len(closing)
        if text[i] == "\n" and quote == '"':
            # An unterminated single-line string: stop at the end of the line.
            return i
        out.append("\n" if text[i] == "\n" else " ")
        i += 1
    return i


def functions(path):
    """Yields (name, first line, line count) for each function body in the Swift file at `path`."""
    with open(path, encoding="utf-8") as handle:
        code = strip_code(handle.read())
    line_starts = [0]
    for index, char in enumerate(code):
        if char == "\n":
            line_starts.append(index + 1)

    def line_of(offset):
        low, high = 0, len(line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if line_starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1

    for match in DECLARATION.finditer(code):
        name = match.group(1) or match.group(2) or match.group(3)
        opening = find_body(code, match.end())
        if opening is None:
            continue
        closing = matching_brace(code, opening)
        if closing is None:
            continue
        first = line_of(match.start())
        yield name, first, line_of(closing) - first + 1


def find_body(code, start):
    """The offset of the `{` that opens the body declared at `start`, or None (a requirement).

    Parentheses and brackets are skipped whole (parameter lists, default values, attributes); at
    depth 0 a `{` opens the body, and a line break ends a declaration without one unless the next
    line continues the signature (`->`, `throws`, `async`, `where`, `{`).
    """
    depth = 0
    i = start
    n = len(code)
    while i < n:
        c = code[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth > 0:
            pass
        elif c == "{":
            return i
        elif c in ";}":
            return None
        elif c == "\n":
            rest = code[i + 1 :].lstrip(" \t\n")
            if not rest.startswith(CONTINUATIONS):
                return None
        i += 1
    return None


def matching_brace(code, opening):
    depth = 0
    for i in range(opening, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def main():
    parser = argparse.ArgumentParser(description="List Swift functions longer than a limit.")
    parser.add_argument("--max", type=int, default=100, help="the longest allowed body, in lines")
    parser.add_argument("--exclude", action="append", default=[], help="a directory to skip")
    parser.add_argument("paths", nargs="*", default=["Sources"])
    arguments = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    excluded = [os.path.normpath(os.path.join(root, e)) for e in arguments.exclude]
    found = []
    for top in arguments.paths:
        top = os.path.normpath(os.path.join(root, top))
        for directory, subdirectories, files in os.walk(top):
            if any(directory == e or directory.startswith(e + os.sep) for e in excluded):
                subdirectories[:] = []
                continue
            subdirectories.sort()
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                path = os.path.join(directory, file)
                for name, line, count in functions(path):
                    if count > arguments.max:
                        found.append((count, os.path.relpath(path, root), line, name))
    for count, path, line, name in sorted(found, key=lambda f: (-f[0], f[1], f[2])):
        print(f"{count:5d} {path}:{line} {name}")
    if found:
        print(f"{len(found)} function(s) over {arguments.max} lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
