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

/// A parsed TTLV message: the input bytes and a flat list of TTLVNodes over them.
///
/// Values are read lazily through the typed accessors, which check the item's type.
public struct TTLVDocument: Sendable {
    /// The message bytes, shared with the caller's array.
    public let bytes: [UInt8]
    /// Every item of the message in document order; index 0 is the outermost item.
    public let nodes: [TTLVNode]

    @usableFromInline
    init(bytes: [UInt8], nodes: [TTLVNode]) {
        self.bytes = bytes
        self.nodes = nodes
    }

    /// The index of the outermost item.
    public var root: Int { 0 }

    /// The direct children of the structure at `index` (empty for a primitive).
    public func children(of index: Int) -> Children {
        Children(nodes: self.nodes, start: index + 1, end: Int(self.nodes[index].subtreeEnd))
    }

    /// The indices of a structure's direct children, found by skipping each child's subtree.
    public struct Children: Sequence, Sendable {
        let nodes: [TTLVNode]
        let start: Int
        let end: Int

        public func makeIterator() -> Iterator { Iterator(nodes: self.nodes, position: self.start, end: self.end) }

        public struct Iterator: IteratorProtocol, Sendable {
            let nodes: [TTLVNode]
            var position: Int
            let end: Int

            public mutating func next() -> Int? {
                guard self.position < self.end else { return nil }
                let current = self.position
                self.position = Int(self.nodes[current].subtreeEnd)
                return current
            }
        }
    }
}

// MARK: - Typed value access

extension TTLVDocument {
    @usableFromInline
    func expect(_ index: Int, _ type: TTLVType) throws(TTLVError) -> TTLVNode {
        let node = self.nodes[index]
        guard node.type == type else {
            throw TTLVError(
                .unexpectedType,
                offset: node.offset,
                tag: node.tag,
                reason: "expected \(type), found \(node.type)"
            )
        }
        return node
    }

    @usableFromInline
    func readUInt(at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in offset..<(offset + count) { value = value << 8 | UInt64(self.bytes[i]) }
        return value
    }

    /// The value of an Integer item.
    public func integer(_ index: Int) throws(TTLVError) -> Int32 {
        let node = try self.expect(index, .integer)
        return Int32(bitPattern: UInt32(truncatingIfNeeded: self.readUInt(at: node.valueOffset, count: 4)))
    }

    /// The value of a Long Integer item.
    public func longInteger(_ index: Int) throws(TTLVError) -> Int64 {
        let node = try self.expect(index, .longInteger)
        return Int64(bitPattern: self.readUInt(at: node.valueOffset, count: 8))
    }

    /// The value of an Enumeration item.
    public func enumeration(_ index: Int) throws(TTLVError) -> UInt32 {
        let node = try self.expect(index, .enumeration)
        return UInt32(truncatingIfNeeded: self.readUInt(at: node.valueOffset, count: 4))
    }

    /// The value of an Interval item, in seconds.
    public func interval(_ index: Int) throws(TTLVError) -> UInt32 {
        let node = try self.expect(index, .interval)
        return UInt32(truncatingIfNeeded: self.readUInt(at: node.valueOffset, count: 4))
    }

    /// The value of a Boolean item (any non-zero value is true; strict parsing already refused others).
    public func boolean(_ index: Int) throws(TTLVError) -> Bool {
        let node = try self.expect(index, .boolean)
        return self.readUInt(at: node.valueOffset, count: 8) != 0
    }

    /// The value of a Date-Time item: seconds since the POSIX epoch.
    public func dateTime(_ index: Int) throws(TTLVError) -> Int64 {
        let node = try self.expect(index, .dateTime)
        return Int64(bitPattern: self.readUInt(at: node.valueOffset, count: 8))
    }

    /// The value of a Date-Time Extended item: microseconds since the POSIX epoch.
    public func dateTimeExtended(_ index: Int) throws(TTLVError) -> Int64 {
        let node = try self.expect(index, .dateTimeExtended)
        return Int64(bitPattern: self.readUInt(at: node.valueOffset, count: 8))
    }

    /// The value of a Text String item.
    public func textString(_ index: Int) throws(TTLVError) -> String {
        let node = try self.expect(index, .textString)
        let start = node.valueOffset
        return String(decoding: self.bytes[start..<(start + Int(node.length))], as: UTF8.self)
    }

    /// The value of a Byte String item.
    public func byteString(_ index: Int) throws(TTLVError) -> [UInt8] {
        let node = try self.expect(index, .byteString)
        let start = node.valueOffset
        return Array(self.bytes[start..<(start + Int(node.length))])
    }

    /// The two's-complement big-endian bytes of a Big Integer item, sign-extension padding included.
    public func bigInteger(_ index: Int) throws(TTLVError) -> [UInt8] {
        let node = try self.expect(index, .bigInteger)
        let start = node.valueOffset
        return Array(self.bytes[start..<(start + Int(node.length))])
    }

    /// The raw value bytes of any primitive item, without padding.
    public func valueBytes(_ index: Int) -> ArraySlice<UInt8> {
        let node = self.nodes[index]
        if node.type == .structure { return [] }
        return self.bytes[node.valueOffset..<(node.valueOffset + Int(node.length))]
    }

    /// The encoded bytes of the item at `index`, header and padding included.
    public func encodedItem(_ index: Int) -> ArraySlice<UInt8> {
        let node = self.nodes[index]
        return self.bytes[node.offset..<node.endOffset]
    }
}
