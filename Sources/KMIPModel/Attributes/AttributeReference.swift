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

extension KMIPStructureReader {
    /// Reads the attribute names of Get Attributes and Get Attribute List: 1.x Attribute Name
    /// Text Strings, or 2.x Attribute Reference items (an Enumeration holding the attribute's tag,
    /// or a structure {Vendor Identification, Attribute Name}).
    ///
    /// KMIP 1.4 §4.12, KMIP 2.1 §6.1.20 and §7.4 (Attribute Reference)
    public mutating func attributeReferences() throws(TTLVError) -> [AttributeName] {
        var names: [AttributeName] = []
        for index in self.takeAll(.attributeName) {
            names.append(AttributeName(v1Name: try self.document.textString(index)))
        }
        for index in self.takeAll(.attributeReference) {
            names.append(try self.attributeReference(at: index))
        }
        return names
    }

    /// Reads one 2.x Attribute Reference: a standard attribute by tag, or by name with an empty
    /// Vendor Identification; otherwise a vendor attribute.
    public func attributeReference(at index: Int) throws(TTLVError) -> AttributeName {
        let node = self.document.nodes[index]
        switch node.type {
        case .enumeration:
            return .standard(TTLVTag(try self.document.enumeration(index)))
        case .structure:
            var inner = try self.reader(at: index)
            let vendor = try inner.required(try inner.textString(.vendorIdentification), .vendorIdentification)
            let name = try inner.required(try inner.textString(.attributeName), .attributeName)
            try inner.finish()
            return AttributeName(vendorIdentification: vendor, name: name)
        default:
            throw TTLVError(
                .unexpectedType,
                offset: node.offset,
                tag: node.tag,
                reason: "an Attribute Reference is an Enumeration or a structure"
            )
        }
    }
}

extension KMIPEncoder {
    /// Writes attribute names in the encoder's version: 1.x Attribute Name or 2.x Attribute Reference.
    public mutating func writeAttributeReferences(_ names: [AttributeName]) {
        for name in names { self.writeAttributeReference(name) }
    }

    /// Writes one attribute name in the encoder's version.
    public mutating func writeAttributeReference(_ name: AttributeName, v2Tag: TTLVTag = .attributeReference) {
        guard self.version.usesTaggedAttributes else {
            self.write(.attributeName, text: name.v1Name)
            return
        }
        switch name {
        case .standard(let tag):
            self.serializer.writeEnumeration(v2Tag, tag.rawValue)
        case .vendor(let vendor, let attributeName):
            self.writeStructure(v2Tag) { e in
                e.write(.vendorIdentification, text: vendor)
                e.write(.attributeName, text: attributeName)
            }
        case .unrecognized(let text):
            self.writeStructure(v2Tag) { e in
                e.write(.vendorIdentification, text: "")
                e.write(.attributeName, text: text)
            }
        }
    }
}

extension KMIPStructureReader {
    /// Reads a single 2.x wrapped attribute (New Attribute, Current Attribute): a structure holding
    /// one tagged attribute.
    public mutating func wrappedAttribute(_ tag: TTLVTag) throws(TTLVError) -> Attribute? {
        guard let attributes = try self.taggedAttributes(tag) else { return nil }
        guard attributes.count == 1 else {
            throw TTLVError(.invalidValue, offset: -1, tag: tag, reason: "\(tag) must hold exactly one attribute")
        }
        return attributes[0]
    }

    /// Reads the attribute of Add/Modify Attribute: 1.x Attribute, or 2.x New Attribute.
    public mutating func singleAttribute(v2Tag: TTLVTag = .newAttribute) throws(TTLVError) -> Attribute? {
        if let index = try self.takeSingle(.attribute) {
            return try self.decode(Attribute.self, at: index)
        }
        return try self.wrappedAttribute(v2Tag)
    }
}

extension KMIPEncoder {
    /// Writes one attribute as 1.x Attribute, or in 2.x wrapped under `v2Tag` (New Attribute, ...).
    public mutating func writeSingleAttribute(_ attribute: Attribute, v2Tag: TTLVTag = .newAttribute) {
        if self.version.usesTaggedAttributes {
            self.writeTagged(v2Tag, [attribute])
        } else {
            self.write(.attribute, attribute)
        }
    }
}
