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
import KMIPServer
import KeystormTestSupport
import Testing

/// KMIP 2.x clients that name standard attributes by name (Vendor Identification "").
@Suite("Attribute references by name")
struct AttributeReferenceServerTests {
    static func attributes(
        _ server: TestServer,
        _ uid: UniqueIdentifier,
        _ version: ProtocolVersion
    ) async throws -> [Attribute] {
        try await AttributeVersionServerTests.attributes(server, uid, version)
    }

    @Test(arguments: [ProtocolVersion.v2_0, .v2_1])
    func deletingNameByAReferenceWithAnEmptyVendorRemovesTheName(version: ProtocolVersion) async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(name: "to-delete", version: version)
        // An unrecognized name is encoded as PyKMIP encodes every Attribute Reference:
        // {Vendor Identification "", Attribute Name "Name"}.
        let deleted = try await server.call(
            DeleteAttributeRequest(uniqueIdentifier: uid, attributeName: .unrecognized("Name")),
            version: version
        )
        #expect(
            deleted.resultStatus == .success,
            "\(deleted.resultReason?.name ?? "none"): \(deleted.resultMessage ?? "")"
        )
        let left = try await Self.attributes(server, uid, version)
        #expect(!left.contains { $0.name == .standard(.name) })
        // And Get Attributes by such a reference finds the standard attribute.
        let item = try await server.call(
            GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.unrecognized("State")]),
            version: version
        )
        guard case .getAttributes(let payload)? = item.payload else {
            Issue.record("Get Attributes failed: \(item.resultMessage ?? "")")
            return
        }
        #expect(payload.attributes.map(\.name) == [.standard(.state)])
    }
}
