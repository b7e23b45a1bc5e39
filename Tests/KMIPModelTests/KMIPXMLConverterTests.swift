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

/// Behaviour of the KMIP XML converter on small hand-written documents.
@Suite("KMIP XML converter")
struct KMIPXMLConverterTests {
    private func convert(
        _ body: String,
        substitutions: KMIPXMLSubstitutions = KMIPXMLSubstitutions()
    ) throws -> KMIPXMLMessage {
        let xml = "<KMIP><RequestMessage>\(body)</RequestMessage></KMIP>"
        let messages = try KMIPXML.parseTestCase(Array(xml.utf8), substitutions: substitutions)
        return try #require(messages.first)
    }

    private func expectError(
        _ code: KMIPXMLError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> some Any
    ) {
        let error = #expect(throws: KMIPXMLError.self, sourceLocation: sourceLocation) { try body() }
        #expect(error?.code == code, sourceLocation: sourceLocation)
    }

    @Test("Primitive values follow the XML profile")
    func primitives() throws {
        let message = try self.convert(
            """
            <BatchCount type="Integer" value="0x10"/>
            <MaximumResponseSize type="Integer" value="-2"/>
            <TimeStamp type="DateTime" value="2008-03-14T11:56:40Z"/>
            <InitialDate type="DateTime" value="2008-03-14T12:56:40+01:00"/>
            <LeaseTime type="Interval" value="864000"/>
            <BatchOrderOption type="Boolean" value="true"/>
            <Nonce type="ByteString" value="0102AbFF"/>
            <P type="BigInteger" value="80"/>
            <Q type="BigInteger" value="0000000000000001"/>
            <UsageLimitsTotal type="LongInteger" value="9223372036854775807"/>
            """
        )
        let values = message.item.children.map(\.value)
        #expect(
            values == [
                .integer(16), .integer(-2), .dateTime(0x47DA_67F8), .dateTime(0x47DA_67F8), .interval(864_000),
                .boolean(true), .byteString([1, 2, 0xAB, 0xFF]),
                .bigInteger([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80]),
                .bigInteger([0, 0, 0, 0, 0, 0, 0, 1]), .longInteger(.max),
            ]
        )
    }

    @Test("Enumerations resolve by tag, by AttributeName and by hex")
    func enumerations() throws {
        let message = try self.convert(
            """
            <ObjectType type="Enumeration" value="SymmetricKey"/>
            <OpaqueDataType type="Enumeration" value="0x80000001"/>
            <Attribute>
              <AttributeName type="TextString" value="Cryptographic   Algorithm"/>
              <AttributeValue type="Enumeration" value="AES"/>
            </Attribute>
            <Attribute>
              <AttributeName type="TextString" value="State"/>
              <AttributeValue type="Enumeration" value="PreActive"/>
            </Attribute>
            <AttributeReference type="Enumeration" value="ActivationDate"/>
            """
        )
        let items = message.item.children
        #expect(items[0].value == .enumeration(ObjectType.symmetricKey.rawValue))
        #expect(items[1].value == .enumeration(0x8000_0001))
        #expect(items[2].child(.attributeName)?.value == .textString("Cryptographic Algorithm"))
        #expect(items[2].child(.attributeValue)?.value == .enumeration(CryptographicAlgorithm.aes.rawValue))
        #expect(items[3].child(.attributeValue)?.value == .enumeration(State.preActive.rawValue))
        #expect(items[4].value == .enumeration(TTLVTag.activationDate.rawValue))
    }

    @Test("Masks are read from bit names")
    func masks() throws {
        let message = try self.convert(
            """
            <CryptographicUsageMask type="Integer" value="Decrypt   Encrypt"/>
            <Attribute>
              <AttributeName type="TextString" value="Cryptographic Usage Mask"/>
              <AttributeValue type="Integer" value="WrapKey"/>
            </Attribute>
            """
        )
        #expect(message.item.children[0].value == .integer(12))
        #expect(message.item.children[1].child(.attributeValue)?.value == .integer(0x10))
    }

    @Test("Unknown names are errors, not fallbacks")
    func unresolvedNames() {
        self.expectError(.unresolvedName) {
            try self.convert(#"<ObjectType type="Enumeration" value="SymetricKey"/>"#)
        }
        self.expectError(.unresolvedName) {
            try self.convert(#"<CryptographicUsageMask type="Integer" value="Encrypt Frobnicate"/>"#)
        }
        self.expectError(.unresolvedName) {
            try self.convert(
                #"<Attribute><AttributeName type="TextString" value="x-Custom"/><AttributeValue type="Enumeration" value="AES"/></Attribute>"#
            )
        }
        self.expectError(.unknownTag) {
            try self.convert(#"<NoSuchTag type="Integer" value="1"/>"#)
        }
        self.expectError(.unknownType) {
            try self.convert(#"<BatchCount type="Int" value="1"/>"#)
        }
        self.expectError(.invalidValue) {
            try self.convert(#"<Nonce type="ByteString" value="abc"/>"#)
        }
        self.expectError(.malformedXML) {
            try KMIPXML.parseTestCase(Array("<KMIP><RequestMessage></KMIP>".utf8))
        }
    }

    @Test("Placeholders get stand-ins, substitutions and are captured")
    func placeholders() throws {
        let body = """
            <TimeStamp type="DateTime" value="$NOW-3600"/>
            <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_1"/>
            <AsynchronousCorrelationValue type="ByteString" value="$ASYNCHRONOUS_CORRELATION_VALUE"/>
            """
        let standIns = try self.convert(body)
        #expect(
            standIns.item.children.map(\.value) == [
                .dateTime(KMIPXMLSubstitutions.referenceNow - 3600),
                .textString("$UNIQUE_IDENTIFIER_1"),
                .byteString(Array("$ASYNCHRONOUS_CORRELATION_VALUE".utf8)),
            ]
        )
        #expect(
            standIns.placeholders.map(\.name) == ["$NOW", "$UNIQUE_IDENTIFIER_1", "$ASYNCHRONOUS_CORRELATION_VALUE"]
        )
        #expect(standIns.placeholders[0].offset == -3600)
        #expect(standIns.placeholders.allSatisfy { !$0.wasSubstituted })
        #expect(standIns.placeholders[1].description == "$UNIQUE_IDENTIFIER_1 at UniqueIdentifier")

        let substitutions = KMIPXMLSubstitutions(
            values: [
                "$UNIQUE_IDENTIFIER_1": .textString("key-7"), "$ASYNCHRONOUS_CORRELATION_VALUE": .byteString([9]),
            ],
            now: 1_000_000
        )
        let substituted = try self.convert(body, substitutions: substitutions)
        #expect(
            substituted.item.children.map(\.value) == [
                .dateTime(1_000_000 - 3600), .textString("key-7"), .byteString([9]),
            ]
        )
        #expect(substituted.placeholders.allSatisfy { $0.wasSubstituted })

        self.expectError(.substitutionTypeMismatch) {
            try self.convert(body, substitutions: KMIPXMLSubstitutions(values: ["$UNIQUE_IDENTIFIER_1": .integer(1)]))
        }

        let captured = standIns.capturedValues(from: substituted.item)
        #expect(
            captured == [
                "$UNIQUE_IDENTIFIER_1": .textString("key-7"), "$ASYNCHRONOUS_CORRELATION_VALUE": .byteString([9]),
            ]
        )
    }

    @Test("OVH time markers, prologs and comments are skipped")
    func ovhFormat() throws {
        let xml = """
            <?xml version="1.0" ?>
            <!-- a comment -->
            <KMIP>
            # TIME 0
            \t<RequestMessage><BatchCount type="Integer" value="1"/></RequestMessage>
            # TIME 1
            \t<ResponseMessage><BatchCount type="Integer" value="1"/><ResponsePayload/></ResponseMessage>
            </KMIP>
            """
        let messages = try KMIPXML.parseTestCase(Array(xml.utf8))
        #expect(messages.map(\.kind) == [.request, .response])
        #expect(messages.map(\.line) == [5, 7])
        #expect(messages[1].item.child(.responsePayload)?.value == .structure([]))
    }

    @Test("Elements without an XML name use the TTLV element")
    func ttlvElement() throws {
        let message = try self.convert(#"<TTLV tag="0x540001" type="TextString" value="na"/>"#)
        #expect(message.item.children == [TTLVItem(TTLVTag(0x54_0001), .textString("na"))])
    }
}
