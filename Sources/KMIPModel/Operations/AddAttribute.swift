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

/// Add Attribute request: add a new attribute (or a new instance of a multi-valued one).
///
/// > Unique Identifier, Attribute (1.x; "the Attribute Index SHALL NOT be specified") /
/// > New Attribute (2.x). "Multiple Add Attribute requests MAY be included in a single batched
/// > request" — vCenter sends its `x-` attributes that way.
///
/// KMIP 1.4 §4.14, KMIP 2.1 §6.1.2
public struct AddAttributeRequest: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var attribute: Attribute

    public init(uniqueIdentifier: UniqueIdentifier?, attribute: Attribute) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attribute = attribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.attribute = try reader.required(try reader.singleAttribute(), .attribute)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        encoder.writeSingleAttribute(self.attribute)
    }
}

/// Add Attribute response: the identifier, and in 1.x the attribute as added (with its index).
///
/// KMIP 1.4 §4.14, KMIP 2.1 §6.1.2
public struct AddAttributeResponse: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier
    /// 1.x only; not written in 2.x.
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
