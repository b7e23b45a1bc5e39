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
import KeystormTestSupport
import Testing

/// Converts every OASIS/OVH XML test case in `Tests/Fixtures/oasis` to TTLV and checks that
/// each message survives encode → strict parse → encode byte for byte.
@Suite("OASIS XML test cases convert to TTLV")
struct OASISXMLConversionTests {
    /// The number of XML files listed in `Tests/Fixtures/oasis/NOTICE.md`.
    static let expectedFileCount = 129

    static let files = Fixtures.files(under: Fixtures.oasisDirectory, withSuffix: ".xml")

    @Test("Every fixture file is present")
    func fixtureCount() {
        #expect(Self.files.count == Self.expectedFileCount)
        #expect(Self.files.contains("Cosmian-kmip/v1.4/XML/mandatory/AX-M-1-14.xml"))
        #expect(Self.files.contains("ovh-kmip-go/kmiptest/testdata/v1.1/TC_311_11_Create_Destroy.xml"))
    }

    @Test("Every message converts and round-trips through strict TTLV", arguments: Self.files)
    func roundTrip(file: String) throws {
        let messages: [KMIPXMLMessage]
        do {
            messages = try KMIPXML.parseTestCase(contentsOf: Fixtures.oasisDirectory + "/" + file)
        } catch {
            Issue.record("\(file): \(error)")
            return
        }
        #expect(messages.count > 0, "\(file) holds no messages")
        #expect(messages.first?.kind == .request, "\(file) does not start with a request")
        for (index, message) in messages.enumerated() {
            let expectedTag: TTLVTag = message.kind == .request ? .requestMessage : .responseMessage
            #expect(message.item.tag == expectedTag)
            let bytes = message.item.encoded()
            let parsed = try TTLVItem(parsing: bytes, mode: .strict)
            #expect(parsed == message.item, "\(file) message \(index) (line \(message.line)) differs after parsing")
            #expect(parsed.encoded() == bytes, "\(file) message \(index) (line \(message.line)) re-encodes differently")
        }
    }

    @Test("All files convert; counts")
    func summary() throws {
        var messageCount = 0
        var placeholderCount = 0
        var failures: [String] = []
        for file in Self.files {
            do {
                let messages = try KMIPXML.parseTestCase(contentsOf: Fixtures.oasisDirectory + "/" + file)
                messageCount += messages.count
                placeholderCount += messages.reduce(0) { $0 + $1.placeholders.count }
            } catch {
                failures.append("\(file): \(error)")
            }
        }
        print(
            "OASIS XML: \(Self.files.count - failures.count) of \(Self.files.count) files, "
                + "\(messageCount) messages, \(placeholderCount) placeholders converted"
        )
        for failure in failures { print("FAILED \(failure)") }
        #expect(failures.isEmpty)
        #expect(messageCount >= 2 * Self.files.count)
    }

    @Test("A converted message carries the values of its XML")
    func knownContent() throws {
        let path = Fixtures.oasisDirectory + "/Cosmian-kmip/v1.4/XML/mandatory/SKLC-M-1-14.xml"
        let messages = try KMIPXML.parseTestCase(contentsOf: path)
        let request = try #require(messages.first)
        let batchItem = try #require(request.item.child(.batchItem))
        #expect(batchItem.child(.operation)?.value == .enumeration(Operation.create.rawValue))
        let payload = try #require(batchItem.child(.requestPayload))
        #expect(payload.child(.objectType)?.value == .enumeration(ObjectType.symmetricKey.rawValue))
        let version = try #require(request.item.child(.requestHeader)?.child(.protocolVersion))
        #expect(version.child(.protocolVersionMajor)?.value == .integer(1))
        #expect(version.child(.protocolVersionMinor)?.value == .integer(4))

        let response = try #require(messages.dropFirst().first)
        #expect(response.kind == .response)
        let identifier = try #require(response.placeholders.first { $0.name == "$UNIQUE_IDENTIFIER_0" })
        #expect(identifier.type == .textString)
        #expect(!identifier.wasSubstituted)
    }
}
