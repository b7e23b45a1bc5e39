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

/// The attributes a client supplies with Create, Register, Re-key and similar operations.
///
/// In KMIP 1.x this is a Template-Attribute {Name*, Attribute*}, the names referring to Template
/// objects (deprecated in 1.3). In KMIP 2.x it is an Attributes structure whose children are the
/// attributes themselves, by tag. The encoder's protocol version picks the form.
///
/// KMIP 1.4 §2.1.8, KMIP 2.1 §2.1.1
public struct TemplateAttribute: Hashable, Sendable {
    /// 1.x template names (Name structures); always empty in 2.x.
    public var templateNames: [TTLVItem]
    public var attributes: [Attribute]

    public init(templateNames: [TTLVItem] = [], attributes: [Attribute]) {
        self.templateNames = templateNames
        self.attributes = attributes
    }

    /// Encodes under `v1Tag` (Template-Attribute, Common Template-Attribute, ...) in 1.x, or
    /// `v2Tag` (Attributes, Common Attributes, ...) in 2.x.
    public func encode(to encoder: inout KMIPEncoder, v1Tag: TTLVTag = .templateAttribute, v2Tag: TTLVTag = .attributes) {
        if encoder.version.usesTaggedAttributes {
            encoder.writeTagged(v2Tag, self.attributes)
        } else {
            encoder.writeStructure(v1Tag) { e in
                e.write(self.templateNames)
                e.write(.attribute, all: self.attributes)
            }
        }
    }
}

extension KMIPStructureReader {
    /// Reads a 1.x Template-Attribute (under `v1Tag`) or a 2.x Attributes (under `v2Tag`),
    /// whichever is present; `nil` when neither is.
    public mutating func templateAttribute(
        v1Tag: TTLVTag = .templateAttribute,
        v2Tag: TTLVTag = .attributes
    ) throws(TTLVError) -> TemplateAttribute? {
        if let index = try self.takeSingle(v1Tag) {
            var inner = try self.reader(at: index)
            let names = try inner.items(.name)
            let attributes = try inner.namedAttributes()
            try inner.finish()
            return TemplateAttribute(templateNames: names, attributes: attributes)
        }
        if let attributes = try self.taggedAttributes(v2Tag) {
            return TemplateAttribute(attributes: attributes)
        }
        return nil
    }
}
