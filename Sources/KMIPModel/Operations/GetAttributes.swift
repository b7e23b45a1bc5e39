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

/// Get Attributes request: return these attributes (all of them when none is named).
///
/// > Unique Identifier, Attribute Name* (1.x) / Attribute Reference* (2.x).
///
/// KMIP 1.4 §4.12, KMIP 2.1 §6.1.20
public struct GetAttributesRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var attributeNames: [AttributeName]

    public init(uniqueIdentifier: UniqueIdentifier?, attributeNames: [AttributeName] = []) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attributeNames = attributeNames
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.attributeNames = try reader.attributeReferences()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.writeAttributeReferences(self.attributeNames)
    }
}

/// Get Attributes response: the identifier and the attributes that exist.
///
/// > "If a requested attribute does not exist ... the response contains only the attributes
/// > that exist" — with none, just the Unique Identifier (1.x) or an empty Attributes (2.x).
///
/// KMIP 1.4 §4.12, KMIP 2.1 §6.1.20
public struct GetAttributesResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    public var attributes: [Attribute]

    public init(uniqueIdentifier: UniqueIdentifier, attributes: [Attribute]) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attributes = attributes
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        if let tagged = try reader.taggedAttributes(.attributes) {
            self.attributes = tagged
        } else {
            self.attributes = try reader.namedAttributes()
        }
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        if encoder.version.usesTaggedAttributes {
            encoder.writeTagged(.attributes, self.attributes)
        } else {
            encoder.write(.attribute, all: self.attributes)
        }
    }
}
