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

/// A KMIP request: a header and one or more batch items.
///
/// KMIP 1.4 §7.1, KMIP 2.1 §8.1
public struct RequestMessage: KMIPMessage, Hashable, Sendable {
    public static let tag = TTLVTag.requestMessage
    public static let headerTag = TTLVTag.requestHeader

    public var header: RequestHeader
    public var protocolVersion: ProtocolVersion { self.header.protocolVersion }
    public var batchItems: [RequestBatchItem]
    public var unknownFields: [TTLVItem]

    public init(header: RequestHeader, batchItems: [RequestBatchItem]) {
        self.header = header
        self.batchItems = batchItems
        self.unknownFields = []
    }

    /// A request for `version` with a header whose Batch Count matches `batchItems`.
    public init(version: ProtocolVersion, batchItems: [RequestBatchItem]) {
        self.init(
            header: RequestHeader(protocolVersion: version, batchCount: Int32(batchItems.count)),
            batchItems: batchItems
        )
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.header = try reader.decodeRequired(.requestHeader)
        self.batchItems = try reader.decodeAll(.batchItem)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(self.header)
        encoder.write(.batchItem, all: self.batchItems)
        encoder.write(self.unknownFields)
    }
}

/// A KMIP response: a header and one batch item per request item processed.
///
/// KMIP 1.4 §7.1, KMIP 2.1 §8.1
public struct ResponseMessage: KMIPMessage, Hashable, Sendable {
    public static let tag = TTLVTag.responseMessage
    public static let headerTag = TTLVTag.responseHeader

    public var header: ResponseHeader
    public var protocolVersion: ProtocolVersion { self.header.protocolVersion }
    public var batchItems: [ResponseBatchItem]
    public var unknownFields: [TTLVItem]

    public init(header: ResponseHeader, batchItems: [ResponseBatchItem]) {
        self.header = header
        self.batchItems = batchItems
        self.unknownFields = []
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.header = try reader.decodeRequired(.responseHeader)
        self.batchItems = try reader.decodeAll(.batchItem)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(self.header)
        encoder.write(.batchItem, all: self.batchItems)
        encoder.write(self.unknownFields)
    }
}

/// A whole KMIP message: read with the protocol version its header names, written in it.
public protocol KMIPMessage: KMIPStructure {
    /// The tag of the message's header (Request Header or Response Header).
    static var headerTag: TTLVTag { get }
    /// The version the message is written in.
    var protocolVersion: ProtocolVersion { get }
}

extension KMIPMessage {
    /// Parses and decodes a message; its header's protocol version selects the attribute encoding.
    ///
    /// - Throws: ``TTLVError`` for malformed TTLV or a structure that does not fit the model.
    public init(
        decoding bytes: [UInt8],
        mode: TTLVParsingMode = .strict,
        limits: TTLVLimits = .default
    ) throws(TTLVError) {
        let document = try TTLV.parse(bytes, mode: mode, limits: limits)
        self = try KMIPMessageDecoding.decode(document, as: Self.self, header: Self.headerTag, mode: mode)
    }

    /// The message encoded in its header's protocol version.
    public func encoded() -> [UInt8] {
        var encoder = KMIPEncoder(version: self.protocolVersion)
        encoder.write(self)
        return encoder.bytes
    }
}

/// Reads the protocol version from a message header before decoding the rest with it.
public enum KMIPMessageDecoding {
    /// The protocol version in the header of a parsed message, if it has one.
    public static func protocolVersion(of document: TTLVDocument, header: TTLVTag) -> ProtocolVersion? {
        for h in document.children(of: document.root) where document.nodes[h].tag == header {
            guard document.nodes[h].type == .structure else { return nil }
            for v in document.children(of: h) where document.nodes[v].tag == .protocolVersion {
                let context = KMIPCodingContext(version: .v1_0, mode: .lenient)
                guard var reader = try? KMIPStructureReader(document: document, index: v, context: context) else {
                    return nil
                }
                return try? ProtocolVersion(from: &reader)
            }
        }
        return nil
    }

    /// Decodes a whole message as `T`, reading its version from the header first.
    public static func decode<T: KMIPStructure>(
        _ document: TTLVDocument,
        as type: T.Type,
        header: TTLVTag,
        mode: TTLVParsingMode
    ) throws(TTLVError) -> T {
        let root = document.nodes[document.root]
        guard root.tag == T.tag else {
            throw TTLVError(.unexpectedField, offset: 0, tag: root.tag, reason: "expected \(T.tag) at the top level")
        }
        guard let version = self.protocolVersion(of: document, header: header) else {
            throw TTLVError(.missingField, offset: 0, tag: .protocolVersion, reason: "the header has no protocol version")
        }
        var reader = try KMIPStructureReader(
            document: document,
            index: document.root,
            context: KMIPCodingContext(version: version, mode: mode)
        )
        let value = try T(from: &reader)
        try reader.finish()
        return value
    }
}
