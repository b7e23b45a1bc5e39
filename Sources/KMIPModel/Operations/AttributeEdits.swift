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

// The attribute edits: Add, Modify, Delete and Set Attribute. Add and Set Attribute's requests are
// one type, ``AttributeRequest``; the responses of the first three are one type,
// ``AttributeEditResponse``, and Set Attribute's is a ``UniqueIdentifierResponse``.

/// Add Attribute request: add a new attribute (or a new instance of a multi-valued one).
///
/// > Unique Identifier, Attribute (1.x; "the Attribute Index SHALL NOT be specified") /
/// > New Attribute (2.x). "Multiple Add Attribute requests MAY be included in a single batched
/// > request" — vCenter sends its `x-` attributes that way.
///
/// KMIP 1.4 §4.14, KMIP 2.1 §6.1.2
public typealias AddAttributeRequest = AttributeRequest<AddAttributeOperation>

/// Add Attribute response: the identifier, and in 1.x the attribute as added (with its index).
///
/// KMIP 1.4 §4.14, KMIP 2.1 §6.1.2
public typealias AddAttributeResponse = AttributeEditResponse<AddAttributeOperation>

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
public typealias ModifyAttributeResponse = AttributeEditResponse<ModifyAttributeOperation>

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
            throw TTLVError(
                .missingField,
                offset: -1,
                tag: .attributeName,
                reason: "Delete Attribute names no attribute"
            )
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
public typealias DeleteAttributeResponse = AttributeEditResponse<DeleteAttributeOperation>

/// Set Attribute request (2.x): set a single-valued attribute, adding it or replacing its value.
///
/// > Unique Identifier, New Attribute.
///
/// KMIP 2.1 §6.1.51
public typealias SetAttributeRequest = AttributeRequest<SetAttributeOperation>

/// Set Attribute response: the identifier.
///
/// KMIP 2.1 §6.1.51
public typealias SetAttributeResponse = UniqueIdentifierResponse<SetAttributeOperation>

/// The request payload of Add and Set Attribute: the object and the one attribute to add or set.
///
/// The two differ only in the attribute's tag in 1.x: Add Attribute writes an Attribute, Set
/// Attribute (a 2.x operation) always a New Attribute; 2.x wraps both in New Attribute. `Kind`
/// names the operation and gives that tag (``AttributeRequestKind/v1AttributeTag``); it is not
/// stored.
///
/// KMIP 1.4 §4.14; KMIP 2.1 §6.1.2, §6.1.51
public struct AttributeRequest<Kind: AttributeRequestKind>: Hashable, Sendable {
    public var uniqueIdentifier: UniqueIdentifier?
    public var attribute: Attribute

    public init(uniqueIdentifier: UniqueIdentifier?, attribute: Attribute) {
        self.uniqueIdentifier = uniqueIdentifier
        self.attribute = attribute
    }

    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        self.uniqueIdentifier = try reader.uniqueIdentifier()
        self.attribute = try reader.required(try reader.singleAttribute(), Kind.v1AttributeTag)
    }

    public func encodeFields(to encoder: inout KMIPEncoder) {
        encoder.write(.uniqueIdentifier, self.uniqueIdentifier)
        if encoder.version.usesTaggedAttributes || Kind.v1AttributeTag == .newAttribute {
            encoder.writeTagged(.newAttribute, [self.attribute])
        } else {
            encoder.write(.attribute, self.attribute)
        }
    }
}

/// An operation whose request is an ``AttributeRequest``.
public protocol AttributeRequestKind: KMIPOperationKind {
    /// The tag of the attribute in 1.x: Attribute or New Attribute (2.x wraps it in New Attribute).
    static var v1AttributeTag: TTLVTag { get }
    /// The request wrapped in its ``RequestPayload`` case.
    static func requestPayload(_ payload: AttributeRequest<Self>) -> RequestPayload
}

extension AttributeRequest: KMIPRequestPayload {
    public static var operation: Operation { Kind.operation }
    public var requestPayload: RequestPayload { Kind.requestPayload(self) }
}

extension AddAttributeOperation {
    /// Add Attribute's 1.x request carries an Attribute.
    public static var v1AttributeTag: TTLVTag { .attribute }
}

extension SetAttributeOperation {
    /// Set Attribute is a 2.x operation: its attribute is a New Attribute in every version.
    public static var v1AttributeTag: TTLVTag { .newAttribute }
}

/// The response payload of Add, Modify and Delete Attribute: the object's identifier and, in
/// 1.x, the attribute as added, modified or deleted (with its index). 2.x returns the identifier
/// only: the attribute is not written.
///
/// KMIP 1.4 §4.14-4.16, KMIP 2.1 §6.1.2, §6.1.36, §6.1.14
public struct AttributeEditResponse<Kind: AttributeEditResponseKind>: Hashable, Sendable {
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

/// An operation whose response is an ``AttributeEditResponse``.
public protocol AttributeEditResponseKind: KMIPOperationKind {
    /// The response wrapped in its ``ResponsePayload`` case.
    static func responsePayload(_ payload: AttributeEditResponse<Self>) -> ResponsePayload
}

extension AttributeEditResponse: KMIPResponsePayload {
    public static var operation: Operation { Kind.operation }
    public var responsePayload: ResponsePayload { Kind.responsePayload(self) }
}
