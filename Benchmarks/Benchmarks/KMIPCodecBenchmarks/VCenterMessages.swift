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

import KMIPCodec
import KMIPModel

/// The messages a vCenter 7.0.3 key provider exchanges with a KMS, built with the typed model.
///
/// They have the structure of what vCenter sends and receives (KMIP 1.1, a header with only a
/// Protocol Version and Batch Count, Unique Batch Item IDs `51 4C 4B 43 nn 00 00 00`), but every
/// value here is made up: no byte is taken from a capture.
enum VCenterMessages {
    /// A made-up UUID-style Unique Identifier.
    static let keyID: UniqueIdentifier = "6f1c2b9e-3d4a-4c8e-9b7f-2a5d8e1c0f43"

    /// A fixed Time Stamp for response headers (2026-01-01T00:00:00Z).
    static let timeStamp: Int64 = 1_767_225_600

    /// 32 bytes of made-up key material, `00 01 … 1F`.
    static let keyMaterial: [UInt8] = (0..<32).map { UInt8($0) }

    /// vCenter's Unique Batch Item ID for the `n`-th item of a batch: `51 4C 4B 43 nn 00 00 00`.
    static func batchItemID(_ n: UInt8) -> [UInt8] {
        [0x51, 0x4C, 0x4B, 0x43, n, 0x00, 0x00, 0x00]
    }

    /// Get { Unique Identifier } in one batch item.
    static func getRequest() -> RequestMessage {
        RequestMessage(
            version: .v1_1,
            batchItems: [
                RequestBatchItem(GetRequest(uniqueIdentifier: keyID), uniqueBatchItemID: batchItemID(1))
            ]
        )
    }

    /// The successful Get response: a 256-bit AES Symmetric Key in a Raw Key Block.
    static func getResponse() -> ResponseMessage {
        let keyBlock = KeyBlock(
            keyFormatType: .raw,
            keyValue: .plain(PlainKeyValue(keyMaterial: .bytes(keyMaterial))),
            cryptographicAlgorithm: .aes,
            cryptographicLength: 256
        )
        let payload = GetResponse(
            objectType: .symmetricKey,
            uniqueIdentifier: keyID,
            object: .symmetricKey(SymmetricKey(keyBlock: keyBlock))
        )
        return ResponseMessage(
            header: ResponseHeader(protocolVersion: .v1_1, timeStamp: timeStamp, batchCount: 1),
            batchItems: [ResponseBatchItem(success: payload, uniqueBatchItemID: batchItemID(1))]
        )
    }

    /// Three Add Attribute items setting vCenter's custom attributes on a key.
    static func addAttributeBatch() -> RequestMessage {
        let attributes: [Attribute] = [
            .custom("x-Product_Version", .textString("7.0.3 build-19480866")),
            .custom("x-Vendor", .textString("VMware, Inc.")),
            .custom("x-Product", .textString("VMware vSphere")),
        ]
        return RequestMessage(
            version: .v1_1,
            batchItems: attributes.enumerated().map { index, attribute in
                RequestBatchItem(
                    AddAttributeRequest(uniqueIdentifier: keyID, attribute: attribute),
                    uniqueBatchItemID: batchItemID(UInt8(index + 1))
                )
            }
        )
    }

    /// Encodes `message` and checks that the bytes parse, decode back to it and re-encode
    /// identically, so a benchmark never measures an error path.
    static func encodedRequest(_ message: RequestMessage) throws -> [UInt8] {
        let bytes = message.encoded()
        let decoded = try RequestMessage(decoding: bytes)
        precondition(decoded == message, "the request does not decode back to itself")
        precondition(decoded.encoded() == bytes, "the request does not re-encode identically")
        let item = try TTLVItem(parsing: bytes)
        precondition(item.encoded() == bytes, "the request does not round-trip as TTLV")
        return bytes
    }

    /// As encodedRequest(_:), for a response.
    static func encodedResponse(_ message: ResponseMessage) throws -> [UInt8] {
        let bytes = message.encoded()
        let decoded = try ResponseMessage(decoding: bytes)
        precondition(decoded == message, "the response does not decode back to itself")
        precondition(decoded.encoded() == bytes, "the response does not re-encode identically")
        let item = try TTLVItem(parsing: bytes)
        precondition(item.encoded() == bytes, "the response does not round-trip as TTLV")
        return bytes
    }

    /// Whole encoded messages back to back, as a connection delivers them.
    struct Stream {
        var bytes: [UInt8]
        var messageCount: Int
    }

    /// As many whole Get requests as fit in `byteCount` bytes.
    static func getRequestStream(byteCount: Int) throws -> Stream {
        let message = try encodedRequest(getRequest())
        let count = byteCount / message.count
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * message.count)
        for _ in 0..<count { bytes.append(contentsOf: message) }
        return Stream(bytes: bytes, messageCount: count)
    }
}
