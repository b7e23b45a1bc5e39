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
public import KMIPModel

/// Which attributes a client may set, change or delete, and which may have several instances.
///
/// KMIP 1.4 §3 gives, for each attribute, "Initially set by", "Modifiable by client",
/// "Deletable by client" and "Multiple instances permitted"; this table follows it.
public enum AttributePolicy {
    /// Attributes only the server sets; a client may never add, modify or delete them.
    public static let serverOnly: Set<TTLVTag> = [
        .uniqueIdentifier, .objectType, .state, .initialDate, .lastChangeDate, .digest, .destroyDate,
        .compromiseDate, .compromiseOccurrenceDate, .revocationReason, .archiveDate, .fresh,
        .originalCreationDate, .randomNumberGenerator, .keyValuePresent, .alwaysSensitive,
        .neverExtractable, .shortUniqueIdentifier, .keyFormatType, .certificateLength, .certificateType,
        .x509CertificateIdentifier, .x509CertificateSubject, .x509CertificateIssuer, .certificateIdentifier,
        .certificateSubject, .certificateIssuer, .digitalSignatureAlgorithm,
    ]

    /// Attributes fixed once the object exists: set with Create/Register only.
    public static let fixedAfterCreation: Set<TTLVTag> = [
        .cryptographicAlgorithm, .cryptographicLength, .cryptographicDomainParameters,
    ]

    /// Attributes that may have several instances (1.x Attribute Index).
    public static let multiValued: Set<TTLVTag> = [
        .name, .link, .objectGroup, .alternativeName, .applicationSpecificInformation,
        .cryptographicParameters, .cryptographicDomainParameters, .digest, .keyValueLocation,
    ]

    /// Attributes that, once the object is Active (or later), may not be changed: the dates that
    /// drive its lifecycle (SKLC-M-3: modifying the Activation Date of an Active key is denied).
    public static let frozenOnceActive: Set<TTLVTag> = [.activationDate, .processStartDate, .protectStopDate]

    /// Whether several instances of `name` may exist. Custom and vendor attributes may.
    public static func isMultiValued(_ name: AttributeName) -> Bool {
        switch name {
        case .standard(let tag): multiValued.contains(tag)
        case .vendor, .unrecognized: true
        }
    }

    /// Whether a client may add or set `name` at all.
    public static func clientMaySet(_ name: AttributeName) -> Bool {
        switch name {
        case .standard(let tag): !serverOnly.contains(tag)
        case .vendor, .unrecognized: !name.isServerOnlyCustom
        }
    }
}
