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

/// The result of one operation in a response message.
///
/// > Batch Item: Operation (if it was in the request), Unique Batch Item ID (if it was in the
/// > request), Result Status, Result Reason (required on failure), Result Message, Asynchronous
/// > Correlation Value, Response Payload, Message Extension.
///
/// KMIP 1.4 §7.2 (Table 285), KMIP 2.1 §8.2
public struct ResponseBatchItem: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.batchItem

    /// Absent when the server could not tell the operation (an unparseable request).
    public var operation: Operation?
    public var uniqueBatchItemID: [UInt8]?
    public var resultStatus: ResultStatus
    public var resultReason: ResultReason?
    public var resultMessage: String?
    public var asynchronousCorrelationValue: [UInt8]?
    public var payload: ResponsePayload?
    public var messageExtensions: [MessageExtension]
    public var unknownFields: [TTLVItem]

    public init(
        operation: Operation?,
        uniqueBatchItemID: [UInt8]? = nil,
        resultStatus: ResultStatus,
        resultReason: ResultReason? = nil,
        resultMessage: String? = nil,
        payload: ResponsePayload? = nil
    ) {
        self.operation = operation
        self.uniqueBatchItemID = uniqueBatchItemID
        self.resultStatus = resultStatus
        self.resultReason = resultReason
        self.resultMessage = resultMessage
        self.asynchronousCorrelationValue = nil
        self.payload = payload
        self.messageExtensions = []
        self.unknownFields = []
    }

    /// A successful item carrying a typed payload.
    public init<P: KMIPResponsePayload>(success payload: P, uniqueBatchItemID: [UInt8]? = nil) {
        self.init(
            operation: P.operation,
            uniqueBatchItemID: uniqueBatchItemID,
            resultStatus: .success,
            payload: payload.responsePayload
        )
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.operation = try reader.enumeration(.operation)
        self.uniqueBatchItemID = try reader.byteString(.uniqueBatchItemID)
        self.resultStatus = try reader.required(try reader.enumeration(.resultStatus), .resultStatus)
        self.resultReason = try reader.enumeration(.resultReason)
        self.resultMessage = try reader.textString(.resultMessage)
        self.asynchronousCorrelationValue = try reader.byteString(.asynchronousCorrelationValue)
        if let index = try reader.takeSingle(.responsePayload) {
            self.payload = try ResponsePayload.decode(
                operation: self.operation,
                succeeded: self.resultStatus == .success,
                at: index,
                reader: reader
            )
        } else {
            self.payload = nil
        }
        self.messageExtensions = try reader.decodeAll(.messageExtension)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.operation, self.operation)
        encoder.write(.uniqueBatchItemID, bytes: self.uniqueBatchItemID)
        encoder.write(.resultStatus, self.resultStatus)
        encoder.write(.resultReason, self.resultReason)
        encoder.write(.resultMessage, text: self.resultMessage)
        encoder.write(.asynchronousCorrelationValue, bytes: self.asynchronousCorrelationValue)
        self.payload?.encode(to: &encoder)
        encoder.write(.messageExtension, all: self.messageExtensions)
        encoder.write(self.unknownFields)
    }
}
