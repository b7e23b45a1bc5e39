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

/// Revoke request: revoke an object, for a reason.
///
/// > Unique Identifier, Revocation Reason, Compromise Occurrence Date. "If the revocation reason
/// > is 'key compromise' or 'CA compromise', then the object is placed into the 'compromised'
/// > state ... Otherwise, the object is placed into the 'deactivated' state."
///
/// KMIP 1.4 §4.20, KMIP 2.1 §6.1.42
public struct RevokeRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var revocationReason: RevocationReason
    /// Seconds since the epoch; for key or CA compromise.
    public var compromiseOccurrenceDate: Int64?

    public init(uniqueIdentifier: UniqueIdentifier?, revocationReason: RevocationReason, compromiseOccurrenceDate: Int64? = nil) {
        self.uniqueIdentifier = uniqueIdentifier
        self.revocationReason = revocationReason
        self.compromiseOccurrenceDate = compromiseOccurrenceDate
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.revocationReason = try reader.decodeRequired(.revocationReason)
        self.compromiseOccurrenceDate = try reader.dateTime(.compromiseOccurrenceDate)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(self.revocationReason)
        encoder.write(.compromiseOccurrenceDate, dateTime: self.compromiseOccurrenceDate)
    }
}

/// Why an object was revoked: a code and an optional message.
///
/// KMIP 1.4 §3.31, KMIP 2.1 §4.50
public struct RevocationReason: KMIPStructure, Hashable, Sendable {
    public static let tag = TTLVTag.revocationReason

    public var code: RevocationReasonCode
    public var message: String?

    public init(code: RevocationReasonCode, message: String? = nil) {
        self.code = code
        self.message = message
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.code = try reader.required(try reader.enumeration(.revocationReasonCode), .revocationReasonCode)
        self.message = try reader.textString(.revocationMessage)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.revocationReasonCode, self.code)
        encoder.write(.revocationMessage, text: self.message)
    }
}

/// Revoke response: the identifier.
///
/// KMIP 1.4 §4.20, KMIP 2.1 §6.1.42
public typealias RevokeResponse = UniqueIdentifierResponse<RevokeOperation>
