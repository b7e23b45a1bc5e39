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

/// One item of a parsed message: where it is in the input and what it is.
///
/// Nodes are stored flat, in document order; a structure's descendants follow it directly and
/// end at subtreeEnd.
public struct TTLVNode: Hashable, Sendable {
    /// The item's tag.
    public var tag: TTLVTag
    /// The item's type.
    public var type: TTLVType
    /// Nesting depth; the outermost item has depth 0.
    public var depth: Int32
    /// The declared value length, without padding.
    public var length: Int32
    /// Byte offset of the item header in the input.
    public var offset: Int
    /// Index (into TTLVDocument/nodes) one past this item's last descendant.
    public var subtreeEnd: Int32

    /// Byte offset of the value in the input.
    @inlinable
    public var valueOffset: Int { self.offset &+ TTLV.headerSize }
    /// Byte offset one past the padded value.
    @inlinable
    public var endOffset: Int { self.valueOffset &+ TTLV.paddedLength(Int(self.length)) }
}

extension TTLV {
    /// Parses one complete TTLV item (a whole message) into a flat list of nodes over `bytes`.
    ///
    /// The bytes are not copied: the returned document shares the array's storage. Every bound is
    /// checked before anything is allocated for it: the message size first, then each item's
    /// header against its parent, the depth and the item count.
    ///
    /// - Parameters:
    ///   - bytes: The message, starting with the outermost item's header.
    ///   - mode: TTLVParsingMode/strict rejects bad padding, Booleans and tags.
    ///   - limits: Size, depth and item-count bounds.
    /// - Returns: The parsed document.
    /// - Throws: TTLVError with the code and byte offset of the first problem.
    public static func parse(
        _ bytes: [UInt8],
        mode: TTLVParsingMode = .strict,
        limits: TTLVLimits = .default
    ) throws(TTLVError) -> TTLVDocument {
        guard bytes.count <= limits.maxMessageSize else {
            throw TTLVError(
                .messageTooLarge,
                offset: 0,
                reason: "message of \(bytes.count) bytes exceeds the limit of \(limits.maxMessageSize)"
            )
        }
        // At most one node per 8 bytes can exist, so this bound is also a bound on memory.
        let capacity = min(bytes.count / TTLV.headerSize + 1, limits.maxItems)
        var nodes: [TTLVNode] = []
        nodes.reserveCapacity(capacity)
        try bytes.withUnsafeBufferPointer { (buffer) throws(TTLVError) in
            var parser = Parser(buffer: buffer, mode: mode, limits: limits)
            try parser.run(into: &nodes)
        }
        return TTLVDocument(bytes: bytes, nodes: nodes)
    }
}

private struct Parser {
    let buffer: UnsafeBufferPointer<UInt8>
    let mode: TTLVParsingMode
    let limits: TTLVLimits

    /// Open structures: (node index, end offset of its value).
    var stack: [(index: Int, end: Int)] = []

    init(buffer: UnsafeBufferPointer<UInt8>, mode: TTLVParsingMode, limits: TTLVLimits) {
        self.buffer = buffer
        self.mode = mode
        self.limits = limits
    }

    mutating func run(into nodes: inout [TTLVNode]) throws(TTLVError) {
        let total = self.buffer.count
        guard total >= TTLV.headerSize else {
            throw TTLVError(.truncated, offset: 0, reason: "\(total) bytes cannot hold an item header")
        }
        var offset = 0
        var first = true
        while true {
            // Close every structure that ends here.
            while let top = self.stack.last, offset == top.end {
                nodes[top.index].subtreeEnd = Int32(nodes.count)
                self.stack.removeLast()
            }
            if self.stack.isEmpty && !first {
                if offset != total {
                    throw TTLVError(
                        .trailingBytes,
                        offset: offset,
                        reason: "\(total - offset) bytes follow the outermost item"
                    )
                }
                return
            }
            first = false
            let parentEnd = self.stack.last?.end ?? total
            offset = try self.item(at: offset, parentEnd: parentEnd, nodes: &nodes)
        }
    }

