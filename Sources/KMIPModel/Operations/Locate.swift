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

/// Locate request: find objects whose attributes match.
///
/// > Maximum Items, Offset Items (1.3+), Storage Status Mask, Object Group Member (1.1+),
/// > Attribute* (1.x) / Attributes (2.x). "The server returns ... the Unique Identifiers of the
/// > objects that match all of the attributes in the request."
///
/// KMIP 1.4 §4.9, KMIP 2.1 §6.1.27
public struct LocateRequest: Hashable, Sendable {
    public var maximumItems: Int32?
    public var offsetItems: Int32?
    public var storageStatusMask: StorageStatusMask?
    public var objectGroupMember: ObjectGroupMemberOption?
    public var attributes: [Attribute]
    private var hasAttributesStructure: Bool

    public init(
        maximumItems: Int32? = nil,
        offsetItems: Int32? = nil,
        storageStatusMask: StorageStatusMask? = nil,
        objectGroupMember: ObjectGroupMemberOption? = nil,
        attributes: [Attribute]
    ) {
        self.maximumItems = maximumItems
        self.offsetItems = offsetItems
        self.storageStatusMask = storageStatusMask
        self.objectGroupMember = objectGroupMember
        self.attributes = attributes
        self.hasAttributesStructure = true
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.maximumItems = try reader.integer(.maximumItems)
        self.offsetItems = try reader.integer(.offsetItems)
        self.storageStatusMask = try reader.integer(.storageStatusMask).map { StorageStatusMask(rawValue: $0) }
        self.objectGroupMember = try reader.enumeration(.objectGroupMember)
        if let tagged = try reader.taggedAttributes(.attributes) {
            self.attributes = tagged
            self.hasAttributesStructure = true
        } else {
            self.attributes = try reader.namedAttributes()
            self.hasAttributesStructure = false
        }
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.maximumItems, integer: self.maximumItems)
        encoder.write(.offsetItems, integer: self.offsetItems)
        encoder.write(.storageStatusMask, integer: self.storageStatusMask?.rawValue)
        encoder.write(.objectGroupMember, self.objectGroupMember)
        if encoder.version.usesTaggedAttributes {
            if self.hasAttributesStructure || !self.attributes.isEmpty { encoder.writeTagged(.attributes, self.attributes) }
        } else {
            encoder.write(.attribute, all: self.attributes)
        }
    }
}

/// Locate response: how many objects matched (1.3+) and the identifiers returned.
///
/// KMIP 1.4 §4.9, KMIP 2.1 §6.1.27
public struct LocateResponse: Hashable, Sendable {
    public var locatedItems: Int32?
    public var uniqueIdentifiers: [UniqueIdentifier]

    public init(locatedItems: Int32? = nil, uniqueIdentifiers: [UniqueIdentifier]) {
        self.locatedItems = locatedItems
        self.uniqueIdentifiers = uniqueIdentifiers
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.locatedItems = try reader.integer(.locatedItems)
        self.uniqueIdentifiers = try reader.uniqueIdentifiers()
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.locatedItems, integer: self.locatedItems)
        for identifier in self.uniqueIdentifiers { encoder.write(.uniqueIdentifier, identifier) }
    }
}
