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

public import KMIPCodec

/// A Unique Identifier as it appears in a payload.
///
/// Normally a Text String. KMIP 2.x also allows an Enumeration (ID Placeholder, Certify,
/// Create, ... the result of an earlier batch item) and an Integer (a batch item index).
///
/// KMIP 1.4 §3.1, KMIP 2.1 §4.1 and §11.49 (Unique Identifier Enumeration)
public enum UniqueIdentifier: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    case text(String)
    case enumeration(UniqueIdentifierEnumeration)
    case integer(Int32)

    public init(stringLiteral value: String) { self = .text(value) }

    /// The text form, when it is one.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    public var description: String {
        switch self {
        case .text(let text): text
        case .enumeration(let value): value.name
        case .integer(let value): "#\(value)"
        }
    }

    /// Reads the Unique Identifier item at `index`.
    public init(document: TTLVDocument, index: Int) throws(TTLVError) {
        switch document.nodes[index].type {
        case .enumeration: self = .enumeration(UniqueIdentifierEnumeration(rawValue: try document.enumeration(index)))
        case .integer: self = .integer(try document.integer(index))
        default: self = .text(try document.textString(index))
        }
    }

    /// Writes the identifier under `tag`.
    public func encode(_ tag: TTLVTag = .uniqueIdentifier, to encoder: inout KMIPEncoder) {
        switch self {
        case .text(let text): encoder.serializer.writeTextString(tag, text)
        case .enumeration(let value): encoder.serializer.writeEnumeration(tag, value.rawValue)
        case .integer(let value): encoder.serializer.writeInteger(tag, value)
        }
    }
}

extension KMIPStructureReader {
    /// Reads an optional single identifier field.
    public mutating func uniqueIdentifier(_ tag: TTLVTag = .uniqueIdentifier) throws(TTLVError) -> UniqueIdentifier? {
        guard let index = try self.takeSingle(tag) else { return nil }
        return try UniqueIdentifier(document: self.document, index: index)
    }

    /// Reads every identifier field with `tag`.
    public mutating func uniqueIdentifiers(_ tag: TTLVTag = .uniqueIdentifier) throws(TTLVError) -> [UniqueIdentifier] {
        var values: [UniqueIdentifier] = []
        for index in self.takeAll(tag) { values.append(try UniqueIdentifier(document: self.document, index: index)) }
        return values
    }
}

extension KMIPEncoder {
    /// Writes an identifier when present.
    public mutating func write(_ tag: TTLVTag = .uniqueIdentifier, _ identifier: UniqueIdentifier?) {
        identifier?.encode(tag, to: &self)
    }
}
