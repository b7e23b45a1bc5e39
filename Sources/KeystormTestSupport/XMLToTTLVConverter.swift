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

import KMIPCodec
import KMIPModel

/// Converts one message element into a TTLV item, recording its placeholders.
struct XMLToTTLVConverter {
    let substitutions: KMIPXMLSubstitutions
    private(set) var placeholders: [KMIPXMLPlaceholder] = []

    init(substitutions: KMIPXMLSubstitutions) {
        self.substitutions = substitutions
    }

    /// Converts an element and its subtree.
    ///
    /// - Parameters:
    ///   - element: The element.
    ///   - path: The path of the element's parent below the message root.
    ///   - attributeName: For an `AttributeValue`, the value of its sibling `AttributeName`,
    ///     which says which enumeration or mask names its value.
    mutating func convert(
        _ element: XMLElementNode,
        path: [KMIPXMLPathComponent],
        attributeName: String?
    ) throws(KMIPXMLError) -> TTLVItem {
        let tag = try Self.tag(of: element)
        let type = try Self.type(of: element)
        guard type != .structure else {
            if let value = element.attributes["value"], !value.isEmpty {
                throw KMIPXMLError(
                    .invalidValue,
                    line: element.line,
                    reason: "<\(element.name)> is a Structure with a value"
                )
            }
            return TTLVItem(tag, .structure(try self.children(of: element, path: path)))
        }
        guard element.children.isEmpty else {
            throw KMIPXMLError(
                .unexpectedElement,
                line: element.line,
                reason: "<\(element.name)> of type \(type.xmlName) has child elements"
            )
        }
        guard let raw = element.attributes["value"] else {
            throw KMIPXMLError(.invalidValue, line: element.line, reason: "<\(element.name)> has no value attribute")
        }
        let text = XMLValueReader.collapsingWhitespace(raw)
        if text.hasPrefix("$") {
            return TTLVItem(tag, try self.placeholder(text, type: type, at: path, element: element))
        }
        // The enumeration or mask that names the value: the element's own tag, or for an
        // AttributeValue the attribute its AttributeName names.
        var context = tag
        if tag == .attributeValue, let attributeName {
            guard let attributeTag = KMIPTags.tag(named: XMLValueReader.collapsingWhitespace(attributeName)) else {
                if (type == .enumeration && !text.hasPrefix("0x"))
                    || (type == .integer && !XMLValueReader.isNumeric(text))
                {
                    throw KMIPXMLError(
                        .unresolvedName,
                        line: element.line,
                        reason: "no KMIP attribute named '\(attributeName)' names the value '\(text)'"
                    )
                }
                return TTLVItem(tag, try XMLValueReader.value(text, type: type, context: tag, line: element.line))
            }
            context = attributeTag
        }
        return TTLVItem(tag, try XMLValueReader.value(text, type: type, context: context, line: element.line))
    }

    private mutating func children(
        of element: XMLElementNode,
        path: [KMIPXMLPathComponent]
    ) throws(KMIPXMLError) -> [TTLVItem] {
        var items: [TTLVItem] = []
        var occurrences: [TTLVTag: Int] = [:]
        var attributeName: String?
        for child in element.children {
            let tag = try Self.tag(of: child)
            let occurrence = occurrences[tag, default: 0]
            occurrences[tag] = occurrence + 1
            let childPath = path + [KMIPXMLPathComponent(tag: tag, occurrence: occurrence)]
            let item = try self.convert(child, path: childPath, attributeName: attributeName)
            if tag == .attributeName, case .textString(let name) = item.value {
                attributeName = name
            }
            items.append(item)
        }
        return items
    }

    private mutating func placeholder(
        _ text: String,
        type: TTLVType,
        at path: [KMIPXMLPathComponent],
        element: XMLElementNode
    ) throws(KMIPXMLError) -> TTLVValue {
        guard let (name, offset) = XMLValueReader.placeholder(text) else {
            throw KMIPXMLError(.invalidValue, line: element.line, reason: "malformed placeholder '\(text)'")
        }
        let value: TTLVValue
        let substituted: Bool
        if name == "$NOW" {
            let now = self.substitutions.now ?? KMIPXMLSubstitutions.referenceNow
            switch type {
            case .dateTime: value = .dateTime(now &+ offset)
            case .dateTimeExtended: value = .dateTimeExtended((now &+ offset) &* 1_000_000)
            default:
                throw KMIPXMLError(.invalidValue, line: element.line, reason: "\(text) in a \(type.xmlName)")
            }
            substituted = self.substitutions.now != nil
        } else {
            guard offset == 0 else {
                throw KMIPXMLError(.invalidValue, line: element.line, reason: "only $NOW takes an offset: '\(text)'")
            }
            if let supplied = self.substitutions.values[name] {
                guard supplied.type == type else {
                    throw KMIPXMLError(
                        .substitutionTypeMismatch,
                        line: element.line,
                        reason: "\(name) is a \(supplied.type.xmlName), <\(element.name)> a \(type.xmlName)"
                    )
                }
                value = supplied
                substituted = true
            } else {
                value = Self.standIn(for: name, type: type)
                substituted = false
            }
        }
        self.placeholders.append(
            KMIPXMLPlaceholder(name: name, offset: offset, path: path, type: type, wasSubstituted: substituted)
        )
        return value
    }

    /// A deterministic value of the right type for a placeholder nobody supplied: the
    /// placeholder's own text for strings, zero for numbers.
    static func standIn(for name: String, type: TTLVType) -> TTLVValue {
        switch type {
        case .textString: .textString(name)
        case .byteString: .byteString(Array(name.utf8))
        case .structure: .structure([])
        case .integer: .integer(0)
        case .longInteger: .longInteger(0)
        case .bigInteger: .bigInteger([UInt8](repeating: 0, count: 8))
        case .enumeration: .enumeration(0)
        case .boolean: .boolean(false)
        case .dateTime: .dateTime(KMIPXMLSubstitutions.referenceNow)
        case .interval: .interval(0)
        case .dateTimeExtended: .dateTimeExtended(KMIPXMLSubstitutions.referenceNow * 1_000_000)
        }
    }

    static func tag(of element: XMLElementNode) throws(KMIPXMLError) -> TTLVTag {
        // <TTLV tag="0x540001" type="..." value="..."/> carries tags that have no XML name.
        if element.name == "TTLV" {
            guard let hex = element.attributes["tag"], let tag = XMLValueReader.hexTag(hex) else {
                throw KMIPXMLError(.unknownTag, line: element.line, reason: "<TTLV> without a valid tag attribute")
            }
            return tag
        }
        if let tag = KMIPTags.tag(named: element.name) { return tag }
        if let tag = XMLValueReader.hexTag(element.name) { return tag }
        throw KMIPXMLError(.unknownTag, line: element.line, reason: "<\(element.name)> is not a KMIP tag")
    }

    static func type(of element: XMLElementNode) throws(KMIPXMLError) -> TTLVType {
        guard let name = element.attributes["type"] else {
            // The profile omits type="Structure"; an element without children or value is an
            // empty structure, e.g. <RequestPayload/>.
            guard element.children.isEmpty, element.attributes["value"] != nil else { return .structure }
            throw KMIPXMLError(.unknownType, line: element.line, reason: "<\(element.name)> has a value but no type")
        }
        guard let type = TTLVType(xmlName: name) else {
            throw KMIPXMLError(.unknownType, line: element.line, reason: "<\(element.name)> has unknown type '\(name)'")
        }
        return type
    }
}
