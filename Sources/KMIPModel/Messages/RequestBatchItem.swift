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

/// One operation of a request message.
///
/// > Batch Item: Operation, Ephemeral (2.0+), Unique Batch Item ID (required if Batch Count > 1),
/// > Request Payload, Message Extension.
///
/// KMIP 1.4 §7.2 (Table 283), KMIP 2.1 §8.2
public struct RequestBatchItem: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.batchItem

    public var operation: Operation
    public var ephemeral: Bool?
    public var uniqueBatchItemID: [UInt8]?
    public var payload: RequestPayload
    public var messageExtensions: [MessageExtension]
    public var unknownFields: [TTLVItem]

    public init(
        operation: Operation,
        uniqueBatchItemID: [UInt8]? = nil,
        payload: RequestPayload,
        messageExtensions: [MessageExtension] = []
    ) {
        self.operation = operation
        self.ephemeral = nil
        self.uniqueBatchItemID = uniqueBatchItemID
        self.payload = payload
        self.messageExtensions = messageExtensions
        self.unknownFields = []
    }

    /// Builds a batch item from a typed payload.
    public init<P: KMIPRequestPayload>(_ payload: P, uniqueBatchItemID: [UInt8]? = nil) {
        self.init(operation: P.operation, uniqueBatchItemID: uniqueBatchItemID, payload: payload.requestPayload)
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.operation = try reader.required(try reader.enumeration(.operation), .operation)
        self.ephemeral = try reader.boolean(.ephemeral)
        self.uniqueBatchItemID = try reader.byteString(.uniqueBatchItemID)
        let payloadIndex = try reader.require(.requestPayload)
        self.payload = try RequestPayload.decode(operation: self.operation, at: payloadIndex, reader: reader)
        self.messageExtensions = try reader.decodeAll(.messageExtension)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.operation, self.operation)
        encoder.write(.ephemeral, boolean: self.ephemeral)
        encoder.write(.uniqueBatchItemID, bytes: self.uniqueBatchItemID)
        self.payload.encode(to: &encoder)
        encoder.write(.messageExtension, all: self.messageExtensions)
        encoder.write(self.unknownFields)
    }
}

/// A vendor extension attached to a batch item.
///
/// > Message Extension: Vendor Identification, Criticality Indicator, Vendor Extension.
///
/// KMIP 1.4 §6.16
public struct MessageExtension: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.messageExtension

    public var vendorIdentification: String
    /// A server that does not understand a critical extension fails the item with Feature Not Supported.
    public var criticalityIndicator: Bool
    public var vendorExtension: TTLVItem

    public init(vendorIdentification: String, criticalityIndicator: Bool, vendorExtension: TTLVItem) {
        self.vendorIdentification = vendorIdentification
        self.criticalityIndicator = criticalityIndicator
        self.vendorExtension = vendorExtension
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.vendorIdentification = try reader.required(try reader.textString(.vendorIdentification), .vendorIdentification)
        self.criticalityIndicator = try reader.required(try reader.boolean(.criticalityIndicator), .criticalityIndicator)
        self.vendorExtension = try reader.required(try reader.item(.vendorExtension), .vendorExtension)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.vendorIdentification, text: self.vendorIdentification)
        encoder.write(.criticalityIndicator, boolean: self.criticalityIndicator)
        encoder.write(self.vendorExtension)
    }
}
