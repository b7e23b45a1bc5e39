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

#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of a parsed XML document: name, attributes and child elements.
///
/// Character data is dropped: the KMIP XML profile carries every value in a `value` attribute.
struct XMLElementNode: Sendable {
    var name: String
    var attributes: [String: String]
    var children: [XMLElementNode]
    /// The line of the element's start tag.
    var line: Int
}

enum XMLElementTree {
    /// Parses a document into its root element.
    ///
    /// Lines holding only a `# TIME n` marker (the OVH test-case files put them between messages)
    /// are blanked first, so line numbers stay those of the file.
    static func parse(_ bytes: [UInt8]) throws(KMIPXMLError) -> XMLElementNode {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KMIPXMLError(.malformedXML, line: 0, reason: "the document is not valid UTF-8")
        }
        let cleaned = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            Self.isTimeMarker(line) ? Substring("") : line
        }.joined(separator: "\n")

        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(cleaned.utf8))
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = builder.failure { throw failure }
        guard ok, let root = builder.root else {
            let reason = parser.parserError.map { "\($0)" } ?? "no root element"
            throw KMIPXMLError(.malformedXML, line: parser.lineNumber, reason: reason)
        }
        return root
    }

    private static func isTimeMarker(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("# TIME") else { return false }
        let rest = trimmed.dropFirst("# TIME".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return !rest.isEmpty && rest.allSatisfy(\.isNumber)
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLElementNode] = []
    var root: XMLElementNode?
    var failure: KMIPXMLError?

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        if self.root != nil {
            self.failure = KMIPXMLError(
                .malformedXML,
                line: parser.lineNumber,
                reason: "a second root element <\(elementName)>"
            )
            parser.abortParsing()
            return
        }
        self.stack.append(
            XMLElementNode(name: elementName, attributes: attributeDict, children: [], line: parser.lineNumber)
        )
    }

    func parser(
        _ parser: XMLParser,
        didEndElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard let node = self.stack.popLast() else { return }
        if self.stack.isEmpty {
            self.root = node
        } else {
            self.stack[self.stack.count - 1].children.append(node)
        }
    }
}
