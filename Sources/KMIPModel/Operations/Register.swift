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

/// Register request: store an object the client supplies.
///
/// > "This operation requests the server to register a Managed Object that was created by the
/// > client or obtained by the client through some other means." Object Type, Template-Attribute
/// > (1.x) / Attributes (2.x), the object, Protection Storage Masks (2.x).
///
/// KMIP 1.4 §4.3, KMIP 2.1 §6.1.40
public struct RegisterRequest: Hashable, Sendable {
    public var objectType: ObjectType
    public var templateAttribute: TemplateAttribute?
    public var object: ManagedObject
    public var protectionStorageMasks: TTLVItem?

    public init(objectType: ObjectType, attributes: [Attribute], object: ManagedObject) {
        self.objectType = objectType
        self.templateAttribute = TemplateAttribute(attributes: attributes)
        self.object = object
        self.protectionStorageMasks = nil
    }

    /// The attributes the client supplied.
    public var attributes: [Attribute] { self.templateAttribute?.attributes ?? [] }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.objectType = try reader.required(try reader.enumeration(.objectType), .objectType)
        self.templateAttribute = try reader.templateAttribute()
        self.object = try reader.required(try reader.managedObject(), .symmetricKey)
        self.protectionStorageMasks = try reader.item(.protectionStorageMasks)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.objectType, self.objectType)
        self.templateAttribute?.encode(to: &encoder)
        encoder.write(self.object)
        encoder.write(self.protectionStorageMasks)
    }
}

/// Register response: the new object's identifier, and in 1.x implicitly set attributes.
///
/// KMIP 1.4 §4.3, KMIP 2.1 §6.1.40
public struct RegisterResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    public var templateAttribute: TemplateAttribute?

    public init(uniqueIdentifier: UniqueIdentifier, templateAttribute: TemplateAttribute? = nil) {
        self.uniqueIdentifier = uniqueIdentifier
        self.templateAttribute = templateAttribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.templateAttribute = try reader.templateAttribute()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        self.templateAttribute?.encode(to: &encoder)
    }
}
