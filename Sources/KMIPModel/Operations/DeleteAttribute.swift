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

/// Delete Attribute request: remove an attribute (or one instance of it).
///
/// > 1.x: Unique Identifier, Attribute Name, Attribute Index. 2.x: Unique Identifier, Current
/// > Attribute (an exact instance) or Attribute Reference (every instance).
///
/// KMIP 1.4 §4.16, KMIP 2.1 §6.1.14
public struct DeleteAttributeRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var attributeName: AttributeName?
    /// 1.x index of the instance to delete; absent means 0.
    public var attributeIndex: Int32?
    /// 2.x: the exact instance to delete.
    public var currentAttribute: Attribute?

    public init(uniqueIdentifier: UniqueIdentifier?, attributeName: AttributeName, attributeIndex: Int32? = nil) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attributeName = attributeName
        self.attributeIndex = attributeIndex
        self.currentAttribute = nil
    }

    public init(uniqueIdentifier: UniqueIdentifier?, currentAttribute: Attribute) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attributeName = nil
        self.attributeIndex = nil
        self.currentAttribute = currentAttribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        if let name = try reader.textString(.attributeName) {
            self.attributeName = AttributeName(v1Name: name)
        } else if let index = try reader.takeSingle(.attributeReference) {
            self.attributeName = try reader.attributeReference(at: index)
        } else {
            self.attributeName = nil
        }
        self.attributeIndex = try reader.integer(.attributeIndex)
        self.currentAttribute = try reader.wrappedAttribute(.currentAttribute)
        if self.attributeName == nil && self.currentAttribute == nil {
            throw TTLVError(.missingField, offset: -1, tag: .attributeName, reason: "Delete Attribute names no attribute")
        }
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        if encoder.version.usesTaggedAttributes {
            if let current = self.currentAttribute { encoder.writeTagged(.currentAttribute, [current]) }
            if let name = self.attributeName { encoder.writeAttributeReference(name) }
        } else {
            let name = self.attributeName ?? self.currentAttribute?.name
            if let name { encoder.write(.attributeName, text: name.v1Name) }
            encoder.write(.attributeIndex, integer: self.attributeIndex)
        }
    }
}

/// Delete Attribute response: the identifier, and in 1.x the attribute that was deleted.
///
/// KMIP 1.4 §4.16, KMIP 2.1 §6.1.14
public struct DeleteAttributeResponse: Hashable, Sendable {
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
