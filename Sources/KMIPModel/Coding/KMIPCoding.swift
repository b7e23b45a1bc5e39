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

/// A KMIP structure or payload that can be read from a parsed message.
///
/// Conformers read their fields through a KMIPStructureReader positioned on their own
/// structure; the reader knows the message's protocol version and parsing mode.
public protocol KMIPDecodable {
    /// Reads the value from the structure the reader is positioned on.
    init(from reader: inout KMIPStructureReader) throws(TTLVError)
}

/// A KMIP structure or payload that can write its fields.
///
/// encodeFields(to:) writes the fields only; the caller writes the enclosing structure's tag,
/// because the same payload type sits under different tags (Request Payload, Attribute Value, ...).
public protocol KMIPEncodable {
    /// Writes the fields, in the order the specification lists them, for the encoder's version.
    func encodeFields(to encoder: inout KMIPEncoder)
}

/// A structure that has one fixed tag, such as Key Block or Protocol Version.
public protocol KMIPStructure: KMIPDecodable, KMIPEncodable {
    static var tag: TTLVTag { get }
}

/// The protocol version a message is read or written in, plus how strictly it is read.
public struct KMIPCodingContext: Hashable, Sendable {
    public var version: ProtocolVersion
    public var mode: TTLVParsingMode

    public init(version: ProtocolVersion, mode: TTLVParsingMode = .strict) {
        self.version = version
        self.mode = mode
    }
}

/// Reads the fields of one structure of a parsed TTLVDocument.
///
/// Fields may be read in any order; each is consumed once. finish() then rejects fields nobody
/// read (strict mode) or hands them back as unreadFields() (lenient mode), so vendor
/// extensions survive a decode and re-encode.
public struct KMIPStructureReader {
    public let document: TTLVDocument
    public let context: KMIPCodingContext
    /// The index of the structure being read.
    public let index: Int
    private var children: [Int]
    private var consumed: [Bool]

    /// Positions a reader on the structure at `index`.
    public init(document: TTLVDocument, index: Int, context: KMIPCodingContext) throws(TTLVError) {
        let node = document.nodes[index]
        guard node.type == .structure else {
            throw TTLVError(.notAStructure, offset: node.offset, tag: node.tag, reason: "expected a structure")
        }
        self.document = document
        self.context = context
        self.index = index
        self.children = Array(document.children(of: index))
        self.consumed = Array(repeating: false, count: self.children.count)
    }

    public var version: ProtocolVersion { self.context.version }
    public var tag: TTLVTag { self.document.nodes[self.index].tag }
    var offset: Int { self.document.nodes[self.index].offset }

    /// The tag of the first unread field, if any.
    public var nextTag: TTLVTag? {
        for (i, child) in self.children.enumerated() where !self.consumed[i] {
            return self.document.nodes[child].tag
        }
        return nil
    }

    /// Whether an unread field with `tag` exists.
    public func contains(_ tag: TTLVTag) -> Bool {
        self.children.indices.contains { !self.consumed[$0] && self.document.nodes[self.children[$0]].tag == tag }
    }

    /// Consumes the first unread field with `tag` and returns its node index.
    public mutating func take(_ tag: TTLVTag) -> Int? {
        for i in self.children.indices where !self.consumed[i] && self.document.nodes[self.children[i]].tag == tag {
            self.consumed[i] = true
            return self.children[i]
        }
        return nil
    }

    /// Consumes every unread field with `tag`, in order.
    public mutating func takeAll(_ tag: TTLVTag) -> [Int] {
        var found: [Int] = []
        for i in self.children.indices where !self.consumed[i] && self.document.nodes[self.children[i]].tag == tag {
            self.consumed[i] = true
            found.append(self.children[i])
        }
        return found
    }

    /// Consumes the single field with `tag`; a second one is a duplicate.
    public mutating func takeSingle(_ tag: TTLVTag) throws(TTLVError) -> Int? {
        guard let first = self.take(tag) else { return nil }
        if self.take(tag) != nil {
            let node = self.document.nodes[first]
            throw TTLVError(.duplicateField, offset: node.offset, tag: tag, reason: "field appears more than once")
        }
        return first
    }

    /// Consumes the required single field with `tag`.
    public mutating func require(_ tag: TTLVTag) throws(TTLVError) -> Int {
        guard let index = try self.takeSingle(tag) else {
            throw TTLVError(.missingField, offset: self.offset, tag: tag, reason: "required field \(tag) is missing")
        }
        return index
    }

    /// A reader over the child structure at `index`.
    public func reader(at index: Int) throws(TTLVError) -> KMIPStructureReader {
        try KMIPStructureReader(document: self.document, index: index, context: self.context)
    }

    /// Decodes the child at `index` as `T` and checks that all its fields were read.
    public func decode<T: KMIPDecodable>(_ type: T.Type, at index: Int) throws(TTLVError) -> T {
        var child = try self.reader(at: index)
        let value = try T(from: &child)
        try child.finish()
        return value
    }

    /// The unread fields, as owned items in document order; consumes them.
    public mutating func unreadFields() throws(TTLVError) -> [TTLVItem] {
        var items: [TTLVItem] = []
        for i in self.children.indices where !self.consumed[i] {
            self.consumed[i] = true
            items.append(try TTLVItem(document: self.document, index: self.children[i]))
        }
        return items
    }

    /// Ends reading: in strict mode an unread field is an error.
    public func finish() throws(TTLVError) {
        guard self.context.mode == .strict else { return }
        for i in self.children.indices where !self.consumed[i] {
            let node = self.document.nodes[self.children[i]]
            throw TTLVError(
                .unexpectedField,
                offset: node.offset,
                tag: node.tag,
                reason: "field \(node.tag) is not defined in structure \(self.tag)"
            )
        }
    }
}

/// Writes KMIP structures for one protocol version.
public struct KMIPEncoder: Sendable {
    public var serializer: TTLV.Serializer
    public let version: ProtocolVersion

    public init(version: ProtocolVersion, capacity: Int = 512) {
        self.serializer = TTLV.Serializer(capacity: capacity)
        self.version = version
    }

    /// The bytes written so far.
    public var bytes: [UInt8] { self.serializer.bytes }

    /// Writes `value`'s fields inside a structure tagged `tag`.
    public mutating func write(_ tag: TTLVTag, _ value: some KMIPEncodable) {
        let start = self.serializer.beginStructure(tag)
        value.encodeFields(to: &self)
        self.serializer.endStructure(start)
    }

    /// Writes a structure with a fixed tag.
    public mutating func write(_ value: some KMIPStructure) {
        self.write(type(of: value).tag, value)
    }

    /// Writes a structure whose fields `body` writes.
    public mutating func writeStructure(_ tag: TTLVTag, _ body: (inout KMIPEncoder) -> Void) {
        let start = self.serializer.beginStructure(tag)
        body(&self)
        self.serializer.endStructure(start)
    }

    /// Writes owned items unchanged.
    public mutating func write(_ items: [TTLVItem]) {
        for item in items { item.encode(into: &self.serializer) }
    }

    /// Writes one owned item unchanged.
    public mutating func write(_ item: TTLVItem) {
        item.encode(into: &self.serializer)
    }

    /// Writes an enumeration value.
    public mutating func write<E: KMIPEnumeration>(_ tag: TTLVTag, _ value: E) {
        self.serializer.writeEnumeration(tag, value.rawValue)
    }
}
