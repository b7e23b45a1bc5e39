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

import NIOCore

/// Cuts a byte stream into whole TTLV messages: an 8-byte header (tag, type, 4-byte length), then
/// `length` bytes. A length over `maxMessageSize` fails the connection before anything is buffered.
///
/// KMIP 1.4 §9.1.1, KMIP 2.1 §9.1.1
struct TTLVFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct OversizedMessage: Error, CustomStringConvertible {
        var length: Int
        var description: String { "a response of \(self.length) bytes is over the limit" }
    }

    var maxMessageSize: Int

    init(maxMessageSize: Int = 1 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return .needMoreData }
        let total = 8 + Int(length)
        guard total <= self.maxMessageSize else { throw OversizedMessage(length: total) }
        guard let message = buffer.readSlice(length: total) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
