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

/// Which attribute: a standard one (by its tag) or a vendor/custom one (by vendor and name).
///
/// KMIP 1.x names attributes by text ("Cryptographic Algorithm", "x-Vendor"); KMIP 2.x by tag, with
/// vendor attributes named by Vendor Identification and Attribute Name. Keystorm keeps one model
/// and maps 1.x custom names `x-Name`/`y-Name` to vendor `x`/`y` (KMIP 2.1 §4.60).
public enum AttributeName: Hashable, Sendable, CustomStringConvertible {
    /// A standard attribute, named by its tag.
    case standard(TTLVTag)
    /// A vendor (2.x) or custom (1.x, vendor `x` or `y`) attribute.
    case vendor(identification: String, name: String)
    /// A 1.x attribute name that is neither standard nor `x-`/`y-` custom, kept verbatim.
    case unrecognized(String)

    /// Maps a 1.x attribute name.
    public init(v1Name name: String) {
        if let tag = KMIPAttributeTags.tag(v1Name: name) {
            self = .standard(tag)
        } else if name.hasPrefix("x-") || name.hasPrefix("y-") {
            self = .vendor(identification: String(name.prefix(1)), name: String(name.dropFirst(2)))
        } else {
            self = .unrecognized(name)
        }
    }

    /// Maps a 2.x {Vendor Identification, Attribute Name} pair (an Attribute Reference, or a
    /// vendor Attribute). An empty Vendor Identification names a standard attribute by its
    /// specification name (KMIP 2.0 Attribute Reference; PyKMIP names `Name` this way); an
    /// unknown name stays unrecognized.
    public init(vendorIdentification vendor: String, name: String) {
        guard vendor.isEmpty else {
            self = .vendor(identification: vendor, name: name)
            return
        }
        if let tag = KMIPAttributeTags.tag(v1Name: name) ?? KMIPTags.tag(named: name),
            KMIPAttributeTags.isAttribute(tag)
        {
            self = .standard(tag)
        } else {
            self = AttributeName(v1Name: name)
        }
    }

    /// The 1.x text form: the specification's attribute name, or `x-Name` for a custom attribute.
    public var v1Name: String {
        switch self {
        case .standard(let tag): KMIPAttributeTags.v1Name(of: tag) ?? KMIPTags.specName(of: tag) ?? "\(tag)"
        case .vendor(let identification, let name): identification + "-" + name
        case .unrecognized(let name): name
        }
    }

    public var description: String { self.v1Name }

    /// Whether a client may set it: client custom attributes use `x-`; `y-` belongs to the server
    /// (KMIP 1.4 §3.39).
    public var isServerOnlyCustom: Bool {
        if case .vendor(let id, _) = self { return id == "y" }
        if case .unrecognized(let name) = self { return name.hasPrefix("y-") }
        return false
    }
}

/// One attribute of a managed object: its name, the 1.x index, and its value.
///
/// The value is kept as a TTLV value (for a structured attribute such as Name, a structure whose
/// children are Name Value and Name Type), so every attribute, known or not, round-trips.
///
/// KMIP 1.4 §2.1.1 (Attribute), KMIP 2.1 §2.1.1
public struct Attribute: Hashable, Sendable {
    public var name: AttributeName
    /// KMIP 1.x Attribute Index; absent means 0.
    public var index: Int32?
    public var value: TTLVValue

    public init(_ name: AttributeName, index: Int32? = nil, _ value: TTLVValue) {
        self.name = name
        self.index = index
        self.value = value
    }

    /// A standard attribute.
    public init(_ tag: TTLVTag, _ value: TTLVValue) {
        self.init(.standard(tag), value)
    }

    /// A 1.x custom attribute such as `x-Vendor`, which is 2.x vendor `x` attribute `Vendor`.
    public static func custom(_ name: String, _ value: TTLVValue) -> Attribute {
        Attribute(AttributeName(v1Name: name), value)
    }
}

// MARK: - KMIP 1.x: Attribute { Attribute Name, Attribute Index, Attribute Value }

