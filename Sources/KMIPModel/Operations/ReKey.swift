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

/// Re-key request: make a new key that replaces an existing symmetric key.
///
/// > Unique Identifier, Offset (Interval), Template-Attribute (1.x) / Attributes (2.x),
/// > Protection Storage Masks (2.x). The new key gets new dates shifted by the offset, and the two
/// > keys are linked (Replaced / Replacement Object).
///
/// KMIP 1.4 §4.4, KMIP 2.1 §6.1.43
public struct ReKeyRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    /// Seconds between the new key's Initial Date and its Activation Date.
    public var offset: UInt32?
    public var templateAttribute: TemplateAttribute?
    public var protectionStorageMasks: TTLVItem?

    public init(uniqueIdentifier: UniqueIdentifier?, offset: UInt32? = nil, attributes: [Attribute]? = nil) {
        self.uniqueIdentifier = uniqueIdentifier
        self.offset = offset
        self.templateAttribute = attributes.map { TemplateAttribute(attributes: $0) }
        self.protectionStorageMasks = nil
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.offset = try reader.interval(.offset)
        self.templateAttribute = try reader.templateAttribute()
        self.protectionStorageMasks = try reader.item(.protectionStorageMasks)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.write(.offset, interval: self.offset)
        self.templateAttribute?.encode(to: &encoder)
        encoder.write(self.protectionStorageMasks)
    }
}

/// Re-key response: the new key's identifier, and in 1.x implicitly set attributes.
///
/// KMIP 1.4 §4.4, KMIP 2.1 §6.1.43
public struct ReKeyResponse: Hashable, Sendable {
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
