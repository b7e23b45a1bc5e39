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

/// Create request: make a new symmetric key (or other object) from attributes.
///
/// > "This operation requests the server to generate a new symmetric key as a Managed
/// > Cryptographic Object." Object Type, Template-Attribute (1.x) / Attributes (2.x),
/// > Protection Storage Masks (2.x).
///
/// KMIP 1.4 §4.1, KMIP 2.1 §6.1.8
public struct CreateRequest: Hashable, Sendable {
    public var objectType: ObjectType
    public var templateAttribute: TemplateAttribute?
    public var protectionStorageMasks: TTLVItem?

    public init(objectType: ObjectType, attributes: [Attribute]) {
        self.objectType = objectType
        self.templateAttribute = TemplateAttribute(attributes: attributes)
        self.protectionStorageMasks = nil
    }

    /// The attributes the client asked for.
    public var attributes: [Attribute] { self.templateAttribute?.attributes ?? [] }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.objectType = try reader.required(try reader.enumeration(.objectType), .objectType)
        self.templateAttribute = try reader.templateAttribute()
        self.protectionStorageMasks = try reader.item(.protectionStorageMasks)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.objectType, self.objectType)
        self.templateAttribute?.encode(to: &encoder)
        encoder.write(self.protectionStorageMasks)
    }
}

/// Create response: the new object's type and identifier, and in 1.x the attributes the server
/// set implicitly.
///
/// KMIP 1.4 §4.1, KMIP 2.1 §6.1.8
public struct CreateResponse: Hashable, Sendable {
    public var objectType: ObjectType
    public var uniqueIdentifier: UniqueIdentifier
    public var templateAttribute: TemplateAttribute?

    public init(objectType: ObjectType, uniqueIdentifier: UniqueIdentifier, templateAttribute: TemplateAttribute? = nil) {
        self.objectType = objectType
        self.uniqueIdentifier = uniqueIdentifier
        self.templateAttribute = templateAttribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.objectType = try reader.required(try reader.enumeration(.objectType), .objectType)
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.templateAttribute = try reader.templateAttribute()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.objectType, self.objectType)
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        self.templateAttribute?.encode(to: &encoder)
    }
}