extension Attribute: KMIPStructure {
    public static let tag = TTLVTag.attribute

    /// Reads a 1.x named Attribute, or a 2.x vendor Attribute {Vendor Identification, Attribute Name,
    /// Attribute Value}, depending on the fields present.
    public init(from reader: inout KMIPStructureReader) throws(TTLVError) {
        if let vendor = try reader.textString(.vendorIdentification) {
            let name = try reader.required(try reader.textString(.attributeName), .attributeName)
            self.name = AttributeName(vendorIdentification: vendor, name: name)
            self.index = nil
        } else {
            let name = try reader.required(try reader.textString(.attributeName), .attributeName)
            self.name = AttributeName(v1Name: name)
            self.index = try reader.integer(.attributeIndex)
        }
        let valueIndex = try reader.require(.attributeValue)
        self.value = try TTLVItem(document: reader.document, index: valueIndex).value
    }

    /// Writes the 1.x form, or for a vendor attribute in 2.x the vendor form.
    public func encodeFields(to encoder: inout KMIPEncoder) {
        if encoder.version.usesTaggedAttributes, case .vendor(let vendor, let name) = self.name {
            encoder.write(.vendorIdentification, text: vendor)
            encoder.write(.attributeName, text: name)
        } else {
            encoder.write(.attributeName, text: self.name.v1Name)
            encoder.write(.attributeIndex, integer: self.index)
        }
        encoder.write(TTLVItem(.attributeValue, self.value))
    }
}

// MARK: - KMIP 2.x: attributes as tagged items inside Attributes

extension Attribute {
    /// Reads one child of a 2.x Attributes structure: a tagged standard attribute or a vendor Attribute.
    public init(taggedItemAt index: Int, reader: KMIPStructureReader) throws(TTLVError) {
        let node = reader.document.nodes[index]
        if node.tag == .attribute {
            self = try reader.decode(Attribute.self, at: index)
        } else {
            self.init(.standard(node.tag), try TTLVItem(document: reader.document, index: index).value)
        }
    }

    /// The 2.x item: the value under the attribute's own tag, or a vendor Attribute structure.
    public func encodeTagged(to encoder: inout KMIPEncoder) {
        switch self.name {
        case .standard(let tag):
            encoder.write(TTLVItem(tag, self.value))
        case .vendor, .unrecognized:
            encoder.writeStructure(.attribute) { e in
                if case .vendor(let vendor, let name) = self.name {
                    e.write(.vendorIdentification, text: vendor)
                    e.write(.attributeName, text: name)
                } else {
                    e.write(.vendorIdentification, text: "")
                    e.write(.attributeName, text: self.name.v1Name)
                }
                e.write(TTLVItem(.attributeValue, self.value))
            }
        }
    }
}

extension KMIPStructureReader {
    /// Reads every 1.x Attribute structure with `tag` (normally Attribute).
    public mutating func namedAttributes(_ tag: TTLVTag = .attribute) throws(TTLVError) -> [Attribute] {
        try self.decodeAll(tag, as: Attribute.self)
    }

    /// Reads a 2.x Attributes-like structure (`tag`: Attributes, New Attribute, ...) whose children are
    /// tagged attributes; `nil` when absent.
    public mutating func taggedAttributes(_ tag: TTLVTag) throws(TTLVError) -> [Attribute]? {
        guard let index = try self.takeSingle(tag) else { return nil }
        let inner = try self.reader(at: index)
        var attributes: [Attribute] = []
        for child in self.document.children(of: index) {
            attributes.append(try Attribute(taggedItemAt: child, reader: inner))
        }
        return attributes
    }
}

extension KMIPEncoder {
    /// Writes a 2.x Attributes-like structure.
    public mutating func writeTagged(_ tag: TTLVTag, _ attributes: [Attribute]) {
        self.writeStructure(tag) { e in
            for attribute in attributes { attribute.encodeTagged(to: &e) }
        }
    }
}
