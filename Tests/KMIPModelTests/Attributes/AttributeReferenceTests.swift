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
import Testing

/// How KMIP 2.x names a standard attribute by name: an empty Vendor Identification.
@Suite("Attribute references")
struct AttributeReferenceTests {
    @Test func anEmptyVendorIdentificationNamesAStandardAttribute() {
        #expect(AttributeName(vendorIdentification: "", name: "Name") == .standard(.name))
        #expect(
            AttributeName(vendorIdentification: "", name: "Cryptographic Usage Mask")
                == .standard(.cryptographicUsageMask)
        )
        #expect(AttributeName(vendorIdentification: "", name: "Quantum Safe") == .standard(.quantumSafe))
        #expect(
            AttributeName(vendorIdentification: "", name: "x-Product") == .vendor(identification: "x", name: "Product")
        )
        #expect(AttributeName(vendorIdentification: "", name: "Batch Count") == .unrecognized("Batch Count"))
        #expect(AttributeName(vendorIdentification: "", name: "Nonsense") == .unrecognized("Nonsense"))
        #expect(AttributeName(vendorIdentification: "x", name: "Name") == .vendor(identification: "x", name: "Name"))
        #expect(
            AttributeName(vendorIdentification: "Acme", name: "Tier") == .vendor(identification: "Acme", name: "Tier")
        )
    }

    @Test(arguments: [ProtocolVersion.v2_0, .v2_1])
    func aDeleteAttributeReferenceByNameDecodesAsTheStandardAttribute(version: ProtocolVersion) throws {
        // What PyKMIP sends: Attribute Reference {Vendor Identification "", Attribute Name "Name"}.
        var encoder = KMIPEncoder(version: version)
        encoder.writeStructure(.requestPayload) { e in
            e.write(.uniqueIdentifier, text: "key-1")
            e.writeStructure(.attributeReference) { r in
                r.write(.vendorIdentification, text: "")
                r.write(.attributeName, text: "Name")
            }
        }
        let document = try TTLV.parse(encoder.bytes)
        var reader = try KMIPStructureReader(
            document: document,
            index: document.root,
            context: KMIPCodingContext(version: version, mode: .strict)
        )
        let request = try DeleteAttributeRequest(from: &reader)
        #expect(request.attributeName == .standard(.name))
        #expect(request.uniqueIdentifier == .text("key-1"))
    }
}
