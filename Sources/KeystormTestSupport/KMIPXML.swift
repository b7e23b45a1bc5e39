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

import Foundation
public import KMIPCodec
import KMIPModel

/// Converts KMIP XML profile test cases (the OASIS `<KMIP>` files, the extracted v1.0
/// `<KmipTestCase>` files and the OVH `# TIME n` files) into TTLV item trees.
///
/// This is test support: it uses Foundation's `XMLParser` and is never linked into the server.
/// Every element is converted strictly: an unknown tag, type or enumeration name throws a
/// ``KMIPXMLError`` rather than falling back to a guess.
///
/// KMIP Profiles 1.4 §6 (XML Profile), KMIP Additional Message Encodings 1.0 §4
public enum KMIPXML {}

@available(*, unavailable)
extension KMIPXML: Sendable {}

extension KMIPXML {
    /// Converts every request and response message of a test case, in document order.
    ///
    /// The root may be `<KMIP>`, `<KmipTestCase>`, or a single `<RequestMessage>` or
    /// `<ResponseMessage>`.
    ///
    /// - Parameters:
    ///   - bytes: The XML document.
    ///   - substitutions: Values for `$UNIQUE_IDENTIFIER_n`, `$NOW` and the other placeholders;
    ///     placeholders without a value get a deterministic stand-in of the element's type.
    /// - Returns: The messages, each with its item tree and the placeholders it contains.
    /// - Throws: ``KMIPXMLError`` for malformed XML or any element that does not convert.
    public static func parseTestCase(
        _ bytes: [UInt8],
        substitutions: KMIPXMLSubstitutions = KMIPXMLSubstitutions()
    ) throws(KMIPXMLError) -> [KMIPXMLMessage] {
        let root = try XMLElementTree.parse(bytes)
        let messageElements: [XMLElementNode]
        switch root.name {
        case "KMIP", "KmipTestCase": messageElements = root.children
        case "RequestMessage", "ResponseMessage": messageElements = [root]
        default:
            throw KMIPXMLError(.unexpectedElement, line: root.line, reason: "unknown root element <\(root.name)>")
        }
        var messages: [KMIPXMLMessage] = []
        for element in messageElements {
            let kind: KMIPXMLMessage.Kind
            switch element.name {
            case "RequestMessage": kind = .request
            case "ResponseMessage": kind = .response
            default:
                throw KMIPXMLError(
                    .unexpectedElement,
                    line: element.line,
                    reason: "<\(element.name)> where a RequestMessage or ResponseMessage was expected"
                )
            }
            var converter = XMLToTTLVConverter(substitutions: substitutions)
            let item = try converter.convert(element, path: [], attributeName: nil)
            messages.append(
                KMIPXMLMessage(kind: kind, item: item, placeholders: converter.placeholders, line: element.line)
            )
        }
        return messages
    }

    /// Reads and converts a test-case file; see ``parseTestCase(_:substitutions:)``.
    public static func parseTestCase(
        contentsOf path: String,
        substitutions: KMIPXMLSubstitutions = KMIPXMLSubstitutions()
    ) throws(KMIPXMLError) -> [KMIPXMLMessage] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KMIPXMLError(.malformedXML, line: 0, reason: "cannot read \(path)")
        }
        return try Self.parseTestCase([UInt8](data), substitutions: substitutions)
    }
}

/// One request or response of a test case.
public struct KMIPXMLMessage: Hashable, Sendable {
    /// Whether a message is sent by the client or the server.
    public enum Kind: Hashable, Sendable {
        case request
        case response
    }

    public var kind: Kind
    /// The message as a TTLV item tree, placeholders substituted.
    public var item: TTLVItem
    /// Every placeholder found in the message, in document order.
    public var placeholders: [KMIPXMLPlaceholder]
    /// The line of the message's start tag in the XML file.
    public var line: Int

    public init(kind: Kind, item: TTLVItem, placeholders: [KMIPXMLPlaceholder], line: Int) {
        self.kind = kind
        self.item = item
        self.placeholders = placeholders
        self.line = line
    }

