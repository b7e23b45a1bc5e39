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

extension LiveServerTests {
    /// Tenants over the wire: a client of tenant b sees nothing of tenant default, and losing its
    /// client rule locks it out from its next handshake, without a restart.
    @Suite("Tenants, live")
    struct CrossTenantLiveTests {
        @Test func tenantBCannotTouchTenantDefaultsKeysAndIsLockedOutOnceRemoved() async throws {
            try await LiveServer.with { server in
                let owner = try server.client()
                let name = "default-key-" + UUID().uuidString.lowercased()
                let uid = try await owner.createKey(name: name)
                let activated = try await owner.call(ActivateRequest(uniqueIdentifier: uid))
                #expect(activated.resultStatus == .success)
                let (material, _) = try await owner.keyMaterial(uid)
                #expect(material?.count == 32)

                try await server.createTenant("b")
                let (rule, identity) = try await server.issueClient(tenant: "b", name: "b-client")
                let intruder = try server.client(identity)

                // The client rule applies within a refresh interval (1 s); wait for it, bounded.
                let ownKey = try await retrying(timeout: .seconds(60), "tenant b's client admitted") {
                    () -> UniqueIdentifier? in
                    try await intruder.createKey(name: "b-key")
                }

                let target: UniqueIdentifier = uid
                expectFailure(try await intruder.call(GetRequest(uniqueIdentifier: target)), .itemNotFound, "Get")
                expectFailure(
                    try await intruder.call(GetAttributesRequest(uniqueIdentifier: target, attributeNames: [])),
                    .itemNotFound,
                    "Get Attributes"
                )
                expectFailure(
                    try await intruder.call(ActivateRequest(uniqueIdentifier: target)),
                    .itemNotFound,
                    "Activate"
                )
                expectFailure(
                    try await intruder.call(
                        RevokeRequest(
                            uniqueIdentifier: target,
                            revocationReason: RevocationReason(code: .cessationOfOperation)
                        )
                    ),
                    .itemNotFound,
                    "Revoke"
                )
                expectFailure(
                    try await intruder.call(DestroyRequest(uniqueIdentifier: target)),
                    .itemNotFound,
                    "Destroy"
                )

                // Locate by tenant default's name finds nothing; by object type only b's own key.
                let byName = try await intruder.call(LocateRequest(attributes: [nameAttribute(name)]))
                #expect(byName.resultStatus == .success)
                guard case .locate(let found)? = byName.payload else {
                    Issue.record("no Locate payload: \(byName.resultMessage ?? "")")
                    return
                }
                #expect(found.uniqueIdentifiers.isEmpty, "tenant b located \(found.uniqueIdentifiers)")
                let byType = try await intruder.call(
                    LocateRequest(attributes: [Attribute(.objectType, .enumeration(ObjectType.symmetricKey.rawValue))])
                )
                guard case .locate(let all)? = byType.payload else {
                    Issue.record("no Locate payload: \(byType.resultMessage ?? "")")
                    return
                }
                #expect(all.uniqueIdentifiers == [ownKey])

                // Tenant default's key is untouched.
                #expect(try await owner.state(of: uid) == .active)
                #expect(try await owner.keyMaterial(uid).material == material)

                // Removing the rule refuses tenant b's next handshake (within a refresh interval).
                try await server.removeClient(rule: rule)
                let refusal = try await retrying(timeout: .seconds(60), "tenant b's client refused") {
                    () -> KMIPTLSClient.Failure? in
                    do {
                        _ = try await intruder.call(DiscoverVersionsRequest(protocolVersions: []))
                        return nil
                    } catch let failure as KMIPTLSClient.Failure {
                        return failure
                    }
                }
                #expect(refusal.isHandshakeRefusal, "\(refusal)")
                // Tenant default is still served.
                #expect(try await owner.state(of: uid) == .active)
                print(
                    "cross-tenant live: Get, Get Attributes, Activate, Revoke, Destroy -> Item Not Found; Locate -> nothing; after removal: \(refusal)"
                )
            }
        }
    }
}
