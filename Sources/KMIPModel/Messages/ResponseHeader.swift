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

/// The header of a response message.
///
/// > Response Header: Protocol Version, Time Stamp (required), Nonce, Server Hashed Password,
/// > Attestation Type, Client Correlation Value, Server Correlation Value, Batch Count.
///
/// KMIP 1.4 §7.2 (Table 284), KMIP 2.1 §8.2
public struct ResponseHeader: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.responseHeader

    public var protocolVersion: ProtocolVersion
    /// Seconds since the epoch; required by the specification.
    public var timeStamp: Int64
    public var nonce: TTLVItem?
    public var serverHashedPassword: [UInt8]?
    public var attestationTypes: [AttestationType]
    public var clientCorrelationValue: String?
    public var serverCorrelationValue: String?
    public var batchCount: Int32
    public var unknownFields: [TTLVItem]

    public init(
        protocolVersion: ProtocolVersion,
        timeStamp: Int64,
        clientCorrelationValue: String? = nil,
        serverCorrelationValue: String? = nil,
        batchCount: Int32
    ) {
        self.protocolVersion = protocolVersion
        self.timeStamp = timeStamp
        self.nonce = nil
        self.serverHashedPassword = nil
        self.attestationTypes = []
        self.clientCorrelationValue = clientCorrelationValue
        self.serverCorrelationValue = serverCorrelationValue
        self.batchCount = batchCount
        self.unknownFields = []
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.protocolVersion = try reader.decodeRequired(.protocolVersion)
        self.timeStamp = try reader.required(try reader.dateTime(.timeStamp), .timeStamp)
        self.nonce = try reader.item(.nonce)
        self.serverHashedPassword = try reader.byteString(.serverHashedPassword)
        self.attestationTypes = try reader.enumerations(.attestationType)
        self.clientCorrelationValue = try reader.textString(.clientCorrelationValue)
        self.serverCorrelationValue = try reader.textString(.serverCorrelationValue)
        self.batchCount = try reader.required(try reader.integer(.batchCount), .batchCount)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(self.protocolVersion)
        encoder.serializer.writeDateTime(.timeStamp, self.timeStamp)
        encoder.write(self.nonce)
        encoder.write(.serverHashedPassword, bytes: self.serverHashedPassword)
        encoder.write(.attestationType, self.attestationTypes)
        encoder.write(.clientCorrelationValue, text: self.clientCorrelationValue)
        encoder.write(.serverCorrelationValue, text: self.serverCorrelationValue)
        encoder.serializer.writeInteger(.batchCount, self.batchCount)
        encoder.write(self.unknownFields)
    }
}
