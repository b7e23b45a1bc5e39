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

/// The header of a request message.
///
/// > Request Header: Protocol Version, Maximum Response Size, Client Correlation Value, Server
/// > Correlation Value, Asynchronous Indicator, Attestation Capable Indicator, Attestation Type,
/// > Authentication, Batch Error Continuation Option, Batch Order Option, Time Stamp, Batch Count.
///
/// KMIP 1.4 §7.2 (Table 282), KMIP 2.1 §8.2
public struct RequestHeader: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.requestHeader

    public var protocolVersion: ProtocolVersion
    /// The largest response, in bytes, the client accepts (KMIP 1.4 §6.3).
    public var maximumResponseSize: Int32?
    public var clientCorrelationValue: String?
    public var serverCorrelationValue: String?
    public var asynchronousIndicator: Bool?
    public var attestationCapableIndicator: Bool?
    public var attestationTypes: [AttestationType]
    public var authentication: Authentication?
    public var batchErrorContinuationOption: BatchErrorContinuation?
    public var batchOrderOption: Bool?
    public var timeStamp: Int64?
    public var batchCount: Int32
    /// Fields this version of Keystorm does not define (kept in lenient mode).
    public var unknownFields: [TTLVItem]

    public init(
        protocolVersion: ProtocolVersion,
        maximumResponseSize: Int32? = nil,
        clientCorrelationValue: String? = nil,
        serverCorrelationValue: String? = nil,
        asynchronousIndicator: Bool? = nil,
        attestationCapableIndicator: Bool? = nil,
        attestationTypes: [AttestationType] = [],
        authentication: Authentication? = nil,
        batchErrorContinuationOption: BatchErrorContinuation? = nil,
        batchOrderOption: Bool? = nil,
        timeStamp: Int64? = nil,
        batchCount: Int32
    ) {
        self.protocolVersion = protocolVersion
        self.maximumResponseSize = maximumResponseSize
        self.clientCorrelationValue = clientCorrelationValue
        self.serverCorrelationValue = serverCorrelationValue
        self.asynchronousIndicator = asynchronousIndicator
        self.attestationCapableIndicator = attestationCapableIndicator
        self.attestationTypes = attestationTypes
        self.authentication = authentication
        self.batchErrorContinuationOption = batchErrorContinuationOption
        self.batchOrderOption = batchOrderOption
        self.timeStamp = timeStamp
        self.batchCount = batchCount
        self.unknownFields = []
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.protocolVersion = try reader.decodeRequired(.protocolVersion)
        self.maximumResponseSize = try reader.integer(.maximumResponseSize)
        self.clientCorrelationValue = try reader.textString(.clientCorrelationValue)
        self.serverCorrelationValue = try reader.textString(.serverCorrelationValue)
        self.asynchronousIndicator = try reader.boolean(.asynchronousIndicator)
        self.attestationCapableIndicator = try reader.boolean(.attestationCapableIndicator)
        self.attestationTypes = try reader.enumerations(.attestationType)
        self.authentication = try reader.decode(.authentication)
        self.batchErrorContinuationOption = try reader.enumeration(.batchErrorContinuationOption)
        self.batchOrderOption = try reader.boolean(.batchOrderOption)
        self.timeStamp = try reader.dateTime(.timeStamp)
        self.batchCount = try reader.required(try reader.integer(.batchCount), .batchCount)
        self.unknownFields = try reader.unreadFields()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(self.protocolVersion)
        encoder.write(.maximumResponseSize, integer: self.maximumResponseSize)
        encoder.write(.clientCorrelationValue, text: self.clientCorrelationValue)
        encoder.write(.serverCorrelationValue, text: self.serverCorrelationValue)
        encoder.write(.asynchronousIndicator, boolean: self.asynchronousIndicator)
        encoder.write(.attestationCapableIndicator, boolean: self.attestationCapableIndicator)
        encoder.write(.attestationType, self.attestationTypes)
        encoder.write(.authentication, self.authentication)
        encoder.write(.batchErrorContinuationOption, self.batchErrorContinuationOption)
        encoder.write(.batchOrderOption, boolean: self.batchOrderOption)
        encoder.write(.timeStamp, dateTime: self.timeStamp)
        encoder.serializer.writeInteger(.batchCount, self.batchCount)
        encoder.write(self.unknownFields)
    }
}

/// Credentials a client sends in the request header.
///
/// 1.x carries one Credential, 2.x one or more.
///
/// KMIP 1.4 §6.6, KMIP 2.1 §7.2
public struct Authentication: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.authentication

    public var credentials: [Credential]

    public init(credentials: [Credential]) {
        self.credentials = credentials
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.credentials = try reader.decodeAll(.credential)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.credential, all: self.credentials)
    }
}

/// One credential: its type and a value whose structure depends on the type.
///
/// KMIP 1.4 §2.1.2 (Table 3), KMIP 2.1 §2.1.2
public struct Credential: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.credential

    public var credentialType: CredentialType
    /// The Credential Value structure, kept whole (username/password, device or attestation).
    public var credentialValue: TTLVItem

    public init(credentialType: CredentialType, credentialValue: TTLVItem) {
        self.credentialType = credentialType
        self.credentialValue = credentialValue
    }

    /// A Username and Password credential.
    public static func usernameAndPassword(_ username: String, password: String?) -> Credential {
        var fields = [TTLVItem(.username, .textString(username))]
        if let password { fields.append(TTLVItem(.password, .textString(password))) }
        return Credential(credentialType: .usernameAndPassword, credentialValue: TTLVItem(.credentialValue, .structure(fields)))
    }

    /// The username of a Username and Password credential.
    public var username: String? {
        guard self.credentialType == .usernameAndPassword,
            case .textString(let name)? = self.credentialValue.child(.username)?.value
        else { return nil }
        return name
    }

    /// The password of a Username and Password credential.
    public var password: String? {
        guard self.credentialType == .usernameAndPassword,
            case .textString(let password)? = self.credentialValue.child(.password)?.value
        else { return nil }
        return password
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.credentialType = try reader.required(try reader.enumeration(.credentialType), .credentialType)
        self.credentialValue = try reader.required(try reader.item(.credentialValue), .credentialValue)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.credentialType, self.credentialType)
        encoder.write(self.credentialValue)
    }
}