    /// The values an actual message holds where this (expected) message has placeholders.
    ///
    /// A conformance runner calls this on each expected response with the server's response, and
    /// feeds the result into the ``KMIPXMLSubstitutions`` of the following requests, e.g. the
    /// `$UNIQUE_IDENTIFIER_0` a Create returned. Time placeholders (`$NOW...`) are not captured.
    ///
    /// - Parameter actual: The message actually received.
    /// - Returns: Placeholder name to value, for every placeholder found at the same path.
    public func capturedValues(from actual: TTLVItem) -> [String: TTLVValue] {
        var captured: [String: TTLVValue] = [:]
        for placeholder in self.placeholders where !placeholder.isTime {
            if let item = actual.item(at: placeholder.path), captured[placeholder.name] == nil {
                captured[placeholder.name] = item.value
            }
        }
        return captured
    }
}

/// One step of a path from a message's root: the n-th child with a tag.
public struct KMIPXMLPathComponent: Hashable, Sendable, CustomStringConvertible {
    public var tag: TTLVTag
    /// The index among the siblings with the same tag, from 0.
    public var occurrence: Int

    public init(tag: TTLVTag, occurrence: Int) {
        self.tag = tag
        self.occurrence = occurrence
    }

    public var description: String {
        let name = KMIPTags.xmlName(of: self.tag) ?? self.tag.description
        return self.occurrence == 0 ? name : "\(name)[\(self.occurrence)]"
    }
}

/// A placeholder such as `$UNIQUE_IDENTIFIER_0` or `$NOW-3600` found in a test case.
public struct KMIPXMLPlaceholder: Hashable, Sendable, CustomStringConvertible {
    /// The placeholder without any time offset, e.g. `"$NOW"` or `"$UNIQUE_IDENTIFIER_0"`.
    public var name: String
    /// The offset in seconds of a `$NOW+n` / `$NOW-n` placeholder, otherwise 0.
    public var offset: Int64
    /// Where the item is, below the message's root item.
    public var path: [KMIPXMLPathComponent]
    /// The type of the item.
    public var type: TTLVType
    /// Whether the caller supplied the value (otherwise a stand-in was used).
    public var wasSubstituted: Bool

    public init(name: String, offset: Int64, path: [KMIPXMLPathComponent], type: TTLVType, wasSubstituted: Bool) {
        self.name = name
        self.offset = offset
        self.path = path
        self.type = type
        self.wasSubstituted = wasSubstituted
    }

    /// Whether this is a `$NOW` placeholder, whose value is the current time plus ``offset``.
    public var isTime: Bool { self.name == "$NOW" }

    public var description: String {
        let text = self.offset == 0 ? self.name : self.name + (self.offset > 0 ? "+" : "") + String(self.offset)
        return text + " at " + self.path.map(\.description).joined(separator: "/")
    }
}

/// Values for the placeholders of a test case.
public struct KMIPXMLSubstitutions: Hashable, Sendable {
    /// The fixed time used for `$NOW` when the caller gives none: 2026-01-01T00:00:00Z.
    public static let referenceNow: Int64 = 1_767_225_600

    /// Placeholder name (`"$UNIQUE_IDENTIFIER_0"`) to value; the value's type must be the
    /// element's type.
    public var values: [String: TTLVValue]
    /// POSIX seconds for `$NOW`, or `nil` to use ``referenceNow``.
    public var now: Int64?

    public init(values: [String: TTLVValue] = [:], now: Int64? = nil) {
        self.values = values
        self.now = now
    }

    /// Adds captured values (see ``KMIPXMLMessage/capturedValues(from:)``), keeping earlier ones.
    public mutating func merge(_ captured: [String: TTLVValue]) {
        self.values.merge(captured) { old, _ in old }
    }
}

extension TTLVItem {
    /// The descendant at a path of (tag, occurrence) steps, or `nil`.
    public func item(at path: [KMIPXMLPathComponent]) -> TTLVItem? {
        var current = self
        for step in path {
            var seen = 0
            var next: TTLVItem?
            for child in current.children where child.tag == step.tag {
                if seen == step.occurrence {
                    next = child
                    break
                }
                seen += 1
            }
            guard let found = next else { return nil }
            current = found
        }
        return current
    }
}
