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
import KMIPCodec
import KMIPModel
import KeystormTestSupport
import Testing

/// Checks the XML converter against independent bytes: the KMIP 1.1 Test Cases 12.1, 16.1 and
/// 17.1 appear both as XML (OVH) and as hex (NLnetLabs, `derived/` in the shared vectors). Each
/// XML message must convert to exactly the bytes of the hex message at the same step, with the
/// placeholders captured from earlier responses, as a conformance runner would.
///
/// Where the two sources transcribe different editions of the document (names, a server's
/// operation list, a result reason), the step is listed with the reason and must differ, so the
/// list cannot go stale.
@Suite(
    "XML conversion matches independent TTLV hex",
    .enabled(if: Fixtures.sharedVectorsDirectory != nil, "needs ../shared/kmip-vectors")
)
struct NLnetLabsCrossCheckTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var xmlFile: String
        var hexPrefix: String
        /// Steps whose content differs between the two transcriptions, with the difference.
        var knownDifferences: [Int: String] = [:]
        var testDescription: String { self.xmlFile }
    }

    static let cases = [
        Case(xmlFile: "TC_161_11_Discover_Versions.xml", hexPrefix: "kmip_1_1_testcase_16_1_"),
        Case(
            xmlFile: "TC_121_11_Query_Maximum_Response_Size.xml",
            hexPrefix: "kmip_1_1_testcase_time_",
            knownDifferences: [
                1: "the XML response echoes the Operation, the hex one does not",
                3: "the servers list different operations and vendor names",
            ]
        ),
        Case(
            xmlFile: "TC_171_11_Handling_of_Attributes_and_Attribute_Index_Values.xml",
            hexPrefix: "kmip_1_1_testcase_17_1_",
            knownDifferences: [
                0: "names TC-171-11-name1/2 vs FirstTestName/SecondTestName",
                3: "Result Reason Invalid Message vs Invalid Field",
                9: "names TC-171-11-name1/2 vs FirstTestName/SecondTestName",
            ]
        ),
    ]

    /// The hex messages whose test function name starts with `prefix`, in file order.
    static func hexMessages(prefix: String) throws -> [[UInt8]] {
        let directory = try #require(Fixtures.sharedVectorsDirectory)
        let path = directory + "/derived/nlnetlabs-kmip10-11-13-usecase-testcase-hex.tsv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var messages: [[UInt8]] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 4, fields[2].hasPrefix(prefix) else { continue }
            messages.append(try #require(Self.bytes(hex: fields[3])))
        }
        return messages
    }

    static func bytes(hex: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    @Test("Each step converts to the documented bytes", arguments: Self.cases)
    func matchesHex(testCase: Case) throws {
        let path = Fixtures.oasisDirectory + "/ovh-kmip-go/kmiptest/testdata/v1.1/" + testCase.xmlFile
        let expected = try Self.hexMessages(prefix: testCase.hexPrefix)
        var substitutions = KMIPXMLSubstitutions()
        var messages = try KMIPXML.parseTestCase(contentsOf: path, substitutions: substitutions)
        try #require(messages.count == expected.count)
        for step in messages.indices {
            let actual = try TTLVItem(parsing: expected[step])
            if messages[step].kind == .response {
                substitutions.merge(messages[step].capturedValues(from: actual))
                messages = try KMIPXML.parseTestCase(contentsOf: path, substitutions: substitutions)
            }
            let converted = messages[step].item
            if let difference = testCase.knownDifferences[step] {
                #expect(converted != actual, "step \(step) now matches; drop the known difference '\(difference)'")
            } else {
                #expect(
                    converted.encoded() == expected[step],
                    "step \(step): \(Self.firstDifference(converted, actual) ?? "same tree, different bytes")"
                )
            }
        }
    }

    /// A readable path to the first item that differs between two trees.
    static func firstDifference(_ lhs: TTLVItem, _ rhs: TTLVItem, path: String = "") -> String? {
        let here = path + "/" + (KMIPTags.xmlName(of: lhs.tag) ?? lhs.tag.description)
        guard lhs.tag == rhs.tag else { return "\(here): tag \(lhs.tag) vs \(rhs.tag)" }
        switch (lhs.value, rhs.value) {
        case (.structure(let l), .structure(let r)):
            for (a, b) in zip(l, r) {
                if let difference = Self.firstDifference(a, b, path: here) { return difference }
            }
            return l.count == r.count ? nil : "\(here): \(l.count) vs \(r.count) children"
        default:
            return lhs.value == rhs.value ? nil : "\(here): \(lhs.value) vs \(rhs.value)"
        }
    }
}
