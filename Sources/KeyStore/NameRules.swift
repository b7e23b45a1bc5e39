//===----------------------------------------------------------------------===//
//
// This source file is part of the Keystorm open source project
//
// Copyright (c) 2026 the Keystorm project authors
// Licensed under Apache License v2.0
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The one rule for names that operators choose and that Keystorm may turn into a file name, a
/// directory or a log field: tenant ids and the names of issued client certificates.
///
/// A valid name is 1-64 ASCII letters, digits, `-`, `_` and `.`, and does not start with `.`
/// (so `.` and `..` are never names, and a name never hides a file or climbs out of its
/// directory). Look-alike letters of other scripts (a Cyrillic `а` for a Latin `a`) are refused,
/// so two tenants never differ by a character an operator cannot see.
public enum NameRules {
    /// The longest name, in bytes (all ASCII, so also in characters).
    public static let maximumLength = 64

    /// Why `name` is not a valid name, or `nil` when it is.
    ///
    /// - Parameters:
    ///   - name: The candidate.
    ///   - kind: What it names, for the message (`tenant id`, `client name`).
    public static func problem(_ name: String, kind: String) -> String? {
        let rule = "a \(kind) is 1-\(Self.maximumLength) ASCII letters, digits, '-', '_' or '.', not starting with '.'"
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return "the \(kind) is empty: \(rule)" }
        guard bytes.count <= Self.maximumLength else {
            return "the \(kind) is \(bytes.count) bytes long: \(rule)"
        }
        guard bytes.allSatisfy(Self.isAllowed) else {
            return "the \(kind) '\(Self.printable(name))' has a character outside the allowed set: \(rule)"
        }
        guard bytes[0] != UInt8(ascii: ".") else {
            return "the \(kind) '\(name)' starts with '.': \(rule)"
        }
        return nil
    }

    /// Whether `name` is a valid name.
    public static func isValid(_ name: String) -> Bool {
        self.problem(name, kind: "name") == nil
    }

    /// Throws ``KeyStoreError/invalidName`` unless `name` is valid.
    public static func validate(_ name: String, kind: String) throws(KeyStoreError) {
        if let problem = self.problem(name, kind: kind) {
            throw KeyStoreError(.invalidName, reason: problem)
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// The name with anything but printable ASCII shown as `\u{…}`, bounded, for a message.
    private static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars.prefix(Self.maximumLength) {
            if scalar.isASCII, scalar.value >= 0x20, scalar.value < 0x7F {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return name.unicodeScalars.count > Self.maximumLength ? out + "..." : out
    }
}
