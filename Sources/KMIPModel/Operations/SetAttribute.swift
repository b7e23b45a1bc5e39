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

/// Set Attribute request (2.x): set a single-valued attribute, adding it or replacing its value.
///
/// > Unique Identifier, New Attribute.
///
/// KMIP 2.1 §6.1.51
public struct SetAttributeRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var attribute: Attribute

    public init(uniqueIdentifier: UniqueIdentifier?, attribute: Attribute) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attribute = attribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.attribute = try reader.required(try reader.singleAttribute(), .newAttribute)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.writeTagged(.newAttribute, [self.attribute])
    }
}

/// Set Attribute response: the identifier.
///
/// KMIP 2.1 §6.1.51
public struct SetAttributeResponse: Hashable, Sendable {
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
