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

extension TTLV {
    /// Splits a byte stream into whole TTLV messages.
    ///
    /// The framer reads each message's 8-byte header and refuses a length over the limit (or one
    /// that a message cannot have) *before* it buffers the body, so a peer cannot make it hold more
    /// than `maxMessageSize` bytes. Feed it bytes as they arrive, in pieces of any size.
    ///
    /// KMIP 1.4 §9.2: a message is one TTLV structure, its length in bytes 4-7 of the header.
    public struct Framer: Sendable {
        /// The limits; only `maxMessageSize` matters here.
        public let limits: TTLVLimits
        private var buffer: [UInt8] = []
        private var consumed = 0

        public init(limits: TTLVLimits = .default) {
            self.limits = limits
        }

        /// Bytes received but not yet returned as a message.
        public var bufferedByteCount: Int { self.buffer.count - self.consumed }

        /// The bytes of memory the framer's buffer holds (its capacity).
        public var bufferCapacity: Int { self.buffer.capacity }

        /// The most capacity kept between messages; a larger buffer is freed once it is empty, so
        /// an idle connection does not keep the memory of its largest message.
        public static let retainedCapacity = 4096

        /// Appends bytes read from the connection.
        public mutating func append(_ bytes: some Sequence<UInt8>) {
            if self.consumed > 0 && self.consumed == self.buffer.count {
                self.buffer.removeAll(keepingCapacity: self.buffer.capacity <= Self.retainedCapacity)
                self.consumed = 0
            }
            self.buffer.append(contentsOf: bytes)
        }

        /// Returns the next complete message, `nil` when more bytes are needed.
        ///
        /// - Throws: TTLVError when a header cannot start a message or announces more than the
        ///   limit; the stream cannot be resynchronised after that, so the caller closes the connection.
        public mutating func nextMessage() throws(TTLVError) -> [UInt8]? {
            let available = self.buffer.count - self.consumed
            guard available >= TTLV.headerSize else { return nil }
            let total = try TTLV.messageLength(
                header: self.buffer[self.consumed..<(self.consumed + TTLV.headerSize)],
                limits: self.limits,
                offset: self.consumed
            )
            // The buffer grows as bytes arrive, never to the length a header announces: a client
            // that announces a large message and sends a few bytes holds only what it sent.
            guard available >= total else { return nil }
            let message = Array(self.buffer[self.consumed..<(self.consumed + total)])
            self.consumed += total
            if self.consumed == self.buffer.count {
                self.buffer.removeAll(keepingCapacity: self.buffer.capacity <= Self.retainedCapacity)
                self.consumed = 0
            } else if self.consumed >= 64 * 1024 {
                self.buffer.removeFirst(self.consumed)
                self.consumed = 0
            }
            return message
        }
    }

    /// The total length, header included, of the message whose first eight bytes are `header`.
    ///
    /// - Throws: TTLVError TTLVError/Code/invalidType when the header is not a structure,
    ///   TTLVError/Code/invalidTag when its tag is not a KMIP tag,
    ///   TTLVError/Code/invalidLength when the length is not a multiple of eight, and
    ///   TTLVError/Code/messageTooLarge when it exceeds the limit.
    public static func messageLength(
        header: some Collection<UInt8>,
        limits: TTLVLimits = .default,
        offset: Int = 0
    ) throws(TTLVError) -> Int {
        precondition(header.count >= TTLV.headerSize, "a message header is eight bytes")
        var h: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &h) { raw in
            for (i, byte) in header.prefix(TTLV.headerSize).enumerated() { raw[i] = byte }
        }
        let tag = TTLVTag(UInt32(h.0) << 16 | UInt32(h.1) << 8 | UInt32(h.2))
        guard tag.isStandard || tag.isExtension else {
            throw TTLVError(.invalidTag, offset: offset, tag: tag, reason: "a message must start with a KMIP tag")
        }
        guard h.3 == TTLVType.structure.rawValue else {
            throw TTLVError(.invalidType, offset: offset, tag: tag, reason: "a message must be a structure")
        }
        let length = Int(h.4) << 24 | Int(h.5) << 16 | Int(h.6) << 8 | Int(h.7)
        guard length % 8 == 0 else {
            throw TTLVError(
                .invalidLength,
                offset: offset,
                tag: tag,
                reason: "structure length \(length) is not a multiple of eight"
            )
        }
        guard length <= limits.maxMessageSize - TTLV.headerSize else {
            throw TTLVError(
                .messageTooLarge,
                offset: offset,
                tag: tag,
                reason: "message of \(length + TTLV.headerSize) bytes exceeds the limit of \(limits.maxMessageSize)"
            )
        }
        return length + TTLV.headerSize
    }
}
