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

/// Destroy request.
///
/// > "This operation is used to indicate to the server that the key material for the specified
/// > Managed Object SHALL be destroyed." An Active object cannot be destroyed.
///
/// KMIP 1.4 §4.21, KMIP 2.1 §6.1.15
public struct DestroyRequest: Hashable, Sendable {
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

/// Destroy response: the identifier of the object.
///
/// KMIP 1.4 §4.21, KMIP 2.1 §6.1.15
public struct DestroyResponse: Hashable, Sendable {
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
