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

/// Activate request.
///
/// > "This operation requests the server to activate a Managed Cryptographic Object." Only an
/// > object in the Pre-Active state can be activated.
///
/// KMIP 1.4 §4.19, KMIP 2.1 §6.1.1
public struct ActivateRequest: Hashable, Sendable {
    /// The object; the ID Placeholder when absent.
    public var uniqueIdentifier: UniqueIdentifier?

    public init(uniqueIdentifier: UniqueIdentifier?) {
        self.uniqueIdentifier = uniqueIdentifier
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
    }
}

/// Activate response: the identifier of the object.
///
/// KMIP 1.4 §4.19, KMIP 2.1 §6.1.1
public struct ActivateResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier

    public init(uniqueIdentifier: UniqueIdentifier) {
        self.uniqueIdentifier = uniqueIdentifier
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
    }
}
