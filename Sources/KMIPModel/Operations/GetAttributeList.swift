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

/// Get Attribute List request: which attributes does the object have?
///
/// KMIP 1.4 §4.13, KMIP 2.1 §6.1.19
public typealias GetAttributeListRequest = UniqueIdentifierRequest<GetAttributeListOperation>

/// Get Attribute List response: the names (1.x) or references (2.x) of the object's attributes.
///
/// KMIP 1.4 §4.13, KMIP 2.1 §6.1.19
public struct GetAttributeListResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    public var attributeNames: [AttributeName]

    public init(uniqueIdentifier: UniqueIdentifier, attributeNames: [AttributeName]) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attributeNames = attributeNames
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.attributeNames = try reader.attributeReferences()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.writeAttributeReferences(self.attributeNames)
    }
}
