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

/// Get request: return the object with this identifier, in the format asked for.
///
/// > Unique Identifier, Key Format Type, Key Wrap Type (1.4+), Key Compression Type,
/// > Key Wrapping Specification. Without a Unique Identifier the ID Placeholder is used.
///
/// KMIP 1.4 §4.11, KMIP 2.1 §6.1.21
public struct GetRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var keyFormatType: KeyFormatType?
    public var keyWrapType: KeyWrapType?
    public var keyCompressionType: KeyCompressionType?
    /// Kept whole: Keystorm refuses server-side wrapping on Get.
    public var keyWrappingSpecification: TTLVItem?

    public init(uniqueIdentifier: UniqueIdentifier?, keyFormatType: KeyFormatType? = nil) {
        self.uniqueIdentifier = uniqueIdentifier
        self.keyFormatType = keyFormatType
        self.keyWrapType = nil
        self.keyCompressionType = nil
        self.keyWrappingSpecification = nil
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.keyFormatType = try reader.enumeration(.keyFormatType)
        self.keyWrapType = try reader.enumeration(.keyWrapType)
        self.keyCompressionType = try reader.enumeration(.keyCompressionType)
        self.keyWrappingSpecification = try reader.item(.keyWrappingSpecification)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(.keyFormatType, self.keyFormatType)
        encoder.write(.keyWrapType, self.keyWrapType)
        encoder.write(.keyCompressionType, self.keyCompressionType)
        encoder.write(self.keyWrappingSpecification)
    }
}

/// Get response: the object's type, identifier and the object itself.
///
/// KMIP 1.4 §4.11, KMIP 2.1 §6.1.21
public struct GetResponse: Hashable, Sendable {
    public var objectType: ObjectType
    public var uniqueIdentifier: UniqueIdentifier
    public var object: ManagedObject

    public init(objectType: ObjectType, uniqueIdentifier: UniqueIdentifier, object: ManagedObject) {
        self.objectType = objectType
        self.uniqueIdentifier = uniqueIdentifier
        self.object = object
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.objectType = try reader.required(try reader.enumeration(.objectType), .objectType)
        self.uniqueIdentifier = try reader.required(try reader.uniqueIdentifier(), .uniqueIdentifier)
        self.object = try reader.required(try reader.managedObject(), .symmetricKey)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.objectType, self.objectType)
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(self.object)
    }
}
