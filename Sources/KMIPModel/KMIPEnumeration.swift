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

/// A KMIP enumeration: a 32-bit value with names from the specification's Defined Values tables.
///
/// Enumerations are structs rather than Swift enums, so that values this version of Keystorm
/// does not know (newer minor versions, vendor extensions `0x8XXXXXXX`) decode and re-encode
/// unchanged. The generated conformances live in `Generated/`.
///
/// KMIP 1.4 §9.1.3.2, KMIP 2.1 §11
public protocol KMIPEnumeration: RawRepresentable, Hashable, Sendable, CustomStringConvertible
where RawValue == UInt32 {
    /// The specification's name of the enumeration, e.g. `"Object Type"`.
    static var enumerationName: String { get }
    /// Every defined value with its KMIP XML/JSON profile name, e.g. `2: "SymmetricKey"`.
    static var valueNames: [UInt32: String] { get }
    init(rawValue: UInt32)
}

extension KMIPEnumeration {
    /// The value's profile name (`"SymmetricKey"`), or its hex form (`"0x80000001"`) when unknown.
    public var name: String {
        if let name = Self.valueNames[self.rawValue] { return name }
        let hex = String(self.rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - hex.utf8.count)) + hex
    }

    public var description: String { self.name }

    /// Whether the value is a vendor extension (first nibble 8).
    public var isExtension: Bool { self.rawValue >> 28 == 0x8 }

    /// Looks a value up by its profile name, or by a `0x`-prefixed hex literal.
    public init?(name: String) {
        if let entry = Self.valueNames.first(where: { $0.value == name }) {
            self.init(rawValue: entry.key)
            return
        }
        if name.hasPrefix("0x"), let raw = UInt32(name.dropFirst(2), radix: 16) {
            self.init(rawValue: raw)
            return
        }
        return nil
    }
}
