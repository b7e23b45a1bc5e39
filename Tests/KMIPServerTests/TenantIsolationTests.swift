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

/// Tenant B's clients cannot see or touch tenant A's keys: every operation answers Item Not Found,
/// exactly as for a key that does not exist, and A's key is unchanged afterwards.
@Suite("Tenant isolation")
struct TenantIsolationTests {
    @Test func anotherTenantsKeyDoesNotExist() async throws {
        let server = try await TestServer.make()
        let uid = try await server.createKey(name: "tenant-a-key")
        let b = TestServer.tenantB
        expectFailure(try await server.call(GetRequest(uniqueIdentifier: uid), as: b), .itemNotFound)
        expectFailure(try await server.call(GetAttributesRequest(uniqueIdentifier: uid), as: b), .itemNotFound)
        expectFailure(try await server.call(GetAttributeListRequest(uniqueIdentifier: uid), as: b), .itemNotFound)
        expectFailure(try await server.call(ActivateRequest(uniqueIdentifier: uid), as: b), .itemNotFound)
        expectFailure(
            try await server.call(RevokeRequest(uniqueIdentifier: uid, revocationReason: RevocationReason(code: .keyCompromise)), as: b),
            .itemNotFound
        )
        expectFailure(try await server.call(DestroyRequest(uniqueIdentifier: uid), as: b), .itemNotFound)
        expectFailure(
            try await server.call(AddAttributeRequest(uniqueIdentifier: uid, attribute: .custom("x-Name", .textString("stolen"))), as: b),
            .itemNotFound
        )
        let located = try await server.call(
            LocateRequest(attributes: [Attribute(.name, .structure([
                TTLVItem(.nameValue, .textString("tenant-a-key")),
                TTLVItem(.nameType, .enumeration(NameType.uninterpretedTextString.rawValue)),
            ]))]),
            as: b
        )
        guard case .locate(let found)? = located.payload else {
            Issue.record("Locate failed")
            return
        }
        #expect(found.uniqueIdentifiers.isEmpty)
        // Tenant A still has its key, Pre-Active and unchanged.
        let own = try await server.call(GetRequest(uniqueIdentifier: uid))
        #expect(own.resultStatus == .success)
        let state = try await server.call(GetAttributesRequest(uniqueIdentifier: uid, attributeNames: [.standard(.state)]))
        guard case .getAttributes(let attributes)? = state.payload else { return }
        #expect(attributes.attributes == [Attribute(.state, .enumeration(State.preActive.rawValue))])
    }
}
