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

/// Modify Attribute request: change an existing attribute's value.
///
/// > Unique Identifier, Attribute (1.x, with Attribute Index for multi-valued attributes) /
/// > Current Attribute and New Attribute (2.x).
///
/// KMIP 1.4 §4.15, KMIP 2.1 §6.1.34
public struct ModifyAttributeRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    /// 2.x: the instance to change, when the attribute is multi-valued.
    public var currentAttribute: Attribute?
    public var attribute: Attribute

    public init(uniqueIdentifier: UniqueIdentifier?, currentAttribute: Attribute? = nil, attribute: Attribute) {
        self.uniqueIdentifier = uniqueIdentifier
        self.currentAttribute = currentAttribute
        self.attribute = attribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.currentAttribute = try reader.wrappedAttribute(.currentAttribute)
        self.attribute = try reader.required(try reader.singleAttribute(), .attribute)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        if encoder.version.usesTaggedAttributes, let current = self.currentAttribute {
            encoder.writeTagged(.currentAttribute, [current])
        }
        encoder.writeSingleAttribute(self.attribute)
    }
}

/// Modify Attribute response: the identifier, and in 1.x the attribute as modified.
///
/// KMIP 1.4 §4.15, KMIP 2.1 §6.1.34
public struct ModifyAttributeResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    public var attribute: Attribute?

    public init(uniqueIdentifier: UniqueIdentifier, attribute: Attribute?) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attribute = attribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.attribute = try reader.decode(.attribute)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        if !encoder.version.usesTaggedAttributes { encoder.write(.attribute, self.attribute) }
    }
}
