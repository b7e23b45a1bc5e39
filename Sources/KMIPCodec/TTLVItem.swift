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

/// An owned TTLV item: a tag and a value, with structures holding their children.
///
/// The typed model keeps values it does not interpret (attribute values, vendor fields,
/// payloads of operations it does not model) as items, so they re-encode byte for byte.
public struct TTLVItem: Hashable, Sendable {
    public var tag: TTLVTag
    public var value: TTLVValue

    public init(_ tag: TTLVTag, _ value: TTLVValue) {
        self.tag = tag
        self.value = value
    }

    /// The item's TTLV type.
    public var type: TTLVType { self.value.type }
}

/// The value of a TTLVItem.
public enum TTLVValue: Hashable, Sendable {
    case structure([TTLVItem])
    case integer(Int32)
    case longInteger(Int64)
    /// Two's-complement big-endian bytes, a positive multiple of eight long.
    case bigInteger([UInt8])
    case enumeration(UInt32)
    case boolean(Bool)
    case textString(String)
    case byteString([UInt8])
    /// Seconds since the POSIX epoch.
    case dateTime(Int64)
    /// Seconds.
    case interval(UInt32)
    /// Microseconds since the POSIX epoch.
    case dateTimeExtended(Int64)

    public var type: TTLVType {
        switch self {
        case .structure: .structure
        case .integer: .integer
        case .longInteger: .longInteger
        case .bigInteger: .bigInteger
        case .enumeration: .enumeration
        case .boolean: .boolean
        case .textString: .textString
        case .byteString: .byteString
        case .dateTime: .dateTime
        case .interval: .interval
        case .dateTimeExtended: .dateTimeExtended
        }
    }
}

extension TTLVItem {
    /// Copies the item at `index` of a document, with its whole subtree, into an owned item.
    public init(document: TTLVDocument, index: Int) throws(TTLVError) {
        let node = document.nodes[index]
        let value: TTLVValue
        switch node.type {
        case .structure:
            var children: [TTLVItem] = []
            for child in document.children(of: index) {
                children.append(try TTLVItem(document: document, index: child))
            }
            value = .structure(children)
        case .integer: value = .integer(try document.integer(index))
        case .longInteger: value = .longInteger(try document.longInteger(index))
        case .bigInteger: value = .bigInteger(try document.bigInteger(index))
        case .enumeration: value = .enumeration(try document.enumeration(index))
        case .boolean: value = .boolean(try document.boolean(index))
        case .textString: value = .textString(try document.textString(index))
        case .byteString: value = .byteString(try document.byteString(index))
        case .dateTime: value = .dateTime(try document.dateTime(index))
        case .interval: value = .interval(try document.interval(index))
        case .dateTimeExtended: value = .dateTimeExtended(try document.dateTimeExtended(index))
        }
        self.init(node.tag, value)
    }

    /// Parses a whole message into an owned item tree.
    public init(
        parsing bytes: [UInt8],
        mode: TTLVParsingMode = .strict,
        limits: TTLVLimits = .default
    ) throws(TTLVError) {
        let document = try TTLV.parse(bytes, mode: mode, limits: limits)
        try self.init(document: document, index: document.root)
    }

    /// Writes the item and its subtree.
    public func encode(into serializer: inout TTLV.Serializer) {
        switch self.value {
        case .structure(let children):
            serializer.writeStructure(self.tag) { s in
                for child in children { child.encode(into: &s) }
            }
        case .integer(let v): serializer.writeInteger(self.tag, v)
        case .longInteger(let v): serializer.writeLongInteger(self.tag, v)
        case .bigInteger(let v): serializer.writeBigInteger(self.tag, v)
        case .enumeration(let v): serializer.writeEnumeration(self.tag, v)
        case .boolean(let v): serializer.writeBoolean(self.tag, v)
        case .textString(let v): serializer.writeTextString(self.tag, v)
        case .byteString(let v): serializer.writeByteString(self.tag, v)
        case .dateTime(let v): serializer.writeDateTime(self.tag, v)
        case .interval(let v): serializer.writeInterval(self.tag, v)
        case .dateTimeExtended(let v): serializer.writeDateTimeExtended(self.tag, v)
        }
    }

    /// The item encoded as TTLV bytes.
    public func encoded() -> [UInt8] {
        var serializer = TTLV.Serializer()
        self.encode(into: &serializer)
        return serializer.bytes
    }

    /// The children of a structure, or an empty array for a primitive.
    public var children: [TTLVItem] {
        if case .structure(let children) = self.value { return children }
        return []
    }

    /// The first direct child with `tag`.
    public func child(_ tag: TTLVTag) -> TTLVItem? {
        self.children.first { $0.tag == tag }
    }
}