    /// Parses the item header at `offset`, validates its value and returns where the next item starts.
    mutating func item(at offset: Int, parentEnd: Int, nodes: inout [TTLVNode]) throws(TTLVError) -> Int {
        guard parentEnd - offset >= TTLV.headerSize else {
            let code: TTLVError.Code = parentEnd == self.buffer.count ? .truncated : .lengthExceedsParent
            throw TTLVError(code, offset: offset, reason: "no room for an item header")
        }
        let b = self.buffer
        let tag = TTLVTag(UInt32(b[offset]) << 16 | UInt32(b[offset + 1]) << 8 | UInt32(b[offset + 2]))
        let typeByte = b[offset + 3]
        let length =
            Int(b[offset + 4]) << 24 | Int(b[offset + 5]) << 16 | Int(b[offset + 6]) << 8 | Int(b[offset + 7])
        if self.mode == .strict && !tag.isStandard && !tag.isExtension {
            throw TTLVError(.invalidTag, offset: offset, tag: tag, reason: "tag is neither 0x42xxxx nor 0x54xxxx")
        }
        guard let type = TTLVType(rawValue: typeByte) else {
            throw TTLVError(.invalidType, offset: offset, tag: tag, reason: "type byte \(typeByte) is not a TTLV type")
        }
        if let fixed = type.fixedLength, length != fixed {
            throw TTLVError(
                .invalidLength,
                offset: offset,
                tag: tag,
                reason: "\(type) must have length \(fixed), not \(length)"
            )
        }
        if (type == .bigInteger && (length == 0 || length % 8 != 0)) || (type == .structure && length % 8 != 0) {
            throw TTLVError(
                .invalidLength,
                offset: offset,
                tag: tag,
                reason: "\(type) length \(length) is not a multiple of eight"
            )
        }
        let valueStart = offset + TTLV.headerSize
        let padded = TTLV.paddedLength(length)
        guard padded <= parentEnd - valueStart else {
            let code: TTLVError.Code = parentEnd == self.buffer.count ? .truncated : .lengthExceedsParent
            throw TTLVError(
                code,
                offset: offset,
                tag: tag,
                reason: "length \(length) runs past the end of the enclosing item"
            )
        }
        guard nodes.count < self.limits.maxItems else {
            throw TTLVError(
                .itemLimitExceeded,
                offset: offset,
                tag: tag,
                reason: "more than \(self.limits.maxItems) items"
            )
        }
        let depth = self.stack.count
        try self.checkValue(type: type, tag: tag, offset: offset, length: length)
        let index = nodes.count
        nodes.append(
            TTLVNode(
                tag: tag,
                type: type,
                depth: Int32(depth),
                length: Int32(length),
                offset: offset,
                subtreeEnd: Int32(index + 1)
            )
        )
        if type == .structure {
            guard depth < self.limits.maxDepth else {
                throw TTLVError(
                    .depthLimitExceeded,
                    offset: offset,
                    tag: tag,
                    reason: "structures nested deeper than \(self.limits.maxDepth)"
                )
            }
            if length == 0 {
                return valueStart
            }
            self.stack.append((index, valueStart + length))
            return valueStart
        }
        return valueStart + padded
    }

    func checkValue(type: TTLVType, tag: TTLVTag, offset: Int, length: Int) throws(TTLVError) {
        let valueStart = offset + TTLV.headerSize
        let b = self.buffer
        switch type {
        case .boolean:
            if self.mode == .strict {
                var nonZero = false
                for i in valueStart..<(valueStart + 7) where b[i] != 0 { nonZero = true }
                if nonZero || b[valueStart + 7] > 1 {
                    throw TTLVError(.invalidBoolean, offset: offset, tag: tag, reason: "Boolean is neither 0 nor 1")
                }
            }
        case .textString:
            let text = UnsafeBufferPointer(rebasing: b[valueStart..<(valueStart + length)])
            if !UTF8Validation.isValid(text) {
                throw TTLVError(.invalidUTF8, offset: offset, tag: tag, reason: "Text String is not valid UTF-8")
            }
        default:
            break
        }
        if self.mode == .strict && type != .structure {
            let padEnd = valueStart + TTLV.paddedLength(length)
            for i in (valueStart + length)..<padEnd where b[i] != 0 {
                throw TTLVError(.nonZeroPadding, offset: offset, tag: tag, reason: "padding byte at \(i) is not zero")
            }
        }
    }
}
