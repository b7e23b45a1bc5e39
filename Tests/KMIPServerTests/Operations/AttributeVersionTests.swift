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

/// A client sees only the attributes its protocol version defines.
@Suite("Attributes by protocol version")
struct AttributeVersionServerTests {
    static func attributes(
        _ server: TestServer,
        _ uid: UniqueIdentifier,
        _ version: ProtocolVersion
    ) async throws -> [Attribute] {
        let item = try await server.call(GetAttributesRequest(uniqueIdentifier: uid), version: version)
        guard case .getAttributes(let payload)? = item.payload else {
            throw TestServerError(reason: "Get Attributes failed: \(item.resultMessage ?? "")")
        }
        return payload.attributes
    }

    static func names(
        _ server: TestServer,
        _ uid: UniqueIdentifier,
        _ version: ProtocolVersion
    ) async throws -> [AttributeName] {
        let item = try await server.call(GetAttributeListRequest(uniqueIdentifier: uid), version: version)
        guard case .getAttributeList(let payload)? = item.payload else {
            throw TestServerError(reason: "Get Attribute List failed: \(item.resultMessage ?? "")")
        }
        return payload.attributeNames
    }

    @Test(arguments: [ProtocolVersion(major: 1, minor: 0), .v1_1, .v1_2, .v1_3, .v1_4, .v2_0, .v2_1])
    func getAttributesAndTheListHoldOnlyTheVersionsAttributes(version: ProtocolVersion) async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(name: "versions", version: .v1_4)
        let all = try await Self.attributes(server, uid, version)
        let listed = try await Self.names(server, uid, version)
        for name in all.map(\.name) + listed {
            guard case .standard(let tag) = name else { continue }
            #expect(KMIPAttributeTags.isDefined(tag, in: version), "\(name) is not a KMIP \(version) attribute")
        }
        // The key has a Random Number Generator (KMIP 1.3) and Sensitive (1.4): shown from those
        // versions on, and Name in every version.
        let hasRNG = all.contains { $0.name == .standard(.randomNumberGenerator) }
        #expect(hasRNG == (version >= .v1_3))
        #expect(listed.contains(.standard(.randomNumberGenerator)) == (version >= .v1_3))
        #expect(all.contains { $0.name == .standard(.sensitive) } == (version >= .v1_4))
        #expect(all.contains { $0.name == .standard(.name) })
        #expect(Set(listed) == Set(all.map(\.name)))
    }
}
